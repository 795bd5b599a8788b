//! The identifiers the UPF keys its state by. Rule IDs are hexcore-pfcp's own IE
//! types (PDR ID §8.2.36, FAR ID §8.2.74, QER ID §8.2.75, URR ID §8.2.54), re-exported
//! here; the SEID is a field of the F-SEID IE and of the header, so it gets its type
//! here.

use std::fmt;

pub use hexcore_pfcp::ie::{FarId, PdrId, QerId, UrrId};

/// A Session Endpoint Identifier (TS 29.244 §8.2.37 F-SEID, §7.2.2.4.2 header): the
/// UPF's own for a session (the local SEID, what the SMF puts in the header of every
/// request about it) or the SMF's for the same session (the CP SEID, what the UPF
/// puts in its answers and reports). 0 names no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Seid(pub u64);

impl fmt::Display for Seid {
    /// In hex, as logs and Wireshark show it: `0x2a`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::LowerHex for Seid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seids_print_in_hex() {
        assert_eq!(Seid(42).to_string(), "0x2a");
        assert_eq!(format!("{:#x}", Seid(0x1f)), "0x1f");
    }
}
