//! TUN devices and batched UDP sockets — placeholder until the crate lands.
