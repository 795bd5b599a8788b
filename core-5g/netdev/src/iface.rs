//! Configuring a network interface by name: up/down, MTU and index through the classic
//! `SIOC*IF*` ioctls on an `AF_INET` datagram socket, addresses and routes through
//! rtnetlink (`RTM_NEWADDR`, `RTM_NEWROUTE`), which — unlike `SIOCSIFADDR` — adds an
//! address next to the ones already there, and handles IPv6 the same way as IPv4.
//!
//! Every call acts in the calling thread's network namespace (like `ip`), so an
//! interface created inside [`netns::run_in`](crate::netns::run_in) is configured from
//! inside that closure too.

use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::Error;
use crate::netlink::{self, Reply};
use crate::raw::{self, IfreqRequest};
use crate::sys::{IfName, IfReq};

/// An interface of the calling thread's network namespace, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    name: IfName,
}

impl Interface {
    /// The interface called `name` (checked against the kernel's naming rules; whether
    /// it exists is found out by the first call).
    pub fn new(name: &str) -> Result<Interface, Error> {
        Ok(Interface {
            name: IfName::new(name)?,
        })
    }

    pub(crate) fn from_name(name: IfName) -> Interface {
        Interface { name }
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The interface index (`SIOCGIFINDEX`); `ENODEV` if there is no such interface
    /// in this namespace.
    pub fn index(&self) -> Result<u32, Error> {
        let mut ifr = IfReq::new(&self.name);
        ioctl(IfreqRequest::GetIndex, &mut ifr, "ioctl(SIOCGIFINDEX)")?;
        Ok(ifr.int().unsigned_abs())
    }

    /// The MTU (`SIOCGIFMTU`).
    pub fn mtu(&self) -> Result<u32, Error> {
        let mut ifr = IfReq::new(&self.name);
        ioctl(IfreqRequest::GetMtu, &mut ifr, "ioctl(SIOCGIFMTU)")?;
        Ok(ifr.int().unsigned_abs())
    }

    /// Sets the MTU (`SIOCSIFMTU`). A TUN accepts 68..=65535.
    pub fn set_mtu(&self, mtu: u32) -> Result<(), Error> {
        let value = i32::try_from(mtu).map_err(|_| Error::InvalidArgument {
            what: "MTU",
            value: u64::from(mtu),
            reason: "at most 2^31 - 1",
        })?;
        let mut ifr = IfReq::new(&self.name);
        ifr.set_int(value);
        ioctl(IfreqRequest::SetMtu, &mut ifr, "ioctl(SIOCSIFMTU)")
    }

    /// Whether the interface is administratively up (`IFF_UP`).
    pub fn is_up(&self) -> Result<bool, Error> {
        Ok(self.flags()? & libc::IFF_UP as u16 != 0)
    }

    /// Brings the interface up (`SIOCGIFFLAGS`, then `SIOCSIFFLAGS` with `IFF_UP`).
    pub fn set_up(&self) -> Result<(), Error> {
        self.change_flags(libc::IFF_UP as u16, true)
    }

    /// Takes the interface down.
    pub fn set_down(&self) -> Result<(), Error> {
        self.change_flags(libc::IFF_UP as u16, false)
    }

    /// Adds `ip/prefix` to the interface (rtnetlink `RTM_NEWADDR`, like
    /// `ip addr add IP/PREFIX dev NAME`; IPv6 addresses without duplicate address
    /// detection, so they are usable at once). The kernel also adds the prefix route.
    /// Fails with `EEXIST` if the address is already there.
    pub fn add_address(&self, ip: IpAddr, prefix: u8) -> Result<(), Error> {
        check_prefix(&ip, prefix)?;
        let index = self.index()?;
        let seq = next_seq();
        rtnetlink(
            &netlink::new_address(seq, index, ip, prefix),
            seq,
            "RTM_NEWADDR",
            "rtnetlink RTM_NEWADDR",
        )
    }

    /// Adds a route to `dest/prefix` through this interface, without a gateway, in the
    /// main table (rtnetlink `RTM_NEWROUTE`, like `ip route add DEST/PREFIX dev NAME`).
    /// Host bits of `dest` must be zero (`EINVAL` otherwise). Fails with `EEXIST` if
    /// the route is already there, and `ENETDOWN` while the interface is down.
    pub fn add_route(&self, dest: IpAddr, prefix: u8) -> Result<(), Error> {
        check_prefix(&dest, prefix)?;
        let index = self.index()?;
        let seq = next_seq();
        rtnetlink(
            &netlink::new_route(seq, index, dest, prefix),
            seq,
            "RTM_NEWROUTE",
            "rtnetlink RTM_NEWROUTE",
        )
    }

    fn flags(&self) -> Result<u16, Error> {
        let mut ifr = IfReq::new(&self.name);
        ioctl(IfreqRequest::GetFlags, &mut ifr, "ioctl(SIOCGIFFLAGS)")?;
        Ok(ifr.flags())
    }

    fn change_flags(&self, bits: u16, on: bool) -> Result<(), Error> {
        let sock = control_socket()?;
        let mut ifr = IfReq::new(&self.name);
        raw::ioctl_ifreq(sock.as_fd(), IfreqRequest::GetFlags, &mut ifr).map_err(Error::sys("ioctl(SIOCGIFFLAGS)"))?;
        let flags = if on { ifr.flags() | bits } else { ifr.flags() & !bits };
        ifr.set_flags(flags);
        raw::ioctl_ifreq(sock.as_fd(), IfreqRequest::SetFlags, &mut ifr).map_err(Error::sys("ioctl(SIOCSIFFLAGS)"))
    }
}

/// The socket the `SIOC*IF*` ioctls go through (any socket of the namespace does).
fn control_socket() -> Result<OwnedFd, Error> {
    raw::socket(libc::AF_INET, libc::SOCK_DGRAM, 0).map_err(Error::sys("socket(AF_INET, SOCK_DGRAM)"))
}

fn ioctl(request: IfreqRequest, ifr: &mut IfReq, call: &'static str) -> Result<(), Error> {
    let sock = control_socket()?;
    raw::ioctl_ifreq(sock.as_fd(), request, ifr).map_err(Error::sys(call))
}

fn check_prefix(ip: &IpAddr, prefix: u8) -> Result<(), Error> {
    let max = if ip.is_ipv4() { 32 } else { 128 };
    if prefix > max {
        return Err(Error::InvalidArgument {
            what: "prefix length",
            value: u64::from(prefix),
            reason: if ip.is_ipv4() {
                "0..=32 for IPv4"
            } else {
                "0..=128 for IPv6"
            },
        });
    }
    Ok(())
}

/// Netlink sequence numbers: distinct per request of this process, so that a reply is
/// matched to its request.
fn next_seq() -> u32 {
    static SEQ: AtomicU32 = AtomicU32::new(1);
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// Sends one request on a fresh `NETLINK_ROUTE` socket and waits for its ACK.
///
/// `name` is the request type for messages, `call` the name a refusal is reported under.
fn rtnetlink(request: &[u8], seq: u32, name: &'static str, call: &'static str) -> Result<(), Error> {
    let sock = raw::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_ROUTE)
        .map_err(Error::sys("socket(AF_NETLINK, NETLINK_ROUTE)"))?;
    // The kernel answers at once; the timeout only guards against a reply never coming.
    let timeout = libc::timeval { tv_sec: 5, tv_usec: 0 };
    raw::set_opt(sock.as_fd(), libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)
        .map_err(Error::sys("setsockopt(SO_RCVTIMEO)"))?;
    let sent = raw::send(sock.as_fd(), request).map_err(Error::sys("send(NETLINK_ROUTE)"))?;
    if sent != request.len() {
        return Err(Error::Netlink {
            request: name,
            reason: "request only partly sent",
        });
    }
    let mut buf = [0u8; 8192];
    // Bounded: a few unrelated messages at most arrive on a fresh socket.
    for _ in 0..16 {
        let n = raw::recv(sock.as_fd(), &mut buf, 0).map_err(Error::sys("recv(NETLINK_ROUTE)"))?;
        let reply =
            netlink::reply(&buf[..n.min(buf.len())], seq).map_err(|reason| Error::Netlink { request: name, reason })?;
        match reply {
            Reply::Ack => return Ok(()),
            Reply::Refused(errno) => {
                return Err(Error::Sys {
                    call,
                    source: std::io::Error::from_raw_os_error(errno),
                });
            }
            Reply::Other => continue,
        }
    }
    Err(Error::Netlink {
        request: name,
        reason: "no acknowledgement",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths() {
        assert!(check_prefix(&"10.0.0.1".parse().unwrap(), 32).is_ok());
        assert!(check_prefix(&"10.0.0.1".parse().unwrap(), 33).is_err());
        assert!(check_prefix(&"::1".parse().unwrap(), 128).is_ok());
        assert!(check_prefix(&"::1".parse().unwrap(), 129).is_err());
    }

    #[test]
    fn missing_interface_is_enodev() {
        let e = Interface::new("hxnosuchif0").unwrap().index().unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENODEV), "{e}");
        assert!(e.to_string().contains("SIOCGIFINDEX"), "{e}");
    }

    #[test]
    fn loopback_is_there() {
        let lo = Interface::new("lo").unwrap();
        assert!(lo.index().unwrap() >= 1);
        assert!(lo.mtu().unwrap() >= 1280);
    }
}
