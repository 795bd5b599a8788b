//! Batched UDP: many datagrams per system call (`recvmmsg`/`sendmmsg`), and many
//! segments per datagram through UDP GSO (`UDP_SEGMENT`, send) and GRO (`UDP_GRO`,
//! receive), for N3/N9 GTP-U.
//!
//! A [`RecvBatch`] and a [`SendBatch`] own preallocated slots (buffer, address and
//! control data per message); after they are built, sending and receiving allocate
//! nothing. A [`BatchSocket`] is a std `UdpSocket` with the calls that fill and drain
//! them.
//!
//! With GRO on, one received "datagram" may be several datagrams of one flow glued
//! together, all `segment_size` bytes long but the last; [`Datagram::segments`] splits
//! it. Slots must then be 64 KiB ([`GRO_SLOT_SIZE`]): a coalesced datagram longer than
//! its slot is cut off, which loses whole datagrams.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::cmsg;
use crate::error::Error;
use crate::raw::{self, Slots};
use crate::sys::{self, CmsgSlot};

/// Slot size that holds any coalesced (GRO) datagram: the largest IP packet.
pub const GRO_SLOT_SIZE: usize = 65536;

/// Most messages one `recvmmsg`/`sendmmsg` takes (`UIO_MAXIOV`).
pub const MAX_BATCH: usize = 1024;

/// Options applied by [`BatchSocket::bind_with`] before (`reuse_port`) or after binding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketOptions {
    /// `SO_REUSEPORT`: several sockets on one address, the kernel spreads flows across
    /// them (one socket per worker).
    pub reuse_port: bool,
    /// `UDP_GRO`: receive coalesced datagrams (see [`BatchSocket::enable_gro`]).
    pub gro: bool,
    /// Receive buffer bytes (see [`BatchSocket::set_recv_buffer_size`]).
    pub recv_buffer: Option<usize>,
    /// Send buffer bytes (see [`BatchSocket::set_send_buffer_size`]).
    pub send_buffer: Option<usize>,
    /// `O_NONBLOCK`. Without it, `recv_batch` waits for the first datagram (bounded by
    /// `UdpSocket::set_read_timeout`, which `recvmmsg` honours per datagram).
    pub nonblocking: bool,
}

/// A UDP socket with batched receive and send.
#[derive(Debug)]
pub struct BatchSocket {
    socket: UdpSocket,
}

impl BatchSocket {
    /// Binds a UDP socket to `addr` (port 0 picks one), blocking, default options.
    pub fn bind(addr: SocketAddr) -> Result<BatchSocket, Error> {
        BatchSocket::bind_with(addr, &SocketOptions::default())
    }

