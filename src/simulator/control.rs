//! The control API under `/_sim` (plain JSON, no envelope): faults, call counters, webhook target,
//! state inspection and platform-side event simulations. Guarded by `X-Sim-Control-Token` when
//! `[simulator] control_token` is set (401 otherwise). Refusals answer `{"error", "message"}` with
//! 404 (not found), 422 (invalid) or 409 (state forbids). Amounts are decimal strings or numbers.
//!
//! | route | body → answer |
//! |---|---|
//! | `GET /_sim/calls`, `GET /_sim/calls/{op}` | → `{"card_apply": 2, …}`, `{"op", "count"}` |
//! | `GET /_sim/requests` | the last 256 platform requests' origin headers → `[{"op", "traceparent", "tracestate", "request_id", "user_agent"}]` |
//! | `GET /_sim/calls/repeats` | requests that repeated a request number, per operation → `{"card_recharge": 1, …}` |
//! | `GET /_sim/faults` | → `{"operations": {op: [fault]}, "webhooks": [fault]}` |
//! | `POST /_sim/faults` | `{"op": "card_apply", "kind": "hang", "times": 1}` → 204; kinds: `latency {ms}`, `hang`, `http_status {status}`, `business {code, message}`, `status_unknown`, `commit_then_delay {ms}`, `garbled_result`, `wrong_key`, `non_standard`, `fail_async {code, message}`; `times` 0 = until cleared (default 1) |
//! | `POST /_sim/webhook-faults` | `{"kind": "duplicate", "copies": 3}` or `{"kind": "out_of_order", "hold_ms": 1000}`, `times` → 204 |
//! | `DELETE /_sim/faults` | clears operation and webhook faults → 204 |
//! | `GET`/`PUT /_sim/webhook-url` | `{"url": "http://…" \| null}` |
//! | `GET /_sim/state[/{part}[/{id}]]` | whole snapshot; parts `balances`, `invariants`, `cards`, `groups`, `cardholders`, `orders` (id = userReqNo), `transactions`, `deposits`, `withdrawals`, `webhooks` |
//! | `POST /_sim/cards/{id}/authorizations` | `{"amount", "currency"?, "merchant_name"?, "mcc"?, "cross_border"?, "fee"?}` → transaction record |
//! | `POST /_sim/transactions/{record}/settlement` | `{"amount"?}` → record |
//! | `POST /_sim/transactions/{record}/reversal` | → reversal record |
//! | `POST /_sim/transactions/{record}/refund` | `{"amount"?}` → refund record |
//! | `POST /_sim/cards/{id}/3ds-otp` | `{"amount", "currency"?, "merchant_name"?}` → `{"card_id", "code"}` |
//! | `POST /_sim/cards/{id}/activation-code` | → `{"card_id", "code"}` |
//! | `POST /_sim/cards/{id}/activation-result` | `{"success": true}` → 204 |
//! | `POST /_sim/crypto/deposits/{order_no}/payment` | `{"amount"?, "from_address"?}` → deposit |
//! | `POST /_sim/orders/{user_req_no}/complete` | completes an asynchronous order now → order |

use std::collections::BTreeMap;

use actix_web::{
    HttpRequest, HttpResponse,
    body::BoxBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::{Next, from_fn},
    web,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{
    core::Sim,
    errors::{SimError, codes},
    faults::{Fault, WebhookFault},
    simulations::{ActivationResultSpec, AmountSpec, AuthorizationSpec, OtpSpec, PaymentSpec},
};
use crate::{sensitive::Reveal, upstream::Operation};

/// Header carrying the control token.
pub const CONTROL_TOKEN_HEADER: &str = "X-Sim-Control-Token";

type Sd = web::Data<Sim>;

/// `POST /_sim/faults` body: `{"op": "card_apply", "kind": "hang", "times": 1}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpFault {
    pub op: Operation,
    #[serde(flatten)]
    pub fault: Fault,
}

/// `PUT /_sim/webhook-url` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebhookUrl {
    pub url: Option<String>,
}

fn problem(status: actix_web::http::StatusCode, error: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({"error": error, "message": message}))
}

