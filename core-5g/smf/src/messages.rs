//! What the SMF sends, built from plain values: 5GSM messages (TS 24.501 §8.3), NGAP
//! transfers (TS 38.413 §9.3.4) and PFCP rules (TS 29.244 §7.5). Nothing here keeps
//! state; the procedures call these builders.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use hexcore_nas::SmCause;
use hexcore_nas::ie::{
    BitRate as NasBitRate, Dnn as NasDnn, ExtendedPco, FilterComponent, PacketFilter, PacketFilterList, PcoItem,
    PduAddress, PduAddressValue, PduSessionType, QosFlowDescription, QosFlowDescriptions, QosFlowParameter, QosRule,
    QosRules, SNssai as NasSnssai, SessionAmbr, SscMode,
};
use hexcore_nas::sm::{
    PduSessionEstablishmentAccept, PduSessionEstablishmentReject, PduSessionModificationCommand,
    PduSessionModificationReject, PduSessionReleaseCommand, PduSessionReleaseReject, SmHeader, SmStatus,
};
use hexcore_nas::{Message, ie::Flags4};
use hexcore_ngap::procedures::{
    Ambr as NgapAmbr, Arp, GtpTunnel, PDUSessionType, PduSessionResourceModifyRequestTransfer,
    PduSessionResourceReleaseCommandTransfer, PduSessionResourceSetupRequestTransfer, PreEmptionCapability,
    PreEmptionVulnerability, QosFlowSetup, UlTunnelModify,
};
use hexcore_pfcp::ie::{
    ApplyAction, BitRate as PfcpBitRate, CreateFar, CreatePdr, CreateQer, CreateUrr, DestinationInterface, DnsName,
    FarId, ForwardingParameters, Fseid, Fteid, GateStatus, MeasurementMethod, NodeId, OuterHeaderCreation,
    OuterHeaderRemoval, Pdi, PdrId, Precedence, QerId, Qfi, ReportingTriggers, SourceInterface, UeIpAddress, UpdateFar,
    UpdateForwardingParameters, UpdateQer, UrrId, Volume,
};
use hexcore_pfcp::{SessionEstablishmentRequest, SessionModificationRequest};

use crate::subscription::Ambr;

/// The QoS flow of every session: QFI 1, the default QoS rule's flow.
pub const DEFAULT_QFI: u8 = 1;
/// The default QoS rule's identifier (QRI).
pub const DEFAULT_QOS_RULE_ID: u8 = 1;
/// Uplink PDR / FAR.
pub const UL_PDR: PdrId = PdrId(1);
/// Downlink PDR / FAR.
pub const DL_PDR: PdrId = PdrId(2);
/// Uplink FAR.
pub const UL_FAR: FarId = FarId(1);
/// Downlink FAR.
pub const DL_FAR: FarId = FarId(2);
/// The session's one URR.
pub const URR: UrrId = UrrId(1);
/// The session's one QER.
pub const QER: QerId = QerId(1);

/// A GTP-U tunnel endpoint: TEID and address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// TEID.
    pub teid: u32,
    /// Transport address.
    pub addr: IpAddr,
}

impl Tunnel {
    /// As NGAP carries it (UP Transport Layer Information).
    pub fn to_ngap(self) -> GtpTunnel {
        GtpTunnel {
            transport_layer_address: match self.addr {
                IpAddr::V4(a) => a.octets().to_vec(),
                IpAddr::V6(a) => a.octets().to_vec(),
            },
            teid: self.teid,
        }
    }

    /// From NGAP: 4 octets IPv4, 16 IPv6, 20 both (the IPv4 one is used; TS 38.414 §5.1).
    pub fn from_ngap(t: &GtpTunnel) -> Option<Tunnel> {
        let a = &t.transport_layer_address;
        let addr = match a.len() {
            4 | 20 => IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])),
            16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(a.as_slice()).ok()?)),
            _ => return None,
        };
        Some(Tunnel { teid: t.teid, addr })
    }

    /// From a PFCP F-TEID the UPF assigned.
    pub fn from_fteid(f: &Fteid) -> Option<Tunnel> {
        match f {
            Fteid::Assigned { teid, ipv4, ipv6 } => {
                let addr = ipv4.map(IpAddr::V4).or(ipv6.map(IpAddr::V6))?;
                Some(Tunnel { teid: *teid, addr })
            }
            Fteid::Choose { .. } => None,
        }
    }

    /// Outer Header Creation towards this tunnel.
    pub fn outer_header_creation(self) -> OuterHeaderCreation {
        match self.addr {
            IpAddr::V4(a) => OuterHeaderCreation::gtpu_v4(self.teid, a),
            IpAddr::V6(a) => OuterHeaderCreation::gtpu_v6(self.teid, a),
        }
    }
}

