//! The engine end to end over loopback UDP: real ICE, DTLS-SRTP, SCTP and RTP between the
//! engine, the built-in WHIP publisher and WHEP viewers.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{keeps_receiving, receives_nothing, TestEngine, TokenPolicy};
use http_body_util::BodyExt;
use sutantra_streaming::{AllowAll, EngineEvent, Error, LeaveReason, Role, StreamingConfig};
use tower::ServiceExt;

const FRAMES: u64 = 45;
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_publisher_fans_out_to_three_viewers_and_ends_them_when_it_leaves() {
	let node = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let publisher = node.publish("7", "creator").await;

	let (a, b, c) = tokio::join!(
		node.viewer("7", "viewer"),
		node.viewer("7", "viewer"),
		node.viewer("7", "viewer")
	);
	let viewers = [a.unwrap(), b.unwrap(), c.unwrap()];
	for viewer in &viewers {
		let stats = viewer.wait_for_frames(FRAMES, WAIT).await.unwrap();
		assert_eq!(
			stats.started_with_keyframe,
			Some(true),
			"the picture must start at a keyframe: {stats:?}"
		);
		// What the engine held while the connection came up and what followed it live are one
		// unbroken sequence.
		assert_eq!(stats.packets_lost, 0, "{stats:?}");
		assert!(stats.keyframes >= 1, "{stats:?}");
		assert!(stats.payload_bytes > 100_000, "{stats:?}");
	}

	let streams = node.engine.live_streams();
	assert_eq!(streams.len(), 1);
	assert_eq!(streams[0].viewers, 3);
	assert_eq!(streams[0].tracks[0].codec, "video/VP8");
	let viewer_sessions: Vec<_> =
		node.engine.sessions().into_iter().filter(|session| session.role == Role::Viewer).collect();
	assert_eq!(viewer_sessions.len(), 3);
	assert!(viewer_sessions.iter().all(|session| session.connected));
	for session in &viewer_sessions {
		let stats = node.engine.session_stats(session.session).await.unwrap();
		assert!(stats.frames >= FRAMES && stats.packets > stats.frames, "{stats:?}");
		assert!(stats.rtt_ms.is_some(), "round-trip time is measured: {stats:?}");
	}
	assert!(node.engine.forwarding_latency().count > 0);

	// The publisher leaves: every viewer is told and its session ends.
	publisher.stop().await.unwrap();
	for viewer in &viewers {
		let reason = viewer.wait_ended(Duration::from_secs(5)).await;
		assert_eq!(reason.as_deref(), Some("the publisher left"));
	}
	node.events
		.wait_for(Duration::from_secs(5), |event| {
			matches!(event, EngineEvent::StreamEnded { reason: LeaveReason::ClientLeft, .. })
		})
		.await;
	assert!(node.engine.sessions().is_empty(), "{:?}", node.engine.sessions());
	assert!(node.engine.live_streams().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dropped_viewer_stops_receiving_and_the_others_do_not_notice() {
	let node = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let _publisher = node.publish("drop", "creator").await;
	let kept = node.viewer("drop", "viewer").await.unwrap();
	let dropped = node.viewer("drop", "viewer").await.unwrap();
	dropped.wait_for_frames(10, WAIT).await.unwrap();
	kept.wait_for_frames(10, WAIT).await.unwrap();

	let session = node
		.engine
		.sessions()
		.into_iter()
		.find(|session| dropped.resource().ends_with(&session.session.to_string()))
		.unwrap()
		.session;
	node.engine.drop_viewer(session, "payment required").await.unwrap();
	assert_eq!(
		dropped.wait_ended(Duration::from_secs(5)).await.as_deref(),
		Some("dropped: payment required")
	);
	receives_nothing(&dropped, Duration::from_millis(1500)).await;
	keeps_receiving(&kept, 30).await;
	node.events
		.wait_for(Duration::from_secs(5), |event| {
			matches!(event, EngineEvent::ViewerLeft { session: s, reason: LeaveReason::Dropped(_), .. } if *s == session)
		})
		.await;

	// Ending the stream ends the remaining viewer with the owner's reason.
	node.engine.end_stream(&"drop".parse().unwrap(), "the creator ended it").await.unwrap();
	assert_eq!(
		kept.wait_ended(Duration::from_secs(5)).await.as_deref(),
		Some("stream ended: the creator ended it")
	);
	assert!(node.engine.sessions().is_empty());
}

/// The status and reason of a refusal by the access policy.
fn status<T>(result: sutantra_streaming::Result<T>) -> (u16, String) {
	match result {
		Err(Error::Denied { status, reason }) => (status, reason),
		Err(other) => panic!("expected a refusal, got {other}"),
		Ok(_) => panic!("expected a refusal, got a session"),
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_gate_and_the_limits_refuse_with_a_status_and_no_media() {
	let config = StreamingConfig {
		max_streams: 1,
		max_viewers_per_stream: 2,
		..StreamingConfig::loopback()
	};
	let node = TestEngine::start(config, Arc::new(TokenPolicy)).await;

	// Publishers: no token, someone else's token.
	assert_eq!(status(node.try_publish("gate", None).await).0, 401);
	let (code, reason) = status(node.try_publish("gate", Some("viewer")).await);
	assert_eq!((code, reason.as_str()), (403, "only the stream's creator may publish it"));

	// Viewers of a stream nobody publishes.
	assert_eq!(status(node.viewer("gate", "viewer").await).0, 404);

	let _publisher = node.publish("gate", "creator").await;
	let (code, reason) = status(node.viewer("gate", "broke").await);
	assert_eq!((code, reason.as_str()), (402, "payment required: open a channel"));
	assert_eq!(status(node.viewer("gate", "forged").await).0, 401);
	assert_eq!(status(node.viewer("missing", "viewer").await).0, 404);
	// Denied viewers never got a session, so no media was ever sent to them.
	assert!(node.engine.sessions().iter().all(|session| session.role == Role::Publisher));

	// max_viewers_per_stream = 2.
	let first = node.viewer("gate", "viewer").await.unwrap();
	let _second = node.viewer("gate", "viewer").await.unwrap();
	let full =
		node.viewer("gate", "viewer").await.err().expect("a third viewer is refused").to_string();
	assert!(full.contains("503") && full.contains("is full"), "{full}");

	// A second publisher of the same stream, and a second stream beyond max_streams = 1.
	let conflict = node.try_publish("gate", Some("creator")).await.err().unwrap().to_string();
	assert!(conflict.contains("409") && conflict.contains("already has a publisher"), "{conflict}");
	let too_many = node.try_publish("other", Some("creator")).await.err().unwrap().to_string();
	assert!(
		too_many.contains("503") && too_many.contains("maximum of 1 live streams"),
		"{too_many}"
	);

	// None of this disturbed the admitted viewer.
	keeps_receiving(&first, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pay_data_channel_carries_messages_both_ways() {
	let node = TestEngine::loopback(Arc::new(AllowAll)).await;
	let _publisher = node.publish("pay", "creator").await;
	let mut viewer = node.viewer("pay", "viewer").await.unwrap();

	viewer.send(br#"{"type":"voucher","amount":1}"#).await.unwrap();
	let event = node
		.events
		.wait_for(Duration::from_secs(10), |event| matches!(event, EngineEvent::DataMessage { .. }))
		.await;
	let EngineEvent::DataMessage { stream, session, data } = event else { unreachable!() };
	assert_eq!(stream.as_str(), "pay");
	assert_eq!(&data[..], br#"{"type":"voucher","amount":1}"#);
	assert!(viewer.resource().ends_with(&session.to_string()));
	assert!(node
		.events
		.all()
		.iter()
		.any(|event| matches!(event, EngineEvent::DataChannelOpen { .. })));

	node.engine.send_data(session, bytes::Bytes::from_static(b"ack 1")).await.unwrap();
	let reply = tokio::time::timeout(Duration::from_secs(10), viewer.next_message())
		.await
		.unwrap()
		.unwrap();
	assert_eq!(&reply[..], b"ack 1");

	// The viewer leaves by deleting its resource.
	viewer.stop().await.unwrap();
	node.events
		.wait_for(Duration::from_secs(5), |event| {
			matches!(event, EngineEvent::ViewerLeft { reason: LeaveReason::ClientLeft, .. })
		})
		.await;
	assert!(matches!(
		node.engine.send_data(session, bytes::Bytes::new()).await,
		Err(Error::UnknownSession(_))
	));
}

async fn call(
	node: &TestEngine,
	request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
	let response =
		sutantra_streaming::http::router(node.engine.clone()).oneshot(request).await.unwrap();
	let (parts, body) = response.into_parts();
	let body = body.collect().await.unwrap().to_bytes();
	(parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
}

fn post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
	Request::builder()
		.method(Method::POST)
		.uri(path)
		.header(header::CONTENT_TYPE, content_type)
		.body(body.into())
		.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_requests_get_a_4xx_with_a_reason_while_other_sessions_play_on() {
	let node = TestEngine::loopback(Arc::new(AllowAll)).await;
	let _publisher = node.publish("9", "creator").await;
	let viewer = node.viewer("9", "viewer").await.unwrap();
	viewer.wait_for_frames(10, WAIT).await.unwrap();

	let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
		(post("/whep/9", "application/sdp", "hello"), StatusCode::BAD_REQUEST, "bad SDP offer"),
		(
			post("/whep/9", "application/sdp", "v=0\r\nthis is not sdp"),
			StatusCode::BAD_REQUEST,
			"bad SDP offer",
		),
		(
			post("/whip/9", "application/json", "{}"),
			StatusCode::UNSUPPORTED_MEDIA_TYPE,
			"application/sdp",
		),
		(
			post("/whep/9", "application/sdp", vec![b'v'; 70 * 1024]),
			StatusCode::PAYLOAD_TOO_LARGE,
			"larger than 64 KiB",
		),
		(
			post("/whep/bad$id", "application/sdp", "v=0"),
			StatusCode::BAD_REQUEST,
			"invalid stream id",
		),
		(
			Request::builder()
				.method(Method::DELETE)
				.uri("/whep/9/0123456789abcdef0123456789abcdef")
				.body(Body::empty())
				.unwrap(),
			StatusCode::NOT_FOUND,
			"has ended or never existed",
		),
		(
			Request::builder()
				.method(Method::DELETE)
				.uri("/whip/9/not-a-session")
				.body(Body::empty())
				.unwrap(),
			StatusCode::NOT_FOUND,
			"no session",
		),
		(
			Request::builder()
				.method(Method::PATCH)
				.uri("/whep/9/0123")
				.body(Body::empty())
				.unwrap(),
			StatusCode::METHOD_NOT_ALLOWED,
			"trickle ICE",
		),
		(
			Request::builder().uri("/nope").body(Body::empty()).unwrap(),
			StatusCode::NOT_FOUND,
			"no such endpoint",
		),
	];
	for (request, expected, reason) in cases {
		let what = format!("{} {}", request.method(), request.uri());
		let (status, _, body) = call(&node, request).await;
		assert_eq!(status, expected, "{what}: {body}");
		assert!(body.contains(reason), "{what}: {body}");
	}

	// A session's DELETE must name its own stream and role.
	let session = viewer.resource().rsplit('/').next().unwrap().to_owned();
	let request = Request::builder()
		.method(Method::DELETE)
		.uri(format!("/whip/9/{session}"))
		.body(Body::empty())
		.unwrap();
	assert_eq!(call(&node, request).await.0, StatusCode::NOT_FOUND);

	// CORS for browser players, JSON for monitoring.
	let preflight = Request::builder()
		.method(Method::OPTIONS)
		.uri("/whep/9")
		.header(header::ORIGIN, "https://player.example")
		.header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
		.header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type")
		.body(Body::empty())
		.unwrap();
	let (status, headers, _) = call(&node, preflight).await;
	assert!(status.is_success(), "{status}");
	assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
	let (status, _, body) =
		call(&node, Request::builder().uri("/streams").body(Body::empty()).unwrap()).await;
	assert_eq!(status, StatusCode::OK);
	let streams: serde_json::Value = serde_json::from_str(&body).unwrap();
	assert_eq!(streams[0]["stream"], "9");
	assert_eq!(streams[0]["viewers"], 1);
	let (status, _, body) =
		call(&node, Request::builder().uri("/health").body(Body::empty()).unwrap()).await;
	assert_eq!(status, StatusCode::OK);
	assert!(body.contains("\"status\":\"ok\""), "{body}");
	let (status, _, body) =
		call(&node, Request::builder().uri("/watch/9").body(Body::empty()).unwrap()).await;
	assert_eq!(status, StatusCode::OK);
	assert!(body.contains("sutantra-pay"));

	// Through all of it the viewer kept playing, and the stream kept its one viewer.
	keeps_receiving(&viewer, 30).await;
	assert_eq!(node.engine.live_streams()[0].viewers, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stranger_cannot_end_a_stream_it_sees_listed() {
	let node = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let publisher = node.publish("5", "creator").await;
	let viewer = node.viewer("5", "viewer").await.unwrap();
	viewer.wait_for_frames(10, WAIT).await.unwrap();

	// The listing shows the stream but no session id to delete.
	let (status, _, body) =
		call(&node, Request::builder().uri("/streams").body(Body::empty()).unwrap()).await;
	assert_eq!(status, StatusCode::OK);
	let publisher_session = publisher.resource().rsplit('/').next().unwrap().to_owned();
	assert!(
		!body.contains(&publisher_session),
		"the listing names the publisher's session: {body}"
	);
	let streams: serde_json::Value = serde_json::from_str(&body).unwrap();
	assert!(streams[0].get("publisher").is_none(), "{body}");
	// Guessed session ids, and the viewer's own resource under the publisher's path, end nothing.
	let viewer_session = viewer.resource().rsplit('/').next().unwrap().to_owned();
	for guess in ["0123456789abcdef0123456789abcdef".to_owned(), viewer_session] {
		let request = Request::builder()
			.method(Method::DELETE)
			.uri(format!("/whip/5/{guess}"))
			.body(Body::empty())
			.unwrap();
		assert_eq!(call(&node, request).await.0, StatusCode::NOT_FOUND);
	}
	keeps_receiving(&viewer, 30).await;
	// Its owner, who holds the resource URL, still can.
	publisher.stop().await.unwrap();
	assert_eq!(
		viewer.wait_ended(Duration::from_secs(5)).await.as_deref(),
		Some("the publisher left")
	);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_viewer_can_save_what_it_receives() {
	let node = TestEngine::loopback(Arc::new(AllowAll)).await;
	let _publisher = node.publish("save", "creator").await;
	let dir = tempfile::tempdir().unwrap();
	let output = dir.path().join("saved.ivf");
	let viewer =
		sutantra_streaming::client::Viewer::connect(sutantra_streaming::client::WatchOptions {
			endpoint: node.whep("save"),
			token: None,
			output: Some(output.clone()),
		})
		.await
		.unwrap();
	viewer.wait_for_frames(60, WAIT).await.unwrap();
	viewer.stop().await.unwrap();
	let saved = std::fs::read(&output).unwrap();
	assert_eq!(&saved[..4], b"DKIF");
	assert_eq!(&saved[8..12], b"VP80");
	assert!(saved.len() > 100_000, "{} bytes saved", saved.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn viewers_receiver_reports_give_each_stream_its_quality() {
	let node = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let _publisher = node.publish("31", "creator").await;
	let (a, b) = tokio::join!(node.viewer("31", "viewer"), node.viewer("31", "viewer"));
	let viewers = [a.unwrap(), b.unwrap()];
	for viewer in &viewers {
		viewer.wait_for_frames(10, WAIT).await.unwrap();
	}
	// The video's bitrate as a viewer measures it, over the same seconds the reports span.
	let (before, started) = (viewers[0].stats().payload_bytes, std::time::Instant::now());

	// Each viewer reports about once a second; the bitrate needs two reports.
	let get = || Request::builder().uri("/streams/31/quality").body(Body::empty()).unwrap();
	let deadline = std::time::Instant::now() + Duration::from_secs(15);
	let quality = loop {
		let (status, _, body) = call(&node, get()).await;
		assert_eq!(status, StatusCode::OK, "{body}");
		let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
		let quality = answer["quality"].clone();
		if quality["reporting"] == 2 && quality["delivered_kbps"]["viewers"] == 2 {
			break quality;
		}
		assert!(std::time::Instant::now() < deadline, "no reports from both viewers: {answer}");
		tokio::time::sleep(Duration::from_millis(250)).await;
	};
	let measured_kbps = (viewers[0].stats().payload_bytes - before) as f64 * 8.0
		/ started.elapsed().as_secs_f64()
		/ 1000.0;
	println!("quality of stream 31: {quality}; viewer-measured video {measured_kbps:.0} kbit/s");
	assert_eq!(quality["viewers"], 2);
	let figure = |name: &str, at: &str| quality[name][at].as_f64().unwrap();
	// Loopback: a round trip well under 100 ms, no loss, little jitter.
	assert!(figure("rtt_ms", "max") < 100.0, "{quality}");
	assert_eq!(figure("fraction_lost", "max"), 0.0, "{quality}");
	assert!(figure("jitter_ms", "max") < 50.0, "{quality}");
	// Delivered bitrate (the node's count of what it sent, audio included, less reported loss)
	// agrees with what a viewer measures of the video alone.
	let delivered = figure("delivered_kbps", "p50");
	assert!(
		delivered > measured_kbps * 0.6 && delivered < measured_kbps * 1.6,
		"delivered {delivered} kbit/s against {measured_kbps} kbit/s measured: {quality}"
	);
	let session = common::first_viewer(&node.engine);
	let stats = node.engine.session_stats(session).await.unwrap();
	assert_eq!(stats.fraction_lost, Some(0.0), "{stats:?}");
	assert!(stats.delivered_bps.is_some_and(|bps| bps > 0.0), "{stats:?}");

	// A stream that is not here, and one that cannot be.
	let (status, _, body) =
		call(&node, Request::builder().uri("/streams/32/quality").body(Body::empty()).unwrap())
			.await;
	assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
	assert!(body.contains("not live on this node"), "{body}");
	let (status, _, _) = call(
		&node,
		Request::builder().uri("/streams/no%20such/quality").body(Body::empty()).unwrap(),
	)
	.await;
	assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_simulcast_publisher_sends_three_layers_and_a_viewer_gets_the_best() {
	use sutantra_streaming::client::{PublishOptions, Publisher};
	let node = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let _publisher = Publisher::start(PublishOptions {
		endpoint: node.whip("40"),
		token: Some("creator".into()),
		file: common::fixture(),
		looped: true,
		lower_layers: vec![
			common::fixture_named("testsrc-160x90-30fps-vp8-120k.ivf"),
			common::fixture_named("testsrc-320x180-30fps-vp8-400k.ivf"),
		],
	})
	.await
	.unwrap();
	// The three layers arrive and are measured.
	let deadline = std::time::Instant::now() + Duration::from_secs(10);
	let layers = loop {
		let streams = node.engine.live_streams();
		if let Some(layers) = streams.first().map(|stream| stream.tracks[0].layers.clone()) {
			if layers.len() == 3 && layers.iter().all(|bps| *bps > 0) {
				break layers;
			}
		}
		assert!(std::time::Instant::now() < deadline, "three layers never arrived: {streams:?}");
		tokio::time::sleep(Duration::from_millis(200)).await;
	};
	println!("simulcast layers arriving, bit/s by layer: {layers:?}");
	let mut ranked = layers.clone();
	ranked.sort_unstable();
	assert!(
		ranked[0] > 50_000 && ranked[1] > ranked[0] * 2 && ranked[2] > ranked[1] * 2,
		"{layers:?}"
	);
	let best = layers.iter().position(|bps| *bps == ranked[2]).unwrap() as u8;

	let viewer = node.viewer("40", "viewer").await.unwrap();
	let stats = viewer.wait_for_frames(FRAMES, WAIT).await.unwrap();
	assert_eq!(stats.started_with_keyframe, Some(true), "{stats:?}");
	let before = (viewer.stats().payload_bytes, std::time::Instant::now());
	tokio::time::sleep(Duration::from_secs(2)).await;
	let kbps = (viewer.stats().payload_bytes - before.0) as f64 * 8.0
		/ before.1.elapsed().as_secs_f64()
		/ 1000.0;
	assert!(kbps > ranked[1] as f64 * 1.5 / 1000.0, "{kbps} kbit/s: not the best layer");
	let session = common::first_viewer(&node.engine);
	let figures = node.engine.session_stats(session).await.unwrap();
	assert_eq!(figures.video_layer, Some(best), "{figures:?}");
	assert_eq!(figures.layer_switches, 0, "{figures:?}");
	let frames = viewer.stats();
	assert_eq!(frames.packets_lost, 0, "{frames:?}");
}
