//! SUCI tests with the TS 33.501 Annex C.4 implementers' test data.

use super::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn h32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

// TS 33.501 C.4.3.1: ECIES Profile A, IMSI-based SUPI (MCC/MNC 274/012,
// MSIN 001002086).
const A_HN_PRIV: &str = "c53c22208b61860b06c62e5406a7b330c2b577aa5558981510d128247d38bd1d";
const A_HN_PUB: &str = "5a8d38864820197c3394b92613b20b91633cbd897119273bf8e4a6f4eec0a650";
const A_EPH_PRIV: &str = "c80949f13ebe61af4ebdbd293ea4f942696b9e815d7e8f0096bbf6ed7de62256";
const A_EPH_PUB: &str = "b2e92f836055a255837debf850b528997ce0201cb82adfe4be1f587d07d8457d";
const A_SHARED: &str = "028ddf890ec83cdf163947ce45f6ec1a0e3070ea5fe57e2b1f05139f3e82422a";
const A_ENC_KEY: &str = "2ba342cabd2b3b1e5e4e890da11b65f6";
const A_ICB: &str = "e2622cb0cdd08204e721c8ea9b95a7c6";
const A_MAC_KEY: &str = "d9846966fb7cf5fcf11266c5957dea60b83fff2b7c940690a4bfe57b1eb52bd2";
const A_PLAINTEXT: &str = "00012080f6";
const A_CIPHERTEXT: &str = "cb02352410";
const A_TAG: &str = "cddd9e730ef3fa87";
const A_OUTPUT: &str = "b2e92f836055a255837debf850b528997ce0201cb82adfe4be1f587d07d8457dcb02352410cddd9e730ef3fa87";

// TS 33.501 C.4.3.2: Profile A, network-specific identifier
// "verylongusername1@3gpp.com" (username part concealed).
const A_NAI_EPH_PRIV: &str = "be9eff3e9f22a4b42a3d236e7a6c500b3f2e7e0c7449988ba800d664bf4fcd97";
const A_NAI_EPH_PUB: &str = "977d8b2fdaa7b64aa700d04227d5b440630ea4ec50f9082273a26bb678c92222";
const A_NAI_PLAINTEXT: &str = "766572796c6f6e67757365726e616d6531";
const A_NAI_CIPHERTEXT: &str = "8e358a1582adb15322c10e515141d2039a";
const A_NAI_TAG: &str = "12e1d7783a97f1ac";

// TS 33.501 C.4.4.1: ECIES Profile B, IMSI-based SUPI.
const B_HN_PRIV: &str = "f1ab1074477ebcc7f554ea1c5fc368b1616730155e0041ac447d6301975fecda";
const B_HN_PUB_UNCOMPRESSED: &str = "0472da71976234ce833a6907425867b82e074d44ef907dfb4b3e21c1c2256ebcd15a7ded52fcbb097a4ed250e036c7b9c8c7004c4eedc4f068cd7bf8d3f900e3b4";
const B_HN_PUB_COMPRESSED: &str = "0272da71976234ce833a6907425867b82e074d44ef907dfb4b3e21c1c2256ebcd1";
const B_EPH_PRIV: &str = "99798858a1dc6a2c68637149a4b1dbfd1fdff5addd62a2142f06699ed7602529";
const B_EPH_PUB_COMPRESSED: &str = "039aab8376597021e855679a9778ea0b67396e68c66df32c0f41e9acca2da9b9d1";
const B_EPH_PUB_UNCOMPRESSED: &str = "049aab8376597021e855679a9778ea0b67396e68c66df32c0f41e9acca2da9b9d1d1f44ea1c87aa7478b954537bde79951e748a43294a4f4cf86eaff1789c9c81f";
const B_SHARED: &str = "6c7e6518980025b982fbb2ff746e3c2e85a196d252099a7ad23ea7b4c0959cae";
const B_ENC_KEY: &str = "8a65c3aed80295c12bd55087e965702a";
const B_ICB: &str = "ef285b4061c3baee858ab6ec68487dae";
const B_MAC_KEY: &str = "a5ebac0bc48d9cf7ae5ce39cd840ac6c761aec04078fab954d634f923e901c64";
const B_CIPHERTEXT: &str = "46a33fc271";
const B_TAG: &str = "6ac7dae96aa30a4d";
const B_OUTPUT: &str = "039aab8376597021e855679a9778ea0b67396e68c66df32c0f41e9acca2da9b9d146a33fc2716ac7dae96aa30a4d";

