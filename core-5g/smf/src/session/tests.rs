//! A [`PduSession`] driven directly, without the SMF: events in, effects out, on virtual
//! time (an origin and offsets from it). The messages are real: the UE's establishment
//! request is UERANSIM's, the gNB's Setup Response Transfer PacketRusher's; the UPF's
//! answers are built with hexcore-pfcp and go through its encoder and decoder; what the
//! session sends is decoded back with hexcore-nas, -ngap and -pfcp.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hexcore_nas::sm::{
    PduSessionModificationComplete, PduSessionModificationRequest, PduSessionReleaseComplete, PduSessionReleaseRequest,
    SmHeader,
};
use hexcore_nas::{Message, SmCause};
use hexcore_ngap::procedures::{
    PduSessionResourceModifyRequestTransfer, PduSessionResourceReleaseCommandTransfer,
    PduSessionResourceSetupRequestTransfer,
};
use hexcore_pfcp::ie::{
    ApplyAction, BitRate, CreatedPdr, DownlinkDataReport, Fseid, Fteid, NodeId, OuterHeaderCreation, PdrId, ReportType,
    UeIpAddress, UrSeqn, UrrId, UsageReport, UsageReportTrigger, VolumeMeasurement,
};
use hexcore_pfcp::{Cause, Message as Pfcp, Pdu, SessionEstablishmentResponse, SessionReportRequest};
use hexcore_sbi::{AmfRequest, N2SmInfo, N2SmInfoType, RequestType, SmContextRef, Snssai, UpCnxState};

use super::*;
use crate::settings::{Settings, SmfConfig};
use crate::subscription::{Subscription, SubscriptionFailure};

// PDU SESSION ESTABLISHMENT REQUEST from UERANSIM (as quoted in hexcore-nas's tests):
// PSI 1, PTI 1, integrity max rate full, IPv4, SSC mode 1, 5GSM capability, extended PCO
// asking for IP address allocation via NAS (000A) and DNS server IPv4 address (000D).
static EST_REQ_UERANSIM: [u8; 21] = [
    0x2e, 0x01, 0x01, 0xc1, 0xff, 0xff, 0x91, 0xa1, 0x28, 0x01, 0x00, 0x7b, 0x00, 0x07, 0x80, 0x00, 0x0a, 0x00, 0x00,
    0x0d, 0x00,
];
// PDU Session Resource Setup Response Transfer from PacketRusher as gNB (oxirush-ngap
// 0.5.0 fixtures, captured-172, as quoted in hexcore-ngap's tests): DL tunnel 127.0.0.1
// TEID 1, QFI 1.
static SETUP_RESPONSE_TRANSFER: [u8; 13] = [
    0x00, 0x03, 0xe0, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
];

const SUPI: &str = "999700000000001";
const UE: Ipv4Addr = Ipv4Addr::new(10, 45, 0, 2);
const UPF_N3: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 8);
/// The CP SEID the SMF gave the session.
const SEID: Seid = Seid(0x51);
/// What the UPF answers: its SEID and the uplink TEID.
const UP_SEID: u64 = 0x1000;
const UL_TEID: u32 = 0x100;
const T3591: Duration = Duration::from_secs(16);
const T3592: Duration = Duration::from_secs(16);

fn ctx() -> SmContextRef {
    SmContextRef {
        supi: SUPI.into(),
        pdu_session_id: 1,
    }
}

fn hdr(pti: u8) -> SmHeader {
    SmHeader { pdu_session_id: 1, pti }
}

fn slice() -> Snssai {
    Snssai { sst: 1, sd: None }
}

fn config() -> SmfConfig {
    SmfConfig::new(&Settings::default()).unwrap()
}

fn subscription() -> Subscription {
    Subscription {
        nssai: vec![slice()],
        dnns: vec!["internet".into()],
        ambr: Ambr {
            uplink_bps: 100_000_000,
            downlink_bps: 1_000_000_000,
        },
    }
}

fn upf_addr() -> SocketAddr {
    "127.0.0.1:8805".parse().unwrap()
}

/// One session and its effects so far.
struct Bench {
    t0: Instant,
    session: PduSession,
}

impl Bench {
    /// Hand `event` to the session at `t0 + at`.
    fn handle(&mut self, at: Duration, event: SessionEvent) -> Vec<Effect> {
        let mut fx = Effects::default();
        self.session.handle(self.t0 + at, event, &mut fx);
        fx.take()
    }

