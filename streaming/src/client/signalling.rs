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

use crate::error::{Error, Result};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// A WHIP/WHEP HTTP client (http and https).
#[derive(Clone)]
pub struct Signalling {
	client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// What a server answered to an offer.
pub(crate) struct Answered {
	/// The session's resource (absolute URL), to DELETE when leaving.
	pub(crate) resource: String,
	/// The SDP answer.
	pub(crate) sdp: String,
}

impl Signalling {
	/// A client trusting the system's root certificates for https.
	pub fn new() -> Result<Self> {
		let builder = hyper_rustls::HttpsConnectorBuilder::new();
		let builder = match builder.with_native_roots() {
			Ok(builder) => builder,
			// No system roots: plain http still works; an https server then fails its handshake.
			Err(_) => hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(
				rustls_config_without_roots()
					.map_err(|e| Error::Client(format!("TLS setup: {e}")))?,
			),
		};
		let connector = builder.https_or_http().enable_http1().build();
		Ok(Self { client: Client::builder(TokioExecutor::new()).build(connector) })
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
			return Err(refusal(endpoint, status, &body));
		}
		let location =
			headers.get(header::LOCATION).and_then(|value| value.to_str().ok()).ok_or_else(
				|| Error::Client(format!("{endpoint} answered 201 without a Location header")),
			)?;
		Ok(Answered { resource: absolute(&uri, location), sdp: body })
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
			return Err(refusal(resource, status, &body));
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
			return Err(refusal(url, status, &body));
		}
		serde_json::from_str(&body)
			.map_err(|e| Error::Client(format!("{url} did not answer JSON: {e}")))
	}

	async fn send(
		&self,
		url: &str,
		request: Request<Full<Bytes>>,
	) -> Result<(StatusCode, header::HeaderMap, String)> {
		let exchange = async {
			let response = self.client.request(request).await.map_err(|e| {
				Error::Client(format!(
					"cannot reach {url}: {e}; is the node running with streaming on?"
				))
			})?;
			let (parts, body) = response.into_parts();
			let body = body
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

/// A refusal as the error the caller acts on: the access policy's statuses stay `Denied`.
fn refusal(url: &str, status: StatusCode, body: &str) -> Error {
	let reason = body.trim().to_owned();
	match status.as_u16() {
		code @ 401..=404 => Error::Denied { status: code, reason },
		code => Error::Client(format!("{url} answered {code}: {reason}")),
	}
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
	}
}
