//! The one place with `unsafe`: thin wrappers over the libc calls this crate makes
//! (`ioctl` on TUN and interface requests, `recvmmsg`/`sendmmsg`/`sendmsg`, socket
//! options, `read`/`write`/`poll`, `setns`/`unshare`) and the C-address conversions.
//!
//! Every function here is safe to call: each builds the pointers it hands to the kernel
//! from Rust borrows that outlive the call, with the lengths of those borrows. Meaning
//! (what to ask for, how to read the answer) lives in the other modules.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::ops::Range;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::raw::{c_int, c_uint, c_ulong, c_void};
use std::time::Duration;

use crate::sys::{self, CMSG_SLOT, CmsgSlot, IfReq};

fn cvt(r: c_int) -> io::Result<c_int> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn cvt_size(r: isize) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r.unsigned_abs())
    }
}

// ---------------------------------------------------------------------------------
// ioctl

/// `ioctl(fd, request, arg)` where `arg` points at a `T`.
///
/// # Safety
/// `request` must be one whose argument is a pointer to a `T` (or to a C struct no
/// larger than `T` with the same layout): the kernel reads and writes that many bytes.
unsafe fn ioctl_ptr<T>(fd: BorrowedFd<'_>, request: c_ulong, arg: &mut T) -> io::Result<()> {
    // SAFETY: arg is a live, writable T; the caller guarantees `request` takes a
    // pointer to such a T. `as _` adapts the request to libc's `Ioctl` type (c_ulong on
    // glibc, c_int on musl; every request used here fits in 32 bits).
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request as _, (arg as *mut T).cast::<c_void>()) }).map(drop)
}

/// The interface ioctls this crate makes; each takes a `struct ifreq *`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IfreqRequest {
    /// `TUNSETIFF`, on a `/dev/net/tun` file.
    TunSetIff,
    /// `SIOCGIFFLAGS`, on any socket.
    GetFlags,
    /// `SIOCSIFFLAGS`.
    SetFlags,
    /// `SIOCGIFMTU`.
    GetMtu,
    /// `SIOCSIFMTU`.
    SetMtu,
    /// `SIOCGIFINDEX`.
    GetIndex,
}

impl IfreqRequest {
    fn code(self) -> c_ulong {
        match self {
            IfreqRequest::TunSetIff => sys::TUNSETIFF,
            IfreqRequest::GetFlags => sys::SIOCGIFFLAGS,
            IfreqRequest::SetFlags => sys::SIOCSIFFLAGS,
            IfreqRequest::GetMtu => sys::SIOCGIFMTU,
            IfreqRequest::SetMtu => sys::SIOCSIFMTU,
            IfreqRequest::GetIndex => sys::SIOCGIFINDEX,
        }
    }
}

/// One of the `struct ifreq` ioctls.
pub(crate) fn ioctl_ifreq(fd: BorrowedFd<'_>, request: IfreqRequest, ifr: &mut IfReq) -> io::Result<()> {
    // SAFETY: every IfreqRequest takes a `struct ifreq *`, and IfReq has its size (40
    // bytes on 64-bit, pinned by the layout test in sys.rs).
    unsafe { ioctl_ptr(fd, request.code(), ifr) }
}

/// The TUN ioctls whose argument is an `int *` (`TUNSETVNETHDRSZ`, `TUNSETVNETLE`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum TunIntRequest {
    VnetHdrSize,
    VnetLittleEndian,
}

pub(crate) fn ioctl_tun_int(fd: BorrowedFd<'_>, request: TunIntRequest, value: c_int) -> io::Result<()> {
    let code = match request {
        TunIntRequest::VnetHdrSize => sys::TUNSETVNETHDRSZ,
        TunIntRequest::VnetLittleEndian => sys::TUNSETVNETLE,
    };
    let mut value = value;
    // SAFETY: both requests take an `int *`; value is a live c_int.
    unsafe { ioctl_ptr(fd, code, &mut value) }
}

