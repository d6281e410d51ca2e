//! The HTTP half of WHIP and WHEP: post an offer, get the answer and the session's resource
//! URL; delete the resource to leave.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header;
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::guard::{GuardedResolver, Reach};
use crate::error::{Error, Result};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read (an SDP answer or a JSON document is a few KiB); a larger one is
/// refused unread past this size.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A WHIP/WHEP HTTP client (http and https).
#[derive(Clone)]
pub struct Signalling {
	client: Client<hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>,
	reach: Reach,
	/// A node's own client (relaying): answers' bodies stay out of its errors, and sessions are
	/// deleted only on the server that created them.
	for_node: bool,
}

/// What a server answered to an offer.
pub(crate) struct Answered {
	/// The session's resource (absolute URL), to DELETE when leaving.
	pub(crate) resource: String,
	/// The SDP answer.
	pub(crate) sdp: String,
}

impl Signalling {
	/// A person's client trusting the system's root certificates for https, reaching any
	/// address.
	pub fn new() -> Result<Self> {
		Self::build(Reach::Anywhere, false)
	}

	/// A node's own client, for requests to servers named by others (a relay's origins, named
	/// on chain): it reaches only what `reach` allows, never passes an answer's body on in its
	/// errors (they would be shown to whoever asked the node), and deletes a session only on the
	/// server that created it.
	pub fn for_node(reach: Reach) -> Result<Self> {
		Self::build(reach, true)
	}

	fn build(reach: Reach, for_node: bool) -> Result<Self> {
		let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls_config()?);
		let mut http = HttpConnector::new_with_resolver(GuardedResolver(reach));
		http.enforce_http(false);
		http.set_connect_timeout(Some(CONNECT_TIMEOUT));
		let connector = builder.https_or_http().enable_http1().wrap_connector(http);
		// A client makes a request or two per session (the offer, the DELETE at the end): no
		// connection is kept idle between them, holding a place at the server.
		let client =
			Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build(connector);
		Ok(Self { client, reach, for_node })
	}

	/// Posts an SDP offer to a WHIP or WHEP endpoint.
	pub(crate) async fn offer(
		&self,
		endpoint: &str,
		token: Option<&str>,
		sdp: String,
	) -> Result<Answered> {
		let uri: Uri =
			endpoint.parse().map_err(|_| Error::Client(format!("'{endpoint}' is not a URL")))?;
		let mut request = Request::builder()
			.method(Method::POST)
			.uri(uri.clone())
			.header(header::CONTENT_TYPE, "application/sdp");
		if let Some(token) = token {
			request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
		}
		let request = request
			.body(Full::new(Bytes::from(sdp)))
			.map_err(|e| Error::Client(format!("building the request to {endpoint}: {e}")))?;
		let (status, headers, body) = self.send(endpoint, request).await?;
		if status != StatusCode::CREATED {
			return Err(self.refusal(endpoint, status, &body));
		}
		let location =
			headers.get(header::LOCATION).and_then(|value| value.to_str().ok()).ok_or_else(
				|| Error::Client(format!("{endpoint} answered 201 without a Location header")),
			)?;
		let resource = absolute(&uri, location);
		if self.for_node && !same_origin(&uri, &resource) {
			return Err(Error::Client(format!(
				"{endpoint} named a session resource on another server; refused"
			)));
		}
		Ok(Answered { resource, sdp: body })
	}

	/// Ends a session by deleting its resource.
	pub(crate) async fn delete(&self, resource: &str, token: Option<&str>) -> Result<()> {
		let mut request = Request::builder().method(Method::DELETE).uri(resource);
		if let Some(token) = token {
			request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
		}
		let request = request
			.body(Full::new(Bytes::new()))
			.map_err(|e| Error::Client(format!("building the request to {resource}: {e}")))?;
		let (status, _, body) = self.send(resource, request).await?;
		if !status.is_success() {
			return Err(self.refusal(resource, status, &body));
		}
		Ok(())
	}

	/// GETs a JSON document from the streaming server (`/health`, `/streams`, `/directory`).
	pub async fn get_json(&self, url: &str) -> Result<serde_json::Value> {
		let request = Request::builder()
			.method(Method::GET)
			.uri(url)
			.body(Full::new(Bytes::new()))
			.map_err(|e| Error::Client(format!("building the request to {url}: {e}")))?;
		self.json_answer(url, request).await
	}

	/// POSTs a JSON document to the streaming server (`/pay`) and returns its JSON answer.
	pub async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<serde_json::Value> {
		let request = Request::builder()
			.method(Method::POST)
			.uri(url)
			.header(header::CONTENT_TYPE, "application/json")
			.body(Full::new(Bytes::from(body)))
			.map_err(|e| Error::Client(format!("building the request to {url}: {e}")))?;
		self.json_answer(url, request).await
	}

	/// Sends `request` and reads a successful answer as JSON.
	async fn json_answer(
		&self,
		url: &str,
		request: Request<Full<Bytes>>,
	) -> Result<serde_json::Value> {
		let (status, _, body) = self.send(url, request).await?;
		if !status.is_success() {
			return Err(self.refusal(url, status, &body));
		}
		serde_json::from_str(&body)
			.map_err(|e| Error::Client(format!("{url} did not answer JSON: {e}")))
	}

	async fn send(
		&self,
		url: &str,
		request: Request<Full<Bytes>>,
	) -> Result<(StatusCode, header::HeaderMap, String)> {
		if let Some(ip) = request
			.uri()
			.host()
			.and_then(|host| host.trim_start_matches('[').trim_end_matches(']').parse().ok())
		{
			if !self.reach.allows(ip) {
				return Err(Error::Client(format!(
					"{url} is not a public address, which this node does not reach"
				)));
			}
		}
		let exchange = async {
			let response = self.client.request(request).await.map_err(|e| {
				use std::error::Error as _;
				let mut cause = e.to_string();
				let mut source = e.source();
				while let Some(inner) = source {
					cause = inner.to_string();
					source = inner.source();
				}
				Error::Client(format!(
					"cannot reach {url}: {cause}; is the node running with streaming on?"
				))
			})?;
			let (parts, body) = response.into_parts();
			let body = http_body_util::Limited::new(body, MAX_ANSWER_BYTES)
				.collect()
				.await
				.map_err(|e| Error::Client(format!("reading the answer from {url}: {e}")))?
				.to_bytes();
			Ok((parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned()))
		};
		tokio::time::timeout(REQUEST_TIMEOUT, exchange).await.map_err(|_| {
			Error::Client(format!("{url} did not answer within {} s", REQUEST_TIMEOUT.as_secs()))
		})?
	}
}

