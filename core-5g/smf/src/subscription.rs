//! Subscription data the SMF needs (TS 23.502 §4.3.2.2.1 step 4, Nudm_SDM_Get of
//! SM subscription data): the subscribed S-NSSAIs, DNNs and session AMBR.
//!
//! The sans-IO SMF asks with [`SubscriptionRequest`] and takes a
//! [`SubscriptionAnswer`]; the glue answers through a [`SubscriptionSource`]. This crate
//! does not depend on the UDM (RocksDB): `hexcore up` adapts `hexcore_udm::UdmApi`
//! to [`SubscriptionSource`].

use std::future::Future;
use std::pin::Pin;

use hexcore_sbi::Snssai;

/// A boxed `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Session AMBR (TS 23.501 §5.7.2.6), bit/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ambr {
    /// Uplink, bit/s.
    pub uplink_bps: u64,
    /// Downlink, bit/s.
    pub downlink_bps: u64,
}

/// The SM subscription data of one SUPI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Subscribed S-NSSAIs.
    pub nssai: Vec<Snssai>,
    /// Subscribed DNNs (in any of the subscribed slices).
    pub dnns: Vec<String>,
    /// Session AMBR.
    pub ambr: Ambr,
}

/// Why there is no subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionFailure {
    /// The UDM does not know the SUPI.
    #[error("unknown subscriber")]
    UnknownSubscriber,
    /// The UDM could not be reached or failed.
    #[error("subscription data unavailable")]
    Unavailable,
}

/// SMF → glue: fetch the subscription of a SUPI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    /// SUPI (IMSI digits).
    pub supi: String,
}

/// Glue → SMF: the answer to a [`SubscriptionRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionAnswer {
    /// SUPI of the request.
    pub supi: String,
    /// The data, or why not.
    pub result: Result<Subscription, SubscriptionFailure>,
}

/// How the glue reaches subscription data: `hexcore up` implements it over
/// `hexcore_udm::UdmApi::subscription_data` (SUPI string → `Imsi`, `Snssai`, DNNs and
/// AMBR copied field by field; `Error::UnknownSubscriber` → [`SubscriptionFailure::UnknownSubscriber`],
/// anything else → [`SubscriptionFailure::Unavailable`]).
pub trait SubscriptionSource: Send + Sync + 'static {
    /// The subscription of `supi`.
    fn subscription(&self, supi: String) -> BoxFuture<'_, Result<Subscription, SubscriptionFailure>>;
}

/// A fixed answer for every SUPI (tests, labs without a UDM).
#[derive(Debug, Clone)]
pub struct StaticSubscriptions(pub Subscription);

impl SubscriptionSource for StaticSubscriptions {
    fn subscription(&self, _supi: String) -> BoxFuture<'_, Result<Subscription, SubscriptionFailure>> {
        let s = self.0.clone();
        Box::pin(async move { Ok(s) })
    }
}
