//! `/v1/treasury/…`: the merchant-wide account (balances, FX, exchanges, DPT transfers). Only tokens
//! carrying `treasury:*` scopes reach these routes.

use actix_web::{HttpResponse, web};

use crate::{
    auth::Principal,
    domain::{
        money::{Amount, Money},
        operation::{Operation, OperationKind},
        treasury::{Balance, Conversion, CreateCryptoTransfer, CreateExchange, ExchangeRateOut, RateQuery},
    },
    error::ApiError,
    http::extract::{ValidJson, ValidQuery},
    operations::{self, Sent, StoredOperation, SuccessView, WriteCtx, WriteSpec, record::OpContext},
    state::AppState,
    upstream::{
        Reply,
        wire::account::{BalanceRequest, ConversionResult, DptTransferRequest, ExchangeRateRequest, ExchangeRequest},
    },
};

/// Merchant account balances, one per currency.
#[utoipa::path(get, path = "/v1/treasury/balances", tag = "treasury", operation_id = "list_balances",
    responses((status = 200, description = "Balances", body = inline(crate::domain::list::Page<Balance>))),
    security(("bearer" = ["treasury:read"])))]
pub async fn list_balances(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    let req = BalanceRequest { user_req_no: state.req_nos.for_read(&who.tenant), ccy: None };
    let reply = state.upstream.account_balance(&req).await.map_err(|e| state.up(&e))?;
    let data: Vec<Balance> = reply
        .result
        .map(|r| r.into_vec())
        .unwrap_or_default()
        .into_iter()
        .map(|b| Balance { currency: b.ccy, total: Amount(b.current_balance), available: Amount(b.available_bal) })
        .collect();
    Ok(HttpResponse::Ok().json(crate::domain::list::Page { data, next_cursor: None }))
}

/// The platform's exchange rate for a currency pair.
#[utoipa::path(get, path = "/v1/treasury/exchange-rates", tag = "treasury", operation_id = "get_exchange_rate",
    params(RateQuery),
    responses((status = 200, description = "The rate", body = ExchangeRateOut)),
    security(("bearer" = ["treasury:read"])))]
pub async fn get_exchange_rate(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<RateQuery>,
) -> Result<HttpResponse, ApiError> {
    let req = ExchangeRateRequest {
        user_req_no: state.req_nos.for_read(&who.tenant),
        source_currency: q.0.from.clone(),
        target_currency: q.0.to.clone(),
    };
    let reply = state.upstream.exchange_rate(&req).await.map_err(|e| state.up(&e))?;
    let r = reply.result.ok_or_else(|| {
        ApiError::new(actix_web::http::StatusCode::BAD_GATEWAY, "upstream_bad_response", "no rate in the answer")
    })?;
    Ok(HttpResponse::Ok().json(ExchangeRateOut {
        from: r.source_currency,
        to: r.target_currency,
        rate: r.rate,
        updated_at: r.update_time.as_deref().and_then(|t| state.clock.parse_datetime(t)),
    }))
}

fn conversion(r: &ConversionResult, from: &str, to: &str, amount: Amount) -> Conversion {
    Conversion {
        id: r.order_id.clone(),
        debited: Some(Money {
            amount: r.source_amount.map(Amount).unwrap_or(amount),
            currency: r.source_currency.clone().unwrap_or_else(|| from.to_owned()),
        }),
        credited: r
            .target_amount
            .map(|a| Money { amount: Amount(a), currency: r.target_currency.clone().unwrap_or_else(|| to.to_owned()) }),
        rate: r.rate,
        fee: r.fee.map(Amount),
    }
}

/// Exchange between two of the merchant's currency accounts.
#[utoipa::path(post, path = "/v1/treasury/exchanges", tag = "treasury", operation_id = "create_exchange",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = CreateExchange,
    responses((status = 201, description = "Exchanged", body = Conversion), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["treasury:write"])))]
pub async fn create_exchange(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<CreateExchange>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let context = OpContext {
        amount: Some(req.amount.to_string()),
        currency: Some(req.from_currency.clone()),
        ..Default::default()
    };
    let spec = WriteSpec::new(OperationKind::TreasuryExchange, SuccessView::Created).context(context);
    let wire = ExchangeRequest {
        user_req_no: ctx.user_req_no.clone(),
        source_currency: req.from_currency.clone(),
        target_currency: req.to_currency.clone(),
        amount: req.amount.value(),
    };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        let reply = state.upstream.account_exchange(&wire).await?;
        Ok(conversion_answer(reply, &req.from_currency, &req.to_currency, req.amount))
    })
    .await
}

/// Move digital currency into a card (fiat) account.
#[utoipa::path(post, path = "/v1/treasury/crypto-transfers", tag = "treasury", operation_id = "create_crypto_transfer",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = CreateCryptoTransfer,
    responses((status = 201, description = "Transferred", body = Conversion), (status = 202, description = "Accepted", body = Operation)),
    security(("bearer" = ["treasury:write"])))]
pub async fn create_crypto_transfer(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<CreateCryptoTransfer>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let context =
        OpContext { amount: Some(req.amount.to_string()), currency: Some(req.currency.clone()), ..Default::default() };
    let spec = WriteSpec::new(OperationKind::TreasuryCryptoTransfer, SuccessView::Created).context(context);
    let wire = DptTransferRequest {
        user_req_no: ctx.user_req_no.clone(),
        currency: req.currency.clone(),
        target_currency: req.to_currency.clone(),
        amount: req.amount.value(),
    };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        let reply = state.upstream.dpt_transfer(&wire).await?;
        Ok(conversion_answer(reply, &req.currency, &req.to_currency, req.amount))
    })
    .await
}

/// A conversion's answer: accepted → pending; done → the conversion as the result.
fn conversion_answer(reply: Reply<ConversionResult>, from: &str, to: &str, amount: Amount) -> Sent {
    if reply.is_async {
        return Sent::Accepted { order_id: reply.result.and_then(|r| r.order_id) };
    }
    let r = reply.result.unwrap_or_default();
    let result = serde_json::to_value(conversion(&r, from, to, amount)).ok();
    Sent::Done { order_id: r.order_id.clone(), result, created: None }
}
