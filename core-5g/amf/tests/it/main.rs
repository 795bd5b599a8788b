//! Procedure tests of the sans-IO AMF: a gNB and a UE built from hexcore-ngap,
//! hexcore-nas and hexcore-security drive it with real encoded messages on virtual time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod real_udm;
mod server;
mod sessions;
mod ue;

use std::time::Duration;

use common::*;
use hexcore_amf::{AssocId, Event, Input, Settings};
use hexcore_nas::ie::{
    CipheringAlgorithm, DeregistrationType, IdentityType, IntegrityAlgorithm, MobileIdentity, NasKeySetIdentifier,
    PartialTaiList, ResStar,
};
use hexcore_nas::mm::{
    AuthenticationResponse, DeregistrationRequestUeOriginating, MmHeader, RegistrationComplete, SecurityModeReject,
};
use hexcore_nas::{Message, MmCause, NasPdu};
use hexcore_ngap::procedures::{
    ErrorIndication, InitialContextSetupRequest, InitialContextSetupResponse, NgReset, NgResetAcknowledge,
    NgSetupFailure, NgSetupResponse, RanConfigurationUpdate, ResetType, UeContextReleaseCommand,
    UeContextReleaseComplete, UeContextReleaseRequest, UeNgapIds,
};
use hexcore_ngap::{Cause, CauseMisc, CauseNas, CauseProtocol, CauseRadioNetwork, Plmn};
use hexcore_security::keys;

// ------------------------------------------------------------------ NG Setup

#[test]
fn ng_setup_success() {
    let mut h = Harness::new();
    h.send(ng_setup_request(plmn(), 1, 1).build().unwrap());
    let pdu = h.take_one();
    let r = NgSetupResponse::parse(&pdu).unwrap();
    assert_eq!(r.amf_name, "hexcore-amf");
    assert_eq!(r.served_guamis.len(), 1);
    let g = r.served_guamis[0].guami;
    assert_eq!(
        (g.plmn, g.amf_region_id, g.amf_set_id, g.amf_pointer),
        (plmn(), 2, 1, 0)
    );
    assert_eq!(r.plmn_support[0].plmn, plmn());
    assert_eq!(r.plmn_support[0].slices[0].sst, 1);
    assert_eq!(h.amf.connected_gnbs(), 1);
    assert_eq!(h.count_events(|e| matches!(e, Event::GnbConnected { .. })), 1);
}

#[test]
fn ng_setup_failures_carry_cause_and_time_to_wait() {
    for (req, cause) in [
        // TS 38.413 §8.7.1.4: unknown PLMN.
        (
            ng_setup_request(Plmn::new("001", "01").unwrap(), 1, 1),
            Cause::Misc(CauseMisc::UnknownPlmnOrSnpn),
        ),
        // Our PLMN, a TAC we do not serve.
        (
            ng_setup_request(plmn(), 7, 1),
            Cause::Misc(CauseMisc::UnknownPlmnOrSnpn),
        ),
        // No slice in common.
        (ng_setup_request(plmn(), 1, 3), Cause::Misc(CauseMisc::Unspecified)),
    ] {
        let mut h = Harness::new();
        h.send(req.build().unwrap());
        let f = NgSetupFailure::parse(&h.take_one()).unwrap();
        assert_eq!(f.cause, cause);
        assert!(f.time_to_wait.is_some());
        assert_eq!(h.amf.connected_gnbs(), 0);
    }
}

#[test]
fn messages_before_ng_setup_and_malformed_ngap_get_error_indication() {
    let mut h = Harness::new();
    let ue = TestUe::new(1);
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let e = ErrorIndication::parse(&h.take_one()).unwrap();
    assert_eq!(
        e.cause,
        Some(Cause::Protocol(CauseProtocol::MessageNotCompatibleWithReceiverState))
    );
    // Not APER at all: transfer syntax error (TS 38.413 §10.2).
    h.send_bytes(&[0x00, 0x15, 0xff]);
    let e = ErrorIndication::parse(&h.take_one()).unwrap();
    assert_eq!(e.cause, Some(Cause::Protocol(CauseProtocol::TransferSyntaxError)));
    // The AMF lives on.
    h.setup();
}

#[test]
fn ran_configuration_update_and_ng_reset_from_gnb() {
    let mut h = Harness::new();
    h.setup();
    let upd = RanConfigurationUpdate {
        ran_node_name: Some("renamed".into()),
        supported_tas: Some(ng_setup_request(plmn(), 1, 1).supported_tas),
        default_paging_drx: None,
        global_gnb_id: None,
    };
    h.send(upd.build().unwrap());
    assert_eq!(h.take_one().message_name(), "RANConfigurationUpdateAcknowledge");
    let bad = RanConfigurationUpdate {
        supported_tas: Some(ng_setup_request(plmn(), 9, 1).supported_tas),
        ..upd
    };
    h.send(bad.build().unwrap());
    assert_eq!(h.take_one().message_name(), "RANConfigurationUpdateFailure");

    // A UE half-way through registration, then the gNB resets the whole interface.
    let mut ue = TestUe::new(5);
    h.register_until_smc(&mut ue);
    assert_eq!(h.amf.ue_count(), 1);
    let reset = NgReset {
        cause: Cause::Misc(CauseMisc::OmIntervention),
        reset_type: ResetType::NgInterface,
    };
    h.send(reset.build().unwrap());
    let ack = NgResetAcknowledge::parse(&h.take_one()).unwrap();
    assert!(ack.connections.is_empty());
    assert_eq!(h.amf.ue_count(), 0);
}

