//! Extended protocol discriminator (TS 24.007 §11.2.3.1.1A) and the
//! security-protected 5GS NAS message (TS 24.501 §9.1.1, §9.3).

use crate::codec::{Reader, code_enum};
use crate::error::Error;
use crate::message::Message;

code_enum! {
    /// Extended protocol discriminator.
    pub enum Epd: u8 {
        /// 5GS session management messages.
        SessionManagement = 0x2E,
        /// 5GS mobility management messages.
        MobilityManagement = 0x7E,
    }
}

code_enum! {
    /// Security header type (TS 24.501 §9.3.1).
    pub enum SecurityHeaderType: u8 {
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

mod field {
    use std::ops::Range;
    pub const EPD: usize = 0;
    pub const SHT: usize = 1;
    pub const MAC: Range<usize> = 2..6;
    pub const SQN: usize = 6;
    pub const PAYLOAD: usize = 7;
}

/// A read/write view of a security-protected 5GS NAS message's header
/// (TS 24.501 Figure 9.1.1.2), smoltcp style: the length is checked once by
/// [`Packet::new_checked`]; after that no accessor can panic.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer of at least the 7 header octets, EPD 0x7E and a security
    /// header type 1..=4.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Error> {
        let b = buffer.as_ref();
        if b.len() < field::PAYLOAD {
            return Err(Error::Truncated {
                needed: field::PAYLOAD,
                got: b.len(),
            });
        }
        if b[field::EPD] != 0x7E {
            return Err(Error::UnknownEpd(b[field::EPD]));
        }
        if !(1..=4).contains(&(b[field::SHT] & 0x0F)) {
            return Err(Error::BadSecurityHeaderType(b[field::SHT] & 0x0F));
        }
        Ok(Packet { buffer })
    }

    /// The security header type.
    pub fn security_header_type(&self) -> SecurityHeaderType {
        SecurityHeaderType::from(self.buffer.as_ref()[field::SHT] & 0x0F)
    }

    /// The message authentication code.
    pub fn mac(&self) -> [u8; 4] {
        let m = &self.buffer.as_ref()[field::MAC];
        [m[0], m[1], m[2], m[3]]
    }

    /// The sequence number.
    pub fn sequence_number(&self) -> u8 {
        self.buffer.as_ref()[field::SQN]
    }

    /// The octets after the sequence number (plain or ciphered message).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..]
    }

    /// Sequence number and payload: what the MAC is computed over.
    pub fn mac_input(&self) -> &[u8] {
        &self.buffer.as_ref()[field::SQN..]
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Set the MAC (after computing it over [`Packet::mac_input`]).
    pub fn set_mac(&mut self, mac: [u8; 4]) {
        self.buffer.as_mut()[field::MAC].copy_from_slice(&mac);
    }

    /// Set the sequence number.
    pub fn set_sequence_number(&mut self, sqn: u8) {
        self.buffer.as_mut()[field::SQN] = sqn;
    }

    /// The payload, writable (to cipher in place).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Registration complete, security header type 2, from a Go UE simulator test.
    static REG_COMPLETE: [u8; 10] = [0x7e, 0x02, 0x46, 0x9d, 0x6a, 0x8b, 0x01, 0x7e, 0x00, 0x43];

    #[test]
    fn packet_view() {
        let p = Packet::new_checked(&REG_COMPLETE[..]).unwrap();
        assert_eq!(
            p.security_header_type(),
            SecurityHeaderType::IntegrityProtectedAndCiphered
        );
        assert_eq!(p.mac(), [0x46, 0x9d, 0x6a, 0x8b]);
        assert_eq!(p.sequence_number(), 1);
        assert_eq!(p.payload(), [0x7e, 0x00, 0x43]);
        assert_eq!(p.mac_input(), [0x01, 0x7e, 0x00, 0x43]);

        let mut b = REG_COMPLETE;
        let mut w = Packet::new_checked(&mut b[..]).unwrap();
        w.set_mac([1, 2, 3, 4]);
        w.set_sequence_number(9);
        w.payload_mut()[2] = 0x55;
        assert_eq!(b[2..10], [1, 2, 3, 4, 9, 0x7e, 0x00, 0x55]);

        assert!(matches!(
            Packet::new_checked(&REG_COMPLETE[..6]),
            Err(Error::Truncated { needed: 7, got: 6 })
        ));
        assert_eq!(
            Packet::new_checked(&[0x7e, 0x00, 0, 0, 0, 0, 0][..]).err(),
            Some(Error::BadSecurityHeaderType(0))
        );
        assert_eq!(
            Packet::new_checked(&[0x2e, 0x01, 0, 0, 0, 0, 0][..]).err(),
            Some(Error::UnknownEpd(0x2e))
        );
    }
}
