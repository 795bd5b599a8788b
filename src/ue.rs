//! `hexcore ue list|deregister`: the operator's view of the UEs of a running
//! `hexcore up`, through its HTTP operator API (`/v1/ues`, on the metrics address).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

#[derive(clap::Args)]
pub struct Args {
    /// The operator API of `hexcore up` (its `[metrics] bind` address).
    #[arg(long, global = true, env = "HEXCORE_API", default_value = "http://127.0.0.1:9090")]
    api: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// List the UEs the AMF knows: connected and idle, with SUPI, state and 5G-TMSI.
    List {
        /// Print the API's JSON as it came.
        #[arg(long)]
        json: bool,
    },
    /// Deregister a UE from the network side (TS 24.501 §5.5.2.3): a connected UE gets
    /// a Deregistration Request; an idle one is deregistered implicitly.
    Deregister {
        /// SUPI: the IMSI digits (or imsi-…).
        supi: String,
    },
}

pub fn run(args: &Args) -> ExitCode {
    let addr = match api_addr(&args.api) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    match &args.command {
        Cmd::List { json } => match request(addr, "GET", "/v1/ues") {
            Ok((200, body)) if *json => {
                println!("{body}");
                ExitCode::SUCCESS
            }
            Ok((200, body)) => match serde_json::from_str::<Vec<serde_json::Value>>(&body) {
                Ok(ues) => {
                    println!(
                        "{:<17} {:<22} {:<5} {:>12} {:>10}",
                        "SUPI", "STATE", "CM", "AMF-UE-ID", "5G-TMSI"
                    );
                    for u in &ues {
                        let text = |k: &str| u[k].as_str().unwrap_or("-").to_string();
                        let num = |k: &str| u[k].as_u64().map_or("-".to_string(), |n| n.to_string());
                        let tmsi = u["tmsi"].as_u64().map_or("-".to_string(), |n| format!("{n:08x}"));
                        let cm = if u["cm_connected"].as_bool() == Some(true) {
                            "conn"
                        } else {
                            "idle"
                        };
                        println!(
                            "{:<17} {:<22} {:<5} {:>12} {:>10}",
                            text("supi"),
                            text("state"),
                            cm,
                            num("amf_ue_ngap_id"),
                            tmsi
                        );
                    }
                    println!("{} UE(s)", ues.len());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&format!("the API answered something that is not a UE list: {e}")),
            },
            Ok((status, body)) => fail(&format!("the API answered {status}: {}", body.trim())),
            Err(e) => fail(&e),
        },
        Cmd::Deregister { supi } => match request(addr, "POST", &format!("/v1/ues/{supi}/deregister")) {
            Ok((202, body)) => {
                print!("{body}");
                ExitCode::SUCCESS
            }
            Ok((404, body)) => {
                eprint!("hexcore ue: {body}");
                ExitCode::from(1)
            }
            Ok((status, body)) => fail(&format!("the API answered {status}: {}", body.trim())),
            Err(e) => fail(&e),
        },
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("hexcore ue: {msg}");
    ExitCode::from(2)
}

/// `http://host:port`, `host:port` → a socket address.
fn api_addr(api: &str) -> Result<SocketAddr, String> {
    let rest = api.strip_prefix("http://").unwrap_or(api);
    if api.starts_with("https://") {
        return Err("the operator API speaks plain HTTP (put TLS in front of it)".into());
    }
    let hostport = rest.trim_end_matches('/');
    hostport
        .to_socket_addrs()
        .map_err(|e| format!("bad --api {api:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("--api {api:?} resolves to no address"))
}

/// One HTTP/1.1 request with `Connection: close`; the status and the body.
fn request(addr: SocketAddr, method: &str, path: &str) -> Result<(u16, String), String> {
    let unreachable =
        |e: std::io::Error| format!("cannot reach the operator API at {addr}: {e} (is `hexcore up` running?)");
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(unreachable)?;
    s.set_read_timeout(Some(Duration::from_secs(10))).map_err(unreachable)?;
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).map_err(unreachable)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(unreachable)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP answer from {addr}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer from {addr}"))?;
    // axum answers these small bodies with Content-Length, never chunked.
    Ok((status, body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_addresses() {
        assert_eq!(
            api_addr("http://127.0.0.1:9090").unwrap(),
            "127.0.0.1:9090".parse().unwrap()
        );
        assert_eq!(api_addr("127.0.0.1:1/").unwrap(), "127.0.0.1:1".parse().unwrap());
        assert!(api_addr("https://127.0.0.1:9090").is_err());
        assert!(api_addr("http://nowhere").is_err());
    }
}
