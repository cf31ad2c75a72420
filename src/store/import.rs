//! Bulk imports into PostGIS. Each layer or table is one transaction: its rows are copied
//! (`COPY`, not row-by-row `INSERT`) into a staging table, then merged into the real one by
//! key (`INSERT … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM`), so importing the same
//! file twice changes nothing and raises no version. Rows that break the standard's rules
//! are rejected before the copy and listed with their reason; the others land.

use futures_util::SinkExt;
use geo::Geometry;
use serde::Serialize;
use tokio_postgres::{Client, Transaction};

use super::copy::{columns, write_row, Column};
use super::{StoreError, StoreResult, Stored};
use crate::model::checks::{problem, CodeLists, Rejected};
use crate::model::{CommuteFlow, Feature, LandTake, Str};
use crate::source::Dataset;

/// What the import of one layer or table did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TableReport {
    pub table: String,
    /// Rows read from the input.
    pub rows: usize,
    /// Rows inserted or changed (0 when the same data is imported again).
    pub written: u64,
    pub rejected: Vec<Rejected>,
    /// Rows imported with a remark (a value outside a code list kept, a ring closed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Rejected>,
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
        for r in &self.notes {
            write!(f, "\n  note {}: {}", r.id, r.reason)?;
        }
        Ok(())
    }
}

/// A progress bar on stderr (`indicatif`: drawn only on a terminal), whose total may be an
/// estimate that grows to what was read.
struct Progress(indicatif::ProgressBar);

impl Progress {
    fn new(label: &str, total: usize) -> Self {
        let bar = indicatif::ProgressBar::new(total as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg:<18} [{bar:30}] {pos}/{len} ({per_sec})")
        {
            bar.set_style(style.progress_chars("#> "));
        }
        bar.set_message(label.to_string());
        Progress(bar)
    }

    /// Shows `done` rows.
    fn tick(&mut self, done: usize) {
        let done = done as u64;
        if self.0.length().is_some_and(|l| done > l) {
            self.0.set_length(done);
        }
        self.0.set_position(done);
    }

    /// The last line: `done` of `done`.
    fn finish(&mut self, done: usize) {
        self.0.set_length(done as u64);
        self.0.set_position(done as u64);
        self.0.finish();
    }
}

/// Copies `rows` (JSON properties and optional geometry) into `table` through a staging
/// table and merges them by `key` columns, in transaction `tx`.
async fn merge_rows<G: std::borrow::Borrow<Geometry<f64>>>(
    tx: &Transaction<'_>,
    table: &'static str,
    key: &[&str],
    rows: impl Iterator<
        Item = (
            String,
            serde_json::Map<String, serde_json::Value>,
            Option<G>,
        ),
    >,
    total: usize,
    lists: CodeLists,
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
    for (id, mut props, geometry) in rows {
        let geometry = geometry.as_ref().map(|g| g.borrow());
        report.rows += 1;
        match problem(table, &mut props, geometry, lists) {
            Err(problem) => {
                let reason = problem.to_string();
                report.rejected.push(Rejected { id, reason });
                continue;
            }
            Ok(remarks) => report
                .notes
                .extend(remarks.into_iter().map(|reason| Rejected {
                    id: id.clone(),
                    reason,
                })),
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
    progress.finish(report.rows);
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
        // The audit row, and the notifications (sent at commit) that make the serving
        // instances reload and count the import's progress.
        "WITH audit AS (
           INSERT INTO historique (collection, feature_id, action, apres)
           VALUES ($1, '*', 'import', $2::text::jsonb) RETURNING 1)
         SELECT pg_notify('ecofoncier', 'reload'), pg_notify('ecofoncier', $3) FROM audit",
        &[
            &table,
            &serde_json::json!({
                "lignes": report.rows,
                "ecrites": report.written,
                "rejetees": report.rejected.len(),
            })
            .to_string(),
            &import_note(
                &report.table,
                report.rows,
                report.written,
                report.rejected.len(),
            ),
        ],
    )
    .await?;
    Ok(report)
}

/// The notification of a table imported: `import/TABLE/ROWS/WRITTEN/REJECTED`, which the
/// serving instances count in their metrics (`store::follow`).
fn import_note(table: &str, rows: usize, written: u64, rejected: usize) -> String {
    format!("import/{table}/{rows}/{written}/{rejected}")
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
    let tx = client.transaction().await?;
    let report = merge_features(&tx, features, CodeLists::Enforce).await?;
    tx.commit().await?;
    Ok(report)
}

