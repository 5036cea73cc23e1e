//! Webhook load generator (run by `bench/webhooks.sh`; not a test).
//!
//! Starts the gateway in-process on 127.0.0.1 (event log on Redis when `BENCH_REDIS_URL` is set, else in
//! memory), one tenant with cards and one endpoint served by an in-process receiver, then:
//! 1. baseline: `GET /healthz` (a no-op route on the same server) at the same concurrency;
//! 2. inbound: N distinct sealed `card_transaction` webhooks POSTed with C in flight → webhooks/s until
//!    every one was acknowledged `SUCCESS`;
//! 3. end to end under that saturating load: time from the platform's POST to the tenant receiver's
//!    arrival (p50/p99; mostly queueing, since inbound outruns delivery);
//! 4. end to end at a paced rate below capacity (BENCH_RATE/s for BENCH_LAT_N webhooks): the latency a
//!    tenant sees in normal operation.
//!
//! Env: BENCH_N (default 5000), BENCH_CONCURRENCY (32), BENCH_RATE (200), BENCH_LAT_N (1000),
//! BENCH_REDIS_URL (empty = memory).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{App, HttpResponse, HttpServer, web};
use card_gateway::{
    auth::{Scope, dev_tokens},
    config::{Settings, stores::StoreKind, upstream::UpstreamMode},
    dev_keys,
    envelope::{EnvelopeCodec, PrivateKey},
    sensitive::SecretString,
    startup::Application,
    tenancy::{ObjectKind, ObjectMeta, TenantId},
};
use futures_util::{StreamExt as _, stream};
use parking_lot::Mutex;
use serde_json::json;

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Sorted POST→arrival latencies of the records with `prefix`, and how many arrived.
fn latencies(
    sent: &HashMap<String, Instant>,
    arrivals: &HashMap<String, Instant>,
    prefix: &str,
) -> (Vec<Duration>, usize) {
    let mut lat: Vec<Duration> = sent
        .iter()
        .filter(|(r, _)| r.starts_with(prefix))
        .filter_map(|(r, t0)| arrivals.get(r).map(|t1| t1.saturating_duration_since(*t0)))
        .collect();
    lat.sort();
    let n = lat.len();
    (lat, n)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn fire<F, Fut>(n: usize, concurrency: usize, f: F) -> Duration
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    stream::iter(0..n).map(f).buffer_unordered(concurrency).for_each(|()| async {}).await;
    started.elapsed()
}

