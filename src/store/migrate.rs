//! Schema migrations: the SQL files of `migrations/`, compiled into the binary and applied in
//! order, each in its own transaction, recorded in `schema_migrations` with a checksum (an
//! applied migration that was edited afterwards is an error, not a silent drift).

use tokio_postgres::Client;

use super::{StoreError, StoreResult};

/// The migrations, in order: (version, name, SQL).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "0001_schema.sql",
        include_str!("../../migrations/0001_schema.sql"),
    ),
    (
        2,
        "0002_standard_fields.sql",
        include_str!("../../migrations/0002_standard_fields.sql"),
    ),
    (
        3,
        "0003_token_expiry.sql",
        include_str!("../../migrations/0003_token_expiry.sql"),
    ),
    (
        4,
        "0004_commune_region.sql",
        include_str!("../../migrations/0004_commune_region.sql"),
    ),
];

/// FNV-1a, 64 bits, as hex: enough to notice an edited migration.
pub fn checksum(sql: &str) -> String {
    format!("{:016x}", crate::fnv64(sql.as_bytes()))
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Applied {
    pub applied: Vec<String>,
    pub already: usize,
}

/// Applies the pending migrations. Concurrent runs wait on an advisory lock.
pub async fn migrate(client: &mut Client) -> StoreResult<Applied> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 checksum text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let mut out = Applied::default();
    for &(version, name, sql) in MIGRATIONS {
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock(2154000001)", &[])
            .await?;
        let row = tx
            .query_opt(
                "SELECT checksum FROM schema_migrations WHERE version = $1",
                &[&version],
            )
            .await?;
        let sum = checksum(sql);
        if let Some(row) = row {
            let stored: String = row.get(0);
            if stored != sum {
                return Err(StoreError::Migration(
                    name.into(),
                    format!(
                        "applied with checksum {stored}, the file now has {sum}: \
                         applied migrations must not change; add a new one"
                    ),
                ));
            }
            out.already += 1;
            continue;
        }
        tx.batch_execute(sql)
            .await
            .map_err(|e| StoreError::Migration(name.into(), e.to_string()))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[&version, &name, &sum],
        )
        .await?;
        tx.commit().await?;
        out.applied.push(name.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::codes;

    /// The values a `<column>_liste` check of the schema accepts.
    fn checked_values(sql: &str, column: &str) -> Vec<String> {
        let start = sql
            .find(&format!("CONSTRAINT {column}_liste CHECK"))
            .unwrap_or_else(|| panic!("no code-list check on {column}"));
        let body = &sql[start..];
        let body = &body[body.find("ARRAY[").unwrap() + 6..body.find("]::text[]").unwrap()];
        body.split(",\n")
            .map(|v| v.trim().trim_matches('\'').replace("''", "'"))
            .collect()
    }

    #[test]
    fn schema_code_lists_are_the_models() {
        let sql = MIGRATIONS[0].2;
        for (column, list) in [
            ("site_type", codes::SITE_TYPE),
            ("site_etat", codes::SITE_ETAT),
            ("site_vocadomi", codes::SITE_VOCADOMI),
            ("site_moa_type", codes::SITE_MOA_TYPE),
            ("terr_etat_occup", codes::TERR_ETAT_OCCUP),
            ("terr_stade_comm", codes::TERR_STADE_COMM),
            ("terr_stade_amngt", codes::TERR_STADE_AMNGT),
            ("terr_usage", codes::TERR_USAGE),
        ] {
            let expected: Vec<String> = list
                .iter()
                .chain(codes::COMMON.iter())
                .map(|s| s.to_string())
                .collect();
            assert_eq!(checked_values(sql, column), expected, "{column}");
        }
    }

    #[test]
    fn every_migration_file_is_compiled_in() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<&str> = MIGRATIONS.iter().map(|m| m.1).collect();
        assert_eq!(files, listed);
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.0, i as i32 + 1, "versions follow each other");
        }
    }
}
