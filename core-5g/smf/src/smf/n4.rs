//! N4 as the SMF sees it (TS 29.244): every PFCP event of the transaction layer is
//! routed here — node requests of the UPFs, answers to our requests by the purpose of
//! their transaction, Session Reports by CP SEID — and the usage a report carries is
//! acknowledged only once stored.

use std::net::SocketAddr;
use std::time::Instant;

use hexcore_pfcp::{
    AssociationReleaseResponse, AssociationSetupResponse, Cause, Event as PfcpEvent, Header, HeartbeatResponse,
    Message, NodeReportResponse, Pdu, SessionDeletionRequest, SessionEstablishmentResponse, SessionReportRequest,
    SessionReportResponse,
};
use hexcore_sbi::SmContextRef;

use super::{Output, PendingReport, Purpose, Retired, Smf, orphan_identity};
use crate::ids::{Seid, UpfId, UsageAck};
use crate::session::{Effects, N4Request, SessionEvent, report_modification_failure};
use crate::telemetry::Event;
use crate::usage::{UsageIdentity, UsageRecord};

impl Smf {
    pub(super) fn pfcp_event(&mut self, now: Instant, event: PfcpEvent<SocketAddr>) {
        match event {
            PfcpEvent::Request { peer, pdu } => self.pfcp_request(now, peer, pdu),
            PfcpEvent::Response { request, response, .. } => {
                let Some(purpose) = self.requests.remove(&request.header.sequence_number) else {
                    return;
                };
                match response {
                    Ok(pdu) => self.pfcp_response(now, purpose, pdu),
                    Err(e) => {
                        self.event(Event::Warning(format!("undecodable PFCP response: {e}")));
                        self.pfcp_failed(now, purpose, Some(e.cause()));
                    }
                }
            }
            PfcpEvent::TimedOut { request, .. } => {
                if let Some(purpose) = self.requests.remove(&request.header.sequence_number) {
                    self.pfcp_failed(now, purpose, None);
                }
            }
            PfcpEvent::Malformed { peer, error } => {
                self.event(Event::PfcpError { what: "malformed" });
                self.event(Event::Warning(format!("malformed PFCP from {peer}: {error}")));
            }
        }
    }

    fn pfcp_request(&mut self, now: Instant, peer: SocketAddr, pdu: Pdu) {
        let node_id = self.local.node_id.clone();
        let ts = self.local.recovery_time_stamp;
        let upf = self.upf_by_addr(peer);
        match &pdu.message {
            Message::HeartbeatRequest(req) => {
                let rsp = Pdu::response_to(&pdu.header, 0, HeartbeatResponse::new(ts));
                self.pfcp.send_response(now, peer, &rsp);
                if let Some(upf) = upf {
                    self.check_recovery(now, upf, req.recovery_time_stamp);
                }
            }
            Message::AssociationSetupRequest(req) => {
                // TS 29.244 §6.2.6.2: a UP function may set the association up itself.
                let Some(upf) = upf else {
                    let rsp = AssociationSetupResponse::new(node_id, Cause::RequestRejected, ts);
                    self.pfcp
                        .send_response(now, peer, &Pdu::response_to(&pdu.header, 0, rsp));
                    self.event(Event::PfcpError { what: "unknown_peer" });
                    return;
                };
                let rsp = AssociationSetupResponse::new(node_id, Cause::RequestAccepted, ts);
                self.pfcp
                    .send_response(now, peer, &Pdu::response_to(&pdu.header, 0, rsp));
                self.association_established(now, upf, req.recovery_time_stamp, true);
            }
            Message::AssociationReleaseRequest(_) => {
                let rsp = AssociationReleaseResponse::new(node_id, Cause::RequestAccepted);
                self.pfcp
                    .send_response(now, peer, &Pdu::response_to(&pdu.header, 0, rsp));
                if let Some(upf) = upf {
                    self.association_lost(now, upf, false);
                }
            }
            Message::NodeReportRequest(_) => {
                let rsp = NodeReportResponse::new(node_id, Cause::RequestAccepted);
                self.pfcp
                    .send_response(now, peer, &Pdu::response_to(&pdu.header, 0, rsp));
            }
            Message::SessionReportRequest(req) => {
                let req = req.clone();
                self.session_report(now, peer, &pdu.header, req);
            }
            _ => {
                // A request a CP function does not serve (PFD management, session set
                // requests, a Session Establishment…): not answered, the peer gives
                // up after its retransmissions. Counted.
                tracing::debug!(%peer, t = ?pdu.message.message_type(), "PFCP request not served");
                self.event(Event::PfcpError {
                    what: "unexpected_request",
                });
            }
        }
    }

