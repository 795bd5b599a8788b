//! The 5G ciphering (128-NEA0..3) and integrity (128-NIA0..3) algorithms of
//! TS 33.501 Annex D, built as the LTE constructions of TS 33.401 Annex B:
//!
//! * NEA1 / NIA1: SNOW 3G in UEA2 (f8) / UIA2 (f9) mode, TS 35.215 §3–4,
//!   with the 5-bit BEARER and FRESH = BEARER ‖ 0^27 (TS 33.401 B.1.2/B.2.2).
//! * NEA2 / NIA2: AES-128 in CTR mode / AES-CMAC (TS 33.401 B.1.3/B.2.3).
//! * NEA3 / NIA3: ZUC in 128-EEA3 / 128-EIA3 mode (TS 35.221 §3–4).
//! * NEA0 / NIA0: null ciphering / all-zero MAC (TS 33.501 D.1/D.3.1).
//!
//! Messages are bit strings: the `_bits` functions take an explicit length
//! in bits (the first `bits` bits of `data`, most significant bit first);
//! bits of the last output octet past that length are set to zero. The
//! plain functions take whole octets. Inputs: 128-bit key, 32-bit COUNT,
//! 5-bit BEARER, 1-bit DIRECTION (TS 33.501 §6.4.3.1, §D.2.1.1, §D.3.1.1).

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, KeyIvInit, StreamCipher, generic_array::GenericArray};
use subtle::ConstantTimeEq;

use crate::Error;
use crate::count::Direction;
use crate::snow3g::Snow3g;
use crate::zuc::Zuc;

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// A 5G NR encryption algorithm (TS 33.501 §5.11.1.1; NAS identity in
/// TS 24.501 §9.11.3.34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Nea {
    /// 5G-EA0: null ciphering.
    Nea0 = 0,
    /// 128-NEA1: SNOW 3G.
    Nea1 = 1,
    /// 128-NEA2: AES-128-CTR.
    Nea2 = 2,
    /// 128-NEA3: ZUC.
    Nea3 = 3,
}

/// A 5G NR integrity algorithm (TS 33.501 §5.11.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Nia {
    /// 5G-IA0: null integrity.
    Nia0 = 0,
    /// 128-NIA1: SNOW 3G.
    Nia1 = 1,
    /// 128-NIA2: AES-CMAC.
    Nia2 = 2,
    /// 128-NIA3: ZUC.
    Nia3 = 3,
}

impl Nea {
    /// The algorithm for its 4-bit identity; `None` for identities 4–15,
    /// which TS 24.501 §9.11.3.34 leaves unassigned.
    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            0 => Some(Self::Nea0),
            1 => Some(Self::Nea1),
            2 => Some(Self::Nea2),
            3 => Some(Self::Nea3),
            _ => None,
        }
    }

    /// The 4-bit algorithm identity (also the P1 of TS 33.501 A.8).
    pub fn id(self) -> u8 {
        self as u8
    }
}

impl Nia {
    /// The algorithm for its 4-bit identity; `None` for 4–15.
    pub fn from_id(id: u8) -> Option<Self> {
        match id {
            0 => Some(Self::Nia0),
            1 => Some(Self::Nia1),
            2 => Some(Self::Nia2),
            3 => Some(Self::Nia3),
            _ => None,
        }
    }

    /// The 4-bit algorithm identity.
    pub fn id(self) -> u8 {
        self as u8
    }
}

/// Cipher (or decipher: the same operation) whole octets.
pub fn nea(alg: Nea, key: &[u8; 16], count: u32, bearer: u8, direction: Direction, data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    apply(alg, key, count, bearer, direction, &mut out);
    out
}

/// Cipher the first `bits` bits of `data`; returns ⌈bits/8⌉ octets with
/// the unused trailing bits zero.
pub fn nea_bits(
    alg: Nea,
    key: &[u8; 16],
    count: u32,
    bearer: u8,
    direction: Direction,
    data: &[u8],
    bits: usize,
) -> Result<Vec<u8>, Error> {
    let n = check_bits(data, bits)?;
    let mut out = data[..n].to_vec();
    apply(alg, key, count, bearer, direction, &mut out);
    mask_tail(&mut out, bits);
    Ok(out)
}

