//! Editing, OGC API – Features Part 4 style: `POST …/items`, `PUT`, `PATCH` (a JSON Merge
//! Patch of the feature, `application/merge-patch+json`) and `DELETE …/items/{featureId}`
//! on sites, plots, establishments, premises and tiers-lieux, and each feature's audit
//! history at `…/items/{featureId}/history`.
//!
//! Writes need a bearer token (EPCI editor or admin) and, but for a creation, the
//! feature's ETag in `If-Match`. They go to PostGIS first; the committed feature is then
//! published in a new read-model snapshot with recomputed metrics. Without `DATABASE_URL`
//! the service serves the embedded files and is read-only: writes answer 405.

use std::sync::Arc;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use geo::Geometry;
use serde_json::{json, Value};

use super::http::{etag, read_body};
use super::{ApiError, ApiResult, AppState};
use crate::crs::{self, Crs};
use crate::model::Feature;
use crate::publish::Snapshot;
use crate::store::write::{AsOf, Editable, Op, Precondition, Principal, WriteError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ogc/collections/{id}/items", web::post().to(create))
        .route("/ogc/collections/{id}/items/{fid}", web::put().to(replace))
        .route("/ogc/collections/{id}/items/{fid}", web::patch().to(patch))
        .route(
            "/ogc/collections/{id}/items/{fid}",
            web::delete().to(delete),
        )
        .route(
            "/ogc/collections/{id}/items/{fid}/history",
            web::get().to(history),
        );
}

fn api_error(e: WriteError) -> ApiError {
    match e {
        WriteError::Unauthorized => ApiError::Unauthorized(e.to_string()),
        WriteError::Forbidden(m) => ApiError::Forbidden(m),
        WriteError::NotFound(m) => ApiError::NotFound(m),
        WriteError::PreconditionRequired => ApiError::PreconditionRequired(e.to_string()),
        WriteError::Stale { .. } => ApiError::PreconditionFailed(e.to_string()),
        WriteError::NoneMatched(m) => ApiError::PreconditionFailed(m),
        WriteError::Throttled { retry_after } => ApiError::TooManyRequests {
            message: e.to_string(),
            retry_after,
        },
        WriteError::Invalid { field, message } => ApiError::BadBody { field, message },
        WriteError::Conflict(m) => ApiError::Conflict(m),
        WriteError::Unavailable(_) => ApiError::Unavailable(e.to_string()),
        WriteError::Internal(m) => ApiError::Internal(m),
    }
}

fn read_only() -> ApiError {
    ApiError::MethodNotAllowed(
        "the service runs on the embedded dataset, which is read-only: start it with \
         DATABASE_URL (PostGIS) to edit the inventory"
            .into(),
    )
}

/// The bearer token of the request, if any.
fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn principal(req: &HttpRequest, state: &AppState) -> ApiResult<Principal> {
    let writer = state.store.as_ref().ok_or_else(read_only)?;
    let token = bearer(req).ok_or_else(|| api_error(WriteError::Unauthorized))?;
    writer.authenticate(token).await.map_err(api_error)
}

/// The request's `If-Match` (RFC 9110 §13.1.1): `*`, or entity tags compared strongly
/// with the feature's version; a header that is not that grammar is a 400 naming it.
fn if_match(req: &HttpRequest) -> ApiResult<Option<Precondition>> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("\u{0}");
    let bad = || ApiError::BadBody {
        field: "If-Match".into(),
        message: format!("`{text}` is neither `*` nor a list of entity tags (\"3\", W/\"3\")"),
    };
    if text.trim() == "*" {
        return Ok(Some(Precondition::Any));
    }
    let tags = super::http::entity_tags(text).ok_or_else(bad)?;
    let versions = tags
        .iter()
        .filter(|(weak, _)| !weak)
        .filter_map(|(_, tag)| tag.parse().ok())
        .collect();
    Ok(Some(Precondition::Versions(versions)))
}

/// The CRS of a request body: `Content-Crs`, CRS84 by default.
fn content_crs(req: &HttpRequest) -> ApiResult<Crs> {
    match req.headers().get("Content-Crs") {
        None => Ok(Crs::Crs84),
        Some(v) => {
            let text = v.to_str().unwrap_or("");
            Crs::parse(text.trim().trim_start_matches('<').trim_end_matches('>')).map_err(|e| {
                ApiError::BadBody {
                    field: "Content-Crs".into(),
                    message: e.to_string(),
                }
            })
        }
    }
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadBody {
        field: field.into(),
        message: message.into(),
    }
}

