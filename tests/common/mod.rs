//! A lab for the end-to-end tests: `hexcore up` (and, when asked, a `hexcore upf` of its
//! own) with a temporary data directory, the suite's subscribers provisioned, and — when
//! this process may (root, `ip netns`) — everything inside a network namespace of its
//! own, so the UPF's TUN, its routes and the fixed ports (PFCP 8805/8806, GTP-U 2152)
//! touch nothing outside, and a "data network" namespace behind N6 on a veth pair.
//! Everything is removed when the lab drops.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_hexcore");

/// A network namespace, deleted on drop.
pub struct Netns(pub String);

impl Netns {
    /// A fresh namespace with loopback up, if this process can make one.
    pub fn new(tag: &str) -> Option<Netns> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("hx{tag}{}-{n}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    /// `ip -n NS …`, which must succeed.
    pub fn ip(&self, args: &[&str]) {
        let st = Command::new("ip").arg("-n").arg(&self.0).args(args).status().unwrap();
        assert!(st.success(), "ip -n {} {}", self.0, args.join(" "));
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, program]);
        c
    }

    /// Write a sysctl inside the namespace.
    pub fn sysctl(&self, path: &str, value: &str) {
        let st = self
            .command("sh")
            .arg("-c")
            .arg(format!("echo {value} > /proc/sys/{path}"))
            .status()
            .unwrap();
        assert!(st.success(), "sysctl {path} in {}", self.0);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Whether this process can build namespaced labs (root with iproute2 and TUN).
pub fn can_namespace() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    root && Path::new("/dev/net/tun").exists() && Command::new("ip").arg("-V").output().is_ok()
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(mut c: Command) -> Output {
    let o = c.output().expect("hexcore runs");
    if !o.status.success() {
        eprintln!(
            "{c:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    o
}

/// The data network behind N6: a namespace on a veth pair, 10.99.0.2 there and
/// 10.99.0.1 on the core's side, the UE pools routed back through the core.
pub struct DataNetwork {
    pub ns: Netns,
    /// The host the UEs ping.
    pub host: &'static str,
}

/// Where a lab's `hexcore up` serves.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    /// The core's namespace (`None`: this host's, control plane only).
    pub ns: Option<Netns>,
    pub dn: Option<DataNetwork>,
    pub core: Option<Proc>,
    pub upf: Option<Proc>,
    pub amf: String,
    pub api: String,
    pub config: PathBuf,
    /// `hexcore subscriber keys`.
    pub keys: String,
}

/// A second DNN for the two-DNN scenario, besides the default `internet`.
const CONFIG: &str = r#"
[[smf.dnns]]
name = "internet"
pool = "10.45.0.0/16"
dns = ["8.8.8.8", "1.1.1.1"]

[[smf.dnns]]
name = "ims"
pool = "10.46.0.0/16"
dns = ["8.8.8.8"]
"#;

impl Lab {
    /// Provision `subscribers` of the suite; in a namespace when possible.
    pub fn new(subscribers: usize, namespaced: bool) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let csv = run({
            let mut c = Command::new(BIN);
            c.env("HEXCORE_DATA_DIR", &data).args([
                "conformance",
                "subscribers",
                "--subscribers",
                &subscribers.to_string(),
            ]);
            c
        });
        assert!(csv.status.success());
        let csv_path = dir.path().join("subs.csv");
        std::fs::write(&csv_path, &csv.stdout).unwrap();
        let mut c = Command::new(BIN);
        c.env("HEXCORE_DATA_DIR", &data)
            .args(["subscriber", "import"])
            .arg(&csv_path);
        assert!(run(c).status.success());
        // The home-network keys (read now: `hexcore up` holds the store's lock).
        let mut c = Command::new(BIN);
        c.env("HEXCORE_DATA_DIR", &data).args(["subscriber", "keys"]);
        let keys = run(c);
        assert!(keys.status.success());
        let keys = String::from_utf8_lossy(&keys.stdout).to_string();
        let config = dir.path().join("hexcore.toml");
        std::fs::write(&config, CONFIG).unwrap();
        let ns = if namespaced { Netns::new("c") } else { None };
        // In a namespace of its own the core has the default ports; on this host it
        // takes free ones.
        let (amf, api) = if ns.is_some() {
            ("127.0.0.1:9899".to_string(), "127.0.0.1:9090".to_string())
        } else {
            (
                format!("127.0.0.1:{}", free_udp_port()),
                format!("127.0.0.1:{}", free_tcp_port()),
            )
        };
        Lab {
            dir,
            data,
            ns,
            dn: None,
            core: None,
            upf: None,
            amf,
            api,
            config,
            keys,
        }
    }

    /// A `hexcore …` command in the lab (its namespace, its data directory).
    pub fn hexcore(&self) -> Command {
        let mut c = match &self.ns {
            Some(ns) => ns.command(BIN),
            None => Command::new(BIN),
        };
        c.env("HEXCORE_DATA_DIR", &self.data);
        c
    }

    /// The data network behind N6 (needs the namespace).
    pub fn add_data_network(&mut self) {
        let core = self.ns.as_ref().expect("a namespaced lab");
        let dn = Netns::new("d").expect("a data network namespace");
        // Interface names: at most 15 characters, unique per lab.
        let tag = dn.0.trim_start_matches("hxd").replace('-', "");
        let (a, b) = (format!("hxa{tag}"), format!("hxb{tag}"));
        core.ip(&["link", "add", &a, "type", "veth", "peer", "name", &b, "netns", &dn.0]);
        core.ip(&["addr", "add", "10.99.0.1/24", "dev", &a]);
        core.ip(&["link", "set", &a, "up"]);
        dn.ip(&["addr", "add", "10.99.0.2/24", "dev", &b]);
        dn.ip(&["link", "set", &b, "up"]);
        dn.ip(&["route", "add", "10.45.0.0/16", "via", "10.99.0.1"]);
        dn.ip(&["route", "add", "10.46.0.0/16", "via", "10.99.0.1"]);
        core.sysctl("net/ipv4/ip_forward", "1");
        self.dn = Some(DataNetwork {
            ns: dn,
            host: "10.99.0.2",
        });
    }

    /// Start `hexcore up` (without its UPF when `own_upf`, which then runs as a
    /// `hexcore upf` of its own) and wait until it answers NG Setup.
    pub fn start(&mut self, own_upf: bool) {
        if own_upf {
            self.start_upf();
        }
        let (_, port) = self.amf.rsplit_once(':').unwrap();
        let mut c = self.hexcore();
        c.arg("up")
            .arg("--no-nat")
            .arg("--config")
            .arg(&self.config)
            .env("HEXCORE_N2__BIND", "127.0.0.1")
            .env("HEXCORE_N2__UDP_PORT", port)
            .env("HEXCORE_N2__KERNEL_SCTP", "false")
            .env("HEXCORE_METRICS__BIND", &self.api)
            .env("HEXCORE_UPF__N3_BIND", "127.0.0.1:2152")
            // UPF restarts found in 2 s rather than the default 10 s.
            .env("HEXCORE_SMF__PFCP__HEARTBEAT_INTERVAL_SECS", "2")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("up.log")).unwrap());
        if own_upf {
            c.arg("--no-upf");
        }
        self.core = Some(Proc(c.spawn().unwrap()));
        let start = Instant::now();
        loop {
            let mut c = self.hexcore();
            c.args(["conformance", "run", "--amf", &self.amf, "--scenario", "ng-setup"])
                .args(["--timeout-ms", "500", "--out"])
                .arg(self.dir.path().join("probe"));
            if c.output().unwrap().status.success() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "hexcore up never answered NG Setup:\n{}",
                self.log("up.log")
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        if self.ns.is_some() {
            // The SMF's PFCP association with the UPF.
            let start = Instant::now();
            while !self.log("up.log").contains("association up") && !self.log("upf.log").contains("association up") {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "no PFCP association:\n{}\n{}",
                    self.log("up.log"),
                    self.log("upf.log")
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// SIGTERM to `hexcore up`, and wait for its clean stop.
    pub fn stop_core(&mut self) {
        let mut p = self.core.take().expect("a running core");
        let _ = Command::new("kill").arg("-TERM").arg(p.0.id().to_string()).status();
        let start = Instant::now();
        while p.0.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < Duration::from_secs(20), "no clean stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL to `hexcore up`: a crash.
    pub fn kill_core(&mut self) {
        drop(self.core.take());
    }

    /// `hexcore conformance load` with `ues` UEs at `rate` per second.
    pub fn load(&self, ues: usize, rate: u32) -> Command {
        let mut c = self.hexcore();
        c.args(["conformance", "load", "--amf", &self.amf])
            .args(["--ues", &ues.to_string(), "--subscribers", &ues.to_string()])
            .args(["--rate", &rate.to_string(), "--timeout-ms", "5000"]);
        c
    }

    /// `tcpdump` on the core namespace's loopback for PFCP (N4) and GTP-U (N3), into
    /// `n3n4.pcap`; `None` without tcpdump. Stop it (drop) before reading the file.
    pub fn capture_n3_n4(&self) -> Option<Proc> {
        let ns = self.ns.as_ref()?;
        if Command::new("tcpdump").arg("--version").output().is_err() {
            eprintln!("note: no tcpdump: N3/N4 capture skipped");
            return None;
        }
        let mut c = ns.command("tcpdump");
        c.args(["-i", "lo", "-U", "-s", "0", "-w"])
            .arg(self.dir.path().join("n3n4.pcap"))
            .args(["udp port 8805 or udp port 8806 or udp port 2152"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let p = Proc(c.spawn().unwrap());
        // tcpdump needs a moment to open the interface.
        std::thread::sleep(Duration::from_millis(500));
        Some(p)
    }

    /// Start (or start again) the lab's own `hexcore upf`.
    pub fn start_upf(&mut self) {
        self.upf = None;
        let mut c = self.hexcore();
        c.arg("upf")
            .arg("--config")
            .arg(&self.config)
            .env("HEXCORE_UPF__N3_BIND", "127.0.0.1:2152")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.path().join("upf.log"))
                    .unwrap(),
            );
        self.upf = Some(Proc(c.spawn().unwrap()));
    }

    /// A file of the lab's directory, as text ("" when absent).
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// `hexcore conformance run` with the lab's keys and commands, and more arguments;
    /// the report as JSON and the printed table.
    pub fn conformance(&self, extra: &[&str]) -> (serde_json::Value, String) {
        let (a_id, a_key) = key(&self.keys, "A");
        let (b_id, b_key) = key(&self.keys, "B");
        let out = self.dir.path().join("out");
        let mut c = self.hexcore();
        c.args(["conformance", "run", "--amf", &self.amf, "--transport", "udp"])
            .args(["--profile-a-key", &a_key, "--profile-a-id", &a_id])
            .args(["--profile-b-key", &b_key, "--profile-b-id", &b_id])
            .args(["--timeout-ms", "10000"])
            .arg("--network-deregister-cmd")
            .arg(format!("'{BIN}' ue deregister --api http://{} {{supi}}", self.api))
            .args(extra)
            .arg("--out")
            .arg(&out);
        if self.ns.is_some() {
            // Downlink data towards an idle UE, from the core's namespace (bash's
            // /dev/udp: no tool needed).
            c.arg("--downlink-cmd")
                .arg("bash -c 'echo downlink > /dev/udp/{ue_ip}/9'");
        }
        let o = c.output().unwrap();
        let table = format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let report = std::fs::read(out.join("report.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| panic!("no report:\n{table}\n{}", self.log("up.log")));
        (report, table)
    }

    /// The SMF's usage records.
    pub fn usage(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.data.join("smf-usage.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `hexcore pcap` on the suite's capture: zero failures.
    pub fn pcap_clean(&self) -> serde_json::Value {
        let o = run({
            let mut c = Command::new(BIN);
            c.args(["pcap", "--json"])
                .arg(self.dir.path().join("out/conformance.pcap"));
            c
        });
        assert!(o.status.success(), "hexcore pcap failed on the suite's capture");
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // SIGTERM first: the core stops cleanly (final usage reports) before the
        // namespace goes.
        for p in [self.core.as_ref(), self.upf.as_ref()].into_iter().flatten() {
            let _ = Command::new("kill").arg("-TERM").arg(p.0.id().to_string()).status();
        }
        let start = Instant::now();
        for p in [self.core.as_mut(), self.upf.as_mut()].into_iter().flatten() {
            while p.0.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// `profile A … key id 1: <hex>` lines of `hexcore subscriber keys`.
pub fn key(keys: &str, profile: &str) -> (String, String) {
    let line = keys
        .lines()
        .find(|l| l.starts_with(&format!("profile {profile} (")) && !l.contains("uncompressed"))
        .unwrap_or_else(|| panic!("no profile {profile} key in:\n{keys}"));
    let (head, hex) = line.rsplit_once(": ").unwrap();
    let id = head.rsplit_once("key id ").unwrap().1.trim().to_string();
    (id, hex.trim().to_string())
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Outcomes by scenario name.
pub fn verdicts(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_string(),
                o["verdict"].as_str().unwrap().to_string(),
                o["detail"].to_string(),
            )
        })
        .collect()
}

pub fn data_dir_of(lab: &Lab) -> &Path {
    &lab.data
}
