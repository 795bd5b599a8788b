//! The simulator's user plane (tokio glue around the sans-IO [`Sim`](crate::Sim)): one
//! N3 UDP socket per simulated gNB carrying GTP-U (TS 29.281) to and from the UPF, and
//! per UE a network namespace holding one TUN device per PDU session, so that ordinary
//! tools run through the session: `ip netns exec hexsim-<pid>-<n> ping 10.45.0.1`.
//!
//! - Uplink: what the kernel routes into a UE's TUN (or what the simulator sends itself,
//!   [`UserPlane::ping`]) goes to the UPF as a G-PDU with the UL TEID and a PDU Session
//!   Container carrying the QFI (TS 38.415 §5.5.2.2). A session without N3 tunnel (the
//!   UE is idle) buffers it and asks the UE for a Service Request (TS 24.501 §5.6.1.1).
//! - Downlink: G-PDUs are demultiplexed by DL TEID and written into the session's TUN;
//!   one for a TEID no session has is answered with Error Indication (TS 29.281
//!   §7.3.1). Echo Requests are answered (§7.2.2); an Error Indication from the UPF is
//!   reported ([`UserPlaneEvent::ErrorIndication`]).
//! - Each TUN gets the PDU address /32, the MTU of the extended PCO (else 1400), IPv6
//!   disabled (so only what a test sends is counted), and the first session of a UE the
//!   default route; the namespace's loopback is up. Namespaces and TUNs go when the
//!   session is released, when the [`UserPlane`] is dropped (end of a scenario, an abort
//!   or Ctrl-C that drops the run), and [`reap_stale`] removes those a killed run left.
//!
//! All of it needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2's `ip`;
//! [`probe_tun`] says whether this host can.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hexcore_gtpu::{Error as GtpuError, Message as GtpuMessage, Packet, Repr, encap_uplink_in_place, parse_gpdu};
use hexcore_netdev::{Interface, Tun, netns};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::gnb::UeKey;
use crate::runner::Capture;

/// The MTU of a UE's TUN when the network gave none (TS 24.008 §10.5.6.3, IPv4 link
/// MTU): below 1500 minus the GTP-U/UDP/IP overhead of N3.
pub const DEFAULT_MTU: u16 = 1400;

/// Uplink packets kept per session while the UE is idle.
const BUFFERED_MAX: usize = 16;

/// What the user plane saw, for the scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPlaneEvent {
    /// A G-PDU for a session's DL TEID, handed to the UE (written into its TUN when
    /// it has one).
    Downlink {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
        /// Octets of the inner packet.
        len: usize,
        /// Written into the UE's TUN.
        to_tun: bool,
    },
    /// Uplink packets wait for the user plane of an idle UE's session.
    UplinkBuffered {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
    },
    /// An ICMP echo reply to a ping the simulator sent itself.
    EchoReply {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
        /// ICMP sequence number.
        seq: u16,
        /// Round trip.
        rtt: Duration,
    },
    /// A GTP-U Echo Request, answered.
    GtpuEchoRequest {
        /// Its sender.
        from: SocketAddr,
    },
    /// A GTP-U Error Indication from the UPF (TS 29.281 §7.3.1): it has no context for
    /// an uplink TEID.
    ErrorIndication {
        /// Its sender.
        from: SocketAddr,
        /// TEID Data I: the TEID the G-PDU had.
        teid: u32,
        /// The session that uses that TEID towards that UPF, if any.
        session: Option<(UeKey, u8)>,
    },
    /// A G-PDU for a DL TEID no session has, answered with Error Indication.
    UnknownTeid {
        /// Its sender.
        from: SocketAddr,
        /// The TEID.
        teid: u32,
    },
    /// A datagram on N3 the gNB does not take.
    Malformed {
        /// Its sender.
        from: SocketAddr,
        /// Why.
        error: String,
    },
    /// A command started with [`UserPlane::spawn_command`] ended.
    CommandDone {
        /// Its id.
        id: u64,
        /// Exit status 0.
        success: bool,
        /// Standard output and error.
        output: String,
    },
    /// A UE's TUN could not be read or written.
    TunError {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
        /// What failed.
        error: String,
    },
}

/// Input to [`UserPlane::handle`], from its reader tasks.
#[derive(Debug)]
pub enum UpInput {
    /// A datagram on the N3 socket.
    N3 {
        /// Sender.
        from: SocketAddr,
        /// Octets.
        data: Vec<u8>,
    },
    /// A packet the kernel sent into a UE's TUN.
    Tun {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
        /// The IP packet.
        packet: Vec<u8>,
    },
    /// Something already decided.
    Event(UserPlaneEvent),
}