    fn pfcp_response(&mut self, now: Instant, purpose: Purpose, pdu: Pdu) {
        match (purpose, pdu.message) {
            (Purpose::AssociationSetup(upf), Message::AssociationSetupResponse(rsp)) => {
                if rsp.cause.is_accepted() {
                    self.association_established(now, upf, rsp.recovery_time_stamp, false);
                } else {
                    self.association_refused(now, upf, Some(rsp.cause));
                }
            }
            (Purpose::Heartbeat(upf), Message::HeartbeatResponse(rsp)) => {
                self.heartbeat_answered(now, upf, rsp.recovery_time_stamp)
            }
            (
                Purpose::Session {
                    ctx,
                    seid,
                    upf,
                    request: N4Request::Establish,
                },
                Message::SessionEstablishmentResponse(rsp),
            ) => self.n4_established(now, &ctx, seid, upf, rsp),
            (
                Purpose::Session {
                    ctx,
                    seid,
                    request: N4Request::Modify(change),
                    ..
                },
                Message::SessionModificationResponse(rsp),
            ) => {
                if self.sessions.contains_key(&ctx) {
                    let event = SessionEvent::N4Modified {
                        seid,
                        change,
                        response: rsp,
                    };
                    self.dispatch(now, &ctx, event);
                } else if !rsp.cause.is_accepted() {
                    self.modification_failed_without_session(now, &ctx, change, Some(rsp.cause));
                }
            }
            (Purpose::Delete { identity }, Message::SessionDeletionResponse(rsp)) => {
                self.retired.remove(&Seid(identity.seid));
                let records: Vec<UsageRecord> = rsp.usage_reports.iter().map(|r| identity.record(r)).collect();
                if !records.is_empty() {
                    self.emit(Output::Usage { records, ack: None });
                }
                if !rsp.cause.is_accepted() {
                    self.event(Event::PfcpError {
                        what: "deletion_rejected",
                    });
                }
            }
            (purpose, other) => {
                self.event(Event::Warning(format!(
                    "PFCP {:?} does not answer {purpose:?}",
                    other.message_type()
                )));
                self.pfcp_failed(now, purpose, None);
            }
        }
    }

    /// A request of ours got no (usable) answer.
    fn pfcp_failed(&mut self, now: Instant, purpose: Purpose, cause: Option<Cause>) {
        match purpose {
            Purpose::AssociationSetup(upf) => self.association_refused(now, upf, None),
            Purpose::Heartbeat(upf) => self.heartbeat_unanswered(now, upf),
            Purpose::Session { ctx, seid, request, .. } => {
                if self.sessions.contains_key(&ctx) {
                    self.dispatch(now, &ctx, SessionEvent::N4Failed { seid, request, cause });
                } else if let N4Request::Modify(change) = request {
                    self.modification_failed_without_session(now, &ctx, change, cause);
                }
            }
            Purpose::Delete { identity } => {
                self.retired.remove(&Seid(identity.seid));
                self.event(Event::PfcpError {
                    what: "deletion_failed",
                });
            }
        }
    }

    /// A Session Establishment Response: to the session that awaits it; an N4 session
    /// nobody wants any more (released meanwhile) is deleted at the UPF so that nothing
    /// leaks there.
    fn n4_established(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        seid: Seid,
        upf: UpfId,
        rsp: SessionEstablishmentResponse,
    ) {
        let identity = match self.sessions.get(ctx) {
            Some(s) if s.awaits_establishment(seid) => {
                let event = SessionEvent::N4Established { seid, response: rsp };
                return self.dispatch(now, ctx, event);
            }
            Some(s) => s.identity(seid),
            None => {
                let addr = self.upfs.get(upf.0).map(|u| u.config.address);
                orphan_identity(ctx, seid, addr)
            }
        };
        if rsp.cause.is_accepted()
            && let Some(f) = rsp.up_fseid
        {
            self.delete_n4(now, upf, identity, f.seid);
        }
    }

