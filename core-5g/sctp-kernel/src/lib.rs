//! Kernel SCTP sockets for N2 (NGAP over SCTP, PPID 60, TS 38.412 §7), async over tokio.
//!
//! One-to-one style sockets (`SOCK_STREAM`, RFC 6458 §4): a [`KernelListener`] accepts
//! associations, [`KernelAssociation::connect`] makes one. Each association carries
//! whole messages with a stream id and a PPID, and reports its life (up, restart,
//! down) as [`KernelEvent`]s read from the kernel's SCTP notifications.
//!
//! This talks to Linux directly through libc (no libsctp); the constants and C layouts
//! are in `sys.rs`, copied from `linux/sctp.h`. All `unsafe` is in `socket.rs`; the
//! `SocketAddr` ⇄ `sockaddr` conversion is hexcore-netdev's (`hexcore_netdev::sockaddr`).
//!
//! On a kernel without SCTP (no `sctp` module, some containers and sandboxes)
//! [`is_supported`] is false and every constructor fails with
//! [`io::ErrorKind::Unsupported`] and a message pointing at the SCTP-over-UDP transport.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use hexcore_sctp_kernel::{KernelAssociation, KernelEvent, KernelListener};
//! let listener = KernelListener::bind("127.0.0.1:38412".parse().unwrap(), 4)?;
//! let client = KernelAssociation::connect(None, listener.local_addr()?, 4).await?;
//! let (server, _peer) = listener.accept().await?;
//! assert_eq!(server.recv().await?, KernelEvent::Up);
//! client.send(0, 60, b"NGSetupRequest").await?;
//! # Ok(()) }
//! ```
#![deny(unsafe_op_in_unsafe_fn)]

mod socket;
mod sys;
mod wire;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use tokio::io::unix::AsyncFd;

use socket::{CmsgBuf, Socket};
use wire::{Assembled, Reassembly};

/// PPID of NGAP (TS 38.412 §7; IANA "NGAP" = 60).
pub const NGAP_PPID: u32 = 60;

/// How many pending associations the kernel queues for `accept`.
const LISTEN_BACKLOG: i32 = 128;

/// Bytes read per `recvmsg`; larger messages come in pieces and are reassembled.
const RECV_CHUNK: usize = 64 * 1024;

thread_local! {
    /// The `recvmsg` buffer, one per thread rather than per association: reads are
    /// synchronous (never across an await), and an AMF may hold thousands of
    /// associations.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether this host's kernel can make SCTP sockets (tries to create one).
pub fn is_supported() -> bool {
    Socket::new(libc::AF_INET).is_ok()
}

/// What [`KernelAssociation::recv`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelEvent {
    /// A whole user message.
    Message {
        /// SCTP stream it came on.
        stream: u16,
        /// Payload protocol identifier (host order; 60 is NGAP).
        ppid: u32,
        /// The message.
        data: Vec<u8>,
    },
    /// The association is established (`SCTP_COMM_UP`). The first event of every
    /// association, accepted or connected.
    Up,
    /// The association ended: `SCTP_COMM_LOST`, `SCTP_CANT_STR_ASSOC`,
    /// `SCTP_SHUTDOWN_COMP`, `SCTP_SHUTDOWN_EVENT`, or the socket reported an error or
    /// end of stream. Reported once; later `recv` calls fail with `NotConnected`.
    Down {
        /// Human-readable cause, for logs.
        reason: String,
    },
    /// The peer restarted the association (`SCTP_RESTART`); it continues.
    Restart,
}

/// Socket settings beyond the stream count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelOptions {
    /// Outbound streams asked for and inbound streams allowed (`SCTP_INITMSG`).
    /// 0 keeps the kernel default (10).
    pub streams: u16,
    /// RFC 6951 UDP encapsulation: the peer's UDP port, set with
    /// `SCTP_REMOTE_UDP_ENCAPS_PORT` (Linux ≥ 5.11). Encapsulation also needs the
    /// host-wide local port `sysctl net.sctp.udp_port` set before the socket is made.
    /// `None` leaves the socket's default (`net.sctp.encap_port`, normally 0 = plain SCTP).
    pub remote_udp_encaps_port: Option<u16>,
}

