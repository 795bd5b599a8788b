//! The simulator's gNB and UE on hostile downlink input. The first octet picks:
//! - bit 0 clear: the rest is an NGAP PDU from the AMF;
//! - bit 0 set, bit 1 clear: the rest is a NAS PDU (in a Downlink NAS Transport) for a
//!   UE that has just sent its Registration Request;
//! - bits 0 and 1 set: the rest is the plain 5GMM message inside a protected PDU for a
//!   UE that has completed 5G AKA and security mode with NEA0/NIA0 (so the fuzzer
//!   reaches every handler behind the integrity check).
//!
//! Nothing may panic, and the gNB must still answer afterwards.
#![no_main]

use hexcore_nas::ie::{
    Abba, Autn, CipheringAlgorithm, IntegrityAlgorithm, NasKeySetIdentifier, NasSecurityAlgorithms, Rand,
    SpareHalfOctet, UeSecurityCapability,
};
use hexcore_nas::mm::{AuthenticationRequest, SecurityModeCommand};
use hexcore_nas::{Message, MmHeader};
use hexcore_ngap::procedures::DownlinkNasTransport;
use hexcore_ngap::{AmfUeNgapId, Plmn, RanUeNgapId};
use hexcore_security::keys::{self, ServingNetworkName};
use hexcore_security::{Milenage, NasConnection, NasSecurityContext, Nea, Nia, Role};
use hexcore_sim::{GnbConfig, RegistrationKind, Sim, UeConfig};
use libfuzzer_sys::fuzz_target;

const IMSI: &str = "999700000000001";
const K: [u8; 16] = [0x46; 16];
const OPC: [u8; 16] = [0xcd; 16];

fn downlink(sim: &mut Sim, nas: Vec<u8>) {
    let Some(amf_id) = AmfUeNgapId::new(1) else { return };
    let dl = DownlinkNasTransport {
        amf_ue_ngap_id: amf_id,
        ran_ue_ngap_id: RanUeNgapId(1),
        nas_pdu: nas,
    };
    if let Ok(octets) = dl.build().and_then(|p| p.encode()) {
        sim.handle_ngap(&octets);
    }
}

fn protected(ctx: &mut NasSecurityContext, header_type: u8, plain: &[u8], cipher: bool) -> Option<Vec<u8>> {
    let p = ctx.protect(plain, cipher).ok()?;
    let mut out = vec![0x7e, header_type];
    out.extend_from_slice(&p.mac);
    out.push(p.sqn);
    out.extend_from_slice(&p.payload);
    Some(out)
}

/// Run 5G AKA and security mode (NEA0/NIA0) for the UE; the AMF's side of the context.
fn secure(sim: &mut Sim) -> Option<NasSecurityContext> {
    let rand = [0x23u8; 16];
    let milenage = Milenage::new(&K, &OPC);
    let (autn, v) = milenage.generate_autn(&rand, &[0, 0, 0, 0, 0, 0x21], &[0x80, 0]);
    let mut req = AuthenticationRequest::new(
        MmHeader::default(),
        NasKeySetIdentifier { mapped: false, ksi: 0 },
        SpareHalfOctet(0),
        Abba(vec![0, 0]),
    );
    req.rand = Some(Rand(rand));
    req.autn = Some(Autn(autn));
    downlink(sim, Message::from(req).encode());
    let snn = ServingNetworkName::new("999", "70").ok()?;
    let kausf = keys::kausf(&v.ck, &v.ik, &snn, autn[..6].try_into().ok()?).ok()?;
    let kamf = keys::kamf(&keys::kseaf(&kausf, &snn).ok()?, IMSI, &[0, 0]).ok()?;
    let mut ctx = NasSecurityContext::new(Role::Network, &kamf, Nea::Nea0, Nia::Nia0, NasConnection::ThreeGpp);
    let smc = SecurityModeCommand::new(
        MmHeader::default(),
        NasSecurityAlgorithms {
            ciphering: CipheringAlgorithm::Nea0,
            integrity: IntegrityAlgorithm::Nia0,
        },
        NasKeySetIdentifier { mapped: false, ksi: 0 },
        SpareHalfOctet(0),
        UeSecurityCapability {
            nr_ea: 0xF0,
            nr_ia: 0xF0,
            rest: Vec::new(),
        },
    );
    let pdu = protected(&mut ctx, 3, &Message::from(smc).encode(), false)?;
    downlink(sim, pdu);
    Some(ctx)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(plmn) = Plmn::new("999", "70") else { return };
    let mut sim = Sim::new(GnbConfig::new(plmn, 1));
    let Ok(ue) = sim.add_ue(UeConfig::new(IMSI, 2, K, OPC)) else {
        return;
    };
    if sim.register(ue, RegistrationKind::InitialSuci).is_err() {
        return;
    }
    while sim.poll_transmit().is_some() {}
    match selector & 3 {
        0 | 2 => sim.handle_ngap(rest),
        1 => downlink(&mut sim, rest.to_vec()),
        _ => {
            let Some(mut ctx) = secure(&mut sim) else { return };
            assert!(
                sim.ue(ue).is_some_and(|u| u.has_security_context()),
                "the UE must accept NEA0/NIA0 security mode"
            );
            if let Some(pdu) = protected(&mut ctx, 2, rest, true) {
                downlink(&mut sim, pdu);
            }
        }
    }
    while sim.poll_event().is_some() {}
    while sim.poll_transmit().is_some() {}
    let _ = sim.gnb_mut().ue_context_release_request(
        ue,
        hexcore_ngap::Cause::RadioNetwork(hexcore_ngap::CauseRadioNetwork::UserInactivity),
    );
});
