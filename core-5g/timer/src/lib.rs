//! One timer table for every sans-IO state machine in hexcore (the AMF's NAS timers,
//! the SMF's PFCP association and 5GSM timers, the UPF's heartbeats and URR periods).
//!
//! A machine never sleeps and never reads the clock: it records deadlines here and
//! exposes only the earliest one (`poll_timeout`); when the glue calls it back at or
//! after that instant it pops what has expired, earliest first. Each key has at most
//! one deadline: starting a key that runs replaces it (a restarted T3560, a URR whose
//! period was modified).
//!
//! Keys are the machine's own typed ids (`AmfUeNgapId`, a `(Seid, UrrId)` pair, an
//! enum of timers); the optional value says which timer of that key runs when a key
//! can run different ones in turn (a UE runs T3560, then T3550: at most one at a time,
//! TS 24.501 §5.1.3).
//!
//! Costs: start/stop O(log n), the earliest deadline O(log n) at worst (a `BTreeMap`
//! ordered by deadline, ties broken by insertion order), lookups by key O(1).
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::time::Instant;

/// Deadlines by key, earliest first.
#[derive(Debug, Clone)]
pub struct TimerTable<K, V = ()> {
    by_deadline: BTreeMap<(Instant, u64), K>,
    by_key: HashMap<K, Running<V>>,
    /// Breaks ties between equal deadlines: first started, first expired.
    sequence: u64,
}

#[derive(Debug, Clone)]
struct Running<V> {
    deadline: Instant,
    sequence: u64,
    value: V,
}

impl<K, V> Default for TimerTable<K, V> {
    fn default() -> Self {
        Self {
            by_deadline: BTreeMap::new(),
            by_key: HashMap::new(),
            sequence: 0,
        }
    }
}

impl<K: Hash + Eq + Clone, V> TimerTable<K, V> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Start `key`'s timer with `value`, to expire at `deadline`; a timer that already
    /// runs for `key` is replaced, and its value returned.
    pub fn start(&mut self, key: K, value: V, deadline: Instant) -> Option<V> {
        let old = self.stop(&key);
        self.sequence += 1;
        self.by_deadline.insert((deadline, self.sequence), key.clone());
        self.by_key.insert(
            key,
            Running {
                deadline,
                sequence: self.sequence,
                value,
            },
        );
        old
    }

    /// Stop `key`'s timer; its value if one ran.
    pub fn stop(&mut self, key: &K) -> Option<V> {
        let running = self.by_key.remove(key)?;
        self.by_deadline.remove(&(running.deadline, running.sequence));
        Some(running.value)
    }

    /// The value and deadline of `key`'s running timer.
    pub fn running(&self, key: &K) -> Option<(&V, Instant)> {
        self.by_key.get(key).map(|r| (&r.value, r.deadline))
    }

    /// Whether a timer runs for `key`.
    pub fn is_running(&self, key: &K) -> bool {
        self.by_key.contains_key(key)
    }

    /// The earliest deadline of all running timers.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.keys().next().map(|(deadline, _)| *deadline)
    }

    /// Remove and return the earliest timer that has expired at `now` (its deadline is
    /// `now` or earlier); `None` when none has. Call until `None` to take them all.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(K, V)> {
        let entry = self.by_deadline.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        let key = entry.remove();
        let running = self.by_key.remove(&key)?;
        Some((key, running.value))
    }

    /// Stop every timer whose key `keep` refuses (e.g. all timers of a removed session).
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        let gone: Vec<K> = self.by_key.keys().filter(|k| !keep(k)).cloned().collect();
        for key in gone {
            self.stop(&key);
        }
    }

    /// Number of running timers.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no timer runs.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

