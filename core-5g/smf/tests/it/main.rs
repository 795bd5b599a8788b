//! hexcore-smf integration tests: procedures on the sans-IO bench (`common`), and the
//! glue over real UDP loopback (`glue`).
#![allow(clippy::unwrap_used)]

mod common;
mod glue;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hexcore_nas::ie::{
    ExtendedPco, FilterComponent, PacketFilterList, PduAddressValue, PduSessionType, QosFlowParameter,
};
use hexcore_nas::sm::{
    PduSessionModificationComplete, PduSessionModificationRequest, PduSessionReleaseComplete, PduSessionReleaseRequest,
    SmHeader,
};
use hexcore_nas::{Message, SmCause};
use hexcore_ngap::procedures::{
    PduSessionResourceModifyRequestTransfer, PduSessionResourceReleaseCommandTransfer,
    PduSessionResourceSetupRequestTransfer,
};
use hexcore_pfcp::ie::*;
use hexcore_pfcp::{Message as Pfcp, SessionReportRequest};
use hexcore_sbi::{AmfRequest, N2SmInfo, N2SmInfoType, ReleaseCause, RequestType, SmfRequest, UpCnxState};
use hexcore_smf::{Ambr, Settings, SubscriptionFailure};

use common::*;

fn n1(m: impl Into<Message>) -> Vec<u8> {
    m.into().encode()
}

fn hdr(psi: u8, pti: u8) -> SmHeader {
    SmHeader {
        pdu_session_id: psi,
        pti,
    }
}

fn released(out: &[AmfRequest], psi: u8) -> bool {
    out.iter()
        .any(|r| matches!(r, AmfRequest::SmContextReleased { context } if context.pdu_session_id == psi))
}

#[test]
fn association_and_heartbeats() {
    let mut lab = Lab::new();
    assert!(lab.smf.association_up(UPF.parse().unwrap()));
    assert!(matches!(lab.upf.log[0].message, Pfcp::AssociationSetupRequest(_)));
    lab.advance(Duration::from_secs(35));
    let beats = lab
        .upf
        .log
        .iter()
        .filter(|p| matches!(p.message, Pfcp::HeartbeatRequest(_)))
        .count();
    assert_eq!(beats, 3);
}

#[test]
fn association_retried_until_up() {
    let mut s = settings();
    s.smf.pfcp.association_retry_secs = 5;
    let mut lab = Lab::with(s);
    // The first setup got through (Lab::with steps); unplug and restart the UPF
    // before anything else: heartbeats are lost, the association goes down…
    lab.upf.down = true;
    lab.advance(Duration::from_secs(10 + 3 * 4 + 1));
    assert!(!lab.smf.association_up(UPF.parse().unwrap()));
    // …and comes back once the UPF answers again.
    lab.upf.down = false;
    lab.advance(Duration::from_secs(30));
    assert!(lab.smf.association_up(UPF.parse().unwrap()));
}

