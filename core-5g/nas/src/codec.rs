//! The machinery every message shares: a checked byte reader, the traits an IE
//! value implements, the raw IE kept for unknown IEIs, and the `nas_message!`
//! macro that turns a table of IEs (as printed in TS 24.501 §8) into a struct with
//! `decode_body` / `encode_body`.
//!
//! IE formats follow TS 24.007 §11.2.1.1: type 1 (half octet), V, TV, LV, TLV,
//! LV-E and TLV-E.  For an IEI the message does not know, the length rule of
//! TS 24.007 §11.2.4 / TS 24.501 §9.1 is used: bit 8 set → the IE is one octet
//! (type 1 or type 2); high nibble 7 → TLV-E; anything else → TLV.

use crate::error::Error;

/// A cursor over received bytes. Every read is checked; nothing here can panic.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes from `start` (an earlier `pos()`) up to the current position.
    pub(crate) fn since(&self, start: usize) -> &'a [u8] {
        self.buf.get(start..self.pos).unwrap_or(&[])
    }

    pub(crate) fn peek(&self) -> Result<u8, Error> {
        self.buf.get(self.pos).copied().ok_or(Error::Truncated {
            needed: self.pos + 1,
            got: self.buf.len(),
        })
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or(Error::Truncated {
            needed: usize::MAX,
            got: self.buf.len(),
        })?;
        let s = self.buf.get(self.pos..end).ok_or(Error::Truncated {
            needed: end,
            got: self.buf.len(),
        })?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }
}

/// The value part of an IE (what follows the IEI and the length).
pub trait IeValue: Sized {
    /// Decode from exactly the value octets.
    fn decode(value: &[u8]) -> Result<Self, Error>;
    /// Append the value octets.
    fn encode(&self, out: &mut Vec<u8>);

    /// The value octets as a fresh vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

/// An IE whose value has a fixed number of octets (formats V and TV).
pub trait FixedLen {
    /// Octets of the value, without the IEI.
    const LEN: usize;
}

/// A type 1 IE value: four bits, every pattern representable (so decoding cannot
/// fail and the spare bits survive a round trip).
pub trait HalfOctet: Sized {
    /// From the low four bits of `n`.
    fn from_nibble(n: u8) -> Self;
    /// The four bits (0..=15).
    fn nibble(&self) -> u8;
}

/// Opaque octets: the value of an IE this crate keeps as bytes.
impl IeValue for Vec<u8> {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        Ok(value.to_vec())
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

/// An optional IE the message did not know (or kept because it was repeated or
/// its contents were not understood, TS 24.501 §7.6.1, §7.6.3, §7.7.2): the whole
/// IE, IEI and length included, so it re-encodes to the octets received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawIe {
    /// The whole IE as received.
    pub bytes: Vec<u8>,
}

impl RawIe {
    /// The IE identifier (for a type 1 IE, the whole octet; the IEI is its high nibble).
    pub fn iei(&self) -> u8 {
        self.bytes.first().copied().unwrap_or(0)
    }

    /// Read one IE whose format is unknown, by the IEI length rule.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<RawIe, Error> {
        let start = r.pos();
        let iei = r.u8()?;
        if iei & 0x80 != 0 {
            // type 1 / type 2: one octet
        } else if iei & 0xF0 == 0x70 {
            let n = r.u16()? as usize;
            r.take(n)?;
        } else {
            let n = r.u8()? as usize;
            r.take(n)?;
        }
        Ok(RawIe {
            bytes: r.since(start).to_vec(),
        })
    }
}

// ---------------------------------------------------------------------------
// Readers for each format, used by the message macro.

pub(crate) fn mand_v<T: IeValue + FixedLen>(r: &mut Reader<'_>, name: &'static str) -> Result<T, Error> {
    if r.is_empty() {
        return Err(Error::MissingMandatoryIe(name));
    }
    T::decode(r.take(T::LEN)?)
}

