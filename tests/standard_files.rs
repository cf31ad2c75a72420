//! The public files a real EPCI loads, against a throwaway PostGIS: IGN ADMIN EXPRESS
//! communes and EPCIs (GeoJSON, then the same as a GeoPackage made by GDAL), the INSEE
//! density grid, the CNIG standard's own example rows (`;`-CSV) and its empty GeoPackage
//! template, and the ANCT lieux de médiation numérique. Then the round trip the standard
//! asks for: example rows → import → export (CSV and GeoPackage) → same rows, and the
//! exported GeoPackage → import into another database → export → same rows again.

mod common;

use common::pg::{ecofoncier, PgCluster};
use common::{request, shared, temp_dir};
use ecofoncier::formats::cnig::csv::{geometry_cell, records};
use geo::{CoordsIter, Geometry};
use serde_json::{json, Value};

const EPCI: &str = "200071223"; // CC Nièvre et Somme: the example site's EPCI
const SITE_CSV: &str = "cnig-sites-economiques/schema_site-eco_exemple-valide.csv";
const TERRAIN_CSV: &str = "cnig-sites-economiques/schema_terrain-eco_exemple-valide.csv";

/// Writes the EPCI's communes and the EPCI itself as ADMIN EXPRESS GeoJSON layers.
fn admin_express_files(dir: &std::path::Path) -> (String, String, usize) {
    let communes: Value =
        serde_json::from_slice(&std::fs::read(shared("hdf-2026/communes.geojson")).unwrap())
            .unwrap();
    let mut features = Vec::new();
    for f in communes["features"].as_array().unwrap() {
        let p = &f["properties"];
        if p["epci_siren"] != EPCI {
            continue;
        }
        features.push(json!({
            "type": "Feature",
            "properties": {
                "ID": format!("COMMUNE_{}", p["code_insee"].as_str().unwrap()),
                "INSEE_COM": p["code_insee"], "NOM": p["nom"], "INSEE_DEP": p["dep"],
                "INSEE_REG": "32",
                "POPULATION": p["population"], "SIREN_EPCI": p["epci_siren"],
            },
            "geometry": f["geometry"],
        }));
    }
    let n = features.len();
    let c = dir.join("COMMUNE.geojson");
    std::fs::write(
        &c,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let epcis: Value =
        serde_json::from_slice(&std::fs::read(shared("hdf-2026/epci.geojson")).unwrap()).unwrap();
    let e = epcis["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["epci_siren"] == EPCI)
        .unwrap();
    let epci = json!({"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"CODE_SIREN": EPCI, "NOM": e["properties"]["epci_nom"],
                       "NATURE": "Communauté de communes"},
        "geometry": e["geometry"],
    }]});
    let ep = dir.join("EPCI.geojson");
    std::fs::write(&ep, epci.to_string()).unwrap();
    (
        c.to_str().unwrap().to_string(),
        ep.to_str().unwrap().to_string(),
        n,
    )
}

/// A geometry's positions, whatever its (multi) type.
fn positions(g: &Geometry<f64>) -> Vec<(f64, f64)> {
    g.coords_iter().map(|c| (c.x, c.y)).collect()
}

/// The rows of a `;`-CSV by their first field, each a map of column → value, geometry
/// columns parsed.
type Row = (String, Vec<(String, String)>);

fn rows_by_id(text: &str) -> (Vec<String>, Vec<Row>) {
    let mut r = records(text).into_iter();
    let header = r.next().unwrap().1;
    let rows = r
        .map(|(_, f)| (f[0].clone(), header.iter().cloned().zip(f).collect()))
        .collect();
    (header, rows)
}

/// Asserts that the export holds the example's row with every field equal, and its
/// geometry with the same positions (a ring the example leaves open comes back closed).
fn assert_same_row(example: &str, exported: &str, geometry_column: &str) {
    let (h1, rows1) = rows_by_id(example);
    let (h2, rows2) = rows_by_id(exported);
    assert_eq!(h1, h2, "the standard's columns in its order");
    for (id, fields) in &rows1 {
        let (_, out) = rows2
            .iter()
            .find(|(i, _)| i == id)
            .unwrap_or_else(|| panic!("{id} exported"));
        for ((name, a), (_, b)) in fields.iter().zip(out) {
            if name == geometry_column {
                let (ga, _) = geometry_cell(a).unwrap();
                let (gb, _) = geometry_cell(b).unwrap();
                let (pa, pb) = (positions(&ga), positions(&gb));
                assert_eq!(pa, pb, "{id}: {name} positions");
            } else {
                assert_eq!(a, b, "{id}: {name}");
            }
        }
    }
}

