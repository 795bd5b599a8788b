//! A minimal AMF+AUSF+UDM with an SMF and a UPF, written in the test from TS 33.501 /
//! TS 24.501 / TS 38.413 / TS 23.502 / TS 29.281, to drive the simulator in memory:
//! NG Setup, 5G AKA (with resynchronisation), security mode control, Initial Context
//! Setup with the Registration Accept, deregistration and release; PDU sessions
//! (Establishment Accept with QoS rules, PDU address and extended PCO inside a PDU
//! Session Resource Setup whose transfer points the UL tunnel at the emulated UPF;
//! Reject #27 for an unknown DNN; the payload returned with 5GMM #90 for a slice outside
//! the allowed NSSAI; UE- and network-requested release), user plane deactivation on
//! release, paging for downlink data and re-activation in the Initial Context Setup of
//! the Service Request. It checks what it receives as strictly as a core would (RES*,
//! NAS MACs, the container in Security Mode Complete and in Service Request).

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use hexcore_nas::ie::*;
use hexcore_nas::mm::*;
use hexcore_nas::sm::*;
use hexcore_nas::{Message, MmCause, MmHeader, NasPdu, SecurityHeaderType, SecurityProtected, SmCause};
use hexcore_ngap::codec::ngap as codec;
use hexcore_ngap::procedures::*;
use hexcore_ngap::{
    AmfUeNgapId, Cause, CauseMisc, CauseNas, Guami, NgapPdu, PduKind, Plmn, ProcedureCode, RanUeNgapId, SNssai,
};
use hexcore_security::keys::{self, ServingNetworkName};
use hexcore_security::sqn;
use hexcore_security::suci::HomeNetworkKey;
use hexcore_security::{Milenage, NasConnection, NasSecurityContext, Nea, Nia, Role};

/// TS 33.501 Annex C.4.3.1: the Profile A home network private key.
pub const PROFILE_A_PRIVATE: &str = "c53c22208b61860b06c62e5406a7b330c2b577aa5558981510d128247d38bd1d";
/// Its public key.
pub const PROFILE_A_PUBLIC: &str = "5a8d38864820197c3394b92613b20b91633cbd897119273bf8e4a6f4eec0a650";
/// TS 33.501 Annex C.4.4.1: the Profile B home network private key.
pub const PROFILE_B_PRIVATE: &str = "f1ab1074477ebcc7f554ea1c5fc368b1616730155e0041ac447d6301975fecda";
/// Its public key, compressed.
pub const PROFILE_B_PUBLIC: &str = "0272da71976234ce833a6907425867b82e074d44ef907dfb4b3e21c1c2256ebcd1";

pub struct Subscriber {
    pub k: [u8; 16],
    pub opc: [u8; 16],
    pub sqn: u64,
}

#[derive(Default)]
struct UeCtx {
    ran: u32,
    supi: String,
    rand: [u8; 16],
    xres_star: [u8; 16],
    kamf: [u8; 32],
    capability: Option<UeSecurityCapability>,
    /// The Registration Request carried only cleartext IEs (TS 24.501 §4.4.6).
    cleartext_only: bool,
    sec: Option<NasSecurityContext>,
    pub registered: bool,
    /// CM-CONNECTED: an NG connection is up.
    connected: bool,
    /// The SMF's PDU sessions, by PSI.
    sessions: BTreeMap<u8, SmCtx>,
    /// Sessions paged for downlink data.
    paged: Vec<u8>,
}

/// One PDU session of the emulated SMF.
#[derive(Debug, Clone)]
pub struct SmCtx {
    pub ipv4: Ipv4Addr,
    pub ul_teid: u32,
}

/// One session at the emulated UPF.
#[derive(Debug, Clone)]
pub struct UpfSession {
    pub ue_ip: Ipv4Addr,
    /// The gNB's DL tunnel while the user plane is active.
    pub dl: Option<(Ipv4Addr, u32)>,
}

/// The emulated UPF (TS 29.281 on N3), shared by every emulated AMF of a test and its
/// UDP task: it decapsulates uplink G-PDUs, answers ICMP echo requests (the request
/// turned into a reply: addresses swapped, type 0, checksum recomputed) as a downlink
/// G-PDU, buffers downlink for a session without DL tunnel, and answers a G-PDU for an
/// unknown TEID with Error Indication.
#[derive(Debug)]
pub struct Upf {
    /// Its N3 address: the UL tunnel of Setup Request Transfers.
    pub address: Ipv4Addr,
    /// The gNB's N3 port (the suite's `n3_port`).
    pub gnb_port: u16,
    /// By UL TEID.
    pub sessions: HashMap<u32, UpfSession>,
    /// Downlink waiting for a UE's user plane, by UE address.
    pub buffered: HashMap<Ipv4Addr, Vec<Vec<u8>>>,
    /// Datagrams to send.
    pub out: Vec<(SocketAddr, Vec<u8>)>,
    /// Inner packets of the uplink G-PDUs, in order.
    pub uplink: Vec<Vec<u8>>,
    /// Error Indications sent.
    pub error_indications: usize,
    next_teid: u32,
    next_host: u32,
}

impl Upf {
    pub fn new() -> Self {
        Upf {
            address: Ipv4Addr::LOCALHOST,
            gnb_port: 2152,
            sessions: HashMap::new(),
            buffered: HashMap::new(),
            out: Vec::new(),
            uplink: Vec::new(),
            error_indications: 0,
            next_teid: 0x100,
            next_host: 2,
        }
    }

    /// A UE address in 10.45.0.0/16 and a UL TEID.
    fn allocate(&mut self) -> (Ipv4Addr, u32) {
        let h = self.next_host;
        self.next_host += 1;
        self.next_teid += 1;
        (Ipv4Addr::new(10, 45, (h >> 8) as u8, h as u8), self.next_teid)
    }

    /// The gNB's DL tunnel of a session (or none: user plane deactivated); what waited
    /// goes now.
    pub fn set_dl(&mut self, ul_teid: u32, dl: Option<(Ipv4Addr, u32)>) {
        let Some(s) = self.sessions.get_mut(&ul_teid) else {
            return;
        };
        s.dl = dl;
        let ip = s.ue_ip;
        if dl.is_some() {
            for p in self.buffered.remove(&ip).unwrap_or_default() {
                self.downlink(ip, p);
            }
        }
    }

