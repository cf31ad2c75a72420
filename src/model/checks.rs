//! Checks a row must pass to enter the inventory, shared by the file readers, the imports
//! and the writes: the standard's code lists and a non-empty geometry.

use geo::Geometry;
use serde::Serialize;

use super::codes;

/// A row that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

/// Why a row breaks a rule: the field at fault and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    fn new(field: &str, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Code-list columns checked before import: (table, column, list).
const CODE_COLUMNS: &[(&str, &str, &[&str])] = &[
    ("site_eco", "site_type", codes::SITE_TYPE),
    ("site_eco", "site_etat", codes::SITE_ETAT),
    ("site_eco", "site_vocadomi", codes::SITE_VOCADOMI),
    ("site_eco", "site_moa_type", codes::SITE_MOA_TYPE),
    ("terrain_eco", "terr_etat_occup", codes::TERR_ETAT_OCCUP),
    ("terrain_eco", "terr_stade_comm", codes::TERR_STADE_COMM),
    ("terrain_eco", "terr_stade_amngt", codes::TERR_STADE_AMNGT),
    ("terrain_eco", "terr_usage", codes::TERR_USAGE),
];

/// What an import does with a value outside the standard's code lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeLists {
    /// The row is rejected (the project's own data, which must be clean).
    Enforce,
    /// The value is kept as the producer wrote it, the field is named in the row's
    /// `champs_hors_liste` and the import report says so (a producer's inventory file:
    /// nothing it holds is lost).
    Keep,
}

/// Why a row breaks the rules the schema enforces, if it does; with [`CodeLists::Keep`],
/// the fields whose value is outside its code list are added to `champs_hors_liste` and
/// listed in the returned remarks instead.
pub fn problem(
    table: &str,
    props: &mut serde_json::Map<String, serde_json::Value>,
    geometry: Option<&Geometry<f64>>,
    lists: CodeLists,
) -> Result<Vec<String>, FieldProblem> {
    let mut off_list = Vec::new();
    let mut remarks = Vec::new();
    for &(t, column, list) in CODE_COLUMNS {
        if t != table {
            continue;
        }
        match props.get(column).and_then(|v| v.as_str()) {
            Some(v) if codes::in_list(list, v) => {}
            Some(v) if lists == CodeLists::Keep => {
                remarks.push(format!(
                    "{column}: « {v} » is not in the CNIG code list, kept"
                ));
                off_list.push(serde_json::Value::String(column.to_string()));
            }
            Some(v) => {
                return Err(FieldProblem::new(
                    column,
                    format!("« {v} » is not in the CNIG code list"),
                ))
            }
            None => return Err(FieldProblem::new(column, "missing")),
        }
    }
    if !off_list.is_empty() {
        props.insert(
            "champs_hors_liste".into(),
            serde_json::Value::Array(off_list),
        );
    } else if lists == CodeLists::Keep {
        props.remove("champs_hors_liste");
    }
    if let Some(g) = geometry {
        use geo::BoundingRect;
        if g.bounding_rect().is_none() {
            return Err(FieldProblem::new("geometry", "empty"));
        }
    }
    Ok(remarks)
}
