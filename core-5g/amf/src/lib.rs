//! The AMF of hexcore (TS 23.501 §6.2.1): N2 towards gNBs (NGAP, TS 38.413), N1
//! towards UEs (5GMM, TS 24.501), 5G-AKA with the AUSF/UDM (TS 33.501 §6.1.3.2) and
//! NAS security (TS 33.501 §6.7).
//!
//! The core is sans-IO: [`Amf::handle`] takes an [`Input`] (an NGAP PDU or an
//! association event from association X, a UDM answer, a timer expiry) at a given
//! instant; [`Amf::poll_output`] hands back what to do ([`Output`]: NGAP to send on
//! association X stream S, a UDM request, an [`Event`] for metrics and logs);
//! [`Amf::poll_timeout`] says when to call again. The glue owns sockets and clocks.
//!
//! | module | what |
//! |---|---|
//! | [`settings`] | [`Settings`]: TOML + environment, defaults that run out of the box |
//! | [`amf`] | the top object and NGAP routing |
//! | [`gnb`] | NG Setup, NG Reset, RAN Configuration Update |
//! | [`ue`] | per-UE 5GMM state machine: registration, 5G-AKA, security mode, deregistration |
//! | [`udm`] | requests to and answers from the AUSF/UDM, as data |
//! | [`timers`] | the NAS timer table |
//! | [`telemetry`] | metric names, events to metrics |
//! | [`glue`] | tokio tasks: N2 listeners, one task per association, the AMF task, metrics |
#![forbid(unsafe_code)]

pub mod amf;
#[cfg(feature = "glue")]
pub mod glue;
pub mod gnb;
pub mod settings;
pub mod telemetry;
pub mod timers;
pub mod udm;
pub mod ue;

pub use amf::{Amf, AmfConfig, AssocId, Event, Input, Output, UeSummary};
pub use settings::{Settings, SettingsError};
pub use udm::{UdmFailure, UdmRequest, UdmResponse, UeIdentity};
