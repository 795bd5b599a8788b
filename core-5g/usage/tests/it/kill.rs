//! kill -9 of a producer: nothing acknowledged is lost, nothing is counted twice.
//!
//! The parent runs this test binary again as a child (the ignored test
//! [`child`]), which hands records to an [`Outbox`] over a [`JsonLinesSink`] as fast as
//! it can — every other one through `submit` (acknowledged once in the file), the
//! others through `spool` (acknowledged once in the spool) — and prints each
//! acknowledged UR-SEQN. The parent kills it with SIGKILL somewhere in the middle,
//! starts an outbox on the same files, and checks the usage file: every acknowledged
//! report is there, no report is there twice.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use hexcore_usage::{
    Counts, Interval, JsonLinesSink, NodeId, Outbox, OutboxConfig, ReportKey, Seid, SessionContext, Supi, Triggers,
    UrSeqn, UrrId, UrrKey, UsageRecord,
};

/// Where the child writes: given through the environment.
const DIR_VAR: &str = "HEXCORE_USAGE_KILL_TEST_DIR";
/// Acknowledgements the parent waits for before it kills.
const KILL_AFTER: usize = 300;
/// The child stops by itself after this many (if nobody kills it).
const CHILD_LIMIT: u32 = 100_000;

fn record(ur_seqn: u32) -> UsageRecord {
    UsageRecord {
        session: SessionContext::new(Supi::imsi("999700000000001").expect("valid SUPI"), 1),
        key: ReportKey {
            urr: UrrKey {
                upf: NodeId::Ipv4(Ipv4Addr::new(10, 0, 0, 2)),
                seid: Seid(1),
                urr_id: UrrId(1),
            },
            ur_seqn: UrSeqn(ur_seqn),
        },
        triggers: Triggers::EMPTY,
        interval: Interval::default(),
        duration_secs: None,
        octets: Counts {
            uplink: u64::from(ur_seqn),
            downlink: 0,
            total: u64::from(ur_seqn),
        },
        packets: Counts::default(),
    }
}

fn files(dir: &Path) -> (std::path::PathBuf, OutboxConfig) {
    (
        dir.join("usage.jsonl"),
        OutboxConfig::new(dir.join("usage-spool.jsonl")),
    )
}

/// The producer that gets killed. Runs only as the parent's child.
#[tokio::test]
#[ignore = "run by kill_9_loses_nothing_acknowledged_and_doubles_nothing as its child"]
async fn child() {
    let dir = std::path::PathBuf::from(std::env::var(DIR_VAR).expect("run by the parent test"));
    let (usage, config) = files(&dir);
    let sink = Arc::new(JsonLinesSink::open(&usage).expect("usage file"));
    let (outbox, _task) = Outbox::start(config, sink).await.expect("outbox");
    // Rounds of 32 in flight at once, so that the kill finds records in every state:
    // handed over, in the spool, in the usage file, acknowledged or not.
    for round in 0..CHILD_LIMIT / 32 {
        let acks: Vec<_> = (1..=32)
            .map(|i| {
                let n = round * 32 + i;
                if n % 2 == 0 {
                    (n, "spooled", outbox.spool(vec![record(n)]))
                } else {
                    (n, "stored", outbox.submit(vec![record(n)]))
                }
            })
            .collect();
        for (n, how, ack) in acks {
            if ack.await.is_ok() {
                println!("acked {how} {n}");
            }
        }
    }
}

#[tokio::test]
async fn kill_9_loses_nothing_acknowledged_and_doubles_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--ignored", "--exact", "kill::child", "--nocapture", "--test-threads=1"])
        .env(DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child");
    let stdout = child.stdout.take().expect("piped");
    let mut acked = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child output");
        if let Some(n) = line.rsplit(' ').next().and_then(|n| n.parse::<u32>().ok())
            && line.starts_with("acked ")
        {
            acked.push(n);
            if acked.len() >= KILL_AFTER {
                break;
            }
        }
    }
    assert!(
        acked.len() >= KILL_AFTER,
        "the child stopped early: {} acks",
        acked.len()
    );
    // SIGKILL: no destructor, no flush, no shutdown.
    child.kill().expect("kill");
    let _ = child.wait();

    // The next start delivers what the spool holds.
    let (usage, config) = files(dir.path());
    let sink = Arc::new(JsonLinesSink::open(&usage).expect("usage file"));
    let (outbox, task) = Outbox::start(config.clone(), sink).await.expect("outbox");
    // A record through the same path, to know the spool's backlog went before it.
    outbox.spool(vec![record(CHILD_LIMIT + 1)]).await.expect("spooled");
    for _ in 0..500 {
        let records = JsonLinesSink::read_all(&usage).expect("readable");
        if records.iter().any(|r| r.key.ur_seqn.0 == CHILD_LIMIT + 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.shutdown().await;

    let mut count: HashMap<u32, usize> = HashMap::new();
    for r in JsonLinesSink::read_all(&usage).expect("readable") {
        assert_eq!(r, record(r.key.ur_seqn.0), "the record as it was written");
        *count.entry(r.key.ur_seqn.0).or_default() += 1;
    }
    let twice: Vec<_> = count.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "counted twice: {twice:?}");
    let missing: Vec<_> = acked.iter().filter(|n| !count.contains_key(n)).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert!(count.contains_key(&(CHILD_LIMIT + 1)));
}
