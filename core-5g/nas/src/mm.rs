//! 5GMM messages (TS 24.501 §8.2). Each table below follows the message's table
//! in §8.2: mandatory IEs in order, then the optional IEs with their IEIs.

use crate::codec::nas_message;
use crate::ie::*;

/// The octet of a plain 5GMM message between the EPD and the message type:
/// security header type in bits 1–4 (0 for a plain message) and a spare half
/// octet in bits 5–8 (TS 24.501 §9.3.1), kept as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MmHeader {
    /// Bits 5–8 of octet 2 (spare, 0 when sent).
    pub spare: u8,
    /// Bits 1–4 of octet 2. Always 0 for a message decoded by
    /// [`crate::Message::decode`]; some cores (older free5GC) repeat the outer
    /// security header type in the inner message, which
    /// [`crate::Message::decode_inner`] tolerates and keeps here.
    pub security_header_type: u8,
}

nas_message! {
    /// Registration request (TS 24.501 §8.2.6), UE → AMF.
    pub struct RegistrationRequest: MmHeader {
        /// 5GS registration type and follow-on request.
        registration_type: RegistrationType = Lo,
        /// ngKSI.
        ngksi: NasKeySetIdentifier = Hi,
        /// 5GS mobile identity (SUCI, 5G-GUTI or IMEI).
        mobile_identity: MobileIdentity = LVE,
    }
    optional {
        /// Non-current native NAS key set identifier.
        0xC0 non_current_native_ngksi: NasKeySetIdentifier = TV1,
        /// 5GMM capability.
        0x10 mm_capability: RawValue = TLV,
        /// UE security capability.
        0x2E ue_security_capability: UeSecurityCapability = TLV,
        /// Requested NSSAI.
        0x2F requested_nssai: Nssai = TLV,
        /// Last visited registered TAI.
        0x52 last_visited_registered_tai: Tai = TV,
        /// S1 UE network capability.
        0x17 s1_ue_network_capability: RawValue = TLV,
        /// Uplink data status.
        0x40 uplink_data_status: PsiBitmap = TLV,
        /// PDU session status.
        0x50 pdu_session_status: PsiBitmap = TLV,
        /// MICO indication.
        0xB0 mico_indication: Flags4 = TV1,
        /// UE status.
        0x2B ue_status: RawValue = TLV,
        /// Additional GUTI.
        0x77 additional_guti: MobileIdentity = TLVE,
        /// Allowed PDU session status.
        0x25 allowed_pdu_session_status: PsiBitmap = TLV,
        /// UE's usage setting.
        0x18 ue_usage_setting: RawValue = TLV,
        /// Requested DRX parameters.
        0x51 requested_drx_parameters: RawValue = TLV,
        /// EPS NAS message container.
        0x70 eps_nas_message_container: RawValue = TLVE,
        /// LADN indication.
        0x74 ladn_indication: RawValue = TLVE,
        /// Payload container type.
        0x80 payload_container_type: PayloadContainerType = TV1,
        /// Payload container.
        0x7B payload_container: PayloadContainer = TLVE,
        /// Network slicing indication.
        0x90 network_slicing_indication: Flags4 = TV1,
        /// 5GS update type.
        0x53 update_type: RawValue = TLV,
        /// Mobile station classmark 2.
        0x41 mobile_station_classmark_2: RawValue = TLV,
        /// Supported codecs.
        0x42 supported_codecs: RawValue = TLV,
        /// NAS message container (the whole initial message, ciphered).
        0x71 nas_message_container: NasMessageContainer = TLVE,
        /// EPS bearer context status.
        0x60 eps_bearer_context_status: RawValue = TLV,
        /// Requested extended DRX parameters.
        0x6E requested_extended_drx_parameters: RawValue = TLV,
        /// T3324 value.
        0x6A t3324_value: GprsTimer3 = TLV,
        /// UE radio capability ID.
        0x67 ue_radio_capability_id: RawValue = TLV,
        /// Requested mapped NSSAI.
        0x35 requested_mapped_nssai: RawValue = TLV,
        /// Additional information requested.
        0x48 additional_information_requested: RawValue = TLV,
        /// Requested WUS assistance information.
        0x1A requested_wus_assistance_information: RawValue = TLV,
        /// N5GC indication.
        0xA0 n5gc_indication: Flags4 = TV1,
        /// Requested NB-N1 mode DRX parameters.
        0x30 requested_nb_n1_mode_drx_parameters: RawValue = TLV,
        /// UE request type.
        0x29 ue_request_type: RawValue = TLV,
        /// Paging restriction.
        0x28 paging_restriction: RawValue = TLV,
        /// Service-level-AA container.
        0x72 service_level_aa_container: RawValue = TLVE,
        /// NID.
        0x32 nid: RawValue = TLV,
        /// UE determined PLMN with disaster condition.
        0x16 ue_determined_plmn_with_disaster_condition: RawValue = TLV,
        /// Requested PEIPS assistance information.
        0x2A requested_peips_assistance_information: RawValue = TLV,
        /// Requested T3512 value.
        0x3B requested_t3512_value: GprsTimer3 = TLV,
    }
}

