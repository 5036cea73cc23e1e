//! `card-gateway upstream-check`, black-box: the real check (real MerchantClient and envelope) against
//! the real simulator, in its default speech and in each dialect, plus the guarded write sequence,
//! webhook capture, and the gateway reading the facts file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

use std::time::Duration;

use card_gateway::{
    config::{Settings, simulator::ErrorCodeStyle, upstream::UpstreamMode},
    sensitive::Reveal as _,
    upstream::{
        MerchantClient, Operation,
        facts::{CodeType, UpstreamFacts, Verdict},
    },
    upstream_check::{self, CheckOptions, report::Report, shape::Severity},
};
use rust_decimal::Decimal;

fn settings(tweak: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = common::test_settings();
    tweak(&mut s);
    s
}

fn fast() -> CheckOptions {
    CheckOptions { order_wait: Duration::from_secs(5), ..CheckOptions::default() }
}

async fn check(s: &Settings) -> Report {
    upstream_check::run(s, &fast(), &mut |_| panic!("the embedded simulator needs no confirmation")).await.unwrap()
}

fn step<'a>(r: &'a Report, name: &str) -> &'a upstream_check::report::Step {
    r.steps.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no step {name}: {}", r.to_table()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_the_default_simulator_every_step_passes_and_every_verdict_is_known() {
    let r = check(&settings(|_| {})).await;
    assert!(r.ok, "{}", r.to_table());
    assert!(r.steps.iter().all(|s| s.status == Severity::Info), "{}", r.to_table());
    assert_eq!(r.facts.user_req_no_deduplicated, Verdict::Yes);
    assert_eq!(r.facts.order_query_filters_by_user_req_no, Verdict::Yes);
    assert!(r.facts.order_visible_after_ms.is_some());
    assert_eq!(r.facts.error_codes_typed_as, CodeType::String);
    assert!(r.facts.async_answers_seen_for.is_empty());
    let table = r.to_table();
    for line in [
        "userReqNo de-duplicated: yes",
        "order inquiry filters by userReqNo: yes",
        "error codes typed as: string",
        "async answers seen for: none",
    ] {
        assert!(table.contains(line), "{table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asynchronous_answers_are_reported_per_operation() {
    let r = check(&settings(|s| {
        s.simulator.async_operations = vec!["card_recharge".into()];
        s.simulator.async_delay_ms = 50;
    }))
    .await;
    assert!(r.ok, "{}", r.to_table());
    assert_eq!(r.facts.async_answers_seen_for, vec!["card_recharge".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_on_another_path_names_its_paths_key() {
    let r = check(&settings(|s| {
        s.simulator.dialect.paths.insert("card_page".into(), "/openapi/vcc/card/list".into());
    }))
    .await;
    assert!(!r.ok);
    let s = step(&r, "card_page");
    assert_eq!(s.status, Severity::Fail);
    assert_eq!(s.config_key.as_deref(), Some("upstream.paths.card_page"));
    assert!(r.to_table().contains("→ change upstream.paths.card_page"), "{}", r.to_table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_codes_sent_as_numbers_are_the_verdict() {
    let r = check(&settings(|s| s.simulator.dialect.error_codes = ErrorCodeStyle::Number)).await;
    assert_eq!(r.facts.error_codes_typed_as, CodeType::Number);
    assert!(r.to_table().contains("error codes typed as: number"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iso_dates_name_the_datetime_format_key() {
    let r = check(&settings(|s| s.simulator.dialect.datetime = "%Y-%m-%dT%H:%M:%S%:z".into())).await;
    let s = step(&r, "card_info (new card)");
    let f = s.findings.iter().find(|f| f.path == "createTime").unwrap_or_else(|| panic!("{}", r.to_table()));
    assert_eq!(f.problem, "date_format");
    assert_eq!(f.config_key.as_deref(), Some("upstream.formats.datetime"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_fields_are_reported_optional_or_failing() {
    let r = check(&settings(|s| s.simulator.dialect.omit_fields = vec!["cardStatusDesc".into(), "ccy".into()])).await;
    let info = step(&r, "card_info (new card)");
    assert!(info.findings.iter().any(|f| f.path == "cardStatusDesc" && f.problem == "absent_optional"));
    assert_eq!(info.status, Severity::Info);
    let balance = step(&r, "account_balance");
    assert_eq!(balance.status, Severity::Fail);
    assert!(balance.findings.iter().any(|f| f.path == "[].ccy" && f.problem == "missing"), "{}", r.to_table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_inquiry_that_ignores_its_filter_is_the_verdict() {
    let r = check(&settings(|s| s.simulator.dialect.order_query_ignores_filter = true)).await;
    assert_eq!(r.facts.order_query_filters_by_user_req_no, Verdict::No, "{}", r.to_table());
    assert!(r.to_table().contains("order inquiry filters by userReqNo: no"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_visible_only_after_a_delay_are_measured() {
    let r = check(&settings(|s| s.simulator.dialect.order_visible_after_ms = 400)).await;
    let ms = r.facts.order_visible_after_ms.unwrap_or_else(|| panic!("{}", r.to_table()));
    assert!(ms >= 400, "{ms}");
    assert!(r.ok, "{}", r.to_table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_refused_without_confirmation_before_any_call() {
    let s = settings(|_| {});
    let sim = common::start_simulator(&s).await;
    let mut http = s.clone();
    http.upstream.mode = UpstreamMode::Http;
    http.upstream.base_url = sim.base_url();
    let opts = CheckOptions { allow_writes: true, ..fast() };
    let mut asked = 0;
    let err = upstream_check::run(&http, &opts, &mut |_| {
        asked += 1;
        false
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    assert_eq!(asked, 1);
    for op in Operation::ALL {
        assert_eq!(sim.calls(*op), 0, "{op} was called");
    }
    // Without --allow-writes, a real platform is only read.
    let r = upstream_check::run(&http, &fast(), &mut |_| panic!("not asked")).await.unwrap();
    assert!(!r.writes);
    assert_eq!(sim.calls(Operation::CardApply), 0);
    assert!(r.to_table().contains("userReqNo de-duplicated: unknown"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_sequence_moves_no_net_money_and_prints_no_card_data() {
    let s = settings(|s| {
        s.simulator.card_issue_fee = Decimal::ZERO;
        s.simulator.recharge_fee_rate = Decimal::ZERO;
    });
    let sim = common::start_simulator(&s).await;
    let mut http = s.clone();
    http.upstream.mode = UpstreamMode::Http;
    http.upstream.base_url = sim.base_url();
    let opts = CheckOptions { allow_writes: true, yes: true, ..fast() };
    let r = upstream_check::run(&http, &opts, &mut |_| panic!("--yes was given")).await.unwrap();
    assert!(r.ok, "{}", r.to_table());
    assert_eq!(r.facts.user_req_no_deduplicated, Verdict::Yes);
    let state = sim.state();
    assert_eq!(state.ledger.merchant, state.ledger.initial, "{}", r.to_table());
    assert_eq!(state.cards.len(), 1);
    assert_eq!(sim.calls(Operation::CardRecharge), 2);
    assert_eq!(sim.calls(Operation::CardCancel), 1);
    assert_eq!(r.net_account_change.as_deref().map(|n| n.starts_with("0")), Some(true), "{:?}", r.net_account_change);
    let steps: Vec<&str> = r.money.iter().map(|m| m.step.as_str()).collect();
    assert_eq!(steps, ["card_apply", "card_recharge", "card_recharge (repeat)", "card_refund", "card_cancel"]);
    let printed = format!("{}{}", r.to_table(), r.to_json());
    let card = &state.cards[0];
    assert!(!printed.contains(card.pan.expose()), "PAN printed");
    assert!(!printed.contains(&format!("\"{}\"", card.cvv.expose())), "CVV printed");
    // The card is cancelled.
    let again = sim.state().cards[0].status;
    assert_eq!(format!("{again:?}"), "Cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_capture_classifies_types_and_stores_redacted_samples() {
    let s = settings(|_| {});
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let samples = dir.path().to_path_buf();
    let capture = {
        let s = s.clone();
        let samples = samples.clone();
        tokio::spawn(async move {
            upstream_check::webhooks::capture(&s, listener, Duration::from_secs(3), Some(samples)).await.unwrap()
        })
    };
    let mut sim_settings = s.clone();
    sim_settings.simulator.webhook_url = format!("http://{addr}/webhooks");
    let sim = common::start_simulator(&sim_settings).await;
    let codec = card_gateway::startup::load_codec(&s).unwrap();
    let client = MerchantClient::new(&s.upstream, &sim.base_url(), codec).unwrap();
    let today = chrono::Utc::now().date_naive();
    let req = card_gateway::upstream::wire::card::CardApplyRequest {
        user_req_no: "cg1chkcapture1".into(),
        local_currency: "USD".into(),
        start_date: (today + chrono::Duration::days(1)).format("%Y-%m-%d").to_string(),
        end_date: (today + chrono::Duration::days(400)).format("%Y-%m-%d").to_string(),
        auth_limit_amount: Some(Decimal::from(5)),
        enable_multi_use: None,
        enable_currency_check: Some(1),
        card_alias: None,
        bin_range_id: Some("222929".into()),
        channel_type: Some(1),
        group_id: None,
        card_user_id: None,
        scene_code: None,
        air_line_code: None,
    };
    let card = client.card_apply(&req).await.unwrap().result.unwrap().card_id.unwrap();
    let otp = sim
        .send_3ds_otp(
            &card,
            &card_gateway::simulator::OtpSpec { amount: Decimal::ONE, currency: None, merchant_name: None },
        )
        .unwrap();
    let report = capture.await.unwrap();
    assert!(report.received >= 2, "{}", report.to_table());
    let operate = &report.types["card_operate"];
    assert_eq!(operate.expected_shape, Some("card_operate (A)"));
    assert_eq!(operate.sealing.get("data_encrypted"), Some(&operate.count));
    assert!(operate.findings.iter().all(|f| f.severity < Severity::Fail), "{}", report.to_table());
    assert!(report.types.contains_key("card_3ds_otp"), "{}", report.to_table());
    let pan = sim.state().cards[0].pan.expose().to_owned();
    let mut files = 0;
    for entry in std::fs::read_dir(&samples).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        files += 1;
        assert!(!text.contains(&pan), "PAN in a sample: {text}");
        assert!(!text.contains(otp.code.expose()), "OTP in a sample: {text}");
    }
    assert!(files >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_reads_the_facts_file_and_shows_it_in_readyz() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.toml").to_str().unwrap().to_owned();
    let facts = UpstreamFacts {
        checked_at: "2026-12-02T09:00:00Z".into(),
        user_req_no_deduplicated: Verdict::No,
        order_query_filters_by_user_req_no: Verdict::No,
        error_codes_typed_as: CodeType::Number,
        ..Default::default()
    };
    facts.save(&path).unwrap();
    let app = common::spawn_with(|s| s.upstream.facts_file = path.clone()).await;
    assert_eq!(app.state.facts.dedupes_requests(), Verdict::No);
    let res = app.client.get(format!("{}/readyz", app.base)).send().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    let f = &body["info"]["upstream_facts"];
    assert_eq!(f["user_req_no_deduplicated"], "no", "{body}");
    assert_eq!(f["order_query_filters_by_user_req_no"], "no");
    assert_eq!(f["error_codes_typed_as"], "number");

    // No file: every verdict unknown. A broken file: start-up refuses.
    let app = common::spawn_with(|s| s.upstream.facts_file = format!("{path}.absent")).await;
    assert_eq!(app.state.facts.dedupes_requests(), Verdict::Unknown);
    std::fs::write(&path, "user_req_no_deduplicated = \"perhaps\"").unwrap();
    let mut broken = common::test_settings();
    broken.upstream.facts_file = path.clone();
    let err = card_gateway::startup::Application::build(broken).await.err().expect("refused");
    assert!(err.to_string().contains("not a valid facts file"), "{err}");
}

/// Runs the confirmed write sequence against a simulator started separately (a "real" platform).
async fn writes_against(
    sim_settings: &Settings,
    groups: bool,
) -> (Report, std::sync::Arc<card_gateway::simulator::SimHandle>) {
    let sim = common::start_simulator(sim_settings).await;
    let mut http = sim_settings.clone();
    http.upstream.mode = UpstreamMode::Http;
    http.upstream.base_url = sim.base_url();
    let opts = CheckOptions { allow_writes: true, yes: true, groups, ..fast() };
    let r = upstream_check::run(&http, &opts, &mut |_| panic!("--yes was given")).await.unwrap();
    (r, sim)
}

fn no_fees(s: &mut Settings) {
    s.simulator.card_issue_fee = Decimal::ZERO;
    s.simulator.recharge_fee_rate = Decimal::ZERO;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_that_does_not_deduplicate_is_the_verdict_and_the_repeat_is_refunded() {
    let s = settings(|s| {
        no_fees(s);
        s.simulator.dedupe_requests = false;
    });
    let (r, sim) = writes_against(&s, false).await;
    let table = r.to_table();
    assert_eq!(r.facts.user_req_no_deduplicated, Verdict::No, "{table}");
    assert!(
        table.contains("userReqNo de-duplicated: no (repeat answered a NEW order id; money moved again: YES)"),
        "{table}"
    );
    // The repeat moved the money a second time; the sequence took it back as its own step.
    assert_eq!(sim.calls(Operation::CardRecharge), 2);
    assert_eq!(sim.calls(Operation::CardRefund), 2, "{table}");
    let steps: Vec<&str> = r.money.iter().map(|m| m.step.as_str()).collect();
    assert_eq!(
        steps,
        ["card_apply", "card_recharge", "card_recharge (repeat)", "card_refund", "card_refund (repeat)", "card_cancel"]
    );
    let repeat = r.money.iter().find(|m| m.step == "card_recharge (repeat)").unwrap();
    let delta: Option<Decimal> = repeat.account_delta.as_deref().and_then(|d| d.parse().ok());
    assert_eq!(delta, Some(-Decimal::ONE), "{table}");
    assert!(repeat.note.contains("not de-duplicated"), "{table}");
    // No money left behind: the ledger is back where it started and the report says so.
    let state = sim.state();
    assert_eq!(state.ledger.merchant, state.ledger.initial, "{table}");
    assert!(r.left_behind.is_empty(), "{table}");
    assert!(table.contains("money left behind: none"), "{table}");
    assert_eq!(r.net_account_change.as_deref().map(|n| n.starts_with('0')), Some(true), "{table}");
    assert_eq!(format!("{:?}", state.cards[0].status), "Cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_group_steps_move_no_net_money_and_close_the_group() {
    let s = settings(no_fees);
    let (r, sim) = writes_against(&s, true).await;
    let table = r.to_table();
    assert!(r.ok, "{table}");
    for name in [
        "group_apply",
        "group_info (new group)",
        "group_recharge",
        "group_refund",
        "group_update (freeze)",
        "group_update (unfreeze)",
        "group_update (close)",
    ] {
        assert_eq!(step(&r, name).status, Severity::Info, "{name}: {table}");
    }
    assert_eq!(sim.calls(Operation::GroupApply), 1);
    assert_eq!(sim.calls(Operation::GroupUpdate), 3);
    let steps: Vec<&str> = r.money.iter().map(|m| m.step.as_str()).collect();
    assert_eq!(&steps[steps.len() - 4..], ["group_apply", "group_recharge", "group_refund", "group_close"]);
    let state = sim.state();
    assert_eq!(state.ledger.merchant, state.ledger.initial, "{table}");
    assert_eq!(state.groups.len(), 1);
    assert!(state.groups.iter().all(|g| g.balance.is_zero() && format!("{:?}", g.status) == "Closed"));
    assert!(r.left_behind.is_empty(), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_cancel_is_reported_as_money_left_behind() {
    let s = settings(no_fees);
    let sim = common::start_simulator(&s).await;
    sim.inject(
        Operation::CardCancel,
        card_gateway::simulator::Fault::once(card_gateway::simulator::FaultKind::HttpStatus { status: 500 }),
    );
    let mut http = s.clone();
    http.upstream.mode = UpstreamMode::Http;
    http.upstream.base_url = sim.base_url();
    let opts = CheckOptions { allow_writes: true, yes: true, ..fast() };
    let r = upstream_check::run(&http, &opts, &mut |_| panic!("--yes was given")).await.unwrap();
    let table = r.to_table();
    assert!(!r.ok);
    assert_eq!(step(&r, "card_cancel").status, Severity::Fail, "{table}");
    let card = &sim.state().cards[0];
    assert_eq!(r.left_behind.len(), 1, "{table}");
    // The card's limit (1.00) is still on it, and the report says exactly that.
    assert_eq!(card.balance, Decimal::ONE);
    assert!(r.left_behind[0].contains(&format!("card {}: 1 USD", card.card_id)), "{table}");
    assert!(table.contains("MONEY LEFT BEHIND:"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_facts_saying_no_deduplication_an_unknown_recharge_is_never_resent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.toml").to_str().unwrap().to_owned();
    let facts = UpstreamFacts {
        checked_at: "2026-12-02T09:00:00Z".into(),
        user_req_no_deduplicated: Verdict::No,
        ..Default::default()
    };
    facts.save(&path).unwrap();
    let app = common::spawn_with(|s| {
        s.upstream.facts_file = path.clone();
        s.idempotency.resend_after_no_trace_s = 1;
        s.idempotency.platform_dedupes = true;
    })
    .await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "10.00").await;
    // A proxy's 502: the outcome is unknown and the platform has no trace of the order.
    app.sim.inject(
        Operation::CardRecharge,
        card_gateway::simulator::Fault::once(card_gateway::simulator::FaultKind::HttpStatus { status: 502 }),
    );
    let path = format!("/v1/cards/{card}/recharges");
    let body = serde_json::json!({"amount": "2.00"});
    let first = app.post_key(&path, &t, "no-dedupe", body.clone()).await;
    assert_eq!(first.status, reqwest::StatusCode::ACCEPTED, "{}", first.text);
    assert_eq!(first.json["status"], "unknown");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    // Past the quiet period: with a de-duplicating platform this would be resent; here it is not.
    let retry = app.post_key(&path, &t, "no-dedupe", body).await;
    assert_eq!(retry.status, reqwest::StatusCode::ACCEPTED, "{}", retry.text);
    assert_eq!(retry.json["status"], "unknown", "{}", retry.text);
    assert_eq!(app.sim.calls(Operation::CardRecharge), 1, "never resent");
    assert!(app.sim.calls(Operation::OrderQuery) >= 1, "the platform was asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_inquiry_that_ignores_its_filter_still_settles_an_unknown_recharge_beyond_the_first_page() {
    // The gateway pages through order inquiry and matches rows itself in every case (the filter is
    // INFERRED), so the `order_query_filters_by_user_req_no` verdict needs no facts file to be safe.
    let app = common::spawn_with(|s| {
        s.upstream.timeout_ms = 700;
        s.simulator.sync_operation_webhooks = false;
        s.simulator.dialect.order_query_ignores_filter = true;
    })
    .await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "100.00").await;
    // More than one inquiry page (50) of other orders before the one looked for.
    for i in 0..55 {
        let r = app
            .post_key(
                &format!("/v1/cards/{card}/recharges"),
                &t,
                &format!("fill-{i}"),
                serde_json::json!({"amount": "1.00"}),
            )
            .await;
        assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
    }
    app.sim.inject(
        Operation::CardRecharge,
        card_gateway::simulator::Fault::once(card_gateway::simulator::FaultKind::CommitThenDelay { ms: 2_000 }),
    );
    let path = format!("/v1/cards/{card}/recharges");
    let body = serde_json::json!({"amount": "3.00"});
    let first = app.post_key(&path, &t, "unfiltered", body.clone()).await;
    assert_eq!(first.status, reqwest::StatusCode::ACCEPTED, "{}", first.text);
    let retry = app.post_key(&path, &t, "unfiltered", body).await;
    assert_eq!(retry.status, reqwest::StatusCode::OK, "{}", retry.text);
    assert_eq!(retry.json["status"], "succeeded", "{}", retry.text);
    assert_eq!(app.sim.calls(Operation::CardRecharge), 56, "never resent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_inquiry_that_ignores_its_filter_still_finds_the_new_order_among_many() {
    let app = common::spawn_with(|s| s.simulator.dialect.order_query_ignores_filter = true).await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "100.00").await;
    for i in 0..60 {
        let body = serde_json::json!({"amount": "1.00"});
        let r = app.post_key(&format!("/v1/cards/{card}/recharges"), &t, &format!("fill-{i}"), body).await;
        assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.text);
    }
    let mut http = settings(|_| {});
    http.upstream.mode = UpstreamMode::Http;
    http.upstream.base_url = app.sim.base_url();
    let opts = CheckOptions { allow_writes: true, yes: true, ..fast() };
    let r = upstream_check::run(&http, &opts, &mut |_| panic!("--yes was given")).await.unwrap();
    let table = r.to_table();
    assert_eq!(r.facts.order_query_filters_by_user_req_no, Verdict::No, "{table}");
    // More than a page of other orders came first, yet the new order was found.
    assert_eq!(step(&r, "order_query (by the recharge's userReqNo)").status, Severity::Info, "{table}");
    assert!(r.facts.order_visible_after_ms.is_some(), "{table}");
}

/// Creates a card through the gateway and reads it back: (create status, read status, read body).
async fn card_round_trip(app: &common::TestApp) -> (reqwest::StatusCode, reqwest::StatusCode, serde_json::Value) {
    let t = app.admin("acme");
    let body = serde_json::json!({"bin": "222929", "currency": "USD", "limit": "5.00"});
    let created = app.post_key("/v1/cards", &t, "dialect-card", body).await;
    let Some(id) = created.json["id"].as_str() else {
        return (created.status, reqwest::StatusCode::NOT_FOUND, created.json);
    };
    let read = app.get(&format!("/v1/cards/{id}"), &t).await;
    (created.status, read.status, read.json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_key_the_check_names_makes_the_gateway_work_in_that_dialect() {
    // Card inquiry on another path: the check names upstream.paths.card_info ...
    let moved = |s: &mut Settings| {
        s.simulator.dialect.paths.insert("card_info".into(), "/openapi/vcc/card/detail".into());
    };
    let r = check(&settings(moved)).await;
    assert_eq!(step(&r, "card_info (no such card)").config_key.as_deref(), Some("upstream.paths.card_info"));
    // ... the gateway cannot read cards until it is changed, and can after.
    let app = common::spawn_with(moved).await;
    let (_, read, _) = card_round_trip(&app).await;
    assert_ne!(read, reqwest::StatusCode::OK);
    let app = common::spawn_with(|s| {
        moved(s);
        s.upstream.paths.insert("card_info".into(), "/openapi/vcc/card/detail".into());
    })
    .await;
    let (created, read, card) = card_round_trip(&app).await;
    assert_eq!((created, read), (reqwest::StatusCode::CREATED, reqwest::StatusCode::OK), "{card}");

    // ISO date-times: the check names upstream.formats.datetime, but the gateway's wire leniency
    // already reads RFC 3339 times, before and after the key is changed.
    let iso = "%Y-%m-%dT%H:%M:%S%:z";
    for fixed in [false, true] {
        let app = common::spawn_with(|s| {
            s.simulator.dialect.datetime = iso.into();
            if fixed {
                s.upstream.formats.datetime = iso.into();
            }
        })
        .await;
        let (created, read, card) = card_round_trip(&app).await;
        assert_eq!((created, read), (reqwest::StatusCode::CREATED, reqwest::StatusCode::OK), "{card}");
        assert!(card["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "[fixed {fixed}] {card}");
    }

    // Optional fields left out: the gateway still reads the card.
    let app = common::spawn_with(|s| {
        s.simulator.dialect.omit_fields = vec!["cardStatusDesc".into(), "cardAlias".into(), "cardLabel".into()];
    })
    .await;
    let (created, read, card) = card_round_trip(&app).await;
    assert_eq!((created, read), (reqwest::StatusCode::CREATED, reqwest::StatusCode::OK), "{card}");

    // Error codes as numbers need no key: refusals still map to their problems.
    let app = common::spawn_with(|s| s.simulator.dialect.error_codes = ErrorCodeStyle::Number).await;
    let t = app.admin("acme");
    let body = serde_json::json!({"bin": "485932", "currency": "USD", "limit": "5.00"});
    let refused = app.post_key("/v1/cards", &t, "needs-holder", body).await;
    assert_eq!(refused.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    assert_eq!(refused.json["upstream_code"], "1200011", "{}", refused.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_inquiry_that_ignores_its_card_filter_is_the_verdict() {
    for ignores in [false, true] {
        let app = common::spawn_with(|s| s.simulator.transactions_ignore_card_filter = ignores).await;
        let t = app.admin("acme");
        let card = app.create_card(&t, "20.00").await;
        let spend = card_gateway::simulator::AuthorizationSpec {
            amount: Decimal::new(150, 2),
            merchant_name: Some("Shop".into()),
            ..Default::default()
        };
        app.sim.authorize(&card, &spend).unwrap();
        // A second card without transactions is the read-only check's comparison.
        app.create_card(&t, "5.00").await;
        let mut http = settings(|_| {});
        http.upstream.mode = UpstreamMode::Http;
        http.upstream.base_url = app.sim.base_url();
        let r = upstream_check::run(&http, &fast(), &mut |_| panic!("read-only")).await.unwrap();
        let table = r.to_table();
        let want = if ignores { Verdict::No } else { Verdict::Yes };
        assert_eq!(r.facts.transaction_query_filters_by_card_id, want, "{table}");
        assert!(table.contains(&format!("transaction inquiry filters by cardId: {want}")), "{table}");
        assert!(r.ok, "{table}");
    }
    // The write sequence's new card is the comparison when no other card is free of transactions.
    let app = common::spawn_with(|s| {
        s.simulator.transactions_ignore_card_filter = true;
        no_fees(s);
    })
    .await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "20.00").await;
    let spend = card_gateway::simulator::AuthorizationSpec { amount: Decimal::ONE, ..Default::default() };
    app.sim.authorize(&card, &spend).unwrap();
    let mut http = settings(|_| {});
    http.upstream.mode = UpstreamMode::Http;
    http.upstream.base_url = app.sim.base_url();
    let opts = CheckOptions { allow_writes: true, yes: true, ..fast() };
    let r = upstream_check::run(&http, &opts, &mut |_| panic!("--yes was given")).await.unwrap();
    assert_eq!(r.facts.transaction_query_filters_by_card_id, Verdict::No, "{}", r.to_table());
    // Nothing to compare on an empty platform: unknown, and the report says why.
    let r = check(&settings(|_| {})).await;
    assert_eq!(r.facts.transaction_query_filters_by_card_id, Verdict::Unknown);
    assert!(r.to_table().contains("no transactions in the last 7 days to compare"), "{}", r.to_table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_orders_visible_late_and_no_deduplication_the_gateway_waits_for_the_order_instead_of_resending() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("facts.toml").to_str().unwrap().to_owned();
    // What the check measures on such a platform.
    let measured = check(&settings(|s| {
        s.simulator.dedupe_requests = false;
        s.simulator.dialect.order_visible_after_ms = 1_500;
    }))
    .await;
    assert_eq!(measured.facts.user_req_no_deduplicated, Verdict::No, "{}", measured.to_table());
    assert!(measured.facts.order_visible_after_ms.is_some_and(|ms| ms >= 1_500), "{}", measured.to_table());
    measured.facts.save(&path).unwrap();

    let app = common::spawn_with(|s| {
        s.upstream.facts_file = path.clone();
        s.upstream.timeout_ms = 700;
        // A quiet period shorter than the platform's delay: without the facts this would resend.
        s.idempotency.resend_after_no_trace_s = 1;
        s.simulator.sync_operation_webhooks = false;
        s.simulator.dedupe_requests = false;
        s.simulator.dialect.order_visible_after_ms = 1_500;
    })
    .await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "10.00").await;
    app.sim.inject(
        Operation::CardRecharge,
        card_gateway::simulator::Fault::once(card_gateway::simulator::FaultKind::CommitThenDelay { ms: 1_000 }),
    );
    let url = format!("/v1/cards/{card}/recharges?expand=card");
    let body = serde_json::json!({"amount": "2.00"});
    let first = app.post_key(&url, &t, "late-order", body.clone()).await;
    assert_eq!(first.status, reqwest::StatusCode::ACCEPTED, "{}", first.text);
    // Past the quiet period, before the order shows: still unknown, not resent.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let early = app.post_key(&url, &t, "late-order", body.clone()).await;
    assert_eq!(early.json["status"], "unknown", "{}", early.text);
    assert_eq!(app.sim.calls(Operation::CardRecharge), 1, "not resent");
    // Once it shows, the same key finds it: one recharge, paid once.
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let later = app.post_key(&url, &t, "late-order", body).await;
    assert_eq!(later.status, reqwest::StatusCode::OK, "{}", later.text);
    assert_eq!(later.json["result"]["balance"], "12.00", "{}", later.text);
    assert_eq!(app.sim.calls(Operation::CardRecharge), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_apply_that_timed_out_after_committing_is_found_and_cancelled() {
    let s = settings(no_fees);
    let sim = common::start_simulator(&s).await;
    sim.inject(
        Operation::CardApply,
        card_gateway::simulator::Fault::once(card_gateway::simulator::FaultKind::CommitThenDelay { ms: 1_500 }),
    );
    let mut http = s.clone();
    http.upstream.mode = UpstreamMode::Http;
    http.upstream.base_url = sim.base_url();
    http.upstream.timeout_ms = 500;
    let opts = CheckOptions { allow_writes: true, yes: true, ..fast() };
    let r = upstream_check::run(&http, &opts, &mut |_| panic!("--yes was given")).await.unwrap();
    let table = r.to_table();
    assert_eq!(step(&r, "card_apply").status, Severity::Fail, "{table}");
    // The card the platform created anyway was found by order inquiry and cancelled.
    let state = sim.state();
    assert_eq!(state.cards.len(), 1, "{table}");
    assert_eq!(format!("{:?}", state.cards[0].status), "Cancelled", "{table}");
    assert_eq!(state.ledger.merchant, state.ledger.initial, "{table}");
    assert!(r.left_behind.is_empty(), "{table}");
}
