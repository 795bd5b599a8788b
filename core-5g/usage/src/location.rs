//! Where the UE was served: the NR Cell Global Identity and the Tracking Area Identity,
//! as the AMF reports them in the User Location Information (TS 38.413 §9.3.1.16) and
//! N11 carries them to the SMF (TS 29.571 NrLocation).
//!
//! Text forms follow TS 29.571 (§5.4.2 simple types, §5.4.4 PlmnId/Tai/Ncgi): MCC and
//! MNC as digit strings, the NR Cell Identity as 9 hex digits, the TAC as 6 hex
//! digits, so that a record reads like what an NF would send over the SBI.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A PLMN identity: MCC (3 digits) and MNC (2 or 3 digits), TS 23.003 §2.2. Digits,
/// not the BCD octets (NGAP and NAS order a 3-digit MNC's digits differently).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "PlmnIdText", into = "PlmnIdText")]
pub struct PlmnId {
    mcc: String,
    mnc: String,
}

impl PlmnId {
    /// A PLMN from its MCC and MNC digits.
    pub fn new(mcc: &str, mnc: &str) -> Result<Self, Error> {
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if mcc.len() == 3 && (mnc.len() == 2 || mnc.len() == 3) && digits(mcc) && digits(mnc) {
            Ok(PlmnId {
                mcc: mcc.to_string(),
                mnc: mnc.to_string(),
            })
        } else {
            Err(Error::InvalidPlmn {
                mcc: mcc.to_string(),
                mnc: mnc.to_string(),
            })
        }
    }

    /// Mobile Country Code.
    pub fn mcc(&self) -> &str {
        &self.mcc
    }

    /// Mobile Network Code (2 or 3 digits).
    pub fn mnc(&self) -> &str {
        &self.mnc
    }
}

impl fmt::Display for PlmnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.mcc, self.mnc)
    }
}

/// The JSON form of a PLMN (TS 29.571 PlmnId: `{"mcc": "999", "mnc": "70"}`).
#[derive(Serialize, Deserialize)]
struct PlmnIdText {
    mcc: String,
    mnc: String,
}

impl TryFrom<PlmnIdText> for PlmnId {
    type Error = Error;
    fn try_from(t: PlmnIdText) -> Result<Self, Error> {
        PlmnId::new(&t.mcc, &t.mnc)
    }
}

impl From<PlmnId> for PlmnIdText {
    fn from(p: PlmnId) -> Self {
        PlmnIdText { mcc: p.mcc, mnc: p.mnc }
    }
}

/// NR Cell Identity: 36 bits (TS 38.413 §9.3.1.7; gNB ID in the leftmost 22–32 bits).
/// Text form: 9 hex digits (TS 29.571 NrCellId).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NrCellId(u64);

impl NrCellId {
    /// The largest NR Cell Identity.
    pub const MAX: u64 = (1 << 36) - 1;

    /// A cell identity of at most 36 bits.
    pub fn new(nci: u64) -> Result<Self, Error> {
        if nci <= Self::MAX {
            Ok(NrCellId(nci))
        } else {
            Err(Error::InvalidNrCellId(format!("{nci:#x}")))
        }
    }

    /// The 36-bit value.
    pub fn value(self) -> u64 {
        self.0
    }
}

impl fmt::Display for NrCellId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09x}", self.0)
    }
}

impl TryFrom<String> for NrCellId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        parse_hex(&s, 9).map(NrCellId).ok_or(Error::InvalidNrCellId(s))
    }
}

impl From<NrCellId> for String {
    fn from(n: NrCellId) -> String {
        n.to_string()
    }
}

/// Tracking Area Code: 24 bits in 5GS (TS 38.413 §9.3.3.10). Text form: 6 hex digits
/// (TS 29.571 Tac).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tac(u32);

impl Tac {
    /// The largest 5GS TAC.
    pub const MAX: u32 = (1 << 24) - 1;

    /// A TAC of at most 24 bits.
    pub fn new(tac: u32) -> Result<Self, Error> {
        if tac <= Self::MAX {
            Ok(Tac(tac))
        } else {
            Err(Error::InvalidTac(format!("{tac:#x}")))
        }
    }

    /// The 24-bit value.
    pub fn value(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Tac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06x}", self.0)
    }
}

impl TryFrom<String> for Tac {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        // 6 hex digits make at most 24 bits; the cast cannot truncate.
        parse_hex(&s, 6).map(|v| Tac(v as u32)).ok_or(Error::InvalidTac(s))
    }
}

impl From<Tac> for String {
    fn from(t: Tac) -> String {
        t.to_string()
    }
}

/// NR Cell Global Identity (TS 38.413 §9.3.1.7): the cell that served the UE.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NrCgi {
    /// The PLMN of the cell.
    pub plmn_id: PlmnId,
    /// The NR Cell Identity.
    pub nr_cell_id: NrCellId,
}

/// Tracking Area Identity (TS 38.413 §9.3.3.11).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tai {
    /// The PLMN of the tracking area.
    pub plmn_id: PlmnId,
    /// The Tracking Area Code.
    pub tac: Tac,
}

/// Exactly `digits` hex digits (either case) as a number.
fn parse_hex(s: &str, digits: usize) -> Option<u64> {
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plmn_digits() {
        let p = PlmnId::new("315", "010").unwrap();
        assert_eq!((p.mcc(), p.mnc()), ("315", "010"));
        assert_eq!(p.to_string(), "315-010");
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"mcc":"315","mnc":"010"}"#);
        for (mcc, mnc) in [
            ("31", "01"),
            ("3150", "01"),
            ("315", "1"),
            ("315", "0100"),
            ("31a", "01"),
        ] {
            assert!(PlmnId::new(mcc, mnc).is_err(), "{mcc}-{mnc}");
        }
        assert!(serde_json::from_str::<PlmnId>(r#"{"mcc":"999","mnc":"7"}"#).is_err());
    }

    #[test]
    fn cell_and_tac_text() {
        let ncgi = NrCgi {
            plmn_id: PlmnId::new("999", "70").unwrap(),
            nr_cell_id: NrCellId::new(0x0_0000_0010).unwrap(),
        };
        let json = serde_json::to_string(&ncgi).unwrap();
        assert_eq!(json, r#"{"plmn_id":{"mcc":"999","mnc":"70"},"nr_cell_id":"000000010"}"#);
        assert_eq!(serde_json::from_str::<NrCgi>(&json).unwrap(), ncgi);
        // Upper case hex is TS 29.571's too.
        assert_eq!(
            serde_json::from_str::<NrCellId>(r#""FFFFFFFFF""#).unwrap().value(),
            NrCellId::MAX
        );
        let tai = Tai {
            plmn_id: PlmnId::new("999", "70").unwrap(),
            tac: Tac::new(1).unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&tai).unwrap(),
            r#"{"plmn_id":{"mcc":"999","mnc":"70"},"tac":"000001"}"#
        );
    }

    #[test]
    fn out_of_range() {
        assert!(NrCellId::new(1 << 36).is_err());
        assert!(Tac::new(1 << 24).is_err());
        for bad in [r#""00000001""#, r#""0000000010""#, r#""00000001g""#, "16"] {
            assert!(serde_json::from_str::<NrCellId>(bad).is_err(), "{bad}");
        }
        for bad in [r#""0001""#, r#""1000000""#, r#""-00001""#] {
            assert!(serde_json::from_str::<Tac>(bad).is_err(), "{bad}");
        }
    }
}
