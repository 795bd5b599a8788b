//! One UE as the AMF sees it: a [`Ue`] owns its NG connection (association, stream,
//! RAN/AMF UE NGAP IDs, location, the NAS message its timer guards) and its 5GMM state
//! machine ([`UeState`]), and handles one [`UeEvent`] at a time:
//! `ue.handle(&mut env, event, &mut effects)`. It never reaches into the AMF around it:
//! what crosses UE contexts — "one SUPI, one context", parking a 5GMM context in
//! CM-IDLE — leaves as an [`Effect`] for the [`crate::Amf`] to apply, in order with the
//! messages it sends. Its one NAS timer is read with [`Ue::timer`].
//!
//! Registration (TS 24.501 §5.5.1.2, TS 23.502 §4.2.2.2.2):
//! ```text
//! Initial UE Message (Registration request)
//!   ├─ SUCI ───────────────────────────────► AwaitingChallenge (UDM authenticate)
//!   └─ 5G-GUTI / other ─► Identifying (Identity request, T3570) ─► AwaitingChallenge
//! AwaitingChallenge ─► Authenticating (Authentication request, T3560)
//!   ├─ RES* ok (HXRES*) ─► AwaitingConfirmation (AUSF) ─► SecurityMode (SMC, T3560)
//!   ├─ synch failure (AUTS) ─► AwaitingChallenge (resync, once)
//!   └─ MAC failure / wrong RES* ─► Authentication reject ─► Releasing
//! EAP-AKA' subscribers (TS 33.501 §6.1.3.1): the Authentication request carries the
//! AUSF's EAP-Request, the response's EAP-Response goes to the AUSF (AwaitingConfirmation),
//! which answers with KSEAF and the EAP-Success (in the SMC), a new EAP-Request after a
//! resynchronisation, or the EAP-Failure (in the Authentication reject).
//! SecurityMode ─► Security mode complete ─► AwaitingSubscription (UDM)
//!   ─► Accepting (Initial Context Setup with Registration accept, T3550)
//!   ─► Registration complete ─► Registered
//! Deregistration request / UE Context Release Request ─► Releasing ─► (removed)
//! Registered UEs released without deregistration stay known (CM-IDLE) by 5G-TMSI:
//! an integrity-checked mobility/periodic Registration request or Service request
//! with their 5G-GUTI / 5G-S-TMSI resumes the context without a new 5G-AKA.
//! ```
//!
//! | module | what |
//! |---|---|
//! | [`state`] | [`UeState`] and the data of its states |
//! | [`context`] | [`MmContext`], the 5GMM context (also held alone in CM-IDLE) |
//! | `nas` | uplink NAS checks and dispatch, downlink NAS, release, timers |
//! | `registration` | registration, 5G-AKA / EAP-AKA', security mode, deregistration |
//! | `session` | PDU session routing: 5GSM transport, N1N2 messages, service request |
//! | `nas_security` | algorithm choice, protection of downlink messages |

pub mod context;
mod nas;
mod nas_security;
mod registration;
mod session;
pub mod state;

use std::collections::VecDeque;
use std::time::Instant;

use hexcore_ngap::procedures::{PduSessionTransferItem, UserLocationNr};
use hexcore_ngap::{AmfUeNgapId, Cause, NgapPdu, RanUeNgapId};
use hexcore_sbi::{AmfRequest, SmfRequest};

pub use context::{MmContext, RoutingContext};
pub use nas_security::{ngap_security_capabilities, select_algorithms};
pub use session::PendingService;
pub use state::{Challenge, ChallengeKind, RegInfo, UeState};

pub(crate) use nas::initial_tmsi;

use crate::config::AmfConfig;
use crate::io::{AssocId, Event, Output};
use crate::timers::NasTimer;
use crate::udm::{UdmRequest, UdmResponse};

/// A 5G-TMSI (TS 23.003 §2.10.1): the part of the 5G-GUTI this AMF assigns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tmsi(pub u32);

