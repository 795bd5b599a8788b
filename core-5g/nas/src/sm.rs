//! 5GSM messages (TS 24.501 §8.3). Each table follows the message's table in §8.3.

use crate::codec::nas_message;
use crate::ie::*;

/// The 5GSM header octets between the EPD and the message type (TS 24.501 §9.4,
/// §9.6): PDU session identity and procedure transaction identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SmHeader {
    /// PDU session identity (1..=15; 0 = no PDU session identity assigned).
    pub pdu_session_id: u8,
    /// Procedure transaction identity (0 = none assigned).
    pub pti: u8,
}

nas_message! {
    /// PDU session establishment request (TS 24.501 §8.3.1), UE → SMF.
    pub struct PduSessionEstablishmentRequest: SmHeader {
        /// Integrity protection maximum data rate.
        integrity_protection_maximum_data_rate: IntegrityProtectionMaximumDataRate = V,
    }
    optional {
        /// PDU session type.
        0x90 pdu_session_type: PduSessionType = TV1,
        /// SSC mode.
        0xA0 ssc_mode: SscMode = TV1,
        /// 5GSM capability.
        0x28 sm_capability: RawValue = TLV,
        /// Maximum number of supported packet filters.
        0x55 max_packet_filters: MaxPacketFilters = TV,
        /// Always-on PDU session requested.
        0xB0 always_on_requested: Flags4 = TV1,
        /// SM PDU DN request container.
        0x39 sm_pdu_dn_request_container: RawValue = TLV,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
        /// IP header compression configuration.
        0x66 ip_header_compression_configuration: RawValue = TLV,
        /// DS-TT Ethernet port MAC address.
        0x6E ds_tt_ethernet_port_mac_address: RawValue = TLV,
        /// UE-DS-TT residence time.
        0x6F ue_ds_tt_residence_time: RawValue = TLV,
        /// Port management information container.
        0x74 port_management_information_container: RawValue = TLVE,
        /// Ethernet header compression configuration.
        0x1F ethernet_header_compression_configuration: RawValue = TLV,
        /// Suggested interface identifier.
        0x29 suggested_interface_identifier: PduAddress = TLV,
        /// Service-level-AA container.
        0x72 service_level_aa_container: RawValue = TLVE,
        /// Requested MBS container.
        0x70 requested_mbs_container: RawValue = TLVE,
        /// PDU session pair ID.
        0x34 pdu_session_pair_id: RawValue = TLV,
        /// RSN.
        0x35 rsn: RawValue = TLV,
    }
}

nas_message! {
    /// PDU session establishment accept (TS 24.501 §8.3.2), SMF → UE.
    pub struct PduSessionEstablishmentAccept: SmHeader {
        /// Selected PDU session type.
        selected_pdu_session_type: PduSessionType = Lo,
        /// Selected SSC mode.
        selected_ssc_mode: SscMode = Hi,
        /// Authorized QoS rules.
        authorized_qos_rules: QosRules = LVE,
        /// Session-AMBR.
        session_ambr: SessionAmbr = LV,
    }
    optional {
        /// 5GSM cause.
        0x59 cause: crate::SmCause = TV,
        /// PDU address.
        0x29 pdu_address: PduAddress = TLV,
        /// RQ timer value.
        0x56 rq_timer_value: GprsTimer = TV,
        /// S-NSSAI.
        0x22 s_nssai: SNssai = TLV,
        /// Always-on PDU session indication.
        0x80 always_on_indication: Flags4 = TV1,
        /// Mapped EPS bearer contexts.
        0x75 mapped_eps_bearer_contexts: RawValue = TLVE,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// Authorized QoS flow descriptions.
        0x79 authorized_qos_flow_descriptions: QosFlowDescriptions = TLVE,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
        /// DNN.
        0x25 dnn: Dnn = TLV,
        /// 5GSM network feature support.
        0x17 sm_network_feature_support: RawValue = TLV,
        /// Serving PLMN rate control.
        0x18 serving_plmn_rate_control: RawValue = TLV,
        /// ATSSS container.
        0x77 atsss_container: RawValue = TLVE,
        /// Control plane only indication.
        0xC0 control_plane_only_indication: Flags4 = TV1,
        /// IP header compression configuration.
        0x66 ip_header_compression_configuration: RawValue = TLV,
        /// Ethernet header compression configuration.
        0x1F ethernet_header_compression_configuration: RawValue = TLV,
        /// Service-level-AA container.
        0x72 service_level_aa_container: RawValue = TLVE,
        /// Received MBS container.
        0x71 received_mbs_container: RawValue = TLVE,
    }
}

