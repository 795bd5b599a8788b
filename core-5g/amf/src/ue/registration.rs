//! The UE-associated procedures: NAS transport in and out, registration with 5G-AKA
//! and security mode control, deregistration, UE context release, NAS timers.

use std::time::Instant;

use hexcore_nas::ie::{
    Abba, AccessType, Additional5gSecurityInformation, Autn, EapMessage, GprsTimer3, Guti, IdentityType, ImeisvRequest,
    MobileIdentity, NasKeySetIdentifier, Nssai, PartialTaiList, Plmn as NasPlmn, Rand, RegistrationResult,
    RegistrationTypeValue, SNssai as NasSNssai, SpareHalfOctet, Suci, TaiList,
};
use hexcore_nas::mm::{
    AuthenticationReject, AuthenticationRequest, DeregistrationAcceptUeOriginating, IdentityRequest, MmHeader,
    MmStatus, RegistrationAccept, RegistrationReject, SecurityModeCommand, ServiceReject,
};
use hexcore_nas::{Message, MmCause, SecurityProtected};
use hexcore_ngap::procedures::{
    DownlinkNasTransport, ErrorIndication, InitialContextSetupFailure, InitialContextSetupResponse, InitialUeMessage,
    UeContextReleaseComplete, UeContextReleaseRequest, UplinkNasTransport,
};
use hexcore_ngap::{AmfUeNgapId, Cause, CauseNas, CauseRadioNetwork, NgapPdu, SNssai};
use hexcore_security::{NasConnection, NasSecurityContext, Role, keys};

use super::nas_security::{complete_message, nas_algorithms, protect, select_algorithms};
use super::supi_index::SupiPlace;
use super::{Challenge, ChallengeKind, RegInfo, Secured, UeContext, UeState};

/// What an Authentication request carries.
enum AuthBody {
    /// RAND and AUTN, and HXRES* for the SEAF's own check.
    FiveGAka {
        rand: [u8; 16],
        autn: [u8; 16],
        hxres_star: [u8; 16],
    },
    /// The AUSF's EAP-Request.
    EapAkaPrime(Vec<u8>),
}
use crate::amf::{Amf, AssocId, Event, answering, sd_octets, unknown_ue};
use crate::timers::NasTimer;
use crate::udm::{UdmFailure, UdmRequest, UdmResponse, UeIdentity};

impl Amf {
    /// Change a UE's state and report it.
    pub(crate) fn set_state(&mut self, id: u64, state: UeState) {
        let Some(ue) = self.ues.get_mut(&id) else { return };
        let from = ue.reported_state;
        let to = state.name();
        ue.state = state;
        ue.reported_state = to;
        self.index_supi(SupiPlace::Connected(id));
        if from != to {
            self.event(Event::UeState {
                ue: id,
                from: Some(from),
                to: Some(to),
            });
        }
    }

    /// Take a UE's state out, leaving `New` in its place until it is set again.
    pub(crate) fn take_state(&mut self, id: u64) -> Option<UeState> {
        let ue = self.ues.get_mut(&id)?;
        Some(std::mem::replace(&mut ue.state, UeState::New))
    }

    /// Put back a state taken with [`Amf::take_state`] without reporting a change.
    pub(crate) fn restore_state(&mut self, id: u64, state: UeState) {
        if let Some(ue) = self.ues.get_mut(&id) {
            ue.state = state;
            self.index_supi(SupiPlace::Connected(id));
        }
    }

    /// The serving network name (TS 24.501 §9.12.1).
    fn serving_network_name(&self) -> String {
        let p = &self.config.settings.amf.plmn;
        let mnc = if p.mnc.len() == 2 {
            format!("0{}", p.mnc)
        } else {
            p.mnc.clone()
        };
        format!("5G:mnc{mnc}.mcc{}.3gppnetwork.org", p.mcc)
    }

    fn nas_plmn(&self) -> NasPlmn {
        let p = &self.config.settings.amf.plmn;
        NasPlmn::new(&p.mcc, &p.mnc)
    }

    /// Send a downlink NAS message: protected once the UE has a context (and this is
    /// not a message sent before security mode), in a DOWNLINK NAS TRANSPORT. With
    /// `timer`, the message is kept for retransmission and the timer started.
    pub(crate) fn send_nas(&mut self, id: u64, message: Message, timer: Option<NasTimer>) {
        let plain = message.encode();
        let new_context = matches!(message, Message::SecurityModeCommand(_));
        self.send_nas_octets(id, &plain, new_context);
        if let Some(timer) = timer {
            let deadline = self.now.map(|n| n + self.config.settings.timer(timer));
            if let (Some(ue), Some(deadline)) = (self.ues.get_mut(&id), deadline) {
                ue.pending_downlink = Some((plain, new_context));
                ue.retransmissions = 0;
                self.timers.start(id, timer, deadline);
            }
        }
    }

    pub(crate) fn send_nas_octets(&mut self, id: u64, plain: &[u8], new_context: bool) {
        let Some(ue) = self.ues.get_mut(&id) else { return };
        let (assoc, stream, ran) = (ue.assoc, ue.stream, ue.ran_ue_ngap_id);
        let nas_pdu = match ue.state.secured_mut() {
            Some(s) => match protect(&mut s.nas, plain, new_context) {
                Ok(b) => b,
                Err(e) => {
                    self.event(Event::Warning(format!("NAS protection failed: {e}")));
                    return;
                }
            },
            None => plain.to_vec(),
        };
        let Some(amf) = AmfUeNgapId::new(id) else { return };
        let dl = DownlinkNasTransport {
            amf_ue_ngap_id: amf,
            ran_ue_ngap_id: ran,
            nas_pdu,
        };
        self.send_ngap(assoc, stream, dl.build());
    }

