//! OGC API – Features Part 1 (Core, GeoJSON, OpenAPI 3.0) and Part 2 (CRS by reference),
//! rooted at `/ogc`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::crs::Crs;
use crate::date::now_rfc3339;
use crate::read_model::Collection;

use super::http::base_url;
use super::problem::{ApiError, ApiResult};
use super::query::{self, item_query, items_query, plain_query, Params};
use super::AppState;

pub const GEOJSON: &str = "application/geo+json";
pub const JSON: &str = "application/json";
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ogc", web::get().to(landing))
        .route("/ogc/", web::get().to(landing))
        .route("/ogc/conformance", web::get().to(conformance))
        .route("/ogc/api", web::get().to(openapi))
        .route("/ogc/api.html", web::get().to(service_doc))
        .route("/ogc/collections", web::get().to(collections))
        .route("/ogc/collections/{id}", web::get().to(collection))
        .route("/ogc/collections/{id}/items", web::get().to(items))
        .route("/ogc/collections/{id}/items/{fid}", web::get().to(item));
}

fn link(href: String, rel: &str, typ: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": typ, "title": title })
}

fn json_response(v: &Value) -> HttpResponse {
    HttpResponse::Ok().content_type(JSON).body(v.to_string())
}

async fn landing(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    plain_query(&Params::any(req.query_string())?)?;
    let b = base_url(&req);
    Ok(json_response(&json!({
        "title": format!("ecofoncier – foncier économique – {}", state.model.regions.label()),
        "description": format!(
            "Inventaire des zones d'activités économiques (standard CNIG Sites économiques), \
             communes et EPCI, locaux commerciaux de centre-bourg et tiers-lieux. Les couches \
             économiques sont des données synthétiques ecofoncier ; la géographie est réelle \
             ({}).",
            state.model.attribution
        ),
        "links": [
            link(format!("{b}/ogc"), "self", JSON, "Cette page"),
            link(format!("{b}/ogc/api"), "service-desc", OPENAPI, "Définition OpenAPI 3.0"),
            link(format!("{b}/ogc/api.html"), "service-doc", "text/html", "Documentation de l'API"),
            link(format!("{b}/ogc/conformance"), "conformance", JSON, "Classes de conformité"),
            link(format!("{b}/ogc/collections"), "data", JSON, "Collections"),
        ],
    })))
}

async fn conformance(req: HttpRequest) -> ApiResult<HttpResponse> {
    plain_query(&Params::any(req.query_string())?)?;
    Ok(json_response(&json!({ "conformsTo": CONFORMANCE })))
}

async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(OPENAPI)
        .body(state.openapi.clone())
}

async fn service_doc(req: HttpRequest) -> HttpResponse {
    let b = base_url(&req);
    let body = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>ecofoncier – API</title></head>\
         <body><h1>ecofoncier – API OGC API – Features</h1>\
         <p>Définition OpenAPI 3.0 : <a href=\"{b}/ogc/api\">{b}/ogc/api</a></p>\
         <ul><li><a href=\"{b}/ogc\">Page d'accueil</a></li>\
         <li><a href=\"{b}/ogc/conformance\">Conformité</a></li>\
         <li><a href=\"{b}/ogc/collections\">Collections</a></li></ul></body></html>"
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// The JSON description of one collection.
fn collection_doc(c: &dyn Collection, attribution: &str, b: &str) -> Value {
    let s = c.about();
    let id = s.id;
    json!({
        "id": id,
        "title": s.title,
        "description": s.description,
        "itemType": "feature",
        "extent": {
            "spatial": {
                "bbox": [c.extent()],
                "crs": Crs::Crs84.uri(),
            }
        },
        "crs": Crs::ALL.map(|c| c.uri()),
        "storageCrs": Crs::Lambert93.uri(),
        "ecofoncier:synthetique": s.synthetic,
        "ecofoncier:nombreObjets": c.len(),
        "ecofoncier:typeGeometrie": c.geometry_type(),
        "attribution": if s.synthetic {
            "Données synthétiques ecofoncier (générées, sans réalité)".to_string()
        } else {
            attribution.to_string()
        },
        "links": [
            link(format!("{b}/ogc/collections/{id}"), "self", JSON, s.title),
            link(format!("{b}/ogc/collections/{id}/items"), "items", GEOJSON, "Objets (GeoJSON)"),
        ],
    })
}

fn find<'a>(state: &'a super::Snapshot, id: &str) -> ApiResult<&'a dyn Collection> {
    state
        .model
        .collection(id)
        .ok_or_else(|| ApiError::NotFound(format!("no collection `{id}`")))
}

async fn collections(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    plain_query(&Params::any(req.query_string())?)?;
    let b = base_url(&req);
    let cols: Vec<Value> = state
        .model
        .collections()
        .iter()
        .map(|c| collection_doc(*c, &state.model.attribution, &b))
        .collect();
    Ok(json_response(&json!({
        "links": [link(format!("{b}/ogc/collections"), "self", JSON, "Collections")],
        "collections": cols,
        "crs": Crs::ALL.map(|c| c.uri()),
    })))
}

async fn collection(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    plain_query(&Params::any(req.query_string())?)?;
    let c = find(&state, &path)?;
    Ok(json_response(&collection_doc(
        c,
        &state.model.attribution,
        &base_url(&req),
    )))
}