/// A GeoJSON geometry in `crs` → Lambert-93.
fn geometry(v: &Value, crs: Crs) -> ApiResult<Geometry<f64>> {
    let g: geojson::Geometry = serde_json::from_value(v.clone())
        .map_err(|e| bad("geometry", format!("not a GeoJSON geometry: {e}")))?;
    let g: Geometry<f64> = g
        .try_into()
        .map_err(|e: geojson::Error| bad("geometry", e.to_string()))?;
    crs::geometry_to_l93(&g, crs).map_err(|e| bad("geometry", e.to_string()))
}

/// The name of `R`'s identifier property.
fn key_field<R: Editable>() -> &'static str {
    R::KEY.trim_matches('"')
}

/// A GeoJSON Feature body → a feature (Lambert-93). `path_id` is the URL's id, which the
/// body's must equal when it has one.
fn feature<R: Editable>(body: &[u8], crs: Crs, path_id: Option<&str>) -> ApiResult<Feature<R>> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| bad("body", format!("not JSON: {e}")))?;
    if v.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(bad("type", "the body must be a GeoJSON Feature"));
    }
    let g = geometry(v.get("geometry").unwrap_or(&Value::Null), crs)?;
    let mut props = match v.get("properties") {
        Some(Value::Object(m)) => m.clone(),
        _ => return Err(bad("properties", "an object is required")),
    };
    let key = key_field::<R>();
    if let Some(id) = path_id {
        match props.get(key).and_then(Value::as_str) {
            Some(given) if given != id => {
                return Err(bad(key, format!("`{given}` differs from the URL's `{id}`")))
            }
            _ => {
                props.insert(key.into(), Value::String(id.into()));
            }
        }
    }
    let record: R = serde_json::from_value(Value::Object(props))
        .map_err(|e| bad("properties", e.to_string()))?;
    Ok(Feature {
        geometry: g,
        record,
    })
}

/// Runs a write of `R` by `who` and publishes its result.
async fn run<R: Editable>(
    req: &HttpRequest,
    state: &AppState,
    who: Principal,
    op: Op<R>,
) -> ApiResult<(Arc<Snapshot>, i64)> {
    let writer = state.store.as_ref().ok_or_else(read_only)?;
    let expected = if_match(req)?;
    let _serial = state.publisher.lock().await;
    let snap = state.snapshot();
    let written = writer
        .write(&snap.model, &who, op, expected.as_ref())
        .await
        .map_err(api_error)?;
    // Committed: publish it (a failure here cannot undo the commit; a reload would).
    let (next, _) = state
        .publisher
        .apply(written.change, written.version, written.audit)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    crate::telemetry::telemetry().write_published(R::COLLECTION, crate::telemetry::Origin::Local);
    Ok((next, written.version))
}

/// The stored feature as the API serves it (CRS84), with its ETag.
fn feature_response(
    snap: &Snapshot,
    collection: &str,
    id: &str,
    version: i64,
    status: actix_web::http::StatusCode,
    req: &HttpRequest,
) -> HttpResponse {
    let mut body = Vec::new();
    if let Some(c) = snap.model.collection(collection) {
        if let Some(i) = c.index_of(id) {
            c.write_feature(&mut body, i, Crs::Crs84);
        }
    }
    let location = format!(
        "{}/ogc/collections/{collection}/items/{id}",
        super::http::base_url(req)
    );
    HttpResponse::build(status)
        .content_type("application/geo+json")
        .insert_header((header::ETAG, etag(version)))
        .insert_header((header::LOCATION, location))
        .body(body)
}

/// Calls `$f::<R>` for the record type of collection `$c`; read-only and unknown
/// collections are refused.
macro_rules! by_collection {
    ($c:expr, $f:ident ( $($arg:expr),* )) => {
        crate::editable!($c, R => $f::<R>($($arg),*).await, other => {
            if ["communes", "epci", "poles"].contains(&other) {
                Err(ApiError::MethodNotAllowed(format!(
                    "collection `{other}` is not edited here"
                )))
            } else {
                Err(ApiError::NotFound(format!("no collection `{other}`")))
            }
        })
    };
}

async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let c = path.into_inner();
    by_collection!(c.as_str(), create_one(&req, payload, &state))
}

