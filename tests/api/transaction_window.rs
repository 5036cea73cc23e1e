//! The transaction window cap (`upstream.transaction_window_max_days`): both days of `from..to` count,
//! a longer window is refused before any call, and the default window always fits the cap.

use card_gateway::upstream::Operation;
use reqwest::StatusCode;

use crate::common::spawn_with;

#[tokio::test(flavor = "multi_thread")]
async fn a_window_longer_than_the_cap_is_refused_before_any_call_and_the_default_window_fits() {
    let app = spawn_with(|s| {
        s.upstream.transaction_window_max_days = 30;
        s.simulator.transaction_window_max_days = 30;
    })
    .await;
    let t = app.admin("acme");
    let card = app.create_card(&t, "10.00").await;
    let calls = app.sim.calls(Operation::TransactionQuery);

    // 2026-01-01..2026-01-31 is 31 days, both included.
    let long = app.get(&format!("/v1/cards/{card}/transactions?from=2026-01-01&to=2026-01-31"), &t).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", long.text);
    assert!(long.text.contains("/from"), "{}", long.text);
    let tenant_wide = app.get("/v1/transactions?from=2026-01-01&to=2026-01-31", &t).await;
    assert_eq!(tenant_wide.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", tenant_wide.text);
    assert_eq!(app.sim.calls(Operation::TransactionQuery), calls, "refused before any call");

    // Exactly 30 days, and the default window (no from), are answered by the platform.
    let fits = app.get(&format!("/v1/cards/{card}/transactions?from=2026-01-01&to=2026-01-30"), &t).await;
    assert_eq!(fits.status, StatusCode::OK, "{}", fits.text);
    let default = app.get(&format!("/v1/cards/{card}/transactions"), &t).await;
    assert_eq!(default.status, StatusCode::OK, "{}", default.text);
    let default = app.get("/v1/transactions", &t).await;
    assert_eq!(default.status, StatusCode::OK, "{}", default.text);
}
