//! `GET /v1/operations` and `GET /v1/operations/{id}`. Reading a pending or unknown card-order
//! operation asks the platform (Card Operation Order Inquiry by `userReqNo`) and finishes it.

use actix_web::{HttpResponse, web};

use serde::Deserialize;
use utoipa::IntoParams;

use super::support::MAX_SCAN;
use crate::http::pagination::{decode_cursor, encode_cursor, page};
use crate::{
    auth::Principal,
    domain::{
        list::{ListQuery, MAX_LIMIT, is_id},
        operation::{Operation, OperationKind, OperationStatus},
    },
    error::ApiError,
    http::{
        extract::ValidQuery,
        validate::{Validate, Violations},
    },
    operations::{record::load, resolve::refresh},
    state::AppState,
    tenancy::ObjectKind,
};

const NOT_FOUND: &str = "operation_not_found";

/// `GET /v1/operations`: a page, optionally filtered by `kind` and `status` (as stored: a pending
/// operation's status is brought up to date when it is read by id). Filters are applied to the
/// gateway's own records, no platform call; a page may still hold fewer than `limit` operations
/// (even none) while `next_cursor` is not null, after 1,000 operations were looked at: follow it. A
/// cursor is valid only with the filters of the request that returned it.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OperationListQuery {
    /// Page size, 1–100 (default 20).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page, with the same filters.
    pub cursor: Option<String>,
    /// Only operations of this kind.
    #[param(inline)]
    pub kind: Option<OperationKind>,
    /// Only operations in this status.
    #[param(inline)]
    pub status: Option<OperationStatus>,
}

impl OperationListQuery {
    fn page(&self) -> ListQuery {
        ListQuery { limit: self.limit, cursor: self.cursor.clone() }
    }

    fn list_name(&self) -> String {
        let mut name = String::from("operations");
        for (k, v) in [
            ("kind", self.kind.and_then(|k| serde_json::to_value(k).ok())),
            ("status", self.status.and_then(|s| serde_json::to_value(s).ok())),
        ] {
            if let Some(v) = v.as_ref().and_then(|v| v.as_str()) {
                name.push_str(&format!("&{k}={v}"));
            }
        }
        name
    }

    fn keeps(&self, op: &Operation) -> bool {
        self.kind.is_none_or(|k| k == op.kind) && self.status.is_none_or(|s| s == op.status)
    }
}

impl Validate for OperationListQuery {
    fn validate(&self, v: &mut Violations) {
        self.page().validate(v);
    }
}

/// The tenant's operations, newest first, optionally filtered by `kind` and `status` (a filtered page
/// may hold fewer than `limit`: follow `next_cursor`).
#[utoipa::path(get, path = "/v1/operations", tag = "operations", operation_id = "list_operations",
    params(OperationListQuery),
    responses((status = 200, description = "A page of operations (with a filter, possibly fewer than `limit`: follow `next_cursor`)", body = inline(crate::domain::list::Page<Operation>))),
    security(("bearer" = ["cards:read"])))]
pub async fn list_operations(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<OperationListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let list = q.list_name();
    let limit = q.page().limit();
    let filtered = q.kind.is_some() || q.status.is_some();
    let mut after: Option<String> = decode_cursor(&state.cursors, &who.tenant, &list, q.cursor.as_deref())?;
    let mut data = Vec::with_capacity(limit);
    let mut scanned = 0usize;
    let next = loop {
        let chunk = if filtered { MAX_LIMIT } else { limit - data.len() };
        let index = state.ownership.list(&who.tenant, ObjectKind::Operation, after.as_deref(), chunk.max(1)).await?;
        let n = index.ids.len();
        let mut full = None;
        for (i, (id, pos)) in index.ids.iter().zip(&index.positions).enumerate() {
            scanned += 1;
            if let Some(op) = load(&state, &who.tenant, id).await?
                && q.keeps(&op.op)
            {
                data.push(op.op);
                if data.len() == limit {
                    full = Some((i + 1 < n || index.next.is_some()).then(|| pos.clone()));
                    break;
                }
            }
        }
        if let Some(next) = full {
            break next;
        }
        match index.next {
            None => break None,
            Some(n) if scanned >= MAX_SCAN => break Some(n),
            Some(n) => after = Some(n),
        }
    };
    Ok(page(data, encode_cursor(&state.cursors, &who.tenant, &list, next)))
}

/// One operation; pending or unknown ones are brought up to date from the platform first.
#[utoipa::path(get, path = "/v1/operations/{id}", tag = "operations", operation_id = "get_operation",
    params(("id" = String, Path, description = "Operation id")),
    responses((status = 200, description = "The operation", body = Operation)),
    security(("bearer" = ["cards:read"])))]
pub async fn get_operation(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !is_id(&id) {
        return Err(ApiError::not_found(NOT_FOUND, "operation"));
    }
    let mut op = load(&state, &who.tenant, &id).await?.ok_or_else(|| ApiError::not_found(NOT_FOUND, "operation"))?;
    refresh(&state, &mut op).await?;
    Ok(HttpResponse::Ok().json(&op.op))
}
