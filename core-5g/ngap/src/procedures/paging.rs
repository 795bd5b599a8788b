//! Paging (TS 38.413 §8.5.1).

use oxirush_ngap::ngap::{self as c, ProtocolIEContainer};
use oxirush_ngap::{build_ngap_ie, extract_ngap_ies};

pub use oxirush_ngap::ngap::PagingDRX;

use super::{finish, message};
use crate::ids::{FiveGSTmsi, Tai};
use crate::{Error, NgapPdu};

/// PAGING (TS 38.413 §9.2.4.1), AMF to gNB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paging {
    /// UE Paging Identity (5G-S-TMSI).
    pub ue_paging_identity: FiveGSTmsi,
    /// Paging DRX.
    pub paging_drx: Option<PagingDRX>,
    /// TAI List for Paging.
    pub tais: Vec<Tai>,
}

impl Paging {
    /// The PDU of this message.
    pub fn build(&self) -> Result<NgapPdu, Error> {
        let mut ies = vec![build_ngap_ie!(
            Paging,
            UEPagingIdentity(c::UEPagingIdentity::fiveG_S_TMSI(self.ue_paging_identity.to_codec()?))
        )?];
        if let Some(drx) = self.paging_drx {
            ies.push(build_ngap_ie!(Paging, PagingDRX(drx))?);
        }
        let tais = self
            .tais
            .iter()
            .map(|tai| c::TAIListForPagingItem::new(tai.to_codec(), None))
            .collect();
        ies.push(build_ngap_ie!(Paging, TAIListForPaging(c::TAIListForPaging(tais)))?);
        finish(&c::Paging::new(ProtocolIEContainer(ies)))
    }

    /// The message a PDU holds.
    pub fn parse(pdu: &NgapPdu) -> Result<Self, Error> {
        let m: c::Paging = message(pdu)?;
        extract_ngap_ies!(m, Paging,
            req identity: c::UEPagingIdentity = UEPagingIdentity(v) => v,
            opt drx: PagingDRX = PagingDRX(v) => v,
            req list: c::TAIListForPaging = TAIListForPaging(v) => v,
        );
        let c::UEPagingIdentity::fiveG_S_TMSI(tmsi) = &identity else {
            return Err(Error::InvalidValue {
                what: "UE Paging Identity (not a 5G-S-TMSI)",
            });
        };
        let mut tais = Vec::with_capacity(list.0.len());
        for item in &list.0 {
            tais.push(Tai::from_codec(&item.tai)?);
        }
        Ok(Self {
            ue_paging_identity: FiveGSTmsi::from_codec(tmsi),
            paging_drx: drx,
            tais,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Plmn, Tac};

    // oxirush-ngap 0.5.0 tests/fixtures/captured.tsv, captured-14: a Paging that the
    // free5GC v4.2.3 AMF sent. UEPagingIdentity (IE 115) value `1f c0 00 00 00 00 01`:
    // CHOICE bit 0 (5G-S-TMSI), extension and option bits 00, AMF Set ID 1111111000
    // (1016, the set of free5GC's GUAMI `ca fe 00`), AMF Pointer 000000, padding,
    // 5G-TMSI 00000001. TAI List for Paging: one TAI, 208-93 / TAC 000001.
    static PAGING: &str = "00184019000002007340071fc00000000001006740070002f839000001";

    #[test]
    fn decode_known_bytes() {
        let pdu = NgapPdu::decode(&hex::decode(PAGING).unwrap()).unwrap();
        let paging = Paging::parse(&pdu).unwrap();
        // TS 38.413 §9.3.3.20 inside the CHOICE: choice 0 (1 bit) then the SEQUENCE's
        // ext and option bits, AMF Set ID 10 bits, AMF Pointer 6 bits, aligned 5G-TMSI.
        assert_eq!(
            paging.ue_paging_identity,
            FiveGSTmsi {
                amf_set_id: 1016,
                amf_pointer: 0,
                five_g_tmsi: 1
            }
        );
        assert_eq!(paging.paging_drx, None);
        assert_eq!(
            paging.tais,
            vec![Tai {
                plmn: Plmn::new("208", "93").unwrap(),
                tac: Tac([0, 0, 1]),
            }]
        );
        assert_eq!(hex::encode(paging.build().unwrap().encode().unwrap()), PAGING);
    }

    #[test]
    fn round_trip_with_drx() {
        let paging = Paging {
            ue_paging_identity: FiveGSTmsi {
                amf_set_id: 0x3ff,
                amf_pointer: 0x3f,
                five_g_tmsi: 0xdead_beef,
            },
            paging_drx: Some(PagingDRX::v128),
            tais: vec![Tai {
                plmn: Plmn::new("315", "010").unwrap(),
                tac: Tac::from_u32(0x1234),
            }],
        };
        let bytes = paging.build().unwrap().encode().unwrap();
        let pdu = NgapPdu::decode(&bytes).unwrap();
        pdu.check().unwrap();
        assert_eq!(Paging::parse(&pdu).unwrap(), paging);
    }

    #[test]
    fn broken_input() {
        let mut bytes = hex::decode(PAGING).unwrap();
        bytes.truncate(bytes.len() - 2);
        assert!(NgapPdu::decode(&bytes).is_err());
    }
}
