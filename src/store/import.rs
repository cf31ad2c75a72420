//! Bulk imports into PostGIS. Each layer or table is one transaction: its rows are copied
//! (`COPY`, not row-by-row `INSERT`) into a staging table, then merged into the real one by
//! key (`INSERT … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM`), so importing the same
//! file twice changes nothing and raises no version. Rows that break the standard's rules
//! are rejected before the copy and listed with their reason; the others land.

use std::io::Write;

use futures_util::SinkExt;
use geo::Geometry;
use serde::Serialize;
use tokio_postgres::{Client, Transaction};

use super::copy::{columns, write_row, Column};
use super::{StoreError, StoreResult, Stored};
use crate::model::{codes, CommuteFlow, Feature, LandTake};
use crate::source::Dataset;

/// A row that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejected {
    pub id: String,
    pub reason: String,
}

/// What the import of one layer or table did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TableReport {
    pub table: String,
    /// Rows read from the input.
    pub rows: usize,
    /// Rows inserted or changed (0 when the same data is imported again).
    pub written: u64,
    pub rejected: Vec<Rejected>,
}

impl TableReport {
    /// Counts the lines a reader rejected before the import, listed first.
    pub fn with_unreadable(mut self, rejected: Vec<Rejected>) -> TableReport {
        self.rows += rejected.len();
        self.rejected.splice(0..0, rejected);
        self
    }
}

impl std::fmt::Display for TableReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} rows read, {} inserted or changed, {} rejected",
            self.table,
            self.rows,
            self.written,
            self.rejected.len()
        )?;
        for r in &self.rejected {
            write!(f, "\n  rejected {}: {}", r.id, r.reason)?;
        }
        Ok(())
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

/// Why a row breaks the rules the schema enforces, if it does.
pub(crate) fn problem(
    table: &str,
    props: &serde_json::Map<String, serde_json::Value>,
    geometry: Option<&Geometry<f64>>,
) -> Option<String> {
    for &(t, column, list) in CODE_COLUMNS {
        if t != table {
            continue;
        }
        match props.get(column).and_then(|v| v.as_str()) {
            Some(v) if codes::in_list(list, v) => {}
            Some(v) => return Some(format!("{column}: « {v} » is not in the CNIG code list")),
            None => return Some(format!("{column}: missing")),
        }
    }
    if let Some(g) = geometry {
        use geo::BoundingRect;
        if g.bounding_rect().is_none() {
            return Some("empty geometry".into());
        }
    }
    None
}

/// Prints `label: done/total` on stderr, over itself.
struct Progress {
    label: String,
    total: usize,
    last: usize,
}

impl Progress {
    fn new(label: &str, total: usize) -> Self {
        Progress {
            label: label.into(),
            total,
            last: 0,
        }
    }

    fn tick(&mut self, done: usize) {
        if done == self.total || done - self.last >= 10_000 {
            self.last = done;
            let width = 30;
            let filled = (done * width).checked_div(self.total).unwrap_or(width);
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r{:<18} [{}{}] {done}/{}",
                self.label,
                "#".repeat(filled),
                " ".repeat(width - filled),
                self.total
            );
            if done == self.total {
                let _ = writeln!(err);
            }
        }
    }
}

