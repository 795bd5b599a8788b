//! Reliable delivery of PFCP messages (TS 29.244 §6.4), sans-IO.
//!
//! PFCP runs over UDP; the sender of a request keeps it and retransmits it every
//! T1 until a response with the same sequence number comes from the same peer, at
//! most N1 times, then gives up. The receiver of a request keeps its response for
//! a while and, when the same request (same peer, same sequence number) comes
//! again, sends the kept response instead of handing the request to the logic a
//! second time.
//!
//! [`Transactions`] does both for one local PFCP entity and any number of peers.
//! It never reads the clock or touches a socket: the glue feeds it datagrams
//! ([`Transactions::handle_datagram`]) and time ([`Transactions::handle_timeout`]),
//! and drains [`Transactions::poll_transmit`] and [`Transactions::poll_event`]
//! until empty, sleeping until [`Transactions::poll_timeout`].
//!
//! ```
//! use std::net::{Ipv4Addr, SocketAddr};
//! use std::time::Instant;
//! use hexcore_pfcp::{*, ie::*};
//!
//! let local = LocalNode { node_id: NodeId::Ipv4(Ipv4Addr::LOCALHOST), recovery_time_stamp: Timestamp(1) };
//! let mut tx: Transactions<SocketAddr> = Transactions::new(local, Config::default());
//! let upf: SocketAddr = "127.0.0.2:8805".parse().unwrap();
//! let now = Instant::now();
//! let seq = tx.send_request(now, upf, Pdu::node(HeartbeatRequest::new(Timestamp(1))));
//! let out = tx.poll_transmit().unwrap();
//! assert_eq!(out.peer, upf);
//! assert_eq!(tx.poll_timeout(), Some(now + Config::default().t1));
//! # let _ = seq;
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::header::{Direction, Packet};
use crate::message::{LocalNode, Pdu};

/// Timers and counters of §6.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// T1: time to wait for a response before retransmitting (default 3 s).
    pub t1: Duration,
    /// N1: retransmissions before giving up (default 3).
    pub n1: u32,
    /// How long a response is kept to answer duplicates of its request, and how
    /// long a request being served blocks its duplicates (default T1 × (N1 + 1):
    /// the last retransmission of the peer arrives by N1 × T1, plus a T1 of slack).
    pub response_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        let t1 = Duration::from_secs(3);
        let n1 = 3;
        Config {
            t1,
            n1,
            response_ttl: t1 * (n1 + 1),
        }
    }
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<P> {
    /// Where to.
    pub peer: P,
    /// The PFCP message.
    pub bytes: Vec<u8>,
}

/// What the logic must hear.
// Most events carry a `Pdu` (large, see `Message`); boxing it would only move the
// allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<P> {
    /// A new request. Answer it with [`Transactions::send_response`].
    Request {
        /// From whom.
        peer: P,
        /// The request.
        pdu: Pdu,
    },
    /// The response to one of our requests: decoded, or why it could not be (the
    /// transaction is over either way).
    Response {
        /// From whom.
        peer: P,
        /// Our request, as sent.
        request: Pdu,
        /// The response.
        response: Result<Pdu, Error>,
    },
    /// No response after N1 retransmissions (§6.4): the peer is presumed
    /// unreachable for this request.
    TimedOut {
        /// To whom.
        peer: P,
        /// Our request, as sent.
        request: Pdu,
    },
    /// A datagram that could not be decoded. A request whose header was readable
    /// has already been answered with the error response of
    /// [`Pdu::error_response`]; anything else was dropped.
    Malformed {
        /// From whom.
        peer: P,
        /// What was wrong.
        error: Error,
    },
}

/// Counters, for telemetry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests sent (first transmissions).
    pub requests_sent: u64,
    /// Requests retransmitted.
    pub retransmissions: u64,
    /// Requests given up on.
    pub timeouts: u64,
    /// Responses matched to a request.
    pub responses_matched: u64,
    /// Responses matching no outstanding request (late, duplicated, or forged).
    pub responses_unmatched: u64,
    /// Duplicate requests answered from the response cache.
    pub duplicates_answered: u64,
    /// Duplicate requests dropped because the logic has not answered yet.
    pub duplicates_dropped: u64,
    /// Datagrams that could not be decoded.
    pub malformed: u64,
}

