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

/// Split a UDP super-packet, IPv4 or IPv6 (the kernel enables UDP segmentation
/// offload on a TUN only for both together).
pub fn split_udp(
    h: &VnetHeader,
    packet: &[u8],
    out: &mut [u8],
    at: usize,
    each: impl FnMut(&mut [u8], usize, usize),
) -> Result<usize, OffloadError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => split_udp4(h, packet, out, at, each),
        Some(6) => split_udp6(h, packet, out, at, each),
        _ => Err(OffloadError::BadHeader),
    }
}

/// [`split_udp4`] for IPv6 (no extension headers: next header UDP).
pub fn split_udp6(
    h: &VnetHeader,
    packet: &[u8],
    out: &mut [u8],
    at: usize,
    mut each: impl FnMut(&mut [u8], usize, usize),
) -> Result<usize, OffloadError> {
    if h.gso_type != GsoType::UdpL4 || packet.len() < 48 || packet[6] != 17 {
        return Err(OffloadError::Unsupported);
    }
    let seg = usize::from(h.gso_size);
    if seg == 0 {
        return Err(OffloadError::BadHeader);
    }
    let mut n = 0;
    for chunk in packet[48..].chunks(seg) {
        let len = 48 + chunk.len();
        let o = out.get_mut(at..at + len).ok_or(OffloadError::NoRoom)?;
        o[..48].copy_from_slice(&packet[..48]);
        o[48..].copy_from_slice(chunk);
        let ulen = (8 + chunk.len()) as u16;
        // Payload Length, UDP length, checksum over the IPv6 pseudo header.
        o[4..6].copy_from_slice(&ulen.to_be_bytes());
        o[44..46].copy_from_slice(&ulen.to_be_bytes());
        o[46..48].copy_from_slice(&[0, 0]);
        let mut sum = checksum_add(0, &o[8..40]);
        sum = sum.wrapping_add(17).wrapping_add(u32::from(ulen));
        let mut c = checksum_finish(checksum_add(sum, &o[40..]));
        if c == 0 {
            c = 0xffff;
        }
        o[46..48].copy_from_slice(&c.to_be_bytes());
        each(out, at, len);
        n += 1;
    }
    Ok(n)
}

/// Uplink: consecutive IPv4/UDP packets of one flow (same addresses and ports,
/// consecutive IP identifications, equal sizes but for a shorter last one) joined
/// into one UDP super-packet, written to the TUN with a `GsoType::UdpL4` virtio-net
/// header in one system call; the kernel cuts it back into the same datagrams (IP
/// identifications and checksums as they were). Each packet has been matched and
/// counted before it joins.
#[derive(Debug)]
pub struct Coalescer {
    buf: Vec<u8>,
    len: usize,
    count: usize,
    segment: usize,
    key: [u8; 12],
    next_id: u16,
    closed: bool,
}

/// Most datagrams joined (the kernel's UDP_MAX_SEGMENTS on older kernels).
pub const MAX_COALESCED: usize = 64;

impl Default for Coalescer {
    fn default() -> Self {
        Coalescer::new()
    }
}

impl Coalescer {
    /// Room for a 64 KiB super-packet behind its virtio-net header.
    pub fn new() -> Self {
        Coalescer {
            buf: vec![0u8; VnetHeader::LEN + 65535],
            len: 0,
            count: 0,
            segment: 0,
            key: [0; 12],
            next_id: 0,
            closed: false,
        }
    }

    /// Packets held.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Add `packet` if it continues the current flow (true), else leave it (false:
    /// flush, then [`Coalescer::start`] or write it alone).
    pub fn push(&mut self, packet: &[u8]) -> bool {
        let Some((key, id, payload)) = udp4_flow(packet) else {
            return false;
        };
        if self.count == 0
            || self.closed
            || key != self.key
            || id != self.next_id
            || payload.len() > self.segment
            || self.count >= MAX_COALESCED
            || VnetHeader::LEN + self.len + payload.len() > self.buf.len()
        {
            return false;
        }
        let at = VnetHeader::LEN + self.len;
        self.buf[at..at + payload.len()].copy_from_slice(payload);
        self.len += payload.len();
        self.count += 1;
        self.next_id = id.wrapping_add(1);
        self.closed = payload.len() < self.segment;
        true
    }

    /// Start a new super-packet with `packet`; false if it cannot be one (not
    /// IPv4/UDP without options and fragments).
    pub fn start(&mut self, packet: &[u8]) -> bool {
        let Some((key, id, payload)) = udp4_flow(packet) else {
            return false;
        };
        if packet.len() + VnetHeader::LEN > self.buf.len() || payload.is_empty() {
            return false;
        }
        self.buf[VnetHeader::LEN..VnetHeader::LEN + packet.len()].copy_from_slice(packet);
        self.len = packet.len();
        self.count = 1;
        self.segment = payload.len();
        self.key = key;
        self.next_id = id.wrapping_add(1);
        self.closed = false;
        true
    }

