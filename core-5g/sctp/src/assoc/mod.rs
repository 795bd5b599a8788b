//! A sans-IO SCTP association (RFC 9260), in the style of quinn-proto.
//!
//! The machine never reads the clock nor touches a socket. The glue feeds
//! datagrams with [`Association::handle`], fires timers with
//! [`Association::handle_timeout`], and drains [`Association::poll_transmit`],
//! [`Association::poll_event`] and [`Association::poll_timeout`] after each
//! call. Randomness (tags, initial TSNs, heartbeat nonces) comes from a
//! seeded RNG given at construction.
//!
//! The listening side is [`Listener`]: it answers INITs with a signed State
//! Cookie and creates an [`Association`] only for a valid COOKIE ECHO.

mod listen;
mod reassembly;
mod retransmission;
mod timers;

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use thiserror::Error;

pub use listen::{Listener, ListenerOutput};
pub use retransmission::RtoEstimator;

use crate::cookie::{CookieData, CookieError, CookieJar};
use crate::wire::{
    self, Abort, CauseCode, Chunk, CookieEcho, DataChunk, ErrorChunk, Heartbeat, Init, Packet, PacketBuilder, Shutdown,
    ShutdownComplete, param_type, write_tlv,
};
use reassembly::{Received, Receiver};
use retransmission::Sender;
use timers::{Timer, TimerTable};

/// Settings of one association. The defaults are RFC 9260 §16's protocol
/// parameters and a packet size that fits SCTP over UDP on any path.
#[derive(Debug, Clone)]
pub struct Config {
    /// SCTP port in our packets' source field.
    pub local_port: u16,
    /// SCTP port of the peer (connecting side only; a listener answers the
    /// port the INIT came from).
    pub remote_port: u16,
    /// Outbound streams we ask for (OS).
    pub outbound_streams: u16,
    /// Most inbound streams we accept (MIS).
    pub max_inbound_streams: u16,
    /// Receive buffer, announced as a_rwnd.
    pub receive_buffer: u32,
    /// Largest SCTP packet we send (UDP payload for RFC 6951).
    pub max_packet_size: usize,
    pub rto_initial: Duration,
    pub rto_min: Duration,
    pub rto_max: Duration,
    /// Max.Init.Retransmits (INIT and COOKIE ECHO).
    pub max_init_retransmits: u32,
    /// Association.Max.Retrans: consecutive timeouts before the association is down.
    pub association_max_retrans: u32,
    /// Path.Max.Retrans: the path is reported inactive past this many
    /// consecutive timeouts. With one path (SCTP over UDP to one address) the
    /// association stays until `association_max_retrans` (§8.2, §8.1).
    pub path_max_retrans: u32,
    /// HB.interval; `None` disables heartbeats.
    pub heartbeat_interval: Option<Duration>,
    /// Delayed SACK timer (at most 500 ms, §6.2; 200 ms is usual).
    pub sack_delay: Duration,
    /// Valid.Cookie.Life.
    pub cookie_lifetime: Duration,
    /// Largest user message accepted by `send`.
    pub max_message_size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            local_port: wire::NGAP_PORT,
            remote_port: wire::NGAP_PORT,
            outbound_streams: 16,
            max_inbound_streams: 16,
            receive_buffer: 256 * 1024,
            max_packet_size: 1200,
            rto_initial: Duration::from_secs(3),
            rto_min: Duration::from_secs(1),
            rto_max: Duration::from_secs(60),
            max_init_retransmits: 8,
            association_max_retrans: 10,
            path_max_retrans: 5,
            heartbeat_interval: Some(Duration::from_secs(30)),
            sack_delay: Duration::from_millis(200),
            cookie_lifetime: Duration::from_secs(60),
            max_message_size: 1024 * 1024,
        }
    }
}

impl Config {
    /// Largest user data in one DATA chunk so a packet stays within
    /// `max_packet_size` (common header and DATA header subtracted).
    fn max_fragment(&self) -> usize {
        (self
            .max_packet_size
            .saturating_sub(wire::COMMON_HEADER_LEN + wire::DATA_HEADER_LEN)
            & !3)
            .max(4)
    }
}

/// What the association tells its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Established (COOKIE ACK received or valid COOKIE ECHO accepted).
    Up,
    /// A complete user message.
    Message { stream: u16, ppid: u32, data: Bytes },
    /// The peer restarted (§5.2.4 case A); queued data was dropped.
    Restart,
    /// The association is gone; nothing more will come.
    Down { reason: DownReason },
}

/// Why an association went down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// Graceful SHUTDOWN sequence completed (§9.2).
    Shutdown,
    /// The peer sent ABORT; its first error cause if any.
    AbortReceived { cause: Option<CauseCode> },
    /// We sent ABORT (user abort or protocol violation).
    AbortSent { cause: CauseCode },
    /// Too many retransmissions without answer (§8.1, §8.2).
    RetransmitLimit,
    /// INIT or COOKIE ECHO retransmitted Max.Init.Retransmits times.
    HandshakeTimeout,
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::Shutdown => write!(f, "shutdown complete"),
            DownReason::AbortReceived { cause: Some(c) } => write!(f, "abort received ({c:?})"),
            DownReason::AbortReceived { cause: None } => write!(f, "abort received"),
            DownReason::AbortSent { cause } => write!(f, "abort sent ({cause:?})"),
            DownReason::RetransmitLimit => write!(f, "peer unreachable (retransmission limit)"),
            DownReason::HandshakeTimeout => write!(f, "handshake timed out"),
        }
    }
}

