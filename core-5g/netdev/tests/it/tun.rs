//! TUN devices against the real kernel, each test in its own fresh network namespace
//! (no addresses or routes leak to the host; the device goes when the test ends).

use std::io::IoSlice;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, UdpSocket};

use hexcore_netdev::{BatchSocket, Error, GsoType, Offload, Tun, VnetHeader};

use crate::common::*;

#[test]
fn kernel_answers_an_icmp_echo_written_into_the_tun() {
    if skip("kernel_answers_an_icmp_echo_written_into_the_tun") {
        return;
    }
    in_new_netns(|| {
        let name = unique("hxt");
        let tun = Tun::open(&name).unwrap();
        assert_eq!(tun.name(), name);
        assert_eq!(tun.vnet_hdr_len(), 0);
        assert!(!tun.is_multi_queue());
        tun.add_address(IpAddr::V4(v4("10.200.1.1")), 24).unwrap();
        tun.set_mtu(1400).unwrap();
        tun.set_up().unwrap();
        let iface = tun.interface();
        assert_eq!(iface.mtu().unwrap(), 1400);
        assert!(iface.is_up().unwrap());
        assert!(iface.index().unwrap() > 1);

        // From the "UE side" 10.200.1.2 to the kernel's own 10.200.1.1.
        let data = pattern(0xec40, 56);
        let request = icmp_echo_request(v4("10.200.1.2"), v4("10.200.1.1"), 0x4242, 7, &data);
        assert_eq!(tun.write(&request).unwrap(), request.len());
        let reply = read_matching(&tun, "ICMP echo reply", |p| {
            parse_ip(p).is_some_and(|ip| ip.proto == 1 && ip.payload.first() == Some(&0))
        });
        let ip = parse_ip(&reply).unwrap();
        assert_eq!(ip.src, IpAddr::V4(v4("10.200.1.1")));
        assert_eq!(ip.dst, IpAddr::V4(v4("10.200.1.2")));
        let icmp = ip.payload;
        assert_eq!(fold(sum16(0, icmp)), 0, "ICMP checksum");
        assert_eq!(&icmp[4..6], &0x4242u16.to_be_bytes(), "identifier");
        assert_eq!(&icmp[6..8], &7u16.to_be_bytes(), "sequence");
        assert_eq!(&icmp[8..], &data[..]);
    });
}

#[test]
fn udp_sent_to_routed_addresses_is_read_from_the_tun() {
    if skip("udp_sent_to_routed_addresses_is_read_from_the_tun") {
        return;
    }
    in_new_netns(|| {
        let tun = Tun::open(&unique("hxt")).unwrap();
        tun.add_address(IpAddr::V4(v4("10.200.2.1")), 24).unwrap();
        tun.add_address("fd00:200:2::1".parse().unwrap(), 64).unwrap();
        tun.set_up().unwrap();
        tun.add_route(IpAddr::V4(v4("10.201.2.0")), 24).unwrap();
        tun.add_route("fd00:201:2::".parse().unwrap(), 64).unwrap();

        // Adding the same address twice is refused, and the error says by what.
        let e = tun.add_address(IpAddr::V4(v4("10.200.2.1")), 24).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST), "{e}");
        assert!(e.to_string().contains("RTM_NEWADDR"), "{e}");
        let e = tun.add_route(IpAddr::V4(v4("10.201.2.0")), 24).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST), "{e}");

        for (from, to) in [
            ("10.200.2.1:0", "10.200.2.2:9999"),           // on-link, prefix route
            ("10.200.2.1:0", "10.201.2.7:2152"),           // through add_route
            ("[fd00:200:2::1]:0", "[fd00:200:2::2]:9"),    // IPv6 on-link
            ("[fd00:200:2::1]:0", "[fd00:201:2::5]:2152"), // IPv6 through add_route
        ] {
            let sock = UdpSocket::bind(sa(from)).unwrap();
            let local = sock.local_addr().unwrap();
            let to = sa(to);
            let payload = pattern(to.port().into(), 300);
            sock.send_to(&payload, to).unwrap();
            let p = read_matching(&tun, "the UDP datagram", |p| is_udp_between(p, local.ip(), to.ip()));
            let ip = parse_ip(&p).unwrap();
            let (sport, dport, data) = parse_udp(ip.payload).unwrap();
            assert_eq!((sport, dport), (local.port(), to.port()), "{from} -> {to}");
            assert_eq!(data, &payload[..], "{from} -> {to}");
        }
    });
}