#[test]
fn amf_initiated_ng_reset_and_association_loss_clean_up() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(5);
    h.register_until_smc(&mut ue);
    h.amf.reset_gnb(h.assoc, Cause::Misc(CauseMisc::OmIntervention));
    h.drive();
    assert_eq!(h.take_one().message_name(), "NGReset");
    assert_eq!(h.amf.ue_count(), 0);

    let mut ue = TestUe::new(6);
    h.register_until_smc(&mut ue);
    assert_eq!(h.amf.ue_count(), 1);
    h.amf.handle(h.now, Input::AssociationDown { assoc: h.assoc });
    h.drive();
    assert_eq!(h.amf.ue_count(), 0);
    assert_eq!(h.amf.connected_gnbs(), 0);
    assert_eq!(h.count_events(|e| matches!(e, Event::GnbDisconnected { .. })), 1);
    // Another association is unaffected by the first one's loss.
    assert!(h.amf.ues_of(AssocId(2)).is_empty());
}

// ------------------------------------------------------------------ registration

/// Registration with a null-scheme SUCI through to Registration complete.
pub(crate) fn register(h: &mut Harness, ue: &mut TestUe) -> InitialContextSetupRequest {
    let smc = h.register_until_smc(ue);
    let complete = ue.security_mode(&smc);
    h.uplink(ue, complete);
    let pdu = h.take_one();
    let ics = InitialContextSetupRequest::parse(&pdu).unwrap();
    // Registration accept inside, protected with the new context.
    let accept = ue.read(ics.nas_pdu.as_ref().unwrap());
    let Message::RegistrationAccept(a) = &accept else {
        panic!("expected Registration accept, got {}", accept.name())
    };
    let guti = a.guti.as_ref().unwrap().guti().unwrap();
    assert_eq!((guti.amf_region_id, guti.amf_set_id, guti.amf_pointer), (2, 1, 0));
    // From now on the UE identifies itself with its 5G-GUTI.
    ue.identity = Some(MobileIdentity::Guti(guti));
    assert_eq!(
        a.tai_list.as_ref().unwrap().0,
        vec![PartialTaiList::NonConsecutive {
            plmn: hexcore_nas::ie::Plmn::new(MCC, MNC),
            tacs: vec![1]
        }]
    );
    assert_eq!(a.allowed_nssai.as_ref().unwrap().0[0].sst, 1);
    assert_eq!(a.t3512_value.unwrap().seconds(), Some(3600));
    // KgNB from the UE's side: KAMF and the uplink COUNT of the SMC complete (0).
    assert_eq!(
        ics.security_key,
        keys::kgnb(&ue.kamf.unwrap(), 0, keys::AccessType::ThreeGpp)
    );
    // NGAP capabilities: NEA1-3 and NIA1-3 (TS 38.413 §9.3.1.86).
    assert_eq!(ics.ue_security_capabilities.nr_encryption, 0xE000);
    assert_eq!(ics.ue_security_capabilities.nr_integrity, 0xE000);
    assert_eq!(ics.allowed_nssai[0].sst, 1);
    h.send(
        InitialContextSetupResponse {
            amf_ue_ngap_id: ics.amf_ue_ngap_id,
            ran_ue_ngap_id: ics.ran_ue_ngap_id,
            pdu_sessions: vec![],
            failed: vec![],
        }
        .build()
        .unwrap(),
    );
    let rc = ue.protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
    h.uplink(ue, rc);
    assert!(h.take().is_empty());
    ics
}

#[test]
fn registration_with_suci_null_scheme() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    let smc = h.register_until_smc(&mut ue);
    // Algorithms by the configured priority: NIA2 first, NEA0 first.
    let NasPdu::SecurityProtected(sp) = NasPdu::decode(&smc).unwrap() else {
        panic!()
    };
    let Some(Message::SecurityModeCommand(c)) = sp.message.as_deref() else {
        panic!()
    };
    assert_eq!(c.selected_algorithms.integrity, IntegrityAlgorithm::Nia2);
    assert_eq!(c.selected_algorithms.ciphering, CipheringAlgorithm::Nea0);
    assert_eq!(c.ngksi.ksi, 0);
    assert!(c.imeisv_request.is_some());
    // Only cleartext IEs came: the complete message is asked for (RINMR).
    assert!(c.additional_security_information.unwrap().rinmr());

    let complete = ue.security_mode(&smc);
    h.uplink(&ue, complete);
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    let _ = ue.read(ics.nas_pdu.as_ref().unwrap());
    let rc = ue.protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
    h.uplink(&ue, rc);
    let id = ue.amf_ue_ngap_id.unwrap().value();
    assert_eq!(h.amf.ue_state(id), Some("registered"));
    assert!(h.events.contains(&Event::Procedure {
        procedure: "registration",
        outcome: "success",
        cause: String::new()
    }));
}

#[test]
fn registration_with_ciphering_preferred() {
    let mut s = Settings::default();
    s.nas.ciphering_order = vec!["NEA2".into(), "NEA0".into()];
    s.nas.integrity_order = vec!["NIA1".into(), "NIA2".into()];
    let mut h = Harness::with_settings(s);
    h.setup();
    let mut ue = TestUe::new(1);
    let smc = h.register_until_smc(&mut ue);
    let NasPdu::SecurityProtected(sp) = NasPdu::decode(&smc).unwrap() else {
        panic!()
    };
    let Some(Message::SecurityModeCommand(c)) = sp.message.as_deref() else {
        panic!()
    };
    assert_eq!(c.selected_algorithms.integrity, IntegrityAlgorithm::Nia1);
    assert_eq!(c.selected_algorithms.ciphering, CipheringAlgorithm::Nea2);
    let complete = ue.security_mode(&smc);
    h.uplink(&ue, complete);
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    // Ciphered with 128-NEA2: the plaintext is not on the wire.
    let NasPdu::SecurityProtected(sp) = NasPdu::decode(ics.nas_pdu.as_ref().unwrap()).unwrap() else {
        panic!()
    };
    assert!(sp.message.is_none());
    assert!(matches!(
        ue.read(ics.nas_pdu.as_ref().unwrap()),
        Message::RegistrationAccept(_)
    ));
}

