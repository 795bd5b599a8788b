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
        0x10 mm_capability: MmCapability = TLV,
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
        0x53 update_type: UpdateType = TLV,
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
        0x43 full_name_for_network: NetworkName = TLV,
        /// Short name for network.
        0x45 short_name_for_network: NetworkName = TLV,
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

impl DlNasTransport {
    /// A DL NAS transport carrying a 5GSM message to PDU session `pdu_session_id`
    /// (TS 24.501 §5.4.5.3.1: payload container type N1 SM information and the
    /// PDU session ID IE).
    pub fn n1_sm(pdu_session_id: u8, sm: &crate::Message) -> Self {
        let mut m = DlNasTransport::new(
            MmHeader::default(),
            PayloadContainerType::N1SmInformation,
            SpareHalfOctet(0),
            PayloadContainer(sm.encode()),
        );
        m.pdu_session_id = Some(PduSessionId(pdu_session_id));
        m
    }
}

impl UlNasTransport {
    /// An UL NAS transport carrying a 5GSM message (the UE side, for simulators).
    pub fn n1_sm(pdu_session_id: u8, sm: &crate::Message) -> Self {
        let mut m = UlNasTransport::new(
            MmHeader::default(),
            PayloadContainerType::N1SmInformation,
            SpareHalfOctet(0),
            PayloadContainer(sm.encode()),
        );
        m.pdu_session_id = Some(PduSessionId(pdu_session_id));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, IeValue, Message, MmCause, NasPdu};

    fn decode(b: &[u8]) -> Message {
        let m = Message::decode(b).unwrap();
        assert_eq!(m.encode(), b, "re-encode of {}", m.name());
        m
    }

    fn inner(b: &[u8]) -> Message {
        match NasPdu::decode(b).unwrap() {
            NasPdu::SecurityProtected(sp) => {
                let m = Message::decode_inner(&sp.payload).unwrap();
                assert_eq!(m.encode(), sp.payload, "re-encode of {}", m.name());
                m
            }
            NasPdu::Plain(_) => panic!("expected a protected PDU"),
        }
    }

