//! NAS-5GS (TS 24.501) codec.
#![forbid(unsafe_code)]
