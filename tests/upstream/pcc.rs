//! #23 card assign, #24 card active, #25 PIN reset.

use card_gateway::{
    sensitive::{Otp, Reveal},
    simulator::state::CardStatus,
    upstream::wire::pcc::{CardActiveRequest, CardAssignRequest, PinResetRequest},
};

use crate::support::{Env, assert_business, req_no, start};

fn assign_req(holder: &str, kit: &str) -> CardAssignRequest {
    CardAssignRequest {
        user_req_no: req_no(),
        card_user_id: holder.into(),
        kit_no: kit.into(),
        local_currency: "USD".into(),
    }
}

fn kit() -> String {
    format!("KIT{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

async fn assigned(env: &Env) -> String {
    let holder = env.holder().await;
    env.client.card_assign(&assign_req(&holder, &kit())).await.unwrap().result.unwrap().card_id
}

fn active_req(card_id: &str, code: &str) -> CardActiveRequest {
    CardActiveRequest { user_req_no: req_no(), card_id: card_id.into(), active_code: Otp::new(code) }
}

#[tokio::test(flavor = "multi_thread")]
async fn card_assign_binds_a_kit_to_a_holder_as_a_pending_card() {
    let env = start().await;
    let holder = env.holder().await;
    let r = env.client.card_assign(&assign_req(&holder, "KIT0001")).await.unwrap().result.unwrap();
    assert_eq!(r.card_status.as_deref(), Some("3"));
    let s = env.sim.state();
    let card = s.card(&r.card_id).unwrap();
    assert_eq!(card.status, CardStatus::Pending);
    assert_eq!(card.physical.as_ref().unwrap().kit_no, "KIT0001");
    assert_eq!(card.holder_id.as_deref(), Some(holder.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn card_assign_refuses_a_used_kit_and_an_unknown_holder() {
    let env = start().await;
    let holder = env.holder().await;
    env.client.card_assign(&assign_req(&holder, "KIT0002")).await.unwrap();
    assert_business(env.client.card_assign(&assign_req(&holder, "KIT0002")).await, "110004");
    assert_business(env.client.card_assign(&assign_req("404", "KIT0003")).await, "110007");
}

#[tokio::test(flavor = "multi_thread")]
async fn card_active_with_the_issued_code_activates_the_card() {
    let env = start().await;
    let card = assigned(&env).await;
    let code = env.sim.issue_activation_code(&card).unwrap().code;
    let r = env.client.card_active(&active_req(&card, code.expose())).await.unwrap().result.unwrap();
    assert_eq!(r.status.as_deref(), Some("1"));
    assert_eq!(env.sim.state().card(&card).unwrap().status, CardStatus::Active);
    env.recharge(&card, "10").await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn card_active_refuses_a_wrong_code_and_a_card_without_code() {
    let env = start().await;
    let card = assigned(&env).await;
    assert_business(env.client.card_active(&active_req(&card, "000000")).await, "110004");
    let code = env.sim.issue_activation_code(&card).unwrap().code;
    let wrong = if code.expose() == "111111" { "222222" } else { "111111" };
    assert_business(env.client.card_active(&active_req(&card, wrong)).await, "110001");
    assert_eq!(env.sim.state().card(&card).unwrap().status, CardStatus::Pending);
}

#[tokio::test(flavor = "multi_thread")]
async fn pin_reset_works_on_an_active_physical_card() {
    let env = start().await;
    let card = assigned(&env).await;
    env.sim.set_activation_result(&card, true).unwrap();
    let r = env.client.pin_reset(&PinResetRequest { user_req_no: req_no(), card_id: card.clone() }).await.unwrap();
    assert_eq!(r.result.unwrap().card_id, card);
    assert_eq!(env.sim.state().card(&card).unwrap().physical.as_ref().unwrap().pin_resets, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn pin_reset_is_refused_for_virtual_and_pending_cards() {
    let env = start().await;
    let virtual_card = env.card("1").await;
    let r = env.client.pin_reset(&PinResetRequest { user_req_no: req_no(), card_id: virtual_card }).await;
    assert_business(r, "110001");
    let pending = assigned(&env).await;
    assert_business(env.client.pin_reset(&PinResetRequest { user_req_no: req_no(), card_id: pending }).await, "110004");
}
