//! N4, the UPF side (TS 29.244), sans-IO: PFCP associations and heartbeats, the
//! session procedures, usage reporting, and the rule tables the workers read.
//!
//! ```text
//!   handle(now, Input::Pfcp { peer, datagram })   ── PFCP from an SMF
//!   handle(now, Input::Notice(n))                 ── from the data path
//!   handle(now, Input::Timeout)                   ── at poll_timeout()
//!   handle(now, Input::Shutdown)                  ── final reports, then stop
//!        │
//!        ├─► poll_transmit() → Transmit::Pfcp / Transmit::Gtpu (flushed buffers, end markers)
//!        ├─► poll_event()    → Event (metrics and logs)
//!        └─► tables()        → the compiled rules the workers load once per batch
//! ```
//!
//! It never reads the clock (wall-clock time stamps are derived from the
//! `(Instant, unix seconds)` pair in [`ControlConfig`]), never touches a socket,
//! and answers every request — with the Cause and Offending IE of §7.6 when it
//! cannot serve it. Retransmissions and duplicate requests are the job of
//! hexcore-pfcp's [`Transactions`].
//!
//! State is keyed by typed ids: sessions by local [`Seid`], their rules by PDR, FAR,
//! QER and URR ID. Every deadline — the next heartbeat of each association, the next
//! time-based trigger of each URR — sits in one [`TimerTable`]; a wake-up pops what
//! is due and touches nothing else. A URR whose counters need a look (threshold
//! crossed, quota out) is named by the data path in a [`Notice::Urr`]: nothing scans
//! the sessions.
//!
//! The procedures sit with what they act on: `association.rs` (setup, update,
//! release, heartbeats, a CP function's restart), `session.rs` (establishment,
//! modification, deletion, the published tables, downlink buffers), `report.rs`
//! (usage and downlink data reports, their answers, the shutdown's final reports);
//! `rules.rs` and `usage.rs` hold a session's rules and a URR's accounting.

mod association;
mod report;
mod rules;
mod session;
#[cfg(test)]
mod tests;
mod usage;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hexcore_pfcp::ie::{Fseid, NodeId, Timestamp, UsageReportTrigger};
use hexcore_pfcp::{
    Cause, Config as PfcpConfig, Event as PfcpEvent, HeartbeatResponse, LocalNode, Message, MessageType, Pdu,
    Transactions,
};
use hexcore_timer::TimerTable;

pub use rules::{FailedRule, GTPU_PORT, Reject};
pub use usage::Usage;

use crate::datapath::{DlBuffer, DropReason, Notice, Tables};
use crate::ids::{PdrId, Seid, UrrId};
use rules::{Allocator, Rules};

/// What the control side needs to know about its UPF.
#[derive(Debug, Clone)]
pub struct ControlConfig {
    /// Our Node ID (§8.2.38).
    pub node_id: NodeId,
    /// Our N4 address, for the UP F-SEID.
    pub n4_address: Ipv4Addr,
    /// Our N3 address, for the F-TEIDs we choose.
    pub n3_address: Ipv4Addr,
    /// When we started, as an `Instant` and as seconds since the Unix epoch: the
    /// Recovery Time Stamp (§19A of TS 23.007) and the base of every time stamp.
    pub started: (Instant, u64),
    /// Heartbeats to each associated CP function this often (§6.2.2).
    pub heartbeat_interval: Duration,
    /// UE addresses for CHV4, e.g. the TUN's subnet.
    pub ue_pool: Option<(Ipv4Addr, u8)>,
    /// Downlink buffer bound per session, packets.
    pub buffer_packets: usize,
    /// Downlink buffer bound per session, octets.
    pub buffer_octets: usize,
    /// PFCP T1/N1.
    pub pfcp: PfcpConfig,
    /// First local SEID and first TEID to hand out (random in production, so that
    /// a restart does not reuse the last run's numbers).
    pub first_seid: u64,
    /// See `first_seid`.
    pub first_teid: u32,
}

