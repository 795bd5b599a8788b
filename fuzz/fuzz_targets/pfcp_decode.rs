//! PFCP: decode arbitrary octets; what decodes must re-encode to a message that
//! decodes to the same value and encodes to the same octets, with `buffer_len()`
//! and `emit()` agreeing. Whatever does not decode must still give a cause, and an
//! error response that itself decodes. The transaction layer must take any
//! datagram without panicking.
#![no_main]

use std::net::Ipv4Addr;
use std::time::Instant;

use hexcore_pfcp::ie::{NodeId, Timestamp};
use hexcore_pfcp::{Config, IeIter, LocalNode, Pdu, Transactions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let local = LocalNode {
        node_id: NodeId::Ipv4(Ipv4Addr::LOCALHOST),
        recovery_time_stamp: Timestamp(1),
    };
    match Pdu::decode(data) {
        Ok(pdu) => {
            let encoded = pdu.encode();
            assert_eq!(pdu.buffer_len(), encoded.len());
            let mut buf = vec![0u8; encoded.len()];
            assert_eq!(pdu.emit(&mut buf), Ok(encoded.len()));
            assert_eq!(buf, encoded);
            let again = Pdu::decode(&encoded).expect("a re-encoded message decodes");
            assert_eq!(again, pdu, "re-decoding gives the same message");
            assert_eq!(again.encode(), encoded, "re-encoding is stable");
            let _ = (pdu.message.direction(), pdu.message.cause());
        }
        Err(e) => {
            let _ = (e.cause(), e.offending_ie(), e.to_string());
            if let Some(rsp) = Pdu::error_response(data, &e, &local) {
                let b = rsp.encode();
                assert_eq!(Pdu::decode(&b).as_ref(), Ok(&rsp), "error responses decode");
            }
        }
    }
    // The IE walk on its own (a grouped IE's value or a message body).
    for ie in IeIter::new(data) {
        if ie.is_err() {
            break;
        }
    }
    let mut tx: Transactions<u8> = Transactions::new(local, Config::default());
    let now = Instant::now();
    tx.handle_datagram(now, 1, data);
    while let Some(t) = tx.poll_transmit() {
        Pdu::decode(&t.bytes).expect("the transaction layer sends decodable PFCP");
    }
    while tx.poll_event().is_some() {}
});
