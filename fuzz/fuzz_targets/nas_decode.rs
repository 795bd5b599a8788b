//! NAS-5GS: decode arbitrary octets; what decodes must re-encode to a PDU that
//! decodes to the same typed value and encodes to the same octets. A PDU whose
//! optional IEs came in spec order re-encodes to the very octets received; the
//! summary and the carried 5GSM message must survive any input.
#![no_main]

use hexcore_nas::{Message, NasPdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pdu) = NasPdu::decode(data) {
        let encoded = pdu.encode();
        let again = NasPdu::decode(&encoded).expect("a re-encoded PDU decodes");
        assert_eq!(again, pdu, "re-decoding gives the same PDU");
        assert_eq!(again.encode(), encoded, "re-encoding is stable");
        assert_eq!(pdu.buffer_len(), encoded.len());
        let _ = pdu.summary();
        if let NasPdu::Plain(m) = &pdu {
            if let Some(Ok(sm)) = m.sm_payload() {
                let b = sm.encode();
                assert_eq!(Message::decode(&b).as_ref(), Ok(&sm));
            }
        }
    }
    // The plaintext of a ciphered PDU goes through the tolerant inner decoder.
    if let Ok(m) = Message::decode_inner(data) {
        let b = m.encode();
        assert_eq!(Message::decode_inner(&b).as_ref(), Ok(&m));
        if let Err(e) = Message::decode(data) {
            let _ = (e.mm_cause(), e.sm_cause());
        }
    } else if let Err(e) = NasPdu::decode(data) {
        let _ = (e.mm_cause(), e.sm_cause(), e.to_string());
    }
});
