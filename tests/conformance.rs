//! The conformance suite against `hexcore up` over SCTP/UDP (issue 3, "Done when"):
//! start the core with a temporary data directory, provision the suite's subscribers
//! with `hexcore subscriber import`, take the home-network public keys from
//! `hexcore subscriber keys`, run `hexcore conformance run`, and decode the suite's
//! capture with `hexcore pcap`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Scenarios the AMF does not pass yet. The test fails when any other scenario fails,
/// and also when one of these starts to pass (then take it off the list).
const KNOWN_GAPS: &[&str] = &[
    // An initial registration with a 5G-GUTI the AMF knows (the UE idle after release)
    // runs the identity procedure instead of resuming the stored context (TS 24.501
    // §5.5.1.2.2), and the simulator's Identity response does not complete it.
    "registration-guti",
];

fn hexcore(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hexcore"));
    c.env("HEXCORE_DATA_DIR", data_dir);
    c
}

fn run(mut c: Command) -> Output {
    let o = c.output().expect("hexcore runs");
    if !o.status.success() {
        eprintln!(
            "stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    o
}

struct Core(Child);

impl Drop for Core {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `profile A … key id 1: <hex>` lines of `hexcore subscriber keys`.
fn key(keys: &str, profile: &str) -> (String, String) {
    let line = keys
        .lines()
        .find(|l| l.starts_with(&format!("profile {profile} (")) && !l.contains("uncompressed"))
        .unwrap_or_else(|| panic!("no profile {profile} key in:\n{keys}"));
    let (head, hex) = line.rsplit_once(": ").unwrap();
    let id = head.rsplit_once("key id ").unwrap().1.trim().to_string();
    (id, hex.trim().to_string())
}

#[test]
fn suite_passes_against_hexcore_up_over_sctp_udp() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("out");

    // Subscribers: IMSI 999700000000001… with the TS 35.208 Test Set 1 keys.
    let mut c = hexcore(&data);
    c.args(["conformance", "subscribers", "--subscribers", "100"]);
    let csv = run(c);
    assert!(csv.status.success());
    let csv_path = tmp.path().join("subs.csv");
    std::fs::write(&csv_path, &csv.stdout).unwrap();
    let mut c = hexcore(&data);
    c.args(["subscriber", "import"]).arg(&csv_path);
    assert!(run(c).status.success());
    let mut c = hexcore(&data);
    c.args(["subscriber", "keys"]);
    let keys = run(c);
    assert!(keys.status.success());
    let keys = String::from_utf8_lossy(&keys.stdout).to_string();
    let (a_id, a_key) = key(&keys, "A");
    let (b_id, b_key) = key(&keys, "B");

    // The core: SCTP/UDP on a free port, no kernel SCTP, no metrics listener.
    let port = free_udp_port();
    let mut c = hexcore(&data);
    c.arg("up")
        .env("HEXCORE_N2__BIND", "127.0.0.1")
        .env("HEXCORE_N2__UDP_PORT", port.to_string())
        .env("HEXCORE_N2__KERNEL_SCTP", "false")
        .env("HEXCORE_METRICS__ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _core = Core(c.spawn().unwrap());
    let amf = format!("127.0.0.1:{port}");

    // Wait until it answers NG Setup.
    let start = Instant::now();
    loop {
        let mut c = hexcore(&data);
        c.args([
            "conformance",
            "run",
            "--amf",
            &amf,
            "--scenario",
            "ng-setup",
            "--timeout-ms",
            "500",
        ])
        .arg("--out")
        .arg(tmp.path().join("probe"));
        if c.output().unwrap().status.success() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "hexcore up never answered NG Setup"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    let mut c = hexcore(&data);
    c.args([
        "conformance",
        "run",
        "--amf",
        &amf,
        "--transport",
        "udp",
        "--profile-a-key",
        &a_key,
        "--profile-a-id",
        &a_id,
        "--profile-b-key",
        &b_key,
        "--profile-b-id",
        &b_id,
        "--timeout-ms",
        "10000",
    ])
    .arg("--out")
    .arg(&out);
    let o = c.output().unwrap();
    let table = String::from_utf8_lossy(&o.stdout).to_string();
    println!("{table}\n{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let outcomes = report["outcomes"].as_array().unwrap();
    assert!(outcomes.len() >= 20, "{table}");
    for o in outcomes {
        let name = o["name"].as_str().unwrap();
        let verdict = o["verdict"].as_str().unwrap();
        if KNOWN_GAPS.contains(&name) {
            assert_eq!(verdict, "fail", "{name} passes now: take it off KNOWN_GAPS\n{table}");
        } else {
            assert_eq!(verdict, "pass", "{name}: {}\n{table}", o["detail"]);
        }
    }
    assert!(
        std::fs::read_to_string(out.join("junit.xml"))
            .unwrap()
            .contains("<testsuite")
    );

    // `hexcore pcap` decodes and re-encodes every message of the suite's own capture.
    let mut c = Command::new(env!("CARGO_BIN_EXE_hexcore"));
    c.arg("pcap").arg(out.join("conformance.pcap"));
    let p = run(c);
    assert!(p.status.success(), "hexcore pcap failed on the suite's capture");
}
