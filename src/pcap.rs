//! `hexcore pcap FILE`: decode every NGAP message in a capture, and the NAS-5GS inside,
//! every PFCP message (UDP 8805, N4) and every GTP-U message (UDP 2152, N3), and check
//! that each re-encodes to exactly the bytes captured.
//!
//! Conformance labs judge a core first on whether it decodes and produces exactly what the
//! specs say; this command turns any capture (ours, a test lab's, a commercial gNB's) into
//! that check. A message that fails to decode or to re-encode byte for byte is a failure,
//! and any failure makes the exit code 1. What peers do that the specs tolerate but that
//! is worth knowing — a GTP-U datagram longer than its message (padding after the
//! Length field's end, as open5gs's test gNB sends) — is a warning: reported, counted,
//! and the exit code stays 0.

use std::path::PathBuf;
use std::process::ExitCode;

use hexcore_capture::{Dissector, GTPU_PORT, PFCP_PORT, Reader, SctpMessage, UdpDatagram};
use hexcore_nas::NasPdu;
use hexcore_ngap::NgapPdu;
use serde::Serialize;

use crate::time::rfc3339_micros;

/// SCTP Payload Protocol Identifier of NGAP (TS 38.412 §7).
const PPID_NGAP: u32 = 60;

#[derive(clap::Args)]
pub struct Args {
    /// The capture: pcap or pcapng (Ethernet, Linux cooked v1/v2, raw IP, BSD loopback).
    file: PathBuf,
    /// Print one JSON document (messages and a summary) instead of text lines.
    #[arg(long)]
    json: bool,
    /// UDP ports that carry SCTP over UDP (RFC 6951), besides the default 9899.
    #[arg(long = "udp-port", value_name = "PORT")]
    udp_ports: Vec<u16>,
}

pub fn run(args: &Args) -> ExitCode {
    let bytes = match crate::read_input(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("hexcore pcap: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match analyse(&bytes, &args.udp_ports) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hexcore pcap: {}: {e}", args.file.display());
            return ExitCode::from(2);
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("hexcore pcap: cannot write JSON: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print_text(&report);
    }
    exit_code(&report)
}

/// 0 when nothing failed (warnings do not count), 1 otherwise.
fn exit_code(report: &Report) -> ExitCode {
    if report.summary.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Everything the command found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub messages: Vec<MessageReport>,
    /// PFCP and GTP-U messages, in capture order.
    pub user_plane: Vec<UserPlaneReport>,
    pub summary: Summary,
}

/// One PFCP or GTP-U message.
#[derive(Debug, Serialize)]
pub struct UserPlaneReport {
    pub time: String,
    pub timestamp_ns: u64,
    pub src: String,
    pub dst: String,
    /// "pfcp" or "gtpu".
    pub protocol: &'static str,
    /// The message type, e.g. "SessionEstablishmentRequest", "GPdu".
    pub message: Option<String>,
    /// PFCP: SEID and sequence number; GTP-U: TEID (and QFI of a G-PDU).
    pub detail: String,
    /// Decode or re-encode failure.
    pub error: Option<String>,
    /// Something the specs tolerate but a peer should not do (GTP-U padding).
    pub warning: Option<String>,
}

/// One SCTP user message and what its NGAP (and NAS) decoded to.
#[derive(Debug, Serialize)]
pub struct MessageReport {
    pub time: String,
    pub timestamp_ns: u64,
    pub src: String,
    pub dst: String,
    /// "sctp" (over IP) or "sctp/udp" (RFC 6951).
    pub carrier: &'static str,
    pub stream: u16,
    /// NGAP elementary procedure, e.g. "NGSetup", and the message, e.g. "NGSetupRequest".
    pub procedure: Option<String>,
    pub message: Option<String>,
    pub amf_ue_ngap_id: Option<u64>,
    pub ran_ue_ngap_id: Option<u32>,
    pub nas: Vec<NasReport>,
    /// Decode or re-encode failure of the NGAP message itself.
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct NasReport {
    /// The message type, or "ciphered (…)" when the content is encrypted.
    pub summary: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub frames: u64,
    pub sctp_packets: u64,
    pub ngap_messages: u64,
    pub nas_messages: u64,
    pub pfcp_messages: u64,
    pub gtpu_messages: u64,
    /// Messages (NGAP or NAS) that failed to decode or to re-encode to the same bytes.
    pub failures: u64,
    /// Messages that decoded and re-encoded, with something worth a look (GTP-U
    /// padding); they do not fail the run.
    pub warnings: u64,
    pub retransmissions_dropped: u64,
    pub bad_sctp_checksums: u64,
    pub malformed_sctp: u64,
    /// SCTP messages with another PPID, and frames of other protocols, by name.
    pub skipped: std::collections::BTreeMap<String, u64>,
    /// The capture file itself was cut short or corrupt after this many records.
    pub file_error: Option<String>,
}

/// Decodes a capture held in memory. Fails only when the file is not a capture at all;
/// a capture that breaks off later is reported in `summary.file_error` as a failure.
pub fn analyse(bytes: &[u8], extra_udp_ports: &[u16]) -> Result<Report, hexcore_capture::file::Error> {
    let mut dissector = Dissector::new(extra_udp_ports);
    let mut messages = Vec::new();
    let mut user_plane = Vec::new();
    let mut summary = Summary::default();
    for record in Reader::new(bytes)? {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                summary.file_error = Some(e.to_string());
                summary.failures += 1;
                break;
            }
        };
        for msg in dissector.push(&record) {
            if msg.ppid != PPID_NGAP {
                *summary.skipped.entry(format!("sctp-ppid-{}", msg.ppid)).or_default() += 1;
                continue;
            }
            let report = ngap_message(&msg);
            summary.ngap_messages += 1;
            summary.nas_messages += report.nas.len() as u64;
            summary.failures += u64::from(report.error.is_some());
            summary.failures += report.nas.iter().filter(|n| n.error.is_some()).count() as u64;
            messages.push(report);
        }
        for datagram in dissector.take_datagrams() {
            for report in user_plane_datagram(&datagram) {
                match report.protocol {
                    "pfcp" => summary.pfcp_messages += 1,
                    _ => summary.gtpu_messages += 1,
                }
                summary.failures += u64::from(report.error.is_some());
                summary.warnings += u64::from(report.warning.is_some());
                user_plane.push(report);
            }
        }
    }
    let stats = dissector.stats();
    summary.frames = stats.frames;
    summary.sctp_packets = stats.sctp_packets;
    summary.retransmissions_dropped = stats.retransmissions;
    summary.bad_sctp_checksums = stats.bad_checksums;
    summary.malformed_sctp = stats.malformed_sctp;
    for (name, n) in &stats.skipped {
        *summary.skipped.entry(name.clone()).or_default() += n;
    }
    Ok(Report {
        messages,
        user_plane,
        summary,
    })
}

