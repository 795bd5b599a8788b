//! The UPF that measured: its PFCP Node ID (TS 29.244 §8.2.38), the identity it gave
//! in the PFCP Association Setup (§6.2.6), not the address a datagram came from.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A PFCP Node ID: an IPv4 address, an IPv6 address or an FQDN (TS 29.244 §8.2.38).
///
/// Text form: the address (`10.0.0.2`, `2001:db8::2`) or the name (`upf1.example.org`).
/// FQDNs are kept in lower case: DNS names compare without case (RFC 4343), and the
/// Node ID is part of the dedupe key. Parsing also takes the `address:port` form that
/// usage files written before this crate hold in their `upf` field (the N4 address):
/// the port is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NodeId {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// A fully qualified domain name, lower case, without the trailing dot.
    Fqdn(String),
}

impl NodeId {
    /// An FQDN Node ID: labels of letters, digits and hyphens, 1–63 characters each,
    /// 253 characters at most in all (RFC 1035 §2.3.4, RFC 1123 §2.1).
    pub fn fqdn(name: &str) -> Result<Self, Error> {
        let name = name.strip_suffix('.').unwrap_or(name);
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if (1..=253).contains(&name.len()) && name.split('.').all(label_ok) {
            Ok(NodeId::Fqdn(name.to_ascii_lowercase()))
        } else {
            Err(Error::InvalidNodeId(name.to_string()))
        }
    }
}

impl From<IpAddr> for NodeId {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => NodeId::Ipv4(a),
            IpAddr::V6(a) => NodeId::Ipv6(a),
        }
    }
}

impl TryFrom<&hexcore_pfcp::ie::NodeId> for NodeId {
    type Error = Error;
    fn try_from(n: &hexcore_pfcp::ie::NodeId) -> Result<Self, Error> {
        match n {
            hexcore_pfcp::ie::NodeId::Ipv4(a) => Ok(NodeId::Ipv4(*a)),
            hexcore_pfcp::ie::NodeId::Ipv6(a) => Ok(NodeId::Ipv6(*a)),
            hexcore_pfcp::ie::NodeId::Fqdn(name) => NodeId::fqdn(&name.name()),
        }
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Ipv4(a) => a.fmt(f),
            NodeId::Ipv6(a) => a.fmt(f),
            NodeId::Fqdn(n) => f.write_str(n),
        }
    }
}

impl FromStr for NodeId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(ip.into());
        }
        // The `upf` field of usage files written before this crate: the N4 address.
        if let Ok(sa) = s.parse::<SocketAddr>() {
            return Ok(sa.ip().into());
        }
        NodeId::fqdn(s)
    }
}

impl TryFrom<String> for NodeId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<NodeId> for String {
    fn from(n: NodeId) -> String {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        for (text, node) in [
            ("10.0.0.2", NodeId::Ipv4(Ipv4Addr::new(10, 0, 0, 2))),
            ("2001:db8::2", NodeId::Ipv6("2001:db8::2".parse().unwrap())),
            ("upf1.example.org", NodeId::Fqdn("upf1.example.org".into())),
        ] {
            assert_eq!(text.parse::<NodeId>().unwrap(), node);
            assert_eq!(node.to_string(), text);
        }
        // Case and the root dot do not make another node.
        assert_eq!(
            "UPF1.Example.ORG.".parse::<NodeId>().unwrap(),
            NodeId::Fqdn("upf1.example.org".into())
        );
        // Files written before this crate: the N4 address with its port.
        assert_eq!(
            "127.0.0.1:8805".parse::<NodeId>().unwrap(),
            NodeId::Ipv4(Ipv4Addr::LOCALHOST)
        );
        assert_eq!(
            "[::1]:8805".parse::<NodeId>().unwrap(),
            NodeId::Ipv6(Ipv6Addr::LOCALHOST)
        );
    }

    #[test]
    fn not_a_node_id() {
        for bad in [
            "",
            ".",
            "upf_1.example.org",
            "-upf.example.org",
            "upf..org",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(bad.parse::<NodeId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn from_pfcp() {
        // The FQDN Node ID of go-pfcp's Association Setup Request test (as decoded by
        // hexcore-pfcp).
        let n = hexcore_pfcp::ie::NodeId::fqdn("go-pfcp.epc.3gppnetwork.org");
        assert_eq!(
            NodeId::try_from(&n).unwrap(),
            NodeId::Fqdn("go-pfcp.epc.3gppnetwork.org".into())
        );
        let n = hexcore_pfcp::ie::NodeId::Ipv4(Ipv4Addr::new(192, 188, 2, 2));
        assert_eq!(
            NodeId::try_from(&n).unwrap(),
            NodeId::Ipv4(Ipv4Addr::new(192, 188, 2, 2))
        );
    }
}
