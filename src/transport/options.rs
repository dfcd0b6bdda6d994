//! Client options as `httpx.HTTPTransport` names them ([`ClientOptions`]) and their
//! translation into a reqwest client: TLS verification and client certificates (rustls
//! with the ring provider), HTTP versions, pool limits, proxies and the environment.
//! Sending requests is `client.rs`'s job.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::error::{TransportError, TransportErrorKind};
use super::lazy_roots::LazyRoots;
use super::phases::ConnectTimeoutLayer;

/// How to verify servers' TLS certificates (httpx's `verify`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Verify {
    /// The system's trust store (or `SSL_CERT_FILE` / `SSL_CERT_DIR` with `trust_env`).
    #[default]
    Default,
    /// No verification (`verify=False`).
    Disabled,
    /// Only the CAs in this PEM file or directory of PEM files (`verify="path"`).
    CaBundle(PathBuf),
}

/// A transport's settings; `Default` matches httpx's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// Server certificate verification.
    pub verify: Verify,
    /// A client certificate (PEM) and its private key (PEM; `None` when the certificate
    /// file holds the key too).
    pub cert: Option<(PathBuf, Option<PathBuf>)>,
    /// Whether HTTP/1.1 may be used.
    pub http1: bool,
    /// Whether HTTP/2 may be used (negotiated by ALPN over TLS; prior knowledge if
    /// HTTP/1.1 is off).
    pub http2: bool,
    /// Most requests in flight at once (each holds its slot until its body is done).
    pub max_connections: Option<usize>,
    /// Most idle connections kept per host.
    pub max_keepalive_connections: Option<usize>,
    /// How long an idle connection is kept.
    pub keepalive_expiry: Option<Duration>,
    /// A proxy URL for every request (`http://`, `https://`).
    pub proxy: Option<String>,
    /// Whether to read `HTTP(S)_PROXY`, `ALL_PROXY`, `NO_PROXY`, `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR`.
    pub trust_env: bool,
    /// Connection attempts repeated after a connect error or connect timeout.
    pub retries: u32,
    /// The local address to connect from.
    pub local_address: Option<IpAddr>,
    /// The runtime its requests and reads run on.
    pub runtime: RuntimeKind,
}

/// Where a client's requests and reads run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuntimeKind {
    /// On the shared runtime's thread, which reads each body ahead of its consumer.
    #[default]
    Shared,
    /// On the runtime run by the waiting caller (`driven.rs`): for sync clients, whose
    /// blocking calls are then the only ones that work.
    CallerDriven,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            verify: Verify::Default,
            cert: None,
            http1: true,
            http2: false,
            max_connections: Some(100),
            max_keepalive_connections: Some(20),
            keepalive_expiry: Some(Duration::from_secs(5)),
            proxy: None,
            trust_env: true,
            retries: 0,
            local_address: None,
            runtime: RuntimeKind::Shared,
        }
    }
}

fn invalid(message: String) -> TransportError {
    TransportError::new(TransportErrorKind::InvalidOptions, message)
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path)
        .map_err(|err| invalid(format!("cannot read the {what} {}: {err}", path.display())))
}

/// The PEM files of a CA path: the file itself, or a directory's `.pem` / `.crt` files
/// (and OpenSSL's hashed names).
fn ca_files(path: &Path) -> Result<Vec<PathBuf>, TransportError> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path).map_err(|err| {
        invalid(format!(
            "cannot list the CA directory {}: {err}",
            path.display()
        ))
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let file = entry.path();
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if matches!(ext, "pem" | "crt") || ext.chars().all(|c| c.is_ascii_digit()) {
            files.push(file);
        }
    }
    files.sort();
    Ok(files)
}

/// The CA certificates in a PEM file, or in every `.pem` / `.crt` file of a directory.
fn load_cas(path: &Path) -> Result<Vec<reqwest::Certificate>, TransportError> {
    let mut certs = Vec::new();
    for file in ca_files(path)? {
        let pem = read_file(&file, "CA bundle")?;
        let found = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|err| invalid(format!("no PEM certificates in {}: {err}", file.display())))?;
        certs.extend(found);
    }
    if certs.is_empty() {
        return Err(invalid(format!(
            "no PEM certificates in {}",
            path.display()
        )));
    }
    Ok(certs)
}

