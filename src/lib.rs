//! ecofoncier: decision support for economic land in French intercommunalities.
//!
//! One way through: [`formats`] reads files into the [`model`]'s rows, [`source`] loads a
//! [`source::Dataset`] (a data folder, or PostGIS), [`read_model`] indexes it in memory with
//! R-trees, [`metrics`] and [`tiles`] compute from it, [`publish`] changes it, [`api`] serves
//! it (OGC API – Features, vector tiles, the decision metrics), [`store`] keeps it in PostGIS
//! (migrations, imports, writes), [`generate`] makes the synthetic business layers.
//! Geometry is Lambert-93 (EPSG:2154) inside and CRS84 at the edge ([`crs`]).

pub mod api;
pub mod cli;
pub mod cql2;
pub mod crs;
pub mod date;
pub mod formats;
pub mod generate;
pub mod metrics;
pub mod model;
pub mod publish;
pub mod read_model;
pub mod source;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tiles;

/// The 64-bit FNV-1a hash of `bytes`: stable across builds and platforms, so it can name
/// content (tile ETags) and check that stored text has not changed (migration checksums).
/// Not for security.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A strong HTTP ETag naming `bytes`: their [`fnv64`] in hex, quoted.
pub fn etag_of(bytes: &[u8]) -> String {
    format!("\"{:016x}\"", fnv64(bytes))
}

/// A strong HTTP ETag naming `bytes`, for large responses made on every request (items
/// pages): foldhash with a fixed seed, some ten times faster than [`fnv64`]. Stable for one
/// build of the service (replicas of one release agree); not across releases, which only
/// costs a client one full answer.
pub fn fast_etag_of(bytes: &[u8]) -> String {
    use std::hash::BuildHasher;
    let h = foldhash::quality::FixedState::with_seed(0x6563_6f66_6f6e_6369).hash_one(bytes);
    format!("\"{h:016x}\"")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv64_reference_values() {
        // The reference FNV-1a test vectors.
        assert_eq!(super::fnv64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::fnv64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn fast_etags_name_content() {
        let a = super::fast_etag_of(b"{\"features\":[1]}");
        assert_eq!(a, super::fast_etag_of(b"{\"features\":[1]}"));
        assert_ne!(a, super::fast_etag_of(b"{\"features\":[2]}"));
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 18);
    }
}
