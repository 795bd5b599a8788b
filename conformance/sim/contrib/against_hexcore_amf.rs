// The simulator against hexcore's own sans-IO AMF (core-5g/amf), in process and over
// SCTP/UDP with a UDM emulated here. Kept out of `tests/` while the AMF's API settles,
// so that this crate's tests do not break with every AMF change. To run it:
//   1. add to conformance/sim/Cargo.toml:
//        [dev-dependencies]
//        hexcore-amf = { path = "../../core-5g/amf" }
//   2. cp contrib/against_hexcore_amf.rs tests/ && cargo test -p hexcore-sim --test against_hexcore_amf -- --nocapture
// Last run (AMF at 7f66b40's time): 19 passed, 3 failed (registration-guti,
// periodic-registration, ue-context-release-service-request: the AMF deletes the UE
// context on UE Context Release instead of keeping it RM-REGISTERED/CM-IDLE), 2 skipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The simulator against hexcore's sans-IO AMF (see the note above).
use std::time::{Duration, Instant};

use hexcore_amf::{Amf, AmfConfig, AssocId, Input, Output, Settings, UdmFailure, UdmRequest, UdmResponse, UeIdentity};
use hexcore_ngap::Plmn;
use hexcore_security::keys::{self, ServingNetworkName};
use hexcore_security::{Milenage, sqn};
use hexcore_sim::runner::{DEFAULT_K, DEFAULT_OPC};
use hexcore_sim::{GnbConfig, RegistrationKind, Sim, SimEvent, UeConfig};

struct Udm {
    sqn: u64,
    pending: std::collections::HashMap<u64, ([u8; 16], [u8; 16], [u8; 32], String)>,
}

impl Udm {
    fn answer(&mut self, r: UdmRequest) -> UdmResponse {
        match r {
            UdmRequest::Authenticate { ue, identity, serving_network_name, resync } => {
                let supi = match identity {
                    UeIdentity::Supi(s) => s,
                    UeIdentity::Suci(s) => {
                        // suci-0-999-70-0-0-0-0000000001
                        let p: Vec<&str> = s.split('-').collect();
                        format!("{}{}{}", p[2], p[3], p[7])
                    }
                };
                if !supi.starts_with("9997000000") || supi == "999709999999999" {
                    return UdmResponse::Failed { ue, failure: UdmFailure::UnknownSubscriber };
                }
                let m = Milenage::new(&DEFAULT_K, &DEFAULT_OPC);
                if let Some((rand, auts)) = resync {
                    let ms = m.verify_auts(&rand, &auts).unwrap();
                    self.sqn = sqn::resync_sqn(sqn::sqn_from_bytes(&ms));
                } else {
                    self.sqn = sqn::next_sqn(self.sqn);
                }
                let rand = [0x33 ^ self.sqn as u8; 16];
                let (autn, v) = m.generate_autn(&rand, &sqn::sqn_to_bytes(self.sqn), &[0x80, 0]);
                let snn = ServingNetworkName::from_received(&serving_network_name).unwrap();
                let xres = keys::res_star(&v.ck, &v.ik, &snn, &rand, &v.res).unwrap();
                let kausf = keys::kausf(&v.ck, &v.ik, &snn, &autn[..6].try_into().unwrap()).unwrap();
                let kseaf = keys::kseaf(&kausf, &snn).unwrap();
                self.pending.insert(ue, (rand, xres, kseaf, supi));
                UdmResponse::Challenge { ue, ctx: 1, rand, autn, hxres_star: keys::hres_star(&rand, &xres) }
            }
            UdmRequest::Confirm { ue, res_star, .. } => {
                let (_, xres, kseaf, supi) = self.pending[&ue].clone();
                if xres == res_star {
                    UdmResponse::Confirmed { ue, supi, kseaf }
                } else {
                    UdmResponse::Failed { ue, failure: UdmFailure::AuthenticationRejected }
                }
            }
            UdmRequest::SubscriptionData { ue, .. } => UdmResponse::Subscription { ue, nssai: vec![(1, None)], ue_ambr: None },
        }
    }
}

fn drive(sim: &mut Sim, amf: &mut Amf, udm: &mut Udm, now: &mut Instant) -> Vec<SimEvent> {
    let mut ev = Vec::new();
    for _ in 0..200 {
        let mut moved = false;
        while let Some(t) = sim.poll_transmit() {
            moved = true;
            amf.handle(*now, Input::Ngap { assoc: AssocId(1), stream: t.stream, bytes: t.data });
        }
        while let Some(o) = amf.poll_output() {
            match o {
                Output::Ngap { bytes, .. } => {
                    moved = true;
                    sim.handle_ngap(&bytes);
                }
                Output::Udm(r) => {
                    moved = true;
                    let a = udm.answer(r);
                    amf.handle(*now, Input::Udm(a));
                }
                Output::Event(e) => println!("  amf event {e:?}"),
            }
        }
        while let Some(e) = sim.poll_event() {
            println!("  sim {e:?}");
            ev.push(e);
        }
        if !moved {
            if let Some(t) = amf.poll_timeout() {
                if t <= *now + Duration::from_secs(1) {
                    *now = t;
                    amf.handle(*now, Input::Timeout);
                    continue;
                }
            }
            return ev;
        }
    }
    ev
}

