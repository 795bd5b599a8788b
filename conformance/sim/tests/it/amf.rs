//! A minimal AMF+AUSF+UDM, written in the test from TS 33.501 / TS 24.501 / TS 38.413,
//! to drive the simulator in memory: NG Setup, 5G AKA (with resynchronisation),
//! security mode control, Initial Context Setup with the Registration Accept,
//! deregistration and release. It checks what it receives as strictly as a core would
//! (RES*, NAS MACs, the container in Security Mode Complete).

use std::collections::HashMap;

use hexcore_nas::ie::*;
use hexcore_nas::mm::*;
use hexcore_nas::{Message, MmHeader, NasPdu, SecurityHeaderType, SecurityProtected};
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
        }
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
                // A known 5G-S-TMSI (5G-TMSI = 0x1000 + AMF UE NGAP ID) finds its context.
                let known = m
                    .five_g_s_tmsi
                    .map(|t| u64::from(t.five_g_tmsi).wrapping_sub(0x1000))
                    .filter(|id| self.ues.contains_key(id));
                let id = match known {
                    Some(id) => {
                        self.ues.get_mut(&id).unwrap().ran = m.ran_ue_ngap_id.0;
                        id
                    }
                    None => {
                        let id = self.next_id;
                        self.next_id += 1;
                        self.ues.insert(
                            id,
                            UeCtx {
                                ran: m.ran_ue_ngap_id.0,
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
                self.release(m.amf_ue_ngap_id.value(), Cause::Nas(CauseNas::NormalRelease));
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
        let ue = self.ues.get_mut(&id).unwrap();
        let nas = match ue.sec.as_mut() {
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
        };
        let t = DownlinkNasTransport {
            amf_ue_ngap_id: AmfUeNgapId::new(id).unwrap(),
            ran_ue_ngap_id: RanUeNgapId(ue.ran),
            nas_pdu: nas,
        };
        self.send(t.build().unwrap());
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
            Message::ServiceRequest(_) => {
                self.dl(id, Message::from(ServiceAccept::new(MmHeader::default())));
            }
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
