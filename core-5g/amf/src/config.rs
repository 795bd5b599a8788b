//! [`AmfConfig`]: the settings converted once, at start, into the types the state
//! machines use — PLMN in its NGAP and NAS forms, TAIs, slices, GUAMI, algorithm
//! priority lists, timer durations — so that no procedure reads a raw setting.

use std::time::Duration;

use hexcore_nas::ie::{GprsTimer3, PartialTaiList, Plmn as NasPlmn, TaiList};
use hexcore_ngap::{Guami, Plmn, SNssai, Tac};
use hexcore_security::{Nea, Nia};

use crate::settings::{Settings, SettingsError};
use crate::timers::NasTimer;

/// The configuration the state machines read.
#[derive(Debug, Clone)]
pub struct AmfConfig {
    /// The settings as given (for the glue: listeners, metrics).
    pub settings: Settings,
    /// MCC of the served PLMN, as digits.
    pub mcc: String,
    /// MNC of the served PLMN, as digits.
    pub mnc: String,
    /// Served PLMN, in NGAP's form (TS 38.413 §9.3.3.5).
    pub plmn: Plmn,
    /// Served PLMN, in NAS's form (TS 24.008 §10.5.1.13): its 3-digit MNC orders its
    /// digits differently from NGAP's (see ARCHITECTURE.md, "PLMN digits").
    pub nas_plmn: NasPlmn,
    /// Served TACs.
    pub tacs: Vec<Tac>,
    /// Supported slices.
    pub slices: Vec<SNssai>,
    /// Served GUAMI.
    pub guami: Guami,
    /// AMF Name (TS 38.413 §9.3.3.21).
    pub name: String,
    /// Relative AMF Capacity (TS 38.413 §9.3.1.32).
    pub relative_capacity: u8,
    /// Integrity algorithms by priority.
    pub integrity_order: Vec<Nia>,
    /// Ciphering algorithms by priority.
    pub ciphering_order: Vec<Nea>,
    /// The serving network name (TS 24.501 §9.12.1, TS 33.501 §6.1.1.4), e.g.
    /// `5G:mnc070.mcc999.3gppnetwork.org`.
    pub serving_network_name: String,
    /// The TAI list of every Registration accept: all served TACs of the PLMN.
    pub tai_list: TaiList,
    /// T3512 as the Registration accept carries it.
    pub t3512: GprsTimer3,
    /// Retransmissions of a NAS message before its procedure is abandoned.
    pub max_retransmissions: u8,
    /// The network's name for UEs' displays, if configured.
    pub network_name: Option<String>,
    timers: [Duration; NasTimer::COUNT],
}

impl AmfConfig {
    /// Check and convert; errors name the setting.
    pub fn new(settings: Settings) -> Result<Self, SettingsError> {
        settings.validate()?;
        let a = &settings.amf;
        let plmn = Plmn::new(&a.plmn.mcc, &a.plmn.mnc).map_err(|e| SettingsError::Invalid {
            key: "amf.plmn",
            reason: e.to_string(),
        })?;
        let nas_plmn = NasPlmn::new(&a.plmn.mcc, &a.plmn.mnc);
        let mnc = if a.plmn.mnc.len() == 2 {
            format!("0{}", a.plmn.mnc)
        } else {
            a.plmn.mnc.clone()
        };
        let timers = NasTimer::ALL.map(|t| settings.timer(t));
        Ok(Self {
            mcc: a.plmn.mcc.clone(),
            mnc: a.plmn.mnc.clone(),
            plmn,
            nas_plmn,
            tacs: a.tacs.iter().map(|t| Tac::from_u32(*t)).collect(),
            slices: a
                .slices
                .iter()
                .map(|s| SNssai {
                    sst: s.sst,
                    sd: s.sd.map(sd_octets),
                })
                .collect(),
            guami: Guami {
                plmn,
                amf_region_id: a.guami.region,
                amf_set_id: a.guami.set,
                amf_pointer: a.guami.pointer,
            },
            name: a.name.clone(),
            relative_capacity: a.relative_capacity,
            integrity_order: settings.integrity_order()?,
            ciphering_order: settings.ciphering_order()?,
            serving_network_name: format!("5G:mnc{mnc}.mcc{}.3gppnetwork.org", a.plmn.mcc),
            tai_list: TaiList(vec![PartialTaiList::NonConsecutive {
                plmn: nas_plmn,
                tacs: a.tacs.clone(),
            }]),
            t3512: gprs_timer3(settings.nas.t3512_secs),
            max_retransmissions: settings.nas.max_retransmissions,
            network_name: a.network_name.clone(),
            timers,
            settings,
        })
    }