    /// Binds with `options`.
    pub fn bind_with(addr: SocketAddr, options: &SocketOptions) -> Result<BatchSocket, Error> {
        let family = match addr {
            SocketAddr::V4(_) => libc::AF_INET,
            SocketAddr::V6(_) => libc::AF_INET6,
        };
        let fd = raw::socket(family, libc::SOCK_DGRAM, libc::IPPROTO_UDP).map_err(Error::sys("socket(SOCK_DGRAM)"))?;
        if options.reuse_port {
            raw::set_opt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_REUSEPORT, &1i32)
                .map_err(Error::sys("setsockopt(SO_REUSEPORT)"))?;
        }
        raw::bind(fd.as_fd(), &addr).map_err(Error::sys("bind"))?;
        let sock = BatchSocket {
            socket: UdpSocket::from(fd),
        };
        if options.gro {
            sock.enable_gro()?;
        }
        if let Some(bytes) = options.recv_buffer {
            sock.set_recv_buffer_size(bytes)?;
        }
        if let Some(bytes) = options.send_buffer {
            sock.set_send_buffer_size(bytes)?;
        }
        if options.nonblocking {
            sock.socket
                .set_nonblocking(true)
                .map_err(Error::sys("fcntl(F_SETFL, O_NONBLOCK)"))?;
        }
        Ok(sock)
    }

    /// Wraps a socket made elsewhere (its blocking mode and options are kept).
    pub fn from_std(socket: UdpSocket) -> BatchSocket {
        BatchSocket { socket }
    }

    /// The std socket, for `connect`, `set_read_timeout`, `set_nonblocking`, ….
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Gives the std socket back.
    pub fn into_std(self) -> UdpSocket {
        self.socket
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.socket.local_addr().map_err(Error::sys("getsockname"))
    }

    /// `UDP_GRO` (Linux ≥ 5.0): the kernel may hand several datagrams of one flow as
    /// one, with their segment size in a cmsg ([`Datagram::segment_size`]). Use slots
    /// of [`GRO_SLOT_SIZE`].
    pub fn enable_gro(&self) -> Result<(), Error> {
        raw::set_opt(self.socket.as_fd(), sys::SOL_UDP, sys::UDP_GRO, &1i32).map_err(Error::sys("setsockopt(UDP_GRO)"))
    }

    /// Sets the receive buffer: `SO_RCVBUFFORCE` (needs `CAP_NET_ADMIN`, ignores
    /// `net.core.rmem_max`), else `SO_RCVBUF` (capped at `rmem_max`). Returns the size
    /// the kernel reports afterwards, which is twice what it grants for payload
    /// (socket(7)).
    pub fn set_recv_buffer_size(&self, bytes: usize) -> Result<usize, Error> {
        self.set_buffer(bytes, libc::SO_RCVBUFFORCE, libc::SO_RCVBUF, "setsockopt(SO_RCVBUF)")
    }

    /// Sets the send buffer: `SO_SNDBUFFORCE`, else `SO_SNDBUF` (capped at
    /// `net.core.wmem_max`). Returns the size the kernel reports afterwards.
    pub fn set_send_buffer_size(&self, bytes: usize) -> Result<usize, Error> {
        self.set_buffer(bytes, libc::SO_SNDBUFFORCE, libc::SO_SNDBUF, "setsockopt(SO_SNDBUF)")
    }

    fn set_buffer(&self, bytes: usize, force: i32, plain: i32, call: &'static str) -> Result<usize, Error> {
        let value = i32::try_from(bytes).map_err(|_| Error::InvalidArgument {
            what: "socket buffer size",
            value: bytes as u64,
            reason: "at most 2^31 - 1",
        })?;
        let fd = self.socket.as_fd();
        if raw::set_opt(fd, libc::SOL_SOCKET, force, &value).is_err() {
            raw::set_opt(fd, libc::SOL_SOCKET, plain, &value).map_err(Error::sys(call))?;
        }
        let got =
            raw::get_opt_int(fd, libc::SOL_SOCKET, plain).map_err(Error::sys("getsockopt(SO_RCVBUF/SO_SNDBUF)"))?;
        Ok(usize::try_from(got).unwrap_or(0))
    }

    /// Receives up to `batch.capacity()` datagrams with one `recvmmsg(MSG_WAITFORONE)`:
    /// waits for the first (unless non-blocking), then takes what is queued. Returns
    /// how many arrived; read them with `batch.iter()`. `WouldBlock` when none is
    /// waiting on a non-blocking socket (or the read timeout passed).
    pub fn recv_batch(&self, batch: &mut RecvBatch) -> io::Result<usize> {
        batch.received = 0;
        let n = batch.slots.recvmmsg(self.socket.as_fd(), libc::MSG_WAITFORONE)?;
        batch.received = n;
        Ok(n)
    }

    /// Sends the queued messages of `batch` with `sendmmsg`, each to its own
    /// destination. Messages the kernel took leave the queue; if it took only some,
    /// the rest stay for the next call. Returns how many were sent.
    ///
    /// When the first queued message fails with anything but `WouldBlock` or
    /// `Interrupted` (`EMSGSIZE`, `ENETUNREACH`, `EPERM` from a firewall …) that
    /// message is dropped from the queue — it would fail again — and the error is
    /// returned; call again for the rest.
    pub fn send_batch(&self, batch: &mut SendBatch) -> io::Result<usize> {
        let range = batch.sent..batch.queued;
        if range.is_empty() {
            batch.clear();
            return Ok(0);
        }
        match batch.slots.sendmmsg(self.socket.as_fd(), range) {
            Ok(n) => {
                batch.sent += n;
                if batch.sent >= batch.queued {
                    batch.clear();
                }
                Ok(n)
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => Err(e),
            Err(e) => {
                batch.sent += 1;
                batch.dropped += 1;
                if batch.sent >= batch.queued {
                    batch.clear();
                }
                Err(e)
            }
        }
    }

    /// Sends `data` to `dest` as `segment_size`-byte datagrams (the last may be
    /// shorter) with one `sendmsg` and a `UDP_SEGMENT` cmsg (GSO, Linux ≥ 4.18). The
    /// kernel takes at most `UDP_MAX_SEGMENTS` segments (64 on older kernels, 128 on
    /// this machine's 6.18) and 65507 bytes in all; `EINVAL` otherwise, or when the path MTU is below a segment. Returns the
    /// bytes sent (all of `data`).
    pub fn send_segments(&self, data: &[u8], segment_size: u16, dest: SocketAddr) -> io::Result<usize> {
        if segment_size == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "UDP segment size 0"));
        }
        let mut control = CmsgSlot::default();
        let len = cmsg::encode_udp_segment(&mut control.0, segment_size);
        raw::sendmsg_to(self.socket.as_fd(), data, &dest, &control, len)
    }

    /// Waits until a datagram can be read, or `timeout` passes (`Ok(false)`).
    pub fn wait_readable(&self, timeout: Option<Duration>) -> io::Result<bool> {
        raw::poll_readable(self.socket.as_fd(), timeout)
    }
}

