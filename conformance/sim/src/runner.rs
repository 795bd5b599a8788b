//! The glue: a [`Sim`] over a real N2 association (SCTP/UDP or kernel SCTP), the
//! scenarios of the conformance suite, and the load generator.
//!
//! Each scenario opens its own association (its own gNB), so a scenario that upsets
//! the AMF cannot spoil the next one, and the NG Setup scenarios start clean. Every
//! NGAP message sent and received is kept for the pcap (a [`Capture`]); deliberately
//! malformed PDUs go to a separate capture, so that the main one decodes cleanly; the
//! GTP-U of N3 goes in the main one too, as IP/UDP packets on port 2152.
//!
//! The PDU session scenarios that move data give each UE a TUN device in its own
//! network namespace ([`crate::user_plane`]); they need root and are skipped without
//! it. The namespaces go at the end of each scenario, on Ctrl-C (the run stops and
//! drops the scenario), and a later run reaps those of a killed one.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hexcore_capture::{Carrier, LinkType, Synthesizer, Writer};
use hexcore_nas::ie::Guti;
use hexcore_nas::{MmCause, SmCause};
use hexcore_ngap::{Cause, CauseMisc, CauseRadioNetwork, Plmn, SNssai};
use hexcore_sctp::{AssociationEvent, N2Association, N2Options, PPID_NGAP};

pub use crate::report::Report;
pub use hexcore_sctp::Transport;

use crate::gnb::{GTPU_PORT, GnbConfig, GnbEvent, UeKey};
use crate::report::{Outcome, Verdict};
use crate::sim::{Sim, SimEvent};
use crate::ue::{Behaviour, RegistrationKind, SuciProfile, UeConfig, UeEvent};
use crate::user_plane::{self, UpAction, UpInput, UserPlane, UserPlaneEvent};

/// TS 35.208 Test Set 1 K and OPc: what test labs (and `hexcore subscriber` examples)
/// provision by default.
pub const DEFAULT_K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
/// See [`DEFAULT_K`].
pub const DEFAULT_OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The AMF's N2 address (UDP port 9899 or SCTP port 38412).
    pub amf: SocketAddr,
    /// The carrier.
    pub transport: Transport,
    /// PLMN of the gNB and of the subscribers.
    pub mcc: String,
    /// See `mcc`.
    pub mnc: String,
    /// TAC of the gNB.
    pub tac: u32,
    /// Slices of the gNB and requested by the UEs.
    pub slices: Vec<(u8, Option<u32>)>,
    /// The first provisioned IMSI; the suite uses it and the following ones (up to
    /// `ues` of them).
    pub imsi: String,
    /// How many consecutive IMSIs from `imsi` are provisioned.
    pub ues: usize,
    /// K of every provisioned subscriber.
    pub k: [u8; 16],
    /// OPc of every provisioned subscriber.
    pub opc: [u8; 16],
    /// Home-network public key for SUCI Profile A (key id, 32 octets).
    pub profile_a: Option<(u8, Vec<u8>)>,
    /// Home-network public key for SUCI Profile B (key id, SEC1 point).
    pub profile_b: Option<(u8, Vec<u8>)>,
    /// An IMSI that is not provisioned.
    pub unknown_imsi: String,
    /// How long to wait for each expected answer.
    pub timeout: Duration,
    /// A shell command that makes the core deregister a UE from the network side
    /// (`{supi}` is replaced with its IMSI digits). 5G cores have no standard trigger on
    /// N2/N1 for this (TS 23.502 §4.2.2.3.3 starts it from the UDM or by O&M), so the lab
    /// names its own: for hexcore, `hexcore ue deregister {supi}`. Without it the
    /// network-initiated deregistration scenario is skipped.
    pub network_deregister_cmd: Option<String>,
    /// The DNN of the PDU session scenarios (hexcore's default: `internet`).
    pub dnn: String,
    /// The second DNN of `pdu-session-two-dnns`.
    pub dnn2: String,
    /// The gNB's N3 address: the DL tunnel address of its Setup Response Transfers,
    /// where the UPF sends GTP-U, and where the N3 socket binds. `None`: 127.0.0.2 for
    /// an AMF on loopback (so that a core on the same host can keep 127.0.0.1:2152),
    /// else the local address of the route to the AMF.
    pub n3_address: Option<IpAddr>,
    /// The N3 socket's port: 2152 (TS 29.281 §4.4.2.3); 0 only for a UPF that answers
    /// to the source port.
    pub n3_port: u16,
    /// The UPF's GTP-U port: 2152; another only for a test UPF.
    pub upf_port: u16,
    /// Where the data scenarios ping. `None`: the first address of the UE's /16
    /// (10.45.0.1 for hexcore's pool 10.45.0.0/16), the usual UPF N6 gateway.
    pub ping_target: Option<Ipv4Addr>,
    /// A shell command that sends one packet from the data network to a UE (`{ue_ip}`
    /// is replaced with its PDU address), for `pdu-session-idle-downlink-paging`; for
    /// hexcore, `ping -c 1 -W 1 {ue_ip}` in the core's namespace. Without it the
    /// scenario is skipped.
    pub downlink_cmd: Option<String>,
    /// A shell command that restarts the UPF, for `pdu-session-upf-restart`; without it
    /// the scenario is skipped.
    pub upf_restart_cmd: Option<String>,
    /// How long after the UPF restart to try the session again.
    pub upf_restart_wait: Duration,
    /// An S-NSSAI the subscribers do not have (`pdu-session-unsubscribed-slice`).
    pub unsubscribed_slice: (u8, Option<u32>),
}

impl Settings {
    /// Defaults matching `hexcore up` out of the box: PLMN 999/70, TAC 1, SST 1, IMSIs
    /// from 999700000000001 with the TS 35.208 Test Set 1 keys.
    pub fn new(amf: SocketAddr, transport: Transport) -> Self {
        Settings {
            amf,
            transport,
            mcc: "999".into(),
            mnc: "70".into(),
            tac: 1,
            slices: vec![(1, None)],
            imsi: "999700000000001".into(),
            ues: 100,
            k: DEFAULT_K,
            opc: DEFAULT_OPC,
            profile_a: None,
            profile_b: None,
            unknown_imsi: "999709999999999".into(),
            timeout: Duration::from_secs(5),
            network_deregister_cmd: None,
            dnn: "internet".into(),
            dnn2: "ims".into(),
            n3_address: None,
            n3_port: GTPU_PORT,
            upf_port: GTPU_PORT,
            ping_target: None,
            downlink_cmd: None,
            upf_restart_cmd: None,
            upf_restart_wait: Duration::from_secs(5),
            unsubscribed_slice: (1, Some(0xAB_CDEF)),
        }
    }

    /// The gNB's N3 address (see `n3_address`).
    pub fn n3_ip(&self) -> IpAddr {
        if let Some(ip) = self.n3_address {
            return ip;
        }
        if self.amf.ip().is_loopback() {
            return IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        }
        // The source address of the route to the AMF: connecting a UDP socket sends
        // nothing.
        std::net::UdpSocket::bind(SocketAddr::new(
            match self.amf.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
            },
            0,
        ))
        .and_then(|s| s.connect(self.amf).and_then(|()| s.local_addr()))
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// The S-NSSAI PDU sessions ask for: the first configured slice.
    fn session_slice(&self) -> Option<(u8, Option<u32>)> {
        self.slices.first().copied()
    }

    /// The `i`-th provisioned IMSI.
    pub fn imsi(&self, i: usize) -> String {
        nth_imsi(&self.imsi, i)
    }

    fn plmn(&self) -> Result<Plmn, String> {
        Plmn::new(&self.mcc, &self.mnc).map_err(|e| format!("bad PLMN: {e}"))
    }

    fn gnb(&self, index: usize) -> Result<GnbConfig, String> {
        let mut g = GnbConfig::new(self.plmn()?, self.tac);
        g.slices = self
            .slices
            .iter()
            .map(|&(sst, sd)| SNssai { sst, sd: sd.map(u24) })
            .collect();
        g.gnb_id = 0x100 + index as u32;
        g.name = format!("hexcore-sim-{index}");
        g.n3_address = self.n3_ip();
        g.upf_port = self.upf_port;
        Ok(g)
    }

    fn ue(&self, i: usize) -> UeConfig {
        let mut c = UeConfig::new(&self.imsi(i), self.mnc.len(), self.k, self.opc);
        c.nssai = self.slices.clone();
        c.seed = i as u64 + 1;
        c
    }
}

fn u24(v: u32) -> [u8; 3] {
    let [_, a, b, c] = v.to_be_bytes();
    [a, b, c]
}

/// `base` plus `i`, keeping the number of digits.
pub fn nth_imsi(base: &str, i: usize) -> String {
    let n: u128 = base.parse().unwrap_or(0);
    format!("{:0width$}", n + i as u128, width = base.len())
}

/// Every NGAP message the simulator sent and received, as packets.
#[derive(Debug, Default)]
pub struct Capture {
    synthesizer: Synthesizer,
    /// (time in ns since the epoch, IPv4 packet).
    pub packets: Vec<(u64, Vec<u8>)>,
    /// Deliberately malformed PDUs the suite sent.
    pub malformed: Vec<(u64, Vec<u8>)>,
    malformed_synthesizer: Synthesizer,
}

