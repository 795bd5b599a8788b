//! The subscriber record the UDR keeps, and its stored (versioned JSON) form.
//!
//! One record per SUPI: the long-term key K and OPc for MILENAGE (TS 35.206), the
//! AMF field (TS 33.102 §6.3.2), the HE sequence number SQN_HE (TS 33.102 Annex C), and
//! the subscription data the AMF and SMF need: allowed S-NSSAIs (TS 23.003 §28.4.2), DNNs
//! and the session AMBR (TS 23.501 §5.7.2.6).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::sqn::SQN_MAX;

/// A SUPI of type IMSI (TS 23.003 §2.2): MCC ‖ MNC ‖ MSIN, 5 to 15 decimal digits.
///
/// Displayed as the bare digits; [`Imsi::supi`] gives the `imsi-` form of TS 29.571.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Imsi(String);

impl Imsi {
    /// Parse `001010000000001` or `imsi-001010000000001`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let digits = s.strip_prefix("imsi-").unwrap_or(s);
        let bad = |reason| Error::BadImsi {
            imsi: s.to_owned(),
            reason,
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("only decimal digits are allowed"));
        }
        if !(5..=15).contains(&digits.len()) {
            return Err(bad("an IMSI has 5 to 15 digits (MCC + MNC + MSIN)"));
        }
        Ok(Self(digits.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SUPI string of TS 29.571 §5.3.2: `imsi-<digits>`.
    pub fn supi(&self) -> String {
        format!("imsi-{}", self.0)
    }
}

impl fmt::Display for Imsi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An S-NSSAI (TS 23.003 §28.4.2): slice/service type and optional slice differentiator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snssai {
    /// SST, 0..=255 (1 = eMBB, TS 23.501 §5.15.2.2).
    pub sst: u8,
    /// SD, 24 bits; `None` means "no SD" (the spec's 0xFFFFFF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<u32>,
}

impl Snssai {
    /// Parse `1`, `1:010203` or `1:0x010203` (SST decimal, SD six hex digits).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = |reason: &str| Error::bad_key("S-NSSAI", format!("{s:?}: {reason}"));
        let (sst, sd) = match s.split_once(':') {
            Some((sst, sd)) => (sst, Some(sd)),
            None => (s, None),
        };
        let sst: u8 = sst.trim().parse().map_err(|_| bad("SST must be a number 0..255"))?;
        let sd = match sd {
            None => None,
            Some(sd) => Some(parse_sd(sd).ok_or_else(|| bad("SD must be six hex digits"))?),
        };
        Ok(Self { sst, sd })
    }
}

/// SD as six hex digits (optionally `0x`-prefixed); `ffffff` means "no SD".
pub(crate) fn parse_sd(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

impl fmt::Display for Snssai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sd {
            Some(sd) => write!(f, "{}:{sd:06x}", self.sst),
            None => write!(f, "{}", self.sst),
        }
    }
}

/// Session AMBR (TS 23.501 §5.7.2.6), in bits per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ambr {
    /// Uplink, bit/s.
    pub uplink_bps: u64,
    /// Downlink, bit/s.
    pub downlink_bps: u64,
}

impl Default for Ambr {
    /// 1 Gbit/s each way, as mature cores provision by default.
    fn default() -> Self {
        Self {
            uplink_bps: 1_000_000_000,
            downlink_bps: 1_000_000_000,
        }
    }
}

/// Parse a bit rate: `1000000`, `64kbps`, `100Mbps`, `1Gbps`, `2Tbps` (case-insensitive;
/// a bare number is bit/s).
pub fn parse_bitrate(s: &str) -> Result<u64, Error> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = [
        ("tbps", 1_000_000_000_000u64),
        ("gbps", 1_000_000_000),
        ("mbps", 1_000_000),
        ("kbps", 1_000),
        ("bps", 1),
    ]
    .iter()
    .find_map(|(suffix, m)| t.strip_suffix(suffix).map(|n| (n.trim().to_owned(), *m)))
    .unwrap_or((t.clone(), 1));
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| Error::bad_key("AMBR", format!("{s:?}: expected e.g. 1Gbps, 100Mbps, 64kbps")))
}

