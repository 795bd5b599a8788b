//! Per-UE state: one [`UeContext`] per NG connection, keyed by AMF UE NGAP ID, with a
//! 5GMM state machine whose states carry only the data valid in them.
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

mod nas_security;
mod network;
mod registration;
pub mod session;
pub(crate) mod supi_index;

pub use nas_security::{ngap_security_capabilities, select_algorithms};

use hexcore_nas::ie::{NasKeySetIdentifier, Nssai, UeSecurityCapability};
use hexcore_nas::mm::RegistrationRequest;
use hexcore_ngap::RanUeNgapId;
use hexcore_ngap::procedures::UserLocationNr;
use hexcore_security::NasSecurityContext;

use crate::amf::AssocId;

/// One UE's NG connection and 5GMM context.
#[derive(Debug)]
pub struct UeContext {
    /// The gNB's association.
    pub assoc: AssocId,
    /// The SCTP stream of this UE's signalling.
    pub stream: u16,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// Where the UE is.
    pub location: UserLocationNr,
    /// The 5GMM state.
    pub state: UeState,
    /// The state name last reported in an [`crate::Event::UeState`] (the gauge of
    /// UEs by state follows these events).
    pub reported_state: &'static str,
    /// Retransmissions of the message the running timer guards.
    pub retransmissions: u8,
    /// The plain NAS message the running timer guards, and whether it goes out with
    /// the new-context header (a Security mode command).
    pub pending_downlink: Option<(Vec<u8>, bool)>,
    /// A Service Request waiting for the SMFs before its Initial Context Setup.
    pub pending_service: Option<session::PendingService>,
}

/// What the UE asked for in its Registration request.
#[derive(Debug, Clone)]
pub struct RegInfo {
    /// The request (the complete one once a Security mode complete brought it).
    pub request: RegistrationRequest,
    /// The UE's ngKSI.
    pub ue_ngksi: NasKeySetIdentifier,
    /// Whether it arrived with only cleartext IEs.
    pub cleartext_only: bool,
}

impl RegInfo {
    /// UE security capability of the request.
    pub fn ue_security_capability(&self) -> Option<&UeSecurityCapability> {
        self.request.ue_security_capability.as_ref()
    }

    /// Requested NSSAI of the request.
    pub fn requested_nssai(&self) -> Option<&Nssai> {
        self.request.requested_nssai.as_ref()
    }
}

/// A challenge in flight.
#[derive(Debug, Clone, Copy)]
pub struct Challenge {
    /// AUSF context.
    pub ctx: u64,
    /// The ngKSI given to the new context.
    pub ngksi: u8,
    /// What the Authentication request carried.
    pub kind: ChallengeKind,
}

/// The authentication method of a [`Challenge`].
#[derive(Debug, Clone, Copy)]
pub enum ChallengeKind {
    /// 5G AKA: the SEAF checks HRES* itself before the AUSF sees RES*.
    FiveGAka {
        /// RAND.
        rand: [u8; 16],
        /// HXRES*.
        hxres_star: [u8; 16],
    },
    /// EAP-AKA': the Authentication response carries an EAP message, which only the
    /// AUSF checks.
    EapAkaPrime,
}

/// The NAS security established by a Security mode command.
#[derive(Debug, Clone)]
pub struct Secured {
    /// SUPI (IMSI digits).
    pub supi: String,
    /// KAMF.
    pub kamf: [u8; 32],
    /// ngKSI.
    pub ngksi: u8,
    /// The NAS security context (keys, algorithms, COUNTs).
    pub nas: NasSecurityContext,
    /// The UE's security capability, as it sent it.
    pub ue_security_capability: UeSecurityCapability,
    /// IMEISV, if the UE sent it.
    pub imeisv: Option<String>,
    /// Allowed NSSAI (SST, SD) once accepted.
    pub allowed_nssai: Vec<(u8, Option<u32>)>,
    /// Subscribed UE-AMBR (uplink, downlink), bit/s.
    pub ue_ambr: Option<(u64, u64)>,
    /// The UE's PDU sessions by PDU Session ID: the AMF's PDU session routing context
    /// (TS 24.501 §5.4.5.2.2), kept across CM-IDLE with the rest of the 5GMM context.
    pub sessions: std::collections::BTreeMap<u8, session::PduSession>,
}

