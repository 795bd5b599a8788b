//! Pure codecs for the bytes that cross the SCTP socket API: the `SCTP_SNDINFO` cmsg we
//! hand to `sendmsg`, the `SCTP_RCVINFO` cmsg and the notifications `recvmsg` hands back,
//! and the reassembly of a message the kernel delivers in pieces (until `MSG_EOR`).
//!
//! No I/O and no `unsafe` here: the socket code in `socket.rs` moves the bytes, this
//! file gives them meaning. Field layouts are those of `sys.rs` (linux/sctp.h), read
//! in the host's byte order except for the PPID, which the kernel passes through in
//! network byte order (it copies it into the DATA chunk unchanged, RFC 9260 §3.3.1).

use std::mem::size_of;
use std::os::raw::c_int;

use crate::KernelEvent;
use crate::sys;

/// Errors in bytes handed back by the kernel. The kernel never sends these; they guard
/// the decoders against anything else (and are what the fuzzing-style test checks).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WireError {
    /// A structure is shorter than its fixed part.
    #[error("{what} truncated: needed {needed} bytes, got {got}")]
    Truncated {
        /// Which structure.
        what: &'static str,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// A cmsg header whose `cmsg_len` is smaller than the header or runs past the buffer.
    #[error("control message with bad cmsg_len {len} (buffer has {room} bytes left)")]
    BadCmsgLen {
        /// The `cmsg_len` read.
        len: usize,
        /// Bytes left in the control buffer at that point.
        room: usize,
    },
}

// --- cmsg framing (glibc <bits/socket.h>: CMSG_ALIGN / CMSG_LEN / CMSG_SPACE) ---------

/// `struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; }`.
const CMSG_HDR_LEN: usize = size_of::<libc::cmsghdr>();
/// Width of `cmsg_len` (a `size_t`).
const CMSG_LEN_FIELD: usize = size_of::<usize>();

/// `CMSG_ALIGN`: round up to `sizeof(size_t)`.
pub(crate) const fn cmsg_align(len: usize) -> usize {
    (len + size_of::<usize>() - 1) & !(size_of::<usize>() - 1)
}

/// `CMSG_LEN(n)`: header plus `n` data bytes, without trailing padding.
pub(crate) const fn cmsg_len(data_len: usize) -> usize {
    cmsg_align(CMSG_HDR_LEN) + data_len
}

/// `CMSG_SPACE(n)`: header plus `n` data bytes plus trailing padding.
pub(crate) const fn cmsg_space(data_len: usize) -> usize {
    cmsg_align(CMSG_HDR_LEN) + cmsg_align(data_len)
}

/// Room for one `SCTP_SNDINFO` cmsg.
pub(crate) const SNDINFO_SPACE: usize = cmsg_space(size_of::<sys::SctpSndinfo>());
/// Room we give `recvmsg` for control data: an `SCTP_RCVINFO` plus slack for an
/// `SCTP_NXTINFO` should someone turn it on.
pub(crate) const RECV_CONTROL_SPACE: usize = 2 * cmsg_space(size_of::<sys::SctpRcvinfo>());

fn write_cmsg_header(buf: &mut [u8], len: usize, level: c_int, kind: c_int) {
    buf[..CMSG_LEN_FIELD].copy_from_slice(&len.to_ne_bytes());
    buf[CMSG_LEN_FIELD..CMSG_LEN_FIELD + 4].copy_from_slice(&level.to_ne_bytes());
    buf[CMSG_LEN_FIELD + 4..CMSG_LEN_FIELD + 8].copy_from_slice(&kind.to_ne_bytes());
}

/// Writes one `SCTP_SNDINFO` cmsg (RFC 6458 §5.3.4) asking for `stream`, `snd_flags`
/// `flags` and `ppid` (given in host order; written in network order as the kernel
/// expects).
pub(crate) fn encode_sndinfo(buf: &mut [u8; SNDINFO_SPACE], stream: u16, flags: u16, ppid: u32) {
    buf.fill(0);
    let data_len = size_of::<sys::SctpSndinfo>();
    write_cmsg_header(buf, cmsg_len(data_len), sys::IPPROTO_SCTP, sys::SCTP_SNDINFO);
    let d = cmsg_align(CMSG_HDR_LEN);
    // struct sctp_sndinfo: snd_sid @0, snd_flags @2, snd_ppid @4, snd_context @8,
    // snd_assoc_id @12 (ignored on one-to-one sockets); context and id stay zero.
    buf[d..d + 2].copy_from_slice(&stream.to_ne_bytes());
    buf[d + 2..d + 4].copy_from_slice(&flags.to_ne_bytes());
    buf[d + 4..d + 8].copy_from_slice(&ppid.to_be_bytes());
}

