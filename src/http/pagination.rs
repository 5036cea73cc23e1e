//! List pages, shared by every list route (resources in `routes/`, events and webhook endpoints in
//! `webhooks/`): opaque per-tenant cursors in `?cursor=` and the `{"data": [...], "next_cursor": ...}`
//! answer. The cursors are sealed by the tenancy [`CursorCodec`].

use actix_web::HttpResponse;
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    error::ApiError,
    tenancy::{TenantId, cursor::CursorCodec},
};

/// Decodes a list cursor for this tenant and list; a foreign or edited cursor is a 422 on `query.cursor`.
pub fn decode_cursor<T: DeserializeOwned>(
    cursors: &CursorCodec,
    tenant: &TenantId,
    list: &str,
    cursor: Option<&str>,
) -> Result<Option<T>, ApiError> {
    match cursor {
        None => Ok(None),
        Some(c) => cursors
            .decode(tenant, list, c)
            .map(Some)
            .ok_or_else(|| ApiError::field("query.cursor", "is not a cursor issued by this API for this list")),
    }
}

/// The cursor that continues this tenant's list after `position` (none on the last page).
pub fn encode_cursor<T: Serialize>(
    cursors: &CursorCodec,
    tenant: &TenantId,
    list: &str,
    position: Option<T>,
) -> Option<String> {
    position.and_then(|p| cursors.encode(tenant, list, &p))
}

/// The body of a page: the same shape as `domain::list::Page`, which documents it in OpenAPI
/// (`domain` sits above `http`; the test below keeps the two identical).
#[derive(Serialize)]
struct PageBody<T> {
    data: Vec<T>,
    next_cursor: Option<String>,
}

/// 200 with one page of `data`.
pub fn page<T: Serialize>(data: Vec<T>, next_cursor: Option<String>) -> HttpResponse {
    HttpResponse::Ok().json(PageBody { data, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_serialises_exactly_like_the_documented_page() {
        for next in [None, Some("c1".to_owned())] {
            let ours = serde_json::to_string(&PageBody { data: vec![1, 2], next_cursor: next.clone() }).unwrap();
            let documented =
                serde_json::to_string(&crate::domain::list::Page { data: vec![1, 2], next_cursor: next }).unwrap();
            assert_eq!(ours, documented);
        }
    }
}
