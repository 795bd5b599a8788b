//! UE Context Management (TS 38.413 §8.3): Initial Context Setup, UE Context Release
//! (Request, Command, Complete) and UE Context Modification.

use oxirush_ngap::aper::BitString;
use oxirush_ngap::ngap::{self as c, ProtocolIEContainer};
use oxirush_ngap::{build_ngap_ie, extract_ngap_ies};

use super::pdu_session::{Ambr, PduSessionSetupItem, PduSessionTransferItem};
use super::{amf_id, cause_of, finish, message};
use crate::ids::{AmfUeNgapId, Guami, RanUeNgapId, SNssai};
use crate::{Cause, Error, NgapPdu};

/// UE Security Capabilities (TS 38.413 §9.3.1.86): the first 16 bits of each
/// algorithm bitmap, bit 15 (the first) being 128-NEA1/NIA1/EEA1/EIA1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UeSecurityCapabilities {
    /// NR Encryption Algorithms.
    pub nr_encryption: u16,
    /// NR Integrity Protection Algorithms.
    pub nr_integrity: u16,
    /// E-UTRA Encryption Algorithms.
    pub eutra_encryption: u16,
    /// E-UTRA Integrity Protection Algorithms.
    pub eutra_integrity: u16,
}

fn bits16(value: u16) -> BitString<'static> {
    BitString::from(value.to_be_bytes())
}

fn of_bits16(bits: &BitString<'_>) -> u16 {
    let octets = bits.as_octets();
    u16::from_be_bytes([
        octets.first().copied().unwrap_or(0),
        octets.get(1).copied().unwrap_or(0),
    ])
}

impl UeSecurityCapabilities {
    /// The generated value.
    pub fn to_codec(self) -> c::UESecurityCapabilities<'static> {
        c::UESecurityCapabilities::new(
            c::NRencryptionAlgorithms(bits16(self.nr_encryption)),
            c::NRintegrityProtectionAlgorithms(bits16(self.nr_integrity)),
            c::EUTRAencryptionAlgorithms(bits16(self.eutra_encryption)),
            c::EUTRAintegrityProtectionAlgorithms(bits16(self.eutra_integrity)),
            None,
        )
    }

    /// The capabilities of a generated value (bits past the 16th are dropped).
    pub fn from_codec(value: &c::UESecurityCapabilities<'_>) -> Self {
        Self {
            nr_encryption: of_bits16(&value.nr_encryption_algorithms.0),
            nr_integrity: of_bits16(&value.nr_integrity_protection_algorithms.0),
            eutra_encryption: of_bits16(&value.eutra_encryption_algorithms.0),
            eutra_integrity: of_bits16(&value.eutra_integrity_protection_algorithms.0),
        }
    }
}

fn key_of(bits: &BitString<'_>) -> Result<[u8; 32], Error> {
    <[u8; 32]>::try_from(bits.as_octets()).map_err(|_| Error::InvalidValue {
        what: "Security Key (not 256 bits)",
    })
}

fn ids(amf: AmfUeNgapId, ran: RanUeNgapId) -> (c::AMFUENGAPID, c::RANUENGAPID) {
    (c::AMFUENGAPID(amf.value()), c::RANUENGAPID(ran.0))
}

/// INITIAL CONTEXT SETUP REQUEST (TS 38.413 §9.2.2.1), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialContextSetupRequest {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// UE Aggregate Maximum Bit Rate (conditional: with PDU sessions).
    pub ue_ambr: Option<Ambr>,
    /// GUAMI.
    pub guami: Guami,
    /// PDU Session Resource Setup Request List.
    pub pdu_sessions: Vec<PduSessionSetupItem>,
    /// Allowed NSSAI.
    pub allowed_nssai: Vec<SNssai>,
    /// UE Security Capabilities.
    pub ue_security_capabilities: UeSecurityCapabilities,
    /// Security Key: KgNB, 256 bits.
    pub security_key: [u8; 32],
    /// NAS-PDU.
    pub nas_pdu: Option<Vec<u8>>,
}

