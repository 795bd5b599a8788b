//! PDU Session Management (TS 38.413 §8.2): Resource Setup, Modify and Release, and
//! the two transfers the SMF and the gNB exchange through the AMF (§9.3.4.1,
//! §9.3.4.2). Other transfers stay opaque octets.

use oxirush_ngap::aper::BitString;
use oxirush_ngap::ngap::{self as c, ProtocolIEContainer, decode_open_type, encode_open_type};
use oxirush_ngap::{build_ngap_ie, extract_ngap_ies};

pub use oxirush_ngap::ngap::{PDUSessionType, PreEmptionCapability, PreEmptionVulnerability};

use super::{amf_id, finish, message};
use crate::ids::{AmfUeNgapId, RanUeNgapId, SNssai};
use crate::{Error, NgapPdu};

/// An aggregate maximum bit rate, downlink and uplink, in bit/s (§9.3.1.58, §9.3.1.102).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ambr {
    /// Downlink.
    pub downlink: u64,
    /// Uplink.
    pub uplink: u64,
}

impl Ambr {
    pub(crate) fn to_ue_codec(self) -> c::UEAggregateMaximumBitRate {
        c::UEAggregateMaximumBitRate::new(c::BitRate(self.downlink), c::BitRate(self.uplink), None)
    }

    pub(crate) fn of_ue_codec(value: &c::UEAggregateMaximumBitRate) -> Self {
        Self {
            downlink: value.ue_aggregate_maximum_bit_rate_dl.0,
            uplink: value.ue_aggregate_maximum_bit_rate_ul.0,
        }
    }
}

/// A GTP-U tunnel endpoint (§9.3.2.2 UP Transport Layer Information).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GtpTunnel {
    /// Transport Layer Address: 4 octets (IPv4), 16 (IPv6) or 20 (both), §9.3.2.4.
    pub transport_layer_address: Vec<u8>,
    /// GTP-TEID.
    pub teid: u32,
}

impl GtpTunnel {
    /// The generated CHOICE.
    pub fn to_codec(&self) -> c::UPTransportLayerInformation<'static> {
        c::UPTransportLayerInformation::gTPTunnel(c::GTPTunnel::new(
            c::TransportLayerAddress(BitString::from(self.transport_layer_address.clone())),
            c::GTPTEID(self.teid.to_be_bytes()),
            None,
        ))
    }

    /// The tunnel of a generated CHOICE.
    pub fn from_codec(value: &c::UPTransportLayerInformation<'_>) -> Result<Self, Error> {
        match value {
            c::UPTransportLayerInformation::gTPTunnel(tunnel) => {
                let address = &tunnel.transport_layer_address.0;
                if address.len() % 8 != 0 {
                    return Err(Error::InvalidValue {
                        what: "Transport Layer Address (not whole octets)",
                    });
                }
                Ok(Self {
                    transport_layer_address: address.as_octets().to_vec(),
                    teid: u32::from_be_bytes(tunnel.gtp_teid.0),
                })
            }
            _ => Err(Error::InvalidValue {
                what: "UP Transport Layer Information (not a GTP tunnel)",
            }),
        }
    }
}

/// Allocation and Retention Priority (§9.3.1.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    /// Priority Level ARP, 1..15.
    pub priority_level: u8,
    /// Pre-emption Capability.
    pub pre_emption_capability: PreEmptionCapability,
    /// Pre-emption Vulnerability.
    pub pre_emption_vulnerability: PreEmptionVulnerability,
}

/// A QoS flow to set up, with a standardized (non-dynamic) 5QI (§9.3.1.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QosFlowSetup {
    /// QoS Flow Identifier, 0..63.
    pub qfi: u8,
    /// 5QI.
    pub five_qi: u16,
    /// ARP.
    pub arp: Arp,
}

/// PDU Session Resource Setup Request Transfer (TS 38.413 §9.3.4.1), SMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceSetupRequestTransfer {
    /// PDU Session Aggregate Maximum Bit Rate.
    pub session_ambr: Option<Ambr>,
    /// UL NG-U UP TNL Information: the UPF's N3 tunnel.
    pub ul_tunnel: GtpTunnel,
    /// Additional UL NG-U UP TNL Information.
    pub additional_ul_tunnels: Vec<GtpTunnel>,
    /// PDU Session Type.
    pub pdu_session_type: PDUSessionType,
    /// QoS Flow Setup Request List.
    pub qos_flows: Vec<QosFlowSetup>,
}

