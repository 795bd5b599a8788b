//! NAS-5GS (TS 24.501) codec: the 5GMM and 5GSM messages between UE and core,
//! their information elements, and the security-protected header. Pure: no I/O,
//! no clock, no crypto (the security crate computes MACs and deciphers; this crate
//! hands it the octets and decodes the plaintext it gets back).
//!
//! Entry point: [`NasPdu::decode`] / [`NasPdu::encode`]. Every decoded message
//! re-encodes to the octets received when its optional IEs came in the order of
//! the spec's tables (unknown IEs are kept raw and re-encoded last).
//!
//! ```
//! use hexcore_nas::{Message, NasPdu, ie::MobileIdentity};
//!
//! // A registration request with a null-scheme SUCI (MCC 208, MNC 93).
//! let bytes = [
//!     0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01, 0x02, 0xf8, 0x39, 0x21, 0x43, 0x00, 0x00,
//!     0x10, 0x32, 0x54, 0x76, 0x98,
//! ];
//! let pdu = NasPdu::decode(&bytes).unwrap();
//! assert_eq!(pdu.summary(), "Registration request");
//! let NasPdu::Plain(Message::RegistrationRequest(req)) = &pdu else { panic!() };
//! let MobileIdentity::Suci(hexcore_nas::ie::Suci::Imsi(suci)) = &req.mobile_identity else {
//!     panic!()
//! };
//! assert_eq!(suci.imsi().as_deref(), Some("208930123456789"));
//! assert_eq!(pdu.encode(), bytes);
//! ```
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
pub use header::{Epd, Packet as SecurityProtectedPacket, SecurityHeaderType, SecurityProtected};
pub use message::{Message, MessageType};
pub use mm::MmHeader;
pub use sm::SmHeader;

/// One NAS-5GS PDU as carried in an NGAP NAS-PDU.
// `Message` is large (a registration accept has some fifty optional IEs); it is kept
// unboxed so that callers can match `NasPdu::Plain(Message::…)` directly.
#[allow(clippy::large_enum_variant)]
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
            [0x7E, h, ..] if h & 0x0F != 0 => Ok(NasPdu::SecurityProtected(SecurityProtected::decode(bytes)?)),
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
                None => format!("ciphered (security header type {})", s.header_type.value()),
            },
        }
    }
}

