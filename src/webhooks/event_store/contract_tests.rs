//! One contract, run on the memory and the Redis event log.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use serde_json::json;

use super::{memory::MemoryEventStore, redis::RedisEventStore};
use crate::{
    storage::redis::RedisPool,
    tenancy::TenantId,
    testing::redis_server::{RedisCluster, RedisServer},
    webhooks::events::{DeadLetter, Event, EventObject, EventStore, LogQuery, Retention},
};

fn t(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

fn ev(id: &str, kind: &str, object: &str) -> Event {
    Event {
        id: id.to_owned(),
        kind: kind.to_owned(),
        created_at: Utc::now(),
        occurred_at: None,
        object: EventObject { kind: "card".into(), id: object.to_owned() },
        data: json!({"card_id": object}),
    }
}

fn keep() -> Retention {
    Retention {
        max_age: Duration::from_secs(3600),
        max_len: 10_000,
        secret_ttl: Duration::from_secs(60),
        dedupe_for: Duration::from_secs(3600),
    }
}

async fn concurrent_duplicates_make_one_entry(s: Arc<dyn EventStore>) {
    let e = ev("evt_dup", "card.transaction", "c1");
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (s, e) = (s.clone(), e.clone());
            tokio::spawn(async move { s.append(&t("a"), &e, None, &keep()).await.unwrap() })
        })
        .collect();
    let mut news = 0;
    let mut positions = Vec::new();
    for task in tasks {
        let r = task.await.unwrap();
        news += usize::from(r.new);
        positions.push(r.position);
    }
    assert_eq!(news, 1, "exactly one append wins");
    positions.dedup();
    assert_eq!(positions.len(), 1, "duplicates report the first position");
    assert_eq!(s.read_after(&t("a"), None, 100).await.unwrap().len(), 1);
    assert!(s.read_after(&t("b"), None, 100).await.unwrap().is_empty(), "other tenants see nothing");
}

