//! SMF → UDM (N10): the SMF's subscription data (Nudm_SDM_Get, TS 29.503) from the
//! in-process UDM, behind the SMF's [`SubscriptionSource`].

use std::sync::Arc;

use hexcore_smf::subscription::{Ambr, BoxFuture, Subscription, SubscriptionFailure, SubscriptionSource};
use hexcore_udm::{Imsi, UdmApi};

/// Any `UdmApi` as the SMF's [`SubscriptionSource`].
pub struct UdmSubscriptions(pub Arc<dyn UdmApi>);

impl SubscriptionSource for UdmSubscriptions {
    fn subscription(&self, supi: String) -> BoxFuture<'_, Result<Subscription, SubscriptionFailure>> {
        Box::pin(async move {
            let imsi = Imsi::parse(&supi).map_err(|_| SubscriptionFailure::UnknownSubscriber)?;
            match self.0.subscription_data(imsi).await {
                Ok(d) => Ok(Subscription {
                    nssai: d
                        .nssai
                        .iter()
                        .map(|s| hexcore_sbi::Snssai { sst: s.sst, sd: s.sd })
                        .collect(),
                    dnns: d.dnns,
                    ambr: Ambr {
                        uplink_bps: d.ambr.uplink_bps,
                        downlink_bps: d.ambr.downlink_bps,
                    },
                }),
                Err(hexcore_udm::Error::UnknownSubscriber(_)) => Err(SubscriptionFailure::UnknownSubscriber),
                Err(e) => {
                    tracing::warn!(%supi, "subscription data: {e}");
                    Err(SubscriptionFailure::Unavailable)
                }
            }
        })
    }
}