/// `ioctl(fd, TUNSETOFFLOAD, flags)`: the flag word is passed by value.
pub(crate) fn tun_set_offload(fd: BorrowedFd<'_>, flags: c_uint) -> io::Result<()> {
    // SAFETY: TUNSETOFFLOAD reads its argument as an integer (drivers/net/tun.c
    // `set_offload(tun, arg)`), never as a pointer, so no memory is touched.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), sys::TUNSETOFFLOAD as _, c_ulong::from(flags)) }).map(drop)
}

// ---------------------------------------------------------------------------------
// descriptors

/// `socket(family, ty | SOCK_CLOEXEC, protocol)`.
pub(crate) fn socket(family: c_int, ty: c_int, protocol: c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket() takes no pointers.
    let fd = cvt(unsafe { libc::socket(family, ty | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: fd is a descriptor socket() just returned; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets or clears `O_NONBLOCK`.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFL takes no argument.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    let new = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if new != flags {
        // SAFETY: F_SETFL takes an int argument.
        cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, new) })?;
    }
    Ok(())
}

/// `read(fd, buf)`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is live and writable for buf.len() bytes.
    cvt_size(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast::<c_void>(), buf.len()) })
}

/// `write(fd, buf)`.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: buf is live and readable for buf.len() bytes.
    cvt_size(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast::<c_void>(), buf.len()) })
}

/// `writev(fd, bufs)`: one packet gathered from several buffers.
pub(crate) fn writev(fd: BorrowedFd<'_>, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
    let count = c_int::try_from(bufs.len()).unwrap_or(c_int::MAX);
    // SAFETY: IoSlice is guaranteed ABI-compatible with `struct iovec` on Unix (std
    // docs), each one borrows live memory of its length, and count ≤ bufs.len().
    cvt_size(unsafe { libc::writev(fd.as_raw_fd(), bufs.as_ptr().cast::<libc::iovec>(), count) })
}

/// `send(fd, buf, 0)` (used on netlink sockets).
pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: buf is live and readable for buf.len() bytes.
    cvt_size(unsafe { libc::send(fd.as_raw_fd(), buf.as_ptr().cast::<c_void>(), buf.len(), 0) })
}

/// `recv(fd, buf, 0)`; with `MSG_TRUNC` the return value is the datagram's full length.
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], flags: c_int) -> io::Result<usize> {
    // SAFETY: buf is live and writable for buf.len() bytes.
    cvt_size(unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast::<c_void>(), buf.len(), flags) })
}

/// `poll` for `POLLIN` on one descriptor; `None` waits for ever. `Ok(false)` on timeout.
pub(crate) fn poll_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    let ms = match timeout {
        None => -1,
        // Round up so that a 100 µs timeout does not become a busy poll of 0 ms.
        Some(t) => c_int::try_from(t.as_micros().div_ceil(1000)).unwrap_or(c_int::MAX),
    };
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: pfd is one live pollfd, and nfds is 1.
    let n = cvt(unsafe { libc::poll(&mut pfd, 1, ms) })?;
    Ok(n > 0)
}

// ---------------------------------------------------------------------------------
// socket options

/// `setsockopt(level, name, value)` for a plain C value.
pub(crate) fn set_opt<T: Copy>(fd: BorrowedFd<'_>, level: c_int, name: c_int, value: &T) -> io::Result<()> {
    // SAFETY: value points at a live T of size_of::<T>() bytes, which the kernel only
    // reads; callers pass C integers or #[repr(C)] structs from libc.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast::<c_void>(),
            size_of::<T>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `getsockopt(level, name)` of an `int` option.
pub(crate) fn get_opt_int(fd: BorrowedFd<'_>, level: c_int, name: c_int) -> io::Result<c_int> {
    let mut v: c_int = 0;
    let mut len = size_of::<c_int>() as libc::socklen_t;
    // SAFETY: v and len are live locals; len gives the kernel v's size.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut v as *mut c_int).cast::<c_void>(),
            &mut len,
        )
    })?;
    Ok(v)
}

