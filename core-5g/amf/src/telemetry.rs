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
