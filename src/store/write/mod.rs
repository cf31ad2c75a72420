//! Writes: each one a PostGIS transaction (row locked, version checked against the
//! client's `If-Match`, rules validated, row written, audit row, `NOTIFY`), then a new
//! read-model snapshot published. Tokens and roles are in [`tokens`], the rules a feature
//! follows in [`rules`], the audit trail in [`history`].

mod history;
mod rules;
mod tokens;

use history::audit_json;
use rules::{invalid, off_list, validate};
pub use rules::{merge_patch, Editable};
pub use tokens::{create_token, Principal, Role};

use std::sync::Mutex;

use deadpool_postgres::Pool;
use geo::Geometry;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::copy::{columns, Column};
use super::{StoreError, StoreResult};
use crate::model::{Feature, Record};
use crate::read_model::{Change, ReadModel};

/// Why a write did not happen. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("a bearer token is required (Authorization: Bearer …)")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("If-Match is required: send the feature's ETag to avoid overwriting a newer version")]
    PreconditionRequired,
    #[error("the feature changed since this ETag: its version is now {current}; read it again")]
    Stale { current: i64 },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("the database is unavailable ({0}); reads go on from memory, retry the write later")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tokio_postgres::Error> for WriteError {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error() {
            let code = db.code().code();
            if code.starts_with("23") {
                return WriteError::Invalid {
                    field: db.column().unwrap_or("feature").to_string(),
                    message: db.message().to_string(),
                };
            }
            if code.starts_with("08") || code.starts_with("57") {
                return WriteError::Unavailable(db.message().to_string());
            }
            return WriteError::Internal(db.message().to_string());
        }
        WriteError::Unavailable(e.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for WriteError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        WriteError::Unavailable(e.to_string())
    }
}

impl From<StoreError> for WriteError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => e.into(),
            StoreError::Pool(m) | StoreError::Config(m) => WriteError::Unavailable(m),
            other => WriteError::Internal(other.to_string()),
        }
    }
}

pub type WriteResult<T> = Result<T, WriteError>;

/// The writer of one server: a connection pool, the tokens already verified and the
/// columns of the tables it writes (read once: the schema changes only by a migration,
/// which a restart follows).
pub struct Writer {
    pool: Pool,
    verified: Mutex<FxHashMap<String, Principal>>,
    columns: Mutex<FxHashMap<&'static str, Vec<Column>>>,
}

/// A feature at an earlier instant.
#[derive(Clone, Debug, PartialEq)]
pub enum AsOf {
    /// Unchanged since.
    Current,
    /// Its audited state then (`None`: it did not exist yet, or had been deleted).
    Was(Option<Value>),
}

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

/// `props` with the geometry as hex EWKB under `geom`, for `jsonb_populate_record`.
fn row_json(props: &Map<String, Value>, g: &Geometry<f64>) -> WriteResult<String> {
    use geozero::{CoordDimensions, ToWkb};
    let wkb = g
        .to_ewkb(CoordDimensions::xy(), Some(super::SRID))
        .map_err(|e| invalid("geometry", e.to_string()))?;
    let hex: String = wkb.iter().map(|b| format!("{b:02x}")).collect();
    let mut m = props.clone();
    m.insert("geom".into(), Value::String(hex));
    Ok(Value::Object(m).to_string())
}

fn record_props<R: Record>(r: &R) -> WriteResult<Map<String, Value>> {
    match serde_json::to_value(r) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(WriteError::Internal("record is not an object".into())),
    }
}

/// What a committed write left: the change to publish and the feature's new version.
#[derive(Clone, Debug)]
pub struct Written<R> {
    pub change: Change<R>,
    pub version: i64,
}

impl Writer {
    pub fn new(url: &str) -> StoreResult<Writer> {
        Ok(Writer {
            pool: super::pool(url, 8)?,
            verified: Mutex::new(FxHashMap::default()),
            columns: Mutex::new(FxHashMap::default()),
        })
    }

    /// The columns of `table`, from `information_schema` the first time.
    async fn columns_of(
        &self,
        client: &deadpool_postgres::Object,
        table: &'static str,
    ) -> WriteResult<Vec<Column>> {
        if let Some(c) = self
            .columns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(table)
        {
            return Ok(c.clone());
        }
        let c = columns(&***client, table).await?;
        self.columns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(table, c.clone());
        Ok(c)
    }

