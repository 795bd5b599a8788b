//! Link, network and UDP layers: from a captured frame to the transport payload.
//!
//! Only what captures of a 5G core carry is dissected (Ethernet with VLAN tags, Linux
//! cooked v1/v2, raw IP, BSD loopback; IPv4 and IPv6; UDP). Everything else is reported
//! as [`Skip`] with a short name so the caller can count it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

hexcore_wire::code_enum! {
    /// Link-layer header types (tcpdump.org LINKTYPE_ values) this crate understands.
    pub enum LinkType: u32 {
        /// LINKTYPE_NULL (0): BSD loopback, a 4-byte host-order address family.
        Null = 0,
        /// LINKTYPE_ETHERNET (1).
        Ethernet = 1,
        /// LINKTYPE_RAW (101): the frame is an IPv4 or IPv6 packet.
        Raw = 101,
        /// LINKTYPE_LINUX_SLL (113): Linux "cooked" capture v1, as `tcpdump -i any` writes.
        LinuxSll = 113,
        /// LINKTYPE_IPV4 (228).
        Ipv4 = 228,
        /// LINKTYPE_IPV6 (229).
        Ipv6 = 229,
        /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2.
        LinuxSll2 = 276,
    }
}

/// Why a frame was not dissected down to a transport payload; the string names the
/// protocol for the caller's "unknown protocols" counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

/// IP protocol numbers that matter here (IANA).
pub const IPPROTO_UDP: u8 = 17;
/// SCTP (RFC 9260).
pub const IPPROTO_SCTP: u8 = 132;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;

/// An IP packet's addresses and its transport payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPayload<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: u8,
    pub payload: &'a [u8],
}

/// Strips the link layer of `frame` and parses the IP header inside.
pub fn ip_packet(link: LinkType, frame: &[u8]) -> Result<IpPayload<'_>, Skip> {
    let (ethertype, rest) = match link {
        LinkType::Ethernet => ethernet(frame)?,
        LinkType::LinuxSll => {
            // tcpdump.org LINKTYPE_LINUX_SLL: a 16-byte header, the protocol at offset 14.
            (
                be16(frame, 14).ok_or_else(|| skip("truncated-sll"))?,
                frame.get(16..).unwrap_or_default(),
            )
        }
        // LINKTYPE_LINUX_SLL2: a 20-byte header, the protocol first.
        LinkType::LinuxSll2 => (
            be16(frame, 0).ok_or_else(|| skip("truncated-sll2"))?,
            frame.get(20..).unwrap_or_default(),
        ),
        LinkType::Null => {
            let family = frame.get(..4).ok_or_else(|| skip("truncated-null"))?;
            // Written in the capturing host's byte order; AF_INET is 2 everywhere, AF_INET6
            // is 24, 28 or 30 depending on the BSD.
            let family = u32::from_le_bytes([family[0], family[1], family[2], family[3]]);
            let family = if family > 0xffff { family.swap_bytes() } else { family };
            let ethertype = match family {
                2 => ETHERTYPE_IPV4,
                24 | 28 | 30 => ETHERTYPE_IPV6,
                other => return Err(Skip(format!("null-family-{other}"))),
            };
            (ethertype, frame.get(4..).unwrap_or_default())
        }
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => match frame.first().map(|b| b >> 4) {
            Some(4) => (ETHERTYPE_IPV4, frame),
            Some(6) => (ETHERTYPE_IPV6, frame),
            _ => return Err(skip("raw-not-ip")),
        },
        LinkType::Unknown(v) => return Err(Skip(format!("linktype-{v}"))),
    };
    match ethertype {
        ETHERTYPE_IPV4 => ipv4(rest),
        ETHERTYPE_IPV6 => ipv6(rest),
        0x0806 => Err(skip("arp")),
        other => Err(Skip(format!("ethertype-{other:#06x}"))),
    }
}

fn ethernet(frame: &[u8]) -> Result<(u16, &[u8]), Skip> {
    let mut ethertype = be16(frame, 12).ok_or_else(|| skip("truncated-ethernet"))?;
    let mut at = 14;
    // IEEE 802.1Q / 802.1ad tags: 4 bytes each, the inner EtherType after.
    while ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ {
        ethertype = be16(frame, at + 2).ok_or_else(|| skip("truncated-vlan"))?;
        at += 4;
    }
    Ok((ethertype, frame.get(at..).unwrap_or_default()))
}