/// What [`UserPlane::handle`] wants the caller to do besides reporting events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpAction {
    /// Report this.
    Event(UserPlaneEvent),
    /// The UE has uplink data for an idle session: let it ask for service.
    UplinkPending {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
    },
}

#[derive(Debug, Clone)]
struct Tunnel {
    ue: UeKey,
    psi: u8,
    upf: SocketAddr,
    ul_teid: u32,
    qfi: u8,
}

struct Session {
    ipv4: Ipv4Addr,
    tun: Option<Arc<Tun>>,
    /// Tells the TUN's reader thread to end (it checks every [`TUN_POLL`]).
    stop: Arc<AtomicBool>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// How often a TUN reader thread looks at its stop flag.
const TUN_POLL: Duration = Duration::from_millis(100);

/// One gNB's user plane.
pub struct UserPlane {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    capture: Arc<Mutex<Capture>>,
    tx: mpsc::UnboundedSender<UpInput>,
    rx: mpsc::UnboundedReceiver<UpInput>,
    n3_reader: JoinHandle<()>,
    commands: Vec<JoinHandle<()>>,
    /// By DL TEID.
    tunnels: HashMap<u32, Tunnel>,
    /// UE sessions with their TUN (when `tun` is on).
    sessions: BTreeMap<(UeKey, u8), Session>,
    /// One namespace per UE; dropped after its sessions.
    namespaces: BTreeMap<UeKey, UeNamespace>,
    buffered: HashMap<(UeKey, u8), Vec<Vec<u8>>>,
    pings: HashMap<(u16, u16), Instant>,
    tun: bool,
    echo_sequence: u16,
    next_command: u64,
}

impl std::fmt::Debug for UserPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPlane")
            .field("local", &self.local)
            .field("tunnels", &self.tunnels.len())
            .field("sessions", &self.sessions.len())
            .field("tun", &self.tun)
            .finish()
    }
}

impl Drop for UserPlane {
    fn drop(&mut self) {
        self.n3_reader.abort();
        for c in &self.commands {
            c.abort();
        }
        // Sessions (their TUNs) first, then the namespaces that held them.
        self.sessions.clear();
        self.namespaces.clear();
    }
}

