//! Interned strings: every text field of the model is a [`Str`], four bytes that name one
//! copy of the text in a process-wide, append-only arena.
//!
//! A national inventory repeats most of its text (code-list values, commune and EPCI names
//! and codes, dates, the synthetic-source label): each distinct text is stored once, and a
//! record of thirty text fields weighs 120 bytes instead of about 1.2 KB of `String`s.
//! Text is never freed (the arena only grows, by edits that bring new text), so a `Str`
//! resolves to a `&'static str` without any lock: readers load a chunk pointer published
//! with release ordering before the `Str` itself could reach them.
//!
//! Interning takes the lock of one of [`SHARDS`] shards chosen by the text's hash, so the
//! loaders of several layers intern in parallel; equal texts always meet in the same shard,
//! which is what makes `Str` equality an integer comparison.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// Bytes of an arena chunk: the low bits of a [`Str`] are the offset in its chunk.
const CHUNK_BITS: u32 = 20;
const CHUNK_SIZE: usize = 1 << CHUNK_BITS;
/// Chunks addressable by the high bits (4,096 × 1 MiB = 4 GiB of text).
const MAX_CHUNKS: usize = 1 << (32 - CHUNK_BITS);
/// Independent interning locks.
pub const SHARDS: usize = 16;

static CHUNKS: [AtomicPtr<u8>; MAX_CHUNKS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; MAX_CHUNKS];
/// The next free chunk number; chunk 0 is never used, so no `Str` is zero.
static NEXT_CHUNK: AtomicU32 = AtomicU32::new(1);

type Build = std::hash::BuildHasherDefault<rustc_hash::FxHasher>;

struct Shard {
    /// (id, high half of the hash) of every text the shard holds: the hash kept beside
    /// the id, so that growing the table and most probes never read the text itself.
    table: hashbrown::HashTable<(u32, u32)>,
    /// Chunk number and bytes used of the chunk this shard writes into (0: none yet).
    chunk: u32,
    used: usize,
}

impl Shard {
    /// Copies `text` into the arena and returns its id.
    fn store(&mut self, text: &str) -> u32 {
        let mut prefix = [0u8; 5];
        let n = write_varint(&mut prefix, text.len() as u32);
        let need = n + text.len();
        if self.chunk == 0 || self.used + need > chunk_len(self.chunk) {
            let number = NEXT_CHUNK.fetch_add(1, Ordering::Relaxed);
            assert!(
                (number as usize) < MAX_CHUNKS,
                "the text arena is full (4 GiB of distinct text)"
            );
            let size = need.max(CHUNK_SIZE);
            assert!(size <= u32::MAX as usize, "a text over 4 GiB");
            let block: &'static mut [u8] = Box::leak(vec![0u8; size].into_boxed_slice());
            CHUNKS[number as usize].store(block.as_mut_ptr(), Ordering::Release);
            LENGTHS[number as usize].store(size as u32, Ordering::Release);
            self.chunk = number;
            self.used = 0;
        }
        let base = CHUNKS[self.chunk as usize].load(Ordering::Acquire);
        // SAFETY: `base` points to a leaked block of `chunk_len` bytes written only by this
        // shard (under its lock) past `used`; readers only read bytes already published.
        unsafe {
            let at = base.add(self.used);
            std::ptr::copy_nonoverlapping(prefix.as_ptr(), at, n);
            std::ptr::copy_nonoverlapping(text.as_ptr(), at.add(n), text.len());
        }
        let id = (self.chunk << CHUNK_BITS) | self.used as u32;
        // An oversized chunk holds one text only.
        self.used = if need > CHUNK_SIZE {
            chunk_len(self.chunk)
        } else {
            self.used + need
        };
        id
    }
}

/// Sizes of the chunks (1 MiB but for oversized texts).
static LENGTHS: [AtomicU32; MAX_CHUNKS] = [const { AtomicU32::new(0) }; MAX_CHUNKS];

fn chunk_len(chunk: u32) -> usize {
    LENGTHS[chunk as usize].load(Ordering::Acquire) as usize
}

fn shards() -> &'static [Mutex<Shard>; SHARDS] {
    static S: OnceLock<[Mutex<Shard>; SHARDS]> = OnceLock::new();
    S.get_or_init(|| {
        std::array::from_fn(|_| {
            Mutex::new(Shard {
                table: hashbrown::HashTable::new(),
                chunk: 0,
                used: 0,
            })
        })
    })
}

fn write_varint(out: &mut [u8; 5], mut v: u32) -> usize {
    let mut i = 0;
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out[i] = b;
            return i + 1;
        }
        out[i] = b | 0x80;
        i += 1;
    }
}

/// The text of id `id`.
fn resolve(id: u32) -> &'static str {
    let base = CHUNKS[(id >> CHUNK_BITS) as usize].load(Ordering::Acquire);
    debug_assert!(!base.is_null(), "a Str names a published chunk");
    // SAFETY: an id is only made by `Shard::store`, which wrote a varint length and that
    // many bytes of valid UTF-8 at this offset of a leaked, never-freed block, published
    // with release ordering before the id existed.
    unsafe {
        let mut p = base.add((id & (CHUNK_SIZE as u32 - 1)) as usize);
        let mut len = 0usize;
        let mut shift = 0;
        loop {
            let b = *p;
            p = p.add(1);
            len |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(p, len))
    }
}

