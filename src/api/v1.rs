//! Decision metrics under `/api/v1`: occupancy and legal vacancy, vacant-plot search, land
//! take and ZAN, the sobriety check of a proposed zone, commuting, tiers-lieux coverage,
//! centre-bourg premises, the inter-EPCI comparison and the indicators over time.

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};

use crate::crs::{self, Crs};
use crate::metrics::commute::{self, Scenario};
use crate::metrics::occupancy::OccupancyIndex;
use crate::metrics::proposal::{self, Proposal};
use crate::metrics::search::{self, Criteria, SiteSummary};
use crate::metrics::{coverage, indicators, land_take, timeline};
use crate::model::{codes, TerritoryClass};

use super::geometry_input::parse_proposal;
use super::problem::{ApiError, ApiResult};
use super::query::pairs;
use super::AppState;

/// Largest accepted request body, bytes.
pub const MAX_BODY: usize = 256 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/sites/{site_id}/occupancy",
        web::get().to(site_occupancy),
    )
    .route(
        "/api/v1/occupancy/{level}/{code}",
        web::get().to(territory_occupancy),
    )
    .route("/api/v1/terrains/search", web::get().to(search_plots))
    .route(
        "/api/v1/land-take/{level}/{code}",
        web::get().to(land_take_of),
    )
    .route("/api/v1/proposals/check", web::post().to(check_proposal))
    .route(
        "/api/v1/commute/{level}/{code}",
        web::get().to(commute_baseline),
    )
    .route(
        "/api/v1/scenarios/commute",
        web::post().to(commute_scenario),
    )
    .route("/api/v1/tiers-lieux/coverage", web::get().to(tl_coverage))
    .route("/api/v1/tiers-lieux/suggest", web::get().to(tl_suggest))
    .route(
        "/api/v1/premises/{level}/{code}",
        web::get().to(premises_of),
    )
    .route("/api/v1/indicators", web::get().to(indicators_all))
    .route(
        "/api/v1/indicators/epci/{siren}",
        web::get().to(indicators_sheet),
    )
    .route("/api/v1/compare", web::get().to(compare))
    .route("/api/v1/timeline/epci/{siren}", web::get().to(timeline_of));
}

/// Query parameters checked against the ones an endpoint takes.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(req: &HttpRequest, allowed: &[&str]) -> ApiResult<Params> {
        let raw = pairs(req.query_string())?;
        let mut seen: Vec<&str> = Vec::new();
        for (k, _) in &raw {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::param(
                    k,
                    format!(
                        "unknown parameter; this endpoint takes {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if seen.contains(&k.as_str()) {
                return Err(ApiError::param(k, "given more than once"));
            }
            seen.push(k);
        }
        Ok(Params(raw))
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }

    /// A number in `min..=max` (NaN and infinities fall outside); `what` names the kind.
    fn number<T>(&self, k: &str, min: T, max: T, what: &str) -> ApiResult<Option<T>>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        self.get(k)
            .map(|v| {
                let x: T = v
                    .parse()
                    .map_err(|_| ApiError::param(k, format!("`{v}` is not {what}")))?;
                if !(min..=max).contains(&x) {
                    return Err(ApiError::param(k, format!("{x} is outside {min}..={max}")));
                }
                Ok(x)
            })
            .transpose()
    }

    fn f64(&self, k: &str, min: f64, max: f64) -> ApiResult<Option<f64>> {
        self.number(k, min, max, "a number")
    }

    fn int(&self, k: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
        self.number(k, min, max, "an integer")
    }

    /// A comma-separated list whose values must belong to `allowed`.
    fn list(&self, k: &str, allowed: &[&str]) -> ApiResult<Vec<String>> {
        let Some(v) = self.get(k) else {
            return Ok(Vec::new());
        };
        v.split(',')
            .map(|x| x.trim())
            .filter(|x| !x.is_empty())
            .map(|x| {
                if allowed.contains(&x) {
                    Ok(x.to_string())
                } else {
                    Err(ApiError::param(
                        k,
                        format!("`{x}` is not one of: {}", allowed.join(", ")),
                    ))
                }
            })
            .collect()
    }

    fn year(&self, state: &super::Snapshot) -> ApiResult<i32> {
        Ok(self
            .int("year", 2000, 2100)?
            .map(|y| y as i32)
            .unwrap_or(state.metrics.year))
    }
}

