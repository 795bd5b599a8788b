//! The few fields of a user's IP packet (the T-PDU) the rules look at: addresses,
//! protocol and, for an unfragmented TCP/UDP/SCTP packet, the ports. Read once per
//! packet, no allocation, no panic on any input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Addresses, protocol and ports of an IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpView {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 protocol / IPv6 next header (the first one; extension headers are not
    /// walked).
    pub protocol: u8,
    /// Source port (TCP, UDP, SCTP, first fragment only).
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: Option<u16>,
}

impl IpView {
    /// Read an IPv4 or IPv6 header; `None` when the octets are not one.
    #[inline]
    pub fn parse(p: &[u8]) -> Option<IpView> {
        match p.first()? >> 4 {
            4 => {
                let ihl = usize::from(p.first()? & 0x0F) * 4;
                if ihl < 20 || p.len() < ihl {
                    return None;
                }
                let protocol = p[9];
                let frag_offset = u16::from_be_bytes([p[6], p[7]]) & 0x1FFF;
                let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
                let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
                let (src_port, dst_port) = if frag_offset == 0 {
                    ports(protocol, p.get(ihl..))
                } else {
                    (None, None)
                };
                Some(IpView {
                    src: IpAddr::V4(src),
                    dst: IpAddr::V4(dst),
                    protocol,
                    src_port,
                    dst_port,
                })
            }
            6 => {
                if p.len() < 40 {
                    return None;
                }
                let protocol = p[6];
                let src: [u8; 16] = p[8..24].try_into().ok()?;
                let dst: [u8; 16] = p[24..40].try_into().ok()?;
                let (src_port, dst_port) = ports(protocol, p.get(40..));
                Some(IpView {
                    src: IpAddr::V6(Ipv6Addr::from(src)),
                    dst: IpAddr::V6(Ipv6Addr::from(dst)),
                    protocol,
                    src_port,
                    dst_port,
                })
            }
            _ => None,
        }
    }
}

fn ports(protocol: u8, l4: Option<&[u8]>) -> (Option<u16>, Option<u16>) {
    match (protocol, l4) {
        (6 | 17 | 132, Some([a, b, c, d, ..])) => {
            (Some(u16::from_be_bytes([*a, *b])), Some(u16::from_be_bytes([*c, *d])))
        }
        _ => (None, None),
    }
}

/// The destination IPv4 address of an IPv4 packet, the fast way (the downlink
/// lookup key).
#[inline]
pub fn ipv4_dst(p: &[u8]) -> Option<u32> {
    match p {
        [b0, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, d0, d1, d2, d3, ..] if b0 >> 4 == 4 => {
            Some(u32::from_be_bytes([*d0, *d1, *d2, *d3]))
        }
        _ => None,
    }
}

/// The /64 prefix of the destination of an IPv6 packet (the downlink lookup key
/// for IPv6: TS 23.501 §5.8.2.2.3 gives each PDU session a /64).
#[inline]
pub fn ipv6_dst_prefix(p: &[u8]) -> Option<u64> {
    if p.len() < 40 || p[0] >> 4 != 6 {
        return None;
    }
    let b: [u8; 8] = p[24..32].try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_udp_and_broken() {
        // 10.45.0.2 -> 192.0.2.1, UDP 4000 -> 53 (built by hand).
        let mut p = [0u8; 28];
        p[0] = 0x45;
        p[9] = 17;
        p[12..16].copy_from_slice(&[10, 45, 0, 2]);
        p[16..20].copy_from_slice(&[192, 0, 2, 1]);
        p[20..24].copy_from_slice(&[0x0f, 0xa0, 0x00, 0x35]);
        let v = IpView::parse(&p).unwrap();
        assert_eq!(v.src, IpAddr::V4(Ipv4Addr::new(10, 45, 0, 2)));
        assert_eq!((v.protocol, v.src_port, v.dst_port), (17, Some(4000), Some(53)));
        assert_eq!(ipv4_dst(&p), Some(0xc000_0201));
        // A later fragment has no ports.
        p[6] = 0x00;
        p[7] = 0x10;
        assert_eq!(IpView::parse(&p).unwrap().src_port, None);
        for n in 0..20 {
            assert!(IpView::parse(&p[..n]).is_none());
        }
        assert!(IpView::parse(&[0x60; 39]).is_none());
        assert!(IpView::parse(&[0x15; 40]).is_none());
        assert_eq!(ipv6_dst_prefix(&[0x45; 40]), None);
    }
}
