//! The machinery every IE and message shares: a checked reader, a [`Sink`] that
//! encoders write to (a vector, a fixed buffer or a mere counter, so that
//! `buffer_len()` and `emit()` can never disagree), the [`IeValue`] trait, and the
//! `ie_group!` / `int_ie!` / `flags_ie!` macros that turn the spec's IE tables into
//! structs (code points use hexcore-wire's `code_enum!`, shared with the other codecs).

use crate::error::Error;
use crate::ie::{IeIter, IeType, RawIe};

/// A cursor over received octets. Every read is checked; nothing here can panic.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    ie: IeType,
}

impl<'a> Reader<'a> {
    /// A reader over the value of IE `ie` (named in the errors it returns).
    pub(crate) fn new(buf: &'a [u8], ie: IeType) -> Self {
        Reader { buf, pos: 0, ie }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or(Error::BadLength { ie: self.ie })?;
        let s = self.buf.get(self.pos..end).ok_or(Error::BadLength { ie: self.ie })?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u24(&mut self) -> Result<u32, Error> {
        let [a, b, c] = self.array()?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u40(&mut self) -> Result<u64, Error> {
        let [a, b, c, d, e] = self.array()?;
        Ok(u64::from_be_bytes([0, 0, 0, a, b, c, d, e]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn ipv4(&mut self) -> Result<std::net::Ipv4Addr, Error> {
        Ok(std::net::Ipv4Addr::from(self.array::<4>()?))
    }

    pub(crate) fn ipv6(&mut self) -> Result<std::net::Ipv6Addr, Error> {
        Ok(std::net::Ipv6Addr::from(self.array::<16>()?))
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }

    /// The value must end here: a fixed-length IE with extra octets is accepted
    /// (TS 29.244 §8.1.1: a receiver ignores octets beyond those it knows), so this
    /// only exists to say so in one place.
    pub(crate) fn ignore_rest(&mut self) {
        self.pos = self.buf.len();
    }
}

/// Where encoders write: a `Vec<u8>`, a fixed buffer, or a [`Counter`] that only
/// adds up lengths. One encoder per type serves all three, so the length that
/// `buffer_len()` reports is the length `emit()` writes.
pub trait Sink {
    /// Append octets.
    fn put(&mut self, bytes: &[u8]);

    /// Append one octet.
    fn put_u8(&mut self, v: u8) {
        self.put(&[v]);
    }
    /// Append a big-endian `u16`.
    fn put_u16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }
    /// Append the low 24 bits of `v`, big-endian.
    fn put_u24(&mut self, v: u32) {
        self.put(&v.to_be_bytes()[1..]);
    }
    /// Append a big-endian `u32`.
    fn put_u32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }
    /// Append the low 40 bits of `v`, big-endian (bit rates, TS 29.244 §8.2.8).
    fn put_u40(&mut self, v: u64) {
        self.put(&v.to_be_bytes()[3..]);
    }
    /// Append a big-endian `u64`.
    fn put_u64(&mut self, v: u64) {
        self.put(&v.to_be_bytes());
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A [`Sink`] that only counts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counter(pub usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// A [`Sink`] over a fixed buffer; octets past its end are counted, not written.
#[derive(Debug)]
pub(crate) struct SliceSink<'a> {
    buf: &'a mut [u8],
    pub(crate) pos: usize,
}

impl<'a> SliceSink<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        SliceSink { buf, pos: 0 }
    }
}

impl Sink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(bytes);
        }
        self.pos = end;
    }
}

/// The value part of an IE (what follows type and length; for a grouped IE, the
/// embedded IEs).
pub trait IeValue: Sized {
    /// Decode from exactly the value octets of an IE of type `ie`.
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error>;
    /// Write the value octets.
    fn encode<S: Sink>(&self, out: &mut S);

    /// Octets of the value.
    fn value_len(&self) -> usize {
        let mut c = Counter(0);
        self.encode(&mut c);
        c.0
    }

    /// The value octets as a fresh vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.value_len());
        self.encode(&mut v);
        v
    }
}

