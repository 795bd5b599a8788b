//! The receive side of an association: TSN tracking for SACKs (RFC 9260
//! §6.2), reassembly of fragmented user messages (§6.9) and ordered /
//! unordered delivery per stream (§6.5, §6.6).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use bytes::{Bytes, BytesMut};

use crate::wire::{DataChunk, Sack};

/// A user message ready for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub stream: u16,
    pub ppid: u32,
    pub data: Bytes,
}

/// What happened to one received DATA chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// New TSN, stored.
    New,
    /// Already received (reported as a duplicate in the next SACK).
    Duplicate,
    /// Dropped for lack of buffer space (not acknowledged; the peer resends).
    Dropped,
}

#[derive(Debug, Clone)]
struct Fragment {
    stream: u16,
    ssn: u16,
    ppid: u32,
    unordered: bool,
    beginning: bool,
    ending: bool,
    payload: Bytes,
}

/// Receive state. TSNs are kept as 64-bit "unwrapped" values so that
/// ordering and gaps need no serial-number arithmetic past `unwrap`.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Highest TSN received in sequence (the Cumulative TSN Ack).
    cumulative: u64,
    /// TSNs received above `cumulative`.
    above: BTreeSet<u64>,
    /// Duplicates seen since the last SACK (RFC 9260 §6.2 "Duplicate TSNs").
    duplicates: Vec<u32>,
    /// Fragments not yet assembled into a message, by TSN.
    fragments: BTreeMap<u64, Fragment>,
    /// Complete ordered messages waiting for an earlier SSN, per stream.
    waiting: HashMap<u16, BTreeMap<u16, Delivered>>,
    /// Next SSN to deliver, per inbound stream.
    next_ssn: Vec<u16>,
    /// Messages ready for the application.
    ready: VecDeque<Delivered>,
    /// Bytes held (fragments, waiting, ready).
    buffered: usize,
    /// Receive buffer size announced as a_rwnd when empty.
    capacity: usize,
}

/// Most TSNs we keep above the cumulative ack (bounds memory for any input).
const MAX_TSN_WINDOW: u64 = 1 << 16;
/// Most duplicate TSNs reported in one SACK.
const MAX_DUPLICATES: usize = 32;

impl Receiver {
    /// `peer_initial_tsn` is the Initial TSN from the peer's INIT / INIT ACK.
    pub fn new(peer_initial_tsn: u32, inbound_streams: u16, capacity: usize) -> Self {
        Receiver {
            cumulative: u64::from(peer_initial_tsn.wrapping_sub(1)) + (1 << 32),
            above: BTreeSet::new(),
            duplicates: Vec::new(),
            fragments: BTreeMap::new(),
            waiting: HashMap::new(),
            next_ssn: vec![0; usize::from(inbound_streams)],
            ready: VecDeque::new(),
            buffered: 0,
            capacity,
        }
    }

    pub fn inbound_streams(&self) -> u16 {
        u16::try_from(self.next_ssn.len()).unwrap_or(u16::MAX)
    }

    /// The Cumulative TSN Ack as on the wire.
    pub fn cumulative_tsn(&self) -> u32 {
        self.cumulative as u32
    }

    /// Maps a 32-bit TSN onto the 64-bit line near the cumulative ack.
    fn unwrap(&self, tsn: u32) -> u64 {
        let delta = tsn.wrapping_sub(self.cumulative as u32) as i32;
        self.cumulative.wrapping_add_signed(i64::from(delta))
    }

    /// The advertised receiver window (RFC 9260 §6.2).
    pub fn a_rwnd(&self) -> u32 {
        u32::try_from(self.capacity.saturating_sub(self.buffered)).unwrap_or(u32::MAX)
    }

    /// Whether TSNs are missing (a gap exists).
    pub fn has_gaps(&self) -> bool {
        !self.above.is_empty()
    }

