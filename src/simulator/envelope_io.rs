//! The platform's HTTP face: `POST {path}` with `{version, userNo, dataType, dataContent}` (JSON or
//! form-encoded), answered with `{success, async, result, userNo}` or `{success:false, errorCode,
//! errorMsg, userNo}`. Unknown paths and unreadable envelopes get the gateway layer's bare
//! `{"async":false,"statusCode":500}`. Armed faults bend the answer here.

use std::{sync::Arc, time::Duration};

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use serde_json::json;

use super::{core::Sim, errors::SimError, faults::FaultKind, handlers, state::StoredAnswer};
use crate::config::simulator::ErrorCodeStyle;
use crate::{envelope::EnvelopeCodec, upstream::wire::common::RequestEnvelope};

/// Payloads above this size are sealed/opened on the blocking pool (RSA is per 117-byte block).
const OFFLOAD_BYTES: usize = 2048;

fn non_standard() -> HttpResponse {
    HttpResponse::Ok().json(json!({"async": false, "statusCode": 500}))
}

/// `errorCode` as a JSON number for the 7-digit codes (as C2 observed) and a string for 6-digit ones
/// (as documented), so clients must accept both.
/// `simulator.dialect.error_codes` switches to all numbers or all strings.
fn error_code(style: ErrorCodeStyle, code: &str) -> serde_json::Value {
    match (style, code.parse::<u64>()) {
        (ErrorCodeStyle::Mixed, Ok(n)) if code.len() == 7 => json!(n),
        (ErrorCodeStyle::Number, Ok(n)) => json!(n),
        _ => json!(code),
    }
}

fn refusal(sim: &Sim, user_no: &str, e: &SimError) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "success": false,
        "errorCode": error_code(sim.cfg.sim.dialect.error_codes, &e.code),
        "errorMsg": e.message,
        "userNo": user_no,
    }))
}

fn success(user_no: &str, is_async: bool, result: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "async": is_async, "result": result, "userNo": user_no}))
}

fn parse_envelope(req: &HttpRequest, body: &[u8]) -> Option<RequestEnvelope> {
    let form = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if form {
        let text = std::str::from_utf8(body).ok()?;
        web::Query::<RequestEnvelope>::from_query(text).ok().map(web::Query::into_inner)
    } else {
        serde_json::from_slice(body).ok()
    }
}

async fn off_pool<T: Send + 'static>(big: bool, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    if big { web::block(work).await.ok() } else { Some(work()) }
}

async fn seal(codec: &EnvelopeCodec, json: Arc<[u8]>) -> Option<String> {
    let codec = codec.clone();
    off_pool(json.len() > OFFLOAD_BYTES, move || codec.seal_bytes(&json).ok()).await.flatten()
}

/// Valid hex of whole blocks that no key opens: the real ciphertext with every block's first byte
/// flipped, so RSA unpadding fails.
fn garble(hex_text: &str) -> String {
    let mut bytes = hex::decode(hex_text).unwrap_or_else(|_| vec![0u8; 128]);
    for block in bytes.chunks_mut(128) {
        if let Some(b) = block.first_mut() {
            *b ^= 0xA5;
        }
    }
    hex::encode(bytes)
}

/// `simulator.dialect.omit_fields`: drops those keys at any depth of the result.
fn omit_fields(omit: &[String], result: Arc<[u8]>) -> Arc<[u8]> {
    fn strip(v: &mut serde_json::Value, omit: &[String]) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| !omit.contains(k));
                map.values_mut().for_each(|x| strip(x, omit));
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|x| strip(x, omit)),
            _ => {}
        }
    }
    if omit.is_empty() {
        return result;
    }
    match serde_json::from_slice::<serde_json::Value>(&result) {
        Ok(mut v) => {
            strip(&mut v, omit);
            serde_json::to_vec(&v).map_or(result, Arc::from)
        }
        Err(_) => result,
    }
}

