//! Procedure tests: two sans-IO peers on virtual time with a seeded RNG
//! (quinn-proto's `Pair` idea). The network between them has a latency,
//! jitter (reordering), loss and duplication, all drawn from the seed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::wire::{Chunk, Packet, chunk_type};

#[derive(Debug, Clone, Copy)]
struct Net {
    latency: Duration,
    jitter: Duration,
    loss: f64,
    duplicate: f64,
}

impl Default for Net {
    fn default() -> Self {
        Net {
            latency: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

struct InFlight {
    at: Instant,
    seq: u64,
    to: Side,
    bytes: Vec<u8>,
}

struct Pair {
    now: Instant,
    client: Association,
    server: Option<Association>,
    listener: Listener,
    net: Net,
    rng: StdRng,
    wire: Vec<InFlight>,
    seq: u64,
    client_events: Vec<Event>,
    server_events: Vec<Event>,
    /// Every packet sent, by sender, for inspection.
    sent: Vec<(Side, Vec<u8>)>,
    /// Drop everything (a dead network).
    blackhole: bool,
    sent_start: Instant,
}

fn test_config() -> Config {
    Config {
        local_port: 38412,
        remote_port: 38412,
        outbound_streams: 4,
        max_inbound_streams: 4,
        ..Config::default()
    }
}

impl Pair {
    fn new(seed: u64, net: Net) -> Self {
        Self::with_configs(seed, net, test_config(), test_config())
    }

    fn with_configs(seed: u64, net: Net, client: Config, server: Config) -> Self {
        let now = Instant::now();
        Pair {
            now,
            listener: Listener::new(now, server, seed ^ 0x5e5e),
            client: Association::connect(now, client, seed),
            server: None,
            net,
            rng: StdRng::seed_from_u64(seed ^ 0xabcd),
            wire: Vec::new(),
            seq: 0,
            client_events: Vec::new(),
            server_events: Vec::new(),
            sent: Vec::new(),
            blackhole: false,
            sent_start: now,
        }
    }

    fn server(&mut self) -> &mut Association {
        self.server.as_mut().expect("server association exists")
    }

    fn put_on_wire(&mut self, to: Side, bytes: Vec<u8>) {
        let from = if to == Side::Server { Side::Client } else { Side::Server };
        self.sent.push((from, bytes.clone()));
        if self.blackhole || self.rng.random_bool(self.net.loss) {
            return;
        }
        let copies = if self.rng.random_bool(self.net.duplicate) { 2 } else { 1 };
        for _ in 0..copies {
            let jitter = self.net.jitter.mul_f64(self.rng.random::<f64>());
            self.seq += 1;
            self.wire.push(InFlight {
                at: self.now + self.net.latency + jitter,
                seq: self.seq,
                to,
                bytes: bytes.clone(),
            });
        }
    }

    /// Moves every queued packet onto the wire and collects events.
    fn collect(&mut self) {
        while let Some(p) = self.client.poll_transmit(self.now) {
            self.put_on_wire(Side::Server, p);
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        if let Some(mut s) = self.server.take() {
            while let Some(p) = s.poll_transmit(self.now) {
                self.put_on_wire(Side::Client, p);
            }
            while let Some(e) = s.poll_event() {
                self.server_events.push(e);
            }
            self.server = Some(s);
        }
    }

    fn deliver(&mut self, to: Side, bytes: &[u8]) {
        match to {
            Side::Client => self.client.handle(self.now, bytes),
            Side::Server => match self.server.as_mut() {
                Some(s) if !s.is_closed() => s.handle(self.now, bytes),
                _ => match self.listener.handle(self.now, bytes) {
                    ListenerOutput::Nothing => {}
                    ListenerOutput::Reply(p) => self.put_on_wire(Side::Client, p),
                    ListenerOutput::Accepted(a) => self.server = Some(*a),
                },
            },
        }
    }

    /// One step: the next packet arrival or timer, whichever is first.
    /// Returns false when nothing is left to do.
    fn step(&mut self) -> bool {
        self.collect();
        let next_packet = self
            .wire
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| (p.at, p.seq))
            .map(|(i, p)| (i, p.at));
        let timers = [
            self.client.poll_timeout(),
            self.server.as_ref().and_then(Association::poll_timeout),
        ];
        let next_timer = timers.iter().flatten().min().copied();
        match (next_packet, next_timer) {
            (Some((i, at)), t) if t.is_none_or(|t| at <= t) => {
                self.now = self.now.max(at);
                let p = self.wire.swap_remove(i);
                self.deliver(p.to, &p.bytes);
            }
            (Some((i, at)), None) => {
                self.now = self.now.max(at);
                let p = self.wire.swap_remove(i);
                self.deliver(p.to, &p.bytes);
            }
            (_, Some(t)) => {
                self.now = self.now.max(t);
                self.client.handle_timeout(self.now);
                if let Some(s) = self.server.as_mut() {
                    s.handle_timeout(self.now);
                }
            }
            (None, None) => return false,
        }
        self.collect();
        true
    }

    /// Steps until `done` holds; panics past `limit` of virtual time.
    fn drive_until(&mut self, limit: Duration, mut done: impl FnMut(&Pair) -> bool) {
        let end = self.now + limit;
        for _ in 0..2_000_000 {
            if done(self) {
                return;
            }
            if !self.step() || self.now > end {
                break;
            }
        }
        if !done(self) {
            self.dump();
        }
        assert!(done(self), "condition not reached within {limit:?} (virtual)");
    }

    /// Runs for `d` of virtual time.
    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..2_000_000 {
            let next = self
                .wire
                .iter()
                .map(|p| p.at)
                .chain(self.client.poll_timeout())
                .chain(self.server.as_ref().and_then(Association::poll_timeout))
                .min();
            match next {
                Some(t) if t <= end => {
                    self.step();
                }
                _ => break,
            }
        }
        self.now = self.now.max(end);
    }

    fn dump(&self) {
        println!("client {:?} events {:?}", self.client, self.client_events);
        println!("server {:?} events {:?}", self.server, self.server_events);
        for (side, b) in &self.sent {
            let p = Packet::parse(b).unwrap();
            let types: Vec<_> = p.chunks().flatten().map(|c| c.chunk_type()).collect();
            println!("  {side:?} tag {:#x} {types:?}", p.header().verification_tag);
        }
    }

    fn connected(&mut self) {
        self.drive_until(Duration::from_secs(10), |p| {
            p.client.is_established() && p.server.as_ref().is_some_and(Association::is_established)
        });
    }

    fn messages(events: &[Event]) -> Vec<(u16, u32, Bytes)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Message { stream, ppid, data } => Some((*stream, *ppid, data.clone())),
                _ => None,
            })
            .collect()
    }

    fn count_sent(&self, from: Side, ct: u8) -> usize {
        self.sent
            .iter()
            .filter(|(s, _)| *s == from)
            .filter_map(|(_, b)| Packet::parse(b).ok())
            .map(|p| p.chunks().flatten().filter(|c| c.chunk_type() == ct).count())
            .sum()
    }
}

