//! The command line (GATEWAY.md §11): `serve` (default), `token`, `openapi`.

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
}