impl PduSessionResourceSetupRequestTransfer {
    /// The octets of the transfer, as an item's open type holds them.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut ies = Vec::new();
        if let Some(ambr) = self.session_ambr {
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupRequestTransfer,
                PDUSessionAggregateMaximumBitRate(c::PDUSessionAggregateMaximumBitRate::new(
                    c::BitRate(ambr.downlink),
                    c::BitRate(ambr.uplink),
                    None
                ))
            )?);
        }
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequestTransfer,
            UL_NGU_UP_TNLInformation(self.ul_tunnel.to_codec())
        )?);
        if !self.additional_ul_tunnels.is_empty() {
            let list = self
                .additional_ul_tunnels
                .iter()
                .map(|t| c::UPTransportLayerInformationItem::new(t.to_codec(), None))
                .collect();
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupRequestTransfer,
                AdditionalUL_NGU_UP_TNLInformation(c::UPTransportLayerInformationList(list))
            )?);
        }
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequestTransfer,
            PDUSessionType(self.pdu_session_type)
        )?);
        let flows = self
            .qos_flows
            .iter()
            .map(|f| {
                let arp = c::AllocationAndRetentionPriority::new(
                    c::PriorityLevelARP(f.arp.priority_level),
                    f.arp.pre_emption_capability,
                    f.arp.pre_emption_vulnerability,
                    None,
                );
                let characteristics = c::QosCharacteristics::nonDynamic5QI(c::NonDynamic5QIDescriptor::new(
                    c::FiveQI(u64::from(f.five_qi)),
                    None,
                    None,
                    None,
                    None,
                ));
                c::QosFlowSetupRequestItem::new(
                    c::QosFlowIdentifier(u64::from(f.qfi)),
                    c::QosFlowLevelQosParameters::new(characteristics, arp, None, None, None, None),
                    None,
                    None,
                )
            })
            .collect();
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequestTransfer,
            QosFlowSetupRequestList(c::QosFlowSetupRequestList(flows))
        )?);
        let transfer = c::PDUSessionResourceSetupRequestTransfer::new(ProtocolIEContainer(ies));
        Ok(encode_open_type(&transfer).map_err(Error::Encode)?.into_vec())
    }

    /// The transfer of an item's octets.
    pub fn decode(octets: &[u8]) -> Result<Self, Error> {
        let t: c::PDUSessionResourceSetupRequestTransfer = decode_open_type(octets)?;
        extract_ngap_ies!(t, PDUSessionResourceSetupRequestTransfer,
            opt ambr: c::PDUSessionAggregateMaximumBitRate = PDUSessionAggregateMaximumBitRate(v) => v,
            req ul: c::UPTransportLayerInformation = UL_NGU_UP_TNLInformation(v) => v,
            opt additional: c::UPTransportLayerInformationList = AdditionalUL_NGU_UP_TNLInformation(v) => v,
            req kind: PDUSessionType = PDUSessionType(v) => v,
            req flows: c::QosFlowSetupRequestList = QosFlowSetupRequestList(v) => v,
        );
        let mut additional_ul_tunnels = Vec::new();
        for item in additional.iter().flat_map(|l| l.0.iter()) {
            additional_ul_tunnels.push(GtpTunnel::from_codec(&item.ngu_up_tnl_information)?);
        }
        let mut qos_flows = Vec::with_capacity(flows.0.len());
        for f in &flows.0 {
            let params = &f.qos_flow_level_qos_parameters;
            let five_qi = match &params.qos_characteristics {
                c::QosCharacteristics::nonDynamic5QI(d) => d.five_qi.0,
                c::QosCharacteristics::dynamic5QI(d) => match &d.five_qi {
                    Some(q) => q.0,
                    None => {
                        return Err(Error::InvalidValue {
                            what: "QoS Characteristics (dynamic, without 5QI)",
                        });
                    }
                },
                _ => {
                    return Err(Error::InvalidValue {
                        what: "QoS Characteristics (choice extension)",
                    });
                }
            };
            let arp = &params.allocation_and_retention_priority;
            qos_flows.push(QosFlowSetup {
                qfi: u8::try_from(f.qos_flow_identifier.0).map_err(|_| Error::InvalidValue {
                    what: "QoS Flow Identifier",
                })?,
                five_qi: u16::try_from(five_qi).map_err(|_| Error::InvalidValue { what: "5QI" })?,
                arp: Arp {
                    priority_level: arp.priority_level_arp.0,
                    pre_emption_capability: arp.pre_emption_capability,
                    pre_emption_vulnerability: arp.pre_emption_vulnerability,
                },
            });
        }
        Ok(Self {
            session_ambr: ambr.map(|a| Ambr {
                downlink: a.pdu_session_aggregate_maximum_bit_rate_dl.0,
                uplink: a.pdu_session_aggregate_maximum_bit_rate_ul.0,
            }),
            ul_tunnel: GtpTunnel::from_codec(&ul)?,
            additional_ul_tunnels,
            pdu_session_type: kind,
            qos_flows,
        })
    }
}

/// PDU Session Resource Setup Response Transfer (TS 38.413 §9.3.4.2), gNB to SMF:
/// the gNB's DL tunnel and the QoS flows it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceSetupResponseTransfer {
    /// DL QoS Flow per TNL Information: the tunnel.
    pub dl_tunnel: GtpTunnel,
    /// Its Associated QoS Flow List, by QFI.
    pub qos_flows: Vec<u8>,
}

