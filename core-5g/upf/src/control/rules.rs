//! A session's rules as installed over N4 (TS 29.244 §5.2: PDR, FAR, URR, QER,
//! BAR), the Create/Update/Remove operations with their checks, and the
//! compilation into the data path's [`Pdr`]s.
//!
//! A modification is applied to a copy; the copy replaces the session's rules only
//! if every operation and the final consistency check succeed (§6.3.3: a rejected
//! request changes nothing).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use hexcore_pfcp::Cause;
use hexcore_pfcp::ie::{
    ApplyAction, BarId, BitRate, CreateFar, CreatePdr, CreateQer, CreateUrr, DestinationInterface, Fteid, Gate,
    GateStatus, IeType, OuterHeaderCreation, Pdi, UeIpAddress, UpdateFar, UpdatePdr, UpdateQer, UpdateUrr,
};

use super::usage::UrrCtl;
use crate::datapath::{DlBuffer, Far, FarAction, Pdr, QerShared, TokenBucket, Tunnel};
use crate::ids::{FarId, PdrId, QerId, Seid, UrrId};
use crate::sdf::SdfRule;

/// GTP-U's port (TS 29.281 §4.4.2.3).
pub const GTPU_PORT: u16 = 2152;

/// A rule that could not be created or modified (Failed Rule ID, §8.2.80).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedRule {
    /// A PDR.
    Pdr(PdrId),
    /// A FAR.
    Far(FarId),
    /// A QER.
    Qer(QerId),
    /// A URR.
    Urr(UrrId),
    /// A BAR.
    Bar(BarId),
}

impl FailedRule {
    /// The Failed Rule ID IE's value (§8.2.80): Rule ID Type in bits 1–5 of the
    /// first octet (0 PDR, 1 FAR, 2 QER, 3 URR, 4 BAR), then the rule ID.
    pub fn to_ie_value(self) -> Vec<u8> {
        let mut v = Vec::with_capacity(5);
        match self {
            FailedRule::Pdr(id) => {
                v.push(0);
                v.extend_from_slice(&id.0.to_be_bytes());
            }
            FailedRule::Far(id) => {
                v.push(1);
                v.extend_from_slice(&id.0.to_be_bytes());
            }
            FailedRule::Qer(id) => {
                v.push(2);
                v.extend_from_slice(&id.0.to_be_bytes());
            }
            FailedRule::Urr(id) => {
                v.push(3);
                v.extend_from_slice(&id.0.to_be_bytes());
            }
            FailedRule::Bar(id) => {
                v.push(4);
                v.push(id.0);
            }
        }
        v
    }
}

/// Why a session request is refused: what the response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Cause (§8.2.1).
    pub cause: Cause,
    /// Offending IE (§8.2.22).
    pub offending_ie: Option<IeType>,
    /// Failed Rule ID (§8.2.80), with Cause 73.
    pub failed_rule: Option<FailedRule>,
    /// For the log.
    pub reason: String,
}

impl Reject {
    /// Cause 73 naming the rule (§7.5.3.1: "Rule creation/modification Failure",
    /// with the Failed Rule ID).
    pub fn rule(ie: IeType, rule: FailedRule, reason: impl Into<String>) -> Reject {
        Reject {
            cause: Cause::RuleCreationModificationFailure,
            offending_ie: Some(ie),
            failed_rule: Some(rule),
            reason: reason.into(),
        }
    }

    /// Another cause.
    pub fn cause(cause: Cause, offending_ie: Option<IeType>, reason: impl Into<String>) -> Reject {
        Reject {
            cause,
            offending_ie,
            failed_rule: None,
            reason: reason.into(),
        }
    }
}

/// A PDR as installed.
#[derive(Debug, Clone)]
pub(crate) struct PdrRule {
    pub id: PdrId,
    pub precedence: u32,
    pub local_teid: Option<u32>,
    /// The F-TEID was chosen here (goes in a Created PDR).
    pub teid_chosen: bool,
    pub ue_ipv4: Option<Ipv4Addr>,
    pub ue_ipv6: Option<Ipv6Addr>,
    /// The UE address was allocated here (goes in a Created PDR).
    pub ue_chosen: bool,
    /// S/D of the UE IP Address: a destination (downlink PDR).
    pub ue_is_destination: bool,
    pub sdf: Vec<SdfRule>,
    pub qfis: Vec<u8>,
    pub far_id: Option<FarId>,
    pub urr_ids: Vec<UrrId>,
    pub qer_ids: Vec<QerId>,
}