    /// A downlink packet for a UE: sent when its session has a DL tunnel, else
    /// buffered; whether it went.
    pub fn downlink(&mut self, ue_ip: Ipv4Addr, packet: Vec<u8>) -> bool {
        let Some(dl) = self.sessions.values().find(|s| s.ue_ip == ue_ip).and_then(|s| s.dl) else {
            self.buffered.entry(ue_ip).or_default().push(packet);
            return false;
        };
        let head = hexcore_gtpu::MAX_ENCAP_HEADER_LEN;
        let mut buf = vec![0u8; head + packet.len()];
        buf[head..].copy_from_slice(&packet);
        let range = hexcore_gtpu::encap_in_place(&mut buf, head, packet.len(), dl.1, Some(1)).unwrap();
        self.out
            .push((SocketAddr::from((dl.0, self.gnb_port)), buf[range].to_vec()));
        true
    }

    /// One datagram from a gNB.
    pub fn receive(&mut self, from: SocketAddr, datagram: &[u8]) {
        match hexcore_gtpu::parse_gpdu(datagram) {
            Ok(g) => {
                let Some(session) = self.sessions.get(&g.teid).cloned() else {
                    // TS 29.281 §7.3.1.
                    self.error_indications += 1;
                    let ei = hexcore_gtpu::Repr::error_indication(g.teid, self.address.into(), 1);
                    let mut out = vec![0; ei.buffer_len()];
                    ei.emit(&mut hexcore_gtpu::Packet::new_unchecked(&mut out[..])).unwrap();
                    self.out.push((from, out));
                    return;
                };
                assert_eq!(g.qfi, Some(1), "UL PDU Session Container with the session's QFI");
                let inner = datagram[g.payload].to_vec();
                self.uplink.push(inner.clone());
                if let Some(reply) = echo_reply(&inner) {
                    self.downlink(session.ue_ip, reply);
                }
            }
            Err(hexcore_gtpu::Error::NotGpdu(_)) => {
                let p = hexcore_gtpu::Packet::new_checked(datagram).unwrap();
                let r = hexcore_gtpu::Repr::parse(&p).unwrap();
                if let hexcore_gtpu::Message::EchoRequest(_) = r.message {
                    let a = hexcore_gtpu::Repr::echo_response(r.sequence_number.unwrap_or(0));
                    let mut out = vec![0; a.buffer_len()];
                    a.emit(&mut hexcore_gtpu::Packet::new_unchecked(&mut out[..])).unwrap();
                    self.out.push((from, out));
                }
            }
            Err(e) => panic!("malformed GTP-U from the gNB: {e}"),
        }
    }

    /// A restart: every session is forgotten.
    pub fn restart(&mut self) {
        self.sessions.clear();
        self.buffered.clear();
    }
}

/// An ICMP echo request (RFC 792) turned into its reply: source and destination
/// swapped, type 0, ICMP checksum recomputed (the IPv4 header checksum is a sum over
/// the same words and stays right).
pub fn echo_reply(packet: &[u8]) -> Option<Vec<u8>> {
    if packet.len() < 28 || packet[0] >> 4 != 4 || packet[9] != 1 {
        return None;
    }
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    if packet.get(ihl) != Some(&8) {
        return None;
    }
    let mut r = packet.to_vec();
    r.copy_within(12..16, 16);
    r[12..16].copy_from_slice(&packet[16..20]);
    r[ihl] = 0;
    r[ihl + 2] = 0;
    r[ihl + 3] = 0;
    let sum = hexcore_sim::user_plane::checksum(&r[ihl..]);
    r[ihl + 2..ihl + 4].copy_from_slice(&sum.to_be_bytes());
    Some(r)
}

/// An ICMP echo request from the data network (10.45.0.1) to a UE.
pub fn downlink_ping(ue_ip: Ipv4Addr) -> Vec<u8> {
    hexcore_sim::user_plane::icmp_echo(Ipv4Addr::new(10, 45, 0, 1), ue_ip, 8, 0x7777, 1, &[0x5a; 56])
}

pub struct Amf {
    pub plmn: Plmn,
    pub subscribers: HashMap<String, Subscriber>,
    ues: HashMap<u64, UeCtx>,
    next_id: u64,
    pub out: Vec<Vec<u8>>,
    /// Per UE: the Authentication Request or Registration Accept still unanswered
    /// (what T3560 / T3550 guard).
    unanswered: HashMap<u64, Message>,
    pub log: Vec<String>,
    hn_key: HomeNetworkKey,
    hn_key_b: HomeNetworkKey,
    pub nea: Nea,
    pub nia: Nia,
    /// The emulated UPF.
    pub upf: Arc<Mutex<Upf>>,
    /// The DNNs the SMF serves.
    pub dnns: Vec<String>,
    /// The allowed NSSAI.
    pub allowed_slices: Vec<(u8, Option<u32>)>,
}

impl Amf {
    pub fn new() -> Self {
        Amf {
            plmn: Plmn::new("999", "70").unwrap(),
            subscribers: HashMap::new(),
            ues: HashMap::new(),
            next_id: 1,
            unanswered: HashMap::new(),
            out: Vec::new(),
            log: Vec::new(),
            hn_key: HomeNetworkKey::profile_a(&hex::decode(PROFILE_A_PRIVATE).unwrap()).unwrap(),
            hn_key_b: HomeNetworkKey::profile_b(&hex::decode(PROFILE_B_PRIVATE).unwrap()).unwrap(),
            nea: Nea::Nea2,
            nia: Nia::Nia2,
            upf: Arc::new(Mutex::new(Upf::new())),
            dnns: vec!["internet".into(), "ims".into()],
            allowed_slices: vec![(1, None)],
        }
    }

    /// The UE with a PDU session on `ue_ip`, and that session.
    fn session_of(&self, ue_ip: Ipv4Addr) -> Option<(u64, u8)> {
        self.ues.iter().find_map(|(id, u)| {
            u.sessions
                .iter()
                .find(|(_, s)| s.ipv4 == ue_ip)
                .map(|(psi, _)| (*id, *psi))
        })
    }

