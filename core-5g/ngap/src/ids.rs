//! Typed identities of TS 38.413 §9.3.3 and their codec forms.

use core::fmt;

use oxirush_ngap::aper::Bits;
use oxirush_ngap::ngap as c;

use crate::Error;

/// AMF UE NGAP ID (TS 38.413 §9.3.3.1): INTEGER (0..2^40-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmfUeNgapId(u64);

impl AmfUeNgapId {
    /// The largest value, 2^40 - 1.
    pub const MAX: u64 = (1 << 40) - 1;

    /// The id of a value; `None` beyond 40 bits.
    pub fn new(value: u64) -> Option<Self> {
        (value <= Self::MAX).then_some(Self(value))
    }

    /// The value.
    pub fn value(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for AmfUeNgapId {
    type Error = Error;
    fn try_from(value: u64) -> Result<Self, Error> {
        Self::new(value).ok_or_else(|| Error::InvalidArgument(format!("AMF UE NGAP ID {value} exceeds 40 bits")))
    }
}

impl fmt::Display for AmfUeNgapId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// RAN UE NGAP ID (TS 38.413 §9.3.3.2): INTEGER (0..2^32-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RanUeNgapId(pub u32);

impl fmt::Display for RanUeNgapId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A PLMN identity: MCC and a 2- or 3-digit MNC.
///
/// On the wire (TS 38.413 §9.3.3.5) it is three octets of BCD, bits 4..1 of octet n
/// holding digit 2n-1 and bits 8..5 digit 2n, the digits being MCC1 MCC2 MCC3, then
/// a filler `F` and MNC1 MNC2 for a 2-digit MNC, or MNC1 MNC2 MNC3. For a 3-digit MNC
/// this differs from the NAS order of TS 24.008 Figure 10.5.13: 310-410 is `13 40 01`
/// here and `13 00 14` in NAS.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Plmn {
    mcc: [u8; 3],
    mnc: [u8; 3],
    mnc_digits: u8,
}

impl Plmn {
    /// A PLMN of its decimal digits: `Plmn::new("001", "01")`.
    pub fn new(mcc: &str, mnc: &str) -> Result<Self, Error> {
        let digits =
            |text: &str| -> Option<Vec<u8>> { text.bytes().map(|b| b.is_ascii_digit().then(|| b - b'0')).collect() };
        let bad = || Error::InvalidArgument(format!("PLMN {mcc}-{mnc} is not 3+2 or 3+3 digits"));
        let mcc_d = digits(mcc).filter(|d| d.len() == 3).ok_or_else(bad)?;
        let mnc_d = digits(mnc).filter(|d| d.len() == 2 || d.len() == 3).ok_or_else(bad)?;
        let mut plmn = Self {
            mcc: [0; 3],
            mnc: [0; 3],
            mnc_digits: mnc_d.len() as u8,
        };
        plmn.mcc.copy_from_slice(&mcc_d);
        plmn.mnc[..mnc_d.len()].copy_from_slice(&mnc_d);
        Ok(plmn)
    }

    /// The PLMN of the three octets of TS 38.413 §9.3.3.5.
    pub fn from_octets(octets: [u8; 3]) -> Result<Self, Error> {
        let bad = Error::InvalidValue {
            what: "PLMN identity (not BCD)",
        };
        let d = [
            octets[0] & 0x0f,
            octets[0] >> 4,
            octets[1] & 0x0f,
            octets[1] >> 4,
            octets[2] & 0x0f,
            octets[2] >> 4,
        ];
        if d[0] > 9 || d[1] > 9 || d[2] > 9 || d[4] > 9 || d[5] > 9 {
            return Err(bad);
        }
        match d[3] {
            0x0f => Ok(Self {
                mcc: [d[0], d[1], d[2]],
                mnc: [d[4], d[5], 0],
                mnc_digits: 2,
            }),
            digit if digit <= 9 => Ok(Self {
                mcc: [d[0], d[1], d[2]],
                mnc: [d[3], d[4], d[5]],
                mnc_digits: 3,
            }),
            _ => Err(bad),
        }
    }

    /// The three octets of TS 38.413 §9.3.3.5.
    pub fn octets(&self) -> [u8; 3] {
        let m = self.mcc;
        let n = self.mnc;
        if self.mnc_digits == 2 {
            [m[1] << 4 | m[0], 0xf0 | m[2], n[1] << 4 | n[0]]
        } else {
            [m[1] << 4 | m[0], n[0] << 4 | m[2], n[2] << 4 | n[1]]
        }
    }

