//! The simulator against an AMF emulated in memory (`amf.rs`): whole procedures, both
//! sides checking each other's keys and MACs, on deterministic inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod amf;
mod pdu;
mod runner;

use amf::{Amf, Subscriber};
use hexcore_nas::MmCause;
use hexcore_ngap::{Cause, CauseRadioNetwork, Plmn};
use hexcore_sim::gnb::NgState;
use hexcore_sim::runner::{DEFAULT_K, DEFAULT_OPC};
use hexcore_sim::ue::MmState;
use hexcore_sim::{
    Behaviour, GnbConfig, GnbEvent, RegistrationKind, Sim, SimEvent, SuciProfile, UeConfig, UeEvent, UeKey,
};

const IMSI: &str = "999700000000001";

fn amf() -> Amf {
    amf_with(3)
}

/// An emulated AMF with subscribers 999700000000001 onwards.
pub fn amf_with(n: u64) -> Amf {
    let mut a = Amf::new();
    for i in 1..=n {
        a.subscribers.insert(
            format!("{}", 999_700_000_000_000u64 + i),
            Subscriber {
                k: DEFAULT_K,
                opc: DEFAULT_OPC,
                sqn: 0,
            },
        );
    }
    a
}

fn gnb() -> GnbConfig {
    GnbConfig::new(Plmn::new("999", "70").unwrap(), 1)
}

/// Move PDUs both ways until both sides are quiet (bounded), returning every event.
fn drive(sim: &mut Sim, amf: &mut Amf) -> Vec<SimEvent> {
    let mut events = Vec::new();
    for _ in 0..100 {
        let mut moved = false;
        while let Some(t) = sim.poll_transmit() {
            moved = true;
            amf.handle(&t.data);
        }
        for pdu in std::mem::take(&mut amf.out) {
            moved = true;
            sim.handle_ngap(&pdu);
        }
        while let Some(e) = sim.poll_event() {
            events.push(e);
        }
        if !moved {
            return events;
        }
    }
    panic!("no quiescence after 100 rounds")
}

fn ue_events(events: &[SimEvent], ue: UeKey) -> Vec<UeEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            SimEvent::Ue(k, u) if *k == ue => Some(u.clone()),
            _ => None,
        })
        .collect()
}

fn setup() -> (Sim, Amf) {
    let mut sim = Sim::new(gnb());
    let mut amf = amf();
    sim.ng_setup().unwrap();
    let ev = drive(&mut sim, &mut amf);
    assert!(matches!(&ev[..], [SimEvent::Gnb(GnbEvent::NgSetupResponse { amf_name, .. })] if amf_name == "test-amf"));
    assert_eq!(sim.gnb().state(), &NgState::Ready);
    (sim, amf)
}

#[test]
fn ng_setup_unknown_plmn_fails() {
    let mut sim = Sim::new(GnbConfig::new(Plmn::new("001", "01").unwrap(), 1));
    let mut amf = amf();
    sim.ng_setup().unwrap();
    let ev = drive(&mut sim, &mut amf);
    assert!(matches!(&ev[..], [SimEvent::Gnb(GnbEvent::NgSetupFailure { .. })]));
    assert!(matches!(sim.gnb().state(), NgState::Failed(_)));
}

#[test]
fn registration_with_null_suci_end_to_end() {
    let (mut sim, mut amf) = setup();
    let ue = sim.add_ue(UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC)).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    let ev = drive(&mut sim, &mut amf);
    let u = ue_events(&ev, ue);
    assert_eq!(u[0], UeEvent::AuthenticationResponded);
    assert_eq!(
        u[1],
        UeEvent::SecurityModeCompleted {
            nea: hexcore_security::Nea::Nea2,
            nia: hexcore_security::Nia::Nia2
        }
    );
    assert!(matches!(u[2], UeEvent::Registered { guti: Some(g), .. } if g.tmsi == 0x1001));
    // The AMF's KgNB and the UE's agree (TS 33.501 A.9).
    assert!(ev.contains(&SimEvent::KgnbChecked { ue, matches: true }));
    // The AMF verified every uplink MAC and saw the Registration Complete.
    assert!(amf.registered(IMSI));
    assert_eq!(sim.ue(ue).unwrap().state(), MmState::Registered);
    assert!(amf.log.iter().any(|l| l == "InitialContextSetupResponse"));
}

