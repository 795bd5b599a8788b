//! JSON-lines files: the file sink, and the line log under it that the spool shares.
//!
//! A file is a sequence of lines, each a JSON object and a `\n`. Lines are appended in
//! whole batches and synced before anything is acknowledged. A crash can leave a torn
//! last line (no `\n`): it was never acknowledged, and opening the file cuts it off, so
//! that the next append does not glue a record onto it. A complete line that does not
//! parse is corruption this crate never writes: opening refuses the file and names
//! the line.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use tokio::sync::oneshot;

use crate::dedupe::{DEFAULT_CAPACITY, Dedupe};
use crate::error::StoreError;
use crate::record::{ReportKey, UsageRecord};
use crate::sink::{BoxFuture, Receipt, UsageSink};

/// Batches the writer thread commits with one fsync at most.
const GROUP_COMMIT_BATCHES: usize = 256;

/// A usage file sink: one [`UsageRecord`] per line (the form of
/// [`UsageRecord::to_json`]), appended and fsynced by a thread of its own before the
/// acknowledgement; compatible with the `smf-usage.jsonl` the SMF wrote before this
/// crate (those lines read as records of URR 1).
///
/// Dedupe: on open the file is read and the keys of its records fill a [`Dedupe`]; a
/// record whose key is in it is acknowledged without being written again. Batches
/// queued while the thread syncs are written together and share one fsync.
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    jobs: mpsc::Sender<Job>,
}

struct Job {
    batch: Vec<UsageRecord>,
    reply: oneshot::Sender<Result<Receipt, StoreError>>,
}

