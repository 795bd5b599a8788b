//! One async N2 API over both carriers: SCTP over UDP (RFC 6951, this
//! crate's own stack) and kernel SCTP (`hexcore-sctp-kernel`). The AMF and
//! the gNB simulator use only this; which carrier is in use is a setting.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hexcore_sctp_kernel::{KernelAssociation, KernelEvent, KernelListener, KernelOptions};

use crate::assoc::{Config, Event};
use crate::error::{Error, Result};
use crate::udp::{UdpAssociation, UdpEndpoint, UdpOptions};
use crate::wire;

/// Which SCTP carries N2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// SCTP over UDP (RFC 6951), user space; addresses are UDP addresses
    /// (port 9899 by default).
    Udp,
    /// The host kernel's SCTP; addresses are SCTP addresses (port 38412).
    Kernel,
}

impl std::str::FromStr for Transport {
    type Err = String;

    /// `"udp"` or `"kernel"` (settings files, command lines).
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "udp" => Ok(Transport::Udp),
            "kernel" | "sctp" => Ok(Transport::Kernel),
            other => Err(format!("unknown SCTP transport {other:?} (udp or kernel)")),
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Kernel => "kernel",
        })
    }
}

/// Settings shared by both carriers.
#[derive(Debug, Clone)]
pub struct N2Options {
    /// Streams each way (NGAP needs at least 2: stream 0 for non-UE signalling).
    pub streams: u16,
    /// UDP carrier: the SCTP port inside the packets (both ends).
    pub sctp_port: u16,
    /// UDP carrier: all association settings (timers, packet size); its
    /// stream counts and ports are overwritten by `streams` / `sctp_port`.
    pub udp: Config,
    /// Kernel carrier: RFC 6951 encapsulation towards this peer UDP port.
    pub kernel_remote_udp_encaps_port: Option<u16>,
    /// How long `connect` waits for the association to come up.
    pub connect_timeout: Duration,
    /// UDP carrier: fixed RNG seed (tests only).
    pub seed: Option<u64>,
}

impl Default for N2Options {
    fn default() -> Self {
        N2Options {
            streams: 16,
            sctp_port: wire::NGAP_PORT,
            udp: Config::default(),
            kernel_remote_udp_encaps_port: None,
            connect_timeout: Duration::from_secs(30),
            seed: None,
        }
    }
}

impl N2Options {
    fn udp_options(&self, listen: bool) -> UdpOptions {
        let mut sctp = self.udp.clone();
        sctp.outbound_streams = self.streams;
        sctp.max_inbound_streams = self.streams;
        sctp.local_port = self.sctp_port;
        sctp.remote_port = self.sctp_port;
        UdpOptions {
            sctp,
            listen,
            seed: self.seed,
            ..UdpOptions::default()
        }
    }

    fn kernel_options(&self) -> KernelOptions {
        KernelOptions {
            streams: self.streams,
            remote_udp_encaps_port: self.kernel_remote_udp_encaps_port,
        }
    }
}

/// What an association reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssociationEvent {
    /// A whole user message.
    Message { stream: u16, ppid: u32, data: Bytes },
    /// The association is up.
    Up,
    /// The association ended; nothing follows.
    Down { reason: String },
    /// The peer restarted the association; it continues.
    Restart,
}

impl From<Event> for AssociationEvent {
    fn from(e: Event) -> Self {
        match e {
            Event::Up => AssociationEvent::Up,
            Event::Message { stream, ppid, data } => AssociationEvent::Message { stream, ppid, data },
            Event::Restart => AssociationEvent::Restart,
            Event::Down { reason } => AssociationEvent::Down {
                reason: reason.to_string(),
            },
        }
    }
}

impl From<KernelEvent> for AssociationEvent {
    fn from(e: KernelEvent) -> Self {
        match e {
            KernelEvent::Up => AssociationEvent::Up,
            KernelEvent::Message { stream, ppid, data } => AssociationEvent::Message {
                stream,
                ppid,
                data: Bytes::from(data),
            },
            KernelEvent::Restart => AssociationEvent::Restart,
            KernelEvent::Down { reason } => AssociationEvent::Down { reason },
        }
    }
}

/// Accepts N2 associations.
#[derive(Debug)]
pub struct N2Listener {
    inner: ListenerInner,
}

#[derive(Debug)]
enum ListenerInner {
    Udp(UdpEndpoint),
    Kernel(KernelListener),
}

impl N2Listener {
    /// Binds with default options (needs a tokio runtime).
    pub fn bind(transport: Transport, addr: SocketAddr) -> Result<N2Listener> {
        Self::bind_with(transport, addr, &N2Options::default())
    }

    pub fn bind_with(transport: Transport, addr: SocketAddr, options: &N2Options) -> Result<N2Listener> {
        let inner = match transport {
            Transport::Udp => ListenerInner::Udp(UdpEndpoint::bind(addr, options.udp_options(true))?),
            Transport::Kernel => {
                if !hexcore_sctp_kernel::is_supported() {
                    return Err(Error::KernelUnsupported);
                }
                ListenerInner::Kernel(KernelListener::bind_with(addr, &options.kernel_options())?)
            }
        };
        Ok(N2Listener { inner })
    }

    pub fn local_addr(&self) -> Result<SocketAddr> {
        match &self.inner {
            ListenerInner::Udp(u) => Ok(u.local_addr()),
            ListenerInner::Kernel(k) => Ok(k.local_addr()?),
        }
    }

