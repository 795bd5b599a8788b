//! The State Cookie (RFC 9260 §5.1.3): everything the listening side needs
//! to build an association, handed to the peer in the INIT ACK, signed with
//! HMAC-SHA-256 and a lifetime, so that no state is kept before a valid
//! COOKIE ECHO comes back (§5.1, the defence against SYN-flood-like attacks).

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

type HmacSha256 = Hmac<Sha256>;

/// What an INIT / INIT ACK exchange agreed, carried in the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CookieData {
    /// Verification tag chosen by the cookie's creator (its own tag).
    pub local_tag: u32,
    /// The peer's Initiate Tag from its INIT.
    pub peer_tag: u32,
    pub local_initial_tsn: u32,
    pub peer_initial_tsn: u32,
    /// Streams from the creator to the peer: min(own OS, peer MIS).
    pub outbound_streams: u16,
    /// Streams from the peer: min(own MIS, peer OS).
    pub inbound_streams: u16,
    pub peer_a_rwnd: u32,
    pub local_port: u16,
    pub peer_port: u16,
    /// Tie-Tags (§5.2.2): the tags of an existing association, else 0.
    pub local_tie_tag: u32,
    pub peer_tie_tag: u32,
}

/// Why a cookie was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CookieError {
    /// Too short or too long to be one of ours.
    #[error("malformed state cookie")]
    Malformed,
    /// The HMAC does not match: tampered with or not ours.
    #[error("state cookie signature mismatch")]
    BadSignature,
    /// Older than its lifetime (answered with a Stale Cookie error, §5.2.6).
    #[error("stale state cookie ({staleness_us} µs past its lifetime)")]
    Stale { staleness_us: u32 },
}

const BODY_LEN: usize = 48;
const MAC_LEN: usize = 32;
/// Length of every cookie this module makes.
pub const COOKIE_LEN: usize = BODY_LEN + MAC_LEN;

/// Signs and checks cookies. Cheap to clone; the listener and the
/// associations it created share one so a restart cookie can be checked.
#[derive(Clone)]
pub struct CookieJar {
    key: [u8; 32],
    epoch: Instant,
    lifetime: Duration,
}

impl std::fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieJar")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl CookieJar {
    /// `epoch` is any instant not later than the first `seal`; cookie times
    /// are counted from it.
    pub fn new(key: [u8; 32], epoch: Instant, lifetime: Duration) -> Self {
        CookieJar { key, epoch, lifetime }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts a 32-byte key"),
        }
    }

    fn millis(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Makes a signed cookie.
    pub fn seal(&self, now: Instant, d: &CookieData) -> Vec<u8> {
        let mut out = Vec::with_capacity(COOKIE_LEN);
        out.extend_from_slice(&d.local_tag.to_be_bytes());
        out.extend_from_slice(&d.peer_tag.to_be_bytes());
        out.extend_from_slice(&d.local_initial_tsn.to_be_bytes());
        out.extend_from_slice(&d.peer_initial_tsn.to_be_bytes());
        out.extend_from_slice(&d.outbound_streams.to_be_bytes());
        out.extend_from_slice(&d.inbound_streams.to_be_bytes());
        out.extend_from_slice(&d.peer_a_rwnd.to_be_bytes());
        out.extend_from_slice(&d.local_port.to_be_bytes());
        out.extend_from_slice(&d.peer_port.to_be_bytes());
        out.extend_from_slice(&d.local_tie_tag.to_be_bytes());
        out.extend_from_slice(&d.peer_tie_tag.to_be_bytes());
        out.extend_from_slice(&self.millis(now).to_be_bytes());
        let lifetime = u32::try_from(self.lifetime.as_millis()).unwrap_or(u32::MAX);
        out.extend_from_slice(&lifetime.to_be_bytes());
        let mut mac = self.mac();
        mac.update(&out);
        out.extend_from_slice(&mac.finalize().into_bytes());
        out
    }

    /// Checks signature and lifetime, and returns the cookie's contents.
    pub fn open(&self, now: Instant, cookie: &[u8]) -> Result<CookieData, CookieError> {
        if cookie.len() != COOKIE_LEN {
            return Err(CookieError::Malformed);
        }
        let (body, tag) = cookie.split_at(BODY_LEN);
        let mut mac = self.mac();
        mac.update(body);
        mac.verify_slice(tag).map_err(|_| CookieError::BadSignature)?;
        let u32_at = |at: usize| -> u32 {
            body.get(at..at + 4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map(u32::from_be_bytes)
                .unwrap_or(0)
        };
        let u16_at = |at: usize| -> u16 {
            body.get(at..at + 2)
                .and_then(|s| <[u8; 2]>::try_from(s).ok())
                .map(u16::from_be_bytes)
                .unwrap_or(0)
        };
        let created = body
            .get(36..44)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        let lifetime = u64::from(u32_at(44));
        let age = self.millis(now).saturating_sub(created);
        if age > lifetime {
            let staleness_us = (age - lifetime).saturating_mul(1000);
            return Err(CookieError::Stale {
                staleness_us: u32::try_from(staleness_us).unwrap_or(u32::MAX),
            });
        }
        Ok(CookieData {
            local_tag: u32_at(0),
            peer_tag: u32_at(4),
            local_initial_tsn: u32_at(8),
            peer_initial_tsn: u32_at(12),
            outbound_streams: u16_at(16),
            inbound_streams: u16_at(18),
            peer_a_rwnd: u32_at(20),
            local_port: u16_at(24),
            peer_port: u16_at(26),
            local_tie_tag: u32_at(28),
            peer_tie_tag: u32_at(32),
        })
    }
}

/// The peer's tag inside a cookie (for the Stale Cookie error, whose
/// cookie was authenticated but is too old).
pub fn peer_tag_of(cookie: &[u8]) -> Option<u32> {
    cookie
        .get(4..8)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> CookieData {
        CookieData {
            local_tag: 1,
            peer_tag: 2,
            local_initial_tsn: 3,
            peer_initial_tsn: 4,
            outbound_streams: 5,
            inbound_streams: 6,
            peer_a_rwnd: 7,
            local_port: 8,
            peer_port: 9,
            local_tie_tag: 10,
            peer_tie_tag: 11,
        }
    }

    #[test]
    fn round_trip() {
        let t0 = Instant::now();
        let jar = CookieJar::new([7; 32], t0, Duration::from_secs(60));
        let c = jar.seal(t0, &data());
        assert_eq!(c.len(), COOKIE_LEN);
        assert_eq!(jar.open(t0 + Duration::from_secs(59), &c), Ok(data()));
    }

    #[test]
    fn tampering_rejected() {
        let t0 = Instant::now();
        let jar = CookieJar::new([7; 32], t0, Duration::from_secs(60));
        let c = jar.seal(t0, &data());
        for i in 0..c.len() {
            let mut bad = c.clone();
            bad[i] ^= 0x01;
            assert_eq!(jar.open(t0, &bad), Err(CookieError::BadSignature), "byte {i}");
        }
        let other = CookieJar::new([8; 32], t0, Duration::from_secs(60));
        assert_eq!(other.open(t0, &c), Err(CookieError::BadSignature));
        assert_eq!(jar.open(t0, &c[1..]), Err(CookieError::Malformed));
    }

    #[test]
    fn stale_after_lifetime() {
        let t0 = Instant::now();
        let jar = CookieJar::new([7; 32], t0, Duration::from_secs(60));
        let c = jar.seal(t0, &data());
        assert_eq!(
            jar.open(t0 + Duration::from_millis(60_500), &c),
            Err(CookieError::Stale { staleness_us: 500_000 })
        );
    }
}
