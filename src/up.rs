//! `hexcore up`: the whole core in one process — the AMF with the AUSF/UDM in process,
//! the SMF behind N11 channels, the UPF on N4/N3/N6 — as a short composition over
//! hexcore-service's contract. Parse the arguments, split the one configuration file
//! into each function's sections (none is needed: the defaults run), open the UDR under
//! the data directory (the same one `hexcore subscriber` provisions), declare the
//! services and their orders; the task manager starts them, serves the HTTP endpoint
//! and stops them on SIGTERM or SIGINT.
//!
//! Start order UPF → SMF → AMF: the SMF's first PFCP Association Setup finds the UPF
//! listening, and no UE can ask for anything before both are there. Stop order AMF →
//! UPF → SMF (not the reverse of the start, on purpose): the UPF's final usage reports
//! must reach an SMF that is still there to store them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use hexcore_amf::glue::{AmfService, SmfLink};
use hexcore_service::{LogFormat, TaskManager, init_logging};
use hexcore_smf::glue::SmfService;
use hexcore_udm::{LocalUdm, RocksStore, UdmApi};
use tokio::sync::mpsc;

use crate::links::{UdmApiBackend, UdmSubscriptions};
use crate::process::ProcessSettings;
use crate::user_plane::UserPlane;

#[derive(clap::Args)]
pub struct Args {
    /// TOML configuration (see config/hexcore.example.toml); without one the defaults
    /// run: PLMN 999/70, TAC 1, SST 1, N2 on SCTP/UDP 9899 and kernel SCTP 38412, DNN
    /// internet with UEs in 10.45.0.0/16. Any key can be overridden as
    /// HEXCORE_<SECTION>__<KEY>, e.g. HEXCORE_AMF__PLMN__MCC.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory: the subscriber store lives in <data-dir>/udr, usage records in
    /// <data-dir>/smf-usage.jsonl.
    #[arg(long, env = "HEXCORE_DATA_DIR", default_value = "hexcore-data")]
    data_dir: PathBuf,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    log_format: LogFormat,
    /// Do not masquerade the UE pools behind the host's uplink (N6 NAT). Without this
    /// flag `hexcore up` turns on IPv4 forwarding and adds one MASQUERADE rule per DNN
    /// pool (iptables, or nft), and takes them away again when it stops.
    #[arg(long)]
    no_nat: bool,
    /// Do not run a UPF in this process: the SMF uses the UPFs of `[smf] upfs` (e.g. a
    /// `hexcore upf` of its own, which can be restarted apart).
    #[arg(long)]
    no_upf: bool,
}

/// Which function owns which top-level section of the configuration file.
const AMF_SECTIONS: [&str; 3] = ["amf", "n2", "nas"];
const OTHER_SECTIONS: [&str; 2] = ["smf", "upf"];

