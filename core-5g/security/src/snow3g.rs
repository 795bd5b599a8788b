//! SNOW 3G keystream generator (ETSI/SAGE "Specification of the 3GPP
//! Confidentiality and Integrity Algorithms UEA2 & UIA2, Document 2: SNOW 3G
//! Specification", = TS 35.216), the core of 128-NEA1 / 128-NIA1.
//!
//! Written from the specification: a 16-word LFSR over GF(2^32) and a
//! three-register FSM. The S-boxes S1 (from the AES S-box SR) and S2 (from
//! the Dickson-polynomial S-box SQ), and the MULα / DIVα tables, are built at
//! compile time from their definitions in §3 / §4 of the specification
//! rather than pasted as tables.

/// SNOW 3G state after initialisation; [`Snow3g::next_word`] yields z1, z2, …
#[derive(Clone)]
pub struct Snow3g {
    s: [u32; 16],
    r1: u32,
    r2: u32,
    r3: u32,
}

impl core::fmt::Debug for Snow3g {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keystream state is key material.
        f.write_str("Snow3g { .. }")
    }
}

impl Snow3g {
    /// Initialise with key words k0..k3 and IV words IV0..IV3, numbered as
    /// in the specification §4.1 (and in the TS 35.222 test data).
    pub fn new(k: [u32; 4], iv: [u32; 4]) -> Self {
        let ones = u32::MAX;
        let s = [
            k[0] ^ ones,
            k[1] ^ ones,
            k[2] ^ ones,
            k[3] ^ ones,
            k[0],
            k[1],
            k[2],
            k[3],
            k[0] ^ ones,
            k[1] ^ ones ^ iv[3],
            k[2] ^ ones ^ iv[2],
            k[3] ^ ones,
            k[0] ^ iv[1],
            k[1],
            k[2],
            k[3] ^ iv[0],
        ];
        let mut st = Self { s, r1: 0, r2: 0, r3: 0 };
        for _ in 0..32 {
            let f = st.clock_fsm();
            st.clock_lfsr(f);
        }
        // §4.2: one FSM clock whose output is discarded, then keystream mode.
        st.clock_fsm();
        st.clock_lfsr(0);
        st
    }

    /// Initialise from a 128-bit key and IV given as big-endian bytes:
    /// k3 = first four key octets, …, k0 = last four (the mapping UEA2/f8,
    /// UIA2/f9 and 128-EEA1/EIA1 use, TS 35.215 §3).
    pub fn from_bytes(key: &[u8; 16], iv: [u32; 4]) -> Self {
        let w = |i: usize| u32::from_be_bytes([key[i], key[i + 1], key[i + 2], key[i + 3]]);
        Self::new([w(12), w(8), w(4), w(0)], iv)
    }

    /// The next 32-bit keystream word.
    pub fn next_word(&mut self) -> u32 {
        let f = self.clock_fsm();
        let z = f ^ self.s[0];
        self.clock_lfsr(0);
        z
    }

    /// `n` keystream words.
    pub fn keystream(&mut self, n: usize) -> Vec<u32> {
        (0..n).map(|_| self.next_word()).collect()
    }

    /// §3.4.4 ClockFSM: F = (s15 ⊞ R1) ⊕ R2; r = R2 ⊞ (R3 ⊕ s5);
    /// R3 = S2(R2); R2 = S1(R1); R1 = r.
    fn clock_fsm(&mut self) -> u32 {
        let f = self.s[15].wrapping_add(self.r1) ^ self.r2;
        let r = self.r2.wrapping_add(self.r3 ^ self.s[5]);
        self.r3 = s2(self.r2);
        self.r2 = s1(self.r1);
        self.r1 = r;
        f
    }

