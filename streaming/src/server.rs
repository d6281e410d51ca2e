//! The signalling server's connections: accepted one by one, each served on a task of its own
//! (over TLS when configured), and bounded: at most [`MAX_CONNECTIONS`] open at once and
//! `max_connections_per_client` from one address (beyond, a connection is closed unread),
//! request headers read within [`HEADER_READ_TIMEOUT`] (a client that opens a connection and
//! stays silent, or sends its headers a byte at a time, is cut off), TLS handshakes within
//! [`crate::tls::HANDSHAKE_TIMEOUT`]. The handlers see the peer's address as
//! `ConnectInfo<SocketAddr>`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::engine::limits::ClientAddress;
use crate::engine::LOG_TARGET;

/// Connections open at once, at most.
pub const MAX_CONNECTIONS: usize = 4096;
/// Connections open at once from one address (an IPv6 /64 counts as one), by default
/// (`StreamingConfig::max_connections_per_client`).
pub const DEFAULT_CONNECTIONS_PER_ADDRESS: u32 = 64;
/// How long a client has to send a request's headers (on a kept-alive connection too).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopping server lets requests in flight finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Open connections per address, and in all.
#[derive(Default)]
struct Open {
	per_address: HashMap<ClientAddress, usize>,
	total: usize,
}

/// A place among the open connections, given back when dropped.
struct Place {
	open: Arc<Mutex<Open>>,
	address: ClientAddress,
}

impl Place {
	fn take(open: &Arc<Mutex<Open>>, address: ClientAddress, per_address: usize) -> Option<Place> {
		let mut counts = open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let mine = counts.per_address.get(&address).copied().unwrap_or(0);
		if counts.total >= MAX_CONNECTIONS || mine >= per_address {
			return None;
		}
		counts.total += 1;
		counts.per_address.insert(address, mine + 1);
		Some(Place { open: open.clone(), address })
	}
}

impl Drop for Place {
	fn drop(&mut self) {
		let mut counts = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		counts.total = counts.total.saturating_sub(1);
		if let Some(mine) = counts.per_address.get_mut(&self.address) {
			*mine -= 1;
			if *mine == 0 {
				counts.per_address.remove(&self.address);
			}
		}
	}
}

/// Serves `router` on `listener` (over TLS with `tls`) until `shutdown`.
pub(crate) fn spawn(
	listener: TcpListener,
	tls: Option<TlsAcceptor>,
	router: Router,
	per_address: u32,
	shutdown: CancellationToken,
) {
	tokio::spawn(async move {
		let open = Arc::new(Mutex::new(Open::default()));
		loop {
			let accepted = tokio::select! {
				_ = shutdown.cancelled() => return,
				accepted = listener.accept() => accepted,
			};
			let (stream, remote) = match accepted {
				Ok(accepted) => accepted,
				Err(error) => {
					// Out of descriptors, say: wait a moment rather than spin.
					tracing::debug!(target: LOG_TARGET, %error, "accepting a connection");
					tokio::time::sleep(Duration::from_millis(50)).await;
					continue;
				},
			};
			let Some(place) =
				Place::take(&open, ClientAddress::of(remote.ip()), per_address as usize)
			else {
				tracing::debug!(target: LOG_TARGET, %remote, "too many connections: closed unread");
				continue;
			};
			let (tls, router, shutdown) = (tls.clone(), router.clone(), shutdown.clone());
			tokio::spawn(async move {
				let _place = place;
				match tls {
					Some(acceptor) => {
						match tokio::time::timeout(
							crate::tls::HANDSHAKE_TIMEOUT,
							acceptor.accept(stream),
						)
						.await
						{
							Ok(Ok(stream)) => serve(stream, remote, router, shutdown).await,
							Ok(Err(error)) => {
								tracing::debug!(target: LOG_TARGET, %remote, %error, "TLS handshake failed")
							},
							Err(_) => {
								tracing::debug!(target: LOG_TARGET, %remote, "TLS handshake timed out")
							},
						}
					},
					None => serve(stream, remote, router, shutdown).await,
				}
			});
		}
	});
}

/// Serves HTTP/1.1 on one connection until it closes, its headers are late, or the server stops.
async fn serve<S>(stream: S, remote: SocketAddr, router: Router, shutdown: CancellationToken)
where
	S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
	let service =
		router.map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
			request.extensions_mut().insert(ConnectInfo(remote));
			request
		});
	let mut builder = hyper::server::conn::http1::Builder::new();
	builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
	let connection =
		builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
	tokio::pin!(connection);
	tokio::select! {
		result = connection.as_mut() => {
			if let Err(error) = result {
				tracing::debug!(target: LOG_TARGET, %remote, %error, "connection ended");
			}
		},
		_ = shutdown.cancelled() => {
			connection.as_mut().graceful_shutdown();
			let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
		},
	}
}
