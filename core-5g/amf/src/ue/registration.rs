//! Registration of one UE (TS 24.501 §5.5.1, TS 23.502 §4.2.2.2.2): identification,
//! primary authentication with 5G AKA or EAP-AKA' through the AUSF (TS 33.501 §6.1.3),
//! security mode control (TS 24.501 §5.4.2), subscription data, the Registration
//! accept in an Initial Context Setup; updates on the current context; network-
//! initiated deregistration and configuration update.

use hexcore_nas::ie::{
    Abba, AccessType, Additional5gSecurityInformation, Autn, DeregistrationType, EapMessage, Guti, IdentityType,
    ImeisvRequest, MobileIdentity, NasKeySetIdentifier, NetworkName, Nssai, Rand, RegistrationResult,
    RegistrationTypeValue, SNssai as NasSNssai, SpareHalfOctet, Suci,
};
use hexcore_nas::mm::{
    AuthenticationFailure, AuthenticationReject, AuthenticationRequest, AuthenticationResponse,
    ConfigurationUpdateCommand, DeregistrationRequestUeTerminated, IdentityRequest, IdentityResponse, MmHeader,
    RegistrationAccept, RegistrationReject, RegistrationRequest, SecurityModeCommand, SecurityModeComplete,
};
use hexcore_nas::{Message, MmCause};
use hexcore_ngap::{Cause, CauseNas, SNssai};
use hexcore_sbi::ReleaseCause;
use hexcore_security::{NasConnection, NasSecurityContext, Role, keys};

use super::nas_security::{nas_algorithms, select_algorithms};
use super::{Challenge, ChallengeKind, Effect, Machine, MmContext, RegInfo, Tmsi, UeState};
use crate::config::sd_octets;
use crate::io::Event;
use crate::timers::NasTimer;
use crate::udm::{UdmFailure, UdmRequest, UdmResponse, UeIdentity};

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

impl Machine<'_, '_> {
    /// TS 24.501 §5.5.1.2.2: check the request, then identify or authenticate.
    pub(super) fn start_registration(&mut self, reg: Box<RegInfo>) -> UeState {
        use RegistrationTypeValue as T;
        match reg.request.registration_type.value {
            T::Initial | T::MobilityUpdating | T::PeriodicUpdating => {}
            // Emergency, SNPN onboarding and disaster roaming are not offered here.
            _ => return self.reject_registration(None, MmCause::FiveGsServicesNotAllowed),
        }
        if reg.ue_security_capability().is_none() {
            return self.reject_registration(None, MmCause::InvalidMandatoryInformation);
        }
        match &reg.request.mobile_identity {
            MobileIdentity::Suci(Suci::Imsi(s)) => {
                // One PLMN served, no roaming partners: a home network other than
                // ours cannot authenticate this UE (TS 24.501 §5.5.1.2.5 #11).
                if s.plmn != self.env.config.nas_plmn {
                    return self.reject_registration(None, MmCause::PlmnNotAllowed);
                }
                self.fx.udm(UdmRequest::Authenticate {
                    ue: self.conn.id.value(),
                    identity: UeIdentity::Suci(s.to_sbi_string()),
                    serving_network_name: self.env.config.serving_network_name.clone(),
                    resync: None,
                });
                UeState::AwaitingChallenge { reg, resynced: false }
            }
            MobileIdentity::Suci(Suci::Nai(_)) => {
                self.reject_registration(None, MmCause::UeIdentityCannotBeDerivedByTheNetwork)
            }
            // A 5G-GUTI this AMF has no context for (or any other identity): the
            // identification procedure asks for the SUCI (TS 24.501 §5.4.3).
            _ => {
                let req = IdentityRequest::new(MmHeader::default(), IdentityType::Suci, SpareHalfOctet(0));
                self.send_nas(None, Message::from(req), Some(NasTimer::T3570));
                UeState::Identifying { reg }
            }
        }
    }