    /// The MCC as three decimal digits.
    pub fn mcc(&self) -> String {
        self.mcc.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The MNC as two or three decimal digits.
    pub fn mnc(&self) -> String {
        self.mnc[..usize::from(self.mnc_digits)]
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect()
    }

    pub fn to_codec(self) -> c::PLMNIdentity {
        c::PLMNIdentity(self.octets())
    }

    pub fn from_codec(value: &c::PLMNIdentity) -> Result<Self, Error> {
        Self::from_octets(value.0)
    }
}

impl fmt::Display for Plmn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.mcc(), self.mnc())
    }
}

impl fmt::Debug for Plmn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Plmn({self})")
    }
}

/// Tracking Area Code (TS 38.413 §9.3.3.10): three octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tac(pub [u8; 3]);

impl Tac {
    /// The TAC of a number below 2^24; larger numbers keep their low 24 bits.
    pub fn from_u32(value: u32) -> Self {
        let [_, a, b, c] = value.to_be_bytes();
        Self([a, b, c])
    }

    /// The TAC as a number.
    pub fn value(self) -> u32 {
        u32::from_be_bytes([0, self.0[0], self.0[1], self.0[2]])
    }
}

/// Tracking Area Identity (TS 38.413 §9.3.3.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tai {
    /// The PLMN.
    pub plmn: Plmn,
    /// The TAC.
    pub tac: Tac,
}

impl Tai {
    pub fn to_codec(self) -> c::TAI {
        c::TAI::new(self.plmn.to_codec(), c::TAC(self.tac.0), None)
    }

    pub fn from_codec(value: &c::TAI) -> Result<Self, Error> {
        Ok(Self {
            plmn: Plmn::from_codec(&value.plmn_identity)?,
            tac: Tac(value.tac.0),
        })
    }
}

/// S-NSSAI (TS 38.413 §9.3.1.24): SST and an optional SD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SNssai {
    /// Slice/Service Type.
    pub sst: u8,
    /// Slice Differentiator.
    pub sd: Option<[u8; 3]>,
}

impl SNssai {
    pub fn to_codec(self) -> c::SNSSAI {
        c::SNSSAI::new(c::SST([self.sst]), self.sd.map(c::SD), None)
    }

    pub fn from_codec(value: &c::SNSSAI) -> Self {
        Self {
            sst: value.sst.0[0],
            sd: value.sd.as_ref().map(|sd| sd.0),
        }
    }
}

/// gNB ID (TS 38.413 §9.3.1.6): a BIT STRING of 22 to 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GnbId {
    value: u32,
    bits: u8,
}

impl GnbId {
    /// A gNB ID of `bits` bits (22..=32) holding `value`.
    pub fn new(value: u32, bits: u8) -> Result<Self, Error> {
        if !(22..=32).contains(&bits) || (bits < 32 && value >> bits != 0) {
            return Err(Error::InvalidArgument(format!(
                "gNB ID {value} does not fit in {bits} bits (22..=32)"
            )));
        }
        Ok(Self { value, bits })
    }

    /// The value.
    pub fn value(self) -> u32 {
        self.value
    }

    /// The length in bits.
    pub fn bits(self) -> u8 {
        self.bits
    }

    pub fn to_codec(self) -> c::GNBID {
        c::GNBID::gNB_ID(Bits::low(u64::from(self.value), usize::from(self.bits)))
    }

    pub fn from_codec(value: &c::GNBID) -> Result<Self, Error> {
        let bad = Error::InvalidValue { what: "gNB ID" };
        match value {
            c::GNBID::gNB_ID(bits) => {
                let value = u32::try_from(bits.value()).map_err(|_| bad.clone())?;
                let len = u8::try_from(bits.len()).map_err(|_| bad.clone())?;
                Self::new(value, len).map_err(|_| bad)
            }
            _ => Err(bad),
        }
    }
}

/// Global gNB ID (TS 38.413 §9.3.1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalGnbId {
    /// The PLMN.
    pub plmn: Plmn,
    /// The gNB ID.
    pub gnb_id: GnbId,
}

