//! The per-packet work, as pure functions over compiled rule [`Tables`]: find the
//! PDR of a packet, apply its FAR, QERs and URRs, and say what to do with it. No
//! socket, no clock read (`now` comes in), no allocation on the forwarding path.
//!
//! ```text
//!  N3 datagram ──► uplink(): TEID → PDRs by precedence (QFI, UE source, SDF)
//!                  ──► FAR (FORW/DROP/BUFF) ──► QER gate + MBR ──► URR quota + count
//!                  ──► Uplink::ToN6 { T-PDU range }            (or ToTunnel for N9)
//!  TUN packet  ──► downlink(): UE IP → PDRs by precedence (SDF)
//!                  ──► FAR ──► QER ──► URR ──► GTP-U header written in place
//!                  ──► Downlink::ToN3 { frame range, gNB }     (or Buffered)
//! ```
//!
//! **What is counted** (TS 29.244 §5.2.2; the same convention as Open5GS's UPF,
//! `upf_sess_urr_acc_add(…, pkbuf->len)` on the T-PDU once the GTP-U header is
//! pulled (uplink) and on the packet read from its TUN (downlink), and free5GC's
//! gtp5g, whose URR volume is the skb length with the outer headers pulled): the
//! octets of the T-PDU — the user's own IP packet, without the outer IPv4/UDP/GTP-U
//! headers and extension headers — in both directions, and one packet per T-PDU.
//! A packet is counted when it is forwarded (after the FAR, the gate, the MBR and
//! the quota let it through); a dropped packet is not counted; a buffered one is
//! counted when it is flushed. If the send then fails, the glue gives the count
//! back ([`Charge::refund`]), so a report holds exactly what left the UPF.
//!
//! Counters are monotonic atomics per URR ([`UrrShared`]); the control side keeps
//! what it last reported and reports the difference. Quotas are budgets the data
//! path spends with a compare-and-swap, so two workers can never overspend one.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hexcore_gtpu::{GtpuError, MAX_ENCAP_HEADER_LEN, encap_in_place, parse_gpdu};

use crate::ids::{FarId, PdrId, QerId, Seid, UrrId};
use crate::packet::{IpView, ipv4_dst, ipv6_dst_prefix};
use crate::sdf::SdfRule;

/// A hash map keyed by TEIDs and addresses: a multiplicative hash (the keys come
/// from the SMF and our own allocator, not from an attacker who could insert them).
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// The hasher of [`FastMap`].
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// Uplink (from the UE, N3 → N6) or downlink (N6 → N3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the UE.
    Uplink,
    /// To the UE.
    Downlink,
}

/// The compiled rules of every session, published to the workers as one
/// immutable snapshot (see [`crate::control::UpfControl::tables`]).
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// Uplink PDRs by local TEID, by precedence.
    pub uplink: FastMap<u32, Arc<[Pdr]>>,
    /// Downlink PDRs by UE IPv4 address, by precedence.
    pub downlink_v4: FastMap<u32, Arc<[Pdr]>>,
    /// Downlink PDRs by the UE's IPv6 /64 prefix, by precedence.
    pub downlink_v6: FastMap<u64, Arc<[Pdr]>>,
}

/// A PDR as the data path uses it: the match criteria, and its FAR, URRs and QERs
/// resolved. The PDRs of one lookup key sit in one allocation (one cache miss
/// fewer per packet than a list of pointers).
#[derive(Debug, Clone)]
pub struct Pdr {
    /// The session's local SEID.
    pub seid: Seid,
    /// PDR ID.
    pub id: PdrId,
    /// Precedence (lower first).
    pub precedence: u32,
    /// QFIs to match (uplink); empty = any.
    pub qfis: Vec<u8>,
    /// SDF filters; empty = any packet, else any one must match.
    pub sdf: Vec<SdfRule>,
    /// The UE's IPv4 address: an uplink packet must come from it.
    pub ue_ipv4: Option<u32>,
    /// The UE's IPv6 /64 prefix: an uplink packet must come from it.
    pub ue_ipv6_prefix: Option<u64>,
    /// The FAR.
    pub far: Far,
    /// The URRs (measured in this order).
    pub urrs: Vec<Arc<UrrShared>>,
    /// The QERs.
    pub qers: Vec<Arc<QerShared>>,
    /// The session's downlink buffer.
    pub buffer: Arc<DlBuffer>,
}

