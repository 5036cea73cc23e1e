//! Every route of docs/product.md §4, declared once: the same list registers the handlers, builds the
//! route table the middleware reads (auth, scope, rate-limit class, idempotency) and lists the
//! operations of the OpenAPI document.

pub mod card_groups;
pub mod cardholders;
pub mod cards;
pub mod crypto;
pub mod funds;
pub mod health;
pub mod operations;
pub mod physical_cards;
pub mod reference;
pub mod support;
pub mod table;
pub mod test_helpers;
pub mod transactions;
pub mod treasury;

use crate::{
    policy::{Access, RouteClass, RoutePolicy, RouteTable, Scope::*},
    webhooks::{endpoints::routes as hooks, events_api, inbound, sse},
};
use actix_web::{http::Method, web};

macro_rules! routes {
    ($( $method:ident $path:literal => $handler:path, $access:expr, $class:ident, $idem:literal; )*) => {
        /// The policy of every route.
        pub fn table() -> RouteTable {
            RouteTable::new(vec![$(
                RoutePolicy::new(Method::$method, $path, $access, RouteClass::$class, $idem),
            )*])
        }

        /// Registers every route (one resource per method and path; see `http::fallback` for 404/405).
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $( cfg.route($path, web::method(Method::$method).to($handler)); )*
        }

        /// The operations of the OpenAPI document, from the same list.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($handler),*))]
        pub struct ApiPaths;
    };
}

