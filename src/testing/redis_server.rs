//! Private Redis deployments for tests, on free ports: a plain `redis-server` (which a test can pause
//! with SIGSTOP, resume and kill), a TLS-only one with a certificate made for the test (clients must
//! present a certificate too), and a 3-master Redis Cluster.
//!
//! Where a binary is missing the test says so loudly and skips — except in CI (`CI=true`), where a
//! missing Redis is a failure.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::tls_certs::TlsFiles;

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    args: Vec<String>,
    tls: Option<TlsFiles>,
    /// The data directory of a durable server, removed on drop.
    dir: Option<PathBuf>,
}

/// `true` when `bin` runs; otherwise `false` after a loud message, or a panic in CI.
#[allow(clippy::panic)]
pub fn binary_available(bin: &str) -> bool {
    if Command::new(bin).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok() {
        return true;
    }
    let ci = std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false);
    if ci {
        panic!("{bin} is not installed, and CI=true: Redis-backed tests must run in CI");
    }
    eprintln!("\n!!! SKIPPING: {bin} binary not found; install Redis to run this test !!!\n");
    false
}

fn base_args(port: u16) -> Vec<String> {
    ["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"].map(str::to_owned).to_vec()
}

/// Whether the server just spawned came up on `port` as itself. `free_port` races with every other
/// test process: a port another server took between our probe and our bind would connect us to
/// *its* Redis, so on a plain port the answering process must be ours (`INFO server`).
fn came_up(child: &mut Child, port: u16, plain: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false; // it could not bind
        }
        if plain {
            match server_pid(port) {
                Some(pid) if pid == child.id() => return true,
                Some(_) => return false,
                None => {}
            }
        } else if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The process id of the Redis server answering on `port` (`INFO server`), if one answers.
fn server_pid(port: u16) -> Option<u32> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    conn.write_all(b"INFO server\r\n").ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&buf).contains("process_id:") || !buf.ends_with(b"\r\n") {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf);
    let line = text.lines().find(|l| l.starts_with("process_id:"))?;
    line.trim_start_matches("process_id:").trim().parse().ok()
}

#[allow(clippy::expect_used)]
fn spawn(args: &[String]) -> Child {
    Command::new("redis-server")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server")
}

#[allow(clippy::panic)]
fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server on port {port} did not start");
}

impl RedisServer {
    /// Starts a server, or returns `None` (after a loud message) when `redis-server` is not installed
    /// outside CI. Panics in CI or when the server does not come up.
    pub fn start() -> Option<Self> {
        if !binary_available("redis-server") {
            return None;
        }
        Some(Self::launch(base_args, None, None))
    }

