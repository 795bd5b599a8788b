//! Information elements of the GTP-U signalling messages (TS 29.281 §8).
//!
//! Types below 128 are TV with a length fixed by the type (Recovery: 1 octet,
//! TEID Data I: 4); types from 128 are TLV with a 2-octet length, except the
//! Extension Header Type List whose length is 1 octet (§8.5; Wireshark reads it
//! the same way).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::Error;

crate::code_enum! {
    /// Information element type (TS 29.281 §8.1, Table 8.1-1).
    pub enum IeType: u8 {
        /// Recovery (§8.2): the restart counter, TV, 1 octet.
        Recovery = 14,
        /// Tunnel Endpoint Identifier Data I (§8.3): TV, 4 octets.
        TeidDataI = 16,
        /// GTP-U Peer Address (§8.4): TLV, an IPv4 or IPv6 address.
        GtpuPeerAddress = 133,
        /// Extension Header Type List (§8.5): type, 1-octet length, the types.
        ExtensionHeaderTypeList = 141,
        /// Private Extension (§8.6): TLV, enterprise id then value.
        PrivateExtension = 255,
    }
}

/// The value length of a TV-format IE, known from its type alone.
fn tv_len(ie_type: u8) -> Option<usize> {
    match IeType::from(ie_type) {
        IeType::Recovery => Some(1),
        IeType::TeidDataI => Some(4),
        _ => None,
    }
}

/// Octets of the type and length fields of an IE of this type.
fn head_len(ie_type: IeType) -> usize {
    match ie_type.value() {
        t if t < 128 => 1,
        141 => 2,
        _ => 3,
    }
}

/// One IE as received: type and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ie<'a> {
    /// The IE type.
    pub ie_type: IeType,
    /// The value, without type and length.
    pub value: &'a [u8],
}

impl<'a> Ie<'a> {
    /// An IE of this type and value.
    pub fn new(ie_type: IeType, value: &'a [u8]) -> Ie<'a> {
        Ie { ie_type, value }
    }

    /// Octets on the wire.
    pub fn buffer_len(&self) -> usize {
        head_len(self.ie_type) + self.value.len()
    }

    /// The Private Extension's enterprise identifier and value (§8.6).
    pub fn private_extension(&self) -> Option<(u16, &'a [u8])> {
        match (self.ie_type, self.value) {
            (IeType::PrivateExtension, [a, b, value @ ..]) => Some((u16::from_be_bytes([*a, *b]), value)),
            _ => None,
        }
    }

    /// Can it be encoded: does its value fit its length field?
    pub(crate) fn check_encodable(&self) -> Result<(), Error> {
        let max = match head_len(self.ie_type) {
            1 => tv_len(self.ie_type.value()).unwrap_or(usize::MAX),
            2 => usize::from(u8::MAX),
            _ => usize::from(u16::MAX),
        };
        if self.value.len() > max {
            return Err(Error::TooLong(self.value.len()));
        }
        Ok(())
    }

    /// Write type, length and value into `w`.
    pub(crate) fn emit(&self, w: &mut crate::message::Writer<'_>) {
        w.u8(self.ie_type.value());
        match head_len(self.ie_type) {
            1 => {}
            2 => w.u8(u8::try_from(self.value.len()).unwrap_or(u8::MAX)),
            _ => w.u16(u16::try_from(self.value.len()).unwrap_or(u16::MAX)),
        }
        w.put(self.value);
    }
}

/// The IEs of a message body, in order; stops after the first broken one.
#[derive(Debug, Clone)]
pub struct Ies<'a> {
    buf: &'a [u8],
    pos: usize,
    broken: bool,
}

impl<'a> Ies<'a> {
    /// The IEs in `body` (a signalling message's payload).
    pub fn new(body: &'a [u8]) -> Ies<'a> {
        Ies {
            buf: body,
            pos: 0,
            broken: false,
        }
    }

    fn read(&mut self) -> Result<Ie<'a>, Error> {
        let t = self.buf[self.pos];
        let (head, len) = match t {
            t if t < 128 => (1, tv_len(t).ok_or(Error::UnknownTvIe(t))?),
            141 => (2, usize::from(*self.at(self.pos + 1)?)),
            _ => {
                let (a, b) = (*self.at(self.pos + 1)?, *self.at(self.pos + 2)?);
                (3, usize::from(u16::from_be_bytes([a, b])))
            }
        };
        let start = self.pos + head;
        let end = start + len;
        let value = self.buf.get(start..end).ok_or(Error::Truncated {
            needed: end,
            got: self.buf.len(),
        })?;
        self.pos = end;
        Ok(Ie {
            ie_type: IeType::from(t),
            value,
        })
    }

