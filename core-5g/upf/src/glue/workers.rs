//! The fast path: plain threads, one uplink and one downlink worker per configured
//! worker, each with its own N3 socket (SO_REUSEPORT) and its own TUN queue.
//!
//! The rule tables are read with one `ArcSwap::load` per batch: no lock on the
//! per-packet path, and a worker sees a modification from its next batch on (an
//! `RwLock` read once per batch would also do, but a writer — the PFCP task — would
//! then wait for the slowest batch, and a reader for a writer). Nothing is
//! allocated per packet: buffers are allocated when a worker starts; the downlink's
//! list of charges is allocated once per batch.

use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hexcore_gtpu::{Message as GtpuMessage, Packet as GtpuPacket, Repr};
use hexcore_netdev::{BatchSocket, RecvBatch, SendBatch, Tun};

use crate::datapath::{self, Charge, Direction, Downlink, DropReason, HEADROOM, Notice, Tables, Uplink};

/// Counters shared by the workers, updated once per batch.
#[derive(Debug, Default)]
pub struct DataPathStats {
    /// Uplink packets forwarded.
    pub uplink_packets: AtomicU64,
    /// Uplink T-PDU octets forwarded.
    pub uplink_octets: AtomicU64,
    /// Downlink packets forwarded.
    pub downlink_packets: AtomicU64,
    /// Downlink T-PDU octets forwarded.
    pub downlink_octets: AtomicU64,
    /// Drops by [`DropReason::index`].
    pub drops: [AtomicU64; 12],
    /// Echo Requests answered.
    pub echo_responses: AtomicU64,
    /// Error Indications sent.
    pub error_indications: AtomicU64,
    /// Uplink datagrams received (GRO segments counted one by one).
    pub uplink_received: AtomicU64,
    /// Uplink G-PDUs forwarded whose datagram had octets after the GTP-U message.
    pub padded_gpdus: AtomicU64,
    /// Downlink packets read from the TUN.
    pub downlink_received: AtomicU64,
    /// TUN writes (uplink) / reads (downlink): fewer than packets when offloads
    /// batch them.
    pub tun_writes: AtomicU64,
    /// See `tun_writes`.
    pub tun_reads: AtomicU64,
}

/// A plain copy of [`DataPathStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Uplink packets forwarded.
    pub uplink_packets: u64,
    /// Uplink octets forwarded.
    pub uplink_octets: u64,
    /// Downlink packets forwarded.
    pub downlink_packets: u64,
    /// Downlink octets forwarded.
    pub downlink_octets: u64,
    /// Drops by [`DropReason::index`].
    pub drops: [u64; 12],
    /// Echo Requests answered.
    pub echo_responses: u64,
    /// Error Indications sent.
    pub error_indications: u64,
    /// Uplink datagrams received.
    pub uplink_received: u64,
    /// Uplink G-PDUs forwarded whose datagram had octets after the GTP-U message.
    pub padded_gpdus: u64,
    /// Downlink packets read.
    pub downlink_received: u64,
    /// TUN writes (uplink).
    pub tun_writes: u64,
    /// TUN reads (downlink).
    pub tun_reads: u64,
}

impl DataPathStats {
    /// A copy.
    pub fn snapshot(&self) -> StatsSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            uplink_packets: l(&self.uplink_packets),
            uplink_octets: l(&self.uplink_octets),
            downlink_packets: l(&self.downlink_packets),
            downlink_octets: l(&self.downlink_octets),
            drops: std::array::from_fn(|i| l(&self.drops[i])),
            echo_responses: l(&self.echo_responses),
            error_indications: l(&self.error_indications),
            uplink_received: l(&self.uplink_received),
            padded_gpdus: l(&self.padded_gpdus),
            downlink_received: l(&self.downlink_received),
            tun_writes: l(&self.tun_writes),
            tun_reads: l(&self.tun_reads),
        }
    }
}

