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

/// A `MONITOR` client on a private Redis: counts the commands clients sent (round trips), telling
/// them apart from the commands scripts ran inside Redis (`[0 lua]`), between two markers.
pub struct Monitor {
    lines: std::sync::Arc<parking_lot::Mutex<Vec<String>>>,
    port: u16,
}

impl Monitor {
    pub fn start(server: &RedisServer) -> Self {
        use std::io::{BufRead as _, Write as _};
        let port = server.port();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.write_all(b"MONITOR\r\n").unwrap();
        let lines = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                sink.lock().push(line);
            }
        });
        let m = Self { lines, port };
        m.wait_for("+OK");
        m
    }

    fn wait_for(&self, needle: &str) {
        for _ in 0..500 {
            if self.lines.lock().iter().any(|l| l.contains(needle)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("MONITOR never showed {needle}");
    }

    /// Commands clients sent while `work` ran, one per round trip (the markers and scripts' inner
    /// commands excluded).
    pub async fn round_trips<F: std::future::Future<Output = T>, T>(&self, label: &str, work: F) -> (Vec<String>, T) {
        let (start, end) = (format!("rt-start-{label}"), format!("rt-end-{label}"));
        let mut marker = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let echo = |s: &mut std::net::TcpStream, what: &str| {
            use std::io::Write as _;
            s.write_all(format!("ECHO {what}\r\n").as_bytes()).unwrap();
        };
        echo(&mut marker, &start);
        self.wait_for(&start);
        let out = work.await;
        echo(&mut marker, &end);
        self.wait_for(&end);
        let lines = self.lines.lock();
        let from = lines.iter().position(|l| l.contains(&start)).unwrap_or(0);
        let to = lines.iter().position(|l| l.contains(&end)).unwrap_or(lines.len());
        let sent = lines[from + 1..to].iter().filter(|l| l.contains(" [") && !l.contains(" lua]")).cloned().collect();
        (sent, out)
    }
}
