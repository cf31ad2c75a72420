//! A persistent vector: values in chunks of [`CHUNK`] shared between versions, so that a
//! version with one value changed costs one chunk and one table of chunk pointers, not a
//! copy of the whole vector. Snapshots of the read model share everything an edit did not
//! touch through it.

use std::sync::Arc;

/// Values a chunk holds (a power of two).
pub const CHUNK_BITS: usize = 10;
pub const CHUNK: usize = 1 << CHUNK_BITS;

/// A vector whose clones share their chunks; [`PVec::set`] and [`PVec::push`] copy the one
/// chunk they change when another version still uses it.
#[derive(Debug)]
pub struct PVec<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Clone for PVec<T> {
    fn clone(&self) -> Self {
        PVec {
            chunks: self.chunks.clone(),
            len: self.len,
        }
    }
}

impl<T> Default for PVec<T> {
    fn default() -> Self {
        PVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> PVec<T> {
    /// The values of `v`, in order.
    pub fn from_vec(v: Vec<T>) -> Self {
        let len = v.len();
        let mut chunks = Vec::with_capacity(len.div_ceil(CHUNK));
        let mut it = v.into_iter();
        loop {
            let c: Vec<T> = it.by_ref().take(CHUNK).collect();
            if c.is_empty() {
                break;
            }
            chunks.push(Arc::new(c));
        }
        PVec { chunks, len }
    }

    /// `n` copies of `value`.
    pub fn filled(value: T, n: usize) -> Self {
        let mut chunks = Vec::with_capacity(n.div_ceil(CHUNK));
        let mut left = n;
        while left > 0 {
            let k = left.min(CHUNK);
            chunks.push(Arc::new(vec![value.clone(); k]));
            left -= k;
        }
        PVec { chunks, len: n }
    }

    /// Replaces value `i` (copying its chunk if it is shared).
    pub fn set(&mut self, i: usize, value: T) {
        assert!(i < self.len, "index {i} out of {}", self.len);
        Arc::make_mut(&mut self.chunks[i >> CHUNK_BITS])[i & (CHUNK - 1)] = value;
    }

    /// Value `i`, mutably (its chunk copied first if it is shared).
    pub fn get_mut(&mut self, i: usize) -> &mut T {
        assert!(i < self.len, "index {i} out of {}", self.len);
        &mut Arc::make_mut(&mut self.chunks[i >> CHUNK_BITS])[i & (CHUNK - 1)]
    }

    /// Appends a value.
    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(CHUNK) {
            let mut c = Vec::with_capacity(CHUNK);
            c.push(value);
            self.chunks.push(Arc::new(c));
        } else {
            let last = self.chunks.last_mut().expect("a partial chunk");
            Arc::make_mut(last).push(value);
        }
        self.len += 1;
    }
}

impl<T> PVec<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Value `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &T {
        &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }

    /// Value `i`, `None` past the end.
    pub fn try_get(&self, i: usize) -> Option<&T> {
        (i < self.len).then(|| self.get(i))
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &T> + DoubleEndedIterator + '_ {
        Iter {
            inner: self.chunks.iter().flat_map(|c| c.iter()),
            left: self.len,
        }
    }

    /// The chunks, in order (each [`CHUNK`] values but the last): for passes that split the
    /// work by chunk.
    pub fn chunks(&self) -> impl Iterator<Item = &[T]> + '_ {
        self.chunks.iter().map(|c| c.as_slice())
    }

    /// How many chunks `self` and `other` share (same allocation): a measure of what an
    /// edit copied.
    pub fn shared_chunks(&self, other: &PVec<T>) -> usize {
        self.chunks
            .iter()
            .zip(&other.chunks)
            .filter(|(a, b)| Arc::ptr_eq(a, b))
            .count()
    }
}

struct Iter<I> {
    inner: I,
    left: usize,
}

impl<'a, T: 'a, I: Iterator<Item = &'a T>> Iterator for Iter<I> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        let v = self.inner.next()?;
        self.left -= 1;
        Some(v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, T: 'a, I: Iterator<Item = &'a T> + DoubleEndedIterator> DoubleEndedIterator for Iter<I> {
    fn next_back(&mut self) -> Option<&'a T> {
        let v = self.inner.next_back()?;
        self.left -= 1;
        Some(v)
    }
}

impl<'a, T: 'a, I: Iterator<Item = &'a T>> ExactSizeIterator for Iter<I> {}

impl<T> std::ops::Index<usize> for PVec<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        self.get(i)
    }
}

impl<T: Clone> FromIterator<T> for PVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        PVec::from_vec(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_share_untouched_chunks() {
        let a: PVec<u32> = (0..5_000).collect();
        let mut b = a.clone();
        b.set(2_100, 7);
        b.push(9);
        assert_eq!(a[2_100], 2_100);
        assert_eq!(b[2_100], 7);
        assert_eq!((a.len(), b.len()), (5_000, 5_001));
        assert_eq!(b[5_000], 9);
        // Chunk 2 (the set) and chunk 4 (the push) were copied; 0, 1 and 3 are shared.
        assert_eq!(a.shared_chunks(&b), 3);
        assert!(b.iter().copied().eq((0..5_000)
            .map(|i| if i == 2_100 { 7 } else { i })
            .chain([9])));
        assert_eq!(b.iter().len(), 5_001);
        let mut c = PVec::filled(1u8, 2_049);
        *c.get_mut(2_048) = 2;
        assert_eq!(c.iter().map(|&v| v as usize).sum::<usize>(), 2_050);
        assert_eq!(c.chunks().count(), 3);
    }
}
