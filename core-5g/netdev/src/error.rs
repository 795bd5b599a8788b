//! The crate's one error type.
//!
//! Setup calls (opening a TUN, configuring an interface, socket options, namespaces)
//! return [`Error`], which names the system call that failed. The per-packet calls
//! (`Tun::read`/`write`, `BatchSocket::recv_batch`/`send_batch`/`send_segments`) return
//! plain [`std::io::Result`] instead: there the call is obvious from the method, the
//! common outcome is `WouldBlock`, and `io::Result` is what
//! `tokio::io::unix::AsyncFd::try_io` expects.

use std::io;

/// Everything that can go wrong outside the per-packet path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed. `call` names it, with the ioctl request or socket option
    /// where there is one (`"ioctl(TUNSETIFF)"`, `"setsockopt(UDP_GRO)"`), or the
    /// rtnetlink request the kernel refused (`"rtnetlink RTM_NEWADDR"`).
    #[error("{call}: {source}")]
    Sys {
        /// The system call (and request) that failed.
        call: &'static str,
        /// The errno it returned.
        #[source]
        source: io::Error,
    },
    /// The kernel's answer to an rtnetlink request could not be read (truncated, or no
    /// acknowledgement for our sequence number).
    #[error("unreadable rtnetlink reply to {request}: {reason}")]
    Netlink {
        /// The request (`"RTM_NEWADDR"`, `"RTM_NEWROUTE"`).
        request: &'static str,
        /// What was wrong with the reply.
        reason: &'static str,
    },
    /// An interface name the kernel would refuse: empty, 16 bytes or longer, or holding
    /// a NUL, `/`, `:` or whitespace.
    #[error("invalid interface name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A network namespace name that is not a plain file name (`/run/netns/NAME`).
    #[error("invalid network namespace name {name:?}: {reason}")]
    InvalidNamespace {
        /// The name as given.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// An argument outside the range the kernel or this crate accepts (a prefix length
    /// of 33 for IPv4, zero queues, a zero segment size…).
    #[error("invalid {what}: {value} ({reason})")]
    InvalidArgument {
        /// The argument.
        what: &'static str,
        /// Its value.
        value: u64,
        /// The accepted range.
        reason: &'static str,
    },
    /// A buffer shorter than the structure to read from or write into it.
    #[error("buffer too short: need {needed} bytes, got {got}")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes the buffer has.
        got: usize,
    },
    /// A message longer than a batch slot.
    #[error("message of {len} bytes does not fit a {slot_size}-byte batch slot")]
    TooLarge {
        /// Length of the message.
        len: usize,
        /// Size of one slot of the batch.
        slot_size: usize,
    },
    /// Every slot of a [`SendBatch`](crate::SendBatch) is queued; send it first.
    #[error("batch is full ({capacity} messages)")]
    BatchFull {
        /// Number of slots of the batch.
        capacity: usize,
    },
    /// An `ip` command (namespace creation or deletion) could not be run or failed.
    #[error("`{command}` failed: {detail}")]
    Command {
        /// The command line.
        command: String,
        /// Exit status and standard error, or why it could not start.
        detail: String,
    },
    /// The closure run in a network namespace panicked.
    #[error("thread in network namespace {namespace} panicked: {message}")]
    Panicked {
        /// The namespace (`"(new)"` for an anonymous one).
        namespace: String,
        /// The panic message.
        message: String,
    },
}

impl Error {
    /// Wraps an `io::Error` returned by `call`.
    pub(crate) fn sys(call: &'static str) -> impl FnOnce(io::Error) -> Error {
        move |source| Error::Sys { call, source }
    }

    /// The errno of a failed system call, if this is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Sys { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// The closest `io::ErrorKind`.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Error::Sys { source, .. } => source.kind(),
            Error::InvalidName { .. }
            | Error::InvalidNamespace { .. }
            | Error::InvalidArgument { .. }
            | Error::TooLarge { .. }
            | Error::Truncated { .. } => io::ErrorKind::InvalidInput,
            Error::Netlink { .. } => io::ErrorKind::InvalidData,
            Error::BatchFull { .. } => io::ErrorKind::WouldBlock,
            Error::Command { .. } | Error::Panicked { .. } => io::ErrorKind::Other,
        }
    }
}

impl From<Error> for io::Error {
    /// Keeps the kind (from the errno of a failed system call); the message keeps the
    /// call's name.
    fn from(e: Error) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_error_names_the_call_and_keeps_the_errno() {
        let e = Error::Sys {
            call: "ioctl(TUNSETIFF)",
            source: io::Error::from_raw_os_error(libc::EPERM),
        };
        assert_eq!(e.raw_os_error(), Some(libc::EPERM));
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert!(e.to_string().starts_with("ioctl(TUNSETIFF): "), "{e}");
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::PermissionDenied);
        assert!(io.to_string().contains("TUNSETIFF"), "{io}");
    }

    #[test]
    fn usage_errors_are_invalid_input() {
        let e = Error::TooLarge {
            len: 3000,
            slot_size: 2048,
        };
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(io::Error::from(e).kind(), io::ErrorKind::InvalidInput);
    }
}
