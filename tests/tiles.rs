//! Vector tiles against the binary on the embedded data: TileJSON, a plot found in the tile
//! that holds it with its public fields and its geometry where it should be, no
//! confidential field in any tile, `204` for an empty tile, ETag and `304`, bad requests
//! named, and GDAL's MVT driver reading a tile.

mod common;

use common::mvt::{decode, first_position, tile_of};
use common::{get, get_with};
use ecofoncier::crs;
use geo::Centroid;

#[test]
fn plot_tiles_tilejson_errors_and_gdal() {
    let tj = get("/tiles/terrains").json();
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(tj["minzoom"], 11);
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with("/tiles/terrains/{z}/{x}/{y}"),
        "{tj}"
    );
    assert_eq!(tj["vector_layers"][0]["id"], "terrains");
    let b = tj["bounds"].as_array().unwrap();
    assert!(
        (1.0..3.0).contains(&b[0].as_f64().unwrap())
            && (50.0..52.0).contains(&b[3].as_f64().unwrap()),
        "{tj}"
    );

    // A plot with a buyer (never in a tile) and its tile at z14.
    let m = common::model();
    let plot = m
        .terrains
        .iter()
        .find(|t| t.record.terr_acquereur.is_some())
        .unwrap();
    let c = plot.geometry().centroid().unwrap();
    let (lon, lat) = crs::l93_to_lonlat(c.x(), c.y()).unwrap();
    let (x, y) = tile_of(lon, lat, 14);
    let path = format!("/tiles/terrains/14/{x}/{y}");
    let r = get(&path);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/vnd.mapbox-vector-tile")
    );
    let layers = decode(&r.body);
    assert_eq!(layers.len(), 1);
    let l = &layers[0];
    assert_eq!((l.name.as_str(), l.extent), ("terrains", 4096));
    for k in &l.keys {
        assert!(
            ![
                "terr_acquereur",
                "terr_cession_date",
                "terr_vente_montant",
                "terr_m2_prix"
            ]
            .contains(&k.as_str()),
            "{k}"
        );
    }
    let tag = |f: &(u64, Vec<u64>, u64, Vec<u64>), key: &str| -> Option<String> {
        f.1.chunks(2)
            .find(|kv| l.keys[kv[0] as usize] == key)
            .map(|kv| l.values[kv[1] as usize].clone())
    };
    let f = l
        .features
        .iter()
        .find(|f| tag(f, "terr_id").as_deref() == Some(plot.record.terr_id.as_str()))
        .expect("the plot is in its tile");
    assert_eq!(f.2, 3, "a polygon");
    assert_eq!(
        tag(f, "terr_etat_occup").as_deref(),
        Some(plot.record.terr_etat_occup.as_str())
    );
    // Its first vertex where Web Mercator puts it (exterior rings may be reversed: any
    // vertex of the ring).
    let (px, py) = first_position(&f.3);
    let (min_x, max_y, size) = ecofoncier::tiles::tile_bounds(14, x, y);
    let near = geo::CoordsIter::coords_iter(&plot.geometry()).any(|v| {
        let (wx, wy) = crs::from_l93(crs::Crs::WebMercator, v.x, v.y).unwrap();
        let tx = (wx - min_x) / size * 4096.0;
        let ty = (max_y - wy) / size * 4096.0;
        (tx - px as f64).abs() <= 1.0 && (ty - py as f64).abs() <= 1.0
    });
    assert!(near, "first vertex {px},{py}");

    // ETag and If-None-Match.
    let etag = r.header("ETag").unwrap().to_string();
    let again = get_with(&path, &[("If-None-Match", etag.as_str())]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    // Below the layer's zoom, and over the sea: 204.
    assert_eq!(get("/tiles/terrains/5/16/10").status, 204);
    let empty = get("/tiles/terrains/14/0/0");
    assert_eq!(empty.status, 204);
    assert!(empty.header("ETag").is_some());
    // Establishments: no contact in the tile of one that has a contact.
    let with_contact = m
        .etablissements
        .iter()
        .find(|e| e.record.etab_contact_mail.is_some() || e.record.etab_contact_tel.is_some())
        .expect("an establishment with a contact");
    let c = with_contact.geometry().centroid().unwrap();
    let (elon, elat) = crs::l93_to_lonlat(c.x(), c.y()).unwrap();
    let (ex, ey) = tile_of(elon, elat, 14);
    let etabs = get(&format!("/tiles/etablissements/14/{ex}/{ey}"));
    assert_eq!(etabs.status, 200, "the establishment's own tile");
    let layers = decode(&etabs.body);
    assert!(!layers.is_empty() && !layers[0].keys.is_empty());
    for l in layers {
        assert!(
            !l.keys.iter().any(|k| k.starts_with("etab_contact")),
            "{:?}",
            l.keys
        );
    }
    // Every layer answers its TileJSON and a regional tile.
    for id in [
        "epci",
        "communes",
        "sites",
        "terrains",
        "etablissements",
        "locaux-commerciaux",
        "tiers-lieux",
    ] {
        assert_eq!(get(&format!("/tiles/{id}")).status, 200, "{id}");
        let (x8, y8) = tile_of(lon, lat, 8);
        let s = get(&format!("/tiles/{id}/8/{x8}/{y8}")).status;
        assert!(s == 200 || s == 204, "{id}: {s}");
    }
    assert_eq!(get("/tiles/epci/8/131/86").status, 200, "the region at z8");

    // Bad requests name the parameter.
    for (p, name) in [
        ("/tiles/terrains/23/0/0", "z"),
        ("/tiles/terrains/3/x/0", "x"),
        ("/tiles/terrains/-1/0/0", "z"),
    ] {
        let r = get(p);
        assert_eq!(r.status, 400, "{p}");
        assert_eq!(r.json()["parameter"], name, "{p}");
    }
    // Past the edge of the grid: no such tile.
    let edge = get("/tiles/terrains/3/8/0");
    assert_eq!(edge.status, 404);
    assert!(edge.json()["detail"]
        .as_str()
        .unwrap()
        .contains("below 2^z = 8"));
    assert_eq!(get("/tiles/cadastre/1/0/0").status, 404);
    assert_eq!(get("/tiles/cadastre").status, 404);

    // GDAL's MVT driver reads the tile and finds the plot with its fields.
    let dir = common::temp_dir("tiles");
    let file = dir.join("14").join(x.to_string());
    std::fs::create_dir_all(&file).unwrap();
    let file = file.join(format!("{y}.pbf"));
    std::fs::write(&file, &r.body).unwrap();
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-q"])
        .arg(&file)
        .output()
        .expect("ogrinfo runs (gdal-bin)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("terr_id (String) = {}", plot.record.terr_id)),
        "{text}"
    );
}