/// A FAR as installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FarRule {
    pub id: FarId,
    pub apply: u16,
    pub destination: Option<DestinationInterface>,
    pub tunnel: Option<Tunnel>,
}

impl FarRule {
    pub fn action(&self) -> FarAction {
        if self.apply & ApplyAction::DROP != 0 {
            FarAction::Drop
        } else if self.apply & ApplyAction::BUFF != 0 {
            FarAction::Buffer {
                notify: self.apply & ApplyAction::NOCP != 0,
            }
        } else if self.apply & ApplyAction::FORW != 0 {
            FarAction::Forward { tunnel: self.tunnel }
        } else {
            FarAction::Drop
        }
    }
}

/// A QER as installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QerRule {
    pub id: QerId,
    pub gate: GateStatus,
    pub mbr: Option<BitRate>,
    pub qfi: Option<u8>,
}

/// All rules of one session.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    pub pdrs: BTreeMap<PdrId, PdrRule>,
    pub fars: BTreeMap<FarId, FarRule>,
    pub urrs: BTreeMap<UrrId, UrrCtl>,
    pub qers: BTreeMap<QerId, QerRule>,
    pub bars: BTreeSet<BarId>,
}

/// TEIDs and UE addresses of the UPF: what is in use, and the next to hand out.
#[derive(Debug)]
pub(crate) struct Allocator {
    next_teid: u32,
    pub teids: HashMap<u32, Seid>,
    ue_pool: Option<(u32, u32)>,
    next_ue: u32,
    pub ues: HashMap<u32, Seid>,
}

impl Allocator {
    pub fn new(first_teid: u32, ue_pool: Option<(Ipv4Addr, u8)>) -> Self {
        // Usable host addresses of the pool, without the network, the first host
        // (the TUN's own address) and the broadcast address.
        let ue_pool = ue_pool.and_then(|(a, len)| {
            let len = u32::from(len.min(32));
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let net = u32::from(a) & mask;
            let last = net | !mask;
            (last > net + 2).then_some((net + 2, last - 1))
        });
        Allocator {
            next_teid: first_teid.max(1),
            teids: HashMap::new(),
            ue_pool,
            next_ue: ue_pool.map_or(0, |p| p.0),
            ues: HashMap::new(),
        }
    }

    fn teid(&mut self, seid: Seid) -> Option<u32> {
        for _ in 0..1_000_000 {
            let t = self.next_teid;
            self.next_teid = self.next_teid.checked_add(1).unwrap_or(1);
            if t != 0
                && let std::collections::hash_map::Entry::Vacant(e) = self.teids.entry(t)
            {
                e.insert(seid);
                return Some(t);
            }
        }
        None
    }

    fn ue_ipv4(&mut self, seid: Seid) -> Option<Ipv4Addr> {
        let (lo, hi) = self.ue_pool?;
        for _ in 0..=(hi - lo) {
            let a = self.next_ue;
            self.next_ue = if a >= hi { lo } else { a + 1 };
            if let std::collections::hash_map::Entry::Vacant(e) = self.ues.entry(a) {
                e.insert(seid);
                return Some(Ipv4Addr::from(a));
            }
        }
        None
    }

    pub fn has_ue_pool(&self) -> bool {
        self.ue_pool.is_some()
    }

    /// Forget what `seid` holds beyond `keep_teids` / `keep_ues`.
    pub fn release(&mut self, seid: Seid, keep_teids: &BTreeSet<u32>, keep_ues: &BTreeSet<u32>) {
        self.teids.retain(|t, s| *s != seid || keep_teids.contains(t));
        self.ues.retain(|a, s| *s != seid || keep_ues.contains(a));
    }
}

