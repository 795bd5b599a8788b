//! The simulated USIM: K and OPc, MILENAGE, the SQN freshness window of TS 33.102
//! Annex C, and the answer to one 5G AKA challenge (TS 33.501 §6.1.3.2) or one
//! EAP-AKA' challenge (TS 33.501 §6.1.3.1, RFC 9048; the UE's EAP peer with it).
//!
//! Pure: the caller hands in RAND and AUTN from an Authentication Request and gets
//! either the keys (RES*, KAUSF) or the failure the UE must report (MAC failure,
//! synchronisation failure with AUTS).

use hexcore_security::keys::{self, ServingNetworkName};
use hexcore_security::milenage::Milenage;
use hexcore_security::sqn::{self, SqnWindow};

/// What the USIM concluded about one challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// AUTN verified and SQN fresh: RES* for the network, KAUSF for the key hierarchy.
    Accepted {
        /// RES* (TS 33.501 Annex A.4).
        res_star: [u8; 16],
        /// KAUSF (TS 33.501 Annex A.2).
        kausf: [u8; 32],
        /// The SQN the network used.
        sqn: u64,
    },
    /// MAC-A did not verify: the UE sends Authentication Failure #20 (TS 24.501
    /// §5.4.1.3.7 b).
    MacFailure,
    /// MAC-A verified but SQN is not fresh: Authentication Failure #21 with AUTS
    /// (TS 33.102 §6.3.3, Annex C.2).
    SynchFailure {
        /// AUTS = SQN_MS ⊕ AK* ‖ MAC-S.
        auts: [u8; 14],
    },
}

/// What the UE answers to an EAP-Request/AKA'-Challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapAnswer {
    /// AUTN and AT_MAC verified: the EAP-Response/AKA'-Challenge, and KAUSF (EMSK's
    /// first 256 bits).
    Accepted {
        /// EAP-Response with AT_RES and AT_MAC.
        response: Vec<u8>,
        /// KAUSF.
        kausf: [u8; 32],
    },
    /// The challenge is refused: AKA'-Authentication-Reject (MAC-A or AT_MAC failed),
    /// AKA'-Synchronization-Failure (AUTS) or AKA'-Client-Error (not parseable).
    Refused {
        /// The EAP-Response to send.
        response: Vec<u8>,
        /// Why.
        reason: &'static str,
    },
}

/// One USIM.
#[derive(Debug, Clone)]
pub struct Usim {
    milenage: Milenage,
    window: SqnWindow,
}

impl Usim {
    /// A USIM with subscriber key `k` and `opc`, that has accepted no SQN yet.
    pub fn new(k: &[u8; 16], opc: &[u8; 16]) -> Self {
        Usim {
            milenage: Milenage::new(k, opc),
            window: SqnWindow::new(),
        }
    }

    /// A USIM that has already accepted the SEQ of `sqn` in every IND slot, so that
    /// any network SQN with a SEQ not above it is stale (to provoke a
    /// resynchronisation). Returns `None` if that SEQ is not acceptable to a fresh
    /// window (more than Δ ahead, TS 33.102 C.2.2).
    pub fn with_sqn_seen(mut self, sqn: u64) -> Option<Self> {
        let s = sqn::seq(sqn);
        for ind in 0..sqn::IND_SLOTS as u64 {
            self.window.accept((s << sqn::IND_BITS) | ind).ok()?;
        }
        Some(self)
    }

    /// SQN_MS: the highest SQN accepted so far (TS 33.102 C.2.1).
    pub fn sqn_ms(&self) -> u64 {
        self.window.sqn_ms()
    }

