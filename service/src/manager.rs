//! Services and the task manager that runs them.
//!
//! A [`Service`] is a function before it runs (its settings and links); starting it
//! binds its sockets, spawns its tasks and hands back a [`RunningService`], which says
//! whether it is ready and knows how to stop. The [`TaskManager`] starts the services
//! of a process one by one in the order they were added (each start completes before
//! the next begins: a later service may rely on an earlier one listening), waits for
//! the shutdown future, then stops them in a declared stop order — which need not be
//! the reverse of the start (`hexcore up` stops the UPF before the SMF so that the
//! UPF's final usage reports reach an SMF that can store them). Each stop is bounded:
//! a service that overruns its bound is logged and left to finish in the background
//! while the next one is stopped.
//!
//! `/readyz` reads the same table the manager keeps: every service must have started
//! and say it is ready.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::BoxFuture;
use crate::http::{Endpoint, Routes};

/// How long a service's stop may take unless it says otherwise.
pub const DEFAULT_STOP_BOUND: Duration = Duration::from_secs(10);

/// A long-running function as the task manager sees it before it runs.
pub trait Service: Send {
    /// Its name in logs and in `/readyz` ("amf", "smf", "upf").
    fn name(&self) -> &str;

    /// How long its stop may take before the manager abandons it and stops the next.
    fn stop_bound(&self) -> Duration {
        DEFAULT_STOP_BOUND
    }

    /// Bind, spawn, and hand back what now runs. Routes for the process's HTTP
    /// endpoint go through `context`.
    fn start(self: Box<Self>, context: StartContext) -> BoxFuture<'static, anyhow::Result<Box<dyn RunningService>>>;
}

/// A started service.
pub trait RunningService: Send {
    /// Whether it serves now. Asked on every `/readyz`: cheap, never blocking.
    fn ready(&self) -> Readiness {
        Readiness::Ready
    }

    /// Stop: finish what must be finished (final reports, a last checkpoint), then
    /// release sockets and threads.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// What a started service says on `/readyz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// It serves.
    Ready,
    /// It runs but does not serve; the reason is shown on `/readyz`.
    NotReady(String),
}

/// What a service may do with the process while it starts.
#[derive(Clone, Default)]
pub struct StartContext {
    routes: Option<Routes>,
}

impl StartContext {
    /// Serve `router`'s routes on the process's HTTP endpoint, beside `/metrics`,
    /// `/healthz` and `/readyz` (which it cannot replace). Without an endpoint (metrics
    /// disabled) they are not served. Two services adding the same path is a bug of
    /// the composition (axum panics on overlapping routes).
    pub fn add_routes(&self, router: axum::Router) {
        match &self.routes {
            Some(routes) => routes.add(router),
            None => tracing::debug!("no HTTP endpoint: routes not served"),
        }
    }
}

/// A service added to a [`TaskManager`], to name it in the stop order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceId(usize);

/// Why a process's services could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A service could not start; those started before it were stopped.
    #[error("{service} did not start: {reason}")]
    Start {
        /// The service.
        service: String,
        /// Why (the whole error chain).
        reason: String,
    },
    /// The declared stop order does not name every service exactly once.
    #[error("the stop order must name each of the {services} services exactly once, not {order:?}")]
    StopOrder {
        /// How many services were added.
        services: usize,
        /// The order given (indices in start order).
        order: Vec<usize>,
    },
}

/// Starts a process's services in the order they were added and stops them in the
/// declared stop order (the reverse of the start unless [`TaskManager::stop_order`]
/// says otherwise).
pub struct TaskManager {
    process: String,
    services: Vec<Box<dyn Service>>,
    stop_order: Option<Vec<usize>>,
}

impl TaskManager {
    /// A manager for the process named `process` in logs ("hexcore up").
    pub fn new(process: impl Into<String>) -> Self {
        Self {
            process: process.into(),
            services: Vec::new(),
            stop_order: None,
        }
    }

    /// Add a service; services start in the order they are added.
    pub fn add(&mut self, service: impl Service + 'static) -> ServiceId {
        self.services.push(Box::new(service));
        ServiceId(self.services.len() - 1)
    }

