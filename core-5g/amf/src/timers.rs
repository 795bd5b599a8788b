//! The AMF's timer table: every running NAS timer of every UE in one ordered map, so
//! that the machine exposes only its earliest deadline (`Amf::poll_timeout`).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// The network-side 5GMM timers (TS 24.501 §10.2, Table 10.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NasTimer {
    /// Registration accept sent, waiting for Registration complete.
    T3550,
    /// Authentication request or Security mode command sent.
    T3560,
    /// Identity request sent.
    T3570,
    /// Deregistration request (network-initiated) sent.
    T3522,
    /// A registered UE in CM-IDLE has not been heard of for T3512 plus the mobile
    /// reachable and implicit deregistration margins (TS 24.501 §5.3.7): it is
    /// deregistered implicitly. Keyed by [`idle_key`] of its 5G-TMSI.
    ImplicitDeregistration,
}

/// The timer-table key of an idle UE (above every AMF UE NGAP ID, which has 40 bits).
pub fn idle_key(tmsi: u32) -> u64 {
    (1 << 63) | u64::from(tmsi)
}

impl NasTimer {
    /// The name used in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            NasTimer::T3550 => "T3550",
            NasTimer::T3560 => "T3560",
            NasTimer::T3570 => "T3570",
            NasTimer::T3522 => "T3522",
            NasTimer::ImplicitDeregistration => "implicit_deregistration",
        }
    }
}

/// At most one NAS timer runs per UE: the procedures that start them are exclusive
/// (TS 24.501 §5.1.3: one common procedure at a time).
#[derive(Debug, Default)]
pub struct TimerTable {
    by_deadline: BTreeMap<(Instant, u64), NasTimer>,
    by_ue: HashMap<u64, Instant>,
}

impl TimerTable {
    /// Start (or restart) `timer` for UE `ue`.
    pub fn start(&mut self, ue: u64, timer: NasTimer, deadline: Instant) {
        self.stop(ue);
        self.by_deadline.insert((deadline, ue), timer);
        self.by_ue.insert(ue, deadline);
    }

    /// Stop whatever timer runs for `ue`.
    pub fn stop(&mut self, ue: u64) {
        if let Some(deadline) = self.by_ue.remove(&ue) {
            self.by_deadline.remove(&(deadline, ue));
        }
    }

    /// The timer running for `ue`.
    pub fn running(&self, ue: u64) -> Option<NasTimer> {
        let deadline = self.by_ue.get(&ue)?;
        self.by_deadline.get(&(*deadline, ue)).copied()
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.by_deadline.keys().next().map(|(d, _)| *d)
    }

    /// Remove and return one timer that has expired at `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<(u64, NasTimer)> {
        let (&(deadline, ue), _) = self.by_deadline.iter().next()?;
        if deadline > now {
            return None;
        }
        let timer = self.by_deadline.remove(&(deadline, ue))?;
        self.by_ue.remove(&ue);
        Some((ue, timer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn earliest_first_and_restart_replaces() {
        let t0 = Instant::now();
        let mut t = TimerTable::default();
        t.start(1, NasTimer::T3560, t0 + Duration::from_secs(6));
        t.start(2, NasTimer::T3550, t0 + Duration::from_secs(3));
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(3)));
        t.start(2, NasTimer::T3570, t0 + Duration::from_secs(9));
        assert_eq!(t.running(2), Some(NasTimer::T3570));
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(6)));
        assert_eq!(t.pop_expired(t0 + Duration::from_secs(5)), None);
        assert_eq!(t.pop_expired(t0 + Duration::from_secs(10)), Some((1, NasTimer::T3560)));
        t.stop(2);
        assert_eq!(t.next_deadline(), None);
    }
}
