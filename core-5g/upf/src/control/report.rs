//! Session reports (TS 29.244 §7.5.8): usage reports when a URR's trigger holds
//! (§5.2.2), downlink data reports for buffered packets (§5.2.3.1), the SMF's
//! answers to them, and the final reports of a clean stop.
//!
//! A URR is looked at when the data path names it ([`Notice::Urr`]: a threshold
//! crossed, a quota out) or when its timer expires (its earliest time-based trigger);
//! after every look and every report its timer is set to its next deadline again.
//! Usage a report carried that the SMF never acknowledged is merged back into its
//! URR and goes out with the next report; usage nobody can take is logged, never
//! dropped silently.

use std::time::Instant;

use hexcore_pfcp::Cause;
use hexcore_pfcp::Pdu;
use hexcore_pfcp::SessionReportRequest;
use hexcore_pfcp::ie::{
    DownlinkDataReport, DownlinkDataServiceInformation, ReportType, Timestamp, UsageReport, UsageReportTrigger,
};

use super::usage::UrrCtl;
use super::{Event, InFlight, Timer, UpfControl, Usage};
use crate::datapath::Notice;
use crate::ids::{Seid, UrrId};

impl UpfControl {
    pub(super) fn on_notice(&mut self, now: Instant, n: Notice) {
        match n {
            Notice::DownlinkBuffered { seid, pdr_id, qfi } => {
                let Some(s) = self.sessions.get(&seid) else { return };
                let cp_seid = s.cp_seid();
                let peer = s.cp_peer;
                // §5.2.3.1 / Table 7.5.8.2-1: Downlink Data Report with the PDR and,
                // if known, the QFI (Downlink Data Service Information, §8.2.27).
                let mut dldr = DownlinkDataReport::new(vec![pdr_id]);
                if let Some(q) = qfi {
                    dldr.downlink_data_service_information
                        .push(DownlinkDataServiceInformation {
                            paging_policy_indication: None,
                            qfi: Some(q),
                        });
                }
                let req = SessionReportRequest::new(ReportType::new(ReportType::DLDR)).downlink_data_report(dldr);
                let seq = self.tx.send_request(now, peer, Pdu::session(cp_seid.0, req));
                self.in_flight.insert(
                    seq,
                    InFlight {
                        seid,
                        cp_seid,
                        reports: Vec::new(),
                    },
                );
                self.events.push_back(Event::DownlinkDataReport { seid, pdr_id });
            }
            Notice::Urr { seid, urr_id } => self.check_urr(now, seid, urr_id),
        }
    }

    /// Look at a URR (named by the data path, or its timer expired): report it if
    /// any trigger holds, then set its timer to its next deadline.
    pub(super) fn check_urr(&mut self, now: Instant, seid: Seid, urr_id: UrrId) {
        let trigger = match self.sessions.get_mut(&seid).and_then(|s| s.rules.urrs.get_mut(&urr_id)) {
            Some(u) => {
                u.shared.take_attention();
                u.due(now)
            }
            None => return,
        };
        if !trigger.is_empty() {
            self.send_reports(now, seid, &[urr_id], trigger);
        }
        self.arm_urr_timer(seid, urr_id);
    }

    /// Set each URR timer of a session to its URR's next deadline (after the rules
    /// changed or reports went out), and stop those of `removed` URRs.
    pub(super) fn arm_urr_timers(&mut self, seid: Seid, removed: &[UrrId]) {
        for urr_id in removed {
            self.timers.stop(&Timer::Urr(seid, *urr_id));
        }
        let ids: Vec<UrrId> = self
            .sessions
            .get(&seid)
            .map(|s| s.rules.urrs.keys().copied().collect())
            .unwrap_or_default();
        for urr_id in ids {
            self.arm_urr_timer(seid, urr_id);
        }
    }

    /// Set the URR's timer to its earliest time-based trigger, or stop it when it has
    /// none (or the URR is gone).
    fn arm_urr_timer(&mut self, seid: Seid, urr_id: UrrId) {
        let key = Timer::Urr(seid, urr_id);
        let deadline = self
            .sessions
            .get(&seid)
            .and_then(|s| s.rules.urrs.get(&urr_id))
            .and_then(UrrCtl::deadline);
        match deadline {
            Some(d) => self.timers.set(key, d),
            None => {
                self.timers.stop(&key);
            }
        }
    }

    /// Report every URR of a session with `trigger` (TEBUR at a stop, a CP restart,
    /// an association release).
    pub(super) fn report_all(&mut self, now: Instant, seid: Seid, trigger: UsageReportTrigger) {
        let ids: Vec<UrrId> = self
            .sessions
            .get(&seid)
            .map(|s| s.rules.urrs.keys().copied().collect())
            .unwrap_or_default();
        if !ids.is_empty() {
            self.send_reports(now, seid, &ids, trigger);
        }
    }