/// Cipher `buf` in place (whole octets).
pub fn nea_in_place(alg: Nea, key: &[u8; 16], count: u32, bearer: u8, direction: Direction, buf: &mut [u8]) {
    apply(alg, key, count, bearer, direction, buf);
}

/// The 32-bit MAC (NAS-MAC / MAC-I) over whole octets.
pub fn nia(alg: Nia, key: &[u8; 16], count: u32, bearer: u8, direction: Direction, data: &[u8]) -> [u8; 4] {
    mac_bits(alg, key, count, bearer, direction, data, data.len() * 8)
}

/// The 32-bit MAC over the first `bits` bits of `data`.
pub fn nia_bits(
    alg: Nia,
    key: &[u8; 16],
    count: u32,
    bearer: u8,
    direction: Direction,
    data: &[u8],
    bits: usize,
) -> Result<[u8; 4], Error> {
    check_bits(data, bits)?;
    Ok(mac_bits(alg, key, count, bearer, direction, data, bits))
}

/// Check a received MAC in constant time: [`Error::MacFailure`] if it does
/// not match. With NIA0 the expected MAC is all zeros (TS 33.501 D.3.1);
/// whether NIA0 is acceptable at all is the NAS layer's decision.
pub fn nia_verify(
    alg: Nia,
    key: &[u8; 16],
    count: u32,
    bearer: u8,
    direction: Direction,
    data: &[u8],
    mac: &[u8; 4],
) -> Result<(), Error> {
    let expected = nia(alg, key, count, bearer, direction, data);
    if bool::from(expected.ct_eq(mac)) {
        Ok(())
    } else {
        Err(Error::MacFailure)
    }
}

fn check_bits(data: &[u8], bits: usize) -> Result<usize, Error> {
    let n = bits.div_ceil(8);
    if n > data.len() {
        return Err(Error::BadBitLength {
            bits: bits as u64,
            bytes: data.len(),
        });
    }
    Ok(n)
}

/// Zero the bits of the last octet beyond `bits`.
fn mask_tail(buf: &mut [u8], bits: usize) {
    let rem = bits % 8;
    if rem != 0
        && let Some(last) = buf.last_mut()
    {
        *last &= 0xffu8 << (8 - rem);
    }
}

fn apply(alg: Nea, key: &[u8; 16], count: u32, bearer: u8, dir: Direction, buf: &mut [u8]) {
    match alg {
        Nea::Nea0 => {}
        Nea::Nea1 => {
            // TS 35.215 §3.4 (f8) with BEARER in 5 bits: IV3 = IV1 = COUNT,
            // IV2 = IV0 = BEARER ‖ DIRECTION ‖ 0^26.
            let bd = (u32::from(bearer & 0x1f) << 27) | (u32::from(dir.bit()) << 26);
            let mut g = Snow3g::from_bytes(key, [bd, count, bd, count]);
            xor_keystream(buf, || g.next_word());
        }
        Nea::Nea2 => {
            // TS 33.401 B.1.3: T1 = COUNT ‖ BEARER ‖ DIRECTION ‖ 0^26 ‖ 0^64.
            let mut iv = [0u8; 16];
            iv[..4].copy_from_slice(&count.to_be_bytes());
            iv[4] = ((bearer & 0x1f) << 3) | (dir.bit() << 2);
            let mut c = Aes128Ctr::new(GenericArray::from_slice(key), GenericArray::from_slice(&iv));
            c.apply_keystream(buf);
        }
        Nea::Nea3 => {
            let iv = eea3_iv(count, bearer, dir);
            let mut z = Zuc::new(key, &iv);
            xor_keystream(buf, || z.next_word());
        }
    }
}