// ---------------------------------------------------------------- 5GSM

/// A bit rate as a 5GSM Session-AMBR value (TS 24.501 §9.11.4.14): exact when some
/// unit's 16-bit multiple holds the rate, else the finest unit that holds it (rounded
/// down).
pub fn nas_bit_rate(bps: u64) -> NasBitRate {
    let unit_bps = |unit: u8| -> u64 {
        let u = u32::from(unit - 1);
        4u64.pow(u % 5).saturating_mul(1000u64.saturating_pow(u / 5 + 1))
    };
    let fits = |unit: u8| bps.div_ceil(unit_bps(unit)) <= u64::from(u16::MAX);
    let exact = |u: u8| fits(u) && bps.is_multiple_of(unit_bps(u));
    // Plain kbps / Mbps / Gbps … first (what captures show: 1 Gbps = 1000 × 1 Mbps),
    // then any exact unit, then the finest that fits.
    let unit = [1u8, 6, 11, 16, 21]
        .into_iter()
        .find(|&u| exact(u))
        .or_else(|| (1..=25u8).find(|&u| exact(u)))
        .or_else(|| (1..=25u8).find(|&u| fits(u)))
        .unwrap_or(25);
    let value = u16::try_from(bps / unit_bps(unit)).unwrap_or(u16::MAX).max(1);
    NasBitRate { unit, value }
}

fn session_ambr(ambr: Ambr) -> SessionAmbr {
    SessionAmbr {
        downlink: nas_bit_rate(ambr.downlink_bps),
        uplink: nas_bit_rate(ambr.uplink_bps),
    }
}

/// The default QoS rule (TS 24.501 §9.11.4.13, §6.2.5.1.1.2: match-all, precedence
/// 255, QFI 1).
pub fn default_qos_rules() -> QosRules {
    QosRules(vec![QosRule {
        id: DEFAULT_QOS_RULE_ID,
        operation: 1,
        default_rule: true,
        filters: PacketFilterList::Filters(vec![PacketFilter {
            direction: 3,
            id: 1,
            components: vec![FilterComponent::MatchAll],
        }]),
        precedence: Some(255),
        segregation: false,
        qfi: DEFAULT_QFI,
    }])
}

/// What the accept says beyond the fixed parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptParams {
    /// PDU session identity and PTI.
    pub header: SmHeader,
    /// The UE's address.
    pub ue_ipv4: Ipv4Addr,
    /// Session AMBR.
    pub ambr: Ambr,
    /// S-NSSAI.
    pub s_nssai: (u8, Option<u32>),
    /// DNN.
    pub dnn: String,
    /// 5QI of QFI 1.
    pub five_qi: u8,
    /// The UE asked for IPv4v6 and gets IPv4 (cause #50 in the accept, TS 24.501
    /// §6.4.1.3).
    pub ipv4_only: bool,
    /// Extended PCO answer.
    pub pco: Option<ExtendedPco>,
}

/// PDU SESSION ESTABLISHMENT ACCEPT (TS 24.501 §8.3.2).
pub fn establishment_accept(p: &AcceptParams) -> Vec<u8> {
    let mut m = PduSessionEstablishmentAccept::new(
        p.header,
        PduSessionType::Ipv4,
        SscMode::Mode1,
        default_qos_rules(),
        session_ambr(p.ambr),
    );
    if p.ipv4_only {
        m.cause = Some(SmCause::PduSessionTypeIpv4OnlyAllowed);
    }
    m.pdu_address = Some(PduAddress {
        value: PduAddressValue::Ipv4(p.ue_ipv4),
        smf_ipv6_link_local: None,
    });
    m.s_nssai = Some(NasSnssai::new(p.s_nssai.0, p.s_nssai.1));
    m.authorized_qos_flow_descriptions = Some(QosFlowDescriptions(vec![QosFlowDescription {
        qfi: DEFAULT_QFI,
        operation: 1,
        e_bit: true,
        parameters: vec![QosFlowParameter::FiveQi(p.five_qi)],
    }]));
    m.extended_pco = p.pco.clone();
    m.dnn = Some(NasDnn::from_name(&p.dnn));
    Message::from(m).encode()
}

/// PDU SESSION ESTABLISHMENT REJECT (TS 24.501 §8.3.3). For #68 the allowed SSC mode
/// (SSC mode 1) is included (§6.4.1.4.2).
pub fn establishment_reject(header: SmHeader, cause: SmCause) -> Vec<u8> {
    let mut m = PduSessionEstablishmentReject::new(header, cause);
    if cause == SmCause::NotSupportedSscMode {
        m.allowed_ssc_mode = Some(Flags4(0b001));
    }
    Message::from(m).encode()
}

