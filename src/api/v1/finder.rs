//! The EPCI pickers' search: `GET /api/v1/epci/search?q=…`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::api::http::ok;
use crate::api::query::{Kind, Params, Spec};
use crate::api::{ApiResult, AppState};
use crate::metrics::finder::find_epci;

const Q: Spec = Spec::new(
    "q",
    Kind::Text,
    "a SIREN (or its beginning), an EPCI's name or a word of it, a commune's name or INSEE code; accents, case and punctuation ignored",
)
.required();
const LIMIT: Spec = Spec::new(
    "limit",
    Kind::Integer { min: 1, max: 50 },
    "EPCIs listed at most, default 10",
);

/// The parameters of the search.
pub(crate) const PARAMS: [&Spec; 2] = [&Q, &LIMIT];

pub(super) async fn epci_search(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let state = state.snapshot();
    let p = Params::checked(req.query_string(), &PARAMS)?;
    let q = p.get(Q.name).unwrap_or_default();
    let limit = p.integer(&LIMIT).unwrap_or(10) as usize;
    Ok(ok(
        &json!({ "q": q, "epci": find_epci(&state.model, q, limit) }),
    ))
}
