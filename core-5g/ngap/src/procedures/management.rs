//! Interface management (TS 38.413 §8.7): Error Indication, NG Reset, RAN and AMF
//! Configuration Update.

use oxirush_ngap::ngap::{self as c, ProtocolIEContainer};
use oxirush_ngap::{build_ngap_ie, extract_ngap_ies};

pub use oxirush_ngap::ngap::CriticalityDiagnostics;

use super::ng_setup::{
    PlmnSupport, ServedGuami, SupportedTa, guamis_from_codec, guamis_to_codec, plmns_from_codec, plmns_to_codec,
    tas_from_codec, tas_to_codec,
};
use super::{amf_id, cause_of, finish, message, owned};
use crate::ids::{AmfUeNgapId, GlobalGnbId, RanUeNgapId};
use crate::procedures::ng_setup::{PagingDRX, TimeToWait};
use crate::{Cause, Error, NgapPdu};

/// ERROR INDICATION (TS 38.413 §8.7.5), either way. At least a Cause or
/// Criticality Diagnostics should be present (§8.7.5.2).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ErrorIndication {
    /// AMF UE NGAP ID, for a UE-associated error.
    pub amf_ue_ngap_id: Option<AmfUeNgapId>,
    /// RAN UE NGAP ID, for a UE-associated error.
    pub ran_ue_ngap_id: Option<RanUeNgapId>,
    /// Cause.
    pub cause: Option<Cause>,
    /// Criticality Diagnostics (the generated type; see
    /// `NGAP_PDU::criticality_diagnostics` of the codec to fill it).
    pub criticality_diagnostics: Option<CriticalityDiagnostics>,
}

impl ErrorIndication {
    /// The Error Indication answering a faulty received PDU (TS 38.413 §10): its UE ids
    /// when it has them, the Cause of `error`, and the Criticality Diagnostics of the
    /// codec's check.
    pub fn answering(received: &NgapPdu, error: &Error) -> Self {
        let diagnostics = received
            .0
            .check()
            .ok()
            .map(|deviations| received.0.criticality_diagnostics(&deviations));
        Self {
            amf_ue_ngap_id: received.amf_ue_ngap_id().and_then(AmfUeNgapId::new),
            ran_ue_ngap_id: received.ran_ue_ngap_id().map(RanUeNgapId),
            cause: Some(error.cause()),
            criticality_diagnostics: diagnostics,
        }
    }

    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = Vec::new();
        if let Some(id) = self.amf_ue_ngap_id {
            ies.push(build_ngap_ie!(
                ErrorIndication,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(id.value()))
            )?);
        }
        if let Some(id) = self.ran_ue_ngap_id {
            ies.push(build_ngap_ie!(ErrorIndication, RAN_UE_NGAP_ID(c::RANUENGAPID(id.0)))?);
        }
        if let Some(cause) = self.cause {
            ies.push(build_ngap_ie!(ErrorIndication, Cause(cause.to_codec()))?);
        }
        if let Some(diagnostics) = &self.criticality_diagnostics {
            ies.push(build_ngap_ie!(
                ErrorIndication,
                CriticalityDiagnostics(diagnostics.clone())
            )?);
        }
        finish(&c::ErrorIndication::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::ErrorIndication = message(pdu)?;
        extract_ngap_ies!(m, ErrorIndication,
            opt amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            opt ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt cause: c::Cause = Cause(v) => v,
            opt diagnostics: CriticalityDiagnostics = CriticalityDiagnostics(v) => v,
        );
        Ok(Self {
            amf_ue_ngap_id: amf.map(amf_id).transpose()?,
            ran_ue_ngap_id: ran.map(RanUeNgapId),
            cause: cause.as_ref().map(cause_of).transpose()?,
            criticality_diagnostics: diagnostics,
        })
    }
}

/// A UE-associated logical NG connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UeAssociatedConnection {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: Option<AmfUeNgapId>,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: Option<RanUeNgapId>,
}

fn connections_to_codec(list: &[UeAssociatedConnection]) -> c::UEAssociatedLogicalNGConnectionList {
    c::UEAssociatedLogicalNGConnectionList(
        list.iter()
            .map(|u| {
                c::UEAssociatedLogicalNGConnectionItem::new(
                    u.amf_ue_ngap_id.map(|id| c::AMFUENGAPID(id.value())),
                    u.ran_ue_ngap_id.map(|id| c::RANUENGAPID(id.0)),
                    None,
                )
            })
            .collect(),
    )
}