    /// INITIAL UE MESSAGE (TS 38.413 §8.6.1): a new UE context, then its NAS message.
    pub(crate) fn initial_ue_message(&mut self, assoc: AssocId, pdu: &NgapPdu) -> Result<(), Box<ErrorIndication>> {
        let msg = InitialUeMessage::parse(pdu).map_err(|e| answering(pdu, &e))?;
        // A second Initial UE Message with a RAN UE NGAP ID in use replaces the old
        // connection (the gNB has forgotten it).
        if let Some(&old) = self.by_ran.get(&(assoc, msg.ran_ue_ngap_id.0)) {
            self.remove_ue(old);
        }
        let id = self.allocate_amf_ue_ngap_id();
        self.by_ran.insert((assoc, msg.ran_ue_ngap_id.0), id);
        let stream = self.gnbs.get(&assoc).map_or(0, |g| g.ue_stream(id));
        // Placeholder state until the NAS message says what this is.
        self.ues.insert(
            id,
            UeContext {
                assoc,
                stream,
                ran_ue_ngap_id: msg.ran_ue_ngap_id,
                location: msg.user_location,
                state: UeState::New,
                reported_state: "new",
                retransmissions: 0,
                pending_downlink: None,
                pending_service: None,
            },
        );
        self.event(Event::UeState {
            ue: id,
            from: None,
            to: Some("new"),
        });
        self.uplink_nas(id, &msg.nas_pdu, true);
        Ok(())
    }

    /// UPLINK NAS TRANSPORT (TS 38.413 §8.6.3).
    pub(crate) fn uplink_nas_transport(&mut self, assoc: AssocId, pdu: &NgapPdu) -> Result<(), Box<ErrorIndication>> {
        let msg = UplinkNasTransport::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = msg.amf_ue_ngap_id.value();
        match self.ues.get_mut(&id) {
            None => return Err(unknown_ue(pdu, CauseRadioNetwork::UnknownLocalUeNgapId)),
            Some(ue) if ue.assoc != assoc || ue.ran_ue_ngap_id != msg.ran_ue_ngap_id => {
                return Err(unknown_ue(pdu, CauseRadioNetwork::InconsistentRemoteUeNgapId));
            }
            Some(ue) => ue.location = msg.user_location,
        }
        self.uplink_nas(id, &msg.nas_pdu, false);
        Ok(())
    }

    /// Check and decode an uplink NAS PDU, then dispatch it (TS 24.501 §4.4.4).
    fn uplink_nas(&mut self, id: u64, bytes: &[u8], initial: bool) {
        let protected = matches!(bytes, [0x7E, h, ..] if h & 0x0F != 0);
        let decoded = if protected {
            match SecurityProtected::decode_outer(bytes) {
                Err(e) => Err(e),
                Ok(sp) => {
                    let Some(ue) = self.ues.get_mut(&id) else { return };
                    match ue.state.secured_mut() {
                        Some(s) => {
                            match s.nas.unprotect(
                                sp.sequence_number,
                                &sp.mac,
                                &sp.payload,
                                sp.header_type.is_ciphered(),
                            ) {
                                Ok(plain) => Message::decode_inner(&plain),
                                Err(_) => {
                                    // TS 24.501 §4.4.4.3: discarded; counted.
                                    self.event(Event::NasDropped {
                                        ue: id,
                                        reason: "integrity",
                                    });
                                    return;
                                }
                            }
                        }
                        // No context here: an initial message protected with a context
                        // the AMF does not have is processed as if unprotected
                        // (§4.4.4.3); a ciphered one cannot be read.
                        None if !sp.header_type.is_ciphered() && initial => {
                            let inner = Message::decode_inner(&sp.payload);
                            if let Ok(m) = &inner
                                && let Some(tmsi) = self.tmsi_of(m)
                            {
                                self.resume_idle(id, tmsi, &sp);
                            }
                            inner
                        }
                        None => {
                            self.event(Event::NasDropped {
                                ue: id,
                                reason: "no_context",
                            });
                            if initial {
                                // Nothing to go on: ask for the identity.
                                self.remove_ue(id);
                            }
                            return;
                        }
                    }
                }
            }
        } else {
            if self.ues.get(&id).is_some_and(|u| u.state.requires_protection()) {
                self.event(Event::NasDropped {
                    ue: id,
                    reason: "unprotected",
                });
                return;
            }
            Message::decode(bytes)
        };
        match decoded {
            Ok(message) => self.nas_message(id, message),
            Err(e) => {
                self.event(Event::NasDropped {
                    ue: id,
                    reason: "undecodable",
                });
                // TS 24.501 §7: a 5GMM STATUS with the matching cause.
                let status = Message::from(MmStatus::new(MmHeader::default(), e.mm_cause()));
                self.send_nas(id, status, None);
                if initial {
                    self.release_ue(id, Cause::Nas(CauseNas::Unspecified));
                }
            }
        }
    }

