//! The AMF's one `Settings` type: a TOML file whose every key has a default that runs
//! out of the box (PLMN 999/70, TAC 1, SST 1, N2 on SCTP/UDP 9899 and kernel SCTP
//! 38412), then environment overrides of the form `HEXCORE_AMF__PLMN__MCC=001`
//! (prefix `HEXCORE_`, path segments separated by `__`, matched case-insensitively).
//!
//! The shipped example `config/hexcore.example.toml` is parsed by a test below.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use hexcore_security::{Nea, Nia};

pub use hexcore_config::SettingsError;
use hexcore_config::invalid;

/// All of the AMF's settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Identity of the AMF and what it serves.
    pub amf: AmfSettings,
    /// The N2 listeners.
    pub n2: N2Settings,
    /// NAS security and timers.
    pub nas: NasSettings,
}

/// Identity of the AMF and the network it serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmfSettings {
    /// AMF Name (TS 38.413 §9.3.3.21), sent in NG Setup Response.
    pub name: String,
    /// The served PLMN.
    pub plmn: PlmnSettings,
    /// Tracking area codes served (24-bit).
    pub tacs: Vec<u32>,
    /// Supported S-NSSAIs.
    pub slices: Vec<SliceSettings>,
    /// The GUAMI's AMF identifier parts (TS 23.003 §2.10.1).
    pub guami: GuamiSettings,
    /// Relative AMF Capacity (TS 38.413 §9.3.1.32).
    pub relative_capacity: u8,
    /// The network's name for UEs' displays: sent as full and short name for network
    /// in a Configuration Update Command after each initial registration (TS 24.501
    /// §5.4.4, §9.11.3.35; GSM 7-bit). None by default: UEs show the PLMN from their SIM.
    pub network_name: Option<String>,
}

/// A PLMN as digits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlmnSettings {
    /// Three digits.
    pub mcc: String,
    /// Two or three digits.
    pub mnc: String,
}

/// One S-NSSAI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SliceSettings {
    /// Slice/Service Type.
    pub sst: u8,
    /// Slice Differentiator (24 bits), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<u32>,
}

/// AMF Region ID, AMF Set ID and AMF Pointer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuamiSettings {
    /// AMF Region ID (8 bits).
    pub region: u8,
    /// AMF Set ID (10 bits).
    pub set: u16,
    /// AMF Pointer (6 bits).
    pub pointer: u8,
}

/// The N2 listeners. SCTP/UDP is always on; kernel SCTP where the kernel has it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct N2Settings {
    /// Address both listeners bind.
    pub bind: IpAddr,
    /// UDP port of SCTP-over-UDP (RFC 6951).
    pub udp_port: u16,
    /// Kernel SCTP port (38412, TS 38.412 §7).
    pub sctp_port: u16,
    /// Try kernel SCTP at all.
    pub kernel_sctp: bool,
}

/// NAS security choices and timers (TS 24.501 §10.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NasSettings {
    /// Integrity algorithms by priority ("NIA2", "NIA1", "NIA3"; NIA0 is refused
    /// outside emergency, TS 33.501 §5.5.2).
    pub integrity_order: Vec<String>,
    /// Ciphering algorithms by priority.
    pub ciphering_order: Vec<String>,
    /// T3512, periodic registration (TS 24.501 Table 10.2.1), seconds.
    pub t3512_secs: u64,
    /// T3550 (Registration accept), milliseconds.
    pub t3550_ms: u64,
    /// T3560 (Authentication request, Security mode command), milliseconds.
    pub t3560_ms: u64,
    /// T3570 (Identity request), milliseconds.
    pub t3570_ms: u64,
    /// T3522 (network-initiated Deregistration request), milliseconds.
    pub t3522_ms: u64,
    /// Retransmissions before a procedure is abandoned (TS 24.501: on the fifth
    /// expiry).
    pub max_retransmissions: u8,
}

impl Default for AmfSettings {
    fn default() -> Self {
        Self {
            name: "hexcore-amf".into(),
            plmn: PlmnSettings::default(),
            tacs: vec![1],
            slices: vec![SliceSettings { sst: 1, sd: None }],
            guami: GuamiSettings::default(),
            relative_capacity: 255,
            network_name: None,
        }
    }
}

impl Default for PlmnSettings {
    fn default() -> Self {
        Self {
            mcc: "999".into(),
            mnc: "70".into(),
        }
    }
}

impl Default for GuamiSettings {
    fn default() -> Self {
        Self {
            region: 2,
            set: 1,
            pointer: 0,
        }
    }
}

impl Default for N2Settings {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            udp_port: 9899,
            sctp_port: 38412,
            kernel_sctp: true,
        }
    }
}

