//! The SMF of hexcore (TS 23.501 §6.2.2): PDU sessions for UEs (5GSM, TS 24.501 §6),
//! N4 towards UPFs as the PFCP CP function (TS 29.244), N11 towards the AMF through
//! `hexcore-sbi` (Nsmf_PDUSession, TS 29.502; Namf_Communication, TS 29.518).
//!
//! The core is sans-IO: [`Smf::handle`] takes an [`Input`] (an AMF request, a PFCP
//! datagram, a subscription answer, a storage acknowledgement, a timer expiry) at a
//! given instant; [`Smf::poll_output`] hands back what to do ([`Output`]: a request to
//! the AMF, a PFCP datagram, a subscription request, usage records, an [`Event`]);
//! [`Smf::poll_timeout`] says when to call again. The glue owns sockets and clocks.
//!
//! | module | what |
//! |---|---|
//! | [`settings`] | [`Settings`]: section `[smf]`, TOML + environment, defaults that run out of the box |
//! | [`smf`] | the top object: routes inputs to PDU sessions and applies their effects; PFCP associations, heartbeats, transactions; pools, SEIDs, timers |
//! | `session` | `PduSession`: one PDU session's N4, user plane and 5GSM procedure state machines, driven by events, answering with effects |
//! | [`ids`] | [`UpfId`], [`Seid`], [`UsageAck`] |
//! | [`messages`] | builders: 5GSM messages, NGAP transfers, PFCP rules |
//! | [`pool`] | UE address pools per DNN |
//! | [`subscription`] | SM subscription data: request/answer and the [`SubscriptionSource`] trait |
//! | [`usage`] | [`UsageRecord`], the [`UsageSink`] trait and the JSON-lines sink |
//! | [`error`] | [`SessionError`] → 5GSM causes |
//! | [`telemetry`] | [`Event`]s, metric names, events to metrics |
//! | [`glue`] | the tokio task: N4 socket, AMF channels, subscriptions, sink, shutdown |
#![forbid(unsafe_code)]

pub mod error;
#[cfg(feature = "glue")]
pub mod glue;
pub mod ids;
pub mod messages;
pub mod pool;
mod session;
pub mod settings;
pub mod smf;
pub mod subscription;
pub mod telemetry;
pub mod usage;

pub use error::{ApiError, SessionError};
pub use ids::{Seid, UpfId, UsageAck};
pub use session::SessionSummary;
pub use settings::{Settings, SettingsError, SmfConfig};
pub use smf::{Input, Output, Smf};
pub use subscription::{
    Ambr, Subscription, SubscriptionAnswer, SubscriptionFailure, SubscriptionRequest, SubscriptionSource,
};
pub use telemetry::Event;
pub use usage::{JsonLinesSink, UsageRecord, UsageSink};
