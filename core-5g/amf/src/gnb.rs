//! Per-gNB state and what the non-UE-associated procedures decide for one gNB: NG Setup
//! (TS 38.413 §8.7.1) and RAN Configuration Update (§8.7.2) checked against what this
//! AMF serves. The AMF routes these messages here and does what crosses into UE
//! contexts (dropping a gNB's UEs at NG Setup and NG Reset) itself.

use hexcore_ngap::procedures::{
    NgSetupFailure, NgSetupRequest, NgSetupResponse, PlmnSupport, RanConfigurationUpdate,
    RanConfigurationUpdateAcknowledge, RanConfigurationUpdateFailure, ServedGuami, SupportedTa, TimeToWait,
};
use hexcore_ngap::{Cause, CauseMisc, GlobalGnbId};

use crate::config::AmfConfig;
use crate::io::{AssocId, Event};
use crate::ue::Effects;

/// A gNB on one association.
#[derive(Debug, Clone)]
pub struct GnbContext {
    /// Outbound streams (stream 0 carries non-UE-associated signalling).
    pub out_streams: u16,
    /// Set once NG Setup succeeded.
    pub setup: Option<GnbSetup>,
}

/// What a gNB told in its accepted NG Setup (or later RAN Configuration Update).
#[derive(Debug, Clone)]
pub struct GnbSetup {
    /// Global gNB ID.
    pub global_gnb_id: GlobalGnbId,
    /// RAN node name.
    pub name: Option<String>,
    /// Supported TAs.
    pub supported_tas: Vec<SupportedTa>,
}

impl GnbContext {
    pub(crate) fn new(out_streams: u16) -> Self {
        Self {
            out_streams,
            setup: None,
        }
    }

    /// NG Setup done.
    pub fn is_ready(&self) -> bool {
        self.setup.is_some()
    }

    /// The stream for a UE's signalling: spread over streams 1.. when there are any
    /// (TS 38.412 §7: one stream pair reserved for non-UE-associated signalling).
    pub fn ue_stream(&self, amf_ue_ngap_id: u64) -> u16 {
        if self.out_streams <= 1 {
            0
        } else {
            let n = u64::from(self.out_streams - 1);
            // n ≥ 1 and the remainder < n ≤ u16::MAX - 1, so the conversion holds.
            u16::try_from(amf_ue_ngap_id % n).map_or(0, |s| s + 1)
        }
    }

    /// Whether this gNB announced a TA of `config`'s PLMN with a served TAC (the gNBs
    /// a UE in CM-IDLE is paged through).
    pub fn serves(&self, config: &AmfConfig) -> bool {
        self.setup.as_ref().is_some_and(|s| {
            s.supported_tas
                .iter()
                .any(|ta| config.tacs.contains(&ta.tac) && ta.broadcast_plmns.iter().any(|b| b.plmn == config.plmn))
        })
    }

    /// NG Setup (TS 38.413 §8.7.1), the gNB's UE contexts already dropped by the AMF.
    /// A gNB whose TAs do not fit gets NG SETUP FAILURE with cause misc
    /// `unknown-PLMN-or-SNPN` (no TA of our PLMN, no served TAC) or misc `unspecified`
    /// (no common slice), and a Time to Wait (§8.7.1.4).
    pub(crate) fn ng_setup(&mut self, assoc: AssocId, config: &AmfConfig, req: NgSetupRequest, fx: &mut Effects) {
        // A repeated NG Setup re-initialises the NG interface (§8.7.1.2).
        if self.setup.take().is_some() {
            fx.event(Event::GnbDisconnected { assoc });
        }
        if let Err(why) = check_tas(config, &req.supported_tas) {
            let cause = match why {
                "no supported S-NSSAI" => Cause::Misc(CauseMisc::Unspecified),
                _ => Cause::Misc(CauseMisc::UnknownPlmnOrSnpn),
            };
            let failure = NgSetupFailure {
                cause,
                time_to_wait: Some(TimeToWait::v10s),
            };
            fx.ngap(assoc, 0, failure.build());
            fx.procedure("ng_setup", Err(why.into()));
            return;
        }
        let response = NgSetupResponse {
            amf_name: config.name.clone(),
            served_guamis: vec![ServedGuami {
                guami: config.guami,
                backup_amf_name: None,
            }],
            relative_amf_capacity: config.relative_capacity,
            plmn_support: vec![PlmnSupport {
                plmn: config.plmn,
                slices: config.slices.clone(),
            }],
        };
        fx.ngap(assoc, 0, response.build());
        self.setup = Some(GnbSetup {
            global_gnb_id: req.global_gnb_id,
            name: req.ran_node_name.clone(),
            supported_tas: req.supported_tas,
        });
        fx.event(Event::GnbConnected {
            assoc,
            name: req.ran_node_name,
        });
        fx.procedure("ng_setup", Ok(()));
    }

    /// RAN Configuration Update (TS 38.413 §8.7.2): new TAs are checked like NG Setup's.
    pub(crate) fn ran_configuration_update(
        &mut self,
        assoc: AssocId,
        config: &AmfConfig,
        update: RanConfigurationUpdate,
        fx: &mut Effects,
    ) {
        if let Some(tas) = &update.supported_tas
            && let Err(why) = check_tas(config, tas)
        {
            let failure = RanConfigurationUpdateFailure {
                cause: Cause::Misc(CauseMisc::UnknownPlmnOrSnpn),
                time_to_wait: Some(TimeToWait::v10s),
            };
            fx.ngap(assoc, 0, failure.build());
            fx.procedure("ran_configuration_update", Err(why.into()));
            return;
        }
        if let Some(setup) = self.setup.as_mut() {
            if let Some(tas) = update.supported_tas {
                setup.supported_tas = tas;
            }
            if let Some(name) = update.ran_node_name {
                setup.name = Some(name);
            }
        }
        fx.ngap(assoc, 0, RanConfigurationUpdateAcknowledge.build());
        fx.procedure("ran_configuration_update", Ok(()));
    }
}

/// Why a gNB's configuration does not fit this AMF.
fn check_tas(c: &AmfConfig, tas: &[SupportedTa]) -> Result<(), &'static str> {
    let plmn_tas: Vec<&SupportedTa> = tas
        .iter()
        .filter(|ta| ta.broadcast_plmns.iter().any(|b| b.plmn == c.plmn))
        .collect();
    if plmn_tas.is_empty() {
        return Err("unknown PLMN");
    }
    let served: Vec<&&SupportedTa> = plmn_tas.iter().filter(|ta| c.tacs.contains(&ta.tac)).collect();
    if served.is_empty() {
        return Err("no served TAC");
    }
    let slice_ok = served.iter().any(|ta| {
        ta.broadcast_plmns
            .iter()
            .filter(|b| b.plmn == c.plmn)
            .any(|b| b.slices.iter().any(|s| c.slices.contains(s)))
    });
    if !slice_ok {
        return Err("no supported S-NSSAI");
    }
    Ok(())
}
