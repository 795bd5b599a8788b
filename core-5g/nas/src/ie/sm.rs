//! 5GSM information elements (TS 24.501 §9.11.4) and DNN (§9.11.2.1B).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::codec::{FixedLen, IeValue, half_octet_enum};
use crate::error::Error;

half_octet_enum! {
    /// PDU session type (TS 24.501 §9.11.4.11).
    pub enum PduSessionType {
        /// IPv4.
        Ipv4 = 1,
        /// IPv6.
        Ipv6 = 2,
        /// IPv4v6.
        Ipv4v6 = 3,
        /// Unstructured.
        Unstructured = 4,
        /// Ethernet.
        Ethernet = 5,
    }
}

half_octet_enum! {
    /// SSC mode (TS 24.501 §9.11.4.16).
    pub enum SscMode {
        /// SSC mode 1.
        Mode1 = 1,
        /// SSC mode 2.
        Mode2 = 2,
        /// SSC mode 3.
        Mode3 = 3,
    }
}

/// Integrity protection maximum data rate (TS 24.501 §9.11.4.7): uplink, then
/// downlink (0x00 = 64 kbps, 0x01 = NULL, 0xFF = full data rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntegrityProtectionMaximumDataRate {
    /// For uplink.
    pub uplink: u8,
    /// For downlink.
    pub downlink: u8,
}

impl IeValue for IntegrityProtectionMaximumDataRate {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        match v {
            [u, d] => Ok(IntegrityProtectionMaximumDataRate {
                uplink: *u,
                downlink: *d,
            }),
            _ => Err(Error::BadLength {
                ie: "Integrity protection maximum data rate",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.uplink);
        out.push(self.downlink);
    }
}

impl FixedLen for IntegrityProtectionMaximumDataRate {
    const LEN: usize = 2;
}

/// Maximum number of supported packet filters (TS 24.501 §9.11.4.9): 11 bits in
/// two octets, kept as the two octets' value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaxPacketFilters(pub u16);

impl MaxPacketFilters {
    /// The number (17..=1024 per spec).
    pub fn count(&self) -> u16 {
        self.0 >> 5
    }
}

impl IeValue for MaxPacketFilters {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        match v {
            [a, b] => Ok(MaxPacketFilters(u16::from_be_bytes([*a, *b]))),
            _ => Err(Error::BadLength {
                ie: "Maximum number of supported packet filters",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0.to_be_bytes());
    }
}

impl FixedLen for MaxPacketFilters {
    const LEN: usize = 2;
}

/// DNN (TS 24.501 §9.11.2.1B): the APN network identifier encoding of TS 23.003
/// §9.1 (each label preceded by its length), kept as those octets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dnn(pub Vec<u8>);

impl Dnn {
    /// From a dotted name such as `"internet"` or `"ims.mnc001.mcc001.gprs"`.
    pub fn from_name(name: &str) -> Dnn {
        let mut v = Vec::with_capacity(name.len() + 1);
        for label in name.split('.') {
            let l = label.as_bytes();
            let n = l.len().min(63);
            v.push(n as u8);
            v.extend_from_slice(&l[..n]);
        }
        Dnn(v)
    }