    /// A server that writes every command to its append-only file before answering
    /// (`appendfsync always`), as a managed Redis with persistence does: `kill` + `restart` loses
    /// nothing that was acknowledged.
    pub fn start_durable() -> Option<Self> {
        if !binary_available("redis-server") {
            return None;
        }
        let dir = std::env::temp_dir().join(format!("cg-redis-{}", uuid::Uuid::new_v4()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            return None;
        }
        let d = dir.display().to_string();
        let args = move |port: u16| {
            let mut a = base_args(port);
            a.truncate(a.len() - 2); // drop "--appendonly no"
            a.extend(["--appendonly", "yes", "--appendfsync", "always", "--dir", &d].map(str::to_owned));
            a
        };
        Some(Self::launch(args, None, Some(dir)))
    }

    /// A TLS-only server (`--port 0`): clients must trust `tls().path("ca.pem")` and present a
    /// certificate signed by it (`client.pem` / `client.key`).
    pub fn start_tls() -> Option<Self> {
        if !binary_available("redis-server") {
            return None;
        }
        let files = TlsFiles::generate();
        let (cert, key, ca) = (files.path_str("server.pem"), files.path_str("server.key"), files.path_str("ca.pem"));
        let args = move |port: u16| {
            let mut args = base_args(0);
            args.extend(
                [
                    "--tls-port",
                    &port.to_string(),
                    "--tls-cert-file",
                    &cert,
                    "--tls-key-file",
                    &key,
                    "--tls-ca-cert-file",
                    &ca,
                    "--tls-auth-clients",
                    "yes",
                ]
                .map(str::to_owned),
            );
            args
        };
        Some(Self::launch(args, Some(files), None))
    }

    /// Starts `redis-server` with `args(port)` on a free port, trying other ports when one turns out
    /// to be taken.
    #[allow(clippy::panic)]
    fn launch(args: impl Fn(u16) -> Vec<String>, tls: Option<TlsFiles>, dir: Option<PathBuf>) -> Self {
        for _ in 0..8 {
            let port = free_port();
            let args = args(port);
            let mut child = spawn(&args);
            if came_up(&mut child, port, tls.is_none()) {
                return Self { child: Some(child), port, args, tls, dir };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start on any of 8 free ports");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }

    /// The certificates of a server from `start_tls`.
    pub fn tls(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    fn signal(&self, sig: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill").args([sig, &child.id().to_string()]).status();
        }
    }

    /// Freezes the server: connections stay open, nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Kills the server (SIGKILL); `restart` brings one up on the same port: empty, or with every
    /// acknowledged write for a durable server.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-CONT", &child.id().to_string()]).status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) {
        self.kill();
        self.child = Some(spawn(&self.args));
        wait_for_port(self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Three masters (no replicas) on free ports, all 16384 slots assigned, made with
/// `redis-cli --cluster create`. Dropping it kills the nodes and removes their state files.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    dir: PathBuf,
}

impl RedisCluster {
    #[allow(clippy::expect_used, clippy::panic)]
    pub fn start() -> Option<Self> {
        if !binary_available("redis-server") || !binary_available("redis-cli") {
            return None;
        }
        let dir = std::env::temp_dir().join(format!("cg-cluster-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create the cluster directory");
        let mut cluster = Self { nodes: Vec::new(), dir };
        for _ in 0..3 {
            let dir = cluster.dir.clone();
            let args = move |port: u16| {
                let mut args = base_args(port);
                let conf = dir.join(format!("nodes-{port}.conf")).to_string_lossy().into_owned();
                args.extend(
                    [
                        "--cluster-enabled",
                        "yes",
                        "--cluster-port",
                        &free_port().to_string(),
                        "--cluster-config-file",
                        &conf,
                        "--cluster-node-timeout",
                        "5000",
                    ]
                    .map(str::to_owned),
                );
                args
            };
            cluster.nodes.push(RedisServer::launch(args, None, None));
        }
        let addrs: Vec<String> = cluster.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .arg("--cluster-yes")
            .output()
            .expect("run redis-cli --cluster create");
        if !out.status.success() {
            panic!("redis-cli --cluster create failed: {}", String::from_utf8_lossy(&out.stdout));
        }
        cluster.wait_until_ok();
        Some(cluster)
    }

    /// `--cluster create` returns before every node has learnt the slot map from the others.
    #[allow(clippy::panic)]
    fn wait_until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let all_ok = self.nodes.iter().all(|n| {
                Command::new("redis-cli")
                    .args(["-p", &n.port.to_string(), "cluster", "info"])
                    .output()
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
            });
            if all_ok {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the Redis Cluster did not reach cluster_state:ok");
    }

    /// Seed nodes, comma-separated: the `redis.url` of `redis.mode = "cluster"`.
    pub fn urls(&self) -> String {
        self.nodes.iter().map(RedisServer::url).collect::<Vec<_>>().join(",")
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(RedisServer::port).collect()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.nodes.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The master name the test sentinels monitor.
pub const SENTINEL_MASTER: &str = "cg-test";

/// A master, one replica of it and one sentinel watching them (quorum 1, failure detected after
/// 500 ms), each on a free port. Dropping it kills all three and removes the sentinel's state.
pub struct RedisSentinel {
    master: RedisServer,
    replica: RedisServer,
    sentinel: Option<Child>,
    port: u16,
    dir: PathBuf,
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

impl RedisSentinel {
    #[allow(clippy::expect_used, clippy::panic)]
    pub fn start() -> Option<Self> {
        if !binary_available("redis-server") || !binary_available("redis-cli") {
            return None;
        }
        let master = RedisServer::launch(base_args, None, None);
        let mport = master.port.to_string();
        let replica = RedisServer::launch(
            move |port| {
                let mut a = base_args(port);
                a.extend(["--replicaof", "127.0.0.1", &mport].map(str::to_owned));
                a
            },
            None,
            None,
        );
        let dir = std::env::temp_dir().join(format!("cg-sentinel-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create the sentinel directory");
        let port = free_port();
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor {SENTINEL_MASTER} 127.0.0.1 {} 1\n\
                 sentinel down-after-milliseconds {SENTINEL_MASTER} 500\n\
                 sentinel failover-timeout {SENTINEL_MASTER} 3000\nsentinel parallel-syncs {SENTINEL_MASTER} 1\n",
                dir.display(),
                master.port
            ),
        )
        .expect("write sentinel.conf");
        let sentinel = Command::new("redis-server")
            .arg(&conf)
            .arg("--sentinel")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server --sentinel");
        wait_for_port(port);
        let me = Self { master, replica, sentinel: Some(sentinel), port, dir };
        // Ready when the replica has synced and the sentinel has found it (a failover needs both).
        me.wait_for("the replica to sync and the sentinel to see it", |s| {
            redis_cli(s.replica.port, &["info", "replication"]).contains("master_link_status:up")
                && redis_cli(s.port, &["sentinel", "replicas", SENTINEL_MASTER]).contains(&s.replica.port.to_string())
        });
        Some(me)
    }

    #[allow(clippy::panic)]
    fn wait_for(&self, what: &str, ready: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if ready(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Redis Sentinel test set-up: timed out waiting for {what}");
    }

    /// The sentinel's address: the `redis.url` of `redis.mode = "sentinel"`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port the sentinel currently names as the master's.
    pub fn master_port(&self) -> Option<u16> {
        let out = redis_cli(self.port, &["sentinel", "get-master-addr-by-name", SENTINEL_MASTER]);
        out.lines().nth(1).and_then(|p| p.trim().parse().ok())
    }

    pub fn replica_port(&self) -> u16 {
        self.replica.port
    }

    /// Kills the master and waits until the sentinel has promoted the replica.
    pub fn fail_over(&mut self) {
        self.master.kill();
        let replica = self.replica.port;
        self.wait_for("the sentinel to promote the replica", |s| {
            s.master_port() == Some(replica) && redis_cli(replica, &["role"]).starts_with("master")
        });
    }

    pub fn redis_settings(&self, prefix: &str) -> crate::config::stores::RedisSettings {
        settings(self.url(), crate::config::stores::RedisMode::Sentinel, prefix)
    }

    #[allow(clippy::expect_used)]
    pub fn pool(&self, prefix: &str) -> crate::storage::redis::RedisPool {
        crate::storage::redis::RedisPool::new(&self.redis_settings(prefix)).expect("pool for the test sentinel")
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        if let Some(mut child) = self.sentinel.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// `[redis]` settings for a test deployment (defaults for everything else).
pub fn settings(
    url: String,
    mode: crate::config::stores::RedisMode,
    prefix: &str,
) -> crate::config::stores::RedisSettings {
    crate::config::stores::RedisSettings {
        url: crate::sensitive::SecretString::new(url),
        mode,
        sentinel_master: SENTINEL_MASTER.to_owned(),
        tls_ca_file: String::new(),
        tls_cert_file: String::new(),
        tls_key_file: String::new(),
        connections: 2,
        timeout_ms: 2000,
        key_prefix: prefix.to_owned(),
    }
}

impl RedisServer {
    /// Settings that reach this server: for a TLS server, trusting the test CA and presenting the
    /// test client certificate.
    pub fn redis_settings(&self, prefix: &str) -> crate::config::stores::RedisSettings {
        let mut s = settings(self.url(), crate::config::stores::RedisMode::Standalone, prefix);
        if let Some(tls) = &self.tls {
            s.tls_ca_file = tls.path_str("ca.pem");
            s.tls_cert_file = tls.path_str("client.pem");
            s.tls_key_file = tls.path_str("client.key");
        }
        s
    }

    #[allow(clippy::expect_used)]
    pub fn pool(&self, prefix: &str) -> crate::storage::redis::RedisPool {
        crate::storage::redis::RedisPool::new(&self.redis_settings(prefix)).expect("pool for the test server")
    }
}

impl RedisCluster {
    pub fn redis_settings(&self, prefix: &str) -> crate::config::stores::RedisSettings {
        settings(self.urls(), crate::config::stores::RedisMode::Cluster, prefix)
    }

    #[allow(clippy::expect_used)]
    pub fn pool(&self, prefix: &str) -> crate::storage::redis::RedisPool {
        crate::storage::redis::RedisPool::new(&self.redis_settings(prefix)).expect("pool for the test cluster")
    }
}