async fn lists_page_newest_first_and_filter_by_type_and_object(s: Arc<dyn EventStore>) {
    for i in 0..30 {
        let kind = if i % 3 == 0 { "card.fee" } else { "card.transaction" };
        s.append(&t("a"), &ev(&format!("evt_{i:02}"), kind, &format!("c{}", i % 2)), None, &keep()).await.unwrap();
        s.append(&t("b"), &ev(&format!("evt_b{i:02}"), kind, "c0"), None, &keep()).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut q = LogQuery { limit: 7, ..Default::default() };
    loop {
        let page = s.list(&t("a"), &q).await.unwrap();
        assert!(page.entries.len() <= 7);
        seen.extend(page.entries.iter().map(|l| l.event.id.clone()));
        match page.next {
            Some(n) => q.before = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 30);
    assert_eq!(seen[0], "evt_29", "newest first");
    assert!(seen.iter().all(|id| !id.starts_with("evt_b")), "no other tenant's events");
    let fees =
        s.list(&t("a"), &LogQuery { limit: 100, kind: Some("card.fee".into()), ..Default::default() }).await.unwrap();
    assert_eq!(fees.entries.len(), 10);
    assert!(fees.entries.iter().all(|l| l.event.kind == "card.fee"));
    let c1 =
        s.list(&t("a"), &LogQuery { limit: 100, object_id: Some("c1".into()), ..Default::default() }).await.unwrap();
    assert_eq!(c1.entries.len(), 15);
    let ids: Vec<_> = c1.entries.iter().map(|l| l.event.id.clone()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "per-object order is append order");
}

async fn read_after_resumes_and_get_finds_by_id(s: Arc<dyn EventStore>) {
    let mut positions = Vec::new();
    for i in 0..5 {
        positions
            .push(s.append(&t("r"), &ev(&format!("evt_r{i}"), "card.fee", "x"), None, &keep()).await.unwrap().position);
    }
    let after = s.read_after(&t("r"), Some(&positions[1]), 10).await.unwrap();
    assert_eq!(after.iter().map(|l| l.event.id.as_str()).collect::<Vec<_>>(), ["evt_r2", "evt_r3", "evt_r4"]);
    assert_eq!(s.head(&t("r")).await.unwrap().as_deref(), Some(positions[4].as_str()));
    assert_eq!(s.get(&t("r"), "evt_r3").await.unwrap().unwrap().position, positions[3]);
    assert!(s.get(&t("a-other"), "evt_r3").await.unwrap().is_none());
}

async fn secrets_expire_but_the_event_stays(s: Arc<dyn EventStore>) {
    let short = Retention { secret_ttl: Duration::from_millis(150), ..keep() };
    s.append(&t("o"), &ev("evt_otp", "card.3ds_otp", "c"), Some(&json!({"otp": "123456"})), &short).await.unwrap();
    let l = s.get(&t("o"), "evt_otp").await.unwrap().unwrap();
    assert_eq!(l.public().data["otp"], "123456");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let l = s.get(&t("o"), "evt_otp").await.unwrap().unwrap();
    assert!(l.secret.is_none());
    assert!(l.public().data.get("otp").is_none());
}

async fn retention_trims_by_length(s: Arc<dyn EventStore>) {
    let small = Retention { max_len: 3, ..keep() };
    for i in 0..250 {
        s.append(&t("trim"), &ev(&format!("evt_t{i}"), "card.fee", "x"), None, &small).await.unwrap();
    }
    // Redis trims approximately (`MAXLEN ~`), whole macro-nodes at a time; never below the bound.
    let n = s.read_after(&t("trim"), None, 1000).await.unwrap().len();
    assert!((3..250).contains(&n), "{n}");
}

async fn an_event_that_left_the_log_is_still_a_duplicate_within_the_dedupe_window(s: Arc<dyn EventStore>) {
    let short = Retention { max_age: Duration::from_millis(300), max_len: 3, ..keep() };
    let first = ev("evt_gone", "card.fee", "g");
    assert!(s.append(&t("dd"), &first, None, &short).await.unwrap().new);
    tokio::time::sleep(Duration::from_millis(600)).await;
    for i in 0..50 {
        s.append(&t("dd"), &ev(&format!("evt_dd{i}"), "card.fee", "g"), None, &short).await.unwrap();
    }
    // (Redis trims streams approximately, so whether the entry is still there is not asserted.)
    assert!(!s.append(&t("dd"), &first, None, &short).await.unwrap().new, "remembered past the log's age");
    assert!(
        !s.append(&t("dd"), &ev("evt_dd0", "card.fee", "g"), None, &short).await.unwrap().new,
        "trimmed by length too"
    );
    let copies = s.read_after(&t("dd"), None, 1000).await.unwrap().iter().filter(|l| l.event.id == "evt_gone").count();
    assert!(copies <= 1, "never recorded twice: {copies}");
}

async fn dead_letters_are_deduplicated_and_paged(s: Arc<dyn EventStore>) {
    for i in 0..5 {
        let d = DeadLetter {
            id: format!("evt_dl{i}"),
            reason: "unknown_card".into(),
            webhook_type: "card_transaction".into(),
            received_at: Utc::now(),
            event: ev(&format!("evt_dl{i}"), "card.transaction", "nobody"),
        };
        assert!(s.dead_letter(&d, 100).await.unwrap());
        assert!(!s.dead_letter(&d, 100).await.unwrap(), "duplicate");
    }
    let (first, next) = s.dead_letters(None, 3).await.unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(first[0].1.id, "evt_dl4");
    let (rest, none) = s.dead_letters(next.as_deref(), 3).await.unwrap();
    assert_eq!(rest.len(), 2);
    assert!(none.is_none());
}

async fn run_all(make: impl Fn() -> Arc<dyn EventStore>) {
    concurrent_duplicates_make_one_entry(make()).await;
    lists_page_newest_first_and_filter_by_type_and_object(make()).await;
    read_after_resumes_and_get_finds_by_id(make()).await;
    secrets_expire_but_the_event_stays(make()).await;
    retention_trims_by_length(make()).await;
    dead_letters_are_deduplicated_and_paged(make()).await;
    an_event_that_left_the_log_is_still_a_duplicate_within_the_dedupe_window(make()).await;
}

#[tokio::test]
async fn memory_event_store_meets_the_contract() {
    run_all(|| Arc::new(MemoryEventStore::new())).await;
}

fn redis_stores(pool: impl Fn(&str) -> RedisPool) -> impl Fn() -> Arc<dyn EventStore> {
    let n = std::sync::atomic::AtomicU32::new(0);
    move || {
        let prefix = format!("ev{}", n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        Arc::new(RedisEventStore::new(pool(&prefix), 60_000))
    }
}

#[tokio::test]
async fn redis_cluster_event_store_meets_the_contract() {
    let Some(cluster) = RedisCluster::start() else { return };
    run_all(redis_stores(|p| cluster.pool(p))).await;
}

#[tokio::test]
async fn tls_redis_event_store_meets_the_contract() {
    let Some(server) = RedisServer::start_tls() else { return };
    run_all(redis_stores(|p| server.pool(p))).await;
}

#[tokio::test]
async fn redis_event_store_meets_the_contract() {
    let Some(server) = RedisServer::start() else { return };
    let n = std::sync::atomic::AtomicU32::new(0);
    run_all(|| {
        let prefix = format!("ev{}", n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let pool = RedisPool::connect(&server.url(), 4, Duration::from_secs(2), &prefix).unwrap();
        Arc::new(RedisEventStore::new(pool, 60_000))
    })
    .await;
}
