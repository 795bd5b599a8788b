//! Extension headers (TS 29.281 §5.2.2) and the PDU Session Container they carry
//! on N3/N9 (TS 38.415 §5.5.2).
//!
//! On the wire each extension header is: a length in 4-octet units, the content,
//! and the type of the next header. [`ExtensionHeader`] is that as received;
//! [`Extension`] is the typed form a [`Repr`](crate::Repr) holds.

use crate::error::Error;
use crate::header::ExtensionHeaderType;

/// One extension header as received: its type and its content (the octets between
/// the length octet and the next-type octet, padding included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionHeader<'a> {
    /// The type, from the previous header's next-type octet.
    pub header_type: ExtensionHeaderType,
    /// The content: 4n - 2 octets for a received header of length n.
    pub content: &'a [u8],
}

impl<'a> ExtensionHeader<'a> {
    /// Octets on the wire: length octet, content padded to 4n - 2, next type.
    pub fn buffer_len(&self) -> usize {
        padded_len(self.content.len())
    }

    /// The source UDP port of the message that triggered an Error Indication
    /// (§5.2.2.1).
    pub fn udp_port(&self) -> Option<u16> {
        match (self.header_type, self.content) {
            (ExtensionHeaderType::UdpPort, &[a, b]) => Some(u16::from_be_bytes([a, b])),
            _ => None,
        }
    }

    /// The PDCP PDU Number (§5.2.2.2).
    pub fn pdcp_pdu_number(&self) -> Option<u16> {
        match (self.header_type, self.content) {
            (ExtensionHeaderType::PdcpPduNumber, &[a, b]) => Some(u16::from_be_bytes([a, b])),
            _ => None,
        }
    }

    /// The 18-bit Long PDCP PDU Number (§5.2.2.2A), of either type code.
    pub fn long_pdcp_pdu_number(&self) -> Option<u32> {
        match (self.header_type, self.content) {
            (
                ExtensionHeaderType::LongPdcpPduNumber | ExtensionHeaderType::LongPdcpPduNumberNotRequired,
                &[a, b, c, _, _, _],
            ) => Some(u32::from_be_bytes([0, a & 0x03, b, c])),
            _ => None,
        }
    }

    /// The Service Class Indicator (§5.2.2.3).
    pub fn service_class_indicator(&self) -> Option<u8> {
        match (self.header_type, self.content) {
            (ExtensionHeaderType::ServiceClassIndicator, &[sci, _]) => Some(sci),
            _ => None,
        }
    }

    /// The PDU Session Container's PDU session information (TS 38.415 §5.5.2),
    /// when it is a DL or UL one whose flagged fields are all there.
    pub fn pdu_session_information(&self) -> Option<PduSessionInformation<'a>> {
        match self.header_type {
            ExtensionHeaderType::PduSessionContainer => PduSessionInformation::parse(self.content),
            _ => None,
        }
    }

    /// The QFI of a PDU Session Container, read straight from its second octet
    /// (TS 38.415 §5.5.2.1, §5.5.2.2: the same place for DL and UL), whatever the
    /// optional fields say. `None` for other headers and other PDU types.
    #[inline]
    pub fn qfi(&self) -> Option<u8> {
        match (self.header_type, self.content) {
            (ExtensionHeaderType::PduSessionContainer, &[octet1, octet2, ..]) if octet1 >> 4 <= 1 => {
                Some(octet2 & 0x3F)
            }
            _ => None,
        }
    }
}

