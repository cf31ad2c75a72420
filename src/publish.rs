//! The current state of the data and the one way it changes. A [`Snapshot`] is one
//! consistent version: a read model and the metrics computed from it; handlers take the
//! current one once and answer from it, whatever is published meanwhile.
//!
//! Every change goes through the [`Publisher`]: a write made here over HTTP, a write made
//! by another instance and followed through LISTEN/NOTIFY, and a reload. A change of one
//! feature ([`Publisher::apply`]) makes the next model in logarithmic time
//! ([`ReadModel::with_change`]), moves the metrics by the difference ([`Metrics::update`]),
//! drops the tiles the feature's old and new envelopes touch, then publishes: nothing is
//! rebuilt that did not change. Changes are applied one at a time, in the order of the
//! lock ([`Publisher::lock`]); readers never wait for them.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::metrics::{Metrics, Touched};
use crate::model::{Etablissement, LocalCommercial, Pole, Record, Site, Terrain, TiersLieu};
use crate::read_model::{Change, InModel, ReadModel, ReadModelResult};
use crate::tiles::Tiles;

/// One consistent state of the data: a read model and the metrics computed from it.
pub struct Snapshot {
    pub model: Arc<ReadModel>,
    pub metrics: Arc<Metrics>,
    /// Counts the versions published by this process (tiles cached from an older one are
    /// not kept).
    pub generation: u64,
    /// When this snapshot's data was published here (RFC 3339): the `timeStamp` of items
    /// pages, so that a page's content, and its ETag, change only with the data.
    pub published_at: String,
    /// The highest audit row (`historique.id`) whose change this snapshot holds: the
    /// load's, then each write's as it is published here or followed from another
    /// instance. Replicas of one database that report the same audit version, with no
    /// write in flight, hold the same data (0: not from PostGIS).
    pub audit_version: i64,
}

/// Which metrics a change of a record of this layer moves.
pub trait Tracked: InModel {
    fn touched(slot: usize) -> Touched;
}

macro_rules! tracked {
    ($($t:ty => $v:ident;)*) => {
        $(impl Tracked for $t {
            fn touched(slot: usize) -> Touched {
                Touched::$v(slot)
            }
        })*
    };
}

tracked! {
    Site => Site;
    Terrain => Terrain;
    Etablissement => Etablissement;
    LocalCommercial => LocalCommercial;
    TiersLieu => TiersLieu;
}

impl Tracked for Pole {
    fn touched(_: usize) -> Touched {
        Touched::Nothing
    }
}

/// What publishing one change cost (for the server's log and the benchmarks).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    pub model_us: u64,
    pub metrics_us: u64,
    pub tiles_us: u64,
}

/// Holds the current snapshot and the tile cache, and publishes every change.
pub struct Publisher {
    current: RwLock<Arc<Snapshot>>,
    /// Serializes changes, so snapshots follow each other in commit order.
    serial: tokio::sync::Mutex<()>,
    pub tiles: Tiles,
    /// Layers whose indexes are being rebuilt in the background, by collection.
    compacting: std::sync::Mutex<Vec<&'static str>>,
    /// Compactions published (for tests and the log).
    pub compactions: std::sync::atomic::AtomicUsize,
    /// When the current snapshot was published.
    published_at: std::sync::Mutex<Instant>,
}

impl Publisher {
    pub fn new(model: Arc<ReadModel>, metrics: Arc<Metrics>) -> Publisher {
        Publisher {
            // The tile cache starts at generation 0 too: it keeps what this version builds.
            current: RwLock::new(Arc::new(Snapshot {
                audit_version: model.report.audit_version,
                model,
                metrics,
                generation: 0,
                published_at: crate::date::now_rfc3339(),
            })),
            serial: tokio::sync::Mutex::new(()),
            tiles: Tiles::default(),
            compacting: std::sync::Mutex::new(Vec::new()),
            compactions: Default::default(),
            published_at: std::sync::Mutex::new(Instant::now()),
        }
    }

    /// When the current snapshot was published.
    pub fn published_at(&self) -> Instant {
        *self.published_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Takes the change lock: hold it from the commit of a write to its publication.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.serial.lock().await
    }

    /// [`Publisher::lock`] outside of an async context (a thread of its own, a test).
    pub fn serial_lock_blocking(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.serial.blocking_lock()
    }

