//! PDU sessions through the AMF: the AMF carries 5GSM between the UE and the SMF and
//! NGAP PDU session resources between the SMF and the gNB, and keeps only the PDU
//! session routing context (PDU Session ID → S-NSSAI, DNN, user plane up or not).
//!
//! ```text
//! UL NAS TRANSPORT (N1 SM, initial request) ─► SmfRequest::CreateSmContext
//! AmfRequest::N1N2MessageTransfer ─► DL NAS TRANSPORT (N1 only), or
//!     PDU SESSION RESOURCE SETUP / MODIFY REQUEST / RELEASE COMMAND (N2, N1 inside)
//! PDU SESSION RESOURCE SETUP RESPONSE ─► SmfRequest::UpdateSmContext (N2 transfer)
//! UE context release (to CM-IDLE) ─► UpdateSmContext { up_cnx_state: Deactivated }
//! Service Request (uplink data status / paged) ─► UpdateSmContext { Activating }
//!     ─► AmfRequest::Activation ×n ─► INITIAL CONTEXT SETUP with the sessions
//! N1N2MessageTransfer for a UE in CM-IDLE ─► Paging, delivered after the Service Request
//! Deregistration, a lost 5GMM context ─► SmfRequest::ReleaseSmContext
//! ```
//!
//! TS 23.502 §4.3.2.2.1 (establishment), §4.2.3.2–3 (service request, UE- and
//! network-triggered), §4.2.6 (AN release), TS 24.501 §5.4.5 (NAS transport),
//! TS 38.413 §8.2 (PDU session management).

use std::collections::BTreeSet;

use hexcore_nas::ie::{
    PayloadContainer, PayloadContainerType, PsiBitmap, RequestType as NasRequestType, SpareHalfOctet,
};
use hexcore_nas::mm::{DlNasTransport, MmHeader, RegistrationAccept, ServiceAccept, UlNasTransport};
use hexcore_nas::{Message as NasMessage, MmCause};
use hexcore_ngap::procedures::{
    ErrorIndication, InitialContextSetupRequest, PduSessionModifyItem, PduSessionResourceModifyRequest,
    PduSessionResourceModifyResponse, PduSessionResourceReleaseCommand, PduSessionResourceReleaseResponse,
    PduSessionResourceSetupRequest, PduSessionResourceSetupResponse, PduSessionSetupItem, PduSessionTransferItem,
};
use hexcore_ngap::{AmfUeNgapId, CauseRadioNetwork, NgapPdu, SNssai};
use hexcore_sbi::{
    AmfRequest, N2SmInfo, N2SmInfoType, ReleaseCause, RequestType, SmContextRef, SmfRequest, Snssai, UpCnxState,
    UserLocation,
};
use hexcore_security::keys;

use super::nas_security::{complete_message, ngap_security_capabilities, protect};
use super::supi_index::SupiPlace;
use super::{Secured, UeState};
use crate::amf::{Amf, AssocId, Event, answering, sd_octets, unknown_ue};

/// The AMF's PDU session routing context of one PDU session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PduSession {
    /// The S-NSSAI the session runs on.
    pub s_nssai: Option<Snssai>,
    /// Its DNN, as the UE asked for it.
    pub dnn: Option<String>,
    /// N3 resources are set up at the gNB (user plane connection active).
    pub user_plane: bool,
}

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