fn connections_from_codec(list: &c::UEAssociatedLogicalNGConnectionList) -> Result<Vec<UeAssociatedConnection>, Error> {
    let mut out = Vec::with_capacity(list.0.len());
    for item in &list.0 {
        out.push(UeAssociatedConnection {
            amf_ue_ngap_id: item.amf_ue_ngap_id.map(|id| amf_id(id.0)).transpose()?,
            ran_ue_ngap_id: item.ran_ue_ngap_id.map(|id| RanUeNgapId(id.0)),
        });
    }
    Ok(out)
}

/// What an NG Reset resets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResetType {
    /// The whole NG interface.
    NgInterface,
    /// Part of it: these UE-associated connections.
    PartOfNgInterface(Vec<UeAssociatedConnection>),
}

/// NG RESET (TS 38.413 §9.2.6.11), either way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgReset {
    /// Cause.
    pub cause: Cause,
    /// Reset Type.
    pub reset_type: ResetType,
}

impl NgReset {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let reset = match &self.reset_type {
            ResetType::NgInterface => c::ResetType::nG_Interface(c::ResetAll::reset_all),
            ResetType::PartOfNgInterface(list) => c::ResetType::partOfNG_Interface(connections_to_codec(list)),
        };
        let ies = vec![
            build_ngap_ie!(NGReset, Cause(self.cause.to_codec()))?,
            build_ngap_ie!(NGReset, ResetType(reset))?,
        ];
        finish(&c::NGReset::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::NGReset = message(pdu)?;
        extract_ngap_ies!(m, NGReset,
            req cause: c::Cause = Cause(v) => v,
            req reset: c::ResetType = ResetType(v) => v,
        );
        let reset_type = match &reset {
            c::ResetType::nG_Interface(_) => ResetType::NgInterface,
            c::ResetType::partOfNG_Interface(list) => ResetType::PartOfNgInterface(connections_from_codec(list)?),
            _ => {
                return Err(Error::InvalidValue {
                    what: "Reset Type (choice extension)",
                });
            }
        };
        Ok(Self {
            cause: cause_of(&cause)?,
            reset_type,
        })
    }
}

/// NG RESET ACKNOWLEDGE (TS 38.413 §9.2.6.12).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NgResetAcknowledge {
    /// The UE-associated connections reset (for a partial reset).
    pub connections: Vec<UeAssociatedConnection>,
}

