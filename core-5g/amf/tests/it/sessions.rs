//! PDU sessions through the AMF (N11 as `SmfRequest` / `AmfRequest`, TS 23.502 §4.3.2,
//! §4.2.3, §4.2.6; TS 24.501 §5.4.5): the relay of 5GSM, the NGAP PDU session
//! resources, user plane deactivation and re-activation, paging, release.

use hexcore_amf::Input;
use hexcore_nas::ie::{Dnn, PduSessionId, PsiBitmap, RequestType, SNssai as NasSNssai};
use hexcore_nas::mm::{DeregistrationRequestUeOriginating, MmHeader, ServiceRequest, UlNasTransport};
use hexcore_nas::{Message, MmCause};
use hexcore_ngap::procedures::{
    DownlinkNasTransport, InitialContextSetupRequest, InitialContextSetupResponse, Paging,
    PduSessionResourceSetupRequest, PduSessionResourceSetupResponse, PduSessionTransferItem, UeContextReleaseCommand,
    UeContextReleaseComplete, UeContextReleaseRequest, UeNgapIds,
};
use hexcore_ngap::{Cause, CauseRadioNetwork};
use hexcore_sbi::{
    AmfRequest, N2SmInfo, N2SmInfoType, ReleaseCause, RequestType as SbiRequestType, SmContextRef, SmfRequest, Snssai,
    UpCnxState,
};

use crate::common::*;
use crate::register;

/// Some 5GSM octets (a PDU Session Establishment Request header: EPD 2E, PSI 5, PTI 1,
/// type C1, IPv4 + SSC mode 1); the AMF never looks inside.
const ESTABLISHMENT_REQUEST: [u8; 6] = [0x2e, 0x05, 0x01, 0xc1, 0xff, 0xff];
const ESTABLISHMENT_ACCEPT: [u8; 4] = [0x2e, 0x05, 0x01, 0xc2];
const SETUP_REQUEST_TRANSFER: [u8; 5] = [0x00, 0x00, 0x04, 0x00, 0x82];
const SETUP_RESPONSE_TRANSFER: [u8; 3] = [0x00, 0x03, 0xe0];

fn ul_transport(psi: u8, sm: &[u8], s_nssai: Option<(u8, Option<u32>)>) -> UlNasTransport {
    let mut t = UlNasTransport::new(
        MmHeader::default(),
        hexcore_nas::ie::PayloadContainerType::N1SmInformation,
        hexcore_nas::ie::SpareHalfOctet(0),
        hexcore_nas::ie::PayloadContainer(sm.to_vec()),
    );
    t.pdu_session_id = Some(PduSessionId(psi));
    t.request_type = Some(RequestType::InitialRequest);
    t.s_nssai = s_nssai.map(|(sst, sd)| NasSNssai::new(sst, sd));
    t.dnn = Some(Dnn::from_name("internet"));
    t
}

fn supi(ue: &TestUe) -> String {
    ue.supi()
}

fn context(ue: &TestUe, psi: u8) -> SmContextRef {
    SmContextRef {
        supi: supi(ue),
        pdu_session_id: psi,
    }
}

fn take_smf(h: &mut Harness) -> Vec<SmfRequest> {
    std::mem::take(&mut h.smf_requests)
}

