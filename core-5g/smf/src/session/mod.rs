//! One PDU session: [`PduSession`] owns its fixed data and three small state machines
//! that move independently — the N4 session at the UPF ([`N4`]), the user plane at the
//! gNB ([`UserPlane`]) and the 5GSM procedure in progress ([`Procedure`]) — each
//! variant carrying only the data valid in it.
//!
//! A session never sends, allocates or sleeps by itself. [`PduSession::handle`] takes a
//! [`SessionEvent`] (an UpdateSMContext, an N4 answer, a Session Report, a timer) and
//! answers with [`Effect`]s: a request to the AMF, a PFCP request with its purpose, a
//! timer to start or stop, usage records, an address to give back, "I am closed". The
//! [`crate::Smf`] routes events to it by SM context (SUPI + PDU Session ID) or CP SEID
//! and applies the effects, which is where the pools, SEIDs, PFCP transactions and
//! timers of all sessions meet.
//!
//! ```text
//! CreateSMContext ─► EstablishmentRequest::parse ─► (SMF: subscription) ─► authorize
//!   ─► (SMF: UPF, address, SEID) ─► PduSession::establish ─► N4 Establishing
//!   ─► N4Established ─► Accept + setup transfer (N1N2) ─► Setup Response ─► Active
//! Active ◄─► Deactivated (AN release, downlink data, Service Request)
//! Idle ─► Modifying (T3591) ─► Idle            Idle ─► Releasing (T3592) ─► Closed
//! N4: Established ─► Lost (UPF restart, association loss) ─► Reestablishing ─► Established
//! ```
//!
//! | file | procedures |
//! |---|---|
//! | `establishment` | request checks, authorization, establishment (TS 23.502 §4.3.2.2.1), N4 restoration (TS 23.527 §4.3.2) |
//! | `update` | UpdateSMContext: AN setup, AN release, Service Request and downlink data (TS 23.502 §4.2.3, §4.2.6); the UE's 5GSM messages |
//! | `modification` | PDU session modification (TS 23.502 §4.3.3), T3591 |
//! | `release` | PDU session release (TS 23.502 §4.3.4), T3592, local release |

mod establishment;
mod modification;
mod release;
#[cfg(test)]
mod tests;
mod update;

pub(crate) use establishment::{EstablishmentRequest, Refusal, Resources};
pub(crate) use modification::report_modification_failure;
pub(crate) use update::update_unknown;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use hexcore_nas::SmCause;
use hexcore_nas::sm::SmHeader;
use hexcore_pfcp::{Cause, Pdu, SessionEstablishmentResponse, SessionModificationResponse, SessionReportRequest};
use hexcore_sbi::{AmfRequest, N2SmInfo, N2SmInfoType, SmContextRef, Snssai, UpCnxState};

use crate::error::ApiError;
use crate::ids::{Seid, UpfId, UsageAck};
use crate::messages::{self, Tunnel};
use crate::settings::SessionConfig;
use crate::subscription::Ambr;
use crate::telemetry::Event;
use crate::usage::{UsageIdentity, UsageRecord};

/// A PDU session with its UPF, its address and its three state machines.
#[derive(Debug, Clone)]
pub(crate) struct PduSession {
    ctx: SmContextRef,
    config: Arc<SessionConfig>,
    s_nssai: Snssai,
    dnn: String,
    ue_ipv4: Ipv4Addr,
    ambr: Ambr,
    upf: UpfId,
    /// The UPF's N4 address, as usage records name it.
    upf_addr: SocketAddr,
    /// The CP SEID of the current N4 session.
    seid: Seid,
    n4: N4,
    up: UserPlane,
    procedure: Procedure,
    /// The UL tunnel the gNB was last told (setup or modify transfer): after a UPF
    /// restart the tunnel changes and the gNB must hear the new one.
    announced_ul: Option<Tunnel>,
}

