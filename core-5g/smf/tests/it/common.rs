//! The sans-IO test bench: the SMF, a fake UPF built from hexcore-pfcp's codec and
//! transaction layer, a fake AMF (a log of what the SMF asked) and a fake UDM, on
//! virtual time. Datagrams can be dropped to simulate loss.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hexcore_nas::Message;
use hexcore_nas::sm::SmHeader;
use hexcore_pfcp::Message as Pfcp;
use hexcore_pfcp::ie::*;
use hexcore_pfcp::*;
use hexcore_sbi::{AmfRequest, N2SmInfo, N2SmInfoType, RequestType, SmContextRef, SmfRequest, Snssai, UserLocation};
use hexcore_smf::usage::UsageSink;
use hexcore_smf::{
    Ambr, Input, JsonLinesSink, Output, Settings, Smf, SmfConfig, Subscription, SubscriptionAnswer,
    SubscriptionFailure, SubscriptionRequest, UsageRecord,
};

pub const UPF: &str = "127.0.0.1:8805";
pub const SMF: &str = "127.0.0.1:8806";
pub const UPF_N3: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 8);
pub const SUPI: &str = "999700000000001";

// PDU SESSION ESTABLISHMENT REQUEST from UERANSIM (as quoted in hexcore-nas's tests):
// PSI 1, PTI 1, integrity max rate full, IPv4, SSC mode 1, 5GSM capability, extended PCO
// asking for IP address allocation via NAS (000A) and DNS server IPv4 address (000D).
pub static EST_REQ_UERANSIM: [u8; 21] = [
    0x2e, 0x01, 0x01, 0xc1, 0xff, 0xff, 0x91, 0xa1, 0x28, 0x01, 0x00, 0x7b, 0x00, 0x07, 0x80, 0x00, 0x0a, 0x00, 0x00,
    0x0d, 0x00,
];
// The same message from a Go UE simulator's test table run against free5GC (as quoted in
// hexcore-nas's tests): PSI 1, PTI 1, IPv4v6, nothing else.
pub static EST_REQ_SIM: [u8; 7] = [0x2e, 0x01, 0x01, 0xc1, 0xff, 0xff, 0x93];
// PDU Session Resource Setup Response Transfer from PacketRusher as gNB (oxirush-ngap
// 0.5.0 fixtures, captured-172, as quoted in hexcore-ngap's tests): DL tunnel 127.0.0.1
// TEID 1, QFI 1.
pub static SETUP_RESPONSE_TRANSFER: [u8; 13] = [
    0x00, 0x03, 0xe0, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
];

pub fn ctx(psi: u8) -> SmContextRef {
    SmContextRef {
        supi: SUPI.into(),
        pdu_session_id: psi,
    }
}

pub fn slice() -> Snssai {
    Snssai { sst: 1, sd: None }
}

pub fn subscription() -> Subscription {
    Subscription {
        nssai: vec![slice()],
        dnns: vec!["internet".into()],
        ambr: Ambr {
            uplink_bps: 100_000_000,
            downlink_bps: 1_000_000_000,
        },
    }
}

pub fn create(psi: u8, dnn: Option<&str>, n1: &[u8]) -> SmfRequest {
    SmfRequest::CreateSmContext {
        context: ctx(psi),
        dnn: dnn.map(str::to_string),
        s_nssai: Some(slice()),
        request_type: RequestType::InitialRequest,
        n1_sm: n1.to_vec(),
        location: UserLocation {
            mcc: "999".into(),
            mnc: "70".into(),
            tac: 1,
            nr_cell_id: 1,
        },
        pei: None,
    }
}

pub fn update(psi: u8, n1: Option<Vec<u8>>, n2: Option<N2SmInfo>, up: Option<hexcore_sbi::UpCnxState>) -> SmfRequest {
    SmfRequest::UpdateSmContext {
        context: ctx(psi),
        n1_sm: n1,
        n2_sm: n2,
        up_cnx_state: up,
        location: None,
    }
}

pub fn setup_rsp() -> N2SmInfo {
    N2SmInfo {
        kind: N2SmInfoType::PduResSetupRsp,
        transfer: SETUP_RESPONSE_TRANSFER.to_vec(),
    }
}

/// An establishment request with the given PSI/PTI and changes.
pub fn est_req(psi: u8, pti: u8, edit: impl FnOnce(&mut hexcore_nas::sm::PduSessionEstablishmentRequest)) -> Vec<u8> {
    let Ok(Message::PduSessionEstablishmentRequest(mut m)) = Message::decode(&EST_REQ_UERANSIM) else {
        panic!("UERANSIM bytes decode")
    };
    m.header = SmHeader {
        pdu_session_id: psi,
        pti,
    };
    edit(&mut m);
    Message::from(m).encode()
}