    /// The bytes to write (virtio-net header + packet), and empty the coalescer.
    pub fn take(&mut self) -> Option<&[u8]> {
        if self.count == 0 {
            return None;
        }
        let count = self.count;
        self.count = 0;
        let total = self.len;
        let p = &mut self.buf[VnetHeader::LEN..VnetHeader::LEN + total];
        let h = if count == 1 {
            VnetHeader::NONE
        } else {
            // IPv4 total length and checksum of the super-packet (ip_rcv checks it);
            // UDP length; the UDP checksum field holds the pseudo-header sum, as
            // NEEDS_CSUM wants.
            p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            p[10..12].copy_from_slice(&[0, 0]);
            let c = checksum_finish(checksum_add(0, &p[..20]));
            p[10..12].copy_from_slice(&c.to_be_bytes());
            let ulen = (total - 20) as u16;
            p[24..26].copy_from_slice(&ulen.to_be_bytes());
            let mut sum = checksum_add(0, &p[12..20]);
            sum = sum.wrapping_add(17).wrapping_add(u32::from(ulen));
            p[26..28].copy_from_slice(&(!checksum_finish(sum)).to_be_bytes());
            VnetHeader::udp_segments(20, self.segment as u16)
        };
        h.emit(&mut self.buf[..VnetHeader::LEN]).ok()?;
        Some(&self.buf[..VnetHeader::LEN + total])
    }
}

/// Addresses and ports, IP identification and UDP payload of an IPv4/UDP packet
/// without options or fragmentation whose lengths agree.
fn udp4_flow(p: &[u8]) -> Option<([u8; 12], u16, &[u8])> {
    if p.len() < 28 || p[0] != 0x45 || p[9] != 17 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
    let frag = u16::from_be_bytes([p[6], p[7]]) & 0x3FFF;
    let ulen = usize::from(u16::from_be_bytes([p[24], p[25]]));
    if total != p.len() || frag != 0 || ulen != p.len() - 20 {
        return None;
    }
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&p[12..20]);
    key[8..].copy_from_slice(&p[20..24]);
    Some((key, u16::from_be_bytes([p[4], p[5]]), &p[28..]))
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
    fn coalesce_a_flow_and_split_it_back() {
        let mut c = Coalescer::new();
        let mut pkts = Vec::new();
        for i in 0..3u16 {
            let mut p = udp4(&[i as u8; 100][..if i == 2 { 40 } else { 100 }]);
            p[4..6].copy_from_slice(&(0x1000 + i).to_be_bytes());
            pkts.push(p);
        }
        assert!(c.start(&pkts[0]));
        assert!(c.push(&pkts[1]));
        // Another flow, or a gap in the identifications, does not join.
        let mut other = pkts[2].clone();
        other[22] ^= 1;
        assert!(!c.push(&other));
        assert!(c.push(&pkts[2]));
        // After a shorter datagram the run is closed.
        assert!(!c.push(&pkts[1]));
        assert_eq!(c.count(), 3);
        let bytes = c.take().unwrap().to_vec();
        let h = VnetHeader::parse(&bytes).unwrap();
        assert_eq!((h.gso_type, h.gso_size, h.hdr_len), (GsoType::UdpL4, 100, 28));
        let sp = &bytes[VnetHeader::LEN..];
        assert_eq!(sp.len(), 28 + 240);
        assert_eq!(checksum_finish(checksum_add(0, &sp[..20])), 0, "IPv4 checksum");
        // What the kernel would do: the same three datagrams again.
        let mut sp = sp.to_vec();
        let mut full = h;
        full.flags = 0;
        sp[26..28].copy_from_slice(&[0, 0]);
        let mut out = vec![0u8; 4096];
        let mut again = Vec::new();
        split_udp4(&full, &sp, &mut out, 0, |o, at, len| {
            again.push(o[at..at + len].to_vec())
        })
        .unwrap();
        for (a, p) in again.iter().zip(&pkts) {
            assert_eq!(&a[28..], &p[28..]);
            assert_eq!(&a[4..6], &p[4..6], "identification");
            assert!(valid(a));
        }
        assert!(c.take().is_none());
        // One packet alone goes out as it came, behind an empty header.
        assert!(c.start(&pkts[0]));
        let one = c.take().unwrap();
        assert_eq!(&one[VnetHeader::LEN..], &pkts[0][..]);
        assert!(!c.start(&pkts[0][..20]));
    }

    #[test]
    fn split_an_ipv6_super_packet() {
        let payload = [0x5au8; 700];
        let mut p = vec![0u8; 48 + payload.len()];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        p[6] = 17;
        p[7] = 64;
        p[8] = 0x20;
        p[9] = 0x01;
        p[24] = 0xfd;
        p[39] = 7;
        p[44..46].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        p[48..].copy_from_slice(&payload);
        let mut out = vec![0u8; 2048];
        let mut got = Vec::new();
        let h = VnetHeader::udp_segments(40, 300);
        assert_eq!(
            split_udp(&h, &p, &mut out, 0, |o, at, len| got.push(o[at..at + len].to_vec())),
            Ok(3)
        );
        for g in &got {
            let ulen = u16::from_be_bytes([g[44], g[45]]);
            assert_eq!(usize::from(ulen), g.len() - 40);
            assert_eq!(&g[4..6], &g[44..46]);
            let mut sum = checksum_add(0, &g[8..40]);
            sum = sum.wrapping_add(17).wrapping_add(u32::from(ulen));
            assert_eq!(checksum_finish(checksum_add(sum, &g[40..])), 0);
        }
        assert_eq!(got.iter().map(|g| g.len() - 48).sum::<usize>(), 700);
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
