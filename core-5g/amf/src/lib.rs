//! The AMF of hexcore (TS 23.501 §6.2.1): N2 towards gNBs (NGAP, TS 38.413), N1
//! towards UEs (5GMM, TS 24.501), 5G-AKA and EAP-AKA' with the AUSF/UDM (TS 33.501
//! §6.1.3) and NAS security (TS 33.501 §6.7).
//!
//! The core is sans-IO: [`Amf::handle`] takes an [`Input`] (an NGAP PDU or an
//! association event from association X, a UDM or SMF answer, a timer expiry) at a
//! given instant; [`Amf::poll_output`] hands back what to do ([`Output`]: NGAP to send on
//! association X stream S, a UDM or SMF request, an [`Event`] for metrics and logs);
//! [`Amf::poll_timeout`] says when to call again. The glue owns sockets and clocks.
//!
//! Inside, the [`Amf`] is a router: it keeps the gNB contexts, the UE contexts and the
//! CM-IDLE 5GMM contexts by typed ids and hands each event to the [`Ue`] it is for,
//! which runs its own procedures and returns [`ue::Effect`]s.
//!
//! | module | what |
//! |---|---|
//! | [`settings`] | [`Settings`]: TOML + environment, defaults that run out of the box |
//! | [`config`] | [`AmfConfig`]: the settings converted once into the types procedures use |
//! | [`io`] | [`Input`], [`Output`], [`Event`]: what crosses the sans-IO boundary |
//! | [`amf`] | the router: NGAP routing, UE and idle contexts, what crosses contexts |
//! | [`gnb`] | per-gNB state: NG Setup, RAN Configuration Update |
//! | [`ue`] | one UE: its 5GMM state machine, registration, PDU session routing |
//! | [`udm`] | requests to and answers from the AUSF/UDM, as data |
//! | [`timers`] | the NAS timers |
//! | [`telemetry`] | metric names, events to metrics |
//! | [`glue`] | tokio tasks: N2 listeners, one task per association, the AMF task |
#![forbid(unsafe_code)]

pub mod amf;
pub mod config;
#[cfg(feature = "glue")]
pub mod glue;
pub mod gnb;
pub mod io;
pub mod settings;
mod supi_index;
pub mod telemetry;
pub mod timers;
pub mod udm;
pub mod ue;

pub use amf::Amf;
pub use config::AmfConfig;
pub use io::{AssocId, Event, Input, Output};
pub use settings::{Settings, SettingsError};
pub use udm::{UdmFailure, UdmRequest, UdmResponse, UeIdentity};
pub use ue::{Ue, UeSummary};
