//! Tracing set-up: one subscriber per process, pretty or JSON, filtered by `RUST_LOG` or `[log] filter`.
//! Nothing here ever sees a PAN or CVV: wire payloads are never logged (see `upstream::client`).

use tracing_subscriber::{EnvFilter, fmt::MakeWriter, layer::SubscriberExt as _, util::SubscriberInitExt as _};

use crate::config::{LogFormat, LogSettings};

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Installs the global subscriber writing to stdout. A second call is a no-op.
pub fn init(settings: &LogSettings) {
    init_with_writer(&settings.filter, settings.format, std::io::stdout);
}

/// Installs the global subscriber with a custom writer (tests capture the whole run's logs this way).
pub fn init_with_writer<W>(default_filter: &str, format: LogFormat, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(filter(default_filter));
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
        LogFormat::Pretty => {
            registry.with(tracing_subscriber::fmt::layer().with_target(false).with_writer(writer)).try_init()
        }
    };
    let _ = result;
}
