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

/// Creates a token for `role` and returns it: it is shown once, only its hash is kept.
pub async fn create_token(
    client: &tokio_postgres::Client,
    role: &Role,
    label: Option<&str>,
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
            "INSERT INTO jeton (empreinte, role, epci_siren, libelle) VALUES ($1, $2, $3, $4)
             RETURNING id",
            &[&hash, &role.name(), &role.epci(), &label],
        )
        .await?;
    let id: i64 = row.get(0);
    Ok(format!("efc_{id}_{secret}"))
}

/// The tokens this server has verified, kept so that a request does not pay argon2 again.
#[derive(Default)]
pub struct Tokens {
    verified: Mutex<FxHashMap<String, Principal>>,
}

impl Tokens {
    /// The principal of bearer token `token`.
    pub async fn authenticate(&self, pool: &Pool, token: &str) -> WriteResult<Principal> {
        if let Some(p) = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
        {
            return Ok(p.clone());
        }
        let (id, secret) = split_token(token).ok_or(WriteError::Unauthorized)?;
        let client = pool.get().await?;
        let row = client
            .query_opt(
                "SELECT empreinte, role, epci_siren FROM jeton
                 WHERE id = $1 AND revoque_le IS NULL",
                &[&id],
            )
            .await?
            .ok_or(WriteError::Unauthorized)?;
        let hash: String = row.get(0);
        let parsed = PasswordHash::new(&hash).map_err(|e| WriteError::Internal(e.to_string()))?;
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .map_err(|_| WriteError::Unauthorized)?;
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
}
