//! The glue: a [`Sim`] over a real N2 association (SCTP/UDP or kernel SCTP), the
//! scenarios of the conformance suite, and the load generator.
//!
//! Each scenario opens its own association (its own gNB), so a scenario that upsets
//! the AMF cannot spoil the next one, and the NG Setup scenarios start clean. Every
//! NGAP message sent and received is kept for the pcap (a [`Capture`]); deliberately
//! malformed PDUs go to a separate capture, so that the main one decodes cleanly.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hexcore_capture::{Carrier, LinkType, Synthesizer, Writer};
use hexcore_nas::MmCause;
use hexcore_nas::ie::Guti;
use hexcore_ngap::{Cause, CauseMisc, CauseRadioNetwork, Plmn, SNssai};
use hexcore_sctp::{AssociationEvent, N2Association, N2Options, PPID_NGAP};

pub use crate::report::Report;
pub use hexcore_sctp::Transport;

use crate::gnb::{GnbConfig, GnbEvent, UeKey};
use crate::report::{Outcome, Verdict};
use crate::sim::{Sim, SimEvent};
use crate::ue::{Behaviour, RegistrationKind, SuciProfile, UeConfig, UeEvent};

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
        }
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
        })
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

    /// Pump messages until `f` picks an event, or the timeout.
    async fn wait_for<T>(&mut self, what: &str, mut f: impl FnMut(&SimEvent) -> Option<T>) -> Result<T, String> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            self.flush().await?;
            while let Some(ev) = self.sim.poll_event() {
                let hit = f(&ev);
                self.seen.push(ev);
                if let Some(t) = hit {
                    return Ok(t);
                }
            }
            match tokio::time::timeout_at(deadline, self.assoc.recv()).await {
                Err(_) => return Err(format!("timeout waiting for {what}; saw {}", self.recent())),
                Ok(None) => return Err(format!("association gone waiting for {what}")),
                Ok(Some(AssociationEvent::Message { stream, data, .. })) => {
                    if let Ok(mut c) = self.capture.lock() {
                        c.record(self.remote, self.local, self.carrier, stream, &data, false);
                    }
                    self.sim.handle_ngap(&data);
                }
                Ok(Some(AssociationEvent::Down { reason })) => {
                    return Err(format!("association down waiting for {what}: {reason}"));
                }
                Ok(Some(AssociationEvent::Restart)) => self.sim.all_connections_released(),
                Ok(Some(AssociationEvent::Up)) => {}
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
];

/// Run the scenarios named in `only` (all when empty).
pub async fn run(settings: &Settings, only: &[String]) -> Result<(Report, Capture), String> {
    for name in only {
        if !SCENARIOS.contains(&name.as_str()) {
            return Err(format!("unknown scenario {name:?}; known: {}", SCENARIOS.join(", ")));
        }
    }
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
        let result = scenario(settings, name, index, capture.clone()).await;
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
            let mut c = settings.ue(0);
            // SEQ 2^20: ahead of any network SQN of a fresh subscriber, within Δ.
            c.sqn_seen = Some(1 << 25);
            let ue = d.add_ue(c)?;
            d.register(ue, RegistrationKind::InitialSuci).await?;
            let resynced = d.seen.iter().any(|e| {
                matches!(
                    e,
                    SimEvent::Ue(_, UeEvent::AuthenticationFailureSent(MmCause::SynchFailure))
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
        other => Err(format!("no scenario {other}")),
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
    /// Latency percentiles (Initial UE Message → Registration Accept), ms.
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
            started[next] = Some(Instant::now());
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