/// An extension header in a [`Repr`](crate::Repr): typed when its type is one this
/// crate reads and its content parses, otherwise kept as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension<'a> {
    /// PDU Session Container (0x85) with DL or UL PDU session information.
    PduSessionContainer(PduSessionInformation<'a>),
    /// UDP Port (0x40).
    UdpPort(u16),
    /// PDCP PDU Number (0xC0).
    PdcpPduNumber(u16),
    /// Service Class Indicator (0x20); the spare octet is sent as 0.
    ServiceClassIndicator(u8),
    /// Any other header (RAN containers, Long PDCP PDU Number, unknown types,
    /// PDU Session Containers of another PDU type or with missing fields). A
    /// content that is not 4n - 2 octets long is padded with zeros when emitted.
    Other(ExtensionHeader<'a>),
}

impl<'a> Extension<'a> {
    /// The typed form of a received header.
    pub fn from_header(h: ExtensionHeader<'a>) -> Extension<'a> {
        match h.header_type {
            ExtensionHeaderType::PduSessionContainer => match h.pdu_session_information() {
                Some(info) => Extension::PduSessionContainer(info),
                None => Extension::Other(h),
            },
            ExtensionHeaderType::UdpPort => match h.udp_port() {
                Some(port) => Extension::UdpPort(port),
                None => Extension::Other(h),
            },
            ExtensionHeaderType::PdcpPduNumber => match h.pdcp_pdu_number() {
                Some(n) => Extension::PdcpPduNumber(n),
                None => Extension::Other(h),
            },
            ExtensionHeaderType::ServiceClassIndicator => match h.service_class_indicator() {
                Some(sci) => Extension::ServiceClassIndicator(sci),
                None => Extension::Other(h),
            },
            _ => Extension::Other(h),
        }
    }

    /// The type written in the previous header's next-type octet.
    pub fn header_type(&self) -> ExtensionHeaderType {
        match self {
            Extension::PduSessionContainer(_) => ExtensionHeaderType::PduSessionContainer,
            Extension::UdpPort(_) => ExtensionHeaderType::UdpPort,
            Extension::PdcpPduNumber(_) => ExtensionHeaderType::PdcpPduNumber,
            Extension::ServiceClassIndicator(_) => ExtensionHeaderType::ServiceClassIndicator,
            Extension::Other(h) => h.header_type,
        }
    }

    fn content_len(&self) -> usize {
        match self {
            Extension::PduSessionContainer(info) => info.content_len(),
            Extension::UdpPort(_) | Extension::PdcpPduNumber(_) | Extension::ServiceClassIndicator(_) => 2,
            Extension::Other(h) => h.content.len(),
        }
    }

    /// Octets on the wire: a multiple of 4.
    pub fn buffer_len(&self) -> usize {
        padded_len(self.content_len())
    }

    /// Can it be encoded: is its length below 256 units of 4 octets?
    pub(crate) fn check_encodable(&self) -> Result<(), Error> {
        if self.buffer_len() / 4 > usize::from(u8::MAX) {
            return Err(Error::TooLong(self.buffer_len()));
        }
        Ok(())
    }

    /// Write the header (length, content, zero padding, `next`) into `out`, which
    /// is exactly [`Extension::buffer_len`] octets.
    pub(crate) fn emit(&self, out: &mut [u8], next: ExtensionHeaderType) {
        let Some((last, body)) = out.split_last_mut() else {
            return;
        };
        *last = next.value();
        let Some((units, content)) = body.split_first_mut() else {
            return;
        };
        // check_encodable ran first: the length fits.
        *units = u8::try_from(padded_len(self.content_len()) / 4).unwrap_or(u8::MAX);
        content.fill(0);
        match self {
            Extension::PduSessionContainer(info) => info.emit(content),
            Extension::UdpPort(v) | Extension::PdcpPduNumber(v) => copy(content, &v.to_be_bytes()),
            Extension::ServiceClassIndicator(sci) => copy(content, &[*sci]),
            Extension::Other(h) => copy(content, h.content),
        }
    }
}

/// PDU session information, the content of a PDU Session Container
/// (TS 38.415 §5.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PduSessionInformation<'a> {
    /// DL PDU SESSION INFORMATION (PDU Type 0), from the UPF towards the gNB.
    Downlink(DlPduSessionInformation),
    /// UL PDU SESSION INFORMATION (PDU Type 1), from the gNB towards the UPF.
    Uplink(UlPduSessionInformation<'a>),
}

/// DL PDU SESSION INFORMATION (TS 38.415 §5.5.2.1). Spare bits are ignored when
/// read and sent as 0; values are masked to their field width when emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DlPduSessionInformation {
    /// QoS Flow Identifier (6 bits).
    pub qfi: u8,
    /// Reflective QoS Indicator (RQI).
    pub rqi: bool,
    /// Paging Policy Indicator (3 bits); present iff the PPP flag is set.
    pub ppi: Option<u8>,
    /// DL Sending Time Stamp (QMP flag; NTP format, 8 octets).
    pub dl_sending_time_stamp: Option<u64>,
    /// DL QFI Sequence Number (SNP flag; 3 octets).
    pub dl_qfi_sequence_number: Option<u32>,
    /// DL MBS QFI Sequence Number (MSNP flag; 4 octets, Rel-17).
    pub dl_mbs_qfi_sequence_number: Option<u32>,
}

/// UL PDU SESSION INFORMATION (TS 38.415 §5.5.2.2). The QFI and the flags of the
/// first two octets are typed; the fields they announce (time stamps, delay
/// results, sequence number, new IEs) are kept raw in `optional`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UlPduSessionInformation<'a> {
    /// QoS Flow Identifier (6 bits).
    pub qfi: u8,
    /// QoS Monitoring Packet (QMP): three time stamps follow.
    pub qmp: bool,
    /// DL Delay Ind.: a DL Delay Result follows.
    pub dl_delay_ind: bool,
    /// UL Delay Ind.: a UL Delay Result follows.
    pub ul_delay_ind: bool,
    /// Sequence Number Presence (SNP): a UL QFI Sequence Number follows.
    pub snp: bool,
    /// N3/N9 Delay Ind.: an N3/N9 Delay Result follows.
    pub n3_n9_delay_ind: bool,
    /// New IE Flag: a New IE Flags octet follows.
    pub new_ie_flag: bool,
    /// The octets after the first two, as received: the announced fields, then
    /// the padding.
    pub optional: &'a [u8],
}

