//! The 5G key hierarchy of TS 33.501 §6.2 and Annex A: KAUSF, RES*/XRES*,
//! HRES*/HXRES*, KSEAF, KAMF, the NAS algorithm keys, KgNB, NH, KNG-RAN*,
//! and the KAMF' derivations for mobility, plus the serving network name.
//!
//! Every function is the TS 33.220 KDF ([`crate::kdf::kdf`]) with the FC code
//! and parameters its Annex A clause lists. Keys are plain byte arrays: the
//! caller owns their storage and lifetime.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;
use crate::kdf::{fc, kdf, kdf_fixed};

/// The serving network name of TS 33.501 §6.1.1.4 / TS 24.501 §9.12.1:
/// `5G:mnc<MNC>.mcc<MCC>.3gppnetwork.org` with a three-digit MNC (a two-digit
/// MNC gets a leading zero), optionally followed by `:<NID>` for an SNPN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServingNetworkName(String);

impl ServingNetworkName {
    /// Build the name from decimal MCC (3 digits) and MNC (2 or 3 digits).
    pub fn new(mcc: &str, mnc: &str) -> Result<Self, Error> {
        if mcc.len() != 3 || !mcc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::BadPlmn("MCC must be 3 decimal digits"));
        }
        if !(mnc.len() == 2 || mnc.len() == 3) || !mnc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::BadPlmn("MNC must be 2 or 3 decimal digits"));
        }
        let pad = if mnc.len() == 2 { "0" } else { "" };
        Ok(Self(format!("5G:mnc{pad}{mnc}.mcc{mcc}.3gppnetwork.org")))
    }

    /// The SNPN form with a Network Identifier (TS 33.501 §6.1.1.4.1):
    /// `5G:mnc<MNC>.mcc<MCC>.3gppnetwork.org:<NID>`; `nid` is the 11 hex digits.
    pub fn with_nid(mcc: &str, mnc: &str, nid: &str) -> Result<Self, Error> {
        let base = Self::new(mcc, mnc)?;
        if nid.len() != 11 || !nid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::BadPlmn("NID must be 11 hexadecimal digits"));
        }
        Ok(Self(format!("{}:{}", base.0, nid)))
    }

    /// Accept a name received from a peer (e.g. in `Nausf_UEAuthentication`)
    /// as it is; only its length is checked (it must fit the KDF's `L0`).
    pub fn from_received(name: &str) -> Result<Self, Error> {
        if name.is_empty() || name.len() > usize::from(u16::MAX) {
            return Err(Error::BadPlmn("serving network name length"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as the octets fed to the KDF.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl core::fmt::Display for ServingNetworkName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

fn ck_ik(ck: &[u8; 16], ik: &[u8; 16]) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(ck);
    key[16..].copy_from_slice(ik);
    key
}

fn last16(x: &[u8; 32]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o.copy_from_slice(&x[16..]);
    o
}

/// KAUSF (TS 33.501 A.2): KEY = CK‖IK, FC = 0x6A, P0 = serving network name,
/// P1 = SQN ⊕ AK.
pub fn kausf(ck: &[u8; 16], ik: &[u8; 16], snn: &ServingNetworkName, sqn_xor_ak: &[u8; 6]) -> Result<[u8; 32], Error> {
    kdf(&ck_ik(ck, ik), fc::KAUSF, &[snn.as_bytes(), sqn_xor_ak])
}

/// CK' and IK' for EAP-AKA' (TS 33.501 A.3 → TS 33.402 A.2): KEY = CK‖IK,
/// FC = 0x20, P0 = serving network name (the access network identity),
/// P1 = SQN ⊕ AK; CK' is the most significant half of the output, IK' the
/// least significant half.
pub fn ck_ik_prime(
    ck: &[u8; 16],
    ik: &[u8; 16],
    snn: &ServingNetworkName,
    sqn_xor_ak: &[u8; 6],
) -> Result<([u8; 16], [u8; 16]), Error> {
    ck_ik_prime_for(ck, ik, snn.as_bytes(), sqn_xor_ak)
}

/// [`ck_ik_prime`] for any access network identity (TS 33.402 Annex A.2: "WLAN" in
/// RFC 9048's test vectors; the serving network name in 5G).
pub fn ck_ik_prime_for(
    ck: &[u8; 16],
    ik: &[u8; 16],
    network_name: &[u8],
    sqn_xor_ak: &[u8; 6],
) -> Result<([u8; 16], [u8; 16]), Error> {
    let out = kdf(&ck_ik(ck, ik), fc::CK_PRIME_IK_PRIME, &[network_name, sqn_xor_ak])?;
    let mut ck_p = [0u8; 16];
    ck_p.copy_from_slice(&out[..16]);
    Ok((ck_p, last16(&out)))
}

/// RES* / XRES* (TS 33.501 A.4): KEY = CK‖IK, FC = 0x6B, P0 = serving network
/// name, P1 = RAND, P2 = RES (or XRES); the 128 least significant bits.
///
/// `res` is 4 to 16 octets (TS 33.102 §6.3.2 lets f2 be 32..128 bits;
/// MILENAGE gives 8).
pub fn res_star(
    ck: &[u8; 16],
    ik: &[u8; 16],
    snn: &ServingNetworkName,
    rand: &[u8; 16],
    res: &[u8],
) -> Result<[u8; 16], Error> {
    if !(4..=16).contains(&res.len()) {
        return Err(Error::BadKeyLength {
            expected: 8,
            got: res.len(),
        });
    }
    let out = kdf(&ck_ik(ck, ik), fc::RES_STAR, &[snn.as_bytes(), rand, res])?;
    Ok(last16(&out))
}

/// HRES* / HXRES* (TS 33.501 A.5): the 128 least significant bits of
/// SHA-256(RAND ‖ RES*).
pub fn hres_star(rand: &[u8; 16], res_star: &[u8; 16]) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(rand);
    h.update(res_star);
    let d: [u8; 32] = h.finalize().into();
    last16(&d)
}

/// Constant-time check of a received RES* against the stored XRES* (AUSF,
/// TS 33.501 §6.1.3.2.0 step 11). A mismatch is [`Error::ResMismatch`].
pub fn verify_res_star(xres_star: &[u8; 16], res_star: &[u8]) -> Result<(), Error> {
    if bool::from(xres_star.ct_eq(res_star)) {
        Ok(())
    } else {
        Err(Error::ResMismatch)
    }
}

/// SEAF check (TS 33.501 §6.1.3.2.0 step 10): HRES* computed from the
/// received RES* must equal the HXRES* of the vector, in constant time.
pub fn verify_hres_star(rand: &[u8; 16], res_star: &[u8; 16], hxres_star: &[u8; 16]) -> Result<(), Error> {
    let h = hres_star(rand, res_star);
    if bool::from(h.ct_eq(hxres_star)) {
        Ok(())
    } else {
        Err(Error::ResMismatch)
    }
}

/// KSEAF (TS 33.501 A.6): KEY = KAUSF, FC = 0x6C, P0 = serving network name.
pub fn kseaf(kausf: &[u8; 32], snn: &ServingNetworkName) -> Result<[u8; 32], Error> {
    kdf(kausf, fc::KSEAF, &[snn.as_bytes()])
}

/// KAMF (TS 33.501 A.7): KEY = KSEAF, FC = 0x6D, P0 = SUPI, P1 = ABBA.
///
/// `supi` is the IMSI digits (no `imsi-` prefix; TS 23.003 §2.2) or the NAI
/// for a network-specific identifier; ABBA is 0x0000 today (A.7.1).
pub fn kamf(kseaf: &[u8; 32], supi: &str, abba: &[u8]) -> Result<[u8; 32], Error> {
    let supi = supi
        .strip_prefix("imsi-")
        .or_else(|| supi.strip_prefix("nai-"))
        .unwrap_or(supi);
    kdf(kseaf, fc::KAMF, &[supi.as_bytes(), abba])
}

/// Algorithm type distinguishers (TS 33.501 Table A.8-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AlgorithmType {
    /// N-NAS-enc-alg.
    NasEnc = 0x01,
    /// N-NAS-int-alg.
    NasInt = 0x02,
    /// N-RRC-enc-alg.
    RrcEnc = 0x03,
    /// N-RRC-int-alg.
    RrcInt = 0x04,
    /// N-UP-enc-alg.
    UpEnc = 0x05,
    /// N-UP-int-alg.
    UpInt = 0x06,
}

/// Algorithm keys (TS 33.501 A.8): KEY = KAMF (NAS) or KgNB (RRC/UP),
/// FC = 0x69, P0 = type distinguisher, P1 = algorithm identity (0..=15 in the
/// four least significant bits); the 128 least significant bits.
pub fn algorithm_key(key: &[u8; 32], kind: AlgorithmType, algorithm_id: u8) -> [u8; 16] {
    let out = kdf_fixed(key, fc::ALGORITHM_KEY, &[&[kind as u8], &[algorithm_id & 0x0f]]);
    last16(&out)
}

/// KNASenc for NEA `algorithm_id` (A.8 with N-NAS-enc-alg).
pub fn knas_enc(kamf: &[u8; 32], algorithm_id: u8) -> [u8; 16] {
    algorithm_key(kamf, AlgorithmType::NasEnc, algorithm_id)
}

/// KNASint for NIA `algorithm_id` (A.8 with N-NAS-int-alg).
pub fn knas_int(kamf: &[u8; 32], algorithm_id: u8) -> [u8; 16] {
    algorithm_key(kamf, AlgorithmType::NasInt, algorithm_id)
}

/// Access type distinguishers (TS 33.501 Table A.9-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum AccessType {
    /// 3GPP access: KgNB.
    ThreeGpp = 0x01,
    /// Non-3GPP access: KN3IWF / KTNGF / KTWIF / KWAGF.
    NonThreeGpp = 0x02,
}