    /// §3.4.4/§3.4.5 ClockLFSR (initialisation mode when `f` is the FSM
    /// output, keystream mode when `f` = 0):
    /// v = (s0 ≪8) ⊕ MULα(s0,0) ⊕ s2 ⊕ (s11 ≫8) ⊕ DIVα(s11,3) ⊕ F.
    fn clock_lfsr(&mut self, f: u32) {
        let s0 = self.s[0];
        let s11 = self.s[11];
        let v =
            (s0 << 8) ^ MUL_ALPHA[(s0 >> 24) as usize] ^ self.s[2] ^ (s11 >> 8) ^ DIV_ALPHA[(s11 & 0xff) as usize] ^ f;
        self.s.copy_within(1..16, 0);
        self.s[15] = v;
    }
}

/// MULx(V, c) of §3.1.1.
const fn mulx(v: u8, c: u8) -> u8 {
    if v & 0x80 != 0 { (v << 1) ^ c } else { v << 1 }
}

/// MULxPOW(V, i, c) of §3.1.2.
const fn mulx_pow(mut v: u8, i: u32, c: u8) -> u8 {
    let mut n = 0;
    while n < i {
        v = mulx(v, c);
        n += 1;
    }
    v
}

/// GF(2^8) multiplication modulo the polynomial with low byte `poly`
/// (x^8 + …), by shift-and-add.
const fn gf_mul(mut a: u8, mut b: u8, poly: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        a = mulx(a, poly);
        b >>= 1;
    }
    p
}

const fn gf_pow(a: u8, mut e: u32, poly: u8) -> u8 {
    let mut r = 1u8;
    let mut base = a;
    while e > 0 {
        if e & 1 != 0 {
            r = gf_mul(r, base, poly);
        }
        base = gf_mul(base, base, poly);
        e >>= 1;
    }
    r
}

/// SR: the Rijndael S-box (FIPS-197 §5.1.1): inverse in GF(2^8) modulo
/// x^8+x^4+x^3+x+1, then the affine map with constant 0x63.
const SR: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut x = 0usize;
    while x < 256 {
        let inv = if x == 0 { 0 } else { gf_pow(x as u8, 254, 0x1b) };
        t[x] = inv ^ inv.rotate_left(1) ^ inv.rotate_left(2) ^ inv.rotate_left(3) ^ inv.rotate_left(4) ^ 0x63;
        x += 1;
    }
    t
};

/// SQ (SNOW 3G spec §3.3.2): SQ(x) = g49(x) ⊕ 0x25 with the Dickson
/// polynomial g49(x) = x + x^9 + x^13 + x^15 + x^33 + x^41 + x^45 + x^47 + x^49
/// over GF(2^8) defined by x^8 + x^6 + x^5 + x^3 + 1.
const SQ: [u8; 256] = {
    let mut t = [0u8; 256];
    let exps = [1u32, 9, 13, 15, 33, 41, 45, 47, 49];
    let mut x = 0usize;
    while x < 256 {
        let mut acc = 0u8;
        let mut i = 0;
        while i < exps.len() {
            acc ^= gf_pow(x as u8, exps[i], 0x69);
            i += 1;
        }
        t[x] = acc ^ 0x25;
        x += 1;
    }
    t
};

/// MULα (§3.4.2): MULxPOW(c,23,0xA9) ‖ MULxPOW(c,245,0xA9) ‖
/// MULxPOW(c,48,0xA9) ‖ MULxPOW(c,239,0xA9).
const MUL_ALPHA: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        t[c] = ((mulx_pow(b, 23, 0xa9) as u32) << 24)
            | ((mulx_pow(b, 245, 0xa9) as u32) << 16)
            | ((mulx_pow(b, 48, 0xa9) as u32) << 8)
            | (mulx_pow(b, 239, 0xa9) as u32);
        c += 1;
    }
    t
};

/// DIVα (§3.4.3): MULxPOW(c,16,0xA9) ‖ MULxPOW(c,39,0xA9) ‖
/// MULxPOW(c,6,0xA9) ‖ MULxPOW(c,64,0xA9).
const DIV_ALPHA: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        t[c] = ((mulx_pow(b, 16, 0xa9) as u32) << 24)
            | ((mulx_pow(b, 39, 0xa9) as u32) << 16)
            | ((mulx_pow(b, 6, 0xa9) as u32) << 8)
            | (mulx_pow(b, 64, 0xa9) as u32);
        c += 1;
    }
    t
};

