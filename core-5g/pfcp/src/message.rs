//! PFCP messages (TS 29.244 §7.4 node messages, §7.5 session messages), the
//! [`Message`] enum over them, and [`Pdu`]: a header and a message, the unit that
//! is parsed from and emitted to a UDP datagram.

use std::time::Duration;

use crate::codec::{Counter, IeValue, Sink, SliceSink, ie_group};
use crate::error::Error;
use crate::header::{Direction, Header, MessageType, Packet};
use crate::ie::*;

ie_group! {
    /// Heartbeat Request (Table 7.4.2.1-1).
    pub struct HeartbeatRequest {
        /// Recovery Time Stamp.
        recovery_time_stamp: M Timestamp = RecoveryTimeStamp,
        /// Source IP Address (Rel-16), kept as octets.
        source_ip_address: O Vec<u8> = SourceIpAddress,
    }
}

ie_group! {
    /// Heartbeat Response (Table 7.4.2.2-1).
    pub struct HeartbeatResponse {
        /// Recovery Time Stamp.
        recovery_time_stamp: M Timestamp = RecoveryTimeStamp,
    }
}

ie_group! {
    /// Association Setup Request (Table 7.4.4.1-1).
    pub struct AssociationSetupRequest {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// Recovery Time Stamp.
        recovery_time_stamp: M Timestamp = RecoveryTimeStamp,
        /// UP Function Features (sent by a UP function).
        up_function_features: O UpFunctionFeatures = UpFunctionFeatures,
        /// CP Function Features (sent by a CP function).
        cp_function_features: O CpFunctionFeatures = CpFunctionFeatures,
    }
}

ie_group! {
    /// Association Setup Response (Table 7.4.4.2-1).
    pub struct AssociationSetupResponse {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// Cause.
        cause: M Cause = Cause,
        /// Recovery Time Stamp.
        recovery_time_stamp: M Timestamp = RecoveryTimeStamp,
        /// UP Function Features.
        up_function_features: O UpFunctionFeatures = UpFunctionFeatures,
        /// CP Function Features.
        cp_function_features: O CpFunctionFeatures = CpFunctionFeatures,
    }
}

ie_group! {
    /// Association Update Request (Table 7.4.4.3-1).
    pub struct AssociationUpdateRequest {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// UP Function Features.
        up_function_features: O UpFunctionFeatures = UpFunctionFeatures,
        /// CP Function Features.
        cp_function_features: O CpFunctionFeatures = CpFunctionFeatures,
        /// PFCP Association Release Request (octets: bit 1 SARR, bit 2 URSS).
        association_release_request: O Vec<u8> = PfcpAssociationReleaseRequest,
        /// Graceful Release Period (a GPRS timer octet).
        graceful_release_period: O Vec<u8> = GracefulReleasePeriod,
    }
}

ie_group! {
    /// Association Update Response (Table 7.4.4.4-1).
    pub struct AssociationUpdateResponse {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// Cause.
        cause: M Cause = Cause,
        /// UP Function Features.
        up_function_features: O UpFunctionFeatures = UpFunctionFeatures,
        /// CP Function Features.
        cp_function_features: O CpFunctionFeatures = CpFunctionFeatures,
    }
}

ie_group! {
    /// Association Release Request (Table 7.4.4.5-1).
    pub struct AssociationReleaseRequest {
        /// Node ID.
        node_id: M NodeId = NodeId,
    }
}

ie_group! {
    /// Association Release Response (Table 7.4.4.6-1).
    pub struct AssociationReleaseResponse {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// Cause.
        cause: M Cause = Cause,
    }
}

ie_group! {
    /// Node Report Request (Table 7.4.5.1-1).
    pub struct NodeReportRequest {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// Node Report Type.
        node_report_type: M NodeReportType = NodeReportType,
        /// User Plane Path Failure Report (grouped; kept as octets).
        user_plane_path_failure_report: O Vec<u8> = UserPlanePathFailureReport,
    }
}

ie_group! {
    /// Node Report Response (Table 7.4.5.2-1).
    pub struct NodeReportResponse {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// Cause.
        cause: M Cause = Cause,
        /// Offending IE.
        offending_ie: O OffendingIe = OffendingIe,
    }
}

ie_group! {
    /// Version Not Supported Response (§7.4.4.7): a header, no IEs.
    pub struct VersionNotSupportedResponse {}
}

ie_group! {
    /// Session Establishment Request (Table 7.5.2.1-1).
    pub struct SessionEstablishmentRequest {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// CP F-SEID: the SEID the UP function puts in the headers it sends.
        cp_fseid: M Fseid = Fseid,
        /// Create PDR (one or more).
        create_pdrs: MV CreatePdr = CreatePdr,
        /// Create FAR (one or more).
        create_fars: MV CreateFar = CreateFar,
        /// Create URR.
        create_urrs: V CreateUrr = CreateUrr,
        /// Create QER.
        create_qers: V CreateQer = CreateQer,
        /// Create BAR.
        create_bar: O CreateBar = CreateBar,
        /// PDN Type (octet: 1 IPv4, 2 IPv6, 3 IPv4v6, 4 Non-IP, 5 Ethernet).
        pdn_type: O Vec<u8> = PdnType,
        /// FQ-CSIDs (SGW-C, MME, PGW-C/SMF, ePDG, TWAN, in that order), as octets.
        fq_csids: V Vec<u8> = FqCsid,
        /// User Plane Inactivity Timer.
        user_plane_inactivity_timer: O Duration = UserPlaneInactivityTimer,
        /// User ID, as octets.
        user_id: O Vec<u8> = UserId,
        /// Trace Information, as octets.
        trace_information: O Vec<u8> = TraceInformation,
        /// APN/DNN.
        apn_dnn: O DnsName = ApnDnn,
    }
}

ie_group! {
    /// Session Establishment Response (Table 7.5.3.1-1).
    pub struct SessionEstablishmentResponse {
        /// Node ID.
        node_id: M NodeId = NodeId,
        /// Cause.
        cause: M Cause = Cause,
        /// Offending IE.
        offending_ie: O OffendingIe = OffendingIe,
        /// UP F-SEID (when accepted).
        up_fseid: O Fseid = Fseid,
        /// Created PDRs (F-TEIDs and UE addresses the UP function chose).
        created_pdrs: V CreatedPdr = CreatedPdr,
        /// Load Control Information, as octets.
        load_control_information: O Vec<u8> = LoadControlInformation,
        /// Overload Control Information, as octets.
        overload_control_information: O Vec<u8> = OverloadControlInformation,
        /// FQ-CSIDs, as octets.
        fq_csids: V Vec<u8> = FqCsid,
        /// Failed Rule ID, as octets.
        failed_rule_id: O Vec<u8> = FailedRuleId,
    }
}

