//! SCTP packet format (RFC 9260 §3): a zero-copy parser and a builder.
//!
//! Pure, no I/O. [`Packet::parse`] only checks that the common header is
//! there; the chunks are walked lazily by [`Packet::chunks`], which yields
//! `Result<Chunk, Error>` and stops at the first broken chunk. The checksum is
//! checked separately ([`Packet::checksum_ok`]) so that a capture tool can show
//! a packet with a bad CRC; the association drops such packets (RFC 9260 §6.8).
//!
//! The CRC32c (Castagnoli) sits in the common header in the byte order of
//! RFC 9260 Appendix A: the value computed by the usual reflected CRC32c is
//! written least significant byte first. [`CommonHeader::checksum`] holds that
//! value (the header field read little-endian), so it compares equal to
//! [`crc32c`] of the packet with a zeroed checksum field.

use thiserror::Error;

/// SCTP Payload Protocol Identifier of NGAP (TS 38.412 §7).
pub const PPID_NGAP: u32 = 60;
/// The SCTP port of NGAP (TS 38.412 §7).
pub const NGAP_PORT: u16 = 38412;
/// The UDP port of SCTP over UDP (RFC 6951 §5.1, IANA `sctp-tunneling`).
pub const UDP_ENCAPS_PORT: u16 = 9899;
/// Length of the common header (RFC 9260 §3.1).
pub const COMMON_HEADER_LEN: usize = 12;
/// Length of a DATA chunk header, before the user data (RFC 9260 §3.3.1).
pub const DATA_HEADER_LEN: usize = 16;

/// Errors of the SCTP wire format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// Fewer bytes than the structure needs.
    #[error("truncated: needed {needed} bytes, got {got}")]
    Truncated { needed: usize, got: usize },
    /// A chunk length field is below the minimum of its type or runs past the packet.
    #[error("chunk type {chunk_type}: bad length {length}")]
    BadChunkLength { chunk_type: u8, length: usize },
    /// A parameter or error-cause length field is below 4 or runs past its chunk.
    #[error("parameter/cause type {tlv_type}: bad length {length}")]
    BadParamLength { tlv_type: u16, length: usize },
    /// A SACK announces more gap blocks / duplicate TSNs than it carries.
    #[error("SACK announces {announced} bytes of gap blocks and duplicates, carries {got}")]
    BadSackCounts { announced: usize, got: usize },
}

/// The common header of every SCTP packet (RFC 9260 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommonHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub verification_tag: u32,
    /// The CRC32c as computed (header bytes 8..12 read little-endian, Appendix A).
    pub checksum: u32,
}

mod field {
    use core::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const VTAG: Range<usize> = 4..8;
    pub const CHECKSUM: Range<usize> = 8..12;
}

/// CRC32c (Castagnoli, reflected, as in RFC 9260 Appendix A / RFC 3309).
pub fn crc32c(bytes: &[u8]) -> u32 {
    ::crc32c::crc32c(bytes)
}

/// The checksum an SCTP packet must carry: CRC32c over the packet with its
/// checksum field taken as zero (RFC 9260 §6.8). `None` below 12 bytes.
pub fn compute_checksum(packet: &[u8]) -> Option<u32> {
    let head = packet.get(..field::CHECKSUM.start)?;
    let tail = packet.get(field::CHECKSUM.end..)?;
    let crc = ::crc32c::crc32c(head);
    let crc = ::crc32c::crc32c_append(crc, &[0; 4]);
    Some(::crc32c::crc32c_append(crc, tail))
}

/// Whether the packet's checksum field matches its contents.
pub fn verify_checksum(packet: &[u8]) -> bool {
    match (compute_checksum(packet), packet.get(field::CHECKSUM)) {
        (Some(crc), Some(field)) => field == crc.to_le_bytes(),
        _ => false,
    }
}

/// Writes the right checksum into the packet's header (Appendix A byte order).
/// Does nothing to a buffer shorter than a common header.
pub fn stamp_checksum(packet: &mut [u8]) {
    if let Some(crc) = compute_checksum(packet)
        && let Some(field) = packet.get_mut(field::CHECKSUM)
    {
        field.copy_from_slice(&crc.to_le_bytes());
    }
}

/// A parsed SCTP packet: its common header and a view of its chunks.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    header: CommonHeader,
    bytes: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Parses the common header. Does not check the checksum nor the chunks.
    pub fn parse(bytes: &'a [u8]) -> Result<Packet<'a>, Error> {
        if bytes.len() < COMMON_HEADER_LEN {
            return Err(Error::Truncated {
                needed: COMMON_HEADER_LEN,
                got: bytes.len(),
            });
        }
        let header = CommonHeader {
            src_port: be16(bytes, field::SRC_PORT.start).unwrap_or(0),
            dst_port: be16(bytes, field::DST_PORT.start).unwrap_or(0),
            verification_tag: be32(bytes, field::VTAG.start).unwrap_or(0),
            checksum: bytes
                .get(field::CHECKSUM)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map(u32::from_le_bytes)
                .unwrap_or(0),
        };
        Ok(Packet { header, bytes })
    }

    pub fn header(&self) -> CommonHeader {
        self.header
    }

    /// Whether the CRC32c in the header matches the packet.
    pub fn checksum_ok(&self) -> bool {
        verify_checksum(self.bytes)
    }

    /// The whole packet, header included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The chunks, in order; stops after the first broken one.
    pub fn chunks(&self) -> Chunks<'a> {
        Chunks {
            rest: self.bytes.get(COMMON_HEADER_LEN..).unwrap_or(&[]),
            done: false,
        }
    }
}

