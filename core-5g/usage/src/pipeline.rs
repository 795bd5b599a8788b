//! The outbox's logic, sans-IO: one ordered queue in front of the sink, the spool for
//! what cannot be acknowledged, retries when the sink fails.
//!
//! ```text
//!  submit(records) ──────────────────────────────┐  (a Session Report Request: its
//!                                                ▼   response waits for the ack)
//!  spool(records) ─► Spool(Append) ─► SpoolDone ─► queue ─► Store(batch) ─► Stored
//!  (Modification/Deletion Response:       │          (FIFO,   │              │
//!   nobody can wait)                      ▼           ≤ max)  │    Ok: ack, MarkDrained
//!                                  ack: in the spool          │    Err: retry spooled
//!                                                             │         after a backoff,
//!                                                             │         refuse direct
//! ```
//!
//! Rules:
//! - A direct batch (from [`Pipeline::submit`]) is tried once: its producer can make
//!   the UPF send the usage again (a PFCP cause other than "accepted", TS 29.244
//!   §7.5.9), so holding it through a retry would only delay that. While the sink is
//!   failing, direct batches are refused at once ([`StoreError::Unavailable`]).
//! - A spooled batch (from [`Pipeline::spool`]) is acknowledged once the spool has it,
//!   and is tried until the sink takes it, with a backoff from `retry_first` doubling
//!   to `retry_max`. Spooled records reach the sink in spool order, at least once.
//! - If the spool cannot be written, the records are still kept in memory and retried
//!   (they are not durable: the acknowledgement says so with the spool's error).
//! - Everything reaches the sink in the order it was taken (a spooled batch from when
//!   its append completed), one store at a time, so a repeat is never further behind
//!   its URR's newest report than one batch: `max_batch` ≤ [`WINDOW`] keeps it within
//!   the consumer's dedupe window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::dedupe::WINDOW;
use crate::error::StoreError;
use crate::record::UsageRecord;
use crate::sink::Receipt;
use crate::spool::{Recovered, SpoolOp};

/// How the pipeline batches and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Records per store at most (a single submission is never split).
    pub max_batch: usize,
    /// First wait after a failed store of spooled records.
    pub retry_first: Duration,
    /// Longest wait between tries.
    pub retry_max: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            max_batch: WINDOW as usize,
            retry_first: Duration::from_millis(200),
            retry_max: Duration::from_secs(10),
        }
    }
}

/// Names a submission; its outcome comes back as [`Output::Acked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// What happened outside.
#[derive(Debug, Clone)]
pub enum Input {
    /// The [`Output::Spool`] operation finished.
    SpoolDone(Result<(), StoreError>),
    /// The [`Output::Store`] batch was stored (durably) or not.
    Stored(Result<Receipt, StoreError>),
    /// Time passed (the deadline of [`Pipeline::poll_timeout`] or later).
    Timeout,
}

/// What the pipeline wants done.
#[derive(Debug, Clone)]
pub enum Output {
    /// Carry out this spool operation; answer with [`Input::SpoolDone`]. One at a time.
    Spool(SpoolOp),
    /// Hand this batch to the sink; answer with [`Input::Stored`]. One at a time.
    Store(Vec<UsageRecord>),
    /// A submission's outcome: `Ok` once durable (at the sink for
    /// [`Pipeline::submit`], in the spool for [`Pipeline::spool`]).
    Acked {
        /// The submission.
        ticket: Ticket,
        /// Durable, or why not.
        result: Result<(), StoreError>,
    },
    /// Something for metrics and logs.
    Event(Event),
}

/// Things worth a metric or a log line.
#[derive(Debug, Clone)]
pub enum Event {
    /// The sink acknowledged a batch.
    Stored {
        /// What it did.
        receipt: Receipt,
        /// Records of the batch that came from the spool.
        from_spool: usize,
    },
    /// The sink failed a batch: spooled records wait `retry_in`, direct ones are
    /// refused.
    SinkFailed {
        /// Why.
        error: StoreError,
        /// Until the next try.
        retry_in: Duration,
    },
    /// The sink took a batch again after failing.
    SinkRecovered,
    /// A direct batch was refused because the sink is failing.
    Refused {
        /// Records refused.
        records: usize,
    },
    /// A spool operation failed.
    SpoolFailed {
        /// Why.
        error: StoreError,
    },
    /// Records that were neither stored nor spooled were dropped at shutdown.
    Lost {
        /// How many.
        records: usize,
    },
}

