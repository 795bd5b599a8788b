//! Nsmf_PDUSession_UpdateSMContext (TS 29.502 §5.2.2.3) of a PDU session: the user
//! plane going down and up again (AN release TS 23.502 §4.2.6, Service Request §4.2.3.2,
//! downlink data §4.2.3.3), the gNB's answers, and the 5GSM messages of the UE.

use std::ops::ControlFlow;
use std::time::Instant;

use hexcore_nas::{Message, SmCause};
use hexcore_ngap::procedures::PduSessionResourceSetupResponseTransfer;
use hexcore_pfcp::SessionReportRequest;
use hexcore_pfcp::ie::ReportType;
use hexcore_sbi::{AmfRequest, N2SmInfo, N2SmInfoType, SmContextRef, UpCnxState};

use super::{Change, Effects, PduSession, Procedure, UserPlane, n1n2, raw_sm_header};
use crate::ids::UsageAck;
use crate::messages::{self, Tunnel};
use crate::telemetry::Event;

impl PduSession {
    /// UpdateSMContext: the user plane's state first, then N2, then N1.
    pub(super) fn update(
        &mut self,
        now: Instant,
        n1: Option<Vec<u8>>,
        n2: Option<N2SmInfo>,
        up_cnx_state: Option<UpCnxState>,
        fx: &mut Effects,
    ) {
        match up_cnx_state {
            Some(UpCnxState::Deactivated) => self.deactivate(fx),
            Some(UpCnxState::Activating) => self.activate(fx),
            Some(UpCnxState::Activated) | None => {}
        }
        if let Some(n2) = n2
            && self.an_answer(&n2, fx).is_break()
        {
            return;
        }
        if let Some(n1) = n1 {
            self.ue_n1(now, &n1, fx);
        }
    }

    /// The gNB's answer; `Break` when it ended the session.
    fn an_answer(&mut self, n2: &N2SmInfo, fx: &mut Effects) -> ControlFlow<()> {
        match n2.kind {
            N2SmInfoType::PduResSetupRsp => self.an_setup_response(&n2.transfer, fx),
            N2SmInfoType::PduResSetupFail => return self.an_setup_failure(fx),
            N2SmInfoType::PduResModFail => fx.event(Event::Procedure {
                procedure: "an_modify",
                outcome: "failed",
            }),
            N2SmInfoType::PduResModRsp => fx.event(Event::Procedure {
                procedure: "an_modify",
                outcome: "ok",
            }),
            // The gNB's release response and notifications need no action here.
            _ => {}
        }
        ControlFlow::Continue(())
    }

    /// AN release (TS 23.502 §4.2.6 step 6): the UPF buffers downlink data and tells
    /// the SMF of the first packet.
    fn deactivate(&mut self, fx: &mut Effects) {
        if matches!(self.procedure, Procedure::Releasing { .. }) {
            return;
        }
        self.up = UserPlane::Deactivated { paged: false };
        self.modify_n4(messages::buffer_downlink(), Change::BufferDownlink, fx);
    }

    /// Service Request (TS 23.502 §4.2.3.2 steps 4–5): a fresh setup transfer with the
    /// same UPF tunnel.
    fn activate(&mut self, fx: &mut Effects) {
        let n2 = match (self.ul(), &self.procedure) {
            (_, Procedure::Releasing { .. } | Procedure::Establishing { .. }) | (None, _) => None,
            (Some(ul), _) => self.setup_transfer(ul),
        };
        if n2.is_some() {
            self.up = UserPlane::Awaiting { first: false };
            self.announced_ul = self.ul();
        }
        fx.event(Event::Procedure {
            procedure: "activation",
            outcome: if n2.is_some() { "ok" } else { "rejected" },
        });
        fx.amf(AmfRequest::Activation {
            context: self.ctx.clone(),
            s_nssai: Some(self.s_nssai),
            n2_sm: n2,
        });
    }

