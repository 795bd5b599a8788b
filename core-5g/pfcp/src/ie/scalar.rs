//! The IEs that are not grouped (TS 29.244 §8.2): code points, identifiers,
//! addresses, flags, volumes and times.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::codec::{IeValue, Reader, Sink, code_enum, flags_ie, int_ie};
use crate::error::Error;
use crate::ie::IeType;

/// An IE whose value is one octet holding a code point enum (the whole octet, or
/// its low nibble for the interfaces).
macro_rules! enum_ie {
    ($name:ident, $mask:literal) => {
        impl IeValue for $name {
            fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
                let b = value.first().ok_or(Error::BadLength { ie })?;
                Ok($name::from(b & $mask))
            }
            fn encode<S: Sink>(&self, out: &mut S) {
                out.put_u8(self.value() & $mask);
            }
        }
    };
}

code_enum! {
    /// Cause (§8.2.1).
    pub enum Cause: u8 {
        /// Request accepted (success).
        RequestAccepted = 1,
        /// More Usage Report to send.
        MoreUsageReportToSend = 2,
        /// Request partially accepted.
        RequestPartiallyAccepted = 3,
        /// Request rejected (reason not specified).
        RequestRejected = 64,
        /// Session context not found.
        SessionContextNotFound = 65,
        /// Mandatory IE missing.
        MandatoryIeMissing = 66,
        /// Conditional IE missing.
        ConditionalIeMissing = 67,
        /// Invalid length.
        InvalidLength = 68,
        /// Mandatory IE incorrect.
        MandatoryIeIncorrect = 69,
        /// Invalid Forwarding Policy.
        InvalidForwardingPolicy = 70,
        /// Invalid F-TEID allocation option.
        InvalidFteidAllocationOption = 71,
        /// No established PFCP Association.
        NoEstablishedPfcpAssociation = 72,
        /// Rule creation/modification Failure.
        RuleCreationModificationFailure = 73,
        /// PFCP entity in congestion.
        PfcpEntityInCongestion = 74,
        /// No resources available.
        NoResourcesAvailable = 75,
        /// Service not supported.
        ServiceNotSupported = 76,
        /// System failure.
        SystemFailure = 77,
        /// Redirection Requested.
        RedirectionRequested = 78,
        /// All dynamic addresses are occupied.
        AllDynamicAddressesAreOccupied = 79,
        /// Unknown Pre-defined Rule.
        UnknownPredefinedRule = 80,
        /// Unknown Application ID.
        UnknownApplicationId = 81,
    }
}
enum_ie!(Cause, 0xFF);

impl Cause {
    /// Is this an acceptance (values 1–63, §8.2.1)?
    pub fn is_accepted(self) -> bool {
        (1..64).contains(&self.value())
    }
}

code_enum! {
    /// Source Interface (§8.2.2).
    pub enum SourceInterface: u8 {
        /// Access (N3, S1-U): uplink traffic from the UE.
        Access = 0,
        /// Core (N6, N9 towards a PSA): downlink traffic.
        Core = 1,
        /// SGi-LAN / N6-LAN.
        SgiLanN6Lan = 2,
        /// CP-function.
        CpFunction = 3,
        /// 5G VN internal.
        FiveGVnInternal = 4,
    }
}
enum_ie!(SourceInterface, 0x0F);

code_enum! {
    /// Destination Interface (§8.2.24).
    pub enum DestinationInterface: u8 {
        /// Access: downlink towards the UE.
        Access = 0,
        /// Core: uplink towards the data network.
        Core = 1,
        /// SGi-LAN / N6-LAN.
        SgiLanN6Lan = 2,
        /// CP-function.
        CpFunction = 3,
        /// LI function.
        LiFunction = 4,
        /// 5G VN internal.
        FiveGVnInternal = 5,
    }
}
enum_ie!(DestinationInterface, 0x0F);

code_enum! {
    /// One direction of a Gate Status (§8.2.7).
    pub enum Gate: u8 {
        /// Packets pass.
        Open = 0,
        /// Packets are dropped.
        Closed = 1,
    }
}

/// Gate Status (§8.2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GateStatus {
    /// Uplink gate.
    pub uplink: Gate,
    /// Downlink gate.
    pub downlink: Gate,
}

impl GateStatus {
    /// Both gates open.
    pub const OPEN: GateStatus = GateStatus {
        uplink: Gate::Open,
        downlink: Gate::Open,
    };
    /// Both gates closed.
    pub const CLOSED: GateStatus = GateStatus {
        uplink: Gate::Closed,
        downlink: Gate::Closed,
    };
}

impl IeValue for GateStatus {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let b = value.first().ok_or(Error::BadLength { ie })?;
        Ok(GateStatus {
            uplink: Gate::from((b >> 2) & 0x03),
            downlink: Gate::from(b & 0x03),
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u8(((self.uplink.value() & 0x03) << 2) | (self.downlink.value() & 0x03));
    }
}

int_ie! {
    /// PDR ID (§8.2.36): the rule ID.
    pub struct PdrId(u16) = u16 / put_u16;
}
int_ie! {
    /// FAR ID (§8.2.74).
    pub struct FarId(u32) = u32 / put_u32;
}
int_ie! {
    /// QER ID (§8.2.75).
    pub struct QerId(u32) = u32 / put_u32;
}
int_ie! {
    /// URR ID (§8.2.54).
    pub struct UrrId(u32) = u32 / put_u32;
}
int_ie! {
    /// BAR ID (§8.2.88).
    pub struct BarId(u8) = u8 / put_u8;
}
int_ie! {
    /// Precedence (§8.2.11): lower values are matched first.
    pub struct Precedence(u32) = u32 / put_u32;
}
int_ie! {
    /// QER Correlation ID (§8.2.10).
    pub struct QerCorrelationId(u32) = u32 / put_u32;
}
int_ie! {
    /// UR-SEQN (§8.2.77): the usage report sequence number.
    pub struct UrSeqn(u32) = u32 / put_u32;
}
int_ie! {
    /// A time stamp (Recovery Time Stamp §8.2.65, Start Time §8.2.79, End Time
    /// §8.2.80): seconds since 1900-01-01 00:00 UTC, the NTP era-0 format of
    /// IETF RFC 5905.
    pub struct Timestamp(u32) = u32 / put_u32;
}

impl Timestamp {
    /// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
    pub const UNIX_OFFSET: u64 = 2_208_988_800;