    /// Declare the stop order: every added service, each once (checked by
    /// [`TaskManager::run`] before anything starts).
    pub fn stop_order(&mut self, order: impl IntoIterator<Item = ServiceId>) {
        self.stop_order = Some(order.into_iter().map(|id| id.0).collect());
    }

    /// Serve `endpoint` (when there is one), start every service, wait for
    /// `shutdown`, stop every service, stop the endpoint. A shutdown while a service
    /// starts lets that start complete, starts nothing more, and stops what started.
    /// A service that fails to start stops those started before it, and its error is
    /// returned.
    pub async fn run(self, endpoint: Option<Endpoint>, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let TaskManager {
            process,
            services,
            stop_order,
        } = self;
        let stop_order = match stop_order {
            Some(order) => {
                let mut sorted = order.clone();
                sorted.sort_unstable();
                if sorted != (0..services.len()).collect::<Vec<_>>() {
                    return Err(Error::StopOrder {
                        services: services.len(),
                        order,
                    });
                }
                order
            }
            None => (0..services.len()).rev().collect(),
        };
        let names: Vec<String> = services.iter().map(|s| s.name().to_owned()).collect();
        let bounds: Vec<Duration> = services.iter().map(|s| s.stop_bound()).collect();
        let table = Arc::new(ServiceTable::new(&names));
        let (serving, routes) = match endpoint {
            Some(e) => {
                let routes = Routes::default();
                (Some(e.spawn(table.clone(), routes.clone())), Some(routes))
            }
            None => (None, None),
        };

        let mut shutdown = pin!(shutdown);
        let mut stopping = false;
        let mut failure = None;
        for (i, service) in services.into_iter().enumerate() {
            if stopping {
                break;
            }
            let name = &names[i];
            table.set(i, State::Starting);
            tracing::debug!(service = %name, "starting");
            let mut start = service.start(StartContext { routes: routes.clone() });
            let started = loop {
                tokio::select! {
                    r = &mut start => break r,
                    () = &mut shutdown, if !stopping => {
                        stopping = true;
                        tracing::info!(service = %name, "shutdown requested: stopping once this service has started");
                    }
                }
            };
            match started {
                Ok(running) => table.set(i, State::Started(running)),
                Err(e) => {
                    let reason = format!("{e:#}");
                    tracing::error!(service = %name, "did not start: {reason}");
                    table.set(i, State::Failed(reason.clone()));
                    failure = Some(Error::Start {
                        service: name.clone(),
                        reason,
                    });
                    stopping = true;
                }
            }
        }
        if stopping {
            tracing::info!("{process}: shutting down");
        } else {
            tracing::info!(services = %names.join(", "), "{process}: running");
            shutdown.await;
            tracing::info!("{process}: shutting down");
        }

        for i in stop_order {
            let State::Started(running) = table.replace(i, State::Stopping) else {
                table.set(i, State::NotStarted);
                continue;
            };
            let name = &names[i];
            let bound = bounds[i];
            tracing::debug!(service = %name, "stopping");
            // Spawned: a stop that overruns goes on in the background instead of being
            // cut at an arbitrary await, and a panic in it does not stop the others'.
            let mut stop = tokio::spawn(running.stop());
            match tokio::time::timeout(bound, &mut stop).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(service = %name, "stop failed: {e}"),
                Err(_) => tracing::warn!(
                    service = %name,
                    bound_ms = bound.as_millis() as u64,
                    "stop overran its bound: abandoned, the next service is stopped"
                ),
            }
            table.set(i, State::Stopped);
        }
        if let Some(s) = serving {
            s.stop().await;
        }
        failure.map_or(Ok(()), Err)
    }
}

/// Where each service is in its life, shared with `/readyz`.
pub(crate) struct ServiceTable {
    services: Mutex<Vec<(String, State)>>,
}

enum State {
    /// Its turn has not come (or will not: the process stopped first).
    NotStarted,
    Starting,
    Started(Box<dyn RunningService>),
    Failed(String),
    Stopping,
    Stopped,
}

impl ServiceTable {
    fn new(names: &[String]) -> Self {
        Self {
            services: Mutex::new(names.iter().map(|n| (n.clone(), State::NotStarted)).collect()),
        }
    }

    fn set(&self, i: usize, state: State) {
        drop(self.replace(i, state));
    }

