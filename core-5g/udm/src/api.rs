//! The interface the AMF uses to reach the AUSF/UDM: [`UdmApi`], with async methods
//! returning boxed `Send` futures so that `Arc<dyn UdmApi>` works and the same AMF code
//! talks to the in-process [`LocalUdm`] now and to a remote UDM process later.
//!
//! Flow (TS 33.501 §6.1.3.2.0, TS 29.509 `Nausf_UEAuthentication`):
//! 1. `authenticate(AuthRequest { identity: SUCI or SUPI, serving network name, resync })`
//!    → [`AuthChallenge`]: an opaque context id, RAND, AUTN, HXRES*.
//! 2. The AMF sends RAND/AUTN to the UE, checks HRES* against HXRES* itself
//!    (`hexcore_security::keys::verify_hres_star`), then `confirm(ctx, RES*)` →
//!    [`AuthConfirmation`] with SUPI and KSEAF.
//! 3. On the UE's "synch failure" (5GMM cause #21) the AMF calls `authenticate` again
//!    with `resync: Some(ResyncInfo { rand, auts })`.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};

use rand::{RngCore, SeedableRng};

use hexcore_security::keys::ServingNetworkName;

use crate::Error;
use crate::ausf::{AusfContext, AuthConfirmation, EapOutcome};
use crate::rocks::RocksStore;
use crate::store::UdrStore;
use crate::subscriber::Imsi;
use crate::udm::{ResyncInfo, SubscriptionData, Udm, UeIdentity};

/// A boxed `Send` future borrowing the service.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Identifies one pending authentication in the AUSF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AuthCtxId(pub u64);

/// `Nausf_UEAuthentication_Authenticate` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// SUCI (or SUPI) of the UE.
    pub identity: UeIdentity,
    /// The serving network name (TS 33.501 §6.1.1.4), e.g. `5G:mnc070.mcc999.3gppnetwork.org`.
    pub serving_network_name: ServingNetworkName,
    /// Set after the UE answered with a synchronisation failure.
    pub resync: Option<ResyncInfo>,
}

/// What the AMF sends on to the UE (and keeps for its HRES* check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthChallenge {
    /// Context to quote in [`UdmApi::confirm`].
    pub ctx: AuthCtxId,
    /// RAND for the Authentication Request.
    pub rand: [u8; 16],
    /// AUTN for the Authentication Request.
    pub autn: [u8; 16],
    /// HXRES* for the SEAF's check (TS 33.501 §6.1.3.2.0 step 10).
    pub hxres_star: [u8; 16],
    /// For a subscriber on EAP-AKA': the EAP-Request/AKA'-Challenge the AMF relays
    /// instead of RAND and AUTN (TS 33.501 §6.1.3.1 step 5); answer with
    /// [`UdmApi::confirm_eap`].
    pub eap_request: Option<Vec<u8>>,
}

/// What the UE's EAP-Response led to, as the AMF sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapConfirmation {
    /// Authenticated: SUPI, KSEAF and the EAP-Success to send the UE.
    Success {
        /// SUPI and KSEAF.
        confirmation: AuthConfirmation,
        /// EAP-Success.
        eap_success: Vec<u8>,
    },
    /// The UE reported a synchronisation failure: the SQN was resynchronised and this
    /// is the new challenge.
    Challenge(AuthChallenge),
    /// Authentication failed: the EAP-Failure to send the UE, and why.
    Failure {
        /// EAP-Failure.
        eap_failure: Vec<u8>,
        /// Why.
        reason: &'static str,
    },
}