    /// From seconds since the Unix epoch (wraps like NTP era 0 does in 2036).
    pub fn from_unix_secs(secs: u64) -> Self {
        Timestamp(secs.wrapping_add(Self::UNIX_OFFSET) as u32)
    }

    /// Seconds since the Unix epoch (era 0 only).
    pub fn unix_secs(self) -> i64 {
        i64::from(self.0) - Self::UNIX_OFFSET as i64
    }
}

/// A duration in whole seconds (Measurement Period §8.2.14, Time Threshold
/// §8.2.14, Time Quota §8.2.51, Quota Holding Time §8.2.48, Duration Measurement
/// §8.2.45). Sub-second parts are dropped and values past `u32::MAX` seconds are
/// clamped on encoding.
impl IeValue for Duration {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        Ok(Duration::from_secs(u64::from(r.u32()?)))
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u32(u32::try_from(self.as_secs()).unwrap_or(u32::MAX));
    }
}

/// QFI (§8.2.89): the QoS flow identifier, 6 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Qfi(pub u8);

impl IeValue for Qfi {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let b = value.first().ok_or(Error::BadLength { ie })?;
        Ok(Qfi(b & 0x3F))
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u8(self.0 & 0x3F);
    }
}

/// Offending IE (§8.2.22): the type of the IE that made a request fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OffendingIe(pub IeType);

impl IeValue for OffendingIe {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        Ok(OffendingIe(IeType::from(r.u16()?)))
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u16(self.0.value());
    }
}

/// A name as carried in Node ID (FQDN, §8.2.38), Network Instance (§8.2.4) and
/// APN/DNN (§8.2.103): DNS labels as TS 23.003 §9.1 says (`8internet`), or — as
/// some peers send a Network Instance — plain text. Decoding is lenient: the octets
/// are kept as received (so they re-encode exactly) and [`DnsName::name`] reads
/// either form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DnsName {
    octets: Vec<u8>,
}

impl DnsName {
    /// `name` encoded as DNS labels (`"internet"` → `08 'internet'`). Empty labels
    /// (from `".."` or a trailing dot) are left out; a label longer than 63 octets
    /// is cut to 63.
    pub fn labels(name: &str) -> Self {
        let mut octets = Vec::with_capacity(name.len() + 1);
        for label in name.split('.').filter(|l| !l.is_empty()) {
            let label = label.as_bytes().get(..63).unwrap_or(label.as_bytes());
            // ≤ 63, fits a u8.
            octets.push(label.len() as u8);
            octets.extend_from_slice(label);
        }
        DnsName { octets }
    }

    /// `name` as plain text, without length octets.
    pub fn text(name: &str) -> Self {
        DnsName {
            octets: name.as_bytes().to_vec(),
        }
    }

    /// The octets on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.octets
    }

    /// Are the octets a well-formed sequence of DNS labels?
    pub fn is_labels(&self) -> bool {
        let mut rest = self.octets.as_slice();
        if rest.is_empty() {
            return false;
        }
        while let [len, tail @ ..] = rest {
            let n = usize::from(*len);
            if n == 0 || n > 63 {
                return false;
            }
            let Some((label, next)) = tail.split_at_checked(n) else {
                return false;
            };
            if !label.iter().all(|c| c.is_ascii_graphic()) {
                return false;
            }
            rest = next;
        }
        true
    }

    /// The name as text: labels joined with dots, or the plain text as is
    /// (invalid UTF-8 replaced).
    pub fn name(&self) -> String {
        if !self.is_labels() {
            return String::from_utf8_lossy(&self.octets).into_owned();
        }
        let mut out = String::with_capacity(self.octets.len());
        let mut rest = self.octets.as_slice();
        while let [len, tail @ ..] = rest {
            let (label, next) = tail.split_at(usize::from(*len).min(tail.len()));
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&String::from_utf8_lossy(label));
            rest = next;
        }
        out
    }
}

impl IeValue for DnsName {
    fn decode(value: &[u8], _ie: IeType) -> Result<Self, Error> {
        Ok(DnsName { octets: value.to_vec() })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put(&self.octets);
    }
}

/// Application ID (§8.2.6): an octet string naming an application the UP function
/// knows (usually text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApplicationId(pub Vec<u8>);

impl ApplicationId {
    /// From text.
    pub fn new(id: &str) -> Self {
        ApplicationId(id.as_bytes().to_vec())
    }
}

impl IeValue for ApplicationId {
    fn decode(value: &[u8], _ie: IeType) -> Result<Self, Error> {
        Ok(ApplicationId(value.to_vec()))
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put(&self.0);
    }
}

/// Node ID (§8.2.38).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeId {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// An FQDN.
    Fqdn(DnsName),
}

impl NodeId {
    /// An FQDN node ID, encoded as DNS labels.
    pub fn fqdn(name: &str) -> Self {
        NodeId::Fqdn(DnsName::labels(name))
    }
}

impl From<std::net::IpAddr> for NodeId {
    fn from(a: std::net::IpAddr) -> Self {
        match a {
            std::net::IpAddr::V4(a) => NodeId::Ipv4(a),
            std::net::IpAddr::V6(a) => NodeId::Ipv6(a),
        }
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeId::Ipv4(a) => a.fmt(f),
            NodeId::Ipv6(a) => a.fmt(f),
            NodeId::Fqdn(n) => f.write_str(&n.name()),
        }
    }
}

impl IeValue for NodeId {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        match r.u8()? & 0x0F {
            0 => Ok(NodeId::Ipv4(r.ipv4()?)),
            1 => Ok(NodeId::Ipv6(r.ipv6()?)),
            2 if !r.is_empty() => Ok(NodeId::Fqdn(DnsName::decode(r.rest(), ie)?)),
            2 => Err(Error::BadLength { ie }),
            _ => Err(Error::InvalidValue { ie }),
        }
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        match self {
            NodeId::Ipv4(a) => {
                out.put_u8(0);
                out.put(&a.octets());
            }
            NodeId::Ipv6(a) => {
                out.put_u8(1);
                out.put(&a.octets());
            }
            NodeId::Fqdn(n) => {
                out.put_u8(2);
                n.encode(out);
            }
        }
    }
}

/// F-SEID (§8.2.37): a SEID and the address of the node that allocated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fseid {
    /// The SEID.
    pub seid: u64,
    /// IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
}