impl Capture {
    fn record(&mut self, src: SocketAddr, dst: SocketAddr, carrier: Carrier, stream: u16, data: &[u8], bad: bool) {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        if bad {
            let p = self
                .malformed_synthesizer
                .packet(src, dst, carrier, stream, PPID_NGAP, data);
            self.malformed.push((ts, p));
        } else {
            let p = self.synthesizer.packet(src, dst, carrier, stream, PPID_NGAP, data);
            self.packets.push((ts, p));
        }
    }

    /// A GTP-U datagram of N3, as an IPv4/UDP packet beside the NGAP ones, with the
    /// real addresses and GTP-U's port 2152 on both ends whatever ports a test used (so
    /// that `hexcore pcap` finds it); an IPv6 one is left out (the capture is IPv4).
    pub fn record_udp(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else {
            return;
        };
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let udp = hexcore_capture::link::build_udp(GTPU_PORT, GTPU_PORT, payload);
        self.packets
            .push((ts, hexcore_capture::link::build_ipv4(s, d, 17, &udp)));
    }

    /// A pcap (LINKTYPE_RAW) of `packets`.
    pub fn pcap(packets: &[(u64, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
        let mut w = Writer::new(Vec::new(), LinkType::Raw)?;
        for (ts, p) in packets {
            w.write(*ts, p)?;
        }
        w.into_inner()
    }
}

/// One gNB on one association.
struct Driver {
    sim: Sim,
    assoc: N2Association,
    capture: Arc<Mutex<Capture>>,
    local: SocketAddr,
    remote: SocketAddr,
    carrier: Carrier,
    seen: Vec<SimEvent>,
    timeout: Duration,
    /// The N3 socket and the UEs' TUNs, for the data scenarios.
    up: Option<UserPlane>,
    /// Events of the glue, reported before the simulator's next ones.
    queued: VecDeque<SimEvent>,
}

/// What woke the driver up.
enum Wake {
    Assoc(Option<AssociationEvent>),
    Up(UpInput),
}

async fn recv_up(up: &mut Option<UserPlane>) -> Option<UpInput> {
    match up {
        Some(u) => u.recv().await,
        None => std::future::pending().await,
    }
}

impl Driver {
    async fn connect(
        settings: &Settings,
        gnb: GnbConfig,
        index: usize,
        capture: Arc<Mutex<Capture>>,
    ) -> Result<Self, String> {
        let options = N2Options {
            connect_timeout: settings.timeout,
            ..N2Options::default()
        };
        let assoc = N2Association::connect_with(settings.transport, None, settings.amf, &options)
            .await
            .map_err(|e| {
                format!(
                    "cannot reach the AMF at {} over {}: {e}",
                    settings.amf, settings.transport
                )
            })?;
        let carrier = match settings.transport {
            Transport::Udp => Carrier::Udp,
            Transport::Kernel => Carrier::Ip,
        };
        // In the capture: the gNB at 127.0.0.2, one SCTP port per scenario; the AMF at
        // its address with the NGAP port.
        let amf_ip = match settings.amf.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(_) => Ipv4Addr::LOCALHOST,
        };
        Ok(Driver {
            sim: Sim::new(gnb),
            assoc,
            capture,
            local: SocketAddr::from(([127, 0, 0, 2], 40000u16.wrapping_add(index as u16))),
            remote: SocketAddr::from((amf_ip, 38412)),
            carrier,
            seen: Vec::new(),
            timeout: settings.timeout,
            up: None,
            queued: VecDeque::new(),
        })
    }

    /// Bind the gNB's N3 socket; with `tun`, each UE session gets a TUN device in a
    /// namespace.
    async fn start_user_plane(&mut self, settings: &Settings, tun: bool) -> Result<(), String> {
        let bind = SocketAddr::new(settings.n3_ip(), settings.n3_port);
        self.up = Some(UserPlane::bind(bind, tun, self.capture.clone()).await?);
        Ok(())
    }

    /// What the user plane does about a simulator event: tunnels follow the gNB, TUNs
    /// follow the UE's PDU sessions.
    async fn glue(&mut self, ev: &SimEvent) {
        let Some(up) = self.up.as_mut() else {
            return;
        };
        match ev {
            SimEvent::Gnb(GnbEvent::PduSessionUp {
                ue,
                psi,
                upf,
                ul_teid,
                dl_teid,
                qfi,
            }) => up.tunnel_up(*ue, *psi, *upf, *ul_teid, *dl_teid, *qfi).await,
            SimEvent::Gnb(GnbEvent::PduSessionDown { dl_teid, .. }) => up.tunnel_down(*dl_teid),
            SimEvent::Ue(
                k,
                UeEvent::PduSessionEstablished {
                    psi, ipv4: Some(ip), ..
                },
            ) => {
                let mtu = self.sim.ue(*k).and_then(|u| u.pdu_session(*psi)).and_then(|s| s.mtu);
                if let Err(error) = up.attach(*k, *psi, *ip, mtu).await {
                    self.queued.push_back(SimEvent::UserPlane(UserPlaneEvent::TunError {
                        ue: *k,
                        psi: *psi,
                        error,
                    }));
                }
            }
            SimEvent::Ue(k, UeEvent::PduSessionReleased { psi, .. }) => up.detach(*k, *psi),
            _ => {}
        }
    }

    async fn handle_up(&mut self, input: UpInput) {
        let Some(up) = self.up.as_mut() else {
            return;
        };
        for action in up.handle(input).await {
            match action {
                UpAction::Event(e) => self.queued.push_back(SimEvent::UserPlane(e)),
                UpAction::UplinkPending { ue, psi } => {
                    if let Err(e) = self.sim.uplink_data_pending(ue, psi) {
                        self.queued.push_back(SimEvent::Error(format!("uplink data: {e}")));
                    }
                }
            }
        }
    }

    async fn flush(&mut self) -> Result<(), String> {
        while let Some(t) = self.sim.poll_transmit() {
            self.send(t.stream, t.data, false).await?;
        }
        Ok(())
    }

    async fn send(&mut self, stream: u16, data: Vec<u8>, malformed: bool) -> Result<(), String> {
        if let Ok(mut c) = self.capture.lock() {
            c.record(self.local, self.remote, self.carrier, stream, &data, malformed);
        }
        self.assoc
            .send(stream, PPID_NGAP, data)
            .await
            .map_err(|e| format!("send: {e}"))
    }

    /// Pump messages (N2, and N3 and the TUNs when the user plane runs) until `f`
    /// picks an event, or the timeout.
    async fn wait_for<T>(&mut self, what: &str, mut f: impl FnMut(&SimEvent) -> Option<T>) -> Result<T, String> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            self.flush().await?;
            while let Some(ev) = self.queued.pop_front().or_else(|| self.sim.poll_event()) {
                self.glue(&ev).await;
                let hit = f(&ev);
                self.seen.push(ev);
                if let Some(t) = hit {
                    return Ok(t);
                }
            }
            // The glue may have made the simulator send (a service request).
            self.flush().await?;
            let (assoc, up) = (&self.assoc, &mut self.up);
            let wake = tokio::time::timeout_at(deadline, async {
                tokio::select! {
                    m = assoc.recv() => Wake::Assoc(m),
                    Some(i) = recv_up(up) => Wake::Up(i),
                }
            })
            .await;
            let assoc_event = match wake {
                Err(_) => return Err(format!("timeout waiting for {what}; saw {}", self.recent())),
                Ok(Wake::Up(input)) => {
                    self.handle_up(input).await;
                    continue;
                }
                Ok(Wake::Assoc(m)) => m,
            };
            match assoc_event {
                None => return Err(format!("association gone waiting for {what}")),
                Some(AssociationEvent::Message { stream, data, .. }) => {
                    if let Ok(mut c) = self.capture.lock() {
                        c.record(self.remote, self.local, self.carrier, stream, &data, false);
                    }
                    self.sim.handle_ngap(&data);
                }
                Some(AssociationEvent::Down { reason }) => {
                    return Err(format!("association down waiting for {what}: {reason}"));
                }
                Some(AssociationEvent::Restart) => self.sim.all_connections_released(),
                Some(AssociationEvent::Up) => {}
            }
        }
    }

    /// Pump for `d` and return what was seen meanwhile.
    async fn settle(&mut self, d: Duration) -> Result<(), String> {
        let saved = self.timeout;
        self.timeout = d;
        let r = self.wait_for("nothing", |_| None::<()>).await;
        self.timeout = saved;
        match r {
            Err(e) if e.starts_with("timeout") => Ok(()),
            other => other,
        }
    }

    fn recent(&self) -> String {
        let names: Vec<String> = self.seen.iter().rev().take(4).rev().map(short).collect();
        if names.is_empty() {
            "nothing".into()
        } else {
            names.join(", ")
        }
    }

    async fn ng_setup(&mut self) -> Result<String, String> {
        self.sim.ng_setup().map_err(|e| e.to_string())?;
        self.wait_for("NG Setup Response", |e| match e {
            SimEvent::Gnb(GnbEvent::NgSetupResponse { amf_name, .. }) => Some(Ok(amf_name.clone())),
            SimEvent::Gnb(GnbEvent::NgSetupFailure { cause }) => Some(Err(format!("NG Setup Failure: {cause}"))),
            _ => None,
        })
        .await?
    }

    fn add_ue(&mut self, c: UeConfig) -> Result<UeKey, String> {
        self.sim.add_ue(c).map_err(|e| e.to_string())
    }

    async fn registered(&mut self, ue: UeKey) -> Result<Option<Guti>, String> {
        self.wait_for("Registration Accept", |e| match e {
            SimEvent::Ue(k, UeEvent::Registered { guti, .. }) if *k == ue => Some(Ok(*guti)),
            SimEvent::Ue(k, UeEvent::RegistrationRejected(c)) if *k == ue => {
                Some(Err(format!("Registration Reject #{}", c.value())))
            }
            SimEvent::Ue(k, UeEvent::AuthenticationRejected) if *k == ue => Some(Err("Authentication Reject".into())),
            SimEvent::Ue(k, UeEvent::SecurityModeRejected(c)) if *k == ue => {
                Some(Err(format!("UE rejected the Security Mode Command (#{})", c.value())))
            }
            SimEvent::KgnbChecked { ue: k, matches: false } if *k == ue => Some(Err(
                "KgNB in Initial Context Setup differs from the UE's (TS 33.501 A.9)".into(),
            )),
            _ => None,
        })
        .await?
    }

    async fn register(&mut self, ue: UeKey, kind: RegistrationKind) -> Result<Option<Guti>, String> {
        self.sim.register(ue, kind).map_err(|e| e.to_string())?;
        self.registered(ue).await
    }

    /// Switch the UE off so the AMF forgets it (best effort, for clean-up).
    async fn switch_off(&mut self, ue: UeKey) {
        if self.sim.deregister(ue, true).is_ok() {
            let _ = self
                .wait_for("UE Context Release", |e| match e {
                    SimEvent::Gnb(GnbEvent::UeContextReleased { ue: k, .. }) if *k == ue => Some(()),
                    _ => None,
                })
                .await;
        }
    }

    async fn close(self) {
        let _ = self.assoc.close();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Some(ev) = self.assoc.recv().await {
                if matches!(ev, AssociationEvent::Down { .. }) {
                    break;
                }
            }
        })
        .await;
    }
}