fn ipv4(packet: &[u8]) -> Result<IpPayload<'_>, Skip> {
    // RFC 791 §3.1.
    let first = *packet.first().ok_or_else(|| skip("truncated-ipv4"))?;
    let ihl = usize::from(first & 0x0f) * 4;
    let total = usize::from(be16(packet, 2).ok_or_else(|| skip("truncated-ipv4"))?);
    if first >> 4 != 4 || ihl < 20 || total < ihl {
        return Err(skip("bad-ipv4-header"));
    }
    let flags_frag = be16(packet, 6).ok_or_else(|| skip("truncated-ipv4"))?;
    if flags_frag & 0x3fff != 0 {
        // More-fragments set or a non-zero offset: reassembly is not done here.
        return Err(skip("ipv4-fragment"));
    }
    let src = Ipv4Addr::from(addr4(packet, 12).ok_or_else(|| skip("truncated-ipv4"))?);
    let dst = Ipv4Addr::from(addr4(packet, 16).ok_or_else(|| skip("truncated-ipv4"))?);
    // Some captures pad frames (Ethernet minimum) or truncate them (snaplen).
    let end = total.min(packet.len());
    let payload = packet.get(ihl..end).ok_or_else(|| skip("truncated-ipv4"))?;
    Ok(IpPayload {
        src: src.into(),
        dst: dst.into(),
        protocol: packet[9],
        payload,
    })
}

fn ipv6(packet: &[u8]) -> Result<IpPayload<'_>, Skip> {
    // RFC 8200 §3, walking the usual extension headers (§4).
    if packet.len() < 40 || packet[0] >> 4 != 6 {
        return Err(skip("truncated-ipv6"));
    }
    let payload_len = usize::from(be16(packet, 4).ok_or_else(|| skip("truncated-ipv6"))?);
    let src = Ipv6Addr::from(addr16(packet, 8).ok_or_else(|| skip("truncated-ipv6"))?);
    let dst = Ipv6Addr::from(addr16(packet, 24).ok_or_else(|| skip("truncated-ipv6"))?);
    let end = (40 + payload_len).min(packet.len());
    let mut next = packet[6];
    let mut at = 40;
    loop {
        match next {
            // Hop-by-hop, routing, destination options: length in 8-octet units after the first 8.
            0 | 43 | 60 => {
                let len = usize::from(*packet.get(at + 1).ok_or_else(|| skip("truncated-ipv6-ext"))?) * 8 + 8;
                next = *packet.get(at).ok_or_else(|| skip("truncated-ipv6-ext"))?;
                at += len;
            }
            44 => return Err(skip("ipv6-fragment")),
            _ => break,
        }
    }
    let payload = packet.get(at..end).ok_or_else(|| skip("truncated-ipv6"))?;
    Ok(IpPayload {
        src: src.into(),
        dst: dst.into(),
        protocol: next,
        payload,
    })
}

/// A UDP datagram (RFC 768).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Udp<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

/// Parses a UDP header; the payload ends at the UDP length (or the capture's end).
pub fn udp(segment: &[u8]) -> Result<Udp<'_>, Skip> {
    let src_port = be16(segment, 0).ok_or_else(|| skip("truncated-udp"))?;
    let dst_port = be16(segment, 2).ok_or_else(|| skip("truncated-udp"))?;
    let len = usize::from(be16(segment, 4).ok_or_else(|| skip("truncated-udp"))?);
    if len < 8 {
        return Err(skip("bad-udp-length"));
    }
    let payload = segment.get(8..len.min(segment.len())).unwrap_or_default();
    Ok(Udp {
        src_port,
        dst_port,
        payload,
    })
}

