//! PDU sessions through one UE's context: the AMF carries 5GSM between the UE and the
//! SMF and NGAP PDU session resources between the SMF and the gNB, and keeps only the
//! PDU session routing context (PDU Session ID → S-NSSAI, DNN, user plane up or not).
//!
//! ```text
//! UL NAS TRANSPORT (N1 SM, initial request) ─► SmfRequest::CreateSmContext
//! AmfRequest::N1N2MessageTransfer ─► DL NAS TRANSPORT (N1 only), or
//!     PDU SESSION RESOURCE SETUP / MODIFY REQUEST / RELEASE COMMAND (N2, N1 inside)
//! PDU SESSION RESOURCE SETUP RESPONSE ─► SmfRequest::UpdateSmContext (N2 transfer)
//! UE context release (to CM-IDLE) ─► UpdateSmContext { up_cnx_state: Deactivated }
//! Service Request (uplink data status / paged) ─► UpdateSmContext { Activating }
//!     ─► AmfRequest::Activation ×n ─► INITIAL CONTEXT SETUP with the sessions
//! N1N2MessageTransfer for a UE in CM-IDLE ─► Paging (by the AMF), delivered here after
//!     the Service Request
//! Deregistration, a lost 5GMM context ─► SmfRequest::ReleaseSmContext
//! ```
//!
//! TS 23.502 §4.3.2.2.1 (establishment), §4.2.3.2–3 (service request, UE- and
//! network-triggered), §4.2.6 (AN release), TS 24.501 §5.4.5 (NAS transport),
//! TS 38.413 §8.2 (PDU session management).

use std::collections::BTreeSet;

use hexcore_nas::ie::{
    PayloadContainer, PayloadContainerType, PduSessionId, PsiBitmap, RequestType as NasRequestType, SpareHalfOctet,
};
use hexcore_nas::mm::{DlNasTransport, MmHeader, RegistrationAccept, ServiceAccept, ServiceRequest, UlNasTransport};
use hexcore_nas::{Message as NasMessage, MmCause};
use hexcore_ngap::procedures::{
    InitialContextSetupRequest, PduSessionModifyItem, PduSessionResourceModifyRequest,
    PduSessionResourceReleaseCommand, PduSessionResourceSetupRequest, PduSessionSetupItem, PduSessionTransferItem,
};
use hexcore_ngap::{Cause, CauseNas, SNssai};
use hexcore_sbi::{
    AmfRequest, N2SmInfo, N2SmInfoType, ReleaseCause, RequestType, SmContextRef, SmfRequest, Snssai, UpCnxState,
    UserLocation,
};
use hexcore_security::keys;

use super::nas_security::{ngap_security_capabilities, protect};
use super::{Machine, MmContext, RoutingContext, UeState};
use crate::config::sd_octets;
use crate::io::Event;

/// A Service Request, or a mobility or periodic registration update, waiting for the
/// SMFs' setup transfers before the Initial Context Setup goes out (TS 23.502 §4.2.3.2
/// steps 4–12, §4.2.2.2.2 step 21).
#[derive(Debug, Default)]
pub struct PendingService {
    /// Sessions still to answer.
    pub waiting: BTreeSet<u8>,
    /// Sessions to set up at the gNB.
    pub items: Vec<PduSessionSetupItem>,
    /// Sessions that could not be re-activated.
    pub failed: Vec<u8>,
    /// What answers the UE: a Service accept, or this Registration accept.
    pub registration: Option<Box<RegistrationAccept>>,
    /// The UE sent its PDU session status: the accept carries the network's.
    pub status_asked: bool,
    /// The UE asked for user-plane re-activation: the accept carries the result.
    pub reactivation_asked: bool,
}

