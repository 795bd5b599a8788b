//! The running AMF: listeners, association tasks and the AMF task, with a clean
//! shutdown; the operator API's routes for the process's HTTP endpoint.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::Context as _;
use hexcore_sctp::Transport;
pub use hexcore_service::BoxFuture;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::http::{OperatorRequest, OperatorResponse};
use super::n2::{self, ToAmf};
use crate::amf::{Amf, AmfConfig, AssocId, Input, Output};
use crate::settings::Settings;
use crate::udm::{UdmRequest, UdmResponse};
use hexcore_sbi::{AmfRequest, SmfRequest};
use hexcore_service::{Readiness, RunningService};

/// How the glue reaches the AUSF/UDM: in process (`hexcore up` adapts
/// `hexcore_udm::LocalUdm` to it) or, later, over the network.
pub trait UdmBackend: Send + Sync + 'static {
    /// Answer one request (never fails: failures are a [`UdmResponse::Failed`]).
    fn call(&self, request: UdmRequest) -> BoxFuture<'_, UdmResponse>;
}

/// A started AMF.
#[derive(Debug)]
pub struct Server {
    /// Where SCTP/UDP listens.
    pub udp_addr: SocketAddr,
    /// Where kernel SCTP listens, when the kernel has it.
    pub sctp_addr: Option<SocketAddr>,
    /// The AMF task's inbox, for the operator API.
    to_amf: mpsc::Sender<ToAmf>,
    shutdown: watch::Sender<bool>,
    listeners: Vec<JoinHandle<()>>,
    amf: JoinHandle<()>,
}

impl Server {
    /// Bind everything and start the tasks. Port 0 in the settings binds a free port
    /// (see the `*_addr` fields).
    pub async fn start(settings: Settings, udm: Arc<dyn UdmBackend>) -> anyhow::Result<Server> {
        Self::start_with_smf(settings, udm, None).await
    }

    /// [`Server::start`] with an SMF behind N11; without one, PDU session requests are
    /// answered with 5GMM cause #90.
    pub async fn start_with_smf(
        settings: Settings,
        udm: Arc<dyn UdmBackend>,
        smf: Option<SmfLink>,
    ) -> anyhow::Result<Server> {
        let config = AmfConfig::new(settings.clone())?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (to_amf, amf_rx) = mpsc::channel::<ToAmf>(1024);
        let ids = Arc::new(AtomicU64::new(1));
        let n2 = &settings.n2;

        let mut listeners = Vec::new();
        let udp = n2::bind(Transport::Udp, SocketAddr::new(n2.bind, n2.udp_port), n2.sctp_port)
            .with_context(|| format!("N2 SCTP/UDP on {}:{}", n2.bind, n2.udp_port))?;
        let udp_addr = udp.local_addr()?;
        tracing::info!(%udp_addr, "N2 listening on SCTP over UDP");
        listeners.push(tokio::spawn(n2::listen(
            udp,
            ids.clone(),
            to_amf.clone(),
            shutdown_rx.clone(),
        )));

        let mut sctp_addr = None;
        if n2.kernel_sctp && hexcore_sctp_kernel::is_supported() {
            match n2::bind(Transport::Kernel, SocketAddr::new(n2.bind, n2.sctp_port), n2.sctp_port) {
                Ok(l) => {
                    let addr = l.local_addr()?;
                    tracing::info!(%addr, "N2 listening on kernel SCTP");
                    sctp_addr = Some(addr);
                    listeners.push(tokio::spawn(n2::listen(
                        l,
                        ids.clone(),
                        to_amf.clone(),
                        shutdown_rx.clone(),
                    )));
                }
                Err(e) => tracing::warn!("kernel SCTP on {}:{} not available: {e}", n2.bind, n2.sctp_port),
            }
        } else if n2.kernel_sctp {
            tracing::info!("this kernel has no SCTP: N2 on SCTP over UDP only");
        }

        let seed: u32 = rand::random();
        let amf = Amf::new(config, seed);
        let amf = tokio::spawn(amf_task(amf, amf_rx, udm, smf, shutdown_rx));
        Ok(Server {
            udp_addr,
            sctp_addr,
            to_amf,
            shutdown,
            listeners,
            amf,
        })
    }

