//! A sans-IO gNB: the NGAP side of one NG-RAN node towards one AMF (TS 38.413).
//!
//! It holds the NG interface state and one UE-associated logical NG connection per
//! UE (RAN UE NGAP ID ⇄ AMF UE NGAP ID), and answers what a real gNB answers on its
//! own: Initial Context Setup Response, UE Context Release Complete, UE Context
//! Modification Response, NG Reset Acknowledge, Error Indication for a message about
//! a UE it does not know (TS 38.413 §10.6). Everything it receives is also reported
//! as a [`GnbEvent`] for the simulator and the scenarios.
//!
//! PDU sessions (TS 38.413 §8.2): PDU Session Resource Setup (and the sessions of an
//! Initial Context Setup) read the UPF's UL tunnel from the Setup Request Transfer,
//! allocate a DL TEID on the gNB's N3 address and answer with a Setup Response
//! Transfer (or a Setup Unsuccessful Transfer with the cause, when the transfer is
//! broken or the session exists); Release and Modify are answered item by item; a UE
//! context release drops the UE's tunnels. Each tunnel that comes or goes is a
//! [`GnbEvent::PduSessionUp`] / [`GnbEvent::PduSessionDown`] for the user plane. Paging
//! is passed on as [`GnbEvent::Paging`].
//!
//! No I/O: [`Gnb::handle`] takes the octets of one NGAP PDU (one SCTP message, PPID
//! 60); [`Gnb::poll_transmit`] gives the PDUs to send with their SCTP stream.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use hexcore_ngap::codec::ngap as codec;
use hexcore_ngap::procedures::{
    BroadcastPlmn, DownlinkNasTransport, ErrorIndication, GtpTunnel, InitialContextSetupRequest,
    InitialContextSetupResponse, InitialUeMessage, NgReset, NgResetAcknowledge, NgSetupFailure, NgSetupRequest,
    NgSetupResponse, Paging, PagingDRX, PduSessionResourceModifyRequest, PduSessionResourceModifyResponse,
    PduSessionResourceReleaseCommand, PduSessionResourceReleaseResponse, PduSessionResourceSetupRequest,
    PduSessionResourceSetupRequestTransfer, PduSessionResourceSetupResponse, PduSessionResourceSetupResponseTransfer,
    PduSessionSetupItem, PduSessionTransferItem, RRCEstablishmentCause, ResetType, ServedGuami, SupportedTa,
    UeAssociatedConnection, UeContextModificationRequest, UeContextModificationResponse, UeContextReleaseCommand,
    UeContextReleaseComplete, UeContextReleaseRequest, UeNgapIds, UplinkNasTransport, UserLocationNr,
};
use hexcore_ngap::{
    AmfUeNgapId, Cause, CauseProtocol, CauseRadioNetwork, FiveGSTmsi, GlobalGnbId, GnbId, NgapPdu, NrCgi, Plmn,
    ProcedureCode, RanUeNgapId, SNssai, Tac, Tai,
};

/// What the gNB announces in NG Setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GnbConfig {
    /// The PLMN it broadcasts (and of its Global gNB ID).
    pub plmn: Plmn,
    /// Its tracking area.
    pub tac: u32,
    /// The slices of that TA.
    pub slices: Vec<SNssai>,
    /// gNB ID and its length in bits (22 to 32).
    pub gnb_id: u32,
    /// Length of `gnb_id` in bits.
    pub gnb_id_bits: u8,
    /// RAN node name.
    pub name: String,
    /// NR cell identity (36 bits) of its one cell.
    pub nr_cell_id: u64,
    /// Set the UE Context Request IE in Initial UE Messages (TS 38.413 §9.2.5.1).
    pub ue_context_request: bool,
    /// The gNB's N3 address: where the UPF sends GTP-U, given as the DL NG-U tunnel of
    /// each Setup Response Transfer (TS 38.413 §9.3.4.2).
    pub n3_address: IpAddr,
    /// The UPF's GTP-U port: 2152 (TS 29.281 §4.4.2.3); another value only for a test
    /// UPF.
    pub upf_port: u16,
}

impl GnbConfig {
    /// A gNB in `plmn`, TAC `tac`, with slice SST 1, gNB ID 1 (32 bits).
    pub fn new(plmn: Plmn, tac: u32) -> Self {
        GnbConfig {
            plmn,
            tac,
            slices: vec![SNssai { sst: 1, sd: None }],
            gnb_id: 1,
            gnb_id_bits: 32,
            name: "hexcore-sim".to_string(),
            nr_cell_id: 0x10,
            ue_context_request: true,
            n3_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            upf_port: GTPU_PORT,
        }
    }
}

/// The GTP-U port (TS 29.281 §4.4.2.3).
pub const GTPU_PORT: u16 = 2152;

/// The simulator's handle for a UE (an index it chooses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UeKey(pub usize);

/// An NGAP PDU to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// SCTP stream: 0 for non-UE-associated signalling, 1 for UE-associated.
    pub stream: u16,
    /// The PDU octets.
    pub data: Vec<u8>,
}

/// What happened on the NG interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GnbEvent {
    /// NG Setup Response.
    NgSetupResponse {
        /// AMF name.
        amf_name: String,
        /// Served GUAMIs.
        guamis: Vec<ServedGuami>,
    },
    /// NG Setup Failure.
    NgSetupFailure {
        /// Cause.
        cause: Cause,
    },
    /// A NAS PDU for a UE (Downlink NAS Transport, or inside Initial Context Setup).
    DownlinkNas {
        /// The UE.
        ue: UeKey,
        /// The NAS PDU.
        nas: Vec<u8>,
    },
    /// Initial Context Setup Request, answered with a Response.
    InitialContextSetup {
        /// The UE.
        ue: UeKey,
        /// KgNB.
        security_key: [u8; 32],
    },
    /// UE Context Release Command, answered with Complete; the UE's connection is gone.
    UeContextReleased {
        /// The UE.
        ue: UeKey,
        /// Cause.
        cause: Cause,
    },
    /// Error Indication from the AMF.
    ErrorIndication {
        /// The UE, when the ids named one.
        ue: Option<UeKey>,
        /// Cause.
        cause: Option<Cause>,
    },
    /// NG Reset Acknowledge for our NG Reset.
    NgResetAcknowledged,
    /// The AMF reset the interface (we acknowledged).
    NgResetByAmf,
    /// A UE-associated message about a UE we do not know (answered with Error Indication).
    UnknownUe {
        /// The message.
        message: &'static str,
    },
    /// A message the gNB does not act on, by name.
    Unhandled {
        /// The message.
        message: &'static str,
    },
    /// Octets that are no NGAP PDU (answered with Error Indication).
    Undecodable(String),
    /// A PDU session's N3 tunnel is up (PDU Session Resource Setup, or Initial Context
    /// Setup, answered with this DL TEID), or its UL tunnel changed (Modify).
    PduSessionUp {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
        /// The UPF's N3 endpoint (UL NG-U UP TNL Information, port 2152).
        upf: SocketAddr,
        /// The UPF's TEID for uplink G-PDUs.
        ul_teid: u32,
        /// The gNB's TEID for downlink G-PDUs.
        dl_teid: u32,
        /// The first QoS flow of the session (the default one).
        qfi: u8,
    },
    /// A PDU session's N3 tunnel is gone (Release Command, UE context release, NG Reset).
    PduSessionDown {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
        /// The DL TEID it had.
        dl_teid: u32,
    },
    /// A session of a Setup Request (or Initial Context Setup) was answered with a
    /// Setup Unsuccessful Transfer.
    PduSessionSetupFailed {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
        /// The cause sent.
        cause: Cause,
    },
    /// PDU SESSION RESOURCE RELEASE COMMAND (answered with the Response).
    PduSessionReleaseCommand {
        /// The UE.
        ue: UeKey,
        /// The sessions it named.
        psis: Vec<u8>,
    },
    /// PDU SESSION RESOURCE MODIFY REQUEST for an existing session (answered).
    PduSessionModified {
        /// The UE.
        ue: UeKey,
        /// PDU session ID.
        psi: u8,
    },
    /// PAGING (TS 38.413 §8.5.1).
    Paging {
        /// The UE Paging Identity.
        s_tmsi: FiveGSTmsi,
        /// Whether the TAI List for Paging holds this gNB's TAI.
        our_tai: bool,
    },
}