impl Fseid {
    /// A SEID at an IPv4 address.
    pub fn v4(seid: u64, addr: Ipv4Addr) -> Self {
        Fseid {
            seid,
            ipv4: Some(addr),
            ipv6: None,
        }
    }
}

impl IeValue for Fseid {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let flags = r.u8()?;
        let seid = r.u64()?;
        let ipv4 = if flags & 0x02 != 0 { Some(r.ipv4()?) } else { None };
        let ipv6 = if flags & 0x01 != 0 { Some(r.ipv6()?) } else { None };
        Ok(Fseid { seid, ipv4, ipv6 })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u8(u8::from(self.ipv4.is_some()) << 1 | u8::from(self.ipv6.is_some()));
        out.put_u64(self.seid);
        if let Some(a) = self.ipv4 {
            out.put(&a.octets());
        }
        if let Some(a) = self.ipv6 {
            out.put(&a.octets());
        }
    }
}

/// F-TEID (§8.2.3): a GTP-U tunnel endpoint, or a request that the UP function
/// choose one (CH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fteid {
    /// A TEID and the address(es) it lives at.
    Assigned {
        /// The TEID.
        teid: u32,
        /// IPv4 address.
        ipv4: Option<Ipv4Addr>,
        /// IPv6 address.
        ipv6: Option<Ipv6Addr>,
    },
    /// CH = 1: the UP function allocates the TEID (and address).
    Choose {
        /// An IPv4 address is wanted.
        ipv4: bool,
        /// An IPv6 address is wanted.
        ipv6: bool,
        /// CHOOSE ID (CHID = 1): PDRs with the same ID share the allocated F-TEID.
        choose_id: Option<u8>,
    },
}

impl Fteid {
    /// A TEID at an IPv4 address.
    pub fn v4(teid: u32, addr: Ipv4Addr) -> Self {
        Fteid::Assigned {
            teid,
            ipv4: Some(addr),
            ipv6: None,
        }
    }

    /// Ask the UP function to choose an IPv4 F-TEID.
    pub fn choose_v4(choose_id: Option<u8>) -> Self {
        Fteid::Choose {
            ipv4: true,
            ipv6: false,
            choose_id,
        }
    }

    /// The TEID, unless the UP function is to choose it.
    pub fn teid(&self) -> Option<u32> {
        match self {
            Fteid::Assigned { teid, .. } => Some(*teid),
            Fteid::Choose { .. } => None,
        }
    }
}

impl IeValue for Fteid {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let flags = r.u8()?;
        let (v4, v6, ch, chid) = (
            flags & 0x01 != 0,
            flags & 0x02 != 0,
            flags & 0x04 != 0,
            flags & 0x08 != 0,
        );
        if ch {
            let choose_id = if chid { Some(r.u8()?) } else { None };
            return Ok(Fteid::Choose {
                ipv4: v4,
                ipv6: v6,
                choose_id,
            });
        }
        if chid {
            // CHID is only meaningful with CH (§8.2.3).
            return Err(Error::InvalidValue { ie });
        }
        let teid = r.u32()?;
        let ipv4 = if v4 { Some(r.ipv4()?) } else { None };
        let ipv6 = if v6 { Some(r.ipv6()?) } else { None };
        Ok(Fteid::Assigned { teid, ipv4, ipv6 })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        match self {
            Fteid::Assigned { teid, ipv4, ipv6 } => {
                out.put_u8(u8::from(ipv4.is_some()) | u8::from(ipv6.is_some()) << 1);
                out.put_u32(*teid);
                if let Some(a) = ipv4 {
                    out.put(&a.octets());
                }
                if let Some(a) = ipv6 {
                    out.put(&a.octets());
                }
            }
            Fteid::Choose { ipv4, ipv6, choose_id } => {
                out.put_u8(u8::from(*ipv4) | u8::from(*ipv6) << 1 | 0x04 | u8::from(choose_id.is_some()) << 3);
                if let Some(id) = choose_id {
                    out.put_u8(*id);
                }
            }
        }
    }
}

/// UE IP Address (§8.2.62).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UeIpAddress {
    /// IPv4 address (V4).
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address or prefix (V6).
    pub ipv6: Option<Ipv6Addr>,
    /// S/D: the address is a destination address (set in downlink PDIs).
    pub destination: bool,
    /// IPv6 prefix delegation bits (IPv6D).
    pub ipv6_prefix_delegation_bits: Option<u8>,
    /// IPv6 prefix length (IP6PL, Rel-16).
    pub ipv6_prefix_length: Option<u8>,
    /// CHV4: the UP function allocates an IPv4 address.
    pub choose_ipv4: bool,
    /// CHV6: the UP function allocates an IPv6 prefix.
    pub choose_ipv6: bool,
}

impl UeIpAddress {
    /// The UE's IPv4 address as the source of uplink packets.
    pub fn source_v4(addr: Ipv4Addr) -> Self {
        UeIpAddress {
            ipv4: Some(addr),
            ..Default::default()
        }
    }

    /// The UE's IPv4 address as the destination of downlink packets (S/D = 1).
    pub fn destination_v4(addr: Ipv4Addr) -> Self {
        UeIpAddress {
            ipv4: Some(addr),
            destination: true,
            ..Default::default()
        }
    }
}

impl IeValue for UeIpAddress {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let f = r.u8()?;
        let ipv4 = if f & 0x02 != 0 { Some(r.ipv4()?) } else { None };
        let ipv6 = if f & 0x01 != 0 { Some(r.ipv6()?) } else { None };
        let ipv6_prefix_delegation_bits = if f & 0x08 != 0 { Some(r.u8()?) } else { None };
        let ipv6_prefix_length = if f & 0x40 != 0 { Some(r.u8()?) } else { None };
        Ok(UeIpAddress {
            ipv4,
            ipv6,
            destination: f & 0x04 != 0,
            ipv6_prefix_delegation_bits,
            ipv6_prefix_length,
            choose_ipv4: f & 0x10 != 0,
            choose_ipv6: f & 0x20 != 0,
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u8(
            u8::from(self.ipv6.is_some())
                | u8::from(self.ipv4.is_some()) << 1
                | u8::from(self.destination) << 2
                | u8::from(self.ipv6_prefix_delegation_bits.is_some()) << 3
                | u8::from(self.choose_ipv4) << 4
                | u8::from(self.choose_ipv6) << 5
                | u8::from(self.ipv6_prefix_length.is_some()) << 6,
        );
        if let Some(a) = self.ipv4 {
            out.put(&a.octets());
        }
        if let Some(a) = self.ipv6 {
            out.put(&a.octets());
        }
        if let Some(b) = self.ipv6_prefix_delegation_bits {
            out.put_u8(b);
        }
        if let Some(b) = self.ipv6_prefix_length {
            out.put_u8(b);
        }
    }
}

/// SDF Filter (§8.2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SdfFilter {
    /// Flow Description (FD): an IPFilterRule (RFC 6733 §4.3), e.g.
    /// `permit out ip from any to assigned`, kept as octets.
    pub flow_description: Option<Vec<u8>>,
    /// ToS Traffic Class (TTC): type of service / traffic class and its mask.
    pub tos_traffic_class: Option<u16>,
    /// Security Parameter Index (SPI).
    pub security_parameter_index: Option<u32>,
    /// Flow Label (FL), 24 bits.
    pub flow_label: Option<u32>,
    /// SDF Filter ID (BID).
    pub sdf_filter_id: Option<u32>,
}

