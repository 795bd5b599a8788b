//! 5GMM information elements (TS 24.501 §9.11.3) and the common ones of §9.11.2.

use crate::codec::{FixedLen, HalfOctet, IeValue, fixed_octets, half_octet_enum, nibble_ie, opaque_ie};
use crate::error::Error;
use crate::ie::identity::Plmn;

// ---------------------------------------------------------------- half octets

half_octet_enum! {
    /// 5GS registration type value (TS 24.501 §9.11.3.7), bits 1–3.
    pub enum RegistrationTypeValue {
        /// Initial registration.
        Initial = 1,
        /// Mobility registration updating.
        MobilityUpdating = 2,
        /// Periodic registration updating.
        PeriodicUpdating = 3,
        /// Emergency registration.
        Emergency = 4,
        /// SNPN onboarding registration.
        SnpnOnboarding = 5,
        /// Disaster roaming mobility registration updating.
        DisasterRoamingMobilityUpdating = 6,
        /// Disaster roaming initial registration.
        DisasterRoamingInitial = 7,
    }
}

/// 5GS registration type (TS 24.501 §9.11.3.7): the value and the follow-on
/// request bit (bit 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegistrationType {
    /// Follow-on request pending (FOR).
    pub follow_on_request: bool,
    /// The registration type.
    pub value: RegistrationTypeValue,
}

impl HalfOctet for RegistrationType {
    fn from_nibble(n: u8) -> Self {
        RegistrationType {
            follow_on_request: n & 0x08 != 0,
            value: RegistrationTypeValue::from(n & 0x07),
        }
    }
    fn nibble(&self) -> u8 {
        (u8::from(self.follow_on_request) << 3) | (self.value.value() & 0x07)
    }
}

/// NAS key set identifier (TS 24.501 §9.11.3.32): type of security context flag
/// (bit 4: mapped) and the key set identifier (bits 1–3; 7 = no key available).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NasKeySetIdentifier {
    /// TSC: `true` for a mapped security context, `false` for native.
    pub mapped: bool,
    /// KSI, 0..=6, or 7 for "no key is available".
    pub ksi: u8,
}

impl NasKeySetIdentifier {
    /// "No key is available" (native, KSI 7).
    pub const NO_KEY: NasKeySetIdentifier = NasKeySetIdentifier { mapped: false, ksi: 7 };
}

impl HalfOctet for NasKeySetIdentifier {
    fn from_nibble(n: u8) -> Self {
        NasKeySetIdentifier {
            mapped: n & 0x08 != 0,
            ksi: n & 0x07,
        }
    }
    fn nibble(&self) -> u8 {
        (u8::from(self.mapped) << 3) | (self.ksi & 0x07)
    }
}

half_octet_enum! {
    /// Access type (TS 24.501 §9.11.2.1A, §9.11.3.20 bits 1–2).
    pub enum AccessType {
        /// 3GPP access.
        ThreeGpp = 1,
        /// Non-3GPP access.
        NonThreeGpp = 2,
        /// 3GPP access and non-3GPP access (de-registration type only).
        Both = 3,
    }
}

/// De-registration type (TS 24.501 §9.11.3.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeregistrationType {
    /// Switch off (bit 4).
    pub switch_off: bool,
    /// Re-registration required (bit 3; network to UE only).
    pub re_registration_required: bool,
    /// Access type (bits 1–2).
    pub access_type: AccessType,
}

impl HalfOctet for DeregistrationType {
    fn from_nibble(n: u8) -> Self {
        DeregistrationType {
            switch_off: n & 0x08 != 0,
            re_registration_required: n & 0x04 != 0,
            access_type: AccessType::from(n & 0x03),
        }
    }
    fn nibble(&self) -> u8 {
        (u8::from(self.switch_off) << 3)
            | (u8::from(self.re_registration_required) << 2)
            | (self.access_type.value() & 0x03)
    }
}

half_octet_enum! {
    /// Service type (TS 24.501 §9.11.3.50).
    pub enum ServiceType {
        /// Signalling.
        Signalling = 0,
        /// Data.
        Data = 1,
        /// Mobile terminated services.
        MobileTerminatedServices = 2,
        /// Emergency services.
        EmergencyServices = 3,
        /// Emergency services fallback.
        EmergencyServicesFallback = 4,
        /// High priority access.
        HighPriorityAccess = 5,
        /// Elevated signalling.
        ElevatedSignalling = 6,
    }
}

