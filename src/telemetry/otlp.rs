//! OTLP trace export, off unless the standard variables ask for it: `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set (and `OTEL_SDK_DISABLED` not `true`, `OTEL_TRACES_EXPORTER`
//! not `none`). Protocol, headers, timeout, sampler and resource come from the same standard variables
//! (`OTEL_EXPORTER_OTLP_PROTOCOL` = `http/protobuf` (default) or `http/json`, `OTEL_SERVICE_NAME`, …).

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{Layer, filter::Targets};

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (then trace context comes from the spans; otherwise a caller's
/// `traceparent` is passed through unchanged, see `propagation`).
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

fn env_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

/// What the environment asks for, read once at start.
pub fn wanted() -> bool {
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.trim().eq_ignore_ascii_case("none"));
    !disabled && (env_set("OTEL_EXPORTER_OTLP_ENDPOINT") || env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

/// The tracer provider when export is wanted; also installs the W3C trace-context propagator.
pub fn from_env() -> Result<Option<SdkTracerProvider>, opentelemetry_otlp::ExporterBuildError> {
    if !wanted() {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
    let mut resource = Resource::builder();
    if !env_set("OTEL_SERVICE_NAME") {
        resource = resource.with_service_name("card-gateway");
    }
    let resource =
        resource.with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION"))).build();
    let provider = SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    ACTIVE.store(true, Ordering::Relaxed);
    Ok(Some(provider))
}

/// The layer that turns this crate's spans into OpenTelemetry spans. Dependencies' spans (hyper, h2,
/// actix) are left out: they would multiply the export without telling an operator anything.
pub fn layer(provider: &SdkTracerProvider) -> Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync> {
    let tracer = provider.tracer("card-gateway");
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(Targets::new().with_target("card_gateway", tracing::Level::INFO))
        .boxed()
}

/// Flushes and stops the export when dropped (at exit).
pub struct Guard(Option<SdkTracerProvider>);

impl Guard {
    pub fn new(provider: Option<SdkTracerProvider>) -> Self {
        Self(provider)
    }

    /// Exports what is left. Blocks briefly: call it off the async workers (or at the very end).
    pub fn shutdown(&mut self) {
        if let Some(p) = self.0.take() {
            if let Err(e) = p.shutdown() {
                eprintln!("OpenTelemetry export did not flush: {e}");
            }
            ACTIVE.store(false, Ordering::Relaxed);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shutdown();
    }
}
