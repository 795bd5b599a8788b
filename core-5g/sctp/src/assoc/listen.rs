//! The listening side (RFC 9260 §5.1 B, §5.1.3, §8.4): answers INIT with an
//! INIT ACK carrying a signed State Cookie and keeps no state; only a valid
//! COOKIE ECHO creates an [`Association`]. Packets for no association are
//! answered as the out-of-the-blue rules say.

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Association, Config, encode, nonzero, stale_cookie_error};
use crate::cookie::{CookieData, CookieError, CookieJar};
use crate::wire::{
    self, Abort, Chunk, CommonHeader, Init, Packet, PacketBuilder, ShutdownComplete, param_type, write_tlv,
};

/// What the listener wants done with a packet for no known association.
#[derive(Debug)]
pub enum ListenerOutput {
    /// Drop it.
    Nothing,
    /// Send this packet back to the sender.
    Reply(Vec<u8>),
    /// A new association (COOKIE ECHO accepted); it has an `Up` event and a
    /// COOKIE ACK queued.
    Accepted(Box<Association>),
}

/// Stateless acceptor of new associations.
#[derive(Debug, Clone)]
pub struct Listener {
    config: Config,
    jar: CookieJar,
    rng: StdRng,
}

impl Listener {
    /// `seed` feeds the RNG for the cookie key, tags and TSNs.
    pub fn new(now: Instant, config: Config, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let jar = CookieJar::new(rng.random(), now, config.cookie_lifetime);
        Listener { config, jar, rng }
    }

    /// Like [`Listener::new`] with a cookie key from the caller (production:
    /// 32 bytes from the OS's CSPRNG, not a 64-bit seed).
    pub fn with_key(now: Instant, config: Config, key: [u8; 32], seed: u64) -> Self {
        let rng = StdRng::seed_from_u64(seed);
        let jar = CookieJar::new(key, now, config.cookie_lifetime);
        Listener { config, jar, rng }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles one packet that matched no association.
    pub fn handle(&mut self, now: Instant, datagram: &[u8]) -> ListenerOutput {
        let Ok(packet) = Packet::parse(datagram) else {
            return ListenerOutput::Nothing;
        };
        if !packet.checksum_ok() {
            return ListenerOutput::Nothing;
        }
        let h = packet.header();
        let chunks: Vec<Chunk<'_>> = packet.chunks().map_while(Result::ok).collect();
        let Some(first) = chunks.first() else {
            return ListenerOutput::Nothing;
        };
        match first {
            Chunk::Init(init) => {
                // §5.1: INIT alone, tag 0, non-zero Initiate Tag and streams.
                if chunks.len() != 1
                    || h.verification_tag != 0
                    || init.initiate_tag == 0
                    || init.outbound_streams == 0
                    || init.inbound_streams == 0
                {
                    return ListenerOutput::Nothing;
                }
                let tag = nonzero(&mut self.rng);
                let tsn = self.rng.random();
                ListenerOutput::Reply(init_ack(now, &self.config, &self.jar, &h, init, tag, tsn, (0, 0)))
            }
            Chunk::CookieEcho(echo) => match self.jar.open(now, echo.cookie) {
                Ok(c) => {
                    if h.verification_tag != c.local_tag || h.dst_port != c.local_port || h.src_port != c.peer_port {
                        return ListenerOutput::Nothing;
                    }
                    let seed = self.rng.random();
                    let mut a = Association::from_cookie(now, self.config.clone(), self.jar.clone(), &c, seed);
                    // DATA may be bundled after the COOKIE ECHO (§5.1 D).
                    a.process_chunks(now, &h, &chunks, 1);
                    a.flush(now);
                    ListenerOutput::Accepted(Box::new(a))
                }
                Err(CookieError::Stale { staleness_us }) => {
                    // §5.2.6: tell the peer; its tag is in the (authentic) cookie.
                    let Some(peer_tag) = crate::cookie::peer_tag_of(echo.cookie) else {
                        return ListenerOutput::Nothing;
                    };
                    let mut b = PacketBuilder::new(h.dst_port, h.src_port, peer_tag);
                    b.push_raw(&stale_cookie_error(staleness_us));
                    ListenerOutput::Reply(b.finish())
                }
                Err(_) => ListenerOutput::Nothing,
            },
            // §8.4 items 2, 6, 7: never answer these.
            Chunk::Abort(_) | Chunk::ShutdownComplete(_) | Chunk::CookieAck | Chunk::Error(_) => {
                ListenerOutput::Nothing
            }
            // §8.4 item 5: SHUTDOWN ACK → SHUTDOWN COMPLETE with the T bit.
            Chunk::ShutdownAck => {
                let reply = PacketBuilder::new(h.dst_port, h.src_port, h.verification_tag)
                    .chunk(&Chunk::ShutdownComplete(ShutdownComplete { t_bit: true }))
                    .finish();
                ListenerOutput::Reply(reply)
            }
            // §8.4 item 8: anything else → ABORT with the T bit.
            _ => {
                let reply = PacketBuilder::new(h.dst_port, h.src_port, h.verification_tag)
                    .chunk(&Chunk::Abort(Abort {
                        t_bit: true,
                        causes: &[],
                    }))
                    .finish();
                ListenerOutput::Reply(reply)
            }
        }
    }
}

/// What a parameter scan found.
#[derive(Debug, Default)]
pub(crate) struct ParamScan<'a> {
    pub cookie: Option<&'a [u8]>,
    /// Unrecognized parameters to report, each as on the wire (padded).
    pub unrecognized: Vec<u8>,
    /// Each unrecognized parameter to report, separately.
    pub unrecognized_each: Vec<Vec<u8>>,
}

