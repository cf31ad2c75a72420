//! `/api/v1` black-box against the binary on the embedded dataset: every endpoint answers,
//! agrees with the read model, and bad input gets a 4xx naming the field.

mod common;

use common::{get, model, request, server};
use serde_json::{json, Value};

fn post(path: &str, body: &[u8]) -> common::Response {
    request(
        server(),
        "POST",
        path,
        &[("Content-Type", "application/json")],
        Some(body),
    )
    .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// A square of `side_m` metres centred on a CRS84 point, as a CRS84 GeoJSON polygon.
fn square(lon: f64, lat: f64, side_m: f64) -> Value {
    let (x, y) = ecofoncier::crs::lonlat_to_l93(lon, lat).unwrap();
    let h = side_m / 2.0;
    let ring: Vec<[f64; 2]> = [
        (x - h, y - h),
        (x + h, y - h),
        (x + h, y + h),
        (x - h, y + h),
        (x - h, y - h),
    ]
    .iter()
    .map(|&(a, b)| {
        let (lo, la) = ecofoncier::crs::l93_to_lonlat(a, b).unwrap();
        [lo, la]
    })
    .collect();
    json!({"type": "Polygon", "coordinates": [ring]})
}

/// A gzipped GeoJSON file of the embedded data, read with serde_json alone.
fn data_file(name: &str) -> Value {
    let file = std::fs::File::open(common::data_dir().join(name)).unwrap();
    serde_json::from_reader(flate2::read::GzDecoder::new(file)).unwrap()
}

/// Units and legally vacant units by site for tax year `year`, computed here from the
/// rows of the data file's `plots` ([`data_file`]): L318-8-2 of the Code de l'urbanisme counts a unit vacant when it is not
/// occupied and both its last activity and its being unoccupied date from 1 January of
/// `year − 2` or before (ISO dates compare as text).
fn vacancy_by_site(plots: &Value, year: i32) -> std::collections::BTreeMap<String, (u64, u64)> {
    let limit = format!("{}-01-01", year - 2);
    let by = |d: &Value| d.as_str().is_some_and(|d| d <= limit.as_str());
    let mut sites = std::collections::BTreeMap::new();
    for f in plots["features"].as_array().unwrap() {
        let p = &f["properties"];
        let Some(site) = p["site_id"].as_str() else {
            continue;
        };
        let e: &mut (u64, u64) = sites.entry(site.to_string()).or_default();
        e.0 += 1;
        e.1 += u64::from(
            p["terr_etat_occup"] != "occupé"
                && by(&p["terr_activite_fin_date"])
                && by(&p["terr_inoccupe_date"]),
        );
    }
    sites
}

#[test]
fn site_occupancy_matches_an_independent_count() {
    let m = model();
    let rate = |(n, v): (u64, u64)| (100.0 * v as f64 / n as f64).round() as u64;
    let plots = data_file("terrains.geojson.gz");
    for year in [2026, 2028] {
        let expected = vacancy_by_site(&plots, year);
        assert!(
            expected.values().any(|&(_, v)| v > 0),
            "some plots are vacant in {year}"
        );
        for (site, &(n, v)) in expected.iter().step_by(11) {
            let d = get(&format!("/api/v1/sites/{site}/occupancy?year={year}")).json();
            assert_eq!(
                (
                    &d["site_uf_nbre"],
                    &d["site_uf_vacant_nbre"],
                    &d["site_taux_vacance"]
                ),
                (&json!(n), &json!(v), &json!(rate((n, v)))),
                "{site} in {year}"
            );
            assert_eq!(d["annee_reference"], year);
        }
        let total = expected.values().map(|c| c.1).sum::<u64>();
        println!(
            "{year}: {total} legally vacant units in {} sites",
            expected.len()
        );
    }
    // The sites' stored CNIG figures (2026) agree with the same count.
    let expected = vacancy_by_site(&plots, 2026);
    for s in m.sites.iter() {
        let &(n, v) = expected.get(s.record.site_id.as_str()).unwrap_or(&(0, 0));
        assert_eq!(
            (
                s.record.site_uf_nbre.unwrap() as u64,
                s.record.site_uf_vacant_nbre.unwrap() as u64
            ),
            (n, v),
            "{}",
            s.record.site_id
        );
    }
    assert_eq!(get("/api/v1/sites/NOPE/occupancy").status, 404);
    let r = get(&format!(
        "/api/v1/sites/{}/occupancy?year=abc",
        m.sites.get(0).record.site_id
    ));
    assert_eq!(
        (r.status, r.json()["parameter"].clone()),
        (400, json!("year"))
    );
    assert_eq!(
        get("/api/v1/occupancy/region/32").json()["uf_nbre"],
        m.terrains.len()
    );
}

#[test]
fn search_returns_sorted_geojson_with_site_fields() {
    let r = get("/api/v1/terrains/search?near=2.30,49.89&radius_km=30&min_ha=0.5&stade_comm=en%20vente&limit=20");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/geo+json"));
    let d = r.json();
    let feats = d["features"].as_array().unwrap();
    assert!(!feats.is_empty());
    let dist: Vec<f64> = feats
        .iter()
        .map(|f| f["properties"]["distance_km"].as_f64().unwrap())
        .collect();
    assert!(dist.windows(2).all(|w| w[0] <= w[1]), "{dist:?}");
    for f in feats {
        let p = &f["properties"];
        assert!(p["terr_surf_brute"].as_f64().unwrap() >= 0.5);
        assert_eq!(p["terr_stade_comm"], "en vente");
        assert!(p["site"]["site_nom"].is_string() && p["site"]["site_vocadomi"].is_string());
        assert!(p.get("terr_acquereur").is_none());
    }
    for (q, param) in [
        ("near=2.3", "near"),
        ("radius_km=5", "radius_km"),
        ("min_ha=5&max_ha=1", "min_ha"),
        ("stade_comm=gratuit", "stade_comm"),
        ("reseau=teleportation", "reseau"),
        ("vocation=spatiale", "vocation"),
        ("epci=123", "epci"),
        ("limit=0", "limit"),
        ("colour=red", "colour"),
    ] {
        let r = get(&format!("/api/v1/terrains/search?{q}"));
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["parameter"], param, "{q}");
    }
}

