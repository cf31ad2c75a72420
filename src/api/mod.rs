//! HTTP routes. `ogc` serves OGC API – Features; every handler reads the shared read model.

pub mod geometry_input;
pub mod ogc;
pub mod openapi;
pub mod problem;
pub mod query;
pub mod v1;

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::metrics::Metrics;
use crate::read_model::ReadModel;

pub use problem::{ApiError, ApiResult};

/// What every handler shares: the read model, its metrics and documents serialized once.
pub struct AppState {
    pub model: Arc<ReadModel>,
    pub metrics: Arc<Metrics>,
    /// The OpenAPI document, serialized once.
    pub openapi: String,
}

impl AppState {
    pub fn new(model: Arc<ReadModel>, metrics: Arc<Metrics>) -> AppState {
        let openapi = openapi::document(&model).to_string();
        AppState {
            model,
            metrics,
            openapi,
        }
    }
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health));
    ogc::configure(cfg);
    v1::configure(cfg);
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
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
    }))
}

/// Every unknown path: a 404 problem document.
pub async fn not_found(req: actix_web::HttpRequest) -> ApiResult<HttpResponse> {
    Err(ApiError::NotFound(format!("no route for `{}`", req.path())))
}
