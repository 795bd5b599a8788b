//! SCTP for N2.
