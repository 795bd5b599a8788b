//! Identities: PLMN identity, 5GS mobile identity (TS 24.501 §9.11.3.4) in all its
//! forms, and the 5GS tracking area identity (§9.11.3.8).

use crate::codec::{FixedLen, IeValue, code_enum, tbcd_decode, tbcd_encode};
use crate::error::Error;

/// A PLMN identity as three octets (TS 24.008 §10.5.1.3 layout: MCC digit 2 | MCC
/// digit 1, MNC digit 3 | MCC digit 3, MNC digit 2 | MNC digit 1), kept as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Plmn(pub [u8; 3]);

impl Plmn {
    /// From MCC and MNC digit strings (MNC of two or three digits).
    pub fn new(mcc: &str, mnc: &str) -> Plmn {
        let d = |s: &str, i: usize| {
            s.as_bytes()
                .get(i)
                .filter(|c| c.is_ascii_digit())
                .map(|c| c - b'0')
                .unwrap_or(0)
        };
        let mnc3 = if mnc.len() == 3 { d(mnc, 2) } else { 0x0F };
        Plmn([
            d(mcc, 0) | (d(mcc, 1) << 4),
            d(mcc, 2) | (mnc3 << 4),
            d(mnc, 0) | (d(mnc, 1) << 4),
        ])
    }

    /// The mobile country code, three digits.
    pub fn mcc(&self) -> String {
        digits(&[self.0[0] & 0x0F, self.0[0] >> 4, self.0[1] & 0x0F])
    }

    /// The mobile network code, two or three digits.
    pub fn mnc(&self) -> String {
        let mut d = vec![self.0[2] & 0x0F, self.0[2] >> 4];
        if self.0[1] >> 4 != 0x0F {
            d.push(self.0[1] >> 4);
        }
        digits(&d)
    }
}

fn digits(d: &[u8]) -> String {
    d.iter()
        .map(|&n| char::from_digit(u32::from(n), 16).unwrap_or('?'))
        .collect()
}

impl IeValue for Plmn {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        <[u8; 3]>::try_from(value)
            .map(Plmn)
            .map_err(|_| Error::BadLength { ie: "PLMN identity" })
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl FixedLen for Plmn {
    const LEN: usize = 3;
}

impl std::fmt::Display for Plmn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.mcc(), self.mnc())
    }
}

/// 5GS tracking area identity (TS 24.501 §9.11.3.8): PLMN and a 3-octet TAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tai {
    /// The PLMN.
    pub plmn: Plmn,
    /// Tracking area code (24 bits).
    pub tac: u32,
}

impl IeValue for Tai {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        match value {
            [a, b, c, t0, t1, t2] => Ok(Tai {
                plmn: Plmn([*a, *b, *c]),
                tac: u32::from_be_bytes([0, *t0, *t1, *t2]),
            }),
            _ => Err(Error::BadLength {
                ie: "5GS tracking area identity",
            }),
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.plmn.0);
        out.extend_from_slice(&self.tac.to_be_bytes()[1..]);
    }
}

impl FixedLen for Tai {
    const LEN: usize = 6;
}

code_enum! {
    /// SUCI protection scheme identifier (TS 24.501 §9.11.3.4, TS 33.501 Annex C).
    pub enum ProtectionScheme: u8 {
        /// Null scheme: the scheme output is the MSIN in clear.
        Null = 0,
        /// ECIES Profile A (X25519).
        ProfileA = 1,
        /// ECIES Profile B (secp256r1).
        ProfileB = 2,
    }
}

/// The scheme output of a SUCI (TS 33.501 §6.12.2, Annex C.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeOutput {
    /// Null scheme: the MSIN digits.
    Msin(String),
    /// ECIES Profile A: X25519 ephemeral public key (32 octets), ciphertext, MAC tag (8 octets).
    ProfileA {
        /// The UE's ephemeral public key.
        ephemeral_public_key: [u8; 32],
        /// The encrypted MSIN.
        ciphertext: Vec<u8>,
        /// The MAC tag.
        mac_tag: [u8; 8],
    },
    /// ECIES Profile B: compressed secp256r1 point (33 octets), ciphertext, MAC tag.
    ProfileB {
        /// The UE's ephemeral public key, compressed.
        ephemeral_public_key: [u8; 33],
        /// The encrypted MSIN.
        ciphertext: Vec<u8>,
        /// The MAC tag.
        mac_tag: [u8; 8],
    },
    /// Any other scheme (or a scheme output that does not fit its scheme), as octets.
    Other(Vec<u8>),
}