impl<K: Hash + Eq + Clone> TimerTable<K, ()> {
    /// Start `key`'s timer (a table whose keys say which timer they are).
    pub fn set(&mut self, key: K, deadline: Instant) {
        self.start(key, (), deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn earliest_first_and_a_restart_replaces() {
        let t0 = Instant::now();
        let mut t: TimerTable<u64, &str> = TimerTable::new();
        assert_eq!(t.start(1, "T3560", at(t0, 6)), None);
        t.start(2, "T3550", at(t0, 3));
        assert_eq!(t.next_deadline(), Some(at(t0, 3)));
        assert_eq!(t.start(2, "T3570", at(t0, 9)), Some("T3550"));
        assert_eq!(t.running(&2), Some((&"T3570", at(t0, 9))));
        assert_eq!(t.next_deadline(), Some(at(t0, 6)));
        assert_eq!(t.pop_expired(at(t0, 5)), None);
        assert_eq!(t.pop_expired(at(t0, 10)), Some((1, "T3560")));
        assert_eq!(t.pop_expired(at(t0, 10)), Some((2, "T3570")));
        assert_eq!(t.pop_expired(at(t0, 10)), None);
        assert!(t.is_empty());
    }

    #[test]
    fn a_stopped_timer_never_expires() {
        let t0 = Instant::now();
        let mut t: TimerTable<&str> = TimerTable::new();
        t.set("heartbeat", at(t0, 1));
        t.set("association", at(t0, 2));
        assert_eq!(t.stop(&"heartbeat"), Some(()));
        assert_eq!(t.stop(&"heartbeat"), None);
        assert_eq!(t.next_deadline(), Some(at(t0, 2)));
        assert_eq!(t.pop_expired(at(t0, 60)), Some(("association", ())));
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn equal_deadlines_expire_in_start_order() {
        let t0 = Instant::now();
        let mut t: TimerTable<u32> = TimerTable::new();
        for k in [5, 3, 9, 1] {
            t.set(k, at(t0, 1));
        }
        let order: Vec<u32> = std::iter::from_fn(|| t.pop_expired(at(t0, 1)).map(|(k, ())| k)).collect();
        assert_eq!(order, [5, 3, 9, 1]);
    }

    #[test]
    fn retain_stops_the_refused_keys_only() {
        let t0 = Instant::now();
        let mut t: TimerTable<(u64, u32)> = TimerTable::new();
        t.set((1, 1), at(t0, 1));
        t.set((1, 2), at(t0, 2));
        t.set((2, 1), at(t0, 3));
        t.retain(|(seid, _)| *seid != 1);
        assert_eq!(t.len(), 1);
        assert_eq!(t.next_deadline(), Some(at(t0, 3)));
        assert!(t.is_running(&(2, 1)));
    }

    /// A table driven by random starts, stops and pops agrees with a naive model.
    #[test]
    fn agrees_with_a_naive_model() {
        let t0 = Instant::now();
        let mut t: TimerTable<u8, u32> = TimerTable::new();
        let mut model: HashMap<u8, (Instant, u64, u32)> = HashMap::new();
        let mut seq = 0u64;
        // xorshift: deterministic, no dependency.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut now = t0;
        for step in 0..5_000u32 {
            let r = next();
            let key = (r % 16) as u8;
            match (r >> 8) % 4 {
                0 | 1 => {
                    let d = now + Duration::from_millis((r >> 16) % 50);
                    seq += 1;
                    t.start(key, step, d);
                    model.insert(key, (d, seq, step));
                }
                2 => assert_eq!(t.stop(&key), model.remove(&key).map(|(_, _, v)| v)),
                _ => {
                    now += Duration::from_millis((r >> 16) % 20);
                    let expected = model
                        .iter()
                        .filter(|(_, (d, _, _))| *d <= now)
                        .min_by_key(|(_, (d, s, _))| (*d, *s))
                        .map(|(k, (_, _, v))| (*k, *v));
                    let got = t.pop_expired(now);
                    assert_eq!(got, expected);
                    if let Some((k, _)) = got {
                        model.remove(&k);
                    }
                }
            }
            assert_eq!(t.next_deadline(), model.values().map(|(d, _, _)| *d).min());
            assert_eq!(t.len(), model.len());
        }
    }
}