/// Merges one layer's features in transaction `tx`.
async fn merge_features<R: Stored>(
    tx: &Transaction<'_>,
    features: &[Feature<R>],
    lists: CodeLists,
) -> StoreResult<TableReport> {
    // Each row's properties are made as it is copied, not all at once; a record that does
    // not serialize (none does) would be rejected for its missing fields.
    let rows = features.iter().map(|f| {
        let id = f.record.id().to_string();
        let props = props_of(R::TABLE, &id, &f.record).unwrap_or_default();
        (id, props, Some(&f.geometry))
    });
    merge_rows(tx, R::TABLE, &[R::KEY], rows, features.len(), lists).await
}

/// Imports a CNIG inventory read from one file, in one transaction (nothing half-imported):
/// one report per table present, the rows the reader could not read listed first; values
/// outside the code lists are kept and reported ([`CodeLists::Keep`]).
pub async fn import_inventory(
    client: &mut Client,
    inv: &crate::formats::cnig::Inventory,
) -> StoreResult<Vec<TableReport>> {
    let tx = client.transaction().await?;
    let mut out = vec![
        merge_features(&tx, &inv.poles, CodeLists::Keep).await?,
        merge_features(&tx, &inv.sites, CodeLists::Keep).await?,
        merge_features(&tx, &inv.terrains, CodeLists::Keep).await?,
        merge_features(&tx, &inv.etablissements, CodeLists::Keep).await?,
    ];
    tx.commit().await?;
    for r in &mut out {
        let table = r.table.clone();
        let mine = |list: &[(&'static str, Rejected)]| -> Vec<Rejected> {
            list.iter()
                .filter(|(t, _)| *t == table)
                .map(|(_, r)| r.clone())
                .collect()
        };
        *r = std::mem::take(r).with_unreadable(mine(&inv.unreadable));
        r.notes.splice(0..0, mine(&inv.notes));
    }
    out.retain(|r| r.rows > 0);
    for (t, r) in inv.unreadable.iter().filter(|(t, _)| *t == "?") {
        out.push(TableReport {
            table: (*t).into(),
            rows: 1,
            rejected: vec![r.clone()],
            ..Default::default()
        });
    }
    Ok(out)
}

/// Imports one table of the standard's `;`-CSV read from `input` a record at a time, in
/// one transaction: each row is checked as a record of its table and copied at once, so
/// memory stays bounded whatever the file's size. `size_hint` (bytes of the file) drives
/// the progress bar.
pub async fn import_cnig_csv<I: std::io::BufRead>(
    client: &mut Client,
    input: I,
    rows_hint: usize,
) -> Result<Vec<TableReport>, String> {
    use crate::formats::cnig::csv::TableReader;
    use crate::model::{Etablissement, Pole, Site, Terrain};
    let reader = TableReader::new(input)?;
    let table = reader.table;
    let mut unreadable = Vec::new();
    let mut notes = Vec::new();
    let e = |e: StoreError| e.to_string();
    let tx = client.transaction().await.map_err(|x| e(x.into()))?;
    let key = match table.name {
        "pole_eco" => Pole::KEY,
        "site_eco" => Site::KEY,
        "terrain_eco" => Terrain::KEY,
        _ => Etablissement::KEY,
    };
    /// The row as a record of table `R` and back: fields typed and completed as the model
    /// has them (the same as the whole-file import).
    fn normalized<R: Stored>(
        props: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(String, serde_json::Map<String, serde_json::Value>), String> {
        let record: R =
            serde_json::from_value(serde_json::Value::Object(props)).map_err(|e| e.to_string())?;
        let id = record.id().to_string();
        let props = props_of(R::TABLE, &id, &record).map_err(|e| e.to_string())?;
        Ok((id, props))
    }
    let rows = reader.filter_map(|row| {
        let row = match row {
            Err(r) => {
                unreadable.push(r);
                return None;
            }
            Ok(r) => r,
        };
        let Some(geometry) = row.geometry else {
            unreadable.push(Rejected {
                id: row.id,
                reason: "no geometry".into(),
            });
            return None;
        };
        let normal = match table.name {
            "pole_eco" => normalized::<Pole>(row.props),
            "site_eco" => normalized::<Site>(row.props),
            "terrain_eco" => normalized::<Terrain>(row.props),
            _ => normalized::<Etablissement>(row.props),
        };
        match normal {
            Err(reason) => {
                unreadable.push(Rejected { id: row.id, reason });
                None
            }
            Ok((id, props)) => {
                notes.extend(row.notes.into_iter().map(|reason| Rejected {
                    id: row.id.clone(),
                    reason,
                }));
                Some((id, props, Some(geometry)))
            }
        }
    });
    let report = merge_rows(&tx, table.name, &[key], rows, rows_hint, CodeLists::Keep)
        .await
        .map_err(e)?;
    tx.commit().await.map_err(|x| e(x.into()))?;
    let mut report = report.with_unreadable(unreadable);
    report.notes.splice(0..0, notes);
    Ok(vec![report])
}

/// Imports home–work flows in one transaction.
pub async fn import_flows(client: &mut Client, flows: &[CommuteFlow]) -> StoreResult<TableReport> {
    let rows = flows
        .iter()
        .map(|f| {
            let id = format!("{}→{}", f.commune_residence, f.commune_travail);
            props_of("navette", &id, f).map(|p| (id, p, None::<Geometry<f64>>))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let tx = client.transaction().await?;
    let key = ["commune_residence", "commune_travail"];
    let report = merge_rows(
        &tx,
        "navette",
        &key,
        rows.into_iter(),
        flows.len(),
        CodeLists::Enforce,
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Imports yearly land-take rows in one transaction.
pub async fn import_land_take(client: &mut Client, rows: &[LandTake]) -> StoreResult<TableReport> {
    let rows_json = rows
        .iter()
        .map(|r| {
            let id = format!("{} {}", r.code_insee, r.annee);
            props_of("consommation_enaf", &id, r).map(|p| (id, p, None::<Geometry<f64>>))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let tx = client.transaction().await?;
    let report = merge_rows(
        &tx,
        "consommation_enaf",
        &["code_insee", "annee"],
        rows_json.into_iter(),
        rows.len(),
        CodeLists::Enforce,
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Imports communes and EPCIs read from ADMIN EXPRESS in one transaction, keeping each
/// commune's density level already stored, then sums each EPCI's population and members
/// from the communes stored.
pub async fn import_territory(
    client: &mut Client,
    t: &crate::formats::admin_express::Territory,
) -> StoreResult<Vec<TableReport>> {
    let tx = client.transaction().await?;
    let codes: Vec<&str> = t
        .communes
        .iter()
        .map(|c| c.record.code_insee.as_str())
        .collect();
    let levels: std::collections::HashMap<String, i16> = tx
        .query(
            "SELECT code_insee, grille_densite FROM commune
             WHERE code_insee = ANY($1) AND grille_densite IS NOT NULL",
            &[&codes],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut communes = t.communes.clone();
    for c in &mut communes {
        c.record.grille_densite = levels.get(c.record.code_insee.as_str()).map(|&l| l as u8);
    }
    let mut out = Vec::new();
    if !communes.is_empty() {
        out.push(merge_features(&tx, &communes, CodeLists::Enforce).await?);
    }
    if !t.epci.is_empty() {
        // Populations and members from the communes now stored.
        let sums: std::collections::HashMap<String, (i64, i64)> = tx
            .query(
                "SELECT epci_siren, sum(population)::bigint, count(*) FROM commune GROUP BY 1",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect();
        let mut epci = t.epci.clone();
        for e in &mut epci {
            let (p, n) = sums
                .get(e.record.epci_siren.as_str())
                .copied()
                .unwrap_or((0, 0));
            e.record.population_totale = p as u64;
            e.record.n_membres_total = n as u32;
            e.record.n_membres_region = n as u32;
        }
        out.push(merge_features(&tx, &epci, CodeLists::Enforce).await?);
    }
    tx.execute(
        "UPDATE epci e SET population_totale = s.p, n_membres_total = s.n,
             n_membres_region = s.n, version = e.version + 1
         FROM (SELECT epci_siren, sum(population)::bigint AS p, count(*)::int AS n
               FROM commune GROUP BY epci_siren) s
         WHERE s.epci_siren = e.epci_siren
           AND (e.population_totale, e.n_membres_total, e.n_membres_region)
               IS DISTINCT FROM (s.p, s.n, s.n)",
        &[],
    )
    .await?;
    tx.commit().await?;
    if let Some(first) = out.first_mut() {
        *first = std::mem::take(first).with_unreadable(t.rejected.clone());
    } else if !t.rejected.is_empty() {
        out.push(TableReport::default().with_unreadable(t.rejected.clone()));
    }
    Ok(out)
}

/// Sets communes' INSEE density level (1..7) in one transaction; codes of communes not
/// stored are counted in `notes` (a national file on a regional database).
pub async fn import_density(
    client: &mut Client,
    rows: &[(String, u8)],
) -> StoreResult<TableReport> {
    let tx = client.transaction().await?;
    let codes: Vec<&str> = rows.iter().map(|(c, _)| c.as_str()).collect();
    let levels: Vec<i16> = rows.iter().map(|(_, l)| *l as i16).collect();
    let written = tx
        .execute(
            "UPDATE commune c SET grille_densite = s.l, version = c.version + 1
             FROM unnest($1::text[], $2::int2[]) AS s(code, l)
             WHERE c.code_insee = s.code AND c.grille_densite IS DISTINCT FROM s.l",
            &[&codes, &levels],
        )
        .await?;
    let known: i64 = tx
        .query_one(
            "SELECT count(*) FROM commune WHERE code_insee = ANY($1)",
            &[&codes],
        )
        .await?
        .get(0);
    tx.execute(
        "WITH audit AS (
           INSERT INTO historique (collection, feature_id, action, apres)
           VALUES ('commune', '*', 'import', $1::text::jsonb) RETURNING 1)
         SELECT pg_notify('ecofoncier', 'reload'), pg_notify('ecofoncier', $2) FROM audit",
        &[
            &serde_json::json!({"grille_densite": rows.len(), "ecrites": written}).to_string(),
            &import_note("commune.grille_densite", rows.len(), written, 0),
        ],
    )
    .await?;
    tx.commit().await?;
    let mut report = TableReport {
        table: "commune.grille_densite".into(),
        rows: rows.len(),
        written,
        ..Default::default()
    };
    let unknown = rows.len() as i64 - known;
    if unknown > 0 {
        report.notes.push(Rejected {
            id: format!("{unknown} codes"),
            reason: "not among the stored communes: skipped".into(),
        });
    }
    Ok(report)
}

/// Imports the tiers-lieux and France services of the ANCT file in one transaction, each
/// placed in its commune as stored (name and EPCI); places in communes not stored are
/// skipped and counted.
pub async fn import_mediation(
    client: &mut Client,
    places: &[crate::formats::open_data::MediationPlace],
) -> StoreResult<TableReport> {
    use crate::model::TiersLieu;
    let codes: Vec<&str> = places.iter().map(|p| p.code_insee.as_str()).collect();
    let communes: std::collections::HashMap<String, (String, String)> = client
        .query(
            "SELECT code_insee, nom, epci_siren FROM commune WHERE code_insee = ANY($1)",
            &[&codes],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let mut features = Vec::new();
    let mut outside = 0;
    let mut bad = Vec::new();
    for p in places {
        let Some((nom, epci)) = communes.get(&p.code_insee) else {
            outside += 1;
            continue;
        };
        let (x, y) = match crate::crs::lonlat_to_l93(p.lon, p.lat) {
            Ok(xy) => xy,
            Err(e) => {
                bad.push(Rejected {
                    id: p.id.clone(),
                    reason: format!("latitude/longitude: {e}"),
                });
                continue;
            }
        };
        features.push(Feature {
            geometry: Geometry::Point(geo::Point::new(x, y)),
            record: TiersLieu {
                tl_id: Str::new(&p.id),
                tl_nom: Str::new(&p.nom),
                tl_type: p.tl_type.into(),
                comm_insee: Str::new(&p.code_insee),
                comm_nom: nom.into(),
                epci_siren: epci.into(),
                tl_services: Str::new(&p.services),
                tl_horaires: Str::new(&p.horaires),
                tl_ouverture_annee: None,
                tl_adresse: p.adresse.as_deref().map(Str::new),
                tl_activite: Vec::new(),
                source_producteur: "ANCT, lieux de médiation numérique".into(),
            },
        });
    }
    let tx = client.transaction().await?;
    let mut report = merge_features(&tx, &features, CodeLists::Enforce).await?;
    tx.commit().await?;
    report = report.with_unreadable(bad);
    if outside > 0 {
        report.notes.push(Rejected {
            id: format!("{outside} places"),
            reason: "in communes not stored: skipped".into(),
        });
    }
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