impl Amf {
    /// UL NAS TRANSPORT (TS 24.501 §5.4.5.2) from a registered UE.
    pub(crate) fn ul_nas_transport(&mut self, id: u64, t: UlNasTransport) {
        if t.payload_container_type != PayloadContainerType::N1SmInformation {
            // SMS, LPP, UE policy… are not served: §5.4.5.2.5 — the payload is dropped,
            // the UE hears why.
            return self.payload_not_forwarded(id, &t, MmCause::MessageTypeNonExistentOrNotImplemented);
        }
        let Some(psi) = t.pdu_session_id.map(|p| p.0).filter(|p| (1..=15).contains(p)) else {
            return self.payload_not_forwarded(id, &t, MmCause::InvalidMandatoryInformation);
        };
        let Some((supi, allowed, known, pei)) = self.ues.get(&id).and_then(|u| match &u.state {
            UeState::Registered { secured, .. } => Some((
                secured.supi.clone(),
                secured.allowed_nssai.clone(),
                secured.sessions.contains_key(&psi),
                secured.imeisv.clone(),
            )),
            _ => None,
        }) else {
            return;
        };
        let context = SmContextRef {
            supi,
            pdu_session_id: psi,
        };
        let request_type = t.request_type.map(request_type_of);
        if request_type == Some(RequestType::InitialRequest) {
            // The S-NSSAI must be allowed; without one the AMF picks the first allowed
            // (TS 23.502 §4.3.2.2.1 step 2).
            let s_nssai = match &t.s_nssai {
                Some(s) if allowed.contains(&(s.sst, s.sd)) => Snssai { sst: s.sst, sd: s.sd },
                Some(_) => return self.payload_not_forwarded(id, &t, MmCause::PayloadWasNotForwarded),
                None => match allowed.first() {
                    Some(&(sst, sd)) => Snssai { sst, sd },
                    None => return self.payload_not_forwarded(id, &t, MmCause::PayloadWasNotForwarded),
                },
            };
            let dnn = t.dnn.as_ref().map(|d| d.name());
            if known {
                // §5.4.5.2.5: an initial request for a PDU session ID in use — the old
                // routing context is released locally first.
                self.smf(SmfRequest::ReleaseSmContext {
                    context: context.clone(),
                    cause: ReleaseCause::PduSessionStatusMismatch,
                });
            }
            if let Some(s) = self.secured_of(id) {
                s.sessions.insert(
                    psi,
                    PduSession {
                        s_nssai: Some(s_nssai),
                        dnn: dnn.clone(),
                        user_plane: false,
                    },
                );
            }
            let location = self.location_of(id);
            self.smf(SmfRequest::CreateSmContext {
                context,
                dnn,
                s_nssai: Some(s_nssai),
                request_type: RequestType::InitialRequest,
                n1_sm: t.payload_container.0,
                location,
                pei,
            });
            return;
        }
        if !known {
            // §5.4.5.2.5: no routing context for this PDU session ID.
            return self.payload_not_forwarded(id, &t, MmCause::PayloadWasNotForwarded);
        }
        let location = Some(self.location_of(id));
        self.smf(SmfRequest::UpdateSmContext {
            context,
            n1_sm: Some(t.payload_container.0),
            n2_sm: None,
            up_cnx_state: None,
            location,
        });
    }

    /// The 5GSM message goes back to the UE in a DL NAS TRANSPORT with a 5GMM cause
    /// (TS 24.501 §5.4.5.3.1 e, f).
    fn payload_not_forwarded(&mut self, id: u64, t: &UlNasTransport, cause: MmCause) {
        let mut dl = DlNasTransport::new(
            MmHeader::default(),
            t.payload_container_type,
            SpareHalfOctet(0),
            PayloadContainer(t.payload_container.0.clone()),
        );
        dl.pdu_session_id = t.pdu_session_id;
        dl.cause = Some(cause);
        self.procedure("ul_nas_transport", Err(format!("{cause:?}")));
        self.send_nas(id, NasMessage::from(dl), None);
    }

