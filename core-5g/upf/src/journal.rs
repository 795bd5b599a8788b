//! The usage journal: what has been measured and not yet acknowledged by an SMF,
//! checkpointed to `<data_dir>/usage-journal.jsonl` every checkpoint interval (1 s
//! by default) by write-to-temporary, fsync, rename, fsync of the directory — the
//! file is always either the previous checkpoint or the new one, never half of one.
//!
//! On start, a journal left by the previous run holds the usage that run never got
//! acknowledged (a crash, or a clean stop whose final reports went unanswered). Each
//! entry is logged with its size as "recovered unreported usage" and counted in a
//! metric, and the file is kept as `usage-journal.recovered-<unix secs>.jsonl` for
//! the operator (the sessions it belongs to died with the previous run: no SMF can
//! take a report for them any more).
//!
//! Bound: a hard crash loses at most the usage of the last checkpoint interval
//! (what was measured after the last checkpoint) — and that loss is itself visible,
//! since the last checkpoint's entries are logged on restart.

use std::fs::{self, File};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use crate::control::UnreportedUsage;

/// The journal file's name in the data directory.
pub const FILE_NAME: &str = "usage-journal.jsonl";

/// The usage journal of one UPF.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

/// What the previous run left.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Its entries.
    pub entries: Vec<UnreportedUsage>,
    /// Lines that did not parse (a damaged file): counted, not fatal.
    pub unreadable_lines: usize,
    /// Where the file was moved.
    pub kept_as: Option<PathBuf>,
}

impl Recovered {
    /// Octets in all entries.
    pub fn total_octets(&self) -> u64 {
        self.entries.iter().map(|e| e.usage.counts.total_octets()).sum()
    }
}

impl Journal {
    /// Open (creating the directory) and take over what a previous run left,
    /// moving its file aside with `now_unix` in the name.
    pub fn open(dir: &Path, now_unix: u64) -> io::Result<(Journal, Recovered)> {
        fs::create_dir_all(dir)?;
        let path = dir.join(FILE_NAME);
        let mut recovered = Recovered::default();
        if path.exists() {
            let f = File::open(&path)?;
            for line in io::BufReader::new(f).lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<UnreportedUsage>(&line) {
                    Ok(e) => recovered.entries.push(e),
                    Err(_) => recovered.unreadable_lines += 1,
                }
            }
            let kept = dir.join(format!("usage-journal.recovered-{now_unix}.jsonl"));
            fs::rename(&path, &kept)?;
            sync_dir(dir);
            recovered.kept_as = Some(kept);
        }
        Ok((Journal { dir: dir.to_path_buf() }, recovered))
    }

    /// Where the journal is.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Replace the journal with `entries` (an empty list removes it).
    pub fn checkpoint(&self, entries: &[UnreportedUsage]) -> io::Result<()> {
        let path = self.path();
        if entries.is_empty() {
            return match fs::remove_file(&path) {
                Ok(()) => {
                    sync_dir(&self.dir);
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            };
        }
        let tmp = self.dir.join(format!("{FILE_NAME}.tmp"));
        {
            let mut f = io::BufWriter::new(File::create(&tmp)?);
            for e in entries {
                serde_json::to_writer(&mut f, e).map_err(io::Error::other)?;
                f.write_all(b"\n")?;
            }
            let f = f.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        sync_dir(&self.dir);
        Ok(())
    }
}

fn sync_dir(dir: &Path) {
    // Makes the rename durable; not every filesystem allows it, and the data is
    // already synced, so a failure here is not worth an error.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Usage;
    use crate::datapath::Counts;

    fn entry(urr_id: u32, octets: u64) -> UnreportedUsage {
        UnreportedUsage {
            seid: 7,
            cp_seid: 0x77,
            cp_node: "127.0.0.1".into(),
            urr_id,
            usage: Usage {
                counts: Counts {
                    uplink_octets: octets,
                    downlink_octets: 1,
                    uplink_packets: 1,
                    downlink_packets: 1,
                },
                duration_secs: 3,
            },
        }
    }

    #[test]
    fn checkpoint_then_recover_on_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let (j, r) = Journal::open(dir.path(), 100).unwrap();
        assert_eq!(r, Recovered::default());
        j.checkpoint(&[entry(1, 1000), entry(2, 99)]).unwrap();
        j.checkpoint(&[entry(1, 2000)]).unwrap();
        // A crash here: the next start finds the last checkpoint.
        let (j2, r) = Journal::open(dir.path(), 200).unwrap();
        assert_eq!(r.entries, vec![entry(1, 2000)]);
        assert_eq!(r.total_octets(), 2001);
        assert!(
            r.kept_as
                .as_ref()
                .unwrap()
                .ends_with("usage-journal.recovered-200.jsonl")
        );
        assert!(!j2.path().exists());
        // A third start has nothing more to recover.
        let (_, r) = Journal::open(dir.path(), 300).unwrap();
        assert!(r.entries.is_empty());
        // An empty checkpoint removes the file.
        j2.checkpoint(&[entry(3, 5)]).unwrap();
        j2.checkpoint(&[]).unwrap();
        assert!(!j2.path().exists());
    }

    #[test]
    fn damaged_lines_are_counted_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let line = serde_json::to_string(&entry(1, 10)).unwrap();
        fs::write(dir.path().join(FILE_NAME), format!("{line}\n{{broken\n\n")).unwrap();
        let (_, r) = Journal::open(dir.path(), 1).unwrap();
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.unreadable_lines, 1);
    }
}
