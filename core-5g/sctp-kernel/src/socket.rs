//! The one place with `unsafe`: thin wrappers over the libc socket calls for a
//! one-to-one style (`SOCK_STREAM`) kernel SCTP socket (RFC 6458 §4).
//!
//! Every function here is synchronous and non-blocking; `lib.rs` drives them from
//! tokio's `AsyncFd`. Byte-level meaning (cmsgs, notifications) lives in `wire.rs`.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::raw::{c_int, c_void};

use tokio::io::unix::AsyncFd;

use hexcore_netdev::sockaddr::{from_sockaddr, to_sockaddr};

use crate::sys;
use crate::wire;

/// An owned, non-blocking, close-on-exec kernel SCTP socket.
#[derive(Debug)]
pub(crate) struct Socket {
    fd: OwnedFd,
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// What one `recvmsg` returned.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecvMeta {
    /// Bytes of payload (or notification) in the data buffer.
    pub len: usize,
    /// `msg_flags` (`MSG_EOR`, `MSG_NOTIFICATION`, `MSG_CTRUNC` …).
    pub flags: c_int,
    /// Bytes of control data written.
    pub control_len: usize,
}

/// Control buffers handed to the kernel are aligned like `struct cmsghdr`.
#[repr(C, align(8))]
pub(crate) struct CmsgBuf<const N: usize>(pub [u8; N]);

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

/// The error every entry point returns on a host whose kernel has no SCTP.
pub(crate) fn unavailable(cause: &io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "kernel SCTP is unavailable on this host (socket(IPPROTO_SCTP) failed: {cause}); \
             load the kernel's sctp module (modprobe sctp) or use the SCTP-over-UDP \
             transport (RFC 6951, hexcore_sctp Transport::Udp) instead"
        ),
    )
}