impl SdfFilter {
    /// A filter with only a flow description.
    pub fn flow(description: &str) -> Self {
        SdfFilter {
            flow_description: Some(description.as_bytes().to_vec()),
            ..Default::default()
        }
    }
}

impl IeValue for SdfFilter {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let f = r.u8()?;
        let _spare = r.u8()?;
        let flow_description = if f & 0x01 != 0 {
            let n = usize::from(r.u16()?);
            Some(r.take(n)?.to_vec())
        } else {
            None
        };
        let tos_traffic_class = if f & 0x02 != 0 { Some(r.u16()?) } else { None };
        let security_parameter_index = if f & 0x04 != 0 { Some(r.u32()?) } else { None };
        let flow_label = if f & 0x08 != 0 { Some(r.u24()?) } else { None };
        let sdf_filter_id = if f & 0x10 != 0 { Some(r.u32()?) } else { None };
        Ok(SdfFilter {
            flow_description,
            tos_traffic_class,
            security_parameter_index,
            flow_label,
            sdf_filter_id,
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u8(
            u8::from(self.flow_description.is_some())
                | u8::from(self.tos_traffic_class.is_some()) << 1
                | u8::from(self.security_parameter_index.is_some()) << 2
                | u8::from(self.flow_label.is_some()) << 3
                | u8::from(self.sdf_filter_id.is_some()) << 4,
        );
        out.put_u8(0);
        if let Some(d) = &self.flow_description {
            let d = d.get(..usize::from(u16::MAX)).unwrap_or(d);
            out.put_u16(d.len() as u16);
            out.put(d);
        }
        if let Some(v) = self.tos_traffic_class {
            out.put_u16(v);
        }
        if let Some(v) = self.security_parameter_index {
            out.put_u32(v);
        }
        if let Some(v) = self.flow_label {
            out.put_u24(v);
        }
        if let Some(v) = self.sdf_filter_id {
            out.put_u32(v);
        }
    }
}

/// Outer Header Creation (§8.2.56): which header to put on forwarded packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OuterHeaderCreation {
    /// Outer Header Creation Description: octet 5 in the high byte, octet 6 in the
    /// low byte (see the associated constants).
    pub description: u16,
    /// TEID (GTP-U descriptions).
    pub teid: Option<u32>,
    /// IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
    /// UDP port (UDP descriptions).
    pub port: Option<u16>,
    /// C-TAG (3 octets, §8.2.94 format).
    pub c_tag: Option<[u8; 3]>,
    /// S-TAG (3 octets, §8.2.95 format).
    pub s_tag: Option<[u8; 3]>,
}

impl OuterHeaderCreation {
    /// GTP-U/UDP/IPv4.
    pub const GTPU_UDP_IPV4: u16 = 0x0100;
    /// GTP-U/UDP/IPv6.
    pub const GTPU_UDP_IPV6: u16 = 0x0200;
    /// UDP/IPv4.
    pub const UDP_IPV4: u16 = 0x0400;
    /// UDP/IPv6.
    pub const UDP_IPV6: u16 = 0x0800;
    /// IPv4.
    pub const IPV4: u16 = 0x1000;
    /// IPv6.
    pub const IPV6: u16 = 0x2000;
    /// C-TAG.
    pub const C_TAG: u16 = 0x4000;
    /// S-TAG.
    pub const S_TAG: u16 = 0x8000;
    /// N19 indication.
    pub const N19: u16 = 0x0001;
    /// N6 indication.
    pub const N6: u16 = 0x0002;

    /// GTP-U/UDP/IPv4 towards `teid` at `addr` (an N3 or N9 tunnel).
    pub fn gtpu_v4(teid: u32, addr: Ipv4Addr) -> Self {
        OuterHeaderCreation {
            description: Self::GTPU_UDP_IPV4,
            teid: Some(teid),
            ipv4: Some(addr),
            ..Default::default()
        }
    }

    /// GTP-U/UDP/IPv6 towards `teid` at `addr`.
    pub fn gtpu_v6(teid: u32, addr: Ipv6Addr) -> Self {
        OuterHeaderCreation {
            description: Self::GTPU_UDP_IPV6,
            teid: Some(teid),
            ipv6: Some(addr),
            ..Default::default()
        }
    }
}

