//! `/v1/physical-cards…`: assign a card kit to a cardholder, activate it, reset its PIN.

use actix_web::{HttpResponse, web};

use super::support::owned;
use crate::{
    domain::{
        operation::{Operation, OperationKind},
        physical::{ActivatePhysicalCard, AssignPhysicalCard, PhysicalCard, PinReset},
    },
    error::ApiError,
    http::extract::{OptionalJson, ValidJson},
    operations::{self, Created, Sent, StoredOperation, SuccessView, WriteCtx, WriteSpec, record::OpContext},
    state::AppState,
    tenancy::{ObjectKind, ObjectMeta, TenantId},
    upstream::wire::pcc::{CardActiveRequest, CardAssignRequest, PinResetRequest},
};

pub(crate) const NOT_FOUND: &str = "physical_card_not_found";

/// A card id the tenant owns *as a physical card*; anything else is 404.
pub(crate) async fn owned_physical(state: &AppState, tenant: &TenantId, id: &str) -> Result<ObjectMeta, ApiError> {
    let meta = owned(state, tenant, ObjectKind::Card, id, NOT_FOUND).await?;
    if meta.attrs.get("kind").map(String::as_str) != Some("physical") {
        return Err(ApiError::not_found(NOT_FOUND, "physical card"));
    }
    Ok(meta)
}

/// Assign a physical card kit to a cardholder; an activation code follows as an event.
#[utoipa::path(post, path = "/v1/physical-cards", tag = "physical-cards", operation_id = "assign_physical_card",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = AssignPhysicalCard,
    responses((status = 201, description = "Assigned", body = PhysicalCard), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["cards:write"])))]
pub async fn assign_physical_card(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<AssignPhysicalCard>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    owned(&state, &ctx.tenant, ObjectKind::Cardholder, &req.cardholder_id, "cardholder_not_found").await?;
    let context = OpContext {
        cardholder_id: Some(req.cardholder_id.clone()),
        currency: Some(req.currency.clone()),
        ..Default::default()
    };
    let spec =
        WriteSpec::new(OperationKind::PhysicalCardAssign, SuccessView::Created).target("card", None).context(context);
    let wire = CardAssignRequest {
        user_req_no: ctx.user_req_no.clone(),
        card_user_id: req.cardholder_id.clone(),
        kit_no: req.kit_number.clone(),
        local_currency: req.currency.clone(),
    };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        let reply = state.upstream.card_assign(&wire).await?;
        if reply.is_async {
            return Ok(Sent::Accepted { order_id: reply.result.and_then(|r| r.order_id) });
        }
        let Some(res) = reply.result else { return Ok(Sent::Accepted { order_id: None }) };
        let created = Created::new(ObjectKind::Card, res.card_id.clone())
            .attr("kind", Some("physical"))
            .attr("cardholder_id", Some(req.cardholder_id.as_str()))
            .attr("currency", Some(req.currency.as_str()));
        let out = PhysicalCard {
            id: res.card_id.clone(),
            status: "pending_activation".into(),
            cardholder_id: Some(req.cardholder_id.clone()),
            currency: Some(req.currency.clone()),
        };
        Ok(Sent::Done { order_id: res.order_id, result: serde_json::to_value(&out).ok(), created: Some(created) })
    })
    .await
}

/// Activate a physical card with the code delivered by the `physical_card.activation_code` event.
#[utoipa::path(post, path = "/v1/physical-cards/{id}/activate", tag = "physical-cards", operation_id = "activate_physical_card",
    params(("id" = String, Path, description = "Card id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = ActivatePhysicalCard,
    responses((status = 200, description = "Activated", body = PhysicalCard), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["cards:write"])))]
pub async fn activate_physical_card(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    body: ValidJson<ActivatePhysicalCard>,
) -> Result<HttpResponse, ApiError> {
    let meta = owned_physical(&state, &ctx.tenant, &id).await?;
    let context = OpContext { card_id: Some(id.to_string()), ..Default::default() };
    let spec = WriteSpec::new(OperationKind::PhysicalCardActivate, SuccessView::Resource)
        .target("card", Some(&id))
        .context(context);
    let wire = CardActiveRequest {
        user_req_no: ctx.user_req_no.clone(),
        card_id: id.to_string(),
        active_code: body.0.activation_code,
    };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        let reply = state.upstream.card_active(&wire).await?;
        let order_id = reply.result.and_then(|r| r.order_id);
        if reply.is_async {
            return Ok(Sent::Accepted { order_id });
        }
        let out = PhysicalCard {
            id: id.to_string(),
            status: "active".into(),
            cardholder_id: meta.attrs.get("cardholder_id").cloned(),
            currency: None,
        };
        Ok(Sent::Done { order_id, result: serde_json::to_value(&out).ok(), created: None })
    })
    .await
}

/// Reset the PIN; the platform delivers the new PIN to the cardholder directly.
#[utoipa::path(post, path = "/v1/physical-cards/{id}/pin-reset", tag = "physical-cards", operation_id = "reset_physical_card_pin",
    params(("id" = String, Path, description = "Card id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body(content = Option<PinReset>, description = "An empty object (optional)"),
    responses((status = 200, description = "Reset requested (the operation)", body = Operation), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["cards:write"])))]
pub async fn reset_physical_card_pin(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    // Read so that what the document forbids (any member) is refused, not ignored.
    _body: OptionalJson<PinReset>,
) -> Result<HttpResponse, ApiError> {
    owned_physical(&state, &ctx.tenant, &id).await?;
    let context = OpContext { card_id: Some(id.to_string()), ..Default::default() };
    let spec = WriteSpec::new(OperationKind::PhysicalCardPinReset, SuccessView::Operation)
        .target("card", Some(&id))
        .context(context);
    let wire = PinResetRequest { user_req_no: ctx.user_req_no.clone(), card_id: id.to_string() };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        let reply = state.upstream.pin_reset(&wire).await?;
        let order_id = reply.result.and_then(|r| r.order_id);
        Ok(if reply.is_async {
            Sent::Accepted { order_id }
        } else {
            Sent::Done { order_id, result: None, created: None }
        })
    })
    .await
}