/// The AUSF/UDM as the AMF sees it.
pub trait UdmApi: Send + Sync {
    /// Resolve the identity, generate a vector, and open an AUSF context.
    fn authenticate(&self, req: AuthRequest) -> BoxFuture<'_, Result<AuthChallenge, Error>>;
    /// Check RES* for a context; the context is consumed whatever the outcome.
    fn confirm(&self, ctx: AuthCtxId, res_star: [u8; 16]) -> BoxFuture<'_, Result<AuthConfirmation, Error>>;
    /// Hand the UE's EAP-Response of an EAP-AKA' run to the AUSF; the context is
    /// consumed (a resynchronisation opens a new one).
    fn confirm_eap(&self, ctx: AuthCtxId, eap: Vec<u8>) -> BoxFuture<'_, Result<EapConfirmation, Error>>;
    /// Subscription data (allowed NSSAI, DNNs, AMBR) for an authenticated SUPI.
    fn subscription_data(&self, supi: Imsi) -> BoxFuture<'_, Result<SubscriptionData, Error>>;
}

/// Pending contexts kept at most; the oldest is dropped beyond this (a UE that never
/// answers must not grow memory without bound).
pub const MAX_PENDING_AUTH: usize = 65_536;

/// The in-process AUSF/UDM. Store calls are short synchronous RocksDB operations (one
/// synced write per vector), done inline: no thread hop.
pub struct LocalUdm<S> {
    udm: Udm<S>,
    rng: Mutex<Box<dyn RngCore + Send>>,
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    next: u64,
    contexts: BTreeMap<u64, AusfContext>,
}

impl LocalUdm<RocksStore> {
    /// Open the RocksDB UDR in `<data_dir>/udr`, generating home-network keys on first
    /// start, with an OS-seeded RNG.
    pub fn open_in_data_dir(data_dir: &Path) -> Result<Self, Error> {
        let store = RocksStore::open_in_data_dir(data_dir)?;
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let udm = Udm::open(store, &mut rng)?;
        Ok(Self::new(udm, rng))
    }
}

impl<S: UdrStore> LocalUdm<S> {
    /// Wrap a UDM with the RNG it draws RANDs from.
    pub fn new(udm: Udm<S>, rng: impl RngCore + Send + 'static) -> Self {
        Self {
            udm,
            rng: Mutex::new(Box::new(rng)),
            pending: Mutex::new(Pending::default()),
        }
    }

    /// The UDM (for provisioning and the public keys).
    pub fn udm(&self) -> &Udm<S> {
        &self.udm
    }

    /// Pending authentication contexts (for metrics).
    pub fn pending_auth(&self) -> usize {
        lock(&self.pending).contexts.len()
    }

    /// The synchronous body of [`UdmApi::authenticate`].
    pub fn authenticate_sync(&self, req: &AuthRequest) -> Result<AuthChallenge, Error> {
        let supi = self.udm.resolve(&req.identity)?;
        let mut rand = [0u8; 16];
        lock(&self.rng).fill_bytes(&mut rand);
        let av =
            self.udm
                .generate_auth_vector_with_rand(&supi, &req.serving_network_name, req.resync.as_ref(), rand)?;
        let ctx = AusfContext::new(&av, &req.serving_network_name)?;
        Ok(self.open(ctx))
    }

    /// Keep an AUSF context and say what to challenge the UE with.
    fn open(&self, ctx: AusfContext) -> AuthChallenge {
        let se = ctx.challenge();
        let eap_request = ctx.eap_request().map(<[u8]>::to_vec);
        let mut p = lock(&self.pending);
        let id = p.next;
        p.next = p.next.wrapping_add(1);
        p.contexts.insert(id, ctx);
        while p.contexts.len() > MAX_PENDING_AUTH {
            p.contexts.pop_first();
        }
        AuthChallenge {
            ctx: AuthCtxId(id),
            rand: se.rand,
            autn: se.autn,
            hxres_star: se.hxres_star,
            eap_request,
        }
    }