impl IeValue for OuterHeaderCreation {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let d = r.u16()?;
        let has = |bits: u16| d & bits != 0;
        type O = OuterHeaderCreation;
        let teid = if has(O::GTPU_UDP_IPV4 | O::GTPU_UDP_IPV6) {
            Some(r.u32()?)
        } else {
            None
        };
        let ipv4 = if has(O::GTPU_UDP_IPV4 | O::UDP_IPV4 | O::IPV4) {
            Some(r.ipv4()?)
        } else {
            None
        };
        let ipv6 = if has(O::GTPU_UDP_IPV6 | O::UDP_IPV6 | O::IPV6) {
            Some(r.ipv6()?)
        } else {
            None
        };
        let port = if has(O::UDP_IPV4 | O::UDP_IPV6) {
            Some(r.u16()?)
        } else {
            None
        };
        let c_tag = if has(O::C_TAG) { Some(r.array()?) } else { None };
        let s_tag = if has(O::S_TAG) { Some(r.array()?) } else { None };
        Ok(OuterHeaderCreation {
            description: d,
            teid,
            ipv4,
            ipv6,
            port,
            c_tag,
            s_tag,
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u16(self.description);
        if let Some(v) = self.teid {
            out.put_u32(v);
        }
        if let Some(a) = self.ipv4 {
            out.put(&a.octets());
        }
        if let Some(a) = self.ipv6 {
            out.put(&a.octets());
        }
        if let Some(v) = self.port {
            out.put_u16(v);
        }
        if let Some(v) = self.c_tag {
            out.put(&v);
        }
        if let Some(v) = self.s_tag {
            out.put(&v);
        }
    }
}

code_enum! {
    /// Outer Header Removal Description (§8.2.64).
    pub enum OuterHeaderRemovalDescription: u8 {
        /// GTP-U/UDP/IPv4.
        GtpuUdpIpv4 = 0,
        /// GTP-U/UDP/IPv6.
        GtpuUdpIpv6 = 1,
        /// UDP/IPv4.
        UdpIpv4 = 2,
        /// UDP/IPv6.
        UdpIpv6 = 3,
        /// IPv4.
        Ipv4 = 4,
        /// IPv6.
        Ipv6 = 5,
        /// GTP-U/UDP/IP (either version).
        GtpuUdpIp = 6,
        /// VLAN S-TAG.
        VlanSTag = 7,
        /// S-TAG and C-TAG.
        STagAndCTag = 8,
    }
}

/// Outer Header Removal (§8.2.64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OuterHeaderRemoval {
    /// Which header to remove.
    pub description: OuterHeaderRemovalDescription,
    /// GTP-U Extension Header Deletion (octet 6; bit 1: PDU Session Container).
    pub extension_header_deletion: Option<u8>,
}

impl OuterHeaderRemoval {
    /// Remove GTP-U/UDP/IPv4.
    pub const GTPU_UDP_IPV4: OuterHeaderRemoval = OuterHeaderRemoval {
        description: OuterHeaderRemovalDescription::GtpuUdpIpv4,
        extension_header_deletion: None,
    };
}

impl IeValue for OuterHeaderRemoval {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let description = OuterHeaderRemovalDescription::from(r.u8()?);
        let extension_header_deletion = if r.is_empty() { None } else { Some(r.u8()?) };
        Ok(OuterHeaderRemoval {
            description,
            extension_header_deletion,
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u8(self.description.value());
        if let Some(v) = self.extension_header_deletion {
            out.put_u8(v);
        }
    }
}

flags_ie! {
    /// Apply Action (§8.2.26). Two octets since Rel-16; a one-octet form from an
    /// older peer is accepted and re-encoded as it came.
    pub struct ApplyAction: u16, octets 1..=2, default 2 {
        /// Drop.
        const DROP = 0x0001;
        /// Forward.
        const FORW = 0x0002;
        /// Buffer.
        const BUFF = 0x0004;
        /// Notify the CP function (of the first buffered packet).
        const NOCP = 0x0008;
        /// Duplicate.
        const DUPL = 0x0010;
        /// IP multicast accept.
        const IPMA = 0x0020;
        /// IP multicast deny.
        const IPMD = 0x0040;
        /// Duplicate for redundant transmission.
        const DFRT = 0x0080;
        /// Eliminate duplicate packets for redundant transmission.
        const EDRT = 0x0100;
        /// Buffered downlink packet notification.
        const BDPN = 0x0200;
        /// Discarded downlink packet notification.
        const DDPN = 0x0400;
        /// Forward and replicate MBS data using a unicast transport.
        const FSSM = 0x0800;
        /// Forward MBS data using a unicast transport.
        const MBSU = 0x1000;
    }
}

flags_ie! {
    /// Measurement Method (§8.2.40).
    pub struct MeasurementMethod: u8, octets 1..=1, default 1 {
        /// Duration.
        const DURAT = 0x01;
        /// Volume.
        const VOLUM = 0x02;
        /// Event.
        const EVENT = 0x04;
    }
}

flags_ie! {
    /// Reporting Triggers (§8.2.19): what makes the UP function send a usage report.
    pub struct ReportingTriggers: u32, octets 1..=3, default 3 {
        /// Periodic reporting.
        const PERIO = 0x0001;
        /// Volume threshold reached.
        const VOLTH = 0x0002;
        /// Time threshold reached.
        const TIMTH = 0x0004;
        /// Quota holding time.
        const QUHTI = 0x0008;
        /// Start of traffic.
        const START = 0x0010;
        /// Stop of traffic.
        const STOPT = 0x0020;
        /// Dropped DL traffic threshold.
        const DROTH = 0x0040;
        /// Linked usage reporting.
        const LIUSA = 0x0080;
        /// Volume quota exhausted.
        const VOLQU = 0x0100;
        /// Time quota exhausted.
        const TIMQU = 0x0200;
        /// Envelope closure.
        const ENVCL = 0x0400;
        /// MAC addresses reporting.
        const MACAR = 0x0800;
        /// Event threshold.
        const EVETH = 0x1000;
        /// Event quota.
        const EVEQU = 0x2000;
        /// IP multicast join/leave.
        const IPMJL = 0x4000;
        /// Quota validity time.
        const QUVTI = 0x8000;
        /// Report the end marker reception.
        const REEMR = 0x01_0000;
        /// User plane inactivity timer.
        const UPINT = 0x02_0000;
    }
}

flags_ie! {
    /// Usage Report Trigger (§8.2.41): why a usage report was sent.
    pub struct UsageReportTrigger: u32, octets 1..=3, default 3 {
        /// Periodic reporting.
        const PERIO = 0x0001;
        /// Volume threshold.
        const VOLTH = 0x0002;
        /// Time threshold.
        const TIMTH = 0x0004;
        /// Quota holding time.
        const QUHTI = 0x0008;
        /// Start of traffic.
        const START = 0x0010;
        /// Stop of traffic.
        const STOPT = 0x0020;
        /// Dropped DL traffic threshold.
        const DROTH = 0x0040;
        /// Immediate report (a Query URR).
        const IMMER = 0x0080;
        /// Volume quota.
        const VOLQU = 0x0100;
        /// Time quota.
        const TIMQU = 0x0200;
        /// Linked usage reporting.
        const LIUSA = 0x0400;
        /// Termination report (the URR or session was removed).
        const TERMR = 0x0800;
        /// Monitoring time.
        const MONIT = 0x1000;
        /// Envelope closure.
        const ENVCL = 0x2000;
        /// MAC addresses reporting.
        const MACAR = 0x4000;
        /// Event threshold.
        const EVETH = 0x8000;
        /// Event quota.
        const EVEQU = 0x01_0000;
        /// Termination by UP function report.
        const TEBUR = 0x02_0000;
        /// IP multicast join/leave.
        const IPMJL = 0x04_0000;
        /// Quota validity time.
        const QUVTI = 0x08_0000;
        /// Emergency.
        const EMRRE = 0x10_0000;
        /// User plane inactivity timer.
        const UPINT = 0x20_0000;
    }
}

flags_ie! {
    /// Report Type (§8.2.21).
    pub struct ReportType: u8, octets 1..=1, default 1 {
        /// Downlink data report.
        const DLDR = 0x01;
        /// Usage report.
        const USAR = 0x02;
        /// Error indication report.
        const ERIR = 0x04;
        /// User plane inactivity report.
        const UPIR = 0x08;
        /// TSC management information report.
        const TMIR = 0x10;
        /// Session report.
        const SESR = 0x20;
        /// UP initiated session request.
        const UISR = 0x40;
    }
}

flags_ie! {
    /// Node Report Type (§8.2.69).
    pub struct NodeReportType: u8, octets 1..=1, default 1 {
        /// User plane path failure report.
        const UPFR = 0x01;
        /// User plane path recovery report.
        const UPRR = 0x02;
        /// Clock drift report.
        const CKDR = 0x04;
        /// GTP-U path QoS report.
        const GPQR = 0x08;
        /// Peer GTP-U entity restart report.
        const PURR = 0x10;
    }
}

flags_ie! {
    /// UP Function Features (§8.2.25): what the UP function supports, as many
    /// octets as the peer sent.
    pub struct UpFunctionFeatures: u128, octets 1..=16, default 6 {
        /// Downlink data buffering in the CP function.
        const BUCP = 0x01;
        /// Downlink data notification delay.
        const DDND = 0x02;
        /// DL buffering duration.
        const DLBD = 0x04;
        /// Traffic steering.
        const TRST = 0x08;
        /// F-TEID allocation / release in the UP function.
        const FTUP = 0x10;
        /// PFD management.
        const PFDM = 0x20;
        /// Header enrichment of uplink traffic.
        const HEEU = 0x40;
        /// Traffic redirection enforcement.
        const TREU = 0x80;
        /// Sending of end marker packets.
        const EMPU = 0x0100;
        /// Support of PDI optimised signalling.
        const PDIU = 0x0200;
        /// Support of UL/DL buffering control.
        const UDBC = 0x0400;
        /// Quota action to apply when quotas are exhausted.
        const QUOAC = 0x0800;
        /// Trace.
        const TRACE = 0x1000;
        /// Framed routing.
        const FRRT = 0x2000;
        /// PFD contents including property with multiple values.
        const PFDE = 0x4000;
        /// Pre-defined FARs referred from a pre-defined or dynamic PDR.
        const EPFAR = 0x8000;
        /// Deferred PDR activation or deactivation.
        const DPDRA = 0x01_0000;
        /// Activation and deactivation of pre-defined PDRs.
        const ADPDP = 0x02_0000;
        /// UE IP address allocation in the UP function.
        const UEIP = 0x04_0000;
        /// SMF set.
        const SSET = 0x08_0000;
    }
}

flags_ie! {
    /// CP Function Features (§8.2.58).
    pub struct CpFunctionFeatures: u64, octets 1..=8, default 1 {
        /// Load control.
        const LOAD = 0x01;
        /// Overload control.
        const OVRL = 0x02;
        /// Pre-defined FARs referred from a pre-defined or dynamic PDR.
        const EPFAR = 0x04;
        /// SMF set.
        const SSET = 0x08;
        /// Bundling of PFCP messages.
        const BUNDL = 0x10;
        /// SMF support for multiple PFCP associations.
        const MPAS = 0x20;
        /// Additional usage reports in the deletion response.
        const ARDR = 0x40;
        /// Deferred usage reports.
        const UIAUR = 0x80;
    }
}

/// MBR (§8.2.8) or GBR (§8.2.9): uplink and downlink bit rates in kbps, 40 bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BitRate {
    /// Uplink, kbit/s.
    pub uplink: u64,
    /// Downlink, kbit/s.
    pub downlink: u64,
}