fn payload(rng: &mut StdRng, tag: u32, len: usize) -> Bytes {
    let mut v = tag.to_be_bytes().to_vec();
    v.extend((0..len.saturating_sub(4)).map(|_| rng.random::<u8>()));
    Bytes::from(v)
}

#[test]
fn handshake_brings_both_sides_up() {
    let mut client_cfg = test_config();
    client_cfg.outbound_streams = 10;
    client_cfg.max_inbound_streams = 2;
    let mut p = Pair::with_configs(1, Net::default(), client_cfg, test_config());
    p.connected();
    assert_eq!(p.client_events, [Event::Up]);
    assert_eq!(p.server_events, [Event::Up]);
    // OS/MIS negotiation (§5.1.1): min of what each side offers.
    assert_eq!(p.client.outbound_streams(), 4);
    assert_eq!(p.client.inbound_streams(), 2);
    assert_eq!(p.server().outbound_streams(), 2);
    assert_eq!(p.server().inbound_streams(), 4);
    assert_eq!(p.client.peer_tag(), p.server().local_tag());
    assert_eq!(p.server().peer_tag(), p.client.local_tag());
    // Four packets: INIT, INIT ACK, COOKIE ECHO, COOKIE ACK.
    assert_eq!(p.count_sent(Side::Client, chunk_type::INIT), 1);
    assert_eq!(p.count_sent(Side::Server, chunk_type::INIT_ACK), 1);
    assert_eq!(p.count_sent(Side::Client, chunk_type::COOKIE_ECHO), 1);
    assert_eq!(p.count_sent(Side::Server, chunk_type::COOKIE_ACK), 1);
}

#[test]
fn handshake_survives_a_lost_init() {
    let mut p = Pair::new(2, Net::default());
    // Lose the first INIT.
    let init = p.client.poll_transmit(p.now).unwrap();
    assert_eq!(Packet::parse(&init).unwrap().header().verification_tag, 0);
    p.connected();
    assert_eq!(
        p.count_sent(Side::Client, chunk_type::INIT),
        1,
        "one INIT retransmission seen"
    );
    // The INIT retransmission waited for the initial RTO (3 s).
    assert!(p.now - p.sent_start >= Duration::from_secs(3));
}

#[test]
fn messages_both_ways_on_several_streams() {
    let mut p = Pair::new(3, Net::default());
    p.connected();
    let mut rng = StdRng::seed_from_u64(33);
    let mut expect_at_server = Vec::new();
    let mut expect_at_client = Vec::new();
    for i in 0..300u32 {
        let stream = (i % 4) as u16;
        let len = rng.random_range(4..600);
        let m = payload(&mut rng, i, len);
        p.client.send(stream, wire::PPID_NGAP, m.clone()).unwrap();
        expect_at_server.push((stream, wire::PPID_NGAP, m));
        let m = payload(&mut rng, i + 10_000, len);
        p.server().send(stream, 61, m.clone()).unwrap();
        expect_at_client.push((stream, 61, m));
        if i % 7 == 0 {
            p.step();
        }
    }
    p.drive_until(Duration::from_secs(30), |p| {
        Pair::messages(&p.server_events).len() == 300 && Pair::messages(&p.client_events).len() == 300
    });
    assert_eq!(Pair::messages(&p.server_events), expect_at_server);
    assert_eq!(Pair::messages(&p.client_events), expect_at_client);
    // Delayed SACK: far fewer SACKs than DATA chunks.
    let data = p.count_sent(Side::Client, chunk_type::DATA);
    let sacks = p.count_sent(Side::Server, chunk_type::SACK);
    assert!(sacks < data, "{sacks} SACKs for {data} DATA chunks");
}

