//! Information elements, one file per family.

pub mod identity;
pub mod mm;
pub mod nssai;
pub mod sm;

pub use identity::*;
pub use mm::*;
pub use nssai::*;
pub use sm::*;
