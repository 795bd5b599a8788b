//! One UE context driven alone: no `Amf` around it, only its [`Env`] (configuration,
//! time, 5G-TMSIs) and the [`Effects`] it returns — what a procedure does to one UE,
//! and what it asks of the AMF, in the order it asks.

use std::time::{Duration, Instant};

use hexcore_amf::timers::NasTimer;
use hexcore_amf::ue::{Effect, Effects, Env, MmContext, Tmsi, Ue, UeEvent};
use hexcore_amf::{AmfConfig, AssocId, Output, Settings, UdmRequest};
use hexcore_nas::Message;
use hexcore_nas::mm::{MmHeader, RegistrationComplete};
use hexcore_ngap::procedures::{DownlinkNasTransport, InitialContextSetupRequest, UeContextReleaseCommand};
use hexcore_ngap::{AmfUeNgapId, Cause, CauseNas, NgapPdu};

use crate::common::*;

/// A UE context, the peers it talks to, and virtual time.
struct Lone {
    config: AmfConfig,
    now: Instant,
    next_tmsi: u32,
    ue: Ue,
    udm: FakeUdm,
    phone: TestUe,
}

impl Lone {
    fn new() -> Self {
        let phone = TestUe::new(7);
        let mut fx = Effects::new();
        let id = AmfUeNgapId::new(42).unwrap();
        let ue = Ue::new(id, AssocId(1), 1, phone.ran_ue_ngap_id, location(), &mut fx);
        Self {
            config: AmfConfig::new(Settings::default()).unwrap(),
            now: Instant::now(),
            next_tmsi: 100,
            ue,
            udm: FakeUdm::new(),
            phone,
        }
    }

    /// Handle one event; the effects, in order.
    fn step(&mut self, event: UeEvent) -> Vec<Effect> {
        let in_use = |_: Tmsi| false;
        let mut env = Env::new(&self.config, self.now, &mut self.next_tmsi, &in_use);
        let mut fx = Effects::new();
        self.ue.handle(&mut env, event, &mut fx);
        std::iter::from_fn(|| fx.pop()).collect()
    }

    fn uplink(&mut self, nas_pdu: Vec<u8>) -> Vec<Effect> {
        self.step(UeEvent::UplinkNas {
            nas_pdu,
            location: location(),
        })
    }

    /// Answer the one UDM request among `effects` with the fake AUSF/UDM.
    fn answer_udm(&mut self, effects: &[Effect]) -> Vec<Effect> {
        let request = the_udm_request(effects);
        let response = self.udm.handle(request);
        self.step(UeEvent::Udm(response))
    }

    /// Register from the first message to Registration complete; the 5G-GUTI.
    fn register(&mut self) -> hexcore_nas::ie::Guti {
        let request = Message::from(self.phone.registration_request()).encode();
        let fx = self.step(UeEvent::InitialNas {
            nas_pdu: request,
            idle: None,
        });
        let fx = self.answer_udm(&fx);
        let challenge = self.phone.read(&downlink_nas(&fx));
        let response = self.phone.authenticate(&challenge);
        let fx = self.uplink(response.encode());
        let fx = self.answer_udm(&fx);
        let smc = downlink_nas(&fx);
        let complete = self.phone.security_mode(&smc);
        let fx = self.uplink(complete);
        let fx = self.answer_udm(&fx);
        let ics = ngap(&fx, "InitialContextSetupRequest");
        let ics = InitialContextSetupRequest::parse(&ics).unwrap();
        let Message::RegistrationAccept(accept) = self.phone.read(&ics.nas_pdu.unwrap()) else {
            panic!("the Initial Context Setup carries the Registration accept")
        };
        let Some(hexcore_nas::ie::MobileIdentity::Guti(guti)) = accept.guti else {
            panic!("a 5G-GUTI is assigned")
        };
        let complete = self
            .phone
            .protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
        assert!(outputs(&self.uplink(complete)).all(|o| !matches!(o, Output::Ngap { .. })));
        guti
    }
}

