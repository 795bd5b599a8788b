//! Network slices and tracking areas: S-NSSAI (TS 24.501 §9.11.2.8), NSSAI
//! (§9.11.3.37), rejected NSSAI (§9.11.3.46) and the 5GS tracking area identity
//! list (§9.11.3.9).

use crate::codec::IeValue;
use crate::error::Error;
use crate::ie::identity::{Plmn, Tai};

/// S-NSSAI (TS 24.501 §9.11.2.8). The allowed value lengths are 1 (SST), 2 (SST,
/// mapped HPLMN SST), 4 (SST, SD), 5 (SST, SD, mapped SST) and 8 (all four).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SNssai {
    /// Slice/service type.
    pub sst: u8,
    /// Slice differentiator (24 bits).
    pub sd: Option<u32>,
    /// Mapped HPLMN SST.
    pub mapped_sst: Option<u8>,
    /// Mapped HPLMN SD.
    pub mapped_sd: Option<u32>,
}

impl SNssai {
    /// An S-NSSAI with SST and optional SD.
    pub fn new(sst: u8, sd: Option<u32>) -> Self {
        SNssai {
            sst,
            sd,
            mapped_sst: None,
            mapped_sd: None,
        }
    }
}

fn u24(b: &[u8]) -> u32 {
    b.iter().take(3).fold(0, |a, &x| (a << 8) | u32::from(x))
}

impl IeValue for SNssai {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = Error::BadLength { ie: "S-NSSAI" };
        Ok(match v.len() {
            1 => SNssai::new(v[0], None),
            2 => SNssai {
                sst: v[0],
                sd: None,
                mapped_sst: Some(v[1]),
                mapped_sd: None,
            },
            4 => SNssai::new(v[0], Some(u24(&v[1..4]))),
            5 => SNssai {
                sst: v[0],
                sd: Some(u24(&v[1..4])),
                mapped_sst: Some(v[4]),
                mapped_sd: None,
            },
            8 => SNssai {
                sst: v[0],
                sd: Some(u24(&v[1..4])),
                mapped_sst: Some(v[4]),
                mapped_sd: Some(u24(&v[5..8])),
            },
            _ => return Err(bad),
        })
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.sst);
        if let Some(sd) = self.sd {
            out.extend_from_slice(&sd.to_be_bytes()[1..]);
        }
        if let Some(m) = self.mapped_sst {
            out.push(m);
        }
        if let Some(msd) = self.mapped_sd {
            out.extend_from_slice(&msd.to_be_bytes()[1..]);
        }
    }
}

/// NSSAI (TS 24.501 §9.11.3.37): requested, allowed, configured or pending; a
/// list of S-NSSAI, each with its length octet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Nssai(pub Vec<SNssai>);

impl IeValue for Nssai {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let mut out = Vec::new();
        let mut rest = v;
        while let [n, tail @ ..] = rest {
            let n = usize::from(*n);
            let body = tail.get(..n).ok_or(Error::BadLength { ie: "NSSAI" })?;
            out.push(SNssai::decode(body)?);
            rest = tail.get(n..).unwrap_or(&[]);
        }
        Ok(Nssai(out))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for s in &self.0 {
            let b = s.to_bytes();
            out.push(b.len() as u8);
            out.extend_from_slice(&b);
        }
    }
}

/// One rejected S-NSSAI (TS 24.501 Figure 9.11.3.46.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RejectedSNssai {
    /// Cause: 0 not available in the current PLMN/SNPN, 1 not available in the
    /// current registration area, 2 NSSAA failed or revoked, 3 maximum number of
    /// UEs reached.
    pub cause: u8,
    /// Slice/service type.
    pub sst: u8,
    /// Slice differentiator.
    pub sd: Option<u32>,
}

/// Rejected NSSAI (TS 24.501 §9.11.3.46).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RejectedNssai(pub Vec<RejectedSNssai>);

impl IeValue for RejectedNssai {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = Error::BadLength { ie: "Rejected NSSAI" };
        let mut out = Vec::new();
        let mut rest = v;
        while let [h, tail @ ..] = rest {
            let n = usize::from(h >> 4);
            let body = tail.get(..n).ok_or(bad.clone())?;
            let (sst, sd) = match body {
                [sst] => (*sst, None),
                [sst, a, b, c] => (*sst, Some(u24(&[*a, *b, *c]))),
                _ => return Err(bad),
            };
            out.push(RejectedSNssai {
                cause: h & 0x0F,
                sst,
                sd,
            });
            rest = tail.get(n..).unwrap_or(&[]);
        }
        Ok(RejectedNssai(out))
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for r in &self.0 {
            let n = if r.sd.is_some() { 4 } else { 1 };
            out.push((n << 4) | (r.cause & 0x0F));
            out.push(r.sst);
            if let Some(sd) = r.sd {
                out.extend_from_slice(&sd.to_be_bytes()[1..]);
            }
        }
    }
}

