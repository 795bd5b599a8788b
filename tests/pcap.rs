//! `hexcore pcap` end to end: a capture written here (a registration ladder over SCTP
//! over IP and over UDP, plus unrelated traffic) is decoded with zero failures, and broken
//! captures are reported with the right exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Output};

use hexcore_capture::link::{IPPROTO_UDP, build_ipv4, build_udp};
use hexcore_capture::{Carrier, LinkType, Synthesizer, Writer};
use hexcore_ngap::procedures::{
    BroadcastPlmn, DownlinkNasTransport, InitialUeMessage, NgSetupRequest, NgSetupResponse, PagingDRX, PlmnSupport,
    RRCEstablishmentCause, ServedGuami, SupportedTa, UeContextReleaseCommand, UeContextReleaseComplete, UeNgapIds,
    UplinkNasTransport, UserLocationNr,
};
use hexcore_ngap::{
    AmfUeNgapId, Cause, CauseNas, GlobalGnbId, GnbId, Guami, NgapPdu, NrCgi, Plmn, RanUeNgapId, SNssai, Tac, Tai,
};

// NAS PDUs of one registration, real bytes as phones and simulators send them; each is
// described, with its source, in core-5g/nas/src/mm.rs where it is decoded field by field.
/// Registration request from UERANSIM: SUCI 999-70 null scheme MSIN 0000000001.
static REG_REQ: [u8; 25] = [
    0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01, 0x99, 0xf9, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x2e, 0x04, 0x80, 0xf0, 0x80, 0xf0,
];
/// Authentication request (5G AKA: ngKSI 0, ABBA 0000, RAND, AUTN).
static AUTH_REQ: [u8; 42] = [
    0x7e, 0x00, 0x56, 0x00, 0x02, 0x00, 0x00, 0x21, 0xfc, 0x64, 0x08, 0x19, 0x53, 0xbb, 0x33, 0xc0, 0x68, 0x2e, 0xdf,
    0x16, 0x90, 0xb2, 0x58, 0x21, 0x20, 0x10, 0x94, 0xbb, 0xaf, 0x40, 0x94, 0x0a, 0x80, 0x00, 0xc6, 0xa7, 0x2c, 0x4e,
    0xfb, 0xaf, 0x03, 0x37,
];
/// Authentication response (RES*).
static AUTH_RESP: [u8; 21] = [
    0x7e, 0x00, 0x57, 0x2d, 0x10, 0x80, 0x3a, 0xdc, 0xac, 0xc3, 0x64, 0xfc, 0x00, 0x0b, 0xdc, 0x0f, 0x65, 0xe3, 0x24,
    0xea, 0xa1,
];
/// Security mode command (integrity protected with new context, type 3).
static SMC: [u8; 21] = [
    0x7e, 0x03, 0x93, 0x77, 0x11, 0xbc, 0x00, 0x7e, 0x03, 0x5d, 0x02, 0x00, 0x04, 0x80, 0xa0, 0x00, 0x00, 0xe1, 0x36,
    0x01, 0x00,
];
/// Security mode complete (type 4: ciphered with new context) from UERANSIM.
static SMC_COMPLETE: [u8; 60] = [
    0x7e, 0x04, 0x22, 0xe4, 0xee, 0x19, 0x00, 0x7e, 0x00, 0x5e, 0x77, 0x00, 0x09, 0x45, 0x73, 0x80, 0x61, 0x21, 0x85,
    0x61, 0x51, 0xf1, 0x71, 0x00, 0x23, 0x7e, 0x00, 0x41, 0x79, 0x00, 0x0d, 0x01, 0x99, 0xf9, 0x07, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x10, 0x01, 0x00, 0x2e, 0x04, 0x80, 0xf0, 0x80, 0xf0, 0x2f, 0x02, 0x01, 0x01,
    0x53, 0x01, 0x00,
];
/// Registration accept (type 2, NEA0).
static REG_ACCEPT: [u8; 53] = [
    0x7e, 0x02, 0x93, 0x0d, 0x75, 0xcf, 0x01, 0x7e, 0x02, 0x42, 0x01, 0x01, 0x77, 0x00, 0x0b, 0x02, 0x02, 0xf8, 0x39,
    0xca, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x01, 0x54, 0x07, 0x00, 0x02, 0xf8, 0x39, 0x00, 0x00, 0x01, 0x15, 0x0a, 0x04,
    0x01, 0x01, 0x02, 0x03, 0x04, 0x01, 0x11, 0x22, 0x33, 0x5e, 0x01, 0x06, 0x16, 0x01, 0x2c,
];
/// Registration complete (type 2).
static REG_COMPLETE: [u8; 10] = [0x7e, 0x02, 0x46, 0x9d, 0x6a, 0x8b, 0x01, 0x7e, 0x00, 0x43];