fn outputs(effects: &[Effect]) -> impl Iterator<Item = &Output> {
    effects.iter().filter_map(|e| match e {
        Effect::Output(o) => Some(o),
        _ => None,
    })
}

fn the_udm_request(effects: &[Effect]) -> UdmRequest {
    let mut requests = outputs(effects).filter_map(|o| match o {
        Output::Udm(r) => Some(r.clone()),
        _ => None,
    });
    let request = requests.next().expect("a UDM request");
    assert!(requests.next().is_none(), "one UDM request");
    request
}

/// The one NGAP message named `name` among the effects.
fn ngap(effects: &[Effect], name: &str) -> NgapPdu {
    let mut found: Vec<NgapPdu> = outputs(effects)
        .filter_map(|o| match o {
            Output::Ngap { bytes, .. } => Some(NgapPdu::decode(bytes).unwrap()),
            _ => None,
        })
        .filter(|p| p.message_name() == name)
        .collect();
    assert_eq!(found.len(), 1, "one {name} in {effects:?}");
    found.remove(0)
}

fn downlink_nas(effects: &[Effect]) -> Vec<u8> {
    DownlinkNasTransport::parse(&ngap(effects, "DownlinkNASTransport"))
        .unwrap()
        .nas_pdu
}

#[test]
fn a_ue_registers_without_the_amf() {
    let mut lone = Lone::new();
    let request = Message::from(lone.phone.registration_request()).encode();
    let fx = lone.step(UeEvent::InitialNas {
        nas_pdu: request,
        idle: None,
    });
    assert!(matches!(the_udm_request(&fx), UdmRequest::Authenticate { ue: 42, .. }));
    assert_eq!(lone.ue.state().name(), "awaiting_challenge");
    assert_eq!(lone.ue.timer(), None);

    let fx = lone.answer_udm(&fx);
    assert_eq!(lone.ue.state().name(), "authenticating");
    let (timer, deadline) = lone.ue.timer().expect("T3560 guards the Authentication request");
    assert_eq!((timer, deadline), (NasTimer::T3560, lone.now + Duration::from_secs(6)));
    let challenge = lone.phone.read(&downlink_nas(&fx));
    let response = lone.phone.authenticate(&challenge);
    let fx = lone.uplink(response.encode());
    assert!(matches!(the_udm_request(&fx), UdmRequest::Confirm { .. }));
    assert_eq!(lone.ue.timer(), None);

    // Confirmed: the UE asks the AMF to drop other contexts of its SUPI before its
    // Security mode command goes out.
    let fx = lone.answer_udm(&fx);
    let authenticated = fx
        .iter()
        .position(|e| matches!(e, Effect::Authenticated { supi, .. } if *supi == IMSI))
        .expect("the SUPI is announced");
    let smc = fx
        .iter()
        .position(|e| matches!(e, Effect::Output(Output::Ngap { .. })))
        .unwrap();
    assert!(authenticated < smc);
    assert_eq!(lone.ue.supi(), Some(IMSI));
    let complete = lone.phone.security_mode(&downlink_nas(&fx));
    let fx = lone.uplink(complete);
    assert!(matches!(the_udm_request(&fx), UdmRequest::SubscriptionData { .. }));

    let fx = lone.answer_udm(&fx);
    assert_eq!(lone.ue.state().name(), "accepting");
    assert_eq!(lone.ue.timer().map(|t| t.0), Some(NasTimer::T3550));
    let ics = InitialContextSetupRequest::parse(&ngap(&fx, "InitialContextSetupRequest")).unwrap();
    let Message::RegistrationAccept(accept) = lone.phone.read(&ics.nas_pdu.unwrap()) else {
        panic!("Registration accept")
    };
    assert!(matches!(
        accept.guti,
        Some(hexcore_nas::ie::MobileIdentity::Guti(g)) if g.tmsi == 100
    ));
    let complete = lone
        .phone
        .protect(&Message::from(RegistrationComplete::new(MmHeader::default())));
    lone.uplink(complete);
    assert!(lone.ue.is_registered());
    assert_eq!(lone.ue.timer(), None);
    assert_eq!(lone.ue.summary().tmsi, Some(100));
    // The next 5G-TMSI is the allocator's next one.
    assert_eq!(lone.next_tmsi, 101);
}