/// `bind(fd, addr)`.
pub(crate) fn bind(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<()> {
    let (sa, len) = to_sockaddr(addr);
    // SAFETY: sa is a live sockaddr_storage holding a sockaddr_in/in6 of len bytes.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_storage).cast::<libc::sockaddr>(),
            len,
        )
    })
    .map(drop)
}

// ---------------------------------------------------------------------------------
// namespaces

/// `setns(fd, CLONE_NEWNET)`: moves the calling thread into the network namespace
/// `fd` refers to.
pub(crate) fn setns_net(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: setns takes no pointers; it changes only the calling thread.
    cvt(unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) }).map(drop)
}

/// `unshare(CLONE_NEWNET)`: moves the calling thread into a new network namespace.
pub(crate) fn unshare_net() -> io::Result<()> {
    // SAFETY: unshare takes no pointers; it changes only the calling thread.
    cvt(unsafe { libc::unshare(libc::CLONE_NEWNET) }).map(drop)
}

// ---------------------------------------------------------------------------------
// batched datagrams

/// Preallocated storage of one `recvmmsg`/`sendmmsg` batch: `count` slots of
/// `slot_size` bytes in one allocation, each with room for a source/destination
/// address and control data, and the `mmsghdr`/`iovec` arrays the kernel reads.
///
/// The `mmsghdr`s are re-pointed at the slots right before every call, from the
/// `&mut self` borrow that covers the call; nothing else ever reads their pointers.
pub(crate) struct Slots {
    buf: Vec<u8>,
    slot_size: usize,
    /// Bytes of each slot: received, or queued to send.
    lens: Vec<usize>,
    names: Vec<libc::sockaddr_storage>,
    name_lens: Vec<libc::socklen_t>,
    control: Vec<CmsgSlot>,
    control_lens: Vec<usize>,
    /// `msg_flags` of each received message (`MSG_TRUNC`, `MSG_CTRUNC`).
    flags: Vec<c_int>,
    hdrs: Vec<libc::mmsghdr>,
    iovs: Vec<libc::iovec>,
}

// SAFETY: the only non-Send/Sync fields are the raw pointers inside `hdrs` and `iovs`.
// They point into this same struct's own vectors, are written right before each
// recvmmsg/sendmmsg under `&mut self`, and are never dereferenced by Rust code, so
// moving a Slots to another thread or sharing `&Slots` cannot race on what they point
// at.
unsafe impl Send for Slots {}
// SAFETY: as above; `&Slots` gives read access to plain data only.
unsafe impl Sync for Slots {}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots")
            .field("count", &self.count())
            .field("slot_size", &self.slot_size)
            .finish_non_exhaustive()
    }
}

