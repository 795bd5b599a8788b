//! UPF throughput, side by side with the machine's ceiling (upf-ceiling's C
//! forwarders), in one run, with one generator.
//!
//! ```text
//! sudo CARGO_TARGET_DIR=… cargo bench -p hexcore-upf --bench upf            # all cases, 1 rep
//! sudo UPF_BENCH_REPS=3 UPF_BENCH_CASES=ul64,dl1400 cargo bench -p hexcore-upf --bench upf
//! ```
//!
//! The orchestrator builds `upf-ceiling` (its Makefile, in a temporary directory),
//! makes a network namespace like its `setup_ns.sh` (loopback, forwarding, an `ifb`
//! N6 egress `dn0` for 192.168.200.0/24), and for each case runs, one after the
//! other, pinned like upf-ceiling's `run_all.sh` (forwarder on CPU 1, generator on
//! CPU 0):
//!
//! * the ceiling forwarder (`upf_ul`, `upf_dl`; `-G` / `-O` for the batched rows),
//! * this UPF (this binary with `--upf`: `Upf::start`, 256 + 256 sessions set up
//!   over PFCP on loopback, one URR per session, every packet matched and counted),
//!
//! each fed by this binary's own generator (`--generator`: sendmmsg from 16
//! sockets, 64 per call, upf-ceiling `udpsend -g` packets: GTP-U + IPv4/UDP,
//! 256 TEIDs/UEs uplink; 256 UE addresses downlink). Figures are printed, never
//! asserted. Needs root; prints a skip note otherwise.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hexcore_netdev::{BatchSocket, SendBatch, SocketOptions};
use hexcore_pfcp::ie::*;
use hexcore_pfcp::{
    AssociationSetupRequest, Config, Event, LocalNode, Message, Pdu, SessionEstablishmentRequest, Transactions,
};

const WARM: f64 = 1.5;
const MEAS: f64 = 5.0;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("--generator") => generator(&args[2..]),
        Some("--upf") => upf_process(&args[2..]),
        _ => orchestrate(),
    };
    if let Err(e) = result {
        eprintln!("upf bench: {e}");
        std::process::exit(1);
    }
}

type Res<T> = Result<T, String>;

fn sh(cmd: &mut Command) -> Res<String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

// ---------------------------------------------------------------- orchestrator

struct Case {
    name: &'static str,
    uplink: bool,
    /// Inner UDP payload octets (64 or 1400).
    payload: usize,
}

const CASES: [Case; 4] = [
    Case {
        name: "ul64",
        uplink: true,
        payload: 64,
    },
    Case {
        name: "ul1400",
        uplink: true,
        payload: 1400,
    },
    Case {
        name: "dl64",
        uplink: false,
        payload: 64,
    },
    Case {
        name: "dl1400",
        uplink: false,
        payload: 1400,
    },
];

#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    pps: f64,
    ns_per_pkt: f64,
    gen_pps: f64,
    /// The machine was idle right before and right after the cell: nobody else's
    /// work was measured.
    clean: bool,
}