#[test]
fn against_hexcore_amf() {
    let cfg = AmfConfig::new(Settings::default()).unwrap();
    let mut amf = Amf::new(cfg, 7);
    let mut udm = Udm { sqn: 0, pending: Default::default() };
    let mut now = Instant::now();
    amf.handle(now, Input::AssociationUp { assoc: AssocId(1), out_streams: 2 });
    let mut sim = Sim::new(GnbConfig::new(Plmn::new("999", "70").unwrap(), 1));
    sim.ng_setup().unwrap();
    println!("NG setup");
    drive(&mut sim, &mut amf, &mut udm, &mut now);
    let ue = sim.add_ue(UeConfig::new("999700000000001", 2, DEFAULT_K, DEFAULT_OPC)).unwrap();
    sim.register(ue, RegistrationKind::InitialSuci).unwrap();
    println!("register");
    drive(&mut sim, &mut amf, &mut udm, &mut now);
    println!("service request path: release");
    let _ = sim.gnb_mut().ue_context_release_request(ue, hexcore_ngap::Cause::RadioNetwork(hexcore_ngap::CauseRadioNetwork::UserInactivity));
    drive(&mut sim, &mut amf, &mut udm, &mut now);
    let _ = sim.service_request(ue);
    drive(&mut sim, &mut amf, &mut udm, &mut now);
    println!("dereg");
    sim.deregister(ue, false).unwrap();
    drive(&mut sim, &mut amf, &mut udm, &mut now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_against_hexcore_amf_over_udp() {
    use hexcore_sctp::{AssociationEvent, N2Listener, PPID_NGAP, Transport};
    use std::sync::Arc;
    use tokio::sync::Mutex;
    let listener = N2Listener::bind(Transport::Udp, ([127, 0, 0, 1], 0).into()).unwrap();
    let addr = listener.local_addr().unwrap();
    let amf = Arc::new(Mutex::new(Amf::new(AmfConfig::new(Settings::default()).unwrap(), 7)));
    let udm = Arc::new(Mutex::new(Udm { sqn: 0, pending: Default::default() }));
    let mut next = 1u64;
    tokio::spawn(async move {
        while let Ok((assoc, _)) = listener.accept().await {
            let id = AssocId(next);
            next += 1;
            let amf = amf.clone();
            let udm = udm.clone();
            tokio::spawn(async move {
                amf.lock().await.handle(Instant::now(), Input::AssociationUp { assoc: id, out_streams: 16 });
                loop {
                    let wait = amf.lock().await.poll_timeout().map(|t| t.saturating_duration_since(Instant::now())).unwrap_or(Duration::from_millis(200)).min(Duration::from_millis(200));
                    let ev = tokio::time::timeout(wait, assoc.recv()).await;
                    let mut out = Vec::new();
                    {
                        let mut a = amf.lock().await;
                        match ev {
                            Ok(Some(AssociationEvent::Message { stream, data, .. })) => a.handle(Instant::now(), Input::Ngap { assoc: id, stream, bytes: data.to_vec() }),
                            Ok(Some(AssociationEvent::Down { .. }) | None) => { a.handle(Instant::now(), Input::AssociationDown { assoc: id }); return; }
                            Ok(Some(_)) => {}
                            Err(_) => { if a.poll_timeout().is_some_and(|t| t <= Instant::now()) { a.handle(Instant::now(), Input::Timeout); } }
                        }
                        loop {
                            let Some(o) = a.poll_output() else { break };
                            match o {
                                Output::Ngap { assoc: to, stream, bytes } if to == id => out.push((stream, bytes)),
                                Output::Ngap { .. } => {}
                                Output::Udm(r) => { let ans = udm.lock().await.answer(r); a.handle(Instant::now(), Input::Udm(ans)); }
                                Output::Event(_) => {}
                            }
                        }
                    }
                    for (s, b) in out { if assoc.send(s, PPID_NGAP, b).await.is_err() { return; } }
                }
            });
        }
    });
    let mut s = hexcore_sim::runner::Settings::new(addr, Transport::Udp);
    s.timeout = Duration::from_secs(8);
    let (report, _) = hexcore_sim::runner::run(&s, &[]).await.unwrap();
    println!("{}", report.table());
}
