//! The error of the NGAP facade, and the Cause that the AMF answers it with.
//!
//! TS 38.413 §10 says how a receiver treats a faulty message: a PDU that is not
//! aligned PER is a transfer syntax error (§10.2); a missing, unknown or misplaced IE is
//! an abstract syntax error, answered by the criticality of the IE (§10.3.4, §10.3.5,
//! §10.3.6). Each variant here knows the Cause of its Error Indication.

use oxirush_ngap::Deviation;
use oxirush_ngap::aper;

use crate::cause::{Cause, CauseMisc, CauseProtocol};

/// The criticality of a procedure or an IE (TS 38.413 §9.3.1.2 Criticality).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Criticality {
    /// Reject the procedure.
    Reject,
    /// Ignore the IE (or procedure) silently.
    Ignore,
    /// Ignore the IE and notify the sender.
    Notify,
}

impl From<aper::Criticality> for Criticality {
    fn from(value: aper::Criticality) -> Self {
        match value {
            aper::Criticality::Reject => Self::Reject,
            aper::Criticality::Ignore => Self::Ignore,
            aper::Criticality::Notify => Self::Notify,
        }
    }
}

impl From<oxirush_ngap::ngap::Criticality> for Criticality {
    fn from(value: oxirush_ngap::ngap::Criticality) -> Self {
        use oxirush_ngap::ngap::Criticality as C;
        match value {
            C::reject => Self::Reject,
            C::ignore => Self::Ignore,
            C::notify => Self::Notify,
        }
    }
}

impl From<Criticality> for oxirush_ngap::ngap::Criticality {
    fn from(value: Criticality) -> Self {
        match value {
            Criticality::Reject => Self::reject,
            Criticality::Ignore => Self::ignore,
            Criticality::Notify => Self::notify,
        }
    }
}

