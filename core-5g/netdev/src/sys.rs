//! Constants and C layouts of the Linux interfaces this crate calls, where `libc` has
//! no binding or where a plain byte layout avoids reading C unions.
//!
//! Values are copied from the kernel's UAPI headers (`linux/if_tun.h`, `linux/if.h`,
//! `linux/sockios.h`, `linux/udp.h`; linux-libc-dev 6.1, plus `TUN_F_USO4/6` from
//! Linux 6.2's `if_tun.h`). The tests at the bottom pin them to what gcc 12 computes on
//! x86-64 and to `libc`'s values where it has them.

use std::os::raw::{c_int, c_uint, c_ulong};

use crate::error::Error;

/// `IFNAMSIZ` (linux/if.h): interface names are at most 15 bytes plus a NUL.
pub(crate) const IFNAMSIZ: usize = 16;

// TUNSETIFF flags (linux/if_tun.h).
/// `IFF_TUN`: layer-3 device (IP packets, no Ethernet header).
pub(crate) const IFF_TUN: u16 = 0x0001;
/// `IFF_NO_PI`: no 4-byte packet-information prefix on reads and writes.
pub(crate) const IFF_NO_PI: u16 = 0x1000;
/// `IFF_MULTI_QUEUE`: each open of the device attaches one more queue.
pub(crate) const IFF_MULTI_QUEUE: u16 = 0x0100;
/// `IFF_VNET_HDR`: every read and write starts with a `struct virtio_net_hdr`.
pub(crate) const IFF_VNET_HDR: u16 = 0x4000;

// TUN ioctls (linux/if_tun.h), as `_IOW('T', nr, int)` on x86-64/aarch64/riscv64.
/// `TUNSETIFF = _IOW('T', 202, int)`: attach this file to a (new) device; `struct ifreq`.
pub(crate) const TUNSETIFF: c_ulong = 0x4004_54ca;
/// `TUNSETOFFLOAD = _IOW('T', 208, unsigned int)`: offloads the reader handles; the
/// argument is the flag word itself, not a pointer.
pub(crate) const TUNSETOFFLOAD: c_ulong = 0x4004_54d0;
/// `TUNSETVNETHDRSZ = _IOW('T', 216, int)`: size of the vnet header; `int *`.
pub(crate) const TUNSETVNETHDRSZ: c_ulong = 0x4004_54d8;
/// `TUNSETVNETLE = _IOW('T', 220, int)`: vnet header fields little-endian; `int *`.
pub(crate) const TUNSETVNETLE: c_ulong = 0x4004_54dc;

// TUNSETOFFLOAD flags (linux/if_tun.h; USO4/USO6 since Linux 6.2).
/// `TUN_F_CSUM`: the reader accepts packets with a partial checksum.
pub(crate) const TUN_F_CSUM: c_uint = 0x01;
/// `TUN_F_TSO4`: the reader accepts IPv4 TCP super-packets.
pub(crate) const TUN_F_TSO4: c_uint = 0x02;
/// `TUN_F_TSO6`: the reader accepts IPv6 TCP super-packets.
pub(crate) const TUN_F_TSO6: c_uint = 0x04;
/// `TUN_F_TSO_ECN`: TSO with ECN bits.
pub(crate) const TUN_F_TSO_ECN: c_uint = 0x08;
/// `TUN_F_UFO`: UDP fragmentation offload (removed from Linux; kept for the bit).
pub(crate) const TUN_F_UFO: c_uint = 0x10;
/// `TUN_F_USO4`: the reader accepts IPv4 UDP super-packets (`VIRTIO_NET_HDR_GSO_UDP_L4`).
pub(crate) const TUN_F_USO4: c_uint = 0x20;
/// `TUN_F_USO6`: the same for IPv6. The kernel wants USO4 and USO6 together.
pub(crate) const TUN_F_USO6: c_uint = 0x40;

// Interface ioctls (linux/sockios.h), all taking a `struct ifreq *`.
/// `SIOCGIFFLAGS`: read `ifr_flags`.
pub(crate) const SIOCGIFFLAGS: c_ulong = 0x8913;
/// `SIOCSIFFLAGS`: write `ifr_flags`.
pub(crate) const SIOCSIFFLAGS: c_ulong = 0x8914;
/// `SIOCGIFMTU`: read `ifr_mtu`.
pub(crate) const SIOCGIFMTU: c_ulong = 0x8921;
/// `SIOCSIFMTU`: write `ifr_mtu`.
pub(crate) const SIOCSIFMTU: c_ulong = 0x8922;
/// `SIOCGIFINDEX`: read `ifr_ifindex`.
pub(crate) const SIOCGIFINDEX: c_ulong = 0x8933;

