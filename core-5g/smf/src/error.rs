//! Why a PDU session procedure fails, and the 5GSM cause the UE hears for each
//! (TS 24.501 §6.4.1.4.2, §7, Annex B).

use hexcore_nas::SmCause;
use hexcore_pfcp::Cause as PfcpCause;

/// Why a PDU session cannot be established (or go on).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The 5GSM message does not decode (TS 24.501 §7).
    #[error("malformed 5GSM message: {0}")]
    Malformed(hexcore_nas::Error),
    /// The PDU session identity is 0, reserved, or not the one of the SM context
    /// (TS 24.501 §6.4.1.4.2, cause #43).
    #[error("invalid PDU session identity {0}")]
    InvalidPduSessionIdentity(u8),
    /// The PTI is unassigned (0) or reserved (255) (TS 24.501 §7.3.1, cause #81).
    #[error("invalid PTI {0}")]
    InvalidPti(u8),
    /// Another procedure of the UE uses this PTI (cause #35).
    #[error("PTI {0} already in use")]
    PtiAlreadyInUse(u8),
    /// PDU session type neither IPv4 nor IPv4v6 (IPv6-only, Ethernet, Unstructured):
    /// only IPv4 is served (cause #28 for unknown types, #50 for IPv6).
    #[error("PDU session type {0} not served")]
    PduSessionType(u8),
    /// SSC mode other than 1 (cause #68).
    #[error("SSC mode {0} not supported")]
    SscMode(u8),
    /// The request type is not "initial request" (cause #32, or #54 for an
    /// "existing PDU session" the SMF does not know).
    #[error("request type {0} not supported")]
    RequestType(&'static str),
    /// No DNN was given and there is no subscribed default (cause #27).
    #[error("no DNN and no default")]
    MissingDnn,
    /// The DNN is not served by this SMF (cause #27).
    #[error("unknown DNN {0:?}")]
    UnknownDnn(String),
    /// The DNN is served, but not in the requested slice (cause #70).
    #[error("DNN {0:?} not offered in the slice")]
    DnnNotInSlice(String),
    /// The subscription does not include the DNN or the S-NSSAI (cause #33).
    #[error("{0} not subscribed")]
    NotSubscribed(&'static str),
    /// The UDM does not know the subscriber (cause #29).
    #[error("unknown subscriber")]
    UnknownSubscriber,
    /// Subscription data could not be fetched (cause #38).
    #[error("subscription data unavailable")]
    SubscriptionUnavailable,
    /// The DNN's address pool is exhausted (cause #26).
    #[error("address pool of {0:?} exhausted")]
    PoolExhausted(String),
    /// No associated UPF serves the DNN (cause #26).
    #[error("no UPF available for {0:?}")]
    NoUpf(String),
    /// The UPF refused the N4 session (cause #26).
    #[error("UPF rejected the PFCP session: {0:?}")]
    UpfRejected(PfcpCause),
    /// The UPF did not answer (cause #26).
    #[error("UPF did not answer")]
    UpfUnreachable,
}

impl SessionError {
    /// The 5GSM cause of the Reject.
    pub fn sm_cause(&self) -> SmCause {
        match self {
            SessionError::Malformed(e) => e.sm_cause(),
            SessionError::InvalidPduSessionIdentity(_) => SmCause::InvalidPduSessionIdentity,
            SessionError::InvalidPti(_) => SmCause::InvalidPtiValue,
            SessionError::PtiAlreadyInUse(_) => SmCause::PtiAlreadyInUse,
            // TS 24.501 §6.4.1.4.2: IPv6 requested where only IPv4 is allowed → #50.
            SessionError::PduSessionType(2) => SmCause::PduSessionTypeIpv4OnlyAllowed,
            SessionError::PduSessionType(_) => SmCause::UnknownPduSessionType,
            SessionError::SscMode(_) => SmCause::NotSupportedSscMode,
            SessionError::RequestType("existing PDU session") => SmCause::PduSessionDoesNotExist,
            SessionError::RequestType(_) => SmCause::ServiceOptionNotSupported,
            SessionError::MissingDnn | SessionError::UnknownDnn(_) => SmCause::MissingOrUnknownDnn,
            SessionError::DnnNotInSlice(_) => SmCause::MissingOrUnknownDnnInASlice,
            SessionError::NotSubscribed(_) => SmCause::RequestedServiceOptionNotSubscribed,
            SessionError::UnknownSubscriber => SmCause::UserAuthenticationOrAuthorizationFailed,
            SessionError::SubscriptionUnavailable => SmCause::NetworkFailure,
            SessionError::PoolExhausted(_)
            | SessionError::NoUpf(_)
            | SessionError::UpfRejected(_)
            | SessionError::UpfUnreachable => SmCause::InsufficientResources,
        }
    }

    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            SessionError::Malformed(_) => "malformed",
            SessionError::InvalidPduSessionIdentity(_) => "invalid_psi",
            SessionError::InvalidPti(_) => "invalid_pti",
            SessionError::PtiAlreadyInUse(_) => "pti_in_use",
            SessionError::PduSessionType(_) => "pdu_session_type",
            SessionError::SscMode(_) => "ssc_mode",
            SessionError::RequestType(_) => "request_type",
            SessionError::MissingDnn => "missing_dnn",
            SessionError::UnknownDnn(_) => "unknown_dnn",
            SessionError::DnnNotInSlice(_) => "dnn_not_in_slice",
            SessionError::NotSubscribed(_) => "not_subscribed",
            SessionError::UnknownSubscriber => "unknown_subscriber",
            SessionError::SubscriptionUnavailable => "subscription_unavailable",
            SessionError::PoolExhausted(_) => "pool_exhausted",
            SessionError::NoUpf(_) => "no_upf",
            SessionError::UpfRejected(_) => "upf_rejected",
            SessionError::UpfUnreachable => "upf_unreachable",
        }
    }
}

/// Why an operator/billing call on [`crate::Smf`] could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No such PDU session.
    #[error("no such PDU session")]
    NoSession,
    /// Another procedure of the session is running; try again when it ends.
    #[error("a procedure is in progress")]
    Busy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes() {
        assert_eq!(SessionError::MissingDnn.sm_cause().value(), 27);
        assert_eq!(SessionError::PduSessionType(5).sm_cause().value(), 28);
        assert_eq!(SessionError::PduSessionType(2).sm_cause().value(), 50);
        assert_eq!(SessionError::UnknownSubscriber.sm_cause().value(), 29);
        assert_eq!(SessionError::NotSubscribed("DNN").sm_cause().value(), 33);
        assert_eq!(SessionError::PtiAlreadyInUse(1).sm_cause().value(), 35);
        assert_eq!(SessionError::InvalidPduSessionIdentity(0).sm_cause().value(), 43);
        assert_eq!(SessionError::DnnNotInSlice("x".into()).sm_cause().value(), 70);
        assert_eq!(SessionError::InvalidPti(0).sm_cause().value(), 81);
        assert_eq!(SessionError::PoolExhausted("x".into()).sm_cause().value(), 26);
        assert_eq!(
            SessionError::Malformed(hexcore_nas::Error::MissingMandatoryIe("x"))
                .sm_cause()
                .value(),
            96
        );
    }
}