    /// Downlink data for `ue_ip` reaches the UPF (the suite's --downlink-cmd): sent at
    /// once, or buffered and the UE paged when idle (TS 23.502 §4.2.3.3). `false` if
    /// no UE here has that address.
    pub fn downlink_data(&mut self, ue_ip: Ipv4Addr) -> bool {
        let Some((id, psi)) = self.session_of(ue_ip) else {
            return false;
        };
        let delivered = self.upf.lock().unwrap().downlink(ue_ip, downlink_ping(ue_ip));
        let ue = self.ues.get_mut(&id).unwrap();
        if !delivered && !ue.connected {
            ue.paged.push(psi);
            let guami = self.guami();
            let paging = Paging {
                ue_paging_identity: hexcore_ngap::FiveGSTmsi {
                    amf_set_id: guami.amf_set_id,
                    amf_pointer: guami.amf_pointer,
                    five_g_tmsi: 0x1000 + id as u32,
                },
                paging_drx: None,
                tais: vec![hexcore_ngap::Tai {
                    plmn: self.plmn,
                    tac: hexcore_ngap::Tac::from_u32(1),
                }],
            };
            self.log.push("Paging".into());
            self.send(paging.build().unwrap());
        }
        true
    }

    /// The UPF restarted (the suite's --upf-restart-cmd): it lost every session; the
    /// SMF, seeing it restart (PFCP recovery time stamp, TS 23.527 §4.4.3), releases
    /// them with #39 reactivation requested. `false` if there were none here.
    pub fn upf_restarted(&mut self) -> bool {
        let with: Vec<(u64, Vec<u8>)> = self
            .ues
            .iter()
            .filter(|(_, u)| u.connected && !u.sessions.is_empty())
            .map(|(id, u)| (*id, u.sessions.keys().copied().collect()))
            .collect();
        if with.is_empty() {
            return false;
        }
        self.upf.lock().unwrap().restart();
        for (id, psis) in with {
            for psi in psis {
                self.release_session(id, psi, 0, SmCause::ReactivationRequested);
            }
        }
        true
    }

    pub fn registered(&self, supi: &str) -> bool {
        self.ues.values().any(|u| u.supi == supi && u.registered)
    }

    /// Network-initiated deregistration (TS 24.501 §5.5.2.3.1) of a registered SUPI;
    /// `false` if it has no registered context here.
    pub fn deregister(&mut self, supi: &str) -> bool {
        let Some(id) = self
            .ues
            .iter()
            .find(|(_, u)| u.supi == supi && u.registered)
            .map(|(id, _)| *id)
        else {
            return false;
        };
        let req = DeregistrationRequestUeTerminated::new(
            MmHeader::default(),
            DeregistrationType {
                switch_off: false,
                re_registration_required: false,
                access_type: AccessType::ThreeGpp,
            },
            SpareHalfOctet(0),
        );
        self.dl(id, Message::from(req));
        true
    }

    fn snn() -> ServingNetworkName {
        ServingNetworkName::new("999", "70").unwrap()
    }

    fn send(&mut self, pdu: NgapPdu) {
        self.out.push(pdu.encode().unwrap());
    }

    pub fn handle(&mut self, octets: &[u8]) {
        let Ok(pdu) = NgapPdu::decode(octets).and_then(|p| p.check().map(|()| p)) else {
            // TS 38.413 §10.2: a transfer syntax error is answered with Error Indication.
            let ei = ErrorIndication {
                amf_ue_ngap_id: None,
                ran_ue_ngap_id: None,
                cause: Some(Cause::Protocol(hexcore_ngap::CauseProtocol::TransferSyntaxError)),
                criticality_diagnostics: None,
            };
            self.log.push("malformed NGAP".into());
            self.send(ei.build().unwrap());
            return;
        };
        self.log.push(pdu.message_name().to_string());
        match (pdu.procedure_code(), pdu.kind()) {
            (ProcedureCode::NGSetup, PduKind::InitiatingMessage) => {
                let r = NgSetupRequest::parse(&pdu).unwrap();
                let ok = r
                    .supported_tas
                    .iter()
                    .any(|ta| ta.tac.value() == 1 && ta.broadcast_plmns.iter().any(|b| b.plmn == self.plmn));
                if ok {
                    let resp = NgSetupResponse {
                        amf_name: "test-amf".into(),
                        served_guamis: vec![ServedGuami {
                            guami: self.guami(),
                            backup_amf_name: None,
                        }],
                        relative_amf_capacity: 255,
                        plmn_support: vec![PlmnSupport {
                            plmn: self.plmn,
                            slices: vec![SNssai { sst: 1, sd: None }],
                        }],
                    };
                    self.send(resp.build().unwrap());
                } else {
                    let f = NgSetupFailure {
                        cause: Cause::Misc(CauseMisc::UnknownPlmnOrSnpn),
                        time_to_wait: None,
                    };
                    self.send(f.build().unwrap());
                }
            }
            (ProcedureCode::InitialUEMessage, _) => {
                let m = InitialUeMessage::parse(&pdu).unwrap();
                self.log
                    .push(format!("RRC establishment cause {:?}", m.rrc_establishment_cause));
                // A known 5G-S-TMSI (5G-TMSI = 0x1000 + AMF UE NGAP ID) finds its context.
                let known = m
                    .five_g_s_tmsi
                    .map(|t| u64::from(t.five_g_tmsi).wrapping_sub(0x1000))
                    .filter(|id| self.ues.contains_key(id));
                let id = match known {
                    Some(id) => {
                        let ue = self.ues.get_mut(&id).unwrap();
                        ue.ran = m.ran_ue_ngap_id.0;
                        ue.connected = true;
                        id
                    }
                    None => {
                        let id = self.next_id;
                        self.next_id += 1;
                        self.ues.insert(
                            id,
                            UeCtx {
                                ran: m.ran_ue_ngap_id.0,
                                connected: true,
                                ..UeCtx::default()
                            },
                        );
                        id
                    }
                };
                self.nas(id, &m.nas_pdu);
            }
            (ProcedureCode::UplinkNASTransport, _) => {
                let m = UplinkNasTransport::parse(&pdu).unwrap();
                self.nas(m.amf_ue_ngap_id.value(), &m.nas_pdu);
            }
            (ProcedureCode::UEContextReleaseRequest, _) => {
                let m = UeContextReleaseRequest::parse(&pdu).unwrap();
                let id = m.amf_ue_ngap_id.value();
                // §9.2.2.4: the request lists the sessions with N3 resources.
                let mut have: Vec<u8> = self.ues[&id].sessions.keys().copied().collect();
                have.sort();
                assert_eq!(
                    m.pdu_session_ids, have,
                    "UE Context Release Request names the active sessions"
                );
                self.release(id, Cause::RadioNetwork(hexcore_ngap::CauseRadioNetwork::UserInactivity));
            }
            (ProcedureCode::PDUSessionResourceSetup, PduKind::SuccessfulOutcome) => {
                let m = PduSessionResourceSetupResponse::parse(&pdu).unwrap();
                assert!(m.failed.is_empty(), "no session failed: {:?}", m.failed);
                self.dl_tunnels(m.amf_ue_ngap_id.value(), &m.setup);
            }
            (ProcedureCode::InitialContextSetup, PduKind::SuccessfulOutcome) => {
                let m = InitialContextSetupResponse::parse(&pdu).unwrap();
                self.dl_tunnels(m.amf_ue_ngap_id.value(), &m.pdu_sessions);
            }
            (ProcedureCode::NGReset, PduKind::InitiatingMessage) => {
                self.send(NgResetAcknowledge { connections: vec![] }.build().unwrap());
            }
            _ => {}
        }
    }

