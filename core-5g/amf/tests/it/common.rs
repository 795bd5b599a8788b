//! Test peers for the sans-IO AMF: a gNB that builds real NGAP with hexcore-ngap, a
//! UE that runs a USIM (MILENAGE, TS 35.206) and NAS security with hexcore-security,
//! and a small in-memory AUSF/UDM that computes 5G-AKA vectors the same way
//! (TS 33.501 §6.1.3.2, Annex A). Virtual time: the harness owns `now`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hexcore_amf::{
    Amf, AmfConfig, AssocId, Event, Input, Output, Settings, UdmFailure, UdmRequest, UdmResponse, UeIdentity,
};
use hexcore_nas::ie::{
    Auts, IdentityType, MobileIdentity, NasKeySetIdentifier, NasMessageContainer, Nssai, Plmn as NasPlmn,
    ProtectionScheme, RegistrationType, RegistrationTypeValue, ResStar, SNssai as NasSNssai, SchemeOutput, Suci,
    SuciImsi, UeSecurityCapability,
};
use hexcore_nas::mm::{
    AuthenticationFailure, AuthenticationResponse, IdentityResponse, MmHeader, RegistrationRequest,
    SecurityModeComplete,
};
use hexcore_nas::{Message, MmCause, NasPdu, SecurityHeaderType, SecurityProtected};
use hexcore_ngap::procedures::{
    BroadcastPlmn, DownlinkNasTransport, InitialUeMessage, NgSetupRequest, PagingDRX, RRCEstablishmentCause,
    SupportedTa, UplinkNasTransport, UserLocationNr,
};
use hexcore_ngap::{AmfUeNgapId, GlobalGnbId, GnbId, NgapPdu, NrCgi, Plmn, RanUeNgapId, SNssai, Tac, Tai};
use hexcore_security::keys::{self, ServingNetworkName};
use hexcore_security::{Milenage, NasConnection, NasSecurityContext, Nea, Nia, Role};

/// K and OPc of TS 35.208 test set 1 (also the subscriber of many open-source cores'
/// examples).
pub const K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
pub const OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];
pub const MCC: &str = "999";
pub const MNC: &str = "70";
pub const MSIN: &str = "0000000001";
pub const IMSI: &str = "999700000000001";

pub fn plmn() -> Plmn {
    Plmn::new(MCC, MNC).unwrap()
}

pub fn snn() -> ServingNetworkName {
    ServingNetworkName::new(MCC, MNC).unwrap()
}

