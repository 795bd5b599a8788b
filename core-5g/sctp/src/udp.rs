//! SCTP over UDP (RFC 6951): a tokio carrier that owns one `UdpSocket`,
//! demultiplexes datagrams to associations by remote address and
//! verification tag, and runs the sans-IO machines and their timers.
//!
//! One socket serves any number of associations, outgoing ([`UdpEndpoint::connect`])
//! and, when listening, incoming ([`UdpEndpoint::accept`]). The task stops
//! when every handle is dropped and its associations have closed.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::assoc::{Association, Config, Event, Listener, ListenerOutput, SendError};
use crate::error::{Error, Result};
use crate::wire::{self, Packet};

/// Settings of a UDP carrier.
#[derive(Debug, Clone)]
pub struct UdpOptions {
    /// Association settings (ports inside the SCTP packets, streams, timers).
    pub sctp: Config,
    /// Accept incoming associations.
    pub listen: bool,
    /// Bytes queued per association above which `send` waits.
    pub send_buffer: usize,
    /// Fixed RNG seed (tests); `None` draws from the OS.
    pub seed: Option<u64>,
}

impl Default for UdpOptions {
    fn default() -> Self {
        UdpOptions {
            sctp: Config::default(),
            listen: false,
            send_buffer: 1024 * 1024,
            seed: None,
        }
    }
}

/// The default local address of a UDP carrier: all interfaces, port 9899.
pub fn default_bind_addr() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], wire::UDP_ENCAPS_PORT))
}

type AssocId = u64;
type AcceptQueue = mpsc::UnboundedReceiver<(UdpAssociation, SocketAddr)>;
type BlockedSend = (u16, u32, Bytes, oneshot::Sender<Result<()>>);

enum Command {
    Connect {
        remote: SocketAddr,
        reply: oneshot::Sender<Result<UdpAssociation>>,
    },
    Send {
        id: AssocId,
        stream: u16,
        ppid: u32,
        data: Bytes,
        reply: oneshot::Sender<Result<()>>,
    },
    Shutdown {
        id: AssocId,
    },
    Abort {
        id: AssocId,
    },
}

/// A handle to a UDP carrier task.
#[derive(Debug, Clone)]
pub struct UdpEndpoint {
    cmd: mpsc::UnboundedSender<Command>,
    local: SocketAddr,
    accept: Option<Arc<Mutex<AcceptQueue>>>,
}

/// One association carried over UDP.
#[derive(Debug)]
pub struct UdpAssociation {
    id: AssocId,
    remote: SocketAddr,
    cmd: mpsc::UnboundedSender<Command>,
    events: Mutex<mpsc::UnboundedReceiver<Event>>,
}

