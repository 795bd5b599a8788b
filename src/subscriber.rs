//! `hexcore subscriber add|list|show|delete|import|keys`: provisioning of the UDR.
//!
//! The store is the RocksDB UDR in `<data-dir>/udr`, the same one `hexcore up` opens; a
//! running `hexcore up` holds its lock, and the commands say so instead of waiting.
//! Keys are never printed in full (`46 5b…a6 bc`). Exit codes: 0 done, 2 refused
//! (malformed IMSI or key, duplicate, unknown IMSI, bad CSV row, locked store).
//!
//! CSV import (`import FILE`): a header line naming the columns, in any order:
//!
//! ```text
//! imsi,k,opc,op,amf,sqn,nssai,dnn,ambr_ul,ambr_dl
//! 999700000000001,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf,,8000,0,1;1:010203,internet;ims,100Mbps,1Gbps
//! ```
//!
//! `imsi` and `k` are required, and exactly one of `opc` / `op` per row; the others may be
//! left empty or left out (defaults: AMF 8000, SQN 0, S-NSSAI 1, DNN internet, AMBR
//! 1Gbps/1Gbps, `auth_method` 5g-aka; `eap-aka-prime` selects EAP-AKA'). Lists inside a field are separated by `;`. Blank lines and lines
//! starting with `#` are skipped. The import is all-or-nothing: the first bad row is
//! reported with its line number and nothing is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use hexcore_udm::subscriber::{format_bitrate, mask, parse_bitrate};
use hexcore_udm::{
    Ambr, Error, HnScheme, HomeNetworkKeys, Imsi, NewSubscriber, RocksStore, Snssai, Subscriber, UdrStore,
};

#[derive(clap::Args)]
pub struct Args {
    /// Data directory of hexcore (the UDR lives in its `udr` folder).
    #[arg(long, env = "HEXCORE_DATA_DIR", default_value = "hexcore-data", global = true)]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Provision one subscriber.
    Add(Box<AddArgs>),
    /// List all subscribers (keys masked).
    List,
    /// Show one subscriber (keys masked).
    Show {
        /// IMSI (digits, or imsi-…).
        imsi: String,
    },
    /// Delete one subscriber.
    Delete {
        /// IMSI (digits, or imsi-…).
        imsi: String,
    },
    /// Import subscribers from a CSV file, all or nothing.
    ///
    /// Header line: imsi,k,opc,op,amf,sqn,nssai,dnn,ambr_ul,ambr_dl (any order; imsi, k and
    /// opc or op required); lists inside a field separated by ';'.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
    /// Print the home-network public keys for SIM provisioning (SUCI Profile A and B),
    /// generating them if this data directory has none yet.
    Keys,
}

#[derive(clap::Args)]
struct AddArgs {
    /// IMSI: MCC + MNC + MSIN, 5 to 15 digits.
    #[arg(long)]
    imsi: String,
    /// Subscriber key K, 32 hex digits.
    #[arg(long)]
    k: String,
    /// OPc, 32 hex digits.
    #[arg(long, conflicts_with = "op", required_unless_present = "op")]
    opc: Option<String>,
    /// OP, 32 hex digits (converted to OPc now; OP is not stored).
    #[arg(long)]
    op: Option<String>,
    /// Authentication management field, 4 hex digits.
    #[arg(long, default_value = "8000")]
    amf: String,
    /// Initial SQN, up to 12 hex digits.
    #[arg(long, default_value = "0")]
    sqn: String,
    /// Allowed S-NSSAI: SST, or SST:SD with SD as six hex digits (repeatable).
    #[arg(long = "sst", visible_alias = "nssai", value_name = "SST[:SD]")]
    sst: Vec<String>,
    /// SD for the --sst of the same position that has none (repeatable).
    #[arg(long = "sd", value_name = "HEX")]
    sd: Vec<String>,
    /// Subscribed DNN (repeatable; default internet).
    #[arg(long = "dnn")]
    dnn: Vec<String>,
    /// Session AMBR uplink, e.g. 100Mbps.
    #[arg(long = "ambr-ul", default_value = "1Gbps")]
    ambr_ul: String,
    /// Session AMBR downlink, e.g. 1Gbps.
    #[arg(long = "ambr-dl", default_value = "1Gbps")]
    ambr_dl: String,
    /// Primary authentication: 5g-aka or eap-aka-prime (TS 33.501 §6.1.3).
    #[arg(long = "auth-method", default_value = "5g-aka")]
    auth_method: String,
}

pub fn run(args: &Args) -> ExitCode {
    match execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("hexcore subscriber: {msg}");
            ExitCode::from(2)
        }
    }
}

