//! The running UPF: the N6 TUN, the N3 sockets and their worker threads, the PFCP
//! task around the sans-IO [`UpfControl`], and the usage journal.
//!
//! ```text
//!  N3 UDP 2152 ─► uplink workers (std threads) ─► TUN (N6)
//!  TUN (N6)    ─► downlink workers              ─► N3 (sendmmsg, GSO)
//!                     │ notices (rare)     ▲ tables (ArcSwap, one load per batch)
//!                     ▼                    │
//!  N4 UDP 8805 ◄─► PFCP task (tokio): UpfControl ─► journal writer (1 s checkpoints)
//! ```
//!
//! [`Running::shutdown`] stops in reverse order: the PFCP task sends the final usage
//! reports and waits (bounded) for the answers, writes a last journal checkpoint,
//! then the workers stop and the TUN goes. [`UpfService`] is the UPF as one service of
//! a process (hexcore-service's contract).

mod workers;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use hexcore_netdev::{BatchSocket, Offload, SocketOptions, Tun};
use hexcore_service::{BoxFuture, Readiness, RunningService, Service, StartContext};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub use workers::{DataPathStats, StatsSnapshot};

use crate::control::{ControlConfig, Input, Transmit, UpfControl};
use crate::datapath::Notice;
use crate::journal::{Journal, Recovered};
use crate::settings::Settings;
use workers::Shared;

/// How long a start waits for a TUN still held by an exiting UPF.
const TUN_BUSY_WAIT: Duration = Duration::from_secs(5);

/// Entry point.
#[derive(Debug)]
pub struct Upf;

