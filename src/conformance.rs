//! `hexcore conformance run|load`: the gNB/UE simulator of `conformance/sim` pointed at
//! an AMF — hexcore's own or any other 5G core's.
//!
//! `run` plays the scenarios (all, or those named with `--scenario`), prints a table
//! (scenario, result, time, detail) and writes `report.json`, `junit.xml`,
//! `conformance.pcap` (every NGAP message sent and received) and, when malformed PDUs
//! were sent on purpose, `malformed.pcap` into `--out`. Exit code 0 when nothing
//! failed, 1 when a scenario failed, 2 when the suite could not run.
//!
//! `load` registers `--ues` UEs at `--rate` per second on one gNB and reports
//! registrations per second and latency percentiles.
//!
//! The subscribers must exist in the core: IMSIs from `--imsi` on (`--subscribers` of
//! them, 100 by default), all with `--k`/`--opc` (TS 35.208 Test Set 1 by default), and
//! one more after them on EAP-AKA' for `registration-eap-aka-prime` (skipped if the core
//! authenticates it with 5G AKA). For hexcore: `hexcore subscriber add --imsi … --k …
//! --opc … [--auth-method eap-aka-prime]`, or `hexcore conformance subscribers >
//! subs.csv && hexcore subscriber import subs.csv`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;
use hexcore_sim::runner::{self, Settings, Transport};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the conformance scenarios against an AMF.
    Run(RunArgs),
    /// Register many UEs at a given rate and report registrations/s and latency.
    Load(LoadArgs),
    /// Print the suite's subscribers as a CSV for `hexcore subscriber import`.
    Subscribers(SubscribersArgs),
    /// List the scenarios.
    List,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// The AMF's N2 address: UDP port 9899 for SCTP over UDP, SCTP port 38412 for kernel SCTP.
    #[arg(long, default_value = "127.0.0.1:9899")]
    amf: SocketAddr,
    /// SCTP carrier: udp (RFC 6951) or kernel.
    #[arg(long, default_value = "udp")]
    transport: Transport,
    /// MCC of the gNB and the subscribers.
    #[arg(long, default_value = "999")]
    mcc: String,
    /// MNC (2 or 3 digits).
    #[arg(long, default_value = "70")]
    mnc: String,
    /// Tracking area code of the gNB.
    #[arg(long, default_value_t = 1)]
    tac: u32,
    /// Slices as SST or SST:SD (hex), comma separated.
    #[arg(long, default_value = "1")]
    slices: String,
    /// The first provisioned IMSI.
    #[arg(long, default_value = "999700000000001")]
    imsi: String,
    /// How many consecutive IMSIs from --imsi are provisioned (5G AKA); the one after
    /// them is the EAP-AKA' subscriber.
    #[arg(long, default_value_t = 100)]
    subscribers: usize,
    /// K of the subscribers (32 hex digits).
    #[arg(long, default_value = "465b5ce8b199b49faa5f0a2ee238a6bc")]
    k: String,
    /// OPc of the subscribers (32 hex digits).
    #[arg(long, default_value = "cd63cb71954a9f4e48a5994e37a02baf")]
    opc: String,
    /// Home-network public key for SUCI Profile A (64 hex digits); Profile A scenarios
    /// are skipped without it. `hexcore subscriber keys` prints hexcore's.
    #[arg(long)]
    profile_a_key: Option<String>,
    /// Its key identifier.
    #[arg(long, default_value_t = 1)]
    profile_a_id: u8,
    /// Home-network public key for SUCI Profile B (SEC1, hex); Profile B scenarios are
    /// skipped without it.
    #[arg(long)]
    profile_b_key: Option<String>,
    /// Its key identifier.
    #[arg(long, default_value_t = 2)]
    profile_b_id: u8,
    /// An IMSI that is not provisioned.
    #[arg(long, default_value = "999709999999999")]
    unknown_imsi: String,
    /// How long to wait for each expected answer, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
}

#[derive(clap::Args)]
struct SubscribersArgs {
    #[command(flatten)]
    common: Common,
    /// Subscribed DNNs (the PDU session scenarios use the first two: --dnn, --dnn2).
    #[arg(long = "dnn", default_values = ["internet", "ims"])]
    dnns: Vec<String>,
}