#[test]
fn full_registration_then_normal_deregistration() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    let dereg = DeregistrationRequestUeOriginating::new(
        MmHeader::default(),
        DeregistrationType {
            switch_off: false,
            re_registration_required: false,
            access_type: hexcore_nas::ie::AccessType::ThreeGpp,
        },
        NasKeySetIdentifier { mapped: false, ksi: 0 },
        ue.suci(),
    );
    let bytes = ue.protect(&Message::from(dereg));
    h.uplink(&ue, bytes);
    let out = h.take();
    assert_eq!(out.len(), 2);
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    assert!(matches!(
        ue.read(&dl.nas_pdu),
        Message::DeregistrationAcceptUeOriginating(_)
    ));
    let cmd = UeContextReleaseCommand::parse(&out[1]).unwrap();
    assert_eq!(cmd.cause, Cause::Nas(CauseNas::Deregister));
    let UeNgapIds::Pair(amf, ran) = cmd.ue_ngap_ids else {
        panic!()
    };
    h.send(
        UeContextReleaseComplete {
            amf_ue_ngap_id: amf,
            ran_ue_ngap_id: ran,
            pdu_session_ids: vec![],
        }
        .build()
        .unwrap(),
    );
    assert_eq!(h.amf.ue_count(), 0);
}

#[test]
fn switch_off_deregistration_has_no_accept() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    let dereg = DeregistrationRequestUeOriginating::new(
        MmHeader::default(),
        DeregistrationType {
            switch_off: true,
            re_registration_required: false,
            access_type: hexcore_nas::ie::AccessType::ThreeGpp,
        },
        NasKeySetIdentifier { mapped: false, ksi: 0 },
        ue.suci(),
    );
    let bytes = ue.protect(&Message::from(dereg));
    h.uplink(&ue, bytes);
    let cmd = UeContextReleaseCommand::parse(&h.take_one()).unwrap();
    assert_eq!(cmd.cause, Cause::Nas(CauseNas::Deregister));
}

#[test]
fn ue_context_release_requested_by_gnb() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    let req = UeContextReleaseRequest {
        amf_ue_ngap_id: ue.amf_ue_ngap_id.unwrap(),
        ran_ue_ngap_id: ue.ran_ue_ngap_id,
        pdu_session_ids: vec![],
        cause: Cause::RadioNetwork(CauseRadioNetwork::UserInactivity),
    };
    h.send(req.build().unwrap());
    let cmd = UeContextReleaseCommand::parse(&h.take_one()).unwrap();
    assert_eq!(cmd.cause, Cause::RadioNetwork(CauseRadioNetwork::UserInactivity));
    h.send(
        UeContextReleaseComplete {
            amf_ue_ngap_id: ue.amf_ue_ngap_id.unwrap(),
            ran_ue_ngap_id: ue.ran_ue_ngap_id,
            pdu_session_ids: vec![],
        }
        .build()
        .unwrap(),
    );
    assert_eq!(h.amf.ue_count(), 0);
    // A release for an id that is gone: Error Indication, unknown local UE NGAP ID.
    h.send(req.build().unwrap());
    let e = ErrorIndication::parse(&h.take_one()).unwrap();
    assert_eq!(
        e.cause,
        Some(Cause::RadioNetwork(CauseRadioNetwork::UnknownLocalUeNgapId))
    );
}

#[test]
fn many_ues_register_independently() {
    let mut h = Harness::new();
    h.setup();
    let mut ues: Vec<TestUe> = (0..5)
        .map(|i| {
            let mut ue = TestUe::new(100 + i);
            ue.msin = format!("000000000{}", i + 1);
            ue
        })
        .collect();
    for ue in &mut ues {
        register(&mut h, ue);
    }
    let ids: Vec<u64> = ues.iter().map(|u| u.amf_ue_ngap_id.unwrap().value()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 5);
    assert!(ids.iter().all(|id| h.amf.ue_state(*id) == Some("registered")));
}

// ------------------------------------------------------------------ 5G-AKA failure paths

fn expect_release(h: &mut Harness, cause: Cause) {
    let cmd = UeContextReleaseCommand::parse(&h.take_one()).unwrap();
    assert_eq!(cmd.cause, cause);
}

#[test]
fn synch_failure_resynchronises_then_registers() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    // The USIM has seen SQNs far ahead of the UDM's.
    ue.sqn_ms = 0x1000;
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let nas = h.downlink_nas(&mut ue);
    let msg = ue.read(&nas);
    let fail = ue.authenticate(&msg);
    assert!(matches!(&fail, Message::AuthenticationFailure(f) if f.cause == MmCause::SynchFailure));
    h.uplink(&ue, fail.encode());
    // A fresh challenge, from the resynchronised SQN (TS 33.102 Annex C).
    let nas = h.downlink_nas(&mut ue);
    let msg = ue.read(&nas);
    let resp = ue.authenticate(&msg);
    assert!(matches!(resp, Message::AuthenticationResponse(_)));
    h.uplink(&ue, resp.encode());
    let smc = h.downlink_nas(&mut ue);
    let complete = ue.security_mode(&smc);
    h.uplink(&ue, complete);
    assert_eq!(h.take_one().message_name(), "InitialContextSetupRequest");
    assert_eq!(
        h.count_events(|e| matches!(
            e,
            Event::AuthenticationFailure {
                reason: "synch_failure",
                ..
            }
        )),
        1
    );
}

