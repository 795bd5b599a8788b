//! The whole NGAP-PDU (TS 38.413 §9.4.2), behind the project's facade.

use core::fmt;

use oxirush_ngap::ie;
use oxirush_ngap::ngap::{NGAP_PDU, NGAPPDU, UENGAPIDs};

use crate::Error;
pub use crate::tables::ProcedureCode;

/// Which of the three NGAP-PDU alternatives a PDU is (TS 38.413 §9.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PduKind {
    /// `initiatingMessage`.
    InitiatingMessage,
    /// `successfulOutcome`.
    SuccessfulOutcome,
    /// `unsuccessfulOutcome`.
    UnsuccessfulOutcome,
}

impl PduKind {
    fn index(self) -> u8 {
        match self {
            Self::InitiatingMessage => 0,
            Self::SuccessfulOutcome => 1,
            Self::UnsuccessfulOutcome => 2,
        }
    }
}

/// One NGAP-PDU. It owns its octets; the IEs of its message are decoded when read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NgapPdu(pub NGAP_PDU);

impl NgapPdu {
    /// Decode one PDU from the octets of one SCTP message (PPID 60).
    ///
    /// The envelope and the container of protocol IEs are decoded; IE values are
    /// decoded when read (by the typed parsers or [`NgapPdu::check`]). A failure here
    /// is a transfer syntax error (TS 38.413 §10.2).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let pdu = NGAP_PDU::decode(bytes).map_err(Error::TransferSyntax)?;
        // Every message but the Private Message is a ProtocolIE-Container.
        if pdu.procedure_code() != ProcedureCode::PrivateMessage.code() {
            pdu.protocol_ies().map_err(Error::TransferSyntax)?;
        }
        Ok(Self(pdu))
    }

    /// The octets of this PDU in aligned PER.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        self.0.encode().map_err(Error::Encode)
    }

    /// The generated PDU.
    pub fn codec(&self) -> &NGAP_PDU {
        &self.0
    }

    /// The generated PDU, by value.
    pub fn into_codec(self) -> NGAP_PDU {
        self.0
    }

    /// Which alternative of NGAP-PDU this is.
    pub fn kind(&self) -> PduKind {
        match &self.0 {
            NGAPPDU::initiatingMessage(_) => PduKind::InitiatingMessage,
            NGAPPDU::successfulOutcome(_) => PduKind::SuccessfulOutcome,
            _ => PduKind::UnsuccessfulOutcome,
        }
    }

    /// The elementary procedure.
    pub fn procedure_code(&self) -> ProcedureCode {
        ProcedureCode::from_code(self.0.procedure_code())
    }

    /// The ASN.1 name of the message, e.g. `"InitialUEMessage"`; `"Unknown"` for a
    /// procedure and direction TS 38.413 does not define.
    pub fn message_name(&self) -> &'static str {
        crate::tables::message_name(self.kind().index(), self.0.procedure_code()).unwrap_or("Unknown")
    }

    /// The AMF UE NGAP ID of the message: its AMF-UE-NGAP-ID IE, or the one in the
    /// UE-NGAP-IDs CHOICE of a UE Context Release Command. `None` when absent or
    /// undecodable.
    pub fn amf_ue_ngap_id(&self) -> Option<u64> {
        if let Some(Ok(id)) = self.0.ie::<ie::AMF_UE_NGAP_ID>() {
            return Some(id.0);
        }
        match self.0.ie::<ie::UE_NGAP_IDs>() {
            Some(Ok(UENGAPIDs::uE_NGAP_ID_pair(pair))) => Some(pair.amf_ue_ngap_id.0),
            Some(Ok(UENGAPIDs::aMF_UE_NGAP_ID(id))) => Some(id.0),
            _ => None,
        }
    }

    /// The RAN UE NGAP ID of the message: its RAN-UE-NGAP-ID IE, or the one in the
    /// UE-NGAP-ID-pair of a UE Context Release Command.
    pub fn ran_ue_ngap_id(&self) -> Option<u32> {
        if let Some(Ok(id)) = self.0.ie::<ie::RAN_UE_NGAP_ID>() {
            return Some(id.0);
        }
        match self.0.ie::<ie::UE_NGAP_IDs>() {
            Some(Ok(UENGAPIDs::uE_NGAP_ID_pair(pair))) => Some(pair.ran_ue_ngap_id.0),
            _ => None,
        }
    }

    /// Every NAS-PDU the message carries, in message order: the NAS-PDU IE, and the
    /// NAS PDUs of the items of the PDU Session Resource Setup (SU and Cxt) and
    /// Modify lists. Values that do not decode are skipped.
    pub fn nas_pdus(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for nas in self.0.ies::<ie::NAS_PDU>().flatten() {
            out.push(nas.0.to_vec());
        }
        if let Some(Ok(list)) = self.0.ie::<ie::PDUSessionResourceSetupListSUReq>() {
            for item in &list.0 {
                if let Some(nas) = &item.pdu_session_nas_pdu {
                    out.push(nas.0.to_vec());
                }
            }
        }
        if let Some(Ok(list)) = self.0.ie::<ie::PDUSessionResourceSetupListCxtReq>() {
            for item in &list.0 {
                if let Some(nas) = &item.nas_pdu {
                    out.push(nas.0.to_vec());
                }
            }
        }
        if let Some(Ok(list)) = self.0.ie::<ie::PDUSessionResourceModifyListModReq>() {
            for item in &list.0 {
                if let Some(nas) = &item.nas_pdu {
                    out.push(nas.0.to_vec());
                }
            }
        }
        out
    }

    /// Compare the message with what TS 38.413 allows (every IE decoded, presence,
    /// order, repetition, criticality) and give the first fault the receiver must act
    /// on (TS 38.413 §10.3): its [`Error::cause`] is the Cause to answer with.
    /// Faults in IEs of criticality `ignore` and non-canonical encodings pass.
    pub fn check(&self) -> Result<(), Error> {
        let deviations = self.0.check().map_err(Error::TransferSyntax)?;
        match deviations.iter().find_map(Error::of_deviation) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

impl From<NGAP_PDU> for NgapPdu {
    fn from(value: NGAP_PDU) -> Self {
        Self(value)
    }
}

impl From<NgapPdu> for NGAP_PDU {
    fn from(value: NgapPdu) -> Self {
        value.0
    }
}

impl fmt::Display for NgapPdu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(code) => write!(f, "Unknown procedure ({code})"),
            other => f.write_str(other.words()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cause::{Cause, CauseProtocol};
    use oxirush_ngap::build_ngap;
    use oxirush_ngap::ngap as c;

    // All from oxirush-ngap 0.5.0 tests/fixtures/captured.tsv: PDUs that PacketRusher
    // (as gNB), free5GC v4.2.3 and Open5GS v2.8.0 sent on the wire in lab runs.
    // captured-165, PacketRusher: Initial UE Message with a Registration Request.
    static INITIAL_UE_MESSAGE: &str = "000f404200000500550002000100260018177e004179000d0102f8390000000000000000102e0220200079000f4002f839000008000002f839000001005a4001180070400100";
    static REGISTRATION_REQUEST: &str = "7e004179000d0102f8390000000000000000102e022020";
    // captured-2: Downlink NAS Transport, Security Mode Command, AMF 1 / RAN 0.
    static DOWNLINK_NAS: &str =
        "00044027000003000a0002000100550002000000260014137e03cfac058a007e005d2200022020e1360102";
    // captured-10 (Open5GS): UE Context Release Command with the UE-NGAP-ID pair:
    // choice 00, ext 0, no extensions 0, AMF id length 1 (000) | pad, 01; RAN id
    // length 1 (00) | pad, 00: AMF 1, RAN 0.
    static RELEASE_COMMAND_PAIR: &str = "002900110000020072000400010000000f40020500";
    // captured-17 (free5GC): the same with AMF 3, RAN 2, cause nas/deregister.
    static RELEASE_COMMAND_FREE5GC: &str = "002900100000020072000400030002000f400148";
    // captured-5: PDU Session Resource Setup Request, a NAS PDU inside the SUReq item.
    static PDU_SESSION_SETUP: &str = "001d0080bb000004000a00020001005500020000004a008099004005527e02004d1fa7031d154befadc2285eae7651d51561b6d0311229991bb69939c8688b4f2d427c3ff25511791ae7164d473c406c657cd53d564975c79c18a26a328a6814d98528a70f04cd8077fe6779fafc7e40200102033d0000050082000a0c3b9aca00303b9aca00008b000a01f07f00000800000002007e400a001f7f0000080000000300860001000088000700010000091c00006e400a0c3b9aca00303b9aca00";
    // captured-3: Initial Context Setup Request with a NAS-PDU IE (Registration Accept).
    static INITIAL_CONTEXT_SETUP: &str = "000e0080a0000009000a00020001005500020000001c00070002f839cafe0000000005020101020300770009080004000000000000005e00205aee4061f9eaa8c6e8a2c22a02fd741ed9d0c8c59b2a7885672a2775f2f44bdb002440040002f839002240088609720200ffff0100264034337e029697855301e48857409cf124d617184068507f7fd6e4f5a38d2c6c2204a5ce35c1a65a981ef5f4a42304827a96b809e101";

    fn bytes(text: &str) -> Vec<u8> {
        hex::decode(text).unwrap()
    }

    #[test]
    fn decode_envelope_and_ids() {
        let pdu = NgapPdu::decode(&bytes(INITIAL_UE_MESSAGE)).unwrap();
        assert_eq!(pdu.kind(), PduKind::InitiatingMessage);
        assert_eq!(pdu.procedure_code(), ProcedureCode::InitialUEMessage);
        assert_eq!(pdu.procedure_code().to_string(), "Initial UE Message");
        assert_eq!(pdu.message_name(), "InitialUEMessage");
        assert_eq!(pdu.ran_ue_ngap_id(), Some(1));
        assert_eq!(pdu.amf_ue_ngap_id(), None);
        assert_eq!(pdu.nas_pdus(), vec![bytes(REGISTRATION_REQUEST)]);
        pdu.check().unwrap();

        let pdu = NgapPdu::decode(&bytes(DOWNLINK_NAS)).unwrap();
        assert_eq!(pdu.message_name(), "DownlinkNASTransport");
        assert_eq!((pdu.amf_ue_ngap_id(), pdu.ran_ue_ngap_id()), (Some(1), Some(0)));
        assert_eq!(pdu.nas_pdus(), vec![bytes("7e03cfac058a007e005d2200022020e1360102")]);
    }

    #[test]
    fn procedure_codes() {
        for code in 0..=255u8 {
            let procedure = ProcedureCode::from_code(code);
            assert_eq!(procedure.code(), code);
            // TS 38.413 V19.4.0 defines codes 0..=86.
            assert_eq!(matches!(procedure, ProcedureCode::Unknown(_)), code > 86, "{code}");
        }
        assert_eq!(ProcedureCode::from_code(21).to_string(), "NG Setup");
        assert_eq!(ProcedureCode::from_code(41).to_string(), "UE Context Release");
        assert_eq!(ProcedureCode::from_code(29).to_string(), "PDU Session Resource Setup");
        assert_eq!(ProcedureCode::from_code(45).to_string(), "UE TNLA Binding Release");
        assert_eq!(ProcedureCode::Unknown(99).to_string(), "Unknown procedure (99)");
    }

    #[test]
    fn ue_ngap_ids_choice_of_release_command() {
        let pdu = NgapPdu::decode(&bytes(RELEASE_COMMAND_PAIR)).unwrap();
        assert_eq!(pdu.message_name(), "UEContextReleaseCommand");
        assert_eq!(pdu.procedure_code(), ProcedureCode::UEContextRelease);
        assert_eq!((pdu.amf_ue_ngap_id(), pdu.ran_ue_ngap_id()), (Some(1), Some(0)));
        let pdu = NgapPdu::decode(&bytes(RELEASE_COMMAND_FREE5GC)).unwrap();
        assert_eq!((pdu.amf_ue_ngap_id(), pdu.ran_ue_ngap_id()), (Some(3), Some(2)));
    }

    #[test]
    fn nas_pdus_inside_session_lists() {
        let pdu = NgapPdu::decode(&bytes(PDU_SESSION_SETUP)).unwrap();
        assert_eq!(pdu.message_name(), "PDUSessionResourceSetupRequest");
        let nas = pdu.nas_pdus();
        assert_eq!(nas.len(), 1);
        assert_eq!(nas[0].len(), 0x52);
        assert_eq!(&nas[0][..4], &[0x7e, 0x02, 0x00, 0x4d]);

        let pdu = NgapPdu::decode(&bytes(INITIAL_CONTEXT_SETUP)).unwrap();
        let nas = pdu.nas_pdus();
        assert_eq!(nas.len(), 1);
        assert_eq!(nas[0].len(), 0x33);
    }

    #[test]
    fn round_trips_are_byte_exact() {
        for text in [
            INITIAL_UE_MESSAGE,
            DOWNLINK_NAS,
            RELEASE_COMMAND_PAIR,
            RELEASE_COMMAND_FREE5GC,
            PDU_SESSION_SETUP,
            INITIAL_CONTEXT_SETUP,
        ] {
            let pdu = NgapPdu::decode(&bytes(text)).unwrap();
            assert_eq!(hex::encode(pdu.encode().unwrap()), text);
        }
    }

    #[test]
    fn broken_input_is_a_transfer_syntax_error() {
        let whole = bytes(INITIAL_UE_MESSAGE);
        let transfer = Cause::Protocol(CauseProtocol::TransferSyntaxError);
        // Truncated at every length.
        for len in 0..whole.len() {
            let err = NgapPdu::decode(&whole[..len]).unwrap_err();
            assert!(matches!(err, Error::TransferSyntax(_)), "{len}: {err:?}");
            assert_eq!(err.cause(), transfer);
        }
        // A trailing octet.
        let mut long = whole.clone();
        long.push(0);
        assert_eq!(NgapPdu::decode(&long).unwrap_err().cause(), transfer);
        // The open type length says more than there is.
        let mut wrong = whole.clone();
        wrong[3] += 1;
        assert_eq!(NgapPdu::decode(&wrong).unwrap_err().cause(), transfer);
        // Garbage, and a CHOICE index beyond the three alternatives.
        assert!(NgapPdu::decode(&[0xff; 16]).is_err());
        assert!(NgapPdu::decode(&[0x60, 0x0f, 0x40, 0x00]).is_err());
        // An IE container count larger than the IEs present.
        let mut count = whole.clone();
        count[6] = 9;
        assert_eq!(NgapPdu::decode(&count).unwrap_err().cause(), transfer);
    }

    #[test]
    fn undecodable_ie_is_found_by_check() {
        // RRC Establishment Cause (IE 90, ignore) holding a value beyond its root: the
        // envelope decodes, `check` and the accessors do not fail on it.
        let mut whole = bytes(INITIAL_UE_MESSAGE);
        // The RAN UE NGAP ID value `00 01` -> length bits claiming 4 octets with 2 present.
        whole[11] = 0xc0;
        let pdu = NgapPdu::decode(&whole).unwrap();
        assert_eq!(pdu.ran_ue_ngap_id(), None);
        let err = pdu.check().unwrap_err();
        assert!(matches!(err, Error::UndecodableIe { id: 85, .. }), "{err:?}");
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::TransferSyntaxError));
    }

    #[test]
    fn abstract_syntax_errors_by_criticality() {
        // An Initial UE Message without its NAS-PDU (mandatory, reject).
        let pdu = NgapPdu(
            build_ngap!(
                InitiatingMessage,
                InitialUEMessage,
                InitialUEMessage,
                RAN_UE_NGAP_ID(7u32),
            )
            .unwrap(),
        );
        let err = pdu.check().unwrap_err();
        assert!(
            matches!(
                err,
                Error::MissingMandatoryIe {
                    id: 38,
                    criticality: crate::Criticality::Reject,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::AbstractSyntaxErrorReject));

        // The same IE twice: falsely constructed.
        let pdu = NgapPdu(
            build_ngap!(
                InitiatingMessage,
                UEContextReleaseRequest,
                UEContextReleaseRequest,
                AMF_UE_NGAP_ID(1u64),
                RAN_UE_NGAP_ID(7u32),
                RAN_UE_NGAP_ID(8u32),
                Cause(c::Cause::nas(c::CauseNas::normal_release)),
            )
            .unwrap(),
        );
        let err = pdu.check().unwrap_err();
        assert_eq!(
            err.cause(),
            Cause::Protocol(CauseProtocol::AbstractSyntaxErrorFalselyConstructedMessage)
        );

        // A procedure code no release defines, criticality reject.
        let pdu = NgapPdu::decode(&[0x00, 0xc8, 0x00, 0x03, 0x00, 0x00, 0x00]).unwrap();
        assert_eq!(pdu.procedure_code(), ProcedureCode::Unknown(200));
        assert_eq!(pdu.message_name(), "Unknown");
        let err = pdu.check().unwrap_err();
        assert!(matches!(err, Error::UnknownProcedure { code: 200, .. }), "{err:?}");
        assert_eq!(err.cause(), Cause::Protocol(CauseProtocol::AbstractSyntaxErrorReject));
    }
}
