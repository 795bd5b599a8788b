//! The top object: [`Smf`] routes every input to the PDU session it is about and
//! applies what reaches beyond one session — the UE address pools, the CP SEIDs, the
//! UPF associations, the PFCP transactions and the timer table.
//!
//! ```text
//!  AMF ──SmfRequest──►┐                          ┌──► AmfRequest ──► AMF
//!  UPF ──PFCP bytes──►│  Smf::handle(now, input) │──► PFCP bytes ──► UPF
//!  UDM ──answer──────►│  poll_output / timeout   │──► subscription request
//!  sink ─stored──────►┘                          └──► usage records, events
//!
//!  Smf ── SessionEvent ──► PduSession::handle ── Effects ──► Smf applies them
//!      by SmContextRef (AMF requests, timers), by Seid (Session Reports),
//!      by the PFCP transaction's Purpose (N4 answers)
//! ```
//!
//! Like quinn-proto's `Endpoint` and its `Connection`s: the SMF owns the sessions in a
//! map keyed by SM context (SUPI + PDU Session ID) with an index by CP SEID; a
//! [`PduSession`] owns its state and asks for everything else through effects.
//! Nothing here reads a clock, touches a socket or spawns: time comes in with each
//! call, and the glue sleeps until [`Smf::poll_timeout`].

mod association;
mod n4;

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use hexcore_nas::SmCause;
use hexcore_pfcp::ie::{NodeId, Timestamp};
use hexcore_pfcp::{LocalNode, Pdu, Transactions};
use hexcore_sbi::{AmfRequest, RequestType, SmContextRef, SmfRequest, Snssai};
use hexcore_timer::TimerTable;

use crate::error::{ApiError, SessionError};
use crate::ids::{Seid, UpfId, UsageAck};
use crate::pool::Pool;
use crate::session::{
    Effect, Effects, EstablishmentRequest, N4Request, PduSession, Refusal, Resources, SessionEvent, SessionSummary,
    SessionTimer, update_unknown,
};
use crate::settings::{SessionConfig, SmfConfig};
use crate::subscription::{Ambr, SubscriptionAnswer, SubscriptionRequest};
use crate::telemetry::Event;
use crate::usage::{UsageIdentity, UsageRecord};

use association::Upf;

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

/// The SMF's timers, in one table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Timer {
    /// Send (again) an Association Setup Request.
    Association(UpfId),
    /// Send the next Heartbeat Request.
    Heartbeat(UpfId),
    /// A 5GSM timer of a PDU session.
    Session(SmContextRef, SessionTimer),
}

/// What a PFCP request of ours is for: the purpose of its transaction, by sequence
/// number, which routes the answer.
#[derive(Debug, Clone)]
enum Purpose {
    AssociationSetup(UpfId),
    Heartbeat(UpfId),
    /// A request of a PDU session: the answer goes back to it.
    Session {
        ctx: SmContextRef,
        seid: Seid,
        upf: UpfId,
        request: N4Request,
    },
    /// A deletion: the final usage is recorded under `identity`, also when the PDU
    /// session is gone.
    Delete {
        identity: UsageIdentity,
    },
}

/// An N4 session being deleted whose PDU session no longer routes its SEID: whose it
/// was, and the UPF's SEID for answers. Reports on it still count.
#[derive(Debug, Clone)]
struct Retired {
    identity: UsageIdentity,
    up_seid: u64,
}

/// A Session Report Request waiting for its usage records to be stored.
#[derive(Debug, Clone)]
struct PendingReport {
    peer: SocketAddr,
    request: hexcore_pfcp::Header,
    up_seid: u64,
}

