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
//! | [`count`] | NAS COUNT, BEARER, DIRECTION | TS 24.501 §4.4.3.1, TS 33.501 §6.4.3.1 |
//! | [`snow3g`], [`zuc`] | keystream generators | TS 35.216, TS 35.221 |
//! | [`nea_nia`] | `nea()`, `nia()` for NEA0–3 / NIA0–3 | TS 33.501 Annex D, TS 33.401 Annex B |
//! | [`suci`] | null scheme, ECIES Profile A and B | TS 33.501 §6.12, Annex C |
#![forbid(unsafe_code)]

pub mod count;
pub mod error;
pub mod kdf;
pub mod keys;
pub mod milenage;
pub mod nea_nia;
pub mod snow3g;
pub mod suci;
pub mod zuc;

pub use count::{Direction, NasConnection, NasCount, RxCount, TxCount};
pub use error::Error;
pub use milenage::Milenage;
pub use nea_nia::{Nea, Nia, nea, nia, nia_verify};