#[test]
fn establishment_ueransim_request() {
    let mut lab = Lab::new();
    lab.take_sent();
    lab.send(create(1, Some("internet"), &EST_REQ_UERANSIM));

    // PFCP Session Establishment Request, decoded with hexcore-pfcp.
    let est = lab
        .take_sent()
        .into_iter()
        .find_map(|p| match p.message {
            Pfcp::SessionEstablishmentRequest(r) => Some((p.header, r)),
            _ => None,
        })
        .expect("establishment request");
    let (header, req) = est;
    assert_eq!(header.seid, Some(0));
    assert_eq!(req.node_id, NodeId::Ipv4(Ipv4Addr::LOCALHOST));
    let ue = Ipv4Addr::new(10, 45, 0, 2);
    let ul = &req.create_pdrs[0];
    assert_eq!(ul.pdr_id, PdrId(1));
    assert_eq!(ul.pdi.source_interface, SourceInterface::Access);
    assert!(matches!(ul.pdi.local_fteid, Some(Fteid::Choose { ipv4: true, .. })));
    assert_eq!(
        ul.pdi.network_instance.as_ref().map(DnsName::name).as_deref(),
        Some("internet")
    );
    assert_eq!(ul.pdi.qfis, [Qfi(1)]);
    assert_eq!(ul.outer_header_removal, Some(OuterHeaderRemoval::GTPU_UDP_IPV4));
    assert_eq!(
        (ul.far_id, &ul.urr_ids[..], &ul.qer_ids[..]),
        (Some(FarId(1)), &[UrrId(1)][..], &[QerId(1)][..])
    );
    let dl = &req.create_pdrs[1];
    assert_eq!(dl.pdi.source_interface, SourceInterface::Core);
    assert_eq!(dl.pdi.ue_ip_addresses, [UeIpAddress::destination_v4(ue)]);
    assert_eq!(req.create_fars[0].apply_action, ApplyAction::new(ApplyAction::FORW));
    assert_eq!(
        req.create_fars[0]
            .forwarding_parameters
            .as_ref()
            .map(|f| f.destination_interface),
        Some(DestinationInterface::Core)
    );
    assert_eq!(
        req.create_fars[1].apply_action,
        ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP)
    );
    let urr = &req.create_urrs[0];
    assert_eq!(urr.measurement_method, MeasurementMethod::new(MeasurementMethod::VOLUM));
    assert_eq!(urr.reporting_triggers, ReportingTriggers::new(ReportingTriggers::PERIO));
    assert_eq!(urr.measurement_period, Some(Duration::from_secs(60)));
    let qer = &req.create_qers[0];
    assert_eq!(
        qer.mbr,
        Some(BitRate {
            uplink: 100_000,
            downlink: 1_000_000
        })
    );
    assert_eq!(qer.qfi, Some(Qfi(1)));

    // N1N2: the Accept and the setup transfer, decoded with hexcore-nas / -ngap.
    let out = lab.take_amf();
    assert_eq!(out.len(), 1);
    let (Some(Message::PduSessionEstablishmentAccept(a)), Some(n2)) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    assert_eq!(a.header, hdr(1, 1));
    assert_eq!(a.selected_pdu_session_type, PduSessionType::Ipv4);
    let rule = &a.authorized_qos_rules.0[0];
    assert_eq!(
        (rule.id, rule.default_rule, rule.precedence, rule.qfi),
        (1, true, Some(255), 1)
    );
    let PacketFilterList::Filters(f) = &rule.filters else {
        panic!()
    };
    assert_eq!(f[0].components, [FilterComponent::MatchAll]);
    assert_eq!(a.session_ambr.downlink.bps(), Some(1_000_000_000));
    assert_eq!(a.session_ambr.uplink.bps(), Some(100_000_000));
    assert_eq!(
        a.pdu_address.as_ref().map(|p| &p.value),
        Some(&PduAddressValue::Ipv4(ue))
    );
    assert_eq!(a.s_nssai.map(|s| (s.sst, s.sd)), Some((1, None)));
    assert_eq!(a.dnn.as_ref().map(|d| d.name()).as_deref(), Some("internet"));
    assert_eq!(a.cause, None);
    let flows = a.authorized_qos_flow_descriptions.as_ref().unwrap();
    assert_eq!(flows.0[0].parameters, [QosFlowParameter::FiveQi(9)]);
    let pco: &ExtendedPco = a.extended_pco.as_ref().unwrap();
    let dns: Vec<&[u8]> = pco
        .items
        .iter()
        .filter(|i| i.id == 0x000d)
        .map(|i| &i.contents[..])
        .collect();
    assert_eq!(dns, [&[8, 8, 8, 8][..], &[1, 1, 1, 1][..]]);
    assert!(pco.item(0x0010).is_none(), "MTU not asked");

    assert_eq!(n2.kind, N2SmInfoType::PduResSetupReq);
    let t = PduSessionResourceSetupRequestTransfer::decode(&n2.transfer).unwrap();
    assert_eq!(t.ul_tunnel.transport_layer_address, UPF_N3.octets());
    let (up_seid, up) = lab.upf.only_session();
    assert_eq!(t.ul_tunnel.teid, up.teid);
    assert_eq!(
        (
            t.qos_flows[0].qfi,
            t.qos_flows[0].five_qi,
            t.qos_flows[0].arp.priority_level
        ),
        (1, 9, 8)
    );
    assert_eq!(t.session_ambr.map(|a| a.downlink), Some(1_000_000_000));
    assert_eq!(t.pdu_session_type, hexcore_ngap::procedures::PDUSessionType::ipv4);

    // The gNB's tunnel → Update FAR 2: forward with GTP-U towards 127.0.0.1 TEID 1.
    lab.send(update(1, None, Some(setup_rsp()), None));
    let m = &lab.upf.sessions[&up_seid].modifications[0];
    let far = &m.update_fars[0];
    assert_eq!(far.far_id, FarId(2));
    assert_eq!(far.apply_action, Some(ApplyAction::new(ApplyAction::FORW)));
    let fp = far.update_forwarding_parameters.as_ref().unwrap();
    assert_eq!(
        fp.outer_header_creation,
        Some(OuterHeaderCreation::gtpu_v4(1, Ipv4Addr::LOCALHOST))
    );
    assert_eq!(lab.smf.sessions()[0].state, "active");
    assert!(lab.take_amf().is_empty());
}

#[test]
fn establishment_ipv4v6_gets_ipv4_with_cause_50_and_mtu() {
    let mut lab = Lab::new();
    lab.send(create(1, None, &EST_REQ_SIM));
    let out = lab.take_amf();
    let (Some(Message::PduSessionEstablishmentAccept(a)), _) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    assert_eq!(a.cause, Some(SmCause::PduSessionTypeIpv4OnlyAllowed));
    assert_eq!(a.selected_pdu_session_type, PduSessionType::Ipv4);
    // Default DNN: the request named none.
    assert_eq!(a.dnn.unwrap().name(), "internet");
    assert!(a.extended_pco.is_none());

    // MTU and DNS IPv6 answered when asked (and configured).
    let mut s = settings();
    s.smf.dnns[0]
        .dns
        .push(IpAddr::V6("2001:4860:4860::8888".parse().unwrap()));
    let mut lab = Lab::with(s);
    let req = est_req(2, 3, |m| {
        let pco = m.extended_pco.as_mut().unwrap();
        pco.items.push(hexcore_nas::ie::PcoItem {
            id: 0x0010,
            contents: vec![],
        });
        pco.items.push(hexcore_nas::ie::PcoItem {
            id: 0x0003,
            contents: vec![],
        });
    });
    lab.send(create(2, Some("internet"), &req));
    let out = lab.take_amf();
    let (Some(Message::PduSessionEstablishmentAccept(a)), _) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    let pco = a.extended_pco.unwrap();
    assert_eq!(pco.item(0x0010).unwrap().contents, 1400u16.to_be_bytes());
    assert_eq!(pco.item(0x0003).unwrap().contents.len(), 16);
}

