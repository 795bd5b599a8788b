//! The top object: [`Smf`] owns the PDU sessions (keyed by SUPI + PDU Session ID),
//! the UPF associations, the address pools, the PFCP transaction layer and the timer
//! table, and routes every input to them.
//!
//! ```text
//!  AMF ──SmfRequest──►┐                          ┌──► AmfRequest ──► AMF
//!  UPF ──PFCP bytes──►│  Smf::handle(now, input) │──► PFCP bytes ──► UPF
//!  UDM ──answer──────►│  poll_output / timeout   │──► subscription request
//!  sink ─stored──────►┘                          └──► usage records, events
//! ```
//!
//! Nothing here reads a clock, touches a socket or spawns: time comes in with each
//! call, and the glue sleeps until [`Smf::poll_timeout`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use hexcore_nas::SmCause;
use hexcore_pfcp::ie::{NodeId, Timestamp};
use hexcore_pfcp::{
    AssociationReleaseResponse, AssociationSetupRequest, AssociationSetupResponse, Cause, Event as PfcpEvent,
    HeartbeatRequest, HeartbeatResponse, LocalNode, Message, NodeReportResponse, Pdu, SessionReportResponse,
    Transactions,
};
use hexcore_sbi::{AmfRequest, SmContextRef, SmfRequest};

use crate::error::ApiError;
use crate::messages::UrrParams;
use crate::pool::Pool;
use crate::session::{Procedure, Session};
use crate::settings::{Dnn, Settings, SettingsError};
use crate::subscription::{Ambr, SubscriptionAnswer, SubscriptionRequest};
use crate::usage::{UsageIdentity, UsageRecord};

/// Everything the SMF runs with, checked.
#[derive(Debug, Clone)]
pub struct SmfConfig {
    /// The settings it came from.
    pub settings: Settings,
    /// PFCP Node ID and F-SEID address.
    pub node: Ipv4Addr,
    /// DNNs.
    pub dnns: Vec<Dnn>,
    /// Usage reporting.
    pub urr: UrrParams,
}

impl SmfConfig {
    /// Check and derive.
    pub fn new(settings: Settings) -> Result<Self, SettingsError> {
        settings.validate()?;
        let u = &settings.smf.usage;
        Ok(SmfConfig {
            node: settings.node_ipv4()?,
            dnns: settings.dnns()?,
            urr: UrrParams {
                period: Duration::from_secs(u.period_secs),
                volume_threshold: u.volume_threshold,
                volume_quota: u.volume_quota,
            },
            settings,
        })
    }
}

/// A UPF, by its place in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpfId(pub usize);

/// A Session Endpoint Identifier the SMF allocated (the CP SEID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seid(pub u64);

/// Identifies a Session Report Request whose usage records await storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageAck(pub u64);

/// What the SMF is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A request of the AMF (Nsmf_PDUSession).
    Amf(SmfRequest),
    /// A PFCP datagram from a UPF.
    Pfcp {
        /// Source address.
        peer: SocketAddr,
        /// The datagram.
        bytes: Vec<u8>,
    },
    /// The answer to an [`Output::Subscription`].
    Subscription(SubscriptionAnswer),
    /// The records of an [`Output::Usage`] with an `ack` were stored (or not): the
    /// Session Report Response goes out now, accepted only if `stored`.
    UsageStored {
        /// The batch.
        ack: UsageAck,
        /// Whether the sink stored it durably.
        stored: bool,
    },
    /// Time passed (the deadline of [`Smf::poll_timeout`] or later).
    Timeout,
}

/// What the SMF wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A request to the AMF (Namf_Communication).
    Amf(AmfRequest),
    /// A PFCP datagram to a UPF.
    Pfcp {
        /// Destination.
        peer: SocketAddr,
        /// The datagram.
        bytes: Vec<u8>,
    },
    /// Fetch subscription data; answer with [`Input::Subscription`].
    Subscription(SubscriptionRequest),
    /// Usage records for the sink. With `ack`, answer with [`Input::UsageStored`]
    /// once the sink returned: the UPF's report is acknowledged only then.
    Usage {
        /// The records.
        records: Vec<UsageRecord>,
        /// Set when a PFCP response waits for the records to be stored.
        ack: Option<UsageAck>,
    },
    /// Something for metrics and logs.
    Event(Event),
}

