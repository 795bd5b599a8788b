//! The GTP-U header (TS 29.281 §5.1) and the walk over its extension header chain
//! (§5.2), as a view over the octets of one UDP datagram.
//!
//! ```text
//!  octet 1   | version (3) | PT | * | E | S | PN |
//!  octet 2   | message type                       |
//!  octets 3-4| length (octets after octet 8)      |
//!  octets 5-8| TEID                               |
//!  ---- present when any of E, S, PN is set ----
//!  octets 9-10 sequence number, 11 N-PDU number, 12 next extension header type
//!  ---- then the extension headers: length (4-octet units), content, next type ----
//! ```

use core::ops::Range;

use crate::error::Error;
use crate::extension::ExtensionHeader;

crate::code_enum! {
    /// GTP-U message type (TS 29.281 §6.1, Table 6.1-1).
    pub enum MessageType: u8 {
        /// Echo Request (§7.2.1).
        EchoRequest = 1,
        /// Echo Response (§7.2.2).
        EchoResponse = 2,
        /// Error Indication (§7.3.1).
        ErrorIndication = 26,
        /// Supported Extension Headers Notification (§7.2.3).
        SupportedExtensionHeadersNotification = 31,
        /// Tunnel Status (§7.3.3, Rel-16); kept raw by this crate.
        TunnelStatus = 253,
        /// End Marker (§7.3.2).
        EndMarker = 254,
        /// G-PDU: a user plane packet (the T-PDU) behind the header (§3.1, §6.1).
        GPdu = 255,
    }
}

crate::code_enum! {
    /// Next Extension Header Type (TS 29.281 §5.2.1, Table 5.2.1-3). The values
    /// reserved for the control plane (1, 2, 0xC1, 0xC2) are `Unknown` here.
    pub enum ExtensionHeaderType: u8 {
        /// No more extension headers: ends the chain.
        NoMoreExtensionHeaders = 0x00,
        /// Long PDCP PDU Number, comprehension not required (§5.2.2.2A).
        LongPdcpPduNumberNotRequired = 0x03,
        /// Service Class Indicator (§5.2.2.3).
        ServiceClassIndicator = 0x20,
        /// UDP Port (§5.2.2.1): the source port of the message that triggered an
        /// Error Indication.
        UdpPort = 0x40,
        /// RAN Container (§5.2.2.4).
        RanContainer = 0x81,
        /// Long PDCP PDU Number, comprehension required (§5.2.2.2A).
        LongPdcpPduNumber = 0x82,
        /// Xw RAN Container (§5.2.2.5).
        XwRanContainer = 0x83,
        /// NR RAN Container (§5.2.2.6, TS 38.425).
        NrRanContainer = 0x84,
        /// PDU Session Container (§5.2.2.7, TS 38.415): QFI and friends on N3/N9.
        PduSessionContainer = 0x85,
        /// PDCP PDU Number (§5.2.2.2).
        PdcpPduNumber = 0xC0,
    }
}

/// What a receiver must do with an extension header it does not know: the two
/// high bits of its type (TS 29.281 §5.2.1, Table 5.2.1-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comprehension {
    /// `00`: not required; an Intermediate Node forwards it to the Receiver Endpoint.
    NotRequiredForward,
    /// `01`: not required; an Intermediate Node discards its content and does not
    /// forward it; any other node discards it.
    NotRequiredDiscard,
    /// `10`: required by the Endpoint Receiver, not by an Intermediate Node (which
    /// forwards it).
    RequiredByEndpoint,
    /// `11`: required by every recipient, Endpoint Receiver or Intermediate Node.
    Required,
}

impl ExtensionHeaderType {
    /// The comprehension rule encoded in the type's two high bits.
    pub fn comprehension(self) -> Comprehension {
        match self.value() >> 6 {
            0b00 => Comprehension::NotRequiredForward,
            0b01 => Comprehension::NotRequiredDiscard,
            0b10 => Comprehension::RequiredByEndpoint,
            _ => Comprehension::Required,
        }
    }

