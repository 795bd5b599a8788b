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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
    }
}

nas_message! {
    /// PDU session authentication result (TS 24.501 §8.3.6), SMF → UE.
    pub struct PduSessionAuthenticationResult: SmHeader {}
    optional {
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// Extended protocol configuration options.
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
    }
}

nas_message! {
    /// PDU session release request (TS 24.501 §8.3.12), UE → SMF.
    pub struct PduSessionReleaseRequest: SmHeader {}
    optional {
        /// 5GSM cause.
        0x59 cause: crate::SmCause = TV,
        /// Extended protocol configuration options.
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
        0x7B extended_pco: RawValue = TLVE,
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
