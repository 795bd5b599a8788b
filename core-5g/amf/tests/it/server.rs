//! The glue end to end: a real N2 association over SCTP/UDP (hexcore-sctp's N2 API)
//! to an AMF started as a service of a process (hexcore-service's task manager and HTTP
//! endpoint) on 127.0.0.1 with free ports, NG Setup and a whole registration, /metrics
//! and the operator API on the process's endpoint, then a clean shutdown.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hexcore_amf::glue::server::BoxFuture;
use hexcore_amf::glue::{Server, UdmBackend};
use hexcore_amf::{Settings, UdmRequest, UdmResponse};
use hexcore_nas::Message;
use hexcore_nas::mm::{MmHeader, RegistrationComplete};
use hexcore_ngap::NgapPdu;
use hexcore_ngap::procedures::{
    DownlinkNasTransport, InitialContextSetupRequest, InitialUeMessage, NgSetupResponse, RRCEstablishmentCause,
    UplinkNasTransport,
};
use hexcore_sctp::{AssociationEvent, N2Association, Transport};
use hexcore_service::{Endpoint, RunningService, Service, StartContext, TaskManager};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

use crate::common::*;

struct SharedUdm(Mutex<FakeUdm>);

impl UdmBackend for SharedUdm {
    fn call(&self, request: UdmRequest) -> BoxFuture<'_, UdmResponse> {
        let r = self.0.lock().unwrap().handle(request);
        Box::pin(async move { r })
    }
}

async fn recv_ngap(a: &N2Association) -> NgapPdu {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), a.recv())
            .await
            .expect("an answer within 10 s")
            .expect("association alive");
        if let AssociationEvent::Message { ppid, data, .. } = ev {
            assert_eq!(ppid, 60);
            return NgapPdu::decode(&data).unwrap();
        }
    }
}

async fn send_ngap(a: &N2Association, stream: u16, pdu: NgapPdu) {
    a.send(stream, 60, pdu.encode().unwrap()).await.unwrap();
}

fn test_settings() -> Settings {
    let mut s = Settings::default();
    s.n2.bind = "127.0.0.1".parse().unwrap();
    s.n2.udp_port = 0;
    s.n2.kernel_sctp = false;
    s
}

/// The AMF on the test's runtime as a service, telling the test where N2 listens.
struct TestAmf {
    udm: Arc<dyn UdmBackend>,
    n2: oneshot::Sender<SocketAddr>,
}

impl Service for TestAmf {
    fn name(&self) -> &str {
        "amf"
    }

    fn start(self: Box<Self>, context: StartContext) -> BoxFuture<'static, anyhow::Result<Box<dyn RunningService>>> {
        Box::pin(async move {
            let server = Server::start(test_settings(), self.udm).await?;
            context.add_routes(server.operator_api());
            let _ = self.n2.send(server.udp_addr);
            Ok(Box::new(server) as Box<dyn RunningService>)
        })
    }
}

#[tokio::test]
async fn ng_setup_and_registration_over_sctp_udp_then_shutdown() {
    let udm = Arc::new(SharedUdm(Mutex::new(FakeUdm::new())));
    let endpoint = Endpoint::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let http_addr = endpoint.local_addr();
    let (n2, n2_addr) = oneshot::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let mut process = TaskManager::new("test");
    process.add(TestAmf { udm, n2 });
    let process = tokio::spawn(process.run(Some(endpoint), async move {
        let _ = stopped.await;
    }));
    let a = N2Association::connect(Transport::Udp, None, n2_addr.await.unwrap())
        .await
        .unwrap();

    send_ngap(&a, 0, ng_setup_request(plmn(), 1, 1).build().unwrap()).await;
    let r = NgSetupResponse::parse(&recv_ngap(&a).await).unwrap();
    assert_eq!(r.amf_name, "hexcore-amf");

    // A whole registration over the wire.
    let mut ue = TestUe::new(7);
    let init = InitialUeMessage {
        ran_ue_ngap_id: ue.ran_ue_ngap_id,
        nas_pdu: Message::from(ue.registration_request()).encode(),
        user_location: location(),
        rrc_establishment_cause: RRCEstablishmentCause::mo_Signalling,
        five_g_s_tmsi: None,
        ue_context_requested: false,
    };
    send_ngap(&a, 1, init.build().unwrap()).await;
    let dl = DownlinkNasTransport::parse(&recv_ngap(&a).await).unwrap();
    let amf_id = dl.amf_ue_ngap_id;
    ue.amf_ue_ngap_id = Some(amf_id);
    let msg = ue.read(&dl.nas_pdu);
    let resp = ue.authenticate(&msg);
    let ran_id = ue.ran_ue_ngap_id;
    let ul = |nas: Vec<u8>| UplinkNasTransport {
        amf_ue_ngap_id: amf_id,
        ran_ue_ngap_id: ran_id,
        nas_pdu: nas,
        user_location: location(),
    };
    send_ngap(&a, 1, ul(resp.encode()).build().unwrap()).await;
    let smc = DownlinkNasTransport::parse(&recv_ngap(&a).await).unwrap().nas_pdu;
    let complete = ue.security_mode(&smc);
    send_ngap(&a, 1, ul(complete).build().unwrap()).await;
    let ics = InitialContextSetupRequest::parse(&recv_ngap(&a).await).unwrap();
    assert!(matches!(
        ue.read(ics.nas_pdu.as_ref().unwrap()),
        Message::RegistrationAccept(_)
    ));
    let rc = ue.protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
    send_ngap(&a, 1, ul(rc).build().unwrap()).await;

    // Metrics are served, and the AMF is ready.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        http(http_addr, "GET", "/readyz").await,
        (200, "amf: ready\n".to_string())
    );
    let (status, text) = http(http_addr, "GET", "/metrics").await;
    assert_eq!(status, 200);
    assert!(text.contains("hexcore_amf_gnbs_connected"), "{text}");
    assert!(text.contains("hexcore_amf_procedures_total"), "{text}");

    // The operator API: the UE is listed, connected and registered.
    let (status, text) = http(http_addr, "GET", "/v1/ues").await;
    assert_eq!(status, 200);
    let ues: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ues[0]["supi"], ue.supi().as_str());
    assert_eq!(ues[0]["state"], "registered");
    assert_eq!(ues[0]["cm_connected"], true);
    // Bad and unknown SUPIs are refused with a reason.
    assert_eq!(http(http_addr, "POST", "/v1/ues/imsi-12x/deregister").await.0, 400);
    assert_eq!(
        http(http_addr, "POST", "/v1/ues/imsi-001010000000999/deregister")
            .await
            .0,
        404
    );
    // Network-initiated deregistration reaches the UE over N2.
    let (status, _) = http(http_addr, "POST", &format!("/v1/ues/imsi-{}/deregister", ue.supi())).await;
    assert_eq!(status, 202);
    let dl = DownlinkNasTransport::parse(&recv_ngap(&a).await).unwrap();
    assert!(matches!(
        ue.read(&dl.nas_pdu),
        Message::DeregistrationRequestUeTerminated(_)
    ));

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), process)
        .await
        .expect("clean shutdown")
        .unwrap()
        .unwrap();
}

/// One HTTP/1.1 request; the status code and the body.
async fn http(addr: std::net::SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut text))
        .await
        .expect("an HTTP answer within 10 s")
        .unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {text}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    (status, body)
}