/// Things worth a metric or a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A PDU session is established (the Accept left).
    SessionEstablished {
        /// SUPI.
        supi: String,
        /// PDU Session ID.
        pdu_session_id: u8,
        /// DNN.
        dnn: String,
        /// Address.
        ue_ipv4: Ipv4Addr,
    },
    /// A PDU session establishment was rejected.
    EstablishmentRejected {
        /// SUPI.
        supi: String,
        /// PDU Session ID.
        pdu_session_id: u8,
        /// 5GSM cause sent.
        cause: u8,
        /// Why, as a metric label.
        reason: &'static str,
    },
    /// A PDU session is gone.
    SessionReleased {
        /// SUPI.
        supi: String,
        /// PDU Session ID.
        pdu_session_id: u8,
        /// How (`ue`, `network`, `local`, `an_failure`, `timeout`).
        how: &'static str,
    },
    /// A 5GSM or N2 procedure ran (`procedure`, `outcome`).
    Procedure {
        /// Name.
        procedure: &'static str,
        /// `ok`, `rejected`, `failed`.
        outcome: &'static str,
    },
    /// A PFCP association changed state.
    Association {
        /// The UPF.
        upf: SocketAddr,
        /// Up or down.
        up: bool,
    },
    /// A UPF restarted (new Recovery Time Stamp): its sessions are re-established.
    UpfRestarted {
        /// The UPF.
        upf: SocketAddr,
    },
    /// An N4 session was re-established on a UPF.
    SessionRestored {
        /// SUPI.
        supi: String,
        /// PDU Session ID.
        pdu_session_id: u8,
    },
    /// A 5GSM retransmission (T3591, T3592).
    Retransmission {
        /// The timer.
        timer: &'static str,
    },
    /// A PFCP message that was answered with an error or ignored (label).
    PfcpError {
        /// What.
        what: &'static str,
    },
    /// Something odd, for the log.
    Warning(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Send (again) an Association Setup Request.
    Association(UpfId),
    /// Send the next Heartbeat Request.
    Heartbeat(UpfId),
    /// T3591: PDU session modification command (TS 24.501 §6.3.2.5).
    T3591(SmContextRef),
    /// T3592: PDU session release command (TS 24.501 §6.3.3.5).
    T3592(SmContextRef),
}

/// The timer table: the machine exposes only its earliest deadline.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    by_deadline: BTreeMap<(Instant, u64), Timer>,
    by_timer: HashMap<Timer, (Instant, u64)>,
    next: u64,
}

impl Timers {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.cancel(&timer);
        self.next += 1;
        self.by_deadline.insert((at, self.next), timer.clone());
        self.by_timer.insert(timer, (at, self.next));
    }

    pub(crate) fn cancel(&mut self, timer: &Timer) {
        if let Some(key) = self.by_timer.remove(timer) {
            self.by_deadline.remove(&key);
        }
    }

    fn earliest(&self) -> Option<Instant> {
        self.by_deadline.keys().next().map(|(at, _)| *at)
    }

    fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        let (&key, _) = self.by_deadline.iter().next()?;
        if key.0 > now {
            return None;
        }
        let timer = self.by_deadline.remove(&key)?;
        self.by_timer.remove(&timer);
        Some(timer)
    }
}

/// The association with one UPF (TS 29.244 §6.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Association {
    /// Not associated; the Association timer sends the next Setup Request.
    Down,
    /// A Setup Request is out.
    SettingUp,
    /// Associated.
    Up {
        /// A Heartbeat Request is out.
        heartbeat_out: bool,
    },
}

