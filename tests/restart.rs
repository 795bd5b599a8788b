//! Subscribers and SQNs survive restarts of `hexcore up` (issue 3, "Done when"): a clean
//! stop on SIGTERM, and a SIGKILL in the middle of a registration load. After the crash
//! every subscriber is still there, no SQN went backwards, and every UE registers again
//! with an SQN above anything issued before (TS 33.102 Annex C: an SQN is never reused).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{BIN, Lab, can_namespace, run};

const UES: usize = 30;

/// IMSI → SQN from `hexcore subscriber list`: the UES the loads register (the suite's
/// extra EAP-AKA' subscriber, provisioned too, is counted apart).
fn sqns(lab: &Lab) -> HashMap<String, u64> {
    let mut all = all_sqns(lab);
    assert_eq!(all.len(), UES + 1, "a subscriber was lost");
    all.remove(&format!("{}", 999_700_000_000_001u64 + UES as u64));
    all
}

fn all_sqns(lab: &Lab) -> HashMap<String, u64> {
    let mut c = Command::new(BIN);
    c.env("HEXCORE_DATA_DIR", &lab.data).args(["subscriber", "list"]);
    let o = run(c);
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
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

#[test]
fn subscribers_and_sqns_survive_a_clean_stop_and_a_crash_mid_registration() {
    let mut lab = Lab::new(UES, can_namespace());

    // 1. Everyone registers; clean stop.
    lab.start(false);
    assert!(run(lab.load(UES, 300)).status.success());
    lab.stop_core();
    let after_clean = sqns(&lab);
    assert_eq!(after_clean.len(), UES);
    assert!(after_clean.values().all(|&s| s > 0), "{after_clean:?}");

    // 2. A slow load, and SIGKILL while registrations are in flight.
    lab.start(false);
    let mut load = lab.load(UES, 20);
    let mut load = load.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    lab.kill_core();
    let _ = load.wait();
    let after_crash = sqns(&lab);
    assert_eq!(after_crash.len(), UES, "a subscriber was lost");
    for (imsi, sqn) in &after_crash {
        assert!(sqn >= &after_clean[imsi], "{imsi}: SQN went back");
    }
    assert!(
        after_crash.iter().any(|(i, s)| s > &after_clean[i]),
        "no registration reached the UDM before the kill"
    );

    // 3. After the crash everyone registers again, each with a fresh SQN.
    lab.start(false);
    assert!(run(lab.load(UES, 300)).status.success());
    lab.stop_core();
    let after_restart = sqns(&lab);
    for (imsi, sqn) in &after_restart {
        assert!(sqn > &after_crash[imsi], "{imsi}: SQN not above the crash's");
    }
}
