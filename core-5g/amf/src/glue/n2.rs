//! N2 listeners and association tasks over `hexcore_sctp`'s N2 API: each accepted
//! association gets a task that forwards NGAP (PPID 60) to the AMF task and sends what
//! the AMF task hands it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hexcore_sctp::{AssociationEvent, N2Association, N2Listener, N2Options, Transport};
use tokio::sync::{mpsc, watch};

use crate::amf::AssocId;

/// SCTP payload protocol identifier of NGAP (TS 38.412 §7).
pub const NGAP_PPID: u32 = 60;

/// Streams offered on every association.
pub const STREAMS: u16 = 16;

/// NGAP messages the AMF may queue for one association before it drops (and logs) the
/// next: room for a release or deregistration burst of every UE of a large gNB (the
/// channel allocates as it fills, not up front).
const SEND_QUEUE: usize = 16_384;

/// What association tasks tell the AMF task.
#[derive(Debug)]
pub enum ToAmf {
    /// A new association; NGAP for it goes to `tx`.
    Up {
        /// Its id.
        assoc: AssocId,
        /// Its outbound streams.
        out_streams: u16,
        /// Where to send (stream, NGAP octets).
        tx: mpsc::Sender<(u16, Vec<u8>)>,
    },
    /// The association is gone.
    Down {
        /// Its id.
        assoc: AssocId,
    },
    /// An operator request from the HTTP endpoint.
    Operator {
        /// What is asked.
        request: super::http::OperatorRequest,
        /// Where the answer goes.
        reply: tokio::sync::oneshot::Sender<super::http::OperatorResponse>,
    },
    /// NGAP received.
    Ngap {
        /// From.
        assoc: AssocId,
        /// Stream.
        stream: u16,
        /// Octets.
        bytes: Vec<u8>,
    },
}

/// Bind one N2 listener.
pub fn bind(transport: Transport, addr: SocketAddr, sctp_port: u16) -> Result<N2Listener, hexcore_sctp::Error> {
    let options = N2Options {
        streams: STREAMS,
        sctp_port,
        ..N2Options::default()
    };
    N2Listener::bind_with(transport, addr, &options)
}

/// Accept associations until shutdown.
pub async fn listen(
    listener: N2Listener,
    ids: Arc<AtomicU64>,
    to_amf: mpsc::Sender<ToAmf>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((association, peer)) => {
                    let assoc = AssocId(ids.fetch_add(1, Ordering::Relaxed));
                    tracing::info!(assoc = assoc.0, %peer, transport = %association.transport(), "N2 association up");
                    tokio::spawn(association_task(association, assoc, to_amf.clone(), shutdown.clone()));
                }
                Err(e) => {
                    tracing::warn!("N2 accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// One association: NGAP in to the AMF task, NGAP out from it.
pub async fn association_task(
    association: N2Association,
    assoc: AssocId,
    to_amf: mpsc::Sender<ToAmf>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (tx, mut rx) = mpsc::channel::<(u16, Vec<u8>)>(SEND_QUEUE);
    if to_amf
        .send(ToAmf::Up {
            assoc,
            out_streams: STREAMS,
            tx,
        })
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                let _ = association.close();
                break;
            }
            out = rx.recv() => match out {
                Some((stream, bytes)) => {
                    if let Err(e) = association.send(stream, NGAP_PPID, bytes).await {
                        tracing::warn!(assoc = assoc.0, "N2 send failed: {e}");
                    }
                }
                None => break,
            },
            event = association.recv() => match event {
                Some(AssociationEvent::Message { stream, ppid, data }) => {
                    if ppid != NGAP_PPID && ppid != 0 {
                        tracing::debug!(assoc = assoc.0, ppid, "non-NGAP message ignored");
                        continue;
                    }
                    let msg = ToAmf::Ngap { assoc, stream, bytes: data.to_vec() };
                    if to_amf.send(msg).await.is_err() {
                        break;
                    }
                }
                Some(AssociationEvent::Up) => {}
                Some(AssociationEvent::Restart) => {
                    // The peer restarted: its UE contexts are gone (RFC 4960 §5.2.2).
                    let _ = to_amf.send(ToAmf::Down { assoc }).await;
                    let (tx, new_rx) = mpsc::channel(SEND_QUEUE);
                    rx = new_rx;
                    let _ = to_amf.send(ToAmf::Up { assoc, out_streams: STREAMS, tx }).await;
                }
                Some(AssociationEvent::Down { reason }) => {
                    tracing::info!(assoc = assoc.0, reason, "N2 association down");
                    break;
                }
                None => break,
            },
        }
    }
    let _ = to_amf.send(ToAmf::Down { assoc }).await;
}
