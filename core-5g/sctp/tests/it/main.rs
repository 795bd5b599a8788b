//! N2 API over real loopback sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use hexcore_sctp::{AssociationEvent, N2Association, N2Listener, N2Options, PPID_NGAP, Transport};
use tokio::time::timeout;

const T: Duration = Duration::from_secs(20);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn next_message(a: &N2Association) -> (u16, u32, Bytes) {
    loop {
        match timeout(T, a.recv()).await.expect("event in time") {
            Some(AssociationEvent::Message { stream, ppid, data }) => return (stream, ppid, data),
            Some(AssociationEvent::Up) => continue,
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

async fn expect_down(a: &N2Association) -> String {
    loop {
        match timeout(T, a.recv()).await.expect("event in time") {
            Some(AssociationEvent::Down { reason }) => return reason,
            Some(_) => continue,
            None => panic!("closed without Down"),
        }
    }
}

/// Echo server + client over the given transport: messages on several
/// streams, one large message, then a graceful close seen on both sides.
async fn echo_round_trip(transport: Transport, options: N2Options) {
    let listener = N2Listener::bind_with(transport, loopback(), &options).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (assoc, _peer) = timeout(T, listener.accept()).await.unwrap().unwrap();
        loop {
            match timeout(T, assoc.recv()).await.unwrap() {
                Some(AssociationEvent::Message { stream, ppid, data }) => {
                    assoc.send(stream, ppid, data).await.unwrap();
                }
                Some(AssociationEvent::Down { reason }) => return reason,
                Some(_) => {}
                None => return "gone".to_owned(),
            }
        }
    });
    let client = N2Association::connect_with(transport, None, addr, &options)
        .await
        .unwrap();
    assert_eq!(client.transport(), transport);
    for i in 0..50u16 {
        let stream = i % 4;
        let msg = Bytes::from(format!("NGAP message {i}").into_bytes());
        client.send(stream, PPID_NGAP, msg.clone()).await.unwrap();
        assert_eq!(next_message(&client).await, (stream, PPID_NGAP, msg));
    }
    let big: Bytes = (0..150_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>().into();
    client.send(1, PPID_NGAP, big.clone()).await.unwrap();
    assert_eq!(next_message(&client).await.2, big);
    client.close().unwrap();
    let reason = expect_down(&client).await;
    assert!(reason.contains("shutdown"), "{reason}");
    let server_reason = timeout(T, server).await.unwrap().unwrap();
    assert!(!server_reason.is_empty());
}

#[tokio::test]
async fn udp_echo_over_loopback() {
    echo_round_trip(
        Transport::Udp,
        N2Options {
            streams: 4,
            ..N2Options::default()
        },
    )
    .await;
}

#[tokio::test]
async fn kernel_echo_over_loopback_when_supported() {
    if !hexcore_sctp_kernel::is_supported() {
        eprintln!("kernel SCTP not available here; skipped");
        return;
    }
    echo_round_trip(
        Transport::Kernel,
        N2Options {
            streams: 4,
            ..N2Options::default()
        },
    )
    .await;
}

#[tokio::test]
async fn udp_listener_serves_many_peers() {
    let listener = N2Listener::bind(Transport::Udp, loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut handles = Vec::new();
        for _ in 0..5 {
            let (assoc, _) = timeout(T, listener.accept()).await.unwrap().unwrap();
            handles.push(tokio::spawn(async move {
                let (stream, ppid, data) = next_message(&assoc).await;
                let mut reply = b"ack:".to_vec();
                reply.extend_from_slice(&data);
                assoc.send(stream, ppid, reply).await.unwrap();
                expect_down(&assoc).await
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    let mut clients = Vec::new();
    for i in 0..5u8 {
        clients.push(tokio::spawn(async move {
            let c = N2Association::connect(Transport::Udp, None, addr).await.unwrap();
            c.send(0, PPID_NGAP, vec![b'0' + i]).await.unwrap();
            let (_, _, data) = next_message(&c).await;
            assert_eq!(data, Bytes::from(vec![b'a', b'c', b'k', b':', b'0' + i]));
            c.close().unwrap();
            expect_down(&c).await;
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    timeout(T, server).await.unwrap().unwrap();
}

#[tokio::test]
async fn udp_abort_reaches_the_peer() {
    let listener = N2Listener::bind(Transport::Udp, loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let client = N2Association::connect(Transport::Udp, None, addr).await.unwrap();
    let (server, peer) = timeout(T, listener.accept()).await.unwrap().unwrap();
    assert_eq!(server.peer_addr(), peer);
    client.abort().unwrap();
    let reason = expect_down(&server).await;
    assert!(reason.contains("abort"), "{reason}");
}

#[tokio::test]
async fn udp_connect_to_nobody_times_out() {
    // A bound socket that never answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let options = N2Options {
        connect_timeout: Duration::from_millis(300),
        ..N2Options::default()
    };
    let r = N2Association::connect_with(Transport::Udp, None, silent.local_addr().unwrap(), &options).await;
    assert!(matches!(r, Err(hexcore_sctp::Error::Timeout)), "{r:?}");
}

#[test]
fn transport_names() {
    assert_eq!("udp".parse::<Transport>(), Ok(Transport::Udp));
    assert_eq!("Kernel".parse::<Transport>(), Ok(Transport::Kernel));
    assert!("tcp".parse::<Transport>().is_err());
    assert_eq!(Transport::Udp.to_string(), "udp");
}

/// A UDP relay between client and server that drops, duplicates and delays
/// datagrams (seeded), to exercise the carrier's timers on real sockets.
async fn lossy_relay(server: SocketAddr, seed: u64) -> SocketAddr {
    use rand::{Rng, SeedableRng};
    let sock = std::sync::Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut client: Option<SocketAddr> = None;
        let mut buf = vec![0u8; 65536];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let to = if from == server {
                match client {
                    Some(c) => c,
                    None => continue,
                }
            } else {
                client = Some(from);
                server
            };
            if rng.random_bool(0.2) {
                continue;
            }
            let copies = if rng.random_bool(0.1) { 2 } else { 1 };
            let delay = Duration::from_millis(rng.random_range(0..20));
            let data = buf[..n].to_vec();
            let sock = sock.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                for _ in 0..copies {
                    let _ = sock.send_to(&data, to).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn udp_carrier_recovers_from_loss_on_real_sockets() {
    let mut options = N2Options {
        streams: 3,
        ..N2Options::default()
    };
    options.udp.rto_initial = Duration::from_millis(200);
    options.udp.rto_min = Duration::from_millis(50);
    // Bounds the back-off so a run of losses cannot stall the test.
    options.udp.rto_max = Duration::from_secs(1);
    options.udp.association_max_retrans = 50;
    let listener = N2Listener::bind_with(Transport::Udp, loopback(), &options).unwrap();
    let relay = lossy_relay(listener.local_addr().unwrap(), 7).await;
    let server = tokio::spawn(async move {
        let (assoc, _) = timeout(T, listener.accept()).await.unwrap().unwrap();
        let mut got = Vec::new();
        while got.len() < 100 {
            got.push(next_message(&assoc).await);
        }
        assoc.send(0, PPID_NGAP, Bytes::from_static(b"done")).await.unwrap();
        expect_down(&assoc).await;
        got
    });
    let client = N2Association::connect_with(Transport::Udp, None, relay, &options)
        .await
        .unwrap();
    let mut sent = Vec::new();
    for i in 0..100u32 {
        let stream = (i % 3) as u16;
        let len = if i % 10 == 0 { 3000 } else { 100 };
        let data = Bytes::from(vec![i as u8; len]);
        client.send(stream, PPID_NGAP, data.clone()).await.unwrap();
        sent.push((stream, PPID_NGAP, data));
    }
    assert_eq!(next_message(&client).await.2, Bytes::from_static(b"done"));
    client.close().unwrap();
    let got = timeout(T, server).await.unwrap().unwrap();
    for stream in 0..3 {
        let a: Vec<_> = sent.iter().filter(|m| m.0 == stream).collect();
        let b: Vec<_> = got.iter().filter(|m| m.0 == stream).collect();
        assert_eq!(a, b, "stream {stream}");
    }
}

/// Drives a sans-IO association over a real socket until `done`.
async fn drive_raw(
    a: &mut hexcore_sctp::Association,
    sock: &tokio::net::UdpSocket,
    peer: SocketAddr,
    mut done: impl FnMut(&hexcore_sctp::Event) -> bool,
) {
    let deadline = tokio::time::Instant::now() + T;
    let mut buf = vec![0u8; 65536];
    loop {
        let now = std::time::Instant::now();
        while let Some(p) = a.poll_transmit(now) {
            sock.send_to(&p, peer).await.unwrap();
        }
        while let Some(ev) = a.poll_event() {
            if done(&ev) {
                return;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "raw peer: timed out");
        let wait = a
            .poll_timeout()
            .map(|t| t.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(100))
            .min(Duration::from_millis(100));
        match timeout(wait, sock.recv_from(&mut buf)).await {
            Ok(Ok((n, _))) => a.handle(std::time::Instant::now(), &buf[..n]),
            _ => a.handle_timeout(std::time::Instant::now()),
        }
    }
}

#[tokio::test]
async fn udp_carrier_reports_a_peer_restart() {
    use hexcore_sctp::{Association, Config, Event};
    let listener = N2Listener::bind(Transport::Udp, loopback()).unwrap();
    let server_addr = listener.local_addr().unwrap();
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();

    let mut first = Association::connect(std::time::Instant::now(), Config::default(), 41);
    drive_raw(&mut first, &sock, server_addr, |e| *e == Event::Up).await;
    let (server, _) = timeout(T, listener.accept()).await.unwrap().unwrap();
    assert_eq!(timeout(T, server.recv()).await.unwrap(), Some(AssociationEvent::Up));

    // The peer "reboots": same address and ports, new tags and TSNs.
    let mut second = Association::connect(std::time::Instant::now(), Config::default(), 42);
    drive_raw(&mut second, &sock, server_addr, |e| *e == Event::Up).await;
    assert_eq!(
        timeout(T, server.recv()).await.unwrap(),
        Some(AssociationEvent::Restart)
    );

    // The association goes on with the new peer.
    let responder = tokio::spawn(async move {
        let (stream, ppid, data) = next_message(&server).await;
        assert_eq!((stream, ppid, &data[..]), (3, PPID_NGAP, &b"NG Setup again"[..]));
        server
            .send(3, PPID_NGAP, Bytes::from_static(b"NG Setup response"))
            .await
            .unwrap();
        server
    });
    second
        .send(3, PPID_NGAP, Bytes::from_static(b"NG Setup again"))
        .unwrap();
    drive_raw(
        &mut second,
        &sock,
        server_addr,
        |e| matches!(e, Event::Message { data, .. } if &data[..] == b"NG Setup response"),
    )
    .await;
    timeout(T, responder).await.unwrap().unwrap();
}
