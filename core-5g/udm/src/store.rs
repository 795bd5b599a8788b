//! The UDR: a small storage trait, so that a distributed engine can replace the embedded
//! one later, and an in-memory implementation for tests of the logic. The RocksDB
//! implementation is [`crate::RocksStore`].
//!
//! Contract every implementation keeps:
//! - writes are durable when the call returns (RocksDB: synced WAL write);
//! - [`UdrStore::update_sqn`] is atomic per subscriber: two concurrent calls for one
//!   SUPI never see the same SQN_HE, and the new SQN_HE is durable before the call
//!   returns, so an authentication vector built from it is never reused after a crash
//!   or restart (TS 33.102 §6.3.2: SQN_HE must only grow);
//! - [`UdrStore::insert_subscribers`] is all-or-nothing.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::subscriber::{Imsi, Subscriber, hex, unhex};

/// What a store can do. Object-safe, so callers can hold `Arc<dyn UdrStore>`.
pub trait UdrStore: Send + Sync {
    /// Add one subscriber; `Duplicate` if the SUPI exists.
    fn insert_subscriber(&self, sub: &Subscriber) -> Result<(), Error>;
    /// Add many subscribers atomically: if any SUPI exists (or repeats in `subs`),
    /// `Duplicate` and nothing is written.
    fn insert_subscribers(&self, subs: &[Subscriber]) -> Result<(), Error>;
    /// One subscriber, or `UnknownSubscriber`.
    fn subscriber(&self, imsi: &Imsi) -> Result<Subscriber, Error>;
    /// All subscribers, ordered by IMSI.
    fn subscribers(&self) -> Result<Vec<Subscriber>, Error>;
    /// Remove one subscriber, or `UnknownSubscriber`.
    fn delete_subscriber(&self, imsi: &Imsi) -> Result<(), Error>;
    /// Atomically read the subscriber, compute its new SQN_HE with `update` (which may
    /// refuse, e.g. on a bad MAC-S), and store it durably. Returns the record as stored.
    /// If `update` fails nothing is written.
    fn update_sqn(
        &self,
        imsi: &Imsi,
        update: &mut dyn FnMut(&Subscriber) -> Result<u64, Error>,
    ) -> Result<Subscriber, Error>;
    /// All home-network private keys, ordered by (scheme, id).
    fn hn_keys(&self) -> Result<Vec<HnKey>, Error>;
    /// Add a home-network key; `Duplicate` if (scheme, id) exists.
    fn insert_hn_key(&self, key: &HnKey) -> Result<(), Error>;
}

macro_rules! forward_store {
    ($($t:ty),*) => {$(
        impl<T: UdrStore + ?Sized> UdrStore for $t {
            fn insert_subscriber(&self, sub: &Subscriber) -> Result<(), Error> {
                (**self).insert_subscriber(sub)
            }
            fn insert_subscribers(&self, subs: &[Subscriber]) -> Result<(), Error> {
                (**self).insert_subscribers(subs)
            }
            fn subscriber(&self, imsi: &Imsi) -> Result<Subscriber, Error> {
                (**self).subscriber(imsi)
            }
            fn subscribers(&self) -> Result<Vec<Subscriber>, Error> {
                (**self).subscribers()
            }
            fn delete_subscriber(&self, imsi: &Imsi) -> Result<(), Error> {
                (**self).delete_subscriber(imsi)
            }
            fn update_sqn(
                &self,
                imsi: &Imsi,
                update: &mut dyn FnMut(&Subscriber) -> Result<u64, Error>,
            ) -> Result<Subscriber, Error> {
                (**self).update_sqn(imsi, update)
            }
            fn hn_keys(&self) -> Result<Vec<HnKey>, Error> {
                (**self).hn_keys()
            }
            fn insert_hn_key(&self, key: &HnKey) -> Result<(), Error> {
                (**self).insert_hn_key(key)
            }
        }
    )*};
}

// `Udm<Arc<dyn UdrStore>>` and friends.
forward_store!(std::sync::Arc<T>, Box<T>, &T);

/// ECIES protection schemes that use a home-network key (TS 33.501 Annex C.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HnScheme {
    /// Profile A: X25519 (protection scheme identifier 1).
    ProfileA,
    /// Profile B: P-256 (protection scheme identifier 2).
    ProfileB,
}

impl HnScheme {
    /// The protection scheme identifier of TS 24.501 §9.11.3.4 / TS 33.501 C.1.
    pub fn id(self) -> u8 {
        match self {
            HnScheme::ProfileA => 1,
            HnScheme::ProfileB => 2,
        }
    }

