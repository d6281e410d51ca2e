//! A viewer behind a throttled link: simulcast adapts to it.
//!
//! The test runs in a network namespace of its own (the test binary starts itself again inside
//! one with `ip netns exec`), so it can throttle loopback traffic there with `tc` without
//! touching the machine's network: the engine, a simulcast publisher and the viewer all talk
//! over that namespace's 127.0.0.1, and only the packets to the viewer's media port go through a
//! 600 kbit/s token bucket with a short queue (what a congested access link does: a queue, then
//! loss). It needs root, `ip` and `tc` (Debian's iproute2), as CI has.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fixture, fixture_named, frames_over, TestEngine, TokenPolicy};
use sutantra_streaming::client::{PublishOptions, Publisher};
use sutantra_streaming::{Engine, SessionId};

const INSIDE: &str = "SUTANTRA_TEST_NETNS";
const TEST: &str =
	"a_viewer_behind_a_throttled_link_drops_a_layer_without_freezing_and_climbs_back";

fn run(program: &str, args: &[&str]) {
	let output = Command::new(program)
		.args(args)
		.output()
		.unwrap_or_else(|error| panic!("{program} {args:?}: {error} (install iproute2)"));
	assert!(
		output.status.success(),
		"{program} {args:?} failed: {} (this test needs root)",
		String::from_utf8_lossy(&output.stderr)
	);
}

/// Deletes the namespace however the test ends.
struct Namespace(String);

impl Drop for Namespace {
	fn drop(&mut self) {
		let _ = Command::new("ip").args(["netns", "delete", &self.0]).status();
	}
}

#[test]
fn a_viewer_behind_a_throttled_link_drops_a_layer_without_freezing_and_climbs_back() {
	if std::env::var_os(INSIDE).is_some() {
		let runtime = tokio::runtime::Builder::new_multi_thread()
			.worker_threads(4)
			.enable_all()
			.build()
			.unwrap();
		runtime.block_on(throttled_viewer());
		return;
	}
	let namespace = Namespace(format!("sutantra-throttle-{}", std::process::id()));
	run("ip", &["netns", "add", &namespace.0]);
	let exe = std::env::current_exe().unwrap();
	let mut child = Command::new("ip")
		.args(["netns", "exec", &namespace.0])
		.arg(exe)
		.args(["--exact", TEST, "--nocapture", "--test-threads=1"])
		.env(INSIDE, &namespace.0)
		.spawn()
		.unwrap();
	let deadline = Instant::now() + Duration::from_secs(240);
	let status = loop {
		if let Some(status) = child.try_wait().unwrap() {
			break status;
		}
		if Instant::now() > deadline {
			let _ = child.kill();
			panic!("the test did not finish within 4 minutes inside its network namespace");
		}
		std::thread::sleep(Duration::from_millis(200));
	};
	assert!(status.success(), "the test failed inside its network namespace (output above)");
}

/// The layer the viewer's session is sent, and how often it switched.
async fn layer(engine: &Engine, session: SessionId) -> (Option<u8>, u64) {
	let stats = engine.session_stats(session).await.unwrap();
	(stats.video_layer, stats.layer_switches)
}