#[derive(clap::Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Run only this scenario (repeat for more); see `hexcore conformance list`.
    #[arg(long)]
    scenario: Vec<String>,
    /// Where to write report.json, junit.xml and the pcaps.
    #[arg(long, default_value = "conformance-out")]
    out: PathBuf,
    /// A shell command that makes the core deregister a UE from the network side;
    /// `{supi}` becomes the UE's IMSI. For hexcore: 'hexcore ue deregister {supi}'.
    /// Without it the network-initiated deregistration scenario is skipped.
    #[arg(long)]
    network_deregister_cmd: Option<String>,
    #[command(flatten)]
    user_plane: UserPlaneArgs,
}

/// The PDU session scenarios' settings.
#[derive(clap::Args)]
struct UserPlaneArgs {
    /// DNN of the PDU session scenarios.
    #[arg(long, default_value = "internet")]
    dnn: String,
    /// Second DNN (pdu-session-two-dnns).
    #[arg(long, default_value = "ims")]
    dnn2: String,
    /// The simulated gNB's N3 address (where the UPF sends GTP-U); default 127.0.0.2
    /// when the AMF is on loopback, else the local address of the route to the AMF.
    #[arg(long)]
    n3_address: Option<std::net::IpAddr>,
    /// The simulated gNB's N3 port.
    #[arg(long, default_value_t = 2152)]
    n3_port: u16,
    /// What pdu-session-ping pings; default the first address of the UE's /16 (10.45.0.1
    /// for hexcore's pool), the usual N6 gateway of a UPF.
    #[arg(long)]
    ping_target: Option<std::net::Ipv4Addr>,
    /// A shell command that sends downlink data to a UE ({ue_ip} becomes its address),
    /// for pdu-session-idle-downlink-paging; skipped without it.
    #[arg(long)]
    downlink_cmd: Option<String>,
    /// A shell command that restarts the UPF, for pdu-session-upf-restart; skipped
    /// without it.
    #[arg(long)]
    upf_restart_cmd: Option<String>,
    /// How long after the UPF restart to try the session again, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    upf_restart_wait_ms: u64,
    /// An S-NSSAI the subscribers do not have, as SST or SST:SD (hex).
    #[arg(long, default_value = "1:abcdef")]
    unsubscribed_slice: String,
}