fn export(base: &str, path: &str, token: &str) -> Vec<u8> {
    let auth = format!("Bearer {token}");
    let r = get_with_base(base, path, &[("Authorization", auth.as_str())]);
    assert_eq!(
        r.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.body
}

fn get_with_base(base: &str, path: &str, headers: &[(&str, &str)]) -> common::Response {
    request(base, "GET", path, headers, None).expect("request")
}

#[test]
fn standard_files_import_and_the_cnig_round_trip() {
    let pg = PgCluster::start("standard");
    let url = pg.url();
    ecofoncier(&url, &["migrate"]);
    let dir = temp_dir("standard-files");

    // ADMIN EXPRESS as GeoJSON: the EPCI and its communes; populations summed.
    let (communes, epci, n) = admin_express_files(&dir);
    let out = ecofoncier(
        &url,
        &[
            "import",
            "--admin-express",
            &communes,
            "--admin-express",
            &epci,
        ],
    );
    assert!(
        out.contains(&format!(
            "commune: {n} rows read, {n} inserted or changed, 0 rejected"
        )),
        "{out}"
    );
    assert!(
        out.contains("epci: 1 rows read, 1 inserted or changed, 0 rejected"),
        "{out}"
    );
    // Each commune keeps its region (INSEE_REG).
    assert_eq!(
        common::pg::psql(
            &url,
            "SELECT string_agg(DISTINCT coalesce(reg, 'none'), ',') FROM commune"
        ),
        "32"
    );
    // The same layers as one GeoPackage made by GDAL: nothing changes.
    let gpkg = dir.join("ADMIN-EXPRESS.gpkg");
    for (file, layer) in [(&communes, "commune"), (&epci, "epci")] {
        let st = std::process::Command::new("ogr2ogr")
            .args(["-f", "GPKG", "-update", "-append", "-nln", layer])
            .arg(&gpkg)
            .arg(file)
            .status()
            .expect("ogr2ogr runs (gdal-bin)");
        assert!(st.success());
    }
    let out = ecofoncier(&url, &["import", "--admin-express", gpkg.to_str().unwrap()]);
    assert!(
        out.contains("epci: 1 rows read, 0 inserted or changed"),
        "{out}"
    );
    assert!(
        out.contains(&format!("commune: {n} rows read, 0 inserted or changed")),
        "{out}"
    );

    // The INSEE density grid of the whole region: only the stored communes take it.
    let grid = shared("insee/hdf_grille_densite_7niveaux_2024.csv");
    let out = ecofoncier(&url, &["import", "--insee-density", grid.to_str().unwrap()]);
    assert!(
        out.contains("inserted or changed")
            && out.contains("codes: not among the stored communes: skipped"),
        "{out}"
    );
    let written: usize = out
        .split(" rows read, ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert_eq!(written, n, "{out}");

    // The standard's example rows: nothing lost, off-list values kept and said.
    let site_csv = shared(SITE_CSV);
    let terrain_csv = shared(TERRAIN_CSV);
    let out = ecofoncier(
        &url,
        &[
            "import",
            "--cnig",
            site_csv.to_str().unwrap(),
            "--cnig",
            terrain_csv.to_str().unwrap(),
        ],
    );
    assert!(
        out.contains("site_eco (")
            && out.contains("1 rows read, 1 inserted or changed, 0 rejected"),
        "{out}"
    );
    for kept in [
        "site_vocadomi: « entrepôts »",
        "site_etat: « logistique »",
        "site_moa_type: « EPCI »",
        "site_geomsurf: a ring was not closed",
    ] {
        assert!(out.contains(kept), "{kept}: {out}");
    }
    assert!(out.contains("terrain_eco ("), "{out}");
    let again = ecofoncier(&url, &["import", "--cnig", site_csv.to_str().unwrap()]);
    assert!(
        again.contains("1 rows read, 0 inserted or changed"),
        "{again}"
    );
    // The empty template opens and holds nothing.
    let template = shared("cnig-sites-economiques/schema_sites_economiques.gpkg");
    let out = ecofoncier(&url, &["import", "--cnig", template.to_str().unwrap()]);
    assert!(!out.contains("rejected "), "{out}");

    // ANCT places: a tiers-lieu and a France services in the EPCI, one elsewhere, one library.
    let anct = dir.join("lieux-mediation.csv");
    std::fs::write(
        &anct,
        "id;nom;commune;code_postal;code_insee;adresse;latitude;longitude;typologie;services;horaires\n\
         tl-1;La Fabrique;Ailly-sur-Somme;80470;80011;1 rue de la Gare;49.929;2.199;TIERS_LIEUX;Aide aux démarches administratives|Maîtrise des outils numériques du quotidien;\n\
         fs-1;France services Nièvre et Somme;Ailly-sur-Somme;80470;80011;;49.928;2.197;RFS;;\n\
         tl-2;Ailleurs;Lille;59000;59350;;50.63;3.06;TIERS_LIEUX;;\n\
         bib-1;Médiathèque;Ailly-sur-Somme;80470;80011;;49.93;2.2;BIB;;\n",
    )
    .unwrap();
    let out = ecofoncier(
        &url,
        &["import", "--anct-mediation", anct.to_str().unwrap()],
    );
    assert!(
        out.contains("2 rows read, 2 inserted or changed, 0 rejected"),
        "{out}"
    );
    assert!(
        out.contains("1 places: in communes not stored") && out.contains("1 places neither"),
        "{out}"
    );

    // Served from PostGIS: the example rows come back out as they went in.
    let token = ecofoncier(
        &url,
        &["token", "create", "--epci", EPCI, "--label", "round trip"],
    );
    let server = common::spawn_server(&[("DATABASE_URL", url.as_str())]);
    let base = server.base.as_str();
    let example_site = std::fs::read_to_string(&site_csv).unwrap();
    let example_terrain = std::fs::read_to_string(&terrain_csv).unwrap();
    let sites = String::from_utf8(export(
        base,
        &format!("/api/v1/exports/{EPCI}/sites?format=csv"),
        &token,
    ))
    .unwrap();
    let terrains = String::from_utf8(export(
        base,
        &format!("/api/v1/exports/{EPCI}/terrains?format=csv"),
        &token,
    ))
    .unwrap();
    assert_same_row(&example_site, &sites, "site_geomsurf");
    assert_same_row(&example_terrain, &terrains, "terr_geomsurf");
    // The public gets the same file without the buyer and the prices.
    let public = request(
        base,
        "GET",
        &format!("/api/v1/exports/{EPCI}/terrains?format=csv"),
        &[],
        None,
    )
    .unwrap();
    let public = String::from_utf8(public.body).unwrap();
    assert!(
        !public.contains("Lactalys") && !public.contains("530000"),
        "{public}"
    );
    // The density grid and the ANCT places are in the read model.
    let c = request(
        base,
        "GET",
        "/ogc/collections/communes/items/80011?f=json",
        &[],
        None,
    )
    .unwrap()
    .json();
    assert!(c["properties"]["grille_densite"].as_u64().is_some(), "{c}");
    let tl = request(
        base,
        "GET",
        "/ogc/collections/tiers-lieux/items?f=json&limit=10",
        &[],
        None,
    )
    .unwrap()
    .json();
    assert_eq!(tl["numberMatched"], 2, "{tl}");

    // The GeoPackage export: the template's tables and columns (then the fields the
    // template lacks), opened by GDAL.
    let bytes = export(base, &format!("/api/v1/exports/{EPCI}/inventaire"), &token);
    let exported = dir.join("inventaire.gpkg");
    std::fs::write(&exported, &bytes).unwrap();
    let columns = |path: &std::path::Path, table: &str| -> Vec<String> {
        let db = rusqlite::Connection::open(path).unwrap();
        let mut s = db.prepare(&format!("PRAGMA table_info({table})")).unwrap();
        s.query_map([], |r| r.get::<_, String>(1))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for table in ["pole_eco", "site_eco", "terrain_eco", "etablissement"] {
        let theirs = columns(&template, table);
        let ours = columns(&exported, table);
        assert_eq!(ours[..theirs.len()], theirs[..], "{table}");
    }
    let info = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(&exported)
        .output()
        .expect("ogrinfo runs");
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("Layer name: site_eco") && info.contains("Geometry: Multi Polygon"),
        "{info}"
    );
    assert!(
        info.contains("Layer name: terrain_eco") && info.contains("Feature Count: 1"),
        "{info}"
    );

    // The OGC item page: the buyer for the EPCI's editor only.
    let plot = "/ogc/collections/terrains/items/80024_TERRAIN-ECO_00131";
    let auth = format!("Bearer {token}");
    let public = request(base, "GET", plot, &[], None).unwrap().json();
    assert!(
        public["properties"].get("terr_acquereur").is_none(),
        "{public}"
    );
    let mine = request(base, "GET", plot, &[("Authorization", auth.as_str())], None).unwrap();
    assert_eq!(mine.status, 200);
    let etag = mine.header("ETag").unwrap().to_string();
    assert_eq!(mine.json()["properties"]["terr_acquereur"], "SA Lactalys");
    // As of a date: a change, then the state before it, from the audit history.
    let before = request(base, "GET", "/health", &[], None).unwrap();
    assert_eq!(before.status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let t0 = {
        let out = std::process::Command::new("date")
            .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // The example plot lies in Argoeuves, which belongs to Amiens Métropole in 2026, not to
    // the EPCI the example names: its properties can be edited (what the dataset holds
    // stays editable), but a new geometry is refused, naming the geometry.
    let patch = br#"{"properties": {"terr_etat_occup": "vacant"}}"#;
    let headers = |etag: &str| -> Vec<(String, String)> {
        vec![
            ("Authorization".into(), auth.clone()),
            ("If-Match".into(), etag.to_string()),
            ("Content-Type".into(), "application/merge-patch+json".into()),
        ]
    };
    let send = |path: &str, etag: &str, body: &[u8]| {
        let h = headers(etag);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        request(base, "PATCH", path, &h, Some(body)).unwrap()
    };
    let r = send(plot, &etag, patch);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let etag = r.header("ETag").unwrap().to_string();
    let moved: serde_json::Value = {
        let mut g = r.json()["geometry"].clone();
        for p in g["coordinates"][0].as_array_mut().unwrap() {
            p[0] = serde_json::json!(p[0].as_f64().unwrap() + 1e-6);
        }
        serde_json::json!({ "geometry": g })
    };
    let r = send(plot, &etag, moved.to_string().as_bytes());
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["field"], "geometry");
    // A tiers-lieu of the ANCT file changes; as of before, it had its first hours.
    let place = "/ogc/collections/tiers-lieux/items/tl-1";
    let etag = request(base, "GET", place, &[], None)
        .unwrap()
        .header("ETag")
        .unwrap()
        .to_string();
    let r = send(
        place,
        &etag,
        br#"{"properties": {"tl_horaires": "Mo-Sa 08:00-18:00"}}"#,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let now = request(base, "GET", place, &[], None).unwrap().json();
    assert_eq!(now["properties"]["tl_horaires"], "Mo-Sa 08:00-18:00");
    let then = request(base, "GET", &format!("{place}?datetime={t0}"), &[], None).unwrap();
    assert_eq!(then.status, 200, "{}", String::from_utf8_lossy(&then.body));
    let then = then.json();
    assert_eq!(then["properties"]["tl_horaires"], "", "{then}");
    assert_eq!(then["properties"]["etat_au"], t0.as_str());
    // A plot not changed since: as it is now, buyer still hidden from the public.
    let same = request(base, "GET", &format!("{plot}?datetime={t0}"), &[], None)
        .unwrap()
        .json();
    assert_eq!(same["properties"]["terr_etat_occup"], "occupé", "{same}");
    assert!(same["properties"].get("terr_acquereur").is_none(), "{same}");
    // Before the layer was imported, the state is not kept feature by feature: said so.
    let old = request(
        base,
        "GET",
        &format!("{plot}?datetime=2000-01-01"),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(old.status, 409, "{}", String::from_utf8_lossy(&old.body));
    let bad = request(base, "GET", &format!("{plot}?datetime=hier"), &[], None).unwrap();
    assert_eq!(bad.status, 400);
    assert!(String::from_utf8_lossy(&bad.body).contains("datetime"));
    drop(server);

    // That GeoPackage into another database, served, exported: the same rows again.
    common::pg::psql(&url, "CREATE DATABASE second");
    let url2 = format!("{}/second", url.strip_suffix("/postgres").unwrap());
    ecofoncier(&url2, &["migrate"]);
    ecofoncier(
        &url2,
        &["import", "--admin-express", gpkg.to_str().unwrap()],
    );
    let out = ecofoncier(&url2, &["import", "--cnig", exported.to_str().unwrap()]);
    assert!(!out.contains("rejected "), "{out}");
    let token2 = ecofoncier(&url2, &["token", "create", "--epci", EPCI]);
    let server = common::spawn_server(&[("DATABASE_URL", url2.as_str())]);
    let sites2 = String::from_utf8(export(
        &server.base,
        &format!("/api/v1/exports/{EPCI}/sites?format=csv"),
        &token2,
    ))
    .unwrap();
    let terrains2 = String::from_utf8(export(
        &server.base,
        &format!("/api/v1/exports/{EPCI}/terrains?format=csv"),
        &token2,
    ))
    .unwrap();
    assert_same_row(&example_site, &sites2, "site_geomsurf");
    assert_eq!(terrains2, terrains, "plots byte for byte");
}
