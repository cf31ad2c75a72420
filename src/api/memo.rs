//! Answers kept once made, by a 64-bit key, within a byte budget: first in, first out, in
//! shards so that workers rarely wait on one another. Used for compressed bodies and for
//! the selections of filtered items pages.

use std::collections::VecDeque;
use std::sync::Mutex;

use rustc_hash::FxHashMap;

struct Shard<V> {
    map: FxHashMap<u64, (V, usize)>,
    order: VecDeque<u64>,
    bytes: usize,
}

/// Values of type `V` (cheap to clone: `Bytes`, `Arc`) by key.
pub struct Memo<V> {
    shards: Vec<Mutex<Shard<V>>>,
    budget: usize,
}

impl<V: Clone> Memo<V> {
    const SHARDS: usize = 16;

    /// A memo of at most `bytes` bytes (0: keeps nothing).
    pub fn new(bytes: usize) -> Memo<V> {
        Memo {
            shards: (0..Self::SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: FxHashMap::default(),
                        order: VecDeque::new(),
                        bytes: 0,
                    })
                })
                .collect(),
            budget: bytes / Self::SHARDS,
        }
    }

    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Shard<V>> {
        self.shards[(key >> 3) as usize % Self::SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, key: u64) -> Option<V> {
        self.shard(key).map.get(&key).map(|(v, _)| v.clone())
    }

    /// Keeps `value`, of `size` bytes, dropping the oldest values beyond the budget.
    pub fn put(&self, key: u64, value: V, size: usize) {
        if size > self.budget {
            return;
        }
        let mut s = self.shard(key);
        while s.bytes + size > self.budget {
            let Some(old) = s.order.pop_front() else {
                break;
            };
            if let Some((_, n)) = s.map.remove(&old) {
                s.bytes -= n;
            }
        }
        s.bytes += size;
        match s.map.insert(key, (value, size)) {
            Some((_, n)) => s.bytes -= n,
            None => s.order.push_back(key),
        }
    }

    /// The value of `key`, made by `make` (with its size) when not kept.
    pub fn get_or(&self, key: u64, make: impl FnOnce() -> (V, usize)) -> V {
        if let Some(v) = self.get(key) {
            return v;
        }
        let (v, size) = make();
        self.put(key, v.clone(), size);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn keeps_within_the_budget_oldest_out_first() {
        let m: Memo<u32> = Memo::new(16 * 100);
        // Keys of one shard: 100 bytes each, a shard holds one.
        m.put(0, 1, 100);
        assert_eq!(m.get(0), Some(1));
        m.put(16 << 3, 2, 100);
        assert_eq!((m.get(0), m.get(16 << 3)), (None, Some(2)));
        m.put(8, 3, 101);
        assert_eq!(m.get(8), None, "larger than a shard");
        assert_eq!(m.get_or(5 << 3, || (7, 10)), 7);
        assert_eq!(m.get_or(5 << 3, || (8, 10)), 7);
    }
}
