//! EAP-AKA' (RFC 9048), the second primary authentication method of 5G
//! (TS 33.501 §6.1.3.1): the key derivation and the EAP packets, sans-IO.
//!
//! - [`Keys::derive`]: MK = PRF'(IK'‖CK', "EAP-AKA'"‖Identity) split into K_encr,
//!   K_aut, K_re, MSK and EMSK (RFC 9048 §3.3); [`Keys::kausf`] is the most significant
//!   256 bits of EMSK (TS 33.501 §6.1.3.1 step 9, Annex B.3). In 5G the Identity is the
//!   SUPI's IMSI digits (TS 33.501 Annex F since v15.9.0, as free5GC does).
//! - [`Packet`]: EAP (RFC 3748 §4) with the AKA' method's subtype and attributes
//!   (RFC 4187 §10, RFC 9048 §3.1–3.2), [`Packet::decode`] / [`Packet::encode`].
//! - [`challenge_request`], [`challenge_response`], [`synchronization_failure`],
//!   [`verify_mac`]: the messages of a 5G run, AT_MAC = HMAC-SHA-256-128 over the
//!   packet with the MAC zeroed (RFC 9048 §3.4.1).
//!
//! CK' and IK' come from [`crate::keys::ck_ik_prime`] (TS 33.501 Annex A.3).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::Error;

/// EAP method type of EAP-AKA' (RFC 9048 §6, IANA).
pub const METHOD_AKA_PRIME: u8 = 50;

/// EAP codes (RFC 3748 §4).
pub mod code {
    /// Request.
    pub const REQUEST: u8 = 1;
    /// Response.
    pub const RESPONSE: u8 = 2;
    /// Success.
    pub const SUCCESS: u8 = 3;
    /// Failure.
    pub const FAILURE: u8 = 4;
}

/// EAP-AKA' subtypes (RFC 4187 §11).
pub mod subtype {
    /// AKA-Challenge.
    pub const CHALLENGE: u8 = 1;
    /// AKA-Authentication-Reject (the peer refused AUTN, e.g. a MAC failure).
    pub const AUTHENTICATION_REJECT: u8 = 2;
    /// AKA-Synchronization-Failure (AT_AUTS).
    pub const SYNCHRONIZATION_FAILURE: u8 = 4;
    /// AKA-Client-Error.
    pub const CLIENT_ERROR: u8 = 14;
}

/// Attribute types (RFC 4187 §11, RFC 9048 §3.1–3.2).
pub mod at {
    /// AT_RAND.
    pub const RAND: u8 = 1;
    /// AT_AUTN.
    pub const AUTN: u8 = 2;
    /// AT_RES.
    pub const RES: u8 = 3;
    /// AT_AUTS.
    pub const AUTS: u8 = 4;
    /// AT_MAC.
    pub const MAC: u8 = 11;
    /// AT_CLIENT_ERROR_CODE.
    pub const CLIENT_ERROR_CODE: u8 = 22;
    /// AT_KDF_INPUT (the network name).
    pub const KDF_INPUT: u8 = 23;
    /// AT_KDF.
    pub const KDF: u8 = 24;
}

/// The one key derivation function defined for AT_KDF (RFC 9048 §3.2).
pub const KDF_DEFAULT: u16 = 1;

/// The keys of one EAP-AKA' run (RFC 9048 §3.3).
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    /// K_encr (AT_ENCR_DATA; not used by 5G's full authentication).
    pub k_encr: [u8; 16],
    /// K_aut: the AT_MAC key.
    pub k_aut: [u8; 32],
    /// K_re (fast re-authentication).
    pub k_re: [u8; 32],
    /// MSK.
    pub msk: [u8; 64],
    /// EMSK.
    pub emsk: [u8; 64],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").finish_non_exhaustive()
    }
}