impl Machine<'_, '_> {
    /// UL NAS TRANSPORT (TS 24.501 §5.4.5.2) from a registered UE.
    pub(super) fn ul_nas_transport(&mut self, mut state: UeState, t: UlNasTransport) -> UeState {
        let Some(context) = state.context_mut() else {
            return state;
        };
        if t.payload_container_type != PayloadContainerType::N1SmInformation {
            // SMS, LPP, UE policy… are not served: §5.4.5.2.5 — the payload is dropped,
            // the UE hears why.
            self.payload_not_forwarded(context, &t, MmCause::MessageTypeNonExistentOrNotImplemented);
            return state;
        }
        let Some(psi) = t.pdu_session_id.map(|p| p.0).filter(|p| (1..=15).contains(p)) else {
            self.payload_not_forwarded(context, &t, MmCause::InvalidMandatoryInformation);
            return state;
        };
        let known = context.sessions.contains_key(&psi);
        let sm_context = context.sm_context(psi);
        let request_type = t.request_type.map(request_type_of);
        if request_type == Some(RequestType::InitialRequest) {
            // The S-NSSAI must be allowed; without one the AMF picks the first allowed
            // (TS 23.502 §4.3.2.2.1 step 2).
            let allowed = &context.allowed_nssai;
            let s_nssai = match &t.s_nssai {
                Some(s) if allowed.contains(&(s.sst, s.sd)) => Snssai { sst: s.sst, sd: s.sd },
                Some(_) => {
                    self.payload_not_forwarded(context, &t, MmCause::PayloadWasNotForwarded);
                    return state;
                }
                None => match allowed.first() {
                    Some(&(sst, sd)) => Snssai { sst, sd },
                    None => {
                        self.payload_not_forwarded(context, &t, MmCause::PayloadWasNotForwarded);
                        return state;
                    }
                },
            };
            let dnn = t.dnn.as_ref().map(|d| d.name());
            if known {
                // §5.4.5.2.5: an initial request for a PDU session ID in use — the old
                // routing context is released locally first.
                self.fx.smf(SmfRequest::ReleaseSmContext {
                    context: sm_context.clone(),
                    cause: ReleaseCause::PduSessionStatusMismatch,
                });
            }
            context.sessions.insert(
                psi,
                RoutingContext {
                    s_nssai: Some(s_nssai),
                    dnn: dnn.clone(),
                    user_plane: false,
                },
            );
            let pei = context.imeisv.clone();
            self.fx.smf(SmfRequest::CreateSmContext {
                context: sm_context,
                dnn,
                s_nssai: Some(s_nssai),
                request_type: RequestType::InitialRequest,
                n1_sm: t.payload_container.0,
                location: self.location(),
                pei,
            });
            return state;
        }
        if !known {
            // §5.4.5.2.5: no routing context for this PDU session ID.
            self.payload_not_forwarded(context, &t, MmCause::PayloadWasNotForwarded);
            return state;
        }
        self.fx.smf(SmfRequest::UpdateSmContext {
            context: sm_context,
            n1_sm: Some(t.payload_container.0),
            n2_sm: None,
            up_cnx_state: None,
            location: Some(self.location()),
        });
        state
    }

    /// The 5GSM message goes back to the UE in a DL NAS TRANSPORT with a 5GMM cause
    /// (TS 24.501 §5.4.5.3.1 e, f).
    fn payload_not_forwarded(&mut self, context: &mut MmContext, t: &UlNasTransport, cause: MmCause) {
        let mut dl = DlNasTransport::new(
            MmHeader::default(),
            t.payload_container_type,
            SpareHalfOctet(0),
            PayloadContainer(t.payload_container.0.clone()),
        );
        dl.pdu_session_id = t.pdu_session_id;
        dl.cause = Some(cause);
        self.fx.procedure("ul_nas_transport", Err(format!("{cause:?}")));
        self.send_nas(Some(context), NasMessage::from(dl), None);
    }