#[test]
fn big_messages_are_fragmented_and_reassembled() {
    let mut p = Pair::new(4, Net::default());
    p.connected();
    let mut rng = StdRng::seed_from_u64(44);
    let big = payload(&mut rng, 1, 200_000);
    let small = payload(&mut rng, 2, 10);
    p.client.send(1, wire::PPID_NGAP, big.clone()).unwrap();
    p.client.send(1, wire::PPID_NGAP, small.clone()).unwrap();
    p.drive_until(Duration::from_secs(60), |p| Pair::messages(&p.server_events).len() == 2);
    let got = Pair::messages(&p.server_events);
    assert_eq!(got[0].2, big);
    assert_eq!(got[1].2, small);
    // Every packet respects the 1200-byte limit; DATA carried B/E flags.
    assert!(p.sent.iter().all(|(_, b)| b.len() <= 1200));
    assert!(p.count_sent(Side::Client, chunk_type::DATA) >= 200_000 / 1172);
}

#[test]
fn unordered_messages_are_delivered() {
    let mut p = Pair::new(5, Net::default());
    p.connected();
    p.client.send_unordered(2, 7, Bytes::from_static(b"u1")).unwrap();
    p.client.send(2, 7, Bytes::from_static(b"o1")).unwrap();
    p.drive_until(Duration::from_secs(5), |p| Pair::messages(&p.server_events).len() == 2);
    let got: Vec<_> = Pair::messages(&p.server_events).into_iter().map(|m| m.2).collect();
    assert!(got.contains(&Bytes::from_static(b"u1")) && got.contains(&Bytes::from_static(b"o1")));
}

fn lossy_config() -> Config {
    Config {
        association_max_retrans: 30,
        path_max_retrans: 30,
        ..test_config()
    }
}

#[test]
fn loss_reordering_and_duplication_deliver_exactly_once_in_order() {
    for seed in [6u64, 7, 8] {
        let net = Net {
            latency: Duration::from_millis(20),
            jitter: Duration::from_millis(30),
            loss: 0.2,
            duplicate: 0.1,
        };
        let mut p = Pair::with_configs(seed, net, lossy_config(), lossy_config());
        p.connected();
        let mut rng = StdRng::seed_from_u64(seed * 100);
        let mut expect_server: HashMap<u16, Vec<Bytes>> = HashMap::new();
        let mut expect_client: HashMap<u16, Vec<Bytes>> = HashMap::new();
        let n = 200u32;
        for i in 0..n {
            let stream = rng.random_range(0..4u16);
            // Mostly small NGAP-sized messages, some bigger than the PMTU.
            let len = if i % 10 == 0 {
                rng.random_range(1200..5000)
            } else {
                rng.random_range(4..400)
            };
            let m = payload(&mut rng, i, len);
            p.client.send(stream, 60, m.clone()).unwrap();
            expect_server.entry(stream).or_default().push(m);
            let m = payload(&mut rng, i | 0x8000_0000, len / 2 + 4);
            p.server().send(stream, 60, m.clone()).unwrap();
            expect_client.entry(stream).or_default().push(m);
            p.run_for(Duration::from_millis(5));
        }
        p.drive_until(Duration::from_secs(600), |p| {
            Pair::messages(&p.server_events).len() >= n as usize && Pair::messages(&p.client_events).len() >= n as usize
        });
        // Let late duplicates and retransmissions settle, then compare.
        p.run_for(Duration::from_secs(20));
        for (events, expect) in [(&p.server_events, &expect_server), (&p.client_events, &expect_client)] {
            let mut got: HashMap<u16, Vec<Bytes>> = HashMap::new();
            for (s, _, d) in Pair::messages(events) {
                got.entry(s).or_default().push(d);
            }
            assert_eq!(&got, expect, "seed {seed}");
        }
        assert!(p.client.is_established() && p.server().is_established());
        assert!(p.client.stats().retransmissions > 0);
        assert!(p.server().stats().duplicate_tsns_received > 0);
    }
}

#[test]
fn fast_retransmit_repairs_a_single_loss_before_t3() {
    let mut p = Pair::new(9, Net::default());
    p.connected();
    for i in 0..20u32 {
        p.client.send(0, 60, Bytes::from(vec![i as u8; 300])).unwrap();
    }
    // Drop exactly the first DATA packet.
    let first = p.client.poll_transmit(p.now).unwrap();
    let lost = Packet::parse(&first)
        .unwrap()
        .chunks()
        .flatten()
        .filter(|c| matches!(c, Chunk::Data(_)))
        .count() as u64;
    assert!(lost > 0);
    let start = p.now;
    p.drive_until(Duration::from_secs(10), |p| {
        Pair::messages(&p.server_events).len() == 20
    });
    // Repaired well before the 1 s minimum RTO would have fired.
    assert!(p.now - start < Duration::from_secs(1), "took {:?}", p.now - start);
    assert_eq!(p.client.stats().retransmissions, lost);
}

