//! #1–#4: balances, DPT transfer, exchange, exchange rate.

use card_gateway::upstream::wire::account::{BalanceRequest, DptTransferRequest, ExchangeRateRequest, ExchangeRequest};

use crate::support::{assert_business, dec, req_no, start};

#[tokio::test(flavor = "multi_thread")]
async fn account_balance_lists_every_currency_and_filters_by_ccy() {
    let env = start().await;
    let all = env.client.account_balance(&BalanceRequest { user_req_no: req_no(), ccy: None }).await.unwrap();
    let all = all.result.unwrap().into_vec();
    assert!(all.iter().any(|b| b.ccy == "USD" && b.available_bal == dec("1000000.00")));
    let usd = env.client.account_balance(&BalanceRequest { user_req_no: req_no(), ccy: Some("EUR".into()) }).await;
    let usd = usd.unwrap().result.unwrap().into_vec();
    assert_eq!(usd.len(), 1);
    assert_eq!(usd[0].current_balance, dec("500000.00"));
}

#[tokio::test(flavor = "multi_thread")]
async fn account_balance_of_a_currency_without_account_is_not_found() {
    let env = start().await;
    let r = env.client.account_balance(&BalanceRequest { user_req_no: req_no(), ccy: Some("JPY".into()) }).await;
    assert_business(r, "120001");
}

#[tokio::test(flavor = "multi_thread")]
async fn dpt_transfer_moves_usdt_into_the_usd_account_at_the_configured_rate() {
    let env = start().await;
    let req = DptTransferRequest {
        user_req_no: req_no(),
        currency: "USDT".into(),
        target_currency: "USD".into(),
        amount: dec("250.00"),
    };
    let out = env.client.dpt_transfer(&req).await.unwrap().result.unwrap();
    assert_eq!(out.target_amount, Some(dec("250.00")));
    let s = env.sim.state();
    assert_eq!(s.balance("USDT"), dec("99750.00"));
    assert_eq!(s.balance("USD"), dec("1000250.00"));
    assert!(s.invariant_violations().is_empty(), "{:?}", s.invariant_violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn dpt_transfer_refuses_fiat_sources_and_amounts_beyond_the_balance() {
    let env = start().await;
    let mut req = DptTransferRequest {
        user_req_no: req_no(),
        currency: "USD".into(),
        target_currency: "EUR".into(),
        amount: dec("1"),
    };
    assert_business(env.client.dpt_transfer(&req).await, "110001");
    req.currency = "USDT".into();
    req.target_currency = "USD".into();
    req.amount = dec("100000.01");
    req.user_req_no = req_no();
    assert_business(env.client.dpt_transfer(&req).await, "110005");
}

#[tokio::test(flavor = "multi_thread")]
async fn account_exchange_converts_usd_to_eur_and_conserves_money_per_currency() {
    let env = start().await;
    let req = ExchangeRequest {
        user_req_no: req_no(),
        source_currency: "USD".into(),
        target_currency: "EUR".into(),
        amount: dec("108.00"),
    };
    let out = env.client.account_exchange(&req).await.unwrap().result.unwrap();
    assert_eq!(out.target_amount, Some(dec("100.00")));
    let s = env.sim.state();
    assert_eq!(s.balance("USD"), dec("999892.00"));
    assert_eq!(s.balance("EUR"), dec("500100.00"));
    assert!(s.invariant_violations().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn account_exchange_refuses_same_currency_and_insufficient_balance() {
    let env = start().await;
    let mut req = ExchangeRequest {
        user_req_no: req_no(),
        source_currency: "USD".into(),
        target_currency: "USD".into(),
        amount: dec("1"),
    };
    assert_business(env.client.account_exchange(&req).await, "110001");
    req.target_currency = "EUR".into();
    req.amount = dec("1000000.01");
    req.user_req_no = req_no();
    assert_business(env.client.account_exchange(&req).await, "110005");
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_rate_is_the_ratio_of_usd_values() {
    let env = start().await;
    let req =
        ExchangeRateRequest { user_req_no: req_no(), source_currency: "EUR".into(), target_currency: "USD".into() };
    let rate = env.client.exchange_rate(&req).await.unwrap().result.unwrap();
    assert_eq!(rate.rate, dec("1.08"));
    assert!(rate.update_time.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_rate_of_an_unknown_currency_is_a_validation_error() {
    let env = start().await;
    let req =
        ExchangeRateRequest { user_req_no: req_no(), source_currency: "ZZZ".into(), target_currency: "USD".into() };
    assert_business(env.client.exchange_rate(&req).await, "110001");
}