    /// A request could not reach an SMF (none configured, or it is down): a UE's
    /// establishment request goes back to it with 5GMM cause #90 (TS 24.501
    /// §5.4.5.2.5: SMF selection failed), and the routing context is dropped.
    pub(super) fn smf_unreachable(&mut self, mut state: UeState, request: SmfRequest) -> UeState {
        self.fx.event(Event::Warning(format!(
            "no SMF for {} PDU session {}",
            request.context().supi,
            request.context().pdu_session_id
        )));
        let SmfRequest::CreateSmContext { context: sm, n1_sm, .. } = request else {
            return state;
        };
        let Some(context) = state.context_mut() else {
            return state;
        };
        context.sessions.remove(&sm.pdu_session_id);
        let mut dl = DlNasTransport::new(
            MmHeader::default(),
            PayloadContainerType::N1SmInformation,
            SpareHalfOctet(0),
            PayloadContainer(n1_sm),
        );
        dl.pdu_session_id = Some(PduSessionId(sm.pdu_session_id));
        dl.cause = Some(MmCause::PayloadWasNotForwarded);
        self.fx
            .procedure("ul_nas_transport", Err("PayloadWasNotForwarded".into()));
        self.send_nas(Some(context), NasMessage::from(dl), None);
        state
    }

    /// An answer or a request of the SMF for one of this UE's PDU sessions.
    pub(super) fn smf_message(&mut self, mut state: UeState, message: AmfRequest) -> UeState {
        match message {
            AmfRequest::SmContextReleased { context } => {
                if let Some(c) = state.context_mut() {
                    c.sessions.remove(&context.pdu_session_id);
                }
                state
            }
            AmfRequest::Activation {
                context,
                s_nssai,
                n2_sm,
            } => self.activation(state, &context, s_nssai, n2_sm),
            AmfRequest::N1N2MessageTransfer {
                context,
                s_nssai,
                n1_sm,
                n2_sm,
            } => {
                if let Some(c) = state.context_mut() {
                    self.n1n2_to_connected(c, &context, s_nssai, n1_sm, n2_sm);
                }
                state
            }
        }
    }

    fn n1n2_to_connected(
        &mut self,
        context: &mut MmContext,
        sm: &SmContextRef,
        s_nssai: Option<Snssai>,
        n1_sm: Option<Vec<u8>>,
        n2_sm: Option<N2SmInfo>,
    ) {
        let psi = sm.pdu_session_id;
        // The 5GSM message rides in a DL NAS TRANSPORT, protected (TS 24.501 §5.4.5.3).
        let nas = match n1_sm {
            Some(n1) => {
                let mut dl = DlNasTransport::new(
                    MmHeader::default(),
                    PayloadContainerType::N1SmInformation,
                    SpareHalfOctet(0),
                    PayloadContainer(n1),
                );
                dl.pdu_session_id = Some(PduSessionId(psi));
                let plain = NasMessage::from(dl).encode();
                match n2_sm {
                    // N1 alone: a DL NAS TRANSPORT of its own.
                    None => return self.send_nas_octets(Some(context), &plain, false),
                    Some(_) => self.protected_nas(context, &plain),
                }
            }
            None => None,
        };
        let Some(n2) = n2_sm else { return };
        let (amf, ran) = (self.conn.id, self.conn.ran_ue_ngap_id);
        let pdu = match n2.kind {
            N2SmInfoType::PduResSetupReq => {
                let s_nssai = s_nssai
                    .or_else(|| context.sessions.get(&psi).and_then(|s| s.s_nssai))
                    .unwrap_or(Snssai { sst: 1, sd: None });
                let ue_ambr = context.ue_ambr.map(|(ul, dl)| hexcore_ngap::procedures::Ambr {
                    uplink: ul,
                    downlink: dl,
                });
                PduSessionResourceSetupRequest {
                    amf_ue_ngap_id: amf,
                    ran_ue_ngap_id: ran,
                    nas_pdu: None,
                    sessions: vec![PduSessionSetupItem {
                        pdu_session_id: psi,
                        nas_pdu: nas,
                        s_nssai: ngap_snssai(s_nssai),
                        transfer: n2.transfer,
                    }],
                    ue_ambr,
                }
                .build()
            }
            N2SmInfoType::PduResRelCmd => PduSessionResourceReleaseCommand {
                amf_ue_ngap_id: amf,
                ran_ue_ngap_id: ran,
                nas_pdu: nas,
                sessions: vec![PduSessionTransferItem {
                    pdu_session_id: psi,
                    transfer: n2.transfer,
                }],
            }
            .build(),
            N2SmInfoType::PduResModReq => PduSessionResourceModifyRequest {
                amf_ue_ngap_id: amf,
                ran_ue_ngap_id: ran,
                sessions: vec![PduSessionModifyItem {
                    pdu_session_id: psi,
                    nas_pdu: nas,
                    transfer: n2.transfer,
                }],
            }
            .build(),
            other => {
                self.fx.event(Event::Warning(format!(
                    "SMF sent N2 SM information {other:?}, which no AMF-to-gNB message carries"
                )));
                return;
            }
        };
        self.fx.ngap(self.conn.assoc, self.conn.stream, pdu);
    }

