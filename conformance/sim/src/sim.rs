//! One gNB and its UEs, wired together, still sans-IO: NGAP octets in
//! ([`Sim::handle_ngap`]), NGAP octets out ([`Sim::poll_transmit`]), and one stream of
//! events from the gNB and every UE ([`Sim::poll_event`]) for the scenarios to check.
//! Paging reaches the idle UE whose 5G-S-TMSI it names, which answers with a Service
//! Request (TS 38.304 §7, TS 24.501 §5.6.2.2.1).

use std::collections::{BTreeMap, VecDeque};

use hexcore_nas::ie::ServiceType;
use hexcore_ngap::FiveGSTmsi;
use hexcore_ngap::procedures::RRCEstablishmentCause;

use crate::gnb::{Gnb, GnbConfig, GnbError, GnbEvent, Transmit, UeKey};
use crate::ue::{EstablishmentCause, RegistrationKind, Ue, UeConfig, UeError, UeEvent};
use crate::user_plane::UserPlaneEvent;

/// Something the gNB or a UE reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEvent {
    /// From the gNB.
    Gnb(GnbEvent),
    /// From a UE.
    Ue(UeKey, UeEvent),
    /// The KgNB the AMF sent in Initial Context Setup, compared with the UE's own
    /// derivation (TS 33.501 A.9, UL NAS COUNT of the Security Mode Complete).
    KgnbChecked {
        /// The UE.
        ue: UeKey,
        /// Whether they agree.
        matches: bool,
    },
    /// A downlink NAS PDU was dropped on purpose ([`Sim::drop_downlink_nas`]).
    Dropped {
        /// The UE it was for.
        ue: UeKey,
        /// Its summary.
        summary: String,
    },
    /// The simulator could not pass a message on (no NG connection, a UE error).
    Error(String),
    /// From the user plane glue (N3, the UEs' TUN devices); never from [`Sim`] itself.
    UserPlane(UserPlaneEvent),
}

