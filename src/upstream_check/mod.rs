//! `card-gateway upstream-check`: calls the configured platform through the real [`MerchantClient`]
//! and envelope, and reports per call the HTTP status, whether the envelope opened, the platform code,
//! the latency and the shape check (what our wire types expect vs what came back), naming the config
//! key to change. Read-only against a real platform unless `--allow-writes` is given and confirmed;
//! against the embedded simulator (throwaway, in-process) the write sequence runs by default. The
//! verdicts become an [`UpstreamFacts`] the gateway reads at start-up.

pub mod command;
pub mod expected;
pub mod report;
pub mod shape;
pub mod webhooks;
mod writes;

use std::{collections::BTreeSet, time::Duration};

use anyhow::Context as _;
use chrono::Utc;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;

use self::{
    report::{MoneyMove, Report, Step},
    shape::{Expect, Finding, Root, Severity},
};
use crate::{
    config::{Settings, upstream::UpstreamMode},
    upstream::{
        MerchantClient, Operation as Op,
        facts::{CodeType, UpstreamFacts, Verdict},
        formats::WireClock,
        probe::{EnvelopeState, Exchange},
        wire::{
            account::{BalanceItem, BalanceRequest, ExchangeRate, ExchangeRateRequest},
            card::{
                CardBin, CardInfo, CardInfoRequest, CardPageRequest, Scene, TransactionQueryRequest, TransactionRecord,
            },
            cardholder::CardholderRef,
            common::{ListOrPage, Page, PageRequest, ReqNoOnly},
            group::{GroupInfo, GroupInfoRequest, GroupPageRequest},
            order::{OrderQueryRequest, OrderRecord},
        },
    },
};

/// What to run.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Run the money sequence against a real platform (needs confirmation or `yes`).
    pub allow_writes: bool,
    /// Confirmation given on the command line.
    pub yes: bool,
    /// Skip the write sequence even against the embedded simulator.
    pub read_only: bool,
    pub currency: String,
    pub amount: Decimal,
    /// How long to wait for a new order to appear in order inquiry (and for asynchronous orders).
    pub order_wait: Duration,
    /// Second currency of the exchange-rate probe.
    pub rate_target: String,
    /// Add the group steps (apply, recharge, refund, freeze, unfreeze, close) to the write sequence;
    /// always on against the embedded simulator.
    pub groups: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            allow_writes: false,
            yes: false,
            read_only: false,
            currency: "USD".into(),
            amount: Decimal::ONE,
            order_wait: Duration::from_secs(30),
            rate_target: "EUR".into(),
            groups: false,
        }
    }
}

/// The largest amount the write sequence accepts: it exists to learn behaviour, not to move money.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1000, 0, 0, false, 2);

/// Ids that cannot exist on any platform (all zeros), for the "no such object" probes.
const NO_SUCH_ID: &str = "0000000000000000000";

/// Runs the check. `confirm` is asked (with a description of what will happen) before any write to a
/// real platform unless `opts.yes`; it returning false refuses the run before any call.
pub async fn run(
    settings: &Settings,
    opts: &CheckOptions,
    confirm: &mut dyn FnMut(&str) -> bool,
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        opts.amount > Decimal::ZERO && opts.amount <= MAX_AMOUNT,
        "--amount must be > 0 and ≤ {MAX_AMOUNT}"
    );
    anyhow::ensure!(
        opts.currency.len() == 3 && opts.currency.bytes().all(|b| b.is_ascii_uppercase()),
        "--currency must be a 3-letter code such as USD"
    );
    let codec = crate::startup::load_codec(settings)?;
    let (base_url, sim, writes, mode) = match settings.upstream.mode {
        UpstreamMode::Simulator => {
            let cfg = crate::simulator::SimulatorConfig::from_settings(settings)?;
            let handle = crate::simulator::spawn(cfg, "127.0.0.1:0").await.context("cannot start the simulator")?;
            (handle.base_url(), Some(handle), !opts.read_only, "embedded simulator")
        }
        UpstreamMode::Http => {
            anyhow::ensure!(!settings.upstream.base_url.is_empty(), "set upstream.base_url");
            (settings.upstream.base_url.clone(), None, opts.allow_writes && !opts.read_only, "http")
        }
    };
    let groups = opts.groups || sim.is_some();
    if writes && sim.is_none() && !opts.yes {
        let group_part = if groups {
            format!(
                ", then opens a card group and moves up to {} {} through it (apply, recharge, refund, freeze, \
                 unfreeze, close)",
                opts.amount * Decimal::from(2),
                opts.currency
            )
        } else {
            String::new()
        };
        let what = format!(
            "This applies for a card on {base_url} and moves up to {} {} through it (apply, recharge twice with one \
             request number, refund, cancel){group_part}. Every movement is printed; the card is cancelled (and the \
             group closed) at the end.",
            opts.amount * Decimal::from(3),
            opts.currency
        );
        anyhow::ensure!(confirm(&what), "refused: --allow-writes needs --yes or an interactive confirmation");
    }
    let client = MerchantClient::new(&settings.upstream, &base_url, codec)?;
    let clock = WireClock::new(&settings.upstream.formats).map_err(anyhow::Error::msg)?;
    let mut c = Checker::new(settings, client, clock);
    c.reads(opts).await;
    if writes {
        writes::sequence(&mut c, &CheckOptions { groups, ..opts.clone() }).await;
    }
    let report = c.finish(&base_url, mode, writes);
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    Ok(report)
}