    /// The Service Request of a UE whose 5GMM context was resumed: re-activate the
    /// user plane of the sessions with uplink data pending or paged for, release
    /// locally those the UE no longer has, then the Initial Context Setup
    /// (TS 24.501 §5.6.1.4, TS 23.502 §4.2.3.2).
    pub(super) fn service_request(&mut self, state: UeState, cleartext: &ServiceRequest) -> UeState {
        let Some(context) = state.context() else {
            return state;
        };
        // TS 24.501 §4.4.6: the non-cleartext IEs (uplink data status, PDU session
        // status) come in the complete message, ciphered in the NAS message container.
        let full = match context.complete_message(cleartext.nas_message_container.as_ref()) {
            Some(NasMessage::ServiceRequest(full)) => Some(full),
            _ => None,
        };
        let sr = full.as_ref().unwrap_or(cleartext);
        self.resume_sessions(
            state,
            sr.pdu_session_status.as_ref(),
            sr.uplink_data_status.as_ref(),
            None,
        )
    }

    /// The PDU session part of a Service Request (TS 24.501 §5.6.1.4.1) or of a
    /// mobility or periodic registration update (§5.5.1.3.4): sessions the network has
    /// but the UE's PDU session status lacks are released locally; those in the uplink
    /// data status (and any paged for downlink data) are re-activated through their
    /// SMFs; then the accept — a Service accept, or `registration` — goes out in an
    /// Initial Context Setup with the re-activated sessions.
    pub(super) fn resume_sessions(
        &mut self,
        mut state: UeState,
        pdu_session_status: Option<&PsiBitmap>,
        uplink_data_status: Option<&PsiBitmap>,
        registration: Option<Box<RegistrationAccept>>,
    ) -> UeState {
        let Some(context) = state.context_mut() else {
            return state;
        };
        let gone: Vec<u8> = match pdu_session_status {
            Some(status) => context
                .sessions
                .keys()
                .copied()
                .filter(|p| !status.is_set(*p))
                .collect(),
            None => Vec::new(),
        };
        for psi in &gone {
            context.sessions.remove(psi);
        }
        let mut wanted: BTreeSet<u8> = uplink_data_status
            .map(|u| u.psis().into_iter().collect())
            .unwrap_or_default();
        wanted.extend(std::mem::take(&mut context.paged));
        // §5.6.1.4.1, §5.5.1.3.4: a PDU session ID without a session here cannot be
        // re-activated, and the reactivation result says so.
        let (wanted, unknown): (BTreeSet<u8>, BTreeSet<u8>) =
            wanted.into_iter().partition(|p| context.sessions.contains_key(p));
        for psi in gone {
            self.fx.smf(SmfRequest::ReleaseSmContext {
                context: context.sm_context(psi),
                cause: ReleaseCause::PduSessionStatusMismatch,
            });
        }
        let pending = PendingService {
            failed: unknown.into_iter().collect(),
            registration,
            status_asked: pdu_session_status.is_some(),
            reactivation_asked: uplink_data_status.is_some(),
            ..PendingService::default()
        };
        if wanted.is_empty() {
            return self.accept_with_sessions(state, pending);
        }
        let location = Some(self.location());
        for psi in &wanted {
            self.fx.smf(SmfRequest::UpdateSmContext {
                context: context.sm_context(*psi),
                n1_sm: None,
                n2_sm: None,
                up_cnx_state: Some(UpCnxState::Activating),
                location: location.clone(),
            });
        }
        self.conn.pending_service = Some(PendingService {
            waiting: wanted,
            ..pending
        });
        state
    }

