//! `/v1/cards…`: issue, list, read (masked), reveal, update, cancel, recharge, refund.

use actix_web::{HttpResponse, web};
use chrono::{Datelike, Months, Utc};

use super::support::{IndexFilter, ListPage, list_owned, owned, owned_fresh};
use crate::{
    auth::Principal,
    domain::{
        card::{
            AmountBody, Card, CardListQuery, CardStatus, CreateCard, ExpandQuery, SensitiveCard, SettableCardStatus,
            UpdateCard, card_from_wire,
        },
        check_amount,
        metadata::shown,
        money::Amount,
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
    upstream::wire::card::{CardApplyRequest, CardCancelRequest, CardInfoRequest, CardModifyRequest},
};

const NOT_FOUND: &str = "card_not_found";

/// Issue a card (regular, or a shared sub-card with `group_id`).
#[utoipa::path(post, path = "/v1/cards", tag = "cards", operation_id = "create_card",
    request_body = CreateCard,
    params(("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters; the same key replays the same answer")),
    responses(
        (status = 201, description = "Issued synchronously", body = Card),
        (status = 202, description = "Accepted; the operation finishes asynchronously (or its outcome is being confirmed)", body = crate::domain::operation::Operation),
    ),
    security(("bearer" = ["cards:write"])))]
pub async fn create_card(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<CreateCard>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let mut v = Violations::default();
    check_amount(&mut v, "#/limit", req.limit, state.reference.minor_units(&req.currency), req.group_id.is_some());
    if state.reference.minor_units(&req.currency).is_none() {
        v.add("#/currency", "is not a known currency");
    }
    let today = state.clock.today();
    let valid_until = req.valid_until.unwrap_or_else(|| today.checked_add_months(Months::new(36)).unwrap_or(today));
    v.check(valid_until >= today, "#/valid_until", "must not be in the past");
    v.check(valid_until.year() <= today.year() + 10, "#/valid_until", "must be within ten years");
    v.finish()?;
    if let Some(g) = &req.group_id {
        owned(&state, &ctx.tenant, ObjectKind::CardGroup, g, "card_group_not_found").await?;
    }
    if let Some(h) = &req.cardholder_id {
        owned(&state, &ctx.tenant, ObjectKind::Cardholder, h, "cardholder_not_found").await?;
    }
    let metadata = req.metadata.as_ref().map(|m| m.to_stored()).unwrap_or_default();
    let context = OpContext {
        group_id: req.group_id.clone(),
        cardholder_id: req.cardholder_id.clone(),
        amount: Some(req.limit.to_string()),
        currency: Some(req.currency.clone()),
        metadata: metadata.clone(),
        ..Default::default()
    };
    let c = state.codes();
    let shared = req.group_id.is_some();
    let mut spec =
        WriteSpec::new(OperationKind::CardCreate, SuccessView::Created).target("card", None).context(context);
    // A shared sub-card's limit moves no money (it spends the group's balance); a regular card's does.
    if !shared {
        spec = spec.capped(&req.currency, req.limit.value());
    }
    let wire = CardApplyRequest {
        user_req_no: ctx.user_req_no.clone(),
        local_currency: req.currency.clone(),
        start_date: state.clock.format_date(today),
        end_date: state.clock.format_date(valid_until),
        auth_limit_amount: Some(req.limit.value()),
        enable_multi_use: Some(i64::from(req.multi_use)),
        enable_currency_check: if shared { None } else { Some(i64::from(req.currency_check.unwrap_or(false))) },
        card_alias: req.alias.clone(),
        bin_range_id: Some(req.bin.clone()),
        channel_type: Some(if shared { c.channel_type_shared } else { c.channel_type_regular }),
        group_id: req.group_id.clone(),
        card_user_id: req.cardholder_id.clone(),
        scene_code: req.scene_code.as_deref().and_then(|s| s.parse().ok()),
        air_line_code: None,
    };
    operations::run(&state, &ctx, spec, async |op: &StoredOperation| {
        let reply = state.upstream.card_apply(&wire).await?;
        let result = reply.result.unwrap_or_default();
        Ok(match (&result.card_id, reply.is_async) {
            (Some(card_id), false) => {
                // The currency is recorded so money caps need no card re-read on recharge.
                let created = Created::new(ObjectKind::Card, card_id.clone())
                    .attr("currency", Some(req.currency.as_str()))
                    .attr("group_id", req.group_id.as_deref())
                    .attr("cardholder_id", req.cardholder_id.as_deref())
                    .metadata(&metadata);
                let card = composed_card(&state, card_id, &result, &req, &op.op.created_at);
                let json = serde_json::to_value(&card).ok();
                Sent::Done { order_id: result.order_id.clone(), result: json, created: Some(created) }
            }
            // Accepted, or succeeded with card elements still missing: finish via inquiry/webhook.
            _ => Sent::Accepted { order_id: result.order_id.clone() },
        })
    })
    .await
}

