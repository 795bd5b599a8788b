//! One PDU session: its fixed data, and three small state machines that move
//! independently — the N4 session at the UPF ([`N4`]), the user plane at the gNB
//! ([`UserPlane`]) and the 5GSM procedure in progress ([`Procedure`]) — each variant
//! carrying only the data valid in it. The procedures (TS 23.502 §4.3.2.2.1
//! establishment, §4.3.3 modification, §4.3.4 release, §4.2.6 AN release, §4.2.3
//! service request and downlink data) are `impl Smf` blocks below, driven by
//! [`crate::Smf::handle`].

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use hexcore_nas::ie::{ExtendedPco, PduSessionType, SscMode};
use hexcore_nas::sm::SmHeader;
use hexcore_nas::{Message, SmCause};
use hexcore_ngap::procedures::PduSessionResourceSetupResponseTransfer;
use hexcore_ngap::{Cause as NgapCause, CauseNas};
use hexcore_pfcp::ie::{PdrId, ReportType};
use hexcore_pfcp::{
    Cause, Header, Pdu, SessionDeletionRequest, SessionEstablishmentResponse, SessionModificationResponse,
    SessionReportRequest, SessionReportResponse,
};
use hexcore_sbi::{AmfRequest, N2SmInfo, N2SmInfoType, RequestType, SmContextRef, Snssai, UpCnxState};

use crate::error::SessionError;
use crate::messages::{self, AcceptParams, SessionRules, Tunnel};
use crate::smf::{
    Change, Event, Output, PendingEstablishment, PendingReport, Purpose, Retired, Seid, Smf, Timer, UpfId,
};
use crate::subscription::{Ambr, Subscription, SubscriptionAnswer, SubscriptionFailure, SubscriptionRequest};
use crate::usage::{UsageIdentity, UsageRecord};

/// The N4 session at the UPF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum N4 {
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
pub(crate) enum UserPlane {
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
pub(crate) enum Procedure {
    /// Establishment: the Accept goes out once the N4 session is up.
    Establishing {
        pti: u8,
        /// The UE asked for IPv4v6 and gets IPv4 (cause #50 in the Accept).
        ipv4_only: bool,
        /// The extended PCO answer.
        pco: Option<ExtendedPco>,
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

/// A PDU session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) ctx: SmContextRef,
    pub(crate) s_nssai: Snssai,
    pub(crate) dnn: String,
    pub(crate) ue_ipv4: Ipv4Addr,
    pub(crate) ambr: Ambr,
    pub(crate) upf: UpfId,
    /// The CP SEID of the current N4 session.
    pub(crate) seid: Seid,
    pub(crate) n4: N4,
    pub(crate) up: UserPlane,
    pub(crate) procedure: Procedure,
    /// The UL tunnel the gNB was last told (setup or modify transfer): after a UPF
    /// restart the tunnel changes and the gNB must hear the new one.
    pub(crate) announced_ul: Option<Tunnel>,
}

impl Session {
    pub(crate) fn state_name(&self) -> &'static str {
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

    /// The UPF's SEID, when it holds the session.
    fn up_seid(&self) -> Option<u64> {
        match self.n4 {
            N4::Established { up_seid, .. } => Some(up_seid),
            _ => None,
        }
    }

    fn ul(&self) -> Option<Tunnel> {
        match self.n4 {
            N4::Established { ul, .. } => Some(ul),
            _ => None,
        }
    }

    /// The PTI of a UE-requested procedure in progress (0 for network-requested).
    fn pti_in_use(&self) -> Option<u8> {
        match &self.procedure {
            Procedure::Establishing { pti, .. }
            | Procedure::Modifying { pti, .. }
            | Procedure::Releasing { pti, .. } => (*pti != 0).then_some(*pti),
            Procedure::Idle => None,
        }
    }

    fn header(&self, pti: u8) -> SmHeader {
        SmHeader {
            pdu_session_id: self.ctx.pdu_session_id,
            pti,
        }
    }
}

/// What a UE-requested establishment asked for, kept while the subscription is
/// fetched.
#[derive(Debug, Clone)]
pub(crate) struct EstablishmentRequest {
    pub(crate) ctx: SmContextRef,
    pub(crate) header: SmHeader,
    pub(crate) dnn: Option<String>,
    pub(crate) s_nssai: Option<Snssai>,
    pub(crate) ipv4_only: bool,
    pub(crate) pco: Option<ExtendedPco>,
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

/// PDU SESSION ESTABLISHMENT REQUEST message type (TS 24.501 Table 9.7.2).
const ESTABLISHMENT_REQUEST: u8 = 0xC1;

impl Smf {
    fn n1n2(&mut self, ctx: &SmContextRef, s_nssai: Option<Snssai>, n1: Option<Vec<u8>>, n2: Option<N2SmInfo>) {
        self.send_amf(AmfRequest::N1N2MessageTransfer {
            context: ctx.clone(),
            s_nssai,
            n1_sm: n1,
            n2_sm: n2,
        });
    }

    fn identity(&self, s: &Session, seid: Seid) -> UsageIdentity {
        UsageIdentity {
            supi: s.ctx.supi.clone(),
            pdu_session_id: s.ctx.pdu_session_id,
            dnn: s.dnn.clone(),
            sst: s.s_nssai.sst,
            sd: s.s_nssai.sd,
            ue_ipv4: s.ue_ipv4,
            upf: self.upfs.get(s.upf.0).map_or(String::new(), |u| u.addr.to_string()),
            seid: seid.0,
        }
    }

    /// Whose an N4 session is, also when the PDU session is gone already.
    fn orphan_identity(&self, ctx: &SmContextRef, seid: Seid, upf: UpfId) -> UsageIdentity {
        match self.sessions.get(ctx) {
            Some(s) => self.identity(s, seid),
            None => UsageIdentity {
                supi: ctx.supi.clone(),
                pdu_session_id: ctx.pdu_session_id,
                dnn: String::new(),
                sst: 0,
                sd: None,
                ue_ipv4: Ipv4Addr::UNSPECIFIED,
                upf: self.upfs.get(upf.0).map_or(String::new(), |u| u.addr.to_string()),
                seid: seid.0,
            },
        }
    }