/// KgNB / KN3IWF (TS 33.501 A.9): KEY = KAMF, FC = 0x6E, P0 = uplink NAS
/// COUNT (32 bits, big endian), P1 = access type distinguisher.
pub fn kgnb(kamf: &[u8; 32], uplink_nas_count: u32, access: AccessType) -> [u8; 32] {
    kdf_fixed(kamf, fc::KGNB, &[&uplink_nas_count.to_be_bytes(), &[access as u8]])
}

/// NH (TS 33.501 A.10): KEY = KAMF, FC = 0x6F, P0 = SYNC-input, which is the
/// fresh KgNB for the first NH and the previous NH afterwards.
pub fn nh(kamf: &[u8; 32], sync_input: &[u8; 32]) -> [u8; 32] {
    kdf_fixed(kamf, fc::NH, &[sync_input])
}

/// KNG-RAN* for the target cell (TS 33.501 A.11): KEY = NH or KgNB,
/// FC = 0x70, P0 = PCI (2 octets), P1 = ARFCN-DL (3 octets).
pub fn kng_ran_star(key: &[u8; 32], pci: u16, arfcn_dl: u32) -> [u8; 32] {
    let arfcn = arfcn_dl.to_be_bytes();
    kdf_fixed(key, fc::KNG_RAN_STAR, &[&pci.to_be_bytes(), &arfcn[1..4]])
}