/// Render a bit rate with the largest exact unit.
pub fn format_bitrate(bps: u64) -> String {
    for (suffix, m) in [
        ("Tbps", 1_000_000_000_000u64),
        ("Gbps", 1_000_000_000),
        ("Mbps", 1_000_000),
        ("kbps", 1_000),
    ] {
        if bps >= m && bps.is_multiple_of(m) {
            return format!("{}{suffix}", bps / m);
        }
    }
    format!("{bps}bps")
}

/// How OPc was provisioned: given directly, or derived from OP at add time
/// (OPc = OP ⊕ E_K(OP), TS 35.206 §4.1). OP itself is never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpcSource {
    /// OPc was given.
    Opc,
    /// OP was given and converted.
    Op,
}

/// A subscriber's primary authentication method (TS 33.501 §6.1.2: the UDM chooses it
/// from the subscription).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AuthMethod {
    /// 5G AKA (TS 33.501 §6.1.3.2).
    #[default]
    #[serde(rename = "5g-aka")]
    FiveGAka,
    /// EAP-AKA' (TS 33.501 §6.1.3.1, RFC 9048).
    #[serde(rename = "eap-aka-prime")]
    EapAkaPrime,
}

impl AuthMethod {
    /// `5g-aka` or `eap-aka-prime`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "5g-aka" | "5g_aka" => Ok(AuthMethod::FiveGAka),
            "eap-aka-prime" | "eap-aka'" | "eap_aka_prime" => Ok(AuthMethod::EapAkaPrime),
            _ => Err(Error::bad_key(
                "authentication method",
                "expected 5g-aka or eap-aka-prime",
            )),
        }
    }

    /// The name [`AuthMethod::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::FiveGAka => "5g-aka",
            AuthMethod::EapAkaPrime => "eap-aka-prime",
        }
    }
}

/// The AMF field used when none is given (separation bit set, TS 33.102 Annex H).
pub const DEFAULT_AMF: [u8; 2] = [0x80, 0x00];

/// The DNN used when none is given.
pub const DEFAULT_DNN: &str = "internet";

/// One subscriber as provisioned.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// SUPI (IMSI).
    pub imsi: Imsi,
    /// Long-term key K.
    pub k: [u8; 16],
    /// Operator variant OPc.
    pub opc: [u8; 16],
    /// Whether OPc was given or derived from OP.
    pub opc_source: OpcSource,
    /// Authentication management field (TS 33.102 §6.3.2).
    pub amf: [u8; 2],
    /// SQN_HE, 48 bits (TS 33.102 Annex C): the SQN of the last vector issued.
    pub sqn: u64,
    /// Allowed (subscribed) S-NSSAIs.
    pub nssai: Vec<Snssai>,
    /// Subscribed DNNs.
    pub dnns: Vec<String>,
    /// Session AMBR.
    pub ambr: Ambr,
    /// Primary authentication method.
    pub auth_method: AuthMethod,
}

impl fmt::Debug for Subscriber {
    /// Never prints K or OPc in full.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("imsi", &self.imsi.as_str())
            .field("k", &mask(&self.k))
            .field("opc", &mask(&self.opc))
            .field("opc_source", &self.opc_source)
            .field("amf", &hex(&self.amf))
            .field("sqn", &format_args!("{:012x}", self.sqn))
            .field("nssai", &self.nssai)
            .field("dnns", &self.dnns)
            .field("ambr", &self.ambr)
            .field("auth_method", &self.auth_method.as_str())
            .finish()
    }
}

/// Everything the `add` command and the CSV import accept, before validation.
#[derive(Debug, Clone, Default)]
pub struct NewSubscriber<'a> {
    /// IMSI digits (or `imsi-…`).
    pub imsi: &'a str,
    /// K, 32 hex digits.
    pub k: &'a str,
    /// OPc, 32 hex digits (exactly one of `opc` / `op`).
    pub opc: Option<&'a str>,
    /// OP, 32 hex digits.
    pub op: Option<&'a str>,
    /// AMF field, 4 hex digits (default 8000).
    pub amf: Option<&'a str>,
    /// Initial SQN_HE, up to 12 hex digits (see [`parse_sqn`]); default 0.
    pub sqn: Option<&'a str>,
    /// S-NSSAIs (default SST 1 without SD).
    pub nssai: Vec<Snssai>,
    /// DNNs (default `internet`).
    pub dnns: Vec<String>,
    /// Session AMBR (default 1 Gbit/s each way).
    pub ambr: Option<Ambr>,
    /// `5g-aka` (default) or `eap-aka-prime`.
    pub auth_method: Option<&'a str>,
}

