//! SCTP in captures: every DATA chunk of every packet, over IP (protocol 132) or over
//! UDP (RFC 6951, port 9899 by default), reassembled into user messages.
//!
//! A capture of a live association holds retransmissions and fragments: DATA chunks
//! already seen in a flow (same addresses, ports, verification tag and TSN) are dropped,
//! and fragments (B/E bits, RFC 9260 §6.9) are joined in TSN order per stream.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use hexcore_sctp::wire::{self, Chunk, DataChunk};

use crate::file::Record;
use crate::link::{self, IPPROTO_SCTP, IPPROTO_UDP};

/// How an SCTP packet travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Carrier {
    /// Directly over IP (protocol 132), as kernel SCTP sends it.
    Ip,
    /// Encapsulated in UDP (RFC 6951).
    Udp,
}

/// One complete SCTP user message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SctpMessage {
    /// Capture time of the packet that completed the message (ns since the Unix epoch).
    pub timestamp_ns: u64,
    /// SCTP (not UDP) source and destination: IP address and SCTP port.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub carrier: Carrier,
    pub stream_id: u16,
    /// Payload Protocol Identifier (60 is NGAP, TS 38.412 §7).
    pub ppid: u32,
    /// TSN of the message's first fragment.
    pub tsn: u32,
    pub data: Vec<u8>,
}

/// What the dissector saw besides SCTP messages.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Capture records read.
    pub frames: u64,
    /// SCTP packets (common header parsed).
    pub sctp_packets: u64,
    /// SCTP packets whose CRC32c did not match (still dissected: captures taken on the
    /// sending host often hold packets before the NIC or stack stamped the checksum).
    pub bad_checksums: u64,
    /// DATA chunks, including retransmissions.
    pub data_chunks: u64,
    /// DATA chunks dropped as retransmissions of a TSN already seen.
    pub retransmissions: u64,
    /// SCTP packets or chunks that could not be parsed.
    pub malformed_sctp: u64,
    /// Frames that carry no SCTP, by protocol name ("arp", "tcp", "udp/53", …).
    pub skipped: BTreeMap<String, u64>,
}

/// A UDP datagram of an application the dissector was asked to keep (PFCP on 8805,
/// GTP-U on 2152 by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    /// Capture time (ns since the Unix epoch).
    pub timestamp_ns: u64,
    /// Source address and UDP port.
    pub src: SocketAddr,
    /// Destination address and UDP port.
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// UDP port of PFCP (TS 29.244 §4.2.2).
pub const PFCP_PORT: u16 = 8805;
/// UDP port of GTP-U (TS 29.281 §4.4.2).
pub const GTPU_PORT: u16 = 2152;

/// Turns capture records into SCTP user messages, and keeps the UDP datagrams of the
/// user-plane protocols (PFCP, GTP-U) for [`Dissector::take_datagrams`].
#[derive(Debug)]
pub struct Dissector {
    udp_ports: Vec<u16>,
    app_udp_ports: Vec<u16>,
    datagrams: Vec<UdpDatagram>,
    stats: Stats,
    seen: HashMap<FlowKey, HashSet<u32>>,
    partial: HashMap<(FlowKey, u16, bool), Partial>,
}

/// One direction of one association, as a capture sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FlowKey {
    src: SocketAddr,
    dst: SocketAddr,
    verification_tag: u32,
}

#[derive(Debug)]
struct Partial {
    first_tsn: u32,
    next_tsn: u32,
    ppid: u32,
    data: Vec<u8>,
}

impl Default for Dissector {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl Dissector {
    /// A dissector that treats UDP on port 9899 (RFC 6951 §5) or on any of
    /// `extra_udp_ports`, on either side, as SCTP over UDP.
    pub fn new(extra_udp_ports: &[u16]) -> Self {
        let mut udp_ports = vec![wire::UDP_ENCAPS_PORT];
        udp_ports.extend_from_slice(extra_udp_ports);
        Dissector {
            udp_ports,
            app_udp_ports: vec![PFCP_PORT, GTPU_PORT],
            datagrams: Vec::new(),
            stats: Stats::default(),
            seen: HashMap::new(),
            partial: HashMap::new(),
        }
    }