    // Registration request from a Go UE simulator's test table (free5GC peer):
    // initial registration, FOR, ngKSI 7, SUCI 208-93 RI 1234 null scheme MSIN
    // 0123456789, 5GMM capability 0x20, UE security capability EA0 / IA0+IA2.
    static REG_REQ_SIM: [u8; 28] = [
        0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01, 0x02, 0xf8, 0x39, 0x21, 0x43, 0x00, 0x00, 0x10, 0x32, 0x54, 0x76,
        0x98, 0x10, 0x01, 0x20, 0x2e, 0x04, 0x80, 0xa0, 0x00, 0x00,
    ];
    // Registration request as UERANSIM sends it (seen in an AMF test harness):
    // SUCI 999-70, RI 0000, null scheme, MSIN 0000000001; UE sec. cap. 80 f0 80 f0.
    static REG_REQ_UERANSIM: [u8; 25] = [
        0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01, 0x99, 0xf9, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x10, 0x2e, 0x04, 0x80, 0xf0, 0x80, 0xf0,
    ];
    // Authentication request from the same Go UE simulator table: ngKSI 0, ABBA
    // 0000, RAND, AUTN (5G AKA).
    static AUTH_REQ: [u8; 42] = [
        0x7e, 0x00, 0x56, 0x00, 0x02, 0x00, 0x00, 0x21, 0xfc, 0x64, 0x08, 0x19, 0x53, 0xbb, 0x33, 0xc0, 0x68, 0x2e,
        0xdf, 0x16, 0x90, 0xb2, 0x58, 0x21, 0x20, 0x10, 0x94, 0xbb, 0xaf, 0x40, 0x94, 0x0a, 0x80, 0x00, 0xc6, 0xa7,
        0x2c, 0x4e, 0xfb, 0xaf, 0x03, 0x37,
    ];
    // Authentication response to it: RES* (IEI 2D, 16 octets).
    static AUTH_RESP: [u8; 21] = [
        0x7e, 0x00, 0x57, 0x2d, 0x10, 0x80, 0x3a, 0xdc, 0xac, 0xc3, 0x64, 0xfc, 0x00, 0x0b, 0xdc, 0x0f, 0x65, 0xe3,
        0x24, 0xea, 0xa1,
    ];
    // Security mode command (security header type 3) from the same table: NEA0 /
    // NIA2, ngKSI 0, replayed UE sec. cap. 80 a0 00 00, IMEISV requested,
    // additional 5G security information 00. The inner header repeats type 3.
    static SMC: [u8; 21] = [
        0x7e, 0x03, 0x93, 0x77, 0x11, 0xbc, 0x00, 0x7e, 0x03, 0x5d, 0x02, 0x00, 0x04, 0x80, 0xa0, 0x00, 0x00, 0xe1,
        0x36, 0x01, 0x00,
    ];
    // Security mode complete (type 4) from UERANSIM: IMEISV 4370816125816151 and
    // the whole registration request in a NAS message container.
    static SMC_COMPLETE: [u8; 60] = [
        0x7e, 0x04, 0x22, 0xe4, 0xee, 0x19, 0x00, 0x7e, 0x00, 0x5e, 0x77, 0x00, 0x09, 0x45, 0x73, 0x80, 0x61, 0x21,
        0x85, 0x61, 0x51, 0xf1, 0x71, 0x00, 0x23, 0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01, 0x99, 0xf9, 0x07, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x10, 0x01, 0x00, 0x2e, 0x04, 0x80, 0xf0, 0x80, 0xf0, 0x2f,
        0x02, 0x01, 0x01, 0x53, 0x01, 0x00,
    ];
    // Registration accept (type 2, NEA0) from the Go UE simulator table (free5GC):
    // 5G-GUTI 208-93 region CA set 3F8 ptr 0 TMSI 1 (spare nibble 0, not F), TAI
    // list type 00 TAC 1, allowed NSSAI 1/010203 + 1/112233, T3512 1 h, T3502 12 min.
    static REG_ACCEPT: [u8; 53] = [
        0x7e, 0x02, 0x93, 0x0d, 0x75, 0xcf, 0x01, 0x7e, 0x02, 0x42, 0x01, 0x01, 0x77, 0x00, 0x0b, 0x02, 0x02, 0xf8,
        0x39, 0xca, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x01, 0x54, 0x07, 0x00, 0x02, 0xf8, 0x39, 0x00, 0x00, 0x01, 0x15,
        0x0a, 0x04, 0x01, 0x01, 0x02, 0x03, 0x04, 0x01, 0x11, 0x22, 0x33, 0x5e, 0x01, 0x06, 0x16, 0x01, 0x2c,
    ];
    // Deregistration request UE originating (type 4): 3GPP, no switch off, ngKSI
    // 7, 5G-GUTI F2 208-93 CA FE00 00000001.
    static DEREG_REQ: [u8; 24] = [
        0x7e, 0x04, 0xd7, 0x33, 0xaf, 0x71, 0x00, 0x7e, 0x00, 0x45, 0x71, 0x00, 0x0b, 0xf2, 0x02, 0xf8, 0x39, 0xca,
        0xfe, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];
    // Configuration update command (type 2, NEA0) from Open5GS, as replayed in
    // srsRAN's CU-CP tests: full name "Open5GS" (UCS2), local time zone,
    // universal time and local time zone, daylight saving time.
    static CUC: [u8; 40] = [
        0x7e, 0x02, 0x05, 0x54, 0x5b, 0xfc, 0x02, 0x7e, 0x00, 0x54, 0x43, 0x0f, 0x90, 0x00, 0x4f, 0x00, 0x70, 0x00,
        0x65, 0x00, 0x6e, 0x00, 0x35, 0x00, 0x47, 0x00, 0x53, 0x46, 0x00, 0x47, 0x32, 0x80, 0x01, 0x31, 0x23, 0x52,
        0x00, 0x49, 0x01, 0x00,
    ];

