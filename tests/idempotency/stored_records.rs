//! What an idempotency record keeps: sealed bodies (no cardholder data, no signing secret in the
//! store) that still replay with the same status and, for cardholders, the same bytes.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{common::spawn_settings, support::store_setups};

/// Every idempotency record's fields, as text (hash values printed lossily).
async fn idempotency_records(url: &str) -> String {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*:idem:*").query_async(&mut c).await.unwrap();
    assert!(!keys.is_empty(), "no idempotency records found");
    let mut out = String::new();
    for k in keys {
        let fields: Vec<(String, Vec<u8>)> = redis::cmd("HGETALL").arg(&k).query_async(&mut c).await.unwrap();
        for (f, v) in fields {
            out.push_str(&format!("{k} {f} {}\n", String::from_utf8_lossy(&v)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_records_hold_no_cardholder_data_or_signing_secret_and_still_replay() {
    for (name, mut settings, redis) in store_setups() {
        settings.webhooks.allow_private_targets = true;
        let app = spawn_settings(settings).await;
        let t = app.admin("acme");
        let n = crate::common::rand_digits(9);
        let (email, mobile) = (format!("ada{n}@example.com"), format!("50{n}"));
        let holder = json!({
            "first_name": "Augusta", "last_name": "Lovelace", "email": email,
            "mobile_prefix": "1", "mobile": mobile, "birth_date": "1990-12-10", "country": "USA",
            "billing": {"state": "AR", "city": "Little Rock", "address": "1 Main St", "zip": "72201"}
        });
        let first = app.post_key("/v1/cardholders", &t, "holder-key", holder.clone()).await;
        assert_eq!(first.status, StatusCode::CREATED, "[{name}] {}", first.text);
        assert!(first.text.contains(&email), "[{name}] the answer itself shows the cardholder");
        let again = app.post_key("/v1/cardholders", &t, "holder-key", holder).await;
        assert_eq!(again.status, first.status, "[{name}]");
        assert_eq!(again.header("idempotent-replayed"), Some("true"), "[{name}]");
        assert_eq!(again.text, first.text, "[{name}] cardholder replay is byte-identical");

        let endpoint = json!({"url": "http://127.0.0.1:9/hooks", "description": "records"});
        let created = app.post_key("/v1/webhook-endpoints", &t, "endpoint-key", endpoint.clone()).await;
        assert_eq!(created.status, StatusCode::CREATED, "[{name}] {}", created.text);
        let secret = created.json["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"), "[{name}]");
        let replay = app.post_key("/v1/webhook-endpoints", &t, "endpoint-key", endpoint).await;
        assert_eq!(replay.status, StatusCode::CREATED, "[{name}] same status on replay");
        assert_eq!(replay.header("idempotent-replayed"), Some("true"), "[{name}]");
        assert_eq!(replay.json["id"], created.json["id"], "[{name}] the same endpoint");
        assert!(replay.json.get("secret").is_none(), "[{name}] the secret is shown once: {}", replay.text);
        assert!(!replay.text.contains("whsec_"), "[{name}]");

        let rotated = app
            .send(
                Method::POST,
                &format!("/v1/webhook-endpoints/{}/rotate-secret", created.json["id"].as_str().unwrap()),
                Some(&t),
                Some("rotate-key"),
                Some(json!({})),
            )
            .await;
        assert_eq!(rotated.status, StatusCode::OK, "[{name}] {}", rotated.text);

        if let Some(server) = &redis {
            let raw = idempotency_records(&server.url()).await;
            for needle in
                ["whsec_", &secret[6..], email.as_str(), mobile.as_str(), "Augusta", "Lovelace", "Little Rock"]
            {
                assert!(!raw.contains(needle), "[{name}] a stored record shows {needle:?}:\n{raw}");
            }
        }
    }
}