#[test]
fn registration_with_profile_a_suci() {
    let (mut sim, mut amf) = setup();
    let mut c = UeConfig::new("999700000000002", 2, DEFAULT_K, DEFAULT_OPC);
    c.suci = SuciProfile::ProfileA {
        public_key: hex::decode(amf::PROFILE_A_PUBLIC).unwrap(),
        key_id: 1,
    };
    let ue = sim.add_ue(c).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    let ev = drive(&mut sim, &mut amf);
    assert!(
        ue_events(&ev, ue)
            .iter()
            .any(|e| matches!(e, UeEvent::Registered { .. }))
    );
    // The AMF de-concealed the MSIN with the Annex C.4 private key.
    assert!(amf.registered("999700000000002"));
}

#[test]
fn profile_b_suci_is_concealed_with_the_annex_key() {
    // TS 33.501 Annex C.4.4: the Profile B home network public key (compressed).
    let public = hex::decode("0272da71976234ce833a6907425867b82e074d44ef907dfb4b3e21c1c2256ebcd1").unwrap();
    let private = hex::decode("f1ab1074477ebcc7f554ea1c5fc368b1616730155e0041ac447d6301975fecda").unwrap();
    let mut c = UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC);
    c.suci = SuciProfile::ProfileB {
        public_key: public,
        key_id: 2,
    };
    let mut ue = hexcore_sim::Ue::new(c).unwrap();
    ue.register(RegistrationKind::InitialSuci).unwrap();
    let t = ue.poll_transmit().unwrap();
    assert!(t.initial);
    let hexcore_nas::NasPdu::Plain(hexcore_nas::Message::RegistrationRequest(r)) =
        hexcore_nas::NasPdu::decode(&t.nas).unwrap()
    else {
        panic!()
    };
    let hexcore_nas::ie::MobileIdentity::Suci(hexcore_nas::ie::Suci::Imsi(s)) = r.mobile_identity else {
        panic!()
    };
    assert_eq!(s.home_network_public_key_id, 2);
    let hexcore_nas::ie::SchemeOutput::ProfileB {
        ephemeral_public_key,
        ciphertext,
        mac_tag,
    } = s.scheme_output
    else {
        panic!()
    };
    let mut out = ephemeral_public_key.to_vec();
    out.extend_from_slice(&ciphertext);
    out.extend_from_slice(&mac_tag);
    let key = hexcore_security::suci::HomeNetworkKey::profile_b(&private).unwrap();
    let bcd = key.deconceal(&out).unwrap();
    assert_eq!(
        hexcore_security::suci::msin_from_scheme_input(&bcd).unwrap(),
        "0000000001"
    );
    // Only cleartext IEs in the initial message (TS 24.501 §4.4.6).
    assert!(r.requested_nssai.is_none());
    assert!(r.ue_security_capability.is_some());
}

#[test]
fn sqn_resynchronisation() {
    let (mut sim, mut amf) = setup();
    let mut c = UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC);
    c.sqn_seen = Some(1 << 25);
    let ue = sim.add_ue(c).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    let ev = drive(&mut sim, &mut amf);
    let u = ue_events(&ev, ue);
    assert_eq!(u[0], UeEvent::AuthenticationFailureSent(MmCause::SynchFailure));
    assert_eq!(u[1], UeEvent::AuthenticationResponded);
    assert!(matches!(u.last(), Some(UeEvent::Registered { .. })));
    // The network continued after SQN_MS.
    assert!(amf.subscribers[IMSI].sqn > 1 << 25);
}

#[test]
fn wrong_key_is_a_mac_failure_and_rejected() {
    let (mut sim, mut amf) = setup();
    let mut k = DEFAULT_K;
    k[15] ^= 0x80;
    let ue = sim.add_ue(UeConfig::new(IMSI, 2, k, DEFAULT_OPC)).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert_eq!(
        u,
        vec![
            UeEvent::AuthenticationFailureSent(MmCause::MacFailure),
            UeEvent::AuthenticationRejected
        ]
    );
    assert_eq!(sim.ue(ue).unwrap().state(), MmState::Deregistered);
}