/// One UE context with an NG connection.
#[derive(Debug)]
pub struct Ue {
    conn: Connection,
    state: UeState,
    /// The state name last reported in an [`Event::UeState`] (the gauge of UEs by
    /// state follows these events).
    reported_state: &'static str,
}

/// The UE's NG connection: where its signalling goes, and the downlink NAS message
/// its running timer guards.
#[derive(Debug)]
pub(crate) struct Connection {
    /// AMF UE NGAP ID.
    pub(crate) id: AmfUeNgapId,
    /// The gNB's association.
    pub(crate) assoc: AssocId,
    /// The SCTP stream of this UE's signalling.
    pub(crate) stream: u16,
    /// RAN UE NGAP ID.
    pub(crate) ran_ue_ngap_id: RanUeNgapId,
    /// Where the UE is.
    pub(crate) location: UserLocationNr,
    /// The running NAS timer and its deadline.
    pub(crate) timer: Option<(NasTimer, Instant)>,
    /// Retransmissions of the message the running timer guards.
    pub(crate) retransmissions: u8,
    /// The plain NAS message the running timer guards, and whether it goes out with
    /// the new-context header (a Security mode command).
    pub(crate) pending_downlink: Option<(Vec<u8>, bool)>,
    /// A Service Request waiting for the SMFs before its Initial Context Setup.
    pub(crate) pending_service: Option<PendingService>,
}

/// What a UE context is told.
#[derive(Debug)]
pub enum UeEvent {
    /// The NAS-PDU of the Initial UE Message that opened this NG connection, with the
    /// CM-IDLE 5GMM context its 5G-GUTI or 5G-S-TMSI names (taken out of the AMF's idle
    /// contexts for this UE to verify the message against, TS 24.501 §4.4.4.3; given
    /// back as [`Effect::ParkIdle`] if it does not verify).
    InitialNas {
        /// The NAS-PDU.
        nas_pdu: Vec<u8>,
        /// The idle context the message names, if this AMF has one.
        idle: Option<(Tmsi, Box<MmContext>)>,
    },
    /// The NAS-PDU of an UPLINK NAS TRANSPORT (TS 38.413 §8.6.3), and where the UE is.
    UplinkNas {
        /// The NAS-PDU.
        nas_pdu: Vec<u8>,
        /// The User Location Information it carried.
        location: UserLocationNr,
    },
    /// The AUSF/UDM answered.
    Udm(UdmResponse),
    /// An SMF's answer or request about one of this UE's PDU sessions.
    Smf(AmfRequest),
    /// A request of this UE's could not reach an SMF.
    SmfUnreachable(SmfRequest),
    /// UE CONTEXT RELEASE REQUEST (TS 38.413 §8.3.2).
    ReleaseRequested(Cause),
    /// INITIAL CONTEXT SETUP RESPONSE (TS 38.413 §8.3.1.2), with the PDU sessions set
    /// up and failed.
    InitialContextSetupResponse {
        /// Sessions set up.
        setup: Vec<PduSessionTransferItem>,
        /// Sessions that failed.
        failed: Vec<PduSessionTransferItem>,
    },
    /// INITIAL CONTEXT SETUP FAILURE (TS 38.413 §8.3.1.3).
    InitialContextSetupFailure(Cause),
    /// PDU SESSION RESOURCE SETUP RESPONSE (TS 38.413 §8.2.1.2).
    SessionsSetUp {
        /// Sessions set up.
        setup: Vec<PduSessionTransferItem>,
        /// Sessions that failed.
        failed: Vec<PduSessionTransferItem>,
    },
    /// PDU SESSION RESOURCE RELEASE RESPONSE (TS 38.413 §8.2.2.2).
    SessionsReleased(Vec<PduSessionTransferItem>),
    /// PDU SESSION RESOURCE MODIFY RESPONSE (TS 38.413 §8.2.3.2).
    SessionsModified {
        /// Sessions modified.
        modified: Vec<PduSessionTransferItem>,
        /// Sessions whose modification failed.
        failed: Vec<PduSessionTransferItem>,
    },
    /// The deadline of [`Ue::timer`] has passed.
    Timeout,
    /// Network-initiated deregistration (TS 24.501 §5.5.2.3).
    Deregister,
    /// Send the network's name (Configuration Update Command, TS 24.501 §5.4.4).
    ConfigurationUpdate {
        /// The name.
        network_name: String,
    },
    /// Another context authenticated as this UE's SUPI: this NG connection is released
    /// and its 5GMM context forgotten (one SUPI, one context).
    Superseded,
}