nas_message! {
    /// Registration accept (TS 24.501 §8.2.7), AMF → UE.
    pub struct RegistrationAccept: MmHeader {
        /// 5GS registration result.
        registration_result: RegistrationResult = LV,
    }
    optional {
        /// 5G-GUTI.
        0x77 guti: MobileIdentity = TLVE,
        /// Equivalent PLMNs.
        0x4A equivalent_plmns: PlmnList = TLV,
        /// TAI list.
        0x54 tai_list: TaiList = TLV,
        /// Allowed NSSAI.
        0x15 allowed_nssai: Nssai = TLV,
        /// Rejected NSSAI.
        0x11 rejected_nssai: RejectedNssai = TLV,
        /// Configured NSSAI.
        0x31 configured_nssai: Nssai = TLV,
        /// 5GS network feature support.
        0x21 network_feature_support: NetworkFeatureSupport = TLV,
        /// PDU session status.
        0x50 pdu_session_status: PsiBitmap = TLV,
        /// PDU session reactivation result.
        0x26 pdu_session_reactivation_result: PsiBitmap = TLV,
        /// PDU session reactivation result error cause.
        0x72 pdu_session_reactivation_result_error_cause: ReactivationErrorCauses = TLVE,
        /// LADN information.
        0x79 ladn_information: RawValue = TLVE,
        /// MICO indication.
        0xB0 mico_indication: Flags4 = TV1,
        /// Network slicing indication.
        0x90 network_slicing_indication: Flags4 = TV1,
        /// Service area list.
        0x27 service_area_list: RawValue = TLV,
        /// T3512 value.
        0x5E t3512_value: GprsTimer3 = TLV,
        /// Non-3GPP de-registration timer value.
        0x5D non_3gpp_deregistration_timer_value: GprsTimer2 = TLV,
        /// T3502 value.
        0x16 t3502_value: GprsTimer2 = TLV,
        /// Emergency number list.
        0x34 emergency_number_list: RawValue = TLV,
        /// Extended emergency number list.
        0x7A extended_emergency_number_list: RawValue = TLVE,
        /// SOR transparent container.
        0x73 sor_transparent_container: RawValue = TLVE,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// NSSAI inclusion mode.
        0xA0 nssai_inclusion_mode: Flags4 = TV1,
        /// Operator-defined access category definitions.
        0x76 operator_defined_access_category_definitions: RawValue = TLVE,
        /// Negotiated DRX parameters.
        0x51 negotiated_drx_parameters: RawValue = TLV,
        /// Non-3GPP NW policies.
        0xD0 non_3gpp_nw_policies: Flags4 = TV1,
        /// EPS bearer context status.
        0x60 eps_bearer_context_status: RawValue = TLV,
        /// Negotiated extended DRX parameters.
        0x6E negotiated_extended_drx_parameters: RawValue = TLV,
        /// T3447 value.
        0x6C t3447_value: GprsTimer3 = TLV,
        /// T3448 value.
        0x6B t3448_value: GprsTimer2 = TLV,
        /// T3324 value.
        0x6A t3324_value: GprsTimer3 = TLV,
        /// UE radio capability ID.
        0x67 ue_radio_capability_id: RawValue = TLV,
        /// UE radio capability ID deletion indication.
        0xE0 ue_radio_capability_id_deletion_indication: Flags4 = TV1,
        /// Pending NSSAI.
        0x39 pending_nssai: Nssai = TLV,
        /// Ciphering key data.
        0x74 ciphering_key_data: RawValue = TLVE,
        /// CAG information list.
        0x75 cag_information_list: RawValue = TLVE,
        /// Truncated 5G-S-TMSI configuration.
        0x1B truncated_s_tmsi_configuration: RawValue = TLV,
        /// Negotiated WUS assistance information.
        0x1C negotiated_wus_assistance_information: RawValue = TLV,
        /// Negotiated NB-N1 mode DRX parameters.
        0x29 negotiated_nb_n1_mode_drx_parameters: RawValue = TLV,
        /// Extended rejected NSSAI.
        0x68 extended_rejected_nssai: RawValue = TLV,
        /// Service-level-AA container.
        0x7B service_level_aa_container: RawValue = TLVE,
        /// Negotiated PEIPS assistance information.
        0x33 negotiated_peips_assistance_information: RawValue = TLV,
        /// 5GS additional request result.
        0x35 additional_request_result: RawValue = TLV,
        /// NSSRG information.
        0x70 nssrg_information: RawValue = TLVE,
        /// Disaster roaming wait range.
        0x14 disaster_roaming_wait_range: RawValue = TLV,
        /// Disaster return wait range.
        0x2C disaster_return_wait_range: RawValue = TLV,
        /// List of PLMNs to be used in disaster condition.
        0x13 list_of_plmns_to_be_used_in_disaster_condition: RawValue = TLV,
        /// Forbidden TAI(s) for the list of "5GS forbidden tracking areas for roaming".
        0x1D forbidden_tai_for_roaming: TaiList = TLV,
        /// Forbidden TAI(s) for the list of "5GS forbidden tracking areas for regional provision of service".
        0x1E forbidden_tai_for_regional_provision_of_service: TaiList = TLV,
        /// Extended CAG information list.
        0x71 extended_cag_information_list: RawValue = TLVE,
        /// NSAG information.
        0x7C nsag_information: RawValue = TLVE,
    }
}