/// The SMF.
#[derive(Debug)]
pub struct Smf {
    config: SmfConfig,
    /// What every PDU session runs with, shared by them.
    session_config: Arc<SessionConfig>,
    /// Our PFCP Node ID and Recovery Time Stamp.
    local: LocalNode,
    /// PFCP transactions: T1/N1 retransmission of our requests, duplicate requests of
    /// the UPFs answered from the response cache.
    pfcp: Transactions<SocketAddr>,
    /// The UPFs, by [`UpfId`], with their associations.
    upfs: Vec<Upf>,
    /// UE address pools, by DNN.
    pools: HashMap<String, Pool>,
    /// UE-requested establishments waiting for subscription data (one request per
    /// SUPI answers them all).
    pending: HashMap<SmContextRef, EstablishmentRequest>,
    /// The PDU sessions, by SM context.
    sessions: HashMap<SmContextRef, PduSession>,
    /// The CP SEID a session's N4 session has now → its SM context.
    by_seid: HashMap<Seid, SmContextRef>,
    /// N4 sessions being deleted that no session routes any more.
    retired: HashMap<Seid, Retired>,
    /// Our PFCP requests in flight, by sequence number.
    requests: HashMap<u32, Purpose>,
    /// Session Reports whose answer waits for their usage to be stored.
    reports: HashMap<UsageAck, PendingReport>,
    /// Association, heartbeat and every session's 5GSM timers.
    timers: TimerTable<Timer>,
    outputs: VecDeque<Output>,
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
        let pfcp =
            Transactions::new(local.clone(), config.pfcp.transactions()).with_initial_sequence_number(seid_seed as u32);
        let upfs = config.upfs.iter().cloned().map(Upf::new).collect();
        let pools = config
            .dnns
            .iter()
            .map(|d| (d.name.clone(), Pool::new(d.pool)))
            .collect();
        Smf {
            session_config: Arc::new(config.session),
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
            timers: TimerTable::new(),
            outputs: VecDeque::new(),
            // SEID 0 means "no session" in PFCP headers (TS 29.244 §7.2.2.4.2).
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
        match (self.timers.next_deadline(), self.pfcp.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Network-requested PDU session release (TS 23.502 §4.3.4.2, e.g. an operator or
    /// billing decision): Release Command with `cause` (#36 regular deactivation,
    /// #39 reactivation requested, #26 insufficient resources…), PFCP deletion.
    pub fn release_session(&mut self, now: Instant, ctx: &SmContextRef, cause: SmCause) -> Result<(), ApiError> {
        let session = self.sessions.get_mut(ctx).ok_or(ApiError::NoSession)?;
        let mut fx = Effects::default();
        session.release(now, cause, &mut fx)?;
        self.apply(now, ctx, fx);
        self.run(now);
        Ok(())
    }

    /// Network-requested PDU session modification of the session AMBR (TS 23.502
    /// §4.3.3.2): PFCP QER update, Modification Command, N2 Modify Request.
    pub fn modify_session_ambr(&mut self, now: Instant, ctx: &SmContextRef, ambr: Ambr) -> Result<(), ApiError> {
        let session = self.sessions.get_mut(ctx).ok_or(ApiError::NoSession)?;
        let mut fx = Effects::default();
        session.modify_ambr(now, ambr, &mut fx)?;
        self.apply(now, ctx, fx);
        self.run(now);
        Ok(())
    }

    /// The PDU sessions, sorted by SUPI and PDU Session ID.
    pub fn sessions(&self) -> Vec<SessionSummary> {
        let mut v: Vec<SessionSummary> = self.sessions.values().map(PduSession::summary).collect();
        v.sort_by(|a, b| (&a.supi, a.pdu_session_id).cmp(&(&b.supi, b.pdu_session_id)));
        v
    }

    /// Number of PDU sessions (all states; establishments waiting for subscription
    /// data are not sessions yet).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Addresses held per DNN: name, in use, capacity.
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
        self.upfs.iter().any(|u| u.config.address == addr && u.is_up())
    }

    /// PFCP transaction counters.
    pub fn pfcp_stats(&self) -> hexcore_pfcp::Stats {
        self.pfcp.stats()
    }

    // ------------------------------------------------------------ sessions

    /// Hand `event` to the session of `ctx` and apply what it asks.
    fn dispatch(&mut self, now: Instant, ctx: &SmContextRef, event: SessionEvent) {
        let Some(session) = self.sessions.get_mut(ctx) else {
            return;
        };
        let mut fx = Effects::default();
        session.handle(now, event, &mut fx);
        self.apply(now, ctx, fx);
    }

    /// Carry out the effects of the session of `ctx` (or of a refused establishment).
    fn apply(&mut self, now: Instant, ctx: &SmContextRef, mut fx: Effects) {
        for effect in fx.take() {
            match effect {
                Effect::Amf(request) => self.send_amf(request),
                Effect::N4 {
                    upf,
                    seid,
                    request,
                    pdu,
                } => {
                    let purpose = Purpose::Session {
                        ctx: ctx.clone(),
                        seid,
                        upf,
                        request,
                    };
                    self.send_pfcp(now, upf, *pdu, purpose);
                }
                Effect::DeleteN4 { upf, up_seid, identity } => self.delete_n4(now, upf, identity, up_seid),
                Effect::SeidReleased(seid) => {
                    if self.by_seid.get(&seid) == Some(ctx) {
                        self.by_seid.remove(&seid);
                    }
                }
                Effect::Restore => {
                    let upf = self.sessions.get(ctx).map(PduSession::upf);
                    if upf.is_some_and(|u| self.upfs.get(u.0).is_some_and(Upf::is_up)) {
                        self.restore_session(now, ctx, false);
                    }
                }
                Effect::StartTimer { timer, at } => self.timers.set(Timer::Session(ctx.clone(), timer), at),
                Effect::StopTimer(timer) => {
                    self.timers.stop(&Timer::Session(ctx.clone(), timer));
                }
                Effect::Usage { records, ack } => self.emit(Output::Usage { records, ack }),
                Effect::ReleaseAddress { dnn, ue_ipv4 } => {
                    if let Some(pool) = self.pools.get_mut(&dnn) {
                        pool.release(ue_ipv4);
                    }
                }
                Effect::Closed => self.remove_session(ctx),
                Effect::Event(event) => self.event(event),
            }
        }
    }

    /// Forget a closed session: its timers and its SEID go with it.
    fn remove_session(&mut self, ctx: &SmContextRef) {
        let Some(session) = self.sessions.remove(ctx) else {
            return;
        };
        if self.by_seid.get(&session.seid()) == Some(ctx) {
            self.by_seid.remove(&session.seid());
        }
        for timer in SessionTimer::ALL {
            self.timers.stop(&Timer::Session(ctx.clone(), timer));
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
            } => {
                if self.sessions.contains_key(&context) {
                    let event = SessionEvent::Update {
                        n1: n1_sm,
                        n2: n2_sm,
                        up_cnx_state,
                    };
                    self.dispatch(now, &context, event);
                } else if self.pending.contains_key(&context) {
                    self.event(Event::Warning(format!(
                        "UpdateSmContext for {}/{} while its establishment waits for subscription data",
                        context.supi, context.pdu_session_id
                    )));
                } else {
                    let mut fx = Effects::default();
                    update_unknown(&context, n1_sm.as_deref(), up_cnx_state, &mut fx);
                    self.apply(now, &context, fx);
                }
            }
            SmfRequest::ReleaseSmContext { context, cause } => {
                self.pending.remove(&context);
                if self.sessions.contains_key(&context) {
                    tracing::debug!(
                        supi = context.supi,
                        psi = context.pdu_session_id,
                        ?cause,
                        "local release"
                    );
                    self.dispatch(now, &context, SessionEvent::ReleaseSmContext);
                } else {
                    // Nothing here: say so, the AMF forgets the session either way.
                    self.send_amf(AmfRequest::SmContextReleased { context });
                }
            }
        }
    }

    /// Nsmf_PDUSession_CreateSMContext (TS 23.502 §4.3.2.2.1 step 3): check the
    /// request, then fetch the subscription data.
    fn create_sm_context(
        &mut self,
        now: Instant,
        ctx: SmContextRef,
        dnn: Option<String>,
        s_nssai: Option<Snssai>,
        request_type: RequestType,
        n1: &[u8],
    ) {
        let request = match EstablishmentRequest::parse(&ctx, dnn, s_nssai, request_type, n1) {
            Ok(r) => r,
            Err(refusal) => return self.refuse(now, &ctx, s_nssai, refusal),
        };
        let pti = request.header.pti;
        if self.pti_taken(&ctx, pti) {
            let refusal = Refusal::Reject {
                header: request.header,
                error: SessionError::PtiAlreadyInUse(pti),
            };
            return self.refuse(now, &ctx, s_nssai, refusal);
        }
        // TS 24.501 §6.4.1.7 (and TS 29.502 §5.2.2.3.2.3): an establishment for a PDU
        // session ID in use releases the existing session locally first.
        self.dispatch(now, &ctx, SessionEvent::Replaced);
        // One subscription request per SUPI at a time: its answer serves them all.
        if !self.pending.keys().any(|c| c.supi == ctx.supi) {
            self.emit(Output::Subscription(SubscriptionRequest { supi: ctx.supi.clone() }));
        }
        self.pending.insert(ctx, request);
    }

    /// Another procedure of the UE uses `pti` (TS 24.501 §6.4.1.4.2, cause #35).
    fn pti_taken(&self, ctx: &SmContextRef, pti: u8) -> bool {
        let other = |c: &SmContextRef| c.supi == ctx.supi && c != ctx;
        self.sessions
            .values()
            .any(|s| other(s.context()) && s.pti_in_use() == Some(pti))
            || self.pending.iter().any(|(c, r)| other(c) && r.header.pti == pti)
    }

    /// Subscription data arrived (TS 23.502 §4.3.2.2.1 step 4): every establishment of
    /// the SUPI that waited for it goes on.
    fn handle_subscription(&mut self, now: Instant, answer: SubscriptionAnswer) {
        let mut waiting: Vec<SmContextRef> = self.pending.keys().filter(|c| c.supi == answer.supi).cloned().collect();
        waiting.sort();
        for ctx in waiting {
            if let Some(request) = self.pending.remove(&ctx) {
                self.establish(now, ctx, request, &answer);
            }
        }
    }

    /// Authorization, UPF selection, address and SEID (TS 23.502 §4.3.2.2.1 steps
    /// 4, 8–9), then the session sends its N4 establishment (step 10).
    fn establish(
        &mut self,
        now: Instant,
        ctx: SmContextRef,
        request: EstablishmentRequest,
        answer: &SubscriptionAnswer,
    ) {
        let reject = |s_nssai, error| {
            (
                s_nssai,
                Refusal::Reject {
                    header: request.header,
                    error,
                },
            )
        };
        let grant = match request.authorize(&answer.result, &self.config.dnns, self.config.default_dnn.as_deref()) {
            Ok(grant) => grant,
            Err(e) => {
                let (s_nssai, refusal) = reject(request.s_nssai, e);
                return self.refuse(now, &ctx, s_nssai, refusal);
            }
        };
        // The first associated UPF serving the DNN.
        let dnn = grant.dnn.name.clone();
        let Some(upf) = self
            .upfs
            .iter()
            .position(|u| u.is_up() && u.config.serves(&dnn))
            .map(UpfId)
        else {
            let (s_nssai, refusal) = reject(Some(grant.s_nssai), SessionError::NoUpf(dnn));
            return self.refuse(now, &ctx, s_nssai, refusal);
        };
        let Some(ue_ipv4) = self.pools.get_mut(&dnn).and_then(Pool::allocate) else {
            let (s_nssai, refusal) = reject(Some(grant.s_nssai), SessionError::PoolExhausted(dnn));
            return self.refuse(now, &ctx, s_nssai, refusal);
        };
        let seid = self.allocate_seid();
        let resources = Resources {
            upf,
            upf_addr: self.upfs[upf.0].config.address,
            ue_ipv4,
            seid,
        };
        let mut fx = Effects::default();
        let session = PduSession::establish(
            ctx.clone(),
            &request,
            grant,
            resources,
            self.session_config.clone(),
            &mut fx,
        );
        self.by_seid.insert(seid, ctx.clone());
        self.sessions.insert(ctx.clone(), session);
        self.apply(now, &ctx, fx);
    }

    /// An establishment that makes no session: the UE hears why.
    fn refuse(&mut self, now: Instant, ctx: &SmContextRef, s_nssai: Option<Snssai>, refusal: Refusal) {
        let mut fx = Effects::default();
        refusal.answer(ctx, s_nssai, &mut fx);
        self.apply(now, ctx, fx);
    }

    // ------------------------------------------------------------ plumbing

    fn allocate_seid(&mut self) -> Seid {
        loop {
            let s = Seid(self.next_seid);
            self.next_seid = self.next_seid.wrapping_add(1).max(1);
            if !self.by_seid.contains_key(&s) && !self.retired.contains_key(&s) {
                return s;
            }
        }
    }

    fn emit(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn send_amf(&mut self, request: AmfRequest) {
        self.outputs.push_back(Output::Amf(request));
    }

    fn send_pfcp(&mut self, now: Instant, upf: UpfId, pdu: Pdu, purpose: Purpose) {
        let Some(addr) = self.upfs.get(upf.0).map(|u| u.config.address) else {
            return;
        };
        let seq = self.pfcp.send_request(now, addr, pdu);
        self.requests.insert(seq, purpose);
    }

    /// Fire due timers, take PFCP events, move datagrams out.
    fn run(&mut self, now: Instant) {
        self.pfcp.handle_timeout(now);
        while let Some((timer, ())) = self.timers.pop_expired(now) {
            self.fire(now, timer);
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
            Timer::Session(ctx, timer) => self.dispatch(now, &ctx, SessionEvent::Timeout(timer)),
        }
    }
}

/// Whose an N4 session is when its PDU session is gone: the SM context only.
fn orphan_identity(ctx: &SmContextRef, seid: Seid, upf: Option<SocketAddr>) -> UsageIdentity {
    UsageIdentity {
        supi: ctx.supi.clone(),
        pdu_session_id: ctx.pdu_session_id,
        dnn: String::new(),
        sst: 0,
        sd: None,
        ue_ipv4: Ipv4Addr::UNSPECIFIED,
        upf: upf.map_or(String::new(), |a| a.to_string()),
        seid: seid.0,
    }
}