ie_group! {
    /// Session Modification Request (Table 7.5.4.1-1).
    pub struct SessionModificationRequest {
        /// CP F-SEID (when the CP function changes it).
        cp_fseid: O Fseid = Fseid,
        /// Remove PDR.
        remove_pdrs: V RemovePdr = RemovePdr,
        /// Remove FAR.
        remove_fars: V RemoveFar = RemoveFar,
        /// Remove URR.
        remove_urrs: V RemoveUrr = RemoveUrr,
        /// Remove QER.
        remove_qers: V RemoveQer = RemoveQer,
        /// Remove BAR.
        remove_bar: O RemoveBar = RemoveBar,
        /// Create PDR.
        create_pdrs: V CreatePdr = CreatePdr,
        /// Create FAR.
        create_fars: V CreateFar = CreateFar,
        /// Create URR.
        create_urrs: V CreateUrr = CreateUrr,
        /// Create QER.
        create_qers: V CreateQer = CreateQer,
        /// Create BAR.
        create_bar: O CreateBar = CreateBar,
        /// Update PDR.
        update_pdrs: V UpdatePdr = UpdatePdr,
        /// Update FAR.
        update_fars: V UpdateFar = UpdateFar,
        /// Update URR.
        update_urrs: V UpdateUrr = UpdateUrr,
        /// Update QER.
        update_qers: V UpdateQer = UpdateQer,
        /// Update BAR.
        update_bar: O UpdateBar = UpdateBarSessionModificationRequest,
        /// PFCPSMReq-Flags (bit 1 DROBU, bit 2 SNDEM, bit 3 QAURR), as octets.
        pfcpsm_req_flags: O Vec<u8> = PfcpsmReqFlags,
        /// Query URR.
        query_urrs: V QueryUrr = QueryUrr,
        /// FQ-CSIDs, as octets.
        fq_csids: V Vec<u8> = FqCsid,
        /// User Plane Inactivity Timer.
        user_plane_inactivity_timer: O Duration = UserPlaneInactivityTimer,
        /// Query URR Reference, as octets.
        query_urr_reference: O Vec<u8> = QueryUrrReference,
        /// Trace Information, as octets.
        trace_information: O Vec<u8> = TraceInformation,
        /// Node ID (when the SMF in a set changes).
        node_id: O NodeId = NodeId,
    }
}

ie_group! {
    /// Session Modification Response (Table 7.5.5.1-1).
    pub struct SessionModificationResponse {
        /// Cause.
        cause: M Cause = Cause,
        /// Offending IE.
        offending_ie: O OffendingIe = OffendingIe,
        /// Created PDRs.
        created_pdrs: V CreatedPdr = CreatedPdr,
        /// Load Control Information, as octets.
        load_control_information: O Vec<u8> = LoadControlInformation,
        /// Overload Control Information, as octets.
        overload_control_information: O Vec<u8> = OverloadControlInformation,
        /// Usage Reports (for removed URRs and Query URR).
        usage_reports: V UsageReport = UsageReportSessionModificationResponse,
        /// Failed Rule ID, as octets.
        failed_rule_id: O Vec<u8> = FailedRuleId,
        /// Additional Usage Reports Information, as octets.
        additional_usage_reports_information: O Vec<u8> = AdditionalUsageReportsInformation,
    }
}

ie_group! {
    /// Session Deletion Request (Table 7.5.6.1-1): a header (the UP SEID says
    /// which session); Rel-17 adds optional IEs, kept in `unknown_ies`.
    pub struct SessionDeletionRequest {}
}

ie_group! {
    /// Session Deletion Response (Table 7.5.7.1-1).
    pub struct SessionDeletionResponse {
        /// Cause.
        cause: M Cause = Cause,
        /// Offending IE.
        offending_ie: O OffendingIe = OffendingIe,
        /// Load Control Information, as octets.
        load_control_information: O Vec<u8> = LoadControlInformation,
        /// Overload Control Information, as octets.
        overload_control_information: O Vec<u8> = OverloadControlInformation,
        /// Final Usage Reports.
        usage_reports: V UsageReport = UsageReportSessionDeletionResponse,
        /// Additional Usage Reports Information, as octets.
        additional_usage_reports_information: O Vec<u8> = AdditionalUsageReportsInformation,
    }
}

ie_group! {
    /// Session Report Request (Table 7.5.8.1-1).
    pub struct SessionReportRequest {
        /// Report Type.
        report_type: M ReportType = ReportType,
        /// Downlink Data Report (DLDR).
        downlink_data_report: O DownlinkDataReport = DownlinkDataReport,
        /// Usage Reports (USAR).
        usage_reports: V UsageReport = UsageReportSessionReportRequest,
        /// Error Indication Report (ERIR), as octets.
        error_indication_report: O Vec<u8> = ErrorIndicationReport,
        /// Load Control Information, as octets.
        load_control_information: O Vec<u8> = LoadControlInformation,
        /// Overload Control Information, as octets.
        overload_control_information: O Vec<u8> = OverloadControlInformation,
        /// Additional Usage Reports Information, as octets.
        additional_usage_reports_information: O Vec<u8> = AdditionalUsageReportsInformation,
        /// PFCPSRReq-Flags (bit 1 PSDBU), as octets.
        pfcpsr_req_flags: O Vec<u8> = PfcpsrReqFlags,
        /// Old CP F-SEID.
        old_cp_fseid: O Fseid = Fseid,
    }
}

ie_group! {
    /// Session Report Response (Table 7.5.9.1-1).
    pub struct SessionReportResponse {
        /// Cause.
        cause: M Cause = Cause,
        /// Offending IE.
        offending_ie: O OffendingIe = OffendingIe,
        /// Update BAR.
        update_bar: O UpdateBar = UpdateBarSessionReportResponse,
        /// PFCPSRRsp-Flags (bit 1 DROBU), as octets.
        pfcpsr_rsp_flags: O Vec<u8> = PfcpsrRspFlags,
        /// CP F-SEID (when the SMF changed).
        cp_fseid: O Fseid = Fseid,
        /// N4-u F-TEID.
        n4u_fteid: O Fteid = Fteid,
    }
}

/// Declares [`Message`] and the dispatch over its variants.
macro_rules! messages {
    ($( $variant:ident, )*) => {
        /// A PFCP message: one variant per message this crate decodes, and
        /// [`Message::Other`] for the rest (PFD management, session set messages,
        /// unknown types), kept as octets.
        // The session messages are large (many repeated IEs); they stay unboxed so
        // that callers can match `Message::…` directly.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Message {
            $(
                #[doc = concat!("A ", stringify!($variant), ".")]
                $variant($variant),
            )*
            /// A message this crate does not decode: its type and its IEs as octets.
            Other {
                /// Message type.
                message_type: MessageType,
                /// The octets after the header.
                body: Vec<u8>,
            },
        }

        impl Message {
            /// The message type.
            pub fn message_type(&self) -> MessageType {
                match self {
                    $( Message::$variant(_) => MessageType::$variant, )*
                    Message::Other { message_type, .. } => *message_type,
                }
            }

            /// Decode the IEs of a message of type `t`.
            pub fn decode_body(t: MessageType, body: &[u8]) -> Result<Message, Error> {
                // The grouped-IE decoders name the IE they decode; a message body
                // has none, so the message type's IE slot is unused.
                let ie = IeType::Unknown(0);
                Ok(match t {
                    $( MessageType::$variant => Message::$variant(<$variant>::decode(body, ie)?), )*
                    other => Message::Other { message_type: other, body: body.to_vec() },
                })
            }

            /// Write the IEs.
            pub fn encode_body<S: Sink>(&self, out: &mut S) {
                match self {
                    $( Message::$variant(m) => m.encode(out), )*
                    Message::Other { body, .. } => out.put(body),
                }
            }

            /// Octets of the IEs.
            pub fn body_len(&self) -> usize {
                let mut c = Counter(0);
                self.encode_body(&mut c);
                c.0
            }
        }

        $(
            impl From<$variant> for Message {
                fn from(m: $variant) -> Message {
                    Message::$variant(m)
                }
            }
        )*
    };
}