#[test]
fn land_take_levels() {
    let m = model();
    let region = get("/api/v1/land-take/region/32").json();
    assert_eq!(region["annees"].as_array().unwrap().len(), 13);
    let zan = &region["zan"];
    assert_eq!(zan["annees_observees"], 3);
    assert_eq!(zan["annees_restantes"], 7);
    let e = &m.epci.get(0).record.epci_siren;
    let epci = get(&format!("/api/v1/land-take/epci/{e}")).json();
    assert!(
        epci["zan"]["enveloppe_ha"].as_f64().unwrap()
            >= epci["zan"]["enveloppe_sans_garantie_ha"].as_f64().unwrap()
    );
    // A commune's years, each destination and the total, equal to its rows of the data file
    // read here on their own.
    let c = m.communes.get(0).record.code_insee.to_string();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(common::data_dir().join("consommation_enaf.csv.gz")).unwrap(),
        ),
        &mut text,
    )
    .unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(';').collect();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(';').collect::<Vec<_>>())
        .filter(|r| r[0] == c)
        .collect();
    assert!(!rows.is_empty(), "{c} has land-take rows");
    let served = get(&format!("/api/v1/land-take/commune/{c}")).json();
    let years = served["annees"].as_array().unwrap();
    assert_eq!(years.len(), rows.len());
    for (y, row) in years.iter().zip(&rows) {
        assert_eq!(y["annee"].to_string(), row[1]);
        let mut total = 0.0;
        for (k, v) in header.iter().zip(row).skip(2) {
            let v: f64 = v.parse().unwrap();
            assert_eq!(y[*k].as_f64(), Some(v), "{c} {} {k}", row[1]);
            total += v;
        }
        assert_eq!(y["total_m2"].as_f64(), Some(total), "{c} {}", row[1]);
    }
    assert_eq!(
        get("/api/v1/land-take/canton/1").json()["parameter"],
        "level"
    );
    assert_eq!(get("/api/v1/land-take/commune/00000").status, 404);
}

#[test]
fn proposal_check_answers_in_french() {
    let body = json!({"geometry": square(2.35, 49.87, 400.0), "emplois": 120});
    let r = post("/api/v1/proposals/check", body.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let d = r.json();
    let ha = d["surface_ha"].as_f64().unwrap();
    assert!((ha - 16.0).abs() < 0.01, "{ha}");
    let share: f64 = d["communes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["part_pct"].as_f64().unwrap())
        .sum();
    assert!((share - 100.0).abs() < 0.2, "{share}");
    assert!(d["epci"][0]["reste_zan_ha"].is_number());
    assert!(d["navettes"]["km_an_economises"].as_f64().unwrap() >= 0.0);
    let text = d["constats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(text.contains("ha") && text.contains("ZAN"), "{text}");
    // The same zone sent in Lambert-93 measures the same.
    let (x, y) = ecofoncier::crs::lonlat_to_l93(2.35, 49.87).unwrap();
    let l93 = json!({"crs": "EPSG:2154", "geometry": {"type": "Polygon", "coordinates": [[
        [x - 200.0, y - 200.0], [x + 200.0, y - 200.0], [x + 200.0, y + 200.0], [x - 200.0, y + 200.0], [x - 200.0, y - 200.0]]]}});
    let d2 = post("/api/v1/proposals/check", l93.to_string().as_bytes()).json();
    assert_eq!(d2["surface_ha"], 16.0);
    // A vocation keeps the plots of the sites that welcome it, and only those.
    let m = model();
    let mut fewer = false;
    for v in ["commerciale", "industrielle", "tertiaire"] {
        let body = json!({"geometry": square(2.35, 49.87, 400.0), "vocation": v});
        let dv = post("/api/v1/proposals/check", body.to_string().as_bytes()).json();
        let n = dv["terrains_disponibles"].as_u64().unwrap();
        assert!(n <= d["terrains_disponibles"].as_u64().unwrap(), "{v}");
        fewer |= n < d["terrains_disponibles"].as_u64().unwrap();
        for t in dv["terrains_proches"].as_array().unwrap() {
            let site = m.sites.by_id(t["site_id"].as_str().unwrap()).unwrap();
            assert!(site.record.welcomes(v), "{v}: {}", t["terr_id"]);
        }
        assert!(dv["constats"][1].as_str().unwrap().contains(v));
    }
    assert!(fewer, "some vocation narrows the available plots");
}

#[test]
fn proposal_bad_inputs_get_4xx_saying_what_is_wrong() {
    let bow_tie = json!({"geometry": {"type": "Polygon", "coordinates": [[[2.30, 49.85], [2.34, 49.89], [2.34, 49.85], [2.30, 49.89], [2.30, 49.85]]]}});
    let unclosed = json!({"geometry": {"type": "Polygon", "coordinates": [[[2.30, 49.85], [2.34, 49.85], [2.34, 49.89], [2.30, 49.89]]]}});
    let empty = json!({"geometry": {"type": "Polygon", "coordinates": []}});
    let paris = json!({"geometry": square(2.35, 48.85, 500.0)});
    let out_of_crs = json!({"geometry": {"type": "Polygon", "coordinates": [[[200.0, 49.85], [2.34, 49.85], [2.34, 49.89], [200.0, 49.85]]]}});
    let point = json!({"geometry": {"type": "Point", "coordinates": [2.3, 49.8]}});
    let mut many: Vec<[f64; 2]> = (0..10_050)
        .map(|i| {
            let a = i as f64 / 10_050.0 * std::f64::consts::TAU;
            // Five decimals keep the body under the 256 KiB limit.
            let r5 = |v: f64| (v * 1e5).round() / 1e5;
            [r5(2.3 + 0.05 * a.cos()), r5(49.87 + 0.03 * a.sin())]
        })
        .collect();
    many.push(many[0]);
    let too_many = json!({"geometry": {"type": "Polygon", "coordinates": [many]}});
    let bad_jobs = json!({"geometry": square(2.35, 49.87, 400.0), "emplois": -3});
    for (body, status, field, words) in [
        (bow_tie, 400, "geometry", "self-intersection"),
        (unclosed, 400, "geometry.coordinates[0]", "not closed"),
        (empty, 400, "geometry.coordinates", "empty"),
        (paris, 400, "geometry", "outside the data"),
        (
            out_of_crs,
            400,
            "geometry.coordinates[0][0]",
            "outside the valid range",
        ),
        (point, 400, "geometry.type", "not Polygon"),
        (
            too_many,
            400,
            "geometry.coordinates[0]",
            "too many vertices",
        ),
        (bad_jobs, 400, "emplois", "integer"),
    ] {
        let r = post("/api/v1/proposals/check", body.to_string().as_bytes());
        let p = r.json();
        assert_eq!(r.status, status, "{p}");
        assert_eq!(p["field"], field, "{p}");
        assert!(p["detail"].as_str().unwrap().contains(words), "{p}");
    }
    let r = post("/api/v1/proposals/check", b"{not json");
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("body")));
    let big = vec![b' '; 300 * 1024];
    let r = post("/api/v1/proposals/check", &big);
    assert_eq!(r.status, 413);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

#[test]
fn commuting_baseline_and_scenario() {
    let m = model();
    let e = &m.epci.get(0).record.epci_siren;
    let b = get(&format!("/api/v1/commute/epci/{e}")).json();
    assert!(b["navettes"]["actifs_residents"].as_u64().unwrap() > 0);
    let site = &m.sites.get(10).record.site_id;
    let r = post(
        "/api/v1/scenarios/commute",
        json!({"site_id": site, "jobs": 50}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200);
    let d = r.json();
    assert!(d["emplois_pourvus"].as_u64().unwrap() <= 50);
    assert!(d["methode"].as_str().unwrap().contains("220"));
    let r = post(
        "/api/v1/scenarios/commute",
        json!({"point": [2.3, 49.9], "jobs": 0})
            .to_string()
            .as_bytes(),
    );
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("jobs")));
    let r = post(
        "/api/v1/scenarios/commute",
        json!({"jobs": 5}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 400);
    // Each refusal names the member at fault.
    for (body, field) in [
        (json!({"site_id": site, "jobs": "50"}), "jobs"),
        (json!({"site_id": site, "jobs": 50, "job": 5}), "job"),
        (json!({"site_id": site}), "jobs"),
        (json!({"point": [2.3, 49.9, 3.0], "jobs": 5}), "point"),
        (json!({"point": [2.3, "49.9"], "jobs": 5}), "point[1]"),
        (json!({"site_id": site, "jobs": 5, "take_up": 0}), "take_up"),
    ] {
        let r = post("/api/v1/scenarios/commute", body.to_string().as_bytes());
        assert_eq!(
            (r.status, r.json()["field"].clone()),
            (400, json!(field)),
            "{body}"
        );
    }
    let r = post("/api/v1/scenarios/commute", b"{\"jobs\": 5");
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("body")));
}