/// Opaque octets: the value of an IE this crate keeps undecoded (Load Control
/// Information, Overload Control Information, flags without a type of their own).
impl IeValue for Vec<u8> {
    fn decode(value: &[u8], _ie: IeType) -> Result<Self, Error> {
        Ok(value.to_vec())
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put(self);
    }
}

/// Write a whole IE: type, length, value (TS 29.244 §8.1.1). A value longer than
/// 65535 octets cannot be expressed; its length is clamped (and the message then
/// fails to decode at the peer) — builders never produce one.
pub fn write_ie<S: Sink, V: IeValue>(out: &mut S, ie: IeType, value: &V) {
    out.put_u16(ie.value());
    out.put_u16(u16::try_from(value.value_len()).unwrap_or(u16::MAX));
    value.encode(out);
}

/// Decode one typed IE, mapping a failure to the IE's type.
pub(crate) fn decode_ie<V: IeValue>(raw: &crate::ie::IeRef<'_>) -> Result<V, Error> {
    V::decode(raw.value, raw.ie_type)
}

/// Walk the IEs of `bytes`, handing each to `accept`, which returns `false` for IEs
/// it does not know; those are kept raw in `unknown`.
pub(crate) fn walk_ies<'a>(
    bytes: &'a [u8],
    unknown: &mut Vec<RawIe>,
    mut accept: impl FnMut(&crate::ie::IeRef<'a>) -> Result<bool, Error>,
) -> Result<(), Error> {
    for ie in IeIter::new(bytes) {
        let ie = ie?;
        if !accept(&ie)? {
            unknown.push(ie.to_owned());
        }
    }
    Ok(())
}

/// A code point enum with an `Unknown(n)` variant: the wire layer never rejects a
/// value it does not know.
pub(crate) use hexcore_wire::code_enum;

/// The Rust type of a field of an IE table: `M` mandatory, `O` optional (at most one),
/// `V` any number, `MV` one or more.
macro_rules! field_ty {
    (M $t:ty) => { $t };
    (O $t:ty) => { Option<$t> };
    (V $t:ty) => { Vec<$t> };
    (MV $t:ty) => { Vec<$t> };
}
pub(crate) use field_ty;

/// The decoder's accumulator for one field.
macro_rules! field_slot {
    (M $t:ty) => { Option<$t> };
    (O $t:ty) => { Option<$t> };
    (V $t:ty) => { Vec<$t> };
    (MV $t:ty) => { Vec<$t> };
}
pub(crate) use field_slot;

/// Take one received IE into a field's accumulator; `false` when the field is full
/// (a repeated single IE goes to the unknown list, TS 29.244 §7.6.3 style leniency).
macro_rules! field_accept {
    (M, $slot:ident, $raw:ident) => {
        if $slot.is_none() {
            $slot = Some($crate::codec::decode_ie($raw)?);
            true
        } else {
            false
        }
    };
    (O, $slot:ident, $raw:ident) => {
        $crate::codec::field_accept!(M, $slot, $raw)
    };
    (V, $slot:ident, $raw:ident) => {{
        $slot.push($crate::codec::decode_ie($raw)?);
        true
    }};
    (MV, $slot:ident, $raw:ident) => {
        $crate::codec::field_accept!(V, $slot, $raw)
    };
}
pub(crate) use field_accept;

/// Turn an accumulator into the field, or say which mandatory IE is missing.
macro_rules! field_finish {
    (M, $slot:ident, $code:expr) => {
        $slot.ok_or($crate::error::Error::MissingMandatoryIe { ie: $code })?
    };
    (O, $slot:ident, $code:expr) => {
        $slot
    };
    (V, $slot:ident, $code:expr) => {
        $slot
    };
    (MV, $slot:ident, $code:expr) => {
        if $slot.is_empty() {
            return Err($crate::error::Error::MissingMandatoryIe { ie: $code });
        } else {
            $slot
        }
    };
}
pub(crate) use field_finish;

