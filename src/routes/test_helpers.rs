//! `/v1/test-helpers/…`: platform-side events on demand, for development and test environments only.
//!
//! Each helper drives the embedded simulator in-process (`upstream.mode = "simulator"`; the handle is
//! `AppState::simulator`) to do what a shop, the card network or a payer would do on the platform —
//! an authorisation, its settlement, a 3DS challenge, an activation code, a crypto payment, an async
//! order completing. The platform then notifies the gateway as it always does, so the event appears
//! in `GET /v1/events`, the stream and webhook deliveries exactly like a real one.
//!
//! * Against a real platform (`mode = "http"`) and in production there is no simulator: every
//!   helper answers `404 route_not_found`, as if the route did not exist.
//! * Tenant-scoped like every route: the card, physical card, crypto deposit or operation must be the
//!   caller's (through the ownership store); a transaction must belong to one of the caller's cards.
//!   Another tenant's id answers like a missing one (404) and reaches nothing in the simulator.
//! * Not idempotency-keyed: each call is a new platform-side event (a second authorisation is a second
//!   purchase), nothing the gateway sends to the platform on the merchant's behalf, and no merchant
//!   money moves by the gateway's hand. Retrying is the point.
//! * One-time codes (3DS OTP, activation code) are never in the answer: they travel with the event,
//!   on the same secret channel as real ones.

use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::support::owned;
use crate::{
    auth::Principal,
    domain::{
        list::is_id,
        money::Amount,
        operation::Operation,
        transaction::{Transaction, transaction_from_wire},
    },
    error::ApiError,
    http::{
        extract::{OptionalJson, ValidJson},
        rules,
        validate::{Validate, Violations},
    },
    operations::{record::load, resolve::refresh},
    simulator::{AuthorizationSpec, OtpSpec, PaymentSpec, SimError, SimHandle, codes},
    state::AppState,
    tenancy::ObjectKind,
};

/// The embedded simulator. Extracted first, so without one (real platform, production) a helper
/// answers `404 route_not_found` before its body or ids are even read, as if the route did not exist.
pub struct Simulator(Arc<SimHandle>);

impl FromRequest for Simulator {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let sim = req.app_data::<web::Data<AppState>>().and_then(|state| match &state.simulator {
            Some(sim) if !state.settings.is_production() => Some(Simulator(sim.clone())),
            _ => None,
        });
        std::future::ready(sim.ok_or_else(ApiError::route_not_found))
    }
}

impl std::ops::Deref for Simulator {
    type Target = SimHandle;
    fn deref(&self) -> &SimHandle {
        &self.0
    }
}

/// A simulator refusal as the API's problem: unknown object 404, invalid input 422, state 409.
fn refused(e: &SimError, not_found: &str, what: &str) -> ApiError {
    match e.code.as_str() {
        codes::NOT_FOUND => ApiError::not_found(not_found, what),
        codes::VALIDATION => {
            ApiError::new(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, "test_helper_refused", e.message.clone())
        }
        _ => ApiError::conflict("test_helper_conflict", e.message.clone()),
    }
}

/// What a helper made the platform do: the event it reports and the object it concerns.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"event_type": "card.3ds_otp", "object_id": "2611251200000000042"}))]
pub struct TriggeredEvent {
    /// The type of the event that follows in `GET /v1/events` (the platform notifies asynchronously).
    pub event_type: String,
    pub object_id: String,
}

fn triggered(event_type: &str, object_id: &str) -> HttpResponse {
    HttpResponse::Ok().json(TriggeredEvent { event_type: event_type.to_owned(), object_id: object_id.to_owned() })
}

fn amount_checks(v: &mut Violations, amount: Option<Amount>, pointer: &str) {
    if let Some(a) = amount {
        rules::positive_within(v, a.value(), 2, pointer);
    }
}

fn currency_check(v: &mut Violations, currency: Option<&str>) {
    if let Some(c) = currency {
        rules::CURRENCY.check(v, Some(c), "#/currency");
    }
}