impl IeValue for BitRate {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        Ok(BitRate {
            uplink: r.u40()?,
            downlink: r.u40()?,
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u40(self.uplink);
        out.put_u40(self.downlink);
    }
}

/// Volume Threshold (§8.2.13), Volume Quota (§8.2.50) and their Subsequent forms:
/// octets in total / uplink / downlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Volume {
    /// Total volume (TOVOL).
    pub total: Option<u64>,
    /// Uplink volume (ULVOL).
    pub uplink: Option<u64>,
    /// Downlink volume (DLVOL).
    pub downlink: Option<u64>,
}

impl Volume {
    /// Only a total volume.
    pub fn total(octets: u64) -> Self {
        Volume {
            total: Some(octets),
            ..Default::default()
        }
    }
}

impl IeValue for Volume {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let f = r.u8()?;
        let mut opt =
            |bit: u8| -> Result<Option<u64>, Error> { if f & bit != 0 { Ok(Some(r.u64()?)) } else { Ok(None) } };
        Ok(Volume {
            total: opt(0x01)?,
            uplink: opt(0x02)?,
            downlink: opt(0x04)?,
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u8(
            u8::from(self.total.is_some())
                | u8::from(self.uplink.is_some()) << 1
                | u8::from(self.downlink.is_some()) << 2,
        );
        for v in [self.total, self.uplink, self.downlink].into_iter().flatten() {
            out.put_u64(v);
        }
    }
}

/// Volume Measurement (§8.2.44): octets and packets counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VolumeMeasurement {
    /// Total octets (TOVOL).
    pub total_volume: Option<u64>,
    /// Uplink octets (ULVOL).
    pub uplink_volume: Option<u64>,
    /// Downlink octets (DLVOL).
    pub downlink_volume: Option<u64>,
    /// Total packets (TONOP).
    pub total_packets: Option<u64>,
    /// Uplink packets (ULNOP).
    pub uplink_packets: Option<u64>,
    /// Downlink packets (DLNOP).
    pub downlink_packets: Option<u64>,
}

