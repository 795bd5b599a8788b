//! NG Setup (TS 38.413 §8.7.1): NG SETUP REQUEST / RESPONSE / FAILURE.

use oxirush_ngap::ngap::{self as c, ProtocolIEContainer};
use oxirush_ngap::{build_ngap_ie, extract_ngap_ies};

pub use oxirush_ngap::ngap::{PagingDRX, TimeToWait};

use super::{finish, message, owned};
use crate::ids::{GlobalGnbId, Guami, Plmn, SNssai, Tac};
use crate::{Cause, Error, NgapPdu};

/// A broadcast PLMN of a supported TA, with its slices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastPlmn {
    /// The PLMN.
    pub plmn: Plmn,
    /// The TAI Slice Support List.
    pub slices: Vec<SNssai>,
}

/// A supported tracking area of a gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportedTa {
    /// The TAC.
    pub tac: Tac,
    /// The PLMNs broadcast in it.
    pub broadcast_plmns: Vec<BroadcastPlmn>,
}

/// NG SETUP REQUEST (TS 38.413 §9.2.6.1), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgSetupRequest {
    /// Global RAN Node ID (a gNB: the facade does not cover ng-eNB / N3IWF ids).
    pub global_gnb_id: GlobalGnbId,
    /// RAN Node Name.
    pub ran_node_name: Option<String>,
    /// Supported TA List.
    pub supported_tas: Vec<SupportedTa>,
    /// Default Paging DRX.
    pub default_paging_drx: PagingDRX,
}

/// A PLMN the AMF supports, with its slices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlmnSupport {
    /// The PLMN.
    pub plmn: Plmn,
    /// The Slice Support List.
    pub slices: Vec<SNssai>,
}

/// A served GUAMI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedGuami {
    /// The GUAMI.
    pub guami: Guami,
    /// Backup AMF Name.
    pub backup_amf_name: Option<String>,
}

/// NG SETUP RESPONSE (TS 38.413 §9.2.6.2), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgSetupResponse {
    /// AMF Name.
    pub amf_name: String,
    /// Served GUAMI List.
    pub served_guamis: Vec<ServedGuami>,
    /// Relative AMF Capacity.
    pub relative_amf_capacity: u8,
    /// PLMN Support List.
    pub plmn_support: Vec<PlmnSupport>,
}

/// NG SETUP FAILURE (TS 38.413 §9.2.6.3), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgSetupFailure {
    /// Cause.
    pub cause: Cause,
    /// Time to Wait.
    pub time_to_wait: Option<TimeToWait>,
}

fn slices_to_codec(slices: &[SNssai]) -> c::SliceSupportList {
    c::SliceSupportList(
        slices
            .iter()
            .map(|s| c::SliceSupportItem::new(s.to_codec(), None))
            .collect(),
    )
}

fn slices_from_codec(list: &c::SliceSupportList) -> Vec<SNssai> {
    list.0.iter().map(|item| SNssai::from_codec(&item.s_nssai)).collect()
}

pub(crate) fn tas_to_codec(tas: &[SupportedTa]) -> c::SupportedTAList {
    c::SupportedTAList(
        tas.iter()
            .map(|ta| {
                let plmns = ta
                    .broadcast_plmns
                    .iter()
                    .map(|b| c::BroadcastPLMNItem::new(b.plmn.to_codec(), slices_to_codec(&b.slices), None))
                    .collect();
                c::SupportedTAItem::new(c::TAC(ta.tac.0), c::BroadcastPLMNList(plmns), None)
            })
            .collect(),
    )
}

pub(crate) fn tas_from_codec(tas: &c::SupportedTAList) -> Result<Vec<SupportedTa>, Error> {
    let mut supported_tas = Vec::with_capacity(tas.0.len());
    for ta in &tas.0 {
        let mut broadcast_plmns = Vec::with_capacity(ta.broadcast_plmn_list.0.len());
        for b in &ta.broadcast_plmn_list.0 {
            broadcast_plmns.push(BroadcastPlmn {
                plmn: Plmn::from_codec(&b.plmn_identity)?,
                slices: slices_from_codec(&b.tai_slice_support_list),
            });
        }
        supported_tas.push(SupportedTa {
            tac: Tac(ta.tac.0),
            broadcast_plmns,
        });
    }
    Ok(supported_tas)
}

pub(crate) fn guamis_to_codec(guamis: &[ServedGuami]) -> Result<c::ServedGUAMIList<'static>, Error> {
    let mut list = Vec::with_capacity(guamis.len());
    for g in guamis {
        list.push(c::ServedGUAMIItem::new(
            g.guami.to_codec()?,
            g.backup_amf_name.clone().map(|n| c::AMFName(n.into())),
            None,
        ));
    }
    Ok(c::ServedGUAMIList(list))
}

