//! The session procedures (TS 29.244 §6.3, §7.5.2–§7.5.7): establishment,
//! modification and deletion of a session's rules, the tables they compile into for
//! the workers, and the session's downlink buffer (BUFF, §5.2.3).

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use hexcore_pfcp::ie::{CreatedPdr, Fseid, Fteid, OffendingIe, UeIpAddress, UsageReportTrigger};
use hexcore_pfcp::{
    Cause, MessageType, Pdu, SessionDeletionResponse, SessionEstablishmentRequest, SessionEstablishmentResponse,
    SessionModificationRequest, SessionModificationResponse,
};

use super::rules::{Apply, Rules};
use super::{Event, FailedRule, Reject, Session, Transmit, UpfControl};
use crate::datapath::{self, DlBuffer, DropReason};
use crate::ids::{PdrId, Seid, UrrId};

impl UpfControl {
    pub(super) fn on_establishment(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        pdu: &Pdu,
        req: &SessionEstablishmentRequest,
    ) {
        let cp_seid = Seid(req.cp_fseid.seid);
        let answer_error = |this: &mut Self, r: Reject| {
            this.reject_event(MessageType::SessionEstablishmentRequest, r.cause, r.reason.clone());
            let mut rsp = SessionEstablishmentResponse::new(this.config.node_id.clone(), r.cause);
            rsp.offending_ie = r.offending_ie.map(OffendingIe);
            rsp.failed_rule_id = r.failed_rule.map(FailedRule::to_ie_value);
            this.respond(now, peer, pdu, cp_seid, rsp);
        };
        // §6.2.6.1: session requests only from an associated CP function.
        if !self.associations.contains_key(&req.node_id) {
            return answer_error(
                self,
                Reject::cause(
                    Cause::NoEstablishedPfcpAssociation,
                    None,
                    format!("no association with {}", req.node_id),
                ),
            );
        }
        if self.shutting_down {
            return answer_error(self, Reject::cause(Cause::RequestRejected, None, "UPF shutting down"));
        }
        if self.by_cp.contains_key(&(req.node_id.clone(), cp_seid)) {
            return answer_error(
                self,
                Reject::cause(
                    Cause::RequestRejected,
                    Some(hexcore_pfcp::ie::IeType::Fseid),
                    format!("CP SEID {cp_seid} already has a session"),
                ),
            );
        }
        let seid = self.allocate_seid();
        let mut rules = Rules::default();
        let mut choose = HashMap::new();
        let mut ue_v4 = None;
        let result = {
            let mut a = Apply {
                seid,
                now,
                alloc: &mut self.alloc,
                choose: &mut choose,
                ue_v4: &mut ue_v4,
                removed_urrs: Vec::new(),
                updated_urrs: Vec::new(),
            };
            (|| {
                for c in &req.create_fars {
                    rules.create_far(c)?;
                }
                for c in &req.create_urrs {
                    rules.create_urr(c, &mut a)?;
                }
                for c in &req.create_qers {
                    rules.create_qer(c)?;
                }
                if let Some(b) = &req.create_bar {
                    rules.bars.insert(b.bar_id);
                }
                for c in &req.create_pdrs {
                    rules.create_pdr(c, &mut a)?;
                }
                rules.check()
            })()
        };
        if let Err(r) = result {
            self.alloc.release(seid, &BTreeSet::new(), &BTreeSet::new());
            return answer_error(self, r);
        }
        let created: Vec<CreatedPdr> = created_pdrs(&rules, self.config.n3_address);
        let session = Session {
            cp_fseid: req.cp_fseid,
            cp_node: req.node_id.clone(),
            cp_peer: peer,
            rules,
            buffer: Arc::new(DlBuffer::new(self.config.buffer_packets, self.config.buffer_octets)),
            choose,
            ue_v4,
        };
        self.sessions.insert(seid, session);
        self.by_cp.insert((req.node_id.clone(), cp_seid), seid);
        self.arm_urr_timers(seid, &[]);
        self.republish_session(seid);
        let rsp = SessionEstablishmentResponse::new(self.config.node_id.clone(), Cause::RequestAccepted)
            .up_fseid(Fseid::v4(seid.0, self.config.n4_address))
            .created_pdrs(created);
        self.respond(now, peer, pdu, cp_seid, rsp);
        self.events.push_back(Event::SessionEstablished { seid, cp_seid });
        self.events.push_back(Event::Sessions(self.sessions.len()));
    }