#[test]
fn t3560_retransmits_four_times_then_the_connection_is_released() {
    let mut lone = Lone::new();
    let request = Message::from(lone.phone.registration_request()).encode();
    let fx = lone.step(UeEvent::InitialNas {
        nas_pdu: request,
        idle: None,
    });
    let fx = lone.answer_udm(&fx);
    let first = downlink_nas(&fx);
    // TS 24.501 §5.4.1.3.7 a: retransmitted on each of the first four expiries.
    for n in 1..=4 {
        let (_, deadline) = lone.ue.timer().unwrap();
        lone.now = deadline;
        let fx = lone.step(UeEvent::Timeout);
        assert_eq!(downlink_nas(&fx), first, "retransmission {n} is the same message");
        assert_eq!(lone.ue.timer().map(|t| t.0), Some(NasTimer::T3560));
    }
    let (_, deadline) = lone.ue.timer().unwrap();
    lone.now = deadline;
    let fx = lone.step(UeEvent::Timeout);
    let release = UeContextReleaseCommand::parse(&ngap(&fx, "UEContextReleaseCommand")).unwrap();
    assert_eq!(release.cause, Cause::Nas(CauseNas::Unspecified));
    assert_eq!(lone.ue.state().name(), "releasing");
    assert_eq!(lone.ue.timer(), None);
}

#[test]
fn a_registered_context_goes_idle_and_an_unregistered_one_is_forgotten() {
    let mut lone = Lone::new();
    let guti = lone.register();
    let mut fx = Effects::new();
    let (idle_tmsi, context) = lone.ue.into_idle(&mut fx).expect("a registered UE stays registered");
    assert_eq!(idle_tmsi, Tmsi(guti.tmsi));
    assert_eq!(context.supi, IMSI);

    let mut other = Lone::new();
    let request = Message::from(other.phone.registration_request()).encode();
    other.step(UeEvent::InitialNas {
        nas_pdu: request,
        idle: None,
    });
    let mut fx = Effects::new();
    assert!(other.ue.into_idle(&mut fx).is_none());
}

/// An initial message naming an idle context that it does not verify against: the
/// context goes back to the AMF to stay idle (TS 24.501 §4.4.4.3), and the message is
/// handled as if unprotected — here a 5G-GUTI without a context, so the identification
/// procedure asks for the SUCI.
#[test]
fn an_idle_context_the_message_does_not_verify_against_goes_back() {
    let mut lone = Lone::new();
    let guti = lone.register();
    let mut fx = Effects::new();
    let (tmsi, context): (Tmsi, Box<MmContext>) = lone.ue.into_idle(&mut fx).unwrap();
    let mut request = lone.phone.registration_request();
    request.registration_type.value = hexcore_nas::ie::RegistrationTypeValue::MobilityUpdating;
    request.mobile_identity = hexcore_nas::ie::MobileIdentity::Guti(guti);
    let mut bytes = lone.phone.protect_integrity(&Message::from(request));
    bytes[2] ^= 0xFF; // the first octet of the MAC
    let mut fresh = Lone::new();
    let fx = fresh.step(UeEvent::InitialNas {
        nas_pdu: bytes,
        idle: Some((tmsi, context)),
    });
    let back = fx
        .iter()
        .find_map(|e| match e {
            Effect::ParkIdle { tmsi, context } => Some((*tmsi, context.supi.clone())),
            _ => None,
        })
        .expect("the idle context is given back");
    assert_eq!(back, (Tmsi(guti.tmsi), IMSI.to_string()));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Output(Output::Event(hexcore_amf::Event::NasDropped {
            reason: "integrity",
            ..
        }))
    )));
    assert_eq!(fresh.ue.state().name(), "identifying");
}
