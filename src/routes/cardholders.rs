//! `/v1/cardholders…`: register, list, read, change the metadata of, and delete cardholders.

use actix_web::{HttpResponse, web};

use super::support::{ListPage, list_owned, owned, owned_fresh, set_metadata};
use crate::upstream::Operation;
use crate::{
    auth::Principal,
    domain::{
        cardholder::{
            Cardholder, CardholderStatus, CreateCardholder, DocumentType, Gender, UpdateCardholder,
            cardholder_from_wire,
        },
        list::ListQuery,
        operation::OperationKind,
    },
    error::ApiError,
    http::{
        extract::{ValidJson, ValidQuery},
        validate::Violations,
    },
    operations::{self, Created, Sent, StoredOperation, SuccessView, WriteCtx, WriteSpec, record::OpContext},
    state::AppState,
    tenancy::ObjectKind,
    upstream::wire::cardholder::{CardholderApplyRequest, CardholderRef},
};

const NOT_FOUND: &str = "cardholder_not_found";

/// Register a cardholder (email and mobile must be unique; at least 18 years old).
#[utoipa::path(post, path = "/v1/cardholders", tag = "cardholders", operation_id = "create_cardholder",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = CreateCardholder,
    description = "A body larger than `server.max_body_bytes` (ID images) is a heavy request: at most \
        `server.heavy_concurrency` run at once (503 `heavy_requests_busy` + `Retry-After` beyond), and each is \
        charged to the tenant's `heavy` rate class (429 `rate_limited`) besides the write class.",
    responses((status = 201, description = "Registered", body = Cardholder)),
    security(("bearer" = ["cardholders:write"])))]
pub async fn create_cardholder(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<CreateCardholder>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let mut v = Violations::default();
    req.validate_reference(&state.reference, state.clock.today(), &mut v);
    v.finish()?;
    let spec = WriteSpec::new(OperationKind::CardholderCreate, SuccessView::Created).target("cardholder", None);
    let metadata = req.metadata.as_ref().map(|m| m.to_stored()).unwrap_or_default();
    let doc = req.id_document.as_ref();
    let wire = CardholderApplyRequest {
        user_req_no: ctx.user_req_no.clone(),
        first_name: req.first_name.clone(),
        middle_name: req.middle_name.clone(),
        last_name: req.last_name.clone(),
        email: req.email.clone(),
        mobile_prefix: req.mobile_prefix.clone(),
        mobile: req.mobile.clone(),
        birth_date: state.clock.format_date(req.birth_date),
        country_code: state.reference.upstream_country(&req.country).unwrap_or(&req.country).to_owned(),
        billing_state: req.billing.state.clone(),
        billing_city: req.billing.city.clone(),
        billing_address: req.billing.address.clone(),
        billing_zip_code: req.billing.zip.clone(),
        remark: req.remark.clone(),
        gender: req.gender.map(|g| match g {
            Gender::Male => 1,
            Gender::Female => 2,
        }),
        certificate_type: doc.map(|d| match d.doc_type {
            DocumentType::IdCard => 1,
            DocumentType::Passport => 2,
        }),
        certificate_no: doc.map(|d| d.number.clone()),
        occupation: req.occupation,
        certificate_front_image_base64: doc.and_then(|d| d.front_image_base64.clone()),
        certificate_back_image_base64: doc.and_then(|d| d.back_image_base64.clone()),
        certificate_hold_image_base64: doc.and_then(|d| d.selfie_image_base64.clone()),
    };
    operations::run(&state, &ctx, spec, async |op: &StoredOperation| {
        let res = state.upstream.cardholder_apply(&wire).await?.require(Operation::CardholderApply)?;
        let c = state.codes();
        let status = match res.status.as_deref() {
            Some(s) if s == c.cardholder_status_enabled => CardholderStatus::Active,
            Some(s) if s == c.cardholder_status_disabled => CardholderStatus::Disabled,
            Some(s) if s == c.cardholder_status_deleted => CardholderStatus::Deleted,
            _ => CardholderStatus::Pending,
        };
        let out = Cardholder {
            id: res.card_user_id.clone(),
            status,
            first_name: req.first_name.clone(),
            middle_name: req.middle_name.clone(),
            last_name: req.last_name.clone(),
            email: req.email.clone(),
            mobile_prefix: Some(req.mobile_prefix.clone()),
            mobile: Some(req.mobile.clone()),
            birth_date: Some(req.birth_date),
            country: Some(req.country.clone()),
            billing: Some((&req.billing).into()),
            created_at: Some(op.op.created_at),
            metadata: crate::domain::metadata::shown(&metadata),
        };
        let created = Created::new(ObjectKind::Cardholder, res.card_user_id).metadata(&metadata);
        Ok(Sent::Done { order_id: None, result: serde_json::to_value(&out).ok(), created: Some(created) })
    })
    .await
}

