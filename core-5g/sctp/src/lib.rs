//! SCTP for N2.
//!
//! - [`wire`]: the RFC 9260 §3 packet format (parser, builder, CRC32c).
//! - [`cookie`]: the HMAC-SHA-256 State Cookie (§5.1.3).
//! - [`assoc`]: a sans-IO association and a stateless listener (RFC 9260).
//! - [`udp`]: SCTP over UDP (RFC 6951), a tokio carrier for the sans-IO stack.
//! - [`api`]: the N2 API over both carriers (UDP and kernel SCTP).
#![forbid(unsafe_code)]

pub mod api;
pub mod assoc;
pub mod cookie;
pub mod error;
pub mod udp;
pub mod wire;

pub use api::{AssociationEvent, N2Association, N2Listener, N2Options, Transport};
pub use assoc::{Association, Config, DownReason, Event, Listener, ListenerOutput, State};
pub use error::{Error, Result};
pub use wire::{PPID_NGAP, UDP_ENCAPS_PORT};
