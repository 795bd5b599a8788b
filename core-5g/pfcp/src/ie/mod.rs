//! Information elements (TS 29.244 §8.1, §8.2): the type-length walk every
//! message and grouped IE shares, the IE type code points, and the typed IEs.
//!
//! An IE is `Type (2) | Length (2) | [Enterprise ID (2)] | value`, the length
//! counting everything after itself. A type with bit 0x8000 set is vendor-specific
//! and carries an Enterprise ID first (§8.1.1). [`IeIter`] walks such a list and
//! stops at the first IE that does not fit; unknown and vendor IEs are handed out
//! like any other (as [`IeRef`]) for the caller to keep raw: never rejected.

mod group;
mod scalar;

pub use group::*;
pub use scalar::*;

use crate::codec::{Sink, code_enum};
use crate::error::Error;

code_enum! {
    /// IE type (TS 29.244 Table 8.1.2-1). Types ≥ 32768 are vendor-specific.
    pub enum IeType: u16 {
        /// Create PDR.
        CreatePdr = 1,
        /// PDI.
        Pdi = 2,
        /// Create FAR.
        CreateFar = 3,
        /// Forwarding Parameters.
        ForwardingParameters = 4,
        /// Duplicating Parameters.
        DuplicatingParameters = 5,
        /// Create URR.
        CreateUrr = 6,
        /// Create QER.
        CreateQer = 7,
        /// Created PDR.
        CreatedPdr = 8,
        /// Update PDR.
        UpdatePdr = 9,
        /// Update FAR.
        UpdateFar = 10,
        /// Update Forwarding Parameters.
        UpdateForwardingParameters = 11,
        /// Update BAR (in a Session Report Response).
        UpdateBarSessionReportResponse = 12,
        /// Update URR.
        UpdateUrr = 13,
        /// Update QER.
        UpdateQer = 14,
        /// Remove PDR.
        RemovePdr = 15,
        /// Remove FAR.
        RemoveFar = 16,
        /// Remove URR.
        RemoveUrr = 17,
        /// Remove QER.
        RemoveQer = 18,
        /// Cause.
        Cause = 19,
        /// Source Interface.
        SourceInterface = 20,
        /// F-TEID.
        Fteid = 21,
        /// Network Instance.
        NetworkInstance = 22,
        /// SDF Filter.
        SdfFilter = 23,
        /// Application ID.
        ApplicationId = 24,
        /// Gate Status.
        GateStatus = 25,
        /// MBR.
        Mbr = 26,
        /// GBR.
        Gbr = 27,
        /// QER Correlation ID.
        QerCorrelationId = 28,
        /// Precedence.
        Precedence = 29,
        /// Transport Level Marking.
        TransportLevelMarking = 30,
        /// Volume Threshold.
        VolumeThreshold = 31,
        /// Time Threshold.
        TimeThreshold = 32,
        /// Monitoring Time.
        MonitoringTime = 33,
        /// Subsequent Volume Threshold.
        SubsequentVolumeThreshold = 34,
        /// Subsequent Time Threshold.
        SubsequentTimeThreshold = 35,
        /// Inactivity Detection Time.
        InactivityDetectionTime = 36,
        /// Reporting Triggers.
        ReportingTriggers = 37,
        /// Redirect Information.
        RedirectInformation = 38,
        /// Report Type.
        ReportType = 39,
        /// Offending IE.
        OffendingIe = 40,
        /// Forwarding Policy.
        ForwardingPolicy = 41,
        /// Destination Interface.
        DestinationInterface = 42,
        /// UP Function Features.
        UpFunctionFeatures = 43,
        /// Apply Action.
        ApplyAction = 44,
        /// Downlink Data Service Information.
        DownlinkDataServiceInformation = 45,
        /// Downlink Data Notification Delay.
        DownlinkDataNotificationDelay = 46,
        /// DL Buffering Duration.
        DlBufferingDuration = 47,
        /// DL Buffering Suggested Packet Count.
        DlBufferingSuggestedPacketCount = 48,
        /// PFCPSMReq-Flags.
        PfcpsmReqFlags = 49,
        /// PFCPSRRsp-Flags.
        PfcpsrRspFlags = 50,
        /// Load Control Information.
        LoadControlInformation = 51,
        /// Sequence Number.
        SequenceNumber = 52,
        /// Metric.
        Metric = 53,
        /// Overload Control Information.
        OverloadControlInformation = 54,
        /// Timer.
        Timer = 55,
        /// PDR ID.
        PdrId = 56,
        /// F-SEID.
        Fseid = 57,
        /// Node ID.
        NodeId = 60,
        /// Measurement Method.
        MeasurementMethod = 62,
        /// Usage Report Trigger.
        UsageReportTrigger = 63,
        /// Measurement Period.
        MeasurementPeriod = 64,
        /// FQ-CSID.
        FqCsid = 65,
        /// Volume Measurement.
        VolumeMeasurement = 66,
        /// Duration Measurement.
        DurationMeasurement = 67,
        /// Application Detection Information.
        ApplicationDetectionInformation = 68,
        /// Time of First Packet.
        TimeOfFirstPacket = 69,
        /// Time of Last Packet.
        TimeOfLastPacket = 70,
        /// Quota Holding Time.
        QuotaHoldingTime = 71,
        /// Dropped DL Traffic Threshold.
        DroppedDlTrafficThreshold = 72,
        /// Volume Quota.
        VolumeQuota = 73,
        /// Time Quota.
        TimeQuota = 74,
        /// Start Time.
        StartTime = 75,
        /// End Time.
        EndTime = 76,
        /// Query URR.
        QueryUrr = 77,
        /// Usage Report (in a Session Modification Response).
        UsageReportSessionModificationResponse = 78,
        /// Usage Report (in a Session Deletion Response).
        UsageReportSessionDeletionResponse = 79,
        /// Usage Report (in a Session Report Request).
        UsageReportSessionReportRequest = 80,
        /// URR ID.
        UrrId = 81,
        /// Linked URR ID.
        LinkedUrrId = 82,
        /// Downlink Data Report.
        DownlinkDataReport = 83,
        /// Outer Header Creation.
        OuterHeaderCreation = 84,
        /// Create BAR.
        CreateBar = 85,
        /// Update BAR (in a Session Modification Request).
        UpdateBarSessionModificationRequest = 86,
        /// Remove BAR.
        RemoveBar = 87,
        /// BAR ID.
        BarId = 88,
        /// CP Function Features.
        CpFunctionFeatures = 89,
        /// Usage Information.
        UsageInformation = 90,
        /// Application Instance ID.
        ApplicationInstanceId = 91,
        /// Flow Information.
        FlowInformation = 92,
        /// UE IP Address.
        UeIpAddress = 93,
        /// Packet Rate.
        PacketRate = 94,
        /// Outer Header Removal.
        OuterHeaderRemoval = 95,
        /// Recovery Time Stamp.
        RecoveryTimeStamp = 96,
        /// DL Flow Level Marking.
        DlFlowLevelMarking = 97,
        /// Header Enrichment.
        HeaderEnrichment = 98,
        /// Error Indication Report.
        ErrorIndicationReport = 99,
        /// Measurement Information.
        MeasurementInformation = 100,
        /// Node Report Type.
        NodeReportType = 101,
        /// User Plane Path Failure Report.
        UserPlanePathFailureReport = 102,
        /// Remote GTP-U Peer.
        RemoteGtpuPeer = 103,
        /// UR-SEQN.
        UrSeqn = 104,
        /// Update Duplicating Parameters.
        UpdateDuplicatingParameters = 105,
        /// Activate Predefined Rules.
        ActivatePredefinedRules = 106,
        /// Deactivate Predefined Rules.
        DeactivatePredefinedRules = 107,
        /// FAR ID.
        FarId = 108,
        /// QER ID.
        QerId = 109,
        /// OCI Flags.
        OciFlags = 110,
        /// PFCP Association Release Request.
        PfcpAssociationReleaseRequest = 111,
        /// Graceful Release Period.
        GracefulReleasePeriod = 112,
        /// PDN Type.
        PdnType = 113,
        /// Failed Rule ID.
        FailedRuleId = 114,
        /// Time Quota Mechanism.
        TimeQuotaMechanism = 115,
        /// User Plane Inactivity Timer.
        UserPlaneInactivityTimer = 117,
        /// Aggregated URRs.
        AggregatedUrrs = 118,
        /// Multiplier.
        Multiplier = 119,
        /// Aggregated URR ID.
        AggregatedUrrId = 120,
        /// Subsequent Volume Quota.
        SubsequentVolumeQuota = 121,
        /// Subsequent Time Quota.
        SubsequentTimeQuota = 122,
        /// RQI.
        Rqi = 123,
        /// QFI.
        Qfi = 124,
        /// Query URR Reference.
        QueryUrrReference = 125,
        /// Additional Usage Reports Information.
        AdditionalUsageReportsInformation = 126,
        /// Create Traffic Endpoint.
        CreateTrafficEndpoint = 127,
        /// Created Traffic Endpoint.
        CreatedTrafficEndpoint = 128,
        /// Update Traffic Endpoint.
        UpdateTrafficEndpoint = 129,
        /// Remove Traffic Endpoint.
        RemoveTrafficEndpoint = 130,
        /// Traffic Endpoint ID.
        TrafficEndpointId = 131,
        /// User ID.
        UserId = 141,
        /// Event Quota.
        EventQuota = 148,
        /// Event Threshold.
        EventThreshold = 149,
        /// Trace Information.
        TraceInformation = 152,
        /// Paging Policy Indicator.
        PagingPolicyIndicator = 158,
        /// APN/DNN.
        ApnDnn = 159,
        /// 3GPP Interface Type.
        TgppInterfaceType = 160,
        /// PFCPSRReq-Flags.
        PfcpsrReqFlags = 161,
        /// PFCPAUReq-Flags.
        PfcpauReqFlags = 162,
        /// Activation Time.
        ActivationTime = 163,
        /// Deactivation Time.
        DeactivationTime = 164,
        /// Alternative SMF IP Address.
        AlternativeSmfIpAddress = 178,
        /// SMF Set ID.
        SmfSetId = 180,
        /// Source IP Address.
        SourceIpAddress = 192,
        /// PFCPSEReq-Flags.
        PfcpseReqFlags = 186,
        /// Redundant Transmission Parameters.
        RedundantTransmissionParameters = 255,
        /// S-NSSAI.
        SNssai = 257,
    }
}

