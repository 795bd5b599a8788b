//! MILENAGE: the 3GPP authentication and key generation functions f1, f1*,
//! f2, f3, f4, f5 and f5* (TS 35.205 / TS 35.206), and the AUTN / AUTS
//! assembly of TS 33.102 §6.3 that the UDM and the (simulated) USIM share.
//!
//! The kernel is AES-128 (TS 35.206 §4.1 allows any 128-bit block cipher; 3GPP
//! uses Rijndael). OPc is derived once from OP (TS 35.206 §4.1) and kept with
//! the subscriber: the UDM never needs OP itself.

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use subtle::ConstantTimeEq;

use crate::Error;

/// Rotation amounts r1..r5 in bytes (TS 35.206 §4.1: 64, 0, 32, 64, 96 bits).
const R: [usize; 5] = [8, 0, 4, 8, 12];
/// Constants c1..c5: only the last byte is non-zero (0, 1, 2, 4, 8).
const C_LAST: [u8; 5] = [0x00, 0x01, 0x02, 0x04, 0x08];

/// Everything f2..f5 produce for one RAND (TS 35.206 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vector {
    /// f2: RES / XRES (64 bits here; 5G takes all 8 bytes into RES*).
    pub res: [u8; 8],
    /// f3: cipher key CK.
    pub ck: [u8; 16],
    /// f4: integrity key IK.
    pub ik: [u8; 16],
    /// f5: anonymity key AK.
    pub ak: [u8; 6],
}

/// The result of checking an AUTN on the USIM side (TS 33.102 §6.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutnCheck {
    /// SQN recovered from AUTN (SQN ⊕ AK ⊕ AK). The caller checks freshness.
    pub sqn: [u8; 6],
    /// The AMF field of AUTN.
    pub amf: [u8; 2],
    /// f2..f5 outputs for this RAND.
    pub vector: Vector,
}

/// MILENAGE bound to one subscriber: K and OPc.
#[derive(Clone)]
pub struct Milenage {
    cipher: Aes128,
    opc: [u8; 16],
}

impl core::fmt::Debug for Milenage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print K or OPc.
        f.write_str("Milenage { .. }")
    }
}