/// Association states (RFC 9260 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    CookieWait,
    CookieEchoed,
    Established,
    ShutdownPending,
    ShutdownSent,
    ShutdownReceived,
    ShutdownAckSent,
    Closed,
}

/// Why `send` refused a message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendError {
    /// Not established, or shutting down.
    #[error("association not established (state {0:?})")]
    NotEstablished(State),
    /// The stream is not one of the negotiated outbound streams.
    #[error("stream {stream} not negotiated (outbound streams: {streams})")]
    InvalidStream { stream: u16, streams: u16 },
    /// Empty user messages cannot be sent (§6.2 "No User Data").
    #[error("empty message")]
    Empty,
    /// Larger than `Config::max_message_size`.
    #[error("message of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
}

/// Counters for logs and metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub packets_received: u64,
    pub packets_sent: u64,
    /// Dropped for a bad CRC32c.
    pub bad_checksum: u64,
    /// Dropped for a wrong verification tag or ports.
    pub bad_tag: u64,
    pub data_chunks_received: u64,
    pub duplicate_tsns_received: u64,
    pub retransmissions: u64,
}

/// One SCTP association.
#[derive(Clone)]
pub struct Association {
    config: Config,
    state: State,
    /// Our tag: the peer puts it into every packet to us.
    local_tag: u32,
    /// The peer's tag: we put it into every packet to it.
    peer_tag: u32,
    local_port: u16,
    remote_port: u16,
    local_initial_tsn: u32,
    jar: CookieJar,
    rng: StdRng,
    sender: Sender,
    receiver: Option<Receiver>,
    timers: TimerTable,
    /// INIT or COOKIE ECHO retransmissions so far.
    init_retransmits: u32,
    /// Consecutive timeouts (§8.1 error counter).
    error_count: u32,
    /// Our INIT chunk, encoded, for retransmission.
    init_chunk: Vec<u8>,
    /// The cookie to echo (COOKIE-ECHOED).
    cookie: Vec<u8>,
    /// Encoded control chunks for the next packet under `peer_tag`.
    control: VecDeque<Vec<u8>>,
    /// Finished packets.
    out: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    /// A SACK must go out with the next packet.
    sack_now: bool,
    /// Data received and not yet acknowledged.
    ack_pending: bool,
    /// Packets with DATA since the last SACK (§6.2: ack at least every second).
    unacked_packets: u32,
    heartbeat_pending: Option<(u64, Instant)>,
    /// T1 / T2 / T3 retransmission timeouts use this (backed off per timer kind).
    t1_rto: Duration,
    stats: Stats,
}

impl fmt::Debug for Association {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Association")
            .field("state", &self.state)
            .field("local_tag", &format_args!("{:#010x}", self.local_tag))
            .field("peer_tag", &format_args!("{:#010x}", self.peer_tag))
            .finish_non_exhaustive()
    }
}

/// Most gap blocks in one SACK (keeps it far below any packet size).
const MAX_SACK_BLOCKS: usize = 64;

impl Association {
    /// Starts an association towards a peer: sends INIT (§5.1 A).
    pub fn connect(now: Instant, config: Config, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let jar = CookieJar::new(rng.random(), now, config.cookie_lifetime);
        let local_tag = nonzero(&mut rng);
        let local_initial_tsn = rng.random();
        let mut a = Self::blank(config, jar, rng, local_tag, local_initial_tsn);
        a.state = State::CookieWait;
        a.remote_port = a.config.remote_port;
        let mut params = Vec::new();
        // We only speak IPv4/IPv6 addresses (RFC 9260 §3.3.2.1.4).
        write_tlv(&mut params, param_type::SUPPORTED_ADDRESS_TYPES, &[0, 5, 0, 6]);
        let init = Chunk::Init(Init {
            initiate_tag: local_tag,
            a_rwnd: a.config.receive_buffer,
            outbound_streams: a.config.outbound_streams,
            inbound_streams: a.config.max_inbound_streams,
            initial_tsn: local_initial_tsn,
            params: &params,
        });
        let mut buf = Vec::new();
        init.emit(&mut buf);
        a.init_chunk = buf;
        a.send_init(now);
        a
    }

    fn blank(config: Config, jar: CookieJar, rng: StdRng, local_tag: u32, local_initial_tsn: u32) -> Self {
        let rto = RtoEstimator::new(config.rto_initial, config.rto_min, config.rto_max);
        let sender = Sender::new(local_initial_tsn, 0, 0, config.max_packet_size, rto);
        Association {
            local_port: config.local_port,
            remote_port: config.remote_port,
            t1_rto: config.rto_initial,
            config,
            state: State::Closed,
            local_tag,
            peer_tag: 0,
            local_initial_tsn,
            jar,
            rng,
            sender,
            receiver: None,
            timers: TimerTable::default(),
            init_retransmits: 0,
            error_count: 0,
            init_chunk: Vec::new(),
            cookie: Vec::new(),
            control: VecDeque::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            sack_now: false,
            ack_pending: false,
            unacked_packets: 0,
            heartbeat_pending: None,
            stats: Stats::default(),
        }
    }

