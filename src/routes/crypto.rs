//! `/v1/crypto/deposits` and `/v1/crypto/withdrawals` (DPT acquiring and withdraw).

use actix_web::{HttpResponse, web};

use crate::operations::record::claim_created;
use crate::upstream::Operation as UpstreamOp;
use crate::{
    domain::{
        crypto::{CreateDeposit, CreateWithdrawal, CryptoDeposit, CryptoWithdrawal},
        money::Amount,
        operation::{Operation, OperationKind, OperationTarget},
    },
    error::ApiError,
    http::extract::ValidJson,
    operations::{
        WriteCtx,
        record::OpContext,
        write::{Next, SuccessView, settle_err, settle_succeeded},
    },
    state::AppState,
    tenancy::ObjectKind,
    upstream::wire::dpt::{DptAcquireRequest, DptWithdrawRequest},
};

fn target(id: Option<String>) -> Option<OperationTarget> {
    Some(OperationTarget { kind: "crypto_order".into(), id })
}

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
    let mut op =
        match ctx.start(&state, OperationKind::CryptoDeposit, target(None), context, SuccessView::Created).await? {
            Next::Respond(r) => return Ok(r),
            Next::Send(op) => *op,
        };
    let wire = DptAcquireRequest {
        amount: req.amount.value(),
        currency: req.currency.clone(),
        chain: req.chain.clone(),
        serial_number: ctx.user_req_no.clone(),
    };
    match state.upstream.dpt_acquire(&wire).await.and_then(|r| r.require(UpstreamOp::DptAcquire)) {
        Err(e) => Ok(settle_err(&state, &mut op, &e).await),
        Ok(res) => {
            claim_created(&state, &mut op, ObjectKind::CryptoOrder, &res.order_no, &[]).await?;
            let out = CryptoDeposit {
                id: res.order_no.clone(),
                status: "pending".into(),
                amount: req.amount,
                currency: req.currency,
                chain: req.chain,
                deposit_address: res.to_address,
                expires_at: res.expire_time.as_deref().and_then(|t| state.clock.parse_datetime(t)),
            };
            let json = serde_json::to_value(&out).map_err(ApiError::internal)?;
            settle_succeeded(&state, &mut op, Some(res.order_no), Some(json), SuccessView::Created).await
        }
    }
}

/// Withdraw digital currency to an on-chain address.
#[utoipa::path(post, path = "/v1/crypto/withdrawals", tag = "crypto", operation_id = "create_crypto_withdrawal",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key")),
    request_body = CreateWithdrawal,
    responses((status = 201, description = "Withdrawal created", body = CryptoWithdrawal), (status = 202, description = "Outcome being confirmed", body = Operation)),
    security(("bearer" = ["crypto:write"])))]
pub async fn create_crypto_withdrawal(
    state: web::Data<AppState>,
    ctx: WriteCtx,
    body: ValidJson<CreateWithdrawal>,
) -> Result<HttpResponse, ApiError> {
    let req = body.0;
    let context =
        OpContext { amount: Some(req.amount.to_string()), currency: Some(req.currency.clone()), ..Default::default() };
    let mut op =
        match ctx.start(&state, OperationKind::CryptoWithdrawal, target(None), context, SuccessView::Created).await? {
            Next::Respond(r) => return Ok(r),
            Next::Send(op) => *op,
        };
    let wire = DptWithdrawRequest {
        amount: req.amount.value(),
        currency: req.currency.clone(),
        chain: req.chain.clone(),
        to_address: req.to_address.clone(),
        serial_number: ctx.user_req_no.clone(),
    };
    match state.upstream.dpt_withdraw(&wire).await.and_then(|r| r.require(UpstreamOp::DptWithdraw)) {
        Err(e) => Ok(settle_err(&state, &mut op, &e).await),
        Ok(res) => {
            claim_created(&state, &mut op, ObjectKind::CryptoOrder, &res.order_no, &[]).await?;
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
                currency: req.currency,
                chain: req.chain,
                to_address: req.to_address,
                tx_id: res.tx_id,
            };
            let json = serde_json::to_value(&out).map_err(ApiError::internal)?;
            settle_succeeded(&state, &mut op, Some(res.order_no), Some(json), SuccessView::Created).await
        }
    }
}
