//! The high-level form of a GTP-U message (TS 29.281 §7): header fields, typed
//! extension headers and the message body, borrowed from the received octets.
//!
//! `Repr::parse` then `Repr::emit` gives back the same `Repr`; the octets are the
//! same too when the message was encoded canonically (spare bits 0, mandatory IEs
//! first, extension contents without extra padding), which every capture in the
//! tests is.

use std::net::IpAddr;

use crate::error::Error;
use crate::extension::Extension;
use crate::header::{self, ExtensionHeaderType, ExtensionHeaders, HEADER_LEN, LONG_HEADER_LEN, MessageType, Packet};
use crate::ie::{self, Ie, IeType, Ies};

/// A GTP-U message: the header fields that are not derived from the rest, the
/// extension headers and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repr<'a> {
    /// The TEID (0 in Echo and Supported Extension Headers Notification, §5.1).
    pub teid: u32,
    /// The sequence number; `Some` sets the S flag (§5.1: set in Echo Request,
    /// Echo Response, Error Indication and Supported Extension Headers
    /// Notification).
    pub sequence_number: Option<u16>,
    /// The N-PDU number; `Some` sets the PN flag.
    pub n_pdu_number: Option<u8>,
    /// The extension headers, in chain order; non-empty sets the E flag.
    pub extensions: Vec<Extension<'a>>,
    /// The message.
    pub message: Message<'a>,
}

/// The body of a GTP-U message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// Echo Request (§7.2.1).
    EchoRequest(EchoRequest<'a>),
    /// Echo Response (§7.2.2).
    EchoResponse(EchoResponse<'a>),
    /// Error Indication (§7.3.1).
    ErrorIndication(ErrorIndication<'a>),
    /// Supported Extension Headers Notification (§7.2.3).
    SupportedExtensionHeadersNotification(SupportedExtensionHeadersNotification<'a>),
    /// End Marker (§7.3.2).
    EndMarker(EndMarker<'a>),
    /// G-PDU: the T-PDU, a user's IP (or Ethernet, unstructured) packet.
    GPdu(&'a [u8]),
    /// Any other message type (Tunnel Status, unknown ones), body kept raw.
    Other {
        /// The message type.
        message_type: MessageType,
        /// The octets after the header and extension headers.
        body: &'a [u8],
    },
}

/// Echo Request (§7.2.1): no mandatory IE.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EchoRequest<'a> {
    /// Optional and unknown IEs (Private Extension…), in received order.
    pub optional_ies: Vec<Ie<'a>>,
}

/// Echo Response (§7.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EchoResponse<'a> {
    /// The Recovery IE's restart counter. §7.2.2: the sender sets it to 0 and the
    /// receiver ignores it (GTP-U restarts are not detected this way).
    pub restart_counter: u8,
    /// Optional and unknown IEs, and repeated Recovery IEs, in received order.
    pub optional_ies: Vec<Ie<'a>>,
}

/// Error Indication (§7.3.1): sent back for a G-PDU whose TEID has no context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorIndication<'a> {
    /// Tunnel Endpoint Identifier Data I: the TEID of the G-PDU that triggered it.
    pub teid_data_i: u32,
    /// GTP-U Peer Address: the destination address of that G-PDU.
    pub gtpu_peer_address: IpAddr,
    /// Optional and unknown IEs (Private Extension…), in received order.
    pub optional_ies: Vec<Ie<'a>>,
}

/// Supported Extension Headers Notification (§7.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SupportedExtensionHeadersNotification<'a> {
    /// The Extension Header Type List: the types the sender supports.
    pub extension_header_types: Vec<ExtensionHeaderType>,
    /// Optional and unknown IEs, in received order.
    pub optional_ies: Vec<Ie<'a>>,
}

/// End Marker (§7.3.2): the last G-PDU on a path, sent at a path switch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndMarker<'a> {
    /// Optional and unknown IEs (Private Extension…), in received order.
    pub optional_ies: Vec<Ie<'a>>,
}

