//! The typed Merchant API client: one async method per operation over the RSA envelope.
//!
//! Per call: seal → POST → classify the answer → open → decode, inside one `upstream.call` span that
//! records the operation, latency, attempts and upstream code (never a payload). Reads are retried with
//! exponential backoff when the failure is retry-safe; writes are never retried here (the idempotency
//! layer decides, after asking the upstream what happened).

use std::{sync::Arc, time::Duration};

use serde::{Serialize, de::DeserializeOwned};
use tracing::{Instrument, field::Empty};

use super::{
    error::{UpstreamError, UpstreamErrorKind as K},
    ops::Operation,
    wire::common::{RequestEnvelope, ResponseEnvelope},
};
use crate::{capped_body::CappedError, config::upstream::UpstreamSettings, envelope::EnvelopeCodec};

/// A successful answer: whether the upstream will finish asynchronously, and the opened result
/// (absent when the upstream sent none).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply<T> {
    pub is_async: bool,
    pub result: Option<T>,
}

impl<T> Reply<T> {
    /// The result, or a `Decode` error naming the operation when the upstream sent none.
    pub fn require(self, op: Operation) -> Result<T, UpstreamError> {
        self.result.ok_or_else(|| UpstreamError::new(op, K::Decode("result missing".into())))
    }
}

#[derive(Clone)]
pub struct MerchantClient {
    http: reqwest::Client,
    pub(super) codec: EnvelopeCodec,
    settings: Arc<UpstreamSettings>,
    base_url: String,
    /// The runtime the client was built on (the process's main one). Every HTTP exchange runs there:
    /// hyper drives a pooled connection on the runtime that opened it, and an actix worker's runtime
    /// ends at shutdown — which would cut the in-flight calls of every other worker sharing the pool.
    rt: Option<tokio::runtime::Handle>,
}

impl std::fmt::Debug for MerchantClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerchantClient").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

