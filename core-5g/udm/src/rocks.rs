//! The UDR on embedded RocksDB.
//!
//! Column families: `subscribers` (IMSI digits → versioned JSON record, SQN_HE inside),
//! `hn_keys` (protection scheme id ‖ key id → versioned JSON private key) and `meta`
//! (`schema` → layout version). Every write is a synced WAL write (`WriteOptions::
//! set_sync(true)`): when a call returns, the data survives a crash or power loss.
//!
//! Concurrency: RocksDB's own LOCK file keeps other processes out (a second
//! `open` fails with [`Error::StoreLocked`]). Inside the process, read-modify-write
//! operations take one of 64 stripe locks chosen by IMSI, so SQN updates of different
//! subscribers run in parallel (and RocksDB groups their synced writes into one WAL
//! fsync) while updates of one subscriber are serialised.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DB, IteratorMode, Options, WriteBatch, WriteOptions};

use crate::Error;
use crate::store::{HnKey, UdrStore};
use crate::subscriber::{Imsi, Subscriber};

const CF_SUBSCRIBERS: &str = "subscribers";
const CF_HN_KEYS: &str = "hn_keys";
const CF_META: &str = "meta";
const SCHEMA_KEY: &[u8] = b"schema";
const SCHEMA_VERSION: &[u8] = b"1";
const STRIPES: usize = 64;

/// The folder under a hexcore data directory that holds the UDR.
pub const UDR_DIR: &str = "udr";

/// The UDR on RocksDB.
pub struct RocksStore {
    db: DB,
    path: PathBuf,
    stripes: Vec<Mutex<()>>,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore").field("path", &self.path).finish()
    }
}

impl RocksStore {
    /// Open (creating if needed) the UDR in `<data_dir>/udr`.
    pub fn open_in_data_dir(data_dir: &Path) -> Result<Self, Error> {
        Self::open(&data_dir.join(UDR_DIR))
    }

    /// Open (creating if needed) the UDR at exactly `path`.
    pub fn open(path: &Path) -> Result<Self, Error> {
        std::fs::create_dir_all(path).map_err(|e| Error::Store(format!("cannot create {}: {e}", path.display())))?;
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // Small records, no compression (the crate is built without codecs).
        opts.set_compression_type(rocksdb::DBCompressionType::None);
        // Concurrent synced writes (one SQN update per authentication) wait for the
        // group's fdatasync: let them sleep at once rather than spin and yield for up to
        // 100 µs each (RocksDB's adaptive yield), which burnt more CPU than the AMF.
        opts.set_enable_write_thread_adaptive_yield(false);
        let cfs = [CF_SUBSCRIBERS, CF_HN_KEYS, CF_META]
            .into_iter()
            .map(|n| ColumnFamilyDescriptor::new(n, Options::default()));
        let db = DB::open_cf_descriptors(&opts, path, cfs).map_err(|e| open_error(path, e))?;
        let store = Self {
            db,
            path: path.to_owned(),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        };
        store.check_schema()?;
        Ok(store)
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_schema(&self) -> Result<(), Error> {
        let meta = self.cf(CF_META)?;
        match self.db.get_cf(meta, SCHEMA_KEY).map_err(store_err)? {
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            Some(v) => Err(Error::Corrupt {
                key: "meta/schema".to_owned(),
                reason: format!(
                    "store layout version {:?}, this build reads {:?}",
                    String::from_utf8_lossy(&v),
                    String::from_utf8_lossy(SCHEMA_VERSION)
                ),
            }),
            None => self
                .db
                .put_cf_opt(meta, SCHEMA_KEY, SCHEMA_VERSION, &synced())
                .map_err(store_err),
        }
    }

    fn cf(&self, name: &str) -> Result<&ColumnFamily, Error> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| Error::Store(format!("column family {name} missing")))
    }

    fn stripe(&self, imsi: &Imsi) -> MutexGuard<'_, ()> {
        // FNV-1a over the digits picks the stripe.
        let h = imsi.as_str().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let i = usize::try_from(h % STRIPES as u64).unwrap_or(0);
        lock(&self.stripes[i % STRIPES])
    }

    fn all_stripes(&self) -> Vec<MutexGuard<'_, ()>> {
        // Always taken in index order, so batch writers cannot deadlock each other.
        self.stripes.iter().map(lock).collect()
    }

    fn get_subscriber(&self, imsi: &Imsi) -> Result<Option<Subscriber>, Error> {
        let cf = self.cf(CF_SUBSCRIBERS)?;
        match self.db.get_pinned_cf(cf, imsi.as_str()).map_err(store_err)? {
            Some(v) => Subscriber::decode(imsi.as_str(), &v).map(Some),
            None => Ok(None),
        }
    }
}

