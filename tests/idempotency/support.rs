//! Store set-ups shared by the idempotency tests.

use card_gateway::{
    config::{Settings, stores::StoreKind},
    testing::redis_server::RedisServer,
};

use crate::common::test_settings;

/// Points every store at `server` under a fresh key prefix.
pub fn use_redis(s: &mut Settings, server: &RedisServer) {
    s.redis.url = card_gateway::sensitive::SecretString::new(server.url());
    s.redis.key_prefix = format!("t{}", crate::common::rand_digits(8));
    s.tenancy.store = StoreKind::Redis;
    s.idempotency.store = StoreKind::Redis;
    // Generous: these tests prove correctness on a busy machine (the campaign runs beside them);
    // the outage tests set the production-like deadline themselves.
    s.redis.timeout_ms = 1_500;
}

/// The two store set-ups every contract test runs on. The Redis one is `None` (after a loud message)
/// when `redis-server` is not installed, outside CI.
pub fn store_setups() -> Vec<(&'static str, Settings, Option<RedisServer>)> {
    let mut out = vec![("memory", test_settings(), None)];
    if let Some(server) = RedisServer::start() {
        let mut s = test_settings();
        use_redis(&mut s, &server);
        out.push(("redis", s, Some(server)));
    }
    out
}