#[derive(Debug)]
pub(crate) struct Upf {
    pub(crate) addr: SocketAddr,
    pub(crate) dnns: Vec<String>,
    pub(crate) association: Association,
    /// The UPF's Recovery Time Stamp as last seen (TS 23.007 §19A, TS 29.244 §6.2.2).
    pub(crate) recovery: Option<Timestamp>,
}

impl Upf {
    pub(crate) fn serves(&self, dnn: &str) -> bool {
        self.dnns.is_empty() || self.dnns.iter().any(|d| d == dnn)
    }

    pub(crate) fn is_up(&self) -> bool {
        matches!(self.association, Association::Up { .. })
    }
}

/// What a PFCP request of ours was for.
#[derive(Debug, Clone)]
pub(crate) enum Purpose {
    AssociationSetup(UpfId),
    Heartbeat(UpfId),
    Establish {
        ctx: SmContextRef,
        seid: Seid,
        upf: UpfId,
    },
    Modify {
        ctx: SmContextRef,
        seid: Seid,
        change: Change,
    },
    Delete {
        identity: UsageIdentity,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    ForwardDownlink,
    BufferDownlink,
    Ambr,
}

/// A UE-requested establishment waiting for subscription data.
#[derive(Debug, Clone)]
pub(crate) struct PendingEstablishment {
    pub(crate) request: crate::session::EstablishmentRequest,
    /// The subscription request for this SUPI is out (one per SUPI at a time).
    pub(crate) asked: bool,
}

/// An N4 session being deleted: whose it was, and the UPF's SEID for answers.
#[derive(Debug, Clone)]
pub(crate) struct Retired {
    pub(crate) identity: UsageIdentity,
    pub(crate) up_seid: u64,
}

/// A Session Report Request waiting for its usage records to be stored.
#[derive(Debug, Clone)]
pub(crate) struct PendingReport {
    pub(crate) peer: SocketAddr,
    pub(crate) request: hexcore_pfcp::Header,
    pub(crate) up_seid: u64,
}

/// One PDU session as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionSummary {
    /// SUPI.
    pub supi: String,
    /// PDU Session ID.
    pub pdu_session_id: u8,
    /// DNN.
    pub dnn: String,
    /// UE address.
    pub ue_ipv4: Ipv4Addr,
    /// UPF.
    pub upf: SocketAddr,
    /// CP SEID.
    pub seid: u64,
    /// `establishing`, `active`, `inactive`, `releasing`, …
    pub state: &'static str,
}

/// The SMF.
#[derive(Debug)]
pub struct Smf {
    pub(crate) config: SmfConfig,
    pub(crate) local: LocalNode,
    pub(crate) pfcp: Transactions<SocketAddr>,
    pub(crate) upfs: Vec<Upf>,
    pub(crate) pools: HashMap<String, Pool>,
    pub(crate) pending: HashMap<SmContextRef, PendingEstablishment>,
    pub(crate) sessions: HashMap<SmContextRef, Session>,
    pub(crate) by_seid: HashMap<Seid, SmContextRef>,
    /// N4 sessions being deleted whose session is gone: reports on them still count.
    pub(crate) retired: HashMap<Seid, Retired>,
    pub(crate) requests: HashMap<u32, Purpose>,
    pub(crate) reports: HashMap<UsageAck, PendingReport>,
    pub(crate) timers: Timers,
    pub(crate) outputs: VecDeque<Output>,
    next_seid: u64,
    next_ack: u64,
}