impl VolumeMeasurement {
    fn fields(&self) -> [Option<u64>; 6] {
        [
            self.total_volume,
            self.uplink_volume,
            self.downlink_volume,
            self.total_packets,
            self.uplink_packets,
            self.downlink_packets,
        ]
    }
}

impl IeValue for VolumeMeasurement {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let f = r.u8()?;
        let mut v = [None; 6];
        for (i, slot) in v.iter_mut().enumerate() {
            if f & (1 << i) != 0 {
                *slot = Some(r.u64()?);
            }
        }
        let [
            total_volume,
            uplink_volume,
            downlink_volume,
            total_packets,
            uplink_packets,
            downlink_packets,
        ] = v;
        Ok(VolumeMeasurement {
            total_volume,
            uplink_volume,
            downlink_volume,
            total_packets,
            uplink_packets,
            downlink_packets,
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        let fields = self.fields();
        let flags = fields
            .iter()
            .enumerate()
            .fold(0u8, |f, (i, v)| f | u8::from(v.is_some()) << i);
        out.put_u8(flags);
        for v in fields.into_iter().flatten() {
            out.put_u64(v);
        }
    }
}

/// Downlink Data Service Information (§8.2.27). The octets are kept whole (the
/// values are their low six bits; the spare bits survive a round trip).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DownlinkDataServiceInformation {
    /// Paging Policy Indication octet (PPI).
    pub paging_policy_indication: Option<u8>,
    /// QFI octet (QFII).
    pub qfi: Option<u8>,
}