/// The 5GMM state of a UE on the network side.
#[derive(Debug)]
pub enum UeState {
    /// Identity request sent (T3570).
    Identifying {
        /// The registration that waits for the identity.
        reg: Box<RegInfo>,
    },
    /// Waiting for the AUSF's challenge.
    AwaitingChallenge {
        /// The registration.
        reg: Box<RegInfo>,
        /// A resynchronisation was already asked for.
        resynced: bool,
    },
    /// Authentication request sent (T3560).
    Authenticating {
        /// The registration.
        reg: Box<RegInfo>,
        /// The challenge.
        challenge: Challenge,
        /// A resynchronisation was already asked for.
        resynced: bool,
    },
    /// RES* handed to the AUSF.
    AwaitingConfirmation {
        /// The registration.
        reg: Box<RegInfo>,
        /// The ngKSI of the new context.
        ngksi: u8,
    },
    /// Security mode command sent (T3560).
    SecurityMode {
        /// The registration.
        reg: Box<RegInfo>,
        /// The new context.
        secured: Box<Secured>,
    },
    /// Waiting for subscription data.
    AwaitingSubscription {
        /// The registration.
        reg: Box<RegInfo>,
        /// The context in use.
        secured: Box<Secured>,
    },
    /// Registration accept sent (T3550).
    Accepting {
        /// The context in use.
        secured: Box<Secured>,
        /// The 5G-TMSI assigned.
        tmsi: u32,
    },
    /// 5GMM-REGISTERED.
    Registered {
        /// The context in use.
        secured: Box<Secured>,
        /// The 5G-TMSI assigned.
        tmsi: u32,
    },
    /// Network-initiated Deregistration request sent (T3522).
    Deregistering {
        /// The context in use.
        secured: Box<Secured>,
    },
    /// A new NG connection whose first NAS message is being handled.
    New,
    /// UE Context Release Command sent; a registered UE's context is kept for when it
    /// comes back from CM-IDLE (TS 23.502 §4.2.6).
    Releasing {
        /// The context and 5G-TMSI of a UE that stays registered.
        idle: Option<(Box<Secured>, u32)>,
    },
}

impl UeState {
    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            UeState::Identifying { .. } => "identifying",
            UeState::AwaitingChallenge { .. } => "awaiting_challenge",
            UeState::Authenticating { .. } => "authenticating",
            UeState::AwaitingConfirmation { .. } => "awaiting_confirmation",
            UeState::SecurityMode { .. } => "security_mode",
            UeState::AwaitingSubscription { .. } => "awaiting_subscription",
            UeState::Accepting { .. } => "accepting",
            UeState::Registered { .. } => "registered",
            UeState::Deregistering { .. } => "deregistering",
            UeState::New => "new",
            UeState::Releasing { .. } => "releasing",
        }
    }

    /// The NAS security context, in the states that have one.
    pub fn secured_mut(&mut self) -> Option<&mut Secured> {
        match self {
            UeState::SecurityMode { secured, .. }
            | UeState::AwaitingSubscription { secured, .. }
            | UeState::Accepting { secured, .. }
            | UeState::Registered { secured, .. }
            | UeState::Deregistering { secured } => Some(secured),
            _ => None,
        }
    }

    /// The NAS security context, taken out of the states that have one.
    pub fn into_secured(self) -> Option<Box<Secured>> {
        match self {
            UeState::SecurityMode { secured, .. }
            | UeState::AwaitingSubscription { secured, .. }
            | UeState::Accepting { secured, .. }
            | UeState::Registered { secured, .. }
            | UeState::Deregistering { secured }
            | UeState::Releasing {
                idle: Some((secured, _)),
            } => Some(secured),
            _ => None,
        }
    }

    /// The SUPI, once authenticated.
    pub fn supi(&self) -> Option<&str> {
        match self {
            UeState::SecurityMode { secured, .. }
            | UeState::AwaitingSubscription { secured, .. }
            | UeState::Accepting { secured, .. }
            | UeState::Registered { secured, .. }
            | UeState::Deregistering { secured } => Some(&secured.supi),
            UeState::Releasing {
                idle: Some((secured, _)),
            } => Some(&secured.supi),
            _ => None,
        }
    }

    /// Whether every uplink message must be integrity protected and verified
    /// (TS 24.501 §4.4.4.3: once the secure exchange of NAS messages is established).
    pub fn requires_protection(&self) -> bool {
        matches!(
            self,
            UeState::AwaitingSubscription { .. }
                | UeState::Accepting { .. }
                | UeState::Registered { .. }
                | UeState::Deregistering { .. }
        )
    }
}
