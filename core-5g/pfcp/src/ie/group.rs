//! Grouped IEs (TS 29.244 §7.5.2–§7.5.8 tables, §8.2.1): the rules an SMF installs
//! in a UPF, and the reports that come back. Each has `new(<mandatory IEs>)` and a
//! setter per optional IE, so that rules read like the spec's tables:
//!
//! ```
//! use std::net::Ipv4Addr;
//! use hexcore_pfcp::ie::*;
//!
//! // Uplink: GTP-U from the gNB, F-TEID chosen by the UPF, forwarded to N6.
//! let pdr = CreatePdr::new(
//!     PdrId(1),
//!     Precedence(255),
//!     Pdi::new(SourceInterface::Access)
//!         .local_fteid(Fteid::choose_v4(Some(1)))
//!         .network_instance(DnsName::labels("internet"))
//!         .qfis([Qfi(9)]),
//! )
//! .outer_header_removal(OuterHeaderRemoval::GTPU_UDP_IPV4)
//! .far_id(FarId(1))
//! .urr_ids([UrrId(1)]);
//! let far = CreateFar::forward(FarId(1), ForwardingParameters::new(DestinationInterface::Core));
//! // Downlink: to the gNB's tunnel.
//! let dl = CreateFar::forward(
//!     FarId(2),
//!     ForwardingParameters::new(DestinationInterface::Access)
//!         .outer_header_creation(OuterHeaderCreation::gtpu_v4(0x1234, Ipv4Addr::new(10, 0, 0, 1))),
//! );
//! # let _ = (pdr, far, dl);
//! ```

use std::time::Duration;

use crate::codec::ie_group;
use crate::ie::*;

ie_group! {
    /// PDI (Table 7.5.2.2-2): what traffic a PDR matches.
    pub struct Pdi {
        /// Source Interface.
        source_interface: M SourceInterface = SourceInterface,
        /// Local F-TEID (or CHOOSE).
        local_fteid: O Fteid = Fteid,
        /// Network Instance.
        network_instance: O DnsName = NetworkInstance,
        /// UE IP Address (two for IPv4v6, Rel-16).
        ue_ip_addresses: V UeIpAddress = UeIpAddress,
        /// SDF Filters.
        sdf_filters: V SdfFilter = SdfFilter,
        /// Application ID.
        application_id: O ApplicationId = ApplicationId,
        /// QFIs.
        qfis: V Qfi = Qfi,
    }
}

ie_group! {
    /// Create PDR (Table 7.5.2.2-1).
    pub struct CreatePdr {
        /// PDR ID.
        pdr_id: M PdrId = PdrId,
        /// Precedence.
        precedence: M Precedence = Precedence,
        /// PDI.
        pdi: M Pdi = Pdi,
        /// Outer Header Removal.
        outer_header_removal: O OuterHeaderRemoval = OuterHeaderRemoval,
        /// FAR ID.
        far_id: O FarId = FarId,
        /// URR IDs.
        urr_ids: V UrrId = UrrId,
        /// QER IDs.
        qer_ids: V QerId = QerId,
    }
}

ie_group! {
    /// Forwarding Parameters (Table 7.5.2.3-2).
    pub struct ForwardingParameters {
        /// Destination Interface.
        destination_interface: M DestinationInterface = DestinationInterface,
        /// Network Instance.
        network_instance: O DnsName = NetworkInstance,
        /// Outer Header Creation.
        outer_header_creation: O OuterHeaderCreation = OuterHeaderCreation,
    }
}

ie_group! {
    /// Create FAR (Table 7.5.2.3-1).
    pub struct CreateFar {
        /// FAR ID.
        far_id: M FarId = FarId,
        /// Apply Action.
        apply_action: M ApplyAction = ApplyAction,
        /// Forwarding Parameters (when the action is FORW).
        forwarding_parameters: O ForwardingParameters = ForwardingParameters,
        /// BAR ID.
        bar_id: O BarId = BarId,
    }
}

impl CreateFar {
    /// A FAR that forwards with these parameters.
    pub fn forward(far_id: FarId, parameters: ForwardingParameters) -> Self {
        CreateFar::new(far_id, ApplyAction::new(ApplyAction::FORW)).forwarding_parameters(parameters)
    }

    /// A FAR that drops.
    pub fn drop(far_id: FarId) -> Self {
        CreateFar::new(far_id, ApplyAction::new(ApplyAction::DROP))
    }

    /// A FAR that buffers and notifies the CP function (a UE in CM-IDLE).
    pub fn buffer(far_id: FarId) -> Self {
        CreateFar::new(far_id, ApplyAction::new(ApplyAction::BUFF | ApplyAction::NOCP))
    }
}

