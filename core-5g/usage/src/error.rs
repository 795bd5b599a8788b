//! The two error types: [`Error`] for a value that is not what 3GPP allows (a SUPI, a
//! PLMN, a cell identity, a Node ID, a trigger name), [`StoreError`] for a batch of
//! records that was not stored.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// A value of a usage record that 3GPP does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A SUPI that is not an IMSI: 6 to 15 decimal digits (TS 23.003 §2.2), with an
    /// optional `imsi-` prefix (TS 29.571 §5.3.2).
    #[error("SUPI {0:?} is not an IMSI (6 to 15 digits, TS 23.003 §2.2)")]
    InvalidSupi(String),
    /// An MCC that is not 3 digits or an MNC that is not 2 or 3 digits (TS 23.003 §2.2).
    #[error("PLMN {mcc:?}-{mnc:?}: MCC must be 3 digits, MNC 2 or 3 (TS 23.003 §2.2)")]
    InvalidPlmn {
        /// The MCC given.
        mcc: String,
        /// The MNC given.
        mnc: String,
    },
    /// An NR Cell Identity wider than 36 bits (TS 38.413 §9.3.1.7), or not 9 hex digits
    /// in its text form (TS 29.571 §5.4.2 NrCellId).
    #[error("NR Cell Identity {0:?} is not 36 bits (9 hex digits)")]
    InvalidNrCellId(String),
    /// A TAC wider than 24 bits (TS 38.413 §9.3.3.10), or not 6 hex digits in its text
    /// form (TS 29.571 §5.4.2 Tac).
    #[error("TAC {0:?} is not 24 bits (6 hex digits)")]
    InvalidTac(String),
    /// A Node ID that is neither an IP address nor a host name (TS 29.244 §8.2.38).
    #[error("Node ID {0:?} is neither an IPv4/IPv6 address nor an FQDN")]
    InvalidNodeId(String),
    /// A name that is not one of the Usage Report Trigger's (TS 29.244 §8.2.41).
    #[error("{0:?} is not a Usage Report Trigger name (TS 29.244 §8.2.41)")]
    UnknownTrigger(String),
}

/// Why a batch of usage records was not stored (durably). Nothing of such a batch is
/// acknowledged; the producer keeps, spools or reports it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Reading, writing or syncing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: Arc<io::Error>,
    },
    /// A complete line of a file is not what this crate writes (not a torn tail: those
    /// are cut off on open). The file needs an operator.
    #[error("{} line {line}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// A record could not be encoded.
    #[error("usage record not encodable: {0}")]
    Encode(String),
    /// The sink or the outbox has stopped (its task or thread is gone).
    #[error("usage sink closed")]
    Closed,
    /// The sink failed recently and is not tried again yet: a report that the UPF can
    /// send again is refused at once rather than held until the retry.
    #[error("usage sink unavailable (last failure: {0})")]
    Unavailable(Box<StoreError>),
    /// The consumer refused the batch for a reason of its own (a remote sink's
    /// answer).
    #[error("usage sink refused the batch: {0}")]
    Refused(String),
}

impl StoreError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source: Arc::new(source),
        }
    }
}
