//! Decoding and encoding errors, and what the peer hears about each.
//!
//! GTP-U answers very little: a broken or unknown message is silently discarded
//! (logged and counted; TS 29.281 §11 follows TS 29.060 §11.1), with one exception
//! the codec can see: an extension header the receiver must understand and does not
//! (TS 29.281 §5.2.1), which is answered with a Supported Extension Headers
//! Notification (§7.2.3). A G-PDU for a TEID without a context is answered with an
//! Error Indication (§7.3.1), but that is the UPF's decision, not a decoding error.

use crate::header::MessageType;

/// Why a GTP-U message could not be decoded or encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The datagram ended before a field that must be there: the 8-octet
    /// mandatory header, the 4 optional octets announced by E/S/PN, an extension
    /// header, an IE, or the end the Length field announces. (A datagram longer than
    /// its message is not an error: see [`Packet`](crate::Packet) on trailing octets.)
    #[error("truncated: needed {needed} octets, got {got}")]
    Truncated {
        /// Octets needed to read the field.
        needed: usize,
        /// Octets available.
        got: usize,
    },
    /// The version field is not 1. GTP-U has no Version Not Supported message
    /// (TS 29.281 Table 6.1-1 only lists it as reserved for GTP-C): the message
    /// is discarded.
    #[error("unsupported GTP version {0}")]
    UnsupportedVersion(u8),
    /// The PT bit is 0: GTP' (TS 32.295, charging), not GTP-U (TS 29.281 §5.1).
    #[error("protocol type 0 (GTP'), not GTP-U")]
    GtpPrime,
    /// An extension header with a Length of 0 (TS 29.281 §5.2.1: the length is
    /// in 4-octet units and covers the length and next-type octets, so 0 is
    /// impossible and the chain cannot be walked past it).
    #[error("extension header {header_type:#04x} with length 0")]
    BadExtensionHeader {
        /// The type of the broken extension header.
        header_type: u8,
    },
    /// An extension header whose type this node does not know and whose
    /// comprehension bits say the receiving endpoint must understand it
    /// (TS 29.281 §5.2.1). Only [`parse_gpdu`](crate::parse_gpdu) returns this:
    /// the UPF discards the G-PDU and answers with a Supported Extension Headers
    /// Notification.
    #[error("comprehension-required extension header {0:#04x} not supported")]
    UnsupportedExtensionHeader(u8),
    /// A TV-format IE (type below 128) of a type GTP-U does not define: its
    /// length cannot be known, so the rest of the message cannot be read
    /// (TS 29.281 §8.1).
    #[error("unknown TV-format IE type {0}")]
    UnknownTvIe(u8),
    /// An IE whose length its definition does not allow (a GTP-U Peer Address
    /// that is neither 4 nor 16 octets, §8.4).
    #[error("bad length in IE {ie}")]
    BadIeLength {
        /// The IE.
        ie: &'static str,
    },
    /// A mandatory IE is missing (Recovery in an Echo Response, TEID Data I or
    /// GTP-U Peer Address in an Error Indication, the Extension Header Type List
    /// in a Supported Extension Headers Notification).
    #[error("missing mandatory IE {0}")]
    MissingMandatoryIe(&'static str),
    /// [`parse_gpdu`](crate::parse_gpdu) was given a signalling message (Echo,
    /// Error Indication, End Marker…): not a fault; decode it with
    /// [`Packet::new_checked`](crate::Packet::new_checked) and
    /// [`Repr::parse`](crate::Repr::parse).
    #[error("not a G-PDU: {0:?}")]
    NotGpdu(MessageType),
    /// Encoding: the buffer is smaller than the message.
    #[error("buffer too small: needed {needed} octets, got {got}")]
    BufferTooSmall {
        /// Octets needed.
        needed: usize,
        /// Octets available.
        got: usize,
    },
    /// Encoding in place: fewer octets before the payload than the header needs.
    #[error("insufficient headroom: needed {needed} octets, got {got}")]
    InsufficientHeadroom {
        /// Octets of header to write.
        needed: usize,
        /// Octets available before the payload.
        got: usize,
    },
    /// Encoding: the message does not fit the 16-bit Length field, or a list does
    /// not fit its 8-bit length (an extension header, the Extension Header Type
    /// List).
    #[error("too long to encode: {0} octets")]
    TooLong(usize),
    /// Encoding: a QFI above 63 (it is a 6-bit field, TS 38.415 §5.5.3.3).
    #[error("QFI {0} out of range")]
    BadQfi(u8),
}

/// What a GTP-U entity does about a message that failed to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerAction {
    /// Discard the message without answering; log it and count it
    /// (TS 29.281 §11, TS 29.060 §11.1 "silently discarded").
    Discard,
    /// Discard the message and send the sender a Supported Extension Headers
    /// Notification listing the extension headers this node supports
    /// (TS 29.281 §5.2.1, §7.2.3).
    SendSupportedExtensionHeadersNotification,
    /// Not about a received message: an encoding error on this side, or
    /// [`Error::NotGpdu`] (decode it on the signalling path instead).
    None,
}

impl Error {
    /// What the peer hears about a received message that failed with this error.
    pub fn peer_action(&self) -> PeerAction {
        match self {
            Error::Truncated { .. }
            | Error::UnsupportedVersion(_)
            | Error::GtpPrime
            | Error::BadExtensionHeader { .. }
            | Error::UnknownTvIe(_)
            | Error::BadIeLength { .. }
            | Error::MissingMandatoryIe(_) => PeerAction::Discard,
            Error::UnsupportedExtensionHeader(_) => PeerAction::SendSupportedExtensionHeadersNotification,
            Error::NotGpdu(_)
            | Error::BufferTooSmall { .. }
            | Error::InsufficientHeadroom { .. }
            | Error::TooLong(_)
            | Error::BadQfi(_) => PeerAction::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_actions() {
        assert_eq!(Error::UnsupportedVersion(2).peer_action(), PeerAction::Discard);
        assert_eq!(
            Error::UnsupportedExtensionHeader(0xc3).peer_action(),
            PeerAction::SendSupportedExtensionHeadersNotification
        );
        assert_eq!(Error::NotGpdu(MessageType::EchoRequest).peer_action(), PeerAction::None);
        assert_eq!(
            Error::Truncated { needed: 8, got: 3 }.to_string(),
            "truncated: needed 8 octets, got 3"
        );
    }
}
