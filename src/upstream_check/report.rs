//! The check's report: one step per call, the money it moved, the verdicts; rendered as a table for a
//! terminal or as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::shape::{Finding, Severity};
use crate::upstream::{facts::UpstreamFacts, probe::EnvelopeState};

/// One call and what it showed.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// What the step checks, e.g. `card_page` or `card_recharge (repeat)`.
    pub name: String,
    pub operation: &'static str,
    pub path: String,
    pub status: Severity,
    pub http_status: Option<u16>,
    pub envelope: EnvelopeState,
    /// The platform's `errorCode` when it refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_async: Option<bool>,
    /// One line: what happened.
    pub summary: String,
    /// The configuration key to change, when one would fix the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_key: Option<String>,
    pub findings: Vec<Finding>,
}

/// One money movement the check caused (or observed, for repeats).
#[derive(Debug, Clone, Serialize)]
pub struct MoneyMove {
    pub step: String,
    pub currency: String,
    /// Merchant account balance change seen around the step (negative = money left the account).
    pub account_delta: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub base_url: String,
    pub mode: &'static str,
    pub writes: bool,
    pub steps: Vec<Step>,
    pub money: Vec<MoneyMove>,
    /// The verdict lines, as printed.
    pub verdicts: Vec<String>,
    pub facts: UpstreamFacts,
    /// Every step passed without a failure.
    pub ok: bool,
    /// Net change of the merchant account over the whole run, per currency, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_account_change: Option<String>,
    /// Money the write sequence could not return (a failed cancel or close), one line each; empty
    /// when everything it moved came back (fees aside).
    pub left_behind: Vec<String>,
    /// Steps skipped and why.
    pub notes: Vec<String>,
}

impl Report {
    pub fn worst(&self) -> Severity {
        self.steps.iter().map(|s| s.status).max().unwrap_or(Severity::Info)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// The human table: one row per step, its notable findings below it, then money and verdicts.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ =
            writeln!(out, "upstream-check against {} ({}, writes {})", self.base_url, self.mode, on_off(self.writes));
        let header = format!("{:<34} {:<5} {:>4} {:<12} {:<8} {:>7}", "STEP", "", "HTTP", "ENVELOPE", "CODE", "MS");
        let _ = writeln!(out, "\n{header}  RESULT");
        for s in &self.steps {
            let _ = writeln!(
                out,
                "{:<34} {:<5} {:>4} {:<12} {:<8} {:>7}  {}",
                truncate(&s.name, 34),
                mark(s.status),
                s.http_status.map_or_else(|| "-".into(), |h| h.to_string()),
                envelope_word(s.envelope),
                s.code.as_deref().unwrap_or("-"),
                s.latency_ms,
                s.summary
            );
            if let Some(k) = &s.config_key {
                let _ = writeln!(out, "{:<34}       → change {k} (now {})", "", s.path);
            }
            for f in s.findings.iter().filter(|f| f.severity > Severity::Info) {
                let key = f.config_key.as_deref().map(|k| format!(" → {k}")).unwrap_or_default();
                let _ = writeln!(out, "{:<34}       {} {}: {}{key}", "", f.problem, f.path, f.detail);
            }
            let absent: Vec<&str> =
                s.findings.iter().filter(|f| f.problem == "absent_optional").map(|f| f.path.as_str()).collect();
            if !absent.is_empty() {
                let _ = writeln!(out, "{:<34}       optional fields not sent: {}", "", absent.join(", "));
            }
        }
        if !self.money.is_empty() {
            let _ = writeln!(out, "\nMoney movements:");
            for m in &self.money {
                let _ = writeln!(
                    out,
                    "  {:<32} {} account {}  {}",
                    m.step,
                    m.currency,
                    m.account_delta.as_deref().unwrap_or("?"),
                    m.note
                );
            }
            if let Some(net) = &self.net_account_change {
                let _ = writeln!(out, "  net change of the merchant account: {net}");
            }
            if self.left_behind.is_empty() {
                let _ = writeln!(out, "  money left behind: none");
            } else {
                let _ = writeln!(out, "  MONEY LEFT BEHIND:");
                for l in &self.left_behind {
                    let _ = writeln!(out, "    {l}");
                }
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        let _ = writeln!(out, "\nVerdicts:");
        for v in &self.verdicts {
            let _ = writeln!(out, "  {v}");
        }
        let _ = writeln!(out, "\n{}", if self.ok { "All checks passed." } else { "Some checks FAILED (see above)." });
        out
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn mark(s: Severity) -> &'static str {
    match s {
        Severity::Info => "OK",
        Severity::Warn => "WARN",
        Severity::Fail => "FAIL",
    }
}

fn envelope_word(e: EnvelopeState) -> &'static str {
    match e {
        EnvelopeState::Unreachable => "unreachable",
        EnvelopeState::HttpError => "http-error",
        EnvelopeState::NotJson => "not-json",
        EnvelopeState::NonStandard => "non-standard",
        EnvelopeState::Refused => "refused",
        EnvelopeState::Opened => "opened",
        EnvelopeState::NotOpened => "not-opened",
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_owned() } else { s.chars().take(n - 1).chain(['…']).collect() }
}
