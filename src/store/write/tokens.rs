//! Bearer tokens and roles: a token is `efc_<id>_<secret>`, PostGIS keeps the argon2id hash
//! of its secret, and a verified token is kept in memory.

use std::io::Read;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use super::{WriteError, WriteResult, Writer};
use crate::store::{StoreError, StoreResult};

/// Who writes.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    /// Writes inside one EPCI and reads its confidential fields.
    Editor(String),
    /// Writes everywhere.
    Admin,
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

/// Creates a token for `role` (`editor` of `epci`, or `admin`) and returns it: it is shown
/// once, only its hash is kept.
pub async fn create_token(
    client: &tokio_postgres::Client,
    role: &str,
    epci: Option<&str>,
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
            &[&hash, &role, &epci, &label],
        )
        .await?;
    let id: i64 = row.get(0);
    Ok(format!("efc_{id}_{secret}"))
}

impl Writer {
    /// The principal of bearer token `token`.
    pub async fn authenticate(&self, token: &str) -> WriteResult<Principal> {
        if let Some(p) = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
        {
            return Ok(p.clone());
        }
        let (id, secret) = split_token(token).ok_or(WriteError::Unauthorized)?;
        let client = self.pool.get().await?;
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
        let role: String = row.get(1);
        let principal = Principal {
            token_id: id,
            role: match role.as_str() {
                "admin" => Role::Admin,
                _ => Role::Editor(row.get::<_, Option<String>>(2).unwrap_or_default()),
            },
        };
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_string(), principal.clone());
        Ok(principal)
    }
}