    fn guami(&self) -> Guami {
        Guami {
            plmn: self.plmn,
            amf_region_id: 0xCA,
            amf_set_id: 0x3F8,
            amf_pointer: 0,
        }
    }

    fn release(&mut self, id: u64, cause: Cause) {
        // TS 23.502 §4.2.6: the sessions' user plane is deactivated.
        let ue = self.ues.get_mut(&id).unwrap();
        ue.connected = false;
        let teids: Vec<u32> = ue.sessions.values().map(|s| s.ul_teid).collect();
        for t in teids {
            self.upf.lock().unwrap().set_dl(t, None);
        }
        let ran = self.ues[&id].ran;
        let cmd = UeContextReleaseCommand {
            ue_ngap_ids: UeNgapIds::Pair(AmfUeNgapId::new(id).unwrap(), RanUeNgapId(ran)),
            cause,
        };
        self.send(cmd.build().unwrap());
    }

    /// T3560/T3550 expiry, all at once: send each unanswered message again (protected
    /// afresh, with the next NAS COUNT).
    pub fn retransmit(&mut self) {
        let mut pending: Vec<(u64, Message)> = self.unanswered.iter().map(|(k, m)| (*k, m.clone())).collect();
        pending.sort_by_key(|(k, _)| *k);
        for (id, m) in pending {
            self.log.push(format!("retransmit {}", m.name()));
            self.dl(id, m);
        }
    }

    fn dl(&mut self, id: u64, m: Message) {
        if matches!(m, Message::AuthenticationRequest(_) | Message::RegistrationAccept(_)) {
            self.unanswered.insert(id, m.clone());
        }
        let nas = self.protect_dl(id, &m);
        let ue = &self.ues[&id];
        let t = DownlinkNasTransport {
            amf_ue_ngap_id: AmfUeNgapId::new(id).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(ue.ran),
            nas_pdu: nas,
        };
        self.send(t.build().unwrap());
    }

    /// A downlink NAS PDU, protected when the UE has a context.
    fn protect_dl(&mut self, id: u64, m: &Message) -> Vec<u8> {
        let ue = self.ues.get_mut(&id).unwrap();
        match ue.sec.as_mut() {
            Some(sec) => {
                let p = sec.protect(&m.encode(), true).unwrap();
                let sp = SecurityProtected::new(
                    SecurityHeaderType::IntegrityProtectedAndCiphered,
                    p.mac,
                    p.sqn,
                    p.payload,
                )
                .unwrap();
                NasPdu::SecurityProtected(sp).encode()
            }
            None => m.encode(),
        }
    }

