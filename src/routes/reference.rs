//! `GET /v1/card-bins`, `GET /v1/scenes` (cached briefly in-process) and `GET /v1/reference/{table}`.

use actix_web::{HttpResponse, web};

use crate::{
    auth::Principal,
    domain::card::{CardBinOut, SceneOut},
    error::ApiError,
    reference::ReferenceData,
    state::AppState,
    upstream::wire::common::ReqNoOnly,
};

/// The BINs cards can be issued on.
#[utoipa::path(get, path = "/v1/card-bins", tag = "reference", operation_id = "list_card_bins",
    responses((status = 200, description = "BINs", body = inline(crate::domain::list::Page<CardBinOut>))),
    security(("bearer" = ["cards:read"])))]
pub async fn list_card_bins(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    let data = match state.bins.get() {
        Some(d) => d,
        None => {
            let reply = state
                .upstream
                .card_bin(&ReqNoOnly { user_req_no: state.req_nos.for_read(&who.tenant) })
                .await
                .map_err(|e| state.up(&e))?;
            let c = state.codes();
            let shared = c.channel_type_shared.to_string();
            let bins = reply
                .result
                .map(|r| r.into_vec())
                .unwrap_or_default()
                .into_iter()
                .map(|b| CardBinOut {
                    kind: if b.channel_type.as_deref() == Some(shared.as_str()) { "shared" } else { "regular" }.into(),
                    bin: b.card_bin,
                    brand: b.card_brand,
                    currency: b.local_currency,
                    cardholder_required: b.card_user_required.unwrap_or(false),
                })
                .collect();
            state.bins.put(bins)
        }
    };
    Ok(HttpResponse::Ok().json(crate::domain::list::Page { data: data.as_ref().clone(), next_cursor: None }))
}

/// Usage scenes (`scene_code` of a new card).
#[utoipa::path(get, path = "/v1/scenes", tag = "reference", operation_id = "list_scenes",
    responses((status = 200, description = "Scenes", body = inline(crate::domain::list::Page<SceneOut>))),
    security(("bearer" = ["cards:read"])))]
pub async fn list_scenes(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    let data = match state.scenes.get() {
        Some(d) => d,
        None => {
            let reply = state
                .upstream
                .scene_list(&ReqNoOnly { user_req_no: state.req_nos.for_read(&who.tenant) })
                .await
                .map_err(|e| state.up(&e))?;
            let scenes = reply
                .result
                .map(|r| r.into_vec())
                .unwrap_or_default()
                .into_iter()
                .map(|s| SceneOut { code: s.scene_code, name: s.scene_name, description: s.description })
                .collect();
            state.scenes.put(scenes)
        }
    };
    Ok(HttpResponse::Ok().json(crate::domain::list::Page { data: data.as_ref().clone(), next_cursor: None }))
}

/// A reference table: `currencies`, `countries`, `mobile-prefixes`, `us-states`, `transaction-types`, `response-codes`.
#[utoipa::path(get, path = "/v1/reference/{table}", tag = "reference", operation_id = "get_reference_table",
    params(("table" = String, Path, description = "currencies | countries | mobile-prefixes | us-states | transaction-types | response-codes")),
    responses((status = 200, description = "The table: `{table, note, data: [...]}`", body = Object)),
    security(("bearer" = [])))]
pub async fn get_reference_table(
    state: web::Data<AppState>,
    _who: Principal,
    table: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = state.reference.table(&table).ok_or_else(|| {
        ApiError::not_found("reference_table_not_found", "reference table")
            .with_field("path.table", &format!("one of {}", ReferenceData::table_names().join(", ")))
    })?;
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=3600")).json(t))
}