    fn update(&mut self, n1: Option<Vec<u8>>, n2: Option<N2SmInfo>, up: Option<UpCnxState>) -> Vec<Effect> {
        self.handle(
            Duration::ZERO,
            SessionEvent::Update {
                n1,
                n2,
                up_cnx_state: up,
            },
        )
    }

    fn state(&self) -> &'static str {
        self.session.summary().state
    }
}

/// CreateSMContext with UERANSIM's request, authorized and given 10.45.0.2 at UPF 0:
/// the session and what it sent.
fn establish() -> (Bench, Vec<Effect>) {
    let c = config();
    let request = EstablishmentRequest::parse(
        &ctx(),
        Some("internet".into()),
        Some(slice()),
        RequestType::InitialRequest,
        &EST_REQ_UERANSIM,
    )
    .unwrap();
    let grant = request
        .authorize(&Ok(subscription()), &c.dnns, c.default_dnn.as_deref())
        .unwrap();
    let resources = Resources {
        upf: UpfId(0),
        upf_addr: upf_addr(),
        ue_ipv4: UE,
        seid: SEID,
    };
    let mut fx = Effects::default();
    let session = PduSession::establish(ctx(), &request, grant, resources, Arc::new(c.session), &mut fx);
    let bench = Bench {
        t0: Instant::now(),
        session,
    };
    (bench, fx.take())
}

/// The UPF's Session Establishment Response, through the PFCP codec.
fn upf_accepts(up_seid: u64, teid: u32) -> SessionEstablishmentResponse {
    let rsp = SessionEstablishmentResponse::new(NodeId::Ipv4(Ipv4Addr::LOCALHOST), Cause::RequestAccepted)
        .up_fseid(Fseid::v4(up_seid, Ipv4Addr::LOCALHOST))
        .created_pdrs([CreatedPdr::new(PdrId(1)).local_fteid(Fteid::v4(teid, UPF_N3))]);
    match wire(Pdu::session(SEID.0, rsp)).message {
        Pfcp::SessionEstablishmentResponse(r) => r,
        other => panic!("{other:?}"),
    }
}

/// A PDU through the PFCP encoder and decoder.
fn wire(pdu: Pdu) -> Pdu {
    Pdu::decode(&pdu.encode()).unwrap()
}

fn setup_response() -> N2SmInfo {
    N2SmInfo {
        kind: N2SmInfoType::PduResSetupRsp,
        transfer: SETUP_RESPONSE_TRANSFER.to_vec(),
    }
}

/// An established session whose user plane is up at the gNB (127.0.0.1 TEID 1).
fn active() -> Bench {
    let (mut b, _) = establish();
    b.handle(
        Duration::ZERO,
        SessionEvent::N4Established {
            seid: SEID,
            response: upf_accepts(UP_SEID, UL_TEID),
        },
    );
    b.update(None, Some(setup_response()), None);
    assert_eq!(b.state(), "active");
    b
}

/// The decoded N1 and the N2 of an N1N2MessageTransfer.
fn n1n2_of(e: &Effect) -> (Option<Message>, Option<&N2SmInfo>) {
    match e {
        Effect::Amf(AmfRequest::N1N2MessageTransfer {
            context, n1_sm, n2_sm, ..
        }) => {
            assert_eq!(context, &ctx());
            (n1_sm.as_ref().map(|b| Message::decode(b).unwrap()), n2_sm.as_ref())
        }
        other => panic!("not an N1N2 transfer: {other:?}"),
    }
}

/// The PFCP request of an `Effect::N4`, through the codec.
fn n4_of(e: &Effect) -> (Seid, N4Request, Pdu) {
    match e {
        Effect::N4 {
            upf,
            seid,
            request,
            pdu,
            ..
        } => {
            assert_eq!(*upf, UpfId(0));
            (*seid, *request, wire((**pdu).clone()))
        }
        other => panic!("not an N4 request: {other:?}"),
    }
}

fn released() -> Effect {
    Effect::Amf(AmfRequest::SmContextReleased { context: ctx() })
}