fn short(e: &SimEvent) -> String {
    match e {
        SimEvent::Gnb(g) => format!("{g:?}").chars().take(80).collect(),
        SimEvent::Ue(k, u) => format!("UE{} {u:?}", k.0).chars().take(80).collect(),
        other => format!("{other:?}").chars().take(80).collect(),
    }
}

const UNREACHABLE: &str = "cannot reach the AMF";

/// The scenarios, in run order.
pub const SCENARIOS: &[&str] = &[
    "ng-setup",
    "ng-setup-unknown-plmn",
    "ng-setup-unsupported-tac",
    "registration-suci-null",
    "registration-suci-profile-a",
    "registration-suci-profile-b",
    "registration-eap-aka-prime",
    "registration-guti",
    "identity-procedure",
    "periodic-registration",
    "sqn-resynchronisation",
    "network-mac-failure",
    "unknown-subscriber",
    "security-mode-reject",
    "deregistration-normal",
    "deregistration-switch-off",
    "network-initiated-deregistration",
    "ue-context-release-service-request",
    "two-registrations-one-supi",
    "ng-reset",
    "malformed-ngap",
    "malformed-nas",
    "t3560-lost-authentication-request",
    "t3550-lost-registration-accept",
    "gnb-restart",
    "ues-100",
    "pdu-session-establishment-release",
    "pdu-session-two-dnns",
    "pdu-session-ping",
    "pdu-session-idle-downlink-paging",
    "pdu-session-registration-update",
    "pdu-session-upf-restart",
    "pdu-session-unknown-dnn",
    "pdu-session-unsubscribed-slice",
];

/// Run the scenarios named in `only` (all when empty).
pub async fn run(settings: &Settings, only: &[String]) -> Result<(Report, Capture), String> {
    for name in only {
        if !SCENARIOS.contains(&name.as_str()) {
            return Err(format!("unknown scenario {name:?}; known: {}", SCENARIOS.join(", ")));
        }
    }
    // Namespaces a killed run left behind (their process is gone).
    user_plane::reap_stale();
    let capture = Arc::new(Mutex::new(Capture::default()));
    let mut report = Report {
        amf: settings.amf.to_string(),
        transport: settings.transport.to_string(),
        outcomes: Vec::new(),
    };
    for (index, name) in SCENARIOS.iter().enumerate() {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let start = Instant::now();
        // Ctrl-C drops the running scenario, whose guards delete its namespaces and
        // TUNs; what a guard could not reach goes after.
        let result = tokio::select! {
            r = scenario(settings, name, index, capture.clone()) => r,
            _ = tokio::signal::ctrl_c() => {
                user_plane::delete_live_namespaces();
                return Err(format!("interrupted (Ctrl-C) during {name}"));
            }
        };
        let (verdict, detail) = match result {
            Ok(Step::Pass(d)) => (Verdict::Pass, d),
            Ok(Step::Skip(d)) => (Verdict::Skip, d),
            // Nothing answered yet: the AMF is not there; do not wait out every scenario.
            Err(d) if d.starts_with(UNREACHABLE) && report.outcomes.iter().all(|o| o.verdict != Verdict::Pass) => {
                return Err(d);
            }
            Err(d) => (Verdict::Fail, d),
        };
        report.outcomes.push(Outcome {
            name: (*name).to_string(),
            verdict,
            time: start.elapsed(),
            detail,
        });
    }
    let capture = Arc::try_unwrap(capture)
        .ok()
        .and_then(|m| m.into_inner().ok())
        .unwrap_or_default();
    Ok((report, capture))
}

enum Step {
    Pass(String),
    Skip(String),
}

async fn scenario(settings: &Settings, name: &str, index: usize, capture: Arc<Mutex<Capture>>) -> Result<Step, String> {
    let gnb = settings.gnb(index)?;
    // NG Setup scenarios with a gNB the AMF must refuse.
    match name {
        "ng-setup-unknown-plmn" | "ng-setup-unsupported-tac" => {
            let mut g = gnb;
            if name == "ng-setup-unknown-plmn" {
                g.plmn = Plmn::new("001", "01").map_err(|e| e.to_string())?;
            } else {
                g.tac = 0xFF_FF00;
            }
            let mut d = Driver::connect(settings, g, index, capture).await?;
            let r = d.ng_setup().await;
            d.close().await;
            return match r {
                Err(e) if e.starts_with("NG Setup Failure") => {
                    // TS 38.413 §8.7.1.4; unknown PLMN has its own cause (§9.3.1.2).
                    if name == "ng-setup-unknown-plmn" && !e.contains(CauseMisc::UnknownPlmnOrSnpn.name()) {
                        Ok(Step::Pass(format!("{e} (expected cause misc/unknown-PLMN-or-SNPN)")))
                    } else {
                        Ok(Step::Pass(e))
                    }
                }
                Err(e) => Err(e),
                Ok(amf) => Err(format!("AMF {amf} accepted a gNB it should refuse")),
            };
        }
        _ => {}
    }
    if name == "gnb-restart" {
        // TS 38.413 §8.7.1: a gNB that comes back (new association, same Global gNB
        // ID) sets NG up again and serves UEs as before.
        let mut d = Driver::connect(settings, gnb.clone(), index, capture.clone()).await?;
        d.ng_setup().await?;
        let ue = d.add_ue(settings.ue(0))?;
        d.register(ue, RegistrationKind::InitialSuci).await?;
        let _ = d.assoc.abort();
        drop(d);
        let mut d = Driver::connect(settings, gnb, index, capture).await?;
        let r = async {
            d.ng_setup().await?;
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            d.switch_off(ue).await;
            Ok(Step::Pass(
                "association aborted; NG Setup again, UE registered again".into(),
            ))
        }
        .await;
        d.close().await;
        return r;
    }
    let mut d = Driver::connect(settings, gnb, index, capture).await?;
    let amf_name = d.ng_setup().await?;
    let result = body(settings, name, &mut d, &amf_name).await;
    d.close().await;
    result
}

