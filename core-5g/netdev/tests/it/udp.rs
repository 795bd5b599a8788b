//! Batched UDP on loopback (no root needed, except where said).

use std::io;
use std::net::SocketAddr;

use hexcore_netdev::{BatchSocket, Error, GRO_SLOT_SIZE, RecvBatch, SendBatch, SocketOptions};

use crate::common::*;

/// A blocking receiver on `addr` with a read timeout and room for bursts.
fn receiver(addr: &str, gro: bool) -> io::Result<BatchSocket> {
    let sock = BatchSocket::bind_with(
        sa(addr),
        &SocketOptions {
            gro,
            recv_buffer: Some(4 << 20),
            ..Default::default()
        },
    )
    .map_err(io::Error::from)?;
    sock.socket().set_read_timeout(Some(TIMEOUT))?;
    Ok(sock)
}

/// Sends everything queued in `batch`, however many calls it takes.
fn send_all(tx: &BatchSocket, batch: &mut SendBatch) -> usize {
    let mut sent = 0;
    let mut calls = 0;
    while !batch.is_empty() {
        sent += tx.send_batch(batch).unwrap();
        calls += 1;
        assert!(calls < 1000, "send_batch makes no progress");
    }
    sent
}

/// What one received datagram looked like.
#[derive(Debug, Clone)]
struct Got {
    data: Vec<u8>,
    source: Option<SocketAddr>,
    segment_size: Option<usize>,
    truncated: bool,
}

/// Receives until `done` says so; returns the datagrams and the number of
/// `recv_batch` calls.
fn recv_until(rx: &BatchSocket, batch: &mut RecvBatch, done: impl Fn(&[Got]) -> bool) -> (Vec<Got>, usize) {
    let mut got = Vec::new();
    let mut calls = 0;
    while !done(&got) {
        let n = rx
            .recv_batch(batch)
            .unwrap_or_else(|e| panic!("recv_batch after {} datagrams: {e}", got.len()));
        calls += 1;
        assert_eq!(n, batch.len());
        assert!(n >= 1 && n <= batch.capacity());
        got.extend(batch.iter().map(|d| Got {
            data: d.data.to_vec(),
            source: d.source,
            segment_size: d.segment_size,
            truncated: d.truncated,
        }));
    }
    (got, calls)
}

fn round_trip_64(rx_addr: &str, tx_addr: &str) {
    let rx = receiver(rx_addr, false).unwrap();
    let tx = BatchSocket::bind(sa(tx_addr)).unwrap();
    let (to, from) = (rx.local_addr().unwrap(), tx.local_addr().unwrap());
    let expected: Vec<Vec<u8>> = (0..64u32).map(|i| pattern(i, 40 + 23 * i as usize)).collect();

    let mut out = SendBatch::new(64, 2048).unwrap();
    for m in &expected {
        out.push(m, to).unwrap();
    }
    assert!(out.is_full());
    assert_eq!(send_all(&tx, &mut out), 64);
    assert!(out.is_empty() && !out.is_full(), "a sent batch is ready for reuse");
    assert_eq!(out.dropped(), 0);

    let mut batch = RecvBatch::new(64, 2048).unwrap();
    let (got, calls) = recv_until(&rx, &mut batch, |g| g.len() >= 64);
    assert_eq!(got.len(), 64);
    for (i, (g, m)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(&g.data, m, "datagram {i}");
        assert_eq!(g.source, Some(from), "datagram {i}");
        assert_eq!((g.segment_size, g.truncated), (None, false));
    }
    eprintln!("{rx_addr}: 64 datagrams in {calls} recvmmsg call(s)");
}

#[test]
fn sendmmsg_recvmmsg_round_trip_of_64_over_ipv4() {
    round_trip_64("127.0.0.1:0", "127.0.0.1:0");
}

#[test]
fn sendmmsg_recvmmsg_round_trip_of_64_over_ipv6() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("note: IPv6 round trip skipped: no ::1 here");
        return;
    }
    round_trip_64("[::1]:0", "[::1]:0");
}

#[test]
fn each_message_goes_to_its_own_destination() {
    let a = receiver("127.0.0.1:0", false).unwrap();
    let b = receiver("127.0.0.1:0", false).unwrap();
    let tx = BatchSocket::bind(sa("127.0.0.1:0")).unwrap();
    let mut out = SendBatch::new(32, 256).unwrap();
    for i in 0..32u32 {
        let to = if i % 2 == 0 { &a } else { &b };
        out.push(&pattern(i, 100), to.local_addr().unwrap()).unwrap();
    }
    assert_eq!(send_all(&tx, &mut out), 32);
    for (sock, parity) in [(&a, 0), (&b, 1)] {
        let mut batch = RecvBatch::new(32, 256).unwrap();
        let (got, _) = recv_until(sock, &mut batch, |g| g.len() >= 16);
        let tags: Vec<u32> = got
            .iter()
            .map(|g| u32::from_be_bytes(g.data[..4].try_into().unwrap()))
            .collect();
        assert_eq!(tags, (0..32).filter(|i| i % 2 == parity).collect::<Vec<_>>());
    }
}

