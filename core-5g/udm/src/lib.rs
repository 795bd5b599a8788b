//! AUSF/UDM/UDR for hexcore.
//!
//! | module | what | spec |
//! |---|---|---|
//! | [`store`] | the [`UdrStore`] trait, [`MemoryStore`] | — |
//! | [`rocks`] | [`RocksStore`]: subscribers, SQNs and home-network keys in RocksDB | — |
//! | [`subscriber`] | the subscriber record, its validation and versioned encoding | TS 23.003 §2.2, §28.4.2 |
//! | [`sqn`] | SQN_HE management, SEQ ‖ IND with a 5-bit IND | TS 33.102 §6.3, Annex C |
//! | [`udm`] | [`Udm`]: 5G-AKA vectors, resynchronisation, subscription data | TS 33.501 §6.1.3.2–3 |
//! | [`ausf`] | [`AusfContext`]: HXRES*, KSEAF, RES* confirmation | TS 33.501 §6.1.3.2.0 |
//! | [`hn_keys`] | home-network keys, SUCI de-concealment (SIDF) | TS 33.501 §6.12, Annex C |
//! | [`api`] | [`UdmApi`] for the AMF, [`LocalUdm`] in-process | TS 29.509 / TS 29.503 (shape) |
//!
//! Everything is synchronous and I/O-free except the store; randomness is injected.
#![forbid(unsafe_code)]

pub mod api;
pub mod ausf;
mod error;
pub mod hn_keys;
pub mod rocks;
pub mod sqn;
pub mod store;
pub mod subscriber;
pub mod udm;

pub use api::{AuthChallenge, AuthCtxId, AuthRequest, BoxFuture, EapConfirmation, LocalUdm, UdmApi};
pub use ausf::{AusfContext, AuthConfirmation, EapOutcome, SeAuthVector};
pub use error::Error;
pub use hn_keys::{HnPublicKey, HomeNetworkKeys, Suci};
pub use rocks::{RocksStore, UDR_DIR};
pub use store::{HnKey, HnScheme, MemoryStore, UdrStore};
pub use subscriber::{Ambr, AuthMethod, Imsi, NewSubscriber, OpcSource, Snssai, Subscriber};
pub use udm::{EapAkaPrimeVector, HeAuthVector, ResyncInfo, SubscriptionData, Udm, UeIdentity};