/// The N4 session at the UPF.
#[derive(Debug, Clone, PartialEq, Eq)]
enum N4 {
    /// Session Establishment Request out (first establishment).
    Establishing,
    /// The UPF holds the session.
    Established {
        /// The UPF's SEID.
        up_seid: u64,
        /// The UPF's N3 tunnel (the Created PDR's F-TEID of the uplink PDR).
        ul: Tunnel,
    },
    /// The UPF lost the session (restart, association loss); it is re-established
    /// when the association is up.
    Lost {
        /// The UPF's SEID of the lost session when the UPF may still hold it (no
        /// restart seen): it is deleted before the new one is made.
        stale: Option<u64>,
    },
    /// Session Establishment Request out to restore a lost session.
    Reestablishing,
    /// Deleted (or never made): the PDU session is on its way out.
    Released,
}

/// The user plane at the gNB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserPlane {
    /// A Setup Request Transfer went to the gNB; its response is awaited. `first`:
    /// the one of the establishment (a failure releases the session).
    Awaiting { first: bool },
    /// The gNB's tunnel is installed at the UPF.
    Active { dl: Tunnel },
    /// CM-IDLE or AN released: the UPF buffers downlink data. `paged`: the AMF was
    /// asked to page for this buffering period.
    Deactivated { paged: bool },
}

/// The 5GSM procedure in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Procedure {
    /// Establishment: the Accept goes out once the N4 session is up.
    Establishing {
        pti: u8,
        /// The UE asked for IPv4v6 and gets IPv4 (cause #50 in the Accept).
        ipv4_only: bool,
        /// The extended PCO answer.
        pco: Option<hexcore_nas::ie::ExtendedPco>,
    },
    /// Nothing in progress.
    Idle,
    /// A Modification Command is out, T3591 running.
    Modifying {
        pti: u8,
        command: Vec<u8>,
        retransmissions: u8,
    },
    /// A Release Command is out, T3592 running.
    Releasing {
        pti: u8,
        command: Vec<u8>,
        retransmissions: u8,
    },
}

/// What happens to a PDU session.
#[derive(Debug, Clone)]
pub(crate) enum SessionEvent {
    /// Nsmf_PDUSession_UpdateSMContext (TS 29.502 §5.2.2.3): N1, N2 and/or the state
    /// of the user plane connection.
    Update {
        n1: Option<Vec<u8>>,
        n2: Option<N2SmInfo>,
        up_cnx_state: Option<UpCnxState>,
    },
    /// Nsmf_PDUSession_ReleaseSMContext: the AMF drops the session (deregistration, …):
    /// local release.
    ReleaseSmContext,
    /// A new establishment for the same PDU session ID (TS 24.501 §6.4.1.7): local
    /// release; the AMF keeps the ID, so it is not told.
    Replaced,
    /// The UPF's Session Establishment Response to our request under `seid`.
    N4Established {
        seid: Seid,
        response: SessionEstablishmentResponse,
    },
    /// The UPF's Session Modification Response to our request under `seid`.
    N4Modified {
        seid: Seid,
        change: Change,
        response: SessionModificationResponse,
    },
    /// A request of ours got no usable answer: none after the retransmissions
    /// (`cause` `None`), or one that does not decode (its cause).
    N4Failed {
        seid: Seid,
        request: N4Request,
        cause: Option<Cause>,
    },
    /// A Session Report Request for the session's SEID (TS 29.244 §7.5.8). `ack` is
    /// set when it carries usage reports: the UPF's answer waits for their storage.
    Report {
        report: SessionReportRequest,
        ack: Option<UsageAck>,
    },
    /// A timer of the session expired.
    Timeout(SessionTimer),
    /// The UPF lost the N4 session (`restarted`) or may have (association lost).
    N4Lost { restarted: bool },
    /// The association with the UPF is up: re-establish the lost N4 session under
    /// the new CP SEID `seid` (TS 23.527 §4.3.2).
    Restore { seid: Seid, restarted: bool },
}