/// What a step expects back.
enum Want {
    /// A result of this shape, decodable into the wire type.
    Answer(Root, Decoder),
    /// "No such object": a refusal mapped in `upstream.error_map`, or an empty result.
    Absent,
}

type Decoder = fn(&Exchange) -> Option<Result<(), String>>;

fn dec<T: DeserializeOwned>(ex: &Exchange) -> Option<Result<(), String>> {
    ex.decode::<T>().map(|r| r.map(|_| ()))
}

/// State shared by the steps of one run.
pub(crate) struct Checker<'a> {
    settings: &'a Settings,
    client: MerchantClient,
    clock: WireClock,
    steps: Vec<Step>,
    money: Vec<MoneyMove>,
    code_type: CodeType,
    async_seen: BTreeSet<&'static str>,
    seq: u32,
    run_id: String,
    bins: Vec<CardBin>,
    filter: Verdict,
    /// Transaction inquiry honours its `cardId` filter, and why it is unknown when it is.
    tx_filter: Verdict,
    tx_filter_detail: String,
    /// The 7-day transaction window held rows (so a card without any can test the filter).
    tx_rows_seen: bool,
    /// Card ids from the card page probe.
    known_cards: Vec<String>,
    dedupe: Verdict,
    dedupe_detail: String,
    visible_after_ms: Option<u64>,
    visible_detail: String,
    net: Option<String>,
    /// Money the sequence could not return (a failed cancel or close), one line each.
    left_behind: Vec<String>,
    /// Steps skipped and why.
    notes: Vec<String>,
}