    /// Identity response (TS 24.501 §5.4.3.4): with a SUCI the registration goes on.
    pub(super) fn identified(&mut self, mut reg: Box<RegInfo>, resp: IdentityResponse) -> UeState {
        match resp.mobile_identity {
            MobileIdentity::Suci(Suci::Imsi(suci)) => {
                reg.request.mobile_identity = MobileIdentity::Suci(Suci::Imsi(suci));
                self.start_registration(reg)
            }
            _ => self.reject_registration(None, MmCause::UeIdentityCannotBeDerivedByTheNetwork),
        }
    }

    /// Authentication response (TS 24.501 §5.4.1.3.4): 5G AKA's RES* is checked
    /// against HXRES* here first (TS 33.501 §6.1.3.2.0 step 10), then handed to the
    /// AUSF; an EAP-AKA' response's EAP message goes to the AUSF as it is (§6.1.3.1
    /// steps 6–7).
    pub(super) fn authentication_response(
        &mut self,
        reg: Box<RegInfo>,
        challenge: Challenge,
        resp: AuthenticationResponse,
    ) -> UeState {
        let ue = self.conn.id.value();
        let ctx = challenge.ctx;
        let next = UeState::AwaitingConfirmation {
            reg,
            ngksi: challenge.ngksi,
        };
        match challenge.kind {
            ChallengeKind::EapAkaPrime => match resp.eap_message {
                Some(eap) => {
                    self.fx.udm(UdmRequest::ConfirmEap { ue, ctx, eap: eap.0 });
                    next
                }
                None => self.reject_authentication(None, "no_eap_message", None),
            },
            ChallengeKind::FiveGAka { rand, hxres_star } => match resp.res_star.map(|r| r.0) {
                Some(res_star) if keys::verify_hres_star(&rand, &res_star, &hxres_star).is_ok() => {
                    self.fx.udm(UdmRequest::Confirm { ue, ctx, res_star });
                    next
                }
                _ => self.reject_authentication(None, "res_star_mismatch", None),
            },
        }
    }

    /// Authentication failure (TS 24.501 §5.4.1.3.7).
    pub(super) fn authentication_failure(
        &mut self,
        reg: Box<RegInfo>,
        challenge: Challenge,
        resynced: bool,
        f: AuthenticationFailure,
    ) -> UeState {
        // Only a 5G AKA challenge has a RAND here for the UDM's resync (EAP-AKA'
        // resynchronises inside EAP).
        let rand = match challenge.kind {
            ChallengeKind::FiveGAka { rand, .. } => Some(rand),
            ChallengeKind::EapAkaPrime => None,
        };
        match (f.cause, f.auts, rand) {
            // §5.4.1.3.7 d, TS 33.501 §6.1.3.3: resynchronise once.
            (MmCause::SynchFailure, Some(auts), Some(rand)) if !resynced => {
                self.fx.event(Event::AuthenticationFailure {
                    ue: self.conn.id.value(),
                    reason: "synch_failure",
                });
                let Some(identity) = identity_of(&reg) else {
                    return self.reject_registration(None, MmCause::UeIdentityCannotBeDerivedByTheNetwork);
                };
                self.fx.udm(UdmRequest::Authenticate {
                    ue: self.conn.id.value(),
                    identity,
                    serving_network_name: self.env.config.serving_network_name.clone(),
                    resync: Some((rand, auts.0)),
                });
                UeState::AwaitingChallenge { reg, resynced: true }
            }
            // #20 MAC failure with a SUCI-identified UE, a second synch failure, #26:
            // the network cannot authenticate this UE (§5.4.1.3.7 c, e):
            // Authentication reject.
            (MmCause::MacFailure, ..) => self.reject_authentication(None, "mac_failure", None),
            (MmCause::SynchFailure, ..) => self.reject_authentication(None, "synch_failure", None),
            _ => self.reject_authentication(None, "non_5g_authentication_unacceptable", None),
        }
    }