/// What a PDU session asks the SMF to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// A request to the AMF: N1N2MessageTransfer, Activation, SmContextReleased.
    Amf(AmfRequest),
    /// A PFCP session request to `upf`; its answer comes back as
    /// [`SessionEvent::N4Established`], [`SessionEvent::N4Modified`] or
    /// [`SessionEvent::N4Failed`] with `seid` and `request`.
    N4 {
        upf: UpfId,
        seid: Seid,
        request: N4Request,
        pdu: Box<Pdu>,
    },
    /// Delete an N4 session at `upf`. Its final usage reports are recorded under
    /// `identity`, by the SMF: the PDU session may be gone by the time they come.
    DeleteN4 {
        upf: UpfId,
        up_seid: u64,
        identity: UsageIdentity,
    },
    /// Reports for this CP SEID no longer reach the session.
    SeidReleased(Seid),
    /// The N4 session is lost: re-establish it now ([`SessionEvent::Restore`]) if the
    /// UPF's association is up, else when it comes back.
    Restore,
    /// Start (or restart) a timer of the session.
    StartTimer { timer: SessionTimer, at: Instant },
    /// Stop a timer of the session.
    StopTimer(SessionTimer),
    /// Usage records for the sink; with `ack`, the UPF's Session Report waits for
    /// them to be stored.
    Usage {
        records: Vec<UsageRecord>,
        ack: Option<UsageAck>,
    },
    /// Give the UE's address back to the DNN's pool.
    ReleaseAddress { dnn: String, ue_ipv4: Ipv4Addr },
    /// The session is over: the SMF forgets it, its timers and its SEID.
    Closed,
    /// For metrics and logs.
    Event(Event),
}

/// The effects of one call, in order.
#[derive(Debug, Default)]
pub(crate) struct Effects(Vec<Effect>);

impl Effects {
    pub(crate) fn push(&mut self, effect: Effect) {
        self.0.push(effect);
    }

    fn amf(&mut self, request: AmfRequest) {
        self.push(Effect::Amf(request));
    }

    fn event(&mut self, event: Event) {
        self.push(Effect::Event(event));
    }

    /// Take the effects out, in order.
    pub(crate) fn take(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.0)
    }
}

/// The 5GSM timers of a session (TS 24.501 Table 10.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum SessionTimer {
    /// PDU SESSION MODIFICATION COMMAND sent (TS 24.501 §6.3.2.5).
    T3591,
    /// PDU SESSION RELEASE COMMAND sent (TS 24.501 §6.3.3.5).
    T3592,
}

impl SessionTimer {
    /// Every timer a session may run.
    pub(crate) const ALL: [SessionTimer; 2] = [SessionTimer::T3591, SessionTimer::T3592];
}

/// What a PFCP session request of a PDU session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum N4Request {
    /// Session Establishment (first, or to restore a lost session).
    Establish,
    /// Session Modification.
    Modify(Change),
}

/// What a Session Modification changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// The downlink FAR forwards to the gNB's tunnel.
    ForwardDownlink,
    /// The downlink FAR buffers and notifies.
    BufferDownlink,
    /// A new session AMBR in the QER.
    Ambr,
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

impl PduSession {
    /// Take one event.
    pub(crate) fn handle(&mut self, now: Instant, event: SessionEvent, fx: &mut Effects) {
        match event {
            SessionEvent::Update { n1, n2, up_cnx_state } => self.update(now, n1, n2, up_cnx_state, fx),
            SessionEvent::ReleaseSmContext => self.close("local", true, fx),
            SessionEvent::Replaced => self.close("local", false, fx),
            SessionEvent::N4Established { seid, response } => self.n4_established(now, seid, response, fx),
            SessionEvent::N4Modified { seid, change, response } => self.n4_modified(seid, change, response, fx),
            SessionEvent::N4Failed {
                seid,
                request: N4Request::Establish,
                cause,
            } => self.n4_establishment_failed(now, seid, cause, fx),
            SessionEvent::N4Failed {
                seid,
                request: N4Request::Modify(change),
                cause,
            } => self.n4_modification_failed(seid, change, cause, fx),
            SessionEvent::Report { report, ack } => self.report(report, ack, fx),
            SessionEvent::Timeout(SessionTimer::T3591) => self.t3591_expired(now, fx),
            SessionEvent::Timeout(SessionTimer::T3592) => self.t3592_expired(now, fx),
            SessionEvent::N4Lost { restarted } => self.n4_lost(restarted),
            SessionEvent::Restore { seid, restarted } => self.restore(seid, restarted, fx),
        }
    }

