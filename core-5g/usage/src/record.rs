//! One usage record: what one PFCP Usage Report (TS 29.244 §7.5.8.3 in a Session Report
//! Request, §7.5.5.2 in a Session Modification Response, §7.5.7.2 in a Session Deletion
//! Response) measured, with the session context the SMF adds.
//!
//! **What is counted** (the hexcore UPF): the octets of the inner IP packets, uplink
//! after decapsulation and downlink before encapsulation, and those packets. Each report
//! covers the interval since the previous report of the same URR, so records add up.
//!
//! **JSON-lines form** (one object per line, field names stable; see the crate
//! README): the fields of today's `smf-usage.jsonl` keep their names and meaning;
//! `urr_id`, `duration_secs`, `ncgi` and `tai` are new; context the SMF does not know
//! is left out instead of written as `""`, `0` or `0.0.0.0`.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::location::{NrCgi, Tai};
use crate::node::NodeId;
use crate::supi::Supi;
use crate::time::{Interval, UnixTime};
use crate::trigger::Triggers;

/// One usage report of one PDU session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Line", into = "Line")]
pub struct UsageRecord {
    /// Whose usage: the PDU session as the SMF knows it.
    pub session: SessionContext,
    /// Which report: the dedupe key.
    pub key: ReportKey,
    /// Why the UPF reported.
    pub triggers: Triggers,
    /// The measured interval.
    pub interval: Interval,
    /// Duration Measurement (TS 29.244 §8.2.45), whole seconds, when the URR measures
    /// time.
    pub duration_secs: Option<u64>,
    /// Octets (Volume Measurement, TS 29.244 §8.2.44).
    pub octets: Counts,
    /// Packets (Volume Measurement, TS 29.244 §8.2.44).
    pub packets: Counts,
}

/// The PDU session a report belongs to, as the SMF knows it when the report arrives.
/// A report for a session the SMF has already released carries only the SUPI and PDU
/// Session ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionContext {
    /// The subscriber.
    pub supi: Supi,
    /// PDU Session ID, 1–15 (TS 24.007 §11.2.3.1b).
    pub pdu_session_id: u8,
    /// DNN.
    pub dnn: Option<String>,
    /// S-NSSAI.
    pub s_nssai: Option<SNssai>,
    /// The UE's IPv4 address.
    pub ue_ipv4: Option<Ipv4Addr>,
    /// The cell that last served the UE, as the SMF last heard (N11 User Location).
    /// A report spans an interval in which the UE may have moved: this is the cell at
    /// the report's end, not a split of its octets per cell.
    pub ncgi: Option<NrCgi>,
    /// The tracking area of that cell.
    pub tai: Option<Tai>,
}

impl SessionContext {
    /// A context that knows only whose session it is.
    pub fn new(supi: Supi, pdu_session_id: u8) -> Self {
        SessionContext {
            supi,
            pdu_session_id,
            dnn: None,
            s_nssai: None,
            ue_ipv4: None,
            ncgi: None,
            tai: None,
        }
    }
}

/// An S-NSSAI (TS 23.003 §28.4.2): SST and an optional 24-bit SD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SNssai {
    /// Slice/Service Type.
    pub sst: u8,
    /// Slice Differentiator (24 bits).
    pub sd: Option<u32>,
}

/// The N4 session: the SEID the SMF allocated (the CP F-SEID's, TS 29.244 §8.2.37), the
/// one the UPF addresses its Session Report Requests to. The SMF allocates a new one for
/// every N4 session, also when it re-establishes a session on a restarted UPF and after
/// its own restart, so reports of different N4 sessions never share a SEID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seid(pub u64);

/// URR ID (TS 29.244 §8.2.54).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UrrId(pub u32);

/// UR-SEQN (TS 29.244 §8.2.77): the UPF numbers the reports of each URR in the order it
/// generates them, incremented by one for each, wrapping at 2³².
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UrSeqn(pub u32);

/// One URR of one N4 session at one UPF: a stream of reports numbered by UR-SEQN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UrrKey {
    /// The UPF (its PFCP Node ID).
    pub upf: NodeId,
    /// The N4 session.
    pub seid: Seid,
    /// The URR.
    pub urr_id: UrrId,
}

/// What identifies a report: (UPF, SEID, URR ID, UR-SEQN). A retransmitted or
/// redelivered report has the same key and is counted once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportKey {
    /// The URR.
    pub urr: UrrKey,
    /// The report's number within it.
    pub ur_seqn: UrSeqn,
}

/// Uplink, downlink and total of octets or packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Counts {
    /// Uplink (UE → network).
    pub uplink: u64,
    /// Downlink (network → UE).
    pub downlink: u64,
    /// Total, as the UPF sent it (uplink + downlink if it sent no total).
    pub total: u64,
}

