//! #26 digital currency acquiring and #27 withdrawal.

use card_gateway::{
    simulator::PaymentSpec,
    upstream::wire::dpt::{DptAcquireRequest, DptWithdrawRequest},
};

use crate::support::{assert_business, dec, req_no, start};

fn acquire(amount: &str, chain: &str) -> DptAcquireRequest {
    DptAcquireRequest { amount: dec(amount), currency: "USDT".into(), chain: chain.into(), serial_number: req_no() }
}

fn withdraw(amount: &str, to: &str) -> DptWithdrawRequest {
    DptWithdrawRequest {
        amount: dec(amount),
        currency: "USDT".into(),
        chain: "TRON".into(),
        to_address: to.into(),
        serial_number: req_no(),
    }
}

const TRON_ADDRESS: &str = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8";

#[tokio::test(flavor = "multi_thread")]
async fn dpt_acquire_opens_a_deposit_order_with_a_tron_address() {
    let env = start().await;
    let req = acquire("5", "TRON");
    let r = env.client.dpt_acquire(&req).await.unwrap().result.unwrap();
    assert_eq!(r.serial_number.as_deref(), Some(req.serial_number.as_str()));
    let addr = r.to_address.unwrap();
    assert!(addr.starts_with('T') && addr.len() == 34);
    assert!(r.expire_time.is_some());
    assert_eq!(env.sim.state().order(&req.serial_number).unwrap().order_id, r.order_no);
}

#[tokio::test(flavor = "multi_thread")]
async fn dpt_acquire_on_an_unsupported_chain_is_a_validation_error() {
    let env = start().await;
    assert_business(env.client.dpt_acquire(&acquire("5", "DOGE")).await, "110001");
}

#[tokio::test(flavor = "multi_thread")]
async fn paying_a_deposit_credits_the_merchant_less_the_fee() {
    let env = start().await;
    let order = env.client.dpt_acquire(&acquire("1000", "TRON")).await.unwrap().result.unwrap().order_no;
    let d = env.sim.pay_deposit(&order, &PaymentSpec::default()).unwrap();
    let p = d.payment.unwrap();
    assert_eq!((p.amount, p.fee, p.credited), (dec("1000"), dec("1.00"), dec("999.00")));
    let s = env.sim.state();
    assert_eq!(s.balance("USDT"), dec("100999.00"));
    assert!(s.invariant_violations().is_empty());
    assert!(env.sim.pay_deposit(&order, &PaymentSpec::default()).is_err(), "paid once only");
}

#[tokio::test(flavor = "multi_thread")]
async fn dpt_withdraw_debits_amount_plus_fee() {
    let env = start().await;
    let r = env.client.dpt_withdraw(&withdraw("100", TRON_ADDRESS)).await.unwrap().result.unwrap();
    assert_eq!((r.status.as_deref(), r.fee), (Some("1"), Some(dec("1.00"))));
    assert_eq!(r.tx_id.unwrap().len(), 64);
    assert_eq!(env.sim.state().balance("USDT"), dec("99899.00"));
}

#[tokio::test(flavor = "multi_thread")]
async fn dpt_withdraw_refuses_bad_addresses_and_insufficient_balance() {
    let env = start().await;
    assert_business(env.client.dpt_withdraw(&withdraw("1", "0xnotatronaddress")).await, "110001");
    assert_business(env.client.dpt_withdraw(&withdraw("99999.50", TRON_ADDRESS)).await, "110005");
}