routes! {
    GET "/healthz" => health::healthz, Access::Public, Read, false;
    GET "/livez" => health::livez, Access::Public, Read, false;
    GET "/readyz" => health::readyz, Access::Public, Read, false;
    GET "/metrics" => health::metrics, Access::Public, Read, false;

    GET "/v1/card-bins" => reference::list_card_bins, Access::Scope(CardsRead), Read, false;
    GET "/v1/scenes" => reference::list_scenes, Access::Scope(CardsRead), Read, false;
    GET "/v1/reference/{table}" => reference::get_reference_table, Access::Authenticated, Read, false;

    POST "/v1/cards" => cards::create_card, Access::Scope(CardsWrite), Write, true;
    GET "/v1/cards" => cards::list_cards, Access::Scope(CardsRead), Read, false;
    GET "/v1/cards/{id}" => cards::get_card, Access::Scope(CardsRead), Read, false;
    GET "/v1/cards/{id}/sensitive" => cards::reveal_card, Access::Scope(CardsReveal), Sensitive, false;
    PATCH "/v1/cards/{id}" => cards::update_card, Access::Scope(CardsWrite), Write, true;
    POST "/v1/cards/{id}/cancel" => cards::cancel_card, Access::Scope(CardsWrite), Write, true;
    POST "/v1/cards/{id}/recharges" => cards::recharge_card, Access::Scope(FundsWrite), Write, true;
    POST "/v1/cards/{id}/refunds" => cards::refund_card, Access::Scope(FundsWrite), Write, true;
    GET "/v1/cards/{id}/transactions" => transactions::list_card_transactions, Access::Scope(CardsRead), Read, false;
    GET "/v1/transactions" => transactions::list_transactions, Access::Scope(CardsRead), Read, false;

    POST "/v1/card-groups" => card_groups::create_card_group, Access::Scope(CardsWrite), Write, true;
    GET "/v1/card-groups" => card_groups::list_card_groups, Access::Scope(CardsRead), Read, false;
    GET "/v1/card-groups/{id}" => card_groups::get_card_group, Access::Scope(CardsRead), Read, false;
    PATCH "/v1/card-groups/{id}" => card_groups::update_card_group, Access::Scope(CardsWrite), Write, true;
    POST "/v1/card-groups/{id}/recharges" => card_groups::recharge_card_group, Access::Scope(FundsWrite), Write, true;
    POST "/v1/card-groups/{id}/refunds" => card_groups::refund_card_group, Access::Scope(FundsWrite), Write, true;

    POST "/v1/cardholders" => cardholders::create_cardholder, Access::Scope(CardholdersWrite), Write, true;
    GET "/v1/cardholders" => cardholders::list_cardholders, Access::Scope(CardholdersRead), Read, false;
    GET "/v1/cardholders/{id}" => cardholders::get_cardholder, Access::Scope(CardholdersRead), Read, false;
    PATCH "/v1/cardholders/{id}" => cardholders::update_cardholder, Access::Scope(CardholdersWrite), Write, true;
    DELETE "/v1/cardholders/{id}" => cardholders::delete_cardholder, Access::Scope(CardholdersWrite), Write, true;

    GET "/v1/operations" => operations::list_operations, Access::Scope(CardsRead), Read, false;
    GET "/v1/operations/{id}" => operations::get_operation, Access::Scope(CardsRead), Read, false;

    POST "/v1/physical-cards" => physical_cards::assign_physical_card, Access::Scope(CardsWrite), Write, true;
    POST "/v1/physical-cards/{id}/activate" => physical_cards::activate_physical_card, Access::Scope(CardsWrite), Write, true;
    POST "/v1/physical-cards/{id}/pin-reset" => physical_cards::reset_physical_card_pin, Access::Scope(CardsWrite), Write, true;

    POST "/v1/crypto/deposits" => crypto::create_crypto_deposit, Access::Scope(CryptoWrite), Write, true;
    // Merchant-wide USDT leaves the platform for any address: an operator's (treasury) act, not a tenant's.
    POST "/v1/crypto/withdrawals" => crypto::create_crypto_withdrawal, Access::Scope(TreasuryWrite), Write, true;

    GET "/v1/treasury/balances" => treasury::list_balances, Access::Scope(TreasuryRead), Read, false;
    GET "/v1/treasury/exchange-rates" => treasury::get_exchange_rate, Access::Scope(TreasuryRead), Read, false;
    POST "/v1/treasury/exchanges" => treasury::create_exchange, Access::Scope(TreasuryWrite), Write, true;
    POST "/v1/treasury/crypto-transfers" => treasury::create_crypto_transfer, Access::Scope(TreasuryWrite), Write, true;

    // --- test helpers (development and test only: the embedded simulator; 404 otherwise) ---
    // Not idempotency-keyed: each call is a new platform-side event (see src/routes/test_helpers.rs).
    POST "/v1/test-helpers/cards/{id}/authorizations" => test_helpers::simulate_card_authorization, Access::Scope(CardsWrite), Write, false;
    POST "/v1/test-helpers/cards/{id}/3ds-otp" => test_helpers::simulate_card_3ds_otp, Access::Scope(CardsWrite), Write, false;
    POST "/v1/test-helpers/transactions/{id}/settlement" => test_helpers::simulate_transaction_settlement, Access::Scope(CardsWrite), Write, false;
    POST "/v1/test-helpers/transactions/{id}/reversal" => test_helpers::simulate_transaction_reversal, Access::Scope(CardsWrite), Write, false;
    POST "/v1/test-helpers/transactions/{id}/refund" => test_helpers::simulate_transaction_refund, Access::Scope(CardsWrite), Write, false;
    POST "/v1/test-helpers/physical-cards/{id}/activation-code" => test_helpers::simulate_physical_card_activation_code, Access::Scope(CardsWrite), Write, false;
    POST "/v1/test-helpers/physical-cards/{id}/activation-result" => test_helpers::simulate_physical_card_activation_result, Access::Scope(CardsWrite), Write, false;
    POST "/v1/test-helpers/crypto/deposits/{id}/payment" => test_helpers::simulate_crypto_deposit_payment, Access::Scope(CryptoWrite), Write, false;
    POST "/v1/test-helpers/operations/{id}/complete" => test_helpers::simulate_operation_completion, Access::Scope(CardsWrite), Write, false;

    // --- webhooks (src/webhooks) ---
    POST "/webhooks/merchant" => inbound::receive_merchant_webhook, Access::Public, Write, false;
    GET "/v1/events" => events_api::list_events, Access::Scope(EventsRead), Read, false;
    GET "/v1/events/stream" => sse::stream_events, Access::Scope(EventsRead), Read, false;
    GET "/v1/events/{id}" => events_api::get_event, Access::Scope(EventsRead), Read, false;
    GET "/v1/dead-letter-events" => events_api::list_dead_letter_events, Access::Scope(TreasuryRead), Read, false;
    POST "/v1/webhook-endpoints" => hooks::create_webhook_endpoint, Access::Scope(EventsManage), Write, true;
    GET "/v1/webhook-endpoints" => hooks::list_webhook_endpoints, Access::Scope(EventsManage), Read, false;
    GET "/v1/webhook-endpoints/{id}" => hooks::get_webhook_endpoint, Access::Scope(EventsManage), Read, false;
    PATCH "/v1/webhook-endpoints/{id}" => hooks::update_webhook_endpoint, Access::Scope(EventsManage), Write, true;
    DELETE "/v1/webhook-endpoints/{id}" => hooks::delete_webhook_endpoint, Access::Scope(EventsManage), Write, true;
    POST "/v1/webhook-endpoints/{id}/rotate-secret" => hooks::rotate_webhook_endpoint_secret, Access::Scope(EventsManage), Write, true;
    GET "/v1/webhook-endpoints/{id}/deliveries" => hooks::list_webhook_deliveries, Access::Scope(EventsManage), Read, false;
    POST "/v1/webhook-endpoints/{id}/replay" => hooks::replay_webhook_events, Access::Scope(EventsManage), Write, true;
    // --- end webhooks ---
}
