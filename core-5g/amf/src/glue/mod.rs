//! The tokio glue around the sans-IO [`crate::Amf`]:
//!
//! ```text
//!  N2 listener (SCTP/UDP 9899) ─┐                     ┌─► UdmBackend (spawned calls)
//!  N2 listener (kernel 38412) ──┼─► association tasks ─► AMF task ─┤
//!                               │   (one per gNB)     ◄─ timers     └─► metrics / logs
//!  HTTP (/metrics, /v1/ues) ────┘
//! ```
//!
//! Every task stops on the shutdown signal; [`Server::shutdown`] stops the listeners
//! first, then the associations, then the AMF task, then the metrics endpoint.

pub mod http;
pub mod n2;
pub mod server;
#[cfg(feature = "udm")]
pub mod udm;
pub mod up;

pub use server::{DedicatedServer, Server, SmfLink, UdmBackend};
pub use up::{LogFormat, init_logging, run_until_signal, shutdown_signal};