/// The tenant's cardholders, newest first.
#[utoipa::path(get, path = "/v1/cardholders", tag = "cardholders", operation_id = "list_cardholders",
    params(ListQuery),
    responses((status = 200, description = "A page of cardholders", body = inline(crate::domain::list::Page<Cardholder>))),
    security(("bearer" = ["cardholders:read"])))]
pub async fn list_cardholders(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let fetch = |st: web::Data<AppState>, id: String| async move {
        st.upstream.cardholder_info(&CardholderRef { card_user_id: id, user_req_no: None }).await
    };
    list_owned(
        &state,
        &who.tenant,
        ObjectKind::Cardholder,
        ListPage::plain("cardholders", &q.0),
        fetch,
        |st, h, meta| {
            let mut holder = cardholder_from_wire(h, st.codes(), &st.clock, &st.reference);
            holder.metadata = crate::domain::metadata::shown(&meta.metadata);
            Some(holder)
        },
    )
    .await
}

/// A cardholder.
#[utoipa::path(get, path = "/v1/cardholders/{id}", tag = "cardholders", operation_id = "get_cardholder",
    params(("id" = String, Path, description = "Cardholder id")),
    responses((status = 200, description = "The cardholder", body = Cardholder)),
    security(("bearer" = ["cardholders:read"])))]
pub async fn get_cardholder(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let meta = owned_fresh(&state, &who.tenant, ObjectKind::Cardholder, &id, NOT_FOUND).await?;
    read_cardholder(&state, &id, &meta.metadata).await
}

async fn read_cardholder(
    state: &AppState,
    id: &str,
    metadata: &std::collections::BTreeMap<String, String>,
) -> Result<HttpResponse, ApiError> {
    let reply = state
        .upstream
        .cardholder_info(&CardholderRef { card_user_id: id.to_owned(), user_req_no: None })
        .await
        .map_err(|e| state.up(&e))?;
    let info = reply.result.ok_or_else(|| ApiError::not_found(NOT_FOUND, "cardholder"))?;
    let mut holder = cardholder_from_wire(&info, state.codes(), &state.clock, &state.reference);
    holder.metadata = crate::domain::metadata::shown(metadata);
    Ok(HttpResponse::Ok().json(holder))
}

/// Change a cardholder's `metadata`: the keys given are set, those given `""` removed (at most 50 may
/// remain). The gateway's alone: no platform call changes anything (the cardholder is read back).
#[utoipa::path(patch, path = "/v1/cardholders/{id}", tag = "cardholders", operation_id = "update_cardholder",
    params(("id" = String, Path, description = "Cardholder id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = UpdateCardholder,
    responses((status = 200, description = "The cardholder, with its metadata now", body = Cardholder)),
    security(("bearer" = ["cardholders:write"])))]
pub async fn update_cardholder(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    body: ValidJson<UpdateCardholder>,
) -> Result<HttpResponse, ApiError> {
    owned_fresh(&state, &ctx.tenant, ObjectKind::Cardholder, &id, NOT_FOUND).await?;
    let metadata = set_metadata(&state, &ctx.tenant, ObjectKind::Cardholder, &id, NOT_FOUND, &body.0.metadata).await?;
    read_cardholder(&state, &id, &metadata).await
}

/// Delete a cardholder.
#[utoipa::path(delete, path = "/v1/cardholders/{id}", tag = "cardholders", operation_id = "delete_cardholder",
    params(("id" = String, Path, description = "Cardholder id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    responses((status = 200, description = "Deleted (the operation)", body = crate::domain::operation::Operation)),
    security(("bearer" = ["cardholders:write"])))]
pub async fn delete_cardholder(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    owned(&state, &ctx.tenant, ObjectKind::Cardholder, &id, NOT_FOUND).await?;
    let context = OpContext { cardholder_id: Some(id.to_string()), ..Default::default() };
    let spec = WriteSpec::new(OperationKind::CardholderDelete, SuccessView::Operation)
        .target("cardholder", Some(&id))
        .context(context);
    let wire = CardholderRef { card_user_id: id.to_string(), user_req_no: Some(ctx.user_req_no.clone()) };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        state.upstream.cardholder_delete(&wire).await?;
        Ok(Sent::Done { order_id: None, result: None, created: None })
    })
    .await
}
