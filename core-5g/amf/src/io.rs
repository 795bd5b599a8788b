//! What crosses the AMF's sans-IO boundary: the [`Input`]s the glue feeds in, the
//! [`Output`]s it carries out, and the [`Event`]s for metrics and logs.

use hexcore_ngap::Cause;

use crate::udm::{UdmRequest, UdmResponse};

/// One N2 association, as the glue numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssocId(pub u64);

/// What the glue feeds the AMF.
#[derive(Debug)]
pub enum Input {
    /// A new association from a gNB, with its number of outbound streams.
    AssociationUp {
        /// The association.
        assoc: AssocId,
        /// Outbound streams negotiated (stream 0 is for non-UE-associated signalling).
        out_streams: u16,
    },
    /// The association is gone (shutdown, abort, restart): its UEs go with it.
    AssociationDown {
        /// The association.
        assoc: AssocId,
    },
    /// One NGAP PDU (SCTP PPID 60) received.
    Ngap {
        /// From this association.
        assoc: AssocId,
        /// On this stream.
        stream: u16,
        /// The octets.
        bytes: Vec<u8>,
    },
    /// The UDM/AUSF answered a request.
    Udm(UdmResponse),
    /// An SMF's answer or request (Namf_Communication, TS 29.518).
    Smf(hexcore_sbi::AmfRequest),
    /// An [`Output::Smf`] request could not be delivered (no SMF, SMF down).
    SmfUnreachable(hexcore_sbi::SmfRequest),
    /// `now` has passed the deadline of `poll_timeout`.
    Timeout,
}

/// What the AMF asks the glue to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send an NGAP PDU.
    Ngap {
        /// On this association.
        assoc: AssocId,
        /// On this stream.
        stream: u16,
        /// The octets.
        bytes: Vec<u8>,
    },
    /// Ask the UDM/AUSF; the answer comes back as [`Input::Udm`].
    Udm(UdmRequest),
    /// Ask the SMF (Nsmf_PDUSession, TS 29.502); answers come back as [`Input::Smf`].
    Smf(hexcore_sbi::SmfRequest),
    /// Something to count or log.
    Event(Event),
}

/// Events for metrics and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// NG Setup succeeded: the gNB is connected.
    GnbConnected {
        /// Its association.
        assoc: AssocId,
        /// Its RAN node name, if it sent one.
        name: Option<String>,
    },
    /// A connected gNB went away (association down or NG Setup repeated).
    GnbDisconnected {
        /// Its association.
        assoc: AssocId,
    },
    /// A UE context changed state (`None`: created / removed).
    UeState {
        /// AMF UE NGAP ID.
        ue: u64,
        /// The previous state's name.
        from: Option<&'static str>,
        /// The new state's name.
        to: Option<&'static str>,
    },
    /// A procedure ended.
    Procedure {
        /// E.g. "ng_setup", "registration", "authentication".
        procedure: &'static str,
        /// "success" or "failure".
        outcome: &'static str,
        /// The cause of a failure ("" on success).
        cause: String,
    },
    /// 5G-AKA did not succeed.
    AuthenticationFailure {
        /// AMF UE NGAP ID.
        ue: u64,
        /// E.g. "mac_failure", "synch_failure", "res_star_mismatch".
        reason: &'static str,
    },
    /// An uplink NAS message was dropped.
    NasDropped {
        /// AMF UE NGAP ID.
        ue: u64,
        /// "integrity", "unprotected", "undecodable".
        reason: &'static str,
    },
    /// An Error Indication was sent.
    ErrorIndication {
        /// To this association.
        assoc: AssocId,
        /// Its cause.
        cause: Cause,
    },
    /// A NAS message was retransmitted on timer expiry.
    Retransmission {
        /// AMF UE NGAP ID.
        ue: u64,
        /// The timer.
        timer: &'static str,
    },
    /// Something went wrong that only a log can tell.
    Warning(String),
}
