//! NAS COUNT and the BEARER / DIRECTION inputs of the NAS algorithms.
//!
//! TS 24.501 §4.4.3.1 / TS 33.501 §6.4.3.1: each NAS security context keeps
//! one COUNT per direction (and per access). COUNT is 24 bits,
//! `NAS overflow (16) ‖ NAS sequence number (8)`; only the 8-bit SQN travels
//! in the message, the receiver estimates the overflow. For NEA/NIA the
//! 32-bit COUNT input is the 24-bit NAS COUNT padded with 8 zero bits in its
//! most significant bits. BEARER is the NAS connection identifier and
//! DIRECTION is 0 uplink / 1 downlink.

use crate::Error;

/// Largest NAS COUNT value (24 bits).
pub const NAS_COUNT_MAX: u32 = 0x00ff_ffff;

/// Transmission direction, the DIRECTION input of NEA/NIA (TS 33.501 §6.4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Direction {
    /// UE → network: 0.
    Uplink = 0,
    /// Network → UE: 1.
    Downlink = 1,
}

impl Direction {
    /// The one-bit DIRECTION value.
    pub fn bit(self) -> u8 {
        self as u8
    }
}

/// The NAS connection identifier used as BEARER (TS 33.501 §6.4.3.1,
/// TS 24.501 §4.4.2.3): one NAS connection per access type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum NasConnection {
    /// 3GPP access: NAS connection identifier 1.
    ThreeGpp = 0x01,
    /// Non-3GPP access: NAS connection identifier 2.
    NonThreeGpp = 0x02,
}

impl NasConnection {
    /// The 5-bit BEARER input.
    pub fn bearer(self) -> u8 {
        self as u8
    }
}

/// A 24-bit NAS COUNT: NAS overflow (16 bits) ‖ NAS sequence number (8 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NasCount(u32);

impl NasCount {
    /// The COUNT from its 24-bit value; higher bits are rejected.
    pub fn new(value: u32) -> Result<Self, Error> {
        if value > NAS_COUNT_MAX {
            return Err(Error::CountWrap);
        }
        Ok(Self(value))
    }

    /// The COUNT from overflow and sequence number.
    pub fn from_parts(overflow: u16, sqn: u8) -> Self {
        Self((u32::from(overflow) << 8) | u32::from(sqn))
    }

    /// The 24-bit value.
    pub fn value(self) -> u32 {
        self.0
    }

    /// The NAS overflow counter.
    pub fn overflow(self) -> u16 {
        // At most 16 bits remain after the shift of a 24-bit value.
        (self.0 >> 8) as u16
    }

    /// The NAS sequence number carried in the message.
    pub fn sqn(self) -> u8 {
        (self.0 & 0xff) as u8
    }

    /// The 32-bit COUNT input of NEA/NIA: 0x00 ‖ overflow ‖ SQN.
    pub fn count_input(self) -> u32 {
        self.0
    }

    /// The COUNT after this one. Running past 2^24 − 1 is an error: the
    /// context must be re-keyed before that (TS 33.501 §6.4.3.1).
    pub fn next(self) -> Result<Self, Error> {
        Self::new(self.0 + 1)
    }

    /// Receiver's estimate of the full COUNT of a message carrying `sqn`,
    /// given `self` = COUNT of the last message accepted in this direction
    /// (TS 24.501 §4.4.3.1): a sequence number below the stored one means the
    /// sender's overflow counter moved on by one.
    pub fn estimate(self, sqn: u8) -> Result<Self, Error> {
        let overflow = if sqn < self.sqn() {
            self.overflow().checked_add(1).ok_or(Error::CountWrap)?
        } else {
            self.overflow()
        };
        Ok(Self::from_parts(overflow, sqn))
    }
}

/// Sender side of one direction: hands out each COUNT once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxCount {
    next: NasCount,
    exhausted: bool,
}

impl TxCount {
    /// A fresh counter starting at COUNT 0 (new NAS security context,
    /// TS 33.501 §6.4.3.1).
    pub fn new() -> Self {
        Self::default()
    }

    /// Continue from a stored COUNT (the next one to send).
    pub fn starting_at(next: NasCount) -> Self {
        Self { next, exhausted: false }
    }

    /// The COUNT the next message will use, without consuming it.
    pub fn peek(&self) -> NasCount {
        self.next
    }

