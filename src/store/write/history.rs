//! The audit trail: every write leaves a row in `historique` (who, when, before and after);
//! a feature's history and its state at an earlier instant are read back from it.

use geo::Geometry;
use serde_json::{Map, Value};

use deadpool_postgres::Pool;

use super::error::{WriteError, WriteResult};

/// A feature at an earlier instant.
#[derive(Clone, Debug, PartialEq)]
pub enum AsOf {
    /// Unchanged since.
    Current,
    /// Its audited state then (`None`: it did not exist yet, or had been deleted).
    Was(Option<Value>),
}

/// The feature's properties and geometry as the audit keeps them (geometry as GeoJSON in
/// Lambert-93).
pub(super) fn audit_json(props: &Map<String, Value>, g: &Geometry<f64>) -> String {
    let mut m = props.clone();
    m.insert(
        "geometry".into(),
        serde_json::to_value(geojson::Geometry::from(g)).unwrap_or(Value::Null),
    );
    Value::Object(m).to_string()
}

/// The audit rows of one feature, oldest first: (when, action, token id, before, after).
/// A feature as it was at instant `at` (RFC 3339): its properties and Lambert-93
/// geometry as the audit keeps them (`geometry` a GeoJSON member), `None` when it did
/// not exist then, or `Current` when it has not changed since. The state before a bulk
/// import that changed rows after `at` is not kept per feature: a conflict.
pub async fn state_at(
    pool: &Pool,
    collection: &str,
    table: &str,
    id: &str,
    at: &str,
) -> WriteResult<AsOf> {
    let client = pool.get().await?;
    let imported = client
        .query_opt(
            "SELECT to_char(le AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM historique
             WHERE collection = $1 AND feature_id = '*' AND action = 'import'
               AND le > $2::text::timestamptz AND (apres->>'ecrites')::bigint > 0
             ORDER BY le DESC LIMIT 1",
            &[&table, &at],
        )
        .await?;
    if let Some(r) = imported {
        return Err(WriteError::Conflict(format!(
            "the layer was re-imported on {} (after {at}); its earlier states are not kept \
             feature by feature",
            r.get::<_, String>(0)
        )));
    }
    let row = client
        .query_opt(
            "SELECT avant::text FROM historique
             WHERE collection = $1 AND feature_id = $2 AND le > $3::text::timestamptz
             ORDER BY le, id LIMIT 1",
            &[&collection, &id, &at],
        )
        .await?;
    Ok(match row {
        None => AsOf::Current,
        Some(r) => AsOf::Was(
            r.get::<_, Option<String>>(0)
                .and_then(|s| serde_json::from_str::<Value>(&s).ok()),
        ),
    })
}

pub async fn history(pool: &Pool, collection: &str, id: &str) -> WriteResult<Vec<Value>> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT to_char(le AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                    action, jeton_id, avant::text, apres::text
             FROM historique WHERE collection = $1 AND feature_id = $2 ORDER BY id",
            &[&collection, &id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let parse = |s: Option<String>| {
                s.and_then(|s| serde_json::from_str::<Value>(&s).ok())
                    .unwrap_or(Value::Null)
            };
            serde_json::json!({
                "le": r.get::<_, String>(0),
                "action": r.get::<_, String>(1),
                "jeton": r.get::<_, Option<i64>>(2),
                "avant": parse(r.get(3)),
                "apres": parse(r.get(4)),
            })
        })
        .collect())
}
