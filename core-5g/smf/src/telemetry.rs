//! What the SMF reports: the sans-IO core (the [`crate::Smf`] and its PDU sessions)
//! emits [`Event`]s; the glue turns them into the metrics named here (Prometheus) and
//! log lines.

use std::net::{Ipv4Addr, SocketAddr};

/// Things worth a metric or a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A PDU session is established (the Accept left).
    SessionEstablished {
        /// SUPI.
        supi: String,
        /// PDU Session ID.
        pdu_session_id: u8,
        /// DNN.
        dnn: String,
        /// Address.
        ue_ipv4: Ipv4Addr,
    },
    /// A PDU session establishment was rejected.
    EstablishmentRejected {
        /// SUPI.
        supi: String,
        /// PDU Session ID.
        pdu_session_id: u8,
        /// 5GSM cause sent.
        cause: u8,
        /// Why, as a metric label.
        reason: &'static str,
    },
    /// A PDU session is gone.
    SessionReleased {
        /// SUPI.
        supi: String,
        /// PDU Session ID.
        pdu_session_id: u8,
        /// How (`ue`, `network`, `local`, `an_failure`, `timeout`).
        how: &'static str,
    },
    /// A 5GSM or N2 procedure ran (`procedure`, `outcome`).
    Procedure {
        /// Name.
        procedure: &'static str,
        /// `ok`, `rejected`, `failed`.
        outcome: &'static str,
    },
    /// A PFCP association changed state.
    Association {
        /// The UPF.
        upf: SocketAddr,
        /// Up or down.
        up: bool,
    },
    /// A UPF restarted (new Recovery Time Stamp): its sessions are re-established.
    UpfRestarted {
        /// The UPF.
        upf: SocketAddr,
    },
    /// An N4 session was re-established on a UPF.
    SessionRestored {
        /// SUPI.
        supi: String,
        /// PDU Session ID.
        pdu_session_id: u8,
    },
    /// A 5GSM retransmission (T3591, T3592).
    Retransmission {
        /// The timer.
        timer: &'static str,
    },
    /// A PFCP message that was answered with an error or ignored (label).
    PfcpError {
        /// What.
        what: &'static str,
    },
    /// Something odd, for the log.
    Warning(String),
}

/// Gauge: PDU sessions (all states).
pub const SESSIONS: &str = "hexcore_smf_pdu_sessions";
/// Gauge: UE addresses held, by DNN (label `dnn`).
pub const POOL_IN_USE: &str = "hexcore_smf_pool_addresses_in_use";
/// Gauge: PFCP associations up.
pub const ASSOCIATIONS_UP: &str = "hexcore_smf_pfcp_associations_up";
/// Counter: establishments accepted.
pub const ESTABLISHMENTS: &str = "hexcore_smf_establishments_total";
/// Counter: establishments rejected (labels `cause`, `reason`).
pub const REJECTS: &str = "hexcore_smf_establishment_rejects_total";
/// Counter: sessions released (label `how`).
pub const RELEASES: &str = "hexcore_smf_releases_total";
/// Counter: procedures (labels `procedure`, `outcome`).
pub const PROCEDURES: &str = "hexcore_smf_procedures_total";
/// Counter: UPF restarts seen.
pub const UPF_RESTARTS: &str = "hexcore_smf_upf_restarts_total";
/// Counter: N4 sessions restored.
pub const SESSIONS_RESTORED: &str = "hexcore_smf_sessions_restored_total";
/// Counter: 5GSM retransmissions (label `timer`).
pub const RETRANSMISSIONS: &str = "hexcore_smf_nas_retransmissions_total";
/// Counter: PFCP errors (label `what`).
pub const PFCP_ERRORS: &str = "hexcore_smf_pfcp_errors_total";
/// Counter: usage records stored.
pub const USAGE_RECORDS: &str = "hexcore_smf_usage_records_total";
/// Counter: octets reported by UPFs (label `direction`: `uplink`, `downlink`).
pub const USAGE_OCTETS: &str = "hexcore_smf_usage_octets_total";
/// Counter: usage batches the sink failed to store.
pub const USAGE_SINK_FAILURES: &str = "hexcore_smf_usage_sink_failures_total";

/// Turn one SMF event into metrics and a log line.
#[cfg(feature = "glue")]
pub fn record(event: &Event) {
    match event {
        Event::SessionEstablished {
            supi,
            pdu_session_id,
            dnn,
            ue_ipv4,
        } => {
            metrics::counter!(ESTABLISHMENTS).increment(1);
            tracing::info!(supi, psi = pdu_session_id, dnn, %ue_ipv4, "PDU session established");
        }
        Event::EstablishmentRejected {
            supi,
            pdu_session_id,
            cause,
            reason,
        } => {
            metrics::counter!(REJECTS, "cause" => cause.to_string(), "reason" => *reason).increment(1);
            tracing::info!(
                supi,
                psi = pdu_session_id,
                cause,
                reason,
                "PDU session establishment rejected"
            );
        }
        Event::SessionReleased {
            supi,
            pdu_session_id,
            how,
        } => {
            metrics::counter!(RELEASES, "how" => *how).increment(1);
            tracing::info!(supi, psi = pdu_session_id, how, "PDU session released");
        }
        Event::Procedure { procedure, outcome } => {
            metrics::counter!(PROCEDURES, "procedure" => *procedure, "outcome" => *outcome).increment(1);
            tracing::debug!(procedure, outcome, "procedure");
        }
        Event::Association { upf, up } => {
            if *up {
                metrics::gauge!(ASSOCIATIONS_UP).increment(1.0);
                tracing::info!(%upf, "PFCP association up");
            } else {
                metrics::gauge!(ASSOCIATIONS_UP).decrement(1.0);
                tracing::warn!(%upf, "PFCP association down");
            }
        }
        Event::UpfRestarted { upf } => {
            metrics::counter!(UPF_RESTARTS).increment(1);
            tracing::warn!(%upf, "UPF restarted: restoring its sessions");
        }
        Event::SessionRestored { supi, pdu_session_id } => {
            metrics::counter!(SESSIONS_RESTORED).increment(1);
            tracing::info!(supi, psi = pdu_session_id, "N4 session restored");
        }
        Event::Retransmission { timer } => {
            metrics::counter!(RETRANSMISSIONS, "timer" => *timer).increment(1);
            tracing::debug!(timer, "5GSM retransmission");
        }
        Event::PfcpError { what } => {
            metrics::counter!(PFCP_ERRORS, "what" => *what).increment(1);
            tracing::debug!(what, "PFCP error");
        }
        Event::Warning(text) => tracing::warn!("{text}"),
    }
}