    /// Take the COUNT for the next message and advance.
    pub fn take(&mut self) -> Result<NasCount, Error> {
        if self.exhausted {
            return Err(Error::CountWrap);
        }
        let c = self.next;
        match c.next() {
            Ok(n) => self.next = n,
            Err(_) => self.exhausted = true,
        }
        Ok(c)
    }
}

/// Receiver side of one direction: estimates COUNT from the received SQN
/// and refuses to accept a COUNT twice (replay protection, TS 33.501 §6.4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RxCount {
    last: Option<NasCount>,
}

impl RxCount {
    /// Nothing received yet in this NAS security context.
    pub fn new() -> Self {
        Self::default()
    }

    /// The COUNT of the last accepted message, if any.
    pub fn last(&self) -> Option<NasCount> {
        self.last
    }

    /// Estimate the COUNT of a received message from its 8-bit SQN.
    pub fn estimate(&self, sqn: u8) -> Result<NasCount, Error> {
        match self.last {
            None => Ok(NasCount::from_parts(0, sqn)),
            Some(last) => last.estimate(sqn),
        }
    }

    /// Record a COUNT after its message passed the integrity check. A COUNT
    /// not above the last accepted one is a replay: [`Error::Replay`].
    pub fn accept(&mut self, count: NasCount) -> Result<(), Error> {
        if let Some(last) = self.last
            && count <= last
        {
            return Err(Error::Replay);
        }
        self.last = Some(count);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_count_input() {
        let c = NasCount::from_parts(0x1234, 0x56);
        assert_eq!(c.value(), 0x0012_3456);
        assert_eq!(c.overflow(), 0x1234);
        assert_eq!(c.sqn(), 0x56);
        // TS 33.501 §6.4.3.1: 8 zero bits in front of the 24-bit COUNT.
        assert_eq!(c.count_input().to_be_bytes(), [0x00, 0x12, 0x34, 0x56]);
        assert!(NasCount::new(0x0100_0000).is_err());
        assert_eq!(NasCount::new(NAS_COUNT_MAX).unwrap().next(), Err(Error::CountWrap));
    }

    #[test]
    fn estimate_follows_sqn_wrap() {
        let last = NasCount::from_parts(0, 0xfe);
        assert_eq!(last.estimate(0xff).unwrap(), NasCount::from_parts(0, 0xff));
        // SQN went 0xff → 0x00: overflow increments.
        let last = NasCount::from_parts(0, 0xff);
        assert_eq!(last.estimate(0x00).unwrap(), NasCount::from_parts(1, 0x00));
        assert_eq!(last.estimate(0x03).unwrap(), NasCount::from_parts(1, 0x03));
        let top = NasCount::from_parts(u16::MAX, 0x10);
        assert_eq!(top.estimate(0x05), Err(Error::CountWrap));
    }

    #[test]
    fn tx_count_hands_out_each_value_once() {
        let mut tx = TxCount::new();
        assert_eq!(tx.take().unwrap().value(), 0);
        assert_eq!(tx.take().unwrap().value(), 1);
        assert_eq!(tx.peek().value(), 2);
        let mut tx = TxCount::starting_at(NasCount::new(NAS_COUNT_MAX).unwrap());
        assert_eq!(tx.take().unwrap().value(), NAS_COUNT_MAX);
        assert_eq!(tx.take(), Err(Error::CountWrap));
    }

    #[test]
    fn rx_count_estimates_and_rejects_replay() {
        let mut rx = RxCount::new();
        let c0 = rx.estimate(0).unwrap();
        rx.accept(c0).unwrap();
        // Same SQN again: same COUNT → replay.
        let again = rx.estimate(0).unwrap();
        assert_eq!(rx.accept(again), Err(Error::Replay));
        for sqn in 1..=255u8 {
            let c = rx.estimate(sqn).unwrap();
            rx.accept(c).unwrap();
        }
        let wrapped = rx.estimate(0).unwrap();
        assert_eq!(wrapped, NasCount::from_parts(1, 0));
        rx.accept(wrapped).unwrap();
        assert_eq!(rx.last(), Some(NasCount::from_parts(1, 0)));
    }

    #[test]
    fn bearer_and_direction_values() {
        assert_eq!(NasConnection::ThreeGpp.bearer(), 1);
        assert_eq!(NasConnection::NonThreeGpp.bearer(), 2);
        assert_eq!(Direction::Uplink.bit(), 0);
        assert_eq!(Direction::Downlink.bit(), 1);
    }
}
