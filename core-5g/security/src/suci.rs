//! SUCI concealment (UE side) and de-concealment (home network side):
//! the null scheme and the ECIES protection schemes Profile A (X25519) and
//! Profile B (NIST P-256 with a compressed ephemeral public key) of
//! TS 33.501 §6.12.2 and Annex C.3.
//!
//! Only the *scheme output* is handled here (ephemeral public key ‖
//! ciphertext ‖ MAC tag); framing it into the SUCI IE (SUPI format, home
//! network identifier, routing indicator, protection scheme id, HN public key
//! id) is the NAS codec's job. [`scheme_input_from_msin`] and
//! [`msin_from_scheme_input`] convert between MSIN digits and the BCD scheme
//! input/output of an IMSI-based SUPI (TS 33.501 C.3.3, TS 24.501 §9.11.3.4).
//!
//! ECIES (TS 33.501 C.3.2–C.3.4, SECG SEC 1):
//! * shared secret Z = ECDH(private key, peer public key);
//! * ANSI X9.63 KDF with SHA-256, SharedInfo1 = the ephemeral public key as
//!   sent, 64 octets of key data = enc key (16) ‖ ICB (16) ‖ MAC key (32);
//! * AES-128 in CTR mode with the ICB as initial counter block;
//! * MAC tag = the first 8 octets of HMAC-SHA-256(MAC key, ciphertext).
//!
//! The ephemeral private key is an input so that a simulated UE and the tests
//! are deterministic; a real UE draws a fresh one for every SUCI.

use aes::Aes128;
use aes::cipher::{KeyIvInit, StreamCipher, generic_array::GenericArray};
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;
type HmacSha256 = Hmac<Sha256>;

const ENC_KEY_LEN: usize = 16;
const ICB_LEN: usize = 16;
const MAC_KEY_LEN: usize = 32;
/// MAC tag length for both profiles (TS 33.501 C.3.4.1/C.3.4.2: 64 bits).
pub const MAC_TAG_LEN: usize = 8;

/// Protection scheme identifier (TS 24.501 §9.11.3.4, TS 33.501 Annex C.1).
/// Values the wire carries but this crate does not implement stay as
/// `Unknown` for the caller to reject with the right cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtectionScheme {
    /// 0x0: null scheme (scheme output = scheme input).
    Null,
    /// 0x1: ECIES Profile A (Curve25519).
    ProfileA,
    /// 0x2: ECIES Profile B (secp256r1).
    ProfileB,
    /// Any other 4-bit value (reserved, or operator-specific 0xC–0xF).
    Unknown(u8),
}

impl ProtectionScheme {
    /// From the 4-bit protection scheme identifier.
    pub fn from_id(id: u8) -> Self {
        match id {
            0 => Self::Null,
            1 => Self::ProfileA,
            2 => Self::ProfileB,
            n => Self::Unknown(n),
        }
    }

    /// The 4-bit protection scheme identifier.
    pub fn id(self) -> u8 {
        match self {
            Self::Null => 0,
            Self::ProfileA => 1,
            Self::ProfileB => 2,
            Self::Unknown(n) => n,
        }
    }
}

/// A home network private key for SUCI de-concealment (held by the
/// UDM/SIDF, TS 33.501 §6.12.2).
#[derive(Clone)]
pub enum HomeNetworkKey {
    /// Profile A: an X25519 private key.
    ProfileA(x25519_dalek::StaticSecret),
    /// Profile B: a P-256 private key.
    ProfileB(p256::SecretKey),
}

impl core::fmt::Debug for HomeNetworkKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::ProfileA(_) => f.write_str("HomeNetworkKey::ProfileA(..)"),
            Self::ProfileB(_) => f.write_str("HomeNetworkKey::ProfileB(..)"),
        }
    }
}

impl HomeNetworkKey {
    /// A Profile A key from its 32 octets (RFC 7748 scalar; clamping is
    /// applied by X25519 itself).
    pub fn profile_a(private: &[u8]) -> Result<Self, Error> {
        let b: [u8; 32] = private.try_into().map_err(|_| Error::BadKeyLength {
            expected: 32,
            got: private.len(),
        })?;
        Ok(Self::ProfileA(x25519_dalek::StaticSecret::from(b)))
    }

    /// A Profile B key from its 32-octet big-endian scalar (1 ≤ d < n).
    pub fn profile_b(private: &[u8]) -> Result<Self, Error> {
        if private.len() != 32 {
            return Err(Error::BadKeyLength {
                expected: 32,
                got: private.len(),
            });
        }
        p256::SecretKey::from_slice(private)
            .map(Self::ProfileB)
            .map_err(|_| Error::BadPublicKey("P-256 private scalar out of range"))
    }

    /// The scheme this key serves.
    pub fn scheme(&self) -> ProtectionScheme {
        match self {
            Self::ProfileA(_) => ProtectionScheme::ProfileA,
            Self::ProfileB(_) => ProtectionScheme::ProfileB,
        }
    }

