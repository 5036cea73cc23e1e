//! The scope matrix, driven by the route table: every scoped route refuses a token that has every
//! scope but its own (403 `insufficient_scope`, before rate limiting, idempotency or the platform)
//! and accepts a token with only its own scope; treasury routes are out of reach of tenant tokens;
//! `Authenticated` routes take any valid token; nothing but `Public` routes answers without one (and
//! the one public write, the platform's inbound webhook, refuses a body its envelope does not
//! authenticate, token or no token).

use card_gateway::{
    auth::Scope,
    routes::{
        self,
        table::{Access, RoutePolicy},
    },
};
use reqwest::StatusCode;

use crate::{
    common::{Resp, TestApp},
    support::{Ids, Receiver, assert_problem, name, sample, send, spawn, upstream_calls},
};

fn scoped(route: &RoutePolicy) -> Option<Scope> {
    match route.access {
        Access::Scope(s) => Some(s),
        _ => None,
    }
}

fn all_but(scope: Scope) -> Vec<Scope> {
    Scope::ALL.into_iter().filter(|s| *s != scope).collect()
}

fn is_treasury(scope: Scope) -> bool {
    matches!(scope, Scope::TreasuryRead | Scope::TreasuryWrite)
}

/// The merchant-wide routes (docs/product.md §4, plus the dead letters: events no tenant owns). A route
/// joining or leaving this list is a deliberate decision, so it is spelled out.
const MERCHANT_WIDE: [&str; 6] = [
    // Merchant-wide USDT leaving for any address (issue 10 item 11).
    "POST /v1/crypto/withdrawals",
    "GET /v1/treasury/balances",
    "GET /v1/treasury/exchange-rates",
    "POST /v1/treasury/exchanges",
    "POST /v1/treasury/crypto-transfers",
    "GET /v1/dead-letter-events",
];

/// A refusal of the inbound webhook's junk sample: a client error other than 401 (the route takes no
/// token), never `SUCCESS` (which would make the platform stop retrying a notification never recorded).
fn assert_junk_refused(r: &Resp, ctx: &str) {
    assert!(r.status.is_client_error() && r.status != StatusCode::UNAUTHORIZED, "{ctx}: {} {}", r.status, r.text);
    assert_ne!(r.text.trim(), "SUCCESS", "{ctx}");
    assert!(r.is_problem(), "{ctx}: {:?} {}", r.header("content-type"), r.text);
}

fn assert_insufficient_scope(r: &Resp, scope: Scope, ctx: &str) {
    assert_problem(r, StatusCode::FORBIDDEN, "insufficient_scope", ctx);
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer ")
            && challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains(&format!("scope=\"{scope}\"")),
        "{ctx}: WWW-Authenticate {challenge:?}"
    );
}