impl PduSessionResourceSetupResponseTransfer {
    /// The octets of the transfer.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let flows = self
            .qos_flows
            .iter()
            .map(|qfi| c::AssociatedQosFlowItem::new(c::QosFlowIdentifier(u64::from(*qfi)), None, None))
            .collect();
        let transfer = c::PDUSessionResourceSetupResponseTransfer::new(
            c::QosFlowPerTNLInformation::new(self.dl_tunnel.to_codec(), c::AssociatedQosFlowList(flows), None),
            None,
            None,
            None,
            None,
        );
        Ok(encode_open_type(&transfer).map_err(Error::Encode)?.into_vec())
    }

    /// The transfer of an item's octets.
    pub fn decode(octets: &[u8]) -> Result<Self, Error> {
        let t: c::PDUSessionResourceSetupResponseTransfer = decode_open_type(octets)?;
        let info = &t.dl_qos_flow_per_tnl_information;
        let mut qos_flows = Vec::with_capacity(info.associated_qos_flow_list.0.len());
        for item in &info.associated_qos_flow_list.0 {
            qos_flows.push(
                u8::try_from(item.qos_flow_identifier.0).map_err(|_| Error::InvalidValue {
                    what: "QoS Flow Identifier",
                })?,
            );
        }
        Ok(Self {
            dl_tunnel: GtpTunnel::from_codec(&info.up_transport_layer_information)?,
            qos_flows,
        })
    }
}

/// PDU Session Resource Release Command Transfer (TS 38.413 §9.3.4.12), SMF to gNB:
/// why the PDU session's resources are released.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PduSessionResourceReleaseCommandTransfer {
    /// Cause.
    pub cause: crate::Cause,
}

impl PduSessionResourceReleaseCommandTransfer {
    /// The octets of the transfer.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let transfer = c::PDUSessionResourceReleaseCommandTransfer::new(self.cause.to_codec(), None);
        Ok(encode_open_type(&transfer).map_err(Error::Encode)?.into_vec())
    }

    /// The transfer of an item's octets.
    pub fn decode(octets: &[u8]) -> Result<Self, Error> {
        let t: c::PDUSessionResourceReleaseCommandTransfer = decode_open_type(octets)?;
        Ok(Self {
            cause: crate::Cause::try_from(&t.cause)?,
        })
    }
}

/// One entry of the UL NG-U UP TNL Modify List (§9.3.4.3): the new UL tunnel of the
/// UPF and the DL tunnel of the gNB it pairs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UlTunnelModify {
    /// UL NG-U UP TNL Information: the UPF's (new) N3 tunnel.
    pub ul_tunnel: GtpTunnel,
    /// DL NG-U UP TNL Information: the gNB's tunnel it pairs with.
    pub dl_tunnel: GtpTunnel,
}

/// PDU Session Resource Modify Request Transfer (TS 38.413 §9.3.4.3), SMF to gNB: the
/// parts the SMF changes without adding QoS flows (a new session AMBR, a new UL tunnel
/// after a UPF change). QoS flow additions and releases are not built yet.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PduSessionResourceModifyRequestTransfer {
    /// PDU Session Aggregate Maximum Bit Rate.
    pub session_ambr: Option<Ambr>,
    /// UL NG-U UP TNL Modify List (1..4 entries).
    pub ul_tunnels: Vec<UlTunnelModify>,
}

impl PduSessionResourceModifyRequestTransfer {
    /// The octets of the transfer.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut ies = Vec::new();
        if let Some(ambr) = self.session_ambr {
            ies.push(build_ngap_ie!(
                PDUSessionResourceModifyRequestTransfer,
                PDUSessionAggregateMaximumBitRate(c::PDUSessionAggregateMaximumBitRate::new(
                    c::BitRate(ambr.downlink),
                    c::BitRate(ambr.uplink),
                    None
                ))
            )?);
        }
        if !self.ul_tunnels.is_empty() {
            let list = self
                .ul_tunnels
                .iter()
                .map(|t| c::ULNGUUPTNLModifyItem::new(t.ul_tunnel.to_codec(), t.dl_tunnel.to_codec(), None))
                .collect();
            ies.push(build_ngap_ie!(
                PDUSessionResourceModifyRequestTransfer,
                UL_NGU_UP_TNLModifyList(c::ULNGUUPTNLModifyList(list))
            )?);
        }
        let transfer = c::PDUSessionResourceModifyRequestTransfer::new(ProtocolIEContainer(ies));
        Ok(encode_open_type(&transfer).map_err(Error::Encode)?.into_vec())
    }

    /// The transfer of an item's octets (the IEs above; others are skipped).
    pub fn decode(octets: &[u8]) -> Result<Self, Error> {
        let t: c::PDUSessionResourceModifyRequestTransfer = decode_open_type(octets)?;
        extract_ngap_ies!(t, PDUSessionResourceModifyRequestTransfer,
            opt ambr: c::PDUSessionAggregateMaximumBitRate = PDUSessionAggregateMaximumBitRate(v) => v,
            opt tunnels: c::ULNGUUPTNLModifyList = UL_NGU_UP_TNLModifyList(v) => v,
        );
        let mut ul_tunnels = Vec::new();
        for item in tunnels.iter().flat_map(|l| l.0.iter()) {
            ul_tunnels.push(UlTunnelModify {
                ul_tunnel: GtpTunnel::from_codec(&item.ul_ngu_up_tnl_information)?,
                dl_tunnel: GtpTunnel::from_codec(&item.dl_ngu_up_tnl_information)?,
            });
        }
        Ok(Self {
            session_ambr: ambr.map(|a| Ambr {
                downlink: a.pdu_session_aggregate_maximum_bit_rate_dl.0,
                uplink: a.pdu_session_aggregate_maximum_bit_rate_ul.0,
            }),
            ul_tunnels,
        })
    }
}