impl<'a> Repr<'a> {
    /// Parse a message. The packet is checked again (so `new_unchecked` ones are
    /// safe too); the T-PDU, IE values and raw extension contents are borrowed.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>, Error> {
        let buf: &'a [u8] = packet.bytes();
        let payload = header::walk(buf, |_| Ok(()))?;
        // The message ends where its Length says; trailing octets are not part of it.
        let message = buf.get(..payload.end).unwrap_or(buf);
        let extensions = ExtensionHeaders::new(message)
            .map(|h| h.map(Extension::from_header))
            .collect::<Result<Vec<_>, _>>()?;
        let body = buf.get(payload).unwrap_or(&[]);
        let message_type = packet.message_type();
        let message = match message_type {
            MessageType::GPdu => Message::GPdu(body),
            MessageType::EchoRequest => Message::EchoRequest(EchoRequest {
                optional_ies: Ies::new(body).collect::<Result<_, _>>()?,
            }),
            MessageType::EchoResponse => {
                let (recovery, optional_ies) = split_mandatory(body, IeType::Recovery)?;
                let recovery = recovery.ok_or(Error::MissingMandatoryIe("Recovery"))?;
                Message::EchoResponse(EchoResponse {
                    restart_counter: recovery.value.first().copied().unwrap_or(0),
                    optional_ies,
                })
            }
            MessageType::ErrorIndication => {
                let mut teid = None;
                let mut peer = None;
                let mut optional_ies = Vec::new();
                for ie in Ies::new(body) {
                    let ie = ie?;
                    match ie.ie_type {
                        IeType::TeidDataI if teid.is_none() => teid = Some(ie),
                        IeType::GtpuPeerAddress if peer.is_none() => peer = Some(ie),
                        _ => optional_ies.push(ie),
                    }
                }
                let teid = teid.ok_or(Error::MissingMandatoryIe("Tunnel Endpoint Identifier Data I"))?;
                let peer = peer.ok_or(Error::MissingMandatoryIe("GTP-U Peer Address"))?;
                let teid_data_i =
                    <[u8; 4]>::try_from(teid.value)
                        .map(u32::from_be_bytes)
                        .map_err(|_| Error::BadIeLength {
                            ie: "Tunnel Endpoint Identifier Data I",
                        })?;
                Message::ErrorIndication(ErrorIndication {
                    teid_data_i,
                    gtpu_peer_address: ie::peer_address(peer.value)?,
                    optional_ies,
                })
            }
            MessageType::SupportedExtensionHeadersNotification => {
                let (list, optional_ies) = split_mandatory(body, IeType::ExtensionHeaderTypeList)?;
                let list = list.ok_or(Error::MissingMandatoryIe("Extension Header Type List"))?;
                Message::SupportedExtensionHeadersNotification(SupportedExtensionHeadersNotification {
                    extension_header_types: list.value.iter().map(|&t| ExtensionHeaderType::from(t)).collect(),
                    optional_ies,
                })
            }
            MessageType::EndMarker => Message::EndMarker(EndMarker {
                optional_ies: Ies::new(body).collect::<Result<_, _>>()?,
            }),
            MessageType::TunnelStatus | MessageType::Unknown(_) => Message::Other { message_type, body },
        };
        let (s, pn) = (packet.sequence_number(), packet.n_pdu_number());
        Ok(Repr {
            teid: packet.teid(),
            sequence_number: s,
            n_pdu_number: pn,
            extensions,
            message,
        })
    }

    /// An Echo Request (§7.2.1): TEID 0, S flag set.
    pub fn echo_request(sequence_number: u16) -> Repr<'static> {
        Repr::signalling(0, sequence_number, Message::EchoRequest(EchoRequest::default()))
    }

    /// The Echo Response to an Echo Request with this sequence number (§7.2.2):
    /// TEID 0, the request's sequence number, restart counter 0.
    pub fn echo_response(sequence_number: u16) -> Repr<'static> {
        Repr::signalling(0, sequence_number, Message::EchoResponse(EchoResponse::default()))
    }

    /// An Error Indication (§7.3.1) for a G-PDU that arrived for `teid` at
    /// `local_address` (this node's address: the G-PDU's destination). The
    /// header's TEID is 0: the tunnel is named by the TEID Data I IE. Add
    /// [`Extension::UdpPort`] with the G-PDU's source port when the peer asked for
    /// it (§5.2.2.1).
    pub fn error_indication(teid: u32, local_address: IpAddr, sequence_number: u16) -> Repr<'static> {
        Repr::signalling(
            0,
            sequence_number,
            Message::ErrorIndication(ErrorIndication {
                teid_data_i: teid,
                gtpu_peer_address: local_address,
                optional_ies: Vec::new(),
            }),
        )
    }

    /// A G-PDU carrying `t_pdu` to the peer's `teid`, without extension headers.
    pub fn gpdu(teid: u32, t_pdu: &'a [u8]) -> Repr<'a> {
        Repr {
            teid,
            sequence_number: None,
            n_pdu_number: None,
            extensions: Vec::new(),
            message: Message::GPdu(t_pdu),
        }
    }

    fn signalling(teid: u32, sequence_number: u16, message: Message<'a>) -> Repr<'a> {
        Repr {
            teid,
            sequence_number: Some(sequence_number),
            n_pdu_number: None,
            extensions: Vec::new(),
            message,
        }
    }

    /// The message type written in the header.
    pub fn message_type(&self) -> MessageType {
        match &self.message {
            Message::EchoRequest(_) => MessageType::EchoRequest,
            Message::EchoResponse(_) => MessageType::EchoResponse,
            Message::ErrorIndication(_) => MessageType::ErrorIndication,
            Message::SupportedExtensionHeadersNotification(_) => MessageType::SupportedExtensionHeadersNotification,
            Message::EndMarker(_) => MessageType::EndMarker,
            Message::GPdu(_) => MessageType::GPdu,
            Message::Other { message_type, .. } => *message_type,
        }
    }

    fn has_optional_octets(&self) -> bool {
        self.sequence_number.is_some() || self.n_pdu_number.is_some() || !self.extensions.is_empty()
    }

    fn header_len(&self) -> usize {
        let base = if self.has_optional_octets() {
            LONG_HEADER_LEN
        } else {
            HEADER_LEN
        };
        base + self.extensions.iter().map(Extension::buffer_len).sum::<usize>()
    }

    fn body_len(&self) -> usize {
        let ies = |ies: &[Ie<'_>]| ies.iter().map(Ie::buffer_len).sum::<usize>();
        match &self.message {
            Message::EchoRequest(m) => ies(&m.optional_ies),
            Message::EchoResponse(m) => 2 + ies(&m.optional_ies),
            Message::ErrorIndication(m) => {
                let addr = match m.gtpu_peer_address {
                    IpAddr::V4(_) => 4,
                    IpAddr::V6(_) => 16,
                };
                5 + 3 + addr + ies(&m.optional_ies)
            }
            Message::SupportedExtensionHeadersNotification(m) => {
                2 + m.extension_header_types.len() + ies(&m.optional_ies)
            }
            Message::EndMarker(m) => ies(&m.optional_ies),
            Message::GPdu(t_pdu) => t_pdu.len(),
            Message::Other { body, .. } => body.len(),
        }
    }

    /// Octets of the encoded message.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.body_len()
    }

    /// Can it be encoded: does everything fit its length field?
    fn check_encodable(&self) -> Result<(), Error> {
        let len = self.buffer_len();
        if len - HEADER_LEN > usize::from(u16::MAX) {
            return Err(Error::TooLong(len));
        }
        for e in &self.extensions {
            e.check_encodable()?;
        }
        let ies = match &self.message {
            Message::EchoRequest(m) => &m.optional_ies[..],
            Message::EchoResponse(m) => &m.optional_ies,
            Message::ErrorIndication(m) => &m.optional_ies,
            Message::SupportedExtensionHeadersNotification(m) => {
                if m.extension_header_types.len() > usize::from(u8::MAX) {
                    return Err(Error::TooLong(m.extension_header_types.len()));
                }
                &m.optional_ies
            }
            Message::EndMarker(m) => &m.optional_ies,
            Message::GPdu(_) | Message::Other { .. } => &[],
        };
        ies.iter().try_for_each(Ie::check_encodable)
    }

    /// Encode into the packet's buffer, which must hold at least
    /// [`Repr::buffer_len`] octets (octets past that are left untouched and are
    /// not part of the message). Never fails for a buffer of `buffer_len()`
    /// octets and a `Repr` whose lists fit their length fields, which every
    /// parsed one does; values are masked to their field width.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<(), Error> {
        self.check_encodable()?;
        let len = self.buffer_len();
        let buf = packet.bytes_mut();
        let got = buf.len();
        let Some(out) = buf.get_mut(..len) else {
            return Err(Error::BufferTooSmall { needed: len, got });
        };
        let mut w = Writer::new(out);
        let flags = 0x30
            | if self.extensions.is_empty() { 0 } else { 0x04 }
            | if self.sequence_number.is_some() { 0x02 } else { 0 }
            | if self.n_pdu_number.is_some() { 0x01 } else { 0 };
        w.u8(flags);
        w.u8(self.message_type().value());
        w.u16(u16::try_from(len - HEADER_LEN).unwrap_or(u16::MAX));
        w.u32(self.teid);
        if self.has_optional_octets() {
            w.u16(self.sequence_number.unwrap_or(0));
            w.u8(self.n_pdu_number.unwrap_or(0));
            w.u8(self.extensions.first().map_or(0, |e| e.header_type().value()));
        }
        for (i, e) in self.extensions.iter().enumerate() {
            let next = self
                .extensions
                .get(i + 1)
                .map_or(ExtensionHeaderType::NoMoreExtensionHeaders, Extension::header_type);
            e.emit(w.take(e.buffer_len()), next);
        }
        let emit_ies = |w: &mut Writer<'_>, ies: &[Ie<'_>]| ies.iter().for_each(|ie| ie.emit(w));
        match &self.message {
            Message::EchoRequest(m) => emit_ies(&mut w, &m.optional_ies),
            Message::EchoResponse(m) => {
                Ie::new(IeType::Recovery, &[m.restart_counter]).emit(&mut w);
                emit_ies(&mut w, &m.optional_ies);
            }
            Message::ErrorIndication(m) => {
                Ie::new(IeType::TeidDataI, &m.teid_data_i.to_be_bytes()).emit(&mut w);
                match m.gtpu_peer_address {
                    IpAddr::V4(a) => Ie::new(IeType::GtpuPeerAddress, &a.octets()).emit(&mut w),
                    IpAddr::V6(a) => Ie::new(IeType::GtpuPeerAddress, &a.octets()).emit(&mut w),
                }
                emit_ies(&mut w, &m.optional_ies);
            }
            Message::SupportedExtensionHeadersNotification(m) => {
                w.u8(IeType::ExtensionHeaderTypeList.value());
                w.u8(u8::try_from(m.extension_header_types.len()).unwrap_or(u8::MAX));
                for t in &m.extension_header_types {
                    w.u8(t.value());
                }
                emit_ies(&mut w, &m.optional_ies);
            }
            Message::EndMarker(m) => emit_ies(&mut w, &m.optional_ies),
            Message::GPdu(t_pdu) => w.put(t_pdu),
            Message::Other { body, .. } => w.put(body),
        }
        Ok(())
    }

    /// Encode into a new vector of [`Repr::buffer_len`] octets.
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut v = vec![0; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut v[..]))?;
        Ok(v)
    }
}