/// One partial tracking area identity list (TS 24.501 §9.11.3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartialTaiList {
    /// Type 00: one PLMN, a list of (non-consecutive) TACs.
    NonConsecutive {
        /// The PLMN of every TAC.
        plmn: Plmn,
        /// TACs (1 to 32 of them; 16 in practice).
        tacs: Vec<u32>,
    },
    /// Type 01: one PLMN, `count` consecutive TACs starting at `first_tac`.
    Consecutive {
        /// The PLMN.
        plmn: Plmn,
        /// The first TAC.
        first_tac: u32,
        /// Number of TACs (1 to 32).
        count: u8,
    },
    /// Type 10: TAIs each with their own PLMN.
    Multiple(Vec<Tai>),
}

/// 5GS tracking area identity list (TS 24.501 §9.11.3.9).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaiList(pub Vec<PartialTaiList>);

impl IeValue for TaiList {
    fn decode(v: &[u8]) -> Result<Self, Error> {
        let bad = Error::InvalidValue {
            ie: "5GS tracking area identity list",
        };
        let mut out = Vec::new();
        let mut rest = v;
        while let [h, tail @ ..] = rest {
            if h & 0x80 != 0 {
                return Err(bad);
            }
            let n = usize::from(h & 0x1F) + 1;
            let (partial, used) = match (h >> 5) & 0x03 {
                0 => {
                    let plmn = Plmn(<[u8; 3]>::try_from(tail.get(..3).ok_or(bad.clone())?).map_err(|_| bad.clone())?);
                    let body = tail.get(3..3 + 3 * n).ok_or(bad.clone())?;
                    let tacs = body.chunks_exact(3).map(u24).collect();
                    (PartialTaiList::NonConsecutive { plmn, tacs }, 3 + 3 * n)
                }
                1 => {
                    let t = tail.get(..6).ok_or(bad.clone())?;
                    (
                        PartialTaiList::Consecutive {
                            plmn: Plmn([t[0], t[1], t[2]]),
                            first_tac: u24(&t[3..6]),
                            count: n as u8,
                        },
                        6,
                    )
                }
                2 => {
                    let body = tail.get(..6 * n).ok_or(bad.clone())?;
                    let tais = body.chunks_exact(6).map(Tai::decode).collect::<Result<Vec<_>, _>>()?;
                    (PartialTaiList::Multiple(tais), 6 * n)
                }
                _ => return Err(bad),
            };
            out.push(partial);
            rest = tail.get(used..).unwrap_or(&[]);
        }
        Ok(TaiList(out))
    }

    fn encode(&self, out: &mut Vec<u8>) {
        for p in &self.0 {
            match p {
                PartialTaiList::NonConsecutive { plmn, tacs } => {
                    out.push((tacs.len().clamp(1, 32) - 1) as u8);
                    out.extend_from_slice(&plmn.0);
                    for t in tacs.iter().take(32) {
                        out.extend_from_slice(&t.to_be_bytes()[1..]);
                    }
                }
                PartialTaiList::Consecutive { plmn, first_tac, count } => {
                    out.push(0x20 | (count.clamp(&1, &32) - 1));
                    out.extend_from_slice(&plmn.0);
                    out.extend_from_slice(&first_tac.to_be_bytes()[1..]);
                }
                PartialTaiList::Multiple(tais) => {
                    out.push(0x40 | (tais.len().clamp(1, 32) - 1) as u8);
                    for t in tais.iter().take(32) {
                        t.encode(out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s_nssai_lengths() {
        for v in [
            &[1u8][..],
            &[1, 2],
            &[1, 0, 0, 1],
            &[1, 0, 0, 1, 2],
            &[1, 0, 0, 1, 2, 0, 0, 2],
        ] {
            let s = SNssai::decode(v).unwrap();
            assert_eq!(s.to_bytes(), v);
        }
        assert!(SNssai::decode(&[1, 2, 3]).is_err());
        assert!(SNssai::decode(&[]).is_err());
    }

    #[test]
    fn tai_list_three_types() {
        // type 00: PLMN 001-01, TACs 1 and 2
        let t00 = [0x01, 0x00, 0xF1, 0x10, 0, 0, 1, 0, 0, 2];
        // type 01: PLMN 001-01, 4 TACs from 0x10
        let t01 = [0x23, 0x00, 0xF1, 0x10, 0, 0, 0x10];
        // type 10: two TAIs
        let t10 = [0x41, 0x00, 0xF1, 0x10, 0, 0, 1, 0x13, 0x00, 0x14, 0, 0, 7];
        let all: Vec<u8> = [&t00[..], &t01, &t10].concat();
        let l = TaiList::decode(&all).unwrap();
        assert_eq!(l.0.len(), 3);
        assert_eq!(
            l.0[0],
            PartialTaiList::NonConsecutive {
                plmn: Plmn::new("001", "01"),
                tacs: vec![1, 2]
            }
        );
        assert!(matches!(
            l.0[1],
            PartialTaiList::Consecutive {
                count: 4,
                first_tac: 0x10,
                ..
            }
        ));
        assert!(matches!(&l.0[2], PartialTaiList::Multiple(v) if v[1].tac == 7));
        assert_eq!(l.to_bytes(), all);
        assert!(TaiList::decode(&t00[..8]).is_err());
        assert!(TaiList::decode(&[0x60, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
