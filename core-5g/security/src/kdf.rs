//! The generic key derivation function of TS 33.220 Annex B.2.
//!
//! `derived key = HMAC-SHA-256(Key, S)` with
//! `S = FC ‖ P0 ‖ L0 ‖ P1 ‖ L1 ‖ … ‖ Pn ‖ Ln`, where each `Li` is the length
//! of `Pi` in octets as a two-octet big-endian number (TS 33.220 §B.2.0).
//! Every 5G derivation of TS 33.501 Annex A is this function with its own
//! FC code and parameters; see [`crate::keys`].

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Error;

type HmacSha256 = Hmac<Sha256>;

/// FC codes of TS 33.501 Annex A (and TS 33.220 Annex B.2 numbering space).
pub mod fc {
    /// A.3 CK'/IK' for EAP-AKA' (TS 33.402 Annex A.2 numbering).
    pub const CK_PRIME_IK_PRIME: u8 = 0x20;
    /// A.8 algorithm key derivation (KNASenc, KNASint, KRRC*, KUP*).
    pub const ALGORITHM_KEY: u8 = 0x69;
    /// A.2 KAUSF.
    pub const KAUSF: u8 = 0x6A;
    /// A.4 RES* / XRES*.
    pub const RES_STAR: u8 = 0x6B;
    /// A.6 KSEAF.
    pub const KSEAF: u8 = 0x6C;
    /// A.7 KAMF.
    pub const KAMF: u8 = 0x6D;
    /// A.9 KgNB / KN3IWF.
    pub const KGNB: u8 = 0x6E;
    /// A.10 NH.
    pub const NH: u8 = 0x6F;
    /// A.11 KNG-RAN* for the target gNB.
    pub const KNG_RAN_STAR: u8 = 0x70;
    /// A.13 KAMF → KAMF' in mobility.
    pub const KAMF_PRIME_MOBILITY: u8 = 0x72;
    /// A.14.1 KAMF → KASME' in idle mode mobility (5GS to EPS).
    pub const KASME_PRIME_IDLE: u8 = 0x73;
    /// A.14.2 KAMF → KASME' in handover (5GS to EPS).
    pub const KASME_PRIME_HO: u8 = 0x74;
    /// A.15.1 KASME → KAMF' in idle mode mobility (EPS to 5GS).
    pub const KAMF_PRIME_FROM_KASME_IDLE: u8 = 0x75;
    /// A.15.2 KASME → KAMF' in handover (EPS to 5GS).
    pub const KAMF_PRIME_FROM_KASME_HO: u8 = 0x76;
}

/// The TS 33.220 Annex B.2 KDF over parameters `P0..Pn`.
///
/// Fails only when one parameter is longer than 65 535 octets (its length
/// would not fit the two-octet `Li`).
pub fn kdf(key: &[u8], fc: u8, params: &[&[u8]]) -> Result<[u8; 32], Error> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for HMAC.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => {
            return Err(Error::BadKeyLength {
                expected: 32,
                got: key.len(),
            });
        }
    };
    mac.update(&[fc]);
    for p in params {
        let len = u16::try_from(p.len()).map_err(|_| Error::BadKeyLength {
            expected: usize::from(u16::MAX),
            got: p.len(),
        })?;
        mac.update(p);
        mac.update(&len.to_be_bytes());
    }
    Ok(mac.finalize().into_bytes().into())
}