impl UserPlane {
    /// Bind the N3 socket at `bind` (port 2152 for a real UPF; 0 for a test UPF that
    /// answers to the source port) and start reading it. `tun`: give each UE session a
    /// TUN in a namespace (see [`probe_tun`]).
    pub async fn bind(bind: SocketAddr, tun: bool, capture: Arc<Mutex<Capture>>) -> Result<UserPlane, String> {
        let socket = UdpSocket::bind(bind).await.map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                " (a UPF on this host holds port 2152 on every address: bind its N3 to one \
                     address, e.g. HEXCORE_UPF__N3_BIND=127.0.0.1:2152 for hexcore, or give \
                     --n3-address another local address)"
            } else {
                ""
            };
            format!("cannot bind the N3 socket at {bind}: {e}{hint}")
        })?;
        let local = socket.local_addr().map_err(|e| format!("N3 socket address: {e}"))?;
        let socket = Arc::new(socket);
        let (tx, rx) = mpsc::unbounded_channel();
        let reader = {
            let socket = socket.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                loop {
                    match socket.recv_from(&mut buf).await {
                        Ok((n, from)) => {
                            let data = buf.get(..n).unwrap_or_default().to_vec();
                            if tx.send(UpInput::N3 { from, data }).is_err() {
                                return;
                            }
                        }
                        // ICMP port unreachable from an earlier send, and the like.
                        Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
            })
        };
        Ok(UserPlane {
            socket,
            local,
            capture,
            tx,
            rx,
            n3_reader: reader,
            commands: Vec::new(),
            tunnels: HashMap::new(),
            sessions: BTreeMap::new(),
            namespaces: BTreeMap::new(),
            buffered: HashMap::new(),
            pings: HashMap::new(),
            tun,
            echo_sequence: 0,
            next_command: 1,
        })
    }

    /// The N3 socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether UE sessions get TUN devices.
    pub fn has_tun(&self) -> bool {
        self.tun
    }

    /// The namespace of a UE's TUNs.
    pub fn namespace(&self, ue: UeKey) -> Option<&str> {
        self.namespaces.get(&ue).map(|n| n.name.as_str())
    }

    /// The next input from the reader tasks.
    pub async fn recv(&mut self) -> Option<UpInput> {
        self.rx.recv().await
    }

    /// The gNB set a session's N3 tunnel up: uplink goes there from now on, and what
    /// waited is sent.
    pub async fn tunnel_up(&mut self, ue: UeKey, psi: u8, upf: SocketAddr, ul_teid: u32, dl_teid: u32, qfi: u8) {
        self.tunnels.retain(|_, t| !(t.ue == ue && t.psi == psi));
        self.tunnels.insert(
            dl_teid,
            Tunnel {
                ue,
                psi,
                upf,
                ul_teid,
                qfi,
            },
        );
        for packet in self.buffered.remove(&(ue, psi)).unwrap_or_default() {
            self.uplink(ue, psi, &packet).await;
        }
    }

    /// The gNB dropped a session's N3 tunnel.
    pub fn tunnel_down(&mut self, dl_teid: u32) {
        self.tunnels.remove(&dl_teid);
    }

    /// The UE has an IPv4 PDU session: with TUNs on, create its TUN (and the UE's
    /// namespace) now. Blocking work runs on a blocking thread.
    pub async fn attach(&mut self, ue: UeKey, psi: u8, ipv4: Ipv4Addr, mtu: Option<u16>) -> Result<(), String> {
        self.detach(ue, psi);
        if !self.tun {
            self.sessions.insert(
                (ue, psi),
                Session {
                    ipv4,
                    tun: None,
                    stop: Arc::new(AtomicBool::new(false)),
                },
            );
            return Ok(());
        }
        let default_route = !self.sessions.keys().any(|(u, _)| *u == ue);
        let ns = match self.namespaces.remove(&ue) {
            Some(ns) => ns,
            None => tokio::task::spawn_blocking(UeNamespace::create)
                .await
                .map_err(|e| format!("namespace task: {e}"))??,
        };
        let name = ns.name.clone();
        self.namespaces.insert(ue, ns);
        let mtu = mtu.unwrap_or(DEFAULT_MTU);
        let tun = tokio::task::spawn_blocking(move || open_tun(&name, psi, ipv4, mtu, default_route))
            .await
            .map_err(|e| format!("TUN task: {e}"))??;
        let tun = Arc::new(tun);
        let stop = Arc::new(AtomicBool::new(false));
        // A plain thread per TUN: the device is non-blocking and polled with a timeout,
        // so the thread sees its stop flag soon after the session goes.
        let reader = {
            let (tun, stop, tx) = (tun.clone(), stop.clone(), self.tx.clone());
            move || read_tun(&tun, &stop, &tx, ue, psi)
        };
        std::thread::Builder::new()
            .name(format!("tun UE{} PDU{psi}", ue.0))
            .spawn(reader)
            .map_err(|e| format!("TUN reader thread: {e}"))?;
        self.sessions.insert(
            (ue, psi),
            Session {
                ipv4,
                tun: Some(tun),
                stop,
            },
        );
        Ok(())
    }

    /// The UE's session is gone: its TUN goes, and the namespace with the last one.
    pub fn detach(&mut self, ue: UeKey, psi: u8) {
        self.sessions.remove(&(ue, psi));
        self.buffered.remove(&(ue, psi));
        if !self.sessions.keys().any(|(u, _)| *u == ue) {
            self.namespaces.remove(&ue);
        }
    }

    /// Send an ICMP echo request from the UE's address to `target` through the session,
    /// as if the UE's stack had (for hosts without a `ping` binary). The reply comes
    /// back as [`UserPlaneEvent::EchoReply`].
    pub async fn ping(&mut self, ue: UeKey, psi: u8, target: Ipv4Addr, id: u16, seq: u16) -> Result<(), String> {
        let source = self
            .sessions
            .get(&(ue, psi))
            .map(|s| s.ipv4)
            .ok_or_else(|| format!("UE {} has no user plane for PDU session {psi}", ue.0))?;
        let packet = icmp_echo(source, target, 8, id, seq, &[0x68; 56]);
        self.pings.insert((id, seq), Instant::now());
        self.uplink(ue, psi, &packet).await;
        Ok(())
    }

    /// Run `program args…` in the background; [`UserPlaneEvent::CommandDone`] with the
    /// returned id when it ends.
    pub fn spawn_command(&mut self, program: &str, args: &[String]) -> u64 {
        let id = self.next_command;
        self.next_command += 1;
        let tx = self.tx.clone();
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args).stdin(std::process::Stdio::null()).kill_on_drop(true);
        let shown = format!("{program} {}", args.join(" "));
        self.commands.push(tokio::spawn(async move {
            let event = match cmd.output().await {
                Ok(out) => UserPlaneEvent::CommandDone {
                    id,
                    success: out.status.success(),
                    output: format!(
                        "{}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ),
                },
                Err(e) => UserPlaneEvent::CommandDone {
                    id,
                    success: false,
                    output: format!("cannot run {shown:?}: {e}"),
                },
            };
            let _ = tx.send(UpInput::Event(event));
        }));
        id
    }

    /// Handle one input; what to report or do.
    pub async fn handle(&mut self, input: UpInput) -> Vec<UpAction> {
        match input {
            UpInput::Event(e) => vec![UpAction::Event(e)],
            UpInput::Tun { ue, psi, packet } => {
                if self.tunnels.values().any(|t| t.ue == ue && t.psi == psi) {
                    self.uplink(ue, psi, &packet).await;
                    Vec::new()
                } else {
                    // No radio bearer (idle): keep it and ask for service.
                    let q = self.buffered.entry((ue, psi)).or_default();
                    if q.len() < BUFFERED_MAX {
                        q.push(packet);
                    }
                    vec![
                        UpAction::Event(UserPlaneEvent::UplinkBuffered { ue, psi }),
                        UpAction::UplinkPending { ue, psi },
                    ]
                }
            }
            UpInput::N3 { from, data } => {
                self.record(from, self.local, &data);
                self.n3(from, &data).await.into_iter().map(UpAction::Event).collect()
            }
        }
    }

    async fn n3(&mut self, from: SocketAddr, data: &[u8]) -> Vec<UserPlaneEvent> {
        match parse_gpdu(data) {
            Ok(g) => {
                let Some(t) = self.tunnels.get(&g.teid).cloned() else {
                    // TS 29.281 §7.3.1: a G-PDU for no context draws an Error Indication.
                    let seq = self.next_echo_sequence();
                    let ei = Repr::error_indication(g.teid, self.local.ip(), seq);
                    self.send_repr(&ei, from).await;
                    return vec![UserPlaneEvent::UnknownTeid { from, teid: g.teid }];
                };
                let inner = data.get(g.payload.clone()).unwrap_or_default();
                let mut events = Vec::new();
                if let Some((id, seq)) = icmp_echo_reply(inner)
                    && let Some(sent) = self.pings.remove(&(id, seq))
                {
                    events.push(UserPlaneEvent::EchoReply {
                        ue: t.ue,
                        psi: t.psi,
                        seq,
                        rtt: sent.elapsed(),
                    });
                }
                let mut to_tun = false;
                if let Some(tun) = self.sessions.get(&(t.ue, t.psi)).and_then(|s| s.tun.clone()) {
                    match tun.write(inner) {
                        Ok(_) => to_tun = true,
                        Err(e) => events.push(UserPlaneEvent::TunError {
                            ue: t.ue,
                            psi: t.psi,
                            error: format!("TUN write: {e}"),
                        }),
                    }
                }
                events.insert(
                    0,
                    UserPlaneEvent::Downlink {
                        ue: t.ue,
                        psi: t.psi,
                        len: inner.len(),
                        to_tun,
                    },
                );
                events
            }
            Err(GtpuError::NotGpdu(_)) => {
                let parsed = Packet::new_checked(data).and_then(|p| Repr::parse(&p));
                match parsed {
                    Ok(r) => match r.message {
                        GtpuMessage::EchoRequest(_) => {
                            // §7.2.2: the same sequence number, restart counter 0.
                            let answer = Repr::echo_response(r.sequence_number.unwrap_or(0));
                            self.send_repr(&answer, from).await;
                            vec![UserPlaneEvent::GtpuEchoRequest { from }]
                        }
                        GtpuMessage::ErrorIndication(ei) => {
                            let session = self
                                .tunnels
                                .values()
                                .find(|t| t.ul_teid == ei.teid_data_i && t.upf.ip() == from.ip())
                                .map(|t| (t.ue, t.psi));
                            vec![UserPlaneEvent::ErrorIndication {
                                from,
                                teid: ei.teid_data_i,
                                session,
                            }]
                        }
                        GtpuMessage::EchoResponse(_) | GtpuMessage::EndMarker(_) => Vec::new(),
                        other => vec![UserPlaneEvent::Malformed {
                            from,
                            error: format!("unexpected GTP-U {other:?}").chars().take(120).collect(),
                        }],
                    },
                    Err(e) => vec![UserPlaneEvent::Malformed {
                        from,
                        error: e.to_string(),
                    }],
                }
            }
            Err(e) => vec![UserPlaneEvent::Malformed {
                from,
                error: e.to_string(),
            }],
        }
    }

    /// Send a UE's packet up its session's tunnel (UL PDU Session Container with the
    /// QFI, TS 38.415 §5.5.2.2).
    async fn uplink(&mut self, ue: UeKey, psi: u8, packet: &[u8]) {
        let Some(t) = self.tunnels.values().find(|t| t.ue == ue && t.psi == psi).cloned() else {
            let q = self.buffered.entry((ue, psi)).or_default();
            if q.len() < BUFFERED_MAX {
                q.push(packet.to_vec());
            }
            return;
        };
        let head = hexcore_gtpu::MAX_ENCAP_HEADER_LEN;
        let mut buf = vec![0u8; head + packet.len()];
        if let Some(room) = buf.get_mut(head..) {
            room.copy_from_slice(packet);
        }
        let qfi = (t.qfi <= 0x3F).then_some(t.qfi);
        if let Ok(range) = encap_uplink_in_place(&mut buf, head, packet.len(), t.ul_teid, qfi)
            && let Some(datagram) = buf.get(range)
        {
            self.send_to(datagram, t.upf).await;
        }
    }

    async fn send_repr(&mut self, repr: &Repr<'_>, to: SocketAddr) {
        let mut out = vec![0u8; repr.buffer_len()];
        if repr.emit(&mut Packet::new_unchecked(&mut out[..])).is_ok() {
            self.send_to(&out, to).await;
        }
    }

    async fn send_to(&mut self, datagram: &[u8], to: SocketAddr) {
        self.record(self.local, to, datagram);
        // A lost datagram is what N3 allows; the scenario sees the missing answer.
        let _ = self.socket.send_to(datagram, to).await;
    }

    fn record(&self, from: SocketAddr, to: SocketAddr, datagram: &[u8]) {
        if let Ok(mut c) = self.capture.lock() {
            c.record_udp(from, to, datagram);
        }
    }

    fn next_echo_sequence(&mut self) -> u16 {
        self.echo_sequence = self.echo_sequence.wrapping_add(1);
        self.echo_sequence
    }
}