impl<'a> Checker<'a> {
    fn new(settings: &'a Settings, client: MerchantClient, clock: WireClock) -> Self {
        let run_id = format!("{}{:04}", Utc::now().format("%y%m%d%H%M%S"), rand::random::<u16>() % 10_000);
        Self {
            settings,
            client,
            clock,
            steps: Vec::new(),
            money: Vec::new(),
            code_type: CodeType::Unknown,
            async_seen: BTreeSet::new(),
            seq: 0,
            run_id,
            bins: Vec::new(),
            filter: Verdict::Unknown,
            tx_filter: Verdict::Unknown,
            tx_filter_detail: String::new(),
            tx_rows_seen: false,
            known_cards: Vec::new(),
            dedupe: Verdict::Unknown,
            dedupe_detail: "not measured (read-only run; --allow-writes measures it)".into(),
            visible_after_ms: None,
            visible_detail: "unknown (no order was created)".into(),
            net: None,
            left_behind: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A fresh request number: the tenancy prefix, `chk`, the run id and a sequence.
    fn req_no(&mut self) -> String {
        self.seq += 1;
        format!("{}chk{}{:03}", self.settings.tenancy.user_req_no_prefix, self.run_id, self.seq)
    }

    fn expect(&self) -> Expect<'_> {
        Expect {
            clock: &self.clock,
            datetime_format: &self.settings.upstream.formats.datetime,
            date_format: &self.settings.upstream.formats.date,
            codes: &self.settings.upstream.codes,
        }
    }

    /// Sends one request and records the code type and async flag seen.
    async fn send<Req: serde::Serialize + ?Sized>(&mut self, op: Op, req: &Req) -> Exchange {
        let ex = self.client.probe(op, req).await;
        self.code_type = self.code_type.with(ex.code_type);
        if ex.is_async == Some(true) && ex.state == EnvelopeState::Opened {
            self.async_seen.insert(op.name());
        }
        ex
    }

    /// Judges an exchange and records it as a step.
    fn record(&mut self, name: &str, ex: &Exchange, want: Want) -> Severity {
        let step = self.judge(name, ex, want);
        let status = step.status;
        self.steps.push(step);
        status
    }

    fn judge(&self, name: &str, ex: &Exchange, want: Want) -> Step {
        let op = ex.op;
        let mut step = Step {
            name: name.to_owned(),
            operation: op.name(),
            path: ex.path.clone(),
            status: Severity::Info,
            http_status: ex.http_status,
            envelope: ex.state,
            code: ex.code.clone(),
            latency_ms: u64::try_from(ex.latency.as_millis()).unwrap_or(u64::MAX),
            is_async: ex.is_async,
            summary: String::new(),
            config_key: None,
            findings: Vec::new(),
        };
        let fail = |step: &mut Step, summary: String, key: Option<String>| {
            step.status = Severity::Fail;
            step.summary = summary;
            step.config_key = key;
        };
        let problem = ex.problem.clone().unwrap_or_default();
        match ex.state {
            EnvelopeState::Unreachable | EnvelopeState::HttpError | EnvelopeState::NotJson => {
                fail(&mut step, problem, Some("upstream.base_url".into()));
            }
            EnvelopeState::NonStandard => fail(
                &mut step,
                "the platform does not know this path (non-standard error body)".into(),
                Some(format!("upstream.paths.{}", op.name())),
            ),
            EnvelopeState::NotOpened => fail(&mut step, problem, Some("upstream.platform_public_key".into())),
            EnvelopeState::Refused => {
                let code = ex.code.clone().unwrap_or_default();
                let message = ex.message.clone().unwrap_or_default();
                let mapped = self.settings.upstream.error_map.get(&code);
                match (&want, mapped) {
                    (Want::Absent, Some(m)) => {
                        step.summary = format!("refused as expected: {code} → {} ({})", m.code, m.status);
                    }
                    (Want::Absent, None) => {
                        step.status = Severity::Warn;
                        step.summary = format!("refused with an unmapped code {code}: {message}");
                        step.config_key = Some(format!("upstream.error_map.\"{code}\""));
                    }
                    (Want::Answer(..), _) => {
                        let key = if code == "1200030" {
                            // SEEN: "403 forbidden" for every call of a merchant whose set-up is wrong.
                            Some("upstream.merchant_private_key".into())
                        } else {
                            None
                        };
                        fail(&mut step, format!("refused {code}: {message}"), key);
                    }
                }
            }
            EnvelopeState::Opened => match want {
                Want::Absent => {
                    let empty = ex.json().is_none_or(|v| match &v {
                        serde_json::Value::Null => true,
                        serde_json::Value::Object(m) => m.is_empty(),
                        _ => false,
                    });
                    if empty {
                        step.summary = "answered with an empty result".into();
                    } else {
                        step.status = Severity::Warn;
                        step.summary = "answered a result for an id that cannot exist".into();
                    }
                }
                Want::Answer(root, decoder) => match ex.json() {
                    None => fail(&mut step, "success without a result".into(), None),
                    Some(v) => {
                        let mut findings = shape::check(&v, root, &self.expect());
                        if let Some(Err(e)) = decoder(ex) {
                            findings.push(Finding {
                                path: ".".into(),
                                severity: Severity::Fail,
                                problem: "decode",
                                detail: format!("the wire type does not decode: {e}"),
                                config_key: None,
                            });
                        }
                        step.status = findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Info);
                        let n = |s| findings.iter().filter(|f| f.severity == s).count();
                        step.summary = match (n(Severity::Fail), n(Severity::Warn)) {
                            (0, 0) => "shape as expected".into(),
                            (f, w) => format!("shape: {f} failing, {w} warning"),
                        };
                        step.findings = findings;
                    }
                },
            },
        }
        step
    }