/// `POST /v1/test-helpers/cards/{id}/authorizations`: a purchase at a shop.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "12.50", "merchant_name": "Corner Coffee"}))]
pub struct SimulateAuthorization {
    /// In `currency` (default: the card's currency).
    pub amount: Amount,
    /// ISO 4217 (default: the card's currency).
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub merchant_name: Option<String>,
    /// Merchant category code, four digits.
    #[serde(default)]
    pub mcc: Option<String>,
    /// A cross-border purchase also reports a `card.fee` event.
    #[serde(default)]
    pub cross_border: bool,
}

impl Validate for SimulateAuthorization {
    fn validate(&self, v: &mut Violations) {
        amount_checks(v, Some(self.amount), "#/amount");
        currency_check(v, self.currency.as_deref());
        v.text(self.merchant_name.as_deref(), "#/merchant_name", 64);
        rules::MCC.check(v, self.mcc.as_deref(), "#/mcc");
    }
}

/// `POST /v1/test-helpers/transactions/{id}/settlement` and `/refund`: no amount = the whole
/// (remaining) amount.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "12.50"}))]
pub struct SimulateAmount {
    #[serde(default)]
    pub amount: Option<Amount>,
}

impl Validate for SimulateAmount {
    fn validate(&self, v: &mut Violations) {
        amount_checks(v, self.amount, "#/amount");
    }
}

/// `POST /v1/test-helpers/cards/{id}/3ds-otp`: a 3DS challenge at a shop.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "99.00", "merchant_name": "Online Shop"}))]
pub struct SimulateOtp {
    pub amount: Amount,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub merchant_name: Option<String>,
}

impl Validate for SimulateOtp {
    fn validate(&self, v: &mut Violations) {
        amount_checks(v, Some(self.amount), "#/amount");
        currency_check(v, self.currency.as_deref());
        v.text(self.merchant_name.as_deref(), "#/merchant_name", 64);
    }
}

/// `POST /v1/test-helpers/physical-cards/{id}/activation-result`: the platform's verdict.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"success": true}))]
pub struct SimulateActivationResult {
    pub success: bool,
}

impl Validate for SimulateActivationResult {
    fn validate(&self, _: &mut Violations) {}
}

/// `POST /v1/test-helpers/crypto/deposits/{id}/payment`: the payer's on-chain transfer; no amount =
/// the ordered amount.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "100.00"}))]
pub struct SimulatePayment {
    #[serde(default)]
    pub amount: Option<Amount>,
    #[serde(default)]
    pub from_address: Option<String>,
}

impl Validate for SimulatePayment {
    fn validate(&self, v: &mut Violations) {
        amount_checks(v, self.amount, "#/amount");
        rules::ADDRESS.check(v, self.from_address.as_deref(), "#/from_address");
    }
}

/// How an asynchronous operation ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompletionOutcome {
    /// The platform carries it out (`card.operation.succeeded`).
    #[default]
    Succeeded,
    /// The platform refuses it (`card.operation.failed`; nothing moves).
    Failed,
}

/// `POST /v1/test-helpers/operations/{id}/complete`; no body = succeeded.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"outcome": "failed"}))]
pub struct SimulateCompletion {
    #[serde(default)]
    pub outcome: CompletionOutcome,
}

impl Validate for SimulateCompletion {
    fn validate(&self, _: &mut Violations) {}
}

/// An empty object (optional fields none).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

impl Validate for EmptyBody {
    fn validate(&self, _: &mut Violations) {}
}

const CARD_NOT_FOUND: &str = "card_not_found";
const TX_NOT_FOUND: &str = "transaction_not_found";

/// A transaction of one of the tenant's cards; anything else is 404 before the simulator is touched.
async fn owned_transaction(
    state: &AppState,
    sim: &SimHandle,
    tenant: &crate::tenancy::TenantId,
    id: &str,
) -> Result<(), ApiError> {
    let missing = || ApiError::not_found(TX_NOT_FOUND, "transaction");
    if !is_id(id) {
        return Err(missing());
    }
    let card = sim.transaction_card(id).ok_or_else(missing)?;
    owned(state, tenant, ObjectKind::Card, &card, TX_NOT_FOUND)
        .await
        .map_err(|e| if e.status == actix_web::http::StatusCode::NOT_FOUND { missing() } else { e })?;
    Ok(())
}