    /// A NAS timer's duration.
    pub fn timer(&self, timer: NasTimer) -> Duration {
        self.timers[timer as usize]
    }
}

/// A 24-bit SD as three octets.
pub(crate) fn sd_octets(sd: u32) -> [u8; 3] {
    let b = sd.to_be_bytes();
    [b[1], b[2], b[3]]
}

/// A duration in GPRS timer 3 (TS 24.008 §10.5.7.4a): the finest unit that holds it
/// exactly, else the smallest representable value above it.
pub(crate) fn gprs_timer3(secs: u64) -> GprsTimer3 {
    // (unit code, seconds per unit), finest first.
    const UNITS: [(u8, u64); 7] = [
        (3, 2),
        (4, 30),
        (5, 60),
        (0, 600),
        (1, 3600),
        (2, 36_000),
        (6, 1_152_000),
    ];
    for (unit, per) in UNITS {
        if secs.is_multiple_of(per) && secs / per <= 31 {
            // secs / per ≤ 31 fits in five bits.
            return GprsTimer3 {
                unit,
                value: u8::try_from(secs / per).unwrap_or(31),
            };
        }
    }
    for (unit, per) in UNITS {
        let n = secs.div_ceil(per);
        if n <= 31 {
            return GprsTimer3 {
                unit,
                value: u8::try_from(n).unwrap_or(31),
            };
        }
    }
    GprsTimer3 { unit: 6, value: 31 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t3512_encoding() {
        // TS 24.008 Table 10.5.163a: unit bits 000 = 10 minutes, 001 = 1 hour.
        assert_eq!(gprs_timer3(3600), GprsTimer3 { unit: 0, value: 6 });
        assert_eq!(gprs_timer3(36_000), GprsTimer3 { unit: 1, value: 10 });
        assert_eq!(gprs_timer3(3600).seconds(), Some(3600));
        // 54 minutes has no exact GPRS timer 3 form: 60 minutes (6 × 10 min).
        assert_eq!(gprs_timer3(54 * 60).seconds(), Some(3600));
        assert_eq!(gprs_timer3(60), GprsTimer3 { unit: 3, value: 30 });
        assert_eq!(gprs_timer3(0), GprsTimer3 { unit: 3, value: 0 });
    }

    #[test]
    fn converted_once_from_the_settings() {
        let mut s = Settings::default();
        s.amf.plmn.mcc = "315".into();
        s.amf.plmn.mnc = "010".into();
        s.nas.t3560_ms = 1234;
        let c = AmfConfig::new(s).unwrap();
        assert_eq!(c.serving_network_name, "5G:mnc010.mcc315.3gppnetwork.org");
        assert_eq!(c.timer(NasTimer::T3560), Duration::from_millis(1234));
        // The CBRS PLMN 315-010 in each codec's own octet order.
        assert_eq!(c.nas_plmn, NasPlmn::new("315", "010"));
        assert_eq!(c.plmn, Plmn::new("315", "010").unwrap());
        let mut bad = Settings::default();
        bad.amf.plmn.mcc = "31".into();
        let e = AmfConfig::new(bad).unwrap_err().to_string();
        assert!(e.contains("amf.plmn.mcc"), "{e}");
    }
}
