//! PostGIS as the system of record, against a throwaway cluster: migrations from empty,
//! the embedded dataset imported (twice: the second import changes nothing), read back
//! unchanged, areas agreeing with `geo`, and a server on PostGIS answering every endpoint
//! as the embedded server does.

mod common;

use common::pg::{ecofoncier, PgCluster};
use ecofoncier::source::{EmbeddedSource, Source};
use ecofoncier::store::{self, PostgisSource};
use geo::Area;

/// "table: R rows read, W inserted or changed, X rejected" lines → (table, R, W, X).
fn import_lines(out: &str) -> Vec<(String, u64, u64, u64)> {
    out.lines()
        .filter(|l| l.contains(" rows read, "))
        .map(|l| {
            let (table, rest) = l.split_once(": ").unwrap();
            let n: Vec<u64> = rest
                .split(", ")
                .map(|p| p.split(' ').next().unwrap().parse().unwrap())
                .collect();
            (table.to_string(), n[0], n[1], n[2])
        })
        .collect()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    actix_web::rt::System::new().block_on(f)
}

/// Removes what legitimately differs between two servers: their own address and the
/// response time stamp.
fn normalized(base: &str, body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body).replace(base, "BASE");
    match s.find("\"timeStamp\":\"") {
        Some(i) => {
            let end = s[i + 13..].find('"').unwrap() + i + 14;
            format!("{}{}", &s[..i], &s[end..])
        }
        None => s,
    }
}