fn closed(how: &'static str) -> [Effect; 5] {
    [
        Effect::SeidReleased(SEID),
        Effect::ReleaseAddress {
            dnn: "internet".into(),
            ue_ipv4: UE,
        },
        Effect::Closed,
        Effect::Event(Event::SessionReleased {
            supi: SUPI.into(),
            pdu_session_id: 1,
            how,
        }),
        released(),
    ]
}

// ---------------------------------------------------------------- establishment

#[test]
fn establishment_accepts_once_the_upf_holds_the_session() {
    let (mut b, fx) = establish();
    assert_eq!(b.state(), "establishing");
    // Step 10: the N4 Session Establishment Request, nothing else yet.
    assert_eq!(fx.len(), 1, "{fx:?}");
    let (seid, request, pdu) = n4_of(&fx[0]);
    assert_eq!((seid, request), (SEID, N4Request::Establish));
    assert_eq!(pdu.header.seid, Some(0), "TS 29.244 §7.2.2.4.2");
    let Pfcp::SessionEstablishmentRequest(req) = pdu.message else {
        panic!("{:?}", pdu.message)
    };
    assert_eq!(req.cp_fseid.seid, SEID.0);
    assert_eq!(
        req.create_pdrs[1].pdi.ue_ip_addresses,
        [UeIpAddress::destination_v4(UE)]
    );
    assert_eq!(
        req.create_fars[1].apply_action,
        ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP)
    );
    assert!(b.session.awaits_establishment(SEID));

    // Step 11: the UPF holds it → Accept + Setup Request Transfer.
    let fx = b.handle(
        Duration::ZERO,
        SessionEvent::N4Established {
            seid: SEID,
            response: upf_accepts(UP_SEID, UL_TEID),
        },
    );
    assert_eq!(fx.len(), 2, "{fx:?}");
    let (Some(Message::PduSessionEstablishmentAccept(a)), Some(n2)) = n1n2_of(&fx[0]) else {
        panic!("{fx:?}")
    };
    assert_eq!(a.header, hdr(1));
    assert_eq!(
        a.pdu_address.map(|p| p.value),
        Some(hexcore_nas::ie::PduAddressValue::Ipv4(UE))
    );
    assert_eq!(a.session_ambr.downlink.bps(), Some(1_000_000_000));
    let dns: Vec<Vec<u8>> = a
        .extended_pco
        .unwrap()
        .items
        .into_iter()
        .filter(|i| i.id == messages::pco::DNS_IPV4)
        .map(|i| i.contents)
        .collect();
    assert_eq!(dns, [vec![8, 8, 8, 8], vec![1, 1, 1, 1]]);
    assert_eq!(n2.kind, N2SmInfoType::PduResSetupReq);
    let t = PduSessionResourceSetupRequestTransfer::decode(&n2.transfer).unwrap();
    assert_eq!(
        (t.ul_tunnel.teid, &t.ul_tunnel.transport_layer_address[..]),
        (UL_TEID, &UPF_N3.octets()[..])
    );
    assert_eq!(
        fx[1],
        Effect::Event(Event::SessionEstablished {
            supi: SUPI.into(),
            pdu_session_id: 1,
            dnn: "internet".into(),
            ue_ipv4: UE,
        })
    );
    assert_eq!(b.session.up_seid(), Some(UP_SEID));
    assert_eq!(b.state(), "activating");

    // Steps 14–16: the gNB's tunnel → Update FAR 2 forwards to it.
    let fx = b.update(None, Some(setup_response()), None);
    assert_eq!(fx.len(), 2, "{fx:?}");
    assert_eq!(
        fx[0],
        Effect::Event(Event::Procedure {
            procedure: "an_setup",
            outcome: "ok"
        })
    );
    let (seid, request, pdu) = n4_of(&fx[1]);
    assert_eq!((seid, request), (SEID, N4Request::Modify(Change::ForwardDownlink)));
    assert_eq!(pdu.header.seid, Some(UP_SEID));
    let Pfcp::SessionModificationRequest(m) = pdu.message else {
        panic!()
    };
    assert_eq!(m.update_fars[0].apply_action, Some(ApplyAction::new(ApplyAction::FORW)));
    assert_eq!(
        m.update_fars[0]
            .update_forwarding_parameters
            .as_ref()
            .and_then(|f| f.outer_header_creation),
        Some(OuterHeaderCreation::gtpu_v4(1, Ipv4Addr::LOCALHOST))
    );
    assert_eq!(b.state(), "active");
}