/// What applying Create/Update/Remove IEs needs and records.
pub(crate) struct Apply<'a> {
    pub seid: Seid,
    pub now: Instant,
    pub alloc: &'a mut Allocator,
    /// CHOOSE ID → TEID chosen in this session (§5.5.3: PDRs with the same CHOOSE
    /// ID share the F-TEID).
    pub choose: &'a mut HashMap<u8, u32>,
    /// The UE address allocated to this session (CHV4), shared by its PDRs.
    pub ue_v4: &'a mut Option<Ipv4Addr>,
    /// URRs removed, to report (final usage in the response, §7.5.5.2).
    pub removed_urrs: Vec<UrrCtl>,
    /// URRs updated, to arm once the request is committed (their counters are
    /// shared with the data path: a refused request must not touch them), and
    /// whether their quota changed.
    pub updated_urrs: Vec<(UrrId, bool)>,
}

impl Rules {
    pub fn create_pdr(&mut self, c: &CreatePdr, a: &mut Apply) -> Result<(), Reject> {
        let id = c.pdr_id;
        if self.pdrs.contains_key(&id) {
            return Err(Reject::rule(
                IeType::CreatePdr,
                FailedRule::Pdr(id),
                "PDR ID already in use",
            ));
        }
        let mut pdr = PdrRule {
            id,
            precedence: c.precedence.0,
            local_teid: None,
            teid_chosen: false,
            ue_ipv4: None,
            ue_ipv6: None,
            ue_chosen: false,
            ue_is_destination: false,
            sdf: Vec::new(),
            qfis: Vec::new(),
            far_id: c.far_id,
            urr_ids: c.urr_ids.clone(),
            qer_ids: c.qer_ids.clone(),
        };
        apply_pdi(&mut pdr, &c.pdi, IeType::CreatePdr, a)?;
        self.pdrs.insert(id, pdr);
        Ok(())
    }

    pub fn update_pdr(&mut self, u: &UpdatePdr, a: &mut Apply) -> Result<(), Reject> {
        let id = u.pdr_id;
        let Some(pdr) = self.pdrs.get_mut(&id) else {
            return Err(Reject::rule(IeType::UpdatePdr, FailedRule::Pdr(id), "no such PDR"));
        };
        if let Some(p) = u.precedence {
            pdr.precedence = p.0;
        }
        if let Some(f) = u.far_id {
            pdr.far_id = Some(f);
        }
        if !u.urr_ids.is_empty() {
            pdr.urr_ids = u.urr_ids.clone();
        }
        if !u.qer_ids.is_empty() {
            pdr.qer_ids = u.qer_ids.clone();
        }
        if let Some(pdi) = &u.pdi {
            let keep_teid = (pdr.local_teid, pdr.teid_chosen);
            pdr.sdf.clear();
            pdr.qfis.clear();
            pdr.ue_ipv4 = None;
            pdr.ue_ipv6 = None;
            pdr.local_teid = None;
            apply_pdi(pdr, pdi, IeType::UpdatePdr, a)?;
            if pdr.local_teid.is_none() && pdi.local_fteid.is_none() {
                // An Update PDR's PDI without an F-TEID keeps the tunnel.
                (pdr.local_teid, pdr.teid_chosen) = keep_teid;
            }
        }
        Ok(())
    }

