//! N2 SCTP interop driver: kernel SCTP (hexcore-sctp-kernel) against itself and
//! against hexcore's userspace SCTP-over-UDP stack (RFC 6951).
//!
//! Every server echoes each message back on the same stream with the same PPID; every
//! client sends `--count` small messages round-robin over `--streams` streams with PPID
//! 60 (NGAP), then one `--large`-byte message, then `--burst` messages of 30-2530 bytes
//! without waiting (echoes read concurrently), checks each echo, and closes gracefully.
//! With `--abort 1` (both sides) the client ends with ABORT instead and the server
//! checks that its Down says so.
//! Both sides check that PPID 60 came through and that the close is seen as Down, and
//! print one `PASS …` or `FAIL …` line; the exit status is 0 only on PASS.
//!
//! ```text
//! interop kernel-server ADDR  [--count N] [--streams S] [--large BYTES] [--burst N]
//! interop kernel-client ADDR  [--local ADDR] [--encap-port UDP_PORT] [same options]
//! interop udp-server    ADDR  [same options]
//! interop udp-client    ADDR  [--local ADDR] [same options]
//! interop n2-kernel-server ADDR / n2-kernel-client ADDR   [same options]
//! interop lossy-relay   ADDR  --to ADDR --loss PERCENT
//! ```
//! kernel-*: hexcore-sctp-kernel directly; `ADDR` is an SCTP address
//! (`127.0.0.1:38412`). `--encap-port` makes the kernel client encapsulate in UDP
//! towards that remote UDP port (SCTP_REMOTE_UDP_ENCAPS_PORT; needs
//! `sysctl net.sctp.udp_port` set first).
//! udp-*: the userspace stack through the N2 API (`N2Listener` / `N2Association`
//! with `Transport::Udp`); `ADDR` is a UDP address, the SCTP port inside is 38412.
//! n2-kernel-*: the same N2 API with `Transport::Kernel` (hexcore-sctp's wrapper of
//! the kernel crate); `ADDR` is an SCTP address.
//! lossy-relay: a UDP relay that drops datagrams, to put between the two stacks.
//! `scripts/sctp-kernel-interop.sh` runs all pairings in a microVM.

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use hexcore_sctp::{AssociationEvent, N2Association, N2Listener, N2Options, Transport};
use hexcore_sctp_kernel::{KernelAssociation, KernelEvent, KernelListener, KernelOptions, NGAP_PPID};

/// Per-step timeout: generous, the microVM emulates the CPU.
const STEP: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
struct Args {
    mode: String,
    addr: SocketAddr,
    local: Option<SocketAddr>,
    count: usize,
    streams: u16,
    large: usize,
    burst: usize,
    encap_port: Option<u16>,
    to: Option<SocketAddr>,
    loss: u32,
    dump: bool,
    abort: bool,
}

fn usage() -> String {
    "usage: interop (kernel-server|kernel-client|udp-server|udp-client|n2-kernel-server|n2-kernel-client|lossy-relay) ADDR [--local ADDR] [--count N] \
     [--streams S] [--large BYTES] [--burst N] [--encap-port PORT] [--abort 1] [--to ADDR --loss PERCENT [--dump 1]]"
        .to_owned()
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().ok_or_else(usage)?;
    let addr = it.next().ok_or_else(usage)?.parse().map_err(|e| format!("ADDR: {e}"))?;
    let mut args = Args {
        mode,
        addr,
        local: None,
        count: 20,
        streams: 4,
        large: 64 * 1024,
        burst: 0,
        encap_port: None,
        to: None,
        loss: 0,
        dump: false,
        abort: false,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--local" => args.local = Some(value.parse().map_err(|e| bad(&e))?),
            "--count" => args.count = value.parse().map_err(|e| bad(&e))?,
            "--streams" => args.streams = value.parse().map_err(|e| bad(&e))?,
            "--large" => args.large = value.parse().map_err(|e| bad(&e))?,
            "--burst" => args.burst = value.parse().map_err(|e| bad(&e))?,
            "--encap-port" => args.encap_port = Some(value.parse().map_err(|e| bad(&e))?),
            "--to" => args.to = Some(value.parse().map_err(|e| bad(&e))?),
            "--loss" => args.loss = value.parse().map_err(|e| bad(&e))?,
            "--dump" => args.dump = value == "1",
            "--abort" => args.abort = value == "1",
            _ => return Err(format!("unknown option {flag}\n{}", usage())),
        }
    }
    Ok(args)
}