    /// A balance read that is not a step of its own (around money movements).
    async fn balance(&mut self, currency: &str) -> Option<Decimal> {
        let req = BalanceRequest { user_req_no: self.req_no(), ccy: Some(currency.to_owned()) };
        let ex = self.send(Op::AccountBalance, &req).await;
        let items = ex.decode::<ListOrPage<BalanceItem>>()?.ok()?.into_vec();
        items.into_iter().find(|b| b.ccy == currency).map(|b| b.available_bal)
    }

    /// The read-only probes.
    async fn reads(&mut self, opts: &CheckOptions) {
        let r = self.req_no();
        let ex = self.send(Op::AccountBalance, &BalanceRequest { user_req_no: r, ccy: None }).await;
        self.record(
            "account_balance",
            &ex,
            Want::Answer(Root::ListOrPage(expected::BALANCE), dec::<ListOrPage<BalanceItem>>),
        );

        let r = self.req_no();
        let req = ExchangeRateRequest {
            user_req_no: r,
            source_currency: opts.currency.clone(),
            target_currency: opts.rate_target.clone(),
        };
        let ex = self.send(Op::ExchangeRate, &req).await;
        self.record("exchange_rate", &ex, Want::Answer(Root::Object(expected::EXCHANGE_RATE), dec::<ExchangeRate>));

        let r = self.req_no();
        let ex = self.send(Op::CardBin, &ReqNoOnly { user_req_no: r }).await;
        self.record("card_bin", &ex, Want::Answer(Root::ListOrPage(expected::CARD_BIN), dec::<ListOrPage<CardBin>>));
        if let Some(Ok(bins)) = ex.decode::<ListOrPage<CardBin>>() {
            self.bins = bins.into_vec();
        }

        let r = self.req_no();
        let ex = self.send(Op::SceneList, &ReqNoOnly { user_req_no: r }).await;
        self.record("scene_list", &ex, Want::Answer(Root::ListOrPage(expected::SCENE), dec::<ListOrPage<Scene>>));

        let page = PageRequest { current_page: 1, page_size: 10 };
        let ex = self.send(Op::CardPage, &CardPageRequest { page, card_status: None, group_id: None }).await;
        self.record("card_page", &ex, Want::Answer(Root::Page(expected::CARD_INFO), dec::<Page<CardInfo>>));
        if let Some(Ok(p)) = ex.decode::<Page<CardInfo>>() {
            self.known_cards = p.list.into_iter().map(|c| c.card_id).collect();
        }

        let ex = self.send(Op::GroupPage, &GroupPageRequest { page, status: None }).await;
        self.record("group_page", &ex, Want::Answer(Root::Page(expected::GROUP_INFO), dec::<Page<GroupInfo>>));

        self.transactions("transaction_query (last 7 days)").await;

        // Order inquiry for a request number that cannot exist: an empty page, or other orders when the
        // platform ignores the filter.
        let impossible = format!("{}chk{}none", self.settings.tenancy.user_req_no_prefix, self.run_id);
        let ex = self.send(Op::OrderQuery, &order_query(Some(impossible.clone()), 1, 10)).await;
        let want = Want::Answer(Root::Page(expected::ORDER), dec::<Page<OrderRecord>>);
        self.record("order_query (unknown userReqNo)", &ex, want);
        let filtered = ex.decode::<Page<OrderRecord>>().and_then(Result::ok).map(|p| p.list);
        if let Some(list) = filtered {
            if list.iter().any(|o| o.user_req_no != impossible) {
                self.filter = Verdict::No;
            } else {
                let ex = self.send(Op::OrderQuery, &order_query(None, 1, 1)).await;
                let any = ex.decode::<Page<OrderRecord>>().and_then(Result::ok).is_some_and(|p| !p.list.is_empty());
                if any {
                    self.filter = Verdict::Yes;
                }
            }
        }

        let ex = self.send(Op::CardInfo, &CardInfoRequest { card_id: NO_SUCH_ID.into() }).await;
        self.record("card_info (no such card)", &ex, Want::Absent);
        let ex = self.send(Op::GroupInfo, &GroupInfoRequest { group_id: NO_SUCH_ID.into() }).await;
        self.record("group_info (no such group)", &ex, Want::Absent);
        let r = self.req_no();
        let ex = self
            .send(Op::CardholderInfo, &CardholderRef { card_user_id: NO_SUCH_ID.into(), user_req_no: Some(r) })
            .await;
        self.record("cardholder_info (no such holder)", &ex, Want::Absent);
    }

