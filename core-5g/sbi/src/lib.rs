//! The service-based interfaces between hexcore's network functions, as plain data.
//!
//! 3GPP defines these as HTTP/2 + JSON services (TS 29.500); inside `hexcore up` the
//! network functions run in one process and exchange these values over channels, and
//! the same values (they are `serde`) can cross a network when a function runs apart.
//! What one function knows of another is only this crate.
//!
//! N11 (AMF ⇄ SMF), TS 23.502 §4.3.2 and TS 29.502 / TS 29.518:
//!
//! ```text
//!  AMF ── SmfRequest::CreateSmContext (N1 SM: PDU Session Establishment Request) ──► SMF
//!  AMF ◄── AmfRequest::N1N2MessageTransfer (N1: Establishment Accept/Reject,
//!                                           N2: PDU Session Resource Setup Request Transfer)
//!  AMF ── SmfRequest::UpdateSmContext (N2: Setup Response Transfer from the gNB) ───► SMF
//!  AMF ── UpdateSmContext { up_cnx_state: Deactivated }   (UE context release)
//!  AMF ── UpdateSmContext { up_cnx_state: Activating }    (Service Request)
//!  AMF ◄── AmfRequest::N1N2MessageTransfer (N2 only, UE idle: downlink data → paging)
//!  AMF ── SmfRequest::ReleaseSmContext                    (deregistration: local release)
//!  AMF ◄── AmfRequest::SmContextReleased                  (the SMF forgot a session)
//! ```
//!
//! Every request names its SM context by SUPI and PDU Session ID: the AMF allocates
//! nothing on the SMF's behalf, and either side can restart and resynchronise by these
//! keys. N1 and N2 payloads are the encoded octets (a 5GSM message; an NGAP transfer),
//! as in the 3GPP multipart bodies: the SMF owns 5GSM and the transfers, the AMF only
//! carries them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

/// One SM context: a UE's PDU session.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SmContextRef {
    /// SUPI (IMSI digits).
    pub supi: String,
    /// PDU Session ID, 1–15 (TS 24.007 §11.2.3.1b).
    pub pdu_session_id: u8,
}

/// An S-NSSAI: SST and optional SD (24 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snssai {
    /// Slice/Service Type.
    pub sst: u8,
    /// Slice Differentiator.
    pub sd: Option<u32>,
}

/// Where the UE is (TS 29.571 NrLocation, the parts the SMF uses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLocation {
    /// MCC of the TAI.
    pub mcc: String,
    /// MNC of the TAI.
    pub mnc: String,
    /// Tracking area code (24 bits).
    pub tac: u32,
    /// NR Cell Identity (36 bits).
    pub nr_cell_id: u64,
}

/// Request type of an N1 SM message from the UL NAS Transport (TS 24.501 §9.11.3.47).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestType {
    /// Initial request.
    InitialRequest,
    /// Existing PDU session (e.g. handover from non-3GPP).
    ExistingPduSession,
    /// Initial emergency request.
    InitialEmergencyRequest,
    /// Existing emergency PDU session.
    ExistingEmergencyPduSession,
    /// Modification request.
    ModificationRequest,
    /// MA PDU request.
    MaPduRequest,
    /// Any other value.
    Other(u8),
}

/// The kind of an N2 SM information (TS 29.502 §6.1.6.3.6 N2SmInfoType), which says
/// which NGAP transfer the octets hold and so which NGAP message carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum N2SmInfoType {
    /// PDU Session Resource Setup Request Transfer (TS 38.413 §9.3.4.1), SMF → gNB.
    PduResSetupReq,
    /// PDU Session Resource Setup Response Transfer (§9.3.4.2), gNB → SMF.
    PduResSetupRsp,
    /// PDU Session Resource Setup Unsuccessful Transfer (§9.3.4.16), gNB → SMF.
    PduResSetupFail,
    /// PDU Session Resource Release Command Transfer (§9.3.4.12), SMF → gNB.
    PduResRelCmd,
    /// PDU Session Resource Release Response Transfer (§9.3.4.21), gNB → SMF.
    PduResRelRsp,
    /// PDU Session Resource Modify Request Transfer (§9.3.4.3), SMF → gNB.
    PduResModReq,
    /// PDU Session Resource Modify Response Transfer (§9.3.4.4), gNB → SMF.
    PduResModRsp,
    /// PDU Session Resource Modify Unsuccessful Transfer (§9.3.4.17), gNB → SMF.
    PduResModFail,
    /// PDU Session Resource Notify Transfer (§9.3.4.10), gNB → SMF.
    PduResNtyRel,
    /// UE Context Release / Path switch etc. are not used yet.
    Other,
}

/// N2 SM information: its kind and the encoded NGAP transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct N2SmInfo {
    /// Which transfer.
    pub kind: N2SmInfoType,
    /// The transfer's octets (aligned PER, as an NGAP open type holds them).
    pub transfer: Vec<u8>,
}

/// User plane connection state of a PDU session (TS 29.502 §6.1.6.3.9 UpCnxState).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpCnxState {
    /// The user plane is up (set by the SMF).
    Activated,
    /// Release the N3 tunnel at the gNB side (UE context release, CM-IDLE).
    Deactivated,
    /// Re-activate the user plane (Service Request): the SMF answers with a setup
    /// request transfer for the gNB.
    Activating,
}

