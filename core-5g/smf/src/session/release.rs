//! PDU session release (TS 23.502 §4.3.4; TS 24.501 §6.3.3, §6.4.3): the Release
//! Command guarded by T3592, and the local release that ends a session without (more)
//! signalling to the UE.

use std::time::Instant;

use hexcore_nas::SmCause;
use hexcore_ngap::{Cause as NgapCause, CauseNas};
use hexcore_sbi::{AmfRequest, N2SmInfo, N2SmInfoType};

use super::{Effect, Effects, N4, PduSession, Procedure, SessionTimer, UserPlane};
use crate::messages;
use crate::telemetry::Event;

impl PduSession {
    /// Release Command (TS 23.502 §4.3.4.2): the N4 session goes first (step 2), then
    /// N1 + N2 to the UE and gNB (step 3); the UE's Release Complete ends it.
    pub(super) fn start_release(&mut self, now: Instant, pti: u8, cause: SmCause, fx: &mut Effects) {
        fx.push(Effect::StopTimer(SessionTimer::T3591));
        self.release_n4(fx);
        let command = messages::release_command(self.header(pti), cause);
        self.procedure = Procedure::Releasing {
            pti,
            command: command.clone(),
            retransmissions: 0,
        };
        let n2 = match self.up {
            UserPlane::Active { .. } | UserPlane::Awaiting { .. } => {
                match messages::release_command_transfer(NgapCause::Nas(CauseNas::NormalRelease)) {
                    Ok(transfer) => Some(N2SmInfo {
                        kind: N2SmInfoType::PduResRelCmd,
                        transfer,
                    }),
                    Err(e) => {
                        tracing::error!("Release Command Transfer does not encode: {e}");
                        None
                    }
                }
            }
            UserPlane::Deactivated { .. } => None,
        };
        self.n1n2(Some(command), n2, fx);
        fx.push(Effect::StartTimer {
            timer: SessionTimer::T3592,
            at: now + self.config.nas.t3592,
        });
    }

    /// T3592 expired (TS 24.501 §6.3.3.5 a)): the command again, or on the fifth expiry
    /// a local release.
    pub(super) fn t3592_expired(&mut self, now: Instant, fx: &mut Effects) {
        let max = self.config.nas.max_retransmissions;
        let Procedure::Releasing {
            command,
            retransmissions,
            ..
        } = &mut self.procedure
        else {
            return;
        };
        if *retransmissions >= max {
            fx.event(Event::Procedure {
                procedure: "release",
                outcome: "failed",
            });
            return self.close("timeout", true, fx);
        }
        *retransmissions += 1;
        let command = command.clone();
        self.n1n2(Some(command), None, fx);
        fx.event(Event::Retransmission { timer: "T3592" });
        fx.push(Effect::StartTimer {
            timer: SessionTimer::T3592,
            at: now + self.config.nas.t3592,
        });
    }

    /// Delete the N4 session now (its final usage comes in the response); reports for
    /// its SEID no longer reach the session.
    fn release_n4(&mut self, fx: &mut Effects) {
        let up_seid = match std::mem::replace(&mut self.n4, N4::Released) {
            N4::Established { up_seid, .. } => Some(up_seid),
            N4::Lost { stale } => stale,
            N4::Establishing | N4::Reestablishing | N4::Released => None,
        };
        fx.push(Effect::SeidReleased(self.seid));
        if let Some(up_seid) = up_seid {
            fx.push(Effect::DeleteN4 {
                upf: self.upf,
                up_seid,
                identity: self.identity(self.seid),
            });
        }
    }

    /// Remove every trace of the session: N4 deleted, address back in the pool, the
    /// SMF forgets it.
    pub(super) fn forget(&mut self, fx: &mut Effects) {
        self.release_n4(fx);
        fx.push(Effect::ReleaseAddress {
            dnn: self.dnn.clone(),
            ue_ipv4: self.ue_ipv4,
        });
        fx.push(Effect::Closed);
    }

    /// End the session without (more) signalling to the UE: local release; the AMF
    /// hears of it when `notify`.
    pub(super) fn close(&mut self, how: &'static str, notify: bool, fx: &mut Effects) {
        self.forget(fx);
        fx.event(Event::SessionReleased {
            supi: self.ctx.supi.clone(),
            pdu_session_id: self.ctx.pdu_session_id,
            how,
        });
        if notify {
            fx.amf(AmfRequest::SmContextReleased {
                context: self.ctx.clone(),
            });
        }
    }
}