/// Iterator over the chunks of a packet (see [`Packet::chunks`]).
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let item = next_chunk(self.rest);
        match item {
            Ok((chunk, consumed)) => {
                self.rest = self.rest.get(consumed..).unwrap_or(&[]);
                Some(Ok(chunk))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Parses one chunk at the start of `rest`; returns it and the bytes consumed
/// including padding (the padding of the last chunk may be missing).
fn next_chunk(rest: &[u8]) -> Result<(Chunk<'_>, usize), Error> {
    if rest.len() < 4 {
        return Err(Error::Truncated {
            needed: 4,
            got: rest.len(),
        });
    }
    let chunk_type = rest.first().copied().unwrap_or(0);
    let flags = rest.get(1).copied().unwrap_or(0);
    let length = usize::from(be16(rest, 2).unwrap_or(0));
    let value = match rest.get(4..length) {
        Some(v) if length >= 4 => v,
        _ => return Err(Error::BadChunkLength { chunk_type, length }),
    };
    let chunk = Chunk::parse(chunk_type, flags, value)?;
    Ok((chunk, pad4(length).min(rest.len())))
}

/// Chunk type codes (RFC 9260 §3.2).
pub mod chunk_type {
    pub const DATA: u8 = 0;
    pub const INIT: u8 = 1;
    pub const INIT_ACK: u8 = 2;
    pub const SACK: u8 = 3;
    pub const HEARTBEAT: u8 = 4;
    pub const HEARTBEAT_ACK: u8 = 5;
    pub const ABORT: u8 = 6;
    pub const SHUTDOWN: u8 = 7;
    pub const SHUTDOWN_ACK: u8 = 8;
    pub const ERROR: u8 = 9;
    pub const COOKIE_ECHO: u8 = 10;
    pub const COOKIE_ACK: u8 = 11;
    pub const SHUTDOWN_COMPLETE: u8 = 14;
}

/// One chunk of a packet (RFC 9260 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk<'a> {
    Data(DataChunk<'a>),
    Init(Init<'a>),
    InitAck(Init<'a>),
    Sack(Sack),
    Heartbeat(Heartbeat<'a>),
    HeartbeatAck(Heartbeat<'a>),
    Abort(Abort<'a>),
    Shutdown(Shutdown),
    ShutdownAck,
    Error(ErrorChunk<'a>),
    CookieEcho(CookieEcho<'a>),
    CookieAck,
    ShutdownComplete(ShutdownComplete),
    /// A chunk type this parser does not know; the association applies the
    /// upper-two-bits rule of RFC 9260 §3.2 to it.
    Unknown {
        chunk_type: u8,
        flags: u8,
        value: &'a [u8],
    },
}

/// DATA (RFC 9260 §3.3.1; the I bit is RFC 7053).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataChunk<'a> {
    pub unordered: bool,
    pub beginning: bool,
    pub ending: bool,
    pub immediate: bool,
    pub tsn: u32,
    pub stream_id: u16,
    pub ssn: u16,
    pub ppid: u32,
    pub payload: &'a [u8],
}

/// INIT and INIT ACK (RFC 9260 §3.3.2, §3.3.3): fixed part and raw parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init<'a> {
    pub initiate_tag: u32,
    pub a_rwnd: u32,
    pub outbound_streams: u16,
    pub inbound_streams: u16,
    pub initial_tsn: u32,
    /// The variable-length parameters, as on the wire (see [`Init::params`]).
    pub params: &'a [u8],
}

/// SACK (RFC 9260 §3.3.4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sack {
    pub cumulative_tsn_ack: u32,
    pub a_rwnd: u32,
    /// Gap Ack Blocks as (start, end) offsets from the cumulative TSN ack.
    pub gap_blocks: Vec<(u16, u16)>,
    pub duplicate_tsns: Vec<u32>,
}

/// HEARTBEAT and HEARTBEAT ACK (RFC 9260 §3.3.5, §3.3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat<'a> {
    /// The parameters as on the wire; normally one Heartbeat Info (type 1).
    pub params: &'a [u8],
}

/// ABORT (RFC 9260 §3.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort<'a> {
    /// T bit: the verification tag is the sender's own (reflected).
    pub t_bit: bool,
    /// Error causes as on the wire (see [`causes`]).
    pub causes: &'a [u8],
}

/// SHUTDOWN (RFC 9260 §3.3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    pub cumulative_tsn_ack: u32,
}

/// ERROR (RFC 9260 §3.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorChunk<'a> {
    /// Error causes as on the wire (see [`causes`]).
    pub causes: &'a [u8],
}

/// COOKIE ECHO (RFC 9260 §3.3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieEcho<'a> {
    pub cookie: &'a [u8],
}

/// SHUTDOWN COMPLETE (RFC 9260 §3.3.13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownComplete {
    /// T bit: the verification tag is the sender's own (reflected).
    pub t_bit: bool,
}