impl KernelOptions {
    /// Plain SCTP with `streams` streams each way.
    pub fn new(streams: u16) -> Self {
        KernelOptions {
            streams,
            remote_udp_encaps_port: None,
        }
    }
}

/// A listening one-to-one SCTP socket.
#[derive(Debug)]
pub struct KernelListener {
    fd: AsyncFd<Socket>,
    local: SocketAddr,
}

impl KernelListener {
    /// Binds and listens on `addr` (port 0 picks one), offering `streams` streams each
    /// way to every association it accepts.
    pub fn bind(addr: SocketAddr, streams: u16) -> io::Result<KernelListener> {
        KernelListener::bind_with(addr, &KernelOptions::new(streams))
    }

    /// [`KernelListener::bind`] with all options.
    pub fn bind_with(addr: SocketAddr, options: &KernelOptions) -> io::Result<KernelListener> {
        let sock = Socket::for_addr(&addr)?;
        sock.set_opt(libc::SOL_SOCKET, libc::SO_REUSEADDR, &1i32)?;
        configure(&sock, options)?;
        sock.bind(&addr)?;
        sock.listen(LISTEN_BACKLOG)?;
        let local = sock.local_addr()?;
        Ok(KernelListener {
            fd: sock.into_async()?,
            local,
        })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// Waits for the next established association. Its first event is
    /// [`KernelEvent::Up`]. Settings (streams, notifications) are inherited.
    pub async fn accept(&self) -> io::Result<(KernelAssociation, SocketAddr)> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| fd.get_ref().accept()) {
                Ok(Ok((sock, peer))) => {
                    let local = sock.local_addr().unwrap_or(self.local);
                    tracing::debug!(%peer, %local, "kernel SCTP association accepted");
                    return Ok((KernelAssociation::new(sock, local, peer)?, peer));
                }
                Ok(Err(e)) if retry_accept(&e) => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}

/// accept() errors that concern one aborted connection, not the listener.
fn retry_accept(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINTR | libc::ECONNABORTED | libc::EPROTO | libc::ECONNRESET)
    )
}

/// One SCTP association (a connected one-to-one socket).
///
/// `send` and `recv` take `&self`, so one task can read while others write (share it
/// in an `Arc`). `recv` is cancel-safe: a partly read message is kept for the next call.
#[derive(Debug)]
pub struct KernelAssociation {
    fd: AsyncFd<Socket>,
    local: SocketAddr,
    peer: SocketAddr,
    rx: Mutex<RecvState>,
}

#[derive(Debug)]
struct RecvState {
    reassembly: Reassembly,
    /// Events read ahead (connect reads `Up` before handing the association out).
    pending: VecDeque<KernelEvent>,
    down_reported: bool,
    eof: bool,
}

impl KernelAssociation {
    /// Connects to `remote` (optionally from `local`) with `streams` streams each way
    /// and waits until the association is up (or fails: `ConnectionRefused` for an
    /// ABORT / no listener). The kernel retries INIT for a long time (minutes) when
    /// nobody answers, so wrap this in a timeout.
    pub async fn connect(local: Option<SocketAddr>, remote: SocketAddr, streams: u16) -> io::Result<KernelAssociation> {
        KernelAssociation::connect_with(local, remote, &KernelOptions::new(streams)).await
    }

