//! A minimal Mapbox Vector Tile decoder for the tests (protocol buffers read by hand, so the
//! tests do not depend on the encoder's own types), and the XYZ tile of a point.

/// A decoded layer: name, extent, keys, values (as text), features (id, tags, type, geometry).
#[derive(Debug, Default)]
pub struct Layer {
    pub name: String,
    pub extent: u64,
    pub keys: Vec<String>,
    pub values: Vec<String>,
    pub features: Vec<(u64, Vec<u64>, u64, Vec<u64>)>,
}

fn varint(b: &[u8], i: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let byte = b[*i];
        *i += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Fields of a protocol-buffers message: (number, varint value or bytes).
fn fields(b: &[u8]) -> Vec<(u64, Result<u64, &[u8]>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let k = varint(b, &mut i);
        match k & 7 {
            0 => out.push((k >> 3, Ok(varint(b, &mut i)))),
            1 => {
                out.push((
                    k >> 3,
                    Ok(u64::from_le_bytes(b[i..i + 8].try_into().unwrap())),
                ));
                i += 8;
            }
            2 => {
                let n = varint(b, &mut i) as usize;
                out.push((k >> 3, Err(&b[i..i + n])));
                i += n;
            }
            w => panic!("wire type {w}"),
        }
    }
    out
}

fn packed(b: &[u8]) -> Vec<u64> {
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        out.push(varint(b, &mut i));
    }
    out
}

pub fn decode(tile: &[u8]) -> Vec<Layer> {
    fields(tile)
        .into_iter()
        .filter(|(n, _)| *n == 3)
        .map(|(_, v)| {
            let mut l = Layer::default();
            for (n, v) in fields(v.unwrap_err()) {
                match (n, v) {
                    (1, Err(s)) => l.name = String::from_utf8(s.to_vec()).unwrap(),
                    (5, Ok(e)) => l.extent = e,
                    (3, Err(s)) => l.keys.push(String::from_utf8(s.to_vec()).unwrap()),
                    (4, Err(s)) => {
                        let (n, v) = fields(s)[0];
                        l.values.push(match (n, v) {
                            (1, Err(t)) => String::from_utf8(t.to_vec()).unwrap(),
                            (3, Ok(bits)) => f64::from_bits(bits).to_string(),
                            (5, Ok(u)) => u.to_string(),
                            (7, Ok(b)) => (b != 0).to_string(),
                            other => panic!("value {other:?}"),
                        });
                    }
                    (2, Err(f)) => {
                        let (mut id, mut tags, mut kind, mut geom) = (0, vec![], 0, vec![]);
                        for (n, v) in fields(f) {
                            match (n, v) {
                                (1, Ok(x)) => id = x,
                                (2, Err(p)) => tags = packed(p),
                                (3, Ok(x)) => kind = x,
                                (4, Err(p)) => geom = packed(p),
                                _ => {}
                            }
                        }
                        l.features.push((id, tags, kind, geom));
                    }
                    _ => {}
                }
            }
            l
        })
        .collect()
}

/// The first position of a feature's geometry commands (a MoveTo).
pub fn first_position(geom: &[u64]) -> (i64, i64) {
    let unzig = |v: u64| ((v >> 1) as i64) ^ -((v & 1) as i64);
    assert_eq!(geom[0] & 7, 1, "starts with MoveTo");
    (unzig(geom[1]), unzig(geom[2]))
}

/// XYZ tile of a longitude/latitude at zoom `z`.
pub fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = (1u64 << z) as f64;
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let lat_r = lat.to_radians();
    let y = ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor() as u32;
    (x, y)
}

impl Layer {
    /// The value of property `key` of the feature whose property `id_key` is `id`.
    pub fn property_of(&self, id_key: &str, id: &str, key: &str) -> Option<&str> {
        let tag = |tags: &[u64], k: &str| {
            tags.chunks(2)
                .find(|kv| self.keys[kv[0] as usize] == k)
                .map(|kv| self.values[kv[1] as usize].as_str())
        };
        self.features
            .iter()
            .find(|f| tag(&f.1, id_key) == Some(id))
            .and_then(|f| tag(&f.1, key))
    }
}
