//! What the AMF asks the AUSF/UDM and what it gets back, as plain data: the sans-IO
//! core never calls the UDM itself. The glue maps these onto `hexcore_udm::UdmApi`
//! (TS 29.509 `Nausf_UEAuthentication`, TS 29.503 `Nudm_SDM` in shape).

/// A request to the AUSF/UDM, tagged with the UE it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdmRequest {
    /// Start 5G-AKA (TS 33.501 §6.1.3.2.0), or resynchronise with `resync`.
    Authenticate {
        /// AMF UE NGAP ID of the UE.
        ue: u64,
        /// SUCI or SUPI.
        identity: UeIdentity,
        /// Serving network name, e.g. `5G:mnc070.mcc999.3gppnetwork.org`.
        serving_network_name: String,
        /// RAND and AUTS of a synch failure (TS 33.501 §6.1.3.3.2).
        resync: Option<([u8; 16], [u8; 14])>,
    },
    /// Hand RES* to the AUSF for its check and KSEAF.
    Confirm {
        /// AMF UE NGAP ID.
        ue: u64,
        /// The AUSF context of the challenge.
        ctx: u64,
        /// RES* from the UE.
        res_star: [u8; 16],
    },
    /// Hand the UE's EAP-Response of an EAP-AKA' run to the AUSF (TS 33.501 §6.1.3.1
    /// step 7: the SEAF is a pass-through authenticator).
    ConfirmEap {
        /// AMF UE NGAP ID.
        ue: u64,
        /// The AUSF context of the challenge.
        ctx: u64,
        /// The EAP packet from the Authentication response.
        eap: Vec<u8>,
    },
    /// Subscription data (allowed slices).
    SubscriptionData {
        /// AMF UE NGAP ID.
        ue: u64,
        /// SUPI (IMSI digits).
        supi: String,
    },
}

impl UdmRequest {
    /// The UE the request is for.
    pub fn ue(&self) -> u64 {
        match self {
            UdmRequest::Authenticate { ue, .. }
            | UdmRequest::Confirm { ue, .. }
            | UdmRequest::ConfirmEap { ue, .. }
            | UdmRequest::SubscriptionData { ue, .. } => *ue,
        }
    }
}

/// A UE identity handed to the UDM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UeIdentity {
    /// SUCI in its SBI form (`suci-0-<mcc>-<mnc>-<ri>-<scheme>-<key id>-<output>`).
    Suci(String),
    /// SUPI, IMSI digits.
    Supi(String),
}

/// The answer to a [`UdmRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UdmResponse {
    /// A 5G-AKA challenge (the SE AV of TS 33.501 §6.1.3.2.0 step 4).
    Challenge {
        /// AMF UE NGAP ID.
        ue: u64,
        /// AUSF context to confirm against.
        ctx: u64,
        /// RAND.
        rand: [u8; 16],
        /// AUTN.
        autn: [u8; 16],
        /// HXRES*.
        hxres_star: [u8; 16],
    },
    /// An EAP-AKA' challenge: the EAP-Request to relay in an Authentication request
    /// (TS 33.501 §6.1.3.1 step 5), also after a resynchronisation.
    EapChallenge {
        /// AMF UE NGAP ID.
        ue: u64,
        /// AUSF context to confirm against.
        ctx: u64,
        /// The EAP packet.
        eap: Vec<u8>,
    },
    /// RES* (or the EAP-Response) verified by the AUSF.
    Confirmed {
        /// AMF UE NGAP ID.
        ue: u64,
        /// SUPI (IMSI digits).
        supi: String,
        /// KSEAF.
        kseaf: [u8; 32],
        /// For EAP-AKA', the EAP-Success for the Security mode command.
        eap_success: Option<Vec<u8>>,
    },
    /// EAP-AKA' failed at the AUSF: the EAP-Failure for the Authentication reject.
    EapFailure {
        /// AMF UE NGAP ID.
        ue: u64,
        /// The EAP packet.
        eap: Vec<u8>,
        /// Why.
        reason: &'static str,
    },
    /// Subscription data.
    Subscription {
        /// AMF UE NGAP ID.
        ue: u64,
        /// Subscribed S-NSSAIs (SST, SD).
        nssai: Vec<(u8, Option<u32>)>,
        /// Subscribed UE-AMBR, bit/s (uplink, downlink), sent to the gNB with the first
        /// PDU session (TS 38.413 §9.3.1.58).
        ue_ambr: Option<(u64, u64)>,
    },
    /// The request failed.
    Failed {
        /// AMF UE NGAP ID.
        ue: u64,
        /// Why.
        failure: UdmFailure,
    },
}

impl UdmResponse {
    /// The UE the answer is for.
    pub fn ue(&self) -> u64 {
        match self {
            UdmResponse::Challenge { ue, .. }
            | UdmResponse::EapChallenge { ue, .. }
            | UdmResponse::EapFailure { ue, .. }
            | UdmResponse::Confirmed { ue, .. }
            | UdmResponse::Subscription { ue, .. }
            | UdmResponse::Failed { ue, .. } => *ue,
        }
    }
}

/// Why the UDM/AUSF said no, in the terms the AMF answers the UE in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdmFailure {
    /// No such subscriber (TS 29.509 USER_NOT_FOUND): Registration reject #3.
    UnknownSubscriber,
    /// The SUCI cannot be de-concealed (unknown home network key, bad MAC):
    /// Registration reject #9.
    IdentityNotDerivable,
    /// The subscriber may not use 5GS here: Registration reject #7.
    ServicesNotAllowed,
    /// RES* did not verify at the AUSF: Authentication reject.
    AuthenticationRejected,
    /// AUTS did not verify (MAC-S): Authentication reject.
    ResyncRefused,
    /// Anything else (store down): Registration reject #111.
    Internal,
}