/// PDU SESSION RELEASE COMMAND (TS 24.501 §8.3.14).
pub fn release_command(header: SmHeader, cause: SmCause) -> Vec<u8> {
    Message::from(PduSessionReleaseCommand::new(header, cause)).encode()
}

/// PDU SESSION RELEASE REJECT (TS 24.501 §8.3.13).
pub fn release_reject(header: SmHeader, cause: SmCause) -> Vec<u8> {
    Message::from(PduSessionReleaseReject::new(header, cause)).encode()
}

/// PDU SESSION MODIFICATION COMMAND (TS 24.501 §8.3.9) with the session AMBR.
pub fn modification_command(header: SmHeader, ambr: Ambr) -> Vec<u8> {
    let mut m = PduSessionModificationCommand::new(header);
    m.session_ambr = Some(session_ambr(ambr));
    Message::from(m).encode()
}

/// PDU SESSION MODIFICATION REJECT (TS 24.501 §8.3.8).
pub fn modification_reject(header: SmHeader, cause: SmCause) -> Vec<u8> {
    Message::from(PduSessionModificationReject::new(header, cause)).encode()
}

/// 5GSM STATUS (TS 24.501 §8.3.16).
pub fn sm_status(header: SmHeader, cause: SmCause) -> Vec<u8> {
    Message::from(SmStatus {
        header,
        cause,
        unknown_ies: vec![],
    })
    .encode()
}

/// Extended PCO container identifiers (TS 24.008 Table 10.5.154, UE → network and
/// network → UE).
pub mod pco {
    /// DNS Server IPv6 Address (request / answer).
    pub const DNS_IPV6: u16 = 0x0003;
    /// IP address allocation via NAS signalling.
    pub const IP_ALLOCATION_VIA_NAS: u16 = 0x000A;
    /// DNS Server IPv4 Address (request / answer).
    pub const DNS_IPV4: u16 = 0x000D;
    /// IPv4 Link MTU (request / answer).
    pub const IPV4_LINK_MTU: u16 = 0x0010;
}

/// The answer to the UE's extended PCO requests (TS 24.501 §6.4.1.3, TS 24.008
/// §10.5.6.3): one container per DNS server of the asked family, and the link MTU.
/// `None` when the UE asked for nothing this SMF answers.
pub fn pco_answer(request: &ExtendedPco, dns_v4: &[Ipv4Addr], dns_v6: &[Ipv6Addr], mtu: u16) -> Option<ExtendedPco> {
    let asks = |id| request.item(id).is_some();
    let mut items = Vec::new();
    if asks(pco::DNS_IPV4) {
        items.extend(dns_v4.iter().map(|a| PcoItem {
            id: pco::DNS_IPV4,
            contents: a.octets().to_vec(),
        }));
    }
    if asks(pco::DNS_IPV6) {
        items.extend(dns_v6.iter().map(|a| PcoItem {
            id: pco::DNS_IPV6,
            contents: a.octets().to_vec(),
        }));
    }
    if asks(pco::IPV4_LINK_MTU) {
        items.push(PcoItem {
            id: pco::IPV4_LINK_MTU,
            contents: mtu.to_be_bytes().to_vec(),
        });
    }
    // Octet 3: extension bit set, configuration protocol 0 (PPP with IP PDP).
    (!items.is_empty()).then_some(ExtendedPco { header: 0x80, items })
}

// ---------------------------------------------------------------- NGAP transfers

fn ngap_ambr(a: Ambr) -> NgapAmbr {
    NgapAmbr {
        downlink: a.downlink_bps,
        uplink: a.uplink_bps,
    }
}

/// PDU Session Resource Setup Request Transfer (TS 38.413 §9.3.4.1): the UPF's N3
/// tunnel, the session AMBR, IPv4, QoS flow 1.
pub fn setup_request_transfer(
    ul: Tunnel,
    ambr: Ambr,
    five_qi: u8,
    arp_priority_level: u8,
) -> Result<Vec<u8>, hexcore_ngap::Error> {
    PduSessionResourceSetupRequestTransfer {
        session_ambr: Some(ngap_ambr(ambr)),
        ul_tunnel: ul.to_ngap(),
        additional_ul_tunnels: vec![],
        pdu_session_type: PDUSessionType::ipv4,
        qos_flows: vec![QosFlowSetup {
            qfi: DEFAULT_QFI,
            five_qi: u16::from(five_qi),
            arp: Arp {
                priority_level: arp_priority_level,
                pre_emption_capability: PreEmptionCapability::shall_not_trigger_pre_emption,
                pre_emption_vulnerability: PreEmptionVulnerability::not_pre_emptable,
            },
        }],
    }
    .encode()
}