impl InitialContextSetupRequest {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let (amf, ran) = ids(self.amf_ue_ngap_id, self.ran_ue_ngap_id);
        let mut ies = vec![
            build_ngap_ie!(InitialContextSetupRequest, AMF_UE_NGAP_ID(amf))?,
            build_ngap_ie!(InitialContextSetupRequest, RAN_UE_NGAP_ID(ran))?,
        ];
        if let Some(ambr) = self.ue_ambr {
            ies.push(build_ngap_ie!(
                InitialContextSetupRequest,
                UEAggregateMaximumBitRate(ambr.to_ue_codec())
            )?);
        }
        ies.push(build_ngap_ie!(
            InitialContextSetupRequest,
            GUAMI(self.guami.to_codec()?)
        )?);
        if !self.pdu_sessions.is_empty() {
            let items = self
                .pdu_sessions
                .iter()
                .map(|s| {
                    c::PDUSessionResourceSetupItemCxtReq::new(
                        c::PDUSessionID(s.pdu_session_id),
                        s.nas_pdu.clone().map(c::NASPDU::from),
                        s.s_nssai.to_codec(),
                        s.transfer.clone().into(),
                        None,
                    )
                })
                .collect();
            ies.push(build_ngap_ie!(
                InitialContextSetupRequest,
                PDUSessionResourceSetupListCxtReq(c::PDUSessionResourceSetupListCxtReq(items))
            )?);
        }
        let nssai = self
            .allowed_nssai
            .iter()
            .map(|s| c::AllowedNSSAIItem::new(s.to_codec(), None))
            .collect();
        ies.push(build_ngap_ie!(
            InitialContextSetupRequest,
            AllowedNSSAI(c::AllowedNSSAI(nssai))
        )?);
        ies.push(build_ngap_ie!(
            InitialContextSetupRequest,
            UESecurityCapabilities(self.ue_security_capabilities.to_codec())
        )?);
        ies.push(build_ngap_ie!(
            InitialContextSetupRequest,
            SecurityKey(c::SecurityKey(BitString::from(self.security_key)))
        )?);
        if let Some(nas) = &self.nas_pdu {
            ies.push(build_ngap_ie!(
                InitialContextSetupRequest,
                NAS_PDU(c::NASPDU::from(nas.clone()))
            )?);
        }
        finish(&c::InitialContextSetupRequest::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::InitialContextSetupRequest = message(pdu)?;
        extract_ngap_ies!(m, InitialContextSetupRequest,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt ambr: c::UEAggregateMaximumBitRate = UEAggregateMaximumBitRate(v) => v,
            req guami: c::GUAMI = GUAMI(v) => v,
            opt sessions: Vec<PduSessionSetupItem> = PDUSessionResourceSetupListCxtReq(v) => v.0.iter().map(|i| PduSessionSetupItem {
                pdu_session_id: i.pdu_session_id.0,
                nas_pdu: i.nas_pdu.as_ref().map(|n| n.0.to_vec()),
                s_nssai: SNssai::from_codec(&i.s_nssai),
                transfer: i.pdu_session_resource_setup_request_transfer.to_vec(),
            }).collect(),
            req nssai: c::AllowedNSSAI = AllowedNSSAI(v) => v,
            req caps: UeSecurityCapabilities = UESecurityCapabilities(v) => UeSecurityCapabilities::from_codec(&v),
            req key: Result<[u8; 32], Error> = SecurityKey(v) => key_of(&v.0),
            opt nas: Vec<u8> = NAS_PDU(v) => v.0.to_vec(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            ue_ambr: ambr.as_ref().map(Ambr::of_ue_codec),
            guami: Guami::from_codec(&guami)?,
            pdu_sessions: sessions.unwrap_or_default(),
            allowed_nssai: nssai.0.iter().map(|i| SNssai::from_codec(&i.s_nssai)).collect(),
            ue_security_capabilities: caps,
            security_key: key?,
            nas_pdu: nas,
        })
    }
}