fn ok<T: Serialize>(v: &T) -> HttpResponse {
    HttpResponse::Ok().json(v)
}

/// The level of a territory path: `commune`, `epci` or `region`.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Commune,
    Epci,
    Region,
}

/// The region's codes: INSEE region 32, or `hdf`.
const REGION_CODES: [&str; 2] = ["32", "hdf"];

fn level(
    state: &super::Snapshot,
    level: &str,
    code: &str,
    allowed: &[Level],
) -> ApiResult<(Level, crate::model::Str)> {
    let m = &state.model;
    let (lv, name) = match level {
        "commune" => (Level::Commune, m.communes.by_id(code).map(|c| c.record.nom)),
        "epci" => (Level::Epci, m.epci.by_id(code).map(|e| e.record.epci_nom)),
        "region" => (
            Level::Region,
            REGION_CODES
                .contains(&code)
                .then(|| "Hauts-de-France".into()),
        ),
        other => {
            return Err(ApiError::param(
                "level",
                format!("`{other}` is not one of commune, epci, region"),
            ))
        }
    };
    if !allowed.contains(&lv) {
        return Err(ApiError::param(
            "level",
            format!("`{level}` is not available here"),
        ));
    }
    let name = name.ok_or_else(|| ApiError::NotFound(format!("no {level} `{code}`")))?;
    Ok((lv, name))
}

async fn site_occupancy(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(&req, &["year"])?;
    let year = p.year(&state)?;
    let m = &state.model;
    let i = m
        .sites
        .index_of(&path)
        .ok_or_else(|| ApiError::NotFound(format!("no site `{}`", path.as_str())))?;
    let site = &m.sites.get(i).record;
    let occ = state.metrics.occupancy.site_for_year(m, i, year);
    let mismatches: Vec<_> = state
        .metrics
        .occupancy
        .mismatches()
        .filter(|x| {
            x.site_id_attribut.as_deref() == Some(site.site_id.as_str())
                || x.site_id_geometrie.as_deref() == Some(site.site_id.as_str())
        })
        .collect();
    Ok(ok(&json!({
        "site_id": site.site_id,
        "site_nom": site.site_nom,
        "site_epci_siren": site.site_epci_siren,
        "annee_reference": year,
        "site_uf_nbre": occ.uf_nbre,
        "site_uf_vacant_nbre": occ.uf_vacant_nbre,
        "site_taux_vacance": occ.taux_vacance(),
        "site_surf_utile": (occ.surf_utile_ha * 100.0).round() / 100.0,
        "taux_occupation_pct": (occ.taux_occupation() * 1000.0).round() / 10.0,
        "taux_vacance_declare": site.site_taux_vacance,
        "occupation": occ.rounded(),
        "incoherences": mismatches,
    })))
}

async fn territory_occupancy(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(&req, &["year"])?;
    let year = p.year(&state)?;
    let (lvl, code) = path.into_inner();
    let (lv, name) = level(&state, &lvl, &code, &[Level::Epci, Level::Region])?;
    let recomputed;
    let idx = if year == state.metrics.year {
        &state.metrics.occupancy
    } else {
        recomputed = OccupancyIndex::compute(&state.model, year);
        &recomputed
    };
    let occ = if lv == Level::Region {
        idx.region.clone()
    } else {
        idx.of_epci(&state.model, &code)
            .cloned()
            .unwrap_or_default()
    };
    Ok(ok(&json!({
        "niveau": lvl, "code": code, "nom": name, "annee_reference": year,
        "uf_nbre": occ.uf_nbre,
        "uf_vacant_nbre": occ.uf_vacant_nbre,
        "taux_vacance": occ.taux_vacance(),
        "taux_occupation_pct": (occ.taux_occupation() * 1000.0).round() / 10.0,
        "occupation": occ.rounded(),
    })))
}