    pub(super) fn on_modification(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        pdu: &Pdu,
        seid: Seid,
        req: &SessionModificationRequest,
    ) {
        let Some(session) = self.sessions.get(&seid) else {
            // §7.2.2.4.2: SEID 0 in the header of the answer when no session matched.
            self.reject_event(
                MessageType::SessionModificationRequest,
                Cause::SessionContextNotFound,
                format!("no session {seid}"),
            );
            return self.respond(
                now,
                peer,
                pdu,
                Seid(0),
                SessionModificationResponse::new(Cause::SessionContextNotFound),
            );
        };
        let cp_seid = session.cp_seid();
        let teids_before = session.rules.teids();
        let ues_before = session.rules.ue_addresses();
        let mut rules = session.rules.clone();
        let mut choose = session.choose.clone();
        let mut ue_v4 = session.ue_v4;
        let mut far_changes = Vec::new();
        let mut end_markers = Vec::new();
        let mut removed_urrs = Vec::new();
        let mut updated_urrs = Vec::new();
        let result = {
            let mut a = Apply {
                seid,
                now,
                alloc: &mut self.alloc,
                choose: &mut choose,
                ue_v4: &mut ue_v4,
                removed_urrs: Vec::new(),
                updated_urrs: Vec::new(),
            };
            let r = (|| {
                for r in &req.remove_pdrs {
                    rules.remove_pdr(r.pdr_id)?;
                }
                for r in &req.remove_fars {
                    rules.remove_far(r.far_id)?;
                }
                for r in &req.remove_urrs {
                    rules.remove_urr(r.urr_id, &mut a)?;
                }
                for r in &req.remove_qers {
                    rules.remove_qer(r.qer_id)?;
                }
                if let Some(b) = &req.remove_bar {
                    rules.bars.remove(&b.bar_id);
                }
                for c in &req.create_fars {
                    rules.create_far(c)?;
                }
                for c in &req.create_urrs {
                    rules.create_urr(c, &mut a)?;
                }
                for c in &req.create_qers {
                    rules.create_qer(c)?;
                }
                if let Some(b) = &req.create_bar {
                    rules.bars.insert(b.bar_id);
                }
                for c in &req.create_pdrs {
                    rules.create_pdr(c, &mut a)?;
                }
                for u in &req.update_fars {
                    let before = rules.update_far(u)?;
                    // SNDEM (§8.2.58, PFCPSMReq-Flags bit 2): End Marker on the old path.
                    let sndem = u
                        .update_forwarding_parameters
                        .as_ref()
                        .and_then(|p| p.pfcpsm_req_flags.as_ref())
                        .is_some_and(|f| f.first().is_some_and(|b| b & 0x02 != 0));
                    if let Some(after) = rules.fars.get(&u.far_id) {
                        if sndem
                            && let Some(old) = before.tunnel
                            && before.tunnel != after.tunnel
                        {
                            end_markers.push(old);
                        }
                        far_changes.push((before, after.clone()));
                    }
                }
                for u in &req.update_urrs {
                    rules.update_urr(u, &mut a)?;
                }
                for u in &req.update_qers {
                    rules.update_qer(u)?;
                }
                for u in &req.update_pdrs {
                    rules.update_pdr(u, &mut a)?;
                }
                rules.check()
            })();
            removed_urrs.append(&mut a.removed_urrs);
            updated_urrs.append(&mut a.updated_urrs);
            r
        };
        if let Err(r) = result {
            // Nothing changes: give back what this request allocated.
            self.alloc.release(seid, &teids_before, &ues_before);
            self.reject_event(MessageType::SessionModificationRequest, r.cause, r.reason.clone());
            let mut rsp = SessionModificationResponse::new(r.cause);
            rsp.offending_ie = r.offending_ie.map(OffendingIe);
            rsp.failed_rule_id = r.failed_rule.map(FailedRule::to_ie_value);
            return self.respond(now, peer, pdu, cp_seid, rsp);
        }
        // Commit.
        let drobu = req
            .pfcpsm_req_flags
            .as_ref()
            .is_some_and(|f| f.first().is_some_and(|b| b & 0x01 != 0));
        let qaurr = req
            .pfcpsm_req_flags
            .as_ref()
            .is_some_and(|f| f.first().is_some_and(|b| b & 0x04 != 0));
        let created = {
            let Some(session) = self.sessions.get_mut(&seid) else {
                return;
            };
            let before_created: BTreeSet<PdrId> = session
                .rules
                .pdrs
                .values()
                .filter(|p| p.teid_chosen || p.ue_chosen)
                .map(|p| p.id)
                .collect();
            session.rules = rules;
            for (id, quota_changed) in updated_urrs {
                if let Some(u) = session.rules.urrs.get_mut(&id) {
                    u.arm(now, quota_changed);
                }
            }
            session.choose = choose;
            session.ue_v4 = ue_v4;
            if let Some(f) = req.cp_fseid {
                self.by_cp.remove(&(session.cp_node.clone(), session.cp_seid()));
                session.cp_fseid = f;
                self.by_cp.insert((session.cp_node.clone(), Seid(f.seid)), seid);
            }
            let keep_teids = session.rules.teids();
            self.alloc.release(seid, &keep_teids, &session.rules.ue_addresses());
            created_pdrs(&session.rules, self.config.n3_address)
                .into_iter()
                .filter(|c| !before_created.contains(&c.pdr_id))
                .collect::<Vec<_>>()
        };
        self.republish_session(seid);
        // Usage reports in the response: removed URRs (final, TERMR) and Query URR /
        // QAURR (IMMER), §7.5.5.2.
        let mut reports = Vec::new();
        let termr = UsageReportTrigger::new(UsageReportTrigger::TERMR);
        let removed: Vec<UrrId> = removed_urrs.iter().map(|u| u.id).collect();
        for mut u in removed_urrs {
            let (ur, usage) = u.take_report(now, |i| self.wall(i), termr);
            self.events.push_back(Event::UsageReported {
                seid,
                urr_id: u.id,
                trigger: termr,
                usage,
            });
            reports.push(ur);
        }
        let queried: Vec<UrrId> = if qaurr {
            self.sessions
                .get(&seid)
                .map(|s| s.rules.urrs.keys().copied().collect())
                .unwrap_or_default()
        } else {
            req.query_urrs.iter().map(|q| q.urr_id).collect()
        };
        let immer = UsageReportTrigger::new(UsageReportTrigger::IMMER);
        for id in queried {
            if let Some((ur, usage)) = self.take_report(now, seid, id, immer) {
                self.events.push_back(Event::UsageReported {
                    seid,
                    urr_id: id,
                    trigger: immer,
                    usage,
                });
                reports.push(ur);
            }
        }
        // Created, updated, reported or removed: each URR's timer follows its rules.
        self.arm_urr_timers(seid, &removed);
        let mut rsp = SessionModificationResponse::new(Cause::RequestAccepted).created_pdrs(created);
        for ur in reports {
            rsp.usage_reports.push(ur);
        }
        self.respond(now, peer, pdu, cp_seid, rsp);
        // Then the data-path consequences, after the answer is queued.
        for tunnel in end_markers {
            let [t0, t1, t2, t3] = tunnel.teid.to_be_bytes();
            // TS 29.281 §7.3.2: End Marker, no IE, towards the old peer.
            self.transmits.push_back(Transmit::Gtpu {
                peer: tunnel.peer,
                bytes: vec![0x30, 0xfe, 0x00, 0x00, t0, t1, t2, t3],
            });
        }
        let mut flush = false;
        let mut discard = drobu;
        let mut new_period = false;
        for (before, after) in far_changes {
            let was_buff = matches!(before.action(), datapath::FarAction::Buffer { .. });
            match after.action() {
                datapath::FarAction::Forward { .. } if was_buff => flush = true,
                datapath::FarAction::Drop if was_buff => discard = true,
                datapath::FarAction::Buffer { .. } if !was_buff => new_period = true,
                _ => {}
            }
        }
        if discard {
            self.discard_buffer(seid);
        } else if flush {
            self.flush_buffer(now, seid);
        }
        if new_period && let Some(s) = self.sessions.get(&seid) {
            s.buffer.reset_period();
        }
    }

