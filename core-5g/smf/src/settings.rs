//! The SMF's one `Settings` type, section `[smf]` of the hexcore configuration file.
//! Every key has a default that runs out of the box next to an in-process hexcore UPF
//! on 127.0.0.1:8805: DNN `internet` with pool 10.45.0.0/16, DNS 8.8.8.8 and 1.1.1.1,
//! N4 bound on 127.0.0.1:8806. Environment overrides of the form
//! `HEXCORE_SMF__USAGE__PERIOD_SECS=30` (prefix `HEXCORE_`, path segments separated
//! by `__`, matched case-insensitively) come last. Other sections of the file (`[amf]`,
//! `[upf]`, …) belong to other functions and are ignored here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hexcore_sbi::Snssai;
use serde::{Deserialize, Serialize};

use crate::messages::UrrParams;
use crate::pool::Ipv4Prefix;

pub use hexcore_config::SettingsError;
use hexcore_config::invalid;

/// The SMF's part of the configuration file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `[smf]`.
    pub smf: SmfSettings,
}

/// `[smf]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmfSettings {
    /// N4: where the SMF's PFCP socket binds. PFCP's port 8805 is the UPF's on a
    /// shared host, so the SMF takes 8806 by default; UPFs answer to the source
    /// address of each request and send their own requests to the address the
    /// association came from.
    pub bind: SocketAddr,
    /// PFCP Node ID and the IPv4 address of the CP F-SEIDs; empty: the bind address
    /// (or 127.0.0.1 when binding the unspecified address).
    pub node_id: String,
    /// DNNs served, each with its UE address pool.
    pub dnns: Vec<DnnSettings>,
    /// UPFs to associate with.
    pub upfs: Vec<UpfSettings>,
    /// The DNN used when the UE names none (TS 23.502 §4.3.2.2.1 step 3: the default
    /// DNN of the subscription); it must also be subscribed.
    pub default_dnn: String,
    /// PFCP timers.
    pub pfcp: PfcpSettings,
    /// Usage reporting rules installed in every session.
    pub usage: UsageSettings,
    /// QoS of the default flow and link parameters given to the UE.
    pub qos: QosSettings,
    /// 5GSM timers (TS 24.501 Table 10.3.2).
    pub nas: NasSettings,
}

/// `[[smf.dnns]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnnSettings {
    /// The DNN, e.g. `internet`.
    pub name: String,
    /// UE IPv4 pool; the first host address is the UPF's N6 gateway.
    pub pool: String,
    /// DNS servers announced in the extended PCO (IPv4 and/or IPv6).
    #[serde(default)]
    pub dns: Vec<IpAddr>,
    /// Slices in which the DNN is offered (`sst` or `sst:sd` in hex); empty: all.
    #[serde(default)]
    pub slices: Vec<String>,
}

/// `[[smf.upfs]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpfSettings {
    /// The UPF's PFCP address (port 8805).
    pub address: SocketAddr,
    /// DNNs it serves; empty: all.
    #[serde(default)]
    pub dnns: Vec<String>,
}

/// `[smf.pfcp]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PfcpSettings {
    /// T1, milliseconds (TS 29.244 §6.4).
    pub t1_ms: u64,
    /// N1: retransmissions before giving up.
    pub n1: u32,
    /// Heartbeat Request interval, seconds (TS 29.244 §6.2.2).
    pub heartbeat_interval_secs: u64,
    /// Wait before retrying a failed Association Setup, seconds.
    pub association_retry_secs: u64,
}

/// `[smf.usage]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageSettings {
    /// Periodic report interval (PERIO), seconds; 0 disables periodic reports.
    pub period_secs: u64,
    /// Volume threshold (VOLTH) in octets, total; 0: none.
    pub volume_threshold: u64,
    /// Volume quota (VOLQU) in octets, total; 0: none.
    pub volume_quota: u64,
    /// The JSON-lines record file of the default sink; a relative path is relative to
    /// the data directory `hexcore up` runs with.
    pub record_file: PathBuf,
}

/// `[smf.qos]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QosSettings {
    /// 5QI of the default QoS flow (QFI 1).
    pub five_qi: u8,
    /// ARP priority level, 1..=15.
    pub arp_priority_level: u8,
    /// IPv4 link MTU given in the extended PCO when the UE asks (TS 24.008 §10.5.6.3).
    pub mtu: u16,
}

/// `[smf.nas]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NasSettings {
    /// T3591 (PDU session modification command), milliseconds.
    pub t3591_ms: u64,
    /// T3592 (PDU session release command), milliseconds.
    pub t3592_ms: u64,
    /// Retransmissions before a procedure is abandoned (TS 24.501 §6.3.2.5,
    /// §6.3.3.5: on the fifth expiry).
    pub max_retransmissions: u8,
}

