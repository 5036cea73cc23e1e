//! W3C trace context (`traceparent`, `tracestate`) in from callers and out on every platform call.
//!
//! With OTLP export on, the request span takes the caller's context as its parent and each platform
//! call carries its own `upstream.call` span's context. With export off the gateway is a transparent
//! hop: a well-formed caller context is passed to the platform unchanged, so a caller's trace still
//! reaches whatever the platform records.

use std::future::Future;

use actix_web::http::header::HeaderMap as ActixHeaders;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";
/// The W3C limit for `tracestate` (32 members); longer values are dropped, not cut.
const TRACESTATE_MAX: usize = 512;

/// A caller's trace context, checked against the W3C grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeaders {
    traceparent: String,
    tracestate: Option<String>,
}

tokio::task_local! {
    static INCOMING: Option<TraceHeaders>;
}

/// `version "-" trace-id "-" parent-id "-" flags`, lowercase hex, with neither id all zeros and
/// version `ff` forbidden. Later versions may append fields after a `-`; we accept and forward
/// only version `00`'s exact shape, which every current tracer sends.
pub fn well_formed_traceparent(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    matches!(parts.as_slice(), [ver, trace, parent, flags]
        if *ver == "00" && hex(trace, 32) && hex(parent, 16) && hex(flags, 2)
            && trace.bytes().any(|b| b != b'0') && parent.bytes().any(|b| b != b'0'))
}

fn well_formed_tracestate(v: &str) -> bool {
    v.len() <= TRACESTATE_MAX && v.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The caller's context from request headers, when well-formed (anything else starts a new trace).
pub fn incoming(headers: &ActixHeaders) -> Option<TraceHeaders> {
    let traceparent = headers.get(TRACEPARENT)?.to_str().ok()?.trim();
    if !well_formed_traceparent(traceparent) {
        return None;
    }
    let tracestate = headers
        .get(TRACESTATE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && well_formed_tracestate(v))
        .map(str::to_owned);
    Some(TraceHeaders { traceparent: traceparent.to_owned(), tracestate })
}

/// Makes the caller's context the parent of `span` (export on) — see [`super::otlp::active`].
pub fn adopt(span: &tracing::Span, caller: Option<&TraceHeaders>) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let Some(caller) = caller else { return };
    if !super::otlp::active() {
        return;
    }
    let carrier = Carrier(caller);
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    let _ = span.set_parent(cx);
}

/// Runs `fut` with the caller's context available to [`outgoing`].
pub fn scope<F: Future>(caller: Option<TraceHeaders>, fut: F) -> impl Future<Output = F::Output> {
    INCOMING.scope(caller, fut)
}

/// The caller's context of the current request (for a task spawned from it).
pub fn current() -> Option<TraceHeaders> {
    INCOMING.try_with(Clone::clone).ok().flatten()
}

/// The trace headers of a platform call made now: the current span's context when spans are
/// exported, else the caller's context unchanged, else none.
pub fn outgoing(headers: &mut HeaderMap) {
    if super::otlp::active() {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let cx = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&cx, &mut opentelemetry_http::HeaderInjector(headers));
        });
        return;
    }
    if let Some(caller) = current() {
        let mut put = |name: &'static str, v: &str| {
            if let Ok(v) = HeaderValue::from_str(v) {
                headers.insert(HeaderName::from_static(name), v);
            }
        };
        put(TRACEPARENT, &caller.traceparent);
        if let Some(state) = &caller.tracestate {
            put(TRACESTATE, state);
        }
    }
}

/// The checked caller context as an OpenTelemetry carrier.
struct Carrier<'a>(&'a TraceHeaders);

impl opentelemetry::propagation::Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => Some(&self.0.traceparent),
            TRACESTATE => self.0.tracestate.as_deref(),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_w3c_version_00_traceparents_with_nonzero_ids_are_accepted() {
        assert!(well_formed_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert!(!well_formed_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
        assert!(!well_formed_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
        assert!(!well_formed_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
        assert!(!well_formed_traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert!(!well_formed_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
        assert!(!well_formed_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));
        assert!(!well_formed_traceparent(&"0".repeat(4000)));
    }

    #[test]
    fn an_oversized_or_unprintable_tracestate_is_dropped() {
        assert!(well_formed_tracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"));
        assert!(!well_formed_tracestate(&"a=b,".repeat(200)));
        assert!(!well_formed_tracestate("a=b\u{1}"));
    }
}