nas_message! {
    /// PDU session establishment reject (TS 24.501 §8.3.3), SMF → UE.
    pub struct PduSessionEstablishmentReject: SmHeader {
        /// 5GSM cause.
        cause: crate::SmCause = V,
    }
    optional {
        /// Back-off timer value.
        0x37 back_off_timer_value: GprsTimer3 = TLV,
        /// Allowed SSC mode.
        0xF0 allowed_ssc_mode: Flags4 = TV1,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// 5GSM congestion re-attempt indicator.
        0x61 congestion_re_attempt_indicator: RawValue = TLV,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
        /// Re-attempt indicator.
        0x1D re_attempt_indicator: RawValue = TLV,
        /// Service-level-AA container.
        0x72 service_level_aa_container: RawValue = TLVE,
    }
}

nas_message! {
    /// PDU session authentication command (TS 24.501 §8.3.4), SMF → UE.
    pub struct PduSessionAuthenticationCommand: SmHeader {
        /// EAP message.
        eap_message: EapMessage = LVE,
    }
    optional {
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
    }
}

nas_message! {
    /// PDU session authentication complete (TS 24.501 §8.3.5), UE → SMF.
    pub struct PduSessionAuthenticationComplete: SmHeader {
        /// EAP message.
        eap_message: EapMessage = LVE,
    }
    optional {
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
    }
}

nas_message! {
    /// PDU session authentication result (TS 24.501 §8.3.6), SMF → UE.
    pub struct PduSessionAuthenticationResult: SmHeader {}
    optional {
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
    }
}

nas_message! {
    /// PDU session modification request (TS 24.501 §8.3.7), UE → SMF.
    pub struct PduSessionModificationRequest: SmHeader {}
    optional {
        /// 5GSM capability.
        0x28 sm_capability: RawValue = TLV,
        /// 5GSM cause.
        0x59 cause: crate::SmCause = TV,
        /// Maximum number of supported packet filters.
        0x55 max_packet_filters: MaxPacketFilters = TV,
        /// Always-on PDU session requested.
        0xB0 always_on_requested: Flags4 = TV1,
        /// Integrity protection maximum data rate.
        0x13 integrity_protection_maximum_data_rate: IntegrityProtectionMaximumDataRate = TV,
        /// Requested QoS rules.
        0x7A requested_qos_rules: QosRules = TLVE,
        /// Requested QoS flow descriptions.
        0x79 requested_qos_flow_descriptions: QosFlowDescriptions = TLVE,
        /// Mapped EPS bearer contexts.
        0x75 mapped_eps_bearer_contexts: RawValue = TLVE,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
        /// Port management information container.
        0x74 port_management_information_container: RawValue = TLVE,
        /// IP header compression configuration.
        0x66 ip_header_compression_configuration: RawValue = TLV,
        /// Ethernet header compression configuration.
        0x1F ethernet_header_compression_configuration: RawValue = TLV,
        /// Requested MBS container.
        0x70 requested_mbs_container: RawValue = TLVE,
        /// Service-level-AA container.
        0x72 service_level_aa_container: RawValue = TLVE,
    }
}

