//! The association's timers in one table (RFC 9260 §6.3, §8.3, §9.2, §6.2).

use std::time::Instant;

/// Every timer an association runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// T1-init: INIT retransmission (§5.1 A).
    T1Init = 0,
    /// T1-cookie: COOKIE ECHO retransmission (§5.1 C).
    T1Cookie,
    /// T2-shutdown: SHUTDOWN / SHUTDOWN ACK retransmission (§9.2).
    T2Shutdown,
    /// T3-rtx: DATA retransmission (§6.3.2).
    T3Rtx,
    /// HEARTBEAT on an idle path (§8.3).
    Heartbeat,
    /// Delayed SACK (§6.2, at most 200 ms).
    DelayedAck,
    /// T5-shutdown-guard (§9.2): bounds the whole shutdown.
    T5ShutdownGuard,
}

const COUNT: usize = 7;
const ALL: [Timer; COUNT] = [
    Timer::T1Init,
    Timer::T1Cookie,
    Timer::T2Shutdown,
    Timer::T3Rtx,
    Timer::Heartbeat,
    Timer::DelayedAck,
    Timer::T5ShutdownGuard,
];

/// Deadlines by timer; the machine exposes only the earliest.
#[derive(Debug, Default, Clone)]
pub struct TimerTable {
    at: [Option<Instant>; COUNT],
}

impl TimerTable {
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.at[timer as usize] = Some(at);
    }

    pub fn stop(&mut self, timer: Timer) {
        self.at[timer as usize] = None;
    }

    pub fn is_set(&self, timer: Timer) -> bool {
        self.at[timer as usize].is_some()
    }

    pub fn stop_all(&mut self) {
        self.at = [None; COUNT];
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    /// Takes (stops) the timers that expired at `now`, earliest first.
    pub fn expired(&mut self, now: Instant) -> Vec<Timer> {
        let mut fired: Vec<(Instant, Timer)> = ALL
            .iter()
            .filter_map(|&t| match self.at[t as usize] {
                Some(at) if at <= now => Some((at, t)),
                _ => None,
            })
            .collect();
        fired.sort_by_key(|(at, _)| *at);
        for (_, t) in &fired {
            self.stop(*t);
        }
        fired.into_iter().map(|(_, t)| t).collect()
    }
}
