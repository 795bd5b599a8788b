//! Metric names of the UPF (Prometheus), in one place. The sans-IO control reports
//! [`crate::Event`]s and the workers keep per-batch counts; the glue turns both into
//! these metrics (through the process's `metrics` recorder, served on the process's
//! `/metrics`: `hexcore up`'s, or `hexcore upf`'s own).

/// Counter: packets forwarded (label `direction`: uplink, downlink).
pub const PACKETS: &str = "hexcore_upf_packets_total";
/// Counter: T-PDU octets forwarded (label `direction`).
pub const BYTES: &str = "hexcore_upf_bytes_total";
/// Counter: packets dropped (labels `direction`, `reason`).
pub const DROPS: &str = "hexcore_upf_drops_total";
/// Counter: uplink G-PDUs forwarded whose N3 datagram was longer than the GTP-U
/// message (trailing padding, as open5gs's test gNB sends): only the T-PDU the
/// Length field declares was forwarded and counted (TS 29.281 §5.1).
pub const N3_PADDED_GPDUS: &str = "hexcore_upf_n3_padded_gpdus_total";
/// Gauge: PFCP sessions.
pub const SESSIONS: &str = "hexcore_upf_sessions";
/// Gauge: associated CP functions.
pub const ASSOCIATIONS: &str = "hexcore_upf_associations";
/// Counter: PFCP messages (labels `type`, `cause`, `direction`: rx, tx).
pub const PFCP_MESSAGES: &str = "hexcore_upf_pfcp_messages_total";
/// Counter: PFCP datagrams that could not be decoded.
pub const PFCP_MALFORMED: &str = "hexcore_upf_pfcp_malformed_total";
/// Counter: usage reports sent (label `trigger`).
pub const USAGE_REPORTS: &str = "hexcore_upf_usage_reports_total";
/// Counter: octets in usage reports sent.
pub const USAGE_REPORTED_BYTES: &str = "hexcore_upf_usage_reported_bytes_total";
/// Counter: octets of unacknowledged reports merged back to be sent again.
pub const USAGE_CARRIED_BYTES: &str = "hexcore_upf_usage_carried_bytes_total";
/// Counter: octets of usage nobody took (SMF answered 65, session gone).
pub const USAGE_LOST_BYTES: &str = "hexcore_upf_usage_lost_bytes_total";
/// Counter: usage records lost (label `reason`).
pub const USAGE_LOST: &str = "hexcore_upf_usage_lost_total";
/// Gauge: octets of unreported usage found in the journal of the previous run.
pub const USAGE_RECOVERED_BYTES: &str = "hexcore_upf_usage_recovered_bytes";
/// Counter: Downlink Data Reports sent.
pub const DOWNLINK_DATA_REPORTS: &str = "hexcore_upf_downlink_data_reports_total";
/// Counter: GTP-U Error Indications sent.
pub const ERROR_INDICATIONS: &str = "hexcore_upf_error_indications_total";
/// Counter: GTP-U Echo Requests answered.
pub const ECHO_RESPONSES: &str = "hexcore_upf_echo_responses_total";
/// Counter: journal checkpoints written (label `outcome`).
pub const JOURNAL_WRITES: &str = "hexcore_upf_journal_writes_total";

use crate::control::Event;

/// Turn one control event into metrics and a log line.
pub fn record(event: &Event) {
    match event {
        Event::PfcpMessage { message, cause, sent } => {
            let cause = cause.map_or_else(|| "-".to_string(), |c| c.value().to_string());
            metrics::counter!(PFCP_MESSAGES, "type" => format!("{message:?}"), "cause" => cause,
                "direction" => if *sent { "tx" } else { "rx" })
            .increment(1);
        }
        Event::PfcpMalformed { peer, error } => {
            metrics::counter!(PFCP_MALFORMED).increment(1);
            tracing::warn!(%peer, error, "malformed PFCP");
        }
        Event::Rejected { message, cause, reason } => {
            tracing::warn!(?message, cause = cause.value(), reason, "PFCP request refused");
        }
        Event::AssociationSetUp { node, peer } => {
            metrics::gauge!(ASSOCIATIONS).increment(1.0);
            tracing::info!(%node, %peer, "PFCP association set up");
        }
        Event::AssociationReleased { node } => {
            metrics::gauge!(ASSOCIATIONS).decrement(1.0);
            tracing::info!(%node, "PFCP association released");
        }
        Event::CpRestarted { node, sessions } => {
            tracing::warn!(%node, sessions, "CP function restarted: its sessions reported and deleted");
        }
        Event::CpUnreachable { node } => tracing::warn!(%node, "CP function not answering heartbeats"),
        Event::SessionEstablished { seid, cp_seid } => {
            tracing::debug!(%seid, %cp_seid, "session established");
        }
        Event::SessionDeleted { seid } => tracing::debug!(%seid, "session deleted"),
        Event::Sessions(n) => metrics::gauge!(SESSIONS).set(*n as f64),
        Event::UsageReported {
            seid,
            urr_id,
            trigger,
            usage,
        } => {
            // The label is the trigger bits in hex (TS 29.244 §8.2.41), e.g. 0x800 TERMR.
            metrics::counter!(USAGE_REPORTS, "trigger" => format!("{:#x}", trigger.bits)).increment(1);
            metrics::counter!(USAGE_REPORTED_BYTES).increment(usage.counts.total_octets());
            tracing::debug!(
                %seid,
                urr_id = urr_id.0,
                trigger = trigger.bits,
                octets = usage.counts.total_octets(),
                "usage reported"
            );
        }
        Event::UsageCarried { seid, urr_id, usage } => {
            metrics::counter!(USAGE_CARRIED_BYTES).increment(usage.counts.total_octets());
            tracing::warn!(
                %seid,
                urr_id = urr_id.0,
                octets = usage.counts.total_octets(),
                "usage report not acknowledged: merged back, sent again with the next report"
            );
        }
        Event::UsageLost {
            seid,
            cp_seid,
            urr_id,
            usage,
            reason,
        } => {
            metrics::counter!(USAGE_LOST, "reason" => *reason).increment(1);
            metrics::counter!(USAGE_LOST_BYTES).increment(usage.counts.total_octets());
            tracing::warn!(
                %seid,
                %cp_seid,
                urr_id = urr_id.0,
                octets = usage.counts.total_octets(),
                uplink_octets = usage.counts.uplink_octets,
                downlink_octets = usage.counts.downlink_octets,
                packets = usage.counts.total_packets(),
                duration_secs = usage.duration_secs,
                reason,
                "usage lost"
            );
        }
        Event::DownlinkDataReport { seid, pdr_id } => {
            metrics::counter!(DOWNLINK_DATA_REPORTS).increment(1);
            tracing::debug!(%seid, pdr_id = pdr_id.0, "downlink data report");
        }
        Event::Dropped { reason, packets } => {
            metrics::counter!(DROPS, "direction" => "downlink", "reason" => reason.as_str()).increment(*packets);
        }
    }
}