/// A PDU session to set up: its id, NAS PDU, S-NSSAI and Setup Request Transfer octets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionSetupItem {
    /// PDU Session ID.
    pub pdu_session_id: u8,
    /// PDU session NAS-PDU (the 5GSM message for the UE).
    pub nas_pdu: Option<Vec<u8>>,
    /// S-NSSAI.
    pub s_nssai: SNssai,
    /// PDU Session Resource Setup Request Transfer, encoded.
    pub transfer: Vec<u8>,
}

/// A PDU session and a transfer's octets (response, unsuccessful, release...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionTransferItem {
    /// PDU Session ID.
    pub pdu_session_id: u8,
    /// The transfer, encoded.
    pub transfer: Vec<u8>,
}

/// A PDU session to modify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionModifyItem {
    /// PDU Session ID.
    pub pdu_session_id: u8,
    /// NAS-PDU.
    pub nas_pdu: Option<Vec<u8>>,
    /// PDU Session Resource Modify Request Transfer, encoded.
    pub transfer: Vec<u8>,
}

fn nas(v: &Option<Vec<u8>>) -> Option<c::NASPDU<'static>> {
    v.clone().map(c::NASPDU::from)
}

fn nas_of(v: &Option<c::NASPDU<'_>>) -> Option<Vec<u8>> {
    v.as_ref().map(|n| n.0.to_vec())
}

/// PDU SESSION RESOURCE SETUP REQUEST (§9.2.1.1), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceSetupRequest {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// NAS-PDU.
    pub nas_pdu: Option<Vec<u8>>,
    /// PDU Session Resource Setup Request List.
    pub sessions: Vec<PduSessionSetupItem>,
    /// UE Aggregate Maximum Bit Rate.
    pub ue_ambr: Option<Ambr>,
}

impl PduSessionResourceSetupRequest {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = vec![
            build_ngap_ie!(
                PDUSessionResourceSetupRequest,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(self.amf_ue_ngap_id.value()))
            )?,
            build_ngap_ie!(
                PDUSessionResourceSetupRequest,
                RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
        ];
        if let Some(n) = nas(&self.nas_pdu) {
            ies.push(build_ngap_ie!(PDUSessionResourceSetupRequest, NAS_PDU(n))?);
        }
        let items = self
            .sessions
            .iter()
            .map(|s| {
                c::PDUSessionResourceSetupItemSUReq::new(
                    c::PDUSessionID(s.pdu_session_id),
                    nas(&s.nas_pdu),
                    s.s_nssai.to_codec(),
                    s.transfer.clone().into(),
                    None,
                )
            })
            .collect();
        ies.push(build_ngap_ie!(
            PDUSessionResourceSetupRequest,
            PDUSessionResourceSetupListSUReq(c::PDUSessionResourceSetupListSUReq(items))
        )?);
        if let Some(ambr) = self.ue_ambr {
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupRequest,
                UEAggregateMaximumBitRate(ambr.to_ue_codec())
            )?);
        }
        finish(&c::PDUSessionResourceSetupRequest::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::PDUSessionResourceSetupRequest = message(pdu)?;
        extract_ngap_ies!(m, PDUSessionResourceSetupRequest,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt nas_pdu: Vec<u8> = NAS_PDU(v) => v.0.to_vec(),
            req list: c::PDUSessionResourceSetupListSUReq = PDUSessionResourceSetupListSUReq(v) => v,
            opt ambr: c::UEAggregateMaximumBitRate = UEAggregateMaximumBitRate(v) => v,
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            nas_pdu,
            sessions: list
                .0
                .iter()
                .map(|i| PduSessionSetupItem {
                    pdu_session_id: i.pdu_session_id.0,
                    nas_pdu: nas_of(&i.pdu_session_nas_pdu),
                    s_nssai: SNssai::from_codec(&i.s_nssai),
                    transfer: i.pdu_session_resource_setup_request_transfer.to_vec(),
                })
                .collect(),
            ue_ambr: ambr.as_ref().map(Ambr::of_ue_codec),
        })
    }
}

/// PDU SESSION RESOURCE SETUP RESPONSE (§9.2.1.2), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceSetupResponse {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// Set up: Setup Response Transfers.
    pub setup: Vec<PduSessionTransferItem>,
    /// Failed to set up: Setup Unsuccessful Transfers.
    pub failed: Vec<PduSessionTransferItem>,
}

