//! `hexcore upf`: the UPF alone (TS 29.244 N4, TS 29.281 N3, N6 on a TUN) until SIGTERM,
//! for an SMF in another process — `hexcore up --no-upf`, or another vendor's — with
//! its own HTTP endpoint (`/metrics` with the UPF's metrics, `/healthz`, `/readyz`) on
//! `[metrics] upf_bind`, 127.0.0.1:9091 by default: beside `hexcore up`'s 9090 on one
//! host.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hexcore_service::{LogFormat, TaskManager, init_logging};
use hexcore_upf::UpfService;

use crate::process::ProcessSettings;

#[derive(clap::Args)]
pub struct Args {
    /// TOML configuration; its [upf] and [metrics] sections are read (see
    /// config/hexcore.example.toml), other sections are left to other processes.
    /// HEXCORE_UPF__… and HEXCORE_METRICS__… variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory: the usage journal lives in <data-dir>/upf.
    #[arg(long, env = "HEXCORE_DATA_DIR", default_value = "hexcore-data")]
    data_dir: PathBuf,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    log_format: LogFormat,
}

pub fn run(args: &Args) -> ExitCode {
    init_logging(args.log_format);
    let (mut settings, process) = match load_settings(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hexcore upf: {e}");
            return ExitCode::from(2);
        }
    };
    if settings.upf.data_dir == hexcore_upf::Settings::default().upf.data_dir {
        settings.upf.data_dir = args.data_dir.join("upf");
    }
    let http = process.metrics.enabled.then_some(process.metrics.upf_bind);
    let mut services = TaskManager::new("hexcore upf");
    services.add(UpfService(settings));
    crate::process::serve("hexcore upf", http, services)
}

fn load_settings(file: Option<&Path>) -> Result<(hexcore_upf::Settings, ProcessSettings), String> {
    let text = hexcore_config::read(file).map_err(|e| e.to_string())?;
    settings_from(&text, std::env::vars().collect())
}

fn settings_from(text: &str, vars: Vec<(String, String)>) -> Result<(hexcore_upf::Settings, ProcessSettings), String> {
    let upf = hexcore_upf::Settings::from_toml_and_env(text, vars.clone()).map_err(|e| e.to_string())?;
    let process = ProcessSettings::from_toml_and_env(text, vars).map_err(|e| e.to_string())?;
    Ok((upf, process))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_does_not_clash_with_hexcore_up_and_can_be_moved() {
        let (_, process) = settings_from("", Vec::new()).unwrap();
        assert_eq!(process.metrics.upf_bind.to_string(), "127.0.0.1:9091");
        assert_ne!(process.metrics.upf_bind, process.metrics.bind);
        // The whole file of `hexcore up` is accepted: other sections are others'.
        let text = include_str!("../config/hexcore.example.toml");
        let vars = vec![("HEXCORE_METRICS__UPF_BIND".to_string(), "127.0.0.1:19091".to_string())];
        let (upf, process) = settings_from(text, vars).unwrap();
        assert_eq!(upf, hexcore_upf::Settings::default());
        assert_eq!(process.metrics.upf_bind.to_string(), "127.0.0.1:19091");
    }
}
