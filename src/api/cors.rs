//! Cross-origin requests (CORS): web pages of any origin may read (`*` by default, or the
//! configured origins), only the configured write origins may write, with credentials; every
//! preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

use super::AppState;

/// Which origins may call the service from a browser (by default: any may read, none
/// may write).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    /// Origins allowed to read; `None`: any (`*`).
    pub read: Option<Vec<String>>,
    /// Origins allowed to write (with their `Authorization`); none by default.
    pub write: Vec<String>,
}

/// Headers a cross-origin page may read from the answers.
const EXPOSED: &str = "ETag, Content-Crs, Location, Link, Retry-After, X-Request-Id";
/// Request headers a cross-origin read may send.
const READ_HEADERS: &[&str] = &[
    "accept",
    "accept-language",
    "if-none-match",
    "content-type",
    "x-request-id",
];
/// Request headers a cross-origin write may send besides.
const WRITE_HEADERS: &[&str] = &["authorization", "if-match"];

impl Cors {
    /// From the option values: `*` or a comma-separated list of origins for reads, a list
    /// (possibly empty) for writes. An origin is `scheme://host[:port]`.
    pub fn parse(read: &str, write: &str) -> Result<Cors, String> {
        let list = |v: &str| -> Result<Vec<String>, String> {
            v.split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    let o = o.trim_end_matches('/');
                    let ok = (o.starts_with("http://") || o.starts_with("https://"))
                        && !o["https://".len().min(o.len())..].contains('/');
                    if ok {
                        Ok(o.to_string())
                    } else {
                        Err(format!("`{o}` is not an origin (scheme://host[:port])"))
                    }
                })
                .collect()
        };
        if write.split(',').any(|o| o.trim() == "*") {
            return Err("write origins must be named, not `*`".into());
        }
        let write = list(write)?;
        Ok(Cors {
            read: if read.trim() == "*" {
                None
            } else {
                Some(list(read)?)
            },
            write,
        })
    }

    fn may_read(&self, origin: &str) -> bool {
        self.read
            .as_ref()
            .is_none_or(|l| l.iter().any(|o| o == origin))
            || self.may_write(origin)
    }

    fn may_write(&self, origin: &str) -> bool {
        self.write.iter().any(|o| o == origin)
    }
}

fn is_read(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn set(res: &mut HttpResponse<BoxBody>, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(name, v);
    }
}

/// Adds the allow headers for `origin` to an answer (read: `*` unless origins are listed;
/// write: the origin itself, with credentials).
fn allow(res: &mut HttpResponse<BoxBody>, cors: &Cors, origin: &str, write: bool) {
    if write {
        set(res, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        set(res, header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
    } else if cors.read.is_none() && !cors.may_write(origin) {
        set(res, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    } else {
        set(res, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if cors.may_write(origin) {
            set(res, header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
    }
    if cors.read.is_some() || !cors.write.is_empty() {
        super::http::add_vary(res, "Origin");
    }
}

/// The middleware: see the module's documentation.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let cors = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.cors.clone())
        .unwrap_or_default();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let wanted = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .and_then(|m| Method::from_bytes(m.trim().as_bytes()).ok());
    // A preflight; a plain OPTIONS goes on to the routes (a 405 naming what they allow).
    if let (true, Some(origin), Some(method)) =
        (*req.method() == Method::OPTIONS, origin.clone(), wanted)
    {
        let write = !is_read(&method);
        let allowed = if write {
            cors.may_write(&origin)
        } else {
            cors.may_read(&origin)
        };
        if !allowed {
            let what = if write { "write" } else { "read" };
            let res = super::ApiError::Forbidden(format!(
                "origin `{origin}` may not {what} here (see --cors-origins and \
                 --cors-write-origins)"
            ));
            let res = actix_web::ResponseError::error_response(&res);
            return Ok(req.into_response(res));
        }
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut headers: Vec<&str> = READ_HEADERS.to_vec();
        if write {
            headers.extend_from_slice(WRITE_HEADERS);
        }
        if let Some(h) = requested
            .split(',')
            .map(str::trim)
            .find(|h| !h.is_empty() && !headers.contains(h))
        {
            let res =
                super::ApiError::Forbidden(format!("header `{h}` may not be sent across origins"));
            let res = actix_web::ResponseError::error_response(&res);
            return Ok(req.into_response(res));
        }
        let mut res = HttpResponse::NoContent()
            .insert_header((
                header::ACCESS_CONTROL_ALLOW_METHODS,
                if write {
                    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
                } else {
                    "GET, HEAD, OPTIONS"
                },
            ))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, headers.join(", ")))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
            .finish();
        allow(&mut res, &cors, &origin, write);
        return Ok(req.into_response(res));
    }
    let write = !is_read(req.method());
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(origin) = origin else {
        return Ok(res);
    };
    let allowed = if write {
        cors.may_write(&origin)
    } else {
        cors.may_read(&origin)
    };
    if !allowed {
        return Ok(res);
    }
    let (req, mut res) = res.into_parts();
    allow(&mut res, &cors, &origin, write);
    set(&mut res, header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
    Ok(ServiceResponse::new(req, res))
}

#[cfg(test)]
mod tests {
    use super::Cors;

    #[test]
    fn parses_origins() {
        let c = Cors::parse("*", "").unwrap();
        assert_eq!(c, Cors::default());
        let c = Cors::parse(
            "https://a.fr, http://b.fr:8080/",
            "https://sig.cc-exemple.fr",
        )
        .unwrap();
        assert_eq!(c.read.unwrap(), ["https://a.fr", "http://b.fr:8080"]);
        assert_eq!(c.write, ["https://sig.cc-exemple.fr"]);
        assert!(Cors::parse("a.fr", "").is_err());
        assert!(Cors::parse("*", "*").is_err());
        assert!(Cors::parse("https://a.fr/path", "").is_err());
    }
}