#[test]
fn udp_written_into_the_tun_reaches_a_socket() {
    if skip("udp_written_into_the_tun_reaches_a_socket") {
        return;
    }
    in_new_netns(|| {
        let tun = Tun::open(&unique("hxt")).unwrap();
        tun.add_address(IpAddr::V4(v4("10.200.3.1")), 24).unwrap();
        tun.set_up().unwrap();
        let sock = BatchSocket::bind(sa("10.200.3.1:0")).unwrap();
        sock.socket().set_read_timeout(Some(TIMEOUT)).unwrap();
        let SocketAddr::V4(dst) = sock.local_addr().unwrap() else {
            unreachable!()
        };
        let src = SocketAddrV4::new(v4("10.200.3.2"), 5000);
        let payload = pattern(3, 1000);
        let packet = ipv4_udp(src, dst, &payload);
        // Through write_vectored too: header and payload from two buffers.
        assert_eq!(tun.write(&packet).unwrap(), packet.len());
        let n = tun
            .write_vectored(&[IoSlice::new(&packet[..28]), IoSlice::new(&packet[28..])])
            .unwrap();
        assert_eq!(n, packet.len());
        let mut buf = [0u8; 2048];
        for _ in 0..2 {
            let (n, from) = sock.socket().recv_from(&mut buf).unwrap();
            assert_eq!(from, SocketAddr::V4(src));
            assert_eq!(&buf[..n], &payload[..]);
        }
    });
}

