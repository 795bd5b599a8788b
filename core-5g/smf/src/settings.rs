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

use serde::{Deserialize, Serialize};

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

/// One DNN as the SMF uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dnn {
    /// Name.
    pub name: String,
    /// Pool.
    pub pool: Ipv4Prefix,
    /// IPv4 DNS servers.
    pub dns_v4: Vec<Ipv4Addr>,
    /// IPv6 DNS servers.
    pub dns_v6: Vec<Ipv6Addr>,
    /// Slices (SST, SD); empty: all.
    pub slices: Vec<(u8, Option<u32>)>,
}

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

    /// Check what serde cannot.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let s = &self.smf;
        self.node_ipv4()?;
        let dnns = self.dnns()?;
        if dnns.is_empty() {
            return invalid("smf.dnns", "at least one DNN");
        }
        for (i, d) in dnns.iter().enumerate() {
            if dnns[..i].iter().any(|o| o.name == d.name) {
                return invalid("smf.dnns", &format!("DNN {:?} twice", d.name));
            }
            for o in &dnns[..i] {
                if o.pool.contains(d.pool.network) || d.pool.contains(o.pool.network) {
                    return invalid("smf.dnns", &format!("pools of {:?} and {:?} overlap", o.name, d.name));
                }
            }
        }
        if s.upfs.is_empty() {
            return invalid("smf.upfs", "at least one UPF");
        }
        for u in &s.upfs {
            if let Some(d) = u.dnns.iter().find(|d| !dnns.iter().any(|x| &x.name == *d)) {
                return invalid(
                    "smf.upfs",
                    &format!("UPF {} serves DNN {d:?}, which is not in smf.dnns", u.address),
                );
            }
        }
        if s.pfcp.t1_ms == 0 || s.pfcp.heartbeat_interval_secs == 0 || s.pfcp.association_retry_secs == 0 {
            return invalid("smf.pfcp", "timers must be positive");
        }
        if !(1..=15).contains(&s.qos.arp_priority_level) {
            return invalid("smf.qos.arp_priority_level", "1 to 15");
        }
        if s.qos.mtu < 576 {
            return invalid("smf.qos.mtu", "at least 576 (RFC 791)");
        }
        if s.nas.t3591_ms == 0 || s.nas.t3592_ms == 0 {
            return invalid("smf.nas", "timers must be positive");
        }
        Ok(())
    }

    /// The Node ID / F-SEID address.
    pub fn node_ipv4(&self) -> Result<Ipv4Addr, SettingsError> {
        let s = &self.smf;
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

    /// The DNNs, parsed.
    pub fn dnns(&self) -> Result<Vec<Dnn>, SettingsError> {
        self.smf
            .dnns
            .iter()
            .map(|d| {
                if d.name.is_empty() || d.name.len() > 100 {
                    return invalid("smf.dnns.name", "1 to 100 characters");
                }
                let pool = Ipv4Prefix::parse(&d.pool).map_err(|reason| SettingsError::Invalid {
                    key: "smf.dnns.pool",
                    reason,
                })?;
                if pool.len > 30 {
                    return invalid("smf.dnns.pool", "a prefix of /30 or wider");
                }
                let slices = d
                    .slices
                    .iter()
                    .map(|s| parse_slice(s))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|reason| SettingsError::Invalid {
                        key: "smf.dnns.slices",
                        reason,
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
            })
            .collect()
    }

    /// Where the default usage sink writes, given the data directory.
    pub fn usage_record_path(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(&self.smf.usage.record_file)
    }

    /// T1/N1 for the PFCP transaction layer.
    pub fn pfcp_config(&self) -> hexcore_pfcp::Config {
        let t1 = Duration::from_millis(self.smf.pfcp.t1_ms);
        let n1 = self.smf.pfcp.n1;
        hexcore_pfcp::Config {
            t1,
            n1,
            response_ttl: t1 * (n1 + 1),
        }
    }
}

/// `1` or `1:010203` (SD as six hex digits).
fn parse_slice(s: &str) -> Result<(u8, Option<u32>), String> {
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
    Ok((sst, sd))
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
        assert_eq!(s.node_ipv4().unwrap(), Ipv4Addr::LOCALHOST);
        let d = &s.dnns().unwrap()[0];
        assert_eq!(d.name, "internet");
        assert_eq!(d.pool.to_string(), "10.45.0.0/16");
        assert_eq!(d.dns_v4, [Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(1, 1, 1, 1)]);
        assert_eq!(s.smf.upfs[0].address.port(), 8805);
        assert_ne!(s.smf.bind.port(), 8805);
        assert_eq!(s.smf.usage.period_secs, 60);
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
        assert_eq!(s.smf.usage.period_secs, 30);
        assert_eq!(s.smf.usage.volume_threshold, 1000);
        assert_eq!(s.node_ipv4().unwrap(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(s.smf.upfs[0].dnns, ["ims"]);
        let d = s.dnns().unwrap();
        assert_eq!(d[0].slices, [(1, Some(0x010203))]);
        assert!(d[0].dns_v4.is_empty());
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
}
