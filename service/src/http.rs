//! The process's one HTTP endpoint and its one Prometheus recorder.
//!
//! ```text
//! GET /metrics    Prometheus text format: everything recorded through `metrics`
//! GET /healthz    200 while the process is alive
//! GET /readyz     200 when every service has started and says it is ready; else 503,
//!                 one line per service naming what is not
//! …               the routes services add when they start (the AMF's /v1/ues…)
//! ```
//!
//! Bind it on loopback unless an authenticating proxy stands in front: the routes
//! services add can change network state (the AMF's network-initiated deregistration).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

use crate::manager::ServiceTable;

/// How long the endpoint may take to close its connections once the services stopped.
const STOP_BOUND: Duration = Duration::from_secs(2);

/// The process's one Prometheus recorder, installed as the `metrics` facade's global
/// recorder on the first call; every call returns a handle to it.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder was installed first: /metrics may be empty");
            }
            handle
        })
        .clone()
}

/// The HTTP endpoint, bound and not yet serving ([`crate::TaskManager::run`] serves it).
#[derive(Debug)]
pub struct Endpoint {
    listener: TcpListener,
    addr: SocketAddr,
    prometheus: PrometheusHandle,
}

impl Endpoint {
    /// Bind `addr` (port 0: a free port, see [`Endpoint::local_addr`]) and install the
    /// process's recorder, so that what the services record from their start on is
    /// served.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Endpoint> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(Endpoint {
            listener,
            addr,
            prometheus: prometheus(),
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve until [`Serving::stop`].
    pub(crate) fn spawn(self, services: Arc<ServiceTable>, routes: Routes) -> Serving {
        tracing::info!(addr = %self.addr, "HTTP: /metrics, /healthz, /readyz");
        let app = Router::new()
            .route("/metrics", get(metrics))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .fallback(added)
            .with_state(AppState {
                prometheus: self.prometheus,
                services,
                routes,
            });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(self.listener, app).with_graceful_shutdown(stopped).await {
                tracing::warn!("HTTP endpoint stopped: {e}");
            }
        });
        Serving { stop, task }
    }
}

/// A serving endpoint.
pub(crate) struct Serving {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Serving {
    /// Stop accepting, let the requests in flight finish (bounded), close.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let abort = self.task.abort_handle();
        if tokio::time::timeout(STOP_BOUND, self.task).await.is_err() {
            tracing::warn!("HTTP endpoint: connections still open after {STOP_BOUND:?}: closed");
            abort.abort();
        }
    }
}

/// The routes services added, served for every path the endpoint's own do not match.
#[derive(Clone, Default)]
pub(crate) struct Routes(Arc<RwLock<Router>>);

impl Routes {
    pub(crate) fn add(&self, router: Router) {
        let mut routes = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let merged = std::mem::take(&mut *routes).merge(router);
        *routes = merged;
    }

    fn current(&self) -> Router {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[derive(Clone)]
struct AppState {
    prometheus: PrometheusHandle,
    services: Arc<ServiceTable>,
    routes: Routes,
}

async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.prometheus.render(),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(s): State<AppState>) -> Response {
    let (ready, text) = s.services.readiness();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, text).into_response()
}