/// Per-batch counts, added to the shared stats and the metrics at the end of the
/// batch.
#[derive(Default)]
struct Local {
    packets: u64,
    octets: u64,
    received: u64,
    syscalls: u64,
    /// Uplink only: G-PDUs forwarded with trailing octets dropped.
    padded: u64,
    drops: [u64; 12],
}

impl Local {
    fn drop(&mut self, r: DropReason) {
        self.drops[r.index()] += 1;
    }

    fn flush(&mut self, dir: Direction, stats: &DataPathStats, m: &Meters) {
        let (p, o, r, sc) = match dir {
            Direction::Uplink => (
                &stats.uplink_packets,
                &stats.uplink_octets,
                &stats.uplink_received,
                &stats.tun_writes,
            ),
            Direction::Downlink => (
                &stats.downlink_packets,
                &stats.downlink_octets,
                &stats.downlink_received,
                &stats.tun_reads,
            ),
        };
        sc.fetch_add(self.syscalls, Ordering::Relaxed);
        p.fetch_add(self.packets, Ordering::Relaxed);
        o.fetch_add(self.octets, Ordering::Relaxed);
        r.fetch_add(self.received, Ordering::Relaxed);
        m.packets.increment(self.packets);
        m.octets.increment(self.octets);
        if self.padded > 0 {
            stats.padded_gpdus.fetch_add(self.padded, Ordering::Relaxed);
            m.padded.increment(self.padded);
        }
        for (i, n) in self.drops.iter().enumerate() {
            if *n > 0 {
                stats.drops[i].fetch_add(*n, Ordering::Relaxed);
                m.drops[i].increment(*n);
            }
        }
        *self = Local::default();
    }
}

/// Metric handles, registered once per worker.
struct Meters {
    packets: metrics::Counter,
    octets: metrics::Counter,
    padded: metrics::Counter,
    drops: Vec<metrics::Counter>,
}

impl Meters {
    fn new(dir: &'static str) -> Self {
        use crate::telemetry::{BYTES, DROPS, N3_PADDED_GPDUS, PACKETS};
        Meters {
            packets: metrics::counter!(PACKETS, "direction" => dir),
            octets: metrics::counter!(BYTES, "direction" => dir),
            padded: metrics::counter!(N3_PADDED_GPDUS),
            drops: DropReason::ALL
                .iter()
                .map(|r| metrics::counter!(DROPS, "direction" => dir, "reason" => r.as_str()))
                .collect(),
        }
    }
}

/// What every worker shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub tables: Arc<ArcSwap<Tables>>,
    pub stop: Arc<AtomicBool>,
    pub stats: Arc<DataPathStats>,
    pub notices: tokio::sync::mpsc::UnboundedSender<Notice>,
    pub n3_address: IpAddr,
    pub mtu: usize,
    pub batch: usize,
    pub gro: bool,
    pub gso: bool,
    pub error_indications_per_sec: u32,
}

