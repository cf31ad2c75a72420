//! Reads a CNIG `;`-CSV through the streaming table reader and, whole, through the record
//! splitter, and prints rows, rejections and time of each: the figures of the CSV reader
//! in BENCHMARKS.md.
//!
//! `cargo run --release --example read_cnig_csv -- FILE [stream|split]` (both by default;
//! one at a time for its peak memory).

use std::time::Instant;

use ecofoncier::formats::cnig::csv::{records, TableReader};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: read_cnig_csv FILE [stream|split]");
    let mode = std::env::args().nth(2).unwrap_or_default();
    if mode != "split" {
        stream(&path);
    }
    if mode != "stream" {
        split(&path);
    }
}

fn stream(path: &str) {
    let t = Instant::now();
    let file = std::fs::File::open(path).expect("readable file");
    let reader = TableReader::new(std::io::BufReader::with_capacity(1 << 20, file)).unwrap();
    let (mut rows, mut rejected) = (0usize, 0usize);
    for r in reader {
        match r {
            Ok(_) => rows += 1,
            Err(_) => rejected += 1,
        }
    }
    let streamed = t.elapsed().as_secs_f64();
    println!(
        "table reader: {rows} rows, {rejected} rejected in {streamed:.2} s ({:.0} rows/s)",
        rows as f64 / streamed
    );
}

fn split(path: &str) {
    let text = std::fs::read_to_string(path).expect("UTF-8 text");
    let t = Instant::now();
    let n = records(&text).len();
    let split = t.elapsed().as_secs_f64();
    println!(
        "record splitter: {n} records in {split:.2} s ({:.0} records/s)",
        n as f64 / split
    );
}