    fn at(&self, i: usize) -> Result<&u8, Error> {
        self.buf.get(i).ok_or(Error::Truncated {
            needed: i + 1,
            got: self.buf.len(),
        })
    }
}

impl<'a> Iterator for Ies<'a> {
    type Item = Result<Ie<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.broken || self.pos >= self.buf.len() {
            return None;
        }
        let ie = self.read();
        self.broken = ie.is_err();
        Some(ie)
    }
}

impl core::iter::FusedIterator for Ies<'_> {}

/// The GTP-U Peer Address value: 4 octets IPv4, 16 octets IPv6 (§8.4).
pub(crate) fn peer_address(value: &[u8]) -> Result<IpAddr, Error> {
    if let Ok(v4) = <[u8; 4]>::try_from(value) {
        return Ok(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    if let Ok(v6) = <[u8; 16]>::try_from(value) {
        return Ok(IpAddr::V6(Ipv6Addr::from(v6)));
    }
    Err(Error::BadIeLength {
        ie: "GTP-U Peer Address",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The IEs of go-gtp's (MIT) Error Indication test, gtpv1/message/error-indication_test.go:
    // TEID Data I 0xdeadbeef, GTP-U Peer Address 1.1.1.1.
    static GO_GTP_ERROR_INDICATION_IES: [u8; 12] =
        [0x10, 0xde, 0xad, 0xbe, 0xef, 0x85, 0x00, 0x04, 0x01, 0x01, 0x01, 0x01];

    #[test]
    fn decode_ies() {
        let ies: Vec<_> = Ies::new(&GO_GTP_ERROR_INDICATION_IES).map(|i| i.unwrap()).collect();
        assert_eq!(ies.len(), 2);
        assert_eq!(ies[0], Ie::new(IeType::TeidDataI, &[0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(ies[1].ie_type, IeType::GtpuPeerAddress);
        assert_eq!(peer_address(ies[1].value), Ok(IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1))));
        assert_eq!(
            ies.iter().map(Ie::buffer_len).sum::<usize>(),
            GO_GTP_ERROR_INDICATION_IES.len()
        );
    }

    #[test]
    fn private_extension_and_type_list() {
        // TS 29.281 §8.6: type 255, length 4, enterprise 10415 (3GPP), value 0xbeef
        let b = [0xff, 0x00, 0x04, 0x28, 0xaf, 0xbe, 0xef, 0x8d, 0x02, 0x85, 0x40];
        let ies: Vec<_> = Ies::new(&b).map(|i| i.unwrap()).collect();
        assert_eq!(ies[0].private_extension(), Some((10415, &[0xbe, 0xef][..])));
        assert_eq!(ies[1], Ie::new(IeType::ExtensionHeaderTypeList, &[0x85, 0x40]));
        let mut out = vec![0; b.len()];
        let mut w = crate::message::Writer::new(&mut out);
        ies.iter().for_each(|ie| ie.emit(&mut w));
        assert_eq!(out, b);
    }

    #[test]
    fn broken_ies() {
        for n in 1..GO_GTP_ERROR_INDICATION_IES.len() {
            let r: Result<Vec<_>, _> = Ies::new(&GO_GTP_ERROR_INDICATION_IES[..n]).collect();
            if n != 5 {
                assert!(matches!(r, Err(Error::Truncated { .. })), "{n}");
            }
        }
        let r: Result<Vec<_>, _> = Ies::new(&[0x0e, 0x00, 0x01, 0x00]).collect();
        assert_eq!(r, Err(Error::UnknownTvIe(1)));
        assert!(peer_address(&[1, 2, 3]).is_err());
        // stops after the first error
        assert_eq!(Ies::new(&[0x02, 0x0e, 0x00]).count(), 1);
    }
}
