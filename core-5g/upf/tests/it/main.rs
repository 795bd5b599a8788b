//! The UPF against the kernel: real PFCP over UDP, GTP-U on N3, a TUN for N6, each
//! test alone in a fresh network namespace (nothing touches the host, nothing to
//! clean up). Needs root and /dev/net/tun; elsewhere each test prints why it skips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use hexcore_netdev::{Interface, netns};
use hexcore_pfcp::ie::UsageReportTrigger;
use hexcore_pfcp::{Cause, Message, Pdu, SessionDeletionRequest};
use hexcore_upf::Upf;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn in_new_namespace(f: impl FnOnce() + Send) {
    if let Some(reason) = skip_reason() {
        eprintln!("note: skipped: {reason}");
        return;
    }
    netns::run_in_new(|| {
        Interface::new("lo").unwrap().set_up().unwrap();
        f();
    })
    .unwrap();
}

fn wait_for(mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(3);
    while !ok() {
        assert!(Instant::now() < end, "timed out");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn session_over_pfcp_gtpu_through_the_tun_and_exact_usage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    in_new_namespace(|| round_trip(&path, 1, "a"));
}

#[test]
fn two_workers_on_a_multiqueue_tun() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    in_new_namespace(|| round_trip(&path, 2, "e"));
}

fn round_trip(dir: &Path, workers: usize, tag: &str) {
    let rt = runtime();
    let mut s = settings(dir, tag);
    s.upf.workers = workers;
    let upf = rt.block_on(Upf::start(s)).unwrap();
    let mut smf = Smf::new(upf.pfcp_addr);
    smf.associate();
    let (seid, teid) = smf.establish(0x42);

    let gnb = UdpSocket::bind(SocketAddr::new(GNB_IP.into(), 2152)).unwrap();
    gnb.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let sink = UdpSocket::bind("10.45.0.1:5001").unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 65536];

    // Uplink: a G-PDU into N3 comes out of the TUN as the UE's packet.
    let inner = ip_udp(UE_IP, Ipv4Addr::new(10, 45, 0, 1), 5001, b"uplink: hello from the UE");
    gnb.send_to(&gpdu(teid, &inner), upf.n3_addr).unwrap();
    let (n, from) = sink.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"uplink: hello from the UE");
    assert_eq!(from, "10.45.0.7:40000".parse::<SocketAddr>().unwrap());
    // The same G-PDU with zero padding after the GTP-U message (as open5gs's test gNB
    // sends): forwarded too, the padding left out (the octet counts below show it).
    let mut padded = gpdu(teid, &inner);
    padded.extend_from_slice(&[0; 6]);
    gnb.send_to(&padded, upf.n3_addr).unwrap();
    let (n, _) = sink.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"uplink: hello from the UE");

    // Downlink: a packet routed to the UE address leaves as a G-PDU to the gNB with
    // its TEID and QFI 9.
    let app = UdpSocket::bind("10.45.0.1:0").unwrap();
    app.send_to(b"downlink: 34 octets of payload....", "10.45.0.7:6000")
        .unwrap();
    let (n, from) = gnb.recv_from(&mut buf).unwrap();
    assert_eq!(from, upf.n3_addr);
    let g = hexcore_gtpu::parse_gpdu(&buf[..n]).unwrap();
    assert_eq!((g.teid, g.qfi), (GNB_TEID, Some(9)));
    let dl_inner = &buf[g.payload.clone()];
    assert_eq!(dl_inner.len(), 28 + 34);
    assert_eq!(&dl_inner[16..20], &UE_IP.octets());

    // A burst of equal datagrams (a GSO run towards the gNB), then a shorter one:
    // all arrive, in order.
    for i in 0..5u8 {
        let len = if i == 4 { 10 } else { 34 };
        app.send_to(&vec![i; len], "10.45.0.7:6000").unwrap();
    }
    for i in 0..5u8 {
        let (n, _) = gnb.recv_from(&mut buf).unwrap();
        let g = hexcore_gtpu::parse_gpdu(&buf[..n]).unwrap();
        assert_eq!(g.teid, GNB_TEID);
        assert_eq!(buf[g.payload.start + 28], i);
    }

    // Echo Request answered; a G-PDU to an unknown TEID gets an Error Indication.
    gnb.send_to(&[0x32, 0x01, 0x00, 0x04, 0, 0, 0, 0, 0x12, 0x34, 0, 0], upf.n3_addr)
        .unwrap();
    let (n, _) = gnb.recv_from(&mut buf).unwrap();
    assert_eq!(
        &buf[..n],
        &[0x32, 0x02, 0x00, 0x06, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0x0e, 0x00]
    );
    gnb.send_to(&gpdu(0xdead, &inner), upf.n3_addr).unwrap();
    let (n, _) = gnb.recv_from(&mut buf).unwrap();
    assert_eq!(buf[1], 26, "Error Indication, {:02x?}", &buf[..n]);

    wait_for(|| upf.stats().downlink_packets == 6);
    let stats = upf.stats();
    assert_eq!((stats.uplink_packets, stats.uplink_octets), (2, 2 * inner.len() as u64));
    assert_eq!(stats.padded_gpdus, 1);

    // Deletion: the final report holds exactly the T-PDU octets of both packets.
    let rsp = smf.request(Pdu::session(seid, SessionDeletionRequest::new()));
    let Message::SessionDeletionResponse(r) = rsp.message else {
        panic!("{rsp:?}")
    };
    assert_eq!(r.cause, Cause::RequestAccepted);
    let ur = &r.usage_reports[0];
    assert!(ur.usage_report_trigger.contains(UsageReportTrigger::TERMR));
    let v = ur.volume_measurement.unwrap();
    assert_eq!(v.uplink_volume, Some(2 * inner.len() as u64));
    let dl = 62 * 5 + 38;
    assert_eq!(v.downlink_volume, Some(dl));
    assert_eq!(v.total_volume, Some(2 * inner.len() as u64 + dl));
    assert_eq!((v.uplink_packets, v.downlink_packets), (Some(2), Some(6)));

    rt.block_on(upf.shutdown());
}