    /// Builds the association a valid COOKIE ECHO describes (listening side).
    fn from_cookie(now: Instant, config: Config, jar: CookieJar, c: &CookieData, seed: u64) -> Self {
        let rng = StdRng::seed_from_u64(seed);
        let mut a = Self::blank(config, jar, rng, c.local_tag, c.local_initial_tsn);
        a.local_port = c.local_port;
        a.remote_port = c.peer_port;
        a.install(c);
        a.enter_established(now);
        a.control.push_back(encode(&Chunk::CookieAck));
        a
    }

    /// Takes the tags, TSNs and streams agreed in a cookie.
    fn install(&mut self, c: &CookieData) {
        self.local_tag = c.local_tag;
        self.peer_tag = c.peer_tag;
        self.local_initial_tsn = c.local_initial_tsn;
        let rto = self.sender.rto.clone();
        self.sender = Sender::new(
            c.local_initial_tsn,
            c.outbound_streams,
            c.peer_a_rwnd,
            self.config.max_packet_size,
            rto,
        );
        self.receiver = Some(Receiver::new(
            c.peer_initial_tsn,
            c.inbound_streams,
            usize::try_from(self.config.receive_buffer).unwrap_or(usize::MAX),
        ));
    }

    fn enter_established(&mut self, now: Instant) {
        self.state = State::Established;
        self.timers.stop(Timer::T1Init);
        self.timers.stop(Timer::T1Cookie);
        self.error_count = 0;
        self.events.push_back(Event::Up);
        self.arm_heartbeat(now);
    }

    // ---- accessors ----------------------------------------------------

    pub fn state(&self) -> State {
        self.state
    }

    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Our verification tag (what the peer puts in packets to us).
    pub fn local_tag(&self) -> u32 {
        self.local_tag
    }

    pub fn peer_tag(&self) -> u32 {
        self.peer_tag
    }

    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    pub fn remote_port(&self) -> u16 {
        self.remote_port
    }

    /// Negotiated outbound streams (0 before establishment).
    pub fn outbound_streams(&self) -> u16 {
        self.sender.outbound_streams()
    }

    /// Negotiated inbound streams (0 before establishment).
    pub fn inbound_streams(&self) -> u16 {
        self.receiver.as_ref().map_or(0, Receiver::inbound_streams)
    }

    pub fn rto(&self) -> Duration {
        self.sender.rto.rto()
    }

    pub fn cwnd(&self) -> usize {
        self.sender.cwnd
    }

    /// Bytes queued or in flight.
    pub fn buffered_amount(&self) -> usize {
        self.sender.queued_bytes() + self.sender.flight_size()
    }

    pub fn stats(&self) -> Stats {
        Stats {
            retransmissions: self.sender.retransmissions,
            ..self.stats
        }
    }

    // ---- user calls -----------------------------------------------------

    /// Queues a user message (ordered delivery on `stream`).
    pub fn send(&mut self, stream: u16, ppid: u32, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_with(stream, ppid, data.into(), false)
    }

    /// Queues a user message for unordered delivery (U bit, §6.6).
    pub fn send_unordered(&mut self, stream: u16, ppid: u32, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_with(stream, ppid, data.into(), true)
    }

    fn send_with(&mut self, stream: u16, ppid: u32, data: Bytes, unordered: bool) -> Result<(), SendError> {
        if self.state != State::Established {
            return Err(SendError::NotEstablished(self.state));
        }
        let streams = self.sender.outbound_streams();
        if stream >= streams {
            return Err(SendError::InvalidStream { stream, streams });
        }
        if data.is_empty() {
            return Err(SendError::Empty);
        }
        if data.len() > self.config.max_message_size {
            return Err(SendError::TooLarge {
                len: data.len(),
                max: self.config.max_message_size,
            });
        }
        let max_fragment = self.config.max_fragment();
        self.sender.enqueue(stream, ppid, unordered, data, max_fragment);
        Ok(())
    }

    /// Starts a graceful shutdown (§9.2): queued data still goes out.
    pub fn shutdown(&mut self) {
        match self.state {
            State::Established => self.state = State::ShutdownPending,
            State::CookieWait | State::CookieEchoed => {
                // Nothing established yet: just stop.
                self.timers.stop_all();
                self.close(DownReason::Shutdown);
            }
            _ => {}
        }
    }

    /// Aborts the association (§9.1): sends ABORT with "User-Initiated Abort".
    pub fn abort(&mut self) {
        self.abort_with(CauseCode::UserInitiatedAbort, b"");
    }

    fn abort_with(&mut self, cause: CauseCode, info: &[u8]) {
        if self.state == State::Closed {
            return;
        }
        let mut causes = Vec::new();
        write_tlv(&mut causes, cause.into(), info);
        let abort = Chunk::Abort(Abort {
            t_bit: false,
            causes: &causes,
        });
        // An ABORT goes alone, under the peer's tag; before we know it
        // (COOKIE-WAIT) there is nothing to abort on the peer.
        if self.peer_tag != 0 {
            let pkt = PacketBuilder::new(self.local_port, self.remote_port, self.peer_tag)
                .chunk(&abort)
                .finish();
            self.out.push_back(pkt);
        }
        self.close(DownReason::AbortSent { cause });
    }

    fn close(&mut self, reason: DownReason) {
        self.state = State::Closed;
        self.timers.stop_all();
        self.control.clear();
        self.events.push_back(Event::Down { reason });
    }