/// The MixColumn-like 32-bit S-box of §3.3.1 / §3.3.2 over byte S-box `sb`
/// with reduction constant `c` (0x1B for S1, 0x69 for S2).
fn mix(w: u32, sb: &[u8; 256], c: u8) -> u32 {
    let [w0, w1, w2, w3] = w.to_be_bytes();
    let (a0, a1, a2, a3) = (sb[w0 as usize], sb[w1 as usize], sb[w2 as usize], sb[w3 as usize]);
    let r0 = mulx(a0, c) ^ a1 ^ a2 ^ mulx(a3, c) ^ a3;
    let r1 = mulx(a0, c) ^ a0 ^ mulx(a1, c) ^ a2 ^ a3;
    let r2 = a0 ^ mulx(a1, c) ^ a1 ^ mulx(a2, c) ^ a3;
    let r3 = a0 ^ a1 ^ mulx(a2, c) ^ a2 ^ mulx(a3, c);
    u32::from_be_bytes([r0, r1, r2, r3])
}

fn s1(w: u32) -> u32 {
    mix(w, &SR, 0x1b)
}

fn s2(w: u32) -> u32 {
    mix(w, &SQ, 0x69)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_sboxes_match_published_first_entries() {
        // FIPS-197 Figure 7 and SNOW 3G spec §3.3.2 table SQ, first row.
        assert_eq!(&SR[..8], &[0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5]);
        assert_eq!(&SQ[..8], &[0x25, 0x24, 0x73, 0x67, 0xd7, 0xae, 0x5c, 0x30]);
        // Both are permutations.
        let mut seen_r = [false; 256];
        let mut seen_q = [false; 256];
        for i in 0..256 {
            seen_r[SR[i] as usize] = true;
            seen_q[SQ[i] as usize] = true;
        }
        assert!(seen_r.iter().all(|&b| b) && seen_q.iter().all(|&b| b));
    }

    // TS 35.222 (SNOW 3G Design Conformance Test Data) §4, Test Set 1.
    #[test]
    fn ts_35_222_test_set_1() {
        let mut g = Snow3g::new(
            [0x2bd6459f, 0x82c5b300, 0x952c4910, 0x4881ff48],
            [0xea024714, 0xad5c4d84, 0xdf1f9b25, 0x1c0bf45f],
        );
        assert_eq!(g.keystream(2), [0xabee9704, 0x7ac31373]);
    }

    // TS 35.222 §4, Test Set 2.
    #[test]
    fn ts_35_222_test_set_2() {
        let mut g = Snow3g::new(
            [0x8ce33e2c, 0xc3c0b5fc, 0x1f3de8a6, 0xdc66b1f3],
            [0xd3c5d592, 0x327fb11c, 0xde551988, 0xceb2f9b7],
        );
        assert_eq!(g.keystream(2), [0xeff8a342, 0xf751480f]);
    }

    // TS 35.222 §4, Test Set 3.
    #[test]
    fn ts_35_222_test_set_3() {
        let mut g = Snow3g::new(
            [0x4035c668, 0x0af8c6d1, 0xa8ff8667, 0xb1714013],
            [0x62a54098, 0x1ba6f9b7, 0x4592b0e7, 0x8690f71b],
        );
        assert_eq!(g.keystream(2), [0xa8c874a9, 0x7ae7c4f8]);
    }

    // TS 35.222 §4, Test Set 4: z1, z2 and z2500.
    #[test]
    fn ts_35_222_test_set_4() {
        let mut g = Snow3g::new(
            [0x0ded7263, 0x109cf92e, 0x3352255a, 0x140e0f76],
            [0x6b68079a, 0x41a7c4c9, 0x1befd79f, 0x7fdcc233],
        );
        let z = g.keystream(2500);
        assert_eq!(&z[..3], &[0xd712c05c, 0xa937c2a6, 0xeb7eaae3]);
        assert_eq!(z[2499], 0x9c0db3aa);
    }
}