/// A FAR as the data path uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Far {
    /// FAR ID.
    pub id: FarId,
    /// What to do.
    pub action: FarAction,
}

/// Apply Action (TS 29.244 §8.2.26), reduced to what the data path does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FarAction {
    /// FORW: to N6 (no tunnel) or into a GTP-U tunnel (Outer Header Creation).
    Forward {
        /// Outer Header Creation GTP-U/UDP/IP: the peer's TEID and address.
        tunnel: Option<Tunnel>,
    },
    /// DROP.
    Drop,
    /// BUFF, with NOCP: tell the CP function of the first packet.
    Buffer {
        /// NOCP.
        notify: bool,
    },
}

/// A GTP-U tunnel endpoint of a peer (a gNB, another UPF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// The peer's TEID.
    pub teid: u32,
    /// The peer's address (port 2152).
    pub peer: SocketAddr,
}

/// Why a packet was dropped (the `reason` label of the drop metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Not a valid G-PDU or IP packet.
    Malformed,
    /// A comprehension-required GTP-U extension header we do not know (§5.2.1).
    UnsupportedExtensionHeader,
    /// No session for the UE address (downlink).
    NoSession,
    /// A session, but no PDR matched (QFI, source address, SDF).
    NoPdr,
    /// The FAR says DROP.
    FarDrop,
    /// FORW towards the access side without a tunnel yet.
    NoTunnel,
    /// A QER gate is closed.
    GateClosed,
    /// Over a QER's MBR.
    Mbr,
    /// A URR's volume or time quota is exhausted.
    Quota,
    /// The session's downlink buffer is full.
    BufferFull,
    /// Buffered packets discarded (DROBU, the FAR became DROP, the session went).
    BufferDiscarded,
    /// The kernel refused the send or write.
    SendFailed,
}

impl DropReason {
    /// Every reason, for metrics.
    pub const ALL: [DropReason; 12] = [
        DropReason::Malformed,
        DropReason::UnsupportedExtensionHeader,
        DropReason::NoSession,
        DropReason::NoPdr,
        DropReason::FarDrop,
        DropReason::NoTunnel,
        DropReason::GateClosed,
        DropReason::Mbr,
        DropReason::Quota,
        DropReason::BufferFull,
        DropReason::BufferDiscarded,
        DropReason::SendFailed,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Malformed => "malformed",
            DropReason::UnsupportedExtensionHeader => "unsupported_extension_header",
            DropReason::NoSession => "no_session",
            DropReason::NoPdr => "no_pdr",
            DropReason::FarDrop => "far_drop",
            DropReason::NoTunnel => "no_tunnel",
            DropReason::GateClosed => "gate_closed",
            DropReason::Mbr => "mbr",
            DropReason::Quota => "quota",
            DropReason::BufferFull => "buffer_full",
            DropReason::BufferDiscarded => "buffer_discarded",
            DropReason::SendFailed => "send_failed",
        }
    }

    /// Index into [`DropReason::ALL`].
    pub fn index(self) -> usize {
        DropReason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// What the data path tells the control side (rarely: once per buffering period,
/// once per threshold crossing or quota exhaustion).
///
/// The control side must see every notice: it looks at a URR only when told (or when
/// one of its timers is due), never by scanning. The glue's channel is therefore
/// unbounded, and stays short: a URR notifies only when its attention flag goes from
/// clear to set, and only the control side clears it ([`UrrShared::take_attention`]),
/// when it looks at the URR (on a notice or at its timer) — one notice per look at
/// most; a session notifies once per buffering period, which only the control side
/// ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The first downlink packet of a buffering period hit a BUFF+NOCP FAR.
    DownlinkBuffered {
        /// Local SEID.
        seid: Seid,
        /// The PDR it matched.
        pdr_id: PdrId,
        /// Its QFI, if a QER gives one.
        qfi: Option<u8>,
    },
    /// A URR reached a volume threshold or ran out of quota.
    Urr {
        /// Local SEID.
        seid: Seid,
        /// URR ID.
        urr_id: UrrId,
    },
}