impl NgResetAcknowledge {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = Vec::new();
        if !self.connections.is_empty() {
            ies.push(build_ngap_ie!(
                NGResetAcknowledge,
                UE_associatedLogicalNG_connectionList(connections_to_codec(&self.connections))
            )?);
        }
        finish(&c::NGResetAcknowledge::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::NGResetAcknowledge = message(pdu)?;
        extract_ngap_ies!(m, NGResetAcknowledge,
            opt list: c::UEAssociatedLogicalNGConnectionList = UE_associatedLogicalNG_connectionList(v) => v,
        );
        Ok(Self {
            connections: list
                .as_ref()
                .map(connections_from_codec)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

/// RAN CONFIGURATION UPDATE (TS 38.413 §9.2.6.4), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RanConfigurationUpdate {
    /// RAN Node Name.
    pub ran_node_name: Option<String>,
    /// Supported TA List.
    pub supported_tas: Option<Vec<SupportedTa>>,
    /// Default Paging DRX.
    pub default_paging_drx: Option<PagingDRX>,
    /// Global RAN Node ID.
    pub global_gnb_id: Option<GlobalGnbId>,
}

impl RanConfigurationUpdate {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = Vec::new();
        if let Some(name) = &self.ran_node_name {
            ies.push(build_ngap_ie!(
                RANConfigurationUpdate,
                RANNodeName(c::RANNodeName(name.clone().into()))
            )?);
        }
        if let Some(tas) = &self.supported_tas {
            ies.push(build_ngap_ie!(
                RANConfigurationUpdate,
                SupportedTAList(tas_to_codec(tas))
            )?);
        }
        if let Some(drx) = self.default_paging_drx {
            ies.push(build_ngap_ie!(RANConfigurationUpdate, DefaultPagingDRX(drx))?);
        }
        if let Some(id) = self.global_gnb_id {
            ies.push(build_ngap_ie!(
                RANConfigurationUpdate,
                GlobalRANNodeID(c::GlobalRANNodeID::globalGNB_ID(id.to_codec()))
            )?);
        }
        finish(&c::RANConfigurationUpdate::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::RANConfigurationUpdate = message(pdu)?;
        extract_ngap_ies!(m, RANConfigurationUpdate,
            opt name: String = RANNodeName(v) => owned(&v.0),
            opt tas: c::SupportedTAList = SupportedTAList(v) => v,
            opt drx: PagingDRX = DefaultPagingDRX(v) => v,
            opt node: c::GlobalRANNodeID = GlobalRANNodeID(v) => v,
        );
        let global_gnb_id = match &node {
            None => None,
            Some(c::GlobalRANNodeID::globalGNB_ID(gnb)) => Some(GlobalGnbId::from_codec(gnb)?),
            Some(_) => {
                return Err(Error::InvalidValue {
                    what: "Global RAN Node ID (not a gNB)",
                });
            }
        };
        Ok(Self {
            ran_node_name: name,
            supported_tas: tas.as_ref().map(tas_from_codec).transpose()?,
            default_paging_drx: drx,
            global_gnb_id,
        })
    }
}

/// RAN CONFIGURATION UPDATE ACKNOWLEDGE (TS 38.413 §9.2.6.5).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RanConfigurationUpdateAcknowledge;

impl RanConfigurationUpdateAcknowledge {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        finish(&c::RANConfigurationUpdateAcknowledge::new(ProtocolIEContainer(
            Vec::new(),
        )))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let _: c::RANConfigurationUpdateAcknowledge = message(pdu)?;
        Ok(Self)
    }
}

/// AMF CONFIGURATION UPDATE (TS 38.413 §9.2.6.7), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AmfConfigurationUpdate {
    /// AMF Name.
    pub amf_name: Option<String>,
    /// Served GUAMI List.
    pub served_guamis: Option<Vec<ServedGuami>>,
    /// Relative AMF Capacity.
    pub relative_amf_capacity: Option<u8>,
    /// PLMN Support List.
    pub plmn_support: Option<Vec<PlmnSupport>>,
}

impl AmfConfigurationUpdate {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = Vec::new();
        if let Some(name) = &self.amf_name {
            ies.push(build_ngap_ie!(
                AMFConfigurationUpdate,
                AMFName(c::AMFName(name.clone().into()))
            )?);
        }
        if let Some(guamis) = &self.served_guamis {
            ies.push(build_ngap_ie!(
                AMFConfigurationUpdate,
                ServedGUAMIList(guamis_to_codec(guamis)?)
            )?);
        }
        if let Some(capacity) = self.relative_amf_capacity {
            ies.push(build_ngap_ie!(
                AMFConfigurationUpdate,
                RelativeAMFCapacity(c::RelativeAMFCapacity(capacity))
            )?);
        }
        if let Some(plmns) = &self.plmn_support {
            ies.push(build_ngap_ie!(
                AMFConfigurationUpdate,
                PLMNSupportList(plmns_to_codec(plmns))
            )?);
        }
        finish(&c::AMFConfigurationUpdate::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::AMFConfigurationUpdate = message(pdu)?;
        extract_ngap_ies!(m, AMFConfigurationUpdate,
            opt name: String = AMFName(v) => owned(&v.0),
            opt guamis: c::ServedGUAMIList = ServedGUAMIList(v) => v,
            opt capacity: u8 = RelativeAMFCapacity(v) => v.0,
            opt plmns: c::PLMNSupportList = PLMNSupportList(v) => v,
        );
        Ok(Self {
            amf_name: name,
            served_guamis: guamis.as_ref().map(guamis_from_codec).transpose()?,
            relative_amf_capacity: capacity,
            plmn_support: plmns.as_ref().map(plmns_from_codec).transpose()?,
        })
    }
}

/// AMF CONFIGURATION UPDATE ACKNOWLEDGE (TS 38.413 §9.2.6.8): the TNL association
/// lists are not covered; an acknowledge without them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AmfConfigurationUpdateAcknowledge;

impl AmfConfigurationUpdateAcknowledge {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        finish(&c::AMFConfigurationUpdateAcknowledge::new(ProtocolIEContainer(
            Vec::new(),
        )))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let _: c::AMFConfigurationUpdateAcknowledge = message(pdu)?;
        Ok(Self)
    }
}