ie_group! {
    /// Create URR (Table 7.5.2.4-1).
    pub struct CreateUrr {
        /// URR ID.
        urr_id: M UrrId = UrrId,
        /// Measurement Method.
        measurement_method: M MeasurementMethod = MeasurementMethod,
        /// Reporting Triggers.
        reporting_triggers: M ReportingTriggers = ReportingTriggers,
        /// Measurement Period.
        measurement_period: O Duration = MeasurementPeriod,
        /// Volume Threshold.
        volume_threshold: O Volume = VolumeThreshold,
        /// Volume Quota.
        volume_quota: O Volume = VolumeQuota,
        /// Time Threshold.
        time_threshold: O Duration = TimeThreshold,
        /// Time Quota.
        time_quota: O Duration = TimeQuota,
        /// Quota Holding Time.
        quota_holding_time: O Duration = QuotaHoldingTime,
    }
}

ie_group! {
    /// Create QER (Table 7.5.2.5-1).
    pub struct CreateQer {
        /// QER ID.
        qer_id: M QerId = QerId,
        /// QER Correlation ID.
        qer_correlation_id: O QerCorrelationId = QerCorrelationId,
        /// Gate Status.
        gate_status: M GateStatus = GateStatus,
        /// Maximum Bitrate.
        mbr: O BitRate = Mbr,
        /// Guaranteed Bitrate.
        gbr: O BitRate = Gbr,
        /// QFI.
        qfi: O Qfi = Qfi,
    }
}

ie_group! {
    /// Create BAR (Table 7.5.2.6-1).
    pub struct CreateBar {
        /// BAR ID.
        bar_id: M BarId = BarId,
    }
}

ie_group! {
    /// Created PDR (Table 7.5.3.2-1): what the UP function allocated for a PDR.
    pub struct CreatedPdr {
        /// PDR ID.
        pdr_id: M PdrId = PdrId,
        /// Local F-TEID the UP function chose.
        local_fteid: O Fteid = Fteid,
        /// UE IP addresses the UP function allocated.
        ue_ip_addresses: V UeIpAddress = UeIpAddress,
    }
}

ie_group! {
    /// Update PDR (Table 7.5.4.2-1).
    pub struct UpdatePdr {
        /// PDR ID.
        pdr_id: M PdrId = PdrId,
        /// Outer Header Removal.
        outer_header_removal: O OuterHeaderRemoval = OuterHeaderRemoval,
        /// Precedence.
        precedence: O Precedence = Precedence,
        /// PDI.
        pdi: O Pdi = Pdi,
        /// FAR ID.
        far_id: O FarId = FarId,
        /// URR IDs.
        urr_ids: V UrrId = UrrId,
        /// QER IDs.
        qer_ids: V QerId = QerId,
    }
}

ie_group! {
    /// Update Forwarding Parameters (Table 7.5.4.3-2).
    pub struct UpdateForwardingParameters {
        /// Destination Interface.
        destination_interface: O DestinationInterface = DestinationInterface,
        /// Network Instance.
        network_instance: O DnsName = NetworkInstance,
        /// Outer Header Creation.
        outer_header_creation: O OuterHeaderCreation = OuterHeaderCreation,
        /// PFCPSMReq-Flags (bit 1 DROBU, bit 2 SNDEM: send end marker, bit 3 QAURR).
        pfcpsm_req_flags: O Vec<u8> = PfcpsmReqFlags,
    }
}

ie_group! {
    /// Update FAR (Table 7.5.4.3-1).
    pub struct UpdateFar {
        /// FAR ID.
        far_id: M FarId = FarId,
        /// Apply Action.
        apply_action: O ApplyAction = ApplyAction,
        /// Update Forwarding Parameters.
        update_forwarding_parameters: O UpdateForwardingParameters = UpdateForwardingParameters,
        /// BAR ID.
        bar_id: O BarId = BarId,
    }
}

ie_group! {
    /// Update URR (Table 7.5.4.4-1).
    pub struct UpdateUrr {
        /// URR ID.
        urr_id: M UrrId = UrrId,
        /// Measurement Method.
        measurement_method: O MeasurementMethod = MeasurementMethod,
        /// Reporting Triggers.
        reporting_triggers: O ReportingTriggers = ReportingTriggers,
        /// Measurement Period.
        measurement_period: O Duration = MeasurementPeriod,
        /// Volume Threshold.
        volume_threshold: O Volume = VolumeThreshold,
        /// Volume Quota.
        volume_quota: O Volume = VolumeQuota,
        /// Time Threshold.
        time_threshold: O Duration = TimeThreshold,
        /// Time Quota.
        time_quota: O Duration = TimeQuota,
        /// Quota Holding Time.
        quota_holding_time: O Duration = QuotaHoldingTime,
    }
}