fn transaction(
    state: &AppState,
    r: Result<crate::upstream::wire::card::TransactionRecord, SimError>,
) -> Result<HttpResponse, ApiError> {
    let t = r.map_err(|e| refused(&e, TX_NOT_FOUND, "transaction"))?;
    Ok(HttpResponse::Ok().json(transaction_from_wire(&t, state.codes(), &state.clock)))
}

fn decimal(a: Option<Amount>) -> Option<Decimal> {
    a.map(Amount::value)
}

/// Simulate a purchase on the card: an authorisation the platform reports as `card.transaction`
/// (and `card.fee` when `cross_border`). Development and test environments only.
#[utoipa::path(post, path = "/v1/test-helpers/cards/{id}/authorizations", tag = "test-helpers", operation_id = "simulate_card_authorization",
    params(("id" = String, Path, description = "Card id")),
    request_body = SimulateAuthorization,
    responses((status = 200, description = "The authorisation (its `card.transaction` event follows)", body = Transaction),
        (status = 404, description = "No such card for this tenant, or no simulator (real platform, production)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The card's state forbids it (e.g. cancelled, insufficient balance)", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["cards:write"])))]
pub async fn simulate_card_authorization(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<SimulateAuthorization>,
) -> Result<HttpResponse, ApiError> {
    owned(&state, &who.tenant, ObjectKind::Card, &id, CARD_NOT_FOUND).await?;
    let b = body.0;
    let spec = AuthorizationSpec {
        amount: b.amount.value(),
        currency: b.currency,
        merchant_name: b.merchant_name,
        mcc: b.mcc,
        cross_border: b.cross_border,
        fee: None,
    };
    let t = sim.authorize(&id, &spec).map_err(|e| refused(&e, CARD_NOT_FOUND, "card"))?;
    Ok(HttpResponse::Ok().json(transaction_from_wire(&t, state.codes(), &state.clock)))
}

/// Simulate the settlement of an open authorisation (`card.transaction`). Development and test
/// environments only.
#[utoipa::path(post, path = "/v1/test-helpers/transactions/{id}/settlement", tag = "test-helpers", operation_id = "simulate_transaction_settlement",
    params(("id" = String, Path, description = "Transaction id (an authorisation on one of the tenant's cards)")),
    request_body(content = Option<SimulateAmount>, description = "Optional; no amount = the whole (remaining) amount"),
    responses((status = 200, description = "The settled transaction (its `card.transaction` event follows)", body = Transaction),
        (status = 404, description = "No such transaction on this tenant's cards, or no simulator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not an open authorisation", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["cards:write"])))]
pub async fn simulate_transaction_settlement(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: OptionalJson<SimulateAmount>,
) -> Result<HttpResponse, ApiError> {
    owned_transaction(&state, &sim, &who.tenant, &id).await?;
    transaction(&state, sim.settle(&id, decimal(body.0.unwrap_or_default().amount)))
}

/// Simulate the reversal of an open authorisation (`card.transaction`). Development and test
/// environments only.
#[utoipa::path(post, path = "/v1/test-helpers/transactions/{id}/reversal", tag = "test-helpers", operation_id = "simulate_transaction_reversal",
    params(("id" = String, Path, description = "Transaction id (an authorisation on one of the tenant's cards)")),
    request_body(content = Option<EmptyBody>, description = "An empty object (optional)"),
    responses((status = 200, description = "The reversal (its `card.transaction` event follows)", body = Transaction),
        (status = 404, description = "No such transaction on this tenant's cards, or no simulator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not an open authorisation", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["cards:write"])))]
pub async fn simulate_transaction_reversal(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    _body: OptionalJson<EmptyBody>,
) -> Result<HttpResponse, ApiError> {
    owned_transaction(&state, &sim, &who.tenant, &id).await?;
    transaction(&state, sim.reverse(&id))
}