/// What an `SCTP_RCVINFO` cmsg (RFC 6458 §5.3.5) says about a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RcvInfo {
    /// Stream identifier.
    pub stream: u16,
    /// Stream sequence number.
    pub ssn: u16,
    /// `rcv_flags` (e.g. `SCTP_UNORDERED`).
    pub flags: u16,
    /// Payload protocol identifier, converted to host order.
    pub ppid: u32,
    /// TSN of the (first) DATA chunk.
    pub tsn: u32,
    /// Association id (kernel-local).
    pub assoc_id: i32,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_ne_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    u32_at(b, at).map(|v| v as i32)
}

fn usize_at(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + CMSG_LEN_FIELD)?;
    let mut a = [0u8; CMSG_LEN_FIELD];
    a.copy_from_slice(s);
    Some(usize::from_ne_bytes(a))
}

/// Walks the control buffer `recvmsg` filled (its first `msg_controllen` bytes) and
/// returns the `SCTP_RCVINFO` in it, if any. Other cmsgs are skipped.
pub(crate) fn decode_rcvinfo(control: &[u8]) -> Result<Option<RcvInfo>, WireError> {
    let mut off = 0;
    while control.len().saturating_sub(off) >= CMSG_HDR_LEN {
        let room = control.len() - off;
        let hdr = &control[off..];
        let len = usize_at(hdr, 0).unwrap_or(0);
        if len < CMSG_HDR_LEN || len > room {
            return Err(WireError::BadCmsgLen { len, room });
        }
        let level = i32_at(hdr, CMSG_LEN_FIELD).unwrap_or(0);
        let kind = i32_at(hdr, CMSG_LEN_FIELD + 4).unwrap_or(0);
        if level == sys::IPPROTO_SCTP && kind == sys::SCTP_RCVINFO {
            let data = &hdr[cmsg_align(CMSG_HDR_LEN).min(len)..len];
            return parse_rcvinfo(data).map(Some);
        }
        off += cmsg_align(len);
    }
    Ok(None)
}

fn parse_rcvinfo(d: &[u8]) -> Result<RcvInfo, WireError> {
    let truncated = WireError::Truncated {
        what: "sctp_rcvinfo",
        needed: size_of::<sys::SctpRcvinfo>(),
        got: d.len(),
    };
    if d.len() < size_of::<sys::SctpRcvinfo>() {
        return Err(truncated);
    }
    // Offsets of struct sctp_rcvinfo (see sys.rs layout test).
    let f = || -> Option<RcvInfo> {
        Some(RcvInfo {
            stream: u16_at(d, 0)?,
            ssn: u16_at(d, 2)?,
            flags: u16_at(d, 4)?,
            ppid: u32::from_be(u32_at(d, 8)?),
            tsn: u32_at(d, 12)?,
            assoc_id: i32_at(d, 24)?,
        })
    };
    f().ok_or(truncated)
}

// --- notifications (RFC 6458 §6.1; linux/sctp.h union sctp_notification) ------------

/// A decoded notification (`recvmsg` returned it with `MSG_NOTIFICATION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notification {
    /// `SCTP_ASSOC_CHANGE` (struct sctp_assoc_change).
    AssocChange {
        /// `sac_state`: `SCTP_COMM_UP` … `SCTP_CANT_STR_ASSOC`.
        state: u16,
        /// `sac_error`: the SCTP error cause code that ended the association. Linux
        /// stores the on-wire (big-endian) value; converted to host order here.
        error: u16,
        /// Outbound streams negotiated.
        outbound_streams: u16,
        /// Inbound streams negotiated.
        inbound_streams: u16,
    },
    /// `SCTP_SHUTDOWN_EVENT`: the peer sent SHUTDOWN.
    Shutdown,
    /// Any other type (we subscribe only to the two above).
    Other {
        /// `sn_type`.
        kind: u16,
    },
}

/// Size of `struct sctp_tlv` (`sn_type`, `sn_flags`, `sn_length`) heading every notification.
const NOTIFICATION_HDR_LEN: usize = 8;

