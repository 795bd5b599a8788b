//! The UPF's one `Settings` type: the `[upf]` section of a TOML file (other
//! sections belong to other functions and are ignored, so that `hexcore up` can
//! keep every function in one file), defaults that run out of the box, then
//! environment overrides of the form `HEXCORE_UPF__TUN__NAME=upf0` (prefix
//! `HEXCORE_`, path segments separated by `__`, matched case-insensitively).
//!
//! The shipped example `core-5g/upf/upf.example.toml` is parsed by a test below.
//!
//! Values are parsed into their types once, at load, and a bad one is refused with
//! its key named: the Node ID (an address or a well-formed FQDN), periods and
//! timeouts as `Duration`s (the keys keep their unit suffix in the file), the UE pool
//! from the TUN's subnet (IPv4 only).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use hexcore_config::SettingsError;
use hexcore_config::invalid;

/// All of the UPF's settings: the `[upf]` section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `[upf]`.
    pub upf: UpfSettings,
}

/// `[upf]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpfSettings {
    /// PFCP (N4) listener.
    pub pfcp_bind: SocketAddr,
    /// Node ID sent to SMFs (an IP address or an FQDN); empty = the PFCP bind
    /// address, or 127.0.0.1 when that is unspecified.
    pub node_id: NodeIdSetting,
    /// GTP-U (N3) listener.
    pub n3_bind: SocketAddr,
    /// The N3 address put in the F-TEIDs this UPF allocates (what gNBs send to).
    pub n3_address: Ipv4Addr,
    /// Worker threads per direction (one uplink and one downlink worker each).
    pub workers: usize,
    /// Packets per recvmmsg/sendmmsg batch.
    pub batch: usize,
    /// UDP GRO on the N3 socket (Linux ≥ 5.0).
    pub gro: bool,
    /// UDP GSO towards a gNB for bursts of equal-size packets (Linux ≥ 4.18).
    pub gso: bool,
    /// Where the usage journal lives.
    pub data_dir: PathBuf,
    /// Heartbeat period towards SMFs (`heartbeat_interval_secs`, whole seconds, at
    /// least 1).
    #[serde(rename = "heartbeat_interval_secs", with = "whole_secs")]
    pub heartbeat_interval: Duration,
    /// Usage journal checkpoint period (`checkpoint_interval_ms`, at least 1).
    #[serde(rename = "checkpoint_interval_ms", with = "millis")]
    pub checkpoint_interval: Duration,
    /// How long a clean stop waits for the SMFs to acknowledge final reports
    /// (`shutdown_report_timeout_ms`).
    #[serde(rename = "shutdown_report_timeout_ms", with = "millis")]
    pub shutdown_report_timeout: Duration,
    /// Downlink buffer per session, packets.
    pub buffer_packets: usize,
    /// Downlink buffer per session, octets.
    pub buffer_bytes: usize,
    /// Error Indications sent per second at most (TS 29.281 §7.3.1).
    pub error_indications_per_sec: u32,
    /// Allocate UE addresses (CHV4) from the TUN's subnet (an IPv4 one).
    pub ue_pool_from_tun: bool,
    /// N6.
    pub tun: TunSettings,
}

/// `[upf.tun]`: the N6 device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TunSettings {
    /// Device name (≤ 15 bytes).
    pub name: String,
    /// The device's address.
    pub address: IpAddr,
    /// Its prefix length: the UE subnet routed into the device.
    pub prefix: u8,
    /// MTU.
    pub mtu: u32,
    /// One TUN queue per worker (IFF_MULTI_QUEUE) even with one worker.
    pub multiqueue: bool,
    /// IFF_VNET_HDR: a virtio-net header on every packet, and checksum/segmentation
    /// offloads (downlink super-packets are split here, segment by segment).
    pub vnet_hdr: bool,
    /// Create and configure the device (address, MTU, up); off when an operator
    /// manages it.
    pub configure: bool,
}