/// INITIAL CONTEXT SETUP RESPONSE (TS 38.413 §9.2.2.2), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialContextSetupResponse {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// Sessions set up: Setup Response Transfers.
    pub pdu_sessions: Vec<PduSessionTransferItem>,
    /// Sessions failed: Setup Unsuccessful Transfers.
    pub failed: Vec<PduSessionTransferItem>,
}

impl InitialContextSetupResponse {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let (amf, ran) = ids(self.amf_ue_ngap_id, self.ran_ue_ngap_id);
        let mut ies = vec![
            build_ngap_ie!(InitialContextSetupResponse, AMF_UE_NGAP_ID(amf))?,
            build_ngap_ie!(InitialContextSetupResponse, RAN_UE_NGAP_ID(ran))?,
        ];
        if !self.pdu_sessions.is_empty() {
            let items = self
                .pdu_sessions
                .iter()
                .map(|s| {
                    c::PDUSessionResourceSetupItemCxtRes::new(
                        c::PDUSessionID(s.pdu_session_id),
                        s.transfer.clone().into(),
                        None,
                    )
                })
                .collect();
            ies.push(build_ngap_ie!(
                InitialContextSetupResponse,
                PDUSessionResourceSetupListCxtRes(c::PDUSessionResourceSetupListCxtRes(items))
            )?);
        }
        if !self.failed.is_empty() {
            let items = self
                .failed
                .iter()
                .map(|s| {
                    c::PDUSessionResourceFailedToSetupItemCxtRes::new(
                        c::PDUSessionID(s.pdu_session_id),
                        s.transfer.clone().into(),
                        None,
                    )
                })
                .collect();
            ies.push(build_ngap_ie!(
                InitialContextSetupResponse,
                PDUSessionResourceFailedToSetupListCxtRes(c::PDUSessionResourceFailedToSetupListCxtRes(items))
            )?);
        }
        finish(&c::InitialContextSetupResponse::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::InitialContextSetupResponse = message(pdu)?;
        extract_ngap_ies!(m, InitialContextSetupResponse,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt setup: Vec<PduSessionTransferItem> = PDUSessionResourceSetupListCxtRes(v) => v.0.iter().map(|i| PduSessionTransferItem {
                pdu_session_id: i.pdu_session_id.0,
                transfer: i.pdu_session_resource_setup_response_transfer.to_vec(),
            }).collect(),
            opt failed: Vec<PduSessionTransferItem> = PDUSessionResourceFailedToSetupListCxtRes(v) => v.0.iter().map(|i| PduSessionTransferItem {
                pdu_session_id: i.pdu_session_id.0,
                transfer: i.pdu_session_resource_setup_unsuccessful_transfer.to_vec(),
            }).collect(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            pdu_sessions: setup.unwrap_or_default(),
            failed: failed.unwrap_or_default(),
        })
    }
}

/// INITIAL CONTEXT SETUP FAILURE (TS 38.413 §9.2.2.3), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialContextSetupFailure {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// Cause.
    pub cause: Cause,
}

/// A message of the two UE ids and a Cause, as several failures are.
macro_rules! ids_and_cause {
    ($ours:ident, $theirs:ident) => {
        impl $ours {
            /// The PDU of this message.
            pub fn build(&self) -> Result<NgapPdu, Error> {
                let (amf, ran) = ids(self.amf_ue_ngap_id, self.ran_ue_ngap_id);
                let ies = vec![
                    build_ngap_ie!($theirs, AMF_UE_NGAP_ID(amf))?,
                    build_ngap_ie!($theirs, RAN_UE_NGAP_ID(ran))?,
                    build_ngap_ie!($theirs, Cause(self.cause.to_codec()))?,
                ];
                finish(&c::$theirs::new(ProtocolIEContainer(ies)))
            }

            /// The message a PDU holds.
            pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
                let m: c::$theirs = message(pdu)?;
                extract_ngap_ies!(m, $theirs,
                    req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
                    req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
                    req cause: c::Cause = Cause(v) => v,
                );
                Ok(Self {
                    amf_ue_ngap_id: amf_id(amf)?,
                    ran_ue_ngap_id: RanUeNgapId(ran),
                    cause: cause_of(&cause)?,
                })
            }
        }
    };
}

