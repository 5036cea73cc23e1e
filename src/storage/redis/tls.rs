//! Certificates for `rediss://`: an optional CA bundle (default: the system's trust store) and an
//! optional client certificate + key for mutual TLS, read once at startup from PEM files.

use redis::{ClientTlsConfig, TlsCertificates};

use crate::config::stores::RedisSettings;

/// `None` when no file is configured (the system roots verify the server).
pub fn certificates(settings: &RedisSettings) -> Result<Option<TlsCertificates>, String> {
    let (ca, cert, key) = (&settings.tls_ca_file, &settings.tls_cert_file, &settings.tls_key_file);
    if ca.is_empty() && cert.is_empty() && key.is_empty() {
        return Ok(None);
    }
    let root_cert = if ca.is_empty() { None } else { Some(read("redis.tls_ca_file", ca)?) };
    let client_tls = match (cert.is_empty(), key.is_empty()) {
        (true, true) => None,
        (false, false) => Some(ClientTlsConfig {
            client_cert: read("redis.tls_cert_file", cert)?,
            client_key: read("redis.tls_key_file", key)?,
        }),
        _ => return Err("redis.tls_cert_file and redis.tls_key_file must be set together".into()),
    };
    Ok(Some(TlsCertificates { client_tls, root_cert }))
}

/// Installs rustls' ring provider once per process (redis-rs builds its TLS configs from the default).
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn read(key: &str, path: &str) -> Result<Vec<u8>, String> {
    // The path is configuration, not a secret; the file's content never reaches the message.
    std::fs::read(path).map_err(|e| format!("{key}: cannot read {path}: {e}"))
}
