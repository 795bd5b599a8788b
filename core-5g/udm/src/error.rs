//! One error type for the AUSF/UDM/UDR.
//!
//! Each variant says what the caller answers: the AMF maps `UnknownSubscriber` and
//! `SuciDeconcealFailure` / `UnknownHnKey` to 5GMM cause #9 ("UE identity cannot be
//! derived by the network", TS 24.501 §5.4.1.3.7), `MacFailure` on resynchronisation to
//! an AUSF failure (TS 33.501 §6.1.3.3.2), `AuthenticationFailure` to Authentication
//! Reject (TS 24.501 §5.4.1.3.5); the CLI maps the provisioning errors to exit code 2.

use thiserror::Error;

/// Errors of the subscriber store and the AUSF/UDM logic.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// No subscriber with this SUPI is provisioned.
    #[error("unknown subscriber imsi-{0}")]
    UnknownSubscriber(String),
    /// A subscriber (or home-network key id) with this identity already exists.
    #[error("duplicate: {0} already exists")]
    Duplicate(String),
    /// An IMSI that is not 5 to 15 decimal digits (TS 23.003 §2.2).
    #[error("bad IMSI {imsi:?}: {reason}")]
    BadImsi {
        /// What was given.
        imsi: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A key, OP/OPc, AMF field, SQN, S-NSSAI, DNN or AMBR that is malformed.
    #[error("bad {what}: {reason}")]
    BadKey {
        /// Which field (`K`, `OPc`, `AMF`, `SQN`, `S-NSSAI`, …).
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// MAC-S in AUTS did not verify (TS 33.102 §6.3.5): the resynchronisation is
    /// refused and SQN_HE is left unchanged.
    #[error("MAC-S of AUTS did not verify: resynchronisation refused")]
    MacFailure,
    /// RES* did not match XRES* (TS 33.501 §6.1.3.2.0 step 11).
    #[error("RES* does not match XRES*: authentication failed")]
    AuthenticationFailure,
    /// The AUSF holds no authentication context with this id (never issued, already
    /// confirmed, or evicted).
    #[error("unknown authentication context {0}")]
    UnknownAuthContext(u64),
    /// The SUCI names a home-network public key id that is not configured for its
    /// protection scheme (TS 33.501 §6.12.2).
    #[error("no home-network key with id {id} for protection scheme {scheme}")]
    UnknownHnKey {
        /// Protection scheme identifier from the SUCI (1 = Profile A, 2 = Profile B).
        scheme: u8,
        /// Home network public key identifier from the SUCI.
        id: u8,
    },
    /// The SUCI would not de-conceal: bad MAC tag, bad ephemeral key, malformed or
    /// unsupported scheme output (TS 33.501 §6.12.2, Annex C.3).
    #[error("SUCI de-concealment failed: {0}")]
    SuciDeconcealFailure(String),
    /// The store could not be opened because another process (a running `hexcore up`)
    /// holds its lock.
    #[error("the subscriber store at {path} is locked by another process (is `hexcore up` running?)")]
    StoreLocked {
        /// The store directory.
        path: String,
    },
    /// A stored record could not be decoded (unknown version, corrupt data).
    #[error("corrupt stored record {key}: {reason}")]
    Corrupt {
        /// Which record.
        key: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The storage engine failed (I/O error, full disk, …).
    #[error("store: {0}")]
    Store(String),
    /// A derivation of the security crate refused its input (e.g. a serving network
    /// name too long for the KDF).
    #[error("security: {0}")]
    Security(#[from] hexcore_security::Error),
}

impl Error {
    pub(crate) fn bad_key(what: &'static str, reason: impl Into<String>) -> Self {
        Error::BadKey {
            what,
            reason: reason.into(),
        }
    }
}
