//! The PFCP header (TS 29.244 §7.2.2) and message types (§7.3).
//!
//! ```text
//!  octet 1   | Version (3) | Spare (2) | FO | MP | S |
//!  octet 2   | Message Type                          |
//!  3–4       | Message Length (octets after octet 4) |
//!  5–12      | SEID                     (if S = 1)   |
//!  next 3    | Sequence Number                       |
//!  next 1    | Message Priority (4, if MP=1) | Spare |
//! ```

use crate::codec::{Sink, code_enum};
use crate::error::Error;

code_enum! {
    /// Message type (TS 29.244 Table 7.3-1).
    pub enum MessageType: u8 {
        /// Heartbeat Request.
        HeartbeatRequest = 1,
        /// Heartbeat Response.
        HeartbeatResponse = 2,
        /// PFD Management Request.
        PfdManagementRequest = 3,
        /// PFD Management Response.
        PfdManagementResponse = 4,
        /// Association Setup Request.
        AssociationSetupRequest = 5,
        /// Association Setup Response.
        AssociationSetupResponse = 6,
        /// Association Update Request.
        AssociationUpdateRequest = 7,
        /// Association Update Response.
        AssociationUpdateResponse = 8,
        /// Association Release Request.
        AssociationReleaseRequest = 9,
        /// Association Release Response.
        AssociationReleaseResponse = 10,
        /// Version Not Supported Response.
        VersionNotSupportedResponse = 11,
        /// Node Report Request.
        NodeReportRequest = 12,
        /// Node Report Response.
        NodeReportResponse = 13,
        /// Session Set Deletion Request.
        SessionSetDeletionRequest = 14,
        /// Session Set Deletion Response.
        SessionSetDeletionResponse = 15,
        /// Session Set Modification Request.
        SessionSetModificationRequest = 16,
        /// Session Set Modification Response.
        SessionSetModificationResponse = 17,
        /// Session Establishment Request.
        SessionEstablishmentRequest = 50,
        /// Session Establishment Response.
        SessionEstablishmentResponse = 51,
        /// Session Modification Request.
        SessionModificationRequest = 52,
        /// Session Modification Response.
        SessionModificationResponse = 53,
        /// Session Deletion Request.
        SessionDeletionRequest = 54,
        /// Session Deletion Response.
        SessionDeletionResponse = 55,
        /// Session Report Request.
        SessionReportRequest = 56,
        /// Session Report Response.
        SessionReportResponse = 57,
    }
}

/// Whether a message asks or answers (§7.3: requests and their responses are
/// consecutive type values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// A request: it gets a response, and is retransmitted until it does.
    Request,
    /// A response (or the Version Not Supported Response).
    Response,
    /// A message type this crate cannot place.
    Unknown,
}

impl MessageType {
    /// Request or response?
    pub fn direction(self) -> Direction {
        match self.value() {
            // 1–10: requests odd, responses even; 11 answers any request of
            // another version; 12–17 and 50–57: requests even, responses odd.
            v @ 1..=10 if v % 2 == 1 => Direction::Request,
            1..=11 => Direction::Response,
            v @ (12..=17 | 50..=57) if v % 2 == 0 => Direction::Request,
            12..=17 | 50..=57 => Direction::Response,
            _ => Direction::Unknown,
        }
    }

    /// Is this a request?
    pub fn is_request(self) -> bool {
        self.direction() == Direction::Request
    }

    /// Is this a response?
    pub fn is_response(self) -> bool {
        self.direction() == Direction::Response
    }

    /// Is this a session-related message (types 50–99, §7.3), which carries a SEID?
    pub fn is_session_message(self) -> bool {
        (50..=99).contains(&self.value())
    }

    /// The response type for a request type.
    pub fn response_type(self) -> Option<MessageType> {
        self.is_request().then(|| MessageType::from(self.value() + 1))
    }
}

