//! `card-gateway`: parse the command line, load settings, and hand over to the library.
#![forbid(unsafe_code)]

use anyhow::Context as _;
use card_gateway::{
    auth::{Scope, dev_tokens},
    cli::{Cli, Command},
    config::Settings,
    startup::Application,
};
use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve { listen: None }) {
        Command::Openapi => {
            let doc = card_gateway::openapi::document_json(&card_gateway::routes::table());
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), doc.as_bytes());
            Ok(())
        }
        Command::Healthcheck { url, ready } => {
            let base = url.unwrap_or_else(|| {
                let port = settings.server.listen.rsplit_once(':').map_or("8080", |(_, p)| p);
                format!("http://127.0.0.1:{port}")
            });
            let path = if ready { "/readyz" } else { "/livez" };
            let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(2)).build()?;
            match client.get(format!("{}{path}", base.trim_end_matches('/'))).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => anyhow::bail!("{path} answered {}", r.status()),
                Err(e) => anyhow::bail!("{path} unreachable: {e}"),
            }
        }
        Command::Token { tenant, scope, ttl } => {
            let scopes = match scope {
                None => Scope::ALL.to_vec(),
                Some(s) => s
                    .split_ascii_whitespace()
                    .map(|x| Scope::parse(x).with_context(|| format!("unknown scope {x:?}")))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            let ttl = dev_tokens::parse_ttl(&ttl).context("--ttl must look like 12h, 30m, 45s or 2d")?;
            println!("{}", dev_tokens::mint(&settings, &tenant, &scopes, ttl)?);
            Ok(())
        }
        Command::RebuildOwnership { dry_run } => {
            settings.validate()?;
            let _telemetry = card_gateway::telemetry::init(&settings.log);
            anyhow::ensure!(
                settings.upstream.mode == card_gateway::config::upstream::UpstreamMode::Http,
                "rebuild-ownership reads the real platform's history: set upstream.mode = \"http\" and upstream.base_url"
            );
            anyhow::ensure!(
                settings.tenancy.store == card_gateway::config::stores::StoreKind::Redis,
                "rebuild-ownership writes to the shared store: set tenancy.store = \"redis\""
            );
            let codec = card_gateway::startup::load_codec(&settings)?;
            let client =
                card_gateway::upstream::MerchantClient::new(&settings.upstream, &settings.upstream.base_url, codec)?;
            let redis = card_gateway::storage::redis::RedisPool::new(&settings.redis)?;
            let store = card_gateway::startup::ownership_store(&settings, Some(&redis))?;
            let secret =
                card_gateway::config::resolve_text(card_gateway::sensitive::Reveal::expose(&settings.tenancy.secret))?;
            let req_nos = card_gateway::tenancy::ReqNos::new(&settings.tenancy.user_req_no_prefix, secret.as_deref());
            let clock = card_gateway::upstream::formats::WireClock::new(&settings.upstream.formats)
                .map_err(anyhow::Error::msg)?;
            let report = card_gateway::tenancy::rebuild::rebuild_ownership(
                &client,
                store.as_ref(),
                &req_nos,
                &settings.upstream.codes,
                &clock,
                dry_run,
            )
            .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::UpstreamCheck(args) => {
            settings.validate()?;
            let code = card_gateway::upstream_check::command::run(&settings, &args).await?;
            std::process::exit(code);
        }
        Command::Serve { listen } => {
            if let Some(l) = listen {
                settings.server.listen = l;
            }
            let mut telemetry = card_gateway::telemetry::init(&settings.log);
            let app = Application::build(settings.clone()).await?;
            print_banner(&settings, app.port());
            let result = app.run_until_stopped().await;
            // The last spans (the drain's) are flushed before exit; the flush blocks, so not on a worker.
            tokio::task::block_in_place(|| telemetry.shutdown());
            result?;
            Ok(())
        }
    }
}

/// Where to click and what to paste, for a developer's first minute.
fn print_banner(settings: &Settings, port: u16) {
    let host = settings.server.listen.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
    let host = if host == "0.0.0.0" || host == "[::]" { "127.0.0.1" } else { host };
    let base = if settings.server.public_url.is_empty() {
        format!("http://{host}:{port}")
    } else {
        settings.server.public_url.clone()
    };
    println!("\ncard-gateway listening on {base}");
    println!("  Swagger UI:   {base}/swagger-ui/");
    println!("  OpenAPI:      {base}/api-docs/openapi.json");
    let dev_auth = settings.auth.jwks_file.is_empty() && settings.auth.jwks_url.is_empty();
    if !settings.is_production() && dev_auth {
        let ttl = dev_tokens::parse_ttl(&settings.auth.dev_token_ttl).unwrap_or(43_200);
        for tenant in ["demo", "demo-2"] {
            match dev_tokens::mint(settings, tenant, &Scope::ALL, ttl) {
                Ok(t) => println!(
                    "\n  Development token for tenant {tenant:?} (all scopes, {}):\n  {t}",
                    settings.auth.dev_token_ttl
                ),
                Err(e) => println!("  (could not mint a development token: {e})"),
            }
        }
        println!("\n  Try: curl -H \"Authorization: Bearer $TOKEN\" {base}/v1/card-bins\n");
    }
}