#[test]
fn mac_failure_gets_authentication_reject() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    // A USIM with another K: the network's AUTN fails its MAC check.
    ue.milenage = hexcore_security::Milenage::new(&[0x11; 16], &OPC);
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let nas = h.downlink_nas(&mut ue);
    let msg = ue.read(&nas);
    let fail = ue.authenticate(&msg);
    assert!(matches!(&fail, Message::AuthenticationFailure(f) if f.cause == MmCause::MacFailure));
    h.uplink(&ue, fail.encode());
    let out = h.take();
    assert_eq!(out.len(), 2);
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    assert!(matches!(ue.read(&dl.nas_pdu), Message::AuthenticationReject(_)));
    assert_eq!(
        UeContextReleaseCommand::parse(&out[1]).unwrap().cause,
        Cause::Nas(CauseNas::AuthenticationFailure)
    );
    assert_eq!(
        h.count_events(|e| matches!(
            e,
            Event::AuthenticationFailure {
                reason: "mac_failure",
                ..
            }
        )),
        1
    );
}

#[test]
fn wrong_res_star_fails_the_hxres_check() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let _ = h.downlink_nas(&mut ue);
    let mut resp = AuthenticationResponse::new(MmHeader::default());
    resp.res_star = Some(ResStar([0x42; 16]));
    h.uplink(&ue, Message::from(resp).encode());
    let out = h.take();
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    assert!(matches!(ue.read(&dl.nas_pdu), Message::AuthenticationReject(_)));
    assert_eq!(out[1].message_name(), "UEContextReleaseCommand");
    // The AUSF was never asked to confirm.
    assert_eq!(
        h.count_events(|e| matches!(
            e,
            Event::AuthenticationFailure {
                reason: "res_star_mismatch",
                ..
            }
        )),
        1
    );
}

// ------------------------------------------------------------------ registration rejects

fn registration_reject_cause(h: &mut Harness, ue: &mut TestUe) -> MmCause {
    h.initial_ue_message(ue, Message::from(ue.registration_request()).encode());
    let out = h.take();
    assert_eq!(
        out.len(),
        2,
        "{:?}",
        out.iter().map(|p| p.message_name()).collect::<Vec<_>>()
    );
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    ue.amf_ue_ngap_id = Some(dl.amf_ue_ngap_id);
    let Message::RegistrationReject(r) = ue.read(&dl.nas_pdu) else {
        panic!("expected Registration reject")
    };
    assert_eq!(out[1].message_name(), "UEContextReleaseCommand");
    r.cause
}

#[test]
fn unknown_subscriber_is_illegal_ue() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    ue.msin = "0000000999".into();
    assert_eq!(registration_reject_cause(&mut h, &mut ue), MmCause::IllegalUe);
}

#[test]
fn suci_of_another_plmn_is_plmn_not_allowed() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    ue.home_plmn = ("001".into(), "01".into());
    assert_eq!(registration_reject_cause(&mut h, &mut ue), MmCause::PlmnNotAllowed);
}

#[test]
fn undecryptable_suci_is_identity_not_derivable() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    // A Profile A SUCI whose home network key the UDM does not have.
    ue.identity = Some(MobileIdentity::Suci(hexcore_nas::ie::Suci::Imsi(
        hexcore_nas::ie::SuciImsi {
            plmn: hexcore_nas::ie::Plmn::new(MCC, MNC),
            routing_indicator: "0".into(),
            protection_scheme: hexcore_nas::ie::ProtectionScheme::ProfileA,
            home_network_public_key_id: 9,
            scheme_output: hexcore_nas::ie::SchemeOutput::ProfileA {
                ephemeral_public_key: [7; 32],
                ciphertext: vec![1, 2, 3, 4, 5],
                mac_tag: [0; 8],
            },
        },
    )));
    assert_eq!(
        registration_reject_cause(&mut h, &mut ue),
        MmCause::UeIdentityCannotBeDerivedByTheNetwork
    );
}

#[test]
fn no_common_slice_is_no_network_slices_available() {
    let mut h = Harness::new();
    h.udm.nssai = vec![(2, None)];
    h.setup();
    let mut ue = TestUe::new(1);
    let smc = h.register_until_smc(&mut ue);
    let complete = ue.security_mode(&smc);
    h.uplink(&ue, complete);
    let out = h.take();
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    let Message::RegistrationReject(r) = ue.read(&dl.nas_pdu) else {
        panic!()
    };
    assert_eq!(r.cause, MmCause::NoNetworkSlicesAvailable);
}

#[test]
fn no_common_integrity_algorithm_is_capabilities_mismatch() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    // Only NIA0: refused outside emergency (TS 33.501 §5.5.2).
    ue.caps.nr_ia = 0x80;
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let nas = h.downlink_nas(&mut ue);
    let msg = ue.read(&nas);
    let resp = ue.authenticate(&msg);
    h.uplink(&ue, resp.encode());
    let out = h.take();
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    let Message::RegistrationReject(r) = ue.read(&dl.nas_pdu) else {
        panic!()
    };
    assert_eq!(r.cause, MmCause::UeSecurityCapabilitiesMismatch);
}