#[test]
fn unknown_subscriber_is_rejected() {
    let (mut sim, mut amf) = setup();
    let ue = sim
        .add_ue(UeConfig::new("999709999999999", 2, DEFAULT_K, DEFAULT_OPC))
        .unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert_eq!(
        u,
        vec![UeEvent::RegistrationRejected(MmCause::FiveGsServicesNotAllowed)]
    );
}

#[test]
fn security_mode_reject_and_release() {
    let (mut sim, mut amf) = setup();
    let mut c = UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC);
    c.behaviour = Behaviour {
        reject_security_mode: Some(MmCause::SecurityModeRejectedUnspecified),
    };
    let ue = sim.add_ue(c).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    let ev = drive(&mut sim, &mut amf);
    assert!(ue_events(&ev, ue).contains(&UeEvent::SecurityModeRejected(MmCause::SecurityModeRejectedUnspecified)));
    assert!(
        ev.iter()
            .any(|e| matches!(e, SimEvent::Gnb(GnbEvent::UeContextReleased { .. })))
    );
    assert!(amf.log.iter().any(|l| l == "Security mode reject"));
    assert!(!amf.registered(IMSI));
}

#[test]
fn nia1_nea1_and_nia3_nea3_work_too() {
    for (nea, nia) in [
        (hexcore_security::Nea::Nea1, hexcore_security::Nia::Nia1),
        (hexcore_security::Nea::Nea3, hexcore_security::Nia::Nia3),
        (hexcore_security::Nea::Nea0, hexcore_security::Nia::Nia2),
    ] {
        let (mut sim, mut amf) = setup();
        amf.nea = nea;
        amf.nia = nia;
        let ue = sim.add_ue(UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC)).unwrap();
        sim.register(ue, RegistrationKind::InitialSuci).unwrap();
        let u = ue_events(&drive(&mut sim, &mut amf), ue);
        assert!(
            u.contains(&UeEvent::SecurityModeCompleted { nea, nia }),
            "{nea:?}/{nia:?}: {u:?}"
        );
        assert!(amf.registered(IMSI));
    }
}

#[test]
fn deregistration_normal_and_switch_off() {
    for switch_off in [false, true] {
        let (mut sim, mut amf) = setup();
        let ue = sim.add_ue(UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC)).unwrap();
        sim.register(ue, RegistrationKind::InitialSuci).unwrap();
        drive(&mut sim, &mut amf);
        sim.deregister(ue, switch_off).unwrap();
        let ev = drive(&mut sim, &mut amf);
        assert_eq!(ue_events(&ev, ue).contains(&UeEvent::Deregistered), !switch_off);
        assert!(
            ev.iter()
                .any(|e| matches!(e, SimEvent::Gnb(GnbEvent::UeContextReleased { .. })))
        );
        assert!(!amf.registered(IMSI));
        assert!(!sim.ue(ue).unwrap().is_connected());
        assert_eq!(sim.ue(ue).unwrap().state(), MmState::Deregistered);
    }
}

#[test]
fn release_then_service_request_then_guti_registration() {
    let (mut sim, mut amf) = setup();
    let ue = sim.add_ue(UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC)).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    drive(&mut sim, &mut amf);
    sim.gnb_mut()
        .ue_context_release_request(ue, Cause::RadioNetwork(CauseRadioNetwork::UserInactivity))
        .unwrap();
    drive(&mut sim, &mut amf);
    assert!(!sim.ue(ue).unwrap().is_connected());
    sim.service_request(ue).unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert_eq!(u, vec![UeEvent::ServiceAccepted]);
    // The service request was integrity protected (the emulated AMF checks the MAC) and
    // carried the 5G-S-TMSI in a new Initial UE Message.
    assert_eq!(amf.log.iter().filter(|l| *l == "InitialUEMessage").count(), 2);
    sim.gnb_mut()
        .ue_context_release_request(ue, Cause::RadioNetwork(CauseRadioNetwork::UserInactivity))
        .unwrap();
    drive(&mut sim, &mut amf);
    // Registration with the 5G-GUTI: the emulated AMF does not know GUTIs and asks for
    // the identity, then runs AKA again.
    sim.register(ue, RegistrationKind::InitialGuti).unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert_eq!(u[0], UeEvent::IdentityRequested(hexcore_nas::ie::IdentityType::Suci));
    assert!(matches!(u.last(), Some(UeEvent::Registered { .. })));
}

