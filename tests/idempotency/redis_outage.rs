//! Redis paused, then killed: state-changing routes fail closed (503 + Retry-After) within the Redis
//! deadline, reads of known objects keep working, and everything recovers.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    common::{spawn_settings, test_settings},
    support::use_redis,
};

#[tokio::test(flavor = "multi_thread")]
async fn writes_fail_closed_and_reads_keep_working_while_redis_is_down() {
    let Some(mut server) = card_gateway::testing::redis_server::RedisServer::start() else { return };
    let mut settings = test_settings();
    use_redis(&mut settings, &server);
    settings.redis.timeout_ms = 300;
    let app = spawn_settings(settings).await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "10.00").await;
    assert_eq!(app.get(&format!("/v1/cards/{card}"), &t).await.status, StatusCode::OK);

    for phase in ["paused", "killed"] {
        if phase == "paused" {
            server.pause();
        } else {
            server.resume();
            server.kill();
        }
        let started = Instant::now();
        let w = app.post(&format!("/v1/cards/{card}/recharges"), &t, json!({"amount": "1.00"})).await;
        let took = started.elapsed();
        assert_eq!(w.status, StatusCode::SERVICE_UNAVAILABLE, "[{phase}] {}", w.text);
        assert!(w.is_problem());
        assert!(w.header("retry-after").is_some(), "[{phase}]");
        // The deadline is 300 ms (checkout + command); allow scheduling slack on a busy machine.
        assert!(took < Duration::from_millis(1_500), "[{phase}] took {took:?}");
        let r = app.get(&format!("/v1/cards/{card}"), &t).await;
        assert_eq!(r.status, StatusCode::OK, "[{phase}] reads of known objects keep working: {}", r.text);
        assert_eq!(app.get("/v1/reference/currencies", &t).await.status, StatusCode::OK);
    }
    assert_eq!(app.sim.calls(card_gateway::upstream::Operation::CardRecharge), 0, "nothing reached the platform");

    server.restart();
    let mut recovered = false;
    for _ in 0..30 {
        let w = app.post(&format!("/v1/cards/{card}/recharges"), &t, json!({"amount": "1.00"})).await;
        if w.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "writes work again once Redis is back");
}