/// What the fake UPF keeps of a session.
#[derive(Debug, Clone)]
pub struct UpSession {
    pub cp_seid: u64,
    pub establishment: SessionEstablishmentRequest,
    pub modifications: Vec<SessionModificationRequest>,
    pub teid: u32,
}

/// A UPF built from hexcore-pfcp.
pub struct FakeUpf {
    pub addr: SocketAddr,
    pub tx: Transactions<SocketAddr>,
    pub recovery: Timestamp,
    pub sessions: HashMap<u64, UpSession>,
    pub next_seid: u64,
    pub next_teid: u32,
    /// Answer establishments with this cause (None: accept).
    pub refuse: Option<Cause>,
    /// Answers nothing at all (unplugged).
    pub down: bool,
    /// Every request received, decoded.
    pub log: Vec<Pdu>,
    /// Responses to our own requests (session reports).
    pub responses: Vec<Pdu>,
    /// Octets to report in the final usage report of a deletion.
    pub final_volume: (u64, u64),
}

impl FakeUpf {
    pub fn new(addr: SocketAddr, recovery: u64) -> Self {
        let local = LocalNode {
            node_id: NodeId::Ipv4(Ipv4Addr::LOCALHOST),
            recovery_time_stamp: Timestamp::from_unix_secs(recovery),
        };
        FakeUpf {
            addr,
            tx: Transactions::new(local.clone(), Config::default()),
            recovery: local.recovery_time_stamp,
            sessions: HashMap::new(),
            next_seid: 0x1000,
            next_teid: 0x100,
            refuse: None,
            down: false,
            log: vec![],
            responses: vec![],
            final_volume: (1000, 9000),
        }
    }

    /// Lose every session and come back with a new Recovery Time Stamp.
    pub fn restart(&mut self, recovery: u64) {
        *self = FakeUpf {
            log: std::mem::take(&mut self.log),
            next_seid: self.next_seid + 0x1000,
            next_teid: self.next_teid + 0x1000,
            ..FakeUpf::new(self.addr, recovery)
        };
    }

    fn node_id(&self) -> NodeId {
        NodeId::Ipv4(Ipv4Addr::LOCALHOST)
    }

    pub fn serve(&mut self, now: Instant) {
        while let Some(ev) = self.tx.poll_event() {
            match ev {
                Event::Request { peer, pdu } => {
                    self.log.push(pdu.clone());
                    if let Some(rsp) = self.answer(&pdu) {
                        self.tx.send_response(now, peer, &rsp);
                    }
                }
                Event::Response { response: Ok(pdu), .. } => self.responses.push(pdu),
                _ => {}
            }
        }
    }

    fn answer(&mut self, pdu: &Pdu) -> Option<Pdu> {
        let h = &pdu.header;
        Some(match &pdu.message {
            Pfcp::AssociationSetupRequest(_) => Pdu::response_to(
                h,
                0,
                AssociationSetupResponse::new(self.node_id(), Cause::RequestAccepted, self.recovery),
            ),
            Pfcp::HeartbeatRequest(_) => Pdu::response_to(h, 0, HeartbeatResponse::new(self.recovery)),
            Pfcp::SessionEstablishmentRequest(req) => {
                if let Some(cause) = self.refuse {
                    return Some(Pdu::response_to(
                        h,
                        req.cp_fseid.seid,
                        SessionEstablishmentResponse::new(self.node_id(), cause),
                    ));
                }
                let seid = self.next_seid;
                self.next_seid += 1;
                let teid = self.next_teid;
                self.next_teid += 1;
                self.sessions.insert(
                    seid,
                    UpSession {
                        cp_seid: req.cp_fseid.seid,
                        establishment: req.clone(),
                        modifications: vec![],
                        teid,
                    },
                );
                let rsp = SessionEstablishmentResponse::new(self.node_id(), Cause::RequestAccepted)
                    .up_fseid(Fseid::v4(seid, Ipv4Addr::LOCALHOST))
                    .created_pdrs([CreatedPdr::new(PdrId(1)).local_fteid(Fteid::v4(teid, UPF_N3))]);
                Pdu::response_to(h, req.cp_fseid.seid, rsp)
            }
            Pfcp::SessionModificationRequest(req) => {
                let seid = h.seid.unwrap_or(0);
                match self.sessions.get_mut(&seid) {
                    Some(s) => {
                        s.modifications.push(req.clone());
                        let cp = s.cp_seid;
                        Pdu::response_to(h, cp, SessionModificationResponse::new(Cause::RequestAccepted))
                    }
                    None => Pdu::response_to(h, 0, SessionModificationResponse::new(Cause::SessionContextNotFound)),
                }
            }
            Pfcp::SessionDeletionRequest(_) => {
                let seid = h.seid.unwrap_or(0);
                match self.sessions.remove(&seid) {
                    Some(s) => {
                        let (ul, dl) = self.final_volume;
                        let report =
                            UsageReport::new(UrrId(1), UrSeqn(7), UsageReportTrigger::new(UsageReportTrigger::TERMR))
                                .start_time(Timestamp::from_unix_secs(1_767_225_600))
                                .end_time(Timestamp::from_unix_secs(1_767_225_660))
                                .volume_measurement(VolumeMeasurement {
                                    total_volume: Some(ul + dl),
                                    uplink_volume: Some(ul),
                                    downlink_volume: Some(dl),
                                    total_packets: Some(30),
                                    uplink_packets: Some(10),
                                    downlink_packets: Some(20),
                                });
                        Pdu::response_to(
                            h,
                            s.cp_seid,
                            SessionDeletionResponse::new(Cause::RequestAccepted).usage_reports([report]),
                        )
                    }
                    None => Pdu::response_to(h, 0, SessionDeletionResponse::new(Cause::SessionContextNotFound)),
                }
            }
            _ => return None,
        })
    }