    fn nas_message(&mut self, id: u64, message: Message) {
        let Some(state) = self.take_state(id) else { return };
        match (state, message) {
            // ---------------------------------------------------------- registration
            (UeState::New, Message::RegistrationRequest(req)) => {
                let reg = RegInfo {
                    ue_ngksi: req.ngksi,
                    cleartext_only: req.nas_message_container.is_none(),
                    request: req,
                };
                self.start_registration(id, Box::new(reg));
            }
            (UeState::Registered { secured, tmsi }, Message::RegistrationRequest(req))
                if matches!(
                    req.registration_type.value,
                    RegistrationTypeValue::MobilityUpdating | RegistrationTypeValue::PeriodicUpdating
                ) =>
            {
                // TS 24.501 §5.5.1.3: an integrity-checked update from a known UE is
                // accepted on its current context.
                self.accept_update(id, secured, tmsi, &req);
            }
            (state @ UeState::Registered { .. }, Message::ServiceRequest(sr)) => {
                self.restore_state(id, state);
                self.service_request(id, &sr);
            }
            (state @ UeState::Registered { .. }, Message::UlNasTransport(t)) => {
                self.restore_state(id, state);
                self.ul_nas_transport(id, t);
            }
            (UeState::New, Message::ServiceRequest(_)) => {
                // TS 24.501 §5.6.1.5: no context that verifies this UE.
                let reject = ServiceReject::new(MmHeader::default(), MmCause::UeIdentityCannotBeDerivedByTheNetwork);
                self.send_nas(id, Message::from(reject), None);
                self.procedure("service_request", Err("UeIdentityCannotBeDerivedByTheNetwork".into()));
                self.release_ue(id, Cause::Nas(CauseNas::Unspecified));
            }
            (state @ UeState::Registered { .. }, Message::RegistrationComplete(_)) => {
                // A complete for an accept that assigned nothing new: nothing to do.
                self.restore_state(id, state);
            }
            (UeState::Registered { secured, .. }, Message::RegistrationRequest(req)) => {
                // An initial registration that verified with the current context (it
                // came integrity protected with the 5G-GUTI this AMF assigned, from
                // CM-IDLE or on a live connection): the UE is authenticated, so the
                // registration runs on that context without a new 5G-AKA, and a new
                // 5G-GUTI is assigned (TS 24.501 §5.5.1.2.2, §5.4.1.1: authentication
                // is at the network's discretion; TS 33.501 §6.9.2.1.1 for KgNB).
                self.reregister_on_current_context(id, secured, req);
            }
            (UeState::Identifying { reg }, Message::IdentityResponse(resp)) => {
                self.timers.stop(id);
                match resp.mobile_identity {
                    MobileIdentity::Suci(Suci::Imsi(suci)) => {
                        let mut reg = reg;
                        reg.request.mobile_identity = MobileIdentity::Suci(Suci::Imsi(suci));
                        self.start_registration(id, reg);
                    }
                    _ => self.reject_registration(id, MmCause::UeIdentityCannotBeDerivedByTheNetwork),
                }
            }
            // -------------------------------------------------------- authentication
            (
                UeState::Authenticating {
                    reg,
                    challenge,
                    resynced: _,
                },
                Message::AuthenticationResponse(resp),
            ) if matches!(challenge.kind, ChallengeKind::EapAkaPrime) => {
                // TS 33.501 §6.1.3.1 step 6–7: the EAP-Response goes to the AUSF as is.
                self.timers.stop(id);
                match resp.eap_message {
                    Some(eap) => {
                        self.set_state(
                            id,
                            UeState::AwaitingConfirmation {
                                reg,
                                ngksi: challenge.ngksi,
                            },
                        );
                        self.outputs.push_back(crate::Output::Udm(UdmRequest::ConfirmEap {
                            ue: id,
                            ctx: challenge.ctx,
                            eap: eap.0,
                        }));
                    }
                    None => self.reject_authentication(id, "no_eap_message"),
                }
            }
            (
                UeState::Authenticating {
                    reg,
                    challenge,
                    resynced: _,
                },
                Message::AuthenticationResponse(resp),
            ) => {
                self.timers.stop(id);
                let res_star = resp.res_star.map(|r| r.0);
                // TS 33.501 §6.1.3.2.0 step 10: the SEAF checks HRES* first.
                let ok = res_star.is_some_and(|r| match challenge.kind {
                    ChallengeKind::FiveGAka { rand, hxres_star } => {
                        keys::verify_hres_star(&rand, &r, &hxres_star).is_ok()
                    }
                    ChallengeKind::EapAkaPrime => false,
                });
                match (ok, res_star) {
                    (true, Some(res_star)) => {
                        self.set_state(
                            id,
                            UeState::AwaitingConfirmation {
                                reg,
                                ngksi: challenge.ngksi,
                            },
                        );
                        self.outputs.push_back(crate::Output::Udm(UdmRequest::Confirm {
                            ue: id,
                            ctx: challenge.ctx,
                            res_star,
                        }));
                    }
                    _ => self.reject_authentication(id, "res_star_mismatch"),
                }
            }
            (
                UeState::Authenticating {
                    reg,
                    challenge,
                    resynced,
                },
                Message::AuthenticationFailure(f),
            ) => {
                self.timers.stop(id);
                // Only a 5G AKA challenge has a RAND here for the UDM's resync (EAP-AKA'
                // resynchronises inside EAP).
                let rand = match challenge.kind {
                    ChallengeKind::FiveGAka { rand, .. } => Some(rand),
                    ChallengeKind::EapAkaPrime => None,
                };
                match (f.cause, f.auts, rand) {
                    // TS 24.501 §5.4.1.3.7 d, TS 33.501 §6.1.3.3: resynchronise once.
                    (MmCause::SynchFailure, Some(auts), Some(rand)) if !resynced => {
                        self.event(Event::AuthenticationFailure {
                            ue: id,
                            reason: "synch_failure",
                        });
                        let identity = match self.identity_of(&reg) {
                            Some(i) => i,
                            None => {
                                return self.reject_registration(id, MmCause::UeIdentityCannotBeDerivedByTheNetwork);
                            }
                        };
                        self.set_state(id, UeState::AwaitingChallenge { reg, resynced: true });
                        let snn = self.serving_network_name();
                        self.outputs.push_back(crate::Output::Udm(UdmRequest::Authenticate {
                            ue: id,
                            identity,
                            serving_network_name: snn,
                            resync: Some((rand, auts.0)),
                        }));
                    }
                    // #20 MAC failure with a SUCI-identified UE, a second synch
                    // failure, #26: the network cannot authenticate this UE
                    // (§5.4.1.3.7 c, e): Authentication reject.
                    (MmCause::MacFailure, ..) => self.reject_authentication(id, "mac_failure"),
                    (MmCause::SynchFailure, ..) => self.reject_authentication(id, "synch_failure"),
                    _ => self.reject_authentication(id, "non_5g_authentication_unacceptable"),
                }
            }
            // --------------------------------------------------------- security mode
            (UeState::SecurityMode { reg, secured }, Message::SecurityModeComplete(c)) => {
                self.timers.stop(id);
                let mut reg = reg;
                let mut secured = secured;
                secured.imeisv = match c.imeisv {
                    Some(MobileIdentity::Imeisv(s)) => Some(s),
                    _ => None,
                };
                // TS 24.501 §5.4.2.3: the complete initial message, if retransmitted.
                if let Some(Ok(Message::RegistrationRequest(full))) = c.nas_message_container.map(|m| m.message()) {
                    reg.request = full;
                    reg.cleartext_only = false;
                }
                let supi = secured.supi.clone();
                self.set_state(id, UeState::AwaitingSubscription { reg, secured });
                self.outputs
                    .push_back(crate::Output::Udm(UdmRequest::SubscriptionData { ue: id, supi }));
            }
            (UeState::SecurityMode { .. }, Message::SecurityModeReject(r)) => {
                self.timers.stop(id);
                self.procedure("security_mode", Err(format!("{:?}", r.cause)));
                self.procedure("registration", Err("security mode rejected".into()));
                self.release_ue(id, Cause::Nas(CauseNas::Unspecified));
            }
            // ------------------------------------------------------ registration end
            (UeState::Accepting { secured, tmsi }, Message::RegistrationComplete(_)) => {
                self.timers.stop(id);
                if let Some(ue) = self.ues.get_mut(&id) {
                    ue.pending_downlink = None;
                }
                self.set_state(id, UeState::Registered { secured, tmsi });
                self.procedure("registration", Ok(()));
                if let Some(name) = self.config.settings.amf.network_name.clone() {
                    self.send_network_name(id, &name);
                }
            }
            // -------------------------------------------------------- deregistration
            (state, Message::DeregistrationRequestUeOriginating(d)) => {
                self.timers.stop(id);
                self.restore_state(id, state);
                // TS 24.501 §5.5.2.2.2: an accept unless switched off; then the NG
                // connection is released.
                if !d.deregistration_type.switch_off {
                    self.send_nas(
                        id,
                        Message::from(DeregistrationAcceptUeOriginating::new(MmHeader::default())),
                        None,
                    );
                }
                self.procedure("deregistration", Ok(()));
                self.release_ue(id, Cause::Nas(CauseNas::Deregister));
            }
            (UeState::Deregistering { .. }, Message::DeregistrationAcceptUeTerminated(_)) => {
                self.timers.stop(id);
                self.procedure("network_deregistration", Ok(()));
                self.set_state(id, UeState::Releasing { idle: None });
                self.release_ue(id, Cause::Nas(CauseNas::Deregister));
            }
            (state, Message::MmStatus(s)) => {
                self.restore_state(id, state);
                self.event(Event::Warning(format!("5GMM STATUS from UE {id}: {:?}", s.cause)));
            }
            (state, other) => {
                // TS 24.501 §7.4: message type not compatible with the protocol state.
                let initial = matches!(state, UeState::New);
                self.restore_state(id, state);
                self.event(Event::Warning(format!("unexpected {} from UE {id}", other.name())));
                let status = MmStatus::new(
                    MmHeader::default(),
                    MmCause::MessageTypeNotCompatibleWithTheProtocolState,
                );
                self.send_nas(id, Message::from(status), None);
                if initial && self.ues.get(&id).is_some_and(|u| u.pending_downlink.is_none()) {
                    self.release_ue(id, Cause::Nas(CauseNas::Unspecified));
                }
            }
        }
    }

