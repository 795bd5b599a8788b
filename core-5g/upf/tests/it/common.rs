//! Helpers: a small SMF over real UDP (hexcore-pfcp's builders and `Transactions`),
//! a gNB socket, packet builders, and the root/TUN check.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use hexcore_pfcp::ie::*;
use hexcore_pfcp::{
    AssociationSetupRequest, Cause, Config, Event, LocalNode, Message, Pdu, SessionEstablishmentRequest,
    SessionReportResponse, Transactions,
};
use hexcore_upf::Settings;

pub const UE_IP: Ipv4Addr = Ipv4Addr::new(10, 45, 0, 7);
pub const GNB_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
pub const GNB_TEID: u32 = 0x00c0_ffee;

/// Why a test that needs root and a TUN cannot run here, if it cannot.
pub fn skip_reason() -> Option<String> {
    if !hexcore_netdev::Tun::is_supported() {
        return Some("/dev/net/tun is not usable here".into());
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(str::to_owned))
        .unwrap_or_default();
    if uid.split_whitespace().nth(1).is_none_or(|u| u != "0") {
        return Some("needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)".into());
    }
    None
}

/// Settings for a UPF alone in a fresh namespace.
pub fn settings(data_dir: &Path, tag: &str) -> Settings {
    let mut s = Settings::default();
    s.upf.pfcp_bind = "127.0.0.1:0".parse().unwrap();
    s.upf.n3_bind = "127.0.0.1:0".parse().unwrap();
    s.upf.n3_address = Ipv4Addr::LOCALHOST;
    s.upf.data_dir = data_dir.to_path_buf();
    // Unique per process and test (names are per namespace anyway).
    s.upf.tun.name = format!("hx{}{tag}", std::process::id() % 100_000);
    s.upf.shutdown_report_timeout = Duration::from_millis(1500);
    s
}

/// A minimal SMF.
pub struct Smf {
    pub sock: UdpSocket,
    pub tx: Transactions<SocketAddr>,
    pub upf: SocketAddr,
    /// Session Report Requests received.
    pub reports: Vec<Pdu>,
    /// Answer them (else stay silent).
    pub answer_reports: bool,
}

impl Smf {
    pub fn new(upf: SocketAddr) -> Smf {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let tx = Transactions::new(
            LocalNode {
                node_id: NodeId::Ipv4(Ipv4Addr::LOCALHOST),
                recovery_time_stamp: Timestamp::from_unix_secs(1_700_000_000),
            },
            Config::default(),
        );
        Smf {
            sock,
            tx,
            upf,
            reports: Vec::new(),
            answer_reports: true,
        }
    }

    /// Exchange datagrams for `d`, or until the response to `seq` arrives.
    pub fn pump(&mut self, d: Duration, seq: Option<u32>) -> Option<Pdu> {
        let end = Instant::now() + d;
        let mut buf = [0u8; 65536];
        while Instant::now() < end {
            while let Some(t) = self.tx.poll_transmit() {
                self.sock.send_to(&t.bytes, t.peer).unwrap();
            }
            if let Ok((n, peer)) = self.sock.recv_from(&mut buf) {
                self.tx.handle_datagram(Instant::now(), peer, &buf[..n]);
            }
            self.tx.handle_timeout(Instant::now());
            while let Some(e) = self.tx.poll_event() {
                match e {
                    Event::Request { peer, pdu } => {
                        self.reports.push(pdu.clone());
                        if self.answer_reports {
                            let rsp =
                                Pdu::response_to(&pdu.header, 0, SessionReportResponse::new(Cause::RequestAccepted));
                            self.tx.send_response(Instant::now(), peer, &rsp);
                        }
                    }
                    Event::Response { request, response, .. } if Some(request.header.sequence_number) == seq => {
                        while let Some(t) = self.tx.poll_transmit() {
                            self.sock.send_to(&t.bytes, t.peer).unwrap();
                        }
                        return Some(response.unwrap());
                    }
                    _ => {}
                }
            }
        }
        None
    }

