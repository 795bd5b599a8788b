//! PFCP associations with CP functions (TS 29.244 §6.2.6, §6.2.7): setup, update and
//! release, the heartbeats that watch each peer (§6.2.2), and what a peer's restart
//! means for its sessions (TS 23.527 §4.3).

use std::net::SocketAddr;
use std::time::Instant;

use hexcore_pfcp::ie::{NodeId, Timestamp, UpFunctionFeatures, UsageReportTrigger};
use hexcore_pfcp::{
    AssociationReleaseRequest, AssociationReleaseResponse, AssociationSetupRequest, AssociationSetupResponse,
    AssociationUpdateRequest, AssociationUpdateResponse, Cause, HeartbeatRequest, Message, MessageType, Pdu,
};

use super::{Association, Event, Timer, UpfControl};
use crate::ids::Seid;

impl UpfControl {
    pub(super) fn on_association_setup(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        pdu: &Pdu,
        req: &AssociationSetupRequest,
    ) {
        let node = req.node_id.clone();
        if let Some(a) = self.associations.get(&node)
            && a.recovery != req.recovery_time_stamp
        {
            // §6.2.6.2.2: a new association from a CP function that restarted: its
            // old sessions are gone on its side.
            self.cp_restarted(now, &node);
        }
        self.associations.insert(
            node.clone(),
            Association {
                peer,
                recovery: req.recovery_time_stamp,
                heartbeat_outstanding: false,
                reachable: true,
            },
        );
        self.timers
            .set(Timer::Heartbeat(node.clone()), now + self.config.heartbeat_interval);
        let rsp = AssociationSetupResponse::new(self.config.node_id.clone(), Cause::RequestAccepted, self.recovery)
            .up_function_features(self.up_function_features());
        self.respond(now, peer, pdu, Seid(0), rsp);
        self.events.push_back(Event::AssociationSetUp { node, peer });
    }

    pub(super) fn on_association_update(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        pdu: &Pdu,
        req: &AssociationUpdateRequest,
    ) {
        let cause = if self.associations.contains_key(&req.node_id) {
            Cause::RequestAccepted
        } else {
            self.reject_event(
                MessageType::AssociationUpdateRequest,
                Cause::NoEstablishedPfcpAssociation,
                "unknown node",
            );
            Cause::NoEstablishedPfcpAssociation
        };
        let mut rsp = AssociationUpdateResponse::new(self.config.node_id.clone(), cause);
        if cause.is_accepted() {
            rsp = rsp.up_function_features(self.up_function_features());
        }
        self.respond(now, peer, pdu, Seid(0), rsp);
    }

    pub(super) fn on_association_release(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        pdu: &Pdu,
        req: &AssociationReleaseRequest,
    ) {
        let node = req.node_id.clone();
        let cause = if self.associations.remove(&node).is_some() {
            self.timers.stop(&Timer::Heartbeat(node.clone()));
            Cause::RequestAccepted
        } else {
            self.reject_event(
                MessageType::AssociationReleaseRequest,
                Cause::NoEstablishedPfcpAssociation,
                "unknown node",
            );
            Cause::NoEstablishedPfcpAssociation
        };
        self.respond(
            now,
            peer,
            pdu,
            Seid(0),
            AssociationReleaseResponse::new(self.config.node_id.clone(), cause),
        );
        if cause.is_accepted() {
            // §6.2.7.2.2: the UP function deletes the association's sessions; their
            // usage goes out first (TEBUR) so that nothing is dropped silently.
            for seid in self.sessions_of(&node) {
                self.report_all(now, seid, UsageReportTrigger::new(UsageReportTrigger::TEBUR));
                self.delete_session(now, seid);
            }
            self.events.push_back(Event::AssociationReleased { node });
        }
    }

    fn up_function_features(&self) -> UpFunctionFeatures {
        // FTUP: we allocate F-TEIDs; EMPU: we send End Markers; UEIP: we allocate
        // UE addresses when a pool is configured (§8.2.25).
        let mut f = UpFunctionFeatures::FTUP | UpFunctionFeatures::EMPU;
        if self.alloc.has_ue_pool() {
            f |= UpFunctionFeatures::UEIP;
        }
        UpFunctionFeatures::new(f)
    }

    /// The heartbeat timer of `node` expired: restart it, and send a Heartbeat
    /// Request unless the last one is still unanswered (§6.2.2; its retransmissions
    /// are the transaction layer's).
    pub(super) fn send_heartbeat(&mut self, now: Instant, node: NodeId) {
        let Some(a) = self.associations.get_mut(&node) else {
            return;
        };
        self.timers
            .set(Timer::Heartbeat(node), now + self.config.heartbeat_interval);
        if a.heartbeat_outstanding {
            return;
        }
        a.heartbeat_outstanding = true;
        let peer = a.peer;
        self.tx
            .send_request(now, peer, Pdu::node(HeartbeatRequest::new(self.recovery)));
    }

    pub(super) fn on_heartbeat_response(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        response: Result<Pdu, hexcore_pfcp::Error>,
    ) {
        if let Some(a) = self.associations.values_mut().find(|a| a.peer == peer) {
            a.heartbeat_outstanding = false;
        }
        if let Ok(Pdu {
            message: Message::HeartbeatResponse(r),
            ..
        }) = response
        {
            self.check_peer_recovery(now, peer, r.recovery_time_stamp);
        }
    }

    pub(super) fn on_heartbeat_timed_out(&mut self, peer: SocketAddr) {
        let node = self
            .associations
            .iter_mut()
            .find(|(_, a)| a.peer == peer)
            .map(|(n, a)| {
                a.heartbeat_outstanding = false;
                a.reachable = false;
                n.clone()
            });
        if let Some(node) = node {
            self.events.push_back(Event::CpUnreachable { node });
        }
    }

    /// A Recovery Time Stamp from `peer` (in its Heartbeat Request or Response): a
    /// new one means it restarted.
    pub(super) fn check_peer_recovery(&mut self, now: Instant, peer: SocketAddr, rts: Timestamp) {
        let Some(node) = self
            .associations
            .iter()
            .find(|(_, a)| a.peer == peer)
            .map(|(n, _)| n.clone())
        else {
            return;
        };
        let changed = self.associations.get_mut(&node).is_some_and(|a| {
            a.reachable = true;
            let changed = a.recovery != rts;
            a.recovery = rts;
            changed
        });
        if changed {
            self.cp_restarted(now, &node);
        }
    }

    /// TS 23.527 §4.3 / TS 29.244 §6.2.6: the CP function lost its sessions: send
    /// each session's final usage (the SMF may still take it), then delete it here.
    fn cp_restarted(&mut self, now: Instant, node: &NodeId) {
        let seids = self.sessions_of(node);
        for seid in &seids {
            self.report_all(now, *seid, UsageReportTrigger::new(UsageReportTrigger::TEBUR));
            self.delete_session(now, *seid);
        }
        self.events.push_back(Event::CpRestarted {
            node: node.clone(),
            sessions: seids.len(),
        });
    }

    fn sessions_of(&self, node: &NodeId) -> Vec<Seid> {
        self.sessions
            .iter()
            .filter(|(_, s)| &s.cp_node == node)
            .map(|(k, _)| *k)
            .collect()
    }
}