#[test]
fn coverage_suggest_premises() {
    let c = get("/api/v1/tiers-lieux/coverage?radius_km=10").json();
    let pct = c["region"]["taux_couverture_pct"].as_f64().unwrap();
    assert!(pct > 0.0 && pct <= 100.0);
    assert_eq!(c["sites"], 360);
    // One region loaded: its coverage is the whole dataset's.
    assert_eq!(c["regions"].as_array().unwrap().len(), 1);
    assert_eq!(c["regions"][0]["code"], "32");
    assert_eq!(c["regions"][0]["nom"], "Hauts-de-France");
    assert_eq!(c["regions"][0]["couverture"], c["region"]);
    let health = get("/api/v1/tiers-lieux/coverage?service=sant%C3%A9").json();
    assert!(
        health["region"]["population_couverte"].as_u64()
            <= c["region"]["population_couverte"].as_u64()
    );
    assert_eq!(
        get("/api/v1/tiers-lieux/coverage?service=piscine").status,
        400
    );
    let s = get("/api/v1/tiers-lieux/suggest?k=3").json();
    let sug = s["suggestions"].as_array().unwrap();
    assert_eq!(sug.len(), 3);
    let gains: Vec<u64> = sug
        .iter()
        .map(|x| x["population_gagnee"].as_u64().unwrap())
        .collect();
    assert!(
        gains.windows(2).all(|w| w[0] >= w[1]),
        "greedy gains never grow: {gains:?}"
    );
    assert_eq!(get("/api/v1/tiers-lieux/suggest?k=0").status, 400);
    let p = get("/api/v1/premises/region/hdf").json();
    assert_eq!(p["locaux"]["locaux"], model().locaux.len());
}