/// A failure of Cause and Time to Wait, as the configuration updates have.
macro_rules! cause_and_wait {
    ($(#[$doc:meta])* $ours:ident, $theirs:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $ours {
            /// Cause.
            pub cause: Cause,
            /// Time to Wait.
            pub time_to_wait: Option<TimeToWait>,
        }

        impl $ours {
            /// The PDU of this message.
            pub fn build(&self) -> Result<NgapPdu, Error> {
                let mut ies = vec![build_ngap_ie!($theirs, Cause(self.cause.to_codec()))?];
                if let Some(wait) = self.time_to_wait {
                    ies.push(build_ngap_ie!($theirs, TimeToWait(wait))?);
                }
                finish(&c::$theirs::new(ProtocolIEContainer(ies)))
            }

            /// The message a PDU holds.
            pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
                let m: c::$theirs = message(pdu)?;
                extract_ngap_ies!(m, $theirs,
                    req cause: c::Cause = Cause(v) => v,
                    opt time_to_wait: TimeToWait = TimeToWait(v) => v,
                );
                Ok(Self {
                    cause: cause_of(&cause)?,
                    time_to_wait,
                })
            }
        }
    };
}

cause_and_wait!(
    /// RAN CONFIGURATION UPDATE FAILURE (TS 38.413 §9.2.6.6).
    RanConfigurationUpdateFailure,
    RANConfigurationUpdateFailure
);
cause_and_wait!(
    /// AMF CONFIGURATION UPDATE FAILURE (TS 38.413 §9.2.6.9).
    AmfConfigurationUpdateFailure,
    AMFConfigurationUpdateFailure
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::{CauseMisc, CauseProtocol, CauseRadioNetwork, CauseTransport};
    use crate::ids::{GnbId, Guami, Plmn, SNssai, Tac};
    use crate::procedures::ng_setup::BroadcastPlmn;

    // oxirush-ngap 0.5.0 tests/fixtures/captured.tsv, with what tshark 4.6.4 says:
    // captured-121, Open5GS v2.8.0: Error Indication, AMF 9 / RAN 3,
    // "Cause: RadioNetwork=unknown-local-UE-NGAP-ID" (`03 80`: 000 0 001110 = 14).
    static ERROR_INDICATION_OPEN5GS: &str = "00094015000003000a40020009005540020003000f40020380";
    // captured-151, Open5GS: RAN 2, "Cause: Protocol=semantic-error" (`68`: 011 0 100).
    static ERROR_INDICATION_SEMANTIC: &str = "0009400e000002005540020002000f400168";
    // captured-67, free5GC v4.2.3: RAN 3, "Cause: Protocol=abstract-syntax-error-
    // falsely-constructed-message" (`6a`), with Criticality Diagnostics.
    static ERROR_INDICATION_FREE5GC: &str = "00094015000003005540020003000f40016a00134003700f10";
    // NG Reset of the whole interface, derived field by field (TS 38.413 §9.2.6.11,
    // X.691 aligned PER): `00 14 00` initiating / NGReset / reject, length 0d; `00 00 02`
    // two IEs; Cause (IE 15, ignore, length 1) `28`: choice 001 transport, extension
    // bit 0, index 1 in one bit = unspecified; ResetType (IE 88, reject, length 1)
    // `00`: choice 00 nG-Interface, ResetAll's extension bit 0 and no index bits.
    // The same layout as oxirush-ngap's pycrate vector `0014000e...0058000100`.
    static NG_RESET_ALL: &str = "0014000d000002000f4001280058000100";

    fn pdu(text: &str) -> NgapPdu {
        NgapPdu::decode(&hex::decode(text).unwrap()).unwrap()
    }

    #[test]
    fn decode_error_indications() {
        let e = ErrorIndication::parse(&pdu(ERROR_INDICATION_OPEN5GS)).unwrap();
        assert_eq!(e.amf_ue_ngap_id.map(AmfUeNgapId::value), Some(9));
        assert_eq!(e.ran_ue_ngap_id, Some(RanUeNgapId(3)));
        assert_eq!(
            e.cause,
            Some(Cause::RadioNetwork(CauseRadioNetwork::UnknownLocalUeNgapId))
        );
        assert_eq!(
            hex::encode(e.build().unwrap().encode().unwrap()),
            ERROR_INDICATION_OPEN5GS
        );

        let e = ErrorIndication::parse(&pdu(ERROR_INDICATION_SEMANTIC)).unwrap();
        assert_eq!(e.cause, Some(Cause::Protocol(CauseProtocol::SemanticError)));
        assert_eq!(e.amf_ue_ngap_id, None);
        assert_eq!(
            hex::encode(e.build().unwrap().encode().unwrap()),
            ERROR_INDICATION_SEMANTIC
        );

        let e = ErrorIndication::parse(&pdu(ERROR_INDICATION_FREE5GC)).unwrap();
        assert_eq!(
            e.cause,
            Some(Cause::Protocol(
                CauseProtocol::AbstractSyntaxErrorFalselyConstructedMessage
            ))
        );
        assert!(e.criticality_diagnostics.is_some());
        assert_eq!(
            hex::encode(e.build().unwrap().encode().unwrap()),
            ERROR_INDICATION_FREE5GC
        );
    }

    #[test]
    fn error_indication_answering_a_faulty_pdu() {
        // An Uplink NAS Transport (PacketRusher, captured-169) without its NAS-PDU.
        let mut received = pdu(
            "002e4031000004000a000200010055000200010026000b0a7e02a4fdb2190182bd0f0079400f4002f839000008000002f839000001",
        );
        let mut ies = received.0.protocol_ies().unwrap().into_owned();
        ies.0.retain(|ie| ie.id.0 != 38);
        received.0.set_protocol_ies(ies).unwrap();
        let error = received.check().unwrap_err();
        let answer = ErrorIndication::answering(&received, &error);
        assert_eq!(answer.amf_ue_ngap_id.map(AmfUeNgapId::value), Some(1));
        assert_eq!(answer.ran_ue_ngap_id, Some(RanUeNgapId(1)));
        assert_eq!(
            answer.cause,
            Some(Cause::Protocol(CauseProtocol::AbstractSyntaxErrorReject))
        );
        let diagnostics = answer.criticality_diagnostics.clone().unwrap();
        let items = diagnostics.ies_criticality_diagnostics.unwrap();
        assert_eq!(items.0[0].ie_id.0, 38);
        let p = NgapPdu::decode(&answer.build().unwrap().encode().unwrap()).unwrap();
        assert_eq!(ErrorIndication::parse(&p).unwrap(), answer);
    }

    #[test]
    fn ng_reset() {
        let reset = NgReset {
            cause: Cause::Transport(CauseTransport::Unspecified),
            reset_type: ResetType::NgInterface,
        };
        assert_eq!(hex::encode(reset.build().unwrap().encode().unwrap()), NG_RESET_ALL);
        assert_eq!(NgReset::parse(&pdu(NG_RESET_ALL)).unwrap(), reset);

        let part = NgReset {
            cause: Cause::Misc(CauseMisc::OmIntervention),
            reset_type: ResetType::PartOfNgInterface(vec![
                UeAssociatedConnection {
                    amf_ue_ngap_id: AmfUeNgapId::new(1),
                    ran_ue_ngap_id: Some(RanUeNgapId(2)),
                },
                UeAssociatedConnection {
                    amf_ue_ngap_id: None,
                    ran_ue_ngap_id: Some(RanUeNgapId(3)),
                },
            ]),
        };
        let p = NgapPdu::decode(&part.build().unwrap().encode().unwrap()).unwrap();
        p.check().unwrap();
        assert_eq!(NgReset::parse(&p).unwrap(), part);
        let ResetType::PartOfNgInterface(connections) = part.reset_type else {
            unreachable!()
        };
        let ack = NgResetAcknowledge { connections };
        let p = NgapPdu::decode(&ack.build().unwrap().encode().unwrap()).unwrap();
        assert_eq!(NgResetAcknowledge::parse(&p).unwrap(), ack);
        // pycrate 0.8.1 vector of oxirush-ngap (messages.tsv): an empty acknowledge.
        let empty = NgResetAcknowledge::default().build().unwrap().encode().unwrap();
        assert_eq!(hex::encode(empty), "20140003000000");
    }

    #[test]
    fn configuration_updates() {
        // Empty updates and acknowledges: oxirush-ngap's pycrate 0.8.1 vectors
        // (messages.tsv) `00230003000000`, `20230003000000`, `00000003000000`,
        // `20000003000000`: the PDU header and a container of no IEs.
        let bytes = |p: Result<NgapPdu, Error>| hex::encode(p.unwrap().encode().unwrap());
        assert_eq!(bytes(RanConfigurationUpdate::default().build()), "00230003000000");
        assert_eq!(bytes(RanConfigurationUpdateAcknowledge.build()), "20230003000000");
        assert_eq!(bytes(AmfConfigurationUpdate::default().build()), "00000003000000");
        assert_eq!(bytes(AmfConfigurationUpdateAcknowledge.build()), "20000003000000");

        let plmn = Plmn::new("315", "010").unwrap();
        let update = RanConfigurationUpdate {
            ran_node_name: Some("rooftop-7".into()),
            supported_tas: Some(vec![SupportedTa {
                tac: Tac::from_u32(1),
                broadcast_plmns: vec![BroadcastPlmn {
                    plmn,
                    slices: vec![SNssai { sst: 1, sd: None }],
                }],
            }]),
            default_paging_drx: Some(PagingDRX::v64),
            global_gnb_id: Some(GlobalGnbId {
                plmn,
                gnb_id: GnbId::new(0x1234, 32).unwrap(),
            }),
        };
        let p = NgapPdu::decode(&update.build().unwrap().encode().unwrap()).unwrap();
        p.check().unwrap();
        assert_eq!(RanConfigurationUpdate::parse(&p).unwrap(), update);

        let update = AmfConfigurationUpdate {
            amf_name: Some("hexcore-amf".into()),
            served_guamis: Some(vec![ServedGuami {
                guami: Guami {
                    plmn,
                    amf_region_id: 1,
                    amf_set_id: 1,
                    amf_pointer: 1,
                },
                backup_amf_name: None,
            }]),
            relative_amf_capacity: Some(100),
            plmn_support: Some(vec![PlmnSupport {
                plmn,
                slices: vec![SNssai {
                    sst: 1,
                    sd: Some([0, 0, 1]),
                }],
            }]),
        };
        let p = NgapPdu::decode(&update.build().unwrap().encode().unwrap()).unwrap();
        p.check().unwrap();
        assert_eq!(AmfConfigurationUpdate::parse(&p).unwrap(), update);

        // Failures: pycrate vector `40230009000001000f40020000` (radioNetwork/
        // unspecified, no Time to Wait) and `40000009000001000f40020000`.
        let ran_fail = RanConfigurationUpdateFailure {
            cause: Cause::RadioNetwork(CauseRadioNetwork::Unspecified),
            time_to_wait: None,
        };
        assert_eq!(bytes(ran_fail.build()), "40230009000001000f40020000");
        let amf_fail = AmfConfigurationUpdateFailure {
            cause: Cause::RadioNetwork(CauseRadioNetwork::Unspecified),
            time_to_wait: None,
        };
        assert_eq!(bytes(amf_fail.build()), "40000009000001000f40020000");
        let with_wait = AmfConfigurationUpdateFailure {
            time_to_wait: Some(TimeToWait::v60s),
            ..amf_fail
        };
        let p = NgapPdu::decode(&with_wait.build().unwrap().encode().unwrap()).unwrap();
        assert_eq!(AmfConfigurationUpdateFailure::parse(&p).unwrap(), with_wait);
        assert!(matches!(
            RanConfigurationUpdateFailure::parse(&p),
            Err(Error::WrongMessage { .. })
        ));
    }

    #[test]
    fn broken_input() {
        // NG Reset without its Reset Type (IE 88, reject).
        let mut p = pdu(NG_RESET_ALL);
        let mut ies = p.0.protocol_ies().unwrap().into_owned();
        ies.0.retain(|ie| ie.id.0 != 88);
        p.0.set_protocol_ies(ies).unwrap();
        let err = NgReset::parse(&p).unwrap_err();
        assert!(matches!(err, Error::MissingMandatoryIe { id: 88, .. }));
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::AbstractSyntaxErrorReject));
        // A Cause choice index beyond the alternatives.
        let mut bytes = hex::decode(ERROR_INDICATION_SEMANTIC).unwrap();
        let last = bytes.len() - 1;
        bytes[last] = 0xe0;
        let err = ErrorIndication::parse(&NgapPdu::decode(&bytes).unwrap()).unwrap_err();
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::TransferSyntaxError));
    }
}
