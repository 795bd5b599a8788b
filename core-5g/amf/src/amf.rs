//! The top object: [`Amf`] owns the gNB contexts (by association), the UE contexts with
//! an NG connection (by AMF UE NGAP ID) and the 5GMM contexts of registered UEs in
//! CM-IDLE (by 5G-TMSI), and routes every input to the one it is for. Sans-IO:
//! `handle(now, input)` in, `poll_output()` / `poll_timeout()` out; it never reads the
//! clock or a socket.
//!
//! A UE context ([`Ue`]) handles its own procedures and returns [`Effect`]s; the AMF
//! applies them in order, and does what crosses contexts itself: "one SUPI, one
//! context", parking and resuming CM-IDLE contexts, paging, the SUPI index, the one
//! timer table.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use hexcore_ngap::procedures::{
    ErrorIndication, InitialContextSetupFailure, InitialContextSetupResponse, InitialUeMessage, NgReset,
    NgResetAcknowledge, NgSetupRequest, Paging, PduSessionResourceModifyResponse, PduSessionResourceReleaseResponse,
    PduSessionResourceSetupResponse, RanConfigurationUpdate, ResetType, UeContextReleaseComplete,
    UeContextReleaseRequest, UplinkNasTransport,
};
use hexcore_ngap::{
    AmfUeNgapId, Cause, CauseProtocol, CauseRadioNetwork, FiveGSTmsi, NgapPdu, PduKind, ProcedureCode, RanUeNgapId, Tai,
};
use hexcore_sbi::{AmfRequest, N2SmInfoType, ReleaseCause};

pub use crate::config::AmfConfig;
use crate::gnb::GnbContext;
pub use crate::io::{AssocId, Event, Input, Output};
use crate::supi_index::{SupiIndex, SupiPlace};
use crate::timers::NasTimer;
pub use crate::ue::UeSummary;
use crate::ue::{Effect, Effects, Env, MmContext, Tmsi, Ue, UeEvent};

/// Whose timer: a UE context with an NG connection, or a 5GMM context in CM-IDLE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TimerKey {
    /// The NAS timer of a connected UE context.
    Ue(AmfUeNgapId),
    /// The implicit deregistration timer of a registered UE in CM-IDLE.
    Idle(Tmsi),
}

/// The AMF.
#[derive(Debug)]
pub struct Amf {
    config: AmfConfig,
    gnbs: HashMap<AssocId, GnbContext>,
    ues: HashMap<AmfUeNgapId, Ue>,
    /// UE contexts by (association, RAN UE NGAP ID): an Initial UE Message finds the one
    /// it replaces without a scan.
    by_ran: HashMap<(AssocId, RanUeNgapId), AmfUeNgapId>,
    /// Registered UEs in CM-IDLE, by 5G-TMSI.
    idle: HashMap<Tmsi, Box<MmContext>>,
    /// Where each SUPI's contexts are (a checked hint).
    by_supi: SupiIndex,
    timers: hexcore_timer::TimerTable<TimerKey, NasTimer>,
    outputs: VecDeque<Output>,
    next_amf_ue_ngap_id: u64,
    next_tmsi: u32,
    now: Option<Instant>,
}