    /// Takes in one DATA chunk. The caller checked the stream id.
    pub fn receive(&mut self, data: &DataChunk<'_>) -> Received {
        let tsn = self.unwrap(data.tsn);
        if tsn <= self.cumulative || self.above.contains(&tsn) {
            if self.duplicates.len() < MAX_DUPLICATES {
                self.duplicates.push(data.tsn);
            }
            return Received::Duplicate;
        }
        if tsn > self.cumulative + MAX_TSN_WINDOW {
            return Received::Dropped;
        }
        // RFC 9260 §6.2: with no buffer space left, drop new data unless it is
        // the next in sequence (that one can only help delivery), and that
        // only up to twice the buffer, so an endless message cannot eat memory.
        let after = self.buffered + data.payload.len();
        if after > self.capacity && (tsn != self.cumulative + 1 || after > 2 * self.capacity) {
            return Received::Dropped;
        }
        self.above.insert(tsn);
        while self.above.first() == Some(&(self.cumulative + 1)) {
            self.above.pop_first();
            self.cumulative += 1;
        }
        self.buffered += data.payload.len();
        self.fragments.insert(
            tsn,
            Fragment {
                stream: data.stream_id,
                ssn: data.ssn,
                ppid: data.ppid,
                unordered: data.unordered,
                beginning: data.beginning,
                ending: data.ending,
                payload: Bytes::copy_from_slice(data.payload),
            },
        );
        self.try_assemble(tsn);
        Received::New
    }

    /// Accounts a TSN whose chunk is discarded (invalid stream, §6.5): it is
    /// acknowledged but never delivered.
    pub fn mark_received(&mut self, tsn: u32) {
        let tsn = self.unwrap(tsn);
        if tsn <= self.cumulative || tsn > self.cumulative + MAX_TSN_WINDOW {
            return;
        }
        self.above.insert(tsn);
        while self.above.first() == Some(&(self.cumulative + 1)) {
            self.above.pop_first();
            self.cumulative += 1;
        }
    }

    /// Assembles the message the fragment at `tsn` belongs to, if complete.
    fn try_assemble(&mut self, tsn: u64) {
        let Some(frag) = self.fragments.get(&tsn) else {
            return;
        };
        let (stream, unordered) = (frag.stream, frag.unordered);
        let matches = |f: &Fragment| f.stream == stream && f.unordered == unordered;
        // Walk back to the B fragment, then forward to the E fragment,
        // through consecutive TSNs of the same stream (§6.9).
        let mut first = tsn;
        loop {
            let Some(f) = self.fragments.get(&first) else { return };
            if !matches(f) || (first != tsn && f.ending) {
                return;
            }
            if f.beginning {
                break;
            }
            let Some(prev) = first.checked_sub(1) else { return };
            first = prev;
        }
        let mut last = tsn;
        loop {
            let Some(f) = self.fragments.get(&last) else { return };
            if !matches(f) || (last != first && f.beginning) {
                return;
            }
            if f.ending {
                break;
            }
            last += 1;
        }
        let mut data = BytesMut::new();
        let mut head = None;
        for t in first..=last {
            if let Some(f) = self.fragments.remove(&t) {
                data.extend_from_slice(&f.payload);
                if head.is_none() {
                    head = Some((f.ssn, f.ppid));
                }
            }
        }
        let Some((ssn, ppid)) = head else { return };
        let msg = Delivered {
            stream,
            ppid,
            data: data.freeze(),
        };
        if unordered {
            self.ready.push_back(msg);
            return;
        }
        self.waiting.entry(stream).or_default().insert(ssn, msg);
        self.deliver_in_order(stream);
    }

    fn deliver_in_order(&mut self, stream: u16) {
        let Some(next) = self.next_ssn.get_mut(usize::from(stream)) else {
            return;
        };
        let Some(waiting) = self.waiting.get_mut(&stream) else {
            return;
        };
        while let Some(msg) = waiting.remove(next) {
            self.ready.push_back(msg);
            *next = next.wrapping_add(1);
        }
    }

    /// The next message for the application.
    pub fn pop_ready(&mut self) -> Option<Delivered> {
        let msg = self.ready.pop_front()?;
        self.buffered = self.buffered.saturating_sub(msg.data.len());
        Some(msg)
    }