    /// The dotted name.
    pub fn name(&self) -> String {
        let mut s = String::new();
        let mut rest = &self.0[..];
        while let [n, tail @ ..] = rest {
            let n = usize::from(*n);
            let label = tail.get(..n).unwrap_or(tail);
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(&String::from_utf8_lossy(label));
            rest = tail.get(n..).unwrap_or(&[]);
        }
        s
    }
}

impl IeValue for Dnn {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = Error::InvalidValue { ie: "DNN" };
        if v.is_empty() || v.len() > 100 {
            return Err(Error::BadLength { ie: "DNN" });
        }
        let mut rest = v;
        while let [n, tail @ ..] = rest {
            let n = usize::from(*n);
            if n == 0 || n > tail.len() {
                return Err(bad);
            }
            rest = &tail[n..];
        }
        Ok(Dnn(v.to_vec()))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl std::fmt::Display for Dnn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// The address part of a PDU address (TS 24.501 §9.11.4.10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PduAddressValue {
    /// IPv4 address.
    Ipv4(Ipv4Addr),
    /// IPv6 interface identifier (8 octets).
    Ipv6([u8; 8]),
    /// IPv6 interface identifier and IPv4 address.
    Ipv4v6 {
        /// IPv6 interface identifier.
        ipv6_iid: [u8; 8],
        /// IPv4 address.
        ipv4: Ipv4Addr,
    },
}

/// PDU address (TS 24.501 §9.11.4.10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PduAddress {
    /// The UE's address.
    pub value: PduAddressValue,
    /// The SMF's IPv6 link local address (present when SI6LLA is set).
    pub smf_ipv6_link_local: Option<Ipv6Addr>,
}

impl IeValue for PduAddress {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = Error::InvalidValue { ie: "PDU address" };
        let (&h, rest) = v.split_first().ok_or(bad.clone())?;
        if h & 0xF0 != 0 {
            return Err(bad);
        }
        let (value, used) = match h & 0x07 {
            1 => (
                PduAddressValue::Ipv4(Ipv4Addr::from(
                    <[u8; 4]>::try_from(rest.get(..4).ok_or(bad.clone())?).map_err(|_| bad.clone())?,
                )),
                4,
            ),
            2 => (
                PduAddressValue::Ipv6(<[u8; 8]>::try_from(rest.get(..8).ok_or(bad.clone())?).map_err(|_| bad.clone())?),
                8,
            ),
            3 => {
                let b = rest.get(..12).ok_or(bad.clone())?;
                let mut iid = [0u8; 8];
                iid.copy_from_slice(&b[..8]);
                (
                    PduAddressValue::Ipv4v6 {
                        ipv6_iid: iid,
                        ipv4: Ipv4Addr::new(b[8], b[9], b[10], b[11]),
                    },
                    12,
                )
            }
            _ => return Err(bad),
        };
        let tail = rest.get(used..).unwrap_or(&[]);
        let smf_ipv6_link_local = if h & 0x08 != 0 {
            let a = <[u8; 16]>::try_from(tail).map_err(|_| bad.clone())?;
            Some(Ipv6Addr::from(a))
        } else if tail.is_empty() {
            None
        } else {
            return Err(bad);
        };
        Ok(PduAddress {
            value,
            smf_ipv6_link_local,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let si6lla = if self.smf_ipv6_link_local.is_some() { 0x08 } else { 0 };
        match &self.value {
            PduAddressValue::Ipv4(a) => {
                out.push(si6lla | 1);
                out.extend_from_slice(&a.octets());
            }
            PduAddressValue::Ipv6(iid) => {
                out.push(si6lla | 2);
                out.extend_from_slice(iid);
            }
            PduAddressValue::Ipv4v6 { ipv6_iid, ipv4 } => {
                out.push(si6lla | 3);
                out.extend_from_slice(ipv6_iid);
                out.extend_from_slice(&ipv4.octets());
            }
        }
        if let Some(ll) = self.smf_ipv6_link_local {
            out.extend_from_slice(&ll.octets());
        }
    }
}

/// A bit rate as unit and value (TS 24.501 §9.11.4.14: units 1–5 are 1, 4, 16,
/// 64, 256 kbps, 6–10 the same in Mbps, then Gbps, Tbps, Pbps up to 25 = 256 Pbps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BitRate {
    /// The unit code.
    pub unit: u8,
    /// The value in that unit.
    pub value: u16,
}

impl BitRate {
    /// Bits per second, when the unit is defined and the product fits.
    pub fn bps(&self) -> Option<u64> {
        if !(1..=25).contains(&self.unit) {
            return None;
        }
        let u = u32::from(self.unit) - 1;
        let m = 4u64.pow(u % 5) * 1000u64.checked_pow(u / 5 + 1)?;
        m.checked_mul(u64::from(self.value))
    }

    fn read(b: &[u8]) -> BitRate {
        BitRate {
            unit: b.first().copied().unwrap_or(0),
            value: u16::from_be_bytes([b.get(1).copied().unwrap_or(0), b.get(2).copied().unwrap_or(0)]),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.unit);
        out.extend_from_slice(&self.value.to_be_bytes());
    }
}

/// Session-AMBR (TS 24.501 §9.11.4.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionAmbr {
    /// Downlink.
    pub downlink: BitRate,
    /// Uplink.
    pub uplink: BitRate,
}