    /// An initial registration on the current NAS security context: the complete
    /// request from the NAS message container (ciphered with the uplink COUNT of the
    /// message that carried it, TS 24.501 §4.4.6), then subscription data and a
    /// Registration accept with a new 5G-GUTI, as after a security mode.
    fn reregister_on_current_context(
        &mut self,
        id: u64,
        mut secured: Box<Secured>,
        cleartext: hexcore_nas::mm::RegistrationRequest,
    ) {
        // An initial registration starts without PDU sessions: the UE released them
        // locally (TS 24.501 §6.4.1.1 note; TS 23.502 §4.2.2.2.2 step 14).
        self.release_sm_contexts(&mut secured, hexcore_sbi::ReleaseCause::PduSessionStatusMismatch);
        let ue_ngksi = cleartext.ngksi;
        let request = match &cleartext.nas_message_container {
            None => cleartext,
            Some(container) => {
                match complete_message(&secured, Some(container)) {
                    Some(Message::RegistrationRequest(full)) => full,
                    _ => {
                        // §4.4.6: a container that does not hold a registration
                        // request is a protocol error; the UE hears why.
                        self.set_state(id, UeState::Accepting { secured, tmsi: 0 });
                        return self.reject_registration(id, MmCause::SemanticallyIncorrectMessage);
                    }
                }
            }
        };
        if !matches!(request.registration_type.value, RegistrationTypeValue::Initial) {
            self.set_state(id, UeState::Accepting { secured, tmsi: 0 });
            return self.reject_registration(id, MmCause::FiveGsServicesNotAllowed);
        }
        let reg = Box::new(RegInfo {
            ue_ngksi,
            cleartext_only: false,
            request,
        });
        let supi = secured.supi.clone();
        self.set_state(id, UeState::AwaitingSubscription { reg, secured });
        self.outputs
            .push_back(crate::Output::Udm(UdmRequest::SubscriptionData { ue: id, supi }));
    }

    /// The identity the UDM gets for a registration.
    fn identity_of(&self, reg: &RegInfo) -> Option<UeIdentity> {
        match &reg.request.mobile_identity {
            MobileIdentity::Suci(Suci::Imsi(s)) => Some(UeIdentity::Suci(s.to_sbi_string())),
            _ => None,
        }
    }

    /// TS 24.501 §5.5.1.2.2: check the request, then identify or authenticate.
    fn start_registration(&mut self, id: u64, reg: Box<RegInfo>) {
        use RegistrationTypeValue as T;
        match reg.request.registration_type.value {
            T::Initial | T::MobilityUpdating | T::PeriodicUpdating => {}
            // Emergency, SNPN onboarding and disaster roaming are not offered here.
            _ => return self.reject_registration(id, MmCause::FiveGsServicesNotAllowed),
        }
        if reg.ue_security_capability().is_none() {
            return self.reject_registration(id, MmCause::InvalidMandatoryInformation);
        }
        match &reg.request.mobile_identity {
            MobileIdentity::Suci(Suci::Imsi(s)) => {
                // One PLMN served, no roaming partners: a home network other than
                // ours cannot authenticate this UE (TS 24.501 §5.5.1.2.5 #11).
                if s.plmn != self.nas_plmn() {
                    return self.reject_registration(id, MmCause::PlmnNotAllowed);
                }
                let identity = UeIdentity::Suci(s.to_sbi_string());
                self.set_state(id, UeState::AwaitingChallenge { reg, resynced: false });
                let snn = self.serving_network_name();
                self.outputs.push_back(crate::Output::Udm(UdmRequest::Authenticate {
                    ue: id,
                    identity,
                    serving_network_name: snn,
                    resync: None,
                }));
            }
            MobileIdentity::Suci(Suci::Nai(_)) => {
                self.reject_registration(id, MmCause::UeIdentityCannotBeDerivedByTheNetwork)
            }
            // A 5G-GUTI this AMF has no context for (or any other identity): the
            // identification procedure asks for the SUCI (TS 24.501 §5.4.3).
            _ => {
                self.set_state(id, UeState::Identifying { reg });
                let req = IdentityRequest::new(MmHeader::default(), IdentityType::Suci, SpareHalfOctet(0));
                self.send_nas(id, Message::from(req), Some(NasTimer::T3570));
            }
        }
    }