impl SchemeOutput {
    fn decode(scheme: ProtectionScheme, b: &[u8]) -> SchemeOutput {
        let ecies = |klen: usize| {
            let n = b.len().checked_sub(klen + 8)?;
            let key = b.get(..klen)?;
            let ct = b.get(klen..klen + n)?;
            let mac = b.get(klen + n..)?;
            Some((key, ct.to_vec(), <[u8; 8]>::try_from(mac).ok()?))
        };
        match scheme {
            ProtectionScheme::Null => match tbcd_decode(b) {
                Some(m) if !m.is_empty() => SchemeOutput::Msin(m),
                _ => SchemeOutput::Other(b.to_vec()),
            },
            ProtectionScheme::ProfileA => match ecies(32) {
                Some((k, ciphertext, mac_tag)) => match <[u8; 32]>::try_from(k) {
                    Ok(ephemeral_public_key) => SchemeOutput::ProfileA {
                        ephemeral_public_key,
                        ciphertext,
                        mac_tag,
                    },
                    Err(_) => SchemeOutput::Other(b.to_vec()),
                },
                None => SchemeOutput::Other(b.to_vec()),
            },
            ProtectionScheme::ProfileB => match ecies(33) {
                Some((k, ciphertext, mac_tag)) => match <[u8; 33]>::try_from(k) {
                    Ok(ephemeral_public_key) => SchemeOutput::ProfileB {
                        ephemeral_public_key,
                        ciphertext,
                        mac_tag,
                    },
                    Err(_) => SchemeOutput::Other(b.to_vec()),
                },
                None => SchemeOutput::Other(b.to_vec()),
            },
            ProtectionScheme::Unknown(_) => SchemeOutput::Other(b.to_vec()),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            SchemeOutput::Msin(m) => tbcd_encode(m, out),
            SchemeOutput::ProfileA {
                ephemeral_public_key,
                ciphertext,
                mac_tag,
            } => {
                out.extend_from_slice(ephemeral_public_key);
                out.extend_from_slice(ciphertext);
                out.extend_from_slice(mac_tag);
            }
            SchemeOutput::ProfileB {
                ephemeral_public_key,
                ciphertext,
                mac_tag,
            } => {
                out.extend_from_slice(ephemeral_public_key);
                out.extend_from_slice(ciphertext);
                out.extend_from_slice(mac_tag);
            }
            SchemeOutput::Other(b) => out.extend_from_slice(b),
        }
    }
}

/// SUCI with SUPI format IMSI (TS 24.501 Figure 9.11.3.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuciImsi {
    /// Home network PLMN (MCC, MNC).
    pub plmn: Plmn,
    /// Routing indicator: 1 to 4 digits (unused digits are sent as F).
    pub routing_indicator: String,
    /// Protection scheme identifier.
    pub protection_scheme: ProtectionScheme,
    /// Home network public key identifier (0 with the null scheme).
    pub home_network_public_key_id: u8,
    /// The scheme output.
    pub scheme_output: SchemeOutput,
}

impl SuciImsi {
    /// With the null scheme, the IMSI in clear (MCC, MNC, MSIN digits).
    pub fn imsi(&self) -> Option<String> {
        match (&self.protection_scheme, &self.scheme_output) {
            (ProtectionScheme::Null, SchemeOutput::Msin(msin)) => {
                Some(format!("{}{}{}", self.plmn.mcc(), self.plmn.mnc(), msin))
            }
            _ => None,
        }
    }

    /// The SUCI as the SBI carries it (TS 29.503 §6.1.6.2.2, TS 23.003 §28.7.3):
    /// `suci-0-<MCC>-<MNC>-<routing indicator>-<scheme>-<key id>-<scheme output>`,
    /// the scheme output as digits for the null scheme and lower-case hex otherwise.
    pub fn to_sbi_string(&self) -> String {
        let output = match &self.scheme_output {
            SchemeOutput::Msin(m) => m.clone(),
            other => {
                let mut b = Vec::new();
                other.encode(&mut b);
                b.iter().map(|x| format!("{x:02x}")).collect()
            }
        };
        format!(
            "suci-0-{}-{}-{}-{}-{}-{}",
            self.plmn.mcc(),
            self.plmn.mnc(),
            self.routing_indicator,
            self.protection_scheme.value(),
            self.home_network_public_key_id,
            output
        )
    }
}

