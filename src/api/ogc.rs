//! OGC API – Features Part 1 (Core, GeoJSON, OpenAPI 3.0) and Part 2 (CRS by reference),
//! rooted at `/ogc`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use crate::crs::Crs;
use crate::read_model::Collection;

use super::html;
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
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
];

/// The media type of a JSON Schema (queryables).
pub const SCHEMA_JSON: &str = "application/schema+json";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ogc", web::get().to(landing))
        .route("/ogc/", web::get().to(landing))
        .route("/ogc/conformance", web::get().to(conformance))
        .route("/ogc/api", web::get().to(openapi))
        .route("/ogc/api.html", web::get().to(service_doc))
        .route("/ogc/collections", web::get().to(collections))
        .route("/ogc/collections/{id}", web::get().to(collection))
        .route(
            "/ogc/collections/{id}/queryables",
            web::get().to(queryables),
        )
        .route("/ogc/collections/{id}/items", web::get().to(items))
        .route("/ogc/collections/{id}/items/{fid}", web::get().to(item));
}

fn link(href: String, rel: &str, typ: &str, title: &str) -> Value {
    json!({ "href": href, "rel": rel, "type": typ, "title": title })
}

/// A JSON answer of a route that also speaks HTML (hence `Vary: Accept`).
fn json_response(v: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(JSON)
        .insert_header((header::VARY, "Accept"))
        .body(v.to_string())
}

/// An HTML page answer.
fn html_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::VARY, "Accept"))
        .body(body)
}

/// `href` with `f=json` (the JSON alternate of an HTML page) or `f=html`.
fn with_f(href: &str, f: &str) -> String {
    let sep = if href.contains('?') { '&' } else { '?' };
    format!("{href}{sep}f={f}")
}

/// The landing page's links as an HTML list.
fn links_html(links: &Value) -> String {
    let mut out = String::from("<ul>");
    for l in links.as_array().into_iter().flatten() {
        let href = l["href"].as_str().unwrap_or("");
        let typ = l["type"].as_str().unwrap_or("");
        let href = if typ == JSON || typ == GEOJSON {
            with_f(href, "html")
        } else {
            href.to_string()
        };
        out.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>",
            html::escape(&href),
            html::escape(l["title"].as_str().unwrap_or(""))
        ));
    }
    out.push_str("</ul>");
    out
}

async fn landing(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let params = Params::any(req.query_string())?;
    plain_query(&params)?;
    let b = base_url(&req);
    let doc = landing_doc(&state, &b);
    if html::wanted(&req, &params) {
        let body = format!(
            "<p>{}</p>{}",
            html::escape(doc["description"].as_str().unwrap_or("")),
            links_html(&doc["links"])
        );
        return Ok(html_response(html::page(
            doc["title"].as_str().unwrap_or("ecofoncier"),
            &[],
            &with_f(&format!("{b}/ogc"), "json"),
            &body,
        )));
    }
    Ok(json_response(&doc))
}

fn landing_doc(state: &super::Snapshot, b: &str) -> Value {
    json!({
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
    })
}

async fn conformance(req: HttpRequest) -> ApiResult<HttpResponse> {
    let params = Params::any(req.query_string())?;
    plain_query(&params)?;
    if html::wanted(&req, &params) {
        let b = base_url(&req);
        let items: String = CONFORMANCE
            .iter()
            .map(|c| format!("<li><code>{}</code></li>", html::escape(c)))
            .collect();
        return Ok(html_response(html::page(
            "Classes de conformité",
            &[(with_f(&format!("{b}/ogc"), "html"), "Accueil")],
            &with_f(&format!("{b}/ogc/conformance"), "json"),
            &format!("<ul>{items}</ul>"),
        )));
    }
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
            link(
                format!("{b}/ogc/collections/{id}/queryables"),
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA_JSON,
                "Propriétés filtrables"
            ),
        ],
    })
}

