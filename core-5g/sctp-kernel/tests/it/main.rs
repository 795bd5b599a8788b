//! Tests against the real kernel SCTP stack. Each is skipped (with a note) where the
//! kernel has no SCTP; `scripts/sctp-kernel-interop.sh` runs them in a microVM whose
//! kernel has it. Timeouts are generous: the VM emulates the CPU (5-20x slower).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hexcore_sctp_kernel::{KernelAssociation, KernelEvent, KernelListener, KernelOptions, NGAP_PPID, is_supported};

const STREAMS: u16 = 4;

fn skip(test: &str) -> bool {
    if is_supported() {
        return false;
    }
    eprintln!("note: {test} skipped: kernel SCTP is unavailable on this host");
    true
}

async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// A connected pair over loopback, both sides past `Up`.
async fn pair(listen: &str) -> (KernelAssociation, KernelAssociation) {
    let listener = KernelListener::bind(listen.parse().unwrap(), STREAMS).unwrap();
    let addr = listener.local_addr().unwrap();
    assert_ne!(addr.port(), 0);
    let (client, accepted) = within("connect+accept", async {
        tokio::join!(KernelAssociation::connect(None, addr, STREAMS), listener.accept())
    })
    .await;
    let client = client.unwrap();
    let (server, peer) = accepted.unwrap();
    assert_eq!(peer.ip(), addr.ip());
    assert_eq!(server.peer_addr().unwrap(), peer);
    assert_eq!(client.peer_addr().unwrap(), addr);
    assert_eq!(client.local_addr().unwrap().port(), peer.port());
    assert_eq!(within("client up", client.recv()).await.unwrap(), KernelEvent::Up);
    assert_eq!(within("server up", server.recv()).await.unwrap(), KernelEvent::Up);
    (client, server)
}

async fn expect_message(a: &KernelAssociation) -> (u16, u32, Vec<u8>) {
    match within("message", a.recv()).await.unwrap() {
        KernelEvent::Message { stream, ppid, data } => (stream, ppid, data),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn messages_both_ways_on_every_stream() {
    if skip("messages_both_ways_on_every_stream") {
        return;
    }
    let (client, server) = pair("127.0.0.1:0").await;
    for stream in 0..STREAMS {
        let body = format!("uplink on stream {stream}");
        client.send(stream, NGAP_PPID, body.as_bytes()).await.unwrap();
        assert_eq!(expect_message(&server).await, (stream, NGAP_PPID, body.into_bytes()));
        let body = format!("downlink on stream {stream}");
        server.send(stream, NGAP_PPID, body.as_bytes()).await.unwrap();
        assert_eq!(expect_message(&client).await, (stream, NGAP_PPID, body.into_bytes()));
    }
    // A PPID that is not symmetric under byte swapping comes through unchanged.
    client.send(1, 0x0102_0304, b"x").await.unwrap();
    assert_eq!(expect_message(&server).await, (1, 0x0102_0304, b"x".to_vec()));
}

#[tokio::test]
async fn large_message_is_reassembled() {
    if skip("large_message_is_reassembled") {
        return;
    }
    let (client, server) = pair("127.0.0.1:0").await;
    // 64 KiB + 1 and 180 KiB: both larger than one 64 KiB read, so they arrive in
    // pieces. (A message larger than the send buffer, 208 KiB by default, is refused by
    // the kernel with EMSGSIZE.)
    for len in [64 * 1024 + 1, 180 * 1024] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let sender = async { client.send(2, NGAP_PPID, &data).await.unwrap() };
        let ((), got) = within("large", async { tokio::join!(sender, expect_message(&server)) }).await;
        assert_eq!(got.0, 2);
        assert_eq!(got.1, NGAP_PPID);
        assert_eq!(got.2.len(), len);
        assert!(got.2 == data, "payload differs");
    }
}

#[tokio::test]
async fn graceful_close_is_down_on_both_sides() {
    if skip("graceful_close_is_down_on_both_sides") {
        return;
    }
    let (client, server) = pair("127.0.0.1:0").await;
    client.send(0, NGAP_PPID, b"last words").await.unwrap();
    client.close().unwrap();
    assert_eq!(expect_message(&server).await, (0, NGAP_PPID, b"last words".to_vec()));
    match within("server down", server.recv()).await.unwrap() {
        KernelEvent::Down { reason } => eprintln!("server: Down({reason})"),
        other => panic!("expected Down, got {other:?}"),
    }
    match within("client down", client.recv()).await.unwrap() {
        KernelEvent::Down { reason } => eprintln!("client: Down({reason})"),
        other => panic!("expected Down, got {other:?}"),
    }
    // Down is reported once; then the association is gone.
    let err = within("after down", server.recv()).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotConnected);
    assert!(client.send(0, NGAP_PPID, b"too late").await.is_err());
}