    fn modification_failed_without_session(
        &mut self,
        now: Instant,
        ctx: &SmContextRef,
        change: crate::session::Change,
        cause: Option<Cause>,
    ) {
        let mut fx = Effects::default();
        report_modification_failure(ctx, change, cause, &mut fx);
        self.apply(now, ctx, fx);
    }

    /// Delete an N4 session; reports on its SEID still count until the answer.
    pub(super) fn delete_n4(&mut self, now: Instant, upf: UpfId, identity: UsageIdentity, up_seid: u64) {
        self.retired.insert(
            Seid(identity.seid),
            Retired {
                identity: identity.clone(),
                up_seid,
            },
        );
        self.send_pfcp(
            now,
            upf,
            Pdu::session(up_seid, SessionDeletionRequest::new()),
            Purpose::Delete { identity },
        );
    }

    // ------------------------------------------------------------ reports

    /// Session Report Request (TS 29.244 §7.5.8): to the session of its SEID, or
    /// recorded under a deleted session's identity. Usage is acknowledged only once
    /// stored ([`crate::Input::UsageStored`]).
    fn session_report(&mut self, now: Instant, peer: SocketAddr, header: &Header, req: SessionReportRequest) {
        let seid = Seid(header.seid.unwrap_or(0));
        let session = self
            .by_seid
            .get(&seid)
            .and_then(|ctx| self.sessions.get(ctx))
            .map(|s| (s.context().clone(), s.up_seid().unwrap_or(0)));
        if let Some((ctx, up_seid)) = session {
            let ack = (!req.usage_reports.is_empty()).then(|| self.await_storage(peer, header, up_seid));
            self.dispatch(now, &ctx, SessionEvent::Report { report: req, ack });
            if ack.is_none() {
                self.answer_report(now, peer, header, up_seid, Cause::RequestAccepted);
            }
            return;
        }
        let Some(r) = self.retired.get(&seid) else {
            // TS 29.244 §7.5.9 / §7.2.2.4.2: no such session → Cause 65, SEID 0.
            self.event(Event::PfcpError { what: "unknown_seid" });
            return self.answer_report(now, peer, header, 0, Cause::SessionContextNotFound);
        };
        let (up_seid, records): (u64, Vec<UsageRecord>) = (
            r.up_seid,
            req.usage_reports.iter().map(|u| r.identity.record(u)).collect(),
        );
        if records.is_empty() {
            return self.answer_report(now, peer, header, up_seid, Cause::RequestAccepted);
        }
        let ack = self.await_storage(peer, header, up_seid);
        self.emit(Output::Usage {
            records,
            ack: Some(ack),
        });
    }

    /// Hold the answer to a report until its usage is stored.
    fn await_storage(&mut self, peer: SocketAddr, header: &Header, up_seid: u64) -> UsageAck {
        let ack = UsageAck(self.next_ack);
        self.next_ack += 1;
        self.reports.insert(
            ack,
            PendingReport {
                peer,
                request: *header,
                up_seid,
            },
        );
        ack
    }

    fn answer_report(&mut self, now: Instant, peer: SocketAddr, header: &Header, up_seid: u64, cause: Cause) {
        let rsp = Pdu::response_to(header, up_seid, SessionReportResponse::new(cause));
        self.pfcp.send_response(now, peer, &rsp);
    }

    pub(super) fn usage_stored(&mut self, now: Instant, ack: UsageAck, stored: bool) {
        let Some(p) = self.reports.remove(&ack) else { return };
        let cause = if stored {
            Cause::RequestAccepted
        } else {
            // Not acknowledged: the UPF keeps what it measured (TS 29.244 §7.5.9).
            self.event(Event::PfcpError {
                what: "usage_not_stored",
            });
            Cause::SystemFailure
        };
        self.answer_report(now, p.peer, &p.request, p.up_seid, cause);
    }
}
