//! A real browser plays a stream: Debian's Chromium, headless, driven by playwright-core
//! (`tests/browser/watch.mjs`), opens the engine's player page and decodes the video over WHEP.
//! A real browser publishes one: Chromium sends its fake camera as three simulcast layers over
//! WHIP (`tests/browser/publish.mjs`). `scripts/setup.sh` installs Chromium and the npm package.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{frames_over, keeps_receiving, TestEngine, TokenPolicy};
use sutantra_streaming::{Engine, EngineEvent, Role, SessionId};

/// The directory of the browser scripts, with Chromium and playwright-core checked.
fn browser_scripts() -> PathBuf {
	let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/browser");
	assert!(
		dir.join("node_modules/playwright-core").exists(),
		"playwright-core is not installed in {}: run scripts/setup.sh",
		dir.display()
	);
	let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
	assert!(
		PathBuf::from(&chromium).exists(),
		"{chromium} is missing: run scripts/setup.sh (Debian package chromium)"
	);
	dir
}

fn watch_in_browser(url: &str, name: &str) -> serde_json::Value {
	watch_in_browser_for(url, name, Duration::ZERO)
}

/// Watches `url` in Chromium; with `watch`, keeps watching that long after the first frame and
/// reports what the player showed every 250 ms (`samples`).
fn watch_in_browser_for(url: &str, name: &str, watch: Duration) -> serde_json::Value {
	let dir = browser_scripts();
	let mut command = Command::new("node");
	command.arg("watch.mjs").arg(url).args(["--timeout-ms", "30000"]).current_dir(&dir);
	if !watch.is_zero() {
		command.arg("--watch-ms").arg(watch.as_millis().to_string());
	}
	// To look at what the browser showed: SUTANTRA_SCREENSHOTS=<directory>.
	if let Ok(screenshots) = std::env::var("SUTANTRA_SCREENSHOTS") {
		command.arg("--screenshot").arg(PathBuf::from(screenshots).join(format!("{name}.png")));
	}
	let output = command.output().expect("node runs");
	let stdout = String::from_utf8_lossy(&output.stdout);
	assert!(
		output.status.success(),
		"the browser could not be driven: {}\n{stdout}",
		String::from_utf8_lossy(&output.stderr)
	);
	let line = stdout.lines().last().unwrap_or_default();
	serde_json::from_str(line).unwrap_or_else(|_| panic!("not the player's JSON: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chromium_plays_a_stream_and_a_refused_one_stays_dark() {
	let node = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	let _publisher = node.publish("42", "creator").await;

	let url = format!("{}/watch/42?token=viewer", node.base);
	let played =
		tokio::task::spawn_blocking(move || watch_in_browser(&url, "played")).await.unwrap();
	let frames = played["framesDecoded"].as_u64().unwrap_or(0);
	assert!(frames > 0, "Chromium decoded no frame: {played}");
	assert_eq!(played["frameWidth"], 640, "{played}");
	node.events
		.wait_for(Duration::from_secs(5), |event| {
			matches!(event, EngineEvent::DataChannelOpen { .. })
		})
		.await;
	assert!(node
		.events
		.all()
		.iter()
		.any(|event| matches!(event, EngineEvent::ViewerJoined { .. })));

	let url = format!("{}/watch/42?token=broke", node.base);
	let refused =
		tokio::task::spawn_blocking(move || watch_in_browser(&url, "refused")).await.unwrap();
	assert_eq!(refused["error"]["status"], 402, "{refused}");
	assert_eq!(refused["framesDecoded"], 0, "{refused}");
	// The refused browser never had a session: only the publisher and the first browser (which
	// may still be leaving) ever did.
	let viewers_joined = node
		.events
		.all()
		.iter()
		.filter(|event| matches!(event, EngineEvent::ViewerJoined { .. }))
		.count();
	assert_eq!(viewers_joined, 1);
	assert!(
		node.engine.sessions().iter().filter(|session| session.role == Role::Viewer).count() <= 1
	);
}

/// Chromium publishing its fake camera as simulcast layers (`tests/browser/publish.mjs`): what
/// it prints, and a way to tell it to turn a layer off.
struct BrowserPublisher {
	child: Child,
	commands: ChildStdin,
	lines: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl BrowserPublisher {
	fn start(base: &str, stream: &str, token: &str) -> Self {
		let dir = browser_scripts();
		let mut child = Command::new("node")
			.arg("publish.mjs")
			.args([base, stream, "--token", token, "--rids", "q,h,f"])
			.current_dir(&dir)
			.stdin(Stdio::piped())
			.stdout(Stdio::piped())
			.spawn()
			.expect("node runs");
		let commands = child.stdin.take().unwrap();
		let stdout = child.stdout.take().unwrap();
		let lines = Arc::new(Mutex::new(Vec::new()));
		let sink = lines.clone();
		std::thread::spawn(move || {
			for line in BufReader::new(stdout).lines().map_while(Result::ok) {
				match serde_json::from_str(&line) {
					Ok(value) => sink.lock().unwrap().push(value),
					Err(_) => eprintln!("publish.mjs: {line}"),
				}
			}
		});
		BrowserPublisher { child, commands, lines }
	}

	/// Sends a command; a script that has already ended (as a refused one does) takes none.
	fn send(&mut self, command: &str) {
		let _ = writeln!(self.commands, "{command}");
	}

	/// The latest line that has `key`.
	fn last(&self, key: &str) -> Option<serde_json::Value> {
		self.lines.lock().unwrap().iter().rev().find(|line| line.get(key).is_some()).cloned()
	}

	/// What each layer sent over the last second, by Chromium's statistics: (frame width,
	/// bits/s), smallest layer first.
	fn rates(&self) -> Vec<(u64, f64)> {
		let lines = self.lines.lock().unwrap();
		let mut reports = lines.iter().rev().filter_map(|line| line["layers"].as_array());
		let (Some(now), Some(before)) = (reports.next(), reports.next()) else { return vec![] };
		let sent = |layers: &Vec<serde_json::Value>, rid: &serde_json::Value| {
			layers
				.iter()
				.find(|layer| layer["rid"] == *rid)
				.and_then(|layer| layer["bytesSent"].as_u64())
		};
		// Reports come a second apart.
		now.iter()
			.filter_map(|layer| {
				let bytes = sent(now, &layer["rid"])? - sent(before, &layer["rid"])?;
				Some((layer["frameWidth"].as_u64()?, bytes as f64 * 8.0))
			})
			.collect()
	}

	/// Waits (up to `limit`) for a line that has `key`.
	async fn wait_for(&self, key: &str, limit: Duration) -> serde_json::Value {
		let started = Instant::now();
		loop {
			if let Some(line) = self.last(key) {
				return line;
			}
			assert!(
				started.elapsed() < limit,
				"the browser publisher printed no {key:?} within {limit:?}: {:?}",
				self.lines.lock().unwrap()
			);
			tokio::time::sleep(Duration::from_millis(100)).await;
		}
	}
}

impl Drop for BrowserPublisher {
	fn drop(&mut self) {
		let _ = writeln!(self.commands, "quit");
		let deadline = Instant::now() + Duration::from_secs(5);
		while Instant::now() < deadline {
			if let Ok(Some(_)) = self.child.try_wait() {
				return;
			}
			std::thread::sleep(Duration::from_millis(100));
		}
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// The stream's simulcast layers, bit/s by layer, once `count` of them arrive (up to `limit`).
async fn layers_arriving(engine: &Engine, count: usize, limit: Duration) -> Vec<u64> {
	let started = Instant::now();
	loop {
		let layers = engine.live_streams().first().map(|stream| stream.tracks[0].layers.clone());
		if let Some(layers) = layers.clone() {
			if layers.len() == count && layers.iter().filter(|bps| **bps > 0).count() == count {
				return layers;
			}
		}
		assert!(
			started.elapsed() < limit,
			"{count} layers did not arrive within {limit:?}: {layers:?}"
		);
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}

/// The layers by bitrate, lowest first.
fn ranked(layers: &[u64]) -> Vec<u8> {
	let mut ranked: Vec<u8> = (0..layers.len() as u8).collect();
	ranked.sort_by_key(|layer| layers[usize::from(*layer)]);
	ranked
}

/// Waits (up to `limit`) until the viewer's session is sent `wanted`; how long that took.
async fn until_layer(engine: &Engine, session: SessionId, wanted: u8, limit: Duration) -> Duration {
	let started = Instant::now();
	loop {
		let stats = engine.session_stats(session).await.unwrap();
		if stats.video_layer == Some(wanted) {
			return started.elapsed();
		}
		assert!(
			started.elapsed() < limit,
			"the viewer was not sent layer {wanted} within {limit:?}: {stats:?}"
		);
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chromium_publishes_three_simulcast_layers_and_viewers_follow_when_it_drops_one() {
	let node = TestEngine::loopback(Arc::new(TokenPolicy)).await;
	// A publisher without the right token is refused and sends nothing.
	let mut refused = BrowserPublisher::start(&node.base, "44", "viewer");
	let answer = refused.wait_for("state", Duration::from_secs(30)).await;
	assert_eq!(answer["state"], "refused", "{answer}");
	assert_eq!(answer["status"], 403, "{answer}");
	refused.send("quit");
	assert!(node.engine.live_streams().is_empty());

	let mut publisher = BrowserPublisher::start(&node.base, "44", "creator");
	let answer = publisher.wait_for("state", Duration::from_secs(30)).await;
	assert_eq!(answer["state"], "publishing", "{answer}");
	// Chromium turns its layers on as its bandwidth estimate (from the node's TWCC feedback)
	// allows: all three within seconds on loopback.
	let layers = layers_arriving(&node.engine, 3, Duration::from_secs(30)).await;
	println!("Chromium's layers arriving, bit/s by layer: {layers:?}");
	// Its estimate grows for a few seconds more, and while it does the small layer may get more
	// bits than the middle one: rank the layers once Chromium sends each as big as asked, with
	// bitrates in the order of their sizes, and the node measures them in the same order.
	let started = Instant::now();
	let (middle, best) = loop {
		let layers = node.engine.live_streams()[0].tracks[0].layers.clone();
		let order = ranked(&layers);
		let rate = |rank: usize| layers[usize::from(order[rank])] as f64;
		let measured_apart = rate(2) > 1.5 * rate(1) && rate(1) > 1.5 * rate(0);
		let sent = publisher.rates();
		let sent_apart = sent.len() == 3
			&& sent.iter().map(|(width, _)| *width).eq([160, 320, 640])
			&& sent[2].1 > 1.5 * sent[1].1
			&& sent[1].1 > 1.5 * sent[0].1;
		if measured_apart && sent_apart {
			println!("Chromium sends {sent:?} (width, bit/s); the node measures {layers:?}");
			break (order[1], order[2]);
		}
		assert!(
			started.elapsed() < Duration::from_secs(40),
			"Chromium's layers did not settle: it sends {sent:?}, the node measures {layers:?}"
		);
		tokio::time::sleep(Duration::from_millis(500)).await;
	};

	// A viewer in this process gets the best layer and plays it.
	let viewer = node.viewer("44", "viewer").await.unwrap();
	viewer.wait_for_frames(30, Duration::from_secs(20)).await.unwrap();
	let session = common::first_viewer(&node.engine);
	until_layer(&node.engine, session, best, Duration::from_secs(10)).await;

	// Chromium watches too, and keeps watching while the publisher drops its best layer.
	let url = format!("{}/watch/44?token=viewer", node.base);
	let watching = tokio::task::spawn_blocking(move || {
		watch_in_browser_for(&url, "simulcast", Duration::from_secs(14))
	});
	node.events
		.wait_for(
			Duration::from_secs(30),
			|event| matches!(event, EngineEvent::ViewerJoined { session: joined, .. } if *joined != session),
		)
		.await;
	tokio::time::sleep(Duration::from_secs(5)).await;

	// The publisher turns its full-size layer off, as Chromium does on its own when its CPU or
	// uplink cannot carry it. Both viewers move to the next layer and keep playing.
	let dropping = async {
		publisher.send("stop f");
		publisher.wait_for("stopped", Duration::from_secs(10)).await;
		until_layer(&node.engine, session, middle, Duration::from_secs(5)).await
	};
	let ((frames, longest), switched) =
		tokio::join!(frames_over(&viewer, Duration::from_secs(6)), dropping);
	println!(
		"the publisher dropped its best layer: the viewer was sent the next {switched:?} after the \
		 browser confirmed; over 6 s from the command {frames} whole frames, longest gap {longest:?}"
	);
	assert!(frames >= 90, "{frames} whole frames in 6 s across the switch");
	assert!(longest < Duration::from_millis(1200), "the picture froze for {longest:?}");
	assert_eq!(node.engine.live_streams()[0].tracks[0].layers[usize::from(best)], 0);

	let watched = watching.await.unwrap();
	let samples = watched["samples"].as_array().cloned().unwrap_or_default();
	let decoded = |sample: &serde_json::Value| sample["framesDecoded"].as_u64().unwrap_or(0);
	let width = |sample: &serde_json::Value| sample["frameWidth"].as_u64().unwrap_or(0);
	let at = |sample: &serde_json::Value| sample["ms"].as_u64().unwrap_or(0);
	let shown: Vec<String> = samples
		.iter()
		.map(|sample| format!("{}:{}@{}", at(sample), decoded(sample), width(sample)))
		.collect();
	println!("Chromium watching (ms: frames decoded @ width): {}", shown.join(" "));
	let widths: Vec<u64> = samples.iter().map(width).collect();
	assert_eq!(widths.first(), Some(&640), "Chromium first played the full-size layer: {watched}");
	assert_eq!(widths.last(), Some(&320), "then the half-size one: {watched}");
	// It kept decoding through the switch: the longest time its count of decoded frames stood
	// still (its connection's statistics, read every 100 ms), and frames in the last two seconds
	// it watched.
	let (mut stalled, mut since) = (0, samples.first().map(at).unwrap_or(0));
	for pair in samples.windows(2) {
		if decoded(&pair[1]) > decoded(&pair[0]) {
			since = at(&pair[1]);
		}
		stalled = stalled.max(at(&pair[1]) - since);
	}
	println!("Chromium's count of decoded frames stood still for at most {stalled} ms");
	assert!(stalled < 1500, "Chromium's picture froze for {stalled} ms: {watched}");
	let end = samples.last().map(decoded).unwrap_or(0);
	let two_seconds_before = samples.iter().rev().nth(20).map(decoded).unwrap_or(end);
	assert!(
		end - two_seconds_before >= 30,
		"Chromium stopped decoding after the switch: {watched}"
	);

	// The publisher turns the layer on again: the viewer in this process climbs back to it.
	publisher.send("start f");
	publisher.wait_for("started", Duration::from_secs(10)).await;
	let climbed = until_layer(&node.engine, session, best, Duration::from_secs(30)).await;
	println!(
		"the publisher sent its best layer again: the viewer was back on it within {climbed:?}"
	);
	keeps_receiving(&viewer, 30).await;
}