    /// The one session (panics when there is not exactly one).
    pub fn only_session(&self) -> (u64, &UpSession) {
        assert_eq!(self.sessions.len(), 1, "UPF sessions: {:?}", self.sessions.keys());
        let (k, v) = self.sessions.iter().next().unwrap();
        (*k, v)
    }
}

/// How the fake UDM answers.
pub enum Udm {
    Answer(Result<Subscription, SubscriptionFailure>),
    /// Keep the requests; the test answers.
    Hold,
}

pub struct Lab {
    pub now: Instant,
    pub smf: Smf,
    pub upf: FakeUpf,
    pub amf: Vec<AmfRequest>,
    pub events: Vec<hexcore_smf::Event>,
    pub udm: Udm,
    pub held: Vec<SubscriptionRequest>,
    pub sink: JsonLinesSink,
    pub sink_fails: bool,
    pub dir: tempfile::TempDir,
    /// Drop the next N datagrams SMF → UPF.
    pub drop_to_upf: usize,
    /// Drop the next N datagrams UPF → SMF.
    pub drop_to_smf: usize,
    /// Every datagram SMF → UPF, decoded.
    pub sent: Vec<Pdu>,
    /// The order in which usage batches and PFCP responses left the SMF.
    pub trace: Vec<String>,
}

pub fn settings() -> Settings {
    Settings::default()
}

impl Lab {
    pub fn new() -> Lab {
        Lab::with(settings())
    }

    pub fn with(settings: Settings) -> Lab {
        let config = SmfConfig::new(&settings).expect("settings");
        let now = Instant::now();
        let dir = tempfile::tempdir().expect("tempdir");
        let sink = JsonLinesSink::open(dir.path().join("usage.jsonl")).expect("sink");
        let mut lab = Lab {
            now,
            smf: Smf::new(config, 1_767_225_000, 42),
            upf: FakeUpf::new(UPF.parse().unwrap(), 1_767_000_000),
            amf: vec![],
            events: vec![],
            udm: Udm::Answer(Ok(subscription())),
            held: vec![],
            sink,
            sink_fails: false,
            dir,
            drop_to_upf: 0,
            drop_to_smf: 0,
            sent: vec![],
            trace: vec![],
        };
        lab.smf.associate(now);
        lab.step();
        lab
    }

    pub fn usage_path(&self) -> PathBuf {
        self.dir.path().join("usage.jsonl")
    }

    pub fn records(&self) -> Vec<UsageRecord> {
        JsonLinesSink::read_all(self.usage_path()).unwrap_or_default()
    }