/// PDU Session Resource Release Command Transfer (TS 38.413 §9.3.4.12).
pub fn release_command_transfer(cause: hexcore_ngap::Cause) -> Result<Vec<u8>, hexcore_ngap::Error> {
    PduSessionResourceReleaseCommandTransfer { cause }.encode()
}

/// PDU Session Resource Modify Request Transfer (TS 38.413 §9.3.4.3): a new session
/// AMBR and/or a new UL tunnel paired with the gNB's DL tunnel.
pub fn modify_request_transfer(
    ambr: Option<Ambr>,
    ul: Option<(Tunnel, Tunnel)>,
) -> Result<Vec<u8>, hexcore_ngap::Error> {
    PduSessionResourceModifyRequestTransfer {
        session_ambr: ambr.map(ngap_ambr),
        ul_tunnels: ul
            .map(|(ul, dl)| UlTunnelModify {
                ul_tunnel: ul.to_ngap(),
                dl_tunnel: dl.to_ngap(),
            })
            .into_iter()
            .collect(),
    }
    .encode()
}

// ---------------------------------------------------------------- PFCP rules

/// Usage reporting rule parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrrParams {
    /// PERIO interval; zero: none.
    pub period: Duration,
    /// VOLTH, octets; zero: none.
    pub volume_threshold: u64,
    /// VOLQU, octets; zero: none.
    pub volume_quota: u64,
}

/// What a PFCP session of a PDU session holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRules {
    /// The UE's address.
    pub ue_ipv4: Ipv4Addr,
    /// DNN (the network instance on both sides, and the APN/DNN IE).
    pub dnn: String,
    /// Session AMBR → QER MBR.
    pub ambr: Ambr,
    /// The gNB's tunnel when known (DL FAR forwards to it), else the DL FAR buffers.
    pub an_tunnel: Option<Tunnel>,
    /// Usage reporting.
    pub urr: UrrParams,
}

/// kbit/s, rounded up (TS 29.244 §8.2.8: MBR in kbps).
fn kbps(bps: u64) -> u64 {
    bps.div_ceil(1000)
}

/// PFCP Session Establishment Request (TS 29.244 §7.5.2; TS 23.501 §5.8.2.11 for the
/// rules): uplink PDR 1 (Access, F-TEID CHOOSE, QFI 1, GTP-U removed) → FAR 1 (forward
/// to Core); downlink PDR 2 (Core, UE address as destination) → FAR 2 (forward to the
/// gNB's tunnel, or buffer and notify until it is known); both measured by URR 1 and
/// policed by QER 1 (session AMBR, QFI 1).
pub fn establishment_request(node: Ipv4Addr, cp_seid: u64, r: &SessionRules) -> SessionEstablishmentRequest {
    let instance = DnsName::labels(&r.dnn);
    let ul_pdr = CreatePdr::new(
        UL_PDR,
        Precedence(255),
        Pdi::new(SourceInterface::Access)
            .local_fteid(Fteid::choose_v4(None))
            .network_instance(instance.clone())
            .ue_ip_addresses([UeIpAddress::source_v4(r.ue_ipv4)])
            .qfis([Qfi(DEFAULT_QFI)]),
    )
    .outer_header_removal(OuterHeaderRemoval::GTPU_UDP_IPV4)
    .far_id(UL_FAR)
    .urr_ids([URR])
    .qer_ids([QER]);
    let dl_pdr = CreatePdr::new(
        DL_PDR,
        Precedence(255),
        Pdi::new(SourceInterface::Core)
            .network_instance(instance.clone())
            .ue_ip_addresses([UeIpAddress::destination_v4(r.ue_ipv4)]),
    )
    .far_id(DL_FAR)
    .urr_ids([URR])
    .qer_ids([QER]);
    let ul_far = CreateFar::forward(
        UL_FAR,
        ForwardingParameters::new(DestinationInterface::Core).network_instance(instance.clone()),
    );
    let dl_far = match r.an_tunnel {
        Some(t) => CreateFar::forward(
            DL_FAR,
            ForwardingParameters::new(DestinationInterface::Access).outer_header_creation(t.outer_header_creation()),
        ),
        None => CreateFar::buffer(DL_FAR),
    };
    let qer = CreateQer::new(QER, GateStatus::OPEN)
        .mbr(PfcpBitRate {
            uplink: kbps(r.ambr.uplink_bps),
            downlink: kbps(r.ambr.downlink_bps),
        })
        .qfi(Qfi(DEFAULT_QFI));
    SessionEstablishmentRequest::new(
        NodeId::Ipv4(node),
        Fseid::v4(cp_seid, node),
        vec![ul_pdr, dl_pdr],
        vec![ul_far, dl_far],
    )
    .create_urrs([create_urr(r.urr)])
    .create_qers([qer])
    .pdn_type(vec![1])
    .apn_dnn(instance)
}