#[test]
fn heartbeats_keep_an_idle_association_up() {
    let mut cfg = test_config();
    cfg.heartbeat_interval = Some(Duration::from_secs(5));
    let mut p = Pair::with_configs(10, Net::default(), cfg.clone(), cfg);
    p.connected();
    p.run_for(Duration::from_secs(120));
    assert!(p.count_sent(Side::Client, chunk_type::HEARTBEAT) >= 10);
    assert!(p.count_sent(Side::Server, chunk_type::HEARTBEAT_ACK) >= 10);
    assert!(p.client.is_established() && p.server().is_established());
    // The RTT was measured from heartbeats: RTO dropped to RTO.min.
    assert_eq!(p.client.rto(), Duration::from_secs(1));
}

#[test]
fn unanswered_heartbeats_take_the_association_down() {
    let mut cfg = test_config();
    cfg.heartbeat_interval = Some(Duration::from_secs(5));
    let mut p = Pair::with_configs(11, Net::default(), cfg.clone(), cfg);
    p.connected();
    p.blackhole = true;
    p.drive_until(Duration::from_secs(3600), |p| p.client.is_closed());
    assert!(p.client_events.contains(&Event::Down {
        reason: DownReason::RetransmitLimit
    }));
}

#[test]
fn graceful_shutdown_after_pending_data() {
    let mut p = Pair::new(12, Net::default());
    p.connected();
    for i in 0..10u8 {
        p.client.send(0, 60, Bytes::from(vec![i; 2000])).unwrap();
    }
    p.client.shutdown();
    assert!(p.client.send(0, 60, Bytes::from_static(b"late")).is_err());
    p.drive_until(Duration::from_secs(30), |p| {
        p.client.is_closed() && p.server.as_ref().is_some_and(Association::is_closed)
    });
    assert_eq!(Pair::messages(&p.server_events).len(), 10);
    let down = Event::Down {
        reason: DownReason::Shutdown,
    };
    assert_eq!(p.client_events.last(), Some(&down));
    assert_eq!(p.server_events.last(), Some(&down));
    assert_eq!(p.count_sent(Side::Client, chunk_type::SHUTDOWN), 1);
    assert_eq!(p.count_sent(Side::Server, chunk_type::SHUTDOWN_ACK), 1);
    assert_eq!(p.count_sent(Side::Client, chunk_type::SHUTDOWN_COMPLETE), 1);
}

#[test]
fn shutdown_from_the_server_side_with_loss() {
    let net = Net {
        loss: 0.3,
        ..Net::default()
    };
    let mut p = Pair::with_configs(13, net, lossy_config(), lossy_config());
    p.connected();
    p.server().send(1, 60, Bytes::from_static(b"bye")).unwrap();
    p.server().shutdown();
    p.drive_until(Duration::from_secs(300), |p| {
        p.server.as_ref().is_some_and(Association::is_closed)
    });
    assert_eq!(Pair::messages(&p.client_events).len(), 1);
    assert!(p.server_events.contains(&Event::Down {
        reason: DownReason::Shutdown
    }));
}

#[test]
fn abort_is_sent_and_received() {
    let mut p = Pair::new(14, Net::default());
    p.connected();
    p.client.abort();
    p.drive_until(Duration::from_secs(5), |p| {
        p.server.as_ref().is_some_and(Association::is_closed)
    });
    assert_eq!(
        p.server_events.last(),
        Some(&Event::Down {
            reason: DownReason::AbortReceived {
                cause: Some(CauseCode::UserInitiatedAbort)
            }
        })
    );
    assert_eq!(
        p.client_events.last(),
        Some(&Event::Down {
            reason: DownReason::AbortSent {
                cause: CauseCode::UserInitiatedAbort
            }
        })
    );
}

#[test]
fn abort_with_wrong_tag_is_ignored() {
    let mut p = Pair::new(15, Net::default());
    p.connected();
    let wrong = p.server().local_tag().wrapping_add(1);
    let abort = PacketBuilder::new(38412, 38412, wrong)
        .chunk(&Chunk::Abort(Abort {
            t_bit: false,
            causes: &[],
        }))
        .finish();
    p.server.as_mut().unwrap().handle(p.now, &abort);
    assert!(p.server().is_established());
    assert_eq!(p.server().stats().bad_tag, 1);
}

#[test]
fn peer_restart_is_detected() {
    let mut p = Pair::new(16, Net::default());
    p.connected();
    p.client.send(0, 60, Bytes::from_static(b"before")).unwrap();
    p.drive_until(Duration::from_secs(5), |p| Pair::messages(&p.server_events).len() == 1);
    let old_server_tag = p.server().local_tag();
    // The client's host reboots: a brand-new association from the same ports.
    p.client = Association::connect(p.now, test_config(), 1616);
    p.client_events.clear();
    p.drive_until(Duration::from_secs(10), |p| p.client.is_established());
    assert!(p.server_events.contains(&Event::Restart));
    assert_ne!(p.server().local_tag(), old_server_tag);
    assert_eq!(p.server().peer_tag(), p.client.local_tag());
    assert_eq!(p.client.peer_tag(), p.server().local_tag());
    p.client.send(0, 60, Bytes::from_static(b"after")).unwrap();
    p.server().send(0, 60, Bytes::from_static(b"hello again")).unwrap();
    p.drive_until(Duration::from_secs(5), |p| {
        Pair::messages(&p.server_events).len() == 2 && Pair::messages(&p.client_events).len() == 1
    });
    assert_eq!(Pair::messages(&p.server_events)[1].2, Bytes::from_static(b"after"));
}