    /// Applies `op` in one transaction. `if_match` is the client's ETag (a version),
    /// required for everything but a creation.
    pub async fn write<R: Editable>(
        &self,
        model: &ReadModel,
        who: &Principal,
        op: Op<R>,
        if_match: Option<i64>,
    ) -> WriteResult<Written<R>> {
        let mut client = self.pool.get().await?;
        let cols: Vec<Column> = self.columns_of(&client, R::TABLE).await?;
        let props_cols: Vec<String> = cols
            .iter()
            .filter(|c| c.udt != "geometry")
            .map(|c| format!("t.{}", c.quoted()))
            .collect();
        let all_cols: Vec<String> = cols.iter().map(Column::quoted).collect();
        let tx = client.transaction().await?;
        let id = match &op {
            Op::Create(f) | Op::Replace(f) => f.record.id().to_string(),
            Op::Patch { id, .. } | Op::Delete(id) => id.clone(),
        };
        let action = match &op {
            Op::Create(_) => "create",
            Op::Replace(_) => "replace",
            Op::Patch { .. } => "update",
            Op::Delete(_) => "delete",
        };
        // Statements are prepared once per connection (each string is fixed per table):
        // a write costs one round trip per statement, not two.
        let select = tx
            .prepare_cached(&format!(
                "SELECT to_jsonb(r)::text, t.geom, t.version FROM {table} t, \
                 LATERAL (SELECT {props}) r WHERE t.{key} = $1 FOR UPDATE OF t",
                table = R::TABLE,
                props = props_cols.join(", "),
                key = R::KEY
            ))
            .await?;
        let current = tx.query_opt(&select, &[&id]).await?;
        let before: Option<(Map<String, Value>, Geometry<f64>, i64)> = match current {
            Some(row) => {
                let json: &str = row.get(0);
                let props: Map<String, Value> =
                    serde_json::from_str(json).map_err(|e| WriteError::Internal(e.to_string()))?;
                let g: geozero::wkb::Decode<Geometry<f64>> = row.get(1);
                let g = g
                    .geometry
                    .ok_or_else(|| WriteError::Internal("row without geometry".into()))?;
                Some((props, g, row.get(2)))
            }
            None => None,
        };
        // Existence, then the version the client saw.
        match (&op, &before) {
            (Op::Create(_), Some(_)) => {
                return Err(WriteError::Conflict(format!(
                    "feature `{id}` exists already: replace it (PUT) with its ETag"
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
                Some(v) if v != *version => return Err(WriteError::Stale { current: *version }),
                Some(_) => {}
            },
        }
        // The old feature's EPCI must be the writer's.
        if let Some((props, _, _)) = &before {
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
                let (props, g, _) = before.clone().expect("checked above");
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
            let placed_anew = match &before {
                None => true,
                Some((old_props, old_geometry, _)) => {
                    let old: Option<R> =
                        serde_json::from_value(Value::Object(old_props.clone())).ok();
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
                .as_ref()
                .map(|(old, _, _)| {
                    off_list(old)
                        .into_iter()
                        .filter(|c| old.get(c) == props.get(c))
                        .collect()
                })
                .unwrap_or_default();
            let lists = crate::model::checks::CodeLists::Keep;
            if let Err(reason) =
                crate::model::checks::problem(R::TABLE, &mut props, Some(&f.geometry), lists)
            {
                let (field, message) = reason.split_once(": ").unwrap_or(("properties", &reason));
                return Err(invalid(field, message));
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
        // Write, audit, notify.
        let cols_sql = all_cols.join(", ");
        let (version, after) = match (&new, &before) {
            (Some(f), None) => {
                let props = record_props(&f.record)?;
                let insert = tx
                    .prepare_cached(&format!(
                        "INSERT INTO {table} ({cols_sql}) SELECT {cols_sql} \
                         FROM jsonb_populate_record(NULL::{table}, $1::text::jsonb) \
                         RETURNING version",
                        table = R::TABLE
                    ))
                    .await?;
                let row = tx
                    .query_one(&insert, &[&row_json(&props, &f.geometry)?])
                    .await?;
                (row.get::<_, i64>(0), Some(audit_json(&props, &f.geometry)))
            }
            (Some(f), Some(_)) => {
                let props = record_props(&f.record)?;
                let update = tx
                    .prepare_cached(&format!(
                        "UPDATE {table} t SET ({cols_sql}) = (SELECT {cols_sql} \
                         FROM jsonb_populate_record(NULL::{table}, $1::text::jsonb)), \
                         version = t.version + 1 WHERE t.{key} = $2 RETURNING version",
                        table = R::TABLE,
                        key = R::KEY
                    ))
                    .await?;
                let row = tx
                    .query_one(&update, &[&row_json(&props, &f.geometry)?, &id])
                    .await?;
                (row.get::<_, i64>(0), Some(audit_json(&props, &f.geometry)))
            }
            (None, Some((_, _, v))) => {
                let delete = tx
                    .prepare_cached(&format!("DELETE FROM {} WHERE {} = $1", R::TABLE, R::KEY))
                    .await?;
                tx.execute(&delete, &[&id]).await?;
                (*v + 1, None)
            }
            (None, None) => unreachable!("a delete of a missing feature returned above"),
        };
        let before_json = before.as_ref().map(|(p, g, _)| audit_json(p, g));
        // The audit row and the notification to the other replicas, in one statement.
        let audit = tx
            .prepare_cached(
                "WITH audit AS (
                   INSERT INTO historique (collection, feature_id, action, jeton_id, avant, apres)
                   VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb) RETURNING 1)
                 SELECT pg_notify('ecofoncier', $7) FROM audit",
            )
            .await?;
        tx.execute(
            &audit,
            &[
                &R::COLLECTION,
                &id,
                &action,
                &who.token_id,
                &before_json,
                &after,
                &format!("{}/{id}/{version}", R::COLLECTION),
            ],
        )
        .await?;
        tx.commit().await?;
        let change = match new {
            Some(f) => Change::Upsert(f),
            None => Change::Remove(id),
        };
        Ok(Written { change, version })
    }
}