/// Forward what the kernel routes into a UE's TUN until told to stop.
fn read_tun(tun: &Tun, stop: &AtomicBool, tx: &mpsc::UnboundedSender<UpInput>, ue: UeKey, psi: u8) {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        match tun.wait_readable(Some(TUN_POLL)) {
            Ok(false) => {}
            Ok(true) => loop {
                match tun.read(&mut buf) {
                    Ok(n) => {
                        let packet = buf.get(..n).unwrap_or_default().to_vec();
                        if tx.send(UpInput::Tun { ue, psi, packet }).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        let error = format!("TUN read: {e}");
                        let _ = tx.send(UpInput::Event(UserPlaneEvent::TunError { ue, psi, error }));
                        return;
                    }
                }
            },
            Err(e) => {
                let error = format!("TUN poll: {e}");
                let _ = tx.send(UpInput::Event(UserPlaneEvent::TunError { ue, psi, error }));
                return;
            }
        }
    }
}

/// Whether this host can give UEs TUN devices in namespaces: creates one of each and
/// removes them. The error says why not (not root, no `/dev/net/tun`, no `ip`).
pub fn probe_tun() -> Result<(), String> {
    let ns = UeNamespace::create()?;
    let r = open_tun(&ns.name, 1, Ipv4Addr::new(192, 0, 2, 1), DEFAULT_MTU, true).map(drop);
    drop(ns);
    r
}