    fn nas(&mut self, id: u64, pdu: &[u8]) {
        self.unanswered.remove(&id);
        let m = match NasPdu::decode(pdu).unwrap() {
            NasPdu::Plain(m) => m,
            NasPdu::SecurityProtected(sp) => {
                let ue = self.ues.get_mut(&id).unwrap();
                let sec = ue.sec.as_mut().expect("protected uplink before security mode");
                let plain = sec
                    .unprotect(sp.sequence_number, &sp.mac, &sp.payload, sp.header_type.is_ciphered())
                    .expect("uplink NAS MAC must verify");
                match Message::decode_inner(&plain) {
                    Ok(m) => m,
                    Err(e) => {
                        // TS 24.501 §7: answer with 5GMM STATUS.
                        self.log.push("malformed NAS".into());
                        self.dl(id, Message::from(MmStatus::new(MmHeader::default(), e.mm_cause())));
                        return;
                    }
                }
            }
        };
        self.log.push(m.name().to_string());
        match m {
            Message::RegistrationRequest(r)
                if self.ues[&id].registered
                    && matches!(
                        r.registration_type.value,
                        RegistrationTypeValue::MobilityUpdating | RegistrationTypeValue::PeriodicUpdating
                    ) =>
            {
                self.registration_update(id, r)
            }
            Message::RegistrationRequest(r) => {
                self.ues.get_mut(&id).unwrap().cleartext_only = r.nas_message_container.is_none();
                let supi = match &r.mobile_identity {
                    MobileIdentity::Suci(Suci::Imsi(s)) => match &s.scheme_output {
                        SchemeOutput::Msin(_) => s.imsi().unwrap(),
                        SchemeOutput::ProfileA {
                            ephemeral_public_key,
                            ciphertext,
                            mac_tag,
                        } => {
                            let mut out = ephemeral_public_key.to_vec();
                            out.extend_from_slice(ciphertext);
                            out.extend_from_slice(mac_tag);
                            let bcd = self.hn_key.deconceal(&out).expect("Profile A SUCI must deconceal");
                            let msin = hexcore_security::suci::msin_from_scheme_input(&bcd).unwrap();
                            format!("{}{}{msin}", s.plmn.mcc(), s.plmn.mnc())
                        }
                        SchemeOutput::ProfileB {
                            ephemeral_public_key,
                            ciphertext,
                            mac_tag,
                        } => {
                            let mut out = ephemeral_public_key.to_vec();
                            out.extend_from_slice(ciphertext);
                            out.extend_from_slice(mac_tag);
                            let bcd = self.hn_key_b.deconceal(&out).expect("Profile B SUCI must deconceal");
                            let msin = hexcore_security::suci::msin_from_scheme_input(&bcd).unwrap();
                            format!("{}{}{msin}", s.plmn.mcc(), s.plmn.mnc())
                        }
                        other => panic!("unexpected scheme output {other:?}"),
                    },
                    MobileIdentity::Guti(_) => {
                        // Unknown GUTI: ask for the SUCI.
                        let ue = self.ues.get_mut(&id).unwrap();
                        ue.capability = r.ue_security_capability.clone();
                        self.dl(
                            id,
                            Message::from(IdentityRequest::new(
                                MmHeader::default(),
                                IdentityType::Suci,
                                SpareHalfOctet(0),
                            )),
                        );
                        return;
                    }
                    other => panic!("unexpected identity {other:?}"),
                };
                let ue = self.ues.get_mut(&id).unwrap();
                ue.capability = r.ue_security_capability.clone();
                self.authenticate(id, supi);
            }
            Message::IdentityResponse(r) => {
                let MobileIdentity::Suci(Suci::Imsi(s)) = &r.mobile_identity else {
                    panic!()
                };
                self.authenticate(id, s.imsi().unwrap());
            }
            Message::AuthenticationResponse(r) => {
                let ue = self.ues.get(&id).unwrap();
                keys::verify_res_star(&ue.xres_star, &r.res_star.unwrap().0).expect("RES* must match");
                let ue = self.ues.get_mut(&id).unwrap();
                let mut sec =
                    NasSecurityContext::new(Role::Network, &ue.kamf, self.nea, self.nia, NasConnection::ThreeGpp);
                let cap = ue.capability.clone().unwrap();
                let mut smc = SecurityModeCommand::new(
                    MmHeader::default(),
                    NasSecurityAlgorithms {
                        ciphering: CipheringAlgorithm::from(self.nea.id()),
                        integrity: IntegrityAlgorithm::from(self.nia.id()),
                    },
                    NasKeySetIdentifier { mapped: false, ksi: 0 },
                    SpareHalfOctet(0),
                    cap,
                );
                smc.imeisv_request = Some(ImeisvRequest::Requested);
                let p = sec.protect(&Message::from(smc).encode(), false).unwrap();
                let sp = SecurityProtected::new(
                    SecurityHeaderType::IntegrityProtectedNewContext,
                    p.mac,
                    p.sqn,
                    p.payload,
                )
                .unwrap();
                ue.sec = Some(sec);
                let t = DownlinkNasTransport {
                    amf_ue_ngap_id: AmfUeNgapId::new(id).unwrap(),
                    ran_ue_ngap_id: RanUeNgapId(ue.ran),
                    nas_pdu: NasPdu::SecurityProtected(sp).encode(),
                };
                self.send(t.build().unwrap());
            }
            Message::AuthenticationFailure(f) => {
                if f.cause == hexcore_nas::MmCause::SynchFailure {
                    let ue = self.ues.get(&id).unwrap();
                    let supi = ue.supi.clone();
                    let rand = ue.rand;
                    let sub = self.subscribers.get_mut(&supi).unwrap();
                    let sqn_ms = Milenage::new(&sub.k, &sub.opc)
                        .verify_auts(&rand, &f.auts.unwrap().0)
                        .expect("MAC-S must verify");
                    sub.sqn = sqn::resync_sqn(sqn::sqn_from_bytes(&sqn_ms));
                    self.authenticate(id, supi);
                } else {
                    self.dl(id, Message::from(AuthenticationReject::new(MmHeader::default())));
                }
            }
            Message::SecurityModeComplete(c) => {
                assert!(c.imeisv.is_some(), "IMEISV was requested");
                if !self.ues[&id].cleartext_only {
                    assert!(c.nas_message_container.is_none());
                    self.accept(id);
                    return;
                }
                let full = c
                    .nas_message_container
                    .expect("full Registration Request in the container")
                    .message()
                    .unwrap();
                let Message::RegistrationRequest(full) = full else {
                    panic!("container holds {}", full.name())
                };
                assert!(full.requested_nssai.is_some(), "full message has the non-cleartext IEs");
                self.accept(id);
            }
            Message::SecurityModeReject(_) => self.release(id, Cause::Nas(CauseNas::Unspecified)),
            Message::RegistrationComplete(_) => {
                self.ues.get_mut(&id).unwrap().registered = true;
            }
            Message::DeregistrationRequestUeOriginating(d) => {
                if !d.deregistration_type.switch_off {
                    self.dl(
                        id,
                        Message::from(DeregistrationAcceptUeOriginating::new(MmHeader::default())),
                    );
                }
                self.ues.get_mut(&id).unwrap().registered = false;
                self.release(id, Cause::Nas(CauseNas::Deregister));
            }
            Message::DeregistrationAcceptUeTerminated(_) => {
                self.ues.get_mut(&id).unwrap().registered = false;
                self.release(id, Cause::Nas(CauseNas::Deregister));
            }
            Message::ServiceRequest(sr) => self.service_request(id, sr),
            Message::UlNasTransport(t) => self.ul_nas_transport(id, t),
            Message::MmStatus(_) => {}
            other => {
                let status = MmStatus::new(
                    MmHeader::default(),
                    hexcore_nas::MmCause::MessageTypeNonExistentOrNotImplemented,
                );
                self.log.push(format!("status for {}", other.name()));
                self.dl(id, Message::from(status));
            }
        }
    }