half_octet_enum! {
    /// 5GS identity type (TS 24.501 §9.11.3.3).
    pub enum IdentityType {
        /// No identity.
        NoIdentity = 0,
        /// SUCI.
        Suci = 1,
        /// 5G-GUTI.
        Guti = 2,
        /// IMEI.
        Imei = 3,
        /// 5G-S-TMSI.
        STmsi = 4,
        /// IMEISV.
        Imeisv = 5,
        /// MAC address.
        MacAddress = 6,
        /// EUI-64.
        Eui64 = 7,
    }
}

half_octet_enum! {
    /// Payload container type (TS 24.501 §9.11.3.40).
    pub enum PayloadContainerType {
        /// N1 SM information (a 5GSM message).
        N1SmInformation = 1,
        /// SMS.
        Sms = 2,
        /// LTE Positioning Protocol message container.
        Lpp = 3,
        /// SOR transparent container.
        SorTransparentContainer = 4,
        /// UE policy container.
        UePolicyContainer = 5,
        /// UE parameters update transparent container.
        UeParametersUpdate = 6,
        /// Location services message container.
        LocationServices = 7,
        /// CIoT user data container.
        CiotUserData = 8,
        /// Service-level-AA container.
        ServiceLevelAa = 9,
        /// Event notification.
        EventNotification = 10,
        /// UPP-CMI container.
        UppCmi = 11,
        /// SLPP message container.
        Slpp = 12,
        /// Multiple payloads.
        MultiplePayloads = 15,
    }
}

half_octet_enum! {
    /// Request type (TS 24.501 §9.11.3.47).
    pub enum RequestType {
        /// Initial request.
        InitialRequest = 1,
        /// Existing PDU session.
        ExistingPduSession = 2,
        /// Initial emergency request.
        InitialEmergencyRequest = 3,
        /// Existing emergency PDU session.
        ExistingEmergencyPduSession = 4,
        /// Modification request.
        ModificationRequest = 5,
        /// MA PDU request.
        MaPduRequest = 6,
    }
}

half_octet_enum! {
    /// IMEISV request (TS 24.501 §9.11.3.28).
    pub enum ImeisvRequest {
        /// IMEISV not requested.
        NotRequested = 0,
        /// IMEISV requested.
        Requested = 1,
    }
}

nibble_ie! {
    /// A type 1 IE made of flag bits, kept as its four bits (MICO indication,
    /// network slicing indication, NSSAI inclusion mode, configuration update
    /// indication, always-on PDU session indication and the like; TS 24.501
    /// §9.11.3 and §9.11.4 give each bit's meaning).
    pub struct Flags4;
}

impl Flags4 {
    /// Bit `n` (1..=4) of the half octet.
    pub fn bit(&self, n: u8) -> bool {
        (1..=4).contains(&n) && self.0 & (1 << (n - 1)) != 0
    }
}

nibble_ie! {
    /// The spare half octet that fills a mandatory octet (kept as received).
    pub struct SpareHalfOctet;
}

// ---------------------------------------------------------------- security

half_octet_enum! {
    /// 5G NAS ciphering algorithm (TS 24.501 §9.11.3.34, TS 33.501 §5.11.1.1).
    pub enum CipheringAlgorithm {
        /// 5G-EA0, null ciphering.
        Nea0 = 0,
        /// 128-5G-EA1 (SNOW 3G).
        Nea1 = 1,
        /// 128-5G-EA2 (AES).
        Nea2 = 2,
        /// 128-5G-EA3 (ZUC).
        Nea3 = 3,
        /// 5G-EA4.
        Nea4 = 4,
        /// 5G-EA5.
        Nea5 = 5,
        /// 5G-EA6.
        Nea6 = 6,
        /// 5G-EA7.
        Nea7 = 7,
    }
}

half_octet_enum! {
    /// 5G NAS integrity algorithm (TS 24.501 §9.11.3.34).
    pub enum IntegrityAlgorithm {
        /// 5G-IA0, null integrity.
        Nia0 = 0,
        /// 128-5G-IA1 (SNOW 3G).
        Nia1 = 1,
        /// 128-5G-IA2 (AES).
        Nia2 = 2,
        /// 128-5G-IA3 (ZUC).
        Nia3 = 3,
        /// 5G-IA4.
        Nia4 = 4,
        /// 5G-IA5.
        Nia5 = 5,
        /// 5G-IA6.
        Nia6 = 6,
        /// 5G-IA7.
        Nia7 = 7,
    }
}