#[actix_web::main]
async fn main() {
    let n = env("BENCH_N", 5000);
    let concurrency = env("BENCH_CONCURRENCY", 32);
    let redis_url = std::env::var("BENCH_REDIS_URL").unwrap_or_default();

    // The tenant's receiver: records when each event (by its record number) arrived.
    let arrivals: Arrivals = Arc::new(Mutex::new(HashMap::with_capacity(n)));
    let rx_state = web::Data::new(arrivals.clone());
    let rx = HttpServer::new(move || {
        App::new().app_data(rx_state.clone()).default_service(web::to(
            |body: web::Bytes, st: web::Data<Arrivals>| async move {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if let Some(id) = v["data"]["id"].as_str() {
                    st.lock().entry(id.to_owned()).or_insert_with(Instant::now);
                }
                HttpResponse::NoContent().finish()
            },
        ))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let rx_port = rx.addrs()[0].port();
    tokio::spawn(rx.run());

    let mut s = Settings::defaults().unwrap();
    s.server.listen = "127.0.0.1:0".into();
    s.log.filter = "warn".into();
    s.upstream.mode = UpstreamMode::Http;
    s.upstream.base_url = "http://127.0.0.1:9".into();
    s.rate_limit.enabled = false;
    s.webhooks.allow_private_targets = true;
    s.webhooks.delivery_poll_ms = 50;
    s.webhooks.delivery_concurrency_per_endpoint = 32;
    if !redis_url.is_empty() {
        s.redis.url = SecretString::new(redis_url.clone());
        s.redis.key_prefix = format!("bench{}", std::process::id());
        s.redis.connections = 2;
        s.tenancy.store = StoreKind::Redis;
        s.webhooks.event_store = StoreKind::Redis;
    }
    card_gateway::telemetry::init(&s.log);
    let app = Application::build(s.clone()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());

    let tenant = TenantId::parse("bench").unwrap();
    let cards: Vec<String> = (0..50).map(|i| format!("card-bench-{i}")).collect();
    for c in &cards {
        let meta = ObjectMeta { created_ms: 0, ..Default::default() };
        state.ownership.claim(&tenant, ObjectKind::Card, c, &meta).await.unwrap();
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap();
    let token = dev_tokens::mint(&s, "bench", &Scope::tenant_scopes(), 3600).unwrap();
    let r = client
        .post(format!("{base}/v1/webhook-endpoints"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "bench-endpoint")
        .header("content-type", "application/json")
        .body(json!({"url": format!("http://127.0.0.1:{rx_port}/hook")}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Seal every webhook up front: sealing is the platform's cost, not ours.
    let platform = EnvelopeCodec::new(
        PrivateKey::parse(dev_keys::PLATFORM_PRIVATE_PEM).unwrap(),
        PrivateKey::parse(dev_keys::MERCHANT_PRIVATE_PEM).unwrap().public_key().unwrap(),
    );
    let seal = |prefix: &str, i: usize| {
        let record = format!("{prefix}{i:07}");
        let data = json!({"recordNo": record, "cardId": cards[i % cards.len()], "transactionTime": "2026-11-25 20:00:00",
                "transCurrency": "USD", "transCurrencyAmt": "12.34", "localCurrency": "USD", "localCurrencyAmt": "12.34",
                "merchantName": "Bench Shop", "transType": "1", "transStatus": "1", "transCategory": 1,
                "respCode": "000000", "respCodeDesc": "approved"});
        let body = json!({"type": "card_transaction", "data": platform.seal(&data).unwrap(), "version": "1.0.0", "userNo": s.upstream.merchant_no});
        (record, serde_json::to_vec(&body).unwrap())
    };
    let bodies: Vec<(String, Vec<u8>)> = (0..n).map(|i| seal("B", i)).collect();
    let lat_n = env("BENCH_LAT_N", 1000);
    let rate = env("BENCH_RATE", 200).max(1);
    let paced: Vec<(String, Vec<u8>)> = (0..lat_n).map(|i| seal("L", i)).collect();

    // Warm-up (connections, caches), then the baseline on the same server.
    let health = format!("{base}/healthz");
    fire(500, concurrency, |_| async {
        client.get(&health).send().await.unwrap().bytes().await.unwrap();
    })
    .await;
    let base_elapsed = fire(n, concurrency, |_| async {
        let r = client.get(&health).send().await.unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
    })
    .await;

    let url = format!("{base}/webhooks/merchant");
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::with_capacity(n)));
    let bodies = Arc::new(bodies);
    let in_elapsed = fire(n, concurrency, |i| {
        let (client, url, sent, bodies) = (client.clone(), url.clone(), sent.clone(), bodies.clone());
        async move {
            let (record, body) = &bodies[i];
            sent.lock().insert(record.clone(), Instant::now());
            let r =
                client.post(&url).header("content-type", "application/json").body(body.clone()).send().await.unwrap();
            let text = r.text().await.unwrap();
            assert_eq!(text, "SUCCESS", "webhook {record} not acknowledged");
        }
    })
    .await;

    // Wait for every delivery (bounded).
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrivals.lock().len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered_all = Instant::now();
    let (lat, delivered) = latencies(&sent.lock(), &arrivals.lock(), "B");
    let first_sent = sent.lock().values().min().copied().unwrap_or_else(Instant::now);

    // Paced: one webhook every 1/rate s, each on its own task (open loop).
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut ticker = tokio::time::interval(interval);
    let mut tasks = Vec::with_capacity(lat_n);
    for (record, body) in paced.iter().cloned() {
        ticker.tick().await;
        let (client, url, sent) = (client.clone(), url.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            sent.lock().insert(record, Instant::now());
            let r = client.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
            assert_eq!(r.text().await.unwrap(), "SUCCESS");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while latencies(&sent.lock(), &arrivals.lock(), "L").1 < lat_n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (paced_lat, paced_delivered) = latencies(&sent.lock(), &arrivals.lock(), "L");

    println!("store:                 {}", if redis_url.is_empty() { "memory" } else { "redis" });
    println!("webhooks:              {n} distinct card_transaction, {concurrency} in flight, 1 endpoint");
    println!("baseline GET /healthz: {:>8.0} req/s", n as f64 / base_elapsed.as_secs_f64());
    println!(
        "inbound webhooks:      {:>8.0} webhooks/s (every one acknowledged SUCCESS after being recorded)",
        n as f64 / in_elapsed.as_secs_f64()
    );
    println!(
        "end to end at saturation:   p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; delivered {delivered}/{n}; all delivered {:.2} s after the first POST",
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
        delivered_all.duration_since(first_sent).as_secs_f64(),
    );
    println!(
        "end to end at {rate}/s paced:  p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; delivered {paced_delivered}/{lat_n}",
        ms(percentile(&paced_lat, 0.50)),
        ms(percentile(&paced_lat, 0.99)),
        ms(paced_lat.last().copied().unwrap_or_default()),
    );
    handle.stop(true).await;
    let _ = server.await;
}