    fn setup_transfer(&self, ul: Tunnel, ambr: Ambr) -> Option<N2SmInfo> {
        let q = &self.config.settings.smf.qos;
        match messages::setup_request_transfer(ul, ambr, q.five_qi, q.arp_priority_level) {
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

    // ------------------------------------------------------------ establishment

    /// Nsmf_PDUSession_CreateSMContext (TS 23.502 §4.3.2.2.1 step 3).
    pub(crate) fn create_sm_context(
        &mut self,
        now: Instant,
        ctx: SmContextRef,
        dnn: Option<String>,
        s_nssai: Option<Snssai>,
        request_type: RequestType,
        n1: &[u8],
    ) {
        let Some((header, mt)) = raw_sm_header(n1) else {
            // Not even a 5GSM header: nothing the UE could be answered with.
            self.event(Event::Warning(format!(
                "CreateSmContext for {}/{} without a 5GSM message",
                ctx.supi, ctx.pdu_session_id
            )));
            self.send_amf(AmfRequest::SmContextReleased { context: ctx });
            return;
        };
        let req = match Message::decode(n1) {
            Ok(Message::PduSessionEstablishmentRequest(req)) => req,
            Ok(other) => {
                // TS 24.501 §7.4: a message not compatible with the protocol state.
                let _ = other;
                self.n1n2(
                    &ctx,
                    s_nssai,
                    Some(messages::sm_status(
                        header,
                        SmCause::MessageTypeNotCompatibleWithTheProtocolState,
                    )),
                    None,
                );
                self.send_amf(AmfRequest::SmContextReleased { context: ctx });
                return;
            }
            Err(e) if mt == ESTABLISHMENT_REQUEST => {
                return self.reject(&ctx, header, s_nssai, SessionError::Malformed(e));
            }
            Err(e) => {
                self.n1n2(&ctx, s_nssai, Some(messages::sm_status(header, e.sm_cause())), None);
                self.send_amf(AmfRequest::SmContextReleased { context: ctx });
                return;
            }
        };
        let header = req.header;
        let check = || -> Result<(bool, Option<ExtendedPco>), SessionError> {
            // TS 24.501 §6.4.1.4.2: the PDU session identity must be a valid one and
            // the one the AMF routed by.
            if !(1..=15).contains(&header.pdu_session_id) || header.pdu_session_id != ctx.pdu_session_id {
                return Err(SessionError::InvalidPduSessionIdentity(header.pdu_session_id));
            }
            // TS 24.501 §7.3.1: an unassigned or reserved PTI.
            if header.pti == 0 || header.pti == 0xFF {
                return Err(SessionError::InvalidPti(header.pti));
            }
            match request_type {
                RequestType::InitialRequest => {}
                RequestType::ExistingPduSession => return Err(SessionError::RequestType("existing PDU session")),
                RequestType::InitialEmergencyRequest | RequestType::ExistingEmergencyPduSession => {
                    return Err(SessionError::RequestType("emergency"));
                }
                RequestType::ModificationRequest | RequestType::MaPduRequest | RequestType::Other(_) => {
                    return Err(SessionError::RequestType("other"));
                }
            }
            // TS 24.501 §6.4.1.2: IPv4 when absent; IPv4v6 gets IPv4 (#50 in the Accept).
            let ipv4_only = match req.pdu_session_type {
                None | Some(PduSessionType::Ipv4) => false,
                Some(PduSessionType::Ipv4v6) => true,
                Some(t) => return Err(SessionError::PduSessionType(u8::from(t))),
            };
            match req.ssc_mode {
                None | Some(SscMode::Mode1) => {}
                Some(m) => return Err(SessionError::SscMode(u8::from(m))),
            }
            Ok((ipv4_only, req.extended_pco.clone()))
        };
        let (ipv4_only, pco) = match check() {
            Ok(v) => v,
            Err(e) => return self.reject(&ctx, header, s_nssai, e),
        };
        let pti_taken =
            self.sessions
                .values()
                .filter(|s| s.ctx.supi == ctx.supi && s.ctx != ctx)
                .any(|s| s.pti_in_use() == Some(header.pti))
                || self.pending.values().any(|p| {
                    p.request.ctx.supi == ctx.supi && p.request.ctx != ctx && p.request.header.pti == header.pti
                });
        if pti_taken {
            return self.reject(&ctx, header, s_nssai, SessionError::PtiAlreadyInUse(header.pti));
        }
        // TS 24.501 §6.4.1.7 (and TS 29.502 §5.2.2.3.2.3): an establishment for a PDU
        // session ID in use releases the existing session locally first; the AMF
        // keeps the ID, so it is not told.
        if self.sessions.contains_key(&ctx) {
            self.drop_session(now, &ctx, "local", false);
        }
        let asked = self.pending.values().any(|p| p.request.ctx.supi == ctx.supi && p.asked);
        if !asked {
            self.emit(Output::Subscription(SubscriptionRequest { supi: ctx.supi.clone() }));
        }
        self.pending.insert(
            ctx.clone(),
            PendingEstablishment {
                request: EstablishmentRequest {
                    ctx,
                    header,
                    dnn,
                    s_nssai,
                    ipv4_only,
                    pco,
                },
                asked: true,
            },
        );
    }

    /// Reject an establishment: the Reject to the UE, then the SM context is gone.
    fn reject(&mut self, ctx: &SmContextRef, header: SmHeader, s_nssai: Option<Snssai>, e: SessionError) {
        let cause = e.sm_cause();
        tracing::info!(
            supi = ctx.supi,
            psi = ctx.pdu_session_id,
            "PDU session establishment rejected: {e}"
        );
        self.n1n2(ctx, s_nssai, Some(messages::establishment_reject(header, cause)), None);
        self.send_amf(AmfRequest::SmContextReleased { context: ctx.clone() });
        self.event(Event::EstablishmentRejected {
            supi: ctx.supi.clone(),
            pdu_session_id: ctx.pdu_session_id,
            cause: cause.value(),
            reason: e.label(),
        });
    }

    /// Subscription data arrived (TS 23.502 §4.3.2.2.1 step 4).
    pub(crate) fn handle_subscription(&mut self, now: Instant, answer: SubscriptionAnswer) {
        let waiting: Vec<SmContextRef> = self.pending.keys().filter(|c| c.supi == answer.supi).cloned().collect();
        for ctx in waiting {
            if let Some(p) = self.pending.remove(&ctx) {
                let r = p.request;
                match self.authorize(&r, &answer.result) {
                    Ok((s_nssai, dnn, ambr)) => self.establish(now, r, s_nssai, dnn, ambr),
                    Err(e) => self.reject(&r.ctx, r.header, r.s_nssai, e),
                }
            }
        }
    }

    /// S-NSSAI and DNN against the subscription and the SMF's DNNs.
    fn authorize(
        &self,
        r: &EstablishmentRequest,
        sub: &Result<Subscription, SubscriptionFailure>,
    ) -> Result<(Snssai, String, Ambr), SessionError> {
        let sub = match sub {
            Ok(s) => s,
            Err(SubscriptionFailure::UnknownSubscriber) => return Err(SessionError::UnknownSubscriber),
            Err(SubscriptionFailure::Unavailable) => return Err(SessionError::SubscriptionUnavailable),
        };
        let s_nssai = match r.s_nssai {
            Some(s) if sub.nssai.contains(&s) => s,
            Some(_) => return Err(SessionError::NotSubscribed("S-NSSAI")),
            None => *sub.nssai.first().ok_or(SessionError::NotSubscribed("S-NSSAI"))?,
        };
        let subscribed = |d: &str| sub.dnns.iter().any(|x| x.eq_ignore_ascii_case(d));
        let dnn = match &r.dnn {
            Some(d) if !d.is_empty() => d.to_ascii_lowercase(),
            // TS 23.502 §4.3.2.2.1 step 3: no DNN → the subscription's default.
            _ => {
                let default = &self.config.settings.smf.default_dnn;
                if default.is_empty() || !subscribed(default) {
                    return Err(SessionError::MissingDnn);
                }
                default.to_ascii_lowercase()
            }
        };
        let served = self
            .config
            .dnns
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(&dnn))
            .ok_or_else(|| SessionError::UnknownDnn(dnn.clone()))?;
        if !served.slices.is_empty() && !served.slices.contains(&(s_nssai.sst, s_nssai.sd)) {
            return Err(SessionError::DnnNotInSlice(dnn));
        }
        if !subscribed(&dnn) {
            return Err(SessionError::NotSubscribed("DNN"));
        }
        Ok((s_nssai, served.name.clone(), sub.ambr))
    }

    /// UPF selection, address, N4 session (TS 23.502 §4.3.2.2.1 steps 8–10).
    fn establish(&mut self, now: Instant, r: EstablishmentRequest, s_nssai: Snssai, dnn: String, ambr: Ambr) {
        // The first associated UPF serving the DNN.
        let Some(upf) = self.upfs.iter().position(|u| u.is_up() && u.serves(&dnn)).map(UpfId) else {
            return self.reject(&r.ctx, r.header, Some(s_nssai), SessionError::NoUpf(dnn));
        };
        let Some(ue_ipv4) = self.pools.get_mut(&dnn).and_then(|p| p.allocate()) else {
            return self.reject(&r.ctx, r.header, Some(s_nssai), SessionError::PoolExhausted(dnn));
        };
        let pco = r.pco.as_ref().and_then(|req| {
            let d = self.config.dnns.iter().find(|d| d.name == dnn)?;
            messages::pco_answer(req, &d.dns_v4, &d.dns_v6, self.config.settings.smf.qos.mtu)
        });
        let seid = self.allocate_seid();
        let session = Session {
            ctx: r.ctx.clone(),
            s_nssai,
            dnn,
            ue_ipv4,
            ambr,
            upf,
            seid,
            n4: N4::Establishing,
            up: UserPlane::Awaiting { first: true },
            procedure: Procedure::Establishing {
                pti: r.header.pti,
                ipv4_only: r.ipv4_only,
                pco,
            },
            announced_ul: None,
        };
        self.by_seid.insert(seid, r.ctx.clone());
        self.send_establishment(now, &session);
        self.sessions.insert(r.ctx, session);
    }

    fn send_establishment(&mut self, now: Instant, s: &Session) {
        let rules = SessionRules {
            ue_ipv4: s.ue_ipv4,
            dnn: s.dnn.clone(),
            ambr: s.ambr,
            an_tunnel: match s.up {
                UserPlane::Active { dl } => Some(dl),
                _ => None,
            },
            urr: self.config.urr,
        };
        let req = messages::establishment_request(self.config.node, s.seid.0, &rules);
        // §7.2.2.4.2: SEID 0 in the header of an establishment request.
        self.send_pfcp(
            now,
            s.upf,
            Pdu::session(0, req),
            Purpose::Establish {
                ctx: s.ctx.clone(),
                seid: s.seid,
                upf: s.upf,
            },
        );
    }

    /// A Session Establishment Response.
    pub(crate) fn n4_established(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        seid: Seid,
        upf: UpfId,
        rsp: SessionEstablishmentResponse,
    ) {
        let current = self
            .sessions
            .get(ctx)
            .is_some_and(|s| s.seid == seid && matches!(s.n4, N4::Establishing | N4::Reestablishing));
        if !current {
            // A session the SMF no longer wants (released meanwhile): delete it at
            // the UPF so that nothing leaks there.
            if rsp.cause.is_accepted()
                && let Some(f) = rsp.up_fseid
            {
                let identity = self.orphan_identity(ctx, seid, upf);
                self.delete_n4(now, upf, identity, f.seid);
            }
            return;
        }
        if !rsp.cause.is_accepted() {
            return self.n4_establishment_failed(now, ctx, seid, Some(rsp.cause));
        }
        let ul = rsp
            .created_pdrs
            .iter()
            .find(|p| p.pdr_id == PdrId(messages::UL_PDR.0))
            .and_then(|p| p.local_fteid.as_ref())
            .and_then(Tunnel::from_fteid);
        let (Some(f), Some(ul)) = (rsp.up_fseid, ul) else {
            self.event(Event::Warning(
                "Session Establishment Response without UP F-SEID or UL F-TEID".into(),
            ));
            if let Some(f) = rsp.up_fseid {
                let identity = self.orphan_identity(ctx, seid, upf);
                self.delete_n4(now, upf, identity, f.seid);
            }
            return self.n4_establishment_failed(now, ctx, seid, Some(Cause::ConditionalIeMissing));
        };
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        s.n4 = N4::Established { up_seid: f.seid, ul };
        match std::mem::replace(&mut s.procedure, Procedure::Idle) {
            Procedure::Establishing { pti, ipv4_only, pco } => {
                let params = AcceptParams {
                    header: s.header(pti),
                    ue_ipv4: s.ue_ipv4,
                    ambr: s.ambr,
                    s_nssai: (s.s_nssai.sst, s.s_nssai.sd),
                    dnn: s.dnn.clone(),
                    five_qi: self.config.settings.smf.qos.five_qi,
                    ipv4_only,
                    pco,
                };
                s.announced_ul = Some(ul);
                let (s_nssai, dnn, ue_ipv4, ambr) = (s.s_nssai, s.dnn.clone(), s.ue_ipv4, s.ambr);
                let n2 = self.setup_transfer(ul, ambr);
                // TS 23.502 §4.3.2.2.1 step 11: N1 (Accept) and N2 (setup transfer).
                self.n1n2(ctx, Some(s_nssai), Some(messages::establishment_accept(&params)), n2);
                self.event(Event::SessionEstablished {
                    supi: ctx.supi.clone(),
                    pdu_session_id: ctx.pdu_session_id,
                    dnn,
                    ue_ipv4,
                });
            }
            other => {
                // A restored session (TS 23.527 §4.3.2).
                s.procedure = other;
                let push = match s.up {
                    UserPlane::Active { dl } if s.announced_ul != Some(ul) => Some(dl),
                    _ => None,
                };
                self.event(Event::SessionRestored {
                    supi: ctx.supi.clone(),
                    pdu_session_id: ctx.pdu_session_id,
                });
                if let Some(dl) = push {
                    self.push_new_ul_tunnel(ctx, ul, dl);
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
    fn push_new_ul_tunnel(&mut self, ctx: &SmContextRef, ul: Tunnel, dl: Tunnel) {
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        s.announced_ul = Some(ul);
        let s_nssai = s.s_nssai;
        match messages::modify_request_transfer(None, Some((ul, dl))) {
            Ok(transfer) => self.n1n2(
                ctx,
                Some(s_nssai),
                None,
                Some(N2SmInfo {
                    kind: N2SmInfoType::PduResModReq,
                    transfer,
                }),
            ),
            Err(e) => tracing::error!("Modify Request Transfer does not encode: {e}"),
        }
    }

    pub(crate) fn n4_establishment_failed(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        seid: Seid,
        cause: Option<Cause>,
    ) {
        let Some(s) = self.sessions.get(ctx) else { return };
        if s.seid != seid {
            return;
        }
        let err = match cause {
            Some(c) => SessionError::UpfRejected(c),
            None => SessionError::UpfUnreachable,
        };
        match (&s.procedure, cause) {
            (Procedure::Establishing { .. }, _) => self.reject_establishing(now, ctx, err),
            // Restoration timed out: the association decides what comes next.
            (_, None) => {
                if let Some(s) = self.sessions.get_mut(ctx) {
                    s.n4 = N4::Lost { stale: None };
                }
            }
            // The UPF refuses the restored session: the PDU session cannot go on.
            (_, Some(_)) => {
                if let Some(s) = self.sessions.get_mut(ctx) {
                    s.n4 = N4::Released;
                }
                if !matches!(
                    self.sessions.get(ctx).map(|s| &s.procedure),
                    Some(Procedure::Releasing { .. })
                ) {
                    self.start_release(now, ctx, 0, SmCause::InsufficientResources);
                }
            }
        }
    }

    /// Undo an establishment the UE has not heard of: free everything, Reject.
    pub(crate) fn reject_establishing(&mut self, now: Instant, ctx: &SmContextRef, e: SessionError) {
        let Some(s) = self.sessions.get(ctx) else { return };
        let Procedure::Establishing { pti, .. } = s.procedure else {
            return;
        };
        let (header, s_nssai) = (s.header(pti), s.s_nssai);
        self.forget_session(now, ctx);
        self.reject(ctx, header, Some(s_nssai), e);
    }

    // ------------------------------------------------------------ update

    /// Nsmf_PDUSession_UpdateSMContext.
    pub(crate) fn update_sm_context(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        n1: Option<Vec<u8>>,
        n2: Option<N2SmInfo>,
        up_cnx_state: Option<UpCnxState>,
    ) {
        if !self.sessions.contains_key(ctx) {
            if self.pending.contains_key(ctx) {
                self.event(Event::Warning(format!(
                    "UpdateSmContext for {}/{} while its establishment waits for subscription data",
                    ctx.supi, ctx.pdu_session_id
                )));
                return;
            }
            return self.update_unknown(ctx, n1, up_cnx_state);
        }
        match up_cnx_state {
            Some(UpCnxState::Deactivated) => self.deactivate(now, ctx),
            Some(UpCnxState::Activating) => self.activate(ctx),
            Some(UpCnxState::Activated) | None => {}
        }
        if let Some(n2) = n2 {
            match n2.kind {
                N2SmInfoType::PduResSetupRsp => self.an_setup_response(now, ctx, &n2.transfer),
                N2SmInfoType::PduResSetupFail => self.an_setup_failure(now, ctx),
                N2SmInfoType::PduResModFail => {
                    self.event(Event::Procedure {
                        procedure: "an_modify",
                        outcome: "failed",
                    });
                }
                N2SmInfoType::PduResModRsp => {
                    self.event(Event::Procedure {
                        procedure: "an_modify",
                        outcome: "ok",
                    });
                }
                // The gNB's release response and notifications need no action here.
                _ => {}
            }
        }
        if let Some(n1) = n1 {
            self.ue_n1(now, ctx, &n1);
        }
    }

    /// An update for a session this SMF does not have: the UE hears #43 where it
    /// asked something, and the AMF forgets the session.
    fn update_unknown(&mut self, ctx: &SmContextRef, n1: Option<Vec<u8>>, up: Option<UpCnxState>) {
        if let Some((header, _)) = n1.as_deref().and_then(raw_sm_header) {
            let cause = SmCause::InvalidPduSessionIdentity;
            let answer = match Message::decode(n1.as_deref().unwrap_or(&[])) {
                Ok(Message::PduSessionReleaseRequest(_)) => Some(messages::release_reject(header, cause)),
                Ok(Message::PduSessionModificationRequest(_)) => Some(messages::modification_reject(header, cause)),
                Ok(Message::SmStatus(_)) => None,
                _ => Some(messages::sm_status(header, cause)),
            };
            if answer.is_some() {
                self.n1n2(ctx, None, answer, None);
            }
        }
        if up == Some(UpCnxState::Activating) {
            self.send_amf(AmfRequest::Activation {
                context: ctx.clone(),
                s_nssai: None,
                n2_sm: None,
            });
        }
        self.send_amf(AmfRequest::SmContextReleased { context: ctx.clone() });
    }

    /// AN release (TS 23.502 §4.2.6 step 6): the UPF buffers downlink data and tells
    /// the SMF of the first packet.
    fn deactivate(&mut self, now: Instant, ctx: &SmContextRef) {
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        if matches!(s.procedure, Procedure::Releasing { .. }) {
            return;
        }
        s.up = UserPlane::Deactivated { paged: false };
        if s.up_seid().is_some() {
            self.modify_n4(now, ctx, messages::buffer_downlink(), Change::BufferDownlink);
        }
    }

    /// Service Request (TS 23.502 §4.2.3.2 step 4–5): a fresh setup transfer with the
    /// same UPF tunnel.
    fn activate(&mut self, ctx: &SmContextRef) {
        let Some(s) = self.sessions.get(ctx) else { return };
        let n2 = match (s.ul(), &s.procedure) {
            (_, Procedure::Releasing { .. } | Procedure::Establishing { .. }) | (None, _) => None,
            (Some(ul), _) => self.setup_transfer(ul, s.ambr),
        };
        let s_nssai = s.s_nssai;
        if n2.is_some()
            && let Some(s) = self.sessions.get_mut(ctx)
        {
            s.up = UserPlane::Awaiting { first: false };
            s.announced_ul = s.ul();
        }
        self.event(Event::Procedure {
            procedure: "activation",
            outcome: if n2.is_some() { "ok" } else { "rejected" },
        });
        self.send_amf(AmfRequest::Activation {
            context: ctx.clone(),
            s_nssai: Some(s_nssai),
            n2_sm: n2,
        });
    }

    /// The gNB's tunnel (TS 23.502 §4.3.2.2.1 steps 14–16, §4.2.3.2 steps 12–13).
    fn an_setup_response(&mut self, now: Instant, ctx: &SmContextRef, transfer: &[u8]) {
        let dl = match PduSessionResourceSetupResponseTransfer::decode(transfer) {
            Ok(t) => match Tunnel::from_ngap(&t.dl_tunnel) {
                Some(dl) => dl,
                None => {
                    self.event(Event::Warning(
                        "setup response transfer with an odd transport address".into(),
                    ));
                    return;
                }
            },
            Err(e) => {
                self.event(Event::Warning(format!("setup response transfer does not decode: {e}")));
                return;
            }
        };
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        if matches!(s.procedure, Procedure::Releasing { .. }) {
            return;
        }
        s.up = UserPlane::Active { dl };
        let ul = s.ul();
        let stale_ul = ul.filter(|ul| s.announced_ul != Some(*ul));
        self.event(Event::Procedure {
            procedure: "an_setup",
            outcome: "ok",
        });
        if ul.is_some() {
            self.modify_n4(now, ctx, messages::forward_downlink(dl), Change::ForwardDownlink);
        }
        if let Some(ul) = stale_ul {
            // The UPF was restored while the gNB set up the old tunnel.
            self.push_new_ul_tunnel(ctx, ul, dl);
        }
    }

    /// The gNB could not set the session up.
    fn an_setup_failure(&mut self, now: Instant, ctx: &SmContextRef) {
        self.event(Event::Procedure {
            procedure: "an_setup",
            outcome: "failed",
        });
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        match s.up {
            // TS 23.502 §4.3.2.2.1 step 15: the AN refused the new session: release it.
            UserPlane::Awaiting { first: true } => self.drop_session(now, ctx, "an_failure", true),
            // A re-activation failed: the session stays, its user plane deactivated.
            _ => {
                s.up = UserPlane::Deactivated { paged: false };
            }
        }
    }

    // ------------------------------------------------------------ N1 from the UE

    fn ue_n1(&mut self, now: Instant, ctx: &SmContextRef, n1: &[u8]) {
        let Some((raw, _)) = raw_sm_header(n1) else {
            self.event(Event::Warning("UpdateSmContext with an N1 that is not 5GSM".into()));
            return;
        };
        let status = |cause| messages::sm_status(raw, cause);
        let s_nssai = self.sessions.get(ctx).map(|s| s.s_nssai);
        let m = match Message::decode(n1) {
            Ok(m) => m,
            Err(e) => {
                // TS 24.501 §7: the UE hears why.
                self.n1n2(ctx, s_nssai, Some(status(e.sm_cause())), None);
                return;
            }
        };
        if raw.pdu_session_id != ctx.pdu_session_id {
            self.n1n2(ctx, s_nssai, Some(status(SmCause::InvalidPduSessionIdentity)), None);
            return;
        }
        let Some(procedure) = self.sessions.get(ctx).map(|s| s.procedure.clone()) else {
            return;
        };
        match (m, procedure) {
            // TS 24.501 §6.4.3.5 c): a network release wins over the UE's request.
            (Message::PduSessionReleaseRequest(_), Procedure::Releasing { .. }) => {}
            (Message::PduSessionReleaseRequest(r), _) => {
                if r.header.pti == 0 || r.header.pti == 0xFF {
                    let reject = messages::release_reject(r.header, SmCause::InvalidPtiValue);
                    return self.n1n2(ctx, s_nssai, Some(reject), None);
                }
                self.start_release(now, ctx, r.header.pti, SmCause::RegularDeactivation);
            }
            (Message::PduSessionReleaseComplete(c), Procedure::Releasing { pti, .. }) => {
                if c.header.pti != pti {
                    return self.n1n2(ctx, s_nssai, Some(status(SmCause::PtiMismatch)), None);
                }
                self.event(Event::Procedure {
                    procedure: "release",
                    outcome: "ok",
                });
                let how = if pti == 0 { "network" } else { "ue" };
                self.drop_session(now, ctx, how, true);
            }
            (Message::PduSessionModificationRequest(r), Procedure::Idle) => {
                if r.header.pti == 0 || r.header.pti == 0xFF {
                    let reject = messages::modification_reject(r.header, SmCause::InvalidPtiValue);
                    return self.n1n2(ctx, s_nssai, Some(reject), None);
                }
                if r.requested_qos_rules.is_some() || r.requested_qos_flow_descriptions.is_some() {
                    // TS 24.501 §6.4.2.4: QoS beyond the default flow is not offered.
                    let reject = messages::modification_reject(r.header, SmCause::FiveGsQosNotAccepted);
                    self.event(Event::Procedure {
                        procedure: "ue_modification",
                        outcome: "rejected",
                    });
                    return self.n1n2(ctx, s_nssai, Some(reject), None);
                }
                // Nothing to change: the command confirms the session AMBR.
                let Some(s) = self.sessions.get(ctx) else { return };
                let command = messages::modification_command(r.header, s.ambr);
                self.send_modification_command(now, ctx, r.header.pti, command, None);
            }
            (Message::PduSessionModificationRequest(_), Procedure::Releasing { .. }) => {}
            (Message::PduSessionModificationComplete(c), Procedure::Modifying { pti, .. }) => {
                if c.header.pti != pti {
                    return self.n1n2(ctx, s_nssai, Some(status(SmCause::PtiMismatch)), None);
                }
                self.end_modification(ctx, "ok");
            }
            (Message::PduSessionModificationCommandReject(c), Procedure::Modifying { .. }) => {
                self.event(Event::Warning(format!(
                    "UE rejected the modification command: #{}",
                    c.cause.value()
                )));
                self.end_modification(ctx, "rejected");
            }
            (Message::SmStatus(st), procedure) => {
                tracing::info!(
                    supi = ctx.supi,
                    psi = ctx.pdu_session_id,
                    cause = st.cause.value(),
                    "5GSM STATUS"
                );
                match (st.cause, procedure) {
                    // TS 24.501 §6.5.3: #43 — the UE has no such session.
                    (SmCause::InvalidPduSessionIdentity, _) => self.drop_session(now, ctx, "local", true),
                    // #47 / #81 abort the procedure the status answers.
                    (SmCause::PtiMismatch | SmCause::InvalidPtiValue, Procedure::Modifying { .. }) => {
                        self.end_modification(ctx, "failed")
                    }
                    (SmCause::PtiMismatch | SmCause::InvalidPtiValue, Procedure::Releasing { .. }) => {
                        self.drop_session(now, ctx, "network", true)
                    }
                    _ => {}
                }
            }
            _ => {
                // TS 24.501 §7.4: a message not compatible with the protocol state.
                self.n1n2(
                    ctx,
                    s_nssai,
                    Some(status(SmCause::MessageTypeNotCompatibleWithTheProtocolState)),
                    None,
                );
            }
        }
    }

    // ------------------------------------------------------------ modification

    fn send_modification_command(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        pti: u8,
        command: Vec<u8>,
        n2: Option<N2SmInfo>,
    ) {
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        s.procedure = Procedure::Modifying {
            pti,
            command: command.clone(),
            retransmissions: 0,
        };
        let s_nssai = s.s_nssai;
        self.n1n2(ctx, Some(s_nssai), Some(command), n2);
        let t = Duration::from_millis(self.config.settings.smf.nas.t3591_ms);
        self.timers.set(Timer::T3591(ctx.clone()), now + t);
    }

    fn end_modification(&mut self, ctx: &SmContextRef, outcome: &'static str) {
        self.timers.cancel(&Timer::T3591(ctx.clone()));
        if let Some(s) = self.sessions.get_mut(ctx) {
            s.procedure = Procedure::Idle;
        }
        self.event(Event::Procedure {
            procedure: "modification",
            outcome,
        });
    }

    /// Network-requested modification of the session AMBR (TS 23.502 §4.3.3.2).
    pub(crate) fn start_network_modification(&mut self, now: Instant, ctx: &SmContextRef, ambr: Ambr) {
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        s.ambr = ambr;
        let established = s.up_seid().is_some();
        let active = matches!(s.up, UserPlane::Active { .. });
        let command = messages::modification_command(s.header(0), ambr);
        if established {
            self.modify_n4(now, ctx, messages::update_ambr(ambr), Change::Ambr);
        }
        // N2 only where the gNB holds the session; an idle UE's next activation
        // carries the new AMBR in its setup transfer.
        let n2 = if active {
            match messages::modify_request_transfer(Some(ambr), None) {
                Ok(transfer) => Some(N2SmInfo {
                    kind: N2SmInfoType::PduResModReq,
                    transfer,
                }),
                Err(e) => {
                    tracing::error!("Modify Request Transfer does not encode: {e}");
                    None
                }
            }
        } else {
            None
        };
        self.send_modification_command(now, ctx, 0, command, n2);
    }

    pub(crate) fn t3591_expired(&mut self, now: Instant, ctx: &SmContextRef) {
        let max = self.config.settings.smf.nas.max_retransmissions;
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        let Procedure::Modifying {
            command,
            retransmissions,
            ..
        } = &mut s.procedure
        else {
            return;
        };
        if *retransmissions >= max {
            // TS 24.501 §6.3.2.5 a): on the fifth expiry the procedure is aborted.
            return self.end_modification(ctx, "failed");
        }
        *retransmissions += 1;
        let command = command.clone();
        let s_nssai = s.s_nssai;
        self.n1n2(ctx, Some(s_nssai), Some(command), None);
        self.event(Event::Retransmission { timer: "T3591" });
        let t = Duration::from_millis(self.config.settings.smf.nas.t3591_ms);
        self.timers.set(Timer::T3591(ctx.clone()), now + t);
    }

    // ------------------------------------------------------------ release

    /// Release Command (TS 23.502 §4.3.4.2): the N4 session goes first (step 2), then
    /// N1 + N2 to the UE and gNB (step 3); the UE's Release Complete ends it.
    pub(crate) fn start_release(&mut self, now: Instant, ctx: &SmContextRef, pti: u8, cause: SmCause) {
        self.timers.cancel(&Timer::T3591(ctx.clone()));
        self.release_n4(now, ctx);
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        let command = messages::release_command(s.header(pti), cause);
        s.procedure = Procedure::Releasing {
            pti,
            command: command.clone(),
            retransmissions: 0,
        };
        let an_holds = matches!(s.up, UserPlane::Active { .. } | UserPlane::Awaiting { .. });
        let s_nssai = s.s_nssai;
        let n2 = if an_holds {
            match messages::release_command_transfer(NgapCause::Nas(CauseNas::NormalRelease)) {
                Ok(transfer) => Some(N2SmInfo {
                    kind: N2SmInfoType::PduResRelCmd,
                    transfer,
                }),
                Err(e) => {
                    tracing::error!("Release Command Transfer does not encode: {e}");
                    None
                }
            }
        } else {
            None
        };
        self.n1n2(ctx, Some(s_nssai), Some(command), n2);
        let t = Duration::from_millis(self.config.settings.smf.nas.t3592_ms);
        self.timers.set(Timer::T3592(ctx.clone()), now + t);
    }

    pub(crate) fn t3592_expired(&mut self, now: Instant, ctx: &SmContextRef) {
        let max = self.config.settings.smf.nas.max_retransmissions;
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        let Procedure::Releasing {
            command,
            retransmissions,
            ..
        } = &mut s.procedure
        else {
            return;
        };
        if *retransmissions >= max {
            // TS 24.501 §6.3.3.5 a): on the fifth expiry the SMF releases locally.
            self.event(Event::Procedure {
                procedure: "release",
                outcome: "failed",
            });
            return self.drop_session(now, ctx, "timeout", true);
        }
        *retransmissions += 1;
        let command = command.clone();
        let s_nssai = s.s_nssai;
        self.n1n2(ctx, Some(s_nssai), Some(command), None);
        self.event(Event::Retransmission { timer: "T3592" });
        let t = Duration::from_millis(self.config.settings.smf.nas.t3592_ms);
        self.timers.set(Timer::T3592(ctx.clone()), now + t);
    }

    /// Delete the N4 session now (final usage reports come in the response).
    fn release_n4(&mut self, now: Instant, ctx: &SmContextRef) {
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        let n4 = std::mem::replace(&mut s.n4, N4::Released);
        let seid = s.seid;
        let upf = s.upf;
        let up_seid = match n4 {
            N4::Established { up_seid, .. } => Some(up_seid),
            N4::Lost { stale } => stale,
            _ => None,
        };
        self.by_seid.remove(&seid);
        if let (Some(up_seid), Some(s)) = (up_seid, self.sessions.get(ctx)) {
            let identity = self.identity(s, seid);
            self.delete_n4(now, upf, identity, up_seid);
        }
    }

    pub(crate) fn delete_n4(&mut self, now: Instant, upf: UpfId, identity: UsageIdentity, up_seid: u64) {
        self.retired.insert(
            Seid(identity.seid),
            Retired {
                identity: identity.clone(),
                up_seid,
            },
        );
        self.send_pfcp(
            now,
            upf,
            Pdu::session(up_seid, SessionDeletionRequest::new()),
            Purpose::Delete { identity },
        );
    }

    /// Remove every trace of a session (N4 deleted, address back in the pool).
    fn forget_session(&mut self, now: Instant, ctx: &SmContextRef) -> Option<Session> {
        self.release_n4(now, ctx);
        let s = self.sessions.remove(ctx)?;
        self.timers.cancel(&Timer::T3591(ctx.clone()));
        self.timers.cancel(&Timer::T3592(ctx.clone()));
        self.by_seid.remove(&s.seid);
        if let Some(pool) = self.pools.get_mut(&s.dnn) {
            pool.release(s.ue_ipv4);
        }
        Some(s)
    }

    /// End a session without (more) signalling to the UE: local release.
    pub(crate) fn drop_session(&mut self, now: Instant, ctx: &SmContextRef, how: &'static str, notify: bool) {
        if self.forget_session(now, ctx).is_none() {
            return;
        }
        self.event(Event::SessionReleased {
            supi: ctx.supi.clone(),
            pdu_session_id: ctx.pdu_session_id,
            how,
        });
        if notify {
            self.send_amf(AmfRequest::SmContextReleased { context: ctx.clone() });
        }
    }

    // ------------------------------------------------------------ N4 modifications

    fn modify_n4(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        req: hexcore_pfcp::SessionModificationRequest,
        change: Change,
    ) {
        let Some(s) = self.sessions.get(ctx) else { return };
        let Some(up_seid) = s.up_seid() else { return };
        let (upf, seid) = (s.upf, s.seid);
        self.send_pfcp(
            now,
            upf,
            Pdu::session(up_seid, req),
            Purpose::Modify {
                ctx: ctx.clone(),
                seid,
                change,
            },
        );
    }

    pub(crate) fn n4_modified(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        seid: Seid,
        change: Change,
        rsp: SessionModificationResponse,
    ) {
        if let Some(s) = self.sessions.get(ctx)
            && !rsp.usage_reports.is_empty()
        {
            let identity = self.identity(s, seid);
            let records: Vec<UsageRecord> = rsp.usage_reports.iter().map(|r| identity.record(r)).collect();
            self.emit(Output::Usage { records, ack: None });
        }
        if !rsp.cause.is_accepted() {
            self.n4_modification_failed(now, ctx, seid, change, Some(rsp.cause));
        }
    }

    pub(crate) fn n4_modification_failed(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        seid: Seid,
        change: Change,
        cause: Option<Cause>,
    ) {
        self.event(Event::Warning(format!(
            "PFCP modification {change:?} of {}/{} failed: {cause:?}",
            ctx.supi, ctx.pdu_session_id
        )));
        self.event(Event::PfcpError {
            what: "modification_failed",
        });
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        if s.seid != seid || !matches!(s.n4, N4::Established { .. }) {
            return;
        }
        if cause == Some(Cause::SessionContextNotFound) {
            // The UPF lost the session without us seeing a restart: restore it.
            s.n4 = N4::Lost { stale: None };
            let upf = s.upf;
            if self.upfs.get(upf.0).is_some_and(|u| u.is_up()) {
                self.restore_session(now, ctx, false);
            }
        }
    }

    // ------------------------------------------------------------ reports

    /// Session Report Request (TS 29.244 §7.5.8): downlink data and usage.
    pub(crate) fn session_report(
        &mut self,
        now: Instant,
        peer: std::net::SocketAddr,
        header: &Header,
        req: SessionReportRequest,
    ) {
        let seid = Seid(header.seid.unwrap_or(0));
        let (identity, up_seid, ctx) = match self.by_seid.get(&seid).cloned() {
            Some(ctx) => match self.sessions.get(&ctx) {
                Some(s) => (self.identity(s, seid), s.up_seid().unwrap_or(0), Some(ctx)),
                None => return self.report_unknown(now, peer, header),
            },
            None => match self.retired.get(&seid) {
                Some(r) => (r.identity.clone(), r.up_seid, None),
                None => return self.report_unknown(now, peer, header),
            },
        };
        if req.report_type.contains(ReportType::DLDR)
            && let Some(ctx) = &ctx
        {
            self.downlink_data(ctx);
        }
        let records: Vec<UsageRecord> = req.usage_reports.iter().map(|r| identity.record(r)).collect();
        if records.is_empty() {
            let rsp = Pdu::response_to(header, up_seid, SessionReportResponse::new(Cause::RequestAccepted));
            self.pfcp.send_response(now, peer, &rsp);
            return;
        }
        // The answer waits until the records are stored (Input::UsageStored).
        let ack = self.next_usage_ack();
        self.reports.insert(
            ack,
            PendingReport {
                peer,
                request: *header,
                up_seid,
            },
        );
        self.emit(Output::Usage {
            records,
            ack: Some(ack),
        });
    }

    /// TS 29.244 §7.5.9 / §7.2.2.4.2: no such session → Cause 65, SEID 0.
    fn report_unknown(&mut self, now: Instant, peer: std::net::SocketAddr, header: &Header) {
        self.event(Event::PfcpError { what: "unknown_seid" });
        let rsp = Pdu::response_to(header, 0, SessionReportResponse::new(Cause::SessionContextNotFound));
        self.pfcp.send_response(now, peer, &rsp);
    }

    /// Downlink data for an idle UE (TS 23.502 §4.2.3.3 steps 2–3): the AMF gets the
    /// setup transfer (N2 only) and pages; once per buffering period.
    fn downlink_data(&mut self, ctx: &SmContextRef) {
        let Some(s) = self.sessions.get(ctx) else { return };
        if !matches!(s.up, UserPlane::Deactivated { paged: false })
            || matches!(s.procedure, Procedure::Releasing { .. })
        {
            return;
        }
        let Some(ul) = s.ul() else { return };
        let (s_nssai, ambr) = (s.s_nssai, s.ambr);
        let n2 = self.setup_transfer(ul, ambr);
        if let Some(s) = self.sessions.get_mut(ctx) {
            s.up = UserPlane::Deactivated { paged: true };
            s.announced_ul = Some(ul);
        }
        self.event(Event::Procedure {
            procedure: "downlink_data_notification",
            outcome: "ok",
        });
        self.n1n2(ctx, Some(s_nssai), None, n2);
    }

    // ------------------------------------------------------------ restoration

    /// The UPF lost its sessions (restart) or may have (association lost).
    pub(crate) fn sessions_lost(&mut self, upf: UpfId, restarted: bool) {
        for s in self.sessions.values_mut().filter(|s| s.upf == upf) {
            s.n4 = match &s.n4 {
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
    }

    /// Re-establish every lost session of a UPF whose association is back (TS 23.527
    /// §4.3.2: same UE address, new SEIDs, new F-TEIDs).
    pub(crate) fn restore_sessions(&mut self, now: Instant, upf: UpfId, restarted: bool) {
        let mut lost: Vec<SmContextRef> = self
            .sessions
            .values()
            .filter(|s| s.upf == upf && matches!(s.n4, N4::Lost { .. }))
            .map(|s| s.ctx.clone())
            .collect();
        lost.sort();
        for ctx in lost {
            self.restore_session(now, &ctx, restarted);
        }
    }

    fn restore_session(&mut self, now: Instant, ctx: &SmContextRef, restarted: bool) {
        let Some(s) = self.sessions.get(ctx) else { return };
        let N4::Lost { stale } = s.n4 else { return };
        let (old, upf) = (s.seid, s.upf);
        if let (Some(up_seid), false) = (stale, restarted) {
            // The UPF may still hold the old session: delete it first (its final usage
            // is recorded), so that two sessions never claim the UE's address.
            let identity = self.identity(s, old);
            self.delete_n4(now, upf, identity, up_seid);
        }
        self.by_seid.remove(&old);
        let seid = self.allocate_seid();
        self.by_seid.insert(seid, ctx.clone());
        let Some(s) = self.sessions.get_mut(ctx) else { return };
        s.seid = seid;
        s.n4 = N4::Reestablishing;
        let s = s.clone();
        self.send_establishment(now, &s);
    }
}