/// A started UPF.
#[derive(Debug)]
pub struct Running {
    /// Where PFCP listens.
    pub pfcp_addr: SocketAddr,
    /// Where GTP-U listens.
    pub n3_addr: SocketAddr,
    /// The TUN device.
    pub tun_name: String,
    /// What the previous run's journal held (already logged).
    pub recovered: Recovered,
    stats: Arc<DataPathStats>,
    stop: Arc<AtomicBool>,
    shutdown: watch::Sender<bool>,
    control: JoinHandle<()>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Upf {
    /// Open the TUN and the sockets, start the workers and the PFCP task. Needs
    /// `CAP_NET_ADMIN` for the TUN. Port 0 in the settings binds a free port.
    pub async fn start(settings: Settings) -> anyhow::Result<Running> {
        let s = settings.upf.clone();
        let started_instant = Instant::now();
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());

        // The journal first: what the previous run could not report.
        let (journal, recovered) =
            Journal::open(&s.data_dir, unix).with_context(|| format!("usage journal in {}", s.data_dir.display()))?;
        log_recovered(&recovered);

        // N6.
        let queues = s.workers;
        let mut builder = Tun::builder().name(&s.tun.name).vnet_hdr(s.tun.vnet_hdr);
        if s.tun.vnet_hdr {
            // The kernel may then hand us UDP super-packets and partial checksums;
            // the downlink workers split and finish them (crate::offload).
            // (Linux turns UDP segmentation on only with USO4 and USO6 together.)
            builder = builder.offload(Offload::CSUM | Offload::USO4 | Offload::USO6);
        }
        if queues > 1 || s.tun.multiqueue {
            builder = builder.multi_queue(true);
        }
        let open = || {
            if queues > 1 || s.tun.multiqueue {
                builder.open_queues(queues)
            } else {
                builder.open().map(|t| vec![t])
            }
        };
        // A UPF restarted right after a crash can find its TUN still held by the dying
        // process (EBUSY until the kernel has closed its files): wait for it, bounded.
        let busy_until = Instant::now() + TUN_BUSY_WAIT;
        let mut warned = false;
        let tuns = loop {
            match open() {
                Err(hexcore_netdev::Error::Sys { source, .. })
                    if source.kind() == std::io::ErrorKind::ResourceBusy && Instant::now() < busy_until =>
                {
                    if !std::mem::replace(&mut warned, true) {
                        tracing::warn!(tun = %s.tun.name, "TUN busy (a previous UPF still exiting?): waiting up to 5 s");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => break other,
            }
        }
        .with_context(|| format!("TUN {}", s.tun.name))?;
        let tun_name = tuns.first().map(|t| t.name().to_string()).unwrap_or_default();
        if s.tun.configure
            && let Some(t) = tuns.first()
        {
            t.set_mtu(s.tun.mtu).context("TUN MTU")?;
            t.add_address(s.tun.address, s.tun.prefix).context("TUN address")?;
            t.set_up().context("TUN up")?;
        }

        // N3: one socket per worker (SO_REUSEPORT spreads the gNBs' flows).
        let mut n3 = Vec::new();
        let options = SocketOptions {
            reuse_port: queues > 1,
            gro: s.gro,
            recv_buffer: Some(16 << 20),
            send_buffer: Some(16 << 20),
            nonblocking: false,
        };
        let first = BatchSocket::bind_with(s.n3_bind, &options)
            .or_else(|_| {
                // GRO refused by an older kernel: go on without it.
                BatchSocket::bind_with(s.n3_bind, &SocketOptions { gro: false, ..options })
            })
            .with_context(|| format!("N3 on {}", s.n3_bind))?;
        let n3_addr = first.local_addr()?;
        n3.push(first);
        for _ in 1..queues {
            let sock = BatchSocket::bind_with(n3_addr, &options).context("N3 (SO_REUSEPORT)")?;
            n3.push(sock);
        }
        for sock in &n3 {
            sock.socket().set_read_timeout(Some(Duration::from_millis(100)))?;
        }
        let control_n3 = n3
            .first()
            .map(|s| s.socket().try_clone())
            .transpose()?
            .context("no N3 socket")?;
        // Blocking, like the workers' (O_NONBLOCK belongs to the shared open file
        // description: setting it here would make every worker spin). A UDP send
        // with a 16 MiB buffer does not wait in practice.

        // N4.
        let pfcp = tokio::net::UdpSocket::bind(s.pfcp_bind)
            .await
            .with_context(|| format!("PFCP on {}", s.pfcp_bind))?;
        let pfcp_addr = pfcp.local_addr()?;

        let n4_address = match pfcp_addr.ip() {
            IpAddr::V4(a) if !a.is_unspecified() => a,
            _ => s.n3_address,
        };
        let seed = random_u64();
        let mut config = ControlConfig::new(n4_address, (started_instant, unix));
        config.node_id = settings.node_id();
        config.n3_address = s.n3_address;
        config.heartbeat_interval = s.heartbeat_interval;
        config.buffer_packets = s.buffer_packets;
        config.buffer_octets = s.buffer_bytes;
        config.first_seid = (seed >> 16).max(1);
        config.first_teid = ((seed as u32) & 0x00FF_FFFF).max(1);
        config.ue_pool = settings.ue_pool();
        let control = UpfControl::new(config);

        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(DataPathStats::default());
        // Unbounded, yet short: a URR notifies once per look of the control side, a
        // session once per buffering period (see `Notice`); a lost notice would leave
        // its URR unlooked-at until its next timer, or for ever.
        let (notice_tx, notice_rx) = mpsc::unbounded_channel::<Notice>();
        let shared = Shared {
            tables: control.tables(),
            stop: stop.clone(),
            stats: stats.clone(),
            notices: notice_tx,
            n3_address: IpAddr::V4(s.n3_address),
            mtu: s.tun.mtu as usize,
            batch: s.batch,
            gro: s.gro,
            gso: s.gso,
            error_indications_per_sec: s.error_indications_per_sec,
        };
        let mut handles = Vec::new();
        for (i, (tun, sock)) in tuns.into_iter().zip(n3).enumerate() {
            // Both directions of worker i share its TUN queue and its socket
            // (reads and writes take `&self`).
            let (tun, sock) = (Arc::new(tun), Arc::new(sock));
            let (tun2, sock2) = (tun.clone(), sock.clone());
            let sh = shared.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("upf-ul-{i}"))
                    .spawn(move || workers::uplink_worker(sh, sock, tun))?,
            );
            let sh = shared.clone();
            handles.push(
                std::thread::Builder::new()
                    .name(format!("upf-dl-{i}"))
                    .spawn(move || workers::downlink_worker(sh, sock2, tun2))?,
            );
        }
        drop(shared);

        let (shutdown, shutdown_rx) = watch::channel(false);
        let timing = Timing {
            checkpoint: s.checkpoint_interval,
            shutdown_timeout: s.shutdown_report_timeout,
        };
        let control = tokio::spawn(control_task(
            control,
            pfcp,
            control_n3,
            notice_rx,
            journal,
            timing,
            shutdown_rx,
        ));
        tracing::info!(%pfcp_addr, %n3_addr, tun = %tun_name, workers = queues, "UPF running");
        Ok(Running {
            pfcp_addr,
            n3_addr,
            tun_name,
            recovered,
            stats,
            stop,
            shutdown,
            control,
            workers: handles,
        })
    }
}

impl Running {
    /// Data-path counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Stop: final usage reports (bounded wait), last journal checkpoint, then the
    /// workers.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.control.await;
        self.stop.store(true, Ordering::Relaxed);
        let workers = self.workers;
        let _ = tokio::task::spawn_blocking(move || {
            for w in workers {
                let _ = w.join();
            }
        })
        .await;
        tracing::info!("UPF stopped");
    }
}

/// The UPF before it runs: its settings.
#[derive(Debug)]
pub struct UpfService(pub Settings);

/// What a stop may take beyond the wait for the final reports' answers: the workers'
/// last batch (their sockets time out every 100 ms) and the last journal checkpoint.
const STOP_MARGIN: Duration = Duration::from_secs(5);

impl Service for UpfService {
    fn name(&self) -> &str {
        "upf"
    }

    fn stop_bound(&self) -> Duration {
        self.0.upf.shutdown_report_timeout + STOP_MARGIN
    }

    fn start(self: Box<Self>, _: StartContext) -> BoxFuture<'static, anyhow::Result<Box<dyn RunningService>>> {
        Box::pin(async move {
            let running = Upf::start(self.0).await?;
            Ok(Box::new(running) as Box<dyn RunningService>)
        })
    }
}

