//! Keeping a server's read model current with writes made by other instances: every write
//! ends with `NOTIFY ecofoncier, 'collection/id/version'` and every import with
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
//! agree.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::source::{load_all, load_feature};
use super::write::Editable;
use super::StoreResult;
use crate::publish::Publisher;
use crate::read_model::{Change, ReadModel};

/// Added to the catch-up window: a write whose audit row was inserted just before the
/// window opened but committed after it is read again too.
const CATCH_UP_MARGIN: Duration = Duration::from_secs(10);

/// Follows the notifications of the database at `url` for ever, reconnecting as needed,
/// and publishes what other instances wrote through `state`. `loaded_at` is when the
/// served model began to load: writes committed since then are caught up at once.
pub async fn follow(url: String, state: Arc<Publisher>, loaded_at: Instant) {
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
                while let Some(payload) = rx.recv().await {
                    if payload == "reload" {
                        reload_all(&url, &state).await;
                    } else {
                        apply(&client, &state, &payload).await;
                    }
                }
                missed_since = Instant::now();
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Reads again every feature the audit table says was written in the last `missed`
/// (plus [`CATCH_UP_MARGIN`]), or reloads everything when an import ran meanwhile.
async fn catch_up(
    client: &Client,
    url: &str,
    state: &Arc<Publisher>,
    missed: Duration,
) -> StoreResult<()> {
    let rows = client
        .query(
            "SELECT DISTINCT collection, feature_id, action = 'import' FROM historique
             WHERE le >= clock_timestamp() - make_interval(secs => $1)",
            &[&(missed + CATCH_UP_MARGIN).as_secs_f64()],
        )
        .await?;
    if rows.iter().any(|r| r.get::<_, bool>(2)) {
        reload_all(url, state).await;
        return Ok(());
    }
    for row in &rows {
        let (collection, id): (&str, &str) = (row.get(0), row.get(1));
        crate::editable!(collection, R => refresh::<R>(client, state, id).await?, _other => {});
    }
    Ok(())
}

/// Brings feature `id` of layer `R` to its stored state, unless this server has that
/// version already.
async fn refresh<R: Editable>(
    client: &Client,
    state: &Arc<Publisher>,
    id: &str,
) -> StoreResult<()> {
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
                return Ok(());
            }
            match load_feature::<R>(client, id).await? {
                Some(f) => (Change::Upsert(f), version),
                None => return Ok(()),
            }
        }
        None if held > 0 => (Change::Remove(id.to_string()), held + 1),
        None => return Ok(()),
    };
    let _ = state.apply(change, version);
    Ok(())
}

async fn reload_all(url: &str, state: &Publisher) {
    if let Ok(data) = load_all(url).await {
        if let Ok(model) = ReadModel::build(data) {
            let _serial = state.lock().await;
            state.replace(model);
        }
    }
}

/// Loads the feature a notification names, unless this server has it already.
async fn apply(client: &tokio_postgres::Client, state: &Arc<Publisher>, payload: &str) {
    let mut parts = payload.rsplitn(2, '/');
    let (Some(version), Some(rest)) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(version) = version.parse::<i64>() else {
        return;
    };
    let Some((collection, id)) = rest.split_once('/') else {
        return;
    };
    crate::editable!(collection, R => update::<R>(client, state, id, version).await, _other => {})
}

async fn update<R: Editable>(
    client: &tokio_postgres::Client,
    state: &Arc<Publisher>,
    id: &str,
    version: i64,
) {
    // This server's own writes publish under the same lock: snapshots follow each other.
    let _serial = state.lock().await;
    if state.has::<R>(id, version) {
        return;
    }
    let change = match load_feature::<R>(client, id).await {
        Ok(Some(f)) => Change::Upsert(f),
        Ok(None) => Change::Remove(id.to_string()),
        Err(_) => return,
    };
    let _ = state.apply(change, version);
}
