//! TUN devices (drivers/net/tun.c, Documentation/networking/tuntap.rst): layer-3
//! interfaces whose packets a process reads and writes through `/dev/net/tun`.
//!
//! A [`Tun`] is one queue of one device, always `IFF_TUN | IFF_NO_PI` (bare IP packets,
//! no 4-byte prefix). With `IFF_MULTI_QUEUE` several queues share the device, one per
//! worker thread; the kernel spreads packets it sends into the device across them by
//! flow hash. With `IFF_VNET_HDR` every packet read or written starts with a
//! [`VnetHeader`](crate::VnetHeader), which lets a write carry a 64 KiB super-packet
//! the kernel segments, and — once `TUNSETOFFLOAD` allows it — lets reads return such
//! super-packets.

use std::fs::OpenOptions;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use crate::error::Error;
use crate::iface::Interface;
use crate::raw::{self, IfreqRequest, TunIntRequest};
use crate::sys::{self, IfName, IfReq};
use crate::vnet::VnetHeader;

/// Where the TUN clone device lives.
pub const TUN_PATH: &str = "/dev/net/tun";

/// Most queues one device takes (`MAX_TAP_QUEUES`, drivers/net/tun.c).
pub const MAX_QUEUES: usize = 256;

/// Offloads a TUN reader can take (`TUNSETOFFLOAD` flags, linux/if_tun.h). They govern
/// what the kernel may hand to `read`; writes with GSO headers need only
/// `IFF_VNET_HDR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Offload(u32);

impl Offload {
    /// Nothing: every packet read is complete, checksums included.
    pub const NONE: Offload = Offload(0);
    /// `TUN_F_CSUM`: packets with a partial L4 checksum (`F_NEEDS_CSUM`). Needed by
    /// every segmentation offload.
    pub const CSUM: Offload = Offload(sys::TUN_F_CSUM);
    /// `TUN_F_TSO4`: IPv4 TCP super-packets.
    pub const TSO4: Offload = Offload(sys::TUN_F_TSO4);
    /// `TUN_F_TSO6`: IPv6 TCP super-packets.
    pub const TSO6: Offload = Offload(sys::TUN_F_TSO6);
    /// `TUN_F_TSO_ECN`: TCP super-packets with ECN (CWR) set.
    pub const TSO_ECN: Offload = Offload(sys::TUN_F_TSO_ECN);
    /// `TUN_F_UFO`: IP-fragmented UDP; Linux no longer accepts it.
    pub const UFO: Offload = Offload(sys::TUN_F_UFO);
    /// `TUN_F_USO4`: IPv4 UDP super-packets (`GsoType::UdpL4`), Linux ≥ 6.2.
    pub const USO4: Offload = Offload(sys::TUN_F_USO4);
    /// `TUN_F_USO6`: IPv6 UDP super-packets; the kernel wants USO4 and USO6 together.
    pub const USO6: Offload = Offload(sys::TUN_F_USO6);
    /// What a user plane wants: checksum, TCP and UDP segmentation, both families.
    pub const ALL: Offload = Offload(
        sys::TUN_F_CSUM | sys::TUN_F_TSO4 | sys::TUN_F_TSO6 | sys::TUN_F_TSO_ECN | sys::TUN_F_USO4 | sys::TUN_F_USO6,
    );

    /// The flag word.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// From a flag word (unknown bits are kept; the kernel refuses them).
    pub fn from_bits(bits: u32) -> Offload {
        Offload(bits)
    }

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Offload) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn without(self, other: Offload) -> Offload {
        Offload(self.0 & !other.0)
    }

    /// What to ask the kernel for, in order, when it refuses (`EINVAL`) a flag it does
    /// not know: `set_offload` in drivers/net/tun.c rejects unknown bits and USO4
    /// without USO6, and ignores segmentation bits without `CSUM`.
    fn attempts(self) -> Vec<Offload> {
        let segmentation =
            Offload::TSO4 | Offload::TSO6 | Offload::TSO_ECN | Offload::UFO | Offload::USO4 | Offload::USO6;
        let mut wanted = self;
        if wanted.0 & segmentation.0 != 0 {
            wanted = wanted | Offload::CSUM;
        }
        let candidates = [
            wanted,
            wanted.without(Offload::UFO),
            wanted.without(Offload::UFO | Offload::USO4 | Offload::USO6),
            wanted.without(Offload::UFO | Offload::USO4 | Offload::USO6 | Offload::TSO_ECN),
            wanted.without(segmentation),
        ];
        let mut out: Vec<Offload> = Vec::with_capacity(candidates.len());
        for c in candidates {
            if !c.is_empty() && !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

impl std::ops::BitOr for Offload {
    type Output = Offload;
    fn bitor(self, rhs: Offload) -> Offload {
        Offload(self.0 | rhs.0)
    }
}

impl std::fmt::Display for Offload {
    /// `CSUM|TSO4|…`, or `none`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [(Offload, &str); 7] = [
            (Offload::CSUM, "CSUM"),
            (Offload::TSO4, "TSO4"),
            (Offload::TSO6, "TSO6"),
            (Offload::TSO_ECN, "TSO_ECN"),
            (Offload::UFO, "UFO"),
            (Offload::USO4, "USO4"),
            (Offload::USO6, "USO6"),
        ];
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        let mut rest = self.0;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
                rest &= !flag.0;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "{rest:#x}")?;
        }
        Ok(())
    }
}

