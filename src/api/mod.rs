//! HTTP routes. `ogc` serves OGC API – Features; every handler reads the shared read model.

pub mod cors;
pub mod edit;
pub mod encoding;
pub mod export;
pub mod geometry_input;
pub mod html;
pub mod http;
pub mod memo;
pub mod observe;
pub mod ogc;
pub mod openapi;
pub mod problem;
pub mod query;
pub mod tiles;
pub mod v1;
pub mod webmap;

use std::sync::{Arc, Mutex};

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::metrics::Metrics;
use crate::publish::{Publisher, Snapshot};
use crate::read_model::served::FeatureCache;
use crate::read_model::ReadModel;

pub use problem::{ApiError, ApiResult};

/// What every handler shares: the publisher of the current snapshot, documents serialized
/// once, and the PostGIS store when the data lives there (writes go to it first).
pub struct AppState {
    pub publisher: Arc<Publisher>,
    /// The OpenAPI document, serialized once.
    pub openapi: String,
    pub store: Option<crate::store::write::Writer>,
    /// Whether this server is in step with the PostGIS it follows (when it follows one).
    pub following: Option<Arc<crate::store::follow::Following>>,
    /// The web map's page with the overview inlined, made on first request (per lineage
    /// of the model: the EPCIs it draws are not edited).
    pub page: Mutex<Option<(u64, Arc<webmap::Prepared>)>>,
    /// Encoded features kept for the items pages ([`FeatureCache`]).
    pub features: FeatureCache,
    /// Compressed answers kept for reuse ([`encoding::Compressed`]).
    pub compressed: encoding::Compressed,
    /// The selections of filtered or sorted items queries, by snapshot and query.
    pub selections: memo::Memo<Arc<Vec<usize>>>,
    /// What shared caches may do with public answers.
    pub cache: encoding::CachePolicy,
    /// Which origins may read and write from a browser.
    pub cors: cors::Cors,
}

/// Bytes of filtered selections the items pages keep.
pub const SELECTION_CACHE_BYTES: usize = 32 << 20;

/// Bytes of encoded features the items pages keep by default.
pub const FEATURE_CACHE_BYTES: usize = 64 << 20;

impl AppState {
    pub fn new(model: Arc<ReadModel>, metrics: Arc<Metrics>) -> AppState {
        let openapi = openapi::document(&model, false).to_string();
        AppState {
            publisher: Arc::new(Publisher::new(model, metrics)),
            openapi,
            store: None,
            following: None,
            page: Mutex::new(None),
            features: FeatureCache::new(FEATURE_CACHE_BYTES),
            compressed: encoding::Compressed::new(encoding::COMPRESSED_CACHE_BYTES),
            selections: memo::Memo::new(SELECTION_CACHE_BYTES),
            cache: encoding::CachePolicy::default(),
            cors: cors::Cors::default(),
        }
    }

    /// With this cross-origin policy and this caching policy.
    pub fn with_edge(mut self, cors: cors::Cors, cache: encoding::CachePolicy) -> AppState {
        self.cors = cors;
        self.cache = cache;
        self
    }

    /// With a feature cache of `bytes` bytes (0: none).
    pub fn with_feature_cache(mut self, bytes: usize) -> AppState {
        self.features = FeatureCache::new(bytes);
        self
    }

    /// With writes going to PostGIS through `writer`.
    pub fn with_store(mut self, writer: crate::store::write::Writer) -> AppState {
        self.store = Some(writer);
        self.openapi = openapi::document(&self.snapshot().model, true).to_string();
        self
    }

    /// Following the writes of other instances, in step as `following` says.
    pub fn with_following(mut self, following: Arc<crate::store::follow::Following>) -> AppState {
        self.following = Some(following);
        self
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.publisher.snapshot()
    }
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health));
    cfg.route("/ready", web::get().to(ready));
    cfg.route("/metrics", web::get().to(observe::metrics));
    ogc::configure(cfg);
    edit::configure(cfg);
    export::configure(cfg);
    tiles::configure(cfg);
    webmap::configure(cfg);
    v1::configure(cfg);
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    let state = state.snapshot();
    let counts: serde_json::Map<String, serde_json::Value> = state
        .model
        .report
        .counts
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "loaded": counts,
        "load_ms": (state.model.report.elapsed.as_secs_f64() * 1e3).round(),
        "snapshot_version": state.audit_version,
    }))
}

/// Readiness, distinct from liveness (`/health`): the read model is loaded (it is, once the
/// server listens) and, when the data lives in PostGIS, PostGIS answers, so writes can be
/// taken, and the server is in step with it (listening for other instances' writes and
/// caught up with those it may have missed: at start, after a lost connection); 503 with
/// `Retry-After` otherwise, for a load balancer or an operator to wait on.
async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if state.following.as_ref().is_some_and(|f| !f.in_step()) {
        return Err(ApiError::Unavailable(
            "catching up with the writes made in PostGIS".into(),
        ));
    }
    if let Some(store) = &state.store {
        store
            .ping()
            .await
            .map_err(|e| ApiError::Unavailable(format!("PostGIS does not answer: {e}")))?;
    }
    let snap = state.snapshot();
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "writes": state.store.is_some(),
        "snapshot_generation": snap.generation,
        "snapshot_version": snap.audit_version,
    })))
}

/// Whether the request's `If-None-Match` names `etag` (or is `*`): the client's copy is
/// current. The comparison is weak (RFC 9110 §13.1.2): `W/"x"` names `"x"` too.
pub fn not_modified(req: &actix_web::HttpRequest, etag: &str) -> bool {
    let Some(v) = req
        .headers()
        .get(actix_web::http::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    if v.trim() == "*" {
        return true;
    }
    let ours = etag.trim_start_matches("W/").trim_matches('"');
    http::entity_tags(v).is_some_and(|tags| tags.iter().any(|(_, t)| *t == ours))
}

/// The methods of the paths that take more than GET and HEAD (writes, POST-only metrics),
/// and whether those are writes (taken only with PostGIS).
const METHODS: &[(&str, &str, bool)] = &[
    ("/ogc/collections/{id}/items", "GET, HEAD, POST", true),
    (
        "/ogc/collections/{id}/items/{fid}",
        "GET, HEAD, PUT, PATCH, DELETE",
        true,
    ),
    ("/api/v1/proposals/check", "POST", false),
    ("/api/v1/scenarios/commute", "POST", false),
];

/// Every request no route takes: 405 with `Allow` when the path exists with other methods,
/// else a 404 problem document.
pub async fn not_found(req: actix_web::HttpRequest) -> ApiResult<HttpResponse> {
    if let Some(pattern) = req.resource_map().match_pattern(req.path()) {
        // A read-only instance (no PostGIS) takes no write anywhere.
        let writes = req
            .app_data::<web::Data<AppState>>()
            .is_some_and(|s| s.store.is_some());
        let allow = METHODS
            .iter()
            .find(|(p, _, write)| *p == pattern && (writes || !write))
            .map_or("GET, HEAD", |(_, m, _)| m);
        return Err(ApiError::WrongMethod {
            message: format!("`{}` takes {allow}, not {}", req.path(), req.method()),
            allow,
        });
    }
    Err(ApiError::NotFound(format!("no route for `{}`", req.path())))
}