impl IeType {
    /// Is this a vendor-specific IE type (§8.1.1: bit 8 of octet 1 set)?
    pub fn is_vendor_specific(self) -> bool {
        self.value() & 0x8000 != 0
    }
}

impl std::fmt::Display for IeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IeType::Unknown(n) => write!(f, "IE type {n}"),
            other => write!(f, "{other:?} ({})", other.value()),
        }
    }
}

/// One IE as found in a buffer, borrowed: its type, the Enterprise ID of a
/// vendor-specific IE, and the value octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IeRef<'a> {
    /// The IE type.
    pub ie_type: IeType,
    /// The Enterprise ID of a vendor-specific IE.
    pub enterprise_id: Option<u16>,
    /// The value (after the Enterprise ID, if any).
    pub value: &'a [u8],
}

impl IeRef<'_> {
    /// An owned copy, to keep.
    pub fn to_owned(&self) -> RawIe {
        RawIe {
            ie_type: self.ie_type,
            enterprise_id: self.enterprise_id,
            value: self.value.to_vec(),
        }
    }
}

/// An IE kept undecoded (unknown type, vendor-specific, or repeated): it
/// re-encodes to the octets received.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawIe {
    /// The IE type.
    pub ie_type: IeType,
    /// The Enterprise ID of a vendor-specific IE.
    pub enterprise_id: Option<u16>,
    /// The value (after the Enterprise ID, if any).
    pub value: Vec<u8>,
}