async fn body(settings: &Settings, name: &str, d: &mut Driver, amf_name: &str) -> Result<Step, String> {
    match name {
        "ng-setup" => Ok(Step::Pass(format!("AMF {amf_name:?}"))),
        "registration-suci-null" | "registration-suci-profile-a" | "registration-suci-profile-b" => {
            let mut c = settings.ue(0);
            c.suci = match name {
                "registration-suci-profile-a" => match &settings.profile_a {
                    Some((id, key)) => SuciProfile::ProfileA {
                        public_key: key.clone(),
                        key_id: *id,
                    },
                    None => return Ok(Step::Skip("no Profile A home-network public key given".into())),
                },
                "registration-suci-profile-b" => match &settings.profile_b {
                    Some((id, key)) => SuciProfile::ProfileB {
                        public_key: key.clone(),
                        key_id: *id,
                    },
                    None => return Ok(Step::Skip("no Profile B home-network public key given".into())),
                },
                _ => SuciProfile::Null,
            };
            let ue = d.add_ue(c)?;
            let guti = d.register(ue, RegistrationKind::InitialSuci).await?;
            let kgnb = kgnb_note(d, ue);
            d.switch_off(ue).await;
            Ok(Step::Pass(format!("registered, 5G-GUTI {}{kgnb}", guti_text(guti))))
        }
        "registration-guti" | "periodic-registration" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            release(d, ue).await?;
            let kind = if name == "registration-guti" {
                RegistrationKind::InitialGuti
            } else {
                RegistrationKind::PeriodicUpdating
            };
            let guti = d.register(ue, kind).await?;
            d.switch_off(ue).await;
            Ok(Step::Pass(format!(
                "released, then registered again with the 5G-GUTI; now {}",
                guti_text(guti)
            )))
        }
        "registration-eap-aka-prime" => {
            // TS 33.501 §6.1.3.1: the subscriber after the suite's others is provisioned
            // for EAP-AKA' (`hexcore conformance subscribers` marks it so). The UE answers
            // the EAP-Request/AKA'-Challenge, the Security Mode Command carries the
            // EAP-Success, and the KgNB checks out.
            let i = settings.ues;
            let ue = d.add_ue(settings.ue(i))?;
            let r = d.register(ue, RegistrationKind::InitialSuci).await;
            let saw = |d: &Driver, f: &dyn Fn(&UeEvent) -> bool| {
                d.seen
                    .iter()
                    .any(|e| matches!(e, SimEvent::Ue(k, u) if *k == ue && f(u)))
            };
            let eap = saw(d, &|u| matches!(u, UeEvent::EapAuthenticationResponded));
            let aka = saw(d, &|u| matches!(u, UeEvent::AuthenticationResponded));
            let refused = d.seen.iter().find_map(|e| match e {
                SimEvent::Ue(k, UeEvent::EapChallengeRefused(why)) if *k == ue => Some(*why),
                _ => None,
            });
            match r {
                Ok(guti) if eap => {
                    d.switch_off(ue).await;
                    Ok(Step::Pass(format!(
                        "EAP-Request/AKA'-Challenge answered, EAP-Success in the Security Mode Command, registered, {}",
                        guti_text(guti)
                    )))
                }
                Ok(_) if aka => {
                    d.switch_off(ue).await;
                    Ok(Step::Skip(format!(
                        "the core authenticated imsi-{} with 5G AKA: provision it for EAP-AKA' (hexcore: `subscriber add --auth-method eap-aka-prime`, or `conformance subscribers`)",
                        settings.imsi(i)
                    )))
                }
                Ok(_) => Err("registered without any authentication".into()),
                Err(e) => Err(match refused {
                    Some(why) => format!("the UE refused the EAP-AKA' challenge ({why}): {e}"),
                    None => e,
                }),
            }
        }
        "identity-procedure" => {
            // A 5G-GUTI the AMF never assigned: it must ask for the SUCI (TS 24.501
            // §5.5.1.2.2, §5.4.3).
            let ue = d.add_ue(settings.ue(0))?;
            let plmn = hexcore_nas::ie::Plmn::new(&settings.mcc, &settings.mnc);
            d.sim
                .with_ue(ue, |u| {
                    u.set_guti(Some(Guti {
                        plmn,
                        amf_region_id: 0xCA,
                        amf_set_id: 0x3FE,
                        amf_pointer: 0x3D,
                        tmsi: 0xDEAD_BEEF,
                    }));
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
            d.register(ue, RegistrationKind::InitialGuti).await?;
            let asked = d
                .seen
                .iter()
                .any(|e| matches!(e, SimEvent::Ue(_, UeEvent::IdentityRequested(_))));
            d.switch_off(ue).await;
            if asked {
                Ok(Step::Pass("Identity Request, then registered".into()))
            } else {
                Err("registered with an unknown 5G-GUTI without asking for the identity".into())
            }
        }
        "sqn-resynchronisation" => {
            // Where is the network's SQN for this subscriber? A plain registration
            // tells (the USIM reads SQN from AUTN), so the scenario works against a
            // fresh subscriber and on every later run alike.
            let probe = d.add_ue(settings.ue(0))?;
            d.register(probe, RegistrationKind::InitialSuci).await?;
            let network_sqn = d.sim.with_ue(probe, |u| Ok(u.sqn_ms())).map_err(|e| e.to_string())?;
            d.switch_off(probe).await;
            // A USIM that has seen SEQs 16 ahead of it (within Δ): the next challenge is
            // stale and the UE answers with AUTS (TS 33.102 §6.3.3, Annex C).
            let mut c = settings.ue(0);
            c.sqn_seen = Some(network_sqn + (16 << hexcore_security::sqn::IND_BITS));
            let ue = d.add_ue(c)?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let resynced = d.seen.iter().any(|e| {
                matches!(
                    e,
                    SimEvent::Ue(k, UeEvent::AuthenticationFailureSent(MmCause::SynchFailure)) if *k == ue
                )
            });
            d.switch_off(ue).await;
            if resynced {
                Ok(Step::Pass("AUTS sent, network resynchronised, registered".into()))
            } else {
                Err("registered without a synch failure: the USIM never saw a stale SQN".into())
            }
        }
        "network-mac-failure" => {
            let mut c = settings.ue(0);
            c.k[0] ^= 0x01;
            let ue = d.add_ue(c)?;
            d.sim
                .register(ue, RegistrationKind::InitialSuci)
                .map_err(|e| e.to_string())?;
            d.wait_for("Authentication Failure #20", |e| match e {
                SimEvent::Ue(_, UeEvent::AuthenticationFailureSent(MmCause::MacFailure)) => Some(()),
                _ => None,
            })
            .await?;
            let end = d
                .wait_for("the network's reaction to MAC failure", |e| match e {
                    SimEvent::Ue(_, UeEvent::AuthenticationRejected) => Some(Ok("Authentication Reject".to_string())),
                    SimEvent::Ue(_, UeEvent::RegistrationRejected(c)) => {
                        Some(Ok(format!("Registration Reject #{}", c.value())))
                    }
                    SimEvent::Ue(_, UeEvent::IdentityRequested(_)) => Some(Ok("Identity Request".to_string())),
                    SimEvent::Gnb(GnbEvent::UeContextReleased { .. }) => Some(Ok("UE Context Release".to_string())),
                    SimEvent::Ue(_, UeEvent::Registered { .. }) => {
                        Some(Err("registered despite a MAC failure".to_string()))
                    }
                    _ => None,
                })
                .await??;
            Ok(Step::Pass(format!("UE sent #20 MAC failure; network answered {end}")))
        }
        "unknown-subscriber" => {
            let mut c = settings.ue(0);
            c.imsi = settings.unknown_imsi.clone();
            let ue = d.add_ue(c)?;
            match d.register(ue, RegistrationKind::InitialSuci).await {
                Ok(_) => Err(format!(
                    "IMSI {} registered but is not provisioned",
                    settings.unknown_imsi
                )),
                Err(e) if e.starts_with("Registration Reject") || e.starts_with("Authentication Reject") => {
                    Ok(Step::Pass(e))
                }
                Err(e) => Err(e),
            }
        }
        "security-mode-reject" => {
            let mut c = settings.ue(0);
            c.behaviour = Behaviour {
                reject_security_mode: Some(MmCause::SecurityModeRejectedUnspecified),
            };
            let ue = d.add_ue(c)?;
            match d.register(ue, RegistrationKind::InitialSuci).await {
                Ok(_) => return Err("registered although the UE rejected the Security Mode Command".into()),
                Err(e) if e.starts_with("UE rejected") => {}
                Err(e) => return Err(e),
            }
            // TS 24.501 §5.4.2.5: the AMF aborts; it should release the connection.
            let end = d
                .wait_for("the end of the registration", |e| match e {
                    SimEvent::Gnb(GnbEvent::UeContextReleased { .. }) => Some(Ok("UE Context Release".to_string())),
                    SimEvent::Ue(_, UeEvent::RegistrationRejected(c)) => {
                        Some(Ok(format!("Registration Reject #{}", c.value())))
                    }
                    SimEvent::Ue(_, UeEvent::Registered { .. }) => Some(Err("registered".to_string())),
                    _ => None,
                })
                .await??;
            alive(settings, d).await?;
            Ok(Step::Pass(format!("Security Mode Reject #24, then {end}; AMF alive")))
        }
        "deregistration-normal" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            d.sim.deregister(ue, false).map_err(|e| e.to_string())?;
            d.wait_for("Deregistration Accept", |e| match e {
                SimEvent::Ue(k, UeEvent::Deregistered) if *k == ue => Some(()),
                _ => None,
            })
            .await?;
            released(d, ue).await?;
            Ok(Step::Pass("Deregistration Accept, UE Context Release".into()))
        }
        "deregistration-switch-off" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            d.sim.deregister(ue, true).map_err(|e| e.to_string())?;
            released(d, ue).await?;
            // TS 24.501 §5.5.2.2.2: no Deregistration Accept for switch-off.
            let accepted = d
                .seen
                .iter()
                .any(|e| matches!(e, SimEvent::Ue(_, UeEvent::Deregistered)));
            if accepted {
                Err("Deregistration Accept sent for a switch-off".into())
            } else {
                Ok(Step::Pass("UE Context Release, no Accept".into()))
            }
        }
        "network-initiated-deregistration" => {
            let Some(cmd) = settings.network_deregister_cmd.as_deref() else {
                return Ok(Step::Skip(
                    "no --network-deregister-cmd to make the core deregister a UE".into(),
                ));
            };
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let cmd = cmd.replace("{supi}", &settings.imsi(0));
            let out = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(&cmd)
                .stdin(std::process::Stdio::null())
                .output()
                .await
                .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{cmd:?} failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            // TS 24.501 §5.5.2.3: Deregistration Request (UE terminated); the UE's
            // Deregistration Accept; then the AMF releases the NG connection.
            let re_registration = d
                .wait_for("Deregistration Request (UE terminated)", |e| match e {
                    SimEvent::Ue(
                        k,
                        UeEvent::DeregisteredByNetwork {
                            re_registration_required,
                            ..
                        },
                    ) if *k == ue => Some(*re_registration_required),
                    _ => None,
                })
                .await?;
            released(d, ue).await?;
            Ok(Step::Pass(format!(
                "Deregistration Request (re-registration {}required), Accept, UE Context Release",
                if re_registration { "" } else { "not " }
            )))
        }
        "ue-context-release-service-request" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            release(d, ue).await?;
            d.sim.service_request(ue).map_err(|e| e.to_string())?;
            d.wait_for("Service Accept", |e| match e {
                SimEvent::Ue(k, UeEvent::ServiceAccepted) if *k == ue => Some(Ok(())),
                SimEvent::Ue(k, UeEvent::ServiceRejected(c)) if *k == ue => {
                    Some(Err(format!("Service Reject #{}", c.value())))
                }
                _ => None,
            })
            .await??;
            d.switch_off(ue).await;
            Ok(Step::Pass("released by the gNB, Service Request accepted".into()))
        }
        "two-registrations-one-supi" => {
            let first = d.add_ue(settings.ue(0))?;
            d.register(first, RegistrationKind::InitialSuci).await?;
            let mut c = settings.ue(0);
            c.seed = 99;
            let second = d.add_ue(c)?;
            let guti = d.register(second, RegistrationKind::InitialSuci).await?;
            d.switch_off(second).await;
            Ok(Step::Pass(format!("second registration accepted, {}", guti_text(guti))))
        }
        "ng-reset" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            d.sim
                .gnb_mut()
                .ng_reset(Cause::Misc(CauseMisc::OmIntervention))
                .map_err(|e| e.to_string())?;
            d.sim.all_connections_released();
            d.wait_for("NG Reset Acknowledge", |e| {
                matches!(e, SimEvent::Gnb(GnbEvent::NgResetAcknowledged)).then_some(())
            })
            .await?;
            alive(settings, d).await?;
            Ok(Step::Pass("NG Reset Acknowledge; AMF alive".into()))
        }
        "malformed-ngap" => {
            // An Initial UE Message cut off inside its IE container: a transfer syntax
            // error, answered with Error Indication (TS 38.413 §10.2).
            d.send(1, vec![0x00, 0x0f, 0x40, 0x48, 0x00, 0x00, 0x05, 0x00, 0x55], true)
                .await?;
            d.wait_for("Error Indication", |e| {
                matches!(e, SimEvent::Gnb(GnbEvent::ErrorIndication { .. })).then_some(())
            })
            .await?;
            alive(settings, d).await?;
            Ok(Step::Pass("Error Indication; AMF alive".into()))
        }
        "malformed-nas" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            // A 5GMM message type that does not exist (0xFF), integrity protected and
            // ciphered: 5GMM STATUS #97 (TS 24.501 §7.4).
            d.sim
                .with_ue(ue, |u| u.send_raw(vec![0x7e, 0x00, 0xff]))
                .map_err(|e| e.to_string())?;
            let cause = d
                .wait_for("5GMM STATUS", |e| match e {
                    SimEvent::Ue(k, UeEvent::StatusReceived(c)) if *k == ue => Some(*c),
                    _ => None,
                })
                .await?;
            d.sim.deregister(ue, false).map_err(|e| e.to_string())?;
            d.wait_for("Deregistration Accept (AMF alive)", |e| match e {
                SimEvent::Ue(k, UeEvent::Deregistered) if *k == ue => Some(()),
                _ => None,
            })
            .await?;
            Ok(Step::Pass(format!(
                "5GMM STATUS #{}; deregistered after",
                cause.value()
            )))
        }
        "t3560-lost-authentication-request" | "t3550-lost-registration-accept" => {
            // TS 24.501 §5.4.1.3.7 (T3560) and §5.5.1.2.8 (T3550): the AMF retransmits
            // a lost message when its timer (6 s) expires.
            let ue = d.add_ue(settings.ue(0))?;
            let skip = if name.starts_with("t3560") { 0 } else { 2 };
            d.sim.drop_downlink_nas(ue, skip);
            let saved = d.timeout;
            d.timeout = saved + Duration::from_secs(8);
            let r = d.register(ue, RegistrationKind::InitialSuci).await;
            d.timeout = saved;
            let dropped = d.seen.iter().find_map(|e| match e {
                SimEvent::Dropped { summary, .. } => Some(summary.clone()),
                _ => None,
            });
            r.map_err(|e| format!("after dropping {dropped:?}: {e}"))?;
            d.switch_off(ue).await;
            match dropped {
                Some(what) => Ok(Step::Pass(format!("dropped {what}; retransmitted, registered"))),
                None => Err("nothing was dropped".into()),
            }
        }
        "ues-100" => {
            let n = settings.ues.min(100);
            let mut keys = Vec::new();
            for i in 0..n {
                let ue = d.add_ue(settings.ue(i))?;
                d.sim
                    .register(ue, RegistrationKind::InitialSuci)
                    .map_err(|e| e.to_string())?;
                keys.push(ue);
            }
            let mut done = std::collections::BTreeSet::new();
            let saved = d.timeout;
            d.timeout = saved * 4;
            let r = d
                .wait_for("every registration", |e| match e {
                    SimEvent::Ue(k, UeEvent::Registered { .. }) => {
                        done.insert(*k);
                        (done.len() == n).then_some(Ok(()))
                    }
                    SimEvent::Ue(k, UeEvent::RegistrationRejected(c)) => {
                        Some(Err(format!("UE {} rejected #{}", k.0, c.value())))
                    }
                    _ => None,
                })
                .await;
            d.timeout = saved;
            let registered = d
                .seen
                .iter()
                .filter(|e| matches!(e, SimEvent::Ue(_, UeEvent::Registered { .. })))
                .count();
            r.map_err(|e| format!("{registered}/{n} registered: {e}"))??;
            for ue in keys {
                let _ = d.sim.deregister(ue, true);
            }
            d.settle(Duration::from_millis(300)).await?;
            Ok(Step::Pass(format!("{n} UEs registered at once")))
        }
        "pdu-session-establishment-release" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let s = accepted(d, ue, 1, &settings.dnn, settings.session_slice()).await?;
            let ip = s.ipv4.ok_or("Establishment Accept without an IPv4 PDU address")?;
            sane_ue_address(ip)?;
            let released = release_session(d, ue, 1).await?;
            d.switch_off(ue).await;
            Ok(Step::Pass(format!("{}; {released}", session_text(&s))))
        }
        "pdu-session-two-dnns" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let first = accepted(d, ue, 1, &settings.dnn, settings.session_slice()).await?;
            let second = accepted(d, ue, 2, &settings.dnn2, settings.session_slice()).await;
            let second = match second {
                Ok(s) => s,
                Err(e) => {
                    d.switch_off(ue).await;
                    return Err(format!(
                        "first session up ({}), second DNN {:?}: {e}",
                        session_text(&first),
                        settings.dnn2
                    ));
                }
            };
            let r1 = release_session(d, ue, 1).await?;
            let r2 = release_session(d, ue, 2).await?;
            d.switch_off(ue).await;
            Ok(Step::Pass(format!(
                "{}; {}; released: {r1}; {r2}",
                session_text(&first),
                session_text(&second)
            )))
        }
        "pdu-session-ping" => {
            if let Err(why) = data_plane(settings, d).await {
                return Ok(Step::Skip(why));
            }
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let s = accepted(d, ue, 1, &settings.dnn, settings.session_slice()).await?;
            let ip = s.ipv4.ok_or("Establishment Accept without an IPv4 PDU address")?;
            let target = settings.ping_target.unwrap_or_else(|| gateway_guess(ip));
            let p = ping(d, ue, 1, target, 3).await?;
            let _ = release_session(d, ue, 1).await;
            d.switch_off(ue).await;
            if p.received == p.sent {
                Ok(Step::Pass(format!("{}; {}", session_text(&s), p.text(target))))
            } else {
                Err(format!("{}; {}", session_text(&s), p.text(target)))
            }
        }
        "pdu-session-idle-downlink-paging" => {
            let Some(cmd) = settings.downlink_cmd.as_deref() else {
                return Ok(Step::Skip(
                    "no --downlink-cmd to send a packet to the UE from the data network".into(),
                ));
            };
            if let Err(why) = data_plane(settings, d).await {
                return Ok(Step::Skip(why));
            }
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let s = accepted(d, ue, 1, &settings.dnn, settings.session_slice()).await?;
            let ip = s.ipv4.ok_or("Establishment Accept without an IPv4 PDU address")?;
            // TS 23.502 §4.2.6: the gNB releases the idle UE's connection; its N3
            // tunnel goes and the UPF buffers (or drops) downlink.
            release(d, ue).await?;
            let cmd = cmd.replace("{ue_ip}", &ip.to_string());
            let started = Instant::now();
            let id =
                d.up.as_mut()
                    .ok_or("no user plane")?
                    .spawn_command("sh", &["-c".to_string(), cmd.clone()]);
            // TS 23.502 §4.2.3.3: Paging, Service Request, the PDU session's user plane
            // in the Initial Context Setup, then the packet.
            let mut milestones: Vec<String> = Vec::new();
            let saved = d.timeout;
            d.timeout = saved * 2;
            let r = d
                .wait_for(
                    "Paging, Service Request, the session's user plane and the downlink packet",
                    |e| match e {
                        SimEvent::Ue(k, UeEvent::Paged) if *k == ue => {
                            milestones.push("Paging".into());
                            None
                        }
                        SimEvent::Ue(k, UeEvent::ServiceAccepted) if *k == ue => {
                            milestones.push("Service Accept".into());
                            None
                        }
                        SimEvent::Ue(k, UeEvent::ServiceRejected(c)) if *k == ue => {
                            Some(Err(format!("Service Reject #{}", c.value())))
                        }
                        SimEvent::Gnb(GnbEvent::PduSessionUp { ue: k, psi: 1, .. }) if *k == ue => {
                            milestones.push("PDU session 1 user plane set up".into());
                            None
                        }
                        SimEvent::UserPlane(UserPlaneEvent::Downlink {
                            ue: k,
                            psi: 1,
                            len,
                            to_tun,
                        }) if *k == ue => Some(Ok((*len, *to_tun))),
                        SimEvent::UserPlane(UserPlaneEvent::CommandDone {
                            id: c,
                            success: false,
                            output,
                        }) if *c == id => {
                            milestones.push(format!("downlink command failed: {}", output.trim()));
                            None
                        }
                        _ => None,
                    },
                )
                .await;
            d.timeout = saved;
            let (len, to_tun) = r.map_err(|e| format!("after {}: {e}", milestones.join(", ")))??;
            let elapsed = started.elapsed();
            // Let the UE's stack answer (an echo reply goes up the re-activated tunnel).
            d.settle(Duration::from_millis(300)).await?;
            let paged = milestones.iter().any(|m| m == "Paging");
            let _ = release_session(d, ue, 1).await;
            d.switch_off(ue).await;
            if !paged {
                return Err(format!(
                    "downlink arrived without Paging ({}): the UE was not idle",
                    milestones.join(", ")
                ));
            }
            Ok(Step::Pass(format!(
                "released (user inactivity); {cmd:?} → {} → downlink packet of {len} octets {} after {:.0} ms",
                milestones.join(" → "),
                if to_tun { "on the UE's TUN" } else { "at the gNB" },
                elapsed.as_secs_f64() * 1000.0
            )))
        }
        "pdu-session-registration-update" => {
            // TS 24.501 §5.5.1.3.4: from CM-IDLE with a PDU session and uplink data
            // waiting, a periodic registration update names the session in its PDU
            // session status and uplink data status; the network keeps the session and
            // re-activates its user plane in the Initial Context Setup of the accept.
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let s = accepted(d, ue, 1, &settings.dnn, settings.session_slice()).await?;
            release(d, ue).await?;
            d.sim
                .with_ue(ue, |u| {
                    u.note_uplink_data(1);
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
            d.sim
                .register(ue, RegistrationKind::PeriodicUpdating)
                .map_err(|e| e.to_string())?;
            let mut up = false;
            let r = d
                .wait_for("Registration Accept and PDU session 1's user plane", |e| match e {
                    SimEvent::Gnb(GnbEvent::PduSessionUp { ue: k, psi: 1, .. }) if *k == ue => {
                        up = true;
                        None
                    }
                    SimEvent::Ue(k, UeEvent::Registered { .. }) if *k == ue => Some(Ok(())),
                    SimEvent::Ue(k, UeEvent::RegistrationRejected(c)) if *k == ue => {
                        Some(Err(format!("Registration Reject #{}", c.value())))
                    }
                    SimEvent::Ue(k, UeEvent::PduSessionReleased { psi: 1, .. }) if *k == ue => Some(Err(
                        "PDU session 1 released: the accept's PDU session status lacks it".into(),
                    )),
                    _ => None,
                })
                .await;
            // The session's user plane comes in the same Initial Context Setup.
            let kept = d
                .sim
                .with_ue(ue, |u| Ok(u.pdu_session(1).is_some()))
                .map_err(|e| e.to_string())?;
            let result = match r {
                Ok(Ok(())) if !kept => Err("registered, but PDU session 1 is gone at the UE".into()),
                Ok(Ok(())) if !up => Err("registered, but PDU session 1's user plane was not set up".into()),
                Ok(Ok(())) => Ok(Step::Pass(format!(
                    "{}; released; periodic registration update with uplink data → Registration Accept, session kept, user plane in the Initial Context Setup",
                    session_text(&s)
                ))),
                Ok(Err(e)) | Err(e) => Err(e),
            };
            let _ = release_session(d, ue, 1).await;
            d.switch_off(ue).await;
            result
        }
        "pdu-session-upf-restart" => {
            let Some(cmd) = settings.upf_restart_cmd.as_deref() else {
                return Ok(Step::Skip("no --upf-restart-cmd to restart the UPF".into()));
            };
            if let Err(why) = data_plane(settings, d).await {
                return Ok(Step::Skip(why));
            }
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let s = accepted(d, ue, 1, &settings.dnn, settings.session_slice()).await?;
            let ip = s.ipv4.ok_or("Establishment Accept without an IPv4 PDU address")?;
            let target = settings.ping_target.unwrap_or_else(|| gateway_guess(ip));
            let before = ping(d, ue, 1, target, 1).await?;
            if before.received == 0 {
                return Err(format!("no data before the restart: {}", before.text(target)));
            }
            let mark = d.seen.len();
            run_command(d, "UPF restart", cmd).await?;
            d.settle(settings.upf_restart_wait).await?;
            let released_cause = |d: &Driver, from: usize| {
                d.seen.get(from..).unwrap_or_default().iter().find_map(|e| match e {
                    SimEvent::Ue(k, UeEvent::PduSessionReleased { psi: 1, cause }) if *k == ue => Some(*cause),
                    _ => None,
                })
            };
            let indications = |d: &Driver| {
                d.seen
                    .get(mark..)
                    .unwrap_or_default()
                    .iter()
                    .filter(|e| matches!(e, SimEvent::UserPlane(UserPlaneEvent::ErrorIndication { .. })))
                    .count()
            };
            let mut how = String::new();
            if released_cause(d, mark).is_none() {
                let after = ping(d, ue, 1, target, 3).await?;
                if after.received > 0 {
                    let _ = release_session(d, ue, 1).await;
                    d.switch_off(ue).await;
                    return Ok(Step::Pass(format!(
                        "session kept across the UPF restart: {}",
                        after.text(target)
                    )));
                }
                how = format!("{}; ", after.text(target));
                // The network may still be noticing (PFCP heartbeat, Error Indication).
                let _ = d
                    .wait_for("the network to release the session", |e| match e {
                        SimEvent::Ue(k, UeEvent::PduSessionReleased { psi: 1, .. }) if *k == ue => Some(()),
                        _ => None,
                    })
                    .await;
            }
            let Some(cause) = released_cause(d, mark) else {
                d.switch_off(ue).await;
                return Err(format!(
                    "after the UPF restart: {how}the network kept the session but it carries nothing ({} Error Indication(s))",
                    indications(d)
                ));
            };
            let again = accepted(d, ue, 1, &settings.dnn, settings.session_slice())
                .await
                .map_err(|e| {
                    format!(
                        "released by the network ({}), re-establishment: {e}",
                        sm_cause_text(cause)
                    )
                })?;
            let ip = again.ipv4.ok_or("re-establishment without an IPv4 PDU address")?;
            let target = settings.ping_target.unwrap_or_else(|| gateway_guess(ip));
            let p = ping(d, ue, 1, target, 3).await?;
            let _ = release_session(d, ue, 1).await;
            d.switch_off(ue).await;
            if p.received == 0 {
                return Err(format!(
                    "released by the network ({}), re-established ({}), but {}",
                    sm_cause_text(cause),
                    session_text(&again),
                    p.text(target)
                ));
            }
            Ok(Step::Pass(format!(
                "{how}released by the network ({}, {} Error Indication(s)); re-established {}; {}",
                sm_cause_text(cause),
                indications(d),
                session_text(&again),
                p.text(target)
            )))
        }
        "pdu-session-unknown-dnn" | "pdu-session-unsubscribed-slice" => {
            let ue = d.add_ue(settings.ue(0))?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let (dnn, slice) = if name == "pdu-session-unknown-dnn" {
                (UNKNOWN_DNN.to_string(), settings.session_slice())
            } else {
                (settings.dnn.clone(), Some(settings.unsubscribed_slice))
            };
            let asked = format!("DNN {dnn:?}, S-NSSAI {}", slice_text(slice));
            let r = establishment(d, ue, 1, &dnn, slice).await?;
            let detail = match r {
                Establishment::Accepted(s) => {
                    let _ = release_session(d, ue, 1).await;
                    d.switch_off(ue).await;
                    return Err(format!("{asked} accepted: {}", session_text(&s)));
                }
                Establishment::Rejected(c) => format!("Establishment Reject {}", sm_cause_text(Some(c))),
                Establishment::NotForwarded(c) => {
                    format!("DL NAS TRANSPORT, payload not forwarded: 5GMM #{} {c:?}", c.value())
                }
                Establishment::Status(c) => format!("5GSM STATUS {}", sm_cause_text(Some(c))),
            };
            d.switch_off(ue).await;
            Ok(Step::Pass(format!("{asked}: {detail}")))
        }
        other => Err(format!("no scenario {other}")),
    }
}