    /// [`KernelAssociation::connect`] with all options.
    pub async fn connect_with(
        local: Option<SocketAddr>,
        remote: SocketAddr,
        options: &KernelOptions,
    ) -> io::Result<KernelAssociation> {
        let sock = Socket::for_addr(&remote)?;
        configure(&sock, options)?;
        if let Some(local) = local {
            sock.bind(&local)?;
        }
        match sock.connect(&remote) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let local_addr = sock.local_addr()?;
        let assoc = KernelAssociation::new(sock, local_addr, remote)?;
        // The kernel queues SCTP_COMM_UP (or SCTP_CANT_STR_ASSOC) on the socket once
        // the four-way handshake ends (RFC 9260 §5.1); wait for it here so that a
        // returned association is established, and keep it as the first event.
        let mut ahead = VecDeque::new();
        loop {
            match assoc.read_event().await {
                Ok(KernelEvent::Up) => break,
                Ok(KernelEvent::Down { reason }) => {
                    let kind = match assoc.fd.get_ref().take_error() {
                        Ok(Some(e)) => e.kind(),
                        _ => io::ErrorKind::ConnectionRefused,
                    };
                    return Err(io::Error::new(
                        kind,
                        format!("SCTP association to {remote} failed: {reason}"),
                    ));
                }
                Ok(other) => ahead.push_back(other),
                Err(e) => return Err(e),
            }
        }
        let mut assoc = assoc;
        if let Ok(local) = assoc.fd.get_ref().local_addr() {
            assoc.local = local;
        }
        if let Ok(peer) = assoc.fd.get_ref().peer_addr() {
            assoc.peer = peer;
        }
        {
            let mut rx = assoc.rx_state();
            rx.pending.push_back(KernelEvent::Up);
            rx.pending.extend(ahead);
        }
        tracing::debug!(peer = %assoc.peer, local = %assoc.local, "kernel SCTP association up");
        Ok(assoc)
    }

    fn new(sock: Socket, local: SocketAddr, peer: SocketAddr) -> io::Result<KernelAssociation> {
        Ok(KernelAssociation {
            fd: sock.into_async()?,
            local,
            peer,
            rx: Mutex::new(RecvState {
                reassembly: Reassembly::default(),
                pending: VecDeque::new(),
                down_reported: false,
                eof: false,
            }),
        })
    }