    pub fn request(&mut self, pdu: Pdu) -> Pdu {
        let seq = self.tx.send_request(Instant::now(), self.upf, pdu);
        self.pump(Duration::from_secs(5), Some(seq)).expect("the UPF answers")
    }

    pub fn associate(&mut self) {
        let rsp = self.request(Pdu::node(AssociationSetupRequest::new(
            NodeId::Ipv4(Ipv4Addr::LOCALHOST),
            Timestamp::from_unix_secs(1_700_000_000),
        )));
        assert_eq!(rsp.message.cause(), Some(Cause::RequestAccepted));
    }

    /// An uplink PDR with CHOOSE and a downlink PDR on the UE address to the gNB's
    /// tunnel (QFI 9), one URR. Returns (UP SEID, the UPF's TEID).
    pub fn establish(&mut self, cp_seid: u64) -> (u64, u32) {
        let req = SessionEstablishmentRequest::new(
            NodeId::Ipv4(Ipv4Addr::LOCALHOST),
            Fseid::v4(cp_seid, Ipv4Addr::LOCALHOST),
            vec![
                CreatePdr::new(
                    PdrId(1),
                    Precedence(255),
                    Pdi::new(SourceInterface::Access)
                        .local_fteid(Fteid::choose_v4(Some(1)))
                        .ue_ip_addresses([UeIpAddress::source_v4(UE_IP)]),
                )
                .outer_header_removal(OuterHeaderRemoval::GTPU_UDP_IPV4)
                .far_id(FarId(1))
                .urr_ids([UrrId(1)])
                .qer_ids([QerId(1)]),
                CreatePdr::new(
                    PdrId(2),
                    Precedence(255),
                    Pdi::new(SourceInterface::Core).ue_ip_addresses([UeIpAddress::destination_v4(UE_IP)]),
                )
                .far_id(FarId(2))
                .urr_ids([UrrId(1)])
                .qer_ids([QerId(1)]),
            ],
            vec![
                CreateFar::forward(FarId(1), ForwardingParameters::new(DestinationInterface::Core)),
                CreateFar::forward(
                    FarId(2),
                    ForwardingParameters::new(DestinationInterface::Access)
                        .outer_header_creation(OuterHeaderCreation::gtpu_v4(GNB_TEID, GNB_IP)),
                ),
            ],
        )
        .create_urrs([CreateUrr::new(
            UrrId(1),
            MeasurementMethod::new(MeasurementMethod::VOLUM),
            ReportingTriggers::new(0),
        )])
        .create_qers([CreateQer::new(QerId(1), GateStatus::OPEN).qfi(Qfi(9))]);
        let rsp = self.request(Pdu::session(0, req));
        let Message::SessionEstablishmentResponse(r) = rsp.message else {
            panic!("{rsp:?}")
        };
        assert_eq!(r.cause, Cause::RequestAccepted, "{r:?}");
        let teid = r.created_pdrs[0].local_fteid.and_then(|f| f.teid()).unwrap();
        (r.up_fseid.unwrap().seid, teid)
    }
}

/// An IPv4/UDP packet with a valid header checksum (the kernel checks it on the
/// way in from the TUN) and no UDP checksum.
pub fn ip_udp(src: Ipv4Addr, dst: Ipv4Addr, dport: u16, payload: &[u8]) -> Vec<u8> {
    let total = 28 + payload.len();
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[6] = 0x40;
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let mut sum: u32 = 0;
    for c in p[..20].chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    p[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    p[20..22].copy_from_slice(&40000u16.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p[28..].copy_from_slice(payload);
    p
}

/// That packet in an uplink G-PDU with a UL PDU Session Container (QFI 9).
pub fn gpdu(teid: u32, inner: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 16 + inner.len()];
    buf[16..].copy_from_slice(inner);
    let r = hexcore_gtpu::encap_uplink_in_place(&mut buf, 16, inner.len(), teid, Some(9)).unwrap();
    buf[r].to_vec()
}