pub(crate) fn mand_lv<T: IeValue>(r: &mut Reader<'_>, name: &'static str) -> Result<T, Error> {
    if r.is_empty() {
        return Err(Error::MissingMandatoryIe(name));
    }
    let n = r.u8()? as usize;
    T::decode(r.take(n)?)
}

pub(crate) fn mand_lve<T: IeValue>(r: &mut Reader<'_>, name: &'static str) -> Result<T, Error> {
    if r.is_empty() {
        return Err(Error::MissingMandatoryIe(name));
    }
    let n = r.u16()? as usize;
    T::decode(r.take(n)?)
}

pub(crate) fn mand_lo<T: HalfOctet>(r: &mut Reader<'_>, name: &'static str) -> Result<T, Error> {
    if r.is_empty() {
        return Err(Error::MissingMandatoryIe(name));
    }
    Ok(T::from_nibble(r.peek()? & 0x0F))
}

pub(crate) fn mand_hi<T: HalfOctet>(r: &mut Reader<'_>, name: &'static str) -> Result<T, Error> {
    if r.is_empty() {
        return Err(Error::MissingMandatoryIe(name));
    }
    Ok(T::from_nibble(r.u8()? >> 4))
}

/// Outcome of reading a known optional IE: the IE's octets and its typed value, or
/// `None` when the value did not decode to something that re-encodes identically.
pub(crate) type Opt<T> = (Vec<u8>, Option<T>);

fn checked<T: IeValue>(value: &[u8]) -> Option<T> {
    let v = T::decode(value).ok()?;
    // Keep a typed value only if it gives back exactly the octets received; else the
    // IE is kept raw so that the message still re-encodes byte for byte.
    (v.to_bytes() == value).then_some(v)
}

pub(crate) fn opt_tv1<T: HalfOctet>(r: &mut Reader<'_>) -> Result<Opt<T>, Error> {
    let b = r.u8()?;
    Ok((vec![b], Some(T::from_nibble(b & 0x0F))))
}

pub(crate) fn opt_tv<T: IeValue + FixedLen>(r: &mut Reader<'_>) -> Result<Opt<T>, Error> {
    let start = r.pos();
    r.u8()?;
    let v = r.take(T::LEN)?;
    Ok((r.since(start).to_vec(), checked(v)))
}

pub(crate) fn opt_tlv<T: IeValue>(r: &mut Reader<'_>) -> Result<Opt<T>, Error> {
    let start = r.pos();
    r.u8()?;
    let n = r.u8()? as usize;
    let v = r.take(n)?;
    Ok((r.since(start).to_vec(), checked(v)))
}

pub(crate) fn opt_tlve<T: IeValue>(r: &mut Reader<'_>) -> Result<Opt<T>, Error> {
    let start = r.pos();
    r.u8()?;
    let n = r.u16()? as usize;
    let v = r.take(n)?;
    Ok((r.since(start).to_vec(), checked(v)))
}

// ---------------------------------------------------------------------------
// Writers.

pub(crate) fn put_lv<T: IeValue>(out: &mut Vec<u8>, v: &T) {
    let b = v.to_bytes();
    // An LV value longer than 255 octets cannot be sent; the length saturates and
    // the IE is cut (the types that can grow that large are TLV-E in the spec).
    let n = b.len().min(255);
    out.push(n as u8);
    out.extend_from_slice(b.get(..n).unwrap_or(&b));
}

pub(crate) fn put_lve<T: IeValue>(out: &mut Vec<u8>, v: &T) {
    let b = v.to_bytes();
    let n = b.len().min(65535);
    out.extend_from_slice(&(n as u16).to_be_bytes());
    out.extend_from_slice(b.get(..n).unwrap_or(&b));
}

/// Does an octet start the optional IE declared with `iei` in format `fmt`?
/// Type 1 IEs match on the high nibble only.
pub(crate) fn iei_matches(octet: u8, iei: u8, half: bool) -> bool {
    if half { octet & 0xF0 == iei & 0xF0 } else { octet == iei }
}