impl GlobalGnbId {
    pub fn to_codec(self) -> c::GlobalGNBID {
        c::GlobalGNBID::new(self.plmn.to_codec(), self.gnb_id.to_codec(), None)
    }

    pub fn from_codec(value: &c::GlobalGNBID) -> Result<Self, Error> {
        Ok(Self {
            plmn: Plmn::from_codec(&value.plmn_identity)?,
            gnb_id: GnbId::from_codec(&value.gnb_id)?,
        })
    }
}

/// GUAMI (TS 38.413 §9.3.3.3): PLMN, AMF Region ID (8 bits), AMF Set ID (10 bits),
/// AMF Pointer (6 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Guami {
    /// The PLMN.
    pub plmn: Plmn,
    /// AMF Region ID.
    pub amf_region_id: u8,
    /// AMF Set ID, 10 bits.
    pub amf_set_id: u16,
    /// AMF Pointer, 6 bits.
    pub amf_pointer: u8,
}

impl Guami {
    pub fn to_codec(self) -> Result<c::GUAMI, Error> {
        check_bits("AMF Set ID", u64::from(self.amf_set_id), 10)?;
        check_bits("AMF Pointer", u64::from(self.amf_pointer), 6)?;
        Ok(c::GUAMI::new(
            self.plmn.to_codec(),
            c::AMFRegionID(Bits::low(u64::from(self.amf_region_id), 8)),
            c::AMFSetID(Bits::low(u64::from(self.amf_set_id), 10)),
            c::AMFPointer(Bits::low(u64::from(self.amf_pointer), 6)),
            None,
        ))
    }

    pub fn from_codec(value: &c::GUAMI) -> Result<Self, Error> {
        Ok(Self {
            plmn: Plmn::from_codec(&value.plmn_identity)?,
            // The codec holds these bit strings at their fixed sizes (8, 10, 6 bits),
            // so the values fit; the fallback only guards the conversion.
            amf_region_id: u8::try_from(value.amf_region_id.0.value()).unwrap_or(u8::MAX),
            amf_set_id: u16::try_from(value.amf_set_id.0.value()).unwrap_or(u16::MAX),
            amf_pointer: u8::try_from(value.amf_pointer.0.value()).unwrap_or(u8::MAX),
        })
    }
}

/// 5G-S-TMSI (TS 38.413 §9.3.3.20): AMF Set ID, AMF Pointer, 5G-TMSI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveGSTmsi {
    /// AMF Set ID, 10 bits.
    pub amf_set_id: u16,
    /// AMF Pointer, 6 bits.
    pub amf_pointer: u8,
    /// 5G-TMSI.
    pub five_g_tmsi: u32,
}

impl FiveGSTmsi {
    pub fn to_codec(self) -> Result<c::FiveGSTMSI, Error> {
        check_bits("AMF Set ID", u64::from(self.amf_set_id), 10)?;
        check_bits("AMF Pointer", u64::from(self.amf_pointer), 6)?;
        Ok(c::FiveGSTMSI::new(
            c::AMFSetID(Bits::low(u64::from(self.amf_set_id), 10)),
            c::AMFPointer(Bits::low(u64::from(self.amf_pointer), 6)),
            c::FiveGTMSI(self.five_g_tmsi.to_be_bytes()),
            None,
        ))
    }

    pub fn from_codec(value: &c::FiveGSTMSI) -> Self {
        Self {
            amf_set_id: u16::try_from(value.amf_set_id.0.value()).unwrap_or(u16::MAX),
            amf_pointer: u8::try_from(value.amf_pointer.0.value()).unwrap_or(u8::MAX),
            five_g_tmsi: u32::from_be_bytes(value.five_g_tmsi.0),
        }
    }
}

/// NR CGI (TS 38.413 §9.3.1.7): PLMN and the 36-bit NR Cell Identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NrCgi {
    /// The PLMN.
    pub plmn: Plmn,
    /// NR Cell Identity, 36 bits (gNB ID in the leftmost bits, then the cell).
    pub nr_cell_identity: u64,
}

impl NrCgi {
    pub fn to_codec(self) -> Result<c::NRCGI, Error> {
        check_bits("NR Cell Identity", self.nr_cell_identity, 36)?;
        Ok(c::NRCGI::new(
            self.plmn.to_codec(),
            c::NRCellIdentity(Bits::low(self.nr_cell_identity, 36)),
            None,
        ))
    }

