//! HTTP signalling: WHIP (RFC 9725) for publishers, WHEP for viewers, and a little JSON.
//!
//! | method and path | what |
//! |---|---|
//! | `POST /whip/{stream}` | SDP offer in, `201 Created` + SDP answer + `Location` out |
//! | `DELETE /whip/{stream}/{session}` | end that publish (and the stream's viewers) |
//! | `POST /whep/{stream}` | a viewer's offer; same exchange |
//! | `DELETE /whep/{stream}/{session}` | that viewer leaves |
//! | `PATCH` on a session | `405`: trickle ICE and ICE restarts are not supported; offers carry their candidates |
//! | `GET /streams` | live streams with viewer counts (JSON) |
//! | `GET /health` | `{"status":"ok",...}` |
//! | `GET /node` | what the node says about itself (JSON; e.g. the lane vouchers paid here name) |
//! | `POST /pay` | a payment message (JSON, as on the data channel) in, the node's answer out |
//! | `GET /watch/{stream}` | a browser player page (WHEP) |
//!
//! Every refusal is a 4xx or 5xx with a one-line `text/plain` reason. CORS is open so browser
//! players on any origin can use the endpoints.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};

use crate::engine::{Answer, Engine, LOG_TARGET};
use crate::error::Error;
use crate::policy::Credentials;
use crate::types::{Role, SessionId, StreamId};

/// The largest SDP offer accepted (a browser's offer is 3-8 KiB).
pub const MAX_OFFER_BYTES: usize = 64 * 1024;
const SDP: &str = "application/sdp";

/// The signalling routes over `engine`; [`Engine::serve`] runs them, tests call them directly.
pub fn router(engine: Engine) -> Router {
	let cors = CorsLayer::new()
		.allow_origin(Any)
		.allow_methods([Method::GET, Method::POST, Method::DELETE, Method::PATCH, Method::OPTIONS])
		.allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH])
		.expose_headers([header::LOCATION, header::ETAG, header::LINK]);
	Router::new()
		.route("/whip/{stream}", post(post_whip).options(options_endpoint))
		.route(
			"/whip/{stream}/{session}",
			axum::routing::delete(delete_whip).patch(patch_session).options(options_session),
		)
		.route("/whep/{stream}", post(post_whep).options(options_endpoint))
		.route(
			"/whep/{stream}/{session}",
			axum::routing::delete(delete_whep).patch(patch_session).options(options_session),
		)
		.route("/streams", get(get_streams))
		.route("/streams/{stream}/quality", get(get_quality))
		.route("/directory", get(get_directory))
		.route("/health", get(get_health))
		.route("/node", get(get_node))
		.route("/pay", post(post_pay))
		.route("/watch/{stream}", get(get_player))
		.fallback(not_found)
		.method_not_allowed_fallback(method_not_allowed)
		.layer(DefaultBodyLimit::max(MAX_OFFER_BYTES))
		.layer(cors)
		.with_state(engine)
}

impl Engine {
	/// Binds the configured HTTP address and serves signalling (over TLS when configured) until
	/// [`Engine::shutdown`], each connection within the bounds of [`crate::server`].
	pub async fn serve(&self) -> crate::error::Result<std::net::SocketAddr> {
		let addr = self.inner.config.http_addr;
		let acceptor = match &self.inner.config.tls {
			Some(files) => Some(files.acceptor().map_err(Error::Tls)?),
			None => None,
		};
		let listener = tokio::net::TcpListener::bind(addr)
			.await
			.map_err(|source| Error::Listen { addr, source })?;
		let bound = listener.local_addr().map_err(|source| Error::Listen { addr, source })?;
		let _ = self.inner.http_addr.set(bound);
		let scheme = if acceptor.is_some() { "https" } else { "http" };
		crate::server::spawn(
			listener,
			acceptor,
			router(self.clone()),
			self.inner.config.max_connections_per_client,
			self.inner.shutdown.clone(),
		);
		tracing::info!(
			target: LOG_TARGET,
			"streaming: WHIP on {scheme}://{bound}/whip/<stream>, WHEP on {scheme}://{bound}/whep/<stream>, media on UDP {}",
			self.inner.media.bound(),
		);
		Ok(bound)
	}
}

/// A refusal: the status and a one-line reason.
fn refuse(error: &Error) -> Response {
	let status =
		StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
	let mut response =
		(status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{error}\n"))
			.into_response();
	if status == StatusCode::UNAUTHORIZED {
		response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
	}
	if let Some(seconds) = error.retry_after() {
		response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
	}
	if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
		tracing::warn!(target: LOG_TARGET, %error, "signalling request failed");
	}
	response
}