nas_message! {
    /// Registration complete (TS 24.501 §8.2.8), UE → AMF.
    pub struct RegistrationComplete: MmHeader {}
    optional {
        /// SOR transparent container.
        0x73 sor_transparent_container: RawValue = TLVE,
    }
}

nas_message! {
    /// Registration reject (TS 24.501 §8.2.9), AMF → UE.
    pub struct RegistrationReject: MmHeader {
        /// 5GMM cause.
        cause: crate::MmCause = V,
    }
    optional {
        /// T3346 value.
        0x5F t3346_value: GprsTimer2 = TLV,
        /// T3502 value.
        0x16 t3502_value: GprsTimer2 = TLV,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// Rejected NSSAI.
        0x69 rejected_nssai: RejectedNssai = TLV,
        /// CAG information list.
        0x75 cag_information_list: RawValue = TLVE,
        /// Extended rejected NSSAI.
        0x68 extended_rejected_nssai: RawValue = TLV,
        /// Disaster return wait range.
        0x2C disaster_return_wait_range: RawValue = TLV,
        /// Extended CAG information list.
        0x71 extended_cag_information_list: RawValue = TLVE,
        /// Lower bound timer value.
        0x3A lower_bound_timer_value: GprsTimer3 = TLV,
        /// Forbidden TAI(s) for roaming.
        0x1D forbidden_tai_for_roaming: TaiList = TLV,
        /// Forbidden TAI(s) for regional provision of service.
        0x1E forbidden_tai_for_regional_provision_of_service: TaiList = TLV,
    }
}

