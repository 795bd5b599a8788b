//! SQN management in the HE/AuC (TS 33.102 §6.3 and Annex C).
//!
//! Profile: the SQN is 48 bits, SQN = SEQ ‖ IND with IND the 5 least significant bits
//! (TS 33.102 Annex C.1.1 and C.3.2: an array of a = 32 entries in the USIM, the length
//! mature cores and most SIM vendors use). For each new vector the HE increments SEQ by
//! one (C.1.1.1, "SEQ_HE is incremented by 1") and moves IND cyclically to the next array
//! entry (C.1.1.2, IND values allocated cyclically), so every vector's SEQ is strictly
//! greater than any the USIM has seen from this HE, whatever IND it lands on; the
//! USIM's Δ limit (C.2.2, 2^28) is never approached by normal use.
//!
//! Resynchronisation (TS 33.102 §6.3.5, C.3.4): the USIM reports SQN_MS, the highest
//! SQN it has accepted; the HE resets SQN_HE to SQN_MS and the next vector is then
//! built from it as above, so it is fresh for the USIM.

/// Largest 48-bit SQN.
pub const SQN_MAX: u64 = (1 << 48) - 1;

/// Bits of IND in SQN (TS 33.102 Annex C.3.2 profile).
pub const IND_BITS: u32 = 5;

const IND_MASK: u64 = (1 << IND_BITS) - 1;

/// The SQN for the next vector after `sqn_he`: SEQ + 1, IND + 1 mod 32.
pub fn next(sqn_he: u64) -> u64 {
    let seq = (sqn_he & SQN_MAX) >> IND_BITS;
    let ind = sqn_he & IND_MASK;
    (((seq + 1) << IND_BITS) | ((ind + 1) & IND_MASK)) & SQN_MAX
}

/// SEQ part of an SQN.
pub fn seq(sqn: u64) -> u64 {
    (sqn & SQN_MAX) >> IND_BITS
}

/// IND part of an SQN.
pub fn ind(sqn: u64) -> u64 {
    sqn & IND_MASK
}

/// 48-bit SQN as the 6 octets of AUTN/AUTS (big-endian).
pub fn to_bytes(sqn: u64) -> [u8; 6] {
    let b = (sqn & SQN_MAX).to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

/// 6 octets to a 48-bit SQN.
pub fn from_bytes(b: &[u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_increments_seq_and_cycles_ind() {
        assert_eq!(next(0), 0b1_00001);
        assert_eq!(seq(next(0)), 1);
        assert_eq!(ind(next(0)), 1);
        // IND wraps at 32 without carrying into SEQ.
        let s = (7 << 5) | 31;
        assert_eq!(seq(next(s)), 8);
        assert_eq!(ind(next(s)), 0);
        // SEQ strictly increases over many vectors.
        let mut s = 0x1234;
        for _ in 0..100 {
            let n = next(s);
            assert!(seq(n) == seq(s) + 1);
            s = n;
        }
    }

    #[test]
    fn bytes_round_trip() {
        // TS 35.208 test set 1 SQN.
        let b = [0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07];
        assert_eq!(from_bytes(&b), 0xff9b_b4d0_b607);
        assert_eq!(to_bytes(0xff9b_b4d0_b607), b);
        assert_eq!(to_bytes(u64::MAX), [0xff; 6]);
    }
}