#[test]
fn unanswered_final_reports_are_recovered_from_the_journal_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    in_new_namespace(|| restart(&path));
}

fn restart(dir: &Path) {
    let rt = runtime();
    let upf = rt.block_on(Upf::start(settings(dir, "b"))).unwrap();
    assert!(upf.recovered.entries.is_empty());
    let mut smf = Smf::new(upf.pfcp_addr);
    smf.associate();
    let (_, teid) = smf.establish(0x43);
    let gnb = UdpSocket::bind(SocketAddr::new(GNB_IP.into(), 2152)).unwrap();
    let inner = ip_udp(UE_IP, Ipv4Addr::new(10, 45, 0, 1), 5001, &[7u8; 100]);
    for _ in 0..3 {
        gnb.send_to(&gpdu(teid, &inner), upf.n3_addr).unwrap();
    }
    wait_for(|| upf.stats().uplink_packets == 3);
    // The SMF goes silent: the final reports of the stop go unanswered and stay in
    // the journal.
    smf.answer_reports = false;
    rt.block_on(upf.shutdown());

    let upf = rt.block_on(Upf::start(settings(dir, "c"))).unwrap();
    let r = &upf.recovered;
    assert_eq!(r.entries.len(), 1, "{r:?}");
    assert_eq!(r.entries[0].urr_id, 1);
    assert_eq!(r.entries[0].cp_seid, 0x43);
    assert_eq!(r.entries[0].usage.counts.uplink_octets, 3 * inner.len() as u64);
    assert_eq!(r.entries[0].usage.counts.uplink_packets, 3);
    assert!(r.kept_as.as_ref().is_some_and(|p| p.exists()));
    rt.block_on(upf.shutdown());
}

#[test]
fn offloads_keep_every_packet_matched_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    in_new_namespace(|| offloads(&path));
}