#[test]
fn tampered_downlink_is_discarded() {
    let (mut sim, mut amf) = setup();
    let ue = sim.add_ue(UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC)).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    drive(&mut sim, &mut amf);
    // A protected Service Accept with one MAC bit flipped (TS 24.501 §4.4.4.2: discard).
    sim.service_request(ue).ok();
    while sim.poll_transmit().is_some() {}
    let (ran, amf_id) = sim.gnb().ids(ue).unwrap();
    let mut nas = vec![0x7e, 0x02, 0, 0, 0, 0, 0x05, 0x7e, 0x00, 0x4e];
    nas[2] = 0x55;
    let dl = hexcore_ngap::procedures::DownlinkNasTransport {
        amf_ue_ngap_id: amf_id.unwrap(),
        ran_ue_ngap_id: ran,
        nas_pdu: nas,
    };
    sim.handle_ngap(&dl.build().unwrap().encode().unwrap());
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert!(matches!(&u[..], [UeEvent::Discarded(_)]), "{u:?}");
}

#[test]
fn many_ues_at_once() {
    let (mut sim, mut amf) = setup();
    for i in 0..100u64 {
        let imsi = format!("9997000000{:05}", 100 + i);
        amf.subscribers.insert(
            imsi.clone(),
            Subscriber {
                k: DEFAULT_K,
                opc: DEFAULT_OPC,
                sqn: 0,
            },
        );
        let ue = sim.add_ue(UeConfig::new(&imsi, 2, DEFAULT_K, DEFAULT_OPC)).unwrap();
        sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    }
    let ev = drive(&mut sim, &mut amf);
    let registered = ev
        .iter()
        .filter(|e| matches!(e, SimEvent::Ue(_, UeEvent::Registered { .. })))
        .count();
    assert_eq!(registered, 100);
    // Each UE got its own RAN UE NGAP ID.
    let mut ids: Vec<u32> = (0..100).map(|i| sim.gnb().ids(UeKey(i)).unwrap().0.0).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100);
}

#[test]
fn downlink_for_an_unknown_ue_gets_error_indication() {
    let (mut sim, _amf) = setup();
    let dl = hexcore_ngap::procedures::DownlinkNasTransport {
        amf_ue_ngap_id: hexcore_ngap::AmfUeNgapId::new(77).unwrap(),
        ran_ue_ngap_id: hexcore_ngap::RanUeNgapId(4242),
        nas_pdu: vec![0x7e, 0x00, 0x5b, 0x01],
    };
    sim.handle_ngap(&dl.build().unwrap().encode().unwrap());
    let t = sim.poll_transmit().unwrap();
    let pdu = hexcore_ngap::NgapPdu::decode(&t.data).unwrap();
    let ei = hexcore_ngap::procedures::ErrorIndication::parse(&pdu).unwrap();
    assert_eq!(
        ei.cause,
        Some(Cause::RadioNetwork(CauseRadioNetwork::UnknownLocalUeNgapId))
    );
    assert_eq!(ei.ran_ue_ngap_id, Some(hexcore_ngap::RanUeNgapId(4242)));
    // Garbage gets a transfer-syntax Error Indication, and no panic.
    sim.handle_ngap(&[0x00, 0x0f, 0x40]);
    let t = sim.poll_transmit().unwrap();
    let ei =
        hexcore_ngap::procedures::ErrorIndication::parse(&hexcore_ngap::NgapPdu::decode(&t.data).unwrap()).unwrap();
    assert_eq!(
        ei.cause,
        Some(Cause::Protocol(hexcore_ngap::CauseProtocol::TransferSyntaxError))
    );
}