messages! {
    HeartbeatRequest,
    HeartbeatResponse,
    AssociationSetupRequest,
    AssociationSetupResponse,
    AssociationUpdateRequest,
    AssociationUpdateResponse,
    AssociationReleaseRequest,
    AssociationReleaseResponse,
    VersionNotSupportedResponse,
    NodeReportRequest,
    NodeReportResponse,
    SessionEstablishmentRequest,
    SessionEstablishmentResponse,
    SessionModificationRequest,
    SessionModificationResponse,
    SessionDeletionRequest,
    SessionDeletionResponse,
    SessionReportRequest,
    SessionReportResponse,
}

impl Message {
    /// Request, response, or unknown.
    pub fn direction(&self) -> Direction {
        self.message_type().direction()
    }

    /// The Cause of a response that has one.
    pub fn cause(&self) -> Option<Cause> {
        match self {
            Message::AssociationSetupResponse(m) => Some(m.cause),
            Message::AssociationUpdateResponse(m) => Some(m.cause),
            Message::AssociationReleaseResponse(m) => Some(m.cause),
            Message::NodeReportResponse(m) => Some(m.cause),
            Message::SessionEstablishmentResponse(m) => Some(m.cause),
            Message::SessionModificationResponse(m) => Some(m.cause),
            Message::SessionDeletionResponse(m) => Some(m.cause),
            Message::SessionReportResponse(m) => Some(m.cause),
            _ => None,
        }
    }
}

/// The identity a PFCP entity answers with: needed to build responses that the
/// logic never saw (errors, duplicates of broken requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalNode {
    /// Our Node ID.
    pub node_id: NodeId,
    /// When we (re)started (§19A of TS 23.007: a change tells peers we lost state).
    pub recovery_time_stamp: Timestamp,
}

/// One PFCP message with its header: what goes in a UDP datagram to port 8805.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    /// SEID, sequence number, priority.
    pub header: Header,
    /// The message.
    pub message: Message,
}

impl Pdu {
    /// A node message (no SEID), sequence number 0 until the transaction layer
    /// assigns one.
    pub fn node(message: impl Into<Message>) -> Pdu {
        Pdu {
            header: Header::default(),
            message: message.into(),
        }
    }

    /// A session message for the peer's SEID (for an establishment request: 0,
    /// §7.2.2.4.2).
    pub fn session(seid: u64, message: impl Into<Message>) -> Pdu {
        Pdu {
            header: Header {
                seid: Some(seid),
                ..Header::default()
            },
            message: message.into(),
        }
    }

    /// The response to `request`: same sequence number; `seid` is the peer's SEID
    /// for session messages (0 when no session was found, §7.2.2.4.2), ignored for
    /// node messages.
    pub fn response_to(request: &Header, seid: u64, message: impl Into<Message>) -> Pdu {
        let message = message.into();
        Pdu {
            header: Header {
                seid: message.message_type().is_session_message().then_some(seid),
                sequence_number: request.sequence_number,
                message_priority: None,
                follow_on: false,
            },
            message,
        }
    }

    /// Decode the message at the start of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Pdu, Error> {
        Pdu::parse(&Packet::new_checked(bytes)?)
    }

    /// Decode a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Pdu, Error> {
        let header = Header::parse(packet);
        let t = packet.message_type();
        if t.is_session_message() && header.seid.is_none() {
            return Err(Error::MissingSeid);
        }
        Ok(Pdu {
            header,
            message: Message::decode_body(t, packet.payload())?,
        })
    }

    /// Octets of the whole message.
    pub fn buffer_len(&self) -> usize {
        self.header.buffer_len() + self.message.body_len()
    }

    /// Write into `buf`, returning the octets written (= [`Pdu::buffer_len`]); fails
    /// only if `buf` is shorter than that.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.buffer_len();
        if buf.len() < len {
            return Err(Error::Truncated {
                needed: len,
                got: buf.len(),
            });
        }
        let mut out = SliceSink::new(buf);
        self.encode_into(&mut out, len);
        Ok(out.pos)
    }

    /// The encoded message.
    pub fn encode(&self) -> Vec<u8> {
        let len = self.buffer_len();
        let mut v = Vec::with_capacity(len);
        self.encode_into(&mut v, len);
        v
    }

    fn encode_into<S: Sink>(&self, out: &mut S, total: usize) {
        let body = total - self.header.buffer_len();
        self.header.encode(out, self.message.message_type(), body);
        self.message.encode_body(out);
    }

    /// The response to send for a request that could not be decoded (§7.6; the
    /// "PFCP Request rejected" handling of §6.4): the matching response type with
    /// [`Error::cause`] and [`Error::offending_ie`], the request's sequence number,
    /// and for session messages the CP SEID from the request's F-SEID when it can
    /// still be read, else 0. A request of another version gets a Version Not
    /// Supported Response. `None` when nothing can be answered: not a request, a
    /// header too short to read, or a type this crate does not build.
    pub fn error_response(request: &[u8], error: &Error, local: &LocalNode) -> Option<Pdu> {
        let flags = *request.first()?;
        let t = MessageType::from(*request.get(1)?);
        let s = flags & 0x01 != 0;
        let seq_at = if s { 12 } else { 4 };
        let seq = request.get(seq_at..seq_at + 3)?;
        let header = Header {
            sequence_number: u32::from_be_bytes([0, seq[0], seq[1], seq[2]]),
            ..Header::default()
        };
        if flags >> 5 != 1 {
            return Some(Pdu::response_to(&header, 0, VersionNotSupportedResponse::new()));
        }
        if !t.is_request() {
            return None;
        }
        let cause = error.cause();
        let offending_ie = error.offending_ie().map(OffendingIe);
        let body = request.get(if s { 16 } else { 8 }..).unwrap_or(&[]);
        let peer_seid = rescue_fseid(body).unwrap_or(0);
        let node_id = local.node_id.clone();
        let message: Message = match t {
            MessageType::HeartbeatRequest => HeartbeatResponse::new(local.recovery_time_stamp).into(),
            MessageType::AssociationSetupRequest => {
                AssociationSetupResponse::new(node_id, cause, local.recovery_time_stamp).into()
            }
            MessageType::AssociationUpdateRequest => AssociationUpdateResponse::new(node_id, cause).into(),
            MessageType::AssociationReleaseRequest => AssociationReleaseResponse::new(node_id, cause).into(),
            MessageType::NodeReportRequest => NodeReportResponse {
                offending_ie,
                ..NodeReportResponse::new(node_id, cause)
            }
            .into(),
            MessageType::SessionEstablishmentRequest => SessionEstablishmentResponse {
                offending_ie,
                ..SessionEstablishmentResponse::new(node_id, cause)
            }
            .into(),
            MessageType::SessionModificationRequest => SessionModificationResponse {
                offending_ie,
                ..SessionModificationResponse::new(cause)
            }
            .into(),
            MessageType::SessionDeletionRequest => SessionDeletionResponse {
                offending_ie,
                ..SessionDeletionResponse::new(cause)
            }
            .into(),
            MessageType::SessionReportRequest => SessionReportResponse {
                offending_ie,
                ..SessionReportResponse::new(cause)
            }
            .into(),
            _ => return None,
        };
        Some(Pdu::response_to(&header, peer_seid, message))
    }
}