async fn added(State(s): State<AppState>, request: Request) -> Response {
    match s.routes.current().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::sync::oneshot;

    use super::*;
    use crate::{BoxFuture, Readiness, RunningService, Service, StartContext, TaskManager};

    /// A service that waits for the test to let it start, adds a route, and is ready
    /// when the test says so.
    struct Gated {
        name: &'static str,
        gate: oneshot::Receiver<()>,
        ready: Arc<AtomicBool>,
    }

    struct RunningGated(Arc<AtomicBool>);

    impl Service for Gated {
        fn name(&self) -> &str {
            self.name
        }

        fn start(
            self: Box<Self>,
            context: StartContext,
        ) -> BoxFuture<'static, anyhow::Result<Box<dyn RunningService>>> {
            Box::pin(async move {
                let _ = self.gate.await;
                let path = format!("/v1/{}", self.name);
                let name = self.name;
                context.add_routes(Router::new().route(&path, get(move || async move { name })));
                Ok(Box::new(RunningGated(self.ready)) as Box<dyn RunningService>)
            })
        }
    }

    impl RunningService for RunningGated {
        fn ready(&self) -> Readiness {
            if self.0.load(Ordering::SeqCst) {
                Readiness::Ready
            } else {
                Readiness::NotReady("no peer yet".into())
            }
        }

        fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
            Box::pin(async {})
        }
    }

    async fn endpoint() -> Endpoint {
        Endpoint::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap()
    }

    /// One HTTP/1.1 GET: the status code and the body.
    async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut text = String::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut text))
            .await
            .expect("an HTTP answer within 10 s")
            .unwrap();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("not HTTP: {text}"));
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
        (status, body)
    }

    /// Poll `path` until `want` (the endpoint answers from another task).
    async fn until(addr: SocketAddr, path: &str, want: impl Fn(u16, &str) -> bool) -> (u16, String) {
        for _ in 0..500 {
            let (status, body) = http_get(addr, path).await;
            if want(status, &body) {
                return (status, body);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{path} never answered as expected");
    }

    #[tokio::test]
    async fn readyz_turns_from_503_to_200_as_the_services_become_ready() {
        let e = endpoint().await;
        let addr = e.local_addr();
        let (open_a, gate_a) = oneshot::channel();
        let (open_b, gate_b) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let ready_b = Arc::new(AtomicBool::new(false));
        let mut m = TaskManager::new("test");
        m.add(Gated {
            name: "a",
            gate: gate_a,
            ready: Arc::new(AtomicBool::new(true)),
        });
        m.add(Gated {
            name: "b",
            gate: gate_b,
            ready: ready_b.clone(),
        });
        let run = tokio::spawn(m.run(Some(e), async move {
            let _ = stopped.await;
        }));

        // Alive from the start, not ready while a starts.
        let (status, body) = until(addr, "/readyz", |_, b| b.contains("a: starting")).await;
        assert_eq!((status, body.as_str()), (503, "a: starting\nb: not started\n"));
        assert_eq!(http_get(addr, "/healthz").await, (200, "ok\n".into()));
        // a's route appears once a has started.
        assert_eq!(http_get(addr, "/v1/a").await.0, 404);
        open_a.send(()).unwrap();
        let (_, body) = until(addr, "/readyz", |_, b| b.contains("b: starting")).await;
        assert_eq!(body, "a: ready\nb: starting\n");
        assert_eq!(http_get(addr, "/v1/a").await, (200, "a".into()));
        // b runs but says it is not ready: still 503, naming b and why.
        open_b.send(()).unwrap();
        let (status, body) = until(addr, "/readyz", |_, b| !b.contains("starting")).await;
        assert_eq!((status, body.as_str()), (503, "a: ready\nb: not ready: no peer yet\n"));
        assert_eq!(http_get(addr, "/v1/b").await, (200, "b".into()));
        ready_b.store(true, Ordering::SeqCst);
        assert_eq!(http_get(addr, "/readyz").await, (200, "a: ready\nb: ready\n".into()));
        // A path nobody serves.
        assert_eq!(http_get(addr, "/v1/c").await.0, 404);

        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("a clean stop")
            .unwrap()
            .unwrap();
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "the endpoint is closed"
        );
    }

    #[tokio::test]
    async fn metrics_serves_what_is_recorded_through_the_facade() {
        let e = endpoint().await;
        let addr = e.local_addr();
        // After the bind: the recorder is installed.
        metrics::counter!("hexcore_service_test_total", "kind" => "probe").increment(3);
        let (stop, stopped) = oneshot::channel::<()>();
        let run = tokio::spawn(TaskManager::new("test").run(Some(e), async move {
            let _ = stopped.await;
        }));
        let (status, body) = until(addr, "/metrics", |s, _| s == 200).await;
        assert_eq!(status, 200);
        assert!(
            body.lines()
                .any(|l| l == "hexcore_service_test_total{kind=\"probe\"} 3"),
            "{body}"
        );
        // No services: ready.
        assert_eq!(http_get(addr, "/readyz").await, (200, String::new()));
        stop.send(()).unwrap();
        run.await.unwrap().unwrap();
    }
}