ids_and_cause!(InitialContextSetupFailure, InitialContextSetupFailure);
ids_and_cause!(UeContextModificationFailure, UEContextModificationFailure);

/// UE CONTEXT RELEASE REQUEST (TS 38.413 §9.2.2.4), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextReleaseRequest {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// PDU Session Resource List: the sessions with active N3 resources.
    pub pdu_session_ids: Vec<u8>,
    /// Cause.
    pub cause: Cause,
}

impl UeContextReleaseRequest {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let (amf, ran) = ids(self.amf_ue_ngap_id, self.ran_ue_ngap_id);
        let mut ies = vec![
            build_ngap_ie!(UEContextReleaseRequest, AMF_UE_NGAP_ID(amf))?,
            build_ngap_ie!(UEContextReleaseRequest, RAN_UE_NGAP_ID(ran))?,
        ];
        if !self.pdu_session_ids.is_empty() {
            let items = self
                .pdu_session_ids
                .iter()
                .map(|id| c::PDUSessionResourceItemCxtRelReq::new(c::PDUSessionID(*id), None))
                .collect();
            ies.push(build_ngap_ie!(
                UEContextReleaseRequest,
                PDUSessionResourceListCxtRelReq(c::PDUSessionResourceListCxtRelReq(items))
            )?);
        }
        ies.push(build_ngap_ie!(UEContextReleaseRequest, Cause(self.cause.to_codec()))?);
        finish(&c::UEContextReleaseRequest::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::UEContextReleaseRequest = message(pdu)?;
        extract_ngap_ies!(m, UEContextReleaseRequest,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt list: Vec<u8> = PDUSessionResourceListCxtRelReq(v) => v.0.iter().map(|i| i.pdu_session_id.0).collect(),
            req cause: c::Cause = Cause(v) => v,
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            pdu_session_ids: list.unwrap_or_default(),
            cause: cause_of(&cause)?,
        })
    }
}

/// The UE-NGAP-IDs CHOICE of a UE Context Release Command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UeNgapIds {
    /// Both ids.
    Pair(AmfUeNgapId, RanUeNgapId),
    /// The AMF UE NGAP ID alone.
    Amf(AmfUeNgapId),
}

/// UE CONTEXT RELEASE COMMAND (TS 38.413 §9.2.2.5), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextReleaseCommand {
    /// UE NGAP IDs.
    pub ue_ngap_ids: UeNgapIds,
    /// Cause.
    pub cause: Cause,
}

impl UeContextReleaseCommand {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let ids = match self.ue_ngap_ids {
            UeNgapIds::Pair(amf, ran) => c::UENGAPIDs::uE_NGAP_ID_pair(c::UENGAPIDPair::new(
                c::AMFUENGAPID(amf.value()),
                c::RANUENGAPID(ran.0),
                None,
            )),
            UeNgapIds::Amf(amf) => c::UENGAPIDs::aMF_UE_NGAP_ID(c::AMFUENGAPID(amf.value())),
        };
        let ies = vec![
            build_ngap_ie!(UEContextReleaseCommand, UE_NGAP_IDs(ids))?,
            build_ngap_ie!(UEContextReleaseCommand, Cause(self.cause.to_codec()))?,
        ];
        finish(&c::UEContextReleaseCommand::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::UEContextReleaseCommand = message(pdu)?;
        extract_ngap_ies!(m, UEContextReleaseCommand,
            req ids: c::UENGAPIDs = UE_NGAP_IDs(v) => v,
            req cause: c::Cause = Cause(v) => v,
        );
        let ue_ngap_ids = match &ids {
            c::UENGAPIDs::uE_NGAP_ID_pair(pair) => {
                UeNgapIds::Pair(amf_id(pair.amf_ue_ngap_id.0)?, RanUeNgapId(pair.ran_ue_ngap_id.0))
            }
            c::UENGAPIDs::aMF_UE_NGAP_ID(id) => UeNgapIds::Amf(amf_id(id.0)?),
            _ => {
                return Err(Error::InvalidValue {
                    what: "UE NGAP IDs (choice extension)",
                });
            }
        };
        Ok(Self {
            ue_ngap_ids,
            cause: cause_of(&cause)?,
        })
    }
}

