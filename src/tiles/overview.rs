//! A static overview of what is loaded: every EPCI filled by its class (rural or urban) with
//! its outline, as a PNG at the scale of the web map's first view ([`fit_zoom`]: 7.3 for
//! Hauts-de-France, 5 for metropolitan France; Web Mercator). The
//! page shows it at once, where the map will draw the region, and removes it when the map's
//! first frame with the EPCIs is drawn; a browser without WebGL keeps it.
//!
//! A PNG rather than SVG: in a browser without a GPU (software WebGL and rasterization),
//! painting 92 detailed SVG paths took a second and slowed the map's own first frame; an
//! image is one texture.

use geo::{BoundingRect, Geometry};

/// The zoom of the web map's first view of Web Mercator bounds `b` (min x, min y, max x,
/// max y, metres): the highest, to a tenth, at which `b` fits the page's map area of about
/// 660 × 800 CSS pixels (MapLibre's 512-pixel tiles: 512 × 2^zoom pixels round the world).
///
/// ```
/// use ecofoncier::crs::lonlat_to_web_mercator;
/// let (x0, y0) = lonlat_to_web_mercator(1.41, 48.82);
/// let (x1, y1) = lonlat_to_web_mercator(4.29, 51.09);
/// // Hauts-de-France.
/// assert_eq!(ecofoncier::tiles::overview::fit_zoom([x0, y0, x1, y1]), 7.3);
/// ```
pub fn fit_zoom(b: [f64; 4]) -> f64 {
    let world = 2.0 * crate::tiles::WORLD;
    let fit = |span: f64, px: f64| (world * px / (512.0 * span.max(1.0))).log2();
    let zoom = fit(b[2] - b[0], 660.0)
        .min(fit(b[3] - b[1], 800.0))
        .clamp(0.0, 16.0);
    (zoom * 10.0).floor() / 10.0
}

/// Web Mercator metres per CSS pixel at `zoom` (512-pixel tiles).
fn metres_per_pixel(zoom: f64) -> f64 {
    2.0 * crate::tiles::WORLD / (512.0 * 2f64.powf(zoom))
}
/// Subpixels per pixel along each axis (antialiasing by 3 × 3 supersampling).
const SUB: usize = 3;

/// Colours: the map's fills (35 % over its background `#eef1f4`) and outline.
const BACKGROUND: [f64; 3] = [238.0, 241.0, 244.0];
const RURAL: [f64; 3] = [169.0, 209.0, 142.0];
const URBAN: [f64; 3] = [180.0, 167.0, 214.0];
const OUTLINE: [f64; 3] = [92.0, 95.0, 102.0];

/// The overview image and where it goes.
#[derive(Clone, Debug)]
pub struct Overview {
    pub png: bytes::Bytes,
    /// The image's ETag (FNV-1a of its bytes), also its version in the page's URL.
    pub etag: String,
    /// Web Mercator bounds of the image: min x, min y, max x, max y (metres).
    pub bounds: [f64; 4],
    pub width: usize,
    pub height: usize,
    /// The zoom it is drawn at: the map's first view ([`fit_zoom`] of the data's bounds).
    pub zoom: f64,
}

/// Renders `geometries` (Web Mercator polygons; `rural(i)` tells each one's class) at the
/// zoom that fits them ([`fit_zoom`]).
pub fn render(geometries: &[Geometry<f64>], rural: impl Fn(usize) -> bool) -> Option<Overview> {
    render_at(geometries, rural, None)
}