async fn create_one<R: Editable>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> ApiResult<HttpResponse> {
    // Who writes is settled before what is written is read: a request without a valid
    // token learns nothing of the rules.
    let who = principal(req, state).await?;
    let body = read_body(payload).await?;
    let f: Feature<R> = feature(&body, content_crs(req)?, None)?;
    let id = f.record.id().to_string();
    let (snap, v) = run(req, state, who, Op::Create(f)).await?;
    Ok(feature_response(
        &snap,
        R::COLLECTION,
        &id,
        v,
        actix_web::http::StatusCode::CREATED,
        req,
    ))
}

async fn replace(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (c, fid) = path.into_inner();
    by_collection!(c.as_str(), replace_one(&req, fid, payload, &state))
}

async fn replace_one<R: Editable>(
    req: &HttpRequest,
    fid: String,
    payload: web::Payload,
    state: &AppState,
) -> ApiResult<HttpResponse> {
    // Who writes is settled before what is written is read: a request without a valid
    // token learns nothing of the rules.
    let who = principal(req, state).await?;
    let body = read_body(payload).await?;
    let f: Feature<R> = feature(&body, content_crs(req)?, Some(&fid))?;
    let (snap, v) = run(req, state, who, Op::Replace(f)).await?;
    Ok(feature_response(
        &snap,
        R::COLLECTION,
        &fid,
        v,
        actix_web::http::StatusCode::OK,
        req,
    ))
}

async fn patch(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (c, fid) = path.into_inner();
    by_collection!(c.as_str(), patch_one(&req, fid, payload, &state))
}

async fn patch_one<R: Editable>(
    req: &HttpRequest,
    fid: String,
    payload: web::Payload,
    state: &AppState,
) -> ApiResult<HttpResponse> {
    // Who writes is settled before what is written is read: a request without a valid
    // token learns nothing of the rules.
    let who = principal(req, state).await?;
    let body = read_body(payload).await?;
    let v: Value =
        serde_json::from_slice(&body).map_err(|e| bad("body", format!("not JSON: {e}")))?;
    let Value::Object(doc) = v else {
        return Err(bad(
            "body",
            "a JSON Merge Patch of the feature is an object",
        ));
    };
    let properties = doc.get("properties").cloned().unwrap_or(json!({}));
    if !properties.is_object() {
        return Err(bad("properties", "must be an object"));
    }
    let geometry = match doc.get("geometry") {
        None => None,
        Some(Value::Null) => return Err(bad("geometry", "a feature keeps its geometry")),
        Some(g) => Some(geometry(g, content_crs(req)?)?),
    };
    let op = Op::<R>::Patch {
        id: fid.clone(),
        properties,
        geometry,
    };
    let (snap, v) = run(req, state, who, op).await?;
    Ok(feature_response(
        &snap,
        R::COLLECTION,
        &fid,
        v,
        actix_web::http::StatusCode::OK,
        req,
    ))
}

async fn delete(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (c, fid) = path.into_inner();
    by_collection!(c.as_str(), delete_one(&req, fid, &state))
}

