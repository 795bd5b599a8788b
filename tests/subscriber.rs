//! `hexcore subscriber …` run as a user would: the built binary against a fresh data
//! directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

// TS 35.208 §4.3 test set 1 K / OP / OPc.
const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OP: &str = "cdc202d5123e20f62b6d676ac72cb318";
const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";

/// A data directory removed at the end of the test.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "hexcore-subscriber-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn hexcore(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hexcore"))
        .arg("subscriber")
        .args(args)
        .env("HEXCORE_DATA_DIR", dir)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

#[test]
fn add_list_show_delete() {
    let d = DataDir::new();
    let add = hexcore(
        &d.0,
        &[
            "add",
            "--imsi",
            "999700000000001",
            "--k",
            K,
            "--op",
            OP,
            "--sst",
            "1",
            "--sd",
            "010203",
            "--sst",
            "2",
            "--dnn",
            "internet",
            "--dnn",
            "ims",
            "--ambr-ul",
            "100Mbps",
        ],
    );
    assert_eq!(code(&add), 0, "{}", text(&add));

    let show = hexcore(&d.0, &["show", "imsi-999700000000001"]);
    assert_eq!(code(&show), 0, "{}", text(&show));
    let out = text(&show);
    assert!(out.contains("46 5b…a6 bc"), "{out}");
    assert!(out.contains("derived from OP"), "{out}");
    assert!(out.contains("1:010203,2"), "{out}");
    assert!(out.contains("internet, ims"), "{out}");
    assert!(out.contains("UL 100Mbps / DL 1Gbps"), "{out}");
    assert!(!out.contains(K) && !out.contains(OPC), "key printed in full: {out}");

    // The --data-dir flag names the same store as the environment variable.
    let list = Command::new(env!("CARGO_BIN_EXE_hexcore"))
        .args(["subscriber", "list", "--data-dir"])
        .arg(&d.0)
        .output()
        .unwrap();
    assert_eq!(code(&list), 0, "{}", text(&list));
    assert!(text(&list).contains("999700000000001"));
    assert!(text(&list).contains("1 subscriber(s)"));
    assert!(!text(&list).contains(K));

    let dup = hexcore(&d.0, &["add", "--imsi", "999700000000001", "--k", K, "--opc", OPC]);
    assert_eq!(code(&dup), 2);
    assert!(text(&dup).contains("already exists"), "{}", text(&dup));

    let del = hexcore(&d.0, &["delete", "999700000000001"]);
    assert_eq!(code(&del), 0, "{}", text(&del));
    let gone = hexcore(&d.0, &["show", "999700000000001"]);
    assert_eq!(code(&gone), 2);
    assert!(text(&gone).contains("unknown subscriber"), "{}", text(&gone));
    let del2 = hexcore(&d.0, &["delete", "999700000000001"]);
    assert_eq!(code(&del2), 2);
}