/// [`render`] at `zoom` when given.
pub fn render_at(
    geometries: &[Geometry<f64>],
    rural: impl Fn(usize) -> bool,
    zoom: Option<f64>,
) -> Option<Overview> {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for r in geometries.iter().filter_map(|g| g.bounding_rect()) {
        b = [
            b[0].min(r.min().x),
            b[1].min(r.min().y),
            b[2].max(r.max().x),
            b[3].max(r.max().y),
        ];
    }
    if b[0] >= b[2] || b[1] >= b[3] {
        return None;
    }
    let zoom = zoom.unwrap_or_else(|| fit_zoom(b));
    let m = metres_per_pixel(zoom);
    let (width, height) = (
        ((b[2] - b[0]) / m).ceil() as usize + 1,
        ((b[3] - b[1]) / m).ceil() as usize + 1,
    );
    let bounds = [
        b[0],
        b[3] - height as f64 * m,
        b[0] + width as f64 * m,
        b[3],
    ];
    // Labels at SUB × SUB per pixel: 0 outside, 1 + the index of the EPCI inside.
    let (sw, sh) = (width * SUB, height * SUB);
    let sm = m / SUB as f64;
    let mut label = vec![0u32; sw * sh];
    let classes: Vec<bool> = (0..geometries.len()).map(&rural).collect();
    for (i, g) in geometries.iter().enumerate() {
        let polygons = match g {
            Geometry::Polygon(p) => std::slice::from_ref(p),
            Geometry::MultiPolygon(mp) => &mp.0[..],
            _ => continue,
        };
        // Edges in subpixel coordinates (y down).
        let mut edges: Vec<(f64, f64, f64, f64)> = Vec::new();
        for p in polygons {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    let to = |c: geo::Coord<f64>| ((c.x - bounds[0]) / sm, (bounds[3] - c.y) / sm);
                    let ((x0, y0), (x1, y1)) = (to(l.start), to(l.end));
                    if y0 != y1 {
                        edges.push((x0, y0, x1, y1));
                    }
                }
            }
        }
        fill_even_odd(&edges, &mut label, sw, sh, i as u32 + 1);
    }
    // Pixels: the mean colour of their subpixels; a subpixel next to another label is
    // outline (about one pixel wide once averaged).
    let mut rgba = Vec::with_capacity(width * height * 4);
    for py in 0..height {
        for px in 0..width {
            let (mut acc, mut inside) = ([0.0; 3], 0usize);
            for sy in py * SUB..(py + 1) * SUB {
                for sx in px * SUB..(px + 1) * SUB {
                    let l = label[sy * sw + sx];
                    if l == 0 {
                        continue;
                    }
                    let edge = [(1, 0), (0, 1), (-1, 0), (0, -1)].iter().any(|(dx, dy)| {
                        let (nx, ny) = (sx as i64 + dx, sy as i64 + dy);
                        nx < 0
                            || ny < 0
                            || nx >= sw as i64
                            || ny >= sh as i64
                            || label[ny as usize * sw + nx as usize] != l
                    });
                    let c = match (edge, classes[l as usize - 1]) {
                        (true, _) => OUTLINE,
                        (false, true) => blend(RURAL),
                        (false, false) => blend(URBAN),
                    };
                    inside += 1;
                    for k in 0..3 {
                        acc[k] += c[k];
                    }
                }
            }
            if inside == 0 {
                rgba.extend_from_slice(&[0, 0, 0, 0]);
            } else {
                let n = inside as f64;
                let alpha = n / (SUB * SUB) as f64;
                rgba.extend_from_slice(&[
                    (acc[0] / n).round() as u8,
                    (acc[1] / n).round() as u8,
                    (acc[2] / n).round() as u8,
                    (alpha * 255.0).round() as u8,
                ]);
            }
        }
    }
    let png = png_rgba(width, height, &rgba);
    Some(Overview {
        etag: crate::etag_of(&png),
        png: png.into(),
        bounds,
        width,
        height,
        zoom,
    })
}

/// A fill at 35 % over the map's background, as the map draws it.
fn blend(c: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|k| 0.35 * c[k] + 0.65 * BACKGROUND[k])
}