/// What to do with an uplink datagram.
#[derive(Debug)]
pub enum Uplink<'t> {
    /// Write the T-PDU at `payload` (a range of the datagram) to N6.
    ToN6 {
        /// The inner packet: the T-PDU the GTP-U Length field declares. Octets after
        /// it in the datagram (padding some gNBs add) are not part of it: the worker
        /// sees them as `payload.end < datagram.len()` and counts them.
        payload: Range<usize>,
        /// What was counted for it.
        charge: Charge<'t>,
    },
    /// Forward the T-PDU over GTP-U (N9, an uplink FAR with Outer Header Creation).
    ToTunnel {
        /// The inner packet, as for [`Uplink::ToN6`].
        payload: Range<usize>,
        /// Where to.
        tunnel: Tunnel,
        /// What was counted.
        charge: Charge<'t>,
    },
    /// Dropped.
    Dropped(DropReason),
    /// A G-PDU for a TEID no session has (§7.3.1: answer with an Error Indication).
    UnknownTeid {
        /// The TEID.
        teid: u32,
    },
    /// A GTP-U signalling message (Echo, Error Indication, End Marker…).
    Signalling,
}

/// What to do with a downlink packet.
#[derive(Debug)]
pub enum Downlink<'t> {
    /// Send the G-PDU at `frame` (a range of the buffer) to `peer`.
    ToN3 {
        /// The datagram.
        frame: Range<usize>,
        /// The gNB (or the next UPF).
        peer: SocketAddr,
        /// What was counted.
        charge: Charge<'t>,
    },
    /// Copied into the session's buffer.
    Buffered,
    /// Dropped.
    Dropped(DropReason),
}

/// The usage a forwarded packet was charged to: give it back if the send fails.
#[derive(Debug, Clone, Copy)]
pub struct Charge<'t> {
    pdr: &'t Pdr,
    direction: Direction,
    len: u64,
}

impl Charge<'_> {
    /// The T-PDU's length (the octets counted).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was counted (never: a T-PDU has a header).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The packet did not leave: take its count and quota spend back.
    pub fn refund(self) {
        for u in &self.pdr.urrs {
            u.refund(self.direction, self.len);
        }
    }
}

/// Process one uplink datagram from N3.
#[inline]
pub fn uplink<'t>(tables: &'t Tables, now: Instant, datagram: &[u8], notify: &mut impl FnMut(Notice)) -> Uplink<'t> {
    let g = match parse_gpdu(datagram) {
        Ok(g) => g,
        Err(GtpuError::NotGpdu(_)) => return Uplink::Signalling,
        Err(GtpuError::UnsupportedExtensionHeader(_)) => {
            return Uplink::Dropped(DropReason::UnsupportedExtensionHeader);
        }
        Err(_) => return Uplink::Dropped(DropReason::Malformed),
    };
    let Some(pdrs) = tables.uplink.get(&g.teid) else {
        return Uplink::UnknownTeid { teid: g.teid };
    };
    let Some(inner) = datagram.get(g.payload.clone()) else {
        return Uplink::Dropped(DropReason::Malformed);
    };
    let Some(src) = Source::of(inner) else {
        return Uplink::Dropped(DropReason::Malformed);
    };
    // The full header (ports, protocol) only when an SDF filter needs it.
    let ip = if pdrs.iter().any(|p| !p.sdf.is_empty()) {
        let Some(ip) = IpView::parse(inner) else {
            return Uplink::Dropped(DropReason::Malformed);
        };
        Some(ip)
    } else {
        None
    };
    let Some(pdr) = pdrs.iter().find(|p| p.matches_uplink(g.qfi, src, ip.as_ref())) else {
        return Uplink::Dropped(DropReason::NoPdr);
    };
    let len = inner.len() as u64;
    let tunnel = match pdr.far.action {
        FarAction::Forward { tunnel } => tunnel,
        FarAction::Drop => return Uplink::Dropped(DropReason::FarDrop),
        // Buffering is for the downlink (TS 23.502 §4.2.3.3); an uplink packet
        // meeting a BUFF FAR has nowhere to wait.
        FarAction::Buffer { .. } => return Uplink::Dropped(DropReason::FarDrop),
    };
    if let Err(reason) = pdr.police(now, Direction::Uplink, len) {
        return Uplink::Dropped(reason);
    }
    let charge = match pdr.charge(Direction::Uplink, len, notify) {
        Ok(c) => c,
        Err(reason) => return Uplink::Dropped(reason),
    };
    match tunnel {
        None => Uplink::ToN6 {
            payload: g.payload,
            charge,
        },
        Some(tunnel) => Uplink::ToTunnel {
            payload: g.payload,
            tunnel,
            charge,
        },
    }
}