impl MerchantClient {
    /// `base_url` is passed separately because the embedded simulator's port is only known at runtime.
    pub fn new(settings: &UpstreamSettings, base_url: &str, codec: EnvelopeCodec) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .pool_idle_timeout(Duration::from_secs(settings.pool_idle_timeout_s))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            http,
            codec,
            settings: Arc::new(settings.clone()),
            base_url: base_url.trim_end_matches('/').to_owned(),
            rt: tokio::runtime::Handle::try_current().ok(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn settings(&self) -> &UpstreamSettings {
        &self.settings
    }

    /// One operation: seal, send, open, decode. Reads retry on retry-safe failures.
    pub async fn call<Req, Resp>(&self, op: Operation, req: &Req) -> Result<Reply<Resp>, UpstreamError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned + Send + 'static,
    {
        let span = tracing::info_span!(
            "upstream.call",
            otel.name = %format_args!("upstream {}", op.name()),
            otel.kind = "client",
            otel.status_code = Empty,
            upstream.op = op.name(),
            upstream.attempts = Empty,
            upstream.code = Empty,
            upstream.outcome = Empty,
            duration_ms = Empty,
        );
        async move {
            let started = std::time::Instant::now();
            let json = serde_json::to_vec(req)
                .map_err(|e| UpstreamError::new(op, K::Seal(crate::envelope::EnvelopeError::Json(e.to_string()))))?;
            let envelope = self.seal(op, json).await?;
            let max_attempts = if op.is_read() { 1 + self.settings.read_retries } else { 1 };
            let mut attempt = 0;
            let outcome = loop {
                attempt += 1;
                let result = self.attempt::<Resp>(op, &envelope).await;
                match result {
                    Err(e) if attempt < max_attempts && e.retry_safe() => {
                        let backoff = self.settings.retry_backoff_ms.saturating_mul(1 << (attempt - 1).min(10));
                        tracing::debug!(upstream.op = op.name(), attempt, error = %e.kind, "retrying read");
                        tokio::time::sleep(Duration::from_millis(backoff)).await;
                    }
                    other => break other,
                }
            };
            let span = tracing::Span::current();
            let elapsed = started.elapsed().as_millis() as u64;
            span.record("upstream.attempts", attempt);
            span.record("duration_ms", elapsed);
            crate::metrics::upstream_call(
                op.name(),
                match &outcome {
                    Ok(_) => "ok",
                    Err(e) => match e.source_kind() {
                        super::ErrorSource::Transport => "transport",
                        super::ErrorSource::Timeout => "timeout",
                        super::ErrorSource::Envelope => "bad_answer",
                        super::ErrorSource::Business => "refused",
                        super::ErrorSource::Internal => "internal",
                    },
                },
                started.elapsed(),
            );
            match &outcome {
                Ok(reply) => {
                    span.record("upstream.outcome", if reply.is_async { "accepted" } else { "ok" });
                    tracing::info!(
                        upstream.op = op.name(),
                        duration_ms = elapsed,
                        attempts = attempt,
                        "upstream call ok"
                    );
                }
                Err(e) => {
                    span.record("upstream.outcome", tracing::field::debug(e.source_kind()));
                    span.record("otel.status_code", "ERROR");
                    if let Some(code) = e.upstream_code() {
                        span.record("upstream.code", code);
                    }
                    tracing::warn!(
                        upstream.op = op.name(),
                        upstream.code = e.upstream_code().unwrap_or(""),
                        duration_ms = elapsed,
                        attempts = attempt,
                        error = %e.kind,
                        "upstream call failed"
                    );
                }
            }
            outcome
        }
        .instrument(span)
        .await
    }

    pub(super) async fn seal(&self, op: Operation, json: Vec<u8>) -> Result<RequestEnvelope, UpstreamError> {
        let data_content = if json.len() > self.settings.crypto_offload_bytes {
            let codec = self.codec.clone();
            tokio::task::spawn_blocking(move || codec.seal_bytes(&json))
                .await
                .map_err(|_| UpstreamError::new(op, K::Seal(crate::envelope::EnvelopeError::Seal { index: 0 })))?
        } else {
            self.codec.seal_bytes(&json)
        }
        .map_err(|e| UpstreamError::new(op, K::Seal(e)))?;
        Ok(RequestEnvelope {
            version: self.settings.api_version.clone(),
            user_no: self.settings.merchant_no.clone(),
            data_type: self.settings.data_type.clone(),
            data_content,
        })
    }

    async fn attempt<Resp>(&self, op: Operation, envelope: &RequestEnvelope) -> Result<Reply<Resp>, UpstreamError>
    where
        Resp: DeserializeOwned + Send + 'static,
    {
        let err = |kind| UpstreamError::new(op, kind);
        let (status, body) = self.post(op, envelope).await?;
        if !status.is_success() {
            return Err(err(K::HttpStatus(status.as_u16())));
        }
        let env: ResponseEnvelope = serde_json::from_slice(&body).map_err(|_| err(K::BadResponse))?;
        let Some(success) = env.success else {
            return Err(err(K::NonStandard { status_code: env.status_code }));
        };
        if !success {
            let code = env.error_code.unwrap_or_default();
            let message = sanitize_message(env.error_msg.as_deref().unwrap_or(""));
            return Err(if self.settings.status_unknown_codes.contains(&code) {
                err(K::StatusUnknown { code, message })
            } else if self.settings.retry_later_codes.contains(&code) {
                err(K::RetryLater { code, message })
            } else {
                err(K::Business { code, message })
            });
        }
        let is_async = env.is_async.unwrap_or(false);
        let result = match env.result.filter(|r| !r.trim().is_empty()) {
            None => None,
            Some(hex) => Some(self.open::<Resp>(op, hex).await?),
        };
        Ok(Reply { is_async, result })
    }

    /// POSTs a sealed envelope to the operation's configured path: the HTTP status and the body.
    pub(super) async fn post(
        &self,
        op: Operation,
        envelope: &RequestEnvelope,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), UpstreamError> {
        let err = |kind| UpstreamError::new(op, kind);
        let url = format!("{}{}", self.base_url, self.settings.path(op));
        let body = serde_json::to_vec(envelope)
            .map_err(|e| err(K::Seal(crate::envelope::EnvelopeError::Json(e.to_string()))))?;
        let (http, language, max) =
            (self.http.clone(), self.settings.accept_language.clone(), self.settings.max_response_bytes);
        // Read here, in the request's task: the exchange below runs on another runtime.
        let headers = context_headers();
        let exchange = async move {
            let response = http
                .post(url)
                .headers(headers)
                .header(reqwest::header::ACCEPT_LANGUAGE, language)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| classify_send_error(&e))?;
            let status = response.status();
            let body = crate::capped_body::read_capped(response, max).await.map_err(|e| match e {
                // Too large is a broken answer, like an unreadable result: a write may have committed.
                CappedError::TooLarge => K::Decode(format!("answer larger than upstream.max_response_bytes ({max})")),
                CappedError::Transport { timeout: true } => K::Timeout { sent: true },
                CappedError::Transport { timeout: false } => K::Transport { sent: true },
            })?;
            Ok::<_, K>((status, body))
        };
        let (status, body) = match &self.rt {
            // A failed join means the main runtime is going away: the request may have been sent.
            Some(rt) => rt.spawn(exchange).await.map_err(|_| err(K::Transport { sent: true }))?,
            None => exchange.await,
        }
        .map_err(err)?;
        Ok((status, body))
    }