#[test]
fn init_collision_establishes_one_association() {
    // Both sides connect at once (§5.2.1): each is a "client".
    let now = Instant::now();
    let mut a = Association::connect(now, test_config(), 17);
    let mut b = Association::connect(now, test_config(), 18);
    let mut t = now;
    for _ in 0..50 {
        let from_a: Vec<_> = std::iter::from_fn(|| a.poll_transmit(t)).collect();
        let from_b: Vec<_> = std::iter::from_fn(|| b.poll_transmit(t)).collect();
        if from_a.is_empty() && from_b.is_empty() {
            break;
        }
        t += Duration::from_millis(10);
        for pkt in &from_a {
            b.handle(t, pkt);
        }
        for pkt in &from_b {
            a.handle(t, pkt);
        }
    }
    assert!(a.is_established() && b.is_established(), "{a:?} {b:?}");
    assert_eq!(a.peer_tag(), b.local_tag());
    assert_eq!(b.peer_tag(), a.local_tag());
    assert_eq!(a.poll_event(), Some(Event::Up));
    assert_eq!(b.poll_event(), Some(Event::Up));
}

#[test]
fn bad_crc_is_dropped() {
    let mut p = Pair::new(19, Net::default());
    p.connected();
    p.client.send(0, 60, Bytes::from_static(b"payload")).unwrap();
    let mut pkt = p.client.poll_transmit(p.now).unwrap();
    let last = pkt.len() - 2;
    pkt[last] ^= 0xff;
    p.server.as_mut().unwrap().handle(p.now, &pkt);
    assert_eq!(p.server().stats().bad_checksum, 1);
    assert!(p.server().poll_event().is_none());
    // The client retransmits after its RTO and the message arrives intact.
    p.drive_until(Duration::from_secs(10), |p| Pair::messages(&p.server_events).len() == 1);
    assert_eq!(Pair::messages(&p.server_events)[0].2, Bytes::from_static(b"payload"));
}

#[test]
fn tampered_or_forged_cookie_is_rejected() {
    let now = Instant::now();
    let mut client = Association::connect(now, test_config(), 20);
    let mut listener = Listener::new(now, test_config(), 21);
    let init = client.poll_transmit(now).unwrap();
    let ListenerOutput::Reply(init_ack) = listener.handle(now, &init) else {
        panic!("INIT must be answered");
    };
    client.handle(now, &init_ack);
    let echo = client.poll_transmit(now).unwrap();
    // Flip each cookie byte in turn (CRC re-stamped so only the MAC can tell).
    let cookie_at = 12 + 4;
    for i in cookie_at..echo.len() {
        let mut bad = echo.clone();
        bad[i] ^= 0x20;
        wire::stamp_checksum(&mut bad);
        assert!(
            matches!(listener.handle(now, &bad), ListenerOutput::Nothing),
            "tampered byte {i} accepted"
        );
    }
    // A listener with another key refuses the genuine cookie.
    let mut other = Listener::new(now, test_config(), 22);
    assert!(matches!(other.handle(now, &echo), ListenerOutput::Nothing));
    // Too late: stale cookie error (§5.2.6).
    let late = now + Duration::from_secs(61);
    let ListenerOutput::Reply(err) = listener.handle(late, &echo) else {
        panic!("stale cookie must be answered");
    };
    let p = Packet::parse(&err).unwrap();
    assert_eq!(p.header().verification_tag, client.local_tag());
    let Some(Ok(Chunk::Error(e))) = p.chunks().next() else {
        panic!("ERROR expected")
    };
    let cause = wire::causes(e.causes).next().unwrap().unwrap();
    assert_eq!(CauseCode::from(cause.tlv_type), CauseCode::StaleCookie);
    // The genuine one, in time, is accepted.
    let ListenerOutput::Accepted(mut server) = listener.handle(now, &echo) else {
        panic!("valid cookie refused");
    };
    assert_eq!(server.poll_event(), Some(Event::Up));
}

#[test]
fn listener_keeps_no_state_between_init_and_cookie_echo() {
    // 50 clients handshake through one listener, their COOKIE ECHOs come
    // back in reverse order; each is accepted from the cookie alone.
    let now = Instant::now();
    let mut listener = Listener::new(now, test_config(), 23);
    let mut clients: Vec<_> = (0..50)
        .map(|s| Association::connect(now, test_config(), 1000 + s))
        .collect();
    let mut echoes = Vec::new();
    for c in &mut clients {
        let init = c.poll_transmit(now).unwrap();
        let ListenerOutput::Reply(ack) = listener.handle(now, &init) else {
            panic!("INIT must be answered")
        };
        c.handle(now, &ack);
        echoes.push(c.poll_transmit(now).unwrap());
    }
    for (i, echo) in echoes.iter().enumerate().rev() {
        let ListenerOutput::Accepted(s) = listener.handle(now, echo) else {
            panic!("cookie {i} refused")
        };
        assert_eq!(s.peer_tag(), clients[i].local_tag());
        assert_eq!(s.local_tag(), clients[i].peer_tag());
    }
}