    /// The gNB's DL tunnels of Setup Response Transfers (TS 38.413 §9.3.4.2): the UPF
    /// sends there from now on.
    fn dl_tunnels(&mut self, id: u64, items: &[PduSessionTransferItem]) {
        for item in items {
            let t = PduSessionResourceSetupResponseTransfer::decode(&item.transfer).unwrap();
            let ip: [u8; 4] = t.dl_tunnel.transport_layer_address.as_slice().try_into().unwrap();
            assert_eq!(t.qos_flows, vec![1], "the one QoS flow set up");
            let teid = self.ues[&id].sessions[&item.pdu_session_id].ul_teid;
            self.upf
                .lock()
                .unwrap()
                .set_dl(teid, Some((Ipv4Addr::from(ip), t.dl_tunnel.teid)));
            self.log.push(format!(
                "DL tunnel {}.{}.{}.{} TEID {}",
                ip[0], ip[1], ip[2], ip[3], t.dl_tunnel.teid
            ));
        }
    }

    /// TS 24.501 §5.6.1.4: the full message comes ciphered in the NAS message container
    /// when it has non-cleartext IEs; sessions missing from its PDU session status are
    /// released locally; those with uplink data or paged for get their user plane in
    /// the Initial Context Setup that carries the Service Accept (TS 23.502 §4.2.3.2),
    /// with KgNB from the Service Request's UL NAS COUNT (TS 33.501 §6.9.2.1.1).
    /// The complete message in the NAS message container of UE `id`'s last message.
    fn complete(&self, id: u64, container: Option<&NasMessageContainer>) -> Option<Message> {
        let sec = self.ues[&id].sec.as_ref().unwrap();
        let plain = sec
            .decipher_container_of_last_rx(&container?.0)
            .expect("container deciphers");
        Some(Message::decode(&plain).unwrap())
    }

    fn service_request(&mut self, id: u64, cleartext: ServiceRequest) {
        let sr = match self.complete(id, cleartext.nas_message_container.as_ref()) {
            Some(Message::ServiceRequest(full)) => full,
            Some(other) => panic!("the container holds {}", other.name()),
            None => cleartext,
        };
        self.resume(id, sr.pdu_session_status, sr.uplink_data_status, None);
    }

    /// TS 24.501 §5.5.1.3.4: a mobility or periodic registration update of a registered
    /// UE, on its current context; its PDU session status and uplink data status as in a
    /// Service Request, answered with a Registration Accept (same 5G-GUTI).
    fn registration_update(&mut self, id: u64, cleartext: RegistrationRequest) {
        let r = match self.complete(id, cleartext.nas_message_container.as_ref()) {
            Some(Message::RegistrationRequest(full)) => full,
            Some(other) => panic!("the container holds {}", other.name()),
            None => cleartext,
        };
        let accept = RegistrationAccept::new(MmHeader::default(), RegistrationResult(0x01));
        self.resume(id, r.pdu_session_status, r.uplink_data_status, Some(accept));
    }

    /// Release what the PDU session status lacks, re-activate what the uplink data
    /// status (or paging) asks for, and answer with a Service Accept or `registration`.
    fn resume(
        &mut self,
        id: u64,
        pdu_session_status: Option<PsiBitmap>,
        uplink_data_status: Option<PsiBitmap>,
        registration: Option<RegistrationAccept>,
    ) {
        let ue = self.ues.get_mut(&id).unwrap();
        let count = ue.sec.as_ref().unwrap().last_rx_count().unwrap().value();
        let status_asked = pdu_session_status.is_some();
        let reactivation_asked = uplink_data_status.is_some();
        if let Some(status) = &pdu_session_status {
            ue.sessions.retain(|psi, _| status.is_set(*psi));
        } else {
            assert!(
                ue.sessions.is_empty(),
                "a UE with PDU sessions sends its PDU session status"
            );
        }
        let mut wanted: Vec<u8> = uplink_data_status.map(|u| u.psis()).unwrap_or_default();
        wanted.append(&mut ue.paged);
        wanted.retain(|p| ue.sessions.contains_key(p));
        wanted.sort();
        wanted.dedup();
        let status = PsiBitmap::from_psis(&ue.sessions.keys().copied().collect::<Vec<_>>());
        let accept = match registration {
            Some(mut a) => {
                a.pdu_session_status = status_asked.then_some(status);
                a.pdu_session_reactivation_result = reactivation_asked.then(|| PsiBitmap::from_psis(&[]));
                Message::from(a)
            }
            None if wanted.is_empty() => Message::from(ServiceAccept::new(MmHeader::default())),
            None => {
                let mut a = ServiceAccept::new(MmHeader::default());
                a.pdu_session_status = Some(status);
                Message::from(a)
            }
        };
        if wanted.is_empty() {
            self.dl(id, accept);
            // An update keeps the 5G-GUTI: no Registration Complete is due.
            self.unanswered.remove(&id);
            return;
        }
        let kgnb = keys::kgnb(&ue.kamf, count, keys::AccessType::ThreeGpp);
        let teids: Vec<(u8, u32)> = wanted.iter().map(|p| (*p, ue.sessions[p].ul_teid)).collect();
        let items: Vec<PduSessionSetupItem> = teids
            .into_iter()
            .map(|(psi, teid)| PduSessionSetupItem {
                pdu_session_id: psi,
                nas_pdu: None,
                s_nssai: SNssai { sst: 1, sd: None },
                transfer: self.setup_transfer(teid),
            })
            .collect();
        self.log.push(format!("re-activating {wanted:?}"));
        let nas = self.protect_dl(id, &accept);
        self.initial_context_setup(id, kgnb, nas, items);
    }

