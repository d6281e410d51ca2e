//! Churn against one real node: hundreds of joins and leaves, viewers that vanish without a
//! word, bad offers, offers that never connect, and data-channel floods, while two honest
//! viewers watch. They must decode frames throughout, and once the churn is over the node's
//! sessions, open file descriptors (its UDP ports among them) and memory must come back to
//! where they were. Figures: `cargo test --workspace --test churn -- --nocapture`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{chain::register_live_stream, streaming::*, TestNode};
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring;
use sutantra_integration::statement::{Purpose, Statement};
use sutantra_streaming::client::{Viewer, WatchOptions};
use tokio::sync::Semaphore;

/// The node process's resident memory, in KiB, and its open file descriptors.
fn footprint(pid: u32) -> (u64, usize) {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
	let rss = status
		.lines()
		.find_map(|line| line.strip_prefix("VmRSS:"))
		.and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
		.unwrap();
	let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count();
	(rss, fds)
}

/// One churner's bearer token for the node, as a throwaway account (the stream is free).
fn churn_token(genesis: &[u8], node: [u8; 32], id: u64, n: usize) -> String {
	let pair = sr25519::Pair::from_string(&format!("//Churn{n}"), None).unwrap();
	Statement::new(pair.public().into(), id, Purpose::Watch, node).sign(&pair, genesis)
}

async fn sessions(node: &TestNode) -> u64 {
	node.streaming_get("/health").await["sessions"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn churn_leaves_honest_viewers_playing_and_the_node_as_it_was() {
	// Loopback is one client address: its limits are lifted so the churn is not simply refused.
	let mut node = TestNode::start(&[
		"--consensus",
		"manual-seal-1000",
		"--max-sessions-per-client",
		"500",
		"--max-pending-per-client",
		"100",
		"--requests-per-second-per-client",
		"500",
		"--handshake-timeout",
		"3",
	])
	.await;
	let client = node.client().await;
	let alice = Sr25519Keyring::Alice;
	let id = register_live_stream(&client, alice, "churn", 0).await;
	let publisher = publish_test_source(&client, &node.streaming_url(), alice, id).await;
	let honest = [
		watch_as(&client, &node, Sr25519Keyring::Bob, id).await.unwrap(),
		watch_as(&client, &node, Sr25519Keyring::Charlie, id).await.unwrap(),
	];
	for viewer in &honest {
		viewer.wait_for_frames(30, Duration::from_secs(20)).await.unwrap();
	}
	let base = node.streaming_url();
	let key = node_key(&base).await;
	let genesis = client.genesis_hash().as_ref().to_vec();
	tokio::time::sleep(Duration::from_secs(2)).await;
	let baseline = footprint(node.pid());
	let baseline_sessions = sessions(&node).await;

	// The churn: 300 clients, ten at a time.
	let started = Instant::now();
	let gate = Arc::new(Semaphore::new(10));
	let mut tasks = Vec::new();
	for n in 0..300usize {
		let permit = gate.clone().acquire_owned().await.unwrap();
		let (base, genesis) = (base.clone(), genesis.clone());
		tasks.push(tokio::spawn(async move {
			let _permit = permit;
			let token = churn_token(&genesis, key, id, n);
			let endpoint = format!("{base}/whep/{id}");
			let join = || Viewer::connect(WatchOptions {
				endpoint: endpoint.clone(),
				token: Some(token.clone()),
				output: None,
			});
			match n % 5 {
				// Joins, watches a moment, leaves properly.
				0 | 1 => {
					if let Ok(viewer) = join().await {
						let _ = viewer.wait_for_frames(3, Duration::from_secs(5)).await;
						let _ = viewer.stop().await;
					}
				},
				// Joins and vanishes without a word.
				2 => {
					if let Ok(viewer) = join().await {
						viewer.abandon().await;
					}
				},
				// A bad offer, then an offer that never connects.
				3 => {
					let http = sutantra_streaming::client::Signalling::new().unwrap();
					let _ = http.post_json(&endpoint, b"v=0\r\nnonsense".to_vec()).await;
					let socket = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
						.await
						.unwrap();
					let _ = half_open(socket, &endpoint, &token).await;
				},
				// Floods its data channel.
				_ => {
					if let Ok(viewer) = join().await {
						for _ in 0..5_000 {
							if viewer.send(b"{\"type\":\"voucher\"}").await.is_err() {
								break;
							}
						}
						let _ = viewer.wait_ended(Duration::from_secs(5)).await;
						viewer.abandon().await;
					}
				},
			}
		}));
		if n % 50 == 49 {
			// The honest viewers decode frames throughout.
			for viewer in &honest {
				let before = viewer.stats().frames;
				viewer
					.wait_for_frames(before + 10, Duration::from_secs(20))
					.await
					.unwrap_or_else(|e| panic!("an honest viewer stalled after {n} churners: {e}"));
			}
		}
	}
	for task in tasks {
		task.await.unwrap();
	}
	let churned = started.elapsed();

	// Settled: every churned session is gone (vanished ones once their connection times out).
	let deadline = Instant::now() + Duration::from_secs(60);
	while sessions(&node).await > baseline_sessions && Instant::now() < deadline {
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	assert_eq!(sessions(&node).await, baseline_sessions, "churned sessions were left behind");
	tokio::time::sleep(Duration::from_secs(3)).await;
	let after = footprint(node.pid());
	for viewer in &honest {
		assert_eq!(viewer.ended_reason(), None);
		let before = viewer.stats().frames;
		viewer.wait_for_frames(before + 10, Duration::from_secs(20)).await.unwrap();
	}
	println!(
		"churn: 300 clients (120 join/leave, 60 vanish, 60 bad + half-open offers, 60 floods) in \
		 {:.1} s; node RSS {} -> {} MiB, open fds {} -> {} (sutantra-node process, /proc, before \
		 the churn and after it settled)",
		churned.as_secs_f64(),
		baseline.0 / 1024,
		after.0 / 1024,
		baseline.1,
		after.1,
	);
	// Descriptors (UDP ports among them) all given back; memory within a generous bound of the
	// baseline (the allocator keeps some of what it used).
	assert!(after.1 <= baseline.1 + 8, "descriptors leaked: {} -> {}", baseline.1, after.1);
	assert!(after.0 <= baseline.0 + 64 * 1024, "memory grew: {} -> {} KiB", baseline.0, after.0);

	for viewer in honest {
		let _ = viewer.stop().await;
	}
	let _ = publisher.stop().await;
	node.stop().await;
}

/// Posts an offer that asks for VP8 and never answers connectivity checks: it holds a session
/// until the node reaps it.
async fn half_open(
	mut socket: tokio::net::TcpStream,
	endpoint: &str,
	token: &str,
) -> std::io::Result<()> {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
		m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:hOpN\r\n\
		a=ice-pwd:4ZcD6yXNxNVyzu5JhlEM2dEQ\r\n\
		a=fingerprint:sha-256 3B:25:7D:53:E9:E7:3C:07:9E:14:5C:26:B1:49:B5:C9:2B:11:6E:38:7A:A6:28:DE:8F:38:2D:63:0C:8D:27:DC\r\n\
		a=setup:actpass\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n";
	let path = endpoint.splitn(4, '/').nth(3).unwrap_or_default();
	let request = format!(
		"POST /{path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n\
		 Authorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{offer}",
		offer.len()
	);
	socket.write_all(request.as_bytes()).await?;
	let mut answer = Vec::new();
	socket.read_to_end(&mut answer).await?;
	Ok(())
}
