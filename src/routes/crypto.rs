//! `/v1/crypto/deposits` and `/v1/crypto/withdrawals` (DPT acquiring and withdraw).

use actix_web::{HttpResponse, web};

use crate::upstream::Operation as UpstreamOp;
use crate::{
    domain::{
        crypto::{CreateDeposit, CreateWithdrawal, CryptoDeposit, CryptoWithdrawal},
        money::Amount,
        operation::{Operation, OperationKind},
    },
    error::ApiError,
    http::extract::ValidJson,
    operations::{self, Created, Sent, StoredOperation, SuccessView, WriteCtx, WriteSpec, record::OpContext},
    state::AppState,
    tenancy::ObjectKind,
    upstream::wire::dpt::{DptAcquireRequest, DptWithdrawRequest},
};

const TARGET: &str = "crypto_order";

/// Open a digital-currency deposit: the platform answers with an address to pay.
#[utoipa::path(post, path = "/v1/crypto/deposits", tag = "crypto", operation_id = "create_crypto_deposit",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = CreateDeposit,
    responses((status = 201, description = "Deposit order opened", body = CryptoDeposit), (status = 202, description = "Outcome being confirmed", body = Operation)),
    security(("bearer" = ["crypto:write"])))]
pub async fn create_crypto_deposit(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<CreateDeposit>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let context =
        OpContext { amount: Some(req.amount.to_string()), currency: Some(req.currency.clone()), ..Default::default() };
    let spec = WriteSpec::new(OperationKind::CryptoDeposit, SuccessView::Created).target(TARGET, None).context(context);
    let wire = DptAcquireRequest {
        amount: req.amount.value(),
        currency: req.currency.clone(),
        chain: req.chain.clone(),
        serial_number: ctx.user_req_no.clone(),
    };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        let res = state.upstream.dpt_acquire(&wire).await?.require(UpstreamOp::DptAcquire)?;
        let out = CryptoDeposit {
            id: res.order_no.clone(),
            status: "pending".into(),
            amount: req.amount,
            currency: req.currency.clone(),
            chain: req.chain.clone(),
            deposit_address: res.to_address,
            expires_at: res.expire_time.as_deref().and_then(|t| state.clock.parse_datetime(t)),
        };
        let created = Created::new(ObjectKind::CryptoOrder, res.order_no.clone());
        Ok(Sent::Done { order_id: Some(res.order_no), result: serde_json::to_value(&out).ok(), created: Some(created) })
    })
    .await
}

/// Withdraw digital currency to an on-chain address.
///
/// The currency leaves the merchant's account for any address, so withdrawals need `treasury:write`
/// (operators), not a tenant's `crypto:write`, and count against the tenant's daily money cap in their
/// currency (`rate_limit.money_caps`, e.g. `USDT`): beyond it, `422 daily_money_cap_exceeded` before
/// any platform call.
#[utoipa::path(post, path = "/v1/crypto/withdrawals", tag = "crypto", operation_id = "create_crypto_withdrawal",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = CreateWithdrawal,
    responses((status = 201, description = "Withdrawal created", body = CryptoWithdrawal), (status = 202, description = "Outcome being confirmed", body = Operation), (status = 422, description = "Invalid, or beyond the daily money cap (`daily_money_cap_exceeded`)", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["treasury:write"])))]
pub async fn create_crypto_withdrawal(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<CreateWithdrawal>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let context =
        OpContext { amount: Some(req.amount.to_string()), currency: Some(req.currency.clone()), ..Default::default() };
    let spec = WriteSpec::new(OperationKind::CryptoWithdrawal, SuccessView::Created)
        .target(TARGET, None)
        .context(context)
        .capped(&req.currency, req.amount.value());
    let wire = DptWithdrawRequest {
        amount: req.amount.value(),
        currency: req.currency.clone(),
        chain: req.chain.clone(),
        to_address: req.to_address.clone(),
        serial_number: ctx.user_req_no.clone(),
    };
    operations::run(&state, &ctx, spec, async |_: &StoredOperation| {
        let res = state.upstream.dpt_withdraw(&wire).await?.require(UpstreamOp::DptWithdraw)?;
        let status = match res.status.as_deref() {
            Some("1") => "succeeded",
            Some("2") => "failed",
            _ => "processing",
        };
        let out = CryptoWithdrawal {
            id: res.order_no.clone(),
            status: status.into(),
            amount: req.amount,
            fee: res.fee.map(Amount),
            currency: req.currency.clone(),
            chain: req.chain.clone(),
            to_address: req.to_address.clone(),
            tx_id: res.tx_id,
        };
        let created = Created::new(ObjectKind::CryptoOrder, res.order_no.clone());
        Ok(Sent::Done { order_id: Some(res.order_no), result: serde_json::to_value(&out).ok(), created: Some(created) })
    })
    .await
}