    // Built from TS 24.501 §8.2.4 field by field: EPD 7E, plain, type 59, 5GMM
    // cause #21 synch failure, IEI 30 len 0E AUTS (14 octets).
    static AUTH_FAILURE: [u8; 20] = [
        0x7e, 0x00, 0x59, 0x15, 0x30, 0x0e, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
        0x0c, 0x0d,
    ];
    // §8.2.16: ngKSI 0 (bits 1-4), service type 1 data (bits 5-8), 5G-S-TMSI F4
    // set 1 ptr 0 TMSI C0000353, uplink data status PSI 5, PDU session status PSI 5.
    static SERVICE_REQ: [u8; 21] = [
        0x7e, 0x00, 0x4c, 0x10, 0x00, 0x07, 0xf4, 0x00, 0x40, 0xc0, 0x00, 0x03, 0x53, 0x40, 0x02, 0x20, 0x00, 0x50,
        0x02, 0x20, 0x00,
    ];
    // §8.2.14: re-registration required, 3GPP (0x05); 5GMM cause #10 (TV 58);
    // T3346 (GPRS timer 2, 5F) 1 min × 1.
    static DEREG_REQ_NW: [u8; 9] = [0x7e, 0x00, 0x47, 0x05, 0x58, 0x0a, 0x5f, 0x01, 0x21];
    // §8.2.9: cause #3 illegal UE, T3346 2 s × 5.
    static REG_REJECT: [u8; 7] = [0x7e, 0x00, 0x44, 0x03, 0x5f, 0x01, 0x05];

    #[test]
    fn registration_request_suci_null_scheme() {
        let Message::RegistrationRequest(m) = decode(&REG_REQ_SIM) else {
            panic!()
        };
        assert_eq!(m.registration_type.value, RegistrationTypeValue::Initial);
        assert!(m.registration_type.follow_on_request);
        assert_eq!(m.ngksi, NasKeySetIdentifier::NO_KEY);
        let MobileIdentity::Suci(Suci::Imsi(s)) = &m.mobile_identity else {
            panic!("{:?}", m.mobile_identity)
        };
        assert_eq!((s.plmn.mcc().as_str(), s.plmn.mnc().as_str()), ("208", "93"));
        assert_eq!(s.routing_indicator, "1234");
        assert_eq!(s.protection_scheme, ProtectionScheme::Null);
        assert_eq!(s.scheme_output, SchemeOutput::Msin("0123456789".into()));
        assert_eq!(s.imsi().as_deref(), Some("208930123456789"));
        assert_eq!(s.to_sbi_string(), "suci-0-208-93-1234-0-0-0123456789");
        assert_eq!(m.mm_capability, Some(MmCapability(vec![0x20])));
        let cap = m.ue_security_capability.as_ref().unwrap();
        assert!(cap.supports_ea(0) && cap.supports_ia(2) && !cap.supports_ia(1));
        assert!(m.unknown_ies.is_empty());

        let Message::RegistrationRequest(u) = decode(&REG_REQ_UERANSIM) else {
            panic!()
        };
        let MobileIdentity::Suci(Suci::Imsi(s)) = &u.mobile_identity else {
            panic!()
        };
        assert_eq!(s.plmn, crate::ie::Plmn::new("999", "70"));
        assert_eq!(s.routing_indicator, "0000");
        assert_eq!(s.scheme_output, SchemeOutput::Msin("0000000001".into()));
    }