    // ---- polling --------------------------------------------------------

    /// The next packet to send.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            self.flush(now);
        }
        let pkt = self.out.pop_front()?;
        self.stats.packets_sent += 1;
        Some(pkt)
    }

    /// The next event for the user.
    pub fn poll_event(&mut self) -> Option<Event> {
        // Messages come from the receiver lazily, so the receive window
        // stays closed while the user does not read (back-pressure).
        let before_window = self.receiver.as_ref().map(Receiver::a_rwnd);
        if let Some(front) = self.events.front()
            && !matches!(front, Event::Message { .. })
        {
            // Up/Restart come before data; Down after it (see below).
            if !matches!(front, Event::Down { .. }) {
                return self.events.pop_front();
            }
        }
        if let Some(rx) = self.receiver.as_mut()
            && let Some(m) = rx.pop_ready()
        {
            // A window that opens from (near) zero is announced at once (§6.2).
            if let (Some(before), Some(rx)) = (before_window, self.receiver.as_ref())
                && before < rx.a_rwnd()
                && usize::try_from(before).unwrap_or(0) < self.config.max_packet_size
                && self.state != State::Closed
            {
                self.sack_now = true;
            }
            return Some(Event::Message {
                stream: m.stream,
                ppid: m.ppid,
                data: m.data,
            });
        }
        self.events.pop_front()
    }

    /// The earliest timer deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ---- timers ---------------------------------------------------------

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for timer in self.timers.expired(now) {
            if self.state == State::Closed {
                break;
            }
            match timer {
                Timer::T1Init => self.on_t1_init(now),
                Timer::T1Cookie => self.on_t1_cookie(now),
                Timer::T2Shutdown => self.on_t2(now),
                Timer::T3Rtx => self.on_t3(now),
                Timer::Heartbeat => self.on_heartbeat_timer(now),
                Timer::DelayedAck => self.sack_now = true,
                Timer::T5ShutdownGuard => self.abort_with(CauseCode::UserInitiatedAbort, b"T5"),
            }
        }
        self.flush(now);
    }

    fn send_init(&mut self, now: Instant) {
        let mut b = PacketBuilder::new(self.local_port, self.remote_port, 0);
        b.push_raw(&self.init_chunk);
        self.out.push_back(b.finish());
        self.timers.set(Timer::T1Init, now + self.t1_rto);
    }

    fn on_t1_init(&mut self, now: Instant) {
        if self.state != State::CookieWait {
            return;
        }
        self.init_retransmits += 1;
        if self.init_retransmits > self.config.max_init_retransmits {
            self.close(DownReason::HandshakeTimeout);
            return;
        }
        self.t1_rto = (self.t1_rto * 2).min(self.config.rto_max);
        self.send_init(now);
    }

    fn send_cookie_echo(&mut self, now: Instant) {
        let echo = Chunk::CookieEcho(CookieEcho { cookie: &self.cookie });
        // COOKIE ECHO must be the first chunk of its packet (§5.1 C).
        self.control.push_front(encode(&echo));
        self.timers.set(Timer::T1Cookie, now + self.t1_rto);
    }

    fn on_t1_cookie(&mut self, now: Instant) {
        if self.state != State::CookieEchoed {
            return;
        }
        self.init_retransmits += 1;
        if self.init_retransmits > self.config.max_init_retransmits {
            self.close(DownReason::HandshakeTimeout);
            return;
        }
        self.t1_rto = (self.t1_rto * 2).min(self.config.rto_max);
        self.send_cookie_echo(now);
    }

    fn count_error(&mut self) -> bool {
        self.error_count += 1;
        if self.error_count == self.config.path_max_retrans + 1 {
            tracing::info!(
                errors = self.error_count,
                "SCTP path inactive (Path.Max.Retrans exceeded)"
            );
        }
        if self.error_count > self.config.association_max_retrans {
            self.close(DownReason::RetransmitLimit);
            return false;
        }
        true
    }

    fn on_t3(&mut self, now: Instant) {
        if !self.sender.has_outstanding() {
            return;
        }
        // §6.3.3 E1–E3.
        self.sender.on_timeout();
        if !self.count_error() {
            return;
        }
        self.timers.set(Timer::T3Rtx, now + self.sender.rto.rto());
    }

    fn on_t2(&mut self, now: Instant) {
        if !self.count_error() {
            return;
        }
        self.sender.rto.back_off();
        match self.state {
            State::ShutdownSent => self.queue_shutdown(),
            State::ShutdownAckSent => self.control.push_back(encode(&Chunk::ShutdownAck)),
            _ => return,
        }
        self.timers.set(Timer::T2Shutdown, now + self.sender.rto.rto());
    }

    fn arm_heartbeat(&mut self, now: Instant) {
        if let Some(interval) = self.config.heartbeat_interval {
            // §8.3: HB.interval plus RTO, with jitter of ±50 % of the RTO.
            let rto = self.sender.rto.rto();
            let jitter = rto.mul_f64(self.rng.random_range(0.5..1.5));
            self.timers.set(Timer::Heartbeat, now + interval + jitter);
        }
    }

    fn on_heartbeat_timer(&mut self, now: Instant) {
        if !matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        ) {
            return;
        }
        if self.heartbeat_pending.take().is_some() {
            // The previous heartbeat went unanswered (§8.3).
            self.sender.rto.back_off();
            if !self.count_error() {
                return;
            }
        }
        let nonce: u64 = self.rng.random();
        let mut params = Vec::new();
        write_tlv(&mut params, param_type::HEARTBEAT_INFO, &nonce.to_be_bytes());
        self.control
            .push_back(encode(&Chunk::Heartbeat(Heartbeat { params: &params })));
        self.heartbeat_pending = Some((nonce, now));
        self.arm_heartbeat(now);
    }

    fn queue_shutdown(&mut self) {
        let cum = self.receiver.as_ref().map_or(0, Receiver::cumulative_tsn);
        self.control.push_back(encode(&Chunk::Shutdown(Shutdown {
            cumulative_tsn_ack: cum,
        })));
        self.ack_pending = false;
        self.timers.stop(Timer::DelayedAck);
    }

    // ---- receiving ------------------------------------------------------

    /// Takes in one received SCTP packet (the UDP payload for RFC 6951).
    pub fn handle(&mut self, now: Instant, datagram: &[u8]) {
        self.stats.packets_received += 1;
        if self.state == State::Closed {
            return;
        }
        let Ok(packet) = Packet::parse(datagram) else {
            return;
        };
        // §6.8: a packet with a bad CRC32c is discarded silently.
        if !packet.checksum_ok() {
            self.stats.bad_checksum += 1;
            return;
        }
        let h = packet.header();
        if h.dst_port != self.local_port || h.src_port != self.remote_port {
            self.stats.bad_tag += 1;
            return;
        }
        let chunks: Vec<Chunk<'_>> = packet.chunks().map_while(Result::ok).collect();
        let Some(first) = chunks.first() else {
            return;
        };
        // §8.5 / §8.5.1: verification tag rules.
        let tag_ok = match first {
            Chunk::Init(_) => h.verification_tag == 0 && chunks.len() == 1,
            Chunk::Abort(a) => self.tag_matches(h.verification_tag, a.t_bit),
            Chunk::ShutdownComplete(s) => self.tag_matches(h.verification_tag, s.t_bit),
            // Checked against the cookie's tag below.
            Chunk::CookieEcho(_) => true,
            _ => h.verification_tag == self.local_tag,
        };
        if !tag_ok {
            self.stats.bad_tag += 1;
            return;
        }
        self.process_chunks(now, &h, &chunks, 0);
        self.flush(now);
    }

    fn tag_matches(&self, tag: u32, t_bit: bool) -> bool {
        if t_bit {
            tag == self.peer_tag && self.peer_tag != 0
        } else {
            tag == self.local_tag
        }
    }

    fn process_chunks(&mut self, now: Instant, h: &wire::CommonHeader, chunks: &[Chunk<'_>], skip: usize) {
        let mut had_data = false;
        let mut unrecognized = Vec::new();
        for chunk in chunks.iter().skip(skip) {
            if self.state == State::Closed {
                return;
            }
            match chunk {
                Chunk::Data(d) => {
                    had_data = true;
                    if !self.on_data(d) {
                        return;
                    }
                }
                Chunk::Init(i) => self.on_init(now, h, i),
                Chunk::InitAck(i) => self.on_init_ack(now, h, i),
                Chunk::Sack(s) => self.on_sack(now, s),
                Chunk::Heartbeat(hb) => {
                    // §8.3: echo the Heartbeat Information unchanged.
                    let ack = Chunk::HeartbeatAck(Heartbeat { params: hb.params });
                    self.control.push_back(encode(&ack));
                }
                Chunk::HeartbeatAck(hb) => self.on_heartbeat_ack(now, hb),
                Chunk::Abort(a) => {
                    let cause = wire::causes(a.causes)
                        .next()
                        .and_then(Result::ok)
                        .map(|c| CauseCode::from(c.tlv_type));
                    self.close(DownReason::AbortReceived { cause });
                    return;
                }
                Chunk::Shutdown(s) => self.on_shutdown(now, s.cumulative_tsn_ack),
                Chunk::ShutdownAck => self.on_shutdown_ack(),
                Chunk::Error(e) => self.on_error(now, e),
                Chunk::CookieEcho(c) => self.on_cookie_echo(now, h, c),
                Chunk::CookieAck => {
                    if self.state == State::CookieEchoed {
                        self.cookie.clear();
                        self.enter_established(now);
                    }
                }
                Chunk::ShutdownComplete(_) => {
                    if self.state == State::ShutdownAckSent {
                        self.close(DownReason::Shutdown);
                        return;
                    }
                }
                Chunk::Unknown { chunk_type, value, .. } => {
                    // §3.2: the upper two bits of the type say what to do.
                    let report = chunk_type & 0x40 != 0;
                    if report {
                        let mut whole = Vec::new();
                        chunk.emit(&mut whole);
                        whole.truncate(4 + value.len());
                        write_tlv(&mut unrecognized, CauseCode::UnrecognizedChunkType.into(), &whole);
                    }
                    if chunk_type & 0x80 == 0 {
                        break;
                    }
                }
            }
        }
        if !unrecognized.is_empty() && self.peer_tag != 0 {
            self.control
                .push_back(encode(&Chunk::Error(ErrorChunk { causes: &unrecognized })));
        }
        if had_data {
            self.after_data_packet(now);
        }
    }

    /// One DATA chunk; false if the association was aborted.
    fn on_data(&mut self, d: &DataChunk<'_>) -> bool {
        if !matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownSent
        ) {
            return true;
        }
        self.stats.data_chunks_received += 1;
        // §6.2: DATA without user data is answered with ABORT.
        if d.payload.is_empty() {
            let tsn = d.tsn.to_be_bytes();
            self.abort_with(CauseCode::NoUserData, &tsn);
            return false;
        }
        let Some(rx) = self.receiver.as_mut() else {
            return true;
        };
        if d.stream_id >= rx.inbound_streams() {
            // §6.5: Invalid Stream Identifier; the TSN is still acknowledged.
            let mut cause = Vec::new();
            let mut info = d.stream_id.to_be_bytes().to_vec();
            info.extend_from_slice(&[0, 0]);
            write_tlv(&mut cause, CauseCode::InvalidStreamIdentifier.into(), &info);
            self.control
                .push_back(encode(&Chunk::Error(ErrorChunk { causes: &cause })));
            rx.mark_received(d.tsn);
            return true;
        }
        if d.immediate {
            // RFC 7053: the sender asks for a SACK without delay.
            self.sack_now = true;
        }
        match rx.receive(d) {
            Received::New => {}
            Received::Duplicate => {
                self.stats.duplicate_tsns_received += 1;
                self.sack_now = true;
            }
            Received::Dropped => self.sack_now = true,
        }
        true
    }

    fn after_data_packet(&mut self, now: Instant) {
        self.ack_pending = true;
        self.unacked_packets += 1;
        let gaps = self.receiver.as_ref().is_some_and(Receiver::has_gaps);
        // §6.2: SACK at once on gaps, otherwise at least every second packet
        // or when the delayed-ack timer fires.
        if gaps || self.unacked_packets >= 2 {
            self.sack_now = true;
        } else if !self.timers.is_set(Timer::DelayedAck) {
            self.timers.set(Timer::DelayedAck, now + self.config.sack_delay);
        }
        if self.state == State::ShutdownSent {
            // §9.2: answer DATA with SHUTDOWN in SHUTDOWN-SENT.
            self.queue_shutdown();
            self.timers.set(Timer::T2Shutdown, now + self.sender.rto.rto());
            self.sack_now = true;
        }
    }

    fn on_sack(&mut self, now: Instant, sack: &wire::Sack) {
        if !matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived | State::ShutdownSent
        ) {
            return;
        }
        let outcome = self.sender.on_sack(now, sack);
        if outcome.ignored {
            return;
        }
        if outcome.advanced {
            self.error_count = 0;
            if self.sender.has_outstanding() {
                self.timers.set(Timer::T3Rtx, now + self.sender.rto.rto());
            }
        }
        if !self.sender.has_outstanding() {
            self.timers.stop(Timer::T3Rtx);
        }
    }

    fn on_heartbeat_ack(&mut self, now: Instant, hb: &Heartbeat<'_>) {
        let Some((nonce, sent)) = self.heartbeat_pending else {
            return;
        };
        if hb.info() == Some(&nonce.to_be_bytes()[..]) {
            self.heartbeat_pending = None;
            self.error_count = 0;
            self.sender.rto.measure(now.saturating_duration_since(sent));
        }
    }

    fn on_shutdown(&mut self, now: Instant, cum: u32) {
        match self.state {
            State::Established | State::ShutdownPending | State::ShutdownReceived => {
                self.sender.on_cumulative_ack(now, cum);
                if !self.sender.has_outstanding() {
                    self.timers.stop(Timer::T3Rtx);
                }
                self.state = State::ShutdownReceived;
            }
            State::ShutdownSent => {
                // Both sides shut down at once (§9.2): answer with SHUTDOWN ACK.
                self.sender.on_cumulative_ack(now, cum);
                self.state = State::ShutdownAckSent;
                self.control.push_back(encode(&Chunk::ShutdownAck));
                self.timers.set(Timer::T2Shutdown, now + self.sender.rto.rto());
            }
            _ => {}
        }
    }

    fn on_shutdown_ack(&mut self) {
        if matches!(self.state, State::ShutdownSent | State::ShutdownAckSent) {
            let complete = Chunk::ShutdownComplete(ShutdownComplete { t_bit: false });
            let pkt = PacketBuilder::new(self.local_port, self.remote_port, self.peer_tag)
                .chunk(&complete)
                .finish();
            self.out.push_back(pkt);
            self.close(DownReason::Shutdown);
        }
    }

    fn on_error(&mut self, now: Instant, e: &ErrorChunk<'_>) {
        for cause in wire::causes(e.causes).map_while(Result::ok) {
            let code = CauseCode::from(cause.tlv_type);
            tracing::debug!(?code, "SCTP ERROR chunk from peer");
            if code == CauseCode::StaleCookie && self.state == State::CookieEchoed {
                // §5.2.6: start over with a fresh INIT.
                self.state = State::CookieWait;
                self.timers.stop(Timer::T1Cookie);
                self.control.clear();
                self.peer_tag = 0;
                self.receiver = None;
                self.send_init(now);
            }
        }
    }

    /// INIT on an existing association: collision or peer restart (§5.2.1, §5.2.2).
    fn on_init(&mut self, now: Instant, h: &wire::CommonHeader, init: &Init<'_>) {
        if init.initiate_tag == 0 || init.outbound_streams == 0 || init.inbound_streams == 0 {
            return;
        }
        let (tag, tsn, tie) = match self.state {
            // §5.2.1: answer with our own original tag and TSN.
            State::CookieWait => (self.local_tag, self.local_initial_tsn, (0, 0)),
            State::CookieEchoed => (self.local_tag, self.local_initial_tsn, (self.local_tag, self.peer_tag)),
            // §9.2: in SHUTDOWN-ACK-SENT an INIT is answered by SHUTDOWN ACK.
            State::ShutdownAckSent => {
                self.control.push_back(encode(&Chunk::ShutdownAck));
                return;
            }
            // §5.2.2: a new tag and TSN, the current tags as Tie-Tags.
            _ => (
                nonzero(&mut self.rng),
                self.rng.random(),
                (self.local_tag, self.peer_tag),
            ),
        };
        let reply = listen::init_ack(now, &self.config, &self.jar, h, init, tag, tsn, tie);
        self.out.push_back(reply);
    }

    fn on_init_ack(&mut self, now: Instant, h: &wire::CommonHeader, ia: &Init<'_>) {
        if self.state != State::CookieWait || h.verification_tag != self.local_tag {
            return;
        }
        if ia.initiate_tag == 0 || ia.outbound_streams == 0 || ia.inbound_streams == 0 {
            // §3.3.3: invalid mandatory parameter; abort under the peer's tag.
            self.peer_tag = ia.initiate_tag;
            self.abort_with(CauseCode::InvalidMandatoryParameter, b"");
            return;
        }
        let scan = listen::scan_params(ia.params);
        let Some(cookie) = scan.cookie else {
            self.peer_tag = ia.initiate_tag;
            let mut info = Vec::new();
            info.extend_from_slice(&1u32.to_be_bytes());
            info.extend_from_slice(&param_type::STATE_COOKIE.to_be_bytes());
            self.abort_with(CauseCode::MissingMandatoryParameter, &info);
            return;
        };
        self.peer_tag = ia.initiate_tag;
        self.cookie = cookie.to_vec();
        let outbound = self.config.outbound_streams.min(ia.inbound_streams);
        let inbound = self.config.max_inbound_streams.min(ia.outbound_streams);
        self.install(&CookieData {
            local_tag: self.local_tag,
            peer_tag: ia.initiate_tag,
            local_initial_tsn: self.local_initial_tsn,
            peer_initial_tsn: ia.initial_tsn,
            outbound_streams: outbound,
            inbound_streams: inbound,
            peer_a_rwnd: ia.a_rwnd,
            ..CookieData::default()
        });
        self.timers.stop(Timer::T1Init);
        self.state = State::CookieEchoed;
        self.send_cookie_echo(now);
        // Unrecognized parameters are reported in an ERROR bundled after the
        // COOKIE ECHO (§3.2.1, "11"/"01" parameters).
        if !scan.unrecognized.is_empty() {
            let mut causes = Vec::new();
            write_tlv(
                &mut causes,
                CauseCode::UnrecognizedParameters.into(),
                &scan.unrecognized,
            );
            self.control
                .push_back(encode(&Chunk::Error(ErrorChunk { causes: &causes })));
        }
    }

    /// COOKIE ECHO on an existing association (§5.2.4).
    fn on_cookie_echo(&mut self, now: Instant, h: &wire::CommonHeader, echo: &CookieEcho<'_>) {
        let c = match self.jar.open(now, echo.cookie) {
            Ok(c) => c,
            Err(CookieError::Stale { staleness_us }) => {
                if h.verification_tag == self.local_tag {
                    self.control.push_back(stale_cookie_error(staleness_us));
                }
                return;
            }
            Err(_) => return,
        };
        if h.verification_tag != c.local_tag || c.peer_port != self.remote_port {
            return;
        }
        let local_match = c.local_tag == self.local_tag;
        let peer_match = c.peer_tag == self.peer_tag;
        let ties_match = c.local_tie_tag == self.local_tag && c.peer_tie_tag == self.peer_tag;
        if !local_match && !peer_match && ties_match {
            // Case A: the peer restarted.
            if self.state == State::ShutdownAckSent {
                self.control.push_back(encode(&Chunk::ShutdownAck));
                let mut causes = Vec::new();
                write_tlv(&mut causes, CauseCode::CookieReceivedWhileShuttingDown.into(), b"");
                self.control
                    .push_back(encode(&Chunk::Error(ErrorChunk { causes: &causes })));
                return;
            }
            self.install(&c);
            self.timers.stop_all();
            self.control.clear();
            self.ack_pending = false;
            self.sack_now = false;
            self.heartbeat_pending = None;
            self.error_count = 0;
            self.state = State::Established;
            self.events.push_back(Event::Restart);
            self.arm_heartbeat(now);
        } else if local_match && !peer_match {
            // Case B: INIT collision; take the peer's tag. Only in COOKIE-WAIT
            // (nothing negotiated yet) is the whole cookie installed; later the
            // TSNs and queues in use stay (§5.2.4 B).
            if self.state == State::Closed {
                return;
            }
            if self.receiver.is_none() {
                self.install(&c);
            } else {
                self.peer_tag = c.peer_tag;
            }
            if matches!(self.state, State::CookieWait | State::CookieEchoed) {
                self.cookie.clear();
                self.enter_established(now);
            }
        } else if local_match && peer_match {
            // Case D: our own cookie came back twice, or a collision.
            if matches!(self.state, State::CookieWait | State::CookieEchoed) {
                self.cookie.clear();
                self.enter_established(now);
            }
        } else {
            // Case C (or no match at all): silently discard.
            return;
        }
        self.control.push_front(encode(&Chunk::CookieAck));
    }

    // ---- sending --------------------------------------------------------

    /// Turns queued control chunks, SACKs and DATA into packets.
    fn flush(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        self.advance_shutdown(now);
        let max = self.config.max_packet_size;
        let data_allowed = matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        );
        let mut sent_data = false;
        let mut fast_rtx_budget = true;
        loop {
            let mut b = PacketBuilder::new(self.local_port, self.remote_port, self.peer_tag);
            while let Some(c) = self.control.front() {
                if b.len() + c.len() > max && !b.is_empty() {
                    break;
                }
                if let Some(c) = self.control.pop_front() {
                    b.push_raw(&c);
                }
            }
            if (self.sack_now || self.ack_pending)
                && self.receiver.is_some()
                && matches!(
                    self.state,
                    State::Established | State::ShutdownPending | State::ShutdownSent | State::ShutdownReceived
                )
            {
                let wants = self.sack_now || (data_allowed && self.has_data_to_send());
                if wants && let Some(rx) = self.receiver.as_mut() {
                    let sack = Chunk::Sack(rx.sack(MAX_SACK_BLOCKS));
                    if b.len() + sack.buffer_len() <= max || b.is_empty() {
                        b.push(&sack);
                        self.sack_now = false;
                        self.ack_pending = false;
                        self.unacked_packets = 0;
                        self.timers.stop(Timer::DelayedAck);
                    }
                }
            }
            if data_allowed {
                // Retransmissions first (§6.1 rule C / §7.2.4).
                while let Some(tsn) = self.sender.next_retransmit() {
                    let fast = self.sender.is_fast_retransmit(tsn);
                    let ok = (fast && fast_rtx_budget) || self.sender.flight_size() < self.sender.cwnd;
                    if !ok {
                        break;
                    }
                    let Some(len) = self.sender.data_chunk(tsn).map(|d| Chunk::Data(d).buffer_len()) else {
                        break;
                    };
                    if b.len() + len > max && !b.is_empty() {
                        break;
                    }
                    if let Some(d) = self.sender.data_chunk(tsn) {
                        b.push(&Chunk::Data(d));
                    }
                    self.sender.retransmit(tsn);
                    sent_data = true;
                }
                fast_rtx_budget = false;
                if self.sender.next_retransmit().is_none() {
                    while let Some(len) = self.sender.next_new_len() {
                        if !self.sender.may_send(len) {
                            break;
                        }
                        if b.len() + wire::pad4(wire::DATA_HEADER_LEN + len) > max && !b.is_empty() {
                            break;
                        }
                        let Some(tsn) = self.sender.send_new(now) else {
                            break;
                        };
                        if let Some(d) = self.sender.data_chunk(tsn) {
                            b.push(&Chunk::Data(d));
                        }
                        sent_data = true;
                    }
                }
            }
            if b.is_empty() {
                break;
            }
            self.out.push_back(b.finish());
        }
        if sent_data && !self.timers.is_set(Timer::T3Rtx) {
            self.timers.set(Timer::T3Rtx, now + self.sender.rto.rto());
        }
    }

    fn has_data_to_send(&self) -> bool {
        self.sender.next_retransmit().is_some() || self.sender.next_new_len().is_some_and(|l| self.sender.may_send(l))
    }

    /// SHUTDOWN-PENDING / SHUTDOWN-RECEIVED move on once all data is acked.
    fn advance_shutdown(&mut self, now: Instant) {
        if !self.sender.is_idle() {
            return;
        }
        match self.state {
            State::ShutdownPending => {
                self.state = State::ShutdownSent;
                self.queue_shutdown();
                self.timers.set(Timer::T2Shutdown, now + self.sender.rto.rto());
                self.timers.set(Timer::T5ShutdownGuard, now + 5 * self.config.rto_max);
                self.timers.stop(Timer::T3Rtx);
            }
            State::ShutdownReceived => {
                self.state = State::ShutdownAckSent;
                self.control.push_back(encode(&Chunk::ShutdownAck));
                self.timers.set(Timer::T2Shutdown, now + self.sender.rto.rto());
                self.timers.set(Timer::T5ShutdownGuard, now + 5 * self.config.rto_max);
                self.timers.stop(Timer::T3Rtx);
            }
            _ => {}
        }
    }
}

fn encode(chunk: &Chunk<'_>) -> Vec<u8> {
    let mut v = Vec::new();
    chunk.emit(&mut v);
    v
}

fn nonzero(rng: &mut StdRng) -> u32 {
    loop {
        let v: u32 = rng.random();
        if v != 0 {
            return v;
        }
    }
}

fn stale_cookie_error(staleness_us: u32) -> Vec<u8> {
    let mut causes = Vec::new();
    write_tlv(&mut causes, CauseCode::StaleCookie.into(), &staleness_us.to_be_bytes());
    encode(&Chunk::Error(ErrorChunk { causes: &causes }))
}

#[cfg(test)]
mod tests;