#[test]
fn indicators_compare_and_timeline() {
    let m = model();
    let all = get("/api/v1/indicators?level=epci").json();
    assert_eq!(all.as_array().unwrap().len(), m.epci.len());
    let csv = get("/api/v1/indicators?level=epci&format=csv");
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8(csv.body).unwrap();
    assert_eq!(text.lines().count(), m.epci.len() + 1);
    assert!(text.starts_with("epci_siren;epci_nom;"));
    // Each row says what the JSON says of the same EPCI, column by column.
    let rows = ecofoncier::formats::cnig::csv::records(&text);
    let header = &rows[0].1;
    let json_rows = all.as_array().unwrap();
    for ((_, row), j) in rows[1..].iter().zip(json_rows) {
        for (name, cell) in header.iter().zip(row) {
            assert!(
                j.as_object().unwrap().contains_key(name),
                "{name} in the JSON"
            );
            match &j[name.as_str()] {
                Value::Null => assert_eq!(cell, "", "{name}"),
                Value::String(v) => assert_eq!(cell, v, "{name}"),
                Value::Number(v) => {
                    let c: f64 = cell.parse().unwrap_or_else(|_| panic!("{name}: {cell}"));
                    assert!(
                        (c - v.as_f64().unwrap()).abs() < 1e-9,
                        "{name}: {cell} vs {v}"
                    );
                }
                other => panic!("{name} is {other} in the JSON"),
            }
        }
    }
    assert_eq!(get("/api/v1/indicators?level=commune").status, 400);
    let ids: Vec<&str> = m
        .epci
        .iter()
        .take(3)
        .map(|e| e.record.epci_siren.as_str())
        .collect();
    let cmp = get(&format!("/api/v1/compare?epci={}", ids.join(","))).json();
    assert_eq!(cmp["epci"].as_array().unwrap().len(), 3);
    assert!(cmp["medianes"]["rural"]["taux_vacance_legal"].is_number());
    // The medians are over every rural and every urban EPCI of the indicator rows.
    let classes = |class: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["classe"] == class)
            .count() as u64
    };
    assert_eq!(
        cmp["medianes"]["urbain"]["epci"].as_u64(),
        Some(classes("urbain"))
    );
    assert_eq!(
        cmp["medianes"]["rural"]["epci"].as_u64(),
        Some(classes("rural"))
    );
    assert_eq!(classes("urbain") + classes("rural"), m.epci.len() as u64);
    assert_eq!(get("/api/v1/compare?epci=1,2").status, 400);
    let sheet = get(&format!("/api/v1/indicators/epci/{}", ids[0])).json();
    // Similar territories: the five of the same class with the nearest profile
    // (population, density, jobs per worker), checked against a scan of the indicators.
    let similar = sheet["territoires_similaires"].as_array().unwrap();
    assert_eq!(similar.len(), 5);
    let all = get("/api/v1/indicators").json();
    let rows = all.as_array().unwrap();
    let me = rows.iter().find(|r| r["epci_siren"] == ids[0]).unwrap();
    let ln = |v: &Value| v.as_f64().unwrap().max(1.0).ln();
    let gap = |r: &Value| {
        ["population", "densite_hab_km2", "emplois_pour_100_actifs"]
            .iter()
            .map(|k| (ln(&r[*k]) - ln(&me[*k])).abs())
            .sum::<f64>()
    };
    let mut gaps: Vec<f64> = rows
        .iter()
        .filter(|r| r["classe"] == me["classe"] && r["epci_siren"] != ids[0])
        .map(gap)
        .collect();
    gaps.sort_by(f64::total_cmp);
    for (s, want) in similar.iter().zip(&gaps) {
        let row = rows
            .iter()
            .find(|r| r["epci_siren"] == s["epci_siren"])
            .unwrap();
        assert_eq!(row["classe"], me["classe"], "{s}");
        assert!(
            (gap(row) - want).abs() < 1e-3,
            "{s}: {} vs {want}",
            gap(row)
        );
        assert!(
            (s["ecart_profil"].as_f64().unwrap() - want).abs() < 1e-3,
            "{s}"
        );
        assert_eq!(
            (&s["region"], &s["region_nom"]),
            (&json!("32"), &json!("Hauts-de-France"))
        );
    }
    assert!(sheet["zan"]["enveloppe_ha"].is_number());
    let t = get(&format!("/api/v1/timeline/epci/{}", ids[0])).json();
    let years = t["annees"].as_array().unwrap();
    assert_eq!(years.first().unwrap()["annee"], 2015);
    assert_eq!(years.last().unwrap()["annee"], 2025);
    // Settlements, jobs and premises, year by year, against the files read here.
    let expected = yearly_from_files(ids[0]);
    for y in years {
        let year = y["annee"].as_i64().unwrap();
        let (neuf, rehab, jobs, locaux) = expected.get(&year).copied().unwrap_or_default();
        assert_eq!(
            (
                &y["implantations_za_neuf"],
                &y["implantations_za_rehabilitation"],
                &y["emplois_crees_za"],
                &y["installations_locaux"]
            ),
            (&json!(neuf), &json!(rehab), &json!(jobs), &json!(locaux)),
            "{year}"
        );
        let occ = y["taux_occupation_pct"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&occ), "{year}: {occ} %");
    }
    assert!(years
        .iter()
        .any(|y| y["emplois_crees_za"].as_u64() > Some(0)));
}

/// For EPCI `siren`, by year: establishments settled in a new building, in a rehabilitated
/// one, their jobs (`etab_emplois`), and firms settled in centre-bourg premises, read from
/// the data files with serde_json alone.
fn yearly_from_files(siren: &str) -> std::collections::HashMap<i64, (u64, u64, u64, u64)> {
    let mut years = std::collections::HashMap::<i64, (u64, u64, u64, u64)>::new();
    for f in data_file("etablissements.geojson.gz")["features"]
        .as_array()
        .unwrap()
    {
        let p = &f["properties"];
        if p["epci_siren"] != siren {
            continue;
        }
        let date = p["etab_implantation_date"]
            .as_str()
            .expect("a settlement date");
        let y = years.entry(date[..4].parse().unwrap()).or_default();
        if p["etab_implantation_mode"] == "réhabilitation" {
            y.1 += 1;
        } else {
            y.0 += 1;
        }
        y.2 += p["etab_emplois"].as_u64().expect("jobs");
    }
    for f in data_file("locaux-commerciaux.geojson.gz")["features"]
        .as_array()
        .unwrap()
    {
        let p = &f["properties"];
        if let (true, Some(y)) = (
            p["epci_siren"] == siren,
            p["local_installation_annee"].as_i64(),
        ) {
            years.entry(y).or_default().3 += 1;
        }
    }
    years
}