impl IeValue for SessionAmbr {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        if v.len() != 6 {
            return Err(Error::BadLength { ie: "Session-AMBR" });
        }
        Ok(SessionAmbr {
            downlink: BitRate::read(&v[..3]),
            uplink: BitRate::read(&v[3..]),
        })
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.downlink.write(out);
        self.uplink.write(out);
    }
}

// ---------------------------------------------------------------- QoS rules

/// One packet filter component (TS 24.501 Table 9.11.4.13.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FilterComponent {
    /// 0x01 match-all.
    MatchAll,
    /// 0x10 IPv4 remote address and mask.
    Ipv4Remote(Ipv4Addr, Ipv4Addr),
    /// 0x11 IPv4 local address and mask.
    Ipv4Local(Ipv4Addr, Ipv4Addr),
    /// 0x21 IPv6 remote address and prefix length.
    Ipv6Remote(Ipv6Addr, u8),
    /// 0x23 IPv6 local address and prefix length.
    Ipv6Local(Ipv6Addr, u8),
    /// 0x30 protocol identifier / next header.
    Protocol(u8),
    /// 0x40 single local port.
    LocalPort(u16),
    /// 0x41 local port range (low, high).
    LocalPortRange(u16, u16),
    /// 0x50 single remote port.
    RemotePort(u16),
    /// 0x51 remote port range (low, high).
    RemotePortRange(u16, u16),
    /// 0x60 security parameter index.
    SecurityParameterIndex(u32),
    /// 0x70 type of service / traffic class and mask.
    TypeOfService(u8, u8),
    /// 0x80 flow label (20 bits, in three octets).
    FlowLabel(u32),
    /// Any other component type (Ethernet ones included): its value octets.
    /// With an unknown type the length is unknown, so it takes the rest of the filter.
    Other {
        /// Component type identifier.
        kind: u8,
        /// The value octets.
        value: Vec<u8>,
    },
}

/// Value length of the Ethernet and other known component types kept as `Other`.
fn other_len(kind: u8) -> Option<usize> {
    Some(match kind {
        0x81 | 0x82 => 6,
        0x83 | 0x84 | 0x87 => 2,
        0x85 | 0x86 => 1,
        0x88 | 0x89 => 12,
        _ => return None,
    })
}

fn parse_components(mut b: &[u8]) -> Result<Vec<FilterComponent>, Error> {
    let bad = Error::InvalidValue { ie: "packet filter" };
    let mut out = Vec::new();
    while let [kind, rest @ ..] = b {
        let need = match kind {
            0x01 => 0,
            0x10 | 0x11 => 8,
            0x21 | 0x23 => 17,
            0x30 => 1,
            0x40 | 0x50 => 2,
            0x41 | 0x51 | 0x60 => 4,
            0x70 => 2,
            0x80 => 3,
            k => other_len(*k).unwrap_or(rest.len()),
        };
        let v = rest.get(..need).ok_or(bad.clone())?;
        let u16at = |i: usize| u16::from_be_bytes([v[i], v[i + 1]]);
        let ip4 = |i: usize| Ipv4Addr::new(v[i], v[i + 1], v[i + 2], v[i + 3]);
        let ip6 = || {
            let mut a = [0u8; 16];
            a.copy_from_slice(&v[..16]);
            Ipv6Addr::from(a)
        };
        out.push(match kind {
            0x01 => FilterComponent::MatchAll,
            0x10 => FilterComponent::Ipv4Remote(ip4(0), ip4(4)),
            0x11 => FilterComponent::Ipv4Local(ip4(0), ip4(4)),
            0x21 => FilterComponent::Ipv6Remote(ip6(), v[16]),
            0x23 => FilterComponent::Ipv6Local(ip6(), v[16]),
            0x30 => FilterComponent::Protocol(v[0]),
            0x40 => FilterComponent::LocalPort(u16at(0)),
            0x41 => FilterComponent::LocalPortRange(u16at(0), u16at(2)),
            0x50 => FilterComponent::RemotePort(u16at(0)),
            0x51 => FilterComponent::RemotePortRange(u16at(0), u16at(2)),
            0x60 => FilterComponent::SecurityParameterIndex(u32::from_be_bytes([v[0], v[1], v[2], v[3]])),
            0x70 => FilterComponent::TypeOfService(v[0], v[1]),
            0x80 => FilterComponent::FlowLabel(u32::from_be_bytes([0, v[0], v[1], v[2]])),
            k => FilterComponent::Other {
                kind: *k,
                value: v.to_vec(),
            },
        });
        b = rest.get(need..).unwrap_or(&[]);
    }
    Ok(out)
}

