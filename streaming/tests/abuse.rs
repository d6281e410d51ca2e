//! The engine under abuse, over real HTTP and real WebRTC on loopback: half-open offers, offers
//! beyond a client's share, a data channel flood. Each attack must fail while an honest viewer,
//! connected before it started, keeps receiving frames.
//!
//! The attackers speak from other loopback addresses (127.0.0.2 and up, all on `lo`), so the
//! engine sees them as other clients than the honest viewer at 127.0.0.1.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{keeps_receiving, TestEngine};
use sutantra_streaming::{AllowAll, EngineEvent, LeaveReason, Role, StreamingConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A WHEP offer that asks for VP8 and whose ICE never completes: nobody answers connectivity
/// checks for it. Each one the node accepts holds a session and a UDP port until it is reaped.
const HALF_OPEN_OFFER: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96\r\n\
c=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:hOpN\r\n\
a=ice-pwd:4ZcD6yXNxNVyzu5JhlEM2dEQ\r\n\
a=fingerprint:sha-256 3B:25:7D:53:E9:E7:3C:07:9E:14:5C:26:B1:49:B5:C9:2B:11:6E:38:7A:A6:28:DE:8F:38:2D:63:0C:8D:27:DC\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=recvonly\r\n\
a=rtcp-mux\r\n\
a=rtpmap:96 VP8/90000\r\n";

/// The same offer with a data channel (the payment channel's SCTP association), whose sender
/// would take messages of up to 256 KiB.
fn offer_with_data_channel() -> String {
	HALF_OPEN_OFFER.replace("a=group:BUNDLE 0", "a=group:BUNDLE 0 1")
		+ "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
		   c=IN IP4 0.0.0.0\r\n\
		   a=ice-ufrag:hOpN\r\n\
		   a=ice-pwd:4ZcD6yXNxNVyzu5JhlEM2dEQ\r\n\
		   a=fingerprint:sha-256 3B:25:7D:53:E9:E7:3C:07:9E:14:5C:26:B1:49:B5:C9:2B:11:6E:38:7A:A6:28:DE:8F:38:2D:63:0C:8D:27:DC\r\n\
		   a=setup:actpass\r\n\
		   a=mid:1\r\n\
		   a=sctp-port:5000\r\n\
		   a=max-message-size:262144\r\n"
}

/// An HTTP answer, as the attacker reads it.
struct Reply {
	status: u16,
	retry_after: Option<u32>,
	body: String,
}

/// POSTs `body` to `path` on `server` from the local address `source`.
async fn post_from(source: Ipv4Addr, server: SocketAddr, path: &str, body: &str) -> Reply {
	let socket = tokio::net::TcpSocket::new_v4().unwrap();
	socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).unwrap();
	let mut stream = socket.connect(server).await.unwrap();
	let request = format!(
		"POST {path} HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/sdp\r\n\
		 Authorization: Bearer viewer\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	);
	stream.write_all(request.as_bytes()).await.unwrap();
	let mut answer = Vec::new();
	stream.read_to_end(&mut answer).await.unwrap();
	let answer = String::from_utf8_lossy(&answer).into_owned();
	let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
	let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
	let retry_after = head
		.lines()
		.find_map(|line| line.to_ascii_lowercase().strip_prefix("retry-after:").map(str::to_owned))
		.and_then(|value| value.trim().parse().ok());
	Reply { status, retry_after, body: body.to_owned() }
}

fn address(last: u8) -> Ipv4Addr {
	Ipv4Addr::new(127, 0, 0, last)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_open_offers_are_bounded_per_client_and_node_and_reaped() {
	let config = StreamingConfig {
		max_pending_per_client: 4,
		max_sessions_per_client: 6,
		max_pending_sessions: 20,
		handshake_timeout: Duration::from_secs(3),
		..StreamingConfig::loopback()
	};
	let node = TestEngine::start(config, Arc::new(AllowAll)).await;
	let server = node.engine.http_addr().unwrap();
	let _publisher = node.publish("7", "creator").await;
	let honest = node.viewer("7", "viewer").await.unwrap();
	keeps_receiving(&honest, 10).await;

	// One client: four offers are answered, the fifth is refused with 429 and a Retry-After.
	for _ in 0..4 {
		let reply = post_from(address(2), server, "/whep/7", HALF_OPEN_OFFER).await;
		assert_eq!(reply.status, 201, "{}", reply.body);
	}
	let refused = post_from(address(2), server, "/whep/7", HALF_OPEN_OFFER).await;
	assert_eq!(refused.status, 429, "{}", refused.body);
	assert_eq!(refused.retry_after, Some(3));
	assert!(
		refused.body.contains("address 127.0.0.2") && refused.body.contains("still connecting")
	);

	// Many clients: the node as a whole holds at most 20 half-open sessions, then says 503.
	let mut statuses = Vec::new();
	for last in 3..12 {
		for _ in 0..4 {
			statuses
				.push(post_from(address(last), server, "/whep/7", HALF_OPEN_OFFER).await.status);
		}
	}
	let accepted = statuses.iter().filter(|status| **status == 201).count();
	let busy = statuses.iter().filter(|status| **status == 503).count();
	assert_eq!(accepted, 16, "{statuses:?}");
	assert_eq!(busy, statuses.len() - 16, "{statuses:?}");
	let pending = node.engine.sessions().iter().filter(|s| !s.connected).count();
	assert_eq!(pending, 20);

	// The honest viewer noticed nothing.
	keeps_receiving(&honest, 30).await;

	// Within the handshake timeout (and a little) every half-open session is gone and its port
	// given back; a new viewer gets in.
	let deadline = Instant::now() + Duration::from_secs(8);
	while node.engine.sessions().len() > 2 && Instant::now() < deadline {
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	let sessions = node.engine.sessions();
	assert_eq!(sessions.len(), 2, "{sessions:#?}");
	let reaped = node
		.events
		.all()
		.iter()
		.filter(|event| {
			matches!(
				event,
				EngineEvent::ViewerLeft { reason: LeaveReason::HandshakeTimedOut(3), .. }
			)
		})
		.count();
	assert_eq!(reaped, 20);
	let late = node.viewer("7", "viewer").await.unwrap();
	keeps_receiving(&late, 10).await;
	keeps_receiving(&honest, 10).await;
	// The client that was refused may offer again.
	let again = post_from(address(2), server, "/whep/7", HALF_OPEN_OFFER).await;
	assert_eq!(again.status, 201, "{}", again.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_holds_at_most_its_share_of_sessions() {
	let config = StreamingConfig { max_sessions_per_client: 2, ..StreamingConfig::loopback() };
	let node = TestEngine::start(config, Arc::new(AllowAll)).await;
	let _publisher = node.publish("8", "creator").await;
	// The publisher holds one of 127.0.0.1's two; one viewer fits, the next is refused.
	let viewer = node.viewer("8", "viewer").await.unwrap();
	keeps_receiving(&viewer, 10).await;
	let refused = node.viewer("8", "viewer").await.err().expect("refused").to_string();
	assert!(refused.contains("429") && refused.contains("sessions open"), "{refused}");
	keeps_receiving(&viewer, 10).await;
	// Leaving gives the place back.
	viewer.stop().await.unwrap();
	let deadline = Instant::now() + Duration::from_secs(5);
	while node.engine.sessions().len() > 1 && Instant::now() < deadline {
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	let next = node.viewer("8", "viewer").await.unwrap();
	keeps_receiving(&next, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_viewer_flooding_its_data_channel_is_cut_off_and_the_others_are_heard() {
	let node = TestEngine::loopback(Arc::new(AllowAll)).await;
	let _publisher = node.publish("9", "creator").await;
	let honest = node.viewer("9", "viewer").await.unwrap();
	let flooder = node.viewer("9", "viewer").await.unwrap();
	keeps_receiving(&honest, 10).await;
	let flooder_session = flooder.resource().rsplit('/').next().unwrap().to_owned();

	// 100,000 messages as fast as the flooder can send them, and oversized ones among them.
	let started = Instant::now();
	let mut sent = 0u32;
	let big = vec![b'x'; 8 * 1024];
	for i in 0..100_000u32 {
		let message: &[u8] = if i % 100 == 0 { &big } else { br#"{"type":"voucher"}"# };
		if flooder.send(message).await.is_err() || flooder.ended_reason().is_some() {
			break;
		}
		sent += 1;
	}
	let reason = flooder.wait_ended(Duration::from_secs(10)).await;
	let reason = reason.expect("the flooder is disconnected");
	assert!(reason.contains("flooding"), "{reason}");
	println!(
		"flood: {sent} messages sent in {:.2} s before the node cut the flooder off",
		started.elapsed().as_secs_f64()
	);

	// The owner heard at most the flooder's allowance (a burst of 10), not the flood.
	let heard = |session: &str| {
		node.events
			.all()
			.iter()
			.filter(|event| {
				matches!(event, EngineEvent::DataMessage { session: s, .. } if s.to_string() == session)
			})
			.count()
	};
	assert!(
		heard(&flooder_session) <= 12,
		"{} messages of the flood reached the owner",
		heard(&flooder_session)
	);

	// The honest viewer still plays, and its messages still reach the owner.
	keeps_receiving(&honest, 30).await;
	let honest_session = honest.resource().rsplit('/').next().unwrap().to_owned();
	honest.send(br#"{"type":"voucher","n":1}"#).await.unwrap();
	let deadline = Instant::now() + Duration::from_secs(5);
	while heard(&honest_session) == 0 && Instant::now() < deadline {
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	assert_eq!(heard(&honest_session), 1);
	assert!(node
		.engine
		.sessions()
		.iter()
		.all(|session| session.role == Role::Publisher
			|| session.session.to_string() == honest_session));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_answer_tells_a_viewer_the_largest_data_channel_message_the_node_takes() {
	// The node keeps a buffer of the negotiated size per connection and reassembles nothing
	// larger, whatever the viewer offers (the flood test above sends messages between the
	// engine's own 4 KiB limit and this one: they are dropped and counted against the sender).
	let node = TestEngine::loopback(Arc::new(AllowAll)).await;
	let _publisher = node.publish("13", "creator").await;
	let server = node.engine.http_addr().unwrap();
	let reply = post_from(address(40), server, "/whep/13", &offer_with_data_channel()).await;
	assert_eq!(reply.status, 201, "{}", reply.body);
	assert!(reply.body.contains("m=application"), "{}", reply.body);
	assert!(reply.body.contains("a=max-message-size:16384\r\n"), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_sending_requests_too_fast_is_slowed_down_and_no_one_else() {
	let config =
		StreamingConfig { requests_per_second_per_client: 5, ..StreamingConfig::loopback() };
	let node = TestEngine::start(config, Arc::new(AllowAll)).await;
	let server = node.engine.http_addr().unwrap();
	let _publisher = node.publish("5", "creator").await;

	// Sixty bad offers at once from one address: a burst of ten is read (and refused as bad
	// SDP), the rest are refused unread with 429.
	let mut statuses = Vec::new();
	for _ in 0..60 {
		let reply = post_from(address(30), server, "/whep/5", "hello").await;
		if reply.status == 429 {
			assert_eq!(reply.retry_after, Some(1));
			assert!(reply.body.contains("address 127.0.0.30"), "{}", reply.body);
		}
		statuses.push(reply.status);
	}
	let read = statuses.iter().filter(|status| **status == 400).count();
	let slowed = statuses.iter().filter(|status| **status == 429).count();
	assert!((10..=12).contains(&read), "{statuses:?}");
	assert_eq!(read + slowed, 60, "{statuses:?}");

	// Another client is served at once, and the slowed one again after a pause.
	let viewer = node.viewer("5", "viewer").await.unwrap();
	keeps_receiving(&viewer, 10).await;
	tokio::time::sleep(Duration::from_millis(400)).await;
	assert_eq!(post_from(address(30), server, "/whep/5", "hello").await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_connections_are_capped_per_address_and_cut_off_without_headers() {
	use sutantra_streaming::server::{DEFAULT_CONNECTIONS_PER_ADDRESS, HEADER_READ_TIMEOUT};
	let node = TestEngine::loopback(Arc::new(AllowAll)).await;
	let server = node.engine.http_addr().unwrap();
	let _publisher = node.publish("6", "creator").await;

	// One host opens connections and never sends a byte: the ones beyond its share are closed
	// at once, unread.
	let mut idle = Vec::new();
	for _ in 0..DEFAULT_CONNECTIONS_PER_ADDRESS + 6 {
		let socket = tokio::net::TcpSocket::new_v4().unwrap();
		socket.bind(SocketAddr::new(IpAddr::V4(address(50)), 0)).unwrap();
		idle.push(socket.connect(server).await.unwrap());
	}
	tokio::time::sleep(Duration::from_millis(300)).await;
	let mut closed = 0;
	for stream in &mut idle {
		let mut byte = [0u8; 1];
		if let Ok(Ok(0)) =
			tokio::time::timeout(Duration::from_millis(20), stream.read(&mut byte)).await
		{
			closed += 1;
		}
	}
	assert_eq!(closed, 6, "connections beyond the share of one address are closed");

	// Everybody else is served meanwhile.
	let viewer = node.viewer("6", "viewer").await.unwrap();
	keeps_receiving(&viewer, 10).await;

	// The silent ones are cut off once the header timeout passes.
	let started = Instant::now();
	let mut byte = [0u8; 1];
	let read =
		tokio::time::timeout(HEADER_READ_TIMEOUT + Duration::from_secs(5), idle[0].read(&mut byte))
			.await
			.expect("a silent connection is cut off");
	assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
	assert!(started.elapsed() <= HEADER_READ_TIMEOUT + Duration::from_secs(1));
	keeps_receiving(&viewer, 10).await;
}

/// The `a=candidate` lines of an SDP answer: (address, port).
fn candidates(answer: &str) -> Vec<(String, u16)> {
	answer
		.lines()
		.filter_map(|line| line.trim_end().strip_prefix("a=candidate:"))
		.filter_map(|candidate| {
			let fields: Vec<&str> = candidate.split_whitespace().collect();
			Some((fields.get(4)?.to_string(), fields.get(5)?.parse().ok()?))
		})
		.collect()
}

/// The value of an SDP answer's `a=<name>:` line (its ICE credentials: `ice-ufrag`, `ice-pwd`).
fn attribute(answer: &str, name: &str) -> String {
	let prefix = format!("a={name}:");
	answer
		.lines()
		.find_map(|line| line.trim_end().strip_prefix(prefix.as_str()))
		.expect("the answer has ICE credentials")
		.to_owned()
}

fn ufrag(answer: &str) -> String {
	attribute(answer, "ice-ufrag")
}

fn ice_pwd(answer: &str) -> String {
	attribute(answer, "ice-pwd")
}

/// A connectivity check as a client sends it: USERNAME, MESSAGE-INTEGRITY with the session's
/// password, FINGERPRINT.
fn authentic_check(ufrag: &str, pwd: &str) -> Vec<u8> {
	use rtc::stun::attributes::ATTR_USERNAME;
	use rtc::stun::fingerprint::FINGERPRINT;
	use rtc::stun::integrity::MessageIntegrity;
	use rtc::stun::message::{Message, Setter, TransactionId, BINDING_REQUEST};
	use rtc::stun::textattrs::Username;
	let provider = rtc::crypto::default_provider().unwrap();
	let setters: Vec<Box<dyn Setter>> = vec![
		Box::new(BINDING_REQUEST),
		Box::new(TransactionId::new()),
		Box::new(Username::new(ATTR_USERNAME, format!("{ufrag}:hOpN"))),
		Box::new(MessageIntegrity::new_short_term_integrity_with_provider(
			pwd.to_owned(),
			provider.crypto(),
		)),
		Box::new(FINGERPRINT),
	];
	let mut message = Message::new();
	message.build(&setters).unwrap();
	message.raw
}

/// Waits until the media socket's counters satisfy `done`.
async fn wait_for_stats(
	node: &TestEngine,
	done: impl Fn(&sutantra_streaming::MediaSocketStats) -> bool,
) -> sutantra_streaming::MediaSocketStats {
	let deadline = Instant::now() + Duration::from_secs(5);
	loop {
		let stats = node.engine.media_socket_stats();
		if done(&stats) {
			return stats;
		}
		assert!(Instant::now() < deadline, "the media socket never counted it: {stats:?}");
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
}

/// A STUN binding request (RFC 8489) with `username`, as a client's connectivity check starts.
/// Without a valid MESSAGE-INTEGRITY the session's ICE agent refuses it; the router only reads
/// the username.
fn binding_request(username: &str) -> Vec<u8> {
	let mut attributes = Vec::new();
	attributes.extend_from_slice(&0x0006u16.to_be_bytes());
	attributes.extend_from_slice(&(username.len() as u16).to_be_bytes());
	attributes.extend_from_slice(username.as_bytes());
	while attributes.len() % 4 != 0 {
		attributes.push(0);
	}
	let mut packet = vec![0x00, 0x01];
	packet.extend_from_slice(&(attributes.len() as u16).to_be_bytes());
	packet.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
	packet.extend_from_slice(&rand_bytes::<12>());
	packet.extend_from_slice(&attributes);
	packet
}

fn rand_bytes<const N: usize>() -> [u8; N] {
	let mut bytes = [0u8; N];
	for byte in &mut bytes {
		*byte = rand::random();
	}
	bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_session_is_answered_on_the_one_media_port() {
	let config = StreamingConfig { max_pending_per_client: 8, ..StreamingConfig::loopback() };
	let node = TestEngine::start(config, Arc::new(AllowAll)).await;
	let server = node.engine.http_addr().unwrap();
	let media = node.engine.media_addr();
	let _publisher = node.publish("11", "creator").await;
	let honest = node.viewer("11", "viewer").await.unwrap();
	keeps_receiving(&honest, 10).await;

	let mut ufrags = Vec::new();
	for last in 2..6 {
		let reply = post_from(address(last), server, "/whep/11", HALF_OPEN_OFFER).await;
		assert_eq!(reply.status, 201, "{}", reply.body);
		let mut announced = candidates(&reply.body);
		announced.dedup();
		assert_eq!(
			announced,
			vec![("127.0.0.1".to_owned(), media.port())],
			"host candidates at the media socket only: {}",
			reply.body
		);
		assert!(reply.body.contains("a=ice-lite"), "the node is ICE-lite: {}", reply.body);
		ufrags.push(ufrag(&reply.body));
	}
	ufrags.sort();
	ufrags.dedup();
	assert_eq!(ufrags.len(), 4, "each session has credentials of its own");
	keeps_receiving(&honest, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn datagrams_from_strangers_reach_no_session_and_viewers_play_on() {
	let node = TestEngine::start(StreamingConfig::loopback(), Arc::new(AllowAll)).await;
	let server = node.engine.http_addr().unwrap();
	let media = node.engine.media_addr();
	let _publisher = node.publish("12", "creator").await;
	let honest = node.viewer("12", "viewer").await.unwrap();
	keeps_receiving(&honest, 10).await;
	let before = node.engine.media_socket_stats();

	// A stranger sprays the media port: garbage, DTLS- and RTP-looking datagrams, and
	// connectivity checks for sessions that do not exist.
	let stranger = tokio::net::UdpSocket::bind((address(3), 0)).await.unwrap();
	let mut sent = 0u64;
	for round in 0..4_000u32 {
		let datagram = match round % 4 {
			0 => rand_bytes::<64>().to_vec(),
			1 => [&[22u8, 0xfe, 0xfd][..], &rand_bytes::<100>()].concat(),
			2 => [&[0x80u8, 96][..], &rand_bytes::<1000>()].concat(),
			_ => binding_request(&format!("nosuchsession{round}:x")),
		};
		if stranger.send_to(&datagram, media).await.is_ok() {
			sent += 1;
		}
		if round % 200 == 0 {
			tokio::task::yield_now().await;
		}
	}
	keeps_receiving(&honest, 30).await;
	let after = node.engine.media_socket_stats();
	assert!(
		after.unrouted - before.unrouted >= sent * 9 / 10,
		"the stranger's datagrams were dropped unrouted: {before:?} -> {after:?}, {sent} sent"
	);

	// A check with a session's username but without its password teaches the router nothing.
	let flooder = tokio::net::UdpSocket::bind((address(4), 0)).await.unwrap();
	let reply = post_from(address(4), server, "/whep/12", HALF_OPEN_OFFER).await;
	assert_eq!(reply.status, 201, "{}", reply.body);
	let (flooder_ufrag, flooder_pwd) = (ufrag(&reply.body), ice_pwd(&reply.body));
	flooder.send_to(&binding_request(&format!("{flooder_ufrag}:hOpN")), media).await.unwrap();
	let forged = wait_for_stats(&node, |stats| stats.refused > after.refused).await;
	let rtp = [0x80u8; 1200];
	for _ in 0..100 {
		flooder.send_to(&rtp, media).await.unwrap();
	}
	let still_unknown =
		wait_for_stats(&node, |stats| stats.unrouted >= forged.unrouted + 100).await;

	// With the password, the flooder's address is its session's; what it sprays then goes to
	// that session alone (a viewer sends no RTP: dropped before its connection sees it).
	flooder.send_to(&authentic_check(&flooder_ufrag, &flooder_pwd), media).await.unwrap();
	for round in 0..20_000u32 {
		let _ = flooder.send_to(&rtp, media).await;
		if round % 500 == 0 {
			tokio::task::yield_now().await;
		}
	}
	keeps_receiving(&honest, 30).await;
	let flooded = node.engine.media_socket_stats();
	assert!(
		flooded.unrouted - still_unknown.unrouted < 1_000,
		"once its check was authentic, the flooder's datagrams went to its own session: {flooded:?}"
	);
	let flooder_session = node
		.engine
		.sessions()
		.into_iter()
		.find(|session| !session.connected)
		.expect("the flooder's half-open session");
	let dropped =
		node.engine.session_stats(flooder_session.session).await.unwrap().dropped_datagrams;
	assert!(dropped > 1_000, "a viewer's RTP is dropped before its connection: {dropped}");

	// Another session cannot take the address over, even with its own password: the address
	// stays with the session that learned it first.
	let second = post_from(address(4), server, "/whep/12", HALF_OPEN_OFFER).await;
	assert_eq!(second.status, 201, "{}", second.body);
	let second_session = node
		.engine
		.sessions()
		.into_iter()
		.find(|session| !session.connected && session.session != flooder_session.session)
		.expect("the second half-open session");
	flooder
		.send_to(&authentic_check(&ufrag(&second.body), &ice_pwd(&second.body)), media)
		.await
		.unwrap();
	tokio::time::sleep(Duration::from_millis(200)).await;
	for _ in 0..100 {
		flooder.send_to(&rtp, media).await.unwrap();
		tokio::time::sleep(Duration::from_millis(1)).await;
	}
	tokio::time::sleep(Duration::from_millis(200)).await;
	let first_now =
		node.engine.session_stats(flooder_session.session).await.unwrap().dropped_datagrams;
	let second_now =
		node.engine.session_stats(second_session.session).await.unwrap().dropped_datagrams;
	assert!(first_now >= dropped + 100, "still the first session's: {dropped} -> {first_now}");
	assert_eq!(second_now, 0, "the second session heard nothing from the address");
	keeps_receiving(&honest, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_owner_that_stops_reading_events_stalls_no_session() {
	use sutantra_streaming::client::{PublishOptions, Publisher, Viewer, WatchOptions};
	use sutantra_streaming::Engine;
	const SPAMMERS: usize = 110;
	const BURST: usize = 10;
	let config = StreamingConfig {
		max_sessions_per_client: 1000,
		max_pending_per_client: 1000,
		requests_per_second_per_client: 1000,
		max_connections_per_client: 1000,
		..StreamingConfig::loopback()
	};
	// The owner reads no event until the end: its queue (1,024 events) fills up.
	let (engine, mut events) = Engine::start(config, Arc::new(AllowAll)).await.unwrap();
	let base = format!("http://{}", engine.http_addr().unwrap());
	let _publisher = Publisher::start(PublishOptions {
		endpoint: format!("{base}/whip/13"),
		token: None,
		file: common::fixture(),
		looped: true,
		lower_layers: Vec::new(),
	})
	.await
	.unwrap();
	let watch = || {
		Viewer::connect(WatchOptions {
			endpoint: format!("{base}/whep/13"),
			token: None,
			output: None,
		})
	};
	let deadline = Instant::now() + Duration::from_secs(10);
	let honest = loop {
		match watch().await {
			Ok(viewer) => break viewer,
			Err(error) if Instant::now() < deadline => {
				assert!(
					error.to_string().contains("starting")
						|| error.to_string().contains("not live"),
					"{error}"
				);
				tokio::time::sleep(Duration::from_millis(100)).await;
			},
			Err(error) => panic!("{error}"),
		}
	};
	keeps_receiving(&honest, 10).await;

	// Viewers send a burst of payment messages each, within their allowance: more events than
	// the owner's queue holds.
	let spammers = futures::future::join_all((0..SPAMMERS).map(|_| async {
		let viewer = watch().await.unwrap();
		for round in 0..BURST {
			viewer.send(format!("message {round}").as_bytes()).await.unwrap();
		}
		viewer
	}))
	.await;
	tokio::time::sleep(Duration::from_secs(1)).await;
	// The honest viewer pays too: its session has an event for the owner, and no room for it.
	honest.send(b"voucher").await.unwrap();
	tokio::time::sleep(Duration::from_millis(200)).await;

	// The node still answers for the honest viewer, which still plays.
	let honest_session = engine
		.sessions()
		.into_iter()
		.filter(|session| session.role == Role::Viewer)
		.min_by_key(|session| session.created_at)
		.unwrap()
		.session;
	let asked = Instant::now();
	engine.session_stats(honest_session).await.unwrap();
	engine.send_data(honest_session, bytes::Bytes::from_static(b"still here")).await.unwrap();
	assert!(asked.elapsed() < Duration::from_secs(1), "answered in {:?}", asked.elapsed());
	keeps_receiving(&honest, 30).await;

	// Once the owner reads again, every message arrives.
	let mut messages = 0;
	let until = Instant::now() + Duration::from_secs(10);
	while messages < SPAMMERS * BURST + 1 && Instant::now() < until {
		if let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
			messages += usize::from(matches!(event, EngineEvent::DataMessage { .. }));
		}
	}
	assert_eq!(messages, SPAMMERS * BURST + 1);
	drop(spammers);
	engine.shutdown().await;
}
