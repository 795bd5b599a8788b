//! A sans-IO gNB: the NGAP side of one NG-RAN node towards one AMF (TS 38.413).
//!
//! It holds the NG interface state and one UE-associated logical NG connection per
//! UE (RAN UE NGAP ID ⇄ AMF UE NGAP ID), and answers what a real gNB answers on its
//! own: Initial Context Setup Response, UE Context Release Complete, UE Context
//! Modification Response, NG Reset Acknowledge, Error Indication for a message about
//! a UE it does not know (TS 38.413 §10.6). Everything it receives is also reported
//! as a [`GnbEvent`] for the simulator and the scenarios.
//!
//! No I/O: [`Gnb::handle`] takes the octets of one NGAP PDU (one SCTP message, PPID
//! 60); [`Gnb::poll_transmit`] gives the PDUs to send with their SCTP stream.

use std::collections::{BTreeMap, VecDeque};

use hexcore_ngap::procedures::{
    BroadcastPlmn, DownlinkNasTransport, ErrorIndication, InitialContextSetupRequest, InitialContextSetupResponse,
    InitialUeMessage, NgReset, NgResetAcknowledge, NgSetupFailure, NgSetupRequest, NgSetupResponse, PagingDRX,
    RRCEstablishmentCause, ResetType, ServedGuami, SupportedTa, UeAssociatedConnection, UeContextModificationRequest,
    UeContextModificationResponse, UeContextReleaseCommand, UeContextReleaseComplete, UeContextReleaseRequest,
    UeNgapIds, UplinkNasTransport, UserLocationNr,
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
        }
    }
}

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

#[derive(Debug, Clone, Copy)]
struct Link {
    ue: UeKey,
    amf_id: Option<AmfUeNgapId>,
}

/// One gNB.
#[derive(Debug)]
pub struct Gnb {
    config: GnbConfig,
    state: NgState,
    next_ran_id: u32,
    links: BTreeMap<u32, Link>,
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
            links: BTreeMap::new(),
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
        self.links
            .iter()
            .find(|(_, l)| l.ue == ue)
            .map(|(ran, l)| (RanUeNgapId(*ran), l.amf_id))
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
        if initial {
            self.links.retain(|_, l| l.ue != ue);
            let ran = self.next_ran_id;
            self.next_ran_id = self.next_ran_id.wrapping_add(1);
            self.links.insert(ran, Link { ue, amf_id: None });
            let m = InitialUeMessage {
                ran_ue_ngap_id: RanUeNgapId(ran),
                nas_pdu: nas,
                user_location: self.location()?,
                rrc_establishment_cause: RRCEstablishmentCause::mo_Signalling,
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

    /// Ask the AMF to release a UE's connection (TS 38.413 §8.3.2).
    pub fn ue_context_release_request(&mut self, ue: UeKey, cause: Cause) -> Result<(), GnbError> {
        let (ran, amf) = self.ids(ue).ok_or(GnbError::NoConnection(ue))?;
        let amf = amf.ok_or(GnbError::NoAmfId(ue))?;
        let m = UeContextReleaseRequest {
            amf_ue_ngap_id: amf,
            ran_ue_ngap_id: ran,
            pdu_session_ids: Vec::new(),
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
                    // TS 38.413 §8.3.1.2: no PDU sessions asked, none to set up.
                    let response = InitialContextSetupResponse {
                        amf_ue_ngap_id: m.amf_ue_ngap_id,
                        ran_ue_ngap_id: m.ran_ue_ngap_id,
                        pdu_sessions: Vec::new(),
                        failed: Vec::new(),
                    };
                    self.queue_ok(STREAM_UE, response.build());
                    self.events.push_back(GnbEvent::InitialContextSetup {
                        ue,
                        security_key: m.security_key,
                    });
                    if let Some(nas) = m.nas_pdu {
                        self.events.push_back(GnbEvent::DownlinkNas { ue, nas });
                    }
                }
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
                        self.links.remove(&ran);
                        let complete = UeContextReleaseComplete {
                            amf_ue_ngap_id: amf,
                            ran_ue_ngap_id: RanUeNgapId(ran),
                            pdu_session_ids: Vec::new(),
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
                            if let Some(l) = ran.and_then(|r| self.links.remove(&r)) {
                                self.events.push_back(GnbEvent::UeContextReleased {
                                    ue: l.ue,
                                    cause: m.cause,
                                });
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
        self.links.clear();
        ues
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