/// Every path outside `/_sim`.
pub(crate) async fn handle(req: HttpRequest, body: web::Bytes, sim: web::Data<Sim>) -> HttpResponse {
    let sim = sim.into_inner();
    let Some(op) =
        (req.method() == actix_web::http::Method::POST).then(|| sim.cfg.routes.get(req.path()).copied()).flatten()
    else {
        tracing::info!(path = req.path(), "sim: unknown path");
        return non_standard();
    };
    sim.count_call(op);
    let header = |name: &str| {
        req.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.chars().take(512).collect::<String>())
    };
    sim.record_seen(super::core::SeenRequest {
        op: op.name(),
        traceparent: header("traceparent"),
        tracestate: header("tracestate"),
        request_id: header("x-request-id"),
        user_agent: header("user-agent"),
    });
    let started = std::time::Instant::now();
    let fault = sim.faults.take(op);
    let response = answer(&sim, op, &req, &body, fault.clone()).await;
    tracing::info!(
        upstream.op = op.name(),
        fault = fault.as_ref().map_or("none", FaultKind::name),
        duration_ms = started.elapsed().as_millis() as u64,
        "sim: request answered"
    );
    response
}

async fn answer(
    sim: &Arc<Sim>,
    op: crate::upstream::Operation,
    req: &HttpRequest,
    body: &[u8],
    fault: Option<FaultKind>,
) -> HttpResponse {
    let Some(envelope) = parse_envelope(req, body) else { return non_standard() };
    if !envelope.data_type.eq_ignore_ascii_case("json") {
        return non_standard();
    }
    let user_no = envelope.user_no.trim().to_owned();
    if user_no != sim.cfg.merchant_no {
        return refusal(sim, &user_no, &SimError::forbidden());
    }
    let mut fail_with = None;
    match &fault {
        Some(FaultKind::Latency { ms }) => tokio::time::sleep(Duration::from_millis(*ms)).await,
        Some(FaultKind::Hang) => {
            sim.until_shutdown().await;
            return HttpResponse::ServiceUnavailable().finish();
        }
        Some(FaultKind::HttpStatus { status }) => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
            return HttpResponse::build(status).content_type("text/plain").body("simulated upstream failure");
        }
        Some(FaultKind::Business { code, message }) => return refusal(sim, &user_no, &SimError::new(code, message)),
        Some(FaultKind::NonStandard) => return non_standard(),
        Some(FaultKind::FailAsync { code, message }) => {
            let e = SimError::new(code, message);
            if !sim.cfg.is_async(op) {
                return refusal(sim, &user_no, &e);
            }
            fail_with = Some(e);
        }
        _ => {}
    }
    let codec = sim.cfg.codec.clone();
    let hex = envelope.data_content;
    let Some(Ok(json)) = off_pool(hex.len() > 2 * OFFLOAD_BYTES, move || codec.open_bytes(&hex)).await else {
        return non_standard();
    };
    let outcome = handlers::dispatch(sim, op, &json, fail_with);
    sim.run_effects(outcome.effects);
    let StoredAnswer { is_async, result } = match outcome.reply {
        Ok(a) => a,
        Err(e) => return refusal(sim, &user_no, &e),
    };
    let result = omit_fields(&sim.cfg.sim.dialect.omit_fields, result);
    let sealed = match &fault {
        Some(FaultKind::StatusUnknown) => {
            let e = SimError::new(sim.cfg.status_unknown_code.clone(), "order status unknown, query later");
            return refusal(sim, &user_no, &e);
        }
        Some(FaultKind::CommitThenDelay { ms }) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            seal(&sim.cfg.codec, result).await
        }
        Some(FaultKind::GarbledResult) => seal(&sim.cfg.codec, result).await.map(|h| garble(&h)),
        Some(FaultKind::WrongKey) => match sim.cfg.wrong_codec() {
            Some(wrong) => seal(wrong, result).await,
            None => None,
        },
        _ => seal(&sim.cfg.codec, result).await,
    };
    match sealed {
        Some(hex) => success(&user_no, is_async, &hex),
        None => refusal(sim, &user_no, &SimError::new("130001", "operation failed, retry later")),
    }
}
