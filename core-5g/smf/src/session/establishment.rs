//! UE-requested PDU session establishment (TS 23.502 §4.3.2.2.1) and the restoration
//! of N4 sessions a UPF lost (TS 23.527 §4.3.2).
//!
//! Before there is a session: [`EstablishmentRequest::parse`] checks the 5GSM message
//! of a CreateSMContext (step 3), and [`EstablishmentRequest::authorize`] checks it
//! against the subscription and the served DNNs (step 4). The SMF then selects the UPF
//! and allocates the address and the CP SEID (steps 8–9) and [`PduSession::establish`]
//! sends the N4 Session Establishment Request (step 10); the N4 answer brings the
//! Accept (step 11).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hexcore_nas::ie::{ExtendedPco, PduSessionType, SscMode};
use hexcore_nas::sm::SmHeader;
use hexcore_nas::{Message, SmCause};
use hexcore_pfcp::ie::PdrId;
use hexcore_pfcp::{Cause, Pdu, SessionEstablishmentResponse};
use hexcore_sbi::{AmfRequest, N2SmInfo, N2SmInfoType, RequestType, SmContextRef, Snssai};

use super::{Effect, Effects, N4, N4Request, PduSession, Procedure, UserPlane, n1n2, raw_sm_header};
use crate::error::SessionError;
use crate::ids::{Seid, UpfId};
use crate::messages::{self, AcceptParams, SessionRules, Tunnel};
use crate::settings::{Dnn, SessionConfig};
use crate::subscription::{Ambr, Subscription, SubscriptionFailure};
use crate::telemetry::Event;

/// PDU SESSION ESTABLISHMENT REQUEST message type (TS 24.501 Table 9.7.2).
const ESTABLISHMENT_REQUEST: u8 = 0xC1;

/// What a UE-requested establishment asks for, checked; kept while the SMF fetches
/// the subscription data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EstablishmentRequest {
    /// PDU session identity and PTI.
    pub(crate) header: SmHeader,
    /// The DNN the AMF passed on (the UE's, if it named one).
    pub(crate) dnn: Option<String>,
    /// The S-NSSAI the AMF passed on.
    pub(crate) s_nssai: Option<Snssai>,
    /// The UE asked for IPv4v6 and gets IPv4 (TS 24.501 §6.4.1.2).
    pub(crate) ipv4_only: bool,
    /// The UE's extended PCO.
    pub(crate) pco: Option<ExtendedPco>,
}

/// Why a CreateSMContext makes no session, and what the UE hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not even a 5GSM header: nothing the UE could be answered with.
    NoSmHeader,
    /// Not an establishment request (or one of another type that does not decode):
    /// a 5GSM STATUS.
    Status { header: SmHeader, cause: SmCause },
    /// A PDU SESSION ESTABLISHMENT REJECT.
    Reject { header: SmHeader, error: SessionError },
}

/// What the subscription and the SMF's DNNs grant an establishment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The S-NSSAI (the requested one, or the first subscribed).
    pub(crate) s_nssai: Snssai,
    /// The served DNN (the requested one, or the default).
    pub(crate) dnn: Dnn,
    /// The subscribed session AMBR.
    pub(crate) ambr: Ambr,
}

/// What the SMF gives a new PDU session: a UPF, an address, a CP SEID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resources {
    /// The UPF.
    pub(crate) upf: UpfId,
    /// Its N4 address.
    pub(crate) upf_addr: SocketAddr,
    /// The UE's address, from the DNN's pool.
    pub(crate) ue_ipv4: std::net::Ipv4Addr,
    /// The CP SEID of the N4 session.
    pub(crate) seid: Seid,
}

