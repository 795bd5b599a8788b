//! Dedupe on (UPF, SEID, URR ID, UR-SEQN), sans-IO: which reports a durable consumer
//! has stored already.
//!
//! **Where duplicates come from.** A UPF retransmits a Session Report Request whose
//! response it did not get (TS 29.244 §6.4: the SMF's response cache answers most, but
//! not one that arrives after the cache dropped it); the outbox delivers its spool at
//! least once (a crash between the consumer's store and the spool's drain mark
//! delivers the batch again). Both repeat a report with its key, shortly after the
//! first copy, and within the last few reports of its URR.
//!
//! **What is kept.** UR-SEQN increases by one per report of a URR (TS 29.244 §8.2.77),
//! so per URR a window suffices, as in IPsec's anti-replay window (RFC 4303 §3.4.3): the
//! highest UR-SEQN seen and a bitmap of the [`WINDOW`] numbers below it. Reports reach a
//! consumer in the order the outbox took them, so a repeat is never more than a batch
//! behind the highest; a number more than [`WINDOW`] behind means the URR started over
//! (removed and created again with the same ID), and the window restarts there.
//!
//! **How much.** At most `capacity` URRs (about 100 bytes each); when full, the URR
//! whose last report is oldest (in arrival order, not wall time) is forgotten. A
//! durable consumer rebuilds the window from its own journal on open (the JSON-lines
//! sink reads its file), so dedupe holds across restarts.

use std::collections::{BTreeMap, HashMap};

use crate::record::{ReportKey, UrrKey};

/// UR-SEQNs remembered below the highest of each URR.
pub const WINDOW: u32 = 128;

/// URRs remembered by default: ~6.5 MB.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// The reports a consumer has stored, per URR.
#[derive(Debug, Clone)]
pub struct Dedupe {
    capacity: usize,
    urrs: HashMap<UrrKey, Window>,
    /// URRs by their last insertion, oldest first (the eviction order).
    by_age: BTreeMap<u64, UrrKey>,
    clock: u64,
}

/// The reports seen of one URR.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// The highest UR-SEQN seen (serial number arithmetic, RFC 1982).
    highest: u32,
    /// Bit `i`: `highest - i` was seen.
    seen: u128,
    /// When it was last inserted into (`Dedupe::clock`).
    age: u64,
}

/// Where a UR-SEQN falls relative to a window.
enum Position {
    /// Above the highest, by this much.
    Ahead(u32),
    /// Within the window, this far below the highest (0 = the highest).
    Within(u32),
    /// Further behind than the window reaches.
    Behind,
}

impl Dedupe {
    /// Remember at most `capacity` URRs (at least one).
    pub fn new(capacity: usize) -> Self {
        Dedupe {
            capacity: capacity.max(1),
            urrs: HashMap::new(),
            by_age: BTreeMap::new(),
            clock: 0,
        }
    }

    /// Has a report with this key been stored?
    pub fn contains(&self, key: &ReportKey) -> bool {
        self.urrs.get(&key.urr).is_some_and(|w| w.contains(key.ur_seqn.0))
    }

    /// Remember that the report with this key is stored. Returns false if it was
    /// known already. Call it only once the report is durable.
    pub fn insert(&mut self, key: &ReportKey) -> bool {
        self.clock += 1;
        let age = self.clock;
        let seqn = key.ur_seqn.0;
        let new = match self.urrs.get_mut(&key.urr) {
            Some(w) => {
                self.by_age.remove(&w.age);
                w.age = age;
                w.insert(seqn)
            }
            None => {
                if self.urrs.len() >= self.capacity
                    && let Some((_, oldest)) = self.by_age.pop_first()
                {
                    self.urrs.remove(&oldest);
                }
                self.urrs.insert(
                    key.urr.clone(),
                    Window {
                        highest: seqn,
                        seen: 1,
                        age,
                    },
                );
                true
            }
        };
        self.by_age.insert(age, key.urr.clone());
        new
    }

    /// URRs remembered.
    pub fn len(&self) -> usize {
        self.urrs.len()
    }

    /// Is nothing remembered?
    pub fn is_empty(&self) -> bool {
        self.urrs.is_empty()
    }
}

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe::new(DEFAULT_CAPACITY)
    }
}

impl Window {
    fn position(&self, seqn: u32) -> Position {
        // RFC 1982 §3.2: ahead if the distance is less than half the number space.
        let ahead = seqn.wrapping_sub(self.highest);
        if ahead != 0 && ahead < 1 << 31 {
            return Position::Ahead(ahead);
        }
        let behind = self.highest.wrapping_sub(seqn);
        if behind < WINDOW {
            Position::Within(behind)
        } else {
            Position::Behind
        }
    }