#[test]
fn openapi_describes_api_v1() {
    let doc = get("/ogc/api").json();
    for p in [
        "/api/v1/sites/{site_id}/occupancy",
        "/api/v1/terrains/search",
        "/api/v1/land-take/{level}/{code}",
        "/api/v1/proposals/check",
        "/api/v1/scenarios/commute",
        "/api/v1/tiers-lieux/coverage",
        "/api/v1/tiers-lieux/suggest",
        "/api/v1/indicators",
        "/api/v1/indicators/epci/{siren}",
        "/api/v1/compare",
        "/api/v1/exports/{siren}/{layer}",
        "/tiles/{layer}",
        "/tiles/{layer}/{z}/{x}/{y}",
        "/",
    ] {
        assert!(doc["paths"][p].is_object(), "OpenAPI misses {p}");
    }
    // A read-only instance (the embedded dataset) documents no write, history or feature
    // as of a date: it would refuse them (tests/editing.rs checks them on PostGIS).
    let item = &doc["paths"]["/ogc/collections/{collectionId}/items/{featureId}"];
    assert!(item["get"].is_object());
    for m in ["put", "patch", "delete"] {
        assert!(item[m].is_null(), "a read-only instance documents {m}");
    }
    assert!(!item["get"]["parameters"].to_string().contains("datetime"));
    assert!(doc["paths"]["/ogc/collections/{collectionId}/items"]["post"].is_null());
    assert!(doc["paths"]["/ogc/collections/{collectionId}/items/{featureId}/history"].is_null());
    assert!(doc["paths"]["/api/v1/exports/{siren}/{layer}"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[test]
fn epci_exports_in_geojson_and_cnig_csv_without_confidential_fields() {
    let m = model();
    // The EPCI with the most plots.
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for t in m.terrains.iter() {
        if let Some(s) = t.record.site_id.as_deref().and_then(|s| m.sites.by_id(s)) {
            *counts.entry(s.record.site_epci_siren.as_str()).or_default() += 1;
        }
    }
    let (siren, n) = counts.into_iter().max_by_key(|e| e.1).unwrap();
    let gj = get(&format!("/api/v1/exports/{siren}/terrains"));
    assert_eq!(gj.status, 200);
    assert_eq!(gj.header("Content-Type"), Some("application/geo+json"));
    let doc = gj.json();
    let feats = doc["features"].as_array().unwrap();
    assert_eq!(feats.len(), n, "every plot of the EPCI's sites");
    assert!(feats
        .iter()
        .all(|f| f["properties"].get("terr_acquereur").is_none()));
    let lon = feats[0]["geometry"]["coordinates"][0][0][0]
        .as_f64()
        .unwrap();
    assert!((1.0..5.0).contains(&lon), "CRS84 longitudes: {lon}");

    let csv = get(&format!("/api/v1/exports/{siren}/terrains?format=csv"));
    assert_eq!(csv.status, 200);
    let text = String::from_utf8(csv.body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), n + 1, "a header and a row per plot");
    let header: Vec<&str> = lines[0].split(';').collect();
    assert_eq!(
        header,
        ecofoncier::formats::cnig::TERRAIN.csv,
        "the standard's columns in its order"
    );
    // The confidential columns are there, empty.
    let rows = ecofoncier::formats::cnig::csv::records(&text);
    for c in [
        "terr_acquereur",
        "terr_cession_date",
        "terr_vente_montant",
        "terr_m2_prix",
    ] {
        let k = header.iter().position(|h| *h == c).unwrap();
        assert!(rows[1..].iter().all(|(_, f)| f[k].is_empty()), "{c} empty");
    }
    // The geometry column is GeoJSON text in Lambert-93 metres, quoted as the standard does.
    assert!(
        lines[1].contains(";\"{\"\"type\"\":\"\"Polygon\"\""),
        "{}",
        &lines[1][..200]
    );

    // Each row says what the GeoJSON export says of the same plot, column by column.
    let by_id: std::collections::HashMap<&str, &Value> = feats
        .iter()
        .map(|f| (f["properties"]["terr_id"].as_str().unwrap(), f))
        .collect();
    let id_col = header.iter().position(|h| *h == "terr_id").unwrap();
    let mut compared = 0;
    for (_, row) in &rows[1..] {
        let feature = by_id[row[id_col].as_str()];
        let props = &feature["properties"];
        for (k, name) in header.iter().enumerate() {
            let cell = row[k].as_str();
            if *name == ecofoncier::formats::cnig::TERRAIN.geometry_csv {
                // Lambert-93 here, CRS84 in the GeoJSON export: the same first vertex.
                let g: Value = serde_json::from_str(cell).unwrap();
                let xy = |g: &Value, i: usize| g["coordinates"][0][0][i].as_f64().unwrap();
                let (lon, lat) = ecofoncier::crs::l93_to_lonlat(xy(&g, 0), xy(&g, 1)).unwrap();
                let served = &feature["geometry"];
                assert!((lon - xy(served, 0)).abs() < 2e-7 && (lat - xy(served, 1)).abs() < 2e-7);
                continue;
            }
            match props.get(*name) {
                None | Some(Value::Null) => assert_eq!(cell, "", "{name} of {}", row[id_col]),
                Some(Value::String(v)) => assert_eq!(cell, v, "{name}"),
                Some(Value::Number(v)) => {
                    let c: f64 = cell.parse().unwrap_or_else(|_| panic!("{name}: {cell}"));
                    assert!(
                        (c - v.as_f64().unwrap()).abs() < 1e-9,
                        "{name}: {cell} vs {v}"
                    );
                }
                Some(other) => panic!("{name}: unexpected {other}"),
            }
            compared += 1;
        }
    }
    assert!(compared > n * 10, "{compared} cells compared");

    for (layer, count) in [
        (
            "sites",
            m.sites
                .iter()
                .filter(|s| s.record.site_epci_siren == siren)
                .count(),
        ),
        (
            "etablissements",
            get(&format!("/api/v1/exports/{siren}/etablissements")).json()["features"]
                .as_array()
                .unwrap()
                .len(),
        ),
    ] {
        let r = get(&format!("/api/v1/exports/{siren}/{layer}?format=csv"));
        assert_eq!(r.status, 200);
        let text = String::from_utf8(r.body).unwrap();
        assert!(count > 0, "{layer} of {siren}");
        assert_eq!(
            ecofoncier::formats::cnig::csv::records(&text).len(),
            count + 1,
            "{layer}: a header and a row each"
        );
    }
    let bad = get(&format!("/api/v1/exports/{siren}/terrains?format=xlsx"));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["parameter"], "format");
    assert_eq!(
        get(&format!("/api/v1/exports/{siren}/communes")).status,
        404
    );
    assert_eq!(get("/api/v1/exports/000000000/terrains").status, 404);
    let with_token = common::get_with(
        &format!("/api/v1/exports/{siren}/terrains"),
        &[("Authorization", "Bearer efc_1_x")],
    );
    assert_eq!(with_token.status, 401, "no tokens in the embedded mode");
}

/// The document and the handlers agree on every query parameter of `/api/v1`: each value the
/// document allows at the edges of its range or in its list is accepted, each value just
/// outside is refused with that parameter named, and a parameter the document does not list
/// is refused.
#[test]
fn documented_parameters_are_the_ones_checked() {
    let doc = get("/ogc/api").json();
    let m = model();
    let siren = m.epci.get(0).record.epci_siren.to_string();
    let site = m.sites.get(0).record.site_id.to_string();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get").filter(|_| path.starts_with("/api/v1/")) else {
            continue;
        };
        if path.starts_with("/api/v1/exports/") {
            continue;
        }
        let url = path
            .replace("{level}", "epci")
            .replace("{code}", &siren)
            .replace("{siren}", &siren)
            .replace("{site_id}", &site);
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let query: Vec<&Value> = params.iter().filter(|p| p["in"] == "query").collect();
        // What every request carries: the required parameters, and `near` for the radius.
        let mut base: Vec<(String, String)> = query
            .iter()
            .filter(|p| p["required"] == true)
            .map(|p| (p["name"].as_str().unwrap().to_string(), siren.clone()))
            .collect();
        if query.iter().any(|p| p["name"] == "near") {
            base.push(("near".into(), "2.3,49.9".into()));
        }
        let ask = |name: &str, value: &str| {
            let mut pairs: Vec<(String, String)> =
                base.iter().filter(|(k, _)| k != name).cloned().collect();
            pairs.push((name.to_string(), value.to_string()));
            let q = serde_urlencoded::to_string(&pairs).unwrap();
            let r = get(&format!("{url}?{q}"));
            let named = r.status == 400 && r.json()["parameter"] == name;
            (r.status, named)
        };
        for p in &query {
            let name = p["name"].as_str().unwrap();
            let s = &p["schema"];
            let (allowed, refused): (Vec<String>, Vec<String>) = match s["type"].as_str() {
                Some("integer") => {
                    let (lo, hi) = (
                        s["minimum"].as_i64().unwrap(),
                        s["maximum"].as_i64().unwrap(),
                    );
                    (
                        vec![lo.to_string(), hi.to_string()],
                        vec![(lo - 1).to_string(), (hi + 1).to_string(), "1.5".into()],
                    )
                }
                Some("number") => {
                    let (lo, hi) = (
                        s["minimum"].as_f64().unwrap(),
                        s["maximum"].as_f64().unwrap(),
                    );
                    (
                        vec![lo.to_string(), hi.to_string()],
                        vec![
                            (lo - 0.01).to_string(),
                            (hi + 1.0).to_string(),
                            "NaN".into(),
                        ],
                    )
                }
                Some("string") if s["enum"].is_array() => (strings(&s["enum"]), vec!["zzz".into()]),
                Some("array") if s["items"]["enum"].is_array() => {
                    (strings(&s["items"]["enum"]), vec!["zzz".into()])
                }
                // A list of SIRENs.
                Some("array") if s["items"]["pattern"] == "^[0-9]{9}$" => (
                    vec!["200018083".into(), "200018083,240200477".into()],
                    vec!["zzz".into(), "20001808".into()],
                ),
                _ => continue,
            };
            for v in &allowed {
                let (status, _) = ask(name, v);
                assert_ne!(status, 400, "{path}: {name}={v} is documented, and refused");
                checked += 1;
            }
            for v in &refused {
                let (status, named) = ask(name, v);
                assert!(
                    named,
                    "{path}: {name}={v} is outside the document, and got {status}"
                );
                checked += 1;
            }
        }
        let (status, named) = ask("undocumented", "1");
        assert!(named, "{path}: an undocumented parameter got {status}");
    }
    assert!(checked > 50, "only {checked} values checked");
}