/// UE CONTEXT RELEASE COMPLETE (TS 38.413 §9.2.2.6), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextReleaseComplete {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// PDU Session Resource List: the sessions that had N3 resources.
    pub pdu_session_ids: Vec<u8>,
}

impl UeContextReleaseComplete {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let (amf, ran) = ids(self.amf_ue_ngap_id, self.ran_ue_ngap_id);
        let mut ies = vec![
            build_ngap_ie!(UEContextReleaseComplete, AMF_UE_NGAP_ID(amf))?,
            build_ngap_ie!(UEContextReleaseComplete, RAN_UE_NGAP_ID(ran))?,
        ];
        if !self.pdu_session_ids.is_empty() {
            let items = self
                .pdu_session_ids
                .iter()
                .map(|id| c::PDUSessionResourceItemCxtRelCpl::new(c::PDUSessionID(*id), None))
                .collect();
            ies.push(build_ngap_ie!(
                UEContextReleaseComplete,
                PDUSessionResourceListCxtRelCpl(c::PDUSessionResourceListCxtRelCpl(items))
            )?);
        }
        finish(&c::UEContextReleaseComplete::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::UEContextReleaseComplete = message(pdu)?;
        extract_ngap_ies!(m, UEContextReleaseComplete,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt list: Vec<u8> = PDUSessionResourceListCxtRelCpl(v) => v.0.iter().map(|i| i.pdu_session_id.0).collect(),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            pdu_session_ids: list.unwrap_or_default(),
        })
    }
}

/// UE CONTEXT MODIFICATION REQUEST (TS 38.413 §9.2.2.7), AMF to gNB: the subset of
/// IEs the AMF uses (new KgNB, security capabilities, UE-AMBR).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextModificationRequest {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// Security Key.
    pub security_key: Option<[u8; 32]>,
    /// UE Aggregate Maximum Bit Rate.
    pub ue_ambr: Option<Ambr>,
    /// UE Security Capabilities.
    pub ue_security_capabilities: Option<UeSecurityCapabilities>,
}

impl UeContextModificationRequest {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let (amf, ran) = ids(self.amf_ue_ngap_id, self.ran_ue_ngap_id);
        let mut ies = vec![
            build_ngap_ie!(UEContextModificationRequest, AMF_UE_NGAP_ID(amf))?,
            build_ngap_ie!(UEContextModificationRequest, RAN_UE_NGAP_ID(ran))?,
        ];
        if let Some(key) = self.security_key {
            ies.push(build_ngap_ie!(
                UEContextModificationRequest,
                SecurityKey(c::SecurityKey(BitString::from(key)))
            )?);
        }
        if let Some(ambr) = self.ue_ambr {
            ies.push(build_ngap_ie!(
                UEContextModificationRequest,
                UEAggregateMaximumBitRate(ambr.to_ue_codec())
            )?);
        }
        if let Some(caps) = self.ue_security_capabilities {
            ies.push(build_ngap_ie!(
                UEContextModificationRequest,
                UESecurityCapabilities(caps.to_codec())
            )?);
        }
        finish(&c::UEContextModificationRequest::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::UEContextModificationRequest = message(pdu)?;
        extract_ngap_ies!(m, UEContextModificationRequest,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
            opt key: Result<[u8; 32], Error> = SecurityKey(v) => key_of(&v.0),
            opt ambr: c::UEAggregateMaximumBitRate = UEAggregateMaximumBitRate(v) => v,
            opt caps: UeSecurityCapabilities = UESecurityCapabilities(v) => UeSecurityCapabilities::from_codec(&v),
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
            security_key: key.transpose()?,
            ue_ambr: ambr.as_ref().map(Ambr::of_ue_codec),
            ue_security_capabilities: caps,
        })
    }
}

/// UE CONTEXT MODIFICATION RESPONSE (TS 38.413 §9.2.2.8), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextModificationResponse {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
}

