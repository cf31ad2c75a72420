//! The rules a written feature must follow beyond the schema's: the writer's EPCI, a valid
//! geometry inside its EPCI (a plot inside its site, sites apart), the merge patch of the
//! properties, and the code lists. Pure functions of the read model: no database.

use geo::{Area, BooleanOps, BoundingRect, Centroid, Contains, Geometry, Validation};
use serde_json::{Map, Value};

use super::error::{WriteError, WriteResult};
use super::Principal;
use crate::model::checks::{problem, CodeLists};
use crate::model::{Etablissement, Feature, LocalCommercial, Record, Site, Terrain, TiersLieu};
use crate::publish::Tracked;
use crate::read_model::ReadModel;
use crate::store::Stored;

/// A write to one feature.
#[derive(Clone, Debug)]
pub enum Op<R> {
    Create(Feature<R>),
    Replace(Feature<R>),
    /// A JSON Merge Patch (RFC 7396) of the properties, and a new geometry if given.
    Patch {
        id: String,
        properties: Value,
        geometry: Option<Geometry<f64>>,
    },
    Delete(String),
}

/// The client's `If-Match` (RFC 9110 §13.1.1), as the rules compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current feature.
    Any,
    /// Entity tags: the feature's current version must be one of these (strong comparison:
    /// weak tags and tags that are no version of this service match nothing, and are left out).
    Versions(Vec<i64>),
}

/// A stored feature as the transaction read it (locked): its properties, geometry and
/// version.
pub type Before = (Map<String, Value>, Geometry<f64>, i64);

/// The feature `op` leaves (`None` for a delete), once every rule is checked against what
/// the store holds (`before`) and the current read model: the feature exists (or not, for a
/// creation); the client saw its current version (`if_match`); the writer may edit the old
/// and the new feature's EPCI; a merge patch keeps the identifier; the geometry rules hold
/// for a geometry written or a feature moved to another site or EPCI; a value outside a code
/// list is refused unless the stored row already held it.
pub fn decide<R: Editable>(
    model: &ReadModel,
    who: &Principal,
    op: Op<R>,
    before: Option<&Before>,
    if_match: Option<&Precondition>,
) -> WriteResult<Option<Feature<R>>> {
    let id = match &op {
        Op::Create(f) | Op::Replace(f) => f.record.id().to_string(),
        Op::Patch { id, .. } | Op::Delete(id) => id.clone(),
    };
    // Existence, then the version the client saw.
    match (&op, before) {
        (Op::Create(_), Some(_)) => {
            return Err(WriteError::Conflict(format!(
                "feature `{id}` exists already: replace it (PUT) with its ETag"
            )))
        }
        // `If-Match` on a creation: there is no current feature for it to match.
        (Op::Create(_), None) if if_match.is_some() => {
            return Err(WriteError::NoneMatched(format!(
                "If-Match names a current feature, and `{id}` does not exist yet"
            )))
        }
        (Op::Create(_), None) => {}
        (_, None) => {
            return Err(WriteError::NotFound(format!(
                "no feature `{id}` in collection `{}`",
                R::COLLECTION
            )))
        }
        (_, Some((_, _, version))) => match if_match {
            None => return Err(WriteError::PreconditionRequired),
            Some(Precondition::Any) => {}
            Some(Precondition::Versions(v)) if v.contains(version) => {}
            Some(Precondition::Versions(_)) => return Err(WriteError::Stale { current: *version }),
        },
    }
    // The old feature's EPCI must be the writer's.
    if let Some((props, _, _)) = before {
        let old: R = serde_json::from_value(Value::Object(props.clone()))
            .map_err(|e| WriteError::Internal(e.to_string()))?;
        let epci = old.epci(model);
        if !who.may_edit(epci.as_deref()) {
            return Err(WriteError::Forbidden(format!(
                "this token may not change features of EPCI {}",
                epci.unwrap_or_else(|| "unknown".into())
            )));
        }
    }
    // The new feature.
    let new: Option<Feature<R>> = match op {
        Op::Create(f) | Op::Replace(f) => Some(f),
        Op::Patch {
            properties,
            geometry,
            ..
        } => {
            let (props, g, _) = before.cloned().expect("checked above");
            let mut merged = Value::Object(props);
            merge_patch(&mut merged, &properties);
            let record: R = serde_json::from_value(merged)
                .map_err(|e| invalid("properties", format!("after the merge patch: {e}")))?;
            if record.id() != id {
                return Err(invalid("properties", "the identifier cannot change"));
            }
            Some(Feature {
                geometry: geometry.unwrap_or(g),
                record,
            })
        }
        Op::Delete(_) => None,
    };
    let mut new = new;
    if let Some(f) = &mut new {
        let epci = f.record.epci(model);
        if !who.may_edit(epci.as_deref()) {
            return Err(WriteError::Forbidden(format!(
                "this token may not write features of EPCI {}",
                epci.unwrap_or_else(|| "unknown".into())
            )));
        }
        // The geometry rules apply to a geometry being written, or to a feature moved to
        // another site or EPCI: what the dataset holds stays editable.
        let placed_anew = match before {
            None => true,
            Some((old_props, old_geometry, _)) => {
                let old: Option<R> = serde_json::from_value(Value::Object(old_props.clone())).ok();
                *old_geometry != f.geometry
                    || old.is_none_or(|o| {
                        o.epci(model) != epci || o.placement() != f.record.placement()
                    })
            }
        };
        if placed_anew {
            validate(&f.geometry)?;
        }
        // Code lists: a value outside its list is refused, unless the stored row already
        // held that very value off-list (an imported inventory); the server, not the
        // client, says which fields those are.
        let mut props = record_props(&f.record)?;
        let kept: Vec<String> = before
            .map(|(old, _, _)| {
                off_list(old)
                    .into_iter()
                    .filter(|c| old.get(c) == props.get(c))
                    .collect()
            })
            .unwrap_or_default();
        let lists = CodeLists::Keep;
        if let Err(p) = problem(R::TABLE, &mut props, Some(&f.geometry), lists) {
            return Err(invalid(&p.field, p.message));
        }
        if let Some(c) = off_list(&props).into_iter().find(|c| !kept.contains(c)) {
            let v = props.get(&c).cloned().unwrap_or(Value::Null);
            return Err(invalid(&c, format!("{v} is not in the CNIG code list")));
        }
        f.record = serde_json::from_value(Value::Object(props))
            .map_err(|e| invalid("properties", e.to_string()))?;
        if placed_anew {
            f.record.check(&f.geometry, model)?;
        }
    }
    Ok(new)
}

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