pub(crate) fn guamis_from_codec(guamis: &c::ServedGUAMIList<'_>) -> Result<Vec<ServedGuami>, Error> {
    let mut served = Vec::with_capacity(guamis.0.len());
    for g in &guamis.0 {
        served.push(ServedGuami {
            guami: Guami::from_codec(&g.guami)?,
            backup_amf_name: g.backup_amf_name.as_ref().map(|n| owned(&n.0)),
        });
    }
    Ok(served)
}

pub(crate) fn plmns_to_codec(plmns: &[PlmnSupport]) -> c::PLMNSupportList {
    c::PLMNSupportList(
        plmns
            .iter()
            .map(|p| c::PLMNSupportItem::new(p.plmn.to_codec(), slices_to_codec(&p.slices), None))
            .collect(),
    )
}

pub(crate) fn plmns_from_codec(plmns: &c::PLMNSupportList) -> Result<Vec<PlmnSupport>, Error> {
    let mut support = Vec::with_capacity(plmns.0.len());
    for p in &plmns.0 {
        support.push(PlmnSupport {
            plmn: Plmn::from_codec(&p.plmn_identity)?,
            slices: slices_from_codec(&p.slice_support_list),
        });
    }
    Ok(support)
}

impl NgSetupRequest {
    /// The PDU of this request.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let tas = tas_to_codec(&self.supported_tas);
        let mut ies = vec![build_ngap_ie!(
            NGSetupRequest,
            GlobalRANNodeID(c::GlobalRANNodeID::globalGNB_ID(self.global_gnb_id.to_codec()))
        )?];
        if let Some(name) = &self.ran_node_name {
            ies.push(build_ngap_ie!(
                NGSetupRequest,
                RANNodeName(c::RANNodeName(name.clone().into()))
            )?);
        }
        ies.push(build_ngap_ie!(NGSetupRequest, SupportedTAList(tas))?);
        ies.push(build_ngap_ie!(
            NGSetupRequest,
            DefaultPagingDRX(self.default_paging_drx)
        )?);
        finish(&c::NGSetupRequest::new(ProtocolIEContainer(ies)))
    }

    /// The request a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::NGSetupRequest = message(pdu)?;
        extract_ngap_ies!(m, NGSetupRequest,
            req node: c::GlobalRANNodeID = GlobalRANNodeID(v) => v,
            opt name: String = RANNodeName(v) => owned(&v.0),
            req tas: c::SupportedTAList = SupportedTAList(v) => v,
            req drx: PagingDRX = DefaultPagingDRX(v) => v,
        );
        let c::GlobalRANNodeID::globalGNB_ID(gnb) = &node else {
            return Err(Error::InvalidValue {
                what: "Global RAN Node ID (not a gNB)",
            });
        };
        let supported_tas = tas_from_codec(&tas)?;
        Ok(Self {
            global_gnb_id: GlobalGnbId::from_codec(gnb)?,
            ran_node_name: name,
            supported_tas,
            default_paging_drx: drx,
        })
    }
}

impl NgSetupResponse {
    /// The PDU of this response.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let guamis = guamis_to_codec(&self.served_guamis)?;
        let plmns = plmns_to_codec(&self.plmn_support);
        let ies = vec![
            build_ngap_ie!(NGSetupResponse, AMFName(c::AMFName(self.amf_name.clone().into())))?,
            build_ngap_ie!(NGSetupResponse, ServedGUAMIList(guamis))?,
            build_ngap_ie!(
                NGSetupResponse,
                RelativeAMFCapacity(c::RelativeAMFCapacity(self.relative_amf_capacity))
            )?,
            build_ngap_ie!(NGSetupResponse, PLMNSupportList(plmns))?,
        ];
        finish(&c::NGSetupResponse::new(ProtocolIEContainer(ies)))
    }

    /// The response a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::NGSetupResponse = message(pdu)?;
        extract_ngap_ies!(m, NGSetupResponse,
            req amf_name: String = AMFName(v) => owned(&v.0),
            req guamis: c::ServedGUAMIList = ServedGUAMIList(v) => v,
            req capacity: u8 = RelativeAMFCapacity(v) => v.0,
            req plmns: c::PLMNSupportList = PLMNSupportList(v) => v,
        );
        let served_guamis = guamis_from_codec(&guamis)?;
        let plmn_support = plmns_from_codec(&plmns)?;
        Ok(Self {
            amf_name,
            served_guamis,
            relative_amf_capacity: capacity,
            plmn_support,
        })
    }
}