#[test]
fn establishment_rejected_when_the_upf_refuses_or_does_not_answer() {
    for (event, reason) in [
        (
            SessionEvent::N4Established {
                seid: SEID,
                response: SessionEstablishmentResponse::new(
                    NodeId::Ipv4(Ipv4Addr::LOCALHOST),
                    Cause::NoResourcesAvailable,
                ),
            },
            "upf_rejected",
        ),
        (
            SessionEvent::N4Failed {
                seid: SEID,
                request: N4Request::Establish,
                cause: None,
            },
            "upf_unreachable",
        ),
    ] {
        let (mut b, _) = establish();
        let fx = b.handle(Duration::ZERO, event);
        // Everything freed (no N4 session to delete), then the Reject #26.
        assert_eq!(
            fx[..3],
            [
                Effect::SeidReleased(SEID),
                Effect::ReleaseAddress {
                    dnn: "internet".into(),
                    ue_ipv4: UE
                },
                Effect::Closed
            ],
            "{fx:?}"
        );
        let (Some(Message::PduSessionEstablishmentReject(r)), None) = n1n2_of(&fx[3]) else {
            panic!("{fx:?}")
        };
        assert_eq!((r.header, r.cause), (hdr(1), SmCause::InsufficientResources));
        assert_eq!(
            fx[4..],
            [
                released(),
                Effect::Event(Event::EstablishmentRejected {
                    supi: SUPI.into(),
                    pdu_session_id: 1,
                    cause: 26,
                    reason,
                })
            ]
        );
    }
}

#[test]
fn an_answer_for_another_seid_changes_nothing() {
    let (mut b, _) = establish();
    let stale = Seid(SEID.0 + 1);
    assert!(!b.session.awaits_establishment(stale));
    let failed = SessionEvent::N4Failed {
        seid: stale,
        request: N4Request::Establish,
        cause: None,
    };
    assert_eq!(b.handle(Duration::ZERO, failed), []);
    assert_eq!(b.state(), "establishing");
}

#[test]
fn requests_refused_before_there_is_a_session() {
    let parse = |n1: &[u8]| EstablishmentRequest::parse(&ctx(), None, Some(slice()), RequestType::InitialRequest, n1);
    assert_eq!(parse(&[0x7e, 0x00]), Err(Refusal::NoSmHeader));
    assert_eq!(
        parse(&Message::from(PduSessionReleaseRequest::new(hdr(1))).encode()),
        Err(Refusal::Status {
            header: hdr(1),
            cause: SmCause::MessageTypeNotCompatibleWithTheProtocolState
        })
    );
    let mut pti0 = EST_REQ_UERANSIM;
    pti0[2] = 0;
    assert_eq!(
        parse(&pti0),
        Err(Refusal::Reject {
            header: hdr(0),
            error: crate::error::SessionError::InvalidPti(0)
        })
    );

    // Authorization (TS 23.502 §4.3.2.2.1 step 4), each refusal with its cause.
    let c = config();
    let request = parse(&EST_REQ_UERANSIM).unwrap();
    let authorize = |r: &EstablishmentRequest, sub| {
        r.authorize(&sub, &c.dnns, c.default_dnn.as_deref())
            .map_err(|e| e.sm_cause().value())
    };
    let grant = authorize(&request, Ok(subscription())).unwrap();
    assert_eq!(
        (grant.dnn.name.as_str(), grant.s_nssai),
        ("internet", slice()),
        "the default DNN"
    );
    assert_eq!(
        authorize(&request, Err(SubscriptionFailure::UnknownSubscriber)),
        Err(29)
    );
    assert_eq!(authorize(&request, Err(SubscriptionFailure::Unavailable)), Err(38));
    let mut other_dnn = subscription();
    other_dnn.dnns = vec!["ims".into()];
    assert_eq!(authorize(&request, Ok(other_dnn)), Err(27), "default not subscribed");
    let ims = EstablishmentRequest {
        dnn: Some("ims".into()),
        ..request.clone()
    };
    assert_eq!(authorize(&ims, Ok(subscription())), Err(27), "not served");
    let other_slice = EstablishmentRequest {
        s_nssai: Some(Snssai { sst: 2, sd: None }),
        ..request.clone()
    };
    assert_eq!(authorize(&other_slice, Ok(subscription())), Err(33));
    let mut c = config();
    c.dnns[0].slices = vec![Snssai { sst: 2, sd: None }];
    assert_eq!(
        request
            .authorize(&Ok(subscription()), &c.dnns, c.default_dnn.as_deref())
            .map_err(|e| e.sm_cause().value()),
        Err(70)
    );
}

