//! Shared helpers: skip checks, unique names, fresh namespaces, and IPv4/IPv6/UDP/ICMP
//! packet building and parsing (RFC 791, RFC 8200, RFC 768, RFC 792; checksums per
//! RFC 1071).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use hexcore_netdev::{Interface, Tun, netns};

/// Generous: the kernel answers in microseconds, CI machines are sometimes slow.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Why root-only tests cannot run here, if they cannot: they need to create a network
/// namespace and a TUN device in it. Probed once.
fn root_unavailable() -> Option<&'static str> {
    static PROBE: OnceLock<Option<String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            if !Tun::is_supported() {
                return Some(format!("{} cannot be opened", hexcore_netdev::TUN_PATH));
            }
            match netns::run_in_new(|| Tun::open("hxprobe%d").map(drop)) {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("cannot create a TUN device: {e}")),
                Err(e) => Some(format!("cannot create a network namespace: {e}")),
            }
        })
        .as_deref()
}

/// True (after printing why) when a test needing root, netns and TUN must be skipped.
pub fn skip(test: &str) -> bool {
    match root_unavailable() {
        None => false,
        Some(why) => {
            eprintln!("note: {test} skipped: {why} (needs root, /dev/net/tun and network namespaces)");
            true
        }
    }
}

/// `prefix` + this process id + a counter: unique across parallel tests and runs, and
/// short enough for an interface name (≤ 15 bytes) when `prefix` is ≤ 4 bytes.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}{}x{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Runs `f` in a fresh network namespace with loopback up; a panic inside is re-raised
/// here with its message.
pub fn in_new_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match netns::run_in_new(|| {
        Interface::new("lo").unwrap().set_up().unwrap();
        f()
    }) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// Reads packets from `tun` until one satisfies `want` (others — IPv6 router
/// solicitations, MLD reports — are skipped); panics after `TIMEOUT`.
pub fn read_matching(tun: &Tun, what: &str, want: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let deadline = Instant::now() + TIMEOUT;
    let mut buf = vec![0u8; 70_000];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "timed out waiting for {what} on {}", tun.name());
        if !tun.wait_readable(Some(left)).unwrap() {
            continue;
        }
        match tun.read(&mut buf) {
            Ok(n) if want(&buf[..n]) => return buf[..n].to_vec(),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => panic!("read from {}: {e}", tun.name()),
        }
    }
}

/// RFC 1071 ones'-complement sum of `data` added to `sum` (not folded or inverted).
pub fn sum16(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

/// Folds and inverts a sum into a checksum.
pub fn fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// IPv4 pseudo-header sum for a transport segment of `len` bytes (RFC 768).
pub fn pseudo_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut s = sum16(0, &src.octets());
    s = sum16(s, &dst.octets());
    s + u32::from(proto) + len as u32
}

/// A 20-byte IPv4 header (DF, TTL 64) for `payload_len` bytes of `proto`.
pub fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload_len: usize) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&((20 + payload_len) as u16).to_be_bytes());
    h[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    h[6] = 0x40;
    h[8] = 64;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = fold(sum16(0, &h));
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

/// A complete IPv4/UDP packet with a correct UDP checksum.
pub fn ipv4_udp(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let mut p = ipv4_header(*src.ip(), *dst.ip(), 17, udp_len).to_vec();
    p.extend_from_slice(&src.port().to_be_bytes());
    p.extend_from_slice(&dst.port().to_be_bytes());
    p.extend_from_slice(&(udp_len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    let mut c = fold(sum16(pseudo_v4(*src.ip(), *dst.ip(), 17, udp_len), &p[20..]));
    if c == 0 {
        c = 0xffff;
    }
    p[26..28].copy_from_slice(&c.to_be_bytes());
    p
}

/// An IPv4 ICMP echo request (RFC 792 type 8).
pub fn icmp_echo_request(src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut icmp = vec![8, 0, 0, 0];
    icmp.extend_from_slice(&id.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(data);
    let c = fold(sum16(0, &icmp));
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut p = ipv4_header(src, dst, 1, icmp.len()).to_vec();
    p.extend_from_slice(&icmp);
    p
}

/// The parts of an IP packet the tests look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ip<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Protocol / next header.
    pub proto: u8,
    /// What follows the (fixed) header, cut to the length the header states.
    pub payload: &'a [u8],
}

/// Parses an IPv4 (header checksum checked) or IPv6 packet.
pub fn parse_ip(p: &[u8]) -> Option<Ip<'_>> {
    match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*p.get(2)?, *p.get(3)?]));
            if ihl < 20 || total < ihl || p.len() < total || fold(sum16(0, &p[..ihl])) != 0 {
                return None;
            }
            Some(Ip {
                src: IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&p[12..16]).ok()?)),
                dst: IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&p[16..20]).ok()?)),
                proto: p[9],
                payload: &p[ihl..total],
            })
        }
        6 => {
            let len = usize::from(u16::from_be_bytes([*p.get(4)?, *p.get(5)?]));
            let payload = p.get(40..40 + len)?;
            Some(Ip {
                src: IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&p[8..24]).ok()?)),
                dst: IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&p[24..40]).ok()?)),
                proto: p[6],
                payload,
            })
        }
        _ => None,
    }
}

/// Source port, destination port and payload of a UDP datagram.
pub fn parse_udp(seg: &[u8]) -> Option<(u16, u16, &[u8])> {
    let len = usize::from(u16::from_be_bytes([*seg.get(4)?, *seg.get(5)?]));
    if len < 8 || seg.len() < len {
        return None;
    }
    Some((
        u16::from_be_bytes([seg[0], seg[1]]),
        u16::from_be_bytes([seg[2], seg[3]]),
        &seg[8..len],
    ))
}

/// Whether `p` is a UDP packet from `src` to `dst` (addresses only).
pub fn is_udp_between(p: &[u8], src: IpAddr, dst: IpAddr) -> bool {
    parse_ip(p).is_some_and(|ip| ip.proto == 17 && ip.src == src && ip.dst == dst)
}

/// Recognisable payload bytes: `tag` then a counter pattern.
pub fn pattern(tag: u32, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(tag) as u8)
        .collect();
    for (b, t) in v.iter_mut().zip(tag.to_be_bytes()) {
        *b = t;
    }
    v
}

/// The kernel release as (major, minor), from /proc.
pub fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release.trim().split(['.', '-']).map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

pub fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}
