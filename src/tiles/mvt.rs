//! Mapbox Vector Tile 2.1 encoding (a protocol-buffers message written by hand: the format
//! is four small messages, no code generator needed).
//!
//! Geometry is given in tile coordinates (0..extent, y down). Rings are written with the
//! winding the specification asks for: exterior rings clockwise on screen (positive area in
//! the y-down "surveyor's" sum), interior rings the other way.

/// A property value of a feature.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(String),
    Double(f64),
    Uint(u64),
    Bool(bool),
}

/// A feature's geometry in tile coordinates.
#[derive(Clone, Debug, PartialEq)]
pub enum TileGeometry {
    Points(Vec<(i32, i32)>),
    /// Polygons, each a list of rings (exterior first).
    Polygons(Vec<Vec<Vec<(i32, i32)>>>),
}

/// Builds one layer of a tile.
pub struct LayerBuilder {
    name: String,
    extent: u32,
    keys: Interned,
    values: Interned,
    features: Vec<u8>,
    count: usize,
    /// Buffers reused from feature to feature.
    scratch: Scratch,
}

#[derive(Default)]
struct Scratch {
    cmds: Vec<u32>,
    ring: Vec<(i32, i32)>,
    tags: Vec<u32>,
    value: Vec<u8>,
    packed: Vec<u8>,
    feature: Vec<u8>,
}

/// A layer's table of keys or values: each distinct entry once, in order of first use,
/// found again by hashing (a regional tile holds thousands of distinct names).
#[derive(Default)]
struct Interned {
    list: Vec<Vec<u8>>,
    index: rustc_hash::FxHashMap<Vec<u8>, u32>,
}

impl Interned {
    /// The index of `item`, added when new.
    fn id(&mut self, item: &[u8]) -> u32 {
        if let Some(&i) = self.index.get(item) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(item.to_vec());
        self.index.insert(item.to_vec(), i);
        i
    }
}

