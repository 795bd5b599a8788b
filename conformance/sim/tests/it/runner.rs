//! The runner over a real SCTP/UDP association (RFC 6951, this workspace's stack) to
//! the emulated AMF, and a real UDP socket to the emulated UPF: the glue, the
//! scenarios' verdicts, and the pcap. The data scenarios run with real TUN devices in
//! network namespaces when the test runs as root (else they are skipped, and the test
//! says so).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hexcore_capture::{Dissector, Reader};
use hexcore_sctp::{AssociationEvent, N2Listener, PPID_NGAP, Transport};
use hexcore_sim::report::Verdict;
use hexcore_sim::runner::{self, Capture, Settings};
use tokio::net::UdpSocket;

use crate::amf::{self, Upf};

/// A directory of this test process under the target dir.
fn test_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Where the network-deregistration command of the suite drops a file named after the
/// SUPI; the emulated AMF that has it registered deregisters it.
fn deregister_dir() -> PathBuf {
    test_dir("deregister")
}

/// Where the suite's --downlink-cmd drops `dl-<ue ip>` and --upf-restart-cmd
/// `upf-restart`.
fn trigger_dir() -> PathBuf {
    test_dir("triggers")
}

/// A UDP port free on 127.0.0.1 now (for the gNB's N3 socket, which the emulated UPF
/// must know to send downlink to).
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The emulated core of a test: AMF (one per association), SMF, UPF.
pub struct Lab {
    pub amf: SocketAddr,
    pub upf: Arc<Mutex<Upf>>,
    pub upf_port: u16,
    pub gnb_port: u16,
}

impl Lab {
    /// Settings pointing the suite at this lab: N3 on 127.0.0.1 with the lab's ports,
    /// and the lab's triggers for downlink data and UPF restart.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::new(self.amf, Transport::Udp);
        s.n3_address = Some([127, 0, 0, 1].into());
        s.n3_port = self.gnb_port;
        s.upf_port = self.upf_port;
        let t = trigger_dir();
        s.downlink_cmd = Some(format!("touch '{}'/dl-{{ue_ip}}", t.display()));
        s.upf_restart_cmd = Some(format!("touch '{}'/upf-restart", t.display()));
        s.upf_restart_wait = Duration::from_millis(500);
        s
    }
}

/// Serve every association with its own emulated AMF, all sharing one emulated UPF on
/// a UDP socket.
async fn start_lab() -> Lab {
    let gnb_port = free_udp_port();
    let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let upf_port = socket.local_addr().unwrap().port();
    let upf = Arc::new(Mutex::new(Upf::new()));
    upf.lock().unwrap().gnb_port = gnb_port;
    {
        let (socket, upf) = (socket.clone(), upf.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let out = {
                    let mut u = upf.lock().unwrap();
                    u.receive(from, &buf[..n]);
                    std::mem::take(&mut u.out)
                };
                for (to, d) in out {
                    let _ = socket.send_to(&d, to).await;
                }
            }
        });
    }
    let listener = N2Listener::bind(Transport::Udp, ([127, 0, 0, 1], 0).into()).unwrap();
    let addr = listener.local_addr().unwrap();
    let shared = upf.clone();
    tokio::spawn(async move {
        while let Ok((assoc, _)) = listener.accept().await {
            let (upf, socket) = (shared.clone(), socket.clone());
            tokio::spawn(async move {
                // The suite's 100 subscribers and the one after them, which this
                // in-memory AMF authenticates with 5G AKA (it has no EAP-AKA').
                let mut amf = crate::amf_with(101);
                amf.upf = upf.clone();
                let (deregister, triggers) = (deregister_dir(), trigger_dir());
                let mut quiet_since = Instant::now();
                loop {
                    // The operator's triggers (the suite's --network-deregister-cmd,
                    // --downlink-cmd, --upf-restart-cmd).
                    for entry in std::fs::read_dir(&deregister).into_iter().flatten().flatten() {
                        let supi = entry.file_name().to_string_lossy().to_string();
                        if amf.deregister(&supi) {
                            let _ = std::fs::remove_file(entry.path());
                        }
                    }
                    for entry in std::fs::read_dir(&triggers).into_iter().flatten().flatten() {
                        let name = entry.file_name().to_string_lossy().to_string();
                        let done = match name.strip_prefix("dl-").map(str::parse::<Ipv4Addr>) {
                            Some(Ok(ip)) => amf.downlink_data(ip),
                            _ => name == "upf-restart" && amf.upf_restarted(),
                        };
                        if done {
                            let _ = std::fs::remove_file(entry.path());
                        }
                    }
                    match tokio::time::timeout(Duration::from_millis(100), assoc.recv()).await {
                        Ok(Some(AssociationEvent::Message { data, .. })) => {
                            quiet_since = Instant::now();
                            amf.handle(&data);
                        }
                        Ok(Some(AssociationEvent::Down { .. }) | None) => return,
                        Ok(Some(_)) => {}
                        // T3550/T3560, shortened: 700 ms without uplink.
                        Err(_) if quiet_since.elapsed() >= Duration::from_millis(700) => {
                            quiet_since = Instant::now();
                            amf.retransmit();
                        }
                        Err(_) => {}
                    }
                    for pdu in std::mem::take(&mut amf.out) {
                        if assoc.send(1, PPID_NGAP, pdu).await.is_err() {
                            return;
                        }
                    }
                    let out = std::mem::take(&mut upf.lock().unwrap().out);
                    for (to, d) in out {
                        let _ = socket.send_to(&d, to).await;
                    }
                }
            });
        }
    });
    Lab {
        amf: addr,
        upf,
        upf_port,
        gnb_port,
    }
}

