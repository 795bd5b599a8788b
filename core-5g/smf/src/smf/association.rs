//! The PFCP associations with the UPFs (TS 29.244 §6.2.6), their heartbeats (§6.2.2)
//! and what a UPF restart or a lost association means for the PDU sessions on it
//! (TS 23.007 §19A, TS 23.527 §4.3).

use std::time::{Duration, Instant};

use hexcore_pfcp::ie::Timestamp;
use hexcore_pfcp::{AssociationSetupRequest, HeartbeatRequest, Pdu};
use hexcore_sbi::SmContextRef;

use super::{Purpose, Smf, Timer};
use crate::ids::UpfId;
use crate::session::{PduSession, SessionEvent};
use crate::settings::UpfConfig;
use crate::telemetry::Event;

/// One UPF and the association with it.
#[derive(Debug)]
pub(super) struct Upf {
    pub(super) config: UpfConfig,
    pub(super) association: Association,
    /// The UPF's Recovery Time Stamp as last seen (TS 23.007 §19A, TS 29.244 §6.2.2).
    pub(super) recovery: Option<Timestamp>,
}

/// The association with one UPF (TS 29.244 §6.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Association {
    /// Not associated; the Association timer sends the next Setup Request.
    Down,
    /// A Setup Request is out.
    SettingUp,
    /// Associated.
    Up {
        /// A Heartbeat Request is out.
        heartbeat_out: bool,
    },
}

impl Upf {
    pub(super) fn new(config: UpfConfig) -> Upf {
        Upf {
            config,
            association: Association::Down,
            recovery: None,
        }
    }

    pub(super) fn is_up(&self) -> bool {
        matches!(self.association, Association::Up { .. })
    }
}

impl Smf {
    pub(super) fn upf_by_addr(&self, peer: std::net::SocketAddr) -> Option<UpfId> {
        self.upfs.iter().position(|u| u.config.address == peer).map(UpfId)
    }

    fn upf_name(&self, upf: UpfId) -> String {
        self.upfs
            .get(upf.0)
            .map_or(String::new(), |u| u.config.address.to_string())
    }

    pub(super) fn send_association_setup(&mut self, now: Instant, upf: UpfId) {
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        if u.is_up() {
            return;
        }
        u.association = Association::SettingUp;
        let req = AssociationSetupRequest::new(self.local.node_id.clone(), self.local.recovery_time_stamp);
        self.send_pfcp(now, upf, Pdu::node(req), Purpose::AssociationSetup(upf));
    }

    /// The UPF refused or did not answer our Setup Request.
    pub(super) fn association_refused(&mut self, now: Instant, upf: UpfId, why: Option<hexcore_pfcp::Cause>) {
        if let Some(cause) = why {
            self.event(Event::Warning(format!(
                "UPF {} refused the association: {cause:?}",
                self.upf_name(upf)
            )));
        }
        if let Some(u) = self.upfs.get_mut(upf.0)
            && !u.is_up()
        {
            u.association = Association::Down;
            let wait = self.config.pfcp.association_retry;
            self.timers.set(Timer::Association(upf), now + wait);
        }
    }

    /// An association is (again) up: set up by us (`by_upf` false) or by the UPF.
    pub(super) fn association_established(&mut self, now: Instant, upf: UpfId, recovery: Timestamp, by_upf: bool) {
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        let restarted = u.recovery.is_some_and(|r| r != recovery);
        let was_up = u.is_up();
        if was_up && !restarted && !by_upf {
            // Our late answer after the UPF set the association up itself: nothing new.
            return;
        }
        u.recovery = Some(recovery);
        u.association = Association::Up { heartbeat_out: false };
        let addr = u.config.address;
        self.timers.stop(&Timer::Association(upf));
        let interval = self.config.pfcp.heartbeat_interval;
        self.timers.set(Timer::Heartbeat(upf), now + interval);
        if !was_up {
            self.event(Event::Association { upf: addr, up: true });
        }
        if restarted {
            self.event(Event::UpfRestarted { upf: addr });
            self.sessions_lost(now, upf, true);
        } else if was_up {
            // A Setup Request for an existing association: the UP function drops the
            // sessions of the old one unless asked to keep them (TS 29.244 §6.2.6.2.2).
            self.sessions_lost(now, upf, false);
        }
        self.restore_sessions(now, upf, restarted);
    }