impl Default for UpfSettings {
    fn default() -> Self {
        UpfSettings {
            pfcp_bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8805),
            node_id: NodeIdSetting::FromPfcpBind,
            n3_bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 2152),
            n3_address: Ipv4Addr::LOCALHOST,
            workers: 1,
            batch: 64,
            gro: true,
            gso: true,
            data_dir: PathBuf::from("hexcore-data/upf"),
            heartbeat_interval: Duration::from_secs(10),
            checkpoint_interval: Duration::from_millis(1000),
            shutdown_report_timeout: Duration::from_millis(3000),
            buffer_packets: 256,
            buffer_bytes: 1 << 20,
            error_indications_per_sec: 100,
            ue_pool_from_tun: true,
            tun: TunSettings::default(),
        }
    }
}

impl Default for TunSettings {
    fn default() -> Self {
        TunSettings {
            name: "hexcore0".into(),
            address: IpAddr::V4(Ipv4Addr::new(10, 45, 0, 1)),
            prefix: 16,
            mtu: 1400,
            multiqueue: false,
            vnet_hdr: false,
            configure: true,
        }
    }
}

/// The sections this function owns; `HEXCORE_<OTHER>__…` variables belong to others.
const SECTIONS: [&str; 1] = ["upf"];

impl Settings {
    /// Defaults, then the file if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::from_toml_and_env(&hexcore_config::read(file)?, std::env::vars())
    }

    /// Defaults, then the `[upf]` section of `toml_text`, then the `HEXCORE_UPF__…`
    /// variables among `vars`.
    pub fn from_toml_and_env(
        toml_text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let settings: Settings = hexcore_config::load_sections(toml_text, vars, &SECTIONS)?;
        settings.validate()?;
        Ok(settings)
    }

    /// What serde cannot check.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let u = &self.upf;
        if u.workers == 0 || u.workers > 64 {
            return invalid("upf.workers", "1 to 64");
        }
        if u.batch == 0 || u.batch > 1024 {
            return invalid("upf.batch", "1 to 1024");
        }
        if u.tun.name.is_empty() || u.tun.name.len() > 15 {
            return invalid("upf.tun.name", "1 to 15 bytes");
        }
        let max = if u.tun.address.is_ipv4() { 32 } else { 128 };
        if u.tun.prefix > max {
            return invalid("upf.tun.prefix", "a prefix length for the address family");
        }
        if !(576..=65535).contains(&u.tun.mtu) {
            return invalid("upf.tun.mtu", "576 to 65535");
        }
        if u.checkpoint_interval.is_zero() {
            return invalid("upf.checkpoint_interval_ms", "more than 0");
        }
        if u.heartbeat_interval.is_zero() {
            return invalid("upf.heartbeat_interval_secs", "at least 1");
        }
        if u.ue_pool_from_tun && !u.tun.address.is_ipv4() {
            return invalid(
                "upf.ue_pool_from_tun",
                "needs an IPv4 upf.tun.address (CHV4 hands out IPv4 addresses); set it to false",
            );
        }
        Ok(())
    }

    /// The Node ID to use (TS 29.244 §8.2.38).
    pub fn node_id(&self) -> hexcore_pfcp::ie::NodeId {
        use hexcore_pfcp::ie::NodeId;
        match &self.upf.node_id {
            NodeIdSetting::FromPfcpBind => match self.upf.pfcp_bind.ip() {
                IpAddr::V4(a) if !a.is_unspecified() => NodeId::Ipv4(a),
                IpAddr::V6(a) if !a.is_unspecified() => NodeId::Ipv6(a),
                _ => NodeId::Ipv4(Ipv4Addr::LOCALHOST),
            },
            NodeIdSetting::Address(a) => NodeId::from(*a),
            NodeIdSetting::Fqdn(name) => NodeId::fqdn(name),
        }
    }

    /// The UE address pool for CHV4 (the TUN's IPv4 subnet), if the UPF allocates.
    pub fn ue_pool(&self) -> Option<(Ipv4Addr, u8)> {
        match self.upf.tun.address {
            IpAddr::V4(a) if self.upf.ue_pool_from_tun => Some((a, self.upf.tun.prefix)),
            _ => None,
        }
    }
}