impl Smf {
    /// An SMF that says it (re)started at `recovery_unix_secs` (its PFCP Recovery Time
    /// Stamp) and allocates SEIDs from `seid_seed` on (a random value, so that a
    /// restart does not reuse the SEIDs of the previous run, TS 23.527 §4.4.2.1).
    pub fn new(config: SmfConfig, recovery_unix_secs: u64, seid_seed: u64) -> Smf {
        let local = LocalNode {
            node_id: NodeId::Ipv4(config.node),
            recovery_time_stamp: Timestamp::from_unix_secs(recovery_unix_secs),
        };
        let pfcp = Transactions::new(local.clone(), config.settings.pfcp_config())
            .with_initial_sequence_number(seid_seed as u32);
        let upfs = config
            .settings
            .smf
            .upfs
            .iter()
            .map(|u| Upf {
                addr: u.address,
                dnns: u.dnns.clone(),
                association: Association::Down,
                recovery: None,
            })
            .collect();
        let pools = config
            .dnns
            .iter()
            .map(|d| (d.name.clone(), Pool::new(d.pool)))
            .collect();
        Smf {
            config,
            local,
            pfcp,
            upfs,
            pools,
            pending: HashMap::new(),
            sessions: HashMap::new(),
            by_seid: HashMap::new(),
            retired: HashMap::new(),
            requests: HashMap::new(),
            reports: HashMap::new(),
            timers: Timers::default(),
            outputs: VecDeque::new(),
            // SEID 0 means "no session" in PFCP headers (§7.2.2.4.2).
            next_seid: seid_seed.max(1),
            next_ack: 1,
        }
    }

    /// Start associating with the configured UPFs (the glue calls it once).
    pub fn associate(&mut self, now: Instant) {
        for i in 0..self.upfs.len() {
            self.timers.set(Timer::Association(UpfId(i)), now);
        }
        self.handle(now, Input::Timeout);
    }

