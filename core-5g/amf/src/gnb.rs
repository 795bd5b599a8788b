//! Per-gNB state and the non-UE-associated procedures: NG Setup (TS 38.413 §8.7.1),
//! NG Reset both ways (§8.7.4), RAN Configuration Update (§8.7.2).

use hexcore_ngap::procedures::{
    ErrorIndication, NgReset, NgResetAcknowledge, NgSetupFailure, NgSetupRequest, NgSetupResponse, PlmnSupport,
    RanConfigurationUpdate, RanConfigurationUpdateAcknowledge, RanConfigurationUpdateFailure, ResetType, ServedGuami,
    SupportedTa, TimeToWait,
};
use hexcore_ngap::{Cause, CauseMisc, GlobalGnbId, NgapPdu};

use crate::amf::{Amf, AssocId, Event, answering};

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
}

/// Why a gNB's configuration does not fit this AMF.
fn check_tas(amf: &Amf, tas: &[SupportedTa]) -> Result<(), &'static str> {
    let c = &amf.config;
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

impl Amf {
    /// NG Setup (TS 38.413 §8.7.1). A gNB whose TAs do not fit gets NG SETUP FAILURE
    /// with cause misc `unknown-PLMN-or-SNPN` (no TA of our PLMN, no served TAC) or
    /// misc `unspecified` (no common slice), and a Time to Wait (§8.7.1.4).
    pub(crate) fn ng_setup(&mut self, assoc: AssocId, pdu: &NgapPdu) -> Result<(), Box<ErrorIndication>> {
        let req = NgSetupRequest::parse(pdu).map_err(|e| answering(pdu, &e))?;
        // A repeated NG Setup re-initialises the NG interface: the gNB's UE contexts
        // are gone on its side (§8.7.1.2).
        let was_ready = self.gnbs.get(&assoc).is_some_and(|g| g.is_ready());
        for ue in self.ues_of(assoc) {
            self.remove_ue(ue);
        }
        if was_ready {
            self.event(Event::GnbDisconnected { assoc });
        }
        if let Some(g) = self.gnbs.get_mut(&assoc) {
            g.setup = None;
        }
        if let Err(why) = check_tas(self, &req.supported_tas) {
            let cause = match why {
                "no supported S-NSSAI" => Cause::Misc(CauseMisc::Unspecified),
                _ => Cause::Misc(CauseMisc::UnknownPlmnOrSnpn),
            };
            let failure = NgSetupFailure {
                cause,
                time_to_wait: Some(TimeToWait::v10s),
            };
            self.send_ngap(assoc, 0, failure.build());
            self.procedure("ng_setup", Err(why.into()));
            return Ok(());
        }
        let c = &self.config;
        let response = NgSetupResponse {
            amf_name: c.settings.amf.name.clone(),
            served_guamis: vec![ServedGuami {
                guami: c.guami,
                backup_amf_name: None,
            }],
            relative_amf_capacity: c.settings.amf.relative_capacity,
            plmn_support: vec![PlmnSupport {
                plmn: c.plmn,
                slices: c.slices.clone(),
            }],
        };
        self.send_ngap(assoc, 0, response.build());
        if let Some(g) = self.gnbs.get_mut(&assoc) {
            g.setup = Some(GnbSetup {
                global_gnb_id: req.global_gnb_id,
                name: req.ran_node_name.clone(),
                supported_tas: req.supported_tas,
            });
        }
        self.event(Event::GnbConnected {
            assoc,
            name: req.ran_node_name,
        });
        self.procedure("ng_setup", Ok(()));
        Ok(())
    }

    /// NG Reset from the gNB (TS 38.413 §8.7.4.2.2): release the named UE contexts
    /// (or all of the gNB's) and acknowledge, echoing the list.
    pub(crate) fn ng_reset_from_gnb(&mut self, assoc: AssocId, pdu: &NgapPdu) -> Result<(), Box<ErrorIndication>> {
        let reset = NgReset::parse(pdu).map_err(|e| answering(pdu, &e))?;
        let connections = match reset.reset_type {
            ResetType::NgInterface => {
                for ue in self.ues_of(assoc) {
                    self.remove_ue(ue);
                }
                Vec::new()
            }
            ResetType::PartOfNgInterface(list) => {
                for c in &list {
                    let found = self.ues_of(assoc).into_iter().find(|id| {
                        let by_amf = c.amf_ue_ngap_id.is_some_and(|a| a.value() == *id);
                        let by_ran = c
                            .ran_ue_ngap_id
                            .is_some_and(|r| self.ues.get(id).is_some_and(|u| u.ran_ue_ngap_id == r));
                        by_amf || by_ran
                    });
                    if let Some(id) = found {
                        self.remove_ue(id);
                    }
                }
                list
            }
        };
        self.send_ngap(assoc, 0, NgResetAcknowledge { connections }.build());
        self.procedure("ng_reset", Ok(()));
        Ok(())
    }

    /// AMF-initiated NG Reset of a whole gNB (TS 38.413 §8.7.4.2.1), e.g. after the
    /// AMF lost its UE contexts: its UE contexts are dropped at once.
    pub fn reset_gnb(&mut self, assoc: AssocId, cause: Cause) {
        if !self.gnbs.get(&assoc).is_some_and(|g| g.is_ready()) {
            return;
        }
        for ue in self.ues_of(assoc) {
            self.remove_ue(ue);
        }
        let reset = NgReset {
            cause,
            reset_type: ResetType::NgInterface,
        };
        self.send_ngap(assoc, 0, reset.build());
    }

    /// RAN Configuration Update (TS 38.413 §8.7.2): new TAs are checked like NG Setup's.
    pub(crate) fn ran_configuration_update(
        &mut self,
        assoc: AssocId,
        pdu: &NgapPdu,
    ) -> Result<(), Box<ErrorIndication>> {
        let update = RanConfigurationUpdate::parse(pdu).map_err(|e| answering(pdu, &e))?;
        if let Some(tas) = &update.supported_tas
            && let Err(why) = check_tas(self, tas)
        {
            let failure = RanConfigurationUpdateFailure {
                cause: Cause::Misc(CauseMisc::UnknownPlmnOrSnpn),
                time_to_wait: Some(TimeToWait::v10s),
            };
            self.send_ngap(assoc, 0, failure.build());
            self.procedure("ran_configuration_update", Err(why.into()));
            return Ok(());
        }
        if let Some(setup) = self.gnbs.get_mut(&assoc).and_then(|g| g.setup.as_mut()) {
            if let Some(tas) = update.supported_tas {
                setup.supported_tas = tas;
            }
            if let Some(name) = update.ran_node_name {
                setup.name = Some(name);
            }
        }
        self.send_ngap(assoc, 0, RanConfigurationUpdateAcknowledge.build());
        self.procedure("ran_configuration_update", Ok(()));
        Ok(())
    }
}