/// `upf.node_id`: how the UPF names itself to SMFs — written in the file as a
/// string: empty, an IP address, or an FQDN.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NodeIdSetting {
    /// Empty: the PFCP bind address (127.0.0.1 when that is unspecified).
    #[default]
    FromPfcpBind,
    /// An IPv4 or IPv6 address.
    Address(IpAddr),
    /// A fully qualified domain name (letters, digits and hyphens in dot-separated
    /// labels of 1–63 octets, 253 at most: RFC 1035 §2.3.1).
    Fqdn(String),
}

impl TryFrom<String> for NodeIdSetting {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let n = text.trim();
        if n.is_empty() {
            return Ok(NodeIdSetting::FromPfcpBind);
        }
        if let Ok(a) = n.parse::<IpAddr>() {
            return Ok(NodeIdSetting::Address(a));
        }
        let name = n.strip_suffix('.').unwrap_or(n);
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if name.len() > 253 || !name.split('.').all(label_ok) {
            return Err(format!(
                "upf.node_id: {n:?} is neither an IP address nor an FQDN (letters, digits, hyphens, dots)"
            ));
        }
        Ok(NodeIdSetting::Fqdn(name.to_owned()))
    }
}

impl From<NodeIdSetting> for String {
    fn from(n: NodeIdSetting) -> String {
        match n {
            NodeIdSetting::FromPfcpBind => String::new(),
            NodeIdSetting::Address(a) => a.to_string(),
            NodeIdSetting::Fqdn(name) => name,
        }
    }
}

/// A `Duration` as whole seconds in the file.
mod whole_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

