//! 3GPP security algorithms and key derivations.
#![forbid(unsafe_code)]
