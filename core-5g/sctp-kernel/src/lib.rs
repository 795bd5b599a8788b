//! Kernel SCTP sockets for N2.
