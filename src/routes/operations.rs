//! `GET /v1/operations` and `GET /v1/operations/{id}`. Reading a pending or unknown card-order
//! operation asks the platform (Card Operation Order Inquiry by `userReqNo`) and finishes it.

use actix_web::{HttpResponse, web};

use crate::http::pagination::{decode_cursor, encode_cursor, page};
use crate::{
    auth::Principal,
    domain::{
        list::{ListQuery, is_id},
        operation::Operation,
    },
    error::ApiError,
    http::extract::ValidQuery,
    operations::{record::load, resolve::refresh},
    state::AppState,
    tenancy::ObjectKind,
};

const NOT_FOUND: &str = "operation_not_found";

/// The tenant's operations, newest first.
#[utoipa::path(get, path = "/v1/operations", tag = "operations", operation_id = "list_operations",
    params(ListQuery),
    responses((status = 200, description = "A page of operations", body = inline(crate::domain::list::Page<Operation>))),
    security(("bearer" = ["cards:read"])))]
pub async fn list_operations(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let after: Option<String> = decode_cursor(&state.cursors, &who.tenant, "operations", q.cursor.as_deref())?;
    let index = state.ownership.list(&who.tenant, ObjectKind::Operation, after.as_deref(), q.limit()).await?;
    let mut data = Vec::with_capacity(index.ids.len());
    for id in index.ids {
        if let Some(op) = load(&state, &who.tenant, &id).await? {
            data.push(op.op);
        }
    }
    Ok(page(data, encode_cursor(&state.cursors, &who.tenant, "operations", index.next)))
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