impl JsonLinesSink {
    /// Open (create) the file and its directory, read it for dedupe and start the
    /// writer thread. Reads the whole file: call it where blocking is fine (at start,
    /// or in `spawn_blocking`).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_capacity(path, DEFAULT_CAPACITY)
    }

    /// As [`JsonLinesSink::open`], remembering at most `urrs` URRs for dedupe.
    pub fn open_with_capacity(path: impl AsRef<Path>, urrs: usize) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut dedupe = Dedupe::new(urrs);
        let log = LineLog::open(&path, |_, line| {
            let r: UsageRecord = serde_json::from_slice(line).map_err(|e| e.to_string())?;
            dedupe.insert(&r.key);
            Ok(())
        })?;
        let (jobs, rx) = mpsc::channel();
        let writer = Writer { log, dedupe };
        thread::Builder::new()
            .name("usage-jsonl".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(JsonLinesSink { path, jobs })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every record of a file, in order (a torn last line is left out: it was never
    /// acknowledged). For tests and tools; does not change the file.
    pub fn read_all(path: impl AsRef<Path>) -> Result<Vec<UsageRecord>, StoreError> {
        let mut records = Vec::new();
        scan(path.as_ref(), |_, line| {
            records.push(serde_json::from_slice(line).map_err(|e| e.to_string())?);
            Ok(())
        })?;
        Ok(records)
    }
}

impl UsageSink for JsonLinesSink {
    fn store(&self, batch: Vec<UsageRecord>) -> BoxFuture<Result<Receipt, StoreError>> {
        let (reply, rx) = oneshot::channel();
        if self.jobs.send(Job { batch, reply }).is_err() {
            return Box::pin(std::future::ready(Err(StoreError::Closed)));
        }
        Box::pin(async move { rx.await.unwrap_or(Err(StoreError::Closed)) })
    }
}

/// The writer thread's state: the file and the keys in it.
struct Writer {
    log: LineLog,
    dedupe: Dedupe,
}

impl Writer {
    fn run(mut self, jobs: mpsc::Receiver<Job>) {
        while let Ok(first) = jobs.recv() {
            let mut group = vec![first];
            while group.len() < GROUP_COMMIT_BATCHES
                && let Ok(job) = jobs.try_recv()
            {
                group.push(job);
            }
            self.commit(group);
        }
    }

    /// Write the new records of every job, sync once, answer every job.
    fn commit(&mut self, group: Vec<Job>) {
        let mut buf = Vec::new();
        let mut fresh: Vec<ReportKey> = Vec::new();
        let mut in_group: HashSet<ReportKey> = HashSet::new();
        let mut receipts = Vec::with_capacity(group.len());
        let mut encode_error = None;
        for job in &group {
            let mut receipt = Receipt::default();
            for r in &job.batch {
                if self.dedupe.contains(&r.key) || !in_group.insert(r.key.clone()) {
                    receipt.duplicates += 1;
                    continue;
                }
                if let Err(e) = serde_json::to_writer(&mut buf, r) {
                    encode_error.get_or_insert(StoreError::Encode(e.to_string()));
                }
                buf.push(b'\n');
                fresh.push(r.key.clone());
                receipt.stored += 1;
            }
            receipts.push(receipt);
        }
        let result = match encode_error {
            Some(e) => Err(e),
            None if buf.is_empty() => Ok(()),
            None => self.log.append(&buf),
        };
        if result.is_ok() {
            for key in &fresh {
                self.dedupe.insert(key);
            }
        }
        for (job, receipt) in group.into_iter().zip(receipts) {
            // A producer that stopped waiting is no reason to stop.
            let _ = job.reply.send(result.clone().map(|()| receipt));
        }
    }
}

/// An append-only file of lines, synced per append.
#[derive(Debug)]
pub(crate) struct LineLog {
    path: PathBuf,
    file: File,
    /// Length of what is synced and acknowledged.
    len: u64,
    /// A failed append may have left bytes past `len`: cut them before the next one.
    dirty: bool,
}

impl LineLog {
    /// Open (create) the file and its directory, give every complete line to `each`
    /// (1-based line number, the line without `\n`; blank lines skipped), cut a torn
    /// last line off.
    pub(crate) fn open(path: &Path, each: impl FnMut(u64, &[u8]) -> Result<(), String>) -> Result<LineLog, StoreError> {
        let io = |e| StoreError::io(path, e);
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
        let end = scan(path, each)?;
        if end.torn {
            // Never acknowledged: the append it belonged to did not return.
            file.set_len(end.complete).map_err(io)?;
            file.sync_all().map_err(io)?;
            tracing::warn!(file = %path.display(), "cut a torn last line off");
        }
        Ok(LineLog {
            path: path.to_path_buf(),
            file,
            len: end.complete,
            dirty: false,
        })
    }

    /// Append whole lines and sync them. On failure the file is cut back to what it
    /// was (now, or before the next append).
    pub(crate) fn append(&mut self, lines: &[u8]) -> Result<(), StoreError> {
        self.repair()?;
        let written = self.file.write_all(lines).and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.len += lines.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.dirty = true;
                // Best effort now; `repair` tries again before the next append.
                let _ = self.repair();
                Err(StoreError::io(&self.path, e))
            }
        }
    }

    /// Empty the file.
    pub(crate) fn clear(&mut self) -> Result<(), StoreError> {
        let io = |e| StoreError::io(&self.path, e);
        self.file.set_len(0).map_err(io)?;
        self.file.sync_all().map_err(io)?;
        self.len = 0;
        self.dirty = false;
        Ok(())
    }

    fn repair(&mut self) -> Result<(), StoreError> {
        if self.dirty {
            let io = |e| StoreError::io(&self.path, e);
            self.file.set_len(self.len).map_err(io)?;
            self.file.sync_all().map_err(io)?;
            self.dirty = false;
        }
        Ok(())
    }
}

/// Where a scan ended.
struct ScanEnd {
    /// Length of the complete lines.
    complete: u64,
    /// Bytes after them without a `\n`.
    torn: bool,
}

