//! The user plane end to end (issue 4, "Done when"), in network namespaces: a simulated
//! gNB and UE register with `hexcore up`, establish a PDU session, and `ping` from the
//! UE's namespace reaches a host in a data-network namespace behind N6 and back; the
//! usage record counts exactly the bytes sent. And a UPF restart: PFCP association
//! recovery, and no billed byte lost without a trace.
//!
//! What counts: the UE's IP packets (the T-PDU), without the outer IP/UDP/GTP-U headers
//! of N3 — the UPF counts the inner packet in both directions (core-5g/upf/README.md).
//! `ping -c 3` sends 3 echo requests of 56 data octets: 3 × (20 IP + 8 ICMP + 56) = 252
//! octets uplink, and the 3 replies 252 octets downlink.
//!
//! Needs root (network namespaces, TUN); elsewhere the tests say why and pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Lab, can_namespace, verdicts};

#[test]
fn ping_reaches_a_host_behind_n6_and_usage_counts_exactly_the_bytes() {
    if !can_namespace() {
        eprintln!("note: skipped: needs root, /dev/net/tun and ip netns");
        return;
    }
    let mut lab = Lab::new(5, true);
    lab.add_data_network();
    let capture = lab.capture_n3_n4();
    lab.start(false);
    let host = lab.dn.as_ref().unwrap().host;
    let (report, table) = lab.conformance(&["--scenario", "pdu-session-ping", "--ping-target", host]);
    let outcome = &verdicts(&report)[0];
    assert_eq!(outcome.1, "pass", "{table}\n{}", lab.log("up.log"));
    assert!(outcome.2.contains(&format!("to {host}: 3/3 replies")), "{}", outcome.2);

    // The session was released at the end of the scenario: its final usage report is in
    // the SMF's record file, with every report of the session before it.
    let records = lab.usage();
    assert!(!records.is_empty(), "no usage record:\n{}", lab.log("up.log"));
    let sum = |k: &str| records.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("uplink_packets"), 3, "{records:#?}");
    assert_eq!(sum("downlink_packets"), 3, "{records:#?}");
    assert_eq!(sum("uplink_octets"), 3 * 84, "{records:#?}");
    assert_eq!(sum("downlink_octets"), 3 * 84, "{records:#?}");
    assert_eq!(sum("total_octets"), 6 * 84);
    let last = records.last().unwrap();
    assert_eq!(last["supi"], "999700000000001");
    assert_eq!(last["dnn"], "internet");
    assert!(
        last["triggers"].as_array().unwrap().iter().any(|t| t == "TERMR"),
        "{last:#}"
    );

    // The suite's capture holds the GTP-U of the ping, and it decodes.
    let pcap = lab.pcap_clean();
    assert!(pcap["summary"]["gtpu_messages"].as_u64().unwrap() >= 6, "{pcap:#}");

    // tcpdump's capture of N4 and N3 in the core's namespace: every PFCP message between
    // the SMF and the UPF (association, heartbeats, session establishment, modification,
    // deletion with the usage report) and every GTP-U packet decodes and re-encodes to
    // the same octets.
    if let Some(tcpdump) = capture {
        let path = lab.dir.path().join("n3n4.pcap");
        let decode = || {
            let o = common::run({
                let mut c = std::process::Command::new(common::BIN);
                c.args(["pcap", "--json"]).arg(&path);
                c
            });
            let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert!(o.status.success(), "{json:#}");
            json
        };
        let names = |json: &serde_json::Value| -> Vec<String> {
            json["user_plane"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|m| m["message"].as_str().map(str::to_string))
                .collect()
        };
        // tcpdump writes each packet as it reads it (-U), but on a busy machine it may
        // not have read the last ones yet, and SIGINT discards what it has not read:
        // wait (bounded) for the session's deletion to be on file first.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let deleted = || {
            // The file may end inside a record while tcpdump writes: not an error yet.
            let o = std::process::Command::new(common::BIN)
                .args(["pcap", "--json"])
                .arg(&path)
                .output()
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&o.stdout)
                .is_ok_and(|json| names(&json).iter().any(|m| m == "SessionDeletionResponse"))
        };
        while !deleted() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let _ = std::process::Command::new("kill")
            .arg("-INT")
            .arg(tcpdump.0.id().to_string())
            .status();
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(tcpdump);
        let json = decode();
        assert_eq!(json["summary"]["failures"], 0);
        let messages = names(&json);
        for wanted in [
            "AssociationSetupRequest",
            "AssociationSetupResponse",
            "SessionEstablishmentRequest",
            "SessionEstablishmentResponse",
            "SessionModificationRequest",
            "SessionDeletionResponse",
            "GPdu",
        ] {
            assert!(messages.iter().any(|m| m == wanted), "no {wanted} in {messages:?}");
        }
    }
}

