//! NAS transport of one UE: uplink messages checked and deciphered against the 5GMM
//! context (TS 24.501 §4.4.4), dispatched on (state, message); downlink messages
//! protected and carried in a DOWNLINK NAS TRANSPORT, guarded by a NAS timer when the
//! procedure asks for an answer; and the release of the NG connection.

use hexcore_nas::mm::{DeregistrationAcceptUeOriginating, MmHeader, MmStatus, ServiceReject};
use hexcore_nas::{Message, MmCause, SecurityProtected};
use hexcore_ngap::procedures::{DownlinkNasTransport, UeContextReleaseCommand, UeNgapIds};
use hexcore_ngap::{Cause, CauseNas};
use hexcore_sbi::ReleaseCause;

use super::nas_security::protect;
use super::{Effect, Machine, MmContext, RegInfo, Tmsi, UeState};
use crate::io::Event;
use crate::timers::NasTimer;

impl Machine<'_, '_> {
    /// Check and decode an uplink NAS PDU, then dispatch it (TS 24.501 §4.4.4).
    /// `initial`: the message came in the Initial UE Message, with the CM-IDLE context
    /// it names, if any.
    pub(super) fn uplink_nas(
        &mut self,
        mut state: UeState,
        bytes: &[u8],
        initial: Option<Option<(Tmsi, Box<MmContext>)>>,
    ) -> UeState {
        let is_initial = initial.is_some();
        let mut idle = initial.flatten();
        let id = self.conn.id.value();
        let protected = matches!(bytes, [0x7E, h, ..] if h & 0x0F != 0);
        let decoded = if protected {
            match SecurityProtected::decode_outer(bytes) {
                Err(e) => Err(e),
                Ok(sp) => match state.context_mut() {
                    Some(c) => {
                        match c
                            .nas
                            .unprotect(sp.sequence_number, &sp.mac, &sp.payload, sp.header_type.is_ciphered())
                        {
                            Ok(plain) => Message::decode_inner(&plain),
                            Err(_) => {
                                // TS 24.501 §4.4.4.3: discarded; counted.
                                self.fx.event(Event::NasDropped {
                                    ue: id,
                                    reason: "integrity",
                                });
                                return state;
                            }
                        }
                    }
                    // No context here: an initial message protected with a context the
                    // AMF does not have is processed as if unprotected (§4.4.4.3); a
                    // ciphered one cannot be read.
                    None if !sp.header_type.is_ciphered() && is_initial => {
                        if let Some((tmsi, context)) = idle.take() {
                            state = self.resume_idle(state, tmsi, context, &sp);
                        }
                        Message::decode_inner(&sp.payload)
                    }
                    None => {
                        self.fx.event(Event::NasDropped {
                            ue: id,
                            reason: "no_context",
                        });
                        if let Some((tmsi, context)) = idle.take() {
                            self.fx.push(Effect::ParkIdle { tmsi, context });
                        }
                        if is_initial {
                            // Nothing of this connection can be trusted: it is dropped.
                            self.fx.push(Effect::Remove { ue: self.conn.id });
                        }
                        return state;
                    }
                },
            }
        } else {
            if state.requires_protection() {
                self.fx.event(Event::NasDropped {
                    ue: id,
                    reason: "unprotected",
                });
                return state;
            }
            Message::decode(bytes)
        };
        // An idle context the message did not get to verify against stays idle.
        if let Some((tmsi, context)) = idle {
            self.fx.push(Effect::ParkIdle { tmsi, context });
        }
        match decoded {
            Ok(message) => self.nas_message(state, message),
            Err(e) => {
                self.fx.event(Event::NasDropped {
                    ue: id,
                    reason: "undecodable",
                });
                // TS 24.501 §7: a 5GMM STATUS with the matching cause.
                let status = Message::from(MmStatus::new(MmHeader::default(), e.mm_cause()));
                self.send_nas(state.context_mut(), status, None);
                if is_initial {
                    self.release(state, Cause::Nas(CauseNas::Unspecified))
                } else {
                    state
                }
            }
        }
    }

    /// Bring back an idle UE's context if the initial message verifies with it
    /// (TS 24.501 §4.4.4.3); otherwise it goes back to CM-IDLE and the message is
    /// handled as unprotected.
    fn resume_idle(
        &mut self,
        state: UeState,
        tmsi: Tmsi,
        mut context: Box<MmContext>,
        sp: &SecurityProtected,
    ) -> UeState {
        if context
            .nas
            .unprotect(sp.sequence_number, &sp.mac, &sp.payload, false)
            .is_ok()
        {
            UeState::Registered { context, tmsi }
        } else {
            self.fx.event(Event::NasDropped {
                ue: self.conn.id.value(),
                reason: "integrity",
            });
            self.fx.push(Effect::ParkIdle { tmsi, context });
            state
        }
    }