impl Slots {
    /// `count × slot_size` bytes, zeroed. Callers check that both are non-zero.
    pub(crate) fn new(count: usize, slot_size: usize) -> Slots {
        // SAFETY: all-zero bytes are a valid sockaddr_storage, mmsghdr and iovec (plain
        // C structs; null pointers and zero lengths).
        let (name, hdr, iov) = unsafe {
            (
                zeroed::<libc::sockaddr_storage>(),
                zeroed::<libc::mmsghdr>(),
                zeroed::<libc::iovec>(),
            )
        };
        Slots {
            buf: vec![0; count * slot_size],
            slot_size,
            lens: vec![0; count],
            names: vec![name; count],
            name_lens: vec![0; count],
            control: vec![CmsgSlot::default(); count],
            control_lens: vec![0; count],
            flags: vec![0; count],
            hdrs: vec![hdr; count],
            iovs: vec![iov; count],
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.lens.len()
    }

    pub(crate) fn slot_size(&self) -> usize {
        self.slot_size
    }

    /// The bytes of slot `i` that were received or queued.
    pub(crate) fn data(&self, i: usize) -> &[u8] {
        let start = i * self.slot_size;
        &self.buf[start..start + self.lens[i].min(self.slot_size)]
    }

    /// The whole of slot `i`, to write a message into.
    pub(crate) fn slot_mut(&mut self, i: usize) -> &mut [u8] {
        let start = i * self.slot_size;
        &mut self.buf[start..start + self.slot_size]
    }

    pub(crate) fn set_len(&mut self, i: usize, len: usize) {
        self.lens[i] = len.min(self.slot_size);
    }

    /// The source address the kernel wrote for slot `i` (None if it is not IPv4/IPv6).
    pub(crate) fn name(&self, i: usize) -> Option<SocketAddr> {
        from_sockaddr(&self.names[i], self.name_lens[i]).ok()
    }

    pub(crate) fn set_name(&mut self, i: usize, addr: &SocketAddr) {
        let (sa, len) = to_sockaddr(addr);
        self.names[i] = sa;
        self.name_lens[i] = len;
    }

    /// The control bytes the kernel wrote (or that are queued) for slot `i`.
    pub(crate) fn control(&self, i: usize) -> &[u8] {
        &self.control[i].0[..self.control_lens[i].min(CMSG_SLOT)]
    }

    /// Control room of slot `i`, and how much of it to send (0: none).
    pub(crate) fn set_control(&mut self, i: usize, f: impl FnOnce(&mut [u8; CMSG_SLOT]) -> usize) {
        let len = f(&mut self.control[i].0);
        self.control_lens[i] = len.min(CMSG_SLOT);
    }

    pub(crate) fn flags(&self, i: usize) -> c_int {
        self.flags[i]
    }

    /// `recvmmsg` into every slot; fills lengths, addresses, control data and flags of
    /// the slots it returns.
    pub(crate) fn recvmmsg(&mut self, fd: BorrowedFd<'_>, flags: c_int) -> io::Result<usize> {
        let n = self.count().min(libc::UIO_MAXIOV as usize);
        // Raw pointers are taken once per vector with `as_mut_ptr`, which creates no
        // reference to the elements, so none of them is invalidated by a later one.
        let buf = self.buf.as_mut_ptr();
        for i in 0..n {
            self.iovs[i] = libc::iovec {
                // The offset stays inside buf (i < count, buf = count × slot_size).
                iov_base: buf.wrapping_add(i * self.slot_size).cast::<c_void>(),
                iov_len: self.slot_size,
            };
        }
        let iovs = self.iovs.as_mut_ptr();
        let names = self.names.as_mut_ptr();
        let control = self.control.as_mut_ptr();
        for (i, h) in self.hdrs.iter_mut().take(n).enumerate() {
            h.msg_len = 0;
            h.msg_hdr.msg_name = names.wrapping_add(i).cast::<c_void>();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = iovs.wrapping_add(i);
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = control.wrapping_add(i).cast::<c_void>();
            h.msg_hdr.msg_controllen = CMSG_SLOT as _;
            h.msg_hdr.msg_flags = 0;
        }
        // SAFETY: the first n headers point at n distinct iovecs, each covering one
        // distinct slot of `buf` (slot_size bytes inside it), at n distinct
        // sockaddr_storage and n distinct control buffers, with those sizes. All of them
        // live in `self`, which is mutably borrowed for the whole call. A null timeout
        // is allowed.
        let got = cvt(unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                n as c_uint,
                flags,
                std::ptr::null_mut(),
            )
        })?;
        let got = usize::try_from(got).unwrap_or(0).min(n);
        for i in 0..got {
            let h = &self.hdrs[i];
            self.lens[i] = (h.msg_len as usize).min(self.slot_size);
            self.name_lens[i] = h.msg_hdr.msg_namelen;
            // size_t on glibc, socklen_t on musl.
            let control_len: usize = h.msg_hdr.msg_controllen as _;
            self.control_lens[i] = control_len.min(CMSG_SLOT);
            self.flags[i] = h.msg_hdr.msg_flags;
        }
        Ok(got)
    }

    /// `sendmmsg` of the slots in `range`, each to its own address with its own control
    /// data. Returns how many the kernel took (from the front of the range).
    pub(crate) fn sendmmsg(&mut self, fd: BorrowedFd<'_>, range: Range<usize>) -> io::Result<usize> {
        let range = range.start.min(self.count())..range.end.min(self.count());
        let n = range.len().min(libc::UIO_MAXIOV as usize);
        if n == 0 {
            return Ok(0);
        }
        let buf = self.buf.as_mut_ptr();
        for (k, i) in range.clone().take(n).enumerate() {
            self.iovs[k] = libc::iovec {
                iov_base: buf.wrapping_add(i * self.slot_size).cast::<c_void>(),
                iov_len: self.lens[i].min(self.slot_size),
            };
        }
        let iovs = self.iovs.as_mut_ptr();
        let names = self.names.as_mut_ptr();
        let control = self.control.as_mut_ptr();
        for (k, i) in range.take(n).enumerate() {
            let h = &mut self.hdrs[k];
            h.msg_len = 0;
            h.msg_hdr.msg_name = names.wrapping_add(i).cast::<c_void>();
            h.msg_hdr.msg_namelen = self.name_lens[i];
            h.msg_hdr.msg_iov = iovs.wrapping_add(k);
            h.msg_hdr.msg_iovlen = 1;
            if self.control_lens[i] == 0 {
                h.msg_hdr.msg_control = std::ptr::null_mut();
                h.msg_hdr.msg_controllen = 0;
            } else {
                h.msg_hdr.msg_control = control.wrapping_add(i).cast::<c_void>();
                h.msg_hdr.msg_controllen = self.control_lens[i] as _;
            }
            h.msg_hdr.msg_flags = 0;
        }
        // SAFETY: the first n headers point at iovecs covering the queued bytes of
        // distinct slots inside `buf`, at the slots' sockaddr_storage with the length
        // set_name wrote, and at their control data (or null); all live in `self`, which
        // is borrowed for the whole call, and sendmmsg only reads them (it writes
        // msg_len). MSG_NOSIGNAL: no SIGPIPE (irrelevant for UDP, harmless).
        let sent =
            cvt(unsafe { libc::sendmmsg(fd.as_raw_fd(), self.hdrs.as_mut_ptr(), n as c_uint, libc::MSG_NOSIGNAL) })?;
        Ok(usize::try_from(sent).unwrap_or(0).min(n))
    }
}