impl From<UdpSocket> for BatchSocket {
    fn from(socket: UdpSocket) -> BatchSocket {
        BatchSocket::from_std(socket)
    }
}

impl From<BatchSocket> for OwnedFd {
    fn from(s: BatchSocket) -> OwnedFd {
        OwnedFd::from(s.socket)
    }
}

impl AsFd for BatchSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for BatchSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

fn check_dimensions(slots: usize, slot_size: usize) -> Result<(), Error> {
    if slots == 0 || slots > MAX_BATCH {
        return Err(Error::InvalidArgument {
            what: "batch slot count",
            value: slots as u64,
            reason: "1..=1024 (UIO_MAXIOV)",
        });
    }
    if slot_size == 0 || slot_size > GRO_SLOT_SIZE {
        return Err(Error::InvalidArgument {
            what: "batch slot size",
            value: slot_size as u64,
            reason: "1..=65536",
        });
    }
    Ok(())
}

/// Preallocated room for one `recvmmsg`: `capacity` slots of `slot_size` bytes.
#[derive(Debug)]
pub struct RecvBatch {
    slots: Slots,
    received: usize,
}

impl RecvBatch {
    /// `slots` (1..=1024) buffers of `slot_size` (1..=65536) bytes, allocated once. For
    /// GTP-U without GRO 2048 covers a 1500-byte MTU; with GRO use [`GRO_SLOT_SIZE`].
    pub fn new(slots: usize, slot_size: usize) -> Result<RecvBatch, Error> {
        check_dimensions(slots, slot_size)?;
        Ok(RecvBatch {
            slots: Slots::new(slots, slot_size),
            received: 0,
        })
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.count()
    }

    /// Bytes per slot.
    pub fn slot_size(&self) -> usize {
        self.slots.slot_size()
    }

    /// Datagrams the last `recv_batch` returned.
    pub fn len(&self) -> usize {
        self.received
    }

    /// Whether the last `recv_batch` returned nothing (or none was made).
    pub fn is_empty(&self) -> bool {
        self.received == 0
    }