    /// The synchronous body of [`UdmApi::confirm_eap`].
    pub fn confirm_eap_sync(&self, ctx: AuthCtxId, eap: &[u8]) -> Result<EapConfirmation, Error> {
        let c = lock(&self.pending)
            .contexts
            .remove(&ctx.0)
            .ok_or(Error::UnknownAuthContext(ctx.0))?;
        Ok(match c.confirm_eap(eap) {
            EapOutcome::Success {
                confirmation,
                eap_success,
            } => EapConfirmation::Success {
                confirmation,
                eap_success,
            },
            EapOutcome::Failure { eap_failure, reason } => EapConfirmation::Failure { eap_failure, reason },
            EapOutcome::Resync {
                supi,
                snn,
                rand,
                auts,
                identifier,
            } => {
                let mut fresh = [0u8; 16];
                lock(&self.rng).fill_bytes(&mut fresh);
                let resync = ResyncInfo { rand, auts };
                match self
                    .udm
                    .generate_auth_vector_with_rand(&supi, &snn, Some(&resync), fresh)
                {
                    Ok(av) => {
                        let mut next = AusfContext::new(&av, &snn)?;
                        next.set_resynced();
                        EapConfirmation::Challenge(self.open(next))
                    }
                    // MAC-S of AUTS did not verify (TS 33.102 §6.3.5): no resync.
                    Err(Error::MacFailure) => EapConfirmation::Failure {
                        eap_failure: hexcore_security::eap_aka_prime::Packet::failure(identifier).encode(),
                        reason: "resync_refused",
                    },
                    Err(e) => return Err(e),
                }
            }
        })
    }

    /// The synchronous body of [`UdmApi::confirm`].
    pub fn confirm_sync(&self, ctx: AuthCtxId, res_star: &[u8]) -> Result<AuthConfirmation, Error> {
        let c = lock(&self.pending)
            .contexts
            .remove(&ctx.0)
            .ok_or(Error::UnknownAuthContext(ctx.0))?;
        c.confirm(res_star)
    }
}