    /// Security mode complete (TS 24.501 §5.4.2.4): the IMEISV, the complete initial
    /// message if it was asked for, then the subscription data.
    pub(super) fn security_mode_complete(
        &mut self,
        mut reg: Box<RegInfo>,
        mut context: Box<MmContext>,
        c: hexcore_nas::mm::SecurityModeComplete,
    ) -> UeState {
        let SecurityModeComplete {
            imeisv,
            nas_message_container,
            ..
        } = c;
        context.imeisv = match imeisv {
            Some(MobileIdentity::Imeisv(s)) => Some(s),
            _ => None,
        };
        // TS 24.501 §5.4.2.3: the complete initial message, if retransmitted.
        if let Some(Ok(Message::RegistrationRequest(full))) = nas_message_container.map(|m| m.message()) {
            reg.request = full;
            reg.cleartext_only = false;
        }
        self.fx.udm(UdmRequest::SubscriptionData {
            ue: self.conn.id.value(),
            supi: context.supi.clone(),
        });
        UeState::AwaitingSubscription { reg, context }
    }

    /// Registration reject (TS 24.501 §5.5.1.2.5), protected with `context` when one
    /// is given; then the NG connection is released and the context forgotten.
    pub(super) fn reject_registration(&mut self, mut context: Option<Box<MmContext>>, cause: MmCause) -> UeState {
        self.stop_timer();
        let reject = RegistrationReject::new(MmHeader::default(), cause);
        self.send_nas(context.as_deref_mut(), Message::from(reject), None);
        self.fx.procedure("registration", Err(format!("{cause:?}")));
        self.forget(context, Cause::Nas(CauseNas::Unspecified))
    }

    /// Authentication reject (TS 24.501 §5.4.1.3.5), with the AUSF's EAP-Failure for an
    /// EAP-AKA' run (§5.4.1.2.2.7, §8.2.5), then release.
    fn reject_authentication(
        &mut self,
        context: Option<Box<MmContext>>,
        reason: &'static str,
        eap_failure: Option<Vec<u8>>,
    ) -> UeState {
        self.stop_timer();
        self.fx.event(Event::AuthenticationFailure {
            ue: self.conn.id.value(),
            reason,
        });
        let mut reject = AuthenticationReject::new(MmHeader::default());
        reject.eap_message = eap_failure.map(EapMessage);
        self.send_nas(None, Message::from(reject), None);
        self.fx.procedure("authentication", Err(reason.into()));
        self.fx.procedure("registration", Err("authentication rejected".into()));
        self.forget(context, Cause::Nas(CauseNas::AuthenticationFailure))
    }

    /// Send an Authentication request — 5G AKA's RAND and AUTN, or EAP-AKA''s
    /// EAP-Request (TS 33.501 §6.1.3.1 step 5) — with ngKSI and ABBA (TS 24.501
    /// §5.4.1.2.2.1, §5.4.1.3.2), guarded by T3560.
    fn send_challenge(&mut self, reg: Box<RegInfo>, ctx: u64, ngksi: u8, body: AuthBody, resynced: bool) -> UeState {
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
        self.send_nas(None, Message::from(request), Some(NasTimer::T3560));
        UeState::Authenticating {
            reg,
            challenge: Challenge { ctx, ngksi, kind },
            resynced,
        }
    }