    /// Move everything until nothing moves (bounded).
    pub fn step(&mut self) {
        let smf_addr: SocketAddr = SMF.parse().unwrap();
        for _ in 0..1000 {
            let mut moved = false;
            while let Some(out) = self.smf.poll_output() {
                moved = true;
                match out {
                    Output::Amf(r) => self.amf.push(r),
                    Output::Pfcp { peer, bytes } => {
                        let pdu = Pdu::decode(&bytes).expect("the SMF sends decodable PFCP");
                        if peer != self.upf.addr {
                            // An answer to a stranger (see garbage_never_panics).
                            continue;
                        }
                        if pdu.message.direction() == Direction::Response {
                            self.trace.push(format!("pfcp {:?}", pdu.message.message_type()));
                        }
                        self.sent.push(pdu);
                        if self.drop_to_upf > 0 {
                            self.drop_to_upf -= 1;
                        } else if !self.upf.down {
                            self.upf.tx.handle_datagram(self.now, smf_addr, &bytes);
                        }
                    }
                    Output::Subscription(req) => match &self.udm {
                        Udm::Answer(result) => {
                            let answer = SubscriptionAnswer {
                                supi: req.supi,
                                result: result.clone(),
                            };
                            self.smf.handle(self.now, Input::Subscription(answer));
                        }
                        Udm::Hold => self.held.push(req),
                    },
                    Output::Usage { records, ack } => {
                        self.trace.push(format!("usage {}", records.len()));
                        let stored = !self.sink_fails && self.sink.record(&records).is_ok();
                        if let Some(ack) = ack {
                            self.smf.handle(self.now, Input::UsageStored { ack, stored });
                        }
                    }
                    Output::Event(e) => self.events.push(e),
                }
            }
            self.upf.serve(self.now);
            while let Some(t) = self.upf.tx.poll_transmit() {
                moved = true;
                if self.drop_to_smf > 0 {
                    self.drop_to_smf -= 1;
                    continue;
                }
                self.smf.handle(
                    self.now,
                    Input::Pfcp {
                        peer: self.upf.addr,
                        bytes: t.bytes,
                    },
                );
            }
            if !moved {
                return;
            }
        }
        panic!("the lab does not settle");
    }

    pub fn send(&mut self, request: SmfRequest) {
        self.smf.handle(self.now, Input::Amf(request));
        self.step();
    }

    /// Let time pass in steps, firing every deadline on the way.
    pub fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        for _ in 0..10_000 {
            let next = [self.smf.poll_timeout(), self.upf.tx.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.upf.tx.handle_timeout(self.now);
                    self.smf.handle(self.now, Input::Timeout);
                    self.step();
                }
                _ => {
                    self.now = end;
                    self.smf.handle(self.now, Input::Timeout);
                    self.step();
                    return;
                }
            }
        }
        panic!("too many deadlines");
    }

    /// The UPF sends a Session Report Request for CP SEID `cp_seid`.
    pub fn report(&mut self, cp_seid: u64, req: SessionReportRequest) {
        let smf_addr: SocketAddr = SMF.parse().unwrap();
        self.upf.tx.send_request(self.now, smf_addr, Pdu::session(cp_seid, req));
        self.step();
    }

    pub fn take_amf(&mut self) -> Vec<AmfRequest> {
        std::mem::take(&mut self.amf)
    }

    pub fn take_sent(&mut self) -> Vec<Pdu> {
        std::mem::take(&mut self.sent)
    }

    /// Establish PDU session `psi` with the UERANSIM request and the gNB's setup
    /// response: returns the N1N2 of the accept.
    pub fn establish(&mut self, psi: u8) -> AmfRequest {
        self.send(create(psi, Some("internet"), &est_req(psi, psi, |_| {})));
        let out = self.take_amf();
        assert_eq!(out.len(), 1, "{out:?}");
        self.send(update(psi, None, Some(setup_rsp()), None));
        out.into_iter().next().unwrap()
    }
}

/// The N1 and N2 of an N1N2MessageTransfer.
pub fn n1n2(r: &AmfRequest) -> (Option<Message>, Option<&N2SmInfo>) {
    match r {
        AmfRequest::N1N2MessageTransfer { n1_sm, n2_sm, .. } => (
            n1_sm
                .as_ref()
                .map(|b| Message::decode(b).expect("the SMF sends decodable 5GSM")),
            n2_sm.as_ref(),
        ),
        other => panic!("not an N1N2 transfer: {other:?}"),
    }
}

pub fn sm_cause_of(m: &Message) -> Option<u8> {
    match m {
        Message::PduSessionEstablishmentReject(r) => Some(r.cause.value()),
        Message::PduSessionReleaseCommand(r) => Some(r.cause.value()),
        Message::PduSessionReleaseReject(r) => Some(r.cause.value()),
        Message::PduSessionModificationReject(r) => Some(r.cause.value()),
        Message::SmStatus(r) => Some(r.cause.value()),
        _ => None,
    }
}
