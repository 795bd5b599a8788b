//! The top object: [`Amf`] owns the gNB contexts (by association) and the UE contexts
//! (by AMF UE NGAP ID) and routes every input to them. Sans-IO: `handle(now, input)`
//! in, `poll_output()` / `poll_timeout()` out; it never reads the clock or a socket.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use hexcore_ngap::procedures::{ErrorIndication, UeContextReleaseCommand, UeNgapIds};
use hexcore_ngap::{AmfUeNgapId, Cause, CauseNas, CauseProtocol, CauseRadioNetwork, NgapPdu, PduKind, ProcedureCode};
use hexcore_ngap::{Guami, Plmn, SNssai, Tac};

use crate::gnb::GnbContext;
use crate::settings::{Settings, SettingsError};
use crate::timers::TimerTable;
use crate::udm::{UdmRequest, UdmResponse};
use crate::ue::UeContext;

/// One N2 association, as the glue numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssocId(pub u64);

/// What the glue feeds the AMF.
#[derive(Debug)]
pub enum Input {
    /// A new association from a gNB, with its number of outbound streams.
    AssociationUp {
        /// The association.
        assoc: AssocId,
        /// Outbound streams negotiated (stream 0 is for non-UE-associated signalling).
        out_streams: u16,
    },
    /// The association is gone (shutdown, abort, restart): its UEs go with it.
    AssociationDown {
        /// The association.
        assoc: AssocId,
    },
    /// One NGAP PDU (SCTP PPID 60) received.
    Ngap {
        /// From this association.
        assoc: AssocId,
        /// On this stream.
        stream: u16,
        /// The octets.
        bytes: Vec<u8>,
    },
    /// The UDM/AUSF answered a request.
    Udm(UdmResponse),
    /// An SMF's answer or request (Namf_Communication, TS 29.518).
    Smf(hexcore_sbi::AmfRequest),
    /// An [`Output::Smf`] request could not be delivered (no SMF, SMF down).
    SmfUnreachable(hexcore_sbi::SmfRequest),
    /// `now` has passed the deadline of `poll_timeout`.
    Timeout,
}

/// What the AMF asks the glue to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send an NGAP PDU.
    Ngap {
        /// On this association.
        assoc: AssocId,
        /// On this stream.
        stream: u16,
        /// The octets.
        bytes: Vec<u8>,
    },
    /// Ask the UDM/AUSF; the answer comes back as [`Input::Udm`].
    Udm(UdmRequest),
    /// Ask the SMF (Nsmf_PDUSession, TS 29.502); answers come back as [`Input::Smf`].
    Smf(hexcore_sbi::SmfRequest),
    /// Something to count or log.
    Event(Event),
}

/// Events for metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// NG Setup succeeded: the gNB is connected.
    GnbConnected {
        /// Its association.
        assoc: AssocId,
        /// Its RAN node name, if it sent one.
        name: Option<String>,
    },
    /// A connected gNB went away (association down or NG Setup repeated).
    GnbDisconnected {
        /// Its association.
        assoc: AssocId,
    },
    /// A UE context changed state (`None`: created / removed).
    UeState {
        /// AMF UE NGAP ID.
        ue: u64,
        /// The previous state's name.
        from: Option<&'static str>,
        /// The new state's name.
        to: Option<&'static str>,
    },
    /// A procedure ended.
    Procedure {
        /// E.g. "ng_setup", "registration", "authentication".
        procedure: &'static str,
        /// "success" or "failure".
        outcome: &'static str,
        /// The cause of a failure ("" on success).
        cause: String,
    },
    /// 5G-AKA did not succeed.
    AuthenticationFailure {
        /// AMF UE NGAP ID.
        ue: u64,
        /// E.g. "mac_failure", "synch_failure", "res_star_mismatch".
        reason: &'static str,
    },
    /// An uplink NAS message was dropped.
    NasDropped {
        /// AMF UE NGAP ID.
        ue: u64,
        /// "integrity", "unprotected", "undecodable".
        reason: &'static str,
    },
    /// An Error Indication was sent.
    ErrorIndication {
        /// To this association.
        assoc: AssocId,
        /// Its cause.
        cause: Cause,
    },
    /// A NAS message was retransmitted on timer expiry.
    Retransmission {
        /// AMF UE NGAP ID.
        ue: u64,
        /// The timer.
        timer: &'static str,
    },
    /// Something went wrong that only a log can tell.
    Warning(String),
}

