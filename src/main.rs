//! The `hexcore` binary: one executable for every hexcore function.
//!
//! Each subcommand lives in its own module; `main` only parses the command line and maps
//! outcomes to exit codes (0 success, 1 the command ran and found problems, 2 it could not
//! run: bad arguments, unreadable input).

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod conformance;
mod pcap;
mod subscriber;
mod time;
mod up;

/// hexcore: the network core for community-owned 5G.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode the NGAP and NAS-5GS in a pcap/pcapng capture and check that every message
    /// re-encodes to the same bytes.
    ///
    /// Finds NGAP in SCTP over IP and in SCTP over UDP (RFC 6951, port 9899), prints one
    /// line per message, and exits non-zero if any message fails to decode or to re-encode
    /// byte for byte.
    Pcap(pcap::Args),
    /// Provision subscribers in the UDR: add, list, show, delete, import a CSV, and
    /// print the home-network public keys for SIM provisioning.
    Subscriber(subscriber::Args),
    /// Run the gNB/UE simulator against an AMF: the conformance scenarios (`run`), a
    /// registration load (`load`), the suite's subscribers as CSV (`subscribers`).
    Conformance(Box<conformance::Args>),
    /// Start the control plane (AMF with the AUSF/UDM in process): no configuration
    /// needed; `--config FILE` to change any of it. Stops cleanly on SIGTERM.
    Up(up::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Pcap(args) => pcap::run(&args),
        Command::Up(args) => up::run(&args),
        Command::Subscriber(args) => subscriber::run(&args),
        Command::Conformance(args) => conformance::run(&args),
    }
}

/// Reads a file named on the command line, with the name in the error.
fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