/// The card as the synchronous apply answer describes it (PAN reduced to bin/last4 here).
fn composed_card(
    state: &AppState,
    id: &str,
    r: &crate::upstream::wire::card::CardApplyResult,
    req: &CreateCard,
    created: &chrono::DateTime<Utc>,
) -> Card {
    let pan = r.card_no.clone().unwrap_or_default();
    Card {
        id: id.to_owned(),
        status: CardStatus::Active,
        currency: r.local_currency.clone().unwrap_or_else(|| req.currency.clone()),
        bin: if pan.is_empty() { req.bin.clone() } else { pan.bin() },
        last4: pan.last4(),
        masked_number: if pan.is_empty() { String::new() } else { pan.masked() },
        expiry: r
            .card_expiry_date
            .as_deref()
            .and_then(|e| state.clock.parse_expiry(e))
            .map(|(y, m)| format!("{y:04}-{m:02}")),
        alias: req.alias.clone(),
        label: None,
        limit: req.limit,
        balance: if req.group_id.is_some() { Amount::zero() } else { req.limit },
        group_id: req.group_id.clone(),
        cardholder_id: req.cardholder_id.clone(),
        created_at: Some(*created),
        metadata: shown(&req.metadata.as_ref().map(|m| m.to_stored()).unwrap_or_default()),
    }
}

/// The tenant's cards, newest first, optionally filtered (Stripe Issuing's and Lithic's filters).
/// `group_id`, `cardholder_id` and `created[gte]`/`created[lt]` are applied to what the gateway
/// stores, before any platform call; `status` needs each card's platform answer, so with `status` a
/// page may hold fewer than `limit` cards (even none) while `next_cursor` is not null — follow
/// `next_cursor` until it is `null`. Any filter may end a page early after 1,000 cards were looked
/// at, the same way. A cursor is valid only with the filters of the request that returned it
/// (otherwise 422 on `query.cursor`).
#[utoipa::path(get, path = "/v1/cards", tag = "cards", operation_id = "list_cards",
    params(CardListQuery),
    responses((status = 200, description = "A page of cards (with a filter, possibly fewer than `limit`: follow `next_cursor`)", body = inline(crate::domain::list::Page<Card>))),
    security(("bearer" = ["cards:read"])))]
pub async fn list_cards(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<CardListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let fetch = |st: web::Data<AppState>, id: String| async move {
        st.upstream.card_info(&CardInfoRequest { card_id: id }).await
    };
    let (gte, lt) = q.created();
    let (group, holder) = (q.group_id.clone(), q.cardholder_id.clone());
    let filter = IndexFilter {
        created_gte_ms: gte.map(|t| t.timestamp_millis()),
        created_lt_ms: lt.map(|t| t.timestamp_millis()),
        selective: group.is_some() || holder.is_some(),
        keep: Box::new(move |m| {
            group.as_ref().is_none_or(|g| m.attrs.get("group_id") == Some(g))
                && holder.as_ref().is_none_or(|h| m.attrs.get("cardholder_id") == Some(h))
        }),
    };
    let page = ListPage { list: q.list_name(), limit: q.page().limit(), cursor: q.cursor.as_deref(), filter };
    let status = q.status;
    list_owned(&state, &who.tenant, ObjectKind::Card, page, fetch, |st, info, meta| {
        let mut card = card_from_wire(info, st.codes(), &st.clock);
        card.metadata = shown(&meta.metadata);
        status.is_none_or(|s| s == card.status).then_some(card)
    })
    .await
}