#[test]
fn multiqueue_device_takes_packets_on_every_queue() {
    if skip("multiqueue_device_takes_packets_on_every_queue") {
        return;
    }
    in_new_netns(|| {
        let name = unique("hxq");
        let queues = Tun::builder().name(&name).open_queues(4).unwrap();
        assert_eq!(queues.len(), 4);
        for q in &queues {
            assert_eq!(q.name(), name);
            assert!(q.is_multi_queue());
        }
        let tun = &queues[0];
        tun.add_address(IpAddr::V4(v4("10.200.4.1")), 24).unwrap();
        tun.set_up().unwrap();

        // Every queue can write: one datagram through each reaches the socket.
        let sock = UdpSocket::bind("10.200.4.1:0").unwrap();
        sock.set_read_timeout(Some(TIMEOUT)).unwrap();
        let SocketAddr::V4(dst) = sock.local_addr().unwrap() else {
            unreachable!()
        };
        for (i, q) in queues.iter().enumerate() {
            let src = SocketAddrV4::new(v4("10.200.4.2"), 6000 + i as u16);
            q.write(&ipv4_udp(src, dst, &pattern(i as u32, 64))).unwrap();
        }
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        for _ in 0..4 {
            let (n, from) = sock.recv_from(&mut buf).unwrap();
            assert_eq!(n, 64);
            seen.push(from.port());
        }
        seen.sort_unstable();
        assert_eq!(seen, [6000, 6001, 6002, 6003]);

        // The kernel spreads what it sends into the device across the queues by flow;
        // together they hold every packet, once.
        let flows = 32u16;
        for i in 0..flows {
            let s = UdpSocket::bind("10.200.4.1:0").unwrap();
            s.send_to(&i.to_be_bytes(), ("10.200.4.9", 7000 + i)).unwrap();
        }
        let mut got = Vec::new();
        let mut per_queue = [0usize; 4];
        let deadline = std::time::Instant::now() + TIMEOUT;
        let mut pkt = [0u8; 2048];
        while got.len() < usize::from(flows) && std::time::Instant::now() < deadline {
            for (qi, q) in queues.iter().enumerate() {
                while let Ok(n) = q.read(&mut pkt) {
                    let Some(ip) = parse_ip(&pkt[..n]) else { continue };
                    if ip.proto != 17 || ip.dst != IpAddr::V4(v4("10.200.4.9")) {
                        continue;
                    }
                    let (_, dport, data) = parse_udp(ip.payload).unwrap();
                    assert_eq!(data, (dport - 7000).to_be_bytes());
                    got.push(dport);
                    per_queue[qi] += 1;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        got.sort_unstable();
        assert_eq!(got, (7000..7000 + flows).collect::<Vec<_>>());
        eprintln!("multiqueue: {flows} flows read per queue: {per_queue:?}");
    });
}

#[test]
fn vnet_header_offloads_and_udp_segmentation_both_ways() {
    if skip("vnet_header_offloads_and_udp_segmentation_both_ways") {
        return;
    }
    in_new_netns(|| {
        let tun = Tun::builder()
            .name(&unique("hxv"))
            .vnet_hdr(true)
            .offload(Offload::ALL)
            .open()
            .unwrap();
        let accepted = tun.offload();
        eprintln!("TUNSETOFFLOAD: asked {}, kernel accepted {accepted}", Offload::ALL);
        assert_eq!(tun.vnet_hdr_len(), VnetHeader::LEN);
        assert!(
            accepted.contains(Offload::CSUM | Offload::TSO4 | Offload::TSO6),
            "{accepted}"
        );
        let uso = accepted.contains(Offload::USO4 | Offload::USO6);
        if kernel_version() >= (6, 2) {
            assert!(uso, "Linux >= 6.2 takes TUN_F_USO4|USO6, got {accepted}");
        }
        tun.add_address(IpAddr::V4(v4("10.200.5.1")), 24).unwrap();
        tun.set_up().unwrap();

        // 1. Write: one UDP super-packet of 8 × 1000 bytes with a GSO vnet header (as
        //    tunwrite.c does); the socket receives 8 datagrams.
        let sock = UdpSocket::bind("10.200.5.1:0").unwrap();
        sock.set_read_timeout(Some(TIMEOUT)).unwrap();
        let SocketAddr::V4(dst) = sock.local_addr().unwrap() else {
            unreachable!()
        };
        let src = SocketAddrV4::new(v4("10.200.5.2"), 5001);
        let (seg, count) = (1000usize, 8usize);
        let payload = pattern(5, seg * count);
        let mut packet = ipv4_udp(src, dst, &payload);
        // Partial checksum: the pseudo-header sum, not inverted (NEEDS_CSUM).
        let partial = !fold(pseudo_v4(*src.ip(), *dst.ip(), 17, 8 + payload.len()));
        packet[26..28].copy_from_slice(&partial.to_be_bytes());
        let hdr = VnetHeader::udp_segments(20, seg as u16);
        let mut hdr_bytes = [0u8; VnetHeader::LEN];
        hdr.emit(&mut hdr_bytes).unwrap();
        let n = tun
            .write_vectored(&[IoSlice::new(&hdr_bytes), IoSlice::new(&packet)])
            .unwrap();
        assert_eq!(n, VnetHeader::LEN + packet.len());
        let mut buf = [0u8; 2048];
        for chunk in payload.chunks(seg) {
            let (n, from) = sock.recv_from(&mut buf).unwrap();
            assert_eq!(from, SocketAddr::V4(src));
            assert_eq!(&buf[..n], chunk);
        }

        // 2. Read, plain datagram: a vnet header, then the packet.
        let local: SocketAddr = sock.local_addr().unwrap();
        let peer: SocketAddr = "10.200.5.2:7777".parse().unwrap();
        let small = pattern(6, 1000);
        sock.send_to(&small, peer).unwrap();
        let p = read_matching(&tun, "plain datagram", |p| {
            p.len() > VnetHeader::LEN && is_udp_between(&p[VnetHeader::LEN..], local.ip(), peer.ip())
        });
        let h = VnetHeader::parse(&p).unwrap();
        eprintln!(
            "vnet header of a plain UDP read: {h:?} bytes {:02x?}",
            &p[..VnetHeader::LEN]
        );
        assert_eq!(h.gso_type, GsoType::None);
        let ip = parse_ip(&p[VnetHeader::LEN..]).unwrap();
        assert_eq!(parse_udp(ip.payload).unwrap().2, &small[..]);
        if !h.needs_csum() {
            assert_eq!(
                fold(sum16(
                    pseudo_v4(v4("10.200.5.1"), v4("10.200.5.2"), 17, ip.payload.len()),
                    ip.payload
                )),
                0
            );
        }

        // 3. Read, GSO burst: 8 × 1000 bytes sent with UDP_SEGMENT towards the TUN. With
        //    USO accepted the kernel may hand it over as one super-packet; otherwise (or
        //    if it segments anyway) as 8 packets. Either way the bytes must be intact.
        let gso_sock = BatchSocket::bind(sa("10.200.5.1:0")).unwrap();
        let gso_local = gso_sock.local_addr().unwrap();
        let burst = pattern(7, seg * count);
        gso_sock.send_segments(&burst, seg as u16, peer).unwrap();
        let mut received = Vec::new();
        let mut reads = 0;
        while received.len() < burst.len() {
            let p = read_matching(&tun, "GSO burst", |p| {
                p.len() > VnetHeader::LEN && is_udp_between(&p[VnetHeader::LEN..], gso_local.ip(), peer.ip())
            });
            reads += 1;
            let h = VnetHeader::parse(&p).unwrap();
            let ip = parse_ip(&p[VnetHeader::LEN..]).unwrap();
            let (_, _, data) = parse_udp(ip.payload).unwrap();
            if h.gso_type == GsoType::UdpL4 {
                assert!(uso, "a UDP_L4 super-packet although USO was not accepted");
                assert_eq!(usize::from(h.gso_size), seg);
                assert_eq!((h.hdr_len, h.csum_start, h.csum_offset), (28, 20, 6));
                assert!(h.needs_csum());
            } else {
                assert_eq!(h.gso_type, GsoType::None);
            }
            received.extend_from_slice(data);
        }
        assert_eq!(received, burst);
        eprintln!("UDP_SEGMENT burst of {count} x {seg} B towards the TUN came out in {reads} read(s)");
        if uso {
            assert!(reads == 1 || reads == count, "{reads} reads");
        } else {
            assert_eq!(reads, count);
        }
    });
}

#[test]
fn a_tun_of_another_namespace_is_invisible_here() {
    if skip("a_tun_of_another_namespace_is_invisible_here") {
        return;
    }
    let name = unique("hxn");
    let tun = in_new_netns(|| {
        let tun = Tun::open(&name).unwrap();
        tun.set_up().unwrap();
        tun
    });
    // The device (and its namespace) live on through the fd, but not in this namespace.
    let e = tun.interface().index().unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENODEV), "{e}");
    assert!(matches!(
        e,
        Error::Sys {
            call: "ioctl(SIOCGIFINDEX)",
            ..
        }
    ));
    // Nothing queued, and a read does not block.
    let mut buf = [0u8; 64];
    let e = loop {
        match tun.read(&mut buf) {
            Ok(_) => continue, // an IPv6 router solicitation, say
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
}
