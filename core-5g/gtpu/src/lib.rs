//! GTP-U (TS 29.281) — placeholder until the codec lands.
#![forbid(unsafe_code)]
