//! SCTP for N2.
//!
//! - [`wire`]: the RFC 9260 §3 packet format (parser, builder, CRC32c).
//! - [`cookie`]: the HMAC-SHA-256 State Cookie (§5.1.3).
//! - [`assoc`]: a sans-IO association and a stateless listener (RFC 9260).
//! - [`udp`]: SCTP over UDP (RFC 6951), a tokio carrier for the sans-IO stack.
//! - [`api`]: the N2 API over both carriers (UDP and kernel SCTP).
//!
//! ```no_run
//! use hexcore_sctp::{AssociationEvent, N2Association, N2Listener, PPID_NGAP, Transport};
//!
//! # async fn demo() -> hexcore_sctp::Result<()> {
//! // AMF side: SCTP over UDP on port 9899 (or Transport::Kernel on 38412).
//! let listener = N2Listener::bind(Transport::Udp, ([0, 0, 0, 0], 9899).into())?;
//! tokio::spawn(async move {
//!     while let Ok((assoc, _peer)) = listener.accept().await {
//!         tokio::spawn(async move {
//!             while let Some(ev) = assoc.recv().await {
//!                 if let AssociationEvent::Message { stream, ppid, data } = ev {
//!                     let _ = assoc.send(stream, ppid, data).await; // echo
//!                 }
//!             }
//!         });
//!     }
//! });
//! // gNB side.
//! let assoc = N2Association::connect(Transport::Udp, None, ([127, 0, 0, 1], 9899).into()).await?;
//! assoc.send(0, PPID_NGAP, vec![0x00, 0x15]).await?;
//! assoc.close()?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod api;
pub mod assoc;
pub mod cookie;
pub mod error;
pub mod udp;
pub mod wire;

pub use api::{AssociationEvent, N2Association, N2Listener, N2Options, Transport};
pub use assoc::{Association, Config, DownReason, Event, Listener, ListenerOutput, State};
pub use error::{Error, Result};
pub use wire::{PPID_NGAP, UDP_ENCAPS_PORT};