    pub(super) fn on_deletion(&mut self, now: Instant, peer: SocketAddr, pdu: &Pdu, seid: Seid) {
        let Some(cp_seid) = self.sessions.get(&seid).map(Session::cp_seid) else {
            self.reject_event(
                MessageType::SessionDeletionRequest,
                Cause::SessionContextNotFound,
                format!("no session {seid}"),
            );
            return self.respond(
                now,
                peer,
                pdu,
                Seid(0),
                SessionDeletionResponse::new(Cause::SessionContextNotFound),
            );
        };
        // §7.5.7.1: the final Usage Reports (TERMR) travel in the response.
        let termr = UsageReportTrigger::new(UsageReportTrigger::TERMR);
        let ids: Vec<UrrId> = self
            .sessions
            .get(&seid)
            .map(|s| s.rules.urrs.keys().copied().collect())
            .unwrap_or_default();
        let mut rsp = SessionDeletionResponse::new(Cause::RequestAccepted);
        for id in ids {
            if let Some((ur, usage)) = self.take_report(now, seid, id, termr) {
                self.events.push_back(Event::UsageReported {
                    seid,
                    urr_id: id,
                    trigger: termr,
                    usage,
                });
                rsp.usage_reports.push(ur);
            }
        }
        self.delete_session(now, seid);
        self.respond(now, peer, pdu, cp_seid, rsp);
    }