/// Degenerate inputs are refused naming the field instead of answered with zeros.
#[test]
fn degenerate_inputs_are_refused() {
    // Polygons without area: corners on one line (Lambert-93), a triangle of 0.2 m².
    let (x, y) = ecofoncier::crs::lonlat_to_l93(2.3, 49.9).unwrap();
    let flat =
        json!({"type": "Polygon", "coordinates": [[[x, y], [x + 10.0, y], [x + 20.0, y], [x, y]]]});
    let speck =
        json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.5, y], [x, y + 0.8], [x, y]]]});
    for g in [flat, speck] {
        let body = json!({"geometry": g, "crs": "http://www.opengis.net/def/crs/EPSG/0/2154"});
        let r = post("/api/v1/proposals/check", body.to_string().as_bytes());
        assert_eq!(
            (r.status, r.json()["field"].clone()),
            (400, json!("geometry")),
            "{g}"
        );
    }
    // New jobs at a point outside every commune of the territory (Brittany).
    let r = post(
        "/api/v1/scenarios/commute",
        json!({"point": [-3.0, 48.0], "jobs": 10})
            .to_string()
            .as_bytes(),
    );
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("point")));
    // A real zone's findings carry no negative zero.
    let r = post(
        "/api/v1/proposals/check",
        json!({"geometry": square(2.3, 49.9, 300.0)})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200);
    for c in r.json()["constats"].as_array().unwrap() {
        let c = c.as_str().unwrap();
        assert!(!c.contains("-0 ") && !c.contains("-0,"), "{c}");
    }
}

