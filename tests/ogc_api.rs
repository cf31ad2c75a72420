//! OGC API – Features black-box tests against the binary on a free port.

mod common;

use common::{get, get_with, model};
use serde_json::Value;

const COLLECTIONS: [&str; 8] = [
    "epci",
    "communes",
    "poles",
    "sites",
    "terrains",
    "etablissements",
    "locaux-commerciaux",
    "tiers-lieux",
];

fn rel<'a>(doc: &'a Value, rel: &str) -> Option<&'a Value> {
    doc["links"].as_array()?.iter().find(|l| l["rel"] == rel)
}

#[test]
fn landing_page_with_and_without_slash() {
    for path in ["/ogc", "/ogc/"] {
        let r = get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        let doc = r.json();
        for (name, typ) in [
            ("self", "application/json"),
            (
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
            ),
            ("service-doc", "text/html"),
            ("conformance", "application/json"),
            ("data", "application/json"),
        ] {
            let l = rel(&doc, name).unwrap_or_else(|| panic!("{path}: no `{name}` link"));
            assert_eq!(l["type"], typ, "{name}");
            assert!(l["href"].as_str().unwrap().starts_with("http://127.0.0.1:"));
        }
    }
}

#[test]
fn service_desc_is_openapi_30_with_every_path() {
    let r = get("/ogc/api");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    for p in [
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/{collectionId}",
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/{collectionId}/items/{featureId}",
        "/health",
        "/",
        "/apercu.png",
        "/tiles/{layer}/{z}/{x}/{y}",
    ] {
        assert!(doc["paths"][p].is_object(), "path {p} missing");
    }
    let ids = &doc["components"]["parameters"]["collectionId"]["schema"]["enum"];
    assert_eq!(ids.as_array().unwrap().len(), COLLECTIONS.len());
    assert_eq!(get("/ogc/api.html").status, 200);
}

#[test]
fn conformance_declares_core_geojson_oas30_crs() {
    let doc = get("/ogc/conformance").json();
    let classes: Vec<&str> = doc["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for c in [
        "conf/core",
        "conf/geojson",
        "conf/oas30",
        "ogcapi-features-2/1.0/conf/crs",
    ] {
        assert!(
            classes.iter().any(|x| x.ends_with(c) || x.contains(c)),
            "{c}"
        );
    }
}

#[test]
fn collections_have_extent_crs_and_storage_crs() {
    let doc = get("/ogc/collections").json();
    let cols = doc["collections"].as_array().unwrap();
    let ids: Vec<&str> = cols.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, COLLECTIONS);
    for c in cols {
        let id = c["id"].as_str().unwrap();
        assert_eq!(c["itemType"], "feature", "{id}");
        let crs: Vec<&str> = c["crs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            crs[0], "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            "{id}: CRS84 first"
        );
        for code in ["2154", "4326", "3857"] {
            assert!(
                crs.iter().any(|u| u.ends_with(&format!("EPSG/0/{code}"))),
                "{id}: {code}"
            );
        }
        assert_eq!(
            c["storageCrs"],
            "http://www.opengis.net/def/crs/EPSG/0/2154"
        );
        let bbox = c["extent"]["spatial"]["bbox"][0].as_array().unwrap();
        let b: Vec<f64> = bbox.iter().map(|v| v.as_f64().unwrap()).collect();
        // Hauts-de-France lies within 1.3°E–4.3°E, 48.8°N–51.1°N.
        assert!(
            b[0] > 1.3 && b[2] < 4.3 && b[1] > 48.8 && b[3] < 51.1,
            "{id}: {b:?}"
        );
        assert!(rel(c, "items").is_some(), "{id}: items link");
        let synthetic = c["ecofoncier:synthetique"].as_bool().unwrap();
        assert_eq!(synthetic, !matches!(id, "epci" | "communes"), "{id}");
        if synthetic {
            assert!(
                c["description"].as_str().unwrap().contains("synthétiques"),
                "{id}"
            );
        }
        let one = get(&format!("/ogc/collections/{id}"));
        assert_eq!(one.status, 200);
        assert_eq!(one.json()["id"], id);
    }
}