fn ngap_message(msg: &SctpMessage) -> MessageReport {
    let mut report = MessageReport {
        time: rfc3339_micros(msg.timestamp_ns),
        timestamp_ns: msg.timestamp_ns,
        src: msg.src.to_string(),
        dst: msg.dst.to_string(),
        carrier: match msg.carrier {
            hexcore_capture::Carrier::Ip => "sctp",
            hexcore_capture::Carrier::Udp => "sctp/udp",
        },
        stream: msg.stream_id,
        procedure: None,
        message: None,
        amf_ue_ngap_id: None,
        ran_ue_ngap_id: None,
        nas: Vec::new(),
        error: None,
    };
    let pdu = match NgapPdu::decode(&msg.data) {
        Ok(p) => p,
        Err(e) => {
            report.error = Some(format!("NGAP decode: {e}"));
            return report;
        }
    };
    report.procedure = Some(pdu.procedure_code().to_string());
    report.message = Some(pdu.message_name().to_string());
    report.amf_ue_ngap_id = pdu.amf_ue_ngap_id();
    report.ran_ue_ngap_id = pdu.ran_ue_ngap_id();
    report.error = match pdu.encode() {
        Ok(again) if again == msg.data => None,
        Ok(again) => Some(format!(
            "NGAP re-encode differs: {}",
            first_difference(&msg.data, &again)
        )),
        Err(e) => Some(format!("NGAP re-encode: {e}")),
    };
    report.nas = pdu.nas_pdus().iter().map(|nas| nas_message(nas)).collect();
    report
}