/// The outbox's state machine.
#[derive(Debug)]
pub struct Pipeline {
    config: PipelineConfig,
    next_ticket: u64,
    /// Waiting for the sink, in order; the first `storing` are at the sink now.
    queue: VecDeque<Item>,
    storing: Option<usize>,
    /// Set while the sink is failing.
    down: Option<Down>,
    /// Spool submissions not yet handed to the file.
    to_spool: Vec<(Ticket, Vec<UsageRecord>)>,
    /// The spool operation in progress.
    spool_op: Option<InProgress>,
    /// Records in the spool file.
    spooled: u64,
    /// Of those, delivered to the sink.
    drained: u64,
    /// Of those, recorded as delivered in the file.
    marked: u64,
    /// A mark or clear failed: no more until an append succeeds.
    maintenance_failed: bool,
    outputs: VecDeque<Output>,
}

#[derive(Debug)]
struct Item {
    kind: Kind,
    records: Vec<UsageRecord>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// From `submit`: acknowledged when stored.
    Direct(Ticket),
    /// From the spool: once stored, the first `end` spooled records are delivered.
    Spooled { end: u64 },
    /// From `spool`, but the spool could not take it: kept in memory only.
    Volatile,
}

#[derive(Debug)]
struct Down {
    error: StoreError,
    retry_at: Instant,
    backoff: Duration,
}

#[derive(Debug)]
enum InProgress {
    Append(Vec<(Ticket, Vec<UsageRecord>)>),
    Mark(u64),
    Clear,
}

impl Pipeline {
    /// A pipeline over a spool that holds `recovered` (from
    /// [`SpoolFile::open`](crate::SpoolFile::open)); its pending records go first.
    pub fn new(config: PipelineConfig, recovered: Recovered) -> Self {
        let mut p = Pipeline {
            config: PipelineConfig {
                max_batch: config.max_batch.max(1),
                ..config
            },
            next_ticket: 0,
            queue: VecDeque::new(),
            storing: None,
            down: None,
            to_spool: Vec::new(),
            spool_op: None,
            spooled: recovered.records,
            drained: recovered.drained,
            marked: recovered.drained,
            maintenance_failed: false,
            outputs: VecDeque::new(),
        };
        for (i, r) in (1..).zip(recovered.pending) {
            p.queue.push_back(Item {
                kind: Kind::Spooled {
                    end: recovered.drained + i,
                },
                records: vec![r],
            });
        }
        p.start_store();
        p
    }

    /// Records whose acknowledgement can wait for the sink (a Session Report Request's
    /// usage): stored once, acknowledged when durable there.
    pub fn submit(&mut self, now: Instant, records: Vec<UsageRecord>) -> Ticket {
        let ticket = self.ticket();
        if records.is_empty() {
            self.ack(ticket, Ok(()));
        } else if let Some(d) = &self.down {
            let error = StoreError::Unavailable(Box::new(d.error.clone()));
            self.event(Event::Refused { records: records.len() });
            self.ack(ticket, Err(error));
        } else {
            self.queue.push_back(Item {
                kind: Kind::Direct(ticket),
                records,
            });
        }
        self.pump(now);
        ticket
    }

    /// Records nobody can wait for (a Modification/Deletion Response's usage):
    /// acknowledged once spooled, then delivered until the sink takes them.
    pub fn spool(&mut self, now: Instant, records: Vec<UsageRecord>) -> Ticket {
        let ticket = self.ticket();
        if records.is_empty() {
            self.ack(ticket, Ok(()));
        } else {
            self.to_spool.push((ticket, records));
        }
        self.pump(now);
        ticket
    }