    /// A Session Report Request with a Usage Report per URR (§7.5.8).
    fn send_reports(&mut self, now: Instant, seid: Seid, urr_ids: &[UrrId], trigger: UsageReportTrigger) {
        let Some((cp_seid, peer)) = self.sessions.get(&seid).map(|s| (s.cp_seid(), s.cp_peer)) else {
            return;
        };
        let mut req = SessionReportRequest::new(ReportType::new(ReportType::USAR));
        let mut carried = Vec::new();
        for id in urr_ids {
            if let Some((ur, usage)) = self.take_report(now, seid, *id, trigger) {
                self.events.push_back(Event::UsageReported {
                    seid,
                    urr_id: *id,
                    trigger,
                    usage,
                });
                req.usage_reports.push(ur);
                carried.push((*id, usage));
            }
            // A report moves the URR's measurement and period on.
            self.arm_urr_timer(seid, *id);
        }
        if req.usage_reports.is_empty() {
            return;
        }
        let seq = self.tx.send_request(now, peer, Pdu::session(cp_seid.0, req));
        self.in_flight.insert(
            seq,
            InFlight {
                seid,
                cp_seid,
                reports: carried,
            },
        );
    }

    /// The Usage Report of one URR for `trigger`; a new measurement starts. The
    /// caller sets the URR's timer again.
    pub(super) fn take_report(
        &mut self,
        now: Instant,
        seid: Seid,
        urr_id: UrrId,
        trigger: UsageReportTrigger,
    ) -> Option<(UsageReport, Usage)> {
        let started = self.config.started;
        let u: &mut UrrCtl = self.sessions.get_mut(&seid)?.rules.urrs.get_mut(&urr_id)?;
        Some(u.take_report(now, |i| wall_clock(started, i), trigger))
    }

    /// The time stamp of an instant (Start Time, End Time, §8.2.79/§8.2.80).
    pub(super) fn wall(&self, i: Instant) -> Timestamp {
        wall_clock(self.config.started, i)
    }

    /// The SMF answered a Session Report Request.
    pub(super) fn on_report_response(&mut self, now: Instant, f: InFlight, cause: Option<Cause>) {
        match cause {
            Some(c) if c.is_accepted() => {}
            Some(Cause::SessionContextNotFound) => {
                // The SMF does not know the session: nobody will take this usage.
                // Log its size; delete the session here too.
                for (urr_id, usage) in f.reports {
                    self.lost(
                        f.seid,
                        f.cp_seid,
                        urr_id,
                        usage,
                        "SMF answered session context not found",
                    );
                }
                if self.sessions.contains_key(&f.seid) {
                    let unreported: Vec<(UrrId, Usage)> = self
                        .sessions
                        .get(&f.seid)
                        .map(|s| s.rules.urrs.values().map(|u| (u.id, u.unreported(now))).collect())
                        .unwrap_or_default();
                    for (urr_id, usage) in unreported {
                        if !usage.counts.is_zero() {
                            self.lost(f.seid, f.cp_seid, urr_id, usage, "session unknown to the SMF");
                        }
                    }
                    self.delete_session(now, f.seid);
                }
            }
            // Rejected or unreadable: not acknowledged; send it again.
            _ => self.carry(now, f),
        }
    }

    /// An unacknowledged report: merge its usage back into its URR, to go out with
    /// the next report; if the session or URR is gone, it is lost: log it.
    pub(super) fn carry(&mut self, now: Instant, f: InFlight) {
        for (urr_id, usage) in f.reports {
            let urr = self
                .sessions
                .get_mut(&f.seid)
                .and_then(|s| s.rules.urrs.get_mut(&urr_id))
                .filter(|_| !self.shutting_down);
            match urr {
                Some(u) => {
                    u.carried = u.carried.plus(&usage);
                    // Report again at the next trigger: look at the URR now, in case
                    // one holds already.
                    self.timers.set(Timer::Urr(f.seid, urr_id), now);
                    self.events.push_back(Event::UsageCarried {
                        seid: f.seid,
                        urr_id,
                        usage,
                    });
                }
                None => self.lost(
                    f.seid,
                    f.cp_seid,
                    urr_id,
                    usage,
                    "report not acknowledged and session gone",
                ),
            }
        }
    }

    fn lost(&mut self, seid: Seid, cp_seid: Seid, urr_id: UrrId, usage: Usage, reason: &'static str) {
        if usage.is_zero() {
            return;
        }
        self.events.push_back(Event::UsageLost {
            seid,
            cp_seid,
            urr_id,
            usage,
            reason,
        });
    }

    pub(super) fn begin_shutdown(&mut self, now: Instant) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        let seids: Vec<Seid> = self.sessions.keys().copied().collect();
        for seid in seids {
            // TS 29.244 §8.2.41 TEBUR: the UP function terminated the session.
            self.report_all(now, seid, UsageReportTrigger::new(UsageReportTrigger::TEBUR));
        }
    }
}

/// Wall-clock time stamp of `i`, from the `(Instant, unix seconds)` pair of the start.
fn wall_clock((base, unix): (Instant, u64), i: Instant) -> Timestamp {
    let secs = if i >= base {
        unix.saturating_add(i.duration_since(base).as_secs())
    } else {
        unix.saturating_sub(base.duration_since(i).as_secs())
    };
    Timestamp::from_unix_secs(secs)
}