impl UsageRecord {
    /// The record of a PFCP Usage Report that `upf` measured in the N4 session `seid`
    /// of `session`. Absent volume fields count zero; an absent total is uplink +
    /// downlink (as the SMF did before this crate).
    pub fn from_pfcp(session: SessionContext, upf: NodeId, seid: Seid, report: &hexcore_pfcp::ie::UsageReport) -> Self {
        let vm = report.volume_measurement.unwrap_or_default();
        let counts = |ul: Option<u64>, dl: Option<u64>, total: Option<u64>| {
            let (uplink, downlink) = (ul.unwrap_or(0), dl.unwrap_or(0));
            Counts {
                uplink,
                downlink,
                total: total.unwrap_or(uplink.saturating_add(downlink)),
            }
        };
        UsageRecord {
            session,
            key: ReportKey {
                urr: UrrKey {
                    upf,
                    seid,
                    urr_id: UrrId(report.urr_id.0),
                },
                ur_seqn: UrSeqn(report.ur_seqn.0),
            },
            triggers: report.usage_report_trigger.into(),
            interval: Interval {
                start: report.start_time.map(UnixTime::from),
                end: report.end_time.map(UnixTime::from),
            },
            duration_secs: report.duration_measurement.map(|d| d.as_secs()),
            octets: counts(vm.uplink_volume, vm.downlink_volume, vm.total_volume),
            packets: counts(vm.uplink_packets, vm.downlink_packets, vm.total_packets),
        }
    }

    /// One JSON line, without its newline.
    pub fn to_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Encode(e.to_string()))
    }
}

/// The URR ID of records written before the field existed: the SMF installed one URR
/// per session, URR 1 (`hexcore_smf::messages::URR`).
const LEGACY_URR_ID: u32 = 1;

fn legacy_urr_id() -> u32 {
    LEGACY_URR_ID
}

/// The JSON-lines form: flat, field names of today's `smf-usage.jsonl`. Readers ignore
/// fields they do not know, so fields can be added (optional) without a new version.
#[derive(Serialize, Deserialize)]
struct Line {
    supi: String,
    pdu_session_id: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dnn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sst: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sd: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ue_ipv4: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ncgi: Option<NrCgi>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tai: Option<Tai>,
    upf: NodeId,
    seid: u64,
    #[serde(default = "legacy_urr_id")]
    urr_id: u32,
    ur_seqn: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_secs: Option<u64>,
    uplink_octets: u64,
    downlink_octets: u64,
    total_octets: u64,
    uplink_packets: u64,
    downlink_packets: u64,
    total_packets: u64,
    triggers: Triggers,
}

impl From<UsageRecord> for Line {
    fn from(r: UsageRecord) -> Line {
        let s = r.session;
        Line {
            supi: s.supi.into(),
            pdu_session_id: s.pdu_session_id,
            dnn: s.dnn,
            sst: s.s_nssai.map(|n| n.sst),
            sd: s.s_nssai.and_then(|n| n.sd),
            ue_ipv4: s.ue_ipv4,
            ncgi: s.ncgi,
            tai: s.tai,
            upf: r.key.urr.upf,
            seid: r.key.urr.seid.0,
            urr_id: r.key.urr.urr_id.0,
            ur_seqn: r.key.ur_seqn.0,
            start_time: r.interval.start.map(|t| t.0),
            end_time: r.interval.end.map(|t| t.0),
            duration_secs: r.duration_secs,
            uplink_octets: r.octets.uplink,
            downlink_octets: r.octets.downlink,
            total_octets: r.octets.total,
            uplink_packets: r.packets.uplink,
            downlink_packets: r.packets.downlink,
            total_packets: r.packets.total,
            triggers: r.triggers,
        }
    }
}

