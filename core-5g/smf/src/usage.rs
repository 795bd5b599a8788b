//! Usage records: what the UPF measured for a PDU session (TS 29.244 §5.2.2 usage
//! reporting), turned into one self-contained record per PFCP Usage Report for
//! billing.
//!
//! **What is counted.** The URR the SMF installs measures volume (TS 29.244 §5.2.2.2)
//! on both PDRs of the session; the hexcore UPF counts the octets of the inner IP
//! packets (the UE's packets without the GTP-U/UDP/IP encapsulation of N3), uplink
//! after decapsulation and downlink before encapsulation. Packet counts are the same
//! packets. Each report covers the interval since the previous report of the same URR
//! (`start_time`..`end_time`, as the UPF stamped them), so records add up.
//!
//! **Durability.** [`JsonLinesSink`] appends one JSON object per line and fsyncs before
//! it returns; the SMF acknowledges a PFCP Session Report Request only once the sink
//! has returned (see [`crate::Input::UsageStored`]), so a report the UPF saw accepted
//! is on disk. Reports in Session Modification and Deletion Responses cannot be
//! acknowledged later; a sink failure there is logged and counted.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use hexcore_pfcp::ie::{UsageReport, UsageReportTrigger};

/// One usage report of one PDU session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// SUPI (IMSI digits).
    pub supi: String,
    /// PDU Session ID.
    pub pdu_session_id: u8,
    /// DNN.
    pub dnn: String,
    /// S-NSSAI SST.
    pub sst: u8,
    /// S-NSSAI SD (24 bits), when the slice has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<u32>,
    /// The UE's IPv4 address.
    pub ue_ipv4: Ipv4Addr,
    /// The UPF that measured (its N4 address).
    pub upf: String,
    /// The CP SEID of the PFCP session (several records with the same SEID and
    /// increasing `ur_seqn` belong to one N4 session; a re-established session gets
    /// a new SEID).
    pub seid: u64,
    /// UR-SEQN (TS 29.244 §8.2.77): per URR, increasing.
    pub ur_seqn: u32,
    /// Start of the measured interval (Unix seconds, from the UPF), if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    /// End of the measured interval (Unix seconds, from the UPF), if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Uplink octets.
    pub uplink_octets: u64,
    /// Downlink octets.
    pub downlink_octets: u64,
    /// Total octets.
    pub total_octets: u64,
    /// Uplink packets.
    pub uplink_packets: u64,
    /// Downlink packets.
    pub downlink_packets: u64,
    /// Total packets.
    pub total_packets: u64,
    /// Why the UPF reported (Usage Report Trigger names, e.g. `PERIO`, `VOLTH`,
    /// `TERMR`).
    pub triggers: Vec<String>,
}

/// The session a report belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageIdentity {
    pub supi: String,
    pub pdu_session_id: u8,
    pub dnn: String,
    pub sst: u8,
    pub sd: Option<u32>,
    pub ue_ipv4: Ipv4Addr,
    pub upf: String,
    pub seid: u64,
}

impl UsageIdentity {
    pub(crate) fn record(&self, report: &UsageReport) -> UsageRecord {
        let vm = report.volume_measurement.unwrap_or_default();
        let ul = vm.uplink_volume.unwrap_or(0);
        let dl = vm.downlink_volume.unwrap_or(0);
        let ulp = vm.uplink_packets.unwrap_or(0);
        let dlp = vm.downlink_packets.unwrap_or(0);
        UsageRecord {
            supi: self.supi.clone(),
            pdu_session_id: self.pdu_session_id,
            dnn: self.dnn.clone(),
            sst: self.sst,
            sd: self.sd,
            ue_ipv4: self.ue_ipv4,
            upf: self.upf.clone(),
            seid: self.seid,
            ur_seqn: report.ur_seqn.0,
            start_time: report.start_time.map(|t| t.unix_secs()),
            end_time: report.end_time.map(|t| t.unix_secs()),
            uplink_octets: ul,
            downlink_octets: dl,
            total_octets: vm.total_volume.unwrap_or(ul.saturating_add(dl)),
            uplink_packets: ulp,
            downlink_packets: dlp,
            total_packets: vm.total_packets.unwrap_or(ulp.saturating_add(dlp)),
            triggers: trigger_names(report.usage_report_trigger),
        }
    }
}

