//! The AUSF side of 5G-AKA (TS 33.501 §6.1.3.2.0 steps 4–5 and 11–12), sans-IO.
//!
//! From the UDM's vector the AUSF keeps XRES*, KAUSF-derived KSEAF and the SUPI, and
//! hands the SEAF (in the AMF) only RAND, AUTN and HXRES*. When the UE's RES* comes
//! back it is compared with XRES* in constant time; only then do SUPI and KSEAF leave
//! the AUSF.

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
}

impl std::fmt::Debug for AusfContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AusfContext")
            .field("supi", &self.supi.as_str())
            .finish_non_exhaustive()
    }
}

impl AusfContext {
    /// Steps 4–5: HXRES* from XRES*, KSEAF from KAUSF, for serving network `snn`.
    pub fn new(av: &HeAuthVector, snn: &ServingNetworkName) -> Result<Self, Error> {
        Ok(Self {
            supi: av.supi.clone(),
            se: SeAuthVector {
                rand: av.rand,
                autn: av.autn,
                hxres_star: keys::hres_star(&av.rand, &av.xres_star),
            },
            xres_star: av.xres_star,
            kseaf: keys::kseaf(&av.kausf, snn)?,
        })
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