async fn fetch_info(state: &AppState, id: &str) -> Result<crate::upstream::wire::card::CardInfo, ApiError> {
    let reply =
        state.upstream.card_info(&CardInfoRequest { card_id: id.to_owned() }).await.map_err(|e| state.up(&e))?;
    reply.result.ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_GATEWAY,
            "upstream_bad_response",
            "the card platform sent no card",
        )
    })
}

/// A card, masked.
#[utoipa::path(get, path = "/v1/cards/{id}", tag = "cards", operation_id = "get_card",
    params(("id" = String, Path, description = "Card id")),
    responses((status = 200, description = "The card (masked)", body = Card)),
    security(("bearer" = ["cards:read"])))]
pub async fn get_card(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let meta = owned_fresh(&state, &who.tenant, ObjectKind::Card, &id, NOT_FOUND).await?;
    let info = fetch_info(&state, &id).await?;
    let mut card = card_from_wire(&info, state.codes(), &state.clock);
    card.metadata = shown(&meta.metadata);
    Ok(HttpResponse::Ok().json(card))
}

/// The card's full number, CVV and expiry. Audited; never cached.
#[utoipa::path(get, path = "/v1/cards/{id}/sensitive", tag = "cards", operation_id = "reveal_card",
    params(("id" = String, Path, description = "Card id")),
    responses((status = 200, description = "The card with its number and CVV (Cache-Control: no-store)", body = SensitiveCard)),
    security(("bearer" = ["cards:reveal"])))]
pub async fn reveal_card(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let meta = owned_fresh(&state, &who.tenant, ObjectKind::Card, &id, NOT_FOUND).await?;
    let info = fetch_info(&state, &id).await?;
    let (Some(number), Some(cvv)) = (info.card_no.clone(), info.card_verify_no.clone()) else {
        return Err(ApiError::new(
            actix_web::http::StatusCode::BAD_GATEWAY,
            "upstream_bad_response",
            "the card platform sent no card number",
        ));
    };
    tracing::info!(target: "audit", tenant = %who.tenant, subject = %crate::http::log_value::capped(&who.subject), card_id = %id.as_str(), "card details revealed");
    let mut card = card_from_wire(&info, state.codes(), &state.clock);
    card.metadata = shown(&meta.metadata);
    let out = SensitiveCard { card, number, cvv };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .insert_header((actix_web::http::header::PRAGMA, "no-cache"))
        .json(out))
}

/// Change alias, label, limit (shared sub-cards), freeze/unfreeze, or `metadata`. Metadata is the
/// gateway's alone: a metadata-only change makes no platform call and answers 200 with the card;
/// with other fields it is written first, then the platform change is made as without it.
#[utoipa::path(patch, path = "/v1/cards/{id}", tag = "cards", operation_id = "update_card",
    params(("id" = String, Path, description = "Card id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = UpdateCard,
    responses((status = 200, description = "The updated card", body = Card), (status = 202, description = "Accepted", body = crate::domain::operation::Operation)),
    security(("bearer" = ["cards:write"])))]
