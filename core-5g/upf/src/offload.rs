//! TUN offloads on the downlink (IFF_VNET_HDR, TUNSETOFFLOAD with CSUM and USO4):
//! the kernel hands the UPF a UDP super-packet — many datagrams of one flow in one
//! read — or a packet whose checksum it left partial. This module turns them back
//! into the IP packets the UE must receive, one by one, so that every one of them
//! is matched against the rules and counted like any other (the super-packet saves
//! system calls, not rule work).
//!
//! Pure byte work on buffers the worker owns: no allocation.

use hexcore_netdev::{GsoType, VnetHeader};

/// Why a packet from the TUN cannot be made whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OffloadError {
    /// The virtio-net header or the headers it describes do not fit the packet.
    #[error("inconsistent virtio-net header")]
    BadHeader,
    /// A segmentation type this UPF did not ask for (TCP, UFO, IPv6).
    #[error("unsupported GSO type")]
    Unsupported,
    /// The output buffer is too small for a segment.
    #[error("segment does not fit the buffer")]
    NoRoom,
}

/// One's-complement sum of `data` added to `sum` (RFC 1071).
pub fn checksum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    sum
}

/// Fold and complement.
pub fn checksum_finish(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Finish a partial checksum in place (`NEEDS_CSUM`: the field at `csum_start +
/// csum_offset` holds the pseudo-header sum; the sum from `csum_start` on goes in).
pub fn complete_checksum(h: &VnetHeader, packet: &mut [u8]) -> Result<(), OffloadError> {
    if !h.needs_csum() {
        return Ok(());
    }
    let start = usize::from(h.csum_start);
    let at = start + usize::from(h.csum_offset);
    if at + 2 > packet.len() || start > packet.len() {
        return Err(OffloadError::BadHeader);
    }
    let mut c = checksum_finish(checksum_add(0, &packet[start..]));
    if c == 0 && packet.get(9) == Some(&17) {
        // UDP sends a computed 0 as 0xffff (RFC 768).
        c = 0xffff;
    }
    packet[at..at + 2].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

/// Split an IPv4 UDP super-packet (`GsoType::UdpL4`) into datagrams of
/// `gso_size` payload octets, writing each, with its own IPv4 header (total
/// length, identification, checksum) and UDP header (length, checksum), at
/// `out[at..]`, and calling `each(out, at, len)`.
pub fn split_udp4(
    h: &VnetHeader,
    packet: &[u8],
    out: &mut [u8],
    at: usize,
    mut each: impl FnMut(&mut [u8], usize, usize),
) -> Result<usize, OffloadError> {
    if h.gso_type != GsoType::UdpL4 {
        return Err(OffloadError::Unsupported);
    }
    let ihl = usize::from(packet.first().ok_or(OffloadError::BadHeader)? & 0x0F) * 4;
    if packet[0] >> 4 != 4 || ihl < 20 || packet.len() < ihl + 8 || packet[9] != 17 {
        return Err(OffloadError::Unsupported);
    }
    let hdr = ihl + 8;
    let seg = usize::from(h.gso_size);
    if seg == 0 {
        return Err(OffloadError::BadHeader);
    }
    let payload = &packet[hdr..];
    let id = u16::from_be_bytes([packet[4], packet[5]]);
    let mut n = 0;
    for (i, chunk) in payload.chunks(seg).enumerate() {
        let len = hdr + chunk.len();
        let o = out.get_mut(at..at + len).ok_or(OffloadError::NoRoom)?;
        o[..hdr].copy_from_slice(&packet[..hdr]);
        o[hdr..].copy_from_slice(chunk);
        // IPv4: total length, identification, checksum.
        o[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        o[4..6].copy_from_slice(&id.wrapping_add(i as u16).to_be_bytes());
        o[10..12].copy_from_slice(&[0, 0]);
        let c = checksum_finish(checksum_add(0, &o[..ihl]));
        o[10..12].copy_from_slice(&c.to_be_bytes());
        // UDP: length and checksum over the pseudo header.
        let ulen = (8 + chunk.len()) as u16;
        o[ihl + 4..ihl + 6].copy_from_slice(&ulen.to_be_bytes());
        o[ihl + 6..ihl + 8].copy_from_slice(&[0, 0]);
        let mut sum = checksum_add(0, &o[12..20]);
        sum = sum.wrapping_add(17).wrapping_add(u32::from(ulen));
        let mut c = checksum_finish(checksum_add(sum, &o[ihl..]));
        if c == 0 {
            c = 0xffff;
        }
        o[ihl + 6..ihl + 8].copy_from_slice(&c.to_be_bytes());
        each(out, at, len);
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp4(payload: &[u8]) -> Vec<u8> {
        let total = 28 + payload.len();
        let mut p = vec![0u8; total];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[4..6].copy_from_slice(&0x1000u16.to_be_bytes());
        p[8] = 64;
        p[9] = 17;
        p[12..16].copy_from_slice(&[198, 51, 100, 1]);
        p[16..20].copy_from_slice(&[10, 45, 0, 7]);
        p[20..22].copy_from_slice(&53u16.to_be_bytes());
        p[22..24].copy_from_slice(&4000u16.to_be_bytes());
        p[24..26].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        p[28..].copy_from_slice(payload);
        p
    }

    fn valid(p: &[u8]) -> bool {
        let ip_ok = checksum_finish(checksum_add(0, &p[..20])) == 0;
        let mut sum = checksum_add(0, &p[12..20]);
        sum = sum
            .wrapping_add(17)
            .wrapping_add(u32::from(u16::from_be_bytes([p[24], p[25]])));
        let udp_ok = checksum_finish(checksum_add(sum, &p[20..])) == 0;
        ip_ok && udp_ok
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        let sum = checksum_add(0, &[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(checksum_finish(sum), !0xddf2);
    }

    #[test]
    fn split_a_super_packet_into_valid_datagrams() {
        let payload: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
        let sp = udp4(&payload);
        let h = VnetHeader::udp_segments(20, 1000);
        let mut out = vec![0u8; 4096];
        let mut got = Vec::new();
        let n = split_udp4(&h, &sp, &mut out, 16, |o, at, len| got.push(o[at..at + len].to_vec())).unwrap();
        assert_eq!(n, 3);
        assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [1028, 1028, 528]);
        let mut joined = Vec::new();
        for (i, g) in got.iter().enumerate() {
            assert!(valid(g), "segment {i}");
            assert_eq!(u16::from_be_bytes([g[4], g[5]]), 0x1000 + i as u16);
            assert_eq!(&g[12..24], &sp[12..24]);
            joined.extend_from_slice(&g[28..]);
        }
        assert_eq!(joined, payload);
        // A TCP super-packet is not ours to split; a buffer too small is refused.
        let mut t = h;
        t.gso_type = GsoType::TcpV4;
        assert_eq!(
            split_udp4(&t, &sp, &mut out, 0, |_, _, _| {}),
            Err(OffloadError::Unsupported)
        );
        assert_eq!(
            split_udp4(&h, &sp, &mut [0u8; 500], 0, |_, _, _| {}),
            Err(OffloadError::NoRoom)
        );
        assert_eq!(
            split_udp4(&h, &sp[..10], &mut out, 0, |_, _, _| {}),
            Err(OffloadError::Unsupported)
        );
    }

    #[test]
    fn partial_checksum_completed() {
        let mut p = udp4(b"partial checksum");
        // What the kernel leaves: the pseudo-header sum, not complemented.
        let mut sum = checksum_add(0, &p[12..20]);
        sum = sum
            .wrapping_add(17)
            .wrapping_add(u32::from(u16::from_be_bytes([p[24], p[25]])));
        let partial = !checksum_finish(sum);
        p[26..28].copy_from_slice(&partial.to_be_bytes());
        let mut h = VnetHeader::udp_segments(20, 0);
        h.gso_type = GsoType::None;
        let ip_sum = checksum_finish(checksum_add(0, &p[..20]));
        p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
        complete_checksum(&h, &mut p).unwrap();
        assert!(valid(&p));
        h.csum_offset = 200;
        assert_eq!(complete_checksum(&h, &mut p), Err(OffloadError::BadHeader));
    }
}