    /// The peer's (primary) address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer)
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// Sends one whole message on `stream` with payload protocol id `ppid` (host order;
    /// 60 for NGAP). Waits for send-buffer room. Fails with `InvalidInput` (EINVAL from
    /// the kernel) for a stream beyond the negotiated count, `BrokenPipe` once the
    /// association is down, and with EMSGSIZE for a message larger than the socket's
    /// send buffer (`net.core.wmem_default`, 208 KiB by default).
    pub async fn send(&self, stream: u16, ppid: u32, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "SCTP cannot carry an empty user message (RFC 9260 §3.3.1)",
            ));
        }
        loop {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|fd| fd.get_ref().send_msg(stream, 0, ppid, data)) {
                Ok(Ok(n)) if n == data.len() => return Ok(()),
                Ok(Ok(n)) => {
                    return Err(io::Error::other(format!(
                        "kernel SCTP sent {n} of {} bytes",
                        data.len()
                    )));
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }

    /// The next message or association event. After [`KernelEvent::Down`] has been
    /// returned, further calls fail with `NotConnected`.
    pub async fn recv(&self) -> io::Result<KernelEvent> {
        if let Some(ev) = self.rx_state().pending.pop_front() {
            return Ok(ev);
        }
        self.read_event().await
    }

    /// Starts the graceful SHUTDOWN of the association (`shutdown(SHUT_WR)`, RFC 6458
    /// §4.1.7). Messages already sent are still delivered; keep calling
    /// [`KernelAssociation::recv`] to read what the peer still sends and the final
    /// [`KernelEvent::Down`]. Dropping the association also shuts it down gracefully
    /// (or with ABORT if unread data is left).
    pub fn close(&self) -> io::Result<()> {
        match self.fd.get_ref().shutdown_write() {
            Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Ok(()),
            other => other,
        }
    }

    /// Ends the association at once with ABORT (RFC 9260 §9.1) and closes the socket.
    /// On one-to-one sockets Linux refuses `SCTP_ABORT` in `snd_flags` (EINVAL), so
    /// this sets `SO_LINGER` to zero and closes, which makes the kernel send ABORT
    /// (RFC 6458 §4.1.8). The peer sees Down (`SCTP_COMM_LOST`).
    pub fn abort(self) -> io::Result<()> {
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        self.fd.get_ref().set_opt(libc::SOL_SOCKET, libc::SO_LINGER, &linger)?;
        drop(self);
        Ok(())
    }

    fn rx_state(&self) -> MutexGuard<'_, RecvState> {
        // A panic while holding this lock can only come from a bug in this crate; the
        // state is still consistent enough to go on, so do not propagate the poison.
        self.rx.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads from the socket until one event is complete.
    async fn read_event(&self) -> io::Result<KernelEvent> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|fd| self.read_once(fd.get_ref())) {
                Ok(Ok(Some(ev))) => return Ok(ev),
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }

    /// One `recvmsg`. `Ok(None)`: a piece of a longer message, or a notification the
    /// user does not need; `Err(WouldBlock)`: nothing to read.
    fn read_once(&self, sock: &Socket) -> io::Result<Option<KernelEvent>> {
        let mut guard = self.rx_state();
        let st = &mut *guard;
        if st.eof {
            return Err(not_connected());
        }
        SCRATCH.with_borrow_mut(|scratch| {
            if scratch.len() < RECV_CHUNK {
                scratch.resize(RECV_CHUNK, 0);
            }
            Self::read_into(sock, st, scratch)
        })
    }

    fn read_into(sock: &Socket, st: &mut RecvState, scratch: &mut [u8]) -> io::Result<Option<KernelEvent>> {
        let mut control = CmsgBuf([0u8; wire::RECV_CONTROL_SPACE]);
        let meta = match sock.recv_msg(scratch, &mut control.0) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(e),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) if ends_association(&e) => {
                // The socket error (ECONNRESET after an ABORT, ETIMEDOUT …) comes after
                // the notifications; it means the same as SCTP_COMM_LOST.
                st.eof = true;
                return if st.down_reported {
                    Err(e)
                } else {
                    st.down_reported = true;
                    Ok(Some(KernelEvent::Down {
                        reason: format!("association failed: {e}"),
                    }))
                };
            }
            Err(e) => return Err(e),
        };
        if meta.len == 0 {
            // SCTP messages and notifications are never empty: this is end of stream.
            st.eof = true;
            return if st.down_reported {
                Err(not_connected())
            } else {
                st.down_reported = true;
                Ok(Some(KernelEvent::Down {
                    reason: "association closed (end of stream)".to_owned(),
                }))
            };
        }
        if meta.flags & libc::MSG_CTRUNC != 0 {
            tracing::warn!("kernel SCTP control data truncated");
        }
        let info = match wire::decode_rcvinfo(&control.0[..meta.control_len]) {
            Ok(info) => info,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable SCTP_RCVINFO from the kernel");
                None
            }
        };
        let piece = &scratch[..meta.len];
        match st.reassembly.push(piece, meta.flags, info) {
            None => Ok(None),
            Some(Assembled::Data { info, data }) => {
                let (stream, ppid) = match info {
                    Some(i) => (i.stream, i.ppid),
                    None => {
                        tracing::warn!("SCTP message without SCTP_RCVINFO; stream/PPID unknown");
                        (0, 0)
                    }
                };
                Ok(Some(KernelEvent::Message { stream, ppid, data }))
            }
            Some(Assembled::Notification(bytes)) => match wire::parse_notification(&bytes) {
                Ok(n) => {
                    tracing::debug!(notification = ?n, "kernel SCTP notification");
                    match n.event() {
                        Some(KernelEvent::Down { .. }) if st.down_reported => Ok(None),
                        Some(ev @ KernelEvent::Down { .. }) => {
                            st.down_reported = true;
                            Ok(Some(ev))
                        }
                        other => Ok(other),
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "unreadable SCTP notification from the kernel");
                    Ok(None)
                }
            },
            Some(Assembled::Oversized { len }) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "SCTP message of {len} bytes dropped (limit {} bytes)",
                    wire::MAX_MESSAGE
                ),
            )),
        }
    }
}

