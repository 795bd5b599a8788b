//! A sans-IO UE: 5GMM (TS 24.501 §5) on top of the [`Usim`], SUCI concealment
//! (TS 33.501 §6.12) and NAS security (TS 24.501 §4.4, TS 33.501 §6.4).
//!
//! The UE never touches the radio or the clock: the simulator calls the procedure
//! starters ([`Ue::register`], [`Ue::deregister`], [`Ue::service_request`]) and
//! [`Ue::handle_nas`] with each downlink NAS PDU, then drains [`Ue::poll_transmit`]
//! (uplink NAS PDUs, each saying whether it needs a new signalling connection) and
//! [`Ue::poll_event`] (what happened, for the scenarios to check).
//!
//! What it does, by clause:
//! - initial registration with a SUCI (null scheme, Profile A, Profile B) and only the
//!   cleartext IEs; the full Registration Request goes in the NAS message container of
//!   Security Mode Complete (§4.4.6);
//! - registration with a 5G-GUTI under an existing security context: cleartext IEs,
//!   integrity protected, with the full message ciphered in the NAS message container
//!   (§4.4.6);
//! - 5G AKA: Authentication Response, or Authentication Failure #20 (MAC failure) or
//!   #21 with AUTS (synch failure) (§5.4.1.3);
//! - security mode control: checks the MAC with the new context, the replayed UE
//!   security capabilities and the ngKSI; Complete (type 4) or Reject #23/#24 (§5.4.2);
//! - Registration Complete when the Accept carries a 5G-GUTI (§5.5.1.2.4);
//! - deregistration UE-originated (normal, switch-off) and network-initiated (§5.5.2);
//! - identity response, service request (with the uplink data status and PDU session
//!   status in the ciphered NAS message container, §5.6.1.2, §4.4.6), the answer to
//!   paging, configuration update complete, 5GMM STATUS for messages it cannot decode
//!   (§7);
//! - 5GSM in UL/DL NAS TRANSPORT (§5.4.5): PDU session establishment, release and
//!   modification ([`crate::ue_sm`]), and 5GSM payloads the AMF returns unforwarded.

use std::collections::{BTreeSet, VecDeque};
use std::net::Ipv4Addr;

use hexcore_nas::ie::{
    DeregistrationType, Dnn, Guti, IdentityType, MobileIdentity, NasKeySetIdentifier, NasMessageContainer, Nssai,
    PayloadContainerType, PduSessionType, ProtectionScheme as NasScheme, PsiBitmap, RegistrationType,
    RegistrationTypeValue, RequestType, ResStar, SNssai, STmsi, SchemeOutput, ServiceType, Suci, SuciImsi,
    UeSecurityCapability,
};
use hexcore_nas::mm::*;
use hexcore_nas::{Message, MmCause, MmHeader, NasPdu, SecurityHeaderType, SecurityProtected, SmCause};
use hexcore_security::keys::{self, ServingNetworkName};
use hexcore_security::suci::{self, ProtectionScheme};
use hexcore_security::{Direction, NasConnection, NasSecurityContext, Nea, Nia, Role};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::ue_sm::{DEFAULT_PCO_REQUESTS, PduSession, PduSessionRequest, SessionState, Sm, SmTransmit};
use crate::usim::{Challenge, EapAnswer, Usim};

/// How the UE conceals its SUPI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuciProfile {
    /// Null scheme: the MSIN in clear.
    Null,
    /// ECIES Profile A with this home-network X25519 public key and key id.
    ProfileA {
        /// 32 octets.
        public_key: Vec<u8>,
        /// Home network public key identifier.
        key_id: u8,
    },
    /// ECIES Profile B with this home-network P-256 public key (SEC1) and key id.
    ProfileB {
        /// 33 or 65 octets.
        public_key: Vec<u8>,
        /// Home network public key identifier.
        key_id: u8,
    },
}

/// Deliberate deviations, for the negative scenarios.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// Answer every Security Mode Command with Security Mode Reject and this cause.
    pub reject_security_mode: Option<MmCause>,
}

/// Everything a UE is provisioned with.
#[derive(Debug, Clone)]
pub struct UeConfig {
    /// SUPI: the IMSI digits.
    pub imsi: String,
    /// Length of the MNC inside the IMSI (2 or 3).
    pub mnc_len: usize,
    /// Subscriber key K.
    pub k: [u8; 16],
    /// OPc.
    pub opc: [u8; 16],
    /// SUCI protection.
    pub suci: SuciProfile,
    /// Routing indicator (1 to 4 digits).
    pub routing_indicator: String,
    /// IMEISV (16 digits), sent when the network asks for it.
    pub imeisv: String,
    /// Requested NSSAI (SST, SD).
    pub nssai: Vec<(u8, Option<u32>)>,
    /// 5G-EA and 5G-IA capability octets (bit 8 = algorithm 0).
    pub nr_ea: u8,
    /// See `nr_ea`.
    pub nr_ia: u8,
    /// An SQN the USIM has already accepted (to provoke a resynchronisation).
    pub sqn_seen: Option<u64>,
    /// Seed of the RNG that draws the ECIES ephemeral keys.
    pub seed: u64,
    /// Set the follow-on request bit in registration requests (TS 24.501 §9.11.3.7).
    pub follow_on_request: bool,
    /// Deliberate deviations.
    pub behaviour: Behaviour,
    /// The empty items the extended PCO of a PDU Session Establishment Request asks for
    /// (TS 24.008 Table 10.5.154 identifiers; [`crate::ue_sm::pco`]).
    pub pco_requests: Vec<u16>,
}

impl UeConfig {
    /// A UE with the null scheme, NEA0–3/NIA0–3, routing indicator 0 and slice SST 1.
    pub fn new(imsi: &str, mnc_len: usize, k: [u8; 16], opc: [u8; 16]) -> Self {
        UeConfig {
            imsi: imsi.to_string(),
            mnc_len,
            k,
            opc,
            suci: SuciProfile::Null,
            routing_indicator: "0".to_string(),
            imeisv: "4370816125816151".to_string(),
            nssai: vec![(1, None)],
            nr_ea: 0xF0,
            nr_ia: 0xF0,
            sqn_seen: None,
            seed: 1,
            follow_on_request: false,
            behaviour: Behaviour::default(),
            pco_requests: DEFAULT_PCO_REQUESTS.to_vec(),
        }
    }

    /// MCC, MNC and MSIN of the IMSI.
    pub fn split_imsi(&self) -> Result<(&str, &str, &str), UeError> {
        let mcc = self.imsi.get(..3).ok_or(UeError::BadConfig("IMSI too short"))?;
        let mnc = self
            .imsi
            .get(3..3 + self.mnc_len)
            .ok_or(UeError::BadConfig("IMSI too short"))?;
        let msin = self
            .imsi
            .get(3 + self.mnc_len..)
            .ok_or(UeError::BadConfig("IMSI too short"))?;
        if msin.is_empty() || !self.imsi.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UeError::BadConfig("IMSI must be digits with a MSIN"));
        }
        Ok((mcc, mnc, msin))
    }
}

/// Why a UE call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UeError {
    /// The configuration cannot work (IMSI, keys).
    #[error("bad UE configuration: {0}")]
    BadConfig(&'static str),
    /// SUCI concealment failed (a bad home-network public key).
    #[error("SUCI concealment: {0}")]
    Suci(hexcore_security::Error),
    /// A procedure needs a state the UE is not in.
    #[error("{procedure} needs {needs}")]
    WrongState {
        /// The procedure asked for.
        procedure: &'static str,
        /// What it needs.
        needs: &'static str,
    },
    /// The NAS COUNT would wrap.
    #[error("NAS security: {0}")]
    Security(hexcore_security::Error),
}

