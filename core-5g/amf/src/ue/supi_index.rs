//! Where a SUPI's 5GMM contexts are: connected (by AMF UE NGAP ID) or registered in
//! CM-IDLE (by 5G-TMSI), so that "one SUPI, one context", network-initiated
//! deregistration and N1N2 messages find them without a scan over every UE.
//!
//! The index is a hint: every place where a context gains a SUPI adds an entry
//! ([`Amf::set_state`], [`Amf::restore_state`], [`Amf::park_idle`]), and every lookup
//! checks the entry against the context it names, so a context that changed or went
//! away is never returned. Entries that no longer hold are pruned on the next lookup or
//! removal for that SUPI.

use crate::amf::Amf;

/// One place a SUPI's context may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SupiPlace {
    /// A UE context with an NG connection, by AMF UE NGAP ID.
    Connected(u64),
    /// A registered UE in CM-IDLE, by 5G-TMSI.
    Idle(u32),
}

/// The contexts of a SUPI: nearly always one, two while a second registration of the
/// SUPI replaces the first.
pub(crate) type SupiPlaces = Vec<SupiPlace>;

/// Whether `place` holds a context of `supi` now.
fn holds(
    ues: &std::collections::HashMap<u64, super::UeContext>,
    idle: &std::collections::HashMap<u32, Box<super::Secured>>,
    place: SupiPlace,
    supi: &str,
) -> bool {
    match place {
        SupiPlace::Connected(id) => ues.get(&id).and_then(|u| u.state.supi()) == Some(supi),
        SupiPlace::Idle(tmsi) => idle.get(&tmsi).is_some_and(|s| s.supi == supi),
    }
}

impl Amf {
    /// Record that `place` now holds a context with a SUPI (no-op if it has none).
    pub(crate) fn index_supi(&mut self, place: SupiPlace) {
        let Self { ues, idle, by_supi, .. } = self;
        let supi = match place {
            SupiPlace::Connected(id) => ues.get(&id).and_then(|u| u.state.supi()),
            SupiPlace::Idle(tmsi) => idle.get(&tmsi).map(|s| s.supi.as_str()),
        };
        let Some(supi) = supi else { return };
        match by_supi.get_mut(supi) {
            Some(places) => {
                places.retain(|p| *p != place && holds(ues, idle, *p, supi));
                places.push(place);
            }
            None => {
                by_supi.insert(supi.to_owned(), vec![place]);
            }
        }
    }

    /// Drop the entries of `supi` that no longer hold (after a context went away).
    pub(crate) fn prune_supi(&mut self, supi: &str) {
        let Self { ues, idle, by_supi, .. } = self;
        if let Some(places) = by_supi.get_mut(supi) {
            places.retain(|p| holds(ues, idle, *p, supi));
            if places.is_empty() {
                by_supi.remove(supi);
            }
        }
    }

    /// Every context of `supi` now, connected ones first.
    pub(crate) fn places_of(&self, supi: &str) -> SupiPlaces {
        let mut places: SupiPlaces = self
            .by_supi
            .get(supi)
            .map(|ps| {
                ps.iter()
                    .copied()
                    .filter(|p| holds(&self.ues, &self.idle, *p, supi))
                    .collect()
            })
            .unwrap_or_default();
        places.sort_by_key(|p| matches!(p, SupiPlace::Idle(_)));
        places
    }

    /// The connected UE contexts of `supi`, by AMF UE NGAP ID.
    pub(crate) fn connected_of(&self, supi: &str) -> impl Iterator<Item = u64> + use<> {
        self.places_of(supi).into_iter().filter_map(|p| match p {
            SupiPlace::Connected(id) => Some(id),
            SupiPlace::Idle(_) => None,
        })
    }

    /// The 5G-TMSI of `supi`'s context in CM-IDLE, if it has one.
    pub(crate) fn idle_tmsi_of(&self, supi: &str) -> Option<u32> {
        self.places_of(supi).into_iter().find_map(|p| match p {
            SupiPlace::Idle(tmsi) => Some(tmsi),
            SupiPlace::Connected(_) => None,
        })
    }

    /// Keep a registered UE's context in CM-IDLE under its 5G-TMSI.
    pub(crate) fn park_idle(&mut self, tmsi: u32, secured: Box<super::Secured>) {
        self.idle.insert(tmsi, secured);
        self.index_supi(SupiPlace::Idle(tmsi));
    }
}

#[cfg(test)]
mod tests {
    use super::SupiPlace;
    use crate::amf::{Amf, AmfConfig};
    use crate::settings::Settings;
    use crate::ue::Secured;
    use hexcore_nas::ie::mm::UeSecurityCapability;
    use hexcore_security::{NasConnection, NasSecurityContext, Nea, Nia, Role};

    fn secured(supi: &str) -> Box<Secured> {
        Box::new(Secured {
            supi: supi.into(),
            kamf: [0; 32],
            ngksi: 0,
            nas: NasSecurityContext::new(Role::Network, &[0; 32], Nea::Nea0, Nia::Nia2, NasConnection::ThreeGpp),
            ue_security_capability: UeSecurityCapability {
                nr_ea: 0xe0,
                nr_ia: 0x60,
                rest: Vec::new(),
            },
            imeisv: None,
            allowed_nssai: Vec::new(),
            ue_ambr: None,
            sessions: Default::default(),
        })
    }

    #[test]
    fn an_entry_that_no_longer_holds_is_never_returned() {
        let mut amf = Amf::new(AmfConfig::new(Settings::default()).unwrap(), 1);
        amf.park_idle(7, secured("imsi-999700000000001"));
        assert_eq!(amf.places_of("imsi-999700000000001"), vec![SupiPlace::Idle(7)]);
        assert_eq!(amf.idle_tmsi_of("imsi-999700000000001"), Some(7));
        // The context goes without the index being told: the lookup checks.
        amf.idle.remove(&7);
        assert!(amf.places_of("imsi-999700000000001").is_empty());
        amf.prune_supi("imsi-999700000000001");
        assert!(amf.by_supi.is_empty());
        // A 5G-TMSI reused by another SUPI does not answer for the first.
        amf.park_idle(7, secured("imsi-999700000000002"));
        assert!(amf.places_of("imsi-999700000000001").is_empty());
        assert_eq!(amf.idle_tmsi_of("imsi-999700000000002"), Some(7));
    }
}
