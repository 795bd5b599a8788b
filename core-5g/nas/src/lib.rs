//! NAS-5GS (TS 24.501) codec: the 5GMM and 5GSM messages between UE and core,
//! their information elements, and the security-protected header. Pure: no I/O,
//! no clock, no crypto (the security crate computes MACs and deciphers; this crate
//! hands it the octets and decodes the plaintext it gets back).
//!
//! Entry point: [`NasPdu::decode`] / [`NasPdu::encode`]. Every decoded message
//! re-encodes to the octets received when its optional IEs came in the order of
//! the spec's tables (unknown IEs are kept raw and re-encoded last).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cause;
mod codec;
mod error;
pub mod header;
pub mod ie;
mod message;
pub mod mm;
pub mod sm;

pub use cause::{MmCause, SmCause};
pub use codec::{FixedLen, HalfOctet, IeValue, RawIe};
pub use error::Error;
pub use header::{Epd, SecurityHeaderType, SecurityProtected};
pub use message::{Message, MessageType};
pub use mm::MmHeader;
pub use sm::SmHeader;

/// One NAS-5GS PDU as carried in an NGAP NAS-PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NasPdu {
    /// A plain 5GMM or 5GSM message (security header type 0).
    Plain(Message),
    /// A security-protected 5GMM message (security header types 1–4).
    SecurityProtected(SecurityProtected),
}

impl NasPdu {
    /// Decode a PDU. For integrity-protected-only PDUs (types 1 and 3) the inner
    /// message is decoded too; ciphered ones (2 and 4) keep their payload as
    /// octets for the caller to decipher and then pass to [`Message::decode`].
    pub fn decode(bytes: &[u8]) -> Result<NasPdu, Error> {
        match bytes {
            [0x7E, h, ..] if h & 0x0F != 0 => {
                Ok(NasPdu::SecurityProtected(SecurityProtected::decode(bytes)?))
            }
            _ => Ok(NasPdu::Plain(Message::decode(bytes)?)),
        }
    }

    /// The encoded PDU.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.emit(&mut v);
        v
    }

    /// Append the encoded PDU to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        match self {
            NasPdu::Plain(m) => m.encode_into(out),
            NasPdu::SecurityProtected(s) => s.encode_into(out),
        }
    }

    /// The encoded length.
    pub fn buffer_len(&self) -> usize {
        self.encode().len()
    }

    /// A one-line description for logs: "Registration request", "UL NAS transport
    /// / PDU session establishment request", "ciphered (security header type 2)".
    pub fn summary(&self) -> String {
        match self {
            NasPdu::Plain(m) => m.summary(),
            NasPdu::SecurityProtected(s) => match &s.message {
                Some(m) => m.summary(),
                None => format!(
                    "ciphered (security header type {})",
                    s.header_type.value()
                ),
            },
        }
    }
}

impl From<Message> for NasPdu {
    fn from(m: Message) -> NasPdu {
        NasPdu::Plain(m)
    }
}