/// Read every complete line of a file (a missing file has none).
fn scan(path: &Path, mut each: impl FnMut(u64, &[u8]) -> Result<(), String>) -> Result<ScanEnd, StoreError> {
    let io = |e| StoreError::io(path, e);
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(ScanEnd {
                complete: 0,
                torn: false,
            });
        }
        Err(e) => return Err(io(e)),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let (mut complete, mut number) = (0u64, 0u64);
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(io)?;
        if n == 0 {
            return Ok(ScanEnd { complete, torn: false });
        }
        if line.last() != Some(&b'\n') {
            return Ok(ScanEnd { complete, torn: true });
        }
        number += 1;
        complete += n as u64;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        each(number, text).map_err(|reason| StoreError::Corrupt {
            path: path.to_path_buf(),
            line: number,
            reason,
        })?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::record;

    #[tokio::test]
    async fn appends_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/usage.jsonl");
        let sink = JsonLinesSink::open(&path).unwrap();
        let r = sink.store(vec![record(1, 1)]).await.unwrap();
        assert_eq!(
            r,
            Receipt {
                stored: 1,
                duplicates: 0
            }
        );
        drop(sink);
        let sink = JsonLinesSink::open(&path).unwrap();
        let r = sink.store(vec![record(1, 2), record(2, 1)]).await.unwrap();
        assert_eq!(
            r,
            Receipt {
                stored: 2,
                duplicates: 0
            }
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with(r#"{"supi":"999700000000001","pdu_session_id":1,"dnn":"internet","sst":1,"#));
        assert_eq!(
            JsonLinesSink::read_all(&path).unwrap(),
            [record(1, 1), record(1, 2), record(2, 1)]
        );
    }

    #[tokio::test]
    async fn dedupe_holds_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.jsonl");
        let sink = JsonLinesSink::open(&path).unwrap();
        // The same key twice in a batch, then again in another: one line.
        let r = sink.store(vec![record(1, 1), record(1, 1)]).await.unwrap();
        assert_eq!(
            r,
            Receipt {
                stored: 1,
                duplicates: 1
            }
        );
        let r = sink.store(vec![record(1, 1)]).await.unwrap();
        assert_eq!(
            r,
            Receipt {
                stored: 0,
                duplicates: 1
            }
        );
        drop(sink);
        // A restart: the keys come back from the file.
        let sink = JsonLinesSink::open(&path).unwrap();
        let r = sink.store(vec![record(1, 1), record(1, 2)]).await.unwrap();
        assert_eq!(
            r,
            Receipt {
                stored: 1,
                duplicates: 1
            }
        );
        assert_eq!(JsonLinesSink::read_all(&path).unwrap(), [record(1, 1), record(1, 2)]);
    }

    #[tokio::test]
    async fn concurrent_batches_share_commits_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.jsonl");
        let sink = JsonLinesSink::open(&path).unwrap();
        let acks: Vec<_> = (0..100u32).map(|i| sink.store(vec![record(u64::from(i), 1)])).collect();
        for ack in acks {
            assert_eq!(ack.await.unwrap().stored, 1);
        }
        assert_eq!(JsonLinesSink::read_all(&path).unwrap().len(), 100);
    }

    #[tokio::test]
    async fn torn_tail_is_cut_and_not_glued_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.jsonl");
        let line = record(1, 1).to_json().unwrap();
        // A crash in the middle of the second line's write.
        std::fs::write(&path, format!("{line}\n{}", &line[..40])).unwrap();
        assert_eq!(JsonLinesSink::read_all(&path).unwrap(), [record(1, 1)]);
        let sink = JsonLinesSink::open(&path).unwrap();
        assert_eq!(sink.store(vec![record(1, 2)]).await.unwrap().stored, 1);
        assert_eq!(JsonLinesSink::read_all(&path).unwrap(), [record(1, 1), record(1, 2)]);
    }

    #[test]
    fn a_corrupt_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.jsonl");
        let line = record(1, 1).to_json().unwrap();
        std::fs::write(&path, format!("{line}\n\n{{\"supi\":\"1\"}}\n{line}\n")).unwrap();
        match JsonLinesSink::open(&path) {
            Err(StoreError::Corrupt { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_legacy_file_opens_and_dedupes() {
        // A file the SMF wrote before this crate (no urr_id, the UPF with its port).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smf-usage.jsonl");
        let legacy = record(1, 1)
            .to_json()
            .unwrap()
            .replace(r#""upf":"10.0.0.2""#, r#""upf":"10.0.0.2:8805""#)
            .replace(r#""urr_id":1,"#, "");
        assert!(!legacy.contains("urr_id"));
        std::fs::write(&path, format!("{legacy}\n")).unwrap();
        let sink = JsonLinesSink::open(&path).unwrap();
        assert_eq!(
            sink.store(vec![record(1, 1)]).await.unwrap(),
            Receipt {
                stored: 0,
                duplicates: 1
            }
        );
    }
}
