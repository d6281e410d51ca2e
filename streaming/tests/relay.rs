//! Relaying end to end over loopback: a stream published on one engine (the origin) is pulled
//! once by another (the relay) and fanned out to the relay's viewers.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{keeps_receiving, TestEngine, TokenPolicy};
use sutantra_streaming::{
	DirectoryEntry, Error, StreamId, StreamingConfig, Upstream, UpstreamLocator,
};

/// Knows where a few streams are, as the chain's registry would.
struct FixedUpstreams(HashMap<String, Upstream>);

#[async_trait]
impl UpstreamLocator for FixedUpstreams {
	async fn locate(&self, stream: &StreamId) -> Option<Upstream> {
		self.0.get(stream.as_str()).cloned()
	}
}

/// A relay of the test network on loopback: origins at private addresses are allowed.
fn relay_config(enable_relay: bool, relay_capacity: u32) -> StreamingConfig {
	StreamingConfig {
		enable_relay,
		relay_capacity,
		relay_private_origins: true,
		..StreamingConfig::loopback()
	}
}

/// The HTTP status and reason a refused viewer got.
fn status<T>(result: sutantra_streaming::Result<T>) -> (u16, String) {
	match result {
		Err(Error::Denied { status, reason }) => (status, reason),
		// Statuses other than 401-404 come back as "<url> answered <code>: <reason>".
		Err(Error::Client(message)) => {
			let (_, rest) = message.split_once(" answered ").expect("an HTTP refusal");
			let (code, reason) = rest.split_once(": ").unwrap();
			(code.parse().unwrap(), reason.to_owned())
		},
		Err(other) => panic!("expected a refusal, got {other}"),
		Ok(_) => panic!("expected a refusal, got a session"),
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_pulls_a_stream_once_and_fans_it_out_to_its_viewers() {
	let origin = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let publisher = origin.publish("7", "creator").await;
	let second = origin.publish("9", "creator").await;

	let relay = TestEngine::start(relay_config(true, 1), Arc::new(TokenPolicy)).await;
	let upstream =
		|stream: &str| Upstream { endpoint: origin.whep(stream), token: Some("viewer".into()) };
	relay.engine.set_upstreams(Arc::new(FixedUpstreams(HashMap::from([
		("7".to_owned(), upstream("7")),
		("8".to_owned(), upstream("8")),
		("9".to_owned(), upstream("9")),
	]))));

	// Two viewers at the relay: both play from a keyframe, and the origin serves one session.
	let a = relay.viewer("7", "viewer").await.unwrap();
	let b = relay.viewer("7", "viewer").await.unwrap();
	for viewer in [&a, &b] {
		let stats = viewer.wait_for_frames(45, Duration::from_secs(20)).await.unwrap();
		assert_eq!(stats.started_with_keyframe, Some(true), "{stats:?}");
	}
	let at_origin = origin.engine.live_streams();
	let seven = at_origin.iter().find(|s| s.stream.as_str() == "7").unwrap();
	assert_eq!(seven.viewers, 1, "the relay pulls the stream once: {at_origin:?}");
	let relayed = relay.engine.live_streams();
	assert_eq!(relayed.len(), 1);
	assert_eq!(relayed[0].viewers, 2);
	assert_eq!(relayed[0].relayed_from.as_deref(), Some(origin.whep("7").as_str()));
	assert_eq!(relayed[0].tracks[0].codec, "video/VP8");

	// The relay's gate still decides: a viewer who has not paid gets nothing relayed.
	assert_eq!(status(relay.viewer("7", "broke").await).0, 402);
	// Its capacity is one stream: a second one is refused with a reason.
	let (code, reason) = status(relay.viewer("9", "viewer").await);
	assert_eq!(code, 503, "{reason}");
	assert!(reason.contains("relays its maximum of 1"), "{reason}");
	// A stream the origin does not have: the origin's refusal is passed on.
	let (code, reason) = status(relay.viewer("8", "viewer").await);
	assert!(code == 502 || code == 503, "{code}: {reason}");

	// The directory the owner discovered, with what is live here marked.
	relay.engine.set_directory(vec![
		DirectoryEntry {
			stream: "7".parse().unwrap(),
			title: "seven".into(),
			origin: Some(origin.base.clone()),
			here: false,
		},
		DirectoryEntry {
			stream: "9".parse().unwrap(),
			title: "nine".into(),
			origin: Some(origin.base.clone()),
			here: false,
		},
	]);
	let directory: serde_json::Value =
		serde_json::from_str(&http_get(&format!("{}/directory", relay.base)).await).unwrap();
	assert_eq!(directory[0]["stream"], "7");
	assert_eq!(directory[0]["here"], true);
	assert_eq!(directory[1]["here"], false);

	// The publisher leaves the origin: the relayed stream ends, and its viewers learn why.
	publisher.stop().await.unwrap();
	for viewer in [&a, &b] {
		let reason = viewer.wait_ended(Duration::from_secs(10)).await;
		assert!(reason.as_deref().is_some_and(|r| r.contains("publisher left")), "{reason:?}");
	}
	tokio::time::timeout(Duration::from_secs(10), async {
		while !relay.engine.live_streams().is_empty() {
			tokio::time::sleep(Duration::from_millis(50)).await;
		}
	})
	.await
	.expect("the relayed stream ends with its origin");

	// With the slot free, the other stream relays.
	let c = relay.viewer("9", "viewer").await.unwrap();
	keeps_receiving(&c, 30).await;
	c.stop().await.unwrap();
	second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_relaying_a_stream_published_elsewhere_is_not_found() {
	let origin = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let publisher = origin.publish("7", "creator").await;
	let node = TestEngine::start(relay_config(false, 10), Arc::new(TokenPolicy)).await;
	node.engine.set_upstreams(Arc::new(FixedUpstreams(HashMap::from([(
		"7".to_owned(),
		Upstream { endpoint: origin.whep("7"), token: Some("viewer".into()) },
	)]))));
	assert_eq!(status(node.viewer("7", "viewer").await).0, 404);
	assert_eq!(origin.engine.live_streams()[0].viewers, 0, "nothing was pulled");
	publisher.stop().await.unwrap();
}

async fn http_get(url: &str) -> String {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let rest = url.strip_prefix("http://").unwrap();
	let (host, path) = rest.split_once('/').unwrap();
	let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
	let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
	stream.write_all(request.as_bytes()).await.unwrap();
	let mut response = String::new();
	stream.read_to_string(&mut response).await.unwrap();
	assert!(response.starts_with("HTTP/1.1 200"), "{response}");
	response.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relayed_stream_nobody_watches_is_released_and_its_place_given_back() {
	let origin = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let _seven = origin.publish("7", "creator").await;
	let _nine = origin.publish("9", "creator").await;
	let config = StreamingConfig {
		relay_idle_timeout: Duration::from_secs(2),
		..relay_config(true, 1)
	};
	let relay = TestEngine::start(config, Arc::new(TokenPolicy)).await;
	let upstream =
		|stream: &str| Upstream { endpoint: origin.whep(stream), token: Some("viewer".into()) };
	relay.engine.set_upstreams(Arc::new(FixedUpstreams(HashMap::from([
		("7".to_owned(), upstream("7")),
		("9".to_owned(), upstream("9")),
	]))));

	let viewer = relay.viewer("7", "viewer").await.unwrap();
	keeps_receiving(&viewer, 20).await;
	// The relay's one place is taken while stream 7 is watched.
	assert_eq!(status(relay.viewer("9", "viewer").await).0, 503);
	viewer.stop().await.unwrap();

	// Two idle seconds (and a check interval) later the pull ends, here and at the origin.
	let deadline = std::time::Instant::now() + Duration::from_secs(6);
	let origin_viewers = || {
		origin.engine.live_streams().iter().find(|s| s.stream.as_str() == "7").unwrap().viewers
	};
	while (!relay.engine.live_streams().is_empty() || origin_viewers() > 0)
		&& std::time::Instant::now() < deadline
	{
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	assert!(relay.engine.live_streams().is_empty(), "{:?}", relay.engine.live_streams());
	assert_eq!(origin_viewers(), 0, "the origin still serves the relay");

	// The place is free again: stream 9 can be relayed.
	let nine = relay.viewer("9", "viewer").await.unwrap();
	keeps_receiving(&nine, 20).await;
}

/// An origin that answers every offer with `status`, a body full of secrets and a `Location` on
/// another server, and counts the requests it gets.
async fn hostile_origin(status: u16) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
	use axum::http::{header, StatusCode};
	use axum::response::IntoResponse;
	let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
	let counted = requests.clone();
	let app = axum::Router::new().fallback(move || {
		let counted = counted.clone();
		async move {
			counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
			let status = StatusCode::from_u16(status).unwrap();
			let body = format!("SECRET-METADATA {}", "x".repeat(200_000));
			(status, [(header::LOCATION, "http://127.0.0.2:9/latest/meta-data")], body)
				.into_response()
		}
	});
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let base = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
	(base, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn origins_at_private_addresses_are_not_reached_and_never_quoted() {
	// A relay as deployed: private origins not allowed. A stream registered with its origin on
	// loopback (or a cloud metadata address) is not pulled; the viewer learns why.
	let (inside, requests) = hostile_origin(201).await;
	let relay = TestEngine::start(
		StreamingConfig { relay_private_origins: false, ..relay_config(true, 2) },
		Arc::new(TokenPolicy),
	)
	.await;
	relay.engine.set_upstreams(Arc::new(FixedUpstreams(HashMap::from([
		("1".to_owned(), Upstream { endpoint: format!("{inside}/whep/1"), token: None }),
		(
			"2".to_owned(),
			Upstream { endpoint: "http://169.254.169.254/latest/whep/2".into(), token: None },
		),
		("3".to_owned(), Upstream { endpoint: "http://localhost:9/whep/3".into(), token: None }),
	]))));
	for stream in ["1", "2", "3"] {
		let (code, reason) = status(relay.viewer(stream, "viewer").await);
		assert_eq!(code, 502, "{reason}");
		assert!(reason.contains("not a public address") || reason.contains("non-public"), "{reason}");
	}
	assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 0, "the relay reached inside");
	assert!(relay.engine.sessions().is_empty());

	// Allowed to reach it (a test network), the relay still never quotes what an origin says,
	// reads at most a bounded answer, and never follows its Location to another server.
	let (refusing, _) = hostile_origin(403).await;
	let (misdirecting, requests) = hostile_origin(201).await;
	let relay = TestEngine::start(relay_config(true, 2), Arc::new(TokenPolicy)).await;
	relay.engine.set_upstreams(Arc::new(FixedUpstreams(HashMap::from([
		("4".to_owned(), Upstream { endpoint: format!("{refusing}/whep/4"), token: None }),
		("5".to_owned(), Upstream { endpoint: format!("{misdirecting}/whep/5"), token: None }),
	]))));
	for stream in ["4", "5"] {
		let (code, reason) = status(relay.viewer(stream, "viewer").await);
		assert!(code == 502 || code == 401, "{code}: {reason}");
		assert!(!reason.contains("SECRET"), "the origin's words were passed on: {reason}");
		assert!(reason.len() < 1000, "{reason}");
	}
	// The misdirecting origin got the offer and nothing else: no DELETE went anywhere.
	assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
	assert!(relay.engine.sessions().is_empty());
}

/// An origin that answers every WHEP offer with a plausible SDP answer and then never connects:
/// ICE towards it fails, so the pull never brings media.
async fn origin_that_never_connects() -> String {
	use axum::http::{header, StatusCode};
	use axum::response::IntoResponse;
	let app = axum::Router::new().fallback(|body: String| async move {
		// Answer each media section of the offer by its mid, sending video, as an origin would.
		let mut answer = String::from(
			"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
			 a=ice-ufrag:stuk\r\na=ice-pwd:stuckstuckstuckstuckstu\r\n\
			 a=fingerprint:sha-256 3B:25:7D:53:E9:E7:3C:07:9E:14:5C:26:B1:49:B5:C9:2B:11:6E:38:7A:A6:28:DE:8F:38:2D:63:0C:8D:27:DC\r\n\
			 a=setup:active\r\n",
		);
		let mids: Vec<&str> =
			body.lines().filter_map(|line| line.trim().strip_prefix("a=mid:")).collect();
		answer.push_str(&format!("a=group:BUNDLE {}\r\n", mids.join(" ")));
		let mut mid = mids.iter();
		for line in body.lines().filter(|line| line.starts_with("m=")) {
			let Some(mid) = mid.next() else { break };
			if line.starts_with("m=video") {
				answer.push_str(&format!(
					"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\na=mid:{mid}\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=ssrc:1234 cname:stuck\r\n"
				));
			} else if line.starts_with("m=audio") {
				answer.push_str(&format!(
					"m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\na=mid:{mid}\r\na=inactive\r\na=rtpmap:111 opus/48000/2\r\n"
				));
			} else {
				answer.push_str(&format!(
					"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\na=mid:{mid}\r\na=sctp-port:5000\r\n"
				));
			}
		}
		answer.push_str("a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n");
		(StatusCode::CREATED, [(header::LOCATION, "/whep/1/0123456789abcdef0123456789abcdef")], answer)
			.into_response()
	});
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let base = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
	base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_pull_that_never_brings_media_times_out_and_frees_its_place() {
	let stuck = origin_that_never_connects().await;
	let origin = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let _nine = origin.publish("9", "creator").await;
	let config = StreamingConfig {
		handshake_timeout: Duration::from_secs(2),
		..relay_config(true, 1)
	};
	let relay = TestEngine::start(config, Arc::new(TokenPolicy)).await;
	relay.engine.set_upstreams(Arc::new(FixedUpstreams(HashMap::from([
		("1".to_owned(), Upstream { endpoint: format!("{stuck}/whep/1"), token: None }),
		("9".to_owned(), Upstream { endpoint: origin.whep("9"), token: Some("viewer".into()) }),
	]))));

	// The pull holds the relay's one place until the handshake timeout ends it; the viewer
	// learns the origin failed, and the place is free for a stream that works.
	let started = std::time::Instant::now();
	let (code, reason) = status(relay.viewer("1", "viewer").await);
	assert_eq!(code, 502, "{reason}");
	assert!(reason.contains("did not deliver it"), "{reason}");
	let deadline = std::time::Instant::now() + Duration::from_secs(10);
	while !relay.engine.sessions().is_empty() && std::time::Instant::now() < deadline {
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	assert!(relay.engine.sessions().is_empty(), "{:?}", relay.engine.sessions());
	println!("stuck relay pull released {:.1} s after the viewer asked", started.elapsed().as_secs_f64());
	// The handshake timeout (2 s here) and the wait for media bound it; 15 s is generous.
	assert!(started.elapsed() < Duration::from_secs(15), "the stuck pull held its place too long");
	let nine = relay.viewer("9", "viewer").await.unwrap();
	keeps_receiving(&nine, 20).await;
}