/// Whether this host gives UEs TUNs in namespaces (root): the data scenarios run.
fn tun_available() -> bool {
    match hexcore_sim::user_plane::probe_tun() {
        Ok(()) => true,
        Err(e) => {
            println!("note: data scenarios skipped: {e}");
            false
        }
    }
}

/// The namespaces this process still has (none after a run).
fn our_namespaces() -> Vec<String> {
    let prefix = format!("{}{}-", hexcore_sim::user_plane::NAMESPACE_PREFIX, std::process::id());
    std::fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_suite_over_sctp_udp() {
    let lab = start_lab().await;
    let mut s = lab.settings();
    s.timeout = std::time::Duration::from_secs(3);
    s.profile_a = Some((1, hex::decode(amf::PROFILE_A_PUBLIC).unwrap()));
    s.profile_b = Some((2, hex::decode(amf::PROFILE_B_PUBLIC).unwrap()));
    s.network_deregister_cmd = Some(format!("touch '{}'/{{supi}}", deregister_dir().display()));
    let data = tun_available();
    let (report, capture) = runner::run(&s, &[]).await.unwrap();
    println!("{}", report.table());
    let data_scenarios = [
        "pdu-session-ping",
        "pdu-session-idle-downlink-paging",
        "pdu-session-upf-restart",
    ];
    for o in &report.outcomes {
        if !data && data_scenarios.contains(&o.name.as_str()) {
            assert_eq!(o.verdict, Verdict::Skip, "{}: {}", o.name, o.detail);
        } else if o.name == "registration-eap-aka-prime" {
            // This AMF answers with 5G AKA: the scenario says so and skips (it passes
            // against hexcore, tests/conformance.rs).
            assert_eq!(o.verdict, Verdict::Skip, "{}: {}", o.name, o.detail);
            assert!(o.detail.contains("5G AKA"), "{}", o.detail);
        } else {
            assert_eq!(o.verdict, Verdict::Pass, "{}: {}", o.name, o.detail);
        }
    }
    assert_eq!(report.outcomes.len(), runner::SCENARIOS.len());
    assert!(our_namespaces().is_empty(), "namespaces left: {:?}", our_namespaces());

    // The capture decodes: every packet is one SCTP DATA chunk carrying NGAP that the
    // codec reads, or a GTP-U message on UDP port 2152 that re-encodes to its octets;
    // the deliberately malformed PDU sits in its own capture.
    let pcap = Capture::pcap(&capture.packets).unwrap();
    // Left for `hexcore pcap` (the check that the suite's capture decodes).
    let _ = std::fs::write(concat!(env!("CARGO_TARGET_TMPDIR"), "/conformance.pcap"), &pcap);
    let reader = Reader::new(&pcap).unwrap();
    let mut dissector = Dissector::new(&[]);
    let (mut messages, mut gtpu) = (0, 0);
    for record in reader {
        let record = record.unwrap();
        let ip = hexcore_capture::link::ip_packet(record.link_type, record.data).unwrap();
        if ip.protocol == 17
            && let Ok(u) = hexcore_capture::link::udp(ip.payload)
            && u.src_port == 2152
            && u.dst_port == 2152
        {
            let p = hexcore_gtpu::Packet::new_checked(u.payload).unwrap();
            let r = hexcore_gtpu::Repr::parse(&p).unwrap();
            let mut again = vec![0; r.buffer_len()];
            r.emit(&mut hexcore_gtpu::Packet::new_unchecked(&mut again[..]))
                .unwrap();
            assert_eq!(again, u.payload, "GTP-U re-encodes to its octets");
            gtpu += 1;
            continue;
        }
        for m in dissector.push(&record) {
            assert_eq!(m.ppid, PPID_NGAP);
            hexcore_ngap::NgapPdu::decode(&m.data).unwrap();
            messages += 1;
        }
    }
    assert_eq!(messages + gtpu, capture.packets.len());
    assert!(messages > 200, "{messages}");
    if data {
        // The pings (up and down), the paged downlink and the kernel's answer to it.
        assert!(gtpu >= 8, "{gtpu} GTP-U packets");
        let upf = lab.upf.lock().unwrap();
        // The UE's kernel answered the paged downlink ping through its TUN.
        assert!(
            upf.uplink.iter().any(|p| p.get(20) == Some(&0) && p.get(9) == Some(&1)),
            "an ICMP echo reply from a UE's kernel reached the UPF"
        );
    }
    assert_eq!(capture.malformed.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_over_sctp_udp() {
    let lab = start_lab().await;
    let s = lab.settings();
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
    let lab = start_lab().await;
    let s = lab.settings();
    let only = [
        "registration-suci-profile-a".to_string(),
        "registration-suci-profile-b".to_string(),
    ];
    let (report, _) = runner::run(&s, &only).await.unwrap();
    assert_eq!(report.counts(), (0, 0, 2));
}