/// Namespaces this process created and has not deleted yet.
static LIVE: Mutex<Vec<String>> = Mutex::new(Vec::new());
static NEXT_NAMESPACE: AtomicU64 = AtomicU64::new(1);

/// The prefix of the simulator's namespaces: `hexsim-<pid>-<n>`.
pub const NAMESPACE_PREFIX: &str = "hexsim-";

/// A UE's network namespace, deleted on drop.
#[derive(Debug)]
struct UeNamespace {
    name: String,
}

impl UeNamespace {
    fn create() -> Result<UeNamespace, String> {
        let n = NEXT_NAMESPACE.fetch_add(1, Ordering::Relaxed);
        let name = format!("{NAMESPACE_PREFIX}{}-{n}", std::process::id());
        netns::create(&name).map_err(|e| format!("cannot create network namespace {name}: {e}"))?;
        if let Ok(mut live) = LIVE.lock() {
            live.push(name.clone());
        }
        Ok(UeNamespace { name })
    }
}

impl Drop for UeNamespace {
    fn drop(&mut self) {
        let _ = netns::delete(&self.name);
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|n| n != &self.name);
        }
    }
}

/// Delete every namespace this process created and still has (for a run interrupted
/// before its guards ran).
pub fn delete_live_namespaces() {
    let names = LIVE.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
    for name in names {
        let _ = netns::delete(&name);
    }
}

