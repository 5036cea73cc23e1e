//! CORS for browser frontends (`[cors]`, issue 11 item 1): preflights are answered before auth, rate
//! limiting, idempotency and the 405 fallback; actual answers carry Allow-Origin and the exposed headers.

use card_gateway::{
    config::{Environment, Settings},
    startup::Application,
    upstream::ops::Operation,
};
use reqwest::{Method, StatusCode, header::HeaderMap};

use crate::common::{TestApp, spawn_app, spawn_with, test_settings};

const CONSOLE: &str = "https://console.example.com";

fn allow_console(s: &mut Settings) {
    s.cors.allowed_origins = vec![CONSOLE.to_owned()];
    s.cors.max_age_s = 600;
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn access_control_headers(h: &HeaderMap) -> Vec<String> {
    h.keys().map(|k| k.as_str().to_owned()).filter(|k| k.starts_with("access-control-")).collect()
}

/// A browser's preflight for `method path` from `origin`, without any token.
async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str, headers: &str) -> (StatusCode, HeaderMap) {
    let res = app
        .client
        .request(Method::OPTIONS, format!("{}{path}", app.base))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .unwrap();
    (res.status(), res.headers().clone())
}

fn platform_calls(app: &TestApp) -> u64 {
    Operation::ALL.iter().map(|op| app.sim.calls(*op)).sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preflight_from_an_allowed_origin_is_answered_without_a_token() {
    let app = spawn_with(allow_console).await;
    let (status, h) =
        preflight(&app, "/v1/cards", CONSOLE, "POST", "authorization, content-type, idempotency-key").await;
    assert!(status.is_success(), "preflight answered {status}");
    assert_eq!(header(&h, "access-control-allow-origin"), Some(CONSOLE));
    let methods = header(&h, "access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
    for m in ["POST", "GET", "PATCH", "DELETE"] {
        assert!(methods.split(',').any(|x| x.trim() == m), "{m} missing from Allow-Methods {methods:?}");
    }
    let allowed = header(&h, "access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["authorization", "content-type", "idempotency-key", "x-request-id", "last-event-id"] {
        assert!(allowed.split(',').any(|x| x.trim() == name), "{name} missing from Allow-Headers {allowed:?}");
    }
    assert_eq!(header(&h, "access-control-max-age"), Some("600"));
    assert_eq!(header(&h, "access-control-allow-credentials"), None, "credentials are never allowed");
    assert!(header(&h, "x-request-id").is_some(), "preflights get a request id like every request");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_actual_request_from_an_allowed_origin_exposes_the_request_id_and_rate_limit_headers() {
    let app = spawn_with(allow_console).await;
    let token = app.admin("acme");
    let res = app
        .client
        .get(format!("{}/v1/cards", app.base))
        .bearer_auth(&token)
        .header("Origin", CONSOLE)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some(CONSOLE));
    let exposed = header(h, "access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    for name in ["x-request-id", "idempotent-replayed", "ratelimit", "ratelimit-policy", "retry-after", "location"] {
        assert!(exposed.split(',').any(|x| x.trim() == name), "{name} missing from Expose-Headers {exposed:?}");
    }
    assert!(header(h, "x-request-id").is_some());
    assert_eq!(header(h, "access-control-allow-credentials"), None);
    // Problems are readable by the page too (a 401 without a token carries Allow-Origin).
    let res = app.client.get(format!("{}/v1/cards", app.base)).header("Origin", CONSOLE).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(res.headers(), "access-control-allow-origin"), Some(CONSOLE));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_origin_not_listed_gets_no_allow_origin_and_no_server_error() {
    let app = spawn_with(allow_console).await;
    let (status, h) = preflight(&app, "/v1/cards", "https://evil.example", "POST", "authorization").await;
    assert!(status.is_client_error(), "refused preflight answered {status}");
    assert_eq!(header(&h, "access-control-allow-origin"), None);
    assert_eq!(header(&h, "content-type"), Some("application/problem+json"));
    assert!(header(&h, "vary").is_some_and(|v| v.contains("Origin")), "the refusal varies by Origin");
    // The actual request still runs (curl, servers) but the browser gets no Allow-Origin.
    let token = app.admin("acme");
    let res = app
        .client
        .get(format!("{}/v1/cards", app.base))
        .bearer_auth(&token)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(res.headers(), "access-control-allow-origin"), None);
    // From the allowed origin, a method no route has, or a header not allowed, is refused as a problem too.
    for (method, headers) in [("PUT", "authorization"), ("POST", "authorization, x-something-else")] {
        let (status, h) = preflight(&app, "/v1/cards", CONSOLE, method, headers).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {headers}");
        assert_eq!(header(&h, "content-type"), Some("application/problem+json"), "{method} {headers}");
        assert_eq!(header(&h, "access-control-allow-origin"), None, "{method} {headers}");
    }
    // A look-alike of the allowed origin (other scheme, other port) is another origin.
    for other in ["http://console.example.com", "https://console.example.com:8443"] {
        let (status, h) = preflight(&app, "/v1/cards", other, "GET", "authorization").await;
        assert!(status.is_client_error(), "{other}: {status}");
        assert_eq!(header(&h, "access-control-allow-origin"), None, "{other}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_cors_off_by_default_a_preflight_gets_no_cors_headers() {
    let app = spawn_app().await;
    assert!(app.settings.cors.allowed_origins.is_empty(), "the committed default is CORS off");
    let (status, h) = preflight(&app, "/v1/cards", CONSOLE, "POST", "authorization").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "no CORS: OPTIONS is an ordinary unknown method");
    assert_eq!(access_control_headers(&h), Vec::<String>::new());
    let token = app.admin("acme");
    let res = app
        .client
        .get(format!("{}/v1/cards", app.base))
        .bearer_auth(&token)
        .header("Origin", CONSOLE)
        .send()
        .await
        .unwrap();
    assert_eq!(access_control_headers(res.headers()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn preflights_consume_no_rate_limit_and_make_no_platform_call() {
    let app = spawn_with(|s| {
        allow_console(s);
        for q in [&mut s.rate_limit.classes.read, &mut s.rate_limit.classes.write] {
            q.rate_per_s = 0.001;
            q.burst = 2;
        }
    })
    .await;
    let token = app.admin("acme");
    let before = platform_calls(&app);
    for i in 0..20 {
        for method in ["GET", "POST"] {
            // Some clients send the token even on OPTIONS; it is not looked at either.
            let res = app
                .client
                .request(Method::OPTIONS, format!("{}/v1/cards", app.base))
                .bearer_auth(&token)
                .header("Origin", CONSOLE)
                .header("Access-Control-Request-Method", method)
                .header("Access-Control-Request-Headers", "authorization, idempotency-key")
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "preflight {i} {method}: {}", res.status());
            assert_eq!(header(res.headers(), "ratelimit"), None, "a preflight is not rate limited");
        }
    }
    assert_eq!(platform_calls(&app), before, "preflights reached the platform");
    // The tenant's whole burst is still there.
    for _ in 0..2 {
        let res = app.get("/v1/cards", &token).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    assert_eq!(app.get("/v1/cards", &token).await.status, StatusCode::TOO_MANY_REQUESTS, "the limit is real");
}

#[tokio::test(flavor = "multi_thread")]
async fn production_refuses_a_wildcard_origin_and_development_allows_it() {
    let mut s = test_settings();
    s.environment = Environment::Production;
    s.cors.allowed_origins = vec!["*".to_owned()];
    let e = Application::build(s).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(e.contains("cors.allowed_origins = [\"*\"] is not allowed in production"), "{e}");

    let app = spawn_with(|s| s.cors.allowed_origins = vec!["*".to_owned()]).await;
    let (status, h) = preflight(&app, "/v1/cards", "http://localhost:5173", "POST", "authorization").await;
    assert!(status.is_success(), "{status}");
    assert_eq!(header(&h, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&h, "access-control-allow-credentials"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_origin_with_a_path_is_refused_at_start_up() {
    let mut s = test_settings();
    s.cors.allowed_origins = vec!["https://console.example.com/app".to_owned()];
    let e = Application::build(s).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(e.contains("cors.allowed_origins entry \"https://console.example.com/app\""), "{e}");
}
