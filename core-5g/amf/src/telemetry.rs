//! Metric names of the AMF (Prometheus), in one place. The sans-IO core reports
//! [`crate::Event`]s; the glue turns them into these metrics.

/// Gauge: gNBs with a completed NG Setup.
pub const GNBS_CONNECTED: &str = "hexcore_amf_gnbs_connected";
/// Gauge: UE contexts by state (label `state`).
pub const UES_BY_STATE: &str = "hexcore_amf_ues";
/// Counter: procedures by name, outcome and cause (labels `procedure`, `outcome`, `cause`).
pub const PROCEDURES: &str = "hexcore_amf_procedures_total";
/// Counter: authentication failures by reason (label `reason`).
pub const AUTHENTICATION_FAILURES: &str = "hexcore_amf_authentication_failures_total";
/// Counter: uplink NAS messages dropped (label `reason`: integrity, replay, state).
pub const NAS_DROPPED: &str = "hexcore_amf_nas_dropped_total";
/// Counter: Error Indications sent (label `cause`).
pub const ERROR_INDICATIONS: &str = "hexcore_amf_error_indications_total";
/// Counter: NAS retransmissions (label `timer`).
pub const NAS_RETRANSMISSIONS: &str = "hexcore_amf_nas_retransmissions_total";

#[cfg(feature = "glue")]
use crate::amf::Event;

/// Turn one AMF event into metrics and a log line.
#[cfg(feature = "glue")]
pub fn record(event: &Event) {
    match event {
        Event::GnbConnected { assoc, name } => {
            metrics::gauge!(GNBS_CONNECTED).increment(1.0);
            tracing::info!(assoc = assoc.0, name = name.as_deref().unwrap_or(""), "gNB connected");
        }
        Event::GnbDisconnected { assoc } => {
            metrics::gauge!(GNBS_CONNECTED).decrement(1.0);
            tracing::info!(assoc = assoc.0, "gNB disconnected");
        }
        Event::UeState { ue, from, to } => {
            if let Some(from) = from {
                metrics::gauge!(UES_BY_STATE, "state" => *from).decrement(1.0);
            }
            if let Some(to) = to {
                metrics::gauge!(UES_BY_STATE, "state" => *to).increment(1.0);
            }
            tracing::debug!(ue, from = from.unwrap_or("-"), to = to.unwrap_or("-"), "UE state");
        }
        Event::Procedure {
            procedure,
            outcome,
            cause,
        } => {
            metrics::counter!(PROCEDURES, "procedure" => *procedure, "outcome" => *outcome, "cause" => cause.clone())
                .increment(1);
            tracing::info!(procedure, outcome, cause = cause.as_str(), "procedure");
        }
        Event::AuthenticationFailure { ue, reason } => {
            metrics::counter!(AUTHENTICATION_FAILURES, "reason" => *reason).increment(1);
            tracing::warn!(ue, reason, "authentication failure");
        }
        Event::NasDropped { ue, reason } => {
            metrics::counter!(NAS_DROPPED, "reason" => *reason).increment(1);
            tracing::warn!(ue, reason, "uplink NAS dropped");
        }
        Event::ErrorIndication { assoc, cause } => {
            metrics::counter!(ERROR_INDICATIONS, "cause" => format!("{cause:?}")).increment(1);
            tracing::warn!(assoc = assoc.0, ?cause, "Error Indication sent");
        }
        Event::Retransmission { ue, timer } => {
            metrics::counter!(NAS_RETRANSMISSIONS, "timer" => *timer).increment(1);
            tracing::debug!(ue, timer, "NAS retransmission");
        }
        Event::Warning(text) => tracing::warn!("{text}"),
    }
}