impl EstablishmentRequest {
    /// Check the 5GSM message of a CreateSMContext (TS 24.501 §6.4.1.2, §6.4.1.4.2, §7).
    pub(crate) fn parse(
        ctx: &SmContextRef,
        dnn: Option<String>,
        s_nssai: Option<Snssai>,
        request_type: RequestType,
        n1: &[u8],
    ) -> Result<EstablishmentRequest, Refusal> {
        let (header, mt) = raw_sm_header(n1).ok_or(Refusal::NoSmHeader)?;
        let req = match Message::decode(n1) {
            Ok(Message::PduSessionEstablishmentRequest(req)) => req,
            // TS 24.501 §7.4: a message not compatible with the protocol state.
            Ok(_) => {
                return Err(Refusal::Status {
                    header,
                    cause: SmCause::MessageTypeNotCompatibleWithTheProtocolState,
                });
            }
            Err(e) if mt == ESTABLISHMENT_REQUEST => {
                return Err(Refusal::Reject {
                    header,
                    error: SessionError::Malformed(e),
                });
            }
            Err(e) => {
                return Err(Refusal::Status {
                    header,
                    cause: e.sm_cause(),
                });
            }
        };
        let header = req.header;
        let reject = |error| Refusal::Reject { header, error };
        // TS 24.501 §6.4.1.4.2: the PDU session identity must be a valid one and the
        // one the AMF routed by.
        if !(1..=15).contains(&header.pdu_session_id) || header.pdu_session_id != ctx.pdu_session_id {
            return Err(reject(SessionError::InvalidPduSessionIdentity(header.pdu_session_id)));
        }
        // TS 24.501 §7.3.1: an unassigned or reserved PTI.
        if header.pti == 0 || header.pti == 0xFF {
            return Err(reject(SessionError::InvalidPti(header.pti)));
        }
        match request_type {
            RequestType::InitialRequest => {}
            RequestType::ExistingPduSession => return Err(reject(SessionError::RequestType("existing PDU session"))),
            RequestType::InitialEmergencyRequest | RequestType::ExistingEmergencyPduSession => {
                return Err(reject(SessionError::RequestType("emergency")));
            }
            RequestType::ModificationRequest | RequestType::MaPduRequest | RequestType::Other(_) => {
                return Err(reject(SessionError::RequestType("other")));
            }
        }
        // TS 24.501 §6.4.1.2: IPv4 when absent; IPv4v6 gets IPv4 (#50 in the Accept).
        let ipv4_only = match req.pdu_session_type {
            None | Some(PduSessionType::Ipv4) => false,
            Some(PduSessionType::Ipv4v6) => true,
            Some(t) => return Err(reject(SessionError::PduSessionType(u8::from(t)))),
        };
        match req.ssc_mode {
            None | Some(SscMode::Mode1) => {}
            Some(m) => return Err(reject(SessionError::SscMode(u8::from(m)))),
        }
        Ok(EstablishmentRequest {
            header,
            dnn,
            s_nssai,
            ipv4_only,
            pco: req.extended_pco,
        })
    }

    /// S-NSSAI and DNN against the subscription and the SMF's DNNs (TS 23.502
    /// §4.3.2.2.1 step 4). `default_dnn` serves a request that names none.
    pub(crate) fn authorize(
        &self,
        subscription: &Result<Subscription, SubscriptionFailure>,
        dnns: &[Dnn],
        default_dnn: Option<&str>,
    ) -> Result<Grant, SessionError> {
        let sub = match subscription {
            Ok(s) => s,
            Err(SubscriptionFailure::UnknownSubscriber) => return Err(SessionError::UnknownSubscriber),
            Err(SubscriptionFailure::Unavailable) => return Err(SessionError::SubscriptionUnavailable),
        };
        let s_nssai = match self.s_nssai {
            Some(s) if sub.nssai.contains(&s) => s,
            Some(_) => return Err(SessionError::NotSubscribed("S-NSSAI")),
            None => *sub.nssai.first().ok_or(SessionError::NotSubscribed("S-NSSAI"))?,
        };
        let subscribed = |d: &str| sub.dnns.iter().any(|x| x.eq_ignore_ascii_case(d));
        let dnn = match &self.dnn {
            Some(d) if !d.is_empty() => d.to_ascii_lowercase(),
            // TS 23.502 §4.3.2.2.1 step 3: no DNN → the subscription's default.
            _ => match default_dnn {
                Some(default) if subscribed(default) => default.to_owned(),
                _ => return Err(SessionError::MissingDnn),
            },
        };
        let served = dnns
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(&dnn))
            .ok_or_else(|| SessionError::UnknownDnn(dnn.clone()))?;
        if !served.slices.is_empty() && !served.slices.contains(&s_nssai) {
            return Err(SessionError::DnnNotInSlice(dnn));
        }
        if !subscribed(&dnn) {
            return Err(SessionError::NotSubscribed("DNN"));
        }
        Ok(Grant {
            s_nssai,
            dnn: served.clone(),
            ambr: sub.ambr,
        })
    }
}

impl Refusal {
    /// Answer the CreateSMContext of `ctx`: the UE hears why (when it can), then the SM
    /// context is gone.
    pub(crate) fn answer(self, ctx: &SmContextRef, s_nssai: Option<Snssai>, fx: &mut Effects) {
        let released = AmfRequest::SmContextReleased { context: ctx.clone() };
        match self {
            Refusal::NoSmHeader => {
                fx.event(Event::Warning(format!(
                    "CreateSmContext for {}/{} without a 5GSM message",
                    ctx.supi, ctx.pdu_session_id
                )));
                fx.amf(released);
            }
            Refusal::Status { header, cause } => {
                fx.amf(n1n2(ctx, s_nssai, Some(messages::sm_status(header, cause)), None));
                fx.amf(released);
            }
            Refusal::Reject { header, error } => {
                let cause = error.sm_cause();
                tracing::info!(
                    supi = ctx.supi,
                    psi = ctx.pdu_session_id,
                    "PDU session establishment rejected: {error}"
                );
                let reject = messages::establishment_reject(header, cause);
                fx.amf(n1n2(ctx, s_nssai, Some(reject), None));
                fx.amf(released);
                fx.event(Event::EstablishmentRejected {
                    supi: ctx.supi.clone(),
                    pdu_session_id: ctx.pdu_session_id,
                    cause: cause.value(),
                    reason: error.label(),
                });
            }
        }
    }
}

