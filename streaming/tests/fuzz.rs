//! Hostile input to every HTTP endpoint (methods, paths, headers, bodies, SDP offers mangled
//! line by line), generated at random (proptest, on stable Rust): each request gets an answer,
//! never a server error or a panic, a refusal says why, and the stream plays on for its viewer
//! throughout.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{keeps_receiving, TestEngine};
use http_body_util::BodyExt;
use proptest::prelude::*;
use sutantra_streaming::{AllowAll, StreamingConfig};
use tower::ServiceExt;

/// A browser-like WHEP offer, mangled by the fuzzer.
const OFFER: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0 1\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n\
c=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:hOpN\r\n\
a=ice-pwd:4ZcD6yXNxNVyzu5JhlEM2dEQ\r\n\
a=fingerprint:sha-256 3B:25:7D:53:E9:E7:3C:07:9E:14:5C:26:B1:49:B5:C9:2B:11:6E:38:7A:A6:28:DE:8F:38:2D:63:0C:8D:27:DC\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=recvonly\r\n\
a=rtcp-mux\r\n\
a=rtpmap:96 VP8/90000\r\n\
a=rtpmap:97 H264/90000\r\n\
a=fmtp:97 profile-level-id=42e01f;packetization-mode=1\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=mid:1\r\n\
a=sctp-port:5000\r\n";

fn method() -> impl Strategy<Value = Method> {
	prop_oneof![
		Just(Method::GET),
		Just(Method::POST),
		Just(Method::DELETE),
		Just(Method::PATCH),
		Just(Method::OPTIONS),
		Just(Method::PUT),
		Just(Method::HEAD),
	]
}

fn segment() -> impl Strategy<Value = String> {
	prop_oneof![
		Just("whip".to_owned()),
		Just("whep".to_owned()),
		Just("streams".to_owned()),
		Just("health".to_owned()),
		Just("node".to_owned()),
		Just("pay".to_owned()),
		Just("watch".to_owned()),
		Just("directory".to_owned()),
		Just("live".to_owned()),
		Just("..".to_owned()),
		Just("%00".to_owned()),
		Just("%2e%2e".to_owned()),
		Just("0123456789abcdef0123456789abcdef".to_owned()),
		"[a-zA-Z0-9_-]{0,70}",
		"\\PC{0,12}".prop_map(|s| s.replace(['/', '?', '#'], "")),
	]
}

fn path() -> impl Strategy<Value = String> {
	proptest::collection::vec(segment(), 0..5).prop_map(|segments| {
		let path: String = segments.iter().map(|s| format!("/{s}")).collect();
		if path.is_empty() {
			"/".into()
		} else {
			path
		}
	})
}

/// An SDP offer with lines dropped, duplicated, cut short or replaced.
fn mangled_offer() -> impl Strategy<Value = Vec<u8>> {
	let lines: Vec<String> = OFFER.split("\r\n").map(str::to_owned).collect();
	let count = lines.len();
	(
		proptest::collection::vec((0..count, 0..4u8, "\\PC{0,40}"), 0..8),
		proptest::option::of(0..OFFER.len()),
	)
		.prop_map(move |(edits, cut)| {
			let mut lines = lines.clone();
			for (at, how, text) in edits {
				let at = at % lines.len().max(1);
				match how {
					0 if !lines.is_empty() => {
						lines.remove(at);
					},
					1 => lines.insert(at, text),
					2 if !lines.is_empty() => lines[at] = text,
					_ => {
						let copy = lines.get(at).cloned().unwrap_or_default();
						lines.insert(at, copy);
					},
				}
			}
			let mut text = lines.join("\r\n").into_bytes();
			if let Some(cut) = cut {
				text.truncate(cut);
			}
			text
		})
}

fn body() -> impl Strategy<Value = Vec<u8>> {
	prop_oneof![
		Just(Vec::new()),
		proptest::collection::vec(any::<u8>(), 0..2048),
		mangled_offer(),
		"\\PC{0,300}".prop_map(String::into_bytes),
		Just(br#"{"type":"voucher","channel_id":1,"lane":"0x00","amount":"1","signature":"0x"}"#.to_vec()),
		Just(vec![b'a'; 70 * 1024]),
	]
}

fn header_value() -> impl Strategy<Value = String> {
	prop_oneof![
		Just("application/sdp".to_owned()),
		Just("application/json".to_owned()),
		Just("Bearer creator".to_owned()),
		Just("Bearer viewer".to_owned()),
		"[ -~]{0,100}",
	]
}

#[test]
fn hostile_http_requests_get_an_answer_and_the_stream_plays_on() {
	let runtime = tokio::runtime::Builder::new_multi_thread()
		.worker_threads(4)
		.enable_all()
		.build()
		.unwrap();
	let config = StreamingConfig {
		handshake_timeout: Duration::from_secs(2),
		..StreamingConfig::loopback()
	};
	let (node, _publisher, viewer) = runtime.block_on(async {
		let node = TestEngine::start(config, Arc::new(AllowAll)).await;
		let publisher = node.publish("live", "creator").await;
		let viewer = node.viewer("live", "viewer").await.unwrap();
		keeps_receiving(&viewer, 10).await;
		(node, publisher, viewer)
	});
	let router = sutantra_streaming::http::router(node.engine.clone());

	let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
		cases: 1000,
		failure_persistence: None,
		..ProptestConfig::default()
	});
	let strategy = (
		method(),
		path(),
		proptest::option::of(header_value()),
		proptest::option::of(header_value()),
		body(),
	);
	runner
		.run(&strategy, |(method, path, content_type, authorization, body)| {
			let head = method == Method::HEAD;
			let mut request = Request::builder().method(method).uri(&path);
			if let Some(value) = content_type {
				request = request.header("content-type", value);
			}
			if let Some(value) = authorization {
				request = request.header("authorization", value);
			}
			let Ok(request) = request.body(Body::from(body)) else {
				return Ok(()); // Not a request hyper would parse either.
			};
			let (status, text) = runtime.block_on(async {
				let response = router.clone().oneshot(request).await.expect("an answer");
				let status = response.status();
				let body = response.into_body().collect().await.expect("a body").to_bytes();
				(status, String::from_utf8_lossy(&body).into_owned())
			});
			prop_assert!(
				!status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
				"{path}: {status} {text}"
			);
			// (A HEAD answer has no body by definition.)
			if status.is_client_error() && !head {
				prop_assert!(!text.trim().is_empty(), "{path}: {status} without a reason");
			}
			Ok(())
		})
		.unwrap();

	runtime.block_on(async {
		// The viewer played through all of it, and what the fuzzer left half-open is reaped.
		keeps_receiving(&viewer, 30).await;
		let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
		while node.engine.sessions().len() > 2 && tokio::time::Instant::now() < deadline {
			tokio::time::sleep(Duration::from_millis(100)).await;
		}
		assert!(node.engine.sessions().len() <= 2, "{:#?}", node.engine.sessions());
	});
}
