//! Keeping a server's read model current with writes made by other instances: every write
//! ends with `NOTIFY ecofoncier, 'collection/id/version'`; each server `LISTEN`s and loads
//! the features it has not seen yet. After a lost connection it reloads everything, since
//! notifications sent meanwhile are gone.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use super::source::{load_all, load_feature};
use super::write::Editable;
use crate::publish::Publisher;
use crate::read_model::{Change, ReadModel};

/// Follows the notifications of the database at `url` for ever, reconnecting as needed,
/// and publishes what other instances wrote through `state`.
pub async fn follow(url: String, state: Arc<Publisher>) {
    let mut connected_before = false;
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
            if client.batch_execute("LISTEN ecofoncier").await.is_ok() {
                if connected_before {
                    reload_all(&url, &state).await;
                }
                connected_before = true;
                while let Some(payload) = rx.recv().await {
                    apply(&client, &state, &payload).await;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
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
