//! The adapters between network functions. They live in the binary so that no
//! network function's crate depends on another's: each function states what it needs
//! from the others as a trait of its own (the AMF's `UdmBackend`, the SMF's
//! `SubscriptionSource`), and the binary implements it over the other function's API.
//!
//! ```text
//!  AMF ── UdmBackend ─────────► UdmApiBackend ──► hexcore_udm::UdmApi   (N8, N12)
//!  SMF ── SubscriptionSource ─► UdmSubscriptions ► hexcore_udm::UdmApi   (N10)
//!  AMF ◄── SmfLink (two channels of hexcore_sbi values) ──► SMF          (N11)
//! ```

mod amf_udm;
mod smf_udm;

pub use amf_udm::UdmApiBackend;
pub use smf_udm::UdmSubscriptions;