    /// One checked uplink 5GMM message, in the UE's state.
    fn nas_message(&mut self, state: UeState, message: Message) -> UeState {
        use hexcore_nas::ie::RegistrationTypeValue as T;
        match (state, message) {
            // ---------------------------------------------------------- registration
            (UeState::New, Message::RegistrationRequest(req)) => {
                let reg = RegInfo {
                    ue_ngksi: req.ngksi,
                    cleartext_only: req.nas_message_container.is_none(),
                    request: req,
                };
                self.start_registration(Box::new(reg))
            }
            (UeState::Registered { context, tmsi }, Message::RegistrationRequest(req))
                if matches!(req.registration_type.value, T::MobilityUpdating | T::PeriodicUpdating) =>
            {
                // TS 24.501 §5.5.1.3: an integrity-checked update from a known UE is
                // accepted on its current context.
                self.accept_update(context, tmsi, &req)
            }
            (state @ UeState::Registered { .. }, Message::ServiceRequest(sr)) => self.service_request(state, &sr),
            (state @ UeState::Registered { .. }, Message::UlNasTransport(t)) => self.ul_nas_transport(state, t),
            (state @ UeState::New, Message::ServiceRequest(_)) => {
                // TS 24.501 §5.6.1.5: no context that verifies this UE.
                let reject = ServiceReject::new(MmHeader::default(), MmCause::UeIdentityCannotBeDerivedByTheNetwork);
                self.send_nas(None, Message::from(reject), None);
                self.fx
                    .procedure("service_request", Err("UeIdentityCannotBeDerivedByTheNetwork".into()));
                self.release(state, Cause::Nas(CauseNas::Unspecified))
            }
            // A complete for an accept that assigned nothing new: nothing to do.
            (state @ UeState::Registered { .. }, Message::RegistrationComplete(_)) => state,
            (UeState::Registered { context, .. }, Message::RegistrationRequest(req)) => {
                // An initial registration that verified with the current context (it
                // came integrity protected with the 5G-GUTI this AMF assigned, from
                // CM-IDLE or on a live connection): the UE is authenticated, so the
                // registration runs on that context without a new 5G-AKA, and a new
                // 5G-GUTI is assigned (TS 24.501 §5.5.1.2.2, §5.4.1.1: authentication
                // is at the network's discretion; TS 33.501 §6.9.2.1.1 for KgNB).
                self.reregister_on_current_context(context, req)
            }
            (UeState::Identifying { reg }, Message::IdentityResponse(resp)) => {
                self.stop_timer();
                self.identified(reg, resp)
            }
            // -------------------------------------------------------- authentication
            (UeState::Authenticating { reg, challenge, .. }, Message::AuthenticationResponse(resp)) => {
                self.stop_timer();
                self.authentication_response(reg, challenge, resp)
            }
            (
                UeState::Authenticating {
                    reg,
                    challenge,
                    resynced,
                },
                Message::AuthenticationFailure(f),
            ) => {
                self.stop_timer();
                self.authentication_failure(reg, challenge, resynced, f)
            }
            // --------------------------------------------------------- security mode
            (UeState::SecurityMode { reg, context }, Message::SecurityModeComplete(c)) => {
                self.stop_timer();
                self.security_mode_complete(reg, context, c)
            }
            (state @ UeState::SecurityMode { .. }, Message::SecurityModeReject(r)) => {
                self.stop_timer();
                self.fx.procedure("security_mode", Err(format!("{:?}", r.cause)));
                self.fx.procedure("registration", Err("security mode rejected".into()));
                self.release(state, Cause::Nas(CauseNas::Unspecified))
            }
            // ------------------------------------------------------ registration end
            (UeState::Accepting { context, tmsi }, Message::RegistrationComplete(_)) => {
                self.stop_timer();
                self.conn.pending_downlink = None;
                self.fx.procedure("registration", Ok(()));
                let state = UeState::Registered { context, tmsi };
                match self.env.config.network_name.clone() {
                    Some(name) => self.send_network_name(state, &name),
                    None => state,
                }
            }
            // -------------------------------------------------------- deregistration
            (mut state, Message::DeregistrationRequestUeOriginating(d)) => {
                self.stop_timer();
                // TS 24.501 §5.5.2.2.2: an accept unless switched off; then the NG
                // connection is released.
                if !d.deregistration_type.switch_off {
                    let accept = DeregistrationAcceptUeOriginating::new(MmHeader::default());
                    self.send_nas(state.context_mut(), Message::from(accept), None);
                }
                self.fx.procedure("deregistration", Ok(()));
                self.release(state, Cause::Nas(CauseNas::Deregister))
            }
            (UeState::Deregistering { .. }, Message::DeregistrationAcceptUeTerminated(_)) => {
                self.stop_timer();
                self.fx.procedure("network_deregistration", Ok(()));
                // The SM contexts were released when the request went out.
                self.release(UeState::Releasing { idle: None }, Cause::Nas(CauseNas::Deregister))
            }
            (state, Message::MmStatus(s)) => {
                self.fx.event(Event::Warning(format!(
                    "5GMM STATUS from UE {}: {:?}",
                    self.conn.id.value(),
                    s.cause
                )));
                state
            }
            (mut state, other) => {
                // TS 24.501 §7.4: message type not compatible with the protocol state.
                self.fx.event(Event::Warning(format!(
                    "unexpected {} from UE {} in state {}",
                    other.name(),
                    self.conn.id.value(),
                    state.name()
                )));
                let status = MmStatus::new(
                    MmHeader::default(),
                    MmCause::MessageTypeNotCompatibleWithTheProtocolState,
                );
                self.send_nas(state.context_mut(), Message::from(status), None);
                if matches!(state, UeState::New) && self.conn.pending_downlink.is_none() {
                    self.release(state, Cause::Nas(CauseNas::Unspecified))
                } else {
                    state
                }
            }
        }
    }