    pub fn remove_pdr(&mut self, id: PdrId) -> Result<(), Reject> {
        self.pdrs
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| Reject::rule(IeType::RemovePdr, FailedRule::Pdr(id), "no such PDR"))
    }

    pub fn create_far(&mut self, c: &CreateFar) -> Result<(), Reject> {
        let id = c.far_id;
        if self.fars.contains_key(&id) {
            return Err(Reject::rule(
                IeType::CreateFar,
                FailedRule::Far(id),
                "FAR ID already in use",
            ));
        }
        let mut far = FarRule {
            id,
            apply: c.apply_action.bits,
            destination: None,
            tunnel: None,
        };
        check_apply_action(far.apply, IeType::CreateFar, id)?;
        if let Some(fp) = &c.forwarding_parameters {
            far.destination = Some(fp.destination_interface);
            far.tunnel = tunnel(fp.outer_header_creation.as_ref(), IeType::CreateFar, id)?;
        } else if far.apply & ApplyAction::FORW != 0 {
            // Table 7.5.2.3-1: Forwarding Parameters are there when the action is FORW.
            return Err(Reject::cause(
                Cause::ConditionalIeMissing,
                Some(IeType::ForwardingParameters),
                format!("FAR {id}: FORW without Forwarding Parameters"),
            ));
        }
        if let Some(b) = c.bar_id {
            // Kept only as a reference; the buffering limits are the UPF's own.
            let _ = b;
        }
        self.fars.insert(id, far);
        Ok(())
    }

    /// Returns the FAR before the update.
    pub fn update_far(&mut self, u: &UpdateFar) -> Result<FarRule, Reject> {
        let id = u.far_id;
        let Some(far) = self.fars.get_mut(&id) else {
            return Err(Reject::rule(IeType::UpdateFar, FailedRule::Far(id), "no such FAR"));
        };
        let before = far.clone();
        if let Some(a) = u.apply_action {
            check_apply_action(a.bits, IeType::UpdateFar, id)?;
            far.apply = a.bits;
        }
        if let Some(p) = &u.update_forwarding_parameters {
            if let Some(d) = p.destination_interface {
                far.destination = Some(d);
            }
            if p.outer_header_creation.is_some() {
                far.tunnel = tunnel(p.outer_header_creation.as_ref(), IeType::UpdateFar, id)?;
            }
        }
        Ok(before)
    }

    pub fn remove_far(&mut self, id: FarId) -> Result<(), Reject> {
        self.fars
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| Reject::rule(IeType::RemoveFar, FailedRule::Far(id), "no such FAR"))
    }

    pub fn create_urr(&mut self, c: &CreateUrr, a: &mut Apply) -> Result<(), Reject> {
        let id = c.urr_id;
        if self.urrs.contains_key(&id) {
            return Err(Reject::rule(
                IeType::CreateUrr,
                FailedRule::Urr(id),
                "URR ID already in use",
            ));
        }
        let mut u = UrrCtl::new(a.seid, id, c.measurement_method, c.reporting_triggers, a.now);
        u.period = c.measurement_period;
        u.volume_threshold = c.volume_threshold;
        u.volume_quota = c.volume_quota;
        u.time_threshold = c.time_threshold;
        u.time_quota = c.time_quota;
        if u.triggers.contains(hexcore_pfcp::ie::ReportingTriggers::PERIO) && u.period.is_none_or(|p| p.is_zero()) {
            // §7.5.2.4: the Measurement Period is there when PERIO is set.
            return Err(Reject::cause(
                Cause::ConditionalIeMissing,
                Some(IeType::MeasurementPeriod),
                format!("URR {id}: PERIO without Measurement Period"),
            ));
        }
        // A new URR's counters are not shared yet: arm it now.
        u.arm(a.now, true);
        self.urrs.insert(id, u);
        Ok(())
    }

    pub fn update_urr(&mut self, up: &UpdateUrr, a: &mut Apply) -> Result<(), Reject> {
        let id = up.urr_id;
        let Some(u) = self.urrs.get_mut(&id) else {
            return Err(Reject::rule(IeType::UpdateUrr, FailedRule::Urr(id), "no such URR"));
        };
        if let Some(m) = up.measurement_method {
            u.method = m;
        }
        if let Some(t) = up.reporting_triggers {
            u.triggers = t;
        }
        if let Some(p) = up.measurement_period {
            u.period = Some(p);
            u.next_period = None;
        }
        if up.volume_threshold.is_some() {
            u.volume_threshold = up.volume_threshold;
        }
        if up.time_threshold.is_some() {
            u.time_threshold = up.time_threshold;
        }
        let quota_changed = up.volume_quota.is_some() || up.time_quota.is_some();
        if up.volume_quota.is_some() {
            u.volume_quota = up.volume_quota;
        }
        if up.time_quota.is_some() {
            u.time_quota = up.time_quota;
        }
        a.updated_urrs.push((id, quota_changed));
        Ok(())
    }

    pub fn remove_urr(&mut self, id: UrrId, a: &mut Apply) -> Result<(), Reject> {
        let u = self
            .urrs
            .remove(&id)
            .ok_or_else(|| Reject::rule(IeType::RemoveUrr, FailedRule::Urr(id), "no such URR"))?;
        a.removed_urrs.push(u);
        Ok(())
    }

    pub fn create_qer(&mut self, c: &CreateQer) -> Result<(), Reject> {
        let id = c.qer_id;
        if self.qers.contains_key(&id) {
            return Err(Reject::rule(
                IeType::CreateQer,
                FailedRule::Qer(id),
                "QER ID already in use",
            ));
        }
        self.qers.insert(
            id,
            QerRule {
                id,
                gate: c.gate_status,
                mbr: c.mbr,
                qfi: c.qfi.map(|q| q.0),
            },
        );
        Ok(())
    }

    pub fn update_qer(&mut self, u: &UpdateQer) -> Result<(), Reject> {
        let id = u.qer_id;
        let Some(q) = self.qers.get_mut(&id) else {
            return Err(Reject::rule(IeType::UpdateQer, FailedRule::Qer(id), "no such QER"));
        };
        if let Some(g) = u.gate_status {
            q.gate = g;
        }
        if u.mbr.is_some() {
            q.mbr = u.mbr;
        }
        if let Some(f) = u.qfi {
            q.qfi = Some(f.0);
        }
        Ok(())
    }

    pub fn remove_qer(&mut self, id: QerId) -> Result<(), Reject> {
        self.qers
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| Reject::rule(IeType::RemoveQer, FailedRule::Qer(id), "no such QER"))
    }

    /// Every reference resolves (§5.2.1: a PDR points at a FAR and at existing
    /// URRs and QERs).
    pub fn check(&self) -> Result<(), Reject> {
        for p in self.pdrs.values() {
            let Some(far) = p.far_id else {
                return Err(Reject::cause(
                    Cause::ConditionalIeMissing,
                    Some(IeType::FarId),
                    format!("PDR {} has no FAR ID", p.id),
                ));
            };
            if !self.fars.contains_key(&far) {
                return Err(Reject::rule(
                    IeType::CreatePdr,
                    FailedRule::Pdr(p.id),
                    format!("PDR {} points at FAR {far}, which does not exist", p.id),
                ));
            }
            if let Some(u) = p.urr_ids.iter().find(|u| !self.urrs.contains_key(u)) {
                return Err(Reject::rule(
                    IeType::CreatePdr,
                    FailedRule::Pdr(p.id),
                    format!("PDR {} points at URR {u}, which does not exist", p.id),
                ));
            }
            if let Some(q) = p.qer_ids.iter().find(|q| !self.qers.contains_key(q)) {
                return Err(Reject::rule(
                    IeType::CreatePdr,
                    FailedRule::Pdr(p.id),
                    format!("PDR {} points at QER {q}, which does not exist", p.id),
                ));
            }
        }
        Ok(())
    }

    /// UE IPv4 addresses the session owns (downlink keys).
    pub fn ue_addresses(&self) -> BTreeSet<u32> {
        self.pdrs
            .values()
            .filter(|p| p.ue_is_destination || p.ue_chosen)
            .filter_map(|p| p.ue_ipv4.map(u32::from))
            .collect()
    }

    /// Local TEIDs the PDRs use.
    pub fn teids(&self) -> BTreeSet<u32> {
        self.pdrs.values().filter_map(|p| p.local_teid).collect()
    }

    /// Compile into the data path's PDRs, grouped by lookup key and sorted by
    /// precedence.
    pub fn compile(&self, seid: Seid, buffer: &Arc<DlBuffer>) -> Compiled {
        let qers: BTreeMap<QerId, Arc<QerShared>> = self
            .qers
            .values()
            .map(|q| {
                let mbr = |v: Option<u64>| v.filter(|k| *k > 0).map(TokenBucket::new);
                (
                    q.id,
                    Arc::new(QerShared {
                        id: q.id,
                        gate_uplink_open: q.gate.uplink == Gate::Open,
                        gate_downlink_open: q.gate.downlink == Gate::Open,
                        qfi: q.qfi,
                        mbr_uplink: mbr(q.mbr.map(|m| m.uplink)),
                        mbr_downlink: mbr(q.mbr.map(|m| m.downlink)),
                    }),
                )
            })
            .collect();
        let mut out = Compiled::default();
        let mut pdrs: Vec<&PdrRule> = self.pdrs.values().collect();
        pdrs.sort_by_key(|p| (p.precedence, p.id));
        for p in pdrs {
            let Some(far) = p.far_id.and_then(|f| self.fars.get(&f)) else {
                continue;
            };
            let pdr = Pdr {
                seid,
                id: p.id,
                precedence: p.precedence,
                qfis: p.qfis.clone(),
                sdf: p.sdf.clone(),
                ue_ipv4: p.ue_ipv4.map(u32::from),
                ue_ipv6_prefix: p.ue_ipv6.map(|a| (u128::from(a) >> 64) as u64),
                far: Far {
                    id: far.id,
                    action: far.action(),
                },
                urrs: p
                    .urr_ids
                    .iter()
                    .filter_map(|u| self.urrs.get(u).map(|u| u.shared.clone()))
                    .collect(),
                qers: p.qer_ids.iter().filter_map(|q| qers.get(q).cloned()).collect(),
                buffer: buffer.clone(),
            };
            if let Some(teid) = p.local_teid {
                push(&mut out.uplink, teid, pdr);
            } else {
                if let Some(a) = p.ue_ipv4 {
                    push(&mut out.downlink_v4, u32::from(a), pdr.clone());
                }
                if let Some(a) = p.ue_ipv6 {
                    push(&mut out.downlink_v6, (u128::from(a) >> 64) as u64, pdr);
                }
            }
        }
        out
    }
}

