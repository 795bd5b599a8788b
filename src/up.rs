//! `hexcore up`: start the control plane. Thin on purpose: parse the arguments, load
//! the AMF's `Settings` (none needed: the defaults run), open the UDR under the data
//! directory (the same one `hexcore subscriber` provisions), and hand over to
//! `hexcore_amf::glue`, which runs until SIGTERM or SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use hexcore_amf::Settings;
use hexcore_amf::glue::{self, LogFormat, udm::UdmApiBackend};
use hexcore_udm::LocalUdm;

#[derive(clap::Args)]
pub struct Args {
    /// TOML configuration (see config/hexcore.example.toml); without one the defaults
    /// run: PLMN 999/70, TAC 1, SST 1, N2 on SCTP/UDP 9899 and kernel SCTP 38412.
    /// Any key can be overridden as HEXCORE_<SECTION>__<KEY>, e.g. HEXCORE_AMF__PLMN__MCC.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory: the subscriber store lives in <data-dir>/udr.
    #[arg(long, env = "HEXCORE_DATA_DIR", default_value = "hexcore-data")]
    data_dir: PathBuf,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    log_format: LogFormat,
}

pub fn run(args: &Args) -> ExitCode {
    glue::init_logging(args.log_format);
    let settings = match Settings::load(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hexcore up: {e}");
            return ExitCode::from(2);
        }
    };
    let udm = match LocalUdm::open_in_data_dir(&args.data_dir) {
        Ok(u) => u,
        Err(e) => {
            eprintln!(
                "hexcore up: cannot open the subscriber store in {}: {e}",
                args.data_dir.display()
            );
            return ExitCode::from(2);
        }
    };
    crate::subscriber::print_hn_keys(&udm.udm().hn_public_keys());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hexcore up: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let backend = Arc::new(UdmApiBackend(Arc::new(udm)));
    match runtime.block_on(glue::run_until_signal(settings, backend)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hexcore up: {e:#}");
            ExitCode::from(2)
        }
    }
}