/// The PFCP messages of a datagram to or from port 8805 (several when bundled with the
/// FO flag, TS 29.244 §7.2.2.1), or its one GTP-U message.
fn user_plane_datagram(d: &UdpDatagram) -> Vec<UserPlaneReport> {
    let report = |protocol, message, detail, error| UserPlaneReport {
        time: rfc3339_micros(d.timestamp_ns),
        timestamp_ns: d.timestamp_ns,
        src: d.src.to_string(),
        dst: d.dst.to_string(),
        protocol,
        message,
        detail,
        error,
        warning: None,
    };
    if d.src.port() == PFCP_PORT || d.dst.port() == PFCP_PORT {
        let mut out = Vec::new();
        let mut rest = &d.payload[..];
        while !rest.is_empty() {
            // Octets 3–4: length of the message after the first 4 octets (§7.2.2.1).
            let len = match rest {
                [_, _, a, b, ..] => 4 + usize::from(u16::from_be_bytes([*a, *b])),
                _ => rest.len(),
            };
            let (one, next) = rest.split_at(len.min(rest.len()));
            rest = next;
            out.push(match hexcore_pfcp::Pdu::decode(one) {
                Ok(pdu) => {
                    let mut again = pdu.encode();
                    // The FO flag is not part of the message: compare without it.
                    if let (Some(a), Some(b)) = (again.first_mut(), one.first()) {
                        *a = (*a & !0x04) | (b & 0x04);
                    }
                    let detail = format!(
                        "seq={}{}",
                        pdu.header.sequence_number,
                        pdu.header.seid.map(|s| format!(" SEID={s:#x}")).unwrap_or_default()
                    );
                    let error =
                        (again != one).then(|| format!("PFCP re-encode differs: {}", first_difference(one, &again)));
                    report("pfcp", Some(format!("{:?}", pdu.message.message_type())), detail, error)
                }
                Err(e) => report("pfcp", None, String::new(), Some(format!("PFCP decode: {e}"))),
            });
            if len > one.len() {
                break;
            }
        }
        return out;
    }
    if d.src.port() != GTPU_PORT && d.dst.port() != GTPU_PORT {
        return Vec::new();
    }
    let parsed = hexcore_gtpu::Packet::new_checked(&d.payload[..]).and_then(|p| {
        let repr = hexcore_gtpu::Repr::parse(&p)?;
        Ok((p.message_type(), repr.teid, repr.to_vec()?, p.message_len()))
    });
    vec![match parsed {
        Ok((t, teid, again, message_len)) => {
            let qfi = hexcore_gtpu::parse_gpdu(&d.payload)
                .ok()
                .and_then(|v| v.qfi)
                .map(|q| format!(" QFI={q}"))
                .unwrap_or_default();
            // The message is what the Length field declares; padding after it is not
            // re-encoded (TS 29.281 §5.1), so it is compared without.
            let (message, trailing) = d.payload.split_at(message_len.min(d.payload.len()));
            let error =
                (again != message).then(|| format!("GTP-U re-encode differs: {}", first_difference(message, &again)));
            let mut r = report("gtpu", Some(format!("{t:?}")), format!("TEID={teid:#x}{qfi}"), error);
            r.warning = padding_warning(message_len, trailing);
            r
        }
        Err(e) => report("gtpu", None, String::new(), Some(format!("GTP-U decode: {e}"))),
    }]
}

/// The warning for octets after a GTP-U message in its datagram: Wireshark shows them
/// as trailing, open5gs's UPF and hexcore's forward the declared T-PDU only.
fn padding_warning(message_len: usize, trailing: &[u8]) -> Option<String> {
    if trailing.is_empty() {
        return None;
    }
    let what = if trailing.iter().all(|b| *b == 0) {
        "zero padding"
    } else {
        "not zeros"
    };
    Some(format!(
        "GTP-U datagram has {} octets after the {message_len}-octet message its Length field declares ({what}); ignored",
        trailing.len()
    ))
}

fn nas_message(bytes: &[u8]) -> NasReport {
    match NasPdu::decode(bytes) {
        Ok(pdu) => {
            let again = pdu.encode();
            NasReport {
                summary: Some(pdu.summary()),
                error: (again != bytes).then(|| format!("NAS re-encode differs: {}", first_difference(bytes, &again))),
            }
        }
        Err(e) => NasReport {
            summary: None,
            error: Some(format!("NAS decode: {e}")),
        },
    }
}

/// "at byte N: captured XX, re-encoded YY" or the two lengths.
fn first_difference(captured: &[u8], again: &[u8]) -> String {
    match captured.iter().zip(again).position(|(a, b)| a != b) {
        Some(i) => format!("at byte {i}: captured {:02x}, re-encoded {:02x}", captured[i], again[i]),
        None => format!("captured {} bytes, re-encoded {}", captured.len(), again.len()),
    }
}