/// The DNN of `pdu-session-unknown-dnn`.
const UNKNOWN_DNN: &str = "no-such-dnn";

/// How an establishment ended.
enum Establishment {
    Accepted(crate::PduSession),
    Rejected(SmCause),
    NotForwarded(MmCause),
    Status(SmCause),
}

/// Ask for a PDU session and wait for the answer; an accepted session also waits for
/// its N3 tunnel at the gNB (PDU Session Resource Setup).
async fn establishment(
    d: &mut Driver,
    ue: UeKey,
    psi: u8,
    dnn: &str,
    slice: Option<(u8, Option<u32>)>,
) -> Result<Establishment, String> {
    d.sim
        .establish_pdu_session(ue, psi, Some(dnn), slice)
        .map_err(|e| e.to_string())?;
    let mark = d.seen.len();
    let r = d
        .wait_for("PDU Session Establishment Accept or Reject", |e| match e {
            SimEvent::Ue(k, UeEvent::PduSessionEstablished { psi: p, .. }) if *k == ue && *p == psi => Some(None),
            SimEvent::Ue(k, UeEvent::PduSessionRejected { psi: p, cause }) if *k == ue && *p == psi => {
                Some(Some(Establishment::Rejected(*cause)))
            }
            SimEvent::Ue(k, UeEvent::PayloadNotForwarded { psi: p, cause }) if *k == ue && *p == psi => {
                Some(Some(Establishment::NotForwarded(*cause)))
            }
            SimEvent::Ue(k, UeEvent::SmStatusReceived { psi: p, cause }) if *k == ue && *p == psi => {
                Some(Some(Establishment::Status(*cause)))
            }
            _ => None,
        })
        .await?;
    if let Some(other) = r {
        return Ok(other);
    }
    let up = |e: &SimEvent| matches!(e, SimEvent::Gnb(GnbEvent::PduSessionUp { ue: k, psi: p, .. }) if *k == ue && *p == psi);
    let failed = d.seen.get(mark..).unwrap_or_default().iter().find_map(|e| match e {
        SimEvent::Gnb(GnbEvent::PduSessionSetupFailed { ue: k, psi: p, cause }) if *k == ue && *p == psi => {
            Some(*cause)
        }
        _ => None,
    });
    if let Some(cause) = failed {
        return Err(format!(
            "the gNB could not set the session up: Setup Request Transfer refused ({cause})"
        ));
    }
    if !d.seen.get(mark..).unwrap_or_default().iter().any(up) {
        d.wait_for("PDU Session Resource Setup Request", |e| up(e).then_some(()))
            .await?;
    }
    let session = d
        .sim
        .ue(ue)
        .and_then(|u| u.pdu_session(psi))
        .cloned()
        .ok_or("the session is gone again")?;
    Ok(Establishment::Accepted(session))
}

