//! The two rtnetlink requests this crate makes (add an address, add a route through an
//! interface) and the reading of the kernel's acknowledgement, as bytes (rtnetlink(7),
//! linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h). Pure functions; `iface.rs`
//! sends them on a `NETLINK_ROUTE` socket.
//!
//! Netlink is in host byte order. Every message is a 16-byte `nlmsghdr`, a fixed
//! family header (`ifaddrmsg`, 8 bytes; `rtmsg`, 12 bytes), then attributes: a 4-byte
//! `rtattr` (length, type) and the value, padded to 4 bytes.

use std::net::IpAddr;

/// `RTM_NEWADDR` (linux/rtnetlink.h).
pub(crate) const RTM_NEWADDR: u16 = 20;
/// `RTM_NEWROUTE`.
pub(crate) const RTM_NEWROUTE: u16 = 24;
/// `NLMSG_ERROR`: an acknowledgement (error 0) or a refusal (negative errno).
const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`.
const NLMSG_DONE: u16 = 3;

/// `NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE`: create, fail with EEXIST if
/// it is there, and always answer (what `ip addr add` / `ip route add` send).
const NEW_FLAGS: u16 = 0x0001 | 0x0004 | 0x0200 | 0x0400;

/// `IFA_ADDRESS`, `IFA_LOCAL` (linux/if_addr.h).
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
/// `IFA_F_NODAD`: no duplicate address detection, so an IPv6 address is usable at once.
const IFA_F_NODAD: u8 = 0x02;

/// `RTA_DST`, `RTA_OIF` (linux/rtnetlink.h).
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
/// `RT_TABLE_MAIN`, `RTPROT_BOOT` (what `ip route add` uses), `RT_SCOPE_UNIVERSE`,
/// `RT_SCOPE_LINK`, `RTN_UNICAST`.
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_LINK: u8 = 253;
const RTN_UNICAST: u8 = 1;

const NLMSG_HDR: usize = 16;

fn family(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => libc::AF_INET as u8,
        IpAddr::V6(_) => libc::AF_INET6 as u8,
    }
}

fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// A message under construction: header placeholder, family header, attributes.
struct Builder(Vec<u8>);

impl Builder {
    fn new(kind: u16, seq: u32, family_header: &[u8]) -> Builder {
        let mut b = Vec::with_capacity(64);
        b.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, set in finish
        b.extend_from_slice(&kind.to_ne_bytes());
        b.extend_from_slice(&NEW_FLAGS.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_pid: 0, the kernel fills it in
        b.extend_from_slice(family_header);
        Builder(b)
    }

    fn attr(mut self, kind: u16, value: &[u8]) -> Builder {
        let len = 4 + value.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(value);
        self.0.resize(self.0.len().next_multiple_of(4), 0);
        self
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.0.len() as u32;
        self.0[..4].copy_from_slice(&len.to_ne_bytes());
        self.0
    }
}

/// `RTM_NEWADDR`: `ip/prefix` on interface `index` (like `ip addr add`; IPv6 with
/// `nodad`).
pub(crate) fn new_address(seq: u32, index: u32, ip: IpAddr, prefix: u8) -> Vec<u8> {
    let flags = if ip.is_ipv6() { IFA_F_NODAD } else { 0 };
    // struct ifaddrmsg { family, prefixlen, flags, scope (universe), index }
    let mut ifa = vec![family(&ip), prefix, flags, 0];
    ifa.extend_from_slice(&index.to_ne_bytes());
    let addr = ip_bytes(&ip);
    Builder::new(RTM_NEWADDR, seq, &ifa)
        .attr(IFA_LOCAL, &addr)
        .attr(IFA_ADDRESS, &addr)
        .finish()
}

/// `RTM_NEWROUTE`: `dest/prefix` through interface `index`, no gateway, main table
/// (like `ip route add DEST/PREFIX dev IF`: link scope for IPv4, universe for IPv6).
pub(crate) fn new_route(seq: u32, index: u32, dest: IpAddr, prefix: u8) -> Vec<u8> {
    let scope = if dest.is_ipv4() {
        RT_SCOPE_LINK
    } else {
        RT_SCOPE_UNIVERSE
    };
    // struct rtmsg { family, dst_len, src_len, tos, table, protocol, scope, type, flags }
    let mut rtm = vec![
        family(&dest),
        prefix,
        0,
        0,
        RT_TABLE_MAIN,
        RTPROT_BOOT,
        scope,
        RTN_UNICAST,
    ];
    rtm.extend_from_slice(&0u32.to_ne_bytes());
    Builder::new(RTM_NEWROUTE, seq, &rtm)
        .attr(RTA_DST, &ip_bytes(&dest))
        .attr(RTA_OIF, &index.to_ne_bytes())
        .finish()
}

/// What one datagram from the kernel says about request `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `NLMSG_ERROR` with error 0.
    Ack,
    /// `NLMSG_ERROR` with this (positive) errno.
    Refused(i32),
    /// Nothing about `seq` in this datagram; read another.
    Other,
}