#[test]
fn retransmission_limit_takes_the_association_down() {
    let mut cfg = test_config();
    cfg.heartbeat_interval = None;
    cfg.association_max_retrans = 4;
    cfg.path_max_retrans = 4;
    let mut p = Pair::with_configs(24, Net::default(), cfg.clone(), cfg);
    p.connected();
    p.blackhole = true;
    p.client.send(0, 60, Bytes::from_static(b"into the void")).unwrap();
    let start = p.now;
    p.drive_until(Duration::from_secs(600), |p| p.client.is_closed());
    assert_eq!(
        p.client_events.last(),
        Some(&Event::Down {
            reason: DownReason::RetransmitLimit
        })
    );
    // No RTT measured yet, so RTO.initial (3 s) doubled per timeout
    // (§6.3.3 E2): 3+6+12+24+48 s, then the fifth error exceeds the limit.
    let took = p.now - start;
    assert!(
        took >= Duration::from_secs(93) && took < Duration::from_secs(94),
        "{took:?}"
    );
    assert_eq!(p.count_sent(Side::Client, chunk_type::DATA), 5);
}

#[test]
fn handshake_gives_up_after_max_init_retransmits() {
    let mut p = Pair::new(25, Net::default());
    p.blackhole = true;
    p.drive_until(Duration::from_secs(3600), |p| p.client.is_closed());
    assert_eq!(
        p.client_events,
        [Event::Down {
            reason: DownReason::HandshakeTimeout
        }]
    );
    assert_eq!(p.count_sent(Side::Client, chunk_type::INIT), 9);
}

#[test]
fn unknown_chunks_follow_the_upper_two_bits() {
    let mut p = Pair::new(26, Net::default());
    p.connected();
    let tag = p.server().local_tag();
    let data = |tsn_offset: u32, p: &Pair| {
        let _ = p;
        Chunk::Data(DataChunk {
            unordered: false,
            beginning: true,
            ending: true,
            immediate: false,
            tsn: tsn_offset,
            stream_id: 0,
            ssn: 0,
            ppid: 60,
            payload: b"x",
        })
    };
    let next_tsn = p.client.local_initial_tsn;
    // Type 0xC1 (11): skip, go on, report in an ERROR.
    let pkt = PacketBuilder::new(38412, 38412, tag)
        .chunk(&Chunk::Unknown {
            chunk_type: 0xc1,
            flags: 0,
            value: b"zz",
        })
        .chunk(&data(next_tsn, &p))
        .finish();
    p.server.as_mut().unwrap().handle(p.now, &pkt);
    let out = p.server.as_mut().unwrap().poll_transmit(p.now).unwrap();
    let chunks: Vec<_> = Packet::parse(&out)
        .unwrap()
        .chunks()
        .flatten()
        .map(|c| c.chunk_type())
        .collect();
    assert_eq!(chunks, [chunk_type::ERROR]);
    assert!(matches!(p.server().poll_event(), Some(Event::Message { .. })));
    // Type 0x3f (00): stop processing the packet; the DATA after it is lost.
    let pkt = PacketBuilder::new(38412, 38412, tag)
        .chunk(&Chunk::Unknown {
            chunk_type: 0x3f,
            flags: 0,
            value: b"",
        })
        .chunk(&data(next_tsn.wrapping_add(1), &p))
        .finish();
    p.server.as_mut().unwrap().handle(p.now, &pkt);
    assert!(p.server().poll_event().is_none());
}

// An INIT as a Linux kernel sends it (net/sctp/sm_make_chunk.c,
// sctp_make_init): Supported Address Types, ECN Capable (0x8000), Supported
// Extensions (0x8008), Forward-TSN-Supported (0xC000). The fixed part and
// parameters are laid out field by field from RFC 9260 §3.3.2, RFC 3758
// §3.1 and RFC 5061 §4.2.7; the CRC is computed by `stamp_checksum`.
static LINUX_STYLE_INIT: [u8; 56] = [
    0x96, 0x8c, 0x96, 0x8c, // ports 38540 -> 38540 (arbitrary)
    0x00, 0x00, 0x00, 0x00, // verification tag 0
    0x00, 0x00, 0x00, 0x00, // checksum (stamped in the test)
    0x01, 0x00, 0x00, 0x2c, // INIT, length 44
    0x1b, 0x2c, 0x3d, 0x4e, // initiate tag
    0x00, 0x01, 0xa0, 0x00, // a_rwnd 106496
    0x00, 0x0a, 0xff, 0xff, // OS 10, MIS 65535
    0x7a, 0x6b, 0x5c, 0x4d, // initial TSN
    0x00, 0x0c, 0x00, 0x06, 0x00, 0x05, 0x00, 0x00, // Supported Address Types: IPv4 (+pad)
    0x80, 0x00, 0x00, 0x04, // ECN Capable
    0x80, 0x08, 0x00, 0x07, 0x82, 0xc0, 0x0f, 0x00, // Supported Extensions: RE-CONFIG, FORWARD-TSN, AUTH (+pad)
    0xc0, 0x00, 0x00, 0x04, // Forward-TSN-Supported
];