    /// The SACK to send now (gap blocks and duplicates since the last one),
    /// limited to `max_blocks` gap blocks.
    pub fn sack(&mut self, max_blocks: usize) -> Sack {
        let mut gap_blocks = Vec::new();
        let mut run: Option<(u64, u64)> = None;
        for &t in &self.above {
            run = match run {
                Some((s, e)) if t == e + 1 => Some((s, t)),
                Some(block) => {
                    gap_blocks.push(block);
                    Some((t, t))
                }
                None => Some((t, t)),
            };
        }
        gap_blocks.extend(run);
        let cum = self.cumulative;
        let gap_blocks = gap_blocks
            .into_iter()
            .filter_map(|(s, e)| Some((u16::try_from(s - cum).ok()?, u16::try_from(e - cum).ok()?)))
            .take(max_blocks)
            .collect();
        Sack {
            cumulative_tsn_ack: self.cumulative_tsn(),
            a_rwnd: self.a_rwnd(),
            gap_blocks,
            duplicate_tsns: std::mem::take(&mut self.duplicates),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(tsn: u32, stream: u16, ssn: u16, b: bool, e: bool, payload: &[u8]) -> DataChunk<'_> {
        DataChunk {
            unordered: false,
            beginning: b,
            ending: e,
            immediate: false,
            tsn,
            stream_id: stream,
            ssn,
            ppid: 60,
            payload,
        }
    }

    #[test]
    fn in_order_and_gaps() {
        let mut r = Receiver::new(10, 2, 1 << 16);
        assert_eq!(r.cumulative_tsn(), 9);
        assert_eq!(r.receive(&chunk(10, 0, 0, true, true, b"a")), Received::New);
        assert_eq!(r.receive(&chunk(12, 0, 2, true, true, b"c")), Received::New);
        assert_eq!(r.receive(&chunk(13, 1, 0, true, true, b"d")), Received::New);
        let sack = r.sack(16);
        assert_eq!(sack.cumulative_tsn_ack, 10);
        assert_eq!(sack.gap_blocks, vec![(2, 3)]);
        assert_eq!(r.pop_ready().unwrap().data, &b"a"[..]);
        assert_eq!(r.pop_ready().unwrap().data, &b"d"[..]);
        assert!(r.pop_ready().is_none(), "stream 0 SSN 2 waits for SSN 1");
        assert_eq!(r.receive(&chunk(12, 0, 2, true, true, b"c")), Received::Duplicate);
        assert_eq!(r.receive(&chunk(11, 0, 1, true, true, b"b")), Received::New);
        assert_eq!(r.pop_ready().unwrap().data, &b"b"[..]);
        assert_eq!(r.pop_ready().unwrap().data, &b"c"[..]);
        let sack = r.sack(16);
        assert_eq!(sack.cumulative_tsn_ack, 13);
        assert!(sack.gap_blocks.is_empty());
        assert_eq!(sack.duplicate_tsns, vec![12]);
    }

    #[test]
    fn fragments_across_tsn_wrap() {
        let mut r = Receiver::new(u32::MAX - 1, 1, 1 << 16);
        r.receive(&chunk(0, 0, 0, false, true, b"c"));
        r.receive(&chunk(u32::MAX - 1, 0, 0, true, false, b"a"));
        assert!(r.pop_ready().is_none());
        r.receive(&chunk(u32::MAX, 0, 0, false, false, b"b"));
        assert_eq!(r.pop_ready().unwrap().data, &b"abc"[..]);
        assert_eq!(r.cumulative_tsn(), 0);
    }

    #[test]
    fn window_shrinks_and_full_buffer_drops() {
        let mut r = Receiver::new(1, 1, 4);
        r.receive(&chunk(2, 0, 1, true, true, b"xyz"));
        assert_eq!(r.a_rwnd(), 1);
        assert_eq!(r.receive(&chunk(3, 0, 2, true, true, b"xy")), Received::Dropped);
        // The next in sequence is always taken.
        assert_eq!(r.receive(&chunk(1, 0, 0, true, true, b"xy")), Received::New);
        assert_eq!(r.pop_ready().unwrap().data, &b"xy"[..]);
        assert_eq!(r.pop_ready().unwrap().data, &b"xyz"[..]);
        assert_eq!(r.a_rwnd(), 4);
    }

    #[test]
    fn endless_message_is_bounded() {
        let mut r = Receiver::new(1, 1, 10);
        let mut accepted = 0;
        for tsn in 1..100u32 {
            if r.receive(&chunk(tsn, 0, 0, tsn == 1, false, b"abc")) == Received::New {
                accepted += 1;
            }
        }
        // 2 x 10 bytes of buffer / 3 bytes per fragment.
        assert_eq!(accepted, 6);
        assert_eq!(r.a_rwnd(), 0);
    }
}