/// What a UE context asks of the AMF around it, in the order it must happen.
#[derive(Debug)]
pub enum Effect {
    /// Hand this to the glue.
    Output(Output),
    /// This UE authenticated as `supi`: every other context of that SUPI goes
    /// (TS 23.502 §4.2.2.2.2 step 5 in spirit).
    Authenticated {
        /// The UE context that authenticated.
        ue: AmfUeNgapId,
        /// SUPI.
        supi: String,
    },
    /// Drop this UE context without a release: nothing of its connection can be
    /// trusted (a ciphered initial message for a context the AMF does not have).
    Remove {
        /// The UE context.
        ue: AmfUeNgapId,
    },
    /// Keep this 5GMM context in CM-IDLE under its 5G-TMSI (an idle context whose
    /// initial message did not verify goes back).
    ParkIdle {
        /// The 5G-TMSI.
        tmsi: Tmsi,
        /// The context.
        context: Box<MmContext>,
    },
}

/// The ordered effects of handling one event.
#[derive(Debug, Default)]
pub struct Effects(VecDeque<Effect>);

impl Effects {
    /// No effects yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one.
    pub fn push(&mut self, effect: Effect) {
        self.0.push_back(effect);
    }

    /// Take the first.
    pub fn pop(&mut self) -> Option<Effect> {
        self.0.pop_front()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The outputs among the effects (for tests and tools that drive a [`Ue`] alone).
    pub fn outputs(&self) -> impl Iterator<Item = &Output> {
        self.0.iter().filter_map(|e| match e {
            Effect::Output(o) => Some(o),
            _ => None,
        })
    }

    pub(crate) fn output(&mut self, output: Output) {
        self.push(Effect::Output(output));
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.output(Output::Event(event));
    }

    pub(crate) fn procedure(&mut self, procedure: &'static str, result: Result<(), String>) {
        let (outcome, cause) = match result {
            Ok(()) => ("success", String::new()),
            Err(c) => ("failure", c),
        };
        self.event(Event::Procedure {
            procedure,
            outcome,
            cause,
        });
    }

    pub(crate) fn udm(&mut self, request: UdmRequest) {
        self.output(Output::Udm(request));
    }

    pub(crate) fn smf(&mut self, request: SmfRequest) {
        self.output(Output::Smf(request));
    }

    /// Encode and queue an NGAP PDU (a message that cannot be built is a warning).
    pub(crate) fn ngap(&mut self, assoc: AssocId, stream: u16, pdu: Result<NgapPdu, hexcore_ngap::Error>) {
        match pdu.and_then(|p| p.encode()) {
            Ok(bytes) => self.output(Output::Ngap { assoc, stream, bytes }),
            Err(e) => self.event(Event::Warning(format!("cannot build an NGAP message: {e}"))),
        }
    }
}

/// What a UE context may use of the AMF while it handles an event: the configuration,
/// the time, and the 5G-TMSI allocator.
pub struct Env<'a> {
    /// The configuration.
    pub config: &'a AmfConfig,
    /// Now.
    pub now: Instant,
    next_tmsi: &'a mut u32,
    tmsi_in_use: &'a dyn Fn(Tmsi) -> bool,
}