#[test]
fn security_mode_reject_releases() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    let _smc = h.register_until_smc(&mut ue);
    let rej = SecurityModeReject::new(MmHeader::default(), MmCause::UeSecurityCapabilitiesMismatch);
    h.uplink(&ue, Message::from(rej).encode());
    expect_release(&mut h, Cause::Nas(CauseNas::Unspecified));
}

// ------------------------------------------------------------------ identity, integrity, status

#[test]
fn guti_registration_uses_the_identity_procedure() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    ue.identity = Some(MobileIdentity::Guti(hexcore_nas::ie::Guti {
        plmn: hexcore_nas::ie::Plmn::new(MCC, MNC),
        amf_region_id: 2,
        amf_set_id: 1,
        amf_pointer: 0,
        tmsi: 0xdead,
    }));
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let nas = h.downlink_nas(&mut ue);
    assert_eq!(identity_type_of(&ue.read(&nas)), IdentityType::Suci);
    h.uplink(&ue, ue.identity_response().encode());
    let nas = h.downlink_nas(&mut ue);
    assert!(matches!(ue.read(&nas), Message::AuthenticationRequest(_)));
}

#[test]
fn bad_mac_and_unprotected_messages_are_dropped_and_counted() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    let mut bytes = ue.protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
    bytes[3] ^= 0xFF; // the MAC
    h.uplink(&ue, bytes);
    assert!(h.take().is_empty());
    // Plain after security is established: dropped too (TS 24.501 §4.4.4.3).
    h.uplink(
        &ue,
        Message::from(RegistrationComplete::new(MmHeader::default())).encode(),
    );
    assert!(h.take().is_empty());
    assert_eq!(
        h.count_events(|e| matches!(
            e,
            Event::NasDropped {
                reason: "integrity",
                ..
            }
        )),
        1
    );
    assert_eq!(
        h.count_events(|e| matches!(
            e,
            Event::NasDropped {
                reason: "unprotected",
                ..
            }
        )),
        1
    );
    assert_eq!(h.amf.ue_state(ue.amf_ue_ngap_id.unwrap().value()), Some("registered"));
}

#[test]
fn malformed_nas_gets_5gmm_status() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    // A Registration request cut inside its mobile identity.
    h.initial_ue_message(&ue, vec![0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01]);
    let out = h.take();
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    let Message::MmStatus(s) = ue.read(&dl.nas_pdu) else {
        panic!()
    };
    assert_eq!(s.cause, MmCause::InvalidMandatoryInformation);
    let _ = &mut ue;
}

// ------------------------------------------------------------------ timers

#[test]
fn t3560_retransmits_then_gives_up() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let first = h.downlink_nas(&mut ue);
    // No answer: four retransmissions of the same Authentication request, 6 s apart.
    for _ in 0..4 {
        h.advance(Duration::from_secs(6));
        assert_eq!(h.downlink_nas(&mut ue), first);
    }
    h.advance(Duration::from_secs(6));
    expect_release(&mut h, Cause::Nas(CauseNas::Unspecified));
    assert_eq!(h.amf.poll_timeout(), None);
}

#[test]
fn t3550_retransmits_registration_accept() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    let smc = h.register_until_smc(&mut ue);
    let complete = ue.security_mode(&smc);
    h.uplink(&ue, complete);
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    let _ = ue.read(ics.nas_pdu.as_ref().unwrap());
    h.advance(Duration::from_secs(6));
    // Retransmitted in a Downlink NAS Transport, with a new COUNT.
    let again = h.downlink_nas(&mut ue);
    assert!(matches!(ue.read(&again), Message::RegistrationAccept(_)));
    let rc = ue.protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
    h.uplink(&ue, rc);
    assert_eq!(h.amf.ue_state(ue.amf_ue_ngap_id.unwrap().value()), Some("registered"));
    assert_eq!(h.amf.poll_timeout(), None);
}

#[test]
fn late_udm_answers_are_ignored() {
    let mut h = Harness::new();
    h.auto_udm = false;
    h.setup();
    let ue = TestUe::new(1);
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    assert_eq!(h.udm_requests.len(), 1);
    // The gNB drops the association before the UDM answers.
    h.amf.handle(h.now, Input::AssociationDown { assoc: h.assoc });
    let req = h.udm_requests.remove(0);
    let resp = h.udm.handle(req);
    h.amf.handle(h.now, Input::Udm(resp));
    h.drive();
    assert!(h.take().is_empty());
    assert_eq!(h.amf.ue_count(), 0);
}

// ------------------------------------------------------------------ CM-IDLE: updates and service request

/// Register, then let the gNB release the connection (user inactivity).
pub(crate) fn register_then_idle(h: &mut Harness, ue: &mut TestUe) {
    register(h, ue);
    let req = UeContextReleaseRequest {
        amf_ue_ngap_id: ue.amf_ue_ngap_id.unwrap(),
        ran_ue_ngap_id: ue.ran_ue_ngap_id,
        pdu_session_ids: vec![],
        cause: Cause::RadioNetwork(CauseRadioNetwork::UserInactivity),
    };
    h.send(req.build().unwrap());
    let _ = h.take_one();
    h.send(
        UeContextReleaseComplete {
            amf_ue_ngap_id: ue.amf_ue_ngap_id.unwrap(),
            ran_ue_ngap_id: ue.ran_ue_ngap_id,
            pdu_session_ids: vec![],
        }
        .build()
        .unwrap(),
    );
    assert_eq!(h.amf.ue_count(), 0);
    assert_eq!(h.amf.idle_count(), 1);
}

