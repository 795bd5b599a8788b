//! Usage reporting rules on the control side (TS 29.244 §5.2.2): what a URR asks
//! for, what has been reported, and the Usage Report IEs built from its counters.
//!
//! The counters themselves are the monotonic atomics of [`UrrShared`]. A report
//! covers `counters now − counters at the last report`, plus any usage *carried*
//! from a report the SMF never acknowledged (it is sent again with the next one,
//! never dropped silently).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hexcore_pfcp::ie::{
    MeasurementMethod, ReportingTriggers, Timestamp, UrSeqn, UsageReport, UsageReportTrigger, Volume, VolumeMeasurement,
};

use crate::datapath::{Counts, UNLIMITED, UrrShared};
use crate::ids::{Seid, UrrId};

/// Usage measured over some period: volumes and packets, and whole seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Octets and packets per direction.
    pub counts: Counts,
    /// Duration, whole seconds.
    pub duration_secs: u64,
}

impl Usage {
    /// Sum.
    pub fn plus(&self, o: &Usage) -> Usage {
        Usage {
            counts: self.counts.plus(&o.counts),
            duration_secs: self.duration_secs.saturating_add(o.duration_secs),
        }
    }

    /// Nothing measured.
    pub fn is_zero(&self) -> bool {
        self.counts.is_zero() && self.duration_secs == 0
    }
}

/// A URR as the control side keeps it.
#[derive(Debug, Clone)]
pub(crate) struct UrrCtl {
    pub id: UrrId,
    pub shared: Arc<UrrShared>,
    pub method: MeasurementMethod,
    pub triggers: ReportingTriggers,
    pub period: Option<Duration>,
    pub volume_threshold: Option<Volume>,
    pub volume_quota: Option<Volume>,
    pub time_threshold: Option<Duration>,
    pub time_quota: Option<Duration>,
    /// Counter values covered by the reports sent so far.
    pub reported: Counts,
    /// Usage of unacknowledged reports, to be sent again.
    pub carried: Usage,
    /// UR-SEQN of the last report.
    pub seqn: u32,
    /// Start of the current measurement (advanced by whole reported seconds).
    pub measure_start: Instant,
    /// Next periodic report.
    pub next_period: Option<Instant>,
    /// When the time quota was provisioned.
    pub time_quota_start: Instant,
    /// An exhaustion (volume or time quota) has been reported.
    pub quota_reported: bool,
}

impl UrrCtl {
    pub fn new(seid: Seid, id: UrrId, method: MeasurementMethod, triggers: ReportingTriggers, now: Instant) -> Self {
        UrrCtl {
            id,
            shared: Arc::new(UrrShared::new(seid, id)),
            method,
            triggers,
            period: None,
            volume_threshold: None,
            volume_quota: None,
            time_threshold: None,
            time_quota: None,
            reported: Counts::default(),
            carried: Usage::default(),
            seqn: 0,
            measure_start: now,
            next_period: None,
            time_quota_start: now,
            quota_reported: false,
        }
    }

    /// Push thresholds, quotas and the period timer to where the data path and
    /// the timers see them; called after a create, an update and every report.
    pub fn arm(&mut self, now: Instant, quota_changed: bool) {
        let t = self
            .volume_threshold
            .filter(|_| self.triggers.contains(ReportingTriggers::VOLTH));
        // A threshold of 0 would fire on every packet: treated as none.
        let target = |base: u64, v: Option<u64>| v.filter(|v| *v > 0).map_or(UNLIMITED, |v| base.saturating_add(v));
        let r = self.reported;
        self.shared.set_thresholds(
            target(r.total_octets(), t.and_then(|t| t.total)),
            target(r.uplink_octets, t.and_then(|t| t.uplink)),
            target(r.downlink_octets, t.and_then(|t| t.downlink)),
        );
        if quota_changed {
            // The quota counts from the moment it is provisioned (Create/Update URR).
            let q = self.volume_quota.unwrap_or_default();
            self.shared.set_budgets(
                q.total.unwrap_or(UNLIMITED),
                q.uplink.unwrap_or(UNLIMITED),
                q.downlink.unwrap_or(UNLIMITED),
            );
            self.time_quota_start = now;
            self.quota_reported = false;
        }
        self.next_period = match self.period.filter(|p| !p.is_zero()) {
            Some(p) if self.triggers.contains(ReportingTriggers::PERIO) => {
                Some(self.next_period.filter(|n| *n > now).unwrap_or(now + p))
            }
            _ => None,
        };
    }

    /// Usage since the last report, plus what is carried (not yet reported).
    pub fn unreported(&self, now: Instant) -> Usage {
        Usage {
            counts: self.shared.counts().since(&self.reported),
            duration_secs: now.saturating_duration_since(self.measure_start).as_secs(),
        }
        .plus(&self.carried)
    }

