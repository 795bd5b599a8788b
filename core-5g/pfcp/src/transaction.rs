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