/// Delete the `hexsim-<pid>-*` namespaces of processes that no longer run (a run that
/// was killed before it could clean up).
pub fn reap_stale() {
    let Ok(dir) = std::fs::read_dir(netns::NETNS_DIR) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix(NAMESPACE_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = netns::delete(&name);
        }
    }
}

/// Create and configure `pdu<psi>` inside the namespace.
fn open_tun(namespace: &str, psi: u8, ipv4: Ipv4Addr, mtu: u16, default_route: bool) -> Result<Tun, String> {
    let name = format!("pdu{psi}");
    let configured = netns::run_in(namespace, move || -> Result<Tun, String> {
        let tun = Tun::open(&name).map_err(|e| format!("TUN {name}: {e}"))?;
        // No IPv6 on it: no link-local address, no router solicitations, nothing sent
        // that a test did not send. A kernel without IPv6 has no such file.
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1");
        tun.set_mtu(u32::from(mtu))
            .map_err(|e| format!("{name} MTU {mtu}: {e}"))?;
        tun.add_address(IpAddr::V4(ipv4), 32)
            .map_err(|e| format!("{name} address {ipv4}/32: {e}"))?;
        tun.set_up().map_err(|e| format!("{name} up: {e}"))?;
        if default_route {
            tun.add_route(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
                .map_err(|e| format!("{name} default route: {e}"))?;
        }
        Interface::new("lo")
            .and_then(|lo| lo.set_up())
            .map_err(|e| format!("loopback up: {e}"))?;
        Ok(tun)
    });
    configured.map_err(|e| format!("in namespace {namespace}: {e}"))?
}

/// An IPv4 ICMP echo message (RFC 792; `kind` 8 request, 0 reply), checksums computed.
pub fn icmp_echo(source: Ipv4Addr, destination: Ipv4Addr, kind: u8, id: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut icmp = vec![kind, 0, 0, 0];
    icmp.extend_from_slice(&id.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(data);
    let sum = checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    hexcore_capture::link::build_ipv4(source, destination, 1, &icmp)
}

/// The identifier and sequence number of an IPv4 ICMP echo reply.
pub fn icmp_echo_reply(packet: &[u8]) -> Option<(u16, u16)> {
    let ihl = usize::from(packet.first()? & 0x0F) * 4;
    if packet.first()? >> 4 != 4 || *packet.get(9)? != 1 {
        return None;
    }
    let icmp = packet.get(ihl..)?;
    if *icmp.first()? != 0 {
        return None;
    }
    let id = u16::from_be_bytes([*icmp.get(4)?, *icmp.get(5)?]);
    let seq = u16::from_be_bytes([*icmp.get(6)?, *icmp.get(7)?]);
    Some((id, seq))
}

/// RFC 1071 one's-complement sum.
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_echo_round_trip() {
        // RFC 792 echo request, 10.45.0.2 → 10.45.0.1, id 0x1234 seq 1: both checksums
        // verify (a sum over a correct header or message is 0).
        let p = icmp_echo(
            Ipv4Addr::new(10, 45, 0, 2),
            Ipv4Addr::new(10, 45, 0, 1),
            8,
            0x1234,
            1,
            b"abcd",
        );
        assert_eq!(checksum(&p[..20]), 0);
        assert_eq!(checksum(&p[20..]), 0);
        assert_eq!(icmp_echo_reply(&p), None);
        let r = icmp_echo(
            Ipv4Addr::new(10, 45, 0, 1),
            Ipv4Addr::new(10, 45, 0, 2),
            0,
            0x1234,
            1,
            b"abcd",
        );
        assert_eq!(icmp_echo_reply(&r), Some((0x1234, 1)));
        for n in 0..r.len() {
            let _ = icmp_echo_reply(&r[..n]);
        }
    }
}