/// One establishment that must be rejected with `cause`.
fn expect_reject(lab: &mut Lab, request: SmfRequest, cause: u8) {
    let psi = request.context().pdu_session_id;
    lab.send(request);
    let out = lab.take_amf();
    let n1 = out
        .iter()
        .find_map(|r| n1n2(r).0)
        .unwrap_or_else(|| panic!("no N1 for cause #{cause}: {out:?}"));
    assert!(matches!(n1, Message::PduSessionEstablishmentReject(_)), "{n1:?}");
    assert_eq!(sm_cause_of(&n1), Some(cause), "{n1:?}");
    assert!(released(&out, psi), "SmContextReleased after #{cause}");
}

#[test]
fn every_reject_cause() {
    // #27: a DNN this SMF does not serve; no DNN while the default is not subscribed.
    let mut lab = Lab::new();
    expect_reject(&mut lab, create(1, Some("ims"), &est_req(1, 1, |_| {})), 27);
    let mut sub = subscription();
    sub.dnns = vec!["other".into()];
    lab.udm = Udm::Answer(Ok(sub));
    expect_reject(&mut lab, create(1, None, &est_req(1, 1, |_| {})), 27);
    // #33: DNN served but not subscribed; S-NSSAI not subscribed.
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(1, 1, |_| {})), 33);
    lab.udm = Udm::Answer(Ok(subscription()));
    let mut req = create(1, Some("internet"), &est_req(1, 1, |_| {}));
    if let SmfRequest::CreateSmContext { s_nssai, .. } = &mut req {
        *s_nssai = Some(hexcore_sbi::Snssai { sst: 2, sd: None });
    }
    expect_reject(&mut lab, req, 33);
    // #29 / #38: the UDM.
    lab.udm = Udm::Answer(Err(SubscriptionFailure::UnknownSubscriber));
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(1, 1, |_| {})), 29);
    lab.udm = Udm::Answer(Err(SubscriptionFailure::Unavailable));
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(1, 1, |_| {})), 38);
    lab.udm = Udm::Answer(Ok(subscription()));
    // #50 IPv6 only; #28 Ethernet; #68 SSC mode 2.
    let v6 = est_req(1, 1, |m| m.pdu_session_type = Some(PduSessionType::Ipv6));
    expect_reject(&mut lab, create(1, Some("internet"), &v6), 50);
    let eth = est_req(1, 1, |m| m.pdu_session_type = Some(PduSessionType::Ethernet));
    expect_reject(&mut lab, create(1, Some("internet"), &eth), 28);
    let ssc2 = est_req(1, 1, |m| m.ssc_mode = Some(hexcore_nas::ie::SscMode::Mode2));
    lab.send(create(1, Some("internet"), &ssc2));
    let out = lab.take_amf();
    let Some(Message::PduSessionEstablishmentReject(r)) = n1n2(&out[0]).0 else {
        panic!()
    };
    assert_eq!((r.cause.value(), r.allowed_ssc_mode.map(|f| f.0)), (68, Some(1)));
    // #43: PSI 0 and a PSI that is not the context's.
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(0, 1, |_| {})), 43);
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(2, 1, |_| {})), 43);
    // #81: PTI 0 and 255.
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(1, 0, |_| {})), 81);
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(1, 255, |_| {})), 81);
    // #96: truncated (the mandatory integrity protection maximum data rate cut).
    expect_reject(&mut lab, create(1, Some("internet"), &EST_REQ_UERANSIM[..5]), 96);
    // #54 existing PDU session, #32 emergency.
    let mut req = create(1, Some("internet"), &est_req(1, 1, |_| {}));
    if let SmfRequest::CreateSmContext { request_type, .. } = &mut req {
        *request_type = RequestType::ExistingPduSession;
    }
    expect_reject(&mut lab, req.clone(), 54);
    if let SmfRequest::CreateSmContext { request_type, .. } = &mut req {
        *request_type = RequestType::InitialEmergencyRequest;
    }
    expect_reject(&mut lab, req, 32);
    // #35: a second establishment of the UE with the PTI of one in progress.
    lab.udm = Udm::Hold;
    lab.send(create(1, Some("internet"), &est_req(1, 7, |_| {})));
    expect_reject(&mut lab, create(2, Some("internet"), &est_req(2, 7, |_| {})), 35);
    lab.udm = Udm::Answer(Ok(subscription()));
    assert_eq!(lab.smf.session_count(), 0);

    // #70: DNN offered in another slice only.
    let mut s = settings();
    s.smf.dnns[0].slices = vec!["2".into()];
    let mut lab = Lab::with(s);
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(1, 1, |_| {})), 70);

    // #26: the UPF refuses; the UPF does not answer (after N1 retransmissions); no
    // associated UPF.
    let mut lab = Lab::new();
    lab.upf.refuse = Some(hexcore_pfcp::Cause::NoResourcesAvailable);
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(1, 1, |_| {})), 26);
    lab.upf.refuse = None;
    lab.upf.down = true;
    lab.send(create(1, Some("internet"), &est_req(1, 1, |_| {})));
    assert!(lab.take_amf().is_empty());
    lab.advance(Duration::from_secs(3 * 4 + 1));
    let out = lab.take_amf();
    assert_eq!(n1n2(&out[0]).0.as_ref().and_then(sm_cause_of), Some(26), "{out:?}");
    assert!(released(&out, 1));
    assert_eq!(lab.smf.pool_usage()[0].1, 0, "address back in the pool");
    lab.advance(Duration::from_secs(60));
    expect_reject(&mut lab, create(1, Some("internet"), &est_req(1, 1, |_| {})), 26);
}