/// The strings of a JSON array (a documented `enum`).
fn strings(values: &Value) -> Vec<String> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Regions come from the data: the embedded dataset holds Hauts-de-France only, so
/// `region/32` (or its alias `hdf`) is found and named from the COG, another region is
/// 404, and the country level (`country/FR`, the whole dataset) has the same figures as
/// the region for every metric.
#[test]
fn regions_and_the_country_follow_the_data() {
    for metric in ["occupancy", "land-take", "premises", "commute"] {
        let region = get(&format!("/api/v1/{metric}/region/32"));
        assert_eq!(region.status, 200, "{metric}");
        let region = region.json();
        assert_eq!(region["nom"], "Hauts-de-France", "{metric}");
        assert_eq!(region["niveau"], "region", "{metric}");
        let alias = get(&format!("/api/v1/{metric}/region/hdf")).json();
        let country = get(&format!("/api/v1/{metric}/country/FR"));
        assert_eq!(country.status, 200, "{metric}");
        let country = country.json();
        assert_eq!(
            (&country["niveau"], &country["nom"]),
            (&json!("country"), &json!("France"))
        );
        for doc in [&alias, &country] {
            let figures = |d: &Value| {
                let mut d = d.clone();
                for k in ["niveau", "code", "nom"] {
                    d.as_object_mut().unwrap().remove(k);
                }
                d
            };
            assert_eq!(figures(doc), figures(&region), "{metric}");
        }
        assert_eq!(
            get(&format!("/api/v1/{metric}/region/28")).status,
            404,
            "{metric}"
        );
        assert_eq!(
            get(&format!("/api/v1/{metric}/country/BE")).status,
            404,
            "{metric}"
        );
    }
    let r = get("/api/v1/occupancy/continent/EU");
    assert_eq!(
        (r.status, r.json()["parameter"].clone()),
        (400, json!("level"))
    );
}

/// The EPCI pickers' search: by name (accents and case ignored), by SIREN, by a commune's
/// name or INSEE code; best match first; each EPCI once, with its region.
#[test]
fn epci_search_by_name_siren_and_commune() {
    let search = |q: &str| {
        let r = get(&format!("/api/v1/epci/search?{q}"));
        assert_eq!(r.status, 200, "{q}");
        r.json()["epci"].as_array().unwrap().clone()
    };
    let first = |q: &str| search(q)[0].clone();
    let amiens = first("q=amiens");
    assert_eq!(
        (
            &amiens["epci_nom"],
            &amiens["correspondance"],
            &amiens["region_nom"]
        ),
        (
            &json!("CA Amiens Métropole"),
            &json!("mot"),
            &json!("Hauts-de-France")
        )
    );
    assert_eq!(first("q=AMI%C3%89NS")["epci_siren"], amiens["epci_siren"]);
    let mel = first("q=2000932");
    assert_eq!(
        (&mel["epci_siren"], &mel["correspondance"]),
        (&json!("200093201"), &json!("siren"))
    );
    // A commune, by its name without accents or by its code: its EPCI.
    let m = model();
    let c = m.communes.by_id("62427").unwrap().record;
    for q in ["q=henin-BEAUMONT", "q=62427"] {
        let found = first(q);
        assert_eq!(found["epci_siren"], c.epci_siren.as_str(), "{q}");
        assert_eq!(found["correspondance"], "commune", "{q}");
        assert_eq!(found["commune"], json!(["62427", "Hénin-Beaumont"]), "{q}");
    }
    // Every EPCI whose name holds the word is found, once, best matches first.
    let saint = search("q=saint&limit=50");
    let expected = m
        .epci
        .iter()
        .filter(|e| {
            ecofoncier::read_model::names::fold(&e.record.epci_nom)
                .split(' ')
                .any(|w| w.starts_with("saint"))
        })
        .count();
    assert!(expected > 0);
    let by_name = saint
        .iter()
        .filter(|f| f["correspondance"] == "nom" || f["correspondance"] == "mot")
        .count();
    assert_eq!(by_name, expected.min(50));
    let mut sirens: Vec<&str> = saint
        .iter()
        .map(|f| f["epci_siren"].as_str().unwrap())
        .collect();
    sirens.sort();
    sirens.dedup();
    assert_eq!(sirens.len(), saint.len(), "each EPCI once");
    assert!(search("q=zzzzzz").is_empty());
    assert!(search("q=---").is_empty());
    assert_eq!(search("q=a&limit=3").len(), 3);
    for (q, param) in [("", "q"), ("q=a&limit=0", "limit")] {
        let r = get(&format!("/api/v1/epci/search?{q}"));
        assert_eq!(
            (r.status, r.json()["parameter"].clone()),
            (400, json!(param)),
            "{q}"
        );
    }
}

/// A spreadsheet answer, opened: its sheet names and each sheet's cells by row.
fn workbook(path: &str) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::Reader;
    let r = get(path);
    assert_eq!(r.status, 200, "{path}");
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(r
        .header("content-disposition")
        .is_some_and(|d| d.starts_with("attachment; filename=") && d.ends_with(".xlsx\"")));
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(r.body)).expect("an xlsx file");
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            assert_eq!(range.start(), Some((0, 0)), "{name}: the title at A1");
            let rows = range.rows().map(|r| r.to_vec()).collect();
            (name, rows)
        })
        .collect()
}

fn text(c: &calamine::Data) -> String {
    match c {
        calamine::Data::String(s) => s.clone(),
        other => panic!("text expected, got {other:?}"),
    }
}