impl Socket {
    /// `socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP)`.
    pub(crate) fn new(family: c_int) -> io::Result<Socket> {
        let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: socket() takes no pointers; the result is checked below.
        let fd = unsafe { libc::socket(family, ty, sys::IPPROTO_SCTP) };
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::EPROTONOSUPPORT | libc::ESOCKTNOSUPPORT) => unavailable(&err),
                _ => err,
            });
        }
        // SAFETY: fd is a descriptor socket() just returned; nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Socket { fd })
    }

    /// Registers the socket with the current tokio reactor (error outside a runtime).
    pub(crate) fn into_async(self) -> io::Result<AsyncFd<Socket>> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(io::Error::other(
                "kernel SCTP sockets must be created inside a tokio runtime",
            ));
        }
        // SAFETY: `Socket` owns its OwnedFd, which stays open and unchanged until the
        // Socket is dropped, and as_raw_fd always returns that same descriptor.
        unsafe { AsyncFd::register(self) }.map_err(|e| e.into_parts().1)
    }

    /// Socket for the address family of `addr`.
    pub(crate) fn for_addr(addr: &SocketAddr) -> io::Result<Socket> {
        Socket::new(match addr {
            SocketAddr::V4(_) => libc::AF_INET,
            SocketAddr::V6(_) => libc::AF_INET6,
        })
    }

    /// `setsockopt(level, name, value)` for a plain C value.
    pub(crate) fn set_opt<T: Copy>(&self, level: c_int, name: c_int, value: &T) -> io::Result<()> {
        // SAFETY: value points at a live T of size_of::<T>() bytes, which the kernel only
        // reads; T is a #[repr(C)] struct or integer from sys.rs / libc.
        cvt(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                (value as *const T).cast::<c_void>(),
                size_of::<T>() as libc::socklen_t,
            )
        })
        .map(drop)
    }

    /// `getsockopt(SOL_SOCKET, SO_ERROR)`: the pending socket error, cleared.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        let mut v: c_int = 0;
        let mut len = size_of::<c_int>() as libc::socklen_t;
        // SAFETY: v and len are live locals; len gives the kernel v's size.
        cvt(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut v as *mut c_int).cast::<c_void>(),
                &mut len,
            )
        })?;
        Ok((v != 0).then(|| io::Error::from_raw_os_error(v)))
    }

    pub(crate) fn bind(&self, addr: &SocketAddr) -> io::Result<()> {
        let (sa, len) = to_sockaddr(addr);
        // SAFETY: sa is a live sockaddr_storage holding a sockaddr_in/in6 of len bytes.
        cvt(unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_storage).cast::<libc::sockaddr>(),
                len,
            )
        })
        .map(drop)
    }

    pub(crate) fn listen(&self, backlog: c_int) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { libc::listen(self.fd.as_raw_fd(), backlog) }).map(drop)
    }

    /// Non-blocking `connect`: `EINPROGRESS` comes back as an error for the caller.
    pub(crate) fn connect(&self, addr: &SocketAddr) -> io::Result<()> {
        let (sa, len) = to_sockaddr(addr);
        // SAFETY: as in bind.
        cvt(unsafe {
            libc::connect(
                self.fd.as_raw_fd(),
                (&sa as *const libc::sockaddr_storage).cast::<libc::sockaddr>(),
                len,
            )
        })
        .map(drop)
    }

    /// `accept4(…, SOCK_NONBLOCK | SOCK_CLOEXEC)`: one established association.
    pub(crate) fn accept(&self) -> io::Result<(Socket, SocketAddr)> {
        // SAFETY: all-zero bytes are a valid sockaddr_storage (plain C struct).
        let mut sa: libc::sockaddr_storage = unsafe { zeroed() };
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: sa and len are live locals; len tells the kernel sa's capacity.
        let fd = cvt(unsafe {
            libc::accept4(
                self.fd.as_raw_fd(),
                (&mut sa as *mut libc::sockaddr_storage).cast::<libc::sockaddr>(),
                &mut len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        })?;
        // SAFETY: fd is a descriptor accept4() just returned; nothing else owns it.
        let sock = Socket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        };
        let peer = match from_sockaddr(&sa, len) {
            Ok(peer) => peer,
            Err(_) => sock.peer_addr()?,
        };
        Ok((sock, peer))
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.name(libc::getsockname)
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.name(libc::getpeername)
    }

    fn name(
        &self,
        f: unsafe extern "C" fn(c_int, *mut libc::sockaddr, *mut libc::socklen_t) -> c_int,
    ) -> io::Result<SocketAddr> {
        // SAFETY: all-zero bytes are a valid sockaddr_storage.
        let mut sa: libc::sockaddr_storage = unsafe { zeroed() };
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: f is getsockname or getpeername; sa/len are live and len is sa's size.
        cvt(unsafe {
            f(
                self.fd.as_raw_fd(),
                (&mut sa as *mut libc::sockaddr_storage).cast::<libc::sockaddr>(),
                &mut len,
            )
        })?;
        from_sockaddr(&sa, len)
    }

    /// `shutdown(SHUT_WR)`: on a one-to-one socket the kernel starts the graceful
    /// SHUTDOWN of the association (RFC 6458 §4.1.7).
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { libc::shutdown(self.fd.as_raw_fd(), libc::SHUT_WR) }).map(drop)
    }

    /// One `sendmsg` of a whole message with an `SCTP_SNDINFO` cmsg.
    pub(crate) fn send_msg(&self, stream: u16, flags: u16, ppid: u32, data: &[u8]) -> io::Result<usize> {
        let mut control = CmsgBuf([0u8; wire::SNDINFO_SPACE]);
        wire::encode_sndinfo(&mut control.0, stream, flags, ppid);
        let mut iov = libc::iovec {
            iov_base: data.as_ptr().cast_mut().cast::<c_void>(),
            iov_len: data.len(),
        };
        // SAFETY: all-zero bytes are a valid msghdr (null pointers, zero lengths).
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast::<c_void>();
        msg.msg_controllen = wire::SNDINFO_SPACE as _;
        // SAFETY: msg points at iov (which points at data) and at control; all outlive
        // the call, and sendmsg only reads them. MSG_NOSIGNAL: EPIPE instead of SIGPIPE.
        cvt_size(unsafe { libc::sendmsg(self.fd.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) })
    }

    /// One `recvmsg` into `buf` with room for control data in `control`.
    pub(crate) fn recv_msg(&self, buf: &mut [u8], control: &mut [u8]) -> io::Result<RecvMeta> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast::<c_void>(),
            iov_len: buf.len(),
        };
        // SAFETY: all-zero bytes are a valid msghdr.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast::<c_void>();
        msg.msg_controllen = control.len() as _;
        // SAFETY: msg points at iov (buf) and control, both live and writable for the
        // lengths given; the kernel writes at most those lengths.
        let len = cvt_size(unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, 0) })?;
        Ok(RecvMeta {
            len: len.min(buf.len()),
            flags: msg.msg_flags,
            control_len: (msg.msg_controllen as usize).min(control.len()),
        })
    }
}