#[test]
fn malformed_and_unexpected_5gsm() {
    let mut lab = Lab::new();
    // Not an establishment request on CreateSmContext: 5GSM STATUS #98.
    lab.send(create(
        1,
        Some("internet"),
        &n1(PduSessionReleaseRequest::new(hdr(1, 1))),
    ));
    let out = lab.take_amf();
    assert_eq!(n1n2(&out[0]).0.as_ref().and_then(sm_cause_of), Some(98));
    assert!(released(&out, 1));
    // Garbage with no 5GSM header: no N1, the context is released.
    lab.send(create(1, Some("internet"), &[0x7e, 0x00]));
    let out = lab.take_amf();
    assert_eq!(out.len(), 1);
    assert!(released(&out, 1));
    // An unknown message type: #97 in a STATUS.
    lab.send(create(1, Some("internet"), &[0x2e, 0x01, 0x01, 0xc4]));
    let out = lab.take_amf();
    let AmfRequest::N1N2MessageTransfer { n1_sm: Some(b), .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(b, &[0x2e, 0x01, 0x01, 0xd6, 97]);
    assert!(released(&out, 1));

    // On an established session: a truncated release request → STATUS #96; a
    // release complete with no release running → #98; N1 for an unknown PSI → #43.
    lab.establish(1);
    lab.send(update(1, Some(vec![0x2e, 0x01, 0x05, 0xd1, 0x59]), None, None));
    let out = lab.take_amf();
    assert_eq!(n1n2(&out[0]).0.as_ref().and_then(sm_cause_of), Some(96));
    lab.send(update(
        1,
        Some(n1(PduSessionReleaseComplete::new(hdr(1, 5)))),
        None,
        None,
    ));
    let out = lab.take_amf();
    assert_eq!(n1n2(&out[0]).0.as_ref().and_then(sm_cause_of), Some(98));
    lab.send(update(
        9,
        Some(n1(PduSessionReleaseRequest::new(hdr(9, 4)))),
        None,
        None,
    ));
    let out = lab.take_amf();
    assert!(matches!(n1n2(&out[0]).0, Some(Message::PduSessionReleaseReject(_))));
    assert_eq!(n1n2(&out[0]).0.as_ref().and_then(sm_cause_of), Some(43));
    assert!(released(&out, 9));
    assert_eq!(lab.smf.session_count(), 1);
}

#[test]
fn pool_exhaustion_and_reuse() {
    let mut s = settings();
    s.smf.dnns[0].pool = "10.45.0.0/29".into();
    let mut lab = Lab::with(s);
    let mut addrs = vec![];
    for psi in 1..=5 {
        let (Some(Message::PduSessionEstablishmentAccept(a)), _) = n1n2(&lab.establish(psi)) else {
            panic!()
        };
        let PduAddressValue::Ipv4(ip) = a.pdu_address.unwrap().value else {
            panic!()
        };
        addrs.push(ip);
    }
    assert_eq!(addrs.first(), Some(&Ipv4Addr::new(10, 45, 0, 2)));
    assert_eq!(addrs.last(), Some(&Ipv4Addr::new(10, 45, 0, 6)));
    expect_reject(&mut lab, create(6, Some("internet"), &est_req(6, 6, |_| {})), 26);
    // Local release (deregistration) frees 10.45.0.4; the next session gets it.
    lab.send(SmfRequest::ReleaseSmContext {
        context: ctx(3),
        cause: ReleaseCause::Deregistration,
    });
    assert!(released(&lab.take_amf(), 3));
    assert_eq!(lab.upf.sessions.len(), 4, "PFCP session deleted");
    let (Some(Message::PduSessionEstablishmentAccept(a)), _) = n1n2(&lab.establish(6)) else {
        panic!()
    };
    assert_eq!(
        a.pdu_address.unwrap().value,
        PduAddressValue::Ipv4(Ipv4Addr::new(10, 45, 0, 4))
    );
}

#[test]
fn ue_requested_release_with_final_usage() {
    let mut lab = Lab::new();
    lab.establish(1);
    let (_, up) = lab.upf.only_session();
    let cp_seid = up.cp_seid;
    lab.take_sent();
    lab.send(update(
        1,
        Some(n1(PduSessionReleaseRequest::new(hdr(1, 9)))),
        None,
        None,
    ));
    // PFCP deletion first (TS 23.502 §4.3.4.2 step 2), with the UPF's SEID.
    assert!(
        lab.take_sent()
            .iter()
            .any(|p| matches!(p.message, Pfcp::SessionDeletionRequest(_)))
    );
    assert!(lab.upf.sessions.is_empty());
    let out = lab.take_amf();
    let (Some(Message::PduSessionReleaseCommand(c)), Some(n2)) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    assert_eq!((c.header, c.cause), (hdr(1, 9), SmCause::RegularDeactivation));
    assert_eq!(n2.kind, N2SmInfoType::PduResRelCmd);
    let t = PduSessionResourceReleaseCommandTransfer::decode(&n2.transfer).unwrap();
    assert_eq!(t.cause, hexcore_ngap::Cause::Nas(hexcore_ngap::CauseNas::NormalRelease));
    // The final usage report is in the record file.
    let records = lab.records();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(
        (r.supi.as_str(), r.pdu_session_id, r.dnn.as_str()),
        (SUPI, 1, "internet")
    );
    assert_eq!(
        (r.uplink_octets, r.downlink_octets, r.total_octets),
        (1000, 9000, 10_000)
    );
    assert_eq!((r.uplink_packets, r.downlink_packets), (10, 20));
    assert_eq!((r.ur_seqn, r.seid), (7, cp_seid));
    assert_eq!(r.ue_ipv4, Ipv4Addr::new(10, 45, 0, 2));
    assert_eq!((r.start_time, r.end_time), (Some(1_767_225_600), Some(1_767_225_660)));
    assert_eq!(r.triggers, ["TERMR"]);
    let text = std::fs::read_to_string(lab.usage_path()).unwrap();
    assert!(text.contains("\"upf\":\"127.0.0.1:8805\""), "{text}");
    // The gNB's release response changes nothing; the Release Complete ends it.
    lab.send(update(
        1,
        None,
        Some(N2SmInfo {
            kind: N2SmInfoType::PduResRelRsp,
            transfer: vec![0x00],
        }),
        None,
    ));
    assert_eq!(lab.smf.session_count(), 1);
    lab.send(update(
        1,
        Some(n1(PduSessionReleaseComplete::new(hdr(1, 9)))),
        None,
        None,
    ));
    assert!(released(&lab.take_amf(), 1));
    assert_eq!(lab.smf.session_count(), 0);
    assert_eq!(lab.smf.pool_usage()[0].1, 0);
}

#[test]
fn network_requested_release_retransmits_then_gives_up() {
    let mut lab = Lab::new();
    lab.establish(1);
    // An idle UE: no N2 in the release.
    lab.send(update(1, None, None, Some(UpCnxState::Deactivated)));
    lab.take_amf();
    lab.smf
        .release_session(lab.now, &ctx(1), SmCause::InsufficientResources)
        .unwrap();
    lab.step();
    let out = lab.take_amf();
    let (Some(Message::PduSessionReleaseCommand(c)), n2) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    assert_eq!((c.header.pti, c.cause), (0, SmCause::InsufficientResources));
    assert!(n2.is_none());
    assert_eq!(
        lab.smf.release_session(lab.now, &ctx(1), SmCause::RegularDeactivation),
        Err(hexcore_smf::ApiError::Busy)
    );
    // T3592: four retransmissions, then a local release on the fifth expiry.
    lab.advance(Duration::from_secs(16 * 4 + 1));
    let out = lab.take_amf();
    assert_eq!(out.len(), 4);
    assert!(
        out.iter()
            .all(|r| matches!(n1n2(r).0, Some(Message::PduSessionReleaseCommand(_))))
    );
    lab.advance(Duration::from_secs(16));
    assert!(released(&lab.take_amf(), 1));
    assert_eq!(lab.smf.session_count(), 0);
    assert_eq!(
        lab.smf.release_session(lab.now, &ctx(1), SmCause::RegularDeactivation),
        Err(hexcore_smf::ApiError::NoSession)
    );
}

#[test]
fn deactivation_downlink_data_and_service_request() {
    let mut lab = Lab::new();
    lab.establish(1);
    let (up_seid, up) = lab.upf.only_session();
    let (cp_seid, teid) = (up.cp_seid, up.teid);
    // AN release: the DL FAR buffers and notifies.
    lab.send(update(1, None, None, Some(UpCnxState::Deactivated)));
    let m = lab.upf.sessions[&up_seid].modifications.last().unwrap().clone();
    assert_eq!(
        m.update_fars[0].apply_action,
        Some(ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP))
    );
    assert!(lab.take_amf().is_empty());
    // Downlink data: N1N2 with N2 only, once per buffering period.
    let dldr = SessionReportRequest::new(ReportType::new(ReportType::DLDR))
        .downlink_data_report(DownlinkDataReport::new(vec![PdrId(2)]));
    lab.report(cp_seid, dldr.clone());
    let out = lab.take_amf();
    assert_eq!(out.len(), 1);
    let (n1, Some(n2)) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    assert!(n1.is_none());
    assert_eq!(n2.kind, N2SmInfoType::PduResSetupReq);
    assert_eq!(
        PduSessionResourceSetupRequestTransfer::decode(&n2.transfer)
            .unwrap()
            .ul_tunnel
            .teid,
        teid
    );
    assert!(
        matches!(&lab.upf.responses.last().unwrap().message, Pfcp::SessionReportResponse(r) if r.cause == hexcore_pfcp::Cause::RequestAccepted)
    );
    lab.report(cp_seid, dldr);
    assert!(lab.take_amf().is_empty(), "paged once per buffering period");
    // Service Request: Activation with the same UPF tunnel, then the gNB's tunnel.
    lab.send(update(1, None, None, Some(UpCnxState::Activating)));
    let out = lab.take_amf();
    let AmfRequest::Activation { n2_sm: Some(n2), .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        PduSessionResourceSetupRequestTransfer::decode(&n2.transfer)
            .unwrap()
            .ul_tunnel
            .teid,
        teid
    );
    lab.send(update(1, None, Some(setup_rsp()), None));
    let m = lab.upf.sessions[&up_seid].modifications.last().unwrap();
    assert_eq!(m.update_fars[0].apply_action, Some(ApplyAction::new(ApplyAction::FORW)));
    // A failed re-activation keeps the session.
    lab.send(update(1, None, None, Some(UpCnxState::Deactivated)));
    lab.send(update(1, None, None, Some(UpCnxState::Activating)));
    lab.send(update(
        1,
        None,
        Some(N2SmInfo {
            kind: N2SmInfoType::PduResSetupFail,
            transfer: vec![0],
        }),
        None,
    ));
    assert_eq!(lab.smf.sessions()[0].state, "inactive");
    // Activation of an unknown session: none, and the AMF forgets it.
    lab.take_amf();
    lab.send(update(4, None, None, Some(UpCnxState::Activating)));
    let out = lab.take_amf();
    assert!(matches!(&out[0], AmfRequest::Activation { n2_sm: None, .. }));
    assert!(released(&out, 4));
}