    /// A recent transaction window for regular cards, within `upstream.transaction_window_max_days`.
    /// When it holds rows, the same window for another existing card (one without rows in it) tells
    /// whether the platform honours the `cardId` filter; the gateway filters rows by card either way.
    async fn transactions(&mut self, name: &str) {
        let ex = self.send(Op::TransactionQuery, &self.tx_query(None)).await;
        let want = Want::Answer(Root::Page(expected::TRANSACTION), dec::<Page<TransactionRecord>>);
        self.record(name, &ex, want);
        let rows: Vec<String> = match ex.decode::<Page<TransactionRecord>>() {
            Some(Ok(p)) => p.list.into_iter().map(|t| t.card_id).collect(),
            _ => Vec::new(),
        };
        if rows.is_empty() {
            self.tx_filter_detail = " (no transactions in the last 7 days to compare)".into();
            return;
        }
        self.tx_rows_seen = true;
        let other = self.known_cards.iter().find(|c| !rows.contains(c)).cloned();
        match other {
            Some(card) => self.tx_filter_probe(&card).await,
            None => {
                self.tx_filter_detail = " (no card without transactions to compare; --allow-writes measures it)".into()
            }
        }
    }

    fn tx_query(&self, card_id: Option<String>) -> TransactionQueryRequest {
        let now = Utc::now();
        TransactionQueryRequest {
            page: PageRequest { current_page: 1, page_size: 10 },
            card_id,
            card_type: Some(self.settings.upstream.codes.card_type_regular.clone()),
            begin_time: Some(self.clock.format_datetime(now - chrono::Duration::days(7))),
            end_time: Some(self.clock.format_datetime(now)),
        }
    }

    /// Transaction inquiry for `card_id`, a card with no rows in the window while other cards have
    /// some: any row answered is another card's, so the filter is ignored.
    async fn tx_filter_probe(&mut self, card_id: &str) {
        if !self.tx_rows_seen || self.tx_filter != Verdict::Unknown {
            return;
        }
        let ex = self.send(Op::TransactionQuery, &self.tx_query(Some(card_id.to_owned()))).await;
        let want = Want::Answer(Root::Page(expected::TRANSACTION), dec::<Page<TransactionRecord>>);
        self.record("transaction_query (a card without transactions)", &ex, want);
        if let Some(Ok(page)) = ex.decode::<Page<TransactionRecord>>() {
            if page.list.iter().any(|t| t.card_id != card_id) {
                self.tx_filter = Verdict::No;
                self.tx_filter_detail = " (other cards' rows answered; the gateway drops them)".into();
            } else {
                self.tx_filter = Verdict::Yes;
                self.tx_filter_detail = String::new();
            }
        }
    }

    fn finish(self, base_url: &str, mode: &'static str, writes: bool) -> Report {
        let facts = UpstreamFacts {
            checked_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            base_url: base_url.to_owned(),
            user_req_no_deduplicated: self.dedupe,
            order_query_filters_by_user_req_no: self.filter,
            transaction_query_filters_by_card_id: self.tx_filter,
            order_visible_after_ms: self.visible_after_ms,
            error_codes_typed_as: self.code_type,
            async_answers_seen_for: self.async_seen.iter().map(|s| (*s).to_owned()).collect(),
        };
        let verdicts = vec![
            format!("userReqNo de-duplicated: {} ({})", self.dedupe, self.dedupe_detail),
            format!("order inquiry filters by userReqNo: {}", self.filter),
            format!("transaction inquiry filters by cardId: {}{}", self.tx_filter, self.tx_filter_detail),
            format!("order visible after: {}", self.visible_detail),
            format!("error codes typed as: {}", self.code_type.as_str()),
            format!(
                "async answers seen for: {}",
                if self.async_seen.is_empty() {
                    "none".to_owned()
                } else {
                    self.async_seen.iter().copied().collect::<Vec<_>>().join(", ")
                }
            ),
        ];
        let ok = self.steps.iter().all(|s| s.status < Severity::Fail);
        Report {
            base_url: base_url.to_owned(),
            mode,
            writes,
            steps: self.steps,
            money: self.money,
            verdicts,
            facts,
            ok,
            net_account_change: self.net,
            left_behind: self.left_behind,
            notes: self.notes,
        }
    }
}

fn order_query(user_req_no: Option<String>, page: i64, size: i64) -> OrderQueryRequest {
    OrderQueryRequest::page(page, size, user_req_no)
}