    async fn open<Resp>(&self, op: Operation, hex: String) -> Result<Resp, UpstreamError>
    where
        Resp: DeserializeOwned + Send + 'static,
    {
        let codec = self.codec.clone();
        let work = move || -> Result<Resp, K> {
            let json = codec.open_bytes(&hex).map_err(K::Envelope)?;
            decode(&json).map_err(K::Decode)
        };
        let out = if hex_len_bytes(&self.settings, op) {
            tokio::task::spawn_blocking(work)
                .await
                .map_err(|_| UpstreamError::new(op, K::Decode("worker failed".into())))?
        } else {
            work()
        };
        out.map_err(|k| UpstreamError::new(op, k))
    }
}

const USER_AGENT: &str = concat!("card-gateway/", env!("CARGO_PKG_VERSION"));

/// What every platform call says about where it comes from: our User-Agent, the request id (so the
/// platform's support can find a call by the id a client reports) and the W3C trace context.
fn context_headers() -> reqwest::header::HeaderMap {
    use reqwest::header::{HeaderMap, HeaderValue};
    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(reqwest::header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    let id = crate::telemetry::request_id::current();
    if let Some(v) = (id != "-").then(|| HeaderValue::from_str(&id).ok()).flatten() {
        headers.insert(reqwest::header::HeaderName::from_static(crate::telemetry::request_id::HEADER), v);
    }
    crate::telemetry::propagation::outgoing(&mut headers);
    headers
}

/// Paged and list answers can be large; open those on the blocking pool.
fn hex_len_bytes(settings: &UpstreamSettings, op: Operation) -> bool {
    settings.crypto_offload_bytes == 0
        || matches!(
            op,
            Operation::CardPage | Operation::TransactionQuery | Operation::OrderQuery | Operation::GroupPage
        )
}

/// Decodes a result without ever quoting the payload: serde's messages can contain field values
/// (a PAN, a CVV), so only the JSON path and the error category survive.
pub fn decode<T: DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let category = match e.inner().classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "malformed JSON",
            serde_json::error::Category::Data => "unexpected type or value",
            serde_json::error::Category::Io => "read error",
        };
        format!("{category} at `{path}`")
    })
}

fn classify_send_error(e: &reqwest::Error) -> K {
    if e.is_connect() {
        K::Connect
    } else if e.is_timeout() {
        K::Timeout { sent: true }
    } else if e.is_builder() {
        K::Connect
    } else {
        K::Transport { sent: true }
    }
}

/// Upstream messages are shown to clients as `upstream_message`: keep them short and printable.
pub fn sanitize_message(msg: &str) -> String {
    let cleaned: String = msg.chars().map(|c| if c.is_control() { ' ' } else { c }).take(256).collect();
    crate::sensitive::mask_card_numbers(cleaned.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_errors_never_quote_values() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            n: u32,
        }
        let err = decode::<T>(br#"{"n":"4111111111111111"}"#).unwrap_err();
        assert!(!err.contains("4111"), "{err}");
        assert!(err.contains("`n`"), "{err}");
    }

    #[test]
    fn upstream_messages_are_sanitised() {
        assert_eq!(sanitize_message("card 4111111111111111 bad\n"), "card 411111******1111 bad");
        assert_eq!(sanitize_message("code 110005"), "code 110005");
        assert_eq!(sanitize_message(&"x".repeat(400)).len(), 256);
    }
}
