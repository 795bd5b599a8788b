//! The tokio glue around the sans-IO [`Smf`]: one task owns it, the N4 UDP socket,
//! the AMF channels, the subscription source and the usage sink.
//!
//! ```text
//!  AMF ─ mpsc<SmfRequest> ─►┐                      ┌─► mpsc<AmfRequest> ─► AMF
//!  UPFs ─ UDP (N4) ────────►│  SMF task (select!)  │─► UDP (N4) ─► UPFs
//!  control (release, AMBR) ►│                      │─► SubscriptionSource (spawned calls)
//!  shutdown watch ─────────►┘                      └─► UsageSink (inline, fsync) / metrics
//! ```
//!
//! Usage records are written on the SMF task itself, synchronously: the Session Report
//! Response that acknowledges them is sent only after the sink returned (see
//! [`crate::usage`]).
//!
//! [`SmfService`] is the SMF as one service of a process (hexcore-service's contract).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use hexcore_nas::SmCause;
use hexcore_sbi::{AmfRequest, SmContextRef, SmfRequest};
use hexcore_service::{BoxFuture, Readiness, RunningService, Service, StartContext};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::session::SessionSummary;
use crate::settings::Settings;
use crate::settings::SmfConfig;
use crate::smf::{Input, Output, Smf};
use crate::subscription::{Ambr, SubscriptionAnswer, SubscriptionSource};
use crate::telemetry;
use crate::usage::UsageSink;

/// Operator and billing calls into the running SMF.
#[derive(Debug)]
enum Control {
    Release {
        context: SmContextRef,
        cause: SmCause,
        reply: oneshot::Sender<Result<(), ApiError>>,
    },
    ModifyAmbr {
        context: SmContextRef,
        ambr: Ambr,
        reply: oneshot::Sender<Result<(), ApiError>>,
    },
    Sessions {
        reply: oneshot::Sender<Vec<SessionSummary>>,
    },
}

/// A started SMF.
#[derive(Debug)]
pub struct Running {
    /// Where the N4 socket is bound.
    pub n4_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    control: mpsc::Sender<Control>,
    task: JoinHandle<()>,
}

impl Smf {
    /// Bind N4 and start the SMF task. `amf_tx` carries the SMF's requests to the
    /// AMF, `smf_rx` the AMF's to the SMF; `subscriptions` answers subscription
    /// requests; `sink` stores usage records.
    pub async fn start(
        settings: Settings,
        amf_tx: mpsc::Sender<AmfRequest>,
        smf_rx: mpsc::Receiver<SmfRequest>,
        subscriptions: Arc<dyn SubscriptionSource>,
        sink: Box<dyn UsageSink>,
    ) -> anyhow::Result<Running> {
        let config = SmfConfig::new(&settings)?;
        let bind = config.bind;
        let socket = UdpSocket::bind(bind)
            .await
            .with_context(|| format!("N4 (PFCP) on {bind}"))?;
        let n4_addr = socket.local_addr()?;
        tracing::info!(%n4_addr, "SMF: N4 bound");
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        // Start time and process id: a restart does not reuse the previous run's SEIDs.
        let seed = (unix << 20) ^ u64::from(std::process::id());
        let smf = Smf::new(config, unix, seed);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (control, control_rx) = mpsc::channel(64);
        let task = tokio::spawn(smf_task(
            smf,
            socket,
            amf_tx,
            smf_rx,
            subscriptions,
            sink,
            control_rx,
            shutdown_rx,
        ));
        Ok(Running {
            n4_addr,
            shutdown,
            control,
            task,
        })
    }
}

impl Running {
    /// Network-requested release of a PDU session (see [`Smf::release_session`]).
    pub async fn release_session(&self, context: SmContextRef, cause: SmCause) -> anyhow::Result<()> {
        let (reply, rx) = oneshot::channel();
        self.control.send(Control::Release { context, cause, reply }).await?;
        Ok(rx.await??)
    }

    /// Network-requested session AMBR change (see [`Smf::modify_session_ambr`]).
    pub async fn modify_session_ambr(&self, context: SmContextRef, ambr: Ambr) -> anyhow::Result<()> {
        let (reply, rx) = oneshot::channel();
        self.control.send(Control::ModifyAmbr { context, ambr, reply }).await?;
        Ok(rx.await??)
    }

    /// The PDU sessions.
    pub async fn sessions(&self) -> anyhow::Result<Vec<SessionSummary>> {
        let (reply, rx) = oneshot::channel();
        self.control.send(Control::Sessions { reply }).await?;
        Ok(rx.await?)
    }

    /// Stop the SMF task and wait for it.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        tracing::info!("SMF stopped");
    }
}

/// The SMF before it runs: its settings, its N11 channels, its subscription source and
/// its usage sink (see [`Smf::start`]).
pub struct SmfService {
    settings: Settings,
    amf_tx: mpsc::Sender<AmfRequest>,
    smf_rx: mpsc::Receiver<SmfRequest>,
    subscriptions: Arc<dyn SubscriptionSource>,
    sink: Box<dyn UsageSink>,
}

impl SmfService {
    /// What [`Smf::start`] takes, started by the process's task manager.
    pub fn new(
        settings: Settings,
        amf_tx: mpsc::Sender<AmfRequest>,
        smf_rx: mpsc::Receiver<SmfRequest>,
        subscriptions: Arc<dyn SubscriptionSource>,
        sink: Box<dyn UsageSink>,
    ) -> Self {
        Self {
            settings,
            amf_tx,
            smf_rx,
            subscriptions,
            sink,
        }
    }
}