/// What either stack reports, in one shape.
#[derive(Debug)]
enum Event {
    Up,
    Message { stream: u16, ppid: u32, data: Vec<u8> },
    Down(String),
    Other(String),
}

/// One association of either stack.
enum Conn {
    Kernel(KernelAssociation),
    N2(N2Association),
}

fn n2_err(e: hexcore_sctp::Error) -> io::Error {
    io::Error::other(e.to_string())
}

impl Conn {
    async fn send(&self, stream: u16, ppid: u32, data: &[u8]) -> io::Result<()> {
        match self {
            Conn::Kernel(a) => a.send(stream, ppid, data).await,
            Conn::N2(a) => a.send(stream, ppid, data.to_vec()).await.map_err(n2_err),
        }
    }

    async fn recv(&self) -> io::Result<Event> {
        match self {
            Conn::Kernel(a) => Ok(match a.recv().await? {
                KernelEvent::Up => Event::Up,
                KernelEvent::Message { stream, ppid, data } => Event::Message { stream, ppid, data },
                KernelEvent::Down { reason } => Event::Down(reason),
                KernelEvent::Restart => Event::Other("restart".to_owned()),
            }),
            Conn::N2(a) => match a.recv().await {
                Some(AssociationEvent::Up) => Ok(Event::Up),
                Some(AssociationEvent::Message { stream, ppid, data }) => Ok(Event::Message {
                    stream,
                    ppid,
                    data: data.to_vec(),
                }),
                Some(AssociationEvent::Down { reason }) => Ok(Event::Down(reason)),
                Some(AssociationEvent::Restart) => Ok(Event::Other("restart".to_owned())),
                None => Err(io::Error::other("recv returned None before any Down")),
            },
        }
    }

    fn close(&self) -> io::Result<()> {
        match self {
            Conn::Kernel(a) => a.close(),
            Conn::N2(a) => a.close().map_err(n2_err),
        }
    }

    /// ABORT (RFC 9260 §9.1). The kernel association is gone afterwards.
    fn abort(self) -> io::Result<()> {
        match self {
            Conn::Kernel(a) => a.abort(),
            Conn::N2(a) => a.abort().map_err(n2_err),
        }
    }
}

async fn step<T>(what: &str, f: impl std::future::Future<Output = io::Result<T>>) -> Result<T, String> {
    match tokio::time::timeout(STEP, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: timed out after {STEP:?}")),
    }
}

/// Next event that is not `Up` (connectors may or may not report it).
async fn next_event(conn: &Conn, what: &str) -> Result<Event, String> {
    loop {
        match step(what, conn.recv()).await? {
            Event::Up => continue,
            Event::Other(o) => println!("  note: {o}"),
            ev => return Ok(ev),
        }
    }
}

fn payload(i: usize, stream: u16) -> Vec<u8> {
    format!("hexcore interop message {i} on stream {stream}").into_bytes()
}

/// Burst message `i`: a header naming it, then 0..2500 filler bytes, so that some
/// messages fit one packet and others are fragmented.
fn burst_payload(i: usize, stream: u16) -> Vec<u8> {
    let mut v = format!("burst {i} on stream {stream} ").into_bytes();
    v.extend((0..(i * 97) % 2500).map(|j| (j % 253) as u8));
    v
}