/// Waits until the viewer is sent `wanted` (checked every 100 ms); how long it took, and the
/// layer switches made by then.
async fn until_layer(
	engine: &Engine,
	session: SessionId,
	wanted: u8,
	limit: Duration,
) -> (Duration, u64) {
	let started = Instant::now();
	loop {
		let (now, switches) = layer(engine, session).await;
		if now == Some(wanted) {
			return (started.elapsed(), switches);
		}
		assert!(
			started.elapsed() < limit,
			"the viewer was not sent layer {wanted} within {limit:?}: {:?}",
			engine.session_stats(session).await.unwrap()
		);
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
}

async fn throttled_viewer() {
	run("ip", &["link", "set", "lo", "up"]);
	// The WebRTC clients join the mDNS multicast group, which needs a multicast route.
	run("ip", &["link", "set", "lo", "multicast", "on"]);
	run("ip", &["route", "add", "224.0.0.0/4", "dev", "lo"]);
	let node = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let _publisher = Publisher::start(PublishOptions {
		endpoint: node.whip("50"),
		token: Some("creator".into()),
		file: fixture(),
		looped: true,
		lower_layers: vec![
			fixture_named("testsrc-160x90-30fps-vp8-120k.ivf"),
			fixture_named("testsrc-320x180-30fps-vp8-400k.ivf"),
		],
	})
	.await
	.unwrap();
	// The layers, ranked by what arrives.
	let deadline = Instant::now() + Duration::from_secs(10);
	let rates = loop {
		let rates =
			node.engine.live_streams().first().map(|stream| stream.tracks[0].layers.clone());
		if let Some(rates) =
			rates.filter(|rates| rates.len() == 3 && rates.iter().all(|bps| *bps > 0))
		{
			break rates;
		}
		assert!(Instant::now() < deadline, "the three layers did not arrive");
		tokio::time::sleep(Duration::from_millis(200)).await;
	};
	let mut ranked: Vec<u8> = (0..3).collect();
	ranked.sort_by_key(|layer| rates[usize::from(*layer)]);
	let (_, middle, best) = (ranked[0], ranked[1], ranked[2]);
	println!("layers (bit/s by layer): {rates:?}; best {best}, middle {middle}");

	let viewer = node.viewer("50", "viewer").await.unwrap();
	viewer.wait_for_frames(30, Duration::from_secs(20)).await.unwrap();
	let session = common::first_viewer(&node.engine);
	assert_eq!(
		layer(&node.engine, session).await.0,
		Some(best),
		"an open link gets the best layer"
	);
	let (frames, longest) = frames_over(&viewer, Duration::from_secs(3)).await;
	println!("open link: {frames} whole frames in 3 s, longest gap {longest:?}");
	assert!(frames >= 60, "{frames} whole frames in 3 s on an open link");

	// Throttle the link to the viewer: 600 kbit/s, a queue of at most 30 packets.
	let stats = node.engine.session_stats(session).await.unwrap();
	let port =
		stats.media_addresses.first().expect("the viewer's media address").port().to_string();
	run("tc", &["qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10"]);
	run(
		"tc",
		&["class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit"],
	);
	run(
		"tc",
		&[
			"class", "add", "dev", "lo", "parent", "1:", "classid", "1:20", "htb", "rate",
			"600kbit", "ceil", "600kbit",
		],
	);
	run(
		"tc",
		&["qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "pfifo", "limit", "30"],
	);
	run(
		"tc",
		&[
			"filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
			"match", "ip", "dport", &port, "0xffff", "flowid", "1:20",
		],
	);
	// From the moment of the throttle: the switch down, and the frames through it.
	let ((frames, longest), (down, switches)) = tokio::join!(
		frames_over(&viewer, Duration::from_secs(8)),
		until_layer(&node.engine, session, middle, Duration::from_secs(20))
	);
	println!("throttled to 600 kbit/s: down to the middle layer after {down:?}");
	assert_eq!(switches, 1, "one step down to the layer that fits, not past it");
	// The delay in the viewer's TWCC feedback shows the queue building before it overflows:
	// loss in the receiver reports (the fallback) took more than a second to show.
	assert!(down < Duration::from_secs(1), "the estimate took {down:?} to take the viewer down");
	// Without freezing: whole frames keep coming through the switch and after it, and through
	// the attempts to go back up that the link does not carry (each one ends as soon as the
	// estimate is lowered again).
	println!("throttled: {frames} whole frames in the first 8 s, longest gap {longest:?}");
	assert!(frames >= 180, "{frames} whole frames in 8 s from the throttle on");
	assert!(longest < Duration::from_secs(1), "the picture froze for {longest:?}");
	let (frames, longest) = frames_over(&viewer, Duration::from_secs(5)).await;
	println!("throttled, after the switch: {frames} whole frames in 5 s, longest gap {longest:?}");
	assert!(frames >= 75, "{frames} whole frames in 5 s behind the throttle");
	assert!(longest < Duration::from_secs(1), "the picture froze for {longest:?}");
	let estimate = node.engine.session_stats(session).await.unwrap().estimated_bps;
	println!("throttled: the node estimates {estimate:?} bit/s to the viewer");
	let estimate = estimate.expect("an estimate from the viewer's TWCC feedback");
	assert!(estimate < rates[usize::from(best)] as f64, "{estimate} bit/s");

	// The link recovers: the viewer climbs back to the best layer.
	run("tc", &["qdisc", "delete", "dev", "lo", "root"]);
	let (up, switches) = until_layer(&node.engine, session, best, Duration::from_secs(60)).await;
	println!("link open again: back on the best layer after {up:?}; {switches} switches in all");
	let (frames, longest) = frames_over(&viewer, Duration::from_secs(3)).await;
	println!("recovered: {frames} whole frames in 3 s, longest gap {longest:?}");
	assert!(frames >= 60 && longest < Duration::from_secs(1));
}