nas_message! {
    /// PDU session modification reject (TS 24.501 §8.3.8), SMF → UE.
    pub struct PduSessionModificationReject: SmHeader {
        /// 5GSM cause.
        cause: crate::SmCause = V,
    }
    optional {
        /// Back-off timer value.
        0x37 back_off_timer_value: GprsTimer3 = TLV,
        /// 5GSM congestion re-attempt indicator.
        0x61 congestion_re_attempt_indicator: RawValue = TLV,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
        /// Re-attempt indicator.
        0x1D re_attempt_indicator: RawValue = TLV,
    }
}

nas_message! {
    /// PDU session modification command (TS 24.501 §8.3.9), SMF → UE.
    pub struct PduSessionModificationCommand: SmHeader {}
    optional {
        /// 5GSM cause.
        0x59 cause: crate::SmCause = TV,
        /// Session-AMBR.
        0x2A session_ambr: SessionAmbr = TLV,
        /// RQ timer value.
        0x56 rq_timer_value: GprsTimer = TV,
        /// Always-on PDU session indication.
        0x80 always_on_indication: Flags4 = TV1,
        /// Authorized QoS rules.
        0x7A authorized_qos_rules: QosRules = TLVE,
        /// Mapped EPS bearer contexts.
        0x75 mapped_eps_bearer_contexts: RawValue = TLVE,
        /// Authorized QoS flow descriptions.
        0x79 authorized_qos_flow_descriptions: QosFlowDescriptions = TLVE,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
        /// ATSSS container.
        0x77 atsss_container: RawValue = TLVE,
        /// IP header compression configuration.
        0x66 ip_header_compression_configuration: RawValue = TLV,
        /// Port management information container.
        0x74 port_management_information_container: RawValue = TLVE,
        /// Serving PLMN rate control.
        0x1E serving_plmn_rate_control: RawValue = TLV,
        /// Ethernet header compression configuration.
        0x1F ethernet_header_compression_configuration: RawValue = TLV,
        /// Received MBS container.
        0x71 received_mbs_container: RawValue = TLVE,
        /// Service-level-AA container.
        0x72 service_level_aa_container: RawValue = TLVE,
    }
}

nas_message! {
    /// PDU session modification complete (TS 24.501 §8.3.10), UE → SMF.
    pub struct PduSessionModificationComplete: SmHeader {}
    optional {
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
        /// Port management information container.
        0x74 port_management_information_container: RawValue = TLVE,
    }
}

nas_message! {
    /// PDU session modification command reject (TS 24.501 §8.3.11), UE → SMF.
    pub struct PduSessionModificationCommandReject: SmHeader {
        /// 5GSM cause.
        cause: crate::SmCause = V,
    }
    optional {
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
    }
}

nas_message! {
    /// PDU session release request (TS 24.501 §8.3.12), UE → SMF.
    pub struct PduSessionReleaseRequest: SmHeader {}
    optional {
        /// 5GSM cause.
        0x59 cause: crate::SmCause = TV,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
    }
}

nas_message! {
    /// PDU session release reject (TS 24.501 §8.3.13), SMF → UE.
    pub struct PduSessionReleaseReject: SmHeader {
        /// 5GSM cause.
        cause: crate::SmCause = V,
    }
    optional {
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
    }
}

nas_message! {
    /// PDU session release command (TS 24.501 §8.3.14), SMF → UE.
    pub struct PduSessionReleaseCommand: SmHeader {
        /// 5GSM cause.
        cause: crate::SmCause = V,
    }
    optional {
        /// Back-off timer value.
        0x37 back_off_timer_value: GprsTimer3 = TLV,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// 5GSM congestion re-attempt indicator.
        0x61 congestion_re_attempt_indicator: RawValue = TLV,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
        /// Access type.
        0xD0 access_type: AccessType = TV1,
        /// Service-level-AA container.
        0x72 service_level_aa_container: RawValue = TLVE,
    }
}

nas_message! {
    /// PDU session release complete (TS 24.501 §8.3.15), UE → SMF.
    pub struct PduSessionReleaseComplete: SmHeader {}
    optional {
        /// 5GSM cause.
        0x59 cause: crate::SmCause = TV,
        /// Extended protocol configuration options.
        0x7B extended_pco: ExtendedPco = TLVE,
    }
}

