//! The crate's error type for the async carriers and the N2 API.

use std::io;

use thiserror::Error;

pub use crate::assoc::SendError;

/// Errors of the SCTP carriers and the N2 API.
#[derive(Debug, Error)]
pub enum Error {
    /// A socket error.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// The association refused a message.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The association is down (with the reason it went down).
    #[error("association down: {0}")]
    Down(String),
    /// The carrier task is gone.
    #[error("SCTP carrier closed")]
    Closed,
    /// Kernel SCTP is not available on this host.
    #[error("kernel SCTP not supported on this host")]
    KernelUnsupported,
    /// The handshake did not complete in time.
    #[error("association setup timed out")]
    Timeout,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