impl<'a> Chunk<'a> {
    /// Parses a chunk from its type, flags and value (the bytes after the
    /// 4-byte chunk header, without padding).
    pub fn parse(chunk_type: u8, flags: u8, value: &'a [u8]) -> Result<Chunk<'a>, Error> {
        use crate::wire::chunk_type as ct;
        let min = |needed: usize| -> Result<(), Error> {
            if value.len() < needed {
                Err(Error::BadChunkLength {
                    chunk_type,
                    length: value.len() + 4,
                })
            } else {
                Ok(())
            }
        };
        let t_bit = flags & 1 != 0;
        Ok(match chunk_type {
            ct::DATA => {
                min(12)?;
                Chunk::Data(DataChunk {
                    immediate: flags & 0x08 != 0,
                    unordered: flags & 0x04 != 0,
                    beginning: flags & 0x02 != 0,
                    ending: flags & 0x01 != 0,
                    tsn: be32(value, 0).unwrap_or(0),
                    stream_id: be16(value, 4).unwrap_or(0),
                    ssn: be16(value, 6).unwrap_or(0),
                    ppid: be32(value, 8).unwrap_or(0),
                    payload: value.get(12..).unwrap_or(&[]),
                })
            }
            ct::INIT | ct::INIT_ACK => {
                min(16)?;
                let init = Init {
                    initiate_tag: be32(value, 0).unwrap_or(0),
                    a_rwnd: be32(value, 4).unwrap_or(0),
                    outbound_streams: be16(value, 8).unwrap_or(0),
                    inbound_streams: be16(value, 10).unwrap_or(0),
                    initial_tsn: be32(value, 12).unwrap_or(0),
                    params: value.get(16..).unwrap_or(&[]),
                };
                if chunk_type == ct::INIT {
                    Chunk::Init(init)
                } else {
                    Chunk::InitAck(init)
                }
            }
            ct::SACK => {
                min(12)?;
                let gaps = usize::from(be16(value, 8).unwrap_or(0));
                let dups = usize::from(be16(value, 10).unwrap_or(0));
                let announced = 12 + 4 * gaps + 4 * dups;
                if value.len() < announced {
                    return Err(Error::BadSackCounts {
                        announced: announced - 12,
                        got: value.len() - 12,
                    });
                }
                let gap_blocks = (0..gaps)
                    .map(|i| {
                        let at = 12 + 4 * i;
                        (be16(value, at).unwrap_or(0), be16(value, at + 2).unwrap_or(0))
                    })
                    .collect();
                let duplicate_tsns = (0..dups)
                    .map(|i| be32(value, 12 + 4 * gaps + 4 * i).unwrap_or(0))
                    .collect();
                Chunk::Sack(Sack {
                    cumulative_tsn_ack: be32(value, 0).unwrap_or(0),
                    a_rwnd: be32(value, 4).unwrap_or(0),
                    gap_blocks,
                    duplicate_tsns,
                })
            }
            ct::HEARTBEAT => Chunk::Heartbeat(Heartbeat { params: value }),
            ct::HEARTBEAT_ACK => Chunk::HeartbeatAck(Heartbeat { params: value }),
            ct::ABORT => Chunk::Abort(Abort { t_bit, causes: value }),
            ct::SHUTDOWN => {
                min(4)?;
                Chunk::Shutdown(Shutdown {
                    cumulative_tsn_ack: be32(value, 0).unwrap_or(0),
                })
            }
            ct::SHUTDOWN_ACK => Chunk::ShutdownAck,
            ct::ERROR => Chunk::Error(ErrorChunk { causes: value }),
            ct::COOKIE_ECHO => Chunk::CookieEcho(CookieEcho { cookie: value }),
            ct::COOKIE_ACK => Chunk::CookieAck,
            ct::SHUTDOWN_COMPLETE => Chunk::ShutdownComplete(ShutdownComplete { t_bit }),
            _ => Chunk::Unknown {
                chunk_type,
                flags,
                value,
            },
        })
    }

    /// The chunk type code.
    pub fn chunk_type(&self) -> u8 {
        use crate::wire::chunk_type as ct;
        match self {
            Chunk::Data(_) => ct::DATA,
            Chunk::Init(_) => ct::INIT,
            Chunk::InitAck(_) => ct::INIT_ACK,
            Chunk::Sack(_) => ct::SACK,
            Chunk::Heartbeat(_) => ct::HEARTBEAT,
            Chunk::HeartbeatAck(_) => ct::HEARTBEAT_ACK,
            Chunk::Abort(_) => ct::ABORT,
            Chunk::Shutdown(_) => ct::SHUTDOWN,
            Chunk::ShutdownAck => ct::SHUTDOWN_ACK,
            Chunk::Error(_) => ct::ERROR,
            Chunk::CookieEcho(_) => ct::COOKIE_ECHO,
            Chunk::CookieAck => ct::COOKIE_ACK,
            Chunk::ShutdownComplete(_) => ct::SHUTDOWN_COMPLETE,
            Chunk::Unknown { chunk_type, .. } => *chunk_type,
        }
    }

    fn flags(&self) -> u8 {
        match self {
            Chunk::Data(d) => {
                u8::from(d.immediate) << 3
                    | u8::from(d.unordered) << 2
                    | u8::from(d.beginning) << 1
                    | u8::from(d.ending)
            }
            Chunk::Abort(a) => u8::from(a.t_bit),
            Chunk::ShutdownComplete(s) => u8::from(s.t_bit),
            Chunk::Unknown { flags, .. } => *flags,
            _ => 0,
        }
    }

    /// The chunk's length field: header plus value, without padding.
    pub fn buffer_len(&self) -> usize {
        4 + match self {
            Chunk::Data(d) => 12 + d.payload.len(),
            Chunk::Init(i) | Chunk::InitAck(i) => 16 + i.params.len(),
            Chunk::Sack(s) => 12 + 4 * s.gap_blocks.len() + 4 * s.duplicate_tsns.len(),
            Chunk::Heartbeat(h) | Chunk::HeartbeatAck(h) => h.params.len(),
            Chunk::Abort(a) => a.causes.len(),
            Chunk::Shutdown(_) => 4,
            Chunk::ShutdownAck | Chunk::CookieAck | Chunk::ShutdownComplete(_) => 0,
            Chunk::Error(e) => e.causes.len(),
            Chunk::CookieEcho(c) => c.cookie.len(),
            Chunk::Unknown { value, .. } => value.len(),
        }
    }

    /// Appends the chunk, padded to a multiple of 4, to `out`.
    ///
    /// A value too long for the 16-bit length field is the caller's bug; the
    /// length field then saturates (callers keep chunks within the PMTU).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let len = self.buffer_len();
        out.push(self.chunk_type());
        out.push(self.flags());
        out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        match self {
            Chunk::Data(d) => {
                out.extend_from_slice(&d.tsn.to_be_bytes());
                out.extend_from_slice(&d.stream_id.to_be_bytes());
                out.extend_from_slice(&d.ssn.to_be_bytes());
                out.extend_from_slice(&d.ppid.to_be_bytes());
                out.extend_from_slice(d.payload);
            }
            Chunk::Init(i) | Chunk::InitAck(i) => {
                out.extend_from_slice(&i.initiate_tag.to_be_bytes());
                out.extend_from_slice(&i.a_rwnd.to_be_bytes());
                out.extend_from_slice(&i.outbound_streams.to_be_bytes());
                out.extend_from_slice(&i.inbound_streams.to_be_bytes());
                out.extend_from_slice(&i.initial_tsn.to_be_bytes());
                out.extend_from_slice(i.params);
            }
            Chunk::Sack(s) => {
                out.extend_from_slice(&s.cumulative_tsn_ack.to_be_bytes());
                out.extend_from_slice(&s.a_rwnd.to_be_bytes());
                let n_gaps = u16::try_from(s.gap_blocks.len()).unwrap_or(u16::MAX);
                let n_dups = u16::try_from(s.duplicate_tsns.len()).unwrap_or(u16::MAX);
                out.extend_from_slice(&n_gaps.to_be_bytes());
                out.extend_from_slice(&n_dups.to_be_bytes());
                for (start, end) in &s.gap_blocks {
                    out.extend_from_slice(&start.to_be_bytes());
                    out.extend_from_slice(&end.to_be_bytes());
                }
                for tsn in &s.duplicate_tsns {
                    out.extend_from_slice(&tsn.to_be_bytes());
                }
            }
            Chunk::Heartbeat(h) | Chunk::HeartbeatAck(h) => out.extend_from_slice(h.params),
            Chunk::Abort(a) => out.extend_from_slice(a.causes),
            Chunk::Shutdown(s) => out.extend_from_slice(&s.cumulative_tsn_ack.to_be_bytes()),
            Chunk::ShutdownAck | Chunk::CookieAck | Chunk::ShutdownComplete(_) => {}
            Chunk::Error(e) => out.extend_from_slice(e.causes),
            Chunk::CookieEcho(c) => out.extend_from_slice(c.cookie),
            Chunk::Unknown { value, .. } => out.extend_from_slice(value),
        }
        out.resize(out.len() + (pad4(len) - len), 0);
    }
}

