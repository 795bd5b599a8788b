//! SCTP for N2.
//!
//! - [`wire`]: the RFC 9260 §3 packet format (parser, builder, CRC32c).
#![forbid(unsafe_code)]

pub mod wire;