/// Which event a KAMF' of A.13 is derived for; selects DIRECTION and the
/// COUNT the caller must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KamfChange {
    /// Idle mode mobility (mobility registration update): DIRECTION = 0x00,
    /// COUNT = uplink NAS COUNT of the Registration Request.
    IdleMobility,
    /// N2 handover: DIRECTION = 0x01, COUNT = downlink NAS COUNT.
    Handover,
}

/// KAMF → KAMF' in mobility (TS 33.501 A.13): KEY = KAMF, FC = 0x72,
/// P0 = DIRECTION, P1 = COUNT.
pub fn kamf_prime(kamf: &[u8; 32], change: KamfChange, count: u32) -> [u8; 32] {
    let direction: u8 = match change {
        KamfChange::IdleMobility => 0x00,
        KamfChange::Handover => 0x01,
    };
    kdf_fixed(kamf, fc::KAMF_PRIME_MOBILITY, &[&[direction], &count.to_be_bytes()])
}

/// KAMF → KASME' for 5GS-to-EPS idle mode mobility (TS 33.501 A.14.1):
/// FC = 0x73, P0 = NAS uplink COUNT.
pub fn kasme_prime_idle(kamf: &[u8; 32], uplink_nas_count: u32) -> [u8; 32] {
    kdf_fixed(kamf, fc::KASME_PRIME_IDLE, &[&uplink_nas_count.to_be_bytes()])
}

/// KAMF → KASME' for 5GS-to-EPS handover (TS 33.501 A.14.2): FC = 0x74,
/// P0 = NAS downlink COUNT.
pub fn kasme_prime_handover(kamf: &[u8; 32], downlink_nas_count: u32) -> [u8; 32] {
    kdf_fixed(kamf, fc::KASME_PRIME_HO, &[&downlink_nas_count.to_be_bytes()])
}

/// KASME → KAMF' in EPS-to-5GS idle mode mobility (TS 33.501 A.15.1):
/// FC = 0x75, P0 = NAS uplink COUNT of the TAU message in the Registration Request.
pub fn kamf_prime_from_kasme_idle(kasme: &[u8; 32], tau_uplink_nas_count: u32) -> [u8; 32] {
    kdf_fixed(
        kasme,
        fc::KAMF_PRIME_FROM_KASME_IDLE,
        &[&tau_uplink_nas_count.to_be_bytes()],
    )
}