/// The configuration the state machines read, converted once from [`Settings`].
#[derive(Debug, Clone)]
pub struct AmfConfig {
    /// The settings as given.
    pub settings: Settings,
    /// Served PLMN.
    pub plmn: Plmn,
    /// Served TACs.
    pub tacs: Vec<Tac>,
    /// Supported slices.
    pub slices: Vec<SNssai>,
    /// Served GUAMI.
    pub guami: Guami,
    /// Integrity algorithms by priority.
    pub integrity_order: Vec<hexcore_security::Nia>,
    /// Ciphering algorithms by priority.
    pub ciphering_order: Vec<hexcore_security::Nea>,
}

impl AmfConfig {
    /// Check and convert.
    pub fn new(settings: Settings) -> Result<Self, SettingsError> {
        settings.validate()?;
        let plmn = Plmn::new(&settings.amf.plmn.mcc, &settings.amf.plmn.mnc).map_err(|e| SettingsError::Invalid {
            key: "amf.plmn",
            reason: e.to_string(),
        })?;
        let g = &settings.amf.guami;
        Ok(Self {
            plmn,
            tacs: settings.amf.tacs.iter().map(|t| Tac::from_u32(*t)).collect(),
            slices: settings
                .amf
                .slices
                .iter()
                .map(|s| SNssai {
                    sst: s.sst,
                    sd: s.sd.map(sd_octets),
                })
                .collect(),
            guami: Guami {
                plmn,
                amf_region_id: g.region,
                amf_set_id: g.set,
                amf_pointer: g.pointer,
            },
            integrity_order: settings.integrity_order()?,
            ciphering_order: settings.ciphering_order()?,
            settings,
        })
    }
}

/// A 24-bit SD as three octets.
pub(crate) fn sd_octets(sd: u32) -> [u8; 3] {
    let b = sd.to_be_bytes();
    [b[1], b[2], b[3]]
}

/// One UE as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UeSummary {
    /// SUPI (IMSI digits), once authenticated.
    pub supi: Option<String>,
    /// 5GMM state on the network side (`registered`, `authenticating`, …).
    pub state: &'static str,
    /// CM-CONNECTED (an NG connection) or CM-IDLE.
    pub cm_connected: bool,
    /// AMF UE NGAP ID of the NG connection.
    pub amf_ue_ngap_id: Option<u64>,
    /// 5G-TMSI of the 5G-GUTI assigned.
    pub tmsi: Option<u32>,
}

/// The AMF.
#[derive(Debug)]
pub struct Amf {
    pub(crate) config: AmfConfig,
    pub(crate) gnbs: HashMap<AssocId, GnbContext>,
    pub(crate) ues: HashMap<u64, UeContext>,
    /// Registered UEs in CM-IDLE, by 5G-TMSI.
    pub(crate) idle: HashMap<u32, Box<crate::ue::Secured>>,
    pub(crate) timers: TimerTable,
    pub(crate) outputs: VecDeque<Output>,
    next_amf_ue_ngap_id: u64,
    pub(crate) next_tmsi: u32,
    pub(crate) now: Option<Instant>,
    /// UE contexts by (association, RAN UE NGAP ID): an Initial UE Message finds the one
    /// it replaces without a scan.
    pub(crate) by_ran: HashMap<(AssocId, u32), u64>,
    /// PDU sessions with downlink data waiting while their UE is paged, by SUPI.
    pub(crate) paged: HashMap<String, std::collections::BTreeSet<u8>>,
    /// N1N2 messages waiting for a paged UE's connection, by SUPI.
    pub(crate) pending_n1n2: HashMap<String, Vec<hexcore_sbi::AmfRequest>>,
    /// Where each SUPI's contexts are (a checked hint, see [`crate::ue::supi_index`]).
    pub(crate) by_supi: HashMap<String, crate::ue::supi_index::SupiPlaces>,
}

