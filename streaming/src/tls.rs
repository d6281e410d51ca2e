//! HTTPS for signalling: WHIP and WHEP over TLS (rustls), so pages served over HTTPS can reach
//! the node without mixed content. Each connection's handshake runs on the connection's own task
//! (see [`crate::server`]) for at most [`HANDSHAKE_TIMEOUT`], so a client that opens connections
//! and stalls holds nobody else up.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// How long a client has to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate chain and private key the signalling server presents, as PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
	/// The certificate chain, leaf first (PEM).
	pub cert: PathBuf,
	/// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
	pub key: PathBuf,
}

impl TlsFiles {
	/// A TLS acceptor for these files; the error says which file is wrong and how.
	pub fn acceptor(&self) -> Result<TlsAcceptor, String> {
		let certs = read_certs(&self.cert)?;
		let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|error| {
			format!("{}: no private key in it ({error}); give the PEM key of the certificate", self.key.display())
		})?;
		let provider = Arc::new(rustls::crypto::ring::default_provider());
		let mut config = rustls::ServerConfig::builder_with_provider(provider)
			.with_safe_default_protocol_versions()
			.map_err(|error| format!("TLS setup: {error}"))?
			.with_no_client_auth()
			.with_single_cert(certs, key)
			.map_err(|error| {
				format!(
					"{} and {} do not make a usable certificate and key: {error}",
					self.cert.display(),
					self.key.display()
				)
			})?;
		config.alpn_protocols = vec![b"http/1.1".to_vec()];
		Ok(TlsAcceptor::from(Arc::new(config)))
	}
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
	let certs = CertificateDer::pem_file_iter(path)
		.and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
		.map_err(|error| format!("{}: {error}; give a PEM certificate chain", path.display()))?;
	if certs.is_empty() {
		return Err(format!("{}: no certificate in it; give a PEM certificate chain", path.display()));
	}
	Ok(certs)
}
