//! The virtio-net header that leads every packet read from or written to a TUN opened
//! with `IFF_VNET_HDR` (`struct virtio_net_hdr`, linux/virtio_net.h; virtio 1.2 §5.1.6).
//!
//! ```text
//!  offset  size  field        meaning
//!   0      1     flags        NEEDS_CSUM (1): the L4 checksum is partial, finish it
//!                             from csum_start; DATA_VALID (2): already verified
//!   1      1     gso_type     NONE 0, TCPV4 1, UDP 3 (UFO), TCPV6 4, UDP_L4 5 (USO);
//!                             bit 0x80 = ECN
//!   2      2     hdr_len      bytes of L3+L4 headers repeated in every segment
//!   4      2     gso_size     payload bytes per segment (the last may be shorter)
//!   6      2     csum_start   where checksumming starts (the L4 header)
//!   8      2     csum_offset  where the checksum sits from csum_start (UDP 6, TCP 16)
//!  [10     2     num_buffers  only with a 12-byte header (TUNSETVNETHDRSZ 12);
//!                             TUN ignores it on write and leaves it 0 on read]
//! ```
//!
//! Fields are little-endian: [`Tun`](crate::Tun) switches the device to
//! little-endian headers (`TUNSETVNETLE`) so that this holds on every host.
//!
//! A GSO write (`gso_type` ≠ NONE) hands the kernel one IP packet whose payload is
//! `gso_size`-byte segments, with the L4 checksum set to the pseudo-header sum and
//! `NEEDS_CSUM`; the kernel cuts it into packets (so one `write` carries up to 64 KiB).
//! A read from a TUN whose offloads ([`Offload`](crate::Offload)) allow it can return
//! the same kind of super-packet, which the reader must split (or forward whole).
//!
//! Ten bytes with no variable part: a value type with `parse`/`emit` is all it needs
//! (no `Packet<T>` view).