fn items_href(b: &str, id: &str, params: &Params, offset: Option<usize>) -> String {
    let mut kv: Vec<(&str, String)> = params
        .iter()
        .filter(|(k, _)| *k != "offset")
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    if let Some(o) = offset {
        kv.push(("offset", o.to_string()));
    }
    let qs = serde_urlencoded::to_string(&kv).unwrap_or_default();
    if qs.is_empty() {
        format!("{b}/ogc/collections/{id}/items")
    } else {
        format!("{b}/ogc/collections/{id}/items?{qs}")
    }
}

async fn items(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let app = state;
    let state = app.snapshot();
    let c = find(&state, &path)?;
    let index = state
        .model
        .collections()
        .iter()
        .position(|x| x.about().id == c.about().id)
        .unwrap_or(0) as u8;
    let params = Params::any(req.query_string())?;
    let q = items_query(&params, c)?;

    // The page's slots: selected by bbox and filters, or the live features in order.
    let (page, matched): (Vec<usize>, usize) = if q.bbox.is_none() && q.filters.is_empty() {
        let matched = c.len();
        let start = q.offset.min(matched);
        let end = start.saturating_add(q.limit).min(matched);
        let page = match c.nth_live(start) {
            Some(first) => c
                .live_slots()
                .skip_while(|&s| s < first)
                .take(end - start)
                .collect(),
            None => Vec::new(),
        };
        (page, matched)
    } else {
        let mut selected: Vec<usize> = match &q.bbox {
            Some(b) => c.intersecting(&b.area),
            None => c.live_slots().collect(),
        };
        if !q.filters.is_empty() {
            selected.retain(|&i| {
                q.filters
                    .iter()
                    .all(|(k, v)| query::matches(c.property(i, k).as_ref(), v))
            });
        }
        let matched = selected.len();
        let start = q.offset.min(matched);
        let end = start.saturating_add(q.limit).min(matched);
        (selected[start..end].to_vec(), matched)
    };
    let start = q.offset.min(matched);
    let end = start + page.len();
    let title = c.about().title;
    let id = c.about().id;

    let b = base_url(&req);
    let mut links = vec![
        link(
            items_href(&b, id, &params, None),
            "self",
            GEOJSON,
            "Cette page",
        ),
        link(
            format!("{b}/ogc/collections/{id}"),
            "collection",
            JSON,
            title,
        ),
    ];
    if end < matched {
        links.push(link(
            items_href(&b, id, &params, Some(end)),
            "next",
            GEOJSON,
            "Page suivante",
        ));
    }
    if start > 0 {
        let prev = start.saturating_sub(q.limit);
        links.push(link(
            items_href(&b, id, &params, Some(prev)),
            "prev",
            GEOJSON,
            "Page précédente",
        ));
    }

    let mut out = Vec::with_capacity(512 + page.len() * 700);
    out.extend_from_slice(br#"{"type":"FeatureCollection","numberMatched":"#);
    out.extend_from_slice(matched.to_string().as_bytes());
    out.extend_from_slice(br#","numberReturned":"#);
    out.extend_from_slice(page.len().to_string().as_bytes());
    out.extend_from_slice(br#","timeStamp":""#);
    out.extend_from_slice(now_rfc3339().as_bytes());
    out.extend_from_slice(br#"","links":"#);
    out.extend_from_slice(Value::Array(links).to_string().as_bytes());
    out.extend_from_slice(br#","features":["#);
    for (k, &i) in page.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        if q.crs == Crs::Crs84 {
            app.features
                .write(&mut out, state.model.lineage, index, c, i);
        } else {
            c.write_feature(&mut out, i, q.crs);
        }
    }
    out.extend_from_slice(b"]}");
    // A page's validator is its content: any change to a feature on it, or to which
    // features it holds, changes it (a hash fast enough for megabyte pages).
    let etag = crate::fast_etag_of(&out);
    if let Some(r) = super::http::unchanged(&req, &etag) {
        return Ok(r);
    }
    Ok(HttpResponse::Ok()
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", format!("<{}>", q.crs.uri())))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, etag))
        .body(out))
}

async fn item(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    app: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = app.snapshot();
    let (id, fid) = path.into_inner();
    let c = find(&state, &id)?;
    let (crs, datetime) = item_query(&Params::any(req.query_string())?)?;
    // An earlier state, or the confidential fields for the feature's own editors: built
    // from the record rather than served from the public serialization.
    if datetime.is_some() || req.headers().contains_key(header::AUTHORIZATION) {
        if let Some(r) = super::edit::item_view(&req, &id, &fid, crs, datetime, &app).await {
            return r;
        }
    }
    let i = c
        .index_of(&fid)
        .ok_or_else(|| ApiError::NotFound(format!("no feature `{fid}` in collection `{id}`")))?;
    let etag = super::http::etag(c.version(i));
    if let Some(r) = super::http::unchanged(&req, &etag) {
        return Ok(r);
    }
    let mut out = Vec::with_capacity(2048);
    c.write_feature(&mut out, i, crs);
    // Re-open the feature object to add its links.
    out.pop();
    let b = base_url(&req);
    let links = json!([
        link(
            format!("{b}/ogc/collections/{id}/items/{fid}"),
            "self",
            GEOJSON,
            "Cet objet"
        ),
        link(
            format!("{b}/ogc/collections/{id}"),
            "collection",
            JSON,
            c.about().title
        ),
    ]);
    out.extend_from_slice(br#","links":"#);
    out.extend_from_slice(links.to_string().as_bytes());
    out.push(b'}');
    Ok(HttpResponse::Ok()
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", format!("<{}>", crs.uri())))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, etag))
        .body(out))
}
