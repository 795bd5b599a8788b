//! Control messages (`struct cmsghdr`, cmsg(3)) as bytes: the walker that finds the
//! `UDP_GRO` segment size in what `recvmmsg` returned, and the encoder of the
//! `UDP_SEGMENT` cmsg for a GSO send. Pure functions; `raw.rs` moves the bytes.
//!
//! Layout (glibc, Linux): `cmsg_len` (`size_t`, header plus data), `cmsg_level`
//! (`int`), `cmsg_type` (`int`), data at `CMSG_LEN(0)`; each message starts at a
//! multiple of `size_of::<size_t>()` (`CMSG_ALIGN`).

use std::mem::size_of;

use crate::sys::{SOL_UDP, UDP_GRO, UDP_SEGMENT};

/// `CMSG_ALIGN` unit: the size of `size_t`.
const ALIGN: usize = size_of::<usize>();
/// `CMSG_LEN(0)`: the header, aligned.
const HDR: usize = (size_of::<usize>() + 2 * size_of::<i32>()).next_multiple_of(ALIGN);

/// `CMSG_SPACE(2)`: room the `UDP_SEGMENT` cmsg takes in a control buffer.
pub(crate) const UDP_SEGMENT_SPACE: usize = HDR + 2usize.next_multiple_of(ALIGN);

/// One control message: level, type and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cmsg<'a> {
    pub level: i32,
    pub kind: i32,
    pub data: &'a [u8],
}

/// Walks the control messages in `control` (the `msg_controllen` bytes the kernel
/// wrote). Stops at the first header that is short or runs past the end.
pub(crate) fn iter(control: &[u8]) -> impl Iterator<Item = Cmsg<'_>> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let rest = control.get(at..)?;
        let len = usize::from_ne_bytes(rest.get(..ALIGN)?.try_into().ok()?);
        let level = i32::from_ne_bytes(rest.get(ALIGN..ALIGN + 4)?.try_into().ok()?);
        let kind = i32::from_ne_bytes(rest.get(ALIGN + 4..ALIGN + 8)?.try_into().ok()?);
        if len < HDR {
            return None;
        }
        let data = rest.get(HDR..len)?;
        at = at.checked_add(len.checked_next_multiple_of(ALIGN)?)?;
        Some(Cmsg { level, kind, data })
    })
}

/// The segment size of a coalesced datagram: the `UDP_GRO` cmsg (data: an `int`, see
/// `udp_cmsg_recv` in include/net/udp.h). `None` when there is none: the datagram is
/// one segment.
pub(crate) fn gro_segment_size(control: &[u8]) -> Option<usize> {
    let c = iter(control).find(|c| c.level == SOL_UDP && c.kind == UDP_GRO)?;
    let size = match c.data.len() {
        4.. => i32::from_ne_bytes(c.data[..4].try_into().ok()?),
        // Older kernels and other stacks may hand a __u16.
        2 | 3 => i32::from(u16::from_ne_bytes(c.data[..2].try_into().ok()?)),
        _ => return None,
    };
    usize::try_from(size).ok().filter(|&s| s > 0)
}

/// Writes a `UDP_SEGMENT` cmsg (data: a `__u16`; the kernel insists on
/// `cmsg_len == CMSG_LEN(2)`, net/ipv4/udp.c `__udp_cmsg_send`) at the start of `buf`
/// and returns the bytes to hand to `sendmsg` (`CMSG_SPACE(2)`), or 0 if `buf` is
/// too short.
pub(crate) fn encode_udp_segment(buf: &mut [u8], segment_size: u16) -> usize {
    let Some(out) = buf.get_mut(..UDP_SEGMENT_SPACE) else {
        return 0;
    };
    out.fill(0);
    out[..ALIGN].copy_from_slice(&(HDR + 2).to_ne_bytes());
    out[ALIGN..ALIGN + 4].copy_from_slice(&SOL_UDP.to_ne_bytes());
    out[ALIGN + 4..ALIGN + 8].copy_from_slice(&UDP_SEGMENT.to_ne_bytes());
    out[HDR..HDR + 2].copy_from_slice(&segment_size.to_ne_bytes());
    UDP_SEGMENT_SPACE
}

