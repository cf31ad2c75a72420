//! Keeping a server's read model current with writes made by other instances: every write
//! ends with `NOTIFY ecofoncier, 'collection/id/version/µs/audit'` (µs: the time of its
//! audit row, microseconds since 1970, for the follower's lag; audit: the row's id, the
//! snapshot's audit version once applied) and every import with
//! `NOTIFY ecofoncier, 'reload'`; each server `LISTEN`s and loads the features it has not
//! seen yet.
//!
//! A notification sent while a server is not listening (its load still running, PostGIS
//! restarting, the network down) is gone. So each time it starts listening, the server
//! catches up from the audit table (`historique`): every feature written since it may have
//! missed one (the start of its load, or the moment its connection was lost, with a
//! margin) is read again, and kept when its version is newer than the one it holds; an
//! import in that window reloads everything. The window is measured in PostGIS's own clock
//! (`clock_timestamp()` minus the time elapsed here), so the two hosts' clocks need not
//! agree. Until a catch-up is done the server is not ready ([`Following::in_step`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::source::{load_all, load_feature};
use super::write::Editable;
use super::StoreResult;
use crate::publish::Publisher;
use crate::read_model::{Change, ReadModel};
use crate::telemetry::{telemetry, Origin};

/// Added to the catch-up window for writes: a write whose audit row was inserted just
/// before the window opened but committed after it (a loaded server between two round
/// trips) is read again too.
const CATCH_UP_MARGIN: Duration = Duration::from_secs(10);

/// A reload waits for the import's notifications to stop for this long …
const RELOAD_QUIET: Duration = Duration::from_secs(1);
/// … but no longer than this.
const RELOAD_WAIT: Duration = Duration::from_secs(30);

/// Whether a server is in step with the database it follows: listening, and caught up
/// with what it may have missed before (its load, a lost connection).
#[derive(Debug, Default)]
pub struct Following {
    in_step: AtomicBool,
}

impl Following {
    /// True from the end of a catch-up until the connection is lost.
    pub fn in_step(&self) -> bool {
        self.in_step.load(Ordering::Acquire)
    }

    fn set(&self, in_step: bool) {
        self.in_step.store(in_step, Ordering::Release);
        telemetry().follower_connected(in_step);
    }
}