impl Service for SmfService {
    fn name(&self) -> &str {
        "smf"
    }

    fn start(self: Box<Self>, _: StartContext) -> BoxFuture<'static, anyhow::Result<Box<dyn RunningService>>> {
        Box::pin(async move {
            let s = *self;
            let running = Smf::start(s.settings, s.amf_tx, s.smf_rx, s.subscriptions, s.sink).await?;
            Ok(Box::new(running) as Box<dyn RunningService>)
        })
    }
}

impl RunningService for Running {
    /// Ready while the SMF task runs (it ends only on shutdown, or by a bug).
    fn ready(&self) -> Readiness {
        if self.task.is_finished() {
            Readiness::NotReady("the SMF task has ended".into())
        } else {
            Readiness::Ready
        }
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(self.shutdown())
    }
}

/// The SMF task: the only owner of the [`Smf`].
#[allow(clippy::too_many_arguments)]
async fn smf_task(
    mut smf: Smf,
    socket: UdpSocket,
    amf_tx: mpsc::Sender<AmfRequest>,
    mut smf_rx: mpsc::Receiver<SmfRequest>,
    subscriptions: Arc<dyn SubscriptionSource>,
    mut sink: Box<dyn UsageSink>,
    mut control: mpsc::Receiver<Control>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (sub_tx, mut sub_rx) = mpsc::channel::<SubscriptionAnswer>(256);
    // Largest PFCP message over UDP (IPv4 datagram).
    let mut buf = vec![0u8; 65_536];
    smf.associate(Instant::now());
    loop {
        drain(&mut smf, &socket, &amf_tx, &subscriptions, &sub_tx, sink.as_mut()).await;
        let deadline = smf.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            req = smf_rx.recv() => {
                let Some(req) = req else { break };
                smf.handle(Instant::now(), Input::Amf(req));
            }
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, peer)) => {
                    let bytes = buf.get(..n).unwrap_or(&[]).to_vec();
                    smf.handle(Instant::now(), Input::Pfcp { peer, bytes });
                }
                // ICMP port unreachable from an absent UPF shows up here on Linux.
                Err(e) => tracing::debug!("N4 receive: {e}"),
            },
            answer = sub_rx.recv() => {
                if let Some(answer) = answer {
                    smf.handle(Instant::now(), Input::Subscription(answer));
                }
            }
            ctl = control.recv() => match ctl {
                Some(Control::Release { context, cause, reply }) => {
                    let _ = reply.send(smf.release_session(Instant::now(), &context, cause));
                }
                Some(Control::ModifyAmbr { context, ambr, reply }) => {
                    let _ = reply.send(smf.modify_session_ambr(Instant::now(), &context, ambr));
                }
                Some(Control::Sessions { reply }) => {
                    let _ = reply.send(smf.sessions());
                }
                None => {}
            },
            _ = sleep => smf.handle(Instant::now(), Input::Timeout),
        }
    }
}

/// Carry out everything the SMF asked for.
async fn drain(
    smf: &mut Smf,
    socket: &UdpSocket,
    amf_tx: &mpsc::Sender<AmfRequest>,
    subscriptions: &Arc<dyn SubscriptionSource>,
    sub_tx: &mpsc::Sender<SubscriptionAnswer>,
    sink: &mut dyn UsageSink,
) {
    while let Some(out) = smf.poll_output() {
        match out {
            Output::Amf(request) => {
                if amf_tx.send(request).await.is_err() {
                    tracing::warn!("AMF channel closed: request dropped");
                }
            }
            Output::Pfcp { peer, bytes } => {
                if let Err(e) = socket.send_to(&bytes, peer).await {
                    tracing::debug!(%peer, "N4 send: {e}");
                }
            }
            Output::Subscription(request) => {
                let source = subscriptions.clone();
                let tx = sub_tx.clone();
                tokio::spawn(async move {
                    let result = source.subscription(request.supi.clone()).await;
                    let _ = tx
                        .send(SubscriptionAnswer {
                            supi: request.supi,
                            result,
                        })
                        .await;
                });
            }
            Output::Usage { records, ack } => {
                let stored = match sink.record(&records) {
                    Ok(()) => {
                        metrics::counter!(telemetry::USAGE_RECORDS).increment(records.len() as u64);
                        for r in &records {
                            metrics::counter!(telemetry::USAGE_OCTETS, "direction" => "uplink")
                                .increment(r.uplink_octets);
                            metrics::counter!(telemetry::USAGE_OCTETS, "direction" => "downlink")
                                .increment(r.downlink_octets);
                        }
                        true
                    }
                    Err(e) => {
                        metrics::counter!(telemetry::USAGE_SINK_FAILURES).increment(1);
                        tracing::error!("usage records not stored: {e}");
                        false
                    }
                };
                if let Some(ack) = ack {
                    smf.handle(Instant::now(), Input::UsageStored { ack, stored });
                }
            }
            Output::Event(event) => telemetry::record(&event),
        }
    }
    metrics::gauge!(telemetry::SESSIONS).set(smf.session_count() as f64);
    for (dnn, used, _) in smf.pool_usage() {
        metrics::gauge!(telemetry::POOL_IN_USE, "dnn" => dnn).set(used as f64);
    }
}