pub fn run(args: &Args) -> ExitCode {
    init_logging(args.log_format);
    let mut settings = match load_settings(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hexcore up: {e}");
            return ExitCode::from(2);
        }
    };
    let udm = match LocalUdm::open_in_data_dir(&args.data_dir) {
        Ok(u) => Arc::new(u),
        Err(e) => {
            eprintln!(
                "hexcore up: cannot open the subscriber store in {}: {e}",
                args.data_dir.display()
            );
            return ExitCode::from(2);
        }
    };
    crate::subscriber::print_hn_keys(&udm.udm().hn_public_keys());
    // The UPF's usage journal lives with the rest of the data unless configured apart.
    if settings.upf.upf.data_dir == hexcore_upf::Settings::default().upf.data_dir {
        settings.upf.upf.data_dir = args.data_dir.join("upf");
    }
    let metrics = &settings.process.metrics;
    let http = metrics.enabled.then_some(metrics.bind);
    match compose(settings, udm, &args.data_dir, !args.no_nat, !args.no_upf) {
        Ok(services) => crate::process::serve("hexcore up", http, services),
        Err(e) => {
            eprintln!("hexcore up: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Every function's settings from one file: each parses its own sections (and its
/// `HEXCORE_<SECTION>__…` variables); a section nobody owns is an error, so a typo does
/// not silently fall back to a default.
fn load_settings(file: Option<&Path>) -> Result<AllSettings, String> {
    let text = hexcore_config::read(file).map_err(|e| e.to_string())?;
    settings_from(&text, std::env::vars().collect())
}

fn settings_from(text: &str, vars: Vec<(String, String)>) -> Result<AllSettings, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("invalid configuration: {e}"))?;
    let mut amf_part = toml::Table::new();
    for (key, value) in table {
        if AMF_SECTIONS.contains(&key.as_str()) {
            amf_part.insert(key, value);
        } else if !OTHER_SECTIONS.contains(&key.as_str()) && !crate::process::SECTIONS.contains(&key.as_str()) {
            return Err(format!(
                "unknown section [{key}] in the configuration (known: {}, {}, {})",
                AMF_SECTIONS.join(", "),
                OTHER_SECTIONS.join(", "),
                crate::process::SECTIONS.join(", ")
            ));
        }
    }
    let amf_text = toml::to_string(&amf_part).map_err(|e| e.to_string())?;
    let err = |e: hexcore_config::SettingsError| e.to_string();
    Ok(AllSettings {
        amf: hexcore_amf::Settings::from_toml_and_env(&amf_text, vars.clone()).map_err(err)?,
        smf: hexcore_smf::Settings::from_toml_and_env(text, vars.clone()).map_err(err)?,
        upf: hexcore_upf::Settings::from_toml_and_env(text, vars.clone()).map_err(err)?,
        process: ProcessSettings::from_toml_and_env(text, vars).map_err(err)?,
    })
}

#[derive(Debug)]
struct AllSettings {
    amf: hexcore_amf::Settings,
    smf: hexcore_smf::Settings,
    upf: hexcore_upf::Settings,
    process: ProcessSettings,
}

/// The services and their orders (see the module's notes), linked: the AMF and the SMF
/// by two N11 channels, both to the in-process UDM through the binary's adapters.
fn compose(
    settings: AllSettings,
    udm: Arc<LocalUdm<RocksStore>>,
    data_dir: &Path,
    nat: bool,
    with_upf: bool,
) -> anyhow::Result<TaskManager> {
    let dnns = settings.smf.dnns().map_err(|e| anyhow::anyhow!("{e}"))?;
    let usage_path = settings.smf.usage_record_path(data_dir);
    let sink = hexcore_smf::JsonLinesSink::open(&usage_path)
        .map_err(|e| anyhow::anyhow!("usage records in {}: {e}", usage_path.display()))?;
    tracing::info!(path = %usage_path.display(), "SMF: usage records");
    let udm: Arc<dyn UdmApi> = udm;
    let (to_smf, from_amf) = mpsc::channel(4096);
    let (to_amf, from_smf) = mpsc::channel(4096);

    let mut services = TaskManager::new("hexcore up");
    let upf = with_upf.then(|| {
        services.add(UserPlane {
            upf: settings.upf,
            dnns,
            nat,
        })
    });
    let smf = services.add(SmfService::new(
        settings.smf,
        to_amf,
        from_amf,
        Arc::new(UdmSubscriptions(udm.clone())),
        Box::new(sink),
    ));
    let amf = services.add(AmfService::new(
        settings.amf,
        Arc::new(UdmApiBackend(udm)),
        Some(SmfLink { to_smf, from_smf }),
    ));
    services.stop_order([Some(amf), upf, Some(smf)].into_iter().flatten());
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_example_is_the_defaults_of_every_function() {
        let text = include_str!("../config/hexcore.example.toml");
        let s = settings_from(text, Vec::new()).unwrap();
        assert_eq!(s.amf, hexcore_amf::Settings::default());
        assert_eq!(s.smf, hexcore_smf::Settings::default());
        assert_eq!(s.upf, hexcore_upf::Settings::default());
        assert_eq!(s.process, ProcessSettings::default());
    }

    #[test]
    fn sections_of_nobody_and_overrides() {
        let e = settings_from("[amff]\nname = \"x\"\n", Vec::new()).unwrap_err();
        assert!(e.contains("unknown section [amff]"), "{e}");
        let vars = vec![
            ("HEXCORE_UPF__N3_ADDRESS".to_string(), "192.0.2.7".to_string()),
            ("HEXCORE_AMF__PLMN__MCC".to_string(), "001".to_string()),
            ("HEXCORE_SMF__USAGE__PERIOD_SECS".to_string(), "30".to_string()),
            ("HEXCORE_METRICS__BIND".to_string(), "127.0.0.1:19090".to_string()),
        ];
        let s = settings_from("[upf]\nworkers = 2\n[metrics]\nenabled = false\n", vars).unwrap();
        assert_eq!(s.amf.amf.plmn.mcc, "001");
        assert_eq!(s.smf.smf.usage.period_secs, 30);
        assert_eq!(s.upf.upf.workers, 2);
        assert_eq!(s.upf.upf.n3_address.to_string(), "192.0.2.7");
        assert!(!s.process.metrics.enabled);
        assert_eq!(s.process.metrics.bind.to_string(), "127.0.0.1:19090");
        assert!(settings_from("[smf]\nbind = 7\n", Vec::new()).is_err());
        assert!(settings_from("[metrics]\nbindd = \"127.0.0.1:1\"\n", Vec::new()).is_err());
    }
}
