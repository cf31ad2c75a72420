//! Editing against a throwaway PostGIS cluster: tokens and per-EPCI rights, ETags and
//! If-Match (no lost update under concurrent writers), validation, the audit history,
//! confidential fields, a second instance kept current by LISTEN/NOTIFY, and PostGIS killed
//! during a burst of writes.

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::pg::{ecofoncier, loaded};
use common::{request, Response};
use serde_json::{json, Value};

/// A plot with a buyer (a confidential field), its site's EPCI, and another EPCI.
fn sample() -> (String, String, String, String) {
    let m = common::model();
    let plot = m
        .terrains
        .iter()
        .find(|t| t.record.terr_acquereur.is_some() && t.record.site_id.is_some())
        .expect("a plot with a buyer");
    let site = plot.record.site_id.unwrap();
    let epci = m.sites.by_id(&site).unwrap().record.site_epci_siren;
    let other = m
        .epci
        .iter()
        .find(|e| e.record.epci_siren != epci)
        .unwrap()
        .record
        .epci_siren;
    (
        plot.record.terr_id.to_string(),
        site.to_string(),
        epci.to_string(),
        other.to_string(),
    )
}

/// A new plot `id` like `plot` (its properties), a 20 m square at the centre of its site.
fn new_plot(plot: &str, id: &str) -> Value {
    ecofoncier::api::openapi::new_plot_like(common::model(), plot, id).expect("a plot of a site")
}

/// Deletes, through the instance at `base`, a plot other than `plot` (at its first version);
/// its item path.
fn delete_another_plot(base: &str, auth: &str, plot: &str) -> String {
    let deleted = common::model()
        .terrains
        .iter()
        .map(|t| t.record.terr_id.to_string())
        .find(|id| *id != plot)
        .unwrap();
    let gone = format!("/ogc/collections/terrains/items/{deleted}");
    let r = request(
        base,
        "DELETE",
        &gone,
        &[("Authorization", auth), ("If-Match", "\"1\"")],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 204);
    gone
}