    /// The PFCP / GTP-U datagrams seen since the last call, in capture order.
    pub fn take_datagrams(&mut self) -> Vec<UdpDatagram> {
        std::mem::take(&mut self.datagrams)
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Dissects one record; returns the user messages it completes.
    pub fn push(&mut self, record: &Record<'_>) -> Vec<SctpMessage> {
        self.stats.frames += 1;
        let ip = match link::ip_packet(record.link_type, record.data) {
            Ok(ip) => ip,
            Err(link::Skip(name)) => {
                self.count_skip(name);
                return Vec::new();
            }
        };
        let (carrier, sctp) = match ip.protocol {
            IPPROTO_SCTP => (Carrier::Ip, ip.payload),
            IPPROTO_UDP => match link::udp(ip.payload) {
                Ok(u) if self.udp_ports.contains(&u.src_port) || self.udp_ports.contains(&u.dst_port) => {
                    (Carrier::Udp, u.payload)
                }
                Ok(u) if self.app_udp_ports.contains(&u.src_port) || self.app_udp_ports.contains(&u.dst_port) => {
                    self.datagrams.push(UdpDatagram {
                        timestamp_ns: record.timestamp_ns,
                        src: SocketAddr::new(ip.src, u.src_port),
                        dst: SocketAddr::new(ip.dst, u.dst_port),
                        payload: u.payload.to_vec(),
                    });
                    return Vec::new();
                }
                Ok(u) => {
                    self.count_skip(format!("udp/{}", u.src_port.min(u.dst_port)));
                    return Vec::new();
                }
                Err(link::Skip(name)) => {
                    self.count_skip(name);
                    return Vec::new();
                }
            },
            6 => {
                self.count_skip("tcp".into());
                return Vec::new();
            }
            other => {
                self.count_skip(format!("ip-proto-{other}"));
                return Vec::new();
            }
        };
        self.sctp_packet(record.timestamp_ns, ip.src, ip.dst, carrier, sctp)
    }

    fn sctp_packet(
        &mut self,
        ts: u64,
        src_ip: IpAddr,
        dst_ip: IpAddr,
        carrier: Carrier,
        bytes: &[u8],
    ) -> Vec<SctpMessage> {
        let packet = match wire::Packet::parse(bytes) {
            Ok(p) => p,
            Err(_) => {
                self.stats.malformed_sctp += 1;
                return Vec::new();
            }
        };
        self.stats.sctp_packets += 1;
        if !packet.checksum_ok() {
            self.stats.bad_checksums += 1;
        }
        let header = packet.header();
        let flow = FlowKey {
            src: SocketAddr::new(src_ip, header.src_port),
            dst: SocketAddr::new(dst_ip, header.dst_port),
            verification_tag: header.verification_tag,
        };
        let mut out = Vec::new();
        for chunk in packet.chunks() {
            match chunk {
                Ok(Chunk::Data(data)) => {
                    self.stats.data_chunks += 1;
                    if let Some(msg) = self.data_chunk(ts, flow, carrier, &data) {
                        out.push(msg);
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    self.stats.malformed_sctp += 1;
                    break;
                }
            }
        }
        out
    }

    fn data_chunk(&mut self, ts: u64, flow: FlowKey, carrier: Carrier, d: &DataChunk<'_>) -> Option<SctpMessage> {
        if !self.seen.entry(flow).or_default().insert(d.tsn) {
            self.stats.retransmissions += 1;
            return None;
        }
        let key = (flow, d.stream_id, d.unordered);
        let complete = match (d.beginning, d.ending) {
            (true, true) => Some((d.tsn, d.ppid, d.payload.to_vec())),
            (true, false) => {
                self.partial.insert(
                    key,
                    Partial {
                        first_tsn: d.tsn,
                        next_tsn: d.tsn.wrapping_add(1),
                        ppid: d.ppid,
                        data: d.payload.to_vec(),
                    },
                );
                None
            }
            (false, ending) => match self.partial.get_mut(&key) {
                Some(p) if p.next_tsn == d.tsn => {
                    p.data.extend_from_slice(d.payload);
                    p.next_tsn = d.tsn.wrapping_add(1);
                    if ending {
                        self.partial.remove(&key).map(|p| (p.first_tsn, p.ppid, p.data))
                    } else {
                        None
                    }
                }
                _ => {
                    // A middle or last fragment whose predecessor this capture lacks.
                    self.stats.malformed_sctp += 1;
                    self.partial.remove(&key);
                    None
                }
            },
        };
        complete.map(|(tsn, ppid, data)| SctpMessage {
            timestamp_ns: ts,
            src: flow.src,
            dst: flow.dst,
            carrier,
            stream_id: d.stream_id,
            ppid,
            tsn,
            data,
        })
    }

    fn count_skip(&mut self, name: String) {
        *self.stats.skipped.entry(name).or_default() += 1;
    }
}

/// Writes SCTP user messages into a pcap as the packets that would carry them, one DATA
/// chunk per packet (LINKTYPE_RAW, IPv4). For simulators and tests that hold messages
/// rather than packets, e.g. when the kernel's SCTP carried them.
#[derive(Debug, Default)]
pub struct Synthesizer {
    next_tsn: HashMap<(SocketAddr, SocketAddr), (u32, HashMap<u16, u16>)>,
}

impl Synthesizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The IP packet for one message. Only IPv4 endpoints are supported; IPv6 ones are
    /// written with the unspecified IPv4 address.
    pub fn packet(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        carrier: Carrier,
        stream_id: u16,
        ppid: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let (tsn, ssns) = self.next_tsn.entry((src, dst)).or_insert((1, HashMap::new()));
        let ssn = ssns.entry(stream_id).or_insert(0);
        let chunk = DataChunk {
            unordered: false,
            beginning: true,
            ending: true,
            immediate: false,
            tsn: *tsn,
            stream_id,
            ssn: *ssn,
            ppid,
            payload: data,
        };
        *tsn = tsn.wrapping_add(1);
        *ssn = ssn.wrapping_add(1);
        let sctp = wire::PacketBuilder::new(src.port(), dst.port(), 0)
            .chunk(&Chunk::Data(chunk))
            .finish();
        let v4 = |a: SocketAddr| match a.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        match carrier {
            Carrier::Ip => link::build_ipv4(v4(src), v4(dst), IPPROTO_SCTP, &sctp),
            Carrier::Udp => {
                let udp = link::build_udp(wire::UDP_ENCAPS_PORT, wire::UDP_ENCAPS_PORT, &sctp);
                link::build_ipv4(v4(src), v4(dst), IPPROTO_UDP, &udp)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LinkType;

    fn record(data: &[u8]) -> Record<'_> {
        Record {
            timestamp_ns: 7,
            link_type: LinkType::Raw,
            data,
            original_len: data.len() as u32,
        }
    }

    fn data_chunk(tsn: u32, stream_id: u16, beginning: bool, ending: bool, payload: &[u8]) -> Chunk<'_> {
        Chunk::Data(DataChunk {
            unordered: false,
            beginning,
            ending,
            immediate: false,
            tsn,
            stream_id,
            ssn: 0,
            ppid: wire::PPID_NGAP,
            payload,
        })
    }

    fn over_ip(chunks: &[Chunk<'_>]) -> Vec<u8> {
        let mut b = wire::PacketBuilder::new(38412, 38412, 0xdead_beef);
        for c in chunks {
            b.push(c);
        }
        link::build_ipv4(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IPPROTO_SCTP,
            &b.finish(),
        )
    }

    #[test]
    fn synthesized_messages_dissect_back_over_both_carriers() {
        let mut synth = Synthesizer::new();
        let gnb: SocketAddr = "127.0.0.1:9487".parse().unwrap();
        let amf: SocketAddr = "127.0.0.5:38412".parse().unwrap();
        let mut d = Dissector::default();
        for (carrier, body) in [(Carrier::Ip, &b"first"[..]), (Carrier::Udp, &b"second"[..])] {
            let pkt = synth.packet(gnb, amf, carrier, 1, 60, body);
            let msgs = d.push(&record(&pkt));
            assert_eq!(msgs.len(), 1);
            assert_eq!(msgs[0].carrier, carrier);
            assert_eq!((msgs[0].src, msgs[0].dst), (gnb, amf));
            assert_eq!((msgs[0].stream_id, msgs[0].ppid), (1, 60));
            assert_eq!(msgs[0].data, body);
        }
        assert_eq!(d.stats().sctp_packets, 2);
        assert_eq!(d.stats().bad_checksums, 0);
    }

    #[test]
    fn bundled_chunks_fragments_and_retransmissions() {
        let mut d = Dissector::default();
        // One packet bundling a whole message and the first fragment of another.
        let p1 = over_ip(&[
            data_chunk(1, 0, true, true, b"whole"),
            data_chunk(2, 1, true, false, b"frag-"),
        ]);
        let msgs = d.push(&record(&p1));
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].data, b"whole");
        // The last fragment completes the second message.
        let p2 = over_ip(&[data_chunk(3, 1, false, true, b"ment")]);
        let msgs = d.push(&record(&p2));
        assert_eq!(msgs.len(), 1);
        assert_eq!((msgs[0].tsn, msgs[0].stream_id), (2, 1));
        assert_eq!(msgs[0].data, b"frag-ment");
        // A retransmission of TSN 1 is not a new message.
        assert!(d.push(&record(&p1)).is_empty());
        assert_eq!(d.stats().retransmissions, 2);
        assert_eq!(d.stats().data_chunks, 5);
    }

    #[test]
    fn orphan_fragment_and_bad_checksum_are_counted() {
        let mut d = Dissector::default();
        let orphan = over_ip(&[data_chunk(9, 0, false, true, b"tail")]);
        assert!(d.push(&record(&orphan)).is_empty());
        assert_eq!(d.stats().malformed_sctp, 1);
        let mut corrupt = over_ip(&[data_chunk(10, 0, true, true, b"x")]);
        let last = corrupt.len() - 4;
        corrupt[last] ^= 0xff; // payload byte: checksum no longer matches
        assert_eq!(d.push(&record(&corrupt)).len(), 1);
        assert_eq!(d.stats().bad_checksums, 1);
    }

    #[test]
    fn other_protocols_are_counted_not_dissected() {
        let mut d = Dissector::new(&[]);
        let dns = link::build_ipv4(
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::LOCALHOST,
            IPPROTO_UDP,
            &link::build_udp(5353, 53, b"q"),
        );
        let tcp = link::build_ipv4(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 6, &[0; 20]);
        assert!(d.push(&record(&dns)).is_empty());
        assert!(d.push(&record(&tcp)).is_empty());
        assert!(d.push(&record(&[0x45])).is_empty());
        let skipped = &d.stats().skipped;
        assert_eq!(skipped.get("udp/53"), Some(&1));
        assert_eq!(skipped.get("tcp"), Some(&1));
        assert_eq!(
            skipped.get("bad-ipv4-header").or(skipped.get("truncated-ipv4")),
            Some(&1)
        );
    }

    #[test]
    fn pfcp_and_gtpu_datagrams_are_kept() {
        let mut d = Dissector::new(&[]);
        let pfcp = link::build_ipv4(
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(127, 0, 0, 2),
            IPPROTO_UDP,
            &link::build_udp(40000, PFCP_PORT, b"\x20\x01\x00\x04"),
        );
        let gtpu = link::build_ipv4(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            IPPROTO_UDP,
            &link::build_udp(GTPU_PORT, GTPU_PORT, b"\x32\x01"),
        );
        assert!(d.push(&record(&pfcp)).is_empty());
        assert!(d.push(&record(&gtpu)).is_empty());
        let got = d.take_datagrams();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].dst, "127.0.0.2:8805".parse().unwrap());
        assert_eq!(got[0].payload, b"\x20\x01\x00\x04");
        assert_eq!(got[1].src, "10.0.0.1:2152".parse().unwrap());
        assert!(d.take_datagrams().is_empty());
        assert!(d.stats().skipped.is_empty());
    }

    #[test]
    fn extra_udp_port_is_sctp_too() {
        let mut synth = Synthesizer::new();
        let pkt = synth.packet(
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.2:2".parse().unwrap(),
            Carrier::Udp,
            0,
            60,
            b"m",
        );
        // Rewrite the UDP ports (IPv4 header is 20 bytes) to 9900.
        let mut pkt = pkt;
        pkt[20..22].copy_from_slice(&9900u16.to_be_bytes());
        pkt[22..24].copy_from_slice(&9900u16.to_be_bytes());
        assert!(Dissector::default().push(&record(&pkt)).is_empty());
        assert_eq!(Dissector::new(&[9900]).push(&record(&pkt)).len(), 1);
    }
}