    /// Must an Endpoint Receiver (a UPF on N3/N9, a gNB) that does not know this
    /// type discard the message and answer with a Supported Extension Headers
    /// Notification (§5.2.1)? True for unknown types with comprehension `10`/`11`.
    pub fn unsupported_by_endpoint(self) -> bool {
        matches!(self, ExtensionHeaderType::Unknown(_))
            && matches!(
                self.comprehension(),
                Comprehension::RequiredByEndpoint | Comprehension::Required
            )
    }
}

/// Octets in the mandatory part of the header.
pub const HEADER_LEN: usize = 8;
/// Octets in the mandatory and optional parts (present when E, S or PN is set).
pub const LONG_HEADER_LEN: usize = 12;

mod field {
    use core::ops::Range;
    pub const FLAGS: usize = 0;
    pub const MESSAGE_TYPE: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const TEID: Range<usize> = 4..8;
    pub const SEQUENCE_NUMBER: Range<usize> = 8..10;
    pub const N_PDU_NUMBER: usize = 10;
    pub const NEXT_EXTENSION_HEADER_TYPE: usize = 11;
    /// The first extension header, after the optional octets.
    pub const EXTENSIONS: usize = 12;

    pub const VERSION_SHIFT: u8 = 5;
    pub const PT: u8 = 0x10;
    pub const E: u8 = 0x04;
    pub const S: u8 = 0x02;
    pub const PN: u8 = 0x01;
}

