//! Home-network keys and SUCI de-concealment (the SIDF of TS 33.501 §6.12.2).
//!
//! On first start the UDM generates one Profile A (X25519) key with Home Network Public
//! Key Identifier 1 and one Profile B (P-256) key with identifier 2 and stores their
//! private halves in the UDR; [`HomeNetworkKeys::public_keys`] gives the public halves
//! for SIM provisioning. Operators may add more keys (e.g. the TS 33.501 Annex C.4 test
//! keys, or a rotated key under a new id) with [`HomeNetworkKeys::add`].
//!
//! The ECIES arithmetic is the security crate's (`hexcore_security::suci`); this module
//! keeps keys, picks the one a SUCI names, and turns the result into a SUPI.

use rand::RngCore;

use hexcore_security::suci::{self, HomeNetworkKey, ProtectionScheme};

use crate::Error;
use crate::store::{HnKey, HnScheme, UdrStore};
use crate::subscriber::{Imsi, hex};

/// Key id given to the Profile A key generated on first start.
pub const DEFAULT_PROFILE_A_ID: u8 = 1;
/// Key id given to the Profile B key generated on first start.
pub const DEFAULT_PROFILE_B_ID: u8 = 2;

/// A SUCI as the AMF received it (TS 23.003 §2.2B, TS 24.501 §9.11.3.4), SUPI format
/// IMSI. The NAS crate decodes the IE; the AMF fills this in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Suci {
    /// MCC, 3 digits.
    pub mcc: String,
    /// MNC, 2 or 3 digits.
    pub mnc: String,
    /// Routing indicator, 1–4 digits (not used for routing in a single UDM).
    pub routing_indicator: String,
    /// Protection scheme identifier (0 null, 1 Profile A, 2 Profile B).
    pub protection_scheme: u8,
    /// Home network public key identifier (0 for the null scheme).
    pub hn_key_id: u8,
    /// Scheme output: BCD MSIN (null scheme) or ECIES ephemeral key ‖ ciphertext ‖ tag.
    pub scheme_output: Vec<u8>,
}

impl Suci {
    /// Parse the SUCI string of the SBI (TS 29.503 §6.1.6.2.2, TS 23.003 §28.7.3):
    /// `suci-0-<MCC>-<MNC>-<routing indicator>-<scheme id>-<key id>-<scheme output>`,
    /// the scheme output as MSIN digits for the null scheme and hex otherwise. This is
    /// what `hexcore_nas`'s SUCI `to_sbi_string()` produces, and what a remote AUSF/UDM
    /// receives.
    pub fn from_sbi_string(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::SuciDeconcealFailure(format!("malformed SUCI {s:?}: {why}"));
        let parts: Vec<&str> = s.split('-').collect();
        let [tag, supi_type, mcc, mnc, ri, scheme, key_id, output] = parts.as_slice() else {
            return Err(bad("expected 8 '-'-separated fields"));
        };
        let digits = |x: &str, lens: std::ops::RangeInclusive<usize>| {
            lens.contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit())
        };
        if *tag != "suci" {
            return Err(bad("does not start with suci-"));
        }
        if *supi_type != "0" {
            return Err(bad("only SUPI type 0 (IMSI) is supported"));
        }
        if !digits(mcc, 3..=3) || !digits(mnc, 2..=3) || !digits(ri, 1..=4) {
            return Err(bad("MCC, MNC or routing indicator"));
        }
        let protection_scheme: u8 = scheme
            .parse()
            .ok()
            .filter(|n| *n <= 15)
            .ok_or_else(|| bad("protection scheme id"))?;
        let hn_key_id: u8 = key_id.parse().map_err(|_| bad("home network public key id"))?;
        let scheme_output = if protection_scheme == 0 {
            suci::scheme_input_from_msin(output).map_err(|_| bad("null-scheme MSIN digits"))?
        } else {
            crate::subscriber::unhex(output).ok_or_else(|| bad("scheme output is not hex"))?
        };
        Ok(Self {
            mcc: (*mcc).to_owned(),
            mnc: (*mnc).to_owned(),
            routing_indicator: (*ri).to_owned(),
            protection_scheme,
            hn_key_id,
            scheme_output,
        })
    }
}

/// A public key for SIM provisioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HnPublicKey {
    /// Home network public key identifier.
    pub id: u8,
    /// Profile.
    pub scheme: HnScheme,
    /// Hex: 32 octets (Profile A); 33-octet compressed point (Profile B).
    pub public_key: String,
    /// Profile B only: the 65-octet uncompressed point (the form TS 33.501 C.4.4 and
    /// some simulators' configuration files use).
    pub uncompressed: Option<String>,
}