/// Decodes one whole notification.
pub(crate) fn parse_notification(b: &[u8]) -> Result<Notification, WireError> {
    let need = |what, needed| WireError::Truncated {
        what,
        needed,
        got: b.len(),
    };
    let kind = u16_at(b, 0).ok_or(need("notification header", NOTIFICATION_HDR_LEN))?;
    let length = u32_at(b, 4).ok_or(need("notification header", NOTIFICATION_HDR_LEN))? as usize;
    if length > b.len() {
        return Err(need("notification", length));
    }
    match kind {
        sys::SCTP_ASSOC_CHANGE => {
            let len = size_of::<sys::SctpAssocChange>();
            let f = || -> Option<Notification> {
                Some(Notification::AssocChange {
                    state: u16_at(b, 8)?,
                    error: u16::from_be(u16_at(b, 10)?),
                    outbound_streams: u16_at(b, 12)?,
                    inbound_streams: u16_at(b, 14)?,
                })
            };
            if length < len {
                return Err(need("sctp_assoc_change", len));
            }
            f().ok_or(need("sctp_assoc_change", len))
        }
        sys::SCTP_SHUTDOWN_EVENT => {
            let len = size_of::<sys::SctpShutdownEvent>();
            if length < len || b.len() < len {
                return Err(need("sctp_shutdown_event", len));
            }
            Ok(Notification::Shutdown)
        }
        kind => Ok(Notification::Other { kind }),
    }
}

impl Notification {
    /// What the user of an association hears about this notification, if anything.
    pub(crate) fn event(&self) -> Option<KernelEvent> {
        match *self {
            Notification::AssocChange { state, error, .. } => match state {
                sys::SCTP_COMM_UP => Some(KernelEvent::Up),
                sys::SCTP_RESTART => Some(KernelEvent::Restart),
                sys::SCTP_COMM_LOST => Some(KernelEvent::Down {
                    reason: format!("association lost (SCTP_COMM_LOST, cause {error})"),
                }),
                sys::SCTP_SHUTDOWN_COMP => Some(KernelEvent::Down {
                    reason: "shutdown complete (SCTP_SHUTDOWN_COMP)".to_owned(),
                }),
                sys::SCTP_CANT_STR_ASSOC => Some(KernelEvent::Down {
                    reason: format!("association could not be started (SCTP_CANT_STR_ASSOC, cause {error})"),
                }),
                _ => None,
            },
            Notification::Shutdown => Some(KernelEvent::Down {
                reason: "peer sent SHUTDOWN (SCTP_SHUTDOWN_EVENT)".to_owned(),
            }),
            Notification::Other { .. } => None,
        }
    }
}

// --- reassembly of pieces up to MSG_EOR ---------------------------------------------

/// Largest message we reassemble. NGAP messages are far smaller; this bounds memory
/// if a peer sends something absurd.
pub(crate) const MAX_MESSAGE: usize = 4 * 1024 * 1024;

/// One finished unit read from the socket.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Assembled {
    /// A user message with the `SCTP_RCVINFO` of its first piece.
    Data {
        /// Where it came in (absent only if `SCTP_RECVRCVINFO` is off).
        info: Option<RcvInfo>,
        /// The message.
        data: Vec<u8>,
    },
    /// A whole notification.
    Notification(Vec<u8>),
    /// A message bigger than [`MAX_MESSAGE`], dropped.
    Oversized {
        /// Its total length.
        len: usize,
    },
}

/// Collects the pieces of one message: `recvmsg` returns at most the buffer size and
/// sets `MSG_EOR` on the last piece (RFC 6458 §3.1.4, "partial delivery").
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    buf: Vec<u8>,
    info: Option<RcvInfo>,
    /// Bytes of the current message so far (also while discarding).
    total: usize,
    discarding: bool,
}

impl Reassembly {
    /// Adds the piece `recvmsg` returned with `flags`; returns the message once
    /// `MSG_EOR` ends it.
    pub(crate) fn push(&mut self, piece: &[u8], flags: c_int, info: Option<RcvInfo>) -> Option<Assembled> {
        if self.info.is_none() {
            self.info = info;
        }
        self.total = self.total.saturating_add(piece.len());
        if self.total > MAX_MESSAGE {
            self.discarding = true;
            self.buf = Vec::new();
        }
        if !self.discarding {
            self.buf.extend_from_slice(piece);
        }
        if flags & libc::MSG_EOR == 0 {
            return None;
        }
        let total = std::mem::take(&mut self.total);
        let info = self.info.take();
        let data = std::mem::take(&mut self.buf);
        if std::mem::take(&mut self.discarding) {
            return Some(Assembled::Oversized { len: total });
        }
        if flags & sys::MSG_NOTIFICATION != 0 {
            Some(Assembled::Notification(data))
        } else {
            Some(Assembled::Data { info, data })
        }
    }