/// Looks for the `NLMSG_ERROR` answering `seq` in one datagram of netlink messages.
pub(crate) fn reply(datagram: &[u8], seq: u32) -> Result<Reply, &'static str> {
    let mut at = 0;
    while at < datagram.len() {
        let hdr = datagram.get(at..at + NLMSG_HDR).ok_or("truncated nlmsghdr")?;
        let len = u32::from_ne_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
        let kind = u16::from_ne_bytes([hdr[4], hdr[5]]);
        let msg_seq = u32::from_ne_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]);
        if len < NLMSG_HDR || at + len > datagram.len() {
            return Err("nlmsg_len out of bounds");
        }
        if msg_seq == seq {
            match kind {
                NLMSG_ERROR => {
                    // struct nlmsgerr { int error; struct nlmsghdr msg; ... }
                    let e = datagram
                        .get(at + NLMSG_HDR..at + NLMSG_HDR + 4)
                        .filter(|_| len >= NLMSG_HDR + 4)
                        .ok_or("truncated nlmsgerr")?;
                    let errno = i32::from_ne_bytes([e[0], e[1], e[2], e[3]]);
                    return Ok(if errno == 0 {
                        Reply::Ack
                    } else {
                        Reply::Refused(errno.saturating_neg())
                    });
                }
                NLMSG_DONE => return Err("NLMSG_DONE without an acknowledgement"),
                _ => {}
            }
        }
        at += len.next_multiple_of(4);
    }
    Ok(Reply::Other)
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    // Captured with `strace -e write=3,4 ip -n NS addr add 10.200.9.1/24 dev tn0`
    // (iproute2 6.1, Linux 6.18; tn0 had index 2, sequence number 0x6b137f08).
    static IP_ADDR_ADD_V4: [u8; 40] = [
        0x28, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x06, 0x08, 0x7f, 0x13, 0x6b, 0x00, 0x00, 0x00, 0x00, //
        0x02, 0x18, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x0a, 0xc8, 0x09, 0x01, //
        0x08, 0x00, 0x01, 0x00, 0x0a, 0xc8, 0x09, 0x01,
    ];

    // `ip -n NS -6 addr add fd00:200::1/64 dev tn0 nodad`, same capture.
    static IP_ADDR_ADD_V6: [u8; 64] = [
        0x40, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x06, 0x08, 0x7f, 0x13, 0x6b, 0x00, 0x00, 0x00, 0x00, //
        0x0a, 0x40, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x14, 0x00, 0x02, 0x00, 0xfd, 0x00, 0x02, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x14, 0x00, 0x01, 0x00, //
        0xfd, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    // `ip -n NS route add 10.201.0.0/24 dev tn0`, same capture.
    static IP_ROUTE_ADD_V4: [u8; 44] = [
        0x2c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x06, 0x08, 0x7f, 0x13, 0x6b, 0x00, 0x00, 0x00, 0x00, //
        0x02, 0x18, 0x00, 0x00, 0xfe, 0x03, 0xfd, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00, //
        0x0a, 0xc9, 0x00, 0x00, 0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00,
    ];

    // `ip -n NS -6 route add fd00:201::/64 dev tn0`, same capture.
    static IP_ROUTE_ADD_V6: [u8; 56] = [
        0x38, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x06, 0x08, 0x7f, 0x13, 0x6b, 0x00, 0x00, 0x00, 0x00, //
        0x0a, 0x40, 0x00, 0x00, 0xfe, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x01, 0x00, //
        0xfd, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00,
    ];

    const SEQ: u32 = 0x6b13_7f08;

    #[test]
    fn encode_like_iproute2() {
        assert_eq!(new_address(SEQ, 2, "10.200.9.1".parse().unwrap(), 24), IP_ADDR_ADD_V4);
        assert_eq!(new_address(SEQ, 2, "fd00:200::1".parse().unwrap(), 64), IP_ADDR_ADD_V6);
        assert_eq!(new_route(SEQ, 2, "10.201.0.0".parse().unwrap(), 24), IP_ROUTE_ADD_V4);
        assert_eq!(new_route(SEQ, 2, "fd00:201::".parse().unwrap(), 64), IP_ROUTE_ADD_V6);
    }

    /// An NLMSG_ERROR answering `seq` with `error`, echoing a 16-byte request header.
    fn nlmsgerr(seq: u32, error: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&36u32.to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&0x0100u16.to_ne_bytes()); // NLM_F_CAPPED
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&4242u32.to_ne_bytes());
        m.extend_from_slice(&error.to_ne_bytes());
        m.extend_from_slice(&IP_ADDR_ADD_V4[..16]);
        m
    }

    #[test]
    fn decode_ack_and_refusal() {
        assert_eq!(reply(&nlmsgerr(SEQ, 0), SEQ), Ok(Reply::Ack));
        assert_eq!(
            reply(&nlmsgerr(SEQ, -libc::EEXIST), SEQ),
            Ok(Reply::Refused(libc::EEXIST))
        );
        assert_eq!(reply(&nlmsgerr(SEQ + 1, 0), SEQ), Ok(Reply::Other));
        // Two messages in one datagram: the answer is found behind another one.
        let mut two = nlmsgerr(7, 0);
        two.extend_from_slice(&nlmsgerr(SEQ, -libc::ENODEV));
        assert_eq!(reply(&two, SEQ), Ok(Reply::Refused(libc::ENODEV)));
    }

    #[test]
    fn broken_replies() {
        let ok = nlmsgerr(SEQ, 0);
        assert!(reply(&ok[..10], SEQ).is_err());
        assert!(reply(&ok[..30], SEQ).is_err(), "nlmsg_len past the datagram");
        let mut short = ok.clone();
        short[..4].copy_from_slice(&18u32.to_ne_bytes());
        assert!(reply(&short[..18], SEQ).is_err(), "nlmsgerr cut off");
        let mut zero = ok;
        zero[..4].copy_from_slice(&0u32.to_ne_bytes());
        assert!(reply(&zero, SEQ).is_err(), "nlmsg_len 0 must not loop");
        assert_eq!(reply(&[], SEQ), Ok(Reply::Other));
    }
}