    /// The state of service `i` before; `NotStarted` for an index that is not there.
    fn replace(&self, i: usize, state: State) -> State {
        let mut services = self.services.lock().unwrap_or_else(PoisonError::into_inner);
        match services.get_mut(i) {
            Some((_, s)) => std::mem::replace(s, state),
            None => State::NotStarted,
        }
    }

    /// Whether every service started and is ready, and one line per service.
    pub(crate) fn readiness(&self) -> (bool, String) {
        let services = self.services.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all_ready = true;
        let mut text = String::new();
        for (name, state) in services.iter() {
            let line = match state {
                State::Started(running) => match running.ready() {
                    Readiness::Ready => "ready".to_owned(),
                    Readiness::NotReady(reason) => format!("not ready: {reason}"),
                },
                State::NotStarted => "not started".to_owned(),
                State::Starting => "starting".to_owned(),
                State::Failed(reason) => format!("did not start: {reason}"),
                State::Stopping => "stopping".to_owned(),
                State::Stopped => "stopped".to_owned(),
            };
            all_ready &= line == "ready";
            text.push_str(&format!("{name}: {line}\n"));
        }
        (all_ready, text)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::sync::oneshot;

    use super::*;

    /// What the test services did, in order.
    type Journal = Arc<Mutex<Vec<String>>>;

    fn note(journal: &Journal, what: String) {
        journal.lock().unwrap().push(what);
    }

    /// A service that notes its start and stop; its stop can hang, its start can fail
    /// or wait for the test, its readiness is the test's.
    struct Probe {
        name: &'static str,
        journal: Journal,
        hang_on_stop: bool,
        fail_start: bool,
        /// Told when the start begins; the start then waits for `start_gate`.
        start_began: Option<oneshot::Sender<()>>,
        start_gate: Option<oneshot::Receiver<()>>,
        ready: Arc<AtomicBool>,
        bound: Duration,
    }

    impl Probe {
        fn new(name: &'static str, journal: &Journal) -> Self {
            Self {
                name,
                journal: journal.clone(),
                hang_on_stop: false,
                fail_start: false,
                start_began: None,
                start_gate: None,
                ready: Arc::new(AtomicBool::new(true)),
                bound: DEFAULT_STOP_BOUND,
            }
        }
    }

    struct RunningProbe {
        name: &'static str,
        journal: Journal,
        hang_on_stop: bool,
        ready: Arc<AtomicBool>,
    }

    impl Service for Probe {
        fn name(&self) -> &str {
            self.name
        }

        fn stop_bound(&self) -> Duration {
            self.bound
        }

        fn start(self: Box<Self>, _: StartContext) -> BoxFuture<'static, anyhow::Result<Box<dyn RunningService>>> {
            Box::pin(async move {
                if let Some(began) = self.start_began {
                    let _ = began.send(());
                }
                if let Some(gate) = self.start_gate {
                    let _ = gate.await;
                }
                note(&self.journal, format!("start {}", self.name));
                if self.fail_start {
                    anyhow::bail!("port in use");
                }
                Ok(Box::new(RunningProbe {
                    name: self.name,
                    journal: self.journal,
                    hang_on_stop: self.hang_on_stop,
                    ready: self.ready,
                }) as Box<dyn RunningService>)
            })
        }
    }

    impl RunningService for RunningProbe {
        fn ready(&self) -> Readiness {
            if self.ready.load(Ordering::SeqCst) {
                Readiness::Ready
            } else {
                Readiness::NotReady("waiting for a peer".into())
            }
        }

        fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
            Box::pin(async move {
                note(&self.journal, format!("stop {}", self.name));
                if self.hang_on_stop {
                    std::future::pending::<()>().await;
                }
                note(&self.journal, format!("stopped {}", self.name));
            })
        }
    }

    /// `probe`, and a shutdown that fires once its start has begun (so, with `probe`
    /// added last, once every service has started or is starting).
    fn shutdown_after(probe: Probe) -> (Probe, impl Future<Output = ()>) {
        let (began, begun) = oneshot::channel();
        let probe = Probe {
            start_began: Some(began),
            ..probe
        };
        (probe, async move {
            let _ = begun.await;
        })
    }

    fn journal() -> Journal {
        Arc::new(Mutex::new(Vec::new()))
    }

    fn entries(journal: &Journal) -> Vec<String> {
        journal.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn start_in_order_and_stop_in_the_declared_order() {
        let j = journal();
        let mut m = TaskManager::new("test");
        let upf = m.add(Probe::new("upf", &j));
        let smf = m.add(Probe::new("smf", &j));
        let (last, shutdown) = shutdown_after(Probe::new("amf", &j));
        let amf = m.add(last);
        m.stop_order([amf, upf, smf]);
        m.run(None, shutdown).await.unwrap();
        assert_eq!(
            entries(&j),
            [
                "start upf",
                "start smf",
                "start amf",
                "stop amf",
                "stopped amf",
                "stop upf",
                "stopped upf",
                "stop smf",
                "stopped smf"
            ]
        );
    }

    #[tokio::test]
    async fn without_a_declared_order_the_stop_is_the_reverse_of_the_start() {
        let j = journal();
        let mut m = TaskManager::new("test");
        m.add(Probe::new("a", &j));
        let (last, shutdown) = shutdown_after(Probe::new("b", &j));
        m.add(last);
        m.run(None, shutdown).await.unwrap();
        assert_eq!(
            entries(&j),
            ["start a", "start b", "stop b", "stopped b", "stop a", "stopped a"]
        );
    }

    // Paused time: the bound elapses as soon as nothing else can run.
    #[tokio::test(start_paused = true)]
    async fn a_stop_that_hangs_is_abandoned_after_its_bound_and_the_others_still_stop() {
        let j = journal();
        let mut m = TaskManager::new("test");
        let a = m.add(Probe::new("a", &j));
        let hangs = m.add(Probe {
            hang_on_stop: true,
            bound: Duration::from_secs(3),
            ..Probe::new("hangs", &j)
        });
        let (last, shutdown) = shutdown_after(Probe::new("c", &j));
        let c = m.add(last);
        m.stop_order([hangs, a, c]);
        m.run(None, shutdown).await.unwrap();
        assert_eq!(
            entries(&j),
            [
                "start a",
                "start hangs",
                "start c",
                "stop hangs",
                "stop a",
                "stopped a",
                "stop c",
                "stopped c"
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_start_stops_what_started_and_starts_nothing_more() {
        let j = journal();
        let mut m = TaskManager::new("test");
        m.add(Probe::new("a", &j));
        m.add(Probe {
            fail_start: true,
            ..Probe::new("b", &j)
        });
        m.add(Probe::new("c", &j));
        let e = m.run(None, std::future::pending()).await.unwrap_err();
        assert!(
            matches!(&e, Error::Start { service, reason } if service == "b" && reason == "port in use"),
            "{e}"
        );
        assert_eq!(entries(&j), ["start a", "start b", "stop a", "stopped a"]);
    }

    #[tokio::test]
    async fn a_shutdown_during_a_start_lets_it_complete_then_stops() {
        let j = journal();
        let (began_tx, began) = oneshot::channel();
        let (open, gate) = oneshot::channel();
        let mut m = TaskManager::new("test");
        m.add(Probe::new("a", &j));
        m.add(Probe {
            start_began: Some(began_tx),
            start_gate: Some(gate),
            ..Probe::new("b", &j)
        });
        m.add(Probe::new("c", &j));
        // The shutdown fires once b has begun to start, and only then lets b's start
        // complete: c never starts, b and a stop.
        let shutdown = async move {
            let _ = began.await;
            let _ = open.send(());
        };
        m.run(None, shutdown).await.unwrap();
        assert_eq!(
            entries(&j),
            ["start a", "start b", "stop b", "stopped b", "stop a", "stopped a"]
        );
    }

    #[tokio::test]
    async fn a_stop_order_must_name_every_service_once() {
        let j = journal();
        let mut m = TaskManager::new("test");
        let a = m.add(Probe::new("a", &j));
        m.add(Probe::new("b", &j));
        m.stop_order([a, a]);
        let e = m.run(None, async {}).await.unwrap_err();
        assert!(matches!(e, Error::StopOrder { services: 2, .. }), "{e}");
        assert!(entries(&j).is_empty(), "nothing starts");
    }
}
