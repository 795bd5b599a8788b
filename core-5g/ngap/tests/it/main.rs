//! Every PDU of the fixture files through the facade: byte-exact round trip, the
//! message name, the typed parser of each covered message, and `check`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hexcore_ngap::{NgapPdu, procedures};

/// (name column, PDU octets) of a fixture file.
fn fixtures(text: &str) -> Vec<(String, Vec<u8>)> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let mut columns = line.split('\t');
            let name = columns.next().unwrap();
            let name = name.split('/').next().unwrap().to_string();
            let octets = hex::decode(columns.next().unwrap()).unwrap();
            (name, octets)
        })
        .collect()
}

/// Messages with a typed parser in `procedures`.
const TYPED: &[&str] = &[
    "NGSetupRequest",
    "NGSetupResponse",
    "NGSetupFailure",
    "InitialUEMessage",
    "UplinkNASTransport",
    "DownlinkNASTransport",
    "Paging",
    "PDUSessionResourceSetupRequest",
    "PDUSessionResourceSetupResponse",
    "PDUSessionResourceModifyRequest",
    "PDUSessionResourceModifyResponse",
    "PDUSessionResourceReleaseCommand",
    "PDUSessionResourceReleaseResponse",
    "InitialContextSetupRequest",
    "InitialContextSetupResponse",
    "InitialContextSetupFailure",
    "UEContextReleaseRequest",
    "UEContextReleaseCommand",
    "UEContextReleaseComplete",
    "UEContextModificationRequest",
    "UEContextModificationResponse",
    "UEContextModificationFailure",
    "ErrorIndication",
    "NGReset",
    "NGResetAcknowledge",
    "RANConfigurationUpdate",
    "RANConfigurationUpdateAcknowledge",
    "RANConfigurationUpdateFailure",
    "AMFConfigurationUpdate",
    "AMFConfigurationUpdateAcknowledge",
    "AMFConfigurationUpdateFailure",
];

#[test]
fn captured_pdus_of_open5gs_free5gc_packetrusher() {
    let all = fixtures(include_str!("fixtures/captured.tsv"));
    assert_eq!(all.len(), 177);
    let mut typed = 0;
    for (name, octets) in &all {
        let pdu = NgapPdu::decode(octets).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&pdu.encode().unwrap(), octets, "{name}");
        if name != "-" {
            assert_eq!(pdu.message_name(), name);
        }
        if TYPED.contains(&pdu.message_name()) {
            assert_eq!(procedures::parse_any(&pdu), 1, "{name} {}", hex::encode(octets));
            assert!(procedures::rebuild_any(&pdu).unwrap() >= 1, "{name}");
            typed += 1;
        }
    }
    // Most of the captures are messages the AMF handles through the typed API.
    assert!(typed > 160, "{typed}");
}

#[test]
fn pycrate_vectors_of_every_message() {
    let all = fixtures(include_str!("fixtures/messages.tsv"));
    assert!(all.len() > 140);
    for (name, octets) in &all {
        let pdu = NgapPdu::decode(octets).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&pdu.encode().unwrap(), octets, "{name}");
        assert_eq!(pdu.message_name(), name);
        // Random values in every IE: parsers may refuse (not a gNB, not BCD...), but
        // never panic.
        let _ = procedures::parse_any(&pdu);
        procedures::rebuild_any(&pdu).unwrap();
        let _ = pdu.check();
    }
}