/// Asks `path` of the instance at `base` until its answer is what `want` says (30 s at most).
fn wait_for(base: &str, path: &str, want: &dyn Fn(&Response) -> bool) {
    let started = Instant::now();
    loop {
        if let Ok(r) = request(base, "GET", path, &[], None) {
            if want(&r) {
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{base}{path} never caught up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn send(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &Value) -> Response {
    let b = body.to_string();
    request(base, method, path, headers, Some(b.as_bytes())).expect("request")
}

fn etag(r: &Response) -> String {
    r.header("ETag").expect("an ETag").to_string()
}

#[test]
fn editing_with_rights_etags_validation_history_and_a_follower() {
    let pg = loaded("edit");
    let url = pg.url();
    let (plot, site, epci, other_epci) = sample();
    let editor = ecofoncier(
        &url,
        &["token", "create", "--epci", &epci, "--label", "editor"],
    );
    let stranger = ecofoncier(&url, &["token", "create", "--epci", &other_epci]);
    let admin = ecofoncier(&url, &["token", "create", "--role", "admin"]);
    assert!(editor.starts_with("efc_") && editor != stranger);
    let auth = format!("Bearer {editor}");
    let auth_other = format!("Bearer {stranger}");
    let auth_admin = format!("Bearer {admin}");

    let a = common::spawn_server(&[("DATABASE_URL", &url)]);
    let b = common::spawn_server(&[("DATABASE_URL", &url)]);
    // An instance on PostGIS documents its writes, histories and features as of a date.
    let doc = request(&a.base, "GET", "/ogc/api", &[], None)
        .unwrap()
        .json();
    let feature = &doc["paths"]["/ogc/collections/{collectionId}/items/{featureId}"];
    for m in ["get", "put", "patch", "delete"] {
        assert!(feature[m].is_object(), "OpenAPI misses {m} on a feature");
    }
    assert!(feature["patch"]["requestBody"]["content"]["application/merge-patch+json"].is_object());
    // Links from a creation (the new feature's id in the answer) and from an update (the
    // feature of the request), the version for the next write from the answer's ETag.
    let created =
        &doc["paths"]["/ogc/collections/{collectionId}/items"]["post"]["responses"]["201"]["links"];
    for (links, which, id) in [
        (created, "Created", "$response.body#/id"),
        (
            &feature["patch"]["responses"]["200"]["links"],
            "Updated",
            "$request.path.featureId",
        ),
        (
            &feature["put"]["responses"]["200"]["links"],
            "Updated",
            "$request.path.featureId",
        ),
    ] {
        for (op, versioned) in [
            ("Get", false),
            ("Update", true),
            ("HistoryOf", false),
            ("Delete", true),
        ] {
            let p = &links[format!("{op}{which}")]["parameters"];
            assert_eq!(p["path.featureId"], id, "{op}{which}");
            assert_eq!(p["path.collectionId"], "$request.path.collectionId");
            assert_eq!(
                p["header.If-Match"].as_str(),
                versioned.then_some("$response.header.ETag")
            );
        }
    }
    assert!(feature["put"]["responses"]["412"].is_object());
    assert!(feature["put"]["responses"]["428"].is_object());
    assert!(feature["get"]["parameters"]
        .to_string()
        .contains("datetime"));
    assert!(doc["paths"]["/ogc/collections/{collectionId}/items"]["post"].is_object());
    assert!(doc["paths"]["/ogc/collections/{collectionId}/items/{featureId}/history"].is_object());
    for (method, path, allow) in [
        (
            "OPTIONS",
            "/ogc/collections/terrains/items",
            "GET, HEAD, POST",
        ),
        (
            "POST",
            "/ogc/collections/terrains/items/x",
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
    ] {
        let r = request(&a.base, method, path, &[], None).unwrap();
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("Allow"), Some(allow), "{method} {path}");
    }
    let item = format!("/ogc/collections/terrains/items/{plot}");
    let got = request(&a.base, "GET", &item, &[], None).unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(etag(&got), "\"1\"");
    let public = String::from_utf8_lossy(&got.body).to_string();
    assert!(
        !public.contains("terr_acquereur"),
        "no buyer in public responses"
    );

    let patch = json!({"properties": {"terr_stade_comm": "en vente"}});
    let merge = ("Content-Type", "application/merge-patch+json");
    // No token, no If-Match, a stale ETag, a token of another EPCI: refused, nothing written.
    let r = send(
        &a.base,
        "PATCH",
        &item,
        &[merge, ("If-Match", "\"1\"")],
        &patch,
    );
    assert_eq!(r.status, 401);
    assert!(r.header("WWW-Authenticate").is_some());
    let r = send(
        &a.base,
        "PATCH",
        &item,
        &[merge, ("Authorization", &auth)],
        &patch,
    );
    assert_eq!(r.status, 428, "If-Match is required");
    let r = send(
        &a.base,
        "PATCH",
        &item,
        &[merge, ("Authorization", &auth), ("If-Match", "\"7\"")],
        &patch,
    );
    assert_eq!(r.status, 412);
    // RFC 9110: a well-formed tag that is not current, a weak tag (strong comparison) or a
    // list without the current one fail the precondition (412); a header that is no tag
    // list is a bad request naming it.
    for tag in ["\"stale\"", "W/\"1\"", "\"5\", \"6\""] {
        let h = [merge, ("Authorization", auth.as_str()), ("If-Match", tag)];
        let r = send(&a.base, "PATCH", &item, &h, &patch);
        assert_eq!(r.status, 412, "If-Match: {tag}");
    }
    let h = [merge, ("Authorization", auth.as_str()), ("If-Match", "1")];
    let r = send(&a.base, "PATCH", &item, &h, &patch);
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (400, json!("If-Match"))
    );
    // If-None-Match on the item: its ETag (weak comparison too) or `*` gives 304.
    for tag in ["\"1\"", "W/\"1\"", "\"9\", \"1\"", "*"] {
        let r = request(&a.base, "GET", &item, &[("If-None-Match", tag)], None).unwrap();
        assert_eq!(r.status, 304, "If-None-Match: {tag}");
    }
    let r = request(&a.base, "GET", &item, &[("If-None-Match", "\"9\"")], None).unwrap();
    assert_eq!(r.status, 200);
    let r = send(
        &a.base,
        "PATCH",
        &item,
        &[merge, ("Authorization", &auth_other), ("If-Match", "\"1\"")],
        &patch,
    );
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        etag(&request(&a.base, "GET", &item, &[], None).unwrap()),
        "\"1\"",
        "nothing written"
    );
    // Invalid values name the field.
    let r = send(
        &a.base,
        "PATCH",
        &item,
        &[merge, ("Authorization", &auth), ("If-Match", "\"1\"")],
        &json!({"properties": {"terr_etat_occup": "bof"}}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["field"], "terr_etat_occup");
    let far = json!({"geometry": {"type": "Polygon", "coordinates": [[[2.0, 50.9], [2.01, 50.9], [2.01, 50.91], [2.0, 50.9]]]}});
    let r = send(
        &a.base,
        "PATCH",
        &item,
        &[merge, ("Authorization", &auth), ("If-Match", "\"1\"")],
        &far,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["field"], "geometry");

    // A good write: 200, version 2, visible at once on this server, soon on the other.
    let occupancy = |path: &str| {
        let r = request(&a.base, "GET", path, &[], None).unwrap();
        assert_eq!(r.status, 200, "{path}");
        r.json()
    };
    let site_path = format!("/api/v1/sites/{site}/occupancy");
    let epci_path = format!("/api/v1/occupancy/epci/{epci}");
    let (site_before, epci_before) = (occupancy(&site_path), occupancy(&epci_path));
    let stade_before = got.json()["properties"]["terr_stade_comm"]
        .as_str()
        .unwrap()
        .to_string();
    // The plot's tile at z14, and the region's overview image, before the write.
    let first = &got.json()["geometry"]["coordinates"][0][0];
    let (x, y) = common::mvt::tile_of(first[0].as_f64().unwrap(), first[1].as_f64().unwrap(), 14);
    let tile_path = format!("/tiles/terrains/14/{x}/{y}");
    let stage_in_tile = |r: &Response| {
        let layers = common::mvt::decode(&r.body);
        layers[0]
            .property_of("terr_id", &plot, "terr_stade_comm")
            .map(str::to_string)
    };
    let tile_before = request(&a.base, "GET", &tile_path, &[], None).unwrap();
    assert_eq!(tile_before.status, 200);
    assert_eq!(stage_in_tile(&tile_before), Some(stade_before.clone()));
    let overview_before = request(&a.base, "GET", "/apercu.png", &[], None).unwrap();
    assert_eq!(overview_before.status, 200);
    // A metric's validator and a filtered page (its selection is kept per snapshot).
    let metric_before = request(&a.base, "GET", &site_path, &[], None).unwrap();
    let metric_tag = metric_before.header("ETag").unwrap().to_string();
    let filtered = format!(
        "/ogc/collections/terrains/items?{}",
        serde_urlencoded::to_string([(
            "filter",
            format!("terr_stade_comm = 'en vente' AND terr_id = '{plot}'")
        )])
        .unwrap()
    );
    let matched = |base: &str| {
        let r = request(base, "GET", &filtered, &[], None).unwrap();
        assert_eq!(r.status, 200);
        r.json()["numberMatched"].as_u64().unwrap()
    };
    assert_ne!(stade_before, "en vente");
    assert_eq!(matched(&a.base), 0);
    let r = send(
        &a.base,
        "PATCH",
        &item,
        &[merge, ("Authorization", &auth), ("If-Match", "\"1\"")],
        &patch,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(etag(&r), "\"2\"");
    assert_eq!(r.json()["properties"]["terr_stade_comm"], "en vente");
    assert!(r.json()["properties"].get("terr_acquereur").is_none());
    let started = Instant::now();
    loop {
        let on_b = request(&b.base, "GET", &item, &[], None).unwrap();
        if etag(&on_b) == "\"2\"" {
            assert_eq!(on_b.json()["properties"]["terr_stade_comm"], "en vente");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the other instance never learnt of the write"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The tile is no longer the cached one: a new ETag, the plot at its new stage; a client
    // holding the old ETag gets the new tile, not 304. The overview (EPCIs, rural and
    // urban) does not depend on plots: the same image.
    let tile_after = request(&a.base, "GET", &tile_path, &[], None).unwrap();
    assert_eq!(tile_after.status, 200);
    assert_ne!(tile_after.header("ETag"), tile_before.header("ETag"));
    assert_eq!(stage_in_tile(&tile_after).as_deref(), Some("en vente"));
    let old_tag = tile_before.header("ETag").unwrap().to_string();
    let again = request(
        &a.base,
        "GET",
        &tile_path,
        &[("If-None-Match", &old_tag)],
        None,
    )
    .unwrap();
    assert_eq!(again.status, 200, "a stale ETag gets the new tile");
    // The metric's old validator is stale, and the filter selects the plot now.
    let metric_again = request(
        &a.base,
        "GET",
        &site_path,
        &[("If-None-Match", &metric_tag)],
        None,
    )
    .unwrap();
    assert_eq!(
        metric_again.status, 200,
        "a stale metric ETag gets the new figures"
    );
    assert_ne!(metric_again.header("ETag").unwrap(), metric_tag);
    assert_eq!(matched(&a.base), 1);
    assert_eq!(matched(&b.base), 1);
    let overview_after = request(&a.base, "GET", "/apercu.png", &[], None).unwrap();
    assert_eq!(overview_after.status, 200);
    assert_eq!(overview_after.body, overview_before.body);
    // The occupancy moved by this plot and nothing else: one unit and its hectares from its
    // old stage to `en vente`, in its site and its EPCI; units and vacancy unchanged.
    let (site_after, epci_after) = (occupancy(&site_path), occupancy(&epci_path));
    let stage = |o: &Value, value: &str| {
        let c = &o["par_stade_comm"][value];
        (
            c["nombre"].as_u64().unwrap_or(0),
            c["ha"].as_f64().unwrap_or(0.0),
        )
    };
    for (before, after) in [
        (&site_before["occupation"], &site_after["occupation"]),
        (&epci_before["occupation"], &epci_after["occupation"]),
    ] {
        let (old_n, old_ha) = stage(before, &stade_before);
        let (new_n, new_ha) = stage(after, &stade_before);
        assert_eq!(new_n, old_n - 1, "one unit left {stade_before}");
        let moved = old_ha - new_ha;
        assert!(moved > 0.0);
        let (sale_n, sale_ha) = stage(before, "en vente");
        assert_eq!(stage(after, "en vente").0, sale_n + 1);
        assert!((stage(after, "en vente").1 - (sale_ha + moved)).abs() < 0.011);
        let for_sale = |o: &Value| o["surf_en_vente_ha"].as_f64().unwrap();
        assert!((for_sale(after) - (for_sale(before) + moved)).abs() < 0.011);
        for same in [
            "uf_nbre",
            "uf_vacant_nbre",
            "surf_brute_ha",
            "par_etat_occup",
        ] {
            assert_eq!(after[same], before[same], "{same}");
        }
    }

    // Concurrent writers with the same ETag: exactly one wins, the others get 412.
    let n = 6;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|k| {
            let (base, item, auth, barrier) =
                (a.base.clone(), item.clone(), auth.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let body = json!({"properties": {"terr_refcad": format!("writer-{k}")}});
                let r = send(
                    &base,
                    "PATCH",
                    &item,
                    &[("Authorization", &auth), ("If-Match", "\"2\"")],
                    &body,
                );
                (k, r.status)
            })
        })
        .collect();
    let results: Vec<(usize, u16)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<usize> = results.iter().filter(|r| r.1 == 200).map(|r| r.0).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|r| r.1 == 200 || r.1 == 412),
        "{results:?}"
    );
    let now = request(&a.base, "GET", &item, &[], None).unwrap();
    assert_eq!(etag(&now), "\"3\"");
    assert_eq!(
        now.json()["properties"]["terr_refcad"],
        format!("writer-{}", winners[0])
    );

    // The history: who, when, before, after; the buyer only for the EPCI's editors.
    let h = request(&a.base, "GET", &format!("{item}/history"), &[], None)
        .unwrap()
        .json();
    let rows = h["historique"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{h}");
    assert_eq!(rows[0]["action"], "update");
    assert_eq!(
        rows[0]["avant"]["terr_stade_comm"],
        common::model()
            .terrains
            .by_id(&plot)
            .unwrap()
            .record
            .terr_stade_comm
            .as_str()
    );
    assert_eq!(rows[0]["apres"]["terr_stade_comm"], "en vente");
    assert!(
        rows[0]["avant"].get("terr_acquereur").is_none(),
        "public history hides the buyer"
    );
    let h = request(
        &a.base,
        "GET",
        &format!("{item}/history"),
        &[("Authorization", &auth)],
        None,
    )
    .unwrap()
    .json();
    assert!(
        h["historique"][0]["avant"].get("terr_acquereur").is_some(),
        "the editor sees the buyer"
    );

    // Exports: the standard's columns for everyone, the buyers for the EPCI's editor only.
    let path = format!("/api/v1/exports/{epci}/terrains?format=csv");
    let buyers = |auth: Option<&str>| {
        let h: Vec<(&str, &str)> = auth.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        let r = request(&a.base, "GET", &path, &h, None).unwrap();
        assert_eq!(r.status, 200);
        let text = String::from_utf8(r.body).unwrap();
        let rows = ecofoncier::formats::cnig::csv::records(&text);
        let col = rows[0]
            .1
            .iter()
            .position(|c| c == "terr_acquereur")
            .unwrap();
        rows[1..].iter().filter(|(_, f)| !f[col].is_empty()).count()
    };
    assert!(buyers(Some(&auth)) > 0);
    assert_eq!(buyers(Some(&auth_other)), 0);
    assert_eq!(buyers(None), 0);

    // Create, replace and delete a plot inside the same site (admin token).
    let new = new_plot(&plot, "NEW_TERRAIN-ECO_00001");
    // If-Match on a creation: no current feature to match (412), nothing created.
    let r = send(
        &a.base,
        "POST",
        "/ogc/collections/terrains/items",
        &[("Authorization", &auth_admin), ("If-Match", "*")],
        &new,
    );
    assert_eq!(r.status, 412, "{}", String::from_utf8_lossy(&r.body));
    let r = send(
        &a.base,
        "POST",
        "/ogc/collections/terrains/items",
        &[("Authorization", &auth_admin)],
        &new,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert!(r
        .header("Location")
        .unwrap()
        .ends_with("/ogc/collections/terrains/items/NEW_TERRAIN-ECO_00001"));
    assert_eq!(etag(&r), "\"1\"");
    let new_item = "/ogc/collections/terrains/items/NEW_TERRAIN-ECO_00001";
    let r = send(
        &a.base,
        "POST",
        "/ogc/collections/terrains/items",
        &[("Authorization", &auth_admin)],
        &new,
    );
    assert_eq!(r.status, 409, "a second creation of the same id");
    let mut replaced = new.clone();
    replaced["properties"]["terr_usage"] = json!("parkings");
    let r = send(
        &a.base,
        "PUT",
        new_item,
        &[("Authorization", &auth_admin), ("If-Match", "*")],
        &replaced,
    );
    assert_eq!(
        r.status,
        200,
        "If-Match: * matches the current feature: {}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(etag(&r), "\"2\"");
    let r = request(
        &a.base,
        "DELETE",
        new_item,
        &[("Authorization", &auth_admin), ("If-Match", "\"2\"")],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(
        request(&a.base, "GET", new_item, &[], None).unwrap().status,
        404
    );

    // Read-only layers and the embedded mode.
    let r = send(
        &a.base,
        "PATCH",
        "/ogc/collections/communes/items/80021",
        &[("Authorization", &auth_admin), ("If-Match", "\"1\"")],
        &patch,
    );
    assert_eq!(r.status, 405);
    let r = send(
        common::server(),
        "PATCH",
        &item,
        &[("Authorization", &auth), ("If-Match", "\"1\"")],
        &patch,
    );
    assert_eq!(r.status, 405);
    assert!(r.json()["detail"].as_str().unwrap().contains("read-only"));
    assert_eq!(r.header("Allow"), Some("GET, HEAD"));
}

#[test]
fn postgis_killed_during_a_burst_of_writes() {
    let pg = loaded("kill");
    let url = pg.url();
    let (plot, _site, epci, _) = sample();
    let token = ecofoncier(&url, &["token", "create", "--epci", &epci]);
    let auth = format!("Bearer {token}");
    // Warm the token cache: with the database down the token could not be checked.
    let server = common::spawn_server(&[("DATABASE_URL", &url)]);
    let item = format!("/ogc/collections/terrains/items/{plot}");
    let mut version = 1i64;
    let mut accepted: Vec<String> = Vec::new();
    let mut unavailable = 0;
    let write = |k: usize, version: &mut i64, accepted: &mut Vec<String>| -> u16 {
        let value = format!("burst-{k}");
        let body = json!({"properties": {"terr_refcad": value}});
        let tag = format!("\"{version}\"");
        let r = send(
            &server.base,
            "PATCH",
            &item,
            &[("Authorization", &auth), ("If-Match", &tag)],
            &body,
        );
        if r.status == 200 {
            *version += 1;
            accepted.push(value);
        }
        r.status
    };
    for k in 0..10 {
        assert_eq!(write(k, &mut version, &mut accepted), 200);
    }
    pg.kill();
    for k in 10..20 {
        let status = write(k, &mut version, &mut accepted);
        assert!(
            status == 503 || status == 200,
            "while PostGIS is down: {status}"
        );
        unavailable += (status == 503) as usize;
        // Reads go on from memory.
        assert_eq!(
            request(&server.base, "GET", &item, &[], None)
                .unwrap()
                .status,
            200
        );
        assert_eq!(
            request(&server.base, "GET", "/api/v1/indicators", &[], None)
                .unwrap()
                .status,
            200
        );
    }
    assert!(unavailable > 0, "writes answer 503 while PostGIS is down");
    // Alive, but not ready for writes: a load balancer routes writes elsewhere.
    let ready = request(&server.base, "GET", "/ready", &[], None).unwrap();
    assert_eq!(ready.status, 503);
    assert!(ready.header("Retry-After").is_some());
    let health = request(&server.base, "GET", "/health", &[], None).unwrap();
    assert_eq!(health.status, 200);
    pg.restart();
    // The service recovers without a restart.
    let started = Instant::now();
    let mut k = 20;
    loop {
        if write(k, &mut version, &mut accepted) == 200 {
            break;
        }
        k += 1;
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "writes never recovered"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    for j in 0..5 {
        assert_eq!(write(1000 + j, &mut version, &mut accepted), 200);
    }
    // Ready again once its follower has reconnected and caught up (it tries every second).
    let started = Instant::now();
    let ready = loop {
        let ready = request(&server.base, "GET", "/ready", &[], None).unwrap();
        if ready.status == 200 || started.elapsed() > Duration::from_secs(10) {
            break ready;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        (ready.status, ready.json()["writes"].clone()),
        (200, json!(true))
    );
    // Every write that got a 2xx is in the database's history, in order.
    let history = request(&server.base, "GET", &format!("{item}/history"), &[], None)
        .unwrap()
        .json();
    let stored: Vec<String> = history["historique"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["apres"]["terr_refcad"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(stored, accepted, "each accepted write, once, in order");
    println!(
        "{} writes accepted, {unavailable} refused with 503 while PostGIS was down",
        accepted.len()
    );
}

/// Tokens: listed without their secret, revoked or expired tokens refused at once by every
/// instance, wrong secrets throttled with 429 and Retry-After.
#[test]
fn token_lifecycle_list_revoke_expiry_and_throttling() {
    let pg = loaded("tokens");
    let url = pg.url();
    let (plot, _site, epci, _) = sample();
    let a = common::spawn_server(&[("DATABASE_URL", &url)]);
    let b = common::spawn_server(&[("DATABASE_URL", &url)]);
    let item = format!("/ogc/collections/terrains/items/{plot}");
    let patch = json!({"properties": {"terr_refcad": "x"}});
    // With a valid token a stale ETag is the answer (412); without one, 401; nothing written.
    let status = |base: &str, token: &str| {
        let auth = format!("Bearer {token}");
        let h = [("Authorization", auth.as_str()), ("If-Match", "\"999\"")];
        send(base, "PATCH", &item, &h, &patch).status
    };
    let editor = ecofoncier(
        &url,
        &["token", "create", "--epci", &epci, "--label", "lifecycle"],
    );
    let id = editor.split('_').nth(1).unwrap().to_string();
    let secret = editor.rsplit('_').next().unwrap().to_string();
    let list = ecofoncier(&url, &["token", "list"]);
    assert!(!list.contains(&secret), "no secret in the list");
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("{id}\t")))
        .expect("the token's line");
    assert!(
        line.contains("\teditor\t")
            && line.contains(&epci)
            && line.contains("\tlifecycle\t")
            && line.ends_with("\tnever\tno"),
        "{line}"
    );
    assert_eq!(
        (status(&a.base, &editor), status(&b.base, &editor)),
        (412, 412)
    );
    // Revoked: refused by both instances from the next request.
    ecofoncier(&url, &["token", "revoke", &id]);
    assert_eq!(
        (status(&a.base, &editor), status(&b.base, &editor)),
        (401, 401)
    );
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_ecofoncier"))
        .args(["token", "revoke", &id])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "a revoked token cannot be revoked again"
    );
    let list = ecofoncier(&url, &["token", "list"]);
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("{id}\t")))
        .unwrap();
    assert!(!line.ends_with("\tno"), "{line}");
    // Expiry.
    let short = ecofoncier(
        &url,
        &["token", "create", "--epci", &epci, "--expires", "3s"],
    );
    let created = Instant::now();
    assert_eq!(status(&a.base, &short), 412);
    std::thread::sleep(
        Duration::from_secs(3).saturating_sub(created.elapsed()) + Duration::from_millis(300),
    );
    assert_eq!(
        (status(&a.base, &short), status(&b.base, &short)),
        (401, 401)
    );
    // Wrong secrets for one token id: refused, then throttled.
    let good = ecofoncier(&url, &["token", "create", "--epci", &epci]);
    let gid = good.split('_').nth(1).unwrap();
    let wrong = format!("efc_{gid}_0000");
    for _ in 0..5 {
        assert_eq!(status(&a.base, &wrong), 401);
    }
    let auth = format!("Bearer {wrong}");
    let h = [("Authorization", auth.as_str()), ("If-Match", "\"999\"")];
    let r = send(&a.base, "PATCH", &item, &h, &patch);
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    // The other instance counts its own failures; the right token still works there.
    assert_eq!(status(&b.base, &good), 412);
}

/// A follower that lost PostGIS (restarted while both instances serve) catches up on every
/// write it missed: those made through the other instance while it was disconnected, and
/// after. Creates and deletes reach it too.
#[test]
fn a_follower_catches_up_after_postgis_restarts() {
    let pg = loaded("follow");
    let url = pg.url();
    let (plot, _site, _epci, _) = sample();
    let auth = format!(
        "Bearer {}",
        ecofoncier(&url, &["token", "create", "--role", "admin"])
    );
    let a = common::spawn_server(&[("DATABASE_URL", &url)]);
    let b = common::spawn_server(&[("DATABASE_URL", &url)]);
    let item = format!("/ogc/collections/terrains/items/{plot}");
    let etag_on = |base: &str| {
        request(base, "GET", &item, &[], None)
            .ok()
            .and_then(|r| r.header("ETag").map(str::to_string))
    };
    let mut version = 1i64;
    let patch = |value: &str, version: &mut i64| -> u16 {
        let tag = format!("\"{version}\"");
        let body = json!({"properties": {"terr_refcad": value}});
        let r = send(
            &a.base,
            "PATCH",
            &item,
            &[("Authorization", &auth), ("If-Match", &tag)],
            &body,
        );
        if r.status == 200 {
            *version += 1;
        }
        r.status
    };
    assert_eq!(patch("before", &mut version), 200);
    wait_for(&b.base, &item, &|r| r.header("ETag") == Some("\"2\""));
    // PostGIS restarts: both instances lose their connections; A's writes fail meanwhile.
    pg.kill();
    assert_eq!(patch("while down", &mut version), 503);
    pg.restart();
    let started = Instant::now();
    while patch("after restart", &mut version) != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "writes never recovered"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    for k in 0..3 {
        assert_eq!(patch(&format!("after {k}"), &mut version), 200);
    }
    // A plot deleted through A after the restart.
    let gone = delete_another_plot(&a.base, &auth, &plot);
    let want = format!("\"{version}\"");
    wait_for(&b.base, &item, &|r| r.header("ETag") == Some(want.as_str()));
    assert_eq!(etag_on(&a.base), etag_on(&b.base));
    let on_b = request(&b.base, "GET", &item, &[], None).unwrap().json();
    assert_eq!(on_b["properties"]["terr_refcad"], "after 2");
    wait_for(&b.base, &gone, &|r| r.status == 404);
}

/// A follower cut off from PostGIS while the other instance keeps writing (its
/// notifications are lost to it) catches up from the audit table once it is back: a
/// patched plot, a created one and a deleted one. Then both instances write the same plot
/// at the same moment with the same `If-Match`: the row lock lets exactly one through, the
/// other gets 412, and both serve the winner.
#[test]
fn a_follower_cut_off_catches_up_from_the_audit_table() {
    use common::pg::Relay;
    let pg = loaded("cutoff");
    let relay = Relay::to(pg.port);
    let (plot, _site, _epci, _) = sample();
    let auth = format!(
        "Bearer {}",
        ecofoncier(&pg.url(), &["token", "create", "--role", "admin"])
    );
    let a = common::spawn_server(&[("DATABASE_URL", &pg.url())]);
    let b = common::spawn_server(&[("DATABASE_URL", &relay.url())]);
    let item = format!("/ogc/collections/terrains/items/{plot}");
    let patch = |base: &str, value: &str, version: i64| -> Response {
        let tag = format!("\"{version}\"");
        let body = json!({"properties": {"terr_refcad": value}});
        send(
            base,
            "PATCH",
            &item,
            &[("Authorization", &auth), ("If-Match", &tag)],
            &body,
        )
    };
    assert_eq!(patch(&a.base, "seen", 1).status, 200);
    wait_for(&b.base, &item, &|r| r.header("ETag") == Some("\"2\""));

    // B off the network; A patches, creates and deletes.
    relay.cut();
    std::thread::sleep(Duration::from_millis(300));
    for (k, version) in (2..5).enumerate() {
        assert_eq!(patch(&a.base, &format!("missed {k}"), version).status, 200);
    }
    let created = "/ogc/collections/terrains/items/NEW_TERRAIN-ECO_00077";
    let r = send(
        &a.base,
        "POST",
        "/ogc/collections/terrains/items",
        &[("Authorization", &auth)],
        &new_plot(&plot, "NEW_TERRAIN-ECO_00077"),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let gone = delete_another_plot(&a.base, &auth, &plot);
    // The notifications are gone: B still serves what it had.
    std::thread::sleep(Duration::from_millis(1500));
    let r = request(&b.base, "GET", &item, &[], None).unwrap();
    assert_eq!(r.header("ETag"), Some("\"2\""), "B was not cut off");
    assert_eq!(
        request(&b.base, "GET", created, &[], None).unwrap().status,
        404
    );
    assert_eq!(
        request(&b.base, "GET", &gone, &[], None).unwrap().status,
        200
    );
    // B says it is not ready, and why; its snapshot version is behind A's.
    let ready = request(&b.base, "GET", "/ready", &[], None).unwrap();
    assert_eq!(ready.status, 503);
    assert!(
        ready.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("catching up")),
        "{}",
        String::from_utf8_lossy(&ready.body)
    );
    let last = common::pg::audit_version(&pg.url());
    assert_eq!(common::pg::snapshot_version(&a.base), last);
    assert!(common::pg::snapshot_version(&b.base) < last);

    relay.mend();
    wait_for(&b.base, &item, &|r| r.header("ETag") == Some("\"5\""));
    let on_b = request(&b.base, "GET", &item, &[], None).unwrap().json();
    assert_eq!(on_b["properties"]["terr_refcad"], "missed 2");
    wait_for(&b.base, created, &|r| r.status == 200);
    wait_for(&b.base, &gone, &|r| r.status == 404);
    // In step again: ready, at A's snapshot version.
    common::pg::wait_snapshot_version(&[&a.base, &b.base], last);
    assert_eq!(
        request(&b.base, "GET", "/ready", &[], None).unwrap().status,
        200
    );
    // B's metrics say so: connected again, three features read again from the audit table
    // (the patched, the created and the deleted plot), published as followed writes; A
    // published its seven writes as local ones.
    let on_b = metrics(&b.base);
    assert_eq!(metric(&on_b, "ecofoncier_follower_connected"), Some(1.0));
    assert_eq!(
        metric(&on_b, "ecofoncier_snapshot_version"),
        Some(last as f64)
    );
    assert_eq!(
        metric(&on_b, "ecofoncier_follower_caught_up_total"),
        Some(3.0),
        "{on_b}"
    );
    assert_eq!(
        metric(
            &on_b,
            r#"ecofoncier_writes_published_total{collection="terrains",origin="followed"}"#
        ),
        Some(4.0),
        "the first patch by notification, three by catch-up: {on_b}"
    );
    let on_a = metrics(&a.base);
    assert_eq!(
        metric(
            &on_a,
            r#"ecofoncier_writes_published_total{collection="terrains",origin="local"}"#
        ),
        Some(6.0),
        "{on_a}"
    );

    // Two writers, one version: exactly one wins.
    let barrier = Barrier::new(2);
    let statuses: Vec<(String, u16)> = std::thread::scope(|s| {
        let handles: Vec<_> = [&a.base, &b.base]
            .into_iter()
            .map(|base| {
                let (barrier, patch) = (&barrier, &patch);
                s.spawn(move || {
                    barrier.wait();
                    (base.clone(), patch(base, &format!("by {base}"), 5).status)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut codes: Vec<u16> = statuses.iter().map(|(_, s)| *s).collect();
    codes.sort();
    assert_eq!(codes, [200, 412], "{statuses:?}");
    let winner = &statuses.iter().find(|(_, s)| *s == 200).unwrap().0;
    for base in [&a.base, &b.base] {
        wait_for(base, &item, &|r| r.header("ETag") == Some("\"6\""));
        let r = request(base, "GET", &item, &[], None).unwrap().json();
        assert_eq!(r["properties"]["terr_refcad"], format!("by {winner}"));
    }
    common::pg::wait_snapshot_version(&[&a.base, &b.base], common::pg::audit_version(&pg.url()));
    // The other instance followed the winner's write: its lag is measured.
    let loser = if winner == &a.base { &b.base } else { &a.base };
    let lag = metric(&metrics(loser), "ecofoncier_follower_lag_seconds").unwrap();
    assert!(lag > 0.0 && lag < 30.0, "follower lag {lag} s");

    // An import notifies the serving instances, which reload: the embedded data again
    // brings the plot back to its original reference.
    let original = serde_json::to_value(common::model().terrains.by_id(&plot).unwrap().record)
        .unwrap()["terr_refcad"]
        .clone();
    let data = common::data_dir();
    ecofoncier(
        &pg.url(),
        &["import", "--embedded", "--data", data.to_str().unwrap()],
    );
    for base in [&a.base, &b.base] {
        // The import's rows may reach the instance through the follower before the reload
        // the import's end asks for: wait for the reload, then for the plot.
        let started = Instant::now();
        while metric(&metrics(base), "ecofoncier_reloads_total") != Some(1.0) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{base} did not reload after the import"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        wait_for(base, &item, &|r| {
            r.json()["properties"]["terr_refcad"] == original
        });
        // The import's progress, table by table: every plot and establishment read, the
        // plot this test changed written back, nothing rejected, and the import over.
        let m = metrics(base);
        let rows = |table: &str, outcome: &str| {
            metric(
                &m,
                &format!("ecofoncier_import_rows_total{{table=\"{table}\",outcome=\"{outcome}\"}}"),
            )
        };
        let model = common::model();
        assert_eq!(
            rows("terrain_eco", "read"),
            Some(model.terrains.len() as f64),
            "{m}"
        );
        assert_eq!(
            rows("etablissement", "read"),
            Some(model.etablissements.len() as f64)
        );
        assert!(rows("terrain_eco", "written") >= Some(1.0));
        assert_eq!(rows("terrain_eco", "rejected"), Some(0.0));
        assert_eq!(metric(&m, "ecofoncier_import_running"), Some(0.0));
    }
}

/// The Prometheus metrics of the instance at `base`.
fn metrics(base: &str) -> String {
    let r = request(base, "GET", "/metrics", &[], None).unwrap();
    assert_eq!(r.status, 200);
    String::from_utf8(r.body).unwrap()
}

/// The value of sample `name` (labels written out) in a metrics text.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}
