//! hexcore-sim: a gNB and UEs in Rust, and a conformance suite that tests any 5G core
//! (hexcore, open5gs, free5GC…) over N2.
//!
//! Layers, as in the rest of hexcore:
//! - [`usim`]: K/OPc, MILENAGE, SQN freshness (TS 33.102 Annex C);
//! - [`ue`]: a sans-IO UE — 5GMM, SUCI concealment, NAS security (TS 24.501, TS 33.501);
//!   [`ue_sm`] its 5GSM (PDU sessions);
//! - [`gnb`]: a sans-IO gNB — NG Setup, UE-associated NGAP, PDU session resources,
//!   paging, NG Reset (TS 38.413);
//! - [`sim`]: one gNB with its UEs, wired together, still sans-IO;
//! - [`user_plane`]: the tokio glue of N3 (GTP-U) and of the UEs' TUN devices in
//!   network namespaces;
//! - [`runner`]: the tokio glue over an N2 association (SCTP/UDP or kernel SCTP), the
//!   scenarios, the load generator, and the reports (table, JUnit XML, JSON, pcap).
#![forbid(unsafe_code)]

pub mod gnb;
pub mod report;
pub mod runner;
pub mod sim;
pub mod ue;
pub mod ue_sm;
pub mod user_plane;
pub mod usim;

pub use gnb::{Gnb, GnbConfig, GnbEvent, UeKey};
pub use sim::{Sim, SimEvent};
pub use ue::{Behaviour, RegistrationKind, SuciProfile, Ue, UeConfig, UeEvent};
pub use ue_sm::PduSession;
pub use user_plane::UserPlaneEvent;
pub use usim::Usim;