impl Keys {
    /// MK = PRF'(IK'‖CK', "EAP-AKA'"‖`identity`), 1664 bits, split in order into
    /// K_encr (128), K_aut (256), K_re (256), MSK (512), EMSK (512). PRF' is the
    /// HMAC-SHA-256 expansion T1 = HMAC(K, S‖0x01), Tn = HMAC(K, Tn-1‖S‖n).
    pub fn derive(ck_prime: &[u8; 16], ik_prime: &[u8; 16], identity: &[u8]) -> Self {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(ik_prime);
        key[16..].copy_from_slice(ck_prime);
        let mut s = b"EAP-AKA'".to_vec();
        s.extend_from_slice(identity);
        let mut mk = Vec::with_capacity(7 * 32);
        let mut previous: Vec<u8> = Vec::new();
        for n in 1..=7u8 {
            let mut mac = hmac(&key);
            mac.update(&previous);
            mac.update(&s);
            mac.update(&[n]);
            previous = mac.finalize().into_bytes().to_vec();
            mk.extend_from_slice(&previous);
        }
        let take = |from: usize, out: &mut [u8]| {
            let n = out.len();
            out.copy_from_slice(mk.get(from..from + n).unwrap_or(&[0; 64][..n]));
        };
        let mut keys = Keys {
            k_encr: [0; 16],
            k_aut: [0; 32],
            k_re: [0; 32],
            msk: [0; 64],
            emsk: [0; 64],
        };
        take(0, &mut keys.k_encr);
        take(16, &mut keys.k_aut);
        take(48, &mut keys.k_re);
        take(80, &mut keys.msk);
        take(144, &mut keys.emsk);
        keys
    }

    /// KAUSF: the most significant 256 bits of EMSK (TS 33.501 §6.1.3.1, Annex B.3).
    pub fn kausf(&self) -> [u8; 32] {
        let mut k = [0u8; 32];
        k.copy_from_slice(&self.emsk[..32]);
        k
    }
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        // Never taken: HMAC accepts a key of any length.
        Err(_) => <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()),
    }
}

/// One attribute: its type and its value, i.e. everything after the type and length
/// octets (reserved octets included), padded to the attribute's 4-octet length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Attribute type ([`at`]).
    pub kind: u8,
    /// Value octets.
    pub value: Vec<u8>,
}

/// An EAP packet: Success / Failure, or an EAP-AKA' Request / Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// [`code`].
    pub code: u8,
    /// Identifier: a Response repeats its Request's.
    pub identifier: u8,
    /// AKA' subtype ([`subtype`]); `None` for Success / Failure.
    pub subtype: Option<u8>,
    /// Attributes, in order.
    pub attributes: Vec<Attribute>,
}

impl Packet {
    /// EAP-Success (RFC 3748 §4.2) with `identifier`.
    pub fn success(identifier: u8) -> Self {
        Packet {
            code: code::SUCCESS,
            identifier,
            subtype: None,
            attributes: Vec::new(),
        }
    }

    /// EAP-Failure with `identifier`.
    pub fn failure(identifier: u8) -> Self {
        Packet {
            code: code::FAILURE,
            ..Packet::success(identifier)
        }
    }