/// Which registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationKind {
    /// Initial registration with a fresh SUCI (drops any security context).
    InitialSuci,
    /// Initial registration with the stored 5G-GUTI.
    InitialGuti,
    /// Mobility registration updating with the 5G-GUTI.
    MobilityUpdating,
    /// Periodic registration updating with the 5G-GUTI.
    PeriodicUpdating,
}

/// An uplink NAS PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UeTransmit {
    /// The NAS PDU.
    pub nas: Vec<u8>,
    /// It is an initial NAS message: the gNB sets up a new UE-associated logical
    /// connection (Initial UE Message) for it.
    pub initial: bool,
    /// For an initial message from a registered UE: its 5G-S-TMSI (NGAP IE).
    pub s_tmsi: Option<STmsi>,
    /// For an initial message: why the RRC connection is set up (TS 38.331), which the
    /// gNB passes on in the Initial UE Message (TS 38.413 §9.3.1.111).
    pub establishment_cause: EstablishmentCause,
}

/// The RRC establishment cause of an initial NAS message (TS 24.501 §5.6.1.2 and
/// TS 38.331 `EstablishmentCause`, as the gNB forwards it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EstablishmentCause {
    /// Mobile-originated signalling (registration, deregistration, service request
    /// for signalling).
    #[default]
    MoSignalling,
    /// Mobile-originated data (service request for uplink user data).
    MoData,
    /// Mobile-terminated access (the answer to paging).
    MtAccess,
}

/// What the UE saw or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UeEvent {
    /// An Authentication Request was answered with RES*.
    AuthenticationResponded,
    /// Answered an EAP-AKA' challenge with AT_RES (TS 33.501 §6.1.3.1).
    EapAuthenticationResponded,
    /// Refused an EAP-AKA' challenge (AKA'-Authentication-Reject, -Synchronization-
    /// Failure or -Client-Error), and why.
    EapChallengeRefused(&'static str),
    /// An Authentication Request was answered with Authentication Failure.
    AuthenticationFailureSent(MmCause),
    /// Authentication Reject received.
    AuthenticationRejected,
    /// Security Mode Command accepted.
    SecurityModeCompleted {
        /// Selected ciphering.
        nea: Nea,
        /// Selected integrity.
        nia: Nia,
    },
    /// Security Mode Command refused.
    SecurityModeRejected(MmCause),
    /// Registration Accept received.
    Registered {
        /// The assigned 5G-GUTI.
        guti: Option<Guti>,
        /// T3512 in seconds, when sent.
        t3512: Option<u64>,
    },
    /// Registration Reject received.
    RegistrationRejected(MmCause),
    /// Deregistration Accept received (UE-originating).
    Deregistered,
    /// The network deregistered the UE.
    DeregisteredByNetwork {
        /// Re-registration required.
        re_registration_required: bool,
        /// 5GMM cause, when sent.
        cause: Option<MmCause>,
    },
    /// Service Accept received.
    ServiceAccepted,
    /// Service Reject received.
    ServiceRejected(MmCause),
    /// Identity Request answered.
    IdentityRequested(IdentityType),
    /// Configuration Update Command received.
    ConfigurationUpdated,
    /// 5GMM STATUS received.
    StatusReceived(MmCause),
    /// A downlink PDU the UE could not decode; it answered with 5GMM STATUS.
    StatusSent(MmCause),
    /// A downlink PDU was discarded (integrity check failed, replay, unexpected).
    Discarded(String),
    /// Any other downlink message, by name.
    Received(String),
    /// PDU Session Establishment Accept (TS 24.501 §6.4.1.3).
    PduSessionEstablished {
        /// PDU session identity.
        psi: u8,
        /// The PDU address, when IPv4.
        ipv4: Option<Ipv4Addr>,
        /// QFI of the default QoS rule.
        qfi: u8,
        /// DNN (the Accept's, else the requested one).
        dnn: Option<String>,
    },
    /// PDU Session Establishment Reject (TS 24.501 §6.4.1.4).
    PduSessionRejected {
        /// PDU session identity.
        psi: u8,
        /// 5GSM cause.
        cause: SmCause,
    },
    /// The PDU session ended: Release Command answered with Release Complete
    /// (TS 24.501 §6.3.3, §6.4.3), or a local release (no cause).
    PduSessionReleased {
        /// PDU session identity.
        psi: u8,
        /// The Release Command's 5GSM cause; `None` for a local release.
        cause: Option<SmCause>,
    },
    /// PDU Session Release Reject (TS 24.501 §6.4.3.4): the session stays.
    PduSessionReleaseRejected {
        /// PDU session identity.
        psi: u8,
        /// 5GSM cause.
        cause: SmCause,
    },
    /// PDU Session Modification Command applied and completed (TS 24.501 §6.3.2).
    PduSessionModified {
        /// PDU session identity.
        psi: u8,
    },
    /// The AMF sent a 5GSM message back in DL NAS TRANSPORT with a 5GMM cause
    /// (TS 24.501 §5.4.5.3.3, e.g. #90 payload was not forwarded, #91 DNN not
    /// supported or not subscribed in the slice).
    PayloadNotForwarded {
        /// PDU session identity.
        psi: u8,
        /// 5GMM cause.
        cause: MmCause,
    },
    /// 5GSM STATUS received.
    SmStatusReceived {
        /// PDU session identity.
        psi: u8,
        /// 5GSM cause.
        cause: SmCause,
    },
    /// 5GSM STATUS sent for a message the UE could not take.
    SmStatusSent {
        /// PDU session identity.
        psi: u8,
        /// 5GSM cause.
        cause: SmCause,
    },
    /// Paging for this UE: it answers with a Service Request (TS 24.501 §5.6.2.2.1).
    Paged,
}

/// The 5GMM state (TS 24.501 §5.1.3.2.1), without the substates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MmState {
    /// 5GMM-DEREGISTERED.
    Deregistered,
    /// 5GMM-REGISTERED-INITIATED.
    RegisteredInitiated,
    /// 5GMM-REGISTERED.
    Registered,
    /// 5GMM-DEREGISTERED-INITIATED.
    DeregisteredInitiated,
    /// 5GMM-SERVICE-REQUEST-INITIATED.
    ServiceRequestInitiated,
}

/// A 5G AKA run that passed, waiting for the Security Mode Command.
#[derive(Debug, Clone)]
struct PendingKeys {
    ksi: u8,
    kamf: [u8; 32],
}

/// The current 5G NAS security context.
#[derive(Debug, Clone)]
struct Security {
    ksi: u8,
    kamf: [u8; 32],
    ctx: NasSecurityContext,
}

/// One UE.
#[derive(Debug)]
pub struct Ue {
    config: UeConfig,
    usim: Usim,
    rng: StdRng,
    state: MmState,
    connected: bool,
    pending: Option<PendingKeys>,
    security: Option<Security>,
    guti: Option<Guti>,
    /// The full initial Registration Request, for the SMC Complete container.
    initial_message: Option<Vec<u8>>,
    /// The initial message went with cleartext IEs only (no valid context).
    initial_cleartext_only: bool,
    /// UL NAS COUNT of the message the next KgNB derives from (TS 33.501 A.9,
    /// §6.9.2.1.1): the Security Mode Complete, or the initial NAS message (Service
    /// Request, registration) sent under an existing context.
    kgnb_count: Option<u32>,
    /// 5GSM.
    sm: Sm,
    /// PDU sessions with uplink data waiting for the user plane (TS 24.501 §5.6.1.1).
    uplink_pending: BTreeSet<u8>,
    transmits: VecDeque<UeTransmit>,
    events: VecDeque<UeEvent>,
}