// UDP (linux/udp.h).
/// `SOL_UDP`: level of UDP socket options and cmsgs (= `IPPROTO_UDP`).
pub(crate) const SOL_UDP: c_int = 17;
/// `UDP_SEGMENT`: GSO — one send of equal segments (cmsg data: `__u16` segment size).
pub(crate) const UDP_SEGMENT: c_int = 103;
/// `UDP_GRO`: receive coalesced datagrams (option `int`; cmsg data: `int` segment size).
pub(crate) const UDP_GRO: c_int = 104;

/// Bytes of control data room per batch slot: a `UDP_GRO` or `UDP_SEGMENT` cmsg takes
/// 24 (`CMSG_SPACE(4)`); the rest leaves room for a timestamp or `IP_PKTINFO` a caller
/// may have switched on, so that the GRO cmsg is not cut off (`MSG_CTRUNC`).
pub(crate) const CMSG_SLOT: usize = 64;

/// One slot of control data, aligned like `struct cmsghdr` (its `cmsg_len` is a
/// `size_t`).
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub(crate) struct CmsgSlot(pub [u8; CMSG_SLOT]);

impl Default for CmsgSlot {
    fn default() -> Self {
        CmsgSlot([0; CMSG_SLOT])
    }
}

/// A checked interface name: 1-15 bytes, NUL-padded as the kernel wants it in
/// `ifr_name`. A `%d` in it (TUN only) asks the kernel to pick the number.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct IfName {
    bytes: [u8; IFNAMSIZ],
    len: usize,
}

