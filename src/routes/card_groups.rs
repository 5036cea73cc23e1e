//! `/v1/card-groups…`: shared cards — one balance drawn on by many sub-cards.

use actix_web::{HttpResponse, web};

use super::support::{ListPage, list_owned, owned_fresh, set_metadata};
use crate::{
    auth::Principal,
    domain::{
        card::{AmountBody, ExpandQuery},
        check_amount,
        group::{CardGroup, CreateCardGroup, SettableGroupStatus, UpdateCardGroup, group_from_wire},
        list::ListQuery,
        metadata::shown,
        operation::{Operation, OperationKind},
    },
    error::ApiError,
    http::{
        extract::{ValidJson, ValidQuery},
        validate::Violations,
    },
    operations::{self, Created, Sent, StoredOperation, SuccessView, WriteCtx, WriteSpec, record::OpContext},
    state::AppState,
    tenancy::ObjectKind,
    upstream::wire::group::{GroupApplyRequest, GroupInfoRequest, GroupUpdateRequest},
};

const NOT_FOUND: &str = "card_group_not_found";

/// Open a shared card group with an initial balance.
#[utoipa::path(post, path = "/v1/card-groups", tag = "card-groups", operation_id = "create_card_group",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = CreateCardGroup,
    responses((status = 201, description = "Opened", body = CardGroup), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["cards:write"])))]
pub async fn create_card_group(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<CreateCardGroup>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let mut v = Violations::default();
    check_amount(&mut v, "#/amount", req.amount, state.reference.minor_units(&req.currency), false);
    if state.reference.minor_units(&req.currency).is_none() {
        v.add("#/currency", "is not a known currency");
    }
    v.finish()?;
    let metadata = req.metadata.as_ref().map(|m| m.to_stored()).unwrap_or_default();
    let context = OpContext {
        amount: Some(req.amount.to_string()),
        currency: Some(req.currency.clone()),
        metadata: metadata.clone(),
        ..Default::default()
    };
    let spec = WriteSpec::new(OperationKind::CardGroupCreate, SuccessView::Created)
        .target("card_group", None)
        .context(context)
        .capped(&req.currency, req.amount.value());
    let wire = GroupApplyRequest {
        user_req_no: ctx.user_req_no.clone(),
        local_currency: req.currency.clone(),
        auth_limit_amount: req.amount.value(),
        group_alias: req.alias.clone(),
    };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        let reply = state.upstream.group_apply(&wire).await?;
        let ack = reply.result.unwrap_or_default();
        Ok(match (&ack.group_id, reply.is_async) {
            (Some(group_id), false) => {
                let created = Created::new(ObjectKind::CardGroup, group_id.clone())
                    .attr("currency", Some(&req.currency))
                    .metadata(&metadata);
                let mut result = group_info(&state, group_id).await;
                if let Some(obj) = result.as_mut().and_then(serde_json::Value::as_object_mut) {
                    obj.insert("metadata".to_owned(), serde_json::to_value(&metadata).unwrap_or_default());
                }
                Sent::Done { order_id: ack.order_id.clone(), result, created: Some(created) }
            }
            _ => Sent::Accepted { order_id: ack.order_id.clone() },
        })
    })
    .await
}

/// The group as the platform shows it now (masked view), if it can be read.
async fn group_info(state: &AppState, id: &str) -> Option<serde_json::Value> {
    let reply = state.upstream.group_info(&GroupInfoRequest { group_id: id.to_owned() }).await.ok()?;
    reply.result.and_then(|g| serde_json::to_value(group_from_wire(&g, state.codes(), &state.clock)).ok())
}

/// The tenant's card groups, newest first.
#[utoipa::path(get, path = "/v1/card-groups", tag = "card-groups", operation_id = "list_card_groups",
    params(ListQuery),
    responses((status = 200, description = "A page of groups", body = inline(crate::domain::list::Page<CardGroup>))),
    security(("bearer" = ["cards:read"])))]
pub async fn list_card_groups(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let fetch = |st: web::Data<AppState>, id: String| async move {
        st.upstream.group_info(&GroupInfoRequest { group_id: id }).await
    };
    list_owned(
        &state,
        &who.tenant,
        ObjectKind::CardGroup,
        ListPage::plain("card-groups", &q.0),
        fetch,
        |st, g, meta| {
            let mut group = group_from_wire(g, st.codes(), &st.clock);
            group.metadata = shown(&meta.metadata);
            Some(group)
        },
    )
    .await
}

/// A card group.
#[utoipa::path(get, path = "/v1/card-groups/{id}", tag = "card-groups", operation_id = "get_card_group",
    params(("id" = String, Path, description = "Group id")),
    responses((status = 200, description = "The group", body = CardGroup)),
    security(("bearer" = ["cards:read"])))]