#[derive(clap::Args)]
struct LoadArgs {
    #[command(flatten)]
    common: Common,
    /// How many UEs to register (IMSIs from --imsi on).
    #[arg(long, default_value_t = 100)]
    ues: usize,
    /// Registrations started per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> ExitCode {
    match &args.command {
        Cmd::List => {
            for s in runner::SCENARIOS {
                println!("{s}");
            }
            ExitCode::SUCCESS
        }
        Cmd::Subscribers(a) => match settings(&a.common) {
            Ok(s) => {
                // The slices the gNB offers, and the DNNs the scenarios ask for.
                let nssai: Vec<String> = s
                    .slices
                    .iter()
                    .map(|(sst, sd)| match sd {
                        Some(sd) => format!("{sst}:{sd:06x}"),
                        None => sst.to_string(),
                    })
                    .collect();
                // The suite's UEs, then one on EAP-AKA' (registration-eap-aka-prime).
                println!("imsi,k,opc,nssai,dnn,auth_method");
                for i in 0..=s.ues {
                    println!(
                        "{},{},{},{},{},{}",
                        s.imsi(i),
                        hex::encode(s.k),
                        hex::encode(s.opc),
                        nssai.join(";"),
                        a.dnns.join(";"),
                        if i == s.ues { "eap-aka-prime" } else { "5g-aka" }
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Cmd::Run(r) => {
            let mut s = match settings(&r.common) {
                Ok(s) => s,
                Err(e) => return fail(&e),
            };
            s.network_deregister_cmd = r.network_deregister_cmd.clone();
            if let Err(e) = user_plane_settings(&mut s, &r.user_plane) {
                return fail(&e);
            }
            let rt = match tokio::runtime::Runtime::new() {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("tokio: {e}")),
            };
            let (report, capture) = match rt.block_on(runner::run(&s, &r.scenario)) {
                Ok(x) => x,
                Err(e) => return fail(&e),
            };
            print!("{}", report.table());
            if let Err(e) = write_outputs(&r.out, &report, &capture) {
                return fail(&e);
            }
            println!("wrote {}/{{report.json,junit.xml,conformance.pcap}}", r.out.display());
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Cmd::Load(l) => {
            let s = match settings(&l.common) {
                Ok(s) => s,
                Err(e) => return fail(&e),
            };
            // One thread: the load generator and its SCTP carrier hand every message
            // to each other, and on one thread that costs no wake-up across threads
            // (half the simulator's CPU on a multi-threaded runtime); the core under test
            // gets the other cores.
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return fail(&format!("tokio: {e}")),
            };
            match rt.block_on(runner::load(&s, l.ues, l.rate)) {
                Ok(r) => {
                    if l.json {
                        println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                    } else {
                        println!(
                            "{} of {} UEs registered ({} failed) in {:.2} s: {:.1} registrations/s, latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                            r.registered, r.ues, r.failed, r.seconds, r.rate, r.p50_ms, r.p99_ms, r.max_ms
                        );
                    }
                    if r.failed == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => fail(&e),
            }
        }
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("hexcore conformance: {msg}");
    ExitCode::from(2)
}

fn key16(name: &str, text: &str) -> Result<[u8; 16], String> {
    hex::decode(text)
        .ok()
        .and_then(|v| <[u8; 16]>::try_from(v).ok())
        .ok_or_else(|| format!("--{name} must be 32 hex digits"))
}

fn user_plane_settings(s: &mut Settings, u: &UserPlaneArgs) -> Result<(), String> {
    s.dnn = u.dnn.clone();
    s.dnn2 = u.dnn2.clone();
    s.n3_address = u.n3_address;
    s.n3_port = u.n3_port;
    s.ping_target = u.ping_target;
    s.downlink_cmd = u.downlink_cmd.clone();
    s.upf_restart_cmd = u.upf_restart_cmd.clone();
    s.upf_restart_wait = Duration::from_millis(u.upf_restart_wait_ms);
    s.unsubscribed_slice = slice(&u.unsubscribed_slice)?;
    Ok(())
}

/// `SST` or `SST:SD` (SD in hex).
fn slice(item: &str) -> Result<(u8, Option<u32>), String> {
    let (sst, sd) = match item.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (item, None),
    };
    let sst: u8 = sst.trim().parse().map_err(|_| format!("bad SST in {item:?}"))?;
    let sd = sd
        .map(|d| u32::from_str_radix(d.trim(), 16).map_err(|_| format!("bad SD in {item:?}")))
        .transpose()?;
    if sd.is_some_and(|d| d > 0xFF_FFFF) {
        return Err(format!("SD in {item:?} is more than 24 bits"));
    }
    Ok((sst, sd))
}

fn settings(c: &Common) -> Result<Settings, String> {
    let mut s = Settings::new(c.amf, c.transport);
    if c.mcc.len() != 3 || !(2..=3).contains(&c.mnc.len()) {
        return Err("--mcc must have 3 digits and --mnc 2 or 3".into());
    }
    s.mcc = c.mcc.clone();
    s.mnc = c.mnc.clone();
    s.tac = c.tac;
    s.slices = c.slices.split(',').map(slice).collect::<Result<_, String>>()?;
    if !c.imsi.bytes().all(|b| b.is_ascii_digit()) || c.imsi.len() < 6 || c.imsi.len() > 15 {
        return Err("--imsi must be 6 to 15 digits".into());
    }
    if !c.imsi.starts_with(&format!("{}{}", c.mcc, c.mnc)) {
        return Err("--imsi must start with --mcc and --mnc".into());
    }
    s.imsi = c.imsi.clone();
    s.ues = c.subscribers;
    s.k = key16("k", &c.k)?;
    s.opc = key16("opc", &c.opc)?;
    if let Some(k) = &c.profile_a_key {
        let key = hex::decode(k).map_err(|_| "--profile-a-key must be hex".to_string())?;
        if key.len() != 32 {
            return Err("--profile-a-key must be 32 octets".into());
        }
        s.profile_a = Some((c.profile_a_id, key));
    }
    if let Some(k) = &c.profile_b_key {
        let key = hex::decode(k).map_err(|_| "--profile-b-key must be hex".to_string())?;
        if key.len() != 33 && key.len() != 65 {
            return Err("--profile-b-key must be a 33- or 65-octet SEC1 point".into());
        }
        s.profile_b = Some((c.profile_b_id, key));
    }
    s.unknown_imsi = c.unknown_imsi.clone();
    s.timeout = Duration::from_millis(c.timeout_ms);
    Ok(s)
}

fn write_outputs(out: &PathBuf, report: &runner::Report, capture: &runner::Capture) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("report.json", report.json().as_bytes())?;
    write("junit.xml", report.junit().as_bytes())?;
    let pcap = runner::Capture::pcap(&capture.packets).map_err(|e| format!("pcap: {e}"))?;
    write("conformance.pcap", &pcap)?;
    if !capture.malformed.is_empty() {
        let pcap = runner::Capture::pcap(&capture.malformed).map_err(|e| format!("pcap: {e}"))?;
        write("malformed.pcap", &pcap)?;
    }
    Ok(())
}
