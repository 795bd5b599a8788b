//! GTP-U: arbitrary octets through the fast path, the view and the high-level form.
//! Nothing panics; the fast path accepts nothing the view refuses and agrees with it
//! on TEID, payload and trailing octets (padding after the declared message); what parses as a `Repr` emits into exactly `buffer_len()`
//! octets that parse back to the same `Repr` and re-emit to the same octets; and the
//! input used as a T-PDU survives `encap_in_place` → `parse_gpdu`.
//! Seeds: the real datagrams of core-5g/gtpu's tests (srsRAN, go-gtp, Scapy).
#![no_main]

use hexcore_gtpu::{MAX_ENCAP_HEADER_LEN, MessageType, Packet, Repr, encap_in_place, parse_gpdu};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fast = parse_gpdu(data);
    let view = Packet::new_checked(data);
    match (&fast, &view) {
        (Ok(g), Ok(p)) => {
            assert_eq!(g.teid, p.teid());
            assert_eq!(g.payload.start, p.payload_offset());
            assert_eq!(g.payload.end, p.message_len());
            assert_eq!(g.trailing_octets, data.len() - p.message_len());
            assert_eq!(p.message_type(), MessageType::GPdu);
        }
        (Ok(_), Err(e)) => panic!("parse_gpdu accepts what Packet::new_checked refuses: {e:?}"),
        (Err(e), _) => {
            let _ = (e.peer_action(), e.to_string());
        }
    }

    if let Ok(p) = &view {
        let _ = (
            p.sequence_number(),
            p.n_pdu_number(),
            p.next_extension_header_type(),
            p.payload(),
        );
        assert!(
            p.extension_headers().all(|h| h.is_ok()),
            "a checked chain has no broken header"
        );
        match Repr::parse(p) {
            Ok(repr) => {
                let mut bytes = vec![0u8; repr.buffer_len()];
                repr.emit(&mut Packet::new_unchecked(&mut bytes[..]))
                    .expect("a parsed Repr emits into buffer_len() octets");
                let again = Packet::new_checked(&bytes[..]).expect("an emitted Repr is a valid packet");
                let reparsed = Repr::parse(&again).expect("an emitted Repr parses");
                assert_eq!(reparsed, repr, "emit then parse gives the same Repr");
                assert_eq!(reparsed.to_vec().as_deref(), Ok(&bytes[..]), "re-emitting is stable");
            }
            Err(e) => {
                let _ = e.peer_action();
            }
        }
    }

    // The input as a T-PDU: encapsulated in place, found again by the fast path.
    if data.len() <= 2048 {
        let mut buf = vec![0u8; MAX_ENCAP_HEADER_LEN + data.len()];
        buf[MAX_ENCAP_HEADER_LEN..].copy_from_slice(data);
        let qfi = data.first().map(|q| q & 0x3F).filter(|q| q & 1 == 0);
        let teid = data.len() as u32;
        let frame = encap_in_place(&mut buf, MAX_ENCAP_HEADER_LEN, data.len(), teid, qfi).expect("room was left");
        let g = parse_gpdu(&buf[frame.clone()]).expect("an encapsulated T-PDU parses");
        assert_eq!((g.teid, g.qfi), (teid, qfi));
        assert_eq!(&buf[frame][g.payload], data);
    }
});