#[test]
fn periodic_registration_update_from_idle_skips_authentication() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register_then_idle(&mut h, &mut ue);
    let mut req = ue.registration_request();
    req.registration_type.value = hexcore_nas::ie::RegistrationTypeValue::PeriodicUpdating;
    ue.ran_ue_ngap_id = hexcore_ngap::RanUeNgapId(2);
    let bytes = ue.protect_integrity(&Message::from(req));
    h.initial_ue_message(&ue, bytes);
    // No Authentication request: straight to Initial Context Setup with the accept.
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    assert!(matches!(
        ue.read(ics.nas_pdu.as_ref().unwrap()),
        Message::RegistrationAccept(_)
    ));
    // KgNB from the uplink COUNT of this request (the UE's second uplink message).
    assert_eq!(
        ics.security_key,
        keys::kgnb(&ue.kamf.unwrap(), 2, keys::AccessType::ThreeGpp)
    );
    assert_eq!(h.amf.ue_state(ics.amf_ue_ngap_id.value()), Some("registered"));
    assert_eq!(h.amf.idle_count(), 0);
}

#[test]
fn initial_registration_with_a_known_guti_runs_on_the_current_context() {
    // TS 24.501 §4.4.6, §5.5.1.2.2: from CM-IDLE the UE sends the cleartext IEs,
    // integrity protected, and the complete request ciphered in the NAS message
    // container; the AMF verifies, deciphers, and accepts with a new 5G-GUTI — no
    // identity procedure, no new 5G-AKA.
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register_then_idle(&mut h, &mut ue);
    let Some(MobileIdentity::Guti(old)) = ue.identity.clone() else {
        panic!()
    };
    let full = ue.registration_request();
    let mut cleartext = full.clone();
    cleartext.requested_nssai = None;
    cleartext.nas_message_container = Some(ue.container(&Message::from(full)));
    ue.ran_ue_ngap_id = hexcore_ngap::RanUeNgapId(2);
    let bytes = ue.protect_integrity(&Message::from(cleartext));
    h.initial_ue_message(&ue, bytes);
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    let Message::RegistrationAccept(a) = ue.read(ics.nas_pdu.as_ref().unwrap()) else {
        panic!("expected Registration accept")
    };
    let new = a.guti.as_ref().unwrap().guti().unwrap();
    assert_ne!(new.tmsi, old.tmsi, "a new 5G-GUTI");
    assert_eq!(a.allowed_nssai.as_ref().unwrap().0[0].sst, 1);
    assert_eq!(h.count_events(|e| matches!(e, Event::AuthenticationFailure { .. })), 0);
    // KgNB from the uplink COUNT of this request (the UE's second uplink message).
    assert_eq!(
        ics.security_key,
        keys::kgnb(&ue.kamf.unwrap(), 2, keys::AccessType::ThreeGpp)
    );
    let id = ics.amf_ue_ngap_id.value();
    assert_eq!(h.amf.ue_state(id), Some("accepting"));
    ue.amf_ue_ngap_id = Some(ics.amf_ue_ngap_id);
    let rc = ue.protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
    h.uplink(&ue, rc);
    assert_eq!(h.amf.ue_state(id), Some("registered"));

    // A container that does not decipher to a registration request: #95, no accept.
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register_then_idle(&mut h, &mut ue);
    let mut cleartext = ue.registration_request();
    cleartext.nas_message_container = Some(hexcore_nas::ie::NasMessageContainer(vec![0x55; 12]));
    ue.ran_ue_ngap_id = hexcore_ngap::RanUeNgapId(2);
    let bytes = ue.protect_integrity(&Message::from(cleartext));
    h.initial_ue_message(&ue, bytes);
    let out = h.take();
    let names: Vec<_> = out.iter().map(|p| p.message_name()).collect();
    assert_eq!(names, ["DownlinkNASTransport", "UEContextReleaseCommand"]);
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    let Message::RegistrationReject(r) = ue.read(&dl.nas_pdu) else {
        panic!("expected Registration reject")
    };
    assert_eq!(r.cause, MmCause::SemanticallyIncorrectMessage);
}

#[test]
fn service_request_from_idle() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register_then_idle(&mut h, &mut ue);
    let Some(MobileIdentity::Guti(g)) = ue.identity.clone() else {
        panic!()
    };
    let sr = hexcore_nas::mm::ServiceRequest::new(
        MmHeader::default(),
        NasKeySetIdentifier { mapped: false, ksi: 0 },
        hexcore_nas::ie::ServiceType::Signalling,
        MobileIdentity::STmsi(g.s_tmsi()),
    );
    ue.ran_ue_ngap_id = hexcore_ngap::RanUeNgapId(3);
    let bytes = ue.protect_integrity(&Message::from(sr.clone()));
    h.initial_ue_message(&ue, bytes);
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    assert!(matches!(
        ue.read(ics.nas_pdu.as_ref().unwrap()),
        Message::ServiceAccept(_)
    ));

    // A service request with a MAC that does not verify: Service reject #9.
    let mut other = TestUe::new(9);
    other.nas = ue.nas.clone();
    let mut bytes = other.protect_integrity(&Message::from(sr));
    bytes[2] ^= 0x55;
    h.initial_ue_message(&other, bytes);
    let out = h.take();
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    let Message::ServiceReject(r) = NasPdu::decode(&dl.nas_pdu)
        .map(|p| match p {
            NasPdu::Plain(m) => m,
            _ => panic!("a reject without context is plain"),
        })
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.cause, MmCause::UeIdentityCannotBeDerivedByTheNetwork);
}

