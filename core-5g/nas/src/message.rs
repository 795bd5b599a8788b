//! The plain NAS message: extended protocol discriminator, the header octets of
//! its protocol, the message type (TS 24.501 §9.1.1, §9.7), then the IEs.

use crate::codec::Reader;
use crate::error::Error;
use crate::header::Epd;
use crate::ie::PayloadContainerType;
use crate::mm::*;
use crate::sm::*;

macro_rules! messages {
    (
        mm { $( $mvar:ident = $mcode:literal, $mname:literal; )* }
        sm { $( $svar:ident = $scode:literal, $sname:literal; )* }
    ) => {
        crate::codec::code_enum! {
            /// Message type (TS 24.501 §9.7, Tables 9.7.1 and 9.7.2).
            pub enum MessageType: u8 {
                $( #[doc = $mname] $mvar = $mcode, )*
                $( #[doc = $sname] $svar = $scode, )*
            }
        }

        /// A plain 5GMM or 5GSM message.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Message {
            $( #[doc = $mname] $mvar($mvar), )*
            $( #[doc = $sname] $svar($svar), )*
        }

        impl Message {
            /// The message type.
            pub fn message_type(&self) -> MessageType {
                match self {
                    $( Message::$mvar(_) => MessageType::$mvar, )*
                    $( Message::$svar(_) => MessageType::$svar, )*
                }
            }

            /// The message's name as TS 24.501 §8 writes it.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Message::$mvar(_) => $mname, )*
                    $( Message::$svar(_) => $sname, )*
                }
            }

            /// 5GMM (EPD 0x7E) or 5GSM (EPD 0x2E).
            pub fn epd(&self) -> Epd {
                match self {
                    $( Message::$mvar(_) => Epd::MobilityManagement, )*
                    $( Message::$svar(_) => Epd::SessionManagement, )*
                }
            }

            /// For a 5GSM message, its PDU session identity and PTI.
            pub fn sm_header(&self) -> Option<SmHeader> {
                match self {
                    $( Message::$svar(m) => Some(m.header), )*
                    _ => None,
                }
            }

            fn decode_mm(header: MmHeader, mt: u8, r: &mut Reader<'_>) -> Result<Message, Error> {
                match mt {
                    $( $mcode => Ok(Message::$mvar($mvar::decode_body(header, r)?)), )*
                    other => Err(Error::UnknownMessageType(other)),
                }
            }

            fn decode_sm(header: SmHeader, mt: u8, r: &mut Reader<'_>) -> Result<Message, Error> {
                match mt {
                    $( $scode => Ok(Message::$svar($svar::decode_body(header, r)?)), )*
                    other => Err(Error::UnknownMessageType(other)),
                }
            }

            /// Append the encoded message to `out`.
            pub fn encode_into(&self, out: &mut Vec<u8>) {
                match self {
                    $( Message::$mvar(m) => {
                        out.push(Epd::MobilityManagement.value());
                        out.push(((m.header.spare & 0x0F) << 4) | (m.header.security_header_type & 0x0F));
                        out.push($mcode);
                        m.encode_body(out);
                    } )*
                    $( Message::$svar(m) => {
                        out.push(Epd::SessionManagement.value());
                        out.push(m.header.pdu_session_id);
                        out.push(m.header.pti);
                        out.push($scode);
                        m.encode_body(out);
                    } )*
                }
            }
        }

        $(
            impl From<$mvar> for Message {
                fn from(m: $mvar) -> Message { Message::$mvar(m) }
            }
        )*
        $(
            impl From<$svar> for Message {
                fn from(m: $svar) -> Message { Message::$svar(m) }
            }
        )*
    };
}

messages! {
    mm {
        RegistrationRequest = 0x41, "Registration request";
        RegistrationAccept = 0x42, "Registration accept";
        RegistrationComplete = 0x43, "Registration complete";
        RegistrationReject = 0x44, "Registration reject";
        DeregistrationRequestUeOriginating = 0x45, "Deregistration request (UE originating)";
        DeregistrationAcceptUeOriginating = 0x46, "Deregistration accept (UE originating)";
        DeregistrationRequestUeTerminated = 0x47, "Deregistration request (UE terminated)";
        DeregistrationAcceptUeTerminated = 0x48, "Deregistration accept (UE terminated)";
        ServiceRequest = 0x4C, "Service request";
        ServiceReject = 0x4D, "Service reject";
        ServiceAccept = 0x4E, "Service accept";
        ConfigurationUpdateCommand = 0x54, "Configuration update command";
        ConfigurationUpdateComplete = 0x55, "Configuration update complete";
        AuthenticationRequest = 0x56, "Authentication request";
        AuthenticationResponse = 0x57, "Authentication response";
        AuthenticationReject = 0x58, "Authentication reject";
        AuthenticationFailure = 0x59, "Authentication failure";
        AuthenticationResult = 0x5A, "Authentication result";
        IdentityRequest = 0x5B, "Identity request";
        IdentityResponse = 0x5C, "Identity response";
        SecurityModeCommand = 0x5D, "Security mode command";
        SecurityModeComplete = 0x5E, "Security mode complete";
        SecurityModeReject = 0x5F, "Security mode reject";
        MmStatus = 0x64, "5GMM status";
        Notification = 0x65, "Notification";
        NotificationResponse = 0x66, "Notification response";
        UlNasTransport = 0x67, "UL NAS transport";
        DlNasTransport = 0x68, "DL NAS transport";
    }
    sm {
        PduSessionEstablishmentRequest = 0xC1, "PDU session establishment request";
        PduSessionEstablishmentAccept = 0xC2, "PDU session establishment accept";
        PduSessionEstablishmentReject = 0xC3, "PDU session establishment reject";
        PduSessionAuthenticationCommand = 0xC5, "PDU session authentication command";
        PduSessionAuthenticationComplete = 0xC6, "PDU session authentication complete";
        PduSessionAuthenticationResult = 0xC7, "PDU session authentication result";
        PduSessionModificationRequest = 0xC9, "PDU session modification request";
        PduSessionModificationReject = 0xCA, "PDU session modification reject";
        PduSessionModificationCommand = 0xCB, "PDU session modification command";
        PduSessionModificationComplete = 0xCC, "PDU session modification complete";
        PduSessionModificationCommandReject = 0xCD, "PDU session modification command reject";
        PduSessionReleaseRequest = 0xD1, "PDU session release request";
        PduSessionReleaseReject = 0xD2, "PDU session release reject";
        PduSessionReleaseCommand = 0xD3, "PDU session release command";
        PduSessionReleaseComplete = 0xD4, "PDU session release complete";
        SmStatus = 0xD6, "5GSM status";
    }
}

impl Message {
    /// Decode a plain 5GMM or 5GSM message. A 5GMM message whose security header
    /// type is not 0 is refused here: decode it with [`crate::NasPdu::decode`].
    pub fn decode(bytes: &[u8]) -> Result<Message, Error> {
        Message::decode_with(bytes, false)
    }

    /// Decode the plain message inside a security-protected PDU (after
    /// deciphering). Like [`Message::decode`], but a non-zero security header type
    /// in the inner 5GMM header is accepted and kept in [`MmHeader`]: TS 24.501
    /// §9.3.1 wants 0 there, yet some networks repeat the outer value.
    pub fn decode_inner(bytes: &[u8]) -> Result<Message, Error> {
        Message::decode_with(bytes, true)
    }

    fn decode_with(bytes: &[u8], lenient: bool) -> Result<Message, Error> {
        let mut r = Reader::new(bytes);
        match Epd::from(r.u8()?) {
            Epd::MobilityManagement => {
                let h = r.u8()?;
                if h & 0x0F != 0 && !lenient {
                    return Err(Error::BadSecurityHeaderType(h & 0x0F));
                }
                let mt = r.u8()?;
                let header = MmHeader {
                    spare: h >> 4,
                    security_header_type: h & 0x0F,
                };
                Message::decode_mm(header, mt, &mut r)
            }
            Epd::SessionManagement => {
                let pdu_session_id = r.u8()?;
                let pti = r.u8()?;
                let mt = r.u8()?;
                Message::decode_sm(SmHeader { pdu_session_id, pti }, mt, &mut r)
            }
            Epd::Unknown(e) => Err(Error::UnknownEpd(e)),
        }
    }

    /// The encoded message.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode_into(&mut v);
        v
    }

    /// A one-line description: the message name, and for an UL/DL NAS transport
    /// carrying a 5GSM message, that message's name too.
    pub fn summary(&self) -> String {
        let inner = match self {
            Message::UlNasTransport(m) => Some((m.payload_container_type, &m.payload_container.0)),
            Message::DlNasTransport(m) => Some((m.payload_container_type, &m.payload_container.0)),
            _ => None,
        };
        match inner {
            Some((PayloadContainerType::N1SmInformation, bytes)) => match Message::decode(bytes) {
                Ok(sm) => format!("{} / {}", self.name(), sm.name()),
                Err(_) => format!("{} / undecodable 5GSM message", self.name()),
            },
            _ => self.name().to_string(),
        }
    }

    /// For an UL/DL NAS transport whose payload container holds N1 SM information,
    /// the carried 5GSM message.
    pub fn sm_payload(&self) -> Option<Result<Message, Error>> {
        let (ty, bytes) = match self {
            Message::UlNasTransport(m) => (m.payload_container_type, &m.payload_container.0),
            Message::DlNasTransport(m) => (m.payload_container_type, &m.payload_container.0),
            _ => return None,
        };
        (ty == PayloadContainerType::N1SmInformation).then(|| Message::decode(bytes))
    }
}