    /// Registration reject (TS 24.501 §5.5.1.2.5), then release.
    fn reject_registration(&mut self, id: u64, cause: MmCause) {
        self.timers.stop(id);
        let reject = RegistrationReject::new(MmHeader::default(), cause);
        self.send_nas(id, Message::from(reject), None);
        self.procedure("registration", Err(format!("{cause:?}")));
        self.release_ue(id, Cause::Nas(CauseNas::Unspecified));
    }

    /// Authentication reject (TS 24.501 §5.4.1.3.5), then release.
    fn reject_authentication(&mut self, id: u64, reason: &'static str) {
        self.reject_authentication_with(id, reason, None);
    }

    /// Authentication reject, with the AUSF's EAP-Failure for an EAP-AKA' run
    /// (TS 24.501 §5.4.1.2.2.7, §8.2.5).
    fn reject_authentication_with(&mut self, id: u64, reason: &'static str, eap_failure: Option<Vec<u8>>) {
        self.timers.stop(id);
        self.event(Event::AuthenticationFailure { ue: id, reason });
        let mut reject = AuthenticationReject::new(MmHeader::default());
        reject.eap_message = eap_failure.map(EapMessage);
        self.send_nas(id, Message::from(reject), None);
        self.procedure("authentication", Err(reason.into()));
        self.procedure("registration", Err("authentication rejected".into()));
        self.release_ue(id, Cause::Nas(CauseNas::AuthenticationFailure));
    }

    /// Send an Authentication request — 5G AKA's RAND and AUTN, or EAP-AKA's
    /// EAP-Request (TS 33.501 §6.1.3.1 step 5) — with ngKSI and ABBA (TS 24.501
    /// §5.4.1.2.2.1, §5.4.1.3.2), guarded by T3560.
    fn send_challenge(&mut self, id: u64, reg: Box<RegInfo>, ctx: u64, ngksi: u8, body: AuthBody, resynced: bool) {
        let base = AuthenticationRequest::new(
            MmHeader::default(),
            NasKeySetIdentifier {
                mapped: false,
                ksi: ngksi,
            },
            SpareHalfOctet(0),
            Abba(vec![0, 0]),
        );
        let (request, kind) = match body {
            AuthBody::FiveGAka { rand, autn, hxres_star } => (
                AuthenticationRequest {
                    rand: Some(Rand(rand)),
                    autn: Some(Autn(autn)),
                    ..base
                },
                ChallengeKind::FiveGAka { rand, hxres_star },
            ),
            AuthBody::EapAkaPrime(eap) => (
                AuthenticationRequest {
                    eap_message: Some(EapMessage(eap)),
                    ..base
                },
                ChallengeKind::EapAkaPrime,
            ),
        };
        let challenge = Challenge { ctx, ngksi, kind };
        self.set_state(
            id,
            UeState::Authenticating {
                reg,
                challenge,
                resynced,
            },
        );
        self.send_nas(id, Message::from(request), Some(NasTimer::T3560));
    }

    /// A new ngKSI, different from the UE's current one (TS 24.501 §5.4.1.3.2).
    fn new_ngksi(reg: &RegInfo) -> u8 {
        let ue_ksi = reg.ue_ngksi.ksi;
        if ue_ksi >= 6 { 0 } else { ue_ksi + 1 }
    }

    /// An answer of the UDM/AUSF.
    pub(crate) fn udm_response(&mut self, response: UdmResponse) {
        let id = response.ue();
        let Some(state) = self.take_state(id) else { return };
        match (state, response) {
            (
                UeState::AwaitingChallenge { reg, resynced },
                UdmResponse::Challenge {
                    ctx,
                    rand,
                    autn,
                    hxres_star,
                    ..
                },
            ) => {
                let ngksi = Self::new_ngksi(&reg);
                let body = AuthBody::FiveGAka { rand, autn, hxres_star };
                self.send_challenge(id, reg, ctx, ngksi, body, resynced);
            }
            (UeState::AwaitingChallenge { reg, resynced }, UdmResponse::EapChallenge { ctx, eap, .. }) => {
                let ngksi = Self::new_ngksi(&reg);
                self.send_challenge(id, reg, ctx, ngksi, AuthBody::EapAkaPrime(eap), resynced);
            }
            // After a synchronisation failure the AUSF resynchronised and challenges
            // again (TS 33.501 §6.1.3.3.2 via EAP).
            (UeState::AwaitingConfirmation { reg, ngksi }, UdmResponse::EapChallenge { ctx, eap, .. }) => {
                self.event(Event::AuthenticationFailure {
                    ue: id,
                    reason: "synch_failure",
                });
                self.send_challenge(id, reg, ctx, ngksi, AuthBody::EapAkaPrime(eap), true);
            }
            (
                UeState::AwaitingChallenge { .. } | UeState::AwaitingConfirmation { .. },
                UdmResponse::EapFailure { eap, reason, .. },
            ) => {
                self.reject_authentication_with(id, reason, Some(eap));
            }
            (UeState::AwaitingChallenge { .. }, UdmResponse::Failed { failure, .. }) => {
                self.event(Event::AuthenticationFailure {
                    ue: id,
                    reason: failure_reason(failure),
                });
                match failure {
                    UdmFailure::AuthenticationRejected | UdmFailure::ResyncRefused => {
                        self.reject_authentication(id, failure_reason(failure))
                    }
                    other => self.reject_registration(id, reject_cause(other)),
                }
            }
            (
                UeState::AwaitingConfirmation { reg, ngksi },
                UdmResponse::Confirmed {
                    supi,
                    kseaf,
                    eap_success,
                    ..
                },
            ) => {
                self.procedure("authentication", Ok(()));
                self.drop_other_contexts(id, &supi);
                self.start_security_mode(id, reg, ngksi, supi, kseaf, eap_success);
            }
            (UeState::AwaitingConfirmation { .. }, UdmResponse::Failed { failure, .. }) => {
                self.reject_authentication(id, failure_reason(failure));
            }
            (UeState::AwaitingSubscription { reg, mut secured }, UdmResponse::Subscription { nssai, ue_ambr, .. }) => {
                secured.ue_ambr = ue_ambr;
                self.accept_registration(id, &reg, secured, &nssai);
            }
            (UeState::AwaitingSubscription { .. }, UdmResponse::Failed { failure, .. }) => {
                self.reject_registration(id, reject_cause(failure));
            }
            (state, other) => {
                // A late answer (the UE moved on or was released): ignore it.
                self.restore_state(id, state);
                self.event(Event::Warning(format!("stale UDM answer for UE {id}: {other:?}")));
            }
        }
    }

