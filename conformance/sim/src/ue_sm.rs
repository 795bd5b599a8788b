//! The UE's 5GSM (TS 24.501 §6): PDU session establishment, UE- and network-requested
//! release, network-requested modification, 5GSM STATUS — sans-IO, under the [`Ue`].
//!
//! [`Sm`] keeps one state per PDU session identity (TS 24.501 §6.1.3.2.1: INACTIVE,
//! ACTIVE PENDING, ACTIVE, INACTIVE PENDING) and allocates the procedure transaction
//! identities of the procedures it starts (TS 24.007 §11.2.3.1a: 1..=254). It takes
//! plain 5GSM messages in ([`Sm::handle`]) and gives 5GSM messages out
//! ([`Sm::poll_transmit`]), each with what its UL NAS TRANSPORT must carry besides
//! (request type, S-NSSAI, DNN: TS 24.501 §8.2.10); the [`Ue`] wraps them in 5GMM and
//! NAS security. What happened goes to the UE's event queue as [`UeEvent`]s.
//!
//! Not done: T3580/T3581/T3582 retransmissions, UE-requested modification, EAP
//! (secondary authentication), IPv6, Ethernet and unstructured sessions.
//!
//! [`Ue`]: crate::Ue

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

use hexcore_nas::ie::{
    ExtendedPco, IntegrityProtectionMaximumDataRate, PcoItem, PduAddressValue, PduSessionType, QosRule, RawValue,
    SessionAmbr, SscMode,
};
use hexcore_nas::sm::*;
use hexcore_nas::{Message, MmCause, SmCause};

use crate::ue::{UeError, UeEvent};

/// PCO protocol/container identifiers (TS 24.008 Table 10.5.154) the UE asks for.
pub mod pco {
    /// IP address allocation via NAS signalling (UE to network, empty).
    pub const IP_ADDRESS_ALLOCATION_VIA_NAS: u16 = 0x000A;
    /// DNS server IPv4 address request (UE to network, empty); in the answer, one
    /// IPv4 address per item.
    pub const DNS_SERVER_IPV4_ADDRESS: u16 = 0x000D;
    /// IPv4 link MTU request (UE to network, empty); in the answer, two octets.
    pub const IPV4_LINK_MTU: u16 = 0x0010;
}

/// What the UE asks for: UERANSIM's items (IP address via NAS, DNS server IPv4) and the
/// IPv4 link MTU, as phones ask for it.
pub const DEFAULT_PCO_REQUESTS: [u16; 3] = [
    pco::IP_ADDRESS_ALLOCATION_VIA_NAS,
    pco::DNS_SERVER_IPV4_ADDRESS,
    pco::IPV4_LINK_MTU,
];

/// A PDU session the UE asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PduSessionRequest {
    /// PDU session identity, 1..=15.
    pub psi: u8,
    /// DNN; `None` lets the network choose the subscribed default.
    pub dnn: Option<String>,
    /// S-NSSAI (SST, SD); `None` lets the network choose.
    pub s_nssai: Option<(u8, Option<u32>)>,
    /// PDU session type (IPv4 is what the simulator's user plane carries).
    pub pdu_session_type: PduSessionType,
}

/// An active PDU session, as the Establishment Accept (and later Modification
/// Commands) described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PduSession {
    /// PDU session identity.
    pub psi: u8,
    /// Selected PDU session type.
    pub pdu_session_type: PduSessionType,
    /// Selected SSC mode.
    pub ssc_mode: SscMode,
    /// DNN: the Accept's, else the requested one.
    pub dnn: Option<String>,
    /// S-NSSAI: the Accept's, else the requested one.
    pub s_nssai: Option<(u8, Option<u32>)>,
    /// The UE's IPv4 address (PDU address IE, TS 24.501 §9.11.4.10).
    pub ipv4: Option<Ipv4Addr>,
    /// QFI of the default QoS rule (the rule with the DQR bit; else the first).
    pub qfi: u8,
    /// Authorized QoS rules.
    pub qos_rules: Vec<QosRule>,
    /// Session-AMBR.
    pub session_ambr: SessionAmbr,
    /// DNS server IPv4 addresses from the extended PCO.
    pub dns: Vec<Ipv4Addr>,
    /// IPv4 link MTU from the extended PCO.
    pub mtu: Option<u16>,
}