/// One `sendmsg` of `data` to `dest` with `control` as ancillary data.
pub(crate) fn sendmsg_to(
    fd: BorrowedFd<'_>,
    data: &[u8],
    dest: &SocketAddr,
    control: &CmsgSlot,
    control_len: usize,
) -> io::Result<usize> {
    let (mut sa, sa_len) = to_sockaddr(dest);
    let mut control = *control;
    let mut iov = libc::iovec {
        iov_base: data.as_ptr().cast_mut().cast::<c_void>(),
        iov_len: data.len(),
    };
    // SAFETY: all-zero bytes are a valid msghdr (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut sa as *mut libc::sockaddr_storage).cast::<c_void>();
    msg.msg_namelen = sa_len;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if control_len > 0 {
        msg.msg_control = control.0.as_mut_ptr().cast::<c_void>();
        msg.msg_controllen = control_len.min(CMSG_SLOT) as _;
    }
    // SAFETY: msg points at sa, iov (which points at data) and the local control copy,
    // all live for the call with the lengths given; sendmsg only reads them.
    cvt_size(unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) })
}

// ---------------------------------------------------------------------------------
// addresses

/// A `SocketAddr` as a C `sockaddr_storage` and its length, for `bind`, `connect`,
/// `sendto`/`sendmsg` names and socket options that take an address (also used by
/// hexcore-sctp-kernel, so the conversion exists once).
pub fn to_sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero bytes are a valid sockaddr_storage.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and at least as
            // aligned (that is its purpose), so the write stays inside `storage`.
            unsafe {
                std::ptr::write(
                    (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>(),
                    sin,
                )
            };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe {
                std::ptr::write(
                    (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>(),
                    sin6,
                )
            };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// The `SocketAddr` in a `sockaddr_storage` the kernel filled with `len` bytes
/// (`accept`, `getsockname`, `recvfrom`/`recvmsg` names); an error for another family
/// or a length too short for the family's structure.
pub fn from_sockaddr(storage: &libc::sockaddr_storage, len: libc::socklen_t) -> io::Result<SocketAddr> {
    let len = len as usize;
    match c_int::from(storage.ss_family) {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family tag says the storage holds a sockaddr_in, len covers
            // it, and sockaddr_storage is aligned for it.
            let sin = unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>()) };
            let ip = Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(ip, u16::from_be(sin.sin_port))))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 =
                unsafe { std::ptr::read((storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()) };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        family => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unexpected socket address (family {family}, {len} bytes)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_round_trip() {
        for s in [
            "127.0.0.5:2152",
            "127.0.0.5:38412",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "[::1]:2152",
            "[fe80::1%3]:9",
            "[::ffff:10.0.0.1]:1",
        ] {
            let addr: SocketAddr = s.parse().unwrap();
            let (sa, len) = to_sockaddr(&addr);
            assert_eq!(from_sockaddr(&sa, len).unwrap(), addr, "{s}");
        }
    }

    #[test]
    fn sockaddr_in_known_bytes() {
        // struct sockaddr_in for 127.0.0.5:38412 on Linux: family AF_INET (2) in host
        // order, port 38412 = 0x960c big-endian, address 7f 00 00 05, 8 zero bytes.
        static EXPECTED: [u8; 16] = [0x02, 0x00, 0x96, 0x0c, 0x7f, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0];
        let (sa, len) = to_sockaddr(&"127.0.0.5:38412".parse().unwrap());
        assert_eq!(len, 16);
        // SAFETY: reading the first 16 bytes of a live, initialised sockaddr_storage.
        let bytes = unsafe { std::slice::from_raw_parts((&sa as *const libc::sockaddr_storage).cast::<u8>(), 16) };
        if cfg!(target_endian = "little") {
            assert_eq!(bytes, EXPECTED);
        }
    }

    #[test]
    fn sockaddr_broken() {
        // SAFETY: all-zero bytes are a valid sockaddr_storage.
        let sa: libc::sockaddr_storage = unsafe { zeroed() };
        assert!(from_sockaddr(&sa, 16).is_err()); // AF_UNSPEC
        let (sa, _) = to_sockaddr(&"[::1]:1".parse().unwrap());
        assert!(from_sockaddr(&sa, 16).is_err()); // too short for sockaddr_in6
    }

    #[test]
    fn slots_store_lengths_names_and_control() {
        let mut s = Slots::new(3, 8);
        s.slot_mut(1)[..3].copy_from_slice(b"abc");
        s.set_len(1, 3);
        assert_eq!(s.data(1), b"abc");
        s.set_len(2, 100);
        assert_eq!(s.data(2).len(), 8, "lengths are capped at the slot size");
        let a: SocketAddr = "[2001:db8::1]:2152".parse().unwrap();
        s.set_name(0, &a);
        assert_eq!(s.name(0), Some(a));
        assert_eq!(s.name(1), None);
        s.set_control(0, |c| {
            c[0] = 7;
            1
        });
        assert_eq!(s.control(0), [7]);
        assert!(s.control(1).is_empty());
    }
}