    /// From the protection scheme identifier.
    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(HnScheme::ProfileA),
            2 => Some(HnScheme::ProfileB),
            _ => None,
        }
    }
}

/// A home-network private key for SUCI de-concealment (TS 33.501 §6.12.2), with its
/// Home Network Public Key Identifier (0..=255, TS 24.501 §9.11.3.4).
#[derive(Clone, PartialEq, Eq)]
pub struct HnKey {
    /// Home network public key identifier.
    pub id: u8,
    /// Which ECIES profile.
    pub scheme: HnScheme,
    /// The private key: X25519 scalar (Profile A) or P-256 scalar, big-endian (Profile B).
    pub private_key: [u8; 32],
}

impl std::fmt::Debug for HnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HnKey")
            .field("id", &self.id)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct HnKeyV1 {
    version: u32,
    id: u8,
    scheme: HnScheme,
    private_key: String,
}

impl HnKey {
    /// The store key: protection scheme id, key id.
    pub(crate) fn store_key(&self) -> [u8; 2] {
        [self.scheme.id(), self.id]
    }

    /// Encode for the store (JSON with a version field).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let r = HnKeyV1 {
            version: 1,
            id: self.id,
            scheme: self.scheme,
            private_key: hex(&self.private_key),
        };
        serde_json::to_vec(&r).expect("invariant: a record of strings and integers always serialises")
    }

    /// Decode a stored key.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let corrupt = |reason: String| Error::Corrupt {
            key: "home-network key".to_owned(),
            reason,
        };
        let r: HnKeyV1 = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
        if r.version != 1 {
            return Err(corrupt(format!("unknown record version {}", r.version)));
        }
        let private_key = unhex(&r.private_key)
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| corrupt("private key is not 64 hex digits".to_owned()))?;
        Ok(HnKey {
            id: r.id,
            scheme: r.scheme,
            private_key,
        })
    }
}

/// An in-memory store for tests of the logic (and for throw-away runs). Records pass
/// through their stored encoding, so it behaves like the persistent store.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    subscribers: BTreeMap<String, Vec<u8>>,
    hn_keys: BTreeMap<[u8; 2], Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemoryInner> {
        // A panic while holding the lock cannot leave a half-written record (every
        // mutation is one map operation), so a poisoned lock is safe to reuse.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl UdrStore for MemoryStore {
    fn insert_subscriber(&self, sub: &Subscriber) -> Result<(), Error> {
        self.insert_subscribers(std::slice::from_ref(sub))
    }

    fn insert_subscribers(&self, subs: &[Subscriber]) -> Result<(), Error> {
        let mut g = self.lock();
        let mut seen = std::collections::BTreeSet::new();
        for s in subs {
            if g.subscribers.contains_key(s.imsi.as_str()) || !seen.insert(s.imsi.as_str()) {
                return Err(Error::Duplicate(format!("subscriber imsi-{}", s.imsi)));
            }
        }
        for s in subs {
            g.subscribers.insert(s.imsi.as_str().to_owned(), s.encode());
        }
        Ok(())
    }

    fn subscriber(&self, imsi: &Imsi) -> Result<Subscriber, Error> {
        let g = self.lock();
        let bytes = g
            .subscribers
            .get(imsi.as_str())
            .ok_or_else(|| Error::UnknownSubscriber(imsi.to_string()))?;
        Subscriber::decode(imsi.as_str(), bytes)
    }

    fn subscribers(&self) -> Result<Vec<Subscriber>, Error> {
        let g = self.lock();
        g.subscribers.iter().map(|(k, v)| Subscriber::decode(k, v)).collect()
    }

    fn delete_subscriber(&self, imsi: &Imsi) -> Result<(), Error> {
        let mut g = self.lock();
        g.subscribers
            .remove(imsi.as_str())
            .map(|_| ())
            .ok_or_else(|| Error::UnknownSubscriber(imsi.to_string()))
    }

    fn update_sqn(
        &self,
        imsi: &Imsi,
        update: &mut dyn FnMut(&Subscriber) -> Result<u64, Error>,
    ) -> Result<Subscriber, Error> {
        let mut g = self.lock();
        let bytes = g
            .subscribers
            .get(imsi.as_str())
            .ok_or_else(|| Error::UnknownSubscriber(imsi.to_string()))?;
        let mut sub = Subscriber::decode(imsi.as_str(), bytes)?;
        sub.sqn = update(&sub)? & crate::sqn::SQN_MAX;
        g.subscribers.insert(imsi.as_str().to_owned(), sub.encode());
        Ok(sub)
    }

    fn hn_keys(&self) -> Result<Vec<HnKey>, Error> {
        let g = self.lock();
        g.hn_keys.values().map(|v| HnKey::decode(v)).collect()
    }

    fn insert_hn_key(&self, key: &HnKey) -> Result<(), Error> {
        let mut g = self.lock();
        if g.hn_keys.contains_key(&key.store_key()) {
            return Err(Error::Duplicate(format!(
                "home-network key id {} for scheme {}",
                key.id,
                key.scheme.id()
            )));
        }
        g.hn_keys.insert(key.store_key(), key.encode());
        Ok(())
    }
}