/// Business refusals of a simulation map onto HTTP: not found 404, invalid 422, state 409.
fn refused(e: &SimError) -> HttpResponse {
    use actix_web::http::StatusCode as S;
    match e.code.as_str() {
        codes::NOT_FOUND => problem(S::NOT_FOUND, "not_found", &e.message),
        codes::VALIDATION => problem(S::UNPROCESSABLE_ENTITY, "invalid", &e.message),
        _ => problem(S::CONFLICT, "conflict", &e.message),
    }
}

fn reply<T: Serialize>(r: Result<T, SimError>) -> HttpResponse {
    match r {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => refused(&e),
    }
}

fn found<T: Serialize>(v: Option<T>, what: &str) -> HttpResponse {
    match v {
        Some(v) => HttpResponse::Ok().json(v),
        None => refused(&SimError::not_found(what)),
    }
}

async fn guard(req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let expected = req.app_data::<Sd>().map(|s| s.cfg.sim.control_token.expose().to_owned()).unwrap_or_default();
    if !expected.is_empty() {
        let given = req.headers().get(CONTROL_TOKEN_HEADER).map(|v| v.as_bytes().to_vec()).unwrap_or_default();
        if !bool::from(given.ct_eq(expected.as_bytes())) {
            let (req, _) = req.into_parts();
            let res = problem(actix_web::http::StatusCode::UNAUTHORIZED, "unauthorized", "control token required");
            return Ok(ServiceResponse::new(req, res));
        }
    }
    next.call(req).await
}

async fn calls(sim: Sd) -> HttpResponse {
    let all: BTreeMap<&str, u64> = Operation::ALL.iter().map(|op| (op.name(), sim.calls(*op))).collect();
    HttpResponse::Ok().json(all)
}

async fn repeats(sim: Sd) -> HttpResponse {
    let all: BTreeMap<&str, u64> = Operation::ALL.iter().map(|op| (op.name(), sim.repeats(*op))).collect();
    HttpResponse::Ok().json(all)
}

async fn requests(sim: Sd) -> HttpResponse {
    HttpResponse::Ok().json(sim.seen())
}

async fn calls_of(sim: Sd, op: web::Path<String>) -> HttpResponse {
    match Operation::from_name(&op) {
        Some(op) => HttpResponse::Ok().json(serde_json::json!({"op": op, "count": sim.calls(op)})),
        None => refused(&SimError::not_found("operation")),
    }
}

async fn faults(sim: Sd) -> HttpResponse {
    HttpResponse::Ok().json(sim.faults.armed())
}

async fn add_fault(sim: Sd, body: web::Json<OpFault>) -> HttpResponse {
    let OpFault { op, fault } = body.into_inner();
    sim.faults.inject(op, fault);
    HttpResponse::NoContent().finish()
}

async fn add_webhook_fault(sim: Sd, body: web::Json<WebhookFault>) -> HttpResponse {
    sim.faults.inject_webhook(body.into_inner());
    HttpResponse::NoContent().finish()
}

async fn clear_faults(sim: Sd) -> HttpResponse {
    sim.faults.clear();
    HttpResponse::NoContent().finish()
}

async fn get_webhook_url(sim: Sd) -> HttpResponse {
    HttpResponse::Ok().json(WebhookUrl { url: sim.webhooks.url() })
}

async fn put_webhook_url(sim: Sd, body: web::Json<WebhookUrl>) -> HttpResponse {
    sim.webhooks.set_url(body.into_inner().url);
    HttpResponse::NoContent().finish()
}