fn plmn() -> Plmn {
    Plmn::new("999", "70").unwrap()
}

fn location() -> UserLocationNr {
    UserLocationNr {
        nr_cgi: NrCgi {
            plmn: plmn(),
            nr_cell_identity: 0x10,
        },
        tai: Tai {
            plmn: plmn(),
            tac: Tac::from_u32(1),
        },
    }
}

/// The NGAP messages of NG Setup, a registration and a UE context release, in order, with
/// who sends each (true: gNB → AMF).
fn ladder() -> Vec<(bool, NgapPdu)> {
    let amf_id = AmfUeNgapId::new(1).unwrap();
    let ran_id = RanUeNgapId(7);
    let ul = |nas: &[u8]| {
        UplinkNasTransport {
            amf_ue_ngap_id: amf_id,
            ran_ue_ngap_id: ran_id,
            nas_pdu: nas.to_vec(),
            user_location: location(),
        }
        .build()
        .unwrap()
    };
    let dl = |nas: &[u8]| {
        DownlinkNasTransport {
            amf_ue_ngap_id: amf_id,
            ran_ue_ngap_id: ran_id,
            nas_pdu: nas.to_vec(),
        }
        .build()
        .unwrap()
    };
    vec![
        (
            true,
            NgSetupRequest {
                global_gnb_id: GlobalGnbId {
                    plmn: plmn(),
                    gnb_id: GnbId::new(1, 22).unwrap(),
                },
                ran_node_name: Some("hexcore-test-gnb".into()),
                supported_tas: vec![SupportedTa {
                    tac: Tac::from_u32(1),
                    broadcast_plmns: vec![BroadcastPlmn {
                        plmn: plmn(),
                        slices: vec![SNssai { sst: 1, sd: None }],
                    }],
                }],
                default_paging_drx: PagingDRX::v128,
            }
            .build()
            .unwrap(),
        ),
        (
            false,
            NgSetupResponse {
                amf_name: "hexcore-amf".into(),
                served_guamis: vec![ServedGuami {
                    guami: Guami {
                        plmn: plmn(),
                        amf_region_id: 2,
                        amf_set_id: 1,
                        amf_pointer: 0,
                    },
                    backup_amf_name: None,
                }],
                relative_amf_capacity: 255,
                plmn_support: vec![PlmnSupport {
                    plmn: plmn(),
                    slices: vec![SNssai { sst: 1, sd: None }],
                }],
            }
            .build()
            .unwrap(),
        ),
        (
            true,
            InitialUeMessage {
                ran_ue_ngap_id: ran_id,
                nas_pdu: REG_REQ.to_vec(),
                user_location: location(),
                rrc_establishment_cause: RRCEstablishmentCause::mo_Signalling,
                five_g_s_tmsi: None,
                ue_context_requested: true,
            }
            .build()
            .unwrap(),
        ),
        (false, dl(&AUTH_REQ)),
        (true, ul(&AUTH_RESP)),
        (false, dl(&SMC)),
        (true, ul(&SMC_COMPLETE)),
        (false, dl(&REG_ACCEPT)),
        (true, ul(&REG_COMPLETE)),
        (
            false,
            UeContextReleaseCommand {
                ue_ngap_ids: UeNgapIds::Pair(amf_id, ran_id),
                cause: Cause::Nas(CauseNas::NormalRelease),
            }
            .build()
            .unwrap(),
        ),
        (
            true,
            UeContextReleaseComplete {
                amf_ue_ngap_id: amf_id,
                ran_ue_ngap_id: ran_id,
                pdu_session_ids: vec![],
            }
            .build()
            .unwrap(),
        ),
    ]
}