pub async fn get_card_group(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let meta = owned_fresh(&state, &who.tenant, ObjectKind::CardGroup, &id, NOT_FOUND).await?;
    read_group(&state, &id, &meta).await
}

async fn read_group(state: &AppState, id: &str, meta: &crate::tenancy::ObjectMeta) -> Result<HttpResponse, ApiError> {
    let reply =
        state.upstream.group_info(&GroupInfoRequest { group_id: id.to_owned() }).await.map_err(|e| state.up(&e))?;
    let info = reply.result.ok_or_else(|| ApiError::not_found(NOT_FOUND, "card group"))?;
    let mut group = group_from_wire(&info, state.codes(), &state.clock);
    group.metadata = shown(&meta.metadata);
    Ok(HttpResponse::Ok().json(group))
}

/// Freeze, unfreeze or close a group (Shared Card Status Change), and/or change its `metadata` (the
/// gateway's alone: a metadata-only change makes no platform call and answers 200 with the group;
/// with `status` it is written first).
#[utoipa::path(patch, path = "/v1/card-groups/{id}", tag = "card-groups", operation_id = "update_card_group",
    params(("id" = String, Path, description = "Group id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = UpdateCardGroup,
    responses((status = 200, description = "The updated group", body = CardGroup), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["cards:write"])))]
pub async fn update_card_group(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    body: ValidJson<UpdateCardGroup>,
) -> Result<HttpResponse, ApiError> {
    let mut meta = owned_fresh(&state, &ctx.tenant, ObjectKind::CardGroup, &id, NOT_FOUND).await?;
    if let Some(m) = &body.0.metadata {
        meta.metadata = set_metadata(&state, &ctx.tenant, ObjectKind::CardGroup, &id, NOT_FOUND, m).await?;
    }
    let Some(wanted) = body.0.status else {
        return read_group(&state, &id, &meta).await;
    };
    let context = OpContext { group_id: Some(id.to_string()), ..Default::default() };
    let spec = WriteSpec::new(OperationKind::CardGroupUpdate, SuccessView::Resource)
        .target("card_group", Some(&id))
        .context(context);
    let c = state.codes();
    let code = match wanted {
        SettableGroupStatus::Active => &c.group_status_active,
        SettableGroupStatus::Frozen => &c.group_status_frozen,
        SettableGroupStatus::Closed => &c.group_status_closed,
    };
    let status =
        code.parse::<i64>().map_err(|_| ApiError::internal("upstream.codes.group_status_* must be numeric"))?;
    let wire = GroupUpdateRequest { user_req_no: ctx.user_req_no.clone(), group_id: id.to_string(), status };
    operations::run(&state, &ctx, spec, async |op: &StoredOperation| {
        super::funds::order_answer(&state, op, state.upstream.group_update(&wire).await).await
    })
    .await
}

/// Add money to the group's shared balance.
#[utoipa::path(post, path = "/v1/card-groups/{id}/recharges", tag = "card-groups", operation_id = "recharge_card_group",
    params(("id" = String, Path, description = "Group id"), ("Idempotency-Key" = String, Header, description = "Idempotency key"), ExpandQuery),
    request_body = AmountBody,
    responses((status = 200, description = "Recharged: the operation, its result the funds movement (or the re-read group with `?expand=card_group`)", body = Operation), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["funds:write"])))]
pub async fn recharge_card_group(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    expand: ValidQuery<ExpandQuery>,
    body: ValidJson<AmountBody>,
) -> Result<HttpResponse, ApiError> {
    let holder = super::funds::Holder::Group;
    super::funds::move_funds(state, ctx, holder, id.into_inner(), (body.0, expand.0), true).await
}

/// Return money from the group's shared balance to the merchant account.
#[utoipa::path(post, path = "/v1/card-groups/{id}/refunds", tag = "card-groups", operation_id = "refund_card_group",
    params(("id" = String, Path, description = "Group id"), ("Idempotency-Key" = String, Header, description = "Idempotency key"), ExpandQuery),
    request_body = AmountBody,
    responses((status = 200, description = "Refunded: the operation, its result the funds movement (or the re-read group with `?expand=card_group`)", body = Operation), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["funds:write"])))]
pub async fn refund_card_group(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    expand: ValidQuery<ExpandQuery>,
    body: ValidJson<AmountBody>,
) -> Result<HttpResponse, ApiError> {
    let holder = super::funds::Holder::Group;
    super::funds::move_funds(state, ctx, holder, id.into_inner(), (body.0, expand.0), false).await
}
