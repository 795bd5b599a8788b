//! SDF filters (TS 29.244 §8.2.5): the Flow Description is an IPFilterRule
//! (RFC 6733 §4.3) — `permit out 17 from 198.51.100.0/24 1000-2000 to assigned` —
//! compiled once, when the rule is installed, into a [`SdfRule`] the data path
//! matches without allocating.
//!
//! Direction: as TS 29.212 §5.4.2 says of Flow-Description, `out` describes the
//! downlink (from the remote side to the UE, whose address is `assigned`); for an
//! uplink packet the UPF matches the rule with source and destination swapped, the
//! convention free5GC's and Open5GS's SMFs follow. `in` describes the uplink
//! (from the UE to the remote side).

use std::net::IpAddr;

use crate::packet::IpView;

/// Why a Flow Description could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported flow description {text:?}: {reason}")]
pub struct SdfError {
    /// The flow description, as text.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// An address pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrMatch {
    /// `any`.
    Any,
    /// `assigned`: the UE's own address (already selected by the lookup).
    Assigned,
    /// An address and prefix length.
    Prefix(IpAddr, u8),
}

/// Up to four port ranges (`80`, `1000-2000`, `80,443`); none = any port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortMatch {
    ranges: [(u16, u16); 4],
    len: u8,
}

/// One compiled filter, in the downlink sense: `remote` is the far end (the
/// source of a downlink packet), `ue` the UE's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdfRule {
    /// IP protocol, `None` for `ip` (any).
    pub protocol: Option<u8>,
    /// The remote address.
    pub remote: AddrMatch,
    /// The remote ports.
    pub remote_ports: PortMatch,
    /// The UE's address.
    pub ue: AddrMatch,
    /// The UE's ports.
    pub ue_ports: PortMatch,
}

impl SdfRule {
    /// Compile a Flow Description.
    pub fn parse(text: &str) -> Result<SdfRule, SdfError> {
        let err = |reason| SdfError {
            text: text.to_owned(),
            reason,
        };
        let mut t = text.split_ascii_whitespace().peekable();
        if t.next() != Some("permit") {
            return Err(err("only `permit` rules are supported"));
        }
        let downlink = match t.next() {
            Some("out") => true,
            Some("in") => false,
            _ => return Err(err("direction must be `out` or `in`")),
        };
        let protocol = match t.next() {
            Some("ip") => None,
            Some("tcp") => Some(6),
            Some("udp") => Some(17),
            Some("icmp") => Some(1),
            Some("ipv6-icmp") | Some("icmpv6") => Some(58),
            Some(n) => Some(n.parse::<u8>().map_err(|_| err("unknown protocol"))?),
            None => return Err(err("missing protocol")),
        };
        if t.next() != Some("from") {
            return Err(err("missing `from`"));
        }
        let from = addr(t.next().ok_or_else(|| err("missing source"))?).ok_or_else(|| err("bad source address"))?;
        let mut from_ports = PortMatch::default();
        if let Some(p) = t.peek()
            && *p != "to"
        {
            from_ports = ports(p).ok_or_else(|| err("bad source ports"))?;
            t.next();
        }
        if t.next() != Some("to") {
            return Err(err("missing `to`"));
        }
        let to =
            addr(t.next().ok_or_else(|| err("missing destination"))?).ok_or_else(|| err("bad destination address"))?;
        let mut to_ports = PortMatch::default();
        if let Some(p) = t.peek()
            && let Some(m) = ports(p)
        {
            to_ports = m;
            t.next();
        }
        // Options (`frag`, `established`, …) are not enforced; nothing else may follow.
        Ok(if downlink {
            SdfRule {
                protocol,
                remote: from,
                remote_ports: from_ports,
                ue: to,
                ue_ports: to_ports,
            }
        } else {
            SdfRule {
                protocol,
                remote: to,
                remote_ports: to_ports,
                ue: from,
                ue_ports: from_ports,
            }
        })
    }

    /// Does an uplink packet (from the UE) match?
    pub fn matches_uplink(&self, p: &IpView) -> bool {
        self.matches(p, p.dst, p.dst_port, p.src, p.src_port)
    }

    /// Does a downlink packet (to the UE) match?
    pub fn matches_downlink(&self, p: &IpView) -> bool {
        self.matches(p, p.src, p.src_port, p.dst, p.dst_port)
    }

    fn matches(&self, p: &IpView, remote: IpAddr, remote_port: Option<u16>, ue: IpAddr, ue_port: Option<u16>) -> bool {
        if let Some(proto) = self.protocol
            && proto != p.protocol
        {
            return false;
        }
        self.remote.matches(remote)
            && self.ue.matches(ue)
            && self.remote_ports.matches(remote_port)
            && self.ue_ports.matches(ue_port)
    }
}