impl Default for SmfSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8806),
            node_id: String::new(),
            dnns: vec![DnnSettings {
                name: "internet".into(),
                pool: "10.45.0.0/16".into(),
                dns: vec![
                    IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)),
                    IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1)),
                ],
                slices: vec![],
            }],
            upfs: vec![UpfSettings {
                address: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8805),
                dnns: vec![],
            }],
            default_dnn: "internet".into(),
            pfcp: PfcpSettings::default(),
            usage: UsageSettings::default(),
            qos: QosSettings::default(),
            nas: NasSettings::default(),
        }
    }
}

impl Default for PfcpSettings {
    fn default() -> Self {
        Self {
            t1_ms: 3000,
            n1: 3,
            heartbeat_interval_secs: 10,
            association_retry_secs: 5,
        }
    }
}

impl Default for UsageSettings {
    fn default() -> Self {
        Self {
            period_secs: 60,
            volume_threshold: 0,
            volume_quota: 0,
            record_file: PathBuf::from("smf-usage.jsonl"),
        }
    }
}

impl Default for QosSettings {
    fn default() -> Self {
        Self {
            five_qi: 9,
            arp_priority_level: 8,
            // 1500 less GTP-U/UDP/IPv4 with a PDU Session Container (8 + 8 + 8 + 20)
            // and room for an IPv6 transport.
            mtu: 1400,
        }
    }
}

impl Default for NasSettings {
    fn default() -> Self {
        Self {
            t3591_ms: 16_000,
            t3592_ms: 16_000,
            max_retransmissions: 4,
        }
    }
}

/// The sections this function owns; `HEXCORE_<OTHER>__…` variables belong to others.
const SECTIONS: [&str; 1] = ["smf"];

impl Settings {
    /// Defaults, then the file if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::from_toml_and_env(&hexcore_config::read(file)?, std::env::vars())
    }

    /// Defaults, then `toml`, then the `HEXCORE_SMF__…` variables among `vars`.
    pub fn from_toml_and_env(
        toml_text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let settings: Settings = hexcore_config::load_sections(toml_text, vars, &SECTIONS)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Check what serde cannot: the settings parse into an [`SmfConfig`].
    pub fn validate(&self) -> Result<(), SettingsError> {
        SmfConfig::new(self).map(drop)
    }

    /// The DNNs, parsed (`hexcore up` routes their pools into the UPF's TUN).
    pub fn dnns(&self) -> Result<Vec<Dnn>, SettingsError> {
        self.smf.dnns.iter().map(DnnSettings::parse).collect()
    }

    /// Where the default usage sink writes, given the data directory.
    pub fn usage_record_path(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&self.smf.usage.record_file)
    }
}

/// The SMF's settings as the core and the glue use them: every value parsed into its
/// type and checked once, by [`SmfConfig::new`]. Nothing else reads [`Settings`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmfConfig {
    /// Where the N4 socket binds.
    pub bind: SocketAddr,
    /// PFCP Node ID and the IPv4 address of the CP F-SEIDs.
    pub node: Ipv4Addr,
    /// DNNs served: at least one, names and pools distinct.
    pub dnns: Vec<Dnn>,
    /// The DNN used when the UE names none, in lower case; `None`: the UE must name one.
    pub default_dnn: Option<String>,
    /// UPFs, in the order of the file (a [`crate::UpfId`] is the place).
    pub upfs: Vec<UpfConfig>,
    /// PFCP timers.
    pub pfcp: PfcpTimers,
    /// What every PDU session runs with.
    pub session: SessionConfig,
    /// The JSON-lines record file of the default sink (relative: to the data directory).
    pub usage_record_file: PathBuf,
}

/// One DNN as the SMF uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dnn {
    /// Name.
    pub name: String,
    /// UE address pool.
    pub pool: Ipv4Prefix,
    /// IPv4 DNS servers.
    pub dns_v4: Vec<Ipv4Addr>,
    /// IPv6 DNS servers.
    pub dns_v6: Vec<Ipv6Addr>,
    /// Slices in which the DNN is offered; empty: all.
    pub slices: Vec<Snssai>,
}

/// One UPF to associate with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpfConfig {
    /// Its PFCP address.
    pub address: SocketAddr,
    /// DNNs it serves (each one of [`SmfConfig::dnns`]); empty: all.
    pub dnns: Vec<String>,
}