impl PduSession {
    /// Session-AMBR downlink and uplink in bit/s, when their units are defined.
    pub fn ambr_bps(&self) -> (Option<u64>, Option<u64>) {
        (self.session_ambr.downlink.bps(), self.session_ambr.uplink.bps())
    }
}

/// The 5GSM state of one PDU session identity (TS 24.501 §6.1.3.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// PDU SESSION ACTIVE PENDING: Establishment Request sent.
    ActivePending {
        /// Its PTI.
        pti: u8,
        /// What was asked.
        request: PduSessionRequest,
    },
    /// PDU SESSION ACTIVE.
    Active(PduSession),
    /// PDU SESSION INACTIVE PENDING: Release Request sent.
    InactivePending {
        /// Its PTI.
        pti: u8,
        /// The session being released.
        session: PduSession,
    },
}

/// A 5GSM message for the network, with the UL NAS TRANSPORT IEs it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmTransmit {
    /// The PDU session ID IE of the UL NAS TRANSPORT.
    pub psi: u8,
    /// The 5GSM message.
    pub message: Message,
    /// For a PDU Session Establishment Request (TS 24.501 §8.2.10, §5.4.5.2.2):
    /// request type "initial request", and the S-NSSAI and DNN asked for.
    pub establishment: Option<EstablishmentIes>,
}

/// The UL NAS TRANSPORT IEs of a PDU Session Establishment Request besides the PSI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstablishmentIes {
    /// S-NSSAI (SST, SD).
    pub s_nssai: Option<(u8, Option<u32>)>,
    /// DNN.
    pub dnn: Option<String>,
}

/// The UE's 5GSM entity.
#[derive(Debug)]
pub struct Sm {
    sessions: BTreeMap<u8, SessionState>,
    next_pti: u8,
    pco_requests: Vec<u16>,
    transmits: VecDeque<SmTransmit>,
    pub(crate) events: VecDeque<UeEvent>,
}

/// PTI for network-requested procedures (TS 24.007 §11.2.3.1a: "no procedure
/// transaction identity assigned").
const NO_PTI: u8 = 0;