impl UdpEndpoint {
    /// Binds the UDP socket and starts the carrier task (needs a tokio runtime).
    pub fn bind(addr: SocketAddr, options: UdpOptions) -> io::Result<UdpEndpoint> {
        let std_sock = std::net::UdpSocket::bind(addr)?;
        std_sock.set_nonblocking(true)?;
        let socket = UdpSocket::from_std(std_sock)?;
        let local = socket.local_addr()?;
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (accept_tx, accept_rx) = mpsc::unbounded_channel();
        let seed = options.seed.unwrap_or_else(rand::random);
        let now = Instant::now();
        let listener = options.listen.then(|| {
            let key: [u8; 32] = match options.seed {
                Some(s) => {
                    let mut k = [0u8; 32];
                    k[..8].copy_from_slice(&s.to_be_bytes());
                    k
                }
                None => rand::random(),
            };
            Listener::with_key(now, options.sctp.clone(), key, seed ^ 0x6c69_7374)
        });
        let task = Carrier {
            socket,
            options,
            listener,
            cmd_tx: cmd_tx.downgrade(),
            accept_tx,
            assocs: HashMap::new(),
            by_tag: HashMap::new(),
            next_id: 1,
            seed,
        };
        tokio::spawn(task.run(cmd_rx));
        Ok(UdpEndpoint {
            cmd: cmd_tx,
            local,
            accept: Some(Arc::new(Mutex::new(accept_rx))),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Starts an association to `remote` (a UDP address) and waits until it
    /// is up or has failed.
    pub async fn connect(&self, remote: SocketAddr) -> Result<UdpAssociation> {
        let (reply, rx) = oneshot::channel();
        self.cmd
            .send(Command::Connect { remote, reply })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The next incoming association (listening carriers only).
    pub async fn accept(&self) -> Result<(UdpAssociation, SocketAddr)> {
        let Some(accept) = &self.accept else {
            return Err(Error::Closed);
        };
        accept.lock().await.recv().await.ok_or(Error::Closed)
    }
}

impl UdpAssociation {
    pub fn peer_addr(&self) -> SocketAddr {
        self.remote
    }

    /// Queues a user message; waits while the association's send buffer is full.
    pub async fn send(&self, stream: u16, ppid: u32, data: Bytes) -> Result<()> {
        let (reply, rx) = oneshot::channel();
        self.cmd
            .send(Command::Send {
                id: self.id,
                stream,
                ppid,
                data,
                reply,
            })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The next event; `None` after `Down` has been returned.
    pub async fn recv(&self) -> Option<Event> {
        self.events.lock().await.recv().await
    }

    /// Graceful SHUTDOWN (RFC 9260 §9.2); `recv` then yields the rest and `Down`.
    pub fn close(&self) {
        let _ = self.cmd.send(Command::Shutdown { id: self.id });
    }

    /// ABORT (RFC 9260 §9.1).
    pub fn abort(&self) {
        let _ = self.cmd.send(Command::Abort { id: self.id });
    }
}

impl Drop for UdpAssociation {
    fn drop(&mut self) {
        self.close();
    }
}

struct Slot {
    assoc: Association,
    remote: SocketAddr,
    events: mpsc::UnboundedSender<Event>,
    /// A connect waiting for Up (the handle is handed over then).
    connecting: Option<(oneshot::Sender<Result<UdpAssociation>>, UdpAssociation)>,
    /// Sends waiting for buffer room.
    blocked: std::collections::VecDeque<BlockedSend>,
    /// Key under which `by_tag` knows this slot.
    tag_key: (SocketAddr, u32),
}

struct Carrier {
    socket: UdpSocket,
    options: UdpOptions,
    listener: Option<Listener>,
    cmd_tx: mpsc::WeakUnboundedSender<Command>,
    accept_tx: mpsc::UnboundedSender<(UdpAssociation, SocketAddr)>,
    assocs: HashMap<AssocId, Slot>,
    by_tag: HashMap<(SocketAddr, u32), AssocId>,
    next_id: AssocId,
    seed: u64,
}

/// Most time the task lingers for SHUTDOWNs once every handle is gone.
const LINGER: Duration = Duration::from_secs(5);

impl Carrier {
    async fn run(mut self, mut cmd_rx: mpsc::UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; 65_536];
        let mut commands_open = true;
        let mut linger_until: Option<Instant> = None;
        loop {
            if !commands_open {
                let until = *linger_until.get_or_insert_with(|| Instant::now() + LINGER);
                if self.assocs.is_empty() || Instant::now() >= until {
                    break;
                }
            }
            let deadline = self
                .assocs
                .values()
                .filter_map(|s| s.assoc.poll_timeout())
                .min()
                .map(|d| match linger_until {
                    Some(l) => d.min(l),
                    None => d,
                })
                .or(linger_until);
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => {
                        let datagram = buf.get(..n).unwrap_or(&[]).to_vec();
                        self.on_datagram(Instant::now(), from, &datagram).await;
                    }
                    Err(e) => {
                        // ICMP port unreachable surfaces here on some OSes; go on.
                        tracing::debug!(error = %e, "SCTP/UDP recv error");
                    }
                },
                cmd = cmd_rx.recv(), if commands_open => match cmd {
                    Some(cmd) => self.on_command(Instant::now(), cmd).await,
                    None => {
                        commands_open = false;
                        for slot in self.assocs.values_mut() {
                            slot.assoc.shutdown();
                        }
                        self.flush_all(Instant::now()).await;
                    }
                },
                () = sleep => {
                    let now = Instant::now();
                    let due: Vec<AssocId> = self
                        .assocs
                        .iter()
                        .filter(|(_, s)| s.assoc.poll_timeout().is_some_and(|t| t <= now))
                        .map(|(id, _)| *id)
                        .collect();
                    for id in due {
                        if let Some(slot) = self.assocs.get_mut(&id) {
                            slot.assoc.handle_timeout(now);
                        }
                        self.flush(now, id).await;
                    }
                }
            }
        }
    }

    fn new_handle(&mut self, remote: SocketAddr) -> Option<(AssocId, UdpAssociation, mpsc::UnboundedSender<Event>)> {
        let cmd = self.cmd_tx.upgrade()?;
        let id = self.next_id;
        self.next_id += 1;
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = UdpAssociation {
            id,
            remote,
            cmd,
            events: Mutex::new(rx),
        };
        Some((id, handle, tx))
    }

    fn insert(&mut self, id: AssocId, slot: Slot) {
        self.by_tag.insert(slot.tag_key, id);
        self.assocs.insert(id, slot);
    }

    async fn on_command(&mut self, now: Instant, cmd: Command) {
        match cmd {
            Command::Connect { remote, reply } => {
                let Some((id, handle, events)) = self.new_handle(remote) else {
                    let _ = reply.send(Err(Error::Closed));
                    return;
                };
                self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let assoc = Association::connect(now, self.options.sctp.clone(), self.seed);
                let tag_key = (remote, assoc.local_tag());
                self.insert(
                    id,
                    Slot {
                        assoc,
                        remote,
                        events,
                        connecting: Some((reply, handle)),
                        blocked: Default::default(),
                        tag_key,
                    },
                );
                self.flush(now, id).await;
            }
            Command::Send {
                id,
                stream,
                ppid,
                data,
                reply,
            } => {
                let limit = self.options.send_buffer;
                let Some(slot) = self.assocs.get_mut(&id) else {
                    let _ = reply.send(Err(Error::Down("association closed".into())));
                    return;
                };
                if slot.blocked.is_empty() && slot.assoc.buffered_amount() < limit {
                    let r = slot.assoc.send(stream, ppid, data).map_err(Error::from);
                    let _ = reply.send(r);
                } else {
                    slot.blocked.push_back((stream, ppid, data, reply));
                }
                self.flush(now, id).await;
            }
            Command::Shutdown { id } => {
                if let Some(slot) = self.assocs.get_mut(&id) {
                    slot.assoc.shutdown();
                }
                self.flush(now, id).await;
            }
            Command::Abort { id } => {
                if let Some(slot) = self.assocs.get_mut(&id) {
                    slot.assoc.abort();
                }
                self.flush(now, id).await;
            }
        }
    }

    async fn on_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        let Ok(packet) = Packet::parse(datagram) else {
            return;
        };
        let h = packet.header();
        // By tag first; else any association with this peer and these ports
        // (INIT / COOKIE ECHO of a restart, T-bit ABORT / SHUTDOWN COMPLETE).
        let id = self.by_tag.get(&(from, h.verification_tag)).copied().or_else(|| {
            self.assocs
                .iter()
                .find(|(_, s)| {
                    s.remote == from
                        && s.assoc.local_port() == h.dst_port
                        && s.assoc.remote_port() == h.src_port
                        && !s.assoc.is_closed()
                })
                .map(|(id, _)| *id)
        });
        if let Some(id) = id {
            if let Some(slot) = self.assocs.get_mut(&id) {
                slot.assoc.handle(now, datagram);
            }
            self.flush(now, id).await;
            return;
        }
        let Some(listener) = self.listener.as_mut() else {
            return;
        };
        match listener.handle(now, datagram) {
            ListenerOutput::Nothing => {}
            ListenerOutput::Reply(p) => {
                let _ = self.socket.send_to(&p, from).await;
            }
            ListenerOutput::Accepted(assoc) => {
                let Some((id, handle, events)) = self.new_handle(from) else {
                    return;
                };
                let tag_key = (from, assoc.local_tag());
                self.insert(
                    id,
                    Slot {
                        assoc: *assoc,
                        remote: from,
                        events,
                        connecting: None,
                        blocked: Default::default(),
                        tag_key,
                    },
                );
                let _ = self.accept_tx.send((handle, from));
                self.flush(now, id).await;
            }
        }
    }

    async fn flush_all(&mut self, now: Instant) {
        let ids: Vec<AssocId> = self.assocs.keys().copied().collect();
        for id in ids {
            self.flush(now, id).await;
        }
    }

    /// Sends what the association has, hands out its events, re-keys it
    /// after a restart and forgets it once closed.
    async fn flush(&mut self, now: Instant, id: AssocId) {
        let limit = self.options.send_buffer;
        let Some(slot) = self.assocs.get_mut(&id) else {
            return;
        };
        while !slot.blocked.is_empty() && slot.assoc.buffered_amount() < limit {
            if let Some((stream, ppid, data, reply)) = slot.blocked.pop_front() {
                let r = slot.assoc.send(stream, ppid, data).map_err(Error::from);
                let _ = reply.send(r);
            }
        }
        while let Some(p) = slot.assoc.poll_transmit(now) {
            if let Err(e) = self.socket.send_to(&p, slot.remote).await {
                tracing::debug!(error = %e, remote = %slot.remote, "SCTP/UDP send error");
            }
        }
        while let Some(ev) = slot.assoc.poll_event() {
            match (&ev, slot.connecting.take()) {
                (Event::Up, Some((reply, handle))) => {
                    let _ = reply.send(Ok(handle));
                }
                (Event::Down { reason }, Some((reply, _handle))) => {
                    let _ = reply.send(Err(Error::Down(reason.to_string())));
                }
                (_, pending) => slot.connecting = pending,
            }
            let _ = slot.events.send(ev);
        }
        let key = (slot.remote, slot.assoc.local_tag());
        if key != slot.tag_key {
            let old = std::mem::replace(&mut slot.tag_key, key);
            self.by_tag.remove(&old);
            self.by_tag.insert(key, id);
        }
        if slot.assoc.is_closed() {
            for (_, _, _, reply) in slot.blocked.drain(..) {
                let _ = reply.send(Err(Error::Send(SendError::NotEstablished(crate::assoc::State::Closed))));
            }
            let key = slot.tag_key;
            self.by_tag.remove(&key);
            self.assocs.remove(&id);
        }
    }
}
