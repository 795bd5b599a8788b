//! Packet captures for hexcore: read pcap and pcapng, dissect frames down to SCTP user
//! messages (over IP and over UDP), and write captures of what a simulator sent and
//! received.
//!
//! Pure and synchronous: the caller hands in bytes and gets typed results. Nothing here
//! knows NGAP or NAS; `hexcore pcap` stacks those decoders on top.
#![forbid(unsafe_code)]

pub mod file;
pub mod link;
pub mod sctp;

pub use file::{Reader, Record, Writer};
pub use link::LinkType;
pub use sctp::{Carrier, Dissector, GTPU_PORT, PFCP_PORT, SctpMessage, Stats, Synthesizer, UdpDatagram};