fn sqn_bytes(sqn: u64) -> [u8; 6] {
    let b = sqn.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

fn sqn_value(b: &[u8; 6]) -> u64 {
    b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
}

// ------------------------------------------------------------------------ UDM

/// AUSF + UDM for one subscriber, in memory.
pub struct FakeUdm {
    pub milenage: Milenage,
    /// Known subscribers (all with K and OPc of test set 1).
    pub imsis: Vec<String>,
    /// The next SQN_HE.
    pub sqn: u64,
    pub nssai: Vec<(u8, Option<u32>)>,
    pending: HashMap<u64, ([u8; 16], [u8; 32], String)>,
    next_ctx: u64,
    next_rand: u8,
}

impl FakeUdm {
    pub fn new() -> Self {
        Self {
            milenage: Milenage::new(&K, &OPC),
            imsis: vec![
                IMSI.into(),
                "999700000000002".into(),
                "999700000000003".into(),
                "999700000000004".into(),
                "999700000000005".into(),
            ],
            sqn: 0x20,
            nssai: vec![(1, None)],
            pending: HashMap::new(),
            next_ctx: 100,
            next_rand: 1,
        }
    }

    pub fn handle(&mut self, req: UdmRequest) -> UdmResponse {
        match req {
            UdmRequest::Authenticate {
                ue,
                identity,
                serving_network_name,
                resync,
            } => {
                let imsi = match identity {
                    UeIdentity::Supi(s) => s,
                    UeIdentity::Suci(s) => {
                        let parts: Vec<&str> = s.split('-').collect();
                        // suci-0-mcc-mnc-ri-scheme-keyid-output (TS 29.503 §6.1.6.2.2)
                        if parts.len() != 8 || parts[5] != "0" {
                            return UdmResponse::Failed {
                                ue,
                                failure: UdmFailure::IdentityNotDerivable,
                            };
                        }
                        format!("{}{}{}", parts[2], parts[3], parts[7])
                    }
                };
                if !self.imsis.contains(&imsi) {
                    return UdmResponse::Failed {
                        ue,
                        failure: UdmFailure::UnknownSubscriber,
                    };
                }
                if let Some((rand, auts)) = resync {
                    match self.milenage.verify_auts(&rand, &auts) {
                        Ok(sqn_ms) => self.sqn = sqn_value(&sqn_ms) + 32,
                        Err(_) => {
                            return UdmResponse::Failed {
                                ue,
                                failure: UdmFailure::ResyncRefused,
                            };
                        }
                    }
                }
                let snn = ServingNetworkName::from_received(&serving_network_name).unwrap();
                let rand = [self.next_rand; 16];
                self.next_rand = self.next_rand.wrapping_add(1);
                let sqn = sqn_bytes(self.sqn);
                self.sqn += 32;
                let (autn, v) = self.milenage.generate_autn(&rand, &sqn, &[0x80, 0x00]);
                let xres_star = keys::res_star(&v.ck, &v.ik, &snn, &rand, &v.res).unwrap();
                let mut sqn_xor_ak = [0u8; 6];
                sqn_xor_ak.copy_from_slice(&autn[..6]);
                let kausf = keys::kausf(&v.ck, &v.ik, &snn, &sqn_xor_ak).unwrap();
                let kseaf = keys::kseaf(&kausf, &snn).unwrap();
                let ctx = self.next_ctx;
                self.next_ctx += 1;
                self.pending.insert(ctx, (xres_star, kseaf, imsi));
                UdmResponse::Challenge {
                    ue,
                    ctx,
                    rand,
                    autn,
                    hxres_star: keys::hres_star(&rand, &xres_star),
                }
            }
            UdmRequest::Confirm { ue, ctx, res_star } => match self.pending.remove(&ctx) {
                Some((xres, kseaf, supi)) if xres == res_star => UdmResponse::Confirmed {
                    ue,
                    supi,
                    kseaf,
                    eap_success: None,
                },
                _ => UdmResponse::Failed {
                    ue,
                    failure: UdmFailure::AuthenticationRejected,
                },
            },
            // This fake speaks 5G AKA only (tests/it/real_udm.rs runs EAP-AKA').
            UdmRequest::ConfirmEap { ue, .. } => UdmResponse::Failed {
                ue,
                failure: UdmFailure::AuthenticationRejected,
            },
            UdmRequest::SubscriptionData { ue, .. } => UdmResponse::Subscription {
                ue,
                nssai: self.nssai.clone(),
                ue_ambr: Some((100_000_000, 200_000_000)),
            },
        }
    }
}

// ------------------------------------------------------------------------ UE

/// A UE with a USIM and a NAS security context.
pub struct TestUe {
    pub milenage: Milenage,
    pub msin: String,
    pub home_plmn: (String, String),
    /// Highest SQN accepted (the USIM's SQN_MS).
    pub sqn_ms: u64,
    pub caps: UeSecurityCapability,
    pub requested_nssai: Option<Vec<(u8, Option<u32>)>>,
    pub identity: Option<MobileIdentity>,
    pub kamf: Option<[u8; 32]>,
    pub nas: Option<NasSecurityContext>,
    pub ran_ue_ngap_id: RanUeNgapId,
    pub amf_ue_ngap_id: Option<AmfUeNgapId>,
}

impl TestUe {
    /// `full` ciphered for the NAS message container of the next uplink message, with
    /// that message's COUNT (TS 24.501 §4.4.6).
    pub fn container(&self, full: &Message) -> hexcore_nas::ie::NasMessageContainer {
        let ctx = self.nas.as_ref().unwrap();
        let count = ctx.next_tx_count().count_input();
        hexcore_nas::ie::NasMessageContainer(hexcore_security::nea(
            ctx.nea(),
            ctx.knas_enc(),
            count,
            1,
            hexcore_security::Direction::Uplink,
            &full.encode(),
        ))
    }

    pub fn new(ran: u32) -> Self {
        Self {
            milenage: Milenage::new(&K, &OPC),
            msin: MSIN.into(),
            home_plmn: (MCC.into(), MNC.into()),
            sqn_ms: 0,
            // EA0-EA3 and IA0-IA3 (TS 24.501 §9.11.3.54: bit 8 is EA0/IA0).
            caps: UeSecurityCapability {
                nr_ea: 0xF0,
                nr_ia: 0xF0,
                rest: vec![],
            },
            requested_nssai: Some(vec![(1, None)]),
            identity: None,
            kamf: None,
            nas: None,
            ran_ue_ngap_id: RanUeNgapId(ran),
            amf_ue_ngap_id: None,
        }
    }

    pub fn supi(&self) -> String {
        format!("{}{}{}", self.home_plmn.0, self.home_plmn.1, self.msin)
    }

    pub fn suci(&self) -> MobileIdentity {
        MobileIdentity::Suci(Suci::Imsi(SuciImsi {
            plmn: NasPlmn::new(&self.home_plmn.0, &self.home_plmn.1),
            routing_indicator: "0".into(),
            protection_scheme: ProtectionScheme::Null,
            home_network_public_key_id: 0,
            scheme_output: SchemeOutput::Msin(self.msin.clone()),
        }))
    }

    pub fn registration_request(&self) -> RegistrationRequest {
        let mut r = RegistrationRequest::new(
            MmHeader::default(),
            RegistrationType {
                follow_on_request: false,
                value: RegistrationTypeValue::Initial,
            },
            NasKeySetIdentifier { mapped: false, ksi: 7 },
            self.identity.clone().unwrap_or_else(|| self.suci()),
        );
        r.ue_security_capability = Some(self.caps.clone());
        r.requested_nssai = self
            .requested_nssai
            .as_ref()
            .map(|v| Nssai(v.iter().map(|(sst, sd)| NasSNssai::new(*sst, *sd)).collect()));
        r
    }

    /// Answer an Authentication request as a USIM would (TS 33.102 §6.3.3).
    pub fn authenticate(&mut self, msg: &Message) -> Message {
        let Message::AuthenticationRequest(req) = msg else {
            panic!("expected an Authentication request, got {}", msg.name())
        };
        if let Some(eap) = &req.eap_message {
            return self.authenticate_eap(&eap.0, &req.abba.0);
        }
        let rand = req.rand.unwrap().0;
        let autn = req.autn.unwrap().0;
        let check = match self.milenage.verify_autn(&rand, &autn) {
            Ok(c) => c,
            Err(_) => {
                return Message::from(AuthenticationFailure::new(MmHeader::default(), MmCause::MacFailure));
            }
        };
        let sqn = sqn_value(&check.sqn);
        if sqn <= self.sqn_ms {
            let auts = self.milenage.generate_auts(&rand, &sqn_bytes(self.sqn_ms));
            let mut f = AuthenticationFailure::new(MmHeader::default(), MmCause::SynchFailure);
            f.auts = Some(Auts(auts));
            return Message::from(f);
        }
        self.sqn_ms = sqn;
        let v = check.vector;
        let snn = snn();
        let res_star = keys::res_star(&v.ck, &v.ik, &snn, &rand, &v.res).unwrap();
        let mut sqn_xor_ak = [0u8; 6];
        sqn_xor_ak.copy_from_slice(&autn[..6]);
        let kausf = keys::kausf(&v.ck, &v.ik, &snn, &sqn_xor_ak).unwrap();
        let kseaf = keys::kseaf(&kausf, &snn).unwrap();
        self.kamf = Some(keys::kamf(&kseaf, &self.supi(), &req.abba.0).unwrap());
        let mut resp = AuthenticationResponse::new(MmHeader::default());
        resp.res_star = Some(ResStar(res_star));
        Message::from(resp)
    }

    /// Answer an EAP-Request/AKA'-Challenge as a UE would (RFC 9048, TS 33.501
    /// §6.1.3.1): AUTN and AT_MAC checked, the EAP-Response in an Authentication
    /// response; AKA'-Synchronization-Failure or -Authentication-Reject otherwise.
    fn authenticate_eap(&mut self, request: &[u8], abba: &[u8]) -> Message {
        use hexcore_security::eap_aka_prime as eap;
        let p = eap::Packet::decode(request).expect("an EAP-AKA' request");
        let (rand, autn) = (p.rand().unwrap(), p.autn().unwrap());
        let answer = |packet: Vec<u8>| {
            let mut resp = AuthenticationResponse::new(MmHeader::default());
            resp.eap_message = Some(hexcore_nas::ie::EapMessage(packet));
            Message::from(resp)
        };
        let Ok(check) = self.milenage.verify_autn(&rand, &autn) else {
            return answer(eap::authentication_reject(p.identifier));
        };
        let sqn = sqn_value(&check.sqn);
        if sqn <= self.sqn_ms {
            let auts = self.milenage.generate_auts(&rand, &sqn_bytes(self.sqn_ms));
            return answer(eap::synchronization_failure(p.identifier, &auts));
        }
        self.sqn_ms = sqn;
        let v = check.vector;
        let snn = snn();
        assert_eq!(
            p.kdf_input(),
            Some(snn.as_bytes()),
            "AT_KDF_INPUT is the serving network name"
        );
        let sqn_xor_ak: [u8; 6] = autn[..6].try_into().unwrap();
        let (ck_p, ik_p) = keys::ck_ik_prime(&v.ck, &v.ik, &snn, &sqn_xor_ak).unwrap();
        let k = eap::Keys::derive(&ck_p, &ik_p, self.supi().as_bytes());
        eap::verify_mac(&k.k_aut, request).expect("the request's AT_MAC verifies");
        let kseaf = keys::kseaf(&k.kausf(), &snn).unwrap();
        self.kamf = Some(keys::kamf(&kseaf, &self.supi(), abba).unwrap());
        answer(eap::challenge_response(p.identifier, &v.res, &k.k_aut))
    }

    /// Check a Security mode command with the new context and answer it with a
    /// Security mode complete carrying the whole Registration request (type 4).
    pub fn security_mode(&mut self, bytes: &[u8]) -> Vec<u8> {
        let sp = SecurityProtected::decode(bytes).unwrap();
        assert_eq!(sp.header_type, SecurityHeaderType::IntegrityProtectedNewContext);
        let Some(m) = sp.message.as_deref() else { panic!() };
        let Message::SecurityModeCommand(smc) = m else {
            panic!("expected SMC, got {}", m.name())
        };
        assert_eq!(
            smc.replayed_ue_security_capability, self.caps,
            "replayed UE security capabilities"
        );
        let nea = Nea::from_id(smc.selected_algorithms.ciphering.value()).unwrap();
        let nia = Nia::from_id(smc.selected_algorithms.integrity.value()).unwrap();
        let mut ctx = NasSecurityContext::new(Role::Ue, &self.kamf.unwrap(), nea, nia, NasConnection::ThreeGpp);
        ctx.unprotect(sp.sequence_number, &sp.mac, &sp.payload, false)
            .expect("SMC MAC verifies with the UE's KAMF");
        self.nas = Some(ctx);
        let mut c = SecurityModeComplete::new(MmHeader::default());
        c.imeisv = Some(MobileIdentity::Imeisv("4370816125816151".into()));
        c.nas_message_container = Some(NasMessageContainer(Message::from(self.registration_request()).encode()));
        self.protect(&Message::from(c))
    }

    /// An uplink message, integrity protected and ciphered (type 2; type 4 for the
    /// first one after the SMC is what UEs send, both verify the same).
    pub fn protect(&mut self, msg: &Message) -> Vec<u8> {
        let ctx = self.nas.as_mut().unwrap();
        let p = ctx.protect(&msg.encode(), true).unwrap();
        NasPdu::SecurityProtected(SecurityProtected {
            header_type: SecurityHeaderType::IntegrityProtectedAndCiphered,
            spare: 0,
            mac: p.mac,
            sequence_number: p.sqn,
            payload: p.payload,
            message: None,
        })
        .encode()
    }

    /// An uplink initial message protected with integrity only (type 1), as a UE
    /// sends a Registration request or Service request with its current context.
    pub fn protect_integrity(&mut self, msg: &Message) -> Vec<u8> {
        let ctx = self.nas.as_mut().unwrap();
        let p = ctx.protect(&msg.encode(), false).unwrap();
        NasPdu::SecurityProtected(SecurityProtected {
            header_type: SecurityHeaderType::IntegrityProtected,
            spare: 0,
            mac: p.mac,
            sequence_number: p.sqn,
            payload: p.payload,
            message: None,
        })
        .encode()
    }

    /// Read a downlink NAS PDU: plain, or protected (verified and deciphered).
    pub fn read(&mut self, bytes: &[u8]) -> Message {
        match NasPdu::decode(bytes).unwrap() {
            NasPdu::Plain(m) => m,
            NasPdu::SecurityProtected(sp) => {
                let ctx = self.nas.as_mut().expect("protected downlink needs a context");
                let plain = ctx
                    .unprotect(sp.sequence_number, &sp.mac, &sp.payload, sp.header_type.is_ciphered())
                    .expect("downlink MAC verifies");
                Message::decode_inner(&plain).unwrap()
            }
        }
    }

    pub fn identity_response(&self) -> Message {
        Message::from(IdentityResponse::new(MmHeader::default(), self.suci()))
    }
}

// ------------------------------------------------------------------------ gNB + harness

pub fn location() -> UserLocationNr {
    UserLocationNr {
        nr_cgi: NrCgi {
            plmn: plmn(),
            nr_cell_identity: 0x10,
        },
        tai: Tai {
            plmn: plmn(),
            tac: Tac::from_u32(1),
        },
    }
}

pub fn ng_setup_request(plmn: Plmn, tac: u32, sst: u8) -> NgSetupRequest {
    NgSetupRequest {
        global_gnb_id: GlobalGnbId {
            plmn,
            gnb_id: GnbId::new(1, 22).unwrap(),
        },
        ran_node_name: Some("test-gnb".into()),
        supported_tas: vec![SupportedTa {
            tac: Tac::from_u32(tac),
            broadcast_plmns: vec![BroadcastPlmn {
                plmn,
                slices: vec![SNssai { sst, sd: None }],
            }],
        }],
        default_paging_drx: PagingDRX::v128,
    }
}

/// The AMF, one gNB association, the UDM, on virtual time.
pub struct Harness {
    pub amf: Amf,
    pub udm: FakeUdm,
    pub now: Instant,
    pub assoc: AssocId,
    /// NGAP the AMF sent, not yet looked at.
    pub sent: Vec<(AssocId, u16, NgapPdu)>,
    pub events: Vec<Event>,
    /// UDM requests are answered at once when true; else kept here.
    pub auto_udm: bool,
    pub udm_requests: Vec<UdmRequest>,
    /// Nsmf requests the AMF made, not yet looked at.
    pub smf_requests: Vec<hexcore_sbi::SmfRequest>,
    /// Another AUSF/UDM than [`FakeUdm`] (the real one, in `real_udm`).
    pub backend: Option<Box<dyn FnMut(UdmRequest) -> UdmResponse>>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_settings(Settings::default())
    }

    pub fn with_settings(settings: Settings) -> Self {
        let mut h = Self {
            amf: Amf::new(AmfConfig::new(settings).unwrap(), 0x1000),
            udm: FakeUdm::new(),
            now: Instant::now(),
            assoc: AssocId(1),
            sent: Vec::new(),
            events: Vec::new(),
            auto_udm: true,
            udm_requests: Vec::new(),
            smf_requests: Vec::new(),
            backend: None,
        };
        h.amf.handle(
            h.now,
            Input::AssociationUp {
                assoc: h.assoc,
                out_streams: 3,
            },
        );
        h
    }

    /// Run the AMF's outputs until it is idle.
    pub fn drive(&mut self) {
        for _ in 0..1000 {
            match self.amf.poll_output() {
                None => return,
                Some(Output::Ngap { assoc, stream, bytes }) => {
                    let pdu = NgapPdu::decode(&bytes).expect("the AMF sends decodable NGAP");
                    hexcore_ngap::procedures::parse_any(&pdu);
                    self.sent.push((assoc, stream, pdu));
                }
                Some(Output::Udm(req)) => {
                    if self.auto_udm {
                        let resp = match &mut self.backend {
                            Some(b) => b(req),
                            None => self.udm.handle(req),
                        };
                        self.amf.handle(self.now, Input::Udm(resp));
                    } else {
                        self.udm_requests.push(req);
                    }
                }
                Some(Output::Smf(req)) => self.smf_requests.push(req),
                Some(Output::Event(e)) => self.events.push(e),
            }
        }
        panic!("the AMF does not settle");
    }

    pub fn send(&mut self, pdu: NgapPdu) {
        let bytes = pdu.encode().unwrap();
        self.send_bytes(&bytes);
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.amf.handle(
            self.now,
            Input::Ngap {
                assoc: self.assoc,
                stream: 0,
                bytes: bytes.to_vec(),
            },
        );
        self.drive();
    }

    /// Advance virtual time, firing timers on the way.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(t) = self.amf.poll_timeout() {
            if t > end {
                break;
            }
            self.now = t;
            self.amf.handle(self.now, Input::Timeout);
            self.drive();
        }
        self.now = end;
    }

    /// The NGAP PDUs sent since the last call.
    pub fn take(&mut self) -> Vec<NgapPdu> {
        self.sent.drain(..).map(|(_, _, p)| p).collect()
    }

    /// The only PDU sent since the last call.
    pub fn take_one(&mut self) -> NgapPdu {
        let mut v = self.take();
        assert_eq!(
            v.len(),
            1,
            "expected one PDU, got {:?}",
            v.iter().map(|p| p.message_name()).collect::<Vec<_>>()
        );
        v.remove(0)
    }

    pub fn setup(&mut self) {
        self.send(ng_setup_request(plmn(), 1, 1).build().unwrap());
        let pdu = self.take_one();
        assert_eq!(pdu.message_name(), "NGSetupResponse");
    }

    pub fn initial_ue_message(&mut self, ue: &TestUe, nas: Vec<u8>) {
        let m = InitialUeMessage {
            ran_ue_ngap_id: ue.ran_ue_ngap_id,
            nas_pdu: nas,
            user_location: location(),
            rrc_establishment_cause: RRCEstablishmentCause::mo_Signalling,
            five_g_s_tmsi: None,
            ue_context_requested: false,
        };
        self.send(m.build().unwrap());
    }

    pub fn uplink(&mut self, ue: &TestUe, nas: Vec<u8>) {
        let m = UplinkNasTransport {
            amf_ue_ngap_id: ue.amf_ue_ngap_id.unwrap(),
            ran_ue_ngap_id: ue.ran_ue_ngap_id,
            nas_pdu: nas,
            user_location: location(),
        };
        self.send(m.build().unwrap());
    }

    /// The NAS PDU of the one Downlink NAS Transport sent; learns the AMF UE NGAP ID.
    pub fn downlink_nas(&mut self, ue: &mut TestUe) -> Vec<u8> {
        let pdu = self.take_one();
        let dl = DownlinkNasTransport::parse(&pdu).unwrap_or_else(|e| panic!("{}: {e}", pdu.message_name()));
        assert_eq!(dl.ran_ue_ngap_id, ue.ran_ue_ngap_id);
        ue.amf_ue_ngap_id = Some(dl.amf_ue_ngap_id);
        dl.nas_pdu
    }

    /// Registration up to (and including) the Security mode command; returns its octets.
    pub fn register_until_smc(&mut self, ue: &mut TestUe) -> Vec<u8> {
        let req = Message::from(ue.registration_request()).encode();
        self.initial_ue_message(ue, req);
        let nas = self.downlink_nas(ue);
        let auth = ue.read(&nas);
        let resp = ue.authenticate(&auth);
        self.uplink(ue, resp.encode());
        self.downlink_nas(ue)
    }

    pub fn count_events(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|e| f(e)).count()
    }
}

pub fn identity_type_of(msg: &Message) -> IdentityType {
    match msg {
        Message::IdentityRequest(r) => r.identity_type,
        other => panic!("expected Identity request, got {}", other.name()),
    }
}
