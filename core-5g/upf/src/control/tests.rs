//! N4 procedure tests: an SMF made of hexcore-pfcp's builders and `Transactions`
//! drives the sans-IO `UpfControl` over an in-memory wire on virtual time; the data
//! path runs on byte buffers against the tables the control publishes.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use hexcore_gtpu::{MAX_ENCAP_HEADER_LEN, encap_uplink_in_place, parse_gpdu};
use hexcore_pfcp::ie::*;
use hexcore_pfcp::{
    AssociationReleaseRequest, AssociationSetupRequest, Cause, Config as PfcpConfig, Event as PfcpEvent,
    HeartbeatRequest, LocalNode, Message, Pdu, SessionDeletionRequest, SessionEstablishmentRequest,
    SessionModificationRequest, SessionModificationResponse, SessionReportResponse, Transactions,
};

use super::*;
use crate::datapath::{self, Downlink, DropReason, Uplink};

const UPF_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 0, 2);
const SMF_IP: Ipv4Addr = Ipv4Addr::new(10, 100, 0, 1);
const GNB_IP: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 9);
const UE_IP: Ipv4Addr = Ipv4Addr::new(10, 45, 0, 7);
const GNB_TEID: u32 = 0x0a0b_0c0d;

fn upf_addr() -> SocketAddr {
    SocketAddr::new(UPF_IP.into(), 8805)
}

fn smf_addr() -> SocketAddr {
    SocketAddr::new(SMF_IP.into(), 8805)
}

fn gnb_addr() -> SocketAddr {
    SocketAddr::new(GNB_IP.into(), 2152)
}

/// How the SMF answers the UPF's Session Report Requests.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SmfMode {
    Accept,
    Silent,
    NotFound,
}

struct Net {
    now: Instant,
    upf: UpfControl,
    smf: Transactions<SocketAddr>,
    smf_mode: SmfMode,
    /// Session Report Requests the SMF received, in order.
    reports: Vec<Pdu>,
    /// Responses to the SMF's requests.
    responses: Vec<Pdu>,
    gtpu: Vec<(SocketAddr, Vec<u8>)>,
    events: Vec<Event>,
    /// Drop everything the UPF sends to the SMF.
    cut: bool,
}

impl Net {
    fn new() -> Net {
        let now = Instant::now();
        let mut config = ControlConfig::new(UPF_IP, (now, 1_700_000_000));
        config.ue_pool = Some((Ipv4Addr::new(10, 45, 0, 1), 16));
        config.buffer_packets = 4;
        config.first_teid = 0x100;
        let smf = Transactions::new(
            LocalNode {
                node_id: NodeId::Ipv4(SMF_IP),
                recovery_time_stamp: Timestamp(1000),
            },
            PfcpConfig::default(),
        );
        Net {
            now,
            upf: UpfControl::new(config),
            smf,
            smf_mode: SmfMode::Accept,
            reports: Vec::new(),
            responses: Vec::new(),
            gtpu: Vec::new(),
            events: Vec::new(),
            cut: false,
        }
    }

