//! Capture files: classic pcap and pcapng, read from bytes and written to any `Write`.
//!
//! Reading takes the whole file as a byte slice and walks it record by record; every
//! length is checked before use, so a truncated or corrupt file ends in a typed
//! [`Error`], never a panic. Formats:
//! - classic pcap (the tcpdump format): magic `a1b2c3d4` (microseconds) or `a1b23c4d`
//!   (nanoseconds), either byte order;
//! - pcapng (IETF draft-ietf-opsawg-pcapng): Section Header, Interface Description,
//!   Enhanced and Simple Packet blocks, each section with its own byte order and each
//!   interface with its own link type and `if_tsresol`. Other blocks are skipped.
//!
//! Writing produces classic pcap with nanosecond timestamps, the most widely read form.

use std::io::{self, Write};

use crate::LinkType;

/// Errors reading a capture file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The file does not start with a pcap or pcapng magic number.
    #[error("not a pcap or pcapng file (magic {0:#010x})")]
    UnknownFormat(u32),
    /// A header or record ends before its stated length.
    #[error("truncated {what} at offset {offset}: needed {needed} bytes, {got} left")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        got: usize,
    },
    /// A pcapng block length is not a multiple of four or is smaller than a block.
    #[error("bad pcapng block length {length} at offset {offset}")]
    BadBlockLength { offset: usize, length: u32 },
    /// A pcapng packet names an interface that no Interface Description Block declared.
    #[error("pcapng packet at offset {offset} names undeclared interface {interface}")]
    UnknownInterface { offset: usize, interface: u32 },
    /// A pcapng block appeared before any Section Header Block.
    #[error("pcapng block at offset {offset} before a section header")]
    NoSection { offset: usize },
}

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// How `data` starts: the link layer of the interface it was captured on.
    pub link_type: LinkType,
    /// The captured bytes (possibly shorter than the packet on the wire).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub original_len: u32,
}

/// Reads a capture file (pcap or pcapng) held in memory.
///
/// Iterating yields records until the end of the file or the first error; after an
/// error the iterator is exhausted.
pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
    format: Format,
    done: bool,
}

enum Format {
    Pcap {
        big_endian: bool,
        nanos: bool,
        link_type: LinkType,
    },
    PcapNg {
        big_endian: bool,
        /// Link type and timestamp units per second, by interface id, for this section.
        interfaces: Vec<(LinkType, u64)>,
    },
}

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
const PCAPNG_IDB: u32 = 1;
const PCAPNG_SPB: u32 = 3;
const PCAPNG_EPB: u32 = 6;
/// pcapng option `if_tsresol` (draft-ietf-opsawg-pcapng §4.2).
const OPT_IF_TSRESOL: u16 = 9;
const OPT_END: u16 = 0;