mod field {
    use std::ops::Range;
    pub const FLAGS: usize = 0;
    pub const TYPE: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const SEID: Range<usize> = 4..12;
    /// Sequence number and priority octet: after the SEID when S = 1.
    pub const SEQ_NO_SEID: Range<usize> = 4..7;
    pub const SEQ_SEID: Range<usize> = 12..15;
    pub const PRIO_SEID: usize = 15;
    pub const HEADER_NO_SEID: usize = 8;
    pub const HEADER_SEID: usize = 16;
    /// Octets before the length field's count starts.
    pub const LENGTH_BASE: usize = 4;
}

/// Flag bits of octet 1.
mod flag {
    pub const S: u8 = 0x01;
    pub const MP: u8 = 0x02;
    pub const FO: u8 = 0x04;
}

/// A read/write view of a PFCP message, smoltcp style: [`Packet::new_checked`]
/// checks once that the header and the length it claims fit the buffer; after that
/// no accessor panics.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking it; the accessors may then panic. For
    /// buffers about to be written by [`crate::Pdu::emit`].
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wrap a buffer holding a whole PFCP message: version 1, the header (with SEID
    /// when S = 1), and at least the octets its length field claims. Octets past the
    /// message (the next message of a bundle, §7.2.1) are left alone.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let p = Packet { buffer };
        p.check_len()?;
        Ok(p)
    }

    /// Check the lengths (and the version).
    pub fn check_len(&self) -> Result<(), Error> {
        let b = self.buffer.as_ref();
        let [flags, _, l0, l1, ..] = *b else {
            return Err(Error::Truncated {
                needed: field::HEADER_NO_SEID,
                got: b.len(),
            });
        };
        if flags >> 5 != 1 {
            return Err(Error::UnsupportedVersion(flags >> 5));
        }
        let header = if flags & flag::S != 0 {
            field::HEADER_SEID
        } else {
            field::HEADER_NO_SEID
        };
        let total = field::LENGTH_BASE + usize::from(u16::from_be_bytes([l0, l1]));
        let needed = total.max(header);
        if b.len() < needed {
            return Err(Error::Truncated { needed, got: b.len() });
        }
        if total < header {
            // The length field does not even cover the header.
            return Err(Error::Truncated {
                needed: header,
                got: total,
            });
        }
        Ok(())
    }

    /// Version (1).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS] >> 5
    }

    /// FO: another message follows in the datagram (§7.2.1, Rel-15 bundling).
    pub fn follow_on(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & flag::FO != 0
    }

    /// MP: the header carries a message priority.
    pub fn mp(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & flag::MP != 0
    }

    /// S: the header carries a SEID.
    pub fn s(&self) -> bool {
        self.buffer.as_ref()[field::FLAGS] & flag::S != 0
    }

    /// Message type.
    pub fn message_type(&self) -> MessageType {
        MessageType::from(self.buffer.as_ref()[field::TYPE])
    }

    /// Message length: the octets after the first four.
    pub fn length(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::LENGTH];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// SEID, when S = 1.
    pub fn seid(&self) -> Option<u64> {
        self.s().then(|| {
            let b = &self.buffer.as_ref()[field::SEID];
            u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        })
    }

    /// Sequence number (24 bits).
    pub fn sequence_number(&self) -> u32 {
        let r = if self.s() { field::SEQ_SEID } else { field::SEQ_NO_SEID };
        let b = &self.buffer.as_ref()[r];
        u32::from_be_bytes([0, b[0], b[1], b[2]])
    }

    /// Message priority (0 highest … 15), when MP = 1. Only session messages (S = 1)
    /// have room for it (§7.2.2.3).
    pub fn message_priority(&self) -> Option<u8> {
        (self.mp() && self.s()).then(|| self.buffer.as_ref()[field::PRIO_SEID] >> 4)
    }

    /// Header length: 16 with a SEID, 8 without.
    pub fn header_len(&self) -> usize {
        if self.s() {
            field::HEADER_SEID
        } else {
            field::HEADER_NO_SEID
        }
    }

    /// Total length of this message (header and IEs).
    pub fn total_len(&self) -> usize {
        field::LENGTH_BASE + usize::from(self.length())
    }

    /// The IEs (octets between the header and the end the length field gives).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..self.total_len()]
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Set version, FO, MP and S at once (spare bits cleared).
    pub fn set_flags(&mut self, version: u8, follow_on: bool, mp: bool, s: bool) {
        self.buffer.as_mut()[field::FLAGS] =
            (version << 5) | u8::from(follow_on) << 2 | u8::from(mp) << 1 | u8::from(s);
    }

    /// Set the message type.
    pub fn set_message_type(&mut self, t: MessageType) {
        self.buffer.as_mut()[field::TYPE] = t.value();
    }

    /// Set the message length.
    pub fn set_length(&mut self, len: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&len.to_be_bytes());
    }

    /// Set the SEID (S must be 1).
    pub fn set_seid(&mut self, seid: u64) {
        self.buffer.as_mut()[field::SEID].copy_from_slice(&seid.to_be_bytes());
    }

    /// Set the sequence number (low 24 bits) and clear the octet after it.
    pub fn set_sequence_number(&mut self, seq: u32) {
        let r = if self.s() { field::SEQ_SEID } else { field::SEQ_NO_SEID };
        let end = r.end;
        let b = self.buffer.as_mut();
        b[r].copy_from_slice(&seq.to_be_bytes()[1..]);
        b[end] = 0;
    }

    /// Set the message priority (S and MP must be 1).
    pub fn set_message_priority(&mut self, prio: u8) {
        self.buffer.as_mut()[field::PRIO_SEID] = (prio & 0x0F) << 4;
    }

    /// The IEs, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (start, end) = (self.header_len(), self.total_len());
        &mut self.buffer.as_mut()[start..end]
    }
}