/// A PDU session with N3 resources on this gNB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GnbSession {
    /// The UPF's N3 endpoint.
    pub upf: SocketAddr,
    /// The UPF's TEID.
    pub ul_teid: u32,
    /// The gNB's TEID.
    pub dl_teid: u32,
    /// The QoS flows, by QFI.
    pub qfis: Vec<u8>,
}

/// Why a gNB call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GnbError {
    /// The UE has no UE-associated logical NG connection.
    #[error("UE {0:?} has no NG connection")]
    NoConnection(UeKey),
    /// The AMF has not yet assigned an AMF UE NGAP ID.
    #[error("UE {0:?} has no AMF UE NGAP ID yet")]
    NoAmfId(UeKey),
    /// Building the PDU failed (a value out of its range).
    #[error("NGAP: {0}")]
    Ngap(String),
}

impl From<hexcore_ngap::Error> for GnbError {
    fn from(e: hexcore_ngap::Error) -> Self {
        GnbError::Ngap(e.to_string())
    }
}

/// The NG interface state (TS 38.413 §8.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NgState {
    /// No NG Setup yet.
    Idle,
    /// NG Setup Request sent.
    SetupSent,
    /// NG Setup Response received.
    Ready,
    /// NG Setup Failure received.
    Failed(Cause),
}

#[derive(Debug, Clone)]
struct Link {
    ue: UeKey,
    amf_id: Option<AmfUeNgapId>,
    sessions: BTreeMap<u8, GnbSession>,
}

/// One gNB.
#[derive(Debug)]
pub struct Gnb {
    config: GnbConfig,
    state: NgState,
    next_ran_id: u32,
    next_teid: u32,
    links: BTreeMap<u32, Link>,
    /// The RAN UE NGAP ID of each UE's connection: a UE has at most one.
    link_of: HashMap<UeKey, u32>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<GnbEvent>,
}

const STREAM_NON_UE: u16 = 0;
const STREAM_UE: u16 = 1;

