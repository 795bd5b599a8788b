//! The glue over real UDP loopback: the SMF task, a fake UPF socket that answers with
//! hexcore-pfcp, the AMF channels and a JSON-lines sink.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use hexcore_nas::Message;
use hexcore_pfcp::Message as Pfcp;
use hexcore_pfcp::ie::*;
use hexcore_pfcp::*;
use hexcore_smf::subscription::StaticSubscriptions;
use hexcore_smf::{JsonLinesSink, Settings, Smf};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::common::*;

/// Answer association, heartbeat and session establishment; then send one usage
/// report for the session and hand back its response.
async fn fake_upf(socket: UdpSocket, done: mpsc::Sender<Pdu>) {
    let mut buf = vec![0u8; 65_536];
    let node = NodeId::Ipv4(Ipv4Addr::LOCALHOST);
    let ts = Timestamp::from_unix_secs(1_767_000_000);
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            return;
        };
        let Ok(pdu) = Pdu::decode(&buf[..n]) else { continue };
        let h = pdu.header;
        let rsp = match &pdu.message {
            Pfcp::AssociationSetupRequest(_) => Pdu::response_to(
                &h,
                0,
                AssociationSetupResponse::new(node.clone(), Cause::RequestAccepted, ts),
            ),
            Pfcp::HeartbeatRequest(_) => Pdu::response_to(&h, 0, HeartbeatResponse::new(ts)),
            Pfcp::SessionEstablishmentRequest(req) => {
                let cp = req.cp_fseid.seid;
                let rsp = SessionEstablishmentResponse::new(node.clone(), Cause::RequestAccepted)
                    .up_fseid(Fseid::v4(77, Ipv4Addr::LOCALHOST))
                    .created_pdrs([CreatedPdr::new(PdrId(1)).local_fteid(Fteid::v4(0x55, UPF_N3))]);
                let _ = socket.send_to(&Pdu::response_to(&h, cp, rsp).encode(), peer).await;
                // A usage report right after.
                let report =
                    SessionReportRequest::new(ReportType::new(ReportType::USAR)).usage_reports([UsageReport::new(
                        UrrId(1),
                        UrSeqn(0),
                        UsageReportTrigger::new(UsageReportTrigger::PERIO),
                    )
                    .volume_measurement(VolumeMeasurement {
                        total_volume: Some(3000),
                        uplink_volume: Some(1000),
                        downlink_volume: Some(2000),
                        ..Default::default()
                    })]);
                let mut req = Pdu::session(cp, report);
                req.header.sequence_number = 900;
                let _ = socket.send_to(&req.encode(), peer).await;
                continue;
            }
            Pfcp::SessionReportResponse(_) => {
                let _ = done.send(pdu).await;
                continue;
            }
            _ => continue,
        };
        let _ = socket.send_to(&rsp.encode(), peer).await;
    }
}

#[tokio::test]
async fn glue_over_udp_loopback() {
    let upf = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let upf_addr = upf.local_addr().unwrap();
    let (done_tx, mut done_rx) = mpsc::channel(4);
    let upf_task = tokio::spawn(fake_upf(upf, done_tx));

    let mut settings = Settings::default();
    settings.smf.bind = "127.0.0.1:0".parse().unwrap();
    settings.smf.upfs[0].address = upf_addr;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.jsonl");
    let sink = JsonLinesSink::open(&path).unwrap();
    let (amf_tx, mut amf_rx) = mpsc::channel(16);
    let (smf_tx, smf_rx) = mpsc::channel(16);
    let running = Smf::start(
        settings,
        amf_tx,
        smf_rx,
        Arc::new(StaticSubscriptions(subscription())),
        Box::new(sink),
    )
    .await
    .unwrap();
    assert_eq!(running.n4_addr.ip(), Ipv4Addr::LOCALHOST);

    // The association is set up in the background; establishment retries until then.
    let mut accept = None;
    for _ in 0..50 {
        smf_tx
            .send(create(1, Some("internet"), &EST_REQ_UERANSIM))
            .await
            .unwrap();
        let out = tokio::time::timeout(Duration::from_secs(5), amf_rx.recv())
            .await
            .unwrap()
            .unwrap();
        match n1n2(&out).0 {
            Some(Message::PduSessionEstablishmentAccept(a)) => {
                accept = Some(a);
                break;
            }
            _ => {
                // #26 before the association was up: its SmContextReleased follows.
                let _ = amf_rx.recv().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    let accept = accept.expect("an Accept once the association is up");
    assert_eq!(accept.header.pdu_session_id, 1);

    // The usage report is acknowledged only after the record is on disk.
    let rsp = tokio::time::timeout(Duration::from_secs(5), done_rx.recv())
        .await
        .unwrap()
        .unwrap();
    let Pfcp::SessionReportResponse(r) = rsp.message else {
        panic!()
    };
    assert_eq!(r.cause, Cause::RequestAccepted);
    assert_eq!(rsp.header.seid, Some(77));
    let records = JsonLinesSink::read_all(&path).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].uplink_octets, records[0].downlink_octets), (1000, 2000));

    let sessions = running.sessions().await.unwrap();
    assert_eq!(sessions.len(), 1);
    running
        .release_session(ctx(1), hexcore_nas::SmCause::RegularDeactivation)
        .await
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(5), amf_rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(n1n2(&out).0, Some(Message::PduSessionReleaseCommand(_))));
    drop(smf_tx);
    running.shutdown().await;
    upf_task.abort();
}
