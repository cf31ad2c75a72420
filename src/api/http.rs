//! What every route shares at the HTTP edge: the base URL of links, request bodies read
//! within a limit, a feature's ETag and JSON answers.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{de::DeserializeOwned, Serialize};

use super::problem::{ApiError, ApiResult};

/// Largest accepted request body, bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// The scheme and host the client used (behind a proxy: its forwarded headers).
pub fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// A 304 carrying `etag` when the request's `If-None-Match` names it (see
/// [`super::not_modified`]).
pub fn unchanged(req: &HttpRequest, etag: &str) -> Option<HttpResponse> {
    super::not_modified(req, etag).then(|| {
        HttpResponse::NotModified()
            .insert_header((actix_web::http::header::ETAG, etag.to_string()))
            .finish()
    })
}

/// The strong ETag of a feature's version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The entity tags of an `If-Match` or `If-None-Match` list (RFC 9110 §8.8.3): each with
/// whether it is weak (`W/`), its opaque text without quotes; `None` when `text` is not such
/// a list.
pub fn entity_tags(text: &str) -> Option<Vec<(bool, &str)>> {
    let mut tags = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let weak = rest.starts_with("W/");
        let quoted = rest.strip_prefix("W/").unwrap_or(rest).strip_prefix('"')?;
        let end = quoted.find('"')?;
        tags.push((weak, &quoted[..end]));
        rest = quoted[end + 1..].trim_start();
        match rest.strip_prefix(',') {
            Some(r) => rest = r.trim_start(),
            None if rest.is_empty() => {}
            None => return None,
        }
    }
    (!tags.is_empty()).then_some(tags)
}

/// The items of a weighted header list (`Accept`, `Accept-Encoding`: RFC 9110 §12.4.2),
/// each lower-cased with its `q` (1 when not given).
pub fn weighted(list: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    list.split(',').map(|part| {
        let mut it = part.split(';');
        let token = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (token, q)
    })
}

/// Adds `what` to the answer's `Vary` list, once.
pub fn add_vary(res: &mut HttpResponse, what: &str) {
    let h = res.headers_mut();
    let v = match h.get(header::VARY).and_then(|v| v.to_str().ok()) {
        Some(old) if old.split(',').any(|x| x.trim().eq_ignore_ascii_case(what)) => return,
        Some(old) => format!("{old}, {what}"),
        None => what.to_string(),
    };
    if let Ok(v) = header::HeaderValue::from_str(&v) {
        h.insert(header::VARY, v);
    }
}

/// A 200 answer with `v` as JSON.
pub fn ok<T: Serialize>(v: &T) -> HttpResponse {
    HttpResponse::Ok().json(v)
}

/// Reads a request body up to [`MAX_BODY`] bytes; 413 beyond.
pub async fn read_body(mut payload: web::Payload) -> ApiResult<web::BytesMut> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadBody {
            field: "body".into(),
            message: e.to_string(),
        })?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::TooLarge(format!(
                "request body exceeds {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A JSON request body as `T`; a 400 naming the member at fault (`jobs`, `point[1]`) when it
/// does not fit, or `body` when it is not JSON at all.
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (field, message) = if path != "." && path != "?" {
            (path, inner.to_string())
        } else if inner.is_syntax() || inner.is_eof() {
            ("body".to_string(), format!("not JSON: {inner}"))
        } else {
            // A missing or unknown member: serde names it in the message.
            let m = inner.to_string();
            let named = m.split('`').nth(1).unwrap_or("body").to_string();
            (named, m)
        };
        ApiError::BadBody { field, message }
    })?;
    de.end().map_err(|e| ApiError::BadBody {
        field: "body".into(),
        message: format!("not JSON: {e}"),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::entity_tags;

    #[test]
    fn entity_tag_lists() {
        assert_eq!(entity_tags("\"3\""), Some(vec![(false, "3")]));
        assert_eq!(
            entity_tags(" W/\"3\" , \"a,b\",\"\"  "),
            Some(vec![(true, "3"), (false, "a,b"), (false, "")])
        );
        for bad in ["3", "\"3", "\"3\" \"4\"", "", "W/3", "\"3\",x"] {
            assert_eq!(entity_tags(bad), None, "{bad}");
        }
    }
}
