//! The AMF's NAS timers (TS 24.501 §10.2). Each UE context runs at most one at a time
//! (the procedures that start them are exclusive, TS 24.501 §5.1.3), and each 5GMM
//! context in CM-IDLE runs its implicit deregistration timer; the AMF keeps all of them
//! in one `hexcore_timer::TimerTable`.

/// The network-side 5GMM timers (TS 24.501 §10.2, Table 10.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NasTimer {
    /// Registration accept sent, waiting for Registration complete.
    T3550,
    /// Authentication request or Security mode command sent.
    T3560,
    /// Identity request sent.
    T3570,
    /// Deregistration request (network-initiated) sent.
    T3522,
    /// A registered UE in CM-IDLE has not been heard of for T3512 plus the mobile
    /// reachable and implicit deregistration margins (TS 24.501 §5.3.7): it is
    /// deregistered implicitly.
    ImplicitDeregistration,
}

impl NasTimer {
    /// Every timer, in declaration order.
    pub const ALL: [NasTimer; 5] = [
        NasTimer::T3550,
        NasTimer::T3560,
        NasTimer::T3570,
        NasTimer::T3522,
        NasTimer::ImplicitDeregistration,
    ];
    /// How many there are.
    pub const COUNT: usize = Self::ALL.len();

    /// The name used in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            NasTimer::T3550 => "T3550",
            NasTimer::T3560 => "T3560",
            NasTimer::T3570 => "T3570",
            NasTimer::T3522 => "T3522",
            NasTimer::ImplicitDeregistration => "implicit_deregistration",
        }
    }
}
