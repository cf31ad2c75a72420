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
}

/// A layer's table of keys or values: each distinct entry once, in order of first use,
/// found again by hashing (a regional tile holds thousands of distinct names).
#[derive(Default)]
struct Interned {
    list: Vec<Vec<u8>>,
    index: std::collections::HashMap<Vec<u8>, u32>,
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

/// The `Tile.Value` message of `v`.
fn value_message(v: &Value) -> Vec<u8> {
    let mut m = Vec::new();
    match v {
        Value::String(s) => bytes_field(&mut m, 1, s.as_bytes()),
        Value::Double(d) => {
            key(&mut m, 3, 1);
            m.extend_from_slice(&d.to_le_bytes());
        }
        Value::Uint(u) => {
            key(&mut m, 5, 0);
            varint(&mut m, *u);
        }
        Value::Bool(b) => {
            key(&mut m, 7, 0);
            varint(&mut m, *b as u64);
        }
    }
    m
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

/// Twice the signed area of a ring in y-down coordinates: positive when clockwise on screen.
fn area2(ring: &[(i32, i32)]) -> i64 {
    let mut s = 0i64;
    for w in ring.windows(2) {
        s += w[0].0 as i64 * w[1].1 as i64 - w[1].0 as i64 * w[0].1 as i64;
    }
    s
}

/// The geometry commands of `g`; `None` when nothing is left to draw.
fn encode_geometry(g: &TileGeometry) -> Option<(u32, Vec<u32>)> {
    let mut cmds = Vec::new();
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
                delta(&mut cmds, p);
            }
            Some((1, cmds))
        }
        TileGeometry::Polygons(polys) => {
            for poly in polys {
                for (i, ring) in poly.iter().enumerate() {
                    // Closed input ring: drop the repeated last position and collapsed steps.
                    let mut r: Vec<(i32, i32)> = Vec::with_capacity(ring.len());
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
                    let mut closed = r.clone();
                    closed.push(r[0]);
                    let a = area2(&closed);
                    if a == 0 {
                        continue;
                    }
                    let exterior = i == 0;
                    if (a > 0) != exterior {
                        r.reverse();
                    }
                    cmds.push(command(1, 1));
                    delta(&mut cmds, r[0]);
                    cmds.push(command(2, r.len() - 1));
                    for &p in &r[1..] {
                        delta(&mut cmds, p);
                    }
                    cmds.push(command(7, 1));
                }
            }
            (!cmds.is_empty()).then_some((3, cmds))
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
        }
    }

    /// Adds a feature; returns false when its geometry vanished at this zoom.
    pub fn add(&mut self, id: Option<u64>, g: &TileGeometry, props: &[(&str, Value)]) -> bool {
        let Some((kind, cmds)) = encode_geometry(g) else {
            return false;
        };
        let mut tags = Vec::with_capacity(props.len() * 2);
        for (k, v) in props {
            tags.push(self.keys.id(k.as_bytes()));
            tags.push(self.values.id(&value_message(v)));
        }
        let mut f = Vec::with_capacity(16 + cmds.len() * 2);
        if let Some(id) = id {
            key(&mut f, 1, 0);
            varint(&mut f, id);
        }
        let mut packed = Vec::new();
        for t in tags {
            varint(&mut packed, t as u64);
        }
        bytes_field(&mut f, 2, &packed);
        key(&mut f, 3, 0);
        varint(&mut f, kind as u64);
        packed.clear();
        for c in cmds {
            varint(&mut packed, c as u64);
        }
        bytes_field(&mut f, 4, &packed);
        bytes_field(&mut self.features, 2, &f);
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

    #[test]
    fn the_specification_examples() {
        // MVT 2.1 §4.3.5: a point at (25, 17) is [9, 50, 34].
        let (kind, cmds) = encode_geometry(&TileGeometry::Points(vec![(25, 17)])).unwrap();
        assert_eq!((kind, cmds), (1, vec![9, 50, 34]));
        // §4.3.5.3-like: polygon (3,6) (8,12) (20,34), closed.
        let ring = vec![(3, 6), (8, 12), (20, 34), (3, 6)];
        let (kind, cmds) = encode_geometry(&TileGeometry::Polygons(vec![vec![ring]])).unwrap();
        assert_eq!(kind, 3);
        assert_eq!(cmds, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }

    #[test]
    fn exterior_rings_are_clockwise_on_screen_holes_not() {
        let square = vec![(0, 0), (0, 10), (10, 10), (10, 0), (0, 0)]; // counter-clockwise on screen
        let hole = vec![(2, 2), (4, 2), (4, 4), (2, 4), (2, 2)];
        let (_, cmds) = encode_geometry(&TileGeometry::Polygons(vec![vec![square, hole]])).unwrap();
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
        assert!(encode_geometry(&TileGeometry::Polygons(vec![vec![flat]])).is_none());
    }
}
