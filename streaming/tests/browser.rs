//! A real browser plays a stream: Debian's Chromium, headless, driven by playwright-core
//! (`tests/browser/watch.mjs`), opens the engine's player page and decodes the video over WHEP.
//! `scripts/setup.sh` installs Chromium and the npm package.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{TestEngine, TokenPolicy};
use sutantra_streaming::{EngineEvent, Role};

fn watch_in_browser(url: &str, name: &str) -> serde_json::Value {
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
	let mut command = Command::new("node");
	command.arg("watch.mjs").arg(url).args(["--timeout-ms", "30000"]).current_dir(&dir);
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