impl UpfConfig {
    /// Whether the UPF serves `dnn`.
    pub fn serves(&self, dnn: &str) -> bool {
        self.dnns.is_empty() || self.dnns.iter().any(|d| d == dnn)
    }
}

/// PFCP timers (TS 29.244 §6.4, §6.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PfcpTimers {
    /// T1: wait for a response before retransmitting.
    pub t1: Duration,
    /// N1: retransmissions before giving up.
    pub n1: u32,
    /// Between Heartbeat Requests.
    pub heartbeat_interval: Duration,
    /// Before retrying a failed Association Setup.
    pub association_retry: Duration,
}

impl PfcpTimers {
    /// T1/N1 for the PFCP transaction layer; responses are kept for duplicates until
    /// the peer's last retransmission has come (T1 × (N1 + 1)).
    pub fn transactions(&self) -> hexcore_pfcp::Config {
        hexcore_pfcp::Config {
            t1: self.t1,
            n1: self.n1,
            response_ttl: self.t1 * (self.n1 + 1),
        }
    }
}

/// What every PDU session runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// PFCP Node ID and CP F-SEID address.
    pub node: Ipv4Addr,
    /// QoS of the default flow, link MTU.
    pub qos: Qos,
    /// 5GSM timers.
    pub nas: NasTimers,
    /// The usage reporting rule of every N4 session.
    pub urr: UrrParams,
}

/// QoS of the default QoS flow (QFI 1) and the link MTU given to the UE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Qos {
    /// 5QI.
    pub five_qi: u8,
    /// ARP priority level, 1..=15.
    pub arp_priority_level: u8,
    /// IPv4 link MTU (TS 24.008 §10.5.6.3), at least 576.
    pub mtu: u16,
}

/// 5GSM timers of the network side (TS 24.501 Table 10.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NasTimers {
    /// T3591: PDU SESSION MODIFICATION COMMAND.
    pub t3591: Duration,
    /// T3592: PDU SESSION RELEASE COMMAND.
    pub t3592: Duration,
    /// Retransmissions before a procedure is abandoned (TS 24.501 §6.3.2.5, §6.3.3.5:
    /// on the fifth expiry).
    pub max_retransmissions: u8,
}