impl<'a> Init<'a> {
    /// The optional/variable-length parameters (RFC 9260 §3.3.2.1).
    pub fn params(&self) -> Tlvs<'a> {
        Tlvs::new(self.params)
    }

    /// The State Cookie parameter's value (INIT ACK, RFC 9260 §3.3.3.1).
    pub fn state_cookie(&self) -> Option<&'a [u8]> {
        self.params()
            .map_while(Result::ok)
            .find(|p| p.tlv_type == param_type::STATE_COOKIE)
            .map(|p| p.value)
    }
}

impl<'a> Heartbeat<'a> {
    /// The Heartbeat Info parameter's value (type 1), if well formed.
    pub fn info(&self) -> Option<&'a [u8]> {
        Tlvs::new(self.params)
            .map_while(Result::ok)
            .find(|p| p.tlv_type == param_type::HEARTBEAT_INFO)
            .map(|p| p.value)
    }
}

/// Error causes of an ABORT or ERROR chunk (RFC 9260 §3.3.10).
pub fn causes(bytes: &[u8]) -> Tlvs<'_> {
    Tlvs::new(bytes)
}

/// Parameter type codes (RFC 9260 §3.3.2.1, §3.3.3.1 and the extensions a
/// Linux kernel puts into its INIT).
pub mod param_type {
    pub const HEARTBEAT_INFO: u16 = 1;
    pub const IPV4_ADDRESS: u16 = 5;
    pub const IPV6_ADDRESS: u16 = 6;
    pub const STATE_COOKIE: u16 = 7;
    pub const UNRECOGNIZED_PARAMETER: u16 = 8;
    pub const COOKIE_PRESERVATIVE: u16 = 9;
    pub const HOST_NAME_ADDRESS: u16 = 11;
    pub const SUPPORTED_ADDRESS_TYPES: u16 = 12;
    /// ECN Capable (RFC 9260 Appendix A of RFC 4960, 0x8000).
    pub const ECN_CAPABLE: u16 = 0x8000;
    /// Random (RFC 4895).
    pub const RANDOM: u16 = 0x8002;
    /// Chunk List (RFC 4895).
    pub const CHUNK_LIST: u16 = 0x8003;
    /// Requested HMAC Algorithm (RFC 4895).
    pub const HMAC_ALGO: u16 = 0x8004;
    /// Supported Extensions (RFC 5061).
    pub const SUPPORTED_EXTENSIONS: u16 = 0x8008;
    /// Forward-TSN-Supported (RFC 3758).
    pub const FORWARD_TSN_SUPPORTED: u16 = 0xC000;
    /// Adaptation Layer Indication (RFC 5061).
    pub const ADAPTATION_LAYER: u16 = 0xC006;
}

hexcore_wire::code_enum! {
    /// Error cause codes (RFC 9260 §3.3.10).
    pub enum CauseCode: u16 {
        /// Invalid Stream Identifier.
        InvalidStreamIdentifier = 1,
        /// Missing Mandatory Parameter.
        MissingMandatoryParameter = 2,
        /// Stale Cookie Error.
        StaleCookie = 3,
        /// Out of Resource.
        OutOfResource = 4,
        /// Unresolvable Address.
        UnresolvableAddress = 5,
        /// Unrecognized Chunk Type.
        UnrecognizedChunkType = 6,
        /// Invalid Mandatory Parameter.
        InvalidMandatoryParameter = 7,
        /// Unrecognized Parameters.
        UnrecognizedParameters = 8,
        /// No User Data.
        NoUserData = 9,
        /// Cookie Received While Shutting Down.
        CookieReceivedWhileShuttingDown = 10,
        /// Restart of an Association with New Addresses.
        RestartWithNewAddresses = 11,
        /// User-Initiated Abort.
        UserInitiatedAbort = 12,
        /// Protocol Violation.
        ProtocolViolation = 13,
    }
}