    /// Datagram `i` of the last `recv_batch`.
    pub fn get(&self, i: usize) -> Option<Datagram<'_>> {
        if i >= self.received {
            return None;
        }
        let flags = self.slots.flags(i);
        Some(Datagram {
            data: self.slots.data(i),
            source: self.slots.name(i),
            segment_size: cmsg::gro_segment_size(self.slots.control(i)),
            truncated: flags & libc::MSG_TRUNC != 0,
            control_truncated: flags & libc::MSG_CTRUNC != 0,
        })
    }

    /// The datagrams of the last `recv_batch`, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = Datagram<'_>> + '_ {
        (0..self.received).filter_map(|i| self.get(i))
    }
}

/// One received datagram — or, with GRO, several of one flow glued together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The bytes (all segments, back to back).
    pub data: &'a [u8],
    /// Who sent it; `None` only if the kernel gave no IPv4/IPv6 address.
    pub source: Option<SocketAddr>,
    /// With GRO: the size of each segment but the last (`UDP_GRO` cmsg). `None`: one
    /// datagram.
    pub segment_size: Option<usize>,
    /// `MSG_TRUNC`: the datagram was longer than the slot and was cut off.
    pub truncated: bool,
    /// `MSG_CTRUNC`: control data was cut off, so a GRO segment size may be missing
    /// (more socket options switched on than a slot's 64 control bytes hold).
    pub control_truncated: bool,
}

impl<'a> Datagram<'a> {
    /// The datagrams inside: `segment_size`-byte pieces (the last may be shorter), or
    /// the whole when there is no segment size. A zero-length datagram yields nothing.
    pub fn segments(&self) -> std::slice::Chunks<'a, u8> {
        let size = self.segment_size.unwrap_or(self.data.len()).max(1);
        self.data.chunks(size)
    }
}

/// Preallocated queue of messages for `sendmmsg`: `capacity` slots of `slot_size`
/// bytes, each with its own destination and, optionally, a GSO segment size.
#[derive(Debug)]
pub struct SendBatch {
    slots: Slots,
    /// Slots [sent, queued) are waiting to be sent.
    queued: usize,
    sent: usize,
    dropped: u64,
}

impl SendBatch {
    /// `slots` (1..=1024) buffers of `slot_size` (1..=65536) bytes, allocated once.
    pub fn new(slots: usize, slot_size: usize) -> Result<SendBatch, Error> {
        check_dimensions(slots, slot_size)?;
        Ok(SendBatch {
            slots: Slots::new(slots, slot_size),
            queued: 0,
            sent: 0,
            dropped: 0,
        })
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.count()
    }

    /// Bytes per slot.
    pub fn slot_size(&self) -> usize {
        self.slots.slot_size()
    }

    /// Messages waiting to be sent.
    pub fn len(&self) -> usize {
        self.queued - self.sent
    }

    /// Whether nothing waits to be sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether no slot is free: send before queuing more.
    pub fn is_full(&self) -> bool {
        self.queued == self.capacity()
    }

    /// Messages dropped so far because the kernel refused them (see
    /// [`BatchSocket::send_batch`]).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Forgets every queued message.
    pub fn clear(&mut self) {
        self.queued = 0;
        self.sent = 0;
    }

    /// Queues a copy of `data` for `dest`.
    pub fn push(&mut self, data: &[u8], dest: SocketAddr) -> Result<(), Error> {
        self.push_copy(data, dest, None)
    }

    /// Queues a copy of `data` for `dest` to go out as `segment_size`-byte datagrams
    /// (GSO, as [`BatchSocket::send_segments`]).
    pub fn push_segments(&mut self, data: &[u8], segment_size: u16, dest: SocketAddr) -> Result<(), Error> {
        self.push_copy(data, dest, Some(segment_size))
    }

    fn push_copy(&mut self, data: &[u8], dest: SocketAddr, segment_size: Option<u16>) -> Result<(), Error> {
        let (capacity, slot_size) = (self.capacity(), self.slot_size());
        let slot = self.free_slot().ok_or(Error::BatchFull { capacity })?;
        slot.get_mut(..data.len())
            .ok_or(Error::TooLarge {
                len: data.len(),
                slot_size,
            })?
            .copy_from_slice(data);
        self.commit(data.len(), dest, segment_size)
    }