impl NgSetupFailure {
    /// The PDU of this failure.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = vec![build_ngap_ie!(NGSetupFailure, Cause(self.cause.to_codec()))?];
        if let Some(wait) = self.time_to_wait {
            ies.push(build_ngap_ie!(NGSetupFailure, TimeToWait(wait))?);
        }
        finish(&c::NGSetupFailure::new(ProtocolIEContainer(ies)))
    }

    /// The failure a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::NGSetupFailure = message(pdu)?;
        extract_ngap_ies!(m, NGSetupFailure,
            req cause: c::Cause = Cause(v) => v,
            opt time_to_wait: TimeToWait = TimeToWait(v) => v,
        );
        Ok(Self {
            cause: super::cause_of(&cause)?,
            time_to_wait,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::{CauseMisc, CauseProtocol};
    use crate::ids::GnbId;

    // srsRAN Project, tests/unittests/ngap/ngap_test_messages.h,
    // `ng_setup_request_packed` (a gNB's NG Setup Request, with its Wireshark
    // dissection): gNB ID 411 on 22 bits, PLMN 001-01, "srsgnb01", TAC 7, SST 1,
    // paging DRX v256.
    static NG_SETUP_REQUEST_SRSRAN: [u8; 55] = [
        0x00, 0x15, 0x00, 0x33, 0x00, 0x00, 0x04, 0x00, 0x1b, 0x00, 0x08, 0x00, 0x00, 0xf1, 0x10, 0x00, 0x00, 0x06,
        0x6c, 0x00, 0x52, 0x40, 0x0a, 0x03, 0x80, 0x73, 0x72, 0x73, 0x67, 0x6e, 0x62, 0x30, 0x31, 0x00, 0x66, 0x00,
        0x0d, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0xf1, 0x10, 0x00, 0x00, 0x00, 0x08, 0x00, 0x15, 0x40, 0x01,
        0x60,
    ];
    // PacketRusher 20250225 as gNB, captured on the wire (oxirush-ngap 0.5.0
    // tests/fixtures/captured.tsv, captured-164).
    static NG_SETUP_REQUEST_PACKETRUSHER: &str = "0015003a000004001b00080002f839100000080052400e05805061636b65745275736865720066001000000000010002f839000010080102030015400140";
    // free5GC v4.2.3 AMF (captured.tsv, captured-0).
    static NG_SETUP_RESPONSE_FREE5GC: &str = "20150036000005000100050100414d4600600008000002f839cafe0000564001ff005000100002f8390001100801020310081122330013400100";
    // Open5GS v2.8.0 AMF (captured.tsv, captured-79).
    static NG_SETUP_RESPONSE_OPEN5GS: &str = "201500350000040001000e05806f70656e3567732d616d663000600008000002f83902004000564001ff0050000b0002f83900001008010203";
    // NG Setup Failure, misc/unknown-PLMN-or-SNPN and Time to Wait v5s, derived field
    // by field (X.691 aligned PER, TS 38.413 §9.2.6.3): `40` unsuccessfulOutcome,
    // `15` NGSetup, `00` reject, `0d` length; `00 00 02` two IEs; `00 0f 40 01 88` Cause
    // (choice 4 misc = 100, ext 0, index 4 = 100); `00 6b 40 01 20` TimeToWait (ext 0,
    // index 2 = 010).
    static NG_SETUP_FAILURE: &str = "4015000d000002000f400188006b400120";

    fn pdu(hex_text: &str) -> NgapPdu {
        NgapPdu::decode(&hex::decode(hex_text).unwrap()).unwrap()
    }

    fn srsran_request() -> NgSetupRequest {
        NgSetupRequest {
            global_gnb_id: GlobalGnbId {
                plmn: Plmn::new("001", "01").unwrap(),
                gnb_id: GnbId::new(411, 22).unwrap(),
            },
            ran_node_name: Some("srsgnb01".into()),
            supported_tas: vec![SupportedTa {
                tac: Tac::from_u32(7),
                broadcast_plmns: vec![BroadcastPlmn {
                    plmn: Plmn::new("001", "01").unwrap(),
                    slices: vec![SNssai { sst: 1, sd: None }],
                }],
            }],
            default_paging_drx: PagingDRX::v256,
        }
    }

    #[test]
    fn decode_srsran_request() {
        let pdu = NgapPdu::decode(&NG_SETUP_REQUEST_SRSRAN).unwrap();
        assert_eq!(pdu.message_name(), "NGSetupRequest");
        assert_eq!(NgSetupRequest::parse(&pdu).unwrap(), srsran_request());
    }

    #[test]
    fn encode_srsran_request_to_known_bytes() {
        let bytes = srsran_request().build().unwrap().encode().unwrap();
        assert_eq!(bytes, NG_SETUP_REQUEST_SRSRAN);
    }

    #[test]
    fn decode_packetrusher_request() {
        let pdu = pdu(NG_SETUP_REQUEST_PACKETRUSHER);
        let req = NgSetupRequest::parse(&pdu).unwrap();
        assert_eq!(req.ran_node_name.as_deref(), Some("PacketRusher"));
        assert_eq!(req.global_gnb_id.plmn.to_string(), "208-93");
        assert_eq!(req.default_paging_drx, PagingDRX::v128);
        let ta = &req.supported_tas[0];
        assert_eq!(ta.tac, Tac([0, 0, 1]));
        assert_eq!(ta.broadcast_plmns[0].plmn.to_string(), "208-93");
        assert_eq!(
            ta.broadcast_plmns[0].slices,
            vec![SNssai {
                sst: 1,
                sd: Some([1, 2, 3])
            }]
        );
        // Rebuilt from the parsed fields, it is the same octets.
        assert_eq!(
            hex::encode(req.build().unwrap().encode().unwrap()),
            NG_SETUP_REQUEST_PACKETRUSHER
        );
    }

    #[test]
    fn decode_responses() {
        let free5gc = NgSetupResponse::parse(&pdu(NG_SETUP_RESPONSE_FREE5GC)).unwrap();
        assert_eq!(free5gc.amf_name, "AMF");
        assert_eq!(free5gc.relative_amf_capacity, 255);
        let guami = free5gc.served_guamis[0].guami;
        assert_eq!(guami.plmn.to_string(), "208-93");
        // AMF ID cafe00: region 0xca, set 0x3f8 >> ... (0xfe00 >> 6 = 1016), pointer 0.
        assert_eq!(
            (guami.amf_region_id, guami.amf_set_id, guami.amf_pointer),
            (0xca, 0x3f8, 0)
        );
        assert_eq!(free5gc.plmn_support[0].slices.len(), 2);
        assert_eq!(
            free5gc.plmn_support[0].slices[1],
            SNssai {
                sst: 1,
                sd: Some([0x11, 0x22, 0x33])
            }
        );

        let open5gs = NgSetupResponse::parse(&pdu(NG_SETUP_RESPONSE_OPEN5GS)).unwrap();
        assert_eq!(open5gs.amf_name, "open5gs-amf0");
        // AMF ID 020040: region 2, set 1, pointer 0.
        let guami = open5gs.served_guamis[0].guami;
        assert_eq!((guami.amf_region_id, guami.amf_set_id, guami.amf_pointer), (2, 1, 0));
        assert_eq!(
            hex::encode(open5gs.build().unwrap().encode().unwrap()),
            NG_SETUP_RESPONSE_OPEN5GS
        );
    }

    #[test]
    fn failure_known_bytes() {
        let failure = NgSetupFailure {
            cause: Cause::Misc(CauseMisc::UnknownPlmnOrSnpn),
            time_to_wait: Some(TimeToWait::v5s),
        };
        let bytes = failure.build().unwrap().encode().unwrap();
        assert_eq!(hex::encode(&bytes), NG_SETUP_FAILURE);
        assert_eq!(NgSetupFailure::parse(&pdu(NG_SETUP_FAILURE)).unwrap(), failure);
    }

    #[test]
    fn round_trips_are_byte_exact() {
        for text in [
            NG_SETUP_REQUEST_PACKETRUSHER,
            NG_SETUP_RESPONSE_FREE5GC,
            NG_SETUP_RESPONSE_OPEN5GS,
            NG_SETUP_FAILURE,
        ] {
            assert_eq!(hex::encode(pdu(text).encode().unwrap()), text);
        }
    }

    #[test]
    fn broken_input() {
        // The wrong message for the parser.
        let err = NgSetupResponse::parse(&NgapPdu::decode(&NG_SETUP_REQUEST_SRSRAN).unwrap()).unwrap_err();
        assert!(matches!(
            err,
            Error::WrongMessage {
                expected: "NGSetupResponse",
                got: "NGSetupRequest"
            }
        ));
        // Without its Supported TA List (IE 102, criticality reject): remove the IE
        // from the container and re-encode.
        let mut pdu = NgapPdu::decode(&NG_SETUP_REQUEST_SRSRAN).unwrap();
        let mut ies = pdu.0.protocol_ies().unwrap().into_owned();
        ies.0.retain(|ie| ie.id.0 != 102);
        pdu.0.set_protocol_ies(ies).unwrap();
        let err = NgSetupRequest::parse(&pdu).unwrap_err();
        assert!(matches!(err, Error::MissingMandatoryIe { id: 102, .. }), "{err:?}");
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::AbstractSyntaxErrorReject));
        assert!(matches!(pdu.check(), Err(Error::MissingMandatoryIe { id: 102, .. })));
        // A PLMN that is not BCD in the Global RAN Node ID is a semantic error.
        let mut bytes = NG_SETUP_REQUEST_SRSRAN;
        bytes[12] = 0xab;
        let err = NgSetupRequest::parse(&NgapPdu::decode(&bytes).unwrap()).unwrap_err();
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::SemanticError));
    }
}
