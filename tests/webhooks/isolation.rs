//! Tenant isolation of the event log, the stream and deliveries.

use std::collections::HashMap;

use rand::Rng as _;

use crate::helpers::{Behaviour, Receiver, TestApp, settings, transaction};

#[actix_web::test]
async fn a_thousand_random_events_over_two_tenants_are_never_misrouted() {
    let app = TestApp::spawn(settings(false)).await;
    let cards: Vec<(String, &str)> =
        (0..10).map(|i| (format!("card-iso-{i}"), if i % 2 == 0 { "alpha" } else { "beta" })).collect();
    for (card, tenant) in &cards {
        app.own_card(tenant, card).await;
    }
    let rx_a = Receiver::start(Behaviour::Ok).await;
    let rx_b = Receiver::start(Behaviour::Ok).await;
    app.endpoint("alpha", &rx_a.url, &[]).await;
    app.endpoint("beta", &rx_b.url, &[]).await;
    let mut expected: HashMap<String, &str> = HashMap::new();
    let bodies: Vec<Vec<u8>> = (0..1000)
        .map(|i| {
            let (card, tenant) = &cards[rand::rng().random_range(0..cards.len())];
            expected.insert(format!("R{i}"), tenant);
            app.sealed("card_transaction", &transaction(&format!("R{i}"), card, "1.00"))
        })
        .collect();
    for chunk in bodies.chunks(25) {
        let posts = chunk.iter().map(|b| app.post_raw(b.clone()));
        for (status, _) in futures_util::future::join_all(posts).await {
            assert_eq!(status, 200);
        }
    }
    let mut misrouted = 0;
    let mut seen = 0;
    for tenant in ["alpha", "beta"] {
        for e in app.events(tenant, "").await {
            seen += 1;
            let record = e["data"]["id"].as_str().unwrap();
            if expected[record] != tenant {
                misrouted += 1;
            }
        }
    }
    assert_eq!((seen, misrouted), (1000, 0));
    let a_count = expected.values().filter(|t| **t == "alpha").count();
    let got_a = rx_a.wait_delivered(a_count).await;
    let got_b = rx_b.wait_delivered(1000 - a_count).await;
    assert!(got_a.iter().all(|r| expected[r.json()["data"]["id"].as_str().unwrap()] == "alpha"));
    assert!(got_b.iter().all(|r| expected[r.json()["data"]["id"].as_str().unwrap()] == "beta"));
    app.stop().await;
    rx_a.stop().await;
    rx_b.stop().await;
}

#[actix_web::test]
async fn another_tenants_event_and_endpoint_answer_404() {
    let app = TestApp::spawn(settings(false)).await;
    app.own_card("own-a", "card-own-a").await;
    app.notify("card_transaction", &transaction("T-own", "card-own-a", "1")).await;
    let id = app.events("own-a", "").await[0]["id"].as_str().unwrap().to_owned();
    let rx = Receiver::start(Behaviour::Ok).await;
    let (ep, _) = app.endpoint("own-a", &rx.url, &[]).await;
    let b = app.tenant_token("own-b");
    assert_eq!(app.get(&b, &format!("/v1/events/{id}")).await.0, 404);
    assert_eq!(app.get(&b, &format!("/v1/webhook-endpoints/{ep}")).await.0, 404);
    assert_eq!(app.get(&b, &format!("/v1/webhook-endpoints/{ep}/deliveries")).await.0, 404);
    assert_eq!(app.get(&app.tenant_token("own-a"), &format!("/v1/events/{id}")).await.0, 200);
    app.stop().await;
    rx.stop().await;
}