/// A session's compiled PDRs by lookup key, in precedence order.
#[derive(Debug, Default)]
pub(crate) struct Compiled {
    pub uplink: Vec<(u32, Vec<Pdr>)>,
    pub downlink_v4: Vec<(u32, Vec<Pdr>)>,
    pub downlink_v6: Vec<(u64, Vec<Pdr>)>,
}

fn push<K: PartialEq>(v: &mut Vec<(K, Vec<Pdr>)>, k: K, pdr: Pdr) {
    match v.iter_mut().find(|(key, _)| *key == k) {
        Some((_, list)) => list.push(pdr),
        None => v.push((k, vec![pdr])),
    }
}

fn check_apply_action(bits: u16, ie: IeType, id: FarId) -> Result<(), Reject> {
    let exclusive = [ApplyAction::DROP, ApplyAction::FORW, ApplyAction::BUFF]
        .iter()
        .filter(|b| bits & **b != 0)
        .count();
    // §8.2.26: exactly one of DROP, FORW and BUFF (DUPL aside, not supported here).
    if exclusive != 1 {
        return Err(Reject::rule(
            ie,
            FailedRule::Far(id),
            format!("FAR {id}: Apply Action {bits:#06x} is not one of DROP, FORW, BUFF"),
        ));
    }
    Ok(())
}

