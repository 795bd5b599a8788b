//! AUSF/UDM/UDR for hexcore.
#![forbid(unsafe_code)]
