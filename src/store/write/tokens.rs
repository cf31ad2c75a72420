//! Bearer tokens and roles: a token is `efc_<id>_<secret>`, PostGIS keeps the argon2id hash
//! of its secret, and a verified token is kept in memory.

use std::io::Read;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use deadpool_postgres::Pool;
use rustc_hash::FxHashMap;

use super::error::{WriteError, WriteResult};
use crate::store::{StoreError, StoreResult};

/// Who writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    /// Writes inside one EPCI and reads its confidential fields.
    Editor(String),
    /// Writes everywhere.
    Admin,
}

impl Role {
    /// The role's name in the `jeton` table and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Editor(_) => "editor",
            Role::Admin => "admin",
        }
    }

    /// The EPCI an editor writes in.
    pub fn epci(&self) -> Option<&str> {
        match self {
            Role::Editor(e) => Some(e),
            Role::Admin => None,
        }
    }

    /// The role a `jeton` row holds: `admin`, or `editor` of its EPCI.
    fn of_row(name: &str, epci: Option<String>) -> Role {
        match name {
            "admin" => Role::Admin,
            _ => Role::Editor(epci.unwrap_or_default()),
        }
    }
}

/// An authenticated token.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub token_id: i64,
    pub role: Role,
}

impl Principal {
    /// May this principal write a feature of EPCI `epci`?
    pub fn may_edit(&self, epci: Option<&str>) -> bool {
        match &self.role {
            Role::Admin => true,
            Role::Editor(own) => epci == Some(own.as_str()),
        }
    }
}

/// A token is `efc_<id>_<secret>`; the database keeps the argon2id hash of the secret.
fn split_token(token: &str) -> Option<(i64, &str)> {
    let rest = token.strip_prefix("efc_")?;
    let (id, secret) = rest.split_once('_')?;
    Some((id.parse().ok()?, secret))
}

/// 32 random bytes from the kernel, as hex.
fn random_secret() -> std::io::Result<String> {
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Creates a token for `role`, valid for `valid_for` (or until revoked), and returns it: it
/// is shown once, only its hash is kept.
pub async fn create_token(
    client: &tokio_postgres::Client,
    role: &Role,
    label: Option<&str>,
    valid_for: Option<std::time::Duration>,
) -> StoreResult<String> {
    let secret = random_secret().map_err(|e| StoreError::Config(e.to_string()))?;
    let mut salt = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .map_err(|e| StoreError::Config(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Config(e.to_string()))?;
    let hash = Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| StoreError::Config(e.to_string()))?
        .to_string();
    let row = client
        .query_one(
            "INSERT INTO jeton (empreinte, role, epci_siren, libelle, expire_le)
             VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8))
             RETURNING id",
            &[
                &hash,
                &role.name(),
                &role.epci(),
                &label,
                &valid_for.map(|d| d.as_secs_f64()),
            ],
        )
        .await?;
    let id: i64 = row.get(0);
    Ok(format!("efc_{id}_{secret}"))
}

/// One line of `token list`: id, role, EPCI, label, created, expires, revoked.
pub async fn list_tokens(client: &tokio_postgres::Client) -> StoreResult<Vec<String>> {
    let rows = client
        .query(
            "SELECT id, role, coalesce(epci_siren, '-'), coalesce(libelle, '-'),
                    to_char(cree_le AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    coalesce(to_char(expire_le AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'never'),
                    coalesce(to_char(revoque_le AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'no')
             FROM jeton ORDER BY id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let cells: Vec<String> = (1..7).map(|k| r.get::<_, String>(k)).collect();
            format!("{id}\t{}", cells.join("\t"))
        })
        .collect())
}

/// Revokes token `id`; false when it does not exist or was revoked already.
pub async fn revoke_token(client: &tokio_postgres::Client, id: i64) -> StoreResult<bool> {
    let n = client
        .execute(
            "UPDATE jeton SET revoque_le = now() WHERE id = $1 AND revoque_le IS NULL",
            &[&id],
        )
        .await?;
    Ok(n == 1)
}

/// Wrong secrets allowed for one token id within [`FAILURE_WINDOW`] before it is throttled.
pub const MAX_FAILURES: u32 = 5;
/// The window of [`MAX_FAILURES`], and how long a throttled id waits.
pub const FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// The tokens this server has verified, kept so that a request does not pay argon2 again
/// (whether a token is still valid is asked of PostGIS at every use, so that a revocation
/// or an expiry takes effect at once on every instance), and the recent failures by token id.
#[derive(Default)]
pub struct Tokens {
    verified: Mutex<FxHashMap<String, Principal>>,
    failures: Mutex<FxHashMap<i64, (u32, std::time::Instant)>>,
}

impl Tokens {
    /// The principal of bearer token `token`: verified once (argon2, on a blocking thread),
    /// checked valid (not revoked, not expired) at every use. Each refusal is logged with the
    /// token id, never the secret.
    pub async fn authenticate(&self, pool: &Pool, token: &str) -> WriteResult<Principal> {
        let (id, secret) = split_token(token).ok_or_else(|| {
            tracing::warn!("token refused: not an ecofoncier token");
            WriteError::Unauthorized
        })?;
        self.throttled(id)?;
        let client = pool.get().await?;
        let valid = client
            .prepare_cached(
                "SELECT empreinte, role, epci_siren FROM jeton
                 WHERE id = $1 AND revoque_le IS NULL AND (expire_le IS NULL OR expire_le > now())",
            )
            .await?;
        let Some(row) = client.query_opt(&valid, &[&id]).await? else {
            tracing::warn!(token_id = id, "token refused: unknown, revoked or expired");
            self.forget(token);
            return Err(WriteError::Unauthorized);
        };
        let known = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned();
        if let Some(p) = known {
            return Ok(p);
        }
        let hash: String = row.get(0);
        let secret = secret.to_string();
        let verified = actix_web::rt::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| WriteError::Internal(e.to_string()))?;
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .map_err(|_| WriteError::Unauthorized)
        })
        .await
        .map_err(|e| WriteError::Internal(e.to_string()))?;
        if let Err(e) = verified {
            tracing::warn!(token_id = id, "token refused: wrong secret");
            self.failed(id);
            return Err(e);
        }
        let principal = Principal {
            token_id: id,
            role: Role::of_row(row.get(1), row.get(2)),
        };
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_string(), principal.clone());
        Ok(principal)
    }

    fn forget(&self, token: &str) {
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

    /// Refuses token id `id` while it has had [`MAX_FAILURES`] wrong secrets within
    /// [`FAILURE_WINDOW`]: verifying is costly, and guessing must not take the CPU.
    fn throttled(&self, id: i64) -> WriteResult<()> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(&id) {
            Some(&(n, since)) if n >= MAX_FAILURES && since.elapsed() < FAILURE_WINDOW => {
                let wait = (FAILURE_WINDOW - since.elapsed()).as_secs() + 1;
                tracing::warn!(
                    token_id = id,
                    failures = n,
                    "token refused: throttled after repeated wrong secrets"
                );
                Err(WriteError::Throttled { retry_after: wait })
            }
            _ => Ok(()),
        }
    }

    fn failed(&self, id: i64) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = failures.entry(id).or_insert((0, std::time::Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, std::time::Instant::now());
        }
        entry.0 += 1;
    }
}