    /// The gNB's tunnel (TS 23.502 §4.3.2.2.1 steps 14–16, §4.2.3.2 steps 12–13).
    fn an_setup_response(&mut self, transfer: &[u8], fx: &mut Effects) {
        let dl = match PduSessionResourceSetupResponseTransfer::decode(transfer) {
            Ok(t) => match Tunnel::from_ngap(&t.dl_tunnel) {
                Some(dl) => dl,
                None => {
                    return fx.event(Event::Warning(
                        "setup response transfer with an odd transport address".into(),
                    ));
                }
            },
            Err(e) => return fx.event(Event::Warning(format!("setup response transfer does not decode: {e}"))),
        };
        if matches!(self.procedure, Procedure::Releasing { .. }) {
            return;
        }
        self.up = UserPlane::Active { dl };
        fx.event(Event::Procedure {
            procedure: "an_setup",
            outcome: "ok",
        });
        let Some(ul) = self.ul() else { return };
        self.modify_n4(messages::forward_downlink(dl), Change::ForwardDownlink, fx);
        if self.announced_ul != Some(ul) {
            // The UPF was restored while the gNB set up the old tunnel.
            self.push_new_ul_tunnel(ul, dl, fx);
        }
    }

    /// The gNB could not set the session up.
    fn an_setup_failure(&mut self, fx: &mut Effects) -> ControlFlow<()> {
        fx.event(Event::Procedure {
            procedure: "an_setup",
            outcome: "failed",
        });
        match self.up {
            // TS 23.502 §4.3.2.2.1 step 15: the AN refused the new session: release it.
            UserPlane::Awaiting { first: true } => {
                self.close("an_failure", true, fx);
                ControlFlow::Break(())
            }
            // A re-activation failed: the session stays, its user plane deactivated.
            _ => {
                self.up = UserPlane::Deactivated { paged: false };
                ControlFlow::Continue(())
            }
        }
    }

    /// A Session Report Request (TS 29.244 §7.5.8): downlink data and usage.
    pub(super) fn report(&mut self, report: SessionReportRequest, ack: Option<UsageAck>, fx: &mut Effects) {
        if report.report_type.contains(ReportType::DLDR) {
            self.downlink_data(fx);
        }
        self.usage(self.seid, &report.usage_reports, ack, fx);
    }

    /// Downlink data for an idle UE (TS 23.502 §4.2.3.3 steps 2–3): the AMF gets the
    /// setup transfer (N2 only) and pages; once per buffering period.
    fn downlink_data(&mut self, fx: &mut Effects) {
        if self.up != (UserPlane::Deactivated { paged: false }) || matches!(self.procedure, Procedure::Releasing { .. })
        {
            return;
        }
        let Some(ul) = self.ul() else { return };
        let n2 = self.setup_transfer(ul);
        self.up = UserPlane::Deactivated { paged: true };
        self.announced_ul = Some(ul);
        fx.event(Event::Procedure {
            procedure: "downlink_data_notification",
            outcome: "ok",
        });
        self.n1n2(None, n2, fx);
    }

    // ------------------------------------------------------------ N1 from the UE