    pub(super) fn association_lost(&mut self, now: Instant, upf: UpfId, restarted: bool) {
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        let was_up = u.is_up();
        u.association = Association::Down;
        let addr = u.config.address;
        self.timers.stop(&Timer::Heartbeat(upf));
        if was_up {
            self.event(Event::Association { upf: addr, up: false });
        }
        self.sessions_lost(now, upf, restarted);
        let wait = if restarted {
            Duration::ZERO
        } else {
            self.config.pfcp.association_retry
        };
        self.timers.set(Timer::Association(upf), now + wait);
    }

    pub(super) fn send_heartbeat(&mut self, now: Instant, upf: UpfId) {
        let interval = self.config.pfcp.heartbeat_interval;
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        let Association::Up { heartbeat_out } = &mut u.association else {
            return;
        };
        self.timers.set(Timer::Heartbeat(upf), now + interval);
        if *heartbeat_out {
            // The previous one is still being retransmitted; its time-out decides.
            return;
        }
        *heartbeat_out = true;
        let req = HeartbeatRequest::new(self.local.recovery_time_stamp);
        self.send_pfcp(now, upf, Pdu::node(req), Purpose::Heartbeat(upf));
    }

    /// A Heartbeat Response.
    pub(super) fn heartbeat_answered(&mut self, now: Instant, upf: UpfId, recovery: Timestamp) {
        if let Some(u) = self.upfs.get_mut(upf.0)
            && let Association::Up { heartbeat_out } = &mut u.association
        {
            *heartbeat_out = false;
        }
        self.check_recovery(now, upf, recovery);
    }

    /// N1 retransmissions of a heartbeat unanswered: the UPF is presumed gone
    /// (TS 29.244 §6.2.2, TS 23.527 §4.3.3).
    pub(super) fn heartbeat_unanswered(&mut self, now: Instant, upf: UpfId) {
        self.event(Event::Warning(format!(
            "UPF {} does not answer heartbeats",
            self.upf_name(upf)
        )));
        self.association_lost(now, upf, false);
    }

    /// A Recovery Time Stamp other than the one of the association means the UPF
    /// restarted and lost every session (TS 23.007 §19A, TS 23.527 §4.3.2).
    pub(super) fn check_recovery(&mut self, now: Instant, upf: UpfId, ts: Timestamp) {
        let Some(u) = self.upfs.get_mut(upf.0) else { return };
        if u.recovery.is_some_and(|r| r != ts) && u.is_up() {
            let addr = u.config.address;
            u.recovery = Some(ts);
            self.event(Event::UpfRestarted { upf: addr });
            // The association went with the restart: set it up again at once, then
            // restore the sessions.
            self.association_lost(now, upf, true);
        }
    }

    // ------------------------------------------------------------ sessions on a UPF

    /// The UPF lost its sessions (restart) or may have (association lost).
    fn sessions_lost(&mut self, now: Instant, upf: UpfId, restarted: bool) {
        for ctx in self.sessions_on(upf, |_| true) {
            self.dispatch(now, &ctx, SessionEvent::N4Lost { restarted });
        }
    }

    /// Re-establish every lost session of a UPF whose association is back (TS 23.527
    /// §4.3.2: same UE address, new SEIDs, new F-TEIDs).
    fn restore_sessions(&mut self, now: Instant, upf: UpfId, restarted: bool) {
        for ctx in self.sessions_on(upf, PduSession::n4_is_lost) {
            self.restore_session(now, &ctx, restarted);
        }
    }

    /// Give a lost session a new CP SEID and let it re-establish its N4 session.
    pub(super) fn restore_session(&mut self, now: Instant, ctx: &SmContextRef, restarted: bool) {
        if !self.sessions.get(ctx).is_some_and(PduSession::n4_is_lost) {
            return;
        }
        let seid = self.allocate_seid();
        self.by_seid.insert(seid, ctx.clone());
        self.dispatch(now, ctx, SessionEvent::Restore { seid, restarted });
    }

    /// The sessions on `upf` that `which` picks, in SM context order.
    fn sessions_on(&self, upf: UpfId, which: impl Fn(&PduSession) -> bool) -> Vec<SmContextRef> {
        let mut v: Vec<SmContextRef> = self
            .sessions
            .values()
            .filter(|s| s.upf() == upf && which(s))
            .map(|s| s.context().clone())
            .collect();
        v.sort();
        v
    }
}