impl PduSession {
    /// A session for an authorized request with the resources the SMF allocated: the
    /// N4 Session Establishment Request goes out (TS 23.502 §4.3.2.2.1 step 10).
    pub(crate) fn establish(
        ctx: SmContextRef,
        request: &EstablishmentRequest,
        grant: Grant,
        at: Resources,
        config: Arc<SessionConfig>,
        fx: &mut Effects,
    ) -> PduSession {
        let pco = request
            .pco
            .as_ref()
            .and_then(|req| messages::pco_answer(req, &grant.dnn.dns_v4, &grant.dnn.dns_v6, config.qos.mtu));
        let session = PduSession {
            ctx,
            config,
            s_nssai: grant.s_nssai,
            dnn: grant.dnn.name,
            ue_ipv4: at.ue_ipv4,
            ambr: grant.ambr,
            upf: at.upf,
            upf_addr: at.upf_addr,
            seid: at.seid,
            n4: N4::Establishing,
            up: UserPlane::Awaiting { first: true },
            procedure: Procedure::Establishing {
                pti: request.header.pti,
                ipv4_only: request.ipv4_only,
                pco,
            },
            announced_ul: None,
        };
        session.send_establishment(fx);
        session
    }

    fn send_establishment(&self, fx: &mut Effects) {
        let rules = SessionRules {
            ue_ipv4: self.ue_ipv4,
            dnn: self.dnn.clone(),
            ambr: self.ambr,
            an_tunnel: match self.up {
                UserPlane::Active { dl } => Some(dl),
                _ => None,
            },
            urr: self.config.urr,
        };
        let req = messages::establishment_request(self.config.node, self.seid.0, &rules);
        fx.push(Effect::N4 {
            upf: self.upf,
            seid: self.seid,
            request: N4Request::Establish,
            // TS 29.244 §7.2.2.4.2: SEID 0 in the header of an establishment request.
            pdu: Box::new(Pdu::session(0, req)),
        });
    }

    /// A Session Establishment Response (the SMF routes here only the awaited one).
    pub(super) fn n4_established(
        &mut self,
        now: Instant,
        seid: Seid,
        rsp: SessionEstablishmentResponse,
        fx: &mut Effects,
    ) {
        if !self.awaits_establishment(seid) {
            return;
        }
        if !rsp.cause.is_accepted() {
            return self.n4_establishment_failed_because(now, Some(rsp.cause), fx);
        }
        let ul = rsp
            .created_pdrs
            .iter()
            .find(|p| p.pdr_id == PdrId(messages::UL_PDR.0))
            .and_then(|p| p.local_fteid.as_ref())
            .and_then(Tunnel::from_fteid);
        let (Some(f), Some(ul)) = (rsp.up_fseid, ul) else {
            fx.event(Event::Warning(
                "Session Establishment Response without UP F-SEID or UL F-TEID".into(),
            ));
            if let Some(f) = rsp.up_fseid {
                fx.push(Effect::DeleteN4 {
                    upf: self.upf,
                    up_seid: f.seid,
                    identity: self.identity(seid),
                });
            }
            return self.n4_establishment_failed_because(now, Some(Cause::ConditionalIeMissing), fx);
        };
        self.n4 = N4::Established { up_seid: f.seid, ul };
        match std::mem::replace(&mut self.procedure, Procedure::Idle) {
            Procedure::Establishing { pti, ipv4_only, pco } => {
                let accept = messages::establishment_accept(&AcceptParams {
                    header: self.header(pti),
                    ue_ipv4: self.ue_ipv4,
                    ambr: self.ambr,
                    s_nssai: (self.s_nssai.sst, self.s_nssai.sd),
                    dnn: self.dnn.clone(),
                    five_qi: self.config.qos.five_qi,
                    ipv4_only,
                    pco,
                });
                self.announced_ul = Some(ul);
                // TS 23.502 §4.3.2.2.1 step 11: N1 (Accept) and N2 (setup transfer).
                self.n1n2(Some(accept), self.setup_transfer(ul), fx);
                fx.event(Event::SessionEstablished {
                    supi: self.ctx.supi.clone(),
                    pdu_session_id: self.ctx.pdu_session_id,
                    dnn: self.dnn.clone(),
                    ue_ipv4: self.ue_ipv4,
                });
            }
            other => {
                // A restored session (TS 23.527 §4.3.2).
                self.procedure = other;
                fx.event(Event::SessionRestored {
                    supi: self.ctx.supi.clone(),
                    pdu_session_id: self.ctx.pdu_session_id,
                });
                if let UserPlane::Active { dl } = self.up
                    && self.announced_ul != Some(ul)
                {
                    self.push_new_ul_tunnel(ul, dl, fx);
                }
            }
        }
    }