/// The names of the bits of a Usage Report Trigger (TS 29.244 §8.2.41).
pub fn trigger_names(t: UsageReportTrigger) -> Vec<String> {
    const NAMES: [(u32, &str); 22] = [
        (UsageReportTrigger::PERIO, "PERIO"),
        (UsageReportTrigger::VOLTH, "VOLTH"),
        (UsageReportTrigger::TIMTH, "TIMTH"),
        (UsageReportTrigger::QUHTI, "QUHTI"),
        (UsageReportTrigger::START, "START"),
        (UsageReportTrigger::STOPT, "STOPT"),
        (UsageReportTrigger::DROTH, "DROTH"),
        (UsageReportTrigger::IMMER, "IMMER"),
        (UsageReportTrigger::VOLQU, "VOLQU"),
        (UsageReportTrigger::TIMQU, "TIMQU"),
        (UsageReportTrigger::LIUSA, "LIUSA"),
        (UsageReportTrigger::TERMR, "TERMR"),
        (UsageReportTrigger::MONIT, "MONIT"),
        (UsageReportTrigger::ENVCL, "ENVCL"),
        (UsageReportTrigger::MACAR, "MACAR"),
        (UsageReportTrigger::EVETH, "EVETH"),
        (UsageReportTrigger::EVEQU, "EVEQU"),
        (UsageReportTrigger::TEBUR, "TEBUR"),
        (UsageReportTrigger::IPMJL, "IPMJL"),
        (UsageReportTrigger::QUVTI, "QUVTI"),
        (UsageReportTrigger::EMRRE, "EMRRE"),
        (UsageReportTrigger::UPINT, "UPINT"),
    ];
    NAMES
        .iter()
        .filter(|(bit, _)| t.contains(*bit))
        .map(|(_, name)| (*name).to_string())
        .collect()
}

/// Where usage records go. Called by the glue, on the SMF task, for every batch the
/// SMF outputs; a batch that came in a Session Report Request is acknowledged to the
/// UPF only after `record` returned `Ok`, so `Ok` must mean "durable".
pub trait UsageSink: Send + 'static {
    /// Store the records (all or none, as far as the store allows).
    fn record(&mut self, records: &[UsageRecord]) -> io::Result<()>;
}

/// Append-only JSON lines, fsynced per batch.
#[derive(Debug)]
pub struct JsonLinesSink {
    path: PathBuf,
    file: File,
}

impl JsonLinesSink {
    /// Open (create, append to) the file, creating its directory.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(JsonLinesSink { path, file })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read every record of a file (for tests and tools).
    pub fn read_all(path: impl AsRef<Path>) -> io::Result<Vec<UsageRecord>> {
        let text = std::fs::read_to_string(path)?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)))
            .collect()
    }
}

impl UsageSink for JsonLinesSink {
    fn record(&mut self, records: &[UsageRecord]) -> io::Result<()> {
        let mut buf = Vec::new();
        for r in records {
            serde_json::to_writer(&mut buf, r).map_err(io::Error::other)?;
            buf.push(b'\n');
        }
        // One write per batch, then the data reaches the disk before the UPF hears
        // "accepted".
        self.file.write_all(&buf)?;
        self.file.sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_names_in_bit_order() {
        let t = UsageReportTrigger::new(UsageReportTrigger::PERIO | UsageReportTrigger::TERMR);
        assert_eq!(trigger_names(t), ["PERIO", "TERMR"]);
    }

    #[test]
    fn json_lines_append_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/usage.jsonl");
        let record = UsageRecord {
            supi: "999700000000001".into(),
            pdu_session_id: 1,
            dnn: "internet".into(),
            sst: 1,
            sd: None,
            ue_ipv4: Ipv4Addr::new(10, 45, 0, 2),
            upf: "127.0.0.1:8805".into(),
            seid: 1,
            ur_seqn: 0,
            start_time: Some(1_700_000_000),
            end_time: Some(1_700_000_060),
            uplink_octets: 100,
            downlink_octets: 200,
            total_octets: 300,
            uplink_packets: 1,
            downlink_packets: 2,
            total_packets: 3,
            triggers: vec!["PERIO".into()],
        };
        let mut sink = JsonLinesSink::open(&path).unwrap();
        sink.record(std::slice::from_ref(&record)).unwrap();
        drop(sink);
        let mut sink = JsonLinesSink::open(&path).unwrap();
        sink.record(&[record.clone(), record.clone()]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with("{\"supi\":\"999700000000001\",\"pdu_session_id\":1,\"dnn\":\"internet\",\"sst\":1,"));
        assert_eq!(JsonLinesSink::read_all(&path).unwrap(), vec![record; 3]);
    }
}