/// Register, then establish PDU session 5 through to the gNB's setup response.
fn establish(h: &mut Harness, ue: &mut TestUe) {
    let ul = ue.protect(&Message::from(ul_transport(5, &ESTABLISHMENT_REQUEST, Some((1, None)))));
    h.uplink(ue, ul);
    let reqs = take_smf(h);
    let [
        SmfRequest::CreateSmContext {
            context: c,
            dnn,
            s_nssai,
            request_type,
            n1_sm,
            location,
            pei,
        },
    ] = &reqs[..]
    else {
        panic!("expected one CreateSmContext, got {reqs:?}")
    };
    assert_eq!(c, &context(ue, 5));
    assert_eq!(dnn.as_deref(), Some("internet"));
    assert_eq!(*s_nssai, Some(Snssai { sst: 1, sd: None }));
    assert_eq!(*request_type, SbiRequestType::InitialRequest);
    assert_eq!(n1_sm, &ESTABLISHMENT_REQUEST);
    assert_eq!(
        (location.mcc.as_str(), location.mnc.as_str(), location.tac),
        (MCC, MNC, 1)
    );
    assert_eq!(pei.as_deref(), Some("4370816125816151"));

    // The SMF answers with N1 (accept) and N2 (setup request transfer).
    h.amf.handle(
        h.now,
        Input::Smf(AmfRequest::N1N2MessageTransfer {
            context: context(ue, 5),
            s_nssai: Some(Snssai { sst: 1, sd: None }),
            n1_sm: Some(ESTABLISHMENT_ACCEPT.to_vec()),
            n2_sm: Some(N2SmInfo {
                kind: N2SmInfoType::PduResSetupReq,
                transfer: SETUP_REQUEST_TRANSFER.to_vec(),
            }),
        }),
    );
    h.drive();
    let req = PduSessionResourceSetupRequest::parse(&h.take_one()).unwrap();
    assert_eq!(req.sessions.len(), 1);
    let item = &req.sessions[0];
    assert_eq!(item.pdu_session_id, 5);
    assert_eq!(item.transfer, SETUP_REQUEST_TRANSFER);
    assert_eq!(item.s_nssai.sst, 1);
    // UE-AMBR from the subscription (TS 38.413 §9.2.1.1).
    let ambr = req.ue_ambr.unwrap();
    assert_eq!((ambr.uplink, ambr.downlink), (100_000_000, 200_000_000));
    // The accept, in a protected DL NAS TRANSPORT for PDU session 5.
    let Message::DlNasTransport(dl) = ue.read(item.nas_pdu.as_ref().unwrap()) else {
        panic!("expected DL NAS transport")
    };
    assert_eq!(dl.pdu_session_id, Some(PduSessionId(5)));
    assert_eq!(dl.payload_container.0, ESTABLISHMENT_ACCEPT);

    // The gNB's answer goes to the SMF.
    h.send(
        PduSessionResourceSetupResponse {
            amf_ue_ngap_id: req.amf_ue_ngap_id,
            ran_ue_ngap_id: req.ran_ue_ngap_id,
            setup: vec![PduSessionTransferItem {
                pdu_session_id: 5,
                transfer: SETUP_RESPONSE_TRANSFER.to_vec(),
            }],
            failed: vec![],
        }
        .build()
        .unwrap(),
    );
    assert_eq!(
        take_smf(h),
        vec![SmfRequest::UpdateSmContext {
            context: context(ue, 5),
            n1_sm: None,
            n2_sm: Some(N2SmInfo {
                kind: N2SmInfoType::PduResSetupRsp,
                transfer: SETUP_RESPONSE_TRANSFER.to_vec(),
            }),
            up_cnx_state: None,
            location: None,
        }]
    );
}

#[test]
fn establishment_is_relayed_between_ue_smf_and_gnb() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    establish(&mut h, &mut ue);

    // A later 5GSM message of the session (e.g. a release request) is an update.
    let mut t = ul_transport(5, &[0x2e, 0x05, 0x02, 0xd1], None);
    t.request_type = None;
    let ul = ue.protect(&Message::from(t));
    h.uplink(&ue, ul);
    let reqs = take_smf(&mut h);
    assert!(
        matches!(&reqs[..], [SmfRequest::UpdateSmContext { n1_sm: Some(n1), .. }] if n1 == &[0x2e, 0x05, 0x02, 0xd1]),
        "{reqs:?}"
    );

    // N1 alone from the SMF: a DL NAS TRANSPORT.
    h.amf.handle(
        h.now,
        Input::Smf(AmfRequest::N1N2MessageTransfer {
            context: context(&ue, 5),
            s_nssai: None,
            n1_sm: Some(vec![0x2e, 0x05, 0x02, 0xd3]),
            n2_sm: None,
        }),
    );
    h.drive();
    let nas = h.downlink_nas(&mut ue);
    let Message::DlNasTransport(dl) = ue.read(&nas) else {
        panic!()
    };
    assert_eq!(dl.payload_container.0, [0x2e, 0x05, 0x02, 0xd3]);

    // The SMF released it: the PDU session ID is unknown now (§5.4.5.2.5: #90).
    h.amf.handle(
        h.now,
        Input::Smf(AmfRequest::SmContextReleased {
            context: context(&ue, 5),
        }),
    );
    let mut t = ul_transport(5, &[0x2e, 0x05, 0x03, 0xd1], None);
    t.request_type = None;
    let ul = ue.protect(&Message::from(t));
    h.uplink(&ue, ul);
    assert!(take_smf(&mut h).is_empty());
    let nas = h.downlink_nas(&mut ue);
    let Message::DlNasTransport(dl) = ue.read(&nas) else {
        panic!()
    };
    assert_eq!(dl.cause, Some(MmCause::PayloadWasNotForwarded));
}