impl ControlConfig {
    /// Defaults around a node address: heartbeats every 10 s, 256 packets / 1 MiB
    /// of downlink buffer per session, no UE pool.
    pub fn new(address: Ipv4Addr, started: (Instant, u64)) -> Self {
        ControlConfig {
            node_id: NodeId::Ipv4(address),
            n4_address: address,
            n3_address: address,
            started,
            heartbeat_interval: Duration::from_secs(10),
            ue_pool: None,
            buffer_packets: 256,
            buffer_octets: 1 << 20,
            pfcp: PfcpConfig::default(),
            first_seid: 1,
            first_teid: 1,
        }
    }
}

/// An input to [`UpfControl::handle`].
#[derive(Debug)]
pub enum Input<'a> {
    /// A datagram received on N4.
    Pfcp {
        /// From.
        peer: SocketAddr,
        /// The octets.
        datagram: &'a [u8],
    },
    /// Something the data path saw.
    Notice(Notice),
    /// Time passed (call at or after [`UpfControl::poll_timeout`]).
    Timeout,
    /// Begin a clean stop: report every URR's usage (Usage Report Trigger TEBUR) and
    /// wait for the answers ([`UpfControl::is_drained`]).
    Shutdown,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// PFCP, from the N4 socket.
    Pfcp {
        /// To.
        peer: SocketAddr,
        /// The octets.
        bytes: Vec<u8>,
    },
    /// GTP-U, from the N3 socket: flushed buffered packets, End Markers.
    Gtpu {
        /// To.
        peer: SocketAddr,
        /// The octets.
        bytes: Vec<u8>,
    },
}

/// What happened, for logs and metrics.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A PFCP message received (`sent` false) or sent, with its Cause if it has one.
    PfcpMessage {
        /// Message type.
        message: MessageType,
        /// Cause, for responses.
        cause: Option<Cause>,
        /// Sent by us.
        sent: bool,
    },
    /// A PFCP datagram could not be decoded (answered with an error if possible).
    PfcpMalformed {
        /// From.
        peer: SocketAddr,
        /// Why.
        error: String,
    },
    /// A request refused, and why.
    Rejected {
        /// The request.
        message: MessageType,
        /// The Cause sent.
        cause: Cause,
        /// Why.
        reason: String,
    },
    /// A CP function associated (or re-associated).
    AssociationSetUp {
        /// Its Node ID.
        node: NodeId,
        /// Where from.
        peer: SocketAddr,
    },
    /// A CP function released its association.
    AssociationReleased {
        /// Its Node ID.
        node: NodeId,
    },
    /// A CP function restarted (its Recovery Time Stamp changed): its old sessions
    /// were reported and deleted (TS 23.527 §4.3, TS 29.244 §6.2.6).
    CpRestarted {
        /// Its Node ID.
        node: NodeId,
        /// Sessions deleted.
        sessions: usize,
    },
    /// A CP function did not answer N1 heartbeats.
    CpUnreachable {
        /// Its Node ID.
        node: NodeId,
    },
    /// A session was established.
    SessionEstablished {
        /// Local SEID.
        seid: Seid,
        /// CP SEID.
        cp_seid: Seid,
    },
    /// A session was deleted.
    SessionDeleted {
        /// Local SEID.
        seid: Seid,
    },
    /// Sessions now.
    Sessions(usize),
    /// A usage report was sent (in a Session Report Request or a response).
    UsageReported {
        /// Local SEID.
        seid: Seid,
        /// URR ID.
        urr_id: UrrId,
        /// Why it was sent (§8.2.41).
        trigger: UsageReportTrigger,
        /// What it carried.
        usage: Usage,
    },
    /// A report the SMF never acknowledged was merged back, to be sent again.
    UsageCarried {
        /// Local SEID.
        seid: Seid,
        /// URR ID.
        urr_id: UrrId,
        /// How much.
        usage: Usage,
    },
    /// Usage that could not be reported to anyone: logged with its size.
    UsageLost {
        /// Local SEID.
        seid: Seid,
        /// CP SEID.
        cp_seid: Seid,
        /// URR ID.
        urr_id: UrrId,
        /// How much.
        usage: Usage,
        /// Why.
        reason: &'static str,
    },
    /// A Downlink Data Report was sent (first packet buffered for a BUFF+NOCP FAR).
    DownlinkDataReport {
        /// Local SEID.
        seid: Seid,
        /// The PDR.
        pdr_id: PdrId,
    },
    /// Packets dropped by the control side (buffers discarded or overflowed).
    Dropped {
        /// Why.
        reason: DropReason,
        /// Packets.
        packets: u64,
    },
}