impl RawIe {
    /// A 3GPP IE with this value.
    pub fn new(ie_type: IeType, value: Vec<u8>) -> Self {
        RawIe {
            ie_type,
            enterprise_id: None,
            value,
        }
    }

    /// Octets of the whole IE.
    pub fn buffer_len(&self) -> usize {
        4 + self.enterprise_id.map_or(0, |_| 2) + self.value.len()
    }

    /// Write the whole IE.
    pub fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u16(self.ie_type.value());
        let len = self.value.len() + self.enterprise_id.map_or(0, |_| 2);
        out.put_u16(u16::try_from(len).unwrap_or(u16::MAX));
        if let Some(e) = self.enterprise_id {
            out.put_u16(e);
        }
        out.put(&self.value);
    }

    /// Borrow as an [`IeRef`].
    pub fn as_ref(&self) -> IeRef<'_> {
        IeRef {
            ie_type: self.ie_type,
            enterprise_id: self.enterprise_id,
            value: &self.value,
        }
    }
}

/// Walks a list of IEs, yielding each or the error at the first that does not fit;
/// after an error it yields nothing more.
#[derive(Debug, Clone)]
pub struct IeIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> IeIter<'a> {
    /// Walk the IEs in `bytes` (a message body or a grouped IE's value).
    pub fn new(bytes: &'a [u8]) -> Self {
        IeIter {
            rest: bytes,
            failed: false,
        }
    }

    fn next_ie(&mut self) -> Result<IeRef<'a>, Error> {
        let rest = self.rest;
        let [t0, t1, l0, l1, tail @ ..] = rest else {
            // Fewer than four octets left: not even an IE header. Name the type if
            // we have it.
            let ie = match rest {
                [t0, t1, ..] => IeType::from(u16::from_be_bytes([*t0, *t1])),
                _ => IeType::Unknown(0),
            };
            return Err(Error::BadLength { ie });
        };
        let ie_type = IeType::from(u16::from_be_bytes([*t0, *t1]));
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let Some((value, next)) = tail.split_at_checked(len) else {
            return Err(Error::BadLength { ie: ie_type });
        };
        self.rest = next;
        if ie_type.is_vendor_specific() {
            let [e0, e1, value @ ..] = value else {
                return Err(Error::BadLength { ie: ie_type });
            };
            return Ok(IeRef {
                ie_type,
                enterprise_id: Some(u16::from_be_bytes([*e0, *e1])),
                value,
            });
        }
        Ok(IeRef {
            ie_type,
            enterprise_id: None,
            value,
        })
    }
}

