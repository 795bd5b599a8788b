//! The AMF as one service of a process (hexcore-service's contract): started on a
//! thread of its own ([`DedicatedServer`]), its operator API added to the process's
//! HTTP endpoint, ready while the AMF task runs.

use std::sync::Arc;

use hexcore_service::{BoxFuture, RunningService, Service, StartContext};

use super::server::{DedicatedServer, Server, SmfLink, UdmBackend};
use crate::settings::Settings;

/// The AMF before it runs: its settings and its links to the UDM and the SMF.
pub struct AmfService {
    settings: Settings,
    udm: Arc<dyn UdmBackend>,
    smf: Option<SmfLink>,
}

impl AmfService {
    /// An AMF with `udm` behind N8/N12 and, when given, an SMF behind N11 (without
    /// one, PDU session requests are answered with 5GMM cause #90).
    pub fn new(settings: Settings, udm: Arc<dyn UdmBackend>, smf: Option<SmfLink>) -> Self {
        Self { settings, udm, smf }
    }
}

impl Service for AmfService {
    fn name(&self) -> &str {
        "amf"
    }

    fn start(self: Box<Self>, context: StartContext) -> BoxFuture<'static, anyhow::Result<Box<dyn RunningService>>> {
        Box::pin(async move {
            let server: DedicatedServer = Server::start_dedicated(self.settings, self.udm, self.smf).await?;
            context.add_routes(server.operator_api());
            Ok(Box::new(server) as Box<dyn RunningService>)
        })
    }
}
