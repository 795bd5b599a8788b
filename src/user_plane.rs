//! The user plane of `hexcore up`: the UPF with this host's side of N6 — every DNN's
//! UE pool routed into the UPF's TUN, and (unless `--no-nat`) the pools masqueraded
//! behind the host's uplink — as one service.
//!
//! The UPF needs CAP_NET_ADMIN for its TUN. Without it the control plane still serves
//! (registration, and PDU sessions answered #26 by the SMF): this service then starts
//! as "not ready", and the log and `/readyz` say why.

use std::time::Duration;

use hexcore_service::{BoxFuture, Readiness, RunningService, Service, StartContext};
use hexcore_smf::settings::Dnn;
use hexcore_upf::UpfService;

use crate::nat::Nat;

/// The UPF and N6 before they run.
pub struct UserPlane {
    /// The UPF's settings.
    pub upf: hexcore_upf::Settings,
    /// The DNNs whose pools are routed (and masqueraded).
    pub dnns: Vec<Dnn>,
    /// Masquerade the pools.
    pub nat: bool,
}

impl Service for UserPlane {
    fn name(&self) -> &str {
        "upf"
    }

    /// The UPF's: removing the NAT rules is quick.
    fn stop_bound(&self) -> Duration {
        UpfService(self.upf.clone()).stop_bound()
    }

    fn start(self: Box<Self>, _: StartContext) -> BoxFuture<'static, anyhow::Result<Box<dyn RunningService>>> {
        Box::pin(async move {
            let upf = match hexcore_upf::Upf::start(self.upf).await {
                Ok(u) => u,
                Err(e) => {
                    tracing::error!("user plane unavailable (PDU sessions will be refused): {e:#}");
                    return Ok(Box::new(Unavailable(format!("{e:#}"))) as Box<dyn RunningService>);
                }
            };
            route_pools(&upf.tun_name, &self.dnns);
            let nat = if self.nat {
                let pools: Vec<String> = self.dnns.iter().map(|d| d.pool.to_string()).collect();
                Nat::up(&pools, &upf.tun_name)
            } else {
                None
            };
            Ok(Box::new(RunningUserPlane { upf, nat }) as Box<dyn RunningService>)
        })
    }
}

struct RunningUserPlane {
    upf: hexcore_upf::Running,
    nat: Option<Nat>,
}

impl RunningService for RunningUserPlane {
    fn ready(&self) -> Readiness {
        self.upf.ready()
    }

    /// The UPF first (its final usage reports), then the NAT rules.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            self.upf.shutdown().await;
            drop(self.nat);
        })
    }
}

/// A UPF that could not start, and why.
struct Unavailable(String);

impl RunningService for Unavailable {
    fn ready(&self) -> Readiness {
        Readiness::NotReady(format!("user plane unavailable: {}", self.0))
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

/// Every DNN's UE pool is routed into the UPF's TUN (the TUN's own subnet already is), so
/// that downlink traffic for any pool reaches N6.
fn route_pools(tun: &str, dnns: &[Dnn]) {
    let iface = match hexcore_netdev::Interface::new(tun) {
        Ok(i) => i,
        Err(e) => return tracing::warn!("N6: cannot route the UE pools into {tun}: {e}"),
    };
    for d in dnns {
        match iface.add_route(std::net::IpAddr::V4(d.pool.network), d.pool.len) {
            Ok(()) => tracing::info!(pool = %d.pool, dnn = %d.name, %tun, "N6: UE pool routed into the TUN"),
            // The TUN's own subnet is routed already (EEXIST).
            Err(hexcore_netdev::Error::Sys { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => tracing::warn!(pool = %d.pool, "N6: cannot route the UE pool into {tun}: {e}"),
        }
    }
}
