//! The sans-IO AMF on arbitrary N2 input: after a real NG Setup, the input is cut
//! into chunks (2-octet length prefix); each chunk's first octet picks what it is:
//! raw NGAP, the NAS-PDU of an Initial UE Message, the NAS-PDU of an Uplink NAS
//! Transport for the latest UE, or time passing (timers fire). The UDM is a stub that
//! always answers. Nothing may panic and the AMF must keep producing valid NGAP.
#![no_main]

use std::time::{Duration, Instant};

use hexcore_amf::{Amf, AmfConfig, AssocId, Input, Output, Settings, UdmRequest, UdmResponse};
use hexcore_ngap::procedures::{
    BroadcastPlmn, InitialUeMessage, NgSetupRequest, PagingDRX, RRCEstablishmentCause, SupportedTa,
    UplinkNasTransport, UserLocationNr,
};
use hexcore_ngap::{AmfUeNgapId, GlobalGnbId, GnbId, NgapPdu, NrCgi, Plmn, RanUeNgapId, SNssai, Tac, Tai};
use libfuzzer_sys::fuzz_target;

fn stub(req: UdmRequest) -> UdmResponse {
    match req {
        UdmRequest::Authenticate { ue, .. } => UdmResponse::Challenge {
            ue,
            ctx: 1,
            rand: [1; 16],
            autn: [2; 16],
            hxres_star: [3; 16],
        },
        UdmRequest::Confirm { ue, .. } => UdmResponse::Confirmed {
            ue,
            supi: "999700000000001".into(),
            kseaf: [4; 32],
        },
        UdmRequest::SubscriptionData { ue, .. } => UdmResponse::Subscription {
            ue,
            nssai: vec![(1, None)],
        },
    }
}

fn drain(amf: &mut Amf, now: Instant, last_ue: &mut Option<u64>) {
    for _ in 0..10_000 {
        match amf.poll_output() {
            None => return,
            Some(Output::Ngap { bytes, .. }) => {
                let pdu = NgapPdu::decode(&bytes).expect("the AMF sends decodable NGAP");
                if let Some(id) = pdu.amf_ue_ngap_id() {
                    *last_ue = Some(id);
                }
            }
            Some(Output::Udm(req)) => amf.handle(now, Input::Udm(stub(req))),
            Some(Output::Event(_)) => {}
        }
    }
    panic!("the AMF does not settle");
}

fuzz_target!(|data: &[u8]| {
    let Ok(config) = AmfConfig::new(Settings::default()) else { return };
    let mut amf = Amf::new(config, 1);
    let mut now = Instant::now();
    let assoc = AssocId(1);
    let plmn = Plmn::new("999", "70").expect("valid PLMN");
    let loc = UserLocationNr {
        nr_cgi: NrCgi { plmn, nr_cell_identity: 1 },
        tai: Tai { plmn, tac: Tac::from_u32(1) },
    };
    amf.handle(now, Input::AssociationUp { assoc, out_streams: 2 });
    let setup = NgSetupRequest {
        global_gnb_id: GlobalGnbId { plmn, gnb_id: GnbId::new(1, 22).expect("gNB id") },
        ran_node_name: None,
        supported_tas: vec![SupportedTa {
            tac: Tac::from_u32(1),
            broadcast_plmns: vec![BroadcastPlmn { plmn, slices: vec![SNssai { sst: 1, sd: None }] }],
        }],
        default_paging_drx: PagingDRX::v128,
    };
    let bytes = setup.build().and_then(|p| p.encode()).expect("NG Setup Request");
    amf.handle(now, Input::Ngap { assoc, stream: 0, bytes });
    let mut last_ue = None;
    drain(&mut amf, now, &mut last_ue);

    let mut rest = data;
    let mut ran = 0u32;
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        rest = next;
        let Some((&kind, body)) = chunk.split_first() else { continue };
        let bytes = match kind % 4 {
            0 => Some(body.to_vec()),
            1 => {
                ran += 1;
                InitialUeMessage {
                    ran_ue_ngap_id: RanUeNgapId(ran),
                    nas_pdu: body.to_vec(),
                    user_location: loc,
                    rrc_establishment_cause: RRCEstablishmentCause::mo_Signalling,
                    five_g_s_tmsi: None,
                    ue_context_requested: false,
                }
                .build()
                .and_then(|p| p.encode())
                .ok()
            }
            2 => last_ue.and_then(AmfUeNgapId::new).and_then(|id| {
                UplinkNasTransport {
                    amf_ue_ngap_id: id,
                    ran_ue_ngap_id: RanUeNgapId(ran),
                    nas_pdu: body.to_vec(),
                    user_location: loc,
                }
                .build()
                .and_then(|p| p.encode())
                .ok()
            }),
            _ => {
                now += Duration::from_secs(7);
                amf.handle(now, Input::Timeout);
                None
            }
        };
        if let Some(bytes) = bytes {
            amf.handle(now, Input::Ngap { assoc, stream: 1, bytes });
        }
        drain(&mut amf, now, &mut last_ue);
    }
    amf.handle(now, Input::AssociationDown { assoc });
    drain(&mut amf, now, &mut last_ue);
    assert_eq!(amf.ue_count(), 0, "association loss clears its UEs");
});
