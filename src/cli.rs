//! The command line (docs/product.md §14): `serve` (default), `token`, `openapi`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "card-gateway", version, about = "Tenant-scoped card-management REST gateway")]
pub struct Cli {
    /// Configuration file layered over the committed defaults (also CARD_GATEWAY_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve {
        /// Listen address, e.g. 0.0.0.0:8080 (overrides server.listen).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Print a development JWT on stdout (refused in production).
    Token {
        #[arg(long)]
        tenant: String,
        /// Space-separated scopes; default: every scope.
        #[arg(long)]
        scope: Option<String>,
        /// Lifetime, e.g. 12h, 30m.
        #[arg(long, default_value = "12h")]
        ttl: String,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Probe a running gateway (for Docker's HEALTHCHECK): exit 0 when `/livez` (or with `--ready`,
    /// `/readyz`) answers 200 within 2 s, 1 otherwise. Default address: server.listen on loopback.
    Healthcheck {
        /// Base URL, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: Option<String>,
        /// Check readiness instead of liveness.
        #[arg(long)]
        ready: bool,
    },
    /// Rebuild tenant ownership from the platform's order history (request numbers carry the tenant)
    /// into the configured Redis store; prints a JSON report. Needs `upstream.mode = "http"`.
    RebuildOwnership {
        /// Only report what would be recorded.
        #[arg(long)]
        dry_run: bool,
    },
    /// Check the configured platform against this configuration: every read operation (and, with
    /// --allow-writes, a guarded money sequence), the shape of every answer, and the verdicts the
    /// gateway depends on, written to `upstream.facts_file`. Exits 1 when a check failed.
    UpstreamCheck(UpstreamCheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct UpstreamCheckArgs {
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Run the write sequence (card apply, recharge twice, refund, cancel) on a real platform.
    #[arg(long)]
    pub allow_writes: bool,
    /// Confirm --allow-writes without the interactive question.
    #[arg(long)]
    pub yes: bool,
    /// No writes, even against the embedded simulator.
    #[arg(long)]
    pub read_only: bool,
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// Amount of the card limit, the recharge and the refund (at most 10.00).
    #[arg(long, default_value = "1.00")]
    pub amount: String,
    /// How long to wait for a new order to show in order inquiry, e.g. 30s, 5m.
    #[arg(long, default_value = "30s")]
    pub order_wait: String,
    /// Target currency of the exchange-rate probe.
    #[arg(long, default_value = "EUR")]
    pub rate_target: String,
    /// With --allow-writes, also open a card group and run group recharge, refund, freeze, unfreeze
    /// and close (always done against the embedded simulator).
    #[arg(long)]
    pub groups: bool,
    /// Where to write the verdicts (default: upstream.facts_file when talking to a real platform;
    /// nothing is written for the embedded simulator unless this is given).
    #[arg(long)]
    pub write_facts: Option<String>,
    /// Write no facts file.
    #[arg(long)]
    pub no_facts: bool,
    /// Webhook capture mode: listen on ADDR (e.g. 0.0.0.0:8089) instead of calling the platform.
    #[arg(long, value_name = "ADDR")]
    pub listen_webhooks: Option<String>,
    /// How long capture mode listens, e.g. 10m.
    #[arg(long = "for", default_value = "10m")]
    pub listen_for: String,
    /// Directory for redacted webhook samples.
    #[arg(long, default_value = "upstream-webhook-samples")]
    pub samples: PathBuf,
}