    /// Send a downlink NAS message: protected with `context` when given (a Security
    /// mode command with the new-context header), in a DOWNLINK NAS TRANSPORT. With
    /// `timer`, the message is kept for retransmission and the timer started.
    pub(super) fn send_nas(&mut self, context: Option<&mut MmContext>, message: Message, timer: Option<NasTimer>) {
        let plain = message.encode();
        let new_context = matches!(message, Message::SecurityModeCommand(_));
        self.send_nas_octets(context, &plain, new_context);
        if let Some(timer) = timer {
            self.conn.pending_downlink = Some((plain, new_context));
            self.conn.retransmissions = 0;
            self.start_timer(timer);
        }
    }

    /// Send an encoded plain NAS message (see [`Machine::send_nas`]).
    pub(super) fn send_nas_octets(&mut self, context: Option<&mut MmContext>, plain: &[u8], new_context: bool) {
        let nas_pdu = match context {
            Some(c) => match protect(&mut c.nas, plain, new_context) {
                Ok(b) => b,
                Err(e) => {
                    self.fx.event(Event::Warning(format!("NAS protection failed: {e}")));
                    return;
                }
            },
            None => plain.to_vec(),
        };
        let dl = DownlinkNasTransport {
            amf_ue_ngap_id: self.conn.id,
            ran_ue_ngap_id: self.conn.ran_ue_ngap_id,
            nas_pdu,
        };
        self.fx.ngap(self.conn.assoc, self.conn.stream, dl.build());
    }

    /// A plain 5GMM message, protected for the UE (no DL NAS TRANSPORT around it).
    pub(super) fn protected_nas(&mut self, context: &mut MmContext, plain: &[u8]) -> Option<Vec<u8>> {
        match protect(&mut context.nas, plain, false) {
            Ok(b) => Some(b),
            Err(e) => {
                self.fx.event(Event::Warning(format!("NAS protection failed: {e}")));
                None
            }
        }
    }

    pub(super) fn start_timer(&mut self, timer: NasTimer) {
        let deadline = self.env.now + self.env.config.timer(timer);
        self.conn.timer = Some((timer, deadline));
    }

    pub(super) fn stop_timer(&mut self) {
        self.conn.timer = None;
    }