// ---------------------------------------------------------------- modification

#[test]
fn network_modification_retransmits_on_t3591_then_gives_up() {
    let mut b = active();
    let ambr = Ambr {
        uplink_bps: 50_000_000,
        downlink_bps: 100_000_000,
    };
    let mut fx = Effects::default();
    b.session.modify_ambr(b.t0, ambr, &mut fx).unwrap();
    let fx = fx.take();
    assert_eq!(fx.len(), 3, "{fx:?}");
    // TS 23.502 §4.3.3.2 step 2: the QER first.
    let (_, request, pdu) = n4_of(&fx[0]);
    assert_eq!(request, N4Request::Modify(Change::Ambr));
    let Pfcp::SessionModificationRequest(m) = pdu.message else {
        panic!()
    };
    assert_eq!(
        m.update_qers[0].mbr,
        Some(BitRate {
            uplink: 50_000,
            downlink: 100_000
        })
    );
    let (Some(Message::PduSessionModificationCommand(c)), Some(n2)) = n1n2_of(&fx[1]) else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (c.header, c.session_ambr.unwrap().uplink.bps()),
        (hdr(0), Some(50_000_000))
    );
    assert_eq!(n2.kind, N2SmInfoType::PduResModReq);
    let t = PduSessionResourceModifyRequestTransfer::decode(&n2.transfer).unwrap();
    assert_eq!(t.session_ambr.map(|a| a.uplink), Some(50_000_000));
    assert_eq!(
        fx[2],
        Effect::StartTimer {
            timer: SessionTimer::T3591,
            at: b.t0 + T3591
        }
    );
    let command = match &fx[1] {
        Effect::Amf(AmfRequest::N1N2MessageTransfer { n1_sm: Some(n1), .. }) => n1.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(b.state(), "modifying");
    // One procedure at a time.
    let mut busy = Effects::default();
    assert_eq!(b.session.modify_ambr(b.t0, ambr, &mut busy), Err(ApiError::Busy));
    assert!(busy.take().is_empty());

    // TS 24.501 §6.3.2.5 a): the same command on each expiry, four times…
    for n in 1..=4u32 {
        let at = T3591 * n;
        let fx = b.handle(at, SessionEvent::Timeout(SessionTimer::T3591));
        assert_eq!(
            fx,
            [
                Effect::Amf(n1n2(&ctx(), Some(slice()), Some(command.clone()), None)),
                Effect::Event(Event::Retransmission { timer: "T3591" }),
                Effect::StartTimer {
                    timer: SessionTimer::T3591,
                    at: b.t0 + at + T3591
                },
            ]
        );
    }
    // …and the fifth expiry aborts the procedure; the session goes on.
    let fx = b.handle(T3591 * 5, SessionEvent::Timeout(SessionTimer::T3591));
    assert_eq!(
        fx,
        [
            Effect::StopTimer(SessionTimer::T3591),
            Effect::Event(Event::Procedure {
                procedure: "modification",
                outcome: "failed"
            }),
        ]
    );
    assert_eq!(b.state(), "active");
    assert_eq!(b.handle(T3591 * 6, SessionEvent::Timeout(SessionTimer::T3591)), []);

    // A new one, which the UE completes: T3591 stops.
    let mut fx = Effects::default();
    b.session.modify_ambr(b.t0, ambr, &mut fx).unwrap();
    let complete = Message::from(PduSessionModificationComplete::new(hdr(0))).encode();
    assert_eq!(
        b.update(Some(complete), None, None),
        [
            Effect::StopTimer(SessionTimer::T3591),
            Effect::Event(Event::Procedure {
                procedure: "modification",
                outcome: "ok"
            }),
        ]
    );
}