/// Write a field's IEs.
macro_rules! field_encode {
    (M, $out:ident, $code:expr, $v:expr) => {
        $crate::codec::write_ie($out, $code, $v)
    };
    (O, $out:ident, $code:expr, $v:expr) => {
        if let Some(v) = $v {
            $crate::codec::write_ie($out, $code, v)
        }
    };
    (V, $out:ident, $code:expr, $v:expr) => {
        for v in $v {
            $crate::codec::write_ie($out, $code, v)
        }
    };
    (MV, $out:ident, $code:expr, $v:expr) => {
        $crate::codec::field_encode!(V, $out, $code, $v)
    };
}
pub(crate) use field_encode;

/// A list of IEs as printed in a TS 29.244 table, turned into a struct whose value
/// is the concatenated IEs: a grouped IE (§8.2.1 and tables 7.5.x) or the body of a
/// message. IEs the table does not name are kept raw in `unknown_ies` and written
/// after the named ones, so a message whose IEs came in table order re-encodes to
/// the octets received.
macro_rules! ie_group {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $kind:ident $ty:ty = $code:ident,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $crate::codec::field_ty!($kind $ty),
            )*
            /// IEs not named above (vendor-specific, newer releases, repeated
            /// single IEs), as received, in order.
            pub unknown_ies: Vec<$crate::ie::RawIe>,
        }

        $crate::codec::group_new!(@acc $name [] [] $($kind $field $ty ;)*);

        impl $name {
            $( $crate::codec::group_setter!($kind $field $ty); )*
        }

        impl $crate::codec::IeValue for $name {
            #[allow(unused_mut, unused_variables)]
            fn decode(value: &[u8], _ie: $crate::ie::IeType) -> Result<Self, $crate::error::Error> {
                $( let mut $field: $crate::codec::field_slot!($kind $ty) = Default::default(); )*
                let mut unknown_ies = Vec::new();
                $crate::codec::walk_ies(value, &mut unknown_ies, |raw| {
                    Ok(match raw.ie_type {
                        $( $crate::ie::IeType::$code if raw.enterprise_id.is_none() => {
                            $crate::codec::field_accept!($kind, $field, raw)
                        } )*
                        _ => false,
                    })
                })?;
                Ok($name {
                    $( $field: $crate::codec::field_finish!($kind, $field, $crate::ie::IeType::$code), )*
                    unknown_ies,
                })
            }

            #[allow(unused_variables)]
            fn encode<S: $crate::codec::Sink>(&self, out: &mut S) {
                $( $crate::codec::field_encode!($kind, out, $crate::ie::IeType::$code, &self.$field); )*
                for ie in &self.unknown_ies {
                    ie.encode(out);
                }
            }
        }
    };
}
pub(crate) use ie_group;

/// `new()` for an [`ie_group!`] struct: the mandatory IEs as parameters, the rest
/// absent (a tt-muncher, as a parameter list cannot come from a macro call).
macro_rules! group_new {
    (@acc $name:ident [$($params:tt)*] [$($inits:tt)*]) => {
        impl $name {
            /// With the mandatory IEs; every optional IE absent.
            #[allow(clippy::too_many_arguments, clippy::new_without_default)]
            pub fn new($($params)*) -> Self {
                $name { $($inits)* unknown_ies: Vec::new() }
            }
        }
    };
    (@acc $name:ident [$($params:tt)*] [$($inits:tt)*] M $field:ident $ty:ty ; $($rest:tt)*) => {
        $crate::codec::group_new!(@acc $name [$($params)* $field: $ty,] [$($inits)* $field,] $($rest)*);
    };
    (@acc $name:ident [$($params:tt)*] [$($inits:tt)*] MV $field:ident $ty:ty ; $($rest:tt)*) => {
        $crate::codec::group_new!(@acc $name [$($params)* $field: Vec<$ty>,] [$($inits)* $field,] $($rest)*);
    };
    (@acc $name:ident [$($params:tt)*] [$($inits:tt)*] O $field:ident $ty:ty ; $($rest:tt)*) => {
        $crate::codec::group_new!(@acc $name [$($params)*] [$($inits)* $field: None,] $($rest)*);
    };
    (@acc $name:ident [$($params:tt)*] [$($inits:tt)*] V $field:ident $ty:ty ; $($rest:tt)*) => {
        $crate::codec::group_new!(@acc $name [$($params)*] [$($inits)* $field: Vec::new(),] $($rest)*);
    };
}
pub(crate) use group_new;