/// Process one downlink packet from N6: the IP packet is `buf[start..start +
/// len]`, with at least [`MAX_ENCAP_HEADER_LEN`] octets of headroom before it where
/// the GTP-U header is written.
#[inline]
pub fn downlink<'t>(
    tables: &'t Tables,
    now: Instant,
    buf: &mut [u8],
    start: usize,
    len: usize,
    notify: &mut impl FnMut(Notice),
) -> Downlink<'t> {
    let Some(packet) = start.checked_add(len).and_then(|end| buf.get(start..end)) else {
        return Downlink::Dropped(DropReason::Malformed);
    };
    let pdrs = if let Some(dst) = ipv4_dst(packet) {
        tables.downlink_v4.get(&dst)
    } else if let Some(prefix) = ipv6_dst_prefix(packet) {
        tables.downlink_v6.get(&prefix)
    } else {
        return Downlink::Dropped(DropReason::Malformed);
    };
    let Some(pdrs) = pdrs else {
        return Downlink::Dropped(DropReason::NoSession);
    };
    let pdr = if pdrs.iter().all(|p| p.sdf.is_empty()) {
        pdrs.first()
    } else {
        let Some(ip) = IpView::parse(packet) else {
            return Downlink::Dropped(DropReason::Malformed);
        };
        pdrs.iter().find(|p| p.matches_downlink(&ip))
    };
    let Some(pdr) = pdr else {
        return Downlink::Dropped(DropReason::NoPdr);
    };
    let tunnel = match pdr.far.action {
        FarAction::Forward { tunnel: Some(t) } => t,
        FarAction::Forward { tunnel: None } => return Downlink::Dropped(DropReason::NoTunnel),
        FarAction::Drop => return Downlink::Dropped(DropReason::FarDrop),
        FarAction::Buffer { notify: nocp } => {
            return match pdr.buffer.push(packet) {
                Push::Stored { first } => {
                    if first && nocp {
                        notify(Notice::DownlinkBuffered {
                            seid: pdr.seid,
                            pdr_id: pdr.id,
                            qfi: pdr.qfi(),
                        });
                    }
                    Downlink::Buffered
                }
                Push::Full => Downlink::Dropped(DropReason::BufferFull),
            };
        }
    };
    let len = len as u64;
    if let Err(reason) = pdr.police(now, Direction::Downlink, len) {
        return Downlink::Dropped(reason);
    }
    let charge = match pdr.charge(Direction::Downlink, len, notify) {
        Ok(c) => c,
        Err(reason) => return Downlink::Dropped(reason),
    };
    // TS 29.281 §5.2.2.7 / TS 38.415 §5.5.2.1: the DL PDU Session Container carries
    // the QFI the QER gives (TS 29.244 §5.4.1).
    match encap_in_place(buf, start, len as usize, tunnel.teid, pdr.qfi()) {
        Ok(frame) => Downlink::ToN3 {
            frame,
            peer: tunnel.peer,
            charge,
        },
        Err(_) => {
            charge.refund();
            Downlink::Dropped(DropReason::Malformed)
        }
    }
}

/// The source of an uplink packet, read the cheap way.
#[derive(Debug, Clone, Copy)]
enum Source {
    V4(u32),
    /// The /64 prefix.
    V6(u64),
}