/// URR 1: volume measurement, with the configured triggers.
pub fn create_urr(p: UrrParams) -> CreateUrr {
    let mut triggers = 0;
    if !p.period.is_zero() {
        triggers |= ReportingTriggers::PERIO;
    }
    if p.volume_threshold > 0 {
        triggers |= ReportingTriggers::VOLTH;
    }
    if p.volume_quota > 0 {
        triggers |= ReportingTriggers::VOLQU;
    }
    let mut urr = CreateUrr::new(
        URR,
        MeasurementMethod::new(MeasurementMethod::VOLUM),
        ReportingTriggers::new(triggers),
    );
    if !p.period.is_zero() {
        urr = urr.measurement_period(p.period);
    }
    if p.volume_threshold > 0 {
        urr = urr.volume_threshold(Volume::total(p.volume_threshold));
    }
    if p.volume_quota > 0 {
        urr = urr.volume_quota(Volume::total(p.volume_quota));
    }
    urr
}

/// Session Modification Request: the downlink FAR forwards to the gNB's tunnel
/// (TS 23.502 §4.3.2.2.1 step 16a).
pub fn forward_downlink(t: Tunnel) -> SessionModificationRequest {
    SessionModificationRequest::new().update_fars([UpdateFar::new(DL_FAR)
        .apply_action(ApplyAction::new(ApplyAction::FORW))
        .update_forwarding_parameters(
            UpdateForwardingParameters::new()
                .destination_interface(DestinationInterface::Access)
                .outer_header_creation(t.outer_header_creation()),
        )])
}

/// Session Modification Request: the downlink FAR buffers and notifies (AN release,
/// TS 23.502 §4.2.6 step 6b).
pub fn buffer_downlink() -> SessionModificationRequest {
    SessionModificationRequest::new()
        .update_fars([UpdateFar::new(DL_FAR).apply_action(ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP))])
}

/// Session Modification Request: a new session AMBR in QER 1 (TS 23.502 §4.3.3.2
/// step 2).
pub fn update_ambr(ambr: Ambr) -> SessionModificationRequest {
    SessionModificationRequest::new().update_qers([UpdateQer::new(QER).mbr(PfcpBitRate {
        uplink: kbps(ambr.uplink_bps),
        downlink: kbps(ambr.downlink_bps),
    })])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_rates() {
        assert_eq!(nas_bit_rate(1_000_000_000), NasBitRate { unit: 6, value: 1000 });
        assert_eq!(nas_bit_rate(100_000_000), NasBitRate { unit: 6, value: 100 });
        assert_eq!(nas_bit_rate(128_000), NasBitRate { unit: 1, value: 128 });
        assert_eq!(nas_bit_rate(10_000_000_000).bps(), Some(10_000_000_000));
        assert_eq!(nas_bit_rate(0).value, 1);
        let odd = nas_bit_rate(123_456_789_000);
        assert!(odd.bps().unwrap() <= 123_456_789_000);
    }

    #[test]
    fn pco_answers_what_was_asked() {
        let req = ExtendedPco {
            header: 0x80,
            items: vec![
                PcoItem {
                    id: pco::IP_ALLOCATION_VIA_NAS,
                    contents: vec![],
                },
                PcoItem {
                    id: pco::DNS_IPV4,
                    contents: vec![],
                },
            ],
        };
        let dns = [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(1, 1, 1, 1)];
        let a = pco_answer(&req, &dns, &[], 1400).unwrap();
        assert_eq!(
            a.to_bytes_for_test(),
            [0x80, 0x00, 0x0d, 4, 8, 8, 8, 8, 0x00, 0x0d, 4, 1, 1, 1, 1]
        );
        let only_nas = ExtendedPco {
            header: 0x80,
            items: vec![],
        };
        assert_eq!(pco_answer(&only_nas, &dns, &[], 1400), None);
    }

    trait ToBytes {
        fn to_bytes_for_test(&self) -> Vec<u8>;
    }
    impl ToBytes for ExtendedPco {
        fn to_bytes_for_test(&self) -> Vec<u8> {
            use hexcore_nas::IeValue;
            self.to_bytes()
        }
    }
}