impl<'a> Reader<'a> {
    /// Recognises the format from the first bytes.
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        let magic_be = read_u32(bytes, 0, true, "file header")?;
        let magic_le = magic_be.swap_bytes();
        if magic_be == PCAPNG_SHB {
            // The section header itself is parsed by the iterator, like any later one.
            return Ok(Reader {
                bytes,
                offset: 0,
                format: Format::PcapNg {
                    big_endian: false,
                    interfaces: Vec::new(),
                },
                done: false,
            });
        }
        let (big_endian, nanos) = match (magic_be, magic_le) {
            (PCAP_MAGIC_US, _) => (true, false),
            (PCAP_MAGIC_NS, _) => (true, true),
            (_, PCAP_MAGIC_US) => (false, false),
            (_, PCAP_MAGIC_NS) => (false, true),
            _ => return Err(Error::UnknownFormat(magic_be)),
        };
        // Global header: magic, version major/minor, thiszone, sigfigs, snaplen, network.
        let network = read_u32(bytes, 20, big_endian, "pcap global header")?;
        Ok(Reader {
            bytes,
            offset: 24,
            format: Format::Pcap {
                big_endian,
                nanos,
                link_type: LinkType::from(network & 0x0fff_ffff),
            },
            done: false,
        })
    }

    fn next_pcap(&mut self, big_endian: bool, nanos: bool, link_type: LinkType) -> Result<Option<Record<'a>>, Error> {
        if self.offset == self.bytes.len() {
            return Ok(None);
        }
        let at = self.offset;
        let sec = read_u32(self.bytes, at, big_endian, "pcap record header")?;
        let frac = read_u32(self.bytes, at + 4, big_endian, "pcap record header")?;
        let incl_len = read_u32(self.bytes, at + 8, big_endian, "pcap record header")?;
        let orig_len = read_u32(self.bytes, at + 12, big_endian, "pcap record header")?;
        let data = slice(self.bytes, at + 16, incl_len as usize, "pcap record")?;
        self.offset = at + 16 + data.len();
        let frac_ns = if nanos { u64::from(frac) } else { u64::from(frac) * 1000 };
        Ok(Some(Record {
            timestamp_ns: u64::from(sec) * 1_000_000_000 + frac_ns,
            link_type,
            data,
            original_len: orig_len,
        }))
    }

    fn next_pcapng(&mut self) -> Result<Option<Record<'a>>, Error> {
        loop {
            if self.offset == self.bytes.len() {
                return Ok(None);
            }
            let at = self.offset;
            let Format::PcapNg { big_endian, interfaces } = &mut self.format else {
                return Ok(None);
            };
            let raw_type = read_u32(self.bytes, at, false, "pcapng block header")?;
            if raw_type == PCAPNG_SHB {
                // The byte-order magic decides how this section (including the SHB's own
                // length) is read.
                let bom = read_u32(self.bytes, at + 8, true, "pcapng section header")?;
                *big_endian = match bom {
                    PCAPNG_BYTE_ORDER_MAGIC => true,
                    x if x.swap_bytes() == PCAPNG_BYTE_ORDER_MAGIC => false,
                    other => return Err(Error::UnknownFormat(other)),
                };
                interfaces.clear();
            } else if at == 0 {
                return Err(Error::NoSection { offset: at });
            }
            let be = *big_endian;
            let block_type = read_u32(self.bytes, at, be, "pcapng block header")?;
            let length = read_u32(self.bytes, at + 4, be, "pcapng block header")?;
            if length < 12 || length % 4 != 0 {
                return Err(Error::BadBlockLength { offset: at, length });
            }
            let block = slice(self.bytes, at, length as usize, "pcapng block")?;
            self.offset = at + block.len();
            // Body: between the 8-byte header and the trailing length copy.
            let body = &block[8..block.len() - 4];
            match block_type {
                PCAPNG_IDB => {
                    let link = read_u16(body, 0, be, "pcapng interface description")?;
                    let options = body.get(8..).unwrap_or_default();
                    let units = if_tsresol(options, be).unwrap_or(1_000_000);
                    interfaces.push((LinkType::from(u32::from(link)), units));
                }
                PCAPNG_EPB => {
                    let interface = read_u32(body, 0, be, "pcapng enhanced packet")?;
                    let ts_high = read_u32(body, 4, be, "pcapng enhanced packet")?;
                    let ts_low = read_u32(body, 8, be, "pcapng enhanced packet")?;
                    let captured = read_u32(body, 12, be, "pcapng enhanced packet")?;
                    let original = read_u32(body, 16, be, "pcapng enhanced packet")?;
                    let data = slice(body, 20, captured as usize, "pcapng packet data")?;
                    let &(link_type, units) = interfaces
                        .get(interface as usize)
                        .ok_or(Error::UnknownInterface { offset: at, interface })?;
                    let ticks = (u64::from(ts_high) << 32) | u64::from(ts_low);
                    return Ok(Some(Record {
                        timestamp_ns: ticks_to_ns(ticks, units),
                        link_type,
                        data,
                        original_len: original,
                    }));
                }
                PCAPNG_SPB => {
                    let original = read_u32(body, 0, be, "pcapng simple packet")?;
                    let &(link_type, _) = interfaces.first().ok_or(Error::UnknownInterface {
                        offset: at,
                        interface: 0,
                    })?;
                    let available = body.len().saturating_sub(4);
                    let data = slice(body, 4, available.min(original as usize), "pcapng packet data")?;
                    return Ok(Some(Record {
                        timestamp_ns: 0,
                        link_type,
                        data,
                        original_len: original,
                    }));
                }
                // Section headers were handled above; name resolution, statistics,
                // custom blocks and the rest carry no packets.
                _ => {}
            }
        }
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Record<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = match self.format {
            Format::Pcap {
                big_endian,
                nanos,
                link_type,
            } => self.next_pcap(big_endian, nanos, link_type),
            Format::PcapNg { .. } => self.next_pcapng(),
        };
        match next {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Writes a classic pcap file with nanosecond timestamps.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Writes the global header; every record then uses `link_type`.
    pub fn new(mut out: W, link_type: LinkType) -> io::Result<Self> {
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&PCAP_MAGIC_NS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay zero; snaplen 262144 as tcpdump writes.
        header[16..20].copy_from_slice(&262_144u32.to_le_bytes());
        header[20..24].copy_from_slice(&u32::from(link_type).to_le_bytes());
        out.write_all(&header)?;
        Ok(Writer { out })
    }

    /// Appends one packet captured at `timestamp_ns` (since the Unix epoch).
    pub fn write(&mut self, timestamp_ns: u64, data: &[u8]) -> io::Result<()> {
        let len =
            u32::try_from(data.len()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet over 4 GiB"))?;
        let sec = u32::try_from(timestamp_ns / 1_000_000_000).unwrap_or(u32::MAX);
        let ns = (timestamp_ns % 1_000_000_000) as u32;
        let mut header = [0u8; 16];
        header[0..4].copy_from_slice(&sec.to_le_bytes());
        header[4..8].copy_from_slice(&ns.to_le_bytes());
        header[8..12].copy_from_slice(&len.to_le_bytes());
        header[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(data)
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The `if_tsresol` option: units per second (a power of ten or of two).
fn if_tsresol(mut options: &[u8], be: bool) -> Option<u64> {
    while options.len() >= 4 {
        let code = read_u16(options, 0, be, "").ok()?;
        let len = usize::from(read_u16(options, 2, be, "").ok()?);
        if code == OPT_END {
            return None;
        }
        let value = options.get(4..4 + len)?;
        if code == OPT_IF_TSRESOL {
            let v = *value.first()?;
            let exp = u32::from(v & 0x7f);
            return if v & 0x80 == 0 {
                10u64.checked_pow(exp)
            } else {
                2u64.checked_pow(exp)
            };
        }
        options = options.get(4 + len.next_multiple_of(4)..)?;
    }
    None
}

fn ticks_to_ns(ticks: u64, units_per_sec: u64) -> u64 {
    if units_per_sec == 0 {
        return ticks;
    }
    let ns = u128::from(ticks) * 1_000_000_000 / u128::from(units_per_sec);
    u64::try_from(ns).unwrap_or(u64::MAX)
}

fn slice<'a>(bytes: &'a [u8], at: usize, len: usize, what: &'static str) -> Result<&'a [u8], Error> {
    bytes
        .get(at..)
        .and_then(|rest| rest.get(..len))
        .ok_or(Error::Truncated {
            what,
            offset: at,
            needed: len,
            got: bytes.len().saturating_sub(at),
        })
}

fn read_u32(bytes: &[u8], at: usize, be: bool, what: &'static str) -> Result<u32, Error> {
    let b: [u8; 4] = slice(bytes, at, 4, what)?.try_into().map_err(|_| Error::Truncated {
        what,
        offset: at,
        needed: 4,
        got: 0,
    })?;
    Ok(if be {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn read_u16(bytes: &[u8], at: usize, be: bool, what: &'static str) -> Result<u16, Error> {
    let b: [u8; 2] = slice(bytes, at, 2, what)?.try_into().map_err(|_| Error::Truncated {
        what,
        offset: at,
        needed: 2,
        got: 0,
    })?;
    Ok(if be {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcapng file as Wireshark writes it (little endian): a Section Header Block with
    /// no options, an Interface Description Block for LINKTYPE_RAW (101) with
    /// `if_tsresol` = 9 (nanoseconds), one Enhanced Packet Block holding the four bytes
    /// `45 00 00 04`, and a Name Resolution Block (type 4) that readers must skip.
    /// Laid out by hand from draft-ietf-opsawg-pcapng §4.1–§4.3.
    static PCAPNG_LE: [u8; 108] = [
        // SHB: type, length 28, byte-order magic, version 1.0, section length -1, length.
        0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, //
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0, //
        // IDB: type 1, length 32, linktype 101, reserved, snaplen 0,
        // option if_tsresol(9) len 1 value 9 + pad, opt_endofopt, length.
        1, 0, 0, 0, 32, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, //
        9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0, //
        // EPB: type 6, length 36, interface 0, ts high 0, ts low 1_500_000_123,
        // captured 4, original 60, data, length.
        6, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        0x7b, 0x2f, 0x68, 0x59, 4, 0, 0, 0, 60, 0, 0, 0, //
        0x45, 0, 0, 4, 36, 0, 0, 0, //
        // NRB: type 4, length 12, no records, length.
        4, 0, 0, 0, 12, 0, 0, 0, 12, 0, 0, 0,
    ];

    #[test]
    fn reads_pcapng_with_nanosecond_interface() {
        let records: Vec<_> = Reader::new(&PCAPNG_LE).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].link_type, LinkType::Raw);
        assert_eq!(records[0].timestamp_ns, 1_500_000_123);
        assert_eq!(records[0].data, &[0x45, 0, 0, 4]);
        assert_eq!(records[0].original_len, 60);
    }

    #[test]
    fn pcapng_defaults_to_microseconds() {
        // Same file without the if_tsresol option: IDB shrinks to 20 bytes.
        let mut file = PCAPNG_LE[..28].to_vec();
        file.extend_from_slice(&[1, 0, 0, 0, 20, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0]);
        file.extend_from_slice(&PCAPNG_LE[60..96]);
        let record = Reader::new(&file).unwrap().next().unwrap().unwrap();
        assert_eq!(record.timestamp_ns, 1_500_000_123_000);
    }

    #[test]
    fn pcap_write_then_read_round_trip() {
        let mut w = Writer::new(Vec::new(), LinkType::Ethernet).unwrap();
        w.write(1_700_000_000_123_456_789, &[1, 2, 3]).unwrap();
        w.write(1_700_000_001_000_000_000, &[]).unwrap();
        let file = w.into_inner().unwrap();
        // Global header as tcpdump -w --time-stamp-precision=nano writes it.
        assert_eq!(&file[..4], &[0x4d, 0x3c, 0xb2, 0xa1]);
        assert_eq!(&file[20..24], &[1, 0, 0, 0]);
        let records: Vec<_> = Reader::new(&file).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].timestamp_ns, 1_700_000_000_123_456_789);
        assert_eq!(records[0].data, &[1, 2, 3]);
        assert_eq!(records[1].data, &[] as &[u8]);
    }

    #[test]
    fn reads_big_endian_microsecond_pcap() {
        // Global header of a big-endian µs pcap (as written on SPARC/PowerPC), LINKTYPE_LINUX_SLL.
        let mut file = vec![
            0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 113,
        ];
        file.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa]);
        let record = Reader::new(&file).unwrap().next().unwrap().unwrap();
        assert_eq!(record.link_type, LinkType::LinuxSll);
        assert_eq!(record.timestamp_ns, 2_000_007_000);
        assert_eq!(record.data, &[0xaa]);
    }

    #[test]
    fn broken_files_give_typed_errors() {
        assert_eq!(
            Reader::new(&[1, 2, 3])
                .err()
                .map(|e| matches!(e, Error::Truncated { .. })),
            Some(true)
        );
        assert!(matches!(Reader::new(&[0u8; 24]), Err(Error::UnknownFormat(0))));
        // A record claiming more bytes than the file has.
        let mut w = Writer::new(Vec::new(), LinkType::Raw).unwrap();
        w.write(0, &[1, 2, 3, 4]).unwrap();
        let mut file = w.into_inner().unwrap();
        file.truncate(file.len() - 1);
        let mut reader = Reader::new(&file).unwrap();
        assert!(matches!(reader.next(), Some(Err(Error::Truncated { .. }))));
        assert!(reader.next().is_none());
        // pcapng: bad block length, and a packet before any interface.
        let mut ng = PCAPNG_LE[..28].to_vec();
        ng.extend_from_slice(&[6, 0, 0, 0, 13, 0, 0, 0]);
        assert!(matches!(
            Reader::new(&ng).unwrap().next(),
            Some(Err(Error::BadBlockLength { length: 13, .. }))
        ));
        let mut ng = PCAPNG_LE[..28].to_vec();
        ng.extend_from_slice(&PCAPNG_LE[60..96]);
        assert!(matches!(
            Reader::new(&ng).unwrap().next(),
            Some(Err(Error::UnknownInterface { interface: 0, .. }))
        ));
    }

    #[test]
    fn every_prefix_of_a_file_is_handled() {
        for cut in 0..PCAPNG_LE.len() {
            if let Ok(reader) = Reader::new(&PCAPNG_LE[..cut]) {
                for _ in reader {}
            }
        }
    }
}
