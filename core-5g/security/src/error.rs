//! One error type for the security crate.
//!
//! Every variant says what a caller (AUSF/UDM, AMF, the simulated UE) must
//! do or answer. A MAC failure on NAS maps to "discard the message" (TS 24.501
//! §4.4.4.3); a SUCI that will not de-conceal maps to a 5GMM cause #3 / the
//! AUSF's `Nudm_UEAuthentication` error; bad key lengths are programming or
//! provisioning errors.

use thiserror::Error;

/// Errors returned by the security functions.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A key, OP/OPc or other fixed-size secret had the wrong length.
    #[error("bad key length: expected {expected} bytes, got {got}")]
    BadKeyLength {
        /// Length the algorithm needs, in bytes.
        expected: usize,
        /// Length that was passed.
        got: usize,
    },
    /// A message length in bits does not fit the data buffer given.
    #[error("bad bit length: {bits} bits do not fit in {bytes} bytes")]
    BadBitLength {
        /// Requested message length in bits.
        bits: u64,
        /// Bytes actually supplied.
        bytes: usize,
    },
    /// A MAC (NAS MAC, SUCI MAC tag, MAC-A/MAC-S) did not verify.
    #[error("MAC verification failed")]
    MacFailure,
    /// RES* / HRES* comparison failed: authentication is rejected.
    #[error("authentication response does not match")]
    ResMismatch,
    /// A SUCI scheme output is too short or malformed for its protection scheme.
    #[error("bad SUCI scheme output: {0}")]
    BadSchemeOutput(&'static str),
    /// An elliptic-curve public key could not be decoded (not on curve, wrong encoding).
    #[error("bad public key for {0}")]
    BadPublicKey(&'static str),
    /// The ECDH shared secret was all-zero (low-order point); the input is rejected.
    #[error("ECDH produced an all-zero shared secret")]
    WeakSharedSecret,
    /// An MSIN / digit string contained something other than decimal digits,
    /// or a BCD nibble that is not a digit.
    #[error("bad digit string: {0}")]
    BadDigits(&'static str),
    /// A serving-network name component (MCC/MNC) is malformed.
    #[error("bad PLMN: {0}")]
    BadPlmn(&'static str),
    /// The NAS COUNT would wrap around: TS 33.501 §6.4.3.1 forbids reusing it;
    /// a new key must be taken into use first.
    #[error("NAS COUNT wrap-around: re-keying required")]
    CountWrap,
    /// A NAS COUNT at or below the last accepted one: the message is a replay
    /// and is discarded (TS 33.501 §6.4.3.1).
    #[error("NAS COUNT replayed")]
    Replay,
    /// A SQN received in AUTN/AUTS is outside the allowed range (TS 33.102 Annex C).
    #[error("SQN out of range")]
    SqnOutOfRange,
    /// A malformed EAP packet (RFC 3748, RFC 9048): what is wrong with it.
    #[error("bad EAP packet: {0}")]
    Eap(String),
}
