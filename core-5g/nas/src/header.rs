//! Extended protocol discriminator (TS 24.007 §11.2.3.1.1A) and the
//! security-protected 5GS NAS message (TS 24.501 §9.1.1, §9.3).

use crate::codec::{Reader, code_enum};
use crate::error::Error;
use crate::message::Message;

code_enum! {
    /// Extended protocol discriminator.
    pub enum Epd {
        /// 5GS session management messages.
        SessionManagement = 0x2E,
        /// 5GS mobility management messages.
        MobilityManagement = 0x7E,
    }
}

code_enum! {
    /// Security header type (TS 24.501 §9.3.1).
    pub enum SecurityHeaderType {
        /// Plain 5GS NAS message, not security protected.
        Plain = 0,
        /// Integrity protected.
        IntegrityProtected = 1,
        /// Integrity protected and ciphered.
        IntegrityProtectedAndCiphered = 2,
        /// Integrity protected with new 5G NAS security context.
        IntegrityProtectedNewContext = 3,
        /// Integrity protected and ciphered with new 5G NAS security context.
        IntegrityProtectedAndCipheredNewContext = 4,
    }
}

impl SecurityHeaderType {
    /// Is the inner message ciphered (types 2 and 4)?
    pub fn is_ciphered(self) -> bool {
        matches!(
            self,
            SecurityHeaderType::IntegrityProtectedAndCiphered
                | SecurityHeaderType::IntegrityProtectedAndCipheredNewContext
        )
    }
}

/// A security-protected 5GS NAS message (TS 24.501 Figure 9.1.1.2):
/// EPD 0x7E, security header type, MAC (4 octets), sequence number, then the
/// plain NAS message (ciphered for header types 2 and 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityProtected {
    /// Security header type (1..=4).
    pub header_type: SecurityHeaderType,
    /// Bits 5–8 of octet 2 (spare), kept as received.
    pub spare: u8,
    /// Message authentication code.
    pub mac: [u8; 4],
    /// NAS sequence number (the low 8 bits of the NAS COUNT).
    pub sequence_number: u8,
    /// The octets after the sequence number, as received: the plain message for
    /// types 1 and 3, the ciphertext for types 2 and 4. The MAC covers the
    /// sequence number and these octets (TS 33.501 §6.4.3).
    pub payload: Vec<u8>,
    /// For types 1 and 3, the decoded inner message; `None` when ciphered.
    pub message: Option<Box<Message>>,
}

impl SecurityProtected {
    /// Wrap an encoded plain message (for header types 1 and 3 it is kept
    /// decoded too). The caller computes `mac` over `sequence_number || payload`.
    pub fn new(
        header_type: SecurityHeaderType,
        mac: [u8; 4],
        sequence_number: u8,
        payload: Vec<u8>,
    ) -> Result<Self, Error> {
        let message = if header_type.is_ciphered() {
            None
        } else {
            Some(Box::new(Message::decode_inner(&payload)?))
        };
        Ok(SecurityProtected {
            header_type,
            spare: 0,
            mac,
            sequence_number,
            payload,
            message,
        })
    }

    /// Parse only the security header, leaving the payload undecoded (useful to
    /// check the MAC before looking inside).
    pub fn decode_outer(bytes: &[u8]) -> Result<SecurityProtected, Error> {
        let mut r = Reader::new(bytes);
        match Epd::from(r.u8()?) {
            Epd::MobilityManagement => {}
            other => return Err(Error::UnknownEpd(other.value())),
        }
        let h = r.u8()?;
        let header_type = SecurityHeaderType::from(h & 0x0F);
        if !(1..=4).contains(&header_type.value()) {
            return Err(Error::BadSecurityHeaderType(h & 0x0F));
        }
        let m = r.take(4)?;
        let mac = [m[0], m[1], m[2], m[3]];
        let sequence_number = r.u8()?;
        Ok(SecurityProtected {
            header_type,
            spare: h >> 4,
            mac,
            sequence_number,
            payload: r.rest().to_vec(),
            message: None,
        })
    }

    /// Parse the header and, for types 1 and 3, decode the inner plain message.
    pub fn decode(bytes: &[u8]) -> Result<SecurityProtected, Error> {
        let mut sp = SecurityProtected::decode_outer(bytes)?;
        if !sp.header_type.is_ciphered() {
            sp.message = Some(Box::new(Message::decode_inner(&sp.payload)?));
        }
        Ok(sp)
    }

    /// The octets the MAC is computed over: sequence number, then the payload.
    pub fn mac_input(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(1 + self.payload.len());
        v.push(self.sequence_number);
        v.extend_from_slice(&self.payload);
        v
    }

    /// Append the encoded PDU to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(Epd::MobilityManagement.value());
        out.push(((self.spare & 0x0F) << 4) | (self.header_type.value() & 0x0F));
        out.extend_from_slice(&self.mac);
        out.push(self.sequence_number);
        out.extend_from_slice(&self.payload);
    }
}
