//! `hexcore upf`: the UPF alone (TS 29.244 N4, TS 29.281 N3, N6 on a TUN) until SIGTERM,
//! for an SMF in another process — `hexcore up --no-upf`, or another vendor's.

use std::path::PathBuf;
use std::process::ExitCode;

use hexcore_amf::glue::{self, LogFormat};

#[derive(clap::Args)]
pub struct Args {
    /// TOML configuration; only its [upf] section is read (see
    /// core-5g/upf/upf.example.toml). HEXCORE_UPF__… variables override it.
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
    glue::init_logging(args.log_format);
    let mut settings = match hexcore_upf::Settings::load(args.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hexcore upf: {e}");
            return ExitCode::from(2);
        }
    };
    if settings.upf.data_dir == hexcore_upf::Settings::default().upf.data_dir {
        settings.upf.data_dir = args.data_dir.join("upf");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hexcore upf: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(hexcore_upf::run_until_signal(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hexcore upf: {e:#}");
            ExitCode::from(2)
        }
    }
}