/// The UPF's timers, one table: each key runs at most one deadline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Timer {
    /// The next Heartbeat Request to this CP function (§6.2.2).
    Heartbeat(NodeId),
    /// The URR's earliest time-based trigger (PERIO, TIMTH, TIMQU; §5.2.2.2), or a
    /// look asked for sooner (after a report the SMF did not acknowledge).
    Urr(Seid, UrrId),
}

#[derive(Debug)]
struct Association {
    peer: SocketAddr,
    recovery: Timestamp,
    /// A Heartbeat Request is waiting for its answer: the next one waits for it.
    heartbeat_outstanding: bool,
    reachable: bool,
}

#[derive(Debug)]
struct Session {
    cp_fseid: Fseid,
    cp_node: NodeId,
    cp_peer: SocketAddr,
    rules: Rules,
    buffer: Arc<DlBuffer>,
    choose: HashMap<u8, u32>,
    ue_v4: Option<Ipv4Addr>,
}

impl Session {
    /// The SMF's SEID for this session.
    fn cp_seid(&self) -> Seid {
        Seid(self.cp_fseid.seid)
    }
}

/// A Session Report Request waiting for its answer.
#[derive(Debug)]
struct InFlight {
    seid: Seid,
    cp_seid: Seid,
    reports: Vec<(UrrId, Usage)>,
}

/// One line of the usage journal: usage measured but not yet acknowledged by
/// the SMF. Plain numbers: this is the journal's file format.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnreportedUsage {
    /// Local SEID.
    pub seid: u64,
    /// CP SEID.
    pub cp_seid: u64,
    /// The SMF's Node ID.
    pub cp_node: String,
    /// URR ID.
    pub urr_id: u32,
    /// The usage.
    pub usage: Usage,
}

/// The UPF's N4 side.
#[derive(Debug)]
pub struct UpfControl {
    config: ControlConfig,
    recovery: Timestamp,
    tx: Transactions<SocketAddr>,
    associations: HashMap<NodeId, Association>,
    sessions: BTreeMap<Seid, Session>,
    by_cp: HashMap<(NodeId, Seid), Seid>,
    next_seid: u64,
    alloc: Allocator,
    /// Heartbeats and URR deadlines.
    timers: TimerTable<Timer>,
    /// The master copy of the tables; published as a snapshot on every change.
    tables: Tables,
    published: Arc<ArcSwap<Tables>>,
    in_flight: HashMap<u32, InFlight>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    shutting_down: bool,
}

impl UpfControl {
    /// A UPF with no association and no session.
    pub fn new(config: ControlConfig) -> Self {
        let recovery = Timestamp::from_unix_secs(config.started.1);
        let local = LocalNode {
            node_id: config.node_id.clone(),
            recovery_time_stamp: recovery,
        };
        let tx = Transactions::new(local, config.pfcp).with_initial_sequence_number(config.first_seid as u32);
        UpfControl {
            recovery,
            tx,
            associations: HashMap::new(),
            sessions: BTreeMap::new(),
            by_cp: HashMap::new(),
            next_seid: config.first_seid.max(1),
            alloc: Allocator::new(config.first_teid, config.ue_pool),
            timers: TimerTable::new(),
            tables: Tables::default(),
            published: Arc::new(ArcSwap::from_pointee(Tables::default())),
            in_flight: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            shutting_down: false,
            config,
        }
    }

