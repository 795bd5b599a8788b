//! The AMF with the real AUSF/UDM (`hexcore_udm::LocalUdm` on a `MemoryStore`) through
//! the adapter `hexcore up` uses: SUCI Profile A and Profile B de-concealed by the UDM's
//! SIDF, 5G-AKA vectors from the UDM's SQN management.

use std::sync::Arc;

use hexcore_amf::glue::UdmBackend;
use hexcore_nas::Message;
use hexcore_nas::ie::{MobileIdentity, Plmn as NasPlmn, ProtectionScheme, SchemeOutput, Suci, SuciImsi};
use hexcore_ngap::procedures::InitialContextSetupRequest;
use hexcore_security::suci;
use hexcore_udm::{HnScheme, LocalUdm, MemoryStore, NewSubscriber, Snssai, Udm, UdmApi, UdrStore};
use rand::SeedableRng;

use crate::common::*;

// The adapter lives in the binary (no network function's crate depends on another's);
// its one source is compiled here too.
#[path = "../../../../src/links/amf_udm.rs"]
mod amf_udm;
use amf_udm::UdmApiBackend;

fn real_udm() -> (Arc<dyn UdmApi>, Vec<hexcore_udm::HnPublicKey>) {
    real_udm_with(None)
}

fn real_udm_with(auth_method: Option<&str>) -> (Arc<dyn UdmApi>, Vec<hexcore_udm::HnPublicKey>) {
    let store = MemoryStore::new();
    let sub = NewSubscriber {
        imsi: IMSI,
        k: "465b5ce8b199b49faa5f0a2ee238a6bc",
        opc: Some("cd63cb71954a9f4e48a5994e37a02baf"),
        nssai: vec![Snssai { sst: 1, sd: None }],
        auth_method,
        ..Default::default()
    }
    .build()
    .unwrap();
    store.insert_subscriber(&sub).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let udm = Udm::open(store, &mut rng).unwrap();
    let keys = udm.hn_public_keys();
    (Arc::new(LocalUdm::new(udm, rng)), keys)
}

fn harness_with(api: Arc<dyn UdmApi>) -> Harness {
    let backend = UdmApiBackend(api);
    // The backend runs the UDM on the runtime's blocking threads.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut h = Harness::new();
    h.backend = Some(Box::new(move |req| rt.block_on(backend.call(req))));
    h
}

fn concealed(scheme: HnScheme, keys: &[hexcore_udm::HnPublicKey]) -> MobileIdentity {
    let key = keys.iter().find(|k| k.scheme == scheme).expect("a key of the scheme");
    let public = hex::decode(&key.public_key).unwrap();
    let (ps, nas_ps) = match scheme {
        HnScheme::ProfileA => (suci::ProtectionScheme::ProfileA, ProtectionScheme::ProfileA),
        HnScheme::ProfileB => (suci::ProtectionScheme::ProfileB, ProtectionScheme::ProfileB),
    };
    let out = suci::conceal(ps, &public, &[7; 32], &suci::scheme_input_from_msin(MSIN).unwrap()).unwrap();
    let n = out.len();
    let output = match scheme {
        HnScheme::ProfileA => SchemeOutput::ProfileA {
            ephemeral_public_key: out[..32].try_into().unwrap(),
            ciphertext: out[32..n - 8].to_vec(),
            mac_tag: out[n - 8..].try_into().unwrap(),
        },
        HnScheme::ProfileB => SchemeOutput::ProfileB {
            ephemeral_public_key: out[..33].try_into().unwrap(),
            ciphertext: out[33..n - 8].to_vec(),
            mac_tag: out[n - 8..].try_into().unwrap(),
        },
    };
    MobileIdentity::Suci(Suci::Imsi(SuciImsi {
        plmn: NasPlmn::new(MCC, MNC),
        routing_indicator: "0".into(),
        protection_scheme: nas_ps,
        home_network_public_key_id: key.id,
        scheme_output: output,
    }))
}

fn register_with(h: &mut Harness, ue: &mut TestUe) {
    let smc = h.register_until_smc(ue);
    accept_after_smc(h, ue, &smc);
}

/// Answer the Security mode command; the Registration accept comes in the Initial
/// Context Setup.
fn accept_after_smc(h: &mut Harness, ue: &mut TestUe, smc: &[u8]) {
    let complete = ue.security_mode(smc);
    h.uplink(ue, complete);
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    assert!(matches!(
        ue.read(ics.nas_pdu.as_ref().unwrap()),
        Message::RegistrationAccept(_)
    ));
}

#[test]
fn suci_null_profile_a_and_profile_b_with_the_real_udm() {
    let (api, keys) = real_udm();
    for scheme in [None, Some(HnScheme::ProfileA), Some(HnScheme::ProfileB)] {
        let mut h = harness_with(api.clone());
        h.setup();
        let mut ue = TestUe::new(1);
        // The UDM's SQN moves on between runs; the USIM accepts any fresher one.
        ue.identity = scheme.map(|s| concealed(s, &keys));
        register_with(&mut h, &mut ue);
    }
}