impl Ue {
    /// A switched-on, deregistered UE.
    pub fn new(config: UeConfig) -> Result<Self, UeError> {
        config.split_imsi()?;
        let mut usim = Usim::new(&config.k, &config.opc);
        if let Some(sqn) = config.sqn_seen {
            usim = usim
                .with_sqn_seen(sqn)
                .ok_or(UeError::BadConfig("sqn_seen is more than Δ ahead"))?;
        }
        Ok(Ue {
            sm: Sm::new(config.pco_requests.clone()),
            rng: StdRng::seed_from_u64(config.seed),
            usim,
            config,
            state: MmState::Deregistered,
            connected: false,
            pending: None,
            security: None,
            guti: None,
            initial_message: None,
            initial_cleartext_only: false,
            kgnb_count: None,
            uplink_pending: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &UeConfig {
        &self.config
    }

    /// The 5GMM state.
    pub fn state(&self) -> MmState {
        self.state
    }

    /// SQN_MS: the highest SQN the USIM has accepted (TS 33.102 Annex C.2.1).
    pub fn sqn_ms(&self) -> u64 {
        self.usim.sqn_ms()
    }

    /// The 5G-GUTI, once assigned.
    pub fn guti(&self) -> Option<Guti> {
        self.guti
    }

    /// Replace the stored 5G-GUTI (e.g. with one the AMF never assigned, to provoke
    /// the identification procedure).
    pub fn set_guti(&mut self, guti: Option<Guti>) {
        self.guti = guti;
    }

    /// Whether the UE holds a 5G NAS security context.
    pub fn has_security_context(&self) -> bool {
        self.security.is_some()
    }

    /// Whether a signalling connection is up (5GMM-CONNECTED).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// KgNB as the UE derives it (TS 33.501 A.9) with the UL NAS COUNT of its Security
    /// Mode Complete, or of the initial NAS message it sent under an existing context
    /// (TS 33.501 §6.9.2.1.1), to compare with the key the AMF gave the gNB.
    pub fn kgnb(&self) -> Option<[u8; 32]> {
        let s = self.security.as_ref()?;
        Some(keys::kgnb(&s.kamf, self.kgnb_count?, keys::AccessType::ThreeGpp))
    }

    /// The next uplink NAS PDU.
    pub fn poll_transmit(&mut self) -> Option<UeTransmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<UeEvent> {
        self.events.pop_front()
    }

    /// The gNB released the signalling connection (UE Context Release, or the NG
    /// interface went away): 5GMM-IDLE.
    pub fn connection_released(&mut self) {
        self.connected = false;
        if self.state == MmState::DeregisteredInitiated {
            self.state = MmState::Deregistered;
        }
    }

    /// The PDU session status (the UE's active sessions) and uplink data status (those
    /// with uplink data waiting) of a Service request or registration update
    /// (TS 24.501 §5.6.1.2, §5.5.1.3.2); `None` for an empty one.
    fn session_status(&self) -> (Option<PsiBitmap>, Option<PsiBitmap>) {
        let psis: Vec<u8> = self
            .sm
            .psis()
            .into_iter()
            .filter(|p| !matches!(self.sm.state(*p), Some(SessionState::ActivePending { .. })))
            .collect();
        let pending: Vec<u8> = self
            .uplink_pending
            .iter()
            .copied()
            .filter(|p| psis.contains(p))
            .collect();
        let bitmap = |v: &[u8]| (!v.is_empty()).then(|| PsiBitmap::from_psis(v));
        (bitmap(&psis), bitmap(&pending))
    }

    /// Start a registration.
    pub fn register(&mut self, kind: RegistrationKind) -> Result<(), UeError> {
        let value = match kind {
            RegistrationKind::InitialSuci | RegistrationKind::InitialGuti => RegistrationTypeValue::Initial,
            RegistrationKind::MobilityUpdating => RegistrationTypeValue::MobilityUpdating,
            RegistrationKind::PeriodicUpdating => RegistrationTypeValue::PeriodicUpdating,
        };
        let use_guti = kind != RegistrationKind::InitialSuci;
        if !use_guti {
            self.security = None;
            self.pending = None;
        }
        let identity = match (use_guti, self.guti) {
            (true, Some(g)) => MobileIdentity::Guti(g),
            (true, None) => {
                return Err(UeError::WrongState {
                    procedure: "registration with 5G-GUTI",
                    needs: "a 5G-GUTI",
                });
            }
            (false, _) => self.suci()?,
        };
        let ngksi = match &self.security {
            Some(s) => NasKeySetIdentifier {
                mapped: false,
                ksi: s.ksi,
            },
            None => NasKeySetIdentifier::NO_KEY,
        };
        let registration_type = RegistrationType {
            follow_on_request: self.config.follow_on_request,
            value,
        };
        // TS 24.501 §4.4.6: cleartext IEs only in the initial message.
        let mut cleartext = RegistrationRequest::new(MmHeader::default(), registration_type, ngksi, identity);
        cleartext.ue_security_capability = Some(self.capability());
        let mut full = cleartext.clone();
        full.requested_nssai = Some(Nssai(
            self.config
                .nssai
                .iter()
                .map(|&(sst, sd)| SNssai::new(sst, sd))
                .collect(),
        ));
        if value != RegistrationTypeValue::Initial {
            // §5.5.1.3.2: an update tells the network which PDU sessions the UE still
            // has, and which have uplink data waiting.
            (full.pdu_session_status, full.uplink_data_status) = self.session_status();
        }
        let full = Message::from(full).encode();
        self.kgnb_count = None;
        self.state = MmState::RegisteredInitiated;
        self.connected = true;
        let s_tmsi = if use_guti { self.guti.map(|g| g.s_tmsi()) } else { None };
        self.initial_message = Some(full.clone());
        self.initial_cleartext_only = self.security.is_none();
        match self.security.as_mut() {
            None => {
                let nas = Message::from(cleartext).encode();
                self.transmits.push_back(UeTransmit {
                    nas,
                    initial: true,
                    s_tmsi,
                    establishment_cause: EstablishmentCause::MoSignalling,
                });
            }
            Some(sec) => {
                // The full message, ciphered with the COUNT this message will carry,
                // in the NAS message container; the whole integrity protected.
                let count = sec.ctx.next_tx_count().count_input();
                let ciphered = hexcore_security::nea(
                    sec.ctx.nea(),
                    sec.ctx.knas_enc(),
                    count,
                    NasConnection::ThreeGpp.bearer(),
                    Direction::Uplink,
                    &full,
                );
                cleartext.nas_message_container = Some(NasMessageContainer(ciphered));
                let nas = protect(sec, &Message::from(cleartext), SecurityHeaderType::IntegrityProtected)?;
                self.transmits.push_back(UeTransmit {
                    nas,
                    initial: true,
                    s_tmsi,
                    establishment_cause: EstablishmentCause::MoSignalling,
                });
            }
        }
        Ok(())
    }

    /// Start a UE-originating deregistration (TS 24.501 §5.5.2.2).
    pub fn deregister(&mut self, switch_off: bool) -> Result<(), UeError> {
        let identity = match self.guti {
            Some(g) => MobileIdentity::Guti(g),
            None => self.suci()?,
        };
        let ngksi = match &self.security {
            Some(s) => NasKeySetIdentifier {
                mapped: false,
                ksi: s.ksi,
            },
            None => NasKeySetIdentifier::NO_KEY,
        };
        let m = DeregistrationRequestUeOriginating::new(
            MmHeader::default(),
            DeregistrationType {
                switch_off,
                re_registration_required: false,
                access_type: hexcore_nas::ie::AccessType::ThreeGpp,
            },
            ngksi,
            identity,
        );
        self.send(Message::from(m))?;
        self.state = if switch_off {
            self.release_sessions_locally();
            MmState::Deregistered
        } else {
            MmState::DeregisteredInitiated
        };
        Ok(())
    }

    /// Start a service request from 5GMM-IDLE for signalling (TS 24.501 §5.6.1).
    pub fn service_request(&mut self) -> Result<(), UeError> {
        self.service_request_for(ServiceType::Signalling)
    }

    /// Start a service request of `service_type` (TS 24.501 §5.6.1.2): the PDU session
    /// status IE lists the UE's PDU sessions and the uplink data status IE those with
    /// uplink data waiting ([`Ue::uplink_data_pending`]). Both are non-cleartext IEs
    /// (§4.4.6): from 5GMM-IDLE the whole message goes ciphered in the NAS message
    /// container of a Service Request holding only the cleartext IEs, the two
    /// integrity protected together.
    pub fn service_request_for(&mut self, service_type: ServiceType) -> Result<(), UeError> {
        let Some(guti) = self.guti else {
            return Err(UeError::WrongState {
                procedure: "service request",
                needs: "a 5G-GUTI",
            });
        };
        let Some(ksi) = self.security.as_ref().map(|s| s.ksi) else {
            return Err(UeError::WrongState {
                procedure: "service request",
                needs: "a security context",
            });
        };
        let mut cleartext = ServiceRequest::new(
            MmHeader::default(),
            NasKeySetIdentifier { mapped: false, ksi },
            service_type,
            MobileIdentity::STmsi(guti.s_tmsi()),
        );
        let mut full = cleartext.clone();
        (full.pdu_session_status, full.uplink_data_status) = self.session_status();
        let cause = match service_type {
            ServiceType::Data => EstablishmentCause::MoData,
            ServiceType::MobileTerminatedServices => EstablishmentCause::MtAccess,
            _ => EstablishmentCause::MoSignalling,
        };
        self.state = MmState::ServiceRequestInitiated;
        if self.connected || full == cleartext {
            return self.send_with(Message::from(full).encode(), cause);
        }
        let Some(sec) = self.security.as_mut() else {
            return Err(UeError::WrongState {
                procedure: "service request",
                needs: "a security context",
            });
        };
        let count = sec.ctx.next_tx_count();
        let ciphered = hexcore_security::nea(
            sec.ctx.nea(),
            sec.ctx.knas_enc(),
            count.count_input(),
            NasConnection::ThreeGpp.bearer(),
            Direction::Uplink,
            &Message::from(full).encode(),
        );
        cleartext.nas_message_container = Some(NasMessageContainer(ciphered));
        let nas = protect(sec, &Message::from(cleartext), SecurityHeaderType::IntegrityProtected)?;
        self.connected = true;
        self.kgnb_count = Some(count.value());
        self.transmits.push_back(UeTransmit {
            nas,
            initial: true,
            s_tmsi: Some(guti.s_tmsi()),
            establishment_cause: cause,
        });
        Ok(())
    }

    /// The network paged this UE (TS 24.501 §5.6.2.2.1): from 5GMM-IDLE, a Service
    /// Request for mobile terminated services.
    pub fn paged(&mut self) -> Result<(), UeError> {
        if self.connected || self.state != MmState::Registered {
            return Ok(());
        }
        self.events.push_back(UeEvent::Paged);
        self.service_request_for(ServiceType::MobileTerminatedServices)
    }

    /// Note uplink data waiting for PDU session `psi` without asking for radio resources
    /// now: the next Service request or registration update names it in its uplink
    /// data status (e.g. a periodic registration update that comes first).
    pub fn note_uplink_data(&mut self, psi: u8) {
        if self.sm.session(psi).is_some() {
            self.uplink_pending.insert(psi);
        }
    }

    /// The user plane has uplink data for PDU session `psi` but no radio bearer: from
    /// 5GMM-IDLE the UE asks for it with a Service Request for data (TS 24.501
    /// §5.6.1.1 b), naming the session in the uplink data status.
    pub fn uplink_data_pending(&mut self, psi: u8) -> Result<(), UeError> {
        if self.sm.session(psi).is_none() {
            return Ok(());
        }
        self.uplink_pending.insert(psi);
        if self.connected || self.state != MmState::Registered {
            return Ok(());
        }
        self.service_request_for(ServiceType::Data)
    }

    /// Start a UE-requested PDU session establishment (TS 24.501 §6.4.1.2) of type
    /// IPv4, in an UL NAS TRANSPORT with request type "initial request" (§5.4.5.2.2).
    /// Needs 5GMM-REGISTERED and a signalling connection.
    pub fn establish_pdu_session(
        &mut self,
        psi: u8,
        dnn: Option<&str>,
        s_nssai: Option<(u8, Option<u32>)>,
    ) -> Result<(), UeError> {
        self.can_sm("PDU session establishment")?;
        self.sm.establish(PduSessionRequest {
            psi,
            dnn: dnn.map(str::to_string),
            s_nssai,
            pdu_session_type: PduSessionType::Ipv4,
        })?;
        self.flush_sm()
    }

    /// Start a UE-requested PDU session release (TS 24.501 §6.4.3.2).
    pub fn release_pdu_session(&mut self, psi: u8) -> Result<(), UeError> {
        self.can_sm("PDU session release")?;
        self.sm.release(psi)?;
        self.flush_sm()
    }

    /// An active PDU session.
    pub fn pdu_session(&self, psi: u8) -> Option<&PduSession> {
        self.sm.session(psi)
    }

    /// The 5GSM state of a PDU session identity (`None`: inactive).
    pub fn pdu_session_state(&self, psi: u8) -> Option<&SessionState> {
        self.sm.state(psi)
    }

    /// The PDU session identities not inactive.
    pub fn pdu_sessions(&self) -> Vec<u8> {
        self.sm.psis()
    }

    fn can_sm(&self, procedure: &'static str) -> Result<(), UeError> {
        if self.state != MmState::Registered || self.security.is_none() {
            return Err(UeError::WrongState {
                procedure,
                needs: "5GMM-REGISTERED",
            });
        }
        if !self.connected {
            return Err(UeError::WrongState {
                procedure,
                needs: "a signalling connection (5GMM-CONNECTED): a service request first",
            });
        }
        Ok(())
    }

    /// Send what 5GSM queued, each in an UL NAS TRANSPORT, and pass its events on.
    fn flush_sm(&mut self) -> Result<(), UeError> {
        self.events.extend(self.sm.events.drain(..));
        while let Some(t) = self.sm.poll_transmit() {
            self.send(Message::from(ul_nas_transport(&t)))?;
        }
        Ok(())
    }

    /// Every PDU session ends with the registration (TS 24.501 §5.5.2.2.6,
    /// §5.5.2.3.2: released locally).
    fn release_sessions_locally(&mut self) {
        for psi in self.sm.psis() {
            self.sm.local_release(psi);
        }
        self.uplink_pending.clear();
        self.events.extend(self.sm.events.drain(..));
    }

    fn dl_nas_transport(&mut self, t: &DlNasTransport) {
        if t.payload_container_type != PayloadContainerType::N1SmInformation {
            self.events
                .push_back(UeEvent::Received(Message::from(t.clone()).summary()));
            return;
        }
        let psi = t.pdu_session_id.map(|p| p.0);
        let payload = &t.payload_container.0;
        if let Some(cause) = t.cause {
            self.sm.not_forwarded(psi, cause, payload);
        } else {
            match Message::decode(payload) {
                Ok(m) if m.sm_header().is_some() => self.sm.handle(m),
                Ok(m) => self.events.push_back(UeEvent::Discarded(format!(
                    "{} in a DL NAS TRANSPORT for N1 SM information",
                    m.name()
                ))),
                Err(e) => self.sm.undecodable(payload, e.sm_cause()),
            }
        }
        if let Err(e) = self.flush_sm() {
            self.events.push_back(UeEvent::Discarded(format!("cannot answer: {e}")));
        }
    }

    /// Send a plain message in the current context (protected when there is one):
    /// for scenarios that need a message the procedures do not produce, e.g. a
    /// malformed one (then pass its octets to [`Ue::send_raw`]).
    pub fn send(&mut self, m: Message) -> Result<(), UeError> {
        self.send_raw(m.encode())
    }

    /// Send octets as the payload of a NAS PDU: protected (type 2) when a security
    /// context exists, as they are otherwise.
    pub fn send_raw(&mut self, plain: Vec<u8>) -> Result<(), UeError> {
        self.send_with(plain, EstablishmentCause::MoSignalling)
    }

    fn send_with(&mut self, plain: Vec<u8>, establishment_cause: EstablishmentCause) -> Result<(), UeError> {
        let initial = !self.connected;
        self.connected = true;
        let nas = match self.security.as_mut() {
            // An initial message goes integrity protected but not ciphered (§4.4.6);
            // its COUNT derives the next KgNB (TS 33.501 §6.9.2.1.1).
            Some(sec) if initial => {
                self.kgnb_count = Some(sec.ctx.next_tx_count().value());
                protect_raw(sec, &plain, SecurityHeaderType::IntegrityProtected)?
            }
            Some(sec) => protect_raw(sec, &plain, SecurityHeaderType::IntegrityProtectedAndCiphered)?,
            None => plain,
        };
        let s_tmsi = if initial { self.guti.map(|g| g.s_tmsi()) } else { None };
        self.transmits.push_back(UeTransmit {
            nas,
            initial,
            s_tmsi,
            establishment_cause,
        });
        Ok(())
    }

    /// Handle one downlink NAS PDU.
    pub fn handle_nas(&mut self, pdu: &[u8]) {
        match pdu {
            [0x7E, h, ..] if h & 0x0F != 0 => self.handle_protected(pdu),
            _ => match Message::decode(pdu) {
                Ok(m) => self.handle_message(m, false),
                Err(e) => self.status(e.mm_cause()),
            },
        }
    }

    fn handle_protected(&mut self, pdu: &[u8]) {
        let sp = match SecurityProtected::decode_outer(pdu) {
            Ok(sp) => sp,
            Err(e) => return self.status(e.mm_cause()),
        };
        if sp.header_type == SecurityHeaderType::IntegrityProtectedNewContext {
            return self.security_mode_command(&sp);
        }
        let Some(sec) = self.security.as_mut() else {
            return self.events.push_back(UeEvent::Discarded(
                "protected message without a security context".into(),
            ));
        };
        let plain = match sec
            .ctx
            .unprotect(sp.sequence_number, &sp.mac, &sp.payload, sp.header_type.is_ciphered())
        {
            Ok(p) => p,
            Err(e) => return self.events.push_back(UeEvent::Discarded(format!("{e}"))),
        };
        match Message::decode_inner(&plain) {
            Ok(m) => self.handle_message(m, true),
            Err(e) => self.status(e.mm_cause()),
        }
    }

    fn handle_message(&mut self, m: Message, protected: bool) {
        let result = match m {
            Message::AuthenticationRequest(r) => self.authentication_request(&r),
            Message::AuthenticationReject(_) => {
                self.security = None;
                self.state = MmState::Deregistered;
                self.release_sessions_locally();
                self.events.push_back(UeEvent::AuthenticationRejected);
                Ok(())
            }
            Message::SecurityModeCommand(_) => {
                self.events.push_back(UeEvent::Discarded(
                    "Security mode command without integrity protection".into(),
                ));
                Ok(())
            }
            Message::RegistrationAccept(a) if protected => self.registration_accept(&a),
            Message::RegistrationReject(r) => {
                self.state = MmState::Deregistered;
                self.release_sessions_locally();
                self.events.push_back(UeEvent::RegistrationRejected(r.cause));
                Ok(())
            }
            Message::DeregistrationAcceptUeOriginating(_) => {
                self.state = MmState::Deregistered;
                self.events.push_back(UeEvent::Deregistered);
                self.release_sessions_locally();
                Ok(())
            }
            Message::DeregistrationRequestUeTerminated(r) if protected => {
                self.state = MmState::Deregistered;
                self.release_sessions_locally();
                self.events.push_back(UeEvent::DeregisteredByNetwork {
                    re_registration_required: r.deregistration_type.re_registration_required,
                    cause: r.cause,
                });
                self.send(Message::from(
                    DeregistrationAcceptUeTerminated::new(MmHeader::default()),
                ))
            }
            Message::ServiceAccept(a) if protected => {
                self.state = MmState::Registered;
                self.events.push_back(UeEvent::ServiceAccepted);
                // §5.6.1.4.1: sessions the network no longer has end here too.
                if let Some(status) = &a.pdu_session_status {
                    self.sm.network_status(&status.psis());
                }
                self.uplink_pending.clear();
                self.flush_sm()
            }
            Message::DlNasTransport(t) if protected => {
                self.dl_nas_transport(&t);
                Ok(())
            }
            Message::ServiceReject(r) => {
                self.state = MmState::Registered;
                self.uplink_pending.clear();
                self.events.push_back(UeEvent::ServiceRejected(r.cause));
                Ok(())
            }
            Message::IdentityRequest(r) => self.identity_request(r.identity_type),
            Message::ConfigurationUpdateCommand(c) if protected => {
                if let Some(MobileIdentity::Guti(g)) = c.guti {
                    self.guti = Some(g);
                }
                self.events.push_back(UeEvent::ConfigurationUpdated);
                // Acknowledgement requested: bit 1 of the indication (§9.11.3.18).
                if c.configuration_update_indication.is_some_and(|i| i.bit(1)) {
                    self.send(Message::from(ConfigurationUpdateComplete::new(MmHeader::default())))
                } else {
                    Ok(())
                }
            }
            Message::MmStatus(s) => {
                self.events.push_back(UeEvent::StatusReceived(s.cause));
                Ok(())
            }
            other if !protected && self.security.is_some() => {
                // TS 24.501 §4.4.4.2: after security mode, these need integrity.
                self.events.push_back(UeEvent::Discarded(format!(
                    "{} without integrity protection",
                    other.name()
                )));
                Ok(())
            }
            other => {
                self.events.push_back(UeEvent::Received(other.summary()));
                Ok(())
            }
        };
        if let Err(e) = result {
            self.events.push_back(UeEvent::Discarded(format!("cannot answer: {e}")));
        }
    }

    fn authentication_request(&mut self, r: &AuthenticationRequest) -> Result<(), UeError> {
        if let Some(eap) = &r.eap_message {
            return self.eap_authentication_request(r, &eap.0);
        }
        let (Some(rand), Some(autn)) = (&r.rand, &r.autn) else {
            // Neither 5G AKA nor EAP: §5.4.1.3.7 c, non-5G authentication unacceptable.
            return self.authentication_failure(MmCause::Non5gAuthenticationUnacceptable, None);
        };
        let snn = self.serving_network_name()?;
        match self.usim.challenge(&rand.0, &autn.0, &snn) {
            Challenge::Accepted { res_star, kausf, .. } => {
                let kseaf = keys::kseaf(&kausf, &snn).map_err(UeError::Security)?;
                let kamf = keys::kamf(&kseaf, &self.config.imsi, &r.abba.0).map_err(UeError::Security)?;
                self.pending = Some(PendingKeys { ksi: r.ngksi.ksi, kamf });
                let mut m = AuthenticationResponse::new(MmHeader::default());
                m.res_star = Some(ResStar(res_star));
                self.send(Message::from(m))?;
                self.events.push_back(UeEvent::AuthenticationResponded);
                Ok(())
            }
            Challenge::MacFailure => self.authentication_failure(MmCause::MacFailure, None),
            Challenge::SynchFailure { auts } => self.authentication_failure(MmCause::SynchFailure, Some(auts)),
        }
    }

    /// EAP-AKA' (TS 33.501 §6.1.3.1, TS 24.501 §5.4.1.2.2): the EAP-Response goes back
    /// in an Authentication response, whatever it says; the keys wait for the EAP-Success
    /// in the Security mode command.
    fn eap_authentication_request(&mut self, r: &AuthenticationRequest, request: &[u8]) -> Result<(), UeError> {
        let snn = self.serving_network_name()?;
        let imsi = self.config.imsi.clone();
        let response = match self.usim.challenge_eap(request, &snn, &imsi) {
            EapAnswer::Accepted { response, kausf } => {
                let kseaf = keys::kseaf(&kausf, &snn).map_err(UeError::Security)?;
                let kamf = keys::kamf(&kseaf, &self.config.imsi, &r.abba.0).map_err(UeError::Security)?;
                self.pending = Some(PendingKeys { ksi: r.ngksi.ksi, kamf });
                self.events.push_back(UeEvent::EapAuthenticationResponded);
                response
            }
            EapAnswer::Refused { response, reason } => {
                self.events.push_back(UeEvent::EapChallengeRefused(reason));
                response
            }
        };
        let mut m = AuthenticationResponse::new(MmHeader::default());
        m.eap_message = Some(hexcore_nas::ie::EapMessage(response));
        self.send(Message::from(m))
    }

    fn authentication_failure(&mut self, cause: MmCause, auts: Option<[u8; 14]>) -> Result<(), UeError> {
        let mut m = AuthenticationFailure::new(MmHeader::default(), cause);
        m.auts = auts.map(hexcore_nas::ie::Auts);
        self.send(Message::from(m))?;
        self.events.push_back(UeEvent::AuthenticationFailureSent(cause));
        Ok(())
    }

    fn security_mode_command(&mut self, sp: &SecurityProtected) {
        let reject = |ue: &mut Ue, cause: MmCause| {
            let m = SecurityModeReject::new(MmHeader::default(), cause);
            // Sent without the new context (TS 24.501 §5.4.2.5).
            let nas = Message::from(m).encode();
            ue.transmits.push_back(UeTransmit {
                nas,
                initial: false,
                s_tmsi: None,
                establishment_cause: EstablishmentCause::MoSignalling,
            });
            ue.events.push_back(UeEvent::SecurityModeRejected(cause));
        };
        let smc = match Message::decode_inner(&sp.payload) {
            Ok(Message::SecurityModeCommand(c)) => c,
            Ok(other) => {
                return self.events.push_back(UeEvent::Discarded(format!(
                    "{} with security header type 3",
                    other.name()
                )));
            }
            Err(e) => return self.status(e.mm_cause()),
        };
        if let Some(cause) = self.config.behaviour.reject_security_mode {
            return reject(self, cause);
        }
        // The keys of the AKA run this command activates, or the current ones.
        let keys = match (&self.pending, &self.security) {
            (Some(p), _) if p.ksi == smc.ngksi.ksi => Some((p.ksi, p.kamf)),
            (_, Some(s)) if s.ksi == smc.ngksi.ksi => Some((s.ksi, s.kamf)),
            _ => None,
        };
        let Some((ksi, kamf)) = keys else {
            return reject(self, MmCause::SecurityModeRejectedUnspecified);
        };
        // After EAP-AKA' the command carries the EAP-Success (TS 24.501 §5.4.2.2); an
        // EAP-Failure or any other EAP packet there is refused.
        if smc.eap_message.as_ref().is_some_and(|e| e.code() != Some(3)) {
            return reject(self, MmCause::SecurityModeRejectedUnspecified);
        }
        // §5.4.2.5: the replayed capabilities must be ours.
        if smc.replayed_ue_security_capability.nr_ea != self.config.nr_ea
            || smc.replayed_ue_security_capability.nr_ia != self.config.nr_ia
        {
            return reject(self, MmCause::UeSecurityCapabilitiesMismatch);
        }
        let alg = smc.selected_algorithms;
        let (Some(nea), Some(nia)) = (Nea::from_id(alg.ciphering.value()), Nia::from_id(alg.integrity.value())) else {
            return reject(self, MmCause::UeSecurityCapabilitiesMismatch);
        };
        let capable = |octet: u8, id: u8| id < 8 && octet & (0x80 >> id) != 0;
        if !capable(self.config.nr_ea, nea as u8) || !capable(self.config.nr_ia, nia as u8) {
            return reject(self, MmCause::UeSecurityCapabilitiesMismatch);
        }
        let mut ctx = NasSecurityContext::new(Role::Ue, &kamf, nea, nia, NasConnection::ThreeGpp);
        if ctx.unprotect(sp.sequence_number, &sp.mac, &sp.payload, false).is_err() {
            return reject(self, MmCause::SecurityModeRejectedUnspecified);
        }
        let mut sec = Security { ksi, kamf, ctx };
        let mut complete = SecurityModeComplete::new(MmHeader::default());
        if smc
            .imeisv_request
            .is_some_and(|r| r == hexcore_nas::ie::ImeisvRequest::Requested)
        {
            complete.imeisv = Some(MobileIdentity::Imeisv(self.config.imeisv.clone()));
        }
        // §5.4.2.3: the whole initial message when it went with cleartext IEs only,
        // or when the AMF asks for it (RINMR).
        let rinmr = smc.additional_security_information.is_some_and(|a| a.rinmr());
        if (self.initial_cleartext_only || rinmr)
            && let Some(initial) = self.initial_message.take()
        {
            complete.nas_message_container = Some(NasMessageContainer(initial));
        }
        let count = sec.ctx.next_tx_count().value();
        match protect(
            &mut sec,
            &Message::from(complete),
            SecurityHeaderType::IntegrityProtectedAndCipheredNewContext,
        ) {
            Ok(nas) => {
                self.transmits.push_back(UeTransmit {
                    nas,
                    initial: false,
                    s_tmsi: None,
                    establishment_cause: EstablishmentCause::MoSignalling,
                });
                self.kgnb_count = Some(count);
                self.pending = None;
                self.security = Some(sec);
                self.events.push_back(UeEvent::SecurityModeCompleted { nea, nia });
            }
            Err(e) => self.events.push_back(UeEvent::Discarded(format!("{e}"))),
        }
    }

    fn registration_accept(&mut self, a: &RegistrationAccept) -> Result<(), UeError> {
        let guti = match &a.guti {
            Some(MobileIdentity::Guti(g)) => Some(*g),
            _ => None,
        };
        if guti.is_some() {
            self.guti = guti;
        }
        self.state = MmState::Registered;
        // §5.5.1.3.4: sessions the network no longer has are released locally.
        if let Some(status) = &a.pdu_session_status {
            self.sm.network_status(&status.psis());
            self.events.extend(self.sm.events.drain(..));
        }
        // The update's uplink data status has its answer.
        if a.pdu_session_reactivation_result.is_some() {
            self.uplink_pending.clear();
        }
        self.events.push_back(UeEvent::Registered {
            guti,
            t3512: a.t3512_value.and_then(|t| t.seconds()),
        });
        if guti.is_some() {
            self.send(Message::from(RegistrationComplete::new(MmHeader::default())))?;
        }
        Ok(())
    }

    fn identity_request(&mut self, kind: IdentityType) -> Result<(), UeError> {
        let identity = match kind {
            IdentityType::Suci => self.suci()?,
            IdentityType::Guti => match self.guti {
                Some(g) => MobileIdentity::Guti(g),
                None => MobileIdentity::NoIdentity,
            },
            IdentityType::Imei => MobileIdentity::Imei(self.imei()),
            IdentityType::Imeisv => MobileIdentity::Imeisv(self.config.imeisv.clone()),
            _ => MobileIdentity::NoIdentity,
        };
        self.events.push_back(UeEvent::IdentityRequested(kind));
        self.send(Message::from(IdentityResponse::new(MmHeader::default(), identity)))
    }

    fn status(&mut self, cause: MmCause) {
        self.events.push_back(UeEvent::StatusSent(cause));
        if let Err(e) = self.send(Message::from(MmStatus::new(MmHeader::default(), cause))) {
            self.events
                .push_back(UeEvent::Discarded(format!("cannot send 5GMM STATUS: {e}")));
        }
    }

    /// The IMEI: the first 14 digits of the IMEISV and the Luhn check digit.
    fn imei(&self) -> String {
        let body: String = self.config.imeisv.chars().take(14).collect();
        let sum: u32 = body
            .chars()
            .rev()
            .enumerate()
            .map(|(i, c)| {
                let d = c.to_digit(10).unwrap_or(0);
                if i % 2 == 0 {
                    let x = d * 2;
                    x / 10 + x % 10
                } else {
                    d
                }
            })
            .sum();
        format!("{body}{}", (10 - sum % 10) % 10)
    }

    fn capability(&self) -> UeSecurityCapability {
        UeSecurityCapability {
            nr_ea: self.config.nr_ea,
            nr_ia: self.config.nr_ia,
            rest: Vec::new(),
        }
    }

    fn serving_network_name(&self) -> Result<ServingNetworkName, UeError> {
        let (mcc, mnc, _) = self.config.split_imsi()?;
        ServingNetworkName::new(mcc, mnc).map_err(|_| UeError::BadConfig("IMSI PLMN"))
    }

    /// A fresh SUCI (TS 33.501 §6.12.2): a new ephemeral key each time.
    fn suci(&mut self) -> Result<MobileIdentity, UeError> {
        let (mcc, mnc, msin) = self.config.split_imsi()?;
        let plmn = hexcore_nas::ie::Plmn::new(mcc, mnc);
        let msin = msin.to_string();
        let profile = self.config.suci.clone();
        let (scheme, key_id, output) = match &profile {
            SuciProfile::Null => (NasScheme::Null, 0, SchemeOutput::Msin(msin)),
            SuciProfile::ProfileA { public_key, key_id } => {
                let out = self.conceal(ProtectionScheme::ProfileA, public_key, &msin)?;
                let (eph, rest) = out
                    .split_at_checked(32)
                    .ok_or(UeError::BadConfig("short ECIES output"))?;
                let (ct, tag) = rest
                    .split_at_checked(rest.len().saturating_sub(8))
                    .ok_or(UeError::BadConfig("short ECIES output"))?;
                (
                    NasScheme::ProfileA,
                    *key_id,
                    SchemeOutput::ProfileA {
                        ephemeral_public_key: eph.try_into().map_err(|_| UeError::BadConfig("ECIES key"))?,
                        ciphertext: ct.to_vec(),
                        mac_tag: tag.try_into().map_err(|_| UeError::BadConfig("ECIES tag"))?,
                    },
                )
            }
            SuciProfile::ProfileB { public_key, key_id } => {
                let out = self.conceal(ProtectionScheme::ProfileB, public_key, &msin)?;
                let (eph, rest) = out
                    .split_at_checked(33)
                    .ok_or(UeError::BadConfig("short ECIES output"))?;
                let (ct, tag) = rest
                    .split_at_checked(rest.len().saturating_sub(8))
                    .ok_or(UeError::BadConfig("short ECIES output"))?;
                (
                    NasScheme::ProfileB,
                    *key_id,
                    SchemeOutput::ProfileB {
                        ephemeral_public_key: eph.try_into().map_err(|_| UeError::BadConfig("ECIES key"))?,
                        ciphertext: ct.to_vec(),
                        mac_tag: tag.try_into().map_err(|_| UeError::BadConfig("ECIES tag"))?,
                    },
                )
            }
        };
        Ok(MobileIdentity::Suci(Suci::Imsi(SuciImsi {
            plmn,
            routing_indicator: self.config.routing_indicator.clone(),
            protection_scheme: scheme,
            home_network_public_key_id: key_id,
            scheme_output: output,
        })))
    }

    fn conceal(&mut self, scheme: ProtectionScheme, public_key: &[u8], msin: &str) -> Result<Vec<u8>, UeError> {
        let input = suci::scheme_input_from_msin(msin).map_err(UeError::Suci)?;
        // A P-256 scalar must be below the group order; a random one misses with
        // probability about 2^-32, so a few draws always suffice.
        let mut last = hexcore_security::Error::WeakSharedSecret;
        for _ in 0..8 {
            let mut eph = [0u8; 32];
            self.rng.fill_bytes(&mut eph);
            match suci::conceal(scheme, public_key, &eph, &input) {
                Ok(out) => return Ok(out),
                Err(e @ hexcore_security::Error::BadPublicKey("ephemeral P-256 scalar out of range")) => last = e,
                Err(e) => return Err(UeError::Suci(e)),
            }
        }
        Err(UeError::Suci(last))
    }
}

/// The UL NAS TRANSPORT carrying a 5GSM message (TS 24.501 §8.2.10): payload container
/// type N1 SM information, the PDU session ID, and for an establishment the request
/// type "initial request", the S-NSSAI and the DNN (§5.4.5.2.2).
pub fn ul_nas_transport(t: &SmTransmit) -> UlNasTransport {
    let mut ul = UlNasTransport::n1_sm(t.psi, &t.message);
    if let Some(e) = &t.establishment {
        ul.request_type = Some(RequestType::InitialRequest);
        ul.s_nssai = e.s_nssai.map(|(sst, sd)| SNssai::new(sst, sd));
        ul.dnn = e.dnn.as_deref().map(Dnn::from_name);
    }
    ul
}

fn protect(sec: &mut Security, m: &Message, header_type: SecurityHeaderType) -> Result<Vec<u8>, UeError> {
    protect_raw(sec, &m.encode(), header_type)
}

fn protect_raw(sec: &mut Security, plain: &[u8], header_type: SecurityHeaderType) -> Result<Vec<u8>, UeError> {
    let p = sec
        .ctx
        .protect(plain, header_type.is_ciphered())
        .map_err(UeError::Security)?;
    let mut out = Vec::with_capacity(7 + p.payload.len());
    out.push(0x7E);
    out.push(header_type.value());
    out.extend_from_slice(&p.mac);
    out.push(p.sqn);
    out.extend_from_slice(&p.payload);
    Ok(out)
}

/// Decode a NAS PDU for logs (a ciphered one as its header).
pub fn summary(pdu: &[u8]) -> String {
    match NasPdu::decode(pdu) {
        Ok(p) => p.summary(),
        Err(e) => format!("undecodable NAS ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Registration Request inside PacketRusher's Initial UE Message (oxirush-ngap
    // 0.5.0 tests/fixtures/captured.tsv, captured-165), field by field (TS 24.501
    // §8.2.6): 7e EPD, 00 plain, 41 Registration request; 79 = ngKSI 7 (no key) in
    // bits 5-8, FOR 1 + initial registration (001) in bits 1-4; 00 0d SUCI of 13
    // octets: 01 (SUPI format IMSI, type SUCI), 02 f8 39 (MCC 208, MNC 93), 00 00
    // (routing indicator 0000), 00 (null scheme), 00 (key id 0), 00 00 00 00 10 (MSIN
    // 0000000001); 2e 02 20 20 UE security capability 5G-EA2, 5G-IA2.
    static PACKETRUSHER_REGISTRATION_REQUEST: &str = "7e004179000d0102f8390000000000000000102e022020";

    fn packetrusher_ue() -> Ue {
        let mut c = UeConfig::new("208930000000001", 2, [0; 16], [0; 16]);
        c.routing_indicator = "0000".into();
        c.nr_ea = 0x20;
        c.nr_ia = 0x20;
        c.follow_on_request = true;
        Ue::new(c).unwrap()
    }

    #[test]
    fn initial_registration_request_is_packetrushers_octets() {
        let mut ue = packetrusher_ue();
        ue.register(RegistrationKind::InitialSuci).unwrap();
        let t = ue.poll_transmit().unwrap();
        assert!(t.initial);
        assert_eq!(t.s_tmsi, None);
        assert_eq!(hex::encode(&t.nas), PACKETRUSHER_REGISTRATION_REQUEST);
        assert_eq!(ue.state(), MmState::RegisteredInitiated);
    }

    #[test]
    fn broken_downlink_gets_5gmm_status_and_never_panics() {
        let mut ue = packetrusher_ue();
        ue.register(RegistrationKind::InitialSuci).unwrap();
        ue.poll_transmit().unwrap();
        // A 5GMM message type that does not exist: STATUS #97 (TS 24.501 §7.4).
        ue.handle_nas(&[0x7e, 0x00, 0xff]);
        assert_eq!(
            ue.poll_event(),
            Some(UeEvent::StatusSent(MmCause::MessageTypeNonExistentOrNotImplemented))
        );
        assert_eq!(hex::encode(ue.poll_transmit().unwrap().nas), "7e006461");
        // Every truncation and single-octet change of a real Authentication Request
        // (TS 24.501 §8.2.1, built from TS 35.208 Test Set 1 RAND): no panic.
        let mut req = AuthenticationRequest::new(
            MmHeader::default(),
            NasKeySetIdentifier { mapped: false, ksi: 0 },
            hexcore_nas::ie::SpareHalfOctet(0),
            hexcore_nas::ie::Abba(vec![0, 0]),
        );
        req.rand = Some(hexcore_nas::ie::Rand([0x23; 16]));
        req.autn = Some(hexcore_nas::ie::Autn([0x55; 16]));
        let full = Message::from(req).encode();
        for n in 0..full.len() {
            ue.handle_nas(&full[..n]);
            for x in [0x01, 0x80, 0xff] {
                let mut m = full.clone();
                if let Some(b) = m.get_mut(n) {
                    *b ^= x;
                }
                ue.handle_nas(&m);
            }
        }
        // A wrong AUTN from a network that does not know K: MAC failure (#20).
        ue.handle_nas(&full);
        let events: Vec<UeEvent> = std::iter::from_fn(|| ue.poll_event()).collect();
        assert_eq!(
            events.last(),
            Some(&UeEvent::AuthenticationFailureSent(MmCause::MacFailure))
        );
    }

    #[test]
    fn ul_nas_transport_is_ueransims_octets() {
        // UERANSIM v3.2.8's UL NAS TRANSPORT (TS 24.501 §8.2.10) with its PDU Session
        // Establishment Request (see ue_sm.rs for the source): 7E 00 67, payload
        // container type 1 (N1 SM), container 00 15 (21 octets), PDU session ID 12 01,
        // request type 8_1 (initial request), S-NSSAI 22 01 01, DNN 25 09 08
        // "internet".
        let expected = "7e00670100152e0101c1ffff91a12801007b000780000a00000d00120181220101250908696e7465726e6574";
        let mut sm = crate::ue_sm::Sm::new(vec![0x000a, 0x000d]);
        sm.establish(PduSessionRequest {
            psi: 1,
            dnn: Some("internet".into()),
            s_nssai: Some((1, None)),
            pdu_session_type: PduSessionType::Ipv4,
        })
        .unwrap();
        let t = sm.poll_transmit().unwrap();
        assert_eq!(hex::encode(Message::from(ul_nas_transport(&t)).encode()), expected);
        // A release request carries only the PDU session ID (UERANSIM: 0100062E0102D159241201).
        let release = SmTransmit {
            psi: 1,
            message: Message::decode(&[0x2e, 0x01, 0x02, 0xd1, 0x59, 0x24]).unwrap(),
            establishment: None,
        };
        assert_eq!(
            hex::encode(Message::from(ul_nas_transport(&release)).encode()),
            "7e00670100062e0102d159241201"
        );
    }

    #[test]
    fn sm_needs_a_registered_connected_ue() {
        let mut ue = packetrusher_ue();
        assert!(matches!(
            ue.establish_pdu_session(1, Some("internet"), None),
            Err(UeError::WrongState { .. })
        ));
        assert!(ue.release_pdu_session(1).is_err());
        assert!(ue.pdu_sessions().is_empty());
    }

    #[test]
    fn imei_check_digit() {
        // IMEI 49015420323751 with Luhn check digit 8 (the GSMA example).
        let mut c = UeConfig::new("208930000000001", 2, [0; 16], [0; 16]);
        c.imeisv = "4901542032375100".into();
        let ue = Ue::new(c).unwrap();
        assert_eq!(ue.imei(), "490154203237518");
    }

    #[test]
    fn bad_imsi_is_refused() {
        assert!(Ue::new(UeConfig::new("20893", 2, [0; 16], [0; 16])).is_err());
        assert!(Ue::new(UeConfig::new("20893x000000001", 2, [0; 16], [0; 16])).is_err());
    }
}
