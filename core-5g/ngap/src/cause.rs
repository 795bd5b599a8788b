//! The NGAP Cause (TS 38.413 §9.3.1.2): the project's own enum, convertible to and
//! from the generated CHOICE.

use core::fmt;

pub use crate::tables::{CauseMisc, CauseNas, CauseProtocol, CauseRadioNetwork, CauseTransport};

/// The Cause IE: a group and a value in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// `radioNetwork`.
    RadioNetwork(CauseRadioNetwork),
    /// `transport`.
    Transport(CauseTransport),
    /// `nas`.
    Nas(CauseNas),
    /// `protocol`.
    Protocol(CauseProtocol),
    /// `misc`.
    Misc(CauseMisc),
}

impl Cause {
    /// The generated CHOICE. A value of a later release (`Unknown`) cannot be sent as
    /// this release encodes it, and becomes the `unspecified` value of its group.
    pub fn to_codec(self) -> oxirush_ngap::ngap::Cause {
        use oxirush_ngap::ngap as c;
        match self {
            Self::RadioNetwork(v) => c::Cause::radioNetwork(v.to_codec().unwrap_or(c::CauseRadioNetwork::unspecified)),
            Self::Transport(v) => c::Cause::transport(v.to_codec().unwrap_or(c::CauseTransport::unspecified)),
            Self::Nas(v) => c::Cause::nas(v.to_codec().unwrap_or(c::CauseNas::unspecified)),
            Self::Protocol(v) => c::Cause::protocol(v.to_codec().unwrap_or(c::CauseProtocol::unspecified)),
            Self::Misc(v) => c::Cause::misc(v.to_codec().unwrap_or(c::CauseMisc::unspecified)),
        }
    }

    /// The project's Cause of a generated one; `None` for a `choice-Extensions`
    /// alternative, which this release does not define.
    pub fn from_codec(cause: &oxirush_ngap::ngap::Cause) -> Option<Self> {
        use oxirush_ngap::ngap as c;
        Some(match cause {
            c::Cause::radioNetwork(v) => Self::RadioNetwork(CauseRadioNetwork::from_index(*v as u8)),
            c::Cause::transport(v) => Self::Transport(CauseTransport::from_index(*v as u8)),
            c::Cause::nas(v) => Self::Nas(CauseNas::from_index(*v as u8)),
            c::Cause::protocol(v) => Self::Protocol(CauseProtocol::from_index(*v as u8)),
            c::Cause::misc(v) => Self::Misc(CauseMisc::from_index(*v as u8)),
            _ => return None,
        })
    }
}

impl From<Cause> for oxirush_ngap::ngap::Cause {
    fn from(value: Cause) -> Self {
        value.to_codec()
    }
}

impl TryFrom<&oxirush_ngap::ngap::Cause> for Cause {
    type Error = crate::Error;
    fn try_from(value: &oxirush_ngap::ngap::Cause) -> Result<Self, Self::Error> {
        Self::from_codec(value).ok_or(crate::Error::InvalidValue {
            what: "Cause (choice extension)",
        })
    }
}

/// `group/value` in the ASN.1 names, e.g. `radioNetwork/user-inactivity`.
impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RadioNetwork(v) => write!(f, "radioNetwork/{}", v.name()),
            Self::Transport(v) => write!(f, "transport/{}", v.name()),
            Self::Nas(v) => write!(f, "nas/{}", v.name()),
            Self::Protocol(v) => write!(f, "protocol/{}", v.name()),
            Self::Misc(v) => write!(f, "misc/{}", v.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirush_ngap::ngap::{self as c, decode_open_type, encode_open_type};

    // TS 38.413 §9.3.1.2 Cause in aligned PER: a 3-bit CHOICE index (six alternatives
    // with choice-Extensions), the ENUMERATED's extension bit, then its root index.
    // radioNetwork/unspecified is `00 00` (also the codec's documented example).
    static RADIO_UNSPECIFIED: [u8; 2] = [0x00, 0x00];
    // The Cause IE value of a UE Context Release Command that Open5GS v2.8.0 sent
    // (oxirush-ngap 0.5.0 tests/fixtures/captured.tsv, captured-10,
    // `...000f40020500`): 000 0 010100 = radioNetwork/user-inactivity (20).
    static USER_INACTIVITY: [u8; 2] = [0x05, 0x00];
    // free5GC v4.2.3 UE Context Release Command (captured.tsv, captured-17,
    // `...000f400148`): 010 0 10 = nas/deregister (2).
    static NAS_DEREGISTER: [u8; 1] = [0x48];

    #[test]
    fn decode_known_bytes() {
        let cause: c::Cause = decode_open_type(&USER_INACTIVITY).unwrap();
        assert_eq!(
            Cause::from_codec(&cause),
            Some(Cause::RadioNetwork(CauseRadioNetwork::UserInactivity))
        );
        let cause: c::Cause = decode_open_type(&NAS_DEREGISTER).unwrap();
        assert_eq!(Cause::from_codec(&cause), Some(Cause::Nas(CauseNas::Deregister)));
    }

    #[test]
    fn encode_known_bytes() {
        let cause = Cause::RadioNetwork(CauseRadioNetwork::Unspecified).to_codec();
        assert_eq!(encode_open_type(&cause).unwrap().as_slice(), RADIO_UNSPECIFIED);
        let cause = Cause::Nas(CauseNas::Deregister).to_codec();
        assert_eq!(encode_open_type(&cause).unwrap().as_slice(), NAS_DEREGISTER);
        let cause = Cause::RadioNetwork(CauseRadioNetwork::UserInactivity).to_codec();
        assert_eq!(encode_open_type(&cause).unwrap().as_slice(), USER_INACTIVITY);
    }

    #[test]
    fn every_value_round_trips() {
        for i in 0..=255u8 {
            for cause in [
                Cause::RadioNetwork(CauseRadioNetwork::from_index(i)),
                Cause::Transport(CauseTransport::from_index(i)),
                Cause::Nas(CauseNas::from_index(i)),
                Cause::Protocol(CauseProtocol::from_index(i)),
                Cause::Misc(CauseMisc::from_index(i)),
            ] {
                let known = !matches!(
                    cause,
                    Cause::RadioNetwork(CauseRadioNetwork::Unknown(_))
                        | Cause::Transport(CauseTransport::Unknown(_))
                        | Cause::Nas(CauseNas::Unknown(_))
                        | Cause::Protocol(CauseProtocol::Unknown(_))
                        | Cause::Misc(CauseMisc::Unknown(_))
                );
                let back = Cause::from_codec(&cause.to_codec()).unwrap();
                if known {
                    assert_eq!(back, cause);
                }
            }
        }
    }

    #[test]
    fn display_uses_asn1_names() {
        assert_eq!(
            Cause::Protocol(CauseProtocol::AbstractSyntaxErrorFalselyConstructedMessage).to_string(),
            "protocol/abstract-syntax-error-falsely-constructed-message"
        );
        assert_eq!(
            Cause::RadioNetwork(CauseRadioNetwork::UnknownLocalUeNgapId).to_string(),
            "radioNetwork/unknown-local-UE-NGAP-ID"
        );
    }
}