impl PduSessionResourceSetupResponse {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = vec![
            build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(self.amf_ue_ngap_id.value()))
            )?,
            build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
        ];
        if !self.setup.is_empty() {
            let items = self
                .setup
                .iter()
                .map(|s| {
                    c::PDUSessionResourceSetupItemSURes::new(
                        c::PDUSessionID(s.pdu_session_id),
                        s.transfer.clone().into(),
                        None,
                    )
                })
                .collect();
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                PDUSessionResourceSetupListSURes(c::PDUSessionResourceSetupListSURes(items))
            )?);
        }
        if !self.failed.is_empty() {
            let items = self
                .failed
                .iter()
                .map(|s| {
                    c::PDUSessionResourceFailedToSetupItemSURes::new(
                        c::PDUSessionID(s.pdu_session_id),
                        s.transfer.clone().into(),
                        None,
                    )
                })
                .collect();
            ies.push(build_ngap_ie!(
                PDUSessionResourceSetupResponse,
                PDUSessionResourceFailedToSetupListSURes(c::PDUSessionResourceFailedToSetupListSURes(items))
            )?);
        }
        finish(&c::PDUSessionResourceSetupResponse::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::PDUSessionResourceSetupResponse = message(pdu)?;
        extract_ngap_ies!(m, PDUSessionResourceSetupResponse,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt setup: Vec<PduSessionTransferItem> = PDUSessionResourceSetupListSURes(v) => v.0.iter().map(|i| PduSessionTransferItem {
                pdu_session_id: i.pdu_session_id.0,
                transfer: i.pdu_session_resource_setup_response_transfer.to_vec(),
            }).collect(),
            opt failed: Vec<PduSessionTransferItem> = PDUSessionResourceFailedToSetupListSURes(v) => v.0.iter().map(|i| PduSessionTransferItem {
                pdu_session_id: i.pdu_session_id.0,
                transfer: i.pdu_session_resource_setup_unsuccessful_transfer.to_vec(),
            }).collect(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            setup: setup.unwrap_or_default(),
            failed: failed.unwrap_or_default(),
        })
    }
}

/// PDU SESSION RESOURCE MODIFY REQUEST (§9.2.1.5), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceModifyRequest {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// PDU Session Resource Modify Request List.
    pub sessions: Vec<PduSessionModifyItem>,
}

impl PduSessionResourceModifyRequest {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let items = self
            .sessions
            .iter()
            .map(|s| {
                c::PDUSessionResourceModifyItemModReq::new(
                    c::PDUSessionID(s.pdu_session_id),
                    nas(&s.nas_pdu),
                    s.transfer.clone().into(),
                    None,
                )
            })
            .collect();
        let ies = vec![
            build_ngap_ie!(
                PDUSessionResourceModifyRequest,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(self.amf_ue_ngap_id.value()))
            )?,
            build_ngap_ie!(
                PDUSessionResourceModifyRequest,
                RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
            build_ngap_ie!(
                PDUSessionResourceModifyRequest,
                PDUSessionResourceModifyListModReq(c::PDUSessionResourceModifyListModReq(items))
            )?,
        ];
        finish(&c::PDUSessionResourceModifyRequest::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::PDUSessionResourceModifyRequest = message(pdu)?;
        extract_ngap_ies!(m, PDUSessionResourceModifyRequest,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            req sessions: Vec<PduSessionModifyItem> = PDUSessionResourceModifyListModReq(v) => v.0.iter().map(|i| PduSessionModifyItem {
                pdu_session_id: i.pdu_session_id.0,
                nas_pdu: nas_of(&i.nas_pdu),
                transfer: i.pdu_session_resource_modify_request_transfer.to_vec(),
            }).collect(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            sessions,
        })
    }
}

/// PDU SESSION RESOURCE MODIFY RESPONSE (§9.2.1.6), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceModifyResponse {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// Modified: Modify Response Transfers.
    pub modified: Vec<PduSessionTransferItem>,
    /// Failed to modify: Modify Unsuccessful Transfers.
    pub failed: Vec<PduSessionTransferItem>,
}

impl PduSessionResourceModifyResponse {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = vec![
            build_ngap_ie!(
                PDUSessionResourceModifyResponse,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(self.amf_ue_ngap_id.value()))
            )?,
            build_ngap_ie!(
                PDUSessionResourceModifyResponse,
                RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
        ];
        if !self.modified.is_empty() {
            let items = self
                .modified
                .iter()
                .map(|s| {
                    c::PDUSessionResourceModifyItemModRes::new(
                        c::PDUSessionID(s.pdu_session_id),
                        s.transfer.clone().into(),
                        None,
                    )
                })
                .collect();
            ies.push(build_ngap_ie!(
                PDUSessionResourceModifyResponse,
                PDUSessionResourceModifyListModRes(c::PDUSessionResourceModifyListModRes(items))
            )?);
        }
        if !self.failed.is_empty() {
            let items = self
                .failed
                .iter()
                .map(|s| {
                    c::PDUSessionResourceFailedToModifyItemModRes::new(
                        c::PDUSessionID(s.pdu_session_id),
                        s.transfer.clone().into(),
                        None,
                    )
                })
                .collect();
            ies.push(build_ngap_ie!(
                PDUSessionResourceModifyResponse,
                PDUSessionResourceFailedToModifyListModRes(c::PDUSessionResourceFailedToModifyListModRes(items))
            )?);
        }
        finish(&c::PDUSessionResourceModifyResponse::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::PDUSessionResourceModifyResponse = message(pdu)?;
        extract_ngap_ies!(m, PDUSessionResourceModifyResponse,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt modified: Vec<PduSessionTransferItem> = PDUSessionResourceModifyListModRes(v) => v.0.iter().map(|i| PduSessionTransferItem {
                pdu_session_id: i.pdu_session_id.0,
                transfer: i.pdu_session_resource_modify_response_transfer.to_vec(),
            }).collect(),
            opt failed: Vec<PduSessionTransferItem> = PDUSessionResourceFailedToModifyListModRes(v) => v.0.iter().map(|i| PduSessionTransferItem {
                pdu_session_id: i.pdu_session_id.0,
                transfer: i.pdu_session_resource_modify_unsuccessful_transfer.to_vec(),
            }).collect(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            modified: modified.unwrap_or_default(),
            failed: failed.unwrap_or_default(),
        })
    }
}