impl UeContextModificationResponse {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let (amf, ran) = ids(self.amf_ue_ngap_id, self.ran_ue_ngap_id);
        let ies = vec![
            build_ngap_ie!(UEContextModificationResponse, AMF_UE_NGAP_ID(amf))?,
            build_ngap_ie!(UEContextModificationResponse, RAN_UE_NGAP_ID(ran))?,
        ];
        finish(&c::UEContextModificationResponse::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::UEContextModificationResponse = message(pdu)?;
        extract_ngap_ies!(m, UEContextModificationResponse,
            req amf: u64 = AMF_UE_NGAP_ID(v) => v.0,
            req ran: u32 = RAN_UE_NGAP_ID(v) => v.0,
        );
        Ok(Self {
            amf_ue_ngap_id: amf_id(amf)?,
            ran_ue_ngap_id: RanUeNgapId(ran),
        })
    }
}

/// UE CONTEXT MODIFICATION FAILURE (TS 38.413 §9.2.2.9), gNB to AMF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeContextModificationFailure {
    /// AMF UE NGAP ID.
    pub amf_ue_ngap_id: AmfUeNgapId,
    /// RAN UE NGAP ID.
    pub ran_ue_ngap_id: RanUeNgapId,
    /// Cause.
    pub cause: Cause,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::{CauseNas, CauseProtocol, CauseRadioNetwork};
    use crate::ids::Plmn;

    // oxirush-ngap 0.5.0 tests/fixtures/captured.tsv (lab captures on the wire):
    // captured-3, Open5GS v2.8.0 AMF: Initial Context Setup Request, AMF 1 / RAN 0,
    // GUAMI 208-93 / cafe00, Allowed NSSAI `02 01 010203` (count 1, SD present:
    // SST 1, SD 010203), UE security capabilities
    // `08 00 04 00 00 00 00 00 00` (ext, option and bit-string extension bits 000,
    // then NR encryption 0100.. = 128-NEA2 only, 0, NR integrity 0100.. = 128-NIA2
    // only, E-UTRA none), KgNB, Mobility Restriction List, Masked IMEISV and a NAS PDU.
    static ICS_REQUEST: &str = "000e0080a0000009000a00020001005500020000001c00070002f839cafe0000000005020101020300770009080004000000000000005e00205aee4061f9eaa8c6e8a2c22a02fd741ed9d0c8c59b2a7885672a2775f2f44bdb002440040002f839002240088609720200ffff0100264034337e029697855301e48857409cf124d617184068507f7fd6e4f5a38d2c6c2204a5ce35c1a65a981ef5f4a42304827a96b809e101";
    static KGNB: &str = "5aee4061f9eaa8c6e8a2c22a02fd741ed9d0c8c59b2a7885672a2775f2f44bdb";
    // captured-168, PacketRusher as gNB: Initial Context Setup Response, AMF 1 / RAN 1.
    static ICS_RESPONSE: &str = "200e000f000002000a00020001005500020001";
    // captured-10, Open5GS: UE Context Release Command, pair AMF 1 / RAN 0, Cause
    // `05 00` = radioNetwork/user-inactivity (index 20, see cause.rs).
    static RELEASE_COMMAND: &str = "002900110000020072000400010000000f40020500";
    // captured-35, Open5GS: UE Context Release Command, pair AMF 7 / RAN 1, Cause
    // `00 c0`: choice 000 (radioNetwork), extension bit 0, index 000011 (3) =
    // release-due-to-ngran-generated-reason.
    static RELEASE_COMMAND_2: &str = "002900110000020072000400070001000f400200c0";
    // captured-176, PacketRusher: UE Context Release Complete, AMF 1 / RAN 1.
    static RELEASE_COMPLETE: &str = "2029000f000002000a40020001005540020001";
    // The oxirush-ngap README's UE Context Release Request (AMF 42, RAN 7,
    // radioNetwork/user-inactivity), whose Cause octets `05 00` match the Open5GS
    // capture above.
    static RELEASE_REQUEST: &str = "002a4015000003000a0002002a005500020007000f40020500";

    fn pdu(text: &str) -> NgapPdu {
        NgapPdu::decode(&hex::decode(text).unwrap()).unwrap()
    }

    #[test]
    fn decode_open5gs_initial_context_setup_request() {
        let req = InitialContextSetupRequest::parse(&pdu(ICS_REQUEST)).unwrap();
        assert_eq!(req.amf_ue_ngap_id.value(), 1);
        assert_eq!(req.ran_ue_ngap_id, RanUeNgapId(0));
        assert_eq!(
            req.guami,
            Guami {
                plmn: Plmn::new("208", "93").unwrap(),
                amf_region_id: 0xca,
                amf_set_id: 1016,
                amf_pointer: 0
            }
        );
        assert_eq!(
            req.allowed_nssai,
            vec![SNssai {
                sst: 1,
                sd: Some([1, 2, 3])
            }]
        );
        assert_eq!(
            req.ue_security_capabilities,
            UeSecurityCapabilities {
                nr_encryption: 0x4000,
                nr_integrity: 0x4000,
                eutra_encryption: 0,
                eutra_integrity: 0
            }
        );
        assert_eq!(hex::encode(req.security_key), KGNB);
        assert_eq!(req.nas_pdu.as_ref().map(Vec::len), Some(0x33));
        assert!(req.pdu_sessions.is_empty());
    }

    #[test]
    fn encode_initial_context_setup_request() {
        // Rebuilt from its fields, the Open5GS message loses what the facade does not
        // model (Mobility Restriction List, Masked IMEISV); every IE it keeps is the
        // same octets, in the same order.
        let req = InitialContextSetupRequest::parse(&pdu(ICS_REQUEST)).unwrap();
        let ours = hex::encode(req.build().unwrap().encode().unwrap());
        for ie in [
            "000a000200010055000200000",
            "001c00070002f839cafe00",
            "0000000502010102030",
            "0077000908000400000000000000",
            "005e0020",
            KGNB,
            "00264034337e02",
        ] {
            assert!(ours.contains(ie), "{ie} in {ours}");
        }
        let again = InitialContextSetupRequest::parse(&pdu(&ours)).unwrap();
        assert_eq!(again, req);
        pdu(&ours).check().unwrap();
    }

    #[test]
    fn responses_and_release() {
        let rsp = InitialContextSetupResponse::parse(&pdu(ICS_RESPONSE)).unwrap();
        assert_eq!((rsp.amf_ue_ngap_id.value(), rsp.ran_ue_ngap_id.0), (1, 1));
        // PacketRusher sends the ids with criticality reject (`00`), where the object
        // set of the response assigns ignore (`40`): the builder writes ignore.
        assert_eq!(
            hex::encode(rsp.build().unwrap().encode().unwrap()),
            "200e000f000002000a40020001005540020001"
        );

        let cmd = UeContextReleaseCommand::parse(&pdu(RELEASE_COMMAND)).unwrap();
        assert_eq!(
            cmd,
            UeContextReleaseCommand {
                ue_ngap_ids: UeNgapIds::Pair(AmfUeNgapId::new(1).unwrap(), RanUeNgapId(0)),
                cause: Cause::RadioNetwork(CauseRadioNetwork::UserInactivity),
            }
        );
        assert_eq!(hex::encode(cmd.build().unwrap().encode().unwrap()), RELEASE_COMMAND);
        let cmd = UeContextReleaseCommand::parse(&pdu(RELEASE_COMMAND_2)).unwrap();
        assert_eq!(
            cmd.ue_ngap_ids,
            UeNgapIds::Pair(AmfUeNgapId::new(7).unwrap(), RanUeNgapId(1))
        );
        assert_eq!(
            cmd.cause,
            Cause::RadioNetwork(CauseRadioNetwork::ReleaseDueToNgranGeneratedReason)
        );
        assert_eq!(hex::encode(cmd.build().unwrap().encode().unwrap()), RELEASE_COMMAND_2);

        let complete = UeContextReleaseComplete::parse(&pdu(RELEASE_COMPLETE)).unwrap();
        assert_eq!(complete.pdu_session_ids, Vec::<u8>::new());
        assert_eq!(
            hex::encode(complete.build().unwrap().encode().unwrap()),
            RELEASE_COMPLETE
        );

        let req = UeContextReleaseRequest::parse(&pdu(RELEASE_REQUEST)).unwrap();
        assert_eq!(req.amf_ue_ngap_id.value(), 42);
        assert_eq!(req.cause, Cause::RadioNetwork(CauseRadioNetwork::UserInactivity));
        assert_eq!(hex::encode(req.build().unwrap().encode().unwrap()), RELEASE_REQUEST);
    }

    #[test]
    fn amf_only_release_and_modification_round_trip() {
        let cmd = UeContextReleaseCommand {
            ue_ngap_ids: UeNgapIds::Amf(AmfUeNgapId::new(0x12_3456_789a).unwrap()),
            cause: Cause::Nas(CauseNas::Deregister),
        };
        let p = NgapPdu::decode(&cmd.build().unwrap().encode().unwrap()).unwrap();
        assert_eq!(p.amf_ue_ngap_id(), Some(0x12_3456_789a));
        assert_eq!(p.ran_ue_ngap_id(), None);
        assert_eq!(UeContextReleaseCommand::parse(&p).unwrap(), cmd);

        let req = UeContextModificationRequest {
            amf_ue_ngap_id: AmfUeNgapId::new(3).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(4),
            security_key: Some([0x5a; 32]),
            ue_ambr: Some(Ambr {
                downlink: 10,
                uplink: 20,
            }),
            ue_security_capabilities: Some(UeSecurityCapabilities {
                nr_encryption: 0xe000,
                nr_integrity: 0xe000,
                eutra_encryption: 0xe000,
                eutra_integrity: 0xe000,
            }),
        };
        let p = NgapPdu::decode(&req.build().unwrap().encode().unwrap()).unwrap();
        p.check().unwrap();
        assert_eq!(UeContextModificationRequest::parse(&p).unwrap(), req);
        let rsp = UeContextModificationResponse {
            amf_ue_ngap_id: req.amf_ue_ngap_id,
            ran_ue_ngap_id: req.ran_ue_ngap_id,
        };
        let p = NgapPdu::decode(&rsp.build().unwrap().encode().unwrap()).unwrap();
        assert_eq!(UeContextModificationResponse::parse(&p).unwrap(), rsp);
        let fail = UeContextModificationFailure {
            amf_ue_ngap_id: req.amf_ue_ngap_id,
            ran_ue_ngap_id: req.ran_ue_ngap_id,
            cause: Cause::RadioNetwork(CauseRadioNetwork::Unspecified),
        };
        let p = NgapPdu::decode(&fail.build().unwrap().encode().unwrap()).unwrap();
        assert_eq!(UeContextModificationFailure::parse(&p).unwrap(), fail);
        let fail = InitialContextSetupFailure {
            amf_ue_ngap_id: req.amf_ue_ngap_id,
            ran_ue_ngap_id: req.ran_ue_ngap_id,
            cause: Cause::Protocol(CauseProtocol::SemanticError),
        };
        let p = NgapPdu::decode(&fail.build().unwrap().encode().unwrap()).unwrap();
        assert_eq!(InitialContextSetupFailure::parse(&p).unwrap(), fail);
    }

    #[test]
    fn broken_input() {
        // Without its Security Key (IE 94, mandatory, reject).
        let mut p = pdu(ICS_REQUEST);
        let mut ies = p.0.protocol_ies().unwrap().into_owned();
        ies.0.retain(|ie| ie.id.0 != 94);
        p.0.set_protocol_ies(ies).unwrap();
        let err = InitialContextSetupRequest::parse(&p).unwrap_err();
        assert!(matches!(err, Error::MissingMandatoryIe { id: 94, .. }), "{err:?}");
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::AbstractSyntaxErrorReject));
        assert!(matches!(
            InitialContextSetupResponse::parse(&pdu(ICS_REQUEST)),
            Err(Error::WrongMessage { .. })
        ));
    }
}