fn execute(args: &Args) -> Result<(), String> {
    // Validate the input before touching the store, so a typo never waits on a lock.
    match &args.command {
        Cmd::Add(a) => {
            let sub = build_from_args(a).map_err(|e| e.to_string())?;
            let store = open(&args.data_dir)?;
            store.insert_subscriber(&sub).map_err(|e| e.to_string())?;
            println!("added imsi-{}", sub.imsi);
            Ok(())
        }
        Cmd::List => {
            let store = open(&args.data_dir)?;
            let subs = store.subscribers().map_err(|e| e.to_string())?;
            println!(
                "{:<16} {:<13} {:<13} {:<4} {:<12} {:<16} {:<16} AMBR UL/DL",
                "IMSI", "K", "OPc", "AMF", "SQN", "S-NSSAI", "DNN"
            );
            for s in &subs {
                println!(
                    "{:<16} {:<13} {:<13} {:<4} {:<12} {:<16} {:<16} {}/{}",
                    s.imsi.as_str(),
                    mask(&s.k),
                    mask(&s.opc),
                    hex(&s.amf),
                    format!("{:012x}", s.sqn),
                    nssai_list(&s.nssai),
                    s.dnns.join(","),
                    format_bitrate(s.ambr.uplink_bps),
                    format_bitrate(s.ambr.downlink_bps),
                );
            }
            println!("{} subscriber(s)", subs.len());
            Ok(())
        }
        Cmd::Show { imsi } => {
            let imsi = Imsi::parse(imsi).map_err(|e| e.to_string())?;
            let store = open(&args.data_dir)?;
            let s = store.subscriber(&imsi).map_err(|e| e.to_string())?;
            print_subscriber(&s);
            Ok(())
        }
        Cmd::Delete { imsi } => {
            let imsi = Imsi::parse(imsi).map_err(|e| e.to_string())?;
            let store = open(&args.data_dir)?;
            store.delete_subscriber(&imsi).map_err(|e| e.to_string())?;
            println!("deleted imsi-{imsi}");
            Ok(())
        }
        Cmd::Import { file } => {
            let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let rows = parse_csv(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let store = open(&args.data_dir)?;
            // Name the line of a SUPI that already exists; the batch write below checks
            // again atomically.
            for (line, s) in &rows {
                if store.subscriber(&s.imsi).is_ok() {
                    return Err(format!(
                        "{}: line {line}: imsi-{} already exists; nothing imported",
                        file.display(),
                        s.imsi
                    ));
                }
            }
            let subs: Vec<Subscriber> = rows.into_iter().map(|(_, s)| s).collect();
            store
                .insert_subscribers(&subs)
                .map_err(|e| format!("{e}; nothing imported"))?;
            println!("imported {} subscriber(s)", subs.len());
            Ok(())
        }
        Cmd::Keys => {
            let store = open(&args.data_dir)?;
            let keys = HomeNetworkKeys::load_or_generate_os(&store).map_err(|e| e.to_string())?;
            print_hn_keys(&keys.public_keys());
            Ok(())
        }
    }
}

fn open(data_dir: &Path) -> Result<RocksStore, String> {
    RocksStore::open_in_data_dir(data_dir).map_err(|e| match e {
        Error::StoreLocked { path } => format!(
            "the subscriber store {path} is in use by another process — a running \
             `hexcore up` holds it; stop it first (or provision while it is down)"
        ),
        other => other.to_string(),
    })
}

fn build_from_args(a: &AddArgs) -> Result<Subscriber, Error> {
    if a.sd.len() > a.sst.len() {
        return Err(bad_nssai("more --sd than --sst values"));
    }
    let mut nssai = Vec::new();
    for (i, sst) in a.sst.iter().enumerate() {
        let mut s = Snssai::parse(sst)?;
        if let Some(sd) = a.sd.get(i) {
            if s.sd.is_some() {
                return Err(bad_nssai("an --sst in SST:SD form also got an --sd"));
            }
            s = Snssai::parse(&format!("{}:{sd}", s.sst))?;
        }
        nssai.push(s);
    }
    let ambr = Ambr {
        uplink_bps: parse_bitrate(&a.ambr_ul)?,
        downlink_bps: parse_bitrate(&a.ambr_dl)?,
    };
    NewSubscriber {
        imsi: &a.imsi,
        k: &a.k,
        opc: a.opc.as_deref(),
        op: a.op.as_deref(),
        amf: Some(&a.amf),
        sqn: Some(&a.sqn),
        nssai,
        dnns: a.dnn.clone(),
        ambr: Some(ambr),
        auth_method: Some(&a.auth_method),
    }
    .build()
}

fn bad_nssai(reason: &str) -> Error {
    Error::BadKey {
        what: "S-NSSAI",
        reason: reason.to_owned(),
    }
}

const COLUMNS: [&str; 11] = [
    "imsi",
    "k",
    "opc",
    "op",
    "amf",
    "sqn",
    "nssai",
    "dnn",
    "ambr_ul",
    "ambr_dl",
    "auth_method",
];

/// Parse the whole file: rows with their line numbers, or the first error with its line.
fn parse_csv(text: &str) -> Result<Vec<(usize, Subscriber)>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (hline, header) = lines
        .next()
        .ok_or("empty file: expected a header line such as imsi,k,opc,sqn")?;
    let names: Vec<String> = header.split(',').map(|c| c.trim().to_ascii_lowercase()).collect();
    let mut col = BTreeMap::new();
    for (i, n) in names.iter().enumerate() {
        if !COLUMNS.contains(&n.as_str()) {
            return Err(format!(
                "line {hline}: unknown column {n:?} (known: {})",
                COLUMNS.join(",")
            ));
        }
        if col.insert(n.clone(), i).is_some() {
            return Err(format!("line {hline}: column {n:?} appears twice"));
        }
    }
    for needed in ["imsi", "k"] {
        if !col.contains_key(needed) {
            return Err(format!("line {hline}: the header has no {needed:?} column"));
        }
    }
    if !col.contains_key("opc") && !col.contains_key("op") {
        return Err(format!("line {hline}: the header needs an \"opc\" or \"op\" column"));
    }
    let mut seen = BTreeMap::new();
    let mut rows = Vec::new();
    for (line, l) in lines {
        let fields: Vec<&str> = l.split(',').map(|f| f.trim().trim_matches('"').trim()).collect();
        if fields.len() != names.len() {
            return Err(format!(
                "line {line}: {} fields, the header has {}; nothing imported",
                fields.len(),
                names.len()
            ));
        }
        let s = parse_row(&col, &fields).map_err(|e| format!("line {line}: {e}; nothing imported"))?;
        if let Some(first) = seen.insert(s.imsi.clone(), line) {
            return Err(format!(
                "line {line}: imsi-{} repeats line {first}; nothing imported",
                s.imsi
            ));
        }
        rows.push((line, s));
    }
    Ok(rows)
}