/// Builder-style setters: `.far_id(FarId(1))` sets an optional IE,
/// `.urr_ids([UrrId(1), UrrId(2)])` appends to a repeated one.
macro_rules! group_setter {
    (M $field:ident $ty:ty) => {};
    (O $field:ident $ty:ty) => {
        #[doc = concat!("With `", stringify!($field), "` set.")]
        #[must_use]
        pub fn $field(mut self, v: $ty) -> Self {
            self.$field = Some(v);
            self
        }
    };
    (V $field:ident $ty:ty) => {
        #[doc = concat!("With these appended to `", stringify!($field), "`.")]
        #[must_use]
        pub fn $field(mut self, v: impl IntoIterator<Item = $ty>) -> Self {
            self.$field.extend(v);
            self
        }
    };
    (MV $field:ident $ty:ty) => {
        $crate::codec::group_setter!(V $field $ty);
    };
}
pub(crate) use group_setter;

/// An IE whose value is one unsigned integer (IDs, times, counters).
macro_rules! int_ie {
    ($(#[$meta:meta])* pub struct $name:ident($t:ty) = $read:ident / $write:ident;) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub $t);

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        impl $crate::codec::IeValue for $name {
            fn decode(value: &[u8], ie: $crate::ie::IeType) -> Result<Self, $crate::error::Error> {
                let mut r = $crate::codec::Reader::new(value, ie);
                let v = r.$read()?;
                r.ignore_rest();
                Ok($name(v))
            }
            fn encode<S: $crate::codec::Sink>(&self, out: &mut S) {
                out.$write(self.0);
            }
        }
    };
}
pub(crate) use int_ie;

/// An IE that is a bit string of flags over `min..=max` octets (octet 5 in the low
/// byte of the value). The number of octets received is kept, so a Rel-15 peer's
/// shorter form re-encodes as it came.
macro_rules! flags_ie {
    (
        $(#[$meta:meta])*
        pub struct $name:ident: $t:ty, octets $min:literal..=$max:literal, default $def:literal {
            $( $(#[$cmeta:meta])* const $flag:ident = $bit:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name {
            /// The flags: octet 5 is bits 0–7, octet 6 bits 8–15, and so on.
            pub bits: $t,
            /// Octets on the wire.
            pub octets: u8,
        }

        impl $name {
            $( $(#[$cmeta])* pub const $flag: $t = $bit; )*

            /// These flags, in the default width.
            pub const fn new(bits: $t) -> Self {
                $name { bits, octets: $def }
            }

            /// No flag set.
            pub const fn empty() -> Self {
                $name::new(0)
            }

            /// Is every flag of `flag` set?
            pub const fn contains(&self, flag: $t) -> bool {
                self.bits & flag == flag
            }

            /// Is any flag of `flags` set?
            pub const fn intersects(&self, flags: $t) -> bool {
                self.bits & flags != 0
            }

            /// Is no flag set?
            pub const fn is_empty(&self) -> bool {
                self.bits == 0
            }

            /// Set the flags of `flags`.
            pub fn insert(&mut self, flags: $t) {
                self.bits |= flags;
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new(0)
            }
        }

        impl $crate::codec::IeValue for $name {
            fn decode(value: &[u8], ie: $crate::ie::IeType) -> Result<Self, $crate::error::Error> {
                if value.len() < $min {
                    return Err($crate::error::Error::BadLength { ie });
                }
                let octets = value.len().min($max);
                let mut bits: $t = 0;
                for (i, b) in value.iter().take(octets).enumerate() {
                    bits |= <$t>::from(*b) << (8 * i);
                }
                // `octets` ≤ $max ≤ 8, so the cast cannot truncate.
                Ok($name { bits, octets: octets as u8 })
            }
            fn encode<S: $crate::codec::Sink>(&self, out: &mut S) {
                let n = usize::from(self.octets).clamp($min, $max);
                for i in 0..n {
                    out.put_u8((self.bits >> (8 * i)) as u8);
                }
            }
        }
    };
}
pub(crate) use flags_ie;