#[test]
fn linux_kernel_init_parameters_are_skipped_or_reported() {
    let mut init = LINUX_STYLE_INIT;
    wire::stamp_checksum(&mut init);
    let now = Instant::now();
    let mut cfg = test_config();
    cfg.local_port = 38540;
    let mut listener = Listener::new(now, cfg, 27);
    let ListenerOutput::Reply(ack) = listener.handle(now, &init) else {
        panic!("INIT must be answered");
    };
    let p = Packet::parse(&ack).unwrap();
    assert!(p.checksum_ok());
    assert_eq!(p.header().verification_tag, 0x1b2c_3d4e);
    let Some(Ok(Chunk::InitAck(ia))) = p.chunks().next() else {
        panic!("INIT ACK expected");
    };
    assert_eq!(ia.outbound_streams, 4);
    let params: Vec<_> = ia.params().collect::<Result<_, _>>().unwrap();
    assert_eq!(params[0].tlv_type, param_type::STATE_COOKIE);
    // 0x8000 and 0x8008 ("10": skip silently) are not reported; 0xC000
    // ("11": skip and report) comes back as an Unrecognized Parameter.
    let reported: Vec<_> = params
        .iter()
        .filter(|p| p.tlv_type == param_type::UNRECOGNIZED_PARAMETER)
        .map(|p| p.value)
        .collect();
    assert_eq!(reported, [&[0xc0, 0x00, 0x00, 0x04][..]]);
}

#[test]
fn out_of_the_blue_packets() {
    let now = Instant::now();
    let mut listener = Listener::new(now, test_config(), 28);
    // §8.4 item 5: SHUTDOWN ACK -> SHUTDOWN COMPLETE with T bit.
    let sa = PacketBuilder::new(1, 2, 0x1234).chunk(&Chunk::ShutdownAck).finish();
    let ListenerOutput::Reply(r) = listener.handle(now, &sa) else {
        panic!()
    };
    let p = Packet::parse(&r).unwrap();
    assert_eq!(p.header().verification_tag, 0x1234);
    assert_eq!((p.header().src_port, p.header().dst_port), (2, 1));
    assert_eq!(
        p.chunks().next().unwrap().unwrap(),
        Chunk::ShutdownComplete(ShutdownComplete { t_bit: true })
    );
    // §8.4 item 2: never answer an ABORT.
    let abort = PacketBuilder::new(1, 2, 0x1234)
        .chunk(&Chunk::Abort(Abort {
            t_bit: false,
            causes: &[],
        }))
        .finish();
    assert!(matches!(listener.handle(now, &abort), ListenerOutput::Nothing));
    // §8.4 item 8: other chunks -> ABORT with T bit.
    let hb = PacketBuilder::new(1, 2, 0x1234)
        .chunk(&Chunk::Heartbeat(Heartbeat { params: &[] }))
        .finish();
    let ListenerOutput::Reply(r) = listener.handle(now, &hb) else {
        panic!()
    };
    assert!(matches!(
        Packet::parse(&r).unwrap().chunks().next(),
        Some(Ok(Chunk::Abort(Abort { t_bit: true, .. })))
    ));
    // Bad CRC: silence.
    let mut bad = hb.clone();
    bad[8] ^= 1;
    assert!(matches!(listener.handle(now, &bad), ListenerOutput::Nothing));
}

#[test]
fn send_errors() {
    let mut p = Pair::new(29, Net::default());
    assert_eq!(
        p.client.send(0, 60, Bytes::from_static(b"early")),
        Err(SendError::NotEstablished(State::CookieWait))
    );
    p.connected();
    assert_eq!(
        p.client.send(4, 60, Bytes::from_static(b"x")),
        Err(SendError::InvalidStream { stream: 4, streams: 4 })
    );
    assert_eq!(p.client.send(0, 60, Bytes::new()), Err(SendError::Empty));
}

#[test]
fn random_datagrams_never_panic() {
    let mut p = Pair::new(30, Net::default());
    p.connected();
    let mut rng = StdRng::seed_from_u64(31);
    let tag = p.server().local_tag();
    for _ in 0..20_000 {
        let len = rng.random_range(0..200);
        let mut pkt: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if pkt.len() >= 16 && rng.random_bool(0.8) {
            pkt[0..4].copy_from_slice(&[0x96, 0x0c, 0x96, 0x0c]);
            pkt[4..8].copy_from_slice(&tag.to_be_bytes());
            pkt[12] = rng.random_range(0..16);
            let l = (pkt.len() - 12) as u16;
            if rng.random_bool(0.7) {
                pkt[14..16].copy_from_slice(&l.to_be_bytes());
            }
            wire::stamp_checksum(&mut pkt);
        }
        p.server.as_mut().unwrap().handle(p.now, &pkt);
        let _ = p.listener.handle(p.now, &pkt);
        while p.server.as_mut().unwrap().poll_transmit(p.now).is_some() {}
        while p.server().poll_event().is_some() {}
    }
}

#[test]
fn immediate_bit_and_second_packet_trigger_a_sack() {
    let mut p = Pair::new(32, Net::default());
    p.connected();
    let tag = p.server().local_tag();
    let tsn = p.client.local_initial_tsn;
    let data = |tsn: u32, immediate: bool| {
        let chunk = Chunk::Data(DataChunk {
            unordered: false,
            beginning: true,
            ending: true,
            immediate,
            tsn,
            stream_id: 0,
            ssn: 0,
            ppid: 60,
            payload: b"x",
        });
        PacketBuilder::new(38412, 38412, tag).chunk(&chunk).finish()
    };
    let now = p.now;
    let server = p.server.as_mut().unwrap();
    // I bit (RFC 7053) on the very first packet: SACK at once.
    server.handle(now, &data(tsn, true));
    let out = server.poll_transmit(now).expect("immediate SACK");
    let Some(Ok(Chunk::Sack(sack))) = Packet::parse(&out).unwrap().chunks().next() else {
        panic!("SACK expected");
    };
    assert_eq!(sack.cumulative_tsn_ack, tsn);
    // Next packet without the I bit: the SACK waits for the 200 ms timer…
    server.handle(now, &data(tsn.wrapping_add(1), false));
    assert!(server.poll_transmit(now).is_none());
    assert_eq!(server.poll_timeout(), Some(now + Duration::from_millis(200)));
    // …or for the second packet (§6.2).
    server.handle(now, &data(tsn.wrapping_add(2), false));
    let out = server.poll_transmit(now).expect("SACK on 2nd packet");
    let Some(Ok(Chunk::Sack(sack))) = Packet::parse(&out).unwrap().chunks().next() else {
        panic!("SACK expected");
    };
    assert_eq!(sack.cumulative_tsn_ack, tsn.wrapping_add(2));
}

