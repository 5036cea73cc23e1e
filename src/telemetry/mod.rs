//! Tracing set-up: one subscriber per process, pretty or JSON, filtered by `RUST_LOG` or `[log] filter`,
//! and OpenTelemetry traces over OTLP when the standard `OTEL_EXPORTER_OTLP_*` variables ask for them.
//! Nothing here ever sees a PAN or CVV: wire payloads are never logged nor put on spans (see
//! `upstream::client`).

pub mod otlp;
pub mod propagation;
pub mod request_id;

use tracing_subscriber::{EnvFilter, Layer, fmt::MakeWriter, layer::SubscriberExt as _, util::SubscriberInitExt as _};

use crate::config::{LogFormat, LogSettings};

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Installs the global subscriber writing to stdout, with the OTLP trace export when the environment
/// configures one. Keep the guard until exit: dropping it flushes the spans not yet exported.
pub fn init(settings: &LogSettings) -> otlp::Guard {
    let (guard, layer) = match otlp::from_env() {
        Ok(Some(provider)) => {
            let layer = otlp::layer(&provider);
            (otlp::Guard::new(Some(provider)), Some(layer))
        }
        Ok(None) => (otlp::Guard::new(None), None),
        Err(e) => {
            // Traces are an aid, not a dependency: say why they are off and serve anyway.
            eprintln!("OpenTelemetry export disabled: {e}");
            (otlp::Guard::new(None), None)
        }
    };
    install(&settings.filter, settings.format, std::io::stdout, layer);
    guard
}

/// Installs the global subscriber with a custom writer (tests capture the whole run's logs this way).
pub fn init_with_writer<W>(default_filter: &str, format: LogFormat, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    install(default_filter, format, writer, None);
}

type BoxedLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

fn install<W>(default_filter: &str, format: LogFormat, writer: W, otel: Option<BoxedLayer>)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    // The OpenTelemetry layer sits below the filter so the filter governs what is logged, not which
    // spans are traced (`RUST_LOG=warn` must not cut traces).
    let fmt: BoxedLayer = match format {
        // The span list puts the request id on every line, including those of child spans
        // (`upstream.call`), which `with_current_span` alone would not.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(writer)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_target(false).with_writer(writer).boxed(),
    };
    let mut layers = vec![fmt.with_filter(filter(default_filter)).boxed()];
    layers.extend(otel);
    let _ = tracing_subscriber::registry().with(layers).try_init();
}
