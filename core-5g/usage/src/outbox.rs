//! The outbox: the producer's side of the usage interface, a tokio task around the
//! sans-IO [`Pipeline`], the spool file and a [`UsageSink`].
//!
//! ```text
//!  SMF task ── Outbox::submit(records) → Ack ─┐           ┌─► spool file (blocking
//!  SMF task ── Outbox::spool(records)  → Ack ─┤  outbox   │    thread: append+fsync,
//!                                  (channel,  ├► task ────┤    marks, clear)
//!                                 never waits)│ (select!) └─► UsageSink::store(batch)
//!  shutdown ──────────────────────────────────┘                 (one at a time)
//! ```
//!
//! The producer hands records over through an unbounded channel and gets an [`Ack`]
//! back at once: it never waits on a disk. The channel is unbounded so that usage that
//! cannot be refused (Modification/Deletion Responses) is never dropped for lack of
//! room; what it holds is what the spool's disk has not taken yet, and the direct path
//! is bounded by the producer (one batch per outstanding PFCP Session Report Request).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::pipeline::{Event, Input, Output, Pipeline, PipelineConfig, Ticket};
use crate::record::UsageRecord;
use crate::sink::{Ack, BoxFuture, Receipt, UsageSink};
use crate::spool::{SpoolFile, SpoolOp};

/// Where the outbox spools and how it batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxConfig {
    /// The spool file (created with its directory).
    pub spool_path: PathBuf,
    /// Batching and retries.
    pub pipeline: PipelineConfig,
    /// How long a shutdown waits for a store in flight and spool writes.
    pub shutdown_grace: Duration,
}