/// OPc = OP ⊕ E_K(OP) (TS 35.206 §4.1).
pub fn opc_from_op(k: &[u8; 16], op: &[u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(GenericArray::from_slice(k));
    let mut block = *op;
    encrypt(&cipher, &mut block);
    xor_in_place(&mut block, op);
    block
}

impl Milenage {
    /// MILENAGE for subscriber key `k` and operator variant `opc`.
    pub fn new(k: &[u8; 16], opc: &[u8; 16]) -> Self {
        Self {
            cipher: Aes128::new(GenericArray::from_slice(k)),
            opc: *opc,
        }
    }

    /// As [`Milenage::new`] but from slices, checking their lengths
    /// (keys usually arrive as hex from a subscriber store).
    pub fn from_slices(k: &[u8], opc: &[u8]) -> Result<Self, Error> {
        let k: &[u8; 16] = k.try_into().map_err(|_| Error::BadKeyLength {
            expected: 16,
            got: k.len(),
        })?;
        let opc: &[u8; 16] = opc.try_into().map_err(|_| Error::BadKeyLength {
            expected: 16,
            got: opc.len(),
        })?;
        Ok(Self::new(k, opc))
    }

    /// MILENAGE for subscriber key `k` and operator variant OP (OPc derived here).
    pub fn with_op(k: &[u8; 16], op: &[u8; 16]) -> Self {
        let opc = opc_from_op(k, op);
        Self::new(k, &opc)
    }

    /// The OPc in use.
    pub fn opc(&self) -> [u8; 16] {
        self.opc
    }

    /// TEMP = E_K(RAND ⊕ OPc).
    fn temp(&self, rand: &[u8; 16]) -> [u8; 16] {
        let mut t = *rand;
        xor_in_place(&mut t, &self.opc);
        encrypt(&self.cipher, &mut t);
        t
    }

    /// OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc, IN1 = SQN‖AMF‖SQN‖AMF.
    fn out1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 16] {
        let temp = self.temp(rand);
        let mut in1 = [0u8; 16];
        in1[0..6].copy_from_slice(sqn);
        in1[6..8].copy_from_slice(amf);
        in1[8..14].copy_from_slice(sqn);
        in1[14..16].copy_from_slice(amf);
        xor_in_place(&mut in1, &self.opc);
        let mut block = rotate(&in1, R[0]);
        block[15] ^= C_LAST[0];
        xor_in_place(&mut block, &temp);
        encrypt(&self.cipher, &mut block);
        xor_in_place(&mut block, &self.opc);
        block
    }

    /// OUTi = E_K(rot(TEMP ⊕ OPc, ri) ⊕ ci) ⊕ OPc for i = 2..5.
    fn out_n(&self, temp: &[u8; 16], i: usize) -> [u8; 16] {
        let mut x = *temp;
        xor_in_place(&mut x, &self.opc);
        let mut block = rotate(&x, R[i - 1]);
        block[15] ^= C_LAST[i - 1];
        encrypt(&self.cipher, &mut block);
        xor_in_place(&mut block, &self.opc);
        block
    }

    /// f1: network authentication code MAC-A.
    pub fn f1(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        first8(&self.out1(rand, sqn, amf))
    }

    /// f1*: resynchronisation authentication code MAC-S.
    pub fn f1_star(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
        let out = self.out1(rand, sqn, amf);
        let mut m = [0u8; 8];
        m.copy_from_slice(&out[8..16]);
        m
    }

    /// f2 (RES), f3 (CK), f4 (IK) and f5 (AK) in one pass.
    pub fn f2345(&self, rand: &[u8; 16]) -> Vector {
        let temp = self.temp(rand);
        let out2 = self.out_n(&temp, 2);
        let mut res = [0u8; 8];
        res.copy_from_slice(&out2[8..16]);
        let mut ak = [0u8; 6];
        ak.copy_from_slice(&out2[0..6]);
        Vector {
            res,
            ck: self.out_n(&temp, 3),
            ik: self.out_n(&temp, 4),
            ak,
        }
    }

    /// f5*: anonymity key for resynchronisation (AUTS).
    pub fn f5_star(&self, rand: &[u8; 16]) -> [u8; 6] {
        let temp = self.temp(rand);
        let out5 = self.out_n(&temp, 5);
        let mut ak = [0u8; 6];
        ak.copy_from_slice(&out5[0..6]);
        ak
    }

    /// Network side: AUTN = (SQN ⊕ AK) ‖ AMF ‖ MAC-A (TS 33.102 §6.3.2),
    /// together with the f2..f5 outputs.
    pub fn generate_autn(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> ([u8; 16], Vector) {
        let v = self.f2345(rand);
        let mac_a = self.f1(rand, sqn, amf);
        let mut autn = [0u8; 16];
        for i in 0..6 {
            autn[i] = sqn[i] ^ v.ak[i];
        }
        autn[6..8].copy_from_slice(amf);
        autn[8..16].copy_from_slice(&mac_a);
        (autn, v)
    }

    /// USIM side: recover SQN from AUTN and verify MAC-A in constant time
    /// (TS 33.102 §6.3.3). SQN freshness is the caller's decision.
    pub fn verify_autn(&self, rand: &[u8; 16], autn: &[u8; 16]) -> Result<AutnCheck, Error> {
        let v = self.f2345(rand);
        let mut sqn = [0u8; 6];
        for i in 0..6 {
            sqn[i] = autn[i] ^ v.ak[i];
        }
        let amf = [autn[6], autn[7]];
        let xmac = self.f1(rand, &sqn, &amf);
        if bool::from(xmac.ct_eq(&autn[8..16])) {
            Ok(AutnCheck { sqn, amf, vector: v })
        } else {
            Err(Error::MacFailure)
        }
    }

    /// USIM side: AUTS = (SQN_MS ⊕ AK*) ‖ MAC-S with the dummy AMF 0x0000
    /// (TS 33.102 §6.3.3).
    pub fn generate_auts(&self, rand: &[u8; 16], sqn_ms: &[u8; 6]) -> [u8; 14] {
        let ak_star = self.f5_star(rand);
        let mac_s = self.f1_star(rand, sqn_ms, &[0, 0]);
        let mut auts = [0u8; 14];
        for i in 0..6 {
            auts[i] = sqn_ms[i] ^ ak_star[i];
        }
        auts[6..14].copy_from_slice(&mac_s);
        auts
    }

    /// Network side: recover SQN_MS from AUTS and verify MAC-S in constant
    /// time (TS 33.102 §6.3.5).
    pub fn verify_auts(&self, rand: &[u8; 16], auts: &[u8; 14]) -> Result<[u8; 6], Error> {
        let ak_star = self.f5_star(rand);
        let mut sqn_ms = [0u8; 6];
        for i in 0..6 {
            sqn_ms[i] = auts[i] ^ ak_star[i];
        }
        let xmac_s = self.f1_star(rand, &sqn_ms, &[0, 0]);
        if bool::from(xmac_s.ct_eq(&auts[6..14])) {
            Ok(sqn_ms)
        } else {
            Err(Error::MacFailure)
        }
    }
}

fn encrypt(cipher: &Aes128, block: &mut [u8; 16]) {
    cipher.encrypt_block(GenericArray::from_mut_slice(block));
}

fn xor_in_place(a: &mut [u8; 16], b: &[u8; 16]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

/// Cyclic rotation towards the most significant bit by `bytes` bytes.
fn rotate(x: &[u8; 16], bytes: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = x[(i + bytes) % 16];
    }
    out
}

fn first8(x: &[u8; 16]) -> [u8; 8] {
    let mut m = [0u8; 8];
    m.copy_from_slice(&x[0..8]);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One TS 35.208 §4.3 test set (inputs and every output).
    struct Set {
        k: &'static str,
        rand: &'static str,
        sqn: &'static str,
        amf: &'static str,
        op: &'static str,
        opc: &'static str,
        f1: &'static str,
        f1_star: &'static str,
        f2: &'static str,
        f5: &'static str,
        f3: &'static str,
        f4: &'static str,
        f5_star: &'static str,
    }

    fn h<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    fn check(set: &Set) {
        let k = h::<16>(set.k);
        let op = h::<16>(set.op);
        let rand = h::<16>(set.rand);
        let sqn = h::<6>(set.sqn);
        let amf = h::<2>(set.amf);
        assert_eq!(hex::encode(opc_from_op(&k, &op)), set.opc, "OPc");
        let m = Milenage::new(&k, &h::<16>(set.opc));
        assert_eq!(hex::encode(m.f1(&rand, &sqn, &amf)), set.f1, "f1");
        assert_eq!(hex::encode(m.f1_star(&rand, &sqn, &amf)), set.f1_star, "f1*");
        let v = m.f2345(&rand);
        assert_eq!(hex::encode(v.res), set.f2, "f2");
        assert_eq!(hex::encode(v.ak), set.f5, "f5");
        assert_eq!(hex::encode(v.ck), set.f3, "f3");
        assert_eq!(hex::encode(v.ik), set.f4, "f4");
        assert_eq!(hex::encode(m.f5_star(&rand)), set.f5_star, "f5*");
        // The OP path must agree with the OPc path.
        let via_op = Milenage::with_op(&k, &op);
        assert_eq!(via_op.f2345(&rand), v);
    }

    // TS 35.208 §4.3.1, Test Set 1.
    static SET_1: Set = Set {
        k: "465b5ce8b199b49faa5f0a2ee238a6bc",
        rand: "23553cbe9637a89d218ae64dae47bf35",
        sqn: "ff9bb4d0b607",
        amf: "b9b9",
        op: "cdc202d5123e20f62b6d676ac72cb318",
        opc: "cd63cb71954a9f4e48a5994e37a02baf",
        f1: "4a9ffac354dfafb3",
        f1_star: "01cfaf9ec4e871e9",
        f2: "a54211d5e3ba50bf",
        f5: "aa689c648370",
        f3: "b40ba9a3c58b2a05bbf0d987b21bf8cb",
        f4: "f769bcd751044604127672711c6d3441",
        f5_star: "451e8beca43b",
    };

    // TS 35.208 §4.3.2, Test Set 2.
    static SET_2: Set = Set {
        k: "fec86ba6eb707ed08905757b1bb44b8f",
        rand: "9f7c8d021accf4db213ccff0c7f71a6a",
        sqn: "9d0277595ffc",
        amf: "725c",
        op: "dbc59adcb6f9a0ef735477b7fadf8374",
        opc: "1006020f0a478bf6b699f15c062e42b3",
        f1: "9cabc3e99baf7281",
        f1_star: "95814ba2b3044324",
        f2: "8011c48c0c214ed2",
        f5: "33484dc2136b",
        f3: "5dbdbb2954e8f3cde665b046179a5098",
        f4: "59a92d3b476a0443487055cf88b2307b",
        f5_star: "deacdd848cc6",
    };

    // TS 35.208 §4.3.3, Test Set 3.
    static SET_3: Set = Set {
        k: "9e5944aea94b81165c82fbf9f32db751",
        rand: "ce83dbc54ac0274a157c17f80d017bd6",
        sqn: "0b604a81eca8",
        amf: "9e09",
        op: "223014c5806694c007ca1eeef57f004f",
        opc: "a64a507ae1a2a98bb88eb4210135dc87",
        f1: "74a58220cba84c49",
        f1_star: "ac2cc74a96871837",
        f2: "f365cd683cd92e96",
        f5: "f0b9c08ad02e",
        f3: "e203edb3971574f5a94b0d61b816345d",
        f4: "0c4524adeac041c4dd830d20854fc46b",
        f5_star: "6085a86c6f63",
    };

    // TS 35.208 §4.3.4, Test Set 4.
    static SET_4: Set = Set {
        k: "4ab1deb05ca6ceb051fc98e77d026a84",
        rand: "74b0cd6031a1c8339b2b6ce2b8c4a186",
        sqn: "e880a1b580b6",
        amf: "9f07",
        op: "2d16c5cd1fdf6b22383584e3bef2a8d8",
        opc: "dcf07cbd51855290b92a07a9891e523e",
        f1: "49e785dd12626ef2",
        f1_star: "9e85790336bb3fa2",
        f2: "5860fc1bce351e7e",
        f5: "31e11a609118",
        f3: "7657766b373d1c2138f307e3de9242f9",
        f4: "1c42e960d89b8fa99f2744e0708ccb53",
        f5_star: "fe2555e54aa9",
    };

    // TS 35.208 §4.3.5, Test Set 5.
    static SET_5: Set = Set {
        k: "6c38a116ac280c454f59332ee35c8c4f",
        rand: "ee6466bc96202c5a557abbeff8babf63",
        sqn: "414b98222181",
        amf: "4464",
        op: "1ba00a1a7c6700ac8c3ff3e96ad08725",
        opc: "3803ef5363b947c6aaa225e58fae3934",
        f1: "078adfb488241a57",
        f1_star: "80246b8d0186bcf1",
        f2: "16c8233f05a0ac28",
        f5: "45b0f69ab06c",
        f3: "3f8c7587fe8e4b233af676aede30ba3b",
        f4: "a7466cc1e6b2a1337d49d3b66e95d7b4",
        f5_star: "1f53cd2b1113",
    };

    // TS 35.208 §4.3.6, Test Set 6.
    static SET_6: Set = Set {
        k: "2d609d4db0ac5bf0d2c0de267014de0d",
        rand: "194aa756013896b74b4a2a3b0af4539e",
        sqn: "6bf69438c2e4",
        amf: "5f67",
        op: "460a48385427aa39264aac8efc9e73e8",
        opc: "c35a0ab0bcbfc9252caff15f24efbde0",
        f1: "bd07d3003b9e5cc3",
        f1_star: "bcb6c2fcad152250",
        f2: "8c25a16cd918a1df",
        f5: "7e6455f34cf3",
        f3: "4cd0846020f8fa0731dd47cbdc6be411",
        f4: "88ab80a415f15c73711254a1d388f696",
        f5_star: "dc6dd01e8f15",
    };

    // TS 35.208 §4.3.7, Test Set 7.
    static SET_7: Set = Set {
        k: "a530a7fe428fad1082c45eddfce13884",
        rand: "3a4c2b3245c50eb5c71d08639395764d",
        sqn: "f63f5d768784",
        amf: "b90e",
        op: "511c6c4e83e38c89b1c5d8dde62426fa",
        opc: "27953e49bc8af6dcc6e730eb80286be3",
        f1: "53761fbd679b0bad",
        f1_star: "21adfd334a10e7ce",
        f2: "a63241e1ffc3e5ab",
        f5: "88196c47986f",
        f3: "10f05bab75a99a5fbb98a9c287679c3b",
        f4: "f9ec0865eb32f22369cade40c59c3a44",
        f5_star: "c987a3d23115",
    };

    #[test]
    fn ts_35_208_test_set_1() {
        check(&SET_1);
    }
    #[test]
    fn ts_35_208_test_set_2() {
        check(&SET_2);
    }
    #[test]
    fn ts_35_208_test_set_3() {
        check(&SET_3);
    }
    #[test]
    fn ts_35_208_test_set_4() {
        check(&SET_4);
    }
    #[test]
    fn ts_35_208_test_set_5() {
        check(&SET_5);
    }
    #[test]
    fn ts_35_208_test_set_6() {
        check(&SET_6);
    }
    #[test]
    fn ts_35_208_test_set_7() {
        check(&SET_7);
    }

    #[test]
    fn autn_round_trip_and_tamper() {
        // TS 35.208 Test Set 1 inputs; AUTN assembled per TS 33.102 §6.3.2.
        let m = Milenage::new(&h(SET_1.k), &h(SET_1.opc));
        let rand = h::<16>(SET_1.rand);
        let sqn = h::<6>(SET_1.sqn);
        let amf = h::<2>(SET_1.amf);
        let (autn, v) = m.generate_autn(&rand, &sqn, &amf);
        // SQN ⊕ AK = ff9bb4d0b607 ⊕ aa689c648370, then AMF, then f1.
        assert_eq!(hex::encode(autn), "55f328b43577b9b94a9ffac354dfafb3");
        let ok = m.verify_autn(&rand, &autn).unwrap();
        assert_eq!(ok.sqn, sqn);
        assert_eq!(ok.amf, amf);
        assert_eq!(ok.vector, v);
        let mut bad = autn;
        bad[15] ^= 1;
        assert_eq!(m.verify_autn(&rand, &bad), Err(Error::MacFailure));
    }

    #[test]
    fn auts_round_trip_and_tamper() {
        let m = Milenage::new(&h(SET_2.k), &h(SET_2.opc));
        let rand = h::<16>(SET_2.rand);
        let sqn_ms = h::<6>("000000000123");
        let auts = m.generate_auts(&rand, &sqn_ms);
        // First 6 bytes are SQN_MS ⊕ f5* of Test Set 2 (deacdd848cc6).
        assert_eq!(hex::encode(&auts[..6]), "deacdd848de5");
        assert_eq!(m.verify_auts(&rand, &auts), Ok(sqn_ms));
        let mut bad = auts;
        bad[7] ^= 0x80;
        assert_eq!(m.verify_auts(&rand, &bad), Err(Error::MacFailure));
    }

    /// Resynchronisation token from hostap's `tests/test-milenage.c`
    /// (`milenage_auts` check) on TS 35.208 Test Set 19 inputs:
    /// AUTS = (SQN_MS ⊕ f5*) ‖ f1*(SQN_MS, RAND, AMF = 0000) with SQN_MS = 1.
    #[test]
    fn auts_known_value_test_set_19() {
        let m = Milenage::new(
            &h("90dca4eda45b53cf0f12d7c9c3bc6a89"),
            &h("cb9cccc4b9258e6dca4760379fb82581"),
        );
        let rand = h::<16>("9fddc72092c6ad036b6e464789315b78");
        assert_eq!(hex::encode(m.f5_star(&rand)), "4f2039392ddc");
        let auts = h::<14>("4f2039392ddd4bb4316ed4a14688");
        assert_eq!(m.verify_auts(&rand, &auts), Ok(h::<6>("000000000001")));
        assert_eq!(m.generate_auts(&rand, &h::<6>("000000000001")), auts);
    }

    #[test]
    fn from_slices_checks_lengths() {
        assert_eq!(
            Milenage::from_slices(&[0; 15], &[0; 16]).err(),
            Some(Error::BadKeyLength { expected: 16, got: 15 })
        );
        assert!(Milenage::from_slices(&[0; 16], &[0; 16]).is_ok());
    }
}