fn print_text(report: &Report) {
    for m in &report.messages {
        let what = match (&m.message, &m.error) {
            (Some(name), _) => name.clone(),
            (None, _) => "undecodable NGAP".to_string(),
        };
        let ids = format!(
            "AMF-UE-NGAP-ID={} RAN-UE-NGAP-ID={}",
            m.amf_ue_ngap_id.map_or("-".into(), |v| v.to_string()),
            m.ran_ue_ngap_id.map_or("-".into(), |v| v.to_string()),
        );
        let nas: Vec<String> = m
            .nas
            .iter()
            .map(|n| n.summary.clone().unwrap_or_else(|| "undecodable".into()))
            .collect();
        let nas = if nas.is_empty() {
            String::new()
        } else {
            format!("  NAS: {}", nas.join("; "))
        };
        println!("{}  {} → {} ({})  {what}  {ids}{nas}", m.time, m.src, m.dst, m.carrier);
        if let Some(e) = &m.error {
            println!("    FAIL {e}");
        }
        for e in m.nas.iter().filter_map(|n| n.error.as_ref()) {
            println!("    FAIL {e}");
        }
    }
    for m in &report.user_plane {
        println!(
            "{}  {} → {} ({})  {}  {}",
            m.time,
            m.src,
            m.dst,
            m.protocol,
            m.message.as_deref().unwrap_or("undecodable"),
            m.detail
        );
        if let Some(e) = &m.error {
            println!("    FAIL {e}");
        }
        if let Some(w) = &m.warning {
            println!("    WARN {w}");
        }
    }
    let s = &report.summary;
    let skipped: Vec<String> = s.skipped.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "{} frames, {} SCTP packets, {} NGAP messages, {} NAS messages, {} PFCP messages, {} GTP-U messages, {} failures, {} warnings; {} retransmissions dropped; skipped: {}",
        s.frames,
        s.sctp_packets,
        s.ngap_messages,
        s.nas_messages,
        s.pfcp_messages,
        s.gtpu_messages,
        s.failures,
        s.warnings,
        s.retransmissions_dropped,
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        }
    );
    if let Some(e) = &s.file_error {
        println!("FAIL capture file: {e}");
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use hexcore_capture::link::{build_ipv4, build_udp};
    use hexcore_capture::{LinkType, Writer};

    use super::*;

    // srsRAN Project tests/unittests/gtpu/gtpu_test_shared.h gtpu_ping_vec_teid_1 (its
    // first 40 octets: the 8-octet header and the first 32 of the ping), with its
    // Length field set to those 32: a G-PDU to TEID 1.
    static GPDU_TEID_1: [u8; 40] = [
        0x30, 0xff, 0x00, 0x20, 0x00, 0x00, 0x00, 0x01, 0x45, 0x00, 0x00, 0x54, 0xe8, 0x83, 0x40, 0x00, 0x40, 0x01,
        0xfa, 0x00, 0xac, 0x10, 0x00, 0x03, 0xac, 0x10, 0x00, 0x01, 0x08, 0x00, 0x2c, 0xbe, 0xb4, 0xa4, 0x00, 0x01,
        0xd3, 0x45, 0x61, 0x63,
    ];

    /// A raw-IP capture of GTP-U datagrams between two gNB/UPF addresses on 2152.
    fn capture(datagrams: &[&[u8]]) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), LinkType::Raw).unwrap();
        for (i, d) in datagrams.iter().enumerate() {
            let frame = build_ipv4(
                Ipv4Addr::new(10, 0, 0, 1),
                Ipv4Addr::new(10, 0, 0, 2),
                17,
                &build_udp(2152, 2152, d),
            );
            w.write(1_700_000_000_000_000_000 + i as u64, &frame).unwrap();
        }
        w.into_inner().unwrap()
    }

    #[test]
    fn gtpu_padding_is_a_warning_not_a_failure() {
        // The G-PDU as it is, then with the zero padding open5gs's test gNB adds.
        let mut padded = GPDU_TEID_1.to_vec();
        padded.extend_from_slice(&[0; 6]);
        let report = analyse(&capture(&[&GPDU_TEID_1, &padded]), &[]).unwrap();
        assert_eq!(report.summary.gtpu_messages, 2);
        assert_eq!((report.summary.failures, report.summary.warnings), (0, 1));
        assert_eq!(exit_code(&report), ExitCode::SUCCESS);
        let [exact, with_padding] = &report.user_plane[..] else {
            panic!("{:?}", report.user_plane)
        };
        assert_eq!((&exact.error, &exact.warning), (&None, &None));
        assert_eq!(with_padding.message.as_deref(), Some("GPdu"));
        assert_eq!(with_padding.detail, "TEID=0x1");
        assert_eq!(with_padding.error, None);
        assert_eq!(
            with_padding.warning.as_deref(),
            Some(
                "GTP-U datagram has 6 octets after the 40-octet message its Length field declares (zero padding); ignored"
            )
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["summary"]["warnings"], 1);
        assert!(json["user_plane"][1]["warning"].as_str().is_some());
    }

    #[test]
    fn a_length_past_the_datagram_still_fails() {
        let mut lying = GPDU_TEID_1;
        lying[3] = 0x21; // declares 41 octets, the datagram has 40
        let report = analyse(&capture(&[&lying]), &[]).unwrap();
        assert_eq!((report.summary.failures, report.summary.warnings), (1, 0));
        assert_eq!(exit_code(&report), ExitCode::FAILURE);
        let error = report.user_plane[0].error.as_deref().unwrap_or_default();
        assert!(error.starts_with("GTP-U decode: truncated"), "{error}");
    }
}