    /// A request could not reach an SMF (none configured, or it is down): a UE's
    /// establishment request goes back to it with 5GMM cause #90 (TS 24.501
    /// §5.4.5.2.5: SMF selection failed), and the routing context is dropped.
    pub(crate) fn smf_unreachable(&mut self, request: SmfRequest) {
        self.event(Event::Warning(format!(
            "no SMF for {} PDU session {}",
            request.context().supi,
            request.context().pdu_session_id
        )));
        let SmfRequest::CreateSmContext { context, n1_sm, .. } = request else {
            return;
        };
        let Some(id) = self.connected_registered(&context.supi) else {
            return;
        };
        if let Some(s) = self.secured_of(id) {
            s.sessions.remove(&context.pdu_session_id);
        }
        let mut dl = DlNasTransport::new(
            MmHeader::default(),
            PayloadContainerType::N1SmInformation,
            SpareHalfOctet(0),
            PayloadContainer(n1_sm),
        );
        dl.pdu_session_id = Some(hexcore_nas::ie::PduSessionId(context.pdu_session_id));
        dl.cause = Some(MmCause::PayloadWasNotForwarded);
        self.procedure("ul_nas_transport", Err("PayloadWasNotForwarded".into()));
        self.send_nas(id, NasMessage::from(dl), None);
    }

    /// An answer or a request of the SMF.
    pub(crate) fn smf_message(&mut self, message: AmfRequest) {
        match message {
            AmfRequest::SmContextReleased { context } => {
                if let Some(s) = self.secured_by_supi(&context.supi) {
                    s.sessions.remove(&context.pdu_session_id);
                }
            }
            AmfRequest::Activation {
                context,
                s_nssai,
                n2_sm,
            } => self.activation(&context, s_nssai, n2_sm),
            AmfRequest::N1N2MessageTransfer {
                context,
                s_nssai,
                n1_sm,
                n2_sm,
            } => {
                let Some(id) = self.connected_registered(&context.supi) else {
                    return self.n1n2_to_idle(context, s_nssai, n1_sm, n2_sm);
                };
                self.n1n2_to_connected(id, &context, s_nssai, n1_sm, n2_sm);
            }
        }
    }