/// A cell holds the JSON's figure, as a number (or nothing for a null).
fn same_figure(c: &calamine::Data, v: &Value, what: &str) {
    match (c, v) {
        (calamine::Data::Float(f), Value::Number(n)) => {
            assert!((f - n.as_f64().unwrap()).abs() < 1e-9, "{what}: {f} vs {n}")
        }
        (calamine::Data::String(s), Value::String(t)) => assert_eq!(s, t, "{what}"),
        (calamine::Data::Empty, Value::Null) => {}
        other => panic!("{what}: {other:?}"),
    }
}

#[test]
fn spreadsheets_hold_the_figures_of_the_json_answers() {
    let m = model();
    let ids: Vec<&str> = m
        .epci
        .iter()
        .take(3)
        .map(|e| e.record.epci_siren.as_str())
        .collect();
    let q = format!("epci={}", ids.join(","));
    let cmp = get(&format!("/api/v1/compare?{q}")).json();
    // The spreadsheet's columns are the JSON rows' members, in their order.
    let keys: Vec<&str> = cmp["epci"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let columns: Vec<&str> = ecofoncier::metrics::indicators::COLUMNS
        .iter()
        .map(|(f, _, _)| *f)
        .collect();
    assert_eq!(keys, columns);
    let book = workbook(&format!("/api/v1/compare?{q}&format=xlsx"));
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Comparaison", "Sources"]);
    let rows = &book[0].1;
    assert!(
        text(&rows[0][0]).contains("données synthétiques"),
        "the title"
    );
    // Headers: the labels with their units; the name first.
    let header: Vec<String> = rows[2].iter().map(text).collect();
    assert_eq!(header[0], "Intercommunalité");
    for h in [
        "Surface des ZAE (ha)",
        "Taux de vacance (légal) (%)",
        "Population (hab.)",
    ] {
        assert!(header.iter().any(|x| x == h), "{h} in {header:?}");
    }
    let field = |h: &str| {
        let k = header.iter().position(|x| x == h).unwrap();
        ecofoncier::metrics::indicators::COLUMNS
            .iter()
            .find(|(f, _, _)| ecofoncier::metrics::indicators::header(f) == h)
            .map(|(f, _, _)| (k, *f))
            .unwrap()
    };
    // One row per EPCI, cell by cell the JSON's figures, as numbers.
    assert_eq!(
        rows.len(),
        3 + 3 + 2,
        "title, blank, header, 3 EPCIs, 2 medians"
    );
    for (i, e) in cmp["epci"].as_array().unwrap().iter().enumerate() {
        for h in &header {
            let (k, f) = field(h);
            same_figure(&rows[3 + i][k], &e[f], &format!("{} {f}", e["epci_nom"]));
        }
    }
    // Then the medians, named with their count and scope.
    for (r, (class, label)) in [("rural", "Médiane rurale"), ("urbain", "Médiane urbaine")]
        .into_iter()
        .enumerate()
    {
        let med = &cmp["medianes"][class];
        let row = &rows[6 + r];
        assert_eq!(
            text(&row[0]),
            format!("{label} ({} EPCI, Hauts-de-France)", med["epci"])
        );
        for (f, v) in med.as_object().unwrap() {
            if f != "epci" {
                let (k, _) = field(&ecofoncier::metrics::indicators::header(f));
                same_figure(&row[k], v, &format!("{label} {f}"));
            }
        }
    }
    // The sources say what is synthetic.
    let sources: Vec<String> = book[1].1.iter().skip(3).map(|r| text(&r[1])).collect();
    assert!(
        sources[0].starts_with("DONNÉES SYNTHÉTIQUES"),
        "{sources:?}"
    );
    assert!(sources.iter().any(|s| s.contains("INSEE")));

    // An EPCI's sheet: indicators one per row, the yearly land take in hectares, the
    // similar territories, the sources.
    let sheet = get(&format!("/api/v1/indicators/epci/{}", ids[0])).json();
    let book = workbook(&format!("/api/v1/indicators/epci/{}?format=xlsx", ids[0]));
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Indicateurs",
            "Consommation",
            "Territoires comparables",
            "Sources"
        ]
    );
    let ind = &book[0].1;
    assert_eq!(
        ind.len(),
        3 + ecofoncier::metrics::indicators::COLUMNS.len()
    );
    for (row, (f, label, unit)) in ind[3..]
        .iter()
        .zip(ecofoncier::metrics::indicators::COLUMNS)
    {
        assert_eq!(text(&row[0]), *label);
        same_figure(&row[1], &sheet["indicateurs"][*f], f);
        if !unit.is_empty() {
            assert_eq!(text(&row[2]), *unit);
        }
    }
    let years = sheet["consommation_annuelle"].as_array().unwrap();
    let conso = &book[1].1;
    assert_eq!(conso.len(), 3 + years.len());
    assert_eq!(text(&conso[2][2]), "Activité (ha)");
    for (row, y) in conso[3..].iter().zip(years) {
        same_figure(&row[0], &y["annee"], "année");
        same_figure(
            &row[2],
            &serde_json::json!(y["activite_m2"].as_f64().unwrap() / 1e4),
            "activité",
        );
    }
    let similar = &book[2].1;
    assert_eq!(similar.len(), 3 + 5);
    assert_eq!(
        text(&similar[3][0]),
        sheet["territoires_similaires"][0]["epci_nom"]
            .as_str()
            .unwrap()
    );
    // An unknown format is refused, naming the parameter.
    for p in [
        format!("/api/v1/indicators/epci/{}?format=pdf", ids[0]),
        format!("/api/v1/compare?{q}&format=pdf"),
    ] {
        let r = get(&p);
        assert_eq!(r.status, 400, "{p}");
        assert_eq!(r.json()["parameter"], "format", "{p}");
    }
    // Every EPCI's indicators, with the medians over all of them.
    let all = workbook("/api/v1/indicators?format=xlsx");
    assert_eq!(all[0].1.len(), 3 + m.epci.len() + 2);
}
