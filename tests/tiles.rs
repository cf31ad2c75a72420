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
