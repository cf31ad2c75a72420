//! API errors as RFC 7807 problem documents (`application/problem+json`), mapped to HTTP
//! status codes in one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Errors of the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is malformed, out of range or unknown.
    #[error("parameter `{parameter}`: {message}")]
    BadParameter { parameter: String, message: String },
    /// A request body is invalid.
    #[error("{field}: {message}")]
    BadBody { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// A request body larger than accepted.
    #[error("{0}")]
    TooLarge(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// No or a bad bearer token.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// The resource exists but does not take this method (the embedded mode is read-only).
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    /// The client's ETag is not the feature's current one.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A write without If-Match.
    #[error("{0}")]
    PreconditionRequired(String),
    /// PostGIS is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// The path exists, not with this method.
    #[error("{message}")]
    WrongMethod {
        message: String,
        allow: &'static str,
    },
    /// Too many failures: retry after this many seconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn param(parameter: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadParameter {
            parameter: parameter.into(),
            message: message.into(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadParameter { .. } | ApiError::BadBody { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed(_) | ApiError::WrongMethod { .. } => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut body = json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": self.to_string(),
        });
        match self {
            ApiError::BadParameter { parameter, .. } => body["parameter"] = json!(parameter),
            ApiError::TooLarge(_) => body["field"] = json!("body"),
            ApiError::BadBody { field, .. } => body["field"] = json!(field),
            _ => {}
        }
        let mut r = HttpResponse::build(status);
        r.content_type("application/problem+json");
        match self {
            ApiError::Unauthorized(_) => {
                r.insert_header(("WWW-Authenticate", "Bearer realm=\"ecofoncier\""));
            }
            ApiError::MethodNotAllowed(_) => {
                r.insert_header(("Allow", "GET, HEAD"));
            }
            ApiError::WrongMethod { allow, .. } => {
                r.insert_header(("Allow", *allow));
            }
            ApiError::Unavailable(_) => {
                r.insert_header(("Retry-After", "5"));
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                r.insert_header(("Retry-After", retry_after.to_string()));
            }
            _ => {}
        }
        r.body(body.to_string())
    }
}
