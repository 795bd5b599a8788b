//! Fuzzes hexcore-sctp-kernel's pure decoders: the SCTP notification parser, the
//! recvmsg control-data (cmsg) walker and the MSG_EOR reassembler. Seeds: the
//! kernel-captured bytes in core-5g/sctp-kernel/src/wire.rs tests.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hexcore_sctp_kernel::fuzzing::decode(data);
});