impl Gnb {
    /// A gNB that has not set up NG yet.
    pub fn new(config: GnbConfig) -> Self {
        Gnb {
            config,
            state: NgState::Idle,
            next_ran_id: 1,
            next_teid: 1,
            links: BTreeMap::new(),
            link_of: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &GnbConfig {
        &self.config
    }

    /// The NG interface state.
    pub fn state(&self) -> &NgState {
        &self.state
    }

    /// The next PDU to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<GnbEvent> {
        self.events.pop_front()
    }

    /// The ids of a UE's connection.
    pub fn ids(&self, ue: UeKey) -> Option<(RanUeNgapId, Option<AmfUeNgapId>)> {
        let ran = *self.link_of.get(&ue)?;
        self.links.get(&ran).map(|l| (RanUeNgapId(ran), l.amf_id))
    }

    /// The PDU sessions with N3 resources of a UE.
    pub fn sessions(&self, ue: UeKey) -> Vec<(u8, GnbSession)> {
        self.link_of
            .get(&ue)
            .and_then(|ran| self.links.get(ran))
            .map(|l| l.sessions.iter().map(|(p, s)| (*p, s.clone())).collect())
            .unwrap_or_default()
    }

    /// Send NG Setup Request (TS 38.413 §8.7.1.2).
    pub fn ng_setup(&mut self) -> Result<(), GnbError> {
        let request = NgSetupRequest {
            global_gnb_id: self.global_id()?,
            ran_node_name: Some(self.config.name.clone()),
            supported_tas: vec![SupportedTa {
                tac: Tac::from_u32(self.config.tac),
                broadcast_plmns: vec![BroadcastPlmn {
                    plmn: self.config.plmn,
                    slices: self.config.slices.clone(),
                }],
            }],
            default_paging_drx: PagingDRX::v128,
        };
        self.queue(STREAM_NON_UE, &request.build()?)?;
        self.state = NgState::SetupSent;
        Ok(())
    }

    /// Send NG Reset for the whole interface (TS 38.413 §8.7.4.2.2); on the
    /// Acknowledge every UE connection is gone.
    pub fn ng_reset(&mut self, cause: Cause) -> Result<Vec<UeKey>, GnbError> {
        let reset = NgReset {
            cause,
            reset_type: ResetType::NgInterface,
        };
        self.queue(STREAM_NON_UE, &reset.build()?)?;
        Ok(self.release_all())
    }

    /// Send a NAS PDU for a UE: an Initial UE Message with a new RAN UE NGAP ID when
    /// `initial` (the UE has no connection), else an Uplink NAS Transport.
    pub fn send_nas(
        &mut self,
        ue: UeKey,
        nas: Vec<u8>,
        initial: bool,
        s_tmsi: Option<FiveGSTmsi>,
    ) -> Result<(), GnbError> {
        self.send_nas_with_cause(ue, nas, initial, s_tmsi, RRCEstablishmentCause::mo_Signalling)
    }

    /// [`Gnb::send_nas`] with the RRC establishment cause of an Initial UE Message
    /// (TS 38.413 §9.3.1.111): `mt_Access` for the answer to paging, `mo_Data` for
    /// uplink data.
    pub fn send_nas_with_cause(
        &mut self,
        ue: UeKey,
        nas: Vec<u8>,
        initial: bool,
        s_tmsi: Option<FiveGSTmsi>,
        cause: RRCEstablishmentCause,
    ) -> Result<(), GnbError> {
        if initial {
            // A new connection: the old one's tunnels are gone with it.
            if let Some(old) = self.link_of.get(&ue).copied() {
                self.drop_link(old);
            }
            let ran = self.next_ran_id;
            self.next_ran_id = self.next_ran_id.wrapping_add(1);
            // A RAN UE NGAP ID still in use after a wrap: that connection is replaced.
            self.drop_link(ran);
            self.link_of.insert(ue, ran);
            self.links.insert(
                ran,
                Link {
                    ue,
                    amf_id: None,
                    sessions: BTreeMap::new(),
                },
            );
            let m = InitialUeMessage {
                ran_ue_ngap_id: RanUeNgapId(ran),
                nas_pdu: nas,
                user_location: self.location()?,
                rrc_establishment_cause: cause,
                five_g_s_tmsi: s_tmsi,
                ue_context_requested: self.config.ue_context_request,
            };
            return self.queue(STREAM_UE, &m.build()?);
        }
        let (ran, amf) = self.ids(ue).ok_or(GnbError::NoConnection(ue))?;
        let amf = amf.ok_or(GnbError::NoAmfId(ue))?;
        let m = UplinkNasTransport {
            amf_ue_ngap_id: amf,
            ran_ue_ngap_id: ran,
            nas_pdu: nas,
            user_location: self.location()?,
        };
        self.queue(STREAM_UE, &m.build()?)
    }

    /// Ask the AMF to release a UE's connection (TS 38.413 §8.3.2), naming the PDU
    /// sessions with active N3 resources (§9.2.2.4).
    pub fn ue_context_release_request(&mut self, ue: UeKey, cause: Cause) -> Result<(), GnbError> {
        let (ran, amf) = self.ids(ue).ok_or(GnbError::NoConnection(ue))?;
        let amf = amf.ok_or(GnbError::NoAmfId(ue))?;
        let pdu_session_ids = self
            .links
            .get(&ran.0)
            .map(|l| l.sessions.keys().copied().collect())
            .unwrap_or_default();
        let m = UeContextReleaseRequest {
            amf_ue_ngap_id: amf,
            ran_ue_ngap_id: ran,
            pdu_session_ids,
            cause,
        };
        self.queue(STREAM_UE, &m.build()?)
    }

    /// Send arbitrary octets (for the malformed-NGAP scenarios).
    pub fn send_raw(&mut self, stream: u16, data: Vec<u8>) {
        self.transmits.push_back(Transmit { stream, data });
    }

    /// Handle one received NGAP PDU.
    pub fn handle(&mut self, octets: &[u8]) {
        let pdu = match NgapPdu::decode(octets) {
            Ok(p) => p,
            Err(e) => {
                self.events.push_back(GnbEvent::Undecodable(e.to_string()));
                let ei = ErrorIndication {
                    amf_ue_ngap_id: None,
                    ran_ue_ngap_id: None,
                    cause: Some(Cause::Protocol(CauseProtocol::TransferSyntaxError)),
                    criticality_diagnostics: None,
                };
                if let Ok(p) = ei.build() {
                    let _ = self.queue(STREAM_NON_UE, &p);
                }
                return;
            }
        };
        if let Err(e) = self.dispatch(&pdu) {
            let ei = ErrorIndication::answering(&pdu, &e);
            if let Ok(p) = ei.build() {
                let _ = self.queue(STREAM_NON_UE, &p);
            }
            self.events
                .push_back(GnbEvent::Undecodable(format!("{}: {e}", pdu.message_name())));
        }
    }

    fn dispatch(&mut self, pdu: &NgapPdu) -> Result<(), hexcore_ngap::Error> {
        use hexcore_ngap::PduKind::*;
        match (pdu.procedure_code(), pdu.kind()) {
            (ProcedureCode::NGSetup, SuccessfulOutcome) => {
                let r = NgSetupResponse::parse(pdu)?;
                self.state = NgState::Ready;
                self.events.push_back(GnbEvent::NgSetupResponse {
                    amf_name: r.amf_name,
                    guamis: r.served_guamis,
                });
            }
            (ProcedureCode::NGSetup, UnsuccessfulOutcome) => {
                let f = NgSetupFailure::parse(pdu)?;
                self.state = NgState::Failed(f.cause);
                self.events.push_back(GnbEvent::NgSetupFailure { cause: f.cause });
            }
            (ProcedureCode::DownlinkNASTransport, InitiatingMessage) => {
                let m = DownlinkNasTransport::parse(pdu)?;
                if let Some(ue) = self.bind(m.ran_ue_ngap_id, m.amf_ue_ngap_id, pdu) {
                    self.events.push_back(GnbEvent::DownlinkNas { ue, nas: m.nas_pdu });
                }
            }
            (ProcedureCode::InitialContextSetup, InitiatingMessage) => {
                let m = InitialContextSetupRequest::parse(pdu)?;
                if let Some(ue) = self.bind(m.ran_ue_ngap_id, m.amf_ue_ngap_id, pdu) {
                    // TS 38.413 §8.3.1.2: the PDU sessions of the request are set up
                    // as by PDU Session Resource Setup, each answered in the Response.
                    let (setup, failed, nas) = self.setup_sessions(m.ran_ue_ngap_id.0, ue, &m.pdu_sessions);
                    let response = InitialContextSetupResponse {
                        amf_ue_ngap_id: m.amf_ue_ngap_id,
                        ran_ue_ngap_id: m.ran_ue_ngap_id,
                        pdu_sessions: setup,
                        failed,
                    };
                    self.queue_ok(STREAM_UE, response.build());
                    self.events.push_back(GnbEvent::InitialContextSetup {
                        ue,
                        security_key: m.security_key,
                    });
                    for nas in m.nas_pdu.into_iter().chain(nas) {
                        self.events.push_back(GnbEvent::DownlinkNas { ue, nas });
                    }
                }
            }
            (ProcedureCode::PDUSessionResourceSetup, InitiatingMessage) => {
                let m = PduSessionResourceSetupRequest::parse(pdu)?;
                if let Some(ue) = self.bind(m.ran_ue_ngap_id, m.amf_ue_ngap_id, pdu) {
                    // TS 38.413 §8.2.1.2.
                    let (setup, failed, nas) = self.setup_sessions(m.ran_ue_ngap_id.0, ue, &m.sessions);
                    let response = PduSessionResourceSetupResponse {
                        amf_ue_ngap_id: m.amf_ue_ngap_id,
                        ran_ue_ngap_id: m.ran_ue_ngap_id,
                        setup,
                        failed,
                    };
                    self.queue_ok(STREAM_UE, response.build());
                    for nas in m.nas_pdu.into_iter().chain(nas) {
                        self.events.push_back(GnbEvent::DownlinkNas { ue, nas });
                    }
                }
            }
            (ProcedureCode::PDUSessionResourceRelease, InitiatingMessage) => {
                let m = PduSessionResourceReleaseCommand::parse(pdu)?;
                if let Some(ue) = self.bind(m.ran_ue_ngap_id, m.amf_ue_ngap_id, pdu) {
                    // TS 38.413 §8.2.2.2: every named session is released (one the gNB
                    // does not have is released already) and listed in the Response
                    // with a Release Response Transfer.
                    let mut released = Vec::new();
                    let mut psis = Vec::new();
                    for item in &m.sessions {
                        self.drop_session(m.ran_ue_ngap_id.0, item.pdu_session_id);
                        psis.push(item.pdu_session_id);
                        match release_response_transfer() {
                            Ok(transfer) => released.push(PduSessionTransferItem {
                                pdu_session_id: item.pdu_session_id,
                                transfer,
                            }),
                            Err(e) => self
                                .events
                                .push_back(GnbEvent::Undecodable(format!("cannot answer: {e}"))),
                        }
                    }
                    let response = PduSessionResourceReleaseResponse {
                        amf_ue_ngap_id: m.amf_ue_ngap_id,
                        ran_ue_ngap_id: m.ran_ue_ngap_id,
                        released,
                    };
                    self.queue_ok(STREAM_UE, response.build());
                    self.events.push_back(GnbEvent::PduSessionReleaseCommand { ue, psis });
                    if let Some(nas) = m.nas_pdu {
                        self.events.push_back(GnbEvent::DownlinkNas { ue, nas });
                    }
                }
            }
            (ProcedureCode::PDUSessionResourceModify, InitiatingMessage) => {
                let m = PduSessionResourceModifyRequest::parse(pdu)?;
                if let Some(ue) = self.bind(m.ran_ue_ngap_id, m.amf_ue_ngap_id, pdu) {
                    let (modified, failed) = self.modify_sessions(m.ran_ue_ngap_id.0, ue, &m.sessions);
                    let response = PduSessionResourceModifyResponse {
                        amf_ue_ngap_id: m.amf_ue_ngap_id,
                        ran_ue_ngap_id: m.ran_ue_ngap_id,
                        modified,
                        failed,
                    };
                    self.queue_ok(STREAM_UE, response.build());
                    for nas in m.sessions.into_iter().filter_map(|s| s.nas_pdu) {
                        self.events.push_back(GnbEvent::DownlinkNas { ue, nas });
                    }
                }
            }
            (ProcedureCode::Paging, InitiatingMessage) => {
                let m = Paging::parse(pdu)?;
                let ours = Tai {
                    plmn: self.config.plmn,
                    tac: Tac::from_u32(self.config.tac),
                };
                self.events.push_back(GnbEvent::Paging {
                    s_tmsi: m.ue_paging_identity,
                    our_tai: m.tais.contains(&ours),
                });
            }
            (ProcedureCode::UEContextModification, InitiatingMessage) => {
                let m = UeContextModificationRequest::parse(pdu)?;
                if self.bind(m.ran_ue_ngap_id, m.amf_ue_ngap_id, pdu).is_some() {
                    let response = UeContextModificationResponse {
                        amf_ue_ngap_id: m.amf_ue_ngap_id,
                        ran_ue_ngap_id: m.ran_ue_ngap_id,
                    };
                    self.queue_ok(STREAM_UE, response.build());
                }
            }
            (ProcedureCode::UEContextRelease, InitiatingMessage) => {
                let m = UeContextReleaseCommand::parse(pdu)?;
                let found = match m.ue_ngap_ids {
                    UeNgapIds::Pair(amf, ran) => self
                        .links
                        .get(&ran.0)
                        .filter(|l| l.amf_id.is_none_or(|a| a == amf))
                        .map(|l| (ran.0, l.ue, amf)),
                    UeNgapIds::Amf(amf) => self
                        .links
                        .iter()
                        .find(|(_, l)| l.amf_id == Some(amf))
                        .map(|(r, l)| (*r, l.ue, amf)),
                };
                match found {
                    Some((ran, ue, amf)) => {
                        // TS 38.413 §8.3.3.2: the UE's resources go, N3 tunnels included;
                        // the Complete lists the sessions that had them (§9.2.2.6).
                        let pdu_session_ids = self.drop_link(ran);
                        let complete = UeContextReleaseComplete {
                            amf_ue_ngap_id: amf,
                            ran_ue_ngap_id: RanUeNgapId(ran),
                            pdu_session_ids,
                        };
                        self.queue_ok(STREAM_UE, complete.build());
                        self.events
                            .push_back(GnbEvent::UeContextReleased { ue, cause: m.cause });
                    }
                    None => self.unknown_ue(pdu),
                }
            }
            (ProcedureCode::ErrorIndication, InitiatingMessage) => {
                let m = ErrorIndication::parse(pdu)?;
                let ue = m.ran_ue_ngap_id.and_then(|r| self.links.get(&r.0)).map(|l| l.ue);
                self.events.push_back(GnbEvent::ErrorIndication { ue, cause: m.cause });
            }
            (ProcedureCode::NGReset, SuccessfulOutcome) => {
                NgResetAcknowledge::parse(pdu)?;
                self.events.push_back(GnbEvent::NgResetAcknowledged);
            }
            (ProcedureCode::NGReset, InitiatingMessage) => {
                let m = NgReset::parse(pdu)?;
                let connections = match m.reset_type {
                    ResetType::NgInterface => {
                        self.release_all();
                        Vec::new()
                    }
                    ResetType::PartOfNgInterface(list) => {
                        for c in &list {
                            let ran = c.ran_ue_ngap_id.map(|r| r.0).or_else(|| {
                                self.links
                                    .iter()
                                    .find(|(_, l)| l.amf_id.is_some() && l.amf_id == c.amf_ue_ngap_id)
                                    .map(|(r, _)| *r)
                            });
                            if let Some(r) = ran
                                && let Some(ue) = self.links.get(&r).map(|l| l.ue)
                            {
                                self.drop_link(r);
                                self.events
                                    .push_back(GnbEvent::UeContextReleased { ue, cause: m.cause });
                            }
                        }
                        list.into_iter()
                            .map(|c| UeAssociatedConnection {
                                amf_ue_ngap_id: c.amf_ue_ngap_id,
                                ran_ue_ngap_id: c.ran_ue_ngap_id,
                            })
                            .collect()
                    }
                };
                self.queue_ok(STREAM_NON_UE, NgResetAcknowledge { connections }.build());
                self.events.push_back(GnbEvent::NgResetByAmf);
            }
            _ => self.events.push_back(GnbEvent::Unhandled {
                message: pdu.message_name(),
            }),
        }
        Ok(())
    }

    /// The UE of a UE-associated message, recording the AMF UE NGAP ID the first
    /// time. A RAN UE NGAP ID we did not allocate, or an AMF UE NGAP ID that differs
    /// from the one already bound, is answered with Error Indication (§10.6).
    fn bind(&mut self, ran: RanUeNgapId, amf: AmfUeNgapId, pdu: &NgapPdu) -> Option<UeKey> {
        match self.links.get_mut(&ran.0) {
            Some(l) if l.amf_id.is_none_or(|a| a == amf) => {
                l.amf_id = Some(amf);
                Some(l.ue)
            }
            Some(_) => {
                let ei = ErrorIndication {
                    amf_ue_ngap_id: Some(amf),
                    ran_ue_ngap_id: Some(ran),
                    cause: Some(Cause::RadioNetwork(CauseRadioNetwork::InconsistentRemoteUeNgapId)),
                    criticality_diagnostics: None,
                };
                self.queue_ok(STREAM_NON_UE, ei.build());
                self.events.push_back(GnbEvent::UnknownUe {
                    message: pdu.message_name(),
                });
                None
            }
            None => {
                self.unknown_ue(pdu);
                None
            }
        }
    }

    fn unknown_ue(&mut self, pdu: &NgapPdu) {
        let ei = ErrorIndication {
            amf_ue_ngap_id: pdu.amf_ue_ngap_id().and_then(AmfUeNgapId::new),
            ran_ue_ngap_id: pdu.ran_ue_ngap_id().map(RanUeNgapId),
            cause: Some(Cause::RadioNetwork(CauseRadioNetwork::UnknownLocalUeNgapId)),
            criticality_diagnostics: None,
        };
        self.queue_ok(STREAM_NON_UE, ei.build());
        self.events.push_back(GnbEvent::UnknownUe {
            message: pdu.message_name(),
        });
    }

    fn release_all(&mut self) -> Vec<UeKey> {
        let ues: Vec<UeKey> = self.links.values().map(|l| l.ue).collect();
        let rans: Vec<u32> = self.links.keys().copied().collect();
        for ran in rans {
            self.drop_link(ran);
        }
        ues
    }

    /// Remove a connection and its tunnels; the PDU session IDs it had.
    fn drop_link(&mut self, ran: u32) -> Vec<u8> {
        let Some(link) = self.links.remove(&ran) else {
            return Vec::new();
        };
        if self.link_of.get(&link.ue) == Some(&ran) {
            self.link_of.remove(&link.ue);
        }
        let psis: Vec<u8> = link.sessions.keys().copied().collect();
        for (psi, s) in link.sessions {
            self.events.push_back(GnbEvent::PduSessionDown {
                ue: link.ue,
                psi,
                dl_teid: s.dl_teid,
            });
        }
        psis
    }

    fn drop_session(&mut self, ran: u32, psi: u8) {
        let Some(link) = self.links.get_mut(&ran) else {
            return;
        };
        let ue = link.ue;
        if let Some(s) = link.sessions.remove(&psi) {
            self.events.push_back(GnbEvent::PduSessionDown {
                ue,
                psi,
                dl_teid: s.dl_teid,
            });
        }
    }

    /// Set up the sessions of a PDU Session Resource Setup Request or an Initial Context
    /// Setup Request (TS 38.413 §8.2.1.2, §8.3.1.2): the Setup Response Transfers, the
    /// Setup Unsuccessful Transfers, and the sessions' NAS PDUs for the UE in order.
    fn setup_sessions(
        &mut self,
        ran: u32,
        ue: UeKey,
        items: &[PduSessionSetupItem],
    ) -> (Vec<PduSessionTransferItem>, Vec<PduSessionTransferItem>, Vec<Vec<u8>>) {
        let mut setup = Vec::new();
        let mut failed = Vec::new();
        let mut nas = Vec::new();
        for item in items {
            let psi = item.pdu_session_id;
            match self.setup_session(ran, ue, psi, &item.transfer) {
                Ok(transfer) => setup.push(PduSessionTransferItem {
                    pdu_session_id: psi,
                    transfer,
                }),
                Err(cause) => {
                    self.events
                        .push_back(GnbEvent::PduSessionSetupFailed { ue, psi, cause });
                    match setup_unsuccessful_transfer(cause) {
                        Ok(transfer) => failed.push(PduSessionTransferItem {
                            pdu_session_id: psi,
                            transfer,
                        }),
                        Err(e) => self
                            .events
                            .push_back(GnbEvent::Undecodable(format!("cannot answer: {e}"))),
                    }
                }
            }
            // §8.2.1.2: the NAS PDU goes to the UE whether or not the resources could
            // be set up (it may be an Establishment Accept the UE must hear anyway).
            if let Some(n) = &item.nas_pdu {
                nas.push(n.clone());
            }
        }
        (setup, failed, nas)
    }

    fn setup_session(&mut self, ran: u32, ue: UeKey, psi: u8, transfer: &[u8]) -> Result<Vec<u8>, Cause> {
        let exists = self.links.get(&ran).is_some_and(|l| l.sessions.contains_key(&psi));
        if exists {
            // §8.2.1.4: a PDU session ID already in use.
            return Err(Cause::RadioNetwork(CauseRadioNetwork::MultiplePduSessionIdInstances));
        }
        let t = PduSessionResourceSetupRequestTransfer::decode(transfer).map_err(|e| e.cause())?;
        let upf_ip = tunnel_ip(&t.ul_tunnel).ok_or(Cause::Protocol(CauseProtocol::SemanticError))?;
        let qfis: Vec<u8> = t.qos_flows.iter().map(|f| f.qfi).collect();
        let qfi = *qfis.first().ok_or(Cause::Protocol(
            CauseProtocol::AbstractSyntaxErrorFalselyConstructedMessage,
        ))?;
        let dl_teid = self.allocate_teid();
        let response = PduSessionResourceSetupResponseTransfer {
            dl_tunnel: GtpTunnel {
                transport_layer_address: ip_octets(self.config.n3_address),
                teid: dl_teid,
            },
            qos_flows: qfis.clone(),
        }
        .encode()
        .map_err(|e| e.cause())?;
        let upf = SocketAddr::new(upf_ip, self.config.upf_port);
        let session = GnbSession {
            upf,
            ul_teid: t.ul_tunnel.teid,
            dl_teid,
            qfis,
        };
        if let Some(link) = self.links.get_mut(&ran) {
            link.sessions.insert(psi, session);
        }
        self.events.push_back(GnbEvent::PduSessionUp {
            ue,
            psi,
            upf,
            ul_teid: t.ul_tunnel.teid,
            dl_teid,
            qfi,
        });
        Ok(response)
    }

    /// PDU Session Resource Modify (TS 38.413 §8.2.3.2): a known session takes a new UL
    /// tunnel if the transfer names one and is answered with a Modify Response
    /// Transfer; an unknown one with a Modify Unsuccessful Transfer.
    fn modify_sessions(
        &mut self,
        ran: u32,
        ue: UeKey,
        items: &[hexcore_ngap::procedures::PduSessionModifyItem],
    ) -> (Vec<PduSessionTransferItem>, Vec<PduSessionTransferItem>) {
        let mut modified = Vec::new();
        let mut failed = Vec::new();
        for item in items {
            let psi = item.pdu_session_id;
            let result = match self.links.get(&ran).and_then(|l| l.sessions.get(&psi)).cloned() {
                None => Err(Cause::RadioNetwork(CauseRadioNetwork::UnknownPduSessionId)),
                Some(mut s) => match modify_ul_tunnel(&item.transfer) {
                    Err(e) => Err(e.cause()),
                    Ok(new_ul) => {
                        if let Some((ip, teid)) = new_ul {
                            s.upf = SocketAddr::new(ip, self.config.upf_port);
                            s.ul_teid = teid;
                            self.events.push_back(GnbEvent::PduSessionUp {
                                ue,
                                psi,
                                upf: s.upf,
                                ul_teid: teid,
                                dl_teid: s.dl_teid,
                                qfi: s.qfis.first().copied().unwrap_or(0),
                            });
                            if let Some(l) = self.links.get_mut(&ran) {
                                l.sessions.insert(psi, s);
                            }
                        }
                        self.events.push_back(GnbEvent::PduSessionModified { ue, psi });
                        modify_response_transfer().map_err(|e| e.cause())
                    }
                },
            };
            match result {
                Ok(transfer) => modified.push(PduSessionTransferItem {
                    pdu_session_id: psi,
                    transfer,
                }),
                Err(cause) => match modify_unsuccessful_transfer(cause) {
                    Ok(transfer) => failed.push(PduSessionTransferItem {
                        pdu_session_id: psi,
                        transfer,
                    }),
                    Err(e) => self
                        .events
                        .push_back(GnbEvent::Undecodable(format!("cannot answer: {e}"))),
                },
            }
        }
        (modified, failed)
    }

    /// A DL TEID not 0 and not in use.
    fn allocate_teid(&mut self) -> u32 {
        loop {
            let t = self.next_teid;
            self.next_teid = self.next_teid.wrapping_add(1).max(1);
            let used = self.links.values().any(|l| l.sessions.values().any(|s| s.dl_teid == t));
            if t != 0 && !used {
                return t;
            }
        }
    }

    fn global_id(&self) -> Result<GlobalGnbId, hexcore_ngap::Error> {
        Ok(GlobalGnbId {
            plmn: self.config.plmn,
            gnb_id: GnbId::new(self.config.gnb_id, self.config.gnb_id_bits)?,
        })
    }

    fn location(&self) -> Result<UserLocationNr, hexcore_ngap::Error> {
        Ok(UserLocationNr {
            nr_cgi: NrCgi {
                plmn: self.config.plmn,
                nr_cell_identity: self.config.nr_cell_id,
            },
            tai: Tai {
                plmn: self.config.plmn,
                tac: Tac::from_u32(self.config.tac),
            },
        })
    }

    fn queue(&mut self, stream: u16, pdu: &NgapPdu) -> Result<(), GnbError> {
        let data = pdu.encode()?;
        self.transmits.push_back(Transmit { stream, data });
        Ok(())
    }

    fn queue_ok(&mut self, stream: u16, pdu: Result<NgapPdu, hexcore_ngap::Error>) {
        match pdu.and_then(|p| p.encode()) {
            Ok(data) => self.transmits.push_back(Transmit { stream, data }),
            Err(e) => self
                .events
                .push_back(GnbEvent::Undecodable(format!("cannot answer: {e}"))),
        }
    }
}

/// The IP address of a GTP tunnel (§9.3.2.4: 4 octets IPv4, 16 IPv6, 20 both, of which
/// the IPv4 one is used).
fn tunnel_ip(t: &GtpTunnel) -> Option<IpAddr> {
    let a = &t.transport_layer_address;
    match a.len() {
        4 | 20 => <[u8; 4]>::try_from(&a[..4]).ok().map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        16 => <[u8; 16]>::try_from(&a[..]).ok().map(|o| IpAddr::V6(Ipv6Addr::from(o))),
        _ => None,
    }
}

fn ip_octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// PDU Session Resource Setup Unsuccessful Transfer (TS 38.413 §9.3.4.16): the cause.
pub fn setup_unsuccessful_transfer(cause: Cause) -> Result<Vec<u8>, hexcore_ngap::Error> {
    let t = codec::PDUSessionResourceSetupUnsuccessfulTransfer::new(cause.to_codec(), None, None);
    Ok(codec::encode_open_type(&t)?.into_vec())
}

/// PDU Session Resource Release Response Transfer (TS 38.413 §9.3.4.21): empty.
pub fn release_response_transfer() -> Result<Vec<u8>, hexcore_ngap::Error> {
    let t = codec::PDUSessionResourceReleaseResponseTransfer::new(None);
    Ok(codec::encode_open_type(&t)?.into_vec())
}

/// PDU Session Resource Modify Response Transfer (TS 38.413 §9.3.4.4): every IE is
/// optional; the simulator changes nothing the SMF must hear of.
pub fn modify_response_transfer() -> Result<Vec<u8>, hexcore_ngap::Error> {
    let t = codec::PDUSessionResourceModifyResponseTransfer::new(None, None, None, None, None, None);
    Ok(codec::encode_open_type(&t)?.into_vec())
}

/// PDU Session Resource Modify Unsuccessful Transfer (TS 38.413 §9.3.4.17): the cause.
pub fn modify_unsuccessful_transfer(cause: Cause) -> Result<Vec<u8>, hexcore_ngap::Error> {
    let t = codec::PDUSessionResourceModifyUnsuccessfulTransfer::new(cause.to_codec(), None, None);
    Ok(codec::encode_open_type(&t)?.into_vec())
}

/// The new UL tunnel of a Modify Request Transfer (TS 38.413 §9.3.4.3, UL NG-U UP TNL
/// Modify List), if it has one.
fn modify_ul_tunnel(octets: &[u8]) -> Result<Option<(IpAddr, u32)>, hexcore_ngap::Error> {
    let t: codec::PDUSessionResourceModifyRequestTransfer = codec::decode_open_type(octets)?;
    hexcore_ngap::codec::extract_ngap_ies!(t, PDUSessionResourceModifyRequestTransfer,
        opt tunnels: codec::ULNGUUPTNLModifyList = UL_NGU_UP_TNLModifyList(v) => v,
    );
    let Some(first) = tunnels.as_ref().and_then(|l| l.0.first()) else {
        return Ok(None);
    };
    let tunnel = GtpTunnel::from_codec(&first.ul_ngu_up_tnl_information)?;
    Ok(tunnel_ip(&tunnel).map(|ip| (ip, tunnel.teid)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // PacketRusher 20250225 as gNB, captured on the wire (oxirush-ngap 0.5.0
    // tests/fixtures/captured.tsv, captured-164): NG Setup Request, PLMN 208-93,
    // "PacketRusher", TAC 1, S-NSSAI 1/010203, paging DRX v128.
    static NG_SETUP_REQUEST_PACKETRUSHER: &str = "0015003a000004001b00080002f839100000080052400e05805061636b65745275736865720066001000000000010002f839000010080102030015400140";
    // Same capture, captured-165: its Initial UE Message, RAN UE NGAP ID 1, NR cell
    // 0x000008000, mo-Signalling, UE context requested, a Registration Request with a
    // null-scheme SUCI (MSIN 0000000001, routing indicator 0000), FOR set, 5G-EA2/IA2.
    static INITIAL_UE_MESSAGE_PACKETRUSHER: &str = "000f404200000500550002000100260018177e004179000d0102f8390000000000000000102e0220200079000f4002f839000008000002f839000001005a4001180070400100";

    fn packetrusher() -> Gnb {
        let request =
            NgSetupRequest::parse(&NgapPdu::decode(&hex::decode(NG_SETUP_REQUEST_PACKETRUSHER).unwrap()).unwrap())
                .unwrap();
        // The Global gNB ID as the capture has it (value and length of the bit string).
        let id = request.global_gnb_id.gnb_id;
        let mut c = GnbConfig::new(Plmn::new("208", "93").unwrap(), 1);
        c.gnb_id = id.value();
        c.gnb_id_bits = id.bits();
        c.name = "PacketRusher".into();
        c.slices = vec![SNssai {
            sst: 1,
            sd: Some([1, 2, 3]),
        }];
        c.nr_cell_id = 0x0_0000_8000;
        Gnb::new(c)
    }

    #[test]
    fn ng_setup_request_is_packetrushers_octets() {
        let mut g = packetrusher();
        g.ng_setup().unwrap();
        let t = g.poll_transmit().unwrap();
        assert_eq!(t.stream, 0);
        assert_eq!(hex::encode(t.data), NG_SETUP_REQUEST_PACKETRUSHER);
        assert_eq!(g.state(), &NgState::SetupSent);
    }

    #[test]
    fn initial_ue_message_is_packetrushers_octets() {
        let mut g = packetrusher();
        let expected = hex::decode(INITIAL_UE_MESSAGE_PACKETRUSHER).unwrap();
        let nas = InitialUeMessage::parse(&NgapPdu::decode(&expected).unwrap())
            .unwrap()
            .nas_pdu;
        g.send_nas(UeKey(0), nas, true, None).unwrap();
        let t = g.poll_transmit().unwrap();
        assert_eq!(t.stream, 1);
        assert_eq!(t.data, expected);
        assert_eq!(g.ids(UeKey(0)), Some((RanUeNgapId(1), None)));
        // No AMF UE NGAP ID yet: an uplink cannot go.
        assert_eq!(
            g.send_nas(UeKey(0), vec![0x7e], false, None),
            Err(GnbError::NoAmfId(UeKey(0)))
        );
    }

    // oxirush-ngap 0.5.0 tests/fixtures/captured.tsv (as in hexcore-ngap's tests):
    // captured-5, free5GC v4.2.3's PDU Session Resource Setup Request for AMF 1 / RAN 0,
    // PDU session 1 with its NAS PDU (0x52 octets), S-NSSAI 1/010203, and a transfer
    // with UL tunnel 127.0.0.8 TEID 2, IPv4, QFI 1 / 5QI 9.
    static FREE5GC_SETUP_REQUEST: &str = "001d0080bb000004000a00020001005500020000004a008099004005527e02004d1fa7031d154befadc2285eae7651d51561b6d0311229991bb69939c8688b4f2d427c3ff25511791ae7164d473c406c657cd53d564975c79c18a26a328a6814d98528a70f04cd8077fe6779fafc7e40200102033d0000050082000a0c3b9aca00303b9aca00008b000a01f07f00000800000002007e400a001f7f0000080000000300860001000088000700010000091c00006e400a0c3b9aca00303b9aca00";
    // captured-172, PacketRusher as gNB: its Setup Response for AMF 1 / RAN 1, session 1,
    // DL tunnel 127.0.0.1 TEID 1, QFI 1.
    static PACKETRUSHER_SETUP_RESPONSE: &str =
        "201d0024000003000a40020001005540020001004b40110000010d0003e07f000001000000010001";
    // captured-174, PacketRusher: Release Response, AMF 1 / RAN 1, session 1, and its
    // Release Response Transfer `00`.
    static PACKETRUSHER_RELEASE_RESPONSE: &str = "201c0018000003000a40020001005540020001004640050000010100";

    /// A gNB with UE 0 on RAN UE NGAP ID 1, and free5GC's Setup Request readdressed to it
    /// (RAN UE NGAP ID 1, PDU session 1 instead of 0 and 5; the transfer as captured).
    fn gnb_with_setup_request() -> (Gnb, Vec<u8>) {
        let mut g = packetrusher();
        g.config.n3_address = IpAddr::V4(Ipv4Addr::LOCALHOST);
        g.send_nas(UeKey(0), vec![0x7e, 0x00, 0x41], true, None).unwrap();
        g.poll_transmit().unwrap();
        let mut req = PduSessionResourceSetupRequest::parse(
            &NgapPdu::decode(&hex::decode(FREE5GC_SETUP_REQUEST).unwrap()).unwrap(),
        )
        .unwrap();
        req.ran_ue_ngap_id = RanUeNgapId(1);
        req.sessions[0].pdu_session_id = 1;
        (g, req.build().unwrap().encode().unwrap())
    }

    #[test]
    fn setup_response_is_packetrushers_octets() {
        let (mut g, request) = gnb_with_setup_request();
        g.handle(&request);
        // TS 38.413 §8.2.1.2: the Response with the DL tunnel (127.0.0.1, first TEID 1)
        // and the QoS flow, byte for byte what PacketRusher answered.
        let t = g.poll_transmit().unwrap();
        assert_eq!(
            (t.stream, hex::encode(&t.data)),
            (1, PACKETRUSHER_SETUP_RESPONSE.to_string())
        );
        let events: Vec<GnbEvent> = std::iter::from_fn(|| g.poll_event()).collect();
        assert_eq!(
            events[0],
            GnbEvent::PduSessionUp {
                ue: UeKey(0),
                psi: 1,
                upf: SocketAddr::from(([127, 0, 0, 8], 2152)),
                ul_teid: 2,
                dl_teid: 1,
                qfi: 1,
            }
        );
        assert!(matches!(&events[1], GnbEvent::DownlinkNas { nas, .. } if nas.len() == 0x52));
        assert_eq!(g.sessions(UeKey(0)).len(), 1);

        // The same session again: Setup Unsuccessful Transfer, multiple PDU session ID
        // instances (§8.2.1.4).
        g.handle(&request);
        let rsp = PduSessionResourceSetupResponse::parse(&NgapPdu::decode(&g.poll_transmit().unwrap().data).unwrap())
            .unwrap();
        assert!(rsp.setup.is_empty());
        let t: codec::PDUSessionResourceSetupUnsuccessfulTransfer =
            codec::decode_open_type(&rsp.failed[0].transfer).unwrap();
        assert_eq!(
            Cause::from_codec(&t.cause),
            Some(Cause::RadioNetwork(CauseRadioNetwork::MultiplePduSessionIdInstances))
        );

        // The UE Context Release Request names the session (§9.2.2.4).
        g.ue_context_release_request(UeKey(0), Cause::RadioNetwork(CauseRadioNetwork::UserInactivity))
            .unwrap();
        let r = UeContextReleaseRequest::parse(&NgapPdu::decode(&g.poll_transmit().unwrap().data).unwrap()).unwrap();
        assert_eq!(r.pdu_session_ids, vec![1]);
    }

    #[test]
    fn release_response_is_packetrushers_octets() {
        let (mut g, request) = gnb_with_setup_request();
        g.handle(&request);
        while g.poll_transmit().is_some() {}
        while g.poll_event().is_some() {}
        let cmd = PduSessionResourceReleaseCommand {
            amf_ue_ngap_id: AmfUeNgapId::new(1).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(1),
            nas_pdu: Some(vec![0x7e, 0x02, 0, 0, 0, 0, 1]),
            sessions: vec![PduSessionTransferItem {
                pdu_session_id: 1,
                transfer: vec![0x10, 0x00],
            }],
        };
        g.handle(&cmd.build().unwrap().encode().unwrap());
        assert_eq!(
            hex::encode(g.poll_transmit().unwrap().data),
            PACKETRUSHER_RELEASE_RESPONSE
        );
        let events: Vec<GnbEvent> = std::iter::from_fn(|| g.poll_event()).collect();
        assert_eq!(
            events,
            vec![
                GnbEvent::PduSessionDown {
                    ue: UeKey(0),
                    psi: 1,
                    dl_teid: 1
                },
                GnbEvent::PduSessionReleaseCommand {
                    ue: UeKey(0),
                    psis: vec![1]
                },
                GnbEvent::DownlinkNas {
                    ue: UeKey(0),
                    nas: vec![0x7e, 0x02, 0, 0, 0, 0, 1]
                },
            ]
        );
        assert!(g.sessions(UeKey(0)).is_empty());
    }

    #[test]
    fn broken_transfer_and_modify() {
        let (mut g, request) = gnb_with_setup_request();
        // The transfer cut short: a transfer syntax error in the unsuccessful transfer.
        let mut req = PduSessionResourceSetupRequest::parse(&NgapPdu::decode(&request).unwrap()).unwrap();
        req.sessions[0].transfer.truncate(10);
        g.handle(&req.build().unwrap().encode().unwrap());
        let rsp = PduSessionResourceSetupResponse::parse(&NgapPdu::decode(&g.poll_transmit().unwrap().data).unwrap())
            .unwrap();
        let t: codec::PDUSessionResourceSetupUnsuccessfulTransfer =
            codec::decode_open_type(&rsp.failed[0].transfer).unwrap();
        assert_eq!(
            Cause::from_codec(&t.cause),
            Some(Cause::Protocol(CauseProtocol::TransferSyntaxError))
        );
        let e = g.poll_event();
        assert!(
            matches!(e, Some(GnbEvent::PduSessionSetupFailed { psi: 1, .. })),
            "{e:?}"
        );
        // The NAS PDU still reaches the UE.
        assert!(matches!(g.poll_event(), Some(GnbEvent::DownlinkNas { .. })));
        // Modify: an unknown session fails (§8.2.3.4), a known one is answered.
        g.handle(&request);
        while g.poll_transmit().is_some() {}
        while g.poll_event().is_some() {}
        let modify = |psi| PduSessionResourceModifyRequest {
            amf_ue_ngap_id: AmfUeNgapId::new(1).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(1),
            sessions: vec![hexcore_ngap::procedures::PduSessionModifyItem {
                pdu_session_id: psi,
                nas_pdu: None,
                // §9.3.4.3 with no IE: an empty protocol IE container.
                transfer: vec![0x00, 0x00, 0x00],
            }],
        };
        g.handle(&modify(1).build().unwrap().encode().unwrap());
        let rsp = PduSessionResourceModifyResponse::parse(&NgapPdu::decode(&g.poll_transmit().unwrap().data).unwrap())
            .unwrap();
        assert_eq!((rsp.modified.len(), rsp.failed.len()), (1, 0));
        g.handle(&modify(9).build().unwrap().encode().unwrap());
        let rsp = PduSessionResourceModifyResponse::parse(&NgapPdu::decode(&g.poll_transmit().unwrap().data).unwrap())
            .unwrap();
        assert_eq!((rsp.modified.len(), rsp.failed.len()), (0, 1));
        // Every truncation of the Setup Request: no panic, something reported.
        for n in 0..request.len() {
            g.handle(&request[..n]);
            assert!(g.poll_event().is_some());
        }
    }

    #[test]
    fn ng_setup_failure_and_broken_input() {
        let mut g = packetrusher();
        g.ng_setup().unwrap();
        // TS 38.413 §9.2.6.3, derived field by field in hexcore-ngap's tests:
        // misc/unknown-PLMN-or-SNPN, Time to Wait v5s.
        g.handle(&hex::decode("4015000d000002000f400188006b400120").unwrap());
        assert_eq!(
            g.poll_event(),
            Some(GnbEvent::NgSetupFailure {
                cause: Cause::Misc(hexcore_ngap::CauseMisc::UnknownPlmnOrSnpn)
            })
        );
        assert!(matches!(g.state(), NgState::Failed(_)));
        // Every truncation of a real PDU: no panic, an event each time.
        let full = hex::decode(INITIAL_UE_MESSAGE_PACKETRUSHER).unwrap();
        for n in 0..full.len() {
            g.handle(&full[..n]);
            assert!(g.poll_event().is_some());
        }
    }
}