/// Sends `--burst` messages without waiting while reading the echoes concurrently;
/// checks every echo and the order within each stream (RFC 9260 §6.6).
async fn burst(conn: &Conn, args: &Args) -> Result<(), String> {
    let streams = args.streams.max(1);
    let sender = async {
        for i in 0..args.burst {
            let stream = (i % usize::from(streams)) as u16;
            step("burst send", conn.send(stream, NGAP_PPID, &burst_payload(i, stream))).await?;
        }
        Ok::<(), String>(())
    };
    let receiver = async {
        let mut next = vec![0usize; usize::from(streams)];
        for _ in 0..args.burst {
            let (stream, ppid, data) = match next_event(conn, "burst recv").await? {
                Event::Message { stream, ppid, data } => (stream, ppid, data),
                ev => return Err(format!("burst: expected an echo, got {ev:?}")),
            };
            let i: usize = String::from_utf8_lossy(data.get(..20).unwrap_or(&data))
                .split(' ')
                .nth(1)
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("burst: unrecognisable echo of {} B on stream {stream}", data.len()))?;
            let slot = next
                .get_mut(usize::from(stream))
                .ok_or_else(|| format!("burst: echo on unknown stream {stream}"))?;
            if ppid != NGAP_PPID || data != burst_payload(i, stream) || i < *slot {
                return Err(format!(
                    "burst: bad echo {i} on stream {stream} (PPID {ppid}, {} B, expected at least {})",
                    data.len(),
                    *slot
                ));
            }
            *slot = i + 1;
        }
        Ok(())
    };
    let (sent, received) = tokio::join!(sender, receiver);
    sent.and(received)
}

fn large_payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Echo everything until Down. Returns a summary.
async fn serve(conn: Conn, args: &Args) -> Result<String, String> {
    let mut count = 0usize;
    let mut streams = BTreeSet::new();
    let mut largest = 0usize;
    loop {
        match next_event(&conn, "server recv").await? {
            Event::Message { stream, ppid, data } => {
                if ppid != NGAP_PPID {
                    return Err(format!(
                        "message {count} on stream {stream} has PPID {ppid}, expected 60"
                    ));
                }
                count += 1;
                streams.insert(stream);
                largest = largest.max(data.len());
                step("server send", conn.send(stream, ppid, &data)).await?;
            }
            Event::Down(reason) => {
                let aborted = reason.contains("abort") || reason.contains("COMM_LOST");
                if aborted != args.abort {
                    return Err(format!(
                        "Down({reason}): expected an {}",
                        if args.abort { "ABORT" } else { "orderly close" }
                    ));
                }
                let expected = args.count + usize::from(args.large > 0) + args.burst;
                if count != expected {
                    return Err(format!("saw {count} messages, expected {expected}; Down({reason})"));
                }
                return Ok(format!(
                    "{count} messages echoed, streams {streams:?}, PPID 60, largest {largest} B, then Down({reason})"
                ));
            }
            ev => return Err(format!("unexpected {ev:?}")),
        }
    }
}

async fn expect_echo(conn: &Conn, stream: u16, data: &[u8]) -> Result<(), String> {
    match next_event(conn, "client recv").await? {
        Event::Message {
            stream: s,
            ppid,
            data: d,
        } => {
            if s != stream || ppid != NGAP_PPID || d != data {
                return Err(format!(
                    "echo mismatch: stream {s} (want {stream}), PPID {ppid} (want 60), {} B (want {} B), equal={}",
                    d.len(),
                    data.len(),
                    d == data
                ));
            }
            Ok(())
        }
        ev => Err(format!("expected an echo, got {ev:?}")),
    }
}

/// Send, check echoes, close, expect Down. Returns a summary.
async fn drive_client(conn: Conn, args: &Args) -> Result<String, String> {
    for i in 0..args.count {
        let stream = (i % usize::from(args.streams.max(1))) as u16;
        let data = payload(i, stream);
        step("client send", conn.send(stream, NGAP_PPID, &data)).await?;
        expect_echo(&conn, stream, &data).await?;
    }
    if args.large > 0 {
        let data = large_payload(args.large);
        step(
            "client send large",
            conn.send(1 % args.streams.max(1), NGAP_PPID, &data),
        )
        .await?;
        expect_echo(&conn, 1 % args.streams.max(1), &data).await?;
    }
    if args.burst > 0 {
        burst(&conn, args).await?;
    }
    if args.abort {
        conn.abort().map_err(|e| format!("abort: {e}"))?;
        return Ok(format!("{} messages echoed, then ABORT sent", args.count));
    }
    conn.close().map_err(|e| format!("close: {e}"))?;
    match next_event(&conn, "client wait for Down").await? {
        Event::Down(reason) => Ok(format!(
            "{} messages + {} B + a burst of {} echoed on {} streams with PPID 60, closed, Down({reason})",
            args.count, args.large, args.burst, args.streams
        )),
        ev => Err(format!("after close expected Down, got {ev:?}")),
    }
}