// TS 33.501 C.4.4.2: Profile B, network-specific identifier.
const B_NAI_EPH_PRIV: &str = "90a5898bd29ffa3f261e00e980067c70a2b1b992a21f5b4fef6d4df69fe804ad";
const B_NAI_EPH_PUB: &str = "03759bb22c563d9f4a6b3c1419e543fc2f39d6823f02a9d71162b39399218b244b";
const B_NAI_CIPHERTEXT: &str = "be22d8b9f856a52ed381cd7eaf4cf2d525";
const B_NAI_TAG: &str = "3cddc61a0a7882eb";

#[test]
fn c_4_2_null_scheme() {
    // C.4.2.1: scheme output = scheme input = BCD MSIN.
    let input = scheme_input_from_msin("001002086").unwrap();
    assert_eq!(hex::encode(&input), "00012080f6");
    let out = conceal(ProtectionScheme::Null, &[], &[0; 32], &input).unwrap();
    assert_eq!(out, input);
    let back = deconceal(ProtectionScheme::Null, None, &out).unwrap();
    assert_eq!(msin_from_scheme_input(&back).unwrap(), "001002086");
}

#[test]
fn c_4_3_1_profile_a_intermediate_values() {
    let k = HomeNetworkKey::profile_a(&h(A_HN_PRIV)).unwrap();
    assert_eq!(hex::encode(k.public_key()), A_HN_PUB);
    let eph = x25519_dalek::StaticSecret::from(h32(A_EPH_PRIV));
    assert_eq!(hex::encode(x25519_dalek::PublicKey::from(&eph).as_bytes()), A_EPH_PUB);
    let shared = eph.diffie_hellman(&x25519_dalek::PublicKey::from(h32(A_HN_PUB)));
    assert_eq!(hex::encode(shared.as_bytes()), A_SHARED);
    let keys = derive(shared.as_bytes(), &h(A_EPH_PUB));
    assert_eq!(hex::encode(keys.enc), A_ENC_KEY);
    assert_eq!(hex::encode(keys.icb), A_ICB);
    assert_eq!(hex::encode(keys.mac), A_MAC_KEY);
}

#[test]
fn c_4_3_1_profile_a_conceal() {
    let out = conceal(
        ProtectionScheme::ProfileA,
        &h(A_HN_PUB),
        &h32(A_EPH_PRIV),
        &h(A_PLAINTEXT),
    )
    .unwrap();
    assert_eq!(hex::encode(&out), A_OUTPUT);
    assert_eq!(hex::encode(&out[32..37]), A_CIPHERTEXT);
    assert_eq!(hex::encode(&out[37..]), A_TAG);
}

#[test]
fn c_4_3_1_profile_a_deconceal() {
    let k = HomeNetworkKey::profile_a(&h(A_HN_PRIV)).unwrap();
    let pt = k.deconceal(&h(A_OUTPUT)).unwrap();
    assert_eq!(hex::encode(&pt), A_PLAINTEXT);
    assert_eq!(msin_from_scheme_input(&pt).unwrap(), "001002086");
    let via = deconceal(ProtectionScheme::ProfileA, Some(&k), &h(A_OUTPUT)).unwrap();
    assert_eq!(via, pt);
}

#[test]
fn c_4_3_2_profile_a_nai() {
    let out = conceal(
        ProtectionScheme::ProfileA,
        &h(A_HN_PUB),
        &h32(A_NAI_EPH_PRIV),
        &h(A_NAI_PLAINTEXT),
    )
    .unwrap();
    let want = format!("{A_NAI_EPH_PUB}{A_NAI_CIPHERTEXT}{A_NAI_TAG}");
    assert_eq!(hex::encode(&out), want);
    let k = HomeNetworkKey::profile_a(&h(A_HN_PRIV)).unwrap();
    assert_eq!(k.deconceal(&out).unwrap(), b"verylongusername1");
}