    fn n1n2_to_connected(
        &mut self,
        id: u64,
        context: &SmContextRef,
        s_nssai: Option<Snssai>,
        n1_sm: Option<Vec<u8>>,
        n2_sm: Option<N2SmInfo>,
    ) {
        let psi = context.pdu_session_id;
        // The 5GSM message rides in a DL NAS TRANSPORT, protected (TS 24.501 §5.4.5.3).
        let nas = match n1_sm {
            Some(sm) => {
                let mut dl = DlNasTransport::new(
                    MmHeader::default(),
                    PayloadContainerType::N1SmInformation,
                    SpareHalfOctet(0),
                    PayloadContainer(sm),
                );
                dl.pdu_session_id = Some(hexcore_nas::ie::PduSessionId(psi));
                let plain = NasMessage::from(dl).encode();
                match n2_sm {
                    // N1 alone: a DL NAS TRANSPORT of its own.
                    None => return self.send_nas_octets(id, &plain, false),
                    Some(_) => self.protected_nas(id, &plain),
                }
            }
            None => None,
        };
        let Some(n2) = n2_sm else { return };
        let Some(ue) = self.ues.get(&id) else { return };
        let (assoc, stream, ran) = (ue.assoc, ue.stream, ue.ran_ue_ngap_id);
        let Some(amf) = AmfUeNgapId::new(id) else { return };
        let pdu = match n2.kind {
            N2SmInfoType::PduResSetupReq => {
                let s_nssai = s_nssai
                    .or_else(|| self.session_of(id, psi).and_then(|s| s.s_nssai))
                    .unwrap_or(Snssai { sst: 1, sd: None });
                let ue_ambr =
                    self.secured_of(id)
                        .and_then(|s| s.ue_ambr)
                        .map(|(ul, dl)| hexcore_ngap::procedures::Ambr {
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
                self.event(Event::Warning(format!(
                    "SMF sent N2 SM information {other:?}, which no AMF-to-gNB message carries"
                )));
                return;
            }
        };
        self.send_ngap(assoc, stream, pdu);
    }

    /// TS 23.502 §4.2.3.3: an N1N2 message for a UE in CM-IDLE — page it; N2-only
    /// messages (downlink data) re-activate the session at the Service Request, N1
    /// messages are delivered once the UE is connected.
    fn n1n2_to_idle(
        &mut self,
        context: SmContextRef,
        s_nssai: Option<Snssai>,
        n1_sm: Option<Vec<u8>>,
        n2_sm: Option<N2SmInfo>,
    ) {
        let Some(tmsi) = self.idle_tmsi_of(&context.supi) else {
            self.event(Event::Warning(format!(
                "N1N2 message for {} which is not registered here",
                context.supi
            )));
            return;
        };
        let downlink_data = n1_sm.is_none() && n2_sm.as_ref().is_some_and(|n| n.kind == N2SmInfoType::PduResSetupReq);
        if downlink_data {
            self.paged
                .entry(context.supi.clone())
                .or_default()
                .insert(context.pdu_session_id);
        } else {
            self.pending_n1n2
                .entry(context.supi.clone())
                .or_default()
                .push(AmfRequest::N1N2MessageTransfer {
                    context,
                    s_nssai,
                    n1_sm,
                    n2_sm,
                });
        }
        self.page(tmsi);
    }

    /// The Service Request of a UE whose 5GMM context was resumed: re-activate the
    /// user plane of the sessions with uplink data pending or paged for, release
    /// locally those the UE no longer has, then the Initial Context Setup
    /// (TS 24.501 §5.6.1.4, TS 23.502 §4.2.3.2).
    pub(crate) fn service_request(&mut self, id: u64, cleartext: &hexcore_nas::mm::ServiceRequest) {
        let Some(secured) = self.secured_of(id) else { return };
        // TS 24.501 §4.4.6: the non-cleartext IEs (uplink data status, PDU session
        // status) come in the complete message, ciphered in the NAS message container.
        let full = match complete_message(secured, cleartext.nas_message_container.as_ref()) {
            Some(NasMessage::ServiceRequest(full)) => Some(full),
            _ => None,
        };
        let sr = full.as_ref().unwrap_or(cleartext);
        self.resume_sessions(id, sr.pdu_session_status.as_ref(), sr.uplink_data_status.as_ref(), None);
    }

    /// The PDU session part of a Service Request (TS 24.501 §5.6.1.4.1) or of a
    /// mobility or periodic registration update (§5.5.1.3.4): sessions the network has
    /// but the UE's PDU session status lacks are released locally; those in the uplink
    /// data status (and any paged for downlink data) are re-activated through their
    /// SMFs; then the accept — a Service accept, or `registration` — goes out in an
    /// Initial Context Setup with the re-activated sessions.
    pub(crate) fn resume_sessions(
        &mut self,
        id: u64,
        pdu_session_status: Option<&PsiBitmap>,
        uplink_data_status: Option<&PsiBitmap>,
        registration: Option<Box<RegistrationAccept>>,
    ) {
        let Some(secured) = self.secured_of(id) else { return };
        let supi = secured.supi.clone();
        let gone: Vec<u8> = match pdu_session_status {
            Some(status) => secured
                .sessions
                .keys()
                .copied()
                .filter(|p| !status.is_set(*p))
                .collect(),
            None => Vec::new(),
        };
        for psi in &gone {
            secured.sessions.remove(psi);
        }
        let mut wanted: BTreeSet<u8> = uplink_data_status
            .map(|u| u.psis().into_iter().collect())
            .unwrap_or_default();
        if let Some(paged) = self.paged.remove(&supi) {
            wanted.extend(paged);
        }
        let Some(secured) = self.secured_of(id) else { return };
        // §5.6.1.4.1, §5.5.1.3.4: a PDU session ID without a session here cannot be
        // re-activated, and the reactivation result says so.
        let (wanted, unknown): (BTreeSet<u8>, BTreeSet<u8>) =
            wanted.into_iter().partition(|p| secured.sessions.contains_key(p));
        for psi in gone {
            self.smf(SmfRequest::ReleaseSmContext {
                context: SmContextRef {
                    supi: supi.clone(),
                    pdu_session_id: psi,
                },
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
            return self.accept_with_sessions(id, pending);
        }
        let location = Some(self.location_of(id));
        for psi in &wanted {
            self.smf(SmfRequest::UpdateSmContext {
                context: SmContextRef {
                    supi: supi.clone(),
                    pdu_session_id: *psi,
                },
                n1_sm: None,
                n2_sm: None,
                up_cnx_state: Some(UpCnxState::Activating),
                location: location.clone(),
            });
        }
        if let Some(ue) = self.ues.get_mut(&id) {
            ue.pending_service = Some(PendingService {
                waiting: wanted,
                ..pending
            });
        }
    }

    fn activation(&mut self, context: &SmContextRef, s_nssai: Option<Snssai>, n2_sm: Option<N2SmInfo>) {
        let Some(id) = self.connected_registered(&context.supi) else {
            return;
        };
        let psi = context.pdu_session_id;
        let Some(pending) = self.ues.get_mut(&id).and_then(|u| u.pending_service.as_mut()) else {
            return;
        };
        if !pending.waiting.remove(&psi) {
            return;
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
            && let Some(done) = self.ues.get_mut(&id).and_then(|u| u.pending_service.take())
        {
            self.accept_with_sessions(id, done);
        }
    }

    /// The Service accept (or the pending Registration accept) in an INITIAL CONTEXT
    /// SETUP REQUEST with the re-activated sessions; then the N1N2 messages that waited
    /// for the connection.
    fn accept_with_sessions(&mut self, id: u64, done: PendingService) {
        let Some(secured) = self.secured_of(id) else { return };
        let psis: Vec<u8> = secured.sessions.keys().copied().collect();
        let supi = secured.supi.clone();
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
                self.procedure("registration_update", Ok(()));
                NasMessage::from(*accept).encode()
            }
            None => {
                let mut accept = ServiceAccept::new(MmHeader::default());
                accept.pdu_session_status = Some(status);
                accept.pdu_session_reactivation_result = result;
                self.procedure("service_request", Ok(()));
                NasMessage::from(accept).encode()
            }
        };
        self.initial_context_setup_with(id, &plain, done.items);
        for queued in self.pending_n1n2.remove(&supi).unwrap_or_default() {
            self.smf_message(queued);
        }
    }

    /// INITIAL CONTEXT SETUP REQUEST (TS 38.413 §8.3.1) carrying `plain`, protected,
    /// with KgNB from the last uplink NAS COUNT (TS 33.501 §6.9.2.1.1, A.9), and the PDU
    /// sessions to set up.
    pub(crate) fn initial_context_setup_with(&mut self, id: u64, plain: &[u8], sessions: Vec<PduSessionSetupItem>) {
        let guami = self.config.guami;
        let Some(ue) = self.ues.get_mut(&id) else { return };
        let (assoc, stream, ran) = (ue.assoc, ue.stream, ue.ran_ue_ngap_id);
        let Some(secured) = ue.state.secured_mut() else { return };
        let ul_count = secured.nas.last_rx_count().map_or(0, |c| c.value());
        let kgnb = keys::kgnb(&secured.kamf, ul_count, keys::AccessType::ThreeGpp);
        let caps = ngap_security_capabilities(&secured.ue_security_capability);
        let allowed: Vec<SNssai> = secured
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
            secured.ue_ambr.map(|(ul, dl)| hexcore_ngap::procedures::Ambr {
                uplink: ul,
                downlink: dl,
            })
        };
        let nas_pdu = match protect(&mut secured.nas, plain, false) {
            Ok(b) => b,
            Err(e) => {
                self.event(Event::Warning(format!("NAS protection failed: {e}")));
                return self.release_ue(id, hexcore_ngap::Cause::Nas(hexcore_ngap::CauseNas::Unspecified));
            }
        };
        let Some(amf) = AmfUeNgapId::new(id) else { return };
        let ics = InitialContextSetupRequest {
            amf_ue_ngap_id: amf,
            ran_ue_ngap_id: ran,
            ue_ambr,
            guami,
            pdu_sessions: sessions,
            allowed_nssai: allowed,
            ue_security_capabilities: caps,
            security_key: kgnb,
            nas_pdu: Some(nas_pdu),
        };
        self.send_ngap(assoc, stream, ics.build());
    }

    /// Setup response transfers (from a PDU SESSION RESOURCE SETUP RESPONSE or an
    /// INITIAL CONTEXT SETUP RESPONSE) go to the SMFs; the user plane is up.
    pub(crate) fn sessions_set_up(
        &mut self,
        id: u64,
        setup: Vec<PduSessionTransferItem>,
        failed: Vec<PduSessionTransferItem>,
    ) {
        self.forward_transfers(id, setup, N2SmInfoType::PduResSetupRsp);
        self.forward_transfers(id, failed, N2SmInfoType::PduResSetupFail);
    }

    /// PDU SESSION RESOURCE SETUP RESPONSE (TS 38.413 §8.2.1.2).
    pub(crate) fn pdu_session_resource_setup_response(
        &mut self,
        assoc: AssocId,
        pdu: &NgapPdu,
    ) -> Result<(), Box<ErrorIndication>> {
        let r = PduSessionResourceSetupResponse::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = self.ue_on(assoc, r.amf_ue_ngap_id, pdu)?;
        self.sessions_set_up(id, r.setup, r.failed);
        Ok(())
    }

    /// PDU SESSION RESOURCE RELEASE RESPONSE (TS 38.413 §8.2.2.2).
    pub(crate) fn pdu_session_resource_release_response(
        &mut self,
        assoc: AssocId,
        pdu: &NgapPdu,
    ) -> Result<(), Box<ErrorIndication>> {
        let r = PduSessionResourceReleaseResponse::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = self.ue_on(assoc, r.amf_ue_ngap_id, pdu)?;
        self.forward_transfers(id, r.released, N2SmInfoType::PduResRelRsp);
        Ok(())
    }

    /// PDU SESSION RESOURCE MODIFY RESPONSE (TS 38.413 §8.2.3.2).
    pub(crate) fn pdu_session_resource_modify_response(
        &mut self,
        assoc: AssocId,
        pdu: &NgapPdu,
    ) -> Result<(), Box<ErrorIndication>> {
        let r = PduSessionResourceModifyResponse::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = self.ue_on(assoc, r.amf_ue_ngap_id, pdu)?;
        self.forward_transfers(id, r.modified, N2SmInfoType::PduResModRsp);
        self.forward_transfers(id, r.failed, N2SmInfoType::PduResModFail);
        Ok(())
    }

    fn forward_transfers(&mut self, id: u64, items: Vec<PduSessionTransferItem>, kind: N2SmInfoType) {
        let Some(supi) = self.secured_of(id).map(|s| s.supi.clone()) else {
            return;
        };
        // What the gNB's answer says of the session's N3 resources.
        let user_plane = match kind {
            N2SmInfoType::PduResSetupRsp => Some(true),
            N2SmInfoType::PduResSetupFail | N2SmInfoType::PduResRelRsp => Some(false),
            _ => None,
        };
        for item in items {
            if let Some(up) = user_plane
                && let Some(s) = self
                    .secured_of(id)
                    .and_then(|s| s.sessions.get_mut(&item.pdu_session_id))
            {
                s.user_plane = up;
            }
            self.smf(SmfRequest::UpdateSmContext {
                context: SmContextRef {
                    supi: supi.clone(),
                    pdu_session_id: item.pdu_session_id,
                },
                n1_sm: None,
                n2_sm: Some(N2SmInfo {
                    kind,
                    transfer: item.transfer,
                }),
                up_cnx_state: None,
                location: None,
            });
        }
    }

    /// The 5GMM context goes to CM-IDLE: the gNB's N3 tunnels are gone
    /// (TS 23.502 §4.2.6 step 5).
    pub(crate) fn deactivate_user_plane(&mut self, secured: &mut Secured) {
        let active: Vec<u8> = secured
            .sessions
            .iter_mut()
            .filter(|(_, s)| s.user_plane)
            .map(|(psi, s)| {
                s.user_plane = false;
                *psi
            })
            .collect();
        for psi in active {
            self.smf(SmfRequest::UpdateSmContext {
                context: SmContextRef {
                    supi: secured.supi.clone(),
                    pdu_session_id: psi,
                },
                n1_sm: None,
                n2_sm: None,
                up_cnx_state: Some(UpCnxState::Deactivated),
                location: None,
            });
        }
    }

    /// The 5GMM context is discarded (deregistration, a second registration, implicit
    /// deregistration): its SM contexts are released (TS 23.502 §4.2.2.3.2 step 2).
    pub(crate) fn release_sm_contexts(&mut self, secured: &mut Secured, cause: ReleaseCause) {
        let psis: Vec<u8> = std::mem::take(&mut secured.sessions).into_keys().collect();
        for psi in psis {
            self.smf(SmfRequest::ReleaseSmContext {
                context: SmContextRef {
                    supi: secured.supi.clone(),
                    pdu_session_id: psi,
                },
                cause,
            });
        }
        self.paged.remove(&secured.supi);
        self.pending_n1n2.remove(&secured.supi);
    }

    // ------------------------------------------------------------------ helpers

    fn smf(&mut self, request: SmfRequest) {
        self.outputs.push_back(crate::Output::Smf(request));
    }

    fn secured_of(&mut self, id: u64) -> Option<&mut Secured> {
        self.ues.get_mut(&id).and_then(|u| u.state.secured_mut())
    }

    fn secured_by_supi(&mut self, supi: &str) -> Option<&mut Secured> {
        match self.places_of(supi).first() {
            Some(SupiPlace::Connected(id)) => self.secured_of(*id),
            Some(SupiPlace::Idle(tmsi)) => self.idle.get_mut(tmsi).map(|b| &mut **b),
            None => None,
        }
    }

    fn session_of(&mut self, id: u64, psi: u8) -> Option<PduSession> {
        self.secured_of(id).and_then(|s| s.sessions.get(&psi).cloned())
    }

    /// The connected, registered UE context of a SUPI.
    pub(crate) fn connected_registered(&self, supi: &str) -> Option<u64> {
        self.connected_of(supi).find(|id| {
            self.ues
                .get(id)
                .is_some_and(|u| matches!(u.state, UeState::Registered { .. }))
        })
    }

    fn location_of(&self, id: u64) -> UserLocation {
        let p = &self.config.settings.amf.plmn;
        let (tac, cell) = self.ues.get(&id).map_or((0, 0), |u| {
            (u.location.tai.tac.value(), u.location.nr_cgi.nr_cell_identity)
        });
        UserLocation {
            mcc: p.mcc.clone(),
            mnc: p.mnc.clone(),
            tac,
            nr_cell_id: cell,
        }
    }

    /// A plain 5GMM message, protected for the UE (no DL NAS TRANSPORT around it).
    fn protected_nas(&mut self, id: u64, plain: &[u8]) -> Option<Vec<u8>> {
        let secured = self.secured_of(id)?;
        match protect(&mut secured.nas, plain, false) {
            Ok(b) => Some(b),
            Err(e) => {
                self.event(Event::Warning(format!("NAS protection failed: {e}")));
                None
            }
        }
    }

    /// The UE context of a UE-associated message on `assoc`, or the Error Indication
    /// for an unknown one (TS 38.413 §10.6).
    fn ue_on(&self, assoc: AssocId, amf: AmfUeNgapId, pdu: &NgapPdu) -> Result<u64, Box<ErrorIndication>> {
        let id = amf.value();
        if self.ues.get(&id).is_none_or(|u| u.assoc != assoc) {
            return Err(unknown_ue(pdu, CauseRadioNetwork::UnknownLocalUeNgapId));
        }
        Ok(id)
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