#[test]
fn small_rto_under_loss_recovers_quickly() {
    // With a small RTO.min, one chunk lost several times used to leave the
    // RTO backed off (its RTT probe was never acked cumulatively) and stall
    // delivery for tens of seconds. RTT samples from gap-acked chunks fix it.
    for seed in 0..100u64 {
        let net = Net {
            latency: Duration::from_millis(1),
            jitter: Duration::from_millis(20),
            loss: 0.2,
            duplicate: 0.1,
        };
        let cfg = Config {
            rto_initial: Duration::from_millis(200),
            rto_min: Duration::from_millis(50),
            association_max_retrans: 50,
            path_max_retrans: 50,
            ..test_config()
        };
        let mut p = Pair::with_configs(seed, net, cfg.clone(), cfg);
        p.drive_until(Duration::from_secs(60), |p| {
            p.client.is_established() && p.server.as_ref().is_some_and(Association::is_established)
        });
        for i in 0..100u32 {
            let len = if i % 10 == 0 { 3000 } else { 100 };
            p.client
                .send((i % 3) as u16, 60, Bytes::from(vec![i as u8; len]))
                .unwrap();
        }
        let start = p.now;
        p.drive_until(Duration::from_secs(600), |p| {
            Pair::messages(&p.server_events).len() == 100
        });
        let took = p.now - start;
        assert!(took < Duration::from_secs(15), "seed {seed}: took {took:?}");
    }
}

#[test]
fn init_ack_does_not_amplify_unrecognized_parameters() {
    let mut params = Vec::new();
    for i in 0..300u16 {
        write_tlv(&mut params, 0xc100 + i, &[]);
    }
    let init = PacketBuilder::new(1, 2, 0)
        .chunk(&Chunk::Init(Init {
            initiate_tag: 7,
            a_rwnd: 65535,
            outbound_streams: 1,
            inbound_streams: 1,
            initial_tsn: 1,
            params: &params,
        }))
        .finish();
    let now = Instant::now();
    let mut listener = Listener::new(now, test_config(), 33);
    let ListenerOutput::Reply(ack) = listener.handle(now, &init) else {
        panic!("INIT must be answered");
    };
    assert!(ack.len() < 700, "INIT ACK of {} bytes", ack.len());
    assert!(ack.len() < init.len());
}

#[test]
fn client_reports_unrecognized_init_ack_parameters_after_cookie_echo() {
    let now = Instant::now();
    let mut client = Association::connect(now, test_config(), 34);
    let mut listener = Listener::new(now, test_config(), 35);
    let init = client.poll_transmit(now).unwrap();
    let ListenerOutput::Reply(ack) = listener.handle(now, &init) else {
        panic!("INIT must be answered");
    };
    // Re-build the INIT ACK with what a Linux kernel adds: ECN Capable
    // (0x8000, skip silently) and Forward-TSN-Supported (0xC000, skip and report).
    let p = Packet::parse(&ack).unwrap();
    let Some(Ok(Chunk::InitAck(ia))) = p.chunks().next() else {
        panic!("INIT ACK expected");
    };
    let mut params = ia.params.to_vec();
    write_tlv(&mut params, param_type::ECN_CAPABLE, &[]);
    write_tlv(&mut params, param_type::FORWARD_TSN_SUPPORTED, &[]);
    let h = p.header();
    let ack2 = PacketBuilder::new(h.src_port, h.dst_port, h.verification_tag)
        .chunk(&Chunk::InitAck(Init { params: &params, ..ia }))
        .finish();
    client.handle(now, &ack2);
    let out = client.poll_transmit(now).unwrap();
    let chunks: Vec<_> = Packet::parse(&out).unwrap().chunks().collect::<Result<_, _>>().unwrap();
    assert!(matches!(chunks[0], Chunk::CookieEcho(_)), "{chunks:?}");
    let Chunk::Error(e) = &chunks[1] else {
        panic!("ERROR expected: {chunks:?}");
    };
    let causes: Vec<_> = wire::causes(e.causes).collect::<Result<_, _>>().unwrap();
    assert_eq!(causes.len(), 1);
    assert_eq!(CauseCode::from(causes[0].tlv_type), CauseCode::UnrecognizedParameters);
    assert_eq!(causes[0].value, [0xc0, 0x00, 0x00, 0x04]);
    // The handshake still completes.
    let ListenerOutput::Accepted(_) = listener.handle(now, &out) else {
        panic!("COOKIE ECHO refused");
    };
}