#[test]
fn resynchronisation_and_unknown_subscriber_with_the_real_udm() {
    let (api, _) = real_udm();
    let mut h = harness_with(api);
    h.setup();
    let mut ue = TestUe::new(1);
    // The USIM has seen SQNs far ahead of the UDM's: synch failure, AUTS, a fresh
    // challenge from the resynchronised SQN_HE (TS 33.102 Annex C).
    ue.sqn_ms = 1 << 30;
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let nas = h.downlink_nas(&mut ue);
    let msg = ue.read(&nas);
    let fail = ue.authenticate(&msg);
    assert!(matches!(&fail, Message::AuthenticationFailure(_)));
    h.uplink(&ue, fail.encode());
    let nas = h.downlink_nas(&mut ue);
    let msg = ue.read(&nas);
    let resp = ue.authenticate(&msg);
    assert!(matches!(resp, Message::AuthenticationResponse(_)));
    h.uplink(&ue, resp.encode());
    let smc = h.downlink_nas(&mut ue);
    let complete = ue.security_mode(&smc);
    h.uplink(&ue, complete);
    assert_eq!(h.take_one().message_name(), "InitialContextSetupRequest");
    let mut other = TestUe::new(2);
    other.msin = "0000000077".into();
    h.initial_ue_message(&other, Message::from(other.registration_request()).encode());
    let out = h.take();
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    let Message::RegistrationReject(r) = other.read(&dl.nas_pdu) else {
        panic!()
    };
    assert_eq!(r.cause, hexcore_nas::MmCause::IllegalUe);
}

#[test]
fn eap_aka_prime_with_the_real_udm() {
    // TS 33.501 §6.1.3.1: the subscriber is on EAP-AKA'. The AMF relays the AUSF's
    // EAP-Request in the Authentication request and the UE's EAP-Response back; the
    // Security mode command carries the EAP-Success and the ABBA (TS 24.501 §5.4.2.2);
    // the KAMF both sides derive from EMSK's KAUSF matches (the SMC's MAC verifies).
    let (api, _) = real_udm_with(Some("eap-aka-prime"));
    let mut h = harness_with(api.clone());
    h.setup();
    let mut ue = TestUe::new(1);
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let nas = h.downlink_nas(&mut ue);
    let Message::AuthenticationRequest(req) = ue.read(&nas) else {
        panic!("expected Authentication request")
    };
    assert!(req.rand.is_none() && req.autn.is_none(), "EAP carries RAND and AUTN");
    let eap = req.eap_message.clone().expect("an EAP message");
    assert_eq!(eap.code(), Some(1), "EAP-Request");
    let resp = ue.authenticate(&Message::from(req));
    h.uplink(&ue, resp.encode());
    let smc = h.downlink_nas(&mut ue);
    let sp = hexcore_nas::SecurityProtected::decode(&smc).unwrap();
    let Some(Message::SecurityModeCommand(c)) = sp.message.as_deref() else {
        panic!("expected Security mode command")
    };
    assert_eq!(c.eap_message.as_ref().and_then(|e| e.code()), Some(3), "EAP-Success");
    assert!(c.abba.is_some());
    accept_after_smc(&mut h, &mut ue, &smc);

    // A USIM far ahead: AKA'-Synchronization-Failure, the AUSF resynchronises and
    // challenges again, and the registration completes.
    let mut h = harness_with(api.clone());
    h.setup();
    let mut ue = TestUe::new(1);
    ue.sqn_ms = 1 << 30;
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    for _ in 0..2 {
        let nas = h.downlink_nas(&mut ue);
        let msg = ue.read(&nas);
        let resp = ue.authenticate(&msg);
        h.uplink(&ue, resp.encode());
    }
    let smc = h.downlink_nas(&mut ue);
    accept_after_smc(&mut h, &mut ue, &smc);

    // A wrong K at the UE: AKA'-Authentication-Reject, and the network answers with
    // Authentication reject carrying the EAP-Failure.
    let mut h = harness_with(api);
    h.setup();
    let mut ue = TestUe::new(1);
    ue.milenage = hexcore_security::Milenage::new(&[1; 16], &[2; 16]);
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let nas = h.downlink_nas(&mut ue);
    let msg = ue.read(&nas);
    let resp = ue.authenticate(&msg);
    h.uplink(&ue, resp.encode());
    // The reject, then the release of the NG connection.
    let out = h.take();
    assert_eq!(out.len(), 2);
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    assert!(hexcore_ngap::procedures::UeContextReleaseCommand::parse(&out[1]).is_ok());
    let Message::AuthenticationReject(r) = ue.read(&dl.nas_pdu) else {
        panic!("expected Authentication reject")
    };
    assert_eq!(r.eap_message.and_then(|e| e.code()), Some(4), "EAP-Failure");
}