fn plain(status: StatusCode, reason: &str) -> Response {
	(status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{reason}\n"))
		.into_response()
}

fn credentials(headers: &HeaderMap) -> Credentials {
	let token = headers
		.get(header::AUTHORIZATION)
		.and_then(|value| value.to_str().ok())
		.and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
		.map(|token| token.trim().to_owned());
	Credentials(token)
}

/// Checks the content type and size and returns the offer's text, or the refusal.
fn offer_text(
	headers: &HeaderMap,
	body: Result<Bytes, BytesRejection>,
) -> Result<String, (StatusCode, String)> {
	let content_type =
		headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
	let essence = content_type.split(';').next().unwrap_or("").trim();
	if !essence.eq_ignore_ascii_case(SDP) {
		return Err((
			StatusCode::UNSUPPORTED_MEDIA_TYPE,
			format!("send the SDP offer as Content-Type: {SDP} (got '{content_type}')"),
		));
	}
	let body = body.map_err(|rejection| match rejection.status() {
		StatusCode::PAYLOAD_TOO_LARGE => (
			StatusCode::PAYLOAD_TOO_LARGE,
			format!(
				"the offer is larger than {} KiB; an SDP offer is a few KiB",
				MAX_OFFER_BYTES / 1024
			),
		),
		status => (status, rejection.body_text()),
	})?;
	String::from_utf8(body.to_vec())
		.map_err(|_| (StatusCode::BAD_REQUEST, "bad SDP offer: it is not UTF-8 text".into()))
}

fn created(kind: &str, stream: &StreamId, answer: Answer) -> Response {
	let location = format!("/{kind}/{stream}/{}", answer.session);
	let mut response = (StatusCode::CREATED, answer.sdp).into_response();
	let headers = response.headers_mut();
	headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SDP));
	if let Ok(value) = HeaderValue::from_str(&location) {
		headers.insert(header::LOCATION, value);
	}
	if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", answer.session)) {
		headers.insert(header::ETAG, value);
	}
	response
}

async fn post_whip(
	State(engine): State<Engine>,
	remote: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
	Path(stream): Path<String>,
	headers: HeaderMap,
	body: Result<Bytes, BytesRejection>,
) -> Response {
	let remote = remote.map(|Extension(ConnectInfo(address))| address.ip());
	offer_exchange("whip", engine, remote, stream, headers, body).await
}

async fn post_whep(
	State(engine): State<Engine>,
	remote: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
	Path(stream): Path<String>,
	headers: HeaderMap,
	body: Result<Bytes, BytesRejection>,
) -> Response {
	let remote = remote.map(|Extension(ConnectInfo(address))| address.ip());
	offer_exchange("whep", engine, remote, stream, headers, body).await
}

async fn offer_exchange(
	kind: &'static str,
	engine: Engine,
	remote: Option<std::net::IpAddr>,
	stream: String,
	headers: HeaderMap,
	body: Result<Bytes, BytesRejection>,
) -> Response {
	if let Err(error) = engine.admit_request(remote) {
		return refuse(&error);
	}
	let stream: StreamId = match stream.parse() {
		Ok(stream) => stream,
		Err(error) => return refuse(&error),
	};
	let offer = match offer_text(&headers, body) {
		Ok(offer) => offer,
		Err((status, reason)) => return plain(status, &reason),
	};
	let credentials = credentials(&headers);
	// On a task of its own: a client that hangs up mid-offer drops this handler, and the offer
	// must still run to its end (an answer, or its session cleaned up), never stop half-way.
	let offered = {
		let stream = stream.clone();
		tokio::spawn(async move {
			if kind == "whip" {
				engine.publish_from(remote, stream, credentials, offer).await
			} else {
				engine.watch_from(remote, stream, credentials, offer).await
			}
		})
	};
	let result = match offered.await {
		Ok(result) => result,
		Err(error) => Err(Error::WebRtc(format!("the offer failed: {error}"))),
	};
	match result {
		Ok(answer) => created(kind, &stream, answer),
		Err(error) => refuse(&error),
	}
}

async fn delete_whip(
	State(engine): State<Engine>,
	Path((stream, session)): Path<(String, String)>,
) -> Response {
	delete_session(engine, Role::Publisher, stream, session).await
}