nas_message! {
    /// Deregistration request, UE originating (TS 24.501 §8.2.12), UE → AMF.
    pub struct DeregistrationRequestUeOriginating: MmHeader {
        /// De-registration type.
        deregistration_type: DeregistrationType = Lo,
        /// ngKSI.
        ngksi: NasKeySetIdentifier = Hi,
        /// 5GS mobile identity.
        mobile_identity: MobileIdentity = LVE,
    }
    optional {
        /// Unavailability information.
        0x3C unavailability_information: RawValue = TLV,
        /// NAS message container.
        0x71 nas_message_container: NasMessageContainer = TLVE,
    }
}

nas_message! {
    /// Deregistration accept, UE originating (TS 24.501 §8.2.13), AMF → UE.
    pub struct DeregistrationAcceptUeOriginating: MmHeader {}
    optional {}
}

nas_message! {
    /// Deregistration request, UE terminated (TS 24.501 §8.2.14), AMF → UE.
    pub struct DeregistrationRequestUeTerminated: MmHeader {
        /// De-registration type.
        deregistration_type: DeregistrationType = Lo,
        /// Spare half octet.
        spare: SpareHalfOctet = Hi,
    }
    optional {
        /// 5GMM cause.
        0x58 cause: crate::MmCause = TV,
        /// T3346 value.
        0x5F t3346_value: GprsTimer2 = TLV,
        /// Rejected NSSAI.
        0x6D rejected_nssai: RejectedNssai = TLV,
        /// CAG information list.
        0x75 cag_information_list: RawValue = TLVE,
        /// Extended rejected NSSAI.
        0x68 extended_rejected_nssai: RawValue = TLV,
        /// Disaster return wait range.
        0x2C disaster_return_wait_range: RawValue = TLV,
        /// Extended CAG information list.
        0x71 extended_cag_information_list: RawValue = TLVE,
        /// Lower bound timer value.
        0x3A lower_bound_timer_value: GprsTimer3 = TLV,
        /// Forbidden TAI(s) for roaming.
        0x1D forbidden_tai_for_roaming: TaiList = TLV,
        /// Forbidden TAI(s) for regional provision of service.
        0x1E forbidden_tai_for_regional_provision_of_service: TaiList = TLV,
    }
}

nas_message! {
    /// Deregistration accept, UE terminated (TS 24.501 §8.2.15), UE → AMF.
    pub struct DeregistrationAcceptUeTerminated: MmHeader {}
    optional {}
}

nas_message! {
    /// Service request (TS 24.501 §8.2.16), UE → AMF.
    pub struct ServiceRequest: MmHeader {
        /// ngKSI.
        ngksi: NasKeySetIdentifier = Lo,
        /// Service type.
        service_type: ServiceType = Hi,
        /// 5G-S-TMSI.
        s_tmsi: MobileIdentity = LVE,
    }
    optional {
        /// Uplink data status.
        0x40 uplink_data_status: PsiBitmap = TLV,
        /// PDU session status.
        0x50 pdu_session_status: PsiBitmap = TLV,
        /// Allowed PDU session status.
        0x25 allowed_pdu_session_status: PsiBitmap = TLV,
        /// NAS message container.
        0x71 nas_message_container: NasMessageContainer = TLVE,
        /// UE request type.
        0x29 ue_request_type: RawValue = TLV,
        /// Paging restriction.
        0x28 paging_restriction: RawValue = TLV,
    }
}

nas_message! {
    /// Service accept (TS 24.501 §8.2.17), AMF → UE.
    pub struct ServiceAccept: MmHeader {}
    optional {
        /// PDU session status.
        0x50 pdu_session_status: PsiBitmap = TLV,
        /// PDU session reactivation result.
        0x26 pdu_session_reactivation_result: PsiBitmap = TLV,
        /// PDU session reactivation result error cause.
        0x72 pdu_session_reactivation_result_error_cause: ReactivationErrorCauses = TLVE,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// T3448 value.
        0x6B t3448_value: GprsTimer2 = TLV,
        /// 5GS additional request result.
        0x34 additional_request_result: RawValue = TLV,
        /// Forbidden TAI(s) for roaming.
        0x1D forbidden_tai_for_roaming: TaiList = TLV,
        /// Forbidden TAI(s) for regional provision of service.
        0x1E forbidden_tai_for_regional_provision_of_service: TaiList = TLV,
    }
}