fn tunnel(ohc: Option<&OuterHeaderCreation>, ie: IeType, id: FarId) -> Result<Option<Tunnel>, Reject> {
    let Some(o) = ohc else { return Ok(None) };
    if o.description & OuterHeaderCreation::GTPU_UDP_IPV4 != 0
        && let (Some(teid), Some(a)) = (o.teid, o.ipv4)
    {
        return Ok(Some(Tunnel {
            teid,
            peer: SocketAddr::new(IpAddr::V4(a), GTPU_PORT),
        }));
    }
    if o.description & OuterHeaderCreation::GTPU_UDP_IPV6 != 0
        && let (Some(teid), Some(a)) = (o.teid, o.ipv6)
    {
        return Ok(Some(Tunnel {
            teid,
            peer: SocketAddr::new(IpAddr::V6(a), GTPU_PORT),
        }));
    }
    Err(Reject::rule(
        ie,
        FailedRule::Far(id),
        format!(
            "FAR {id}: Outer Header Creation {:#06x} is not GTP-U/UDP/IP",
            o.description
        ),
    ))
}

fn apply_pdi(pdr: &mut PdrRule, pdi: &Pdi, ie: IeType, a: &mut Apply) -> Result<(), Reject> {
    let id = pdr.id;
    match pdi.local_fteid {
        Some(Fteid::Choose { ipv4, choose_id, .. }) => {
            if !ipv4 {
                return Err(Reject::cause(
                    Cause::InvalidFteidAllocationOption,
                    Some(IeType::Fteid),
                    format!("PDR {id}: CHOOSE without IPv4 (this UPF's N3 is IPv4)"),
                ));
            }
            let teid = match choose_id.and_then(|c| a.choose.get(&c).copied()) {
                Some(t) => t,
                None => {
                    let t = a
                        .alloc
                        .teid(a.seid)
                        .ok_or_else(|| Reject::cause(Cause::NoResourcesAvailable, None, "no free TEID"))?;
                    if let Some(c) = choose_id {
                        a.choose.insert(c, t);
                    }
                    t
                }
            };
            pdr.local_teid = Some(teid);
            pdr.teid_chosen = true;
        }
        Some(Fteid::Assigned { teid, .. }) => {
            match a.alloc.teids.get(&teid) {
                Some(owner) if *owner != a.seid => {
                    return Err(Reject::rule(
                        ie,
                        FailedRule::Pdr(id),
                        format!("PDR {id}: TEID {teid:#x} belongs to another session"),
                    ));
                }
                _ => {
                    a.alloc.teids.insert(teid, a.seid);
                }
            }
            pdr.local_teid = Some(teid);
            pdr.teid_chosen = false;
        }
        None => {}
    }
    for ue in &pdi.ue_ip_addresses {
        apply_ue_ip(pdr, ue, a)?;
    }
    for f in &pdi.sdf_filters {
        let Some(fd) = &f.flow_description else { continue };
        let text = String::from_utf8_lossy(fd);
        let rule = SdfRule::parse(&text).map_err(|e| Reject::rule(ie, FailedRule::Pdr(id), e.to_string()))?;
        pdr.sdf.push(rule);
    }
    pdr.qfis = pdi.qfis.iter().map(|q| q.0).collect();
    Ok(())
}