fn write_components(cs: &[FilterComponent], out: &mut Vec<u8>) {
    for c in cs {
        match c {
            FilterComponent::MatchAll => out.push(0x01),
            FilterComponent::Ipv4Remote(a, m) | FilterComponent::Ipv4Local(a, m) => {
                out.push(if matches!(c, FilterComponent::Ipv4Remote(..)) {
                    0x10
                } else {
                    0x11
                });
                out.extend_from_slice(&a.octets());
                out.extend_from_slice(&m.octets());
            }
            FilterComponent::Ipv6Remote(a, p) | FilterComponent::Ipv6Local(a, p) => {
                out.push(if matches!(c, FilterComponent::Ipv6Remote(..)) {
                    0x21
                } else {
                    0x23
                });
                out.extend_from_slice(&a.octets());
                out.push(*p);
            }
            FilterComponent::Protocol(p) => out.extend_from_slice(&[0x30, *p]),
            FilterComponent::LocalPort(p) => {
                out.push(0x40);
                out.extend_from_slice(&p.to_be_bytes());
            }
            FilterComponent::LocalPortRange(l, h) => {
                out.push(0x41);
                out.extend_from_slice(&l.to_be_bytes());
                out.extend_from_slice(&h.to_be_bytes());
            }
            FilterComponent::RemotePort(p) => {
                out.push(0x50);
                out.extend_from_slice(&p.to_be_bytes());
            }
            FilterComponent::RemotePortRange(l, h) => {
                out.push(0x51);
                out.extend_from_slice(&l.to_be_bytes());
                out.extend_from_slice(&h.to_be_bytes());
            }
            FilterComponent::SecurityParameterIndex(s) => {
                out.push(0x60);
                out.extend_from_slice(&s.to_be_bytes());
            }
            FilterComponent::TypeOfService(v, m) => out.extend_from_slice(&[0x70, *v, *m]),
            FilterComponent::FlowLabel(l) => {
                out.push(0x80);
                out.extend_from_slice(&l.to_be_bytes()[1..]);
            }
            FilterComponent::Other { kind, value } => {
                out.push(*kind);
                out.extend_from_slice(value);
            }
        }
    }
}

/// A packet filter of a QoS rule (TS 24.501 §9.11.4.13).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PacketFilter {
    /// Direction (bits 5–6): 0 pre-Rel-7 TFT filter, 1 downlink only, 2 uplink
    /// only, 3 bidirectional.
    pub direction: u8,
    /// Packet filter identifier (bits 1–4).
    pub id: u8,
    /// The filter's components.
    pub components: Vec<FilterComponent>,
}

/// The packet filter list of a QoS rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PacketFilterList {
    /// For "delete packet filters from existing QoS rule": the identifiers.
    Ids(Vec<u8>),
    /// For the other operations: whole filters (empty for "delete existing QoS
    /// rule" and "modify without modifying packet filters").
    Filters(Vec<PacketFilter>),
}

/// One QoS rule (TS 24.501 §9.11.4.13).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QosRule {
    /// QoS rule identifier.
    pub id: u8,
    /// Rule operation code (bits 6–8): 1 create, 2 delete, 3 modify and add
    /// filters, 4 modify and replace filters, 5 modify and delete filters,
    /// 6 modify without modifying filters.
    pub operation: u8,
    /// DQR bit: this is the default QoS rule.
    pub default_rule: bool,
    /// The packet filters.
    pub filters: PacketFilterList,
    /// QoS rule precedence (absent for some operations).
    pub precedence: Option<u8>,
    /// Segregation bit and QFI (present with the precedence).
    pub segregation: bool,
    /// QoS flow identifier (6 bits).
    pub qfi: u8,
}

/// QoS rules (TS 24.501 §9.11.4.13): authorized or requested.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct QosRules(pub Vec<QosRule>);

