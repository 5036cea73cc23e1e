//! Traces that cross the platform call. With OTLP export on (the real binary, configured only by the
//! standard `OTEL_*` variables, exporting to a local OTLP/HTTP receiver) the caller's `traceparent`
//! parents the route span, the platform call gets its own span, and the simulator receives that
//! span's context. With export off, a caller's context passes through to the platform unchanged.

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use actix_web::{App, HttpResponse, HttpServer, web};
use card_gateway::{sensitive::Reveal as _, simulator::SimHandle};
use parking_lot::Mutex;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{rand_digits, spawn_app, start_simulator, test_settings};

/// A local OTLP/HTTP receiver (JSON encoding): keeps every export body.
struct OtlpReceiver {
    url: String,
    bodies: Arc<Mutex<Vec<String>>>,
    server: actix_web::dev::ServerHandle,
}

impl OtlpReceiver {
    async fn start() -> Self {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        let server = HttpServer::new(move || {
            let kept = kept.clone();
            App::new().route(
                "/v1/traces",
                web::post().to(move |body: web::Bytes| {
                    let kept = kept.clone();
                    async move {
                        kept.lock().push(String::from_utf8_lossy(&body).into_owned());
                        HttpResponse::Ok().content_type("application/json").body("{}")
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url: format!("http://{addr}"), bodies, server: handle }
    }

    /// Every exported span, flattened: name, kind, ids and attributes as a string map.
    fn spans(&self) -> Vec<Span> {
        let mut out = Vec::new();
        for body in self.bodies.lock().iter() {
            let Ok(v) = serde_json::from_str::<Value>(body) else { continue };
            for rs in v["resourceSpans"].as_array().into_iter().flatten() {
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    for s in ss["spans"].as_array().into_iter().flatten() {
                        out.push(Span::from_json(s));
                    }
                }
            }
        }
        out
    }

    fn raw(&self) -> String {
        self.bodies.lock().join("\n")
    }
}

#[derive(Debug, Clone)]
struct Span {
    name: String,
    kind: i64,
    trace_id: String,
    span_id: String,
    parent: String,
    attrs: Vec<(String, String)>,
}

impl Span {
    fn from_json(s: &Value) -> Self {
        let text = |k: &str| s[k].as_str().unwrap_or_default().to_ascii_lowercase();
        let attrs = s["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                let v = &a["value"];
                let value = v["stringValue"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| v["intValue"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| v.to_string());
                (a["key"].as_str().unwrap_or_default().to_owned(), value)
            })
            .collect();
        Self {
            name: s["name"].as_str().unwrap_or_default().to_owned(),
            kind: s["kind"].as_i64().unwrap_or(-1),
            trace_id: text("traceId"),
            span_id: text("spanId"),
            parent: text("parentSpanId"),
            attrs,
        }
    }

    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The gateway binary, serving on a free port against `sim`, its OTLP export aimed at `otlp`.
struct GatewayProcess {
    child: Child,
    base: String,
    token: String,
}

impl GatewayProcess {
    fn start(sim: &SimHandle, otlp: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_card-gateway"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARD_GATEWAY__UPSTREAM__MODE", "http")
            .env("CARD_GATEWAY__UPSTREAM__BASE_URL", sim.base_url())
            .env("CARD_GATEWAY__UPSTREAM__FACTS_FILE", "")
            .env("CARD_GATEWAY__UPSTREAM__HEALTH_PROBE_S", "0")
            .env("CARD_GATEWAY__SERVER__DRAIN_DELAY_MS", "0")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
            // Export every 100 ms instead of every 5 s, so the test waits less.
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env_remove("OTEL_SDK_DISABLED")
            .env_remove("OTEL_TRACES_EXPORTER")
            .env_remove("OTEL_SERVICE_NAME")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the gateway binary starts");
        // The banner names the address and prints a development token for tenant "demo".
        let stdout = child.stdout.take().expect("stdout piped");
        let mut lines = BufReader::new(stdout).lines();
        let (mut base, mut token) = (None, None);
        let mut after_demo = false;
        for line in lines.by_ref() {
            let line = line.unwrap_or_default();
            if let Some(rest) = line.trim().strip_prefix("card-gateway listening on ") {
                base = Some(rest.trim().to_owned());
            } else if line.contains("Development token for tenant \"demo\"") {
                after_demo = true;
            } else if after_demo && !line.trim().is_empty() {
                token = Some(line.trim().to_owned());
                break;
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, base: base.expect("the banner names the address"), token: token.expect("a development token") }
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn random_hex(bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rand::random::<u8>())).collect()
}

/// Polls until `check` finds what it looks for in the exported spans (export is batched).
async fn exported<T>(otlp: &OtlpReceiver, check: impl Fn(&[Span]) -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(found) = check(&otlp.spans()) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("spans never exported as expected; got: {:#?}", otlp.spans());
}

/// The route span of `trace_id`, and the upstream spans below it.
fn route_and_upstream(spans: &[Span], trace_id: &str, route: &str) -> Option<(Span, Vec<Span>)> {
    let in_trace: Vec<&Span> = spans.iter().filter(|s| s.trace_id == trace_id).collect();
    let route_span = in_trace.iter().find(|s| s.name == route)?;
    // An upstream span counts when its chain of parents reaches the route span.
    let below = |s: &Span| {
        let mut parent = s.parent.clone();
        for _ in 0..16 {
            if parent == route_span.span_id {
                return true;
            }
            match in_trace.iter().find(|x| x.span_id == parent) {
                Some(p) => parent = p.parent.clone(),
                None => return false,
            }
        }
        false
    };
    let upstream: Vec<Span> =
        in_trace.iter().filter(|s| s.name.starts_with("upstream ") && below(s)).map(|s| (*s).clone()).collect();
    (!upstream.is_empty()).then(|| ((*route_span).clone(), upstream))
}

#[tokio::test(flavor = "multi_thread")]
async fn otlp_export_carries_the_callers_trace_through_the_route_and_upstream_spans_to_the_platform() {
    let sim = start_simulator(&test_settings()).await;
    let otlp = OtlpReceiver::start().await;
    let gw = tokio::task::spawn_blocking({
        let (sim, url) = (sim.clone(), otlp.url.clone());
        move || GatewayProcess::start(&sim, &url)
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();

    // A write (through the idempotency layer's own task) and a read, each in its caller's trace.
    let (write_trace, write_parent) = (random_hex(16), random_hex(8));
    let created = client
        .post(format!("{}/v1/cards", gw.base))
        .bearer_auth(&gw.token)
        .header("Idempotency-Key", format!("trace-{}", rand_digits(8)))
        .header("traceparent", format!("00-{write_trace}-{write_parent}-01"))
        .header("tracestate", "vendor=abc")
        .header("content-type", "application/json")
        .body(json!({"bin": "222929", "currency": "USD", "limit": "10.00"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let write_request_id = created.headers()["x-request-id"].to_str().unwrap().to_owned();
    let card: Value = serde_json::from_str(&created.text().await.unwrap()).unwrap();
    let id = card["id"].as_str().unwrap();

    let (read_trace, read_parent) = (random_hex(16), random_hex(8));
    let read = client
        .get(format!("{}/v1/cards/{id}", gw.base))
        .bearer_auth(&gw.token)
        .header("traceparent", format!("00-{read_trace}-{read_parent}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);

    for (trace, parent, route, op) in [
        (&write_trace, &write_parent, "POST /v1/cards", "card_apply"),
        (&read_trace, &read_parent, "GET /v1/cards/{id}", "card_info"),
    ] {
        let (route_span, upstream) = exported(&otlp, |spans| route_and_upstream(spans, trace, route)).await;
        assert_eq!(&route_span.parent, parent, "the caller's span parents the route span");
        assert_eq!(route_span.kind, 2, "the route span is a server span");
        assert_eq!(route_span.attr("http.route"), Some(route.split_once(' ').unwrap().1));
        let call = upstream
            .iter()
            .find(|s| s.attr("upstream.op") == Some(op))
            .unwrap_or_else(|| panic!("{route}: an upstream span for {op}: {upstream:#?}"));
        assert_eq!(call.kind, 3, "the platform call is a client span");
        assert!(call.attr("duration_ms").is_some(), "latency on the span: {call:?}");
        // What reached the platform is the upstream span's own context, in the caller's trace.
        let seen = sim.seen_requests();
        let expected = format!("00-{trace}-{}-01", call.span_id);
        assert!(
            seen.iter().any(|r| r.op == op && r.traceparent.as_deref() == Some(expected.as_str())),
            "{op}: the simulator saw traceparent {expected}; it saw {seen:#?}"
        );
    }
    let seen = sim.seen_requests();
    let apply = seen.iter().find(|r| r.op == "card_apply").unwrap();
    assert_eq!(apply.request_id.as_deref(), Some(write_request_id.as_str()), "the request id reaches the platform");
    assert_eq!(apply.tracestate.as_deref(), Some("vendor=abc"), "the caller's tracestate travels on");
    assert!(apply.user_agent.as_deref().unwrap_or_default().starts_with("card-gateway/"));

    // Spans name operations, never payloads or credentials.
    let raw = otlp.raw();
    assert!(!raw.contains(&gw.token), "no bearer token in the export");
    for card in sim.state().cards {
        assert!(!raw.contains(card.pan.expose()), "no card number in the export");
        assert!(!raw.contains(&format!("\"{}\"", card.cvv.expose())), "no CVV in the export");
    }
    otlp.server.stop(false).await;
    drop(gw);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_export_a_callers_trace_context_passes_through_to_the_platform_and_junk_does_not() {
    let app = spawn_app().await;
    let t = app.admin("acme");
    let id = app.create_card(&t, "10.00").await;
    let good = format!("00-{}-{}-01", random_hex(16), random_hex(8));
    let r = app
        .client
        .get(format!("{}/v1/cards/{id}", app.base))
        .bearer_auth(&t)
        .header("traceparent", &good)
        .header("x-request-id", "trace-check-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let seen = app.sim.seen_requests();
    let read = seen.iter().rev().find(|s| s.op == "card_info").expect("a card_info call");
    assert_eq!(read.traceparent.as_deref(), Some(good.as_str()));
    assert_eq!(read.request_id.as_deref(), Some("trace-check-1"));

    for junk in ["00-zz-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"] {
        let before = app.sim.seen_requests().len();
        let r = app
            .client
            .get(format!("{}/v1/cards/{id}", app.base))
            .bearer_auth(&t)
            .header("traceparent", junk)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let seen = app.sim.seen_requests();
        assert!(seen.len() > before || seen.len() == 256);
        let last = seen.iter().rev().find(|s| s.op == "card_info").unwrap();
        assert_eq!(last.traceparent, None, "a malformed traceparent ({junk}) is not forwarded");
    }
}
