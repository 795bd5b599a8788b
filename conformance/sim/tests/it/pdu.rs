//! PDU sessions in memory against the emulated AMF+SMF+UPF: establishment, release,
//! rejection, the payload the AMF does not forward, user plane deactivation on release,
//! paging and re-activation in the Service Request's Initial Context Setup, the
//! network-requested release of a UPF restart. Both sides check each other's bytes
//! (NAS MACs, the ciphered container of the Service Request, the transfers).

use std::net::{Ipv4Addr, SocketAddr};

use hexcore_nas::{MmCause, SmCause};
use hexcore_ngap::{Cause, CauseRadioNetwork};
use hexcore_sim::runner::{DEFAULT_K, DEFAULT_OPC};
use hexcore_sim::{GnbEvent, RegistrationKind, Sim, SimEvent, UeConfig, UeEvent, UeKey};

use crate::amf::{self, Amf};
use crate::{IMSI, drive, setup, ue_events};

fn registered() -> (Sim, Amf, UeKey) {
    let (mut sim, mut amf) = setup();
    let ue = sim.add_ue(UeConfig::new(IMSI, 2, DEFAULT_K, DEFAULT_OPC)).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    drive(&mut sim, &mut amf);
    (sim, amf, ue)
}

fn gnb_events(events: &[SimEvent]) -> Vec<GnbEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            SimEvent::Gnb(g) => Some(g.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn establishment_and_ue_requested_release() {
    let (mut sim, mut amf, ue) = registered();
    sim.establish_pdu_session(ue, 1, Some("internet"), Some((1, None)))
        .unwrap();
    let ev = drive(&mut sim, &mut amf);
    assert_eq!(
        ue_events(&ev, ue),
        vec![UeEvent::PduSessionEstablished {
            psi: 1,
            ipv4: Some(Ipv4Addr::new(10, 45, 0, 2)),
            qfi: 1,
            dnn: Some("internet".into()),
        }]
    );
    let s = sim.ue(ue).unwrap().pdu_session(1).unwrap();
    assert_eq!((s.dns.clone(), s.mtu), (vec![Ipv4Addr::new(8, 8, 8, 8)], Some(1400)));
    // The gNB took the UL tunnel of the transfer and gave its DL tunnel back; the UPF
    // now sends downlink to 127.0.0.1 (the gNB's default N3 address), TEID 1.
    let up = gnb_events(&ev)
        .into_iter()
        .find(|g| matches!(g, GnbEvent::PduSessionUp { .. }))
        .unwrap();
    let GnbEvent::PduSessionUp {
        upf,
        ul_teid,
        dl_teid,
        qfi,
        ..
    } = up
    else {
        unreachable!()
    };
    assert_eq!((upf, dl_teid, qfi), (SocketAddr::from(([127, 0, 0, 1], 2152)), 1, 1));
    let session = amf.upf.lock().unwrap().sessions[&ul_teid].clone();
    assert_eq!(session.dl, Some((Ipv4Addr::LOCALHOST, 1)));
    assert!(amf.log.iter().any(|l| l == "PDUSessionResourceSetupResponse"));

    sim.release_pdu_session(ue, 1).unwrap();
    let ev = drive(&mut sim, &mut amf);
    assert_eq!(
        ue_events(&ev, ue),
        vec![UeEvent::PduSessionReleased {
            psi: 1,
            cause: Some(SmCause::RegularDeactivation)
        }]
    );
    let g = gnb_events(&ev);
    assert!(g.contains(&GnbEvent::PduSessionReleaseCommand { ue, psis: vec![1] }));
    assert!(g.contains(&GnbEvent::PduSessionDown { ue, psi: 1, dl_teid: 1 }));
    assert!(amf.log.iter().any(|l| l == "PDUSessionResourceReleaseResponse"));
    assert!(
        amf.log
            .iter()
            .any(|l| l == "UL NAS transport / PDU session release complete")
    );
    assert!(amf.upf.lock().unwrap().sessions.is_empty());
    assert!(sim.ue(ue).unwrap().pdu_sessions().is_empty());
}

#[test]
fn two_dnns_and_the_refusals() {
    let (mut sim, mut amf, ue) = registered();
    sim.establish_pdu_session(ue, 1, Some("internet"), Some((1, None)))
        .unwrap();
    drive(&mut sim, &mut amf);
    sim.establish_pdu_session(ue, 2, Some("ims"), Some((1, None))).unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert!(matches!(&u[..], [UeEvent::PduSessionEstablished { psi: 2, dnn: Some(d), .. }] if d == "ims"));
    assert_eq!(sim.gnb().sessions(ue).len(), 2);
    // An unknown DNN: the SMF rejects (#27).
    sim.establish_pdu_session(ue, 3, Some("no-such-dnn"), Some((1, None)))
        .unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert_eq!(
        u,
        vec![UeEvent::PduSessionRejected {
            psi: 3,
            cause: SmCause::MissingOrUnknownDnn
        }]
    );
    // A slice outside the allowed NSSAI: the AMF sends the payload back with #90.
    sim.establish_pdu_session(ue, 4, Some("internet"), Some((1, Some(0xABCDEF))))
        .unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert_eq!(
        u,
        vec![UeEvent::PayloadNotForwarded {
            psi: 4,
            cause: MmCause::PayloadWasNotForwarded
        }]
    );
    assert_eq!(sim.ue(ue).unwrap().pdu_sessions(), vec![1, 2]);
    // The same PSI again is refused by the UE itself.
    assert!(sim.establish_pdu_session(ue, 1, Some("internet"), None).is_err());
}

#[test]
fn release_paging_and_reactivation() {
    let (mut sim, mut amf, ue) = registered();
    sim.establish_pdu_session(ue, 1, Some("internet"), Some((1, None)))
        .unwrap();
    drive(&mut sim, &mut amf);
    // The gNB releases the idle UE; its request names the session (the emulated AMF
    // asserts it), the tunnel goes, the UPF keeps the session without DL tunnel.
    sim.gnb_mut()
        .ue_context_release_request(ue, Cause::RadioNetwork(CauseRadioNetwork::UserInactivity))
        .unwrap();
    let ev = drive(&mut sim, &mut amf);
    assert!(gnb_events(&ev).contains(&GnbEvent::PduSessionDown { ue, psi: 1, dl_teid: 1 }));
    assert!(sim.gnb().sessions(ue).is_empty());
    assert!(
        sim.ue(ue).unwrap().pdu_session(1).is_some(),
        "the UE keeps its session while idle"
    );

    // Downlink data: buffered at the UPF, the UE paged.
    assert!(amf.downlink_data(Ipv4Addr::new(10, 45, 0, 2)));
    assert_eq!(amf.upf.lock().unwrap().buffered.len(), 1);
    let ev = drive(&mut sim, &mut amf);
    let u = ue_events(&ev, ue);
    assert_eq!(u, vec![UeEvent::Paged, UeEvent::ServiceAccepted]);
    // TS 24.501 §5.6.1.2: the answer to paging is mobile-terminated access.
    assert_eq!(
        amf.log
            .iter()
            .rfind(|l| l.starts_with("RRC establishment cause"))
            .unwrap(),
        "RRC establishment cause mt_Access"
    );
    // Service Request → Initial Context Setup with the session, a new DL TEID, and the
    // KgNB of the Service Request's COUNT on both sides.
    assert!(amf.log.iter().any(|l| l == "re-activating [1]"));
    assert!(ev.contains(&SimEvent::KgnbChecked { ue, matches: true }));
    assert!(
        gnb_events(&ev)
            .iter()
            .any(|g| matches!(g, GnbEvent::PduSessionUp { psi: 1, dl_teid: 2, .. }))
    );
    let upf = amf.upf.lock().unwrap();
    assert!(upf.buffered.is_empty());
    let (to, datagram) = upf.out.last().unwrap();
    assert_eq!(*to, SocketAddr::from(([127, 0, 0, 1], 2152)));
    let g = hexcore_gtpu::parse_gpdu(datagram).unwrap();
    assert_eq!((g.teid, g.qfi), (2, Some(1)));
    assert_eq!(
        datagram[g.payload.clone()],
        amf::downlink_ping(Ipv4Addr::new(10, 45, 0, 2))
    );
}

#[test]
fn uplink_data_from_idle_asks_for_service() {
    let (mut sim, mut amf, ue) = registered();
    sim.establish_pdu_session(ue, 1, Some("internet"), Some((1, None)))
        .unwrap();
    drive(&mut sim, &mut amf);
    sim.gnb_mut()
        .ue_context_release_request(ue, Cause::RadioNetwork(CauseRadioNetwork::UserInactivity))
        .unwrap();
    drive(&mut sim, &mut amf);
    // TS 24.501 §5.6.1.2: Service Request for data with the uplink data status (in the
    // ciphered container); the AMF re-activates the session.
    sim.uplink_data_pending(ue, 1).unwrap();
    let ev = drive(&mut sim, &mut amf);
    assert_eq!(ue_events(&ev, ue), vec![UeEvent::ServiceAccepted]);
    assert_eq!(
        amf.log
            .iter()
            .rfind(|l| l.starts_with("RRC establishment cause"))
            .unwrap(),
        "RRC establishment cause mo_Data"
    );
    assert!(
        gnb_events(&ev)
            .iter()
            .any(|g| matches!(g, GnbEvent::PduSessionUp { psi: 1, .. }))
    );
}

#[test]
fn upf_restart_releases_with_reactivation_requested() {
    let (mut sim, mut amf, ue) = registered();
    sim.establish_pdu_session(ue, 1, Some("internet"), Some((1, None)))
        .unwrap();
    drive(&mut sim, &mut amf);
    assert!(amf.upf_restarted());
    let ev = drive(&mut sim, &mut amf);
    assert_eq!(
        ue_events(&ev, ue),
        vec![UeEvent::PduSessionReleased {
            psi: 1,
            cause: Some(SmCause::ReactivationRequested)
        }]
    );
    // Re-established with a new address.
    sim.establish_pdu_session(ue, 1, Some("internet"), Some((1, None)))
        .unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert!(matches!(
        &u[..],
        [UeEvent::PduSessionEstablished { psi: 1, ipv4: Some(ip), .. }] if *ip == Ipv4Addr::new(10, 45, 0, 3)
    ));
}

#[test]
fn deregistration_ends_the_sessions() {
    let (mut sim, mut amf, ue) = registered();
    sim.establish_pdu_session(ue, 1, Some("internet"), Some((1, None)))
        .unwrap();
    drive(&mut sim, &mut amf);
    sim.deregister(ue, false).unwrap();
    let u = ue_events(&drive(&mut sim, &mut amf), ue);
    assert_eq!(
        u,
        vec![
            UeEvent::Deregistered,
            UeEvent::PduSessionReleased { psi: 1, cause: None }
        ]
    );
    assert!(sim.gnb().sessions(ue).is_empty());
}