    /// The octets.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.code, self.identifier, 0, 0];
        if let Some(sub) = self.subtype {
            out.extend_from_slice(&[METHOD_AKA_PRIME, sub, 0, 0]);
            for a in &self.attributes {
                let len = 2 + a.value.len();
                let padded = len.div_ceil(4) * 4;
                out.push(a.kind);
                out.push(u8::try_from(padded / 4).unwrap_or(u8::MAX));
                out.extend_from_slice(&a.value);
                out.resize(out.len() + padded - len, 0);
            }
        }
        let len = u16::try_from(out.len()).unwrap_or(u16::MAX).to_be_bytes();
        out[2..4].copy_from_slice(&len);
        out
    }

    /// Parse one packet: EAP-Success / -Failure, or an EAP-AKA' Request / Response.
    /// Any other method, a length that disagrees with the octets, or an attribute that
    /// runs past the end is an error.
    pub fn decode(octets: &[u8]) -> Result<Self, Error> {
        let bad = |why: &str| Error::Eap(why.to_string());
        let [code, identifier, l0, l1, rest @ ..] = octets else {
            return Err(bad("shorter than the EAP header"));
        };
        if usize::from(u16::from_be_bytes([*l0, *l1])) != octets.len() {
            return Err(bad("EAP length differs from the packet's"));
        }
        match *code {
            code::SUCCESS | code::FAILURE if rest.is_empty() => {
                return Ok(Packet {
                    code: *code,
                    identifier: *identifier,
                    subtype: None,
                    attributes: Vec::new(),
                });
            }
            code::REQUEST | code::RESPONSE => {}
            _ => return Err(bad("not an EAP Request, Response, Success or Failure")),
        }
        let [method, sub, _, _, attrs @ ..] = rest else {
            return Err(bad("shorter than the EAP-AKA' header"));
        };
        let mut attrs: &[u8] = attrs;
        if *method != METHOD_AKA_PRIME {
            return Err(bad("EAP method is not AKA' (50)"));
        }
        let mut attributes = Vec::new();
        while !attrs.is_empty() {
            let &[kind, units, ..] = attrs else {
                return Err(bad("attribute header cut short"));
            };
            let len = usize::from(units) * 4;
            if len < 4 || len > attrs.len() {
                return Err(bad("attribute length out of the packet"));
            }
            attributes.push(Attribute {
                kind,
                value: attrs[2..len].to_vec(),
            });
            attrs = &attrs[len..];
        }
        Ok(Packet {
            code: *code,
            identifier: *identifier,
            subtype: Some(*sub),
            attributes,
        })
    }

    /// The value of the first attribute of `kind`.
    pub fn attribute(&self, kind: u8) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| a.value.as_slice())
    }

    /// AT_RAND's RAND.
    pub fn rand(&self) -> Option<[u8; 16]> {
        fixed16(self.attribute(at::RAND)?)
    }

    /// AT_AUTN's AUTN.
    pub fn autn(&self) -> Option<[u8; 16]> {
        fixed16(self.attribute(at::AUTN)?)
    }

    /// AT_RES's RES (its length is given in bits).
    pub fn res(&self) -> Option<Vec<u8>> {
        let v = self.attribute(at::RES)?;
        let bits = usize::from(u16::from_be_bytes([*v.first()?, *v.get(1)?]));
        if bits % 8 != 0 {
            return None;
        }
        v.get(2..2 + bits / 8).map(<[u8]>::to_vec)
    }

    /// AT_AUTS's AUTS.
    pub fn auts(&self) -> Option<[u8; 14]> {
        self.attribute(at::AUTS)?.get(..14)?.try_into().ok()
    }

    /// AT_KDF_INPUT's network name.
    pub fn kdf_input(&self) -> Option<&[u8]> {
        let v = self.attribute(at::KDF_INPUT)?;
        let len = usize::from(u16::from_be_bytes([*v.first()?, *v.get(1)?]));
        v.get(2..2 + len)
    }

    /// The AT_KDF values offered, in order.
    pub fn kdfs(&self) -> Vec<u16> {
        self.attributes
            .iter()
            .filter(|a| a.kind == at::KDF)
            .filter_map(|a| Some(u16::from_be_bytes([*a.value.first()?, *a.value.get(1)?])))
            .collect()
    }
}

/// RAND and AUTN carry two reserved octets before their 16.
fn fixed16(v: &[u8]) -> Option<[u8; 16]> {
    v.get(2..18)?.try_into().ok()
}

fn with_reserved(value: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0];
    v.extend_from_slice(value);
    v
}

fn with_length(len: usize, value: &[u8]) -> Vec<u8> {
    let mut v = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes().to_vec();
    v.extend_from_slice(value);
    v
}

/// Append AT_MAC and fill it: HMAC-SHA-256-128 with `k_aut` over the whole packet with
/// the MAC value zeroed (RFC 9048 §3.4.1).
fn sign(mut packet: Packet, k_aut: &[u8; 32]) -> Vec<u8> {
    packet.attributes.push(Attribute {
        kind: at::MAC,
        value: vec![0; 18],
    });
    let mut octets = packet.encode();
    let mac = mac_of(k_aut, &octets);
    let at = octets.len() - 16;
    octets[at..].copy_from_slice(&mac);
    octets
}

fn mac_of(k_aut: &[u8; 32], octets: &[u8]) -> [u8; 16] {
    let mut m = hmac(k_aut);
    m.update(octets);
    let full = m.finalize().into_bytes();
    let mut mac = [0u8; 16];
    mac.copy_from_slice(&full[..16]);
    mac
}

