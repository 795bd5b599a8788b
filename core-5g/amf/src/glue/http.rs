//! The AMF's operator API, served on the process's HTTP endpoint (hexcore-service's,
//! beside `/metrics`):
//!
//! ```text
//! GET  /v1/ues                       every UE the AMF knows (JSON)
//! POST /v1/ues/{supi}/deregister     network-initiated deregistration (TS 24.501 §5.5.2.3)
//! ```
//!
//! The operator API changes network state, so the endpoint binds to loopback by
//! default (`[metrics] bind`); expose it beyond the host only behind an authenticating
//! proxy. The AMF task owns the AMF: requests reach it as [`ToAmf::Operator`] and the
//! answer comes back on a oneshot channel.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{mpsc, oneshot};

use super::n2::ToAmf;
use crate::amf::UeSummary;

/// What the operator asks of the AMF task.
#[derive(Debug)]
pub enum OperatorRequest {
    /// List the UEs.
    ListUes,
    /// Deregister a SUPI from the network side.
    Deregister {
        /// SUPI: IMSI digits, with or without the `imsi-` prefix.
        supi: String,
    },
}

/// The AMF task's answer.
#[derive(Debug)]
pub enum OperatorResponse {
    /// The UEs.
    Ues(Vec<UeSummary>),
    /// Whether the SUPI was known (registered, connected or idle).
    Deregistered(bool),
}

/// The routes, answered by the AMF task behind `to_amf`.
pub fn router(to_amf: mpsc::Sender<ToAmf>) -> axum::Router {
    axum::Router::new()
        .route("/v1/ues", get(list_ues))
        .route("/v1/ues/{supi}/deregister", post(deregister))
        .with_state(AppState { to_amf })
}

#[derive(Clone)]
struct AppState {
    to_amf: mpsc::Sender<ToAmf>,
}

async fn ask(s: &AppState, request: OperatorRequest) -> Result<OperatorResponse, Response> {
    let (reply, answer) = oneshot::channel();
    let unavailable = || (StatusCode::SERVICE_UNAVAILABLE, "the AMF is shutting down\n").into_response();
    s.to_amf
        .send(ToAmf::Operator { request, reply })
        .await
        .map_err(|_| unavailable())?;
    answer.await.map_err(|_| unavailable())
}

async fn list_ues(State(s): State<AppState>) -> Response {
    match ask(&s, OperatorRequest::ListUes).await {
        Ok(OperatorResponse::Ues(ues)) => Json(ues).into_response(),
        Ok(other) => internal(other),
        Err(r) => r,
    }
}

async fn deregister(State(s): State<AppState>, Path(supi): Path<String>) -> Response {
    let digits = supi.strip_prefix("imsi-").unwrap_or(&supi).to_string();
    if digits.len() < 6 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return (
            StatusCode::BAD_REQUEST,
            format!("SUPI must be an IMSI of 6 to 15 digits (optionally imsi-…), got {supi:?}\n"),
        )
            .into_response();
    }
    match ask(&s, OperatorRequest::Deregister { supi: digits.clone() }).await {
        Ok(OperatorResponse::Deregistered(true)) => {
            (StatusCode::ACCEPTED, format!("deregistering imsi-{digits}\n")).into_response()
        }
        Ok(OperatorResponse::Deregistered(false)) => {
            (StatusCode::NOT_FOUND, format!("imsi-{digits} is not registered\n")).into_response()
        }
        Ok(other) => internal(other),
        Err(r) => r,
    }
}

fn internal(answer: OperatorResponse) -> Response {
    tracing::error!(?answer, "operator API: unexpected answer from the AMF task");
    (StatusCode::INTERNAL_SERVER_ERROR, "unexpected answer\n").into_response()
}
