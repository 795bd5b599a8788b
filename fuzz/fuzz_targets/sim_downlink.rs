//! The simulator's gNB and UE on hostile downlink input: an NGAP PDU from the AMF
//! (first octet even) or a NAS PDU in a Downlink NAS Transport for a UE that has
//! just sent its Registration Request (first octet odd). Nothing may panic, and the
//! gNB must still answer afterwards.
#![no_main]

use hexcore_ngap::procedures::DownlinkNasTransport;
use hexcore_ngap::{AmfUeNgapId, Plmn, RanUeNgapId};
use hexcore_sim::{GnbConfig, RegistrationKind, Sim, UeConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(plmn) = Plmn::new("999", "70") else { return };
    let mut sim = Sim::new(GnbConfig::new(plmn, 1));
    let Ok(ue) = sim.add_ue(UeConfig::new("999700000000001", 2, [0x46; 16], [0xcd; 16])) else {
        return;
    };
    if sim.register(ue, RegistrationKind::InitialSuci).is_err() {
        return;
    }
    while sim.poll_transmit().is_some() {}
    if selector & 1 == 0 {
        sim.handle_ngap(rest);
    } else {
        let dl = DownlinkNasTransport {
            amf_ue_ngap_id: AmfUeNgapId::new(1).unwrap_or_else(|| unreachable!()),
            ran_ue_ngap_id: RanUeNgapId(1),
            nas_pdu: rest.to_vec(),
        };
        if let Ok(octets) = dl.build().and_then(|p| p.encode()) {
            sim.handle_ngap(&octets);
        }
    }
    while sim.poll_event().is_some() {}
    while sim.poll_transmit().is_some() {}
    // Still alive: a release request for the UE goes out or is refused cleanly.
    let _ = sim.gnb_mut().ue_context_release_request(
        ue,
        hexcore_ngap::Cause::RadioNetwork(hexcore_ngap::CauseRadioNetwork::UserInactivity),
    );
});