    /// The public key to provision in USIMs: 32 octets for Profile A, the
    /// 33-octet compressed point for Profile B.
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            Self::ProfileA(s) => x25519_dalek::PublicKey::from(s).as_bytes().to_vec(),
            Self::ProfileB(s) => s.public_key().to_encoded_point(true).as_bytes().to_vec(),
        }
    }

    /// De-conceal a scheme output: check the MAC tag (constant time), then
    /// decrypt. Returns the scheme input (e.g. the BCD MSIN).
    pub fn deconceal(&self, scheme_output: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Self::ProfileA(sk) => {
                if scheme_output.len() < 32 + MAC_TAG_LEN {
                    return Err(Error::BadSchemeOutput("Profile A output too short"));
                }
                let (eph, rest) = scheme_output.split_at(32);
                let mut eph_b = [0u8; 32];
                eph_b.copy_from_slice(eph);
                let shared = sk.diffie_hellman(&x25519_dalek::PublicKey::from(eph_b));
                if !shared.was_contributory() {
                    return Err(Error::WeakSharedSecret);
                }
                open(shared.as_bytes(), eph, rest)
            }
            Self::ProfileB(sk) => {
                let eph_len = match scheme_output.first() {
                    Some(0x02 | 0x03) => 33,
                    // Uncompressed points are accepted on receipt; UEs should
                    // send compressed ones (TS 33.501 C.3.4.2).
                    Some(0x04) => 65,
                    _ => return Err(Error::BadSchemeOutput("Profile B point prefix")),
                };
                if scheme_output.len() < eph_len + MAC_TAG_LEN {
                    return Err(Error::BadSchemeOutput("Profile B output too short"));
                }
                let (eph, rest) = scheme_output.split_at(eph_len);
                let pk =
                    p256::PublicKey::from_sec1_bytes(eph).map_err(|_| Error::BadPublicKey("ephemeral P-256 point"))?;
                let shared = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
                open(shared.raw_secret_bytes().as_slice(), eph, rest)
            }
        }
    }
}

/// UE side: conceal `scheme_input` for the home network public key
/// `hn_public` with the given ephemeral private key.
///
/// * Null scheme: returns the input unchanged (keys ignored).
/// * Profile A: `hn_public` is 32 octets; output = eph. public (32) ‖ ciphertext ‖ tag (8).
/// * Profile B: `hn_public` is a SEC1 point (33 or 65 octets); output =
///   compressed eph. public (33) ‖ ciphertext ‖ tag (8).
pub fn conceal(
    scheme: ProtectionScheme,
    hn_public: &[u8],
    eph_private: &[u8; 32],
    scheme_input: &[u8],
) -> Result<Vec<u8>, Error> {
    match scheme {
        ProtectionScheme::Null => Ok(scheme_input.to_vec()),
        ProtectionScheme::ProfileA => {
            let hn: [u8; 32] = hn_public.try_into().map_err(|_| Error::BadKeyLength {
                expected: 32,
                got: hn_public.len(),
            })?;
            let eph = x25519_dalek::StaticSecret::from(*eph_private);
            let eph_pub = x25519_dalek::PublicKey::from(&eph);
            let shared = eph.diffie_hellman(&x25519_dalek::PublicKey::from(hn));
            if !shared.was_contributory() {
                return Err(Error::WeakSharedSecret);
            }
            Ok(seal(shared.as_bytes(), eph_pub.as_bytes(), scheme_input))
        }
        ProtectionScheme::ProfileB => {
            let hn = p256::PublicKey::from_sec1_bytes(hn_public)
                .map_err(|_| Error::BadPublicKey("home network P-256 key"))?;
            let eph = p256::SecretKey::from_slice(eph_private)
                .map_err(|_| Error::BadPublicKey("ephemeral P-256 scalar out of range"))?;
            let eph_pub = eph.public_key().to_encoded_point(true);
            let shared = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), hn.as_affine());
            Ok(seal(
                shared.raw_secret_bytes().as_slice(),
                eph_pub.as_bytes(),
                scheme_input,
            ))
        }
        ProtectionScheme::Unknown(_) => Err(Error::BadSchemeOutput("unsupported protection scheme")),
    }
}

/// Home network side for any scheme: the null scheme needs no key; ECIES
/// schemes need the matching [`HomeNetworkKey`].
pub fn deconceal(
    scheme: ProtectionScheme,
    key: Option<&HomeNetworkKey>,
    scheme_output: &[u8],
) -> Result<Vec<u8>, Error> {
    match (scheme, key) {
        (ProtectionScheme::Null, _) => Ok(scheme_output.to_vec()),
        (ProtectionScheme::ProfileA | ProtectionScheme::ProfileB, Some(k)) if k.scheme() == scheme => {
            k.deconceal(scheme_output)
        }
        (ProtectionScheme::ProfileA | ProtectionScheme::ProfileB, _) => {
            Err(Error::BadSchemeOutput("no home network key for this scheme"))
        }
        (ProtectionScheme::Unknown(_), _) => Err(Error::BadSchemeOutput("unsupported protection scheme")),
    }
}

