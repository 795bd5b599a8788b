//! Subscribers and SQNs survive restarts of `hexcore up` (issue 3, "Done when"): a clean
//! stop on SIGTERM, and a SIGKILL in the middle of a registration load. After the crash
//! every subscriber is still there, no SQN went backwards, and every UE registers again
//! with an SQN above anything issued before (TS 33.102 Annex C: an SQN is never reused).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const UES: usize = 30;

fn hexcore(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hexcore"));
    c.env("HEXCORE_DATA_DIR", data);
    c
}

fn ok(mut c: Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// IMSI → SQN from `hexcore subscriber list`.
fn sqns(data: &Path) -> HashMap<String, u64> {
    let mut c = hexcore(data);
    c.args(["subscriber", "list"]);
    ok(c)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // K and OPc print masked with spaces ("46 5b…a6 bc"): the SQN is the one
            // 12-hex-digit column.
            let sqn = f
                .iter()
                .find(|t| t.len() == 12 && t.bytes().all(|b| b.is_ascii_hexdigit()))?;
            f[0].bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| (f[0].to_string(), u64::from_str_radix(sqn, 16).unwrap()))
        })
        .collect()
}

fn start(data: &Path, port: u16) -> Child {
    let mut c = hexcore(data);
    c.arg("up")
        .env("HEXCORE_N2__BIND", "127.0.0.1")
        .env("HEXCORE_N2__UDP_PORT", port.to_string())
        .env("HEXCORE_N2__KERNEL_SCTP", "false")
        .env("HEXCORE_METRICS__ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = c.spawn().unwrap();
    let t0 = Instant::now();
    loop {
        let mut c = hexcore(data);
        c.args(["conformance", "run", "--amf", &format!("127.0.0.1:{port}")])
            .args(["--scenario", "ng-setup", "--timeout-ms", "500", "--out"])
            .arg(data.parent().unwrap().join("probe"));
        if c.output().unwrap().status.success() {
            return child;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "hexcore up did not start");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn load(data: &Path, port: u16, rate: u32) -> Command {
    let mut c = hexcore(data);
    c.args(["conformance", "load", "--amf", &format!("127.0.0.1:{port}")])
        .args(["--ues", &UES.to_string(), "--subscribers", &UES.to_string()])
        .args(["--rate", &rate.to_string(), "--timeout-ms", "5000"]);
    c
}

fn stop(mut core: Child) {
    let _ = Command::new("kill").arg("-TERM").arg(core.id().to_string()).status();
    let t0 = Instant::now();
    while core.try_wait().unwrap().is_none() {
        assert!(t0.elapsed() < Duration::from_secs(20), "no clean stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn subscribers_and_sqns_survive_a_clean_stop_and_a_crash_mid_registration() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut c = hexcore(&data);
    c.args(["conformance", "subscribers", "--subscribers", &UES.to_string()]);
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

    // 1. Everyone registers; clean stop.
    let core = start(&data, port);
    ok(load(&data, port, 300));
    stop(core);
    let after_clean = sqns(&data);
    assert_eq!(after_clean.len(), UES);
    assert!(after_clean.values().all(|&s| s > 0), "{after_clean:?}");

    // 2. A slow load, and SIGKILL while registrations are in flight.
    let mut core = start(&data, port);
    let mut l = load(&data, port, 20);
    let mut l = l.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    core.kill().unwrap();
    core.wait().unwrap();
    let _ = l.wait();
    let after_crash = sqns(&data);
    assert_eq!(after_crash.len(), UES, "a subscriber was lost");
    for (imsi, sqn) in &after_crash {
        assert!(sqn >= &after_clean[imsi], "{imsi}: SQN went back");
    }
    assert!(
        after_crash.iter().any(|(i, s)| s > &after_clean[i]),
        "no registration reached the UDM before the kill"
    );

    // 3. After the crash everyone registers again, each with a fresh SQN.
    let core = start(&data, port);
    ok(load(&data, port, 300));
    stop(core);
    let after_restart = sqns(&data);
    for (imsi, sqn) in &after_restart {
        assert!(sqn > &after_crash[imsi], "{imsi}: SQN not above the crash's");
    }
}