/// NAS security algorithms (TS 24.501 §9.11.3.34): ciphering in bits 5–8,
/// integrity in bits 1–4. Also used for the selected EPS NAS security algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NasSecurityAlgorithms {
    /// Type of ciphering algorithm.
    pub ciphering: CipheringAlgorithm,
    /// Type of integrity protection algorithm.
    pub integrity: IntegrityAlgorithm,
}

impl IeValue for NasSecurityAlgorithms {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        match value {
            [b] => Ok(NasSecurityAlgorithms {
                ciphering: CipheringAlgorithm::from_nibble(b >> 4),
                integrity: IntegrityAlgorithm::from_nibble(b & 0x0F),
            }),
            _ => Err(Error::BadLength {
                ie: "NAS security algorithms",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push((self.ciphering.nibble() << 4) | self.integrity.nibble());
    }
}

impl FixedLen for NasSecurityAlgorithms {
    const LEN: usize = 1;
}

/// UE security capability (TS 24.501 §9.11.3.54): one bit per algorithm, bit 8 of
/// each octet is algorithm 0. Octets 3 and 4 are 5G-EA and 5G-IA; the optional
/// EPS octets (EEA, EIA) and any later ones are in `rest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UeSecurityCapability {
    /// 5G-EA0..5G-EA7, EA0 in bit 8.
    pub nr_ea: u8,
    /// 5G-IA0..5G-IA7, IA0 in bit 8.
    pub nr_ia: u8,
    /// EEA, EIA octets (when present) and any further octets, as received.
    pub rest: Vec<u8>,
}

impl UeSecurityCapability {
    /// Does the UE support 5G-EA`n` (n = 0..=7)?
    pub fn supports_ea(&self, n: u8) -> bool {
        n < 8 && self.nr_ea & (0x80 >> n) != 0
    }
    /// Does the UE support 5G-IA`n` (n = 0..=7)?
    pub fn supports_ia(&self, n: u8) -> bool {
        n < 8 && self.nr_ia & (0x80 >> n) != 0
    }
    /// The EPS encryption algorithms octet, when present.
    pub fn eps_ea(&self) -> Option<u8> {
        self.rest.first().copied()
    }
    /// The EPS integrity algorithms octet, when present.
    pub fn eps_ia(&self) -> Option<u8> {
        self.rest.get(1).copied()
    }
}

impl IeValue for UeSecurityCapability {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        match value {
            [ea, ia, rest @ ..] if value.len() <= 8 => Ok(UeSecurityCapability {
                nr_ea: *ea,
                nr_ia: *ia,
                rest: rest.to_vec(),
            }),
            _ => Err(Error::BadLength {
                ie: "UE security capability",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.nr_ea);
        out.push(self.nr_ia);
        out.extend_from_slice(&self.rest);
    }
}

/// Additional 5G security information (TS 24.501 §9.11.3.12): RINMR (bit 2) and
/// HDP (bit 1), kept as the whole octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Additional5gSecurityInformation(pub u8);

impl Additional5gSecurityInformation {
    /// Retransmission of the initial NAS message requested.
    pub fn rinmr(&self) -> bool {
        self.0 & 0x02 != 0
    }
    /// Horizontal derivation parameter: K_AMF derivation is required.
    pub fn hdp(&self) -> bool {
        self.0 & 0x01 != 0
    }
}

impl IeValue for Additional5gSecurityInformation {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        match value {
            [b] => Ok(Additional5gSecurityInformation(*b)),
            _ => Err(Error::BadLength {
                ie: "Additional 5G security information",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.0);
    }
}

// ---------------------------------------------------------------- authentication

fixed_octets! {
    /// Authentication parameter RAND (TS 24.501 §9.11.3.16, TS 24.008 §10.5.3.1).
    pub struct Rand([u8; 16]);
}
fixed_octets! {
    /// Authentication parameter AUTN (TS 24.501 §9.11.3.15).
    pub struct Autn([u8; 16]);
}
fixed_octets! {
    /// Authentication response parameter RES* (TS 24.501 §9.11.3.17).
    pub struct ResStar([u8; 16]);
}
fixed_octets! {
    /// Authentication failure parameter AUTS (TS 24.501 §9.11.3.14).
    pub struct Auts([u8; 14]);
}

opaque_ie! {
    /// ABBA (TS 24.501 §9.11.3.10, TS 33.501 Annex A.7.1): at least two octets;
    /// 0x0000 in Release 15–18.
    pub struct Abba;
}

opaque_ie! {
    /// EAP message (TS 24.501 §9.11.2.2): a whole EAP packet (RFC 3748).
    pub struct EapMessage;
}

impl EapMessage {
    /// The EAP code (1 request, 2 response, 3 success, 4 failure).
    pub fn code(&self) -> Option<u8> {
        self.0.first().copied()
    }
    /// The EAP identifier.
    pub fn identifier(&self) -> Option<u8> {
        self.0.get(1).copied()
    }
}

// ---------------------------------------------------------------- containers

opaque_ie! {
    /// NAS message container (TS 24.501 §9.11.3.33): a whole plain 5GMM message
    /// (for example the complete initial message in a Security mode complete).
    pub struct NasMessageContainer;
}

impl NasMessageContainer {
    /// Decode the carried plain NAS message.
    pub fn message(&self) -> Result<crate::Message, Error> {
        crate::Message::decode(&self.0)
    }
}

opaque_ie! {
    /// Payload container (TS 24.501 §9.11.3.39); its type says what it carries.
    pub struct PayloadContainer;
}

opaque_ie! {
    /// An IE this crate keeps as octets (its value part), named by the field that
    /// holds it.
    pub struct RawValue;
}

// ---------------------------------------------------------------- timers and causes

macro_rules! gprs_timer {
    ($(#[$meta:meta])* $name:ident, $secs:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name {
            /// Timer unit (bits 6–8).
            pub unit: u8,
            /// Timer value (bits 1–5).
            pub value: u8,
        }

        impl $name {
            /// The timer in seconds, or `None` when deactivated.
            pub fn seconds(&self) -> Option<u64> {
                let f: fn(u8) -> Option<u64> = $secs;
                f(self.unit).map(|m| m * u64::from(self.value))
            }
        }

        impl IeValue for $name {
            fn decode(value: &[u8]) -> Result<Self, Error> {
                match value {
                    [b] => Ok($name {
                        unit: b >> 5,
                        value: b & 0x1F,
                    }),
                    _ => Err(Error::BadLength { ie: stringify!($name) }),
                }
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.push((self.unit << 5) | (self.value & 0x1F));
            }
        }

        impl FixedLen for $name {
            const LEN: usize = 1;
        }
    };
}

gprs_timer!(
    /// GPRS timer (TS 24.008 §10.5.7.3): units 2 s, 1 min, decihours; 7 = deactivated.
    GprsTimer,
    |u| match u {
        0 => Some(2),
        1 => Some(60),
        2 => Some(360),
        _ => None,
    }
);
gprs_timer!(
    /// GPRS timer 2 (TS 24.008 §10.5.7.4): same units as GPRS timer.
    GprsTimer2,
    |u| match u {
        0 => Some(2),
        1 => Some(60),
        2 => Some(360),
        _ => None,
    }
);
gprs_timer!(
    /// GPRS timer 3 (TS 24.008 §10.5.7.4a): units 10 min, 1 h, 10 h, 2 s, 30 s,
    /// 1 min, 320 h; 7 = deactivated.
    GprsTimer3,
    |u| match u {
        0 => Some(600),
        1 => Some(3600),
        2 => Some(36000),
        3 => Some(2),
        4 => Some(30),
        5 => Some(60),
        6 => Some(1_152_000),
        _ => None,
    }
);

// ---------------------------------------------------------------- status bitmaps

/// PDU session status, uplink data status, allowed PDU session status and PDU
/// session reactivation result (TS 24.501 §9.11.3.44, .57, .13, .42): one bit per
/// PSI, PSI(0) in bit 1 of the first octet up to PSI(15) in bit 8 of the second.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PsiBitmap {
    /// Bit n is PSI(n).
    pub bits: u16,
    /// Spare octets after the first two (up to 30), as received.
    pub spare: Vec<u8>,
}

impl PsiBitmap {
    /// From a list of PSIs.
    pub fn from_psis(psis: &[u8]) -> Self {
        let bits = psis.iter().filter(|&&p| p < 16).fold(0u16, |b, &p| b | (1 << p));
        PsiBitmap {
            bits,
            spare: Vec::new(),
        }
    }
    /// Is PSI `psi` set?
    pub fn is_set(&self, psi: u8) -> bool {
        psi < 16 && self.bits & (1 << psi) != 0
    }
    /// The PSIs set, ascending.
    pub fn psis(&self) -> Vec<u8> {
        (0..16).filter(|&p| self.is_set(p)).collect()
    }
}

impl IeValue for PsiBitmap {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        match value {
            [a, b, rest @ ..] if value.len() <= 32 => Ok(PsiBitmap {
                bits: u16::from_le_bytes([*a, *b]),
                spare: rest.to_vec(),
            }),
            _ => Err(Error::BadLength {
                ie: "PDU session status",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bits.to_le_bytes());
        out.extend_from_slice(&self.spare);
    }
}

/// PDU session reactivation result error cause (TS 24.501 §9.11.3.43): pairs of
/// PSI and 5GMM cause.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReactivationErrorCauses(pub Vec<(u8, crate::MmCause)>);

impl IeValue for ReactivationErrorCauses {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        if !value.len().is_multiple_of(2) {
            return Err(Error::BadLength {
                ie: "PDU session reactivation result error cause",
            });
        }
        Ok(ReactivationErrorCauses(
            value
                .chunks_exact(2)
                .map(|c| (c[0], crate::MmCause::from(c[1])))
                .collect(),
        ))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for (psi, cause) in &self.0 {
            out.push(*psi);
            out.push(cause.value());
        }
    }
}

// ---------------------------------------------------------------- registration results

/// 5GS registration result (TS 24.501 §9.11.3.6), kept as its octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegistrationResult(pub u8);

impl RegistrationResult {
    /// Bits 1–3: 1 = 3GPP access, 2 = non-3GPP access, 3 = both.
    pub fn access(&self) -> AccessType {
        AccessType::from(self.0 & 0x07)
    }
    /// SMS over NAS allowed (bit 4).
    pub fn sms_allowed(&self) -> bool {
        self.0 & 0x08 != 0
    }
    /// NSSAA to be performed (bit 5).
    pub fn nssaa_to_be_performed(&self) -> bool {
        self.0 & 0x10 != 0
    }
    /// Emergency registered (bit 6).
    pub fn emergency_registered(&self) -> bool {
        self.0 & 0x20 != 0
    }
}

impl IeValue for RegistrationResult {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        match value {
            [b] => Ok(RegistrationResult(*b)),
            _ => Err(Error::BadLength {
                ie: "5GS registration result",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.0);
    }
}

opaque_ie! {
    /// 5GS network feature support (TS 24.501 §9.11.3.5), one to three octets.
    pub struct NetworkFeatureSupport;
}

impl NetworkFeatureSupport {
    /// IMS voice over PS session over 3GPP access (octet 3 bit 1).
    pub fn ims_vops_3gpp(&self) -> bool {
        self.0.first().is_some_and(|b| b & 0x01 != 0)
    }
    /// IMS voice over PS session over non-3GPP access (octet 3 bit 2).
    pub fn ims_vops_n3gpp(&self) -> bool {
        self.0.first().is_some_and(|b| b & 0x02 != 0)
    }
    /// Emergency services support indicator for 3GPP (octet 3 bits 3–4).
    pub fn emc(&self) -> u8 {
        self.0.first().map_or(0, |b| (b >> 2) & 0x03)
    }
}

/// A list of PLMN identities (equivalent PLMNs, TS 24.008 §10.5.1.13).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlmnList(pub Vec<Plmn>);

impl IeValue for PlmnList {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        if !value.len().is_multiple_of(3) {
            return Err(Error::BadLength { ie: "PLMN list" });
        }
        Ok(PlmnList(
            value.chunks_exact(3).map(|c| Plmn([c[0], c[1], c[2]])).collect(),
        ))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for p in &self.0 {
            out.extend_from_slice(&p.0);
        }
    }
}

/// PDU session identity 2 (TS 24.501 §9.11.3.41): one octet, 1..=15 are PSIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PduSessionId(pub u8);

impl IeValue for PduSessionId {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        match value {
            [b] => Ok(PduSessionId(*b)),
            _ => Err(Error::BadLength {
                ie: "PDU session identity 2",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.0);
    }
}

impl FixedLen for PduSessionId {
    const LEN: usize = 1;
}

fixed_octets! {
    /// Time zone and time (TS 24.008 §10.5.3.9): seven octets.
    pub struct TimeZoneAndTime([u8; 7]);
}

/// Time zone (TS 24.008 §10.5.3.8): one octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(pub u8);

impl IeValue for TimeZone {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        match value {
            [b] => Ok(TimeZone(*b)),
            _ => Err(Error::BadLength { ie: "Time zone" }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.0);
    }
}

impl FixedLen for TimeZone {
    const LEN: usize = 1;
}

/// Network name (TS 24.008 §10.5.3.5a), the value of the full and short name for
/// network IEs, kept as octets: octet 3 (extension, coding scheme, add-CI, spare
/// bits in the last octet), then the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetworkName(pub Vec<u8>);

impl NetworkName {
    /// A name in the GSM 7-bit default alphabet (TS 23.038), packed. Characters
    /// outside the part of that alphabet shared with ASCII are sent as '?'.
    pub fn gsm7(name: &str) -> NetworkName {
        let septets: Vec<u8> = name.chars().map(gsm7_code).collect();
        let bits = septets.len() * 7;
        let octets = bits.div_ceil(8);
        let spare = (octets * 8 - bits) as u8;
        let mut out = vec![0x80 | (spare & 0x07)];
        let mut acc: u32 = 0;
        let mut n = 0;
        for s in septets {
            acc |= u32::from(s) << n;
            n += 7;
            while n >= 8 {
                out.push(acc as u8);
                acc >>= 8;
                n -= 8;
            }
        }
        if n > 0 {
            out.push(acc as u8);
        }
        NetworkName(out)
    }