async fn state(sim: Sd, req: HttpRequest) -> HttpResponse {
    let s = sim.snapshot();
    let id = req.match_info().get("id").map(str::to_owned);
    let part = req.match_info().get("part").unwrap_or("");
    match (part, id) {
        ("", _) => HttpResponse::Ok().json(&s),
        ("balances", _) => HttpResponse::Ok().json(&s.ledger),
        ("invariants", _) => {
            HttpResponse::Ok().json(serde_json::json!({"violations": s.invariant_violations(), "totals": s.totals()}))
        }
        ("cards", None) => HttpResponse::Ok().json(&s.cards),
        ("cards", Some(id)) => found(s.card(&id), "card"),
        ("groups", None) => HttpResponse::Ok().json(&s.groups),
        ("groups", Some(id)) => found(s.group(&id), "card group"),
        ("cardholders", None) => HttpResponse::Ok().json(&s.cardholders),
        ("cardholders", Some(id)) => found(s.cardholder(&id), "cardholder"),
        ("orders", None) => HttpResponse::Ok().json(&s.orders),
        ("orders", Some(id)) => found(s.order(&id), "order"),
        ("transactions", None) => HttpResponse::Ok().json(&s.transactions),
        ("transactions", Some(id)) => found(s.transaction(&id), "transaction"),
        ("deposits", None) => HttpResponse::Ok().json(&s.deposits),
        ("withdrawals", None) => HttpResponse::Ok().json(&s.withdrawals),
        ("webhooks", None) => HttpResponse::Ok().json(&s.webhooks),
        _ => refused(&SimError::not_found("state section")),
    }
}

async fn authorize(sim: Sd, id: web::Path<String>, spec: web::Json<AuthorizationSpec>) -> HttpResponse {
    reply(sim.into_inner().authorize(&id, &spec))
}

async fn settle(sim: Sd, id: web::Path<String>, spec: Option<web::Json<AmountSpec>>) -> HttpResponse {
    reply(sim.into_inner().settle(&id, &spec.map(|s| s.into_inner()).unwrap_or_default()))
}

async fn reverse(sim: Sd, id: web::Path<String>) -> HttpResponse {
    reply(sim.into_inner().reverse(&id))
}

async fn refund(sim: Sd, id: web::Path<String>, spec: Option<web::Json<AmountSpec>>) -> HttpResponse {
    reply(sim.into_inner().refund_transaction(&id, &spec.map(|s| s.into_inner()).unwrap_or_default()))
}

async fn otp(sim: Sd, id: web::Path<String>, spec: web::Json<OtpSpec>) -> HttpResponse {
    reply(sim.into_inner().send_3ds_otp(&id, &spec))
}

async fn activation_code(sim: Sd, id: web::Path<String>) -> HttpResponse {
    reply(sim.into_inner().issue_activation_code(&id))
}

async fn activation_result(sim: Sd, id: web::Path<String>, spec: web::Json<ActivationResultSpec>) -> HttpResponse {
    match sim.into_inner().set_activation_result(&id, spec.success) {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => refused(&e),
    }
}

async fn pay(sim: Sd, id: web::Path<String>, spec: Option<web::Json<PaymentSpec>>) -> HttpResponse {
    reply(sim.into_inner().pay_deposit(&id, &spec.map(|s| s.into_inner()).unwrap_or_default()))
}

async fn complete(sim: Sd, id: web::Path<String>) -> HttpResponse {
    reply(sim.into_inner().complete_now(&id))
}

/// Every control route, under `/_sim`.
pub(crate) fn scope() -> impl actix_web::dev::HttpServiceFactory {
    web::scope("/_sim")
        .wrap(from_fn(guard))
        .route("/calls", web::get().to(calls))
        .route("/requests", web::get().to(requests))
        .route("/calls/repeats", web::get().to(repeats))
        .route("/calls/{op}", web::get().to(calls_of))
        .route("/faults", web::get().to(faults))
        .route("/faults", web::post().to(add_fault))
        .route("/faults", web::delete().to(clear_faults))
        .route("/webhook-faults", web::post().to(add_webhook_fault))
        .route("/webhook-url", web::get().to(get_webhook_url))
        .route("/webhook-url", web::put().to(put_webhook_url))
        .route("/state", web::get().to(state))
        .route("/state/{part}", web::get().to(state))
        .route("/state/{part}/{id}", web::get().to(state))
        .route("/cards/{id}/authorizations", web::post().to(authorize))
        .route("/cards/{id}/3ds-otp", web::post().to(otp))
        .route("/cards/{id}/activation-code", web::post().to(activation_code))
        .route("/cards/{id}/activation-result", web::post().to(activation_result))
        .route("/transactions/{id}/settlement", web::post().to(settle))
        .route("/transactions/{id}/reversal", web::post().to(reverse))
        .route("/transactions/{id}/refund", web::post().to(refund))
        .route("/crypto/deposits/{id}/payment", web::post().to(pay))
        .route("/orders/{id}/complete", web::post().to(complete))
}