#[test]
fn gso_send_reaches_a_plain_socket_as_separate_datagrams() {
    let rx = receiver("127.0.0.1:0", false).unwrap();
    let tx = BatchSocket::bind(sa("127.0.0.1:0")).unwrap();
    let (seg, count) = (1200usize, 8usize);
    let burst = pattern(9, seg * count);
    assert_eq!(
        tx.send_segments(&burst, seg as u16, rx.local_addr().unwrap()).unwrap(),
        burst.len()
    );
    let mut batch = RecvBatch::new(16, 2048).unwrap();
    let (got, _) = recv_until(&rx, &mut batch, |g| g.len() >= count);
    assert_eq!(
        got.len(),
        count,
        "without UDP_GRO the kernel delivers each segment on its own"
    );
    for (g, chunk) in got.iter().zip(burst.chunks(seg)) {
        assert_eq!(g.data, chunk);
        assert_eq!(g.segment_size, None);
        assert_eq!(g.source, Some(tx.local_addr().unwrap()));
    }
}

#[test]
fn gso_send_to_a_gro_socket_keeps_every_segment() {
    let rx = receiver("127.0.0.1:0", true).unwrap();
    let tx = BatchSocket::bind(sa("127.0.0.1:0")).unwrap();
    let (seg, count) = (1200usize, 8usize);
    let burst = pattern(10, seg * count);
    tx.send_segments(&burst, seg as u16, rx.local_addr().unwrap()).unwrap();

    let mut batch = RecvBatch::new(8, GRO_SLOT_SIZE).unwrap();
    let total = |g: &[Got]| g.iter().map(|d| d.data.len()).sum::<usize>();
    let (got, _) = recv_until(&rx, &mut batch, |g| total(g) >= burst.len());
    assert_eq!(total(&got), burst.len());
    // Whatever the kernel coalesced, every datagram splits into whole 1200-byte
    // segments, in order, with the sender's bytes.
    let mut segments = Vec::new();
    for g in &got {
        assert!(!g.truncated);
        if let Some(size) = g.segment_size {
            assert_eq!(size, seg, "UDP_GRO segment size");
        } else {
            assert_eq!(g.data.len(), seg, "a datagram without a segment size is one segment");
        }
        let size = g.segment_size.unwrap_or(g.data.len());
        segments.extend(g.data.chunks(size).map(<[u8]>::to_vec));
    }
    let expected: Vec<Vec<u8>> = burst.chunks(seg).map(<[u8]>::to_vec).collect();
    assert_eq!(segments, expected);
    let shape: Vec<(usize, Option<usize>)> = got.iter().map(|g| (g.data.len(), g.segment_size)).collect();
    eprintln!("UDP_SEGMENT {count} x {seg} B to a UDP_GRO socket on loopback arrived as {shape:?}");
}

