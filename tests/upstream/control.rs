//! The control API (`/_sim`, plain JSON) offers what the in-process handle offers.

use card_gateway::{
    sensitive::SecretString,
    simulator::CONTROL_TOKEN_HEADER,
    upstream::{Operation, UpstreamErrorKind},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Receiver, dec, start, start_with};

struct Control {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
}

impl Control {
    fn new(base: String, token: Option<&str>) -> Self {
        Self { base, http: reqwest::Client::new(), token: token.map(str::to_owned) }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}/_sim{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header(CONTROL_TOKEN_HEADER, t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(serde_json::to_vec(&b).unwrap());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn control_api_requires_the_token_when_one_is_configured() {
    let env = start_with(|s| s.simulator.control_token = SecretString::new("s3cret")).await;
    let (status, _) = Control::new(env.sim.base_url(), None).get("/calls").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = Control::new(env.sim.base_url(), Some("wrong")).get("/calls").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, calls) = Control::new(env.sim.base_url(), Some("s3cret")).get("/calls").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calls["card_apply"], json!(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_can_be_armed_listed_and_cleared_over_http() {
    let env = start().await;
    let c = Control::new(env.sim.base_url(), None);
    let (status, _) =
        c.post("/faults", json!({"op": "card_recharge", "kind": "http_status", "status": 502, "times": 0})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, armed) = c.get("/faults").await;
    assert_eq!(armed["operations"]["card_recharge"][0]["kind"], json!("http_status"));
    let card = env.card("1").await;
    assert_eq!(env.recharge(&card, "1").await.unwrap_err().kind, UpstreamErrorKind::HttpStatus(502));
    let (status, _) = c.send(reqwest::Method::DELETE, "/faults", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    env.recharge(&card, "1").await.unwrap();
    let (_, count) = c.get("/calls/card_recharge").await;
    assert_eq!(count["count"], json!(2));
    assert_eq!(env.sim.calls(Operation::CardRecharge), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn state_is_readable_with_card_data_masked() {
    let env = start().await;
    let card = env.card("12.34").await;
    let c = Control::new(env.sim.base_url(), None);
    let (status, view) = c.get(&format!("/state/cards/{card}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["balance"], json!("12.34"));
    assert!(view["pan"].as_str().unwrap().contains("******"));
    assert_eq!(view["cvv"], json!("***"));
    let (_, inv) = c.get("/state/invariants").await;
    assert_eq!(inv["violations"], json!([]));
    let (_, balances) = c.get("/state/balances").await;
    assert_eq!(balances["merchant"]["USD"], json!("999986.66"));
    let (status, _) = c.get("/state/cards/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, all) = c.get("/state").await;
    assert_eq!(all["orders"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn simulations_and_webhook_target_work_over_http() {
    let rx = Receiver::start(&[]).await;
    let env = start().await;
    let c = Control::new(env.sim.base_url(), None);
    let (status, _) = c.send(reqwest::Method::PUT, "/webhook-url", Some(json!({"url": rx.url}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let card = env.card("50").await;
    let (status, auth) =
        c.post(&format!("/cards/{card}/authorizations"), json!({"amount": "20.00", "merchant_name": "SHOP"})).await;
    assert_eq!(status, StatusCode::OK);
    let record = auth["recordNo"].as_str().unwrap().to_owned();
    let (status, _) = c.post(&format!("/transactions/{record}/settlement"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = c.post(&format!("/transactions/{record}/reversal"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "settled transactions are refunded, not reversed");
    let (status, _) = c.post(&format!("/transactions/{record}/refund"), json!({"amount": "5"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, otp) = c.post(&format!("/cards/{card}/3ds-otp"), json!({"amount": "3"})).await;
    assert_eq!(otp["code"].as_str().unwrap().len(), 6);
    let (status, _) = c.post("/cards/404/authorizations", json!({"amount": "1"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = c.post(&format!("/cards/{card}/authorizations"), json!({"amount": "0"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    rx.wait_for("card_transaction", 3).await;
    rx.wait_for("card_3ds_otp", 1).await;
    assert_eq!(env.sim.state().card(&card).unwrap().balance, dec("35.00"));
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_faults_and_async_completion_are_available_over_http() {
    let rx = Receiver::start(&[]).await;
    let env = start_with(|s| {
        s.simulator.async_operations = vec!["group_apply".into()];
        s.simulator.async_delay_ms = 60_000;
    })
    .await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let c = Control::new(env.sim.base_url(), None);
    let (status, _) = c.post("/webhook-faults", json!({"kind": "duplicate", "copies": 2})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let req = card_gateway::upstream::wire::group::GroupApplyRequest {
        user_req_no: crate::support::req_no(),
        local_currency: "USD".into(),
        auth_limit_amount: dec("5"),
        group_alias: None,
    };
    let ack = env.client.group_apply(&req).await.unwrap();
    assert!(ack.is_async);
    let (status, order) = c.post(&format!("/orders/{}/complete", req.user_req_no), json!({})).await;
    assert_eq!((status, order["status"].clone()), (StatusCode::OK, json!("succeeded")));
    assert_eq!(rx.wait_for("card_operate", 2).await.len(), 2);
}