    fn activation(
        &mut self,
        state: UeState,
        sm: &SmContextRef,
        s_nssai: Option<Snssai>,
        n2_sm: Option<N2SmInfo>,
    ) -> UeState {
        let psi = sm.pdu_session_id;
        let Some(pending) = self.conn.pending_service.as_mut() else {
            return state;
        };
        if !pending.waiting.remove(&psi) {
            return state;
        }
        match n2_sm {
            Some(n2) if n2.kind == N2SmInfoType::PduResSetupReq => pending.items.push(PduSessionSetupItem {
                pdu_session_id: psi,
                nas_pdu: None,
                s_nssai: ngap_snssai(s_nssai.unwrap_or(Snssai { sst: 1, sd: None })),
                transfer: n2.transfer,
            }),
            _ => pending.failed.push(psi),
        }
        if pending.waiting.is_empty()
            && let Some(done) = self.conn.pending_service.take()
        {
            return self.accept_with_sessions(state, done);
        }
        state
    }

    /// The Service accept (or the pending Registration accept) in an INITIAL CONTEXT
    /// SETUP REQUEST with the re-activated sessions; then the N1N2 messages that waited
    /// for the connection.
    fn accept_with_sessions(&mut self, mut state: UeState, done: PendingService) -> UeState {
        let Some(context) = state.context_mut() else {
            return state;
        };
        let psis: Vec<u8> = context.sessions.keys().copied().collect();
        let status = PsiBitmap::from_psis(&psis);
        // §9.11.3.42: a bit set = re-activation failed.
        let result = (done.reactivation_asked || !done.items.is_empty() || !done.failed.is_empty())
            .then(|| PsiBitmap::from_psis(&done.failed));
        let plain = match done.registration {
            // TS 24.501 §5.5.1.3.4: the network's PDU session status when the UE sent
            // its own; the reactivation result when it asked for re-activation.
            Some(mut accept) => {
                accept.pdu_session_status = done.status_asked.then_some(status);
                accept.pdu_session_reactivation_result = result;
                self.fx.procedure("registration_update", Ok(()));
                NasMessage::from(*accept).encode()
            }
            None => {
                let mut accept = ServiceAccept::new(MmHeader::default());
                accept.pdu_session_status = Some(status);
                accept.pdu_session_reactivation_result = result;
                self.fx.procedure("service_request", Ok(()));
                NasMessage::from(accept).encode()
            }
        };
        if !self.initial_context_setup(context, &plain, done.items) {
            return self.release(state, Cause::Nas(CauseNas::Unspecified));
        }
        let queued = std::mem::take(&mut context.pending_n1n2);
        for message in queued {
            state = self.smf_message(state, message);
        }
        state
    }