/// Why the AMF releases an SM context (TS 29.502 §6.1.6.3.3 Cause, the ones used).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReleaseCause {
    /// The UE deregistered (or was deregistered).
    Deregistration,
    /// The UE's 5GMM context went away otherwise (implicit deregistration, a second
    /// registration of the SUPI).
    UeContextLost,
    /// The PDU session is not in the UE's PDU session status any more (TS 24.501
    /// §5.5.1.2.4: local release on the network side).
    PduSessionStatusMismatch,
}

/// AMF → SMF: Nsmf_PDUSession (TS 29.502 §5.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmfRequest {
    /// Nsmf_PDUSession_CreateSMContext: a UE asked for a new PDU session (TS 23.502
    /// §4.3.2.2.1 step 3). The SMF answers with an [`AmfRequest::N1N2MessageTransfer`]
    /// carrying the Establishment Accept and the setup transfer, or the Reject.
    CreateSmContext {
        /// The context.
        context: SmContextRef,
        /// DNN from the UL NAS Transport (or the AMF's default for the slice).
        dnn: Option<String>,
        /// S-NSSAI from the UL NAS Transport, or the one the AMF picked from the
        /// allowed NSSAI.
        s_nssai: Option<Snssai>,
        /// Request type of the UL NAS Transport.
        request_type: RequestType,
        /// The N1 SM message (PDU Session Establishment Request).
        n1_sm: Vec<u8>,
        /// Where the UE is.
        location: UserLocation,
        /// PEI (IMEISV digits), when the AMF has it.
        pei: Option<String>,
    },
    /// Nsmf_PDUSession_UpdateSMContext: N1 from the UE, N2 from the gNB, or a change of
    /// the user plane connection state.
    UpdateSmContext {
        /// The context.
        context: SmContextRef,
        /// An N1 SM message of the UE (release request, modification request, …).
        n1_sm: Option<Vec<u8>>,
        /// An N2 SM information of the gNB (setup response transfer, …).
        n2_sm: Option<N2SmInfo>,
        /// Requested user plane connection state.
        up_cnx_state: Option<UpCnxState>,
        /// Where the UE is now.
        location: Option<UserLocation>,
    },
    /// Nsmf_PDUSession_ReleaseSMContext: release locally without N1/N2 signalling.
    ReleaseSmContext {
        /// The context.
        context: SmContextRef,
        /// Why.
        cause: ReleaseCause,
    },
}

impl SmfRequest {
    /// The SM context the request is about.
    pub fn context(&self) -> &SmContextRef {
        match self {
            SmfRequest::CreateSmContext { context, .. }
            | SmfRequest::UpdateSmContext { context, .. }
            | SmfRequest::ReleaseSmContext { context, .. } => context,
        }
    }
}

/// SMF → AMF: Namf_Communication (TS 29.518 §5.2.2.3) and SM context status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmfRequest {
    /// Namf_Communication_N1N2MessageTransfer: an N1 SM message for the UE and/or N2
    /// SM information for the gNB. The AMF sends N1 alone in a DL NAS Transport; N2 in
    /// the NGAP message `n2_sm.kind` calls for (PDU Session Resource Setup / Modify /
    /// Release), with N1 inside it when both are given. When the UE is in CM-IDLE and
    /// N2 is given (downlink data, TS 23.502 §4.2.3.3) the AMF pages the UE and
    /// delivers once a Service Request re-activates the session.
    N1N2MessageTransfer {
        /// The context.
        context: SmContextRef,
        /// The S-NSSAI of the session (NGAP setup items carry it).
        s_nssai: Option<Snssai>,
        /// N1 SM message (5GSM).
        n1_sm: Option<Vec<u8>>,
        /// N2 SM information.
        n2_sm: Option<N2SmInfo>,
    },
    /// The answer to an UpdateSmContext that asked for [`UpCnxState::Activating`]:
    /// the transfer the gNB needs, or `None` if the session cannot be re-activated
    /// (the AMF then reports it in the Service Accept's PDU session reactivation
    /// result, TS 24.501 §5.6.1.4).
    Activation {
        /// The context.
        context: SmContextRef,
        /// The S-NSSAI of the session.
        s_nssai: Option<Snssai>,
        /// PDU Session Resource Setup Request Transfer.
        n2_sm: Option<N2SmInfo>,
    },
    /// The SMF released the SM context (after a release procedure, a reject, or a
    /// failure): the AMF forgets the PDU session ID for this UE.
    SmContextReleased {
        /// The context.
        context: SmContextRef,
    },
}

impl AmfRequest {
    /// The SM context the request is about.
    pub fn context(&self) -> &SmContextRef {
        match self {
            AmfRequest::N1N2MessageTransfer { context, .. }
            | AmfRequest::Activation { context, .. }
            | AmfRequest::SmContextReleased { context } => context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_their_context() {
        let c = SmContextRef {
            supi: "999700000000001".into(),
            pdu_session_id: 5,
        };
        let r = SmfRequest::ReleaseSmContext {
            context: c.clone(),
            cause: ReleaseCause::Deregistration,
        };
        assert_eq!(r.context(), &c);
        let a = AmfRequest::SmContextReleased { context: c.clone() };
        assert_eq!(a.context(), &c);
    }
}