    /// An answer of the UDM/AUSF.
    pub(super) fn udm_response(&mut self, state: UeState, response: UdmResponse) -> UeState {
        let ue = self.conn.id.value();
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
                let ngksi = new_ngksi(&reg);
                let body = AuthBody::FiveGAka { rand, autn, hxres_star };
                self.send_challenge(reg, ctx, ngksi, body, resynced)
            }
            (UeState::AwaitingChallenge { reg, resynced }, UdmResponse::EapChallenge { ctx, eap, .. }) => {
                let ngksi = new_ngksi(&reg);
                self.send_challenge(reg, ctx, ngksi, AuthBody::EapAkaPrime(eap), resynced)
            }
            // After a synchronisation failure the AUSF resynchronised and challenges
            // again (TS 33.501 §6.1.3.3.2 via EAP).
            (UeState::AwaitingConfirmation { reg, ngksi }, UdmResponse::EapChallenge { ctx, eap, .. }) => {
                self.fx.event(Event::AuthenticationFailure {
                    ue,
                    reason: "synch_failure",
                });
                self.send_challenge(reg, ctx, ngksi, AuthBody::EapAkaPrime(eap), true)
            }
            (
                UeState::AwaitingChallenge { .. } | UeState::AwaitingConfirmation { .. },
                UdmResponse::EapFailure { eap, reason, .. },
            ) => self.reject_authentication(None, reason, Some(eap)),
            (UeState::AwaitingChallenge { .. }, UdmResponse::Failed { failure, .. }) => {
                self.fx.event(Event::AuthenticationFailure {
                    ue,
                    reason: failure_reason(failure),
                });
                match failure {
                    UdmFailure::AuthenticationRejected | UdmFailure::ResyncRefused => {
                        self.reject_authentication(None, failure_reason(failure), None)
                    }
                    other => self.reject_registration(None, reject_cause(other)),
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
                self.fx.procedure("authentication", Ok(()));
                // One SUPI, one context: the AMF drops the others before this one goes on.
                self.fx.push(Effect::Authenticated {
                    ue: self.conn.id,
                    supi: supi.clone(),
                });
                self.start_security_mode(reg, ngksi, supi, kseaf, eap_success)
            }
            (UeState::AwaitingConfirmation { .. }, UdmResponse::Failed { failure, .. }) => {
                self.reject_authentication(None, failure_reason(failure), None)
            }
            (UeState::AwaitingSubscription { reg, mut context }, UdmResponse::Subscription { nssai, ue_ambr, .. }) => {
                context.ue_ambr = ue_ambr;
                self.accept_registration(&reg, context, &nssai)
            }
            // The reject goes out as before the context existed (a Registration reject
            // is one of the messages a UE takes unprotected, TS 24.501 §4.4.4.2).
            (UeState::AwaitingSubscription { .. }, UdmResponse::Failed { failure, .. }) => {
                self.reject_registration(None, reject_cause(failure))
            }
            (state, other) => {
                // A late answer (the UE moved on or was released): ignore it.
                self.fx
                    .event(Event::Warning(format!("stale UDM answer for UE {ue}: {other:?}")));
                state
            }
        }
    }

    /// KAMF, algorithm choice and the Security mode command (TS 24.501 §5.4.2.2,
    /// TS 33.501 §6.7.2).
    fn start_security_mode(
        &mut self,
        reg: Box<RegInfo>,
        ngksi: u8,
        supi: String,
        kseaf: [u8; 32],
        eap_success: Option<Vec<u8>>,
    ) -> UeState {
        let abba = [0u8, 0];
        let kamf = match keys::kamf(&kseaf, &supi, &abba) {
            Ok(k) => k,
            Err(e) => {
                self.fx.event(Event::Warning(format!("KAMF derivation failed: {e}")));
                return self.reject_registration(None, MmCause::ProtocolErrorUnspecified);
            }
        };
        let Some(caps) = reg.ue_security_capability().cloned() else {
            return self.reject_registration(None, MmCause::InvalidMandatoryInformation);
        };
        let Some((nea, nia)) = select_algorithms(self.env.config, &caps, false) else {
            return self.reject_registration(None, MmCause::UeSecurityCapabilitiesMismatch);
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
        let mut context = Box::new(MmContext {
            supi,
            kamf,
            ngksi,
            nas,
            ue_security_capability: caps,
            imeisv: None,
            allowed_nssai: Vec::new(),
            ue_ambr: None,
            sessions: Default::default(),
            paged: Default::default(),
            pending_n1n2: Vec::new(),
        });
        self.send_nas(Some(&mut context), Message::from(smc), Some(NasTimer::T3560));
        UeState::SecurityMode { reg, context }
    }

    /// Allowed NSSAI = requested ∩ subscribed ∩ supported (subscribed ∩ supported
    /// when nothing was requested); none → #62 (TS 24.501 §5.5.1.2.5). Then the
    /// Registration accept rides in an INITIAL CONTEXT SETUP REQUEST with KgNB.
    fn accept_registration(
        &mut self,
        reg: &RegInfo,
        mut context: Box<MmContext>,
        subscribed: &[(u8, Option<u32>)],
    ) -> UeState {
        let supported = &self.env.config.slices;
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
            // Protected: the UE has the new context.
            return self.reject_registration(Some(context), MmCause::NoNetworkSlicesAvailable);
        }
        context.allowed_nssai = allowed.clone();
        let tmsi = self.env.allocate_tmsi();
        let config = self.env.config;
        let g = &config.guami;
        let guti = Guti {
            plmn: config.nas_plmn,
            amf_region_id: g.amf_region_id,
            amf_set_id: g.amf_set_id,
            amf_pointer: g.amf_pointer,
            tmsi: tmsi.0,
        };
        let accept = RegistrationAccept {
            guti: Some(MobileIdentity::Guti(guti)),
            tai_list: Some(config.tai_list.clone()),
            allowed_nssai: Some(Nssai(
                allowed.iter().map(|(sst, sd)| NasSNssai::new(*sst, *sd)).collect(),
            )),
            t3512_value: Some(config.t3512),
            ..RegistrationAccept::new(MmHeader::default(), RegistrationResult(AccessType::ThreeGpp.value()))
        };
        let plain = Message::from(accept).encode();
        // TS 33.501 §6.9.2.1.1: KgNB from the uplink COUNT of the Security mode
        // complete, the last uplink message.
        if !self.initial_context_setup(&mut context, &plain, Vec::new()) {
            return self.forget(Some(context), Cause::Nas(CauseNas::Unspecified));
        }
        self.conn.pending_downlink = Some((plain, false));
        self.conn.retransmissions = 0;
        self.start_timer(NasTimer::T3550);
        UeState::Accepting { context, tmsi }
    }

    /// Mobility or periodic registration update on the current context: a Registration
    /// accept (same 5G-GUTI, so no Registration complete is due) in an Initial Context
    /// Setup with a KgNB from this request's uplink COUNT, with the PDU session status
    /// and the re-activated sessions the request asked for (TS 24.501 §5.5.1.3.4).
    pub(super) fn accept_update(
        &mut self,
        context: Box<MmContext>,
        tmsi: Tmsi,
        cleartext: &RegistrationRequest,
    ) -> UeState {
        // TS 24.501 §4.4.6: the non-cleartext IEs (PDU session status, uplink data
        // status) come in the complete message, ciphered in the NAS message container.
        let full = match context.complete_message(cleartext.nas_message_container.as_ref()) {
            Some(Message::RegistrationRequest(full)) => Some(full),
            _ => None,
        };
        let req = full.as_ref().unwrap_or(cleartext);
        let config = self.env.config;
        let accept = RegistrationAccept {
            tai_list: Some(config.tai_list.clone()),
            allowed_nssai: Some(Nssai(
                context
                    .allowed_nssai
                    .iter()
                    .map(|(sst, sd)| NasSNssai::new(*sst, *sd))
                    .collect(),
            )),
            t3512_value: Some(config.t3512),
            ..RegistrationAccept::new(MmHeader::default(), RegistrationResult(AccessType::ThreeGpp.value()))
        };
        // §5.5.1.3.4: local release of the sessions the UE no longer has, user-plane
        // re-activation for its uplink data, then the accept.
        self.resume_sessions(
            UeState::Registered { context, tmsi },
            req.pdu_session_status.as_ref(),
            req.uplink_data_status.as_ref(),
            Some(Box::new(accept)),
        )
    }

    /// An initial registration on the current NAS security context: the complete
    /// request from the NAS message container (ciphered with the uplink COUNT of the
    /// message that carried it, TS 24.501 §4.4.6), then subscription data and a
    /// Registration accept with a new 5G-GUTI, as after a security mode.
    pub(super) fn reregister_on_current_context(
        &mut self,
        mut context: Box<MmContext>,
        cleartext: RegistrationRequest,
    ) -> UeState {
        // An initial registration starts without PDU sessions: the UE released them
        // locally (TS 24.501 §6.4.1.1 note; TS 23.502 §4.2.2.2.2 step 14).
        context.release_sm_contexts(ReleaseCause::PduSessionStatusMismatch, self.fx);
        let ue_ngksi = cleartext.ngksi;
        let request = match &cleartext.nas_message_container {
            None => cleartext,
            Some(container) => match context.complete_message(Some(container)) {
                Some(Message::RegistrationRequest(full)) => full,
                // §4.4.6: a container that does not hold a registration request is a
                // protocol error; the UE hears why, protected.
                _ => return self.reject_registration(Some(context), MmCause::SemanticallyIncorrectMessage),
            },
        };
        if !matches!(request.registration_type.value, RegistrationTypeValue::Initial) {
            return self.reject_registration(Some(context), MmCause::FiveGsServicesNotAllowed);
        }
        let reg = Box::new(RegInfo {
            ue_ngksi,
            cleartext_only: false,
            request,
        });
        self.fx.udm(UdmRequest::SubscriptionData {
            ue: self.conn.id.value(),
            supi: context.supi.clone(),
        });
        UeState::AwaitingSubscription { reg, context }
    }

    /// Network-initiated deregistration of a registered UE (TS 24.501 §5.5.2.3): its
    /// PDU sessions are released (TS 23.502 §4.2.2.3.3 step 3) and a Deregistration
    /// request (re-registration not required) goes out, guarded by T3522.
    pub(super) fn start_network_deregistration(&mut self, state: UeState) -> UeState {
        let UeState::Registered { mut context, .. } = state else {
            return state;
        };
        context.release_sm_contexts(ReleaseCause::Deregistration, self.fx);
        let request = DeregistrationRequestUeTerminated::new(
            MmHeader::default(),
            DeregistrationType {
                switch_off: false,
                re_registration_required: false,
                access_type: AccessType::ThreeGpp,
            },
            SpareHalfOctet(0),
        );
        self.send_nas(Some(&mut context), Message::from(request), Some(NasTimer::T3522));
        UeState::Deregistering { context }
    }

    /// Configuration Update Command (TS 24.501 §5.4.4) carrying the network's full and
    /// short name (GSM 7-bit) and no acknowledgement request (so no T3555).
    pub(super) fn send_network_name(&mut self, mut state: UeState, network_name: &str) -> UeState {
        let mut cuc = ConfigurationUpdateCommand::new(MmHeader::default());
        cuc.full_name_for_network = Some(NetworkName::gsm7(network_name));
        cuc.short_name_for_network = Some(NetworkName::gsm7(network_name));
        self.send_nas(state.context_mut(), Message::from(cuc), None);
        self.fx.procedure("configuration_update", Ok(()));
        state
    }
}

/// The identity the UDM gets for a registration.
fn identity_of(reg: &RegInfo) -> Option<UeIdentity> {
    match &reg.request.mobile_identity {
        MobileIdentity::Suci(Suci::Imsi(s)) => Some(UeIdentity::Suci(s.to_sbi_string())),
        _ => None,
    }
}

/// A new ngKSI, different from the UE's current one (TS 24.501 §5.4.1.3.2).
fn new_ngksi(reg: &RegInfo) -> u8 {
    let ue_ksi = reg.ue_ngksi.ksi;
    if ue_ksi >= 6 { 0 } else { ue_ksi + 1 }
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