    /// INITIAL CONTEXT SETUP REQUEST (TS 38.413 §8.3.1) carrying `plain`, protected,
    /// with KgNB from the last uplink NAS COUNT (TS 33.501 §6.9.2.1.1, A.9), and the PDU
    /// sessions to set up. `false` when the NAS message could not be protected.
    pub(super) fn initial_context_setup(
        &mut self,
        context: &mut MmContext,
        plain: &[u8],
        sessions: Vec<PduSessionSetupItem>,
    ) -> bool {
        let ul_count = context.nas.last_rx_count().map_or(0, |c| c.value());
        let kgnb = keys::kgnb(&context.kamf, ul_count, keys::AccessType::ThreeGpp);
        let caps = ngap_security_capabilities(&context.ue_security_capability);
        let allowed: Vec<SNssai> = context
            .allowed_nssai
            .iter()
            .map(|(sst, sd)| SNssai {
                sst: *sst,
                sd: sd.map(sd_octets),
            })
            .collect();
        // TS 38.413 §9.2.2.1: UE-AMBR is present when sessions are set up.
        let ue_ambr = if sessions.is_empty() {
            None
        } else {
            context.ue_ambr.map(|(ul, dl)| hexcore_ngap::procedures::Ambr {
                uplink: ul,
                downlink: dl,
            })
        };
        let nas_pdu = match protect(&mut context.nas, plain, false) {
            Ok(b) => b,
            Err(e) => {
                self.fx.event(Event::Warning(format!("NAS protection failed: {e}")));
                return false;
            }
        };
        let ics = InitialContextSetupRequest {
            amf_ue_ngap_id: self.conn.id,
            ran_ue_ngap_id: self.conn.ran_ue_ngap_id,
            ue_ambr,
            guami: self.env.config.guami,
            pdu_sessions: sessions,
            allowed_nssai: allowed,
            ue_security_capabilities: caps,
            security_key: kgnb,
            nas_pdu: Some(nas_pdu),
        };
        self.fx.ngap(self.conn.assoc, self.conn.stream, ics.build());
        true
    }

    /// Setup response transfers (from a PDU SESSION RESOURCE SETUP RESPONSE or an
    /// INITIAL CONTEXT SETUP RESPONSE) go to the SMFs; the user plane is up.
    pub(super) fn sessions_set_up(
        &mut self,
        state: UeState,
        setup: Vec<PduSessionTransferItem>,
        failed: Vec<PduSessionTransferItem>,
    ) -> UeState {
        let state = self.forward_transfers(state, setup, N2SmInfoType::PduResSetupRsp);
        self.forward_transfers(state, failed, N2SmInfoType::PduResSetupFail)
    }

    /// The gNB's answers for PDU sessions go to their SMFs as N2 SM information.
    pub(super) fn forward_transfers(
        &mut self,
        mut state: UeState,
        items: Vec<PduSessionTransferItem>,
        kind: N2SmInfoType,
    ) -> UeState {
        let Some(context) = state.context_mut() else {
            return state;
        };
        // What the gNB's answer says of the session's N3 resources.
        let user_plane = match kind {
            N2SmInfoType::PduResSetupRsp => Some(true),
            N2SmInfoType::PduResSetupFail | N2SmInfoType::PduResRelRsp => Some(false),
            _ => None,
        };
        for item in items {
            if let Some(up) = user_plane
                && let Some(s) = context.sessions.get_mut(&item.pdu_session_id)
            {
                s.user_plane = up;
            }
            self.fx.smf(SmfRequest::UpdateSmContext {
                context: context.sm_context(item.pdu_session_id),
                n1_sm: None,
                n2_sm: Some(N2SmInfo {
                    kind,
                    transfer: item.transfer,
                }),
                up_cnx_state: None,
                location: None,
            });
        }
        state
    }

    /// Where the UE is, for the SMF (TS 29.571 UserLocation, NR part).
    fn location(&self) -> UserLocation {
        let config = self.env.config;
        UserLocation {
            mcc: config.mcc.clone(),
            mnc: config.mnc.clone(),
            tac: self.conn.location.tai.tac.value(),
            nr_cell_id: self.conn.location.nr_cgi.nr_cell_identity,
        }
    }
}

fn request_type_of(r: NasRequestType) -> RequestType {
    match r {
        NasRequestType::InitialRequest => RequestType::InitialRequest,
        NasRequestType::ExistingPduSession => RequestType::ExistingPduSession,
        NasRequestType::InitialEmergencyRequest => RequestType::InitialEmergencyRequest,
        NasRequestType::ExistingEmergencyPduSession => RequestType::ExistingEmergencyPduSession,
        NasRequestType::ModificationRequest => RequestType::ModificationRequest,
        NasRequestType::MaPduRequest => RequestType::MaPduRequest,
        other => RequestType::Other(u8::from(other)),
    }
}

fn ngap_snssai(s: Snssai) -> SNssai {
    SNssai {
        sst: s.sst,
        sd: s.sd.map(sd_octets),
    }
}