const PDU_TYPE_DL: u8 = 0;
const PDU_TYPE_UL: u8 = 1;

impl<'a> PduSessionInformation<'a> {
    /// Parse a PDU Session Container's content. `None` for another PDU type, or
    /// when a flagged DL field is missing.
    pub fn parse(content: &'a [u8]) -> Option<PduSessionInformation<'a>> {
        let (&o1, rest) = content.split_first()?;
        let (&o2, rest) = rest.split_first()?;
        let qfi = o2 & 0x3F;
        match o1 >> 4 {
            PDU_TYPE_DL => {
                let mut r = rest;
                let ppi = if o2 & 0x80 != 0 {
                    Some(take::<1>(&mut r)?[0] >> 5)
                } else {
                    None
                };
                let dl_sending_time_stamp = take_if::<8>(flag(o1, 0x08), &mut r)?.map(u64::from_be_bytes);
                let dl_qfi_sequence_number =
                    take_if::<3>(flag(o1, 0x04), &mut r)?.map(|[a, b, c]| u32::from_be_bytes([0, a, b, c]));
                let dl_mbs_qfi_sequence_number = take_if::<4>(flag(o1, 0x02), &mut r)?.map(u32::from_be_bytes);
                Some(PduSessionInformation::Downlink(DlPduSessionInformation {
                    qfi,
                    rqi: o2 & 0x40 != 0,
                    ppi,
                    dl_sending_time_stamp,
                    dl_qfi_sequence_number,
                    dl_mbs_qfi_sequence_number,
                }))
            }
            PDU_TYPE_UL => Some(PduSessionInformation::Uplink(UlPduSessionInformation {
                qfi,
                qmp: flag(o1, 0x08),
                dl_delay_ind: flag(o1, 0x04),
                ul_delay_ind: flag(o1, 0x02),
                snp: flag(o1, 0x01),
                n3_n9_delay_ind: flag(o2, 0x80),
                new_ie_flag: flag(o2, 0x40),
                optional: rest,
            })),
            _ => None,
        }
    }

    /// The QoS Flow Identifier.
    pub fn qfi(&self) -> u8 {
        match self {
            PduSessionInformation::Downlink(dl) => dl.qfi,
            PduSessionInformation::Uplink(ul) => ul.qfi,
        }
    }

    /// Octets of content before padding.
    fn content_len(&self) -> usize {
        match self {
            PduSessionInformation::Downlink(dl) => {
                2 + usize::from(dl.ppi.is_some())
                    + dl.dl_sending_time_stamp.map_or(0, |_| 8)
                    + dl.dl_qfi_sequence_number.map_or(0, |_| 3)
                    + dl.dl_mbs_qfi_sequence_number.map_or(0, |_| 4)
            }
            PduSessionInformation::Uplink(ul) => 2 + ul.optional.len(),
        }
    }

    /// Write the content into `out` (at least `content_len` zeroed octets).
    fn emit(&self, out: &mut [u8]) {
        let mut w = Writer { out, pos: 0 };
        match self {
            PduSessionInformation::Downlink(dl) => {
                let o1 = (PDU_TYPE_DL << 4)
                    | bit(dl.dl_sending_time_stamp.is_some(), 0x08)
                    | bit(dl.dl_qfi_sequence_number.is_some(), 0x04)
                    | bit(dl.dl_mbs_qfi_sequence_number.is_some(), 0x02);
                let o2 = bit(dl.ppi.is_some(), 0x80) | bit(dl.rqi, 0x40) | (dl.qfi & 0x3F);
                w.put(&[o1, o2]);
                if let Some(ppi) = dl.ppi {
                    w.put(&[(ppi & 0x07) << 5]);
                }
                if let Some(ts) = dl.dl_sending_time_stamp {
                    w.put(&ts.to_be_bytes());
                }
                if let Some(sn) = dl.dl_qfi_sequence_number {
                    w.put(&sn.to_be_bytes()[1..]);
                }
                if let Some(sn) = dl.dl_mbs_qfi_sequence_number {
                    w.put(&sn.to_be_bytes());
                }
            }
            PduSessionInformation::Uplink(ul) => {
                let o1 = (PDU_TYPE_UL << 4)
                    | bit(ul.qmp, 0x08)
                    | bit(ul.dl_delay_ind, 0x04)
                    | bit(ul.ul_delay_ind, 0x02)
                    | bit(ul.snp, 0x01);
                let o2 = bit(ul.n3_n9_delay_ind, 0x80) | bit(ul.new_ie_flag, 0x40) | (ul.qfi & 0x3F);
                w.put(&[o1, o2]);
                w.put(ul.optional);
            }
        }
    }
}

/// Octets of an extension header with `content_len` octets of content: length
/// octet + content + next type, rounded up to a multiple of 4 (§5.2.1).
pub(crate) fn padded_len(content_len: usize) -> usize {
    (content_len + 2).div_ceil(4) * 4
}

fn flag(octet: u8, mask: u8) -> bool {
    octet & mask != 0
}

fn bit(on: bool, mask: u8) -> u8 {
    if on { mask } else { 0 }
}

fn take<const N: usize>(r: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = r.split_first_chunk::<N>()?;
    *r = rest;
    Some(*head)
}

/// A field present when its flag is set: `None` when flagged but missing,
/// `Some(None)` when not flagged.
fn take_if<const N: usize>(flagged: bool, r: &mut &[u8]) -> Option<Option<[u8; N]>> {
    if flagged { take::<N>(r).map(Some) } else { Some(None) }
}

fn copy(out: &mut [u8], from: &[u8]) {
    let n = from.len().min(out.len());
    out[..n].copy_from_slice(&from[..n]);
}

struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.pos..self.pos + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.pos += bytes.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Contents of PDU Session Containers seen in real G-PDUs: srsRAN Project,
    // tests/unittests/gtpu/gtpu_test_shared.h (gtpu_ping_ext_vec: DL, QFI 1;
    // gtpu_ping_vec_teid_2_qfi_1_ul: UL, QFI 1) and go-gtp (MIT),
    // gtpv1/message/t-pdu_test.go "With-ExtensionHeader" (DL, QFI 5).
    static SRSRAN_DL_QFI_1: [u8; 2] = [0x00, 0x01];
    static SRSRAN_UL_QFI_1: [u8; 2] = [0x10, 0x01];
    static GO_GTP_DL_QFI_5: [u8; 2] = [0x00, 0x05];