    fn initial_context_setup(&mut self, id: u64, kgnb: [u8; 32], nas: Vec<u8>, pdu_sessions: Vec<PduSessionSetupItem>) {
        let ics = InitialContextSetupRequest {
            amf_ue_ngap_id: AmfUeNgapId::new(id).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(self.ues[&id].ran),
            ue_ambr: (!pdu_sessions.is_empty()).then_some(Ambr {
                downlink: 2_000_000_000,
                uplink: 1_000_000_000,
            }),
            guami: self.guami(),
            pdu_sessions,
            allowed_nssai: vec![SNssai { sst: 1, sd: None }],
            ue_security_capabilities: UeSecurityCapabilities {
                nr_encryption: 0xE000,
                nr_integrity: 0xE000,
                eutra_encryption: 0,
                eutra_integrity: 0,
            },
            security_key: kgnb,
            nas_pdu: Some(nas),
        };
        self.send(ics.build().unwrap());
    }

    /// PDU Session Resource Setup Request Transfer (TS 38.413 §9.3.4.1): session AMBR,
    /// the UL tunnel at the UPF, IPv4, one QoS flow QFI 1 with 5QI 9.
    fn setup_transfer(&self, ul_teid: u32) -> Vec<u8> {
        PduSessionResourceSetupRequestTransfer {
            session_ambr: Some(Ambr {
                downlink: 1_000_000_000,
                uplink: 1_000_000_000,
            }),
            ul_tunnel: GtpTunnel {
                transport_layer_address: self.upf.lock().unwrap().address.octets().to_vec(),
                teid: ul_teid,
            },
            additional_ul_tunnels: vec![],
            pdu_session_type: PDUSessionType::ipv4,
            qos_flows: vec![QosFlowSetup {
                qfi: 1,
                five_qi: 9,
                arp: Arp {
                    priority_level: 8,
                    pre_emption_capability: PreEmptionCapability::shall_not_trigger_pre_emption,
                    pre_emption_vulnerability: PreEmptionVulnerability::not_pre_emptable,
                },
            }],
        }
        .encode()
        .unwrap()
    }

    /// UL NAS TRANSPORT (TS 24.501 §5.4.5.2): the 5GSM message goes to the SMF, or back
    /// to the UE with a 5GMM cause when the AMF cannot forward it.
    fn ul_nas_transport(&mut self, id: u64, t: UlNasTransport) {
        assert_eq!(t.payload_container_type, PayloadContainerType::N1SmInformation);
        let psi = t.pdu_session_id.expect("PDU session ID IE").0;
        let sm = Message::decode(&t.payload_container.0).unwrap();
        self.log.push(format!("UL NAS transport / {}", sm.name()));
        let header = sm.sm_header().unwrap();
        assert_eq!(
            header.pdu_session_id, psi,
            "the PDU session ID IE names the 5GSM message's session"
        );
        match sm {
            Message::PduSessionEstablishmentRequest(r) => {
                assert_eq!(t.request_type, Some(RequestType::InitialRequest));
                assert_eq!(r.pdu_session_type, Some(PduSessionType::Ipv4));
                assert!(r.extended_pco.is_some_and(|p| p.item(0x000d).is_some()), "asks for DNS");
                // §5.4.5.2.5: an S-NSSAI outside the allowed NSSAI is not forwarded.
                let slice = t.s_nssai.as_ref().map(|s| (s.sst, s.sd)).unwrap_or((1, None));
                if !self.allowed_slices.contains(&slice) {
                    let mut back = DlNasTransport::n1_sm(psi, &Message::decode(&t.payload_container.0).unwrap());
                    back.cause = Some(MmCause::PayloadWasNotForwarded);
                    self.dl(id, Message::from(back));
                    return;
                }
                let dnn = t.dnn.as_ref().map(|d| d.name()).unwrap_or_else(|| "internet".into());
                let sm_header = SmHeader {
                    pdu_session_id: psi,
                    pti: header.pti,
                };
                if !self.dnns.contains(&dnn) {
                    let reject = PduSessionEstablishmentReject::new(sm_header, SmCause::MissingOrUnknownDnn);
                    self.dl(id, Message::from(DlNasTransport::n1_sm(psi, &Message::from(reject))));
                    return;
                }
                self.establish(id, sm_header, dnn);
            }
            Message::PduSessionReleaseRequest(_) => {
                self.release_session(id, psi, header.pti, SmCause::RegularDeactivation);
            }
            Message::PduSessionReleaseComplete(_) => {
                if let Some(s) = self.ues.get_mut(&id).unwrap().sessions.remove(&psi) {
                    self.upf.lock().unwrap().sessions.remove(&s.ul_teid);
                }
            }
            Message::PduSessionModificationComplete(_) | Message::SmStatus(_) => {}
            other => panic!("unexpected 5GSM {}", other.name()),
        }
    }

    /// The SMF accepts (TS 24.501 §6.4.1.3): IPv4 from the pool, SSC mode 1, the
    /// default QoS rule (match-all, QFI 1), Session-AMBR 1 Gbit/s, DNS 8.8.8.8 and MTU
    /// 1400 in the extended PCO; in a PDU Session Resource Setup Request.
    fn establish(&mut self, id: u64, header: SmHeader, dnn: String) {
        let psi = header.pdu_session_id;
        let (ip, ul_teid) = {
            let mut upf = self.upf.lock().unwrap();
            let (ip, teid) = upf.allocate();
            upf.sessions.insert(teid, UpfSession { ue_ip: ip, dl: None });
            (ip, teid)
        };
        let rule = QosRule {
            id: 1,
            operation: 1,
            default_rule: true,
            filters: PacketFilterList::Filters(vec![PacketFilter {
                direction: 3,
                id: 1,
                components: vec![FilterComponent::MatchAll],
            }]),
            precedence: Some(0xff),
            segregation: false,
            qfi: 1,
        };
        let gbps = BitRate { unit: 6, value: 1000 };
        let mut a = PduSessionEstablishmentAccept::new(
            header,
            PduSessionType::Ipv4,
            SscMode::Mode1,
            QosRules(vec![rule]),
            SessionAmbr {
                downlink: gbps,
                uplink: gbps,
            },
        );
        a.pdu_address = Some(PduAddress {
            value: PduAddressValue::Ipv4(ip),
            smf_ipv6_link_local: None,
        });
        a.s_nssai = Some(hexcore_nas::ie::SNssai::new(1, None));
        a.authorized_qos_flow_descriptions = Some(QosFlowDescriptions(vec![QosFlowDescription {
            qfi: 1,
            operation: 1,
            e_bit: true,
            parameters: vec![QosFlowParameter::FiveQi(9)],
        }]));
        a.extended_pco = Some(ExtendedPco {
            header: 0x80,
            items: vec![
                PcoItem {
                    id: 0x000d,
                    contents: vec![8, 8, 8, 8],
                },
                PcoItem {
                    id: 0x0010,
                    contents: 1400u16.to_be_bytes().to_vec(),
                },
            ],
        });
        a.dnn = Some(Dnn::from_name(&dnn));
        let nas = self.protect_dl(id, &Message::from(DlNasTransport::n1_sm(psi, &Message::from(a))));
        let transfer = self.setup_transfer(ul_teid);
        self.ues
            .get_mut(&id)
            .unwrap()
            .sessions
            .insert(psi, SmCtx { ipv4: ip, ul_teid });
        let req = PduSessionResourceSetupRequest {
            amf_ue_ngap_id: AmfUeNgapId::new(id).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(self.ues[&id].ran),
            nas_pdu: None,
            sessions: vec![PduSessionSetupItem {
                pdu_session_id: psi,
                nas_pdu: Some(nas),
                s_nssai: SNssai { sst: 1, sd: None },
                transfer,
            }],
            ue_ambr: Some(Ambr {
                downlink: 2_000_000_000,
                uplink: 1_000_000_000,
            }),
        };
        self.send(req.build().unwrap());
    }