async fn delete_whep(
	State(engine): State<Engine>,
	Path((stream, session)): Path<(String, String)>,
) -> Response {
	delete_session(engine, Role::Viewer, stream, session).await
}

async fn delete_session(engine: Engine, role: Role, stream: String, session: String) -> Response {
	let stream: StreamId = match stream.parse() {
		Ok(stream) => stream,
		Err(error) => return refuse(&error),
	};
	let Ok(session) = session.parse::<SessionId>() else {
		return plain(StatusCode::NOT_FOUND, &format!("no session '{session}' of stream {stream}"));
	};
	match engine.leave(role, &stream, session).await {
		Ok(()) => StatusCode::OK.into_response(),
		Err(error) => refuse(&error),
	}
}

async fn patch_session() -> Response {
	let mut response = plain(
		StatusCode::METHOD_NOT_ALLOWED,
		"trickle ICE and ICE restarts are not supported: gather candidates before sending the offer, \
		 or start a new session",
	);
	response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("DELETE, OPTIONS"));
	response
}

async fn options_endpoint() -> Response {
	let mut response = StatusCode::NO_CONTENT.into_response();
	response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
	response
		.headers_mut()
		.insert(HeaderName::from_static("accept-post"), HeaderValue::from_static(SDP));
	response
}

async fn options_session() -> Response {
	let mut response = StatusCode::NO_CONTENT.into_response();
	response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("DELETE, OPTIONS"));
	response
}

async fn get_streams(State(engine): State<Engine>) -> Response {
	Json(engine.live_streams()).into_response()
}

async fn get_quality(
	State(engine): State<Engine>,
	remote: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
	Path(stream): Path<String>,
) -> Response {
	// Each answer walks the stream's viewers: within the address's request allowance.
	if let Err(error) = engine.admit_request(remote.map(|Extension(ConnectInfo(a))| a.ip())) {
		return refuse(&error);
	}
	let stream = match stream.parse::<StreamId>() {
		Ok(stream) => stream,
		Err(error) => return refuse(&error),
	};
	match engine.stream_quality(&stream) {
		Some(quality) => {
			Json(json!({ "stream": stream.to_string(), "quality": quality })).into_response()
		},
		None => plain(
			StatusCode::NOT_FOUND,
			&format!(
				"stream {stream} is not live on this node (GET /streams lists those that are)"
			),
		),
	}
}

async fn get_directory(State(engine): State<Engine>) -> Response {
	Json(engine.directory()).into_response()
}

async fn get_health(State(engine): State<Engine>) -> Response {
	let streams = engine.live_streams().len();
	let sessions = engine.sessions().len();
	Json(json!({ "status": "ok", "live_streams": streams, "sessions": sessions })).into_response()
}

async fn post_pay(
	State(engine): State<Engine>,
	remote: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
	body: Result<Bytes, BytesRejection>,
) -> Response {
	let Some(desk) = engine.inner.payments.get().cloned() else {
		return plain(StatusCode::NOT_FOUND, "this node takes no payments");
	};
	if let Err(error) = engine.admit_request(remote.map(|Extension(ConnectInfo(a))| a.ip())) {
		return refuse(&error);
	}
	let Ok(body) = body else {
		return plain(StatusCode::PAYLOAD_TOO_LARGE, "a payment message is a few hundred bytes");
	};
	let answer = desk.pay(&body).await;
	([(header::CONTENT_TYPE, "application/json")], answer).into_response()
}

async fn get_node(State(engine): State<Engine>) -> Response {
	Json(&engine.config().node_info).into_response()
}

async fn get_player(Path(stream): Path<String>) -> Response {
	match stream.parse::<StreamId>() {
		Ok(_) => Html(PLAYER).into_response(),
		Err(error) => refuse(&error),
	}
}

async fn method_not_allowed(method: Method) -> Response {
	plain(
		StatusCode::METHOD_NOT_ALLOWED,
		&format!(
			"{method} is not served here: offers are POSTed, sessions DELETEd, the rest is GET"
		),
	)
}

async fn not_found() -> Response {
	plain(
		StatusCode::NOT_FOUND,
		"no such endpoint: POST /whip/{stream}, POST /whep/{stream}, GET /streams, GET /streams/{stream}/quality, GET /directory, GET /health, GET /watch/{stream}",
	)
}

/// The browser player: WHEP with a `sutantra-pay` data channel; the stream id comes from the
/// path and an optional bearer token from `?token=`.
const PLAYER: &str = include_str!("player.html");