/// Writes the ladder over `carrier`, with a DNS query before it, into `path`.
fn write_capture(path: &Path, carrier: Carrier, extra: &[(bool, Vec<u8>)]) {
    let gnb: SocketAddr = "127.0.0.1:9487".parse().unwrap();
    let amf: SocketAddr = "127.0.0.5:38412".parse().unwrap();
    let mut synth = Synthesizer::new();
    let mut w = Writer::new(std::fs::File::create(path).unwrap(), LinkType::Raw).unwrap();
    let dns = build_ipv4(
        Ipv4Addr::LOCALHOST,
        Ipv4Addr::LOCALHOST,
        IPPROTO_UDP,
        &build_udp(5353, 53, b"query"),
    );
    w.write(1_795_501_088_000_000_000, &dns).unwrap();
    let messages = ladder()
        .into_iter()
        .map(|(up, pdu)| (up, pdu.encode().unwrap()))
        .chain(extra.iter().cloned());
    for (i, (up, bytes)) in messages.enumerate() {
        let (src, dst) = if up { (gnb, amf) } else { (amf, gnb) };
        // UE-associated signalling on stream 1, non-UE-associated on 0 (TS 38.412 §7).
        let stream = u16::from(i > 1);
        let packet = synth.packet(src, dst, carrier, stream, 60, &bytes);
        w.write(1_795_501_088_000_000_000 + (i as u64 + 1) * 1_000_000, &packet)
            .unwrap();
    }
    w.into_inner().unwrap();
}

fn hexcore(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hexcore")).args(args).output().unwrap()
}

#[test]
fn registration_ladder_decodes_with_zero_failures_over_both_carriers() {
    let dir = tempfile::tempdir().unwrap();
    for (carrier, name) in [(Carrier::Ip, "sctp"), (Carrier::Udp, "sctp/udp")] {
        let path = dir.path().join("ladder.pcap");
        write_capture(&path, carrier, &[]);

        let out = hexcore(&["pcap", path.to_str().unwrap()]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 12, "{text}");
        assert!(
            lines[0].contains("NGSetupRequest") && lines[0].contains(&format!("({name})")),
            "{}",
            lines[0]
        );
        assert!(lines[2].contains("InitialUEMessage") && lines[2].contains("Registration request"));
        assert!(lines[2].contains("RAN-UE-NGAP-ID=7") && lines[2].contains("AMF-UE-NGAP-ID=-"));
        assert!(lines[3].contains("DownlinkNASTransport") && lines[3].contains("Authentication request"));
        assert!(lines[3].contains("AMF-UE-NGAP-ID=1"));
        assert!(
            lines[6].contains("ciphered"),
            "security mode complete is type 4: {}",
            lines[6]
        );
        assert!(lines[9].contains("UEContextReleaseCommand"));
        assert!(
            lines[11].contains("11 NGAP messages") && lines[11].contains("0 failures"),
            "{}",
            lines[11]
        );
        assert!(lines[11].contains("udp/53=1"), "{}", lines[11]);

        let out = hexcore(&["pcap", "--json", path.to_str().unwrap()]);
        assert!(out.status.success());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["summary"]["failures"], 0);
        assert_eq!(json["summary"]["ngap_messages"], 11);
        assert_eq!(json["summary"]["nas_messages"], 7);
        assert_eq!(json["messages"][2]["message"], "InitialUEMessage");
        assert_eq!(json["messages"][2]["ran_ue_ngap_id"], 7);
        assert_eq!(json["messages"][0]["carrier"], name);
    }
}

#[test]
fn undecodable_ngap_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.pcap");
    // A DownlinkNASTransport cut short: the PER length promises more than is there.
    let mut cut = ladder()[3].1.encode().unwrap();
    cut.truncate(cut.len() / 2);
    write_capture(&path, Carrier::Udp, &[(false, cut), (true, vec![0xff; 5])]);
    let out = hexcore(&["pcap", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["failures"], 2);
    assert_eq!(json["summary"]["ngap_messages"], 13);
    assert!(
        json["messages"][11]["error"]
            .as_str()
            .unwrap()
            .starts_with("NGAP decode")
    );
}