/// Parses `lon,lat` (CRS84) into Lambert-93.
fn parse_point(param: &str, v: &str) -> ApiResult<(f64, f64)> {
    let nums: Vec<f64> = v
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::param(param, format!("`{v}` is not `lon,lat`")))?;
    let [lon, lat] = nums[..] else {
        return Err(ApiError::param(param, format!("`{v}` is not `lon,lat`")));
    };
    crs::to_l93(Crs::Crs84, lon, lat).map_err(|e| ApiError::param(param, e.to_string()))
}

async fn search_plots(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(
        &req,
        &[
            "epci",
            "near",
            "radius_km",
            "min_ha",
            "max_ha",
            "stade_comm",
            "stade_amngt",
            "reseau",
            "vocation",
            "limit",
        ],
    )?;
    let m = &state.model;
    let epci = p.get("epci").map(str::to_string);
    if let Some(e) = &epci {
        if m.epci.by_id(e).is_none() {
            return Err(ApiError::param("epci", format!("no EPCI with SIREN `{e}`")));
        }
    }
    let near = p.get("near").map(|v| parse_point("near", v)).transpose()?;
    let radius_km = p.f64("radius_km", 0.0, 500.0)?;
    if radius_km.is_some() && near.is_none() {
        return Err(ApiError::param("radius_km", "needs `near=lon,lat`"));
    }
    let (min_ha, max_ha) = (p.f64("min_ha", 0.0, 1e6)?, p.f64("max_ha", 0.0, 1e6)?);
    if let (Some(a), Some(b)) = (min_ha, max_ha) {
        if a > b {
            return Err(ApiError::param("min_ha", format!("{a} exceeds max_ha {b}")));
        }
    }
    let mut networks: Vec<&str> = codes::NETWORKS.to_vec();
    networks.push("transport_commun");
    let c = Criteria {
        epci,
        near,
        radius_m: radius_km.map(|r| r * 1000.0),
        min_ha,
        max_ha,
        stade_comm: p.list("stade_comm", codes::TERR_STADE_COMM)?,
        stade_amngt: p.list("stade_amngt", codes::TERR_STADE_AMNGT)?,
        reseau: p.list("reseau", &networks)?,
        vocation: p.list("vocation", codes::SITE_VOCADOMI)?,
        limit: p.int("limit", 1, 1000)?.unwrap_or(50) as usize,
    };
    let (hits, matched) = search::search(m, &state.metrics.occupancy, &c);
    let mut out = Vec::with_capacity(hits.len() * 800);
    out.extend_from_slice(br#"{"type":"FeatureCollection","numberMatched":"#);
    out.extend_from_slice(matched.to_string().as_bytes());
    out.extend_from_slice(br#","numberReturned":"#);
    out.extend_from_slice(hits.len().to_string().as_bytes());
    out.extend_from_slice(br#","features":["#);
    for (k, h) in hits.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let t = m.terrains.get(h.plot);
        let r = t.record;
        let props = json!({
            "terr_id": r.terr_id,
            "terr_surf_brute": r.terr_surf_brute,
            "terr_etat_occup": r.terr_etat_occup,
            "terr_stade_comm": r.terr_stade_comm,
            "terr_stade_amngt": r.terr_stade_amngt,
            "terr_cle_en_main": r.terr_cle_en_main,
            "distance_km": h.distance_m.map(|d| (d / 10.0).round() / 100.0),
            "site": h.site.map(|s| SiteSummary::of(m.sites.record(s))),
        });
        out.extend_from_slice(br#"{"type":"Feature","id":"#);
        out.extend_from_slice(Value::String(r.terr_id.to_string()).to_string().as_bytes());
        out.extend_from_slice(br#","geometry":"#);
        crate::read_model::served::write_geometry_in(&mut out, t.shape, Crs::Crs84);
        out.extend_from_slice(br#","properties":"#);
        out.extend_from_slice(props.to_string().as_bytes());
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .body(out))
}

/// The land-take rows of the communes of EPCI `siren`, through the joins resolved at load
/// (no code looked up per row).
fn epci_land_take<'a>(
    m: &'a crate::read_model::ReadModel,
    siren: &str,
) -> Vec<&'a crate::model::LandTake> {
    let Some(&e) = m.epci_ids.get(siren) else {
        return Vec::new();
    };
    m.land_take
        .iter()
        .zip(m.joins.land_take_commune.iter())
        .filter(|(_, &c)| m.joins.commune_epci.get(c as usize) == Some(&(e as u32)))
        .map(|(r, _)| r)
        .collect()
}

async fn land_take_of(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(&req, &[])?;
    let (lvl, code) = path.into_inner();
    let (lv, name) = level(
        &state,
        &lvl,
        &code,
        &[Level::Commune, Level::Epci, Level::Region],
    )?;
    let m = &state.model;
    let rows: Vec<&crate::model::LandTake> = match lv {
        Level::Commune => {
            let c = m.commune_ids.get(code.as_str()).map(|&c| c as u32);
            m.land_take
                .iter()
                .zip(m.joins.land_take_commune.iter())
                .filter(|(_, &j)| Some(j) == c)
                .map(|(r, _)| r)
                .collect()
        }
        Level::Epci => epci_land_take(m, &code),
        Level::Region => m.land_take.iter().collect(),
    };
    let zan = match lv {
        Level::Commune => state.metrics.zan_communes.get(&code).cloned(),
        Level::Epci => state.metrics.zan_epci.get(&code).cloned(),
        Level::Region => Some(state.metrics.zan_region.clone()),
    }
    .unwrap_or_else(|| land_take::budget(rows.iter().copied()));
    Ok(ok(&json!({
        "niveau": lvl, "code": code, "nom": name,
        "annees": land_take::yearly(rows.iter().copied()),
        "zan": zan,
        "methode": "Référence = consommation ENAF du 1er janvier 2011 au 1er janvier 2021 ; \
            enveloppe 2021-2030 = 50 % de la référence, au moins 1 ha par commune (garantie \
            communale ; un EPCI ou la région additionne celles de ses communes) ; projection au \
            1er janvier 2031 au rythme moyen des trois dernières années observées.",
    })))
}

/// Reads a request body up to [`MAX_BODY`] bytes; 413 beyond.
pub(crate) async fn read_body(mut payload: web::Payload) -> ApiResult<web::BytesMut> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadBody {
            field: "body".into(),
            message: e.to_string(),
        })?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::TooLarge(format!(
                "request body exceeds {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn check_proposal(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(&req, &[])?;
    let body = read_body(payload).await?;
    let input = parse_proposal(&body, &state.model)?;
    let p = Proposal {
        area: input.area,
        jobs: input.jobs,
        vocation: input.vocation,
        radius_km: input.radius_km.unwrap_or(proposal::DEFAULT_RADIUS_KM),
    };
    Ok(ok(&proposal::check(&state.model, &state.metrics, &p)))
}

async fn commute_baseline(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(&req, &[])?;
    let (lvl, code) = path.into_inner();
    let (lv, name) = level(&state, &lvl, &code, &[Level::Epci, Level::Region])?;
    let b = if lv == Level::Region {
        state.metrics.commute_region.clone()
    } else {
        state
            .metrics
            .commute_epci
            .get(&code)
            .cloned()
            .unwrap_or_default()
    };
    Ok(ok(
        &json!({ "niveau": lvl, "code": code, "nom": name, "navettes": b }),
    ))
}

async fn commute_scenario(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(&req, &[])?;
    let body = read_body(payload).await?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadBody {
        field: "body".into(),
        message: format!("not JSON: {e}"),
    })?;
    let bad = |f: &str, m: &str| ApiError::BadBody {
        field: f.into(),
        message: m.into(),
    };
    let jobs = v
        .get("jobs")
        .ok_or_else(|| bad("jobs", "required"))?
        .as_u64()
        .filter(|&j| (1..=100_000).contains(&j))
        .ok_or_else(|| bad("jobs", "must be an integer in 1..=100000"))? as u32;
    let m = &state.model;
    let (x, y) = match (v.get("site_id"), v.get("point")) {
        (Some(id), None) => {
            let id = id
                .as_str()
                .ok_or_else(|| bad("site_id", "must be a string"))?;
            let s = m
                .sites
                .by_id(id)
                .ok_or_else(|| ApiError::NotFound(format!("no site `{id}`")))?;
            let c = s
                .shape
                .centroid()
                .ok_or_else(|| bad("site_id", "empty site"))?;
            (c.x, c.y)
        }
        (None, Some(pt)) => {
            let a = pt
                .as_array()
                .filter(|a| a.len() == 2)
                .and_then(|a| Some((a[0].as_f64()?, a[1].as_f64()?)))
                .ok_or_else(|| bad("point", "must be [lon, lat] (CRS84)"))?;
            crs::to_l93(Crs::Crs84, a.0, a.1).map_err(|e| bad("point", &e.to_string()))?
        }
        _ => return Err(bad("site_id", "give either `site_id` or `point`")),
    };
    let radius_km = match v.get("radius_km") {
        None => 30.0,
        Some(r) => r
            .as_f64()
            .filter(|r| (1.0..=150.0).contains(r))
            .ok_or_else(|| bad("radius_km", "must be a number in 1..=150"))?,
    };
    let take_up = match v.get("take_up") {
        None => 0.3,
        Some(t) => t
            .as_f64()
            .filter(|t| *t > 0.0 && *t <= 1.0)
            .ok_or_else(|| bad("take_up", "must be a number in (0, 1]"))?,
    };
    let r = commute::scenario(
        m,
        &state.metrics.commute,
        &Scenario {
            x,
            y,
            jobs,
            radius_km,
            take_up,
        },
    );
    Ok(ok(&r))
}

fn service_param(p: &Params) -> ApiResult<Option<String>> {
    Ok(p.list("service", codes::SERVICES)?.into_iter().next())
}

async fn tl_coverage(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(&req, &["radius_km", "service", "level"])?;
    let radius = p
        .f64("radius_km", 0.5, 100.0)?
        .unwrap_or(crate::metrics::DEFAULT_COVERAGE_KM);
    let service = service_param(&p)?;
    let level = p.get("level").unwrap_or("epci");
    if !["region", "epci", "commune"].contains(&level) {
        return Err(ApiError::param("level", "must be region, epci or commune"));
    }
    let recomputed;
    let cov = if service.is_none() && radius == state.metrics.coverage.radius_km {
        &state.metrics.coverage
    } else {
        recomputed = coverage::coverage(&state.model, radius, service.as_deref());
        &recomputed
    };
    let mut under: Vec<&coverage::CommuneCoverage> =
        cov.communes.iter().filter(|c| !c.couverte).collect();
    // Commune indices follow INSEE codes.
    under.sort_by(|a, b| {
        b.population
            .cmp(&a.population)
            .then(a.commune.cmp(&b.commune))
    });
    let epci: Vec<Value> = state
        .model
        .epci
        .iter()
        .map(|e| {
            let t = cov.epci.get(&e.record.epci_siren).cloned().unwrap_or_default();
            json!({ "epci_siren": e.record.epci_siren, "epci_nom": e.record.epci_nom, "classe": e.record.classe, "couverture": t })
        })
        .collect();
    let mut doc = json!({
        "rayon_km": radius,
        "service": service,
        "sites": cov.sites,
        "region": cov.region,
        "communes_mal_desservies": under.iter().take(50).map(|c| c.named(&state.model)).collect::<Vec<_>>(),
    });
    if level != "region" {
        doc["epci"] = json!(epci);
    }
    if level == "commune" {
        doc["communes"] = json!(cov
            .communes
            .iter()
            .map(|c| c.named(&state.model))
            .collect::<Vec<_>>());
    }
    Ok(ok(&doc))
}

async fn tl_suggest(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(&req, &["k", "radius_km", "service"])?;
    let k = p.int("k", 1, 50)?.unwrap_or(5) as usize;
    let radius = p
        .f64("radius_km", 0.5, 100.0)?
        .unwrap_or(crate::metrics::DEFAULT_COVERAGE_KM);
    let service = service_param(&p)?;
    let s = coverage::suggest(&state.model, k, radius, service.as_deref());
    Ok(ok(&json!({
        "k": k, "rayon_km": radius, "service": service,
        "methode": "Couverture maximale gloutonne : parmi les mairies, on retient tour à tour celle qui couvre le plus d'habitants non encore couverts.",
        "suggestions": s,
    })))
}

async fn premises_of(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(&req, &[])?;
    let (lvl, code) = path.into_inner();
    let (lv, name) = level(
        &state,
        &lvl,
        &code,
        &[Level::Commune, Level::Epci, Level::Region],
    )?;
    let mm = &state.metrics;
    let figures = match lv {
        Level::Commune => mm.premises_communes.get(&code).cloned().unwrap_or_default(),
        Level::Epci => mm.premises_epci.get(&code).cloned().unwrap_or_default(),
        Level::Region => crate::metrics::premises::Premises::total(mm.premises_epci.values()),
    };
    Ok(ok(
        &json!({ "niveau": lvl, "code": code, "nom": name, "locaux": figures }),
    ))
}

async fn indicators_all(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(&req, &["level", "format"])?;
    match p.get("level").unwrap_or("epci") {
        "epci" => {}
        other => {
            return Err(ApiError::param(
                "level",
                format!("`{other}` is not available: use epci"),
            ))
        }
    }
    match p.get("format").unwrap_or("json") {
        "json" => Ok(ok(&*state.metrics.indicators)),
        "csv" => Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"indicateurs-epci.csv\"",
            ))
            .body(indicators::to_csv(&state.metrics.indicators))),
        other => Err(ApiError::param(
            "format",
            format!("`{other}` is not json or csv"),
        )),
    }
}