/// The high-level header: what a message says besides its IEs. The message type
/// and length come from the message itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Header {
    /// SEID: present for session messages (S = 1), absent for node messages.
    pub seid: Option<u64>,
    /// Sequence number (24 bits), set by the transaction layer for requests and
    /// copied from the request for responses.
    pub sequence_number: u32,
    /// Message priority (MP = 1); only sent with a SEID.
    pub message_priority: Option<u8>,
    /// FO: another message follows in the same datagram.
    pub follow_on: bool,
}

impl Header {
    /// The header of `packet`.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Header {
        Header {
            seid: packet.seid(),
            sequence_number: packet.sequence_number(),
            message_priority: packet.message_priority(),
            follow_on: packet.follow_on(),
        }
    }

    /// Octets of the header.
    pub fn buffer_len(&self) -> usize {
        if self.seid.is_some() {
            field::HEADER_SEID
        } else {
            field::HEADER_NO_SEID
        }
    }

    /// Write the header for a message of type `t` whose IEs take `ies_len` octets.
    pub(crate) fn encode<S: Sink>(&self, out: &mut S, t: MessageType, ies_len: usize) {
        let prio = self.message_priority.filter(|_| self.seid.is_some());
        out.put_u8(
            (1 << 5) | u8::from(self.follow_on) << 2 | u8::from(prio.is_some()) << 1 | u8::from(self.seid.is_some()),
        );
        out.put_u8(t.value());
        let len = self.buffer_len() - field::LENGTH_BASE + ies_len;
        out.put_u16(u16::try_from(len).unwrap_or(u16::MAX));
        if let Some(seid) = self.seid {
            out.put_u64(seid);
        }
        out.put_u24(self.sequence_number);
        out.put_u8(prio.map_or(0, |p| (p & 0x0F) << 4));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Heartbeat Request from go-pfcp's message/heartbeat-request_test.go (MIT).
    static HEARTBEAT: [u8; 16] = [
        0x20, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00,
    ];
    // The header of go-pfcp's message/session-report-request_test.go (MIT), with an
    // empty body: SEID 0x1122334455667788, sequence 0x112233.
    static SESSION: [u8; 16] = [
        0x21, 0x38, 0x00, 0x0c, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x11, 0x22, 0x33, 0x00,
    ];

    #[test]
    fn node_header() {
        let p = Packet::new_checked(&HEARTBEAT[..]).unwrap();
        assert_eq!(p.version(), 1);
        assert!(!p.s() && !p.mp() && !p.follow_on());
        assert_eq!(p.message_type(), MessageType::HeartbeatRequest);
        assert_eq!(p.length(), 12);
        assert_eq!(p.seid(), None);
        assert_eq!(p.sequence_number(), 0);
        assert_eq!(p.header_len(), 8);
        assert_eq!(p.payload(), &HEARTBEAT[8..]);
        let h = Header::parse(&p);
        let mut out = Vec::new();
        h.encode(&mut out, p.message_type(), p.payload().len());
        assert_eq!(out, HEARTBEAT[..8]);
    }

    #[test]
    fn session_header_and_setters() {
        let p = Packet::new_checked(&SESSION[..]).unwrap();
        assert_eq!(p.seid(), Some(0x1122334455667788));
        assert_eq!(p.sequence_number(), 0x112233);
        assert_eq!(p.message_priority(), None);
        assert!(p.payload().is_empty());

        let mut b = [0u8; 16];
        let mut w = Packet::new_unchecked(&mut b[..]);
        w.set_flags(1, false, true, true);
        w.set_message_type(MessageType::SessionReportRequest);
        w.set_length(12);
        w.set_seid(0x1122334455667788);
        w.set_sequence_number(0x112233);
        w.set_message_priority(5);
        let mut want = SESSION;
        want[0] = 0x23; // MP = 1
        want[15] = 0x50; // priority 5
        assert_eq!(b, want);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.message_priority(), Some(5));
        let h = Header::parse(&p);
        let mut out = Vec::new();
        h.encode(&mut out, p.message_type(), 0);
        assert_eq!(out, b);
    }

    #[test]
    fn broken_headers() {
        assert_eq!(
            Packet::new_checked(&HEARTBEAT[..3]).err(),
            Some(Error::Truncated { needed: 8, got: 3 })
        );
        // Length claims more than the datagram holds.
        assert_eq!(
            Packet::new_checked(&HEARTBEAT[..15]).err(),
            Some(Error::Truncated { needed: 16, got: 15 })
        );
        // S = 1 but only 8 octets.
        assert_eq!(
            Packet::new_checked(&[0x21, 0x32, 0x00, 0x04, 0, 0, 0, 0][..]).err(),
            Some(Error::Truncated { needed: 16, got: 8 })
        );
        // Length shorter than the header.
        assert_eq!(
            Packet::new_checked(&[0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0][..]).err(),
            Some(Error::Truncated { needed: 8, got: 6 })
        );
        // Version 2.
        assert_eq!(
            Packet::new_checked(&[0x40, 0x01, 0x00, 0x04, 0, 0, 1, 0][..]).err(),
            Some(Error::UnsupportedVersion(2))
        );
    }

    #[test]
    fn directions() {
        use Direction::*;
        for (t, d) in [
            (1, Request),
            (2, Response),
            (5, Request),
            (11, Response),
            (12, Request),
            (13, Response),
            (15, Response),
            (50, Request),
            (57, Response),
            (99, Unknown),
            (0, Unknown),
        ] {
            assert_eq!(MessageType::from(t).direction(), d, "{t}");
        }
        assert_eq!(
            MessageType::SessionReportRequest.response_type(),
            Some(MessageType::SessionReportResponse)
        );
        assert_eq!(MessageType::HeartbeatResponse.response_type(), None);
    }
}