impl Default for NasSettings {
    fn default() -> Self {
        Self {
            integrity_order: vec!["NIA2".into(), "NIA1".into(), "NIA3".into()],
            ciphering_order: vec!["NEA0".into(), "NEA2".into(), "NEA1".into(), "NEA3".into()],
            // TS 24.501 Table 10.2.1 defaults to 54 minutes, which GPRS timer 3 cannot
            // carry exactly (its units are 2 s, 30 s, 1 min, 10 min, 1 h...): one hour.
            t3512_secs: 3600,
            t3550_ms: 6000,
            t3560_ms: 6000,
            t3570_ms: 6000,
            t3522_ms: 6000,
            max_retransmissions: 4,
        }
    }
}

/// The sections this function owns; `HEXCORE_<OTHER>__…` variables belong to others.
const SECTIONS: [&str; 3] = ["amf", "n2", "nas"];

impl Settings {
    /// Defaults, then the file if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::from_toml_and_env(&hexcore_config::read(file)?, std::env::vars())
    }

    /// Defaults, then `toml`, then the `HEXCORE_…__…` variables among `vars`.
    pub fn from_toml_and_env(
        toml_text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let settings: Settings = hexcore_config::load_sections(toml_text, vars, &SECTIONS)?;
        settings.validate()?;
        Ok(settings)
    }

    /// Check what serde cannot: digits, ranges, algorithm names.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let digits = |s: &str, n: &[usize]| n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(&self.amf.plmn.mcc, &[3]) {
            return invalid("amf.plmn.mcc", "three digits");
        }
        if !digits(&self.amf.plmn.mnc, &[2, 3]) {
            return invalid("amf.plmn.mnc", "two or three digits");
        }
        if self.amf.tacs.is_empty() || self.amf.tacs.iter().any(|t| *t > 0xFF_FFFF) {
            return invalid("amf.tacs", "one or more 24-bit values");
        }
        if self.amf.slices.is_empty() || self.amf.slices.iter().any(|s| s.sd.is_some_and(|sd| sd > 0xFF_FFFF)) {
            return invalid("amf.slices", "one or more S-NSSAIs with a 24-bit SD");
        }
        if self.amf.guami.set > 0x3FF || self.amf.guami.pointer > 0x3F {
            return invalid("amf.guami", "set is 10 bits, pointer 6 bits");
        }
        if self.amf.name.is_empty() || self.amf.name.len() > 150 {
            return invalid("amf.name", "1 to 150 characters");
        }
        // The Network name IE holds at most 254 octets of 7-bit text (TS 24.501
        // §9.11.3.35, TS 24.008 §10.5.3.5a); keep it to what a display shows.
        if self
            .amf
            .network_name
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.chars().count() > 64)
        {
            return invalid("amf.network_name", "1 to 64 characters");
        }
        if self.integrity_order()?.is_empty() {
            return invalid("nas.integrity_order", "at least one algorithm");
        }
        if self.ciphering_order()?.is_empty() {
            return invalid("nas.ciphering_order", "at least one algorithm");
        }
        Ok(())
    }

    /// The integrity algorithms in priority order.
    pub fn integrity_order(&self) -> Result<Vec<Nia>, SettingsError> {
        self.nas
            .integrity_order
            .iter()
            .map(|s| {
                algorithm_id(s, "NIA")
                    .and_then(Nia::from_id)
                    .ok_or_else(|| SettingsError::Invalid {
                        key: "nas.integrity_order",
                        reason: format!("unknown algorithm {s:?} (NIA0..NIA3)"),
                    })
            })
            .collect()
    }

    /// The ciphering algorithms in priority order.
    pub fn ciphering_order(&self) -> Result<Vec<Nea>, SettingsError> {
        self.nas
            .ciphering_order
            .iter()
            .map(|s| {
                algorithm_id(s, "NEA")
                    .and_then(Nea::from_id)
                    .ok_or_else(|| SettingsError::Invalid {
                        key: "nas.ciphering_order",
                        reason: format!("unknown algorithm {s:?} (NEA0..NEA3)"),
                    })
            })
            .collect()
    }

    /// A NAS timer's duration.
    pub fn timer(&self, timer: crate::timers::NasTimer) -> Duration {
        use crate::timers::NasTimer::*;
        Duration::from_millis(match timer {
            T3550 => self.nas.t3550_ms,
            T3560 => self.nas.t3560_ms,
            T3570 => self.nas.t3570_ms,
            T3522 => self.nas.t3522_ms,
            // Mobile reachable timer (T3512 + 4 min) then implicit deregistration
            // timer (+ 4 min), TS 24.501 §5.3.7 defaults, as one deadline.
            ImplicitDeregistration => (self.nas.t3512_secs + 480).saturating_mul(1000),
        })
    }
}