    pub fn from_codec(value: &c::NRCGI) -> Result<Self, Error> {
        Ok(Self {
            plmn: Plmn::from_codec(&value.plmn_identity)?,
            nr_cell_identity: value.nr_cell_identity.0.value(),
        })
    }
}

fn check_bits(what: &str, value: u64, bits: u32) -> Result<(), Error> {
    if value >> bits != 0 {
        return Err(Error::InvalidArgument(format!(
            "{what} {value} does not fit in {bits} bits"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // TS 38.413 §9.3.3.5, 2-digit MNC: 208-93 is `02 f8 39` (the PLMN of the free5GC,
    // Open5GS and PacketRusher captures in oxirush-ngap's captured.tsv); 001-01 is
    // `00 f1 10` (srsRAN's NG Setup Request test message, ngap_test_messages.h).
    static PLMN_208_93: [u8; 3] = [0x02, 0xf8, 0x39];
    static PLMN_001_01: [u8; 3] = [0x00, 0xf1, 0x10];
    // 3-digit MNC, T-Mobile US 310-160 as a live network sends it in NGAP/S1AP
    // (pycrate issue #192, Wireshark capture): `13 10 06`.
    static PLMN_310_160: [u8; 3] = [0x13, 0x10, 0x06];

    #[test]
    fn plmn_decode_known_bytes() {
        let p = Plmn::from_octets(PLMN_208_93).unwrap();
        assert_eq!((p.mcc().as_str(), p.mnc().as_str()), ("208", "93"));
        assert_eq!(Plmn::from_octets(PLMN_001_01).unwrap().to_string(), "001-01");
        assert_eq!(Plmn::from_octets(PLMN_310_160).unwrap().to_string(), "310-160");
    }

    #[test]
    fn plmn_encode_known_bytes() {
        assert_eq!(Plmn::new("208", "93").unwrap().octets(), PLMN_208_93);
        assert_eq!(Plmn::new("001", "01").unwrap().octets(), PLMN_001_01);
        assert_eq!(Plmn::new("310", "160").unwrap().octets(), PLMN_310_160);
        // CBRS shared HNI 315-010: digits 3 1 5 0 1 0.
        assert_eq!(Plmn::new("315", "010").unwrap().octets(), [0x13, 0x05, 0x01]);
    }

    #[test]
    fn plmn_agrees_with_the_codec_helper() {
        for (mcc, mnc) in [("208", "93"), ("310", "410"), ("315", "010"), ("001", "01")] {
            let ours = Plmn::new(mcc, mnc).unwrap().octets();
            let theirs = oxirush_ngap::helpers::plmn(mcc, mnc).unwrap().0;
            assert_eq!(ours, theirs, "{mcc}-{mnc}");
        }
    }

    #[test]
    fn plmn_round_trips_and_rejects_non_bcd() {
        for octets in [PLMN_208_93, PLMN_001_01, PLMN_310_160] {
            assert_eq!(Plmn::from_octets(octets).unwrap().octets(), octets);
        }
        assert!(matches!(
            Plmn::from_octets([0xab, 0xcd, 0xef]),
            Err(Error::InvalidValue { .. })
        ));
        assert!(Plmn::from_octets([0x02, 0xf8, 0xf9]).is_err());
        assert!(Plmn::new("20", "93").is_err());
        assert!(Plmn::new("208", "9").is_err());
        assert!(Plmn::new("2a8", "93").is_err());
    }

    #[test]
    fn ranges() {
        assert!(AmfUeNgapId::new(AmfUeNgapId::MAX).is_some());
        assert!(AmfUeNgapId::new(AmfUeNgapId::MAX + 1).is_none());
        assert!(GnbId::new(411, 22).is_ok());
        assert!(GnbId::new(1 << 22, 22).is_err());
        assert!(GnbId::new(1, 21).is_err());
        assert!(GnbId::new(u32::MAX, 32).is_ok());
        assert_eq!(Tac::from_u32(7), Tac([0, 0, 7]));
        assert_eq!(Tac([0, 1, 2]).value(), 0x102);
        let guami = Guami {
            plmn: Plmn::new("208", "93").unwrap(),
            amf_region_id: 1,
            amf_set_id: 1024,
            amf_pointer: 0,
        };
        assert!(guami.to_codec().is_err());
    }
}