impl IfName {
    /// Checks `name` against the kernel's `dev_valid_name` rules (net/core/dev.c).
    pub(crate) fn new(name: &str) -> Result<IfName, Error> {
        let invalid = |reason| Error::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("empty"));
        }
        if name.len() >= IFNAMSIZ {
            return Err(invalid("longer than 15 bytes"));
        }
        if name == "." || name == ".." {
            return Err(invalid("`.` and `..` are not interface names"));
        }
        if name
            .bytes()
            .any(|b| b == 0 || b == b'/' || b == b':' || b.is_ascii_whitespace())
        {
            return Err(invalid("holds a NUL, `/`, `:` or whitespace"));
        }
        let mut bytes = [0u8; IFNAMSIZ];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(IfName { bytes, len: name.len() })
    }

    /// Reads the NUL-terminated name the kernel wrote into `ifr_name`.
    pub(crate) fn from_c(raw: &[u8; IFNAMSIZ]) -> Result<IfName, Error> {
        let len = raw.iter().position(|&b| b == 0).unwrap_or(IFNAMSIZ);
        match std::str::from_utf8(&raw[..len]) {
            Ok(s) => IfName::new(s),
            Err(_) => Err(Error::InvalidName {
                name: String::from_utf8_lossy(&raw[..len]).into_owned(),
                reason: "not UTF-8",
            }),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Built from a &str in `new`, so always valid UTF-8.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    pub(crate) fn c_bytes(&self) -> [u8; IFNAMSIZ] {
        self.bytes
    }
}

impl std::fmt::Debug for IfName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// `struct ifreq` (linux/if.h) as bytes: the name, then the 24-byte `ifr_ifru` union,
/// of which this crate uses the `short` flags, the `int` MTU / index, both at offset 0.
#[repr(C, align(8))]
#[derive(Clone, Copy)]
pub(crate) struct IfReq {
    pub name: [u8; IFNAMSIZ],
    pub ifru: [u8; 24],
}

impl IfReq {
    pub(crate) fn new(name: &IfName) -> IfReq {
        IfReq {
            name: name.c_bytes(),
            ifru: [0; 24],
        }
    }

    /// `ifr_flags` (a C `short`; TUN and interface flags all fit in 16 bits).
    pub(crate) fn flags(&self) -> u16 {
        u16::from_ne_bytes([self.ifru[0], self.ifru[1]])
    }

    pub(crate) fn set_flags(&mut self, flags: u16) {
        self.ifru[..2].copy_from_slice(&flags.to_ne_bytes());
    }

    /// `ifr_mtu` / `ifr_ifindex` (a C `int`).
    pub(crate) fn int(&self) -> i32 {
        i32::from_ne_bytes([self.ifru[0], self.ifru[1], self.ifru[2], self.ifru[3]])
    }

    pub(crate) fn set_int(&mut self, value: i32) {
        self.ifru[..4].copy_from_slice(&value.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    // Printed by a C program including <net/if.h>, <linux/if_tun.h>, <sys/socket.h>
    // (linux-libc-dev 6.1, gcc 12, x86-64): ifreq size=40 align=8 ifr_ifru at 16;
    // cmsghdr size=16, CMSG_LEN(2)=18, CMSG_SPACE(4)=24; TUNSETIFF=0x400454ca
    // TUNSETOFFLOAD=0x400454d0 TUNSETVNETHDRSZ=0x400454d8 TUNSETVNETLE=0x400454dc.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn ifreq_layout() {
        assert_eq!(size_of::<IfReq>(), 40);
        assert_eq!(align_of::<IfReq>(), 8);
        assert_eq!(offset_of!(IfReq, ifru), 16);
        assert_eq!(size_of::<IfReq>(), size_of::<libc::ifreq>());
        assert_eq!(size_of::<libc::cmsghdr>(), 16);
        assert_eq!(align_of::<CmsgSlot>(), align_of::<libc::cmsghdr>());
    }

    #[test]
    fn constants_match_libc() {
        assert_eq!(TUNSETIFF, libc::TUNSETIFF as c_ulong);
        assert_eq!(TUNSETOFFLOAD, libc::TUNSETOFFLOAD as c_ulong);
        assert_eq!(TUNSETVNETHDRSZ, libc::TUNSETVNETHDRSZ as c_ulong);
        assert_eq!(TUNSETVNETLE, libc::TUNSETVNETLE as c_ulong);
        assert_eq!(c_int::from(IFF_TUN), libc::IFF_TUN);
        assert_eq!(c_int::from(IFF_NO_PI), libc::IFF_NO_PI);
        assert_eq!(c_int::from(IFF_MULTI_QUEUE), libc::IFF_MULTI_QUEUE);
        assert_eq!(c_int::from(IFF_VNET_HDR), libc::IFF_VNET_HDR);
        for (ours, theirs) in [
            (TUN_F_CSUM, libc::TUN_F_CSUM),
            (TUN_F_TSO4, libc::TUN_F_TSO4),
            (TUN_F_TSO6, libc::TUN_F_TSO6),
            (TUN_F_TSO_ECN, libc::TUN_F_TSO_ECN),
            (TUN_F_UFO, libc::TUN_F_UFO),
            (TUN_F_USO4, libc::TUN_F_USO4),
            (TUN_F_USO6, libc::TUN_F_USO6),
        ] {
            assert_eq!(ours, theirs);
        }
        assert_eq!(SIOCGIFFLAGS, libc::SIOCGIFFLAGS);
        assert_eq!(SIOCSIFFLAGS, libc::SIOCSIFFLAGS);
        assert_eq!(SIOCGIFMTU, libc::SIOCGIFMTU);
        assert_eq!(SIOCSIFMTU, libc::SIOCSIFMTU);
        assert_eq!(SIOCGIFINDEX, libc::SIOCGIFINDEX);
        assert_eq!(SOL_UDP, libc::SOL_UDP);
        assert_eq!(UDP_SEGMENT, libc::UDP_SEGMENT);
        assert_eq!(UDP_GRO, libc::UDP_GRO);
        assert_eq!(IFNAMSIZ, libc::IFNAMSIZ);
    }

    #[test]
    fn interface_names() {
        for ok in ["tun0", "hx%d", "a", "n3-upf.1", "abcdefghijklmno"] {
            let n = IfName::new(ok).unwrap();
            assert_eq!(n.as_str(), ok);
            assert_eq!(IfName::from_c(&n.c_bytes()).unwrap(), n);
        }
        for bad in ["", "abcdefghijklmnop", ".", "..", "a/b", "a:1", "a b", "a\0"] {
            assert!(matches!(IfName::new(bad), Err(Error::InvalidName { .. })), "{bad:?}");
        }
        let mut raw = [0u8; IFNAMSIZ];
        raw[..3].copy_from_slice(&[0xff, b'a', 0]);
        assert!(IfName::from_c(&raw).is_err());
    }

    #[test]
    fn ifreq_fields() {
        let mut r = IfReq::new(&IfName::new("tun7").unwrap());
        assert_eq!(&r.name[..5], b"tun7\0");
        r.set_flags(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
        assert_eq!(r.flags(), 0x5001);
        r.set_int(1400);
        assert_eq!(r.int(), 1400);
        assert_eq!(r.ifru[4..], [0; 20]);
    }
}