ie_group! {
    /// Update QER (Table 7.5.4.5-1).
    pub struct UpdateQer {
        /// QER ID.
        qer_id: M QerId = QerId,
        /// QER Correlation ID.
        qer_correlation_id: O QerCorrelationId = QerCorrelationId,
        /// Gate Status.
        gate_status: O GateStatus = GateStatus,
        /// Maximum Bitrate.
        mbr: O BitRate = Mbr,
        /// Guaranteed Bitrate.
        gbr: O BitRate = Gbr,
        /// QFI.
        qfi: O Qfi = Qfi,
    }
}

ie_group! {
    /// Update BAR (Table 7.5.4.11-1 in a Session Modification Request, Table
    /// 7.5.9.2-1 in a Session Report Response; two IE types, one layout).
    pub struct UpdateBar {
        /// BAR ID.
        bar_id: M BarId = BarId,
    }
}

ie_group! {
    /// Remove PDR (Table 7.5.4.6-1).
    pub struct RemovePdr {
        /// PDR ID.
        pdr_id: M PdrId = PdrId,
    }
}

ie_group! {
    /// Remove FAR (Table 7.5.4.7-1).
    pub struct RemoveFar {
        /// FAR ID.
        far_id: M FarId = FarId,
    }
}

ie_group! {
    /// Remove URR (Table 7.5.4.8-1).
    pub struct RemoveUrr {
        /// URR ID.
        urr_id: M UrrId = UrrId,
    }
}

ie_group! {
    /// Remove QER (Table 7.5.4.9-1).
    pub struct RemoveQer {
        /// QER ID.
        qer_id: M QerId = QerId,
    }
}

ie_group! {
    /// Remove BAR (Table 7.5.4.12-1).
    pub struct RemoveBar {
        /// BAR ID.
        bar_id: M BarId = BarId,
    }
}

ie_group! {
    /// Query URR (Table 7.5.4.10-1): ask for an immediate usage report.
    pub struct QueryUrr {
        /// URR ID.
        urr_id: M UrrId = UrrId,
    }
}

ie_group! {
    /// Usage Report (Tables 7.5.5.2-1, 7.5.7.2-1, 7.5.8.3-1): one layout for the
    /// three IE types of the Session Modification Response, Session Deletion
    /// Response and Session Report Request. Application detection, UE IP address,
    /// time of first/last packet and the Ethernet and multicast reports are kept in
    /// `unknown_ies`.
    pub struct UsageReport {
        /// URR ID.
        urr_id: M UrrId = UrrId,
        /// UR-SEQN.
        ur_seqn: M UrSeqn = UrSeqn,
        /// Usage Report Trigger.
        usage_report_trigger: M UsageReportTrigger = UsageReportTrigger,
        /// Start Time.
        start_time: O Timestamp = StartTime,
        /// End Time.
        end_time: O Timestamp = EndTime,
        /// Volume Measurement.
        volume_measurement: O VolumeMeasurement = VolumeMeasurement,
        /// Duration Measurement.
        duration_measurement: O Duration = DurationMeasurement,
    }
}