#[test]
fn setup_failure_releases_new_session() {
    let mut lab = Lab::new();
    lab.send(create(1, Some("internet"), &EST_REQ_UERANSIM));
    lab.take_amf();
    lab.send(update(
        1,
        None,
        Some(N2SmInfo {
            kind: N2SmInfoType::PduResSetupFail,
            transfer: vec![0],
        }),
        None,
    ));
    assert!(released(&lab.take_amf(), 1));
    assert!(lab.upf.sessions.is_empty());
    assert_eq!(lab.smf.session_count(), 0);
}

#[test]
fn usage_reports_stored_before_acknowledged() {
    let mut lab = Lab::new();
    lab.establish(1);
    let cp_seid = lab.upf.only_session().1.cp_seid;
    let report = |seqn, ul, dl| {
        UsageReport::new(
            UrrId(1),
            UrSeqn(seqn),
            UsageReportTrigger::new(UsageReportTrigger::PERIO),
        )
        .volume_measurement(VolumeMeasurement {
            total_volume: Some(ul + dl),
            uplink_volume: Some(ul),
            downlink_volume: Some(dl),
            ..Default::default()
        })
    };
    lab.trace.clear();
    lab.report(
        cp_seid,
        SessionReportRequest::new(ReportType::new(ReportType::USAR)).usage_reports([report(0, 100, 200)]),
    );
    // The record reached the sink before the response left.
    assert_eq!(lab.trace, ["usage 1", "pfcp SessionReportResponse"]);
    let rsp = lab.upf.responses.pop().unwrap();
    let Pfcp::SessionReportResponse(r) = rsp.message else {
        panic!()
    };
    assert_eq!(r.cause, hexcore_pfcp::Cause::RequestAccepted);
    assert_eq!(rsp.header.seid, Some(lab.upf.only_session().0));
    let records = lab.records();
    assert_eq!(
        (
            records[0].uplink_octets,
            records[0].downlink_octets,
            records[0].triggers.clone()
        ),
        (100, 200, vec!["PERIO".to_string()])
    );
    // A sink that fails: the UPF hears System failure (77), not "accepted".
    lab.sink_fails = true;
    lab.report(
        cp_seid,
        SessionReportRequest::new(ReportType::new(ReportType::USAR)).usage_reports([report(1, 1, 1)]),
    );
    let Pfcp::SessionReportResponse(r) = lab.upf.responses.pop().unwrap().message else {
        panic!()
    };
    assert_eq!(r.cause, hexcore_pfcp::Cause::SystemFailure);
    lab.sink_fails = false;
    // Unknown SEID: Cause 65, SEID 0.
    lab.report(0xdead, SessionReportRequest::new(ReportType::new(ReportType::USAR)));
    let rsp = lab.upf.responses.pop().unwrap();
    let Pfcp::SessionReportResponse(r) = rsp.message else {
        panic!()
    };
    assert_eq!(r.cause, hexcore_pfcp::Cause::SessionContextNotFound);
    assert_eq!(rsp.header.seid, Some(0));
    // The response to a lost report is answered from the cache: one record only.
    lab.drop_to_smf = 0;
    let before = lab.records().len();
    lab.report(
        cp_seid,
        SessionReportRequest::new(ReportType::new(ReportType::USAR)).usage_reports([report(2, 5, 5)]),
    );
    assert_eq!(lab.records().len(), before + 1);
}

