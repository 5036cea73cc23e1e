//! A private `redis-server` on a free port, which a test can pause (SIGSTOP), resume and kill.
//!
//! Where the binary is missing the test says so loudly and skips — except in CI (`CI=true`), where a
//! missing Redis is a failure.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// Persistence arguments (empty: keeps nothing, so a restart comes back empty).
    persistence: Vec<String>,
    /// The data directory of a durable server, removed on drop.
    dir: Option<std::path::PathBuf>,
}

impl RedisServer {
    /// Starts a server, or returns `None` (after a loud message) when `redis-server` is not installed
    /// outside CI. Panics in CI or when the server does not come up.
    pub fn start() -> Option<Self> {
        Self::start_with(Vec::new(), None)
    }

    /// A server that writes every command to its append-only file before answering
    /// (`appendfsync always`), as a managed Redis with persistence does: `kill` + `restart` loses
    /// nothing that was acknowledged.
    pub fn start_durable() -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("card-gateway-redis-{}-{}", std::process::id(), free_port()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("cannot create {}: {e}", dir.display());
            return None;
        }
        let args = ["--appendonly", "yes", "--appendfsync", "always", "--dir"].map(str::to_owned).to_vec();
        let mut args = args;
        args.push(dir.display().to_string());
        Self::start_with(args, Some(dir))
    }

    #[allow(clippy::expect_used, clippy::panic)]
    fn start_with(persistence: Vec<String>, dir: Option<std::path::PathBuf>) -> Option<Self> {
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_err() {
            let ci = std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false);
            if ci {
                panic!("redis-server is not installed, and CI=true: Redis-backed tests must run in CI");
            }
            eprintln!("\n!!! SKIPPING: redis-server binary not found; install Redis to run this test !!!\n");
            return None;
        }
        // `free_port` races with every other test process: a port another server took between our
        // probe and our bind would connect us to *its* Redis. Accept the port only when the server
        // answering there is our own process.
        for _ in 0..8 {
            let port = free_port();
            let mut child = spawn_server(port, &persistence);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // it could not bind: try another port
                }
                match server_pid(port) {
                    Some(pid) if pid == child.id() => {
                        return Some(Self { child: Some(child), port, persistence, dir });
                    }
                    Some(_) => break, // somebody else's server
                    None => std::thread::sleep(Duration::from_millis(20)),
                }
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
        format!("redis://127.0.0.1:{}/0", self.port)
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

    #[allow(clippy::expect_used, clippy::panic)]
    pub fn restart(&mut self) {
        self.kill();
        self.child = Some(spawn_server(self.port, &self.persistence));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not restart");
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

#[allow(clippy::expect_used)]
fn spawn_server(port: u16, persistence: &[String]) -> Child {
    let mut cmd = Command::new("redis-server");
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""]);
    if persistence.is_empty() {
        cmd.args(["--appendonly", "no"]);
    } else {
        cmd.args(persistence);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn redis-server")
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

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}
