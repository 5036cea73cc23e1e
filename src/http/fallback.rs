//! The default service: an unknown path is 404 `route_not_found`; a known path with the wrong method
//! is 405 `method_not_allowed` with `Allow` — both as problems, like every other error. Which path is
//! known is actix's answer (`match_pattern()`, its own resource map); `Allow` lists the methods the
//! route table has for that pattern.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};

use crate::{error::ApiError, policy::RouteTable};

pub async fn not_found_or_method_not_allowed(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    let allowed = req.match_pattern().map(|p| table.methods_for(&p)).unwrap_or_default();
    if allowed.is_empty() {
        Err(ApiError::route_not_found())
    } else {
        let mut e = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            // Never echo a made-up method: it is caller-controlled and unbounded.
            match super::log_value::method_label(req.method()) {
                "OTHER" => "this method is not allowed here".to_owned(),
                m => format!("{m} is not allowed here"),
            },
        );
        e.allow = Some(allowed.join(", "));
        Err(e)
    }
}
