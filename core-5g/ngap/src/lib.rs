//! NGAP (TS 38.413) for hexcore.
#![forbid(unsafe_code)]