/// PDU SESSION RESOURCE RELEASE COMMAND (§9.2.1.3), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceReleaseCommand {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// NAS-PDU.
    pub nas_pdu: Option<Vec<u8>>,
    /// PDU Session Resource to Release List: Release Command Transfers.
    pub sessions: Vec<PduSessionTransferItem>,
}

impl PduSessionResourceReleaseCommand {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = vec![
            build_ngap_ie!(
                PDUSessionResourceReleaseCommand,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(self.amf_ue_ngap_id.value()))
            )?,
            build_ngap_ie!(
                PDUSessionResourceReleaseCommand,
                RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
        ];
        if let Some(n) = nas(&self.nas_pdu) {
            ies.push(build_ngap_ie!(PDUSessionResourceReleaseCommand, NAS_PDU(n))?);
        }
        let items = self
            .sessions
            .iter()
            .map(|s| {
                c::PDUSessionResourceToReleaseItemRelCmd::new(
                    c::PDUSessionID(s.pdu_session_id),
                    s.transfer.clone().into(),
                    None,
                )
            })
            .collect();
        ies.push(build_ngap_ie!(
            PDUSessionResourceReleaseCommand,
            PDUSessionResourceToReleaseListRelCmd(c::PDUSessionResourceToReleaseListRelCmd(items))
        )?);
        finish(&c::PDUSessionResourceReleaseCommand::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::PDUSessionResourceReleaseCommand = message(pdu)?;
        extract_ngap_ies!(m, PDUSessionResourceReleaseCommand,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt nas_pdu: Vec<u8> = NAS_PDU(v) => v.0.to_vec(),
            req sessions: Vec<PduSessionTransferItem> = PDUSessionResourceToReleaseListRelCmd(v) => v.0.iter().map(|i| PduSessionTransferItem {
                pdu_session_id: i.pdu_session_id.0,
                transfer: i.pdu_session_resource_release_command_transfer.to_vec(),
            }).collect(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            nas_pdu,
            sessions,
        })
    }
}

/// PDU SESSION RESOURCE RELEASE RESPONSE (§9.2.1.4), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PduSessionResourceReleaseResponse {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// PDU Session Resource Released List: Release Response Transfers.
    pub released: Vec<PduSessionTransferItem>,
}