    /// A name in UCS2 (coding scheme 001).
    pub fn ucs2(name: &str) -> NetworkName {
        let mut out = vec![0x90];
        for u in name.encode_utf16() {
            out.extend_from_slice(&u.to_be_bytes());
        }
        NetworkName(out)
    }

    /// The text, when the coding scheme is GSM 7-bit or UCS2.
    pub fn text(&self) -> Option<String> {
        let (&h, text) = self.0.split_first()?;
        match (h >> 4) & 0x07 {
            0 => {
                let bits = (text.len() * 8).checked_sub(usize::from(h & 0x07))?;
                let mut s = String::new();
                for i in 0..bits / 7 {
                    let bit = i * 7;
                    let lo = u16::from(*text.get(bit / 8)?);
                    let hi = u16::from(text.get(bit / 8 + 1).copied().unwrap_or(0));
                    let c = (((hi << 8) | lo) >> (bit % 8)) & 0x7F;
                    s.push(gsm7_char(c as u8));
                }
                Some(s)
            }
            1 => {
                let units: Vec<u16> = text.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
                Some(String::from_utf16_lossy(&units))
            }
            _ => None,
        }
    }
}

/// GSM 7-bit default alphabet code for a character (the ASCII-compatible part).
fn gsm7_code(c: char) -> u8 {
    match c {
        '@' => 0x00,
        '$' => 0x02,
        '_' => 0x11,
        'A'..='Z'
        | 'a'..='z'
        | '0'..='9'
        | ' '
        | '!'
        | '"'
        | '#'
        | '%'
        | '&'
        | '\''
        | '('
        | ')'
        | '*'
        | '+'
        | ','
        | '-'
        | '.'
        | '/'
        | ':'
        | ';'
        | '<'
        | '='
        | '>'
        | '?' => c as u8,
        _ => b'?',
    }
}

fn gsm7_char(c: u8) -> char {
    match c {
        0x00 => '@',
        0x02 => '$',
        0x11 => '_',
        0x20..=0x3F | 0x41..=0x5A | 0x61..=0x7A => char::from(c),
        _ => '?',
    }
}

impl IeValue for NetworkName {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        if value.is_empty() {
            return Err(Error::BadLength { ie: "Network name" });
        }
        Ok(NetworkName(value.to_vec()))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

opaque_ie! {
    /// 5GMM capability (TS 24.501 §9.11.3.1), 1 to 13 octets.
    pub struct MmCapability;
}

impl MmCapability {
    /// Bit `bit` (1..=8) of octet `octet` (3 = the first value octet); false when absent.
    pub fn bit(&self, octet: usize, bit: u8) -> bool {
        (1..=8).contains(&bit) && octet >= 3 && self.0.get(octet - 3).is_some_and(|b| b & (1 << (bit - 1)) != 0)
    }
    /// S1 mode supported (octet 3 bit 1).
    pub fn s1_mode(&self) -> bool {
        self.bit(3, 1)
    }
    /// ATTACH REQUEST in handover to S1 mode supported (octet 3 bit 2).
    pub fn ho_attach(&self) -> bool {
        self.bit(3, 2)
    }
    /// LTE positioning protocol supported (octet 3 bit 3).
    pub fn lpp(&self) -> bool {
        self.bit(3, 3)
    }
}

opaque_ie! {
    /// 5GS update type (TS 24.501 §9.11.3.9A).
    pub struct UpdateType;
}

impl UpdateType {
    /// SMS over NAS requested (bit 1).
    pub fn sms_requested(&self) -> bool {
        self.0.first().is_some_and(|b| b & 0x01 != 0)
    }
    /// NG-RAN radio capability update needed (bit 2).
    pub fn ng_ran_rcu(&self) -> bool {
        self.0.first().is_some_and(|b| b & 0x02 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers() {
        // TS 24.008 §10.5.7.4a: 0x21 = unit 1 h, value 1 → 3600 s
        let t = GprsTimer3::decode(&[0x21]).unwrap();
        assert_eq!(t.seconds(), Some(3600));
        assert_eq!(GprsTimer3::decode(&[0xE0]).unwrap().seconds(), None);
        // 0x5E = unit 010 (decihours) × 30 = 3 h
        assert_eq!(GprsTimer2::decode(&[0x5E]).unwrap().seconds(), Some(10800));
        assert!(GprsTimer2::decode(&[]).is_err());
    }

    #[test]
    fn network_names() {
        // Open5GS's full name "Open5GS" in UCS2 (from its configuration update
        // command: 43 0F 90 00 4F 00 70 ...)
        let ucs2 = NetworkName::ucs2("Open5GS");
        assert_eq!(ucs2.0[..5], [0x90, 0x00, 0x4f, 0x00, 0x70]);
        assert_eq!(ucs2.0.len(), 15);
        assert_eq!(ucs2.text().as_deref(), Some("Open5GS"));
        // TS 23.038 §6.1.2.1.1 packing: "hellohello" → E8 32 9B FD 46 97 D9 EC 37
        let g = NetworkName::gsm7("hellohello");
        assert_eq!(g.0[1..], [0xe8, 0x32, 0x9b, 0xfd, 0x46, 0x97, 0xd9, 0xec, 0x37]);
        assert_eq!(g.0[0], 0x80 | 2);
        assert_eq!(g.text().as_deref(), Some("hellohello"));
        assert_eq!(NetworkName::gsm7("hexcore").text().as_deref(), Some("hexcore"));
    }

    #[test]
    fn psi_bitmap() {
        // TS 24.501 §9.11.3.44: PSI(1) is bit 2 of octet 3, PSI(8) bit 1 of octet 4
        let b = PsiBitmap::decode(&[0x02, 0x01]).unwrap();
        assert_eq!(b.psis(), vec![1, 8]);
        assert_eq!(PsiBitmap::from_psis(&[1, 8]).to_bytes(), [0x02, 0x01]);
        assert!(PsiBitmap::decode(&[0x02]).is_err());
    }

    #[test]
    fn security_capability() {
        // EA0-EA2 and IA0-IA2 (0xE0) and the EPS pair, from UERANSIM-like UEs
        let c = UeSecurityCapability::decode(&[0xE0, 0xE0, 0xC0, 0x40]).unwrap();
        assert!(c.supports_ea(2) && !c.supports_ea(3) && c.supports_ia(1));
        assert_eq!(c.eps_ia(), Some(0x40));
        assert!(UeSecurityCapability::decode(&[0xE0]).is_err());
    }
}