#[test]
fn ue_modification_asking_for_qos_is_rejected() {
    let mut b = active();
    let Ok(Message::PduSessionModificationCommand(cmd)) = Message::decode(&[
        0x2e, 0x05, 0x07, 0xcb, 0x7a, 0x00, 0x09, 0x01, 0x00, 0x06, 0x31, 0x31, 0x01, 0x01, 0xff, 0x01,
    ]) else {
        panic!()
    };
    let mut req = PduSessionModificationRequest::new(hdr(5));
    req.requested_qos_rules = cmd.authorized_qos_rules;
    let fx = b.update(Some(Message::from(req).encode()), None, None);
    let (Some(Message::PduSessionModificationReject(r)), None) = n1n2_of(&fx[1]) else {
        panic!("{fx:?}")
    };
    assert_eq!((r.header, r.cause), (hdr(5), SmCause::FiveGsQosNotAccepted));
    assert_eq!(b.state(), "active");
}

// ---------------------------------------------------------------- release

#[test]
fn ue_requested_release() {
    let mut b = active();
    let request = Message::from(PduSessionReleaseRequest::new(hdr(9))).encode();
    let fx = b.update(Some(request), None, None);
    // TS 23.502 §4.3.4.2: the N4 session goes first (its final usage is recorded under
    // the session's identity), then N1 + N2, T3592.
    assert_eq!(fx.len(), 5, "{fx:?}");
    assert_eq!(
        fx[..3],
        [
            Effect::StopTimer(SessionTimer::T3591),
            Effect::SeidReleased(SEID),
            Effect::DeleteN4 {
                upf: UpfId(0),
                up_seid: UP_SEID,
                identity: b.session.identity(SEID),
            },
        ]
    );
    let identity = b.session.identity(SEID);
    assert_eq!(
        (
            identity.supi.as_str(),
            identity.dnn.as_str(),
            identity.ue_ipv4,
            identity.upf.as_str()
        ),
        (SUPI, "internet", UE, "127.0.0.1:8805")
    );
    let (Some(Message::PduSessionReleaseCommand(c)), Some(n2)) = n1n2_of(&fx[3]) else {
        panic!("{fx:?}")
    };
    assert_eq!((c.header, c.cause), (hdr(9), SmCause::RegularDeactivation));
    assert_eq!(n2.kind, N2SmInfoType::PduResRelCmd);
    assert_eq!(
        PduSessionResourceReleaseCommandTransfer::decode(&n2.transfer)
            .unwrap()
            .cause,
        hexcore_ngap::Cause::Nas(hexcore_ngap::CauseNas::NormalRelease)
    );
    assert_eq!(
        fx[4],
        Effect::StartTimer {
            timer: SessionTimer::T3592,
            at: b.t0 + T3592
        }
    );
    assert_eq!(b.state(), "releasing");
    assert_eq!(b.session.up_seid(), None);

    // A Release Complete with another PTI: 5GSM STATUS #47, still releasing.
    let fx = b.update(
        Some(Message::from(PduSessionReleaseComplete::new(hdr(8))).encode()),
        None,
        None,
    );
    let (Some(Message::SmStatus(s)), None) = n1n2_of(&fx[0]) else {
        panic!("{fx:?}")
    };
    assert_eq!(s.cause, SmCause::PtiMismatch);
    assert_eq!(b.state(), "releasing");

    // The Release Complete ends it.
    let fx = b.update(
        Some(Message::from(PduSessionReleaseComplete::new(hdr(9))).encode()),
        None,
        None,
    );
    let mut expected = vec![Effect::Event(Event::Procedure {
        procedure: "release",
        outcome: "ok",
    })];
    expected.extend(closed("ue"));
    assert_eq!(fx, expected);
}