    /// The next free slot, to build a message in place (e.g. read a packet from a TUN
    /// behind room for a GTP-U header), then [`commit`](Self::commit) it. `None` when
    /// the batch is full.
    pub fn free_slot(&mut self) -> Option<&mut [u8]> {
        if self.is_full() {
            return None;
        }
        Some(self.slots.slot_mut(self.queued))
    }

    /// Queues the first `len` bytes of the slot [`free_slot`](Self::free_slot) gave,
    /// for `dest`, optionally as `segment_size`-byte GSO segments.
    pub fn commit(&mut self, len: usize, dest: SocketAddr, segment_size: Option<u16>) -> Result<(), Error> {
        if self.is_full() {
            return Err(Error::BatchFull {
                capacity: self.capacity(),
            });
        }
        if len > self.slot_size() {
            return Err(Error::TooLarge {
                len,
                slot_size: self.slot_size(),
            });
        }
        if segment_size == Some(0) {
            return Err(Error::InvalidArgument {
                what: "UDP segment size",
                value: 0,
                reason: "1..=65535",
            });
        }
        let i = self.queued;
        self.slots.set_len(i, len);
        self.slots.set_name(i, &dest);
        self.slots.set_control(i, |c| match segment_size {
            Some(size) => cmsg::encode_udp_segment(c, size),
            None => 0,
        });
        self.queued += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn dimensions_are_checked() {
        assert!(RecvBatch::new(0, 2048).is_err());
        assert!(RecvBatch::new(1025, 2048).is_err());
        assert!(RecvBatch::new(64, 0).is_err());
        assert!(RecvBatch::new(64, 65537).is_err());
        assert!(SendBatch::new(1024, GRO_SLOT_SIZE).is_ok());
    }

    #[test]
    fn send_batch_queues_until_full() {
        let mut b = SendBatch::new(2, 8).unwrap();
        b.push(b"12345678", addr("127.0.0.1:1")).unwrap();
        assert!(matches!(
            b.push(b"123456789", addr("127.0.0.1:1")),
            Err(Error::TooLarge { len: 9, slot_size: 8 })
        ));
        let slot = b.free_slot().unwrap();
        slot[..2].copy_from_slice(b"hi");
        b.commit(2, addr("[::1]:2"), Some(1)).unwrap();
        assert!(b.is_full());
        assert_eq!(b.len(), 2);
        assert!(b.free_slot().is_none());
        assert!(matches!(
            b.push(b"x", addr("127.0.0.1:1")),
            Err(Error::BatchFull { capacity: 2 })
        ));
        assert_eq!(b.slots.data(1), b"hi");
        assert_eq!(b.slots.name(1), Some(addr("[::1]:2")));
        assert_eq!(b.slots.control(0).len(), 0, "no cmsg without a segment size");
        assert_eq!(cmsg::iter(b.slots.control(1)).count(), 1);
        b.clear();
        assert!(b.is_empty() && !b.is_full());
    }

    #[test]
    fn zero_segment_size_is_refused() {
        let mut b = SendBatch::new(1, 8).unwrap();
        assert!(matches!(
            b.push_segments(b"ab", 0, addr("127.0.0.1:1")),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(b.is_empty());
    }

    #[test]
    fn datagram_segments() {
        let data: Vec<u8> = (0..10).collect();
        let d = Datagram {
            data: &data,
            source: None,
            segment_size: Some(4),
            truncated: false,
            control_truncated: false,
        };
        let segs: Vec<&[u8]> = d.segments().collect();
        assert_eq!(segs, [&[0, 1, 2, 3][..], &[4, 5, 6, 7], &[8, 9]]);
        let whole = Datagram {
            segment_size: None,
            ..d
        };
        assert_eq!(whole.segments().count(), 1);
        let empty = Datagram { data: &[], ..whole };
        assert_eq!(empty.segments().count(), 0);
    }
}