/// The ECIES key material derived from the shared secret.
struct EciesKeys {
    enc: [u8; ENC_KEY_LEN],
    icb: [u8; ICB_LEN],
    mac: [u8; MAC_KEY_LEN],
}

/// ANSI X9.63 KDF (SEC 1 §3.6.1) with SHA-256: K = Hash(Z ‖ 00000001 ‖ SI)
/// ‖ Hash(Z ‖ 00000002 ‖ SI), split into enc key, ICB and MAC key.
fn derive(shared: &[u8], eph_public: &[u8]) -> EciesKeys {
    let mut out = [0u8; 64];
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let mut h = Sha256::new();
        h.update(shared);
        // i is 0 or 1: the counter is 1 or 2.
        h.update(((i as u32) + 1).to_be_bytes());
        h.update(eph_public);
        chunk.copy_from_slice(&h.finalize());
    }
    let mut k = EciesKeys {
        enc: [0; ENC_KEY_LEN],
        icb: [0; ICB_LEN],
        mac: [0; MAC_KEY_LEN],
    };
    k.enc.copy_from_slice(&out[..16]);
    k.icb.copy_from_slice(&out[16..32]);
    k.mac.copy_from_slice(&out[32..64]);
    k
}

fn ctr(k: &EciesKeys, data: &mut [u8]) {
    let mut c = Aes128Ctr::new(GenericArray::from_slice(&k.enc), GenericArray::from_slice(&k.icb));
    c.apply_keystream(data);
}

fn tag(k: &EciesKeys, ciphertext: &[u8]) -> [u8; MAC_TAG_LEN] {
    // HMAC accepts every key length; 32 octets here.
    let mut t = [0u8; MAC_TAG_LEN];
    if let Ok(mut m) = HmacSha256::new_from_slice(&k.mac) {
        m.update(ciphertext);
        t.copy_from_slice(&m.finalize().into_bytes()[..MAC_TAG_LEN]);
    }
    t
}

fn seal(shared: &[u8], eph_public: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let k = derive(shared, eph_public);
    let mut ct = plaintext.to_vec();
    ctr(&k, &mut ct);
    let t = tag(&k, &ct);
    let mut out = Vec::with_capacity(eph_public.len() + ct.len() + MAC_TAG_LEN);
    out.extend_from_slice(eph_public);
    out.extend_from_slice(&ct);
    out.extend_from_slice(&t);
    out
}

/// `rest` = ciphertext ‖ tag; its length is checked by the callers.
fn open(shared: &[u8], eph_public: &[u8], rest: &[u8]) -> Result<Vec<u8>, Error> {
    let split = rest
        .len()
        .checked_sub(MAC_TAG_LEN)
        .ok_or(Error::BadSchemeOutput("missing MAC tag"))?;
    let (ct, received_tag) = rest.split_at(split);
    let k = derive(shared, eph_public);
    let expected = tag(&k, ct);
    if !bool::from(expected.ct_eq(received_tag)) {
        return Err(Error::MacFailure);
    }
    let mut pt = ct.to_vec();
    ctr(&k, &mut pt);
    Ok(pt)
}

/// MSIN digits → scheme input of an IMSI-based SUPI: BCD, two digits per
/// octet, first digit in the low nibble, odd count padded with 0xF
/// (TS 24.501 §9.11.3.4, TS 33.501 C.4.2: "001002086" → 00 01 20 80 F6).
pub fn scheme_input_from_msin(msin: &str) -> Result<Vec<u8>, Error> {
    if msin.is_empty() || !msin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::BadDigits("MSIN must be decimal digits"));
    }
    let digits: Vec<u8> = msin.bytes().map(|b| b - b'0').collect();
    Ok(digits
        .chunks(2)
        .map(|p| match p {
            [a, b] => (b << 4) | a,
            [a] => 0xf0 | a,
            _ => 0xff,
        })
        .collect())
}

/// Decrypted (or null-scheme) output → MSIN digits; the reverse of
/// [`scheme_input_from_msin`]. A filler 0xF is allowed only as the very
/// last nibble.
pub fn msin_from_scheme_input(bcd: &[u8]) -> Result<String, Error> {
    if bcd.is_empty() {
        return Err(Error::BadDigits("empty MSIN"));
    }
    let mut s = String::with_capacity(bcd.len() * 2);
    for (i, &b) in bcd.iter().enumerate() {
        let lo = b & 0x0f;
        let hi = b >> 4;
        if lo > 9 {
            return Err(Error::BadDigits("non-digit BCD nibble"));
        }
        s.push(char::from(b'0' + lo));
        if hi == 0x0f && i == bcd.len() - 1 {
            break;
        }
        if hi > 9 {
            return Err(Error::BadDigits("non-digit BCD nibble"));
        }
        s.push(char::from(b'0' + hi));
    }
    Ok(s)
}

#[cfg(test)]
mod tests;
