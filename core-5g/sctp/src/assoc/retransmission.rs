//! The send side of an association: TSN assignment and fragmentation
//! (RFC 9260 §6.9), the retransmission queue with SACK processing (§6.2.1),
//! the RTO estimator (§6.3.1), fast retransmit (§7.2.4) and cwnd / ssthresh
//! (§7.2).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::wire::{DataChunk, Sack};

/// A DATA chunk with its TSN, waiting or in flight.
#[derive(Debug, Clone)]
pub struct OutChunk {
    pub stream: u16,
    pub ssn: u16,
    pub ppid: u32,
    pub unordered: bool,
    pub beginning: bool,
    pub ending: bool,
    pub payload: Bytes,
}

#[derive(Debug, Clone)]
struct Outstanding {
    chunk: OutChunk,
    transmissions: u32,
    /// Acknowledged by a gap block (not yet by the cumulative ack).
    gap_acked: bool,
    /// Counted in the flight size.
    in_flight: bool,
    needs_retransmit: bool,
    /// Miss indications (§7.2.4).
    misses: u32,
    fast_retransmitted: bool,
}

/// RTO per RFC 9260 §6.3.1.
#[derive(Debug, Clone)]
pub struct RtoEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
}

impl RtoEstimator {
    pub fn new(initial: Duration, min: Duration, max: Duration) -> Self {
        RtoEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial,
            min,
            max,
        }
    }

    pub fn rto(&self) -> Duration {
        self.rto
    }

    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// Takes one RTT measurement R (rules C1–C3 of §6.3.1; alpha 1/8, beta 1/4).
    pub fn measure(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + diff / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.rto = (srtt + 4 * self.rttvar).clamp(self.min, self.max);
    }

    /// Doubles the RTO after a timeout (§6.3.3 E2), up to RTO.max.
    pub fn back_off(&mut self) {
        self.rto = (self.rto * 2).min(self.max);
    }
}

/// What a SACK did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SackOutcome {
    /// The SACK was older than what we know, or acked unsent TSNs: ignored.
    pub ignored: bool,
    /// The cumulative ack moved forward.
    pub advanced: bool,
    /// Some chunks are now marked for fast retransmission.
    pub fast_retransmit: bool,
}

/// Send state.
#[derive(Debug, Clone)]
pub struct Sender {
    /// Next TSN to assign (unwrapped to 64 bits).
    next_tsn: u64,
    /// Highest TSN acknowledged cumulatively.
    cumulative_ack: u64,
    /// Chunks with TSNs that were never sent.
    queue: VecDeque<(u64, OutChunk)>,
    queued_bytes: usize,
    outstanding: BTreeMap<u64, Outstanding>,
    next_ssn: Vec<u16>,
    flight_size: usize,
    pub cwnd: usize,
    pub ssthresh: usize,
    partial_bytes_acked: usize,
    pub peer_rwnd: usize,
    mtu: usize,
    fast_recovery_exit: Option<u64>,
    rtt_probe: Option<(u64, Instant)>,
    pub rto: RtoEstimator,
    /// Bytes of DATA that have been retransmitted (for statistics).
    pub retransmissions: u64,
}

impl Sender {
    pub fn new(initial_tsn: u32, outbound_streams: u16, peer_rwnd: u32, mtu: usize, rto: RtoEstimator) -> Self {
        let next = u64::from(initial_tsn) + (1 << 32);
        Sender {
            next_tsn: next,
            cumulative_ack: next - 1,
            queue: VecDeque::new(),
            queued_bytes: 0,
            outstanding: BTreeMap::new(),
            next_ssn: vec![0; usize::from(outbound_streams)],
            flight_size: 0,
            // RFC 9260 §7.2.1: initial cwnd = min(4*MTU, max(2*MTU, 4380)).
            cwnd: (4 * mtu).min((2 * mtu).max(4380)),
            ssthresh: usize::try_from(peer_rwnd).unwrap_or(usize::MAX),
            partial_bytes_acked: 0,
            peer_rwnd: usize::try_from(peer_rwnd).unwrap_or(usize::MAX),
            mtu,
            fast_recovery_exit: None,
            rtt_probe: None,
            rto,
            retransmissions: 0,
        }
    }

    pub fn outbound_streams(&self) -> u16 {
        u16::try_from(self.next_ssn.len()).unwrap_or(u16::MAX)
    }