/// The value of property `key` of a decoded feature.
fn tag<'a>(l: &'a common::mvt::Layer, tags: &[u64], key: &str) -> Option<&'a str> {
    tags.chunks(2)
        .find(|kv| l.keys[kv[0] as usize] == key)
        .map(|kv| l.values[kv[1] as usize].as_str())
}

/// The tiles at zoom `z` over the region (CRS84 bounds of Hauts-de-France, widened).
fn region_tiles(z: u8) -> Vec<(u32, u32)> {
    let (x0, y0) = tile_of(1.3, 51.2, z);
    let (x1, y1) = tile_of(4.4, 48.7, z);
    (x0..=x1)
        .flat_map(|x| (y0..=y1).map(move |y| (x, y)))
        .collect()
}

/// Positions in a feature's geometry commands (MoveTo and LineTo parameters; a ring's
/// closing position is implied, so one fewer than its stored ring).
fn vertices(geom: &[u64]) -> usize {
    let (mut k, mut n) = (0, 0);
    while k < geom.len() {
        let (id, count) = (geom[k] & 7, (geom[k] >> 3) as usize);
        k += 1;
        if id != 7 {
            n += count;
            k += 2 * count;
        }
    }
    n
}

#[test]
fn low_zooms_carry_zone_symbols_grouped_places_and_simplified_outlines() {
    let m = common::model();
    // Tiers-lieux below zoom 10: grouped by cell, every place counted once over the region.
    let places = m.tiers_lieux.len();
    let (mut counted, mut features) = (0, 0);
    // Zoom 7: the regional first view.
    for (x, y) in region_tiles(7) {
        let r = get(&format!("/tiles/tiers-lieux/7/{x}/{y}"));
        if r.status == 204 {
            continue;
        }
        for l in decode(&r.body) {
            for f in &l.features {
                assert_eq!(f.2, 1, "a point");
                features += 1;
                counted += match tag(&l, &f.1, "nombre") {
                    Some(n) => {
                        // A group keeps only the fields its members share.
                        assert!(tag(&l, &f.1, "tl_nom").is_none());
                        n.parse::<usize>().unwrap()
                    }
                    None => {
                        assert!(tag(&l, &f.1, "tl_nom").is_some());
                        1
                    }
                };
            }
        }
    }
    println!("tiers-lieux at z7: {features} features for {places} places");
    assert_eq!(counted, places, "each place once in the z7 tiles");
    assert!(
        features * 3 < places * 2,
        "{features} features for {places} places at z7"
    );
    // From zoom 10, one feature a place with its fields.
    let place = m.tiers_lieux.iter().next().unwrap();
    let c = place.geometry().centroid().unwrap();
    let (lon, lat) = crs::l93_to_lonlat(c.x(), c.y()).unwrap();
    let (x, y) = tile_of(lon, lat, 10);
    let l = &decode(&get(&format!("/tiles/tiers-lieux/10/{x}/{y}")).body)[0];
    assert!(!l.keys.iter().any(|k| k == "nombre"), "{:?}", l.keys);
    assert!(l.features.iter().all(|f| tag(l, &f.1, "tl_nom").is_some()));

    // Zones: points sized by their area below zoom 10, polygons from 10.
    let site = m.sites.iter().next().unwrap();
    let c = site.geometry().centroid().unwrap();
    let (lon, lat) = crs::l93_to_lonlat(c.x(), c.y()).unwrap();
    for (z, kind) in [(7, 1), (9, 1), (10, 3), (13, 3)] {
        let (x, y) = tile_of(lon, lat, z);
        let l = &decode(&get(&format!("/tiles/sites/{z}/{x}/{y}")).body)[0];
        assert!(!l.features.is_empty(), "z{z}");
        for f in &l.features {
            assert_eq!(f.2, kind, "z{z}");
            assert!(tag(l, &f.1, "site_surf_brute").is_some(), "z{z}");
            assert!(tag(l, &f.1, "site_taux_vacance").is_some(), "z{z}");
        }
        let id = &site.record.site_id;
        assert!(
            l.property_of("site_id", id, "site_nom").is_some(),
            "z{z}: the site {id} is in its tile"
        );
    }

    // EPCI outlines simplified on the tile grid: far fewer vertices at the regional zoom
    // than the data holds, more as the zoom grows; every EPCI still drawn.
    let stored: std::collections::HashMap<&str, usize> = m
        .epci
        .iter()
        .map(|e| {
            let n = geo::CoordsIter::coords_count(&e.geometry());
            (e.record.epci_siren.as_str(), n)
        })
        .collect();
    let kept = |z: u8| {
        let (mut tile, mut data) = (0, 0);
        for (x, y) in region_tiles(z) {
            let r = get(&format!("/tiles/epci/{z}/{x}/{y}"));
            for l in decode(&r.body) {
                for f in &l.features {
                    tile += vertices(&f.3);
                    data += stored[tag(&l, &f.1, "epci_siren").unwrap()];
                }
            }
        }
        tile as f64 / data as f64
    };
    let (z6, z9) = (kept(6), kept(9));
    println!("EPCI outlines: vertices kept in the tiles z6 {z6:.3}, z9 {z9:.3}");
    assert!(z6 < 0.5, "z6 keeps {z6:.3} of the vertices");
    assert!(z6 < z9, "z6 {z6:.3} < z9 {z9:.3}");
    let drawn: std::collections::BTreeSet<String> = region_tiles(6)
        .into_iter()
        .map(|(x, y)| get(&format!("/tiles/epci/6/{x}/{y}")))
        .filter(|r| r.status == 200)
        .flat_map(|r| decode(&r.body))
        .flat_map(|l| {
            l.features
                .iter()
                .filter_map(|f| tag(&l, &f.1, "epci_siren").map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(drawn.len(), m.epci.len(), "every EPCI drawn at z6");
}