    /// Answer an EAP-Request/AKA'-Challenge for serving network `snn`; `identity` is
    /// the IMSI digits (the key derivation's Identity in 5G, RFC 9048 §3.3).
    pub fn challenge_eap(&mut self, request: &[u8], snn: &ServingNetworkName, identity: &str) -> EapAnswer {
        use hexcore_security::eap_aka_prime as eap;
        let Ok(p) = eap::Packet::decode(request) else {
            return EapAnswer::Refused {
                response: client_error(request.get(1).copied().unwrap_or(0)),
                reason: "malformed EAP request",
            };
        };
        let refuse = |response, reason| EapAnswer::Refused { response, reason };
        let (Some(rand), Some(autn)) = (p.rand(), p.autn()) else {
            return refuse(client_error(p.identifier), "no AT_RAND or AT_AUTN");
        };
        // RFC 9048 §3.2: only KDF 1 is known; the network name must be ours.
        if p.kdfs().first() != Some(&eap::KDF_DEFAULT) || p.kdf_input() != Some(snn.as_bytes()) {
            return refuse(client_error(p.identifier), "AT_KDF or AT_KDF_INPUT unacceptable");
        }
        let Ok(check) = self.milenage.verify_autn(&rand, &autn) else {
            return refuse(eap::authentication_reject(p.identifier), "MAC-A failure");
        };
        let received = sqn::sqn_from_bytes(&check.sqn);
        if self.window.accept(received).is_err() {
            let auts = self
                .milenage
                .generate_auts(&rand, &sqn::sqn_to_bytes(self.window.sqn_ms()));
            return refuse(eap::synchronization_failure(p.identifier, &auts), "SQN not fresh");
        }
        let v = &check.vector;
        let mut sqn_xor_ak = [0u8; 6];
        sqn_xor_ak.copy_from_slice(&autn[..6]);
        let Ok((ck_p, ik_p)) = keys::ck_ik_prime(&v.ck, &v.ik, snn, &sqn_xor_ak) else {
            return refuse(client_error(p.identifier), "CK'/IK' derivation");
        };
        let k = eap::Keys::derive(&ck_p, &ik_p, identity.as_bytes());
        if eap::verify_mac(&k.k_aut, request).is_err() {
            return refuse(eap::authentication_reject(p.identifier), "AT_MAC failure");
        }
        EapAnswer::Accepted {
            response: eap::challenge_response(p.identifier, &v.res, &k.k_aut),
            kausf: k.kausf(),
        }
    }

    /// Answer a 5G AKA challenge for serving network `snn`.
    pub fn challenge(&mut self, rand: &[u8; 16], autn: &[u8; 16], snn: &ServingNetworkName) -> Challenge {
        let Ok(check) = self.milenage.verify_autn(rand, autn) else {
            return Challenge::MacFailure;
        };
        let received = sqn::sqn_from_bytes(&check.sqn);
        if self.window.accept(received).is_err() {
            let auts = self
                .milenage
                .generate_auts(rand, &sqn::sqn_to_bytes(self.window.sqn_ms()));
            return Challenge::SynchFailure { auts };
        }
        let v = &check.vector;
        let mut sqn_xor_ak = [0u8; 6];
        for (i, b) in sqn_xor_ak.iter_mut().enumerate() {
            *b = autn.get(i).copied().unwrap_or(0);
        }
        // Both only fail for a serving network name too long for the KDF, which
        // `ServingNetworkName` cannot hold.
        match (
            keys::res_star(&v.ck, &v.ik, snn, rand, &v.res),
            keys::kausf(&v.ck, &v.ik, snn, &sqn_xor_ak),
        ) {
            (Ok(res_star), Ok(kausf)) => Challenge::Accepted {
                res_star,
                kausf,
                sqn: received,
            },
            _ => Challenge::MacFailure,
        }
    }
}

