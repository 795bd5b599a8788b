//! SCTP for N2.
//!
//! - [`wire`]: the RFC 9260 §3 packet format (parser, builder, CRC32c).
//! - [`cookie`]: the HMAC-SHA-256 State Cookie (§5.1.3).
//! - [`assoc`]: a sans-IO association and a stateless listener (RFC 9260).
#![forbid(unsafe_code)]

pub mod assoc;
pub mod cookie;
pub mod error;
pub mod wire;

pub use assoc::{Association, Config, DownReason, Event, Listener, ListenerOutput, State};
pub use error::{Error, Result};