    fn set(&self, next: Snapshot) -> Arc<Snapshot> {
        let next = Arc::new(next);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&next);
        *self.published_at.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        next
    }

    /// Publishes the change of one feature of layer `R` committed at `version`, recorded
    /// by audit row `audit` (0 when none). Hold [`Publisher::lock`] around it. When the
    /// layer's spatial index has gathered enough changes, its rebuild starts on a thread of
    /// its own ([`Publisher::compact`]).
    pub fn apply<R: Tracked>(
        self: &Arc<Self>,
        change: Change<R>,
        version: i64,
        audit: i64,
    ) -> ReadModelResult<(Arc<Snapshot>, Timing)> {
        let t0 = Instant::now();
        let snap = self.snapshot();
        let (model, changed) = snap.model.with_change(change, version)?;
        let t1 = Instant::now();
        let Some(slot) = changed.slot else {
            return Ok((self.reached(audit), Timing::default()));
        };
        let metrics = snap.metrics.update(&snap.model, &model, R::touched(slot));
        let t2 = Instant::now();
        let generation = snap.generation + 1;
        let mut envelopes = Vec::with_capacity(2);
        if let Some(old) = &changed.old {
            envelopes.extend(
                crate::read_model::layer::envelope_of(&old.geometry)
                    .map(|e| [e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1]]),
            );
        }
        if changed.live {
            envelopes.push(R::layer(&model).envelope(slot));
        }
        self.tiles.invalidate(generation, R::COLLECTION, &envelopes);
        let t3 = Instant::now();
        let due = R::layer(&model).compaction_due();
        let next = self.set(Snapshot {
            model: Arc::new(model),
            metrics: Arc::new(metrics),
            generation,
            published_at: crate::date::now_rfc3339(),
            audit_version: snap.audit_version.max(audit),
        });
        if due {
            self.compact::<R>();
        }
        let us = |a: Instant, b: Instant| (b - a).as_micros() as u64;
        Ok((
            next,
            Timing {
                model_us: us(t0, t1),
                metrics_us: us(t1, t2),
                tiles_us: us(t2, t3),
            },
        ))
    }

    /// Rebuilds layer `R`'s spatial and id indexes from the current version on a thread of
    /// its own (O(n log n), readers and writers never wait for it), then publishes the layer
    /// on its new base with the changes made meanwhile kept in its overlay. One rebuild a
    /// layer at a time.
    pub fn compact<R: InModel>(self: &Arc<Self>) {
        {
            let mut busy = self.compacting.lock().unwrap_or_else(|e| e.into_inner());
            if busy.contains(&R::COLLECTION) {
                return;
            }
            busy.push(R::COLLECTION);
        }
        let me = Arc::clone(self);
        let layer = Arc::clone(R::layer(&self.snapshot().model));
        std::thread::spawn(move || {
            let c = layer.compaction();
            drop(layer);
            {
                let _serial = me.serial.blocking_lock();
                let snap = me.snapshot();
                let mut model = (*snap.model).clone();
                let l = R::layer_mut(&mut model);
                *l = Arc::new(l.compacted(&c));
                let generation = snap.generation + 1;
                // The data is the same: tiles stay, and keep being cached.
                me.tiles.invalidate(generation, R::COLLECTION, &[]);
                me.set(Snapshot {
                    model: Arc::new(model),
                    metrics: Arc::clone(&snap.metrics),
                    generation,
                    // A compaction changes no data.
                    published_at: snap.published_at.clone(),
                    audit_version: snap.audit_version,
                });
            }
            me.compactions
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            me.compacting
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|c| *c != R::COLLECTION);
        });
    }

    /// Publishes a whole new model (a reload), its metrics computed afresh.
    pub fn replace(&self, model: ReadModel) -> Arc<Snapshot> {
        let snap = self.snapshot();
        let metrics = Metrics::compute(&model, snap.metrics.year);
        let generation = snap.generation + 1;
        self.tiles.clear(generation);
        self.set(Snapshot {
            audit_version: snap.audit_version.max(model.report.audit_version),
            model: Arc::new(model),
            metrics: Arc::new(metrics),
            generation,
            published_at: crate::date::now_rfc3339(),
        })
    }

    /// Records that the current snapshot holds the change of audit row `audit` already (a
    /// write this instance made and then heard of, a feature caught up at its latest
    /// version): the same data, published under the higher audit version. Hold
    /// [`Publisher::lock`] around it.
    pub fn reached(&self, audit: i64) -> Arc<Snapshot> {
        let snap = self.snapshot();
        if audit <= snap.audit_version {
            return snap;
        }
        self.set(Snapshot {
            model: Arc::clone(&snap.model),
            metrics: Arc::clone(&snap.metrics),
            generation: snap.generation,
            published_at: snap.published_at.clone(),
            audit_version: audit,
        })
    }

    /// The version of feature `id` of collection `collection` now (0 when there is none).
    pub fn version(&self, collection: &str, id: &str) -> i64 {
        self.snapshot().model.version(collection, id)
    }

    /// Whether a record of layer `R` has a version at least `version` now.
    pub fn has<R: Record>(&self, id: &str, version: i64) -> bool {
        self.version(R::COLLECTION, id) >= version
    }
}