impl IeValue for DownlinkDataServiceInformation {
    fn decode(value: &[u8], ie: IeType) -> Result<Self, Error> {
        let mut r = Reader::new(value, ie);
        let f = r.u8()?;
        let paging_policy_indication = if f & 0x01 != 0 { Some(r.u8()?) } else { None };
        let qfi = if f & 0x02 != 0 { Some(r.u8()?) } else { None };
        Ok(DownlinkDataServiceInformation {
            paging_policy_indication,
            qfi,
        })
    }
    fn encode<S: Sink>(&self, out: &mut S) {
        out.put_u8(u8::from(self.paging_policy_indication.is_some()) | u8::from(self.qfi.is_some()) << 1);
        if let Some(v) = self.paging_policy_indication {
            out.put_u8(v);
        }
        if let Some(v) = self.qfi {
            out.put_u8(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<V: IeValue + PartialEq + std::fmt::Debug>(ie: IeType, bytes: &[u8]) -> V {
        let v = V::decode(bytes, ie).unwrap();
        assert_eq!(v.to_bytes(), bytes, "{ie}");
        assert_eq!(v.value_len(), bytes.len());
        v
    }

    // Values from go-pfcp's ie/*_test.go and message/*_test.go (MIT), the octets
    // after type and length.
    #[test]
    fn decode_known_values() {
        let n: NodeId = round_trip(IeType::NodeId, b"\x02\x07go-pfcp\x03epc\x0b3gppnetwork\x03org");
        assert_eq!(n, NodeId::fqdn("go-pfcp.epc.3gppnetwork.org"));
        assert_eq!(n.to_string(), "go-pfcp.epc.3gppnetwork.org");
        // free5GC pfcp decode_test.go: Node ID IPv4 192.188.2.2.
        let n: NodeId = round_trip(IeType::NodeId, &[0x00, 0xc0, 0xbc, 0x02, 0x02]);
        assert_eq!(n, NodeId::Ipv4(Ipv4Addr::new(192, 188, 2, 2)));

        let f: Fseid = round_trip(
            IeType::Fseid,
            &[
                0x02, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x7f, 0x00, 0x00, 0x01,
            ],
        );
        assert_eq!(f, Fseid::v4(0x1111111122222222, Ipv4Addr::LOCALHOST));

        let t: Fteid = round_trip(IeType::Fteid, &[0x01, 0x11, 0x11, 0x11, 0x11, 0x7f, 0x00, 0x00, 0x01]);
        assert_eq!(t, Fteid::v4(0x11111111, Ipv4Addr::LOCALHOST));
        // CH + CHID, IPv4 wanted, CHOOSE ID 0x7b (built by hand from §8.2.3).
        let t: Fteid = round_trip(IeType::Fteid, &[0x0d, 0x7b]);
        assert_eq!(t, Fteid::choose_v4(Some(0x7b)));
        assert_eq!(t.teid(), None);

        let u: UeIpAddress = round_trip(IeType::UeIpAddress, &[0x02, 0x7f, 0x00, 0x00, 0x01]);
        assert_eq!(u, UeIpAddress::source_v4(Ipv4Addr::LOCALHOST));

        let s: SdfFilter = round_trip(
            IeType::SdfFilter,
            &[
                0x1f, 0x00, 0x00, 0x08, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x62, 0x62, 0x63, 0x63, 0x63,
                0x63, 0x64, 0x64, 0x64, 0xff, 0xff, 0xff, 0xff,
            ],
        );
        assert_eq!(s.flow_description.as_deref(), Some(&b"aaaaaaaa"[..]));
        assert_eq!(s.tos_traffic_class, Some(0x6262));
        assert_eq!(s.security_parameter_index, Some(0x63636363));
        assert_eq!(s.flow_label, Some(0x646464));
        assert_eq!(s.sdf_filter_id, Some(0xffffffff));

        let o: OuterHeaderCreation = round_trip(
            IeType::OuterHeaderCreation,
            &[0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x7f, 0x00, 0x00, 0x01],
        );
        assert_eq!(o, OuterHeaderCreation::gtpu_v4(0x11223344, Ipv4Addr::LOCALHOST));
        let r: OuterHeaderRemoval = round_trip(IeType::OuterHeaderRemoval, &[0x01, 0x02]);
        assert_eq!(r.description, OuterHeaderRemovalDescription::GtpuUdpIpv6);
        assert_eq!(r.extension_header_deletion, Some(2));

        let a: ApplyAction = round_trip(IeType::ApplyAction, &[0x04, 0x00]);
        assert!(a.contains(ApplyAction::BUFF));
        assert_eq!(a, ApplyAction::new(ApplyAction::BUFF));
        // The Rel-15 one-octet form (FORW, as older free5GC SMFs send it) stays one octet.
        let a: ApplyAction = round_trip(IeType::ApplyAction, &[0x02]);
        assert!(a.contains(ApplyAction::FORW));
        assert_eq!(a.octets, 1);

        let g: GateStatus = round_trip(IeType::GateStatus, &[0x00]);
        assert_eq!(g, GateStatus::OPEN);
        let m: BitRate = round_trip(
            IeType::Mbr,
            &[0x11, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x22],
        );
        assert_eq!((m.uplink, m.downlink), (0x1111111111, 0x2222222222));

        let v: Volume = round_trip(
            IeType::VolumeThreshold,
            &[
                0x07, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
            ],
        );
        assert_eq!(v.total, Some(0x3333333333333333));
        assert_eq!(v.downlink, Some(0x2222222222222222));

        let t: Timestamp = round_trip(IeType::RecoveryTimeStamp, &[0xdf, 0xd5, 0x2c, 0x00]);
        // 2019-01-01T00:00:00Z
        assert_eq!(t.unix_secs(), 1_546_300_800);
        assert_eq!(Timestamp::from_unix_secs(1_546_300_800), t);

        let d: Duration = round_trip(IeType::MeasurementPeriod, &[0x00, 0x00, 0x00, 0x0a]);
        assert_eq!(d, Duration::from_secs(10));

        let rt: ReportingTriggers = round_trip(IeType::ReportingTriggers, &[0x11, 0x22]);
        assert!(rt.contains(ReportingTriggers::PERIO | ReportingTriggers::START | ReportingTriggers::TIMQU));
        let ut: UsageReportTrigger = round_trip(IeType::UsageReportTrigger, &[0xff, 0xff, 0xff]);
        assert!(ut.contains(UsageReportTrigger::UPINT));

        // A trigger set built up as a UP function does (PERIO then VOLTH).
        let mut t = UsageReportTrigger::empty();
        assert!(t.is_empty());
        t.insert(UsageReportTrigger::PERIO);
        t.insert(UsageReportTrigger::VOLTH);
        assert!(!t.is_empty() && t.contains(UsageReportTrigger::PERIO | UsageReportTrigger::VOLTH));
        assert!(t.intersects(UsageReportTrigger::VOLTH | UsageReportTrigger::VOLQU));
        assert!(!t.intersects(UsageReportTrigger::VOLQU | UsageReportTrigger::TIMQU));
        assert_eq!(t.to_bytes(), [0x03, 0x00, 0x00]);
        assert_eq!(UrrId(7).to_string(), "7");

        let i: DownlinkDataServiceInformation = round_trip(IeType::DownlinkDataServiceInformation, &[0x03, 0xff, 0xff]);
        assert_eq!(i.qfi, Some(0xff));

        let c: Cause = round_trip(IeType::Cause, &[0x01]);
        assert!(c.is_accepted());
        let c: Cause = round_trip(IeType::Cause, &[0x5a]);
        assert_eq!(c, Cause::Unknown(90));
        assert!(!c.is_accepted());
    }

    #[test]
    fn network_instance_both_forms() {
        // go-pfcp sends the Network Instance as plain text ("some.instance.example");
        // free5GC's SMF sends it as DNS labels ("\x08internet").
        let plain = DnsName::decode(b"some.instance.example", IeType::NetworkInstance).unwrap();
        assert!(!plain.is_labels());
        assert_eq!(plain.name(), "some.instance.example");
        assert_eq!(plain, DnsName::text("some.instance.example"));
        let labels = DnsName::decode(b"\x08internet", IeType::NetworkInstance).unwrap();
        assert!(labels.is_labels());
        assert_eq!(labels.name(), "internet");
        assert_eq!(labels, DnsName::labels("internet"));
        assert_eq!(DnsName::labels("a..b.").as_bytes(), b"\x01a\x01b");
    }

    #[test]
    fn encode_known_values() {
        assert_eq!(
            UeIpAddress {
                ipv6: Some(Ipv6Addr::LOCALHOST),
                ipv6_prefix_length: Some(64),
                choose_ipv4: true,
                ..UeIpAddress::destination_v4(Ipv4Addr::new(10, 45, 0, 2))
            }
            .to_bytes(),
            [0x57, 10, 45, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 64]
        );
        assert_eq!(Fteid::choose_v4(None).to_bytes(), [0x05]);
        assert_eq!(
            ReportingTriggers::new(ReportingTriggers::VOLTH).to_bytes(),
            [0x02, 0x00, 0x00]
        );
        assert_eq!(
            VolumeMeasurement {
                total_volume: Some(3),
                downlink_packets: Some(1),
                ..Default::default()
            }
            .to_bytes(),
            [0x21, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(Duration::from_millis(1500).to_bytes(), [0, 0, 0, 1]);
    }

    #[test]
    fn broken_values() {
        let e = |ie| Error::BadLength { ie };
        assert_eq!(
            NodeId::decode(&[0x00, 10, 0, 0], IeType::NodeId),
            Err(e(IeType::NodeId))
        );
        assert_eq!(NodeId::decode(&[0x02], IeType::NodeId), Err(e(IeType::NodeId)));
        assert_eq!(
            NodeId::decode(&[0x03, 1, 2, 3, 4], IeType::NodeId),
            Err(Error::InvalidValue { ie: IeType::NodeId })
        );
        assert_eq!(
            Fseid::decode(&[0x02, 0, 0, 0, 0, 0, 0, 0, 1], IeType::Fseid),
            Err(e(IeType::Fseid))
        );
        assert_eq!(Fteid::decode(&[0x0d], IeType::Fteid), Err(e(IeType::Fteid)));
        assert_eq!(
            Fteid::decode(&[0x09, 0, 0, 0, 1, 127, 0, 0, 1], IeType::Fteid),
            Err(Error::InvalidValue { ie: IeType::Fteid })
        );
        assert_eq!(
            SdfFilter::decode(&[0x01, 0x00, 0x00, 0x09, b'a'], IeType::SdfFilter),
            Err(e(IeType::SdfFilter))
        );
        assert_eq!(
            ApplyAction::decode(&[], IeType::ApplyAction),
            Err(e(IeType::ApplyAction))
        );
        assert_eq!(Cause::decode(&[], IeType::Cause), Err(e(IeType::Cause)));
        assert_eq!(
            OuterHeaderCreation::decode(&[0x01, 0x00, 1, 2, 3, 4], IeType::OuterHeaderCreation),
            Err(e(IeType::OuterHeaderCreation))
        );
        assert_eq!(BitRate::decode(&[0; 9], IeType::Mbr), Err(e(IeType::Mbr)));
    }
}