impl QosRule {
    fn decode(id: u8, b: &[u8]) -> Result<QosRule, Error> {
        let bad = Error::InvalidValue { ie: "QoS rules" };
        let (&h, mut rest) = b.split_first().ok_or(bad.clone())?;
        let operation = h >> 5;
        let default_rule = h & 0x10 != 0;
        let n = usize::from(h & 0x0F);
        let filters = if operation == 5 {
            let ids = rest.get(..n).ok_or(bad.clone())?;
            if ids.iter().any(|i| i & 0xF0 != 0) {
                return Err(bad);
            }
            rest = &rest[n..];
            PacketFilterList::Ids(ids.to_vec())
        } else {
            let mut fs = Vec::with_capacity(n);
            for _ in 0..n {
                let (&fh, r) = rest.split_first().ok_or(bad.clone())?;
                let (&len, r) = r.split_first().ok_or(bad.clone())?;
                let len = usize::from(len);
                let body = r.get(..len).ok_or(bad.clone())?;
                if fh & 0xC0 != 0 {
                    return Err(bad);
                }
                fs.push(PacketFilter {
                    direction: (fh >> 4) & 0x03,
                    id: fh & 0x0F,
                    components: parse_components(body)?,
                });
                rest = &r[len..];
            }
            PacketFilterList::Filters(fs)
        };
        let (precedence, segregation, qfi) = match rest {
            [] => (None, false, 0),
            [p, q] if q & 0x80 == 0 => (Some(*p), q & 0x40 != 0, q & 0x3F),
            _ => return Err(bad),
        };
        Ok(QosRule {
            id,
            operation,
            default_rule,
            filters,
            precedence,
            segregation,
            qfi,
        })
    }

    fn encode_body(&self, out: &mut Vec<u8>) {
        let n = match &self.filters {
            PacketFilterList::Ids(i) => i.len(),
            PacketFilterList::Filters(f) => f.len(),
        };
        out.push(((self.operation & 0x07) << 5) | (u8::from(self.default_rule) << 4) | (n.min(15) as u8));
        match &self.filters {
            PacketFilterList::Ids(ids) => {
                out.extend(ids.iter().take(15).map(|i| i & 0x0F));
            }
            PacketFilterList::Filters(fs) => {
                for f in fs.iter().take(15) {
                    out.push(((f.direction & 0x03) << 4) | (f.id & 0x0F));
                    let mut c = Vec::new();
                    write_components(&f.components, &mut c);
                    out.push(c.len().min(255) as u8);
                    out.extend_from_slice(&c[..c.len().min(255)]);
                }
            }
        }
        if let Some(p) = self.precedence {
            out.push(p);
            out.push((u8::from(self.segregation) << 6) | (self.qfi & 0x3F));
        }
    }
}

impl IeValue for QosRules {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = Error::InvalidValue { ie: "QoS rules" };
        let mut out = Vec::new();
        let mut rest = v;
        while let [id, l0, l1, tail @ ..] = rest {
            let len = usize::from(u16::from_be_bytes([*l0, *l1]));
            let body = tail.get(..len).ok_or(bad.clone())?;
            out.push(QosRule::decode(*id, body)?);
            rest = &tail[len..];
        }
        if !rest.is_empty() {
            return Err(bad);
        }
        Ok(QosRules(out))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for r in &self.0 {
            let mut body = Vec::new();
            r.encode_body(&mut body);
            out.push(r.id);
            out.extend_from_slice(&(body.len() as u16).to_be_bytes());
            out.extend_from_slice(&body);
        }
    }
}

// ---------------------------------------------------------------- QoS flow descriptions

/// One parameter of a QoS flow description (TS 24.501 Table 9.11.4.12.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QosFlowParameter {
    /// 0x01 5QI.
    FiveQi(u8),
    /// 0x02 GFBR uplink.
    GfbrUplink(BitRate),
    /// 0x03 GFBR downlink.
    GfbrDownlink(BitRate),
    /// 0x04 MFBR uplink.
    MfbrUplink(BitRate),
    /// 0x05 MFBR downlink.
    MfbrDownlink(BitRate),
    /// 0x06 averaging window, milliseconds.
    AveragingWindow(u16),
    /// 0x07 EPS bearer identity (bits 5–8 of the octet).
    EpsBearerIdentity(u8),
    /// Any other parameter, or a known one with an unexpected length.
    Other {
        /// Parameter identifier.
        id: u8,
        /// Parameter contents.
        value: Vec<u8>,
    },
}