impl<'a> Env<'a> {
    /// An environment whose 5G-TMSIs count up from `*next_tmsi`, skipping those
    /// `tmsi_in_use` names.
    pub fn new(
        config: &'a AmfConfig,
        now: Instant,
        next_tmsi: &'a mut u32,
        tmsi_in_use: &'a dyn Fn(Tmsi) -> bool,
    ) -> Self {
        Self {
            config,
            now,
            next_tmsi,
            tmsi_in_use,
        }
    }

    /// A 5G-TMSI no idle context holds.
    pub(crate) fn allocate_tmsi(&mut self) -> Tmsi {
        loop {
            let tmsi = Tmsi(*self.next_tmsi);
            *self.next_tmsi = self.next_tmsi.wrapping_add(1);
            if !(self.tmsi_in_use)(tmsi) {
                return tmsi;
            }
        }
    }
}

/// One summary line of a UE for the operator.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UeSummary {
    /// SUPI (IMSI digits), once authenticated.
    pub supi: Option<String>,
    /// 5GMM state on the network side (`registered`, `authenticating`, …).
    pub state: &'static str,
    /// CM-CONNECTED (an NG connection) or CM-IDLE.
    pub cm_connected: bool,
    /// AMF UE NGAP ID of the NG connection.
    pub amf_ue_ngap_id: Option<u64>,
    /// 5G-TMSI of the 5G-GUTI assigned.
    pub tmsi: Option<u32>,
}

impl Ue {
    /// A new NG connection opened by an Initial UE Message (TS 38.413 §8.6.1); its NAS
    /// message follows as [`UeEvent::InitialNas`].
    pub fn new(
        id: AmfUeNgapId,
        assoc: AssocId,
        stream: u16,
        ran_ue_ngap_id: RanUeNgapId,
        location: UserLocationNr,
        fx: &mut Effects,
    ) -> Self {
        fx.event(Event::UeState {
            ue: id.value(),
            from: None,
            to: Some("new"),
        });
        Self {
            conn: Connection {
                id,
                assoc,
                stream,
                ran_ue_ngap_id,
                location,
                timer: None,
                retransmissions: 0,
                pending_downlink: None,
                pending_service: None,
            },
            state: UeState::New,
            reported_state: "new",
        }
    }

    /// Handle one event; what it causes is appended to `fx`.
    pub fn handle(&mut self, env: &mut Env<'_>, event: UeEvent, fx: &mut Effects) {
        // Each transition takes the state by value and returns the next one; the
        // machine below has no access to `self.state`, so the value left here for the
        // duration of the call is never seen.
        let state = std::mem::replace(&mut self.state, UeState::New);
        let mut machine = Machine {
            conn: &mut self.conn,
            env,
            fx,
        };
        self.state = machine.on_event(state, event);
        self.report_state(fx);
    }

    /// The NG connection is gone (association down, NG Reset, UE Context Release
    /// Complete, a new Initial UE Message replacing it). A registered UE keeps its
    /// 5GMM context in CM-IDLE — returned with its 5G-TMSI for the AMF to park — after
    /// its active sessions are deactivated; any other context is forgotten and its SM
    /// contexts released.
    pub fn into_idle(self, fx: &mut Effects) -> Option<(Tmsi, Box<MmContext>)> {
        fx.event(Event::UeState {
            ue: self.conn.id.value(),
            from: Some(self.reported_state),
            to: None,
        });
        match self.state {
            UeState::Registered { mut context, tmsi }
            | UeState::Releasing {
                idle: Some((mut context, tmsi)),
            } => {
                context.deactivate_user_plane(fx);
                Some((tmsi, context))
            }
            other => {
                if let Some(mut context) = other.into_context() {
                    context.release_sm_contexts(hexcore_sbi::ReleaseCause::UeContextLost, fx);
                }
                None
            }
        }
    }

    /// AMF UE NGAP ID.
    pub fn id(&self) -> AmfUeNgapId {
        self.conn.id
    }

    /// The gNB's association.
    pub fn assoc(&self) -> AssocId {
        self.conn.assoc
    }

    /// RAN UE NGAP ID.
    pub fn ran_ue_ngap_id(&self) -> RanUeNgapId {
        self.conn.ran_ue_ngap_id
    }