    /// Network-requested release (TS 23.502 §4.3.4.2, e.g. an operator or billing
    /// decision), with the 5GSM `cause` of the Release Command.
    pub(crate) fn release(&mut self, now: Instant, cause: SmCause, fx: &mut Effects) -> Result<(), ApiError> {
        match self.procedure {
            Procedure::Releasing { .. } => Err(ApiError::Busy),
            // Not known to the UE yet: a local release, and the UE hears a reject.
            Procedure::Establishing { .. } => {
                self.reject_establishing(crate::error::SessionError::UpfUnreachable, fx);
                Ok(())
            }
            Procedure::Idle | Procedure::Modifying { .. } => {
                self.start_release(now, 0, cause, fx);
                Ok(())
            }
        }
    }

    /// Network-requested modification of the session AMBR (TS 23.502 §4.3.3.2).
    pub(crate) fn modify_ambr(&mut self, now: Instant, ambr: Ambr, fx: &mut Effects) -> Result<(), ApiError> {
        if self.procedure != Procedure::Idle {
            return Err(ApiError::Busy);
        }
        self.start_network_modification(now, ambr, fx);
        Ok(())
    }

    // ------------------------------------------------------------ what the SMF reads

    /// The SM context.
    pub(crate) fn context(&self) -> &SmContextRef {
        &self.ctx
    }

    /// The CP SEID of the current N4 session.
    pub(crate) fn seid(&self) -> Seid {
        self.seid
    }

    /// The UPF.
    pub(crate) fn upf(&self) -> UpfId {
        self.upf
    }

    /// The UPF's SEID, when it holds the session.
    pub(crate) fn up_seid(&self) -> Option<u64> {
        match self.n4 {
            N4::Established { up_seid, .. } => Some(up_seid),
            _ => None,
        }
    }

    /// Whether the N4 session is lost and waits to be restored.
    pub(crate) fn n4_is_lost(&self) -> bool {
        matches!(self.n4, N4::Lost { .. })
    }

    /// Whether a Session Establishment Response under `seid` is the one awaited.
    pub(crate) fn awaits_establishment(&self, seid: Seid) -> bool {
        self.seid == seid && matches!(self.n4, N4::Establishing | N4::Reestablishing)
    }

    /// The PTI of a UE-requested procedure in progress (0 is network-requested).
    pub(crate) fn pti_in_use(&self) -> Option<u8> {
        match &self.procedure {
            Procedure::Establishing { pti, .. }
            | Procedure::Modifying { pti, .. }
            | Procedure::Releasing { pti, .. } => (*pti != 0).then_some(*pti),
            Procedure::Idle => None,
        }
    }

    /// Whose an N4 session under `seid` is, for its usage records.
    pub(crate) fn identity(&self, seid: Seid) -> UsageIdentity {
        UsageIdentity {
            supi: self.ctx.supi.clone(),
            pdu_session_id: self.ctx.pdu_session_id,
            dnn: self.dnn.clone(),
            sst: self.s_nssai.sst,
            sd: self.s_nssai.sd,
            ue_ipv4: self.ue_ipv4,
            upf: self.upf_addr.to_string(),
            seid: seid.0,
        }
    }

