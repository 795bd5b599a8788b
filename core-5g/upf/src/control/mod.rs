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

mod rules;
#[cfg(test)]
mod tests;
mod usage;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hexcore_pfcp::ie::{
    CreatedPdr, DownlinkDataReport, DownlinkDataServiceInformation, Fseid, Fteid, NodeId, OffendingIe, PdrId,
    ReportType, Timestamp, UeIpAddress, UpFunctionFeatures, UsageReport, UsageReportTrigger,
};
use hexcore_pfcp::{
    AssociationReleaseRequest, AssociationReleaseResponse, AssociationSetupRequest, AssociationSetupResponse,
    AssociationUpdateRequest, AssociationUpdateResponse, Cause, Config as PfcpConfig, Event as PfcpEvent,
    HeartbeatRequest, HeartbeatResponse, LocalNode, Message, MessageType, Pdu, SessionDeletionResponse,
    SessionEstablishmentRequest, SessionEstablishmentResponse, SessionModificationRequest, SessionModificationResponse,
    SessionReportRequest, Transactions,
};

pub use rules::{FailedRule, GTPU_PORT, Reject};
pub use usage::Usage;

use crate::datapath::{self, DlBuffer, DropReason, Notice, Tables};
use rules::{Allocator, Apply, Rules};
use usage::UrrCtl;

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
        seid: u64,
        /// CP SEID.
        cp_seid: u64,
    },
    /// A session was deleted.
    SessionDeleted {
        /// Local SEID.
        seid: u64,
    },
    /// Sessions now.
    Sessions(usize),
    /// A usage report was sent (in a Session Report Request or a response).
    UsageReported {
        /// Local SEID.
        seid: u64,
        /// URR ID.
        urr_id: u32,
        /// Usage Report Trigger bits.
        trigger: u32,
        /// What it carried.
        usage: Usage,
    },
    /// A report the SMF never acknowledged was merged back, to be sent again.
    UsageCarried {
        /// Local SEID.
        seid: u64,
        /// URR ID.
        urr_id: u32,
        /// How much.
        usage: Usage,
    },
    /// Usage that could not be reported to anyone: logged with its size.
    UsageLost {
        /// Local SEID.
        seid: u64,
        /// CP SEID.
        cp_seid: u64,
        /// URR ID.
        urr_id: u32,
        /// How much.
        usage: Usage,
        /// Why.
        reason: &'static str,
    },
    /// A Downlink Data Report was sent (first packet buffered for a BUFF+NOCP FAR).
    DownlinkDataReport {
        /// Local SEID.
        seid: u64,
        /// The PDR.
        pdr_id: u16,
    },
    /// Packets dropped by the control side (buffers discarded or overflowed).
    Dropped {
        /// Why.
        reason: DropReason,
        /// Packets.
        packets: u64,
    },
}