fn xor_keystream(buf: &mut [u8], mut next: impl FnMut() -> u32) {
    for chunk in buf.chunks_mut(4) {
        let ks = next().to_be_bytes();
        for (b, k) in chunk.iter_mut().zip(ks) {
            *b ^= k;
        }
    }
}

/// 128-EEA3 IV (TS 35.221 §3.3): COUNT ‖ BEARER ‖ DIRECTION ‖ 0^26, twice.
fn eea3_iv(count: u32, bearer: u8, dir: Direction) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..4].copy_from_slice(&count.to_be_bytes());
    iv[4] = ((bearer & 0x1f) << 3) | (dir.bit() << 2);
    let (a, b) = iv.split_at_mut(8);
    b.copy_from_slice(a);
    iv
}

/// `bits` is already checked against `data` by every caller.
fn mac_bits(alg: Nia, key: &[u8; 16], count: u32, bearer: u8, dir: Direction, data: &[u8], bits: usize) -> [u8; 4] {
    match alg {
        Nia::Nia0 => [0; 4],
        Nia::Nia1 => nia1(key, count, bearer, dir, data, bits),
        Nia::Nia2 => nia2(key, count, bearer, dir, data, bits),
        Nia::Nia3 => nia3(key, count, bearer, dir, data, bits),
    }
}

/// Bit `i` (0 = most significant bit of octet 0); 0 past the end.
fn bit(data: &[u8], i: usize) -> u64 {
    data.get(i / 8).map_or(0, |b| u64::from((b >> (7 - (i % 8))) & 1))
}

/// 128-NIA1 = UIA2 (TS 35.215 §4) with FRESH = BEARER ‖ 0^27 (TS 33.401 B.2.2).
fn nia1(key: &[u8; 16], count: u32, bearer: u8, dir: Direction, data: &[u8], bits: usize) -> [u8; 4] {
    let fresh = u32::from(bearer & 0x1f) << 27;
    let d = u32::from(dir.bit());
    // §4.4: IV3 = COUNT, IV2 = FRESH, IV1 = COUNT ⊕ (DIRECTION ≪ 31),
    // IV0 = FRESH ⊕ (DIRECTION ≪ 15).
    let mut g = Snow3g::from_bytes(key, [fresh ^ (d << 15), count ^ (d << 31), fresh, count]);
    let z = [
        g.next_word(),
        g.next_word(),
        g.next_word(),
        g.next_word(),
        g.next_word(),
    ];
    let p = (u64::from(z[0]) << 32) | u64::from(z[1]);
    let q = (u64::from(z[2]) << 32) | u64::from(z[3]);
    let blocks = bits.div_ceil(64);
    let mut eval = 0u64;
    for i in 0..blocks {
        let mut m = 0u64;
        for j in 0..64 {
            let pos = i * 64 + j;
            let b = if pos < bits { bit(data, pos) } else { 0 };
            m = (m << 1) | b;
        }
        eval = gf64_mul(eval ^ m, p);
    }
    eval ^= bits as u64;
    eval = gf64_mul(eval, q);
    // Truncation to the upper 32 bits is the MAC (§4.4 step 5).
    (((eval >> 32) as u32) ^ z[4]).to_be_bytes()
}

/// MUL(V, P, 0x1b) in GF(2^64) as UIA2 §4.3 defines it.
fn gf64_mul(v: u64, p: u64) -> u64 {
    let mut result = 0u64;
    let mut vp = v;
    for i in 0..64 {
        if (p >> i) & 1 == 1 {
            result ^= vp;
        }
        vp = if vp & (1 << 63) != 0 { (vp << 1) ^ 0x1b } else { vp << 1 };
    }
    result
}