#[test]
fn malformed_input_is_refused_with_exit_2() {
    let d = DataDir::new();
    for (args, needle) in [
        (vec!["add", "--imsi", "99970abc", "--k", K, "--opc", OPC], "bad IMSI"),
        (vec!["add", "--imsi", "9997", "--k", K, "--opc", OPC], "bad IMSI"),
        (
            vec!["add", "--imsi", "999700000000001", "--k", "465b", "--opc", OPC],
            "bad K",
        ),
        (
            vec![
                "add",
                "--imsi",
                "999700000000001",
                "--k",
                K,
                "--opc",
                "zz63cb71954a9f4e48a5994e37a02baf",
            ],
            "bad OPc",
        ),
        (
            vec![
                "add",
                "--imsi",
                "999700000000001",
                "--k",
                K,
                "--opc",
                OPC,
                "--sst",
                "1:0102",
            ],
            "bad S-NSSAI",
        ),
        (
            vec![
                "add",
                "--imsi",
                "999700000000001",
                "--k",
                K,
                "--opc",
                OPC,
                "--amf",
                "80",
            ],
            "bad AMF",
        ),
        (vec!["show", "12"], "bad IMSI"),
    ] {
        let o = hexcore(&d.0, &args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    }
    // Nothing was written.
    let list = hexcore(&d.0, &["list"]);
    assert!(text(&list).contains("0 subscriber(s)"), "{}", text(&list));
}

#[test]
fn csv_import_is_all_or_nothing() {
    let d = DataDir::new();
    let good = d.0.join("good.csv");
    std::fs::write(
        &good,
        format!(
            "# exported from the old HSS\n\
             imsi,k,opc,op,amf,sqn,nssai,dnn,ambr_ul,ambr_dl\n\
             999700000000001,{K},{OPC},,8000,20,1;1:010203,internet;ims,100Mbps,1Gbps\n\
             \n\
             999700000000002,{K},,{OP},,,,,,\n"
        ),
    )
    .unwrap();
    let o = hexcore(&d.0, &["import", good.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("imported 2"), "{}", text(&o));
    let show = hexcore(&d.0, &["show", "999700000000002"]);
    assert!(text(&show).contains("derived from OP"), "{}", text(&show));
    assert!(text(&show).contains("SQN       000000000000"), "{}", text(&show));

    // Line 4 has a bad key: nothing from this file is written, not even line 3.
    let bad = d.0.join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "imsi,k,opc\n\
             999700000000003,{K},{OPC}\n\
             \n\
             999700000000004,{K},{}\n",
            &OPC[..30]
        ),
    )
    .unwrap();
    let o = hexcore(&d.0, &["import", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("line 4"), "{}", text(&o));
    assert!(text(&o).contains("nothing imported"), "{}", text(&o));
    assert_eq!(code(&hexcore(&d.0, &["show", "999700000000003"])), 2);

    // A row that exists already: named by line, nothing written.
    let dup = d.0.join("dup.csv");
    std::fs::write(
        &dup,
        format!("imsi,k,opc\n999700000000005,{K},{OPC}\n999700000000001,{K},{OPC}\n"),
    )
    .unwrap();
    let o = hexcore(&d.0, &["import", dup.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("line 3"), "{}", text(&o));
    assert_eq!(code(&hexcore(&d.0, &["show", "999700000000005"])), 2);

    // Unknown column in the header.
    let hdr = d.0.join("hdr.csv");
    std::fs::write(&hdr, "imsi,k,opc,colour\n").unwrap();
    let o = hexcore(&d.0, &["import", hdr.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("line 1"), "{}", text(&o));

    let list = hexcore(&d.0, &["list"]);
    assert!(text(&list).contains("2 subscriber(s)"), "{}", text(&list));
}

#[test]
fn keys_are_generated_once_and_printed() {
    let d = DataDir::new();
    let first = hexcore(&d.0, &["keys"]);
    assert_eq!(code(&first), 0, "{}", text(&first));
    let out = text(&first);
    assert!(out.contains("profile A (X25519) scheme id 1 key id 1: "), "{out}");
    assert!(
        out.contains("profile B (P-256, compressed) scheme id 2 key id 2: 0"),
        "{out}"
    );
    assert!(out.contains("(P-256, uncompressed) key id 2: 04"), "{out}");
    let again = hexcore(&d.0, &["keys"]);
    assert_eq!(text(&again), out, "keys must persist across runs");
}

#[test]
fn a_store_held_by_a_running_core_is_reported() {
    let d = DataDir::new();
    // Hold the store the way a running `hexcore up` does.
    let _held = hexcore_udm::RocksStore::open_in_data_dir(&d.0).unwrap();
    let o = hexcore(&d.0, &["list"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("hexcore up"), "{}", text(&o));
    // Bad input is refused before the lock is even tried.
    let o = hexcore(&d.0, &["add", "--imsi", "1", "--k", K, "--opc", OPC]);
    assert!(text(&o).contains("bad IMSI"), "{}", text(&o));
}

#[test]
fn authentication_method_from_the_cli_and_csv() {
    let d = DataDir::new();
    let add = |imsi: &str, method: &str| {
        hexcore(
            &d.0,
            &["add", "--imsi", imsi, "--k", K, "--opc", OPC, "--auth-method", method],
        )
    };
    let o = add("999700000000001", "eap-aka-prime");
    assert_eq!(code(&o), 0, "{}", text(&o));
    let show = hexcore(&d.0, &["show", "999700000000001"]);
    assert!(text(&show).contains("Auth      eap-aka-prime"), "{}", text(&show));
    // Without the option: 5G AKA.
    let o = hexcore(&d.0, &["add", "--imsi", "999700000000002", "--k", K, "--opc", OPC]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let show = hexcore(&d.0, &["show", "999700000000002"]);
    assert!(text(&show).contains("Auth      5g-aka"), "{}", text(&show));
    // An unknown method is refused, naming what is accepted; nothing is written.
    let o = add("999700000000003", "eap-tls");
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("5g-aka or eap-aka-prime"), "{}", text(&o));
    assert_eq!(code(&hexcore(&d.0, &["show", "999700000000003"])), 2);

    let csv = d.0.join("auth.csv");
    std::fs::write(
        &csv,
        format!("imsi,k,opc,auth_method\n999700000000004,{K},{OPC},eap-aka-prime\n999700000000005,{K},{OPC},\n"),
    )
    .unwrap();
    let o = hexcore(&d.0, &["import", csv.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&hexcore(&d.0, &["show", "999700000000004"])).contains("Auth      eap-aka-prime"));
    assert!(text(&hexcore(&d.0, &["show", "999700000000005"])).contains("Auth      5g-aka"));
}