impl SmfConfig {
    /// Parse and check `settings`; an error names the key.
    pub fn new(settings: &Settings) -> Result<Self, SettingsError> {
        let s = &settings.smf;
        let node = node_ipv4(s)?;
        let dnns = settings.dnns()?;
        if dnns.is_empty() {
            return invalid("smf.dnns", "at least one DNN");
        }
        for (i, d) in dnns.iter().enumerate() {
            if dnns[..i].iter().any(|o| o.name == d.name) {
                return invalid("smf.dnns.name", &format!("DNN {:?} twice", d.name));
            }
            for o in &dnns[..i] {
                if o.pool.contains(d.pool.network) || d.pool.contains(o.pool.network) {
                    return invalid(
                        "smf.dnns.pool",
                        &format!("pools of {:?} and {:?} overlap", o.name, d.name),
                    );
                }
            }
        }
        if s.upfs.is_empty() {
            return invalid("smf.upfs", "at least one UPF");
        }
        let upfs = s
            .upfs
            .iter()
            .map(|u| match u.dnns.iter().find(|d| !dnns.iter().any(|x| &x.name == *d)) {
                Some(d) => invalid(
                    "smf.upfs.dnns",
                    &format!("UPF {} serves DNN {d:?}, which is not in smf.dnns", u.address),
                ),
                None => Ok(UpfConfig {
                    address: u.address,
                    dnns: u.dnns.clone(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pfcp = PfcpTimers {
            t1: Duration::from_millis(positive("smf.pfcp.t1_ms", s.pfcp.t1_ms)?),
            n1: s.pfcp.n1,
            heartbeat_interval: Duration::from_secs(positive(
                "smf.pfcp.heartbeat_interval_secs",
                s.pfcp.heartbeat_interval_secs,
            )?),
            association_retry: Duration::from_secs(positive(
                "smf.pfcp.association_retry_secs",
                s.pfcp.association_retry_secs,
            )?),
        };
        if !(1..=15).contains(&s.qos.arp_priority_level) {
            return invalid("smf.qos.arp_priority_level", "1 to 15");
        }
        if s.qos.mtu < 576 {
            return invalid("smf.qos.mtu", "at least 576 (RFC 791)");
        }
        let nas = NasTimers {
            t3591: Duration::from_millis(positive("smf.nas.t3591_ms", s.nas.t3591_ms)?),
            t3592: Duration::from_millis(positive("smf.nas.t3592_ms", s.nas.t3592_ms)?),
            max_retransmissions: s.nas.max_retransmissions,
        };
        Ok(SmfConfig {
            bind: s.bind,
            node,
            dnns,
            default_dnn: (!s.default_dnn.is_empty()).then(|| s.default_dnn.to_ascii_lowercase()),
            upfs,
            pfcp,
            session: SessionConfig {
                node,
                qos: Qos {
                    five_qi: s.qos.five_qi,
                    arp_priority_level: s.qos.arp_priority_level,
                    mtu: s.qos.mtu,
                },
                nas,
                urr: UrrParams {
                    period: Duration::from_secs(s.usage.period_secs),
                    volume_threshold: s.usage.volume_threshold,
                    volume_quota: s.usage.volume_quota,
                },
            },
            usage_record_file: s.usage.record_file.clone(),
        })
    }

    /// The served DNN named `name` (exactly; the caller folds case).
    pub fn dnn(&self, name: &str) -> Option<&Dnn> {
        self.dnns.iter().find(|d| d.name == name)
    }
}

/// The Node ID / F-SEID address: `node_id`, else the bind address (127.0.0.1 when
/// binding the unspecified address).
fn node_ipv4(s: &SmfSettings) -> Result<Ipv4Addr, SettingsError> {
    if s.node_id.is_empty() {
        return Ok(match s.bind.ip() {
            IpAddr::V4(a) if !a.is_unspecified() => a,
            _ => Ipv4Addr::LOCALHOST,
        });
    }
    s.node_id.parse().map_err(|_| SettingsError::Invalid {
        key: "smf.node_id",
        reason: format!("{:?} is not an IPv4 address", s.node_id),
    })
}

/// A timer value that must not be zero.
fn positive(key: &'static str, value: u64) -> Result<u64, SettingsError> {
    if value == 0 {
        return invalid(key, "must be positive");
    }
    Ok(value)
}

impl DnnSettings {
    fn parse(&self) -> Result<Dnn, SettingsError> {
        let d = self;
        if d.name.is_empty() || d.name.len() > 100 {
            return invalid("smf.dnns.name", &format!("{:?}: 1 to 100 characters", d.name));
        }
        let pool = Ipv4Prefix::parse(&d.pool).map_err(|reason| SettingsError::Invalid {
            key: "smf.dnns.pool",
            reason: format!("DNN {:?}: {reason}", d.name),
        })?;
        if pool.len > 30 {
            return invalid("smf.dnns.pool", &format!("DNN {:?}: a prefix of /30 or wider", d.name));
        }
        let slices = d
            .slices
            .iter()
            .map(|s| parse_slice(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| SettingsError::Invalid {
                key: "smf.dnns.slices",
                reason: format!("DNN {:?}: {reason}", d.name),
            })?;
        Ok(Dnn {
            name: d.name.clone(),
            pool,
            dns_v4: d
                .dns
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V4(a) => Some(*a),
                    IpAddr::V6(_) => None,
                })
                .collect(),
            dns_v6: d
                .dns
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V6(a) => Some(*a),
                    IpAddr::V4(_) => None,
                })
                .collect(),
            slices,
        })
    }
}

/// An S-NSSAI: `1` or `1:010203` (SD as six hex digits).
fn parse_slice(s: &str) -> Result<Snssai, String> {
    let (sst, sd) = match s.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let sst: u8 = sst.trim().parse().map_err(|_| format!("{s:?}: SST is 0..=255"))?;
    let sd = match sd {
        None => None,
        Some(sd) => {
            let sd = sd.trim().trim_start_matches("0x");
            let v = u32::from_str_radix(sd, 16).map_err(|_| format!("{s:?}: SD is six hex digits"))?;
            if sd.len() != 6 {
                return Err(format!("{s:?}: SD is six hex digits"));
            }
            Some(v)
        }
    };
    Ok(Snssai { sst, sd })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_run_out_of_the_box() {
        let s = Settings::from_toml_and_env("", env(&[])).unwrap();
        assert_eq!(s, Settings::default());
        let c = SmfConfig::new(&s).unwrap();
        assert_eq!(c.node, Ipv4Addr::LOCALHOST);
        let d = &c.dnns[0];
        assert_eq!(d.name, "internet");
        assert_eq!(d.pool.to_string(), "10.45.0.0/16");
        assert_eq!(d.dns_v4, [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(1, 1, 1, 1)]);
        assert_eq!(c.default_dnn.as_deref(), Some("internet"));
        assert_eq!(c.upfs[0].address.port(), 8805);
        assert_ne!(c.bind.port(), 8805);
        assert_eq!(c.session.urr.period, Duration::from_secs(60));
        assert_eq!(c.session.nas.t3591, Duration::from_secs(16));
        assert_eq!(c.pfcp.transactions().response_ttl, Duration::from_secs(12));
        assert_eq!(s.dnns().unwrap(), c.dnns);
    }

    #[test]
    fn readme_example_parses_among_other_sections() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\n").unwrap() + 8;
        let end = start + readme[start..].find("```").unwrap();
        let text = format!("[amf]\nname = \"x\"\n\n{}", &readme[start..end]);
        let s = Settings::from_toml_and_env(&text, env(&[])).unwrap();
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn file_then_environment() {
        let toml = "[smf]\nbind = \"0.0.0.0:8806\"\n[[smf.dnns]]\nname = \"ims\"\npool = \"10.46.0.0/24\"\nslices = [\"1:010203\"]\n[smf.usage]\nvolume_threshold = 1000\n";
        let s = Settings::from_toml_and_env(
            toml,
            env(&[
                ("HEXCORE_SMF__USAGE__PERIOD_SECS", "30"),
                ("HEXCORE_SMF__NODE_ID", "192.0.2.1"),
                (
                    "HEXCORE_SMF__UPFS",
                    "[{ address = \"127.0.0.9:8805\", dnns = [\"ims\"] }]",
                ),
                ("HEXCORE_AMF__NAME", "not ours"),
            ]),
        )
        .unwrap();
        let c = SmfConfig::new(&s).unwrap();
        assert_eq!(c.session.urr.period, Duration::from_secs(30));
        assert_eq!(c.session.urr.volume_threshold, 1000);
        assert_eq!(c.node, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(c.upfs[0].dnns, ["ims"]);
        assert!(c.upfs[0].serves("ims") && !c.upfs[0].serves("internet"));
        assert_eq!(
            c.dnns[0].slices,
            [Snssai {
                sst: 1,
                sd: Some(0x010203)
            }]
        );
        assert!(c.dnns[0].dns_v4.is_empty());
    }

    #[test]
    fn broken_configurations_are_refused() {
        for (toml, vars) in [
            ("[smf]\nbnid = \"x\"\n", vec![]),
            ("[[smf.dnns]]\nname = \"a\"\npool = \"10.0.0.1/24\"\n", vec![]),
            (
                "[[smf.dnns]]\nname = \"a\"\npool = \"10.0.0.0/24\"\n[[smf.dnns]]\nname = \"b\"\npool = \"10.0.0.0/16\"\n",
                vec![],
            ),
            (
                "[[smf.upfs]]\naddress = \"127.0.0.1:8805\"\ndnns = [\"nope\"]\n",
                vec![],
            ),
            ("[smf.qos]\narp_priority_level = 0\n", vec![]),
            ("", env(&[("HEXCORE_SMF__USAGE__PERIOD_SECS", "soon")])),
            ("", env(&[("HEXCORE_SMF__NOPE", "1")])),
            ("", env(&[("HEXCORE_SMF__NODE_ID", "host")])),
        ] {
            assert!(Settings::from_toml_and_env(toml, vars).is_err(), "{toml}");
        }
    }

    /// An error names the key it is about.
    #[test]
    fn errors_name_the_key() {
        for (toml, key) in [
            ("[smf]\nnode_id = \"host\"\n", "smf.node_id"),
            ("[[smf.dnns]]\nname = \"a\"\npool = \"10.0.0.1/24\"\n", "smf.dnns.pool"),
            (
                "[[smf.dnns]]\nname = \"a\"\npool = \"10.0.0.0/24\"\nslices = [\"1:01\"]\n",
                "smf.dnns.slices",
            ),
            ("[smf]\ndnns = []\n", "smf.dnns"),
            ("[smf]\nupfs = []\n", "smf.upfs"),
            (
                "[[smf.upfs]]\naddress = \"127.0.0.1:8805\"\ndnns = [\"nope\"]\n",
                "smf.upfs.dnns",
            ),
            ("[smf.pfcp]\nt1_ms = 0\n", "smf.pfcp.t1_ms"),
            (
                "[smf.pfcp]\nheartbeat_interval_secs = 0\n",
                "smf.pfcp.heartbeat_interval_secs",
            ),
            ("[smf.qos]\nmtu = 500\n", "smf.qos.mtu"),
            ("[smf.nas]\nt3592_ms = 0\n", "smf.nas.t3592_ms"),
        ] {
            match Settings::from_toml_and_env(toml, env(&[])) {
                Err(SettingsError::Invalid { key: k, .. }) => assert_eq!(k, key, "{toml}"),
                other => panic!("{toml}: {other:?}"),
            }
        }
    }
}
