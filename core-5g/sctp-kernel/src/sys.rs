//! Constants and C layouts of the Linux SCTP socket API.
//!
//! Everything here is copied by hand from the kernel's UAPI header
//! `include/uapi/linux/sctp.h` (as shipped in linux-libc-dev 6.1, Debian bookworm),
//! which implements RFC 6458 (Sockets API Extensions for SCTP). The layout tests at
//! the bottom pin sizes and offsets to what gcc computes for that header on x86-64.

use std::os::raw::c_int;

/// `IPPROTO_SCTP` (linux/in.h); also the `level` for SCTP socket options, `SOL_SCTP`.
pub(crate) const IPPROTO_SCTP: c_int = 132;
/// `SOL_SCTP` (linux/socket.h) is the same number as `IPPROTO_SCTP`.
pub(crate) const SOL_SCTP: c_int = 132;

// Socket options (linux/sctp.h, "#define SCTP_..." list; RFC 6458 §8).
/// `SCTP_INITMSG`: default stream counts and INIT retries (`struct sctp_initmsg`).
pub(crate) const SCTP_INITMSG: c_int = 2;
/// `SCTP_NODELAY`: turn off Nagle-like bundling delay.
pub(crate) const SCTP_NODELAY: c_int = 3;
/// `SCTP_RECVRCVINFO`: deliver a `SCTP_RCVINFO` cmsg with each message.
pub(crate) const SCTP_RECVRCVINFO: c_int = 32;
/// `SCTP_EVENT`: subscribe one notification type (`struct sctp_event`, RFC 6458 §6.2.2).
pub(crate) const SCTP_EVENT: c_int = 127;
/// `SCTP_REMOTE_UDP_ENCAPS_PORT`: remote UDP port for RFC 6951 encapsulation
/// (`struct sctp_udpencaps`, kernel ≥ 5.11).
pub(crate) const SCTP_REMOTE_UDP_ENCAPS_PORT: c_int = 132;

/// `SCTP_FUTURE_ASSOC`: option applies to the socket and associations made later.
pub(crate) const SCTP_FUTURE_ASSOC: i32 = 0;

// cmsg types, `enum sctp_cmsg_type` (linux/sctp.h; RFC 6458 §5.3).
/// `SCTP_SNDINFO` cmsg (`struct sctp_sndinfo`), for `sendmsg`.
pub(crate) const SCTP_SNDINFO: c_int = 2;
/// `SCTP_RCVINFO` cmsg (`struct sctp_rcvinfo`), from `recvmsg`.
pub(crate) const SCTP_RCVINFO: c_int = 3;

/// `MSG_NOTIFICATION` (`enum sctp_msg_flags`): the message is a notification.
pub(crate) const MSG_NOTIFICATION: c_int = 0x8000;

// Notification types, `enum sctp_sn_type` (SCTP_SN_TYPE_BASE = 1 << 15).
/// `SCTP_ASSOC_CHANGE` (RFC 6458 §6.1.1).
pub(crate) const SCTP_ASSOC_CHANGE: u16 = 0x8001;
/// `SCTP_SHUTDOWN_EVENT` (RFC 6458 §6.1.5).
pub(crate) const SCTP_SHUTDOWN_EVENT: u16 = 0x8005;

// `enum sctp_sac_state`, the `sac_state` of an SCTP_ASSOC_CHANGE.
/// `SCTP_COMM_UP`: the association is up.
pub(crate) const SCTP_COMM_UP: u16 = 0;
/// `SCTP_COMM_LOST`: the association failed (ABORT received, retransmissions exhausted).
pub(crate) const SCTP_COMM_LOST: u16 = 1;
/// `SCTP_RESTART`: the peer restarted (a new INIT on a live association).
pub(crate) const SCTP_RESTART: u16 = 2;
/// `SCTP_SHUTDOWN_COMP`: graceful shutdown finished.
pub(crate) const SCTP_SHUTDOWN_COMP: u16 = 3;
/// `SCTP_CANT_STR_ASSOC`: the association could not be set up.
pub(crate) const SCTP_CANT_STR_ASSOC: u16 = 4;

/// `typedef __s32 sctp_assoc_t;`
pub(crate) type SctpAssocT = i32;

/// `struct sctp_initmsg` (RFC 6458 §5.3.1, option SCTP_INITMSG §8.1.3).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SctpInitmsg {
    pub sinit_num_ostreams: u16,
    pub sinit_max_instreams: u16,
    pub sinit_max_attempts: u16,
    pub sinit_max_init_timeo: u16,
}

/// `struct sctp_sndinfo` (RFC 6458 §5.3.4). `snd_ppid` is opaque to the kernel: it is
/// copied into the DATA chunk as is, so it must already be in network byte order.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SctpSndinfo {
    pub snd_sid: u16,
    pub snd_flags: u16,
    pub snd_ppid: u32,
    pub snd_context: u32,
    pub snd_assoc_id: SctpAssocT,
}

/// `struct sctp_rcvinfo` (RFC 6458 §5.3.5). `rcv_ppid` is in network byte order.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SctpRcvinfo {
    pub rcv_sid: u16,
    pub rcv_ssn: u16,
    pub rcv_flags: u16,
    pub rcv_ppid: u32,
    pub rcv_tsn: u32,
    pub rcv_cumtsn: u32,
    pub rcv_context: u32,
    pub rcv_assoc_id: SctpAssocT,
}