/// Entry point for fuzzing the pure decoders (`cargo fuzz`); not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    /// Feeds `data` to the notification decoder, the cmsg walker and the reassembler
    /// (split at the first byte). None of them may panic.
    pub fn decode(data: &[u8]) {
        if let Ok(n) = crate::wire::parse_notification(data) {
            let _ = n.event();
        }
        let _ = crate::wire::decode_rcvinfo(data);
        if let Some((&flags, rest)) = data.split_first() {
            let mut r = crate::wire::Reassembly::default();
            let half = rest.len() / 2;
            let flags = i32::from(flags);
            let _ = r.push(&rest[..half], flags & !libc::MSG_EOR, None);
            let _ = r.push(&rest[half..], (flags << 8) | libc::MSG_EOR, None);
        }
    }
}

fn not_connected() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "SCTP association is down")
}

/// Socket errors that mean the association is gone.
fn ends_association(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ECONNRESET
                | libc::ECONNREFUSED
                | libc::ETIMEDOUT
                | libc::EPIPE
                | libc::ECONNABORTED
                | libc::ENOTCONN
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
        )
    )
}

/// Options every socket gets: streams, no Nagle, the notifications we map to
/// [`KernelEvent`], and per-message stream/PPID info.
fn configure(sock: &Socket, options: &KernelOptions) -> io::Result<()> {
    let init = sys::SctpInitmsg {
        sinit_num_ostreams: options.streams,
        sinit_max_instreams: options.streams,
        ..Default::default()
    };
    sock.set_opt(sys::SOL_SCTP, sys::SCTP_INITMSG, &init)?;
    // N2 messages are signalling: send each at once (RFC 6458 §8.1.5).
    sock.set_opt(sys::SOL_SCTP, sys::SCTP_NODELAY, &1i32)?;
    for kind in [sys::SCTP_ASSOC_CHANGE, sys::SCTP_SHUTDOWN_EVENT] {
        let event = sys::SctpEvent {
            se_assoc_id: sys::SCTP_FUTURE_ASSOC,
            se_type: kind,
            se_on: 1,
        };
        sock.set_opt(sys::SOL_SCTP, sys::SCTP_EVENT, &event)?;
    }
    sock.set_opt(sys::SOL_SCTP, sys::SCTP_RECVRCVINFO, &1i32)?;
    if let Some(port) = options.remote_udp_encaps_port {
        let encaps = sys::SctpUdpencaps {
            sue_assoc_id: sys::SCTP_FUTURE_ASSOC,
            // SAFETY: all-zero bytes are a valid sockaddr_storage (AF_UNSPEC, which the
            // kernel reads as "any address": the whole socket).
            sue_address: unsafe { std::mem::zeroed() },
            sue_port: port.to_be(),
        };
        sock.set_opt(sys::SOL_SCTP, sys::SCTP_REMOTE_UDP_ENCAPS_PORT, &encaps)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("SCTP_REMOTE_UDP_ENCAPS_PORT failed (needs Linux ≥ 5.11): {e}"),
                )
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unsupported_kernel_gives_a_clear_error() {
        if is_supported() {
            eprintln!("note: kernel SCTP is available here; the unsupported path is not exercised");
            return;
        }
        let err = KernelListener::bind("127.0.0.1:0".parse().unwrap(), 2).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        let msg = err.to_string();
        assert!(msg.contains("kernel SCTP is unavailable"), "{msg}");
        assert!(msg.contains("SCTP-over-UDP"), "{msg}");
        let err = KernelAssociation::connect(None, "127.0.0.1:38412".parse().unwrap(), 2)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    }

    #[test]
    fn unavailable_message_names_the_cause_and_the_way_out() {
        let e = socket::unavailable(&io::Error::from_raw_os_error(libc::EPROTONOSUPPORT));
        assert_eq!(e.kind(), io::ErrorKind::Unsupported);
        let msg = e.to_string();
        assert!(msg.contains("Protocol not supported"), "{msg}");
        assert!(msg.contains("RFC 6951"), "{msg}");
    }
}