#[derive(Debug)]
struct Outstanding<P> {
    peer: P,
    request: Pdu,
    bytes: Vec<u8>,
    deadline: Instant,
    retransmissions: u32,
}

#[derive(Debug)]
struct Received {
    expires: Instant,
    /// `None` while the logic is serving the request.
    response: Option<Vec<u8>>,
}

/// The largest sequence number (24 bits, §7.2.2.1).
const SEQ_MASK: u32 = 0x00FF_FFFF;

/// The PFCP transaction layer of one entity. `P` identifies a peer (usually a
/// `SocketAddr`).
#[derive(Debug)]
pub struct Transactions<P> {
    local: LocalNode,
    config: Config,
    next_seq: u32,
    outstanding: HashMap<u32, Outstanding<P>>,
    /// Retransmission deadlines; an entry is stale when its request is gone or has
    /// a later deadline.
    deadlines: BinaryHeap<Reverse<(Instant, u32)>>,
    received: HashMap<(P, u32), Received>,
    /// Expiries of `received`, in the order they were set (so, with a fixed TTL
    /// and time that does not go back, in time order).
    expiries: VecDeque<(Instant, P, u32)>,
    transmits: VecDeque<Transmit<P>>,
    events: VecDeque<Event<P>>,
    stats: Stats,
}