#[test]
fn pfcp_loss_is_retransmitted() {
    let mut lab = Lab::new();
    lab.drop_to_upf = 1;
    lab.send(create(1, Some("internet"), &EST_REQ_UERANSIM));
    assert!(lab.take_amf().is_empty());
    lab.advance(Duration::from_secs(3));
    let out = lab.take_amf();
    assert!(matches!(
        n1n2(&out[0]).0,
        Some(Message::PduSessionEstablishmentAccept(_))
    ));
    // Lost response: the UPF answers the retransmission from its cache, one session.
    lab.drop_to_smf = 1;
    lab.send(update(1, None, Some(setup_rsp()), None));
    lab.advance(Duration::from_secs(3));
    assert_eq!(lab.upf.only_session().1.modifications.len(), 1);
    assert_eq!(lab.smf.pfcp_stats().retransmissions, 2);
}

#[test]
fn modification_ue_and_network_requested() {
    let mut lab = Lab::new();
    lab.establish(1);
    // UE asks nothing the SMF cannot give: command (with the AMBR) and complete.
    let mut req = PduSessionModificationRequest::new(hdr(1, 4));
    req.sm_capability = Some(hexcore_nas::ie::RawValue(vec![0]));
    lab.send(update(1, Some(n1(req)), None, None));
    let out = lab.take_amf();
    let (Some(Message::PduSessionModificationCommand(c)), None) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    assert_eq!(c.header, hdr(1, 4));
    assert_eq!(c.session_ambr.unwrap().downlink.bps(), Some(1_000_000_000));
    lab.send(update(
        1,
        Some(n1(PduSessionModificationComplete::new(hdr(1, 4)))),
        None,
        None,
    ));
    assert_eq!(lab.smf.sessions()[0].state, "active");
    // UE asks for QoS rules: #37.
    let Ok(Message::PduSessionModificationCommand(cmd)) = Message::decode(&[
        0x2e, 0x05, 0x07, 0xcb, 0x7a, 0x00, 0x09, 0x01, 0x00, 0x06, 0x31, 0x31, 0x01, 0x01, 0xff, 0x01,
    ]) else {
        panic!()
    };
    let mut req = PduSessionModificationRequest::new(hdr(1, 5));
    req.requested_qos_rules = cmd.authorized_qos_rules;
    lab.send(update(1, Some(n1(req)), None, None));
    let out = lab.take_amf();
    assert!(matches!(
        n1n2(&out[0]).0,
        Some(Message::PduSessionModificationReject(_))
    ));
    assert_eq!(n1n2(&out[0]).0.as_ref().and_then(sm_cause_of), Some(37));

    // Network: a new session AMBR → QER update, command with PTI 0, N2 modify.
    let (up_seid, _) = lab.upf.only_session();
    let ambr = Ambr {
        uplink_bps: 50_000_000,
        downlink_bps: 100_000_000,
    };
    lab.smf.modify_session_ambr(lab.now, &ctx(1), ambr).unwrap();
    lab.step();
    let m = lab.upf.sessions[&up_seid].modifications.last().unwrap();
    assert_eq!(
        m.update_qers[0].mbr,
        Some(BitRate {
            uplink: 50_000,
            downlink: 100_000
        })
    );
    let out = lab.take_amf();
    let (Some(Message::PduSessionModificationCommand(c)), Some(n2)) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    assert_eq!(c.header.pti, 0);
    assert_eq!(c.session_ambr.unwrap().uplink.bps(), Some(50_000_000));
    assert_eq!(n2.kind, N2SmInfoType::PduResModReq);
    let t = PduSessionResourceModifyRequestTransfer::decode(&n2.transfer).unwrap();
    assert_eq!(
        t.session_ambr.map(|a| (a.uplink, a.downlink)),
        Some((50_000_000, 100_000_000))
    );
    // Busy until complete; T3591 retransmits; the complete ends it.
    assert_eq!(
        lab.smf.modify_session_ambr(lab.now, &ctx(1), ambr),
        Err(hexcore_smf::ApiError::Busy)
    );
    lab.advance(Duration::from_secs(16));
    assert_eq!(lab.take_amf().len(), 1);
    lab.send(update(
        1,
        Some(n1(PduSessionModificationComplete::new(hdr(1, 0)))),
        None,
        None,
    ));
    assert!(lab.smf.modify_session_ambr(lab.now, &ctx(1), ambr).is_ok());
}

