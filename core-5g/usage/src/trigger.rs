//! Why the UPF reported: the Usage Report Trigger of TS 29.244 §8.2.41 as a typed set.
//!
//! On the wire the IE's value is a bit string, octet 5 first, bit 1 the least
//! significant (octet 5 bit 1 = PERIO … octet 7 bit 6 = UPINT). A [`Triggers`] keeps
//! every bit it was given, also those this crate has no name for (a later release's),
//! so that a record says what the UPF said; their text form is `O<octet>B<bit>`
//! (`O7B7` = octet 7, bit 7).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One bit of the Usage Report Trigger (TS 29.244 §8.2.41), named as the spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    /// Periodic reporting (octet 5 bit 1).
    Perio,
    /// Volume threshold reached (octet 5 bit 2).
    Volth,
    /// Time threshold reached (octet 5 bit 3).
    Timth,
    /// Quota holding time expired (octet 5 bit 4).
    Quhti,
    /// Start of traffic (octet 5 bit 5).
    Start,
    /// Stop of traffic (octet 5 bit 6).
    Stopt,
    /// Dropped DL traffic threshold (octet 5 bit 7).
    Droth,
    /// Immediate report: the CP function asked (Query URR) (octet 5 bit 8).
    Immer,
    /// Volume quota exhausted (octet 6 bit 1).
    Volqu,
    /// Time quota exhausted (octet 6 bit 2).
    Timqu,
    /// Linked usage reporting (octet 6 bit 3).
    Liusa,
    /// Termination report: the URR or the session was removed (octet 6 bit 4).
    Termr,
    /// Monitoring time reached (octet 6 bit 5).
    Monit,
    /// Envelope closure (octet 6 bit 6).
    Envcl,
    /// MAC addresses reporting (octet 6 bit 7).
    Macar,
    /// Event threshold reached (octet 6 bit 8).
    Eveth,
    /// Event quota exhausted (octet 7 bit 1).
    Evequ,
    /// Termination by the UP function (octet 7 bit 2).
    Tebur,
    /// IP multicast join/leave (octet 7 bit 3).
    Ipmjl,
    /// Quota validity time expired (octet 7 bit 4).
    Quvti,
    /// Emergency PDU session (octet 7 bit 5).
    Emrre,
    /// User plane inactivity timer expired (octet 7 bit 6).
    Upint,
}

impl Trigger {
    /// Every named trigger, in bit order.
    pub const ALL: [Trigger; 22] = [
        Trigger::Perio,
        Trigger::Volth,
        Trigger::Timth,
        Trigger::Quhti,
        Trigger::Start,
        Trigger::Stopt,
        Trigger::Droth,
        Trigger::Immer,
        Trigger::Volqu,
        Trigger::Timqu,
        Trigger::Liusa,
        Trigger::Termr,
        Trigger::Monit,
        Trigger::Envcl,
        Trigger::Macar,
        Trigger::Eveth,
        Trigger::Evequ,
        Trigger::Tebur,
        Trigger::Ipmjl,
        Trigger::Quvti,
        Trigger::Emrre,
        Trigger::Upint,
    ];