impl NewSubscriber<'_> {
    /// Validate every field and derive OPc from OP if OP was given.
    pub fn build(&self) -> Result<Subscriber, Error> {
        let imsi = Imsi::parse(self.imsi)?;
        let k = parse_key("K", self.k)?;
        let (opc, opc_source) = match (self.opc, self.op) {
            (Some(opc), None) => (parse_key("OPc", opc)?, OpcSource::Opc),
            (None, Some(op)) => {
                let op = parse_key("OP", op)?;
                (hexcore_security::milenage::opc_from_op(&k, &op), OpcSource::Op)
            }
            (Some(_), Some(_)) => {
                return Err(Error::bad_key("OPc", "give either OPc or OP, not both"));
            }
            (None, None) => return Err(Error::bad_key("OPc", "OPc or OP is required")),
        };
        let amf = match self.amf {
            Some(a) => parse_hex_array::<2>("AMF", a)?,
            None => DEFAULT_AMF,
        };
        let sqn = match self.sqn {
            Some(s) => parse_sqn(s)?,
            None => 0,
        };
        let nssai = if self.nssai.is_empty() {
            vec![Snssai { sst: 1, sd: None }]
        } else {
            self.nssai.clone()
        };
        let dnns = if self.dnns.is_empty() {
            vec![DEFAULT_DNN.to_owned()]
        } else {
            for d in &self.dnns {
                validate_dnn(d)?;
            }
            self.dnns.clone()
        };
        Ok(Subscriber {
            imsi,
            k,
            opc,
            opc_source,
            amf,
            sqn,
            nssai,
            dnns,
            ambr: self.ambr.unwrap_or_default(),
            auth_method: self.auth_method.map(AuthMethod::parse).transpose()?.unwrap_or_default(),
        })
    }
}

/// A DNN is an APN-like name (TS 23.003 §9.1): labels of letters, digits and hyphens
/// separated by dots, at most 100 octets (TS 23.003 §9.1.1).
pub fn validate_dnn(d: &str) -> Result<(), Error> {
    let ok = !d.is_empty()
        && d.len() <= 100
        && d.split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::bad_key(
            "DNN",
            format!("{d:?}: labels of letters, digits and '-' separated by '.'"),
        ))
    }
}

/// Parse a 128-bit key (K, OP, OPc) from 32 hex digits (spaces and `:` ignored).
pub fn parse_key(what: &'static str, s: &str) -> Result<[u8; 16], Error> {
    parse_hex_array::<16>(what, s)
}

fn parse_hex_array<const N: usize>(what: &'static str, s: &str) -> Result<[u8; N], Error> {
    let cleaned: String = s
        .trim()
        .trim_start_matches("0x")
        .chars()
        .filter(|c| !matches!(c, ' ' | ':'))
        .collect();
    let bytes =
        unhex(&cleaned).ok_or_else(|| Error::bad_key(what, format!("expected {} hex digits, got {:?}", 2 * N, s)))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| Error::bad_key(what, format!("expected {} hex digits, got {}", 2 * N, 2 * b.len())))
}

/// SQN as up to 12 hex digits (`0x` optional), 48 bits (TS 33.102 §6.3.2).
pub fn parse_sqn(s: &str) -> Result<u64, Error> {
    let t = s.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    if t.is_empty() || t.len() > 12 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::bad_key(
            "SQN",
            format!("{s:?}: expected up to 12 hex digits (48 bits)"),
        ));
    }
    let v = u64::from_str_radix(t, 16).map_err(|e| Error::bad_key("SQN", e.to_string()))?;
    debug_assert!(v <= SQN_MAX);
    Ok(v)
}

