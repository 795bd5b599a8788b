//! AMF → AUSF/UDM (N12, N8): `hexcore_udm::UdmApi` (RocksDB, `LocalUdm`) behind the
//! AMF glue's [`UdmBackend`], with the UDM's errors mapped to what the AMF answers
//! (TS 24.501 §5.5.1.2.5, TS 29.509 §6.1.7.3).
//!
//! Also compiled by the AMF's tests (core-5g/amf/tests/it/real_udm.rs, which run the
//! AMF with the real UDM through this adapter): no `crate::` paths here.

use std::sync::Arc;

use hexcore_amf::glue::server::{BoxFuture, UdmBackend};
use hexcore_amf::{UdmFailure, UdmRequest, UdmResponse, UeIdentity};
use hexcore_security::keys::ServingNetworkName;
use hexcore_udm::{AuthRequest, EapConfirmation, Error, Imsi, ResyncInfo, UdmApi};

/// Any `UdmApi` as a [`UdmBackend`].
pub struct UdmApiBackend(pub Arc<dyn UdmApi>);

impl UdmBackend for UdmApiBackend {
    /// On a blocking thread: the in-process UDM makes a synced RocksDB write per
    /// authentication vector (the SQN must be durable before the vector leaves), and a
    /// synced write blocks for the disk's flush. Many of them in flight at once let
    /// RocksDB group them into one WAL sync, instead of queueing behind the runtime's
    /// few worker threads.
    fn call(&self, request: UdmRequest) -> BoxFuture<'_, UdmResponse> {
        let api = self.0.clone();
        Box::pin(async move {
            let ue = request.ue();
            let handle = tokio::runtime::Handle::current();
            let answered = tokio::task::spawn_blocking(move || handle.block_on(answer(&*api, request))).await;
            match answered {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::info!(ue, "UDM: {e}");
                    UdmResponse::Failed {
                        ue,
                        failure: failure_of(&e),
                    }
                }
                Err(e) => {
                    tracing::error!(ue, "UDM call failed: {e}");
                    UdmResponse::Failed {
                        ue,
                        failure: UdmFailure::Internal,
                    }
                }
            }
        })
    }
}

/// One request, answered by the UDM.
async fn answer(api: &dyn UdmApi, request: UdmRequest) -> Result<UdmResponse, Error> {
    match request {
        UdmRequest::Authenticate {
            ue,
            identity,
            serving_network_name,
            resync,
        } => {
            let identity = match identity {
                UeIdentity::Suci(s) => hexcore_udm::UeIdentity::Suci(hexcore_udm::Suci::from_sbi_string(&s)?),
                UeIdentity::Supi(s) => hexcore_udm::UeIdentity::Supi(Imsi::parse(&s)?),
            };
            let req = AuthRequest {
                identity,
                serving_network_name: ServingNetworkName::from_received(&serving_network_name)?,
                resync: resync.map(|(rand, auts)| ResyncInfo { rand, auts }),
            };
            let c = api.authenticate(req).await?;
            Ok(challenge(ue, c))
        }
        UdmRequest::Confirm { ue, ctx, res_star } => {
            let c = api.confirm(hexcore_udm::AuthCtxId(ctx), res_star).await?;
            Ok(UdmResponse::Confirmed {
                ue,
                supi: c.supi.as_str().to_owned(),
                kseaf: c.kseaf,
                eap_success: None,
            })
        }
        UdmRequest::ConfirmEap { ue, ctx, eap } => {
            Ok(match api.confirm_eap(hexcore_udm::AuthCtxId(ctx), eap).await? {
                EapConfirmation::Success {
                    confirmation,
                    eap_success,
                } => UdmResponse::Confirmed {
                    ue,
                    supi: confirmation.supi.as_str().to_owned(),
                    kseaf: confirmation.kseaf,
                    eap_success: Some(eap_success),
                },
                EapConfirmation::Challenge(c) => challenge(ue, c),
                EapConfirmation::Failure { eap_failure, reason } => UdmResponse::EapFailure {
                    ue,
                    eap: eap_failure,
                    reason,
                },
            })
        }
        UdmRequest::SubscriptionData { ue, supi } => {
            let d = api.subscription_data(Imsi::parse(&supi)?).await?;
            Ok(UdmResponse::Subscription {
                ue,
                nssai: d.nssai.iter().map(|s| (s.sst, s.sd)).collect(),
                ue_ambr: Some((d.ambr.uplink_bps, d.ambr.downlink_bps)),
            })
        }
    }
}

/// The AMF's view of an AUSF challenge: 5G AKA's RAND/AUTN/HXRES*, or EAP-AKA's
/// EAP-Request.
fn challenge(ue: u64, c: hexcore_udm::AuthChallenge) -> UdmResponse {
    match c.eap_request {
        Some(eap) => UdmResponse::EapChallenge { ue, ctx: c.ctx.0, eap },
        None => UdmResponse::Challenge {
            ue,
            ctx: c.ctx.0,
            rand: c.rand,
            autn: c.autn,
            hxres_star: c.hxres_star,
        },
    }
}

/// What the AMF answers for a UDM error (see `hexcore_udm::Error`'s mapping notes).
fn failure_of(e: &Error) -> UdmFailure {
    match e {
        Error::UnknownSubscriber(_) => UdmFailure::UnknownSubscriber,
        Error::SuciDeconcealFailure(_) | Error::UnknownHnKey { .. } | Error::BadImsi { .. } => {
            UdmFailure::IdentityNotDerivable
        }
        Error::MacFailure => UdmFailure::ResyncRefused,
        Error::AuthenticationFailure | Error::UnknownAuthContext(_) => UdmFailure::AuthenticationRejected,
        _ => UdmFailure::Internal,
    }
}