    #[test]
    fn suci_profile_a_and_b_scheme_outputs() {
        // TS 33.501 Annex C.4.3.1 (Profile A) and C.4.4.1 (Profile B) scheme
        // outputs, in a SUCI for MCC 274 MNC 012, RI 678, key id 27 (0x1B).
        let a =
            hex::decode("b2e92f836055a255837debf850b528997ce0201cb82adfe4be1f587d07d8457dcb02352410cddd9e730ef3fa87")
                .unwrap();
        let b =
            hex::decode("039aab8376597021e855679a9778ea0b67396e68c66df32c0f41e9acca2da9b9d146a33fc2716ac7dae96aa30a4d")
                .unwrap();
        for (scheme, out) in [(1u8, &a), (2u8, &b)] {
            let mut v = vec![0x01, 0x72, 0x24, 0x10, 0x76, 0xf8, scheme, 0x1b];
            v.extend_from_slice(out);
            let id = MobileIdentity::decode(&v).unwrap();
            let MobileIdentity::Suci(Suci::Imsi(s)) = &id else {
                panic!("{id:?}")
            };
            assert_eq!(s.plmn.mcc(), "274");
            assert_eq!(s.plmn.mnc(), "012");
            assert_eq!(s.routing_indicator, "678");
            assert_eq!(s.home_network_public_key_id, 27);
            match &s.scheme_output {
                SchemeOutput::ProfileA {
                    ephemeral_public_key,
                    ciphertext,
                    mac_tag,
                } => {
                    assert_eq!(ephemeral_public_key[0], 0xb2);
                    assert_eq!(ciphertext, &[0xcb, 0x02, 0x35, 0x24, 0x10]);
                    assert_eq!(mac_tag, &[0xcd, 0xdd, 0x9e, 0x73, 0x0e, 0xf3, 0xfa, 0x87]);
                }
                SchemeOutput::ProfileB {
                    ephemeral_public_key,
                    ciphertext,
                    mac_tag,
                } => {
                    assert_eq!(ephemeral_public_key[0], 0x03);
                    assert_eq!(ciphertext, &[0x46, 0xa3, 0x3f, 0xc2, 0x71]);
                    assert_eq!(mac_tag[7], 0x4d);
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(id.to_bytes(), v);
            assert_eq!(s.imsi(), None);
            let sbi = s.to_sbi_string();
            assert!(sbi.starts_with(&format!("suci-0-274-012-678-{scheme}-27-")), "{sbi}");
            assert!(sbi.ends_with(&hex::encode(out)));
        }
        // too short for Profile A: kept as octets
        let v = [0x01, 0x72, 0x24, 0x10, 0x76, 0xf8, 0x01, 0x1b, 0xaa];
        let MobileIdentity::Suci(Suci::Imsi(s)) = MobileIdentity::decode(&v).unwrap() else {
            panic!()
        };
        assert_eq!(s.scheme_output, SchemeOutput::Other(vec![0xaa]));
    }

    #[test]
    fn authentication_exchange() {
        let Message::AuthenticationRequest(m) = decode(&AUTH_REQ) else {
            panic!()
        };
        assert_eq!(m.ngksi, NasKeySetIdentifier { mapped: false, ksi: 0 });
        assert_eq!(m.abba, Abba(vec![0, 0]));
        assert_eq!(m.rand.unwrap().0[..4], [0xfc, 0x64, 0x08, 0x19]);
        assert_eq!(m.autn.unwrap().0[15], 0x37);
        assert!(m.eap_message.is_none());

        let Message::AuthenticationResponse(r) = decode(&AUTH_RESP) else {
            panic!()
        };
        assert_eq!(r.res_star.unwrap().0[0], 0x80);

        let Message::AuthenticationFailure(f) = decode(&AUTH_FAILURE) else {
            panic!()
        };
        assert_eq!(f.cause, MmCause::SynchFailure);
        assert_eq!(f.auts.unwrap().0[13], 0x0d);
    }

    #[test]
    fn encode_authentication_request_to_known_bytes() {
        let mut rand = [0u8; 16];
        rand.copy_from_slice(&AUTH_REQ[8..24]);
        let mut autn = [0u8; 16];
        autn.copy_from_slice(&AUTH_REQ[26..42]);
        let m = Message::from(AuthenticationRequest {
            header: MmHeader::default(),
            ngksi: NasKeySetIdentifier { mapped: false, ksi: 0 },
            spare: SpareHalfOctet(0),
            abba: Abba(vec![0, 0]),
            rand: Some(Rand(rand)),
            autn: Some(Autn(autn)),
            eap_message: None,
            unknown_ies: vec![],
        });
        assert_eq!(m.encode(), AUTH_REQ);
    }

    #[test]
    fn security_mode_command_and_complete() {
        let Message::SecurityModeCommand(m) = inner(&SMC) else {
            panic!()
        };
        assert_eq!(m.header.security_header_type, 3);
        assert_eq!(m.selected_algorithms.ciphering, CipheringAlgorithm::Nea0);
        assert_eq!(m.selected_algorithms.integrity, IntegrityAlgorithm::Nia2);
        assert_eq!(m.replayed_ue_security_capability.nr_ia, 0xa0);
        assert_eq!(m.imeisv_request, Some(ImeisvRequest::Requested));
        assert!(!m.additional_security_information.unwrap().rinmr());

        let Message::SecurityModeComplete(c) = inner(&SMC_COMPLETE) else {
            panic!()
        };
        assert_eq!(c.imeisv, Some(MobileIdentity::Imeisv("4370816125816151".into())));
        let Message::RegistrationRequest(r) = c.nas_message_container.unwrap().message().unwrap() else {
            panic!()
        };
        assert_eq!(r.requested_nssai.unwrap().0, vec![SNssai::new(1, None)]);
        assert_eq!(r.update_type, Some(UpdateType(vec![0])));
        assert!(!r.mm_capability.unwrap().s1_mode());
    }

    #[test]
    fn registration_accept_from_free5gc() {
        let Message::RegistrationAccept(m) = inner(&REG_ACCEPT) else {
            panic!()
        };
        assert!(!m.registration_result.sms_allowed());
        assert_eq!(m.registration_result.access(), AccessType::ThreeGpp);
        // spare nibble 0 instead of F: kept raw, still readable
        let g = m.guti.as_ref().unwrap().guti().unwrap();
        assert_eq!(
            (g.amf_region_id, g.amf_set_id, g.amf_pointer, g.tmsi),
            (0xca, 0x3f8, 0, 1)
        );
        assert_eq!(
            m.tai_list.unwrap().0,
            vec![PartialTaiList::NonConsecutive {
                plmn: Plmn::new("208", "93"),
                tacs: vec![1]
            }]
        );
        assert_eq!(
            m.allowed_nssai.unwrap().0,
            vec![SNssai::new(1, Some(0x010203)), SNssai::new(1, Some(0x112233))]
        );
        assert_eq!(m.t3512_value.unwrap().seconds(), Some(3600));
        assert_eq!(m.t3502_value.unwrap().seconds(), Some(720));
    }

    #[test]
    fn deregistration_both_directions() {
        let Message::DeregistrationRequestUeOriginating(m) = inner(&DEREG_REQ) else {
            panic!()
        };
        assert!(!m.deregistration_type.switch_off);
        assert_eq!(m.deregistration_type.access_type, AccessType::ThreeGpp);
        assert_eq!(m.ngksi.ksi, 7);
        let MobileIdentity::Guti(g) = m.mobile_identity else {
            panic!()
        };
        assert_eq!(g.s_tmsi().tmsi, 1);

        let Message::DeregistrationRequestUeTerminated(n) = decode(&DEREG_REQ_NW) else {
            panic!()
        };
        assert!(n.deregistration_type.re_registration_required);
        assert_eq!(n.cause, Some(MmCause::ImplicitlyDeregistered));
        assert_eq!(n.t3346_value.unwrap().seconds(), Some(60));

        for (b, name) in [
            (&[0x7e, 0x00, 0x46][..], "Deregistration accept (UE originating)"),
            (&[0x7e, 0x00, 0x48][..], "Deregistration accept (UE terminated)"),
        ] {
            assert_eq!(decode(b).name(), name);
        }
    }

    #[test]
    fn configuration_update_command_from_open5gs() {
        let Message::ConfigurationUpdateCommand(m) = inner(&CUC) else {
            panic!()
        };
        assert_eq!(m.full_name_for_network.unwrap().text().as_deref(), Some("Open5GS"));
        assert_eq!(m.local_time_zone, Some(TimeZone(0)));
        assert_eq!(m.universal_time_and_local_time_zone.unwrap().0[0], 0x32);
        assert_eq!(m.network_daylight_saving_time, Some(RawValue(vec![0])));
        assert!(m.unknown_ies.is_empty());
    }

    #[test]
    fn service_request_and_rejects() {
        let Message::ServiceRequest(m) = decode(&SERVICE_REQ) else {
            panic!()
        };
        assert_eq!(m.service_type, ServiceType::Data);
        assert_eq!(m.ngksi.ksi, 0);
        let s = m.s_tmsi.s_tmsi().unwrap();
        assert_eq!((s.amf_set_id, s.amf_pointer, s.tmsi), (1, 0, 0xc000_0353));
        assert_eq!(m.uplink_data_status.unwrap().psis(), vec![5]);

        let Message::RegistrationReject(r) = decode(&REG_REJECT) else {
            panic!()
        };
        assert_eq!(r.cause, MmCause::IllegalUe);
        assert_eq!(r.t3346_value.unwrap().seconds(), Some(10));
    }

    #[test]
    fn encode_registration_request_to_known_bytes() {
        let suci = MobileIdentity::Suci(Suci::Imsi(SuciImsi {
            plmn: Plmn::new("208", "93"),
            routing_indicator: "1234".into(),
            protection_scheme: ProtectionScheme::Null,
            home_network_public_key_id: 0,
            scheme_output: SchemeOutput::Msin("0123456789".into()),
        }));
        let mut m = RegistrationRequest::new(
            MmHeader::default(),
            RegistrationType {
                follow_on_request: true,
                value: RegistrationTypeValue::Initial,
            },
            NasKeySetIdentifier::NO_KEY,
            suci,
        );
        m.mm_capability = Some(MmCapability(vec![0x20]));
        m.ue_security_capability = Some(UeSecurityCapability {
            nr_ea: 0x80,
            nr_ia: 0xa0,
            rest: vec![0, 0],
        });
        assert_eq!(NasPdu::from(Message::from(m)).encode(), REG_REQ_SIM);
    }

    #[test]
    fn dl_nas_transport_wraps_5gsm() {
        // Rebuild the PDU session release command DL NAS transport of srsRAN's
        // test (Open5GS): 7E 00 68 01 0005 2E01B3D324 12 01
        let sm = Message::decode(&[0x2e, 0x01, 0xb3, 0xd3, 0x24]).unwrap();
        assert_eq!(
            sm.sm_header(),
            Some(crate::SmHeader {
                pdu_session_id: 1,
                pti: 0xb3
            })
        );
        let dl = Message::from(DlNasTransport::n1_sm(1, &sm));
        assert_eq!(
            dl.encode(),
            [
                0x7e, 0x00, 0x68, 0x01, 0x00, 0x05, 0x2e, 0x01, 0xb3, 0xd3, 0x24, 0x12, 0x01
            ]
        );
        assert_eq!(dl.sm_header(), None);
        assert_eq!(dl.sm_payload(), Some(Ok(sm)));
    }

    #[test]
    fn encode_small_messages_to_spec_bytes() {
        // TS 24.501 §8.2.21: identity request for SUCI = 7E 00 5B 01
        let m = Message::from(IdentityRequest {
            header: MmHeader::default(),
            identity_type: IdentityType::Suci,
            spare: SpareHalfOctet(0),
            unknown_ies: vec![],
        });
        assert_eq!(m.encode(), [0x7e, 0x00, 0x5b, 0x01]);
        // §8.2.29: 5GMM status #111
        let s = Message::from(MmStatus {
            header: MmHeader::default(),
            cause: MmCause::ProtocolErrorUnspecified,
            unknown_ies: vec![],
        });
        assert_eq!(s.encode(), [0x7e, 0x00, 0x64, 0x6f]);
        // §8.2.8 registration complete, §8.2.20 configuration update complete
        let rc = Message::from(RegistrationComplete {
            header: MmHeader::default(),
            sor_transparent_container: None,
            unknown_ies: vec![],
        });
        assert_eq!(rc.encode(), [0x7e, 0x00, 0x43]);
        // §8.2.23 notification, 3GPP access
        let n = Message::from(Notification {
            header: MmHeader::default(),
            access_type: AccessType::ThreeGpp,
            spare: SpareHalfOctet(0),
            unknown_ies: vec![],
        });
        assert_eq!(n.encode(), [0x7e, 0x00, 0x65, 0x01]);
    }

    #[test]
    fn small_messages_round_trip() {
        for b in [
            &[0x7e, 0x00, 0x43][..],
            &[0x7e, 0x00, 0x55],
            &[0x7e, 0x00, 0x58],
            &[0x7e, 0x00, 0x5f, 0x18],
            &[0x7e, 0x00, 0x4d, 0x0a, 0x50, 0x02, 0x00, 0x00],
            &[0x7e, 0x00, 0x4e, 0x50, 0x02, 0x20, 0x00, 0x26, 0x02, 0x00, 0x00],
            &[0x7e, 0x00, 0x66, 0x50, 0x02, 0x20, 0x00],
            &[
                0x7e, 0x00, 0x5a, 0x00, 0x00, 0x04, 0x03, 0x01, 0x00, 0x04, 0x38, 0x02, 0x00, 0x00,
            ],
            &[0x7e, 0x00, 0x5c, 0x00, 0x01, 0x00],
        ] {
            decode(b);
        }
    }

    #[test]
    fn optional_ies_any_order_and_unknown_kept() {
        // registration request with UE security capability before 5GMM capability
        let mut b = REG_REQ_SIM[..19].to_vec();
        b.extend_from_slice(&REG_REQ_SIM[22..]);
        b.extend_from_slice(&REG_REQ_SIM[19..22]);
        let Message::RegistrationRequest(m) = Message::decode(&b).unwrap() else {
            panic!()
        };
        assert!(m.mm_capability.is_some() && m.ue_security_capability.is_some());
        // re-encoded in the spec's order
        assert_eq!(Message::RegistrationRequest(m).encode(), REG_REQ_SIM);

        // an unknown TLV IEI (0x3D), an unknown TLV-E (0x7F) and type 1 (0xD1)
        let mut b = REG_REQ_SIM.to_vec();
        b.extend_from_slice(&[0x3d, 0x01, 0xaa, 0x7f, 0x00, 0x01, 0xbb, 0xd1]);
        let m = decode(&b);
        let Message::RegistrationRequest(r) = &m else { panic!() };
        assert_eq!(r.unknown_ies.len(), 3);
        assert_eq!(r.unknown_ies[1].iei(), 0x7f);

        // a repeated IE: the first is used, the second kept raw (§7.6.3)
        let mut b = REG_REQ_SIM.to_vec();
        b.extend_from_slice(&[0x10, 0x01, 0x07]);
        let Message::RegistrationRequest(r) = decode(&b) else {
            panic!()
        };
        assert_eq!(r.mm_capability, Some(MmCapability(vec![0x20])));
        assert_eq!(r.unknown_ies[0].bytes, [0x10, 0x01, 0x07]);

        // a repeated TV IE (last visited TAI, 7 octets, no length octet) is framed
        // by its format, not by the TLV rule
        let tai = [0x52, 0x02, 0xf8, 0x39, 0x00, 0x00, 0x01];
        let mut b = REG_REQ_SIM.to_vec();
        b.extend_from_slice(&tai);
        b.extend_from_slice(&tai);
        b.extend_from_slice(&[0x40, 0x02, 0x20, 0x00]);
        // (not in spec order: the repeated IE is re-encoded last)
        let Message::RegistrationRequest(r) = Message::decode(&b).unwrap() else {
            panic!()
        };
        assert_eq!(r.last_visited_registered_tai.unwrap().tac, 1);
        assert_eq!(r.unknown_ies[0].bytes, tai);
        assert_eq!(r.uplink_data_status.unwrap().psis(), vec![5]);

        // a known IE with bad contents (UE security capability of one octet) is
        // kept raw rather than failing the message (§7.7.2)
        let mut b = REG_REQ_SIM[..22].to_vec();
        b.extend_from_slice(&[0x2e, 0x01, 0x80]);
        let Message::RegistrationRequest(r) = decode(&b) else {
            panic!()
        };
        assert!(r.ue_security_capability.is_none());
        assert_eq!(r.unknown_ies.len(), 1);
    }

    // Registration accept (type 2) from Open5GS, as replayed in srsRAN's CU-CP
    // tests: 5G-GUTI 208-99 region 80 set 1 ptr 1 TMSI 0x10, TAI list 208-99 TAC
    // 1, allowed NSSAI of length 0, 5GS network feature support 01 00 (IMS VoPS
    // over 3GPP), T3512 B6 (unit 1 min × 22).
    static REG_ACCEPT_OPEN5GS: [u8; 44] = [
        0x7e, 0x02, 0xc4, 0xf6, 0xc2, 0x2f, 0x01, 0x7e, 0x00, 0x42, 0x01, 0x01, 0x77, 0x00, 0x0b, 0xf2, 0x02, 0xf8,
        0x99, 0x80, 0x00, 0x41, 0x00, 0x00, 0x00, 0x10, 0x54, 0x07, 0x00, 0x02, 0xf8, 0x99, 0x00, 0x00, 0x01, 0x15,
        0x00, 0x21, 0x02, 0x01, 0x00, 0x5e, 0x01, 0xb6,
    ];

    #[test]
    fn registration_accept_from_open5gs() {
        let Message::RegistrationAccept(m) = inner(&REG_ACCEPT_OPEN5GS) else {
            panic!()
        };
        let Some(MobileIdentity::Guti(g)) = m.guti else {
            panic!("{:?}", m.guti)
        };
        assert_eq!(g.plmn, Plmn::new("208", "99"));
        assert_eq!(
            (g.amf_region_id, g.amf_set_id, g.amf_pointer, g.tmsi),
            (0x80, 1, 1, 0x10)
        );
        assert_eq!(m.allowed_nssai, Some(Nssai(vec![])));
        let nfs = m.network_feature_support.unwrap();
        assert!(nfs.ims_vops_3gpp() && !nfs.ims_vops_n3gpp());
        assert_eq!(m.t3512_value.unwrap().seconds(), Some(22 * 60));
    }

    #[test]
    fn broken_input() {
        // every truncation of a real message fails cleanly or decodes a prefix
        for n in 0..REG_REQ_SIM.len() {
            let _ = Message::decode(&REG_REQ_SIM[..n]);
        }
        assert_eq!(
            Message::decode(&REG_REQ_SIM[..10]),
            Err(Error::Truncated { needed: 19, got: 10 })
        );
        let e = Message::decode(&[0x7e, 0x00, 0x41, 0x79]).unwrap_err();
        assert_eq!(e, Error::MissingMandatoryIe("mobile_identity"));
        assert_eq!(e.mm_cause(), MmCause::InvalidMandatoryInformation);
        let e = Message::decode(&[0x7e, 0x00, 0x99]).unwrap_err();
        assert_eq!(e, Error::UnknownMessageType(0x99));
        assert_eq!(e.mm_cause(), MmCause::MessageTypeNonExistentOrNotImplemented);
        assert_eq!(Message::decode(&[0x55, 0x00, 0x41]), Err(Error::UnknownEpd(0x55)));
        // truncated optional IE
        let mut b = REG_REQ_SIM.to_vec();
        b.extend_from_slice(&[0x2f, 0x05, 0x01]);
        assert!(matches!(Message::decode(&b), Err(Error::Truncated { .. })));
        // an unknown comprehension-required IE (IEI 0x0F) fails the message (§7.6.1)
        let mut b = REG_REQ_SIM.to_vec();
        b.extend_from_slice(&[0x0f, 0x01, 0x00]);
        let e = Message::decode(&b).unwrap_err();
        assert_eq!(e, Error::ComprehensionRequired(0x0f));
        assert_eq!(e.mm_cause(), MmCause::InvalidMandatoryInformation);
        // a plain decode of a protected PDU is refused
        assert_eq!(Message::decode(&SMC), Err(Error::BadSecurityHeaderType(3)));
        // RAND with a truncated value
        assert!(Message::decode(&AUTH_REQ[..20]).is_err());
    }
}
