//! Network-initiated procedures: deregistration (TS 24.501 §5.5.2.3), paging
//! (TS 38.413 §8.5.1) for UEs in CM-IDLE, and the clean-up when one SUPI registers
//! twice.

use std::time::Instant;

use hexcore_nas::Message;
use hexcore_nas::ie::NetworkName;
use hexcore_nas::ie::{AccessType, DeregistrationType, SpareHalfOctet};
use hexcore_nas::mm::{ConfigurationUpdateCommand, DeregistrationRequestUeTerminated, MmHeader};
use hexcore_ngap::procedures::Paging;
use hexcore_ngap::{Cause, CauseNas, FiveGSTmsi, Tai};

use super::UeState;
use crate::amf::{Amf, Event};
use crate::timers::NasTimer;

impl Amf {
    /// Deregister a SUPI from the network side. A connected, registered UE gets a
    /// Deregistration request (re-registration not required) guarded by T3522; an
    /// idle one is deregistered implicitly (its context dropped; paging it only to
    /// deregister is not worth the radio resources). `false` if the SUPI is unknown.
    pub fn deregister(&mut self, now: Instant, supi: &str) -> bool {
        self.now = Some(now);
        if let Some(id) = self.connected_registered(supi) {
            self.start_network_deregistration(id);
            return true;
        }
        let dropped = self.forget_idle(supi);
        if dropped {
            self.procedure("network_deregistration", Ok(()));
        }
        dropped
    }

    fn start_network_deregistration(&mut self, id: u64) {
        let Some(state) = self.take_state(id) else { return };
        let UeState::Registered { mut secured, .. } = state else {
            return self.restore_state(id, state);
        };
        // TS 23.502 §4.2.2.3.3 step 3: the SMFs release the UE's PDU sessions.
        self.release_sm_contexts(&mut secured, hexcore_sbi::ReleaseCause::Deregistration);
        self.set_state(id, UeState::Deregistering { secured });
        let request = DeregistrationRequestUeTerminated::new(
            MmHeader::default(),
            DeregistrationType {
                switch_off: false,
                re_registration_required: false,
                access_type: AccessType::ThreeGpp,
            },
            SpareHalfOctet(0),
        );
        self.send_nas(id, Message::from(request), Some(NasTimer::T3522));
    }

    /// Configuration Update Command (TS 24.501 §5.4.4) to a connected, registered UE,
    /// carrying the network's full and short name (GSM 7-bit) and no acknowledgement
    /// request (so no T3555). `false` if the SUPI has no connected registered context.
    pub fn configuration_update(&mut self, now: Instant, supi: &str, network_name: &str) -> bool {
        self.now = Some(now);
        let Some(id) = self.connected_registered(supi) else {
            return false;
        };
        self.send_network_name(id, network_name);
        true
    }

    /// The Configuration Update Command itself, to UE context `id`.
    pub(crate) fn send_network_name(&mut self, id: u64, network_name: &str) {
        let mut cuc = ConfigurationUpdateCommand::new(MmHeader::default());
        cuc.full_name_for_network = Some(NetworkName::gsm7(network_name));
        cuc.short_name_for_network = Some(NetworkName::gsm7(network_name));
        self.send_nas(id, Message::from(cuc), None);
        self.procedure("configuration_update", Ok(()));
    }

    /// Page a UE in CM-IDLE by its 5G-TMSI in every TA this AMF serves, through every
    /// gNB that announced one of them. `false` if the UE is not idle here.
    pub fn page(&mut self, tmsi: u32) -> bool {
        if !self.idle.contains_key(&tmsi) {
            return false;
        }
        let g = self.config.guami;
        let tais: Vec<Tai> = self
            .config
            .tacs
            .iter()
            .map(|tac| Tai {
                plmn: self.config.plmn,
                tac: *tac,
            })
            .collect();
        let paging = Paging {
            ue_paging_identity: FiveGSTmsi {
                amf_set_id: g.amf_set_id,
                amf_pointer: g.amf_pointer,
                five_g_tmsi: tmsi,
            },
            paging_drx: None,
            tais,
        };
        let gnbs: Vec<_> = self
            .gnbs
            .iter()
            .filter(|(_, g)| {
                g.setup.as_ref().is_some_and(|s| {
                    s.supported_tas.iter().any(|ta| {
                        self.config.tacs.contains(&ta.tac)
                            && ta.broadcast_plmns.iter().any(|b| b.plmn == self.config.plmn)
                    })
                })
            })
            .map(|(a, _)| *a)
            .collect();
        for assoc in gnbs {
            self.send_ngap(assoc, 0, paging.build());
        }
        self.procedure("paging", Ok(()));
        true
    }

    /// One SUPI, one context (TS 23.502 §4.2.2.2.2 step 5 in spirit): when a UE
    /// authenticates as a SUPI that has another context, the other goes.
    pub(crate) fn drop_other_contexts(&mut self, id: u64, supi: &str) {
        let others: Vec<u64> = self.connected_of(supi).filter(|other| *other != id).collect();
        for other in others {
            self.event(Event::Warning(format!("SUPI registered again: releasing UE {other}")));
            self.release_forgetting(other, Cause::Nas(CauseNas::Unspecified));
        }
        self.forget_idle(supi);
    }

    /// Release a UE's NG connection and forget its 5GMM context.
    pub(crate) fn release_forgetting(&mut self, id: u64, cause: Cause) {
        if let Some(state) = self.take_state(id) {
            match state {
                UeState::Registered { .. } => self.set_state(id, UeState::Releasing { idle: None }),
                other => self.restore_state(id, other),
            }
        }
        self.release_ue(id, cause);
    }
}
