//! The usage interface: what the SMF produces and billing consumes, with neither
//! knowing the other (see README.md for the contract, the guarantees and the file
//! format).
//!
//! ```text
//!  UPF ── PFCP Usage Report ──► SMF ── UsageRecord ──► Outbox ──► UsageSink ──► billing
//!                                      (typed, keyed    (spool,     (durable,     (ledger,
//!                                       by UPF, SEID,    ordered,    idempotent    or the
//!                                       URR, UR-SEQN)    retries)    on the key)   JSON file)
//! ```
//!
//! | module | what |
//! |---|---|
//! | [`record`] | [`UsageRecord`] and its parts: [`SessionContext`], the dedupe [`ReportKey`], [`Counts`]; the JSON-lines form |
//! | [`supi`], [`location`], [`node`], [`trigger`], [`time`] | [`Supi`], [`NrCgi`]/[`Tai`], the UPF's [`NodeId`], the [`Triggers`] set, [`UnixTime`] |
//! | [`sink`] | the [`UsageSink`] contract, [`Ack`], [`Receipt`], [`MemorySink`] |
//! | [`dedupe`] | sans-IO [`Dedupe`]: a window per URR |
//! | [`jsonl`] | [`JsonLinesSink`]: the usage file, fsynced on its own thread |
//! | [`spool`] | [`SpoolFile`]: what waits for the sink, durably |
//! | [`pipeline`] | sans-IO [`Pipeline`]: ordering, spooling, retries |
//! | [`outbox`] | [`Outbox`]: the tokio task the producer hands records to |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dedupe;
pub mod error;
pub mod jsonl;
pub mod location;
pub mod node;
pub mod outbox;
pub mod pipeline;
pub mod record;
pub mod sink;
pub mod spool;
pub mod supi;
pub mod time;
pub mod trigger;

pub use dedupe::Dedupe;
pub use error::{Error, StoreError};
pub use jsonl::JsonLinesSink;
pub use location::{NrCellId, NrCgi, PlmnId, Tac, Tai};
pub use node::NodeId;
pub use outbox::{Outbox, OutboxConfig, OutboxTask};
pub use pipeline::{Pipeline, PipelineConfig};
pub use record::{Counts, ReportKey, SNssai, Seid, SessionContext, UrSeqn, UrrId, UrrKey, UsageRecord};
pub use sink::{Ack, BoxFuture, MemorySink, Receipt, UsageSink};
pub use spool::{Recovered, SpoolFile, SpoolOp};
pub use supi::Supi;
pub use time::{Interval, UnixTime};
pub use trigger::{Trigger, Triggers};