    /// The NAS timer expired: retransmit, or give up on the fifth expiry (TS 24.501
    /// §5.4.1.3.7 a, §5.4.2.7 a, §5.4.3.6 a, §5.5.1.2.8 a).
    pub(super) fn timer_expired(&mut self, mut state: UeState) -> UeState {
        let Some((timer, _)) = self.conn.timer.take() else {
            return state;
        };
        if self.conn.retransmissions >= self.env.config.max_retransmissions {
            self.conn.pending_downlink = None;
            self.fx
                .procedure("registration", Err(format!("{} expired", timer.name())));
            return self.release(state, Cause::Nas(CauseNas::Unspecified));
        }
        let Some((plain, new_context)) = self.conn.pending_downlink.clone() else {
            return state;
        };
        self.conn.retransmissions += 1;
        self.fx.event(Event::Retransmission {
            ue: self.conn.id.value(),
            timer: timer.name(),
        });
        self.send_nas_octets(state.context_mut(), &plain, new_context);
        self.start_timer(timer);
        state
    }

    /// Ask the gNB to release the UE's NG connection (TS 38.413 §8.3.3). A registered
    /// UE stays registered in CM-IDLE unless it deregisters; any other 5GMM context is
    /// forgotten and its SM contexts released.
    pub(super) fn release(&mut self, state: UeState, cause: Cause) -> UeState {
        let idle = match state {
            UeState::Registered { context, tmsi } if cause != Cause::Nas(CauseNas::Deregister) => Some((context, tmsi)),
            UeState::Releasing { idle } => idle,
            other => return self.forget(other.into_context(), cause),
        };
        self.release_command(cause);
        UeState::Releasing { idle }
    }

    /// Release the NG connection and forget the 5GMM context, releasing its SM
    /// contexts (for deregistration, or because the context is lost).
    pub(super) fn forget(&mut self, context: Option<Box<MmContext>>, cause: Cause) -> UeState {
        if let Some(mut context) = context {
            let why = if cause == Cause::Nas(CauseNas::Deregister) {
                ReleaseCause::Deregistration
            } else {
                ReleaseCause::UeContextLost
            };
            context.release_sm_contexts(why, self.fx);
        }
        self.release_command(cause);
        UeState::Releasing { idle: None }
    }

    /// Release the NG connection and drop the 5GMM context without releasing its SM
    /// contexts: another context of the same SUPI took over (the SMF's contexts are
    /// left to the new registration, which starts without PDU sessions).
    pub(super) fn release_forgetting(&mut self, state: UeState, cause: Cause) -> UeState {
        match state {
            UeState::Registered { .. } => self.release(UeState::Releasing { idle: None }, cause),
            other => self.release(other, cause),
        }
    }

    fn release_command(&mut self, cause: Cause) {
        self.stop_timer();
        let cmd = UeContextReleaseCommand {
            ue_ngap_ids: UeNgapIds::Pair(self.conn.id, self.conn.ran_ue_ngap_id),
            cause,
        };
        self.fx.ngap(self.conn.assoc, self.conn.stream, cmd.build());
    }
}

/// The 5G-TMSI an Initial UE Message's NAS-PDU names, when it is integrity protected
/// without ciphering (so the AMF can read it before it has a context for this
/// connection) and carries a 5G-GUTI or 5G-S-TMSI that this AMF assigned (TS 23.003
/// §2.10): the CM-IDLE context the UE context must verify it against.
pub(crate) fn initial_tmsi(config: &crate::config::AmfConfig, bytes: &[u8]) -> Option<Tmsi> {
    if !matches!(bytes, [0x7E, h, ..] if h & 0x0F != 0) {
        return None;
    }
    let sp = SecurityProtected::decode_outer(bytes).ok()?;
    if sp.header_type.is_ciphered() {
        return None;
    }
    let message = Message::decode_inner(&sp.payload).ok()?;
    tmsi_of(config, &message)
}

/// The 5G-TMSI of a 5G-GUTI / 5G-S-TMSI this AMF assigned (TS 23.003 §2.10).
fn tmsi_of(config: &crate::config::AmfConfig, m: &Message) -> Option<Tmsi> {
    use hexcore_nas::ie::MobileIdentity;
    let g = &config.guami;
    match m {
        Message::RegistrationRequest(r) => match &r.mobile_identity {
            MobileIdentity::Guti(guti)
                if guti.plmn == config.nas_plmn
                    && guti.amf_region_id == g.amf_region_id
                    && guti.amf_set_id == g.amf_set_id
                    && guti.amf_pointer == g.amf_pointer =>
            {
                Some(Tmsi(guti.tmsi))
            }
            _ => None,
        },
        Message::ServiceRequest(r) => match &r.s_tmsi {
            MobileIdentity::STmsi(s) if s.amf_set_id == g.amf_set_id && s.amf_pointer == g.amf_pointer => {
                Some(Tmsi(s.tmsi))
            }
            _ => None,
        },
        _ => None,
    }
}