#[test]
fn deregistered_ues_are_forgotten_and_guti_needs_identification() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    let dereg = DeregistrationRequestUeOriginating::new(
        MmHeader::default(),
        DeregistrationType {
            switch_off: true,
            re_registration_required: false,
            access_type: hexcore_nas::ie::AccessType::ThreeGpp,
        },
        NasKeySetIdentifier { mapped: false, ksi: 0 },
        ue.identity.clone().unwrap(),
    );
    let bytes = ue.protect(&Message::from(dereg));
    h.uplink(&ue, bytes);
    let cmd = UeContextReleaseCommand::parse(&h.take_one()).unwrap();
    let UeNgapIds::Pair(amf, ran) = cmd.ue_ngap_ids else {
        panic!()
    };
    h.send(
        UeContextReleaseComplete {
            amf_ue_ngap_id: amf,
            ran_ue_ngap_id: ran,
            pdu_session_ids: vec![],
        }
        .build()
        .unwrap(),
    );
    assert_eq!(h.amf.idle_count(), 0);
    // Its 5G-GUTI is unknown now: the identity procedure.
    let bytes = ue.protect_integrity(&Message::from(ue.registration_request()));
    h.initial_ue_message(&ue, bytes);
    let nas = h.downlink_nas(&mut ue);
    assert_eq!(
        identity_type_of(
            &NasPdu::decode(&nas)
                .map(|p| match p {
                    NasPdu::Plain(m) => m,
                    _ => panic!(),
                })
                .unwrap()
        ),
        IdentityType::Suci
    );
}

// ------------------------------------------------------------------ network-initiated

#[test]
fn network_initiated_deregistration_with_t3522() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    assert!(h.amf.deregister(h.now, IMSI));
    h.drive();
    let nas = h.downlink_nas(&mut ue);
    let Message::DeregistrationRequestUeTerminated(d) = ue.read(&nas) else {
        panic!()
    };
    assert!(!d.deregistration_type.re_registration_required);
    // Lost once: T3522 retransmits.
    h.advance(Duration::from_secs(6));
    let again = h.downlink_nas(&mut ue);
    assert!(matches!(ue.read(&again), Message::DeregistrationRequestUeTerminated(_)));
    let accept = ue.protect(&Message::from(hexcore_nas::mm::DeregistrationAcceptUeTerminated::new(
        MmHeader::default(),
    )));
    h.uplink(&ue, accept);
    expect_release(&mut h, Cause::Nas(CauseNas::Deregister));
    assert_eq!(h.amf.poll_timeout(), None);
    assert!(!h.amf.deregister(h.now, "999709999999999"));
}

#[test]
fn paging_an_idle_ue_then_deregistering_it_implicitly() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register_then_idle(&mut h, &mut ue);
    let Some(MobileIdentity::Guti(g)) = ue.identity.clone() else {
        panic!()
    };
    assert!(h.amf.page(g.tmsi));
    h.drive();
    let p = hexcore_ngap::procedures::Paging::parse(&h.take_one()).unwrap();
    assert_eq!(p.ue_paging_identity.five_g_tmsi, g.tmsi);
    assert_eq!(
        (p.ue_paging_identity.amf_set_id, p.ue_paging_identity.amf_pointer),
        (1, 0)
    );
    assert_eq!(p.tais.len(), 1);
    assert!(!h.amf.page(g.tmsi.wrapping_add(1)));
    assert!(h.amf.deregister(h.now, IMSI));
    assert_eq!(h.amf.idle_count(), 0);
}

#[test]
fn a_second_registration_of_one_supi_replaces_the_first() {
    let mut h = Harness::new();
    h.setup();
    let mut first = TestUe::new(1);
    register(&mut h, &mut first);
    let first_id = first.amf_ue_ngap_id.unwrap();
    let mut second = TestUe::new(2);
    second.sqn_ms = first.sqn_ms;
    let req = Message::from(second.registration_request()).encode();
    h.initial_ue_message(&second, req);
    let nas = h.downlink_nas(&mut second);
    let msg = second.read(&nas);
    let resp = second.authenticate(&msg);
    h.uplink(&second, resp.encode());
    // The old connection is released, then the SMC goes to the new one.
    let out = h.take();
    assert_eq!(out.len(), 2);
    let cmd = UeContextReleaseCommand::parse(&out[0]).unwrap();
    assert_eq!(cmd.ue_ngap_ids, UeNgapIds::Pair(first_id, first.ran_ue_ngap_id));
    assert_eq!(out[1].message_name(), "DownlinkNASTransport");
}

#[test]
fn ue_state_events_add_up_to_the_states() {
    let mut h = Harness::new();
    h.setup();
    let mut a = TestUe::new(1);
    register(&mut h, &mut a);
    let mut b = TestUe::new(2);
    b.msin = "0000000999".into();
    let _ = registration_reject_cause(&mut h, &mut b);
    let mut c = TestUe::new(3);
    c.sqn_ms = a.sqn_ms;
    c.msin = MSIN.into();
    h.initial_ue_message(&c, Message::from(c.registration_request()).encode());
    let mut gauge: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for e in &h.events {
        if let Event::UeState { from, to, .. } = e {
            if let Some(f) = from {
                *gauge.entry(f).or_default() -= 1;
            }
            if let Some(t) = to {
                *gauge.entry(t).or_default() += 1;
            }
        }
    }
    for state in ["registered", "releasing", "authenticating", "new"] {
        let actual = [1u64, 2, 3, 4]
            .iter()
            .filter(|id| h.amf.ue_state(**id) == Some(state))
            .count() as i64;
        assert_eq!(gauge.get(state).copied().unwrap_or(0), actual, "state {state}");
    }
    assert!(gauge.values().all(|v| *v >= 0));
}

