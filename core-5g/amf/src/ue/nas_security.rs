//! NAS security on the AMF side: algorithm choice (TS 33.501 §6.7.2), framing of
//! protected downlink messages and checking of uplink ones (TS 24.501 §4.4.3–4.4.5).

use hexcore_nas::ie::{CipheringAlgorithm, IntegrityAlgorithm, NasSecurityAlgorithms, UeSecurityCapability};
use hexcore_nas::{NasPdu, SecurityHeaderType, SecurityProtected};
use hexcore_ngap::procedures::UeSecurityCapabilities;
use hexcore_security::{Nea, Nia};

use crate::amf::AmfConfig;

/// The algorithms of the highest priority that the UE supports (TS 33.501 §6.7.2).
/// NIA0 is taken only for an emergency registration (TS 33.501 §5.5.2); NEA0 is
/// always supported by a UE. `None`: no integrity algorithm in common.
pub fn select_algorithms(config: &AmfConfig, ue: &UeSecurityCapability, emergency: bool) -> Option<(Nea, Nia)> {
    let nia = config
        .integrity_order
        .iter()
        .copied()
        .filter(|a| emergency || *a != Nia::Nia0)
        .find(|a| ue.supports_ia(a.id()))?;
    let nea = config
        .ciphering_order
        .iter()
        .copied()
        .find(|a| *a == Nea::Nea0 || ue.supports_ea(a.id()))
        .unwrap_or(Nea::Nea0);
    Some((nea, nia))
}

/// The NAS form of a selected pair.
pub(crate) fn nas_algorithms(nea: Nea, nia: Nia) -> NasSecurityAlgorithms {
    NasSecurityAlgorithms {
        ciphering: CipheringAlgorithm::from(nea.id()),
        integrity: IntegrityAlgorithm::from(nia.id()),
    }
}

/// The NGAP UE Security Capabilities of a NAS UE security capability: NAS has EA0
/// in bit 8 of its octet, NGAP's 16-bit strings start at NEA1 (TS 38.413 §9.3.1.86,
/// TS 24.501 §9.11.3.54).
pub fn ngap_security_capabilities(ue: &UeSecurityCapability) -> UeSecurityCapabilities {
    let map = |octet: u8| (u16::from(octet) << 9) & 0xE000;
    UeSecurityCapabilities {
        nr_encryption: map(ue.nr_ea),
        nr_integrity: map(ue.nr_ia),
        eutra_encryption: map(ue.eps_ea().unwrap_or(0)),
        eutra_integrity: map(ue.eps_ia().unwrap_or(0)),
    }
}

/// Protect a plain downlink message: header type 3 (new context, integrity only) for
/// the Security mode command, else type 2 (integrity and ciphering; with NEA0 the
/// "ciphering" is the identity, TS 24.501 §4.4.5).
pub(crate) fn protect(
    nas: &mut hexcore_security::NasSecurityContext,
    plain: &[u8],
    new_context: bool,
) -> Result<Vec<u8>, String> {
    let (header, cipher) = if new_context {
        (SecurityHeaderType::IntegrityProtectedNewContext, false)
    } else {
        (SecurityHeaderType::IntegrityProtectedAndCiphered, true)
    };
    let p = nas.protect(plain, cipher).map_err(|e| e.to_string())?;
    let sp = SecurityProtected {
        header_type: header,
        spare: 0,
        mac: p.mac,
        sequence_number: p.sqn,
        payload: p.payload,
        message: None,
    };
    Ok(NasPdu::SecurityProtected(sp).encode())
}