    /// Tell the gNB the UPF's new N3 tunnel of a session whose user plane is up
    /// (PDU Session Resource Modify Request, TS 38.413 §8.2.3, UL NG-U UP TNL Modify
    /// List).
    ///
    /// Why push rather than release the user plane: after a UPF restart the gNB still
    /// sends uplink G-PDUs to the old TEID, which the new UPF answers with Error
    /// Indications. TS 23.527 §4.3.2 lets the SMF restore the PFCP sessions; the
    /// N11 interface here has no way for the SMF to ask the AMF for an AN release,
    /// and a UE in CM-CONNECTED would not send a Service Request to recover by itself.
    /// Updating the UL tunnel in place keeps the UE's PDU session and its address and
    /// costs one N2 message; an idle UE needs nothing, its next activation carries
    /// the new tunnel.
    pub(super) fn push_new_ul_tunnel(&mut self, ul: Tunnel, dl: Tunnel, fx: &mut Effects) {
        self.announced_ul = Some(ul);
        match messages::modify_request_transfer(None, Some((ul, dl))) {
            Ok(transfer) => self.n1n2(
                None,
                Some(N2SmInfo {
                    kind: N2SmInfoType::PduResModReq,
                    transfer,
                }),
                fx,
            ),
            Err(e) => tracing::error!("Modify Request Transfer does not encode: {e}"),
        }
    }

    /// A Session Establishment Request under `seid` got no usable answer.
    pub(super) fn n4_establishment_failed(&mut self, now: Instant, seid: Seid, cause: Option<Cause>, fx: &mut Effects) {
        if self.seid != seid {
            return;
        }
        self.n4_establishment_failed_because(now, cause, fx);
    }

    fn n4_establishment_failed_because(&mut self, now: Instant, cause: Option<Cause>, fx: &mut Effects) {
        let error = match cause {
            Some(c) => SessionError::UpfRejected(c),
            None => SessionError::UpfUnreachable,
        };
        match (&self.procedure, cause) {
            (Procedure::Establishing { .. }, _) => self.reject_establishing(error, fx),
            // Restoration timed out: the association decides what comes next.
            (_, None) => self.n4 = N4::Lost { stale: None },
            // The UPF refuses the restored session: the PDU session cannot go on.
            (procedure, Some(_)) => {
                let releasing = matches!(procedure, Procedure::Releasing { .. });
                self.n4 = N4::Released;
                if !releasing {
                    self.start_release(now, 0, SmCause::InsufficientResources, fx);
                }
            }
        }
    }

    /// Undo an establishment the UE has not heard of: free everything, Reject.
    pub(super) fn reject_establishing(&mut self, error: SessionError, fx: &mut Effects) {
        let Procedure::Establishing { pti, .. } = self.procedure else {
            return;
        };
        let header = self.header(pti);
        self.forget(fx);
        Refusal::Reject { header, error }.answer(&self.ctx, Some(self.s_nssai), fx);
    }

    // ------------------------------------------------------------ restoration

    /// The UPF lost the session (restart) or may have (association lost).
    pub(super) fn n4_lost(&mut self, restarted: bool) {
        self.n4 = match &self.n4 {
            N4::Established { up_seid, .. } => N4::Lost {
                stale: (!restarted).then_some(*up_seid),
            },
            N4::Lost { stale } => N4::Lost {
                stale: if restarted { None } else { *stale },
            },
            N4::Reestablishing => N4::Lost { stale: None },
            other => other.clone(),
        };
    }

    /// Re-establish a lost session under a new CP SEID (TS 23.527 §4.3.2: same UE
    /// address, new SEIDs, new F-TEIDs).
    pub(super) fn restore(&mut self, seid: Seid, restarted: bool, fx: &mut Effects) {
        let N4::Lost { stale } = self.n4 else { return };
        let old = self.seid;
        if let (Some(up_seid), false) = (stale, restarted) {
            // The UPF may still hold the old session: delete it first (its final usage
            // is recorded), so that two sessions never claim the UE's address.
            fx.push(Effect::DeleteN4 {
                upf: self.upf,
                up_seid,
                identity: self.identity(old),
            });
        }
        fx.push(Effect::SeidReleased(old));
        self.seid = seid;
        self.n4 = N4::Reestablishing;
        self.send_establishment(fx);
    }
}