/// An establishment that must be accepted.
async fn accepted(
    d: &mut Driver,
    ue: UeKey,
    psi: u8,
    dnn: &str,
    slice: Option<(u8, Option<u32>)>,
) -> Result<crate::PduSession, String> {
    match establishment(d, ue, psi, dnn, slice).await? {
        Establishment::Accepted(s) => Ok(s),
        Establishment::Rejected(c) => Err(format!(
            "PDU session {psi} on {dnn:?}: Establishment Reject {}",
            sm_cause_text(Some(c))
        )),
        Establishment::NotForwarded(c) => Err(format!(
            "PDU session {psi} on {dnn:?}: payload not forwarded, 5GMM #{} {c:?}",
            c.value()
        )),
        Establishment::Status(c) => Err(format!(
            "PDU session {psi} on {dnn:?}: 5GSM STATUS {}",
            sm_cause_text(Some(c))
        )),
    }
}

/// UE-requested release (TS 24.501 §6.4.3): Release Command, Release Complete, and
/// the PDU SESSION RESOURCE RELEASE COMMAND at the gNB (TS 38.413 §8.2.2).
async fn release_session(d: &mut Driver, ue: UeKey, psi: u8) -> Result<String, String> {
    let mark = d.seen.len();
    d.sim.release_pdu_session(ue, psi).map_err(|e| e.to_string())?;
    let cause = d
        .wait_for("PDU Session Release Command", |e| match e {
            SimEvent::Ue(k, UeEvent::PduSessionReleased { psi: p, cause }) if *k == ue && *p == psi => Some(Ok(*cause)),
            SimEvent::Ue(k, UeEvent::PduSessionReleaseRejected { psi: p, cause }) if *k == ue && *p == psi => {
                Some(Err(format!("Release Reject {}", sm_cause_text(Some(*cause)))))
            }
            _ => None,
        })
        .await??;
    let ngap = |e: &SimEvent| matches!(e, SimEvent::Gnb(GnbEvent::PduSessionReleaseCommand { ue: k, psis }) if *k == ue && psis.contains(&psi));
    if !d.seen.get(mark..).unwrap_or_default().iter().any(ngap) {
        d.wait_for("PDU Session Resource Release Command", |e| ngap(e).then_some(()))
            .await?;
    }
    Ok(format!(
        "PSI {psi} released: Release Command {}, PDU SESSION RESOURCE RELEASE",
        sm_cause_text(cause)
    ))
}

