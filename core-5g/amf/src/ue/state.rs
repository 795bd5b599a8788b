//! The 5GMM state of a UE on the network side, each state carrying only the data valid
//! in it: the registration being run, the challenge in flight, the 5GMM context once
//! NAS security is established.

use hexcore_nas::ie::{NasKeySetIdentifier, Nssai, UeSecurityCapability};
use hexcore_nas::mm::RegistrationRequest;

use super::{MmContext, Tmsi};

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
        context: Box<MmContext>,
    },
    /// Waiting for subscription data.
    AwaitingSubscription {
        /// The registration.
        reg: Box<RegInfo>,
        /// The context in use.
        context: Box<MmContext>,
    },
    /// Registration accept sent (T3550).
    Accepting {
        /// The context in use.
        context: Box<MmContext>,
        /// The 5G-TMSI assigned.
        tmsi: Tmsi,
    },
    /// 5GMM-REGISTERED.
    Registered {
        /// The context in use.
        context: Box<MmContext>,
        /// The 5G-TMSI assigned.
        tmsi: Tmsi,
    },
    /// Network-initiated Deregistration request sent (T3522).
    Deregistering {
        /// The context in use.
        context: Box<MmContext>,
    },
    /// A new NG connection whose first NAS message is being handled.
    New,
    /// UE Context Release Command sent; a registered UE's context is kept for when it
    /// comes back from CM-IDLE (TS 23.502 §4.2.6).
    Releasing {
        /// The context and 5G-TMSI of a UE that stays registered.
        idle: Option<(Box<MmContext>, Tmsi)>,
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

    /// The 5GMM context, in the states that have one.
    pub fn context(&self) -> Option<&MmContext> {
        match self {
            UeState::SecurityMode { context, .. }
            | UeState::AwaitingSubscription { context, .. }
            | UeState::Accepting { context, .. }
            | UeState::Registered { context, .. }
            | UeState::Deregistering { context } => Some(context),
            _ => None,
        }
    }

    /// The 5GMM context, in the states that have one.
    pub fn context_mut(&mut self) -> Option<&mut MmContext> {
        match self {
            UeState::SecurityMode { context, .. }
            | UeState::AwaitingSubscription { context, .. }
            | UeState::Accepting { context, .. }
            | UeState::Registered { context, .. }
            | UeState::Deregistering { context } => Some(context),
            _ => None,
        }
    }

    /// The 5GMM context, taken out of the states that have one (a registered UE's
    /// being released too).
    pub fn into_context(self) -> Option<Box<MmContext>> {
        match self {
            UeState::SecurityMode { context, .. }
            | UeState::AwaitingSubscription { context, .. }
            | UeState::Accepting { context, .. }
            | UeState::Registered { context, .. }
            | UeState::Deregistering { context }
            | UeState::Releasing {
                idle: Some((context, _)),
            } => Some(context),
            _ => None,
        }
    }

    /// The SUPI, once authenticated.
    pub fn supi(&self) -> Option<&str> {
        match self {
            UeState::SecurityMode { context, .. }
            | UeState::AwaitingSubscription { context, .. }
            | UeState::Accepting { context, .. }
            | UeState::Registered { context, .. }
            | UeState::Deregistering { context } => Some(&context.supi),
            UeState::Releasing {
                idle: Some((context, _)),
            } => Some(&context.supi),
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