nas_message! {
    /// 5GSM status (TS 24.501 §8.3.16), both directions.
    pub struct SmStatus: SmHeader {
        /// 5GSM cause.
        cause: crate::SmCause = V,
    }
    optional {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, IeValue, Message, SmCause};
    use std::net::Ipv4Addr;

    fn decode(b: &[u8]) -> Message {
        let m = Message::decode(b).unwrap();
        assert_eq!(m.encode(), b, "re-encode of {}", m.name());
        m
    }

    // PDU session establishment request out of a Go UE simulator's UL NAS
    // transport (free5GC peer): PSI 1, PTI 1, integrity max rate FFFF, type IPv4v6.
    static EST_REQ_SIM: [u8; 7] = [0x2e, 0x01, 0x01, 0xc1, 0xff, 0xff, 0x93];
    // The same from UERANSIM: IPv4, SSC mode 1, 5GSM capability 00, and an
    // extended PCO asking for DNS (000D) and ... (000A).
    static EST_REQ_UERANSIM: [u8; 21] = [
        0x2e, 0x01, 0x01, 0xc1, 0xff, 0xff, 0x91, 0xa1, 0x28, 0x01, 0x00, 0x7b, 0x00, 0x07, 0x80, 0x00, 0x0a, 0x00,
        0x00, 0x0d, 0x00,
    ];
    // PDU session establishment accept from the Go UE simulator table: IPv4, SSC 1,
    // one QoS rule (match-all, precedence 0, QFI 0 as that network sent it),
    // Session-AMBR, 5GSM cause #50, PDU address 60.60.0.1.
    static EST_ACCEPT_SIM: [u8; 32] = [
        0x2e, 0x01, 0x00, 0xc2, 0x11, 0x00, 0x09, 0x01, 0x00, 0x06, 0x31, 0x31, 0x01, 0x01, 0x00, 0x00, 0x06, 0x01,
        0xe8, 0x03, 0x01, 0xe8, 0x03, 0x59, 0x32, 0x29, 0x05, 0x01, 0x3c, 0x3c, 0x00, 0x01,
    ];
    // PDU session release command out of srsRAN's NGAP test (Open5GS): PSI 1, PTI
    // 0xB3, cause #36 regular deactivation.
    static REL_CMD: [u8; 5] = [0x2e, 0x01, 0xb3, 0xd3, 0x24];

    // Built from TS 24.501 §8.3.2 field by field: PSI 1 PTI 1; IPv4 + SSC 1 (11);
    // QoS rule 1 len 6: create + DQR + 1 filter (31), filter bidir id 1 len 1
    // match-all (31 01 01), precedence FF, QFI 1; Session-AMBR 1 Gbps / 1 Gbps
    // (unit 06 = 1 Mbps × 03E8); PDU address IPv4 10.45.0.2; S-NSSAI SST 1; QoS
    // flow descriptions QFI 1 create, E=1, one parameter 5QI 9; extended PCO with
    // DNS 8.8.8.8 and IPv4 link MTU 1500; DNN "internet".
    static EST_ACCEPT: [u8; 69] = [
        0x2e, 0x01, 0x01, 0xc2, 0x11, 0x00, 0x09, 0x01, 0x00, 0x06, 0x31, 0x31, 0x01, 0x01, 0xff, 0x01, 0x06, 0x06,
        0x03, 0xe8, 0x06, 0x03, 0xe8, 0x29, 0x05, 0x01, 0x0a, 0x2d, 0x00, 0x02, 0x22, 0x01, 0x01, 0x79, 0x00, 0x06,
        0x01, 0x20, 0x41, 0x01, 0x01, 0x09, 0x7b, 0x00, 0x0d, 0x80, 0x00, 0x0d, 0x04, 0x08, 0x08, 0x08, 0x08, 0x00,
        0x10, 0x02, 0x05, 0xdc, 0x25, 0x09, 0x08, 0x69, 0x6e, 0x74, 0x65, 0x72, 0x6e, 0x65, 0x74,
    ];
    // §8.3.9: PSI 5 PTI 7; Session-AMBR 100 / 50 Mbps; authorized QoS rules: rule
    // 2 create, 2 filters: DL id 2 IPv4 remote 192.168.1.1/32, bidir id 3 UDP to
    // port 5060; precedence 0x20 QFI 2. Flow description QFI 2 create, E=1, 5QI 1,
    // GFBR UL/DL 1 Mbps, MFBR UL/DL 2 Mbps.
    static MOD_CMD: [u8; 68] = [
        0x2e, 0x05, 0x07, 0xcb, 0x2a, 0x06, 0x06, 0x00, 0x64, 0x06, 0x00, 0x32, 0x7a, 0x00, 0x18, 0x02, 0x00, 0x15,
        0x22, 0x12, 0x09, 0x10, 0xc0, 0xa8, 0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x33, 0x05, 0x30, 0x11, 0x50, 0x13,
        0xc4, 0x20, 0x02, 0x79, 0x00, 0x1a, 0x02, 0x20, 0x45, 0x01, 0x01, 0x01, 0x02, 0x03, 0x06, 0x00, 0x01, 0x03,
        0x03, 0x06, 0x00, 0x01, 0x04, 0x03, 0x06, 0x00, 0x02, 0x05, 0x03, 0x06, 0x00, 0x02,
    ];
    // §8.3.7: 5GSM capability 00; requested QoS rules: rule 2 "delete packet
    // filters" (op 5) removing filter 3.
    static MOD_REQ: [u8; 15] = [
        0x2e, 0x05, 0x08, 0xc9, 0x28, 0x01, 0x00, 0x7a, 0x00, 0x05, 0x02, 0x00, 0x02, 0xa1, 0x03,
    ];
    // §8.3.3: cause #27 missing or unknown DNN, back-off timer 1 h, allowed SSC mode.
    static EST_REJECT: [u8; 9] = [0x2e, 0x05, 0x01, 0xc3, 0x1b, 0x37, 0x01, 0x21, 0xf1];
    // §8.3.4–8.3.6: EAP request/identity, response/identity "A", EAP success.
    static AUTH_CMD: [u8; 11] = [0x2e, 0x05, 0x01, 0xc5, 0x00, 0x05, 0x01, 0x01, 0x00, 0x05, 0x01];
    static AUTH_COMPLETE: [u8; 12] = [0x2e, 0x05, 0x01, 0xc6, 0x00, 0x06, 0x02, 0x01, 0x00, 0x06, 0x01, 0x41];
    static AUTH_RESULT: [u8; 11] = [0x2e, 0x05, 0x01, 0xc7, 0x78, 0x00, 0x04, 0x03, 0x01, 0x00, 0x04];

    #[test]
    fn establishment_requests() {
        let Message::PduSessionEstablishmentRequest(m) = decode(&EST_REQ_SIM) else {
            panic!()
        };
        assert_eq!(
            m.header,
            SmHeader {
                pdu_session_id: 1,
                pti: 1
            }
        );
        assert_eq!(m.integrity_protection_maximum_data_rate.uplink, 0xff);
        assert_eq!(m.pdu_session_type, Some(PduSessionType::Ipv4v6));

        let Message::PduSessionEstablishmentRequest(u) = decode(&EST_REQ_UERANSIM) else {
            panic!()
        };
        assert_eq!(u.pdu_session_type, Some(PduSessionType::Ipv4));
        assert_eq!(u.ssc_mode, Some(SscMode::Mode1));
        assert_eq!(u.sm_capability, Some(RawValue(vec![0])));
        assert_eq!(u.extended_pco.unwrap().items.len(), 2);
    }

    #[test]
    fn establishment_accept_captured() {
        let Message::PduSessionEstablishmentAccept(m) = decode(&EST_ACCEPT_SIM) else {
            panic!()
        };
        assert_eq!(m.selected_pdu_session_type, PduSessionType::Ipv4);
        assert_eq!(m.selected_ssc_mode, SscMode::Mode1);
        let r = &m.authorized_qos_rules.0[0];
        assert_eq!((r.id, r.operation, r.default_rule), (1, 1, true));
        assert_eq!(r.precedence, Some(0));
        let PacketFilterList::Filters(f) = &r.filters else {
            panic!()
        };
        assert_eq!(f[0].components, vec![FilterComponent::MatchAll]);
        assert_eq!(m.cause, Some(SmCause::PduSessionTypeIpv4OnlyAllowed));
        assert_eq!(
            m.pdu_address.unwrap().value,
            PduAddressValue::Ipv4(Ipv4Addr::new(60, 60, 0, 1))
        );
    }

    #[test]
    fn establishment_accept_all_parts() {
        let Message::PduSessionEstablishmentAccept(m) = decode(&EST_ACCEPT) else {
            panic!()
        };
        let r = &m.authorized_qos_rules.0[0];
        assert_eq!((r.precedence, r.qfi, r.segregation), (Some(0xff), 1, false));
        assert_eq!(m.session_ambr.downlink.bps(), Some(1_000_000_000));
        assert_eq!(m.session_ambr.uplink.bps(), Some(1_000_000_000));
        assert_eq!(
            m.pdu_address.unwrap().value,
            PduAddressValue::Ipv4(Ipv4Addr::new(10, 45, 0, 2))
        );
        assert_eq!(m.s_nssai, Some(SNssai::new(1, None)));
        let d = &m.authorized_qos_flow_descriptions.unwrap().0[0];
        assert_eq!((d.qfi, d.operation, d.e_bit), (1, 1, true));
        assert_eq!(d.parameters, vec![QosFlowParameter::FiveQi(9)]);
        assert_eq!(m.dnn.unwrap().name(), "internet");
        let pco = m.extended_pco.unwrap();
        assert_eq!(pco.item(0x000d).unwrap().contents, [8, 8, 8, 8]);
        assert_eq!(pco.item(0x0010).unwrap().contents, [0x05, 0xdc]);
    }

    #[test]
    fn modification_command_with_filters() {
        let Message::PduSessionModificationCommand(m) = decode(&MOD_CMD) else {
            panic!()
        };
        assert_eq!(
            m.header,
            SmHeader {
                pdu_session_id: 5,
                pti: 7
            }
        );
        assert_eq!(m.session_ambr.unwrap().uplink.bps(), Some(50_000_000));
        let r = &m.authorized_qos_rules.as_ref().unwrap().0[0];
        assert_eq!((r.id, r.operation, r.default_rule, r.qfi), (2, 1, false, 2));
        let PacketFilterList::Filters(f) = &r.filters else {
            panic!()
        };
        assert_eq!((f[0].direction, f[0].id), (1, 2));
        assert_eq!(
            f[0].components,
            vec![FilterComponent::Ipv4Remote(
                Ipv4Addr::new(192, 168, 1, 1),
                Ipv4Addr::new(255, 255, 255, 255)
            )]
        );
        assert_eq!(
            f[1].components,
            vec![FilterComponent::Protocol(17), FilterComponent::RemotePort(5060)]
        );
        let d = &m.authorized_qos_flow_descriptions.unwrap().0[0];
        assert_eq!(d.parameters.len(), 5);
        assert_eq!(
            d.parameters[4],
            QosFlowParameter::MfbrDownlink(BitRate { unit: 6, value: 2 })
        );

        let Message::PduSessionModificationRequest(q) = decode(&MOD_REQ) else {
            panic!()
        };
        let r = &q.requested_qos_rules.unwrap().0[0];
        assert_eq!((r.operation, r.precedence), (5, None));
        assert_eq!(r.filters, PacketFilterList::Ids(vec![3]));
    }

    #[test]
    fn encode_qos_rule_to_spec_bytes() {
        let rules = QosRules(vec![QosRule {
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
        }]);
        // the rule of EST_ACCEPT, octets 8..17
        assert_eq!(rules.to_bytes(), EST_ACCEPT[7..16]);
        let ambr = SessionAmbr {
            downlink: BitRate { unit: 6, value: 1000 },
            uplink: BitRate { unit: 6, value: 1000 },
        };
        assert_eq!(ambr.to_bytes(), EST_ACCEPT[17..23]);
    }

    #[test]
    fn release_reject_status_and_authentication() {
        let Message::PduSessionReleaseCommand(m) = decode(&REL_CMD) else {
            panic!()
        };
        assert_eq!(m.header.pti, 0xb3);
        assert_eq!(m.cause, SmCause::RegularDeactivation);

        let Message::PduSessionEstablishmentReject(r) = decode(&EST_REJECT) else {
            panic!()
        };
        assert_eq!(r.cause, SmCause::MissingOrUnknownDnn);
        assert_eq!(r.back_off_timer_value.unwrap().seconds(), Some(3600));
        assert_eq!(r.allowed_ssc_mode, Some(crate::ie::Flags4(1)));

        let Message::PduSessionAuthenticationCommand(a) = decode(&AUTH_CMD) else {
            panic!()
        };
        assert_eq!(a.eap_message.code(), Some(1));
        let Message::PduSessionAuthenticationComplete(c) = decode(&AUTH_COMPLETE) else {
            panic!()
        };
        assert_eq!(c.eap_message.0, [0x02, 0x01, 0x00, 0x06, 0x01, 0x41]);
        let Message::PduSessionAuthenticationResult(x) = decode(&AUTH_RESULT) else {
            panic!()
        };
        assert_eq!(x.eap_message.unwrap().code(), Some(3));

        for b in [
            &[0x2e, 0x05, 0x09, 0xd1, 0x59, 0x24][..],
            &[0x2e, 0x05, 0x09, 0xd2, 0x2b],
            &[0x2e, 0x05, 0x01, 0xd4],
            &[0x2e, 0x05, 0x07, 0xcc],
            &[0x2e, 0x05, 0x07, 0xcd, 0x53],
            &[0x2e, 0x05, 0x08, 0xca, 0x1a, 0x37, 0x01, 0x21],
            &[0x2e, 0x05, 0x09, 0xd6, 0x62],
        ] {
            decode(b);
        }
        let s = Message::from(SmStatus {
            header: SmHeader {
                pdu_session_id: 5,
                pti: 9,
            },
            cause: SmCause::MessageTypeNotCompatibleWithTheProtocolState,
            unknown_ies: vec![],
        });
        assert_eq!(s.encode(), [0x2e, 0x05, 0x09, 0xd6, 0x62]);
    }

    #[test]
    fn broken_input() {
        let e = Message::decode(&[0x2e, 0x01, 0x01, 0xc1, 0xff]).unwrap_err();
        assert!(matches!(e, Error::Truncated { .. }));
        assert_eq!(e.sm_cause(), SmCause::InvalidMandatoryInformation);
        let e = Message::decode(&[0x2e, 0x01, 0x01, 0xc4]).unwrap_err();
        assert_eq!(e.sm_cause(), SmCause::MessageTypeNonExistentOrNotImplemented);
        assert_eq!(
            Message::decode(&[0x2e, 0x01, 0x01, 0xd3]),
            Err(Error::MissingMandatoryIe("cause"))
        );
        // QoS rules whose rule length overruns the IE: invalid mandatory IE
        let mut b = EST_ACCEPT_SIM.to_vec();
        b[9] = 0x07;
        assert!(Message::decode(&b).is_err());
        for n in 0..EST_ACCEPT.len() {
            let _ = Message::decode(&EST_ACCEPT[..n]);
        }
    }
}
