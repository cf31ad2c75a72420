//! Every request observed: an id (the client's `X-Request-Id` when it is a plain token,
//! else one made here), a span carrying it for whatever the handlers log, one structured
//! line when the response head is ready (method, route pattern, path, status, duration),
//! the id sent back in `X-Request-Id`, and the request counted in [`crate::telemetry`].
//! `GET /metrics` serves those metrics to Prometheus.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use tracing::Instrument;

use super::AppState;
use crate::telemetry::{telemetry, CONTENT_TYPE};

/// The request id header, read and written.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of a request: the client's, when it is 1 to 64 letters, digits, `-`, `_` or `.`
/// (a proxy's or a load balancer's id ties their logs to these), else a new one, unique
/// within the process and unlikely to repeat across processes.
fn request_id(given: Option<&HeaderValue>) -> String {
    if let Some(v) = given.and_then(|v| v.to_str().ok()) {
        if (1..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return v.to_string();
        }
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (foldhash::fast::FixedState::with_seed(u64::from(std::process::id()))
            .hash_one(t.as_nanos())
            >> 32) as u32
    });
    format!("{prefix:08x}-{:08x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The middleware: see the module's documentation.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = request_id(req.headers().get(&REQUEST_ID));
    let method = req.method().to_string();
    let path = req.path().to_string();
    let span = tracing::info_span!("request", id = %id);
    let result = next.call(req).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let mut res = match result {
        Ok(res) => res,
        Err(e) => {
            // An error no handler turned into a response: log it like the others.
            let status = e.as_response_error().status_code().as_u16();
            telemetry().request(&method, "unmatched", status, seconds);
            span.in_scope(|| {
                tracing::info!(method = %method, route = "unmatched", path = %path, status, duration_ms = (seconds * 1e6).round() / 1e3)
            });
            return Err(e);
        }
    };
    let route = res.request().match_pattern().or_else(|| {
        // The default service (404, 405): the pattern of a path that exists with other
        // methods, so a 405 counts under its route.
        res.request().resource_map().match_pattern(&path)
    });
    let route = route.as_deref().unwrap_or("unmatched");
    let status = res.status().as_u16();
    telemetry().request(&method, route, status, seconds);
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            path = %path,
            status,
            duration_ms = (seconds * 1e6).round() / 1e3
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}

/// `GET /metrics`: the Prometheus metrics (OpenMetrics text) of this instance.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let snap = state.snapshot();
    let features: Vec<(&'static str, usize)> = snap
        .model
        .collections()
        .iter()
        .map(|c| (c.about().id, c.len()))
        .collect();
    let body = telemetry().encode(
        snap.audit_version,
        snap.generation,
        state.publisher.published_at().elapsed().as_secs_f64(),
        &features,
    );
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}