    /// Whether nothing is queued nor outstanding.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.outstanding.is_empty()
    }

    pub fn has_outstanding(&self) -> bool {
        !self.outstanding.is_empty()
    }

    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    pub fn flight_size(&self) -> usize {
        self.flight_size
    }

    fn unwrap(&self, tsn: u32) -> u64 {
        let delta = tsn.wrapping_sub(self.cumulative_ack as u32) as i32;
        self.cumulative_ack.wrapping_add_signed(i64::from(delta))
    }

    /// Splits a user message into DATA chunks of at most `max_fragment`
    /// bytes and queues them with consecutive TSNs (§6.9).
    pub fn enqueue(&mut self, stream: u16, ppid: u32, unordered: bool, data: Bytes, max_fragment: usize) {
        let ssn = match self.next_ssn.get_mut(usize::from(stream)) {
            // §6.6: unordered chunks carry no meaningful SSN.
            Some(_) if unordered => 0,
            Some(next) => {
                let s = *next;
                *next = next.wrapping_add(1);
                s
            }
            None => return,
        };
        let max_fragment = max_fragment.max(1);
        let total = data.len();
        let mut offset = 0;
        loop {
            let end = (offset + max_fragment).min(total);
            let chunk = OutChunk {
                stream,
                ssn,
                ppid,
                unordered,
                beginning: offset == 0,
                ending: end == total,
                payload: data.slice(offset..end),
            };
            self.queued_bytes += chunk.payload.len();
            self.queue.push_back((self.next_tsn, chunk));
            self.next_tsn += 1;
            offset = end;
            if offset >= total {
                break;
            }
        }
    }

    /// The first chunk marked for retransmission, by TSN.
    pub fn next_retransmit(&self) -> Option<u64> {
        self.outstanding
            .iter()
            .find(|(_, o)| o.needs_retransmit)
            .map(|(tsn, _)| *tsn)
    }

    /// Whether the chunk marked for retransmission is a fast retransmission
    /// (sent at once, regardless of cwnd, §7.2.4).
    pub fn is_fast_retransmit(&self, tsn: u64) -> bool {
        self.outstanding
            .get(&tsn)
            .is_some_and(|o| o.fast_retransmitted && o.transmissions == 1)
    }

    /// The next never-sent chunk's payload size.
    pub fn next_new_len(&self) -> Option<usize> {
        self.queue.front().map(|(_, c)| c.payload.len())
    }

    /// Whether cwnd and the peer's window allow `len` more bytes.
    pub fn may_send(&self, len: usize) -> bool {
        self.flight_size < self.cwnd && (len <= self.peer_rwnd || self.flight_size == 0)
    }

    /// Moves the next queued chunk into flight; returns its TSN.
    pub fn send_new(&mut self, now: Instant) -> Option<u64> {
        let (tsn, chunk) = self.queue.pop_front()?;
        let len = chunk.payload.len();
        self.queued_bytes -= len;
        self.flight_size += len;
        self.peer_rwnd = self.peer_rwnd.saturating_sub(len);
        if self.rtt_probe.is_none() {
            self.rtt_probe = Some((tsn, now));
        }
        self.outstanding.insert(
            tsn,
            Outstanding {
                chunk,
                transmissions: 1,
                gap_acked: false,
                in_flight: true,
                needs_retransmit: false,
                misses: 0,
                fast_retransmitted: false,
            },
        );
        Some(tsn)
    }

    /// Puts a chunk marked for retransmission back into flight.
    pub fn retransmit(&mut self, tsn: u64) {
        if let Some(o) = self.outstanding.get_mut(&tsn) {
            o.needs_retransmit = false;
            o.transmissions += 1;
            if !o.in_flight {
                o.in_flight = true;
                self.flight_size += o.chunk.payload.len();
            }
            self.retransmissions += 1;
            // Karn's rule (§6.3.1 C5): no RTT from retransmitted chunks.
            if self.rtt_probe.is_some_and(|(p, _)| p == tsn) {
                self.rtt_probe = None;
            }
        }
    }

    /// The DATA chunk for an outstanding TSN.
    pub fn data_chunk(&self, tsn: u64) -> Option<DataChunk<'_>> {
        let o = self.outstanding.get(&tsn)?;
        let c = &o.chunk;
        Some(DataChunk {
            unordered: c.unordered,
            beginning: c.beginning,
            ending: c.ending,
            immediate: false,
            tsn: tsn as u32,
            stream_id: c.stream,
            ssn: c.ssn,
            ppid: c.ppid,
            payload: &c.payload,
        })
    }

    /// Processes the cumulative ack of a SHUTDOWN (§9.2): like a SACK
    /// without gap blocks and without a window update.
    pub fn on_cumulative_ack(&mut self, now: Instant, cum: u32) -> SackOutcome {
        let rwnd = u32::try_from(self.peer_rwnd + self.flight_size).unwrap_or(u32::MAX);
        self.on_sack(
            now,
            &Sack {
                cumulative_tsn_ack: cum,
                a_rwnd: rwnd,
                gap_blocks: Vec::new(),
                duplicate_tsns: Vec::new(),
            },
        )
    }

    /// Processes a SACK (§6.2.1, §7.2).
    pub fn on_sack(&mut self, now: Instant, sack: &Sack) -> SackOutcome {
        let cum = self.unwrap(sack.cumulative_tsn_ack);
        // §6.2.1 D i: an older cumulative ack means the SACK is stale.
        // Acking TSNs never sent is a protocol violation; ignore such a SACK.
        if cum < self.cumulative_ack || cum >= self.next_tsn_sent() {
            return SackOutcome {
                ignored: true,
                ..SackOutcome::default()
            };
        }
        let flight_before = self.flight_size;
        let mut bytes_acked = 0;
        let advanced = cum > self.cumulative_ack;
        let acked: Vec<u64> = self.outstanding.range(..=cum).map(|(t, _)| *t).collect();
        for tsn in acked {
            if let Some(o) = self.outstanding.remove(&tsn) {
                let len = o.chunk.payload.len();
                if o.in_flight {
                    self.flight_size -= len;
                }
                if !o.gap_acked {
                    bytes_acked += len;
                }
                if let Some((probe, sent)) = self.rtt_probe
                    && probe == tsn
                {
                    self.rtt_probe = None;
                    if o.transmissions == 1 {
                        self.rto.measure(now.saturating_duration_since(sent));
                    }
                }
            }
        }
        self.cumulative_ack = cum;
        if self.rtt_probe.is_some_and(|(p, _)| p <= cum) {
            self.rtt_probe = None;
        }

        // Gap blocks.
        let mut highest_newly_acked = None;
        for &(start, end) in &sack.gap_blocks {
            if start == 0 || end < start {
                continue;
            }
            let (s, e) = (cum + u64::from(start), cum + u64::from(end));
            for (tsn, o) in self.outstanding.range_mut(s..=e) {
                if !o.gap_acked {
                    o.gap_acked = true;
                    // §6.3.1: a SACK acknowledging a chunk sent once gives an
                    // RTT sample, whether by the cumulative ack or a gap block
                    // (without this, one lost chunk keeps a backed-off RTO).
                    if let Some((probe, sent)) = self.rtt_probe
                        && probe == *tsn
                    {
                        self.rtt_probe = None;
                        if o.transmissions == 1 {
                            self.rto.measure(now.saturating_duration_since(sent));
                        }
                    }
                    o.needs_retransmit = false;
                    bytes_acked += o.chunk.payload.len();
                    if o.in_flight {
                        o.in_flight = false;
                        self.flight_size -= o.chunk.payload.len();
                    }
                    highest_newly_acked = Some(highest_newly_acked.map_or(*tsn, |h: u64| h.max(*tsn)));
                }
            }
        }

        // §7.2.4: miss indications for TSNs below the highest newly acked.
        let mut fast_retransmit = false;
        if let Some(highest) = highest_newly_acked {
            let in_recovery = self.fast_recovery_exit.is_some();
            let mut start_recovery = false;
            for (_, o) in self.outstanding.range_mut(..highest) {
                if o.gap_acked || o.fast_retransmitted {
                    continue;
                }
                o.misses += 1;
                if o.misses >= 3 {
                    o.fast_retransmitted = true;
                    o.needs_retransmit = true;
                    o.misses = 0;
                    if o.in_flight {
                        o.in_flight = false;
                        self.flight_size -= o.chunk.payload.len();
                    }
                    fast_retransmit = true;
                    start_recovery = true;
                }
            }
            if start_recovery && !in_recovery {
                self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
                self.cwnd = self.ssthresh;
                self.partial_bytes_acked = 0;
                self.fast_recovery_exit = self.outstanding.last_key_value().map(|(t, _)| *t);
            }
        }
        if self.fast_recovery_exit.is_some_and(|exit| cum >= exit) {
            self.fast_recovery_exit = None;
        }

        // §7.2.1 / §7.2.2: grow cwnd only when the cumulative ack advanced,
        // the window was in use, and not in fast recovery.
        if advanced && self.fast_recovery_exit.is_none() && flight_before + self.mtu >= self.cwnd {
            if self.cwnd <= self.ssthresh {
                self.cwnd += bytes_acked.min(self.mtu);
            } else {
                self.partial_bytes_acked += bytes_acked;
                if self.partial_bytes_acked >= self.cwnd {
                    self.partial_bytes_acked -= self.cwnd;
                    self.cwnd += self.mtu;
                }
            }
        }
        if self.outstanding.is_empty() {
            self.partial_bytes_acked = 0;
        }
        // §6.2.1: peer rwnd = a_rwnd minus bytes still in flight.
        let a_rwnd = usize::try_from(sack.a_rwnd).unwrap_or(usize::MAX);
        self.peer_rwnd = a_rwnd.saturating_sub(self.flight_size);
        SackOutcome {
            ignored: false,
            advanced,
            fast_retransmit,
        }
    }

    /// T3-rtx expired (§6.3.3, §7.2.3): collapse cwnd, back off the RTO
    /// and mark every unacknowledged chunk for retransmission.
    pub fn on_timeout(&mut self) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        self.fast_recovery_exit = None;
        self.rtt_probe = None;
        self.rto.back_off();
        for o in self.outstanding.values_mut() {
            if !o.gap_acked {
                o.needs_retransmit = true;
                if o.in_flight {
                    o.in_flight = false;
                    self.flight_size -= o.chunk.payload.len();
                }
            }
        }
    }

    /// The TSN after the highest one sent.
    fn next_tsn_sent(&self) -> u64 {
        self.queue.front().map_or(self.next_tsn, |(t, _)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Sender {
        Sender::new(
            100,
            4,
            65535,
            1200,
            RtoEstimator::new(Duration::from_secs(3), Duration::from_secs(1), Duration::from_secs(60)),
        )
    }

    #[test]
    fn rto_per_rfc9260_6_3_1() {
        let mut r = RtoEstimator::new(
            Duration::from_secs(3),
            Duration::from_millis(10),
            Duration::from_secs(60),
        );
        r.measure(Duration::from_millis(100));
        // C2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 300 ms.
        assert_eq!(r.rto(), Duration::from_millis(300));
        r.measure(Duration::from_millis(200));
        // C3: RTTVAR = 3/4*50 + 1/4*100 = 62.5; SRTT = 7/8*100 + 1/8*200 = 112.5.
        assert_eq!(r.rto(), Duration::from_micros(112_500 + 4 * 62_500));
        r.back_off();
        assert_eq!(r.rto(), Duration::from_micros(2 * 362_500));
    }

    #[test]
    fn fragments_get_consecutive_tsns_and_one_ssn() {
        let mut s = sender();
        s.enqueue(1, 60, false, Bytes::from(vec![7u8; 2500]), 1000);
        s.enqueue(1, 60, false, Bytes::from_static(b"x"), 1000);
        let now = Instant::now();
        let tsns: Vec<u64> = std::iter::from_fn(|| s.send_new(now)).collect();
        assert_eq!(tsns.len(), 4);
        let chunks: Vec<_> = tsns.iter().map(|t| s.data_chunk(*t).unwrap()).collect();
        assert_eq!(chunks.iter().map(|c| c.tsn).collect::<Vec<_>>(), [100, 101, 102, 103]);
        assert_eq!(chunks.iter().map(|c| c.ssn).collect::<Vec<_>>(), [0, 0, 0, 1]);
        assert_eq!(
            chunks.iter().map(|c| (c.beginning, c.ending)).collect::<Vec<_>>(),
            [(true, false), (false, false), (false, true), (true, true)]
        );
        assert_eq!(chunks[2].payload.len(), 500);
    }

    #[test]
    fn three_miss_indications_trigger_fast_retransmit() {
        let mut s = sender();
        let now = Instant::now();
        for _ in 0..5 {
            s.enqueue(0, 60, false, Bytes::from_static(b"abcd"), 1000);
            s.send_new(now);
        }
        // TSN 100 lost; 101, 102, 103 arrive one SACK each.
        for (i, end) in [1u16, 2, 3].into_iter().enumerate() {
            let out = s.on_sack(
                now,
                &Sack {
                    cumulative_tsn_ack: 99,
                    a_rwnd: 65535,
                    gap_blocks: vec![(2, end + 1)],
                    duplicate_tsns: vec![],
                },
            );
            assert_eq!(out.fast_retransmit, i == 2);
        }
        assert_eq!(s.next_retransmit(), Some(100 + (1 << 32)));
        assert!(s.is_fast_retransmit(100 + (1 << 32)));
        let out = s.on_sack(
            now,
            &Sack {
                cumulative_tsn_ack: 104,
                a_rwnd: 65535,
                ..Sack::default()
            },
        );
        assert!(out.advanced);
        assert!(s.is_idle());
        assert_eq!(s.flight_size(), 0);
    }

    #[test]
    fn stale_and_bogus_sacks_ignored() {
        let mut s = sender();
        let now = Instant::now();
        s.enqueue(0, 60, false, Bytes::from_static(b"abcd"), 1000);
        s.send_new(now);
        let bogus = Sack {
            cumulative_tsn_ack: 500,
            a_rwnd: 1,
            ..Sack::default()
        };
        assert!(s.on_sack(now, &bogus).ignored);
        let stale = Sack {
            cumulative_tsn_ack: 50,
            a_rwnd: 1,
            ..Sack::default()
        };
        assert!(s.on_sack(now, &stale).ignored);
        assert!(s.has_outstanding());
    }
}