async fn indicators_sheet(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    Params::parse(&req, &[])?;
    let siren = path.into_inner();
    let (_, name) = level(&state, "epci", &siren, &[Level::Epci])?;
    let mm = &state.metrics;
    let m = &state.model;
    let row = mm.indicators.iter().find(|r| r.epci_siren == siren);
    let rows = epci_land_take(m, &siren);
    let similar: Vec<Value> = indicators::similar(m, &mm.indicators, &siren, 5)
        .into_iter()
        .map(|(s, n, pop, d)| json!({ "epci_siren": s, "epci_nom": n, "population": pop, "distance_km": d }))
        .collect();
    Ok(ok(&json!({
        "epci_siren": siren,
        "epci_nom": name,
        "indicateurs": row,
        "occupation": mm.occupancy.of_epci(m, &siren).map(|o| o.rounded()),
        "zan": mm.zan_epci.get(&siren),
        "consommation_annuelle": land_take::yearly(rows.into_iter()),
        "navettes": mm.commute_epci.get(&siren),
        "couverture_tiers_lieux": mm.coverage.epci.get(&siren),
        "locaux_commerciaux": mm.premises_epci.get(&siren),
        "territoires_similaires": similar,
    })))
}

async fn compare(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(&req, &["epci", "format"])?;
    let list = p
        .get("epci")
        .ok_or_else(|| ApiError::param("epci", "required: SIREN codes, comma-separated"))?;
    let ids: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() || ids.len() > 20 {
        return Err(ApiError::param("epci", "give 1 to 20 SIREN codes"));
    }
    let mut rows = Vec::new();
    for id in &ids {
        let r = state
            .metrics
            .indicators
            .iter()
            .find(|r| r.epci_siren == *id)
            .ok_or_else(|| ApiError::param("epci", format!("no EPCI with SIREN `{id}`")))?;
        rows.push(r.clone());
    }
    if p.get("format") == Some("csv") {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                "attachment; filename=\"comparaison-epci.csv\"",
            ))
            .body(indicators::to_csv(&rows)));
    }
    if let Some(f) = p.get("format").filter(|f| *f != "json") {
        return Err(ApiError::param(
            "format",
            format!("`{f}` is not json or csv"),
        ));
    }
    Ok(ok(&json!({
        "epci": rows,
        "medianes": {
            "rural": indicators::medians(&state.metrics.indicators, TerritoryClass::Rural),
            "urbain": indicators::medians(&state.metrics.indicators, TerritoryClass::Urbain),
        },
    })))
}

async fn timeline_of(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::parse(&req, &["to"])?;
    let siren = path.into_inner();
    let (_, name) = level(&state, "epci", &siren, &[Level::Epci])?;
    let to = p
        .int("to", timeline::FIRST_YEAR as i64, 2100)?
        .map(|y| y as i32)
        .unwrap_or(2025);
    Ok(ok(&json!({
        "epci_siren": siren,
        "epci_nom": name,
        "annees": timeline::timeline(&state.model, &state.metrics.occupancy, &siren, to),
    })))
}