#[test]
fn requests_the_amf_cannot_route_go_back_to_the_ue() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);

    // A slice that is not allowed: #90 with the 5GSM message returned (§5.4.5.3.1 e).
    let ul = ue.protect(&Message::from(ul_transport(
        5,
        &ESTABLISHMENT_REQUEST,
        Some((2, Some(7))),
    )));
    h.uplink(&ue, ul);
    assert!(take_smf(&mut h).is_empty());
    let nas = h.downlink_nas(&mut ue);
    let Message::DlNasTransport(dl) = ue.read(&nas) else {
        panic!()
    };
    assert_eq!(dl.cause, Some(MmCause::PayloadWasNotForwarded));
    assert_eq!(dl.payload_container.0, ESTABLISHMENT_REQUEST);
    assert_eq!(dl.pdu_session_id, Some(PduSessionId(5)));

    // No PDU session ID: #96.
    let mut t = ul_transport(5, &ESTABLISHMENT_REQUEST, None);
    t.pdu_session_id = None;
    let ul = ue.protect(&Message::from(t));
    h.uplink(&ue, ul);
    let nas = h.downlink_nas(&mut ue);
    let Message::DlNasTransport(dl) = ue.read(&nas) else {
        panic!()
    };
    assert_eq!(dl.cause, Some(MmCause::InvalidMandatoryInformation));

    // No SMF to take it: #90 once the glue says so.
    let ul = ue.protect(&Message::from(ul_transport(6, &ESTABLISHMENT_REQUEST, None)));
    h.uplink(&ue, ul);
    let mut reqs = take_smf(&mut h);
    assert_eq!(reqs.len(), 1);
    h.amf.handle(h.now, Input::SmfUnreachable(reqs.remove(0)));
    h.drive();
    let nas = h.downlink_nas(&mut ue);
    let Message::DlNasTransport(dl) = ue.read(&nas) else {
        panic!()
    };
    assert_eq!(dl.cause, Some(MmCause::PayloadWasNotForwarded));
    assert_eq!(dl.pdu_session_id, Some(PduSessionId(6)));
}

fn release_to_idle(h: &mut Harness, ue: &TestUe) {
    h.send(
        UeContextReleaseRequest {
            amf_ue_ngap_id: ue.amf_ue_ngap_id.unwrap(),
            ran_ue_ngap_id: ue.ran_ue_ngap_id,
            pdu_session_ids: vec![5],
            cause: Cause::RadioNetwork(CauseRadioNetwork::UserInactivity),
        }
        .build()
        .unwrap(),
    );
    let cmd = UeContextReleaseCommand::parse(&h.take_one()).unwrap();
    let UeNgapIds::Pair(amf, ran) = cmd.ue_ngap_ids else {
        panic!()
    };
    h.send(
        UeContextReleaseComplete {
            amf_ue_ngap_id: amf,
            ran_ue_ngap_id: ran,
            pdu_session_ids: vec![5],
        }
        .build()
        .unwrap(),
    );
}

fn service_request(ue: &mut TestUe, uplink_data: &[u8]) -> Vec<u8> {
    let Some(hexcore_nas::ie::MobileIdentity::Guti(g)) = ue.identity.clone() else {
        panic!()
    };
    let mut sr = ServiceRequest::new(
        MmHeader::default(),
        hexcore_nas::ie::NasKeySetIdentifier { mapped: false, ksi: 0 },
        hexcore_nas::ie::ServiceType::Data,
        hexcore_nas::ie::MobileIdentity::STmsi(g.s_tmsi()),
    );
    if !uplink_data.is_empty() {
        sr.uplink_data_status = Some(PsiBitmap::from_psis(uplink_data));
    }
    sr.pdu_session_status = Some(PsiBitmap::from_psis(&[5]));
    ue.protect_integrity(&Message::from(sr))
}

/// The Service Request asks the SMF to activate, then the ICS carries the session and
/// a Service accept.
fn reactivate(h: &mut Harness, ue: &mut TestUe) {
    let Message::ServiceAccept(a) = reactivate_with(h, ue) else {
        panic!("expected Service accept")
    };
    assert_eq!(a.pdu_session_status.unwrap().psis(), vec![5]);
    assert_eq!(a.pdu_session_reactivation_result.unwrap().psis(), Vec::<u8>::new());
}