/// One QoS flow description (TS 24.501 §9.11.4.12).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QosFlowDescription {
    /// QoS flow identifier (6 bits).
    pub qfi: u8,
    /// Operation code (bits 6–8): 1 create, 2 delete, 3 modify.
    pub operation: u8,
    /// E bit: for create, parameters list is included; for modify, replace all.
    pub e_bit: bool,
    /// The parameters.
    pub parameters: Vec<QosFlowParameter>,
}

/// QoS flow descriptions (TS 24.501 §9.11.4.12).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct QosFlowDescriptions(pub Vec<QosFlowDescription>);

impl IeValue for QosFlowDescriptions {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = Error::InvalidValue {
            ie: "QoS flow descriptions",
        };
        let mut out = Vec::new();
        let mut rest = v;
        while !rest.is_empty() {
            let [q, op, e, tail @ ..] = rest else {
                return Err(bad);
            };
            if q & 0xC0 != 0 || op & 0x1F != 0 || e & 0x80 != 0 {
                return Err(bad);
            }
            let mut t = tail;
            let mut parameters = Vec::new();
            for _ in 0..(e & 0x3F) {
                let [id, len, r @ ..] = t else {
                    return Err(bad);
                };
                let len = usize::from(*len);
                let c = r.get(..len).ok_or(bad.clone())?;
                parameters.push(match (id, c) {
                    (0x01, [x]) => QosFlowParameter::FiveQi(*x),
                    (0x02, [_, _, _]) => QosFlowParameter::GfbrUplink(BitRate::read(c)),
                    (0x03, [_, _, _]) => QosFlowParameter::GfbrDownlink(BitRate::read(c)),
                    (0x04, [_, _, _]) => QosFlowParameter::MfbrUplink(BitRate::read(c)),
                    (0x05, [_, _, _]) => QosFlowParameter::MfbrDownlink(BitRate::read(c)),
                    (0x06, [a, b]) => QosFlowParameter::AveragingWindow(u16::from_be_bytes([*a, *b])),
                    (0x07, [x]) => QosFlowParameter::EpsBearerIdentity(*x),
                    _ => QosFlowParameter::Other {
                        id: *id,
                        value: c.to_vec(),
                    },
                });
                t = &r[len..];
            }
            out.push(QosFlowDescription {
                qfi: q & 0x3F,
                operation: op >> 5,
                e_bit: e & 0x40 != 0,
                parameters,
            });
            rest = t;
        }
        Ok(QosFlowDescriptions(out))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        for d in &self.0 {
            out.push(d.qfi & 0x3F);
            out.push((d.operation & 0x07) << 5);
            out.push((u8::from(d.e_bit) << 6) | (d.parameters.len().min(63) as u8));
            for p in d.parameters.iter().take(63) {
                let (id, c): (u8, Vec<u8>) = match p {
                    QosFlowParameter::FiveQi(x) => (1, vec![*x]),
                    QosFlowParameter::GfbrUplink(b) => (2, br(b)),
                    QosFlowParameter::GfbrDownlink(b) => (3, br(b)),
                    QosFlowParameter::MfbrUplink(b) => (4, br(b)),
                    QosFlowParameter::MfbrDownlink(b) => (5, br(b)),
                    QosFlowParameter::AveragingWindow(w) => (6, w.to_be_bytes().to_vec()),
                    QosFlowParameter::EpsBearerIdentity(x) => (7, vec![*x]),
                    QosFlowParameter::Other { id, value } => (*id, value.clone()),
                };
                out.push(id);
                out.push(c.len().min(255) as u8);
                out.extend_from_slice(&c[..c.len().min(255)]);
            }
        }
    }
}

fn br(b: &BitRate) -> Vec<u8> {
    let mut v = Vec::with_capacity(3);
    b.write(&mut v);
    v
}

// ---------------------------------------------------------------- (extended) PCO