/// One type-length-value item: an INIT parameter or an error cause; both
/// share the layout of RFC 9260 §3.2.1 (length includes the 4-byte header,
/// excludes the padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tlv_type: u16,
    pub value: &'a [u8],
}

impl Tlv<'_> {
    /// The item as on the wire, header included, without padding.
    pub fn emit(&self, out: &mut Vec<u8>) {
        write_tlv(out, self.tlv_type, self.value);
    }
}

/// Appends a parameter / error cause, padded to 4 bytes.
pub fn write_tlv(out: &mut Vec<u8>, tlv_type: u16, value: &[u8]) {
    let len = 4 + value.len();
    out.extend_from_slice(&tlv_type.to_be_bytes());
    out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + (pad4(len) - len), 0);
}

/// Iterator over parameters or error causes; stops at the first broken one.
#[derive(Debug, Clone)]
pub struct Tlvs<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Tlvs<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Tlvs {
            rest: bytes,
            done: false,
        }
    }
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Result<Tlv<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        let tlv_type = be16(self.rest, 0);
        let length = be16(self.rest, 2).map(usize::from);
        let (Some(tlv_type), Some(length)) = (tlv_type, length) else {
            self.done = true;
            return Some(Err(Error::Truncated {
                needed: 4,
                got: self.rest.len(),
            }));
        };
        let value = match self.rest.get(4..length) {
            Some(v) if length >= 4 => v,
            _ => {
                self.done = true;
                return Some(Err(Error::BadParamLength { tlv_type, length }));
            }
        };
        self.rest = self.rest.get(pad4(length)..).unwrap_or(&[]);
        Some(Ok(Tlv { tlv_type, value }))
    }
}

/// Builds one SCTP packet: common header, chunks (each padded), CRC32c.
#[derive(Debug, Clone)]
pub struct PacketBuilder {
    buf: Vec<u8>,
}

impl PacketBuilder {
    pub fn new(src_port: u16, dst_port: u16, verification_tag: u32) -> Self {
        let mut buf = Vec::with_capacity(1280);
        buf.extend_from_slice(&src_port.to_be_bytes());
        buf.extend_from_slice(&dst_port.to_be_bytes());
        buf.extend_from_slice(&verification_tag.to_be_bytes());
        buf.extend_from_slice(&[0; 4]);
        PacketBuilder { buf }
    }

    /// Appends a chunk (builder style).
    pub fn chunk(mut self, chunk: &Chunk<'_>) -> Self {
        self.push(chunk);
        self
    }

    /// Appends a chunk.
    pub fn push(&mut self, chunk: &Chunk<'_>) {
        chunk.emit(&mut self.buf);
    }

    /// Appends an already encoded (and padded) chunk.
    pub fn push_raw(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Bytes so far (header and padded chunks).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether no chunk was added yet.
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= COMMON_HEADER_LEN
    }

    /// The finished packet with its CRC32c stamped.
    pub fn finish(mut self) -> Vec<u8> {
        stamp_checksum(&mut self.buf);
        self.buf
    }
}