/// Follows the notifications of the database at `url` for ever, reconnecting as needed,
/// and publishes what other instances wrote through `state`; says in `following` whether
/// it is in step. `loaded_at` is when the served model began to load: writes committed
/// since then are caught up at once.
pub async fn follow(
    url: String,
    state: Arc<Publisher>,
    following: Arc<Following>,
    loaded_at: Instant,
) {
    // Since when this server may have missed a write.
    let mut missed_since = loaded_at;
    loop {
        if let Ok((client, mut connection)) = tokio_postgres::connect(&url, NoTls).await {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            actix_web::rt::spawn(async move {
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                while let Some(m) = messages.next().await {
                    match m {
                        // An import's progress is counted as it comes; the rest is
                        // applied in order below.
                        Ok(AsyncMessage::Notification(n)) if imported(n.payload()) => {}
                        Ok(AsyncMessage::Notification(n)) => {
                            if tx.send(n.payload().to_string()).is_err() {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
            // Listening first, then catching up: no write falls between the two.
            if client.batch_execute("LISTEN ecofoncier").await.is_ok()
                && catch_up(&client, &url, &state, missed_since.elapsed())
                    .await
                    .is_ok()
            {
                following.set(true);
                while let Some(payload) = rx.recv().await {
                    if payload == "reload" {
                        // An import commits table after table: reload once it is quiet.
                        let held = settle(&mut rx).await;
                        reload_all(&url, &state).await;
                        for payload in held {
                            apply(&client, &state, &payload).await;
                        }
                    } else {
                        apply(&client, &state, &payload).await;
                    }
                }
                missed_since = Instant::now();
                following.set(false);
                tracing::warn!("lost the LISTEN connection to PostGIS; reconnecting");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Counts an import's table in the metrics when `payload` says one was committed
/// (`import/TABLE/ROWS/WRITTEN/REJECTED`, see `store::import`); false for any other
/// notification.
fn imported(payload: &str) -> bool {
    let Some(rest) = payload.strip_prefix("import/") else {
        return false;
    };
    let mut parts = rest.rsplitn(4, '/');
    let (Some(rejected), Some(written), Some(rows), Some(table)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        tracing::warn!(payload, "notification not understood");
        return true;
    };
    match (rows.parse(), written.parse(), rejected.parse()) {
        (Ok(rows), Ok(written), Ok(rejected)) => {
            tracing::info!(table, rows, written, rejected, "a table was imported");
            telemetry().table_imported(table, rows, written, rejected);
        }
        _ => tracing::warn!(payload, "notification not understood"),
    }
    true
}

/// Waits until no `reload` has come for [`RELOAD_QUIET`] (at most [`RELOAD_WAIT`]); the
/// other notifications received meanwhile, in order.
async fn settle(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Vec<String> {
    let started = Instant::now();
    let mut held = Vec::new();
    while started.elapsed() < RELOAD_WAIT {
        match tokio::time::timeout(RELOAD_QUIET, rx.recv()).await {
            Ok(Some(p)) if p == "reload" => {}
            Ok(Some(p)) => held.push(p),
            Ok(None) | Err(_) => break,
        }
    }
    held
}

/// Reads again every feature the audit table says was written in the last `missed`
/// (plus [`CATCH_UP_MARGIN`]), or reloads everything when an import ran meanwhile.
async fn catch_up(
    client: &Client,
    url: &str,
    state: &Arc<Publisher>,
    missed: Duration,
) -> StoreResult<()> {
    // An import's audit row is written just before its commit, in the same breath: it
    // needs no margin (with one, an import made just before this server started would
    // reload what the server has just loaded).
    let rows = client
        .query(
            "SELECT collection, feature_id,
                    bool_or(action = 'import'
                            AND le >= clock_timestamp() - make_interval(secs => $2)),
                    max(id)
             FROM historique WHERE le >= clock_timestamp() - make_interval(secs => $1)
             GROUP BY collection, feature_id",
            &[
                &(missed + CATCH_UP_MARGIN).as_secs_f64(),
                &missed.as_secs_f64(),
            ],
        )
        .await?;
    if rows.iter().any(|r| r.get::<_, bool>(2)) {
        reload_all(url, state).await;
        return Ok(());
    }
    let mut read = 0;
    for row in rows.iter().filter(|r| r.get::<_, &str>(1) != "*") {
        let (collection, id, audit): (&str, &str, i64) = (row.get(0), row.get(1), row.get(3));
        crate::editable!(collection, R => read += refresh::<R>(client, state, id, audit).await? as u64, _other => {});
    }
    // Every feature those rows name is now at its stored version.
    if let Some(highest) = rows.iter().map(|r| r.get::<_, i64>(3)).max() {
        let _serial = state.lock().await;
        state.reached(highest);
    }
    if read > 0 {
        tracing::info!(features = read, "caught up from the audit table");
    }
    telemetry().caught_up(read);
    Ok(())
}

/// Brings feature `id` of layer `R` to its stored state, unless this server has that
/// version already, and the snapshot to audit version `audit` (the feature's latest audit
/// row read); whether it changed anything.
async fn refresh<R: Editable>(
    client: &Client,
    state: &Arc<Publisher>,
    id: &str,
    audit: i64,
) -> StoreResult<bool> {
    let _serial = state.lock().await;
    let stored = client
        .query_opt(
            &format!("SELECT version FROM {} WHERE {} = $1", R::TABLE, R::KEY),
            &[&id],
        )
        .await?;
    let held = state.version(R::COLLECTION, id);
    let (change, version) = match stored {
        Some(row) => {
            let version: i64 = row.get(0);
            if held >= version {
                state.reached(audit);
                return Ok(false);
            }
            match load_feature::<R>(client, id).await? {
                Some(f) => (Change::Upsert(f), version),
                None => return Ok(false),
            }
        }
        None if held > 0 => (Change::Remove(id.to_string()), held + 1),
        None => {
            state.reached(audit);
            return Ok(false);
        }
    };
    let published = state.apply(change, version, audit).is_ok();
    if published {
        telemetry().write_published(R::COLLECTION, Origin::Followed);
    }
    Ok(published)
}

async fn reload_all(url: &str, state: &Publisher) {
    let started = Instant::now();
    match load_all(url).await.map(ReadModel::build) {
        Ok(Ok(model)) => {
            let _serial = state.lock().await;
            state.replace(model);
            telemetry().reloaded();
            tracing::info!(
                duration_ms = started.elapsed().as_millis() as u64,
                "reloaded the read model after an import"
            );
        }
        Ok(Err(e)) => tracing::error!(error = %e, "reload after an import: indexing failed"),
        Err(e) => tracing::error!(error = %e, "reload after an import: loading failed"),
    }
}

/// Loads the feature a notification names, unless this server has it already.
async fn apply(client: &tokio_postgres::Client, state: &Arc<Publisher>, payload: &str) {
    let mut parts = payload.rsplitn(4, '/');
    let (Some(audit), Some(micros), Some(version), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        tracing::warn!(payload, "notification not understood");
        return;
    };
    let (Ok(version), Ok(micros), Ok(audit)) = (
        version.parse::<i64>(),
        micros.parse::<i64>(),
        audit.parse::<i64>(),
    ) else {
        tracing::warn!(payload, "notification not understood");
        return;
    };
    let Some((collection, id)) = rest.split_once('/') else {
        tracing::warn!(payload, "notification not understood");
        return;
    };
    let published = crate::editable!(collection, R => update::<R>(client, state, id, version, audit).await, _other => false);
    if published {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros() as i64;
        telemetry().follower_lag((now - micros) as f64 / 1e6);
    }
}

async fn update<R: Editable>(
    client: &tokio_postgres::Client,
    state: &Arc<Publisher>,
    id: &str,
    version: i64,
    audit: i64,
) -> bool {
    if state.has::<R>(id, version) {
        // Written here, or caught up already: the snapshot holds that audit row's change.
        let _serial = state.lock().await;
        state.reached(audit);
        return false;
    }
    refresh::<R>(client, state, id, audit)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(collection = R::COLLECTION, id, error = %e, "following a write failed");
            false
        })
}
