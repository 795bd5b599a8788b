//! The spool file: where usage that nobody can acknowledge waits for the sink.
//!
//! Reports in a PFCP Session Modification Response (TS 29.244 §7.5.5.2) or Session
//! Deletion Response (§7.5.7.2) answer the SMF's own request: there is no response the
//! SMF could hold back until the records are stored (as it does for a Session Report
//! Request, §7.5.8), and the UPF forgets them once it has sent them. So they are
//! appended and synced here first, and handed to the sink from here.
//!
//! Format: JSON lines, each either a record or a drain mark:
//!
//! ```text
//! {"record":{"supi":"999700000000001",…}}     a spooled record (the sink file's form)
//! {"drained":3}                               the first 3 records reached the sink
//! ```
//!
//! On open, the records after the highest mark are pending, in order. A mark lost in a
//! crash only means records are delivered again, which the sink's dedupe absorbs. Once
//! every record is delivered the file is emptied (a crash in between leaves either the
//! old content, all marked, or nothing).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::jsonl::LineLog;
use crate::record::UsageRecord;

/// One line of the spool, as read.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum SpoolLine {
    /// A record waiting for the sink.
    Record(Box<UsageRecord>),
    /// The first this-many records of the file reached the sink.
    Drained(u64),
}

/// One line of the spool, as written (borrowing the record).
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum SpoolLineRef<'a> {
    Record(&'a UsageRecord),
    Drained(u64),
}

/// What a spool asks of its file, in order (from [`Pipeline`](crate::Pipeline)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpoolOp {
    /// Append the records and sync them.
    Append(Vec<UsageRecord>),
    /// The first this-many records of the file reached the sink.
    MarkDrained(u64),
    /// Every record reached the sink: empty the file.
    Clear,
}

/// What an opened spool still holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recovered {
    /// Records of the file (delivered or not).
    pub records: u64,
    /// How many of them the last mark says were delivered.
    pub drained: u64,
    /// The records after those, in order: to deliver.
    pub pending: Vec<UsageRecord>,
}

/// The spool file.
#[derive(Debug)]
pub struct SpoolFile {
    log: LineLog,
}

impl SpoolFile {
    /// Open (create) the spool and read what it holds. Blocking; a fully drained
    /// spool is emptied.
    pub fn open(path: impl AsRef<Path>) -> Result<(SpoolFile, Recovered), StoreError> {
        let mut all = Vec::new();
        let mut drained = 0u64;
        let log = LineLog::open(path.as_ref(), |_, line| {
            match serde_json::from_slice(line).map_err(|e| e.to_string())? {
                SpoolLine::Record(r) => all.push(*r),
                SpoolLine::Drained(n) => drained = drained.max(n),
            }
            Ok(())
        })?;
        let mut spool = SpoolFile { log };
        let records = all.len() as u64;
        let drained = drained.min(records);
        if records > 0 && drained == records {
            spool.log.clear()?;
            return Ok((spool, Recovered::default()));
        }
        // `drained` ≤ `records` = `all.len()`: the conversion cannot fail.
        let pending = all.split_off(usize::try_from(drained).unwrap_or(0));
        Ok((
            spool,
            Recovered {
                records,
                drained,
                pending,
            },
        ))
    }

    /// Carry out one operation, durably.
    pub fn apply(&mut self, op: &SpoolOp) -> Result<(), StoreError> {
        match op {
            SpoolOp::Append(records) => {
                let mut buf = Vec::new();
                for r in records {
                    serde_json::to_writer(&mut buf, &SpoolLineRef::Record(r))
                        .map_err(|e| StoreError::Encode(e.to_string()))?;
                    buf.push(b'\n');
                }
                self.log.append(&buf)
            }
            SpoolOp::MarkDrained(n) => {
                let mut line =
                    serde_json::to_vec(&SpoolLineRef::Drained(*n)).map_err(|e| StoreError::Encode(e.to_string()))?;
                line.push(b'\n');
                self.log.append(&line)
            }
            SpoolOp::Clear => self.log.clear(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::record;

    #[test]
    fn pending_after_the_last_mark() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.jsonl");
        let (mut spool, rec) = SpoolFile::open(&path).unwrap();
        assert_eq!(rec, Recovered::default());
        spool.apply(&SpoolOp::Append(vec![record(1, 1), record(1, 2)])).unwrap();
        spool.apply(&SpoolOp::MarkDrained(1)).unwrap();
        spool.apply(&SpoolOp::Append(vec![record(1, 3)])).unwrap();
        drop(spool);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(r#"{"record":{"supi":"999700000000001","#));
        assert_eq!(text.lines().nth(2), Some(r#"{"drained":1}"#));

        let (mut spool, rec) = SpoolFile::open(&path).unwrap();
        assert_eq!(
            rec,
            Recovered {
                records: 3,
                drained: 1,
                pending: vec![record(1, 2), record(1, 3)],
            }
        );
        spool.apply(&SpoolOp::MarkDrained(3)).unwrap();
        drop(spool);
        // Fully drained: emptied on open.
        let (_, rec) = SpoolFile::open(&path).unwrap();
        assert_eq!(rec, Recovered::default());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    }

    #[test]
    fn torn_append_is_not_pending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.jsonl");
        let (mut spool, _) = SpoolFile::open(&path).unwrap();
        spool.apply(&SpoolOp::Append(vec![record(1, 1)])).unwrap();
        drop(spool);
        // A crash in the middle of the next append.
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(r#"{"record":{"supi":"9997"#);
        std::fs::write(&path, text).unwrap();
        let (_, rec) = SpoolFile::open(&path).unwrap();
        assert_eq!(rec.pending, [record(1, 1)]);
    }

    #[test]
    fn clear_empties() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spool.jsonl");
        let (mut spool, _) = SpoolFile::open(&path).unwrap();
        spool.apply(&SpoolOp::Append(vec![record(1, 1)])).unwrap();
        spool.apply(&SpoolOp::Clear).unwrap();
        spool.apply(&SpoolOp::Append(vec![record(1, 2)])).unwrap();
        drop(spool);
        let (_, rec) = SpoolFile::open(&path).unwrap();
        assert_eq!(rec.pending, [record(1, 2)]);
        assert_eq!(rec.records, 1);
    }
}
