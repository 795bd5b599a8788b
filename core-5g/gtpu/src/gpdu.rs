//! The UPF's hot path: find TEID, QFI and the inner packet of a received G-PDU,
//! and write a G-PDU header in front of a packet already in a buffer. Neither
//! allocates nor copies the payload.
//!
//! ```
//! use hexcore_gtpu::{encap_in_place, parse_gpdu, MAX_ENCAP_HEADER_LEN};
//!
//! // Downlink: read the TUN packet at an offset that leaves room for the header…
//! let mut buf = [0u8; 2048];
//! let ip = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 45, 0, 1, 10, 45, 0, 2];
//! buf[MAX_ENCAP_HEADER_LEN..][..ip.len()].copy_from_slice(&ip);
//! // …and put the header right in front of it.
//! let frame = encap_in_place(&mut buf, MAX_ENCAP_HEADER_LEN, ip.len(), 0x1234, Some(9)).unwrap();
//! let datagram = &buf[frame];
//!
//! // Uplink (here: the same datagram): TEID, QFI and where the inner packet is.
//! let g = parse_gpdu(datagram).unwrap();
//! assert_eq!((g.teid, g.qfi), (0x1234, Some(9)));
//! assert_eq!(&datagram[g.payload], ip);
//! ```

use core::ops::Range;

use crate::error::Error;
use crate::header::{self, HEADER_LEN, MessageType};

/// Octets of the header [`encap_in_place`] writes without a PDU Session Container.
pub const ENCAP_HEADER_LEN: usize = HEADER_LEN;
/// Octets of the header [`encap_in_place`] writes with a PDU Session Container:
/// 8 mandatory, 4 optional, 4 of container. Reading the payload at this offset
/// always leaves enough headroom.
pub const MAX_ENCAP_HEADER_LEN: usize = 16;

/// What the UPF needs from a received G-PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpduView {
    /// The TEID: the UPF's own F-TEID for this tunnel.
    pub teid: u32,
    /// The QFI of the first PDU Session Container (DL or UL), if any.
    pub qfi: Option<u8>,
    /// The sequence number, when the S flag is set.
    pub sequence_number: Option<u16>,
    /// Where the T-PDU (the inner packet) is in the datagram: up to the end of the
    /// message the Length field declares.
    pub payload: Range<usize>,
    /// Octets in the datagram after that message (padding some senders add, see
    /// [`Packet`](crate::Packet)): not part of the T-PDU, to be counted by the caller.
    pub trailing_octets: usize,
}

/// Check a received datagram and, if it is a G-PDU, find its TEID, QFI and T-PDU.
///
/// The checks are those of [`Packet::new_checked`](crate::Packet::new_checked),
/// plus the Endpoint Receiver's rule of TS 29.281 §5.2.1: an extension header of
/// an unknown type marked comprehension-required fails with
/// [`Error::UnsupportedExtensionHeader`] (discard, answer with a Supported
/// Extension Headers Notification). A well-formed signalling message fails with
/// [`Error::NotGpdu`]: decode it with [`Repr::parse`](crate::Repr::parse).
#[inline]
pub fn parse_gpdu(buf: &[u8]) -> Result<GpduView, Error> {
    let mut qfi = None;
    let payload = header::walk(buf, |h| {
        if h.header_type.unsupported_by_endpoint() {
            return Err(Error::UnsupportedExtensionHeader(h.header_type.value()));
        }
        if qfi.is_none() {
            qfi = h.qfi();
        }
        Ok(())
    })?;
    // walk checked the 8 mandatory octets, and the optional ones when flagged.
    let message_type = MessageType::from(buf[1]);
    if message_type != MessageType::GPdu {
        return Err(Error::NotGpdu(message_type));
    }
    let sequence_number = (buf[0] & 0x02 != 0).then(|| u16::from_be_bytes([buf[8], buf[9]]));
    Ok(GpduView {
        teid: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
        qfi,
        sequence_number,
        trailing_octets: buf.len() - payload.end,
        payload,
    })
}

/// Write a downlink G-PDU header right before the `payload_len` octets at
/// `payload_start` in `buf`, and return the range of the whole datagram.
///
/// With `qfi`, the header carries a PDU Session Container with DL PDU SESSION
/// INFORMATION (PDU type 0, TS 38.415 §5.5.2.1; no PPI, RQI 0) and needs
/// [`MAX_ENCAP_HEADER_LEN`] octets of headroom; without, [`ENCAP_HEADER_LEN`].
/// Errors: not enough headroom, a payload past the end of `buf`, a T-PDU too long
/// for the Length field, a QFI above 63.
#[inline]
pub fn encap_in_place(
    buf: &mut [u8],
    payload_start: usize,
    payload_len: usize,
    teid: u32,
    qfi: Option<u8>,
) -> Result<Range<usize>, Error> {
    encap(buf, payload_start, payload_len, teid, qfi.map(|q| (PDU_TYPE_DL, q)))
}