/// 128-NIA2 (TS 33.401 B.2.3): AES-CMAC over
/// M = COUNT ‖ BEARER ‖ DIRECTION ‖ 0^26 ‖ MESSAGE, MAC = the 32 most
/// significant bits. CMAC (NIST SP 800-38B) is written out here because the
/// message is a bit string, not whole octets.
fn nia2(key: &[u8; 16], count: u32, bearer: u8, dir: Direction, data: &[u8], bits: usize) -> [u8; 4] {
    let total_bits = 64 + bits;
    let mut m = Vec::with_capacity(8 + data.len() + 16);
    m.extend_from_slice(&count.to_be_bytes());
    m.push(((bearer & 0x1f) << 3) | (dir.bit() << 2));
    m.extend_from_slice(&[0, 0, 0]);
    m.extend_from_slice(&data[..bits.div_ceil(8).min(data.len())]);
    let tag = cmac_bits(key, &mut m, total_bits);
    [tag[0], tag[1], tag[2], tag[3]]
}

/// AES-CMAC of the first `bits` bits of `m` (`m` is padded in place).
fn cmac_bits(key: &[u8; 16], m: &mut Vec<u8>, bits: usize) -> [u8; 16] {
    let cipher = Aes128::new(GenericArray::from_slice(key));
    let enc = |b: &mut [u8; 16]| cipher.encrypt_block(GenericArray::from_mut_slice(b));
    // Subkeys (SP 800-38B §6.1).
    let mut l = [0u8; 16];
    enc(&mut l);
    let k1 = dbl(&l);
    let k2 = dbl(&k1);
    let n_blocks = bits.div_ceil(128).max(1);
    let complete = bits > 0 && bits.is_multiple_of(128);
    m.resize(n_blocks * 16, 0);
    mask_tail(&mut m[..bits.div_ceil(8)], bits);
    for b in m.iter_mut().skip(bits.div_ceil(8)) {
        *b = 0;
    }
    if !complete {
        // Append the single 1 bit after the message (§6.2 step 3).
        let byte = bits / 8;
        if let Some(b) = m.get_mut(byte) {
            *b |= 0x80 >> (bits % 8);
        }
    }
    let mut x = [0u8; 16];
    for i in 0..n_blocks {
        let mut block = [0u8; 16];
        block.copy_from_slice(&m[i * 16..i * 16 + 16]);
        if i == n_blocks - 1 {
            let k = if complete { &k1 } else { &k2 };
            for (b, kk) in block.iter_mut().zip(k) {
                *b ^= kk;
            }
        }
        for (xx, b) in x.iter_mut().zip(block) {
            *xx ^= b;
        }
        enc(&mut x);
    }
    x
}

/// Doubling in GF(2^128) with R = 0x87 (SP 800-38B §6.1).
fn dbl(x: &[u8; 16]) -> [u8; 16] {
    let v = u128::from_be_bytes(*x);
    let mut d = v << 1;
    if v >> 127 == 1 {
        d ^= 0x87;
    }
    d.to_be_bytes()
}

/// 128-NIA3 = 128-EIA3 (TS 35.221 §4).
fn nia3(key: &[u8; 16], count: u32, bearer: u8, dir: Direction, data: &[u8], bits: usize) -> [u8; 4] {
    let d = dir.bit();
    let mut iv = [0u8; 16];
    iv[..4].copy_from_slice(&count.to_be_bytes());
    iv[4] = (bearer & 0x1f) << 3;
    iv[8..12].copy_from_slice(&count.to_be_bytes());
    iv[8] ^= d << 7;
    iv[12] = iv[4];
    iv[14] ^= d << 7;
    let l = (bits + 64).div_ceil(32);
    let mut g = Zuc::new(key, &iv);
    let z = g.keystream(l);
    // The 32-bit keystream word starting at bit i.
    let word_at = |i: usize| -> u32 {
        let w = i / 32;
        let r = i % 32;
        let hi = z.get(w).copied().unwrap_or(0);
        if r == 0 {
            hi
        } else {
            let lo = z.get(w + 1).copied().unwrap_or(0);
            (hi << r) | (lo >> (32 - r))
        }
    };
    let mut t = 0u32;
    for i in 0..bits {
        if bit(data, i) == 1 {
            t ^= word_at(i);
        }
    }
    t ^= word_at(bits);
    let last = z.last().copied().unwrap_or(0);
    (t ^ last).to_be_bytes()
}

#[cfg(test)]
mod tests;