use crate::error::Error;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum at `csum_start + csum_offset` is partial.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_F_DATA_VALID`: the checksum has been verified.
pub const F_DATA_VALID: u8 = 2;
/// `VIRTIO_NET_HDR_F_RSC_INFO`: coalescing info in `csum_*` (not produced by TUN).
pub const F_RSC_INFO: u8 = 4;

/// `VIRTIO_NET_HDR_GSO_ECN`: the ECN bit of `gso_type`.
const GSO_ECN: u8 = 0x80;

/// `gso_type` without the ECN bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GsoType {
    /// `VIRTIO_NET_HDR_GSO_NONE` (0): one ordinary packet.
    #[default]
    None,
    /// `VIRTIO_NET_HDR_GSO_TCPV4` (1): an IPv4 TCP super-packet (TSO).
    TcpV4,
    /// `VIRTIO_NET_HDR_GSO_UDP` (3): IP-fragmented UDP (UFO; Linux no longer makes it).
    Udp,
    /// `VIRTIO_NET_HDR_GSO_TCPV6` (4): an IPv6 TCP super-packet.
    TcpV6,
    /// `VIRTIO_NET_HDR_GSO_UDP_L4` (5): UDP segmentation (USO), IPv4 or IPv6: each
    /// segment becomes its own UDP datagram (Linux ≥ 6.2 on TUN).
    UdpL4,
    /// Any other value, kept as is.
    Unknown(u8),
}

impl GsoType {
    fn from_wire(v: u8) -> GsoType {
        match v {
            0 => GsoType::None,
            1 => GsoType::TcpV4,
            3 => GsoType::Udp,
            4 => GsoType::TcpV6,
            5 => GsoType::UdpL4,
            n => GsoType::Unknown(n),
        }
    }

    fn to_wire(self) -> u8 {
        match self {
            GsoType::None => 0,
            GsoType::TcpV4 => 1,
            GsoType::Udp => 3,
            GsoType::TcpV6 => 4,
            GsoType::UdpL4 => 5,
            GsoType::Unknown(n) => n & !GSO_ECN,
        }
    }
}

/// `struct virtio_net_hdr`, the 10-byte prefix of every TUN packet with `IFF_VNET_HDR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VnetHeader {
    /// [`F_NEEDS_CSUM`], [`F_DATA_VALID`], [`F_RSC_INFO`].
    pub flags: u8,
    /// Segmentation the packet needs (write) or carries (read).
    pub gso_type: GsoType,
    /// The `VIRTIO_NET_HDR_GSO_ECN` bit of `gso_type`.
    pub ecn: bool,
    /// Length of the headers repeated in every segment (IP + L4).
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    /// Offset of the L4 header, where checksumming starts.
    pub csum_start: u16,
    /// Offset of the checksum field from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHeader {
    /// Size of `struct virtio_net_hdr`.
    pub const LEN: usize = 10;

    /// The header of an ordinary packet: no offload, checksums complete.
    pub const NONE: VnetHeader = VnetHeader {
        flags: 0,
        gso_type: GsoType::None,
        ecn: false,
        hdr_len: 0,
        gso_size: 0,
        csum_start: 0,
        csum_offset: 0,
    };

    /// The header of a UDP super-packet (USO) to write: an IP header of `ip_header_len`
    /// bytes, a UDP header whose checksum holds the pseudo-header sum (length of the
    /// whole super-packet's UDP part), then segments of `segment_size` payload bytes.
    /// The kernel gives each segment its own UDP header, length and checksum.
    pub fn udp_segments(ip_header_len: u16, segment_size: u16) -> VnetHeader {
        VnetHeader {
            flags: F_NEEDS_CSUM,
            gso_type: GsoType::UdpL4,
            ecn: false,
            hdr_len: ip_header_len + 8,
            gso_size: segment_size,
            csum_start: ip_header_len,
            csum_offset: 6,
        }
    }

    /// Reads the header from the first [`VnetHeader::LEN`] bytes of `bytes`.
    pub fn parse(bytes: &[u8]) -> Result<VnetHeader, Error> {
        let b: &[u8; Self::LEN] = bytes
            .get(..Self::LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(Error::Truncated {
                needed: Self::LEN,
                got: bytes.len(),
            })?;
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        Ok(VnetHeader {
            flags: b[0],
            gso_type: GsoType::from_wire(b[1] & !GSO_ECN),
            ecn: b[1] & GSO_ECN != 0,
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        })
    }

    /// Writes the header into the first [`VnetHeader::LEN`] bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), Error> {
        let got = buf.len();
        let b = buf
            .get_mut(..Self::LEN)
            .ok_or(Error::Truncated { needed: Self::LEN, got })?;
        b[0] = self.flags;
        b[1] = self.gso_type.to_wire() | if self.ecn { GSO_ECN } else { 0 };
        b[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        Ok(())
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        Self::LEN
    }

    /// Whether the L4 checksum is partial (`F_NEEDS_CSUM`).
    pub fn needs_csum(&self) -> bool {
        self.flags & F_NEEDS_CSUM != 0
    }

    /// Whether the packet is a super-packet to be cut into `gso_size` segments.
    pub fn is_gso(&self) -> bool {
        self.gso_type != GsoType::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The header tunwrite.c (upf-ceiling) puts before a 16 × 1372-byte UDP super-packet
    // (`-s 1400 -G 16`): flags NEEDS_CSUM, gso_type UDP_L4, hdr_len 28, gso_size 1372
    // (0x055c), csum_start 20, csum_offset 6; as in memory on x86-64.
    static TUNWRITE_USO: [u8; 10] = [0x01, 0x05, 0x1c, 0x00, 0x5c, 0x05, 0x14, 0x00, 0x06, 0x00];

    // The header Linux 6.18 put before a 1028-byte IPv4/UDP packet (sent by a local
    // socket, routed into the TUN) read from a TUN with TUN_F_CSUM accepted (captured
    // by tests/it/tun.rs): NEEDS_CSUM, no GSO, hdr_len 0, csum_start 20, csum_offset 6.
    static READ_CSUM: [u8; 10] = [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x06, 0x00];

    #[test]
    fn decode_known_bytes() {
        let h = VnetHeader::parse(&TUNWRITE_USO).unwrap();
        assert_eq!(h, VnetHeader::udp_segments(20, 1372));
        assert!(h.is_gso() && h.needs_csum());
        let r = VnetHeader::parse(&READ_CSUM).unwrap();
        assert_eq!(r.gso_type, GsoType::None);
        assert!(r.needs_csum() && !r.is_gso());
        assert_eq!((r.hdr_len, r.csum_start, r.csum_offset), (0, 20, 6));
    }

    #[test]
    fn encode_known_bytes() {
        let mut buf = [0xffu8; 12];
        VnetHeader::udp_segments(20, 1372).emit(&mut buf).unwrap();
        assert_eq!(buf[..10], TUNWRITE_USO);
        assert_eq!(buf[10..], [0xff, 0xff], "emit writes exactly LEN bytes");
        let mut zero = [0xffu8; 10];
        VnetHeader::NONE.emit(&mut zero).unwrap();
        assert_eq!(zero, [0; 10]);
    }

    #[test]
    fn round_trip() {
        for h in [
            VnetHeader::NONE,
            VnetHeader::udp_segments(40, 1200),
            VnetHeader {
                flags: F_DATA_VALID,
                gso_type: GsoType::TcpV6,
                ecn: true,
                hdr_len: 60,
                gso_size: 1440,
                csum_start: 40,
                csum_offset: 16,
            },
            VnetHeader {
                gso_type: GsoType::Unknown(0x21),
                ..VnetHeader::NONE
            },
        ] {
            let mut buf = [0u8; VnetHeader::LEN];
            h.emit(&mut buf).unwrap();
            assert_eq!(VnetHeader::parse(&buf).unwrap(), h);
            assert_eq!(h.buffer_len(), buf.len());
        }
        // The ECN bit is separate from the type.
        let h = VnetHeader::parse(&[0, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert_eq!((h.gso_type, h.ecn), (GsoType::TcpV4, true));
    }

    #[test]
    fn broken_input() {
        assert!(matches!(
            VnetHeader::parse(&TUNWRITE_USO[..9]),
            Err(Error::Truncated { needed: 10, got: 9 })
        ));
        assert!(matches!(
            VnetHeader::NONE.emit(&mut [0u8; 4]),
            Err(Error::Truncated { needed: 10, got: 4 })
        ));
        // Every byte pattern parses (unknown types are kept).
        for t in 0..=255u8 {
            let h = VnetHeader::parse(&[0, t, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
            let mut buf = [0u8; 10];
            h.emit(&mut buf).unwrap();
            assert_eq!(buf[1], t);
        }
    }
}