    /// The tables the workers read: `tables().load()` once per batch.
    pub fn tables(&self) -> Arc<ArcSwap<Tables>> {
        self.published.clone()
    }

    /// Our Recovery Time Stamp.
    pub fn recovery_time_stamp(&self) -> Timestamp {
        self.recovery
    }

    /// Sessions now.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Local SEIDs of the sessions.
    pub fn seids(&self) -> Vec<Seid> {
        self.sessions.keys().copied().collect()
    }

    /// PFCP transaction counters.
    pub fn pfcp_stats(&self) -> hexcore_pfcp::Stats {
        self.tx.stats()
    }

    /// Feed an input.
    pub fn handle(&mut self, now: Instant, input: Input<'_>) {
        match input {
            Input::Pfcp { peer, datagram } => self.tx.handle_datagram(now, peer, datagram),
            Input::Notice(n) => self.on_notice(now, n),
            Input::Timeout => self.on_timeout(now),
            Input::Shutdown => self.begin_shutdown(now),
        }
        self.drain_pfcp(now);
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(t) = self.transmits.pop_front() {
            return Some(t);
        }
        self.tx.poll_transmit().map(|t| {
            if let Ok(h) = hexcore_pfcp::PfcpPacket::new_checked(&t.bytes[..]) {
                let cause = Pdu::decode(&t.bytes).ok().and_then(|p| p.message.cause());
                self.events.push_back(Event::PfcpMessage {
                    message: h.message_type(),
                    cause,
                    sent: true,
                });
            }
            Transmit::Pfcp {
                peer: t.peer,
                bytes: t.bytes,
            }
        })
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Input::Timeout`] is next due: the earliest of the PFCP retransmissions
    /// and the UPF's own timers.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.tx.poll_timeout(), self.timers.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// After [`Input::Shutdown`]: every final report has been answered (or given up on).
    pub fn is_drained(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// Usage measured and not yet acknowledged by an SMF: the journal's content.
    pub fn unreported_usage(&self, now: Instant) -> Vec<UnreportedUsage> {
        let mut out = Vec::new();
        for (seid, s) in &self.sessions {
            for u in s.rules.urrs.values() {
                let usage = u.unreported(now);
                if !usage.counts.is_zero() {
                    out.push(UnreportedUsage {
                        seid: seid.0,
                        cp_seid: s.cp_fseid.seid,
                        cp_node: s.cp_node.to_string(),
                        urr_id: u.id.0,
                        usage,
                    });
                }
            }
        }
        for f in self.in_flight.values() {
            let cp_node = self
                .sessions
                .get(&f.seid)
                .map(|s| s.cp_node.to_string())
                .unwrap_or_default();
            for (urr_id, usage) in &f.reports {
                if !usage.counts.is_zero() {
                    out.push(UnreportedUsage {
                        seid: f.seid.0,
                        cp_seid: f.cp_seid.0,
                        cp_node: cp_node.clone(),
                        urr_id: urr_id.0,
                        usage: *usage,
                    });
                }
            }
        }
        out
    }

    // ---- PFCP dispatch ----

    fn drain_pfcp(&mut self, now: Instant) {
        while let Some(ev) = self.tx.poll_event() {
            match ev {
                PfcpEvent::Request { peer, pdu } => {
                    self.events.push_back(Event::PfcpMessage {
                        message: pdu.message.message_type(),
                        cause: None,
                        sent: false,
                    });
                    self.on_request(now, peer, pdu);
                }
                PfcpEvent::Response {
                    peer,
                    request,
                    response,
                } => self.on_response(now, peer, request, response),
                PfcpEvent::TimedOut { peer, request } => self.on_timed_out(now, peer, request),
                PfcpEvent::Malformed { peer, error } => self.events.push_back(Event::PfcpMalformed {
                    peer,
                    error: error.to_string(),
                }),
            }
        }
    }

    fn respond(&mut self, now: Instant, peer: SocketAddr, request: &Pdu, seid: Seid, message: impl Into<Message>) {
        let rsp = Pdu::response_to(&request.header, seid.0, message);
        self.tx.send_response(now, peer, &rsp);
    }

    fn on_request(&mut self, now: Instant, peer: SocketAddr, pdu: Pdu) {
        let seid = Seid(pdu.header.seid.unwrap_or(0));
        match &pdu.message {
            Message::HeartbeatRequest(req) => {
                let rts = req.recovery_time_stamp;
                self.respond(now, peer, &pdu, Seid(0), HeartbeatResponse::new(self.recovery));
                self.check_peer_recovery(now, peer, rts);
            }
            Message::AssociationSetupRequest(req) => self.on_association_setup(now, peer, &pdu, req),
            Message::AssociationUpdateRequest(req) => self.on_association_update(now, peer, &pdu, req),
            Message::AssociationReleaseRequest(req) => self.on_association_release(now, peer, &pdu, req),
            Message::SessionEstablishmentRequest(req) => self.on_establishment(now, peer, &pdu, req),
            Message::SessionModificationRequest(req) => self.on_modification(now, peer, &pdu, seid, req),
            Message::SessionDeletionRequest(_) => self.on_deletion(now, peer, &pdu, seid),
            other => {
                // Requests this UPF does not serve (PFD management, session set
                // deletion, …): §6.4 needs no answer the codec could build; logged.
                self.events.push_back(Event::Rejected {
                    message: other.message_type(),
                    cause: Cause::ServiceNotSupported,
                    reason: "request type not served by this UPF".into(),
                });
            }
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        request: Pdu,
        response: Result<Pdu, hexcore_pfcp::Error>,
    ) {
        let cause = response.as_ref().ok().and_then(|p| p.message.cause());
        if let Ok(p) = &response {
            self.events.push_back(Event::PfcpMessage {
                message: p.message.message_type(),
                cause,
                sent: false,
            });
        }
        match request.message {
            Message::HeartbeatRequest(_) => self.on_heartbeat_response(now, peer, response),
            Message::SessionReportRequest(_) => {
                if let Some(f) = self.in_flight.remove(&request.header.sequence_number) {
                    self.on_report_response(now, f, cause);
                }
            }
            _ => {}
        }
    }

    fn on_timed_out(&mut self, now: Instant, peer: SocketAddr, request: Pdu) {
        match request.message {
            Message::HeartbeatRequest(_) => self.on_heartbeat_timed_out(peer),
            Message::SessionReportRequest(_) => {
                if let Some(f) = self.in_flight.remove(&request.header.sequence_number) {
                    self.carry(now, f);
                }
            }
            _ => {}
        }
    }

    fn reject_event(&mut self, message: MessageType, cause: Cause, reason: impl Into<String>) {
        self.events.push_back(Event::Rejected {
            message,
            cause,
            reason: reason.into(),
        });
    }

    // ---- Timers ----

    /// Retransmit what is due, then act on the timers that expired — only those: the
    /// cost of a wake-up does not grow with the number of sessions.
    fn on_timeout(&mut self, now: Instant) {
        self.tx.handle_timeout(now);
        // Taken out first: acting on one may start another (a heartbeat restarts its
        // own timer), which waits for the next wake-up even if it is due already.
        let due: Vec<Timer> = std::iter::from_fn(|| self.timers.pop_expired(now).map(|(t, ())| t)).collect();
        for timer in due {
            match timer {
                Timer::Heartbeat(node) => self.send_heartbeat(now, node),
                Timer::Urr(seid, urr_id) => self.check_urr(now, seid, urr_id),
            }
        }
    }
}
