//! N6 NAT for `hexcore up`: the UE pools leave the host masqueraded behind its uplink,
//! as open5gs's and free5GC's install guides set up by hand. One rule per pool, for
//! traffic that leaves by any interface but the UPF's TUN, and IPv4 forwarding on; both
//! are undone when the guard drops (the rule deleted, forwarding as it was).
//!
//! iptables when it is installed, else nft (table `ip hexcore`). Neither: a warning
//! says so, and the core runs without NAT (UEs reach what routes to the pool).

use std::process::Command;

/// The rules in force; dropping it removes them.
pub struct Nat {
    undo: Vec<Vec<String>>,
    forwarding_was: Option<String>,
}

const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";

impl Nat {
    /// Masquerade `pools` (CIDR strings) leaving by anything but `tun`.
    pub fn up(pools: &[String], tun: &str) -> Option<Nat> {
        let forwarding_was = std::fs::read_to_string(IP_FORWARD).ok().map(|s| s.trim().to_string());
        if forwarding_was.as_deref() != Some("1")
            && let Err(e) = std::fs::write(IP_FORWARD, "1")
        {
            tracing::warn!("N6 NAT: cannot turn on IPv4 forwarding ({e}); UEs will not reach the internet");
            return None;
        }
        let mut nat = Nat {
            undo: Vec::new(),
            forwarding_was,
        };
        let iptables = which("iptables");
        if !iptables && which("nft") {
            let table: &[&[&str]] = &[
                &["add", "table", "ip", "hexcore"],
                &[
                    "add",
                    "chain",
                    "ip",
                    "hexcore",
                    "postrouting",
                    "{",
                    "type",
                    "nat",
                    "hook",
                    "postrouting",
                    "priority",
                    "100",
                    ";",
                    "}",
                ],
            ];
            for args in table {
                if !run("nft", args) {
                    return Some(nat);
                }
            }
            nat.undo
                .push(["nft", "delete", "table", "ip", "hexcore"].map(String::from).to_vec());
        }
        for pool in pools {
            let ok = if iptables {
                let rule = ["-s", pool, "!", "-o", tun, "-j", "MASQUERADE"];
                let added = run("iptables", &[&["-t", "nat", "-A", "POSTROUTING"][..], &rule].concat());
                if added {
                    let mut undo: Vec<String> = ["iptables", "-t", "nat", "-D", "POSTROUTING"]
                        .map(String::from)
                        .to_vec();
                    undo.extend(rule.iter().map(|s| s.to_string()));
                    nat.undo.push(undo);
                }
                added
            } else if which("nft") {
                run(
                    "nft",
                    &[
                        "add",
                        "rule",
                        "ip",
                        "hexcore",
                        "postrouting",
                        "ip",
                        "saddr",
                        pool,
                        "oifname",
                        "!=",
                        tun,
                        "masquerade",
                    ],
                )
            } else {
                tracing::warn!("N6 NAT: neither iptables nor nft is installed; run with --no-nat, or install one");
                false
            };
            if ok {
                tracing::info!(%pool, %tun, "N6 NAT: masquerading the UE pool");
            }
        }
        Some(nat)
    }
}

impl Drop for Nat {
    fn drop(&mut self) {
        for cmd in self.undo.drain(..).rev() {
            let args: Vec<&str> = cmd[1..].iter().map(String::as_str).collect();
            run(&cmd[0], &args);
        }
        if let Some(was) = &self.forwarding_was
            && was != "1"
        {
            let _ = std::fs::write(IP_FORWARD, was);
        }
    }
}

fn which(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(tool: &str, args: &[&str]) -> bool {
    match Command::new(tool).args(args).output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            tracing::warn!(
                "N6 NAT: {tool} {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            );
            false
        }
        Err(e) => {
            tracing::warn!("N6 NAT: cannot run {tool}: {e}");
            false
        }
    }
}
