//! The user plane's way to the Linux kernel (N3/N6/N9 forwarding): TUN devices, batched
//! UDP sockets with GSO/GRO, interface configuration and network namespaces — all of
//! hexcore's user-plane `unsafe`, in `raw.rs`, behind safe types.
//!
//! - [`Tun`] — one queue of a TUN device (`IFF_TUN | IFF_NO_PI`), optionally
//!   multi-queue and with a virtio-net header ([`VnetHeader`]) so that one write can
//!   carry a 64 KiB super-packet and reads can return them ([`Offload`]).
//! - [`BatchSocket`] with [`RecvBatch`] / [`SendBatch`] — `recvmmsg`/`sendmmsg` into
//!   preallocated slots, per-message addresses, `UDP_GRO` segment sizes on receive and
//!   `UDP_SEGMENT` (GSO) on send.
//! - [`Interface`] — up/down, MTU, index (ioctl), addresses and routes (rtnetlink).
//! - [`netns`] — run code in a named or fresh network namespace on its own thread.
//!
//! The shapes follow the C forwarders in `upf-ceiling` (upf_ul.c, upf_dl.c,
//! tunwrite.c), which measured what this kernel can do; this crate makes the same
//! system calls. Setup calls return [`Error`] (naming the system call); per-packet calls
//! return `io::Result`, so that they fit `tokio::io::unix::AsyncFd::try_io` (every
//! type here implements `AsFd`) and `WouldBlock` is cheap to test.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use hexcore_netdev::{BatchSocket, GRO_SLOT_SIZE, RecvBatch, SocketOptions, Tun};
//! let tun = Tun::open("upf0")?;
//! tun.add_address("10.45.0.1".parse()?, 16)?;
//! tun.set_up()?;
//! let options = SocketOptions { gro: true, recv_buffer: Some(16 << 20), ..Default::default() };
//! let n3 = BatchSocket::bind_with("0.0.0.0:2152".parse()?, &options)?;
//! let mut batch = RecvBatch::new(64, GRO_SLOT_SIZE)?;
//! n3.recv_batch(&mut batch)?;
//! for datagram in batch.iter() {
//!     for gtpu in datagram.segments() {
//!         // check the GTP-U header and TEID, then write the inner packet:
//!         tun.write(&gtpu[8..])?;
//!     }
//! }
//! # Ok(()) }
//! ```
#![deny(unsafe_op_in_unsafe_fn)]

mod batch;
mod cmsg;
mod error;
mod iface;
mod netlink;
pub mod netns;
mod raw;
mod sys;
mod tun;
mod vnet;

use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

pub use batch::{BatchSocket, Datagram, GRO_SLOT_SIZE, MAX_BATCH, RecvBatch, SendBatch, SocketOptions};
pub use error::Error;
pub use iface::Interface;
pub use tun::{MAX_QUEUES, Offload, TUN_PATH, Tun, TunBuilder};
pub use vnet::{F_DATA_VALID, F_NEEDS_CSUM, F_RSC_INFO, GsoType, VnetHeader};

/// `SocketAddr` ⇄ C `sockaddr_in`/`sockaddr_in6` (in a `sockaddr_storage`): the
/// conversion every socket call of hexcore's `unsafe` crates needs, here once (the
/// `unsafe` stays in `raw.rs`); hexcore-sctp-kernel uses it too.
pub mod sockaddr {
    pub use crate::raw::{from_sockaddr, to_sockaddr};
}

/// Waits until `fd` is readable or `timeout` passes (`Ok(false)`); `None` waits for
/// ever (`poll(2)` with `POLLIN`). For blocking-style loops and tests; async code uses
/// `AsyncFd` instead.
pub fn wait_readable(fd: &impl AsFd, timeout: Option<Duration>) -> io::Result<bool> {
    raw::poll_readable(fd.as_fd(), timeout)
}
