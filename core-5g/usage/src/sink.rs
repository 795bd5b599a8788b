//! The sink contract: where usage records go, and what its acknowledgement promises.
//!
//! ```text
//!  producer ── store(batch) ──► sink ──► (write, fsync / ledger commit / remote call)
//!     ▲                                           │
//!     └──────── Ok(Receipt) only once durable ◄───┘   Err(StoreError): nothing stored
//! ```
//!
//! A [`UsageSink`] takes a batch and returns at once with a future; the future
//! resolves with `Ok` only when every record of the batch is durable at the consumer
//! (on disk, in the ledger), or with a typed [`StoreError`]. The producer's task never
//! waits on the disk: `store` hands the batch over (to a writer thread, a blocking
//! task, a remote call) and the producer awaits the future where it likes — the
//! [`Outbox`](crate::Outbox) awaits it on its own task.
//!
//! Every sink is idempotent on [`ReportKey`](crate::ReportKey): a record whose key it
//! stored already is acknowledged again without being stored again (the receipt
//! counts it as a duplicate). That is what makes at-least-once delivery (spool
//! redelivery, retransmitted PFCP reports) count each report once.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::dedupe::Dedupe;
use crate::error::StoreError;
use crate::record::UsageRecord;

/// A boxed future that owns what it needs (it outlives the `store` call).
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A consumer of usage records.
pub trait UsageSink: Send + Sync + 'static {
    /// Hand a batch over. Returns promptly (no blocking I/O in the call itself); the
    /// future resolves once the whole batch is durable (`Ok`) or will not be (`Err`:
    /// none of it is acknowledged, though some of it may have been stored — storing it
    /// again is harmless, see the dedupe above).
    fn store(&self, batch: Vec<UsageRecord>) -> BoxFuture<Result<Receipt, StoreError>>;
}

/// What a sink did with an acknowledged batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Receipt {
    /// Records stored now.
    pub stored: usize,
    /// Records whose key was stored before (not stored again).
    pub duplicates: usize,
}

impl Receipt {
    /// Both counts added.
    #[must_use]
    pub fn plus(self, other: Receipt) -> Receipt {
        Receipt {
            stored: self.stored + other.stored,
            duplicates: self.duplicates + other.duplicates,
        }
    }
}

/// An acknowledgement to come: resolves once with the outcome. Dropping it does not
/// cancel the store.
#[derive(Debug)]
pub struct Ack<T>(oneshot::Receiver<Result<T, StoreError>>);

impl<T> Ack<T> {
    /// An acknowledgement and the sender that completes it.
    pub fn channel() -> (oneshot::Sender<Result<T, StoreError>>, Ack<T>) {
        let (tx, rx) = oneshot::channel();
        (tx, Ack(rx))
    }

    /// An acknowledgement that is complete already.
    pub fn ready(result: Result<T, StoreError>) -> Ack<T> {
        let (tx, ack) = Ack::channel();
        // The receiver is alive: it is in `ack`.
        let _ = tx.send(result);
        ack
    }
}

impl<T> Future for Ack<T> {
    type Output = Result<T, StoreError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A sender dropped without an answer: the sink's task or thread is gone.
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(StoreError::Closed)))
    }
}

/// A sink in memory: durable as long as the value lives. For tests (a consumer that
/// survives a producer's crash) and as the model of the contract; it can be switched
/// down to play a failing consumer.
#[derive(Debug, Clone, Default)]
pub struct MemorySink(Arc<Mutex<MemoryInner>>);

#[derive(Debug, Default)]
struct MemoryInner {
    records: Vec<UsageRecord>,
    dedupe: Dedupe,
    down: bool,
    batches: usize,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        MemorySink::default()
    }

    /// The records stored, in order, each once.
    pub fn records(&self) -> Vec<UsageRecord> {
        self.with(|m| m.records.clone())
    }

    /// Batches offered (stored, duplicate or refused).
    pub fn batches(&self) -> usize {
        self.with(|m| m.batches)
    }

    /// While down, every batch fails with [`StoreError::Refused`].
    pub fn set_down(&self, down: bool) {
        self.with(|m| m.down = down);
    }

    fn with<R>(&self, f: impl FnOnce(&mut MemoryInner) -> R) -> R {
        // A panic while holding the lock leaves plain data behind: use it.
        let mut guard = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

impl UsageSink for MemorySink {
    fn store(&self, batch: Vec<UsageRecord>) -> BoxFuture<Result<Receipt, StoreError>> {
        let result = self.with(|m| {
            m.batches += 1;
            if m.down {
                return Err(StoreError::Refused("memory sink is down".into()));
            }
            let mut receipt = Receipt::default();
            for r in batch {
                if m.dedupe.insert(&r.key) {
                    m.records.push(r);
                    receipt.stored += 1;
                } else {
                    receipt.duplicates += 1;
                }
            }
            Ok(receipt)
        });
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::record;

    #[tokio::test]
    async fn memory_sink_counts_a_key_once() {
        let sink = MemorySink::new();
        let r = sink.store(vec![record(1, 1), record(1, 1)]).await.unwrap();
        assert_eq!(
            r,
            Receipt {
                stored: 1,
                duplicates: 1
            }
        );
        let r = sink.store(vec![record(1, 1), record(1, 2)]).await.unwrap();
        assert_eq!(
            r,
            Receipt {
                stored: 1,
                duplicates: 1
            }
        );
        assert_eq!(sink.records(), [record(1, 1), record(1, 2)]);
        sink.set_down(true);
        assert!(matches!(
            sink.store(vec![record(1, 3)]).await,
            Err(StoreError::Refused(_))
        ));
        sink.set_down(false);
        assert_eq!(sink.store(vec![record(1, 3)]).await.unwrap().stored, 1);
        assert_eq!(sink.batches(), 4);
    }

    #[tokio::test]
    async fn ack_of_a_dropped_sender_is_closed() {
        let (tx, ack) = Ack::<Receipt>::channel();
        drop(tx);
        assert!(matches!(ack.await, Err(StoreError::Closed)));
        assert_eq!(Ack::ready(Ok(7)).await.unwrap(), 7);
    }
}