#[test]
fn emergency_registration_is_not_offered() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    let mut req = ue.registration_request();
    req.registration_type.value = hexcore_nas::ie::RegistrationTypeValue::Emergency;
    h.initial_ue_message(&ue, Message::from(req).encode());
    let out = h.take();
    let dl = hexcore_ngap::procedures::DownlinkNasTransport::parse(&out[0]).unwrap();
    let Message::RegistrationReject(r) = ue.read(&dl.nas_pdu) else {
        panic!()
    };
    assert_eq!(r.cause, MmCause::FiveGsServicesNotAllowed);
}

#[test]
fn t3570_retransmits_identity_request_then_gives_up() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    ue.identity = Some(MobileIdentity::Guti(hexcore_nas::ie::Guti {
        plmn: hexcore_nas::ie::Plmn::new(MCC, MNC),
        amf_region_id: 2,
        amf_set_id: 1,
        amf_pointer: 0,
        tmsi: 0xbeef,
    }));
    h.initial_ue_message(&ue, Message::from(ue.registration_request()).encode());
    let first = h.downlink_nas(&mut ue);
    for _ in 0..4 {
        h.advance(Duration::from_secs(6));
        assert_eq!(h.downlink_nas(&mut ue), first);
    }
    h.advance(Duration::from_secs(6));
    expect_release(&mut h, Cause::Nas(CauseNas::Unspecified));
    assert_eq!(
        h.count_events(|e| matches!(e, Event::Retransmission { timer: "T3570", .. })),
        4
    );
}

#[test]
fn configuration_update_command_with_network_name() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    assert!(h.amf.configuration_update(h.now, IMSI, "hexcore"));
    h.drive();
    let nas = h.downlink_nas(&mut ue);
    let Message::ConfigurationUpdateCommand(c) = ue.read(&nas) else {
        panic!()
    };
    assert_eq!(c.full_name_for_network.unwrap().text().as_deref(), Some("hexcore"));
    assert!(!h.amf.configuration_update(h.now, "999709999999999", "x"));
}

#[test]
fn the_configured_network_name_follows_registration_complete() {
    // TS 24.501 §5.4.4: with `amf.network_name` set, the UE gets the name for its
    // display in a Configuration Update Command (no acknowledgement asked) once
    // registered.
    let mut s = Settings::default();
    s.amf.network_name = Some("hexcore".into());
    let mut h = Harness::with_settings(s);
    h.setup();
    let mut ue = TestUe::new(1);
    let smc = h.register_until_smc(&mut ue);
    let complete = ue.security_mode(&smc);
    h.uplink(&ue, complete);
    let ics = InitialContextSetupRequest::parse(&h.take_one()).unwrap();
    assert!(matches!(
        ue.read(ics.nas_pdu.as_ref().unwrap()),
        Message::RegistrationAccept(_)
    ));
    ue.amf_ue_ngap_id = Some(ics.amf_ue_ngap_id);
    let rc = ue.protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
    h.uplink(&ue, rc);
    let nas = h.downlink_nas(&mut ue);
    let Message::ConfigurationUpdateCommand(c) = ue.read(&nas) else {
        panic!("expected Configuration update command")
    };
    assert_eq!(c.full_name_for_network.unwrap().text().as_deref(), Some("hexcore"));
    assert_eq!(c.short_name_for_network.unwrap().text().as_deref(), Some("hexcore"));
    assert!(c.configuration_update_indication.is_none(), "no acknowledgement asked");
    // An empty name is refused at start, naming the key.
    let mut bad = Settings::default();
    bad.amf.network_name = Some(String::new());
    let e = hexcore_amf::AmfConfig::new(bad).unwrap_err().to_string();
    assert!(e.contains("amf.network_name"), "{e}");
}

#[test]
fn idle_ues_are_implicitly_deregistered_after_t3512_and_margins() {
    let mut h = Harness::new();
    h.setup();
    let mut ue = TestUe::new(1);
    register_then_idle(&mut h, &mut ue);
    // T3512 (1 h) + mobile reachable and implicit deregistration margins (8 min).
    h.advance(Duration::from_secs(3600 + 479));
    assert_eq!(h.amf.idle_count(), 1);
    h.advance(Duration::from_secs(2));
    assert_eq!(h.amf.idle_count(), 0);
    assert_eq!(h.amf.poll_timeout(), None);
    assert_eq!(
        h.count_events(|e| matches!(
            e,
            Event::Procedure {
                procedure: "implicit_deregistration",
                ..
            }
        )),
        1
    );
}

#[test]
fn two_gnbs_at_once_and_one_goes_away() {
    let mut h = Harness::new();
    h.setup();
    let second = AssocId(2);
    h.amf.handle(
        h.now,
        Input::AssociationUp {
            assoc: second,
            out_streams: 2,
        },
    );
    let bytes = ng_setup_request(plmn(), 1, 1).build().unwrap().encode().unwrap();
    h.amf.handle(
        h.now,
        Input::Ngap {
            assoc: second,
            stream: 0,
            bytes,
        },
    );
    h.drive();
    let (assoc, stream, pdu) = h.sent.remove(0);
    assert_eq!((assoc, stream, pdu.message_name()), (second, 0, "NGSetupResponse"));
    assert_eq!(h.amf.connected_gnbs(), 2);
    let mut ue = TestUe::new(1);
    register(&mut h, &mut ue);
    h.amf.handle(h.now, Input::AssociationDown { assoc: second });
    h.drive();
    assert_eq!(h.amf.connected_gnbs(), 1);
    assert_eq!(h.amf.ue_state(ue.amf_ue_ngap_id.unwrap().value()), Some("registered"));
}