/// Builds an IPv4 packet (no options, DF set, TTL 64) around `payload`, with a correct
/// header checksum, for writing captures and for tests.
pub fn build_ipv4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap_or(u16::MAX);
    let mut p = Vec::with_capacity(20 + payload.len());
    p.extend_from_slice(&[0x45, 0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let checksum = internet_checksum(&p);
    p[10..12].copy_from_slice(&checksum.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// Builds a UDP datagram. The checksum is left zero, which RFC 768 allows over IPv4.
pub fn build_udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    let mut d = Vec::with_capacity(8 + payload.len());
    d.extend_from_slice(&src_port.to_be_bytes());
    d.extend_from_slice(&dst_port.to_be_bytes());
    d.extend_from_slice(&len.to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    d
}

/// RFC 1071 one's-complement sum.
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn skip(name: &str) -> Skip {
    Skip(name.to_string())
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn addr4(b: &[u8], at: usize) -> Option<[u8; 4]> {
    b.get(at..at + 4)?.try_into().ok()
}

fn addr16(b: &[u8], at: usize) -> Option<[u8; 16]> {
    b.get(at..at + 16)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 header from RFC 1071-style worked examples widely used to check
    /// checksum code (Wikipedia "IPv4 header checksum"): 4500 0073 0000 4000 4011
    /// [b861] c0a8 0001 c0a8 00c7.
    static IPV4_HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
        0x00, 0xc7,
    ];

    #[test]
    fn ipv4_checksum_matches_known_header() {
        let mut h = IPV4_HEADER;
        h[10] = 0;
        h[11] = 0;
        assert_eq!(internet_checksum(&h), 0xb861);
    }

    #[test]
    fn ethernet_vlan_ipv4_udp() {
        let udp_dgram = build_udp(9899, 9899, b"sctp");
        let ip = build_ipv4(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IPPROTO_UDP,
            &udp_dgram,
        );
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x64, 0x08, 0x00]);
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&[0; 6]); // Ethernet padding past the IP total length.
        let p = ip_packet(LinkType::Ethernet, &frame).unwrap();
        assert_eq!(p.src, IpAddr::from([10, 0, 0, 1]));
        assert_eq!(p.protocol, IPPROTO_UDP);
        let u = udp(p.payload).unwrap();
        assert_eq!((u.src_port, u.dst_port, u.payload), (9899, 9899, &b"sctp"[..]));
    }

    #[test]
    fn linux_sll_ipv6_with_extension_header() {
        let mut frame = vec![0u8; 14];
        frame.extend_from_slice(&[0x86, 0xdd]);
        let mut ip6 = vec![0x60, 0, 0, 0, 0, 12, 60, 64];
        ip6.extend_from_slice(&[0; 15]);
        ip6.push(1);
        ip6.extend_from_slice(&[0; 15]);
        ip6.push(2);
        // Destination options header: next = SCTP, length 0 (8 bytes).
        ip6.extend_from_slice(&[132, 0, 1, 4, 0, 0, 0, 0]);
        ip6.extend_from_slice(&[9, 9, 9, 9]);
        frame.extend_from_slice(&ip6);
        let p = ip_packet(LinkType::LinuxSll, &frame).unwrap();
        assert_eq!(p.protocol, IPPROTO_SCTP);
        assert_eq!(p.dst, IpAddr::from(Ipv6Addr::from(2u128)));
        assert_eq!(p.payload, &[9, 9, 9, 9]);
    }

    #[test]
    fn non_ip_and_fragments_are_skipped_by_name() {
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(ip_packet(LinkType::Ethernet, &arp), Err(Skip("arp".into())));
        let mut frag = build_ipv4(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, IPPROTO_SCTP, &[0; 8]);
        frag[6] = 0x20; // more fragments
        assert_eq!(ip_packet(LinkType::Raw, &frag), Err(Skip("ipv4-fragment".into())));
        assert_eq!(ip_packet(LinkType::Unknown(147), &[]), Err(Skip("linktype-147".into())));
    }

    #[test]
    fn truncated_frames_never_panic() {
        let ip = build_ipv4(
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::LOCALHOST,
            IPPROTO_UDP,
            &build_udp(1, 2, &[0; 16]),
        );
        for link in [
            LinkType::Raw,
            LinkType::Ethernet,
            LinkType::LinuxSll,
            LinkType::LinuxSll2,
            LinkType::Null,
        ] {
            for cut in 0..ip.len() {
                if let Ok(p) = ip_packet(link, &ip[..cut]) {
                    let _ = udp(p.payload);
                }
            }
        }
    }
}