    pub(super) fn delete_session(&mut self, _now: Instant, seid: Seid) {
        let Some(s) = self.sessions.remove(&seid) else { return };
        for urr_id in s.rules.urrs.keys() {
            self.timers.stop(&super::Timer::Urr(seid, *urr_id));
        }
        self.by_cp.remove(&(s.cp_node.clone(), s.cp_seid()));
        self.alloc.release(seid, &BTreeSet::new(), &BTreeSet::new());
        let (packets, _) = s.buffer.discard();
        if packets > 0 {
            self.events.push_back(Event::Dropped {
                reason: DropReason::BufferDiscarded,
                packets,
            });
        }
        self.unpublish(seid);
        self.publish();
        self.events.push_back(Event::SessionDeleted { seid });
        self.events.push_back(Event::Sessions(self.sessions.len()));
    }

    fn allocate_seid(&mut self) -> Seid {
        loop {
            let s = Seid(self.next_seid);
            self.next_seid = self.next_seid.wrapping_add(1).max(1);
            if s != Seid(0) && !self.sessions.contains_key(&s) {
                return s;
            }
        }
    }

    // ---- Tables ----

    fn unpublish(&mut self, seid: Seid) {
        let t = &mut self.tables;
        t.uplink.retain(|_, v| v.first().is_none_or(|p| p.seid != seid));
        t.downlink_v4.retain(|_, v| v.first().is_none_or(|p| p.seid != seid));
        t.downlink_v6.retain(|_, v| v.first().is_none_or(|p| p.seid != seid));
    }

    fn republish_session(&mut self, seid: Seid) {
        self.unpublish(seid);
        if let Some(s) = self.sessions.get(&seid) {
            let c = s.rules.compile(seid, &s.buffer);
            for (k, v) in c.uplink {
                self.tables.uplink.insert(k, v.into());
            }
            for (k, v) in c.downlink_v4 {
                self.tables.downlink_v4.insert(k, v.into());
            }
            for (k, v) in c.downlink_v6 {
                self.tables.downlink_v6.insert(k, v.into());
            }
        }
        self.publish();
    }

    fn publish(&mut self) {
        self.published.store(Arc::new(self.tables.clone()));
    }

    // ---- Buffers ----

    fn flush_buffer(&mut self, now: Instant, seid: Seid) {
        let Some(packets) = self.sessions.get(&seid).map(|s| s.buffer.drain()) else {
            return;
        };
        let tables = self.published.load_full();
        let mut notices = Vec::new();
        let mut dropped = 0;
        for p in packets {
            let mut buf = vec![0u8; datapath::HEADROOM + p.len()];
            buf[datapath::HEADROOM..].copy_from_slice(&p);
            match datapath::downlink(&tables, now, &mut buf, datapath::HEADROOM, p.len(), &mut |n| {
                notices.push(n)
            }) {
                datapath::Downlink::ToN3 { frame, peer, .. } => {
                    let bytes = buf.get(frame).map(<[u8]>::to_vec).unwrap_or_default();
                    self.transmits.push_back(Transmit::Gtpu { peer, bytes });
                }
                datapath::Downlink::Buffered => {}
                datapath::Downlink::Dropped(_) => dropped += 1,
            }
        }
        if dropped > 0 {
            self.events.push_back(Event::Dropped {
                reason: DropReason::BufferDiscarded,
                packets: dropped,
            });
        }
        for n in notices {
            self.on_notice(now, n);
        }
    }

    fn discard_buffer(&mut self, seid: Seid) {
        if let Some(s) = self.sessions.get(&seid) {
            let (packets, _) = s.buffer.discard();
            if packets > 0 {
                self.events.push_back(Event::Dropped {
                    reason: DropReason::BufferDiscarded,
                    packets,
                });
            }
        }
    }
}

/// Created PDRs (Table 7.5.3.2-1) for what this UPF allocated: chosen F-TEIDs and
/// UE addresses.
fn created_pdrs(rules: &Rules, n3: Ipv4Addr) -> Vec<CreatedPdr> {
    rules
        .pdrs
        .values()
        .filter(|p| p.teid_chosen || p.ue_chosen)
        .map(|p| {
            let mut c = CreatedPdr::new(p.id);
            if p.teid_chosen
                && let Some(t) = p.local_teid
            {
                c = c.local_fteid(Fteid::v4(t, n3));
            }
            if p.ue_chosen
                && let Some(a) = p.ue_ipv4
            {
                c = c.ue_ip_addresses([UeIpAddress {
                    destination: p.ue_is_destination,
                    ..UeIpAddress::source_v4(a)
                }]);
            }
            c
        })
        .collect()
}