/// What went wrong with an NGAP message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The octets are not an NGAP-PDU in aligned PER: truncated, trailing octets, a
    /// length past the end, a value outside its constraint (TS 38.413 §10.2).
    #[error("NGAP transfer syntax error: {0}")]
    TransferSyntax(#[source] oxirush_ngap::Error),
    /// An IE is present but its value does not decode as its type.
    #[error("NGAP IE {name} (id {id}) does not decode: {source}")]
    UndecodableIe {
        /// The protocol IE id.
        id: u16,
        /// Its ASN.1 name.
        name: &'static str,
        /// The criticality the IE was received with.
        criticality: Criticality,
        /// Why it does not decode.
        #[source]
        source: oxirush_ngap::Error,
    },
    /// A mandatory IE is absent (TS 38.413 §10.3.5).
    #[error("NGAP mandatory IE {name} (id {id}) is missing")]
    MissingMandatoryIe {
        /// The protocol IE id.
        id: u16,
        /// Its ASN.1 name.
        name: &'static str,
        /// The criticality the message's object set assigns to it.
        criticality: Criticality,
    },
    /// An IE the message cannot have (TS 38.413 §10.3.4.2).
    #[error("NGAP IE id {id} is not one this message can have")]
    UnexpectedIe {
        /// The protocol IE id.
        id: u16,
        /// The criticality it was received with.
        criticality: Criticality,
    },
    /// An IE repeated or out of order (TS 38.413 §10.3.6).
    #[error("NGAP message falsely constructed at IE id {id}")]
    FalselyConstructed {
        /// The protocol IE id.
        id: u16,
    },
    /// A procedure code this release does not define in that direction (§10.3.4.1).
    #[error("NGAP procedure {code} is unknown in this direction")]
    UnknownProcedure {
        /// The procedure code.
        code: u8,
        /// The criticality of the PDU.
        criticality: Criticality,
    },
    /// A typed parser was handed another message than the one it reads.
    #[error("expected NGAP {expected}, got {got}")]
    WrongMessage {
        /// The message the parser reads.
        expected: &'static str,
        /// The message the PDU holds.
        got: &'static str,
    },
    /// A value decodes but means nothing: a PLMN identity that is not BCD, a gNB ID
    /// of a length TS 38.413 §9.3.1.6 does not allow.
    #[error("NGAP semantic error in {what}")]
    InvalidValue {
        /// What is wrong.
        what: &'static str,
    },
    /// A value given to a builder is out of range (a 41-bit AMF UE NGAP ID, a 3-digit
    /// MCC that is not three digits...).
    #[error("invalid NGAP argument: {0}")]
    InvalidArgument(String),
    /// The codec refused to encode a value (one outside its constraint).
    #[error("NGAP encoding failed: {0}")]
    Encode(#[source] oxirush_ngap::Error),
}

impl Error {
    /// The Cause the AMF sends in the Error Indication (or failure message) that
    /// answers this error (TS 38.413 §10). `message-not-compatible-with-receiver-state`
    /// is never produced here: that is the AMF's to decide (§10.4). A missing or
    /// unexpected IE of criticality `reject` gives abstract-syntax-error-reject; of
    /// `notify` (or `ignore`, when a typed parser still cannot do without the IE)
    /// abstract-syntax-error-ignore-and-notify. [`NgapPdu::check`](crate::NgapPdu::check)
    /// passes the faults of IEs of criticality `ignore` (§10.3.4.2, §10.3.5).
    pub fn cause(&self) -> Cause {
        let by_criticality = |criticality: &Criticality| match criticality {
            Criticality::Reject => CauseProtocol::AbstractSyntaxErrorReject,
            Criticality::Ignore | Criticality::Notify => CauseProtocol::AbstractSyntaxErrorIgnoreAndNotify,
        };
        match self {
            Self::TransferSyntax(_) | Self::UndecodableIe { .. } => Cause::Protocol(CauseProtocol::TransferSyntaxError),
            Self::MissingMandatoryIe { criticality, .. }
            | Self::UnexpectedIe { criticality, .. }
            | Self::UnknownProcedure { criticality, .. } => Cause::Protocol(by_criticality(criticality)),
            Self::FalselyConstructed { .. } => {
                Cause::Protocol(CauseProtocol::AbstractSyntaxErrorFalselyConstructedMessage)
            }
            Self::WrongMessage { .. } | Self::InvalidValue { .. } => Cause::Protocol(CauseProtocol::SemanticError),
            Self::InvalidArgument(_) | Self::Encode(_) => Cause::Misc(CauseMisc::Unspecified),
        }
    }

    /// The error of a check deviation that a receiver must act on; `None` for one it
    /// lets pass (an IE of criticality ignore, a non-canonical encoding).
    pub(crate) fn of_deviation(deviation: &Deviation) -> Option<Self> {
        deviation.cause()?;
        Some(match deviation {
            Deviation::UndecodableIe {
                id,
                name,
                criticality,
                error,
                ..
            } => Self::UndecodableIe {
                id: *id,
                name,
                criticality: (*criticality).into(),
                source: error.clone(),
            },
            Deviation::MissingIe { id, name, criticality } => Self::MissingMandatoryIe {
                id: *id,
                name,
                criticality: (*criticality).into(),
            },
            Deviation::UnexpectedIe { id, criticality, .. } | Deviation::OutsideRoot { id, criticality, .. } => {
                Self::UnexpectedIe {
                    id: *id,
                    criticality: (*criticality).into(),
                }
            }
            Deviation::RepeatedIe { id, .. } | Deviation::OutOfOrder { id, .. } => Self::FalselyConstructed { id: *id },
            Deviation::UnknownProcedure {
                procedure_code,
                criticality,
                ..
            } => Self::UnknownProcedure {
                code: *procedure_code,
                criticality: (*criticality).into(),
            },
            _ => return None,
        })
    }
}

/// The codec's errors, as the facade's: an error about an IE keeps its IE.
impl From<oxirush_ngap::Error> for Error {
    fn from(error: oxirush_ngap::Error) -> Self {
        if let Some(ie) = error.ie() {
            let name = aper::protocol::name::<oxirush_ngap::Ngap>(ie.id).unwrap_or("unknown IE");
            match error.kind() {
                aper::ErrorKind::MissingIe => {
                    return Self::MissingMandatoryIe {
                        id: ie.id,
                        name,
                        criticality: ie.criticality.into(),
                    };
                }
                aper::ErrorKind::UndecodableIe => {
                    return Self::UndecodableIe {
                        id: ie.id,
                        name,
                        criticality: ie.criticality.into(),
                        source: error,
                    };
                }
                _ => {}
            }
        }
        match error.kind() {
            aper::ErrorKind::Encode => Self::Encode(error),
            aper::ErrorKind::Argument => Self::InvalidArgument(error.to_string()),
            _ => Self::TransferSyntax(error),
        }
    }
}