#[test]
fn postgis_round_trip_and_serving_equal_the_embedded_mode() {
    let pg = PgCluster::start("roundtrip");
    let url = pg.url();

    // Migrations from empty, then again: nothing to do.
    let first = ecofoncier(&url, &["migrate"]);
    assert!(first.contains("applied 0001_schema.sql"), "{first}");
    let again = ecofoncier(&url, &["migrate"]);
    assert!(again.contains("schema up to date"), "{again}");

    // The whole embedded dataset, twice.
    let data = common::data_dir();
    let data = data.to_str().unwrap();
    let once = import_lines(&ecofoncier(&url, &["import", "--embedded", "--data", data]));
    assert_eq!(once.len(), 10, "every layer and table");
    for (table, read, written, rejected) in &once {
        assert!(*read > 0, "{table} is empty");
        assert_eq!(read, written, "{table}: every row written");
        assert_eq!(*rejected, 0, "{table}: nothing rejected");
    }
    let twice = import_lines(&ecofoncier(&url, &["import", "--embedded", "--data", data]));
    for (table, read, written, _) in &twice {
        assert!(*read > 0);
        assert_eq!(*written, 0, "{table}: a second import changes nothing");
    }

    // Read back: the same records and geometries as the files.
    let embedded = EmbeddedSource::new(common::data_dir()).load_sync().unwrap();
    let stored = block_on(PostgisSource::new(url.clone()).load()).expect("loads from PostGIS");
    macro_rules! same_layer {
        ($($layer:ident),*) => {$(
            assert_eq!(embedded.$layer.len(), stored.$layer.len(), stringify!($layer));
            let mut a: Vec<_> = embedded.$layer.iter().collect();
            a.sort_by(|x, y| x.record.id().cmp(y.record.id()));
            for (e, s) in a.iter().zip(&stored.$layer) {
                assert_eq!(
                    serde_json::to_value(&e.record).unwrap(),
                    serde_json::to_value(&s.record).unwrap(),
                    "{} {}", stringify!($layer), e.record.id()
                );
                assert_eq!(e.geometry, s.geometry, "{} {} geometry", stringify!($layer), e.record.id());
            }
        )*};
    }
    use ecofoncier::model::Record;
    same_layer!(
        communes,
        epci,
        poles,
        sites,
        terrains,
        etablissements,
        locaux,
        tiers_lieux
    );
    let mut flows = embedded.flows.clone();
    flows.sort_by(|a, b| {
        (&a.commune_residence, &a.commune_travail).cmp(&(&b.commune_residence, &b.commune_travail))
    });
    assert_eq!(flows.len(), stored.flows.len());
    assert!(flows
        .iter()
        .zip(&stored.flows)
        .all(|(a, b)| a.commune_residence == b.commune_residence
            && a.commune_travail == b.commune_travail
            && a.actifs == b.actifs));
    let mut land = embedded.land_take.clone();
    land.sort_by(|a, b| (&a.code_insee, a.annee).cmp(&(&b.code_insee, b.annee)));
    assert_eq!(land, stored.land_take);
    assert_eq!(embedded.attribution, stored.attribution);

    // Areas: PostGIS ST_Area and geo's agree within 0.01 %.
    let model = common::model();
    let areas: Vec<(String, f64)> = block_on(async {
        let c = store::connect(&url).await.unwrap();
        let mut out = Vec::new();
        for (table, key) in [
            ("site_eco", "site_id"),
            ("terrain_eco", "terr_id"),
            ("commune", "code_insee"),
        ] {
            for r in c
                .query(&format!("SELECT {key}, ST_Area(geom) FROM {table}"), &[])
                .await
                .unwrap()
            {
                out.push((format!("{table}:{}", r.get::<_, String>(0)), r.get(1)));
            }
        }
        out
    });
    assert_eq!(
        areas.len(),
        model.sites.len() + model.terrains.len() + model.communes.len()
    );
    let mut worst = 0.0f64;
    for (id, pg_area) in &areas {
        let (table, key) = id.split_once(':').unwrap();
        let geom = match table {
            "site_eco" => model.sites.by_id(key).unwrap().geometry(),
            "terrain_eco" => model.terrains.by_id(key).unwrap().geometry(),
            _ => model.communes.by_id(key).unwrap().geometry(),
        };
        let rel = (geom.unsigned_area() - pg_area).abs() / pg_area;
        worst = worst.max(rel);
        assert!(
            rel <= 1e-4,
            "{id}: ST_Area {pg_area} vs geo {}",
            geom.unsigned_area()
        );
    }
    println!(
        "areas: {} polygons, largest relative difference {worst:.2e}",
        areas.len()
    );

    // A server on PostGIS answers as the embedded one.
    let on_pg = common::spawn_server(&[("DATABASE_URL", &url)]);
    let embedded_base = common::server();
    let sample_site = &model.sites.get(0).record.site_id;
    let sample_commune = &model.communes.get(0).record.code_insee;
    let sample_epci = &model.epci.get(0).record.epci_siren;
    let mut paths = vec![
        "/api/v1/indicators".to_string(),
        "/api/v1/indicators?format=csv".into(),
        format!("/api/v1/indicators/epci/{sample_epci}"),
        format!("/api/v1/sites/{sample_site}/occupancy"),
        format!("/api/v1/land-take/commune/{sample_commune}"),
        format!("/api/v1/land-take/epci/{sample_epci}"),
        "/api/v1/land-take/region/32".into(),
        "/api/v1/tiers-lieux/coverage?level=commune".into(),
        "/api/v1/tiers-lieux/suggest?k=3".into(),
        "/api/v1/terrains/search?near=2.30,49.89&radius_km=30&limit=50".into(),
        "/ogc/collections".into(),
    ];
    for c in [
        "communes",
        "epci",
        "poles",
        "sites",
        "terrains",
        "etablissements",
        "locaux-commerciaux",
        "tiers-lieux",
    ] {
        paths.push(format!("/ogc/collections/{c}/items?limit=300"));
        paths.push(format!("/ogc/collections/{c}/items?limit=300&offset=300&crs=http://www.opengis.net/def/crs/EPSG/0/2154"));
    }
    for p in &paths {
        let a = common::request(&on_pg.base, "GET", p, &[], None).unwrap();
        let b = common::request(embedded_base, "GET", p, &[], None).unwrap();
        assert_eq!(a.status, b.status, "{p}");
        assert_eq!(
            normalized(&on_pg.base, &a.body),
            normalized(embedded_base, &b.body),
            "{p}: the PostGIS server answers otherwise"
        );
    }
    println!(
        "{} endpoints answer the same on PostGIS and on the embedded data",
        paths.len()
    );

    // Public files: an INSEE flows file and a Cerema land-take file, merged by key.
    let dir = common::temp_dir("public-files");
    let f = &embedded.flows[0];
    let flows = dir.join("flux.csv");
    std::fs::write(
        &flows,
        format!(
            "CODGEO;LIBGEO;DCLT;L_DCLT;NBFLUX_C22_ACTOCC15P\n{};A;{};B;{}.4\nXX;A;80021;B;1\n",
            f.commune_residence,
            f.commune_travail,
            f.actifs + 5
        ),
    )
    .unwrap();
    let out = import_lines(&ecofoncier(
        &url,
        &["import", "--insee-flows", flows.to_str().unwrap()],
    ));
    assert_eq!((out[0].1, out[0].2, out[0].3), (2, 1, 1));
    let again = import_lines(&ecofoncier(
        &url,
        &["import", "--insee-flows", flows.to_str().unwrap()],
    ));
    assert_eq!(again[0].2, 0, "the same file again changes nothing");
    let code = &embedded.land_take[0].code_insee;
    let land = dir.join("conso.csv");
    std::fs::write(
        &land,
        format!(
            "idcom;idcomtxt;naf11art12;art11act12;art11hab12;art11mix12;art11rou12;art11fer12;art11inc12\n\
             {code};X;12345;12000;345;0;0;0;0\n"
        ),
    )
    .unwrap();
    let out = import_lines(&ecofoncier(
        &url,
        &["import", "--cerema-land-take", land.to_str().unwrap()],
    ));
    assert_eq!((out[0].1, out[0].2, out[0].3), (1, 1, 0), "{out:?}");
    let check = block_on(async {
        let c = store::connect(&url).await.unwrap();
        let a: i32 = c
            .query_one(
                "SELECT actifs FROM navette WHERE commune_residence = $1 AND commune_travail = $2",
                &[&f.commune_residence.as_str(), &f.commune_travail.as_str()],
            )
            .await
            .unwrap()
            .get(0);
        let act: f64 = c
            .query_one(
                "SELECT activite_m2 FROM consommation_enaf WHERE code_insee = $1 AND annee = 2011",
                &[&code.as_str()],
            )
            .await
            .unwrap()
            .get(0);
        (a, act)
    });
    assert_eq!(check, (f.actifs as i32 + 5, 12000.0));
}