#[test]
fn items_page_has_counts_links_and_content_crs() {
    let r = get("/ogc/collections/terrains/items?limit=7&offset=14");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/geo+json"));
    assert_eq!(
        r.header("content-crs"),
        Some("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
    );
    let doc = r.json();
    assert_eq!(doc["type"], "FeatureCollection");
    assert_eq!(doc["numberMatched"], model().terrains.len());
    assert_eq!(doc["numberReturned"], 7);
    assert_eq!(doc["features"].as_array().unwrap().len(), 7);
    assert!(doc["timeStamp"].as_str().unwrap().ends_with('Z'));
    for name in ["self", "next", "prev"] {
        let l = rel(&doc, name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(l["type"], "application/geo+json");
    }
    assert!(rel(&doc, "next").unwrap()["href"]
        .as_str()
        .unwrap()
        .contains("offset=21"));
    assert!(rel(&doc, "prev").unwrap()["href"]
        .as_str()
        .unwrap()
        .contains("offset=7"));
    // The first page has no prev; the last page no next.
    let first = get("/ogc/collections/poles/items").json();
    assert!(rel(&first, "prev").is_none());
    assert_eq!(first["numberReturned"], model().poles.len().min(100));
    let n = model().epci.len();
    let last = get(&format!(
        "/ogc/collections/epci/items?offset={}&limit=5",
        n - 2
    ))
    .json();
    assert_eq!(last["numberReturned"], 2);
    assert!(rel(&last, "next").is_none());
}

#[test]
fn default_limit_is_100_and_max_is_10000() {
    let doc = get("/ogc/collections/communes/items").json();
    assert_eq!(doc["numberReturned"], 100);
    assert_eq!(
        get("/ogc/collections/communes/items?limit=10000").json()["numberReturned"],
        3782
    );
    for bad in ["limit=10001", "limit=0", "limit=abc", "offset=-1"] {
        let r = get(&format!("/ogc/collections/communes/items?{bad}"));
        assert_eq!(r.status, 400, "{bad}");
        let p = r.json();
        assert_eq!(p["parameter"], bad.split('=').next().unwrap(), "{bad}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
}

#[test]
fn json_for_any_accept_but_a_browsers() {
    for accept in [
        "*/*",
        "application/json",
        "application/geo+json",
        "application/geo+json, application/json",
        "text/html;q=0.5,application/json",
    ] {
        let r = get_with(
            "/ogc/collections/sites/items?limit=1",
            &[("Accept", accept)],
        );
        assert_eq!(r.status, 200, "{accept}");
        assert_eq!(r.json()["numberReturned"], 1);
    }
}

#[test]
fn invalid_or_unknown_parameters_get_400_naming_them() {
    for (q, param) in [
        ("bbox=1,2,3", "bbox"),
        ("bbox=3,50,2,51", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=2,50,3,95", "bbox"),
        ("bbox=2,50,3,51&bbox-crs=EPSG:9999", "bbox-crs"),
        (
            "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2154",
            "bbox-crs",
        ),
        ("crs=http://www.opengis.net/def/crs/EPSG/0/27572", "crs"),
        ("f=xml", "f"),
        ("colour=red", "colour"),
        ("limit=5&limit=6", "limit"),
    ] {
        let r = get(&format!("/ogc/collections/sites/items?{q}"));
        assert_eq!(r.status, 400, "{q}");
        let p = r.json();
        assert_eq!(p["parameter"], param, "{q}: {p}");
        assert_eq!(p["status"], 400);
        assert!(p["detail"].as_str().unwrap().contains(param), "{q}: {p}");
    }
    assert_eq!(get("/ogc/collections?foo=1").status, 400);
    assert_eq!(get("/ogc/collections/sites/items/x?limit=1").status, 400);
}

#[test]
fn unknown_collection_or_feature_is_404() {
    for path in [
        "/ogc/collections/parcelles",
        "/ogc/collections/parcelles/items",
        "/ogc/collections/sites/items/NOPE",
        "/nowhere",
    ] {
        let r = get(path);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
}

#[test]
fn single_feature_with_links_and_crs() {
    let m = model();
    let site = &m.sites.get(3).record;
    let r = get(&format!("/ogc/collections/sites/items/{}", site.site_id));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/geo+json"));
    let f = r.json();
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["id"], site.site_id.as_str());
    assert_eq!(f["properties"]["site_nom"], site.site_nom.as_str());
    assert!(rel(&f, "self").is_some() && rel(&f, "collection").is_some());

    // Lambert-93 output is the stored geometry, to the centimetre.
    let r = get(&format!(
        "/ogc/collections/sites/items/{}?crs=http://www.opengis.net/def/crs/EPSG/0/2154",
        site.site_id
    ));
    assert_eq!(
        r.header("content-crs"),
        Some("<http://www.opengis.net/def/crs/EPSG/0/2154>")
    );
    let f = r.json();
    let stored = match &m.sites.get(3).geometry() {
        geo::Geometry::MultiPolygon(mp) => mp.0[0].exterior().0[0],
        g => panic!("unexpected {g:?}"),
    };
    let served = &f["geometry"]["coordinates"][0][0][0];
    assert!((served[0].as_f64().unwrap() - stored.x).abs() <= 0.005);
    assert!((served[1].as_f64().unwrap() - stored.y).abs() <= 0.005);

    // EPSG:4326 is latitude first.
    let f = get(&format!(
        "/ogc/collections/sites/items/{}?crs=http://www.opengis.net/def/crs/EPSG/0/4326",
        site.site_id
    ))
    .json();
    let c = &f["geometry"]["coordinates"][0][0][0];
    assert!(c[0].as_f64().unwrap() > 48.0 && c[1].as_f64().unwrap() < 5.0);
}

#[test]
fn equality_filters_on_properties() {
    let m = model();
    let vacant = m
        .terrains
        .iter()
        .filter(|f| f.record.terr_etat_occup == "vacant")
        .count();
    let doc = get("/ogc/collections/terrains/items?terr_etat_occup=vacant&limit=1").json();
    assert_eq!(doc["numberMatched"], vacant);
    let e = &m.epci.get(0).record;
    let n = m
        .communes
        .iter()
        .filter(|c| c.record.epci_siren == e.epci_siren)
        .count();
    let doc = get(&format!(
        "/ogc/collections/communes/items?epci_siren={}",
        e.epci_siren
    ))
    .json();
    assert_eq!(doc["numberMatched"], n);
    // Numbers compare numerically.
    let pop = m.communes.get(0).record.population;
    let doc = get(&format!("/ogc/collections/communes/items?population={pop}")).json();
    assert!(doc["numberMatched"].as_u64().unwrap() >= 1);
}

/// Walks every page of a collection and checks that no confidential field is served.
#[test]
fn confidential_fields_never_served() {
    const SECRET: [&str; 6] = [
        "terr_acquereur",
        "terr_cession_date",
        "terr_vente_montant",
        "terr_m2_prix",
        "etab_contact_mail",
        "etab_contact_tel",
    ];
    // The data has them, so their absence is the service's doing.
    assert!(model()
        .terrains
        .iter()
        .any(|f| f.record.terr_acquereur.is_some()));
    assert!(model()
        .etablissements
        .iter()
        .any(|f| f.record.etab_contact_mail.is_some()));
    for id in COLLECTIONS {
        let mut offset = 0;
        loop {
            let r = get(&format!(
                "/ogc/collections/{id}/items?limit=10000&offset={offset}"
            ));
            let text = String::from_utf8_lossy(&r.body);
            for s in SECRET {
                assert!(!text.contains(s), "{id} serves {s}");
            }
            let doc = r.json();
            let n = doc["numberReturned"].as_u64().unwrap() as usize;
            offset += n;
            if n == 0 || offset >= doc["numberMatched"].as_u64().unwrap() as usize {
                break;
            }
        }
    }
    let api = String::from_utf8(get("/ogc/api").body).unwrap();
    assert!(!api.contains("\"terr_acquereur\""));
    // Nor by filtering on them.
    assert_eq!(
        get("/ogc/collections/terrains/items?terr_acquereur=x").status,
        400
    );
}

#[test]
fn synthetic_features_say_so() {
    for id in [
        "sites",
        "terrains",
        "etablissements",
        "locaux-commerciaux",
        "tiers-lieux",
        "poles",
    ] {
        let doc = get(&format!("/ogc/collections/{id}/items?limit=50")).json();
        for f in doc["features"].as_array().unwrap() {
            let p = &f["properties"];
            let src = p["source_producteur"]
                .as_str()
                .or(p["etab_source_info"].as_str())
                .unwrap_or("");
            assert!(src.contains("données synthétiques ecofoncier"), "{id}: {p}");
        }
    }
}

#[test]
fn health_reports_counts() {
    let doc = get("/health").json();
    assert_eq!(doc["status"], "ok");
    assert_eq!(doc["loaded"]["communes"], 3782);
    assert_eq!(doc["loaded"]["EPCI"], 92);
}

/// An items page and a feature carry a strong ETag; `If-None-Match` naming it (weakly too,
/// or in a list, or `*`) answers 304 without a body, another tag the page again.
#[test]
fn items_pages_and_features_answer_304_to_their_etag() {
    for path in [
        "/ogc/collections/terrains/items?limit=5",
        "/ogc/collections/terrains/items?limit=5&crs=http://www.opengis.net/def/crs/EPSG/0/2154",
    ] {
        let r = get(path);
        assert_eq!(r.status, 200);
        let tag = r.header("ETag").expect("an ETag").to_string();
        assert!(tag.starts_with('"'), "strong: {tag}");
        let weak = format!("W/{tag}");
        let listed = format!("\"x\", {tag}");
        for inm in [tag.as_str(), weak.as_str(), listed.as_str(), "*"] {
            let again = get_with(path, &[("If-None-Match", inm)]);
            assert_eq!(again.status, 304, "{path} If-None-Match: {inm}");
            assert!(again.body.is_empty());
            assert_eq!(again.header("ETag"), Some(tag.as_str()));
        }
        assert_eq!(get_with(path, &[("If-None-Match", "\"x\"")]).status, 200);
    }
    // Two pages, two tags.
    let a = get("/ogc/collections/terrains/items?limit=5");
    let b = get("/ogc/collections/terrains/items?limit=5&offset=5");
    assert_ne!(a.header("ETag"), b.header("ETag"));
    let id = a.json()["features"][0]["id"].as_str().unwrap().to_string();
    let item = format!("/ogc/collections/terrains/items/{id}");
    let tag = get(&item).header("ETag").unwrap().to_string();
    assert_eq!(get_with(&item, &[("If-None-Match", &tag)]).status, 304);
}

/// HEAD answers as GET without a body; a method a path does not take is a 405 naming the
/// ones it does (`Allow`), not a 404; an unknown path stays a 404.
#[test]
fn head_and_methods_not_allowed() {
    let base = common::server();
    let path = "/ogc/collections/terrains/items?limit=3";
    let got = get(path);
    let head = common::request(base, "HEAD", path, &[], None).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("ETag"), got.header("ETag"));
    assert_eq!(
        head.header("Content-Length"),
        Some(got.body.len().to_string().as_str())
    );
    for (method, path, allow) in [
        ("TRACE", "/ogc/collections", "GET, HEAD"),
        ("DELETE", "/api/v1/indicators", "GET, HEAD"),
        ("GET", "/api/v1/proposals/check", "POST"),
        // This instance is read-only (the embedded dataset): no write is allowed anywhere
        // (tests/editing.rs checks the write methods on PostGIS).
        ("OPTIONS", "/ogc/collections/terrains/items", "GET, HEAD"),
        ("POST", "/ogc/collections/terrains/items/x", "GET, HEAD"),
    ] {
        let r = common::request(base, method, path, &[], None).unwrap();
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("Allow"), Some(allow), "{method} {path}");
        assert_eq!(
            r.header("Content-Type"),
            Some("application/problem+json"),
            "{method} {path}"
        );
    }
    assert_eq!(get("/nowhere").status, 404);
}

/// The HTML encoding: every page in French for `f=html` and for a browser's `Accept`, JSON
/// stays the default; the items page holds a row and a drawn shape per feature of the JSON
/// page, the same counts, and links to each feature and to the next page.
#[test]
fn html_pages_for_browsers() {
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let fid = get("/ogc/collections/terrains/items?limit=1").json()["features"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (path, words) in [
        ("/ogc", "Collections"),
        ("/ogc/conformance", "conf/html"),
        ("/ogc/collections", "Terrains (unités foncières)"),
        ("/ogc/collections/terrains", "Propriétés filtrables"),
        ("/ogc/collections/terrains/queryables", "terr_surf_brute"),
        (
            "/ogc/collections/terrains/items?limit=3",
            "objets correspondent",
        ),
        (
            &format!("/ogc/collections/terrains/items/{fid}"),
            "terr_surf_brute",
        ),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        for r in [
            get(&format!("{path}{sep}f=html")),
            get_with(path, &[("Accept", browser)]),
        ] {
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(
                r.header("content-type"),
                Some("text/html; charset=utf-8"),
                "{path}"
            );
            assert!(r.header("vary").unwrap_or("").contains("Accept"), "{path}");
            let text = String::from_utf8(r.body).unwrap();
            assert!(
                text.starts_with("<!doctype html><html lang=\"fr\">"),
                "{path}"
            );
            assert!(text.contains(words), "{path}: {words}");
            assert!(text.contains("f=json"), "{path}: the JSON alternate");
            assert!(!text.contains("terr_acquereur"), "{path}");
        }
        let json = get(path);
        assert!(
            json.header("content-type").unwrap().contains("json"),
            "{path}"
        );
    }
    // A browser holding the feature's JSON validator still gets the page, not a 304.
    let item = format!("/ogc/collections/terrains/items/{fid}");
    let version = get(&item).header("etag").unwrap().to_string();
    let page = get_with(&item, &[("Accept", browser), ("If-None-Match", &version)]);
    assert_eq!(page.status, 200);
    assert_ne!(page.header("etag"), Some(version.as_str()));
    assert_eq!(get_with(&item, &[("If-None-Match", &version)]).status, 304);
    // A filtered page: the same counts and features as its JSON.
    let q = serde_urlencoded::to_string([
        (
            "filter",
            "terr_etat_occup = 'vacant' AND terr_surf_brute > 1",
        ),
        ("limit", "25"),
    ])
    .unwrap();
    let json = get(&format!("/ogc/collections/terrains/items?{q}")).json();
    let html = String::from_utf8(get(&format!("/ogc/collections/terrains/items?{q}&f=html")).body)
        .unwrap();
    let matched = json["numberMatched"].as_u64().unwrap();
    let written = ecofoncier::api::html::count(matched as usize);
    assert!(html.contains(&format!("<strong>{written}</strong> objets")));
    let features = json["features"].as_array().unwrap();
    assert_eq!(html.matches("<tr>").count(), features.len() + 1);
    assert_eq!(html.matches("<path ").count(), features.len());
    for f in features {
        let id = f["id"].as_str().unwrap();
        assert!(
            html.contains(&format!("/ogc/collections/terrains/items/{id}?f=html")),
            "{id}"
        );
    }
    assert!(html.contains("rel=\"next\""));
    assert!(html.contains("Données synthétiques"));
}