/// A key with only its first and last two octets shown: `46 5b…a6 bc`.
pub fn mask(key: &[u8]) -> String {
    match (key.get(..2), key.len().checked_sub(2).and_then(|n| key.get(n..))) {
        (Some(a), Some(b)) if key.len() >= 8 => {
            format!("{:02x} {:02x}…{:02x} {:02x}", a[0], a[1], b[0], b[1])
        }
        _ => "…".to_owned(),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Stored form. Versioned so that a later layout can read (and migrate) old records.

/// Current record layout version.
pub(crate) const RECORD_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct RecordV1 {
    version: u32,
    imsi: String,
    k: String,
    opc: String,
    opc_source: OpcSource,
    amf: String,
    /// 12 hex digits.
    sqn: String,
    nssai: Vec<Snssai>,
    dnns: Vec<String>,
    ambr: Ambr,
    /// Absent in records written before EAP-AKA' existed: 5G AKA.
    #[serde(default)]
    auth_method: AuthMethod,
}

impl Subscriber {
    /// Encode for the store (JSON with a version field).
    pub fn encode(&self) -> Vec<u8> {
        let r = RecordV1 {
            version: RECORD_VERSION,
            imsi: self.imsi.0.clone(),
            k: hex(&self.k),
            opc: hex(&self.opc),
            opc_source: self.opc_source,
            amf: hex(&self.amf),
            sqn: format!("{:012x}", self.sqn),
            nssai: self.nssai.clone(),
            dnns: self.dnns.clone(),
            ambr: self.ambr,
            auth_method: self.auth_method,
        };
        serde_json::to_vec(&r).expect("invariant: a record of strings, integers and lists always serialises")
    }

    /// Decode a stored record; `key` names it in errors.
    pub fn decode(key: &str, bytes: &[u8]) -> Result<Self, Error> {
        let corrupt = |reason: String| Error::Corrupt {
            key: key.to_owned(),
            reason,
        };
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let v: Version = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        if v.version != RECORD_VERSION {
            return Err(corrupt(format!("unknown record version {}", v.version)));
        }
        let r: RecordV1 = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        let field = |e: Error| corrupt(e.to_string());
        Ok(Subscriber {
            imsi: Imsi::parse(&r.imsi).map_err(field)?,
            k: parse_key("K", &r.k).map_err(field)?,
            opc: parse_key("OPc", &r.opc).map_err(field)?,
            opc_source: r.opc_source,
            amf: parse_hex_array::<2>("AMF", &r.amf).map_err(field)?,
            sqn: parse_sqn(&r.sqn).map_err(field)?,
            nssai: r.nssai,
            dnns: r.dnns,
            ambr: r.ambr,
            auth_method: r.auth_method,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Subscriber {
        // TS 35.208 §4.3 test set 1: K and OP (OPc cd63cb71954a9f4e48a5994e37a02baf).
        NewSubscriber {
            imsi: "001010000000001",
            k: "465b5ce8b199b49faa5f0a2ee238a6bc",
            op: Some("cdc202d5123e20f62b6d676ac72cb318"),
            amf: Some("b9b9"),
            sqn: Some("ff9bb4d0b607"),
            nssai: vec![Snssai::parse("1:010203").unwrap(), Snssai::parse("2").unwrap()],
            dnns: vec!["internet".into(), "ims".into()],
            ambr: Some(Ambr {
                uplink_bps: 100_000_000,
                downlink_bps: 1_000_000_000,
            }),
            ..Default::default()
        }
        .build()
        .unwrap()
    }

    #[test]
    fn op_is_converted_to_opc_at_add_time() {
        // TS 35.208 §4.3 test set 1: OPc = cd63cb71954a9f4e48a5994e37a02baf.
        let s = sample();
        assert_eq!(hex(&s.opc), "cd63cb71954a9f4e48a5994e37a02baf");
        assert_eq!(s.opc_source, OpcSource::Op);
        assert_eq!(s.amf, [0xb9, 0xb9]);
        assert_eq!(s.sqn, 0xff9b_b4d0_b607);
    }

    #[test]
    fn record_round_trip() {
        let s = sample();
        let bytes = s.encode();
        assert_eq!(Subscriber::decode("x", &bytes).unwrap(), s);
    }

    #[test]
    fn record_decodes_known_v1_bytes() {
        // Hand-written v1 record (the layout this file documents).
        static V1: &[u8] = br#"{"version":1,"imsi":"999700000000001","k":"00112233445566778899aabbccddeeff","opc":"62e75b8d6fa5bf46ec87a9276f9df54d","opc_source":"opc","amf":"8000","sqn":"000000000021","nssai":[{"sst":1}],"dnns":["internet"],"ambr":{"uplink_bps":5,"downlink_bps":6}}"#;
        let s = Subscriber::decode("x", V1).unwrap();
        assert_eq!(s.imsi.as_str(), "999700000000001");
        assert_eq!(s.k[0], 0x00);
        assert_eq!(s.opc[15], 0x4d);
        assert_eq!(s.amf, [0x80, 0]);
        assert_eq!(s.sqn, 0x21);
        assert_eq!(s.nssai, vec![Snssai { sst: 1, sd: None }]);
        assert_eq!(s.ambr.downlink_bps, 6);
    }

    #[test]
    fn record_rejects_unknown_version_and_garbage() {
        assert!(matches!(
            Subscriber::decode("x", br#"{"version":2}"#),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            Subscriber::decode("x", b"\xff\x00"),
            Err(Error::Corrupt { .. })
        ));
        let mut bad = sample().encode();
        // Corrupt the K field's length.
        let s = String::from_utf8(bad.clone()).unwrap().replace("465b5ce8", "465b");
        bad = s.into_bytes();
        assert!(matches!(Subscriber::decode("x", &bad), Err(Error::Corrupt { .. })));
    }

    #[test]
    fn imsi_validation() {
        assert_eq!(Imsi::parse("imsi-001010000000001").unwrap().as_str(), "001010000000001");
        assert!(Imsi::parse("0010").is_err());
        assert!(Imsi::parse("0010100000000012").is_err());
        assert!(Imsi::parse("00101abc").is_err());
        assert!(Imsi::parse("").is_err());
    }

    #[test]
    fn key_validation() {
        let mut n = NewSubscriber {
            imsi: "001010000000001",
            k: "465b5ce8b199b49faa5f0a2ee238a6",
            opc: Some("cd63cb71954a9f4e48a5994e37a02baf"),
            ..Default::default()
        };
        assert!(matches!(n.build(), Err(Error::BadKey { what: "K", .. })));
        n.k = "465b5ce8b199b49faa5f0a2ee238a6bz";
        assert!(matches!(n.build(), Err(Error::BadKey { what: "K", .. })));
        n.k = "465b5ce8b199b49faa5f0a2ee238a6bc";
        n.op = Some("cdc202d5123e20f62b6d676ac72cb318");
        assert!(matches!(n.build(), Err(Error::BadKey { what: "OPc", .. })));
        n.op = None;
        let s = n.build().unwrap();
        assert_eq!(s.opc_source, OpcSource::Opc);
        assert_eq!(s.amf, DEFAULT_AMF);
        assert_eq!(s.dnns, vec!["internet".to_owned()]);
        assert!(parse_sqn("1000000000000").is_err());
        assert_eq!(parse_sqn("0x20").unwrap(), 0x20);
    }

    #[test]
    fn nssai_and_bitrates() {
        assert_eq!(
            Snssai::parse("1:010203").unwrap(),
            Snssai {
                sst: 1,
                sd: Some(0x010203)
            }
        );
        assert_eq!(Snssai::parse("1").unwrap().to_string(), "1");
        assert_eq!(Snssai::parse("1:0x0000ff").unwrap().to_string(), "1:0000ff");
        assert!(Snssai::parse("256").is_err());
        assert!(Snssai::parse("1:01020").is_err());
        assert_eq!(parse_bitrate("100Mbps").unwrap(), 100_000_000);
        assert_eq!(parse_bitrate("64 kbps").unwrap(), 64_000);
        assert_eq!(parse_bitrate("12345").unwrap(), 12_345);
        assert!(parse_bitrate("fast").is_err());
        assert_eq!(format_bitrate(1_000_000_000), "1Gbps");
        assert_eq!(format_bitrate(1_500_000), "1500kbps");
        assert!(validate_dnn("internet.mnc001").is_ok());
        assert!(validate_dnn("bad dnn").is_err());
    }

    #[test]
    fn keys_are_masked() {
        let s = sample();
        assert_eq!(mask(&s.k), "46 5b…a6 bc");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("465b5ce8b199b49faa5f0a2ee238a6bc"));
        assert!(!dbg.contains("cd63cb71954a9f4e48a5994e37a02baf"));
    }
}