impl Source {
    #[inline]
    fn of(p: &[u8]) -> Option<Source> {
        match p.first()? >> 4 {
            4 if p.len() >= 20 => Some(Source::V4(u32::from_be_bytes([p[12], p[13], p[14], p[15]]))),
            6 if p.len() >= 40 => Some(Source::V6(u64::from_be_bytes(p[8..16].try_into().ok()?))),
            _ => None,
        }
    }
}

/// Headroom to leave before a downlink packet.
pub const HEADROOM: usize = MAX_ENCAP_HEADER_LEN;

impl Pdr {
    fn matches_uplink(&self, qfi: Option<u8>, src: Source, ip: Option<&IpView>) -> bool {
        if !self.qfis.is_empty() && !qfi.is_some_and(|q| self.qfis.contains(&q)) {
            return false;
        }
        // TS 29.244 §5.2.1: a UE IP Address in an uplink PDI is the source address.
        match src {
            Source::V4(a) => {
                if self.ue_ipv4.is_some_and(|ue| ue != a) {
                    return false;
                }
            }
            Source::V6(prefix) => {
                if self.ue_ipv6_prefix.is_some_and(|p| p != prefix) {
                    return false;
                }
            }
        }
        self.sdf.is_empty() || ip.is_some_and(|ip| self.sdf.iter().any(|f| f.matches_uplink(ip)))
    }

    fn matches_downlink(&self, ip: &IpView) -> bool {
        self.sdf.is_empty() || self.sdf.iter().any(|f| f.matches_downlink(ip))
    }

    /// The QFI for the PDU Session Container: the first QER's that has one.
    pub fn qfi(&self) -> Option<u8> {
        self.qers.iter().find_map(|q| q.qfi)
    }

    /// Gates and MBRs of the QERs.
    fn police(&self, now: Instant, dir: Direction, len: u64) -> Result<(), DropReason> {
        for q in &self.qers {
            let (open, bucket) = match dir {
                Direction::Uplink => (q.gate_uplink_open, &q.mbr_uplink),
                Direction::Downlink => (q.gate_downlink_open, &q.mbr_downlink),
            };
            if !open {
                return Err(DropReason::GateClosed);
            }
            if let Some(b) = bucket
                && !b.take(now, len)
            {
                return Err(DropReason::Mbr);
            }
        }
        Ok(())
    }

    /// Spend quota and count on every URR, all or none.
    fn charge(&self, dir: Direction, len: u64, notify: &mut impl FnMut(Notice)) -> Result<Charge<'_>, DropReason> {
        for (i, u) in self.urrs.iter().enumerate() {
            if !u.admit(dir, len) {
                for done in &self.urrs[..i] {
                    done.unadmit(dir, len);
                }
                if !u.attention.swap(true, Ordering::AcqRel) {
                    notify(Notice::Urr {
                        seid: self.seid,
                        urr_id: u.id,
                    });
                }
                return Err(DropReason::Quota);
            }
        }
        for u in &self.urrs {
            if u.count(dir, len) && !u.attention.swap(true, Ordering::AcqRel) {
                notify(Notice::Urr {
                    seid: self.seid,
                    urr_id: u.id,
                });
            }
        }
        Ok(Charge {
            pdr: self,
            direction: dir,
            len,
        })
    }
}

/// Counted octets and packets (monotonic, or a difference of two readings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Uplink octets.
    pub uplink_octets: u64,
    /// Downlink octets.
    pub downlink_octets: u64,
    /// Uplink packets.
    pub uplink_packets: u64,
    /// Downlink packets.
    pub downlink_packets: u64,
}

impl Counts {
    /// Uplink + downlink octets.
    pub fn total_octets(&self) -> u64 {
        self.uplink_octets.saturating_add(self.downlink_octets)
    }

    /// Uplink + downlink packets.
    pub fn total_packets(&self) -> u64 {
        self.uplink_packets.saturating_add(self.downlink_packets)
    }