/// Most bytes of unrecognized parameters reported back.
const MAX_REPORTED: usize = 256;

/// Walks INIT / INIT ACK parameters with the upper-two-bits rule of
/// RFC 9260 §3.2.1: 00 stop, 01 stop and report, 10 skip, 11 skip and report.
pub(crate) fn scan_params(params: &[u8]) -> ParamScan<'_> {
    let mut scan = ParamScan::default();
    for p in wire::Tlvs::new(params) {
        let Ok(p) = p else { break };
        match p.tlv_type {
            param_type::STATE_COOKIE => scan.cookie = Some(p.value),
            param_type::IPV4_ADDRESS
            | param_type::IPV6_ADDRESS
            | param_type::UNRECOGNIZED_PARAMETER
            | param_type::COOKIE_PRESERVATIVE
            | param_type::HOST_NAME_ADDRESS
            | param_type::SUPPORTED_ADDRESS_TYPES => {}
            t => {
                // Reports are capped: an INIT ACK must not become an
                // amplifier for spoofed INITs (RFC 9260 §5.1, §18).
                if t & 0x4000 != 0 && scan.unrecognized.len() < MAX_REPORTED {
                    let mut one = Vec::new();
                    p.emit(&mut one);
                    scan.unrecognized.extend_from_slice(&one);
                    scan.unrecognized_each.push(one);
                }
                if t & 0x8000 == 0 {
                    break;
                }
            }
        }
    }
    scan
}

/// Builds the INIT ACK packet answering `init` (§5.1 B).
#[allow(clippy::too_many_arguments)]
pub(crate) fn init_ack(
    now: Instant,
    config: &Config,
    jar: &CookieJar,
    h: &CommonHeader,
    init: &Init<'_>,
    tag: u32,
    tsn: u32,
    (local_tie_tag, peer_tie_tag): (u32, u32),
) -> Vec<u8> {
    let cookie = jar.seal(
        now,
        &CookieData {
            local_tag: tag,
            peer_tag: init.initiate_tag,
            local_initial_tsn: tsn,
            peer_initial_tsn: init.initial_tsn,
            outbound_streams: config.outbound_streams.min(init.inbound_streams),
            inbound_streams: config.max_inbound_streams.min(init.outbound_streams),
            peer_a_rwnd: init.a_rwnd,
            local_port: h.dst_port,
            peer_port: h.src_port,
            local_tie_tag,
            peer_tie_tag,
        },
    );
    let mut params = Vec::new();
    write_tlv(&mut params, param_type::STATE_COOKIE, &cookie);
    for one in scan_params(init.params).unrecognized_each {
        // §3.3.3.1: one Unrecognized Parameter per parameter, copied whole.
        let len = one
            .get(2..4)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
            .unwrap_or(one.len());
        write_tlv(
            &mut params,
            param_type::UNRECOGNIZED_PARAMETER,
            one.get(..len).unwrap_or(&one),
        );
    }
    let ack = Chunk::InitAck(Init {
        initiate_tag: tag,
        a_rwnd: config.receive_buffer,
        outbound_streams: config.outbound_streams,
        inbound_streams: config.max_inbound_streams,
        initial_tsn: tsn,
        params: &params,
    });
    let mut b = PacketBuilder::new(h.dst_port, h.src_port, init.initiate_tag);
    b.push_raw(&encode(&ack));
    b.finish()
}