#[test]
fn upf_restart_restores_sessions() {
    let mut lab = Lab::new();
    lab.establish(1);
    lab.establish(2);
    lab.send(update(2, None, None, Some(UpCnxState::Deactivated)));
    lab.take_amf();
    let old: Vec<(u64, u32)> = {
        let mut v: Vec<_> = lab.upf.sessions.values().map(|s| (s.cp_seid, s.teid)).collect();
        v.sort();
        v
    };
    lab.upf.restart(1_767_100_000);
    // The next heartbeat answer carries the new Recovery Time Stamp.
    lab.advance(Duration::from_secs(10));
    assert!(
        lab.events
            .iter()
            .any(|e| matches!(e, hexcore_smf::Event::UpfRestarted { .. }))
    );
    assert!(lab.smf.association_up(UPF.parse().unwrap()));
    assert_eq!(lab.upf.sessions.len(), 2, "both sessions re-established");
    for s in lab.upf.sessions.values() {
        assert!(
            !old.iter().any(|(cp, teid)| *cp == s.cp_seid || *teid == s.teid),
            "new SEIDs and TEIDs"
        );
        let ue = s.establishment.create_pdrs[1].pdi.ue_ip_addresses[0].ipv4.unwrap();
        let far = &s.establishment.create_fars[1];
        if ue == Ipv4Addr::new(10, 45, 0, 2) {
            // Session 1 was active: its DL FAR forwards to the gNB at once.
            assert_eq!(far.apply_action, ApplyAction::new(ApplyAction::FORW));
        } else {
            assert_eq!(ue, Ipv4Addr::new(10, 45, 0, 3), "same UE addresses");
            assert_eq!(
                far.apply_action,
                ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP)
            );
        }
    }
    // The active session's gNB hears the new UL tunnel; the idle one nothing.
    let out = lab.take_amf();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].context(), &ctx(1));
    let (None, Some(n2)) = n1n2(&out[0]) else {
        panic!("{out:?}")
    };
    assert_eq!(n2.kind, N2SmInfoType::PduResModReq);
    let t = PduSessionResourceModifyRequestTransfer::decode(&n2.transfer).unwrap();
    let new_teid = lab
        .upf
        .sessions
        .values()
        .find(|s| s.establishment.create_pdrs[1].pdi.ue_ip_addresses[0].ipv4 == Some(Ipv4Addr::new(10, 45, 0, 2)))
        .unwrap()
        .teid;
    assert_eq!(t.ul_tunnels[0].ul_tunnel.teid, new_teid);
    assert_eq!(t.ul_tunnels[0].dl_tunnel.teid, 1);
    // Reports come under the new SEIDs; the idle session activates with the new tunnel.
    lab.send(update(2, None, None, Some(UpCnxState::Activating)));
    let out = lab.take_amf();
    let AmfRequest::Activation { n2_sm: Some(n2), .. } = &out[0] else {
        panic!()
    };
    let t = PduSessionResourceSetupRequestTransfer::decode(&n2.transfer).unwrap();
    assert!(lab.upf.sessions.values().any(|s| s.teid == t.ul_tunnel.teid));
    assert_eq!(lab.smf.sessions().iter().filter(|s| s.state == "restoring").count(), 0);
}