    /// Something happened.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::SpoolDone(result) => self.spool_done(result),
            Input::Stored(result) => self.stored(now, result),
            Input::Timeout => {
                if self.storing.is_none()
                    && self.queue.is_empty()
                    && self.down.as_ref().is_some_and(|d| now >= d.retry_at)
                {
                    // Nothing to probe with: let the next batch find out.
                    self.down = None;
                }
            }
        }
        self.pump(now);
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to call back with [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (&self.down, self.storing) {
            (Some(d), None) => Some(d.retry_at),
            _ => None,
        }
    }

    /// Nothing in flight and nothing to spool: stopping now loses nothing that was
    /// spooled (what waits for the sink is in the spool file).
    pub fn is_idle(&self) -> bool {
        self.spool_op.is_none() && self.to_spool.is_empty() && self.storing.is_none()
    }

    /// Is the sink failing?
    pub fn is_sink_down(&self) -> bool {
        self.down.is_some()
    }

    /// Records waiting for the sink (spooled or not).
    pub fn backlog(&self) -> usize {
        self.queue.iter().map(|i| i.records.len()).sum()
    }

    /// Stopping: refuse what waits for the sink without a spool behind it (the
    /// producer's direct batches: [`StoreError::Closed`]; records the spool could not
    /// take: [`Event::Lost`]). Spooled records stay in the spool for the next start.
    pub fn close(&mut self) {
        let mut lost = 0;
        for item in std::mem::take(&mut self.queue) {
            match item.kind {
                Kind::Direct(ticket) => self.ack(ticket, Err(StoreError::Closed)),
                Kind::Volatile => lost += item.records.len(),
                Kind::Spooled { .. } => {}
            }
        }
        for (ticket, records) in std::mem::take(&mut self.to_spool) {
            lost += records.len();
            self.ack(ticket, Err(StoreError::Closed));
        }
        if lost > 0 {
            self.event(Event::Lost { records: lost });
        }
        self.storing = None;
    }

    fn ticket(&mut self) -> Ticket {
        self.next_ticket += 1;
        Ticket(self.next_ticket)
    }

    fn ack(&mut self, ticket: Ticket, result: Result<(), StoreError>) {
        self.outputs.push_back(Output::Acked { ticket, result });
    }

    fn event(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    /// Start what can start: the next spool operation, the next store.
    fn pump(&mut self, now: Instant) {
        if self.spool_op.is_none() {
            self.next_spool_op();
        }
        if self.down.as_ref().is_none_or(|d| now >= d.retry_at) {
            self.start_store();
        }
    }

    /// Hand the head of the queue to the sink, unless a store is in flight.
    fn start_store(&mut self) {
        if self.storing.is_none() && !self.queue.is_empty() {
            let mut n = 0;
            let mut batch = Vec::new();
            for item in &self.queue {
                if n > 0 && batch.len() + item.records.len() > self.config.max_batch {
                    break;
                }
                batch.extend(item.records.iter().cloned());
                n += 1;
            }
            self.storing = Some(n);
            self.outputs.push_back(Output::Store(batch));
        }
    }

    fn next_spool_op(&mut self) {
        if !self.to_spool.is_empty() {
            let appends = std::mem::take(&mut self.to_spool);
            let records = appends.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
            self.spool_op = Some(InProgress::Append(appends));
            self.outputs.push_back(Output::Spool(SpoolOp::Append(records)));
        } else if self.maintenance_failed {
            // Marks and clearing wait for the spool to work again (the next append).
        } else if self.spooled > 0 && self.drained == self.spooled {
            self.spool_op = Some(InProgress::Clear);
            self.outputs.push_back(Output::Spool(SpoolOp::Clear));
        } else if self.drained > self.marked {
            self.spool_op = Some(InProgress::Mark(self.drained));
            self.outputs
                .push_back(Output::Spool(SpoolOp::MarkDrained(self.drained)));
        }
    }

    fn spool_done(&mut self, result: Result<(), StoreError>) {
        let Some(op) = self.spool_op.take() else { return };
        match (op, result) {
            (InProgress::Append(appends), Ok(())) => {
                self.maintenance_failed = false;
                for (ticket, records) in appends {
                    self.spooled += records.len() as u64;
                    self.queue.push_back(Item {
                        kind: Kind::Spooled { end: self.spooled },
                        records,
                    });
                    self.ack(ticket, Ok(()));
                }
            }
            (InProgress::Append(appends), Err(error)) => {
                self.event(Event::SpoolFailed { error: error.clone() });
                for (ticket, records) in appends {
                    self.queue.push_back(Item {
                        kind: Kind::Volatile,
                        records,
                    });
                    self.ack(ticket, Err(error.clone()));
                }
            }
            (InProgress::Mark(n), Ok(())) => self.marked = n,
            (InProgress::Clear, Ok(())) => {
                self.spooled = 0;
                self.drained = 0;
                self.marked = 0;
            }
            (InProgress::Mark(_) | InProgress::Clear, Err(error)) => {
                // Only costs a redelivery after a restart (deduped): go on.
                self.maintenance_failed = true;
                self.event(Event::SpoolFailed { error });
            }
        }
    }

    fn stored(&mut self, now: Instant, result: Result<Receipt, StoreError>) {
        let Some(n) = self.storing.take() else { return };
        let n = n.min(self.queue.len());
        let items: Vec<Item> = self.queue.drain(..n).collect();
        match result {
            Ok(receipt) => {
                if self.down.take().is_some() {
                    self.event(Event::SinkRecovered);
                }
                let mut from_spool = 0;
                for item in items {
                    match item.kind {
                        Kind::Direct(ticket) => self.ack(ticket, Ok(())),
                        Kind::Spooled { end } => {
                            from_spool += item.records.len();
                            self.drained = self.drained.max(end);
                        }
                        Kind::Volatile => {}
                    }
                }
                self.event(Event::Stored { receipt, from_spool });
            }
            Err(error) => {
                let backoff = self
                    .down
                    .as_ref()
                    .map_or(self.config.retry_first, |d| (d.backoff * 2).min(self.config.retry_max));
                // Spooled and volatile records go back to the front, in order; direct
                // ones are refused, also those queued behind (they would wait the
                // backoff while their UPF waits for its response).
                let mut keep = Vec::new();
                for item in items {
                    match item.kind {
                        Kind::Direct(ticket) => self.ack(ticket, Err(error.clone())),
                        Kind::Spooled { .. } | Kind::Volatile => keep.push(item),
                    }
                }
                let queued = std::mem::take(&mut self.queue);
                let mut refused = 0;
                for item in queued {
                    match item.kind {
                        Kind::Direct(ticket) => {
                            refused += item.records.len();
                            self.ack(ticket, Err(StoreError::Unavailable(Box::new(error.clone()))));
                        }
                        Kind::Spooled { .. } | Kind::Volatile => keep.push(item),
                    }
                }
                self.queue = keep.into();
                if refused > 0 {
                    self.event(Event::Refused { records: refused });
                }
                self.event(Event::SinkFailed {
                    error: error.clone(),
                    retry_in: backoff,
                });
                self.down = Some(Down {
                    error,
                    retry_at: now + backoff,
                    backoff,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::Dedupe;
    use crate::record::tests::record;

    /// A pipeline with a simulated spool disk and consumer, on virtual time. The disk
    /// and the consumer survive [`Sim::crash`]; the pipeline does not.
    struct Sim {
        p: Pipeline,
        config: PipelineConfig,
        /// Spool operations not carried out yet (only while `hold_spool_ops`).
        held_ops: Vec<SpoolOp>,
        hold_spool_ops: bool,
        now: Instant,
        /// The spool "file": records, and the highest drain mark.
        disk: Vec<UsageRecord>,
        mark: u64,
        spool_broken: bool,
        /// The consumer: what it stored, once per key.
        stored: Vec<UsageRecord>,
        dedupe: Dedupe,
        sink_up: bool,
        /// Store outputs not answered yet (only while `hold_stores`).
        held: Vec<Vec<UsageRecord>>,
        hold_stores: bool,
        acks: Vec<(Ticket, Result<(), StoreError>)>,
        events: Vec<Event>,
    }

    impl Sim {
        fn new() -> Self {
            Sim::with_config(PipelineConfig::default())
        }

        fn with_config(config: PipelineConfig) -> Self {
            let now = Instant::now();
            Sim {
                p: Pipeline::new(config, Recovered::default()),
                config,
                hold_spool_ops: false,
                held_ops: Vec::new(),
                now,
                disk: Vec::new(),
                mark: 0,
                spool_broken: false,
                stored: Vec::new(),
                dedupe: Dedupe::default(),
                sink_up: true,
                held: Vec::new(),
                hold_stores: false,
                acks: Vec::new(),
                events: Vec::new(),
            }
        }

        /// Process outputs until there are none (bounded).
        fn run(&mut self) {
            for _ in 0..10_000 {
                let Some(out) = self.p.poll_output() else { return };
                match out {
                    Output::Spool(op) if self.hold_spool_ops => self.held_ops.push(op),
                    Output::Spool(op) => self.apply(op),
                    Output::Store(batch) if self.hold_stores => self.held.push(batch),
                    Output::Store(batch) => {
                        let result = self.consume(batch);
                        self.p.handle(self.now, Input::Stored(result));
                    }
                    Output::Acked { ticket, result } => self.acks.push((ticket, result)),
                    Output::Event(e) => self.events.push(e),
                }
            }
            panic!("the pipeline does not settle");
        }

        /// The spool's disk carries out an operation.
        fn apply(&mut self, op: SpoolOp) {
            let result = if self.spool_broken {
                Err(StoreError::Refused("disk full".into()))
            } else {
                match op {
                    SpoolOp::Append(records) => self.disk.extend(records),
                    SpoolOp::MarkDrained(n) => self.mark = self.mark.max(n),
                    SpoolOp::Clear => {
                        self.disk.clear();
                        self.mark = 0;
                    }
                }
                Ok(())
            };
            self.p.handle(self.now, Input::SpoolDone(result));
            self.run();
        }

        /// The consumer stores a batch (idempotently) if it is up.
        fn consume(&mut self, batch: Vec<UsageRecord>) -> Result<Receipt, StoreError> {
            if !self.sink_up {
                return Err(StoreError::Refused("billing unreachable".into()));
            }
            let mut receipt = Receipt::default();
            for r in batch {
                if self.dedupe.insert(&r.key) {
                    self.stored.push(r);
                    receipt.stored += 1;
                } else {
                    receipt.duplicates += 1;
                }
            }
            Ok(receipt)
        }

        fn submit(&mut self, records: Vec<UsageRecord>) -> Ticket {
            let t = self.p.submit(self.now, records);
            self.run();
            t
        }

        fn spool(&mut self, records: Vec<UsageRecord>) -> Ticket {
            let t = self.p.spool(self.now, records);
            self.run();
            t
        }

        /// Let virtual time pass up to the pipeline's next deadline.
        fn wait(&mut self) -> Option<Duration> {
            let deadline = self.p.poll_timeout()?;
            let waited = deadline.saturating_duration_since(self.now);
            self.now = deadline;
            self.p.handle(self.now, Input::Timeout);
            self.run();
            Some(waited)
        }

        fn ack(&self, t: Ticket) -> Option<&Result<(), StoreError>> {
            self.acks.iter().find(|(a, _)| *a == t).map(|(_, r)| r)
        }

        /// The process dies: the pipeline and whatever was in flight are gone; the spool
        /// is reopened from the disk as `SpoolFile::open` would.
        fn crash(&mut self) {
            let records = self.disk.len() as u64;
            let drained = self.mark.min(records);
            let recovered = Recovered {
                records,
                drained,
                pending: self.disk[drained as usize..].to_vec(),
            };
            self.p = Pipeline::new(self.config, recovered);
            self.held.clear();
            self.held_ops.clear();
            self.hold_stores = false;
            self.hold_spool_ops = false;
            self.run();
        }
    }

    #[test]
    fn a_direct_batch_is_acked_once_stored() {
        let mut s = Sim::new();
        s.hold_stores = true;
        let t = s.submit(vec![record(1, 1), record(1, 2)]);
        assert_eq!(s.held.len(), 1);
        assert!(s.ack(t).is_none(), "not before the sink answered");
        let batch = s.held.pop().unwrap();
        let result = s.consume(batch);
        s.p.handle(s.now, Input::Stored(result));
        s.run();
        assert!(matches!(s.ack(t), Some(Ok(()))));
        assert_eq!(s.stored, [record(1, 1), record(1, 2)]);
        assert!(s.disk.is_empty(), "direct batches are not spooled");
        assert!(s.p.is_idle());
    }

    #[test]
    fn a_spooled_batch_is_acked_once_spooled_then_drained_and_cleared() {
        let mut s = Sim::new();
        s.hold_stores = true;
        let t = s.spool(vec![record(1, 1)]);
        assert!(matches!(s.ack(t), Some(Ok(()))), "acknowledged by the spool");
        assert_eq!(s.disk, [record(1, 1)]);
        s.hold_stores = false;
        let batch = s.held.pop().unwrap();
        let result = s.consume(batch);
        s.p.handle(s.now, Input::Stored(result));
        s.run();
        assert_eq!(s.stored, [record(1, 1)]);
        assert!(s.disk.is_empty(), "cleared once everything was delivered");
    }

    #[test]
    fn the_same_report_twice_is_stored_once() {
        let mut s = Sim::new();
        // A Session Report Request and its retransmission, and the same key spooled.
        s.submit(vec![record(1, 1)]);
        s.submit(vec![record(1, 1)]);
        s.spool(vec![record(1, 1), record(1, 2)]);
        assert_eq!(s.stored, [record(1, 1), record(1, 2)]);
        assert!(s.acks.iter().all(|(_, r)| r.is_ok()));
    }

    #[test]
    fn a_sink_that_fails_then_recovers_loses_nothing_and_doubles_nothing() {
        let mut s = Sim::new();
        s.submit(vec![record(1, 1)]);
        s.sink_up = false;
        // Deletion Response usage while billing is unreachable: spooled, retried.
        let spooled = s.spool(vec![record(1, 2)]);
        assert!(matches!(s.ack(spooled), Some(Ok(()))));
        assert!(s.p.is_sink_down());
        // A Session Report Request now is refused at once: the UPF keeps its usage.
        let direct = s.submit(vec![record(2, 1)]);
        assert!(matches!(s.ack(direct), Some(Err(StoreError::Unavailable(_)))));
        let spooled = s.spool(vec![record(1, 3)]);
        assert!(matches!(s.ack(spooled), Some(Ok(()))));
        // Retries back off: 200 ms, 400 ms, 800 ms, … up to 10 s.
        let waits: Vec<Duration> = (0..8).filter_map(|_| s.wait()).collect();
        assert_eq!(waits[..3], [200, 400, 800].map(Duration::from_millis));
        assert_eq!(waits.last(), Some(&Duration::from_secs(10)));
        assert_eq!(s.stored, [record(1, 1)], "nothing while down");
        assert_eq!(s.disk.len(), 2);
        // Billing is back; the next retry delivers, in order, once.
        s.sink_up = true;
        s.wait();
        assert_eq!(s.stored, [record(1, 1), record(1, 2), record(1, 3)]);
        assert!(!s.p.is_sink_down());
        assert!(s.disk.is_empty());
        assert!(s.events.iter().any(|e| matches!(e, Event::SinkRecovered)));
        // And direct batches are taken again.
        let direct = s.submit(vec![record(2, 2)]);
        assert!(matches!(s.ack(direct), Some(Ok(()))));
        assert!(s.p.poll_timeout().is_none());
    }

    #[test]
    fn a_failure_refuses_direct_batches_queued_behind_it() {
        let mut s = Sim::new();
        s.hold_stores = true;
        let first = s.submit(vec![record(1, 1)]);
        let second = s.submit(vec![record(2, 1)]);
        let spooled = s.spool(vec![record(3, 1)]);
        let batch = s.held.pop().unwrap();
        s.sink_up = false;
        let result = s.consume(batch);
        s.hold_stores = false;
        s.p.handle(s.now, Input::Stored(result));
        s.run();
        assert!(matches!(s.ack(first), Some(Err(StoreError::Refused(_)))));
        assert!(matches!(s.ack(second), Some(Err(StoreError::Unavailable(_)))));
        assert!(matches!(s.ack(spooled), Some(Ok(()))));
        s.sink_up = true;
        s.wait();
        assert_eq!(s.stored, [record(3, 1)]);
    }

    #[test]
    fn spooled_reports_survive_a_crash_while_the_sink_is_down() {
        let mut s = Sim::new();
        s.sink_up = false;
        s.spool(vec![record(1, 1)]);
        s.spool(vec![record(1, 2), record(2, 1)]);
        s.wait();
        s.crash();
        // After the restart the spool is delivered first, once the sink is back.
        assert_eq!(s.p.backlog(), 3);
        s.sink_up = true;
        s.wait();
        assert_eq!(s.stored, [record(1, 1), record(1, 2), record(2, 1)]);
        assert!(s.disk.is_empty());
    }

    #[test]
    fn a_crash_between_store_and_mark_redelivers_and_the_consumer_dedupes() {
        let mut s = Sim::new();
        s.hold_stores = true;
        s.spool(vec![record(1, 1), record(1, 2)]);
        // The consumer stores the batch, but the process dies before it hears so.
        let batch = s.held.pop().unwrap();
        s.consume(batch).unwrap();
        s.crash();
        assert_eq!(s.stored, [record(1, 1), record(1, 2)], "nothing doubled");
        assert!(
            s.events
                .iter()
                .any(|e| matches!(e, Event::Stored { receipt, from_spool: 2 } if receipt.duplicates == 2))
        );
        assert!(s.disk.is_empty());
    }

    #[test]
    fn a_crash_after_a_mark_delivers_only_the_rest() {
        let mut s = Sim::with_config(PipelineConfig {
            max_batch: 1,
            ..PipelineConfig::default()
        });
        s.sink_up = false;
        s.spool(vec![record(1, 1)]);
        s.spool(vec![record(1, 2)]);
        s.sink_up = true;
        // Both are delivered, one batch each; the first one's mark reaches the disk,
        // then the process dies before the spool is cleared.
        s.hold_spool_ops = true;
        s.wait();
        assert_eq!(s.stored, [record(1, 1), record(1, 2)]);
        assert_eq!(s.held_ops, [SpoolOp::MarkDrained(1)]);
        let mark = s.held_ops.pop().unwrap();
        s.apply(mark);
        assert_eq!(s.mark, 1);
        assert_eq!(s.held_ops, [SpoolOp::Clear]);
        s.events.clear();
        s.crash();
        // Only the unmarked one comes again, and the consumer knows it.
        assert_eq!(s.stored, [record(1, 1), record(1, 2)]);
        let redelivered: Vec<Receipt> = s
            .events
            .iter()
            .filter_map(|e| match e {
                Event::Stored { receipt, .. } => Some(*receipt),
                _ => None,
            })
            .collect();
        assert_eq!(
            redelivered,
            [Receipt {
                stored: 0,
                duplicates: 1
            }]
        );
        assert!(s.disk.is_empty());
    }

    #[test]
    fn a_broken_spool_still_delivers_from_memory_and_says_so() {
        let mut s = Sim::new();
        s.sink_up = false;
        s.spool_broken = true;
        let t = s.spool(vec![record(1, 1)]);
        assert!(matches!(s.ack(t), Some(Err(StoreError::Refused(_)))));
        assert!(s.events.iter().any(|e| matches!(e, Event::SpoolFailed { .. })));
        s.sink_up = true;
        s.wait();
        assert_eq!(s.stored, [record(1, 1)]);
        // At shutdown such records would be lost, and counted.
        s.sink_up = false;
        s.spool(vec![record(1, 2)]);
        s.p.close();
        s.run();
        assert!(s.events.iter().any(|e| matches!(e, Event::Lost { records: 1 })));
    }

    #[test]
    fn batches_are_bounded_and_a_submission_is_never_split() {
        let mut s = Sim::new();
        s.sink_up = false;
        for i in 0..200 {
            s.spool(vec![record(i, 1)]);
        }
        s.spool((1..=150).map(|n| record(1000, n)).collect());
        s.sink_up = true;
        s.hold_stores = true;
        s.wait();
        let sizes: Vec<usize> = std::iter::from_fn(|| {
            let batch = s.held.pop()?;
            let n = batch.len();
            let result = s.consume(batch);
            s.p.handle(s.now, Input::Stored(result));
            s.run();
            Some(n)
        })
        .collect();
        assert_eq!(sizes, [128, 72, 150]);
        assert_eq!(s.stored.len(), 350);
    }

    #[test]
    fn closing_refuses_what_has_no_spool_behind_it() {
        let mut s = Sim::new();
        s.hold_stores = true;
        let direct = s.submit(vec![record(1, 1)]);
        s.spool(vec![record(2, 1)]);
        s.p.close();
        s.run();
        assert!(matches!(s.ack(direct), Some(Err(StoreError::Closed))));
        assert_eq!(s.disk, [record(2, 1)], "kept for the next start");
        assert!(s.p.is_idle());
    }
}