/// Simulate a shop's refund of a transaction (`card.transaction`). Development and test
/// environments only.
#[utoipa::path(post, path = "/v1/test-helpers/transactions/{id}/refund", tag = "test-helpers", operation_id = "simulate_transaction_refund",
    params(("id" = String, Path, description = "Transaction id (on one of the tenant's cards)")),
    request_body(content = Option<SimulateAmount>, description = "Optional; no amount = the whole (remaining) amount"),
    responses((status = 200, description = "The refund (its `card.transaction` event follows)", body = Transaction),
        (status = 404, description = "No such transaction on this tenant's cards, or no simulator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The transaction cannot be refunded (state or amount)", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["cards:write"])))]
pub async fn simulate_transaction_refund(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: OptionalJson<SimulateAmount>,
) -> Result<HttpResponse, ApiError> {
    owned_transaction(&state, &sim, &who.tenant, &id).await?;
    transaction(&state, sim.refund_transaction(&id, decimal(body.0.unwrap_or_default().amount)))
}

/// Simulate a 3DS challenge: the platform sends a one-time code (`card.3ds_otp`; the code travels
/// with the event only). Development and test environments only.
#[utoipa::path(post, path = "/v1/test-helpers/cards/{id}/3ds-otp", tag = "test-helpers", operation_id = "simulate_card_3ds_otp",
    params(("id" = String, Path, description = "Card id")),
    request_body = SimulateOtp,
    responses((status = 200, description = "Challenge sent (its `card.3ds_otp` event follows)", body = TriggeredEvent),
        (status = 404, description = "No such card for this tenant, or no simulator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The card's state forbids it (cancelled)", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["cards:write"])))]
pub async fn simulate_card_3ds_otp(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<SimulateOtp>,
) -> Result<HttpResponse, ApiError> {
    owned(&state, &who.tenant, ObjectKind::Card, &id, CARD_NOT_FOUND).await?;
    let b = body.0;
    let spec = OtpSpec { amount: b.amount.value(), currency: b.currency, merchant_name: b.merchant_name };
    sim.send_3ds_otp(&id, &spec).map_err(|e| refused(&e, CARD_NOT_FOUND, "card"))?;
    Ok(triggered("card.3ds_otp", &id))
}

/// Simulate the platform issuing a physical card's activation code (`physical_card.activation_code`;
/// the code travels with the event only). Development and test environments only.
#[utoipa::path(post, path = "/v1/test-helpers/physical-cards/{id}/activation-code", tag = "test-helpers", operation_id = "simulate_physical_card_activation_code",
    params(("id" = String, Path, description = "Card id (a physical card)")),
    request_body(content = Option<EmptyBody>, description = "An empty object (optional)"),
    responses((status = 200, description = "Code issued (its `physical_card.activation_code` event follows)", body = TriggeredEvent),
        (status = 404, description = "No such physical card for this tenant, or no simulator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The card's state forbids it", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["cards:write"])))]
pub async fn simulate_physical_card_activation_code(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    _body: OptionalJson<EmptyBody>,
) -> Result<HttpResponse, ApiError> {
    super::physical_cards::owned_physical(&state, &who.tenant, &id).await?;
    sim.issue_activation_code(&id).map_err(|e| refused(&e, super::physical_cards::NOT_FOUND, "physical card"))?;
    Ok(triggered("physical_card.activation_code", &id))
}

/// Simulate the platform's activation result for a physical card (`physical_card.activation`).
/// Development and test environments only.
#[utoipa::path(post, path = "/v1/test-helpers/physical-cards/{id}/activation-result", tag = "test-helpers", operation_id = "simulate_physical_card_activation_result",
    params(("id" = String, Path, description = "Card id (a physical card)")),
    request_body = SimulateActivationResult,
    responses((status = 200, description = "Result reported (its `physical_card.activation` event follows)", body = TriggeredEvent),
        (status = 404, description = "No such physical card for this tenant, or no simulator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The card's state forbids it", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["cards:write"])))]