impl Amf {
    /// An AMF serving `config`. `seed` picks the first 5G-TMSI (tests pass a
    /// constant; the glue passes a random value so that TMSIs differ per start).
    pub fn new(config: AmfConfig, seed: u32) -> Self {
        Self {
            config,
            gnbs: HashMap::new(),
            ues: HashMap::new(),
            by_ran: HashMap::new(),
            idle: HashMap::new(),
            by_supi: SupiIndex::default(),
            timers: hexcore_timer::TimerTable::new(),
            outputs: VecDeque::new(),
            next_amf_ue_ngap_id: 1,
            next_tmsi: seed,
            now: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AmfConfig {
        &self.config
    }

    /// Feed one input.
    pub fn handle(&mut self, now: Instant, input: Input) {
        self.now = Some(now);
        match input {
            Input::AssociationUp { assoc, out_streams } => {
                self.gnbs.insert(assoc, GnbContext::new(out_streams));
            }
            Input::AssociationDown { assoc } => self.association_down(assoc),
            Input::Ngap { assoc, stream, bytes } => self.ngap(assoc, stream, &bytes),
            Input::Udm(response) => {
                if let Some(id) = AmfUeNgapId::new(response.ue()) {
                    self.handle_ue(id, UeEvent::Udm(response));
                }
            }
            Input::Smf(message) => self.smf_message(message),
            Input::SmfUnreachable(request) => match self.connected_registered(&request.context().supi) {
                Some(id) => self.handle_ue(id, UeEvent::SmfUnreachable(request)),
                None => self.event(Event::Warning(format!(
                    "no SMF for {} PDU session {}",
                    request.context().supi,
                    request.context().pdu_session_id
                ))),
            },
            Input::Timeout => self.timeout(now),
        }
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to feed [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Number of gNBs with a completed NG Setup.
    pub fn connected_gnbs(&self) -> usize {
        self.gnbs.values().filter(|g| g.is_ready()).count()
    }

    /// Number of UE contexts with an NG connection.
    pub fn ue_count(&self) -> usize {
        self.ues.len()
    }

    /// Number of registered UEs in CM-IDLE (no NG connection).
    pub fn idle_count(&self) -> usize {
        self.idle.len()
    }

    /// The state name of a UE context.
    pub fn ue_state(&self, amf_ue_ngap_id: u64) -> Option<&'static str> {
        let id = AmfUeNgapId::new(amf_ue_ngap_id)?;
        self.ues.get(&id).map(|u| u.state().name())
    }

    /// A UE context with an NG connection.
    pub fn ue(&self, id: AmfUeNgapId) -> Option<&Ue> {
        self.ues.get(&id)
    }

    /// The UE contexts on an association, by AMF UE NGAP ID.
    pub fn ues_of(&self, assoc: AssocId) -> Vec<AmfUeNgapId> {
        let mut v: Vec<AmfUeNgapId> = self.ues.values().filter(|u| u.assoc() == assoc).map(Ue::id).collect();
        v.sort_unstable();
        v
    }

    /// Every UE this AMF knows, connected (with an NG connection) or registered in
    /// CM-IDLE, for the operator API. Sorted: connected by AMF UE NGAP ID, then idle by
    /// 5G-TMSI.
    pub fn ue_summaries(&self) -> Vec<UeSummary> {
        let mut connected: Vec<UeSummary> = self.ues.values().map(Ue::summary).collect();
        connected.sort_by_key(|s| s.amf_ue_ngap_id);
        let mut idle: Vec<UeSummary> = self
            .idle
            .iter()
            .map(|(tmsi, c)| UeSummary {
                supi: Some(c.supi.clone()),
                state: "registered",
                cm_connected: false,
                amf_ue_ngap_id: None,
                tmsi: Some(tmsi.0),
            })
            .collect();
        idle.sort_by_key(|s| s.tmsi);
        connected.extend(idle);
        connected
    }

    /// Deregister a SUPI from the network side. A connected, registered UE gets a
    /// Deregistration request (re-registration not required) guarded by T3522; an
    /// idle one is deregistered implicitly (its context dropped; paging it only to
    /// deregister is not worth the radio resources). `false` if the SUPI is unknown.
    pub fn deregister(&mut self, now: Instant, supi: &str) -> bool {
        self.now = Some(now);
        if let Some(id) = self.connected_registered(supi) {
            self.handle_ue(id, UeEvent::Deregister);
            return true;
        }
        let dropped = self.forget_idle(supi);
        if dropped {
            self.procedure("network_deregistration", Ok(()));
        }
        dropped
    }

    /// Configuration Update Command (TS 24.501 §5.4.4) with the network's name to a
    /// connected, registered UE. `false` if the SUPI has no connected registered
    /// context.
    pub fn configuration_update(&mut self, now: Instant, supi: &str, network_name: &str) -> bool {
        self.now = Some(now);
        let Some(id) = self.connected_registered(supi) else {
            return false;
        };
        self.handle_ue(
            id,
            UeEvent::ConfigurationUpdate {
                network_name: network_name.to_owned(),
            },
        );
        true
    }

    /// Page a UE in CM-IDLE by its 5G-TMSI (TS 38.413 §8.5.1) in every TA this AMF
    /// serves, through every gNB that announced one of them. `false` if the UE is not
    /// idle here.
    pub fn page(&mut self, tmsi: u32) -> bool {
        if !self.idle.contains_key(&Tmsi(tmsi)) {
            return false;
        }
        let c = &self.config;
        let paging = Paging {
            ue_paging_identity: FiveGSTmsi {
                amf_set_id: c.guami.amf_set_id,
                amf_pointer: c.guami.amf_pointer,
                five_g_tmsi: tmsi,
            },
            paging_drx: None,
            tais: c
                .tacs
                .iter()
                .map(|tac| Tai {
                    plmn: c.plmn,
                    tac: *tac,
                })
                .collect(),
        };
        let mut gnbs: Vec<AssocId> = self.gnbs.iter().filter(|(_, g)| g.serves(c)).map(|(a, _)| *a).collect();
        gnbs.sort_unstable();
        let mut fx = Effects::new();
        for assoc in gnbs {
            fx.ngap(assoc, 0, paging.build());
        }
        fx.procedure("paging", Ok(()));
        self.apply(fx);
        true
    }

    /// AMF-initiated NG Reset of a whole gNB (TS 38.413 §8.7.4.2.1), e.g. after the
    /// AMF lost its UE contexts: its UE contexts are dropped at once.
    pub fn reset_gnb(&mut self, assoc: AssocId, cause: Cause) {
        if !self.gnbs.get(&assoc).is_some_and(GnbContext::is_ready) {
            return;
        }
        for ue in self.ues_of(assoc) {
            self.remove_ue(ue);
        }
        let reset = NgReset {
            cause,
            reset_type: ResetType::NgInterface,
        };
        self.send_ngap(assoc, 0, reset.build());
    }

    // ------------------------------------------------------------- UE contexts

    /// Hand one event to a UE context and apply what it asks for.
    fn handle_ue(&mut self, id: AmfUeNgapId, event: UeEvent) {
        let Some(now) = self.now else { return };
        let Self {
            ues,
            idle,
            config,
            next_tmsi,
            timers,
            by_supi,
            ..
        } = self;
        let Some(ue) = ues.get_mut(&id) else { return };
        let in_use = |t: Tmsi| idle.contains_key(&t);
        let mut env = Env::new(config, now, next_tmsi, &in_use);
        let mut fx = Effects::new();
        ue.handle(&mut env, event, &mut fx);
        // The one timer table follows the UE's one NAS timer.
        let key = TimerKey::Ue(id);
        match ue.timer() {
            Some((timer, deadline)) => {
                if timers.running(&key) != Some((&timer, deadline)) {
                    timers.start(key, timer, deadline);
                }
            }
            None => {
                timers.stop(&key);
            }
        }
        let (ues, idle) = (&*ues, &*idle);
        if let Some(supi) = ues.get(&id).and_then(Ue::supi) {
            by_supi.insert(supi, SupiPlace::Connected(id), |p| holds(ues, idle, p, supi));
        }
        self.apply(fx);
    }

    /// Apply a UE context's effects, in order.
    fn apply(&mut self, mut fx: Effects) {
        while let Some(effect) = fx.pop() {
            match effect {
                Effect::Output(o) => self.outputs.push_back(o),
                Effect::Authenticated { ue, supi } => self.drop_other_contexts(ue, &supi),
                Effect::Remove { ue } => self.remove_ue(ue),
                Effect::ParkIdle { tmsi, context } => self.park_idle(tmsi, context),
            }
        }
    }

    /// A new NG connection (INITIAL UE MESSAGE, TS 38.413 §8.6.1): a UE context, then
    /// its NAS message, with the CM-IDLE 5GMM context that message names.
    fn initial_ue_message(&mut self, assoc: AssocId, pdu: &NgapPdu) -> Result<(), Box<ErrorIndication>> {
        let msg = InitialUeMessage::parse(pdu).map_err(|e| answering(pdu, &e))?;
        // A second Initial UE Message with a RAN UE NGAP ID in use replaces the old
        // connection (the gNB has forgotten it).
        if let Some(&old) = self.by_ran.get(&(assoc, msg.ran_ue_ngap_id)) {
            self.remove_ue(old);
        }
        let id = self.allocate_amf_ue_ngap_id();
        self.by_ran.insert((assoc, msg.ran_ue_ngap_id), id);
        let stream = self.gnbs.get(&assoc).map_or(0, |g| g.ue_stream(id.value()));
        let mut fx = Effects::new();
        let ue = Ue::new(id, assoc, stream, msg.ran_ue_ngap_id, msg.user_location, &mut fx);
        self.ues.insert(id, ue);
        self.apply(fx);
        let idle = crate::ue::initial_tmsi(&self.config, &msg.nas_pdu).and_then(|tmsi| {
            self.timers.stop(&TimerKey::Idle(tmsi));
            self.idle.remove(&tmsi).map(|context| (tmsi, context))
        });
        self.handle_ue(
            id,
            UeEvent::InitialNas {
                nas_pdu: msg.nas_pdu,
                idle,
            },
        );
        Ok(())
    }

    /// Drop a UE context without telling the gNB (the association or the gNB's UE
    /// contexts are gone): a registered UE stays registered in CM-IDLE.
    pub(crate) fn remove_ue(&mut self, id: AmfUeNgapId) {
        self.timers.stop(&TimerKey::Ue(id));
        let Some(ue) = self.ues.remove(&id) else { return };
        let ran = (ue.assoc(), ue.ran_ue_ngap_id());
        if self.by_ran.get(&ran) == Some(&id) {
            self.by_ran.remove(&ran);
        }
        let supi = ue.supi().map(str::to_owned);
        let mut fx = Effects::new();
        if let Some((tmsi, context)) = ue.into_idle(&mut fx) {
            fx.push(Effect::ParkIdle { tmsi, context });
        }
        self.apply(fx);
        if let Some(supi) = supi {
            self.prune_supi(&supi);
        }
    }

    fn allocate_amf_ue_ngap_id(&mut self) -> AmfUeNgapId {
        loop {
            let value = self.next_amf_ue_ngap_id;
            self.next_amf_ue_ngap_id = if value >= AmfUeNgapId::MAX { 1 } else { value + 1 };
            if let Some(id) = AmfUeNgapId::new(value)
                && !self.ues.contains_key(&id)
            {
                return id;
            }
        }
    }

    /// One SUPI, one context (TS 23.502 §4.2.2.2.2 step 5 in spirit): when a UE
    /// authenticates as a SUPI that has other contexts, they go — connected ones are
    /// released, an idle one forgotten with its SM contexts.
    fn drop_other_contexts(&mut self, id: AmfUeNgapId, supi: &str) {
        for other in self.connected_of(supi).into_iter().filter(|other| *other != id) {
            self.event(Event::Warning(format!(
                "SUPI registered again: releasing UE {}",
                other.value()
            )));
            self.handle_ue(other, UeEvent::Superseded);
        }
        self.forget_idle(supi);
    }

    /// The connected, registered UE context of a SUPI.
    fn connected_registered(&self, supi: &str) -> Option<AmfUeNgapId> {
        self.connected_of(supi)
            .into_iter()
            .find(|id| self.ues.get(id).is_some_and(Ue::is_registered))
    }

    // ------------------------------------------------------- CM-IDLE contexts

    /// Keep a registered UE's 5GMM context in CM-IDLE under its 5G-TMSI, with its
    /// implicit deregistration timer (TS 24.501 §5.3.7).
    fn park_idle(&mut self, tmsi: Tmsi, context: Box<MmContext>) {
        let supi = context.supi.clone();
        self.idle.insert(tmsi, context);
        let (ues, idle) = (&self.ues, &self.idle);
        self.by_supi
            .insert(&supi, SupiPlace::Idle(tmsi), |p| holds(ues, idle, p, &supi));
        if let Some(now) = self.now {
            let t = NasTimer::ImplicitDeregistration;
            self.timers.start(TimerKey::Idle(tmsi), t, now + self.config.timer(t));
        }
    }

    /// Forget a SUPI's context in CM-IDLE (and its timer), releasing its SM contexts;
    /// whether it had one.
    fn forget_idle(&mut self, supi: &str) -> bool {
        let Some(tmsi) = self.idle_tmsi_of(supi) else {
            return false;
        };
        self.timers.stop(&TimerKey::Idle(tmsi));
        if let Some(mut context) = self.idle.remove(&tmsi) {
            let mut fx = Effects::new();
            context.release_sm_contexts(ReleaseCause::UeContextLost, &mut fx);
            self.apply(fx);
        }
        self.prune_supi(supi);
        true
    }

    /// The implicit deregistration timer of an idle context expired (TS 24.501 §5.3.7).
    fn implicit_deregistration(&mut self, tmsi: Tmsi) {
        let Some(mut context) = self.idle.remove(&tmsi) else {
            return;
        };
        self.prune_supi(&context.supi);
        let mut fx = Effects::new();
        fx.event(Event::Warning(format!("implicit deregistration of {}", context.supi)));
        context.release_sm_contexts(ReleaseCause::UeContextLost, &mut fx);
        fx.procedure("implicit_deregistration", Ok(()));
        self.apply(fx);
    }

    // ------------------------------------------------------------ SUPI index

    fn prune_supi(&mut self, supi: &str) {
        let (ues, idle) = (&self.ues, &self.idle);
        self.by_supi.prune(supi, |p| holds(ues, idle, p, supi));
    }

    fn places_of(&self, supi: &str) -> Vec<SupiPlace> {
        self.by_supi.places(supi, |p| holds(&self.ues, &self.idle, p, supi))
    }

    fn connected_of(&self, supi: &str) -> Vec<AmfUeNgapId> {
        self.places_of(supi)
            .into_iter()
            .filter_map(|p| match p {
                SupiPlace::Connected(id) => Some(id),
                SupiPlace::Idle(_) => None,
            })
            .collect()
    }

    fn idle_tmsi_of(&self, supi: &str) -> Option<Tmsi> {
        self.places_of(supi).into_iter().find_map(|p| match p {
            SupiPlace::Idle(tmsi) => Some(tmsi),
            SupiPlace::Connected(_) => None,
        })
    }

    // ------------------------------------------------------------------- N11

    /// An answer or a request of an SMF, routed by SUPI to the UE's context.
    fn smf_message(&mut self, message: AmfRequest) {
        match message {
            AmfRequest::SmContextReleased { ref context } => match self.places_of(&context.supi).first() {
                Some(SupiPlace::Connected(id)) => self.handle_ue(*id, UeEvent::Smf(message)),
                Some(SupiPlace::Idle(tmsi)) => {
                    if let Some(c) = self.idle.get_mut(tmsi) {
                        c.sessions.remove(&context.pdu_session_id);
                    }
                }
                None => {}
            },
            AmfRequest::Activation { ref context, .. } => {
                if let Some(id) = self.connected_registered(&context.supi) {
                    self.handle_ue(id, UeEvent::Smf(message));
                }
            }
            AmfRequest::N1N2MessageTransfer { ref context, .. } => match self.connected_registered(&context.supi) {
                Some(id) => self.handle_ue(id, UeEvent::Smf(message)),
                None => self.n1n2_to_idle(message),
            },
        }
    }

    /// TS 23.502 §4.2.3.3: an N1N2 message for a UE in CM-IDLE — page it; N2-only
    /// messages (downlink data) re-activate the session at the Service Request, N1
    /// messages are delivered once the UE is connected.
    fn n1n2_to_idle(&mut self, message: AmfRequest) {
        let AmfRequest::N1N2MessageTransfer {
            context: sm,
            n1_sm,
            n2_sm,
            ..
        } = &message
        else {
            return;
        };
        let Some(tmsi) = self.idle_tmsi_of(&sm.supi) else {
            self.event(Event::Warning(format!(
                "N1N2 message for {} which is not registered here",
                sm.supi
            )));
            return;
        };
        let downlink_data = n1_sm.is_none() && n2_sm.as_ref().is_some_and(|n| n.kind == N2SmInfoType::PduResSetupReq);
        let Some(context) = self.idle.get_mut(&tmsi) else {
            return;
        };
        if downlink_data {
            context.paged.insert(sm.pdu_session_id);
        } else {
            context.pending_n1n2.push(message);
        }
        self.page(tmsi.0);
    }

    // ------------------------------------------------------------------ NGAP

    fn ngap(&mut self, assoc: AssocId, _stream: u16, bytes: &[u8]) {
        // The glue announces every association first; be lenient if it did not.
        self.gnbs.entry(assoc).or_insert_with(|| GnbContext::new(2));
        let pdu = match NgapPdu::decode(bytes) {
            Ok(pdu) => pdu,
            Err(e) => {
                // TS 38.413 §10.2: a transfer syntax error is answered by an Error
                // Indication without ids (nothing of the PDU can be trusted).
                let indication = ErrorIndication {
                    amf_ue_ngap_id: None,
                    ran_ue_ngap_id: None,
                    cause: Some(e.cause()),
                    criticality_diagnostics: None,
                };
                self.send_error_indication(assoc, indication);
                return;
            }
        };
        let ready = self.gnbs.get(&assoc).is_some_and(GnbContext::is_ready);
        let result = match (pdu.kind(), pdu.procedure_code()) {
            (PduKind::InitiatingMessage, ProcedureCode::NGSetup) => self.ng_setup(assoc, &pdu),
            (_, ProcedureCode::ErrorIndication) => {
                self.event(Event::Warning(format!("Error Indication from gNB on {assoc:?}")));
                Ok(())
            }
            // Everything else needs a completed NG Setup first (TS 38.413 §8.7.1.1).
            _ if !ready => Err(not_compatible(&pdu)),
            (PduKind::InitiatingMessage, ProcedureCode::NGReset) => self.ng_reset_from_gnb(assoc, &pdu),
            (PduKind::SuccessfulOutcome, ProcedureCode::NGReset) => {
                self.procedure("ng_reset", Ok(()));
                Ok(())
            }
            (PduKind::InitiatingMessage, ProcedureCode::RANConfigurationUpdate) => {
                let update = RanConfigurationUpdate::parse(&pdu).map_err(|e| answering(&pdu, &e));
                update.map(|update| {
                    let mut fx = Effects::new();
                    if let Some(g) = self.gnbs.get_mut(&assoc) {
                        g.ran_configuration_update(assoc, &self.config, update, &mut fx);
                    }
                    self.apply(fx);
                })
            }
            (PduKind::InitiatingMessage, ProcedureCode::InitialUEMessage) => self.initial_ue_message(assoc, &pdu),
            (PduKind::InitiatingMessage, ProcedureCode::UplinkNASTransport) => self.uplink_nas_transport(assoc, &pdu),
            (PduKind::InitiatingMessage, ProcedureCode::UEContextReleaseRequest) => {
                let r = UeContextReleaseRequest::parse(&pdu).map_err(|e| answering(&pdu, &e));
                r.and_then(|r| self.route(assoc, r.amf_ue_ngap_id, &pdu, UeEvent::ReleaseRequested(r.cause)))
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::UEContextRelease) => {
                // UE CONTEXT RELEASE COMPLETE (TS 38.413 §8.3.3): the context goes.
                let c = UeContextReleaseComplete::parse(&pdu).map_err(|e| answering(&pdu, &e));
                c.and_then(|c| self.ue_on(assoc, c.amf_ue_ngap_id, &pdu)).map(|id| {
                    self.remove_ue(id);
                    self.procedure("ue_context_release", Ok(()));
                })
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::InitialContextSetup) => {
                let r = InitialContextSetupResponse::parse(&pdu).map_err(|e| answering(&pdu, &e));
                r.and_then(|r| {
                    let event = UeEvent::InitialContextSetupResponse {
                        setup: r.pdu_sessions,
                        failed: r.failed,
                    };
                    self.route(assoc, r.amf_ue_ngap_id, &pdu, event)
                })
            }
            (PduKind::UnsuccessfulOutcome, ProcedureCode::InitialContextSetup) => {
                let f = InitialContextSetupFailure::parse(&pdu).map_err(|e| answering(&pdu, &e));
                f.and_then(|f| {
                    let event = UeEvent::InitialContextSetupFailure(f.cause);
                    self.route(assoc, f.amf_ue_ngap_id, &pdu, event)
                })
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::PDUSessionResourceSetup) => {
                let r = PduSessionResourceSetupResponse::parse(&pdu).map_err(|e| answering(&pdu, &e));
                r.and_then(|r| {
                    let event = UeEvent::SessionsSetUp {
                        setup: r.setup,
                        failed: r.failed,
                    };
                    self.route(assoc, r.amf_ue_ngap_id, &pdu, event)
                })
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::PDUSessionResourceRelease) => {
                let r = PduSessionResourceReleaseResponse::parse(&pdu).map_err(|e| answering(&pdu, &e));
                r.and_then(|r| self.route(assoc, r.amf_ue_ngap_id, &pdu, UeEvent::SessionsReleased(r.released)))
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::PDUSessionResourceModify) => {
                let r = PduSessionResourceModifyResponse::parse(&pdu).map_err(|e| answering(&pdu, &e));
                r.and_then(|r| {
                    let event = UeEvent::SessionsModified {
                        modified: r.modified,
                        failed: r.failed,
                    };
                    self.route(assoc, r.amf_ue_ngap_id, &pdu, event)
                })
            }
            (PduKind::InitiatingMessage, ProcedureCode::NASNonDeliveryIndication) => {
                self.event(Event::Warning("NAS non delivery indication".into()));
                Ok(())
            }
            _ => Err(not_compatible(&pdu)),
        };
        if let Err(indication) = result {
            self.send_error_indication(assoc, *indication);
        }
    }

    /// UPLINK NAS TRANSPORT (TS 38.413 §8.6.3).
    fn uplink_nas_transport(&mut self, assoc: AssocId, pdu: &NgapPdu) -> Result<(), Box<ErrorIndication>> {
        let msg = UplinkNasTransport::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let id = msg.amf_ue_ngap_id;
        match self.ues.get(&id) {
            None => return Err(unknown_ue(pdu, CauseRadioNetwork::UnknownLocalUeNgapId)),
            Some(ue) if ue.assoc() != assoc || ue.ran_ue_ngap_id() != msg.ran_ue_ngap_id => {
                return Err(unknown_ue(pdu, CauseRadioNetwork::InconsistentRemoteUeNgapId));
            }
            Some(_) => {}
        }
        self.handle_ue(
            id,
            UeEvent::UplinkNas {
                nas_pdu: msg.nas_pdu,
                location: msg.user_location,
            },
        );
        Ok(())
    }

    /// Hand a UE-associated message's event to its UE context on `assoc`.
    fn route(
        &mut self,
        assoc: AssocId,
        id: AmfUeNgapId,
        pdu: &NgapPdu,
        event: UeEvent,
    ) -> Result<(), Box<ErrorIndication>> {
        let id = self.ue_on(assoc, id, pdu)?;
        self.handle_ue(id, event);
        Ok(())
    }

    /// The UE context of a UE-associated message on `assoc`, or the Error Indication
    /// for an unknown one (TS 38.413 §10.6).
    fn ue_on(&self, assoc: AssocId, id: AmfUeNgapId, pdu: &NgapPdu) -> Result<AmfUeNgapId, Box<ErrorIndication>> {
        if self.ues.get(&id).is_none_or(|u| u.assoc() != assoc) {
            return Err(unknown_ue(pdu, CauseRadioNetwork::UnknownLocalUeNgapId));
        }
        Ok(id)
    }

    /// NG Setup (TS 38.413 §8.7.1): a repeated one re-initialises the NG interface, so
    /// the gNB's UE contexts go first (§8.7.1.2); the gNB context decides the answer.
    fn ng_setup(&mut self, assoc: AssocId, pdu: &NgapPdu) -> Result<(), Box<ErrorIndication>> {
        let req = NgSetupRequest::parse(pdu).map_err(|e| answering(pdu, &e))?;
        for ue in self.ues_of(assoc) {
            self.remove_ue(ue);
        }
        let mut fx = Effects::new();
        if let Some(g) = self.gnbs.get_mut(&assoc) {
            g.ng_setup(assoc, &self.config, req, &mut fx);
        }
        self.apply(fx);
        Ok(())
    }

    /// NG Reset from the gNB (TS 38.413 §8.7.4.2.2): release the named UE contexts
    /// (or all of the gNB's) and acknowledge, echoing the list.
    fn ng_reset_from_gnb(&mut self, assoc: AssocId, pdu: &NgapPdu) -> Result<(), Box<ErrorIndication>> {
        let reset = NgReset::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let connections = match reset.reset_type {
            ResetType::NgInterface => {
                for ue in self.ues_of(assoc) {
                    self.remove_ue(ue);
                }
                Vec::new()
            }
            ResetType::PartOfNgInterface(list) => {
                for c in &list {
                    let by_amf = c
                        .amf_ue_ngap_id
                        .filter(|id| self.ues.get(id).is_some_and(|u| u.assoc() == assoc));
                    let by_ran = c.ran_ue_ngap_id.and_then(|r| self.by_ran.get(&(assoc, r)).copied());
                    if let Some(id) = by_amf.or(by_ran) {
                        self.remove_ue(id);
                    }
                }
                list
            }
        };
        self.send_ngap(assoc, 0, NgResetAcknowledge { connections }.build());
        self.procedure("ng_reset", Ok(()));
        Ok(())
    }

    fn association_down(&mut self, assoc: AssocId) {
        if let Some(gnb) = self.gnbs.remove(&assoc)
            && gnb.is_ready()
        {
            self.event(Event::GnbDisconnected { assoc });
        }
        for ue in self.ues_of(assoc) {
            self.remove_ue(ue);
        }
    }

    fn timeout(&mut self, now: Instant) {
        while let Some((key, _timer)) = self.timers.pop_expired(now) {
            match key {
                TimerKey::Ue(id) => self.handle_ue(id, UeEvent::Timeout),
                TimerKey::Idle(tmsi) => self.implicit_deregistration(tmsi),
            }
        }
    }

    // --------------------------------------------------------------- outputs

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn procedure(&mut self, procedure: &'static str, result: Result<(), String>) {
        let mut fx = Effects::new();
        fx.procedure(procedure, result);
        self.apply(fx);
    }

    fn send_ngap(&mut self, assoc: AssocId, stream: u16, pdu: Result<NgapPdu, hexcore_ngap::Error>) {
        let mut fx = Effects::new();
        fx.ngap(assoc, stream, pdu);
        self.apply(fx);
    }

    fn send_error_indication(&mut self, assoc: AssocId, indication: ErrorIndication) {
        if let Some(cause) = indication.cause {
            self.event(Event::ErrorIndication { assoc, cause });
        }
        self.send_ngap(assoc, 0, indication.build());
    }
}

/// Whether `place` holds a context of `supi` now.
fn holds(ues: &HashMap<AmfUeNgapId, Ue>, idle: &HashMap<Tmsi, Box<MmContext>>, place: SupiPlace, supi: &str) -> bool {
    match place {
        SupiPlace::Connected(id) => ues.get(&id).and_then(Ue::supi) == Some(supi),
        SupiPlace::Idle(tmsi) => idle.get(&tmsi).is_some_and(|c| c.supi == supi),
    }
}

/// An Error Indication for a message the AMF cannot take in its present state
/// (TS 38.413 §10.4: message not compatible with receiver state).
fn not_compatible(pdu: &NgapPdu) -> Box<ErrorIndication> {
    Box::new(ErrorIndication {
        amf_ue_ngap_id: pdu.amf_ue_ngap_id().and_then(AmfUeNgapId::new),
        ran_ue_ngap_id: pdu.ran_ue_ngap_id().map(RanUeNgapId),
        cause: Some(Cause::Protocol(CauseProtocol::MessageNotCompatibleWithReceiverState)),
        criticality_diagnostics: None,
    })
}

/// An Error Indication for a typed parse failure.
fn answering(pdu: &NgapPdu, error: &hexcore_ngap::Error) -> Box<ErrorIndication> {
    Box::new(ErrorIndication::answering(pdu, error))
}

/// An Error Indication for an unknown or inconsistent UE id (TS 38.413 §10.6).
fn unknown_ue(pdu: &NgapPdu, cause: CauseRadioNetwork) -> Box<ErrorIndication> {
    Box::new(ErrorIndication {
        amf_ue_ngap_id: pdu.amf_ue_ngap_id().and_then(AmfUeNgapId::new),
        ran_ue_ngap_id: pdu.ran_ue_ngap_id().map(RanUeNgapId),
        cause: Some(Cause::RadioNetwork(cause)),
        criticality_diagnostics: None,
    })
}
