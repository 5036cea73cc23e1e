//! Rate limiting end to end: accuracy over a 10 s burst, one limit shared by three gateways on one
//! Redis, header syntax, tenant isolation, and "a 429 stores nothing".

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use card_gateway::config::rate_limit::{LimiterBackend, Quota};
use reqwest::StatusCode;
use serde_json::json;

use crate::{
    common::{TestApp, spawn_settings, spawn_with, test_settings},
    support::use_redis,
};

const RATE: f64 = 20.0;
const BURST: u32 = 10;

fn limited(s: &mut card_gateway::config::Settings) {
    s.rate_limit.classes.read = Quota { rate_per_s: RATE, burst: BURST };
}

/// Hammers `GET /v1/reference/currencies` (no upstream call) from `workers` loops for `secs` seconds
/// across `apps`; returns (admitted, rejected).
async fn hammer(apps: &[&TestApp], token: &str, secs: f64, workers: usize) -> (u64, u64) {
    let ok = Arc::new(AtomicU64::new(0));
    let limited = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for w in 0..workers {
        let app = apps[w % apps.len()];
        let (client, url, token) =
            (app.client.clone(), format!("{}/v1/reference/currencies", app.base), token.to_owned());
        let (ok, limited) = (ok.clone(), limited.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                match client.get(&url).bearer_auth(&token).send().await.map(|r| r.status()) {
                    Ok(StatusCode::OK) => ok.fetch_add(1, Ordering::Relaxed),
                    Ok(StatusCode::TOO_MANY_REQUESTS) => limited.fetch_add(1, Ordering::Relaxed),
                    other => panic!("unexpected {other:?}"),
                };
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (ok.load(Ordering::Relaxed), limited.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread")]
async fn over_a_ten_second_burst_admissions_stay_within_burst_plus_rate_times_t() {
    let app = spawn_with(limited).await;
    let t = app.admin("acme");
    let started = Instant::now();
    let (ok, rejected) = hammer(&[&app], &t, 10.0, 8).await;
    let elapsed = started.elapsed().as_secs_f64();
    let ceiling = f64::from(BURST) + RATE * elapsed;
    assert!(rejected > 0, "the burst was large enough to be limited");
    assert!((ok as f64) <= ceiling + 1.0, "admitted {ok} > {ceiling:.1}");
    assert!(
        (ok as f64) >= 0.95 * (f64::from(BURST) + RATE * 10.0),
        "admitted {ok} < 95 % of {}",
        f64::from(BURST) + RATE * 10.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn three_gateways_on_one_redis_share_one_limit() {
    let Some(server) = card_gateway::testing::redis_server::RedisServer::start() else { return };
    let mut settings = test_settings();
    limited(&mut settings);
    use_redis(&mut settings, &server);
    settings.rate_limit.backend = LimiterBackend::Redis;
    // A generous deadline: a timed-out call falls back to per-replica limiting (by design), which
    // this test must not mistake for the shared limit.
    settings.redis.timeout_ms = 2_000;
    let a = spawn_settings(settings.clone()).await;
    let b = spawn_settings(settings.clone()).await;
    let c = spawn_settings(settings).await;
    let t = a.admin("acme");
    let started = Instant::now();
    let (ok, _) = hammer(&[&a, &b, &c], &t, 5.0, 9).await;
    let elapsed = started.elapsed().as_secs_f64();
    let ceiling = (f64::from(BURST) + RATE * elapsed) * 1.01;
    assert!((ok as f64) <= ceiling + 1.0, "three replicas admitted {ok} > {ceiling:.1}");
    assert!((ok as f64) >= 0.9 * (f64::from(BURST) + RATE * 5.0), "admitted only {ok}");
}

#[tokio::test(flavor = "multi_thread")]
async fn limited_responses_carry_conformant_headers() {
    let app = spawn_with(limited).await;
    let t = app.admin("acme");
    let policy = "\"read\";q=10;w=1".to_owned();
    let mut saw_429 = false;
    // Concurrent, so the burst is exhausted before tokens refill even on a busy machine.
    let responses =
        futures_util::future::join_all((0..(BURST * 3)).map(|_| app.get("/v1/reference/currencies", &t))).await;
    for r in responses {
        assert_eq!(r.header("ratelimit-policy"), Some(policy.as_str()), "{:?}", r.headers);
        let rl = r.header("ratelimit").unwrap().to_owned();
        let (name, rest) = rl.split_once(';').unwrap();
        assert_eq!(name, "\"read\"");
        let params: Vec<&str> = rest.split(';').collect();
        assert!(params[0].strip_prefix("r=").unwrap().parse::<u64>().is_ok(), "{rl}");
        assert!(params[1].strip_prefix("t=").unwrap().parse::<u64>().is_ok(), "{rl}");
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            saw_429 = true;
            assert!(r.is_problem());
            assert_eq!(r.code(), "rate_limited");
            let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!(retry >= 1);
            assert!(rl.starts_with("\"read\";r=0;"), "{rl}");
        }
    }
    assert!(saw_429);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_noisy_tenant_does_not_change_a_quiet_tenants_success_rate() {
    let app = spawn_with(limited).await;
    let noisy = app.admin("noisy");
    let quiet = app.admin("quiet");
    let stop = Arc::new(AtomicBool::new(false));
    let noisy_limited = Arc::new(AtomicU64::new(0));
    let mut loops = Vec::new();
    for _ in 0..6 {
        let (client, url, token, stop) =
            (app.client.clone(), format!("{}/v1/reference/currencies", app.base), noisy.clone(), stop.clone());
        let noisy_limited = noisy_limited.clone();
        loops.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(r) = client.get(&url).bearer_auth(&token).send().await
                    && r.status() == StatusCode::TOO_MANY_REQUESTS
                {
                    noisy_limited.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut ok = 0;
    for _ in 0..30 {
        // 10 requests/s: half the quiet tenant's rate.
        tokio::time::sleep(Duration::from_millis(100)).await;
        if app.get("/v1/reference/currencies", &quiet).await.status == StatusCode::OK {
            ok += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for l in loops {
        l.await.unwrap();
    }
    assert_eq!(ok, 30, "every quiet request admitted while the noisy tenant was being limited");
    assert!(noisy_limited.load(Ordering::Relaxed) > 0, "the noisy tenant was limited");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_creates_no_idempotency_record() {
    let app = spawn_with(|s| s.rate_limit.classes.write = Quota { rate_per_s: 0.5, burst: 1 }).await;
    let t = app.admin("acme");
    let body = json!({"bin": "222929", "currency": "USD", "limit": "1.00"});
    let first = app.post_key("/v1/cards", &t, "w-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let limited = app.post_key("/v1/cards", &t, "w-2", body.clone()).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let later = app.post_key("/v1/cards", &t, "w-2", body).await;
    assert_eq!(later.status, StatusCode::CREATED, "processed, not a replay of the 429: {}", later.text);
    assert!(later.header("idempotent-replayed").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_money_caps_refuse_issuing_and_recharges_beyond_the_cap() {
    let app = spawn_with(|s| {
        s.rate_limit.money_caps.insert("USD".into(), "150.00".parse().unwrap());
    })
    .await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "100.00").await;
    let over = app.post(&format!("/v1/cards/{card}/recharges"), &t, json!({"amount": "60.00"})).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", over.text);
    assert_eq!(over.code(), "daily_money_cap_exceeded");
    assert_eq!(app.sim.calls(card_gateway::upstream::Operation::CardRecharge), 0);
    let fits = app.post(&format!("/v1/cards/{card}/recharges"), &t, json!({"amount": "50.00"})).await;
    assert_eq!(fits.status, StatusCode::OK, "{}", fits.text);
    // A refused recharge gives its reservation back.
    let other = app.create_card(&app.admin("other"), "150.00").await;
    assert!(!other.is_empty(), "caps are per tenant");
    let refused = app.post(&format!("/v1/cards/{card}/refunds"), &t, json!({"amount": "500.00"})).await;
    assert!(refused.status.is_client_error());
}

#[tokio::test(flavor = "multi_thread")]
async fn crypto_withdrawals_need_treasury_write_and_count_against_the_daily_money_cap() {
    use card_gateway::auth::Scope;
    let app = spawn_with(|s| {
        s.rate_limit.money_caps.insert("USDT".into(), "25.00".parse().unwrap());
    })
    .await;
    let to = "TQ5aY1n7Wn4v6Qe6yYvLh9v5Xn3y8k2ZsN";
    let body = |amount: &str| json!({"amount": amount, "currency": "USDT", "chain": "TRON", "to_address": to});
    // An ordinary tenant token (crypto:write and every other tenant scope) cannot move merchant money out.
    let tenant = app.token("acme", &Scope::tenant_scopes());
    let refused = app.post("/v1/crypto/withdrawals", &tenant, body("10.00")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let treasury = app.token("acme", &[Scope::TreasuryWrite]);
    let first = app.post("/v1/crypto/withdrawals", &treasury, body("20.00")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let over = app.post("/v1/crypto/withdrawals", &treasury, body("10.00")).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", over.text);
    assert_eq!(over.code(), "daily_money_cap_exceeded");
    assert_eq!(app.sim.calls(card_gateway::upstream::Operation::DptWithdraw), 1, "the refused ones reached nothing");
    let fits = app.post("/v1/crypto/withdrawals", &treasury, body("5.00")).await;
    assert_eq!(fits.status, StatusCode::CREATED, "{}", fits.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_redis_a_first_recharge_takes_three_round_trips_a_replay_one_and_a_read_two() {
    let Some(server) = card_gateway::testing::redis_server::RedisServer::start() else { return };
    let mut settings = test_settings();
    use_redis(&mut settings, &server);
    settings.rate_limit.backend = LimiterBackend::Redis;
    // No webhook comes back during the count (its own Redis work would be counted).
    settings.simulator.webhook_url = "http://127.0.0.1:9/unreachable".into();
    let app = spawn_settings(settings).await;
    let t = app.admin("trips");
    let card = app.create_card(&t, "100.00").await;
    let monitor = crate::support::Monitor::start(&server);
    let path = format!("/v1/cards/{card}/recharges");
    let (first, r) = monitor.round_trips("first", app.post_key(&path, &t, "rt-1", json!({"amount": "5.00"}))).await;
    assert!(r.status.is_success(), "{}", r.text);
    // Rate limit + idempotency begin (one script), the operation's create, then its settlement and the
    // stored answer (one script).
    assert_eq!(first.len(), 3, "round trips of a first recharge: {first:#?}");
    let (replay, r) = monitor.round_trips("replay", app.post_key(&path, &t, "rt-1", json!({"amount": "5.00"}))).await;
    assert_eq!(r.header("idempotent-replayed"), Some("true"), "{}", r.text);
    assert_eq!(replay.len(), 1, "a replay is the rate limit and the begin, in one script: {replay:#?}");
    // (Warm: a script's first use on a Redis costs a NOSCRIPT + SCRIPT LOAD round trip more, once.)
    assert_eq!(app.get(&format!("/v1/cards/{card}"), &t).await.status, StatusCode::OK);
    let (read, r) = monitor.round_trips("read", app.get(&format!("/v1/cards/{card}"), &t)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The rate-limit charge, then the card's ownership record and metadata read fresh (metadata is
    // mutable and another replica may have changed it), pipelined: GET + HGETALL in one round trip.
    // (Issue 9 wants one: folding that read into the charge's script is the way there.)
    assert_eq!(read.len(), 3, "a read's commands: {read:#?}");
    assert!(read[0].contains("\"EVALSHA\""), "{read:#?}");
    let connection = |l: &str| l.split(" [").nth(1).and_then(|r| r.split(']').next()).map(str::to_owned);
    assert!(read[1].contains("\"GET\"") && read[2].contains("\"HGETALL\""), "{read:#?}");
    assert_eq!(connection(&read[1]), connection(&read[2]), "one pipeline on one connection: {read:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_redis_a_write_charged_inside_the_begin_script_is_limited_with_the_same_headers_and_leaves_no_record() {
    let Some(server) = card_gateway::testing::redis_server::RedisServer::start() else { return };
    let mut settings = test_settings();
    use_redis(&mut settings, &server);
    settings.rate_limit.backend = LimiterBackend::Redis;
    settings.rate_limit.classes.write = Quota { rate_per_s: 0.01, burst: 2 };
    let app = spawn_settings(settings).await;
    let t = app.admin("charged");
    let body = json!({"bin": "222929", "currency": "USD", "limit": "1.00"});
    let first = app.post_key("/v1/cards", &t, "g-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.header("ratelimit-policy"), Some("\"write\";q=2;w=200"), "{:?}", first.headers);
    assert!(first.header("ratelimit").is_some_and(|v| v.starts_with("\"write\";r=1;")), "{:?}", first.headers);
    let second = app.post_key("/v1/cards", &t, "g-2", body.clone()).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert!(second.header("ratelimit").is_some_and(|v| v.starts_with("\"write\";r=0;")), "{:?}", second.headers);
    let refused = app.post_key("/v1/cards", &t, "g-3", body.clone()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text);
    assert_eq!(refused.code(), "rate_limited");
    assert!(refused.header("retry-after").is_some());
    // The refused key holds no record: the idempotency store never saw it.
    let mut conn = redis::Client::open(server.url()).unwrap().get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*idem:*").query(&mut conn).unwrap();
    assert_eq!(keys.len(), 2, "records for g-1 and g-2 only: {keys:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_redis_writes_refused_before_the_begin_script_still_pay_their_rate_limit_charge() {
    let Some(server) = card_gateway::testing::redis_server::RedisServer::start() else { return };
    let mut settings = test_settings();
    use_redis(&mut settings, &server);
    settings.rate_limit.backend = LimiterBackend::Redis;
    settings.rate_limit.classes.write = Quota { rate_per_s: 0.01, burst: 2 };
    let app = spawn_settings(settings).await;
    let t = app.admin("early");
    let body = json!({"bin": "222929", "currency": "USD", "limit": "1.00"});
    // Two writes without an Idempotency-Key: refused (400) before any begin, yet charged.
    for _ in 0..2 {
        let r = app.send(reqwest::Method::POST, "/v1/cards", Some(&t), None, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    }
    let r = app.send(reqwest::Method::POST, "/v1/cards", Some(&t), None, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "the allowance is spent: {}", r.text);
    let valid = app.post_key("/v1/cards", &t, "k-1", body).await;
    assert_eq!(valid.status, StatusCode::TOO_MANY_REQUESTS, "{}", valid.text);
}