/// The AMF asks the SMF to activate PDU session 5, then the ICS carries the session and
/// the accept (returned) for the UE; the gNB answers.
fn reactivate_with(h: &mut Harness, ue: &mut TestUe) -> Message {
    assert_eq!(
        take_smf(h),
        vec![SmfRequest::UpdateSmContext {
            context: context(ue, 5),
            n1_sm: None,
            n2_sm: None,
            up_cnx_state: Some(UpCnxState::Activating),
            location: Some(hexcore_sbi::UserLocation {
                mcc: MCC.into(),
                mnc: MNC.into(),
                tac: 1,
                nr_cell_id: location().nr_cgi.nr_cell_identity,
            }),
        }]
    );
    assert!(h.take().is_empty(), "the ICS waits for the SMF");
    h.amf.handle(
        h.now,
        Input::Smf(AmfRequest::Activation {
            context: context(ue, 5),
            s_nssai: Some(Snssai { sst: 1, sd: None }),
            n2_sm: Some(N2SmInfo {
                kind: N2SmInfoType::PduResSetupReq,
                transfer: SETUP_REQUEST_TRANSFER.to_vec(),
            }),
        }),
    );
    h.drive();
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    assert_eq!(ics.pdu_sessions.len(), 1);
    assert_eq!(ics.pdu_sessions[0].pdu_session_id, 5);
    assert_eq!(ics.pdu_sessions[0].transfer, SETUP_REQUEST_TRANSFER);
    assert!(ics.ue_ambr.is_some());
    let accept = ue.read(ics.nas_pdu.as_ref().unwrap());
    ue.amf_ue_ngap_id = Some(ics.amf_ue_ngap_id);
    h.send(
        InitialContextSetupResponse {
            amf_ue_ngap_id: ics.amf_ue_ngap_id,
            ran_ue_ngap_id: ics.ran_ue_ngap_id,
            pdu_sessions: vec![PduSessionTransferItem {
                pdu_session_id: 5,
                transfer: SETUP_RESPONSE_TRANSFER.to_vec(),
            }],
            failed: vec![],
        }
        .build()
        .unwrap(),
    );
    let reqs = take_smf(h);
    assert!(
        matches!(
            &reqs[..],
            [SmfRequest::UpdateSmContext {
                n2_sm: Some(N2SmInfo {
                    kind: N2SmInfoType::PduResSetupRsp,
                    ..
                }),
                ..
            }]
        ),
        "{reqs:?}"
    );
    accept
}

/// A periodic registration update from CM-IDLE: the cleartext IEs integrity protected,
/// the complete request — with the PDU session status and uplink data status — ciphered
/// in the NAS message container (TS 24.501 §4.4.6).
fn periodic_update(ue: &mut TestUe, pdu_session_status: &[u8], uplink_data: &[u8]) -> Vec<u8> {
    let mut full = ue.registration_request();
    full.registration_type.value = hexcore_nas::ie::RegistrationTypeValue::PeriodicUpdating;
    full.pdu_session_status = Some(PsiBitmap::from_psis(pdu_session_status));
    full.uplink_data_status = Some(PsiBitmap::from_psis(uplink_data));
    let mut cleartext = full.clone();
    cleartext.requested_nssai = None;
    cleartext.pdu_session_status = None;
    cleartext.uplink_data_status = None;
    cleartext.nas_message_container = Some(ue.container(&Message::from(full)));
    ue.protect_integrity(&Message::from(cleartext))
}

/// A registered UE with PDU session 5, released to CM-IDLE (its deactivation told to
/// the SMF), about to come back on a new RAN UE NGAP ID.
fn idle_with_session() -> (Harness, TestUe) {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    establish(&mut h, &mut ue);
    release_to_idle(&mut h, &ue);
    take_smf(&mut h);
    ue.ran_ue_ngap_id = hexcore_ngap::RanUeNgapId(2);
    (h, ue)
}

#[test]
fn registration_update_reactivates_and_reports_the_pdu_sessions() {
    // TS 24.501 §5.5.1.3.4: uplink data status → the SMF re-activates the session, the
    // Initial Context Setup carries it, and the Registration accept has the network's
    // PDU session status and the reactivation result.
    let (mut h, mut ue) = idle_with_session();
    let bytes = periodic_update(&mut ue, &[5], &[5]);
    h.initial_ue_message(&ue, bytes);
    let Message::RegistrationAccept(a) = reactivate_with(&mut h, &mut ue) else {
        panic!("expected Registration accept")
    };
    assert_eq!(a.pdu_session_status.unwrap().psis(), vec![5]);
    assert_eq!(a.pdu_session_reactivation_result.unwrap().psis(), Vec::<u8>::new());
    assert!(a.guti.is_none(), "an update keeps the 5G-GUTI");
    assert_eq!(h.amf.ue_state(ue.amf_ue_ngap_id.unwrap().value()), Some("registered"));
}