impl<'a> Iterator for IeIter<'a> {
    type Item = Result<IeRef<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let r = self.next_ie();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A Heartbeat Request body from go-pfcp's message/heartbeat-request_test.go (MIT):
    // Recovery Time Stamp 2019-01-01T00:00:00Z; then a vendor IE (type 0x8001,
    // enterprise 18681 = Travelping) and an IE type this crate does not know.
    static BODY: [u8; 8 + 8 + 5] = [
        0x00, 0x60, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, // Recovery Time Stamp
        0x80, 0x01, 0x00, 0x04, 0x48, 0xf9, 0xab, 0xcd, // vendor
        0x7f, 0xf0, 0x00, 0x01, 0x01, // unknown type 0x7ff0
    ];

    #[test]
    fn walks_known_vendor_and_unknown() {
        let ies: Vec<_> = IeIter::new(&BODY).collect::<Result<_, _>>().unwrap();
        assert_eq!(ies.len(), 3);
        assert_eq!(ies[0].ie_type, IeType::RecoveryTimeStamp);
        assert_eq!(ies[0].value, [0xdf, 0xd5, 0x2c, 0x00]);
        assert_eq!(ies[1].ie_type, IeType::Unknown(0x8001));
        assert!(ies[1].ie_type.is_vendor_specific());
        assert_eq!(ies[1].enterprise_id, Some(18681));
        assert_eq!(ies[1].value, [0xab, 0xcd]);
        assert_eq!(ies[2].ie_type, IeType::Unknown(0x7ff0));

        let mut out = Vec::new();
        for ie in &ies {
            let raw = ie.to_owned();
            assert_eq!(raw.as_ref(), *ie);
            let before = out.len();
            raw.encode(&mut out);
            assert_eq!(out.len() - before, raw.buffer_len());
        }
        assert_eq!(out, BODY);
    }

    #[test]
    fn stops_at_first_broken_ie() {
        // The second IE claims 5 octets but only 4 follow.
        let mut b = BODY[..16].to_vec();
        b[11] = 5;
        let mut it = IeIter::new(&b);
        assert!(it.next().unwrap().is_ok());
        assert_eq!(
            it.next().unwrap(),
            Err(Error::BadLength {
                ie: IeType::Unknown(0x8001)
            })
        );
        assert!(it.next().is_none());

        // A trailing fragment of an IE header.
        let mut it = IeIter::new(&BODY[..10]);
        assert!(it.next().unwrap().is_ok());
        assert!(matches!(it.next(), Some(Err(Error::BadLength { .. }))));
        assert!(it.next().is_none());

        // A vendor IE too short for its Enterprise ID.
        let v = [0x80, 0x01, 0x00, 0x01, 0x48];
        assert!(matches!(IeIter::new(&v).next(), Some(Err(Error::BadLength { .. }))));
    }

    #[test]
    fn code_points() {
        assert_eq!(IeType::from(80), IeType::UsageReportSessionReportRequest);
        assert_eq!(IeType::UsageReportSessionModificationResponse.value(), 78);
        assert_eq!(IeType::from(0x1234), IeType::Unknown(0x1234));
        assert_eq!(IeType::Cause.to_string(), "Cause (19)");
    }
}