/// Rounds a length up to the next multiple of 4 (RFC 9260 §3.2 padding).
pub fn pad4(len: usize) -> usize {
    len.saturating_add(3) & !3
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    bytes
        .get(at..at.checked_add(2)?)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map(u16::from_be_bytes)
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at.checked_add(4)?)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3720 Appendix B.4: CRC32c examples, the CRC shown in transmission
    // byte order (the same byte order as the SCTP checksum field).
    static ZEROS_32: [u8; 32] = [0; 32];
    static ZEROS_32_CRC: [u8; 4] = [0xaa, 0x36, 0x91, 0x8a];
    static ONES_32_CRC: [u8; 4] = [0x43, 0xab, 0xa8, 0x62];
    static INCREASING_32_CRC: [u8; 4] = [0x4e, 0x79, 0xdd, 0x46];
    static DECREASING_32_CRC: [u8; 4] = [0x5c, 0xdb, 0x3f, 0x11];

    // pion/sctp packet_test.go (MIT), TestPacketUnmarshal: a header-only
    // packet, ports 5000/5000, tag 0, with a valid CRC32c.
    static PION_HEADER_ONLY: [u8; 12] = [0x13, 0x88, 0x13, 0x88, 0x00, 0x00, 0x00, 0x00, 0x06, 0xa9, 0x00, 0xe1];

    // pion/sctp packet_test.go (MIT), TestPacketUnmarshal: an INIT sent by a
    // browser's SCTP stack (usrsctp), CRC checked by pion. Carries the
    // extension parameters Forward-TSN-Supported, Supported Extensions,
    // Random, Requested HMAC Algorithm and Chunk List (RFC 3758/5061/4895).
    static PION_BROWSER_INIT: [u8; 100] = [
        0x13, 0x88, 0x13, 0x88, 0x00, 0x00, 0x00, 0x00, 0x81, 0x46, 0x9d, 0xfc, 0x01, 0x00, 0x00, 0x56, 0x55, 0xb9,
        0x64, 0xa5, 0x00, 0x02, 0x00, 0x00, 0x04, 0x00, 0x08, 0x00, 0xe8, 0x6d, 0x10, 0x30, 0xc0, 0x00, 0x00, 0x04,
        0x80, 0x08, 0x00, 0x09, 0xc0, 0x0f, 0xc1, 0x80, 0x82, 0x00, 0x00, 0x00, 0x80, 0x02, 0x00, 0x24, 0x9f, 0xeb,
        0xbb, 0x5c, 0x50, 0xc9, 0xbf, 0x75, 0x9c, 0xb1, 0x2c, 0x57, 0x4f, 0xa4, 0x5a, 0x51, 0xba, 0x60, 0x17, 0x78,
        0x27, 0x94, 0x5c, 0x31, 0xe6, 0x5d, 0x5b, 0x09, 0x47, 0xe2, 0x22, 0x06, 0x80, 0x04, 0x00, 0x06, 0x00, 0x01,
        0x00, 0x00, 0x80, 0x03, 0x00, 0x06, 0x80, 0xc1, 0x00, 0x00,
    ];

    // Scapy test/contrib/sctp.uts (GPL-2; test data only), "SCTP - Chunk Init -
    // build": IP()/SCTP()/SCTPChunkInit(params=[SCTPChunkParamIPv4Addr()]),
    // the SCTP part after the 20-byte IPv4 header; Scapy's dissector reads the
    // checksum field as 0x402c0b5f.
    static SCAPY_INIT: [u8; 40] = [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x2c, 0x0b, 0x5f, 0x01, 0x00, 0x00, 0x1c, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x08,
        0x7f, 0x00, 0x00, 0x01,
    ];

    // Linkbit analyzer example "RANAP M3UA trace sample" (linkbit.com,
    // analyzer_examples/ranap.htm): the SCTP part of an Ethernet/IPv4 frame,
    // one DATA chunk carrying M3UA (PPID 3), ports 2003 -> 1003.
    static LINKBIT_RANAP_DATA: [u8; 160] = [
        0x07, 0xd3, 0x03, 0xeb, 0x6a, 0x81, 0x04, 0xa4, 0x55, 0xee, 0x55, 0x92, 0x00, 0x03, 0x00, 0x94, 0xe9, 0xed,
        0xe2, 0xbb, 0x00, 0x02, 0xaa, 0x9c, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x84,
        0x02, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x58, 0x02, 0x10,
        0x00, 0x6c, 0x00, 0x00, 0x1f, 0x47, 0x00, 0x00, 0x1f, 0x41, 0x03, 0x00, 0x00, 0x01, 0x01, 0x01, 0x61, 0xda,
        0x02, 0x02, 0x06, 0x04, 0x43, 0x41, 0x1f, 0x8e, 0x0f, 0x47, 0x00, 0x13, 0x40, 0x43, 0x00, 0x00, 0x06, 0x00,
        0x03, 0x40, 0x01, 0x00, 0x00, 0x0f, 0x40, 0x06, 0x00, 0x64, 0xf0, 0x90, 0x18, 0x07, 0x00, 0x3a, 0x40, 0x08,
        0x00, 0x64, 0xf0, 0x90, 0x18, 0x07, 0x00, 0x01, 0x00, 0x10, 0x40, 0x11, 0x10, 0x05, 0x24, 0x71, 0x03, 0x00,
        0x00, 0x00, 0x08, 0x49, 0x06, 0x90, 0x08, 0x40, 0x08, 0x87, 0x72, 0x00, 0x4f, 0x40, 0x03, 0x01, 0x5d, 0xf4,
        0x00, 0x56, 0x40, 0x05, 0x64, 0xf0, 0x90, 0x07, 0x0f, 0x04, 0x04, 0x43, 0x47, 0x1f, 0x8e, 0x00,
    ];

    // Linkbit analyzer example "SMS trace sample" (linkbit.com,
    // analyzer_examples/map-gsm-sms.htm): a HEARTBEAT, ports 2904 -> 2904,
    // tag 5436, checksum shown as 2180803497 (the field read big-endian).
    static LINKBIT_HEARTBEAT: [u8; 44] = [
        0x0b, 0x58, 0x0b, 0x58, 0x00, 0x00, 0x15, 0x3c, 0x81, 0xfc, 0x6b, 0xa9, 0x04, 0x00, 0x00, 0x20, 0x00, 0x01,
        0x00, 0x1c, 0x28, 0x2f, 0x21, 0x44, 0x00, 0x00, 0x00, 0x00, 0x41, 0x4e, 0x42, 0x38, 0xf0, 0xcb, 0x55, 0xb8,
        0x29, 0x82, 0x08, 0xc7, 0x75, 0x10, 0x48, 0x1d,
    ];

    #[test]
    fn decode_and_encode_captured_data_chunk() {
        let p = Packet::parse(&LINKBIT_RANAP_DATA).unwrap();
        assert!(p.checksum_ok());
        let h = p.header();
        assert_eq!((h.src_port, h.dst_port), (2003, 1003));
        assert_eq!(h.verification_tag, 0x6a81_04a4);
        let chunks: Vec<_> = p.chunks().collect::<Result<_, _>>().unwrap();
        let [Chunk::Data(d)] = &chunks[..] else {
            panic!("one DATA chunk expected: {chunks:?}");
        };
        assert!(d.beginning && d.ending && !d.unordered && !d.immediate);
        assert_eq!((d.tsn, d.stream_id, d.ssn, d.ppid), (0xe9ed_e2bb, 2, 0xaa9c, 3));
        assert_eq!(d.payload.len(), 132);
        // M3UA common header: version 1, class 1 (transfer), type 1 (DATA), length 132.
        assert_eq!(&d.payload[..8], &[1, 0, 1, 1, 0, 0, 0, 0x84]);
        let out = PacketBuilder::new(2003, 1003, 0x6a81_04a4).chunk(&chunks[0]).finish();
        assert_eq!(out, LINKBIT_RANAP_DATA);
    }

    #[test]
    fn decode_and_encode_captured_heartbeat() {
        let p = Packet::parse(&LINKBIT_HEARTBEAT).unwrap();
        assert!(p.checksum_ok());
        assert_eq!(p.header().checksum.swap_bytes(), 2_180_803_497);
        assert_eq!(p.header().verification_tag, 5436);
        let Some(Ok(chunk @ Chunk::Heartbeat(hb))) = p.chunks().next() else {
            panic!("HEARTBEAT expected");
        };
        assert_eq!(hb.info().map(<[u8]>::len), Some(24));
        let out = PacketBuilder::new(2904, 2904, 5436).chunk(&chunk).finish();
        assert_eq!(out, LINKBIT_HEARTBEAT);
    }

    #[test]
    fn crc32c_rfc3720_vectors() {
        let ones = [0xffu8; 32];
        let inc: Vec<u8> = (0u8..32).collect();
        let dec: Vec<u8> = (0u8..32).rev().collect();
        assert_eq!(crc32c(&ZEROS_32).to_le_bytes(), ZEROS_32_CRC);
        assert_eq!(crc32c(&ones).to_le_bytes(), ONES_32_CRC);
        assert_eq!(crc32c(&inc).to_le_bytes(), INCREASING_32_CRC);
        assert_eq!(crc32c(&dec).to_le_bytes(), DECREASING_32_CRC);
    }

    #[test]
    fn decode_header_only() {
        let p = Packet::parse(&PION_HEADER_ONLY).unwrap();
        let h = p.header();
        assert_eq!((h.src_port, h.dst_port, h.verification_tag), (5000, 5000, 0));
        assert!(p.checksum_ok());
        assert_eq!(p.chunks().count(), 0);
    }

    #[test]
    fn encode_header_only() {
        assert_eq!(PacketBuilder::new(5000, 5000, 0).finish(), PION_HEADER_ONLY);
    }

    #[test]
    fn decode_browser_init_with_extension_params() {
        let p = Packet::parse(&PION_BROWSER_INIT).unwrap();
        assert!(p.checksum_ok());
        let chunks: Vec<_> = p.chunks().collect::<Result<_, _>>().unwrap();
        assert_eq!(chunks.len(), 1);
        let Chunk::Init(init) = &chunks[0] else {
            panic!("not an INIT: {:?}", chunks[0]);
        };
        assert_eq!(init.initiate_tag, 0x55b9_64a5);
        assert_eq!(init.a_rwnd, 131_072);
        assert_eq!(init.outbound_streams, 1024);
        assert_eq!(init.inbound_streams, 2048);
        assert_eq!(init.initial_tsn, 0xe86d_1030);
        let params: Vec<_> = init.params().collect::<Result<_, _>>().unwrap();
        let types: Vec<u16> = params.iter().map(|p| p.tlv_type).collect();
        assert_eq!(
            types,
            [
                param_type::FORWARD_TSN_SUPPORTED,
                param_type::SUPPORTED_EXTENSIONS,
                param_type::RANDOM,
                param_type::HMAC_ALGO,
                param_type::CHUNK_LIST
            ]
        );
        assert_eq!(params[1].value, [0xc0, 0x0f, 0xc1, 0x80, 0x82]);
        assert_eq!(params[2].value.len(), 32);
        assert_eq!(params[3].value, [0x00, 0x01]);
        assert_eq!(init.state_cookie(), None);
    }

    #[test]
    fn encode_browser_init() {
        let p = Packet::parse(&PION_BROWSER_INIT).unwrap();
        let chunk = p.chunks().next().unwrap().unwrap();
        let out = PacketBuilder::new(5000, 5000, 0).chunk(&chunk).finish();
        assert_eq!(out, PION_BROWSER_INIT);
    }

    #[test]
    fn decode_and_encode_scapy_init() {
        let p = Packet::parse(&SCAPY_INIT).unwrap();
        assert!(p.checksum_ok());
        // Scapy shows the field big-endian: 0x402c0b5f.
        assert_eq!(p.header().checksum.swap_bytes(), 0x402c_0b5f);
        let Some(Ok(Chunk::Init(init))) = p.chunks().next() else {
            panic!("no INIT");
        };
        let mut params = init.params();
        let ipv4 = params.next().unwrap().unwrap();
        assert_eq!(ipv4.tlv_type, param_type::IPV4_ADDRESS);
        assert_eq!(ipv4.value, [127, 0, 0, 1]);
        assert!(params.next().is_none());

        let mut raw = Vec::new();
        write_tlv(&mut raw, param_type::IPV4_ADDRESS, &[127, 0, 0, 1]);
        let built = PacketBuilder::new(0, 0, 0)
            .chunk(&Chunk::Init(Init {
                initiate_tag: 0,
                a_rwnd: 0,
                outbound_streams: 0,
                inbound_streams: 0,
                initial_tsn: 0,
                params: &raw,
            }))
            .finish();
        assert_eq!(built, SCAPY_INIT);
    }

    #[test]
    fn data_chunk_layout_and_round_trip() {
        // RFC 9260 §3.3.1 field by field: flags U|B|E = 0x07, length 16+5,
        // TSN, stream 3, SSN 9, PPID 60 (NGAP), 5 bytes payload + 3 padding.
        let payload = [0x00, 0x15, 0x00, 0x33, 0x00];
        let data = Chunk::Data(DataChunk {
            unordered: true,
            beginning: true,
            ending: true,
            immediate: false,
            tsn: 0x0102_0304,
            stream_id: 3,
            ssn: 9,
            ppid: PPID_NGAP,
            payload: &payload,
        });
        let pkt = PacketBuilder::new(38412, 38412, 0xdead_beef)
            .chunk(&data)
            .chunk(&Chunk::CookieAck)
            .finish();
        let expected_data = [
            0x00, 0x07, 0x00, 0x15, 0x01, 0x02, 0x03, 0x04, 0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x15,
            0x00, 0x33, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(&pkt[12..36], &expected_data);
        assert_eq!(&pkt[36..], &[0x0b, 0x00, 0x00, 0x04]);
        let p = Packet::parse(&pkt).unwrap();
        assert!(p.checksum_ok());
        let chunks: Vec<_> = p.chunks().collect::<Result<_, _>>().unwrap();
        assert_eq!(chunks, [data, Chunk::CookieAck]);
    }

    #[test]
    fn sack_round_trip() {
        let sack = Chunk::Sack(Sack {
            cumulative_tsn_ack: 100,
            a_rwnd: 65535,
            gap_blocks: vec![(2, 3), (5, 5)],
            duplicate_tsns: vec![98],
        });
        let pkt = PacketBuilder::new(1, 2, 3).chunk(&sack).finish();
        // RFC 9260 §3.3.4: 16 + 2*4 + 1*4 = 28 bytes.
        assert_eq!(&pkt[12..16], &[0x03, 0x00, 0x00, 28]);
        let p = Packet::parse(&pkt).unwrap();
        assert_eq!(p.chunks().next().unwrap().unwrap(), sack);
    }

    #[test]
    fn every_chunk_round_trips() {
        let mut info = Vec::new();
        write_tlv(&mut info, param_type::HEARTBEAT_INFO, b"hb-info");
        let mut cause = Vec::new();
        write_tlv(&mut cause, u16::from(CauseCode::UserInitiatedAbort), b"bye");
        let chunks = [
            Chunk::Heartbeat(Heartbeat { params: &info }),
            Chunk::HeartbeatAck(Heartbeat { params: &info }),
            Chunk::Abort(Abort {
                t_bit: true,
                causes: &cause,
            }),
            Chunk::Shutdown(Shutdown { cumulative_tsn_ack: 7 }),
            Chunk::ShutdownAck,
            Chunk::Error(ErrorChunk { causes: &cause }),
            Chunk::CookieEcho(CookieEcho { cookie: b"cookie!" }),
            Chunk::CookieAck,
            Chunk::ShutdownComplete(ShutdownComplete { t_bit: true }),
            Chunk::Unknown {
                chunk_type: 0xc1,
                flags: 0x5a,
                value: b"xy",
            },
        ];
        let mut b = PacketBuilder::new(9899, 9899, 42);
        for c in &chunks {
            b.push(c);
        }
        let pkt = b.finish();
        let parsed: Vec<_> = Packet::parse(&pkt).unwrap().chunks().collect::<Result<_, _>>().unwrap();
        assert_eq!(parsed, chunks);
        let Chunk::Heartbeat(h) = &parsed[0] else { panic!() };
        assert_eq!(h.info(), Some(&b"hb-info"[..]));
        let Chunk::Abort(a) = &parsed[2] else { panic!() };
        let c = causes(a.causes).next().unwrap().unwrap();
        assert_eq!(CauseCode::from(c.tlv_type), CauseCode::UserInitiatedAbort);
        assert_eq!(c.value, b"bye");
    }

    #[test]
    fn bad_checksum_detected() {
        let mut pkt = PION_BROWSER_INIT;
        pkt[20] ^= 1;
        assert!(!Packet::parse(&pkt).unwrap().checksum_ok());
        stamp_checksum(&mut pkt);
        assert!(Packet::parse(&pkt).unwrap().checksum_ok());
    }

    #[test]
    fn broken_input() {
        assert_eq!(
            Packet::parse(&PION_HEADER_ONLY[..11]).unwrap_err(),
            Error::Truncated { needed: 12, got: 11 }
        );
        // Chunk length running past the packet.
        let mut pkt = PION_BROWSER_INIT;
        pkt[15] = 0x70;
        let mut it = Packet::parse(&pkt).unwrap().chunks();
        assert!(matches!(it.next(), Some(Err(Error::BadChunkLength { .. }))));
        assert!(it.next().is_none());
        // Chunk length below the header.
        let mut pkt = PION_BROWSER_INIT;
        pkt[15] = 2;
        pkt[14] = 0;
        assert!(Packet::parse(&pkt).unwrap().chunks().next().unwrap().is_err());
        // INIT shorter than its fixed part.
        let short_init = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 8, 0, 0, 0, 0];
        assert!(matches!(
            Packet::parse(&short_init).unwrap().chunks().next(),
            Some(Err(Error::BadChunkLength { chunk_type: 1, .. }))
        ));
        // SACK announcing gap blocks it does not carry.
        let sack = [
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 5, 0, 0,
        ];
        assert!(matches!(
            Packet::parse(&sack).unwrap().chunks().next(),
            Some(Err(Error::BadSackCounts { .. }))
        ));
        // A parameter whose length runs past the INIT.
        let mut pkt = SCAPY_INIT;
        pkt[35] = 0x40;
        let Some(Ok(Chunk::Init(init))) = Packet::parse(&pkt).unwrap().chunks().next() else {
            panic!()
        };
        assert!(matches!(
            init.params().next(),
            Some(Err(Error::BadParamLength { tlv_type: 5, .. }))
        ));
        // Trailing bytes shorter than a chunk header.
        let mut pkt = PION_HEADER_ONLY.to_vec();
        pkt.extend_from_slice(&[0x0b, 0x00]);
        assert!(matches!(
            Packet::parse(&pkt).unwrap().chunks().next(),
            Some(Err(Error::Truncated { needed: 4, got: 2 }))
        ));
    }

    #[test]
    fn no_panic_on_any_short_prefix() {
        for n in 0..PION_BROWSER_INIT.len() {
            if let Ok(p) = Packet::parse(&PION_BROWSER_INIT[..n]) {
                for c in p.chunks() {
                    if let Ok(Chunk::Init(i)) = c {
                        i.params().for_each(drop);
                    }
                }
            }
        }
    }
}