#[test]
fn network_release_retransmits_on_t3592_then_releases_locally() {
    let mut b = active();
    // AN release first: the UPF buffers, and the gNB holds nothing to release.
    let fx = b.update(None, None, Some(UpCnxState::Deactivated));
    let (_, request, _) = n4_of(&fx[0]);
    assert_eq!(request, N4Request::Modify(Change::BufferDownlink));
    assert_eq!(b.state(), "inactive");

    let mut fx = Effects::default();
    b.session
        .release(b.t0, SmCause::InsufficientResources, &mut fx)
        .unwrap();
    let fx = fx.take();
    let (Some(Message::PduSessionReleaseCommand(c)), None) = n1n2_of(&fx[3]) else {
        panic!("{fx:?}")
    };
    assert_eq!((c.header.pti, c.cause), (0, SmCause::InsufficientResources));
    let command = Message::PduSessionReleaseCommand(c).encode();
    let mut busy = Effects::default();
    assert_eq!(
        b.session.release(b.t0, SmCause::RegularDeactivation, &mut busy),
        Err(ApiError::Busy)
    );

    // TS 24.501 §6.3.3.5 a): four retransmissions…
    for n in 1..=4u32 {
        let at = T3592 * n;
        assert_eq!(
            b.handle(at, SessionEvent::Timeout(SessionTimer::T3592)),
            [
                Effect::Amf(n1n2(&ctx(), Some(slice()), Some(command.clone()), None)),
                Effect::Event(Event::Retransmission { timer: "T3592" }),
                Effect::StartTimer {
                    timer: SessionTimer::T3592,
                    at: b.t0 + at + T3592
                },
            ]
        );
    }
    // …then a local release on the fifth expiry (the N4 session went at the start).
    let fx = b.handle(T3592 * 5, SessionEvent::Timeout(SessionTimer::T3592));
    let mut expected = vec![Effect::Event(Event::Procedure {
        procedure: "release",
        outcome: "failed",
    })];
    expected.extend(closed("timeout"));
    assert_eq!(fx, expected);
}

#[test]
fn release_of_an_establishing_session_is_a_reject() {
    let (mut b, _) = establish();
    let mut fx = Effects::default();
    b.session.release(b.t0, SmCause::RegularDeactivation, &mut fx).unwrap();
    let fx = fx.take();
    assert!(fx.contains(&Effect::Closed), "{fx:?}");
    let (Some(Message::PduSessionEstablishmentReject(r)), None) = n1n2_of(&fx[3]) else {
        panic!("{fx:?}")
    };
    assert_eq!(r.cause, SmCause::InsufficientResources);
}

// ---------------------------------------------------------------- AN release, reports

#[test]
fn an_release_downlink_data_usage_and_reactivation() {
    let mut b = active();
    let fx = b.update(None, None, Some(UpCnxState::Deactivated));
    let (_, _, pdu) = n4_of(&fx[0]);
    let Pfcp::SessionModificationRequest(m) = pdu.message else {
        panic!()
    };
    assert_eq!(
        m.update_fars[0].apply_action,
        Some(ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP))
    );

    // Downlink data and usage in one report: the AMF pages with the setup transfer
    // (N2 only), the records wait for storage under the report's acknowledgement.
    let usage = UsageReport::new(UrrId(1), UrSeqn(3), UsageReportTrigger::new(UsageReportTrigger::PERIO))
        .volume_measurement(VolumeMeasurement {
            total_volume: Some(300),
            uplink_volume: Some(100),
            downlink_volume: Some(200),
            ..Default::default()
        });
    let report = SessionReportRequest::new(ReportType::new(ReportType::DLDR | ReportType::USAR))
        .downlink_data_report(DownlinkDataReport::new(vec![PdrId(2)]))
        .usage_reports([usage]);
    let Pfcp::SessionReportRequest(report) = wire(Pdu::session(SEID.0, report)).message else {
        panic!()
    };
    let ack = Some(UsageAck(7));
    let fx = b.handle(
        Duration::ZERO,
        SessionEvent::Report {
            report: report.clone(),
            ack,
        },
    );
    assert_eq!(fx.len(), 3, "{fx:?}");
    assert_eq!(
        fx[0],
        Effect::Event(Event::Procedure {
            procedure: "downlink_data_notification",
            outcome: "ok"
        })
    );
    let (None, Some(n2)) = n1n2_of(&fx[1]) else {
        panic!("{fx:?}")
    };
    let t = PduSessionResourceSetupRequestTransfer::decode(&n2.transfer).unwrap();
    assert_eq!(t.ul_tunnel.teid, UL_TEID);
    let Effect::Usage { records, ack: got } = &fx[2] else {
        panic!("{fx:?}")
    };
    assert_eq!(*got, ack);
    assert_eq!(
        (
            records.len(),
            records[0].seid,
            records[0].ur_seqn,
            records[0].uplink_octets,
            records[0].downlink_octets
        ),
        (1, SEID.0, 3, 100, 200)
    );
    // Paged once per buffering period.
    let dldr = SessionReportRequest::new(ReportType::new(ReportType::DLDR));
    assert_eq!(
        b.handle(
            Duration::ZERO,
            SessionEvent::Report {
                report: dldr,
                ack: None
            }
        ),
        []
    );

    // Service Request: Activation with the same UPF tunnel, then the gNB's tunnel.
    let fx = b.update(None, None, Some(UpCnxState::Activating));
    let Effect::Amf(AmfRequest::Activation { n2_sm: Some(n2), .. }) = &fx[1] else {
        panic!("{fx:?}")
    };
    let t = PduSessionResourceSetupRequestTransfer::decode(&n2.transfer).unwrap();
    assert_eq!(t.ul_tunnel.teid, UL_TEID);
    assert_eq!(b.state(), "activating");
    let fx = b.update(None, Some(setup_response()), None);
    let (_, request, _) = n4_of(&fx[1]);
    assert_eq!(request, N4Request::Modify(Change::ForwardDownlink));
    assert_eq!(b.state(), "active");
}

