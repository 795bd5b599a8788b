//! NAS transport (TS 38.413 §8.6): INITIAL UE MESSAGE, UPLINK / DOWNLINK NAS TRANSPORT.

use oxirush_ngap::ngap::{self as c, ProtocolIEContainer};
use oxirush_ngap::{build_ngap_ie, extract_ngap_ies};

pub use oxirush_ngap::ngap::RRCEstablishmentCause;

use super::{amf_id, finish, message};
use crate::ids::{AmfUeNgapId, FiveGSTmsi, NrCgi, RanUeNgapId, Tai};
use crate::{Error, NgapPdu};

/// User Location Information for NR (TS 38.413 §9.3.1.16): the cell and the TAI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserLocationNr {
    /// NR CGI.
    pub nr_cgi: NrCgi,
    /// TAI.
    pub tai: Tai,
}

impl UserLocationNr {
    /// The generated CHOICE.
    pub fn to_codec(self) -> Result<c::UserLocationInformation<'static>, Error> {
        Ok(c::UserLocationInformation::userLocationInformationNR(
            c::UserLocationInformationNR::new(self.nr_cgi.to_codec()?, self.tai.to_codec(), None, None),
        ))
    }

    /// The NR location of a generated CHOICE; E-UTRA and N3IWF locations are an
    /// `InvalidValue` (hexcore serves gNBs).
    pub fn from_codec(value: &c::UserLocationInformation<'_>) -> Result<Self, Error> {
        match value {
            c::UserLocationInformation::userLocationInformationNR(nr) => Ok(Self {
                nr_cgi: NrCgi::from_codec(&nr.nr_cgi)?,
                tai: Tai::from_codec(&nr.tai)?,
            }),
            _ => Err(Error::InvalidValue {
                what: "User Location Information (not NR)",
            }),
        }
    }
}

/// INITIAL UE MESSAGE (TS 38.413 §9.2.5.1), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialUeMessage {
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// NAS-PDU.
    pub nas_pdu: Vec<u8>,
    /// User Location Information (NR).
    pub user_location: UserLocationNr,
    /// RRC Establishment Cause.
    pub rrc_establishment_cause: RRCEstablishmentCause,
    /// 5G-S-TMSI.
    pub five_g_s_tmsi: Option<FiveGSTmsi>,
    /// UE Context Request (`requested`).
    pub ue_context_requested: bool,
}

impl InitialUeMessage {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = vec![
            build_ngap_ie!(InitialUEMessage, RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0)))?,
            build_ngap_ie!(InitialUEMessage, NAS_PDU(c::NASPDU::from(self.nas_pdu.clone())))?,
            build_ngap_ie!(
                InitialUEMessage,
                UserLocationInformation(self.user_location.to_codec()?)
            )?,
            build_ngap_ie!(InitialUEMessage, RRCEstablishmentCause(self.rrc_establishment_cause))?,
        ];
        if let Some(tmsi) = self.five_g_s_tmsi {
            ies.push(build_ngap_ie!(InitialUEMessage, FiveG_S_TMSI(tmsi.to_codec()?))?);
        }
        if self.ue_context_requested {
            ies.push(build_ngap_ie!(
                InitialUEMessage,
                UEContextRequest(c::UEContextRequest::requested)
            )?);
        }
        finish(&c::InitialUEMessage::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::InitialUEMessage = message(pdu)?;
        extract_ngap_ies!(m, InitialUEMessage,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            req nas: Vec<u8> = NAS_PDU(v) => v.0.to_vec(),
            req uli: c::UserLocationInformation = UserLocationInformation(v) => v,
            req cause: RRCEstablishmentCause = RRCEstablishmentCause(v) => v,
            opt tmsi: c::FiveGSTMSI = FiveG_S_TMSI(v) => v,
            lax context: c::UEContextRequest = UEContextRequest(v) => v,
        );
        Ok(Self {
            ran_ue_ngap_id: RanUeNgapId(ran),
            nas_pdu: nas,
            user_location: UserLocationNr::from_codec(&uli)?,
            rrc_establishment_cause: cause,
            five_g_s_tmsi: tmsi.as_ref().map(FiveGSTmsi::from_codec),
            ue_context_requested: context.is_some(),
        })
    }
}