/// As [`encap_in_place`], for the uplink (a gNB simulator): the container, if
/// any, carries UL PDU SESSION INFORMATION (PDU type 1, TS 38.415 §5.5.2.2)
/// with no optional field.
#[inline]
pub fn encap_uplink_in_place(
    buf: &mut [u8],
    payload_start: usize,
    payload_len: usize,
    teid: u32,
    qfi: Option<u8>,
) -> Result<Range<usize>, Error> {
    encap(buf, payload_start, payload_len, teid, qfi.map(|q| (PDU_TYPE_UL, q)))
}

const PDU_TYPE_DL: u8 = 0;
const PDU_TYPE_UL: u8 = 1;

fn encap(
    buf: &mut [u8],
    payload_start: usize,
    payload_len: usize,
    teid: u32,
    container: Option<(u8, u8)>,
) -> Result<Range<usize>, Error> {
    let header_len = match container {
        Some(_) => MAX_ENCAP_HEADER_LEN,
        None => ENCAP_HEADER_LEN,
    };
    if let Some((_, qfi)) = container
        && qfi > 0x3F
    {
        return Err(Error::BadQfi(qfi));
    }
    let Some(start) = payload_start.checked_sub(header_len) else {
        return Err(Error::InsufficientHeadroom {
            needed: header_len,
            got: payload_start,
        });
    };
    let end = payload_start.saturating_add(payload_len);
    if end > buf.len() {
        return Err(Error::BufferTooSmall {
            needed: end,
            got: buf.len(),
        });
    }
    let Ok(length) = u16::try_from(end - start - HEADER_LEN) else {
        return Err(Error::TooLong(end - start));
    };
    let [l0, l1] = length.to_be_bytes();
    let [t0, t1, t2, t3] = teid.to_be_bytes();
    let gpdu = MessageType::GPdu.value();
    match container {
        None => buf[start..payload_start].copy_from_slice(&[0x30, gpdu, l0, l1, t0, t1, t2, t3]),
        // E flag; sequence 0, N-PDU 0, next 0x85; length 1, PDU type, QFI, no more.
        Some((pdu_type, qfi)) => buf[start..payload_start].copy_from_slice(&[
            0x34,
            gpdu,
            l0,
            l1,
            t0,
            t1,
            t2,
            t3,
            0,
            0,
            0,
            0x85,
            0x01,
            pdu_type << 4,
            qfi,
            0x00,
        ]),
    }
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::*;

    #[test]
    fn decode_known_gpdus() {
        let g = parse_gpdu(&SRSRAN_PING_TEID_1).unwrap();
        assert_eq!((g.teid, g.qfi, g.sequence_number), (1, None, None));
        assert_eq!(&SRSRAN_PING_TEID_1[g.payload], SRSRAN_PING_SDU);

        let g = parse_gpdu(&SRSRAN_PING_EXT).unwrap();
        assert_eq!((g.teid, g.qfi, g.payload.clone()), (1, Some(1), 16..100));
        assert_eq!(SRSRAN_PING_EXT[g.payload.start], 0x45);

        let g = parse_gpdu(&SRSRAN_PING_TWO_EXT).unwrap();
        assert_eq!((g.teid, g.qfi, g.payload.start), (1, Some(1), 20));

        let g = parse_gpdu(&SRSRAN_PING_TEID_2_QFI_1_UL).unwrap();
        assert_eq!((g.teid, g.qfi, g.payload.start), (2, Some(1), 16));
        let g = parse_gpdu(&SRSRAN_PING_TEID_2_QFI_1_DL).unwrap();
        assert_eq!((g.teid, g.qfi, g.payload.start), (2, Some(1), 16));

        let g = parse_gpdu(&GO_GTP_TPDU_QFI_5).unwrap();
        assert_eq!((g.teid, g.qfi), (0xdeadbeef, Some(5)));
        assert_eq!(&GO_GTP_TPDU_QFI_5[g.payload], [0xde, 0xad, 0xbe, 0xef]);

        assert_eq!(
            parse_gpdu(&SRSRAN_ECHO_REQUEST_SN_65535),
            Err(Error::NotGpdu(MessageType::EchoRequest))
        );
    }

    #[test]
    fn decode_padded_gpdus() {
        // srsRAN's ping with 6 zero octets after it, the shape of the G-PDUs in
        // open5gs's test capture: the T-PDU is the declared one, the rest is counted.
        let mut padded = SRSRAN_PING_EXT.to_vec();
        padded.extend_from_slice(&[0; 6]);
        let g = parse_gpdu(&padded).unwrap();
        assert_eq!((g.teid, g.qfi, g.payload.clone()), (1, Some(1), 16..100));
        assert_eq!(g.trailing_octets, 6);
        assert_eq!(&padded[g.payload], &SRSRAN_PING_EXT[16..]);
        assert_eq!(parse_gpdu(&SRSRAN_PING_EXT).unwrap().trailing_octets, 0);
        // A Length past the end of the datagram is still refused.
        let mut lying = padded;
        lying[3] = 0x63; // declares 107 octets, the datagram has 106
        assert_eq!(parse_gpdu(&lying), Err(Error::Truncated { needed: 107, got: 106 }));
    }

    #[test]
    fn encode_known_gpdus() {
        // the SDU read at offset 16, encapsulated without a container
        let mut buf = [0u8; 200];
        buf[16..16 + SRSRAN_PING_SDU.len()].copy_from_slice(&SRSRAN_PING_SDU);
        let r = encap_in_place(&mut buf, 16, SRSRAN_PING_SDU.len(), 1, None).unwrap();
        assert_eq!(buf[r], SRSRAN_PING_TEID_1);

        // with a DL container, QFI 1: srsRAN's gtpu_ping_ext_vec
        let inner = &SRSRAN_PING_EXT[16..];
        let mut buf = [0u8; 200];
        buf[16..16 + inner.len()].copy_from_slice(inner);
        let r = encap_in_place(&mut buf, 16, inner.len(), 1, Some(1)).unwrap();
        assert_eq!(buf[r], SRSRAN_PING_EXT);

        // uplink, TEID 2, QFI 1: srsRAN's gtpu_ping_vec_teid_2_qfi_1_ul
        let inner = &SRSRAN_PING_TEID_2_QFI_1_UL[16..];
        let mut buf = vec![0u8; 16 + inner.len()];
        buf[16..].copy_from_slice(inner);
        let r = encap_uplink_in_place(&mut buf, 16, inner.len(), 2, Some(1)).unwrap();
        assert_eq!(buf[r], SRSRAN_PING_TEID_2_QFI_1_UL);
    }

    #[test]
    fn round_trip_every_qfi() {
        let mut buf = [0u8; 64];
        for qfi in [None, Some(0), Some(1), Some(63)] {
            for teid in [0, 1, u32::MAX] {
                buf[16..36].fill(0x45);
                let r = encap_in_place(&mut buf, 16, 20, teid, qfi).unwrap();
                let g = parse_gpdu(&buf[r.clone()]).unwrap();
                assert_eq!((g.teid, g.qfi), (teid, qfi));
                assert_eq!(g.payload.start + r.start, 16);
                assert_eq!(g.payload.len(), 20);
            }
        }
    }

    #[test]
    fn broken_gpdus() {
        for v in [
            &SRSRAN_PING_TEID_1[..],
            &SRSRAN_PING_EXT,
            &SRSRAN_PING_TWO_EXT,
            &SRSRAN_PING_TEID_2_QFI_1_UL,
            &GO_GTP_TPDU_QFI_5,
        ] {
            for n in 0..v.len() {
                assert!(matches!(parse_gpdu(&v[..n]), Err(Error::Truncated { .. })), "{n}");
            }
        }
        // an unknown comprehension-required extension header (0x86) before the T-PDU
        let mut unknown = SRSRAN_PING_EXT;
        unknown[11] = 0x86;
        assert_eq!(parse_gpdu(&unknown), Err(Error::UnsupportedExtensionHeader(0x86)));
        assert_eq!(
            Error::UnsupportedExtensionHeader(0x86).peer_action(),
            crate::PeerAction::SendSupportedExtensionHeadersNotification
        );
        // an unknown type that may be ignored (0x06) is walked over
        unknown[11] = 0x06;
        assert_eq!(parse_gpdu(&unknown).unwrap().qfi, None);
    }

    #[test]
    fn encap_errors() {
        let mut buf = [0u8; 40];
        assert_eq!(
            encap_in_place(&mut buf, 8, 10, 1, Some(1)),
            Err(Error::InsufficientHeadroom { needed: 16, got: 8 })
        );
        assert_eq!(
            encap_in_place(&mut buf, 16, 30, 1, None),
            Err(Error::BufferTooSmall { needed: 46, got: 40 })
        );
        assert_eq!(encap_in_place(&mut buf, 16, 4, 1, Some(64)), Err(Error::BadQfi(64)));
        assert_eq!(
            encap_in_place(&mut buf, 16, usize::MAX, 1, None),
            Err(Error::BufferTooSmall {
                needed: usize::MAX,
                got: 40
            })
        );
        let mut big = vec![0u8; 70_000];
        assert_eq!(
            encap_in_place(&mut big, 8, 65_536, 1, None),
            Err(Error::TooLong(65_544))
        );
        assert!(encap_in_place(&mut big, 8, 65_535, 1, None).is_ok());
    }
}