#[test]
fn c_4_4_1_profile_b_intermediate_values() {
    let k = HomeNetworkKey::profile_b(&h(B_HN_PRIV)).unwrap();
    assert_eq!(hex::encode(k.public_key()), B_HN_PUB_COMPRESSED);
    let eph = p256::SecretKey::from_slice(&h(B_EPH_PRIV)).unwrap();
    assert_eq!(
        hex::encode(eph.public_key().to_encoded_point(true).as_bytes()),
        B_EPH_PUB_COMPRESSED
    );
    assert_eq!(
        hex::encode(eph.public_key().to_encoded_point(false).as_bytes()),
        B_EPH_PUB_UNCOMPRESSED
    );
    let hn = p256::PublicKey::from_sec1_bytes(&h(B_HN_PUB_UNCOMPRESSED)).unwrap();
    let shared = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), hn.as_affine());
    assert_eq!(hex::encode(shared.raw_secret_bytes()), B_SHARED);
    let keys = derive(shared.raw_secret_bytes().as_slice(), &h(B_EPH_PUB_COMPRESSED));
    assert_eq!(hex::encode(keys.enc), B_ENC_KEY);
    assert_eq!(hex::encode(keys.icb), B_ICB);
    assert_eq!(hex::encode(keys.mac), B_MAC_KEY);
}

#[test]
fn c_4_4_1_profile_b_conceal() {
    // Either encoding of the home network key gives the same output.
    for hn in [B_HN_PUB_UNCOMPRESSED, B_HN_PUB_COMPRESSED] {
        let out = conceal(ProtectionScheme::ProfileB, &h(hn), &h32(B_EPH_PRIV), &h(A_PLAINTEXT)).unwrap();
        assert_eq!(hex::encode(&out), B_OUTPUT);
        assert_eq!(hex::encode(&out[33..38]), B_CIPHERTEXT);
        assert_eq!(hex::encode(&out[38..]), B_TAG);
    }
}

#[test]
fn c_4_4_1_profile_b_deconceal() {
    let k = HomeNetworkKey::profile_b(&h(B_HN_PRIV)).unwrap();
    let pt = k.deconceal(&h(B_OUTPUT)).unwrap();
    assert_eq!(msin_from_scheme_input(&pt).unwrap(), "001002086");
}

#[test]
fn c_4_4_2_profile_b_nai() {
    let out = conceal(
        ProtectionScheme::ProfileB,
        &h(B_HN_PUB_COMPRESSED),
        &h32(B_NAI_EPH_PRIV),
        b"verylongusername1",
    )
    .unwrap();
    let want = format!("{B_NAI_EPH_PUB}{B_NAI_CIPHERTEXT}{B_NAI_TAG}");
    assert_eq!(hex::encode(&out), want);
    let k = HomeNetworkKey::profile_b(&h(B_HN_PRIV)).unwrap();
    assert_eq!(k.deconceal(&out).unwrap(), b"verylongusername1");
}

#[test]
fn profile_b_accepts_uncompressed_ephemeral_key() {
    // Same ciphertext and tag: SharedInfo1 is the key as sent, so the
    // receiver must use the encoding it received.
    let k = HomeNetworkKey::profile_b(&h(B_HN_PRIV)).unwrap();
    let eph = h(B_EPH_PUB_UNCOMPRESSED);
    let shared = {
        let sk = p256::SecretKey::from_slice(&h(B_EPH_PRIV)).unwrap();
        let hn = p256::PublicKey::from_sec1_bytes(&h(B_HN_PUB_COMPRESSED)).unwrap();
        p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), hn.as_affine())
    };
    let sealed = seal(shared.raw_secret_bytes().as_slice(), &eph, &h(A_PLAINTEXT));
    assert_eq!(k.deconceal(&sealed).unwrap(), h(A_PLAINTEXT));
}

