//! The HTML encoding of OGC API – Features (`f=html`, or a browser's `Accept: text/html`):
//! the landing page, the collections, a collection, a page of items (a table and a small
//! map) and one item, in French, rendered on the server from the same values as the JSON
//! (no script, no build step). The maps are inline SVG drawn in Lambert-93.

use std::fmt::Write;

use actix_web::HttpRequest;
use geo::{BoundingRect, Geometry};
use serde_json::Value;

use super::query::Params;

/// Whether the client asked for HTML: `f=html` (checked by the query's parser), or, without
/// `f`, an `Accept` header that prefers `text/html` to JSON (a browser; clients of the API
/// name JSON or send `*/*`).
pub fn wanted(req: &HttpRequest, params: &Params) -> bool {
    if let Some(f) = params.get("f") {
        return matches!(f, "html" | "text/html");
    }
    let Some(accept) = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let (mut html, mut json) = (0.0f32, 0.0f32);
    for (media, q) in super::http::weighted(accept) {
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            m if m.ends_with("json") => json = json.max(q),
            _ => {}
        }
    }
    html > 0.0 && html > json
}

/// `text` with the HTML special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;\
color:#1d2733}nav{font-size:.9rem;margin-bottom:1rem}table{border-collapse:collapse;font-size:.85rem}\
th,td{border:1px solid #ccd;padding:.2rem .4rem;text-align:left;vertical-align:top}\
th{background:#eef1f5}.synthetique{background:#fff3cd;border:1px solid #e0b400;padding:.2rem .5rem;\
display:inline-block}.carte{border:1px solid #ccd;background:#f6f8fa;max-width:100%;height:auto}\
.defile{overflow-x:auto}footer{margin-top:2rem;font-size:.8rem;color:#556}";

/// A whole page: title, breadcrumb links, body, and the JSON alternate.
pub fn page(title: &str, trail: &[(String, &str)], alternate: &str, body: &str) -> String {
    let mut nav = String::new();
    for (href, label) in trail {
        let _ = write!(nav, "<a href=\"{}\">{}</a> › ", escape(href), escape(label));
    }
    format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} – ecofoncier</title>\
         <link rel=\"alternate\" type=\"application/json\" href=\"{a}\"><style>{STYLE}</style>\
         </head><body><nav>{nav}{t}</nav><main><h1>{t}</h1>{body}</main>\
         <footer>ecofoncier – OGC API – Features. <a href=\"{a}\">Version JSON</a></footer>\
         </body></html>",
        t = escape(title),
        a = escape(alternate),
    )
}

/// A `<table>` of `rows` under `headers`; cells are already HTML.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<div class=\"defile\"><table><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A count written the French way, thousands apart (a narrow no-break space).
///
/// ```
/// use ecofoncier::api::html::count;
/// assert_eq!(count(1067), "1\u{202f}067");
/// assert_eq!(count(26450123), "26\u{202f}450\u{202f}123");
/// assert_eq!(count(999), "999");
/// ```
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A JSON property value as table cell text.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => escape(s),
        Some(Value::Bool(true)) => "oui".into(),
        Some(Value::Bool(false)) => "non".into(),
        Some(other) => escape(&other.to_string()),
    }
}

/// An inline SVG map of Lambert-93 geometries, each with its title (shown on hover) and a
/// link when given; north up, fitted to their envelope.
pub fn map(features: &[(Geometry<f64>, String, Option<String>)], label: &str) -> String {
    let (w, h) = (640.0, 420.0);
    let mut env: Option<geo::Rect<f64>> = None;
    for (g, _, _) in features {
        if let Some(r) = g.bounding_rect() {
            env = Some(match env {
                None => r,
                Some(e) => geo::Rect::new(
                    (e.min().x.min(r.min().x), e.min().y.min(r.min().y)),
                    (e.max().x.max(r.max().x), e.max().y.max(r.max().y)),
                ),
            });
        }
    }
    let Some(e) = env else {
        return String::new();
    };
    let span = e.width().max(e.height() * w / h).max(1.0);
    let scale = (w - 20.0) / span;
    let cx = (e.min().x + e.max().x) / 2.0;
    let cy = (e.min().y + e.max().y) / 2.0;
    let px = |x: f64, y: f64| ((x - cx) * scale + w / 2.0, h / 2.0 - (y - cy) * scale);
    let mut out = format!(
        "<svg class=\"carte\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(label)
    );
    for (g, title, href) in features {
        let mut d = String::new();
        let mut dots = Vec::new();
        shape(g, &px, &mut d, &mut dots);
        if let Some(href) = href {
            let _ = write!(out, "<a href=\"{}\">", escape(href));
        }
        if !d.is_empty() {
            let _ = write!(
                out,
                "<path d=\"{d}\" fill=\"#2f6fb3\" fill-opacity=\".35\" stroke=\"#1d4f86\" \
                 stroke-width=\"1\" fill-rule=\"evenodd\"><title>{}</title></path>",
                escape(title)
            );
        }
        for (x, y) in dots {
            let _ = write!(
                out,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#c2410c\"><title>{}</title></circle>",
                escape(title)
            );
        }
        if href.is_some() {
            out.push_str("</a>");
        }
    }
    out.push_str("</svg>");
    out
}

fn shape(
    g: &Geometry<f64>,
    px: &dyn Fn(f64, f64) -> (f64, f64),
    d: &mut String,
    dots: &mut Vec<(f64, f64)>,
) {
    let mut ring = |l: &geo::LineString<f64>, close: bool| {
        for (k, c) in l.0.iter().enumerate() {
            let (x, y) = px(c.x, c.y);
            let _ = write!(d, "{}{x:.1} {y:.1}", if k == 0 { "M" } else { "L" });
        }
        if close {
            d.push('Z');
        }
    };
    match g {
        Geometry::Point(p) => dots.push(px(p.x(), p.y())),
        Geometry::MultiPoint(m) => dots.extend(m.0.iter().map(|p| px(p.x(), p.y()))),
        Geometry::LineString(l) => ring(l, false),
        Geometry::MultiLineString(m) => m.0.iter().for_each(|l| ring(l, false)),
        Geometry::Polygon(p) => {
            ring(p.exterior(), true);
            p.interiors().iter().for_each(|l| ring(l, true));
        }
        Geometry::MultiPolygon(m) => {
            for p in &m.0 {
                ring(p.exterior(), true);
                p.interiors().iter().for_each(|l| ring(l, true));
            }
        }
        Geometry::GeometryCollection(c) => c.0.iter().for_each(|g| shape(g, px, d, dots)),
        _ => {}
    }
}

/// The notice of synthetic layers, as the map and the exports show it.
pub const SYNTHETIC: &str = "<p class=\"synthetique\">Données synthétiques ecofoncier \
     (générées, sans réalité) : à ne pas prendre pour un inventaire réel.</p>";

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">Zone d'activité & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;Zone d&#39;activité &amp; co&lt;/a&gt;"
        );
    }
}