ie_group! {
    /// Downlink Data Report (Table 7.5.8.2-1): which PDRs saw downlink data for a
    /// buffered session.
    pub struct DownlinkDataReport {
        /// PDR IDs (one or more).
        pdr_ids: MV PdrId = PdrId,
        /// Downlink Data Service Information, one per PDR.
        downlink_data_service_information: V DownlinkDataServiceInformation = DownlinkDataServiceInformation,
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::codec::IeValue;
    use crate::error::Error;

    // The Create PDR of free5GC pfcp's decode_test.go "Session Establishment Request"
    // (Apache-2.0): PDR ID 1, Precedence 32, Outer Header Removal GTP-U/UDP/IPv4,
    // and no PDI.
    static CREATE_PDR_NO_PDI: [u8; 19] = [
        0x0, 0x38, 0x0, 0x2, 0x0, 0x1, 0x0, 0x1d, 0x0, 0x4, 0x0, 0x0, 0x0, 0x20, 0x0, 0x5f, 0x0, 0x1, 0x0,
    ];

    // The Usage Report of go-pfcp's message/session-report-request_test.go (MIT),
    // up to and including the Duration Measurement.
    static USAGE_REPORT: [u8; 109] = [
        0x00, 0x51, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, // URR ID
        0x00, 0x68, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, // UR-SEQN
        0x00, 0x3f, 0x00, 0x03, 0xff, 0xff, 0xff, // Usage Report Trigger
        0x00, 0x4b, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, // Start Time
        0x00, 0x4c, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, // End Time
        0x00, 0x42, 0x00, 0x31, 0x3f, // Volume Measurement
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x33, 0x33,
        0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x55, 0x55, 0x55, 0x55,
        0x55, 0x55, 0x55, 0x55, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, //
        0x00, 0x43, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0a, // Duration Measurement
        0x00, 0x5d, 0x00, 0x05, 0x02, 0x7f, 0x00, 0x00, 0x01, // UE IP Address (kept raw)
    ];

    #[test]
    fn decode_usage_report() {
        let ur = UsageReport::decode(&USAGE_REPORT, IeType::UsageReportSessionReportRequest).unwrap();
        assert_eq!(ur.urr_id, UrrId(0xffffffff));
        assert_eq!(ur.ur_seqn, UrSeqn(0xffffffff));
        assert!(ur.usage_report_trigger.contains(UsageReportTrigger::VOLTH));
        assert_eq!(ur.start_time.map(Timestamp::unix_secs), Some(1_546_300_800));
        let vm = ur.volume_measurement.unwrap();
        assert_eq!(vm.total_volume, Some(0x1111111111111111));
        assert_eq!(vm.downlink_packets, Some(0x6666666666666666));
        assert_eq!(ur.duration_measurement, Some(Duration::from_secs(10)));
        assert_eq!(ur.unknown_ies.len(), 1);
        assert_eq!(ur.unknown_ies[0].ie_type, IeType::UeIpAddress);
        assert_eq!(ur.to_bytes(), USAGE_REPORT);
    }

    #[test]
    fn missing_pdi() {
        assert_eq!(
            CreatePdr::decode(&CREATE_PDR_NO_PDI, IeType::CreatePdr),
            Err(Error::MissingMandatoryIe { ie: IeType::Pdi })
        );
    }

    #[test]
    fn build_and_encode_rules() {
        let pdr = CreatePdr::new(
            PdrId(1),
            Precedence(32),
            Pdi::new(SourceInterface::Access).local_fteid(Fteid::choose_v4(Some(1))),
        )
        .far_id(FarId(1))
        .urr_ids([UrrId(1), UrrId(2)]);
        #[rustfmt::skip]
        let want = [
            0x00, 0x38, 0x00, 0x02, 0x00, 0x01,
            0x00, 0x1d, 0x00, 0x04, 0x00, 0x00, 0x00, 0x20,
            0x00, 0x02, 0x00, 0x0b,
                0x00, 0x14, 0x00, 0x01, 0x00,
                0x00, 0x15, 0x00, 0x02, 0x0d, 0x01,
            0x00, 0x6c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x51, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
        ];
        assert_eq!(pdr.to_bytes(), want);
        assert_eq!(CreatePdr::decode(&want, IeType::CreatePdr).unwrap(), pdr);

        let far = CreateFar::forward(
            FarId(2),
            ForwardingParameters::new(DestinationInterface::Access)
                .outer_header_creation(OuterHeaderCreation::gtpu_v4(0x11223344, Ipv4Addr::LOCALHOST)),
        );
        #[rustfmt::skip]
        let want = [
            0x00, 0x6c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
            0x00, 0x2c, 0x00, 0x02, 0x02, 0x00,
            0x00, 0x04, 0x00, 0x13,
                0x00, 0x2a, 0x00, 0x01, 0x00,
                0x00, 0x54, 0x00, 0x0a, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x7f, 0x00, 0x00, 0x01,
        ];
        assert_eq!(far.to_bytes(), want);

        let urr = CreateUrr::new(
            UrrId(1),
            MeasurementMethod::new(MeasurementMethod::VOLUM | MeasurementMethod::DURAT),
            ReportingTriggers::new(ReportingTriggers::VOLTH | ReportingTriggers::VOLQU),
        )
        .volume_threshold(Volume::total(1_000_000))
        .volume_quota(Volume::total(5_000_000));
        let b = urr.to_bytes();
        assert_eq!(CreateUrr::decode(&b, IeType::CreateUrr).unwrap(), urr);
        assert_eq!(&b[8..13], [0x00, 0x3e, 0x00, 0x01, 0x03]);
        assert_eq!(&b[13..20], [0x00, 0x25, 0x00, 0x03, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn broken_group() {
        // A PDR ID whose value is one octet short.
        let mut b = CREATE_PDR_NO_PDI;
        b[3] = 1;
        assert!(matches!(
            CreatePdr::decode(&b, IeType::CreatePdr),
            Err(Error::BadLength { .. })
        ));
        // Downlink Data Report with no PDR ID.
        assert_eq!(
            DownlinkDataReport::decode(&[], IeType::DownlinkDataReport),
            Err(Error::MissingMandatoryIe { ie: IeType::PdrId })
        );
    }
}
