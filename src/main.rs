//! The `hexcore` binary.
use clap::Parser;

/// hexcore: the network core for community-owned 5G.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
