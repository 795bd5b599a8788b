//! NGAP (TS 38.413) for hexcore.
//!
//! A small facade over the generated aligned-PER codec of `oxirush-ngap` (Release 19):
//! [`NgapPdu`] decodes and encodes whole PDUs and answers what the AMF asks first
//! (which procedure, which UE, which NAS PDUs); [`procedures`] has a builder and a
//! parser for each message the AMF sends or reads; [`Error::cause`] gives the Cause an
//! Error Indication must carry (TS 38.413 §10). The generated types stay reachable
//! through [`codec`] for what the facade does not cover.
#![forbid(unsafe_code)]

pub mod cause;
pub mod error;
pub mod ids;
pub mod pdu;
pub mod procedures;
mod tables;

/// The generated codec (types of the TS 38.413 ASN.1, macros, checks).
pub use oxirush_ngap as codec;

pub use cause::{Cause, CauseMisc, CauseNas, CauseProtocol, CauseRadioNetwork, CauseTransport};
pub use error::{Criticality, Error};
pub use ids::{AmfUeNgapId, FiveGSTmsi, GlobalGnbId, GnbId, Guami, NrCgi, Plmn, RanUeNgapId, SNssai, Tac, Tai};
pub use pdu::{NgapPdu, PduKind, ProcedureCode};