/// Behaviour every store must show; run against each implementation.
#[cfg(test)]
pub(crate) mod contract {
    use super::*;
    use crate::subscriber::NewSubscriber;

    pub fn subscriber(imsi: &str) -> Subscriber {
        NewSubscriber {
            imsi,
            // TS 35.208 §4.3 test set 1 K / OPc.
            k: "465b5ce8b199b49faa5f0a2ee238a6bc",
            opc: Some("cd63cb71954a9f4e48a5994e37a02baf"),
            ..Default::default()
        }
        .build()
        .unwrap()
    }

    pub fn run(store: &dyn UdrStore) {
        let a = subscriber("001010000000001");
        let b = subscriber("001010000000002");
        store.insert_subscriber(&a).unwrap();
        assert_eq!(store.subscriber(&a.imsi).unwrap(), a);
        assert!(matches!(store.insert_subscriber(&a), Err(Error::Duplicate(_))));

        // All-or-nothing batch: `a` exists, so `b` must not be written either.
        assert!(matches!(
            store.insert_subscribers(&[b.clone(), a.clone()]),
            Err(Error::Duplicate(_))
        ));
        assert!(matches!(store.subscriber(&b.imsi), Err(Error::UnknownSubscriber(_))));
        // A repeat inside the batch is a duplicate too.
        let c = subscriber("001010000000003");
        assert!(matches!(
            store.insert_subscribers(&[c.clone(), c.clone()]),
            Err(Error::Duplicate(_))
        ));
        assert!(store.subscriber(&c.imsi).is_err());
        store.insert_subscribers(&[b.clone(), c.clone()]).unwrap();
        let all: Vec<_> = store.subscribers().unwrap().into_iter().map(|s| s.imsi).collect();
        assert_eq!(all, vec![a.imsi.clone(), b.imsi.clone(), c.imsi.clone()]);

        // SQN update: the closure sees the stored record; its error writes nothing.
        let s = store.update_sqn(&a.imsi, &mut |s| Ok(s.sqn + 33)).unwrap();
        assert_eq!(s.sqn, 33);
        assert_eq!(store.subscriber(&a.imsi).unwrap().sqn, 33);
        assert_eq!(
            store.update_sqn(&a.imsi, &mut |_| Err(Error::MacFailure)),
            Err(Error::MacFailure)
        );
        assert_eq!(store.subscriber(&a.imsi).unwrap().sqn, 33);
        assert!(matches!(
            store.update_sqn(&Imsi::parse("99999").unwrap(), &mut |_| Ok(1)),
            Err(Error::UnknownSubscriber(_))
        ));

        store.delete_subscriber(&c.imsi).unwrap();
        assert!(matches!(
            store.delete_subscriber(&c.imsi),
            Err(Error::UnknownSubscriber(_))
        ));

        let k = HnKey {
            id: 1,
            scheme: HnScheme::ProfileA,
            private_key: [7; 32],
        };
        store.insert_hn_key(&k).unwrap();
        assert!(matches!(store.insert_hn_key(&k), Err(Error::Duplicate(_))));
        let kb = HnKey {
            id: 1,
            scheme: HnScheme::ProfileB,
            private_key: [9; 32],
        };
        store.insert_hn_key(&kb).unwrap();
        assert_eq!(store.hn_keys().unwrap(), vec![k, kb]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_contract() {
        contract::run(&MemoryStore::new());
    }

    #[test]
    fn concurrent_sqn_updates_never_repeat() {
        let store = std::sync::Arc::new(MemoryStore::new());
        let s = contract::subscriber("001010000000001");
        store.insert_subscriber(&s).unwrap();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                let imsi = s.imsi.clone();
                std::thread::spawn(move || {
                    (0..100)
                        .map(|_| {
                            store
                                .update_sqn(&imsi, &mut |s| Ok(crate::sqn::next(s.sqn)))
                                .unwrap()
                                .sqn
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<u64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 400);
    }
}