    /// The 5GMM state.
    pub fn state(&self) -> &UeState {
        &self.state
    }

    /// The SUPI, once authenticated.
    pub fn supi(&self) -> Option<&str> {
        self.state.supi()
    }

    /// Whether this context is 5GMM-REGISTERED.
    pub fn is_registered(&self) -> bool {
        matches!(self.state, UeState::Registered { .. })
    }

    /// The running NAS timer and its deadline.
    pub fn timer(&self) -> Option<(NasTimer, Instant)> {
        self.conn.timer
    }

    /// The operator's view of this UE.
    pub fn summary(&self) -> UeSummary {
        UeSummary {
            supi: self.supi().map(str::to_string),
            state: self.state.name(),
            cm_connected: true,
            amf_ue_ngap_id: Some(self.conn.id.value()),
            tmsi: match &self.state {
                UeState::Registered { tmsi, .. } | UeState::Accepting { tmsi, .. } => Some(tmsi.0),
                _ => None,
            },
        }
    }

    fn report_state(&mut self, fx: &mut Effects) {
        let to = self.state.name();
        if to != self.reported_state {
            fx.event(Event::UeState {
                ue: self.conn.id.value(),
                from: Some(self.reported_state),
                to: Some(to),
            });
            self.reported_state = to;
        }
    }
}

/// A UE's procedures while it handles one event: its connection, the environment and
/// the effects — not its state, which each transition takes and returns by value.
pub(crate) struct Machine<'a, 'e> {
    pub(crate) conn: &'a mut Connection,
    pub(crate) env: &'a mut Env<'e>,
    pub(crate) fx: &'a mut Effects,
}

impl Machine<'_, '_> {
    fn on_event(&mut self, state: UeState, event: UeEvent) -> UeState {
        match event {
            UeEvent::InitialNas { nas_pdu, idle } => self.uplink_nas(state, &nas_pdu, Some(idle)),
            UeEvent::UplinkNas { nas_pdu, location } => {
                self.conn.location = location;
                self.uplink_nas(state, &nas_pdu, None)
            }
            UeEvent::Udm(response) => self.udm_response(state, response),
            UeEvent::Smf(message) => self.smf_message(state, message),
            UeEvent::SmfUnreachable(request) => self.smf_unreachable(state, request),
            UeEvent::ReleaseRequested(cause) => self.release(state, cause),
            UeEvent::InitialContextSetupResponse { setup, failed } => {
                self.fx.procedure("initial_context_setup", Ok(()));
                // Sessions re-activated by a Service Request (TS 23.502 §4.2.3.2 step 12).
                self.sessions_set_up(state, setup, failed)
            }
            UeEvent::InitialContextSetupFailure(cause) => {
                self.fx.procedure("initial_context_setup", Err(format!("{cause:?}")));
                self.fx
                    .procedure("registration", Err("initial context setup failed".into()));
                self.release(state, Cause::Nas(hexcore_ngap::CauseNas::Unspecified))
            }
            UeEvent::SessionsSetUp { setup, failed } => self.sessions_set_up(state, setup, failed),
            UeEvent::SessionsReleased(released) => {
                self.forward_transfers(state, released, hexcore_sbi::N2SmInfoType::PduResRelRsp)
            }
            UeEvent::SessionsModified { modified, failed } => {
                let state = self.forward_transfers(state, modified, hexcore_sbi::N2SmInfoType::PduResModRsp);
                self.forward_transfers(state, failed, hexcore_sbi::N2SmInfoType::PduResModFail)
            }
            UeEvent::Timeout => self.timer_expired(state),
            UeEvent::Deregister => self.start_network_deregistration(state),
            UeEvent::ConfigurationUpdate { network_name } => self.send_network_name(state, &network_name),
            UeEvent::Superseded => self.release_forgetting(state, Cause::Nas(hexcore_ngap::CauseNas::Unspecified)),
        }
    }
}