/// A record's properties as a JSON object.
pub(super) fn record_props<R: Record>(r: &R) -> WriteResult<Map<String, Value>> {
    match serde_json::to_value(r) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(WriteError::Internal("record is not an object".into())),
    }
}

#[cfg(test)]
mod tests {
    //! The rules without PostgreSQL: the embedded read model and features built here.

    use std::sync::OnceLock;

    use geo::{Geometry, Point};
    use serde_json::{json, Map, Value};

    use super::{decide, merge_patch, Before, Op, Precondition};

    /// `If-Match: "3"`.
    fn v3() -> Precondition {
        Precondition::Versions(vec![3])
    }
    use crate::model::{Feature, Record, Terrain};
    use crate::read_model::ReadModel;
    use crate::store::write::{Principal, Role, WriteError};

    fn model() -> &'static ReadModel {
        static M: OnceLock<ReadModel> = OnceLock::new();
        M.get_or_init(|| {
            let dir = crate::source::embedded::default_data_dir();
            let data = crate::source::EmbeddedSource::new(dir).load_sync().unwrap();
            ReadModel::build(data).unwrap()
        })
    }

    /// The first plot of the model, as the store would hold it at version 3.
    fn stored_plot() -> (Terrain, Before) {
        let m = model();
        let t = m.terrains.get(0);
        let record: Terrain = t.record.clone();
        let Value::Object(props) = serde_json::to_value(&record).unwrap() else {
            unreachable!()
        };
        (record, (props, t.geometry(), 3))
    }

    fn editor_of(plot: &Terrain) -> Principal {
        let epci = <Terrain as super::Editable>::epci(plot, model()).unwrap();
        Principal {
            token_id: 1,
            role: Role::Editor(epci.to_string()),
        }
    }

    fn patch(id: &str, properties: Value) -> Op<Terrain> {
        Op::Patch {
            id: id.to_string(),
            properties,
            geometry: None,
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut v = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut v, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(v, json!({"a": "z", "c": {"d": "e"}}));
        merge_patch(&mut v, &json!(["x"]));
        assert_eq!(v, json!(["x"]));
    }

    #[test]
    fn versions_and_existence() {
        let (plot, before) = stored_plot();
        let who = editor_of(&plot);
        let id = plot.id().to_string();
        let m = model();
        let op = || patch(&id, json!({"terr_etat_occup": "occupé"}));
        assert!(matches!(
            decide(m, &who, op(), Some(&before), None),
            Err(WriteError::PreconditionRequired)
        ));
        assert!(matches!(
            decide(
                m,
                &who,
                op(),
                Some(&before),
                Some(&Precondition::Versions(vec![2]))
            ),
            Err(WriteError::Stale { current: 3 })
        ));
        assert!(matches!(
            decide(m, &who, op(), None, Some(&v3())),
            Err(WriteError::NotFound(_))
        ));
        let create: Op<Terrain> = Op::Create(Feature {
            geometry: before.1.clone(),
            record: plot.clone(),
        });
        assert!(matches!(
            decide(m, &who, create, Some(&before), None),
            Err(WriteError::Conflict(_))
        ));
        // `*` matches any current feature; tags that name no version match nothing.
        assert!(decide(m, &who, op(), Some(&before), Some(&Precondition::Any)).is_ok());
        assert!(matches!(
            decide(
                m,
                &who,
                op(),
                Some(&before),
                Some(&Precondition::Versions(vec![]))
            ),
            Err(WriteError::Stale { current: 3 })
        ));
        assert!(matches!(
            decide(
                m,
                &who,
                op(),
                Some(&before),
                Some(&Precondition::Versions(vec![1, 3]))
            ),
            Ok(Some(_))
        ));
        let create: Op<Terrain> = Op::Create(Feature {
            geometry: before.1.clone(),
            record: plot.clone(),
        });
        assert!(matches!(
            decide(m, &who, create, None, Some(&Precondition::Any)),
            Err(WriteError::NoneMatched(_))
        ));
        let new = decide(m, &who, op(), Some(&before), Some(&v3()))
            .unwrap()
            .unwrap();
        assert_eq!(new.record.terr_etat_occup.as_str(), "occupé");
        assert_eq!(new.geometry, before.1);
    }

    #[test]
    fn rights_identifier_and_code_lists() {
        let (plot, before) = stored_plot();
        let id = plot.id().to_string();
        let m = model();
        let stranger = Principal {
            token_id: 2,
            role: Role::Editor("000000000".into()),
        };
        let op = patch(&id, json!({"terr_etat_occup": "occupé"}));
        assert!(matches!(
            decide(m, &stranger, op, Some(&before), Some(&v3())),
            Err(WriteError::Forbidden(_))
        ));
        let who = editor_of(&plot);
        let field = |r: Result<_, WriteError>| match r {
            Err(WriteError::Invalid { field, .. }) => field,
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted"),
        };
        let renamed = patch(&id, json!({"terr_id": "autre"}));
        assert_eq!(
            field(decide(m, &who, renamed, Some(&before), Some(&v3()))),
            "properties"
        );
        let off = patch(&id, json!({"terr_etat_occup": "en friche"}));
        assert_eq!(
            field(decide(m, &who, off, Some(&before), Some(&v3()))),
            "terr_etat_occup"
        );
        // A stored value outside its list stays editable while it is not changed.
        let (_, (mut props, g, v)) = stored_plot();
        props.insert("terr_usage".into(), json!("hors liste"));
        props.insert("champs_hors_liste".into(), json!(["terr_usage"]));
        let kept: Before = (props, g, v);
        let op = patch(&id, json!({"terr_etat_occup": "occupé"}));
        assert!(decide(m, &who, op, Some(&kept), Some(&v3())).is_ok());
    }

    #[test]
    fn geometry_rules_apply_to_a_moved_plot() {
        let (plot, before) = stored_plot();
        let id = plot.id().to_string();
        let who = editor_of(&plot);
        let far: Op<Terrain> = Op::Patch {
            id: id.clone(),
            properties: Value::Object(Map::new()),
            geometry: Some(Geometry::Point(Point::new(0.0, 0.0))),
        };
        let r = decide(model(), &who, far, Some(&before), Some(&v3()));
        assert!(matches!(r, Err(WriteError::Invalid { field, .. }) if field == "geometry"));
    }
}