    /// `self - earlier`, field by field (never below zero).
    pub fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            uplink_octets: self.uplink_octets.saturating_sub(earlier.uplink_octets),
            downlink_octets: self.downlink_octets.saturating_sub(earlier.downlink_octets),
            uplink_packets: self.uplink_packets.saturating_sub(earlier.uplink_packets),
            downlink_packets: self.downlink_packets.saturating_sub(earlier.downlink_packets),
        }
    }

    /// Field-by-field sum.
    pub fn plus(&self, o: &Counts) -> Counts {
        Counts {
            uplink_octets: self.uplink_octets.saturating_add(o.uplink_octets),
            downlink_octets: self.downlink_octets.saturating_add(o.downlink_octets),
            uplink_packets: self.uplink_packets.saturating_add(o.uplink_packets),
            downlink_packets: self.downlink_packets.saturating_add(o.downlink_packets),
        }
    }

    /// Nothing counted.
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// No threshold / no quota.
pub const UNLIMITED: u64 = u64::MAX;

/// The part of a URR the workers touch: counters, thresholds and quota budgets,
/// all atomics. The control side owns the rest ([`crate::control`]).
#[derive(Debug)]
pub struct UrrShared {
    /// Local SEID of the session.
    pub seid: Seid,
    /// URR ID.
    pub id: UrrId,
    // Monotonic counters: octets UL, DL; packets UL, DL.
    octets: [AtomicU64; 2],
    packets: [AtomicU64; 2],
    /// Volume threshold targets as absolute counter values: total, UL, DL.
    thresholds: [AtomicU64; 3],
    /// Remaining volume quota: total, UL, DL.
    budgets: [AtomicU64; 3],
    /// A quota is exhausted: drop the URR's traffic until a new one comes.
    exhausted: AtomicBool,
    /// The control side should look at this URR (threshold crossed, quota out).
    /// Set by the data path when it sends a [`Notice::Urr`], cleared by the control
    /// side when it looks: one notice per transition.
    attention: AtomicBool,
}

impl UrrShared {
    /// A URR with no threshold and no quota.
    pub fn new(seid: Seid, id: UrrId) -> Self {
        UrrShared {
            seid,
            id,
            octets: [AtomicU64::new(0), AtomicU64::new(0)],
            packets: [AtomicU64::new(0), AtomicU64::new(0)],
            thresholds: [
                AtomicU64::new(UNLIMITED),
                AtomicU64::new(UNLIMITED),
                AtomicU64::new(UNLIMITED),
            ],
            budgets: [
                AtomicU64::new(UNLIMITED),
                AtomicU64::new(UNLIMITED),
                AtomicU64::new(UNLIMITED),
            ],
            exhausted: AtomicBool::new(false),
            attention: AtomicBool::new(false),
        }
    }

    /// The counters now.
    pub fn counts(&self) -> Counts {
        Counts {
            uplink_octets: self.octets[0].load(Ordering::Acquire),
            downlink_octets: self.octets[1].load(Ordering::Acquire),
            uplink_packets: self.packets[0].load(Ordering::Acquire),
            downlink_packets: self.packets[1].load(Ordering::Acquire),
        }
    }

    /// Set the threshold targets (absolute counter values; [`UNLIMITED`] = none).
    pub fn set_thresholds(&self, total: u64, uplink: u64, downlink: u64) {
        self.thresholds[0].store(total, Ordering::Release);
        self.thresholds[1].store(uplink, Ordering::Release);
        self.thresholds[2].store(downlink, Ordering::Release);
    }

    /// Set the remaining quotas ([`UNLIMITED`] = none) and lift an exhaustion.
    pub fn set_budgets(&self, total: u64, uplink: u64, downlink: u64) {
        self.budgets[0].store(total, Ordering::Release);
        self.budgets[1].store(uplink, Ordering::Release);
        self.budgets[2].store(downlink, Ordering::Release);
        self.exhausted.store(false, Ordering::Release);
    }

    /// Remaining quotas: total, UL, DL.
    pub fn budgets(&self) -> [u64; 3] {
        [
            self.budgets[0].load(Ordering::Acquire),
            self.budgets[1].load(Ordering::Acquire),
            self.budgets[2].load(Ordering::Acquire),
        ]
    }