#[test]
fn heartbeat_loss_then_same_upf_back() {
    let mut lab = Lab::new();
    lab.establish(1);
    let (old_up, old) = lab.upf.only_session();
    let old_cp = old.cp_seid;
    lab.upf.down = true;
    // A heartbeat at 10 s, retransmitted 3 times (T1 3 s): down at ~22 s.
    lab.advance(Duration::from_secs(23));
    assert!(!lab.smf.association_up(UPF.parse().unwrap()));
    assert_eq!(lab.smf.sessions()[0].state, "restoring");
    // The UPF did not restart and still holds the session: the SMF deletes it (its
    // usage recorded) and makes a new one.
    lab.upf.down = false;
    lab.advance(Duration::from_secs(6));
    assert!(lab.smf.association_up(UPF.parse().unwrap()));
    let (new_up, new) = lab.upf.only_session();
    assert_ne!((new_up, new.cp_seid), (old_up, old_cp));
    let records = lab.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].seid, old_cp);
    assert_eq!(lab.smf.sessions()[0].state, "active");
    // A report for the old SEID is not a session any more.
    lab.report(old_cp, SessionReportRequest::new(ReportType::new(ReportType::USAR)));
    let Pfcp::SessionReportResponse(r) = lab.upf.responses.pop().unwrap().message else {
        panic!()
    };
    assert_eq!(r.cause, hexcore_pfcp::Cause::SessionContextNotFound);
}

#[test]
fn upf_forgot_session_is_restored_on_cause_65() {
    let mut lab = Lab::new();
    lab.establish(1);
    lab.upf.sessions.clear();
    lab.send(update(1, None, None, Some(UpCnxState::Deactivated)));
    assert_eq!(lab.upf.sessions.len(), 1, "re-established after Cause 65");
    let s = lab.upf.only_session().1;
    assert_eq!(
        s.establishment.create_fars[1].apply_action,
        ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP)
    );
}

#[test]
fn establishment_for_a_psi_in_use_replaces_it() {
    let mut lab = Lab::new();
    lab.establish(1);
    lab.send(create(1, Some("internet"), &est_req(1, 2, |_| {})));
    let out = lab.take_amf();
    assert!(!released(&out, 1), "the AMF keeps the PDU session ID");
    assert!(matches!(
        n1n2(&out[0]).0,
        Some(Message::PduSessionEstablishmentAccept(_))
    ));
    assert_eq!(lab.upf.sessions.len(), 1);
    assert_eq!(lab.smf.session_count(), 1);
}

#[test]
fn settings_in_a_shared_file() {
    let text = "[amf]\nname = \"x\"\n[upf]\nanything = 1\n[smf.usage]\nperiod_secs = 5\nvolume_threshold = 1000000\nvolume_quota = 5000000\n";
    let s = Settings::from_toml_and_env(text, Vec::<(String, String)>::new()).unwrap();
    let mut lab = Lab::with(s);
    lab.send(create(1, Some("internet"), &EST_REQ_UERANSIM));
    let est = lab
        .upf
        .log
        .iter()
        .find_map(|p| match &p.message {
            Pfcp::SessionEstablishmentRequest(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    let urr = &est.create_urrs[0];
    assert_eq!(
        urr.reporting_triggers,
        ReportingTriggers::new(ReportingTriggers::PERIO | ReportingTriggers::VOLTH | ReportingTriggers::VOLQU)
    );
    assert_eq!(urr.measurement_period, Some(Duration::from_secs(5)));
    assert_eq!(urr.volume_threshold.and_then(|v| v.total), Some(1_000_000));
    assert_eq!(urr.volume_quota.and_then(|v| v.total), Some(5_000_000));
}

#[test]
fn garbage_never_panics() {
    let mut lab = Lab::new();
    lab.establish(1);
    // Every truncation of real and built 5GSM messages, on both AMF requests.
    let accept = match &lab.establish(2) {
        AmfRequest::N1N2MessageTransfer { n1_sm: Some(b), .. } => b.clone(),
        other => panic!("{other:?}"),
    };
    let mut samples = vec![EST_REQ_UERANSIM.to_vec(), EST_REQ_SIM.to_vec(), accept];
    samples.push(n1(PduSessionReleaseRequest::new(hdr(1, 3))));
    samples.push(n1(PduSessionModificationRequest::new(hdr(1, 3))));
    for sample in &samples {
        for n in 0..=sample.len() {
            lab.send(create(3, Some("internet"), &sample[..n]));
            lab.send(update(1, Some(sample[..n].to_vec()), None, None));
        }
    }
    // Broken N2 transfers.
    for kind in [
        N2SmInfoType::PduResSetupRsp,
        N2SmInfoType::PduResModRsp,
        N2SmInfoType::Other,
    ] {
        for n in 0..SETUP_RESPONSE_TRANSFER.len() {
            lab.send(update(
                2,
                None,
                Some(N2SmInfo {
                    kind,
                    transfer: SETUP_RESPONSE_TRANSFER[..n].to_vec(),
                }),
                None,
            ));
        }
    }
    // Pseudo-random PFCP datagrams from the UPF and from a stranger (deterministic).
    let mut x: u32 = 0x1234_5678;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let stranger: std::net::SocketAddr = "127.0.0.9:8805".parse().unwrap();
    for i in 0..2000 {
        let len = (rand() % 64) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
        if i % 2 == 0 && len > 4 {
            // A plausible header: version 1, a known message type.
            d[0] = 0x21;
            d[1] = [1, 2, 5, 6, 12, 50, 51, 52, 53, 54, 55, 56, 57][(rand() % 13) as usize];
        }
        let peer = if i % 3 == 0 { stranger } else { lab.upf.addr };
        lab.smf.handle(lab.now, hexcore_smf::Input::Pfcp { peer, bytes: d });
    }
    lab.step();
    // Still serving.
    lab.advance(Duration::from_secs(20));
    assert!(lab.smf.association_up(UPF.parse().unwrap()));
    // (The samples included a valid release request, so session 1 is on its way out.)
    lab.take_amf();
    let accept = lab.establish(5);
    assert!(matches!(
        n1n2(&accept).0,
        Some(Message::PduSessionEstablishmentAccept(_))
    ));
}