/// The queryables of a collection (OGC API – Features Part 3): a JSON Schema of its public
/// properties and its geometry; confidential fields are not among them.
fn queryables_doc(c: &dyn Collection, b: &str) -> Value {
    let id = c.about().id;
    let mut props = serde_json::Map::new();
    let geometry = match c.geometry_type() {
        "Point" => "geometry-point",
        "MultiPoint" => "geometry-multipoint",
        "Polygon" => "geometry-polygon",
        "MultiPolygon" => "geometry-multipolygon",
        _ => "geometry-any",
    };
    props.insert(
        crate::cql2::GEOMETRY.into(),
        json!({ "title": "Géométrie", "format": geometry, "x-ogc-role": "primary-geometry" }),
    );
    for (name, t) in c.fields() {
        let mut p = json!({ "title": name, "type": t });
        if *t == "string" && crate::cql2::is_date_name(name) {
            p["format"] = json!("date");
        }
        props.insert(name.clone(), p);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": format!("{b}/ogc/collections/{id}/queryables"),
        "type": "object",
        "title": c.about().title,
        "properties": props,
        "additionalProperties": false,
    })
}

async fn queryables(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let params = Params::any(req.query_string())?;
    plain_query(&params)?;
    let c = find(&state, &path)?;
    let b = base_url(&req);
    let doc = queryables_doc(c, &b);
    if html::wanted(&req, &params) {
        let id = c.about().id;
        let rows: Vec<Vec<String>> = doc["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                vec![
                    format!("<code>{}</code>", html::escape(k)),
                    html::cell(v.get("type").or(v.get("format"))),
                    html::cell(v.get("format")),
                ]
            })
            .collect();
        let headers = ["Propriété", "Type", "Format"].map(String::from);
        let body = format!(
            "<p>Propriétés utilisables dans <code>filter</code> (CQL2 Text), <code>sortby</code> \
             et <code>properties</code>. Exemple : <code>terr_etat_occup = 'vacant' AND \
             terr_surf_brute &gt; 2</code>.</p>{}",
            html::table(&headers, &rows)
        );
        return Ok(html_response(html::page(
            &format!("{} – propriétés filtrables", c.about().title),
            &[
                (with_f(&format!("{b}/ogc"), "html"), "Accueil"),
                (
                    with_f(&format!("{b}/ogc/collections/{id}"), "html"),
                    c.about().title,
                ),
            ],
            &with_f(&format!("{b}/ogc/collections/{id}/queryables"), "json"),
            &body,
        )));
    }
    Ok(HttpResponse::Ok()
        .content_type(SCHEMA_JSON)
        .insert_header((header::VARY, "Accept"))
        .body(doc.to_string()))
}

fn find<'a>(state: &'a super::Snapshot, id: &str) -> ApiResult<&'a dyn Collection> {
    state
        .model
        .collection(id)
        .ok_or_else(|| ApiError::NotFound(format!("no collection `{id}`")))
}

