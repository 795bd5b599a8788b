//! Feeds arbitrary bytes to the SCTP packet parser (every chunk, parameter
//! and error cause is walked; parsed chunks are re-emitted and re-parsed),
//! then as datagrams into a sans-IO listener and an established association
//! pair. Nothing may panic.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hexcore_sctp::assoc::{Association, Config, Listener, ListenerOutput};
use hexcore_sctp::wire::{Chunk, Packet, PacketBuilder, causes, stamp_checksum};
use libfuzzer_sys::fuzz_target;

fn parse_and_reemit(data: &[u8]) {
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
}

fn drain(a: &mut Association, now: Instant, out: &mut Vec<Vec<u8>>) {
    while let Some(p) = a.poll_transmit(now) {
        out.push(p);
    }
    while a.poll_event().is_some() {}
}

/// A client and a server association, established in memory.
fn established(now: Instant) -> Option<(Association, Association, Listener)> {
    let mut client = Association::connect(now, Config::default(), 1);
    let mut listener = Listener::new(now, Config::default(), 2);
    let init = client.poll_transmit(now)?;
    let ListenerOutput::Reply(ack) = listener.handle(now, &init) else {
        return None;
    };
    client.handle(now, &ack);
    let echo = client.poll_transmit(now)?;
    let ListenerOutput::Accepted(mut server) = listener.handle(now, &echo) else {
        return None;
    };
    let cookie_ack = server.poll_transmit(now)?;
    client.handle(now, &cookie_ack);
    Some((client, *server, listener))
}

fuzz_target!(|data: &[u8]| {
    parse_and_reemit(data);

    // The handshake is done once; every input starts from a copy.
    static PAIR: OnceLock<(Instant, Association, Association, Listener)> = OnceLock::new();
    let (t0, client, server, listener) = PAIR.get_or_init(|| {
        let t0 = Instant::now();
        let (c, s, l) = established(t0).expect("in-memory handshake");
        (t0, c, s, l)
    });
    let (t0, mut client, mut server, mut listener) = (*t0, client.clone(), server.clone(), listener.clone());
    let mut now = t0;
    // Records: [flags, len, bytes..]. Flags: bit 0 stamps ports, tag and CRC
    // so the packet reaches the chunk logic; bit 1 sends it to the client;
    // bits 2..7 advance the virtual clock.
    let mut rest = data;
    while let [flags, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (body, next) = tail.split_at(n);
        rest = next;
        now += Duration::from_millis(u64::from(flags >> 2) * 50);
        let to_client = flags & 2 != 0;
        let mut pkt = body.to_vec();
        if flags & 1 != 0 && pkt.len() >= 12 {
            let tag = if to_client { client.local_tag() } else { server.local_tag() };
            pkt[0..4].copy_from_slice(&[0x96, 0x0c, 0x96, 0x0c]);
            pkt[4..8].copy_from_slice(&tag.to_be_bytes());
            stamp_checksum(&mut pkt);
        }
        let mut out = Vec::new();
        if to_client {
            client.handle(now, &pkt);
        } else {
            server.handle(now, &pkt);
        }
        let _ = listener.handle(now, &pkt);
        client.handle_timeout(now);
        server.handle_timeout(now);
        drain(&mut client, now, &mut out);
        drain(&mut server, now, &mut out);
        for p in &out {
            parse_and_reemit(p);
        }
    }
});
