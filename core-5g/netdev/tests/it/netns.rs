//! Network namespaces: named ones through `ip netns`, fresh ones through `unshare`.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;

use hexcore_netdev::netns::{self, Namespace};
use hexcore_netdev::{Error, Interface, Tun};

use crate::common::*;

/// The namespace of the calling thread, as the kernel names it (`net:[inode]`).
fn current_netns() -> PathBuf {
    std::fs::read_link("/proc/thread-self/ns/net").unwrap()
}

/// Creates a uniquely named namespace, or says why it cannot.
fn named(test: &str) -> Option<Namespace> {
    if skip(test) {
        return None;
    }
    let name = unique("hexcore-test-");
    match Namespace::create(&name) {
        Ok(ns) => Some(ns),
        Err(e @ Error::Command { .. }) if e.to_string().contains("could not run") => {
            eprintln!("note: {test} skipped: {e}");
            None
        }
        Err(e) => panic!("creating namespace {name}: {e}"),
    }
}

#[test]
fn sockets_and_tuns_opened_in_a_named_namespace_stay_there() {
    let Some(ns) = named("sockets_and_tuns_opened_in_a_named_namespace_stay_there") else {
        return;
    };
    assert!(netns::exists(ns.name()));
    let here = current_netns();

    // Take a port here, then bind the same address and port inside: that only works
    // because the namespace has a loopback of its own.
    let outside = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = outside.local_addr().unwrap().port();
    let tun_name = unique("hxs");
    let (inside, tun, there) = ns
        .run(|| {
            Interface::new("lo").unwrap().set_up().unwrap();
            let sock = UdpSocket::bind(("127.0.0.1", port)).unwrap();
            let tun = Tun::open(&tun_name).unwrap();
            assert!(tun.interface().index().is_ok());
            (sock, tun, current_netns())
        })
        .unwrap();
    assert_ne!(there, here, "the closure ran in another namespace");
    assert_eq!(current_netns(), here, "the caller's thread did not move");
    assert_eq!(inside.local_addr().unwrap(), outside.local_addr().unwrap());

    // The thread is gone; the socket still lives in the namespace: a datagram sent
    // there reaches it, one sent here reaches the socket here.
    inside.set_read_timeout(Some(TIMEOUT)).unwrap();
    outside.set_read_timeout(Some(TIMEOUT)).unwrap();
    let to = SocketAddr::from(([127, 0, 0, 1], port));
    ns.run(|| UdpSocket::bind("127.0.0.1:0").unwrap().send_to(b"inside", to).unwrap())
        .unwrap();
    UdpSocket::bind("127.0.0.1:0").unwrap().send_to(b"outside", to).unwrap();
    let mut buf = [0u8; 16];
    let n = inside.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"inside");
    let n = outside.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"outside");

    // The TUN is visible in the namespace only.
    assert!(Interface::new(&tun_name).unwrap().index().is_err());
    let idx = ns.run(|| Interface::new(&tun_name).unwrap().index()).unwrap();
    assert!(idx.unwrap() > 1);
    drop(tun);

    let name = ns.name().to_owned();
    ns.delete().unwrap();
    assert!(!netns::exists(&name));
    assert!(netns::run_in(&name, || ()).is_err());
}

#[test]
fn enter_moves_the_thread_and_the_guard_brings_it_back() {
    let Some(ns) = named("enter_moves_the_thread_and_the_guard_brings_it_back") else {
        return;
    };
    let name = ns.name().to_owned();
    let inside = ns.run(current_netns).unwrap();
    std::thread::spawn(move || {
        let before = current_netns();
        let guard = netns::enter(&name).unwrap();
        assert_eq!(current_netns(), inside);
        drop(guard);
        assert_eq!(current_netns(), before);
        let guard = netns::enter(&name).unwrap();
        assert_eq!(current_netns(), inside);
        guard.leave().unwrap();
        assert_eq!(current_netns(), before);
    })
    .join()
    .unwrap();
}

#[test]
fn a_panic_inside_comes_back_as_an_error() {
    if skip("a_panic_inside_comes_back_as_an_error") {
        return;
    }
    let e = netns::run_in_new(|| -> () { panic!("boom {}", 42) }).unwrap_err();
    assert!(
        matches!(&e, Error::Panicked { message, .. } if message == "boom 42"),
        "{e}"
    );
}

#[test]
fn a_fresh_namespace_starts_with_loopback_down() {
    if skip("a_fresh_namespace_starts_with_loopback_down") {
        return;
    }
    let here = current_netns();
    let (was_up, there) = netns::run_in_new(|| {
        let lo = Interface::new("lo").unwrap();
        let was_up = lo.is_up().unwrap();
        lo.set_up().unwrap();
        assert!(lo.is_up().unwrap());
        (was_up, current_netns())
    })
    .unwrap();
    assert!(!was_up);
    assert_ne!(there, here);
    assert!(
        Interface::new("lo").unwrap().is_up().unwrap(),
        "this namespace's loopback untouched"
    );
}
