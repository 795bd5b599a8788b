//! PFCP (TS 29.244, Release 16/17): the N4 protocol between SMF and UPF. A codec
//! for the header, the IEs and the node and session messages, and a sans-IO
//! reliable-delivery layer ([`Transactions`], §6.4): sequence numbers,
//! retransmission with T1/N1, matching responses to requests, and a response cache
//! that answers duplicated requests without bothering the logic twice. No I/O, no
//! clock reads (time comes in as `Instant`), no unsafe.
//!
//! Every decoded message re-encodes to the octets received when its IEs came in the
//! order of the spec's tables (unknown and vendor IEs are kept raw and re-encoded
//! after the known ones).
//!
//! ```
//! use hexcore_pfcp::{Message, Pdu, ie::Timestamp};
//!
//! // A Heartbeat Request (go-pfcp's test vector): Recovery Time Stamp 2019-01-01.
//! let bytes = [
//!     0x20, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00,
//! ];
//! let pdu = Pdu::decode(&bytes).unwrap();
//! let Message::HeartbeatRequest(req) = &pdu.message else { panic!() };
//! assert_eq!(req.recovery_time_stamp, Timestamp::from_unix_secs(1_546_300_800));
//! assert_eq!(pdu.encode(), bytes);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod error;
pub mod header;
pub mod ie;
mod message;
pub mod transaction;

pub use codec::{Counter, IeValue, Sink, write_ie};
pub use error::Error;
pub use header::{Direction, Header, MessageType, Packet as PfcpPacket};
pub use ie::{Cause, IeIter, IeRef, IeType, RawIe};
pub use message::*;
pub use transaction::{Config, Event, Stats, Transactions, Transmit};
