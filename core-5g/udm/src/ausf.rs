//! The AUSF side of 5G-AKA (TS 33.501 §6.1.3.2.0 steps 4–5 and 11–12) and of
//! EAP-AKA' (§6.1.3.1), sans-IO.
//!
//! 5G AKA: from the UDM's vector the AUSF keeps XRES*, KAUSF-derived KSEAF and the
//! SUPI, and hands the SEAF (in the AMF) only RAND, AUTN and HXRES*. When the UE's RES*
//! comes back it is compared with XRES* in constant time; only then do SUPI and KSEAF
//! leave the AUSF.
//!
//! EAP-AKA': the AUSF derives K_aut and EMSK from CK'/IK' (RFC 9048 §3.3, Identity =
//! the IMSI digits), KAUSF = EMSK's first 256 bits, and hands the SEAF an EAP-Request/
//! AKA'-Challenge to relay. The UE's EAP-Response must carry a valid AT_MAC and AT_RES
//! = XRES; then SUPI, KSEAF and an EAP-Success leave the AUSF. A Synchronization-
//! Failure's AUTS goes back to the UDM for one resynchronisation.

use hexcore_security::eap_aka_prime::{self as eap, Keys, Packet};
use subtle::ConstantTimeEq;

use hexcore_security::keys::{self, ServingNetworkName};

use crate::Error;
use crate::subscriber::Imsi;
use crate::udm::HeAuthVector;

/// The 5G serving-environment vector, AUSF → SEAF (step 5): RAND, AUTN, HXRES*.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeAuthVector {
    /// RAND.
    pub rand: [u8; 16],
    /// AUTN.
    pub autn: [u8; 16],
    /// HXRES* (TS 33.501 A.5), for the SEAF's own check of HRES*.
    pub hxres_star: [u8; 16],
}

/// Result of a successful confirmation (step 12): the SUPI and the anchor key KSEAF.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthConfirmation {
    /// The authenticated SUPI.
    pub supi: Imsi,
    /// KSEAF (TS 33.501 A.6); the AMF derives KAMF from it with the SUPI and ABBA.
    pub kseaf: [u8; 32],
}

impl std::fmt::Debug for AuthConfirmation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfirmation")
            .field("supi", &self.supi.as_str())
            .finish_non_exhaustive()
    }
}

/// One pending authentication in the AUSF.
#[derive(Clone)]
pub struct AusfContext {
    supi: Imsi,
    se: SeAuthVector,
    xres_star: [u8; 16],
    kseaf: [u8; 32],
    eap: Option<EapRun>,
}

/// The AUSF's state of one EAP-AKA' run.
#[derive(Clone)]
struct EapRun {
    identifier: u8,
    k_aut: [u8; 32],
    xres: Vec<u8>,
    request: Vec<u8>,
    snn: ServingNetworkName,
    resynced: bool,
}

/// What the UE's EAP-Response leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapOutcome {
    /// AT_MAC and AT_RES verified: the SUPI and KSEAF, and the EAP-Success for the UE.
    Success {
        /// SUPI and KSEAF.
        confirmation: AuthConfirmation,
        /// EAP-Success (TS 33.501 §6.1.3.1 step 9).
        eap_success: Vec<u8>,
    },
    /// AKA'-Synchronization-Failure: resynchronise SQN with the UDM (`rand`, `auts`)
    /// and challenge again (TS 33.501 §6.1.3.3.2).
    Resync {
        /// The SUPI.
        supi: Imsi,
        /// The serving network name of the run.
        snn: ServingNetworkName,
        /// RAND of the challenge the UE refused.
        rand: [u8; 16],
        /// AUTS.
        auts: [u8; 14],
        /// The EAP identifier of the run (for an EAP-Failure if AUTS does not verify).
        identifier: u8,
    },
    /// Authentication failed: the EAP-Failure for the UE, and why.
    Failure {
        /// EAP-Failure.
        eap_failure: Vec<u8>,
        /// Why, for logs and metrics.
        reason: &'static str,
    },
}

impl std::fmt::Debug for AusfContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AusfContext")
            .field("supi", &self.supi.as_str())
            .finish_non_exhaustive()
    }
}

impl AusfContext {
    /// Steps 4–5: HXRES* from XRES*, KSEAF from KAUSF, for serving network `snn`; for
    /// an EAP-AKA' vector, the keys of RFC 9048 §3.3 and the EAP-Request/AKA'-Challenge.
    pub fn new(av: &HeAuthVector, snn: &ServingNetworkName) -> Result<Self, Error> {
        let (kseaf, eap) = match &av.eap {
            None => (keys::kseaf(&av.kausf, snn)?, None),
            Some(v) => {
                let k = Keys::derive(&v.ck_prime, &v.ik_prime, av.supi.as_str().as_bytes());
                // Any identifier will do; the UE's Response must repeat it.
                let identifier = av.rand[0];
                let request = eap::challenge_request(identifier, &av.rand, &av.autn, snn.as_bytes(), &k.k_aut);
                let run = EapRun {
                    identifier,
                    k_aut: k.k_aut,
                    xres: v.xres.clone(),
                    request,
                    snn: snn.clone(),
                    resynced: false,
                };
                (keys::kseaf(&k.kausf(), snn)?, Some(run))
            }
        };
        Ok(Self {
            supi: av.supi.clone(),
            se: SeAuthVector {
                rand: av.rand,
                autn: av.autn,
                hxres_star: keys::hres_star(&av.rand, &av.xres_star),
            },
            xres_star: av.xres_star,
            kseaf,
            eap,
        })
    }