impl RunningService for Running {
    /// Ready while the PFCP task runs (it ends only on shutdown, or by a bug).
    fn ready(&self) -> Readiness {
        if self.control.is_finished() {
            Readiness::NotReady("the PFCP task has ended".into())
        } else {
            Readiness::Ready
        }
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(self.shutdown())
    }
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish()
}

fn log_recovered(r: &Recovered) {
    for e in &r.entries {
        tracing::warn!(
            seid = format!("{:#x}", e.seid),
            cp_seid = format!("{:#x}", e.cp_seid),
            cp_node = e.cp_node,
            urr_id = e.urr_id,
            octets = e.usage.counts.total_octets(),
            uplink_octets = e.usage.counts.uplink_octets,
            downlink_octets = e.usage.counts.downlink_octets,
            packets = e.usage.counts.total_packets(),
            duration_secs = e.usage.duration_secs,
            "recovered unreported usage"
        );
    }
    if r.unreadable_lines > 0 {
        tracing::warn!(lines = r.unreadable_lines, "usage journal: unreadable lines");
    }
    metrics::gauge!(crate::telemetry::USAGE_RECOVERED_BYTES).set(r.total_octets() as f64);
}

struct Timing {
    checkpoint: Duration,
    shutdown_timeout: Duration,
}

/// The only owner of the [`UpfControl`].
async fn control_task(
    mut control: UpfControl,
    sock: tokio::net::UdpSocket,
    n3: UdpSocket,
    mut notices: mpsc::UnboundedReceiver<Notice>,
    journal: Journal,
    timing: Timing,
    mut shutdown: watch::Receiver<bool>,
) {
    let (jtx, jrx) = std::sync::mpsc::sync_channel::<Vec<crate::control::UnreportedUsage>>(1);
    let jwriter = {
        let journal = journal.clone();
        std::thread::Builder::new().name("upf-journal".into()).spawn(move || {
            while let Ok(entries) = jrx.recv() {
                write_journal(&journal, &entries);
            }
        })
    };
    let mut buf = vec![0u8; 65536];
    let mut checkpoint = tokio::time::interval(timing.checkpoint);
    checkpoint.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let deadline = control.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => break,
            r = sock.recv_from(&mut buf) => {
                if let Ok((n, peer)) = r
                    && let Some(d) = buf.get(..n)
                {
                    control.handle(Instant::now(), Input::Pfcp { peer, datagram: d });
                }
            }
            n = notices.recv() => {
                if let Some(n) = n {
                    control.handle(Instant::now(), Input::Notice(n));
                    while let Ok(n) = notices.try_recv() {
                        control.handle(Instant::now(), Input::Notice(n));
                    }
                }
            }
            _ = sleep => control.handle(Instant::now(), Input::Timeout),
            _ = checkpoint.tick() => {
                let _ = jtx.try_send(control.unreported_usage(Instant::now()));
            }
        }
        drain(&mut control, &sock, &n3).await;
    }
    // Clean stop: final reports, bounded wait for the answers.
    let until = Instant::now() + timing.shutdown_timeout;
    control.handle(Instant::now(), Input::Shutdown);
    drain(&mut control, &sock, &n3).await;
    while !control.is_drained() && Instant::now() < until {
        let wait = control
            .poll_timeout()
            .map_or(until, |d| d.min(until))
            .max(Instant::now() + Duration::from_millis(1));
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                if let Ok((n, peer)) = r
                    && let Some(d) = buf.get(..n)
                {
                    control.handle(Instant::now(), Input::Pfcp { peer, datagram: d });
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wait)) => {
                control.handle(Instant::now(), Input::Timeout);
            }
        }
        drain(&mut control, &sock, &n3).await;
    }
    if !control.is_drained() {
        tracing::warn!("stopping with final usage reports unanswered: they stay in the journal");
    }
    // The last checkpoint, synchronously: what is still unacknowledged.
    drop(jtx);
    if let Ok(w) = jwriter {
        let _ = w.join();
    }
    write_journal(&journal, &control.unreported_usage(Instant::now()));
}

fn write_journal(journal: &Journal, entries: &[crate::control::UnreportedUsage]) {
    let outcome = match journal.checkpoint(entries) {
        Ok(()) => "ok",
        Err(e) => {
            tracing::error!("usage journal checkpoint failed: {e}");
            "error"
        }
    };
    metrics::counter!(crate::telemetry::JOURNAL_WRITES, "outcome" => outcome).increment(1);
}

async fn drain(control: &mut UpfControl, sock: &tokio::net::UdpSocket, n3: &UdpSocket) {
    while let Some(t) = control.poll_transmit() {
        match t {
            Transmit::Pfcp { peer, bytes } => {
                if let Err(e) = sock.send_to(&bytes, peer).await {
                    tracing::warn!(%peer, "PFCP send: {e}");
                }
            }
            Transmit::Gtpu { peer, bytes } => {
                if let Err(e) = n3.send_to(&bytes, peer) {
                    tracing::warn!(%peer, "GTP-U send: {e}");
                }
            }
        }
    }
    while let Some(e) = control.poll_event() {
        crate::telemetry::record(&e);
    }
}