/// How to open a TUN device; see [`Tun::builder`].
#[derive(Debug, Clone)]
pub struct TunBuilder {
    name: Option<String>,
    multi_queue: bool,
    vnet_hdr_len: Option<usize>,
    offload: Offload,
    nonblocking: bool,
}

impl TunBuilder {
    /// The device name (≤ 15 bytes; `%d` lets the kernel pick a number). Opening an
    /// existing TUN device of that name attaches to it. Default: the kernel picks
    /// `tunN`.
    pub fn name(mut self, name: &str) -> TunBuilder {
        self.name = Some(name.to_owned());
        self
    }

    /// `IFF_MULTI_QUEUE`: the device takes several queues (each one more open).
    /// [`open_queues`](Self::open_queues) with more than one queue sets it anyway.
    pub fn multi_queue(mut self, on: bool) -> TunBuilder {
        self.multi_queue = on;
        self
    }

    /// `IFF_VNET_HDR` with the 10-byte `struct virtio_net_hdr` before every packet.
    pub fn vnet_hdr(mut self, on: bool) -> TunBuilder {
        self.vnet_hdr_len = on.then_some(VnetHeader::LEN);
        self
    }

    /// `IFF_VNET_HDR` with a header of `len` bytes (`TUNSETVNETHDRSZ`; even, ≥ 10):
    /// 12 puts the IP header of each packet on a 4-byte boundary of a 4-byte-aligned
    /// buffer. Bytes after the first 10 are ignored on write and zero on read.
    pub fn vnet_hdr_len(mut self, len: usize) -> TunBuilder {
        self.vnet_hdr_len = Some(len);
        self
    }

    /// Offloads to ask for with `TUNSETOFFLOAD` (needs a vnet header). The kernel's
    /// answer is in [`Tun::offload`]: flags it does not know are dropped one group at a
    /// time (UFO, then USO, then TSO_ECN, then all segmentation) until it accepts.
    pub fn offload(mut self, offload: Offload) -> TunBuilder {
        self.offload = offload;
        self
    }

    /// Non-blocking reads and writes (`O_NONBLOCK`, the default): `read` fails with
    /// `WouldBlock` when no packet is waiting.
    pub fn nonblocking(mut self, on: bool) -> TunBuilder {
        self.nonblocking = on;
        self
    }

    /// Opens one queue.
    pub fn open(&self) -> Result<Tun, Error> {
        let mut queues = self.open_queues(1)?;
        queues.pop().ok_or(Error::InvalidArgument {
            what: "TUN queue count",
            value: 0,
            reason: "1..=256",
        })
    }

    /// Opens `count` queues of one device (1..=256; `IFF_MULTI_QUEUE` when more than
    /// one). The first open creates the device (or attaches to an existing one) and
    /// sets the vnet header and offloads, which belong to the device.
    pub fn open_queues(&self, count: usize) -> Result<Vec<Tun>, Error> {
        if count == 0 || count > MAX_QUEUES {
            return Err(Error::InvalidArgument {
                what: "TUN queue count",
                value: count as u64,
                reason: "1..=256",
            });
        }
        if let Some(len) = self.vnet_hdr_len
            && (len < VnetHeader::LEN || len % 2 != 0 || len > 64)
        {
            return Err(Error::InvalidArgument {
                what: "vnet header length",
                value: len as u64,
                reason: "even, 10..=64",
            });
        }
        if !self.offload.is_empty() && self.vnet_hdr_len.is_none() {
            return Err(Error::InvalidArgument {
                what: "TUN offload without a vnet header, flags",
                value: u64::from(self.offload.bits()),
                reason: "offloads need vnet_hdr(true)",
            });
        }
        let name = self.name.as_deref().map(IfName::new).transpose()?;
        let multi_queue = self.multi_queue || count > 1;
        let mut flags = sys::IFF_TUN | sys::IFF_NO_PI;
        if multi_queue {
            flags |= sys::IFF_MULTI_QUEUE;
        }
        if self.vnet_hdr_len.is_some() {
            flags |= sys::IFF_VNET_HDR;
        }

        let (first, name) = attach(name.as_ref(), flags, self.nonblocking)?;
        let vnet_hdr_len = self.vnet_hdr_len.unwrap_or(0);
        if vnet_hdr_len > 0 {
            configure_vnet(first.as_fd(), vnet_hdr_len)?;
        }
        let offload = if self.offload.is_empty() {
            Offload::NONE
        } else {
            negotiate_offload(first.as_fd(), self.offload)?
        };
        let mut queues = Vec::with_capacity(count);
        queues.push(first);
        for _ in 1..count {
            let (fd, _) = attach(Some(&name), flags, self.nonblocking)?;
            queues.push(fd);
        }
        Ok(queues
            .into_iter()
            .map(|fd| Tun {
                fd,
                name,
                vnet_hdr_len,
                offload,
                multi_queue,
            })
            .collect())
    }
}