    /// True when part of a message has been read.
    #[cfg(test)]
    pub(crate) fn in_progress(&self) -> bool {
        self.total > 0
    }
}

#[cfg(test)]
#[cfg(all(target_endian = "little", target_pointer_width = "64"))]
mod tests {
    use super::*;

    // --- Real bytes captured from Linux 6.1.0-56-amd64 (Debian bookworm kernel) in the
    // sctp-vm microVM by a small C program (plain socket API, one-to-one sockets, both
    // ends on 127.0.0.5:38412, 4 streams, SCTP_ASSOC_CHANGE + SCTP_SHUTDOWN_EVENT
    // subscribed, SCTP_RECVRCVINFO on). Flags on every notification: 0x8080
    // (MSG_NOTIFICATION | MSG_EOR).

    /// SCTP_ASSOC_CHANGE, state SCTP_COMM_UP, 4 out / 4 in streams, assoc id 3.
    static COMM_UP: [u8; 20] = [
        0x01, 0x80, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00, 0x03, 0x00,
        0x00, 0x00,
    ];
    /// SCTP_SHUTDOWN_EVENT at the server after the client called shutdown(SHUT_WR).
    static SHUTDOWN_EVENT: [u8; 12] = [0x05, 0x80, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00];
    /// SCTP_ASSOC_CHANGE, state SCTP_SHUTDOWN_COMP, at the server right after it.
    static SHUTDOWN_COMP: [u8; 20] = [
        0x01, 0x80, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00,
    ];
    /// SCTP_ASSOC_CHANGE, SCTP_COMM_LOST, after the peer closed with SO_LINGER 0 (ABORT).
    /// sac_error 0x000c (big-endian on the wire) is cause 12, User-Initiated Abort
    /// (RFC 9260 §3.3.10.12); sac_info carries the 4-byte cause from the ABORT chunk.
    static COMM_LOST: [u8; 24] = [
        0x01, 0x80, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00,
        0x00, 0x00, 0x00, 0x0c, 0x00, 0x04,
    ];
    /// SCTP_ASSOC_CHANGE, SCTP_CANT_STR_ASSOC, after connect() to a port nobody listens on.
    static CANT_STR_ASSOC: [u8; 20] = [
        0x01, 0x80, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ];
    /// Control data of recvmsg for "hello" sent on stream 2 with PPID 60 (NGAP):
    /// cmsg_len 44, level 132, type SCTP_RCVINFO (3), then struct sctp_rcvinfo
    /// (sid 2, ssn 0, flags 0, ppid 00 00 00 3c, tsn 0x46f7a76b, assoc id 4), padded to 48.
    static RCVINFO_CMSG: [u8; 48] = [
        0x2c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x6b, 0xa7, 0xf7, 0x46, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    /// An SCTP_SNDINFO cmsg for stream 3, PPID 60, as glibc's CMSG_FIRSTHDR / CMSG_LEN /
    /// CMSG_DATA lay it out on x86-64 (C program, gcc 12, htonl(60) for the PPID).
    static SNDINFO_CMSG: [u8; 32] = [
        0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x84, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn cmsg_macros_match_glibc() {
        // CMSG_LEN(16)=32 CMSG_SPACE(16)=32 CMSG_SPACE(28)=48 (glibc, x86-64).
        assert_eq!(cmsg_len(16), 32);
        assert_eq!(cmsg_space(16), 32);
        assert_eq!(cmsg_space(28), 48);
        assert_eq!(SNDINFO_SPACE, 32);
        // And what libc's own CMSG_SPACE says.
        // SAFETY: CMSG_SPACE is pure arithmetic.
        assert_eq!(unsafe { libc::CMSG_SPACE(16) } as usize, SNDINFO_SPACE);
    }

    #[test]
    fn encode_sndinfo_known_bytes() {
        let mut buf = [0xffu8; SNDINFO_SPACE];
        encode_sndinfo(&mut buf, 3, 0, 60);
        assert_eq!(buf, SNDINFO_CMSG);
    }

    #[test]
    fn encode_sndinfo_flags() {
        // snd_flags sits at offset 2 of struct sctp_sndinfo; SCTP_ABORT is 1 << 2
        // (enum sctp_sinfo_flags).
        let mut buf = [0u8; SNDINFO_SPACE];
        encode_sndinfo(&mut buf, 0, 1 << 2, 0);
        let mut expected = SNDINFO_CMSG;
        expected[16] = 0; // stream 0
        expected[18] = 0x04;
        expected[23] = 0; // PPID 0
        assert_eq!(buf, expected);
    }

    #[test]
    fn decode_rcvinfo_known_bytes() {
        let info = decode_rcvinfo(&RCVINFO_CMSG).unwrap().unwrap();
        assert_eq!(
            info,
            RcvInfo {
                stream: 2,
                ssn: 0,
                flags: 0,
                ppid: 60,
                tsn: 0x46f7_a76b,
                assoc_id: 4,
            }
        );
        // Without the trailing padding (msg_controllen can be CMSG_LEN, not CMSG_SPACE).
        assert_eq!(decode_rcvinfo(&RCVINFO_CMSG[..44]).unwrap(), Some(info));
    }

    #[test]
    fn sndinfo_round_trips_through_rcvinfo_fields() {
        // What we send as snd_sid/snd_ppid comes back in rcv_sid/rcv_ppid: same byte
        // order conventions on both sides (stream host order, PPID network order).
        for (stream, ppid) in [(0u16, 60u32), (7, 0x0102_0304), (u16::MAX, u32::MAX)] {
            let mut snd = [0u8; SNDINFO_SPACE];
            encode_sndinfo(&mut snd, stream, 0, ppid);
            let mut rcv = RCVINFO_CMSG;
            rcv[16..18].copy_from_slice(&snd[16..18]);
            rcv[24..28].copy_from_slice(&snd[20..24]);
            let info = decode_rcvinfo(&rcv).unwrap().unwrap();
            assert_eq!((info.stream, info.ppid), (stream, ppid));
        }
    }

    #[test]
    fn decode_rcvinfo_skips_other_cmsgs_and_handles_empty() {
        assert_eq!(decode_rcvinfo(&[]).unwrap(), None);
        // An SCTP_SNDINFO cmsg first (type 2), then the RCVINFO.
        let mut both = SNDINFO_CMSG.to_vec();
        both.extend_from_slice(&RCVINFO_CMSG);
        assert_eq!(decode_rcvinfo(&both).unwrap().unwrap().stream, 2);
        // Only a foreign cmsg: no info.
        assert_eq!(decode_rcvinfo(&SNDINFO_CMSG).unwrap(), None);
    }

    #[test]
    fn decode_rcvinfo_broken_input() {
        // cmsg_len larger than the buffer.
        assert!(matches!(
            decode_rcvinfo(&RCVINFO_CMSG[..40]),
            Err(WireError::BadCmsgLen { len: 44, room: 40 })
        ));
        // cmsg_len smaller than the header: must not loop forever.
        let mut zero = RCVINFO_CMSG;
        zero[0] = 0;
        assert!(matches!(
            decode_rcvinfo(&zero),
            Err(WireError::BadCmsgLen { len: 0, .. })
        ));
        // RCVINFO cmsg whose data is too short for struct sctp_rcvinfo.
        let mut short = RCVINFO_CMSG;
        short[0] = 20;
        assert!(matches!(
            decode_rcvinfo(&short),
            Err(WireError::Truncated { needed: 28, got: 4, .. })
        ));
        // Fewer bytes than a header: nothing to walk.
        assert_eq!(decode_rcvinfo(&RCVINFO_CMSG[..15]).unwrap(), None);
    }

    #[test]
    fn notifications_known_bytes() {
        assert_eq!(
            parse_notification(&COMM_UP).unwrap(),
            Notification::AssocChange {
                state: sys::SCTP_COMM_UP,
                error: 0,
                outbound_streams: 4,
                inbound_streams: 4
            }
        );
        assert_eq!(parse_notification(&SHUTDOWN_EVENT).unwrap(), Notification::Shutdown);
        assert_eq!(
            parse_notification(&COMM_LOST).unwrap(),
            Notification::AssocChange {
                state: sys::SCTP_COMM_LOST,
                error: 12,
                outbound_streams: 0,
                inbound_streams: 0
            }
        );
        assert!(matches!(
            parse_notification(&SHUTDOWN_COMP).unwrap(),
            Notification::AssocChange {
                state: sys::SCTP_SHUTDOWN_COMP,
                ..
            }
        ));
        assert!(matches!(
            parse_notification(&CANT_STR_ASSOC).unwrap(),
            Notification::AssocChange {
                state: sys::SCTP_CANT_STR_ASSOC,
                ..
            }
        ));
    }

    #[test]
    fn notifications_map_to_events() {
        let ev = |b: &[u8]| parse_notification(b).unwrap().event();
        assert_eq!(ev(&COMM_UP), Some(KernelEvent::Up));
        assert!(matches!(ev(&SHUTDOWN_EVENT), Some(KernelEvent::Down { .. })));
        assert!(matches!(ev(&SHUTDOWN_COMP), Some(KernelEvent::Down { .. })));
        match ev(&COMM_LOST) {
            Some(KernelEvent::Down { reason }) => assert!(reason.contains("cause 12"), "{reason}"),
            other => panic!("expected Down, got {other:?}"),
        }
        assert!(matches!(ev(&CANT_STR_ASSOC), Some(KernelEvent::Down { .. })));
        let mut restart = COMM_UP;
        restart[8] = sys::SCTP_RESTART as u8;
        assert_eq!(ev(&restart), Some(KernelEvent::Restart));
        // SCTP_PEER_ADDR_CHANGE (0x8002, 148 bytes in Linux) is not for the user.
        let mut other = [0u8; 148];
        other[..2].copy_from_slice(&0x8002u16.to_ne_bytes());
        other[4..8].copy_from_slice(&148u32.to_ne_bytes());
        assert_eq!(ev(&other), None);
    }

    #[test]
    fn notifications_broken_input() {
        for n in 0..COMM_UP.len() {
            assert!(parse_notification(&COMM_UP[..n]).is_err(), "len {n}");
        }
        for n in 0..SHUTDOWN_EVENT.len() {
            assert!(parse_notification(&SHUTDOWN_EVENT[..n]).is_err(), "len {n}");
        }
        // sn_length claims less than the fixed part.
        let mut lying = COMM_UP;
        lying[4] = 8;
        assert!(parse_notification(&lying).is_err());
    }

    #[test]
    fn decoders_never_panic_on_noise() {
        // A deterministic xorshift stream of random buffers; both decoders must return
        // (Ok or Err) on each. Complements a fuzz target for these two functions.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 80) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            // Make plausible headers common.
            if len >= 8 && next() % 2 == 0 {
                b[..2].copy_from_slice(&[0x01, 0x80]);
                b[0] = (next() % 64) as u8;
            }
            let _ = parse_notification(&b);
            let _ = decode_rcvinfo(&b);
        }
    }

    #[test]
    fn reassembly_until_eor() {
        let info = decode_rcvinfo(&RCVINFO_CMSG).unwrap();
        let mut r = Reassembly::default();
        assert_eq!(r.push(b"hel", 0, info), None);
        assert!(r.in_progress());
        assert_eq!(r.push(b"lo ", 0, None), None);
        assert_eq!(
            r.push(b"world", libc::MSG_EOR, None),
            Some(Assembled::Data {
                info,
                data: b"hello world".to_vec()
            })
        );
        assert!(!r.in_progress());
        // A whole message in one piece, no info.
        assert_eq!(
            r.push(b"x", libc::MSG_EOR, None),
            Some(Assembled::Data {
                info: None,
                data: b"x".to_vec()
            })
        );
        // A notification (flags as captured: 0x8080).
        assert_eq!(
            r.push(&COMM_UP, 0x8080, None),
            Some(Assembled::Notification(COMM_UP.to_vec()))
        );
    }

    #[test]
    fn reassembly_drops_oversized() {
        let mut r = Reassembly::default();
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..4 {
            assert_eq!(r.push(&chunk, 0, None), None);
        }
        assert_eq!(r.push(&chunk, 0, None), None);
        assert_eq!(
            r.push(b"end", libc::MSG_EOR, None),
            Some(Assembled::Oversized { len: 5 * (1 << 20) + 3 })
        );
        // And the next message is fine again.
        assert_eq!(
            r.push(b"ok", libc::MSG_EOR, None),
            Some(Assembled::Data {
                info: None,
                data: b"ok".to_vec()
            })
        );
    }
}