/// The SEID of the first readable F-SEID among the top-level IEs of a body that
/// may be broken further on.
fn rescue_fseid(body: &[u8]) -> Option<u64> {
    crate::ie::IeIter::new(body)
        .map_while(Result::ok)
        .find(|ie| ie.ie_type == IeType::Fseid)
        .and_then(|ie| Fseid::decode(ie.value, IeType::Fseid).ok())
        .map(|f| f.seid)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    // Heartbeat Request, go-pfcp message/heartbeat-request_test.go (MIT).
    static HEARTBEAT_REQUEST: [u8; 16] = [
        0x20, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00,
    ];

    // Association Setup Request, go-pfcp message/association-setup-request_test.go
    // (MIT): Node ID (FQDN), Recovery Time Stamp, UP and CP Function Features, then
    // eight Rel-16/17 IEs this crate keeps raw (Alternative SMF IP Address, SMF Set
    // ID, PFCP Session Retention Information, UE IP Address Pool Information, GTP-U
    // Path QoS Control Information, Clock Drift Control Information, NF Instance ID…).
    static ASSOCIATION_SETUP_REQUEST: [u8; 314] = [
        0x20, 0x05, 0x01, 0x36, 0x11, 0x22, 0x33, 0x00, 0x00, 0x3c, 0x00, 0x1d, 0x02, 0x07, 0x67, 0x6f, 0x2d, 0x70,
        0x66, 0x63, 0x70, 0x03, 0x65, 0x70, 0x63, 0x0b, 0x33, 0x67, 0x70, 0x70, 0x6e, 0x65, 0x74, 0x77, 0x6f, 0x72,
        0x6b, 0x03, 0x6f, 0x72, 0x67, 0x00, 0x60, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, 0x00, 0x2b, 0x00, 0x02, 0x01,
        0x02, 0x00, 0x59, 0x00, 0x01, 0x3f, 0x00, 0xb2, 0x00, 0x15, 0x03, 0x7f, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0xb4, 0x00, 0x1c, 0x00,
        0x67, 0x6f, 0x2d, 0x70, 0x66, 0x63, 0x70, 0x2e, 0x65, 0x70, 0x63, 0x2e, 0x33, 0x67, 0x70, 0x70, 0x6e, 0x65,
        0x74, 0x77, 0x6f, 0x72, 0x6b, 0x2e, 0x6f, 0x72, 0x67, 0x00, 0xb7, 0x00, 0x09, 0x00, 0xb9, 0x00, 0x05, 0x02,
        0x7f, 0x00, 0x00, 0x01, 0x00, 0xe9, 0x00, 0x25, 0x00, 0xb1, 0x00, 0x08, 0x07, 0x67, 0x6f, 0x2d, 0x70, 0x66,
        0x63, 0x70, 0x00, 0x16, 0x00, 0x15, 0x73, 0x6f, 0x6d, 0x65, 0x2e, 0x69, 0x6e, 0x73, 0x74, 0x61, 0x6e, 0x63,
        0x65, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0xee, 0x00, 0x55, 0x00, 0x67, 0x00, 0x1f, 0x0e,
        0x7f, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x15, 0x73, 0x6f, 0x6d, 0x65, 0x2e, 0x69, 0x6e, 0x73, 0x74,
        0x61, 0x6e, 0x63, 0x65, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0xf1, 0x00, 0x01, 0x03, 0x00,
        0xed, 0x00, 0x01, 0x07, 0x00, 0x1e, 0x00, 0x02, 0x11, 0x11, 0x00, 0x3e, 0x00, 0x01, 0x07, 0x00, 0xea, 0x00,
        0x04, 0x00, 0x00, 0x27, 0x10, 0x00, 0xeb, 0x00, 0x04, 0x00, 0x00, 0x27, 0x10, 0x00, 0xec, 0x00, 0x04, 0x00,
        0x00, 0x27, 0x10, 0x00, 0x37, 0x00, 0x01, 0x82, 0x00, 0xcb, 0x00, 0x1e, 0x00, 0xcc, 0x00, 0x01, 0x03, 0x00,
        0xce, 0x00, 0x01, 0xff, 0x00, 0xcf, 0x00, 0x08, 0x00, 0x00, 0x00, 0x02, 0x54, 0x0b, 0xe4, 0x00, 0x00, 0xd0,
        0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0xfd, 0x00, 0x10, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
        0x33, 0x33, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44,
    ];

    // Association Setup Request from free5GC pfcp's decode_test.go (Apache-2.0):
    // only a Node ID (IPv4 192.188.2.2); the Recovery Time Stamp is missing.
    static ASSOCIATION_SETUP_REQUEST_NO_RECOVERY: [u8; 17] = [
        0x20, 0x5, 0x0, 0xd, 0x0, 0x0, 0x1, 0x0, 0x0, 0x3c, 0x0, 0x5, 0x0, 0xc0, 0xbc, 0x2, 0x2,
    ];

    // Session Establishment Request from free5GC pfcp's decode_test.go (Apache-2.0):
    // Node ID and a Create PDR without PDI; no CP F-SEID, no Create FAR.
    static SESSION_ESTABLISHMENT_REQUEST_BROKEN: [u8; 48] = [
        0x21, 0x32, 0x0, 0x2c, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x2, 0x0, 0x0, 0x1, 0x0, 0x0, 0x3c, 0x0, 0x5, 0x0,
        0xc0, 0xbc, 0x2, 0x2, 0x0, 0x1, 0x0, 0x13, 0x0, 0x38, 0x0, 0x2, 0x0, 0x1, 0x0, 0x1d, 0x0, 0x4, 0x0, 0x0, 0x0,
        0x20, 0x0, 0x5f, 0x0, 0x1, 0x0,
    ];

    // Session Establishment Request assembled from the IE encodings of go-pfcp's
    // message/session-establishment-request_test.go (MIT), same header, keeping the
    // IEs this crate types (the original also carries Redundant Transmission
    // Parameters, Ethernet filters, MARs, SRRs… between them), lengths recomputed:
    // Node ID, CP F-SEID, Create PDR (PDI with F-TEID, Network Instance, UE IP
    // address, SDF Filter, Application ID; Outer Header Removal, FAR/URR/QER IDs),
    // Create FAR (BUFF, Forwarding Parameters with Outer Header Creation, BAR ID),
    // Create URR (volume/time thresholds and quotas), Create QER, Create BAR.
    static SESSION_ESTABLISHMENT_REQUEST: [u8; 487] = [
        0x21, 0x32, 0x01, 0xe3, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x11, 0x22, 0x33, 0x00, 0x00, 0x3c,
        0x00, 0x1d, 0x02, 0x07, 0x67, 0x6f, 0x2d, 0x70, 0x66, 0x63, 0x70, 0x03, 0x65, 0x70, 0x63, 0x0b, 0x33, 0x67,
        0x70, 0x70, 0x6e, 0x65, 0x74, 0x77, 0x6f, 0x72, 0x6b, 0x03, 0x6f, 0x72, 0x67, 0x00, 0x39, 0x00, 0x0d, 0x02,
        0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0xa6, 0x00, 0x38,
        0x00, 0x02, 0xff, 0xff, 0x00, 0x1d, 0x00, 0x04, 0x11, 0x11, 0x11, 0x11, 0x00, 0x02, 0x00, 0x76, 0x00, 0x14,
        0x00, 0x01, 0x00, 0x00, 0x15, 0x00, 0x09, 0x01, 0x11, 0x11, 0x11, 0x11, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x16,
        0x00, 0x15, 0x73, 0x6f, 0x6d, 0x65, 0x2e, 0x69, 0x6e, 0x73, 0x74, 0x61, 0x6e, 0x63, 0x65, 0x2e, 0x65, 0x78,
        0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0x5d, 0x00, 0x05, 0x02, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x17, 0x00, 0x19,
        0x1f, 0x00, 0x00, 0x08, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x62, 0x62, 0x63, 0x63, 0x63, 0x63,
        0x64, 0x64, 0x64, 0xff, 0xff, 0xff, 0xff, 0x00, 0x18, 0x00, 0x21, 0x68, 0x74, 0x74, 0x70, 0x73, 0x3a, 0x2f,
        0x2f, 0x67, 0x69, 0x74, 0x68, 0x75, 0x62, 0x2e, 0x63, 0x6f, 0x6d, 0x2f, 0x77, 0x6d, 0x6e, 0x73, 0x6b, 0x2f,
        0x67, 0x6f, 0x2d, 0x70, 0x66, 0x63, 0x70, 0x2f, 0x00, 0x5f, 0x00, 0x02, 0x01, 0x02, 0x00, 0x6c, 0x00, 0x04,
        0xff, 0xff, 0xff, 0xff, 0x00, 0x51, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x6d, 0x00, 0x04, 0xff, 0xff,
        0xff, 0xff, 0x00, 0x03, 0x00, 0x43, 0x00, 0x6c, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x2c, 0x00, 0x02,
        0x04, 0x00, 0x00, 0x04, 0x00, 0x2c, 0x00, 0x2a, 0x00, 0x01, 0x00, 0x00, 0x16, 0x00, 0x15, 0x73, 0x6f, 0x6d,
        0x65, 0x2e, 0x69, 0x6e, 0x73, 0x74, 0x61, 0x6e, 0x63, 0x65, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
        0x00, 0x54, 0x00, 0x0a, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x58, 0x00, 0x01,
        0xff, 0x00, 0x06, 0x00, 0x6d, 0x00, 0x51, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x3e, 0x00, 0x01, 0x07,
        0x00, 0x25, 0x00, 0x02, 0x11, 0x22, 0x00, 0x40, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x1f, 0x00, 0x19,
        0x07, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x22,
        0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x00, 0x49, 0x00, 0x19, 0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x00, 0x20, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x4a, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x47,
        0x00, 0x04, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x07, 0x00, 0x36, 0x00, 0x6d, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff,
        0x00, 0x1c, 0x00, 0x04, 0x11, 0x11, 0x11, 0x11, 0x00, 0x19, 0x00, 0x01, 0x00, 0x00, 0x1a, 0x00, 0x0a, 0x11,
        0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x22, 0x00, 0x1b, 0x00, 0x0a, 0x11, 0x11, 0x11, 0x11, 0x11,
        0x22, 0x22, 0x22, 0x22, 0x22, 0x00, 0x7c, 0x00, 0x01, 0x01, 0x00, 0x55, 0x00, 0x05, 0x00, 0x58, 0x00, 0x01,
        0xff,
    ];

    // Session Report Request "Single IE", go-pfcp message/session-report-request_test.go
    // (MIT): Report Type, Downlink Data Report, Usage Report (with Application
    // Detection Information, Ethernet traffic and multicast reports kept raw),
    // Error Indication Report, Load/Overload Control, Old CP F-SEID and Rel-16/17
    // reports.
    static SESSION_REPORT_REQUEST: [u8; 595] = [
        0x21, 0x38, 0x02, 0x4f, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x11, 0x22, 0x33, 0x00, 0x00, 0x27,
        0x00, 0x01, 0x0f, 0x00, 0x53, 0x00, 0x13, 0x00, 0x38, 0x00, 0x02, 0xff, 0xff, 0x00, 0x2d, 0x00, 0x03, 0x03,
        0xff, 0xff, 0x00, 0xfa, 0x00, 0x02, 0xff, 0xff, 0x00, 0x50, 0x01, 0x5e, 0x00, 0x51, 0x00, 0x04, 0xff, 0xff,
        0xff, 0xff, 0x00, 0x68, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x3f, 0x00, 0x03, 0xff, 0xff, 0xff, 0x00,
        0x4b, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, 0x00, 0x4c, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, 0x00, 0x42, 0x00,
        0x31, 0x3f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
        0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x55, 0x55,
        0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x00, 0x43, 0x00, 0x04,
        0x00, 0x00, 0x00, 0x0a, 0x00, 0x44, 0x00, 0x44, 0x00, 0x18, 0x00, 0x21, 0x68, 0x74, 0x74, 0x70, 0x73, 0x3a,
        0x2f, 0x2f, 0x67, 0x69, 0x74, 0x68, 0x75, 0x62, 0x2e, 0x63, 0x6f, 0x6d, 0x2f, 0x77, 0x6d, 0x6e, 0x73, 0x6b,
        0x2f, 0x67, 0x6f, 0x2d, 0x70, 0x66, 0x63, 0x70, 0x2f, 0x00, 0x5b, 0x00, 0x07, 0x67, 0x6f, 0x2d, 0x70, 0x66,
        0x63, 0x70, 0x00, 0x5c, 0x00, 0x0a, 0x01, 0x00, 0x07, 0x67, 0x6f, 0x2d, 0x70, 0x66, 0x63, 0x70, 0x00, 0x38,
        0x00, 0x02, 0xff, 0xff, 0x00, 0x5d, 0x00, 0x05, 0x02, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x45, 0x00, 0x04, 0xdf,
        0xd5, 0x2c, 0x00, 0x00, 0x46, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, 0x00, 0x5a, 0x00, 0x01, 0x0f, 0x00, 0x7d,
        0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x9c, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, 0x00, 0x8f, 0x00, 0x4a,
        0x00, 0x90, 0x00, 0x21, 0x04, 0x12, 0x34, 0x56, 0x78, 0x90, 0x01, 0x12, 0x34, 0x56, 0x78, 0x90, 0x02, 0x12,
        0x34, 0x56, 0x78, 0x90, 0x03, 0x12, 0x34, 0x56, 0x78, 0x90, 0x04, 0x03, 0x07, 0xf9, 0xff, 0x03, 0x07, 0xf9,
        0xff, 0x00, 0x91, 0x00, 0x21, 0x04, 0x12, 0x34, 0x56, 0x78, 0x90, 0x01, 0x12, 0x34, 0x56, 0x78, 0x90, 0x02,
        0x12, 0x34, 0x56, 0x78, 0x90, 0x03, 0x12, 0x34, 0x56, 0x78, 0x90, 0x04, 0x03, 0x07, 0xf9, 0xff, 0x03, 0x07,
        0xf9, 0xff, 0x00, 0xbd, 0x00, 0x17, 0x00, 0xbf, 0x00, 0x09, 0x06, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00,
        0x01, 0x00, 0xc0, 0x00, 0x06, 0x06, 0x7f, 0x00, 0x00, 0x01, 0x18, 0x00, 0xbe, 0x00, 0x17, 0x00, 0xbf, 0x00,
        0x09, 0x06, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x00, 0xc0, 0x00, 0x06, 0x06, 0x7f, 0x00, 0x00,
        0x01, 0x18, 0x00, 0x63, 0x00, 0x0d, 0x00, 0x15, 0x00, 0x09, 0x01, 0x11, 0x11, 0x11, 0x11, 0x7f, 0x00, 0x00,
        0x01, 0x00, 0x33, 0x00, 0x0d, 0x00, 0x34, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x35, 0x00, 0x01, 0x01,
        0x00, 0x36, 0x00, 0x17, 0x00, 0x34, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0x35, 0x00, 0x01, 0x01, 0x00,
        0x37, 0x00, 0x01, 0x82, 0x00, 0x6e, 0x00, 0x01, 0x01, 0x00, 0x7e, 0x00, 0x02, 0x80, 0xff, 0x00, 0xa1, 0x00,
        0x01, 0x01, 0x00, 0x39, 0x00, 0x0d, 0x02, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x7f, 0x00, 0x00,
        0x01, 0x00, 0xfc, 0x00, 0x1d, 0x00, 0x6d, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, 0x00, 0xc1, 0x00, 0x11, 0x07,
        0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x00, 0x00, 0x00, 0x00, 0xdf, 0xd5, 0x2c, 0x00, 0x00, 0xc9,
        0x00, 0x0b, 0x00, 0xca, 0x00, 0x07, 0x67, 0x6f, 0x2d, 0x70, 0x66, 0x63, 0x70, 0x00, 0xd6, 0x00, 0x38, 0x00,
        0xd7, 0x00, 0x01, 0xff, 0x00, 0xd8, 0x00, 0x05, 0x00, 0xd9, 0x00, 0x01, 0x01, 0x00, 0xf7, 0x00, 0x26, 0x00,
        0x7c, 0x00, 0x01, 0x01, 0x00, 0xf8, 0x00, 0x0d, 0x0f, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x33,
        0x33, 0x33, 0x33, 0x00, 0x9c, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, 0x00, 0x4b, 0x00, 0x04, 0xdf, 0xd5, 0x2c,
        0x00,
    ];

    fn round_trip(bytes: &[u8]) -> Pdu {
        let pdu = Pdu::decode(bytes).unwrap();
        assert_eq!(pdu.buffer_len(), bytes.len());
        assert_eq!(pdu.encode(), bytes);
        let mut buf = vec![0u8; pdu.buffer_len()];
        assert_eq!(pdu.emit(&mut buf), Ok(bytes.len()));
        assert_eq!(buf, bytes);
        pdu
    }

    #[test]
    fn heartbeat() {
        let pdu = round_trip(&HEARTBEAT_REQUEST);
        assert_eq!(pdu.header, Header::default());
        assert_eq!(
            pdu.message,
            Message::HeartbeatRequest(HeartbeatRequest::new(Timestamp::from_unix_secs(1_546_300_800)))
        );
        assert!(pdu.message.direction() == Direction::Request);

        // The response (Table 7.4.2.2-1), to known bytes.
        let rsp = Pdu::response_to(&pdu.header, 0, HeartbeatResponse::new(Timestamp(0xdfd52c00)));
        assert_eq!(
            rsp.encode(),
            [
                0x20, 0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00
            ]
        );
    }

    #[test]
    fn association_setup() {
        let pdu = round_trip(&ASSOCIATION_SETUP_REQUEST);
        assert_eq!(pdu.header.sequence_number, 0x112233);
        let Message::AssociationSetupRequest(req) = &pdu.message else {
            panic!("{pdu:?}")
        };
        assert_eq!(req.node_id, NodeId::fqdn("go-pfcp.epc.3gppnetwork.org"));
        assert_eq!(req.recovery_time_stamp.unix_secs(), 1_546_300_800);
        let up = req.up_function_features.unwrap();
        assert!(up.contains(UpFunctionFeatures::BUCP | UpFunctionFeatures::PDIU));
        assert_eq!(up.octets, 2);
        assert_eq!(req.cp_function_features.map(|f| f.bits), Some(0x3f));
        assert_eq!(req.unknown_ies.len(), 7);
        assert_eq!(req.unknown_ies[0].ie_type, IeType::AlternativeSmfIpAddress);

        // Our answer, to known bytes (Table 7.4.4.2-1).
        let rsp = Pdu::response_to(
            &pdu.header,
            0,
            AssociationSetupResponse::new(
                NodeId::Ipv4(Ipv4Addr::new(10, 0, 0, 2)),
                Cause::RequestAccepted,
                Timestamp(0xdfd52c00),
            )
            .up_function_features(UpFunctionFeatures::new(UpFunctionFeatures::FTUP)),
        );
        #[rustfmt::skip]
        let want = [
            0x20, 0x06, 0x00, 0x24, 0x11, 0x22, 0x33, 0x00,
            0x00, 0x3c, 0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x02,
            0x00, 0x13, 0x00, 0x01, 0x01,
            0x00, 0x60, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00,
            0x00, 0x2b, 0x00, 0x06, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(rsp.encode(), want);
        assert_eq!(round_trip(&want).message.cause(), Some(Cause::RequestAccepted));
    }

    #[test]
    fn session_establishment() {
        let pdu = round_trip(&SESSION_ESTABLISHMENT_REQUEST);
        assert_eq!(pdu.header.seid, Some(0x1122334455667788));
        let Message::SessionEstablishmentRequest(req) = &pdu.message else {
            panic!("{pdu:?}")
        };
        assert_eq!(req.cp_fseid, Fseid::v4(0x1111111122222222, Ipv4Addr::LOCALHOST));
        let pdr = &req.create_pdrs[0];
        assert_eq!(pdr.pdr_id, PdrId(0xffff));
        assert_eq!(pdr.pdi.source_interface, SourceInterface::Access);
        assert_eq!(pdr.pdi.local_fteid, Some(Fteid::v4(0x11111111, Ipv4Addr::LOCALHOST)));
        assert_eq!(
            pdr.pdi.network_instance.as_ref().map(DnsName::name).as_deref(),
            Some("some.instance.example")
        );
        assert_eq!(pdr.pdi.ue_ip_addresses, [UeIpAddress::source_v4(Ipv4Addr::LOCALHOST)]);
        assert_eq!(
            pdr.pdi.sdf_filters[0].flow_description.as_deref(),
            Some(&b"aaaaaaaa"[..])
        );
        assert_eq!(pdr.far_id, Some(FarId(0xffffffff)));
        let far = &req.create_fars[0];
        assert!(far.apply_action.contains(ApplyAction::BUFF));
        let fp = far.forwarding_parameters.as_ref().unwrap();
        assert_eq!(fp.destination_interface, DestinationInterface::Access);
        assert_eq!(
            fp.outer_header_creation,
            Some(OuterHeaderCreation::gtpu_v4(0x11223344, Ipv4Addr::LOCALHOST))
        );
        let urr = &req.create_urrs[0];
        assert_eq!(urr.volume_threshold.and_then(|v| v.total), Some(0x3333333333333333));
        assert_eq!(urr.time_quota, Some(Duration::from_secs(10)));
        let qer = &req.create_qers[0];
        assert_eq!(qer.gate_status, GateStatus::OPEN);
        assert_eq!(qer.mbr.map(|m| m.downlink), Some(0x2222222222));
        assert_eq!(req.create_bar.as_ref().map(|b| b.bar_id), Some(BarId(0xff)));
        assert!(req.unknown_ies.is_empty());

        // The same message built with the builders encodes to the same octets.
        let ni = DnsName::text("some.instance.example");
        let lo = Ipv4Addr::LOCALHOST;
        let built = SessionEstablishmentRequest::new(
            NodeId::fqdn("go-pfcp.epc.3gppnetwork.org"),
            Fseid::v4(0x1111111122222222, lo),
            vec![
                CreatePdr::new(
                    PdrId(0xffff),
                    Precedence(0x11111111),
                    Pdi::new(SourceInterface::Access)
                        .local_fteid(Fteid::v4(0x11111111, lo))
                        .network_instance(ni.clone())
                        .ue_ip_addresses([UeIpAddress::source_v4(lo)])
                        .sdf_filters([SdfFilter {
                            flow_description: Some(b"aaaaaaaa".to_vec()),
                            tos_traffic_class: Some(0x6262),
                            security_parameter_index: Some(0x63636363),
                            flow_label: Some(0x646464),
                            sdf_filter_id: Some(0xffffffff),
                        }])
                        .application_id(ApplicationId::new("https://github.com/wmnsk/go-pfcp/")),
                )
                .outer_header_removal(OuterHeaderRemoval {
                    description: OuterHeaderRemovalDescription::GtpuUdpIpv6,
                    extension_header_deletion: Some(2),
                })
                .far_id(FarId(0xffffffff))
                .urr_ids([UrrId(0xffffffff)])
                .qer_ids([QerId(0xffffffff)]),
            ],
            vec![
                CreateFar::new(FarId(0xffffffff), ApplyAction::new(ApplyAction::BUFF))
                    .forwarding_parameters(
                        ForwardingParameters::new(DestinationInterface::Access)
                            .network_instance(ni)
                            .outer_header_creation(OuterHeaderCreation::gtpu_v4(0x11223344, lo)),
                    )
                    .bar_id(BarId(0xff)),
            ],
        )
        .create_urrs([CreateUrr::new(
            UrrId(0xffffffff),
            MeasurementMethod::new(0x07),
            ReportingTriggers {
                bits: 0x2211,
                octets: 2,
            },
        )
        .measurement_period(Duration::from_secs(10))
        .volume_threshold(Volume {
            total: Some(0x3333333333333333),
            uplink: Some(0x1111111111111111),
            downlink: Some(0x2222222222222222),
        })
        .volume_quota(Volume {
            total: Some(u64::MAX),
            uplink: Some(u64::MAX),
            downlink: Some(u64::MAX),
        })
        .time_threshold(Duration::from_secs(10))
        .time_quota(Duration::from_secs(10))
        .quota_holding_time(Duration::from_secs(10))])
        .create_qers([CreateQer::new(QerId(0xffffffff), GateStatus::OPEN)
            .qer_correlation_id(QerCorrelationId(0x11111111))
            .mbr(BitRate {
                uplink: 0x1111111111,
                downlink: 0x2222222222,
            })
            .gbr(BitRate {
                uplink: 0x1111111111,
                downlink: 0x2222222222,
            })
            .qfi(Qfi(1))])
        .create_bar(CreateBar::new(BarId(0xff)));
        let pdu = Pdu {
            header: Header {
                seid: Some(0x1122334455667788),
                sequence_number: 0x112233,
                ..Header::default()
            },
            message: built.into(),
        };
        assert_eq!(pdu.encode(), SESSION_ESTABLISHMENT_REQUEST);

        // A response with a Created PDR, round trip.
        let rsp = Pdu::response_to(
            &pdu.header,
            0x1111111122222222,
            SessionEstablishmentResponse::new(NodeId::Ipv4(lo), Cause::RequestAccepted)
                .up_fseid(Fseid::v4(1, lo))
                .created_pdrs([CreatedPdr::new(PdrId(1)).local_fteid(Fteid::v4(0x100, lo))]),
        );
        let b = rsp.encode();
        assert_eq!(
            &b[..16],
            [
                0x21, 0x33, 0x00, 0x42, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x11, 0x22, 0x33, 0x00
            ]
        );
        assert_eq!(round_trip(&b), rsp);
    }

    #[test]
    fn session_report_with_usage_report() {
        let pdu = round_trip(&SESSION_REPORT_REQUEST);
        let Message::SessionReportRequest(req) = &pdu.message else {
            panic!("{pdu:?}")
        };
        assert!(
            req.report_type
                .contains(ReportType::DLDR | ReportType::USAR | ReportType::ERIR | ReportType::UPIR)
        );
        let dldr = req.downlink_data_report.as_ref().unwrap();
        assert_eq!(dldr.pdr_ids, [PdrId(0xffff)]);
        assert_eq!(
            dldr.downlink_data_service_information[0].paging_policy_indication,
            Some(0xff)
        );
        let ur = &req.usage_reports[0];
        assert_eq!(ur.urr_id, UrrId(0xffffffff));
        assert_eq!(
            ur.volume_measurement.and_then(|v| v.uplink_volume),
            Some(0x2222222222222222)
        );
        assert_eq!(ur.duration_measurement, Some(Duration::from_secs(10)));
        assert!(req.error_indication_report.is_some());
        assert_eq!(req.old_cp_fseid.map(|f| f.seid), Some(0x1111111122222222));
        assert_eq!(req.unknown_ies.len(), 3);

        // The answer, to known bytes (Table 7.5.9.1-1).
        let rsp = Pdu::response_to(
            &pdu.header,
            0x8877665544332211,
            SessionReportResponse::new(Cause::RequestAccepted),
        );
        #[rustfmt::skip]
        let want = [
            0x21, 0x39, 0x00, 0x11, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x11, 0x22, 0x33, 0x00,
            0x00, 0x13, 0x00, 0x01, 0x01,
        ];
        assert_eq!(rsp.encode(), want);
        assert_eq!(round_trip(&want), rsp);
    }

    #[test]
    fn session_modification_and_deletion() {
        // The SMF's N2 completion: point the downlink FAR at the gNB's tunnel, send
        // end markers; to known bytes (Tables 7.5.4.1-1, 7.5.4.3-1/2).
        let req = SessionModificationRequest::new().update_fars([UpdateFar::new(FarId(2))
            .apply_action(ApplyAction::new(ApplyAction::FORW))
            .update_forwarding_parameters(
                UpdateForwardingParameters::new()
                    .outer_header_creation(OuterHeaderCreation::gtpu_v4(0x0a0b0c0d, Ipv4Addr::new(10, 0, 0, 1)))
                    .pfcpsm_req_flags(vec![0x02]),
            )]);
        let pdu = Pdu::session(0x42, req);
        #[rustfmt::skip]
        let want = [
            0x21, 0x34, 0x00, 0x35, 0, 0, 0, 0, 0, 0, 0, 0x42, 0, 0, 0, 0,
            0x00, 0x0a, 0x00, 0x25,
                0x00, 0x6c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
                0x00, 0x2c, 0x00, 0x02, 0x02, 0x00,
                0x00, 0x0b, 0x00, 0x13,
                    0x00, 0x54, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x0b, 0x0c, 0x0d, 0x0a, 0x00, 0x00, 0x01,
                    0x00, 0x31, 0x00, 0x01, 0x02,
        ];
        assert_eq!(pdu.encode(), want);
        assert_eq!(round_trip(&want), pdu);

        // Deletion: an empty request, a response with the final usage report (IE 79).
        assert_eq!(
            Pdu::session(0x42, SessionDeletionRequest::new()).encode(),
            [0x21, 0x36, 0x00, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0x42, 0, 0, 0, 0]
        );
        let rsp = SessionDeletionResponse::new(Cause::RequestAccepted).usage_reports([UsageReport::new(
            UrrId(1),
            UrSeqn(3),
            UsageReportTrigger::new(UsageReportTrigger::TERMR),
        )
        .volume_measurement(VolumeMeasurement {
            total_volume: Some(1500),
            ..Default::default()
        })]);
        let b = Pdu::session(7, rsp).encode();
        #[rustfmt::skip]
        assert_eq!(&b[16..], [
            0x00, 0x13, 0x00, 0x01, 0x01,
            0x00, 0x4f, 0x00, 0x24,
                0x00, 0x51, 0x00, 0x04, 0, 0, 0, 1,
                0x00, 0x68, 0x00, 0x04, 0, 0, 0, 3,
                0x00, 0x3f, 0x00, 0x03, 0x00, 0x08, 0x00,
                0x00, 0x42, 0x00, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0x05, 0xdc,
        ]);
        round_trip(&b);
    }

    #[test]
    fn broken_messages() {
        assert_eq!(
            Pdu::decode(&ASSOCIATION_SETUP_REQUEST_NO_RECOVERY),
            Err(Error::MissingMandatoryIe {
                ie: IeType::RecoveryTimeStamp
            })
        );
        assert_eq!(
            Pdu::decode(&SESSION_ESTABLISHMENT_REQUEST_BROKEN),
            Err(Error::MissingMandatoryIe { ie: IeType::Pdi })
        );
        // Session message without SEID.
        let mut b = SESSION_REPORT_REQUEST[..16].to_vec();
        b[0] = 0x20;
        b[2] = 0x00;
        b[3] = 0x04;
        b.truncate(8);
        assert_eq!(Pdu::decode(&b), Err(Error::MissingSeid));
        // An IE running past the end of the message.
        let mut b = HEARTBEAT_REQUEST;
        b[11] = 5;
        assert_eq!(
            Pdu::decode(&b),
            Err(Error::BadLength {
                ie: IeType::RecoveryTimeStamp
            })
        );
        // Every truncation of a good message fails cleanly (or, cut at an IE
        // boundary with the length fixed, decodes).
        for n in 0..SESSION_ESTABLISHMENT_REQUEST.len() {
            let _ = Pdu::decode(&SESSION_ESTABLISHMENT_REQUEST[..n]);
            let mut b = SESSION_ESTABLISHMENT_REQUEST[..n].to_vec();
            if n >= 4 {
                let len = (n - 4) as u16;
                b[2..4].copy_from_slice(&len.to_be_bytes());
                if let Ok(pdu) = Pdu::decode(&b) {
                    assert_eq!(Pdu::decode(&pdu.encode()), Ok(pdu));
                }
            }
        }
        // Emitting into a short buffer fails rather than panicking.
        let pdu = Pdu::decode(&HEARTBEAT_REQUEST).unwrap();
        assert_eq!(pdu.emit(&mut [0u8; 15]), Err(Error::Truncated { needed: 16, got: 15 }));
    }

    #[test]
    fn error_responses() {
        let local = LocalNode {
            node_id: NodeId::Ipv4(Ipv4Addr::new(10, 0, 0, 2)),
            recovery_time_stamp: Timestamp(0xdfd52c00),
        };
        let e = Pdu::decode(&ASSOCIATION_SETUP_REQUEST_NO_RECOVERY).unwrap_err();
        let rsp = Pdu::error_response(&ASSOCIATION_SETUP_REQUEST_NO_RECOVERY, &e, &local).unwrap();
        assert_eq!(rsp.header.sequence_number, 1);
        assert_eq!(rsp.message.cause(), Some(Cause::MandatoryIeMissing));
        assert_eq!(rsp.message.message_type(), MessageType::AssociationSetupResponse);

        let e = Pdu::decode(&SESSION_ESTABLISHMENT_REQUEST_BROKEN).unwrap_err();
        let rsp = Pdu::error_response(&SESSION_ESTABLISHMENT_REQUEST_BROKEN, &e, &local).unwrap();
        #[rustfmt::skip]
        let want = [
            0x21, 0x33, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x01, 0x00,
            0x00, 0x3c, 0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x02,
            0x00, 0x13, 0x00, 0x01, 66,
            0x00, 0x28, 0x00, 0x02, 0x00, 0x02,
        ];
        assert_eq!(rsp.encode(), want);

        // A request broken after its F-SEID: the response goes to the CP SEID.
        let mut b = SESSION_ESTABLISHMENT_REQUEST.to_vec();
        b.truncate(100);
        b[2..4].copy_from_slice(&96u16.to_be_bytes());
        let e = Pdu::decode(&b).unwrap_err();
        assert_eq!(e.cause(), Cause::InvalidLength);
        let rsp = Pdu::error_response(&b, &e, &local).unwrap();
        assert_eq!(rsp.header.seid, Some(0x1111111122222222));
        assert_eq!(rsp.header.sequence_number, 0x112233);

        // Version 2: Version Not Supported Response with the same sequence number.
        let mut b = HEARTBEAT_REQUEST;
        b[0] = 0x40;
        b[6] = 9;
        let e = Pdu::decode(&b).unwrap_err();
        assert_eq!(e, Error::UnsupportedVersion(2));
        assert_eq!(
            Pdu::error_response(&b, &e, &local).unwrap().encode(),
            [0x20, 0x0b, 0x00, 0x04, 0x00, 0x00, 0x09, 0x00]
        );
        // A response is never answered; nor is a stub of a header.
        let rsp_bytes = Pdu::response_to(&Header::default(), 0, HeartbeatResponse::new(Timestamp(1))).encode();
        assert_eq!(
            Pdu::error_response(&rsp_bytes, &Error::BadLength { ie: IeType::Cause }, &local),
            None
        );
        assert_eq!(Pdu::error_response(&[0x20, 0x01, 0x00], &e, &local), None);
    }
}