fn orchestrate() -> Res<()> {
    let uid = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = uid
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0");
    if !root || !hexcore_netdev::Tun::is_supported() {
        println!("note: upf bench skipped: needs root and /dev/net/tun");
        return Ok(());
    }
    let reps: usize = std::env::var("UPF_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let wanted: Vec<String> = std::env::var("UPF_BENCH_CASES")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let ceiling = build_ceiling()?;
    let ns = format!("hxupfb{}", std::process::id());
    let _guard = Netns::create(&ns)?;
    println!(
        "upf bench: {} rep(s) of {WARM}+{MEAS} s per cell, namespace {ns}, load {}",
        reps,
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
    let mut table: Vec<(String, Vec<Figures>)> = Vec::new();
    for case in CASES
        .iter()
        .filter(|c| wanted.is_empty() || wanted.iter().any(|w| w == c.name))
    {
        let forwarders = [
            ("ceiling, one syscall/pkt", false, false),
            ("hexcore, simple", false, true),
            ("ceiling, batched", true, false),
            ("hexcore, batched", true, true),
        ];
        let mut runs: Vec<Vec<Figures>> = vec![Vec::new(); forwarders.len()];
        // Repetitions interleaved, so that the ceiling and this UPF see the same
        // machine (other builds on a shared machine come and go).
        for _ in 0..reps {
            for (i, (label, batched, ours)) in forwarders.iter().enumerate() {
                let before = wait_quiet();
                let mut f = if *ours {
                    run_ours(&me, &ns, case, *batched)?
                } else {
                    run_ceiling(&me, &ceiling, &ns, case, *batched)?
                };
                let after = idle_share(Duration::from_millis(500));
                f.clean = before >= 90.0 && after >= 90.0;
                println!(
                    "  {:7} {:26} {:>9.0} pps  {:>6.0} ns/pkt  (generator {:.0} pps; idle before/after {:.0}/{:.0}%{})",
                    case.name,
                    label,
                    f.pps,
                    f.ns_per_pkt,
                    f.gen_pps,
                    before,
                    after,
                    if f.clean { "" } else { ", not clean" }
                );
                runs[i].push(f);
            }
        }
        for ((label, _, _), r) in forwarders.iter().zip(runs) {
            table.push((format!("{} | {}", case.name, label), r));
        }
    }
    let _ = std::fs::remove_dir_all(&ceiling);
    println!();
    println!(
        "| case | forwarder | packets/s median (min–max) | Gbit/s (T-PDU) | CPU ns/pkt | generator pps | vs ceiling, same mode | vs one-syscall ceiling |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut ceilings: HashMap<String, f64> = HashMap::new();
    for (name, all) in &table {
        // Only the cells measured on an idle machine, when there are any.
        let clean: Vec<Figures> = all.iter().copied().filter(|f| f.clean).collect();
        let runs = if clean.is_empty() { all.clone() } else { clean };
        let pps: Vec<f64> = runs.iter().map(|f| f.pps).collect();
        let med = median(pps.clone());
        let (lo, hi) = (
            pps.iter().copied().fold(f64::MAX, f64::min),
            pps.iter().copied().fold(0.0, f64::max),
        );
        let ns = median(runs.iter().map(|f| f.ns_per_pkt).collect());
        let generated = median(runs.iter().map(|f| f.gen_pps).collect());
        let (case, label) = name.split_once(" | ").unwrap_or((name, ""));
        let payload = if case.ends_with("1400") { 1400.0 } else { 64.0 };
        let gbps = med * (payload + 28.0) * 8.0 / 1e9;
        let batched = label.contains("batched");
        if label.starts_with("ceiling") {
            ceilings.insert(format!("{case}{batched}"), med);
        }
        let ratio = |key: String| ceilings.get(&key).map_or("—".into(), |c| format!("{:.2}×", med / c));
        let (same, simple) = if label.starts_with("ceiling") {
            (
                "—".to_string(),
                if batched {
                    ratio(format!("{case}false"))
                } else {
                    "—".into()
                },
            )
        } else {
            (ratio(format!("{case}{batched}")), ratio(format!("{case}false")))
        };
        let label = format!(
            "{label} ({}/{} clean runs)",
            runs.iter().filter(|f| f.clean).count(),
            all.len()
        );
        println!(
            "| {case} | {label} | {med:.0} ({lo:.0}–{hi:.0}) | {gbps:.2} | {ns:.0} | {generated:.0} | {same} | {simple} |"
        );
    }
    Ok(())
}

/// Wait (up to 5 min) until the machine is idle (≥ 90 % of all CPUs over 0.5 s):
/// other work on a shared machine would be measured too. Returns the idle share
/// seen last.
fn wait_quiet() -> f64 {
    let end = Instant::now() + Duration::from_secs(300);
    let mut idle = 0.0;
    while Instant::now() < end {
        idle = idle_share(Duration::from_millis(500));
        if idle >= 90.0 {
            break;
        }
    }
    idle
}

/// Share of CPU time idle over `d`, all CPUs.
fn idle_share(d: Duration) -> f64 {
    let read = || -> Option<(u64, u64)> {
        let s = std::fs::read_to_string("/proc/stat").ok()?;
        let v: Vec<u64> = s
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        let idle = v.get(3)? + v.get(4)?;
        Some((idle, v.iter().sum()))
    };
    let Some((i0, t0)) = read() else { return 0.0 };
    std::thread::sleep(d);
    let Some((i1, t1)) = read() else { return 0.0 };
    100.0 * (i1 - i0) as f64 / (t1 - t0).max(1) as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn build_ceiling() -> Res<PathBuf> {
    let src = Path::new("/work/shared/upf-ceiling");
    let dir = std::env::temp_dir().join(format!("hexcore-upf-ceiling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for e in std::fs::read_dir(src).map_err(|e| format!("{}: {e}", src.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        let to = dir.join(e.file_name());
        std::fs::copy(e.path(), &to).map_err(|e| e.to_string())?;
        // The copies keep the read-only bits of shared/: make them ours.
        let mut p = std::fs::metadata(&to).map_err(|e| e.to_string())?.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        p.set_readonly(false);
        std::fs::set_permissions(&to, p).map_err(|e| e.to_string())?;
    }
    sh(Command::new("make")
        .arg("-s")
        .arg("upf_ul")
        .arg("upf_dl")
        .current_dir(&dir))?;
    Ok(dir)
}

/// A namespace like upf-ceiling's setup_ns.sh; deleted on drop.
struct Netns(String);

impl Netns {
    fn create(ns: &str) -> Res<Netns> {
        sh(Command::new("ip").args(["netns", "add", ns]))?;
        let n = Netns(ns.to_string());
        let ex = |args: &[&str]| sh(Command::new("ip").args(["netns", "exec", ns]).args(args));
        ex(&["ip", "link", "set", "lo", "up"])?;
        ex(&[
            "sysctl",
            "-qw",
            "net.ipv4.ip_forward=1",
            "net.ipv4.conf.all.rp_filter=0",
            "net.ipv4.conf.default.rp_filter=0",
        ])?;
        ex(&[
            "ip",
            "link",
            "add",
            "dn0",
            "numtxqueues",
            "2",
            "numrxqueues",
            "2",
            "type",
            "ifb",
        ])?;
        ex(&["ip", "link", "set", "dn0", "txqueuelen", "1000", "up"])?;
        ex(&["ip", "addr", "add", "192.168.199.1/24", "dev", "dn0"])?;
        ex(&["ip", "route", "add", "192.168.200.0/24", "dev", "dn0"])?;
        Ok(n)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn generator_cmd(me: &Path, ns: &str, case: &Case, gso: bool) -> Command {
    let mut c = Command::new("taskset");
    c.args(["-c", "0", "ip", "netns", "exec", ns])
        .arg(me)
        .arg("--generator")
        .arg(if case.uplink { "ul" } else { "dl" })
        .arg(case.payload.to_string())
        .arg(if gso { "gso" } else { "plain" });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn field(text: &str, key: &str) -> Option<f64> {
    let i = text.find(key)? + key.len();
    text[i..]
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?
        .parse()
        .ok()
}

fn run_ceiling(me: &Path, dir: &Path, ns: &str, case: &Case, batched: bool) -> Res<Figures> {
    let mut c = Command::new("taskset");
    c.args(["-c", "1", "ip", "netns", "exec", ns]).current_dir(dir);
    if case.uplink {
        c.arg("./upf_ul").args(["-W", "1", "-c", "1", "-w", "1.5", "-m", "5"]);
        if batched {
            c.arg("-G");
        }
    } else {
        c.arg("./upf_dl")
            .args(["-W", "1", "-c", "1", "-w", "1.5", "-m", "5", "-S"]);
        if batched {
            c.arg("-O");
        }
    }
    let fwd = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(300));
    let gen_out = generator_cmd(me, ns, case, batched)
        .output()
        .map_err(|e| e.to_string())?;
    let out = fwd.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let gen_text = String::from_utf8_lossy(&gen_out.stdout);
    let pps = field(&text, "total_fwd_pps=")
        .ok_or_else(|| format!("ceiling output: {text} {}", String::from_utf8_lossy(&out.stderr)))?;
    Ok(Figures {
        pps,
        ns_per_pkt: field(&text, "ns_per_pkt=").unwrap_or(0.0),
        gen_pps: field(&gen_text, "sent_pps=").unwrap_or(0.0),
        clean: false,
    })
}

fn run_ours(me: &Path, ns: &str, case: &Case, batched: bool) -> Res<Figures> {
    let upf = Command::new("taskset")
        .args(["-c", "1", "ip", "netns", "exec", ns])
        .arg(me)
        .arg("--upf")
        .arg(if case.uplink { "ul" } else { "dl" })
        .arg(if batched { "batched" } else { "simple" })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // The UPF process sets up its sessions, then waits for the generator.
    std::thread::sleep(Duration::from_millis(600));
    let gen_out = generator_cmd(me, ns, case, batched)
        .output()
        .map_err(|e| e.to_string())?;
    let out = upf.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let pps = field(&text, "fwd_pps=")
        .ok_or_else(|| format!("upf output: {text} {}", String::from_utf8_lossy(&out.stderr)))?;
    Ok(Figures {
        pps,
        ns_per_pkt: field(&text, "ns_per_pkt=").unwrap_or(0.0),
        gen_pps: field(&String::from_utf8_lossy(&gen_out.stdout), "sent_pps=").unwrap_or(0.0),
        clean: false,
    })
}

// ---------------------------------------------------------------- generator

/// upf-ceiling's `udpsend -g` packets: uplink, GTP-U (8 octets, TEID t + 1) +
/// IPv4/UDP from UE 10.45.1.0 + t to 192.168.200.(1 + t % 250); downlink, plain UDP
/// to 10.45.0.2 + k % 256. 16 sockets, 64 messages per sendmmsg, unpaced.
fn generator(args: &[String]) -> Res<()> {
    let uplink = args.first().map(String::as_str) == Some("ul");
    let payload: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(64);
    // "gso": each message carries 16 equal datagrams of one flow (UDP_SEGMENT), as
    // `udpsend -G 16`: what a gNB's burst looks like after NIC GRO, or a server's
    // GSO burst towards one UE.
    let segs = if args.get(2).map(String::as_str) == Some("gso") {
        16
    } else {
        1
    };
    const MESSAGES: usize = 256;
    let per_call = if segs > 1 { 16 } else { 64 };
    let size = if uplink { 8 + 28 + payload } else { payload };
    let dest = |m: usize| -> SocketAddr {
        if uplink {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 2152)
        } else {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0a2d_0002 + (m % 256) as u32)), 5001)
        }
    };
    let mut batches = Vec::new();
    for b in 0..MESSAGES / per_call {
        let mut sb = SendBatch::new(per_call, (segs * size).max(64)).map_err(|e| e.to_string())?;
        for j in 0..per_call {
            let m = b * per_call + j;
            let mut data = Vec::with_capacity(segs * size);
            for sg in 0..segs {
                // A GSO message is one UE's burst: one TEID, one flow, consecutive
                // IP identifications (what a gNB sends back to back for one UE).
                let t = m % 256;
                if uplink {
                    let mut inner = ip_udp(
                        Ipv4Addr::from(0x0a2d_0100 + t as u32),
                        Ipv4Addr::from(0xc0a8_c800 + 1 + (t % 250) as u32),
                        10000 + (t & 1023) as u16,
                        5001,
                        payload,
                    );
                    inner[4..6].copy_from_slice(&(sg as u16 + 1).to_be_bytes());
                    let sum: u32 = {
                        inner[10..12].copy_from_slice(&[0, 0]);
                        inner[..20]
                            .chunks(2)
                            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
                            .sum()
                    };
                    let sum = (sum & 0xffff) + (sum >> 16);
                    let sum = (sum & 0xffff) + (sum >> 16);
                    inner[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
                    data.extend_from_slice(&[0x30, 0xff]);
                    data.extend_from_slice(&(inner.len() as u16).to_be_bytes());
                    data.extend_from_slice(&(t as u32 + 1).to_be_bytes());
                    data.extend_from_slice(&inner);
                } else {
                    data.extend(std::iter::repeat_n((t & 0xff) as u8, payload));
                }
            }
            if segs > 1 {
                sb.push_segments(&data, size as u16, dest(m))
                    .map_err(|e| e.to_string())?;
            } else {
                sb.push(&data, dest(m)).map_err(|e| e.to_string())?;
            }
        }
        batches.push(sb);
    }
    let opts = SocketOptions {
        send_buffer: Some(16 << 20),
        ..SocketOptions::default()
    };
    let socks: Vec<BatchSocket> = (0..16)
        .map(|_| {
            BatchSocket::bind_with("0.0.0.0:0".parse().map_err(|_| "addr".to_string())?, &opts)
                .map_err(|e| e.to_string())
        })
        .collect::<Res<_>>()?;
    let start = Instant::now();
    let (t0, t1, tend) = (
        start + Duration::from_secs_f64(1.0),
        start + Duration::from_secs_f64(1.0 + MEAS),
        start + Duration::from_secs_f64(1.0 + MEAS + 1.5),
    );
    let (mut sent, mut c0, mut c1) = (0u64, 0u64, 0u64);
    let (mut r0, mut r1) = (start, start);
    let mut phase = 0;
    let mut k = 0usize;
    loop {
        let b = k % batches.len();
        let sb = &mut batches[b];
        if sb.is_empty() {
            // Re-queue the batch's messages; their octets are still in the slots.
            for j in 0..per_call {
                let _ = sb.commit(segs * size, dest(b * per_call + j), (segs > 1).then_some(size as u16));
            }
        }
        if let Ok(n) = socks[k % socks.len()].send_batch(sb) {
            sent += (n * segs) as u64;
        }
        sb.clear();
        k += 1;
        let now = Instant::now();
        if phase == 0 && now >= t0 {
            phase = 1;
            c0 = sent;
            r0 = now;
        } else if phase == 1 && now >= t1 {
            phase = 2;
            c1 = sent;
            r1 = now;
        } else if phase == 2 && now >= tend {
            break;
        }
    }
    let dt = r1.duration_since(r0).as_secs_f64().max(1e-9);
    println!("GEN sent_pps={:.0}", (c1 - c0) as f64 / dt);
    Ok(())
}

fn ip_udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let total = 28 + payload;
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[4..6].copy_from_slice(&1u16.to_be_bytes());
    p[6] = 0x40;
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let mut sum: u32 = p[..20]
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    p[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    p[20..22].copy_from_slice(&sport.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
    for (i, b) in p[28..].iter_mut().enumerate() {
        *b = (i + 28) as u8;
    }
    p
}

// ---------------------------------------------------------------- the UPF under test

fn upf_process(args: &[String]) -> Res<()> {
    let uplink = args.first().map(String::as_str) == Some("ul");
    let batched = args.get(1).map(String::as_str) == Some("batched");
    let data = std::env::temp_dir().join(format!("hexcore-upf-bench-{}", std::process::id()));
    let mut s = hexcore_upf::Settings::default();
    s.upf.pfcp_bind = "127.0.0.1:0".parse().map_err(|_| "addr")?;
    s.upf.n3_bind = "127.0.0.1:2152".parse().map_err(|_| "addr")?;
    s.upf.data_dir = data.clone();
    s.upf.tun.name = "hxbench0".into();
    s.upf.gro = batched;
    s.upf.gso = batched;
    s.upf.tun.vnet_hdr = batched;
    // As upf-ceiling's TUN (the kernel's default): no fragmentation of 1428-octet
    // downlink packets.
    s.upf.tun.mtu = 1500;
    s.upf.ue_pool_from_tun = false;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let upf = rt.block_on(hexcore_upf::Upf::start(s)).map_err(|e| format!("{e:#}"))?;
    // The gNB: an undrained socket, as upf_dl -S.
    let sink = UdpSocket::bind("127.0.0.2:2152").map_err(|e| e.to_string())?;
    sessions(upf.pfcp_addr)?;
    let start = Instant::now();
    // The generator starts ~0.3 s after this; measure in the same window as the C
    // forwarders do (1.5 s of warm-up after their start).
    std::thread::sleep(Duration::from_secs_f64(WARM));
    let (p0, c0, t0) = (forwarded(&upf, uplink), cpu_ticks(uplink), Instant::now());
    std::thread::sleep(Duration::from_secs_f64(MEAS));
    let (p1, c1, t1) = (forwarded(&upf, uplink), cpu_ticks(uplink), Instant::now());
    let dt = t1.duration_since(t0).as_secs_f64();
    let pkts = (p1 - p0) as f64;
    let cpu_ns = (c1.0 - c0.0) as f64 * 1e7;
    let all_ns = (c1.1 - c0.1) as f64 * 1e7;
    let st = upf.stats();
    println!(
        "UPF {} fwd_pps={:.0} ns_per_pkt={:.0} process_ns_per_pkt={:.0} worker_cpu={:.0}% drops={:?} received_ul={} received_dl={}",
        if uplink { "UL" } else { "DL" },
        pkts / dt,
        cpu_ns / pkts.max(1.0),
        all_ns / pkts.max(1.0),
        cpu_ns / (dt * 1e7),
        st.drops,
        st.uplink_received,
        st.downlink_received,
    );
    let _ = std::io::stdout().flush();
    drop(sink);
    let _ = start;
    rt.block_on(upf.shutdown());
    let _ = std::fs::remove_dir_all(data);
    Ok(())
}

fn forwarded(upf: &hexcore_upf::Running, uplink: bool) -> u64 {
    let s = upf.stats();
    if uplink { s.uplink_packets } else { s.downlink_packets }
}

/// CPU clock ticks (user + system) of the worker threads of one direction, and of
/// the whole process, from /proc/self/task/*/stat.
fn cpu_ticks(uplink: bool) -> (u64, u64) {
    let want = if uplink { "upf-ul-" } else { "upf-dl-" };
    let (mut worker, mut all) = (0, 0);
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    for e in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let t = f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        all += t;
        if comm.starts_with(want) {
            worker += t;
        }
    }
    (worker, all)
}

/// 256 uplink sessions (TEID t + 1, UE 10.45.1.0 + t, as upf_ul's table) and 256
/// downlink sessions (UE 10.45.0.2 + i → gNB 127.0.0.2, TEID 0x1000 + i, as
/// upf_dl's), each with a URR counting volume, set up over PFCP.
fn sessions(upf: SocketAddr) -> Res<()> {
    let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .map_err(|e| e.to_string())?;
    let me = NodeId::Ipv4(Ipv4Addr::LOCALHOST);
    let mut tx: Transactions<SocketAddr> = Transactions::new(
        LocalNode {
            node_id: me.clone(),
            recovery_time_stamp: Timestamp::from_unix_secs(1_700_000_000),
        },
        Config::default(),
    );
    let mut request = |pdu: Pdu| -> Res<Pdu> {
        let seq = tx.send_request(Instant::now(), upf, pdu);
        let end = Instant::now() + Duration::from_secs(5);
        let mut buf = [0u8; 65536];
        while Instant::now() < end {
            while let Some(t) = tx.poll_transmit() {
                sock.send_to(&t.bytes, t.peer).map_err(|e| e.to_string())?;
            }
            if let Ok((n, peer)) = sock.recv_from(&mut buf) {
                tx.handle_datagram(Instant::now(), peer, &buf[..n]);
            }
            tx.handle_timeout(Instant::now());
            while let Some(e) = tx.poll_event() {
                if let Event::Response { request, response, .. } = e
                    && request.header.sequence_number == seq
                {
                    return response.map_err(|e| e.to_string());
                }
            }
        }
        Err("the UPF did not answer".into())
    };
    request(Pdu::node(AssociationSetupRequest::new(
        me.clone(),
        Timestamp::from_unix_secs(1_700_000_000),
    )))?;
    let urr = || {
        CreateUrr::new(
            UrrId(1),
            MeasurementMethod::new(MeasurementMethod::VOLUM),
            ReportingTriggers::new(0),
        )
    };
    for t in 0..256u32 {
        let ue = Ipv4Addr::from(0x0a2d_0100 + t);
        let req = SessionEstablishmentRequest::new(
            me.clone(),
            Fseid::v4(u64::from(t) + 1, Ipv4Addr::LOCALHOST),
            vec![
                CreatePdr::new(
                    PdrId(1),
                    Precedence(255),
                    Pdi::new(SourceInterface::Access)
                        .local_fteid(Fteid::v4(t + 1, Ipv4Addr::LOCALHOST))
                        .ue_ip_addresses([UeIpAddress::source_v4(ue)]),
                )
                .outer_header_removal(OuterHeaderRemoval::GTPU_UDP_IPV4)
                .far_id(FarId(1))
                .urr_ids([UrrId(1)]),
            ],
            vec![CreateFar::forward(
                FarId(1),
                ForwardingParameters::new(DestinationInterface::Core),
            )],
        )
        .create_urrs([urr()]);
        check(request(Pdu::session(0, req))?)?;
        let ue = Ipv4Addr::from(0x0a2d_0002 + t);
        let req = SessionEstablishmentRequest::new(
            me.clone(),
            Fseid::v4(0x1000 + u64::from(t), Ipv4Addr::LOCALHOST),
            vec![
                CreatePdr::new(
                    PdrId(2),
                    Precedence(255),
                    Pdi::new(SourceInterface::Core).ue_ip_addresses([UeIpAddress::destination_v4(ue)]),
                )
                .far_id(FarId(2))
                .urr_ids([UrrId(1)]),
            ],
            vec![CreateFar::forward(
                FarId(2),
                ForwardingParameters::new(DestinationInterface::Access)
                    .outer_header_creation(OuterHeaderCreation::gtpu_v4(0x1000 + t, Ipv4Addr::new(127, 0, 0, 2))),
            )],
        )
        .create_urrs([urr()]);
        check(request(Pdu::session(0, req))?)?;
    }
    Ok(())
}

fn check(p: Pdu) -> Res<()> {
    match p.message {
        Message::SessionEstablishmentResponse(r) if r.cause.is_accepted() => Ok(()),
        other => Err(format!("session refused: {other:?}")),
    }
}
