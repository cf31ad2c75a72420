//! Writes: each one a PostGIS transaction (row locked, version checked against the
//! client's `If-Match`, rules validated, row written, audit row, `NOTIFY`), then a new
//! read-model snapshot published. Tokens and roles are in [`tokens`], the rules a feature
//! follows in [`rules`], the audit trail in [`history`].

/// The collections the editing API writes, in one place: `editable!(c, R => body, other =>
/// fallback)` runs `body` with `R` the record type of collection `c` (a
/// [`crate::model::Record::COLLECTION`]), or `fallback` with `other` bound to `c`.
#[macro_export]
macro_rules! editable {
    ($c:expr, $R:ident => $body:expr, $other:ident => $fallback:expr) => {{
        use $crate::model::Record as _;
        match $c {
            c if c == $crate::model::Site::COLLECTION => {
                type $R = $crate::model::Site;
                $body
            }
            c if c == $crate::model::Terrain::COLLECTION => {
                type $R = $crate::model::Terrain;
                $body
            }
            c if c == $crate::model::Etablissement::COLLECTION => {
                type $R = $crate::model::Etablissement;
                $body
            }
            c if c == $crate::model::LocalCommercial::COLLECTION => {
                type $R = $crate::model::LocalCommercial;
                $body
            }
            c if c == $crate::model::TiersLieu::COLLECTION => {
                type $R = $crate::model::TiersLieu;
                $body
            }
            $other => $fallback,
        }
    }};
}

pub mod error;
pub mod history;
pub mod rules;
pub mod tokens;

pub use error::{WriteError, WriteResult};
use history::audit_json;
pub use history::AsOf;
pub use rules::{decide, merge_patch, Before, Editable, Op, Precondition};
use rules::{invalid, record_props};
use tokens::Tokens;
pub use tokens::{create_token, Principal, Role};

use std::sync::Mutex;

use deadpool_postgres::Pool;
use geo::Geometry;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::copy::{columns, Column};
use super::StoreResult;
use crate::read_model::{Change, ReadModel};

/// The writer of one server: a connection pool, the tokens already verified and the
/// columns of the tables it writes (read once: the schema changes only by a migration,
/// which a restart follows).
pub struct Writer {
    pool: Pool,
    tokens: Tokens,
    columns: Mutex<FxHashMap<&'static str, Vec<Column>>>,
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

/// What a committed write left: the change to publish, the feature's new version and the
/// audit row that records it.
#[derive(Clone, Debug)]
pub struct Written<R> {
    pub change: Change<R>,
    pub version: i64,
    pub audit: i64,
}

impl Writer {
    pub fn new(url: &str) -> StoreResult<Writer> {
        Ok(Writer {
            pool: super::pool(url, 8)?,
            tokens: Tokens::default(),
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
        if_match: Option<&Precondition>,
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
        let new = rules::decide(model, who, op, before.as_ref(), if_match)?;
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
        // The audit row and the notification to the other replicas, in one statement:
        // `collection/id/version/µs/audit` (see `store::follow`).
        let audit = tx
            .prepare_cached(
                "WITH audit AS (
                   INSERT INTO historique (collection, feature_id, action, jeton_id, avant, apres)
                   VALUES ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb) RETURNING id, le)
                 SELECT id, pg_notify('ecofoncier',
                   $7 || '/' || (extract(epoch FROM le) * 1000000)::bigint || '/' || id)
                 FROM audit",
            )
            .await?;
        let audit: i64 = tx
            .query_one(
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
            .await?
            .get(0);
        tx.commit().await?;
        let change = match new {
            Some(f) => Change::Upsert(f),
            None => Change::Remove(id),
        };
        Ok(Written {
            change,
            version,
            audit,
        })
    }

    /// Whether PostGIS answers (a connection and `SELECT 1`), for the readiness endpoint.
    pub async fn ping(&self) -> WriteResult<()> {
        let client = self.pool.get().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }

    /// The principal of bearer token `token`.
    pub async fn authenticate(&self, token: &str) -> WriteResult<Principal> {
        self.tokens.authenticate(&self.pool, token).await
    }

    /// A feature as it was at instant `at` (RFC 3339): see [`history::state_at`].
    pub async fn state_at(
        &self,
        collection: &str,
        table: &str,
        id: &str,
        at: &str,
    ) -> WriteResult<AsOf> {
        history::state_at(&self.pool, collection, table, id, at).await
    }

    /// The audit rows of one feature, oldest first: see [`history::history`].
    pub async fn history(&self, collection: &str, id: &str) -> WriteResult<Vec<Value>> {
        history::history(&self.pool, collection, id).await
    }
}