#[test]
fn upf_restart_recovers_the_association_and_loses_no_usage_silently() {
    if !can_namespace() {
        eprintln!("note: skipped: needs root, /dev/net/tun and ip netns");
        return;
    }
    let mut lab = Lab::new(5, true);
    lab.add_data_network();
    lab.start(true);
    // The restart command the suite runs: SIGKILL the lab's `hexcore upf` (a crash,
    // no clean stop) and start it again, in the lab's namespace. It waits past the UPF's
    // journal checkpoint (1 s) first, so that the ping's usage is in the journal: what a
    // crash can lose without a trace is bounded by that interval (core-5g/upf/README.md).
    let pid = lab.upf.as_ref().unwrap().0.id();
    let ns = lab.ns.as_ref().unwrap().0.clone();
    let body = format!(
        "sleep 1.5; kill -9 $(cat {pidfile} 2>/dev/null || echo {pid}) 2>/dev/null; sleep 0.3\n\
         HEXCORE_DATA_DIR='{data}' HEXCORE_UPF__N3_BIND=127.0.0.1:2152 RUST_LOG=info \
         ip netns exec {ns} '{bin}' upf --config '{config}' >> '{log}' 2>&1 &\n\
         echo $! > {pidfile}\n",
        pidfile = lab.dir.path().join("upf.pid").display(),
        data = lab.data.display(),
        bin = common::BIN,
        config = lab.config.display(),
        log = lab.dir.path().join("upf.log").display(),
    );
    // The restarted UPF runs outside the lab's guard: stopped below by its pid.
    let (report, table, restarted) = restart_scenario(&lab, "upf", &body, 8000);
    let outcome = verdicts(&report).remove(0);
    let up = lab.log("up.log");
    let upf = lab.log("upf.log");
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(restarted.trim())
        .status();
    assert_eq!(outcome.1, "pass", "{table}\n{up}\n{upf}");
    // The SMF saw the UPF come back with a new Recovery Time Stamp and associated again.
    assert!(up.matches("PFCP association up").count() >= 2, "{up}");
    // Usage counted by the killed UPF before its last checkpoint is logged with its size
    // at the next start; usage after the restart is reported to the SMF.
    assert!(upf.contains("recovered unreported usage"), "{upf}");
    assert!(!lab.usage().is_empty(), "no usage record after the restart:\n{up}");
}

#[test]
fn smf_restart_logs_the_usage_it_could_not_report() {
    if !can_namespace() {
        eprintln!("note: skipped: needs root, /dev/net/tun and ip netns");
        return;
    }
    let mut lab = Lab::new(5, true);
    lab.add_data_network();
    lab.start(true);
    // The "restart" the suite runs this time is the SMF's (all of `hexcore up`, with the
    // AMF): SIGKILL, and the same `hexcore up` again. The UPF keeps running: it sees the
    // new SMF's Association Setup with a new Recovery Time Stamp, reports what it
    // counted for the old SMF's sessions, and the new SMF, which never knew them,
    // answers 65: the UPF logs the usage it could not report, with its size.
    let pid = lab.core.as_ref().unwrap().0.id();
    let ns = lab.ns.as_ref().unwrap().0.clone();
    let (_, port) = lab.amf.rsplit_once(':').unwrap();
    let body = format!(
        "kill -9 {pid}; sleep 0.3\n\
         HEXCORE_DATA_DIR='{data}' HEXCORE_N2__BIND=127.0.0.1 HEXCORE_N2__UDP_PORT={port} \
         HEXCORE_N2__KERNEL_SCTP=false HEXCORE_METRICS__BIND={api} RUST_LOG=info \
         ip netns exec {ns} '{bin}' up --no-nat --no-upf --config '{config}' >> '{log}' 2>&1 &\n\
         echo $! > {pidfile}\n",
        pidfile = lab.dir.path().join("up.pid").display(),
        data = lab.data.display(),
        api = lab.api,
        bin = common::BIN,
        config = lab.config.display(),
        log = lab.dir.path().join("up2.log").display(),
    );
    let (_, table, restarted) = restart_scenario(&lab, "up", &body, 3000);
    // The UPF hears from the new SMF within its association retry.
    let start = std::time::Instant::now();
    while !lab.log("upf.log").contains("usage lost") && start.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let upf = lab.log("upf.log");
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(restarted.trim())
        .status();
    assert!(upf.contains("CP function restarted"), "{upf}");
    let lost = upf
        .lines()
        .find(|l| l.contains("usage lost"))
        .unwrap_or_else(|| panic!("no lost usage logged:\n{upf}"));
    // The ping before the restart: whole echo requests and replies of 84 octets.
    let octets: u64 = lost
        .split_whitespace()
        .find_map(|f| {
            f.strip_prefix("octets=")
                .or_else(|| f.strip_prefix("\u{1b}[3moctets\u{1b}[0m\u{1b}[2m=\u{1b}[0m"))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no octets in {lost:?}"));
    assert!(octets > 0 && octets.is_multiple_of(84), "{lost}");
    println!("{table}\n{lost}");
}

/// Run the suite's pdu-session-upf-restart scenario with `body` as its restart command
/// (a shell script that writes the restarted process's pid to `<name>.pid`), waiting
/// `wait_ms` for the restart; the report, its table and that pid.
fn restart_scenario(lab: &Lab, name: &str, body: &str, wait_ms: u32) -> (serde_json::Value, String, String) {
    let script = lab.dir.path().join(format!("restart-{name}.sh"));
    std::fs::write(&script, body).unwrap();
    let host = lab.dn.as_ref().unwrap().host;
    let (report, table) = lab.conformance(&[
        "--scenario",
        "pdu-session-upf-restart",
        "--ping-target",
        host,
        "--upf-restart-cmd",
        &format!("sh '{}'", script.display()),
        "--upf-restart-wait-ms",
        &wait_ms.to_string(),
    ]);
    let restarted = std::fs::read_to_string(lab.dir.path().join(format!("{name}.pid"))).unwrap_or_default();
    (report, table, restarted)
}