    /// Stop (or resume) this URR's traffic: quota exhausted (TS 29.244 §5.2.2.2.1).
    pub fn set_exhausted(&self, on: bool) {
        self.exhausted.store(on, Ordering::Release);
    }

    /// Is a quota exhausted?
    pub fn is_exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Acquire)
    }

    /// Take and clear the attention flag.
    pub fn take_attention(&self) -> bool {
        self.attention.swap(false, Ordering::AcqRel)
    }

    fn dir_index(dir: Direction) -> usize {
        match dir {
            Direction::Uplink => 0,
            Direction::Downlink => 1,
        }
    }

    /// Spend `len` of the direction's and the total budget; false (and exhausted)
    /// if either cannot pay.
    fn admit(&self, dir: Direction, len: u64) -> bool {
        if self.exhausted.load(Ordering::Acquire) {
            return false;
        }
        let d = 1 + Self::dir_index(dir);
        if !spend(&self.budgets[d], len) {
            self.exhausted.store(true, Ordering::Release);
            return false;
        }
        if !spend(&self.budgets[0], len) {
            give_back(&self.budgets[d], len);
            self.exhausted.store(true, Ordering::Release);
            return false;
        }
        true
    }

    fn unadmit(&self, dir: Direction, len: u64) {
        give_back(&self.budgets[1 + Self::dir_index(dir)], len);
        give_back(&self.budgets[0], len);
    }

    /// Count a packet; true if it crossed a threshold.
    fn count(&self, dir: Direction, len: u64) -> bool {
        let d = Self::dir_index(dir);
        let before = self.octets[d].fetch_add(len, Ordering::AcqRel);
        self.packets[d].fetch_add(1, Ordering::AcqRel);
        let after = before + len;
        let other = self.octets[1 - d].load(Ordering::Acquire);
        let crossed = |target: u64, before: u64, after: u64| target != UNLIMITED && before < target && after >= target;
        crossed(self.thresholds[1 + d].load(Ordering::Acquire), before, after)
            || crossed(
                self.thresholds[0].load(Ordering::Acquire),
                before + other,
                after + other,
            )
    }

    fn refund(&self, dir: Direction, len: u64) {
        let d = Self::dir_index(dir);
        self.octets[d].fetch_sub(len, Ordering::AcqRel);
        self.packets[d].fetch_sub(1, Ordering::AcqRel);
        self.unadmit(dir, len);
    }
}

/// Spend `len` from a budget, unless it is [`UNLIMITED`] or too small.
fn spend(budget: &AtomicU64, len: u64) -> bool {
    // The common case, no quota, without a read-modify-write.
    if budget.load(Ordering::Acquire) == UNLIMITED {
        return true;
    }
    budget
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
            if b == UNLIMITED { Some(b) } else { b.checked_sub(len) }
        })
        .is_ok()
}

fn give_back(budget: &AtomicU64, len: u64) {
    if budget.load(Ordering::Acquire) == UNLIMITED {
        return;
    }
    let _ = budget.fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
        if b == UNLIMITED {
            None
        } else {
            Some(b.saturating_add(len))
        }
    });
}

/// A QER as the data path uses it.
#[derive(Debug)]
pub struct QerShared {
    /// QER ID.
    pub id: QerId,
    /// Uplink gate open.
    pub gate_uplink_open: bool,
    /// Downlink gate open.
    pub gate_downlink_open: bool,
    /// QFI for the downlink PDU Session Container.
    pub qfi: Option<u8>,
    /// Uplink MBR.
    pub mbr_uplink: Option<TokenBucket>,
    /// Downlink MBR.
    pub mbr_downlink: Option<TokenBucket>,
}

/// A token bucket policing a bit rate (the MBR of a QER, TS 29.244 §5.4.1 / TS
/// 23.501 §5.7.2.5): a burst of 100 ms of the rate (at least 3000 octets).
#[derive(Debug)]
pub struct TokenBucket {
    /// Octets per second.
    rate: u64,
    /// Bucket size, octets.
    burst: u64,
    state: Mutex<(u64, Option<Instant>)>,
}

