//! What every `hexcore <function>` process shares: the `[metrics]` section (the
//! process's one HTTP endpoint), the runtime, and running a composition of services
//! under hexcore-service's contract until SIGTERM or SIGINT.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use hexcore_config::SettingsError;
use hexcore_service::{Endpoint, TaskManager, shutdown_signal};
use serde::{Deserialize, Serialize};

/// The sections that belong to the process rather than to a function.
pub const SECTIONS: [&str; 1] = ["metrics"];

/// The process's settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessSettings {
    /// `[metrics]`.
    pub metrics: MetricsSettings,
}

/// `[metrics]`: the HTTP endpoint (`/metrics`, `/healthz`, `/readyz`, and in `hexcore
/// up` the AMF's operator API). Each process kind has its own address, so that
/// `hexcore up --no-upf` and `hexcore upf` can share a host and a configuration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve the endpoint at all (without it nothing is recorded either).
    pub enabled: bool,
    /// Where `hexcore up` serves.
    pub bind: SocketAddr,
    /// Where `hexcore upf` serves.
    pub upf_bind: SocketAddr,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9090),
            upf_bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9091),
        }
    }
}

impl ProcessSettings {
    /// Defaults, then the process's sections of `toml_text`, then the
    /// `HEXCORE_METRICS__…` variables among `vars`.
    pub fn from_toml_and_env(
        toml_text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        hexcore_config::load_sections(toml_text, vars, &SECTIONS)
    }
}

/// Run `services` until SIGTERM or SIGINT, with the HTTP endpoint on `http` (`None`:
/// none). An endpoint that cannot bind is worth a warning, not a refusal to serve.
/// Exit code 0 after a clean stop, 2 when the services could not run.
pub fn serve(process: &str, http: Option<SocketAddr>, services: TaskManager) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{process}: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let ran = runtime.block_on(async {
        let endpoint = match http {
            Some(addr) => match Endpoint::bind(addr).await {
                Ok(e) => Some(e),
                Err(e) => {
                    tracing::warn!("HTTP endpoint on {addr} not available: {e}");
                    None
                }
            },
            None => None,
        };
        services.run(endpoint, shutdown_signal()).await
    });
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{process}: {e}");
            ExitCode::from(2)
        }
    }
}
