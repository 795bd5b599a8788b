//! 3GPP security for hexcore: MILENAGE, the TS 33.501 key hierarchy,
//! NAS COUNT handling, the 128-NEA/NIA algorithms 0–3 and SUCI
//! concealment / de-concealment.
//!
//! Pure functions and small value types, no I/O. Secrets are byte arrays the
//! caller owns. Comparisons of MACs, RES* and HRES* are constant time.
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`milenage`] | f1, f1*, f2–f5, f5*, OPc, AUTN/AUTS | TS 35.205/35.206 |
//! | [`kdf`] | generic KDF | TS 33.220 Annex B.2 |
//! | [`keys`] | KAUSF, RES*, HXRES*, KSEAF, KAMF, KNASenc/int, KgNB, NH, KAMF' | TS 33.501 Annex A |
//! | [`sqn`] | SQN = SEQ ‖ IND, HN generation, USIM freshness window | TS 33.102 Annex C |
//! | [`count`] | NAS COUNT, BEARER, DIRECTION | TS 24.501 §4.4.3.1, TS 33.501 §6.4.3.1 |
//! | [`context`] | NAS security context: protect / unprotect payloads | TS 24.501 §4.4, TS 33.501 §6.4 |
//! | [`snow3g`], [`zuc`] | keystream generators | TS 35.216, TS 35.221 |
//! | [`nea_nia`] | `nea()`, `nia()` for NEA0–3 / NIA0–3 | TS 33.501 Annex D, TS 33.401 Annex B |
//! | [`suci`] | null scheme, ECIES Profile A and B | TS 33.501 §6.12, Annex C |
//! | [`eap_aka_prime`] | EAP-AKA' keys (PRF', KAUSF from EMSK) and packets (AT_MAC) | RFC 9048, TS 33.501 §6.1.3.1 |
//!
//! A 5G AKA run and the first protected NAS message, end to end:
//!
//! ```
//! use hexcore_security::{keys, nea_nia, Direction, Milenage, NasConnection, TxCount};
//!
//! # fn main() -> Result<(), hexcore_security::Error> {
//! // UDM: subscriber K / OPc (TS 35.208 Test Set 1), fresh RAND, SQN.
//! let k = [0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
//!          0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc];
//! let opc = [0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
//!            0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf];
//! let rand = [7u8; 16];
//! let sqn = [0, 0, 0, 0, 0, 0x21];
//! let udm = Milenage::new(&k, &opc);
//! let (autn, v) = udm.generate_autn(&rand, &sqn, &[0x80, 0x00]);
//! let snn = keys::ServingNetworkName::new("001", "01")?;
//! let xres_star = keys::res_star(&v.ck, &v.ik, &snn, &rand, &v.res)?;
//! let sqn_xor_ak: [u8; 6] = autn[..6].try_into().expect("AUTN has 16 octets");
//! let kausf = keys::kausf(&v.ck, &v.ik, &snn, &sqn_xor_ak)?;
//!
//! // UE (USIM): checks AUTN and answers RES*.
//! let usim = udm.clone();
//! let seen = usim.verify_autn(&rand, &autn)?;
//! let res_star = keys::res_star(&seen.vector.ck, &seen.vector.ik, &snn, &rand, &seen.vector.res)?;
//! keys::verify_res_star(&xres_star, &res_star)?;
//!
//! // AMF: KSEAF → KAMF → KNASint, then MAC the Security Mode Command.
//! let kseaf = keys::kseaf(&kausf, &snn)?;
//! let kamf = keys::kamf(&kseaf, "001010000000001", &[0, 0])?;
//! let knas_int = keys::knas_int(&kamf, nea_nia::Nia::Nia2.id());
//! let mut dl = TxCount::new();
//! let count = dl.take()?;
//! let smc = [0x7e, 0x00, 0x5d, 0x02, 0x00, 0x02, 0xf0, 0xf0];
//! let mac = nea_nia::nia(nea_nia::Nia::Nia2, &knas_int, count.count_input(),
//!                        NasConnection::ThreeGpp.bearer(), Direction::Downlink, &smc);
//! nea_nia::nia_verify(nea_nia::Nia::Nia2, &knas_int, count.count_input(),
//!                     NasConnection::ThreeGpp.bearer(), Direction::Downlink, &smc, &mac)?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod context;
pub mod count;
pub mod eap_aka_prime;
pub mod error;
pub mod kdf;
pub mod keys;
pub mod milenage;
pub mod nea_nia;
pub mod snow3g;
pub mod sqn;
pub mod suci;
pub mod zuc;

pub use context::{NasSecurityContext, Protected, Role};
pub use count::{Direction, NasConnection, NasCount, RxCount, TxCount};
pub use error::Error;
pub use milenage::Milenage;
pub use nea_nia::{Nea, Nia, nea, nia, nia_verify};