impl<S: UdrStore> UdmApi for LocalUdm<S> {
    fn authenticate(&self, req: AuthRequest) -> BoxFuture<'_, Result<AuthChallenge, Error>> {
        Box::pin(async move { self.authenticate_sync(&req) })
    }

    fn confirm(&self, ctx: AuthCtxId, res_star: [u8; 16]) -> BoxFuture<'_, Result<AuthConfirmation, Error>> {
        Box::pin(async move { self.confirm_sync(ctx, &res_star) })
    }

    fn confirm_eap(&self, ctx: AuthCtxId, eap: Vec<u8>) -> BoxFuture<'_, Result<EapConfirmation, Error>> {
        Box::pin(async move { self.confirm_eap_sync(ctx, &eap) })
    }

    fn subscription_data(&self, supi: Imsi) -> BoxFuture<'_, Result<SubscriptionData, Error>> {
        Box::pin(async move { self.udm.subscription_data(&supi) })
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a single map or RNG operation: no broken state can be
    // left behind by a panic, so a poisoned lock is reused.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::store::MemoryStore;
    use crate::udm::tests::walkthrough_subscriber;
    use hexcore_security::Milenage;
    use hexcore_security::eap_aka_prime as eap;
    use hexcore_security::keys;
    use hexcore_security::suci::{self, ProtectionScheme};
    use rand::rngs::StdRng;

    /// The futures here never wait: poll once.
    fn ready<T>(f: BoxFuture<'_, T>) -> T {
        let mut f = f;
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("LocalUdm futures complete at once"),
        }
    }

    fn h<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    fn local() -> Arc<dyn UdmApi> {
        let store = MemoryStore::new();
        store.insert_subscriber(&walkthrough_subscriber(0)).unwrap();
        let mut rng = StdRng::seed_from_u64(11);
        let udm = Udm::open(store, &mut rng).unwrap();
        Arc::new(LocalUdm::new(udm, rng))
    }

    /// A UE's side of 5G-AKA: check AUTN, compute RES* (TS 33.501 §6.1.3.2.0 step 7).
    fn ue_res_star(rand: &[u8; 16], autn: &[u8; 16], snn: &ServingNetworkName) -> [u8; 16] {
        let m = Milenage::new(
            &h(crate::udm::tests::WALKTHROUGH_K),
            &h(crate::udm::tests::WALKTHROUGH_OPC),
        );
        let c = m.verify_autn(rand, autn).unwrap();
        keys::res_star(&c.vector.ck, &c.vector.ik, snn, rand, &c.vector.res).unwrap()
    }

    /// The UE's side of EAP-AKA' (RFC 9048, TS 33.501 §6.1.3.1): check the request's
    /// AUTN and AT_MAC, answer with AT_RES (or `res` instead, to fail) and AT_MAC; the
    /// keys it derived.
    fn ue_eap(request: &[u8], snn: &ServingNetworkName, res: Option<&[u8]>) -> (Vec<u8>, eap::Keys) {
        let p = eap::Packet::decode(request).unwrap();
        assert_eq!(p.kdf_input(), Some(snn.as_bytes()));
        let m = Milenage::new(
            &h(crate::udm::tests::WALKTHROUGH_K),
            &h(crate::udm::tests::WALKTHROUGH_OPC),
        );
        let (rand, autn) = (p.rand().unwrap(), p.autn().unwrap());
        let c = m.verify_autn(&rand, &autn).unwrap();
        let sqn_xor_ak: [u8; 6] = autn[..6].try_into().unwrap();
        let (ck_p, ik_p) = keys::ck_ik_prime(&c.vector.ck, &c.vector.ik, snn, &sqn_xor_ak).unwrap();
        let k = eap::Keys::derive(&ck_p, &ik_p, b"001010123456789");
        eap::verify_mac(&k.k_aut, request).unwrap();
        let answer = eap::challenge_response(p.identifier, res.unwrap_or(&c.vector.res), &k.k_aut);
        (answer, k)
    }

    fn eap_subscriber_api() -> Arc<LocalUdm<MemoryStore>> {
        let store = MemoryStore::new();
        let mut sub = walkthrough_subscriber(0);
        sub.auth_method = crate::AuthMethod::EapAkaPrime;
        store.insert_subscriber(&sub).unwrap();
        let mut rng = StdRng::seed_from_u64(12);
        let udm = Udm::open(store, &mut rng).unwrap();
        Arc::new(LocalUdm::new(udm, rng))
    }

    fn supi_request(snn: &ServingNetworkName) -> AuthRequest {
        AuthRequest {
            identity: UeIdentity::Supi(crate::Imsi::parse("001010123456789").unwrap()),
            serving_network_name: snn.clone(),
            resync: None,
        }
    }

    #[test]
    fn full_eap_aka_prime_run() {
        let api = eap_subscriber_api();
        let snn = ServingNetworkName::new("001", "01").unwrap();
        let ch = ready(api.authenticate(supi_request(&snn))).unwrap();
        let request = ch
            .eap_request
            .clone()
            .expect("an EAP-AKA' subscriber gets an EAP challenge");
        let (answer, k) = ue_eap(&request, &snn, None);
        let EapConfirmation::Success {
            confirmation,
            eap_success,
        } = ready(api.confirm_eap(ch.ctx, answer.clone())).unwrap()
        else {
            panic!("expected success")
        };
        assert_eq!(confirmation.supi.as_str(), "001010123456789");
        // KAUSF = EMSK's first 256 bits on both sides (TS 33.501 §6.1.3.1 step 9).
        assert_eq!(confirmation.kseaf, keys::kseaf(&k.kausf(), &snn).unwrap());
        assert_eq!(eap::Packet::decode(&eap_success).unwrap().code, eap::code::SUCCESS);
        // The context is consumed.
        assert_eq!(
            ready(api.confirm_eap(ch.ctx, answer)),
            Err(Error::UnknownAuthContext(ch.ctx.0))
        );

        // A wrong RES: EAP-Failure.
        let ch = ready(api.authenticate(supi_request(&snn))).unwrap();
        let (answer, _) = ue_eap(ch.eap_request.as_ref().unwrap(), &snn, Some(&[0u8; 8]));
        assert!(matches!(
            ready(api.confirm_eap(ch.ctx, answer)).unwrap(),
            EapConfirmation::Failure {
                reason: "res_mismatch",
                ..
            }
        ));
    }

    #[test]
    fn eap_synchronization_failure_resynchronises_once() {
        let api = eap_subscriber_api();
        let snn = ServingNetworkName::new("001", "01").unwrap();
        let ch = ready(api.authenticate(supi_request(&snn))).unwrap();
        let p = eap::Packet::decode(ch.eap_request.as_ref().unwrap()).unwrap();
        // The USIM is ahead: it answers with AUTS for its SQN_MS (TS 33.102 §6.3.3).
        let m = Milenage::new(
            &h(crate::udm::tests::WALKTHROUGH_K),
            &h(crate::udm::tests::WALKTHROUGH_OPC),
        );
        let rand = p.rand().unwrap();
        let auts = m.generate_auts(&rand, &crate::sqn::to_bytes(1 << 30));
        let sync = eap::synchronization_failure(p.identifier, &auts);
        let EapConfirmation::Challenge(next) = ready(api.confirm_eap(ch.ctx, sync)).unwrap() else {
            panic!("expected a new challenge")
        };
        // The new challenge's SQN is above the USIM's: it verifies and succeeds.
        let (answer, _) = ue_eap(next.eap_request.as_ref().unwrap(), &snn, None);
        assert!(matches!(
            ready(api.confirm_eap(next.ctx, answer)).unwrap(),
            EapConfirmation::Success { .. }
        ));
        // A second synchronisation failure in one run is refused.
        let ch = ready(api.authenticate(supi_request(&snn))).unwrap();
        let p = eap::Packet::decode(ch.eap_request.as_ref().unwrap()).unwrap();
        let auts = m.generate_auts(&p.rand().unwrap(), &crate::sqn::to_bytes(1 << 40));
        let EapConfirmation::Challenge(next) =
            ready(api.confirm_eap(ch.ctx, eap::synchronization_failure(p.identifier, &auts))).unwrap()
        else {
            panic!("expected a new challenge")
        };
        let p = eap::Packet::decode(next.eap_request.as_ref().unwrap()).unwrap();
        let again = eap::synchronization_failure(p.identifier, &auts);
        assert!(matches!(
            ready(api.confirm_eap(next.ctx, again)).unwrap(),
            EapConfirmation::Failure {
                reason: "synch_failure",
                ..
            }
        ));
    }

    #[test]
    fn full_5g_aka_with_suci_null_scheme() {
        let api = local();
        let snn = ServingNetworkName::new("001", "01").unwrap();
        let suci = crate::Suci {
            mcc: "001".into(),
            mnc: "01".into(),
            routing_indicator: "0".into(),
            protection_scheme: 0,
            hn_key_id: 0,
            scheme_output: suci::scheme_input_from_msin("0123456789").unwrap(),
        };
        let ch = ready(api.authenticate(AuthRequest {
            identity: UeIdentity::Suci(suci),
            serving_network_name: snn.clone(),
            resync: None,
        }))
        .unwrap();
        let res = ue_res_star(&ch.rand, &ch.autn, &snn);
        // The SEAF's own check.
        keys::verify_hres_star(&ch.rand, &res, &ch.hxres_star).unwrap();
        let ok = ready(api.confirm(ch.ctx, res)).unwrap();
        assert_eq!(ok.supi.as_str(), "001010123456789");
        // The UE derives the same KSEAF from its side of the keys.
        let m = Milenage::new(
            &h(crate::udm::tests::WALKTHROUGH_K),
            &h(crate::udm::tests::WALKTHROUGH_OPC),
        );
        let c = m.verify_autn(&ch.rand, &ch.autn).unwrap();
        let mut sqn_xor_ak = [0u8; 6];
        sqn_xor_ak.copy_from_slice(&ch.autn[..6]);
        let kausf = keys::kausf(&c.vector.ck, &c.vector.ik, &snn, &sqn_xor_ak).unwrap();
        assert_eq!(ok.kseaf, keys::kseaf(&kausf, &snn).unwrap());
        // The context is consumed.
        assert_eq!(
            ready(api.confirm(ch.ctx, res)),
            Err(Error::UnknownAuthContext(ch.ctx.0))
        );
        let sd = ready(api.subscription_data(ok.supi)).unwrap();
        assert_eq!(sd.dnns, vec!["internet".to_owned()]);
    }

    #[test]
    fn wrong_res_star_and_unknown_subscriber() {
        let api = local();
        let snn = ServingNetworkName::new("001", "01").unwrap();
        let ch = ready(api.authenticate(AuthRequest {
            identity: UeIdentity::Supi(Imsi::parse("001010123456789").unwrap()),
            serving_network_name: snn.clone(),
            resync: None,
        }))
        .unwrap();
        assert_eq!(ready(api.confirm(ch.ctx, [0; 16])), Err(Error::AuthenticationFailure));
        let r = ready(api.authenticate(AuthRequest {
            identity: UeIdentity::Supi(Imsi::parse("001010000000077").unwrap()),
            serving_network_name: snn,
            resync: None,
        }));
        assert!(matches!(r, Err(Error::UnknownSubscriber(_))));
    }

    #[test]
    fn resync_through_the_api() {
        let api = local();
        let snn = ServingNetworkName::new("001", "01").unwrap();
        let supi = UeIdentity::Supi(Imsi::parse("001010123456789").unwrap());
        let ch = ready(api.authenticate(AuthRequest {
            identity: supi.clone(),
            serving_network_name: snn.clone(),
            resync: None,
        }))
        .unwrap();
        let m = Milenage::new(
            &h(crate::udm::tests::WALKTHROUGH_K),
            &h(crate::udm::tests::WALKTHROUGH_OPC),
        );
        let sqn_ms = crate::sqn::to_bytes(0x7_0000_0001);
        let auts = m.generate_auts(&ch.rand, &sqn_ms);
        let ch2 = ready(api.authenticate(AuthRequest {
            identity: supi,
            serving_network_name: snn.clone(),
            resync: Some(ResyncInfo { rand: ch.rand, auts }),
        }))
        .unwrap();
        let c = m.verify_autn(&ch2.rand, &ch2.autn).unwrap();
        assert_eq!(crate::sqn::from_bytes(&c.sqn), crate::sqn::next(0x7_0000_0001));
        let res = ue_res_star(&ch2.rand, &ch2.autn, &snn);
        assert!(ready(api.confirm(ch2.ctx, res)).is_ok());
        // A Profile A SUCI with an unknown key id.
        let r = ready(api.authenticate(AuthRequest {
            identity: UeIdentity::Suci(crate::Suci {
                mcc: "001".into(),
                mnc: "01".into(),
                routing_indicator: "0".into(),
                protection_scheme: ProtectionScheme::ProfileA.id(),
                hn_key_id: 200,
                scheme_output: vec![0; 45],
            }),
            serving_network_name: snn,
            resync: None,
        }));
        assert_eq!(r, Err(Error::UnknownHnKey { scheme: 1, id: 200 }));
    }

    #[test]
    fn rocks_local_udm_survives_restart() {
        let dir = tempfile::tempdir().unwrap();
        let snn = ServingNetworkName::new("001", "01").unwrap();
        let supi = Imsi::parse("001010123456789").unwrap();
        let (keys_before, sqn_issued) = {
            let local = LocalUdm::open_in_data_dir(dir.path()).unwrap();
            local
                .udm()
                .store()
                .insert_subscriber(&walkthrough_subscriber(0))
                .unwrap();
            let ch = local
                .authenticate_sync(&AuthRequest {
                    identity: UeIdentity::Supi(supi.clone()),
                    serving_network_name: snn.clone(),
                    resync: None,
                })
                .unwrap();
            let m = Milenage::new(
                &h(crate::udm::tests::WALKTHROUGH_K),
                &h(crate::udm::tests::WALKTHROUGH_OPC),
            );
            let sqn = crate::sqn::from_bytes(&m.verify_autn(&ch.rand, &ch.autn).unwrap().sqn);
            (local.udm().hn_public_keys(), sqn)
            // Dropped without any shutdown step, as a crash would.
        };
        let local = LocalUdm::open_in_data_dir(dir.path()).unwrap();
        assert_eq!(local.udm().hn_public_keys(), keys_before);
        assert_eq!(local.udm().store().subscriber(&supi).unwrap().sqn, sqn_issued);
    }
}