    fn psc(content: &[u8]) -> ExtensionHeader<'_> {
        ExtensionHeader {
            header_type: ExtensionHeaderType::PduSessionContainer,
            content,
        }
    }

    fn emit(e: &Extension<'_>, next: ExtensionHeaderType) -> Vec<u8> {
        let mut out = vec![0xAA; e.buffer_len()];
        e.emit(&mut out, next);
        out
    }

    #[test]
    fn decode_pdu_session_containers() {
        let dl = psc(&SRSRAN_DL_QFI_1).pdu_session_information().unwrap();
        assert_eq!(
            dl,
            PduSessionInformation::Downlink(DlPduSessionInformation {
                qfi: 1,
                ..Default::default()
            })
        );
        let PduSessionInformation::Uplink(ul) = psc(&SRSRAN_UL_QFI_1).pdu_session_information().unwrap() else {
            panic!()
        };
        assert_eq!((ul.qfi, ul.qmp, ul.snp, ul.optional), (1, false, false, &[][..]));
        assert_eq!(psc(&GO_GTP_DL_QFI_5).qfi(), Some(5));
        assert_eq!(psc(&SRSRAN_UL_QFI_1).qfi(), Some(1));
    }

    #[test]
    fn encode_pdu_session_containers() {
        let dl = Extension::PduSessionContainer(PduSessionInformation::Downlink(DlPduSessionInformation {
            qfi: 1,
            ..Default::default()
        }));
        // length 1, content, next type
        assert_eq!(
            emit(&dl, ExtensionHeaderType::NoMoreExtensionHeaders),
            [0x01, 0x00, 0x01, 0x00]
        );
        let ul = Extension::PduSessionContainer(PduSessionInformation::Uplink(UlPduSessionInformation {
            qfi: 1,
            ..Default::default()
        }));
        assert_eq!(
            emit(&ul, ExtensionHeaderType::NoMoreExtensionHeaders),
            [0x01, 0x10, 0x01, 0x00]
        );
    }

    // TS 38.415 §5.5.2.1: DL with PPP (PPI 5), RQI, QFI 9, QMP (time stamp), SNP
    // (sequence number 0x010203); 2 + 1 + 8 + 3 = 14 octets, padding to 4n - 2 = 14.
    #[test]
    fn dl_optional_fields_round_trip() {
        let info = DlPduSessionInformation {
            qfi: 9,
            rqi: true,
            ppi: Some(5),
            dl_sending_time_stamp: Some(0x0102_0304_0506_0708),
            dl_qfi_sequence_number: Some(0x01_0203),
            dl_mbs_qfi_sequence_number: None,
        };
        let e = Extension::PduSessionContainer(PduSessionInformation::Downlink(info));
        let wire = emit(&e, ExtensionHeaderType::NoMoreExtensionHeaders);
        assert_eq!(
            wire,
            [0x04, 0x0c, 0xc9, 0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 0x02, 0x03, 0x00]
        );
        let h = psc(&wire[1..wire.len() - 1]);
        assert_eq!(Extension::from_header(h), e);
        // with PPP only, 3 octets are padded to 6
        let ppi_only = Extension::PduSessionContainer(PduSessionInformation::Downlink(DlPduSessionInformation {
            qfi: 9,
            ppi: Some(7),
            ..Default::default()
        }));
        let wire = emit(&ppi_only, ExtensionHeaderType::UdpPort);
        assert_eq!(wire, [0x02, 0x00, 0x89, 0xe0, 0, 0, 0, 0x40]);
        assert_eq!(Extension::from_header(psc(&wire[1..7])), ppi_only);
    }

    #[test]
    fn other_headers() {
        let udp = ExtensionHeader {
            header_type: ExtensionHeaderType::UdpPort,
            content: &[0x22, 0xb8],
        };
        assert_eq!(Extension::from_header(udp), Extension::UdpPort(8888));
        assert_eq!(
            emit(&Extension::UdpPort(8888), ExtensionHeaderType::UdpPort),
            [0x01, 0x22, 0xb8, 0x40]
        );
        let long = ExtensionHeader {
            header_type: ExtensionHeaderType::LongPdcpPduNumber,
            content: &[0xff, 0x12, 0x34, 0, 0, 0],
        };
        assert_eq!(long.long_pdcp_pdu_number(), Some(0x3_1234));
        assert_eq!(Extension::from_header(long), Extension::Other(long));
        let sci = ExtensionHeader {
            header_type: ExtensionHeaderType::ServiceClassIndicator,
            content: &[0x2a, 0x00],
        };
        assert_eq!(Extension::from_header(sci), Extension::ServiceClassIndicator(0x2a));
        // an Other content that is not 4n - 2 octets is padded
        let odd = Extension::Other(ExtensionHeader {
            header_type: ExtensionHeaderType::NrRanContainer,
            content: &[1, 2, 3],
        });
        assert_eq!(
            emit(&odd, ExtensionHeaderType::NoMoreExtensionHeaders),
            [2, 1, 2, 3, 0, 0, 0, 0]
        );
    }

    #[test]
    fn broken_containers_stay_raw() {
        // DL with QMP set but no time stamp, a PDU type 2, a 1-octet content
        for content in [&[0x08, 0x01][..], &[0x20, 0x01], &[0x00]] {
            let h = psc(content);
            assert_eq!(h.pdu_session_information(), None);
            assert_eq!(Extension::from_header(h), Extension::Other(h));
        }
        // the fast QFI read still works when only optional fields are missing
        assert_eq!(psc(&[0x08, 0x07]).qfi(), Some(7));
        assert_eq!(psc(&[0x20, 0x07]).qfi(), None);
    }
}
