//! What hexcore's wire codecs (NAS, GTP-U, PFCP, SCTP, captures) share, and nothing
//! else: no dependency, no I/O, no tokio.
//!
//! [`code_enum!`] declares a code point — a message type, an IE type, a cause — as an
//! enum with one variant per value the specification names and `Unknown(n)` for every
//! other value, so that the wire layer never rejects a value it does not know and
//! re-encodes it as it came; the logic above decides what an unknown value means.
//!
//! ```
//! hexcore_wire::code_enum! {
//!     /// GTP-U message type (TS 29.281 §6.1).
//!     pub enum MessageType: u8 {
//!         /// Echo Request.
//!         EchoRequest = 1,
//!         /// G-PDU.
//!         GPdu = 255,
//!     }
//! }
//! assert_eq!(MessageType::from(255), MessageType::GPdu);
//! assert_eq!(MessageType::from(7), MessageType::Unknown(7));
//! assert_eq!(MessageType::Unknown(7).value(), 7);
//! assert_eq!(u8::from(MessageType::EchoRequest), 1);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// A code point enum over an unsigned integer `repr` (`u8`, `u16`, `u32`): one variant
/// per named value, `Unknown(repr)` for the rest, `From` both ways and `value()`.
///
/// Two names for one value are refused at compile time (unreachable pattern), so the
/// conversion is a bijection: `Enum::from(v).value() == v` for every `v`.
#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this crate does not name, kept as it came.
            Unknown($repr),
        }

        impl ::core::convert::From<$repr> for $name {
            #[deny(unreachable_patterns)]
            fn from(v: $repr) -> Self {
                match v {
                    $( $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }
        }

        impl ::core::convert::From<$name> for $repr {
            fn from(v: $name) -> $repr {
                match v {
                    $( $name::$variant => $value, )*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl $name {
            /// The value on the wire.
            $vis fn value(self) -> $repr {
                <$repr>::from(self)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    code_enum! {
        /// An octet code point, e.g. PFCP Cause (TS 29.244 §8.2.1).
        pub enum Cause: u8 {
            /// Request accepted.
            RequestAccepted = 1,
            /// Request rejected.
            RequestRejected = 64,
        }
    }

    code_enum! {
        /// A two-octet code point, e.g. an SCTP error cause (RFC 9260 §3.3.10).
        enum CauseCode: u16 {
            /// Invalid Stream Identifier.
            InvalidStreamIdentifier = 1,
            /// User-Initiated Abort.
            UserInitiatedAbort = 12,
            /// A high value, to see the repr is not truncated.
            High = 0xC000,
        }
    }

    #[test]
    fn named_values_both_ways() {
        assert_eq!(Cause::from(1), Cause::RequestAccepted);
        assert_eq!(Cause::RequestRejected.value(), 64);
        assert_eq!(CauseCode::from(12), CauseCode::UserInitiatedAbort);
        assert_eq!(u16::from(CauseCode::High), 0xC000);
    }

    #[test]
    fn unknown_values_are_kept_as_they_came() {
        assert_eq!(Cause::from(2), Cause::Unknown(2));
        assert_eq!(CauseCode::from(0xC001), CauseCode::Unknown(0xC001));
        assert_eq!(CauseCode::Unknown(0xC001).value(), 0xC001);
    }

    #[test]
    fn every_octet_round_trips() {
        for v in 0..=u8::MAX {
            assert_eq!(Cause::from(v).value(), v);
        }
        for v in 0..=u16::MAX {
            assert_eq!(CauseCode::from(v).value(), v);
        }
    }
}