impl<P: Clone + Eq + Hash> Transactions<P> {
    /// A transaction layer that answers broken requests as `local`.
    pub fn new(local: LocalNode, config: Config) -> Self {
        Transactions {
            local,
            config,
            next_seq: 1,
            outstanding: HashMap::new(),
            deadlines: BinaryHeap::new(),
            received: HashMap::new(),
            expiries: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    /// Start with this sequence number (e.g. random, so that a restart does not
    /// reuse the numbers of the previous run).
    pub fn with_initial_sequence_number(mut self, seq: u32) -> Self {
        self.next_seq = seq & SEQ_MASK;
        self
    }

    /// Send a request: assigns it a sequence number (returned), queues it for
    /// transmission and retransmits it until answered or given up.
    pub fn send_request(&mut self, now: Instant, peer: P, mut request: Pdu) -> u32 {
        let seq = self.allocate_sequence_number();
        request.header.sequence_number = seq;
        let bytes = request.encode();
        self.transmits.push_back(Transmit {
            peer: peer.clone(),
            bytes: bytes.clone(),
        });
        let deadline = now + self.config.t1;
        self.outstanding.insert(
            seq,
            Outstanding {
                peer,
                request,
                bytes,
                deadline,
                retransmissions: 0,
            },
        );
        self.deadlines.push(Reverse((deadline, seq)));
        self.stats.requests_sent += 1;
        seq
    }

    /// Stop waiting for the response to request `seq` (no event follows).
    pub fn cancel(&mut self, seq: u32) -> Option<Pdu> {
        self.outstanding.remove(&seq).map(|o| o.request)
    }

    /// Answer a request received from `peer`: `response.header.sequence_number` must
    /// be the request's (see [`Pdu::response_to`]). The response is kept for
    /// [`Config::response_ttl`] to answer retransmissions of the request.
    pub fn send_response(&mut self, now: Instant, peer: P, response: &Pdu) {
        let bytes = response.encode();
        self.cache_and_send(now, peer, response.header.sequence_number, bytes);
    }

    /// Feed a received datagram. Bundled messages (FO flag, §7.2.1) are taken one
    /// by one.
    pub fn handle_datagram(&mut self, now: Instant, peer: P, datagram: &[u8]) {
        let mut rest = datagram;
        while !rest.is_empty() {
            match Packet::new_checked(rest) {
                Err(error) => {
                    self.reject(now, peer, rest, error);
                    return;
                }
                Ok(packet) => {
                    let total = packet.total_len();
                    let more = packet.follow_on();
                    self.handle_packet(now, &peer, &packet);
                    rest = rest.get(total..).unwrap_or(&[]);
                    if !more {
                        return;
                    }
                }
            }
        }
    }

    fn handle_packet(&mut self, now: Instant, peer: &P, packet: &Packet<&[u8]>) {
        let seq = packet.sequence_number();
        match packet.message_type().direction() {
            Direction::Request => {
                let key = (peer.clone(), seq);
                if let Some(r) = self.received.get(&key) {
                    match &r.response {
                        Some(bytes) => {
                            self.stats.duplicates_answered += 1;
                            self.transmits.push_back(Transmit {
                                peer: peer.clone(),
                                bytes: bytes.clone(),
                            });
                        }
                        None => self.stats.duplicates_dropped += 1,
                    }
                    return;
                }
                match Pdu::parse(packet) {
                    Ok(pdu) => {
                        let expires = now + self.config.response_ttl;
                        self.received.insert(
                            key,
                            Received {
                                expires,
                                response: None,
                            },
                        );
                        self.expiries.push_back((expires, peer.clone(), seq));
                        self.events.push_back(Event::Request {
                            peer: peer.clone(),
                            pdu,
                        });
                    }
                    Err(error) => {
                        let bytes = packet.clone().into_inner();
                        let bytes = bytes.get(..packet.total_len()).unwrap_or(bytes);
                        self.reject(now, peer.clone(), bytes, error);
                    }
                }
            }
            Direction::Response => {
                let matches = self.outstanding.get(&seq).is_some_and(|o| &o.peer == peer);
                if !matches {
                    self.stats.responses_unmatched += 1;
                    return;
                }
                if let Some(o) = self.outstanding.remove(&seq) {
                    self.stats.responses_matched += 1;
                    self.events.push_back(Event::Response {
                        peer: o.peer,
                        request: o.request,
                        response: Pdu::parse(packet),
                    });
                }
            }
            // §7.3: a message of unknown type is discarded.
            Direction::Unknown => self.stats.malformed += 1,
        }
    }

    /// A message that could not be decoded: answer it if it was a request with a
    /// readable header (and keep the answer for its retransmissions).
    fn reject(&mut self, now: Instant, peer: P, bytes: &[u8], error: Error) {
        self.stats.malformed += 1;
        if let Some(response) = Pdu::error_response(bytes, &error, &self.local) {
            let seq = response.header.sequence_number;
            self.cache_and_send(now, peer.clone(), seq, response.encode());
        }
        self.events.push_back(Event::Malformed { peer, error });
    }

    fn cache_and_send(&mut self, now: Instant, peer: P, seq: u32, bytes: Vec<u8>) {
        let expires = now + self.config.response_ttl;
        self.transmits.push_back(Transmit {
            peer: peer.clone(),
            bytes: bytes.clone(),
        });
        self.received.insert(
            (peer.clone(), seq),
            Received {
                expires,
                response: Some(bytes),
            },
        );
        self.expiries.push_back((expires, peer, seq));
    }

    /// Let time pass: retransmit what is due, give up on what has been
    /// retransmitted N1 times, forget expired responses.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((deadline, seq))) = self.deadlines.peek().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            let Some(o) = self.outstanding.get_mut(&seq) else {
                continue;
            };
            if o.deadline != deadline {
                continue;
            }
            if o.retransmissions < self.config.n1 {
                o.retransmissions += 1;
                o.deadline = now + self.config.t1;
                self.deadlines.push(Reverse((o.deadline, seq)));
                self.transmits.push_back(Transmit {
                    peer: o.peer.clone(),
                    bytes: o.bytes.clone(),
                });
                self.stats.retransmissions += 1;
            } else if let Some(o) = self.outstanding.remove(&seq) {
                self.stats.timeouts += 1;
                self.events.push_back(Event::TimedOut {
                    peer: o.peer,
                    request: o.request,
                });
            }
        }
        while let Some((expires, _, _)) = self.expiries.front() {
            if *expires > now {
                break;
            }
            let Some((expires, peer, seq)) = self.expiries.pop_front() else {
                break;
            };
            let key = (peer, seq);
            // A later entry for the same key (the response replacing the "being
            // served" mark) carries its own expiry.
            if self.received.get(&key).is_some_and(|r| r.expires <= expires) {
                self.received.remove(&key);
            }
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit<P>> {
        self.transmits.pop_front()
    }

    /// The next event for the logic.
    pub fn poll_event(&mut self) -> Option<Event<P>> {
        self.events.pop_front()
    }

    /// When [`Transactions::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let retransmit = self.deadlines.peek().map(|Reverse((t, _))| *t);
        let expiry = self.expiries.front().map(|(t, _, _)| *t);
        match (retransmit, expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Requests awaiting a response.
    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn allocate_sequence_number(&mut self) -> u32 {
        // At most 2^24 numbers are in flight, so this finds a free one; bounded all
        // the same.
        for _ in 0..=SEQ_MASK {
            let seq = self.next_seq;
            self.next_seq = (self.next_seq + 1) & SEQ_MASK;
            if !self.outstanding.contains_key(&seq) {
                return seq;
            }
        }
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::ie::{Cause, NodeId, Timestamp};
    use crate::message::{HeartbeatRequest, HeartbeatResponse, Message, SessionDeletionRequest};

    const SMF: u8 = 1;
    const UPF: u8 = 2;

    fn node(n: u8) -> Transactions<u8> {
        let local = LocalNode {
            node_id: NodeId::Ipv4(Ipv4Addr::new(10, 0, 0, n)),
            recovery_time_stamp: Timestamp(u32::from(n)),
        };
        Transactions::new(local, Config::default())
    }

    /// Two peers on virtual time, quinn-proto `Pair` style: datagrams move from one
    /// to the other unless `drop` says otherwise.
    struct Pair {
        now: Instant,
        smf: Transactions<u8>,
        upf: Transactions<u8>,
        smf_events: Vec<Event<u8>>,
        upf_events: Vec<Event<u8>>,
        /// Datagrams seen on the wire, in order: (from, bytes).
        wire: Vec<(u8, Vec<u8>)>,
    }

    impl Pair {
        fn new() -> Self {
            Pair {
                now: Instant::now(),
                smf: node(SMF),
                upf: node(UPF),
                smf_events: Vec::new(),
                upf_events: Vec::new(),
                wire: Vec::new(),
            }
        }

        /// Move queued datagrams and events until quiet; `drop(from, n)` decides
        /// whether the n-th datagram on the wire is lost.
        fn step(&mut self, drop: &mut dyn FnMut(u8, usize) -> bool) {
            for _ in 0..100 {
                let mut moved = false;
                while let Some(t) = self.smf.poll_transmit() {
                    assert_eq!(t.peer, UPF);
                    self.wire.push((SMF, t.bytes.clone()));
                    if !drop(SMF, self.wire.len() - 1) {
                        self.upf.handle_datagram(self.now, SMF, &t.bytes);
                    }
                    moved = true;
                }
                while let Some(t) = self.upf.poll_transmit() {
                    assert_eq!(t.peer, SMF);
                    self.wire.push((UPF, t.bytes.clone()));
                    if !drop(UPF, self.wire.len() - 1) {
                        self.smf.handle_datagram(self.now, UPF, &t.bytes);
                    }
                    moved = true;
                }
                while let Some(e) = self.smf.poll_event() {
                    self.smf_events.push(e);
                }
                while let Some(e) = self.upf.poll_event() {
                    self.upf_events.push(e);
                }
                if !moved {
                    return;
                }
            }
            panic!("the pair does not settle");
        }

        /// Jump to the earlier of both peers' timeouts, and fire them.
        fn advance(&mut self) {
            let next = [self.smf.poll_timeout(), self.upf.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let next = next.expect("a timer is pending");
            assert!(next >= self.now);
            self.now = next;
            self.smf.handle_timeout(self.now);
            self.upf.handle_timeout(self.now);
        }

        /// The UPF answers every heartbeat it is handed.
        fn upf_answers(&mut self) {
            for e in std::mem::take(&mut self.upf_events) {
                if let Event::Request { peer, pdu } = e {
                    let rsp = Pdu::response_to(&pdu.header, 0, HeartbeatResponse::new(Timestamp(2)));
                    self.upf.send_response(self.now, peer, &rsp);
                    self.upf_events.push(Event::Request { peer, pdu });
                }
            }
        }
    }

    fn heartbeat() -> Pdu {
        Pdu::node(HeartbeatRequest::new(Timestamp(1)))
    }

    fn requests(events: &[Event<u8>]) -> usize {
        events.iter().filter(|e| matches!(e, Event::Request { .. })).count()
    }

    #[test]
    fn request_and_response() {
        let mut p = Pair::new();
        let seq = p.smf.send_request(p.now, UPF, heartbeat());
        p.step(&mut |_, _| false);
        assert_eq!(requests(&p.upf_events), 1);
        p.upf_answers();
        p.step(&mut |_, _| false);
        let [
            Event::Response {
                peer,
                request,
                response,
            },
        ] = p.smf_events.as_slice()
        else {
            panic!("{:?}", p.smf_events)
        };
        assert_eq!(*peer, UPF);
        assert_eq!(request.header.sequence_number, seq);
        let response = response.as_ref().unwrap();
        assert_eq!(response.header.sequence_number, seq);
        assert_eq!(
            response.message,
            Message::HeartbeatResponse(HeartbeatResponse::new(Timestamp(2)))
        );
        assert_eq!(p.smf.outstanding(), 0);
        assert_eq!(p.wire.len(), 2);
    }

    #[test]
    fn lost_request_is_retransmitted_after_t1() {
        let mut p = Pair::new();
        let start = p.now;
        p.smf.send_request(p.now, UPF, heartbeat());
        p.step(&mut |_, n| n == 0);
        assert!(p.upf_events.is_empty());
        p.advance();
        assert_eq!(p.now, start + Config::default().t1);
        p.step(&mut |_, _| false);
        p.upf_answers();
        p.step(&mut |_, _| false);
        assert!(matches!(
            p.smf_events.as_slice(),
            [Event::Response { response: Ok(_), .. }]
        ));
        assert_eq!(p.smf.stats().retransmissions, 1);
        assert_eq!(p.wire[0].1, p.wire[1].1, "a retransmission is the same octets");
    }

    #[test]
    fn lost_response_is_answered_from_the_cache() {
        let mut p = Pair::new();
        p.smf.send_request(p.now, UPF, heartbeat());
        p.step(&mut |_, _| false);
        p.upf_answers();
        // The response (datagram 1) is lost.
        p.step(&mut |_, n| n == 1);
        assert!(p.smf_events.is_empty());
        p.advance();
        p.step(&mut |_, _| false);
        // The UPF's logic saw the request once; its cached response answered the
        // retransmission.
        assert_eq!(requests(&p.upf_events), 1);
        assert_eq!(p.upf.stats().duplicates_answered, 1);
        assert!(matches!(
            p.smf_events.as_slice(),
            [Event::Response { response: Ok(_), .. }]
        ));
        assert_eq!(p.wire[1].1, p.wire[3].1, "the cached response is resent as is");
    }

    #[test]
    fn duplicate_while_being_served_is_dropped() {
        let mut p = Pair::new();
        p.smf.send_request(p.now, UPF, heartbeat());
        p.step(&mut |_, _| false);
        // T1 passes before the UPF's logic answers.
        p.advance();
        p.step(&mut |_, _| false);
        assert_eq!(requests(&p.upf_events), 1);
        assert_eq!(p.upf.stats().duplicates_dropped, 1);
        p.upf_answers();
        p.step(&mut |_, _| false);
        assert_eq!(p.smf_events.len(), 1);
    }

    #[test]
    fn gives_up_after_n1_retransmissions() {
        let mut p = Pair::new();
        let start = p.now;
        let c = Config::default();
        p.smf
            .send_request(p.now, UPF, Pdu::session(9, SessionDeletionRequest::new()));
        for _ in 0..10 {
            p.step(&mut |_, _| true);
            if !p.smf_events.is_empty() {
                break;
            }
            p.advance();
        }
        let [Event::TimedOut { peer, request }] = p.smf_events.as_slice() else {
            panic!("{:?}", p.smf_events)
        };
        assert_eq!(*peer, UPF);
        assert_eq!(request.header.seid, Some(9));
        // One transmission and N1 retransmissions, then (N1 + 1) × T1 after the
        // first, the end.
        assert_eq!(p.wire.len(), 1 + c.n1 as usize);
        assert_eq!(p.now, start + c.t1 * (c.n1 + 1));
        assert_eq!(p.smf.stats().timeouts, 1);
        assert_eq!(p.smf.outstanding(), 0);
    }

    #[test]
    fn cache_expires() {
        let mut p = Pair::new();
        p.smf.send_request(p.now, UPF, heartbeat());
        p.step(&mut |_, _| false);
        p.upf_answers();
        p.step(&mut |_, _| false);
        let first = p.wire[0].1.clone();
        // Within the TTL a replay is answered from the cache…
        p.upf.handle_datagram(p.now, SMF, &first);
        assert!(p.upf.poll_event().is_none());
        assert!(p.upf.poll_transmit().is_some());
        // …after it, the same octets are a new request.
        while p.upf.poll_timeout().is_some() {
            p.now = p.upf.poll_timeout().unwrap();
            p.upf.handle_timeout(p.now);
        }
        p.upf.handle_datagram(p.now, SMF, &first);
        assert!(matches!(p.upf.poll_event(), Some(Event::Request { .. })));
    }

    #[test]
    fn responses_must_match_peer_and_sequence_number() {
        let mut smf = node(SMF);
        let now = Instant::now();
        let seq = smf.send_request(now, UPF, heartbeat());
        let header = crate::header::Header {
            sequence_number: seq,
            ..Default::default()
        };
        let rsp = Pdu::response_to(&header, 0, HeartbeatResponse::new(Timestamp(2))).encode();
        // From another peer, or with another sequence number: ignored.
        smf.handle_datagram(now, 3, &rsp);
        let other = Pdu::response_to(
            &crate::header::Header {
                sequence_number: seq + 1,
                ..Default::default()
            },
            0,
            HeartbeatResponse::new(Timestamp(2)),
        );
        smf.handle_datagram(now, UPF, &other.encode());
        assert!(smf.poll_event().is_none());
        assert_eq!(smf.stats().responses_unmatched, 2);
        smf.handle_datagram(now, UPF, &rsp);
        assert!(matches!(smf.poll_event(), Some(Event::Response { .. })));
        // A late duplicate of the response is unmatched too.
        smf.handle_datagram(now, UPF, &rsp);
        assert!(smf.poll_event().is_none());
    }

    #[test]
    fn malformed_request_is_answered_once_and_cached() {
        let mut upf = node(UPF);
        let now = Instant::now();
        // free5GC pfcp's decode_test.go Association Setup Request: no Recovery Time Stamp.
        let req = [
            0x20, 0x5, 0x0, 0xd, 0x0, 0x0, 0x1, 0x0, 0x0, 0x3c, 0x0, 0x5, 0x0, 0xc0, 0xbc, 0x2, 0x2,
        ];
        upf.handle_datagram(now, SMF, &req);
        assert_eq!(
            upf.poll_event(),
            Some(Event::Malformed {
                peer: SMF,
                error: Error::MissingMandatoryIe {
                    ie: crate::ie::IeType::RecoveryTimeStamp
                }
            })
        );
        let t = upf.poll_transmit().unwrap();
        let rsp = Pdu::decode(&t.bytes).unwrap();
        assert_eq!(rsp.message.cause(), Some(Cause::MandatoryIeMissing));
        assert_eq!(rsp.header.sequence_number, 1);
        upf.handle_datagram(now, SMF, &req);
        assert_eq!(upf.poll_transmit().map(|t| t.bytes), Some(t.bytes));
        assert!(upf.poll_event().is_none());
        // Garbage with no readable header: counted, not answered.
        upf.handle_datagram(now, SMF, &[0x20, 0x01]);
        assert!(upf.poll_transmit().is_none());
        assert!(matches!(upf.poll_event(), Some(Event::Malformed { .. })));
        assert_eq!(upf.stats().malformed, 2);
    }

    #[test]
    fn bundled_messages_and_sequence_wrap() {
        let mut upf = node(UPF);
        let now = Instant::now();
        let mut a = heartbeat();
        a.header.follow_on = true;
        a.header.sequence_number = 7;
        let mut b = heartbeat();
        b.header.sequence_number = 8;
        let mut dgram = a.encode();
        dgram.extend(b.encode());
        upf.handle_datagram(now, SMF, &dgram);
        assert!(matches!(upf.poll_event(), Some(Event::Request { pdu, .. }) if pdu.header.sequence_number == 7));
        assert!(matches!(upf.poll_event(), Some(Event::Request { pdu, .. }) if pdu.header.sequence_number == 8));

        let mut smf = node(SMF).with_initial_sequence_number(0x00FF_FFFF);
        assert_eq!(smf.send_request(now, UPF, heartbeat()), 0x00FF_FFFF);
        assert_eq!(smf.send_request(now, UPF, heartbeat()), 0);
        assert_eq!(smf.cancel(0).map(|p| p.header.sequence_number), Some(0));
        assert_eq!(smf.outstanding(), 1);
    }
}