/// Take the first IE of type `mandatory` out of a body; the others, in order.
fn split_mandatory<'a>(body: &'a [u8], mandatory: IeType) -> Result<(Option<Ie<'a>>, Vec<Ie<'a>>), Error> {
    let mut found = None;
    let mut rest = Vec::new();
    for ie in Ies::new(body) {
        let ie = ie?;
        if ie.ie_type == mandatory && found.is_none() {
            found = Some(ie);
        } else {
            rest.push(ie);
        }
    }
    Ok((found, rest))
}

/// A cursor over an output buffer sized by `buffer_len`: writes past its end are
/// dropped instead of panicking (they cannot happen when the sizes agree).
pub(crate) struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl<'o> Writer<'o> {
    pub(crate) fn new(out: &'o mut [u8]) -> Writer<'o> {
        Writer { out, pos: 0 }
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if let Some(dst) = self.out.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
        }
        self.pos = end;
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }

    /// The next `n` octets, to be written by someone else.
    pub(crate) fn take(&mut self, n: usize) -> &mut [u8] {
        let start = self.pos.min(self.out.len());
        let end = (self.pos + n).min(self.out.len());
        self.pos += n;
        &mut self.out[start..end]
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::extension::{DlPduSessionInformation, PduSessionInformation, UlPduSessionInformation};
    use crate::tests::*;

    // GO_GTP_ALL_FLAGS with message type G-PDU.
    static GO_GTP_ALL_FLAGS_AS_GPDU: [u8; 24] = {
        let mut b = GO_GTP_ALL_FLAGS;
        b[1] = 0xff;
        b
    };

    fn parse(b: &[u8]) -> Result<Repr<'_>, Error> {
        Repr::parse(&Packet::new_checked(b)?)
    }

    fn dl(qfi: u8) -> Extension<'static> {
        Extension::PduSessionContainer(PduSessionInformation::Downlink(DlPduSessionInformation {
            qfi,
            ..Default::default()
        }))
    }

    // ---- G-PDU ----

    #[test]
    fn decode_gpdus() {
        let r = parse(&SRSRAN_PING_EXT).unwrap();
        assert_eq!(r.teid, 1);
        assert_eq!((r.sequence_number, r.n_pdu_number), (None, None));
        assert_eq!(r.extensions, [dl(1)]);
        assert_eq!(r.message, Message::GPdu(&SRSRAN_PING_EXT[16..]));

        let r = parse(&SRSRAN_PING_TWO_EXT).unwrap();
        assert_eq!(r.extensions, [Extension::PdcpPduNumber(1), dl(1)]);

        let r = parse(&SRSRAN_PING_TEID_2_QFI_1_UL).unwrap();
        assert_eq!(
            r.extensions,
            [Extension::PduSessionContainer(PduSessionInformation::Uplink(
                UlPduSessionInformation {
                    qfi: 1,
                    ..Default::default()
                }
            ))]
        );

        let r = parse(&SRSRAN_PING_TEID_1).unwrap();
        assert_eq!(r, Repr::gpdu(1, &SRSRAN_PING_SDU));
    }

    #[test]
    fn encode_gpdus() {
        // a gNB simulator's uplink: TEID 2, UL container QFI 1
        let mut up = Repr::gpdu(2, &SRSRAN_PING_TEID_2_QFI_1_UL[16..]);
        up.extensions
            .push(Extension::PduSessionContainer(PduSessionInformation::Uplink(
                UlPduSessionInformation {
                    qfi: 1,
                    ..Default::default()
                },
            )));
        assert_eq!(up.to_vec().unwrap(), SRSRAN_PING_TEID_2_QFI_1_UL);
        let mut down = Repr::gpdu(2, &SRSRAN_PING_TEID_2_QFI_1_DL[16..]);
        down.extensions.push(dl(1));
        assert_eq!(down.to_vec().unwrap(), SRSRAN_PING_TEID_2_QFI_1_DL);
        assert_eq!(Repr::gpdu(1, &SRSRAN_PING_SDU).to_vec().unwrap(), SRSRAN_PING_TEID_1);
        let mut two = Repr::gpdu(1, &SRSRAN_PING_TWO_EXT[20..]);
        two.extensions = vec![Extension::PdcpPduNumber(1), dl(1)];
        assert_eq!(two.to_vec().unwrap(), SRSRAN_PING_TWO_EXT);
    }

    #[test]
    fn gpdus_round_trip_byte_exactly() {
        for v in [
            &SRSRAN_PING_TEID_1[..],
            &SRSRAN_PING_EXT,
            &SRSRAN_PING_TWO_EXT,
            &SRSRAN_PING_TEID_2_QFI_1_UL,
            &SRSRAN_PING_TEID_2_QFI_1_DL,
            &GO_GTP_TPDU_QFI_5,
            &GO_GTP_ALL_FLAGS_AS_GPDU,
        ] {
            let r = parse(v).unwrap();
            assert_eq!(r.buffer_len(), v.len());
            assert_eq!(r.to_vec().unwrap(), v);
        }
    }

    #[test]
    fn padded_messages_decode_to_the_declared_message() {
        // Zero padding after a G-PDU (open5gs's test gNB) and after an Echo Request:
        // the Repr is the declared message's, and it re-encodes without the padding.
        for v in [&SRSRAN_PING_EXT[..], &SRSRAN_ECHO_REQUEST_SN_0] {
            let mut padded = v.to_vec();
            padded.extend_from_slice(&[0; 10]);
            let r = parse(&padded).unwrap();
            assert_eq!(r, parse(v).unwrap());
            assert_eq!(r.to_vec().unwrap(), v);
        }
        assert_eq!(
            parse(&[&SRSRAN_PING_EXT[..], &[0; 3]].concat()).unwrap().message,
            Message::GPdu(&SRSRAN_PING_EXT[16..])
        );
    }

    // ---- Echo ----

    #[test]
    fn decode_echo() {
        let req = parse(&SRSRAN_ECHO_REQUEST_SN_65535).unwrap();
        assert_eq!(req, Repr::echo_request(0xffff));
        let resp = parse(&SRSRAN_ECHO_RESPONSE_SN_0).unwrap();
        assert_eq!(resp, Repr::echo_response(0));
        let odd = parse(&GO_GTP_ECHO_RESPONSE_RECOVERY_0X80).unwrap();
        let Message::EchoResponse(m) = &odd.message else {
            panic!()
        };
        assert_eq!(m.restart_counter, 0x80);
        // go-gtp's header test is an Echo Request whose 4 payload octets are filler,
        // not IEs: 0xde reads as a TLV type with length 0xadbe
        assert_eq!(
            parse(&GO_GTP_ALL_FLAGS),
            Err(Error::Truncated {
                needed: 0xadbe + 3,
                got: 4
            })
        );
        // the same header on a G-PDU: S, PN and two UDP Port headers
        let all = parse(&GO_GTP_ALL_FLAGS_AS_GPDU).unwrap();
        assert_eq!(
            (all.teid, all.sequence_number, all.n_pdu_number),
            (0xdeadbeef, Some(0xcafe), Some(0xff))
        );
        assert_eq!(all.extensions, [Extension::UdpPort(8888), Extension::UdpPort(8888)]);
        assert_eq!(all.message, Message::GPdu(&[0xde, 0xad, 0xbe, 0xef]));
    }

    #[test]
    fn encode_echo() {
        // srsRAN's echo entity answers each request with exactly these octets
        for (req, resp) in [
            (&SRSRAN_ECHO_REQUEST_SN_0, &SRSRAN_ECHO_RESPONSE_SN_0),
            (&SRSRAN_ECHO_REQUEST_SN_65535, &SRSRAN_ECHO_RESPONSE_SN_65535),
        ] {
            let seq = parse(req).unwrap().sequence_number.unwrap();
            assert_eq!(Repr::echo_response(seq).to_vec().unwrap(), *resp);
            assert_eq!(Repr::echo_request(seq).to_vec().unwrap(), *req);
        }
    }

    // ---- Error Indication ----

    #[test]
    fn decode_error_indications() {
        let r = parse(&GO_GTP_ERROR_INDICATION).unwrap();
        assert_eq!((r.teid, r.sequence_number), (0x11223344, Some(1)));
        let Message::ErrorIndication(m) = &r.message else {
            panic!()
        };
        assert_eq!(m.teid_data_i, 0xdeadbeef);
        assert_eq!(m.gtpu_peer_address, IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1)));
        assert!(m.optional_ies.is_empty());

        let r = parse(&SCAPY_ERROR_INDICATION_V6).unwrap();
        let expected = Repr::error_indication(1234, IpAddr::V6(Ipv6Addr::new(0xfd01, 1, 0, 0, 0, 0, 0, 1)), 0);
        assert_eq!(r, expected);
    }

    #[test]
    fn encode_error_indications() {
        let v6 = Repr::error_indication(1234, "fd01:1::1".parse().unwrap(), 0);
        assert_eq!(v6.to_vec().unwrap(), SCAPY_ERROR_INDICATION_V6);
        let mut v4 = Repr::error_indication(0xdeadbeef, IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1)), 1);
        v4.teid = 0x11223344;
        assert_eq!(v4.to_vec().unwrap(), GO_GTP_ERROR_INDICATION);
        // §5.2.2.1: with the UDP Port of the G-PDU that triggered it
        v4.extensions.push(Extension::UdpPort(2152));
        let b = v4.to_vec().unwrap();
        assert_eq!(&b[8..16], [0x00, 0x01, 0x00, 0x40, 0x01, 0x08, 0x68, 0x00]);
        assert_eq!(parse(&b).unwrap(), v4);
    }

    // ---- End Marker, Supported Extension Headers Notification ----

    #[test]
    fn end_marker() {
        let r = parse(&GO_GTP_END_MARKER).unwrap();
        assert_eq!(r.message, Message::EndMarker(EndMarker::default()));
        assert_eq!((r.teid, r.sequence_number), (0, None));
        assert_eq!(r.to_vec().unwrap(), GO_GTP_END_MARKER);
        // with a Private Extension (§8.6): enterprise 10415, value "x"
        let pe = [0x28, 0xaf, b'x'];
        let with_pe = Repr {
            teid: 7,
            sequence_number: None,
            n_pdu_number: None,
            extensions: vec![],
            message: Message::EndMarker(EndMarker {
                optional_ies: vec![Ie::new(IeType::PrivateExtension, &pe)],
            }),
        };
        let b = with_pe.to_vec().unwrap();
        assert_eq!(
            b,
            [0x30, 0xfe, 0x00, 0x06, 0, 0, 0, 7, 0xff, 0x00, 0x03, 0x28, 0xaf, b'x']
        );
        let back = parse(&b).unwrap();
        let Message::EndMarker(m) = &back.message else { panic!() };
        assert_eq!(m.optional_ies[0].private_extension(), Some((10415, &b"x"[..])));
        assert_eq!(back, with_pe);
    }

    #[test]
    fn supported_extension_headers_notification() {
        let r = parse(&SEHN_SPEC).unwrap();
        let Message::SupportedExtensionHeadersNotification(m) = &r.message else {
            panic!()
        };
        assert_eq!(
            m.extension_header_types,
            [ExtensionHeaderType::PduSessionContainer, ExtensionHeaderType::UdpPort]
        );
        assert_eq!(r.to_vec().unwrap(), SEHN_SPEC);
        // go-gtp's 2-octet list length: an empty list, then octet 0x02 read as a TV IE
        assert_eq!(parse(&GO_GTP_SEHN_TWO_OCTET_LENGTH), Err(Error::UnknownTvIe(2)));
    }

    // ---- broken input ----

    #[test]
    fn truncated_everywhere() {
        for s in seeds() {
            for n in 0..s.len() {
                let r = parse(&s[..n]);
                assert!(
                    matches!(r, Err(Error::Truncated { .. })),
                    "{} at {n}: {r:?}",
                    hex::encode(s)
                );
                // Repr::parse re-checks a packet wrapped without checks
                assert!(Repr::parse(&Packet::new_unchecked(&s[..n])).is_err());
            }
        }
    }

    #[test]
    fn broken_messages() {
        // Echo Response without Recovery
        assert_eq!(
            parse(&[0x32, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 1, 0, 0]),
            Err(Error::MissingMandatoryIe("Recovery"))
        );
        // Error Indication without the peer address
        let mut no_peer = GO_GTP_ERROR_INDICATION[..17].to_vec();
        no_peer[3] = 9;
        assert_eq!(parse(&no_peer), Err(Error::MissingMandatoryIe("GTP-U Peer Address")));
        // a 5-octet peer address
        let mut bad = GO_GTP_ERROR_INDICATION.to_vec();
        bad[3] += 1;
        bad[19] = 5;
        bad.push(9);
        assert_eq!(
            parse(&bad),
            Err(Error::BadIeLength {
                ie: "GTP-U Peer Address"
            })
        );
        // an IE running past the end of the message
        let mut long_ie = GO_GTP_ERROR_INDICATION;
        long_ie[19] = 5;
        assert!(matches!(parse(&long_ie), Err(Error::Truncated { .. })));
        // unknown message types and Tunnel Status are kept raw, not refused
        let mut unknown = GO_GTP_END_MARKER;
        unknown[1] = 0x99;
        let r = parse(&unknown).unwrap();
        assert_eq!(
            r.message,
            Message::Other {
                message_type: MessageType::Unknown(0x99),
                body: &[]
            }
        );
        assert_eq!(r.to_vec().unwrap(), unknown);
    }

    #[test]
    fn emit_needs_room() {
        let r = Repr::echo_response(5);
        let mut small = [0u8; 13];
        assert_eq!(
            r.emit(&mut Packet::new_unchecked(&mut small[..])),
            Err(Error::BufferTooSmall { needed: 14, got: 13 })
        );
        // a larger buffer: the message is written at the front
        let mut large = [0xAAu8; 20];
        r.emit(&mut Packet::new_unchecked(&mut large[..])).unwrap();
        assert_eq!(parse(&large[..14]).unwrap(), r);
        let huge = vec![0u8; 70_000];
        assert_eq!(Repr::gpdu(1, &huge).to_vec(), Err(Error::TooLong(70_008)));
    }
}