/// Copies `rows` (JSON properties and optional geometry) into `table` through a staging
/// table and merges them by `key` columns, in transaction `tx`.
async fn merge_rows<'a>(
    tx: &Transaction<'_>,
    table: &'static str,
    key: &[&str],
    rows: impl Iterator<
        Item = (
            String,
            serde_json::Map<String, serde_json::Value>,
            Option<&'a Geometry<f64>>,
        ),
    >,
    total: usize,
) -> StoreResult<TableReport> {
    let cols: Vec<Column> = columns(tx, table).await?;
    if cols.is_empty() {
        return Err(StoreError::Migration(
            table.into(),
            "table missing: run `ecofoncier migrate` first".into(),
        ));
    }
    let staging = format!("staging_{table}");
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE {staging} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
    ))
    .await?;
    let list: Vec<String> = cols.iter().map(Column::quoted).collect();
    let list = list.join(", ");
    let sink = tx
        .copy_in(&format!("COPY {staging} ({list}) FROM STDIN"))
        .await?;
    futures_util::pin_mut!(sink);
    let mut report = TableReport {
        table: table.into(),
        ..Default::default()
    };
    let mut progress = Progress::new(table, total);
    let mut buf = Vec::with_capacity(1 << 20);
    for (id, props, geometry) in rows {
        report.rows += 1;
        if let Some(reason) = problem(table, &props, geometry) {
            report.rejected.push(Rejected { id, reason });
            continue;
        }
        write_row(&mut buf, table, &id, &cols, &props, geometry)?;
        if buf.len() >= 1 << 20 {
            sink.send(bytes::Bytes::from(std::mem::take(&mut buf)))
                .await?;
            progress.tick(report.rows);
        }
    }
    if !buf.is_empty() {
        sink.send(bytes::Bytes::from(buf)).await?;
    }
    sink.as_mut().finish().await?;
    progress.tick(total);
    let non_key: Vec<&Column> = cols
        .iter()
        .filter(|c| !key.contains(&c.quoted().as_str()) && !key.contains(&c.name.as_str()))
        .collect();
    let set_cols: Vec<String> = non_key.iter().map(|c| c.quoted()).collect();
    let excluded: Vec<String> = non_key
        .iter()
        .map(|c| format!("EXCLUDED.{}", c.quoted()))
        .collect();
    let current: Vec<String> = non_key
        .iter()
        .map(|c| format!("t.{}", c.quoted()))
        .collect();
    let has_version = tx
        .query_opt(
            "SELECT 1 FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'version'",
            &[&table],
        )
        .await?
        .is_some();
    let bump = if has_version {
        ", version = t.version + 1"
    } else {
        ""
    };
    let merge = if set_cols.is_empty() {
        format!(
            "INSERT INTO {table} AS t ({list}) SELECT {list} FROM {staging} \
             ON CONFLICT ({}) DO NOTHING",
            key.join(", ")
        )
    } else {
        format!(
            "INSERT INTO {table} AS t ({list}) SELECT {list} FROM {staging} \
             ON CONFLICT ({key}) DO UPDATE SET ({set}) = ROW({excl}){bump} \
             WHERE ({cur}) IS DISTINCT FROM ({excl})",
            key = key.join(", "),
            set = set_cols.join(", "),
            excl = excluded.join(", "),
            cur = current.join(", "),
        )
    };
    report.written = tx.execute(&merge, &[]).await?;
    tx.execute(
        "INSERT INTO historique (collection, feature_id, action, apres)
         VALUES ($1, '*', 'import', $2::text::jsonb)",
        &[
            &table,
            &serde_json::json!({
                "lignes": report.rows,
                "ecrites": report.written,
                "rejetees": report.rejected.len(),
            })
            .to_string(),
        ],
    )
    .await?;
    Ok(report)
}

fn props_of<T: Serialize>(
    table: &'static str,
    id: &str,
    r: &T,
) -> StoreResult<serde_json::Map<String, serde_json::Value>> {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(StoreError::Row {
            table,
            id: id.into(),
            message: "not an object".into(),
        }),
        Err(e) => Err(StoreError::Row {
            table,
            id: id.into(),
            message: e.to_string(),
        }),
    }
}

/// Imports one layer in its own transaction.
pub async fn import_features<R: Stored>(
    client: &mut Client,
    features: &[Feature<R>],
) -> StoreResult<TableReport> {
    let rows = features
        .iter()
        .map(|f| {
            let id = f.record.id().to_string();
            props_of(R::TABLE, &id, &f.record).map(|p| (id, p, Some(&f.geometry)))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let tx = client.transaction().await?;
    let report = merge_rows(&tx, R::TABLE, &[R::KEY], rows.into_iter(), features.len()).await?;
    tx.commit().await?;
    Ok(report)
}

/// Imports home–work flows in one transaction.
pub async fn import_flows(client: &mut Client, flows: &[CommuteFlow]) -> StoreResult<TableReport> {
    let rows = flows
        .iter()
        .map(|f| {
            let id = format!("{}→{}", f.commune_residence, f.commune_travail);
            props_of("navette", &id, f).map(|p| (id, p, None))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let tx = client.transaction().await?;
    let key = ["commune_residence", "commune_travail"];
    let report = merge_rows(&tx, "navette", &key, rows.into_iter(), flows.len()).await?;
    tx.commit().await?;
    Ok(report)
}

/// Imports yearly land-take rows in one transaction.
pub async fn import_land_take(client: &mut Client, rows: &[LandTake]) -> StoreResult<TableReport> {
    let rows_json = rows
        .iter()
        .map(|r| {
            let id = format!("{} {}", r.code_insee, r.annee);
            props_of("consommation_enaf", &id, r).map(|p| (id, p, None))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let tx = client.transaction().await?;
    let report = merge_rows(
        &tx,
        "consommation_enaf",
        &["code_insee", "annee"],
        rows_json.into_iter(),
        rows.len(),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Imports a whole dataset (the embedded one, for instance): one transaction per layer and
/// table, then its attribution.
pub async fn import_dataset(client: &mut Client, d: &Dataset) -> StoreResult<Vec<TableReport>> {
    let mut out = vec![
        import_features(client, &d.epci).await?,
        import_features(client, &d.communes).await?,
        import_features(client, &d.poles).await?,
        import_features(client, &d.sites).await?,
        import_features(client, &d.terrains).await?,
        import_features(client, &d.etablissements).await?,
        import_features(client, &d.locaux).await?,
        import_features(client, &d.tiers_lieux).await?,
    ];
    out.push(import_flows(client, &d.flows).await?);
    out.push(import_land_take(client, &d.land_take).await?);
    client
        .execute(
            "INSERT INTO jeu_de_donnees (cle, valeur) VALUES ('attribution', $1)
             ON CONFLICT (cle) DO UPDATE SET valeur = EXCLUDED.valeur",
            &[&d.attribution],
        )
        .await?;
    Ok(out)
}
