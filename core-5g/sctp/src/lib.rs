//! SCTP for N2.
#![forbid(unsafe_code)]
