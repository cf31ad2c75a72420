//! The rules a written feature must follow beyond the schema's: the writer's EPCI, a valid
//! geometry inside its EPCI (a plot inside its site, sites apart), the merge patch of the
//! properties, and the code lists. Pure functions of the read model: no database.

use geo::{Area, BooleanOps, BoundingRect, Centroid, Contains, Geometry, Validation};
use serde_json::{Map, Value};

use super::{WriteError, WriteResult};
use crate::model::{Etablissement, LocalCommercial, Site, Terrain, TiersLieu};
use crate::publish::Tracked;
use crate::read_model::ReadModel;
use crate::store::Stored;

/// RFC 7396: `patch` applied to `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let t = target.as_object_mut().expect("an object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// A record the API edits: its EPCI and its own rules.
pub trait Editable: Stored + Tracked {
    /// The EPCI the feature belongs to, as the rights see it.
    fn epci(&self, model: &ReadModel) -> Option<crate::model::Str>;
    /// Where else the feature is placed, for the rules of [`Editable::check`] (a plot's
    /// site).
    fn placement(&self) -> Option<crate::model::Str> {
        None
    }
    /// The rules beyond the schema's: inside the EPCI, a plot inside its site, sites not
    /// overlapping (checked against the current read model).
    fn check(&self, geometry: &Geometry<f64>, model: &ReadModel) -> WriteResult<()> {
        inside_epci(self.epci(model).as_deref(), geometry, model)
    }
}

pub(super) fn invalid(field: &str, message: impl Into<String>) -> WriteError {
    WriteError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Share of `g`'s area inside `area` (1 for points inside).
fn share_inside(g: &Geometry<f64>, area: &Geometry<f64>) -> f64 {
    let as_mp = |g: &Geometry<f64>| match g {
        Geometry::Polygon(p) => Some(geo::MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(m) => Some(m.clone()),
        _ => None,
    };
    match (as_mp(g), as_mp(area)) {
        (Some(a), Some(b)) => {
            let total = a.unsigned_area();
            if total <= 0.0 {
                return 0.0;
            }
            a.intersection(&b).unsigned_area() / total
        }
        _ => match (g.centroid(), area) {
            (Some(c), Geometry::Polygon(p)) => p.contains(&c) as u8 as f64,
            (Some(c), Geometry::MultiPolygon(m)) => m.contains(&c) as u8 as f64,
            _ => 0.0,
        },
    }
}

fn inside_epci(epci: Option<&str>, g: &Geometry<f64>, model: &ReadModel) -> WriteResult<()> {
    let Some(e) = epci.and_then(|e| model.epci.by_id(e)) else {
        return Err(invalid("epci_siren", "unknown EPCI"));
    };
    if share_inside(g, &e.geometry()) < 0.99 {
        return Err(invalid(
            "geometry",
            format!("outside the territory of EPCI {}", e.record.epci_siren),
        ));
    }
    Ok(())
}

impl Editable for Site {
    fn epci(&self, _: &ReadModel) -> Option<crate::model::Str> {
        Some(self.site_epci_siren)
    }
    fn check(&self, g: &Geometry<f64>, model: &ReadModel) -> WriteResult<()> {
        inside_epci(Some(&self.site_epci_siren), g, model)?;
        let Some(env) = crate::read_model::layer::envelope_of(g) else {
            return Err(invalid("geometry", "empty"));
        };
        let mine = share_mp(g);
        for i in model.sites.in_envelope(&env) {
            let other = model.sites.get(i);
            if other.record.site_id == self.site_id {
                continue;
            }
            if let (Some(a), Some(b)) = (&mine, share_mp(&other.geometry())) {
                let overlap = a.intersection(&b).unsigned_area();
                if overlap > 1.0 {
                    return Err(WriteError::Conflict(format!(
                        "the site overlaps site {} over {overlap:.0} m²",
                        other.record.site_id
                    )));
                }
            }
        }
        Ok(())
    }
}

fn share_mp(g: &Geometry<f64>) -> Option<geo::MultiPolygon<f64>> {
    match g {
        Geometry::Polygon(p) => Some(geo::MultiPolygon(vec![p.clone()])),
        Geometry::MultiPolygon(m) => Some(m.clone()),
        _ => None,
    }
}

impl Editable for Terrain {
    fn placement(&self) -> Option<crate::model::Str> {
        self.site_id
    }
    fn epci(&self, model: &ReadModel) -> Option<crate::model::Str> {
        let site = model.sites.by_id(self.site_id.as_deref()?)?;
        Some(site.record.site_epci_siren)
    }
    fn check(&self, g: &Geometry<f64>, model: &ReadModel) -> WriteResult<()> {
        let Some(site) = self.site_id.as_deref().and_then(|s| model.sites.by_id(s)) else {
            return Err(invalid("site_id", "names no known site"));
        };
        if share_inside(g, &site.geometry()) < 0.99 {
            return Err(invalid(
                "geometry",
                format!("the plot is not inside its site {}", site.record.site_id),
            ));
        }
        inside_epci(self.epci(model).as_deref(), g, model)
    }
}

impl Editable for Etablissement {
    fn epci(&self, _: &ReadModel) -> Option<crate::model::Str> {
        Some(self.epci_siren)
    }
}

impl Editable for LocalCommercial {
    fn epci(&self, _: &ReadModel) -> Option<crate::model::Str> {
        Some(self.epci_siren)
    }
}

impl Editable for TiersLieu {
    fn epci(&self, _: &ReadModel) -> Option<crate::model::Str> {
        Some(self.epci_siren)
    }
}

/// The fields a row names in `champs_hors_liste`.
pub(super) fn off_list(props: &Map<String, Value>) -> Vec<String> {
    props
        .get("champs_hors_liste")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A geometry the standard accepts: not empty, valid (OGC rules).
pub(super) fn validate(g: &Geometry<f64>) -> WriteResult<()> {
    if g.bounding_rect().is_none() {
        return Err(invalid("geometry", "empty"));
    }
    if let Err(e) = g.check_validation() {
        return Err(invalid("geometry", format!("invalid: {e}")));
    }
    Ok(())
}
