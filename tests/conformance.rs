//! The conformance suite against `hexcore up` over SCTP/UDP (issue 3 and issue 4, "Done
//! when"): the suite's subscribers provisioned with `hexcore subscriber import`, the
//! home-network keys from `hexcore subscriber keys`, `hexcore conformance run` with every
//! scenario, and the suite's capture decoded with `hexcore pcap`.
//!
//! As root (CI) the core runs in a network namespace of its own with its UPF, so the PDU
//! session scenarios (ping, paging) run end to end; otherwise the control plane runs on
//! this host and the scenarios that need the UPF's TUN are the only ones allowed to fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Lab, can_namespace, verdicts};

/// Scenarios the core does not pass yet. The test fails when any other scenario fails,
/// and also when one of these starts to pass (then take it off the list).
const KNOWN_GAPS: &[&str] = &[];

/// Scenarios that need the user plane (a UPF with a TUN: root).
const NEED_USER_PLANE: &[&str] = &[
    "pdu-session-establishment-release",
    "pdu-session-two-dnns",
    "pdu-session-ping",
    "pdu-session-idle-downlink-paging",
    "pdu-session-registration-update",
];

/// Scenarios that need a restartable UPF of their own (tests/user_plane.rs runs it).
const ELSEWHERE: &[&str] = &["pdu-session-upf-restart"];

#[test]
fn suite_passes_against_hexcore_up_over_sctp_udp() {
    let namespaced = can_namespace();
    let mut lab = Lab::new(100, namespaced);
    lab.start(false);
    let (report, table) = lab.conformance(&[]);
    println!("{table}");
    let outcomes = verdicts(&report);
    assert!(outcomes.len() >= 30, "{table}");
    for (name, verdict, detail) in &outcomes {
        if KNOWN_GAPS.contains(&name.as_str()) {
            assert_eq!(verdict, "fail", "{name} passes now: take it off KNOWN_GAPS\n{table}");
        } else if ELSEWHERE.contains(&name.as_str()) {
            assert_eq!(verdict, "skip", "{name}: {detail}");
        } else if !namespaced && NEED_USER_PLANE.contains(&name.as_str()) {
            eprintln!("note: {name} needs root for the UPF's TUN: {verdict} ({detail})");
        } else {
            assert_eq!(verdict, "pass", "{name}: {detail}\n{table}\n{}", lab.log("up.log"));
        }
    }
    assert!(
        std::fs::read_to_string(lab.dir.path().join("out/junit.xml"))
            .unwrap()
            .contains("<testsuite")
    );

    // `hexcore pcap` decodes and re-encodes every message of the suite's own capture:
    // NGAP, NAS and (with the user plane) GTP-U.
    let pcap = lab.pcap_clean();
    assert_eq!(pcap["summary"]["failures"], 0);
    if namespaced {
        assert!(pcap["summary"]["gtpu_messages"].as_u64().unwrap() > 0, "{pcap:#}");
    }
}