impl UdrStore for RocksStore {
    fn insert_subscriber(&self, sub: &Subscriber) -> Result<(), Error> {
        let _g = self.stripe(&sub.imsi);
        if self.get_subscriber(&sub.imsi)?.is_some() {
            return Err(Error::Duplicate(format!("subscriber imsi-{}", sub.imsi)));
        }
        let cf = self.cf(CF_SUBSCRIBERS)?;
        self.db
            .put_cf_opt(cf, sub.imsi.as_str(), sub.encode(), &synced())
            .map_err(store_err)
    }

    fn insert_subscribers(&self, subs: &[Subscriber]) -> Result<(), Error> {
        let _g = self.all_stripes();
        let cf = self.cf(CF_SUBSCRIBERS)?;
        let mut seen = std::collections::BTreeSet::new();
        let mut batch = WriteBatch::default();
        for s in subs {
            if !seen.insert(s.imsi.as_str()) || self.get_subscriber(&s.imsi)?.is_some() {
                return Err(Error::Duplicate(format!("subscriber imsi-{}", s.imsi)));
            }
            batch.put_cf(cf, s.imsi.as_str(), s.encode());
        }
        self.db.write_opt(batch, &synced()).map_err(store_err)
    }

    fn subscriber(&self, imsi: &Imsi) -> Result<Subscriber, Error> {
        self.get_subscriber(imsi)?
            .ok_or_else(|| Error::UnknownSubscriber(imsi.to_string()))
    }

    fn subscribers(&self) -> Result<Vec<Subscriber>, Error> {
        let cf = self.cf(CF_SUBSCRIBERS)?;
        self.db
            .iterator_cf(cf, IteratorMode::Start)
            .map(|kv| {
                let (k, v) = kv.map_err(store_err)?;
                Subscriber::decode(&String::from_utf8_lossy(&k), &v)
            })
            .collect()
    }

    fn delete_subscriber(&self, imsi: &Imsi) -> Result<(), Error> {
        let _g = self.stripe(imsi);
        if self.get_subscriber(imsi)?.is_none() {
            return Err(Error::UnknownSubscriber(imsi.to_string()));
        }
        let cf = self.cf(CF_SUBSCRIBERS)?;
        self.db.delete_cf_opt(cf, imsi.as_str(), &synced()).map_err(store_err)
    }

    fn update_sqn(
        &self,
        imsi: &Imsi,
        update: &mut dyn FnMut(&Subscriber) -> Result<u64, Error>,
    ) -> Result<Subscriber, Error> {
        let _g = self.stripe(imsi);
        let mut sub = self
            .get_subscriber(imsi)?
            .ok_or_else(|| Error::UnknownSubscriber(imsi.to_string()))?;
        sub.sqn = update(&sub)? & crate::sqn::SQN_MAX;
        let cf = self.cf(CF_SUBSCRIBERS)?;
        // Synced: the new SQN_HE is on disk before any vector built from it leaves.
        self.db
            .put_cf_opt(cf, imsi.as_str(), sub.encode(), &synced())
            .map_err(store_err)?;
        Ok(sub)
    }

    fn hn_keys(&self) -> Result<Vec<HnKey>, Error> {
        let cf = self.cf(CF_HN_KEYS)?;
        self.db
            .iterator_cf(cf, IteratorMode::Start)
            .map(|kv| {
                let (_, v) = kv.map_err(store_err)?;
                HnKey::decode(&v)
            })
            .collect()
    }

