//! Platform-side events: card transactions (→ `card_transaction`, `trade_fee`), 3DS OTPs, physical-card
//! activation, crypto payments — each changing the state consistently and emitting its webhook.

use card_gateway::{
    sensitive::Reveal,
    simulator::{AuthorizationSpec, OtpSpec, PaymentSpec},
    upstream::wire::{
        card::TransactionRecord,
        dpt::DptAcquireRequest,
        pcc::CardAssignRequest,
        webhook::{Card3dsOtp, CardActivationCode, CardActivationStatus, DptPaymentBill, TradeFee},
    },
};

use crate::support::{Receiver, dec, req_no, start};

#[tokio::test(flavor = "multi_thread")]
async fn authorization_settlement_and_refund_move_card_money_and_emit_card_transaction() {
    let rx = Receiver::start(&[]).await;
    let env = start().await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let card = env.card("100.00").await;
    let auth = env
        .sim
        .authorize(
            &card,
            &AuthorizationSpec { amount: dec("40.00"), merchant_name: Some("ACME".into()), ..Default::default() },
        )
        .unwrap();
    assert_eq!((auth.trans_status.as_deref(), auth.trans_category), (Some("1"), Some(1)));
    assert_eq!(env.sim.state().card(&card).unwrap().balance, dec("60.00"));
    let settled = env.sim.settle(&auth.record_no, Some(dec("35.00"))).unwrap();
    assert_eq!((settled.trans_category, settled.settle_amount), (Some(2), Some(dec("35.00"))));
    assert_eq!(env.sim.state().card(&card).unwrap().balance, dec("65.00"), "settled for less");
    let refund = env.sim.refund_transaction(&auth.record_no, Some(dec("15.00"))).unwrap();
    assert_eq!(refund.funds_direction, Some(1));
    assert!(env.sim.refund_transaction(&auth.record_no, Some(dec("20.01"))).is_err(), "only 20.00 left to refund");
    let s = env.sim.state();
    assert_eq!(s.card(&card).unwrap().balance, dec("80.00"));
    assert!(s.invariant_violations().is_empty(), "{:?}", s.invariant_violations());
    let hooks = rx.wait_for("card_transaction", 3).await;
    let records: Vec<TransactionRecord> =
        hooks.iter().map(|h| serde_json::from_value(h.data.clone()).unwrap()).collect();
    assert_eq!(records[0].merchant_name, "ACME");
    assert_eq!(records[1].settle_amount, Some(dec("35.00")));
    assert_eq!(records[2].origin_record_no.as_deref(), Some(auth.record_no.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_border_authorization_charges_a_fee_reported_by_trade_fee() {
    let rx = Receiver::start(&[]).await;
    let env = start().await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let card = env.card("100.00").await;
    let spec = AuthorizationSpec { amount: dec("50.00"), cross_border: true, ..Default::default() };
    let auth = env.sim.authorize(&card, &spec).unwrap();
    assert_eq!((auth.cross_board_type.as_deref(), auth.fee_type), (Some("1"), Some(1)));
    assert_eq!(env.sim.state().card(&card).unwrap().balance, dec("49.50"));
    let fee: TradeFee = serde_json::from_value(rx.wait_for("trade_fee", 1).await[0].data.clone()).unwrap();
    assert_eq!((fee.op_type, fee.real_fee, fee.real_ccy.as_str()), (97, dec("0.50"), "USD"));
    assert_eq!(fee.record_no.as_deref(), Some(auth.record_no.as_str()));
    assert!(env.sim.state().invariant_violations().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn declined_authorizations_are_recorded_and_move_nothing() {
    let env = start().await;
    let card = env.card("10.00").await;
    let declined = env.sim.authorize(&card, &AuthorizationSpec { amount: dec("10.01"), ..Default::default() }).unwrap();
    assert_eq!((declined.trans_status.as_deref(), declined.resp_code.as_deref()), (Some("2"), Some("200002")));
    let mut single = env.apply("10");
    single.enable_multi_use = Some(0);
    single.enable_currency_check = Some(1);
    let single = env.client.card_apply(&single).await.unwrap().result.unwrap().card_id.unwrap();
    let eur = AuthorizationSpec { amount: dec("1"), currency: Some("EUR".into()), ..Default::default() };
    assert_eq!(env.sim.authorize(&single, &eur).unwrap().resp_code.as_deref(), Some("200005"));
    let one = AuthorizationSpec { amount: dec("1"), ..Default::default() };
    assert_eq!(env.sim.authorize(&single, &one).unwrap().resp_code.as_deref(), Some("000000"));
    assert_eq!(env.sim.authorize(&single, &one).unwrap().resp_code.as_deref(), Some("200006"));
    let s = env.sim.state();
    assert_eq!(s.card(&card).unwrap().balance, dec("10.00"));
    assert_eq!(s.transactions.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn reversal_returns_the_authorized_amount_once() {
    let env = start().await;
    let card = env.card("20.00").await;
    let auth = env.sim.authorize(&card, &AuthorizationSpec { amount: dec("20.00"), ..Default::default() }).unwrap();
    let rev = env.sim.reverse(&auth.record_no).unwrap();
    assert_eq!(rev.trans_type.as_deref(), Some("2"));
    assert_eq!(env.sim.state().card(&card).unwrap().balance, dec("20.00"));
    assert!(env.sim.reverse(&auth.record_no).is_err());
    assert!(env.sim.settle(&auth.record_no, None).is_err(), "a reversed authorisation cannot settle");
}

#[tokio::test(flavor = "multi_thread")]
async fn three_ds_otp_is_pushed_with_a_masked_card_number() {
    let rx = Receiver::start(&[]).await;
    let env = start().await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let card = env.card("1").await;
    let issued =
        env.sim.send_3ds_otp(&card, &OtpSpec { amount: dec("9.99"), currency: None, merchant_name: None }).unwrap();
    let otp: Card3dsOtp = serde_json::from_value(rx.wait_for("card_3ds_otp", 1).await[0].data.clone()).unwrap();
    assert_eq!(otp.otp.expose(), issued.code.expose());
    assert!(otp.card_no.unwrap().contains("******"));
    assert_eq!(otp.transaction_amount, Some(dec("9.99")));
}

#[tokio::test(flavor = "multi_thread")]
async fn activation_code_and_status_webhooks_follow_the_physical_card() {
    let rx = Receiver::start(&[]).await;
    let env = start().await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let holder = env.holder().await;
    let assign = CardAssignRequest {
        user_req_no: req_no(),
        card_user_id: holder,
        kit_no: "KITA0001".into(),
        local_currency: "USD".into(),
    };
    let card = env.client.card_assign(&assign).await.unwrap().result.unwrap().card_id;
    let issued = env.sim.issue_activation_code(&card).unwrap();
    let code: CardActivationCode =
        serde_json::from_value(rx.wait_for("card_activation_code", 1).await[0].data.clone()).unwrap();
    assert_eq!(code.active_code.expose(), issued.code.expose());
    env.sim.set_activation_result(&card, false).unwrap();
    env.sim.set_activation_result(&card, true).unwrap();
    let statuses = rx.wait_for("card_activation_status", 2).await;
    let statuses: Vec<CardActivationStatus> =
        statuses.iter().map(|h| serde_json::from_value(h.data.clone()).unwrap()).collect();
    assert_eq!((statuses[0].staus, statuses[1].staus), (2, 1));
    assert!(statuses[0].card_id == card);
}

#[tokio::test(flavor = "multi_thread")]
async fn crypto_payment_of_a_deposit_emits_dpt_payment_bill() {
    let rx = Receiver::start(&[]).await;
    let env = start().await;
    env.sim.set_webhook_url(Some(rx.url.clone()));
    let req =
        DptAcquireRequest { amount: dec("20"), currency: "USDT".into(), chain: "TRON".into(), serial_number: req_no() };
    let order = env.client.dpt_acquire(&req).await.unwrap().result.unwrap();
    env.sim.pay_deposit(&order.order_no, &PaymentSpec { amount: Some(dec("25")), from_address: None }).unwrap();
    let bill: DptPaymentBill =
        serde_json::from_value(rx.wait_for("dpt_payment_bill", 1).await[0].data.clone()).unwrap();
    assert_eq!((bill.serial_number, bill.order_no), (req.serial_number, order.order_no));
    assert_eq!((bill.payment_amount, bill.fee, bill.fact_amount), (dec("25"), dec("0.03"), dec("24.97")));
    assert_eq!(Some(bill.to_address), order.to_address);
    assert!(bill.transaction_time.ends_with("+08:00"), "{}", bill.transaction_time);
    assert_eq!(env.sim.state().balance("USDT"), dec("100024.97"));
}
