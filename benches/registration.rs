//! Registration benchmark (issue 3): full registrations per second — 5G-AKA with a
//! synced RocksDB SQN write each, security mode, Initial Context Setup with the
//! Registration Accept, Registration Complete — and their latency percentiles, with
//! `hexcore up` and the simulator as two processes on this machine over SCTP/UDP.
//!
//!     cargo bench --workspace --bench registration
//!     HEXCORE_BENCH_UES=10000 HEXCORE_BENCH_RATES=1000,2000,3000 cargo bench --workspace --bench registration
//!
//! For each offered rate it runs `hexcore conformance load` against one `hexcore up`
//! (release build, temporary RocksDB) and prints achieved registrations/s, p50/p99/max
//! latency (Initial UE Message → Registration Accept at the UE), the core's CPU time
//! per registration and how busy the whole machine was (from /proc: core, simulator
//! and anything else running). Figures go to BENCHMARKS.md by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Core(Child);

impl Drop for Core {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hexcore(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hexcore"));
    c.env("HEXCORE_DATA_DIR", data);
    c
}

fn ok(mut c: Command) -> Vec<u8> {
    let o = c.output().expect("hexcore runs");
    assert!(
        o.status.success(),
        "{:?} failed: {}",
        c,
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// utime + stime of a process, in seconds (Linux /proc/PID/stat, fields 14 and 15).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks: sysconf(_SC_CLK_TCK) is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// (busy, total) jiffies of the whole machine (Linux /proc/stat, first line).
fn machine_jiffies() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: f64 = f.iter().sum();
    // idle + iowait are not busy.
    let idle = f.get(3).copied().unwrap_or(0.0) + f.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run only
    // when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let ues: usize = env_or("HEXCORE_BENCH_UES", 10_000);
    let rates: Vec<f64> = std::env::var("HEXCORE_BENCH_RATES")
        .unwrap_or_else(|_| "500,1000,2000,3000".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut c = hexcore(&data);
    c.args(["conformance", "subscribers", "--subscribers", &ues.to_string()]);
    let csv = tmp.path().join("subs.csv");
    std::fs::write(&csv, ok(c)).unwrap();
    let mut c = hexcore(&data);
    c.args(["subscriber", "import"]).arg(&csv);
    ok(c);

    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = hexcore(&data);
    // The control plane alone: no UPF (no TUN, no NAT on this host).
    c.args(["up", "--no-upf", "--no-nat"])
        .env("RUST_LOG", "warn")
        .env("HEXCORE_N2__BIND", "127.0.0.1")
        .env("HEXCORE_N2__UDP_PORT", port.to_string())
        .env("HEXCORE_N2__KERNEL_SCTP", "false")
        .env("HEXCORE_METRICS__ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let core = Core(c.spawn().unwrap());
    let amf = format!("127.0.0.1:{port}");
    let start = Instant::now();
    loop {
        let mut c = hexcore(&data);
        c.args(["conformance", "run", "--amf", &amf, "--scenario", "ng-setup"])
            .args(["--timeout-ms", "500", "--out"])
            .arg(tmp.path().join("probe"));
        if c.output().unwrap().status.success() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "hexcore up did not start");
        std::thread::sleep(Duration::from_millis(200));
    }

    println!(
        "registration benchmark: {ues} UEs per run, hexcore up and the simulator on {} CPUs, SCTP over UDP on loopback",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:>8} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10} {:>11}",
        "offered", "achieved/s", "failed", "p50 ms", "p99 ms", "max ms", "core µs/reg", "machine CPU"
    );
    for rate in rates {
        let cpu0 = cpu_seconds(core.0.id());
        let machine0 = machine_jiffies();
        let mut c = hexcore(&data);
        c.args(["conformance", "load", "--amf", &amf, "--json"])
            .args(["--ues", &ues.to_string(), "--subscribers", &ues.to_string()])
            .args(["--rate", &rate.to_string(), "--timeout-ms", "10000"]);
        let o = c.output().unwrap();
        let cpu = cpu_seconds(core.0.id()) - cpu0;
        let machine1 = machine_jiffies();
        let busy = (machine1.0 - machine0.0) / (machine1.1 - machine0.1).max(1.0);
        let Ok(r) = serde_json::from_slice::<serde_json::Value>(&o.stdout) else {
            println!("{rate:>8} load failed: {}", String::from_utf8_lossy(&o.stderr).trim());
            continue;
        };
        let registered = r["registered"].as_f64().unwrap_or(0.0);
        println!(
            "{:>8} {:>10.0} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>10.0} {:>10.0}%",
            rate,
            r["rate"].as_f64().unwrap_or(0.0),
            r["failed"],
            r["p50_ms"].as_f64().unwrap_or(0.0),
            r["p99_ms"].as_f64().unwrap_or(0.0),
            r["max_ms"].as_f64().unwrap_or(0.0),
            if registered > 0.0 { cpu * 1e6 / registered } else { 0.0 },
            busy * 100.0
        );
    }
}
