//! The measured interval's bounds.
//!
//! PFCP stamps Start Time and End Time (TS 29.244 §8.2.79, §8.2.80) in whole seconds,
//! as the seconds field of an NTP timestamp (IETF RFC 5905 §6): 32 bits counting from
//! 1900-01-01 00:00 UTC, which wrap in February 2036. A [`UnixTime`] is the same
//! instant in signed seconds since 1970-01-01 00:00 UTC, the form today's usage file
//! has (`start_time`, `end_time`), exact (PFCP has no sub-second part to lose), and
//! unambiguous past 2036: the NTP era is resolved by RFC 4330 §3's rule.

use serde::{Deserialize, Serialize};

/// An instant in whole seconds since the Unix epoch (UTC, leap seconds not counted,
/// like NTP and POSIX time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
    pub const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

    /// From the seconds of an NTP timestamp, as PFCP carries them. RFC 4330 §3: with the
    /// most significant bit set the value counts from 1900 (era 0, 1968–2036), without
    /// it from 2036-02-07 06:28:16 UTC (era 1, 2036–2104).
    pub fn from_ntp_secs(secs: u32) -> Self {
        let era_start = if secs & 0x8000_0000 != 0 { 0 } else { 1i64 << 32 };
        UnixTime(era_start + i64::from(secs) - Self::NTP_UNIX_OFFSET)
    }

    /// The seconds of an NTP timestamp (the era is dropped, as on the wire).
    pub fn to_ntp_secs(self) -> u32 {
        // Truncation to 32 bits is the NTP era wrap.
        self.0.wrapping_add(Self::NTP_UNIX_OFFSET) as u32
    }
}

impl From<hexcore_pfcp::ie::Timestamp> for UnixTime {
    fn from(t: hexcore_pfcp::ie::Timestamp) -> Self {
        UnixTime::from_ntp_secs(t.0)
    }
}

impl From<UnixTime> for hexcore_pfcp::ie::Timestamp {
    fn from(t: UnixTime) -> Self {
        hexcore_pfcp::ie::Timestamp(t.to_ntp_secs())
    }
}

/// The interval a report measured: from Start Time to End Time, each as the UPF sent
/// it (both are conditional IEs of a Usage Report, TS 29.244 Table 7.5.8.3-1). Reports
/// of one URR follow each other without gaps, so intervals add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Start Time (TS 29.244 §8.2.79).
    pub start: Option<UnixTime>,
    /// End Time (TS 29.244 §8.2.80).
    pub end: Option<UnixTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_seconds() {
        // The Start Time of go-pfcp's Session Report Request test: DF D5 2C 00 is
        // 2019-01-01T00:00:00Z.
        let t = UnixTime::from_ntp_secs(u32::from_be_bytes([0xdf, 0xd5, 0x2c, 0x00]));
        assert_eq!(t, UnixTime(1_546_300_800));
        assert_eq!(t.to_ntp_secs().to_be_bytes(), [0xdf, 0xd5, 0x2c, 0x00]);
        // hexcore-pfcp's Timestamp agrees in era 0.
        let ts = hexcore_pfcp::ie::Timestamp::from_unix_secs(1_546_300_800);
        assert_eq!(UnixTime::from(ts), t);
        assert_eq!(hexcore_pfcp::ie::Timestamp::from(t), ts);
    }

    #[test]
    fn era_one_after_2036() {
        // RFC 4330 §3: 0 is 2036-02-07T06:28:16Z.
        assert_eq!(UnixTime::from_ntp_secs(0), UnixTime(2_085_978_496));
        assert_eq!(UnixTime(2_085_978_496).to_ntp_secs(), 0);
        // The last second of era 0 and the first of the range RFC 4330 maps to it.
        assert_eq!(UnixTime::from_ntp_secs(u32::MAX), UnixTime(2_085_978_495));
        assert_eq!(UnixTime::from_ntp_secs(0x8000_0000), UnixTime(-61_505_152)); // 1968-01-20T03:14:08Z
    }
}
