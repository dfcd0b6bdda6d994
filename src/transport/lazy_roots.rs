//! Server certificate verification against the system's CA bundle, read at the first
//! TLS handshake rather than when the client is built. Parsing a bundle of ~150 CAs
//! costs about half a millisecond; done at build time it lands on the thread that makes
//! the client (for an async client, the event loop's, inside the first request), and a
//! client that only ever speaks plain HTTP (a local model server, the mock) pays it for
//! nothing. Read lazily, it is paid once per client, on a runtime thread, by the first
//! handshake that needs it. A bundle that cannot be read or holds no certificate then
//! fails that handshake (and every later one) with a message naming the file.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// A verifier whose roots come from `files` on first use; see the module docs.
pub(crate) struct LazyRoots {
    /// The PEM files to trust (a bundle, or a CA directory's files), for messages too.
    files: Vec<PathBuf>,
    provider: Arc<CryptoProvider>,
    /// The verifier built from the roots, or why none could be.
    verifier: OnceLock<Result<Arc<WebPkiServerVerifier>, String>>,
}

impl fmt::Debug for LazyRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyRoots")
            .field("files", &self.files)
            .field("loaded", &self.verifier.get().is_some())
            .finish_non_exhaustive()
    }
}

impl LazyRoots {
    /// Trusts the CA certificates in `files` (PEM), read when first needed.
    pub(crate) fn new(files: Vec<PathBuf>, provider: Arc<CryptoProvider>) -> Self {
        Self {
            files,
            provider,
            verifier: OnceLock::new(),
        }
    }

    fn verifier(&self) -> Result<&Arc<WebPkiServerVerifier>, Error> {
        self.verifier
            .get_or_init(|| self.load())
            .as_ref()
            .map_err(|message| Error::General(message.clone()))
    }

    fn load(&self) -> Result<Arc<WebPkiServerVerifier>, String> {
        let mut roots = RootCertStore::empty();
        for file in &self.files {
            let pem = std::fs::read(file)
                .map_err(|err| format!("cannot read the CA bundle {}: {err}", file.display()))?;
            let certs = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok);
            roots.add_parsable_certificates(certs);
        }
        if roots.is_empty() {
            return Err(format!("no usable CA certificates in {}", self.shown()));
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&self.provider))
            .build()
            .map_err(|err| format!("cannot use the CA certificates in {}: {err}", self.shown()))
    }

    fn shown(&self) -> String {
        let names: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        names.join(", ")
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn nothing_is_read_until_a_handshake_asks() {
        let missing = std::env::temp_dir().join("seltzer-lazy-roots-missing.pem");
        let lazy = LazyRoots::new(vec![missing.clone()], provider());
        assert!(format!("{lazy:?}").contains("loaded: false"));
        assert!(!lazy.supported_verify_schemes().is_empty());
        let err = lazy.verifier().unwrap_err().to_string();
        assert!(err.contains("cannot read the CA bundle"), "{err}");
        assert!(err.contains("seltzer-lazy-roots-missing.pem"), "{err}");
        // The outcome is kept: the file is not read again at every handshake.
        assert!(format!("{lazy:?}").contains("loaded: true"));
    }

    #[test]
    fn a_file_without_certificates_is_named() {
        let path = std::env::temp_dir().join(format!("seltzer-lazy-{}.pem", std::process::id()));
        std::fs::write(&path, b"not a certificate\n").unwrap();
        let err = LazyRoots::new(vec![path.clone()], provider())
            .verifier()
            .unwrap_err()
            .to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(err.contains("no usable CA certificates"), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
    }
}