#[test]
fn send_batch_mixes_gso_and_plain_messages() {
    let gro = receiver("127.0.0.1:0", true).unwrap();
    let plain = receiver("127.0.0.1:0", false).unwrap();
    let tx = BatchSocket::bind(sa("127.0.0.1:0")).unwrap();
    let mut out = SendBatch::new(4, GRO_SLOT_SIZE).unwrap();
    let big = pattern(11, 4 * 1000);
    let small = pattern(12, 500);
    out.push_segments(&big, 1000, gro.local_addr().unwrap()).unwrap();
    out.push(&small, gro.local_addr().unwrap()).unwrap();
    out.push_segments(&big, 1000, plain.local_addr().unwrap()).unwrap();
    assert_eq!(send_all(&tx, &mut out), 3);

    let mut batch = RecvBatch::new(8, GRO_SLOT_SIZE).unwrap();
    let flat = |g: &[Got]| -> Vec<Vec<u8>> {
        g.iter()
            .flat_map(|d| {
                d.data
                    .chunks(d.segment_size.unwrap_or(d.data.len()))
                    .map(<[u8]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (got, _) = recv_until(&gro, &mut batch, |g| flat(g).len() >= 5);
    let mut expected: Vec<Vec<u8>> = big.chunks(1000).map(<[u8]>::to_vec).collect();
    expected.push(small.clone());
    assert_eq!(flat(&got), expected);
    let (got, _) = recv_until(&plain, &mut batch, |g| g.len() >= 4);
    assert_eq!(flat(&got), big.chunks(1000).map(<[u8]>::to_vec).collect::<Vec<_>>());
}

#[test]
fn a_refused_message_is_dropped_and_the_rest_still_go() {
    let rx = receiver("127.0.0.1:0", false).unwrap();
    let tx = BatchSocket::bind(sa("127.0.0.1:0")).unwrap();
    let to = rx.local_addr().unwrap();
    let v6 = sa("[::1]:9"); // an IPv4 socket refuses it: EAFNOSUPPORT
    let mut out = SendBatch::new(8, 64).unwrap();
    out.push(b"one", to).unwrap();
    out.push(b"bad", v6).unwrap();
    out.push(b"two", to).unwrap();
    out.push(b"bad", v6).unwrap();
    // The kernel takes "one", stops at the first bad one…
    assert_eq!(tx.send_batch(&mut out).unwrap(), 1);
    assert_eq!(out.len(), 3);
    // …which fails on its own and is dropped…
    let e = tx.send_batch(&mut out).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EAFNOSUPPORT), "{e}");
    assert_eq!((out.len(), out.dropped()), (2, 1));
    // …then "two", then the last one fails and the batch is empty.
    assert_eq!(tx.send_batch(&mut out).unwrap(), 1);
    assert!(tx.send_batch(&mut out).is_err());
    assert!(out.is_empty());
    assert_eq!(out.dropped(), 2);
    assert_eq!(tx.send_batch(&mut out).unwrap(), 0);

    let mut batch = RecvBatch::new(8, 64).unwrap();
    let (got, _) = recv_until(&rx, &mut batch, |g| g.len() >= 2);
    assert_eq!(
        got.iter().map(|g| g.data.as_slice()).collect::<Vec<_>>(),
        [b"one", b"two"]
    );
}

#[test]
fn long_datagrams_are_marked_truncated() {
    let rx = receiver("127.0.0.1:0", false).unwrap();
    let tx = BatchSocket::bind(sa("127.0.0.1:0")).unwrap();
    let msg = pattern(13, 300);
    tx.send_segments(&msg, 300, rx.local_addr().unwrap()).unwrap(); // one segment: a plain datagram
    let mut batch = RecvBatch::new(4, 100).unwrap();
    let (got, _) = recv_until(&rx, &mut batch, |g| !g.is_empty());
    assert!(got[0].truncated);
    assert_eq!(got[0].data, msg[..100]);
}

#[test]
fn nonblocking_receive_with_nothing_queued_would_block() {
    let rx = BatchSocket::bind_with(
        sa("127.0.0.1:0"),
        &SocketOptions {
            nonblocking: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mut batch = RecvBatch::new(4, 64).unwrap();
    let e = rx.recv_batch(&mut batch).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    assert!(batch.is_empty());
    assert!(!rx.wait_readable(Some(std::time::Duration::from_millis(10))).unwrap());
    let tx = BatchSocket::bind(sa("127.0.0.1:0")).unwrap();
    tx.send_segments(b"x", 1, rx.local_addr().unwrap()).unwrap();
    assert!(rx.wait_readable(Some(TIMEOUT)).unwrap());
    assert_eq!(rx.recv_batch(&mut batch).unwrap(), 1);
}

#[test]
fn reuse_port_lets_workers_share_an_address() {
    let opts = SocketOptions {
        reuse_port: true,
        ..Default::default()
    };
    let first = BatchSocket::bind_with(sa("127.0.0.1:0"), &opts).unwrap();
    let addr = first.local_addr().unwrap();
    let second = BatchSocket::bind_with(addr, &opts).unwrap();
    assert_eq!(second.local_addr().unwrap(), addr);
    let e = BatchSocket::bind(addr).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EADDRINUSE), "{e}");
    assert!(matches!(e, Error::Sys { call: "bind", .. }));
}

#[test]
fn socket_buffers_grow() {
    let sock = BatchSocket::bind(sa("127.0.0.1:0")).unwrap();
    let want = 8 << 20;
    let rmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(212_992);
    let got = sock.set_recv_buffer_size(want).unwrap();
    // The kernel reports twice what it grants; without CAP_NET_ADMIN it grants at most
    // rmem_max.
    assert!(got >= 2 * want.min(rmem_max), "SO_RCVBUF {got}");
    eprintln!(
        "SO_RCVBUF after asking for {want}: {got} ({})",
        if got >= 2 * want {
            "SO_RCVBUFFORCE took"
        } else {
            "capped at rmem_max"
        }
    );
    let got = sock.set_send_buffer_size(want).unwrap();
    assert!(got >= 2 * 65536, "SO_SNDBUF {got}");
}
