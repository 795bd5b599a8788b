//! PDU session modification (TS 23.502 §4.3.3; TS 24.501 §6.3.2, §6.4.2): the UE's
//! request, the network's new session AMBR, the Modification Command guarded by T3591,
//! and the N4 modifications the other procedures make.

use std::time::Instant;

use hexcore_pfcp::{Cause, SessionModificationResponse};
use hexcore_sbi::{N2SmInfo, N2SmInfoType, SmContextRef};

use super::{Change, Effect, Effects, N4, PduSession, Procedure, SessionTimer, UserPlane};
use crate::ids::Seid;
use crate::messages;
use crate::subscription::Ambr;
use crate::telemetry::Event;

impl PduSession {
    /// Network-requested modification of the session AMBR (TS 23.502 §4.3.3.2): QER
    /// update at the UPF, Modification Command to the UE, Modify Request to the gNB.
    pub(super) fn start_network_modification(&mut self, now: Instant, ambr: Ambr, fx: &mut Effects) {
        self.ambr = ambr;
        let command = messages::modification_command(self.header(0), ambr);
        self.modify_n4(messages::update_ambr(ambr), Change::Ambr, fx);
        // N2 only where the gNB holds the session; an idle UE's next activation
        // carries the new AMBR in its setup transfer.
        let n2 = match self.up {
            UserPlane::Active { .. } => match messages::modify_request_transfer(Some(ambr), None) {
                Ok(transfer) => Some(N2SmInfo {
                    kind: N2SmInfoType::PduResModReq,
                    transfer,
                }),
                Err(e) => {
                    tracing::error!("Modify Request Transfer does not encode: {e}");
                    None
                }
            },
            _ => None,
        };
        self.send_modification_command(now, 0, command, n2, fx);
    }

    /// PDU SESSION MODIFICATION COMMAND (TS 24.501 §6.3.2.2), T3591 started.
    pub(super) fn send_modification_command(
        &mut self,
        now: Instant,
        pti: u8,
        command: Vec<u8>,
        n2: Option<N2SmInfo>,
        fx: &mut Effects,
    ) {
        self.procedure = Procedure::Modifying {
            pti,
            command: command.clone(),
            retransmissions: 0,
        };
        self.n1n2(Some(command), n2, fx);
        fx.push(Effect::StartTimer {
            timer: SessionTimer::T3591,
            at: now + self.config.nas.t3591,
        });
    }

    pub(super) fn end_modification(&mut self, outcome: &'static str, fx: &mut Effects) {
        fx.push(Effect::StopTimer(SessionTimer::T3591));
        self.procedure = Procedure::Idle;
        fx.event(Event::Procedure {
            procedure: "modification",
            outcome,
        });
    }

    /// T3591 expired (TS 24.501 §6.3.2.5 a)): the command again, or on the fifth expiry
    /// the procedure is aborted.
    pub(super) fn t3591_expired(&mut self, now: Instant, fx: &mut Effects) {
        let max = self.config.nas.max_retransmissions;
        let Procedure::Modifying {
            command,
            retransmissions,
            ..
        } = &mut self.procedure
        else {
            return;
        };
        if *retransmissions >= max {
            return self.end_modification("failed", fx);
        }
        *retransmissions += 1;
        let command = command.clone();
        self.n1n2(Some(command), None, fx);
        fx.event(Event::Retransmission { timer: "T3591" });
        fx.push(Effect::StartTimer {
            timer: SessionTimer::T3591,
            at: now + self.config.nas.t3591,
        });
    }

    /// A Session Modification Response: usage it carries, and a refusal.
    pub(super) fn n4_modified(
        &mut self,
        seid: Seid,
        change: Change,
        rsp: SessionModificationResponse,
        fx: &mut Effects,
    ) {
        self.usage(seid, &rsp.usage_reports, None, fx);
        if !rsp.cause.is_accepted() {
            self.n4_modification_failed(seid, change, Some(rsp.cause), fx);
        }
    }

    /// A Session Modification under `seid` was refused or got no answer.
    pub(super) fn n4_modification_failed(
        &mut self,
        seid: Seid,
        change: Change,
        cause: Option<Cause>,
        fx: &mut Effects,
    ) {
        report_modification_failure(&self.ctx, change, cause, fx);
        if self.seid != seid || !matches!(self.n4, N4::Established { .. }) {
            return;
        }
        if cause == Some(Cause::SessionContextNotFound) {
            // The UPF lost the session without us seeing a restart: restore it.
            self.n4 = N4::Lost { stale: None };
            fx.push(Effect::Restore);
        }
    }
}

/// Log and count a failed Session Modification (also of a session that is gone).
pub(crate) fn report_modification_failure(ctx: &SmContextRef, change: Change, cause: Option<Cause>, fx: &mut Effects) {
    fx.event(Event::Warning(format!(
        "PFCP modification {change:?} of {}/{} failed: {cause:?}",
        ctx.supi, ctx.pdu_session_id
    )));
    fx.event(Event::PfcpError {
        what: "modification_failed",
    });
}
