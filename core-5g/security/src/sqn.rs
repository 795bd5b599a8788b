//! Sequence numbers for AKA (TS 33.102 §6.3.7 and Annex C, profile 1).
//!
//! SQN (48 bits) = SEQ (43 bits) ‖ IND (5 bits). The home network moves
//! SEQ forward for every vector and cycles IND through its 32 slots; the
//! USIM keeps the highest SEQ seen in each IND slot and accepts a SQN only if
//! its SEQ is above the slot's value and not more than Δ ahead of the
//! highest SEQ accepted so far (Annex C.2.1/C.2.2). On a failure the UE
//! answers with AUTS carrying SQN_MS (see [`crate::milenage::Milenage::generate_auts`]).

use crate::Error;

/// Number of IND bits (TS 33.102 C.3.2 recommends a = 5).
pub const IND_BITS: u32 = 5;
/// Number of IND slots.
pub const IND_SLOTS: usize = 1 << IND_BITS;
/// The SQN is 48 bits.
pub const SQN_MASK: u64 = 0xffff_ffff_ffff;
/// Δ: largest allowed jump of SEQ over the highest accepted one
/// (TS 33.102 C.3.2 suggests 2^28).
pub const DELTA: u64 = 1 << 28;

/// SQN as 6 octets, big endian.
pub fn sqn_to_bytes(sqn: u64) -> [u8; 6] {
    let b = (sqn & SQN_MASK).to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// SQN from 6 octets.
pub fn sqn_from_bytes(b: &[u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

/// SEQ part of a SQN.
pub fn seq(sqn: u64) -> u64 {
    (sqn & SQN_MASK) >> IND_BITS
}

/// IND part of a SQN.
pub fn ind(sqn: u64) -> usize {
    // At most 5 bits.
    (sqn & ((1 << IND_BITS) - 1)) as usize
}

/// Home network side: the SQN for the next authentication vector after
/// `current` (SEQ + 1, next IND slot). Wraps at 2^48 as the counter would.
pub fn next_sqn(current: u64) -> u64 {
    let s = seq(current).wrapping_add(1);
    let i = (ind(current) + 1) % IND_SLOTS;
    ((s << IND_BITS) | i as u64) & SQN_MASK
}

/// Home network side after a resynchronisation (TS 33.102 §6.3.5): continue
/// from the SQN_MS the USIM reported, so the next vector is fresh for it.
pub fn resync_sqn(sqn_ms: u64) -> u64 {
    next_sqn(sqn_ms)
}

/// USIM side freshness state (TS 33.102 C.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqnWindow {
    seq_ms: [u64; IND_SLOTS],
}

impl Default for SqnWindow {
    fn default() -> Self {
        Self { seq_ms: [0; IND_SLOTS] }
    }
}

impl SqnWindow {
    /// A USIM that has accepted nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Highest SEQ accepted in any slot.
    pub fn highest_seq(&self) -> u64 {
        self.seq_ms.iter().copied().max().unwrap_or(0)
    }

    /// SQN_MS for AUTS: highest accepted SEQ with its IND (C.2.1).
    pub fn sqn_ms(&self) -> u64 {
        let (i, s) = self
            .seq_ms
            .iter()
            .enumerate()
            .max_by_key(|&(_, &s)| s)
            .map(|(i, &s)| (i, s))
            .unwrap_or((0, 0));
        ((s << IND_BITS) | i as u64) & SQN_MASK
    }

    /// Check a received SQN and, if fresh, record it (C.2.2). A stale or
    /// too-far-ahead SQN is [`Error::SqnOutOfRange`]: the UE then sends an
    /// authentication failure with AUTS.
    pub fn accept(&mut self, sqn: u64) -> Result<(), Error> {
        let s = seq(sqn);
        let i = ind(sqn);
        let slot = self.seq_ms.get(i).copied().unwrap_or(u64::MAX);
        if s <= slot || s > self.highest_seq().saturating_add(DELTA) {
            return Err(Error::SqnOutOfRange);
        }
        if let Some(v) = self.seq_ms.get_mut(i) {
            *v = s;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        let b = [0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07];
        assert_eq!(sqn_from_bytes(&b), 0xff9b_b4d0_b607);
        assert_eq!(sqn_to_bytes(0xff9b_b4d0_b607), b);
        assert_eq!(seq(0x41), 2);
        assert_eq!(ind(0x41), 1);
    }

    #[test]
    fn next_sqn_steps_seq_and_ind() {
        assert_eq!(next_sqn(0), (1 << 5) | 1);
        // IND cycles 31 → 0.
        assert_eq!(next_sqn((7 << 5) | 31), 8 << 5);
        // SQN wraps at 48 bits.
        assert_eq!(next_sqn(SQN_MASK), 0);
    }

    #[test]
    fn usim_accepts_fresh_and_rejects_replay() {
        let mut w = SqnWindow::new();
        let mut sqn = 0;
        for _ in 0..40 {
            sqn = next_sqn(sqn);
            w.accept(sqn).unwrap();
        }
        // Replay of the last one: same SEQ in its slot.
        assert_eq!(w.accept(sqn), Err(Error::SqnOutOfRange));
        // An older vector in a different slot that was not yet used at that
        // SEQ is still fresh (the point of IND): slot 31 last saw SEQ 31.
        assert_eq!(w.accept((35 << 5) | 31), Ok(()));
        // Too far ahead.
        assert_eq!(
            w.accept(((w.highest_seq() + DELTA + 1) << 5) | 3),
            Err(Error::SqnOutOfRange)
        );
        assert_eq!(seq(w.sqn_ms()), w.highest_seq());
    }

    #[test]
    fn resync_continues_past_sqn_ms() {
        let mut w = SqnWindow::new();
        w.accept((100 << 5) | 4).unwrap();
        let hn_next = resync_sqn(w.sqn_ms());
        assert_eq!(w.accept(hn_next), Ok(()));
    }
}