// ---------------------------------------------------------------- restoration

#[test]
fn a_lost_n4_session_is_restored_under_a_new_seid() {
    let new = Seid(SEID.0 + 1);
    // The UPF restarted: nothing to delete; the active gNB hears the new UL tunnel.
    let mut b = active();
    assert_eq!(b.handle(Duration::ZERO, SessionEvent::N4Lost { restarted: true }), []);
    assert!(b.session.n4_is_lost());
    assert_eq!(b.state(), "restoring");
    let fx = b.handle(
        Duration::ZERO,
        SessionEvent::Restore {
            seid: new,
            restarted: true,
        },
    );
    assert_eq!(fx.len(), 2, "{fx:?}");
    assert_eq!(fx[0], Effect::SeidReleased(SEID));
    let (seid, request, pdu) = n4_of(&fx[1]);
    assert_eq!((seid, request), (new, N4Request::Establish));
    let Pfcp::SessionEstablishmentRequest(req) = pdu.message else {
        panic!()
    };
    assert_eq!(req.cp_fseid.seid, new.0);
    assert_eq!(
        req.create_pdrs[1].pdi.ue_ip_addresses,
        [UeIpAddress::destination_v4(UE)],
        "same address"
    );
    assert_eq!(req.create_fars[1].apply_action, ApplyAction::new(ApplyAction::FORW));
    let fx = b.handle(
        Duration::ZERO,
        SessionEvent::N4Established {
            seid: new,
            response: upf_accepts(0x2000, 0x200),
        },
    );
    assert_eq!(
        fx[0],
        Effect::Event(Event::SessionRestored {
            supi: SUPI.into(),
            pdu_session_id: 1
        })
    );
    let (None, Some(n2)) = n1n2_of(&fx[1]) else {
        panic!("{fx:?}")
    };
    let t = PduSessionResourceModifyRequestTransfer::decode(&n2.transfer).unwrap();
    assert_eq!(
        (t.ul_tunnels[0].ul_tunnel.teid, t.ul_tunnels[0].dl_tunnel.teid),
        (0x200, 1)
    );
    assert_eq!(b.state(), "active");

    // The association was lost without a restart: the UPF may still hold the old
    // session, which is deleted first.
    let mut b = active();
    b.handle(Duration::ZERO, SessionEvent::N4Lost { restarted: false });
    let fx = b.handle(
        Duration::ZERO,
        SessionEvent::Restore {
            seid: new,
            restarted: false,
        },
    );
    assert_eq!(
        fx[..2],
        [
            Effect::DeleteN4 {
                upf: UpfId(0),
                up_seid: UP_SEID,
                identity: b.session.identity(SEID),
            },
            Effect::SeidReleased(SEID),
        ]
    );
    assert_eq!(n4_of(&fx[2]).1, N4Request::Establish);

    // A UPF that forgot the session (Cause 65 to a modification) asks for a restore.
    let mut b = active();
    let fx = b.handle(
        Duration::ZERO,
        SessionEvent::N4Failed {
            seid: SEID,
            request: N4Request::Modify(Change::BufferDownlink),
            cause: Some(Cause::SessionContextNotFound),
        },
    );
    assert_eq!(fx.last(), Some(&Effect::Restore));
    assert!(b.session.n4_is_lost());
}