/// One queue of a TUN device. Reads and writes are whole IP packets (with a vnet
/// header first if the device has one), one per call, with no allocation.
///
/// The device lives as long as one of its queues is open (no `TUNSETPERSIST`). `Tun`
/// is `Send + Sync`; for async use wrap it in `tokio::io::unix::AsyncFd` (it is
/// non-blocking by default) and call `read`/`write` inside `try_io`.
#[derive(Debug)]
pub struct Tun {
    fd: OwnedFd,
    name: IfName,
    vnet_hdr_len: usize,
    offload: Offload,
    multi_queue: bool,
}

impl Tun {
    /// How to open a device with more than the defaults (one queue, no vnet header,
    /// non-blocking).
    pub fn builder() -> TunBuilder {
        TunBuilder {
            name: None,
            multi_queue: false,
            vnet_hdr_len: None,
            offload: Offload::NONE,
            nonblocking: true,
        }
    }

    /// Opens (creating it if needed) the single-queue device `name`, non-blocking.
    pub fn open(name: &str) -> Result<Tun, Error> {
        Tun::builder().name(name).open()
    }

    /// Whether `/dev/net/tun` can be opened. Creating a device also needs
    /// `CAP_NET_ADMIN`; only an open of a [`Tun`] tells for sure.
    pub fn is_supported() -> bool {
        OpenOptions::new().read(true).write(true).open(TUN_PATH).is_ok()
    }

    /// The device name the kernel gave.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The device as an [`Interface`], to configure it.
    pub fn interface(&self) -> Interface {
        Interface::from_name(self.name)
    }

    /// Bytes of vnet header before every packet (0: none).
    pub fn vnet_hdr_len(&self) -> usize {
        self.vnet_hdr_len
    }

    /// Offloads the kernel accepted (`Offload::NONE` without a vnet header).
    pub fn offload(&self) -> Offload {
        self.offload
    }

    /// Whether the device was opened with `IFF_MULTI_QUEUE`.
    pub fn is_multi_queue(&self) -> bool {
        self.multi_queue
    }

    /// Reads one packet into `buf` (`read(2)`); returns its length. A packet longer
    /// than `buf` is cut off (the rest is lost). `WouldBlock` when none is waiting on a
    /// non-blocking queue.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        raw::read(self.fd.as_fd(), buf)
    }

    /// Writes one packet (`write(2)`): the kernel receives it as if it arrived on the
    /// interface. `EINVAL` for a malformed packet or vnet header; a packet the kernel
    /// cannot route is dropped after a successful write.
    pub fn write(&self, packet: &[u8]) -> io::Result<usize> {
        raw::write(self.fd.as_fd(), packet)
    }

    /// Writes one packet gathered from several buffers (`writev(2)`), e.g. a vnet
    /// header and a packet that has no room in front of it.
    pub fn write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        raw::writev(self.fd.as_fd(), bufs)
    }

    /// Waits until a packet can be read, or `timeout` passes (`Ok(false)`); `None`
    /// waits for ever.
    pub fn wait_readable(&self, timeout: Option<Duration>) -> io::Result<bool> {
        raw::poll_readable(self.fd.as_fd(), timeout)
    }

    /// Switches `O_NONBLOCK` on or off for this queue.
    pub fn set_nonblocking(&self, on: bool) -> Result<(), Error> {
        raw::set_nonblocking(self.fd.as_fd(), on).map_err(Error::sys("fcntl(F_SETFL, O_NONBLOCK)"))
    }

    /// [`Interface::set_mtu`] of this device.
    pub fn set_mtu(&self, mtu: u32) -> Result<(), Error> {
        self.interface().set_mtu(mtu)
    }

    /// [`Interface::set_up`] of this device.
    pub fn set_up(&self) -> Result<(), Error> {
        self.interface().set_up()
    }

    /// [`Interface::add_address`] on this device.
    pub fn add_address(&self, ip: IpAddr, prefix: u8) -> Result<(), Error> {
        self.interface().add_address(ip, prefix)
    }

    /// [`Interface::add_route`] through this device.
    pub fn add_route(&self, dest: IpAddr, prefix: u8) -> Result<(), Error> {
        self.interface().add_route(dest, prefix)
    }
}