    fn insert_hn_key(&self, key: &HnKey) -> Result<(), Error> {
        let _g = self.all_stripes();
        let cf = self.cf(CF_HN_KEYS)?;
        if self.db.get_pinned_cf(cf, key.store_key()).map_err(store_err)?.is_some() {
            return Err(Error::Duplicate(format!(
                "home-network key id {} for scheme {}",
                key.id,
                key.scheme.id()
            )));
        }
        self.db
            .put_cf_opt(cf, key.store_key(), key.encode(), &synced())
            .map_err(store_err)
    }
}

fn synced() -> WriteOptions {
    let mut w = WriteOptions::default();
    w.set_sync(true);
    w
}

fn lock(m: &Mutex<()>) -> MutexGuard<'_, ()> {
    // The guarded data is `()`: a poisoned stripe carries no broken state.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn store_err(e: rocksdb::Error) -> Error {
    Error::Store(e.into_string())
}

/// RocksDB reports a held LOCK file as an I/O error naming the lock
/// ("While lock file: …/LOCK: Resource temporarily unavailable").
fn open_error(path: &Path, e: rocksdb::Error) -> Error {
    let msg = e.into_string();
    if msg.contains("LOCK") || msg.to_ascii_lowercase().contains("lock hold") {
        Error::StoreLocked {
            path: path.display().to_string(),
        }
    } else {
        Error::Store(format!("cannot open {}: {msg}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract;

    #[test]
    fn rocks_store_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksStore::open(dir.path()).unwrap();
        contract::run(&store);
    }

    #[test]
    fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let a = contract::subscriber("001010000000001");
        {
            let store = RocksStore::open_in_data_dir(dir.path()).unwrap();
            store.insert_subscriber(&a).unwrap();
            store.update_sqn(&a.imsi, &mut |s| Ok(crate::sqn::next(s.sqn))).unwrap();
            store
                .insert_hn_key(&HnKey {
                    id: 3,
                    scheme: crate::HnScheme::ProfileB,
                    private_key: [5; 32],
                })
                .unwrap();
        }
        let store = RocksStore::open_in_data_dir(dir.path()).unwrap();
        let got = store.subscriber(&a.imsi).unwrap();
        assert_eq!(got.sqn, crate::sqn::next(0));
        assert_eq!(got.k, a.k);
        assert_eq!(store.hn_keys().unwrap().len(), 1);
    }

    #[test]
    fn concurrent_sqn_updates_never_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(RocksStore::open(dir.path()).unwrap());
        let a = contract::subscriber("001010000000001");
        let b = contract::subscriber("001010000000002");
        store.insert_subscribers(&[a.clone(), b.clone()]).unwrap();
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                let imsi = if t % 2 == 0 { a.imsi.clone() } else { b.imsi.clone() };
                std::thread::spawn(move || {
                    (0..25)
                        .map(|_| {
                            let s = store.update_sqn(&imsi, &mut |s| Ok(crate::sqn::next(s.sqn))).unwrap();
                            (s.imsi, s.sqn)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<_> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 100);
        let mut expect = 0;
        for _ in 0..50 {
            expect = crate::sqn::next(expect);
        }
        assert_eq!(store.subscriber(&a.imsi).unwrap().sqn, expect);
        assert_eq!(store.subscriber(&b.imsi).unwrap().sqn, expect);
    }

    #[test]
    fn second_open_reports_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let _first = RocksStore::open(dir.path()).unwrap();
        match RocksStore::open(dir.path()) {
            Err(Error::StoreLocked { .. }) => {}
            other => panic!("expected StoreLocked, got {other:?}"),
        }
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = RocksStore::open(dir.path()).unwrap();
            let meta = store.cf(CF_META).unwrap();
            store.db.put_cf(meta, SCHEMA_KEY, b"99").unwrap();
        }
        assert!(matches!(RocksStore::open(dir.path()), Err(Error::Corrupt { .. })));
    }
}