fn apply_ue_ip(pdr: &mut PdrRule, ue: &UeIpAddress, a: &mut Apply) -> Result<(), Reject> {
    pdr.ue_is_destination = ue.destination;
    if ue.choose_ipv4 {
        let addr = match *a.ue_v4 {
            Some(x) => x,
            None => {
                if !a.alloc.has_ue_pool() {
                    return Err(Reject::cause(
                        Cause::RequestRejected,
                        Some(IeType::UeIpAddress),
                        "CHV4: no UE address pool configured",
                    ));
                }
                let x = a
                    .alloc
                    .ue_ipv4(a.seid)
                    .ok_or_else(|| Reject::cause(Cause::AllDynamicAddressesAreOccupied, None, "UE pool exhausted"))?;
                *a.ue_v4 = Some(x);
                x
            }
        };
        pdr.ue_ipv4 = Some(addr);
        pdr.ue_chosen = true;
    } else if let Some(x) = ue.ipv4 {
        // A destination address is a downlink lookup key: one session only. A
        // source address (uplink PDR) is only checked against packets.
        let key = u32::from(x);
        match a.alloc.ues.get(&key).filter(|_| ue.destination) {
            Some(owner) if *owner != a.seid => {
                return Err(Reject::rule(
                    IeType::CreatePdr,
                    FailedRule::Pdr(pdr.id),
                    format!("UE address {x} belongs to another session"),
                ));
            }
            _ if ue.destination => {
                a.alloc.ues.insert(key, a.seid);
            }
            _ => {}
        }
        pdr.ue_ipv4 = Some(x);
    }
    if let Some(x) = ue.ipv6 {
        pdr.ue_ipv6 = Some(x);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_rule_ids() {
        assert_eq!(FailedRule::Pdr(PdrId(7)).to_ie_value(), [0, 0, 7]);
        assert_eq!(FailedRule::Far(FarId(2)).to_ie_value(), [1, 0, 0, 0, 2]);
        assert_eq!(FailedRule::Urr(UrrId(3)).to_ie_value(), [3, 0, 0, 0, 3]);
        assert_eq!(FailedRule::Bar(BarId(1)).to_ie_value(), [4, 1]);
    }

    #[test]
    fn allocator_skips_used_and_reserved() {
        let mut a = Allocator::new(1, Some((Ipv4Addr::new(10, 45, 0, 1), 30)));
        // 10.45.0.0/30: .0 network, .1 the TUN, .3 broadcast: only .2 is left.
        assert_eq!(a.ue_ipv4(Seid(1)), Some(Ipv4Addr::new(10, 45, 0, 2)));
        assert_eq!(a.ue_ipv4(Seid(2)), None);
        a.release(Seid(1), &BTreeSet::new(), &BTreeSet::new());
        assert_eq!(a.ue_ipv4(Seid(2)), Some(Ipv4Addr::new(10, 45, 0, 2)));
        assert_eq!(a.teid(Seid(1)), Some(1));
        a.teids.insert(2, Seid(9));
        assert_eq!(a.teid(Seid(1)), Some(3));
    }
}