impl OutboxConfig {
    /// Defaults, spooling to `spool_path`.
    pub fn new(spool_path: impl Into<PathBuf>) -> Self {
        OutboxConfig {
            spool_path: spool_path.into(),
            pipeline: PipelineConfig::default(),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// The producer's handle (cheap to clone).
#[derive(Debug, Clone)]
pub struct Outbox {
    commands: mpsc::UnboundedSender<Command>,
}

/// The running outbox task. It stops on [`OutboxTask::shutdown`], when every
/// [`Outbox`] handle is dropped, or when this value is dropped (then without waiting
/// for it).
#[derive(Debug)]
pub struct OutboxTask {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
enum Command {
    Submit(Vec<UsageRecord>, oneshot::Sender<Result<(), StoreError>>),
    Spool(Vec<UsageRecord>, oneshot::Sender<Result<(), StoreError>>),
}

impl Outbox {
    /// Open the spool (records it holds are delivered first) and start the task.
    pub async fn start(config: OutboxConfig, sink: Arc<dyn UsageSink>) -> Result<(Outbox, OutboxTask), StoreError> {
        let path = config.spool_path.clone();
        let (spool, recovered) = tokio::task::spawn_blocking(move || SpoolFile::open(path))
            .await
            .map_err(|_| StoreError::Closed)??;
        if !recovered.pending.is_empty() {
            tracing::info!(
                spool = %config.spool_path.display(),
                records = recovered.pending.len(),
                "usage spool: delivering what the last run left"
            );
        }
        let pipeline = Pipeline::new(config.pipeline, recovered);
        let (commands, rx) = mpsc::unbounded_channel();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(run(pipeline, spool, sink, rx, shutdown_rx, config.shutdown_grace));
        Ok((Outbox { commands }, OutboxTask { shutdown, task }))
    }

    /// Records of a report whose PFCP response waits for this acknowledgement (a
    /// Session Report Request, TS 29.244 §7.5.8): `Ok` once the sink has them durably;
    /// `Err` means answer the UPF so that it keeps the usage (§7.5.9).
    pub fn submit(&self, records: Vec<UsageRecord>) -> Ack<()> {
        let (tx, ack) = Ack::channel();
        if let Err(mpsc::error::SendError(Command::Submit(_, tx) | Command::Spool(_, tx))) =
            self.commands.send(Command::Submit(records, tx))
        {
            let _ = tx.send(Err(StoreError::Closed));
        }
        ack
    }

    /// Records of a report nobody can hold back (a Session Modification or Deletion
    /// Response, TS 29.244 §7.5.5.2, §7.5.7.2): `Ok` once the spool has them durably;
    /// they reach the sink later, also across restarts. `Err` means they are not
    /// durable (they are still delivered from memory while the process runs).
    pub fn spool(&self, records: Vec<UsageRecord>) -> Ack<()> {
        let (tx, ack) = Ack::channel();
        if let Err(mpsc::error::SendError(Command::Submit(_, tx) | Command::Spool(_, tx))) =
            self.commands.send(Command::Spool(records, tx))
        {
            let _ = tx.send(Err(StoreError::Closed));
        }
        ack
    }
}

impl OutboxTask {
    /// Stop taking records, finish spool writes and the store in flight (within the
    /// grace), and stop. Spooled records not yet delivered stay in the spool.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// The task: the only owner of the pipeline, the spool file and the sink futures.
async fn run(
    mut pipeline: Pipeline,
    spool: SpoolFile,
    sink: Arc<dyn UsageSink>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut io = Io {
        spool: Some(spool),
        spool_op: None,
        store: None,
        acks: std::collections::HashMap::new(),
        sink,
    };
    let mut stopping: Option<tokio::time::Instant> = None;
    loop {
        io.apply(&mut pipeline);
        if let Some(deadline) = stopping
            && (pipeline.is_idle() || tokio::time::Instant::now() >= deadline)
        {
            break;
        }
        let timeout = pipeline.poll_timeout();
        tokio::select! {
            _ = shutdown.changed(), if stopping.is_none() => {
                stopping = Some(begin_stop(&mut commands, &mut pipeline, &mut io, grace));
            }
            cmd = commands.recv(), if stopping.is_none() => match cmd {
                Some(cmd) => io.take(&mut pipeline, cmd),
                // Every producer is gone.
                None => stopping = Some(begin_stop(&mut commands, &mut pipeline, &mut io, grace)),
            },
            done = maybe(&mut io.spool_op) => {
                io.spool_op = None;
                let result = match done {
                    Ok((file, result)) => {
                        io.spool = Some(file);
                        result
                    }
                    // The blocking task panicked with the file: no spool from now on.
                    Err(_) => Err(StoreError::Closed),
                };
                pipeline.handle(Instant::now(), Input::SpoolDone(result));
            }
            stored = maybe(&mut io.store) => {
                io.store = None;
                pipeline.handle(Instant::now(), Input::Stored(stored));
            }
            _ = sleep_until(timeout) => pipeline.handle(Instant::now(), Input::Timeout),
            _ = sleep_until(stopping.map(tokio::time::Instant::into_std)) => {}
        }
    }
    pipeline.close();
    io.apply(&mut pipeline);
    // Answer whoever still waits (their records were neither stored nor spooled).
    for (_, tx) in io.acks.drain() {
        let _ = tx.send(Err(StoreError::Closed));
    }
}

/// Take what producers sent before the stop, then no more.
fn begin_stop(
    commands: &mut mpsc::UnboundedReceiver<Command>,
    pipeline: &mut Pipeline,
    io: &mut Io,
    grace: Duration,
) -> tokio::time::Instant {
    commands.close();
    while let Ok(cmd) = commands.try_recv() {
        io.take(pipeline, cmd);
    }
    tokio::time::Instant::now() + grace
}

/// The task's I/O: the spool file (moved to a blocking thread per operation), the
/// sink's future, and the producers' acknowledgements by ticket.
struct Io {
    spool: Option<SpoolFile>,
    spool_op: Option<JoinHandle<(SpoolFile, Result<(), StoreError>)>>,
    store: Option<BoxFuture<Result<Receipt, StoreError>>>,
    acks: std::collections::HashMap<Ticket, oneshot::Sender<Result<(), StoreError>>>,
    sink: Arc<dyn UsageSink>,
}

impl Io {
    fn take(&mut self, pipeline: &mut Pipeline, cmd: Command) {
        let now = Instant::now();
        let (ticket, tx) = match cmd {
            Command::Submit(records, tx) => (pipeline.submit(now, records), tx),
            Command::Spool(records, tx) => (pipeline.spool(now, records), tx),
        };
        self.acks.insert(ticket, tx);
    }

    /// Carry out what the pipeline asked for.
    fn apply(&mut self, pipeline: &mut Pipeline) {
        while let Some(out) = pipeline.poll_output() {
            match out {
                Output::Spool(op) => self.start_spool_op(pipeline, op),
                Output::Store(batch) => self.store = Some(self.sink.store(batch)),
                Output::Acked { ticket, result } => {
                    if let Some(tx) = self.acks.remove(&ticket) {
                        let _ = tx.send(result);
                    }
                }
                Output::Event(event) => log(&event),
            }
        }
    }

    fn start_spool_op(&mut self, pipeline: &mut Pipeline, op: SpoolOp) {
        match self.spool.take() {
            Some(mut file) => {
                self.spool_op = Some(tokio::task::spawn_blocking(move || {
                    let result = file.apply(&op);
                    (file, result)
                }));
            }
            None => pipeline.handle(Instant::now(), Input::SpoolDone(Err(StoreError::Closed))),
        }
    }
}

fn log(event: &Event) {
    match event {
        Event::Stored { receipt, from_spool } => tracing::debug!(
            stored = receipt.stored,
            duplicates = receipt.duplicates,
            from_spool,
            "usage stored"
        ),
        Event::SinkFailed { error, retry_in } => {
            tracing::warn!(retry_in_ms = retry_in.as_millis() as u64, "usage sink failed: {error}")
        }
        Event::SinkRecovered => tracing::info!("usage sink recovered"),
        Event::Refused { records } => tracing::warn!(records, "usage refused: sink unavailable, the UPF keeps it"),
        Event::SpoolFailed { error } => tracing::error!("usage spool failed: {error}"),
        Event::Lost { records } => tracing::error!(records, "usage neither stored nor spooled at shutdown: lost"),
    }
}

/// The output of `f`, or never if there is none.
async fn maybe<F: Future + Unpin>(f: &mut Option<F>) -> F::Output {
    match f {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::jsonl::JsonLinesSink;
    use crate::record::tests::record;
    use crate::sink::MemorySink;

    fn config(dir: &Path) -> OutboxConfig {
        OutboxConfig {
            pipeline: PipelineConfig {
                retry_first: Duration::from_millis(10),
                retry_max: Duration::from_millis(50),
                ..PipelineConfig::default()
            },
            ..OutboxConfig::new(dir.join("spool/usage-spool.jsonl"))
        }
    }

    /// Wait (bounded) until `done` holds.
    async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..1_000 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("never: {what}");
    }

    /// A crash: the task dies where it is; nothing is flushed or answered.
    async fn crash(task: OutboxTask) {
        task.task.abort();
        let _ = task.task.await;
    }

    #[tokio::test]
    async fn submit_is_acked_once_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.jsonl");
        let sink = Arc::new(JsonLinesSink::open(&path).unwrap());
        let (outbox, task) = Outbox::start(config(dir.path()), sink).await.unwrap();
        outbox.submit(vec![record(1, 1), record(1, 2)]).await.unwrap();
        // A retransmitted Session Report Request.
        outbox.submit(vec![record(1, 2)]).await.unwrap();
        outbox.spool(vec![record(1, 3)]).await.unwrap();
        task.shutdown().await;
        assert_eq!(
            JsonLinesSink::read_all(&path).unwrap(),
            [record(1, 1), record(1, 2), record(1, 3)]
        );
        // Everything was delivered: the spool is empty.
        let (_, recovered) = SpoolFile::open(dir.path().join("spool/usage-spool.jsonl")).unwrap();
        assert!(recovered.pending.is_empty());
        // After the stop, records are refused, not lost silently.
        assert!(matches!(
            outbox.submit(vec![record(1, 4)]).await,
            Err(StoreError::Closed)
        ));
    }

    #[tokio::test]
    async fn unacknowledgeable_reports_survive_a_sink_outage_and_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let billing = MemorySink::new();
        billing.set_down(true);
        let (outbox, task) = Outbox::start(config(dir.path()), Arc::new(billing.clone()))
            .await
            .unwrap();
        // Deletion Response usage while billing is down: durable in the spool.
        outbox.spool(vec![record(1, 1)]).await.unwrap();
        outbox.spool(vec![record(1, 2), record(2, 1)]).await.unwrap();
        // A Session Report Request is refused so that its UPF keeps the usage.
        eventually("the sink is tried and fails", || billing.batches() > 0).await;
        assert!(outbox.submit(vec![record(3, 1)]).await.is_err());
        crash(task).await;
        assert!(billing.records().is_empty());

        // Restart with billing back: the spool drains, in order, once.
        billing.set_down(false);
        let (outbox, task) = Outbox::start(config(dir.path()), Arc::new(billing.clone()))
            .await
            .unwrap();
        eventually("the spool is drained", || billing.records().len() == 3).await;
        assert_eq!(billing.records(), [record(1, 1), record(1, 2), record(2, 1)]);
        outbox.submit(vec![record(3, 2)]).await.unwrap();
        task.shutdown().await;

        // A third start delivers nothing again.
        let (_, task) = Outbox::start(config(dir.path()), Arc::new(billing.clone()))
            .await
            .unwrap();
        task.shutdown().await;
        assert_eq!(billing.records().len(), 4);
    }

    #[tokio::test]
    async fn a_sink_that_fails_then_recovers_gets_everything_once() {
        let dir = tempfile::tempdir().unwrap();
        let billing = MemorySink::new();
        let (outbox, task) = Outbox::start(config(dir.path()), Arc::new(billing.clone()))
            .await
            .unwrap();
        outbox.submit(vec![record(1, 1)]).await.unwrap();
        billing.set_down(true);
        for n in 2..=5 {
            outbox.spool(vec![record(1, n)]).await.unwrap();
        }
        eventually("a few retries", || billing.batches() > 3).await;
        billing.set_down(false);
        eventually("the backlog is delivered", || billing.records().len() == 5).await;
        outbox.submit(vec![record(1, 6)]).await.unwrap();
        task.shutdown().await;
        let seqns: Vec<u32> = billing.records().iter().map(|r| r.key.ur_seqn.0).collect();
        assert_eq!(seqns, [1, 2, 3, 4, 5, 6]);
    }

    #[tokio::test]
    async fn a_spool_left_after_the_sink_stored_is_not_counted_twice() {
        // The state a crash leaves between the sink's fsync and the spool's mark: the
        // file has the records, the spool still holds them.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.jsonl");
        let cfg = config(dir.path());
        let (mut spool, _) = SpoolFile::open(&cfg.spool_path).unwrap();
        spool.apply(&SpoolOp::Append(vec![record(1, 1), record(1, 2)])).unwrap();
        drop(spool);
        let sink = JsonLinesSink::open(&path).unwrap();
        sink.store(vec![record(1, 1), record(1, 2)]).await.unwrap();
        drop(sink);

        let sink = Arc::new(JsonLinesSink::open(&path).unwrap());
        let (outbox, task) = Outbox::start(cfg.clone(), sink).await.unwrap();
        outbox.spool(vec![record(1, 3)]).await.unwrap();
        task.shutdown().await;
        assert_eq!(
            JsonLinesSink::read_all(&path).unwrap(),
            [record(1, 1), record(1, 2), record(1, 3)]
        );
        let (_, recovered) = SpoolFile::open(&cfg.spool_path).unwrap();
        assert!(recovered.pending.is_empty());
    }
}