/// An interned string: `Copy`, four bytes, compared by id (equal texts share one id),
/// ordered and hashed by its text. It dereferences to a `&'static str`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Str(NonZeroU32);

/// Entries of each thread's cache of recently interned texts.
const RECENT: usize = 4096;

thread_local! {
    /// Each thread's last texts by hash: a dataset repeats most of its text (code-list
    /// values, names and codes of communes, dates) in runs, and a hit here costs neither
    /// the shard's lock nor a probe of its large table.
    static RECENT_TEXTS: std::cell::RefCell<Vec<(u64, u32)>> =
        std::cell::RefCell::new(vec![(0, 0); RECENT]);
}

impl Str {
    /// The id of `text`, interning it on first sight.
    pub fn new(text: &str) -> Str {
        let hash = Build::default().hash_one(text);
        let slot = (hash as usize) % RECENT;
        let recent = RECENT_TEXTS.with(|r| {
            let (h, id) = r.borrow()[slot];
            (id != 0 && h == hash && resolve(id) == text).then_some(id)
        });
        if let Some(id) = recent {
            return Str(NonZeroU32::new(id).expect("ids are not zero"));
        }
        let shard = &shards()[(hash >> 59) as usize % SHARDS];
        let mut s = shard.lock().unwrap_or_else(|e| e.into_inner());
        // The table hashes by the kept high half: the low bits chose this thread's cache
        // slot and the top ones the shard, the middle ones spread the buckets.
        let high = (hash >> 32) as u32;
        let found = s
            .table
            .find(high as u64, |&(id, h)| h == high && resolve(id) == text)
            .map(|&(id, _)| id);
        let id = match found {
            Some(id) => id,
            None => {
                let id = s.store(text);
                s.table
                    .insert_unique(high as u64, (id, high), |&(_, h)| h as u64);
                id
            }
        };
        drop(s);
        RECENT_TEXTS.with(|r| r.borrow_mut()[slot] = (hash, id));
        Str(NonZeroU32::new(id).expect("chunk 0 is never used"))
    }

    /// The text.
    pub fn as_str(self) -> &'static str {
        resolve(self.0.get())
    }

    /// The empty string.
    pub fn empty() -> Str {
        static EMPTY: OnceLock<Str> = OnceLock::new();
        *EMPTY.get_or_init(|| Str::new(""))
    }
}

/// Distinct texts interned so far and the bytes they take (for load reports).
pub fn arena_stats() -> (usize, usize) {
    let texts = shards()
        .iter()
        .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).table.len())
        .sum();
    let chunks = NEXT_CHUNK.load(Ordering::Relaxed) as usize - 1;
    let bytes = (1..=chunks).map(|c| chunk_len(c as u32)).sum();
    (texts, bytes)
}

impl Default for Str {
    fn default() -> Str {
        Str::empty()
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for Str {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if self.0 == other.0 {
            std::cmp::Ordering::Equal
        } else {
            self.as_str().cmp(other.as_str())
        }
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Str> for String {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::new(s)
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str::new(&s)
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Str {
        Str::new(s)
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.as_str().to_string()
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Str {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Str, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str, E> {
                Ok(Str::new(v))
            }
        }
        d.deserialize_str(V)
    }
}

impl From<crate::date::Date> for Str {
    /// The date as the standard writes it, `YYYY-MM-DD`.
    fn from(d: crate::date::Date) -> Self {
        Str::new(&d.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_id_and_resolve_back() {
        let a = Str::new("zone d'activités");
        let b = Str::from(String::from("zone d'activités"));
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "zone d'activités");
        assert_ne!(a, Str::new("zone commerciale"));
        assert_eq!(Str::default().as_str(), "");
        assert!(Str::new("a") < Str::new("b") && Str::new("b") > Str::new("a"));
        assert_eq!(std::mem::size_of::<Option<Str>>(), 4);
    }

    #[test]
    fn long_texts_and_many_threads() {
        let long = "é".repeat(CHUNK_SIZE);
        let s = Str::new(&long);
        assert_eq!(s.as_str(), long);
        assert_eq!(Str::new(&long), s);
        let handles: Vec<_> = (0..4)
            .map(|t| {
                std::thread::spawn(move || {
                    (0..20_000)
                        .map(|i| Str::new(&format!("texte {}", (i * 7 + t) % 25_000)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let all: Vec<Vec<Str>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for (t, ids) in all.iter().enumerate() {
            for (i, s) in ids.iter().enumerate() {
                let text = format!("texte {}", (i * 7 + t) % 25_000);
                assert_eq!(s.as_str(), text);
                assert_eq!(*s, Str::new(&text));
            }
        }
    }

    #[test]
    fn serde_round_trip() {
        let s: Str = serde_json::from_str("\"Amiens\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"Amiens\"");
        let o: Option<Str> = serde_json::from_str("null").unwrap();
        assert!(o.is_none());
    }
}