/// A read/write view of a GTP-U message, smoltcp style.
///
/// [`Packet::new_checked`] checks the header once: version 1 and PT 1, the 4
/// optional octets when E, S or PN is set, the Length field against the
/// datagram, and every extension header of the chain. After that no accessor can
/// panic, and [`Packet::extension_headers`] yields no error. (Getters never panic on
/// an unchecked buffer either: a missing octet reads as 0, a setter skips it.)
///
/// The message is the 8 mandatory octets plus what the Length field declares
/// (TS 29.281 §5.1: "the rest of the packet following the mandatory part"). A
/// Length that runs past the datagram is refused ([`Error::Truncated`]); octets
/// after the declared message are accepted and are not part of it: some senders
/// pad (open5gs's test gNB pads G-PDUs with zeros; Wireshark shows them as
/// trailing octets and open5gs's UPF forwards the declared T-PDU). The payload ends
/// where the message ends; [`Packet::trailing_octets`] gives the rest.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking it: for emitting into a new buffer (see
    /// [`Repr::emit`](crate::Repr::emit)).
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wrap a received datagram, checking the header and the extension header
    /// chain (see the type's documentation).
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let packet = Packet { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// The checks of [`Packet::new_checked`] on an already wrapped buffer.
    pub fn check_len(&self) -> Result<(), Error> {
        walk(self.buffer.as_ref(), |_| Ok(())).map(|_| ())
    }

    /// Octets of the message: 8 plus the Length field, or the whole buffer when that
    /// is shorter (only an unchecked packet can be).
    pub fn message_len(&self) -> usize {
        (HEADER_LEN + usize::from(self.length())).min(self.buffer.as_ref().len())
    }

    /// The octets after the message the Length field declares: padding some senders
    /// add (see the type's documentation); empty for a datagram that is exactly one
    /// message.
    pub fn trailing_octets(&self) -> &[u8] {
        self.buffer.as_ref().get(self.message_len()..).unwrap_or(&[])
    }

    /// The message without trailing octets.
    fn message(&self) -> &[u8] {
        let buf = self.buffer.as_ref();
        buf.get(..self.message_len()).unwrap_or(buf)
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn octet(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }

    fn flags(&self) -> u8 {
        self.octet(field::FLAGS)
    }

    /// The version (1 for GTPv1-U).
    pub fn version(&self) -> u8 {
        self.flags() >> field::VERSION_SHIFT
    }

    /// The protocol type bit: 1 for GTP, 0 for GTP'.
    pub fn protocol_type(&self) -> u8 {
        u8::from(self.flags() & field::PT != 0)
    }

    /// E: an extension header chain follows the optional octets.
    pub fn extension_header_flag(&self) -> bool {
        self.flags() & field::E != 0
    }

    /// S: the sequence number is meaningful (§5.1: set in Echo and Error
    /// Indication, usually clear in G-PDUs).
    pub fn sequence_number_flag(&self) -> bool {
        self.flags() & field::S != 0
    }

    /// PN: the N-PDU number is meaningful.
    pub fn n_pdu_number_flag(&self) -> bool {
        self.flags() & field::PN != 0
    }

    /// Are the 4 optional octets present (any of E, S, PN set)?
    pub fn has_optional_octets(&self) -> bool {
        self.flags() & (field::E | field::S | field::PN) != 0
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        MessageType::from(self.octet(field::MESSAGE_TYPE))
    }

    /// The Length field: octets after the mandatory 8.
    pub fn length(&self) -> u16 {
        u16::from_be_bytes([self.octet(field::LENGTH.start), self.octet(field::LENGTH.start + 1)])
    }

    /// The Tunnel Endpoint Identifier.
    pub fn teid(&self) -> u32 {
        let t = field::TEID.start;
        u32::from_be_bytes([self.octet(t), self.octet(t + 1), self.octet(t + 2), self.octet(t + 3)])
    }

    /// The sequence number, when the S flag is set.
    pub fn sequence_number(&self) -> Option<u16> {
        let s = field::SEQUENCE_NUMBER.start;
        self.sequence_number_flag()
            .then(|| u16::from_be_bytes([self.octet(s), self.octet(s + 1)]))
    }

    /// The N-PDU number, when the PN flag is set.
    pub fn n_pdu_number(&self) -> Option<u8> {
        self.n_pdu_number_flag().then(|| self.octet(field::N_PDU_NUMBER))
    }

    /// The type of the first extension header; `NoMoreExtensionHeaders` when the
    /// E flag is clear (the octet is then not evaluated, §5.1).
    pub fn next_extension_header_type(&self) -> ExtensionHeaderType {
        if self.extension_header_flag() {
            ExtensionHeaderType::from(self.octet(field::NEXT_EXTENSION_HEADER_TYPE))
        } else {
            ExtensionHeaderType::NoMoreExtensionHeaders
        }
    }

    /// Octets before the extension headers: 8, or 12 with the optional octets.
    pub fn header_len(&self) -> usize {
        if self.has_optional_octets() {
            LONG_HEADER_LEN
        } else {
            HEADER_LEN
        }
    }

    /// The extension header chain. On a checked packet it yields no error.
    pub fn extension_headers(&self) -> ExtensionHeaders<'_> {
        ExtensionHeaders::new(self.message())
    }

    /// Where the payload starts: after the header, the optional octets and the
    /// extension headers. For a G-PDU the payload is the T-PDU; for the other
    /// messages, the IEs.
    pub fn payload_offset(&self) -> usize {
        let message = self.message().len();
        let mut end = self.header_len().min(message);
        for header in self.extension_headers() {
            match header {
                Ok(h) => end += h.buffer_len(),
                Err(_) => return message,
            }
        }
        end
    }

    /// The payload: the T-PDU of a G-PDU, the IEs of the other messages; it ends
    /// where the message ends (trailing octets are not part of it).
    pub fn payload(&self) -> &[u8] {
        let offset = self.payload_offset();
        self.message().get(offset..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_octet(&mut self, i: usize, value: u8) {
        if let Some(o) = self.buffer.as_mut().get_mut(i) {
            *o = value;
        }
    }

    fn set_flag(&mut self, mask: u8, on: bool) {
        let f = self.flags();
        self.set_octet(field::FLAGS, if on { f | mask } else { f & !mask });
    }

    /// Set the version (3 bits).
    pub fn set_version(&mut self, version: u8) {
        let f = self.flags() & 0x1F;
        self.set_octet(field::FLAGS, f | (version << field::VERSION_SHIFT));
    }

    /// Set the protocol type bit (1 for GTP).
    pub fn set_protocol_type(&mut self, pt: u8) {
        self.set_flag(field::PT, pt & 1 != 0);
    }

    /// Set or clear E. The optional octets and the chain must be there.
    pub fn set_extension_header_flag(&mut self, on: bool) {
        self.set_flag(field::E, on);
    }

    /// Set or clear S. The optional octets must be there.
    pub fn set_sequence_number_flag(&mut self, on: bool) {
        self.set_flag(field::S, on);
    }

    /// Set or clear PN. The optional octets must be there.
    pub fn set_n_pdu_number_flag(&mut self, on: bool) {
        self.set_flag(field::PN, on);
    }

    /// Set the message type.
    pub fn set_message_type(&mut self, message_type: MessageType) {
        self.set_octet(field::MESSAGE_TYPE, message_type.value());
    }

    /// Set the Length field.
    pub fn set_length(&mut self, length: u16) {
        let [a, b] = length.to_be_bytes();
        self.set_octet(field::LENGTH.start, a);
        self.set_octet(field::LENGTH.start + 1, b);
    }

    /// Set the TEID.
    pub fn set_teid(&mut self, teid: u32) {
        for (i, o) in teid.to_be_bytes().into_iter().enumerate() {
            self.set_octet(field::TEID.start + i, o);
        }
    }

    /// Write the sequence number octets (set the S flag separately).
    pub fn set_sequence_number(&mut self, sequence_number: u16) {
        let [a, b] = sequence_number.to_be_bytes();
        self.set_octet(field::SEQUENCE_NUMBER.start, a);
        self.set_octet(field::SEQUENCE_NUMBER.start + 1, b);
    }

    /// Write the N-PDU number octet (set the PN flag separately).
    pub fn set_n_pdu_number(&mut self, n_pdu_number: u8) {
        self.set_octet(field::N_PDU_NUMBER, n_pdu_number);
    }

    /// Write the next extension header type octet (set the E flag separately).
    pub fn set_next_extension_header_type(&mut self, header_type: ExtensionHeaderType) {
        self.set_octet(field::NEXT_EXTENSION_HEADER_TYPE, header_type.value());
    }

    /// The payload, writable (to build a T-PDU in place).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let offset = self.payload_offset();
        let end = self.message_len();
        self.buffer.as_mut().get_mut(offset..end).unwrap_or(&mut [])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The whole buffer, for as long as it is borrowed.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.buffer.as_ref()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// Check a whole datagram as [`Packet::new_checked`] does, calling `visit` on each
/// extension header of the chain (once, in order), and return where the payload is:
/// from after the extension headers to the end of the message the Length field
/// declares (octets after it are trailing, not payload). The fast path and the view
/// share it, so both accept the same datagrams.
#[inline]
pub(crate) fn walk(
    buf: &[u8],
    mut visit: impl FnMut(ExtensionHeader<'_>) -> Result<(), Error>,
) -> Result<Range<usize>, Error> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        return Err(Error::Truncated {
            needed: HEADER_LEN,
            got: buf.len(),
        });
    };
    let flags = header[field::FLAGS];
    let version = flags >> field::VERSION_SHIFT;
    if version != 1 {
        return Err(Error::UnsupportedVersion(version));
    }
    if flags & field::PT == 0 {
        return Err(Error::GtpPrime);
    }
    // TS 29.281 §5.1: the Length counts the octets after the mandatory 8. More octets
    // than that in the datagram are trailing (padding), fewer is a broken message.
    let declared = HEADER_LEN + usize::from(u16::from_be_bytes([header[2], header[3]]));
    let Some(message) = buf.get(..declared) else {
        return Err(Error::Truncated {
            needed: declared,
            got: buf.len(),
        });
    };
    if flags & (field::E | field::S | field::PN) == 0 {
        return Ok(HEADER_LEN..declared);
    }
    if message.len() < LONG_HEADER_LEN {
        return Err(Error::Truncated {
            needed: LONG_HEADER_LEN,
            got: message.len(),
        });
    }
    if flags & field::E == 0 {
        return Ok(LONG_HEADER_LEN..declared);
    }
    // The chain lives inside the message: a header running into the trailing octets
    // is truncated, not completed by them.
    let mut chain = ExtensionHeaders::new(message);
    for h in &mut chain {
        visit(h?)?;
    }
    Ok(chain.pos..declared)
}

/// The extension header chain (TS 29.281 §5.2): yields each header's type and
/// content, and stops after the first broken one (a zero length, or one that runs
/// past the end of the message).
#[derive(Debug, Clone)]
pub struct ExtensionHeaders<'a> {
    buf: &'a [u8],
    pos: usize,
    next: ExtensionHeaderType,
}

impl<'a> ExtensionHeaders<'a> {
    /// The chain of the message in `buf` (a whole GTP-U message); empty when the
    /// E flag is clear.
    pub fn new(buf: &'a [u8]) -> ExtensionHeaders<'a> {
        let flags = buf.first().copied().unwrap_or(0);
        let next = match buf.get(field::NEXT_EXTENSION_HEADER_TYPE) {
            Some(&t) if flags & field::E != 0 => ExtensionHeaderType::from(t),
            _ => ExtensionHeaderType::NoMoreExtensionHeaders,
        };
        ExtensionHeaders {
            buf,
            pos: field::EXTENSIONS,
            next,
        }
    }
}

impl<'a> Iterator for ExtensionHeaders<'a> {
    type Item = Result<ExtensionHeader<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let header_type = self.next;
        if header_type == ExtensionHeaderType::NoMoreExtensionHeaders {
            return None;
        }
        // Whatever happens below, this header is the last one yielded unless it
        // parses: a broken chain cannot be walked further.
        self.next = ExtensionHeaderType::NoMoreExtensionHeaders;
        let Some(&units) = self.buf.get(self.pos) else {
            return Some(Err(Error::Truncated {
                needed: self.pos + 1,
                got: self.buf.len(),
            }));
        };
        if units == 0 {
            return Some(Err(Error::BadExtensionHeader {
                header_type: header_type.value(),
            }));
        }
        let end = self.pos + 4 * usize::from(units);
        let Some(octets) = self.buf.get(self.pos..end) else {
            return Some(Err(Error::Truncated {
                needed: end,
                got: self.buf.len(),
            }));
        };
        // units >= 1: at least 4 octets, so the split always succeeds.
        let (&next, content) = octets[1..].split_last()?;
        self.pos = end;
        self.next = ExtensionHeaderType::from(next);
        Some(Ok(ExtensionHeader { header_type, content }))
    }
}

impl core::iter::FusedIterator for ExtensionHeaders<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    // go-gtp (MIT), gtpv1/message/header_test.go "WithSequenceAndNPDUAndExtensionHeaders":
    // an Echo Request with S, PN and E set, sequence 0xcafe, N-PDU 0xff, two UDP
    // Port extension headers (port 8888) and 4 octets after them.
    static GO_GTP_ALL_FLAGS: [u8; 24] = [
        0x37, 0x01, 0x00, 0x10, 0xde, 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xff, 0x40, 0x01, 0x22, 0xb8, 0x40, 0x01, 0x22,
        0xb8, 0x00, 0xde, 0xad, 0xbe, 0xef,
    ];
    // srsRAN Project, tests/unittests/gtpu/gtpu_test_shared.h gtpu_ping_two_ext_vec
    // (first 20 octets, i.e. up to the T-PDU): a G-PDU with a PDCP PDU Number
    // (0xC0, number 1) then a DL PDU Session Container (QFI 1).
    static SRSRAN_TWO_EXT_HEADER: [u8; 20] = [
        0x34, 0xff, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xc0, 0x01, 0x00, 0x01, 0x85, 0x01, 0x00,
        0x01, 0x00,
    ];

    #[test]
    fn decode_all_flags() {
        let p = Packet::new_checked(&GO_GTP_ALL_FLAGS[..]).unwrap();
        assert_eq!(p.version(), 1);
        assert_eq!(p.protocol_type(), 1);
        assert!(p.extension_header_flag() && p.sequence_number_flag() && p.n_pdu_number_flag());
        assert_eq!(p.message_type(), MessageType::EchoRequest);
        assert_eq!(p.length(), 16);
        assert_eq!(p.teid(), 0xdeadbeef);
        assert_eq!(p.sequence_number(), Some(0xcafe));
        assert_eq!(p.n_pdu_number(), Some(0xff));
        assert_eq!(p.next_extension_header_type(), ExtensionHeaderType::UdpPort);
        assert_eq!(p.header_len(), 12);
        let exts: Vec<_> = p.extension_headers().map(|h| h.unwrap()).collect();
        assert_eq!(exts.len(), 2);
        assert!(exts.iter().all(|h| h.header_type == ExtensionHeaderType::UdpPort));
        assert!(exts.iter().all(|h| h.content == [0x22, 0xb8]));
        assert_eq!(p.payload_offset(), 20);
        assert_eq!(p.payload(), [0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn decode_chain_of_two_types() {
        let mut b = SRSRAN_TWO_EXT_HEADER;
        b[3] = 12; // the header alone: Length = 4 optional + 8 of extensions
        let p = Packet::new_checked(&b[..]).unwrap();
        let exts: Vec<_> = p.extension_headers().map(|h| h.unwrap()).collect();
        assert_eq!(exts[0].header_type, ExtensionHeaderType::PdcpPduNumber);
        assert_eq!(exts[0].content, [0x00, 0x01]);
        assert_eq!(exts[1].header_type, ExtensionHeaderType::PduSessionContainer);
        assert_eq!(exts[1].content, [0x00, 0x01]);
        assert_eq!(p.payload(), []);
    }

    #[test]
    fn setters_write_the_known_octets() {
        let mut b = [0u8; 24];
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_version(1);
        p.set_protocol_type(1);
        p.set_extension_header_flag(true);
        p.set_sequence_number_flag(true);
        p.set_n_pdu_number_flag(true);
        p.set_message_type(MessageType::EchoRequest);
        p.set_length(16);
        p.set_teid(0xdeadbeef);
        p.set_sequence_number(0xcafe);
        p.set_n_pdu_number(0xff);
        p.set_next_extension_header_type(ExtensionHeaderType::UdpPort);
        p.payload_mut(); // chain not written yet: walks to the end, no panic
        let b = p.into_inner();
        b[12..].copy_from_slice(&GO_GTP_ALL_FLAGS[12..]);
        assert_eq!(*b, GO_GTP_ALL_FLAGS);
    }

    #[test]
    fn comprehension_bits() {
        use Comprehension::*;
        assert_eq!(ExtensionHeaderType::UdpPort.comprehension(), NotRequiredDiscard);
        assert_eq!(
            ExtensionHeaderType::ServiceClassIndicator.comprehension(),
            NotRequiredForward
        );
        assert_eq!(
            ExtensionHeaderType::PduSessionContainer.comprehension(),
            RequiredByEndpoint
        );
        assert_eq!(ExtensionHeaderType::PdcpPduNumber.comprehension(), Required);
        assert!(!ExtensionHeaderType::PduSessionContainer.unsupported_by_endpoint());
        assert!(ExtensionHeaderType::from(0x86).unsupported_by_endpoint());
        assert!(ExtensionHeaderType::from(0xc1).unsupported_by_endpoint());
        assert!(!ExtensionHeaderType::from(0x41).unsupported_by_endpoint());
    }

    #[test]
    fn broken_headers() {
        // every truncation fails, never panics
        for n in 0..GO_GTP_ALL_FLAGS.len() {
            let e = Packet::new_checked(&GO_GTP_ALL_FLAGS[..n]).unwrap_err();
            assert!(matches!(e, Error::Truncated { .. }), "{n}: {e:?}");
        }
        // version 2 (a GTPv2-C header) and GTP'
        let mut v2 = GO_GTP_ALL_FLAGS;
        v2[0] = 0x48;
        assert_eq!(Packet::new_checked(&v2[..]).unwrap_err(), Error::UnsupportedVersion(2));
        let mut prime = GO_GTP_ALL_FLAGS;
        prime[0] &= !0x10;
        assert_eq!(Packet::new_checked(&prime[..]).unwrap_err(), Error::GtpPrime);
        // an extension header of length 0
        let mut zero = GO_GTP_ALL_FLAGS;
        zero[16] = 0;
        assert_eq!(
            Packet::new_checked(&zero[..]).unwrap_err(),
            Error::BadExtensionHeader { header_type: 0x40 }
        );
        // a chain that runs past the Length field: the second header claims 2 units
        let mut past = GO_GTP_ALL_FLAGS;
        past[16] = 3;
        assert!(matches!(Packet::new_checked(&past[..]), Err(Error::Truncated { .. })));
        // go-gtp's "ExtFlagSetButMissingExt": E set, a next type, no extension header
        let missing = [0x36, 0x03, 0x00, 0x04, 0, 0, 0, 0, 0x00, 0x06, 0xff, 0xc1];
        assert!(matches!(
            Packet::new_checked(&missing[..]),
            Err(Error::Truncated { .. })
        ));
        // flags set but Length too short for the optional octets
        let short = [0x32, 0x01, 0x00, 0x00, 0, 0, 0, 0];
        assert_eq!(
            Packet::new_checked(&short[..]).unwrap_err(),
            Error::Truncated { needed: 12, got: 8 }
        );
    }

    #[test]
    fn trailing_octets_are_not_part_of_the_message() {
        // The go-gtp message with four octets of zero padding after it, as open5gs's
        // test gNB sends G-PDUs: the Length field (16) still says where it ends.
        let mut padded = GO_GTP_ALL_FLAGS.to_vec();
        padded.extend_from_slice(&[0; 4]);
        let p = Packet::new_checked(&padded[..]).unwrap();
        assert_eq!(p.message_len(), 24);
        assert_eq!(p.trailing_octets(), [0; 4]);
        assert_eq!(p.extension_headers().count(), 2);
        assert_eq!(p.payload_offset(), 20);
        assert_eq!(p.payload(), [0xde, 0xad, 0xbe, 0xef]);
        // Without padding there is nothing trailing.
        let exact = Packet::new_checked(&GO_GTP_ALL_FLAGS[..]).unwrap();
        assert_eq!(exact.trailing_octets(), []);
        // A chain that runs past the Length field is truncated even when trailing
        // octets could complete it: the second UDP Port header claims 3 units, 16..28.
        let mut past = padded.clone();
        past[16] = 3;
        assert_eq!(
            Packet::new_checked(&past[..]).unwrap_err(),
            Error::Truncated { needed: 28, got: 24 }
        );
        // A Length that runs past the datagram stays an error, padded or not.
        let mut long = padded;
        long[3] = 21; // declares 29 octets, the datagram has 28
        assert_eq!(
            Packet::new_checked(&long[..]).unwrap_err(),
            Error::Truncated { needed: 29, got: 28 }
        );
    }

    #[test]
    fn unchecked_accessors_do_not_panic() {
        for n in 0..GO_GTP_ALL_FLAGS.len() {
            let p = Packet::new_unchecked(&GO_GTP_ALL_FLAGS[..n]);
            let _ = (p.teid(), p.sequence_number(), p.n_pdu_number(), p.length());
            let _ = (
                p.next_extension_header_type(),
                p.payload(),
                p.extension_headers().count(),
            );
            let mut b = GO_GTP_ALL_FLAGS[..n].to_vec();
            let mut w = Packet::new_unchecked(&mut b[..]);
            w.set_teid(1);
            w.set_sequence_number(2);
            w.set_next_extension_header_type(ExtensionHeaderType::PduSessionContainer);
            let _ = w.payload_mut();
        }
    }
}