    /// A 5GSM message of the UE (TS 24.501 §6.3, §6.4, §7).
    fn ue_n1(&mut self, now: Instant, n1: &[u8], fx: &mut Effects) {
        let Some((raw, _)) = raw_sm_header(n1) else {
            return fx.event(Event::Warning("UpdateSmContext with an N1 that is not 5GSM".into()));
        };
        let status = |cause| Some(messages::sm_status(raw, cause));
        let m = match Message::decode(n1) {
            Ok(m) => m,
            // TS 24.501 §7: the UE hears why.
            Err(e) => return self.n1n2(status(e.sm_cause()), None, fx),
        };
        if raw.pdu_session_id != self.ctx.pdu_session_id {
            return self.n1n2(status(SmCause::InvalidPduSessionIdentity), None, fx);
        }
        match (m, self.procedure.clone()) {
            // TS 24.501 §6.4.3.5 c): a network release wins over the UE's request.
            (Message::PduSessionReleaseRequest(_), Procedure::Releasing { .. }) => {}
            (Message::PduSessionReleaseRequest(r), _) => {
                if r.header.pti == 0 || r.header.pti == 0xFF {
                    let reject = messages::release_reject(r.header, SmCause::InvalidPtiValue);
                    return self.n1n2(Some(reject), None, fx);
                }
                self.start_release(now, r.header.pti, SmCause::RegularDeactivation, fx);
            }
            (Message::PduSessionReleaseComplete(c), Procedure::Releasing { pti, .. }) => {
                if c.header.pti != pti {
                    return self.n1n2(status(SmCause::PtiMismatch), None, fx);
                }
                fx.event(Event::Procedure {
                    procedure: "release",
                    outcome: "ok",
                });
                self.close(if pti == 0 { "network" } else { "ue" }, true, fx);
            }
            (Message::PduSessionModificationRequest(r), Procedure::Idle) => {
                if r.header.pti == 0 || r.header.pti == 0xFF {
                    let reject = messages::modification_reject(r.header, SmCause::InvalidPtiValue);
                    return self.n1n2(Some(reject), None, fx);
                }
                if r.requested_qos_rules.is_some() || r.requested_qos_flow_descriptions.is_some() {
                    // TS 24.501 §6.4.2.4: QoS beyond the default flow is not offered.
                    let reject = messages::modification_reject(r.header, SmCause::FiveGsQosNotAccepted);
                    fx.event(Event::Procedure {
                        procedure: "ue_modification",
                        outcome: "rejected",
                    });
                    return self.n1n2(Some(reject), None, fx);
                }
                // Nothing to change: the command confirms the session AMBR.
                let command = messages::modification_command(r.header, self.ambr);
                self.send_modification_command(now, r.header.pti, command, None, fx);
            }
            (Message::PduSessionModificationRequest(_), Procedure::Releasing { .. }) => {}
            (Message::PduSessionModificationComplete(c), Procedure::Modifying { pti, .. }) => {
                if c.header.pti != pti {
                    return self.n1n2(status(SmCause::PtiMismatch), None, fx);
                }
                self.end_modification("ok", fx);
            }
            (Message::PduSessionModificationCommandReject(c), Procedure::Modifying { .. }) => {
                fx.event(Event::Warning(format!(
                    "UE rejected the modification command: #{}",
                    c.cause.value()
                )));
                self.end_modification("rejected", fx);
            }
            (Message::SmStatus(st), procedure) => {
                tracing::info!(
                    supi = self.ctx.supi,
                    psi = self.ctx.pdu_session_id,
                    cause = st.cause.value(),
                    "5GSM STATUS"
                );
                match (st.cause, procedure) {
                    // TS 24.501 §6.5.3: #43 — the UE has no such session.
                    (SmCause::InvalidPduSessionIdentity, _) => self.close("local", true, fx),
                    // #47 / #81 abort the procedure the status answers.
                    (SmCause::PtiMismatch | SmCause::InvalidPtiValue, Procedure::Modifying { .. }) => {
                        self.end_modification("failed", fx)
                    }
                    (SmCause::PtiMismatch | SmCause::InvalidPtiValue, Procedure::Releasing { .. }) => {
                        self.close("network", true, fx)
                    }
                    _ => {}
                }
            }
            // TS 24.501 §7.4: a message not compatible with the protocol state.
            _ => self.n1n2(status(SmCause::MessageTypeNotCompatibleWithTheProtocolState), None, fx),
        }
    }
}

/// An UpdateSMContext for a session this SMF does not have: the UE hears #43 where it
/// asked something, and the AMF forgets the session.
pub(crate) fn update_unknown(ctx: &SmContextRef, n1: Option<&[u8]>, up: Option<UpCnxState>, fx: &mut Effects) {
    if let Some(n1) = n1
        && let Some((header, _)) = raw_sm_header(n1)
    {
        let cause = SmCause::InvalidPduSessionIdentity;
        let answer = match Message::decode(n1) {
            Ok(Message::PduSessionReleaseRequest(_)) => Some(messages::release_reject(header, cause)),
            Ok(Message::PduSessionModificationRequest(_)) => Some(messages::modification_reject(header, cause)),
            Ok(Message::SmStatus(_)) => None,
            _ => Some(messages::sm_status(header, cause)),
        };
        if answer.is_some() {
            fx.amf(n1n2(ctx, None, answer, None));
        }
    }
    if up == Some(UpCnxState::Activating) {
        fx.amf(AmfRequest::Activation {
            context: ctx.clone(),
            s_nssai: None,
            n2_sm: None,
        });
    }
    fx.amf(AmfRequest::SmContextReleased { context: ctx.clone() });
}