/// The TLS setup that trusts the CAs at `path`, read at the first handshake
/// (`lazy_roots.rs`), with the ALPN protocols the HTTP versions allow.
fn lazy_tls(
    options: &ClientOptions,
    path: &Path,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<rustls::ClientConfig, TransportError> {
    let verifier = LazyRoots::new(ca_files(path)?, Arc::clone(&provider));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| invalid(format!("cannot set up TLS: {err}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = match (options.http1, options.http2) {
        (true, false) => vec![b"http/1.1".to_vec()],
        (false, true) => vec![b"h2".to_vec()],
        _ => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    };
    Ok(config)
}

/// Where Linux distributions keep the system's CA bundle.
const SYSTEM_BUNDLES: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The CA path `verify` asks for: `SSL_CERT_FILE` / `SSL_CERT_DIR` with `trust_env`;
/// without it, the system bundle read directly (reqwest's default verifier would honour
/// those variables whatever `trust_env` says). `None`: reqwest's default verifier.
fn ca_path(options: &ClientOptions) -> Option<PathBuf> {
    match &options.verify {
        Verify::CaBundle(path) => Some(path.clone()),
        Verify::Default if options.trust_env => ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .into_iter()
            .filter_map(std::env::var_os)
            .map(PathBuf::from)
            .find(|p| p.exists()),
        Verify::Default => SYSTEM_BUNDLES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists()),
        Verify::Disabled => None,
    }
}

/// The process-wide rustls provider: ring, unless something installed one already.
fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    if let Some(installed) = rustls::crypto::CryptoProvider::get_default() {
        return Arc::clone(installed);
    }
    // Err means another thread won the race; either way a provider is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// Builds the reqwest client for `options`.
pub(crate) fn build(options: &ClientOptions) -> Result<reqwest::Client, TransportError> {
    let provider = crypto_provider();
    let mut builder = reqwest::Client::builder()
        // httpx follows redirects and sets every header itself.
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(reqwest::header::HeaderMap::new())
        .connector_layer(ConnectTimeoutLayer)
        .tcp_nodelay(true);
    builder = match (options.http1, options.http2) {
        (true, false) => builder.http1_only(),
        (false, true) => builder.http2_prior_knowledge(),
        (true, true) => builder,
        (false, false) => {
            return Err(invalid(
                "http1 and http2 are both off: no HTTP version left to speak".to_owned(),
            ))
        }
    };
    match (&options.verify, ca_path(options)) {
        (Verify::Disabled, _) => builder = builder.tls_danger_accept_invalid_certs(true),
        // The system's bundle (or the environment's), read at the first handshake. A
        // client certificate needs reqwest's own setup, and a path the caller names is
        // checked now, as httpx checks it.
        (Verify::Default, Some(path)) if options.cert.is_none() => {
            builder = builder.tls_backend_preconfigured(lazy_tls(options, &path, provider)?);
        }
        (_, Some(path)) => builder = builder.tls_certs_only(load_cas(&path)?),
        (_, None) => {}
    }
    if let Some((cert, key)) = &options.cert {
        let mut pem = read_file(cert, "client certificate")?;
        if let Some(key) = key {
            pem.push(b'\n');
            pem.extend(read_file(key, "client key")?);
        }
        let identity = reqwest::Identity::from_pem(&pem).map_err(|err| {
            invalid(format!(
                "cannot use the client certificate {}: {err}",
                cert.display()
            ))
        })?;
        builder = builder.identity(identity);
    }
    if let Some(n) = options.max_keepalive_connections {
        builder = builder.pool_max_idle_per_host(n);
    }
    builder = builder.pool_idle_timeout(options.keepalive_expiry);
    if let Some(proxy) = &options.proxy {
        let proxy = reqwest::Proxy::all(proxy.as_str())
            .map_err(|err| invalid(format!("invalid proxy URL: {err}")))?;
        builder = builder.proxy(proxy);
    } else if !options.trust_env {
        builder = builder.no_proxy();
    }
    if let Some(addr) = options.local_address {
        builder = builder.local_address(addr);
    }
    builder
        .build()
        .map_err(|err| invalid(format!("cannot build the HTTP client: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_builds_a_client() {
        let dir = std::env::temp_dir();
        for options in [
            ClientOptions::default(),
            ClientOptions {
                verify: Verify::Disabled,
                http2: true,
                proxy: Some("http://127.0.0.1:3128".to_owned()),
                local_address: Some(IpAddr::from([127, 0, 0, 1])),
                max_connections: None,
                max_keepalive_connections: None,
                keepalive_expiry: None,
                trust_env: false,
                retries: 3,
                ..ClientOptions::default()
            },
            ClientOptions {
                http1: false,
                http2: true,
                ..ClientOptions::default()
            },
        ] {
            build(&options).unwrap();
        }
        let missing = ClientOptions {
            verify: Verify::CaBundle(dir.join("seltzer-no-such-bundle.pem")),
            ..ClientOptions::default()
        };
        let err = build(&missing).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::InvalidOptions);
        assert!(
            err.message().contains("seltzer-no-such-bundle.pem"),
            "{err}"
        );
        let none = ClientOptions {
            http1: false,
            ..ClientOptions::default()
        };
        assert_eq!(
            build(&none).unwrap_err().kind(),
            TransportErrorKind::InvalidOptions
        );
        let bad_proxy = ClientOptions {
            proxy: Some("::not a url".to_owned()),
            ..ClientOptions::default()
        };
        assert_eq!(
            build(&bad_proxy).unwrap_err().kind(),
            TransportErrorKind::InvalidOptions
        );
    }
}