    /// The bit in a [`Triggers`] value: octet 5 is bits 0–7, octet 6 bits 8–15, octet 7
    /// bits 16–23 (the layout of `hexcore_pfcp::ie::UsageReportTrigger`).
    pub const fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The spec's name (`PERIO`, `VOLTH`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Trigger::Perio => "PERIO",
            Trigger::Volth => "VOLTH",
            Trigger::Timth => "TIMTH",
            Trigger::Quhti => "QUHTI",
            Trigger::Start => "START",
            Trigger::Stopt => "STOPT",
            Trigger::Droth => "DROTH",
            Trigger::Immer => "IMMER",
            Trigger::Volqu => "VOLQU",
            Trigger::Timqu => "TIMQU",
            Trigger::Liusa => "LIUSA",
            Trigger::Termr => "TERMR",
            Trigger::Monit => "MONIT",
            Trigger::Envcl => "ENVCL",
            Trigger::Macar => "MACAR",
            Trigger::Eveth => "EVETH",
            Trigger::Evequ => "EVEQU",
            Trigger::Tebur => "TEBUR",
            Trigger::Ipmjl => "IPMJL",
            Trigger::Quvti => "QUVTI",
            Trigger::Emrre => "EMRRE",
            Trigger::Upint => "UPINT",
        }
    }

    /// The trigger of a name.
    pub fn from_name(name: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of Usage Report Trigger bits (TS 29.244 §8.2.41), named or not.
///
/// JSON form: the names in bit order (`["PERIO", "TERMR"]`), unnamed bits as
/// `O<octet>B<bit>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Triggers(u32);

impl Triggers {
    /// No trigger.
    pub const EMPTY: Triggers = Triggers(0);
    /// Octets the IE has in the current release (octets 5 to 7).
    pub const OCTETS: usize = 3;

    /// The set of these bits (layout of [`Trigger::bit`]).
    pub const fn from_bits(bits: u32) -> Self {
        Triggers(bits)
    }

    /// The bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// From the IE's value octets (octet 5 first). Earlier releases send fewer octets,
    /// later ones may send more: up to four are kept, further octets are ignored.
    pub fn from_octets(value: &[u8]) -> Self {
        let bits = value
            .iter()
            .take(4)
            .enumerate()
            .fold(0u32, |bits, (i, b)| bits | (u32::from(*b) << (8 * i)));
        Triggers(bits)
    }

    /// The IE's value octets: three (octets 5–7), or four if a bit of octet 8 is set.
    pub fn to_octets(self) -> Vec<u8> {
        let n = if self.0 >> 24 != 0 { 4 } else { Self::OCTETS };
        self.0.to_le_bytes().into_iter().take(n).collect()
    }

    /// Is `t` set?
    pub const fn contains(self, t: Trigger) -> bool {
        self.0 & t.bit() != 0
    }

    /// Set `t`.
    pub fn insert(&mut self, t: Trigger) {
        self.0 |= t.bit();
    }

    /// With `t` set.
    #[must_use]
    pub const fn with(self, t: Trigger) -> Self {
        Triggers(self.0 | t.bit())
    }

    /// Is no bit set?
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The named triggers set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Trigger> {
        Trigger::ALL.into_iter().filter(move |t| self.contains(*t))
    }

    /// The bits set that this crate has no name for (in place, as in [`Triggers::bits`]).
    pub const fn unnamed_bits(self) -> u32 {
        self.0 & !((1 << Trigger::ALL.len()) - 1)
    }

    /// Does the report close its URR (TERMR: the URR or session was removed; TEBUR: the
    /// UP function terminated the session)? No report of the URR follows it.
    pub const fn is_final(self) -> bool {
        self.contains(Trigger::Termr) || self.contains(Trigger::Tebur)
    }

    /// The text form: names in bit order, unnamed bits as `O<octet>B<bit>`.
    pub fn names(self) -> Vec<String> {
        (0..32)
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| match Trigger::ALL.get(i) {
                Some(t) => t.name().to_string(),
                None => format!("O{}B{}", 5 + i / 8, 1 + i % 8),
            })
            .collect()
    }

    /// From the text form.
    pub fn from_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Result<Self, Error> {
        names.into_iter().try_fold(Triggers::EMPTY, |set, name| {
            let name = name.as_ref();
            let bit = match Trigger::from_name(name) {
                Some(t) => t.bit(),
                None => unnamed_bit(name).ok_or_else(|| Error::UnknownTrigger(name.to_string()))?,
            };
            Ok(Triggers(set.0 | bit))
        })
    }
}

/// `O<octet>B<bit>` for octets 5–8 and bits 1–8.
fn unnamed_bit(name: &str) -> Option<u32> {
    let (octet, bit) = name.strip_prefix('O')?.split_once('B')?;
    let (octet, bit): (u32, u32) = (octet.parse().ok()?, bit.parse().ok()?);
    if !(5..=8).contains(&octet) || !(1..=8).contains(&bit) {
        return None;
    }
    Some(1 << ((octet - 5) * 8 + bit - 1))
}

impl FromIterator<Trigger> for Triggers {
    fn from_iter<I: IntoIterator<Item = Trigger>>(iter: I) -> Self {
        iter.into_iter().fold(Triggers::EMPTY, Triggers::with)
    }
}

impl fmt::Display for Triggers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

impl TryFrom<Vec<String>> for Triggers {
    type Error = Error;
    fn try_from(names: Vec<String>) -> Result<Self, Error> {
        Triggers::from_names(names)
    }
}

impl From<Triggers> for Vec<String> {
    fn from(t: Triggers) -> Vec<String> {
        t.names()
    }
}

impl From<hexcore_pfcp::ie::UsageReportTrigger> for Triggers {
    fn from(t: hexcore_pfcp::ie::UsageReportTrigger) -> Self {
        Triggers(t.bits)
    }
}

impl From<Triggers> for hexcore_pfcp::ie::UsageReportTrigger {
    fn from(t: Triggers) -> Self {
        hexcore_pfcp::ie::UsageReportTrigger::new(t.0)
    }
}

#[cfg(test)]
mod tests {
    use hexcore_pfcp::IeValue;
    use hexcore_pfcp::ie::{IeType, UsageReport, UsageReportTrigger};

    use super::*;

    // The Usage Report Trigger IE of go-pfcp's message/session-report-request_test.go
    // (MIT; the bytes hexcore-pfcp's group tests decode): type 63, length 3, every bit.
    static TRIGGER_IE_ALL: [u8; 7] = [0x00, 0x3f, 0x00, 0x03, 0xff, 0xff, 0xff];

    // What the hexcore UPF sends when a session is deleted: TERMR alone, octet 6 bit 4
    // (TS 29.244 §8.2.41), three octets.
    static TERMR: [u8; 3] = [0x00, 0x08, 0x00];
    // A periodic report that also crossed its volume threshold: octet 5 bits 1 and 2.
    static PERIO_VOLTH: [u8; 3] = [0x03, 0x00, 0x00];