/// Sets `value` in every subpixel whose centre is inside `edges` (even-odd rule).
fn fill_even_odd(edges: &[(f64, f64, f64, f64)], out: &mut [u32], w: usize, h: usize, value: u32) {
    let (mut ymin, mut ymax) = (f64::MAX, f64::MIN);
    for &(_, y0, _, y1) in edges {
        ymin = ymin.min(y0.min(y1));
        ymax = ymax.max(y0.max(y1));
    }
    if edges.is_empty() {
        return;
    }
    let first = (ymin - 0.5).ceil().max(0.0) as usize;
    let last = ((ymax - 0.5).floor() as i64).min(h as i64 - 1);
    let mut xs = Vec::new();
    for y in first as i64..=last {
        let yc = y as f64 + 0.5;
        xs.clear();
        for &(x0, y0, x1, y1) in edges {
            if (y0 <= yc) != (y1 <= yc) {
                xs.push(x0 + (yc - y0) * (x1 - x0) / (y1 - y0));
            }
        }
        xs.sort_by(f64::total_cmp);
        let row = &mut out[y as usize * w..(y as usize + 1) * w];
        for pair in xs.chunks_exact(2) {
            let a = (pair[0] - 0.5).ceil().max(0.0) as usize;
            let b = ((pair[1] - 0.5).floor() as i64).min(w as i64 - 1);
            if b >= a as i64 {
                row[a..=b as usize].fill(value);
            }
        }
    }
}

/// An RGBA PNG, 8 bits per channel (the `png` crate; unfiltered rows compress best for flat
/// fills: 33 KB where adaptive filters give 69 KB).
fn png_rgba(width: usize, height: usize, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width as u32, height as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    encoder.set_filter(png::Filter::NoFilter);
    // Writing into memory an image of the declared size cannot fail.
    let written = encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(rgba));
    debug_assert!(written.is_ok(), "{written:?}");
    out
}

#[cfg(test)]
mod tests {
    use geo::{polygon, Geometry};

    #[test]
    fn two_squares_side_by_side() {
        let m = super::metres_per_pixel(7.3);
        // Two 30-pixel squares, rural on the left, urban on the right.
        let sq = |x0: f64| {
            Geometry::Polygon(polygon![(x: x0, y: 0.0), (x: x0 + 30.0 * m, y: 0.0),
                (x: x0 + 30.0 * m, y: 30.0 * m), (x: x0, y: 30.0 * m), (x: x0, y: 0.0)])
        };
        let o = super::render_at(&[sq(0.0), sq(30.0 * m)], |i| i == 0, Some(7.3)).unwrap();
        assert_eq!(o.zoom, 7.3);
        // 60 × 30 pixels and the one the last edge falls in (rounding may add one).
        assert!((61..=62).contains(&o.width) && (31..=32).contains(&o.height));
        assert_eq!(&o.png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&o.png[12..16], b"IHDR");
        assert_eq!(
            u32::from_be_bytes(o.png[16..20].try_into().unwrap()),
            o.width as u32
        );
        assert!((o.bounds[0] - 0.0).abs() < 1e-6 && (o.bounds[3] - 30.0 * m).abs() < 1e-6);
    }

    #[test]
    fn even_odd_fill_inside_only() {
        // A 4 × 4 square from (1, 1) to (5, 5) in an 8 × 8 grid.
        let e = [
            (1.0, 1.0, 5.0, 1.0),
            (5.0, 1.0, 5.0, 5.0),
            (5.0, 5.0, 1.0, 5.0),
            (1.0, 5.0, 1.0, 1.0),
        ];
        let edges: Vec<_> = e.iter().copied().filter(|e| e.1 != e.3).collect();
        let mut out = vec![0u32; 64];
        super::fill_even_odd(&edges, &mut out, 8, 8, 7);
        let filled: Vec<usize> = (0..64).filter(|&i| out[i] == 7).collect();
        assert_eq!(filled.len(), 16);
        assert!(filled
            .iter()
            .all(|&i| (1..5).contains(&(i % 8)) && (1..5).contains(&(i / 8))));
    }
}