#[test]
fn unreadable_or_foreign_files_exit_2() {
    let out = hexcore(&["pcap", "/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not a capture at all").unwrap();
    let out = hexcore(&["pcap", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pcap or pcapng file"));
}

#[test]
fn truncated_capture_is_a_failure_after_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.pcap");
    write_capture(&path, Carrier::Ip, &[]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    let out = hexcore(&["pcap", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["ngap_messages"], 10);
    assert!(json["summary"]["file_error"].as_str().unwrap().contains("truncated"));
}

// Heartbeat Request, go-pfcp message/heartbeat-request_test.go (MIT).
static PFCP_HEARTBEAT_REQUEST: [u8; 16] = [
    0x20, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x00, 0x04, 0xdf, 0xd5, 0x2c, 0x00,
];
// srsRAN Project tests/unittests/gtpu/gtpu_test_shared.h gtpu_ping_ext_vec: a G-PDU to
// TEID 1 with a DL PDU Session Container (QFI 1) around an ICMP echo reply.
static GTPU_PING_EXT: [u8; 100] = [
    0x34, 0xff, 0x00, 0x5c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x85, 0x01, 0x00, 0x01, 0x00, 0x45, 0x00, 0x00,
    0x54, 0x1f, 0x6c, 0x00, 0x00, 0x40, 0x01, 0x46, 0x9c, 0x0a, 0x2d, 0x00, 0x01, 0x0a, 0x2d, 0x00, 0x47, 0x00, 0x00,
    0x86, 0xb0, 0x00, 0x04, 0x00, 0x0d, 0x01, 0x70, 0xc1, 0x63, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x97, 0x07, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32,
    0x33, 0x34, 0x35, 0x36, 0x37,
];
// go-gtp (MIT) gtpv1/message/error-indication_test.go: TEID Data I 0xdeadbeef, peer 1.1.1.1.
static GTPU_ERROR_INDICATION: [u8; 24] = [
    0x32, 0x1a, 0x00, 0x10, 0x11, 0x22, 0x33, 0x44, 0x00, 0x01, 0x00, 0x00, 0x10, 0xde, 0xad, 0xbe, 0xef, 0x85, 0x00,
    0x04, 0x01, 0x01, 0x01, 0x01,
];

/// PFCP (N4) and GTP-U (N3) datagrams, as IPv4/UDP frames.
fn write_user_plane_capture(path: &Path, datagrams: &[(u16, u16, &[u8])]) {
    let mut w = Writer::new(std::fs::File::create(path).unwrap(), LinkType::Raw).unwrap();
    for (i, (sport, dport, payload)) in datagrams.iter().enumerate() {
        let frame = build_ipv4(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IPPROTO_UDP,
            &build_udp(*sport, *dport, payload),
        );
        w.write(1_795_501_088_000_000_000 + i as u64 * 1000, &frame).unwrap();
    }
    w.into_inner().unwrap();
}

#[test]
fn pfcp_and_gtpu_decode_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n3n4.pcap");
    // Two PFCP messages bundled in one datagram (FO flag, TS 29.244 §7.2.2.1).
    let mut bundled = PFCP_HEARTBEAT_REQUEST.to_vec();
    bundled[0] |= 0x04;
    bundled.extend_from_slice(&PFCP_HEARTBEAT_REQUEST);
    write_user_plane_capture(
        &path,
        &[
            (40000, 8805, &PFCP_HEARTBEAT_REQUEST),
            (8805, 40000, &bundled),
            (2152, 2152, &GTPU_PING_EXT),
            (2152, 2152, &GTPU_ERROR_INDICATION),
        ],
    );
    let out = hexcore(&["pcap", "--json", path.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{json:#}");
    assert_eq!(json["summary"]["failures"], 0);
    assert_eq!(json["summary"]["pfcp_messages"], 3);
    assert_eq!(json["summary"]["gtpu_messages"], 2);
    let up = json["user_plane"].as_array().unwrap();
    assert_eq!(up[0]["protocol"], "pfcp");
    assert_eq!(up[0]["message"], "HeartbeatRequest");
    assert_eq!(up[3]["message"], "GPdu");
    assert_eq!(up[3]["detail"], "TEID=0x1 QFI=1");
    assert_eq!(up[4]["message"], "ErrorIndication");
    let text = String::from_utf8(hexcore(&["pcap", path.to_str().unwrap()]).stdout).unwrap();
    assert!(text.contains("3 PFCP messages, 2 GTP-U messages, 0 failures"), "{text}");

    // Broken ones fail the run: a cut PFCP message, a G-PDU whose length lies.
    let mut cut_gtpu = GTPU_PING_EXT.to_vec();
    cut_gtpu.truncate(40);
    write_user_plane_capture(
        &path,
        &[(40000, 8805, &PFCP_HEARTBEAT_REQUEST[..10]), (2152, 2152, &cut_gtpu)],
    );
    let out = hexcore(&["pcap", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["failures"], 2);
    assert!(
        json["user_plane"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("PFCP decode")
    );
    assert!(
        json["user_plane"][1]["error"]
            .as_str()
            .unwrap()
            .starts_with("GTP-U decode")
    );
}