/// Code points: an enum with one variant per value TS 24.501 names and
/// `Unknown(n)` for the rest, so the wire layer never rejects a value.
pub(crate) use hexcore_wire::code_enum;

/// A code point carried in half an octet (type 1 IE).
macro_rules! half_octet_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $crate::codec::code_enum! {
            $(#[$meta])*
            pub enum $name: u8 {
                $( $(#[$vmeta])* $variant = $value, )*
            }
        }
        impl $crate::codec::HalfOctet for $name {
            fn from_nibble(n: u8) -> Self {
                $name::from(n & 0x0F)
            }
            fn nibble(&self) -> u8 {
                u8::from(*self) & 0x0F
            }
        }
    };
}
pub(crate) use half_octet_enum;

/// A code point carried in one whole octet (format V of length 1, or TV of 2).
macro_rules! octet_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $crate::codec::code_enum! {
            $(#[$meta])*
            pub enum $name: u8 {
                $( $(#[$vmeta])* $variant = $value, )*
            }
        }
        impl $crate::codec::IeValue for $name {
            fn decode(value: &[u8]) -> Result<Self, $crate::Error> {
                match value {
                    [b] => Ok($name::from(*b)),
                    _ => Err($crate::Error::BadLength { ie: stringify!($name) }),
                }
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.push(u8::from(*self));
            }
        }
        impl $crate::codec::FixedLen for $name {
            const LEN: usize = 1;
        }
    };
}
pub(crate) use octet_enum;

/// A newtype over a fixed number of octets (e.g. RAND, an AUTN, the MAC).
macro_rules! fixed_octets {
    ($(#[$meta:meta])* pub struct $name:ident([u8; $n:literal]);) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; $n]);

        impl $crate::codec::IeValue for $name {
            fn decode(value: &[u8]) -> Result<Self, $crate::Error> {
                <[u8; $n]>::try_from(value)
                    .map($name)
                    .map_err(|_| $crate::Error::BadLength { ie: stringify!($name) })
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }
        impl $crate::codec::FixedLen for $name {
            const LEN: usize = $n;
        }
    };
}
pub(crate) use fixed_octets;

/// A newtype over opaque octets of any length (IEs kept as raw typed bytes).
macro_rules! opaque_ie {
    ($(#[$meta:meta])* pub struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub Vec<u8>);

        impl $crate::codec::IeValue for $name {
            fn decode(value: &[u8]) -> Result<Self, $crate::Error> {
                Ok($name(value.to_vec()))
            }
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }
    };
}
pub(crate) use opaque_ie;

/// A half-octet IE kept as its four bits (for flags whose bits TS 24.501 defines
/// one by one; accessors are given on the type).
macro_rules! nibble_ie {
    ($(#[$meta:meta])* pub struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub u8);

        impl $crate::codec::HalfOctet for $name {
            fn from_nibble(n: u8) -> Self {
                $name(n & 0x0F)
            }
            fn nibble(&self) -> u8 {
                self.0 & 0x0F
            }
        }
    };
}
pub(crate) use nibble_ie;

/// One message: its mandatory IEs in order, then its optional IEs with their IEIs.
///
/// Mandatory formats: `V` (fixed length), `LV`, `LVE`, `Lo` / `Hi` (the low and the
/// high half of one octet; the IE listed first in the spec table sits in bits 1–4).
/// Optional formats: `TV1` (type 1), `TV` (fixed length), `TLV`, `TLVE`.
macro_rules! nas_message {
    (
        $(#[$meta:meta])*
        pub struct $name:ident : $header:ty {
            $( $(#[$mmeta:meta])* $mfield:ident : $mty:ty = $mfmt:ident, )*
        }
        optional {
            $( $(#[$ometa:meta])* $iei:literal $ofield:ident : $oty:ty = $ofmt:ident, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// The header octets that precede the message type.
            pub header: $header,
            $( $(#[$mmeta])* pub $mfield: $mty, )*
            $( $(#[$ometa])* pub $ofield: Option<$oty>, )*
            /// Optional IEs not understood here, kept whole (re-encoded last).
            pub unknown_ies: Vec<$crate::codec::RawIe>,
        }

        impl $name {
            /// The message with its mandatory IEs and no optional IE.
            pub fn new(header: $header $(, $mfield: $mty)*) -> Self {
                $name { header, $( $mfield, )* $( $ofield: None, )* unknown_ies: Vec::new() }
            }

            #[allow(unused_mut, unused_variables)]
            pub(crate) fn decode_body(
                header: $header,
                r: &mut $crate::codec::Reader<'_>,
            ) -> Result<Self, $crate::Error> {
                $( let $mfield: $mty = $crate::codec::nas_message!(@mand $mfmt, $mty, r, stringify!($mfield)); )*
                $( let mut $ofield: Option<$oty> = None; )*
                let mut unknown_ies = Vec::new();
                while !r.is_empty() {
                    let octet = r.peek()?;
                    $(
                        if $crate::codec::iei_matches(octet, $iei, $crate::codec::nas_message!(@half $ofmt)) {
                            // Framed by the declared format even when repeated (a TV IE
                            // has no length octet to go by).
                            let (bytes, v) = $crate::codec::nas_message!(@opt $ofmt, $oty, r);
                            match v {
                                Some(v) if $ofield.is_none() => $ofield = Some(v),
                                _ => unknown_ies.push($crate::codec::RawIe { bytes }),
                            }
                            continue;
                        }
                    )*
                    // TS 24.501 §7.6.1, TS 24.007 §11.2.4: an unknown IE whose IEI
                    // has bits 5-8 set to 0000 is "comprehension required".
                    if octet & 0xF0 == 0 {
                        return Err($crate::Error::ComprehensionRequired(octet));
                    }
                    unknown_ies.push($crate::codec::RawIe::read(r)?);
                }
                Ok($name { header, $( $mfield, )* $( $ofield, )* unknown_ies })
            }

            #[allow(unused_mut, unused_variables, unused_assignments)]
            pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
                let mut half: u8 = 0;
                $( $crate::codec::nas_message!(@put_mand $mfmt, &self.$mfield, out, half); )*
                $(
                    if let Some(v) = &self.$ofield {
                        $crate::codec::nas_message!(@put_opt $ofmt, $iei, v, out);
                    }
                )*
                for ie in &self.unknown_ies {
                    out.extend_from_slice(&ie.bytes);
                }
            }
        }
    };

    (@mand V, $ty:ty, $r:ident, $n:expr) => { $crate::codec::mand_v::<$ty>($r, $n)? };
    (@mand LV, $ty:ty, $r:ident, $n:expr) => { $crate::codec::mand_lv::<$ty>($r, $n)? };
    (@mand LVE, $ty:ty, $r:ident, $n:expr) => { $crate::codec::mand_lve::<$ty>($r, $n)? };
    (@mand Lo, $ty:ty, $r:ident, $n:expr) => { $crate::codec::mand_lo::<$ty>($r, $n)? };
    (@mand Hi, $ty:ty, $r:ident, $n:expr) => { $crate::codec::mand_hi::<$ty>($r, $n)? };

    (@half TV1) => { true };
    (@half $other:ident) => { false };

    (@opt TV1, $ty:ty, $r:ident) => { $crate::codec::opt_tv1::<$ty>($r)? };
    (@opt TV, $ty:ty, $r:ident) => { $crate::codec::opt_tv::<$ty>($r)? };
    (@opt TLV, $ty:ty, $r:ident) => { $crate::codec::opt_tlv::<$ty>($r)? };
    (@opt TLVE, $ty:ty, $r:ident) => { $crate::codec::opt_tlve::<$ty>($r)? };

    (@put_mand V, $v:expr, $out:ident, $half:ident) => { $crate::codec::IeValue::encode($v, $out) };
    (@put_mand LV, $v:expr, $out:ident, $half:ident) => { $crate::codec::put_lv($out, $v) };
    (@put_mand LVE, $v:expr, $out:ident, $half:ident) => { $crate::codec::put_lve($out, $v) };
    (@put_mand Lo, $v:expr, $out:ident, $half:ident) => {
        $half = $crate::codec::HalfOctet::nibble($v) & 0x0F
    };
    (@put_mand Hi, $v:expr, $out:ident, $half:ident) => {
        $out.push($half | ($crate::codec::HalfOctet::nibble($v) << 4))
    };

    (@put_opt TV1, $iei:literal, $v:expr, $out:ident) => {
        $out.push(($iei & 0xF0) | ($crate::codec::HalfOctet::nibble($v) & 0x0F))
    };
    (@put_opt TV, $iei:literal, $v:expr, $out:ident) => {{
        $out.push($iei);
        $crate::codec::IeValue::encode($v, $out);
    }};
    (@put_opt TLV, $iei:literal, $v:expr, $out:ident) => {{
        $out.push($iei);
        $crate::codec::put_lv($out, $v);
    }};
    (@put_opt TLVE, $iei:literal, $v:expr, $out:ident) => {{
        $out.push($iei);
        $crate::codec::put_lve($out, $v);
    }};
}
pub(crate) use nas_message;

/// Digits in TBCD (TS 24.008 §10.5.1.4 style: two digits an octet, low nibble
/// first, 0xF filler in the last high nibble). `None` unless canonical.
pub(crate) fn tbcd_decode(octets: &[u8]) -> Option<String> {
    let mut s = String::with_capacity(octets.len() * 2);
    let n = octets.len();
    for (i, b) in octets.iter().enumerate() {
        let lo = b & 0x0F;
        let hi = b >> 4;
        if lo > 9 {
            return None;
        }
        s.push(char::from(b'0' + lo));
        if hi == 0x0F && i + 1 == n {
            break;
        }
        if hi > 9 {
            return None;
        }
        s.push(char::from(b'0' + hi));
    }
    Some(s)
}

/// Inverse of [`tbcd_decode`]; non-digits are written as 0.
pub(crate) fn tbcd_encode(digits: &str, out: &mut Vec<u8>) {
    let d: Vec<u8> = digits
        .bytes()
        .map(|c| if c.is_ascii_digit() { c - b'0' } else { 0 })
        .collect();
    for pair in d.chunks(2) {
        let lo = pair.first().copied().unwrap_or(0x0F);
        let hi = pair.get(1).copied().unwrap_or(0x0F);
        out.push(lo | (hi << 4));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_never_panics_past_the_end() {
        let mut r = Reader::new(&[1, 2]);
        assert_eq!(r.u16().unwrap(), 0x0102);
        assert!(matches!(r.u8(), Err(Error::Truncated { needed: 3, got: 2 })));
        assert!(r.take(usize::MAX).is_err());
    }

    #[test]
    fn raw_ie_length_rules() {
        // type 1, TLV-E, TLV (TS 24.007 §11.2.4)
        let bytes = [0xE1, 0x71, 0x00, 0x01, 0xAA, 0x2B, 0x01, 0xBB];
        let mut r = Reader::new(&bytes);
        assert_eq!(RawIe::read(&mut r).unwrap().bytes, vec![0xE1]);
        assert_eq!(RawIe::read(&mut r).unwrap().bytes, vec![0x71, 0, 1, 0xAA]);
        assert_eq!(RawIe::read(&mut r).unwrap().bytes, vec![0x2B, 1, 0xBB]);
        assert!(r.is_empty());
        assert!(RawIe::read(&mut Reader::new(&[0x2B, 0x05, 0])).is_err());
    }

    #[test]
    fn tbcd() {
        assert_eq!(tbcd_decode(&[0x21, 0xF3]).as_deref(), Some("123"));
        assert_eq!(tbcd_decode(&[0x21, 0x43]).as_deref(), Some("1234"));
        assert_eq!(tbcd_decode(&[0xF1, 0x43]), None);
        let mut v = Vec::new();
        tbcd_encode("123", &mut v);
        assert_eq!(v, [0x21, 0xF3]);
    }
}
