//! NGAP: decode arbitrary octets; what decodes must re-encode to a PDU that decodes
//! to the same value and encodes to the same octets, no check or typed parser may
//! panic on it, and what a typed parser accepts must rebuild to the same values.
#![no_main]

use hexcore_ngap::NgapPdu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pdu) = NgapPdu::decode(data) else {
        return;
    };
    let Ok(encoded) = pdu.encode() else {
        return;
    };
    let again = NgapPdu::decode(&encoded).expect("a re-encoded PDU decodes");
    assert_eq!(again, pdu, "re-decoding gives the same PDU");
    assert_eq!(again.encode().ok(), Some(encoded), "re-encoding is stable");

    // Everything the AMF reads of a PDU must survive any input.
    let _ = pdu.kind();
    let _ = pdu.procedure_code().to_string();
    let _ = pdu.message_name();
    let _ = pdu.amf_ue_ngap_id();
    let _ = pdu.ran_ue_ngap_id();
    let _ = pdu.nas_pdus();
    if let Err(error) = pdu.check() {
        let _ = error.cause();
    }
    hexcore_ngap::procedures::parse_any(&pdu);
    // What a typed parser accepts, its builder writes back to the same values.
    if let Err(mismatch) = hexcore_ngap::procedures::rebuild_any(&pdu) {
        panic!("{mismatch}");
    }
});