    /// The EAP-Request/AKA'-Challenge to relay to the UE, for an EAP-AKA' run.
    pub fn eap_request(&self) -> Option<&[u8]> {
        self.eap.as_ref().map(|r| r.request.as_slice())
    }

    /// Mark a run that follows a resynchronisation (a second Synchronization-Failure
    /// then fails it).
    pub fn set_resynced(&mut self) {
        if let Some(r) = self.eap.as_mut() {
            r.resynced = true;
        }
    }

    /// Steps 7–9 of EAP-AKA': check the UE's EAP-Response (TS 33.501 §6.1.3.1).
    pub fn confirm_eap(&self, response: &[u8]) -> EapOutcome {
        let Some(run) = &self.eap else {
            return EapOutcome::Failure {
                eap_failure: Packet::failure(0).encode(),
                reason: "eap_for_5g_aka",
            };
        };
        let fail = |reason| EapOutcome::Failure {
            eap_failure: Packet::failure(run.identifier).encode(),
            reason,
        };
        let Ok(p) = Packet::decode(response) else {
            return fail("eap_malformed");
        };
        if p.code != eap::code::RESPONSE || p.identifier != run.identifier {
            return fail("eap_unexpected");
        }
        match p.subtype {
            Some(eap::subtype::CHALLENGE) => {
                if eap::verify_mac(&run.k_aut, response).is_err() {
                    return fail("eap_mac");
                }
                let res = p.res().unwrap_or_default();
                if res.len() != run.xres.len() || !bool::from(res.ct_eq(&run.xres)) {
                    return fail("res_mismatch");
                }
                EapOutcome::Success {
                    confirmation: AuthConfirmation {
                        supi: self.supi.clone(),
                        kseaf: self.kseaf,
                    },
                    eap_success: Packet::success(run.identifier).encode(),
                }
            }
            Some(eap::subtype::SYNCHRONIZATION_FAILURE) if !run.resynced => match p.auts() {
                Some(auts) => EapOutcome::Resync {
                    supi: self.supi.clone(),
                    snn: run.snn.clone(),
                    rand: self.se.rand,
                    auts,
                    identifier: run.identifier,
                },
                None => fail("eap_malformed"),
            },
            Some(eap::subtype::SYNCHRONIZATION_FAILURE) => fail("synch_failure"),
            Some(eap::subtype::AUTHENTICATION_REJECT) => fail("mac_failure"),
            _ => fail("eap_client_error"),
        }
    }

    /// What the SEAF receives.
    pub fn challenge(&self) -> SeAuthVector {
        self.se
    }

    /// Step 11–12: RES* against XRES*, constant time.
    pub fn confirm(&self, res_star: &[u8]) -> Result<AuthConfirmation, Error> {
        keys::verify_res_star(&self.xres_star, res_star).map_err(|_| Error::AuthenticationFailure)?;
        Ok(AuthConfirmation {
            supi: self.supi.clone(),
            kseaf: self.kseaf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udm::build_vector;
    use crate::udm::tests::*;

    fn h<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    fn walkthrough() -> AusfContext {
        // See `udm::tests::WALKTHROUGH_*` for where these values come from, and why
        // XRES* uses the padded serving network name but KAUSF/KSEAF the unpadded one.
        let vector = |snn: &ServingNetworkName| {
            build_vector(
                &Imsi::parse("001010123456789").unwrap(),
                &h(WALKTHROUGH_K),
                &h(WALKTHROUGH_OPC),
                1,
                [0x80, 0x00],
                &h(WALKTHROUGH_RAND),
                snn,
            )
            .unwrap()
        };
        let padded = vector(&ServingNetworkName::new("001", "01").unwrap());
        let unpadded_snn = ServingNetworkName::from_received(WALKTHROUGH_SNN_UNPADDED).unwrap();
        let av = HeAuthVector {
            kausf: vector(&unpadded_snn).kausf,
            ..padded
        };
        AusfContext::new(&av, &unpadded_snn).unwrap()
    }

    #[test]
    fn published_hxres_star_and_kseaf() {
        let ctx = walkthrough();
        assert_eq!(hex::encode(ctx.challenge().hxres_star), WALKTHROUGH_HXRES_STAR);
        let ok = ctx.confirm(&h::<16>(WALKTHROUGH_XRES_STAR)).unwrap();
        assert_eq!(hex::encode(ok.kseaf), WALKTHROUGH_KSEAF);
        assert_eq!(ok.supi.as_str(), "001010123456789");
    }

    #[test]
    fn wrong_or_short_res_star_fails() {
        let ctx = walkthrough();
        let mut res: [u8; 16] = h(WALKTHROUGH_XRES_STAR);
        res[0] ^= 0x80;
        assert_eq!(ctx.confirm(&res), Err(Error::AuthenticationFailure));
        assert_eq!(ctx.confirm(&res[..8]), Err(Error::AuthenticationFailure));
        assert_eq!(ctx.confirm(&[]), Err(Error::AuthenticationFailure));
    }
}