/// UPLINK NAS TRANSPORT (TS 38.413 §9.2.5.3), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UplinkNasTransport {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// NAS-PDU.
    pub nas_pdu: Vec<u8>,
    /// User Location Information (NR).
    pub user_location: UserLocationNr,
}

impl UplinkNasTransport {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let ies = vec![
            build_ngap_ie!(
                UplinkNASTransport,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(self.amf_ue_ngap_id.value()))
            )?,
            build_ngap_ie!(
                UplinkNASTransport,
                RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
            build_ngap_ie!(UplinkNASTransport, NAS_PDU(c::NASPDU::from(self.nas_pdu.clone())))?,
            build_ngap_ie!(
                UplinkNASTransport,
                UserLocationInformation(self.user_location.to_codec()?)
            )?,
        ];
        finish(&c::UplinkNASTransport::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::UplinkNASTransport = message(pdu)?;
        extract_ngap_ies!(m, UplinkNASTransport,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            req nas: Vec<u8> = NAS_PDU(v) => v.0.to_vec(),
            req uli: c::UserLocationInformation = UserLocationInformation(v) => v,
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            nas_pdu: nas,
            user_location: UserLocationNr::from_codec(&uli)?,
        })
    }
}

/// DOWNLINK NAS TRANSPORT (TS 38.413 §9.2.5.2), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownlinkNasTransport {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// NAS-PDU.
    pub nas_pdu: Vec<u8>,
}