impl AsFd for Tun {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Tun {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Opens `/dev/net/tun` and attaches it to device `name` (or a new one) with `flags`.
fn attach(name: Option<&IfName>, flags: u16, nonblocking: bool) -> Result<(OwnedFd, IfName), Error> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    if nonblocking {
        options.custom_flags(libc::O_NONBLOCK);
    }
    // std opens with O_CLOEXEC.
    let file = options.open(TUN_PATH).map_err(Error::sys("open(/dev/net/tun)"))?;
    let fd = OwnedFd::from(file);
    let mut ifr = IfReq {
        name: name.map(IfName::c_bytes).unwrap_or_default(),
        ifru: [0; 24],
    };
    ifr.set_flags(flags);
    raw::ioctl_ifreq(fd.as_fd(), IfreqRequest::TunSetIff, &mut ifr).map_err(Error::sys("ioctl(TUNSETIFF)"))?;
    let actual = IfName::from_c(&ifr.name)?;
    Ok((fd, actual))
}

/// Vnet header size and byte order (both device-wide).
fn configure_vnet(fd: BorrowedFd<'_>, len: usize) -> Result<(), Error> {
    // VnetHeader reads and writes little-endian; make the device agree on any host.
    // On a little-endian host that is the legacy default already, so a kernel that
    // refuses the ioctl changes nothing there.
    if let Err(e) = raw::ioctl_tun_int(fd, TunIntRequest::VnetLittleEndian, 1)
        && cfg!(target_endian = "big")
    {
        return Err(Error::Sys {
            call: "ioctl(TUNSETVNETLE)",
            source: e,
        });
    }
    let len = i32::try_from(len).unwrap_or(i32::MAX);
    raw::ioctl_tun_int(fd, TunIntRequest::VnetHdrSize, len).map_err(Error::sys("ioctl(TUNSETVNETHDRSZ)"))
}

/// `TUNSETOFFLOAD`, dropping flags the kernel refuses; returns what it took.
fn negotiate_offload(fd: BorrowedFd<'_>, wanted: Offload) -> Result<Offload, Error> {
    for attempt in wanted.attempts() {
        match raw::tun_set_offload(fd, attempt.bits()) {
            Ok(()) => return Ok(attempt),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => continue,
            Err(e) => {
                return Err(Error::Sys {
                    call: "ioctl(TUNSETOFFLOAD)",
                    source: e,
                });
            }
        }
    }
    raw::tun_set_offload(fd, 0).map_err(Error::sys("ioctl(TUNSETOFFLOAD)"))?;
    Ok(Offload::NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offload_attempts_drop_unknown_groups_in_order() {
        assert_eq!(
            Offload::ALL.attempts(),
            vec![
                Offload::ALL,
                Offload::CSUM | Offload::TSO4 | Offload::TSO6 | Offload::TSO_ECN,
                Offload::CSUM | Offload::TSO4 | Offload::TSO6,
                Offload::CSUM,
            ]
        );
        // Segmentation without CSUM would be refused: CSUM is added.
        assert_eq!(Offload::USO4.attempts()[0], Offload::CSUM | Offload::USO4);
        assert_eq!(Offload::CSUM.attempts(), vec![Offload::CSUM]);
        assert!(Offload::NONE.attempts().is_empty());
    }

    #[test]
    fn offload_display_and_bits() {
        assert_eq!(Offload::NONE.to_string(), "none");
        assert_eq!(Offload::ALL.to_string(), "CSUM|TSO4|TSO6|TSO_ECN|USO4|USO6");
        assert_eq!(Offload::from_bits(0x201).to_string(), "CSUM|0x200");
        assert_eq!(Offload::ALL.bits(), 0x6f);
        assert!(Offload::ALL.contains(Offload::USO4 | Offload::USO6));
        assert!(!Offload::CSUM.contains(Offload::TSO4));
    }

    #[test]
    fn builder_refuses_bad_arguments_before_any_syscall() {
        let e = Tun::builder().open_queues(0).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidArgument {
                    what: "TUN queue count",
                    ..
                }
            ),
            "{e}"
        );
        let e = Tun::builder().open_queues(257).unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        let e = Tun::builder().vnet_hdr_len(11).open().unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidArgument {
                    what: "vnet header length",
                    ..
                }
            ),
            "{e}"
        );
        let e = Tun::builder().offload(Offload::CSUM).open().unwrap_err();
        assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
        let e = Tun::builder().name("much-too-long-name").open().unwrap_err();
        assert!(matches!(e, Error::InvalidName { .. }), "{e}");
    }
}