    /// Take one input.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Amf(request) => self.handle_amf(now, request),
            Input::Pfcp { peer, bytes } => self.pfcp.handle_datagram(now, peer, &bytes),
            Input::Subscription(answer) => self.handle_subscription(now, answer),
            Input::UsageStored { ack, stored } => self.usage_stored(now, ack, stored),
            Input::Timeout => {}
        }
        self.run(now);
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to call [`Smf::handle`] with [`Input::Timeout`] at the latest.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.timers.earliest(), self.pfcp.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Network-requested PDU session release (TS 23.502 §4.3.4.2, e.g. an operator or
    /// billing decision): Release Command with `cause` (#36 regular deactivation,
    /// #39 reactivation requested, #26 insufficient resources…), PFCP deletion.
    pub fn release_session(&mut self, now: Instant, ctx: &SmContextRef, cause: SmCause) -> Result<(), ApiError> {
        let s = self.sessions.get(ctx).ok_or(ApiError::NoSession)?;
        if matches!(s.procedure, Procedure::Releasing { .. }) {
            return Err(ApiError::Busy);
        }
        if matches!(s.procedure, Procedure::Establishing { .. }) {
            // Not known to the UE yet: a local release, and the UE hears a reject.
            self.reject_establishing(now, ctx, crate::error::SessionError::UpfUnreachable);
        } else {
            self.start_release(now, ctx, 0, cause);
        }
        self.run(now);
        Ok(())
    }

    /// Network-requested PDU session modification of the session AMBR (TS 23.502
    /// §4.3.3.2): PFCP QER update, Modification Command, N2 Modify Request.
    pub fn modify_session_ambr(&mut self, now: Instant, ctx: &SmContextRef, ambr: Ambr) -> Result<(), ApiError> {
        let s = self.sessions.get(ctx).ok_or(ApiError::NoSession)?;
        if !matches!(s.procedure, Procedure::Idle) {
            return Err(ApiError::Busy);
        }
        self.start_network_modification(now, ctx, ambr);
        self.run(now);
        Ok(())
    }

    /// The PDU sessions, sorted by SUPI and PDU Session ID.
    pub fn sessions(&self) -> Vec<SessionSummary> {
        let mut v: Vec<SessionSummary> = self
            .sessions
            .values()
            .map(|s| SessionSummary {
                supi: s.ctx.supi.clone(),
                pdu_session_id: s.ctx.pdu_session_id,
                dnn: s.dnn.clone(),
                ue_ipv4: s.ue_ipv4,
                upf: self
                    .upfs
                    .get(s.upf.0)
                    .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |u| u.addr),
                seid: s.seid.0,
                state: s.state_name(),
            })
            .collect();
        v.sort_by(|a, b| (&a.supi, a.pdu_session_id).cmp(&(&b.supi, b.pdu_session_id)));
        v
    }

    /// Number of PDU sessions (all states).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Addresses held per DNN.
    pub fn pool_usage(&self) -> Vec<(String, usize, u64)> {
        let mut v: Vec<_> = self
            .pools
            .iter()
            .map(|(n, p)| (n.clone(), p.in_use(), p.capacity()))
            .collect();
        v.sort();
        v
    }

    /// Whether the association with the UPF at `addr` is up.
    pub fn association_up(&self, addr: SocketAddr) -> bool {
        self.upfs.iter().any(|u| u.addr == addr && u.is_up())
    }

    /// PFCP transaction counters.
    pub fn pfcp_stats(&self) -> hexcore_pfcp::Stats {
        self.pfcp.stats()
    }

    // ------------------------------------------------------------ plumbing

    pub(crate) fn allocate_seid(&mut self) -> Seid {
        loop {
            let s = Seid(self.next_seid);
            self.next_seid = self.next_seid.wrapping_add(1).max(1);
            if !self.by_seid.contains_key(&s) && !self.retired.contains_key(&s) {
                return s;
            }
        }
    }

    pub(crate) fn emit(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    pub(crate) fn send_amf(&mut self, request: AmfRequest) {
        self.outputs.push_back(Output::Amf(request));
    }

    pub(crate) fn send_pfcp(&mut self, now: Instant, upf: UpfId, pdu: Pdu, purpose: Purpose) {
        let Some(addr) = self.upfs.get(upf.0).map(|u| u.addr) else {
            return;
        };
        let seq = self.pfcp.send_request(now, addr, pdu);
        self.requests.insert(seq, purpose);
    }

    /// Fire due timers, take PFCP events, move datagrams out.
    fn run(&mut self, now: Instant) {
        self.pfcp.handle_timeout(now);
        while let Some(t) = self.timers.pop_due(now) {
            self.fire(now, t);
        }
        loop {
            let mut progressed = false;
            while let Some(ev) = self.pfcp.poll_event() {
                progressed = true;
                self.pfcp_event(now, ev);
            }
            while let Some(t) = self.pfcp.poll_transmit() {
                progressed = true;
                self.outputs.push_back(Output::Pfcp {
                    peer: t.peer,
                    bytes: t.bytes,
                });
            }
            if !progressed {
                break;
            }
        }
    }

    fn fire(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::Association(upf) => self.send_association_setup(now, upf),
            Timer::Heartbeat(upf) => self.send_heartbeat(now, upf),
            Timer::T3591(ctx) => self.t3591_expired(now, &ctx),
            Timer::T3592(ctx) => self.t3592_expired(now, &ctx),
        }
    }

    // ------------------------------------------------------------ AMF

    fn handle_amf(&mut self, now: Instant, request: SmfRequest) {
        match request {
            SmfRequest::CreateSmContext {
                context,
                dnn,
                s_nssai,
                request_type,
                n1_sm,
                ..
            } => self.create_sm_context(now, context, dnn, s_nssai, request_type, &n1_sm),
            SmfRequest::UpdateSmContext {
                context,
                n1_sm,
                n2_sm,
                up_cnx_state,
                ..
            } => self.update_sm_context(now, &context, n1_sm, n2_sm, up_cnx_state),
            SmfRequest::ReleaseSmContext { context, cause } => {
                self.pending.remove(&context);
                if self.sessions.contains_key(&context) {
                    tracing::debug!(
                        supi = context.supi,
                        psi = context.pdu_session_id,
                        ?cause,
                        "local release"
                    );
                    self.drop_session(now, &context, "local", true);
                } else {
                    // Nothing here: say so, the AMF forgets the session either way.
                    self.send_amf(AmfRequest::SmContextReleased { context });
                }
            }
        }
    }

    // ------------------------------------------------------------ PFCP

    fn pfcp_event(&mut self, now: Instant, event: PfcpEvent<SocketAddr>) {
        match event {
            PfcpEvent::Request { peer, pdu } => self.pfcp_request(now, peer, pdu),
            PfcpEvent::Response { request, response, .. } => {
                let Some(purpose) = self.requests.remove(&request.header.sequence_number) else {
                    return;
                };
                match response {
                    Ok(pdu) => self.pfcp_response(now, purpose, pdu),
                    Err(e) => {
                        self.event(Event::Warning(format!("undecodable PFCP response: {e}")));
                        self.pfcp_failed(now, purpose, Some(e.cause()));
                    }
                }
            }
            PfcpEvent::TimedOut { request, .. } => {
                if let Some(purpose) = self.requests.remove(&request.header.sequence_number) {
                    self.pfcp_failed(now, purpose, None);
                }
            }
            PfcpEvent::Malformed { peer, error } => {
                self.event(Event::PfcpError { what: "malformed" });
                self.event(Event::Warning(format!("malformed PFCP from {peer}: {error}")));
            }
        }
    }

    fn upf_by_addr(&self, peer: SocketAddr) -> Option<UpfId> {
        self.upfs.iter().position(|u| u.addr == peer).map(UpfId)
    }

    fn pfcp_request(&mut self, now: Instant, peer: SocketAddr, pdu: Pdu) {
        let node_id = self.local.node_id.clone();
        let ts = self.local.recovery_time_stamp;
        let upf = self.upf_by_addr(peer);
        match &pdu.message {
            Message::HeartbeatRequest(req) => {
                let rsp = Pdu::response_to(&pdu.header, 0, HeartbeatResponse::new(ts));
                self.pfcp.send_response(now, peer, &rsp);
                if let Some(upf) = upf {
                    self.check_recovery(now, upf, req.recovery_time_stamp);
                }
            }
            Message::AssociationSetupRequest(req) => {
                // TS 29.244 §6.2.6.2: a UP function may set the association up itself.
                let Some(upf) = upf else {
                    let rsp = AssociationSetupResponse::new(node_id, Cause::RequestRejected, ts);
                    self.pfcp
                        .send_response(now, peer, &Pdu::response_to(&pdu.header, 0, rsp));
                    self.event(Event::PfcpError { what: "unknown_peer" });
                    return;
                };
                let rsp = AssociationSetupResponse::new(node_id, Cause::RequestAccepted, ts);
                self.pfcp
                    .send_response(now, peer, &Pdu::response_to(&pdu.header, 0, rsp));
                let ts = req.recovery_time_stamp;
                self.association_established(now, upf, ts, true);
            }
            Message::AssociationReleaseRequest(_) => {
                let rsp = AssociationReleaseResponse::new(node_id, Cause::RequestAccepted);
                self.pfcp
                    .send_response(now, peer, &Pdu::response_to(&pdu.header, 0, rsp));
                if let Some(upf) = upf {
                    self.association_lost(now, upf, false);
                }
            }
            Message::NodeReportRequest(_) => {
                let rsp = NodeReportResponse::new(node_id, Cause::RequestAccepted);
                self.pfcp
                    .send_response(now, peer, &Pdu::response_to(&pdu.header, 0, rsp));
            }
            Message::SessionReportRequest(req) => {
                let req = req.clone();
                self.session_report(now, peer, &pdu.header, req);
            }
            _ => {
                // A request a CP function does not serve (PFD management, session set
                // requests, a Session Establishment…): not answered, the peer gives
                // up after its retransmissions. Counted.
                tracing::debug!(%peer, t = ?pdu.message.message_type(), "PFCP request not served");
                self.event(Event::PfcpError {
                    what: "unexpected_request",
                });
            }
        }
    }

    fn pfcp_response(&mut self, now: Instant, purpose: Purpose, pdu: Pdu) {
        match (purpose, pdu.message) {
            (Purpose::AssociationSetup(upf), Message::AssociationSetupResponse(rsp)) => {
                if rsp.cause.is_accepted() {
                    self.association_established(now, upf, rsp.recovery_time_stamp, false);
                } else {
                    self.event(Event::Warning(format!(
                        "UPF {} refused the association: {:?}",
                        self.upfs.get(upf.0).map_or(String::new(), |u| u.addr.to_string()),
                        rsp.cause
                    )));
                    self.association_retry_later(now, upf);
                }
            }
            (Purpose::Heartbeat(upf), Message::HeartbeatResponse(rsp)) => {
                if let Some(u) = self.upfs.get_mut(upf.0)
                    && let Association::Up { heartbeat_out } = &mut u.association
                {
                    *heartbeat_out = false;
                }
                self.check_recovery(now, upf, rsp.recovery_time_stamp);
            }
            (Purpose::Establish { ctx, seid, upf }, Message::SessionEstablishmentResponse(rsp)) => {
                self.n4_established(now, &ctx, seid, upf, rsp)
            }
            (Purpose::Modify { ctx, seid, change }, Message::SessionModificationResponse(rsp)) => {
                self.n4_modified(now, &ctx, seid, change, rsp)
            }
            (Purpose::Delete { identity }, Message::SessionDeletionResponse(rsp)) => {
                self.retired.remove(&Seid(identity.seid));
                let records: Vec<UsageRecord> = rsp.usage_reports.iter().map(|r| identity.record(r)).collect();
                if !records.is_empty() {
                    self.emit(Output::Usage { records, ack: None });
                }
                if !rsp.cause.is_accepted() {
                    self.event(Event::PfcpError {
                        what: "deletion_rejected",
                    });
                }
            }
            (purpose, other) => {
                self.event(Event::Warning(format!(
                    "PFCP {:?} does not answer {purpose:?}",
                    other.message_type()
                )));
                self.pfcp_failed(now, purpose, None);
            }
        }
    }

    /// A request of ours got no (usable) answer.
    fn pfcp_failed(&mut self, now: Instant, purpose: Purpose, cause: Option<Cause>) {
        match purpose {
            Purpose::AssociationSetup(upf) => self.association_retry_later(now, upf),
            Purpose::Heartbeat(upf) => {
                // N1 retransmissions unanswered: the UPF is presumed gone (TS 29.244
                // §6.2.2, TS 23.527 §4.3.3).
                self.event(Event::Warning(format!(
                    "UPF {} does not answer heartbeats",
                    self.upfs.get(upf.0).map_or(String::new(), |u| u.addr.to_string())
                )));
                self.association_lost(now, upf, false);
            }
            Purpose::Establish { ctx, seid, .. } => self.n4_establishment_failed(now, &ctx, seid, cause),
            Purpose::Modify { ctx, seid, change } => self.n4_modification_failed(now, &ctx, seid, change, cause),
            Purpose::Delete { identity } => {
                self.retired.remove(&Seid(identity.seid));
                self.event(Event::PfcpError {
                    what: "deletion_failed",
                });
            }
        }
    }

    // ------------------------------------------------------------ associations

    fn send_association_setup(&mut self, now: Instant, upf: UpfId) {
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        if u.is_up() {
            return;
        }
        u.association = Association::SettingUp;
        let req = AssociationSetupRequest::new(self.local.node_id.clone(), self.local.recovery_time_stamp);
        self.send_pfcp(now, upf, Pdu::node(req), Purpose::AssociationSetup(upf));
    }

    fn association_retry_later(&mut self, now: Instant, upf: UpfId) {
        if let Some(u) = self.upfs.get_mut(upf.0)
            && !u.is_up()
        {
            u.association = Association::Down;
            let wait = Duration::from_secs(self.config.settings.smf.pfcp.association_retry_secs);
            self.timers.set(Timer::Association(upf), now + wait);
        }
    }

    /// An association is (again) up: set up by us (`by_upf` false) or by the UPF.
    fn association_established(&mut self, now: Instant, upf: UpfId, recovery: Timestamp, by_upf: bool) {
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        let restarted = u.recovery.is_some_and(|r| r != recovery);
        let was_up = u.is_up();
        if was_up && !restarted && !by_upf {
            // Our late answer after the UPF set the association up itself: nothing new.
            return;
        }
        u.recovery = Some(recovery);
        u.association = Association::Up { heartbeat_out: false };
        let addr = u.addr;
        self.timers.cancel(&Timer::Association(upf));
        let interval = Duration::from_secs(self.config.settings.smf.pfcp.heartbeat_interval_secs);
        self.timers.set(Timer::Heartbeat(upf), now + interval);
        if !was_up {
            self.event(Event::Association { upf: addr, up: true });
        }
        if restarted {
            self.event(Event::UpfRestarted { upf: addr });
            self.sessions_lost(upf, true);
        } else if was_up {
            // A Setup Request for an existing association: the UP function drops the
            // sessions of the old one unless asked to keep them (TS 29.244 §6.2.6.2.2).
            self.sessions_lost(upf, false);
        }
        self.restore_sessions(now, upf, restarted);
    }

    fn association_lost(&mut self, now: Instant, upf: UpfId, restarted: bool) {
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        let was_up = u.is_up();
        u.association = Association::Down;
        let addr = u.addr;
        self.timers.cancel(&Timer::Heartbeat(upf));
        if was_up {
            self.event(Event::Association { upf: addr, up: false });
        }
        self.sessions_lost(upf, restarted);
        let wait = if restarted {
            Duration::ZERO
        } else {
            Duration::from_secs(self.config.settings.smf.pfcp.association_retry_secs)
        };
        self.timers.set(Timer::Association(upf), now + wait);
    }

    fn send_heartbeat(&mut self, now: Instant, upf: UpfId) {
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        let Association::Up { heartbeat_out } = &mut u.association else {
            return;
        };
        let interval = Duration::from_secs(self.config.settings.smf.pfcp.heartbeat_interval_secs);
        self.timers.set(Timer::Heartbeat(upf), now + interval);
        if *heartbeat_out {
            // The previous one is still being retransmitted; its time-out decides.
            return;
        }
        *heartbeat_out = true;
        let req = HeartbeatRequest::new(self.local.recovery_time_stamp);
        self.send_pfcp(now, upf, Pdu::node(req), Purpose::Heartbeat(upf));
    }

    /// A Recovery Time Stamp other than the one of the association means the UPF
    /// restarted and lost every session (TS 23.007 §19A, TS 23.527 §4.3.2).
    fn check_recovery(&mut self, now: Instant, upf: UpfId, ts: Timestamp) {
        let Some(u) = self.upfs.get(upf.0) else { return };
        if u.recovery.is_some_and(|r| r != ts) && u.is_up() {
            let addr = u.addr;
            self.event(Event::UpfRestarted { upf: addr });
            if let Some(u) = self.upfs.get_mut(upf.0) {
                u.recovery = Some(ts);
            }
            // The association went with the restart: set it up again at once, then
            // restore the sessions.
            self.association_lost(now, upf, true);
        }
    }

    // ------------------------------------------------------------ usage acks

    pub(crate) fn next_usage_ack(&mut self) -> UsageAck {
        let a = UsageAck(self.next_ack);
        self.next_ack += 1;
        a
    }

    fn usage_stored(&mut self, now: Instant, ack: UsageAck, stored: bool) {
        let Some(p) = self.reports.remove(&ack) else { return };
        let cause = if stored {
            Cause::RequestAccepted
        } else {
            // Not acknowledged: the UPF keeps what it measured (TS 29.244 §7.5.9).
            self.event(Event::PfcpError {
                what: "usage_not_stored",
            });
            Cause::SystemFailure
        };
        let rsp = Pdu::response_to(&p.request, p.up_seid, SessionReportResponse::new(cause));
        self.pfcp.send_response(now, p.peer, &rsp);
    }
}