/// KASME → KAMF' in EPS-to-5GS handover (TS 33.501 A.15.2): FC = 0x76,
/// P0 = NH.
pub fn kamf_prime_from_kasme_handover(kasme: &[u8; 32], nh: &[u8; 32]) -> [u8; 32] {
    kdf_fixed(kasme, fc::KAMF_PRIME_FROM_KASME_HO, &[nh])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::milenage::Milenage;

    // Inputs: TS 35.208 Test Set 1 (K, OPc, RAND, SQN) run through MILENAGE,
    // serving network name for MCC 001 / MNC 01. Expected outputs were
    // computed independently with Python's hashlib/hmac (the KDF assembled by
    // hand per TS 33.220 §B.2.0 and TS 33.501 Annex A), not with this crate.
    fn set1() -> (Milenage, [u8; 16], [u8; 6]) {
        let k: [u8; 16] = hex::decode("465b5ce8b199b49faa5f0a2ee238a6bc")
            .unwrap()
            .try_into()
            .unwrap();
        let opc: [u8; 16] = hex::decode("cd63cb71954a9f4e48a5994e37a02baf")
            .unwrap()
            .try_into()
            .unwrap();
        let rand: [u8; 16] = hex::decode("23553cbe9637a89d218ae64dae47bf35")
            .unwrap()
            .try_into()
            .unwrap();
        let sqn: [u8; 6] = hex::decode("ff9bb4d0b607").unwrap().try_into().unwrap();
        (Milenage::new(&k, &opc), rand, sqn)
    }

    fn snn() -> ServingNetworkName {
        ServingNetworkName::new("001", "01").unwrap()
    }

    #[test]
    fn serving_network_name_format() {
        assert_eq!(snn().as_str(), "5G:mnc001.mcc001.3gppnetwork.org");
        assert_eq!(
            ServingNetworkName::new("208", "93").unwrap().as_str(),
            "5G:mnc093.mcc208.3gppnetwork.org"
        );
        assert_eq!(
            ServingNetworkName::new("310", "410").unwrap().as_str(),
            "5G:mnc410.mcc310.3gppnetwork.org"
        );
        assert_eq!(
            ServingNetworkName::with_nid("999", "99", "000007ed9d5")
                .unwrap()
                .as_str(),
            "5G:mnc099.mcc999.3gppnetwork.org:000007ed9d5"
        );
        assert!(ServingNetworkName::new("01", "01").is_err());
        assert!(ServingNetworkName::new("001", "1").is_err());
        assert!(ServingNetworkName::new("00a", "01").is_err());
        assert!(ServingNetworkName::with_nid("001", "01", "xyz").is_err());
    }

    #[test]
    fn five_g_aka_chain_matches_independent_computation() {
        let (m, rand, sqn) = set1();
        let v = m.f2345(&rand);
        let mut sqn_xor_ak = [0u8; 6];
        for i in 0..6 {
            sqn_xor_ak[i] = sqn[i] ^ v.ak[i];
        }
        let kausf = kausf(&v.ck, &v.ik, &snn(), &sqn_xor_ak).unwrap();
        assert_eq!(hex::encode(kausf), EXP_KAUSF);
        let xres_star = res_star(&v.ck, &v.ik, &snn(), &rand, &v.res).unwrap();
        assert_eq!(hex::encode(xres_star), EXP_XRES_STAR);
        let hx = hres_star(&rand, &xres_star);
        assert_eq!(hex::encode(hx), EXP_HXRES_STAR);
        let kseaf = kseaf(&kausf, &snn()).unwrap();
        assert_eq!(hex::encode(kseaf), EXP_KSEAF);
        let kamf = kamf(&kseaf, "001010000000001", &[0, 0]).unwrap();
        assert_eq!(hex::encode(kamf), EXP_KAMF);
        // "imsi-" prefix is stripped: same key.
        assert_eq!(super::kamf(&kseaf, "imsi-001010000000001", &[0, 0]).unwrap(), kamf);
        assert_eq!(hex::encode(knas_enc(&kamf, 2)), EXP_KNASENC_NEA2);
        assert_eq!(hex::encode(knas_int(&kamf, 2)), EXP_KNASINT_NIA2);
        let kgnb = kgnb(&kamf, 0, AccessType::ThreeGpp);
        assert_eq!(hex::encode(kgnb), EXP_KGNB);
        assert_eq!(hex::encode(nh(&kamf, &kgnb)), EXP_NH);
        assert_eq!(hex::encode(kng_ran_star(&kgnb, 1, 632_628)), EXP_KNGRAN_STAR);
        assert_eq!(
            hex::encode(kamf_prime(&kamf, KamfChange::IdleMobility, 5)),
            EXP_KAMF_PRIME_IDLE
        );
        assert_eq!(
            hex::encode(kamf_prime(&kamf, KamfChange::Handover, 5)),
            EXP_KAMF_PRIME_HO
        );
        assert_eq!(
            hex::encode(kamf_prime_from_kasme_idle(&kamf, 7)),
            EXP_KAMF_FROM_KASME_IDLE
        );
        assert_eq!(
            hex::encode(kamf_prime_from_kasme_handover(&kamf, &kgnb)),
            EXP_KAMF_FROM_KASME_HO
        );
    }

    /// A published 5G-AKA walk-through (K = RAND = 0011…eeff, SQN 1,
    /// AMF 8000, serving network 001/01) whose RES* is also asserted by
    /// wmnsk/MilenageKT's `MilenageUnitTest`; the other values are from the
    /// same public walk-through output.
    #[test]
    fn published_5g_aka_walkthrough() {
        let k: [u8; 16] = hex::decode("00112233445566778899aabbccddeeff")
            .unwrap()
            .try_into()
            .unwrap();
        let opc: [u8; 16] = hex::decode("62e75b8d6fa5bf46ec87a9276f9df54d")
            .unwrap()
            .try_into()
            .unwrap();
        let rand = k;
        let m = Milenage::new(&k, &opc);
        let (autn, v) = m.generate_autn(&rand, &[0, 0, 0, 0, 0, 1], &[0x80, 0x00]);
        assert_eq!(hex::encode(autn), "de656c8b0bcf80004af30b82a8531115");
        let sqn_xor_ak: [u8; 6] = autn[..6].try_into().unwrap();
        let xres_star = res_star(&v.ck, &v.ik, &snn(), &rand, &v.res).unwrap();
        assert_eq!(hex::encode(xres_star), "31b6d938a5290ccc65bc829f9820a8d9");
        assert_eq!(
            hex::encode(hres_star(&rand, &xres_star)),
            "3308fb7cf06a35f1cd086b904ce82ecf"
        );
        // The walk-through also prints KAUSF fe8d2546… and KSEAF 442ac77e…;
        // those do not follow A.2/A.6 for these inputs (an independent Python
        // computation gives the values below, with P1 = SQN ⊕ AK = de656c8b0bcf),
        // so only its MILENAGE and RES*/HXRES* outputs are used here.
        let kausf = kausf(&v.ck, &v.ik, &snn(), &sqn_xor_ak).unwrap();
        assert_eq!(
            hex::encode(kausf),
            "3b759becc904d5b2aad2fcf15c88ce4354ade608ebbd6d89aa1c3281564c56f8"
        );
        assert_eq!(
            hex::encode(kseaf(&kausf, &snn()).unwrap()),
            "a1ca0731bbc80913ea613972c75e2782d02b7a13c0b235c98cc5778e4520b944"
        );
    }

    /// RFC 5448 Appendix C, Test Case 1 (EAP-AKA' CK'/IK' with access
    /// network identity "WLAN"; the same TS 33.402 A.2 function A.3 uses).
    #[test]
    fn ck_ik_prime_rfc_5448_test_case_1() {
        let ck: [u8; 16] = hex::decode("5349fbe098649f948f5d2e973a81c00f")
            .unwrap()
            .try_into()
            .unwrap();
        let ik: [u8; 16] = hex::decode("9744871ad32bf9bbd1dd5ce54e3e2e5a")
            .unwrap()
            .try_into()
            .unwrap();
        // SQN ⊕ AK = first six octets of AUTN bb52e91c747ac3ab2a5c23d15ee351d5.
        let sqn_xor_ak: [u8; 6] = hex::decode("bb52e91c747a").unwrap().try_into().unwrap();
        let wlan = ServingNetworkName::from_received("WLAN").unwrap();
        let (ck_p, ik_p) = ck_ik_prime(&ck, &ik, &wlan, &sqn_xor_ak).unwrap();
        assert_eq!(hex::encode(ck_p), "0093962d0dd84aa5684b045c9edffa04");
        assert_eq!(hex::encode(ik_p), "ccfc230ca74fcc96c0a5d61164f5a76c");
    }

    #[test]
    fn kasme_prime_matches_independent_computation() {
        let kamf = [0x42u8; 32];
        assert_eq!(hex::encode(kasme_prime_idle(&kamf, 0x0102)), EXP_KASME_PRIME_IDLE);
        assert_eq!(hex::encode(kasme_prime_handover(&kamf, 0x0102)), EXP_KASME_PRIME_HO);
    }

    #[test]
    fn res_star_verification() {
        let (m, rand, _) = set1();
        let v = m.f2345(&rand);
        let xres_star = res_star(&v.ck, &v.ik, &snn(), &rand, &v.res).unwrap();
        assert_eq!(verify_res_star(&xres_star, &xres_star), Ok(()));
        let mut bad = xres_star;
        bad[0] ^= 1;
        assert_eq!(verify_res_star(&xres_star, &bad), Err(Error::ResMismatch));
        assert_eq!(verify_res_star(&xres_star, &bad[..8]), Err(Error::ResMismatch));
        let hx = hres_star(&rand, &xres_star);
        assert_eq!(verify_hres_star(&rand, &xres_star, &hx), Ok(()));
        assert_eq!(verify_hres_star(&rand, &bad, &hx), Err(Error::ResMismatch));
        // A wrong serving network name gives a different RES*.
        let other = ServingNetworkName::new("001", "02").unwrap();
        assert_ne!(res_star(&v.ck, &v.ik, &other, &rand, &v.res).unwrap(), xres_star);
        assert!(res_star(&v.ck, &v.ik, &snn(), &rand, &[1, 2, 3]).is_err());
    }

    #[test]
    fn algorithm_keys_differ_by_type_and_id() {
        let k = [7u8; 32];
        assert_ne!(knas_enc(&k, 1), knas_enc(&k, 2));
        assert_ne!(knas_enc(&k, 2), knas_int(&k, 2));
        assert_ne!(
            algorithm_key(&k, AlgorithmType::RrcEnc, 2),
            algorithm_key(&k, AlgorithmType::UpEnc, 2)
        );
        assert_ne!(kgnb(&k, 0, AccessType::ThreeGpp), kgnb(&k, 0, AccessType::NonThreeGpp));
    }

    const EXP_KASME_PRIME_IDLE: &str = "16b06096efb2d8fb0feedea0a4dd6fa53a1b77edf58d38e63247ba7bfd69beb8";
    const EXP_KASME_PRIME_HO: &str = "a6b6d859d9b43e1e243f617f494f750e4f23013baa6201c0dc9da04dde89cdc9";
    const EXP_KAUSF: &str = "474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b";
    const EXP_XRES_STAR: &str = "f236a7417272bfb2d66d4d670733b527";
    const EXP_HXRES_STAR: &str = "20a71900b01776bfd773e8c15a825446";
    const EXP_KSEAF: &str = "8dff166c02edd5b177950d50cdd3fe93756cc53951856a95cb5ee9aabd35e220";
    const EXP_KAMF: &str = "daae216bc3dc9c6e0db9e56d2b744ea247d67eed51fdf2411847d056ec45a666";
    const EXP_KNASENC_NEA2: &str = "d4c73a6303aa6b0cae734c0518134f1e";
    const EXP_KNASINT_NIA2: &str = "06c661bdcb505f1690bea90685d939f5";
    const EXP_KGNB: &str = "d5b4598dcce4a0ce1232001e8ebe0d4d312226c08928239324639f0865d7ea9d";
    const EXP_NH: &str = "eb2ee43f2f9278c7b9076cf011cfadff447065db65a1f5d52ecf433eab9a7dd6";
    const EXP_KNGRAN_STAR: &str = "b32829598fc3f4a19043ace3d19ebfbd1bedaf2b51950fad516bdc9e821de99a";
    const EXP_KAMF_PRIME_IDLE: &str = "9a6c34d54c0c75440911409c57653d4148af67d2980ecb1fd64c2c17ca46ba30";
    const EXP_KAMF_PRIME_HO: &str = "2780fe51aff88b370e2e842d2a10c4e1ca5e2af1caf62c6a87fd292af00f0ed7";
    const EXP_KAMF_FROM_KASME_IDLE: &str = "92e7e6e2bf1251c9ef42d86aa1da923e229be197fd19062714d065df819099d5";
    const EXP_KAMF_FROM_KASME_HO: &str = "5b7c28c5a61d65e32dcb955f47a0086265ca548f6fbb21b8488b93824fd8daa5";
}