/// The KDF for parameters whose lengths are fixed by the caller's types
/// (all well under 65 535 octets), so it cannot fail.
pub(crate) fn kdf_fixed(key: &[u8], fc: u8, params: &[&[u8]]) -> [u8; 32] {
    debug_assert!(params.iter().all(|p| p.len() <= usize::from(u16::MAX)));
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        // Unreachable: HMAC accepts every key length.
        Err(_) => return [0; 32],
    };
    mac.update(&[fc]);
    for p in params {
        mac.update(p);
        // Truncation impossible: callers pass arrays of at most 32 octets.
        mac.update(&(p.len() as u16).to_be_bytes());
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below were computed independently with Python's
    // standard library (`hmac.new(key, S, hashlib.sha256)`), assembling S
    // by hand as FC ‖ P0 ‖ L0 ‖ … per TS 33.220 §B.2.0.

    #[test]
    fn kdf_layout_matches_independent_hmac() {
        // key = 00..1f, FC = 0x6A, P0 = "5G:mnc093.mcc208.3gppnetwork.org",
        // P1 = 0x0102030405 06 → S = 6a ‖ P0 ‖ 0020 ‖ 010203040506 ‖ 0006.
        let key: Vec<u8> = (0u8..32).collect();
        let p0 = b"5G:mnc093.mcc208.3gppnetwork.org";
        let p1 = [1u8, 2, 3, 4, 5, 6];
        let out = kdf(&key, 0x6A, &[p0, &p1]).unwrap();
        assert_eq!(hex::encode(out), KDF_EXPECTED);
        assert_eq!(kdf_fixed(&key, 0x6A, &[p0, &p1]), out);
    }

    /// Published KeNB derivations (TS 33.401 A.3: KEY = KASME, FC = 0x11,
    /// P0 = uplink NAS COUNT), as in OpenAirInterface's `test_secu_kenb.c`.
    /// Same KDF framing as every TS 33.501 Annex A derivation.
    #[test]
    fn kdf_matches_published_kenb_vectors() {
        let cases = [
            (
                0xdb1a_3569u32,
                "238e457e0f758badbca8d34bb2612c10428d426757cb5553b2b184fa64bfc549",
                "8eb1bf0083bd79281ef7034bf677e9ec529f196e15287514a2d122acf713b8e8",
            ),
            (
                0x0000_0012,
                "fa77e41f693c2a6e71455cb8687e6e6058ef91e2f5abd1bd3c496179481f308c",
                "0afe81266de52b8c8f1c3f4fe799be883f364b018e7368c41f14dd6d050e13e1",
            ),
            (
                0xaabb_ccdd,
                "70d7071aa016a087f9d888ad51f3a83e2c83443ab27843b35bd1b4923615091c",
                "158781a2fdf2ce53abfa186d22eb751decb8273471dc792b5016c9016947d1ae",
            ),
        ];
        for (count, kasme, kenb) in cases {
            let key = hex::decode(kasme).unwrap();
            let out = kdf(&key, 0x11, &[&count.to_be_bytes()]).unwrap();
            assert_eq!(hex::encode(out), kenb);
        }
    }

    #[test]
    fn kdf_no_params_is_hmac_of_fc() {
        let key = [0x0bu8; 32];
        let out = kdf(&key, 0x6F, &[]).unwrap();
        assert_eq!(hex::encode(out), KDF_FC_ONLY_EXPECTED);
    }

    #[test]
    fn kdf_rejects_oversized_parameter() {
        let big = vec![0u8; 70_000];
        assert!(kdf(&[0; 32], 0x6A, &[&big]).is_err());
    }

    #[test]
    fn kdf_changes_with_every_input() {
        let base = kdf(&[1; 32], 0x6A, &[b"ab", b"c"]).unwrap();
        // Same bytes, different split: the length fields must separate them.
        assert_ne!(base, kdf(&[1; 32], 0x6A, &[b"a", b"bc"]).unwrap());
        assert_ne!(base, kdf(&[1; 32], 0x6B, &[b"ab", b"c"]).unwrap());
        assert_ne!(base, kdf(&[2; 32], 0x6A, &[b"ab", b"c"]).unwrap());
    }

    const KDF_EXPECTED: &str = "1922d51b883ab511dab749013c0991895be87853746a10f11b4f0c45fe8c6782";
    const KDF_FC_ONLY_EXPECTED: &str = "6260b1c803a55ea7baa45f5b909be0c9fd53139f15d4ae2c8759358c9b66852a";
}
