//! The 5GMM context of a UE (TS 23.501 §5.3.2, TS 24.501 §4.4.2): what the AMF keeps
//! once a Security mode command established NAS security — the SUPI, KAMF and the NAS
//! security context, what the UE is allowed, and the routing context of each of its PDU
//! sessions. It lives in a connected [`super::Ue`]'s state, or alone while the UE is in
//! CM-IDLE (keyed by 5G-TMSI in the AMF), and moves between the two.

use std::collections::{BTreeMap, BTreeSet};

use hexcore_nas::ie::{NasMessageContainer, UeSecurityCapability};
use hexcore_sbi::{AmfRequest, ReleaseCause, SmContextRef, SmfRequest, Snssai, UpCnxState};
use hexcore_security::NasSecurityContext;

use super::Effects;

/// The 5GMM context.
#[derive(Debug, Clone)]
pub struct MmContext {
    /// SUPI (IMSI digits).
    pub supi: String,
    /// KAMF.
    pub kamf: [u8; 32],
    /// ngKSI.
    pub ngksi: u8,
    /// The NAS security context (keys, algorithms, COUNTs).
    pub nas: NasSecurityContext,
    /// The UE's security capability, as it sent it.
    pub ue_security_capability: UeSecurityCapability,
    /// IMEISV, if the UE sent it.
    pub imeisv: Option<String>,
    /// Allowed NSSAI (SST, SD) once accepted.
    pub allowed_nssai: Vec<(u8, Option<u32>)>,
    /// Subscribed UE-AMBR (uplink, downlink), bit/s.
    pub ue_ambr: Option<(u64, u64)>,
    /// The UE's PDU sessions by PDU Session ID: the AMF's PDU session routing context
    /// (TS 24.501 §5.4.5.2.2), kept across CM-IDLE with the rest of the 5GMM context.
    pub sessions: BTreeMap<u8, RoutingContext>,
    /// PDU sessions with downlink data waiting while the UE is paged (TS 23.502
    /// §4.2.3.3): re-activated at its Service Request.
    pub paged: BTreeSet<u8>,
    /// N1N2 messages waiting for the paged UE's NG connection.
    pub pending_n1n2: Vec<AmfRequest>,
}

/// The AMF's PDU session routing context of one PDU session (TS 24.501 §5.4.5.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingContext {
    /// The S-NSSAI the session runs on.
    pub s_nssai: Option<Snssai>,
    /// Its DNN, as the UE asked for it.
    pub dnn: Option<String>,
    /// N3 resources are set up at the gNB (user plane connection active).
    pub user_plane: bool,
}

impl MmContext {
    /// The SM context reference of one of this UE's PDU sessions.
    pub fn sm_context(&self, pdu_session_id: u8) -> SmContextRef {
        SmContextRef {
            supi: self.supi.clone(),
            pdu_session_id,
        }
    }

    /// The complete message in an initial NAS message's NAS message container,
    /// deciphered with the COUNT of the message that carried it (TS 24.501 §4.4.6: the
    /// cleartext IEs travel integrity protected, the rest only in the ciphered
    /// container). `None` without a container, or when it does not decode.
    pub fn complete_message(&self, container: Option<&NasMessageContainer>) -> Option<hexcore_nas::Message> {
        let plain = self.nas.decipher_container_of_last_rx(&container?.0)?;
        hexcore_nas::Message::decode(&plain).ok()
    }

    /// The context is discarded (deregistration, a second registration, implicit
    /// deregistration, a lost NG connection of an unregistered UE): its SM contexts are
    /// released (TS 23.502 §4.2.2.3.2 step 2), and what waited for the UE goes.
    pub fn release_sm_contexts(&mut self, cause: ReleaseCause, fx: &mut Effects) {
        let psis: Vec<u8> = std::mem::take(&mut self.sessions).into_keys().collect();
        for psi in psis {
            fx.smf(SmfRequest::ReleaseSmContext {
                context: self.sm_context(psi),
                cause,
            });
        }
        self.paged.clear();
        self.pending_n1n2.clear();
    }

    /// The context goes to CM-IDLE: the gNB's N3 tunnels are gone (TS 23.502 §4.2.6
    /// step 5), each active session is deactivated at its SMF.
    pub fn deactivate_user_plane(&mut self, fx: &mut Effects) {
        let active: Vec<u8> = self
            .sessions
            .iter_mut()
            .filter(|(_, s)| s.user_plane)
            .map(|(psi, s)| {
                s.user_plane = false;
                *psi
            })
            .collect();
        for psi in active {
            fx.smf(SmfRequest::UpdateSmContext {
                context: self.sm_context(psi),
                n1_sm: None,
                n2_sm: None,
                up_cnx_state: Some(UpCnxState::Deactivated),
                location: None,
            });
        }
    }
}
