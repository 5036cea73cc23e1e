//! The `upstream-check` command line: options from flags, the interactive confirmation, printing,
//! and writing the facts file.

use std::{
    io::{BufRead as _, IsTerminal as _, Write as _},
    str::FromStr as _,
    time::Duration,
};

use anyhow::Context as _;
use rust_decimal::Decimal;

use super::CheckOptions;
use crate::{
    auth::dev_tokens::parse_ttl,
    cli::UpstreamCheckArgs,
    config::{Settings, upstream::UpstreamMode},
};

fn duration(flag: &str, s: &str) -> anyhow::Result<Duration> {
    parse_ttl(s).map(Duration::from_secs).with_context(|| format!("{flag} must look like 30s, 5m or 1h"))
}

/// Asks on the terminal; anything but `yes` refuses. Without a terminal there is nobody to ask.
fn ask(what: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        eprintln!("{what}\nNot a terminal: pass --yes to confirm.");
        return false;
    }
    eprint!("{what}\nType yes to continue: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && line.trim() == "yes"
}

/// Runs the command; the process exit code (0 = every check passed).
pub async fn run(settings: &Settings, args: &UpstreamCheckArgs) -> anyhow::Result<i32> {
    if let Some(addr) = &args.listen_webhooks {
        let listener = std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        let wait = duration("--for", &args.listen_for)?;
        eprintln!("capturing webhooks on {addr} for {}; point the platform's webhook URL here", args.listen_for);
        let report = super::webhooks::capture(settings, listener, wait, Some(args.samples.clone())).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", report.to_table());
        }
        return Ok(0);
    }
    let opts = CheckOptions {
        allow_writes: args.allow_writes,
        yes: args.yes,
        read_only: args.read_only,
        currency: args.currency.trim().to_ascii_uppercase(),
        amount: Decimal::from_str(args.amount.trim()).context("--amount must be a decimal such as 1.00")?,
        order_wait: duration("--order-wait", &args.order_wait)?,
        rate_target: args.rate_target.trim().to_ascii_uppercase(),
        groups: args.groups,
    };
    let report = super::run(settings, &opts, &mut ask).await?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    let target = match (&args.write_facts, settings.upstream.mode) {
        _ if args.no_facts => None,
        (Some(path), _) => Some(path.clone()),
        (None, UpstreamMode::Http) if !settings.upstream.facts_file.is_empty() => {
            Some(settings.upstream.facts_file.clone())
        }
        (None, _) => None,
    };
    if let Some(path) = target {
        report.facts.save(&path)?;
        eprintln!("verdicts written to {path}");
    }
    Ok(if report.ok { 0 } else { 1 })
}