    /// PDU Session Release Command (UE-requested with its PTI, network-requested with
    /// PTI 0) in a PDU Session Resource Release Command (TS 38.413 §8.2.2).
    fn release_session(&mut self, id: u64, psi: u8, pti: u8, cause: SmCause) {
        let cmd = PduSessionReleaseCommand::new(
            SmHeader {
                pdu_session_id: psi,
                pti,
            },
            cause,
        );
        let nas = self.protect_dl(id, &Message::from(DlNasTransport::n1_sm(psi, &Message::from(cmd))));
        // TS 38.413 §9.3.4.12, built with the codec (one Cause).
        let transfer = codec::encode_open_type(&codec::PDUSessionResourceReleaseCommandTransfer::new(
            Cause::Nas(CauseNas::NormalRelease).to_codec(),
            None,
        ))
        .unwrap()
        .into_vec();
        let m = PduSessionResourceReleaseCommand {
            amf_ue_ngap_id: AmfUeNgapId::new(id).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(self.ues[&id].ran),
            nas_pdu: Some(nas),
            sessions: vec![PduSessionTransferItem {
                pdu_session_id: psi,
                transfer,
            }],
        };
        self.send(m.build().unwrap());
    }

    fn authenticate(&mut self, id: u64, supi: String) {
        let Some(sub) = self.subscribers.get_mut(&supi) else {
            let rej = RegistrationReject::new(MmHeader::default(), hexcore_nas::MmCause::FiveGsServicesNotAllowed);
            self.dl(id, Message::from(rej));
            return;
        };
        sub.sqn = sqn::next_sqn(sub.sqn);
        let rand = [0x5A ^ (sub.sqn as u8); 16];
        let (autn, v) = Milenage::new(&sub.k, &sub.opc).generate_autn(&rand, &sqn::sqn_to_bytes(sub.sqn), &[0x80, 0]);
        let snn = Self::snn();
        let xres_star = keys::res_star(&v.ck, &v.ik, &snn, &rand, &v.res).unwrap();
        let kausf = keys::kausf(&v.ck, &v.ik, &snn, &autn[..6].try_into().unwrap()).unwrap();
        let kseaf = keys::kseaf(&kausf, &snn).unwrap();
        let kamf = keys::kamf(&kseaf, &supi, &[0, 0]).unwrap();
        let ue = self.ues.get_mut(&id).unwrap();
        ue.supi = supi;
        ue.rand = rand;
        ue.xres_star = xres_star;
        // The current context (if any) protects the exchange until the SMC replaces it.
        ue.kamf = kamf;
        let mut req = AuthenticationRequest::new(
            MmHeader::default(),
            NasKeySetIdentifier { mapped: false, ksi: 0 },
            SpareHalfOctet(0),
            Abba(vec![0, 0]),
        );
        req.rand = Some(Rand(rand));
        req.autn = Some(Autn(autn));
        self.dl(id, Message::from(req));
    }

    fn accept(&mut self, id: u64) {
        let guami = self.guami();
        let mut acc = RegistrationAccept::new(MmHeader::default(), RegistrationResult(0x01));
        acc.guti = Some(MobileIdentity::Guti(Guti {
            plmn: hexcore_nas::ie::Plmn::new("999", "70"),
            amf_region_id: guami.amf_region_id,
            amf_set_id: guami.amf_set_id,
            amf_pointer: guami.amf_pointer,
            tmsi: 0x1000 + id as u32,
        }));
        let ue = self.ues.get_mut(&id).unwrap();
        let sec = ue.sec.as_mut().unwrap();
        // TS 33.501 A.9: KgNB with the UL NAS COUNT of the Security Mode Complete (0).
        let kgnb = keys::kgnb(&ue.kamf, 0, keys::AccessType::ThreeGpp);
        self.unanswered.insert(id, Message::from(acc.clone()));
        let p = sec.protect(&Message::from(acc).encode(), true).unwrap();
        let sp = SecurityProtected::new(
            SecurityHeaderType::IntegrityProtectedAndCiphered,
            p.mac,
            p.sqn,
            p.payload,
        )
        .unwrap();
        let ics = InitialContextSetupRequest {
            amf_ue_ngap_id: AmfUeNgapId::new(id).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(ue.ran),
            ue_ambr: None,
            guami,
            pdu_sessions: vec![],
            allowed_nssai: vec![SNssai { sst: 1, sd: None }],
            ue_security_capabilities: UeSecurityCapabilities {
                nr_encryption: 0xE000,
                nr_integrity: 0xE000,
                eutra_encryption: 0,
                eutra_integrity: 0,
            },
            security_key: kgnb,
            nas_pdu: Some(NasPdu::SecurityProtected(sp).encode()),
        };
        self.send(ics.build().unwrap());
    }
}