impl Amf {
    /// An AMF serving `config`. `seed` picks the first 5G-TMSI (tests pass a
    /// constant; the glue passes a random value so that TMSIs differ per start).
    pub fn new(config: AmfConfig, seed: u32) -> Self {
        Self {
            config,
            gnbs: HashMap::new(),
            ues: HashMap::new(),
            idle: HashMap::new(),
            timers: TimerTable::default(),
            outputs: VecDeque::new(),
            next_amf_ue_ngap_id: 1,
            next_tmsi: seed,
            now: None,
            by_ran: HashMap::new(),
            paged: HashMap::new(),
            pending_n1n2: HashMap::new(),
            by_supi: HashMap::new(),
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
            Input::Udm(response) => self.udm_response(response),
            Input::Smf(message) => self.smf_message(message),
            Input::SmfUnreachable(request) => self.smf_unreachable(request),
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

    /// Number of UE contexts.
    pub fn ue_count(&self) -> usize {
        self.ues.len()
    }

    /// The state name of a UE context.
    pub fn ue_state(&self, amf_ue_ngap_id: u64) -> Option<&'static str> {
        self.ues.get(&amf_ue_ngap_id).map(|u| u.state.name())
    }

    /// The AMF UE NGAP IDs of the UEs on an association.
    pub fn ues_of(&self, assoc: AssocId) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .ues
            .iter()
            .filter(|(_, u)| u.assoc == assoc)
            .map(|(id, _)| *id)
            .collect();
        v.sort_unstable();
        v
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    pub(crate) fn procedure(&mut self, procedure: &'static str, result: Result<(), String>) {
        let (outcome, cause) = match result {
            Ok(()) => ("success", String::new()),
            Err(c) => ("failure", c),
        };
        self.event(Event::Procedure {
            procedure,
            outcome,
            cause,
        });
    }

    /// Encode and queue an NGAP PDU.
    pub(crate) fn send_ngap(&mut self, assoc: AssocId, stream: u16, pdu: Result<NgapPdu, hexcore_ngap::Error>) {
        match pdu.and_then(|p| p.encode()) {
            Ok(bytes) => self.outputs.push_back(Output::Ngap { assoc, stream, bytes }),
            Err(e) => self.event(Event::Warning(format!("cannot build an NGAP message: {e}"))),
        }
    }

    pub(crate) fn send_error_indication(&mut self, assoc: AssocId, indication: ErrorIndication) {
        if let Some(cause) = indication.cause {
            self.event(Event::ErrorIndication { assoc, cause });
        }
        self.send_ngap(assoc, 0, indication.build());
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

    pub(crate) fn allocate_amf_ue_ngap_id(&mut self) -> u64 {
        loop {
            let id = self.next_amf_ue_ngap_id;
            self.next_amf_ue_ngap_id = if id >= AmfUeNgapId::MAX { 1 } else { id + 1 };
            if !self.ues.contains_key(&id) {
                return id;
            }
        }
    }

    /// Drop a UE context without telling anyone (the association or the gNB's UE
    /// contexts are gone).
    pub(crate) fn remove_ue(&mut self, id: u64) {
        self.timers.stop(id);
        if let Some(ue) = self.ues.remove(&id) {
            if self.by_ran.get(&(ue.assoc, ue.ran_ue_ngap_id.0)) == Some(&id) {
                self.by_ran.remove(&(ue.assoc, ue.ran_ue_ngap_id.0));
            }
            self.event(Event::UeState {
                ue: id,
                from: Some(ue.reported_state),
                to: None,
            });
            match ue.state {
                crate::ue::UeState::Registered { mut secured, tmsi }
                | crate::ue::UeState::Releasing {
                    idle: Some((mut secured, tmsi)),
                } => {
                    self.deactivate_user_plane(&mut secured);
                    self.park_idle(tmsi, secured);
                    if let Some(now) = self.now {
                        let t = crate::timers::NasTimer::ImplicitDeregistration;
                        let deadline = now + self.config.settings.timer(t);
                        self.timers.start(crate::timers::idle_key(tmsi), t, deadline);
                    }
                }
                other => {
                    if let Some(mut secured) = other.into_secured() {
                        self.prune_supi(&secured.supi);
                        self.release_sm_contexts(&mut secured, hexcore_sbi::ReleaseCause::UeContextLost);
                    }
                }
            }
        }
    }

    /// Forget a SUPI's context in CM-IDLE (and its timer); whether it had one.
    pub(crate) fn forget_idle(&mut self, supi: &str) -> bool {
        let Some(tmsi) = self.idle_tmsi_of(supi) else {
            return false;
        };
        if let Some(mut secured) = self.idle.remove(&tmsi) {
            self.release_sm_contexts(&mut secured, hexcore_sbi::ReleaseCause::UeContextLost);
        }
        self.timers.stop(crate::timers::idle_key(tmsi));
        self.prune_supi(supi);
        true
    }

    /// Number of registered UEs in CM-IDLE (no NG connection).
    pub fn idle_count(&self) -> usize {
        self.idle.len()
    }

    /// Every UE this AMF knows, connected (with an NG connection) or registered in
    /// CM-IDLE, for the operator API. Sorted: connected by AMF UE NGAP ID, then idle by
    /// 5G-TMSI.
    pub fn ue_summaries(&self) -> Vec<UeSummary> {
        let mut connected: Vec<UeSummary> = self
            .ues
            .iter()
            .map(|(id, u)| UeSummary {
                supi: u.state.supi().map(str::to_string),
                state: u.state.name(),
                cm_connected: true,
                amf_ue_ngap_id: Some(*id),
                tmsi: match &u.state {
                    crate::ue::UeState::Registered { tmsi, .. } | crate::ue::UeState::Accepting { tmsi, .. } => {
                        Some(*tmsi)
                    }
                    _ => None,
                },
            })
            .collect();
        connected.sort_by_key(|s| s.amf_ue_ngap_id);
        let mut idle: Vec<UeSummary> = self
            .idle
            .iter()
            .map(|(tmsi, s)| UeSummary {
                supi: Some(s.supi.clone()),
                state: "registered",
                cm_connected: false,
                amf_ue_ngap_id: None,
                tmsi: Some(*tmsi),
            })
            .collect();
        idle.sort_by_key(|s| s.tmsi);
        connected.extend(idle);
        connected
    }

    /// Ask the gNB to release the UE's NG connection (TS 38.413 §8.3.3).
    pub(crate) fn release_ue(&mut self, id: u64, cause: Cause) {
        self.timers.stop(id);
        let Some(ue) = self.ues.get(&id) else { return };
        let (assoc, stream, ran) = (ue.assoc, ue.stream, ue.ran_ue_ngap_id);
        let Some(amf) = AmfUeNgapId::new(id) else { return };
        let Some(ue) = self.ues.get_mut(&id) else { return };
        let from = ue.reported_state;
        let mut lost = None;
        let idle = match std::mem::replace(&mut ue.state, crate::ue::UeState::New) {
            // Deregistered UEs are forgotten; others stay registered in CM-IDLE.
            crate::ue::UeState::Registered { secured, tmsi } if cause != Cause::Nas(CauseNas::Deregister) => {
                Some((secured, tmsi))
            }
            crate::ue::UeState::Releasing { idle } => idle,
            other => {
                lost = other.into_secured();
                None
            }
        };
        ue.state = crate::ue::UeState::Releasing { idle };
        ue.reported_state = "releasing";
        if let Some(mut secured) = lost {
            let why = if cause == Cause::Nas(CauseNas::Deregister) {
                hexcore_sbi::ReleaseCause::Deregistration
            } else {
                hexcore_sbi::ReleaseCause::UeContextLost
            };
            self.release_sm_contexts(&mut secured, why);
        }
        if from != "releasing" {
            self.event(Event::UeState {
                ue: id,
                from: Some(from),
                to: Some("releasing"),
            });
        }
        let cmd = UeContextReleaseCommand {
            ue_ngap_ids: UeNgapIds::Pair(amf, ran),
            cause,
        };
        self.send_ngap(assoc, stream, cmd.build());
    }

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
        let code = pdu.procedure_code();
        let kind = pdu.kind();
        let result = match (kind, code) {
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
                self.ran_configuration_update(assoc, &pdu)
            }
            (PduKind::InitiatingMessage, ProcedureCode::InitialUEMessage) => self.initial_ue_message(assoc, &pdu),
            (PduKind::InitiatingMessage, ProcedureCode::UplinkNASTransport) => self.uplink_nas_transport(assoc, &pdu),
            (PduKind::InitiatingMessage, ProcedureCode::UEContextReleaseRequest) => {
                self.ue_context_release_request(assoc, &pdu)
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::UEContextRelease) => {
                self.ue_context_release_complete(assoc, &pdu)
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::InitialContextSetup) => {
                self.initial_context_setup_response(assoc, &pdu)
            }
            (PduKind::UnsuccessfulOutcome, ProcedureCode::InitialContextSetup) => {
                self.initial_context_setup_failure(assoc, &pdu)
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::PDUSessionResourceSetup) => {
                self.pdu_session_resource_setup_response(assoc, &pdu)
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::PDUSessionResourceRelease) => {
                self.pdu_session_resource_release_response(assoc, &pdu)
            }
            (PduKind::SuccessfulOutcome, ProcedureCode::PDUSessionResourceModify) => {
                self.pdu_session_resource_modify_response(assoc, &pdu)
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

    fn timeout(&mut self, now: Instant) {
        while let Some((ue, timer)) = self.timers.pop_expired(now) {
            self.nas_timer_expired(now, ue, timer);
        }
    }
}

/// An Error Indication for a message the AMF cannot take in its present state
/// (TS 38.413 §10.4: message not compatible with receiver state).
pub(crate) fn not_compatible(pdu: &NgapPdu) -> Box<ErrorIndication> {
    Box::new(ErrorIndication {
        amf_ue_ngap_id: pdu.amf_ue_ngap_id().and_then(AmfUeNgapId::new),
        ran_ue_ngap_id: pdu.ran_ue_ngap_id().map(hexcore_ngap::RanUeNgapId),
        cause: Some(Cause::Protocol(CauseProtocol::MessageNotCompatibleWithReceiverState)),
        criticality_diagnostics: None,
    })
}

/// An Error Indication for a typed parse failure.
pub(crate) fn answering(pdu: &NgapPdu, error: &hexcore_ngap::Error) -> Box<ErrorIndication> {
    Box::new(ErrorIndication::answering(pdu, error))
}

/// An Error Indication for an unknown or inconsistent UE id (TS 38.413 §10.6).
pub(crate) fn unknown_ue(pdu: &NgapPdu, cause: CauseRadioNetwork) -> Box<ErrorIndication> {
    Box::new(ErrorIndication {
        amf_ue_ngap_id: pdu.amf_ue_ngap_id().and_then(AmfUeNgapId::new),
        ran_ue_ngap_id: pdu.ran_ue_ngap_id().map(hexcore_ngap::RanUeNgapId),
        cause: Some(Cause::RadioNetwork(cause)),
        criticality_diagnostics: None,
    })
}
