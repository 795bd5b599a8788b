//! The UPF's one `Settings` type: the `[upf]` section of a TOML file (other
//! sections belong to other functions and are ignored, so that `hexcore up` can
//! keep every function in one file), defaults that run out of the box, then
//! environment overrides of the form `HEXCORE_UPF__TUN__NAME=upf0` (prefix
//! `HEXCORE_`, path segments separated by `__`, matched case-insensitively).
//!
//! The shipped example `core-5g/upf/upf.example.toml` is parsed by a test below.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

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
    /// Node ID sent to SMFs (an IPv4 address or an FQDN); empty = the PFCP bind
    /// address, or 127.0.0.1 when that is unspecified.
    pub node_id: String,
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
    /// Heartbeat period towards SMFs, seconds.
    pub heartbeat_interval_secs: u64,
    /// Usage journal checkpoint period, milliseconds.
    pub checkpoint_interval_ms: u64,
    /// How long a clean stop waits for the SMFs to acknowledge final reports.
    pub shutdown_report_timeout_ms: u64,
    /// Downlink buffer per session, packets.
    pub buffer_packets: usize,
    /// Downlink buffer per session, octets.
    pub buffer_bytes: usize,
    /// Error Indications sent per second at most (TS 29.281 §7.3.1).
    pub error_indications_per_sec: u32,
    /// Allocate UE addresses (CHV4) from the TUN's subnet.
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
            node_id: String::new(),
            n3_bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 2152),
            n3_address: Ipv4Addr::LOCALHOST,
            workers: 1,
            batch: 64,
            gro: true,
            gso: true,
            data_dir: PathBuf::from("hexcore-data/upf"),
            heartbeat_interval_secs: 10,
            checkpoint_interval_ms: 1000,
            shutdown_report_timeout_ms: 3000,
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
        if u.checkpoint_interval_ms == 0 {
            return invalid("upf.checkpoint_interval_ms", "more than 0");
        }
        Ok(())
    }

    /// The Node ID to use.
    pub fn node_id(&self) -> hexcore_pfcp::ie::NodeId {
        use hexcore_pfcp::ie::NodeId;
        let n = self.upf.node_id.trim();
        if n.is_empty() {
            return match self.upf.pfcp_bind.ip() {
                IpAddr::V4(a) if !a.is_unspecified() => NodeId::Ipv4(a),
                IpAddr::V6(a) if !a.is_unspecified() => NodeId::Ipv6(a),
                _ => NodeId::Ipv4(Ipv4Addr::LOCALHOST),
            };
        }
        match n.parse::<IpAddr>() {
            Ok(a) => NodeId::from(a),
            Err(_) => NodeId::fqdn(n),
        }
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