    /// KAMF, algorithm choice and the Security mode command (TS 24.501 §5.4.2.2,
    /// TS 33.501 §6.7.2).
    fn start_security_mode(
        &mut self,
        id: u64,
        reg: Box<RegInfo>,
        ngksi: u8,
        supi: String,
        kseaf: [u8; 32],
        eap_success: Option<Vec<u8>>,
    ) {
        let abba = [0u8, 0];
        let kamf = match keys::kamf(&kseaf, &supi, &abba) {
            Ok(k) => k,
            Err(e) => {
                self.event(Event::Warning(format!("KAMF derivation failed: {e}")));
                return self.reject_registration(id, MmCause::ProtocolErrorUnspecified);
            }
        };
        let Some(caps) = reg.ue_security_capability().cloned() else {
            return self.reject_registration(id, MmCause::InvalidMandatoryInformation);
        };
        let Some((nea, nia)) = select_algorithms(&self.config, &caps, false) else {
            return self.reject_registration(id, MmCause::UeSecurityCapabilitiesMismatch);
        };
        let nas = NasSecurityContext::new(Role::Network, &kamf, nea, nia, NasConnection::ThreeGpp);
        let smc = SecurityModeCommand {
            imeisv_request: Some(ImeisvRequest::Requested),
            // RINMR: ask for the complete initial message when only its cleartext IEs
            // came (TS 24.501 §4.4.6, §5.4.2.2).
            additional_security_information: Some(Additional5gSecurityInformation(if reg.cleartext_only {
                0x02
            } else {
                0
            })),
            // TS 24.501 §5.4.2.2: after EAP-based primary authentication the EAP-Success
            // and the ABBA ride in the Security mode command.
            abba: eap_success.is_some().then(|| Abba(abba.to_vec())),
            eap_message: eap_success.map(EapMessage),
            ..SecurityModeCommand::new(
                MmHeader::default(),
                nas_algorithms(nea, nia),
                NasKeySetIdentifier {
                    mapped: false,
                    ksi: ngksi,
                },
                SpareHalfOctet(0),
                caps.clone(),
            )
        };
        let secured = Box::new(Secured {
            supi,
            kamf,
            ngksi,
            nas,
            ue_security_capability: caps,
            imeisv: None,
            allowed_nssai: Vec::new(),
            ue_ambr: None,
            sessions: std::collections::BTreeMap::new(),
        });
        self.set_state(id, UeState::SecurityMode { reg, secured });
        self.send_nas(id, Message::from(smc), Some(NasTimer::T3560));
    }

    /// Allowed NSSAI = requested ∩ subscribed ∩ supported (subscribed ∩ supported
    /// when nothing was requested); none → #62 (TS 24.501 §5.5.1.2.5). Then the
    /// Registration accept rides in an INITIAL CONTEXT SETUP REQUEST with KgNB.
    fn accept_registration(
        &mut self,
        id: u64,
        reg: &RegInfo,
        mut secured: Box<Secured>,
        subscribed: &[(u8, Option<u32>)],
    ) {
        let supported = self.config.slices.clone();
        let ngap_of = |sst: u8, sd: Option<u32>| SNssai {
            sst,
            sd: sd.map(sd_octets),
        };
        let mut allowed: Vec<(u8, Option<u32>)> = subscribed
            .iter()
            .copied()
            .filter(|(sst, sd)| supported.contains(&ngap_of(*sst, *sd)))
            .collect();
        if let Some(requested) = reg.requested_nssai() {
            let wanted: Vec<(u8, Option<u32>)> = requested.0.iter().map(|s| (s.sst, s.sd)).collect();
            let both: Vec<(u8, Option<u32>)> = allowed.iter().copied().filter(|s| wanted.contains(s)).collect();
            // TS 23.501 §5.15.5.2.1: without a match the default subscribed slices.
            if !both.is_empty() {
                allowed = both;
            }
        }
        if allowed.is_empty() {
            // Accepting only so that the reject goes out protected.
            self.set_state(id, UeState::Accepting { secured, tmsi: 0 });
            return self.reject_registration(id, MmCause::NoNetworkSlicesAvailable);
        }
        secured.allowed_nssai = allowed.clone();
        let tmsi = self.allocate_tmsi();
        let g = &self.config.guami;
        let guti = Guti {
            plmn: self.nas_plmn(),
            amf_region_id: g.amf_region_id,
            amf_set_id: g.amf_set_id,
            amf_pointer: g.amf_pointer,
            tmsi,
        };
        let accept = RegistrationAccept {
            guti: Some(MobileIdentity::Guti(guti)),
            tai_list: Some(self.tai_list()),
            allowed_nssai: Some(Nssai(
                allowed.iter().map(|(sst, sd)| NasSNssai::new(*sst, *sd)).collect(),
            )),
            t3512_value: Some(gprs_timer3(self.config.settings.nas.t3512_secs)),
            ..RegistrationAccept::new(MmHeader::default(), RegistrationResult(AccessType::ThreeGpp.value()))
        };
        let plain = Message::from(accept).encode();
        // TS 33.501 §6.9.2.1.1: KgNB from the uplink COUNT of the Security mode
        // complete, the last uplink message.
        self.set_state(id, UeState::Accepting { secured, tmsi });
        self.initial_context_setup(id, &plain);
        if let Some(ue) = self.ues.get_mut(&id) {
            ue.pending_downlink = Some((plain, false));
            ue.retransmissions = 0;
        }
        if let Some(now) = self.now {
            let deadline = now + self.config.settings.timer(NasTimer::T3550);
            self.timers.start(id, NasTimer::T3550, deadline);
        }
    }

