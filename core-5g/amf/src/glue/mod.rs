//! The tokio glue around the sans-IO [`crate::Amf`]:
//!
//! ```text
//!  N2 listener (SCTP/UDP 9899) ─┐                     ┌─► UdmBackend (spawned calls)
//!  N2 listener (kernel 38412) ──┼─► association tasks ─► AMF task ─┤
//!                               │   (one per gNB)     ◄─ timers     ├─► SmfLink (N11)
//!  operator API (/v1/ues) ──────┘                                   └─► metrics / logs
//! ```
//!
//! Every task stops on the shutdown signal; [`Server::shutdown`] stops the listeners
//! first, then the associations, then the AMF task. Logging, the metrics recorder, the
//! HTTP endpoint that serves the operator API and signals are the process's
//! (hexcore-service): [`AmfService`] is the AMF as one of its services.

pub mod http;
pub mod n2;
pub mod server;
pub mod service;

pub use server::{DedicatedServer, Server, SmfLink, UdmBackend};
pub use service::AmfService;