/// Why a simulator call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No such UE.
    #[error("no UE {0:?}")]
    NoUe(UeKey),
    /// From the UE.
    #[error(transparent)]
    Ue(#[from] UeError),
    /// From the gNB.
    #[error(transparent)]
    Gnb(#[from] GnbError),
}

/// A gNB with UEs.
#[derive(Debug)]
pub struct Sim {
    gnb: Gnb,
    ues: Vec<Ue>,
    events: VecDeque<SimEvent>,
    /// Per UE: how many more downlink NAS PDUs to deliver before dropping one.
    drops: BTreeMap<UeKey, usize>,
    /// UEs touched since the last flush (the only ones that can have something to
    /// send): a flush costs what moved, not the number of UEs.
    touched: Vec<usize>,
}

impl Sim {
    /// A gNB without UEs.
    pub fn new(config: GnbConfig) -> Self {
        Sim {
            gnb: Gnb::new(config),
            ues: Vec::new(),
            events: VecDeque::new(),
            drops: BTreeMap::new(),
            touched: Vec::new(),
        }
    }

    /// Add a UE (switched on, deregistered).
    pub fn add_ue(&mut self, config: UeConfig) -> Result<UeKey, SimError> {
        self.ues.push(Ue::new(config)?);
        Ok(UeKey(self.ues.len() - 1))
    }

    /// The gNB.
    pub fn gnb(&self) -> &Gnb {
        &self.gnb
    }

    /// The gNB, to drive it directly (raw PDUs, NG Reset).
    pub fn gnb_mut(&mut self) -> &mut Gnb {
        &mut self.gnb
    }

    /// A UE.
    pub fn ue(&self, key: UeKey) -> Option<&Ue> {
        self.ues.get(key.0)
    }

    /// How many UEs.
    pub fn ue_count(&self) -> usize {
        self.ues.len()
    }

    /// Lose one downlink NAS PDU for `ue` as a radio link would: deliver `skip` more,
    /// then drop the next (to test the network's retransmission timers T3550, T3560…).
    pub fn drop_downlink_nas(&mut self, ue: UeKey, skip: usize) {
        self.drops.insert(ue, skip);
    }

    /// Send NG Setup Request.
    pub fn ng_setup(&mut self) -> Result<(), SimError> {
        Ok(self.gnb.ng_setup()?)
    }

    /// Run `f` on a UE, then pass what it sends to the gNB.
    pub fn with_ue<T>(&mut self, key: UeKey, f: impl FnOnce(&mut Ue) -> Result<T, UeError>) -> Result<T, SimError> {
        let ue = self.ues.get_mut(key.0).ok_or(SimError::NoUe(key))?;
        let out = f(ue);
        self.touched.push(key.0);
        self.flush();
        let out = out?;
        Ok(out)
    }

    /// Start a registration.
    pub fn register(&mut self, key: UeKey, kind: RegistrationKind) -> Result<(), SimError> {
        self.with_ue(key, |ue| ue.register(kind))
    }

    /// Start a UE-originating deregistration.
    pub fn deregister(&mut self, key: UeKey, switch_off: bool) -> Result<(), SimError> {
        self.with_ue(key, |ue| ue.deregister(switch_off))
    }

    /// Start a service request.
    pub fn service_request(&mut self, key: UeKey) -> Result<(), SimError> {
        self.with_ue(key, |ue| ue.service_request())
    }

    /// Start a service request of a given type (TS 24.501 §5.6.1.2).
    pub fn service_request_for(&mut self, key: UeKey, service_type: ServiceType) -> Result<(), SimError> {
        self.with_ue(key, |ue| ue.service_request_for(service_type))
    }

    /// Start a PDU session establishment (IPv4) on the UE.
    pub fn establish_pdu_session(
        &mut self,
        key: UeKey,
        psi: u8,
        dnn: Option<&str>,
        s_nssai: Option<(u8, Option<u32>)>,
    ) -> Result<(), SimError> {
        self.with_ue(key, |ue| ue.establish_pdu_session(psi, dnn, s_nssai))
    }

    /// Start a UE-requested PDU session release.
    pub fn release_pdu_session(&mut self, key: UeKey, psi: u8) -> Result<(), SimError> {
        self.with_ue(key, |ue| ue.release_pdu_session(psi))
    }

    /// The UE has uplink data for PDU session `psi` and no user plane: from idle it
    /// sends a Service Request for data.
    pub fn uplink_data_pending(&mut self, key: UeKey, psi: u8) -> Result<(), SimError> {
        self.with_ue(key, |ue| ue.uplink_data_pending(psi))
    }

    /// Handle one NGAP PDU from the AMF.
    pub fn handle_ngap(&mut self, octets: &[u8]) {
        self.gnb.handle(octets);
        self.flush();
    }

    /// Note that the whole NG interface went away (association lost or reset):
    /// every UE is back in 5GMM-IDLE.
    pub fn all_connections_released(&mut self) {
        for ue in &mut self.ues {
            ue.connection_released();
        }
        self.touched.extend(0..self.ues.len());
    }

    /// The next NGAP PDU to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.gnb.poll_transmit()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SimEvent> {
        self.events.pop_front()
    }

    /// Move messages between the gNB and the UEs until nothing moves.
    fn flush(&mut self) {
        loop {
            let mut moved = false;
            while let Some(ev) = self.gnb.poll_event() {
                moved = true;
                match &ev {
                    GnbEvent::DownlinkNas { ue, nas } => {
                        let drop = match self.drops.get_mut(ue) {
                            Some(0) => {
                                self.drops.remove(ue);
                                true
                            }
                            Some(n) => {
                                *n -= 1;
                                false
                            }
                            None => false,
                        };
                        if drop {
                            self.events.push_back(SimEvent::Dropped {
                                ue: *ue,
                                summary: crate::ue::summary(nas),
                            });
                        } else if let Some(u) = self.ues.get_mut(ue.0) {
                            u.handle_nas(nas);
                            self.touched.push(ue.0);
                        }
                    }
                    GnbEvent::UeContextReleased { ue, .. } => {
                        if let Some(u) = self.ues.get_mut(ue.0) {
                            u.connection_released();
                            self.touched.push(ue.0);
                        }
                    }
                    GnbEvent::Paging { s_tmsi, our_tai: true } => {
                        // The UE camping here that the 5G-S-TMSI names, if idle.
                        let found = self.ues.iter_mut().enumerate().find(|(_, u)| {
                            !u.is_connected()
                                && u.guti().is_some_and(|g| {
                                    g.amf_set_id == s_tmsi.amf_set_id
                                        && g.amf_pointer == s_tmsi.amf_pointer
                                        && g.tmsi == s_tmsi.five_g_tmsi
                                })
                        });
                        if let Some((i, u)) = found {
                            let paged = u.paged();
                            self.touched.push(i);
                            if let Err(e) = paged {
                                self.events.push_back(SimEvent::Error(format!("UE {i} paged: {e}")));
                            }
                        }
                    }
                    GnbEvent::InitialContextSetup { ue, security_key } => {
                        if let Some(k) = self.ues.get(ue.0).and_then(Ue::kgnb) {
                            self.events.push_back(SimEvent::KgnbChecked {
                                ue: *ue,
                                matches: k == *security_key,
                            });
                        }
                    }
                    _ => {}
                }
                self.events.push_back(SimEvent::Gnb(ev));
            }
            let mut touched = std::mem::take(&mut self.touched);
            touched.sort_unstable();
            touched.dedup();
            for i in touched {
                let Some(ue) = self.ues.get_mut(i) else { continue };
                let key = UeKey(i);
                while let Some(ev) = ue.poll_event() {
                    moved = true;
                    self.events.push_back(SimEvent::Ue(key, ev));
                }
                while let Some(t) = ue.poll_transmit() {
                    moved = true;
                    let s_tmsi = t.s_tmsi.map(|s| FiveGSTmsi {
                        amf_set_id: s.amf_set_id,
                        amf_pointer: s.amf_pointer,
                        five_g_tmsi: s.tmsi,
                    });
                    let cause = match t.establishment_cause {
                        EstablishmentCause::MoSignalling => RRCEstablishmentCause::mo_Signalling,
                        EstablishmentCause::MoData => RRCEstablishmentCause::mo_Data,
                        EstablishmentCause::MtAccess => RRCEstablishmentCause::mt_Access,
                    };
                    if let Err(e) = self.gnb.send_nas_with_cause(key, t.nas, t.initial, s_tmsi, cause) {
                        self.events.push_back(SimEvent::Error(e.to_string()));
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }
}
