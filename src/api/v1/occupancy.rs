//! Occupancy and the legal vacancy rate of a site, an EPCI or the region.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{territory, year, YEAR};
use crate::api::http::ok;
use crate::api::query::Params;
use crate::api::{ApiError, ApiResult, AppState};
use crate::metrics::occupancy::OccupancyIndex;
use crate::metrics::territory::Level;

pub(super) async fn site_occupancy(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &[&YEAR])?;
    let year = year(&p, &state);
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

pub(super) async fn territory_occupancy(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &[&YEAR])?;
    let year = year(&p, &state);
    let (level, code) = path.into_inner();
    let t = territory(&state, &level, &code, &Level::WIDE)?;
    let recomputed;
    let idx = if year == state.metrics.year {
        &state.metrics.occupancy
    } else {
        recomputed = OccupancyIndex::compute(&state.model, year);
        &recomputed
    };
    let occ = if t.level == Level::Country {
        idx.region.clone()
    } else if let Some(r) = t.region() {
        idx.of_region(&state.model, r)
    } else {
        idx.of_epci(&state.model, &t.code)
            .cloned()
            .unwrap_or_default()
    };
    Ok(ok(&json!({
        "niveau": t.level.as_str(), "code": t.code, "nom": t.name, "annee_reference": year,
        "uf_nbre": occ.uf_nbre,
        "uf_vacant_nbre": occ.uf_vacant_nbre,
        "taux_vacance": occ.taux_vacance(),
        "taux_occupation_pct": (occ.taux_occupation() * 1000.0).round() / 10.0,
        "occupation": occ.rounded(),
    })))
}