/// A `Duration` as milliseconds in the file.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
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
        assert_eq!(s.upf.pfcp_bind.to_string(), "127.0.0.1:8805");
        assert_eq!(s.upf.n3_bind.to_string(), "0.0.0.0:2152");
        assert_eq!(s.upf.tun.name, "hexcore0");
        assert_eq!(s.node_id(), hexcore_pfcp::ie::NodeId::Ipv4(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn shipped_example_parses_and_other_sections_are_ignored() {
        let text = include_str!("../upf.example.toml");
        let s = Settings::from_toml_and_env(text, env(&[])).unwrap();
        assert_eq!(s, Settings::default());
        let with_others = format!("[amf]\nname = \"x\"\n[n2]\nudp_port = 1\n{text}");
        assert_eq!(Settings::from_toml_and_env(&with_others, env(&[])).unwrap(), s);
    }

    #[test]
    fn file_then_environment() {
        let s = Settings::from_toml_and_env(
            "[upf]\nworkers = 2\nn3_address = \"192.0.2.10\"\n[upf.tun]\nname = \"upf0\"\n",
            env(&[
                ("HEXCORE_UPF__TUN__MTU", "1500"),
                ("HEXCORE_UPF__GRO", "false"),
                ("HEXCORE_UPF__PFCP_BIND", "0.0.0.0:18805"),
                ("HEXCORE_UPF__NODE_ID", "upf.example.org"),
                ("HEXCORE_AMF__NAME", "not ours"),
            ]),
        )
        .unwrap();
        assert_eq!(s.upf.workers, 2);
        assert_eq!(s.upf.n3_address, Ipv4Addr::new(192, 0, 2, 10));
        assert_eq!(s.upf.tun.name, "upf0");
        assert_eq!(s.upf.tun.mtu, 1500);
        assert!(!s.upf.gro);
        assert_eq!(s.upf.pfcp_bind.port(), 18805);
        assert_eq!(s.node_id(), hexcore_pfcp::ie::NodeId::fqdn("upf.example.org"));
    }

    #[test]
    fn values_are_typed_at_load() {
        let s = Settings::from_toml_and_env(
            "[upf]\nnode_id = \"192.0.2.8\"\nheartbeat_interval_secs = 30\nshutdown_report_timeout_ms = 1500\n",
            env(&[("HEXCORE_UPF__CHECKPOINT_INTERVAL_MS", "250")]),
        )
        .unwrap();
        assert_eq!(
            s.upf.node_id,
            NodeIdSetting::Address(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 8)))
        );
        assert_eq!(s.node_id(), hexcore_pfcp::ie::NodeId::Ipv4(Ipv4Addr::new(192, 0, 2, 8)));
        assert_eq!(s.upf.heartbeat_interval, Duration::from_secs(30));
        assert_eq!(s.upf.shutdown_report_timeout, Duration::from_millis(1500));
        assert_eq!(s.upf.checkpoint_interval, Duration::from_millis(250));
        assert_eq!(s.ue_pool(), Some((Ipv4Addr::new(10, 45, 0, 1), 16)));
        let s = Settings::from_toml_and_env("[upf]\nue_pool_from_tun = false\n", env(&[])).unwrap();
        assert_eq!(s.ue_pool(), None);
        // A trailing dot is the root; the name is kept without it.
        let s = Settings::from_toml_and_env("[upf]\nnode_id = \"upf-1.example.org.\"\n", env(&[])).unwrap();
        assert_eq!(s.upf.node_id, NodeIdSetting::Fqdn("upf-1.example.org".into()));
    }

    #[test]
    fn bad_values_name_their_key() {
        let message = |r: Result<Settings, SettingsError>| r.map(|_| ()).unwrap_err().to_string();
        for bad in ["upf one", "upf..example", "-upf.example", "ü.example"] {
            let text = format!("[upf]\nnode_id = {bad:?}\n");
            let e = message(Settings::from_toml_and_env(&text, env(&[])));
            assert!(e.contains("upf.node_id"), "{bad}: {e}");
            let e = message(Settings::from_toml_and_env("", env(&[("HEXCORE_UPF__NODE_ID", bad)])));
            assert!(e.contains("upf.node_id"), "{bad}: {e}");
        }
        assert!(matches!(
            Settings::from_toml_and_env("[upf]\nheartbeat_interval_secs = 0\n", env(&[])),
            Err(SettingsError::Invalid {
                key: "upf.heartbeat_interval_secs",
                ..
            })
        ));
        assert!(matches!(
            Settings::from_toml_and_env("[upf]\n[upf.tun]\naddress = \"fd00::1\"\nprefix = 64\n", env(&[])),
            Err(SettingsError::Invalid {
                key: "upf.ue_pool_from_tun",
                ..
            })
        ));
        let s = Settings::from_toml_and_env(
            "[upf]\nue_pool_from_tun = false\n[upf.tun]\naddress = \"fd00::1\"\nprefix = 64\n",
            env(&[]),
        )
        .unwrap();
        assert_eq!(s.ue_pool(), None);
    }

    #[test]
    fn broken_configurations_are_refused() {
        assert!(matches!(
            Settings::from_toml_and_env("[upf]\nwrokers = 1\n", env(&[])),
            Err(SettingsError::Toml(_))
        ));
        assert!(matches!(
            Settings::from_toml_and_env("[upf]\nworkers = 0\n", env(&[])),
            Err(SettingsError::Invalid { key: "upf.workers", .. })
        ));
        assert!(matches!(
            Settings::from_toml_and_env("", env(&[("HEXCORE_UPF__WORKERS", "many")])),
            Err(SettingsError::Env { .. })
        ));
        assert!(matches!(
            Settings::from_toml_and_env("", env(&[("HEXCORE_UPF__NOPE", "1")])),
            Err(SettingsError::Env { .. })
        ));
        assert!(matches!(
            Settings::from_toml_and_env("[upf.tun]\nname = \"a-name-far-too-long\"\n", env(&[])),
            Err(SettingsError::Invalid { .. })
        ));
    }
}
