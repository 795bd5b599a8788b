//! Decoding and procedure errors, each with the PFCP Cause (TS 29.244 §8.2.1) and
//! Offending IE the peer must hear.

use crate::ie::{Cause, IeType};

/// Why a PFCP message could not be decoded, or a request could not be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The datagram ended before the header (or the length its header claims).
    #[error("truncated: needed {needed} octets, got {got}")]
    Truncated {
        /// Octets needed.
        needed: usize,
        /// Octets available.
        got: usize,
    },
    /// The header's version is not 1 (§7.2.2.1); answered with a Version Not
    /// Supported Response.
    #[error("unsupported PFCP version {0}")]
    UnsupportedVersion(u8),
    /// An IE's length runs past its container, or is not one its definition allows.
    #[error("bad length in {ie}")]
    BadLength {
        /// The IE.
        ie: IeType,
    },
    /// An IE's contents are not valid (a field out of range, flags that contradict
    /// each other, a name that is not text).
    #[error("invalid value in {ie}")]
    InvalidValue {
        /// The IE.
        ie: IeType,
    },
    /// A mandatory IE is missing (§7.6).
    #[error("missing mandatory IE {ie}")]
    MissingMandatoryIe {
        /// The IE.
        ie: IeType,
    },
    /// A conditional IE is missing although its condition holds.
    #[error("missing conditional IE {ie}")]
    MissingConditionalIe {
        /// The IE.
        ie: IeType,
    },
    /// A session message without a SEID (S flag clear, §7.2.2.4).
    #[error("session message without SEID")]
    MissingSeid,
    /// No PFCP session has the SEID of the request (§7.2.2.4.2).
    #[error("session context not found for SEID {seid:#x}")]
    SessionContextNotFound {
        /// The SEID received.
        seid: u64,
    },
    /// The peer has no PFCP association with us (§6.2.6.1).
    #[error("no established PFCP association")]
    NoEstablishedAssociation,
    /// A rule could not be created or modified (the Offending IE names which
    /// kind, the Failed Rule ID which rule).
    #[error("rule creation/modification failure in {ie}")]
    RuleCreationModificationFailure {
        /// The rule's IE (Create PDR, Update FAR, …).
        ie: IeType,
    },
    /// The PFCP entity is overloaded (§6.2.8).
    #[error("PFCP entity in congestion")]
    Congestion,
    /// No resources for the request (F-TEIDs, UE addresses, sessions).
    #[error("no resources available")]
    NoResources,
}

impl Error {
    /// The Cause the peer must hear in the response to a request that failed with
    /// this error (TS 29.244 §7.6, §8.2.1).
    pub fn cause(&self) -> Cause {
        match self {
            Error::Truncated { .. } | Error::BadLength { .. } => Cause::InvalidLength,
            Error::UnsupportedVersion(_) | Error::MissingSeid => Cause::RequestRejected,
            Error::InvalidValue { .. } => Cause::MandatoryIeIncorrect,
            Error::MissingMandatoryIe { .. } => Cause::MandatoryIeMissing,
            Error::MissingConditionalIe { .. } => Cause::ConditionalIeMissing,
            Error::SessionContextNotFound { .. } => Cause::SessionContextNotFound,
            Error::NoEstablishedAssociation => Cause::NoEstablishedPfcpAssociation,
            Error::RuleCreationModificationFailure { .. } => Cause::RuleCreationModificationFailure,
            Error::Congestion => Cause::PfcpEntityInCongestion,
            Error::NoResources => Cause::NoResourcesAvailable,
        }
    }

    /// The Offending IE to send with [`Error::cause`], where one IE is to blame
    /// (§8.2.22: "the type of the offending IE").
    pub fn offending_ie(&self) -> Option<IeType> {
        match self {
            Error::BadLength { ie }
            | Error::InvalidValue { ie }
            | Error::MissingMandatoryIe { ie }
            | Error::MissingConditionalIe { ie }
            | Error::RuleCreationModificationFailure { ie } => Some(*ie),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_and_offending_ies() {
        let cases = [
            (Error::Truncated { needed: 8, got: 3 }, 68, None),
            (Error::BadLength { ie: IeType::Fteid }, 68, Some(21)),
            (Error::InvalidValue { ie: IeType::NodeId }, 69, Some(60)),
            (Error::MissingMandatoryIe { ie: IeType::Fseid }, 66, Some(57)),
            (
                Error::MissingConditionalIe {
                    ie: IeType::UpFunctionFeatures,
                },
                67,
                Some(43),
            ),
            (Error::SessionContextNotFound { seid: 7 }, 65, None),
            (Error::NoEstablishedAssociation, 72, None),
            (
                Error::RuleCreationModificationFailure { ie: IeType::CreatePdr },
                73,
                Some(1),
            ),
            (Error::Congestion, 74, None),
            (Error::NoResources, 75, None),
            (Error::MissingSeid, 64, None),
            (Error::UnsupportedVersion(2), 64, None),
        ];
        for (e, cause, ie) in cases {
            assert_eq!(e.cause().value(), cause, "{e}");
            assert_eq!(e.offending_ie().map(IeType::value), ie, "{e}");
        }
    }
}