impl AddrMatch {
    fn matches(&self, a: IpAddr) -> bool {
        match *self {
            AddrMatch::Any | AddrMatch::Assigned => true,
            AddrMatch::Prefix(p, len) => prefix_match(p, len, a),
        }
    }
}

impl PortMatch {
    fn matches(&self, port: Option<u16>) -> bool {
        if self.len == 0 {
            return true;
        }
        let Some(port) = port else { return false };
        self.ranges[..usize::from(self.len)]
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&port))
    }
}

/// Does `a` lie in `prefix/len`?
pub fn prefix_match(prefix: IpAddr, len: u8, a: IpAddr) -> bool {
    match (prefix, a) {
        (IpAddr::V4(p), IpAddr::V4(a)) => {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(p) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(p), IpAddr::V6(a)) => {
            let len = u32::from(len.min(128));
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            u128::from(p) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

fn addr(s: &str) -> Option<AddrMatch> {
    match s {
        "any" => return Some(AddrMatch::Any),
        "assigned" => return Some(AddrMatch::Assigned),
        _ => {}
    }
    let (a, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let a: IpAddr = a.parse().ok()?;
    let max = if a.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some(AddrMatch::Prefix(a, len))
}

fn ports(s: &str) -> Option<PortMatch> {
    let mut m = PortMatch::default();
    for part in s.split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (lo.parse().ok()?, hi.parse().ok()?),
            None => {
                let p = part.parse().ok()?;
                (p, p)
            }
        };
        if lo > hi || usize::from(m.len) == m.ranges.len() {
            return None;
        }
        m.ranges[usize::from(m.len)] = (lo, hi);
        m.len += 1;
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn view(src: [u8; 4], dst: [u8; 4], proto: u8, sport: u16, dport: u16) -> IpView {
        IpView {
            src: IpAddr::V4(Ipv4Addr::from(src)),
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            protocol: proto,
            src_port: Some(sport),
            dst_port: Some(dport),
        }
    }

    #[test]
    fn free5gc_default_rule() {
        // The default flow description free5GC's SMF installs.
        let r = SdfRule::parse("permit out ip from any to assigned").unwrap();
        assert!(r.matches_downlink(&view([8, 8, 8, 8], [10, 45, 0, 2], 17, 53, 4000)));
        assert!(r.matches_uplink(&view([10, 45, 0, 2], [8, 8, 8, 8], 6, 4000, 443)));
    }

    #[test]
    fn ports_and_prefixes_both_directions() {
        let r = SdfRule::parse("permit out 17 from 198.51.100.0/24 1000-2000,3000 to assigned 5001").unwrap();
        // Downlink: remote is the source.
        assert!(r.matches_downlink(&view([198, 51, 100, 7], [10, 45, 0, 2], 17, 1500, 5001)));
        assert!(r.matches_downlink(&view([198, 51, 100, 7], [10, 45, 0, 2], 17, 3000, 5001)));
        assert!(!r.matches_downlink(&view([198, 51, 100, 7], [10, 45, 0, 2], 17, 2500, 5001)));
        assert!(!r.matches_downlink(&view([198, 51, 101, 7], [10, 45, 0, 2], 17, 1500, 5001)));
        assert!(!r.matches_downlink(&view([198, 51, 100, 7], [10, 45, 0, 2], 6, 1500, 5001)));
        // Uplink: the same rule with source and destination swapped.
        assert!(r.matches_uplink(&view([10, 45, 0, 2], [198, 51, 100, 9], 17, 5001, 1999)));
        assert!(!r.matches_uplink(&view([10, 45, 0, 2], [198, 51, 100, 9], 17, 5002, 1999)));
        let r = SdfRule::parse("permit in tcp from assigned to 203.0.113.1 443").unwrap();
        assert!(r.matches_uplink(&view([10, 45, 0, 2], [203, 0, 113, 1], 6, 40000, 443)));
        assert!(!r.matches_uplink(&view([10, 45, 0, 2], [203, 0, 113, 2], 6, 40000, 443)));
    }

    #[test]
    fn broken_rules_are_refused() {
        for bad in [
            "",
            "deny out ip from any to assigned",
            "permit sideways ip from any to assigned",
            "permit out bogus from any to assigned",
            "permit out ip from 300.1.1.1 to assigned",
            "permit out ip from any",
            "permit out ip from 10.0.0.0/33 to assigned",
            "permit out ip from any 9-1 to assigned",
        ] {
            assert!(SdfRule::parse(bad).is_err(), "{bad:?}");
        }
    }
}