/// The loaded home-network private keys.
pub struct HomeNetworkKeys {
    keys: Vec<(HnKey, HomeNetworkKey)>,
}

impl std::fmt::Debug for HomeNetworkKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|(k, _)| (k.scheme, k.id)))
            .finish()
    }
}

impl HomeNetworkKeys {
    /// Load the stored keys, generating (and storing) a Profile A key (id 1) and a
    /// Profile B key (id 2) if the store has none of that profile.
    pub fn load_or_generate(store: &dyn UdrStore, rng: &mut dyn RngCore) -> Result<Self, Error> {
        let stored = store.hn_keys()?;
        for (scheme, id) in [
            (HnScheme::ProfileA, DEFAULT_PROFILE_A_ID),
            (HnScheme::ProfileB, DEFAULT_PROFILE_B_ID),
        ] {
            if !stored.iter().any(|k| k.scheme == scheme) {
                match store.insert_hn_key(&generate(scheme, id, rng)) {
                    // Another process or thread won the race: use its key.
                    Ok(()) | Err(Error::Duplicate(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Self::load(store)
    }

    /// As [`HomeNetworkKeys::load_or_generate`] with an OS-seeded RNG.
    pub fn load_or_generate_os(store: &dyn UdrStore) -> Result<Self, Error> {
        use rand::SeedableRng;
        Self::load_or_generate(store, &mut rand::rngs::StdRng::from_os_rng())
    }

    /// Load the stored keys as they are.
    pub fn load(store: &dyn UdrStore) -> Result<Self, Error> {
        let keys = store
            .hn_keys()?
            .into_iter()
            .map(|k| {
                let hk = to_security_key(&k).map_err(|e| Error::Corrupt {
                    key: format!("home-network key {}/{}", k.scheme.id(), k.id),
                    reason: e.to_string(),
                })?;
                Ok((k, hk))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Self { keys })
    }

    /// Store a further key (checked first) and load it.
    pub fn add(&mut self, store: &dyn UdrStore, key: HnKey) -> Result<(), Error> {
        let hk = to_security_key(&key).map_err(|e| Error::bad_key("home-network private key", e.to_string()))?;
        store.insert_hn_key(&key)?;
        self.keys.push((key, hk));
        self.keys.sort_by_key(|(k, _)| (k.scheme, k.id));
        Ok(())
    }

    /// The public keys, ordered by (profile, id).
    pub fn public_keys(&self) -> Vec<HnPublicKey> {
        self.keys
            .iter()
            .map(|(k, hk)| {
                let public = hk.public_key();
                let uncompressed = match k.scheme {
                    HnScheme::ProfileA => None,
                    HnScheme::ProfileB => uncompressed_p256(&public),
                };
                HnPublicKey {
                    id: k.id,
                    scheme: k.scheme,
                    public_key: hex(&public),
                    uncompressed,
                }
            })
            .collect()
    }

    /// De-conceal a SUCI to its SUPI (TS 33.501 §6.12.2). The null scheme needs no key.
    pub fn deconceal(&self, suci: &Suci) -> Result<Imsi, Error> {
        let fail = |e: hexcore_security::Error| Error::SuciDeconcealFailure(e.to_string());
        let scheme = ProtectionScheme::from_id(suci.protection_scheme);
        let scheme_input = match scheme {
            ProtectionScheme::Null => suci.scheme_output.clone(),
            ProtectionScheme::ProfileA | ProtectionScheme::ProfileB => {
                let key = self
                    .keys
                    .iter()
                    .find(|(k, _)| k.scheme.id() == suci.protection_scheme && k.id == suci.hn_key_id)
                    .map(|(_, hk)| hk)
                    .ok_or(Error::UnknownHnKey {
                        scheme: suci.protection_scheme,
                        id: suci.hn_key_id,
                    })?;
                key.deconceal(&suci.scheme_output).map_err(fail)?
            }
            ProtectionScheme::Unknown(n) => {
                return Err(Error::SuciDeconcealFailure(format!(
                    "unsupported protection scheme {n}"
                )));
            }
        };
        let msin = suci::msin_from_scheme_input(&scheme_input).map_err(fail)?;
        let digits = format!("{}{}{msin}", suci.mcc, suci.mnc);
        let plmn_ok = suci.mcc.len() == 3
            && (2..=3).contains(&suci.mnc.len())
            && suci.mcc.bytes().chain(suci.mnc.bytes()).all(|b| b.is_ascii_digit());
        if !plmn_ok {
            return Err(Error::SuciDeconcealFailure(format!(
                "bad home network identifier {}/{}",
                suci.mcc, suci.mnc
            )));
        }
        Imsi::parse(&digits).map_err(|e| Error::SuciDeconcealFailure(e.to_string()))
    }
}

/// Generate a fresh key for `scheme` under `id`.
pub fn generate(scheme: HnScheme, id: u8, rng: &mut dyn RngCore) -> HnKey {
    let mut private_key = [0u8; 32];
    loop {
        rng.fill_bytes(&mut private_key);
        // X25519 accepts every 32-octet string (RFC 7748 clamps it); a P-256 scalar
        // must be in [1, n-1], which a random string misses with probability ~2^-32.
        let ok = match scheme {
            HnScheme::ProfileA => true,
            HnScheme::ProfileB => HomeNetworkKey::profile_b(&private_key).is_ok(),
        };
        if ok {
            return HnKey {
                id,
                scheme,
                private_key,
            };
        }
    }
}

fn to_security_key(k: &HnKey) -> Result<HomeNetworkKey, hexcore_security::Error> {
    match k.scheme {
        HnScheme::ProfileA => HomeNetworkKey::profile_a(&k.private_key),
        HnScheme::ProfileB => HomeNetworkKey::profile_b(&k.private_key),
    }
}

fn uncompressed_p256(compressed: &[u8]) -> Option<String> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let pk = p256::PublicKey::from_sec1_bytes(compressed).ok()?;
    Some(hex(pk.to_encoded_point(false).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use rand::SeedableRng;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    // TS 33.501 Annex C.4.3.1 (Profile A) and C.4.4.1 (Profile B): home network private
    // keys and the scheme outputs a UE produced for MSIN 001002086 (HN 274/012).
    static A_HN_PRIV: &str = "c53c22208b61860b06c62e5406a7b330c2b577aa5558981510d128247d38bd1d";
    static A_HN_PUB: &str = "5a8d38864820197c3394b92613b20b91633cbd897119273bf8e4a6f4eec0a650";
    static A_OUTPUT: &str =
        "b2e92f836055a255837debf850b528997ce0201cb82adfe4be1f587d07d8457dcb02352410cddd9e730ef3fa87";
    static B_HN_PRIV: &str = "f1ab1074477ebcc7f554ea1c5fc368b1616730155e0041ac447d6301975fecda";
    static B_HN_PUB_COMPRESSED: &str = "0272da71976234ce833a6907425867b82e074d44ef907dfb4b3e21c1c2256ebcd1";
    static B_HN_PUB_UNCOMPRESSED: &str = "0472da71976234ce833a6907425867b82e074d44ef907dfb4b3e21c1c2256ebcd15a7ded52fcbb097a4ed250e036c7b9c8c7004c4eedc4f068cd7bf8d3f900e3b4";
    static B_OUTPUT: &str =
        "039aab8376597021e855679a9778ea0b67396e68c66df32c0f41e9acca2da9b9d146a33fc2716ac7dae96aa30a4d";
    // TS 33.501 C.4.2: null-scheme output for MSIN 001002086.
    static NULL_OUTPUT: &str = "00012080f6";

    fn annex_keys(store: &MemoryStore) -> HomeNetworkKeys {
        let mut keys = HomeNetworkKeys::load(store).unwrap();
        for (scheme, id, hex_priv) in [
            (HnScheme::ProfileA, 7u8, A_HN_PRIV),
            (HnScheme::ProfileB, 8u8, B_HN_PRIV),
        ] {
            let key = HnKey {
                id,
                scheme,
                private_key: h(hex_priv).try_into().unwrap(),
            };
            keys.add(store, key).unwrap();
        }
        // Through the stored-key path: reload from the store.
        HomeNetworkKeys::load(store).unwrap()
    }

    fn suci(scheme: u8, id: u8, out: &str) -> Suci {
        Suci {
            mcc: "274".into(),
            mnc: "012".into(),
            routing_indicator: "0".into(),
            protection_scheme: scheme,
            hn_key_id: id,
            scheme_output: h(out),
        }
    }

    #[test]
    fn annex_c4_profiles_deconceal_through_the_store() {
        let store = MemoryStore::new();
        let keys = annex_keys(&store);
        let pubs = keys.public_keys();
        assert_eq!(pubs[0].public_key, A_HN_PUB);
        assert_eq!(pubs[1].public_key, B_HN_PUB_COMPRESSED);
        assert_eq!(pubs[1].uncompressed.as_deref(), Some(B_HN_PUB_UNCOMPRESSED));
        for s in [suci(1, 7, A_OUTPUT), suci(2, 8, B_OUTPUT), suci(0, 0, NULL_OUTPUT)] {
            assert_eq!(keys.deconceal(&s).unwrap().as_str(), "274012001002086");
        }
    }

    #[test]
    fn wrong_key_id_scheme_or_mac_is_typed() {
        let store = MemoryStore::new();
        let keys = annex_keys(&store);
        // Unknown id; and a Profile A id used with scheme B.
        assert_eq!(
            keys.deconceal(&suci(1, 9, A_OUTPUT)),
            Err(Error::UnknownHnKey { scheme: 1, id: 9 })
        );
        assert_eq!(
            keys.deconceal(&suci(2, 7, B_OUTPUT)),
            Err(Error::UnknownHnKey { scheme: 2, id: 7 })
        );
        // A flipped bit in the MAC tag.
        let mut s = suci(1, 7, A_OUTPUT);
        if let Some(last) = s.scheme_output.last_mut() {
            *last ^= 1;
        }
        assert!(matches!(keys.deconceal(&s), Err(Error::SuciDeconcealFailure(_))));
        // Truncated output, unsupported scheme, non-BCD null output, bad PLMN.
        assert!(matches!(
            keys.deconceal(&suci(2, 8, "039aab")),
            Err(Error::SuciDeconcealFailure(_))
        ));
        assert!(matches!(
            keys.deconceal(&suci(3, 1, A_OUTPUT)),
            Err(Error::SuciDeconcealFailure(_))
        ));
        assert!(matches!(
            keys.deconceal(&suci(0, 0, "aa")),
            Err(Error::SuciDeconcealFailure(_))
        ));
        let mut s = suci(0, 0, NULL_OUTPUT);
        s.mcc = "27".into();
        assert!(matches!(keys.deconceal(&s), Err(Error::SuciDeconcealFailure(_))));
    }

    #[test]
    fn sbi_strings_parse() {
        // TS 23.003 §28.7.3 form; the outputs are the Annex C.4 ones above.
        let store = MemoryStore::new();
        let keys = annex_keys(&store);
        for s in [
            "suci-0-274-012-0-0-0-001002086".to_owned(),
            format!("suci-0-274-012-0-1-7-{A_OUTPUT}"),
            format!("suci-0-274-012-0-2-8-{B_OUTPUT}"),
        ] {
            let suci = Suci::from_sbi_string(&s).unwrap();
            assert_eq!(keys.deconceal(&suci).unwrap().as_str(), "274012001002086", "{s}");
        }
        let null = Suci::from_sbi_string("suci-0-999-70-0-0-0-0000000001").unwrap();
        // Ten digits, two per octet, first digit in the low nibble (TS 24.501 §9.11.3.4).
        assert_eq!(null.scheme_output, h("0000000010"));
        assert_eq!(null.mnc, "70");
        for bad in [
            "",
            "supi-0-274-012-0-0-0-001002086",
            "suci-1-274-012-0-0-0-001002086",
            "suci-0-27-012-0-0-0-001002086",
            "suci-0-274-012-0-16-0-00",
            "suci-0-274-012-0-1-256-00",
            "suci-0-274-012-0-1-7-zz",
            "suci-0-274-012-0-0-0-12ab",
            "suci-0-274-012-0-0-0",
        ] {
            assert!(
                matches!(Suci::from_sbi_string(bad), Err(Error::SuciDeconcealFailure(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn first_start_generates_keys_once_and_they_work() {
        let store = MemoryStore::new();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let k1 = HomeNetworkKeys::load_or_generate(&store, &mut rng).unwrap();
        let p1 = k1.public_keys();
        assert_eq!(p1.len(), 2);
        assert_eq!((p1[0].scheme, p1[0].id), (HnScheme::ProfileA, DEFAULT_PROFILE_A_ID));
        assert_eq!((p1[1].scheme, p1[1].id), (HnScheme::ProfileB, DEFAULT_PROFILE_B_ID));
        // Second start: same keys, nothing new generated.
        let k2 = HomeNetworkKeys::load_or_generate(&store, &mut rng).unwrap();
        assert_eq!(k2.public_keys(), p1);
        // A UE concealing with the printed public keys is de-concealed.
        let input = suci::scheme_input_from_msin("0000000001").unwrap();
        for p in &p1 {
            let scheme = ProtectionScheme::from_id(p.scheme.id());
            let out = suci::conceal(scheme, &h(&p.public_key), &[0x42; 32], &input).unwrap();
            let s = Suci {
                mcc: "999".into(),
                mnc: "70".into(),
                routing_indicator: "0".into(),
                protection_scheme: p.scheme.id(),
                hn_key_id: p.id,
                scheme_output: out,
            };
            assert_eq!(k2.deconceal(&s).unwrap().as_str(), "999700000000001");
        }
    }
}