impl Sm {
    /// No PDU session; the extended PCO of Establishment Requests asks for
    /// `pco_requests` (each an empty item).
    pub fn new(pco_requests: Vec<u16>) -> Self {
        Sm {
            sessions: BTreeMap::new(),
            next_pti: 1,
            pco_requests,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The state of a PDU session identity (`None`: PDU SESSION INACTIVE).
    pub fn state(&self, psi: u8) -> Option<&SessionState> {
        self.sessions.get(&psi)
    }

    /// An active PDU session (ACTIVE, or INACTIVE PENDING while its release runs).
    pub fn session(&self, psi: u8) -> Option<&PduSession> {
        match self.sessions.get(&psi)? {
            SessionState::Active(s) | SessionState::InactivePending { session: s, .. } => Some(s),
            SessionState::ActivePending { .. } => None,
        }
    }

    /// The PSIs not in PDU SESSION INACTIVE, ascending: what the PDU session status
    /// IE says (TS 24.501 §9.11.3.44).
    pub fn psis(&self) -> Vec<u8> {
        self.sessions.keys().copied().collect()
    }

    /// The next message for the network.
    pub fn poll_transmit(&mut self) -> Option<SmTransmit> {
        self.transmits.pop_front()
    }

    /// Start a UE-requested PDU session establishment (TS 24.501 §6.4.1.2).
    pub fn establish(&mut self, request: PduSessionRequest) -> Result<(), UeError> {
        if !(1..=15).contains(&request.psi) {
            return Err(UeError::BadConfig("PDU session identity must be 1 to 15"));
        }
        if self.sessions.contains_key(&request.psi) {
            return Err(UeError::WrongState {
                procedure: "PDU session establishment",
                needs: "the PDU session identity to be inactive",
            });
        }
        let pti = self.allocate_pti();
        let header = SmHeader {
            pdu_session_id: request.psi,
            pti,
        };
        // §8.3.1: integrity protection maximum data rate is mandatory; full rate both
        // ways (0xFF), as UEs without a limit send it.
        let mut m = PduSessionEstablishmentRequest::new(
            header,
            IntegrityProtectionMaximumDataRate {
                uplink: 0xFF,
                downlink: 0xFF,
            },
        );
        m.pdu_session_type = Some(request.pdu_session_type);
        m.ssc_mode = Some(SscMode::Mode1);
        // §9.11.4.1: 5GSM capability, no reflective QoS, no multi-homed IPv6.
        m.sm_capability = Some(RawValue(vec![0x00]));
        if !self.pco_requests.is_empty() {
            // §9.11.4.6 / TS 24.008 §10.5.6.3: extension bit set, configuration
            // protocol 0 (PPP with IP PDP), then the empty request items.
            m.extended_pco = Some(ExtendedPco {
                header: 0x80,
                items: self
                    .pco_requests
                    .iter()
                    .map(|&id| PcoItem {
                        id,
                        contents: Vec::new(),
                    })
                    .collect(),
            });
        }
        self.transmits.push_back(SmTransmit {
            psi: request.psi,
            message: Message::from(m),
            establishment: Some(EstablishmentIes {
                s_nssai: request.s_nssai,
                dnn: request.dnn.clone(),
            }),
        });
        self.sessions
            .insert(request.psi, SessionState::ActivePending { pti, request });
        Ok(())
    }

    /// Start a UE-requested PDU session release (TS 24.501 §6.4.3.2), cause #36
    /// regular deactivation as UERANSIM sends it.
    pub fn release(&mut self, psi: u8) -> Result<(), UeError> {
        let Some(SessionState::Active(session)) = self.sessions.remove(&psi) else {
            return Err(UeError::WrongState {
                procedure: "PDU session release",
                needs: "an active PDU session",
            });
        };
        let pti = self.allocate_pti();
        let mut m = PduSessionReleaseRequest::new(SmHeader {
            pdu_session_id: psi,
            pti,
        });
        m.cause = Some(SmCause::RegularDeactivation);
        self.queue(psi, Message::from(m));
        self.sessions
            .insert(psi, SessionState::InactivePending { pti, session });
        Ok(())
    }

    /// Release a session locally, without signalling (e.g. the network's PDU session
    /// status says it is gone, TS 24.501 §5.6.1.4.1).
    pub fn local_release(&mut self, psi: u8) {
        if self.sessions.remove(&psi).is_some() {
            self.events.push_back(UeEvent::PduSessionReleased { psi, cause: None });
        }
    }

    /// The network's PDU session status (Service Accept, Registration Accept): every
    /// session it does not list is released locally (TS 24.501 §5.6.1.4.1, §5.5.1.3.4).
    pub fn network_status(&mut self, active: &[u8]) {
        let gone: Vec<u8> = self
            .sessions
            .iter()
            .filter(|(psi, s)| !active.contains(psi) && !matches!(s, SessionState::ActivePending { .. }))
            .map(|(psi, _)| *psi)
            .collect();
        for psi in gone {
            self.local_release(psi);
        }
    }

    /// A DL NAS TRANSPORT gave back a 5GSM message with a 5GMM cause (TS 24.501
    /// §5.4.5.3.3): the AMF did not forward it. An establishment it carried is over.
    pub fn not_forwarded(&mut self, psi: Option<u8>, cause: MmCause, payload: &[u8]) {
        // The PSI IE names the session; else the returned message's header.
        let psi = psi.or_else(|| payload.get(1).copied()).unwrap_or(0);
        let returned = Message::decode(payload).ok();
        match (self.sessions.get(&psi), &returned) {
            (Some(SessionState::ActivePending { .. }), _) => {
                self.sessions.remove(&psi);
            }
            (Some(SessionState::InactivePending { .. }), Some(Message::PduSessionReleaseRequest(_))) => {
                // §6.4.3.5: the release could not reach the SMF; release locally.
                self.sessions.remove(&psi);
            }
            _ => {}
        }
        self.events.push_back(UeEvent::PayloadNotForwarded { psi, cause });
    }

    /// A 5GSM payload that did not decode: 5GSM STATUS with the cause of the error
    /// (TS 24.501 §7.3, §7.4), named by the octets' PSI and PTI when present.
    pub fn undecodable(&mut self, payload: &[u8], cause: SmCause) {
        let psi = payload.get(1).copied().unwrap_or(0);
        let pti = payload.get(2).copied().unwrap_or(0);
        self.events.push_back(UeEvent::SmStatusSent { psi, cause });
        self.status(psi, pti, cause);
    }

    /// Handle a plain 5GSM message from the network.
    pub fn handle(&mut self, m: Message) {
        let Some(header) = m.sm_header() else {
            return;
        };
        let psi = header.pdu_session_id;
        let pti = header.pti;
        match m {
            Message::PduSessionEstablishmentAccept(a) => match self.sessions.get(&psi) {
                Some(SessionState::ActivePending { pti: ours, request }) if *ours == pti => {
                    let session = accepted(request, &a);
                    self.events.push_back(UeEvent::PduSessionEstablished {
                        psi,
                        ipv4: session.ipv4,
                        qfi: session.qfi,
                        dnn: session.dnn.clone(),
                    });
                    self.sessions.insert(psi, SessionState::Active(session));
                }
                // §7.3.1: an answer to a transaction the UE did not start.
                _ => self.mismatch(psi, pti),
            },
            Message::PduSessionEstablishmentReject(r) => match self.sessions.get(&psi) {
                Some(SessionState::ActivePending { pti: ours, .. }) if *ours == pti => {
                    self.sessions.remove(&psi);
                    self.events
                        .push_back(UeEvent::PduSessionRejected { psi, cause: r.cause });
                }
                _ => self.mismatch(psi, pti),
            },
            Message::PduSessionReleaseCommand(c) => {
                // §6.3.3.3: UE-requested (our PTI) or network-requested (PTI 0); either
                // way the session ends and Release Complete answers with the same PTI.
                // §6.3.3.5 b: for a session the UE does not have, the same answer.
                let ours = match self.sessions.get(&psi) {
                    Some(SessionState::InactivePending { pti: p, .. }) => *p == pti,
                    _ => pti == NO_PTI,
                };
                if !ours && pti != NO_PTI {
                    return self.mismatch(psi, pti);
                }
                let had = self.sessions.remove(&psi).is_some();
                let complete = PduSessionReleaseComplete::new(SmHeader {
                    pdu_session_id: psi,
                    pti,
                });
                self.queue(psi, Message::from(complete));
                if had {
                    self.events.push_back(UeEvent::PduSessionReleased {
                        psi,
                        cause: Some(c.cause),
                    });
                }
            }
            Message::PduSessionReleaseReject(r) => match self.sessions.remove(&psi) {
                Some(SessionState::InactivePending { pti: ours, session }) if ours == pti => {
                    self.sessions.insert(psi, SessionState::Active(session));
                    self.events
                        .push_back(UeEvent::PduSessionReleaseRejected { psi, cause: r.cause });
                }
                other => {
                    if let Some(s) = other {
                        self.sessions.insert(psi, s);
                    }
                    self.mismatch(psi, pti);
                }
            },
            Message::PduSessionModificationCommand(c) => match self.sessions.get_mut(&psi) {
                Some(SessionState::Active(session)) => {
                    modify(session, &c);
                    let done = PduSessionModificationComplete::new(SmHeader {
                        pdu_session_id: psi,
                        pti,
                    });
                    self.queue(psi, Message::from(done));
                    self.events.push_back(UeEvent::PduSessionModified { psi });
                }
                // §6.3.2.5 / §7.3.2: no such session: the command is rejected with #43.
                _ => {
                    let reject = PduSessionModificationCommandReject::new(
                        SmHeader {
                            pdu_session_id: psi,
                            pti,
                        },
                        SmCause::InvalidPduSessionIdentity,
                    );
                    self.queue(psi, Message::from(reject));
                }
            },
            Message::SmStatus(s) => {
                // §6.5.3: #47 PTI mismatch or #81 invalid PTI end the transaction.
                if matches!(s.cause, SmCause::PtiMismatch | SmCause::InvalidPtiValue)
                    && matches!(self.sessions.get(&psi), Some(SessionState::ActivePending { pti: p, .. }) if *p == pti)
                {
                    self.sessions.remove(&psi);
                }
                self.events.push_back(UeEvent::SmStatusReceived { psi, cause: s.cause });
            }
            Message::PduSessionAuthenticationCommand(_) => {
                // Secondary authentication (EAP) is not simulated.
                self.events.push_back(UeEvent::SmStatusSent {
                    psi,
                    cause: SmCause::MessageTypeNonExistentOrNotImplemented,
                });
                self.status(psi, pti, SmCause::MessageTypeNonExistentOrNotImplemented);
            }
            other => {
                // A UE-to-network message, or one the UE does not expect (§7.4).
                let cause = SmCause::MessageTypeNotCompatibleWithTheProtocolState;
                self.events
                    .push_back(UeEvent::Discarded(format!("5GSM {}", other.name())));
                self.status(psi, pti, cause);
            }
        }
    }

    fn mismatch(&mut self, psi: u8, pti: u8) {
        let cause = if pti == NO_PTI || pti == 0xFF {
            SmCause::InvalidPtiValue
        } else {
            SmCause::PtiMismatch
        };
        self.events.push_back(UeEvent::SmStatusSent { psi, cause });
        self.status(psi, pti, cause);
    }

    fn status(&mut self, psi: u8, pti: u8, cause: SmCause) {
        let s = SmStatus::new(
            SmHeader {
                pdu_session_id: psi,
                pti,
            },
            cause,
        );
        self.queue(psi, Message::from(s));
    }

    fn queue(&mut self, psi: u8, message: Message) {
        self.transmits.push_back(SmTransmit {
            psi,
            message,
            establishment: None,
        });
    }

    /// 1..=254, skipping those of running transactions.
    fn allocate_pti(&mut self) -> u8 {
        let busy = |p: u8, s: &BTreeMap<u8, SessionState>| {
            s.values().any(|st| {
                matches!(st, SessionState::ActivePending { pti, .. } | SessionState::InactivePending { pti, .. } if *pti == p)
            })
        };
        for _ in 0..254 {
            let p = self.next_pti;
            self.next_pti = if p >= 254 { 1 } else { p + 1 };
            if !busy(p, &self.sessions) {
                return p;
            }
        }
        self.next_pti
    }
}

/// The session an Establishment Accept describes (TS 24.501 §8.3.2, §6.4.1.3).
fn accepted(request: &PduSessionRequest, a: &PduSessionEstablishmentAccept) -> PduSession {
    let ipv4 = match a.pdu_address.as_ref().map(|p| &p.value) {
        Some(PduAddressValue::Ipv4(v4)) | Some(PduAddressValue::Ipv4v6 { ipv4: v4, .. }) => Some(*v4),
        _ => None,
    };
    let rules = a.authorized_qos_rules.0.clone();
    let (dns, mtu) = pco_answers(a.extended_pco.as_ref());
    PduSession {
        psi: request.psi,
        pdu_session_type: a.selected_pdu_session_type,
        ssc_mode: a.selected_ssc_mode,
        dnn: a.dnn.as_ref().map(|d| d.name()).or_else(|| request.dnn.clone()),
        s_nssai: a.s_nssai.as_ref().map(|s| (s.sst, s.sd)).or(request.s_nssai),
        ipv4,
        qfi: default_qfi(&rules),
        qos_rules: rules,
        session_ambr: a.session_ambr,
        dns,
        mtu,
    }
}

/// §9.11.4.13: the rule with the DQR bit is the default QoS rule.
fn default_qfi(rules: &[QosRule]) -> u8 {
    rules
        .iter()
        .find(|r| r.default_rule)
        .or_else(|| rules.first())
        .map(|r| r.qfi)
        .unwrap_or(0)
}

/// DNS servers and link MTU from an extended PCO (TS 24.008 §10.5.6.3).
fn pco_answers(pco: Option<&ExtendedPco>) -> (Vec<Ipv4Addr>, Option<u16>) {
    let Some(pco) = pco else {
        return (Vec::new(), None);
    };
    let dns = pco
        .items
        .iter()
        .filter(|i| i.id == pco::DNS_SERVER_IPV4_ADDRESS)
        .filter_map(|i| <[u8; 4]>::try_from(i.contents.as_slice()).ok().map(Ipv4Addr::from))
        .collect();
    let mtu = pco
        .item(pco::IPV4_LINK_MTU)
        .and_then(|i| <[u8; 2]>::try_from(i.contents.as_slice()).ok())
        .map(u16::from_be_bytes);
    (dns, mtu)
}

/// Apply a Modification Command (TS 24.501 §6.3.2.3): a new Session-AMBR, QoS rules
/// by operation code (§9.11.4.13: 1 create, 2 delete, 3..6 modify), extended PCO.
fn modify(session: &mut PduSession, c: &PduSessionModificationCommand) {
    if let Some(ambr) = c.session_ambr {
        session.session_ambr = ambr;
    }
    if let Some(rules) = &c.authorized_qos_rules {
        for r in &rules.0 {
            session.qos_rules.retain(|x| x.id != r.id);
            if r.operation != 2 {
                session.qos_rules.push(r.clone());
            }
        }
        session.qfi = default_qfi(&session.qos_rules);
    }
    let (dns, mtu) = pco_answers(c.extended_pco.as_ref());
    if !dns.is_empty() {
        session.dns = dns;
    }
    if mtu.is_some() {
        session.mtu = mtu;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // UERANSIM v3.2.8's PDU Session Establishment Request (TS 24.501 §8.3.1), as its
    // UL NAS TRANSPORT carried it in a public interop write-up (QCore's UERANSIM
    // compatibility notes) and a public AFLNet-style Open5GS harness: PSI 1, PTI 1,
    // integrity protection maximum data rate FF FF, PDU session type IPv4 (91), SSC
    // mode 1 (A1), 5GSM capability 00 (28 01 00), extended PCO 7B 00 07: header 80,
    // IP address allocation via NAS (000A, empty), DNS server IPv4 (000D, empty).
    pub(crate) static UERANSIM_EST_REQ: &str = "2e0101c1ffff91a12801007b000780000a00000d00";
    // Its answer from Open5GS in the same harness (phase 5), the 5GSM message of the
    // DL NAS TRANSPORT: Accept, PSI 1 PTI 1, IPv4 + SSC 1, one QoS rule (id 1,
    // create, DQR, match-all, precedence FF, QFI 1), Session-AMBR 1 Gbps both ways
    // (unit 3 = 16 kbps × F424), PDU address 10.45.0.2, S-NSSAI SST 1, QoS flow QFI
    // 1 5QI 9, extended PCO DNS 8.8.8.8 and 8.8.4.4, DNN "internet".
    pub(crate) static OPEN5GS_EST_ACCEPT: &str = "2e0101c211000901000631310101ff010603f42403f4242905010a2d00022201017900060120410101097b000f80000d0408080808000d0408080404250908696e7465726e6574";

    fn request(psi: u8) -> PduSessionRequest {
        PduSessionRequest {
            psi,
            dnn: Some("internet".into()),
            s_nssai: Some((1, None)),
            pdu_session_type: PduSessionType::Ipv4,
        }
    }

    fn ueransim_sm() -> Sm {
        Sm::new(vec![pco::IP_ADDRESS_ALLOCATION_VIA_NAS, pco::DNS_SERVER_IPV4_ADDRESS])
    }

    #[test]
    fn establishment_request_is_ueransims_octets() {
        let mut sm = ueransim_sm();
        sm.establish(request(1)).unwrap();
        let t = sm.poll_transmit().unwrap();
        assert_eq!(hex::encode(t.message.encode()), UERANSIM_EST_REQ);
        assert_eq!(
            t.establishment,
            Some(EstablishmentIes {
                s_nssai: Some((1, None)),
                dnn: Some("internet".into())
            })
        );
        // The default UE also asks for the IPv4 link MTU (000A, 000D, 0010).
        let mut sm = Sm::new(DEFAULT_PCO_REQUESTS.to_vec());
        sm.establish(request(1)).unwrap();
        let octets = sm.poll_transmit().unwrap().message.encode();
        assert!(hex::encode(octets).ends_with("7b000a80000a00000d00001000"));
        // The same PSI twice, or PSI 0/16: refused.
        assert!(sm.establish(request(1)).is_err());
        assert!(sm.establish(request(0)).is_err());
        assert!(sm.establish(request(16)).is_err());
    }

    #[test]
    fn open5gs_accept_gives_the_session() {
        let mut sm = ueransim_sm();
        sm.establish(request(1)).unwrap();
        sm.poll_transmit();
        sm.handle(Message::decode(&hex::decode(OPEN5GS_EST_ACCEPT).unwrap()).unwrap());
        assert_eq!(
            sm.events.pop_front(),
            Some(UeEvent::PduSessionEstablished {
                psi: 1,
                ipv4: Some(Ipv4Addr::new(10, 45, 0, 2)),
                qfi: 1,
                dnn: Some("internet".into()),
            })
        );
        let s = sm.session(1).unwrap();
        assert_eq!(s.dns, vec![Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(8, 8, 4, 4)]);
        assert_eq!(s.mtu, None);
        assert_eq!(s.ambr_bps(), (Some(1_000_000_000), Some(1_000_000_000)));
        assert_eq!(s.s_nssai, Some((1, None)));
        assert_eq!(sm.psis(), vec![1]);
        assert!(sm.poll_transmit().is_none());
    }

    #[test]
    fn accept_for_another_transaction_draws_status() {
        let mut sm = ueransim_sm();
        sm.establish(request(1)).unwrap();
        sm.poll_transmit();
        // The same Accept with PTI 2: 5GSM STATUS #47 PTI mismatch (§7.3.1).
        let mut octets = hex::decode(OPEN5GS_EST_ACCEPT).unwrap();
        octets[2] = 2;
        sm.handle(Message::decode(&octets).unwrap());
        assert_eq!(
            sm.events.pop_front(),
            Some(UeEvent::SmStatusSent {
                psi: 1,
                cause: SmCause::PtiMismatch
            })
        );
        // §8.3.16: 2E 01 02 D6 2F.
        assert_eq!(
            sm.poll_transmit().unwrap().message.encode(),
            [0x2e, 0x01, 0x02, 0xd6, 0x2f]
        );
        assert!(matches!(sm.state(1), Some(SessionState::ActivePending { .. })));
    }

    #[test]
    fn reject_release_and_modification() {
        let mut sm = ueransim_sm();
        sm.establish(request(5)).unwrap();
        sm.poll_transmit();
        // §8.3.3: #27 missing or unknown DNN (the nas crate's EST_REJECT with PTI 1).
        sm.handle(Message::decode(&[0x2e, 0x05, 0x01, 0xc3, 0x1b]).unwrap());
        assert_eq!(
            sm.events.pop_front(),
            Some(UeEvent::PduSessionRejected {
                psi: 5,
                cause: SmCause::MissingOrUnknownDnn
            })
        );
        assert_eq!(sm.state(5), None);

        sm.establish(request(1)).unwrap();
        sm.poll_transmit();
        let mut accept = hex::decode(OPEN5GS_EST_ACCEPT).unwrap();
        accept[2] = 2;
        sm.handle(Message::decode(&accept).unwrap());
        sm.events.clear();
        // Network-requested modification (PTI 0): new AMBR, Modification Complete.
        sm.handle(Message::decode(&[0x2e, 0x01, 0x00, 0xcb, 0x2a, 0x06, 0x06, 0x00, 0x64, 0x06, 0x00, 0x32]).unwrap());
        assert_eq!(sm.events.pop_front(), Some(UeEvent::PduSessionModified { psi: 1 }));
        assert_eq!(sm.poll_transmit().unwrap().message.encode(), [0x2e, 0x01, 0x00, 0xcc]);
        assert_eq!(sm.session(1).unwrap().ambr_bps(), (Some(100_000_000), Some(50_000_000)));

        // UE-requested release: Release Request with #36 (UERANSIM's 2E 01 PTI D1 59 24).
        sm.release(1).unwrap();
        let t = sm.poll_transmit().unwrap();
        assert_eq!(t.message.encode(), [0x2e, 0x01, 0x03, 0xd1, 0x59, 0x24]);
        assert_eq!(t.establishment, None);
        // The command with our PTI, cause #36: Release Complete with that PTI.
        sm.handle(Message::decode(&[0x2e, 0x01, 0x03, 0xd3, 0x24]).unwrap());
        assert_eq!(
            sm.events.pop_front(),
            Some(UeEvent::PduSessionReleased {
                psi: 1,
                cause: Some(SmCause::RegularDeactivation)
            })
        );
        assert_eq!(sm.poll_transmit().unwrap().message.encode(), [0x2e, 0x01, 0x03, 0xd4]);
        assert!(sm.psis().is_empty());
        // A network-requested release of a session the UE does not have (srsRAN's
        // Open5GS capture, PTI 0xB3): a PTI not ours and not 0 is a mismatch.
        sm.handle(Message::decode(&[0x2e, 0x01, 0xb3, 0xd3, 0x24]).unwrap());
        assert!(matches!(sm.events.pop_front(), Some(UeEvent::SmStatusSent { .. })));
        sm.poll_transmit();
        // With PTI 0: Release Complete, no event (nothing was active).
        sm.handle(Message::decode(&[0x2e, 0x07, 0x00, 0xd3, 0x24]).unwrap());
        assert_eq!(sm.poll_transmit().unwrap().message.encode(), [0x2e, 0x07, 0x00, 0xd4]);
        assert!(sm.events.is_empty());
    }

    #[test]
    fn payload_not_forwarded_and_broken_input() {
        let mut sm = ueransim_sm();
        sm.establish(request(1)).unwrap();
        let t = sm.poll_transmit().unwrap();
        sm.not_forwarded(Some(1), MmCause::PayloadWasNotForwarded, &t.message.encode());
        assert_eq!(
            sm.events.pop_front(),
            Some(UeEvent::PayloadNotForwarded {
                psi: 1,
                cause: MmCause::PayloadWasNotForwarded
            })
        );
        assert_eq!(sm.state(1), None);
        // Every truncation of the Accept: decoded or answered, never a panic.
        sm.establish(request(1)).unwrap();
        let accept = hex::decode(OPEN5GS_EST_ACCEPT).unwrap();
        for n in 0..accept.len() {
            match Message::decode(&accept[..n]) {
                Ok(m) => sm.handle(m),
                Err(e) => sm.undecodable(&accept[..n], e.sm_cause()),
            }
        }
        assert!(sm.poll_transmit().is_some());
    }
}