async fn run(args: &Args) -> Result<String, String> {
    let options = KernelOptions {
        streams: args.streams,
        remote_udp_encaps_port: args.encap_port,
    };
    match args.mode.as_str() {
        "lossy-relay" => relay(args).await,
        "kernel-server" => {
            let listener =
                KernelListener::bind_with(args.addr, &options).map_err(|e| format!("bind {}: {e}", args.addr))?;
            println!("kernel-server: listening on {}", args.addr);
            let (assoc, peer) = tokio::time::timeout(Duration::from_secs(120), listener.accept())
                .await
                .map_err(|_| "accept: nobody came within 120 s".to_owned())?
                .map_err(|e| format!("accept: {e}"))?;
            println!("kernel-server: association from {peer}");
            serve(Conn::Kernel(assoc), args).await
        }
        "kernel-client" => {
            let assoc = step(
                "connect",
                KernelAssociation::connect_with(args.local, args.addr, &options),
            )
            .await?;
            println!(
                "kernel-client: connected {} -> {}",
                assoc.local_addr().map_err(|e| e.to_string())?,
                args.addr
            );
            drive_client(Conn::Kernel(assoc), args).await
        }
        "udp-server" | "n2-kernel-server" => {
            let transport = n2_transport(&args.mode);
            let listener = N2Listener::bind_with(transport, args.addr, &n2_options(args))
                .map_err(|e| format!("bind {}: {e}", args.addr))?;
            println!("{}: listening on {} ({transport:?})", args.mode, args.addr);
            let (assoc, peer) = tokio::time::timeout(Duration::from_secs(120), listener.accept())
                .await
                .map_err(|_| "accept: nobody came within 120 s".to_owned())?
                .map_err(|e| format!("accept: {e}"))?;
            println!("{}: association from {peer}", args.mode);
            serve(Conn::N2(assoc), args).await
        }
        "udp-client" | "n2-kernel-client" => {
            let transport = n2_transport(&args.mode);
            let assoc = tokio::time::timeout(
                STEP,
                N2Association::connect_with(transport, args.local, args.addr, &n2_options(args)),
            )
            .await
            .map_err(|_| "connect: timed out".to_owned())?
            .map_err(|e| format!("connect: {e}"))?;
            println!("{}: connected to {} ({transport:?})", args.mode, assoc.peer_addr());
            drive_client(Conn::N2(assoc), args).await
        }
        other => Err(format!("unknown mode {other}\n{}", usage())),
    }
}

/// A UDP relay that drops `--loss` percent of datagrams each way (seeded, so runs
/// repeat). The side that sends first to ADDR is the initiator; the relay forwards
/// its datagrams to `--to` from a second socket and the answers back, like a NAT.
/// Runs until SIGTERM (or 10 minutes), then prints its counts. (Do not end it on
/// idleness: retransmission back-off leaves long silent gaps, RTO.Max is 60 s.)
async fn relay(args: &Args) -> Result<String, String> {
    let to = args.to.ok_or("lossy-relay needs --to ADDR")?;
    let front = tokio::net::UdpSocket::bind(args.addr)
        .await
        .map_err(|e| format!("bind {}: {e}", args.addr))?;
    let back = tokio::net::UdpSocket::bind(SocketAddr::new(args.addr.ip(), 0))
        .await
        .map_err(|e| format!("bind back socket: {e}"))?;
    println!("lossy-relay: listening on {} -> {to}, loss {}%", args.addr, args.loss);
    let mut rng: u64 = 0x5eed_1234_abcd_0001;
    let mut drop_it = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 100) < u64::from(args.loss)
    };
    let (mut initiator, mut passed, mut dropped) = (None, [0usize; 2], [0usize; 2]);
    let start = std::time::Instant::now();
    let (mut a, mut b) = (vec![0u8; 65536], vec![0u8; 65536]);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("SIGTERM handler: {e}"))?;
    let deadline = tokio::time::sleep(Duration::from_secs(600));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            r = front.recv_from(&mut a) => {
                let (n, from) = r.map_err(|e| format!("relay recv: {e}"))?;
                initiator = Some(from);
                let lost = drop_it();
                if args.dump {
                    let t = start.elapsed().as_secs_f64();
                    println!("  {t:8.3} -> {} {}", if lost { "DROP" } else { "pass" }, summarize(&a[..n]));
                }
                if lost { dropped[0] += 1; continue; }
                passed[0] += 1;
                back.send_to(&a[..n], to).await.map_err(|e| format!("relay send: {e}"))?;
            }
            r = back.recv_from(&mut b) => {
                let (n, _) = r.map_err(|e| format!("relay recv: {e}"))?;
                let Some(dst) = initiator else { continue };
                let lost = drop_it();
                if args.dump {
                    let t = start.elapsed().as_secs_f64();
                    println!("  {t:8.3} <- {} {}", if lost { "DROP" } else { "pass" }, summarize(&b[..n]));
                }
                if lost { dropped[1] += 1; continue; }
                passed[1] += 1;
                front.send_to(&b[..n], dst).await.map_err(|e| format!("relay send: {e}"))?;
            }
            _ = term.recv() => break,
            () = &mut deadline => break,
        }
    }
    if passed[0] == 0 || passed[1] == 0 {
        return Err(format!("no traffic both ways (passed {passed:?})"));
    }
    Ok(format!(
        "forward {} passed / {} dropped, back {} passed / {} dropped",
        passed[0], dropped[0], passed[1], dropped[1]
    ))
}