impl PduSessionResourceReleaseResponse {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let items = self
            .released
            .iter()
            .map(|s| {
                c::PDUSessionResourceReleasedItemRelRes::new(
                    c::PDUSessionID(s.pdu_session_id),
                    s.transfer.clone().into(),
                    None,
                )
            })
            .collect();
        let ies = vec![
            build_ngap_ie!(
                PDUSessionResourceReleaseResponse,
                AMF_UE_NGAP_ID(c::AMFUENGAPID(self.amf_ue_ngap_id.value()))
            )?,
            build_ngap_ie!(
                PDUSessionResourceReleaseResponse,
                RAN_UE_NGAP_ID(c::RANUENGAPID(self.ran_ue_ngap_id.0))
            )?,
            build_ngap_ie!(
                PDUSessionResourceReleaseResponse,
                PDUSessionResourceReleasedListRelRes(c::PDUSessionResourceReleasedListRelRes(items))
            )?,
        ];
        finish(&c::PDUSessionResourceReleaseResponse::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::PDUSessionResourceReleaseResponse = message(pdu)?;
        extract_ngap_ies!(m, PDUSessionResourceReleaseResponse,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            req released: Vec<PduSessionTransferItem> = PDUSessionResourceReleasedListRelRes(v) => v.0.iter().map(|i| PduSessionTransferItem {
                pdu_session_id: i.pdu_session_id.0,
                transfer: i.pdu_session_resource_release_response_transfer.to_vec(),
            }).collect(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            released,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cause;
    use crate::cause::CauseProtocol;

    // oxirush-ngap 0.5.0 tests/fixtures/captured.tsv (lab captures on the wire):
    // captured-5, free5GC v4.2.3 AMF: PDU Session Resource Setup Request, AMF 1 / RAN 0,
    // one session with its 5GSM NAS PDU, S-NSSAI 1/010203, and a Setup Request
    // Transfer: session AMBR 1 Gbit/s both ways (`3b9aca00`), UL tunnel 127.0.0.8
    // TEID 2, additional UL tunnel 127.0.0.8 TEID 3, IPv4, one QoS flow (QFI 1, 5QI 9).
    static SETUP_REQUEST: &str = "001d0080bb000004000a00020001005500020000004a008099004005527e02004d1fa7031d154befadc2285eae7651d51561b6d0311229991bb69939c8688b4f2d427c3ff25511791ae7164d473c406c657cd53d564975c79c18a26a328a6814d98528a70f04cd8077fe6779fafc7e40200102033d0000050082000a0c3b9aca00303b9aca00008b000a01f07f00000800000002007e400a001f7f0000080000000300860001000088000700010000091c00006e400a0c3b9aca00303b9aca00";
    // captured-172, PacketRusher as gNB: the Setup Response, AMF 1 / RAN 1, session 1,
    // Setup Response Transfer `0003e07f000001000000010001`: DL tunnel 127.0.0.1 TEID 1
    // (address length 32 coded as 31 in 8 bits after three zero bits), QFI 1.
    static SETUP_RESPONSE: &str = "201d0024000003000a40020001005540020001004b40110000010d0003e07f000001000000010001";
    static SETUP_RESPONSE_TRANSFER: [u8; 13] = [
        0x00, 0x03, 0xe0, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
    ];
    // captured-8, free5GC: Release Command, AMF 1 / RAN 0, a NAS PDU, session 7.
    static RELEASE_COMMAND: &str =
        "001c0031000004000a0002000100550002000000264015147e02c64dc73b0679eb02ba0ec4b61dd572afa31d004f00050000070110";
    // captured-174, PacketRusher: Release Response, AMF 1 / RAN 1, session 1.
    static RELEASE_RESPONSE: &str = "201c0018000003000a40020001005540020001004640050000010100";

    fn pdu(text: &str) -> NgapPdu {
        NgapPdu::decode(&hex::decode(text).unwrap()).unwrap()
    }

    #[test]
    fn decode_setup_request_and_its_transfer() {
        let req = PduSessionResourceSetupRequest::parse(&pdu(SETUP_REQUEST)).unwrap();
        assert_eq!(req.amf_ue_ngap_id.value(), 1);
        assert_eq!(req.ran_ue_ngap_id, RanUeNgapId(0));
        assert_eq!(
            req.ue_ambr,
            Some(Ambr {
                downlink: 1_000_000_000,
                uplink: 1_000_000_000
            })
        );
        let session = &req.sessions[0];
        assert_eq!(
            session.s_nssai,
            SNssai {
                sst: 1,
                sd: Some([1, 2, 3])
            }
        );
        assert_eq!(session.nas_pdu.as_ref().map(Vec::len), Some(0x52));
        let transfer = PduSessionResourceSetupRequestTransfer::decode(&session.transfer).unwrap();
        assert_eq!(
            transfer.session_ambr,
            Some(Ambr {
                downlink: 1_000_000_000,
                uplink: 1_000_000_000
            })
        );
        assert_eq!(
            transfer.ul_tunnel,
            GtpTunnel {
                transport_layer_address: vec![127, 0, 0, 8],
                teid: 2
            }
        );
        assert_eq!(transfer.additional_ul_tunnels[0].teid, 3);
        assert_eq!(transfer.pdu_session_type, PDUSessionType::ipv4);
        assert_eq!(transfer.qos_flows.len(), 1);
        assert_eq!((transfer.qos_flows[0].qfi, transfer.qos_flows[0].five_qi), (1, 9));
        // The typed transfer encodes back to the octets free5GC sent but for one:
        // free5GC sends Additional UL NG-U UP TNL Information (IE 126, `00 7e`) with
        // criticality ignore (`40`), where the object set of TS 38.413 §9.3.4.1
        // assigns reject (`00`), which the builder writes.
        let sent = hex::encode(&session.transfer);
        assert!(sent.contains("007e400a"));
        let expected = sent.replace("007e400a", "007e000a");
        assert_eq!(hex::encode(transfer.encode().unwrap()), expected);
        // The message carries the transfer as opaque octets: it rebuilds byte for byte.
        assert_eq!(hex::encode(req.build().unwrap().encode().unwrap()), SETUP_REQUEST);
    }

    #[test]
    fn setup_response_transfer_known_bytes() {
        let transfer = PduSessionResourceSetupResponseTransfer {
            dl_tunnel: GtpTunnel {
                transport_layer_address: vec![127, 0, 0, 1],
                teid: 1,
            },
            qos_flows: vec![1],
        };
        assert_eq!(transfer.encode().unwrap(), SETUP_RESPONSE_TRANSFER);
        assert_eq!(
            PduSessionResourceSetupResponseTransfer::decode(&SETUP_RESPONSE_TRANSFER).unwrap(),
            transfer
        );
        let rsp = PduSessionResourceSetupResponse::parse(&pdu(SETUP_RESPONSE)).unwrap();
        assert_eq!(rsp.setup[0].pdu_session_id, 1);
        assert_eq!(rsp.setup[0].transfer, SETUP_RESPONSE_TRANSFER);
        assert!(rsp.failed.is_empty());
        assert_eq!(hex::encode(rsp.build().unwrap().encode().unwrap()), SETUP_RESPONSE);
    }

    #[test]
    fn release_command_and_response() {
        let cmd = PduSessionResourceReleaseCommand::parse(&pdu(RELEASE_COMMAND)).unwrap();
        assert_eq!(cmd.nas_pdu.as_ref().map(Vec::len), Some(0x14));
        assert_eq!(cmd.sessions.len(), 1);
        assert_eq!(hex::encode(cmd.build().unwrap().encode().unwrap()), RELEASE_COMMAND);
        let rsp = PduSessionResourceReleaseResponse::parse(&pdu(RELEASE_RESPONSE)).unwrap();
        assert_eq!(rsp.released[0].pdu_session_id, 1);
        assert_eq!(hex::encode(rsp.build().unwrap().encode().unwrap()), RELEASE_RESPONSE);
    }

    #[test]
    fn modify_round_trip() {
        let req = PduSessionResourceModifyRequest {
            amf_ue_ngap_id: AmfUeNgapId::new(AmfUeNgapId::MAX).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(u32::MAX),
            sessions: vec![PduSessionModifyItem {
                pdu_session_id: 5,
                nas_pdu: Some(vec![0x7e, 0x02]),
                transfer: vec![0x00, 0x00, 0x00],
            }],
        };
        let p = NgapPdu::decode(&req.build().unwrap().encode().unwrap()).unwrap();
        p.check().unwrap();
        assert_eq!(p.nas_pdus(), vec![vec![0x7e, 0x02]]);
        assert_eq!(PduSessionResourceModifyRequest::parse(&p).unwrap(), req);
        let rsp = PduSessionResourceModifyResponse {
            amf_ue_ngap_id: req.amf_ue_ngap_id,
            ran_ue_ngap_id: req.ran_ue_ngap_id,
            modified: vec![],
            failed: vec![PduSessionTransferItem {
                pdu_session_id: 5,
                transfer: vec![0x00, 0x00],
            }],
        };
        let p = NgapPdu::decode(&rsp.build().unwrap().encode().unwrap()).unwrap();
        p.check().unwrap();
        assert_eq!(PduSessionResourceModifyResponse::parse(&p).unwrap(), rsp);
    }

    #[test]
    fn release_command_transfer() {
        use crate::cause::CauseNas;
        // TS 38.413 §9.3.4.12: one Cause, nas/normal-release. Aligned PER, one octet:
        // the SEQUENCE preamble (extension bit 0, iE-Extensions absent 0), the CHOICE
        // index 2 (nas) of the 6 alternatives of Cause in 3 bits (010), then CauseNas:
        // extension bit 0 and index 0 of its 4 root values in 2 bits (00): 0001 0000.
        let t = PduSessionResourceReleaseCommandTransfer {
            cause: Cause::Nas(CauseNas::NormalRelease),
        };
        let octets = t.encode().unwrap();
        assert_eq!(octets, [0x10]);
        assert_eq!(PduSessionResourceReleaseCommandTransfer::decode(&octets).unwrap(), t);
        assert!(PduSessionResourceReleaseCommandTransfer::decode(&[]).is_err());
    }

    #[test]
    fn modify_request_transfer_round_trip() {
        let t = PduSessionResourceModifyRequestTransfer {
            session_ambr: Some(Ambr {
                downlink: 100_000_000,
                uplink: 50_000_000,
            }),
            ul_tunnels: vec![UlTunnelModify {
                ul_tunnel: GtpTunnel {
                    transport_layer_address: vec![127, 0, 0, 8],
                    teid: 7,
                },
                dl_tunnel: GtpTunnel {
                    transport_layer_address: vec![127, 0, 0, 1],
                    teid: 1,
                },
            }],
        };
        let octets = t.encode().unwrap();
        assert_eq!(PduSessionResourceModifyRequestTransfer::decode(&octets).unwrap(), t);
        // AMBR only: IE 130 with criticality reject.
        let only = PduSessionResourceModifyRequestTransfer {
            session_ambr: t.session_ambr,
            ul_tunnels: vec![],
        };
        let octets = only.encode().unwrap();
        assert_eq!(&octets[..6], [0x00, 0x00, 0x01, 0x00, 0x82, 0x00]);
        assert_eq!(PduSessionResourceModifyRequestTransfer::decode(&octets).unwrap(), only);
        assert!(PduSessionResourceModifyRequestTransfer::decode(&octets[..5]).is_err());
    }

    #[test]
    fn broken_transfers() {
        // Truncated transfer octets: a transfer syntax error.
        let err = PduSessionResourceSetupResponseTransfer::decode(&SETUP_RESPONSE_TRANSFER[..6]).unwrap_err();
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::TransferSyntaxError));
        // A Setup Request Transfer without its UL NG-U tunnel (IE 139, reject).
        let t = c::PDUSessionResourceSetupRequestTransfer::new(ProtocolIEContainer(vec![
            build_ngap_ie!(
                PDUSessionResourceSetupRequestTransfer,
                PDUSessionType(PDUSessionType::ipv4)
            )
            .unwrap(),
        ]));
        let octets = encode_open_type(&t).unwrap();
        let err = PduSessionResourceSetupRequestTransfer::decode(&octets).unwrap_err();
        assert!(matches!(err, Error::MissingMandatoryIe { id: 139, .. }), "{err:?}");
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::AbstractSyntaxErrorReject));
        // A 33-bit transport layer address.
        let mut bad = SETUP_RESPONSE_TRANSFER;
        bad[1] = 0x04; // length field 32 + 1
        assert!(PduSessionResourceSetupResponseTransfer::decode(&bad).is_err());
    }
}