/// One route: refused without its scope (twice with one key, for writes), then accepted with only
/// its scope — the same key is not a replay, so the refusals left no idempotency record.
async fn check_route(app: &TestApp, route: &RoutePolicy, scope: Scope, ids: &Ids) {
    let route_name = name(route);
    let lacking = app.token("acme", &all_but(scope));
    let only = app.token("acme", &[scope]);
    let s = sample(route, ids);
    let key = uuid::Uuid::new_v4().to_string();

    let before = upstream_calls(app);
    let ctx = format!("{route_name} with every scope but {scope}");
    let first = send(app, route, &s, Some(&lacking), Some(&key)).await;
    assert_insufficient_scope(&first, scope, &ctx);
    if route.idempotent {
        let second = send(app, route, &s, Some(&lacking), Some(&key)).await;
        assert_insufficient_scope(&second, scope, &format!("{ctx} (same Idempotency-Key again)"));
        assert!(second.header("idempotent-replayed").is_none(), "{ctx}: the 403 was stored and replayed");
    }
    assert_eq!(upstream_calls(app), before, "{ctx}: a refused request reached the platform");

    let ctx = format!("{route_name} with only {scope}");
    let ok = send(app, route, &s, Some(&only), Some(&key)).await;
    assert!(
        ok.status != StatusCode::FORBIDDEN && ok.status != StatusCode::UNAUTHORIZED,
        "{ctx}: {} {}",
        ok.status,
        ok.text
    );
    assert!(!ok.status.is_server_error(), "{ctx}: {} {}", ok.status, ok.text);
    assert!(ok.header("idempotent-replayed").is_none(), "{ctx}: replayed an earlier refusal: {}", ok.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_scoped_route_refuses_a_token_without_its_scope_and_accepts_one_with_only_it() {
    let app = spawn().await;
    let rx = Receiver::start().await;
    let ids = Ids::create(&app, &app.admin("acme"), &rx).await;
    let table = routes::table();
    let mut checked = 0;
    for route in table.routes() {
        if let Some(scope) = scoped(route) {
            check_route(&app, route, scope, &ids).await;
            checked += 1;
        }
    }
    let scoped_routes = table.routes().iter().filter(|r| scoped(r).is_some()).count();
    assert_eq!(checked, scoped_routes);
    assert!(checked >= 30, "only {checked} scoped routes in the table?");
}

#[tokio::test(flavor = "multi_thread")]
async fn tenant_tokens_reach_every_route_but_the_treasury() {
    let app = spawn().await;
    let tenant = app.token("acme", &Scope::tenant_scopes());
    let ids = Ids::nonexistent();
    let mut treasury = Vec::new();
    for route in routes::table().routes() {
        let Some(scope) = scoped(route) else { continue };
        let s = sample(route, &ids);
        let r = send(&app, route, &s, Some(&tenant), None).await;
        let ctx = format!("{} with a tenant token (no treasury scopes)", name(route));
        if is_treasury(scope) {
            assert_insufficient_scope(&r, scope, &ctx);
            treasury.push(name(route));
        } else {
            assert!(
                r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED,
                "{ctx}: {} {}",
                r.status,
                r.text
            );
        }
    }
    assert_eq!(treasury, MERCHANT_WIDE, "the merchant-wide routes, out of reach of tenant tokens");
    // The platform only saw the tenant's own, permitted calls; nothing merchant-wide.
    use card_gateway::upstream::Operation as Op;
    for op in [Op::AccountBalance, Op::ExchangeRate, Op::AccountExchange, Op::DptTransfer, Op::DptWithdraw] {
        assert_eq!(app.sim.calls(op), 0, "{op:?} reached by a tenant token");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticated_routes_accept_any_valid_token_even_without_scopes() {
    let app = spawn().await;
    let ids = Ids::nonexistent();
    let mut seen = 0;
    for route in routes::table().routes().iter().filter(|r| r.access == Access::Authenticated) {
        let s = sample(route, &ids);
        for scopes in [vec![], vec![Scope::EventsRead]] {
            let r = send(&app, route, &s, Some(&app.token("acme", &scopes)), None).await;
            assert!(r.status.is_success(), "{} with scopes {scopes:?}: {} {}", name(route), r.status, r.text);
        }
        seen += 1;
    }
    assert!(seen >= 1, "no Authenticated route left in the table: drop this test deliberately");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_public_routes_answer_without_a_token() {
    let app = spawn().await;
    let ids = Ids::nonexistent();
    let mut public = Vec::new();
    for route in routes::table().routes() {
        let s = sample(route, &ids);
        let before = upstream_calls(&app);
        let r = send(&app, route, &s, None, None).await;
        if route.access == Access::Public {
            public.push(name(route));
            if s.junk {
                assert_junk_refused(&r, &format!("{} without a token", name(route)));
                // A token changes nothing: the route is not tenant-scoped, whoever's token it carries.
                let with = send(&app, route, &s, Some(&app.admin("acme")), None).await;
                assert_junk_refused(&with, &format!("{} with a tenant token", name(route)));
                assert_eq!(with.status, r.status, "{}", with.text);
                assert_eq!(with.json["code"], r.json["code"], "{}", with.text);
                assert!(with.header("ratelimit").is_none(), "{}: a tenant's rate limit applied", name(route));
            } else {
                assert!(r.status.is_success(), "{} is public: {} {}", name(route), r.status, r.text);
            }
        } else {
            assert_problem(
                &r,
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                &format!("{} without a token", name(route)),
            );
            assert!(r.header("www-authenticate").is_some_and(|c| c.starts_with("Bearer ")), "{}", name(route));
            assert_eq!(upstream_calls(&app), before, "{} without a token reached the platform", name(route));
        }
    }
    // Public: health, readiness, metrics and the platform's webhook — nothing under /v1.
    assert_eq!(public, ["GET /healthz", "GET /livez", "GET /readyz", "GET /metrics", "POST /webhooks/merchant"]);
}
