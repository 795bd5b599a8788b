//! hexcore's UPF-lite: the user plane of TS 23.501 §6.2.3 for one data network.
//!
//! * **N4** (TS 29.244): [`control::UpfControl`], a sans-IO PFCP state machine —
//!   associations, heartbeats, session establishment/modification/deletion, Session
//!   Report Requests (Downlink Data Report, Usage Report) — that compiles the rules
//!   of every session into [`datapath::Tables`].
//! * **Data path**: [`datapath::uplink`] and [`datapath::downlink`], pure functions
//!   from a packet and the tables to a verdict, counting usage on the way.
//! * **N3/N6 I/O** ([`glue`]): GTP-U on UDP 2152 with batched receive/send (UDP GRO,
//!   GSO), a TUN device for N6, worker threads, the PFCP task, the usage journal.
//!
//! `Upf::start(settings)` runs it all; see the crate README for what is supported.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod control;
pub mod datapath;
pub mod glue;
pub mod ids;
pub mod journal;
pub mod offload;
pub mod packet;
pub mod sdf;
pub mod settings;
pub mod telemetry;

pub use control::{ControlConfig, Event, Input, Transmit, UpfControl};
pub use glue::{Running, Upf, UpfService};
pub use ids::Seid;
pub use settings::{Settings, SettingsError};