impl TryFrom<Line> for UsageRecord {
    type Error = crate::error::Error;
    fn try_from(l: Line) -> Result<Self, Self::Error> {
        Ok(UsageRecord {
            session: SessionContext {
                supi: Supi::try_from(l.supi)?,
                pdu_session_id: l.pdu_session_id,
                dnn: l.dnn,
                s_nssai: l.sst.map(|sst| SNssai { sst, sd: l.sd }),
                ue_ipv4: l.ue_ipv4,
                ncgi: l.ncgi,
                tai: l.tai,
            },
            key: ReportKey {
                urr: UrrKey {
                    upf: l.upf,
                    seid: Seid(l.seid),
                    urr_id: UrrId(l.urr_id),
                },
                ur_seqn: UrSeqn(l.ur_seqn),
            },
            triggers: l.triggers,
            interval: Interval {
                start: l.start_time.map(UnixTime),
                end: l.end_time.map(UnixTime),
            },
            duration_secs: l.duration_secs,
            octets: Counts {
                uplink: l.uplink_octets,
                downlink: l.downlink_octets,
                total: l.total_octets,
            },
            packets: Counts {
                uplink: l.uplink_packets,
                downlink: l.downlink_packets,
                total: l.total_packets,
            },
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use hexcore_pfcp::IeValue;
    use hexcore_pfcp::ie::{IeType, UsageReport};

    use super::*;
    use crate::location::{NrCellId, PlmnId, Tac};
    use crate::trigger::Trigger;

    /// A record of the test PLMN's first subscriber, URR 1 of N4 session `seid` at UPF
    /// 10.0.0.2, report `ur_seqn`.
    pub(crate) fn record(seid: u64, ur_seqn: u32) -> UsageRecord {
        UsageRecord {
            session: SessionContext {
                dnn: Some("internet".into()),
                s_nssai: Some(SNssai { sst: 1, sd: None }),
                ue_ipv4: Some(Ipv4Addr::new(10, 45, 0, 2)),
                ..SessionContext::new(Supi::imsi("999700000000001").unwrap(), 1)
            },
            key: ReportKey {
                urr: UrrKey {
                    upf: NodeId::Ipv4(Ipv4Addr::new(10, 0, 0, 2)),
                    seid: Seid(seid),
                    urr_id: UrrId(1),
                },
                ur_seqn: UrSeqn(ur_seqn),
            },
            triggers: Triggers::EMPTY.with(Trigger::Perio),
            interval: Interval {
                start: Some(UnixTime(1_700_000_000)),
                end: Some(UnixTime(1_700_000_060)),
            },
            duration_secs: None,
            octets: Counts {
                uplink: 100,
                downlink: 200,
                total: 300,
            },
            packets: Counts {
                uplink: 1,
                downlink: 2,
                total: 3,
            },
        }
    }

    // A line of today's hexcore-data/smf-usage.jsonl, as hexcore-smf wrote it before this
    // crate (its json_lines_append_and_read_back test's record).
    const LEGACY_LINE: &str = r#"{"supi":"999700000000001","pdu_session_id":1,"dnn":"internet","sst":1,"ue_ipv4":"10.45.0.2","upf":"127.0.0.1:8805","seid":1,"ur_seqn":0,"start_time":1700000000,"end_time":1700000060,"uplink_octets":100,"downlink_octets":200,"total_octets":300,"uplink_packets":1,"downlink_packets":2,"total_packets":3,"triggers":["PERIO"]}"#;

    #[test]
    fn json_line_is_today_s_plus_urr_id() {
        let mut r = record(1, 0);
        r.key.urr.upf = NodeId::Ipv4(Ipv4Addr::LOCALHOST);
        // Today's fields, same names, same order; urr_id before ur_seqn; the UPF as its
        // Node ID (no port).
        assert_eq!(
            r.to_json().unwrap(),
            LEGACY_LINE
                .replace(r#""upf":"127.0.0.1:8805""#, r#""upf":"127.0.0.1""#)
                .replace(r#""ur_seqn""#, r#""urr_id":1,"ur_seqn""#)
        );
        // A line written before this crate reads as the same record.
        assert_eq!(serde_json::from_str::<UsageRecord>(LEGACY_LINE).unwrap(), r);
    }

    #[test]
    fn json_round_trip() {
        let mut full = record(0x0102_0304_0506_0708, u32::MAX);
        full.session.s_nssai = Some(SNssai {
            sst: 1,
            sd: Some(0x00_00_01),
        });
        full.session.ncgi = Some(NrCgi {
            plmn_id: PlmnId::new("999", "70").unwrap(),
            nr_cell_id: NrCellId::new(0x0_0000_0010).unwrap(),
        });
        full.session.tai = Some(Tai {
            plmn_id: PlmnId::new("999", "70").unwrap(),
            tac: Tac::new(1).unwrap(),
        });
        full.key.urr.upf = NodeId::fqdn("upf1.example.org").unwrap();
        full.triggers = Triggers::from_bits(0x0080_0801);
        full.duration_secs = Some(60);
        let orphan = UsageRecord {
            session: SessionContext::new(Supi::imsi("001010000000001").unwrap(), 15),
            ..record(7, 1)
        };
        for r in [full, orphan, record(1, 0)] {
            let json = r.to_json().unwrap();
            assert!(!json.contains('\n'));
            assert_eq!(serde_json::from_str::<UsageRecord>(&json).unwrap(), r, "{json}");
        }
        // What an orphan leaves out.
        let json = UsageRecord {
            session: SessionContext::new(Supi::imsi("001010000000001").unwrap(), 15),
            ..record(7, 1)
        }
        .to_json()
        .unwrap();
        for absent in ["dnn", "sst", "sd", "ue_ipv4", "ncgi", "tai", "duration_secs"] {
            assert!(!json.contains(&format!("\"{absent}\"")), "{absent} in {json}");
        }
    }

    #[test]
    fn broken_lines() {
        for (from, to) in [
            (r#""supi":"999700000000001""#, r#""supi":"99970""#),
            (r#""upf":"127.0.0.1:8805""#, r#""upf":"not a node""#),
            (r#""triggers":["PERIO"]"#, r#""triggers":["PERIODIC"]"#),
            (r#""seid":1,"#, ""),
            (r#""uplink_octets":100"#, r#""uplink_octets":-1"#),
        ] {
            let line = LEGACY_LINE.replace(from, to);
            assert_ne!(line, LEGACY_LINE);
            assert!(serde_json::from_str::<UsageRecord>(&line).is_err(), "{line}");
        }
    }

    // The Usage Report of go-pfcp's message/session-report-request_test.go (MIT), as
    // hexcore-pfcp's group tests hold it: URR ID and UR-SEQN ffffffff, every trigger,
    // Start/End Time 2019-01-01T00:00:00Z, all six volume fields, Duration 10 s, and a
    // UE IP Address this crate does not use.
    static USAGE_REPORT: [u8; 109] = [
        0x00, 0x51, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, // URR ID
        0x00, 0x68, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff, // UR-SEQN
        0x00, 0x3f, 0x00, 0x03, 0xff, 0xff, 0xff, // Usage Report Trigger
        0x00, 0x4b, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, // Start Time
        0x00, 0x4c, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00, // End Time
        0x00, 0x42, 0x00, 0x31, 0x3f, // Volume Measurement
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x33, 0x33,
        0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x55, 0x55, 0x55, 0x55,
        0x55, 0x55, 0x55, 0x55, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, //
        0x00, 0x43, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0a, // Duration Measurement
        0x00, 0x5d, 0x00, 0x05, 0x02, 0x7f, 0x00, 0x00, 0x01, // UE IP Address
    ];

    #[test]
    fn from_a_pfcp_usage_report() {
        let ur = UsageReport::decode(&USAGE_REPORT, IeType::UsageReportSessionReportRequest).unwrap();
        let session = record(1, 0).session;
        let upf = NodeId::Ipv4(Ipv4Addr::new(10, 0, 0, 2));
        let r = UsageRecord::from_pfcp(session.clone(), upf.clone(), Seid(9), &ur);
        assert_eq!(r.session, session);
        assert_eq!(
            r.key,
            ReportKey {
                urr: UrrKey {
                    upf,
                    seid: Seid(9),
                    urr_id: UrrId(0xffff_ffff)
                },
                ur_seqn: UrSeqn(0xffff_ffff),
            }
        );
        assert_eq!(r.triggers, Triggers::from_bits(0xff_ffff));
        assert_eq!(r.interval.start, Some(UnixTime(1_546_300_800)));
        assert_eq!(r.interval.end, Some(UnixTime(1_546_300_800)));
        assert_eq!(r.duration_secs, Some(10));
        // Volume Measurement order: TOVOL, ULVOL, DLVOL, TONOP, ULNOP, DLNOP.
        assert_eq!(
            r.octets,
            Counts {
                total: 0x1111_1111_1111_1111,
                uplink: 0x2222_2222_2222_2222,
                downlink: 0x3333_3333_3333_3333,
            }
        );
        assert_eq!(
            r.packets,
            Counts {
                total: 0x4444_4444_4444_4444,
                uplink: 0x5555_5555_5555_5555,
                downlink: 0x6666_6666_6666_6666,
            }
        );
    }

    #[test]
    fn from_a_report_without_totals() {
        // What the hexcore UPF sends without volume totals, or a UPF that omits them.
        let ur = UsageReport::new(
            hexcore_pfcp::ie::UrrId(1),
            hexcore_pfcp::ie::UrSeqn(4),
            Triggers::EMPTY.with(Trigger::Termr).into(),
        )
        .volume_measurement(hexcore_pfcp::ie::VolumeMeasurement {
            uplink_volume: Some(10),
            downlink_volume: Some(u64::MAX),
            uplink_packets: Some(1),
            ..Default::default()
        })
        .duration_measurement(Duration::from_secs(3));
        let r = UsageRecord::from_pfcp(record(1, 0).session, NodeId::Ipv4(Ipv4Addr::LOCALHOST), Seid(1), &ur);
        assert_eq!(r.octets.total, u64::MAX, "saturates");
        assert_eq!(
            r.packets,
            Counts {
                uplink: 1,
                downlink: 0,
                total: 1
            }
        );
        assert_eq!(r.interval, Interval::default());
        assert!(r.triggers.is_final());
    }
}