fn offloads(dir: &Path) {
    let rt = runtime();
    let mut s = settings(dir, "d");
    s.upf.tun.vnet_hdr = true;
    let upf = rt.block_on(Upf::start(s)).unwrap();
    let mut smf = Smf::new(upf.pfcp_addr);
    smf.associate();
    let (seid, teid) = smf.establish(0x44);
    let gnb = hexcore_netdev::BatchSocket::bind(SocketAddr::new(GNB_IP.into(), 2152)).unwrap();
    gnb.socket().set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let sink = UdpSocket::bind("10.45.0.1:5001").unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 65536];

    // Uplink: a burst of 8 datagrams of one flow (consecutive IP identifications) in
    // one GRO'd receive: coalesced into one TUN write, every one delivered.
    let mut burst = Vec::new();
    let mut inner_len = 0;
    for i in 0..8u8 {
        let mut inner = ip_udp(UE_IP, Ipv4Addr::new(10, 45, 0, 1), 5001, &[i; 200]);
        inner[4..6].copy_from_slice(&u16::from(i + 1).to_be_bytes());
        inner[10..12].copy_from_slice(&[0, 0]);
        let mut sum: u32 = inner[..20]
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        inner[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        inner_len = inner.len();
        burst.extend_from_slice(&gpdu(teid, &inner));
    }
    let seg = burst.len() / 8;
    gnb.send_segments(&burst, seg as u16, upf.n3_addr).unwrap();
    for i in 0..8u8 {
        let (n, _) = sink.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], &[i; 200][..], "datagram {i}");
    }

    // Downlink: a UDP GSO burst routed into the TUN reaches the UPF as one
    // super-packet; each datagram leaves as its own G-PDU.
    let app = hexcore_netdev::BatchSocket::bind("10.45.0.1:0".parse().unwrap()).unwrap();
    let payload: Vec<u8> = (0..6 * 300).map(|i| (i / 300) as u8).collect();
    app.send_segments(&payload, 300, "10.45.0.7:6000".parse().unwrap())
        .unwrap();
    for i in 0..6u8 {
        let (n, _) = gnb.socket().recv_from(&mut buf).unwrap();
        let g = hexcore_gtpu::parse_gpdu(&buf[..n]).unwrap();
        assert_eq!((g.teid, g.qfi), (GNB_TEID, Some(9)));
        let inner = &buf[g.payload.clone()];
        assert_eq!(inner.len(), 328);
        assert_eq!(&inner[28..], &[i; 300][..]);
    }

    wait_for(|| upf.stats().downlink_packets == 6);
    let st = upf.stats();
    // Fewer system calls than packets: the offloads batched them.
    assert!(st.tun_writes < 8, "{st:?}");
    assert!(st.tun_reads < 6, "{st:?}");
    let rsp = smf.request(Pdu::session(seid, SessionDeletionRequest::new()));
    let Message::SessionDeletionResponse(r) = rsp.message else {
        panic!("{rsp:?}")
    };
    let v = r.usage_reports[0].volume_measurement.unwrap();
    assert_eq!(
        (v.uplink_packets, v.uplink_volume),
        (Some(8), Some(8 * inner_len as u64))
    );
    assert_eq!((v.downlink_packets, v.downlink_volume), (Some(6), Some(6 * 328)));
    rt.block_on(upf.shutdown());
}

#[test]
fn a_start_waits_for_a_tun_still_held_by_an_exiting_upf() {
    // A supervisor restarting a crashed UPF can race the kernel closing the dead
    // process's TUN (EBUSY): the start waits for it (bounded) instead of failing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    in_new_namespace(|| {
        let s = settings(&path, "h");
        let held = hexcore_netdev::Tun::builder().name(&s.upf.tun.name).open().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(600));
            drop(held);
        });
        let rt = runtime();
        let started = Instant::now();
        let upf = rt.block_on(Upf::start(s)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(500), "it did wait");
        release.join().unwrap();
        rt.block_on(upf.shutdown());
    });
}