/// "NIA2", "nia2", "128-NIA2", "5G-IA2" → 2.
fn algorithm_id(name: &str, family: &str) -> Option<u8> {
    let upper = name.trim().to_ascii_uppercase();
    let short = family.replace('N', "");
    let digit = upper
        .strip_prefix("128-")
        .unwrap_or(&upper)
        .strip_prefix(family)
        .or_else(|| upper.strip_prefix(&format!("5G-{short}")))?;
    match digit.as_bytes() {
        [d @ b'0'..=b'7'] => Some(d - b'0'),
        _ => None,
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
        assert_eq!((s.amf.plmn.mcc.as_str(), s.amf.plmn.mnc.as_str()), ("999", "70"));
        assert_eq!(s.amf.tacs, vec![1]);
        assert_eq!(s.n2.udp_port, 9899);
        assert_eq!(s.n2.sctp_port, 38412);
        assert_eq!(s.integrity_order().unwrap(), vec![Nia::Nia2, Nia::Nia1, Nia::Nia3]);
        assert_eq!(
            s.ciphering_order().unwrap(),
            vec![Nea::Nea0, Nea::Nea2, Nea::Nea1, Nea::Nea3]
        );
    }

    #[test]
    fn shipped_example_parses() {
        // The file holds every function's sections; the AMF's are these.
        let text = include_str!("../../../config/hexcore.example.toml");
        let mut table: toml::Table = toml::from_str(text).unwrap();
        table.retain(|k, _| SECTIONS.contains(&k));
        let s = Settings::from_toml_and_env(&toml::to_string(&table).unwrap(), env(&[])).unwrap();
        // The example documents the defaults.
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn file_then_environment() {
        let toml = "[amf]\nname = \"lab\"\ntacs = [1, 2]\n[amf.plmn]\nmcc = \"001\"\nmnc = \"01\"\n";
        let s = Settings::from_toml_and_env(
            toml,
            env(&[
                ("HEXCORE_AMF__PLMN__MNC", "02"),
                ("HEXCORE_N2__UDP_PORT", "19899"),
                ("HEXCORE_NAS__INTEGRITY_ORDER", "NIA1,NIA2"),
                ("HEXCORE_N2__KERNEL_SCTP", "false"),
                // another function's variable and a bare one are not ours
                ("HEXCORE_SMF__DNN", "x"),
                ("HEXCORE_DATA_DIR", "/tmp/x"),
            ]),
        )
        .unwrap();
        assert_eq!(s.amf.name, "lab");
        assert_eq!(s.amf.plmn.mcc, "001");
        assert_eq!(s.amf.plmn.mnc, "02");
        assert_eq!(s.amf.tacs, vec![1, 2]);
        assert_eq!(s.n2.udp_port, 19899);
        assert!(!s.n2.kernel_sctp);
        assert_eq!(s.integrity_order().unwrap(), vec![Nia::Nia1, Nia::Nia2]);
    }

    #[test]
    fn broken_configurations_are_refused() {
        assert!(matches!(
            Settings::from_toml_and_env("[amf]\nnmae = \"x\"\n", env(&[])),
            Err(SettingsError::Toml(_))
        ));
        assert!(matches!(
            Settings::from_toml_and_env("[amf.plmn]\nmcc = \"12\"\n", env(&[])),
            Err(SettingsError::Invalid {
                key: "amf.plmn.mcc",
                ..
            })
        ));
        assert!(matches!(
            Settings::from_toml_and_env("[nas]\nintegrity_order = [\"NIA9\"]\n", env(&[])),
            Err(SettingsError::Invalid { .. })
        ));
        assert!(matches!(
            Settings::from_toml_and_env("", env(&[("HEXCORE_N2__UDP_PORT", "lots")])),
            Err(SettingsError::Env { .. })
        ));
        assert!(matches!(
            Settings::from_toml_and_env("", env(&[("HEXCORE_AMF__NOPE", "1")])),
            Err(SettingsError::Env { .. })
        ));
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(algorithm_id("NIA2", "NIA"), Some(2));
        assert_eq!(algorithm_id("128-nia1", "NIA"), Some(1));
        assert_eq!(algorithm_id("5G-IA3", "NIA"), Some(3));
        assert_eq!(algorithm_id("NEA0", "NEA"), Some(0));
        assert_eq!(algorithm_id("NEA", "NEA"), None);
        assert_eq!(algorithm_id("NIA2", "NEA"), None);
    }
}
