//! The platform's transport: envelope checks, foreign merchants, unknown paths, form encoding and the
//! two spellings of `errorCode`.

use card_gateway::upstream::{Operation, UpstreamErrorKind, wire::common::ReqNoOnly};
use serde_json::{Value, json};

use crate::support::{merchant_codec, req_no, start, start_with};

async fn post_raw(base: &str, path: &str, body: Value) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&res.bytes().await.unwrap()).unwrap()
}

fn envelope(user_no: &str, data_type: &str, content: &str) -> Value {
    json!({"version": "1.0.0", "userNo": user_no, "dataType": data_type, "dataContent": content})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_merchant_number_gets_1200030_forbidden_as_a_json_number() {
    let env = start().await;
    let sealed = merchant_codec().seal(&json!({"userReqNo": "x"})).unwrap();
    let body = post_raw(&env.sim.base_url(), "/openapi/account/balance", envelope("999", "JSON", &sealed)).await;
    assert_eq!(body["success"], json!(false));
    assert_eq!(body["errorCode"], json!(1_200_030));
    assert_eq!(body["errorMsg"], json!("403 forbidden"));
    let mut other = env.settings.upstream.clone();
    other.merchant_no = "999".into();
    let client = card_gateway::upstream::MerchantClient::new(&other, &env.sim.base_url(), merchant_codec()).unwrap();
    let err = client.card_bin(&ReqNoOnly { user_req_no: req_no() }).await.unwrap_err();
    assert_eq!(err.upstream_code(), Some("1200030"));
}

#[tokio::test(flavor = "multi_thread")]
async fn six_digit_error_codes_are_json_strings() {
    let env = start().await;
    let sealed = merchant_codec().seal(&json!({})).unwrap();
    let body = post_raw(
        &env.sim.base_url(),
        "/openapi/vcc/cardBin",
        envelope(&env.settings.upstream.merchant_no, "JSON", &sealed),
    )
    .await;
    assert_eq!(body["errorCode"], json!("110001"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_paths_and_unreadable_envelopes_get_the_bare_non_standard_body() {
    let env = start().await;
    let no = env.settings.upstream.merchant_no.clone();
    let base = env.sim.base_url();
    let bare = json!({"async": false, "statusCode": 500});
    assert_eq!(post_raw(&base, "/openapi/nope", envelope(&no, "JSON", "00")).await, bare);
    assert_eq!(post_raw(&base, "/openapi/account/balance", envelope(&no, "JSON", "zz")).await, bare);
    assert_eq!(post_raw(&base, "/openapi/account/balance", json!({"userNo": no})).await, bare);
    assert_eq!(post_raw(&base, "/openapi/account/balance", envelope(&no, "XML", "00")).await, bare);
    let mut paths = env.settings.upstream.clone();
    paths.paths.insert("card_bin".into(), "/openapi/renamed".into());
    let client = card_gateway::upstream::MerchantClient::new(&paths, &base, merchant_codec()).unwrap();
    let err = client.card_bin(&ReqNoOnly { user_req_no: req_no() }).await.unwrap_err();
    assert_eq!(err.kind, UpstreamErrorKind::NonStandard { status_code: Some(500) });
}

#[tokio::test(flavor = "multi_thread")]
async fn form_encoded_envelopes_and_lowercase_data_type_are_accepted() {
    let env = start().await;
    let sealed = merchant_codec().seal(&json!({"userReqNo": req_no()})).unwrap();
    let form = [
        ("version", "1.0.0"),
        ("userNo", env.settings.upstream.merchant_no.as_str()),
        ("dataType", "json"),
        ("dataContent", sealed.as_str()),
    ];
    let res = reqwest::Client::new()
        .post(format!("{}/openapi/vcc/cardBin", env.sim.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&form))
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(body["success"], json!(true));
    let opened: Value = merchant_codec().open(body["result"].as_str().unwrap()).unwrap();
    assert!(opened.as_array().unwrap().iter().any(|b| b["cardBin"] == json!("222929")));
}

/// `application/x-www-form-urlencoded` encoding of a few ASCII fields.
fn form_body(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_configured_with_lowercase_json_data_type_is_understood() {
    let env = start_with(|s| s.upstream.data_type = "json".into()).await;
    env.client.card_bin(&ReqNoOnly { user_req_no: req_no() }).await.unwrap();
    assert_eq!(env.sim.calls(Operation::CardBin), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn successful_answers_carry_async_false_and_the_user_no() {
    let env = start().await;
    let sealed = merchant_codec().seal(&json!({"userReqNo": "r"})).unwrap();
    let no = env.settings.upstream.merchant_no.clone();
    let body = post_raw(&env.sim.base_url(), "/openapi/vcc/scene/list", envelope(&no, "JSON", &sealed)).await;
    assert_eq!(
        (body["success"].clone(), body["async"].clone(), body["userNo"].clone()),
        (json!(true), json!(false), json!(no))
    );
    let hex = body["result"].as_str().unwrap();
    assert!(hex.len() % 256 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_numeric_user_no_is_accepted() {
    let env = start().await;
    let sealed = merchant_codec().seal(&json!({"userReqNo": "r"})).unwrap();
    let no: u64 = env.settings.upstream.merchant_no.parse().unwrap();
    let body = json!({"version": "1.0.0", "userNo": no, "dataType": "JSON", "dataContent": sealed});
    let answer = post_raw(&env.sim.base_url(), "/openapi/vcc/scene/list", body).await;
    assert_eq!(answer["success"], json!(true));
}