    #[test]
    fn decode_known_bytes() {
        let t = Triggers::from_octets(&TERMR);
        assert_eq!(t.iter().collect::<Vec<_>>(), [Trigger::Termr]);
        assert!(t.is_final());
        let t = Triggers::from_octets(&PERIO_VOLTH);
        assert_eq!(t.names(), ["PERIO", "VOLTH"]);
        assert!(!t.is_final());

        // Every bit of three octets: the 22 named ones, and octet 7 bits 7–8 that this
        // release leaves spare.
        let all = Triggers::from_octets(&TRIGGER_IE_ALL[4..]);
        assert_eq!(all.iter().count(), 22);
        assert_eq!(all.unnamed_bits(), 0b11 << 22);
        let names = all.names();
        assert_eq!(names.first().map(String::as_str), Some("PERIO"));
        assert_eq!(&names[21..], ["UPINT", "O7B7", "O7B8"]);
        // Octet 6 bit 4 (TERMR) and octet 7 bit 2 (TEBUR) are where the spec puts them.
        assert_eq!(Trigger::Termr.bit(), 1 << 11);
        assert_eq!(Trigger::Tebur.bit(), 1 << 17);
    }

    #[test]
    fn encode_to_known_bytes() {
        assert_eq!(Triggers::EMPTY.with(Trigger::Termr).to_octets(), TERMR);
        assert_eq!(
            [Trigger::Volth, Trigger::Perio]
                .into_iter()
                .collect::<Triggers>()
                .to_octets(),
            PERIO_VOLTH
        );
        assert_eq!(
            Triggers::from_octets(&TRIGGER_IE_ALL[4..]).to_octets(),
            TRIGGER_IE_ALL[4..]
        );
    }

    #[test]
    fn same_bits_as_hexcore_pfcp() {
        // The IE as hexcore-pfcp decodes it from the wire gives the same set.
        let ie = UsageReportTrigger::decode(&TRIGGER_IE_ALL[4..], IeType::UsageReportTrigger).unwrap();
        assert_eq!(Triggers::from(ie), Triggers::from_octets(&TRIGGER_IE_ALL[4..]));
        // And each named bit is hexcore-pfcp's constant of the same name.
        let pfcp = [
            UsageReportTrigger::PERIO,
            UsageReportTrigger::VOLTH,
            UsageReportTrigger::TIMTH,
            UsageReportTrigger::QUHTI,
            UsageReportTrigger::START,
            UsageReportTrigger::STOPT,
            UsageReportTrigger::DROTH,
            UsageReportTrigger::IMMER,
            UsageReportTrigger::VOLQU,
            UsageReportTrigger::TIMQU,
            UsageReportTrigger::LIUSA,
            UsageReportTrigger::TERMR,
            UsageReportTrigger::MONIT,
            UsageReportTrigger::ENVCL,
            UsageReportTrigger::MACAR,
            UsageReportTrigger::EVETH,
            UsageReportTrigger::EVEQU,
            UsageReportTrigger::TEBUR,
            UsageReportTrigger::IPMJL,
            UsageReportTrigger::QUVTI,
            UsageReportTrigger::EMRRE,
            UsageReportTrigger::UPINT,
        ];
        for (t, bit) in Trigger::ALL.into_iter().zip(pfcp) {
            assert_eq!(t.bit(), bit, "{t}");
        }
        // A whole Usage Report encoded by hexcore-pfcp carries our octets.
        let ur = UsageReport::new(
            hexcore_pfcp::ie::UrrId(1),
            hexcore_pfcp::ie::UrSeqn(3),
            Triggers::EMPTY.with(Trigger::Termr).into(),
        );
        let bytes = ur.to_bytes();
        let at = bytes.windows(4).position(|w| w == [0x00, 0x3f, 0x00, 0x03]).unwrap();
        assert_eq!(bytes[at + 4..at + 7], TERMR);
    }

    #[test]
    fn round_trip() {
        for bits in [0, 1, 0x0800, 0x3f_ffff, 0xff_ffff, 0x8000_0001] {
            let t = Triggers::from_bits(bits);
            assert_eq!(Triggers::from_octets(&t.to_octets()), t);
            assert_eq!(Triggers::from_names(t.names()).unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<Triggers>(&json).unwrap(), t);
        }
        assert_eq!(
            serde_json::to_string(&Triggers::from_bits(0x0801)).unwrap(),
            r#"["PERIO","TERMR"]"#
        );
    }

    #[test]
    fn broken_input() {
        // Shorter IEs (earlier releases) and empty ones decode to what they carry.
        assert_eq!(Triggers::from_octets(&[0x01]).names(), ["PERIO"]);
        assert!(Triggers::from_octets(&[]).is_empty());
        // Octets past the fourth are ignored.
        assert_eq!(Triggers::from_octets(&[0, 0, 0, 0, 0xff]), Triggers::EMPTY);
        for bad in ["perio", "PERIOD", "O4B1", "O9B1", "O5B0", "O5B9", "OxB1", ""] {
            assert_eq!(
                Triggers::from_names([bad]),
                Err(Error::UnknownTrigger(bad.to_string())),
                "{bad:?}"
            );
        }
    }
}