#[tokio::test]
async fn dropping_with_unread_data_aborts_and_peer_sees_down() {
    if skip("dropping_with_unread_data_aborts_and_peer_sees_down") {
        return;
    }
    let (client, server) = pair("127.0.0.1:0").await;
    server.send(0, NGAP_PPID, b"never read").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(client); // unread data: the kernel sends ABORT (RFC 6458 §4.1.8)
    match within("server down", server.recv()).await.unwrap() {
        KernelEvent::Down { reason } => eprintln!("server: Down({reason})"),
        other => panic!("expected Down, got {other:?}"),
    }
}

#[tokio::test]
async fn connect_without_listener_is_refused() {
    if skip("connect_without_listener_is_refused") {
        return;
    }
    // Bind a listener to learn a free port, then close it.
    let addr = {
        let l = KernelListener::bind("127.0.0.1:0".parse().unwrap(), STREAMS).unwrap();
        l.local_addr().unwrap()
    };
    let err = within("refused", KernelAssociation::connect(None, addr, STREAMS))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
}

#[tokio::test]
async fn ipv6_loopback_and_explicit_local_address() {
    if skip("ipv6_loopback_and_explicit_local_address") {
        return;
    }
    let (client, server) = pair("[::1]:0").await;
    client.send(3, NGAP_PPID, b"v6").await.unwrap();
    assert_eq!(expect_message(&server).await, (3, NGAP_PPID, b"v6".to_vec()));

    let listener = KernelListener::bind("127.0.0.5:0".parse().unwrap(), STREAMS).unwrap();
    let remote = listener.local_addr().unwrap();
    let local: SocketAddr = "127.0.0.7:0".parse().unwrap();
    let (client, accepted) = within("connect", async {
        tokio::join!(
            KernelAssociation::connect(Some(local), remote, STREAMS),
            listener.accept()
        )
    })
    .await;
    let client = client.unwrap();
    let (_server, peer) = accepted.unwrap();
    assert_eq!(peer.ip(), local.ip());
    assert_eq!(client.local_addr().unwrap().ip(), local.ip());
}

#[tokio::test]
async fn stream_beyond_negotiated_count_is_rejected() {
    if skip("stream_beyond_negotiated_count_is_rejected") {
        return;
    }
    let (client, server) = pair("127.0.0.1:0").await;
    let err = client.send(STREAMS, NGAP_PPID, b"x").await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(client.send(0, NGAP_PPID, b"").await.is_err());
    // The association is still fine.
    client.send(0, NGAP_PPID, b"ok").await.unwrap();
    assert_eq!(expect_message(&server).await, (0, NGAP_PPID, b"ok".to_vec()));
}

#[tokio::test]
async fn many_messages_concurrently_in_both_directions() {
    if skip("many_messages_concurrently_in_both_directions") {
        return;
    }
    let (client, server) = pair("127.0.0.1:0").await;
    const N: usize = 500;
    let up = async {
        for i in 0..N {
            let msg = format!("up {i}");
            client
                .send((i % STREAMS as usize) as u16, NGAP_PPID, msg.as_bytes())
                .await
                .unwrap();
        }
    };
    let down = async {
        for i in 0..N {
            let msg = format!("down {i}");
            server
                .send((i % STREAMS as usize) as u16, NGAP_PPID, msg.as_bytes())
                .await
                .unwrap();
        }
    };
    let recv_up = async {
        // Per-stream order is kept (ordered delivery, RFC 9260 §6.6).
        let mut next = [0usize; STREAMS as usize];
        for _ in 0..N {
            let (stream, _, data) = expect_message(&server).await;
            let i: usize = String::from_utf8(data).unwrap()[3..].parse().unwrap();
            assert_eq!(i % STREAMS as usize, stream as usize);
            assert!(i >= next[stream as usize]);
            next[stream as usize] = i + 1;
        }
    };
    let recv_down = async {
        for _ in 0..N {
            let (_, ppid, data) = expect_message(&client).await;
            assert_eq!(ppid, NGAP_PPID);
            assert!(data.starts_with(b"down "));
        }
    };
    within("many", async { tokio::join!(up, down, recv_up, recv_down) }).await;
}

#[tokio::test]
async fn udp_encapsulation_option_is_accepted() {
    if skip("udp_encapsulation_option_is_accepted") {
        return;
    }
    // Only that the kernel takes the option (Linux ≥ 5.11); the interop script tests
    // real RFC 6951 traffic.
    let options = KernelOptions {
        streams: STREAMS,
        remote_udp_encaps_port: Some(9900),
    };
    let l = KernelListener::bind_with("127.0.0.1:0".parse().unwrap(), &options);
    assert!(l.is_ok(), "{l:?}");
}

#[tokio::test]
async fn abort_is_down_at_the_peer() {
    if skip("abort_is_down_at_the_peer") {
        return;
    }
    let (client, server) = pair("127.0.0.1:0").await;
    client.abort().unwrap();
    match within("down after abort", server.recv()).await.unwrap() {
        KernelEvent::Down { reason } => {
            eprintln!("server: Down({reason})");
            assert!(reason.contains("COMM_LOST"), "{reason}");
        }
        other => panic!("expected Down, got {other:?}"),
    }
    assert!(server.send(0, NGAP_PPID, b"gone").await.is_err());
}
