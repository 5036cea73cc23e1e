//! A throw-away PKI for TLS tests, made with the (vendored) `openssl` crate so no CLI is needed: a CA,
//! a server certificate for 127.0.0.1/localhost and a client certificate, written as PEM files to a
//! private directory that is removed on drop.

use std::path::{Path, PathBuf};

use openssl::{
    asn1::Asn1Time,
    bn::{BigNum, MsbOption},
    error::ErrorStack,
    hash::MessageDigest,
    pkey::{PKey, Private},
    rsa::Rsa,
    x509::{
        X509, X509NameBuilder,
        extension::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName},
    },
};

pub struct TlsFiles {
    dir: PathBuf,
}

impl TlsFiles {
    /// Makes the CA, the server and the client certificates.
    #[allow(clippy::expect_used)]
    pub fn generate() -> Self {
        let dir = std::env::temp_dir().join(format!("cg-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("create the certificate directory");
        let files = Self { dir };
        let (ca, ca_key) = issue("card-gateway test CA", None, Role::Ca).expect("CA certificate");
        let (server, server_key) = issue("127.0.0.1", Some((&ca, &ca_key)), Role::Server).expect("server certificate");
        let (client, client_key) =
            issue("test client", Some((&ca, &ca_key)), Role::Client).expect("client certificate");
        // A second, unrelated CA: a client that trusts only it must refuse the server.
        let (other, _) = issue("some other CA", None, Role::Ca).expect("other CA");
        for (name, pem) in [
            ("ca.pem", ca.to_pem()),
            ("server.pem", server.to_pem()),
            ("server.key", server_key.private_key_to_pem_pkcs8()),
            ("client.pem", client.to_pem()),
            ("client.key", client_key.private_key_to_pem_pkcs8()),
            ("other-ca.pem", other.to_pem()),
        ] {
            std::fs::write(files.path(name), pem.expect("PEM encoding")).expect("write a PEM file");
        }
        files
    }

    /// `ca.pem`, `server.pem`, `server.key`, `client.pem`, `client.key` or `other-ca.pem`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn path_str(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TlsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Ca,
    Server,
    Client,
}

fn issue(cn: &str, issuer: Option<(&X509, &PKey<Private>)>, role: Role) -> Result<(X509, PKey<Private>), ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", cn)?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(64, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(issuer.map_or(&name, |(ca, _)| ca.subject_name()))?;
    b.set_pubkey(&key)?;
    let (from, until) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(2)?);
    b.set_not_before(&from)?;
    b.set_not_after(&until)?;
    match role {
        Role::Ca => {
            b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
            b.append_extension(KeyUsage::new().critical().key_cert_sign().crl_sign().build()?)?;
        }
        Role::Server | Role::Client => {
            b.append_extension(BasicConstraints::new().build()?)?;
            b.append_extension(KeyUsage::new().critical().digital_signature().key_encipherment().build()?)?;
            let mut eku = ExtendedKeyUsage::new();
            if role == Role::Server {
                eku.server_auth();
            } else {
                eku.client_auth();
            }
            b.append_extension(eku.build()?)?;
            if role == Role::Server {
                let san = SubjectAlternativeName::new()
                    .ip("127.0.0.1")
                    .dns("localhost")
                    .build(&b.x509v3_context(issuer.map(|(ca, _)| ca.as_ref()), None))?;
                b.append_extension(san)?;
            }
        }
    }
    b.sign(issuer.map_or(&key, |(_, k)| k), MessageDigest::sha256())?;
    Ok((b.build(), key))
}