impl Signalling {
	/// A refusal as the error the caller acts on: the access policy's statuses stay `Denied`.
	/// A node's client keeps the server's words out of it (they would be passed on to whoever
	/// asked this node).
	fn refusal(&self, url: &str, status: StatusCode, body: &str) -> Error {
		let reason = match self.for_node {
			false => body.trim().to_owned(),
			true => format!("{url} refused with {}", status.as_u16()),
		};
		match status.as_u16() {
			code @ 401..=404 => Error::Denied { status: code, reason },
			_ if self.for_node => Error::Client(reason),
			code => Error::Client(format!("{url} answered {code}: {reason}")),
		}
	}
}

/// Whether `resource` is on the same scheme, host and port as `base`.
fn same_origin(base: &Uri, resource: &str) -> bool {
	let Ok(resource) = resource.parse::<Uri>() else { return false };
	base.scheme_str() == resource.scheme_str()
		&& base.host() == resource.host()
		&& base.port_u16() == resource.port_u16()
}

fn absolute(base: &Uri, location: &str) -> String {
	if location.contains("://") {
		return location.to_owned();
	}
	let scheme = base.scheme_str().unwrap_or("http");
	let authority = base.authority().map(|a| a.as_str()).unwrap_or("");
	format!("{scheme}://{authority}{location}")
}

/// The host part of a URL (no brackets around IPv6).
pub(crate) fn host_of(url: &str) -> Result<String> {
	let uri: Uri = url.parse().map_err(|_| Error::Client(format!("'{url}' is not a URL")))?;
	uri.host().map(|host| host.trim_start_matches('[').trim_end_matches(']').to_owned()).ok_or_else(
		|| Error::Client(format!("'{url}' has no host; write it as http://HOST:PORT/whep/STREAM")),
	)
}

/// The TLS settings for https servers, with the system's root certificates. Read once per
/// process: reading and parsing them took 5-13 ms, at the start of every viewer and publisher.
fn tls_config() -> Result<rustls::ClientConfig> {
	static CONFIG: std::sync::OnceLock<rustls::ClientConfig> = std::sync::OnceLock::new();
	if let Some(config) = CONFIG.get() {
		return Ok(config.clone());
	}
	use hyper_rustls::ConfigBuilderExt;
	let config = match rustls::ClientConfig::builder().with_native_roots() {
		Ok(builder) => builder.with_no_client_auth(),
		// No system roots: plain http still works; an https server then fails its handshake.
		Err(_) => {
			rustls_config_without_roots().map_err(|e| Error::Client(format!("TLS setup: {e}")))?
		},
	};
	Ok(CONFIG.get_or_init(|| config).clone())
}

fn rustls_config_without_roots() -> std::result::Result<rustls::ClientConfig, rustls::Error> {
	Ok(rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
		rustls::crypto::ring::default_provider(),
	))
	.with_safe_default_protocol_versions()?
	.with_root_certificates(rustls::RootCertStore::empty())
	.with_no_client_auth())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn resolves_locations() {
		let base: Uri = "http://127.0.0.1:8088/whep/1".parse().unwrap();
		assert_eq!(absolute(&base, "/whep/1/abc"), "http://127.0.0.1:8088/whep/1/abc");
		assert_eq!(absolute(&base, "https://cdn.example/x"), "https://cdn.example/x");
		assert_eq!(host_of("http://[::1]:8088/whep/1").unwrap(), "::1");
		assert!(host_of("/whep/1").is_err());
		assert!(same_origin(&base, "http://127.0.0.1:8088/whep/1/abc"));
		assert!(!same_origin(&base, "http://169.254.169.254:8088/latest"));
		assert!(!same_origin(&base, "http://127.0.0.1:9000/whep/1/abc"));
	}
}