/// One line per SCTP packet (RFC 9260 §3): verification tag and each chunk, with the
/// fields that matter for retransmission.
fn summarize(p: &[u8]) -> String {
    let be16 = |o: usize| p.get(o..o + 2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let be32 = |o: usize| {
        p.get(o..o + 4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut out = format!("{}B vtag={:08x}", p.len(), be32(4));
    let mut off = 12;
    while off + 4 <= p.len() {
        let (kind, flags, len) = (p[off], p[off + 1], usize::from(be16(off + 2)));
        let chunk = match kind {
            0 => format!(
                "DATA(tsn={} sid={} ssn={} {}{}{})",
                be32(off + 4),
                be16(off + 8),
                be16(off + 10),
                if flags & 2 != 0 { "B" } else { "" },
                if flags & 1 != 0 { "E" } else { "" },
                if flags & 8 != 0 { " I" } else { "" }
            ),
            3 => {
                let gaps = usize::from(be16(off + 12));
                let blocks: Vec<String> = (0..gaps)
                    .map(|g| format!("{}-{}", be16(off + 16 + 4 * g), be16(off + 18 + 4 * g)))
                    .collect();
                format!(
                    "SACK(cum={} rwnd={} gaps=[{}] dups={})",
                    be32(off + 4),
                    be32(off + 8),
                    blocks.join(","),
                    be16(off + 14)
                )
            }
            1 => "INIT".to_owned(),
            2 => "INIT-ACK".to_owned(),
            4 => "HEARTBEAT".to_owned(),
            5 => "HEARTBEAT-ACK".to_owned(),
            6 => format!("ABORT(flags={flags})"),
            7 => format!("SHUTDOWN(cum={})", be32(off + 4)),
            8 => "SHUTDOWN-ACK".to_owned(),
            9 => "ERROR".to_owned(),
            10 => "COOKIE-ECHO".to_owned(),
            11 => "COOKIE-ACK".to_owned(),
            14 => "SHUTDOWN-COMPLETE".to_owned(),
            192 => format!("FORWARD-TSN(cum={})", be32(off + 4)),
            k => format!("chunk{k}"),
        };
        out.push(' ');
        out.push_str(&chunk);
        if len < 4 {
            break;
        }
        off += (len + 3) & !3;
    }
    out
}

fn n2_transport(mode: &str) -> Transport {
    if mode.starts_with("udp") {
        Transport::Udp
    } else {
        Transport::Kernel
    }
}

fn n2_options(args: &Args) -> N2Options {
    N2Options {
        streams: args.streams,
        connect_timeout: STEP,
        kernel_remote_udp_encaps_port: args.encap_port,
        ..N2Options::default()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(summary) => {
            println!("PASS {}: {summary}", args.mode);
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("FAIL {}: {e}", args.mode);
            ExitCode::FAILURE
        }
    }
}
