//! `merchant-sim`: the merchant simulator as a standalone server (docs/product.md §14).
//!
//! Defaults come from `Settings::load` (committed defaults → `--config FILE` → environment); flags
//! override them. Without key flags it uses the development key pair under `config/dev-keys/`.

use std::path::PathBuf;

use anyhow::Context as _;
use card_gateway::{
    config::{LogFormat, Settings},
    sensitive::SecretString,
    simulator::{SimulatorConfig, spawn},
};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "merchant-sim", about = "Stateful stand-in for the upstream Merchant API", version)]
struct Args {
    /// Listen address (default: `[simulator] listen`).
    #[arg(long)]
    listen: Option<String>,
    /// Platform RSA private key: PEM, base64 DER or `file:PATH` (default: development key).
    #[arg(long)]
    platform_private_key: Option<String>,
    /// Merchant RSA public key: PEM, base64 DER or `file:PATH` (default: development key).
    #[arg(long)]
    merchant_public_key: Option<String>,
    /// Merchant number (`userNo`) the simulator accepts (default: `[upstream] merchant_no`).
    #[arg(long)]
    merchant_no: Option<String>,
    /// Where webhooks are POSTed (default: `[simulator] webhook_url`).
    #[arg(long)]
    webhook_url: Option<String>,
    /// Configuration file layered over the committed defaults.
    #[arg(long)]
    config: Option<PathBuf>,
}

fn init_tracing(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&settings.log.filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match settings.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

/// Ctrl-C, or SIGTERM where there is one (containers stop with it).
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut settings = Settings::load(args.config.as_deref()).context("loading configuration")?;
    if let Some(key) = args.platform_private_key {
        settings.simulator.platform_private_key = SecretString::new(key);
    }
    if let Some(key) = args.merchant_public_key {
        settings.simulator.merchant_public_key = key;
    }
    if let Some(no) = args.merchant_no {
        settings.upstream.merchant_no = no;
    }
    if let Some(url) = args.webhook_url {
        settings.simulator.webhook_url = url;
    }
    let listen = args.listen.unwrap_or_else(|| settings.simulator.listen.clone());
    init_tracing(&settings);
    let cfg = SimulatorConfig::from_settings(&settings).context("simulator configuration")?;
    let handle = spawn(cfg, &listen).await.with_context(|| format!("binding {listen}"))?;
    tracing::info!(
        base_url = %handle.base_url(),
        merchant_no = %handle.config().merchant_no(),
        webhook_url = handle.webhook_url().as_deref().unwrap_or("(none)"),
        "merchant simulator ready; control API under /_sim"
    );
    shutdown_signal().await?;
    tracing::info!("shutting down");
    handle.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}