    fn allocate_tmsi(&mut self) -> u32 {
        loop {
            let tmsi = self.next_tmsi;
            self.next_tmsi = self.next_tmsi.wrapping_add(1);
            if !self.idle.contains_key(&tmsi) {
                return tmsi;
            }
        }
    }

    /// The 5G-TMSI of a 5G-GUTI / 5G-S-TMSI this AMF assigned (TS 23.003 §2.10).
    fn tmsi_of(&self, m: &Message) -> Option<u32> {
        let g = &self.config.guami;
        match m {
            Message::RegistrationRequest(r) => match &r.mobile_identity {
                MobileIdentity::Guti(guti)
                    if guti.plmn == self.nas_plmn()
                        && guti.amf_region_id == g.amf_region_id
                        && guti.amf_set_id == g.amf_set_id
                        && guti.amf_pointer == g.amf_pointer =>
                {
                    Some(guti.tmsi)
                }
                _ => None,
            },
            Message::ServiceRequest(r) => match &r.s_tmsi {
                MobileIdentity::STmsi(s) if s.amf_set_id == g.amf_set_id && s.amf_pointer == g.amf_pointer => {
                    Some(s.tmsi)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Bring back an idle UE's context if the initial message verifies with it
    /// (TS 24.501 §4.4.4.3); otherwise it stays idle and the message is handled as
    /// unprotected.
    fn resume_idle(&mut self, id: u64, tmsi: u32, sp: &SecurityProtected) {
        self.timers.stop(crate::timers::idle_key(tmsi));
        let Some(mut secured) = self.idle.remove(&tmsi) else {
            return;
        };
        if secured
            .nas
            .unprotect(sp.sequence_number, &sp.mac, &sp.payload, false)
            .is_ok()
        {
            self.set_state(id, UeState::Registered { secured, tmsi });
        } else {
            self.event(Event::NasDropped {
                ue: id,
                reason: "integrity",
            });
            self.park_idle(tmsi, secured);
            if let Some(now) = self.now {
                let t = NasTimer::ImplicitDeregistration;
                self.timers
                    .start(crate::timers::idle_key(tmsi), t, now + self.config.settings.timer(t));
            }
        }
    }

    /// Mobility or periodic registration update on the current context: a Registration
    /// accept (same 5G-GUTI, so no Registration complete is due) in an Initial Context
    /// Setup with a KgNB from this request's uplink COUNT, with the PDU session status
    /// and the re-activated sessions the request asked for (TS 24.501 §5.5.1.3.4).
    fn accept_update(
        &mut self,
        id: u64,
        secured: Box<Secured>,
        tmsi: u32,
        cleartext: &hexcore_nas::mm::RegistrationRequest,
    ) {
        // TS 24.501 §4.4.6: the non-cleartext IEs (PDU session status, uplink data
        // status) come in the complete message, ciphered in the NAS message container.
        let full = match complete_message(&secured, cleartext.nas_message_container.as_ref()) {
            Some(Message::RegistrationRequest(full)) => Some(full),
            _ => None,
        };
        let req = full.as_ref().unwrap_or(cleartext);
        let accept = RegistrationAccept {
            tai_list: Some(self.tai_list()),
            allowed_nssai: Some(Nssai(
                secured
                    .allowed_nssai
                    .iter()
                    .map(|(sst, sd)| NasSNssai::new(*sst, *sd))
                    .collect(),
            )),
            t3512_value: Some(gprs_timer3(self.config.settings.nas.t3512_secs)),
            ..RegistrationAccept::new(MmHeader::default(), RegistrationResult(AccessType::ThreeGpp.value()))
        };
        self.set_state(id, UeState::Registered { secured, tmsi });
        // §5.5.1.3.4: local release of the sessions the UE no longer has, user-plane
        // re-activation for its uplink data, then the accept.
        self.resume_sessions(
            id,
            req.pdu_session_status.as_ref(),
            req.uplink_data_status.as_ref(),
            Some(Box::new(accept)),
        );
    }

    fn tai_list(&self) -> TaiList {
        TaiList(vec![PartialTaiList::NonConsecutive {
            plmn: self.nas_plmn(),
            tacs: self.config.settings.amf.tacs.clone(),
        }])
    }

    /// INITIAL CONTEXT SETUP REQUEST (TS 38.413 §8.3.1) carrying `plain`, without PDU
    /// sessions.
    fn initial_context_setup(&mut self, id: u64, plain: &[u8]) {
        self.initial_context_setup_with(id, plain, Vec::new());
    }

    /// A NAS timer expired: retransmit, or give up on the fifth expiry (TS 24.501
    /// §5.4.1.3.7 a, §5.4.2.7 a, §5.4.3.6 a, §5.5.1.2.8 a).
    pub(crate) fn nas_timer_expired(&mut self, now: Instant, id: u64, timer: NasTimer) {
        if timer == NasTimer::ImplicitDeregistration {
            let tmsi = u32::try_from(id & u64::from(u32::MAX)).unwrap_or(0);
            if let Some(mut s) = self.idle.remove(&tmsi) {
                self.prune_supi(&s.supi);
                self.event(Event::Warning(format!("implicit deregistration of {}", s.supi)));
                self.release_sm_contexts(&mut s, hexcore_sbi::ReleaseCause::UeContextLost);
                self.procedure("implicit_deregistration", Ok(()));
            }
            return;
        }
        let max = self.config.settings.nas.max_retransmissions;
        let Some(ue) = self.ues.get_mut(&id) else { return };
        if ue.retransmissions >= max {
            ue.pending_downlink = None;
            self.procedure("registration", Err(format!("{} expired", timer.name())));
            return self.release_ue(id, Cause::Nas(CauseNas::Unspecified));
        }
        ue.retransmissions += 1;
        let Some((plain, new_context)) = ue.pending_downlink.clone() else {
            return;
        };
        self.event(Event::Retransmission {
            ue: id,
            timer: timer.name(),
        });
        self.send_nas_octets(id, &plain, new_context);
        self.timers.start(id, timer, now + self.config.settings.timer(timer));
    }

    /// UE CONTEXT RELEASE REQUEST (TS 38.413 §8.3.2) → UE CONTEXT RELEASE COMMAND.
    pub(crate) fn ue_context_release_request(
        &mut self,
        assoc: AssocId,
        pdu: &NgapPdu,
    ) -> Result<(), Box<ErrorIndication>> {
        let req = UeContextReleaseRequest::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = req.amf_ue_ngap_id.value();
        if self.ues.get(&id).is_none_or(|u| u.assoc != assoc) {
            return Err(unknown_ue(pdu, CauseRadioNetwork::UnknownLocalUeNgapId));
        }
        self.release_ue(id, req.cause);
        Ok(())
    }

    /// UE CONTEXT RELEASE COMPLETE (TS 38.413 §8.3.3): the context goes.
    pub(crate) fn ue_context_release_complete(
        &mut self,
        assoc: AssocId,
        pdu: &NgapPdu,
    ) -> Result<(), Box<ErrorIndication>> {
        let c = UeContextReleaseComplete::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = c.amf_ue_ngap_id.value();
        if self.ues.get(&id).is_none_or(|u| u.assoc != assoc) {
            return Err(unknown_ue(pdu, CauseRadioNetwork::UnknownLocalUeNgapId));
        }
        self.remove_ue(id);
        self.procedure("ue_context_release", Ok(()));
        Ok(())
    }

    pub(crate) fn initial_context_setup_response(
        &mut self,
        assoc: AssocId,
        pdu: &NgapPdu,
    ) -> Result<(), Box<ErrorIndication>> {
        let r = InitialContextSetupResponse::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = r.amf_ue_ngap_id.value();
        if self.ues.get(&id).is_none_or(|u| u.assoc != assoc) {
            return Err(unknown_ue(pdu, CauseRadioNetwork::UnknownLocalUeNgapId));
        }
        self.procedure("initial_context_setup", Ok(()));
        // Sessions re-activated by a Service Request (TS 23.502 §4.2.3.2 step 12).
        self.sessions_set_up(id, r.pdu_sessions, r.failed);
        Ok(())
    }

    pub(crate) fn initial_context_setup_failure(
        &mut self,
        assoc: AssocId,
        pdu: &NgapPdu,
    ) -> Result<(), Box<ErrorIndication>> {
        let f = InitialContextSetupFailure::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = f.amf_ue_ngap_id.value();
        if self.ues.get(&id).is_none_or(|u| u.assoc != assoc) {
            return Err(unknown_ue(pdu, CauseRadioNetwork::UnknownLocalUeNgapId));
        }
        self.procedure("initial_context_setup", Err(format!("{:?}", f.cause)));
        self.procedure("registration", Err("initial context setup failed".into()));
        self.release_ue(id, Cause::Nas(CauseNas::Unspecified));
        Ok(())
    }
}

fn failure_reason(f: UdmFailure) -> &'static str {
    match f {
        UdmFailure::UnknownSubscriber => "unknown_subscriber",
        UdmFailure::IdentityNotDerivable => "identity_not_derivable",
        UdmFailure::ServicesNotAllowed => "services_not_allowed",
        UdmFailure::AuthenticationRejected => "res_star_rejected_by_ausf",
        UdmFailure::ResyncRefused => "resync_refused",
        UdmFailure::Internal => "udm_internal",
    }
}

/// The 5GMM cause of a Registration reject for a UDM failure (TS 24.501 §5.5.1.2.5,
/// TS 29.509 §6.1.7.3 application errors).
fn reject_cause(f: UdmFailure) -> MmCause {
    match f {
        UdmFailure::UnknownSubscriber => MmCause::IllegalUe,
        UdmFailure::IdentityNotDerivable => MmCause::UeIdentityCannotBeDerivedByTheNetwork,
        UdmFailure::ServicesNotAllowed => MmCause::FiveGsServicesNotAllowed,
        UdmFailure::AuthenticationRejected | UdmFailure::ResyncRefused => MmCause::IllegalUe,
        UdmFailure::Internal => MmCause::ProtocolErrorUnspecified,
    }
}

/// A duration in GPRS timer 3 (TS 24.008 §10.5.7.4a): the finest unit that holds it
/// exactly, else the smallest representable value above it.
pub(crate) fn gprs_timer3(secs: u64) -> GprsTimer3 {
    // (unit code, seconds per unit), finest first.
    const UNITS: [(u8, u64); 7] = [
        (3, 2),
        (4, 30),
        (5, 60),
        (0, 600),
        (1, 3600),
        (2, 36_000),
        (6, 1_152_000),
    ];
    for (unit, per) in UNITS {
        if secs.is_multiple_of(per) && secs / per <= 31 {
            // secs / per ≤ 31 fits in five bits.
            return GprsTimer3 {
                unit,
                value: u8::try_from(secs / per).unwrap_or(31),
            };
        }
    }
    for (unit, per) in UNITS {
        let n = secs.div_ceil(per);
        if n <= 31 {
            return GprsTimer3 {
                unit,
                value: u8::try_from(n).unwrap_or(31),
            };
        }
    }
    GprsTimer3 { unit: 6, value: 31 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t3512_encoding() {
        // TS 24.008 Table 10.5.163a: unit bits 000 = 10 minutes, 001 = 1 hour.
        assert_eq!(gprs_timer3(3600), GprsTimer3 { unit: 0, value: 6 });
        assert_eq!(gprs_timer3(36_000), GprsTimer3 { unit: 1, value: 10 });
        assert_eq!(gprs_timer3(3600).seconds(), Some(3600));
        // 54 minutes has no exact GPRS timer 3 form: 60 minutes (6 × 10 min).
        assert_eq!(gprs_timer3(54 * 60).seconds(), Some(3600));
        assert_eq!(gprs_timer3(60), GprsTimer3 { unit: 3, value: 30 });
        assert_eq!(gprs_timer3(0), GprsTimer3 { unit: 3, value: 0 });
    }
}
