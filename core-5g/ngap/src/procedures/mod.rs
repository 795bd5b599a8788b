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
pub(crate) fn owned(text: &str) -> String {
    text.to_string()
}

/// The AMF UE NGAP ID of a decoded value (the codec keeps it within 40 bits).
pub(crate) fn amf_id(value: u64) -> Result<crate::AmfUeNgapId, Error> {
    crate::AmfUeNgapId::new(value).ok_or(Error::InvalidValue { what: "AMF UE NGAP ID" })
}

/// The Cause of a decoded value.
pub(crate) fn cause_of(cause: &oxirush_ngap::ngap::Cause) -> Result<crate::Cause, Error> {
    crate::Cause::try_from(cause)
}

/// Run every typed parser on `pdu` and discard the results: for fuzzing and for
/// tests that no parser panics. Returns how many parsers accepted it.
#[doc(hidden)]
pub fn parse_any(pdu: &NgapPdu) -> usize {
    let results = [
        NgSetupRequest::parse(pdu).is_ok(),
        NgSetupResponse::parse(pdu).is_ok(),
        NgSetupFailure::parse(pdu).is_ok(),
        InitialUeMessage::parse(pdu).is_ok(),
        UplinkNasTransport::parse(pdu).is_ok(),
        DownlinkNasTransport::parse(pdu).is_ok(),
        Paging::parse(pdu).is_ok(),
        PduSessionResourceSetupRequest::parse(pdu)
            .map(|m| {
                for s in &m.sessions {
                    let _ = PduSessionResourceSetupRequestTransfer::decode(&s.transfer);
                }
            })
            .is_ok(),
        PduSessionResourceSetupResponse::parse(pdu)
            .map(|m| {
                for s in &m.setup {
                    let _ = PduSessionResourceSetupResponseTransfer::decode(&s.transfer);
                }
            })
            .is_ok(),
        PduSessionResourceModifyRequest::parse(pdu).is_ok(),
        PduSessionResourceModifyResponse::parse(pdu).is_ok(),
        PduSessionResourceReleaseCommand::parse(pdu).is_ok(),
        PduSessionResourceReleaseResponse::parse(pdu).is_ok(),
        InitialContextSetupRequest::parse(pdu).is_ok(),
        InitialContextSetupResponse::parse(pdu).is_ok(),
        InitialContextSetupFailure::parse(pdu).is_ok(),
        UeContextReleaseRequest::parse(pdu).is_ok(),
        UeContextReleaseCommand::parse(pdu).is_ok(),
        UeContextReleaseComplete::parse(pdu).is_ok(),
        UeContextModificationRequest::parse(pdu).is_ok(),
        UeContextModificationResponse::parse(pdu).is_ok(),
        UeContextModificationFailure::parse(pdu).is_ok(),
        ErrorIndication::parse(pdu).is_ok(),
        NgReset::parse(pdu).is_ok(),
        NgResetAcknowledge::parse(pdu).is_ok(),
        RanConfigurationUpdate::parse(pdu).is_ok(),
        RanConfigurationUpdateAcknowledge::parse(pdu).is_ok(),
        RanConfigurationUpdateFailure::parse(pdu).is_ok(),
        AmfConfigurationUpdate::parse(pdu).is_ok(),
        AmfConfigurationUpdateAcknowledge::parse(pdu).is_ok(),
        AmfConfigurationUpdateFailure::parse(pdu).is_ok(),
    ];
    results.iter().filter(|ok| **ok).count()
}

/// For each typed parser that accepts `pdu`: build its result again, encode, decode
/// and parse, and compare. An `Err` names the message that did not come back the same
/// (for fuzzing: parse and build must agree on everything the structs hold).
#[doc(hidden)]
pub fn rebuild_any(pdu: &NgapPdu) -> Result<usize, String> {
    fn again<T: PartialEq + core::fmt::Debug>(
        name: &str,
        parsed: Result<T, Error>,
        build: impl Fn(&T) -> Result<NgapPdu, Error>,
        parse: impl Fn(&NgapPdu) -> Result<T, Error>,
    ) -> Result<usize, String> {
        let Ok(parsed) = parsed else {
            return Ok(0);
        };
        let rebuilt = build(&parsed)
            .and_then(|p| p.encode())
            .and_then(|octets| NgapPdu::decode(&octets))
            .and_then(|p| parse(&p))
            .map_err(|e| format!("{name} does not rebuild: {e}"))?;
        if rebuilt != parsed {
            return Err(format!("{name} changed: {parsed:?} -> {rebuilt:?}"));
        }
        Ok(1)
    }
    macro_rules! each {
        ($($t:ident),* $(,)?) => {{
            let mut accepted = 0;
            $(accepted += again(stringify!($t), $t::parse(pdu), $t::build, $t::parse)?;)*
            accepted
        }};
    }
    let mut accepted = each!(
        NgSetupRequest,
        NgSetupResponse,
        NgSetupFailure,
        InitialUeMessage,
        UplinkNasTransport,
        DownlinkNasTransport,
        Paging,
        PduSessionResourceSetupRequest,
        PduSessionResourceSetupResponse,
        PduSessionResourceModifyRequest,
        PduSessionResourceModifyResponse,
        PduSessionResourceReleaseCommand,
        PduSessionResourceReleaseResponse,
        InitialContextSetupRequest,
        InitialContextSetupResponse,
        InitialContextSetupFailure,
        UeContextReleaseRequest,
        UeContextReleaseCommand,
        UeContextReleaseComplete,
        UeContextModificationRequest,
        UeContextModificationResponse,
        UeContextModificationFailure,
        ErrorIndication,
        NgReset,
        NgResetAcknowledge,
        RanConfigurationUpdate,
        RanConfigurationUpdateAcknowledge,
        RanConfigurationUpdateFailure,
        AmfConfigurationUpdate,
        AmfConfigurationUpdateAcknowledge,
        AmfConfigurationUpdateFailure,
    );
    // The typed transfers of the setup messages.
    if let Ok(m) = PduSessionResourceSetupRequest::parse(pdu) {
        for s in &m.sessions {
            if let Ok(t) = PduSessionResourceSetupRequestTransfer::decode(&s.transfer) {
                let back = t
                    .encode()
                    .and_then(|o| PduSessionResourceSetupRequestTransfer::decode(&o))
                    .map_err(|e| format!("setup request transfer does not rebuild: {e}"))?;
                if back != t {
                    return Err(format!("setup request transfer changed: {t:?} -> {back:?}"));
                }
                accepted += 1;
            }
        }
    }
    if let Ok(m) = PduSessionResourceSetupResponse::parse(pdu) {
        for s in &m.setup {
            if let Ok(t) = PduSessionResourceSetupResponseTransfer::decode(&s.transfer) {
                let back = t
                    .encode()
                    .and_then(|o| PduSessionResourceSetupResponseTransfer::decode(&o))
                    .map_err(|e| format!("setup response transfer does not rebuild: {e}"))?;
                if back != t {
                    return Err(format!("setup response transfer changed: {t:?} -> {back:?}"));
                }
                accepted += 1;
            }
        }
    }
    Ok(accepted)
}