/// Bind N3 and make sure UEs can have TUNs; the reason to skip if not.
async fn data_plane(settings: &Settings, d: &mut Driver) -> Result<(), String> {
    tokio::task::spawn_blocking(user_plane::probe_tun)
        .await
        .map_err(|e| format!("TUN probe: {e}"))?
        .map_err(|e| format!("no TUN/namespace for the UE's user plane (run as root with iproute2): {e}"))?;
    d.start_user_plane(settings, true).await
}

/// A ping's outcome.
struct Ping {
    sent: usize,
    received: usize,
    rtt: String,
    how: String,
}

impl Ping {
    fn text(&self, target: Ipv4Addr) -> String {
        format!(
            "{} to {target}: {}/{} replies{}",
            self.how,
            self.received,
            self.sent,
            if self.rtt.is_empty() {
                String::new()
            } else {
                format!(", rtt {}", self.rtt)
            }
        )
    }
}

/// Ping `target` from the UE through PDU session `psi`: the system's `ping` inside the
/// UE's namespace when there is one, else ICMP echo requests the simulator sends from
/// the UE's address itself.
async fn ping(d: &mut Driver, ue: UeKey, psi: u8, target: Ipv4Addr, count: u16) -> Result<Ping, String> {
    let up = d.up.as_mut().ok_or("no user plane")?;
    let namespace = up.namespace(ue).map(str::to_string);
    if let (Some(ns), true) = (namespace, has_program("ping")) {
        let args: Vec<String> = [
            "netns",
            "exec",
            &ns,
            "ping",
            "-n",
            "-c",
            &count.to_string(),
            "-W",
            "2",
            "-i",
            "0.2",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([target.to_string()])
        .collect();
        let id = up.spawn_command("ip", &args);
        let saved = d.timeout;
        d.timeout = saved + Duration::from_secs(2 * u64::from(count) + 2);
        let r = d
            .wait_for("ping", |e| match e {
                SimEvent::UserPlane(UserPlaneEvent::CommandDone { id: c, output, .. }) if *c == id => {
                    Some(output.clone())
                }
                _ => None,
            })
            .await;
        d.timeout = saved;
        let output = r?;
        let (sent, received) = ping_counts(&output).ok_or_else(|| format!("ping said: {}", output.trim()))?;
        return Ok(Ping {
            sent,
            received,
            rtt: ping_rtt(&output).unwrap_or_default(),
            how: format!("`ping` in {ns}"),
        });
    }
    let id = 0x4858; // "HX"
    let mut rtts = Vec::new();
    for seq in 1..=count {
        d.up.as_mut()
            .ok_or("no user plane")?
            .ping(ue, psi, target, id, seq)
            .await?;
        let saved = d.timeout;
        d.timeout = Duration::from_secs(2);
        let r = d
            .wait_for("ICMP echo reply", |e| match e {
                SimEvent::UserPlane(UserPlaneEvent::EchoReply { seq: s, rtt, .. }) if *s == seq => Some(*rtt),
                _ => None,
            })
            .await;
        d.timeout = saved;
        if let Ok(rtt) = r {
            rtts.push(rtt.as_secs_f64() * 1000.0);
        }
    }
    let rtt = if rtts.is_empty() {
        String::new()
    } else {
        let avg = rtts.iter().sum::<f64>() / rtts.len() as f64;
        format!("avg {avg:.2} ms")
    };
    Ok(Ping {
        sent: usize::from(count),
        received: rtts.len(),
        rtt,
        how: "ICMP echo from the simulator (no `ping` on this host)".into(),
    })
}

/// Run a lab command to its end while the driver keeps pumping.
async fn run_command(d: &mut Driver, what: &str, cmd: &str) -> Result<(), String> {
    let up = d.up.as_mut().ok_or("no user plane")?;
    let id = up.spawn_command("sh", &["-c".to_string(), cmd.to_string()]);
    let saved = d.timeout;
    d.timeout = saved.max(Duration::from_secs(60));
    let r = d
        .wait_for(what, |e| match e {
            SimEvent::UserPlane(UserPlaneEvent::CommandDone { id: c, success, output }) if *c == id => {
                Some((*success, output.clone()))
            }
            _ => None,
        })
        .await;
    d.timeout = saved;
    let (success, output) = r?;
    if success {
        Ok(())
    } else {
        Err(format!("{what} {cmd:?} failed: {}", output.trim()))
    }
}

/// Whether `program` is an executable file on the PATH.
fn has_program(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| std::fs::metadata(dir.join(program)).is_ok_and(|m| m.is_file()))
    })
}