    /// Move datagrams until nothing moves (bounded).
    fn step(&mut self) {
        for _ in 0..100 {
            let mut moved = false;
            while let Some(t) = self.smf.poll_transmit() {
                moved = true;
                self.upf.handle(
                    self.now,
                    Input::Pfcp {
                        peer: smf_addr(),
                        datagram: &t.bytes,
                    },
                );
            }
            while let Some(t) = self.upf.poll_transmit() {
                moved = true;
                match t {
                    Transmit::Pfcp { peer, bytes } => {
                        assert_eq!(peer, smf_addr());
                        if !self.cut {
                            self.smf.handle_datagram(self.now, upf_addr(), &bytes);
                        }
                    }
                    Transmit::Gtpu { peer, bytes } => self.gtpu.push((peer, bytes)),
                }
            }
            while let Some(e) = self.upf.poll_event() {
                self.events.push(e);
            }
            while let Some(e) = self.smf.poll_event() {
                moved = true;
                match e {
                    PfcpEvent::Request { peer, pdu } => {
                        self.reports.push(pdu.clone());
                        let cause = match self.smf_mode {
                            SmfMode::Accept => Cause::RequestAccepted,
                            SmfMode::NotFound => Cause::SessionContextNotFound,
                            SmfMode::Silent => continue,
                        };
                        let rsp = Pdu::response_to(&pdu.header, 0, SessionReportResponse::new(cause));
                        self.smf.send_response(self.now, peer, &rsp);
                    }
                    PfcpEvent::Response { response, .. } => self.responses.push(response.unwrap()),
                    other => panic!("SMF: {other:?}"),
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the wire did not settle");
    }

    fn request(&mut self, pdu: Pdu) -> Pdu {
        let before = self.responses.len();
        self.smf.send_request(self.now, upf_addr(), pdu);
        self.step();
        assert_eq!(self.responses.len(), before + 1, "no response");
        self.responses.pop().unwrap()
    }

    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        // Step through the deadlines on the way, as the glue would.
        for _ in 0..10_000 {
            let next = [self.upf.poll_timeout(), self.smf.poll_timeout()]
                .into_iter()
                .flatten()
                .filter(|t| *t <= end)
                .min();
            let Some(t) = next else { break };
            self.now = t.max(self.now);
            self.upf.handle(self.now, Input::Timeout);
            self.smf.handle_timeout(self.now);
            self.step();
        }
        self.now = end;
        self.upf.handle(self.now, Input::Timeout);
        self.smf.handle_timeout(self.now);
        self.step();
    }

    fn associate(&mut self) {
        let rsp = self.request(Pdu::node(AssociationSetupRequest::new(
            NodeId::Ipv4(SMF_IP),
            Timestamp(1000),
        )));
        let Message::AssociationSetupResponse(r) = rsp.message else {
            panic!()
        };
        assert_eq!(r.cause, Cause::RequestAccepted);
        assert!(r.up_function_features.unwrap().contains(UpFunctionFeatures::FTUP));
    }

    /// A session as free5GC's SMF sets one up: uplink PDR with CHOOSE, downlink
    /// PDR on the UE address, FARs, a QER with QFI 9, a URR.
    fn establish(&mut self, cp_seid: u64, dl_far: CreateFar, urr: CreateUrr) -> (u64, u32) {
        let req = SessionEstablishmentRequest::new(
            NodeId::Ipv4(SMF_IP),
            Fseid::v4(cp_seid, SMF_IP),
            vec![
                CreatePdr::new(
                    PdrId(1),
                    Precedence(255),
                    Pdi::new(SourceInterface::Access)
                        .local_fteid(Fteid::choose_v4(Some(1)))
                        .ue_ip_addresses([UeIpAddress::source_v4(UE_IP)])
                        .qfis([Qfi(9)]),
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
                dl_far,
            ],
        )
        .create_urrs([urr])
        .create_qers([CreateQer::new(QerId(1), GateStatus::OPEN).qfi(Qfi(9))]);
        let rsp = self.request(Pdu::session(0, req));
        assert_eq!(rsp.header.seid, Some(cp_seid));
        let Message::SessionEstablishmentResponse(r) = rsp.message else {
            panic!()
        };
        assert_eq!(r.cause, Cause::RequestAccepted, "{r:?}");
        let seid = r.up_fseid.unwrap().seid;
        let teid = r.created_pdrs[0].local_fteid.unwrap().teid().unwrap();
        (seid, teid)
    }

    fn modify(&mut self, seid: u64, req: SessionModificationRequest) -> SessionModificationResponse {
        let Message::SessionModificationResponse(r) = self.request(Pdu::session(seid, req)).message else {
            panic!()
        };
        r
    }

    fn uplink(&mut self, teid: u32, payload: usize) -> Result<usize, DropReason> {
        self.uplink_padded(teid, payload, 0)
    }

    /// An uplink G-PDU whose datagram carries `padding` zero octets after the message
    /// its Length field declares.
    fn uplink_padded(&mut self, teid: u32, payload: usize, padding: usize) -> Result<usize, DropReason> {
        let mut buf = vec![0u8; MAX_ENCAP_HEADER_LEN + 28 + payload + padding];
        let inner = ip_udp(UE_IP, Ipv4Addr::new(198, 51, 100, 1), payload);
        buf[MAX_ENCAP_HEADER_LEN..][..inner.len()].copy_from_slice(&inner);
        let frame = encap_uplink_in_place(&mut buf, MAX_ENCAP_HEADER_LEN, inner.len(), teid, Some(9)).unwrap();
        let datagram = frame.start..frame.end + padding;
        let tables = self.upf.tables().load_full();
        let mut notices = Vec::new();
        let r = match datapath::uplink(&tables, self.now, &buf[datagram.clone()], &mut |n| notices.push(n)) {
            Uplink::ToN6 { payload, .. } => {
                assert_eq!(
                    &buf[datagram.clone()][payload.clone()],
                    &inner[..],
                    "the T-PDU, untouched"
                );
                assert_eq!(datagram.len() - payload.end, padding, "the padding, left out");
                Ok(payload.len())
            }
            Uplink::Dropped(r) => Err(r),
            other => panic!("{other:?}"),
        };
        for n in notices {
            self.upf.handle(self.now, Input::Notice(n));
        }
        self.step();
        r
    }

    fn downlink(&mut self, payload: usize, tag: u8) -> Result<(SocketAddr, Vec<u8>), Option<DropReason>> {
        let mut inner = ip_udp(Ipv4Addr::new(198, 51, 100, 1), UE_IP, payload);
        if let Some(b) = inner.last_mut() {
            *b = tag;
        }
        let mut buf = vec![0u8; datapath::HEADROOM + inner.len()];
        buf[datapath::HEADROOM..].copy_from_slice(&inner);
        let tables = self.upf.tables().load_full();
        let mut notices = Vec::new();
        let r = match datapath::downlink(&tables, self.now, &mut buf, datapath::HEADROOM, inner.len(), &mut |n| {
            notices.push(n)
        }) {
            Downlink::ToN3 { frame, peer, .. } => Ok((peer, buf[frame].to_vec())),
            Downlink::Buffered => Err(None),
            Downlink::Dropped(r) => Err(Some(r)),
        };
        for n in notices {
            self.upf.handle(self.now, Input::Notice(n));
        }
        self.step();
        r
    }

    fn usage_reports(&self) -> Vec<UsageReport> {
        self.reports
            .iter()
            .filter_map(|p| match &p.message {
                Message::SessionReportRequest(r) => Some(r.usage_reports.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

/// An IPv4/UDP packet of `payload` octets after the UDP header (built by hand;
/// checksums do not matter to the UPF).
fn ip_udp(src: Ipv4Addr, dst: Ipv4Addr, payload: usize) -> Vec<u8> {
    let total = 28 + payload;
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    p[20..22].copy_from_slice(&4000u16.to_be_bytes());
    p[22..24].copy_from_slice(&5001u16.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
    p
}

fn gnb_far() -> CreateFar {
    CreateFar::forward(
        FarId(2),
        ForwardingParameters::new(DestinationInterface::Access)
            .outer_header_creation(OuterHeaderCreation::gtpu_v4(GNB_TEID, GNB_IP)),
    )
}

fn volume_urr() -> CreateUrr {
    CreateUrr::new(
        UrrId(1),
        MeasurementMethod::new(MeasurementMethod::VOLUM | MeasurementMethod::DURAT),
        ReportingTriggers::new(0),
    )
}

fn volume(r: &UsageReport) -> VolumeMeasurement {
    r.volume_measurement.unwrap()
}

#[test]
fn establishment_with_choose_and_exact_counts_in_the_final_report() {
    let mut n = Net::new();
    n.associate();
    let (seid, teid) = n.establish(0x51, gnb_far(), volume_urr());
    assert_eq!(teid, 0x100, "the first TEID of the allocator");
    assert_eq!(n.upf.session_count(), 1);

    // Uplink: the T-PDU comes out; 100 + 28 = 128 octets counted.
    assert_eq!(n.uplink(teid, 100), Ok(128));
    assert_eq!(n.uplink(teid, 1372), Ok(1400));
    // Downlink: a G-PDU to the gNB's TEID with QFI 9 in a DL PDU Session Container.
    let (peer, frame) = n.downlink(36, 0xaa).unwrap();
    assert_eq!(peer, gnb_addr());
    let g = parse_gpdu(&frame).unwrap();
    assert_eq!((g.teid, g.qfi), (GNB_TEID, Some(9)));
    assert_eq!(frame.len() - g.payload.start, 64);
    assert_eq!(frame[16 + 16..][..4], UE_IP.octets());

    // Deletion: the response carries the final usage, exactly what was forwarded.
    n.advance(Duration::from_secs(3));
    let Message::SessionDeletionResponse(r) = n.request(Pdu::session(seid, SessionDeletionRequest::new())).message
    else {
        panic!()
    };
    assert_eq!(r.cause, Cause::RequestAccepted);
    let ur = &r.usage_reports[0];
    assert!(ur.usage_report_trigger.contains(UsageReportTrigger::TERMR));
    let v = volume(ur);
    assert_eq!(v.uplink_volume, Some(128 + 1400));
    assert_eq!(v.downlink_volume, Some(64));
    assert_eq!(v.total_volume, Some(128 + 1400 + 64));
    assert_eq!(
        (v.uplink_packets, v.downlink_packets, v.total_packets),
        (Some(2), Some(1), Some(3))
    );
    assert_eq!(ur.duration_measurement, Some(Duration::from_secs(3)));
    assert_eq!(n.upf.session_count(), 0);
    assert!(n.upf.tables().load().uplink.is_empty());
    // The TEID is free again (not handed out again at once: late packets of the old
    // session must not land in a new one).
    let (_, teid2) = n.establish(0x52, gnb_far(), volume_urr());
    assert_eq!(teid2, 0x101);
    assert!(!n.upf.tables().load().uplink.contains_key(&0x100));
}

#[test]
fn a_padded_gpdu_forwards_and_counts_the_declared_t_pdu_only() {
    let mut n = Net::new();
    n.associate();
    let (seid, teid) = n.establish(0x51, gnb_far(), volume_urr());
    // open5gs's test gNB pads its G-PDUs with zeros after the message the Length field
    // declares (TS 29.281 §5.1): the T-PDU goes out, the padding does not, and only
    // the T-PDU is counted.
    assert_eq!(n.uplink_padded(teid, 100, 6), Ok(128));
    assert_eq!(n.uplink_padded(teid, 100, 1), Ok(128));
    let Message::SessionDeletionResponse(r) = n.request(Pdu::session(seid, SessionDeletionRequest::new())).message
    else {
        panic!()
    };
    let v = volume(&r.usage_reports[0]);
    assert_eq!((v.uplink_volume, v.uplink_packets), (Some(256), Some(2)));
}

#[test]
fn unknown_teid_and_spoofed_source() {
    let mut n = Net::new();
    n.associate();
    let (_, teid) = n.establish(0x51, gnb_far(), volume_urr());
    let tables = n.upf.tables().load_full();
    let mut buf = vec![0u8; 16 + 40];
    let inner = ip_udp(Ipv4Addr::new(10, 45, 0, 99), Ipv4Addr::new(8, 8, 8, 8), 12);
    buf[16..].copy_from_slice(&inner);
    let f = encap_uplink_in_place(&mut buf, 16, 40, teid, Some(9)).unwrap();
    // Another UE's source address through this tunnel: no PDR matches.
    assert!(matches!(
        datapath::uplink(&tables, n.now, &buf[f.clone()], &mut |_| {}),
        Uplink::Dropped(DropReason::NoPdr)
    ));
    let f = encap_uplink_in_place(&mut buf, 16, 40, 0xdead, Some(9)).unwrap();
    assert!(matches!(
        datapath::uplink(&tables, n.now, &buf[f], &mut |_| {}),
        Uplink::UnknownTeid { teid: 0xdead }
    ));
    // An Echo Request is signalling.
    let echo = [0x32, 0x01, 0x00, 0x04, 0, 0, 0, 0, 0x00, 0x07, 0x00, 0x00];
    assert!(matches!(
        datapath::uplink(&tables, n.now, &echo, &mut |_| {}),
        Uplink::Signalling
    ));
    assert!(matches!(
        datapath::uplink(&tables, n.now, &echo[..5], &mut |_| {}),
        Uplink::Dropped(DropReason::Malformed)
    ));
}

#[test]
fn modification_installs_the_gnb_tunnel_and_sends_an_end_marker_on_handover() {
    let mut n = Net::new();
    n.associate();
    // The downlink FAR starts without a tunnel (the gNB's F-TEID is not known yet).
    let dl = CreateFar::new(FarId(2), ApplyAction::new(ApplyAction::FORW))
        .forwarding_parameters(ForwardingParameters::new(DestinationInterface::Access));
    let (seid, _) = n.establish(0x51, dl, volume_urr());
    assert_eq!(n.downlink(10, 1), Err(Some(DropReason::NoTunnel)));
    let r = n.modify(
        seid,
        SessionModificationRequest::new().update_fars([UpdateFar::new(FarId(2))
            .apply_action(ApplyAction::new(ApplyAction::FORW))
            .update_forwarding_parameters(
                UpdateForwardingParameters::new().outer_header_creation(OuterHeaderCreation::gtpu_v4(GNB_TEID, GNB_IP)),
            )]),
    );
    assert_eq!(r.cause, Cause::RequestAccepted);
    let (peer, frame) = n.downlink(10, 1).unwrap();
    assert_eq!((peer, parse_gpdu(&frame).unwrap().teid), (gnb_addr(), GNB_TEID));
    // Handover: a new gNB tunnel, SNDEM: an End Marker goes down the old path.
    let new_gnb = Ipv4Addr::new(10, 200, 0, 10);
    n.modify(
        seid,
        SessionModificationRequest::new().update_fars([UpdateFar::new(FarId(2)).update_forwarding_parameters(
            UpdateForwardingParameters::new()
                .outer_header_creation(OuterHeaderCreation::gtpu_v4(0x77, new_gnb))
                .pfcpsm_req_flags(vec![0x02]),
        )]),
    );
    let (to, em) = n.gtpu.pop().unwrap();
    assert_eq!(to, gnb_addr());
    let [t0, t1, t2, t3] = GNB_TEID.to_be_bytes();
    assert_eq!(em, [0x30, 0xfe, 0, 0, t0, t1, t2, t3]);
    let (peer, frame) = n.downlink(10, 1).unwrap();
    assert_eq!(peer.ip(), std::net::IpAddr::V4(new_gnb));
    assert_eq!(parse_gpdu(&frame).unwrap().teid, 0x77);
}

#[test]
fn buffering_reports_once_and_flushes_in_order() {
    let mut n = Net::new();
    n.associate();
    let (seid, _) = n.establish(0x51, CreateFar::buffer(FarId(2)), volume_urr());
    // Three packets buffered; one Downlink Data Report only.
    for tag in 1..=3 {
        assert_eq!(n.downlink(20, tag), Err(None));
    }
    let dldr: Vec<_> = n
        .reports
        .iter()
        .filter_map(|p| match &p.message {
            Message::SessionReportRequest(r) => r.downlink_data_report.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(dldr.len(), 1);
    assert_eq!(dldr[0].pdr_ids, [PdrId(2)]);
    assert_eq!(dldr[0].downlink_data_service_information[0].qfi, Some(9));
    assert_eq!(n.reports[0].header.seid, Some(0x51));
    // The buffer holds 4 packets (this test's bound): the 5th and 6th are dropped.
    assert_eq!(n.downlink(20, 4), Err(None));
    assert_eq!(n.downlink(20, 5), Err(Some(DropReason::BufferFull)));
    // Nothing counted while buffered.
    // FORW with the tunnel: the buffer is flushed, in order, counted now.
    n.modify(
        seid,
        SessionModificationRequest::new().update_fars([UpdateFar::new(FarId(2))
            .apply_action(ApplyAction::new(ApplyAction::FORW))
            .update_forwarding_parameters(
                UpdateForwardingParameters::new().outer_header_creation(OuterHeaderCreation::gtpu_v4(GNB_TEID, GNB_IP)),
            )]),
    );
    let tags: Vec<u8> = n.gtpu.iter().map(|(_, f)| *f.last().unwrap()).collect();
    assert_eq!(tags, [1, 2, 3, 4]);
    assert!(
        n.gtpu
            .iter()
            .all(|(p, f)| *p == gnb_addr() && parse_gpdu(f).unwrap().qfi == Some(9))
    );
    // Back to BUFF: a new buffering period, a new report.
    n.modify(
        seid,
        SessionModificationRequest::new().update_fars([
            UpdateFar::new(FarId(2)).apply_action(ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP))
        ]),
    );
    assert_eq!(n.downlink(20, 6), Err(None));
    let count = n
        .reports
        .iter()
        .filter(|p| matches!(&p.message, Message::SessionReportRequest(r) if r.downlink_data_report.is_some()))
        .count();
    assert_eq!(count, 2);
    // DROBU: the buffered packet is dropped, never counted.
    n.modify(seid, SessionModificationRequest::new().pfcpsm_req_flags(vec![0x01]));
    let Message::SessionDeletionResponse(r) = n.request(Pdu::session(seid, SessionDeletionRequest::new())).message
    else {
        panic!()
    };
    let v = volume(&r.usage_reports[0]);
    assert_eq!(v.downlink_packets, Some(4));
    assert_eq!(v.downlink_volume, Some(4 * 48));
}

#[test]
fn quota_exhaustion_reports_and_drops() {
    let mut n = Net::new();
    n.associate();
    let urr = CreateUrr::new(
        UrrId(1),
        MeasurementMethod::new(MeasurementMethod::VOLUM),
        ReportingTriggers::new(ReportingTriggers::VOLQU),
    )
    .volume_quota(Volume::total(1000));
    let (seid, teid) = n.establish(0x51, gnb_far(), urr);
    assert_eq!(n.uplink(teid, 372), Ok(400));
    assert_eq!(n.uplink(teid, 372), Ok(400));
    // 800 used: a 400-octet packet does not fit the remaining 200: dropped, reported.
    assert_eq!(n.uplink(teid, 372), Err(DropReason::Quota));
    let urs = n.usage_reports();
    assert_eq!(urs.len(), 1);
    assert!(urs[0].usage_report_trigger.contains(UsageReportTrigger::VOLQU));
    assert_eq!(volume(&urs[0]).total_volume, Some(800));
    // Exhausted: even a small packet is dropped now, in both directions.
    assert_eq!(n.uplink(teid, 10), Err(DropReason::Quota));
    assert_eq!(n.downlink(10, 0), Err(Some(DropReason::Quota)));
    assert_eq!(n.usage_reports().len(), 1, "reported once");
    // A new quota lets traffic through again.
    n.modify(
        seid,
        SessionModificationRequest::new().update_urrs([UpdateUrr::new(UrrId(1)).volume_quota(Volume::total(500))]),
    );
    assert_eq!(n.uplink(teid, 372), Ok(400));
    assert_eq!(n.uplink(teid, 372), Err(DropReason::Quota));
    let urs = n.usage_reports();
    assert_eq!(urs.len(), 2);
    assert_eq!(volume(&urs[1]).total_volume, Some(400));
}

#[test]
fn periodic_and_threshold_reports_on_virtual_time() {
    let mut n = Net::new();
    n.associate();
    let urr = CreateUrr::new(
        UrrId(1),
        MeasurementMethod::new(MeasurementMethod::VOLUM | MeasurementMethod::DURAT),
        ReportingTriggers::new(ReportingTriggers::PERIO | ReportingTriggers::VOLTH),
    )
    .measurement_period(Duration::from_secs(10))
    .volume_threshold(Volume::total(3000));
    let (_, teid) = n.establish(0x51, gnb_far(), urr);
    n.uplink(teid, 972).unwrap();
    n.advance(Duration::from_secs(9));
    assert!(n.usage_reports().is_empty());
    n.advance(Duration::from_secs(1));
    let urs = n.usage_reports();
    assert_eq!(urs.len(), 1, "{urs:?}");
    assert!(urs[0].usage_report_trigger.contains(UsageReportTrigger::PERIO));
    assert_eq!(volume(&urs[0]).total_volume, Some(1000));
    assert_eq!(urs[0].duration_measurement, Some(Duration::from_secs(10)));
    assert_eq!(urs[0].ur_seqn, UrSeqn(1));
    // Threshold: 3000 octets since the last report.
    n.uplink(teid, 1472).unwrap();
    n.uplink(teid, 1400).unwrap();
    assert_eq!(n.usage_reports().len(), 1, "2928 octets: not yet");
    n.uplink(teid, 72).unwrap();
    let urs = n.usage_reports();
    assert_eq!(urs.len(), 2);
    assert!(urs[1].usage_report_trigger.contains(UsageReportTrigger::VOLTH));
    assert_eq!(volume(&urs[1]).total_volume, Some(3028));
    // The next period (t = 20 s) reports what came since, nothing else.
    n.advance(Duration::from_secs(10));
    let urs = n.usage_reports();
    assert_eq!(urs.len(), 3);
    assert_eq!(volume(&urs[2]).total_volume, Some(0));
    assert_eq!(urs[2].ur_seqn, UrSeqn(3));
}

/// The one timer table holds a heartbeat per association and a deadline per URR
/// with a time-based trigger, and follows them through every change.
#[test]
fn timers_follow_associations_and_urrs() {
    let mut n = Net::new();
    let t0 = n.now;
    let running = |n: &Net, t: &Timer| n.upf.timers.running(t).map(|(_, d)| d);
    n.associate();
    let heartbeat = Timer::Heartbeat(NodeId::Ipv4(SMF_IP));
    assert_eq!(running(&n, &heartbeat), Some(t0 + Duration::from_secs(10)));
    let urr = CreateUrr::new(
        UrrId(1),
        MeasurementMethod::new(MeasurementMethod::VOLUM),
        ReportingTriggers::new(ReportingTriggers::PERIO),
    )
    .measurement_period(Duration::from_secs(7));
    let (seid, _) = n.establish(0x51, gnb_far(), urr);
    let period = Timer::Urr(Seid(seid), UrrId(1));
    assert_eq!(running(&n, &period), Some(t0 + Duration::from_secs(7)));
    // A new period moves the deadline; a URR with no time-based trigger has none.
    let r = n.modify(
        seid,
        SessionModificationRequest::new()
            .update_urrs([UpdateUrr::new(UrrId(1)).measurement_period(Duration::from_secs(3))])
            .create_urrs([CreateUrr {
                urr_id: UrrId(2),
                ..volume_urr()
            }]),
    );
    assert_eq!(r.cause, Cause::RequestAccepted);
    assert_eq!(running(&n, &period), Some(t0 + Duration::from_secs(3)));
    assert_eq!(running(&n, &Timer::Urr(Seid(seid), UrrId(2))), None);
    // The period expires: reported, and the deadline is the next period.
    n.advance(Duration::from_secs(3));
    assert_eq!(n.usage_reports().len(), 1);
    assert_eq!(running(&n, &period), Some(t0 + Duration::from_secs(6)));
    // A removed URR's timer stops (its PDRs move to URR 2); a deleted session's too.
    let r = n.modify(
        seid,
        SessionModificationRequest::new()
            .remove_urrs([RemoveUrr::new(UrrId(1))])
            .update_pdrs([
                UpdatePdr::new(PdrId(1)).urr_ids([UrrId(2)]),
                UpdatePdr::new(PdrId(2)).urr_ids([UrrId(2)]),
            ]),
    );
    assert_eq!(r.cause, Cause::RequestAccepted);
    assert_eq!(running(&n, &period), None);
    let r = n.modify(
        seid,
        SessionModificationRequest::new().update_urrs([UpdateUrr::new(UrrId(2))
            .reporting_triggers(ReportingTriggers::new(ReportingTriggers::PERIO))
            .measurement_period(Duration::from_secs(60))]),
    );
    assert_eq!(r.cause, Cause::RequestAccepted);
    assert!(running(&n, &Timer::Urr(Seid(seid), UrrId(2))).is_some());
    n.request(Pdu::session(seid, SessionDeletionRequest::new()));
    assert_eq!(n.upf.timers.len(), 1, "the heartbeat only");
    // A released association stops its heartbeat.
    n.request(Pdu::node(AssociationReleaseRequest::new(NodeId::Ipv4(SMF_IP))));
    assert!(n.upf.timers.is_empty());
}

/// A URR is looked at when the data path names it: a threshold crossing is reported
/// at once, with no timer and no wake-up in between.
#[test]
fn a_flagged_urr_is_reported_without_a_timeout() {
    let mut n = Net::new();
    n.associate();
    let urr = CreateUrr::new(
        UrrId(1),
        MeasurementMethod::new(MeasurementMethod::VOLUM),
        ReportingTriggers::new(ReportingTriggers::VOLTH),
    )
    .volume_threshold(Volume::total(1000));
    let (seid, teid) = n.establish(0x51, gnb_far(), urr);
    assert_eq!(n.upf.timers.running(&Timer::Urr(Seid(seid), UrrId(1))), None);
    // Net::uplink hands the data path's notices to the control and moves the wire;
    // it never sends Input::Timeout.
    n.uplink(teid, 1372).unwrap();
    let urs = n.usage_reports();
    assert_eq!(urs.len(), 1);
    assert!(urs[0].usage_report_trigger.contains(UsageReportTrigger::VOLTH));
    assert_eq!(volume(&urs[0]).total_volume, Some(1400));
    // The notice was taken: the next crossing notifies again.
    n.uplink(teid, 972).unwrap();
    assert_eq!(n.usage_reports().len(), 2);
}

#[test]
fn duplicate_request_is_answered_from_the_cache() {
    let mut n = Net::new();
    n.associate();
    let req = SessionEstablishmentRequest::new(
        NodeId::Ipv4(SMF_IP),
        Fseid::v4(0x99, SMF_IP),
        vec![
            CreatePdr::new(
                PdrId(1),
                Precedence(1),
                Pdi::new(SourceInterface::Access).local_fteid(Fteid::choose_v4(None)),
            )
            .far_id(FarId(1)),
        ],
        vec![CreateFar::forward(
            FarId(1),
            ForwardingParameters::new(DestinationInterface::Core),
        )],
    );
    let mut pdu = Pdu::session(0, req);
    pdu.header.sequence_number = 77;
    let bytes = pdu.encode();
    let mut answers = Vec::new();
    for _ in 0..2 {
        n.upf.handle(
            n.now,
            Input::Pfcp {
                peer: smf_addr(),
                datagram: &bytes,
            },
        );
        while let Some(Transmit::Pfcp { bytes, .. }) = n.upf.poll_transmit() {
            answers.push(bytes);
        }
    }
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0], answers[1]);
    assert_eq!(n.upf.session_count(), 1);
    assert_eq!(n.upf.pfcp_stats().duplicates_answered, 1);
}

fn cause_and_offending(p: &Pdu) -> (Cause, Option<IeType>, Option<Vec<u8>>) {
    match &p.message {
        Message::SessionEstablishmentResponse(r) => (r.cause, r.offending_ie.map(|o| o.0), r.failed_rule_id.clone()),
        Message::SessionModificationResponse(r) => (r.cause, r.offending_ie.map(|o| o.0), r.failed_rule_id.clone()),
        Message::SessionDeletionResponse(r) => (r.cause, r.offending_ie.map(|o| o.0), None),
        Message::AssociationUpdateResponse(r) => (r.cause, None, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_error_cause() {
    let mut n = Net::new();
    let simple = |cp: u64, pdr_far: u32| {
        SessionEstablishmentRequest::new(
            NodeId::Ipv4(SMF_IP),
            Fseid::v4(cp, SMF_IP),
            vec![
                CreatePdr::new(
                    PdrId(1),
                    Precedence(1),
                    Pdi::new(SourceInterface::Access).local_fteid(Fteid::choose_v4(None)),
                )
                .far_id(FarId(pdr_far)),
            ],
            vec![CreateFar::forward(
                FarId(1),
                ForwardingParameters::new(DestinationInterface::Core),
            )],
        )
    };
    // 72: no association yet.
    let r = n.request(Pdu::session(0, simple(1, 1)));
    assert_eq!(cause_and_offending(&r).0, Cause::NoEstablishedPfcpAssociation);
    assert_eq!(r.header.seid, Some(1), "answered to the CP F-SEID");
    let r = n.request(Pdu::node(hexcore_pfcp::AssociationUpdateRequest::new(NodeId::Ipv4(
        SMF_IP,
    ))));
    assert_eq!(cause_and_offending(&r).0, Cause::NoEstablishedPfcpAssociation);
    n.associate();
    // 73 with Offending IE Create PDR and Failed Rule ID PDR 1: a FAR that is not there.
    let r = n.request(Pdu::session(0, simple(1, 9)));
    assert_eq!(
        cause_and_offending(&r),
        (
            Cause::RuleCreationModificationFailure,
            Some(IeType::CreatePdr),
            Some(vec![0, 0, 1])
        )
    );
    assert_eq!(n.upf.session_count(), 0);
    assert!(n.upf.tables().load().uplink.is_empty(), "nothing installed");
    // 65: modification and deletion of a session that does not exist; SEID 0 back.
    let r = n.request(Pdu::session(0x1234, SessionModificationRequest::new()));
    assert_eq!(cause_and_offending(&r).0, Cause::SessionContextNotFound);
    assert_eq!(r.header.seid, Some(0));
    let r = n.request(Pdu::session(0x1234, SessionDeletionRequest::new()));
    assert_eq!(cause_and_offending(&r).0, Cause::SessionContextNotFound);
    // 64: a second session for the same CP F-SEID.
    let r = n.request(Pdu::session(0, simple(1, 1)));
    assert_eq!(cause_and_offending(&r).0, Cause::RequestAccepted);
    let seid = n.upf.seids()[0].0;
    let r = n.request(Pdu::session(0, simple(1, 1)));
    assert_eq!(cause_and_offending(&r).0, Cause::RequestRejected);
    // 67: FORW without Forwarding Parameters.
    let r = n.modify(
        seid,
        SessionModificationRequest::new().create_fars([CreateFar::new(FarId(5), ApplyAction::new(ApplyAction::FORW))]),
    );
    assert_eq!(r.cause, Cause::ConditionalIeMissing);
    assert_eq!(r.offending_ie, Some(OffendingIe(IeType::ForwardingParameters)));
    // 73: removing a FAR a PDR still uses; updating a URR that is not there; a bad
    // SDF filter; two actions at once. None of them changes anything.
    for (req, rule) in [
        (
            SessionModificationRequest::new().remove_fars([RemoveFar::new(FarId(1))]),
            vec![0, 0, 1],
        ),
        (
            SessionModificationRequest::new().update_urrs([UpdateUrr::new(UrrId(4))]),
            vec![3, 0, 0, 0, 4],
        ),
        (
            SessionModificationRequest::new().create_pdrs([CreatePdr::new(
                PdrId(3),
                Precedence(1),
                Pdi::new(SourceInterface::Core)
                    .sdf_filters([SdfFilter::flow("permit out ip from nowhere to assigned")]),
            )
            .far_id(FarId(1))]),
            vec![0, 0, 3],
        ),
        (
            SessionModificationRequest::new().update_fars([
                UpdateFar::new(FarId(1)).apply_action(ApplyAction::new(ApplyAction::FORW | ApplyAction::DROP))
            ]),
            vec![1, 0, 0, 0, 1],
        ),
    ] {
        let r = n.modify(seid, req);
        assert_eq!(r.cause, Cause::RuleCreationModificationFailure);
        assert_eq!(r.failed_rule_id, Some(rule));
    }
    assert_eq!(n.upf.tables().load().uplink.len(), 1, "the session is as it was");
    // 66 / 68 / 69 from the codec: a Session Establishment Request without its PDI
    // (free5GC's broken test message), a Node ID of an unknown type, a short IE.
    #[rustfmt::skip]
    let no_pdi = [
        0x21, 0x32, 0x0, 0x2c, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x2, 0x0, 0x0, 0x1, 0x0,
        0x0, 0x3c, 0x0, 0x5, 0x0, 0xc0, 0xbc, 0x2, 0x2,
        0x0, 0x1, 0x0, 0x13, 0x0, 0x38, 0x0, 0x2, 0x0, 0x1, 0x0, 0x1d, 0x0, 0x4, 0x0, 0x0, 0x0,
        0x20, 0x0, 0x5f, 0x0, 0x1, 0x0,
    ];
    let mut bad_node = Pdu::node(AssociationSetupRequest::new(NodeId::Ipv4(SMF_IP), Timestamp(1))).encode();
    bad_node[12] = 0x03;
    let mut short = Pdu::node(HeartbeatRequest::new(Timestamp(1))).encode();
    short[11] = 5;
    // (From another port: the SMF's own sequence numbers are in the response cache.)
    let raw_peer = SocketAddr::new(SMF_IP.into(), 9999);
    for (bytes, cause, ie) in [
        (&no_pdi[..], Cause::MandatoryIeMissing, Some(IeType::Pdi)),
        (&bad_node[..], Cause::MandatoryIeIncorrect, Some(IeType::NodeId)),
    ] {
        n.upf.handle(
            n.now,
            Input::Pfcp {
                peer: raw_peer,
                datagram: bytes,
            },
        );
        let Some(Transmit::Pfcp { bytes, .. }) = n.upf.poll_transmit() else {
            panic!()
        };
        let rsp = Pdu::decode(&bytes).unwrap();
        assert_eq!(rsp.message.cause(), Some(cause));
        if let Message::SessionEstablishmentResponse(r) = &rsp.message {
            assert_eq!(r.offending_ie.map(|o| o.0), ie);
        }
    }
    // A Heartbeat Request with a broken IE: answered anyway (a heartbeat has no
    // cause), never a panic.
    n.upf.handle(
        n.now,
        Input::Pfcp {
            peer: raw_peer,
            datagram: &short,
        },
    );
    assert!(n.upf.poll_transmit().is_some());
    assert!(n.events.iter().all(|e| !matches!(e, Event::UsageLost { .. })));
}

#[test]
fn unacknowledged_reports_are_carried_and_lost_usage_is_logged() {
    let mut n = Net::new();
    n.associate();
    let urr = CreateUrr::new(
        UrrId(1),
        MeasurementMethod::new(MeasurementMethod::VOLUM),
        ReportingTriggers::new(ReportingTriggers::PERIO),
    )
    .measurement_period(Duration::from_secs(30));
    let (seid, teid) = n.establish(0x51, gnb_far(), urr);
    n.uplink(teid, 972).unwrap();
    // The SMF does not answer: after T1 × (N1 + 1) = 12 s the report is given up on
    // and its 1000 octets are merged back.
    n.smf_mode = SmfMode::Silent;
    n.advance(Duration::from_secs(30));
    assert_eq!(n.upf.unreported_usage(n.now)[0].usage.counts.total_octets(), 1000);
    n.advance(Duration::from_secs(13));
    assert!(
        n.events
            .iter()
            .any(|e| matches!(e, Event::UsageCarried { usage, .. } if usage.counts.total_octets() == 1000))
    );
    // The journal's view still holds it.
    assert_eq!(n.upf.unreported_usage(n.now)[0].usage.counts.total_octets(), 1000);
    // The next periodic report carries it again, with what came since.
    n.smf_mode = SmfMode::Accept;
    n.uplink(teid, 472).unwrap();
    n.advance(Duration::from_secs(17));
    let last = n.usage_reports().pop().unwrap();
    assert_eq!(volume(&last).total_volume, Some(1500));
    assert!(n.upf.unreported_usage(n.now).is_empty());
    // The SMF lost the session (65): the usage is logged as lost, the session goes.
    n.uplink(teid, 72).unwrap();
    n.smf_mode = SmfMode::NotFound;
    n.advance(Duration::from_secs(30));
    let lost: u64 = n
        .events
        .iter()
        .filter_map(|e| match e {
            Event::UsageLost {
                seid: s,
                urr_id: UrrId(1),
                usage,
                ..
            } if *s == Seid(seid) => Some(usage.counts.total_octets()),
            _ => None,
        })
        .sum();
    assert_eq!(lost, 100);
    assert_eq!(n.upf.session_count(), 0);
}

#[test]
fn cp_restart_reports_and_deletes_its_sessions() {
    let mut n = Net::new();
    n.associate();
    let (_, teid) = n.establish(0x51, gnb_far(), volume_urr());
    n.uplink(teid, 172).unwrap();
    // A Heartbeat Request from the SMF with a new Recovery Time Stamp: it restarted.
    let rsp = n.request(Pdu::node(HeartbeatRequest::new(Timestamp(2000))));
    let Message::HeartbeatResponse(h) = rsp.message else {
        panic!()
    };
    assert_eq!(h.recovery_time_stamp, n.upf.recovery_time_stamp());
    assert_eq!(n.upf.session_count(), 0);
    assert!(
        n.events
            .iter()
            .any(|e| matches!(e, Event::CpRestarted { sessions: 1, .. }))
    );
    let last = n.usage_reports().pop().unwrap();
    assert!(last.usage_report_trigger.contains(UsageReportTrigger::TEBUR));
    assert_eq!(volume(&last).total_volume, Some(200));
    // Our own heartbeats: sent every 10 s, answered.
    n.advance(Duration::from_secs(10));
    assert!(n.upf.pfcp_stats().responses_matched >= 1);
}

#[test]
fn shutdown_sends_final_usage_and_waits_for_the_answers() {
    let mut n = Net::new();
    n.associate();
    let (_, teid) = n.establish(0x51, gnb_far(), volume_urr());
    n.uplink(teid, 472).unwrap();
    n.cut = true;
    n.upf.handle(n.now, Input::Shutdown);
    n.step();
    assert!(!n.upf.is_drained());
    n.cut = false;
    n.advance(Duration::from_secs(3));
    assert!(n.upf.is_drained());
    let last = n.usage_reports().pop().unwrap();
    assert!(last.usage_report_trigger.contains(UsageReportTrigger::TEBUR));
    assert_eq!(volume(&last).total_volume, Some(500));
    // No new sessions while stopping.
    let r = n.request(Pdu::session(
        0,
        SessionEstablishmentRequest::new(
            NodeId::Ipv4(SMF_IP),
            Fseid::v4(7, SMF_IP),
            vec![CreatePdr::new(PdrId(1), Precedence(1), Pdi::new(SourceInterface::Core)).far_id(FarId(1))],
            vec![CreateFar::drop(FarId(1))],
        ),
    ));
    assert_eq!(cause_and_offending(&r).0, Cause::RequestRejected);
}

#[test]
fn ue_address_allocated_here() {
    let mut n = Net::new();
    n.associate();
    let req = SessionEstablishmentRequest::new(
        NodeId::Ipv4(SMF_IP),
        Fseid::v4(5, SMF_IP),
        vec![
            CreatePdr::new(
                PdrId(1),
                Precedence(1),
                Pdi::new(SourceInterface::Core).ue_ip_addresses([UeIpAddress {
                    choose_ipv4: true,
                    destination: true,
                    ..Default::default()
                }]),
            )
            .far_id(FarId(1)),
        ],
        vec![gnb_far().far_id_renamed(1)],
    );
    let Message::SessionEstablishmentResponse(r) = n.request(Pdu::session(0, req)).message else {
        panic!()
    };
    assert_eq!(r.cause, Cause::RequestAccepted);
    let ue = r.created_pdrs[0].ue_ip_addresses[0];
    assert_eq!(ue.ipv4, Some(Ipv4Addr::new(10, 45, 0, 2)));
    assert!(
        n.upf
            .tables()
            .load()
            .downlink_v4
            .contains_key(&u32::from(Ipv4Addr::new(10, 45, 0, 2)))
    );
}

trait Rename {
    fn far_id_renamed(self, id: u32) -> Self;
}

impl Rename for CreateFar {
    fn far_id_renamed(mut self, id: u32) -> Self {
        self.far_id = FarId(id);
        self
    }
}

#[test]
fn sdf_precedence_gate_and_mbr() {
    let mut n = Net::new();
    n.associate();
    // Two downlink PDRs: UDP from port 53 (precedence 10) to FAR 3 with a closed
    // downlink gate; the rest (precedence 255) to the gNB, policed at 8 kbit/s.
    let req = SessionEstablishmentRequest::new(
        NodeId::Ipv4(SMF_IP),
        Fseid::v4(5, SMF_IP),
        vec![
            CreatePdr::new(
                PdrId(1),
                Precedence(10),
                Pdi::new(SourceInterface::Core)
                    .ue_ip_addresses([UeIpAddress::destination_v4(UE_IP)])
                    .sdf_filters([SdfFilter::flow("permit out 17 from any 4000 to assigned")]),
            )
            .far_id(FarId(2))
            .qer_ids([QerId(2)]),
            CreatePdr::new(
                PdrId(2),
                Precedence(255),
                Pdi::new(SourceInterface::Core).ue_ip_addresses([UeIpAddress::destination_v4(UE_IP)]),
            )
            .far_id(FarId(2))
            .qer_ids([QerId(1)]),
        ],
        vec![gnb_far()],
    )
    .create_qers([
        CreateQer::new(QerId(1), GateStatus::OPEN).mbr(BitRate { uplink: 0, downlink: 8 }),
        CreateQer::new(
            QerId(2),
            GateStatus {
                uplink: Gate::Open,
                downlink: Gate::Closed,
            },
        ),
    ]);
    let Message::SessionEstablishmentResponse(r) = n.request(Pdu::session(0, req)).message else {
        panic!()
    };
    assert_eq!(r.cause, Cause::RequestAccepted);
    // ip_udp() sends from port 4000: the SDF PDR wins, its gate is closed.
    assert_eq!(n.downlink(100, 0), Err(Some(DropReason::GateClosed)));
    let r = n.modify(
        n.upf.seids()[0].0,
        SessionModificationRequest::new().remove_pdrs([RemovePdr::new(PdrId(1))]),
    );
    assert_eq!(r.cause, Cause::RequestAccepted);
    // 8 kbit/s = 1000 octets/s, a 3000-octet bucket: two 1428-octet packets pass,
    // the third does not; a second later one more passes.
    assert!(n.downlink(1400, 0).is_ok());
    assert!(n.downlink(1400, 0).is_ok());
    assert_eq!(n.downlink(1400, 0), Err(Some(DropReason::Mbr)));
    n.now += Duration::from_millis(1500);
    assert!(n.downlink(1400, 0).is_ok());
}

#[test]
fn time_threshold_and_time_quota() {
    let mut n = Net::new();
    n.associate();
    let urr = CreateUrr::new(
        UrrId(1),
        MeasurementMethod::new(MeasurementMethod::VOLUM | MeasurementMethod::DURAT),
        ReportingTriggers::new(ReportingTriggers::TIMTH | ReportingTriggers::TIMQU),
    )
    .time_threshold(Duration::from_secs(5))
    .time_quota(Duration::from_secs(12));
    let (_, teid) = n.establish(0x51, gnb_far(), urr);
    n.uplink(teid, 72).unwrap();
    n.advance(Duration::from_secs(5));
    let urs = n.usage_reports();
    assert_eq!(urs.len(), 1);
    assert!(urs[0].usage_report_trigger.contains(UsageReportTrigger::TIMTH));
    assert_eq!(urs[0].duration_measurement, Some(Duration::from_secs(5)));
    assert_eq!(volume(&urs[0]).total_volume, Some(100));
    n.advance(Duration::from_secs(7));
    let urs = n.usage_reports();
    // t = 10: TIMTH again; t = 12: the time quota is used up: reported, traffic stops.
    assert!(
        urs.iter()
            .any(|u| u.usage_report_trigger.contains(UsageReportTrigger::TIMQU))
    );
    assert_eq!(n.uplink(teid, 72), Err(DropReason::Quota));
    let total: Duration = urs.iter().filter_map(|u| u.duration_measurement).sum();
    assert_eq!(total, Duration::from_secs(12), "durations add up exactly");
}

#[test]
fn a_refused_modification_keeps_the_session_s_addresses() {
    let mut n = Net::new();
    n.associate();
    let (seid, teid) = n.establish(0x51, gnb_far(), volume_urr());
    let r = n.modify(
        seid,
        SessionModificationRequest::new().update_urrs([
            UpdateUrr::new(UrrId(1)).volume_quota(Volume::total(10)),
            UpdateUrr::new(UrrId(9)),
        ]),
    );
    assert_eq!(r.cause, Cause::RuleCreationModificationFailure);
    // The refused quota never reached the data path.
    assert_eq!(n.uplink(teid, 72), Ok(100));
    // Another session cannot take UE_IP, which still belongs to the first.
    let req = SessionEstablishmentRequest::new(
        NodeId::Ipv4(SMF_IP),
        Fseid::v4(0x52, SMF_IP),
        vec![
            CreatePdr::new(
                PdrId(1),
                Precedence(1),
                Pdi::new(SourceInterface::Core).ue_ip_addresses([UeIpAddress::destination_v4(UE_IP)]),
            )
            .far_id(FarId(2)),
        ],
        vec![gnb_far()],
    );
    let r = n.request(Pdu::session(0, req));
    assert_eq!(cause_and_offending(&r).0, Cause::RuleCreationModificationFailure);
    assert!(n.downlink(10, 0).is_ok());
}

#[test]
fn zero_thresholds_and_durations_are_no_triggers() {
    let mut n = Net::new();
    n.associate();
    let urr = CreateUrr::new(
        UrrId(1),
        MeasurementMethod::new(MeasurementMethod::VOLUM),
        ReportingTriggers::new(ReportingTriggers::VOLTH | ReportingTriggers::TIMTH),
    )
    .volume_threshold(Volume::total(0))
    .time_threshold(Duration::ZERO);
    let (_, teid) = n.establish(0x51, gnb_far(), urr);
    n.uplink(teid, 72).unwrap();
    n.uplink(teid, 72).unwrap();
    n.advance(Duration::from_secs(5));
    assert!(n.usage_reports().is_empty());
    assert!(n.upf.poll_timeout().is_some_and(|t| t > n.now));
}