    /// The earliest time-based trigger (PERIO, TIMTH, TIMQU): when the control side
    /// must look at this URR again even if the data path says nothing (the deadline
    /// of its timer).
    pub fn deadline(&self) -> Option<Instant> {
        let timth = self
            .time_threshold
            .filter(|t| !t.is_zero() && self.triggers.contains(ReportingTriggers::TIMTH))
            .map(|t| self.measure_start + t);
        let timqu = self
            .time_quota
            .filter(|t| !t.is_zero() && !self.quota_reported)
            .map(|t| self.time_quota_start + t);
        [self.next_period, timth, timqu].into_iter().flatten().min()
    }

    /// Which triggers hold now (volume thresholds and quotas from the counters,
    /// time ones from `now`); empty when none.
    pub fn due(&mut self, now: Instant) -> UsageReportTrigger {
        let mut t = UsageReportTrigger::empty();
        let since = self.shared.counts().since(&self.reported);
        if let Some(v) = self.volume_threshold
            && self.triggers.contains(ReportingTriggers::VOLTH)
        {
            let hit = |limit: Option<u64>, used: u64| limit.is_some_and(|l| l > 0 && used >= l);
            if hit(v.total, since.total_octets())
                || hit(v.uplink, since.uplink_octets)
                || hit(v.downlink, since.downlink_octets)
            {
                t.insert(UsageReportTrigger::VOLTH);
            }
        }
        if self.shared.is_exhausted() && !self.quota_reported {
            t.insert(UsageReportTrigger::VOLQU);
        }
        if self.next_period.is_some_and(|n| n <= now) {
            t.insert(UsageReportTrigger::PERIO);
        }
        if let Some(th) = self.time_threshold
            && !th.is_zero()
            && self.triggers.contains(ReportingTriggers::TIMTH)
            && now.saturating_duration_since(self.measure_start) >= th
        {
            t.insert(UsageReportTrigger::TIMTH);
        }
        if let Some(tq) = self.time_quota
            && !tq.is_zero()
            && !self.quota_reported
            && now.saturating_duration_since(self.time_quota_start) >= tq
        {
            // TS 29.244 §5.2.2.2.1: time quota used up: stop the traffic, report.
            self.shared.set_exhausted(true);
            t.insert(UsageReportTrigger::TIMQU);
        }
        t
    }

    /// Build the Usage Report for `trigger` and start a new measurement. Returns the
    /// IE and the usage it carries.
    pub fn take_report(
        &mut self,
        now: Instant,
        wall: impl Fn(Instant) -> Timestamp,
        trigger: UsageReportTrigger,
    ) -> (UsageReport, Usage) {
        let counts = self.shared.counts();
        let secs = now.saturating_duration_since(self.measure_start).as_secs();
        let start = self.measure_start;
        let usage = Usage {
            counts: counts.since(&self.reported),
            duration_secs: secs,
        }
        .plus(&self.carried);
        self.reported = counts;
        self.carried = Usage::default();
        // Whole seconds only, so that durations add up exactly over reports.
        self.measure_start += Duration::from_secs(secs);
        self.seqn = self.seqn.wrapping_add(1);
        if trigger.intersects(UsageReportTrigger::VOLQU | UsageReportTrigger::TIMQU) {
            self.quota_reported = true;
        }
        if trigger.contains(UsageReportTrigger::PERIO)
            && let (Some(n), Some(p)) = (self.next_period, self.period)
        {
            let mut next = n;
            while next <= now {
                next += p;
            }
            self.next_period = Some(next);
        }
        self.arm(now, false);
        let mut ur = UsageReport::new(self.id, UrSeqn(self.seqn), trigger)
            .start_time(wall(start))
            .end_time(wall(now));
        if self.method.contains(MeasurementMethod::VOLUM) || !self.method.contains(MeasurementMethod::DURAT) {
            ur = ur.volume_measurement(volume_measurement(&usage.counts));
        }
        if self.method.contains(MeasurementMethod::DURAT) {
            ur = ur.duration_measurement(Duration::from_secs(usage.duration_secs));
        }
        (ur, usage)
    }
}

/// The Volume Measurement IE (§8.2.44) of some counts: all six fields.
pub(crate) fn volume_measurement(c: &Counts) -> VolumeMeasurement {
    VolumeMeasurement {
        total_volume: Some(c.total_octets()),
        uplink_volume: Some(c.uplink_octets),
        downlink_volume: Some(c.downlink_octets),
        total_packets: Some(c.total_packets()),
        uplink_packets: Some(c.uplink_packets),
        downlink_packets: Some(c.downlink_packets),
    }
}