    /// The next association a peer set up, with the peer's address.
    pub async fn accept(&self) -> Result<(N2Association, SocketAddr)> {
        match &self.inner {
            ListenerInner::Udp(u) => {
                let (a, peer) = u.accept().await?;
                Ok((N2Association::udp(a, peer, None), peer))
            }
            ListenerInner::Kernel(k) => {
                let (a, peer) = k.accept().await?;
                Ok((
                    N2Association {
                        inner: AssocInner::Kernel(a),
                        peer,
                        down_reported: AtomicBool::new(false),
                    },
                    peer,
                ))
            }
        }
    }
}

/// One N2 association over either carrier.
#[derive(Debug)]
pub struct N2Association {
    inner: AssocInner,
    peer: SocketAddr,
    /// Kernel carrier: whether `Down` was handed out (then `recv` returns `None`).
    down_reported: AtomicBool,
}

#[derive(Debug)]
enum AssocInner {
    /// The endpoint handle keeps a connector's own socket task alive.
    Udp(UdpAssociation, #[allow(dead_code)] Option<UdpEndpoint>),
    Kernel(KernelAssociation),
}

impl N2Association {
    fn udp(a: UdpAssociation, peer: SocketAddr, endpoint: Option<UdpEndpoint>) -> Self {
        N2Association {
            inner: AssocInner::Udp(a, endpoint),
            peer,
            down_reported: AtomicBool::new(false),
        }
    }

    /// Connects with default options. `local`: our address (UDP: the socket
    /// to bind, default any address and an ephemeral port).
    pub async fn connect(transport: Transport, local: Option<SocketAddr>, remote: SocketAddr) -> Result<N2Association> {
        Self::connect_with(transport, local, remote, &N2Options::default()).await
    }

    pub async fn connect_with(
        transport: Transport,
        local: Option<SocketAddr>,
        remote: SocketAddr,
        options: &N2Options,
    ) -> Result<N2Association> {
        let attempt = async {
            match transport {
                Transport::Udp => {
                    let bind = local.unwrap_or_else(|| match remote {
                        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
                        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
                    });
                    let endpoint = UdpEndpoint::bind(bind, options.udp_options(false))?;
                    let a = endpoint.connect(remote).await?;
                    Ok(N2Association::udp(a, remote, Some(endpoint)))
                }
                Transport::Kernel => {
                    if !hexcore_sctp_kernel::is_supported() {
                        return Err(Error::KernelUnsupported);
                    }
                    let a = KernelAssociation::connect_with(local, remote, &options.kernel_options()).await?;
                    Ok(N2Association {
                        inner: AssocInner::Kernel(a),
                        peer: remote,
                        down_reported: AtomicBool::new(false),
                    })
                }
            }
        };
        tokio::time::timeout(options.connect_timeout, attempt)
            .await
            .map_err(|_| Error::Timeout)?
    }

    /// Connects over an existing UDP carrier (many associations on one socket).
    /// SCTP tells associations apart by addresses and ports, so keep one
    /// association per remote address on a shared endpoint: a second INIT
    /// with the same ports is, to the peer, a restart of the first.
    pub async fn connect_via(endpoint: &UdpEndpoint, remote: SocketAddr) -> Result<N2Association> {
        let a = endpoint.connect(remote).await?;
        Ok(N2Association::udp(a, remote, Some(endpoint.clone())))
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    pub fn transport(&self) -> Transport {
        match self.inner {
            AssocInner::Udp(..) => Transport::Udp,
            AssocInner::Kernel(_) => Transport::Kernel,
        }
    }

    /// Sends one user message on `stream` with `ppid` (60 for NGAP).
    pub async fn send(&self, stream: u16, ppid: u32, data: impl Into<Bytes>) -> Result<()> {
        match &self.inner {
            AssocInner::Udp(a, _) => a.send(stream, ppid, data.into()).await,
            AssocInner::Kernel(a) => Ok(a.send(stream, ppid, &data.into()).await?),
        }
    }

    /// The next event; `None` once the association is gone and `Down` was seen.
    pub async fn recv(&self) -> Option<AssociationEvent> {
        match &self.inner {
            AssocInner::Udp(a, _) => a.recv().await.map(AssociationEvent::from),
            AssocInner::Kernel(a) => match a.recv().await {
                Ok(event) => {
                    if matches!(event, KernelEvent::Down { .. }) {
                        self.down_reported.store(true, Ordering::Relaxed);
                    }
                    Some(AssociationEvent::from(event))
                }
                // A socket error before the kernel said COMM_LOST/SHUTDOWN_COMP still
                // ends the association: the caller hears Down once, with the reason.
                Err(e) if !self.down_reported.swap(true, Ordering::Relaxed) => {
                    Some(AssociationEvent::Down { reason: e.to_string() })
                }
                Err(_) => None,
            },
        }
    }

    /// Graceful close (SHUTDOWN): data already sent is still delivered;
    /// keep calling `recv` to see the final `Down`.
    pub fn close(&self) -> Result<()> {
        match &self.inner {
            AssocInner::Udp(a, _) => {
                a.close();
                Ok(())
            }
            AssocInner::Kernel(a) => Ok(a.close()?),
        }
    }

    /// Ends the association at once with ABORT on the UDP carrier. The kernel
    /// carrier closes gracefully instead: Linux refuses the SCTP_ABORT send flag on
    /// one-to-one sockets, and the linger-0 close that aborts needs the socket by
    /// value (`hexcore_sctp_kernel::KernelAssociation::abort`).
    pub fn abort(&self) -> Result<()> {
        match &self.inner {
            AssocInner::Udp(a, _) => {
                a.abort();
                Ok(())
            }
            AssocInner::Kernel(a) => Ok(a.close()?),
        }
    }
}
