//! The one OpenAPI 3.0 document of the service, built once at startup.

use serde_json::{json, Value};

use crate::crs::Crs;
use crate::model::Record as _;
use crate::read_model::ReadModel;

use super::query::{Spec, DEFAULT_LIMIT, MAX_LIMIT};
use super::v1;

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn pp(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

fn get_op(summary: &str, description: &str, params: Vec<Value>) -> Value {
    json!({ "get": {
        "summary": summary, "description": description, "tags": ["Indicateurs"],
        "parameters": params,
        "responses": {
            "200": json_response("The figures", json!({ "type": "object" })),
            "400": problem_response("Invalid or unknown parameter (named in `parameter`)"),
            "404": problem_response("Unknown territory, site or EPCI")
        }
    }})
}

fn post_op(summary: &str, description: &str, schema: Value) -> Value {
    json!({ "post": {
        "summary": summary, "description": description, "tags": ["Indicateurs"],
        "requestBody": { "required": true, "content": { "application/json": { "schema": schema } } },
        "responses": {
            "200": json_response("The result", json!({ "type": "object" })),
            "400": problem_response("Invalid body (the member is named in `field`)"),
            "404": problem_response("Unknown site"),
            "413": problem_response("Body larger than 256 KiB")
        }
    }})
}

/// The `/api/v1` paths.
fn api_v1_paths() -> Vec<(&'static str, Value)> {
    let level = |levels: &[&str]| {
        json!({ "name": "level", "in": "path", "required": true,
        "description": "the territory's level", "schema": { "type": "string", "enum": levels } })
    };
    use crate::metrics::territory::Level;
    let all = Level::ALL.map(Level::as_str);
    let wide = Level::WIDE.map(Level::as_str);
    let code = pp(
        "code",
        "commune INSEE code, EPCI SIREN, region INSEE code (hdf for 32) among those loaded, or FR (country: the whole dataset)",
    );
    // Query parameters come from the handlers' own declarations.
    let specs = |list: &[&Spec]| list.iter().map(|s| s.openapi()).collect::<Vec<Value>>();
    let year = v1::YEAR.openapi();
    vec![
        ("/api/v1/sites/{site_id}/occupancy", get_op(
            "Occupancy and legal vacancy of a site",
            "site_uf_nbre, site_uf_vacant_nbre and site_taux_vacance (round(100 × vacant / units), L318-8-2), occupancy by area, counts and hectares by terr_etat_occup and terr_stade_comm, hectares for sale, plots whose site_id and geometry disagree.",
            vec![pp("site_id", "CNIG site_id"), year.clone()])),
        ("/api/v1/occupancy/{level}/{code}", get_op(
            "Occupancy and legal vacancy of an EPCI, a region or the country", "Sums over the territory's sites (a region: over its EPCIs, each EPCI in the region where most of its population lives).",
            vec![level(&wide), code.clone(), year])),
        ("/api/v1/terrains/search", get_op(
            "Vacant-plot search",
            "Plots vacant, never used or derelict, sorted by distance (R-tree nearest) when `near` is given; GeoJSON with the distance and the site's name, vocation and access.",
            specs(&v1::search::PARAMS))),
        ("/api/v1/land-take/{level}/{code}", get_op(
            "Land take and ZAN budget",
            "Yearly ENAF consumption 2011–2023 by destination; reference 2011–2020; allowance 2021–2030 = 50 % (at least 1 ha a commune); consumed since 2021, remaining, % used, projection to 1 January 2031 at the pace of the last three years, activity's share.",
            vec![level(&all), code.clone()])),
        ("/api/v1/proposals/check", post_op(
            "Sobriety check of a proposed zone",
            "Area (ha, Lambert-93), communes and EPCIs with shares, overlap with sites, share of each EPCI's remaining ZAN allowance, land available within radius_km (default 15), commuting effect of the jobs, findings in French.",
            json!({ "type": "object", "required": ["geometry"], "properties": {
                "geometry": { "type": "object", "description": "GeoJSON Polygon or MultiPolygon (a Feature is accepted too)" },
                "crs": { "type": "string", "description": "CRS of the geometry: CRS84 (default) or EPSG:2154, as URIs", "enum": Crs::ALL.iter().map(|c| c.uri()).collect::<Vec<_>>() },
                "emplois": { "type": "integer", "minimum": 0, "maximum": 100000 },
                "vocation": { "type": "string" },
                "radius_km": { "type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 100 } } }))),
        ("/api/v1/commute/{level}/{code}", get_op(
            "Commuting baseline of an EPCI, a region or the country",
            "Resident workers, jobs, jobs per 100 workers, km a day one-way and return, median and mean one-way distance, share working outside.",
            vec![level(&wide), code.clone()])),
        ("/api/v1/scenarios/commute", post_op(
            "New jobs at a site: who would take them, km and CO₂ saved",
            "Workers of nearby communes (nearest first) commuting farther than the site, longest commutes first, take-up share; 220 working days; 124 g CO₂e/km.",
            json!({ "type": "object", "required": ["jobs"], "additionalProperties": false, "properties": {
                "site_id": { "type": "string" }, "point": { "type": "array", "items": { "type": "number" }, "minItems": 2, "maxItems": 2 },
                "jobs": { "type": "integer", "minimum": 1, "maximum": 100000 }, "radius_km": { "type": "number", "minimum": 1, "maximum": 150 },
                "take_up": { "type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 1 } },
                // Exactly one of the two (with both, both branches match).
                "oneOf": [{ "required": ["site_id"] }, { "required": ["point"] }] }))),
        ("/api/v1/tiers-lieux/coverage", get_op(
            "Tiers-lieux and France services coverage",
            "Population whose town hall is within radius_km (default 10) of a site: over the whole dataset (`region`), per region loaded (`regions`) and per EPCI, optionally for one service; the under-served communes.",
            specs(&v1::tiers_lieux::COVERAGE))),
        ("/api/v1/tiers-lieux/suggest", get_op(
            "Best new tiers-lieux (greedy maximal coverage)", "k town halls covering the most uncovered population.",
            specs(&v1::tiers_lieux::SUGGEST))),
        ("/api/v1/premises/{level}/{code}", get_op(
            "Centre-bourg commercial premises", "Count, vacancy rate, firms settled (and in the last five years).",
            vec![level(&all), code])),
        ("/api/v1/indicators", get_op(
            "Indicators of every EPCI", "One row per EPCI; `format=csv` for a ;-separated file, `format=xlsx` for a spreadsheet (with the medians and a sheet of sources).",
            specs(&v1::indicators::ALL))),
        ("/api/v1/indicators/epci/{siren}", get_op(
            "Full sheet of an EPCI", "Indicators, occupancy, ZAN, yearly land take, commuting, coverage, premises, similar territories; `format=xlsx` for a spreadsheet of the indicators, the yearly land take and the similar territories.",
            [vec![siren()], specs(&v1::indicators::SHEET)].concat())),
        ("/api/v1/epci/search", get_op(
            "Find an EPCI", "By SIREN, by its name or a word of it, or by one of its communes (name or INSEE code), accents, case and punctuation ignored, over every EPCI loaded; best match first, then the most populated; each with its region.",
            specs(&v1::finder::PARAMS))),
        ("/api/v1/compare", get_op(
            "Side-by-side comparison", "The EPCIs' rows with the medians of the rural and the urban EPCIs; `format=csv` (the rows) or `format=xlsx` (the rows, the medians and a sheet of sources).",
            specs(&v1::indicators::COMPARE))),
        ("/api/v1/timeline/epci/{siren}", get_op(
            "Indicators over time", "Per year: settlements in zones (new build, rehabilitation), jobs, occupancy, premises settlements, tiers-lieux visits and procedures.",
            [vec![siren()], specs(&v1::timeline::PARAMS)].concat())),
    ]
}

/// Builds the document. Collection ids and each collection's queryable properties come from
/// the read model; the writes, histories and features as of a date are described only
/// when the instance takes them (`writes`: it serves from PostGIS), so that the document
/// of a read-only instance promises nothing it refuses.
pub fn document(model: &ReadModel, writes: bool) -> Value {
    let ids: Vec<&str> = model.collections().iter().map(|c| c.about().id).collect();
    let crs_uris: Vec<&str> = Crs::ALL.iter().map(|c| c.uri()).collect();
    let filters: Vec<String> = model
        .collections()
        .iter()
        .map(|s| {
            format!(
                "`{}`: {}",
                s.about().id,
                s.fields().keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "ecofoncier",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Foncier économique des intercommunalités – {} : inventaire CNIG Sites \
                 économiques, communes, EPCI, locaux commerciaux, tiers-lieux (OGC API – \
                 Features, parties 1 et 2). Les couches économiques sont des données \
                 synthétiques.",
                model.regions.label()
            ),
            "license": { "name": "Licence Ouverte 2.0 (données), MIT (code)" }
        },
        "servers": [{ "url": "/" }],
        "paths": {
            "/ogc": { "get": {
                "summary": "Landing page", "operationId": "getLandingPage", "tags": ["OGC API – Features"],
                "parameters": [{ "$ref": "#/components/parameters/f" }],
                "responses": {
                    "200": json_response("Links to the API definition, conformance and collections", json!({ "$ref": "#/components/schemas/LandingPage" })),
                    "400": problem_response("Invalid parameter")
                }
            }},
            "/ogc/conformance": { "get": {
                "summary": "Conformance classes", "operationId": "getConformance", "tags": ["OGC API – Features"],
                "parameters": [{ "$ref": "#/components/parameters/f" }],
                "responses": {
                    "200": json_response("The conformance classes implemented", json!({
                        "type": "object", "required": ["conformsTo"],
                        "properties": { "conformsTo": { "type": "array", "items": { "type": "string" } } }
                    })),
                    "400": problem_response("Invalid parameter")
                }
            }},
            "/ogc/api": { "get": {
                "summary": "This OpenAPI document", "operationId": "getOpenApi", "tags": ["OGC API – Features"],
                "responses": { "200": { "description": "OpenAPI 3.0", "content": { "application/vnd.oai.openapi+json;version=3.0": {} } } }
            }},
            "/ogc/collections": { "get": {
                "summary": "Collections", "operationId": "getCollections", "tags": ["OGC API – Features"],
                "parameters": [{ "$ref": "#/components/parameters/f" }],
                "responses": {
                    "200": json_response("Every collection with its extent and CRSs", json!({
                        "type": "object", "required": ["links", "collections"],
                        "properties": {
                            "links": { "type": "array", "items": { "$ref": "#/components/schemas/Link" } },
                            "collections": { "type": "array", "items": { "$ref": "#/components/schemas/Collection" } }
                        }
                    })),
                    "400": problem_response("Invalid parameter")
                }
            }},
            "/ogc/collections/{collectionId}": { "get": {
                "summary": "One collection", "operationId": "describeCollection", "tags": ["OGC API – Features"],
                "parameters": [{ "$ref": "#/components/parameters/collectionId" }, { "$ref": "#/components/parameters/f" }],
                "responses": {
                    "200": json_response("The collection", json!({ "$ref": "#/components/schemas/Collection" })),
                    "404": problem_response("Unknown collection")
                }
            }},
            "/ogc/collections/{collectionId}/items": { "get": {
                "summary": "Features of a collection",
                "description": format!("Paged GeoJSON features. Besides the standard parameters, any property of the collection is an equality filter (`?terr_etat_occup=vacant`). Properties by collection: {}. Confidential CNIG fields (buyers, sale prices and dates, occupant contacts) are never served publicly (a feature's page shows them to its EPCI's editors and admins).", filters.join("; ")),
                "operationId": "getFeatures", "tags": ["OGC API – Features"],
                "parameters": [
                    { "$ref": "#/components/parameters/collectionId" },
                    { "$ref": "#/components/parameters/limit" },
                    { "$ref": "#/components/parameters/offset" },
                    { "$ref": "#/components/parameters/bbox" },
                    { "$ref": "#/components/parameters/bbox-crs" },
                    { "$ref": "#/components/parameters/crs" },
                    { "$ref": "#/components/parameters/datetime" },
                    { "$ref": "#/components/parameters/filter" },
                    { "$ref": "#/components/parameters/filter-lang" },
                    { "$ref": "#/components/parameters/filter-crs" },
                    { "$ref": "#/components/parameters/sortby" },
                    { "$ref": "#/components/parameters/properties" },
                    { "$ref": "#/components/parameters/f" }
                ],
                "responses": {
                    "200": {
                        "description": "A page of features",
                        "headers": { "Content-Crs": { "schema": { "type": "string" }, "description": "CRS of the geometries, as <URI>" },
                                     "ETag": { "schema": { "type": "string" }, "description": "The page's content" } },
                        "content": { "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } } }
                    },
                    "304": { "description": "Unchanged since the ETag given in If-None-Match" },
                    "400": problem_response("Invalid or unknown parameter (named in `parameter`)"),
                    "404": problem_response("Unknown collection")
                }
            }},
            "/ogc/collections/{collectionId}/queryables": { "get": {
                "summary": "Queryable properties of a collection (OGC API – Features Part 3)", "operationId": "getQueryables", "tags": ["OGC API – Features"],
                "parameters": [{ "$ref": "#/components/parameters/collectionId" }, { "$ref": "#/components/parameters/f" }],
                "responses": {
                    "200": { "description": "A JSON Schema of the public properties and the geometry, for `filter`, `sortby` and `properties`",
                        "content": { "application/schema+json": { "schema": {
                            "type": "object", "required": ["type", "properties"],
                            "properties": { "type": { "type": "string" }, "properties": { "type": "object" } } } } } },
                    "400": problem_response("Invalid parameter"),
                    "404": problem_response("Unknown collection")
                }
            }},
            "/ogc/collections/{collectionId}/items/{featureId}": { "get": {
                "summary": "One feature", "operationId": "getFeature", "tags": ["OGC API – Features"],
                "parameters": [
                    { "$ref": "#/components/parameters/collectionId" },
                    { "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } },
                    { "$ref": "#/components/parameters/crs" },
                    { "$ref": "#/components/parameters/f" }
                ],
                "responses": {
                    "200": {
                        "description": "The feature; with a bearer token of its EPCI's editor or an admin, its confidential fields too",
                        "headers": { "Content-Crs": { "schema": { "type": "string" } },
                                     "ETag": { "schema": { "type": "string" }, "description": "The feature's version, for If-Match" } },
                        "content": { "application/geo+json": { "schema": { "$ref": "#/components/schemas/Feature" } } }
                    },
                    "304": { "description": "Unchanged since the ETag given in If-None-Match" },
                    "400": problem_response("Invalid parameter"),
                    "404": problem_response("Unknown collection or feature (or no such feature at `datetime`)"),
                    "409": problem_response("`datetime` before a re-import of the layer")
                }
            }},
            "/health": { "get": {
                "summary": "Health and loaded counts", "operationId": "getHealth", "tags": ["Service"],
                "responses": { "200": json_response("The service is up (liveness)", json!({
                    "type": "object",
                    "required": ["status", "version", "loaded", "snapshot_version"],
                    "properties": {
                        "status": { "type": "string", "enum": ["ok"] },
                        "version": { "type": "string", "description": "The service's release" },
                        "loaded": { "type": "object", "additionalProperties": { "type": "integer", "minimum": 0 },
                                    "description": "Features and rows loaded, by layer" },
                        "load_ms": { "type": "number", "minimum": 0 },
                        "snapshot_version": { "type": "integer", "minimum": 0,
                            "description": "The highest audit row (`historique.id`) whose change the served data holds: replicas of one PostGIS that report the same value, with no write in flight, serve the same data (0 without PostGIS)" }
                    }
                })) }
            }},
            "/ready": { "get": {
                "summary": "Readiness: the model is loaded, PostGIS answers and the instance is in step with it", "operationId": "getReady", "tags": ["Service"],
                "responses": {
                    "200": json_response("Ready to take reads (and writes, in PostGIS mode)", json!({
                        "type": "object",
                        "required": ["status", "writes", "snapshot_version"],
                        "properties": {
                            "status": { "type": "string", "enum": ["ready"] },
                            "writes": { "type": "boolean" },
                            "snapshot_generation": { "type": "integer", "minimum": 0 },
                            "snapshot_version": { "type": "integer", "minimum": 0 }
                        }
                    })),
                    "503": problem_response("PostGIS does not answer, or the instance is catching up with the writes made meanwhile: retry after `Retry-After` seconds")
                }
            }},
            "/metrics": { "get": {
                "summary": "Prometheus metrics of this instance", "operationId": "getMetrics", "tags": ["Service"],
                "description": "Requests and latency histograms by route pattern, the snapshot's version, age and feature counts, writes published (local or followed), the follower's connection, lag, catch-ups and reloads.",
                "responses": {
                    "200": { "description": "OpenMetrics text (read by Prometheus)",
                        "content": { "application/openmetrics-text": { "schema": { "type": "string" } } } }
                }
            }}
        },
        "components": {
            "parameters": {
                "collectionId": { "name": "collectionId", "in": "path", "required": true, "schema": { "type": "string", "enum": ids } },
                "limit": { "name": "limit", "in": "query", "required": false, "style": "form", "explode": false,
                    "schema": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT } },
                "offset": { "name": "offset", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "default": 0 } },
                "bbox": { "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "minx,miny,maxx,maxy in bbox-crs (CRS84 by default); features whose geometry intersects it",
                    "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } } },
                "bbox-crs": { "name": "bbox-crs", "in": "query", "required": false, "schema": { "type": "string", "format": "uri", "enum": crs_uris } },
                "crs": { "name": "crs", "in": "query", "required": false, "schema": { "type": "string", "format": "uri", "enum": crs_uris } },
                "datetime": { "name": "datetime", "in": "query", "required": false, "description": "Accepted; no collection has a temporal extent", "schema": { "type": "string" } },
                "filter": { "name": "filter", "in": "query", "required": false,
                    "description": "A CQL2 Text filter (OGC API – Features Part 3) on the collection's queryables: comparisons, AND/OR/NOT, LIKE, IN, BETWEEN, IS NULL, CASEI, ACCENTI, DATE/TIMESTAMP, and S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_EQUALS, S_TOUCHES, S_OVERLAPS, S_CROSSES with WKT or BBOX geometries in filter-crs. Example: `terr_etat_occup = 'vacant' AND terr_surf_brute > 2`. An error names its position; confidential fields are refused.",
                    "schema": { "type": "string" } },
                "filter-lang": { "name": "filter-lang", "in": "query", "required": false, "schema": { "type": "string", "enum": ["cql2-text"], "default": "cql2-text" } },
                "filter-crs": { "name": "filter-crs", "in": "query", "required": false, "description": "CRS of the filter's geometries (CRS84 by default); only with filter", "schema": { "type": "string", "format": "uri", "enum": crs_uris } },
                "sortby": { "name": "sortby", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "Queryables to sort by, each prefixed `-` for descending (`-terr_surf_brute,terr_id`); missing values last",
                    "schema": { "type": "array", "minItems": 1, "items": { "type": "string", "pattern": "^[+-]?[A-Za-z_][A-Za-z0-9_:.-]*$" } } },
                "properties": { "name": "properties", "in": "query", "required": false, "style": "form", "explode": false,
                    "description": "The public properties to return (the geometry always is)",
                    "schema": { "type": "array", "items": { "type": "string" } } },
                "f": { "name": "f", "in": "query", "required": false,
                    "description": "Encoding: JSON (the default) or HTML (pages in French); without f, a browser's Accept: text/html gets HTML",
                    "schema": { "type": "string", "enum": ["json", "geojson", "html"] } }
            },
            "schemas": {
                "Problem": { "type": "object", "required": ["status", "title", "detail"], "properties": {
                    "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                    "detail": { "type": "string" }, "parameter": { "type": "string" }, "field": { "type": "string" } } },
                "Link": { "type": "object", "required": ["href"], "properties": {
                    "href": { "type": "string" }, "rel": { "type": "string" }, "type": { "type": "string" }, "title": { "type": "string" } } },
                "LandingPage": { "type": "object", "required": ["links"], "properties": {
                    "title": { "type": "string" }, "description": { "type": "string" },
                    "links": { "type": "array", "items": { "$ref": "#/components/schemas/Link" } } } },
                "Collection": { "type": "object", "required": ["id", "links"], "properties": {
                    "id": { "type": "string" }, "title": { "type": "string" }, "description": { "type": "string" },
                    "itemType": { "type": "string" }, "crs": { "type": "array", "items": { "type": "string" } },
                    "storageCrs": { "type": "string" }, "extent": { "type": "object" },
                    "links": { "type": "array", "items": { "$ref": "#/components/schemas/Link" } } } },
                "Feature": { "type": "object", "required": ["type", "geometry", "properties"], "properties": {
                    "type": { "type": "string", "enum": ["Feature"] }, "id": { "type": "string" },
                    "geometry": { "type": "object" }, "properties": { "type": "object" },
                    "links": { "type": "array", "items": { "$ref": "#/components/schemas/Link" } } } },
                "FeatureCollection": { "type": "object", "required": ["type", "features"], "properties": {
                    "type": { "type": "string", "enum": ["FeatureCollection"] },
                    "features": { "type": "array", "items": { "$ref": "#/components/schemas/Feature" } },
                    "links": { "type": "array", "items": { "$ref": "#/components/schemas/Link" } },
                    "timeStamp": { "type": "string", "format": "date-time" },
                    "numberMatched": { "type": "integer", "minimum": 0 },
                    "numberReturned": { "type": "integer", "minimum": 0 } } }
            }
        }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (p, op) in api_v1_paths() {
            paths.insert(p.to_string(), op);
        }
    }
    // The few answers that are not one JSON object.
    let rows = json!({ "type": "array", "items": { "type": "object" } });
    let csv = json!({ "schema": { "type": "string" } });
    let xlsx = json!({ "schema": { "type": "string", "format": "binary" } });
    doc["paths"]["/api/v1/indicators"]["get"]["responses"]["200"]["content"] = json!({
        "application/json": { "schema": rows }, "text/csv": csv, v1::workbooks::XLSX: xlsx });
    for p in ["/api/v1/compare", "/api/v1/indicators/epci/{siren}"] {
        let content = &mut doc["paths"][p]["get"]["responses"]["200"]["content"];
        if p == "/api/v1/compare" {
            content["text/csv"] = csv.clone();
        }
        content[v1::workbooks::XLSX] = xlsx.clone();
    }
    doc["paths"]["/api/v1/terrains/search"]["get"]["responses"]["200"]["content"] = json!({ "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } } });
    doc["paths"]["/ogc/collections/{collectionId}"]["get"]["responses"]["400"] =
        problem_response("Invalid parameter");
    add_exports(&mut doc);
    if writes {
        add_editing(&mut doc, example_plot(model));
    }
    add_tiles(&mut doc);
    // Every OGC page also speaks HTML (`f=html`).
    for p in [
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/{collectionId}",
        "/ogc/collections/{collectionId}/queryables",
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/{collectionId}/items/{featureId}",
    ] {
        doc["paths"][p]["get"]["responses"]["200"]["content"]["text/html"] =
            json!({ "schema": { "type": "string" } });
    }
    doc
}

/// Vector tiles, TileJSON and the web map.
fn add_tiles(doc: &mut Value) {
    let layers: Vec<&str> = crate::tiles::LAYERS.iter().map(|l| l.id).collect();
    let layer = json!({ "name": "layer", "in": "path", "required": true, "schema": { "type": "string", "enum": layers } });
    let int = |n: &str, d: &str, max: u32| json!({ "name": n, "in": "path", "required": true, "description": d, "schema": { "type": "integer", "minimum": 0, "maximum": max } });
    doc["paths"]["/tiles/{layer}"] = json!({ "get": {
        "summary": "TileJSON 3.0 of a layer", "operationId": "getTileJson", "tags": ["Tuiles"],
        "parameters": [layer],
        "responses": { "200": json_response("TileJSON", json!({ "type": "object" })), "404": problem_response("Unknown layer") }
    }});
    doc["paths"]["/tiles/{layer}/{z}/{x}/{y}"] = json!({ "get": {
        "summary": "A Mapbox Vector Tile (Web Mercator XYZ grid, extent 4096); public fields only",
        "operationId": "getTile", "tags": ["Tuiles"],
        "parameters": [layer, int("z", "zoom, 0 to 22", 22), int("x", "column, below 2^z (404 beyond)", (1 << 22) - 1), int("y", "row from the north, below 2^z (404 beyond)", (1 << 22) - 1),
            { "name": "If-None-Match", "in": "header", "required": false, "schema": { "type": "string" } }],
        "responses": {
            "200": { "description": "The tile", "headers": { "ETag": { "schema": { "type": "string" } } },
                "content": { "application/vnd.mapbox-vector-tile": {} } },
            "204": { "description": "No feature in this tile (or below the layer's minimum zoom)" },
            "304": { "description": "Unchanged since the ETag given" },
            "400": problem_response("z, x or y not a number in range (named in `parameter`)"),
            "404": problem_response("Unknown layer, or no such tile (x or y not below 2^z)")
        }
    }});
    doc["paths"]["/"] = json!({ "get": {
        "summary": "The web map (French)", "operationId": "getWebMap", "tags": ["Service"],
        "description": "EPCI sheet, meeting view (`#reunion=SIREN,…`), vacant-plot search, proposed zone and jobs scenario. The page carries the region's overview image (`/apercu.png`), shown until the map has drawn the region.",
        "responses": { "200": { "description": "The single-page application", "content": { "text/html": {} } } }
    }});
    doc["paths"]["/apercu.png"] = json!({ "get": {
        "summary": "Overview image of the region's EPCIs (rural and urban) at the web map's first view (Web Mercator, zoom 7.3)",
        "operationId": "getOverview", "tags": ["Service"],
        "responses": {
            "200": { "description": "PNG; the page gives its Web Mercator bounds", "content": { "image/png": {} } },
            "304": { "description": "Unchanged since the ETag given" }
        }
    }});
}

/// An EPCI's SIREN as a path parameter.
fn siren() -> Value {
    json!({ "name": "siren", "in": "path", "required": true, "description": "EPCI SIREN",
        "schema": { "type": "string", "pattern": "^[0-9]{9}$" } })
}

/// Exports of an EPCI's inventory (public, with the confidential fields for its editors).
fn add_exports(doc: &mut Value) {
    doc["paths"]["/api/v1/exports/{siren}/{layer}"] = json!({ "get": {
        "summary": "An EPCI's inventory as GeoJSON, the CNIG ;-CSV or the CNIG GeoPackage", "operationId": "getExport", "tags": ["Indicateurs"],
        "parameters": [siren(), json!({ "name": "layer", "in": "path", "required": true,
                "description": "sites, terrains, etablissements, or inventaire (a GeoPackage of its poles, sites, plots and establishments)",
                "schema": { "type": "string", "enum": ["sites", "terrains", "etablissements", "inventaire"] } }),
            json!({ "name": "format", "in": "query", "required": false,
                "description": "geojson (default, CRS84), csv (CNIG ;-CSV: the standard's columns in its order, geometry as GeoJSON text in Lambert-93) or gpkg (the standard's GeoPackage template, EPSG:2154)",
                "schema": { "type": "string", "enum": ["geojson", "csv", "gpkg"] } })],
        "responses": { "200": { "description": "The inventory; confidential fields only for that EPCI's editors and admins",
                "content": { "application/geo+json": {}, "text/csv": {}, "application/geopackage+sqlite3": {} } },
            "400": problem_response("Invalid or unknown parameter"), "401": problem_response("Unknown token"),
            "404": problem_response("Unknown EPCI or layer") }
    }});
    doc["components"]["securitySchemes"] = json!({ "bearer": { "type": "http", "scheme": "bearer",
        "description": "A token from `ecofoncier token create` (EPCI editor or admin)" } });
}

/// The collections written through the API.
const EDITABLE: [&str; 5] = [
    crate::model::Site::COLLECTION,
    crate::model::Terrain::COLLECTION,
    crate::model::Etablissement::COLLECTION,
    crate::model::LocalCommercial::COLLECTION,
    crate::model::TiersLieu::COLLECTION,
];

/// An example of a plot to create, valid against the served data: [`new_plot_like`] the
/// plot of least id with a site, as `EXEMPLE_TERRAIN-ECO_00001` (the same from files and
/// from PostGIS, whatever order the rows come in). `None` on data without such a plot.
fn example_plot(model: &ReadModel) -> Option<Value> {
    let plot = model
        .terrains
        .iter()
        .filter(|t| t.record.site_id.is_some())
        .min_by_key(|t| t.record.terr_id.as_ref())?;
    new_plot_like(model, &plot.record.terr_id, "EXEMPLE_TERRAIN-ECO_00001")
}

/// A new plot `id` as a GeoJSON feature in CRS84: plot `like` lends its properties, and a
/// 20 m square (0.04 ha) at the centroid of its site is its geometry. `None` when `like` is
/// not a plot of a known site.
pub fn new_plot_like(model: &ReadModel, like: &str, id: &str) -> Option<Value> {
    use geo::Centroid;
    let plot = model.terrains.by_id(like)?;
    let site = model.sites.by_id(plot.record.site_id?.as_ref())?;
    let c = site.geometry().centroid()?;
    let ring = [
        (-10.0, -10.0),
        (10.0, -10.0),
        (10.0, 10.0),
        (-10.0, 10.0),
        (-10.0, -10.0),
    ]
    .iter()
    .map(|(dx, dy)| crate::crs::l93_to_lonlat(c.x() + dx, c.y() + dy).map(|(x, y)| [x, y]))
    .collect::<Result<Vec<_>, _>>()
    .ok()?;
    let mut properties = serde_json::to_value(plot.record).ok()?;
    properties["terr_id"] = json!(id);
    properties["terr_surf_brute"] = json!(0.04);
    Some(json!({
        "type": "Feature",
        "geometry": { "type": "Polygon", "coordinates": [ring] },
        "properties": properties
    }))
}

/// Writes (OGC API – Features Part 4 style), histories and features as of a date, with
/// links from a creation to what follows it (read, update, history, delete) and `example`
/// as the body of a creation.
fn add_editing(doc: &mut Value, example: Option<Value>) {
    let write_errors = |extra: &[(&str, &str)]| {
        let mut r = json!({
            "400": problem_response("Invalid feature (the member is named in `field`)"),
            "401": problem_response("No, unknown, revoked or expired bearer token"),
            "403": problem_response("The token may not write features of this EPCI"),
            "429": problem_response("Too many wrong secrets for this token: retry after `Retry-After` seconds"),
            "405": problem_response("Read-only: the embedded dataset, or a layer not edited"),
            "503": problem_response("PostGIS unavailable: retry later; reads go on")
        });
        for (code, text) in extra {
            r[*code] = problem_response(text);
        }
        r
    };
    let feature_body = |ctype: &str| json!({ "required": true, "content": { ctype: { "schema": { "$ref": "#/components/schemas/Feature" } } } });
    let if_match = json!({ "name": "If-Match", "in": "header", "required": true,
        "description": "The feature's ETag (its version), a list of them, or `*`", "schema": { "type": "string", "pattern": r#"^\s*(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)\s*$"# } });
    let crs_headers: Vec<String> = Crs::ALL.iter().map(|c| format!("<{}>", c.uri())).collect();
    let content_crs = json!({ "name": "Content-Crs", "in": "header", "required": false,
        "description": "CRS of the body's geometry as <URI>: CRS84 (default) or EPSG:2154",
        "schema": { "type": "string", "enum": crs_headers } });
    let ids = [
        json!({ "name": "collectionId", "in": "path", "required": true,
            "description": "an edited collection", "schema": { "type": "string", "enum": EDITABLE } }),
        json!({ "name": "featureId", "in": "path", "required": true, "schema": { "type": "string" } }),
    ];
    // What may follow a write of a feature (`which`: Created or Updated), found at `id` (a
    // runtime expression): read it, update and delete it at the version the write answered
    // (its ETag), read its history.
    let follow_ups = |which: &str, id: &str| {
        let link = |op: &str, with_version: bool| {
            let mut parameters = json!({
                "path.collectionId": "$request.path.collectionId",
                "path.featureId": id
            });
            if with_version {
                parameters["header.If-Match"] = json!("$response.header.ETag");
            }
            json!({ "operationId": op, "parameters": parameters })
        };
        json!({
            format!("Get{which}"): link("getFeature", false),
            format!("Update{which}"): link("updateFeature", true),
            format!("HistoryOf{which}"): link("getFeatureHistory", false),
            format!("Delete{which}"): link("deleteFeature", true)
        })
    };
    let links = follow_ups("Created", "$response.body#/id");
    let update_links = follow_ups("Updated", "$request.path.featureId");
    let secured = json!([{ "bearer": [] }]);
    let done = |code: &str, text: &str| json!({ code: { "description": text, "headers": { "ETag": { "schema": { "type": "string" } } } } });
    let merge = |mut a: Value, b: Value| {
        if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
            a.extend(b);
        }
        a
    };
    doc["paths"]["/ogc/collections/{collectionId}/items"]["post"] = json!({
        "summary": "Create a feature", "operationId": "createFeature", "tags": ["Édition"],
        "security": secured, "parameters": [ids[0], content_crs],
        "requestBody": feature_body("application/geo+json"),
        "responses": merge(done("201", "Created (Location, ETag)"), write_errors(&[("404", "Unknown collection"), ("409", "A feature of this id exists"), ("412", "If-Match given: a new feature has no current version")]))
    });
    let post = &mut doc["paths"]["/ogc/collections/{collectionId}/items"]["post"];
    post["responses"]["201"]["links"] = links;
    post["responses"]["201"]["content"] =
        json!({ "application/geo+json": { "schema": { "$ref": "#/components/schemas/Feature" } } });
    if let Some(example) = example {
        post["requestBody"]["content"]["application/geo+json"]["example"] = example;
    }
    let item = "/ogc/collections/{collectionId}/items/{featureId}";
    doc["paths"][item]["put"] = json!({
        "summary": "Replace a feature", "operationId": "replaceFeature", "tags": ["Édition"],
        "security": secured, "parameters": [ids[0], ids[1], if_match, content_crs],
        "requestBody": feature_body("application/geo+json"),
        "responses": merge(done("200", "Replaced"), write_errors(&[("404", "Unknown feature"), ("409", "Overlaps another site"), ("412", "If-Match names no current version (stale, weak or unknown tag)"), ("428", "If-Match missing")]))
    });
    doc["paths"][item]["patch"] = json!({
        "summary": "Update a feature with a JSON Merge Patch", "operationId": "updateFeature", "tags": ["Édition"],
        "security": secured, "parameters": [ids[0], ids[1], if_match, content_crs],
        "requestBody": { "required": true, "content": { "application/merge-patch+json": { "schema": { "type": "object",
            "properties": { "properties": { "type": "object" }, "geometry": { "type": "object" } } } } } },
        "responses": merge(done("200", "Updated"), write_errors(&[("404", "Unknown feature"), ("409", "Overlaps another site"), ("412", "If-Match names no current version (stale, weak or unknown tag)"), ("428", "If-Match missing")]))
    });
    for method in ["put", "patch"] {
        let ok = &mut doc["paths"][item][method]["responses"]["200"];
        ok["content"] = json!({ "application/geo+json": { "schema": { "$ref": "#/components/schemas/Feature" } } });
        ok["links"] = update_links.clone();
    }
    doc["paths"][item]["delete"] = json!({
        "summary": "Delete a feature", "operationId": "deleteFeature", "tags": ["Édition"],
        "security": secured, "parameters": [ids[0], ids[1], if_match],
        "responses": merge(json!({ "204": { "description": "Deleted" } }), write_errors(&[("404", "Unknown feature"), ("412", "If-Match names no current version (stale, weak or unknown tag)"), ("428", "If-Match missing")]))
    });
    doc["paths"][format!("{item}/history")] = json!({ "get": {
        "summary": "The audit history of a feature (who, when, before, after)", "operationId": "getFeatureHistory",
        "tags": ["Édition"], "parameters": [ids[0], ids[1]],
        "responses": { "200": json_response("Oldest first; confidential fields for the EPCI's editors and admins only", json!({ "type": "object" })),
            "404": problem_response("Unknown feature"),
            "405": problem_response("A collection that is not edited") }
    }});
    doc["paths"][item]["get"]["parameters"]
        .as_array_mut()
        .expect("the feature's parameters")
        .push(json!({ "name": "datetime", "in": "query", "required": false,
            "description": "One instant (RFC 3339, or a date meaning its midnight UTC): the feature as it was then, from the audit history (edited collections); 409 when the layer was re-imported since",
            "schema": { "type": "string" } }));
    doc["paths"][item]["get"]["responses"]["409"] =
        problem_response("`datetime` before a re-import of the layer");
}