/// "3 packets transmitted, 3 received" (iputils and busybox).
fn ping_counts(output: &str) -> Option<(usize, usize)> {
    let line = output.lines().find(|l| l.contains("transmitted"))?;
    let mut numbers = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.parse::<usize>().ok());
    Some((numbers.next()?, numbers.next()?))
}

/// "min/avg/max/mdev = 0.045/0.052/0.060/0.006 ms".
fn ping_rtt(output: &str) -> Option<String> {
    let line = output.lines().find(|l| l.contains("min/avg/max"))?;
    let (names, values) = line.split_once('=')?;
    let names = names.split_whitespace().last()?;
    Some(format!("{names} = {}", values.trim()))
}

/// The usual N6 gateway of a UE: the first address of its /16.
fn gateway_guess(ue: Ipv4Addr) -> Ipv4Addr {
    let [a, b, _, _] = ue.octets();
    Ipv4Addr::new(a, b, 0, 1)
}

/// A PDU address a network may give a UE: unicast, not loopback, link-local,
/// multicast, broadcast or "this network".
fn sane_ue_address(ip: Ipv4Addr) -> Result<(), String> {
    if ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.octets()[0] == 0
        || ip.octets()[3] == 0
        || ip.octets()[3] == 255
    {
        Err(format!("PDU address {ip} is not a usable UE address"))
    } else {
        Ok(())
    }
}

fn session_text(s: &crate::PduSession) -> String {
    let ip = s.ipv4.map(|i| i.to_string()).unwrap_or_else(|| "no IPv4".into());
    let (dl, ul) = s.ambr_bps();
    let rate = |b: Option<u64>| b.map(|b| format!("{}M", b / 1_000_000)).unwrap_or_else(|| "?".into());
    let dns: Vec<String> = s.dns.iter().map(|d| d.to_string()).collect();
    format!(
        "PSI {} on {}: {ip}, QFI {}, AMBR {}/{} bit/s{}{}",
        s.psi,
        s.dnn.as_deref().unwrap_or("(default DNN)"),
        s.qfi,
        rate(dl),
        rate(ul),
        if dns.is_empty() {
            String::new()
        } else {
            format!(", DNS {}", dns.join(" "))
        },
        s.mtu.map(|m| format!(", MTU {m}")).unwrap_or_default()
    )
}

fn sm_cause_text(cause: Option<SmCause>) -> String {
    match cause {
        Some(c) => format!("#{} {c:?}", c.value()),
        None => "(local)".into(),
    }
}

fn slice_text(slice: Option<(u8, Option<u32>)>) -> String {
    match slice {
        Some((sst, Some(sd))) => format!("{sst}:{sd:06x}"),
        Some((sst, None)) => sst.to_string(),
        None => "none".into(),
    }
}

/// Ask the gNB to release the UE (user inactivity) and wait for the command.
async fn release(d: &mut Driver, ue: UeKey) -> Result<(), String> {
    d.sim
        .gnb_mut()
        .ue_context_release_request(ue, Cause::RadioNetwork(CauseRadioNetwork::UserInactivity))
        .map_err(|e| e.to_string())?;
    released(d, ue).await
}

async fn released(d: &mut Driver, ue: UeKey) -> Result<(), String> {
    d.wait_for("UE Context Release Command", |e| match e {
        SimEvent::Gnb(GnbEvent::UeContextReleased { ue: k, .. }) if *k == ue => Some(()),
        _ => None,
    })
    .await
}

/// The AMF still registers a UE (another IMSI) on this association.
async fn alive(settings: &Settings, d: &mut Driver) -> Result<(), String> {
    let ue = d.add_ue(settings.ue(1))?;
    d.register(ue, RegistrationKind::InitialSuci)
        .await
        .map_err(|e| format!("AMF not answering after the fault: {e}"))?;
    d.switch_off(ue).await;
    Ok(())
}

fn kgnb_note(d: &Driver, ue: UeKey) -> String {
    match d.seen.iter().find_map(|e| match e {
        SimEvent::KgnbChecked { ue: k, matches } if *k == ue => Some(*matches),
        _ => None,
    }) {
        Some(true) => ", KgNB matches".into(),
        Some(false) => ", KgNB differs".into(),
        None => String::new(),
    }
}

fn guti_text(g: Option<Guti>) -> String {
    match g {
        Some(g) => format!(
            "{}-{:02x}{:03x}{:02x}{:08x}",
            g.plmn, g.amf_region_id, g.amf_set_id, g.amf_pointer, g.tmsi
        ),
        None => "none".into(),
    }
}

/// The result of a load run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoadReport {
    /// UEs asked to register.
    pub ues: usize,
    /// Registrations completed.
    pub registered: usize,
    /// Registrations that ended otherwise (reject, timeout).
    pub failed: usize,
    /// Wall time from the first Initial UE Message to the last Registration Accept, s.
    pub seconds: f64,
    /// Completed registrations per second.
    pub rate: f64,
    /// Latency percentiles, ms: from when the UE was due to send its Initial UE
    /// Message (the open-loop schedule at `rate`) to its Registration Accept.
    pub p50_ms: f64,
    /// See `p50_ms`.
    pub p99_ms: f64,
    /// See `p50_ms`.
    pub max_ms: f64,
}

/// Register `ues` UEs (IMSIs from `settings.imsi`) at `rate` per second on one gNB
/// and measure the registrations per second and the latency.
pub async fn load(settings: &Settings, ues: usize, rate: f64) -> Result<LoadReport, String> {
    let capture = Arc::new(Mutex::new(Capture::default()));
    let mut d = Driver::connect(settings, settings.gnb(0)?, 0, capture).await?;
    d.ng_setup().await?;
    let mut started: Vec<Option<Instant>> = vec![None; ues];
    let mut latency: Vec<Duration> = Vec::with_capacity(ues);
    let mut failed = 0usize;
    for i in 0..ues {
        d.add_ue(settings.ue(i))?;
    }
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let t0 = Instant::now();
    let mut next = 0usize;
    let mut last_done = t0;
    let give_up = settings.timeout + interval.mul_f64(ues as f64);
    while latency.len() + failed < ues {
        if t0.elapsed() > give_up + settings.timeout {
            break;
        }
        // Start every UE whose time has come.
        while next < ues && t0.elapsed() >= interval.mul_f64(next as f64) {
            d.sim
                .register(UeKey(next), RegistrationKind::InitialSuci)
                .map_err(|e| e.to_string())?;
            // Latency counts from when the UE was due, not from when this loop got
            // to it: a late generator must not hide queueing (coordinated omission).
            started[next] = Some(t0 + interval.mul_f64(next as f64));
            next += 1;
        }
        let wake = if next < ues {
            interval.mul_f64(next as f64).saturating_sub(t0.elapsed())
        } else {
            settings.timeout
        };
        d.flush().await?;
        let saved = d.timeout;
        d.timeout = wake.max(Duration::from_micros(200));
        let r = d
            .wait_for("registrations", |e| match e {
                SimEvent::Ue(k, UeEvent::Registered { .. }) => Some((k.0, true)),
                SimEvent::Ue(k, UeEvent::RegistrationRejected(_) | UeEvent::AuthenticationRejected) => {
                    Some((k.0, false))
                }
                _ => None,
            })
            .await;
        d.timeout = saved;
        match r {
            Ok((i, true)) => {
                if let Some(Some(s)) = started.get(i) {
                    latency.push(s.elapsed());
                    last_done = Instant::now();
                }
            }
            Ok((_, false)) => failed += 1,
            Err(e) if e.starts_with("timeout") => {
                if next >= ues {
                    break;
                }
            }
            Err(e) => return Err(e),
        }
        // Keep the event log short under load.
        if d.seen.len() > 1024 {
            d.seen.drain(..512);
        }
    }
    for i in 0..ues {
        let _ = d.sim.deregister(UeKey(i), true);
    }
    let _ = d.settle(Duration::from_millis(500)).await;
    d.close().await;
    let seconds = last_done.duration_since(t0).as_secs_f64();
    latency.sort();
    let pct = |p: f64| -> f64 {
        if latency.is_empty() {
            return 0.0;
        }
        let i = ((latency.len() as f64 * p).ceil() as usize).clamp(1, latency.len()) - 1;
        latency.get(i).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
    };
    Ok(LoadReport {
        ues,
        registered: latency.len(),
        failed: ues - latency.len(),
        seconds,
        rate: if seconds > 0.0 {
            latency.len() as f64 / seconds
        } else {
            0.0
        },
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: pct(1.0),
    })
}