impl DownlinkNasTransport {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let ies = vec![
            build_ngap_ie!(
                DownlinkNASTransport,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(self.amf_ue_ngap_id.value()))
            )?,
            build_ngap_ie!(
                DownlinkNASTransport,
                RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
            build_ngap_ie!(DownlinkNASTransport, NAS_PDU(c::NASPDU::from(self.nas_pdu.clone())))?,
        ];
        finish(&c::DownlinkNASTransport::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::DownlinkNASTransport = message(pdu)?;
        extract_ngap_ies!(m, DownlinkNASTransport,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            req nas: Vec<u8> = NAS_PDU(v) => v.0.to_vec(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            nas_pdu: nas,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cause;
    use crate::cause::CauseProtocol;
    use crate::ids::{Plmn, Tac};

    // oxirush-ngap 0.5.0 tests/fixtures/captured.tsv (lab captures):
    // captured-165, PacketRusher as gNB: Initial UE Message, RAN UE NGAP ID 1, a
    // Registration Request, NR CGI 208-93 / 0x000008000 (NRCellIdentity, 36 aligned
    // bits: the 24-bit gNB ID 000008 of its NG Setup Request, cell 0), TAI 208-93 / 000001,
    // mo-Signalling (0x18 = ext 0, index 3 = 0011), UE context requested.
    static INITIAL_UE_MESSAGE: &str = "000f404200000500550002000100260018177e004179000d0102f8390000000000000000102e0220200079000f4002f839000008000002f839000001005a4001180070400100";
    // captured-166, PacketRusher: Uplink NAS Transport, AMF 1 / RAN 1.
    static UPLINK_NAS: &str = "002e403c000004000a0002000100550002000100260016157e00572d10fc5764060459a2f6ab8f41d630bdaca20079400f4002f839000008000002f839000001";
    // captured-30, free5GC or Open5GS AMF: Downlink NAS Transport, AMF 6 / RAN 0,
    // NAS `7e 00 58` (a plain 5GMM Registration Reject header).
    static DOWNLINK_NAS: &str = "00044017000003000a0002000600550002000000260004037e0058";

    fn pdu(text: &str) -> NgapPdu {
        NgapPdu::decode(&hex::decode(text).unwrap()).unwrap()
    }

    fn packetrusher_location() -> UserLocationNr {
        let plmn = Plmn::new("208", "93").unwrap();
        UserLocationNr {
            nr_cgi: NrCgi {
                plmn,
                nr_cell_identity: 0x0_0000_8000,
            },
            tai: Tai {
                plmn,
                tac: Tac([0, 0, 1]),
            },
        }
    }

    #[test]
    fn decode_initial_ue_message() {
        let msg = InitialUeMessage::parse(&pdu(INITIAL_UE_MESSAGE)).unwrap();
        assert_eq!(msg.ran_ue_ngap_id, RanUeNgapId(1));
        assert_eq!(&msg.nas_pdu[..4], &[0x7e, 0x00, 0x41, 0x79]);
        assert_eq!(msg.nas_pdu.len(), 0x17);
        assert_eq!(msg.user_location, packetrusher_location());
        assert_eq!(msg.rrc_establishment_cause, RRCEstablishmentCause::mo_Signalling);
        assert_eq!(msg.five_g_s_tmsi, None);
        assert!(msg.ue_context_requested);
    }

    #[test]
    fn encode_initial_ue_message_to_known_bytes() {
        let msg = InitialUeMessage {
            ran_ue_ngap_id: RanUeNgapId(1),
            nas_pdu: hex::decode("7e004179000d0102f8390000000000000000102e022020").unwrap(),
            user_location: packetrusher_location(),
            rrc_establishment_cause: RRCEstablishmentCause::mo_Signalling,
            five_g_s_tmsi: None,
            ue_context_requested: true,
        };
        assert_eq!(hex::encode(msg.build().unwrap().encode().unwrap()), INITIAL_UE_MESSAGE);
    }

    #[test]
    fn five_g_s_tmsi_round_trip() {
        let mut msg = InitialUeMessage::parse(&pdu(INITIAL_UE_MESSAGE)).unwrap();
        msg.five_g_s_tmsi = Some(FiveGSTmsi {
            amf_set_id: 1,
            amf_pointer: 0,
            five_g_tmsi: 0xc000_0001,
        });
        let bytes = msg.build().unwrap().encode().unwrap();
        let again = InitialUeMessage::parse(&NgapPdu::decode(&bytes).unwrap()).unwrap();
        assert_eq!(again, msg);
        // TS 38.413 §9.3.3.20 in aligned PER: IE 26 (`00 1a`), criticality reject
        // (`00`), length 7; the SEQUENCE's extension and option bits `00`, AMF Set ID
        // `0000000001`, AMF Pointer `000000`, padding, then the 5G-TMSI `c0000001`.
        let text = hex::encode(&bytes);
        assert!(text.contains("001a0007001000c0000001"), "{text}");
    }

    #[test]
    fn uplink_and_downlink() {
        let up = UplinkNasTransport::parse(&pdu(UPLINK_NAS)).unwrap();
        assert_eq!(up.amf_ue_ngap_id.value(), 1);
        assert_eq!(up.ran_ue_ngap_id, RanUeNgapId(1));
        assert_eq!(up.nas_pdu.len(), 0x15);
        assert_eq!(up.user_location, packetrusher_location());
        assert_eq!(hex::encode(up.build().unwrap().encode().unwrap()), UPLINK_NAS);

        let down = DownlinkNasTransport {
            amf_ue_ngap_id: AmfUeNgapId::new(6).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(0),
            nas_pdu: vec![0x7e, 0x00, 0x58],
        };
        assert_eq!(hex::encode(down.build().unwrap().encode().unwrap()), DOWNLINK_NAS);
        assert_eq!(DownlinkNasTransport::parse(&pdu(DOWNLINK_NAS)).unwrap(), down);
    }

    #[test]
    fn broken_input() {
        // An Uplink NAS Transport without its NAS-PDU (IE 38, reject).
        let mut p = pdu(UPLINK_NAS);
        let mut ies = p.0.protocol_ies().unwrap().into_owned();
        ies.0.retain(|ie| ie.id.0 != 38);
        p.0.set_protocol_ies(ies).unwrap();
        let err = UplinkNasTransport::parse(&p).unwrap_err();
        assert!(matches!(err, Error::MissingMandatoryIe { id: 38, .. }), "{err:?}");
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::AbstractSyntaxErrorReject));
        // A Downlink NAS Transport handed to the uplink parser.
        assert!(matches!(
            UplinkNasTransport::parse(&pdu(DOWNLINK_NAS)),
            Err(Error::WrongMessage { .. })
        ));
        // The NAS-PDU IE claiming more octets than its open type holds.
        let mut bytes = hex::decode(DOWNLINK_NAS).unwrap();
        let last = bytes.len() - 4; // the octet string length `03`
        bytes[last] = 0x09;
        let p = NgapPdu::decode(&bytes).unwrap();
        let err = DownlinkNasTransport::parse(&p).unwrap_err();
        assert!(matches!(err, Error::UndecodableIe { id: 38, .. }), "{err:?}");
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::TransferSyntaxError));
    }
}