#[derive(Debug)]
struct Association {
    peer: SocketAddr,
    recovery: Timestamp,
    next_heartbeat: Instant,
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

/// A Session Report Request waiting for its answer.
#[derive(Debug)]
struct InFlight {
    seid: u64,
    cp_seid: u64,
    reports: Vec<(u32, Usage)>,
}

/// One line of the usage journal: usage measured but not yet acknowledged by
/// the SMF.
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
    sessions: BTreeMap<u64, Session>,
    by_cp: HashMap<(NodeId, u64), u64>,
    next_seid: u64,
    alloc: Allocator,
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
    pub fn seids(&self) -> Vec<u64> {
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

    /// When [`Input::Timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.tx.poll_timeout();
        let mut consider = |d: Option<Instant>| {
            if let Some(d) = d {
                t = Some(t.map_or(d, |x| x.min(d)));
            }
        };
        for a in self.associations.values() {
            consider(Some(a.next_heartbeat));
        }
        for s in self.sessions.values() {
            for u in s.rules.urrs.values() {
                consider(u.deadline());
            }
        }
        t
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
                        seid: *seid,
                        cp_seid: s.cp_fseid.seid,
                        cp_node: s.cp_node.to_string(),
                        urr_id: u.id,
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
                        seid: f.seid,
                        cp_seid: f.cp_seid,
                        cp_node: cp_node.clone(),
                        urr_id: *urr_id,
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

    fn respond(&mut self, now: Instant, peer: SocketAddr, request: &Pdu, seid: u64, message: impl Into<Message>) {
        let rsp = Pdu::response_to(&request.header, seid, message);
        self.tx.send_response(now, peer, &rsp);
    }

    fn on_request(&mut self, now: Instant, peer: SocketAddr, pdu: Pdu) {
        let seid = pdu.header.seid.unwrap_or(0);
        match &pdu.message {
            Message::HeartbeatRequest(req) => {
                let rts = req.recovery_time_stamp;
                self.respond(now, peer, &pdu, 0, HeartbeatResponse::new(self.recovery));
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

    fn up_function_features(&self) -> UpFunctionFeatures {
        // FTUP: we allocate F-TEIDs; EMPU: we send End Markers; UEIP: we allocate
        // UE addresses when a pool is configured (§8.2.25).
        let mut f = UpFunctionFeatures::FTUP | UpFunctionFeatures::EMPU;
        if self.alloc.has_ue_pool() {
            f |= UpFunctionFeatures::UEIP;
        }
        UpFunctionFeatures::new(f)
    }

    fn on_association_setup(&mut self, now: Instant, peer: SocketAddr, pdu: &Pdu, req: &AssociationSetupRequest) {
        let node = req.node_id.clone();
        if let Some(a) = self.associations.get(&node)
            && a.recovery != req.recovery_time_stamp
        {
            // §6.2.6.2.2: a new association from a CP function that restarted: its
            // old sessions are gone on its side.
            self.cp_restarted(now, &node);
        }
        self.associations.insert(
            node.clone(),
            Association {
                peer,
                recovery: req.recovery_time_stamp,
                next_heartbeat: now + self.config.heartbeat_interval,
                heartbeat_outstanding: false,
                reachable: true,
            },
        );
        let rsp = AssociationSetupResponse::new(self.config.node_id.clone(), Cause::RequestAccepted, self.recovery)
            .up_function_features(self.up_function_features());
        self.respond(now, peer, pdu, 0, rsp);
        self.events.push_back(Event::AssociationSetUp { node, peer });
    }

    fn on_association_update(&mut self, now: Instant, peer: SocketAddr, pdu: &Pdu, req: &AssociationUpdateRequest) {
        let cause = if self.associations.contains_key(&req.node_id) {
            Cause::RequestAccepted
        } else {
            self.reject_event(
                MessageType::AssociationUpdateRequest,
                Cause::NoEstablishedPfcpAssociation,
                "unknown node",
            );
            Cause::NoEstablishedPfcpAssociation
        };
        let mut rsp = AssociationUpdateResponse::new(self.config.node_id.clone(), cause);
        if cause.is_accepted() {
            rsp = rsp.up_function_features(self.up_function_features());
        }
        self.respond(now, peer, pdu, 0, rsp);
    }

    fn on_association_release(&mut self, now: Instant, peer: SocketAddr, pdu: &Pdu, req: &AssociationReleaseRequest) {
        let node = req.node_id.clone();
        let cause = if self.associations.remove(&node).is_some() {
            Cause::RequestAccepted
        } else {
            self.reject_event(
                MessageType::AssociationReleaseRequest,
                Cause::NoEstablishedPfcpAssociation,
                "unknown node",
            );
            Cause::NoEstablishedPfcpAssociation
        };
        self.respond(
            now,
            peer,
            pdu,
            0,
            AssociationReleaseResponse::new(self.config.node_id.clone(), cause),
        );
        if cause.is_accepted() {
            // §6.2.7.2.2: the UP function deletes the association's sessions; their
            // usage goes out first (TEBUR) so that nothing is dropped silently.
            let seids: Vec<u64> = self.sessions_of(&node);
            for seid in seids {
                self.report_all(now, seid, UsageReportTrigger::TEBUR);
                self.delete_session(now, seid);
            }
            self.events.push_back(Event::AssociationReleased { node });
        }
    }

    fn sessions_of(&self, node: &NodeId) -> Vec<u64> {
        self.sessions
            .iter()
            .filter(|(_, s)| &s.cp_node == node)
            .map(|(k, _)| *k)
            .collect()
    }

    fn check_peer_recovery(&mut self, now: Instant, peer: SocketAddr, rts: Timestamp) {
        let Some(node) = self
            .associations
            .iter()
            .find(|(_, a)| a.peer == peer)
            .map(|(n, _)| n.clone())
        else {
            return;
        };
        let changed = self.associations.get_mut(&node).is_some_and(|a| {
            a.reachable = true;
            let changed = a.recovery != rts;
            a.recovery = rts;
            changed
        });
        if changed {
            self.cp_restarted(now, &node);
        }
    }

    /// TS 23.527 §4.3 / TS 29.244 §6.2.6: the CP function lost its sessions: send
    /// each session's final usage (the SMF may still take it), then delete it here.
    fn cp_restarted(&mut self, now: Instant, node: &NodeId) {
        let seids = self.sessions_of(node);
        for seid in &seids {
            self.report_all(now, *seid, UsageReportTrigger::TEBUR);
            self.delete_session(now, *seid);
        }
        self.events.push_back(Event::CpRestarted {
            node: node.clone(),
            sessions: seids.len(),
        });
    }

    fn reject_event(&mut self, message: MessageType, cause: Cause, reason: impl Into<String>) {
        self.events.push_back(Event::Rejected {
            message,
            cause,
            reason: reason.into(),
        });
    }

    // ---- Session procedures ----

    fn on_establishment(&mut self, now: Instant, peer: SocketAddr, pdu: &Pdu, req: &SessionEstablishmentRequest) {
        let cp_seid = req.cp_fseid.seid;
        let answer_error = |this: &mut Self, r: Reject| {
            this.reject_event(MessageType::SessionEstablishmentRequest, r.cause, r.reason.clone());
            let mut rsp = SessionEstablishmentResponse::new(this.config.node_id.clone(), r.cause);
            rsp.offending_ie = r.offending_ie.map(OffendingIe);
            rsp.failed_rule_id = r.failed_rule.map(FailedRule::to_ie_value);
            this.respond(now, peer, pdu, cp_seid, rsp);
        };
        // §6.2.6.1: session requests only from an associated CP function.
        if !self.associations.contains_key(&req.node_id) {
            return answer_error(
                self,
                Reject::cause(
                    Cause::NoEstablishedPfcpAssociation,
                    None,
                    format!("no association with {}", req.node_id),
                ),
            );
        }
        if self.shutting_down {
            return answer_error(self, Reject::cause(Cause::RequestRejected, None, "UPF shutting down"));
        }
        if self.by_cp.contains_key(&(req.node_id.clone(), cp_seid)) {
            return answer_error(
                self,
                Reject::cause(
                    Cause::RequestRejected,
                    Some(hexcore_pfcp::ie::IeType::Fseid),
                    format!("CP SEID {cp_seid:#x} already has a session"),
                ),
            );
        }
        let seid = self.allocate_seid();
        let mut rules = Rules::default();
        let mut choose = HashMap::new();
        let mut ue_v4 = None;
        let result = {
            let mut a = Apply {
                seid,
                now,
                alloc: &mut self.alloc,
                choose: &mut choose,
                ue_v4: &mut ue_v4,
                removed_urrs: Vec::new(),
                updated_urrs: Vec::new(),
            };
            (|| {
                for c in &req.create_fars {
                    rules.create_far(c)?;
                }
                for c in &req.create_urrs {
                    rules.create_urr(c, &mut a)?;
                }
                for c in &req.create_qers {
                    rules.create_qer(c)?;
                }
                if let Some(b) = &req.create_bar {
                    rules.bars.insert(b.bar_id.0);
                }
                for c in &req.create_pdrs {
                    rules.create_pdr(c, &mut a)?;
                }
                rules.check()
            })()
        };
        if let Err(r) = result {
            self.alloc.release(seid, &BTreeSet::new(), &BTreeSet::new());
            return answer_error(self, r);
        }
        let created: Vec<CreatedPdr> = created_pdrs(&rules, self.config.n3_address);
        let session = Session {
            cp_fseid: req.cp_fseid,
            cp_node: req.node_id.clone(),
            cp_peer: peer,
            rules,
            buffer: Arc::new(DlBuffer::new(self.config.buffer_packets, self.config.buffer_octets)),
            choose,
            ue_v4,
        };
        self.sessions.insert(seid, session);
        self.by_cp.insert((req.node_id.clone(), cp_seid), seid);
        self.republish_session(seid, now);
        let rsp = SessionEstablishmentResponse::new(self.config.node_id.clone(), Cause::RequestAccepted)
            .up_fseid(Fseid::v4(seid, self.config.n4_address))
            .created_pdrs(created);
        self.respond(now, peer, pdu, cp_seid, rsp);
        self.events.push_back(Event::SessionEstablished { seid, cp_seid });
        self.events.push_back(Event::Sessions(self.sessions.len()));
    }

    fn on_modification(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        pdu: &Pdu,
        seid: u64,
        req: &SessionModificationRequest,
    ) {
        let Some(session) = self.sessions.get(&seid) else {
            // §7.2.2.4.2: SEID 0 in the header of the answer when no session matched.
            self.reject_event(
                MessageType::SessionModificationRequest,
                Cause::SessionContextNotFound,
                format!("no session {seid:#x}"),
            );
            return self.respond(
                now,
                peer,
                pdu,
                0,
                SessionModificationResponse::new(Cause::SessionContextNotFound),
            );
        };
        let cp_seid = session.cp_fseid.seid;
        let teids_before = session.rules.teids();
        let ues_before = session.rules.ue_addresses();
        let mut rules = session.rules.clone();
        let mut choose = session.choose.clone();
        let mut ue_v4 = session.ue_v4;
        let mut far_changes = Vec::new();
        let mut end_markers = Vec::new();
        let mut removed_urrs = Vec::new();
        let mut updated_urrs = Vec::new();
        let result = {
            let mut a = Apply {
                seid,
                now,
                alloc: &mut self.alloc,
                choose: &mut choose,
                ue_v4: &mut ue_v4,
                removed_urrs: Vec::new(),
                updated_urrs: Vec::new(),
            };
            let r = (|| {
                for r in &req.remove_pdrs {
                    rules.remove_pdr(r.pdr_id.0)?;
                }
                for r in &req.remove_fars {
                    rules.remove_far(r.far_id.0)?;
                }
                for r in &req.remove_urrs {
                    rules.remove_urr(r.urr_id.0, &mut a)?;
                }
                for r in &req.remove_qers {
                    rules.remove_qer(r.qer_id.0)?;
                }
                if let Some(b) = &req.remove_bar {
                    rules.bars.remove(&b.bar_id.0);
                }
                for c in &req.create_fars {
                    rules.create_far(c)?;
                }
                for c in &req.create_urrs {
                    rules.create_urr(c, &mut a)?;
                }
                for c in &req.create_qers {
                    rules.create_qer(c)?;
                }
                if let Some(b) = &req.create_bar {
                    rules.bars.insert(b.bar_id.0);
                }
                for c in &req.create_pdrs {
                    rules.create_pdr(c, &mut a)?;
                }
                for u in &req.update_fars {
                    let before = rules.update_far(u)?;
                    // SNDEM (§8.2.58, PFCPSMReq-Flags bit 2): End Marker on the old path.
                    let sndem = u
                        .update_forwarding_parameters
                        .as_ref()
                        .and_then(|p| p.pfcpsm_req_flags.as_ref())
                        .is_some_and(|f| f.first().is_some_and(|b| b & 0x02 != 0));
                    if let Some(after) = rules.fars.get(&u.far_id.0) {
                        if sndem
                            && let Some(old) = before.tunnel
                            && before.tunnel != after.tunnel
                        {
                            end_markers.push(old);
                        }
                        far_changes.push((before, after.clone()));
                    }
                }
                for u in &req.update_urrs {
                    rules.update_urr(u, &mut a)?;
                }
                for u in &req.update_qers {
                    rules.update_qer(u)?;
                }
                for u in &req.update_pdrs {
                    rules.update_pdr(u, &mut a)?;
                }
                rules.check()
            })();
            removed_urrs.append(&mut a.removed_urrs);
            updated_urrs.append(&mut a.updated_urrs);
            r
        };
        if let Err(r) = result {
            // Nothing changes: give back what this request allocated.
            self.alloc.release(seid, &teids_before, &ues_before);
            self.reject_event(MessageType::SessionModificationRequest, r.cause, r.reason.clone());
            let mut rsp = SessionModificationResponse::new(r.cause);
            rsp.offending_ie = r.offending_ie.map(OffendingIe);
            rsp.failed_rule_id = r.failed_rule.map(FailedRule::to_ie_value);
            return self.respond(now, peer, pdu, cp_seid, rsp);
        }
        // Commit.
        let drobu = req
            .pfcpsm_req_flags
            .as_ref()
            .is_some_and(|f| f.first().is_some_and(|b| b & 0x01 != 0));
        let qaurr = req
            .pfcpsm_req_flags
            .as_ref()
            .is_some_and(|f| f.first().is_some_and(|b| b & 0x04 != 0));
        let created = {
            let Some(session) = self.sessions.get_mut(&seid) else {
                return;
            };
            let before_created: BTreeSet<u16> = session
                .rules
                .pdrs
                .values()
                .filter(|p| p.teid_chosen || p.ue_chosen)
                .map(|p| p.id)
                .collect();
            session.rules = rules;
            for (id, quota_changed) in updated_urrs {
                if let Some(u) = session.rules.urrs.get_mut(&id) {
                    u.arm(now, quota_changed);
                }
            }
            session.choose = choose;
            session.ue_v4 = ue_v4;
            if let Some(f) = req.cp_fseid {
                self.by_cp.remove(&(session.cp_node.clone(), session.cp_fseid.seid));
                session.cp_fseid = f;
                self.by_cp.insert((session.cp_node.clone(), f.seid), seid);
            }
            let keep_teids = session.rules.teids();
            self.alloc.release(seid, &keep_teids, &session.rules.ue_addresses());
            created_pdrs(&session.rules, self.config.n3_address)
                .into_iter()
                .filter(|c| !before_created.contains(&c.pdr_id.0))
                .collect::<Vec<_>>()
        };
        self.republish_session(seid, now);
        // Usage reports in the response: removed URRs (final, TERMR) and Query URR /
        // QAURR (IMMER), §7.5.5.2.
        let mut reports = Vec::new();
        for mut u in removed_urrs {
            let (ur, usage) = u.take_report(now, |i| self.wall(i), UsageReportTrigger::TERMR);
            self.events.push_back(Event::UsageReported {
                seid,
                urr_id: u.id,
                trigger: UsageReportTrigger::TERMR,
                usage,
            });
            reports.push(ur);
        }
        let queried: Vec<u32> = if qaurr {
            self.sessions
                .get(&seid)
                .map(|s| s.rules.urrs.keys().copied().collect())
                .unwrap_or_default()
        } else {
            req.query_urrs.iter().map(|q| q.urr_id.0).collect()
        };
        for id in queried {
            if let Some((ur, usage)) = self.take_report(now, seid, id, UsageReportTrigger::IMMER) {
                self.events.push_back(Event::UsageReported {
                    seid,
                    urr_id: id,
                    trigger: UsageReportTrigger::IMMER,
                    usage,
                });
                reports.push(ur);
            }
        }
        let mut rsp = SessionModificationResponse::new(Cause::RequestAccepted).created_pdrs(created);
        for ur in reports {
            rsp.usage_reports.push(ur);
        }
        self.respond(now, peer, pdu, cp_seid, rsp);
        // Then the data-path consequences, after the answer is queued.
        for tunnel in end_markers {
            let [t0, t1, t2, t3] = tunnel.teid.to_be_bytes();
            // TS 29.281 §7.3.2: End Marker, no IE, towards the old peer.
            self.transmits.push_back(Transmit::Gtpu {
                peer: tunnel.peer,
                bytes: vec![0x30, 0xfe, 0x00, 0x00, t0, t1, t2, t3],
            });
        }
        let mut flush = false;
        let mut discard = drobu;
        let mut new_period = false;
        for (before, after) in far_changes {
            let was_buff = matches!(before.action(), datapath::FarAction::Buffer { .. });
            match after.action() {
                datapath::FarAction::Forward { .. } if was_buff => flush = true,
                datapath::FarAction::Drop if was_buff => discard = true,
                datapath::FarAction::Buffer { .. } if !was_buff => new_period = true,
                _ => {}
            }
        }
        if discard {
            self.discard_buffer(seid);
        } else if flush {
            self.flush_buffer(now, seid);
        }
        if new_period && let Some(s) = self.sessions.get(&seid) {
            s.buffer.reset_period();
        }
    }

    fn on_deletion(&mut self, now: Instant, peer: SocketAddr, pdu: &Pdu, seid: u64) {
        let Some(cp_seid) = self.sessions.get(&seid).map(|s| s.cp_fseid.seid) else {
            self.reject_event(
                MessageType::SessionDeletionRequest,
                Cause::SessionContextNotFound,
                format!("no session {seid:#x}"),
            );
            return self.respond(
                now,
                peer,
                pdu,
                0,
                SessionDeletionResponse::new(Cause::SessionContextNotFound),
            );
        };
        // §7.5.7.1: the final Usage Reports (TERMR) travel in the response.
        let ids: Vec<u32> = self
            .sessions
            .get(&seid)
            .map(|s| s.rules.urrs.keys().copied().collect())
            .unwrap_or_default();
        let mut rsp = SessionDeletionResponse::new(Cause::RequestAccepted);
        for id in ids {
            if let Some((ur, usage)) = self.take_report(now, seid, id, UsageReportTrigger::TERMR) {
                self.events.push_back(Event::UsageReported {
                    seid,
                    urr_id: id,
                    trigger: UsageReportTrigger::TERMR,
                    usage,
                });
                rsp.usage_reports.push(ur);
            }
        }
        self.delete_session(now, seid);
        self.respond(now, peer, pdu, cp_seid, rsp);
    }

    fn delete_session(&mut self, _now: Instant, seid: u64) {
        let Some(s) = self.sessions.remove(&seid) else { return };
        self.by_cp.remove(&(s.cp_node.clone(), s.cp_fseid.seid));
        self.alloc.release(seid, &BTreeSet::new(), &BTreeSet::new());
        let (packets, _) = s.buffer.discard();
        if packets > 0 {
            self.events.push_back(Event::Dropped {
                reason: DropReason::BufferDiscarded,
                packets,
            });
        }
        self.unpublish(seid);
        self.publish();
        self.events.push_back(Event::SessionDeleted { seid });
        self.events.push_back(Event::Sessions(self.sessions.len()));
    }

    fn allocate_seid(&mut self) -> u64 {
        loop {
            let s = self.next_seid;
            self.next_seid = self.next_seid.wrapping_add(1).max(1);
            if s != 0 && !self.sessions.contains_key(&s) {
                return s;
            }
        }
    }

    // ---- Tables ----

    fn unpublish(&mut self, seid: u64) {
        let t = &mut self.tables;
        t.uplink.retain(|_, v| v.first().is_none_or(|p| p.seid != seid));
        t.downlink_v4.retain(|_, v| v.first().is_none_or(|p| p.seid != seid));
        t.downlink_v6.retain(|_, v| v.first().is_none_or(|p| p.seid != seid));
    }

    fn republish_session(&mut self, seid: u64, _now: Instant) {
        self.unpublish(seid);
        if let Some(s) = self.sessions.get(&seid) {
            let c = s.rules.compile(seid, &s.buffer);
            for (k, v) in c.uplink {
                self.tables.uplink.insert(k, v.into());
            }
            for (k, v) in c.downlink_v4 {
                self.tables.downlink_v4.insert(k, v.into());
            }
            for (k, v) in c.downlink_v6 {
                self.tables.downlink_v6.insert(k, v.into());
            }
        }
        self.publish();
    }

    fn publish(&mut self) {
        self.published.store(Arc::new(self.tables.clone()));
    }

    // ---- Buffers ----

    fn flush_buffer(&mut self, now: Instant, seid: u64) {
        let Some(packets) = self.sessions.get(&seid).map(|s| s.buffer.drain()) else {
            return;
        };
        let tables = self.published.load_full();
        let mut notices = Vec::new();
        let mut dropped = 0;
        for p in packets {
            let mut buf = vec![0u8; datapath::HEADROOM + p.len()];
            buf[datapath::HEADROOM..].copy_from_slice(&p);
            match datapath::downlink(&tables, now, &mut buf, datapath::HEADROOM, p.len(), &mut |n| {
                notices.push(n)
            }) {
                datapath::Downlink::ToN3 { frame, peer, .. } => {
                    let bytes = buf.get(frame).map(<[u8]>::to_vec).unwrap_or_default();
                    self.transmits.push_back(Transmit::Gtpu { peer, bytes });
                }
                datapath::Downlink::Buffered => {}
                datapath::Downlink::Dropped(_) => dropped += 1,
            }
        }
        if dropped > 0 {
            self.events.push_back(Event::Dropped {
                reason: DropReason::BufferDiscarded,
                packets: dropped,
            });
        }
        for n in notices {
            self.on_notice(now, n);
        }
    }

    fn discard_buffer(&mut self, seid: u64) {
        if let Some(s) = self.sessions.get(&seid) {
            let (packets, _) = s.buffer.discard();
            if packets > 0 {
                self.events.push_back(Event::Dropped {
                    reason: DropReason::BufferDiscarded,
                    packets,
                });
            }
        }
    }

    // ---- Reporting ----

    fn wall(&self, i: Instant) -> Timestamp {
        let (base, unix) = self.config.started;
        let secs = if i >= base {
            unix.saturating_add(i.duration_since(base).as_secs())
        } else {
            unix.saturating_sub(base.duration_since(i).as_secs())
        };
        Timestamp::from_unix_secs(secs)
    }

    fn take_report(&mut self, now: Instant, seid: u64, urr_id: u32, trigger: u32) -> Option<(UsageReport, Usage)> {
        let (base, unix) = self.config.started;
        let wall = move |i: Instant| {
            Timestamp::from_unix_secs(if i >= base {
                unix.saturating_add(i.duration_since(base).as_secs())
            } else {
                unix.saturating_sub(base.duration_since(i).as_secs())
            })
        };
        let u: &mut UrrCtl = self.sessions.get_mut(&seid)?.rules.urrs.get_mut(&urr_id)?;
        Some(u.take_report(now, wall, trigger))
    }

    fn on_notice(&mut self, now: Instant, n: Notice) {
        match n {
            Notice::DownlinkBuffered { seid, pdr_id, qfi } => {
                let Some(s) = self.sessions.get(&seid) else { return };
                let cp_seid = s.cp_fseid.seid;
                let peer = s.cp_peer;
                // §5.2.3.1 / Table 7.5.8.2-1: Downlink Data Report with the PDR and,
                // if known, the QFI (Downlink Data Service Information, §8.2.27).
                let mut dldr = DownlinkDataReport::new(vec![PdrId(pdr_id)]);
                if let Some(q) = qfi {
                    dldr.downlink_data_service_information
                        .push(DownlinkDataServiceInformation {
                            paging_policy_indication: None,
                            qfi: Some(q),
                        });
                }
                let req = SessionReportRequest::new(ReportType::new(ReportType::DLDR)).downlink_data_report(dldr);
                let seq = self.tx.send_request(now, peer, Pdu::session(cp_seid, req));
                self.in_flight.insert(
                    seq,
                    InFlight {
                        seid,
                        cp_seid,
                        reports: Vec::new(),
                    },
                );
                self.events.push_back(Event::DownlinkDataReport { seid, pdr_id });
            }
            Notice::Urr { seid, urr_id } => self.check_urr(now, seid, urr_id),
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        self.tx.handle_timeout(now);
        // Heartbeats (§6.2.2).
        let due: Vec<(NodeId, SocketAddr)> = self
            .associations
            .iter()
            .filter(|(_, a)| a.next_heartbeat <= now)
            .map(|(n, a)| (n.clone(), a.peer))
            .collect();
        for (node, peer) in due {
            if let Some(a) = self.associations.get_mut(&node) {
                a.next_heartbeat = now + self.config.heartbeat_interval;
                if a.heartbeat_outstanding {
                    continue;
                }
                a.heartbeat_outstanding = true;
            }
            self.tx
                .send_request(now, peer, Pdu::node(HeartbeatRequest::new(self.recovery)));
        }
        // URR timers and anything the data path flagged.
        let work: Vec<(u64, u32)> = self
            .sessions
            .iter()
            .flat_map(|(seid, s)| {
                s.rules
                    .urrs
                    .values()
                    .filter(|u| u.deadline().is_some_and(|d| d <= now) || u.shared.take_attention())
                    .map(move |u| (*seid, u.id))
            })
            .collect();
        for (seid, urr) in work {
            self.check_urr(now, seid, urr);
        }
    }

    /// Report a URR if any trigger holds.
    fn check_urr(&mut self, now: Instant, seid: u64, urr_id: u32) {
        let trigger = match self.sessions.get_mut(&seid).and_then(|s| s.rules.urrs.get_mut(&urr_id)) {
            Some(u) => {
                u.shared.take_attention();
                u.due(now)
            }
            None => return,
        };
        if trigger != 0 {
            self.send_reports(now, seid, &[urr_id], trigger);
        }
    }

    fn report_all(&mut self, now: Instant, seid: u64, trigger: u32) {
        let ids: Vec<u32> = self
            .sessions
            .get(&seid)
            .map(|s| s.rules.urrs.keys().copied().collect())
            .unwrap_or_default();
        if !ids.is_empty() {
            self.send_reports(now, seid, &ids, trigger);
        }
    }

    /// A Session Report Request with a Usage Report per URR (§7.5.8).
    fn send_reports(&mut self, now: Instant, seid: u64, urr_ids: &[u32], trigger: u32) {
        let Some((cp_seid, peer)) = self.sessions.get(&seid).map(|s| (s.cp_fseid.seid, s.cp_peer)) else {
            return;
        };
        let mut req = SessionReportRequest::new(ReportType::new(ReportType::USAR));
        let mut carried = Vec::new();
        for id in urr_ids {
            if let Some((ur, usage)) = self.take_report(now, seid, *id, trigger) {
                self.events.push_back(Event::UsageReported {
                    seid,
                    urr_id: *id,
                    trigger,
                    usage,
                });
                req.usage_reports.push(ur);
                carried.push((*id, usage));
            }
        }
        if req.usage_reports.is_empty() {
            return;
        }
        let seq = self.tx.send_request(now, peer, Pdu::session(cp_seid, req));
        self.in_flight.insert(
            seq,
            InFlight {
                seid,
                cp_seid,
                reports: carried,
            },
        );
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
            Message::HeartbeatRequest(_) => {
                if let Some(a) = self.associations.values_mut().find(|a| a.peer == peer) {
                    a.heartbeat_outstanding = false;
                }
                if let Ok(Pdu {
                    message: Message::HeartbeatResponse(r),
                    ..
                }) = response
                {
                    self.check_peer_recovery(now, peer, r.recovery_time_stamp);
                }
            }
            Message::SessionReportRequest(_) => {
                let Some(f) = self.in_flight.remove(&request.header.sequence_number) else {
                    return;
                };
                match cause {
                    Some(c) if c.is_accepted() => {}
                    Some(Cause::SessionContextNotFound) => {
                        // The SMF does not know the session: nobody will take this
                        // usage. Log its size; delete the session here too.
                        for (urr_id, usage) in f.reports {
                            self.lost(
                                f.seid,
                                f.cp_seid,
                                urr_id,
                                usage,
                                "SMF answered session context not found",
                            );
                        }
                        if self.sessions.contains_key(&f.seid) {
                            let unreported: Vec<(u32, Usage)> = self
                                .sessions
                                .get(&f.seid)
                                .map(|s| s.rules.urrs.values().map(|u| (u.id, u.unreported(now))).collect())
                                .unwrap_or_default();
                            for (urr_id, usage) in unreported {
                                if !usage.counts.is_zero() {
                                    self.lost(f.seid, f.cp_seid, urr_id, usage, "session unknown to the SMF");
                                }
                            }
                            self.delete_session(now, f.seid);
                        }
                    }
                    // Rejected or unreadable: not acknowledged; send it again.
                    _ => self.carry(f),
                }
            }
            _ => {}
        }
    }

    fn on_timed_out(&mut self, _now: Instant, peer: SocketAddr, request: Pdu) {
        match request.message {
            Message::HeartbeatRequest(_) => {
                let node = self
                    .associations
                    .iter_mut()
                    .find(|(_, a)| a.peer == peer)
                    .map(|(n, a)| {
                        a.heartbeat_outstanding = false;
                        a.reachable = false;
                        n.clone()
                    });
                if let Some(node) = node {
                    self.events.push_back(Event::CpUnreachable { node });
                }
            }
            Message::SessionReportRequest(_) => {
                if let Some(f) = self.in_flight.remove(&request.header.sequence_number) {
                    self.carry(f);
                }
            }
            _ => {}
        }
    }

    /// An unacknowledged report: merge its usage back into its URR, to go out with
    /// the next report; if the session or URR is gone, it is lost: log it.
    fn carry(&mut self, f: InFlight) {
        for (urr_id, usage) in f.reports {
            let urr = self
                .sessions
                .get_mut(&f.seid)
                .and_then(|s| s.rules.urrs.get_mut(&urr_id))
                .filter(|_| !self.shutting_down);
            match urr {
                Some(u) => {
                    u.carried = u.carried.plus(&usage);
                    // Report again at the next trigger; at the latest at the next sweep.
                    u.shared.attention.store(true, std::sync::atomic::Ordering::Release);
                    self.events.push_back(Event::UsageCarried {
                        seid: f.seid,
                        urr_id,
                        usage,
                    });
                }
                None => self.lost(
                    f.seid,
                    f.cp_seid,
                    urr_id,
                    usage,
                    "report not acknowledged and session gone",
                ),
            }
        }
    }

    fn lost(&mut self, seid: u64, cp_seid: u64, urr_id: u32, usage: Usage, reason: &'static str) {
        if usage.is_zero() {
            return;
        }
        self.events.push_back(Event::UsageLost {
            seid,
            cp_seid,
            urr_id,
            usage,
            reason,
        });
    }

    fn begin_shutdown(&mut self, now: Instant) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        let seids: Vec<u64> = self.sessions.keys().copied().collect();
        for seid in seids {
            // TS 29.244 §8.2.41 TEBUR: the UP function terminated the session.
            self.report_all(now, seid, UsageReportTrigger::TEBUR);
        }
    }
}

/// Created PDRs (Table 7.5.3.2-1) for what this UPF allocated: chosen F-TEIDs and
/// UE addresses.
fn created_pdrs(rules: &Rules, n3: Ipv4Addr) -> Vec<CreatedPdr> {
    rules
        .pdrs
        .values()
        .filter(|p| p.teid_chosen || p.ue_chosen)
        .map(|p| {
            let mut c = CreatedPdr::new(PdrId(p.id));
            if p.teid_chosen
                && let Some(t) = p.local_teid
            {
                c = c.local_fteid(Fteid::v4(t, n3));
            }
            if p.ue_chosen
                && let Some(a) = p.ue_ipv4
            {
                c = c.ue_ip_addresses([UeIpAddress {
                    destination: p.ue_is_destination,
                    ..UeIpAddress::source_v4(a)
                }]);
            }
            c
        })
        .collect()
}
