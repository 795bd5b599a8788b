//! The runner over a real SCTP/UDP association (RFC 6951, this workspace's stack) to
//! the emulated AMF: the glue, the scenarios' verdicts, and the pcap.

use hexcore_capture::{Dissector, Reader};
use hexcore_sctp::{AssociationEvent, N2Listener, PPID_NGAP, Transport};
use hexcore_sim::report::Verdict;
use hexcore_sim::runner::{self, Capture, Settings};

use crate::amf;

/// Where the network-deregistration command of the suite drops a file named after the
/// SUPI; the emulated AMF that has it registered deregisters it.
fn deregister_dir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deregister-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Serve every association with its own emulated AMF.
async fn start_amf() -> std::net::SocketAddr {
    let listener = N2Listener::bind(Transport::Udp, ([127, 0, 0, 1], 0).into()).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((assoc, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut amf = crate::amf_with(100);
                let triggers = deregister_dir();
                loop {
                    // The operator's trigger (the suite's --network-deregister-cmd).
                    if let Ok(dir) = std::fs::read_dir(&triggers) {
                        for entry in dir.flatten() {
                            let supi = entry.file_name().to_string_lossy().to_string();
                            if amf.deregister(&supi) {
                                let _ = std::fs::remove_file(entry.path());
                            }
                        }
                    }
                    // T3550/T3560, shortened: 700 ms without uplink.
                    match tokio::time::timeout(std::time::Duration::from_millis(700), assoc.recv()).await {
                        Ok(Some(AssociationEvent::Message { data, .. })) => amf.handle(&data),
                        Ok(Some(AssociationEvent::Down { .. }) | None) => return,
                        Ok(Some(_)) => {}
                        Err(_) => amf.retransmit(),
                    }
                    for pdu in std::mem::take(&mut amf.out) {
                        if assoc.send(1, PPID_NGAP, pdu).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_suite_over_sctp_udp() {
    let addr = start_amf().await;
    let mut s = Settings::new(addr, Transport::Udp);
    s.timeout = std::time::Duration::from_secs(3);
    s.profile_a = Some((1, hex::decode(amf::PROFILE_A_PUBLIC).unwrap()));
    s.profile_b = Some((2, hex::decode(amf::PROFILE_B_PUBLIC).unwrap()));
    s.network_deregister_cmd = Some(format!("touch '{}'/{{supi}}", deregister_dir().display()));
    let (report, capture) = runner::run(&s, &[]).await.unwrap();
    println!("{}", report.table());
    for o in &report.outcomes {
        assert_eq!(o.verdict, Verdict::Pass, "{}: {}", o.name, o.detail);
    }
    assert_eq!(report.outcomes.len(), runner::SCENARIOS.len());

    // The capture decodes: every packet is one SCTP DATA chunk carrying NGAP that the
    // codec reads, and the deliberately malformed PDU sits in its own capture.
    let pcap = Capture::pcap(&capture.packets).unwrap();
    // Left for `hexcore pcap` (the check that the suite's capture decodes).
    let _ = std::fs::write(concat!(env!("CARGO_TARGET_TMPDIR"), "/conformance.pcap"), &pcap);
    let reader = Reader::new(&pcap).unwrap();
    let mut dissector = Dissector::new(&[]);
    let mut messages = 0;
    for record in reader {
        for m in dissector.push(&record.unwrap()) {
            assert_eq!(m.ppid, PPID_NGAP);
            hexcore_ngap::NgapPdu::decode(&m.data).unwrap();
            messages += 1;
        }
    }
    assert_eq!(messages, capture.packets.len());
    assert!(messages > 200, "{messages}");
    assert_eq!(capture.malformed.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_over_sctp_udp() {
    let addr = start_amf().await;
    let s = Settings::new(addr, Transport::Udp);
    let r = runner::load(&s, 50, 500.0).await.unwrap();
    assert_eq!(r.registered, 50, "{r:?}");
    assert_eq!(r.failed, 0);
    assert!(r.p50_ms <= r.p99_ms && r.p99_ms <= r.max_ms);
}

#[tokio::test]
async fn unknown_scenario_is_refused() {
    let s = Settings::new(([127, 0, 0, 1], 9).into(), Transport::Udp);
    let e = runner::run(&s, &["no-such".to_string()]).await.unwrap_err();
    assert!(e.contains("unknown scenario"));
}

#[tokio::test]
async fn no_amf_stops_the_run_at_once() {
    // Nothing listens on the discard port: the first scenario cannot connect, and the
    // run stops instead of timing out every scenario.
    let mut s = Settings::new(([127, 0, 0, 1], 9).into(), Transport::Udp);
    s.timeout = std::time::Duration::from_millis(300);
    let started = std::time::Instant::now();
    let e = runner::run(&s, &[]).await.unwrap_err();
    assert!(e.starts_with("cannot reach the AMF"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_scenarios_skip_without_keys() {
    let addr = start_amf().await;
    let s = Settings::new(addr, Transport::Udp);
    let only = [
        "registration-suci-profile-a".to_string(),
        "registration-suci-profile-b".to_string(),
    ];
    let (report, _) = runner::run(&s, &only).await.unwrap();
    assert_eq!(report.counts(), (0, 0, 2));
}
