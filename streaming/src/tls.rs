//! HTTPS for signalling: WHIP and WHEP over TLS (rustls), so pages served over HTTPS can reach
//! the node without mixed content. Connections are accepted and their handshakes run on tasks
//! of their own, at most [`MAX_HANDSHAKES`] at once ([`MAX_HANDSHAKES_PER_ADDRESS`] from one
//! address) and each for at most [`HANDSHAKE_TIMEOUT`], so a client that opens connections and
//! stalls holds nobody else up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::engine::LOG_TARGET;

/// TLS handshakes in progress at once, at most.
pub const MAX_HANDSHAKES: usize = 256;
/// TLS handshakes in progress at once from one address, at most: one host cannot take all of
/// [`MAX_HANDSHAKES`].
pub const MAX_HANDSHAKES_PER_ADDRESS: usize = 8;
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

/// Runs `f` when dropped.
struct OnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for OnDrop<F> {
	fn drop(&mut self) {
		if let Some(f) = self.0.take() {
			f();
		}
	}
}

fn scopeguard<F: FnOnce()>(f: F) -> OnDrop<F> {
	OnDrop(Some(f))
}

/// Accepted TLS connections, for the HTTP server.
pub(crate) struct TlsListener {
	ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
	local: SocketAddr,
}

impl TlsListener {
	/// Accepts connections on `tcp` and completes their handshakes with `acceptor` until
	/// `shutdown`.
	pub(crate) fn new(
		tcp: TcpListener,
		acceptor: TlsAcceptor,
		shutdown: CancellationToken,
	) -> std::io::Result<Self> {
		let local = tcp.local_addr()?;
		let (done, ready) = mpsc::channel(64);
		tokio::spawn(async move {
			let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
			let per_address: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>> =
				Default::default();
			loop {
				let accepted = tokio::select! {
					_ = shutdown.cancelled() => return,
					accepted = tcp.accept() => accepted,
				};
				let (stream, remote) = match accepted {
					Ok(accepted) => accepted,
					Err(error) => {
						tracing::debug!(target: LOG_TARGET, %error, "accepting a connection");
						tokio::time::sleep(Duration::from_millis(50)).await;
						continue;
					},
				};
				let Ok(permit) = handshakes.clone().try_acquire_owned() else {
					// Too many handshakes at once: this connection is closed unanswered.
					continue;
				};
				{
					let mut in_flight =
						per_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
					let mine = in_flight.entry(remote.ip()).or_insert(0);
					if *mine >= MAX_HANDSHAKES_PER_ADDRESS {
						continue;
					}
					*mine += 1;
				}
				let (acceptor, done, per_address) =
					(acceptor.clone(), done.clone(), per_address.clone());
				tokio::spawn(async move {
					let _permit = permit;
					let _counted = scopeguard(move || {
						let mut in_flight =
							per_address.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
						if let Some(mine) = in_flight.get_mut(&remote.ip()) {
							*mine -= 1;
							if *mine == 0 {
								in_flight.remove(&remote.ip());
							}
						}
					});
					match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
						Ok(Ok(tls)) => {
							let _ = done.send((tls, remote)).await;
						},
						Ok(Err(error)) => {
							tracing::debug!(target: LOG_TARGET, %remote, %error, "TLS handshake failed")
						},
						Err(_) => tracing::debug!(target: LOG_TARGET, %remote, "TLS handshake timed out"),
					}
				});
			}
		});
		Ok(Self { ready, local })
	}
}

impl axum::serve::Listener for TlsListener {
	type Io = TlsStream<TcpStream>;
	type Addr = SocketAddr;

	async fn accept(&mut self) -> (Self::Io, Self::Addr) {
		match self.ready.recv().await {
			Some(accepted) => accepted,
			// The acceptor stopped (shutdown): no more connections.
			None => std::future::pending().await,
		}
	}

	fn local_addr(&self) -> std::io::Result<Self::Addr> {
		Ok(self.local)
	}
}