/// One protocol or container of a PCO (TS 24.008 §10.5.6.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PcoItem {
    /// Protocol or container identifier (e.g. 0x000D DNS server IPv4 address
    /// request, 0x0010 IPv4 link MTU request, 0x000A IP address allocation via NAS).
    pub id: u16,
    /// The contents.
    pub contents: Vec<u8>,
}

/// Extended protocol configuration options (TS 24.501 §9.11.4.6, contents as
/// TS 24.008 §10.5.6.3): one octet of extension bit and configuration protocol,
/// then protocol / container items with a one-octet length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtendedPco {
    /// Octet 4: extension bit (8), spare (5–7), configuration protocol (1–3).
    pub header: u8,
    /// The items, in order.
    pub items: Vec<PcoItem>,
}

impl ExtendedPco {
    /// The first item with identifier `id`.
    pub fn item(&self, id: u16) -> Option<&PcoItem> {
        self.items.iter().find(|i| i.id == id)
    }
}

impl IeValue for ExtendedPco {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = Error::InvalidValue {
            ie: "Extended protocol configuration options",
        };
        let (&header, mut rest) = v.split_first().ok_or(bad.clone())?;
        let mut items = Vec::new();
        while !rest.is_empty() {
            let [a, b, n, tail @ ..] = rest else {
                return Err(bad);
            };
            let n = usize::from(*n);
            let contents = tail.get(..n).ok_or(bad.clone())?;
            items.push(PcoItem {
                id: u16::from_be_bytes([*a, *b]),
                contents: contents.to_vec(),
            });
            rest = &tail[n..];
        }
        Ok(ExtendedPco { header, items })
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.header);
        for i in &self.items {
            out.extend_from_slice(&i.id.to_be_bytes());
            let n = i.contents.len().min(255);
            out.push(n as u8);
            out.extend_from_slice(&i.contents[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dnn_labels() {
        // TS 23.003 §9.1: "internet" → 08 'i' 'n' 't' 'e' 'r' 'n' 'e' 't'
        let d = Dnn::from_name("ims.mnc001");
        assert_eq!(d.0, b"\x03ims\x06mnc001");
        assert_eq!(d.name(), "ims.mnc001");
        assert!(Dnn::decode(b"\x09internet").is_err());
        assert!(Dnn::decode(b"\x00").is_err());
    }

    #[test]
    fn session_ambr_units() {
        // 0x06 = 1 Mbps units: 100 Mbps DL; 0x04 = 64 kbps units
        let a = SessionAmbr::decode(&[0x06, 0x00, 0x64, 0x04, 0x00, 0x02]).unwrap();
        assert_eq!(a.downlink.bps(), Some(100_000_000));
        assert_eq!(a.uplink.bps(), Some(128_000));
        assert!(SessionAmbr::decode(&[0x06, 0x00]).is_err());
    }

    #[test]
    fn extended_pco_items() {
        // UERANSIM's request: protocol 0 with ext bit, IP address allocation via
        // NAS (000A) and DNS server IPv4 address request (000D), both empty
        let p = ExtendedPco::decode(&[0x80, 0x00, 0x0a, 0x00, 0x00, 0x0d, 0x00]).unwrap();
        assert_eq!(p.header, 0x80);
        assert!(p.item(0x000d).is_some_and(|i| i.contents.is_empty()));
        assert_eq!(p.to_bytes(), [0x80, 0x00, 0x0a, 0x00, 0x00, 0x0d, 0x00]);
        assert!(ExtendedPco::decode(&[0x80, 0x00, 0x0d, 0x04, 8]).is_err());
    }

    #[test]
    fn pdu_address_forms() {
        let v4 = PduAddress::decode(&[0x01, 10, 45, 0, 2]).unwrap();
        assert_eq!(v4.value, PduAddressValue::Ipv4(Ipv4Addr::new(10, 45, 0, 2)));
        let v6 = [0x02, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(matches!(
            PduAddress::decode(&v6).unwrap().value,
            PduAddressValue::Ipv6(_)
        ));
        let v46 = [0x03, 0, 0, 0, 0, 0, 0, 0, 1, 10, 0, 0, 1];
        let a = PduAddress::decode(&v46).unwrap();
        assert_eq!(a.to_bytes(), v46);
        assert!(PduAddress::decode(&[0x01, 10]).is_err());
    }
}
