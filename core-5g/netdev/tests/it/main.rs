//! Tests against the real kernel. Those that need root (a network namespace and a TUN
//! device in it) print a skip note where they cannot run; CI runs as root. Each TUN
//! test runs in a fresh, unnamed network namespace, so addresses and routes never
//! reach the host and devices vanish with the test; named namespaces get unique names
//! (process id) and are deleted at the end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod netns;
mod tun;
mod udp;