    /// The operator API (`/v1/ues…`), for the process's HTTP endpoint.
    pub fn operator_api(&self) -> axum::Router {
        super::http::router(self.to_amf.clone())
    }

    /// Stop every task, in reverse order of start: listeners and associations, then
    /// the AMF task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for l in self.listeners {
            let _ = l.await;
        }
        let _ = self.amf.await;
        tracing::info!("AMF stopped");
    }
}

impl RunningService for Server {
    fn ready(&self) -> Readiness {
        amf_task_readiness(&self.to_amf)
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(self.shutdown())
    }
}

/// Ready while the AMF task holds its inbox (it ends only on shutdown, or by a bug).
fn amf_task_readiness(to_amf: &mpsc::Sender<ToAmf>) -> Readiness {
    if to_amf.is_closed() {
        Readiness::NotReady("the AMF task has ended".into())
    } else {
        Readiness::Ready
    }
}

/// An AMF serving on a thread of its own: listeners, associations and the AMF task on
/// one single-threaded runtime. Every NGAP message passes the SCTP carrier, its
/// association task and the AMF task; on one thread those hand-overs are queue pushes,
/// on a multi-threaded runtime each can be a wake-up of another thread (the largest
/// cost of a registration once the AMF itself is cheap). UDM calls still run on the
/// blocking pool, and the SMF and UPF keep the caller's runtime.
#[derive(Debug)]
pub struct DedicatedServer {
    /// Where SCTP/UDP listens.
    pub udp_addr: SocketAddr,
    /// Where kernel SCTP listens, when the kernel has it.
    pub sctp_addr: Option<SocketAddr>,
    /// The AMF task's inbox, for the operator API.
    to_amf: mpsc::Sender<ToAmf>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the AMF thread hands back once it serves.
type Started = (SocketAddr, Option<SocketAddr>, mpsc::Sender<ToAmf>);

impl Server {
    /// [`Server::start_with_smf`] on a thread named `amf` with its own runtime (see
    /// [`DedicatedServer`]).
    pub async fn start_dedicated(
        settings: Settings,
        udm: Arc<dyn UdmBackend>,
        smf: Option<SmfLink>,
    ) -> anyhow::Result<DedicatedServer> {
        let (ready_tx, ready_rx) = oneshot::channel::<anyhow::Result<Started>>();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("amf".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow::anyhow!("AMF runtime: {e}")));
                        return;
                    }
                };
                rt.block_on(async move {
                    match Server::start_with_smf(settings, udm, smf).await {
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                        Ok(server) => {
                            let _ = ready_tx.send(Ok((server.udp_addr, server.sctp_addr, server.to_amf.clone())));
                            // A dropped handle stops the AMF as a shutdown does.
                            let _ = stop_rx.await;
                            server.shutdown().await;
                        }
                    }
                });
            })
            .context("AMF thread")?;
        let (udp_addr, sctp_addr, to_amf) = match ready_rx.await {
            Ok(r) => r?,
            Err(_) => anyhow::bail!("the AMF thread ended before it started"),
        };
        Ok(DedicatedServer {
            udp_addr,
            sctp_addr,
            to_amf,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl DedicatedServer {
    /// The operator API (`/v1/ues…`), for the process's HTTP endpoint.
    pub fn operator_api(&self) -> axum::Router {
        super::http::router(self.to_amf.clone())
    }

    /// Stop the AMF (as [`Server::shutdown`]) and wait for its thread.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl RunningService for DedicatedServer {
    fn ready(&self) -> Readiness {
        amf_task_readiness(&self.to_amf)
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(self.shutdown())
    }
}

/// The AMF task: the only owner of the [`Amf`].
async fn amf_task(
    mut amf: Amf,
    mut rx: mpsc::Receiver<ToAmf>,
    udm: Arc<dyn UdmBackend>,
    smf: Option<SmfLink>,
    mut shutdown: watch::Receiver<bool>,
) {
    // UDM answers come back on their own channel so that the association channel
    // stays NGAP only.
    let (udm_tx, mut udm_rx) = mpsc::channel::<UdmResponse>(1024);
    let (to_smf, mut from_smf) = match smf {
        Some(l) => (Some(l.to_smf), Some(l.from_smf)),
        None => (None, None),
    };
    let mut links = Links {
        associations: HashMap::new(),
        udm,
        udm_tx,
        to_smf,
    };
    loop {
        let deadline = amf.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        let smf_message = async {
            match from_smf.as_mut() {
                Some(r) => r.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                let input = match msg {
                    ToAmf::Up { assoc, out_streams, tx } => {
                        links.associations.insert(assoc, tx);
                        Input::AssociationUp { assoc, out_streams }
                    }
                    ToAmf::Down { assoc } => {
                        links.associations.remove(&assoc);
                        Input::AssociationDown { assoc }
                    }
                    ToAmf::Ngap { assoc, stream, bytes } => Input::Ngap { assoc, stream, bytes },
                    ToAmf::Operator { request, reply } => {
                        let answer = match request {
                            OperatorRequest::ListUes => OperatorResponse::Ues(amf.ue_summaries()),
                            OperatorRequest::Deregister { supi } => {
                                let known = amf.deregister(Instant::now(), &supi);
                                tracing::info!(%supi, known, "operator: network-initiated deregistration");
                                OperatorResponse::Deregistered(known)
                            }
                        };
                        let _ = reply.send(answer);
                        links.drain(&mut amf);
                        continue;
                    }
                };
                amf.handle(Instant::now(), input);
            }
            resp = udm_rx.recv() => {
                let Some(resp) = resp else { break };
                amf.handle(Instant::now(), Input::Udm(resp));
            }
            msg = smf_message => match msg {
                Some(m) => amf.handle(Instant::now(), Input::Smf(m)),
                None => {
                    tracing::warn!("the SMF went away: PDU sessions are refused from now on");
                    from_smf = None;
                    links.to_smf = None;
                }
            },
            _ = sleep => amf.handle(Instant::now(), Input::Timeout),
        }
        links.drain(&mut amf);
    }
}

/// The AMF's ends of the N11 channels to an in-process SMF (`hexcore up` wires them to
/// `hexcore_smf`): requests out, answers and SMF-initiated requests in.
#[derive(Debug)]
pub struct SmfLink {
    /// Nsmf_PDUSession requests.
    pub to_smf: mpsc::Sender<SmfRequest>,
    /// Namf_Communication requests and answers.
    pub from_smf: mpsc::Receiver<AmfRequest>,
}

/// Where the AMF task's outputs go.
struct Links {
    associations: HashMap<AssocId, mpsc::Sender<(u16, Vec<u8>)>>,
    udm: Arc<dyn UdmBackend>,
    udm_tx: mpsc::Sender<UdmResponse>,
    to_smf: Option<mpsc::Sender<SmfRequest>>,
}

impl Links {
    /// Carry out what the AMF asked for: NGAP to associations, UDM calls, SMF requests,
    /// metrics. A request no SMF can take goes back to the AMF as
    /// [`Input::SmfUnreachable`], whose answers are carried out in turn.
    fn drain(&mut self, amf: &mut Amf) {
        loop {
            let mut undelivered = Vec::new();
            while let Some(out) = amf.poll_output() {
                match out {
                    Output::Ngap { assoc, stream, bytes } => {
                        if let Some(tx) = self.associations.get(&assoc)
                            && tx.try_send((stream, bytes)).is_err()
                        {
                            tracing::warn!(assoc = assoc.0, "association send queue full: NGAP dropped");
                        }
                    }
                    Output::Udm(request) => {
                        let udm = self.udm.clone();
                        let tx = self.udm_tx.clone();
                        tokio::spawn(async move {
                            let response = udm.call(request).await;
                            let _ = tx.send(response).await;
                        });
                    }
                    Output::Smf(request) => match &self.to_smf {
                        Some(tx) => {
                            if let Err(e) = tx.try_send(request) {
                                let request = match e {
                                    mpsc::error::TrySendError::Full(r) | mpsc::error::TrySendError::Closed(r) => r,
                                };
                                undelivered.push(request);
                            }
                        }
                        None => undelivered.push(request),
                    },
                    Output::Event(event) => crate::telemetry::record(&event),
                }
            }
            if undelivered.is_empty() {
                return;
            }
            for request in undelivered {
                amf.handle(Instant::now(), Input::SmfUnreachable(request));
            }
        }
    }
}