#[test]
fn registration_update_releases_the_sessions_the_ue_no_longer_has() {
    // §5.5.1.3.4: a session the UE's PDU session status lacks is released locally (the
    // SMF is told); re-activation of a session that does not exist fails, and the
    // reactivation result says so.
    let (mut h, mut ue) = idle_with_session();
    let bytes = periodic_update(&mut ue, &[], &[3]);
    h.initial_ue_message(&ue, bytes);
    assert_eq!(
        take_smf(&mut h),
        vec![SmfRequest::ReleaseSmContext {
            context: context(&ue, 5),
            cause: ReleaseCause::PduSessionStatusMismatch,
        }]
    );
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    assert!(ics.pdu_sessions.is_empty());
    let Message::RegistrationAccept(a) = ue.read(ics.nas_pdu.as_ref().unwrap()) else {
        panic!("expected Registration accept")
    };
    assert_eq!(a.pdu_session_status.unwrap().psis(), Vec::<u8>::new());
    assert_eq!(a.pdu_session_reactivation_result.unwrap().psis(), vec![3]);
}

#[test]
fn release_deactivates_and_service_request_reactivates_the_user_plane() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    establish(&mut h, &mut ue);
    release_to_idle(&mut h, &ue);
    assert_eq!(
        take_smf(&mut h),
        vec![SmfRequest::UpdateSmContext {
            context: context(&ue, 5),
            n1_sm: None,
            n2_sm: None,
            up_cnx_state: Some(UpCnxState::Deactivated),
            location: None,
        }]
    );
    // Service Request with uplink data pending for PDU session 5.
    ue.ran_ue_ngap_id = hexcore_ngap::RanUeNgapId(2);
    let sr = service_request(&mut ue, &[5]);
    h.initial_ue_message(&ue, sr);
    reactivate(&mut h, &mut ue);
}

#[test]
fn downlink_data_for_an_idle_ue_pages_it_and_the_service_request_reactivates() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    establish(&mut h, &mut ue);
    release_to_idle(&mut h, &ue);
    take_smf(&mut h);
    // TS 23.502 §4.2.3.3: the SMF's N2-only transfer for an idle UE → Paging.
    h.amf.handle(
        h.now,
        Input::Smf(AmfRequest::N1N2MessageTransfer {
            context: context(&ue, 5),
            s_nssai: Some(Snssai { sst: 1, sd: None }),
            n1_sm: None,
            n2_sm: Some(N2SmInfo {
                kind: N2SmInfoType::PduResSetupReq,
                transfer: SETUP_REQUEST_TRANSFER.to_vec(),
            }),
        }),
    );
    h.drive();
    let p = Paging::parse(&h.take_one()).unwrap();
    let Some(hexcore_nas::ie::MobileIdentity::Guti(g)) = ue.identity.clone() else {
        panic!()
    };
    assert_eq!(p.ue_paging_identity.five_g_tmsi, g.tmsi);
    // The paging answer: a Service Request without uplink data; the paged session is
    // re-activated all the same.
    ue.ran_ue_ngap_id = hexcore_ngap::RanUeNgapId(3);
    let sr = service_request(&mut ue, &[]);
    h.initial_ue_message(&ue, sr);
    reactivate(&mut h, &mut ue);
}

#[test]
fn deregistration_releases_the_sm_contexts() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    establish(&mut h, &mut ue);
    let d = DeregistrationRequestUeOriginating::new(
        MmHeader::default(),
        hexcore_nas::ie::DeregistrationType {
            switch_off: true,
            re_registration_required: false,
            access_type: hexcore_nas::ie::AccessType::ThreeGpp,
        },
        hexcore_nas::ie::NasKeySetIdentifier { mapped: false, ksi: 0 },
        ue.identity.clone().unwrap(),
    );
    let bytes = ue.protect(&Message::from(d));
    h.uplink(&ue, bytes);
    assert_eq!(
        take_smf(&mut h),
        vec![SmfRequest::ReleaseSmContext {
            context: context(&ue, 5),
            cause: ReleaseCause::Deregistration,
        }]
    );
    let _ = UeContextReleaseCommand::parse(&h.take_one()).unwrap();

    // Network-initiated deregistration of another UE releases its sessions too.
    let mut other = TestUe::new(2);
    other.msin = "0000000002".into();
    h.udm.imsis.push(other.supi());
    register(&mut h, &mut other);
    establish(&mut h, &mut other);
    assert!(h.amf.deregister(h.now, &other.supi()));
    h.drive();
    assert_eq!(
        take_smf(&mut h),
        vec![SmfRequest::ReleaseSmContext {
            context: context(&other, 5),
            cause: ReleaseCause::Deregistration,
        }]
    );
    let _ = DownlinkNasTransport::parse(&h.take_one()).unwrap();
}