async fn delete_one<R: Editable>(
    req: &HttpRequest,
    fid: String,
    state: &AppState,
) -> ApiResult<HttpResponse> {
    let who = principal(req, state).await?;
    run::<R>(req, state, who, Op::Delete(fid)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /ogc/collections/{id}/items/{fid}` with `datetime` (the feature as it was then,
/// from the audit history) or a bearer token (the confidential fields for the feature's
/// EPCI editors and admins). `None` when the public serialization answers: a collection
/// that is not edited and no `datetime`.
pub async fn item_view(
    req: &HttpRequest,
    collection: &str,
    fid: &str,
    crs: Crs,
    datetime: Option<String>,
    state: &AppState,
) -> Option<ApiResult<HttpResponse>> {
    let fid = fid.to_string();
    let r = crate::editable!(collection, R => view::<R>(req, fid, crs, datetime, state).await, other => {
        if datetime.is_some() {
            Err(ApiError::param(
                "datetime",
                format!("collection `{other}` is not edited and keeps no history"),
            ))
        } else {
            return None;
        }
    });
    Some(r)
}

/// A record's fields as a JSON object.
fn properties<T: serde::Serialize>(record: &T) -> ApiResult<serde_json::Map<String, Value>> {
    match serde_json::to_value(record).map_err(|e| ApiError::Internal(e.to_string()))? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::Internal("a record is an object".into())),
    }
}

async fn view<R: Editable>(
    req: &HttpRequest,
    fid: String,
    crs: Crs,
    datetime: Option<String>,
    state: &AppState,
) -> ApiResult<HttpResponse> {
    let snap = state.snapshot();
    let current = R::layer(&snap.model).by_id(&fid);
    let epci = current.and_then(|f| f.record.epci(&snap.model));
    let privileged = match (bearer(req), state.store.as_ref()) {
        (None, _) => false,
        (Some(_), None) => {
            return Err(ApiError::Unauthorized(
                "tokens exist only when the service runs on PostGIS".into(),
            ))
        }
        (Some(t), Some(w)) => w
            .authenticate(t)
            .await
            .map(|p| p.may_edit(epci.as_deref()))
            .map_err(api_error)?,
    };
    let missing = || {
        ApiError::NotFound(format!(
            "no feature `{fid}` in collection `{}`",
            R::COLLECTION
        ))
    };
    // Properties and Lambert-93 geometry, now or then.
    let (mut props, geometry, version) = match &datetime {
        None => {
            let f = current.ok_or_else(missing)?;
            (
                properties(f.record)?,
                f.geometry(),
                Some(R::layer(&snap.model).version(f.slot)),
            )
        }
        Some(at) => {
            let writer = state.store.as_ref().ok_or_else(|| {
                ApiError::param(
                    "datetime",
                    "the embedded dataset keeps no history (no DATABASE_URL)",
                )
            })?;
            match writer
                .state_at(R::COLLECTION, R::TABLE, &fid, at)
                .await
                .map_err(api_error)?
            {
                AsOf::Current => {
                    let f = current
                        .ok_or_else(|| ApiError::NotFound(format!("no feature `{fid}` at {at}")))?;
                    (properties(f.record)?, f.geometry(), None)
                }
                AsOf::Was(None) => {
                    return Err(ApiError::NotFound(format!("no feature `{fid}` at {at}")))
                }
                AsOf::Was(Some(Value::Object(mut m))) => {
                    let g = m
                        .remove("geometry")
                        .and_then(|g| serde_json::from_value::<geojson::Geometry>(g).ok())
                        .and_then(|g| geo::Geometry::<f64>::try_from(&g).ok())
                        .ok_or_else(|| ApiError::Internal("an audited geometry".into()))?;
                    (m, g, None)
                }
                AsOf::Was(Some(_)) => return Err(ApiError::Internal("an audited state".into())),
            }
        }
    };
    if !privileged {
        for k in R::CONFIDENTIAL {
            props.remove(*k);
        }
    }
    let g =
        crs::geometry_from_l93(&geometry, crs).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut body = json!({
        "type": "Feature",
        "id": fid,
        "geometry": geojson::Geometry::from(&g),
        "properties": props,
    });
    if let Some(at) = &datetime {
        body["properties"]["etat_au"] = json!(at);
    }
    let mut res = HttpResponse::Ok();
    res.content_type("application/geo+json")
        .insert_header(("Content-Crs", format!("<{}>", crs.uri())))
        .insert_header((header::CACHE_CONTROL, "private, no-store"));
    if let Some(v) = version {
        res.insert_header((header::ETAG, etag(v)));
    }
    Ok(res.body(body.to_string()))
}

async fn history(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let (c, fid) = path.into_inner();
    by_collection!(c.as_str(), history_of(&req, fid, &state))
}

/// The audit rows of a feature. Confidential fields are shown only to the feature's EPCI
/// editors and to admins.
async fn history_of<R: Editable>(
    req: &HttpRequest,
    fid: String,
    state: &AppState,
) -> ApiResult<HttpResponse> {
    let writer = state.store.as_ref().ok_or_else(|| {
        ApiError::NotFound("no history: the embedded dataset is not edited".into())
    })?;
    let snap = state.snapshot();
    let epci = R::layer(&snap.model)
        .by_id(&fid)
        .and_then(|f| f.record.epci(&snap.model));
    let privileged = match bearer(req) {
        Some(t) => writer
            .authenticate(t)
            .await
            .map(|p| p.may_edit(epci.as_deref()))
            .map_err(api_error)?,
        None => false,
    };
    let mut rows = writer
        .history(R::COLLECTION, &fid)
        .await
        .map_err(api_error)?;
    if rows.is_empty() && R::layer(&snap.model).by_id(&fid).is_none() {
        return Err(ApiError::NotFound(format!(
            "no feature `{fid}` in collection `{}`",
            R::COLLECTION
        )));
    }
    if !privileged {
        for r in &mut rows {
            for side in ["avant", "apres"] {
                if let Some(Value::Object(m)) = r.get_mut(side) {
                    for k in R::CONFIDENTIAL {
                        m.remove(*k);
                    }
                }
            }
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(json!({ "collection": R::COLLECTION, "id": fid, "historique": rows }).to_string()))
}