/// Check the AT_MAC of `octets` (a packet as received) with `k_aut`, in constant time.
pub fn verify_mac(k_aut: &[u8; 32], octets: &[u8]) -> Result<(), Error> {
    let packet = Packet::decode(octets)?;
    let Some(received) = packet.attribute(at::MAC).and_then(fixed16) else {
        return Err(Error::Eap("no AT_MAC".into()));
    };
    // Zero the MAC value where it sits in the received octets.
    let mut zeroed = octets.to_vec();
    let mut offset = 8;
    for a in &packet.attributes {
        let len = 2 + a.value.len();
        if a.kind == at::MAC {
            if let Some(v) = zeroed.get_mut(offset + 4..offset + 20) {
                v.fill(0);
            }
            break;
        }
        offset += len;
    }
    if mac_of(k_aut, &zeroed).ct_eq(&received).into() {
        Ok(())
    } else {
        Err(Error::MacFailure)
    }
}

/// EAP-Request/AKA'-Challenge (RFC 9048 §3.1; TS 33.501 §6.1.3.1 step 5): AT_RAND,
/// AT_AUTN, AT_KDF_INPUT with the serving network name, AT_KDF 1, AT_MAC.
pub fn challenge_request(
    identifier: u8,
    rand: &[u8; 16],
    autn: &[u8; 16],
    network_name: &[u8],
    k_aut: &[u8; 32],
) -> Vec<u8> {
    let packet = Packet {
        code: code::REQUEST,
        identifier,
        subtype: Some(subtype::CHALLENGE),
        attributes: vec![
            Attribute {
                kind: at::RAND,
                value: with_reserved(rand),
            },
            Attribute {
                kind: at::AUTN,
                value: with_reserved(autn),
            },
            Attribute {
                kind: at::KDF_INPUT,
                value: with_length(network_name.len(), network_name),
            },
            Attribute {
                kind: at::KDF,
                value: KDF_DEFAULT.to_be_bytes().to_vec(),
            },
        ],
    };
    sign(packet, k_aut)
}

/// EAP-Response/AKA'-Challenge: AT_RES (length in bits) and AT_MAC.
pub fn challenge_response(identifier: u8, res: &[u8], k_aut: &[u8; 32]) -> Vec<u8> {
    let packet = Packet {
        code: code::RESPONSE,
        identifier,
        subtype: Some(subtype::CHALLENGE),
        attributes: vec![Attribute {
            kind: at::RES,
            value: with_length(res.len() * 8, res),
        }],
    };
    sign(packet, k_aut)
}

/// EAP-Response/AKA'-Synchronization-Failure: AT_AUTS and the AT_KDF in use
/// (RFC 9048 §3.2); no AT_MAC (the peer has no keys it trusts).
pub fn synchronization_failure(identifier: u8, auts: &[u8; 14]) -> Vec<u8> {
    Packet {
        code: code::RESPONSE,
        identifier,
        subtype: Some(subtype::SYNCHRONIZATION_FAILURE),
        attributes: vec![
            Attribute {
                kind: at::AUTS,
                value: auts.to_vec(),
            },
            Attribute {
                kind: at::KDF,
                value: KDF_DEFAULT.to_be_bytes().to_vec(),
            },
        ],
    }
    .encode()
}

