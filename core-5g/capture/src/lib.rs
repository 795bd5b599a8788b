//! Packet captures.
#![forbid(unsafe_code)]