/// How long a worker waits for input before looking at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// The uplink worker: N3 → N6.
pub(crate) fn uplink_worker(shared: Shared, sock: Arc<BatchSocket>, tun: Arc<Tun>) {
    let slot = if shared.gro {
        hexcore_netdev::GRO_SLOT_SIZE
    } else {
        4096
    };
    let Ok(mut batch) = RecvBatch::new(shared.batch, slot) else {
        tracing::error!("uplink worker: cannot allocate its batch");
        return;
    };
    let meters = Meters::new("uplink");
    let mut local = Local::default();
    let mut limiter = RateLimit::new(shared.error_indications_per_sec);
    let mut scratch = vec![0u8; HEADROOM + 65536];
    let vnet = tun.vnet_hdr_len();
    let vnet_none = [0u8; 64];
    let mut coalescer = crate::offload::Coalescer::new();
    let mut notify = |n: Notice| {
        let _ = shared.notices.send(n);
    };
    while !shared.stop.load(Ordering::Relaxed) {
        match sock.recv_batch(&mut batch) {
            Ok(_) => {}
            Err(e) if is_transient(&e) => continue,
            Err(e) => {
                tracing::warn!("N3 receive: {e}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        }
        let now = Instant::now();
        let tables = shared.tables.load();
        // Charges of the packets waiting in the coalescer.
        let mut held: Vec<Charge<'_>> = Vec::new();
        for d in batch.iter() {
            for seg in d.segments() {
                local.received += 1;
                match datapath::uplink(&tables, now, seg, &mut notify) {
                    Uplink::ToN6 { payload, charge } => {
                        local.padded += u64::from(payload.end < seg.len());
                        let Some(inner) = seg.get(payload) else { continue };
                        if vnet > 0 {
                            // With a virtio-net header: join packets of one flow into
                            // a super-packet, one write for all (crate::offload).
                            if coalescer.push(inner) {
                                held.push(charge);
                                continue;
                            }
                            write_coalesced(&tun, &mut coalescer, &mut held, &mut local);
                            if coalescer.start(inner) {
                                held.push(charge);
                                continue;
                            }
                        }
                        local.syscalls += 1;
                        let written = if vnet > 0 {
                            tun.write_vectored(&[IoSlice::new(&vnet_none[..vnet]), IoSlice::new(inner)])
                        } else {
                            tun.write(inner)
                        };
                        sent(&mut local, written.is_ok(), charge);
                    }
                    Uplink::ToTunnel {
                        payload,
                        tunnel,
                        charge,
                    } => {
                        // N9: the T-PDU into the next UPF's tunnel.
                        local.padded += u64::from(payload.end < seg.len());
                        let len = payload.len();
                        let ok = seg.get(payload).is_some_and(|inner| {
                            scratch[HEADROOM..HEADROOM + len].copy_from_slice(inner);
                            hexcore_gtpu::encap_in_place(&mut scratch, HEADROOM, len, tunnel.teid, None)
                                .ok()
                                .and_then(|f| scratch.get(f))
                                .is_some_and(|frame| sock.socket().send_to(frame, tunnel.peer).is_ok())
                        });
                        sent(&mut local, ok, charge);
                    }
                    Uplink::Dropped(r) => local.drop(r),
                    Uplink::UnknownTeid { teid } => {
                        local.drop(DropReason::NoSession);
                        if let Some(src) = d.source
                            && limiter.allow(now)
                        {
                            error_indication(&sock, &shared, teid, src);
                        }
                    }
                    Uplink::Signalling => {
                        if let Some(src) = d.source {
                            signalling(&sock, &shared, seg, src);
                        }
                    }
                }
            }
        }
        write_coalesced(&tun, &mut coalescer, &mut held, &mut local);
        drop(held);
        drop(tables);
        local.flush(Direction::Uplink, &shared.stats, &meters);
    }
}

/// Write what the coalescer holds; count or refund its packets.
fn write_coalesced(tun: &Tun, c: &mut crate::offload::Coalescer, held: &mut Vec<Charge<'_>>, local: &mut Local) {
    let Some(bytes) = c.take() else { return };
    local.syscalls += 1;
    let ok = tun.write(bytes).is_ok();
    for charge in held.drain(..) {
        sent(local, ok, charge);
    }
}

fn sent(local: &mut Local, ok: bool, charge: Charge<'_>) {
    if ok {
        local.packets += 1;
        local.octets += charge.len();
    } else {
        charge.refund();
        local.drop(DropReason::SendFailed);
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// TS 29.281 §7.3.1: a G-PDU for a TEID without a context is answered with an Error
/// Indication to where it came from (rate-limited here).
fn error_indication(sock: &BatchSocket, shared: &Shared, teid: u32, to: SocketAddr) {
    if let Ok(bytes) = Repr::error_indication(teid, shared.n3_address, 0).to_vec()
        && sock.socket().send_to(&bytes, to).is_ok()
    {
        shared.stats.error_indications.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(crate::telemetry::ERROR_INDICATIONS).increment(1);
    }
}

/// GTP-U signalling on N3: answer Echo Requests (§7.2.2); note Error Indications
/// from gNBs; ignore the rest (End Markers end at the gNB, not here).
fn signalling(sock: &BatchSocket, shared: &Shared, datagram: &[u8], from: SocketAddr) {
    let Ok(p) = GtpuPacket::new_checked(datagram) else {
        return;
    };
    let Ok(repr) = Repr::parse(&p) else { return };
    match repr.message {
        GtpuMessage::EchoRequest(_) => {
            if let Ok(bytes) = Repr::echo_response(repr.sequence_number.unwrap_or(0)).to_vec()
                && sock.socket().send_to(&bytes, from).is_ok()
            {
                shared.stats.echo_responses.fetch_add(1, Ordering::Relaxed);
                metrics::counter!(crate::telemetry::ECHO_RESPONSES).increment(1);
            }
        }
        GtpuMessage::ErrorIndication(ei) => {
            tracing::warn!(%from, teid = format!("{:#x}", ei.teid_data_i), "GTP-U Error Indication from a peer");
        }
        _ => {}
    }
}

/// At most `per_sec` events per second.
struct RateLimit {
    per_sec: u32,
    window: Option<Instant>,
    used: u32,
}

impl RateLimit {
    fn new(per_sec: u32) -> Self {
        RateLimit {
            per_sec,
            window: None,
            used: 0,
        }
    }

    fn allow(&mut self, now: Instant) -> bool {
        match self.window {
            Some(w) if now.saturating_duration_since(w) < Duration::from_secs(1) => {}
            _ => {
                self.window = Some(now);
                self.used = 0;
            }
        }
        if self.used < self.per_sec {
            self.used += 1;
            true
        } else {
            false
        }
    }
}

/// An open GSO run: equal-size datagrams to one peer, back to back in one slot.
struct Run {
    peer: SocketAddr,
    segment: usize,
    count: usize,
    len: usize,
    closed: bool,
}

/// Most UDP segments the kernel takes in one send (UDP_MAX_SEGMENTS on older
/// kernels; hexcore-netdev's README).
const MAX_SEGMENTS: usize = 64;

/// The downlink worker: N6 → N3.
pub(crate) fn downlink_worker(shared: Shared, sock: Arc<BatchSocket>, tun: Arc<Tun>) {
    let max_packet = shared.mtu + 64;
    let slot = if shared.gso {
        65000.max(HEADROOM + max_packet)
    } else {
        HEADROOM + max_packet
    };
    let Ok(mut out) = SendBatch::new(shared.batch, slot) else {
        tracing::error!("downlink worker: cannot allocate its batch");
        return;
    };
    let meters = Meters::new("downlink");
    let mut local = Local::default();
    let vnet = tun.vnet_hdr_len().min(HEADROOM);
    // The packet is read so that it starts at HEADROOM (the vnet header, if any,
    // sits in the headroom and is overwritten by the GTP-U header).
    let read_at = HEADROOM - vnet;
    let mut scratch = vec![0u8; HEADROOM + 65536];
    // Where the segments of a super-packet are rebuilt, one at a time.
    let mut segment = vec![0u8; HEADROOM + 65536];
    let mut notify = |n: Notice| {
        let _ = shared.notices.send(n);
    };
    while !shared.stop.load(Ordering::Relaxed) {
        let tables = shared.tables.load();
        let mut b = DlBatch {
            tables: &tables,
            now: Instant::now(),
            gso: shared.gso,
            out: &mut out,
            sock: &sock,
            charges: Vec::with_capacity(shared.batch),
            run: None,
            messages: 0,
            local: &mut local,
            max_packet,
        };
        let mut got = 0;
        while vnet == 0 && got < shared.batch {
            if !b.read_in_place(&tun, &mut scratch, &mut notify) {
                break;
            }
            got += 1;
        }
        while vnet > 0 && got < shared.batch {
            let n = match tun.read(&mut scratch[read_at..]) {
                Ok(n) => n,
                Err(_) => break,
            };
            got += 1;
            b.local.syscalls += 1;
            let Some(len) = n.checked_sub(vnet) else { continue };
            let Ok(h) = hexcore_netdev::VnetHeader::parse(&scratch[read_at..HEADROOM]) else {
                b.local.drop(DropReason::Malformed);
                continue;
            };
            if h.is_gso() {
                // One read, many datagrams: each is matched and counted on its own.
                let r = crate::offload::split_udp(
                    &h,
                    &scratch[HEADROOM..HEADROOM + len],
                    &mut segment,
                    HEADROOM,
                    |buf, at, l| b.packet(buf, at, l, &mut notify),
                );
                if r.is_err() {
                    b.local.drop(DropReason::Malformed);
                }
            } else if crate::offload::complete_checksum(&h, &mut scratch[HEADROOM..HEADROOM + len]).is_ok() {
                b.packet(&mut scratch, HEADROOM, len, &mut notify);
            } else {
                b.local.drop(DropReason::Malformed);
            }
        }
        b.finish();
        drop(tables);
        local.flush(Direction::Downlink, &shared.stats, &meters);
        if got == 0 {
            let _ = tun.wait_readable(Some(POLL));
        }
    }
}

/// One downlink batch: packets processed, their G-PDUs queued (grouped into GSO
/// runs), sent at the end.
struct DlBatch<'t, 'b> {
    tables: &'t Tables,
    now: Instant,
    gso: bool,
    out: &'b mut SendBatch,
    sock: &'b BatchSocket,
    /// Charges of the packets queued, with the index of their message.
    charges: Vec<(Charge<'t>, usize)>,
    run: Option<Run>,
    messages: usize,
    local: &'b mut Local,
    /// The largest packet a read can bring (MTU and some).
    max_packet: usize,
}

impl<'t> DlBatch<'t, '_> {
    /// Without offloads: read one packet straight into the send slot, where its
    /// G-PDU goes (behind the previous datagram of a GSO run, or at the start of a
    /// fresh slot), so that it is never copied in user space. False when the TUN
    /// has nothing more.
    fn read_in_place(&mut self, tun: &Tun, aside: &mut [u8], notify: &mut impl FnMut(Notice)) -> bool {
        let slot_size = self.out.slot_size();
        let base = match &self.run {
            Some(r)
                if self.gso
                    && !r.closed
                    && r.count < MAX_SEGMENTS
                    && r.len + HEADROOM + self.max_packet <= slot_size =>
            {
                r.len
            }
            Some(_) => {
                if let Some(r) = self.run.take() {
                    commit(self.out, &r);
                    self.messages += 1;
                }
                0
            }
            None => 0,
        };
        if base == 0 && self.out.is_full() {
            flush(self.sock, self.out, &mut self.charges, self.local);
            self.messages = 0;
        }
        let Some(slot) = self.out.free_slot() else { return false };
        let Ok(n) = tun.read(&mut slot[base + HEADROOM..]) else {
            return false;
        };
        self.local.syscalls += 1;
        self.local.received += 1;
        let (peer, flen, charge) = match datapath::downlink(self.tables, self.now, slot, base + HEADROOM, n, notify) {
            Downlink::ToN3 { frame, peer, charge } => {
                let flen = frame.len();
                if frame.start != base {
                    // An 8-octet header (no QFI): close the gap, in cache.
                    slot.copy_within(frame, base);
                }
                (peer, flen, charge)
            }
            Downlink::Buffered => return true,
            Downlink::Dropped(r) => {
                self.local.drop(r);
                return true;
            }
        };
        match self.run.as_mut() {
            Some(r) if base > 0 && r.peer == peer && flen <= r.segment => {
                r.len += flen;
                r.count += 1;
                r.closed = flen < r.segment;
            }
            Some(_) => {
                // Another peer or size: this datagram starts the next message.
                let Some(tmp) = aside.get_mut(..flen) else {
                    charge.refund();
                    self.local.drop(DropReason::SendFailed);
                    return true;
                };
                if let Some(slot) = self.out.free_slot() {
                    tmp.copy_from_slice(&slot[base..base + flen]);
                }
                if let Some(r) = self.run.take() {
                    commit(self.out, &r);
                    self.messages += 1;
                }
                if self.out.is_full() {
                    flush(self.sock, self.out, &mut self.charges, self.local);
                    self.messages = 0;
                }
                let Some(slot) = self.out.free_slot() else {
                    charge.refund();
                    self.local.drop(DropReason::SendFailed);
                    return true;
                };
                slot[..flen].copy_from_slice(tmp);
                self.run = Some(Run {
                    peer,
                    segment: flen,
                    count: 1,
                    len: flen,
                    closed: false,
                });
            }
            None => {
                self.run = Some(Run {
                    peer,
                    segment: flen,
                    count: 1,
                    len: flen,
                    closed: false,
                });
            }
        }
        self.charges.push((charge, self.messages));
        if !self.gso
            && let Some(r) = self.run.take()
        {
            commit(self.out, &r);
            self.messages += 1;
        }
        true
    }

    fn packet(&mut self, buf: &mut [u8], at: usize, len: usize, notify: &mut impl FnMut(Notice)) {
        self.local.received += 1;
        match datapath::downlink(self.tables, self.now, buf, at, len, notify) {
            Downlink::ToN3 { frame, peer, charge } => {
                let Some(bytes) = buf.get(frame) else { return };
                let slot_size = self.out.slot_size();
                let joins = self.gso
                    && self.run.as_ref().is_some_and(|r| {
                        !r.closed
                            && r.peer == peer
                            && bytes.len() <= r.segment
                            && r.count < MAX_SEGMENTS
                            && r.len + bytes.len() <= slot_size
                    });
                if !joins {
                    if let Some(r) = self.run.take() {
                        commit(self.out, &r);
                        self.messages += 1;
                    }
                    if self.out.is_full() {
                        flush(self.sock, self.out, &mut self.charges, self.local);
                        self.messages = 0;
                    }
                    self.run = Some(Run {
                        peer,
                        segment: bytes.len(),
                        count: 0,
                        len: 0,
                        closed: false,
                    });
                }
                let Some(r) = self.run.as_mut() else { return };
                let Some(dst) = self.out.free_slot().and_then(|s| s.get_mut(r.len..r.len + bytes.len())) else {
                    charge.refund();
                    self.local.drop(DropReason::SendFailed);
                    return;
                };
                dst.copy_from_slice(bytes);
                r.len += bytes.len();
                r.count += 1;
                // A shorter datagram can only be the last of a GSO run.
                r.closed = bytes.len() < r.segment;
                self.charges.push((charge, self.messages));
            }
            Downlink::Buffered => {}
            Downlink::Dropped(r) => self.local.drop(r),
        }
    }

    fn finish(mut self) {
        if let Some(r) = self.run.take() {
            commit(self.out, &r);
        }
        flush(self.sock, self.out, &mut self.charges, self.local);
    }
}

fn commit(out: &mut SendBatch, r: &Run) {
    let segment = (r.count > 1).then(|| u16::try_from(r.segment).unwrap_or(u16::MAX));
    let _ = out.commit(r.len, r.peer, segment);
}

/// Send everything queued; a message the kernel refuses is dropped and its packets'
/// charges given back.
fn flush(sock: &BatchSocket, out: &mut SendBatch, charges: &mut Vec<(Charge<'_>, usize)>, local: &mut Local) {
    let mut base = 0usize;
    let mut attempts = 0;
    while !out.is_empty() && attempts < 1000 {
        attempts += 1;
        match sock.send_batch(out) {
            Ok(k) => base += k,
            Err(e) if is_transient(&e) => std::thread::sleep(Duration::from_millis(1)),
            Err(_) => {
                // The message at `base` was dropped by send_batch.
                for (c, _) in charges.iter().filter(|(_, m)| *m == base) {
                    c.refund();
                    local.drop(DropReason::SendFailed);
                }
                charges.retain(|(_, m)| *m != base);
                base += 1;
            }
        }
    }
    for (c, m) in charges.drain(..) {
        if out.is_empty() || m < base {
            local.packets += 1;
            local.octets += c.len();
        } else {
            // Still queued after every attempt: not sent.
            c.refund();
            local.drop(DropReason::SendFailed);
        }
    }
    out.clear();
}
