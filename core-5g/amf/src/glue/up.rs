//! What `hexcore up` runs: structured logs, the server, and a clean stop on SIGTERM
//! or SIGINT. The binary only parses its arguments and opens the UDM.

use std::sync::Arc;

use super::server::{Server, UdmBackend};
use crate::settings::Settings;

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?} (text or json)")),
        }
    }
}

/// Install the global tracing subscriber (filter from `RUST_LOG`, default `info`).
/// A second call is a no-op.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Start the AMF and run until SIGTERM or SIGINT, then stop every task.
pub async fn run_until_signal(settings: Settings, udm: Arc<dyn UdmBackend>) -> anyhow::Result<()> {
    let server = Server::start_dedicated(settings, udm, None).await?;
    tracing::info!(
        udp = %server.udp_addr,
        sctp = ?server.sctp_addr,
        metrics = ?server.metrics_addr,
        "hexcore up: AMF running"
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// SIGTERM or SIGINT, whichever comes first.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