/// Writes the `Tile.Value` message of `v` into `m`.
fn value_message(m: &mut Vec<u8>, v: &Value) {
    m.clear();
    match v {
        Value::String(s) => bytes_field(m, 1, s.as_bytes()),
        Value::Double(d) => {
            key(m, 3, 1);
            m.extend_from_slice(&d.to_le_bytes());
        }
        Value::Uint(u) => {
            key(m, 5, 0);
            varint(m, *u);
        }
        Value::Bool(b) => {
            key(m, 7, 0);
            varint(m, *b as u64);
        }
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, ((field << 3) | wire) as u64);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn command(id: u32, count: usize) -> u32 {
    (id & 7) | ((count as u32) << 3)
}

/// Twice the signed area of an open ring (its last position joins its first) in y-down
/// coordinates: positive when clockwise on screen.
fn area2(ring: &[(i32, i32)]) -> i64 {
    let mut s = 0i64;
    for (k, &(x0, y0)) in ring.iter().enumerate() {
        let (x1, y1) = ring[(k + 1) % ring.len()];
        s += x0 as i64 * y1 as i64 - x1 as i64 * y0 as i64;
    }
    s
}

/// Writes the geometry commands of `g` into `cmds` (`r`: a ring's buffer) and returns the
/// geometry type; `None` when nothing is left to draw.
fn encode_geometry(g: &TileGeometry, cmds: &mut Vec<u32>, r: &mut Vec<(i32, i32)>) -> Option<u32> {
    cmds.clear();
    let (mut cx, mut cy) = (0i32, 0i32);
    let mut delta = |cmds: &mut Vec<u32>, (x, y): (i32, i32)| {
        cmds.push(zigzag(x - cx));
        cmds.push(zigzag(y - cy));
        cx = x;
        cy = y;
    };
    match g {
        TileGeometry::Points(pts) => {
            if pts.is_empty() {
                return None;
            }
            cmds.push(command(1, pts.len()));
            for &p in pts {
                delta(cmds, p);
            }
            Some(1)
        }
        TileGeometry::Polygons(polys) => {
            for poly in polys {
                for (i, ring) in poly.iter().enumerate() {
                    // Closed input ring: drop the repeated last position and collapsed steps.
                    r.clear();
                    for &p in ring {
                        if r.last() != Some(&p) {
                            r.push(p);
                        }
                    }
                    if r.len() > 1 && r.first() == r.last() {
                        r.pop();
                    }
                    if r.len() < 3 {
                        continue;
                    }
                    let a = area2(r);
                    if a == 0 {
                        continue;
                    }
                    let exterior = i == 0;
                    if (a > 0) != exterior {
                        r.reverse();
                    }
                    cmds.push(command(1, 1));
                    delta(cmds, r[0]);
                    cmds.push(command(2, r.len() - 1));
                    for &p in &r[1..] {
                        delta(cmds, p);
                    }
                    cmds.push(command(7, 1));
                }
            }
            (!cmds.is_empty()).then_some(3)
        }
    }
}

impl LayerBuilder {
    pub fn new(name: &str, extent: u32) -> Self {
        LayerBuilder {
            name: name.to_string(),
            extent,
            keys: Interned::default(),
            values: Interned::default(),
            features: Vec::new(),
            count: 0,
            scratch: Scratch::default(),
        }
    }

    /// Adds a feature; returns false when its geometry vanished at this zoom.
    pub fn add(&mut self, id: Option<u64>, g: &TileGeometry, props: &[(&str, Value)]) -> bool {
        let s = &mut self.scratch;
        let Some(kind) = encode_geometry(g, &mut s.cmds, &mut s.ring) else {
            return false;
        };
        s.tags.clear();
        for (k, v) in props {
            s.tags.push(self.keys.id(k.as_bytes()));
            value_message(&mut s.value, v);
            s.tags.push(self.values.id(&s.value));
        }
        let f = &mut s.feature;
        f.clear();
        if let Some(id) = id {
            key(f, 1, 0);
            varint(f, id);
        }
        s.packed.clear();
        for &t in &s.tags {
            varint(&mut s.packed, t as u64);
        }
        bytes_field(f, 2, &s.packed);
        key(f, 3, 0);
        varint(f, kind as u64);
        s.packed.clear();
        for &c in &s.cmds {
            varint(&mut s.packed, c as u64);
        }
        bytes_field(f, 4, &s.packed);
        bytes_field(&mut self.features, 2, f);
        self.count += 1;
        true
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The layer message, as a field of a tile (`Tile.layers`, field 3).
    pub fn finish(self, tile: &mut Vec<u8>) {
        let mut l = Vec::with_capacity(self.features.len() + 256);
        key(&mut l, 15, 0);
        varint(&mut l, 2);
        bytes_field(&mut l, 1, self.name.as_bytes());
        l.extend_from_slice(&self.features);
        for k in &self.keys.list {
            bytes_field(&mut l, 3, k);
        }
        for m in &self.values.list {
            bytes_field(&mut l, 4, m);
        }
        key(&mut l, 5, 0);
        varint(&mut l, self.extent as u64);
        bytes_field(tile, 3, &l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The geometry type and commands of `g`.
    fn encode(g: &TileGeometry) -> Option<(u32, Vec<u32>)> {
        let mut cmds = Vec::new();
        let kind = encode_geometry(g, &mut cmds, &mut Vec::new())?;
        Some((kind, cmds))
    }

    #[test]
    fn the_specification_examples() {
        // MVT 2.1 §4.3.5: a point at (25, 17) is [9, 50, 34].
        let (kind, cmds) = encode(&TileGeometry::Points(vec![(25, 17)])).unwrap();
        assert_eq!((kind, cmds), (1, vec![9, 50, 34]));
        // §4.3.5.3-like: polygon (3,6) (8,12) (20,34), closed.
        let ring = vec![(3, 6), (8, 12), (20, 34), (3, 6)];
        let (kind, cmds) = encode(&TileGeometry::Polygons(vec![vec![ring]])).unwrap();
        assert_eq!(kind, 3);
        assert_eq!(cmds, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn exterior_rings_are_clockwise_on_screen_holes_not() {
        let square = vec![(0, 0), (0, 10), (10, 10), (10, 0), (0, 0)]; // counter-clockwise on screen
        let hole = vec![(2, 2), (4, 2), (4, 4), (2, 4), (2, 2)];
        let (_, cmds) = encode(&TileGeometry::Polygons(vec![vec![square, hole]])).unwrap();
        // The exterior ring reversed: MoveTo(10,0), LineTo (10,10), (0,10), (0,0).
        assert_eq!(&cmds[..3], &[9, zigzag(10), 0]);
        assert_eq!(cmds[3], command(2, 3));
        assert_eq!((cmds[4], cmds[5]), (0, zigzag(10)));
        // The hole, given clockwise on screen, is reversed: MoveTo(2,4) from (0,0).
        let hole_start = cmds.iter().position(|&c| c == 15).unwrap() + 1;
        assert_eq!(
            &cmds[hole_start..hole_start + 3],
            &[9, zigzag(2), zigzag(4)]
        );
        // A ring collapsed to a line disappears; nothing left means no feature.
        let flat = vec![(0, 0), (5, 0), (9, 0), (0, 0)];
        assert!(encode(&TileGeometry::Polygons(vec![vec![flat]])).is_none());
    }
}
