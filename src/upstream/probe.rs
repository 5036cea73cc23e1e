//! One diagnostic exchange for `upstream-check`: the same sealing, HTTP client, path and codec as
//! [`MerchantClient::call`], but never retried and keeping every step's outcome (HTTP status, whether
//! the envelope parsed and opened, the JSON type of `errorCode`, the opened result as JSON) instead of
//! folding them into one error. Nothing here logs a payload.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::{
    client::{MerchantClient, sanitize_message},
    facts::CodeType,
    ops::Operation,
    wire::common::ResponseEnvelope,
};

/// How far one exchange got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeState {
    /// No HTTP answer (connect, timeout, transport).
    Unreachable,
    /// An HTTP status other than 2xx.
    HttpError,
    /// A 2xx body that is not JSON.
    NotJson,
    /// JSON without `success` — the vendor gateway's `{"async":false,"statusCode":500}` for an unknown path.
    NonStandard,
    /// `success: false`.
    Refused,
    /// `success: true` and the result (if any) opened with the platform key.
    Opened,
    /// `success: true` but the result did not open (keys) or was not JSON.
    NotOpened,
}

/// Everything one exchange showed.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub op: Operation,
    pub path: String,
    pub latency: Duration,
    pub http_status: Option<u16>,
    pub state: EnvelopeState,
    pub is_async: Option<bool>,
    pub code: Option<String>,
    pub code_type: CodeType,
    /// Sanitised (card numbers masked, control characters removed, ≤ 256 characters).
    pub message: Option<String>,
    /// The opened result's JSON bytes (kept for typed decoding; never printed).
    pub result: Option<Vec<u8>>,
    /// What went wrong, in words, when the state is not `Opened`/`Refused`.
    pub problem: Option<String>,
}

impl Exchange {
    /// The opened result as generic JSON.
    pub fn json(&self) -> Option<Value> {
        self.result.as_deref().and_then(|b| serde_json::from_slice(b).ok())
    }

    /// The opened result as a wire type; the error names a JSON path, never a value.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T, String>> {
        self.result.as_deref().map(super::client::decode)
    }
}

impl MerchantClient {
    /// Sends `req` to `op` once and reports every step (see [`Exchange`]).
    pub async fn probe<Req: Serialize + ?Sized>(&self, op: Operation, req: &Req) -> Exchange {
        let started = Instant::now();
        let mut ex = Exchange {
            op,
            path: self.settings().path(op).to_owned(),
            latency: Duration::ZERO,
            http_status: None,
            state: EnvelopeState::Unreachable,
            is_async: None,
            code: None,
            code_type: CodeType::Unknown,
            message: None,
            result: None,
            problem: None,
        };
        let sent = match serde_json::to_vec(req) {
            Ok(json) => match self.seal(op, json).await {
                Ok(envelope) => self.post(op, &envelope).await,
                Err(e) => Err(e),
            },
            Err(e) => {
                ex.problem = Some(format!("cannot serialise the request: {e}"));
                return ex;
            }
        };
        ex.latency = started.elapsed();
        let (status, body) = match sent {
            Ok(x) => x,
            Err(e) => {
                ex.problem = Some(e.kind.to_string());
                return ex;
            }
        };
        ex.http_status = Some(status.as_u16());
        if !status.is_success() {
            ex.state = EnvelopeState::HttpError;
            ex.problem = Some(format!("HTTP status {}", status.as_u16()));
            return ex;
        }
        let Ok(raw) = serde_json::from_slice::<Value>(&body) else {
            ex.state = EnvelopeState::NotJson;
            ex.problem = Some("the body is not JSON".into());
            return ex;
        };
        ex.code_type = match raw.get("errorCode") {
            Some(Value::Number(_)) => CodeType::Number,
            Some(Value::String(_)) => CodeType::String,
            _ => CodeType::Unknown,
        };
        let Ok(env) = serde_json::from_value::<ResponseEnvelope>(raw) else {
            ex.state = EnvelopeState::NotJson;
            ex.problem = Some("the body is JSON but not a response envelope".into());
            return ex;
        };
        ex.is_async = env.is_async;
        ex.code = env.error_code.clone();
        ex.message = env.error_msg.as_deref().map(sanitize_message);
        match env.success {
            None => {
                ex.state = EnvelopeState::NonStandard;
                ex.problem = Some(format!("non-standard body without `success` (statusCode {:?})", env.status_code));
            }
            Some(false) => ex.state = EnvelopeState::Refused,
            Some(true) => match env.result.filter(|r| !r.trim().is_empty()) {
                None => ex.state = EnvelopeState::Opened,
                Some(hex) => {
                    let codec = self.codec.clone();
                    let opened = tokio::task::spawn_blocking(move || codec.open_bytes(&hex)).await;
                    match opened {
                        Ok(Ok(json)) if serde_json::from_slice::<serde::de::IgnoredAny>(&json).is_ok() => {
                            ex.state = EnvelopeState::Opened;
                            ex.result = Some(json);
                        }
                        Ok(Ok(_)) => {
                            ex.state = EnvelopeState::NotOpened;
                            ex.problem = Some("the opened result is not JSON".into());
                        }
                        Ok(Err(e)) => {
                            ex.state = EnvelopeState::NotOpened;
                            ex.problem = Some(format!("the result does not open: {e}"));
                        }
                        Err(_) => {
                            ex.state = EnvelopeState::NotOpened;
                            ex.problem = Some("the opening worker failed".into());
                        }
                    }
                }
            },
        }
        ex
    }
}