pub async fn simulate_physical_card_activation_result(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<SimulateActivationResult>,
) -> Result<HttpResponse, ApiError> {
    super::physical_cards::owned_physical(&state, &who.tenant, &id).await?;
    sim.set_activation_result(&id, body.0.success)
        .map_err(|e| refused(&e, super::physical_cards::NOT_FOUND, "physical card"))?;
    Ok(triggered("physical_card.activation", &id))
}

/// Simulate the payer's on-chain transfer to a crypto deposit's address (`crypto.payment`).
/// Development and test environments only.
#[utoipa::path(post, path = "/v1/test-helpers/crypto/deposits/{id}/payment", tag = "test-helpers", operation_id = "simulate_crypto_deposit_payment",
    params(("id" = String, Path, description = "Crypto deposit id")),
    request_body(content = Option<SimulatePayment>, description = "Optional; no amount = the ordered amount"),
    responses((status = 200, description = "Paid (its `crypto.payment` event follows)", body = TriggeredEvent),
        (status = 404, description = "No such crypto deposit for this tenant, or no simulator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The deposit's state forbids it (already paid, expired)", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["crypto:write"])))]
pub async fn simulate_crypto_deposit_payment(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: OptionalJson<SimulatePayment>,
) -> Result<HttpResponse, ApiError> {
    const NOT_FOUND: &str = "crypto_deposit_not_found";
    owned(&state, &who.tenant, ObjectKind::CryptoOrder, &id, NOT_FOUND).await?;
    let b = body.0.unwrap_or_default();
    let spec = PaymentSpec { amount: decimal(b.amount), from_address: b.from_address };
    sim.pay_deposit(&id, &spec).map_err(|e| refused(&e, NOT_FOUND, "crypto deposit"))?;
    Ok(triggered("crypto.payment", &id))
}

/// Complete an asynchronous operation now instead of after the platform's delay, successfully
/// (`card.operation.succeeded`) or not (`"outcome": "failed"`: `card.operation.failed`); the answer is
/// the operation brought up to date. An operation that already finished is answered unchanged.
/// Development and test environments only.
#[utoipa::path(post, path = "/v1/test-helpers/operations/{id}/complete", tag = "test-helpers", operation_id = "simulate_operation_completion",
    params(("id" = String, Path, description = "Operation id")),
    request_body(content = Option<SimulateCompletion>, description = "Optional; no body = succeeded"),
    responses((status = 200, description = "The operation, brought up to date", body = Operation),
        (status = 404, description = "No such operation for this tenant, or no simulator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The platform holds no order for this operation", body = crate::error::Problem, content_type = "application/problem+json")),
    security(("bearer" = ["cards:write"])))]
pub async fn simulate_operation_completion(
    sim: Simulator,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: OptionalJson<SimulateCompletion>,
) -> Result<HttpResponse, ApiError> {
    const NOT_FOUND: &str = "operation_not_found";
    if !is_id(&id) {
        return Err(ApiError::not_found(NOT_FOUND, "operation"));
    }
    let mut op = load(&state, &who.tenant, &id).await?.ok_or_else(|| ApiError::not_found(NOT_FOUND, "operation"))?;
    // The operation is the tenant's; a platform without its order (a synchronous operation that never
    // reached it, a crypto order) has nothing to complete: a state conflict, not a missing operation.
    let req_no = &op.op.user_req_no;
    let done = match body.0.unwrap_or_default().outcome {
        CompletionOutcome::Succeeded => sim.complete_now(req_no),
        CompletionOutcome::Failed => sim.fail_now(req_no, codes::STATUS_FORBIDS, "operation refused (test helper)"),
    };
    done.map_err(|e| match e.code.as_str() {
        codes::NOT_FOUND => {
            ApiError::conflict("test_helper_conflict", "the platform holds no order for this operation to complete")
        }
        _ => refused(&e, NOT_FOUND, "operation"),
    })?;
    refresh(&state, &mut op).await?;
    Ok(HttpResponse::Ok().json(&op.op))
}