/// A SUCI (TS 23.003 §2.2B).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suci {
    /// SUPI format IMSI.
    Imsi(SuciImsi),
    /// SUPI format network specific identifier: the NAI octets.
    Nai(Vec<u8>),
}

/// 5G-GUTI (TS 23.003 §2.10.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guti {
    /// PLMN of the AMF.
    pub plmn: Plmn,
    /// AMF region ID.
    pub amf_region_id: u8,
    /// AMF set ID (10 bits).
    pub amf_set_id: u16,
    /// AMF pointer (6 bits).
    pub amf_pointer: u8,
    /// 5G-TMSI.
    pub tmsi: u32,
}

/// 5G-S-TMSI (TS 23.003 §2.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct STmsi {
    /// AMF set ID (10 bits).
    pub amf_set_id: u16,
    /// AMF pointer (6 bits).
    pub amf_pointer: u8,
    /// 5G-TMSI.
    pub tmsi: u32,
}

impl Guti {
    /// The 5G-S-TMSI part.
    pub fn s_tmsi(&self) -> STmsi {
        STmsi {
            amf_set_id: self.amf_set_id,
            amf_pointer: self.amf_pointer,
            tmsi: self.tmsi,
        }
    }
}

/// 5GS mobile identity (TS 24.501 §9.11.3.4).
///
/// Decoding yields a typed variant only when re-encoding it gives back the same
/// octets (spare bits as the spec sets them); otherwise the octets are kept in
/// [`MobileIdentity::Other`], so a message always re-encodes byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MobileIdentity {
    /// No identity (type 000).
    NoIdentity,
    /// SUCI (type 001).
    Suci(Suci),
    /// 5G-GUTI (type 010).
    Guti(Guti),
    /// IMEI, 15 digits (type 011).
    Imei(String),
    /// 5G-S-TMSI (type 100).
    STmsi(STmsi),
    /// IMEISV, 16 digits (type 101).
    Imeisv(String),
    /// MAC address (type 110); `mauri` is the "MAC address usage restriction indication".
    MacAddress {
        /// The 48-bit MAC address.
        address: [u8; 6],
        /// Usage restriction indication (octet 4 bit 4).
        mauri: bool,
    },
    /// EUI-64 (type 111).
    Eui64([u8; 8]),
    /// Octets that are not a canonical encoding of any of the above.
    Other(Vec<u8>),
}

