//! Feeds arbitrary bytes to the SCTP packet parser (every chunk, parameter
//! and error cause is walked; parsed chunks are re-emitted and re-parsed).
#![no_main]

use hexcore_sctp::wire::{Chunk, Packet, PacketBuilder, causes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Packet::parse(data) else {
        return;
    };
    let _ = packet.checksum_ok();
    let h = packet.header();
    let mut builder = PacketBuilder::new(h.src_port, h.dst_port, h.verification_tag);
    let mut parsed = Vec::new();
    for chunk in packet.chunks() {
        let Ok(chunk) = chunk else { break };
        match &chunk {
            Chunk::Init(i) | Chunk::InitAck(i) => {
                i.params().for_each(drop);
                let _ = i.state_cookie();
            }
            Chunk::Abort(a) => causes(a.causes).for_each(drop),
            Chunk::Error(e) => causes(e.causes).for_each(drop),
            Chunk::Heartbeat(hb) | Chunk::HeartbeatAck(hb) => {
                let _ = hb.info();
            }
            _ => {}
        }
        builder.push(&chunk);
        parsed.push(chunk);
    }
    // What parsed must re-emit into something that parses to the same chunks.
    let out = builder.finish();
    let again = Packet::parse(&out).expect("re-emitted packet has a header");
    assert!(again.checksum_ok());
    let reparsed: Vec<_> = again.chunks().map_while(Result::ok).collect();
    assert_eq!(reparsed, parsed);
});