/// EAP-Response/AKA'-Client-Error "unable to process packet" (RFC 4187 §9.9).
fn client_error(identifier: u8) -> Vec<u8> {
    use hexcore_security::eap_aka_prime as eap;
    eap::Packet {
        code: eap::code::RESPONSE,
        identifier,
        subtype: Some(eap::subtype::CLIENT_ERROR),
        attributes: vec![eap::Attribute {
            kind: eap::at::CLIENT_ERROR_CODE,
            value: vec![0, 0],
        }],
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    // TS 35.208 §4.3 Test Set 1: K, OPc, RAND, SQN, AMF and the outputs f2 (RES),
    // f3 (CK), f4 (IK), f5 (AK).
    static K: [u8; 16] = [
        0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
    ];
    static OPC: [u8; 16] = [
        0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
    ];
    static RAND: [u8; 16] = [
        0x23, 0x55, 0x3c, 0xbe, 0x96, 0x37, 0xa8, 0x9d, 0x21, 0x8a, 0xe6, 0x4d, 0xae, 0x47, 0xbf, 0x35,
    ];
    static SQN: [u8; 6] = [0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07];
    static AMF: [u8; 2] = [0xb9, 0xb9];
    // Test Set 1 f1 (MAC-A) and f5 (AK): AUTN = SQN ⊕ AK ‖ AMF ‖ MAC-A.
    static MAC_A: [u8; 8] = [0x4a, 0x9f, 0xfa, 0xc3, 0x54, 0xdf, 0xaf, 0xb3];
    static AK: [u8; 6] = [0xaa, 0x68, 0x9c, 0x64, 0x83, 0x70];
    // Test Set 1 f1* (MAC-S) and f5* (AK*).
    static MAC_S: [u8; 8] = [0x01, 0xcf, 0xaf, 0x9e, 0xc4, 0xe8, 0x71, 0xe9];
    static AK_STAR: [u8; 6] = [0x45, 0x1e, 0x8b, 0xec, 0xa4, 0x3b];

    /// AUTN for `sqn` with the Test Set 1 RAND and AMF, built by the network side and
    /// checked against the table: its first six octets are SQN ⊕ AK with Test Set 1 AK.
    fn autn_for(sqn: u64) -> [u8; 16] {
        let network = Milenage::new(&K, &OPC);
        let sqn_bytes = sqn::sqn_to_bytes(sqn);
        let (autn, v) = network.generate_autn(&RAND, &sqn_bytes, &AMF);
        assert_eq!(v.ak, AK);
        for i in 0..6 {
            assert_eq!(autn[i], sqn_bytes[i] ^ AK[i]);
        }
        autn
    }

    fn snn() -> ServingNetworkName {
        ServingNetworkName::new("001", "01").unwrap()
    }

    #[test]
    fn test_set_1_autn_verifies_but_its_sqn_is_too_far_ahead_of_a_fresh_usim() {
        // AUTN of the table itself: SQN ⊕ AK ‖ AMF ‖ MAC-A.
        let mut autn = [0u8; 16];
        for i in 0..6 {
            autn[i] = SQN[i] ^ AK[i];
        }
        autn[6..8].copy_from_slice(&AMF);
        autn[8..].copy_from_slice(&MAC_A);
        let mut usim = Usim::new(&K, &OPC);
        // MAC-A verifies (not a MAC failure), but SEQ is more than Δ ahead of a USIM
        // that has seen nothing (TS 33.102 C.2.2): synch failure; SQN_MS has SEQ 0, so
        // AUTS is its IND concealed with AK* of the table.
        let sqn_ms = sqn::sqn_to_bytes(usim.sqn_ms());
        assert_eq!(sqn::seq(usim.sqn_ms()), 0);
        let Challenge::SynchFailure { auts } = usim.challenge(&RAND, &autn, &snn()) else {
            panic!("expected a synch failure")
        };
        for i in 0..6 {
            assert_eq!(auts[i], sqn_ms[i] ^ AK_STAR[i]);
        }
        let network = Milenage::new(&K, &OPC);
        assert_eq!(network.verify_auts(&RAND, &auts), Ok(sqn_ms));
        assert_eq!(network.f1_star(&RAND, &SQN, &AMF), MAC_S);
    }

    #[test]
    fn accepts_a_fresh_sqn_and_derives_res_star() {
        let mut usim = Usim::new(&K, &OPC);
        let Challenge::Accepted { sqn, res_star, kausf } = usim.challenge(&RAND, &autn_for(0x21), &snn()) else {
            panic!("fresh SQN must be accepted")
        };
        assert_eq!(sqn, 0x21);
        // RES* as the network computes it from the same vector (TS 33.501 A.4).
        let v = Milenage::new(&K, &OPC).f2345(&RAND);
        assert_eq!(res_star, keys::res_star(&v.ck, &v.ik, &snn(), &RAND, &v.res).unwrap());
        let autn = autn_for(0x21);
        let sqn_xor_ak: [u8; 6] = autn[..6].try_into().unwrap();
        assert_eq!(kausf, keys::kausf(&v.ck, &v.ik, &snn(), &sqn_xor_ak).unwrap());
        assert_eq!(usim.sqn_ms(), 0x21);
    }

    #[test]
    fn replay_gives_auts_that_carries_sqn_ms() {
        let mut usim = Usim::new(&K, &OPC);
        assert!(matches!(
            usim.challenge(&RAND, &autn_for(0x21), &snn()),
            Challenge::Accepted { .. }
        ));
        let Challenge::SynchFailure { auts } = usim.challenge(&RAND, &autn_for(0x21), &snn()) else {
            panic!("a replayed SQN must fail the freshness check")
        };
        for i in 0..6 {
            assert_eq!(auts[i], sqn::sqn_to_bytes(0x21)[i] ^ AK_STAR[i]);
        }
        let network = Milenage::new(&K, &OPC);
        assert_eq!(network.verify_auts(&RAND, &auts), Ok(sqn::sqn_to_bytes(0x21)));
    }

    #[test]
    fn wrong_key_is_a_mac_failure() {
        let mut k = K;
        k[0] ^= 1;
        let mut usim = Usim::new(&k, &OPC);
        let before = usim.sqn_ms();
        assert_eq!(usim.challenge(&RAND, &autn_for(0x21), &snn()), Challenge::MacFailure);
        // Nothing was accepted.
        assert_eq!(usim.sqn_ms(), before);
        assert_eq!(sqn::seq(usim.sqn_ms()), 0);
    }

    #[test]
    fn sqn_seen_makes_a_lower_network_sqn_stale() {
        let mut usim = Usim::new(&K, &OPC).with_sqn_seen(1 << 20).unwrap();
        assert!(matches!(
            usim.challenge(&RAND, &autn_for(0x21), &snn()),
            Challenge::SynchFailure { .. }
        ));
        assert!(Usim::new(&K, &OPC).with_sqn_seen(0xff9b_b4d0_b607).is_none());
    }
}