impl TokenBucket {
    /// A bucket for `kbps` (the unit of the MBR IE, §8.2.8), full.
    pub fn new(kbps: u64) -> Self {
        let rate = kbps.saturating_mul(1000) / 8;
        let burst = (rate / 10).max(3000);
        TokenBucket {
            rate,
            burst,
            state: Mutex::new((burst, None)),
        }
    }

    /// Take `len` octets if the bucket has them.
    pub fn take(&self, now: Instant, len: u64) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return true;
        };
        let (tokens, last) = &mut *s;
        if let Some(t) = *last {
            let nanos = now.saturating_duration_since(t).as_nanos();
            let add = (nanos * u128::from(self.rate) / 1_000_000_000) as u64;
            if add > 0 {
                *tokens = tokens.saturating_add(add).min(self.burst);
                *last = Some(now);
            }
        } else {
            *last = Some(now);
        }
        if *tokens >= len {
            *tokens -= len;
            true
        } else {
            false
        }
    }
}

/// A session's downlink buffer (BUFF, TS 29.244 §5.2.3): packets kept in arrival
/// order, bounded in packets and octets; overflow is dropped and counted.
#[derive(Debug)]
pub struct DlBuffer {
    limit_packets: usize,
    limit_octets: usize,
    inner: Mutex<BufferInner>,
}

#[derive(Debug, Default)]
struct BufferInner {
    data: Vec<u8>,
    packets: VecDeque<Range<usize>>,
    /// The CP function has been told of this buffering period.
    notified: bool,
    dropped_packets: u64,
    dropped_octets: u64,
}

enum Push {
    Stored { first: bool },
    Full,
}

impl DlBuffer {
    /// An empty buffer with these bounds.
    pub fn new(limit_packets: usize, limit_octets: usize) -> Self {
        DlBuffer {
            limit_packets,
            limit_octets,
            inner: Mutex::new(BufferInner::default()),
        }
    }

    fn push(&self, packet: &[u8]) -> Push {
        let Ok(mut b) = self.inner.lock() else {
            return Push::Full;
        };
        if b.packets.len() >= self.limit_packets || b.data.len() + packet.len() > self.limit_octets {
            b.dropped_packets += 1;
            b.dropped_octets += packet.len() as u64;
            return Push::Full;
        }
        // The buffering path may grow the session's buffer (amortised, bounded by
        // the limits); the forwarding path never allocates.
        let start = b.data.len();
        b.data.extend_from_slice(packet);
        b.packets.push_back(start..start + packet.len());
        let first = !b.notified;
        b.notified = true;
        Push::Stored { first }
    }

    /// Take every buffered packet, in order, and end the buffering period.
    pub fn drain(&self) -> Vec<Vec<u8>> {
        let Ok(mut b) = self.inner.lock() else {
            return Vec::new();
        };
        let out = b
            .packets
            .iter()
            .filter_map(|r| b.data.get(r.clone()).map(<[u8]>::to_vec))
            .collect();
        b.packets.clear();
        b.data = Vec::new();
        b.notified = false;
        out
    }

    /// Discard everything buffered; returns (packets, octets) discarded.
    pub fn discard(&self) -> (u64, u64) {
        let drained = self.drain();
        (drained.len() as u64, drained.iter().map(|p| p.len() as u64).sum())
    }

    /// Start a new buffering period (the next packet notifies again).
    pub fn reset_period(&self) {
        if let Ok(mut b) = self.inner.lock() {
            b.notified = false;
        }
    }

    /// Packets and octets held.
    pub fn len(&self) -> (usize, usize) {
        self.inner
            .lock()
            .map(|b| (b.packets.len(), b.data.len()))
            .unwrap_or((0, 0))
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.len().0 == 0
    }

    /// Packets and octets dropped because the buffer was full.
    pub fn overflow(&self) -> (u64, u64) {
        self.inner
            .lock()
            .map(|b| (b.dropped_packets, b.dropped_octets))
            .unwrap_or((0, 0))
    }
}