impl From<Message> for NasPdu {
    fn from(m: Message) -> NasPdu {
        NasPdu::Plain(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // UL NAS transport (security header type 2, NEA0) from a Go UE simulator's
    // test table: payload type N1 SM, a PDU session establishment request, PSI 1,
    // request type initial, S-NSSAI 1/010203, DNN "internet".
    static UL_NAS_EST_REQ: [u8; 40] = [
        0x7e, 0x02, 0x08, 0xd5, 0x93, 0xcc, 0x00, 0x7e, 0x00, 0x67, 0x01, 0x00, 0x07, 0x2e, 0x01, 0x01, 0xc1, 0xff,
        0xff, 0x93, 0x12, 0x01, 0x81, 0x22, 0x04, 0x01, 0x01, 0x02, 0x03, 0x25, 0x09, 0x08, 0x69, 0x6e, 0x74, 0x65,
        0x72, 0x6e, 0x65, 0x74,
    ];
    // DL NAS transport (type 2, NEA0) carrying the establishment accept, same table.
    static DL_NAS_EST_ACCEPT: [u8; 47] = [
        0x7e, 0x02, 0x22, 0x99, 0x4e, 0x9f, 0x02, 0x7e, 0x00, 0x68, 0x01, 0x00, 0x20, 0x2e, 0x01, 0x00, 0xc2, 0x11,
        0x00, 0x09, 0x01, 0x00, 0x06, 0x31, 0x31, 0x01, 0x01, 0x00, 0x00, 0x06, 0x01, 0xe8, 0x03, 0x01, 0xe8, 0x03,
        0x59, 0x32, 0x29, 0x05, 0x01, 0x3c, 0x3c, 0x00, 0x01, 0x12, 0x01,
    ];
    // Registration complete, type 2.
    static REG_COMPLETE: [u8; 10] = [0x7e, 0x02, 0x46, 0x9d, 0x6a, 0x8b, 0x01, 0x7e, 0x00, 0x43];
    // Security mode command, type 3 (integrity protected with new context).
    static SMC: [u8; 21] = [
        0x7e, 0x03, 0x93, 0x77, 0x11, 0xbc, 0x00, 0x7e, 0x03, 0x5d, 0x02, 0x00, 0x04, 0x80, 0xa0, 0x00, 0x00, 0xe1,
        0x36, 0x01, 0x00,
    ];

    #[test]
    fn security_protected_header() {
        let NasPdu::SecurityProtected(sp) = NasPdu::decode(&UL_NAS_EST_REQ).unwrap() else {
            panic!()
        };
        assert_eq!(sp.header_type, SecurityHeaderType::IntegrityProtectedAndCiphered);
        assert_eq!(sp.mac, [0x08, 0xd5, 0x93, 0xcc]);
        assert_eq!(sp.sequence_number, 0);
        assert!(sp.message.is_none());
        assert_eq!(sp.mac_input()[1..], UL_NAS_EST_REQ[7..]);
        let pdu = NasPdu::SecurityProtected(sp.clone());
        assert_eq!(pdu.summary(), "ciphered (security header type 2)");
        assert_eq!(pdu.encode(), UL_NAS_EST_REQ);
        assert_eq!(pdu.buffer_len(), UL_NAS_EST_REQ.len());

        // after deciphering (NEA0 here), the plaintext decodes
        let m = Message::decode(&sp.payload).unwrap();
        assert_eq!(m.summary(), "UL NAS transport / PDU session establishment request");
        let Message::UlNasTransport(t) = &m else { panic!() };
        assert_eq!(t.pdu_session_id, Some(ie::PduSessionId(1)));
        assert_eq!(t.request_type, Some(ie::RequestType::InitialRequest));
        assert_eq!(t.s_nssai, Some(ie::SNssai::new(1, Some(0x010203))));
        assert_eq!(t.dnn.as_ref().unwrap().name(), "internet");
        let Some(Ok(Message::PduSessionEstablishmentRequest(e))) = m.sm_payload() else {
            panic!()
        };
        assert_eq!(e.header.pdu_session_id, 1);

        let NasPdu::SecurityProtected(dl) = NasPdu::decode(&DL_NAS_EST_ACCEPT).unwrap() else {
            panic!()
        };
        let m = Message::decode(&dl.payload).unwrap();
        assert_eq!(m.summary(), "DL NAS transport / PDU session establishment accept");
        assert_eq!(m.encode(), dl.payload);

        let NasPdu::SecurityProtected(rc) = NasPdu::decode(&REG_COMPLETE).unwrap() else {
            panic!()
        };
        assert_eq!(rc.sequence_number, 1);
        assert_eq!(Message::decode(&rc.payload).unwrap().name(), "Registration complete");
    }

    #[test]
    fn integrity_only_is_decoded() {
        let pdu = NasPdu::decode(&SMC).unwrap();
        assert_eq!(pdu.summary(), "Security mode command");
        assert_eq!(pdu.encode(), SMC);
        let NasPdu::SecurityProtected(sp) = &pdu else { panic!() };
        assert_eq!(sp.header_type, SecurityHeaderType::IntegrityProtectedNewContext);
        // rebuild from the parts: same octets
        let again = SecurityProtected::new(sp.header_type, sp.mac, sp.sequence_number, sp.payload.clone()).unwrap();
        assert_eq!(&again, sp);
    }

    #[test]
    fn plain_pdu_round_trip_and_summary() {
        let b = [
            0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01, 0x02, 0xf8, 0x39, 0x21, 0x43, 0x00, 0x00, 0x10, 0x32, 0x54, 0x76,
            0x98,
        ];
        let pdu = NasPdu::decode(&b).unwrap();
        assert_eq!(pdu.summary(), "Registration request");
        assert_eq!(pdu.encode(), b);
        let sm = [0x2e, 0x01, 0xb3, 0xd3, 0x24];
        assert_eq!(NasPdu::decode(&sm).unwrap().summary(), "PDU session release command");
    }

    // PDU session establishment accept in a DL NAS transport from Open5GS (header
    // type 4, replayed with a zero MAC in a public 5G security test tool): PSI 5,
    // PTI 0x13, IPv4 + SSC 1, default QoS rule QFI 1, Session-AMBR 1 Gbps in 16
    // kbps units, 10.45.0.2, SST 1, 5QI 9, extended PCO with IPCP, two DNS servers,
    // MTU 1400, DNN "default".
    static OPEN5GS_EST_ACCEPT: [u8; 112] = [
        0x7e, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x7e, 0x00, 0x68, 0x01, 0x00, 0x61, 0x2e, 0x05, 0x13, 0xc2, 0x11,
        0x00, 0x09, 0x01, 0x00, 0x06, 0x31, 0x31, 0x01, 0x01, 0xff, 0x01, 0x06, 0x03, 0xf4, 0x24, 0x03, 0xf4, 0x24,
        0x29, 0x05, 0x01, 0x0a, 0x2d, 0x00, 0x02, 0x22, 0x01, 0x01, 0x79, 0x00, 0x06, 0x01, 0x20, 0x41, 0x01, 0x01,
        0x09, 0x7b, 0x00, 0x2a, 0x80, 0x80, 0x21, 0x10, 0x02, 0x00, 0x00, 0x10, 0x81, 0x06, 0x08, 0x08, 0x08, 0x08,
        0x83, 0x06, 0x08, 0x08, 0x04, 0x04, 0x00, 0x0d, 0x04, 0x08, 0x08, 0x08, 0x08, 0x00, 0x0d, 0x04, 0x08, 0x08,
        0x04, 0x04, 0x00, 0x10, 0x02, 0x05, 0x78, 0x00, 0x11, 0x00, 0x25, 0x08, 0x07, 0x64, 0x65, 0x66, 0x61, 0x75,
        0x6c, 0x74, 0x12, 0x05,
    ];

    #[test]
    fn open5gs_establishment_accept() {
        let pdu = NasPdu::decode(&OPEN5GS_EST_ACCEPT).unwrap();
        assert_eq!(pdu.summary(), "ciphered (security header type 4)");
        assert_eq!(pdu.encode(), OPEN5GS_EST_ACCEPT);
        let NasPdu::SecurityProtected(sp) = pdu else { panic!() };
        let dl = Message::decode_inner(&sp.payload).unwrap();
        assert_eq!(dl.encode(), sp.payload);
        assert_eq!(dl.summary(), "DL NAS transport / PDU session establishment accept");
        let Some(Ok(Message::PduSessionEstablishmentAccept(a))) = dl.sm_payload() else {
            panic!()
        };
        assert_eq!(
            a.header,
            SmHeader {
                pdu_session_id: 5,
                pti: 0x13
            }
        );
        assert_eq!(a.session_ambr.downlink.bps(), Some(1_000_000_000));
        assert_eq!(a.dnn.as_ref().unwrap().name(), "default");
        let pco = a.extended_pco.as_ref().unwrap();
        assert_eq!(pco.items.iter().filter(|i| i.id == 0x000d).count(), 2);
        assert_eq!(pco.item(0x0010).unwrap().contents, [0x05, 0x78]);
        assert_eq!(pco.item(0x8021).unwrap().contents.len(), 16);
        assert!(a.unknown_ies.is_empty());
    }

    /// The fuzz target's invariant on every single-octet change and every
    /// truncation of the real messages above (deterministic, runs in `cargo test`).
    #[test]
    fn mutations_round_trip() {
        let seeds: [&[u8]; 5] = [
            &UL_NAS_EST_REQ,
            &DL_NAS_EST_ACCEPT,
            &SMC,
            &OPEN5GS_EST_ACCEPT,
            &REG_COMPLETE,
        ];
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for s in seeds {
            // the plaintext inside, too
            let plain = s[7..].to_vec();
            for base in [s.to_vec(), plain] {
                for n in 0..base.len() {
                    inputs.push(base[..n].to_vec());
                    for x in [0x01, 0x10, 0x80, 0xff] {
                        let mut m = base.clone();
                        m[n] ^= x;
                        inputs.push(m);
                    }
                }
            }
        }
        let mut decoded = 0;
        for i in &inputs {
            if let Ok(pdu) = NasPdu::decode(i) {
                decoded += 1;
                let e = pdu.encode();
                let again = NasPdu::decode(&e).unwrap();
                assert_eq!(again, pdu, "{}", hex::encode(i));
                assert_eq!(again.encode(), e);
                let _ = pdu.summary();
            }
            if let Ok(m) = Message::decode_inner(i) {
                assert_eq!(Message::decode_inner(&m.encode()).as_ref(), Ok(&m));
            }
        }
        assert!(decoded > inputs.len() / 4, "{decoded} of {}", inputs.len());
    }

    #[test]
    fn broken_headers() {
        assert!(matches!(NasPdu::decode(&[]), Err(Error::Truncated { .. })));
        assert!(matches!(
            NasPdu::decode(&[0x7e, 0x02, 1, 2]),
            Err(Error::Truncated { .. })
        ));
        assert_eq!(
            NasPdu::decode(&[0x7e, 0x05, 0, 0, 0, 0, 0]),
            Err(Error::BadSecurityHeaderType(5))
        );
        assert_eq!(NasPdu::decode(&[0x2f, 0, 0]), Err(Error::UnknownEpd(0x2f)));
        assert_eq!(Error::UnknownEpd(0x2f).mm_cause(), MmCause::ProtocolErrorUnspecified);
        // integrity protected, inner message broken
        assert!(NasPdu::decode(&[0x7e, 0x01, 0, 0, 0, 0, 0, 0x7e, 0x00]).is_err());
        // but its header alone can still be read for the MAC check
        let sp = SecurityProtected::decode_outer(&[0x7e, 0x01, 1, 2, 3, 4, 9, 0x7e, 0x00]).unwrap();
        assert_eq!((sp.mac, sp.sequence_number), ([1, 2, 3, 4], 9));
    }
}