nas_message! {
    /// Service reject (TS 24.501 §8.2.18), AMF → UE.
    pub struct ServiceReject: MmHeader {
        /// 5GMM cause.
        cause: crate::MmCause = V,
    }
    optional {
        /// PDU session status.
        0x50 pdu_session_status: PsiBitmap = TLV,
        /// T3346 value.
        0x5F t3346_value: GprsTimer2 = TLV,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// T3448 value.
        0x6B t3448_value: GprsTimer2 = TLV,
        /// CAG information list.
        0x75 cag_information_list: RawValue = TLVE,
        /// Disaster return wait range.
        0x2C disaster_return_wait_range: RawValue = TLV,
        /// Extended CAG information list.
        0x71 extended_cag_information_list: RawValue = TLVE,
        /// Lower bound timer value.
        0x3A lower_bound_timer_value: GprsTimer3 = TLV,
        /// Forbidden TAI(s) for roaming.
        0x1D forbidden_tai_for_roaming: TaiList = TLV,
        /// Forbidden TAI(s) for regional provision of service.
        0x1E forbidden_tai_for_regional_provision_of_service: TaiList = TLV,
    }
}

nas_message! {
    /// Configuration update command (TS 24.501 §8.2.19), AMF → UE.
    pub struct ConfigurationUpdateCommand: MmHeader {}
    optional {
        /// Configuration update indication.
        0xD0 configuration_update_indication: Flags4 = TV1,
        /// 5G-GUTI.
        0x77 guti: MobileIdentity = TLVE,
        /// TAI list.
        0x54 tai_list: TaiList = TLV,
        /// Allowed NSSAI.
        0x15 allowed_nssai: Nssai = TLV,
        /// Service area list.
        0x27 service_area_list: RawValue = TLV,
        /// Full name for network.
        0x43 full_name_for_network: RawValue = TLV,
        /// Short name for network.
        0x45 short_name_for_network: RawValue = TLV,
        /// Local time zone.
        0x46 local_time_zone: TimeZone = TV,
        /// Universal time and local time zone.
        0x47 universal_time_and_local_time_zone: TimeZoneAndTime = TV,
        /// Network daylight saving time.
        0x49 network_daylight_saving_time: RawValue = TLV,
        /// LADN information.
        0x79 ladn_information: RawValue = TLVE,
        /// MICO indication.
        0xB0 mico_indication: Flags4 = TV1,
        /// Network slicing indication.
        0x90 network_slicing_indication: Flags4 = TV1,
        /// Configured NSSAI.
        0x31 configured_nssai: Nssai = TLV,
        /// Rejected NSSAI.
        0x11 rejected_nssai: RejectedNssai = TLV,
        /// Operator-defined access category definitions.
        0x76 operator_defined_access_category_definitions: RawValue = TLVE,
        /// SMS indication.
        0xF0 sms_indication: Flags4 = TV1,
        /// T3447 value.
        0x6C t3447_value: GprsTimer3 = TLV,
        /// CAG information list.
        0x75 cag_information_list: RawValue = TLVE,
        /// UE radio capability ID.
        0x67 ue_radio_capability_id: RawValue = TLV,
        /// UE radio capability ID deletion indication.
        0xA0 ue_radio_capability_id_deletion_indication: Flags4 = TV1,
        /// 5GS registration result.
        0x44 registration_result: RegistrationResult = TLV,
        /// Truncated 5G-S-TMSI configuration.
        0x1B truncated_s_tmsi_configuration: RawValue = TLV,
        /// Additional configuration indication.
        0xC0 additional_configuration_indication: Flags4 = TV1,
        /// Extended rejected NSSAI.
        0x68 extended_rejected_nssai: RawValue = TLV,
        /// Service-level-AA container.
        0x72 service_level_aa_container: RawValue = TLVE,
        /// NSSRG information.
        0x70 nssrg_information: RawValue = TLVE,
        /// Disaster roaming wait range.
        0x14 disaster_roaming_wait_range: RawValue = TLV,
        /// Disaster return wait range.
        0x2C disaster_return_wait_range: RawValue = TLV,
        /// List of PLMNs to be used in disaster condition.
        0x13 list_of_plmns_to_be_used_in_disaster_condition: RawValue = TLV,
        /// Extended CAG information list.
        0x71 extended_cag_information_list: RawValue = TLVE,
        /// Updated PEIPS assistance information.
        0x1F updated_peips_assistance_information: RawValue = TLV,
        /// NSAG information.
        0x73 nsag_information: RawValue = TLVE,
        /// Priority indicator.
        0xE0 priority_indicator: Flags4 = TV1,
    }
}

