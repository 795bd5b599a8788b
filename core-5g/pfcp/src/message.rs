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
