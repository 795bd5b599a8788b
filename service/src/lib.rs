//! The contract every long-running hexcore function runs under, so that `hexcore up`,
//! `hexcore upf` and every later `hexcore <function>` are short compositions:
//!
//! ```text
//!  binary: settings, init_logging ──► Endpoint::bind (installs the process's recorder)
//!                                        │
//!  TaskManager::run(endpoint, shutdown) ─┤
//!   1. the endpoint serves /metrics, /healthz, /readyz (and the routes services add)
//!   2. services start one by one, in their declared order:
//!        Service::start(StartContext) ─► Box<dyn RunningService> { ready(), stop() }
//!   3. the shutdown future resolves (shutdown_signal: SIGTERM or SIGINT)
//!   4. services stop in their declared stop order, each within its bound
//!   5. the endpoint stops
//! ```
//!
//! A process has one `metrics` recorder and one HTTP endpoint, whatever functions it
//! runs: a function records through the `metrics` facade and never serves HTTP itself;
//! when it has an API of its own (the AMF's operator API) it adds its routes to the
//! process's endpoint when it starts.
//!
//! | module | what |
//! |---|---|
//! | [`manager`] | [`Service`], [`RunningService`], [`Readiness`], [`TaskManager`] |
//! | [`http`] | [`Endpoint`]: `/metrics`, `/healthz`, `/readyz`, added routes; [`prometheus`] |
//! | [`logging`] | [`init_logging`]: text or JSON on stderr, colour only on a terminal |
//! | [`signal`] | [`shutdown_signal`]: SIGTERM or SIGINT |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod http;
pub mod logging;
pub mod manager;
pub mod signal;

pub use http::{Endpoint, prometheus};
pub use logging::{LogFormat, init_logging};
pub use manager::{
    DEFAULT_STOP_BOUND, Error, Readiness, RunningService, Service, ServiceId, StartContext, TaskManager,
};
pub use signal::shutdown_signal;

/// A boxed `Send` future (what the contract's traits return, so that they stay object
/// safe).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
