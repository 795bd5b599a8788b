//! The typed identifiers the SMF routes by. The SM context of a PDU session is
//! [`hexcore_sbi::SmContextRef`] (SUPI + PDU Session ID), shared with the AMF.

/// A UPF, by its place in `[[smf.upfs]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpfId(pub usize);

/// A Session Endpoint Identifier the SMF allocated: the CP SEID of an N4 session
/// (TS 29.244 §5.6.2), which the UPF puts in the header of what it sends about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Seid(pub u64);

/// Identifies a Session Report Request whose usage records await storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UsageAck(pub u64);
