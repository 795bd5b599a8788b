//! PFCP (TS 29.244) — placeholder until the codec lands.
#![forbid(unsafe_code)]
