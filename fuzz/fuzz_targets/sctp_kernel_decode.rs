//! Fuzzes hexcore-sctp-kernel's pure decoders: the SCTP notification parser, the
//! recvmsg control-data (cmsg) walker and the MSG_EOR reassembler. Seeds: the
//! kernel-captured bytes in core-5g/sctp-kernel/src/wire.rs tests.
//!
//! Needs in fuzz/Cargo.toml (not added by the sctp-kernel helper: shared file):
//!   hexcore-sctp-kernel = { path = "../core-5g/sctp-kernel", optional = true }
//!   [features] sctp-kernel = ["dep:hexcore-sctp-kernel"]
//!   [[bin]] name = "sctp_kernel_decode", path = "fuzz_targets/sctp_kernel_decode.rs",
//!           required-features = ["sctp-kernel"], test = false, doc = false, bench = false
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hexcore_sctp_kernel::fuzzing::decode(data);
});