impl MobileIdentity {
    fn decode_typed(b: &[u8]) -> Option<MobileIdentity> {
        let first = *b.first()?;
        let rest = b.get(1..)?;
        Some(match first & 0x07 {
            0 => MobileIdentity::NoIdentity,
            1 => {
                let supi_format = (first >> 4) & 0x07;
                match supi_format {
                    0 => {
                        let plmn = Plmn(<[u8; 3]>::try_from(rest.get(..3)?).ok()?);
                        let ri = rest.get(3..5)?;
                        let mut routing_indicator = String::new();
                        let mut ended = false;
                        for n in [ri[0] & 0x0F, ri[0] >> 4, ri[1] & 0x0F, ri[1] >> 4] {
                            match n {
                                0..=9 if !ended => routing_indicator.push(char::from(b'0' + n)),
                                0x0F => ended = true,
                                _ => return None,
                            }
                        }
                        if routing_indicator.is_empty() {
                            return None;
                        }
                        let ps = *rest.get(5)?;
                        let protection_scheme = ProtectionScheme::from(ps & 0x0F);
                        let home_network_public_key_id = *rest.get(6)?;
                        let scheme_output = SchemeOutput::decode(protection_scheme, rest.get(7..)?);
                        MobileIdentity::Suci(Suci::Imsi(SuciImsi {
                            plmn,
                            routing_indicator,
                            protection_scheme,
                            home_network_public_key_id,
                            scheme_output,
                        }))
                    }
                    1 => MobileIdentity::Suci(Suci::Nai(rest.to_vec())),
                    _ => return None,
                }
            }
            2 => match rest {
                [p0, p1, p2, region, s0, s1, t0, t1, t2, t3] => MobileIdentity::Guti(Guti {
                    plmn: Plmn([*p0, *p1, *p2]),
                    amf_region_id: *region,
                    amf_set_id: (u16::from(*s0) << 2) | u16::from(*s1 >> 6),
                    amf_pointer: s1 & 0x3F,
                    tmsi: u32::from_be_bytes([*t0, *t1, *t2, *t3]),
                }),
                _ => return None,
            },
            3 | 5 => {
                let mut digits = String::new();
                digits.push(char::from_digit(u32::from(first >> 4), 10)?);
                digits.push_str(&tbcd_decode(rest)?);
                if first & 0x07 == 3 {
                    MobileIdentity::Imei(digits)
                } else {
                    MobileIdentity::Imeisv(digits)
                }
            }
            4 => match rest {
                [s0, s1, t0, t1, t2, t3] => MobileIdentity::STmsi(STmsi {
                    amf_set_id: (u16::from(*s0) << 2) | u16::from(*s1 >> 6),
                    amf_pointer: s1 & 0x3F,
                    tmsi: u32::from_be_bytes([*t0, *t1, *t2, *t3]),
                }),
                _ => return None,
            },
            6 => MobileIdentity::MacAddress {
                address: <[u8; 6]>::try_from(rest).ok()?,
                mauri: first & 0x08 != 0,
            },
            _ => MobileIdentity::Eui64(<[u8; 8]>::try_from(rest).ok()?),
        })
    }
}

impl MobileIdentity {
    /// The 5G-GUTI, also when the identity's spare bits were not as the spec sets
    /// them (then the identity is kept as [`MobileIdentity::Other`]).
    pub fn guti(&self) -> Option<Guti> {
        match self {
            MobileIdentity::Guti(g) => Some(*g),
            MobileIdentity::Other(b) => match MobileIdentity::decode_typed(b) {
                Some(MobileIdentity::Guti(g)) => Some(g),
                _ => None,
            },
            _ => None,
        }
    }

    /// The 5G-S-TMSI, from a 5G-S-TMSI or a 5G-GUTI identity (spare bits ignored).
    pub fn s_tmsi(&self) -> Option<STmsi> {
        match self {
            MobileIdentity::STmsi(s) => Some(*s),
            MobileIdentity::Other(b) => match MobileIdentity::decode_typed(b) {
                Some(MobileIdentity::STmsi(s)) => Some(s),
                Some(MobileIdentity::Guti(g)) => Some(g.s_tmsi()),
                _ => None,
            },
            other => other.guti().map(|g| g.s_tmsi()),
        }
    }

    /// The type of identity (octet 4 bits 1–3).
    pub fn identity_type(&self) -> crate::ie::IdentityType {
        let b = self.to_bytes();
        crate::ie::IdentityType::from(b.first().copied().unwrap_or(0) & 0x07)
    }
}

