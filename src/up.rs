//! `hexcore up`: the whole core in one process — the AMF with the AUSF/UDM in process,
//! the SMF behind N11 channels, the UPF on N4/N3/N6. Thin on purpose: parse the
//! arguments, split the one configuration file into each function's sections (none is
//! needed: the defaults run), open the UDR under the data directory (the same one
//! `hexcore subscriber` provisions), start the functions, and stop them in reverse order
//! on SIGTERM or SIGINT.
//!
//! Start order UPF → SMF → AMF: the SMF's first PFCP Association Setup finds the UPF
//! listening, and no UE can ask for anything before both are there. Stop order AMF →
//! UPF → SMF (not the reverse of the start, on purpose): the UPF's final usage reports
//! must reach an SMF that is still there to store them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use hexcore_amf::glue::{self, LogFormat, Server, SmfLink, udm::UdmApiBackend};
use hexcore_smf::subscription::{BoxFuture, Subscription, SubscriptionFailure, SubscriptionSource};
use hexcore_udm::{Imsi, LocalUdm, RocksStore, UdmApi};
use tokio::sync::mpsc;

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
const AMF_SECTIONS: [&str; 4] = ["amf", "n2", "nas", "metrics"];
const OTHER_SECTIONS: [&str; 2] = ["smf", "upf"];

