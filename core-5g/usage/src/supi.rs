//! The SUPI of a usage record.
//!
//! TS 23.003 §2.2: an IMSI is MCC (3 digits) + MNC (2 or 3 digits) + MSIN, "not more
//! than 15 digits". The split between MNC and MSIN is not in the digits themselves (it
//! depends on the MCC's numbering plan), so a [`Supi`] keeps the digits and offers the
//! MCC only. hexcore's subscribers are IMSI-based; a NAI-based SUPI (TS 23.003 §28.7.2)
//! would be a new variant.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A SUPI of the IMSI type: 6 to 15 decimal digits (MCC 3 + MNC 2 + MSIN at least 1,
/// at most 15 in all, TS 23.003 §2.2).
///
/// Text form: the digits (`999700000000001`), as in today's usage file; parsing also
/// takes the `imsi-` form of TS 29.571 §5.3.2.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Supi(String);

impl Supi {
    /// Shortest IMSI: MCC 3 + MNC 2 + MSIN 1 digits.
    pub const MIN_DIGITS: usize = 6;
    /// Longest IMSI (TS 23.003 §2.2).
    pub const MAX_DIGITS: usize = 15;

    /// A SUPI from IMSI digits, with or without the `imsi-` prefix.
    pub fn imsi(text: &str) -> Result<Self, Error> {
        let digits = text.strip_prefix("imsi-").unwrap_or(text);
        let ok =
            (Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Supi(digits.to_string()))
        } else {
            Err(Error::InvalidSupi(text.to_string()))
        }
    }

    /// The IMSI digits.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The Mobile Country Code: the first three digits.
    pub fn mcc(&self) -> &str {
        // The constructor checked at least six ASCII digits.
        self.0.get(..3).unwrap_or_default()
    }
}

impl fmt::Display for Supi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Supi {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Supi::imsi(s)
    }
}

impl TryFrom<String> for Supi {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Supi::imsi(&s)
    }
}

impl From<Supi> for String {
    fn from(s: Supi) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imsi_digits() {
        // The test PLMN 999-70 (TS 23.003 §2.2 allows MCC 999 for internal use).
        let s = Supi::imsi("999700000000001").unwrap();
        assert_eq!(s.digits(), "999700000000001");
        assert_eq!(s.mcc(), "999");
        assert_eq!(s.to_string(), "999700000000001");
        // TS 29.571 §5.3.2 form.
        assert_eq!(Supi::imsi("imsi-999700000000001").unwrap(), s);
        // Shortest and longest.
        assert!(Supi::imsi("001011").is_ok());
        assert!(Supi::imsi("001010123456789").is_ok());
    }

    #[test]
    fn not_an_imsi() {
        for bad in [
            "",
            "00101",            // 5 digits: no room for an MSIN
            "0010101234567890", // 16 digits
            "99970000000000a",
            "imsi-",
            "nai-user@example.org",
            " 999700000000001",
            "999-70-0000000001",
        ] {
            assert_eq!(Supi::imsi(bad), Err(Error::InvalidSupi(bad.to_string())), "{bad:?}");
        }
    }
}