pub async fn update_card(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    body: ValidJson<UpdateCard>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let meta = owned_fresh(&state, &ctx.tenant, ObjectKind::Card, &id, NOT_FOUND).await?;
    if req.limit.is_some() && !meta.attrs.contains_key("group_id") {
        // A state conflict (the card is not a shared sub-card), not a malformed request.
        return Err(ApiError::conflict(
            "card_not_shared",
            "the limit can only be changed on shared sub-cards; recharge or refund a regular card instead",
        ));
    }
    let metadata = match &req.metadata {
        Some(m) => super::support::set_metadata(&state, &ctx.tenant, ObjectKind::Card, &id, NOT_FOUND, m).await?,
        None => meta.metadata,
    };
    if !req.changes_the_platform() {
        let mut card = card_from_wire(&fetch_info(&state, &id).await?, state.codes(), &state.clock);
        card.metadata = shown(&metadata);
        return Ok(HttpResponse::Ok().json(card));
    }
    let context = OpContext { card_id: Some(id.to_string()), ..Default::default() };
    let spec =
        WriteSpec::new(OperationKind::CardUpdate, SuccessView::Resource).target("card", Some(&id)).context(context);
    let c = state.codes();
    let wire = CardModifyRequest {
        user_req_no: ctx.user_req_no.clone(),
        card_id: id.to_string(),
        card_alias: req.alias,
        card_label: req.label,
        status: req.status.map(|s| match s {
            SettableCardStatus::Active => c.modify_status_enable,
            SettableCardStatus::Frozen => c.modify_status_freeze,
        }),
        auth_limit_amount: req.limit.map(Amount::value),
    };
    operations::run(&state, &ctx, spec, async |op: &StoredOperation| {
        super::funds::order_answer(&state, op, state.upstream.card_modify(&wire).await).await
    })
    .await
}

/// Cancel the card; its remaining balance returns to the merchant account.
#[utoipa::path(post, path = "/v1/cards/{id}/cancel", tag = "cards", operation_id = "cancel_card",
    params(("id" = String, Path, description = "Card id"), ("Idempotency-Key" = String, Header, description = "Idempotency key")),
    responses((status = 200, description = "Cancelled (the operation, with the card as result)", body = crate::domain::operation::Operation),
              (status = 202, description = "Accepted", body = crate::domain::operation::Operation)),
    security(("bearer" = ["cards:write"])))]
pub async fn cancel_card(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    owned(&state, &ctx.tenant, ObjectKind::Card, &id, NOT_FOUND).await?;
    let context = OpContext { card_id: Some(id.to_string()), ..Default::default() };
    let spec =
        WriteSpec::new(OperationKind::CardCancel, SuccessView::Operation).target("card", Some(&id)).context(context);
    let wire = CardCancelRequest { user_req_no: ctx.user_req_no.clone(), card_id: id.to_string() };
    operations::run(&state, &ctx, spec, async |op: &StoredOperation| {
        super::funds::order_answer(&state, op, state.upstream.card_cancel(&wire).await).await
    })
    .await
}

/// Move money from the merchant account onto the card.
#[utoipa::path(post, path = "/v1/cards/{id}/recharges", tag = "cards", operation_id = "recharge_card",
    params(("id" = String, Path, description = "Card id"), ("Idempotency-Key" = String, Header, description = "Idempotency key"), ExpandQuery),
    request_body = AmountBody,
    responses((status = 200, description = "Recharged: the operation, its result the funds movement (or the re-read card with `?expand=card`)", body = crate::domain::operation::Operation),
              (status = 202, description = "Accepted", body = crate::domain::operation::Operation)),
    security(("bearer" = ["funds:write"])))]
pub async fn recharge_card(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    expand: ValidQuery<ExpandQuery>,
    body: ValidJson<AmountBody>,
) -> Result<HttpResponse, ApiError> {
    let holder = super::funds::Holder::Card;
    super::funds::move_funds(state, ctx, holder, id.into_inner(), (body.0, expand.0), true).await
}

/// Move money from the card back to the merchant account.
#[utoipa::path(post, path = "/v1/cards/{id}/refunds", tag = "cards", operation_id = "refund_card",
    params(("id" = String, Path, description = "Card id"), ("Idempotency-Key" = String, Header, description = "Idempotency key"), ExpandQuery),
    request_body = AmountBody,
    responses((status = 200, description = "Refunded: the operation, its result the funds movement (or the re-read card with `?expand=card`)", body = crate::domain::operation::Operation),
              (status = 202, description = "Accepted", body = crate::domain::operation::Operation)),
    security(("bearer" = ["funds:write"])))]
pub async fn refund_card(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    id: web::Path<String>,
    expand: ValidQuery<ExpandQuery>,
    body: ValidJson<AmountBody>,
) -> Result<HttpResponse, ApiError> {
    let holder = super::funds::Holder::Card;
    super::funds::move_funds(state, ctx, holder, id.into_inner(), (body.0, expand.0), false).await
}