fn parse_row(col: &BTreeMap<String, usize>, fields: &[&str]) -> Result<Subscriber, Error> {
    let get = |name: &str| -> Option<&str> {
        col.get(name)
            .and_then(|&i| fields.get(i).copied())
            .filter(|f| !f.is_empty())
    };
    let list = |name: &str| -> Vec<&str> {
        get(name)
            .map(|f| f.split(';').map(str::trim).filter(|x| !x.is_empty()).collect())
            .unwrap_or_default()
    };
    let nssai = list("nssai")
        .into_iter()
        .map(Snssai::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let default = Ambr::default();
    let ambr = Ambr {
        uplink_bps: get("ambr_ul")
            .map(parse_bitrate)
            .transpose()?
            .unwrap_or(default.uplink_bps),
        downlink_bps: get("ambr_dl")
            .map(parse_bitrate)
            .transpose()?
            .unwrap_or(default.downlink_bps),
    };
    NewSubscriber {
        imsi: get("imsi").unwrap_or(""),
        k: get("k").unwrap_or(""),
        opc: get("opc"),
        op: get("op"),
        amf: get("amf"),
        sqn: get("sqn"),
        nssai,
        dnns: list("dnn").into_iter().map(str::to_owned).collect(),
        ambr: Some(ambr),
        auth_method: get("auth_method"),
    }
    .build()
}

fn print_subscriber(s: &Subscriber) {
    println!("IMSI      {}", s.imsi);
    println!("K         {}", mask(&s.k));
    let src = match s.opc_source {
        hexcore_udm::OpcSource::Opc => "given as OPc",
        hexcore_udm::OpcSource::Op => "derived from OP",
    };
    println!("OPc       {} ({src})", mask(&s.opc));
    println!("AMF       {}", hex(&s.amf));
    println!(
        "SQN       {:012x} (SEQ {}, IND {})",
        s.sqn,
        hexcore_udm::sqn::seq(s.sqn),
        hexcore_udm::sqn::ind(s.sqn)
    );
    println!("S-NSSAI   {}", nssai_list(&s.nssai));
    println!("DNN       {}", s.dnns.join(", "));
    println!(
        "AMBR      UL {} / DL {}",
        format_bitrate(s.ambr.uplink_bps),
        format_bitrate(s.ambr.downlink_bps)
    );
    println!("Auth      {}", s.auth_method.as_str());
}

fn nssai_list(n: &[Snssai]) -> String {
    n.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(",")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Prints the home-network public keys a SIM vendor needs to conceal the SUPI
/// (TS 33.501 Annex C): used by `subscriber keys` and at `hexcore up`.
pub fn print_hn_keys(keys: &[hexcore_udm::HnPublicKey]) {
    println!("Home network public keys (TS 33.501 Annex C) for SIM provisioning:");
    for k in keys {
        let (profile, curve) = match k.scheme {
            HnScheme::ProfileA => ("A", "X25519"),
            HnScheme::ProfileB => ("B", "P-256, compressed"),
        };
        println!(
            "profile {profile} ({curve}) scheme id {} key id {}: {}",
            k.scheme.id(),
            k.id,
            k.public_key
        );
        if let Some(u) = &k.uncompressed {
            println!("profile {profile} (P-256, uncompressed) key id {}: {u}", k.id);
        }
    }
}