/// `struct sctp_event` (RFC 6458 §6.2.2).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SctpEvent {
    pub se_assoc_id: SctpAssocT,
    pub se_type: u16,
    pub se_on: u8,
}

/// `struct sctp_assoc_change` without its trailing flexible `sac_info[]`
/// (RFC 6458 §6.1.1). Parsed from bytes in `wire.rs`; kept for the layout test.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(dead_code)]
pub(crate) struct SctpAssocChange {
    pub sac_type: u16,
    pub sac_flags: u16,
    pub sac_length: u32,
    pub sac_state: u16,
    pub sac_error: u16,
    pub sac_outbound_streams: u16,
    pub sac_inbound_streams: u16,
    pub sac_assoc_id: SctpAssocT,
}

/// `struct sctp_shutdown_event` (RFC 6458 §6.1.5). Kept for the layout test.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(dead_code)]
pub(crate) struct SctpShutdownEvent {
    pub sse_type: u16,
    pub sse_flags: u16,
    pub sse_length: u32,
    pub sse_assoc_id: SctpAssocT,
}

/// `struct sctp_udpencaps` (RFC 6951 §6.1; linux/sctp.h). `sue_port` is in network
/// byte order; an all-zero `sue_address` means "every address of the association".
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct SctpUdpencaps {
    pub sue_assoc_id: SctpAssocT,
    pub sue_address: libc::sockaddr_storage,
    pub sue_port: u16,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    // Sizes, alignments and offsets printed by a C program that includes
    // <linux/sctp.h> (linux-libc-dev 6.1) and was built by gcc 12 for x86-64:
    //   sctp_initmsg size=8 align=2, sctp_sndinfo size=16 align=4 (ppid at 4, assoc_id at 12),
    //   sctp_rcvinfo size=28 align=4 (ppid at 8, assoc_id at 24), sctp_event size=8
    //   (se_type at 4, se_on at 6), sctp_assoc_change size=20 (state at 8, assoc_id at 16),
    //   sctp_shutdown_event size=12, sctp_udpencaps size=144 align=8 (address at 8, port at 136).
    #[test]
    fn initmsg_layout() {
        assert_eq!(size_of::<SctpInitmsg>(), 8);
        assert_eq!(align_of::<SctpInitmsg>(), 2);
        assert_eq!(offset_of!(SctpInitmsg, sinit_max_instreams), 2);
        assert_eq!(offset_of!(SctpInitmsg, sinit_max_attempts), 4);
        assert_eq!(offset_of!(SctpInitmsg, sinit_max_init_timeo), 6);
    }

    #[test]
    fn sndinfo_layout() {
        assert_eq!(size_of::<SctpSndinfo>(), 16);
        assert_eq!(align_of::<SctpSndinfo>(), 4);
        assert_eq!(offset_of!(SctpSndinfo, snd_flags), 2);
        assert_eq!(offset_of!(SctpSndinfo, snd_ppid), 4);
        assert_eq!(offset_of!(SctpSndinfo, snd_context), 8);
        assert_eq!(offset_of!(SctpSndinfo, snd_assoc_id), 12);
    }

    #[test]
    fn rcvinfo_layout() {
        assert_eq!(size_of::<SctpRcvinfo>(), 28);
        assert_eq!(align_of::<SctpRcvinfo>(), 4);
        assert_eq!(offset_of!(SctpRcvinfo, rcv_ssn), 2);
        assert_eq!(offset_of!(SctpRcvinfo, rcv_flags), 4);
        assert_eq!(offset_of!(SctpRcvinfo, rcv_ppid), 8);
        assert_eq!(offset_of!(SctpRcvinfo, rcv_tsn), 12);
        assert_eq!(offset_of!(SctpRcvinfo, rcv_cumtsn), 16);
        assert_eq!(offset_of!(SctpRcvinfo, rcv_context), 20);
        assert_eq!(offset_of!(SctpRcvinfo, rcv_assoc_id), 24);
    }

    #[test]
    fn event_layout() {
        assert_eq!(size_of::<SctpEvent>(), 8);
        assert_eq!(offset_of!(SctpEvent, se_type), 4);
        assert_eq!(offset_of!(SctpEvent, se_on), 6);
    }

    #[test]
    fn notification_layouts() {
        assert_eq!(size_of::<SctpAssocChange>(), 20);
        assert_eq!(offset_of!(SctpAssocChange, sac_state), 8);
        assert_eq!(offset_of!(SctpAssocChange, sac_error), 10);
        assert_eq!(offset_of!(SctpAssocChange, sac_outbound_streams), 12);
        assert_eq!(offset_of!(SctpAssocChange, sac_inbound_streams), 14);
        assert_eq!(offset_of!(SctpAssocChange, sac_assoc_id), 16);
        assert_eq!(size_of::<SctpShutdownEvent>(), 12);
        assert_eq!(offset_of!(SctpShutdownEvent, sse_assoc_id), 8);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn udpencaps_layout() {
        assert_eq!(size_of::<SctpUdpencaps>(), 144);
        assert_eq!(align_of::<SctpUdpencaps>(), 8);
        assert_eq!(offset_of!(SctpUdpencaps, sue_address), 8);
        assert_eq!(offset_of!(SctpUdpencaps, sue_port), 136);
    }
}