/// EAP-Response/AKA'-Authentication-Reject: the peer refused AUTN (RFC 4187 §9.5).
pub fn authentication_reject(identifier: u8) -> Vec<u8> {
    Packet {
        code: code::RESPONSE,
        identifier,
        subtype: Some(subtype::AUTHENTICATION_REJECT),
        attributes: Vec::new(),
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ck_ik_prime_for;

    fn h<const N: usize>(s: &str) -> [u8; N] {
        let v: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        v.try_into().unwrap()
    }

    // RFC 9048 Appendix C (RFC 5448 Appendix C), test case 1: network name "WLAN",
    // identity "0555444333222111".
    const RAND: &str = "81e92b6c0ee0e12ebceba8d92a99dfa5";
    const AUTN: &str = "bb52e91c747ac3ab2a5c23d15ee351d5";
    const IK: &str = "9744871ad32bf9bbd1dd5ce54e3e2e5a";
    const CK: &str = "5349fbe098649f948f5d2e973a81c00f";
    const RES: &str = "28d7b0f2a2ec3de5";

    fn case1() -> Keys {
        let autn: [u8; 16] = h(AUTN);
        let sqn_xor_ak: [u8; 6] = autn[..6].try_into().unwrap();
        let (ck_p, ik_p) = ck_ik_prime_for(&h(CK), &h(IK), b"WLAN", &sqn_xor_ak).unwrap();
        assert_eq!(ck_p, h::<16>("0093962d0dd84aa5684b045c9edffa04"), "CK'");
        assert_eq!(ik_p, h::<16>("ccfc230ca74fcc96c0a5d61164f5a76c"), "IK'");
        Keys::derive(&ck_p, &ik_p, b"0555444333222111")
    }

    #[test]
    fn rfc9048_test_case_1() {
        let k = case1();
        assert_eq!(k.k_encr, h::<16>("766fa0a6c317174b812d52fbcd11a179"), "K_encr");
        assert_eq!(
            k.k_aut,
            h::<32>("0842ea722ff6835bfa2032499fc3ec23c2f0e388b4f07543ffc677f1696d71ea"),
            "K_aut"
        );
        assert_eq!(
            k.k_re,
            h::<32>("cf83aa8bc7e0aced892acc98e76a9b2095b558c7795c7094715cb3393aa7d17a"),
            "K_re"
        );
        assert_eq!(
            k.msk,
            h::<64>(
                "67c42d9aa56c1b79e295e3459fc3d187d42be0bf818d3070e362c5e967a4d544\
                 e8ecfe19358ab3039aff03b7c930588c055babee58a02650b067ec4e9347c75a"
            ),
            "MSK"
        );
        assert_eq!(k.kausf(), k.emsk[..32]);
    }

    #[test]
    fn a_challenge_round_trip_verifies_and_a_flipped_bit_does_not() {
        let k = case1();
        let req = challenge_request(7, &h(RAND), &h(AUTN), b"5G:mnc070.mcc999.3gppnetwork.org", &k.k_aut);
        verify_mac(&k.k_aut, &req).unwrap();
        let p = Packet::decode(&req).unwrap();
        assert_eq!(
            (p.code, p.identifier, p.subtype),
            (code::REQUEST, 7, Some(subtype::CHALLENGE))
        );
        assert_eq!(p.rand(), Some(h(RAND)));
        assert_eq!(p.autn(), Some(h(AUTN)));
        assert_eq!(p.kdf_input(), Some(&b"5G:mnc070.mcc999.3gppnetwork.org"[..]));
        assert_eq!(p.kdfs(), vec![KDF_DEFAULT]);
        assert_eq!(p.encode(), req, "re-encodes to the same octets");

        let resp = challenge_response(7, &h::<8>(RES), &k.k_aut);
        verify_mac(&k.k_aut, &resp).unwrap();
        assert_eq!(Packet::decode(&resp).unwrap().res(), Some(h::<8>(RES).to_vec()));

        let mut bad = resp.clone();
        let last = bad.len() - 21; // the last octet of RES, before AT_MAC
        bad[last] ^= 1;
        assert_eq!(verify_mac(&k.k_aut, &bad), Err(Error::MacFailure));
        let mut other_key = k.k_aut;
        other_key[0] ^= 1;
        assert_eq!(verify_mac(&other_key, &resp), Err(Error::MacFailure));
    }

    #[test]
    fn sync_failure_success_and_malformed_packets() {
        let auts = [0xa5; 14];
        let p = Packet::decode(&synchronization_failure(3, &auts)).unwrap();
        assert_eq!(p.subtype, Some(subtype::SYNCHRONIZATION_FAILURE));
        assert_eq!(p.auts(), Some(auts));
        assert_eq!(p.kdfs(), vec![KDF_DEFAULT]);
        assert_eq!(Packet::success(9).encode(), vec![3, 9, 0, 4]);
        assert_eq!(Packet::decode(&[4, 9, 0, 4]).unwrap(), Packet::failure(9));
        for bad in [
            &[][..],
            &[1, 1, 0],
            &[1, 1, 0, 9, 50, 1, 0, 0],              // length disagrees
            &[1, 1, 0, 8, 23, 1, 0, 0],              // EAP-AKA (23), not AKA'
            &[1, 1, 0, 12, 50, 1, 0, 0, 1, 5, 0, 0], // attribute past the end
            &[1, 1, 0, 12, 50, 1, 0, 0, 1, 0, 0, 0], // zero-length attribute
        ] {
            assert!(Packet::decode(bad).is_err(), "{bad:?}");
        }
        assert!(verify_mac(&[0; 32], &Packet::success(1).encode()).is_err());
    }
}