pub fn run(args: &Args) -> ExitCode {
    glue::init_logging(args.log_format);
    let (amf_settings, smf_settings, mut upf_settings) = match load_settings(args.config.as_deref()) {
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
    if upf_settings.upf.data_dir == hexcore_upf::Settings::default().upf.data_dir {
        upf_settings.upf.data_dir = args.data_dir.join("upf");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hexcore up: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let settings = AllSettings {
        amf: amf_settings,
        smf: smf_settings,
        upf: upf_settings,
    };
    match runtime.block_on(serve(settings, udm, &args.data_dir, !args.no_nat, !args.no_upf)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hexcore up: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Every function's settings from one file: each parses its own sections (and its
/// `HEXCORE_<SECTION>__…` variables); a section nobody owns is an error, so a typo does
/// not silently fall back to a default.
fn load_settings(
    file: Option<&Path>,
) -> Result<(hexcore_amf::Settings, hexcore_smf::Settings, hexcore_upf::Settings), String> {
    let text = match file {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
        None => String::new(),
    };
    settings_from(&text, std::env::vars().collect())
}

fn settings_from(
    text: &str,
    vars: Vec<(String, String)>,
) -> Result<(hexcore_amf::Settings, hexcore_smf::Settings, hexcore_upf::Settings), String> {
    let table: toml::Table = text.parse().map_err(|e| format!("invalid configuration: {e}"))?;
    let mut amf_part = toml::Table::new();
    for (key, value) in table {
        if AMF_SECTIONS.contains(&key.as_str()) {
            amf_part.insert(key, value);
        } else if !OTHER_SECTIONS.contains(&key.as_str()) {
            return Err(format!(
                "unknown section [{key}] in the configuration (known: {}, {})",
                AMF_SECTIONS.join(", "),
                OTHER_SECTIONS.join(", ")
            ));
        }
    }
    let amf_text = toml::to_string(&amf_part).map_err(|e| e.to_string())?;
    let amf = hexcore_amf::Settings::from_toml_and_env(&amf_text, vars.clone()).map_err(|e| e.to_string())?;
    let smf = hexcore_smf::Settings::from_toml_and_env(text, vars.clone()).map_err(|e| e.to_string())?;
    let upf = hexcore_upf::Settings::from_toml_and_env(text, vars).map_err(|e| e.to_string())?;
    Ok((amf, smf, upf))
}

struct AllSettings {
    amf: hexcore_amf::Settings,
    smf: hexcore_smf::Settings,
    upf: hexcore_upf::Settings,
}

async fn serve(
    settings: AllSettings,
    udm: Arc<LocalUdm<RocksStore>>,
    data_dir: &Path,
    nat: bool,
    with_upf: bool,
) -> anyhow::Result<()> {
    let AllSettings {
        amf: amf_settings,
        smf: smf_settings,
        upf: upf_settings,
    } = settings;
    let dnns = smf_settings.dnns().map_err(|e| anyhow::anyhow!("{e}"))?;
    let pools: Vec<String> = dnns.iter().map(|d| d.pool.to_string()).collect();
    // The user plane needs CAP_NET_ADMIN for its TUN. Without it the control plane
    // still serves (registration, and PDU sessions answered #26 by the SMF), and the
    // log says why.
    let upf = if with_upf {
        match hexcore_upf::Upf::start(upf_settings).await {
            Ok(u) => Some(u),
            Err(e) => {
                tracing::error!("user plane unavailable (PDU sessions will be refused): {e:#}");
                None
            }
        }
    } else {
        None
    };
    if let Some(u) = &upf {
        route_pools(&u.tun_name, &dnns);
    }
    let nat = match (&upf, nat) {
        (Some(u), true) => crate::nat::Nat::up(&pools, &u.tun_name),
        _ => None,
    };
    let (to_smf, from_amf) = mpsc::channel(4096);
    let (to_amf, from_smf) = mpsc::channel(4096);
    let usage_path = smf_settings.usage_record_path(data_dir);
    let sink = hexcore_smf::JsonLinesSink::open(&usage_path)
        .map_err(|e| anyhow::anyhow!("usage records in {}: {e}", usage_path.display()))?;
    let smf = hexcore_smf::Smf::start(
        smf_settings,
        to_amf,
        from_amf,
        Arc::new(UdmSubscriptions(udm.clone())),
        Box::new(sink),
    )
    .await?;
    let backend = Arc::new(UdmApiBackend(udm));
    let amf = Server::start_dedicated(amf_settings, backend, Some(SmfLink { to_smf, from_smf })).await?;
    tracing::info!(
        n2_udp = %amf.udp_addr,
        n2_sctp = ?amf.sctp_addr,
        http = ?amf.metrics_addr,
        n4 = %smf.n4_addr,
        upf_n4 = ?upf.as_ref().map(|u| u.pfcp_addr),
        n3 = ?upf.as_ref().map(|u| u.n3_addr),
        n6 = ?upf.as_ref().map(|u| u.tun_name.clone()),
        usage = %usage_path.display(),
        "hexcore up: running"
    );
    glue::shutdown_signal().await;
    tracing::info!("shutting down");
    amf.shutdown().await;
    if let Some(u) = upf {
        u.shutdown().await;
    }
    drop(nat);
    smf.shutdown().await;
    Ok(())
}

/// Every DNN's UE pool is routed into the UPF's TUN (the TUN's own subnet already is), so
/// that downlink traffic for any pool reaches N6.
fn route_pools(tun: &str, dnns: &[hexcore_smf::settings::Dnn]) {
    let iface = match hexcore_netdev::Interface::new(tun) {
        Ok(i) => i,
        Err(e) => return tracing::warn!("N6: cannot route the UE pools into {tun}: {e}"),
    };
    for d in dnns {
        match iface.add_route(std::net::IpAddr::V4(d.pool.network), d.pool.len) {
            Ok(()) => tracing::info!(pool = %d.pool, dnn = %d.name, %tun, "N6: UE pool routed into the TUN"),
            // The TUN's own subnet is routed already (EEXIST).
            Err(hexcore_netdev::Error::Sys { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => tracing::warn!(pool = %d.pool, "N6: cannot route the UE pool into {tun}: {e}"),
        }
    }
}

/// The SMF's subscription data from the in-process UDM (Nudm_SDM_Get, TS 29.503).
struct UdmSubscriptions(Arc<LocalUdm<RocksStore>>);

impl SubscriptionSource for UdmSubscriptions {
    fn subscription(&self, supi: String) -> BoxFuture<'_, Result<Subscription, SubscriptionFailure>> {
        Box::pin(async move {
            let imsi = Imsi::parse(&supi).map_err(|_| SubscriptionFailure::UnknownSubscriber)?;
            match self.0.subscription_data(imsi).await {
                Ok(d) => Ok(Subscription {
                    nssai: d
                        .nssai
                        .iter()
                        .map(|s| hexcore_sbi::Snssai { sst: s.sst, sd: s.sd })
                        .collect(),
                    dnns: d.dnns,
                    ambr: hexcore_smf::subscription::Ambr {
                        uplink_bps: d.ambr.uplink_bps,
                        downlink_bps: d.ambr.downlink_bps,
                    },
                }),
                Err(hexcore_udm::Error::UnknownSubscriber(_)) => Err(SubscriptionFailure::UnknownSubscriber),
                Err(e) => {
                    tracing::warn!(%supi, "subscription data: {e}");
                    Err(SubscriptionFailure::Unavailable)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_example_is_the_defaults_of_every_function() {
        let text = include_str!("../config/hexcore.example.toml");
        let (amf, smf, upf) = settings_from(text, Vec::new()).unwrap();
        assert_eq!(amf, hexcore_amf::Settings::default());
        assert_eq!(smf, hexcore_smf::Settings::default());
        assert_eq!(upf, hexcore_upf::Settings::default());
    }

    #[test]
    fn sections_of_nobody_and_overrides() {
        let e = settings_from("[amff]\nname = \"x\"\n", Vec::new()).unwrap_err();
        assert!(e.contains("unknown section [amff]"), "{e}");
        let vars = vec![
            ("HEXCORE_UPF__N3_ADDRESS".to_string(), "192.0.2.7".to_string()),
            ("HEXCORE_AMF__PLMN__MCC".to_string(), "001".to_string()),
            ("HEXCORE_SMF__USAGE__PERIOD_SECS".to_string(), "30".to_string()),
        ];
        let (amf, smf, upf) = settings_from("[upf]\nworkers = 2\n", vars).unwrap();
        assert_eq!(amf.amf.plmn.mcc, "001");
        assert_eq!(smf.smf.usage.period_secs, 30);
        assert_eq!(upf.upf.workers, 2);
        assert_eq!(upf.upf.n3_address.to_string(), "192.0.2.7");
        assert!(settings_from("[smf]\nbind = 7\n", Vec::new()).is_err());
    }
}
