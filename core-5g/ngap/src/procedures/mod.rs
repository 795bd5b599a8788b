//! Typed builders and parsers for the messages the AMF sends and reads, one file per
//! procedure family. Each message is a struct of plain Rust fields with
//! `build(&self) -> Result<NgapPdu, Error>` and `parse(&NgapPdu) -> Result<Self, Error>`;
//! a parser gives [`Error::MissingMandatoryIe`] for an absent mandatory IE and
//! [`Error::WrongMessage`] for a PDU of another message.

use oxirush_ngap::ngap::NGAP_PDU;
use oxirush_ngap::{Message, Ngap};

use crate::{Error, NgapPdu};

pub mod context;
pub mod management;
pub mod nas_transport;
pub mod ng_setup;
pub mod paging;
pub mod pdu_session;

pub use context::*;
pub use management::*;
pub use nas_transport::*;
pub use ng_setup::*;
pub use paging::*;
pub use pdu_session::*;

/// The message of `pdu` as `M`, or `WrongMessage` when it holds another one.
pub(crate) fn message<'a, M: Message<'a, Protocol = Ngap>>(pdu: &'a NgapPdu) -> Result<M, Error> {
    if (pdu.0.direction(), pdu.0.procedure_code()) != (M::DIRECTION, M::PROCEDURE_CODE) {
        return Err(Error::WrongMessage {
            expected: M::NAME,
            got: pdu.message_name(),
        });
    }
    pdu.0.decode_value::<M>().map_err(Error::from)
}

/// The PDU of a message, with the criticality of its procedure (TS 38.413 §9.4.1).
pub(crate) fn finish<'m, M: Message<'m, Protocol = Ngap>>(message: &M) -> Result<NgapPdu, Error> {
    NGAP_PDU::of_message(message, M::CRITICALITY)
        .map(NgapPdu)
        .map_err(Error::from)
}

/// An owned string of a generated printable string.
pub(crate) fn owned(text: &std::borrow::Cow<'_, str>) -> String {
    text.to_string()
}

/// The AMF UE NGAP ID of a decoded value (the codec keeps it within 40 bits).
pub(crate) fn amf_id(value: u64) -> Result<crate::AmfUeNgapId, Error> {
    crate::AmfUeNgapId::new(value).ok_or(Error::InvalidValue {
        what: "AMF UE NGAP ID",
    })
}

/// The Cause of a decoded value.
pub(crate) fn cause_of(cause: &oxirush_ngap::ngap::Cause) -> Result<crate::Cause, Error> {
    crate::Cause::try_from(cause)
}
