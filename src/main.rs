//! The `hexcore` binary: one executable for every hexcore function.
//!
//! Each subcommand lives in its own module; `main` only parses the command line and maps
//! outcomes to exit codes (0 success, 1 the command ran and found problems, 2 it could not
//! run: bad arguments, unreadable input).

use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod conformance;
mod links;
mod nat;
mod pcap;
mod process;
mod subscriber;
mod time;
mod ue;
mod up;
mod upf;
mod user_plane;

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
    /// Start the whole core in one process: the AMF with the AUSF/UDM, the SMF, and the
    /// UPF (unless `--no-upf`). No configuration needed; `--config FILE` to change any of
    /// it. Metrics, health and the operator API on 127.0.0.1:9090. Stops cleanly on
    /// SIGTERM.
    Up(up::Args),
    /// The UEs of a running `hexcore up`: list them, deregister one (operator API).
    Ue(ue::Args),
    /// Run a UPF alone (N4 PFCP, N3 GTP-U, N6 TUN), for an SMF elsewhere: another
    /// `hexcore up --no-upf`, or another vendor's SMF. Needs CAP_NET_ADMIN. Metrics and
    /// health on 127.0.0.1:9091.
    Upf(upf::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Pcap(_) | Command::Subscriber(_) | Command::Ue(_)) {
        quiet_on_closed_pipe();
    }
    match cli.command {
        Command::Pcap(args) => pcap::run(&args),
        Command::Up(args) => up::run(&args),
        Command::Subscriber(args) => subscriber::run(&args),
        Command::Conformance(args) => conformance::run(&args),
        Command::Ue(args) => ue::run(&args),
        Command::Upf(args) => upf::run(&args),
    }
}

/// Reads a file named on the command line, with the name in the error.
fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `hexcore subscriber list | head` must end quietly when `head` closes the pipe, as Unix
/// tools do. Rust ignores SIGPIPE, which turns the write error into a panic in
/// `println!`; the commands that only print get the default disposition back. (Not the
/// servers and the simulator: a peer closing a socket must not kill them.)
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: `signal` with SIG_DFL for SIGPIPE installs no handler code; it is called
    // before this process starts any thread.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