async fn collections(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let params = Params::any(req.query_string())?;
    plain_query(&params)?;
    let b = base_url(&req);
    let cols: Vec<Value> = state
        .model
        .collections()
        .iter()
        .map(|c| collection_doc(*c, &state.model.attribution, &b))
        .collect();
    if html::wanted(&req, &params) {
        let rows: Vec<Vec<String>> = cols
            .iter()
            .map(|c| {
                let id = c["id"].as_str().unwrap_or("");
                vec![
                    format!(
                        "<a href=\"{}\">{}</a>",
                        html::escape(&with_f(&format!("{b}/ogc/collections/{id}"), "html")),
                        html::escape(c["title"].as_str().unwrap_or(id))
                    ),
                    html::cell(Some(&c["description"])),
                    html::cell(Some(&c["ecofoncier:nombreObjets"])),
                    if c["ecofoncier:synthetique"] == true {
                        "données synthétiques".into()
                    } else {
                        html::cell(Some(&c["attribution"]))
                    },
                ]
            })
            .collect();
        let headers = ["Collection", "Description", "Objets", "Source"].map(String::from);
        return Ok(html_response(html::page(
            "Collections",
            &[(with_f(&format!("{b}/ogc"), "html"), "Accueil")],
            &with_f(&format!("{b}/ogc/collections"), "json"),
            &html::table(&headers, &rows),
        )));
    }
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
    let params = Params::any(req.query_string())?;
    plain_query(&params)?;
    let c = find(&state, &path)?;
    let b = base_url(&req);
    let doc = collection_doc(c, &state.model.attribution, &b);
    if html::wanted(&req, &params) {
        let id = c.about().id;
        let e = c.extent();
        let mut body = String::new();
        if c.about().synthetic {
            body.push_str(html::SYNTHETIC);
        }
        body.push_str(&format!(
            "<p>{}</p><dl><dt>Objets</dt><dd>{}</dd><dt>Géométrie</dt><dd>{}</dd>\
             <dt>Emprise (CRS84)</dt><dd>{:.4}, {:.4} – {:.4}, {:.4}</dd><dt>Source</dt><dd>{}</dd></dl>\
             <ul><li><a href=\"{}\">Objets (tableau et carte)</a></li>\
             <li><a href=\"{}\">Propriétés filtrables</a></li></ul>",
            html::escape(c.about().description),
            html::count(c.len()),
            c.geometry_type(),
            e[0],
            e[1],
            e[2],
            e[3],
            html::cell(Some(&doc["attribution"])),
            html::escape(&with_f(&format!("{b}/ogc/collections/{id}/items"), "html")),
            html::escape(&with_f(&format!("{b}/ogc/collections/{id}/queryables"), "html")),
        ));
        return Ok(html_response(html::page(
            c.about().title,
            &[
                (with_f(&format!("{b}/ogc"), "html"), "Accueil"),
                (
                    with_f(&format!("{b}/ogc/collections"), "html"),
                    "Collections",
                ),
            ],
            &with_f(&format!("{b}/ogc/collections/{id}"), "json"),
            &body,
        )));
    }
    Ok(json_response(&doc))
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

    // The page's slots: selected by bbox and filters (sorted when asked), or the live
    // features in order.
    let selecting = q.bbox.is_some() || !q.filters.is_empty() || q.filter.is_some();
    let (page, matched): (Vec<usize>, usize) = if !selecting && q.sortby.is_empty() {
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
        // The selection, sorted, made once per snapshot for a query: its pages, and the
        // clients asking the same, reuse it.
        use std::hash::BuildHasher;
        let shape: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| !matches!(*k, "offset" | "limit" | "f" | "properties" | "crs"))
            .collect();
        let key = foldhash::quality::FixedState::with_seed(0x73_656c).hash_one((
            state.model.lineage,
            state.generation,
            index,
            &shape,
        ));
        let selected = app.selections.get_or(key, || {
            let mut selected = select(c, &q);
            if !q.sortby.is_empty() {
                sort(c, &mut selected, &q.sortby);
            }
            // A scan's vector had room for every feature: keep only what it holds.
            selected.shrink_to_fit();
            let n = selected.capacity() * std::mem::size_of::<usize>() + 64;
            (std::sync::Arc::new(selected), n)
        });
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

    let keep: Option<Vec<&str>> = q
        .properties
        .as_ref()
        .map(|p| p.iter().map(String::as_str).collect());
    if html::wanted(&req, &params) {
        // The page's own prev and next links, kept in HTML.
        let html_links: Vec<Value> = links
            .iter()
            .filter(|l| l["rel"] == "next" || l["rel"] == "prev")
            .map(|l| {
                let mut l = l.clone();
                if !params.has("f") {
                    l["href"] = json!(with_f(l["href"].as_str().unwrap_or(""), "html"));
                }
                l
            })
            .collect();
        let body = items_html(c, &page, keep.as_deref(), &b, start, matched, &html_links);
        let mut json_href = items_href(&b, id, &params, (start > 0).then_some(start));
        if !params.has("f") {
            json_href = with_f(&json_href, "json");
        }
        return Ok(html_response(html::page(
            &format!("{title} – objets"),
            &[
                (with_f(&format!("{b}/ogc"), "html"), "Accueil"),
                (with_f(&format!("{b}/ogc/collections/{id}"), "html"), title),
            ],
            &json_href.replace("f=html", "f=json"),
            &body,
        )));
    }
    let mut out = Vec::with_capacity(512 + page.len() * 700);
    out.extend_from_slice(br#"{"type":"FeatureCollection","numberMatched":"#);
    out.extend_from_slice(matched.to_string().as_bytes());
    out.extend_from_slice(br#","numberReturned":"#);
    out.extend_from_slice(page.len().to_string().as_bytes());
    out.extend_from_slice(br#","timeStamp":""#);
    out.extend_from_slice(state.published_at.as_bytes());
    out.extend_from_slice(br#"","links":"#);
    out.extend_from_slice(Value::Array(links).to_string().as_bytes());
    out.extend_from_slice(br#","features":["#);
    for (k, &i) in page.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        match &keep {
            None if q.crs == Crs::Crs84 => {
                app.features
                    .write(&mut out, state.model.lineage, index, c, i);
            }
            keep => c.write_feature_keeping(&mut out, i, q.crs, keep.as_deref()),
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
        .insert_header((header::VARY, "Accept"))
        .insert_header(("Content-Crs", format!("<{}>", q.crs.uri())))
        .insert_header((header::ETAG, etag))
        .body(out))
}

/// The features of `c` a page holds, as an HTML table and a map, both linking each feature
/// to its own page; the map draws at most the first 2,000.
fn items_html(
    c: &dyn Collection,
    page: &[usize],
    keep: Option<&[&str]>,
    b: &str,
    start: usize,
    matched: usize,
    nav: &[Value],
) -> String {
    let id = c.about().id;
    let features: Vec<Value> = page
        .iter()
        .map(|&i| {
            let mut out = Vec::new();
            c.write_feature_keeping(&mut out, i, Crs::Crs84, keep);
            serde_json::from_slice(&out).unwrap_or(Value::Null)
        })
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for f in &features {
        for k in f["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let href = |fid: &str| with_f(&format!("{b}/ogc/collections/{id}/items/{fid}"), "html");
    let rows: Vec<Vec<String>> = features
        .iter()
        .map(|f| {
            let fid = f["id"].as_str().unwrap_or("");
            let mut row = vec![format!(
                "<a href=\"{}\">{}</a>",
                html::escape(&href(fid)),
                html::escape(fid)
            )];
            row.extend(columns.iter().map(|k| html::cell(f["properties"].get(k))));
            row
        })
        .collect();
    let drawn: Vec<(geo::Geometry<f64>, String, Option<String>)> = page
        .iter()
        .take(2_000)
        .map(|&i| (c.geometry(i), c.id(i).to_string(), Some(href(c.id(i)))))
        .collect();
    let mut headers = vec!["Identifiant".to_string()];
    headers.extend(columns);
    let mut body = String::new();
    if c.about().synthetic {
        body.push_str(html::SYNTHETIC);
    }
    let shown = if page.is_empty() {
        "aucun affiché".to_string()
    } else {
        format!(
            "{} à {} affichés",
            html::count(start + 1),
            html::count(start + page.len())
        )
    };
    body.push_str(&format!(
        "<p><strong>{}</strong> objets correspondent à la requête ; {shown}.</p>",
        html::count(matched)
    ));
    body.push_str(&html::map(
        &drawn,
        &format!("Carte des objets de la page ({})", c.about().title),
    ));
    if !nav.is_empty() {
        body.push_str("<p>");
        for l in nav {
            let text = |k: &str| html::escape(l[k].as_str().unwrap_or(""));
            body.push_str(&format!(
                "<a rel=\"{}\" href=\"{}\">{}</a> ",
                text("rel"),
                text("href"),
                text("title")
            ));
        }
        body.push_str("</p>");
    }
    body.push_str(&html::table(&headers, &rows));
    body
}

/// The slots of `c` selected by the query's bbox, equality filters and CQL2 filter,
/// ascending. The R-tree proposes the candidates when a bbox or the filter's spatial part
/// bounds them; the filter reads each candidate's properties in one pass and its geometry
/// only when a spatial function needs it.
fn select(c: &dyn Collection, q: &query::ItemsQuery) -> Vec<usize> {
    let envelope = q.filter.as_ref().and_then(|f| f.envelope());
    let mut selected: Vec<usize> = match (&q.bbox, envelope) {
        (Some(b), _) => c.intersecting(&b.area),
        (None, Some(r)) => c.intersecting(&r.to_polygon()),
        (None, None) => c.live_slots().collect(),
    };
    if !q.filters.is_empty() {
        selected.retain(|&i| {
            q.filters
                .iter()
                .all(|(k, v)| query::matches(c.property(i, k).as_ref(), v))
        });
    }
    if let Some(f) = &q.filter {
        let keys: Vec<&str> = f.keys.iter().map(String::as_str).collect();
        let plan = c.pick_plan(&keys);
        let mut values = Vec::with_capacity(keys.len());
        selected.retain(|&i| {
            c.values_with(i, &plan, &mut values);
            let mut geometry = || c.geometry(i);
            f.matches(&mut crate::cql2::Feature::new(&values, &mut geometry))
        });
    }
    selected
}

/// Sorts `slots` by the `sortby` keys; missing values last whatever the direction, ties in
/// slot order (so that pages do not overlap).
fn sort(c: &dyn Collection, slots: &mut Vec<usize>, keys: &[(String, bool)]) {
    use std::cmp::Ordering;
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let plan = c.pick_plan(&names);
    let mut rows: Vec<(Vec<Option<Value>>, usize)> = slots
        .iter()
        .map(|&i| {
            let mut v = Vec::with_capacity(names.len());
            c.values_with(i, &plan, &mut v);
            (v, i)
        })
        .collect();
    let cmp_value = |a: &Value, b: &Value| match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    };
    rows.sort_by(|(a, i), (b, j)| {
        for (k, (_, desc)) in keys.iter().enumerate() {
            let o = match (&a[k], &b[k]) {
                (Some(x), Some(y)) if *desc => cmp_value(y, x),
                (Some(x), Some(y)) => cmp_value(x, y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        i.cmp(j)
    });
    slots.clear();
    slots.extend(rows.into_iter().map(|(_, i)| i));
}

async fn item(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    app: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = app.snapshot();
    let (id, fid) = path.into_inner();
    let c = find(&state, &id)?;
    let params = Params::any(req.query_string())?;
    let (crs, datetime) = item_query(&params)?;
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
    let b = base_url(&req);
    // The page is another representation: the feature's version is the JSON's validator,
    // the page gets its own from its content at the edge.
    if html::wanted(&req, &params) {
        let mut out = Vec::new();
        c.write_feature(&mut out, i, Crs::Crs84);
        let f: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
        let rows: Vec<Vec<String>> = f["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                vec![
                    format!("<code>{}</code>", html::escape(k)),
                    html::cell(Some(v)),
                ]
            })
            .collect();
        let mut body = String::new();
        if c.about().synthetic {
            body.push_str(html::SYNTHETIC);
        }
        body.push_str(&html::map(
            &[(c.geometry(i), fid.clone(), None)],
            &format!("Carte de {fid}"),
        ));
        body.push_str(&html::table(
            &["Propriété", "Valeur"].map(String::from),
            &rows,
        ));
        return Ok(html_response(html::page(
            &fid,
            &[
                (with_f(&format!("{b}/ogc"), "html"), "Accueil"),
                (
                    with_f(&format!("{b}/ogc/collections/{id}"), "html"),
                    c.about().title,
                ),
                (
                    with_f(&format!("{b}/ogc/collections/{id}/items"), "html"),
                    "Objets",
                ),
            ],
            &with_f(&format!("{b}/ogc/collections/{id}/items/{fid}"), "json"),
            &body,
        )));
    }
    let etag = super::http::etag(c.version(i));
    if let Some(r) = super::http::unchanged(&req, &etag) {
        return Ok(r);
    }
    let mut out = Vec::with_capacity(2048);
    c.write_feature(&mut out, i, crs);
    // Re-open the feature object to add its links.
    out.pop();
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
        .insert_header((header::VARY, "Accept"))
        .insert_header(("Content-Crs", format!("<{}>", crs.uri())))
        .insert_header((header::ETAG, etag))
        .body(out))
}
