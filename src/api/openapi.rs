//! The one OpenAPI 3.0 document of the service, built once at startup.

use serde_json::{json, Value};

use crate::crs::Crs;
use crate::read_model::ReadModel;

use super::query::{DEFAULT_LIMIT, MAX_LIMIT};

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// Builds the document. Collection ids and each collection's queryable properties come from
/// the read model.
pub fn document(model: &ReadModel) -> Value {
    let ids: Vec<&str> = model.collections().iter().map(|s| s.id).collect();
    let crs_uris: Vec<&str> = Crs::ALL.iter().map(|c| c.uri()).collect();
    let filters: Vec<String> = model
        .collections()
        .iter()
        .map(|s| {
            format!(
                "`{}`: {}",
                s.id,
                s.fields.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "ecofoncier",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Foncier économique des intercommunalités des Hauts-de-France : \
                inventaire CNIG Sites économiques, communes, EPCI, locaux commerciaux, \
                tiers-lieux (OGC API – Features, parties 1 et 2). Les couches économiques sont \
                des données synthétiques.",
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
                "description": format!("Paged GeoJSON features. Besides the standard parameters, any property of the collection is an equality filter (`?terr_etat_occup=vacant`). Properties by collection: {}. Confidential CNIG fields (buyers, sale prices and dates, occupant contacts) are never served.", filters.join("; ")),
                "operationId": "getFeatures", "tags": ["OGC API – Features"],
                "parameters": [
                    { "$ref": "#/components/parameters/collectionId" },
                    { "$ref": "#/components/parameters/limit" },
                    { "$ref": "#/components/parameters/offset" },
                    { "$ref": "#/components/parameters/bbox" },
                    { "$ref": "#/components/parameters/bbox-crs" },
                    { "$ref": "#/components/parameters/crs" },
                    { "$ref": "#/components/parameters/datetime" },
                    { "$ref": "#/components/parameters/f" }
                ],
                "responses": {
                    "200": {
                        "description": "A page of features",
                        "headers": { "Content-Crs": { "schema": { "type": "string" }, "description": "CRS of the geometries, as <URI>" } },
                        "content": { "application/geo+json": { "schema": { "$ref": "#/components/schemas/FeatureCollection" } } }
                    },
                    "400": problem_response("Invalid or unknown parameter (named in `parameter`)"),
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
                        "description": "The feature",
                        "headers": { "Content-Crs": { "schema": { "type": "string" } } },
                        "content": { "application/geo+json": { "schema": { "$ref": "#/components/schemas/Feature" } } }
                    },
                    "400": problem_response("Invalid parameter"),
                    "404": problem_response("Unknown collection or feature")
                }
            }},
            "/health": { "get": {
                "summary": "Health and loaded counts", "operationId": "getHealth", "tags": ["Service"],
                "responses": { "200": json_response("The service is up", json!({ "type": "object" })) }
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
                "f": { "name": "f", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "geojson"] } }
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
    })
}