#[cfg(all(test, target_pointer_width = "64", target_endian = "little"))]
mod tests {
    use super::*;

    // The UDP_GRO cmsg Linux 6.18 wrote (x86-64, recvmmsg on loopback, captured while
    // running tests/it/udp.rs) for 8 coalesced 1200-byte segments: cmsg_len 20 = CMSG_LEN(sizeof(int)), level SOL_UDP (17),
    // type UDP_GRO (104), data 1200 (0x04b0) as an int, padded to CMSG_SPACE = 24.
    static GRO_1200: [u8; 24] = [
        0x14, 0, 0, 0, 0, 0, 0, 0, // cmsg_len
        0x11, 0, 0, 0, // cmsg_level
        0x68, 0, 0, 0, // cmsg_type
        0xb0, 0x04, 0, 0, // int gso_size
        0, 0, 0, 0, // padding
    ];

    // The same cmsg as the C forwarder upf_dl.c builds it for UDP_SEGMENT 1208:
    // cmsg_len 18 = CMSG_LEN(2), level 17, type 103, __u16 0x04b8.
    static SEGMENT_1208: [u8; 24] = [
        0x12, 0, 0, 0, 0, 0, 0, 0, //
        0x11, 0, 0, 0, //
        0x67, 0, 0, 0, //
        0xb8, 0x04, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn decode_gro_segment_size() {
        assert_eq!(gro_segment_size(&GRO_1200), Some(1200));
        let all: Vec<_> = iter(&GRO_1200).collect();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].level, all[0].kind, all[0].data.len()), (17, 104, 4));
    }

    #[test]
    fn gro_after_another_cmsg() {
        // An IP_TOS cmsg (level 0 IPPROTO_IP, type 1, one byte) first, then UDP_GRO.
        let mut buf = vec![
            17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0, 0, 0,
        ];
        buf.extend_from_slice(&GRO_1200);
        assert_eq!(iter(&buf).count(), 2);
        assert_eq!(gro_segment_size(&buf), Some(1200));
    }

    #[test]
    fn encode_udp_segment_known_bytes() {
        let mut buf = [0xaau8; 64];
        assert_eq!(encode_udp_segment(&mut buf, 1208), 24);
        assert_eq!(buf[..24], SEGMENT_1208);
        assert_eq!(buf[24], 0xaa, "nothing written past CMSG_SPACE(2)");
        assert_eq!(encode_udp_segment(&mut [0u8; 23], 1), 0);
    }

    #[test]
    fn round_trip_through_the_walker() {
        let mut buf = [0u8; 24];
        let n = encode_udp_segment(&mut buf, 1400);
        let c = iter(&buf[..n]).next().unwrap();
        assert_eq!((c.level, c.kind), (SOL_UDP, UDP_SEGMENT));
        assert_eq!(c.data, 1400u16.to_ne_bytes());
    }

    #[test]
    fn broken_control_data() {
        assert_eq!(gro_segment_size(&[]), None);
        assert_eq!(gro_segment_size(&GRO_1200[..15]), None, "short header");
        assert_eq!(gro_segment_size(&GRO_1200[..19]), None, "data cut off");
        let mut zero_len = GRO_1200;
        zero_len[0] = 0;
        assert_eq!(iter(&zero_len).count(), 0, "cmsg_len below the header stops the walk");
        let mut huge = GRO_1200;
        huge[..8].copy_from_slice(&usize::MAX.to_ne_bytes());
        assert_eq!(iter(&huge).count(), 0);
        let mut zero_size = GRO_1200;
        zero_size[16] = 0;
        zero_size[17] = 0;
        assert_eq!(gro_segment_size(&zero_size), None);
        // Random bytes never panic.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut noise = [0u8; 48];
            for b in &mut noise {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            noise[0] = (x % 64) as u8;
            let _ = iter(&noise).count();
            let _ = gro_segment_size(&noise);
        }
    }
}