#[test]
fn tampered_outputs_are_rejected() {
    let ka = HomeNetworkKey::profile_a(&h(A_HN_PRIV)).unwrap();
    let kb = HomeNetworkKey::profile_b(&h(B_HN_PRIV)).unwrap();
    for (k, good) in [(&ka, h(A_OUTPUT)), (&kb, h(B_OUTPUT))] {
        // Flip a bit in each region: key, ciphertext, tag.
        for idx in [1, good.len() - 10, good.len() - 1] {
            let mut bad = good.clone();
            bad[idx] ^= 0x01;
            assert!(k.deconceal(&bad).is_err(), "index {idx}");
        }
        // Truncations never panic.
        for n in 0..good.len() {
            let _ = k.deconceal(&good[..n]);
        }
    }
    // Wrong profile's key.
    assert!(ka.deconceal(&h(B_OUTPUT)).is_err());
    assert!(kb.deconceal(&h(A_OUTPUT)).is_err());
    assert_eq!(
        kb.deconceal(&[0x05; 50]),
        Err(Error::BadSchemeOutput("Profile B point prefix"))
    );
    let mut bad_tag = h(A_OUTPUT);
    let last = bad_tag.len() - 1;
    bad_tag[last] ^= 0x80;
    assert_eq!(ka.deconceal(&bad_tag), Err(Error::MacFailure));
    // Low-order X25519 point: all-zero shared secret.
    let mut zero_point = vec![0u8; 32];
    zero_point.extend_from_slice(&[0u8; 9]);
    assert_eq!(ka.deconceal(&zero_point), Err(Error::WeakSharedSecret));
}

#[test]
fn scheme_dispatch_and_ids() {
    let ka = HomeNetworkKey::profile_a(&h(A_HN_PRIV)).unwrap();
    assert!(deconceal(ProtectionScheme::ProfileB, Some(&ka), &h(B_OUTPUT)).is_err());
    assert!(deconceal(ProtectionScheme::ProfileA, None, &h(A_OUTPUT)).is_err());
    assert!(deconceal(ProtectionScheme::Unknown(7), Some(&ka), &h(A_OUTPUT)).is_err());
    assert!(conceal(ProtectionScheme::Unknown(0xc), &[], &[1; 32], b"x").is_err());
    for id in 0..16 {
        assert_eq!(ProtectionScheme::from_id(id).id(), id);
    }
    assert_eq!(ProtectionScheme::from_id(1), ProtectionScheme::ProfileA);
}

#[test]
fn key_and_input_validation() {
    assert!(HomeNetworkKey::profile_a(&[0; 31]).is_err());
    assert!(HomeNetworkKey::profile_b(&[0; 32]).is_err()); // scalar 0
    assert!(HomeNetworkKey::profile_b(&[0xff; 32]).is_err()); // ≥ n
    assert!(conceal(ProtectionScheme::ProfileA, &[0; 33], &[1; 32], b"x").is_err());
    let mut off_curve = vec![0x02u8];
    off_curve.extend_from_slice(&[0xff; 32]); // x ≥ p
    assert!(conceal(ProtectionScheme::ProfileB, &off_curve, &[1; 32], b"x").is_err());
    assert!(conceal(ProtectionScheme::ProfileB, &h(B_HN_PUB_COMPRESSED), &[0; 32], b"x").is_err());
    assert!(scheme_input_from_msin("").is_err());
    assert!(scheme_input_from_msin("12a4").is_err());
    assert_eq!(hex::encode(scheme_input_from_msin("0123456789").unwrap()), "1032547698");
    assert_eq!(msin_from_scheme_input(&h("1032547698")).unwrap(), "0123456789");
    assert!(msin_from_scheme_input(&[]).is_err());
    // Filler only as the last (high) nibble.
    assert_eq!(msin_from_scheme_input(&h("f1")).unwrap(), "1");
    assert!(msin_from_scheme_input(&h("1f")).is_err());
    assert!(msin_from_scheme_input(&h("f100")).is_err());
    assert!(msin_from_scheme_input(&h("a0")).is_err());
}

/// De-concealment sees bytes from the network: random inputs of every
/// length must give an error, never a panic (deterministic xorshift PRNG).
#[test]
fn random_scheme_outputs_never_panic() {
    let ka = HomeNetworkKey::profile_a(&h(A_HN_PRIV)).unwrap();
    let kb = HomeNetworkKey::profile_b(&h(B_HN_PRIV)).unwrap();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..2000 {
        let len = (next() % 80) as usize;
        let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 3 == 0 && !buf.is_empty() {
            buf[0] = [0x02, 0x03, 0x04][(next() % 3) as usize];
        }
        assert!(ka.deconceal(&buf).is_err());
        assert!(kb.deconceal(&buf).is_err());
        let _ = msin_from_scheme_input(&buf);
    }
}
