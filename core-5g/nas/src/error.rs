//! Decoding errors, and the cause the network answers each with.

use crate::cause::{MmCause, SmCause};

/// Why a NAS-5GS PDU could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The PDU ended before a field that must be there.
    #[error("truncated: needed {needed} octets, got {got}")]
    Truncated {
        /// Octets needed to read the field.
        needed: usize,
        /// Octets available.
        got: usize,
    },
    /// An IE's length is not one its definition allows.
    #[error("bad length in IE {ie}")]
    BadLength {
        /// The IE.
        ie: &'static str,
    },
    /// An IE's contents are not valid (a field out of range, a broken list).
    #[error("invalid value in IE {ie}")]
    InvalidValue {
        /// The IE.
        ie: &'static str,
    },
    /// A mandatory IE is missing (TS 24.501 §7.5.1).
    #[error("missing mandatory IE {0}")]
    MissingMandatoryIe(&'static str),
    /// An unknown IE encoded as "comprehension required" (IEI 0x00–0x0F,
    /// TS 24.007 §11.2.4, TS 24.501 §7.6.1).
    #[error("unknown comprehension-required IE {0:#04x}")]
    ComprehensionRequired(u8),
    /// A conditional IE is missing or present against its condition (§7.6.2).
    #[error("conditional IE error in {0}")]
    ConditionalIe(&'static str),
    /// The message type is not defined or not implemented (§7.4).
    #[error("unknown message type {0:#04x}")]
    UnknownMessageType(u8),
    /// The extended protocol discriminator is neither 5GMM nor 5GSM (TS 24.007 §11.2.3.1.1A).
    #[error("unknown extended protocol discriminator {0:#04x}")]
    UnknownEpd(u8),
    /// The security header type is not one TS 24.501 §9.3 defines, or a
    /// security-protected header appears where a plain message must be.
    #[error("unexpected security header type {0}")]
    BadSecurityHeaderType(u8),
    /// The message is syntactically fine but makes no sense (§7.2).
    #[error("semantically incorrect message: {0}")]
    SemanticallyIncorrect(&'static str),
}

impl Error {
    /// The 5GMM cause the AMF sends back (in 5GMM STATUS or a reject) for a
    /// 5GMM message that failed with this error (TS 24.501 §7, Annex A).
    pub fn mm_cause(&self) -> MmCause {
        match self {
            Error::Truncated { .. }
            | Error::BadLength { .. }
            | Error::InvalidValue { .. }
            | Error::MissingMandatoryIe(_)
            | Error::ComprehensionRequired(_) => MmCause::InvalidMandatoryInformation,
            Error::UnknownMessageType(_) => MmCause::MessageTypeNonExistentOrNotImplemented,
            Error::ConditionalIe(_) => MmCause::ConditionalIeError,
            Error::SemanticallyIncorrect(_) => MmCause::SemanticallyIncorrectMessage,
            Error::UnknownEpd(_) | Error::BadSecurityHeaderType(_) => MmCause::ProtocolErrorUnspecified,
        }
    }

    /// The 5GSM cause the SMF sends back for a 5GSM message that failed with
    /// this error (TS 24.501 §7, Annex B).
    pub fn sm_cause(&self) -> SmCause {
        match self {
            Error::Truncated { .. }
            | Error::BadLength { .. }
            | Error::InvalidValue { .. }
            | Error::MissingMandatoryIe(_)
            | Error::ComprehensionRequired(_) => SmCause::InvalidMandatoryInformation,
            Error::UnknownMessageType(_) => SmCause::MessageTypeNonExistentOrNotImplemented,
            Error::ConditionalIe(_) => SmCause::ConditionalIeError,
            Error::SemanticallyIncorrect(_) => SmCause::SemanticallyIncorrectMessage,
            Error::UnknownEpd(_) | Error::BadSecurityHeaderType(_) => SmCause::ProtocolErrorUnspecified,
        }
    }
}