impl IeValue for MobileIdentity {
    fn decode(value: &[u8]) -> Result<Self, Error> {
        if value.is_empty() {
            return Err(Error::BadLength {
                ie: "5GS mobile identity",
            });
        }
        Ok(match MobileIdentity::decode_typed(value) {
            Some(id) if id.to_bytes() == value => id,
            _ => MobileIdentity::Other(value.to_vec()),
        })
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            MobileIdentity::NoIdentity => out.push(0x00),
            MobileIdentity::Suci(Suci::Imsi(s)) => {
                out.push(0x01);
                out.extend_from_slice(&s.plmn.0);
                let d: Vec<u8> = s
                    .routing_indicator
                    .bytes()
                    .take(4)
                    .map(|c| c.wrapping_sub(b'0') & 0x0F)
                    .chain(std::iter::repeat(0x0F))
                    .take(4)
                    .collect();
                out.push(d[0] | (d[1] << 4));
                out.push(d[2] | (d[3] << 4));
                out.push(s.protection_scheme.value() & 0x0F);
                out.push(s.home_network_public_key_id);
                s.scheme_output.encode(out);
            }
            MobileIdentity::Suci(Suci::Nai(nai)) => {
                out.push(0x11);
                out.extend_from_slice(nai);
            }
            MobileIdentity::Guti(g) => {
                out.push(0xF2);
                out.extend_from_slice(&g.plmn.0);
                out.push(g.amf_region_id);
                out.push((g.amf_set_id >> 2) as u8);
                out.push(((g.amf_set_id as u8 & 0x03) << 6) | (g.amf_pointer & 0x3F));
                out.extend_from_slice(&g.tmsi.to_be_bytes());
            }
            MobileIdentity::Imei(d) | MobileIdentity::Imeisv(d) => {
                let ty = if matches!(self, MobileIdentity::Imei(_)) { 3 } else { 5 };
                let first = d.bytes().next().map(|c| c.wrapping_sub(b'0') & 0x0F);
                let odd = if d.len() % 2 == 1 { 0x08 } else { 0 };
                out.push((first.unwrap_or(0) << 4) | odd | ty);
                tbcd_encode(d.get(1..).unwrap_or(""), out);
            }
            MobileIdentity::STmsi(s) => {
                out.push(0xF4);
                out.push((s.amf_set_id >> 2) as u8);
                out.push(((s.amf_set_id as u8 & 0x03) << 6) | (s.amf_pointer & 0x3F));
                out.extend_from_slice(&s.tmsi.to_be_bytes());
            }
            MobileIdentity::MacAddress { address, mauri } => {
                out.push(if *mauri { 0x0E } else { 0x06 });
                out.extend_from_slice(address);
            }
            MobileIdentity::Eui64(e) => {
                out.push(0x07);
                out.extend_from_slice(e);
            }
            MobileIdentity::Other(b) => out.extend_from_slice(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plmn_digits() {
        // TS 24.008 Figure 10.5.13: MCC 001 MNC 01 → 00 F1 10
        let p = Plmn::new("001", "01");
        assert_eq!(p.0, [0x00, 0xF1, 0x10]);
        assert_eq!((p.mcc().as_str(), p.mnc().as_str()), ("001", "01"));
        let p = Plmn::new("310", "410");
        assert_eq!(p.0, [0x13, 0x00, 0x14]);
        assert_eq!(p.mnc(), "410");
    }

    #[test]
    fn imei_and_no_identity() {
        // TS 24.501 Figure 9.11.3.4.2 layout: digit 1 in bits 5-8, odd (bit 4),
        // type 011; IMEI 490154203237518 (the TS 23.003 §6.2.1 example digits)
        let b = [0x4b, 0x09, 0x51, 0x24, 0x30, 0x32, 0x57, 0x81];
        let id = MobileIdentity::decode(&b).unwrap();
        assert_eq!(id, MobileIdentity::Imei("490154203237518".into()));
        assert_eq!(id.to_bytes(), b);
        assert_eq!(id.identity_type(), crate::ie::IdentityType::Imei);
        assert_eq!(MobileIdentity::decode(&[0x00]).unwrap(), MobileIdentity::NoIdentity);
        assert_eq!(MobileIdentity::NoIdentity.to_bytes(), [0x00]);
        // MAC address with MAURI
        let m = [0x0e, 1, 2, 3, 4, 5, 6];
        assert_eq!(
            MobileIdentity::decode(&m).unwrap(),
            MobileIdentity::MacAddress {
                address: [1, 2, 3, 4, 5, 6],
                mauri: true
            }
        );
        assert!(MobileIdentity::decode(&[]).is_err());
        // 5G-S-TMSI: set 1, pointer 0, TMSI C0000353
        let s = MobileIdentity::STmsi(STmsi {
            amf_set_id: 1,
            amf_pointer: 0,
            tmsi: 0xc000_0353,
        });
        assert_eq!(s.to_bytes(), [0xf4, 0x00, 0x40, 0xc0, 0x00, 0x03, 0x53]);
    }

    #[test]
    fn non_canonical_identity_is_kept_raw() {
        // a 5G-S-TMSI whose spare high nibble is not 1111
        let b = [0x04, 0x01, 0x41, 0, 0, 0, 1];
        let id = MobileIdentity::decode(&b).unwrap();
        assert_eq!(id, MobileIdentity::Other(b.to_vec()));
        assert_eq!(id.to_bytes(), b);
    }
}