    fn contains(&self, seqn: u32) -> bool {
        match self.position(seqn) {
            Position::Within(i) => self.seen & (1 << i) != 0,
            Position::Ahead(_) | Position::Behind => false,
        }
    }

    fn insert(&mut self, seqn: u32) -> bool {
        match self.position(seqn) {
            Position::Ahead(n) => {
                self.seen = if n >= WINDOW { 1 } else { (self.seen << n) | 1 };
                self.highest = seqn;
                true
            }
            Position::Within(i) => {
                let new = self.seen & (1 << i) == 0;
                self.seen |= 1 << i;
                new
            }
            Position::Behind => {
                // The URR started over (TS 29.244 §8.2.77 numbers per URR; a URR
                // created again numbers afresh).
                self.highest = seqn;
                self.seen = 1;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::node::NodeId;
    use crate::record::{Seid, UrSeqn, UrrId};

    fn key(seid: u64, urr: u32, seqn: u32) -> ReportKey {
        ReportKey {
            urr: UrrKey {
                upf: NodeId::Ipv4(Ipv4Addr::new(10, 0, 0, 2)),
                seid: Seid(seid),
                urr_id: UrrId(urr),
            },
            ur_seqn: UrSeqn(seqn),
        }
    }

    #[test]
    fn same_key_once() {
        let mut d = Dedupe::default();
        assert!(!d.contains(&key(1, 1, 5)));
        assert!(d.insert(&key(1, 1, 5)));
        assert!(d.contains(&key(1, 1, 5)));
        assert!(!d.insert(&key(1, 1, 5)));
        // Another UR-SEQN, URR, SEID or UPF is another report.
        for other in [key(1, 1, 6), key(1, 1, 4), key(1, 2, 5), key(2, 1, 5)] {
            assert!(!d.contains(&other), "{other:?}");
        }
        let mut other_upf = key(1, 1, 5);
        other_upf.urr.upf = NodeId::fqdn("upf2.example.org").unwrap();
        assert!(d.insert(&other_upf));
    }

    #[test]
    fn window_slides_and_remembers_what_it_covers() {
        let mut d = Dedupe::default();
        // Out of order within the window: each counted once.
        for s in [10, 12, 11, 9, 12, 10] {
            d.insert(&key(1, 1, s));
        }
        for s in 9..=12 {
            assert!(d.contains(&key(1, 1, s)), "{s}");
        }
        assert!(!d.contains(&key(1, 1, 8)));
        // Slide by less than the window: old bits move along.
        assert!(d.insert(&key(1, 1, 12 + WINDOW - 1)));
        assert!(d.contains(&key(1, 1, 12)));
        assert!(!d.contains(&key(1, 1, 11)), "now past the window");
        // Slide by more than the window: only the new one is known.
        assert!(d.insert(&key(1, 1, 1000)));
        assert!(d.contains(&key(1, 1, 1000)));
        assert!(!d.contains(&key(1, 1, 999)));
    }

    #[test]
    fn wraps_at_two_to_the_32() {
        let mut d = Dedupe::default();
        d.insert(&key(1, 1, u32::MAX - 1));
        d.insert(&key(1, 1, u32::MAX));
        assert!(d.insert(&key(1, 1, 0)), "0 follows 2^32-1");
        assert!(d.insert(&key(1, 1, 1)));
        for s in [u32::MAX - 1, u32::MAX, 0, 1] {
            assert!(d.contains(&key(1, 1, s)), "{s}");
            assert!(!d.insert(&key(1, 1, s)), "{s}");
        }
    }

    #[test]
    fn a_urr_that_starts_over_is_counted() {
        let mut d = Dedupe::default();
        for s in 1..=500 {
            d.insert(&key(1, 1, s));
        }
        // The URR was removed and created again: its numbers start at 1 again.
        assert!(!d.contains(&key(1, 1, 1)));
        assert!(d.insert(&key(1, 1, 1)));
        assert!(d.insert(&key(1, 1, 2)));
        assert!(!d.insert(&key(1, 1, 1)), "and its repeats are caught");
    }

    #[test]
    fn bounded_oldest_forgotten_first() {
        let mut d = Dedupe::new(2);
        d.insert(&key(1, 1, 1));
        d.insert(&key(2, 1, 1));
        d.insert(&key(1, 1, 2)); // URR of SEID 1 is now the younger
        d.insert(&key(3, 1, 1)); // evicts SEID 2
        assert_eq!(d.len(), 2);
        assert!(d.contains(&key(1, 1, 1)));
        assert!(d.contains(&key(3, 1, 1)));
        assert!(!d.contains(&key(2, 1, 1)));
    }
}