    /// As the operator sees it.
    pub(crate) fn summary(&self) -> SessionSummary {
        SessionSummary {
            supi: self.ctx.supi.clone(),
            pdu_session_id: self.ctx.pdu_session_id,
            dnn: self.dnn.clone(),
            ue_ipv4: self.ue_ipv4,
            upf: self.upf_addr,
            seid: self.seid.0,
            state: self.state_name(),
        }
    }

    fn state_name(&self) -> &'static str {
        match (&self.procedure, &self.n4, &self.up) {
            (Procedure::Establishing { .. }, _, _) => "establishing",
            (Procedure::Releasing { .. }, _, _) => "releasing",
            (_, N4::Lost { .. } | N4::Reestablishing, _) => "restoring",
            (Procedure::Modifying { .. }, _, _) => "modifying",
            (_, _, UserPlane::Active { .. }) => "active",
            (_, _, UserPlane::Awaiting { .. }) => "activating",
            (_, _, UserPlane::Deactivated { .. }) => "inactive",
        }
    }

    // ------------------------------------------------------------ helpers

    /// The UPF's N3 tunnel, when it holds the session.
    fn ul(&self) -> Option<Tunnel> {
        match self.n4 {
            N4::Established { ul, .. } => Some(ul),
            _ => None,
        }
    }

    fn header(&self, pti: u8) -> SmHeader {
        SmHeader {
            pdu_session_id: self.ctx.pdu_session_id,
            pti,
        }
    }

    /// N1 and/or N2 to the UE and its gNB (Namf_Communication_N1N2MessageTransfer).
    fn n1n2(&self, n1: Option<Vec<u8>>, n2: Option<N2SmInfo>, fx: &mut Effects) {
        fx.amf(n1n2(&self.ctx, Some(self.s_nssai), n1, n2));
    }

    /// PDU Session Resource Setup Request Transfer with the UPF's tunnel.
    fn setup_transfer(&self, ul: Tunnel) -> Option<N2SmInfo> {
        let q = &self.config.qos;
        match messages::setup_request_transfer(ul, self.ambr, q.five_qi, q.arp_priority_level) {
            Ok(transfer) => Some(N2SmInfo {
                kind: N2SmInfoType::PduResSetupReq,
                transfer,
            }),
            Err(e) => {
                tracing::error!("PDU Session Resource Setup Request Transfer does not encode: {e}");
                None
            }
        }
    }

    /// A Session Modification Request, when the UPF holds the session.
    fn modify_n4(&self, request: hexcore_pfcp::SessionModificationRequest, change: Change, fx: &mut Effects) {
        let Some(up_seid) = self.up_seid() else { return };
        fx.push(Effect::N4 {
            upf: self.upf,
            seid: self.seid,
            request: N4Request::Modify(change),
            pdu: Box::new(Pdu::session(up_seid, request)),
        });
    }

    /// Usage records of the N4 session under `seid`.
    fn usage(&self, seid: Seid, reports: &[hexcore_pfcp::ie::UsageReport], ack: Option<UsageAck>, fx: &mut Effects) {
        if reports.is_empty() {
            return;
        }
        let identity = self.identity(seid);
        fx.push(Effect::Usage {
            records: reports.iter().map(|r| identity.record(r)).collect(),
            ack,
        });
    }
}

/// An N1N2MessageTransfer of `ctx`.
fn n1n2(ctx: &SmContextRef, s_nssai: Option<Snssai>, n1: Option<Vec<u8>>, n2: Option<N2SmInfo>) -> AmfRequest {
    AmfRequest::N1N2MessageTransfer {
        context: ctx.clone(),
        s_nssai,
        n1_sm: n1,
        n2_sm: n2,
    }
}

/// The 5GSM header of raw octets: EPD 0x2E, PSI, PTI, message type (TS 24.501 §9).
fn raw_sm_header(n1: &[u8]) -> Option<(SmHeader, u8)> {
    match n1 {
        [0x2e, psi, pti, mt, ..] => Some((
            SmHeader {
                pdu_session_id: *psi,
                pti: *pti,
            },
            *mt,
        )),
        _ => None,
    }
}
