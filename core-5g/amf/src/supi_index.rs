//! Where a SUPI's 5GMM contexts are: connected (by AMF UE NGAP ID) or registered in
//! CM-IDLE (by 5G-TMSI), so that "one SUPI, one context", network-initiated
//! deregistration and N1N2 messages find them without a scan over every UE.
//!
//! The index is a hint: every place where a context gains a SUPI adds an entry, and
//! every lookup checks the entry against the context it names (the `holds` callback),
//! so a context that changed or went away is never returned. Entries that no longer
//! hold are pruned on the next insertion, lookup-with-prune or removal for that SUPI.

use std::collections::HashMap;

use hexcore_ngap::AmfUeNgapId;

use crate::ue::Tmsi;

/// One place a SUPI's context may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SupiPlace {
    /// A UE context with an NG connection.
    Connected(AmfUeNgapId),
    /// A registered UE in CM-IDLE.
    Idle(Tmsi),
}

/// The places of every SUPI: nearly always one, two while a second registration of
/// the SUPI replaces the first.
#[derive(Debug, Default)]
pub(crate) struct SupiIndex(HashMap<String, Vec<SupiPlace>>);

impl SupiIndex {
    /// Record that `place` now holds a context of `supi`.
    pub(crate) fn insert(&mut self, supi: &str, place: SupiPlace, holds: impl Fn(SupiPlace) -> bool) {
        match self.0.get_mut(supi) {
            Some(places) => {
                if places.len() == 1 && places[0] == place {
                    return;
                }
                places.retain(|p| *p != place && holds(*p));
                places.push(place);
            }
            None => {
                self.0.insert(supi.to_owned(), vec![place]);
            }
        }
    }

    /// Drop the entries of `supi` that no longer hold (after a context went away).
    pub(crate) fn prune(&mut self, supi: &str, holds: impl Fn(SupiPlace) -> bool) {
        if let Some(places) = self.0.get_mut(supi) {
            places.retain(|p| holds(*p));
            if places.is_empty() {
                self.0.remove(supi);
            }
        }
    }

    /// Every context of `supi` now, connected ones first.
    pub(crate) fn places(&self, supi: &str, holds: impl Fn(SupiPlace) -> bool) -> Vec<SupiPlace> {
        let mut places: Vec<SupiPlace> = self
            .0
            .get(supi)
            .map(|ps| ps.iter().copied().filter(|p| holds(*p)).collect())
            .unwrap_or_default();
        places.sort_by_key(|p| matches!(p, SupiPlace::Idle(_)));
        places
    }

    /// Whether no SUPI has an entry.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a place holds a context of `supi`, given what holds what.
    fn holds(live: &[(SupiPlace, &'static str)], supi: &'static str) -> impl Fn(SupiPlace) -> bool {
        let live = live.to_vec();
        move |p| live.iter().any(|(q, s)| *q == p && *s == supi)
    }

    #[test]
    fn an_entry_that_no_longer_holds_is_never_returned() {
        let a = "imsi-999700000000001";
        let b = "imsi-999700000000002";
        let mut index = SupiIndex::default();
        // What the contexts hold right now: (place, SUPI).
        let mut live: Vec<(SupiPlace, &'static str)> = vec![(SupiPlace::Idle(Tmsi(7)), a)];
        index.insert(a, SupiPlace::Idle(Tmsi(7)), holds(&live, a));
        assert_eq!(index.places(a, holds(&live, a)), vec![SupiPlace::Idle(Tmsi(7))]);
        // The context goes without the index being told: the lookup checks.
        live.clear();
        assert!(index.places(a, holds(&live, a)).is_empty());
        index.prune(a, holds(&live, a));
        assert!(index.is_empty());
        // A 5G-TMSI reused by another SUPI does not answer for the first.
        live.push((SupiPlace::Idle(Tmsi(7)), b));
        index.insert(b, SupiPlace::Idle(Tmsi(7)), holds(&live, b));
        assert!(index.places(a, holds(&live, a)).is_empty());
        assert_eq!(index.places(b, holds(&live, b)), vec![SupiPlace::Idle(Tmsi(7))]);
        // Connected places come first.
        let id = AmfUeNgapId::new(3).unwrap();
        live.push((SupiPlace::Connected(id), b));
        index.insert(b, SupiPlace::Connected(id), holds(&live, b));
        assert_eq!(
            index.places(b, holds(&live, b)),
            vec![SupiPlace::Connected(id), SupiPlace::Idle(Tmsi(7))]
        );
    }
}