nas_message! {
    /// Configuration update complete (TS 24.501 §8.2.20), UE → AMF.
    pub struct ConfigurationUpdateComplete: MmHeader {}
    optional {}
}

nas_message! {
    /// Authentication request (TS 24.501 §8.2.1), AMF → UE.
    pub struct AuthenticationRequest: MmHeader {
        /// ngKSI.
        ngksi: NasKeySetIdentifier = Lo,
        /// Spare half octet.
        spare: SpareHalfOctet = Hi,
        /// ABBA.
        abba: Abba = LV,
    }
    optional {
        /// Authentication parameter RAND (5G AKA).
        0x21 rand: Rand = TV,
        /// Authentication parameter AUTN (5G AKA).
        0x20 autn: Autn = TLV,
        /// EAP message (EAP-AKA').
        0x78 eap_message: EapMessage = TLVE,
    }
}

nas_message! {
    /// Authentication response (TS 24.501 §8.2.2), UE → AMF.
    pub struct AuthenticationResponse: MmHeader {}
    optional {
        /// Authentication response parameter (RES*).
        0x2D res_star: ResStar = TLV,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
    }
}

nas_message! {
    /// Authentication reject (TS 24.501 §8.2.5), AMF → UE.
    pub struct AuthenticationReject: MmHeader {}
    optional {
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
    }
}

nas_message! {
    /// Authentication failure (TS 24.501 §8.2.4), UE → AMF.
    pub struct AuthenticationFailure: MmHeader {
        /// 5GMM cause (#20 MAC failure, #21 synch failure, #26 non-5G authentication unacceptable).
        cause: crate::MmCause = V,
    }
    optional {
        /// Authentication failure parameter (AUTS, with #21).
        0x30 auts: Auts = TLV,
    }
}

nas_message! {
    /// Authentication result (TS 24.501 §8.2.3), AMF → UE.
    pub struct AuthenticationResult: MmHeader {
        /// ngKSI.
        ngksi: NasKeySetIdentifier = Lo,
        /// Spare half octet.
        spare: SpareHalfOctet = Hi,
        /// EAP message.
        eap_message: EapMessage = LVE,
    }
    optional {
        /// ABBA.
        0x38 abba: Abba = TLV,
    }
}

nas_message! {
    /// Identity request (TS 24.501 §8.2.21), AMF → UE.
    pub struct IdentityRequest: MmHeader {
        /// Identity type.
        identity_type: IdentityType = Lo,
        /// Spare half octet.
        spare: SpareHalfOctet = Hi,
    }
    optional {}
}

nas_message! {
    /// Identity response (TS 24.501 §8.2.22), UE → AMF.
    pub struct IdentityResponse: MmHeader {
        /// Mobile identity.
        mobile_identity: MobileIdentity = LVE,
    }
    optional {}
}

nas_message! {
    /// Security mode command (TS 24.501 §8.2.25), AMF → UE.
    pub struct SecurityModeCommand: MmHeader {
        /// Selected NAS security algorithms.
        selected_algorithms: NasSecurityAlgorithms = V,
        /// ngKSI.
        ngksi: NasKeySetIdentifier = Lo,
        /// Spare half octet.
        spare: SpareHalfOctet = Hi,
        /// Replayed UE security capabilities.
        replayed_ue_security_capability: UeSecurityCapability = LV,
    }
    optional {
        /// IMEISV request.
        0xE0 imeisv_request: ImeisvRequest = TV1,
        /// Selected EPS NAS security algorithms.
        0x57 selected_eps_algorithms: NasSecurityAlgorithms = TV,
        /// Additional 5G security information.
        0x36 additional_security_information: Additional5gSecurityInformation = TLV,
        /// EAP message.
        0x78 eap_message: EapMessage = TLVE,
        /// ABBA.
        0x38 abba: Abba = TLV,
        /// Replayed S1 UE security capabilities.
        0x19 replayed_s1_ue_security_capabilities: RawValue = TLV,
    }
}

nas_message! {
    /// Security mode complete (TS 24.501 §8.2.26), UE → AMF.
    pub struct SecurityModeComplete: MmHeader {}
    optional {
        /// IMEISV.
        0x77 imeisv: MobileIdentity = TLVE,
        /// NAS message container (the complete initial NAS message).
        0x71 nas_message_container: NasMessageContainer = TLVE,
        /// Non-IMEISV PEI.
        0x78 non_imeisv_pei: MobileIdentity = TLVE,
    }
}

nas_message! {
    /// Security mode reject (TS 24.501 §8.2.27), UE → AMF.
    pub struct SecurityModeReject: MmHeader {
        /// 5GMM cause.
        cause: crate::MmCause = V,
    }
    optional {}
}

nas_message! {
    /// 5GMM status (TS 24.501 §8.2.29), both directions.
    pub struct MmStatus: MmHeader {
        /// 5GMM cause.
        cause: crate::MmCause = V,
    }
    optional {}
}

nas_message! {
    /// Notification (TS 24.501 §8.2.23), AMF → UE over non-3GPP access.
    pub struct Notification: MmHeader {
        /// Access type.
        access_type: AccessType = Lo,
        /// Spare half octet.
        spare: SpareHalfOctet = Hi,
    }
    optional {}
}

nas_message! {
    /// Notification response (TS 24.501 §8.2.24), UE → AMF.
    pub struct NotificationResponse: MmHeader {}
    optional {
        /// PDU session status.
        0x50 pdu_session_status: PsiBitmap = TLV,
    }
}

nas_message! {
    /// UL NAS transport (TS 24.501 §8.2.10), UE → AMF.
    pub struct UlNasTransport: MmHeader {
        /// Payload container type.
        payload_container_type: PayloadContainerType = Lo,
        /// Spare half octet.
        spare: SpareHalfOctet = Hi,
        /// Payload container.
        payload_container: PayloadContainer = LVE,
    }
    optional {
        /// PDU session ID.
        0x12 pdu_session_id: PduSessionId = TV,
        /// Old PDU session ID.
        0x59 old_pdu_session_id: PduSessionId = TV,
        /// Request type.
        0x80 request_type: RequestType = TV1,
        /// S-NSSAI.
        0x22 s_nssai: SNssai = TLV,
        /// DNN.
        0x25 dnn: Dnn = TLV,
        /// Additional information.
        0x24 additional_information: RawValue = TLV,
        /// MA PDU session information.
        0xA0 ma_pdu_session_information: Flags4 = TV1,
        /// Release assistance indication.
        0xF0 release_assistance_indication: Flags4 = TV1,
        /// Non-3GPP access path switching indication.
        0x4E non_3gpp_access_path_switching_indication: RawValue = TLV,
        /// Alternative S-NSSAI.
        0x5A alternative_s_nssai: SNssai = TLV,
        /// Payload container information.
        0x90 payload_container_information: Flags4 = TV1,
    }
}

nas_message! {
    /// DL NAS transport (TS 24.501 §8.2.11), AMF → UE.
    pub struct DlNasTransport: MmHeader {
        /// Payload container type.
        payload_container_type: PayloadContainerType = Lo,
        /// Spare half octet.
        spare: SpareHalfOctet = Hi,
        /// Payload container.
        payload_container: PayloadContainer = LVE,
    }
    optional {
        /// PDU session ID.
        0x12 pdu_session_id: PduSessionId = TV,
        /// Additional information.
        0x24 additional_information: RawValue = TLV,
        /// 5GMM cause.
        0x58 cause: crate::MmCause = TV,
        /// Back-off timer value.
        0x37 back_off_timer_value: GprsTimer3 = TLV,
        /// Lower bound timer value.
        0x3A lower_bound_timer_value: GprsTimer3 = TLV,
    }
}
