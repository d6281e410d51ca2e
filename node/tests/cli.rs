//! The command-line clients against a running dev node: the real `sutantra-node` binary both
//! as the node and as the client, as a creator and a viewer would use them.

mod common;

use std::{process::Output, time::Duration};

use common::TestNode;
use serde_json::Value;
use sp_core::crypto::Ss58Codec;
use sp_keyring::Sr25519Keyring;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sutantra-node");

/// A data directory of its own for the command-line clients this test process runs.
fn data_dir() -> &'static std::path::Path {
	static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
	DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// Runs `sutantra-node ARGS` against `node`.
async fn run(node: &TestNode, args: &[&str]) -> Output {
	let streaming = node.streaming_url();
	Command::new(BIN)
		.args(args)
		.args(["--rpc", &node.ws_url, "--streaming", &streaming])
		// The watch client's record of signed vouchers, out of the user's home.
		.env("SUTANTRA_DATA_DIR", data_dir())
		.output()
		.await
		.expect("the client runs")
}

/// Runs a command that must succeed and returns its standard output.
async fn ok(node: &TestNode, args: &[&str]) -> String {
	let output = run(node, args).await;
	let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "{args:?} failed: {stderr}\n{stdout}");
	stdout
}

/// Runs a `--json` command that must succeed and parses what it prints.
async fn json(node: &TestNode, args: &[&str]) -> Value {
	let mut with_json = args.to_vec();
	with_json.push("--json");
	let stdout = ok(node, &with_json).await;
	serde_json::from_str(&stdout)
		.unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
}

/// Runs a command that must fail; returns its error output.
async fn fails(node: &TestNode, args: &[&str]) -> String {
	let output = run(node, args).await;
	let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
	assert!(
		!output.status.success(),
		"{args:?} succeeded: {}",
		String::from_utf8_lossy(&output.stdout)
	);
	stderr
}

/// Opens the node's player page at `url` in headless Chromium (driven by
/// `tests/browser/watch.mjs`, which `scripts/setup.sh` installs) and returns what it reports.
async fn watch_in_chromium(url: &str) -> Value {
	let driver = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser");
	let output = Command::new("node")
		.args(["watch.mjs", url, "--timeout-ms", "30000"])
		.current_dir(&driver)
		.output()
		.await
		.expect("node runs the browser driver (scripts/setup.sh installs it)");
	let stdout = String::from_utf8_lossy(&output.stdout);
	assert!(output.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&output.stderr));
	serde_json::from_str(stdout.lines().last().unwrap_or_default())
		.unwrap_or_else(|_| panic!("not the player's report: {stdout}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_creator_and_a_viewer_go_from_create_to_end_on_the_command_line() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	node.client().await;
	let alice = ["--suri", "//Alice"];

	// Create (and announce where it is published), start, list, show.
	let origin = node.streaming_url();
	let created = json(
		&node,
		&[
			&[
				"stream",
				"create",
				"--title",
				"From the CLI",
				"--price-per-second",
				"0.001",
				"--origin",
				&origin,
			],
			&alice[..],
		]
		.concat(),
	)
	.await;
	let id = created["id"].as_u64().expect("an id");
	assert_eq!(created["status"], "registered");
	assert_eq!(created["price_per_second"], "1000000000");
	let id_text = id.to_string();
	let started = ok(&node, &[&["stream", "start", &id_text], &alice[..]].concat()).await;
	assert!(started.contains("is live"), "{started}");
	let live = json(&node, &["stream", "list", "--live"]).await;
	assert!(
		live.as_array().unwrap().iter().any(|s| s["id"] == id && s["status"] == "live"),
		"{live}"
	);
	let table = ok(&node, &["stream", "list"]).await;
	assert!(table.lines().next().unwrap().starts_with("ID  TITLE"), "{table}");
	assert!(table.contains("From the CLI") && table.contains("0.001 SUT/s"), "{table}");
	let shown = ok(&node, &["stream", "show", &id_text]).await;
	assert!(
		shown.contains("status:       live") && shown.contains(&format!("origin:       {origin}")),
		"{shown}"
	);

	// Alice publishes the built-in test source in the background, as three simulcast layers.
	let mut publisher = Command::new(BIN)
		.args(["stream", "publish", &id_text, "--test-source", "--simulcast", "--duration", "120"])
		.args(alice)
		.args(["--rpc", &node.ws_url, "--streaming", &origin])
		.stdout(std::process::Stdio::piped())
		.stderr(std::process::Stdio::piped())
		.kill_on_drop(true)
		.spawn()
		.unwrap();
	node.wait_for("the stream to be live on the node", Duration::from_secs(30), || async {
		let streams = node.streaming_get("/streams").await;
		(streams.as_array()?.iter().any(|s| s["stream"] == id_text)).then_some(())
	})
	.await;
	node.wait_for("three simulcast layers to arrive", Duration::from_secs(10), || async {
		let streams = node.streaming_get("/streams").await;
		let layers = streams.as_array()?.first()?["tracks"][0]["layers"].as_array()?.clone();
		(layers.len() == 3 && layers.iter().all(|bps| bps.as_u64() > Some(0))).then_some(())
	})
	.await;

	// Bob watches for 12 s: a channel is opened for him, he pays with vouchers, and closes it.
	// Halfway through, the node's figures of how the stream reaches him.
	let watch = [
		"stream",
		"watch",
		&id_text,
		"--duration",
		"12",
		"--close",
		"--deposit",
		"1",
		"--suri",
		"//Bob",
	];
	let (watched, quality) = tokio::join!(json(&node, &watch), async {
		tokio::time::sleep(Duration::from_secs(8)).await;
		json(&node, &["stream", "stats", &id_text]).await
	});
	let figures = &quality["quality"];
	assert_eq!(figures["viewers"], 1, "{quality}");
	assert_eq!(figures["reporting"], 1, "{quality}");
	assert!(figures["rtt_ms"]["max"].as_f64().unwrap() < 500.0, "{quality}");
	assert!(figures["delivered_kbps"]["p50"].as_f64().unwrap() > 100.0, "{quality}");
	assert!(watched["frames"].as_u64().unwrap() > 200, "{watched}");
	let paid: u128 = watched["paid"].as_str().unwrap().parse().unwrap();
	// 12 s at 0.001 SUT/s, paid up to 4 s ahead every 2 s; the last answers may still be on
	// their way when the client stops.
	assert!((6 * 1_000_000_000..=20 * 1_000_000_000).contains(&paid), "{watched}");
	assert_eq!(watched["channel_closing"], true);
	let channel = watched["channel"].as_u64().unwrap();
	let channels = json(&node, &["channel", "list", "--account", "//Bob"]).await;
	let listed =
		channels.as_array().unwrap().iter().find(|c| c["id"] == channel).expect("Bob's channel");
	assert!(listed["closes_at"].is_number(), "{listed}");
	assert_eq!(listed["deposit"], "1000000000000");

	let table = ok(&node, &["stream", "stats", &id_text]).await;
	assert!(table.contains(" viewers, ") && table.contains("round trip"), "{table}");
	let refused = fails(&node, &["stream", "stats", "4242"]).await;
	assert!(refused.contains("not live"), "{refused}");

	// The node's status shows the chain and the stream being served.
	let status = json(&node, &["status"]).await;
	assert_eq!(status["chain"], "Sutantra Development");
	assert!(status["best"].as_u64().unwrap() >= 3, "{status}");
	assert_eq!(status["streaming"]["live_streams"], 1);
	// The dev node holds Alice's session keys: it is the one validator, without a bond.
	let alice_address = Sr25519Keyring::Alice.to_account_id().to_ss58check();
	assert_eq!(status["validator"]["account"], alice_address.as_str(), "{status}");
	assert_eq!(status["validator"]["active"], true, "{status}");
	assert_eq!(status["validator"]["invulnerable"], true, "{status}");
	assert!(status["validator"]["bond"].is_null(), "{status}");
	assert!(status["validator"]["authored_this_session"].as_u64().unwrap() >= 1, "{status}");
	assert_eq!(status["session"]["validators"], 1, "{status}");
	assert_eq!(status["session"]["length"], 10, "{status}");
	let status = ok(&node, &["status"]).await;
	assert!(status.contains("1 live stream(s)"), "{status}");
	assert!(status.contains(&format!("validator:  {alice_address}: active, invulnerable")), "{status}");

	// A bearer statement for OBS, with its endpoint.
	let token = json(&node, &[&["stream", "token", &id_text], &alice[..]].concat()).await;
	assert_eq!(token["endpoint"], format!("{origin}/whip/{id}"));
	assert!(token["token"].as_str().unwrap().len() > 100, "{token}");

	// Channels by hand: open, top up, close.
	let opened =
		json(&node, &["channel", "open", "//Alice", "--deposit", "2", "--suri", "//Charlie"]).await;
	let charlie_channel = opened["id"].as_u64().unwrap().to_string();
	let topped =
		json(&node, &["channel", "top-up", &charlie_channel, "0.5", "--suri", "//Charlie"]).await;
	assert_eq!(topped["deposit"], "2500000000000");
	let closed = json(&node, &["channel", "close", &charlie_channel, "--suri", "//Charlie"]).await;
	assert_eq!(closed["closed"], false, "the payer's close starts the challenge period");

	// Grants: Dave may watch for an hour; he watches in a browser with the statement the CLI
	// prints; then Alice takes the grant back.
	ok(&node, &[&["stream", "grant", &id_text, "//Dave", "--until", "1h"], &alice[..]].concat())
		.await;
	let token = json(&node, &["stream", "token", &id_text, "--watch", "--suri", "//Dave"]).await;
	assert_eq!(token["endpoint"], format!("{origin}/whep/{id}"));
	let url = format!("{origin}/watch/{id}?token={}", token["token"].as_str().unwrap());
	let played = watch_in_chromium(&url).await;
	assert!(
		played["framesDecoded"].as_u64().unwrap_or(0) > 0,
		"Chromium decoded no frame: {played}"
	);
	ok(&node, &[&["stream", "revoke", &id_text, "//Dave"], &alice[..]].concat()).await;

	// Alice ends the stream: the publish stops by itself.
	let ended = ok(&node, &[&["stream", "end", &id_text], &alice[..]].concat()).await;
	assert!(ended.contains("ended"), "{ended}");
	let output = tokio::time::timeout(Duration::from_secs(30), publisher.wait())
		.await
		.expect("the publish stops when the stream ends")
		.unwrap();
	assert!(output.success());
	let removed = json(&node, &[&["stream", "remove", &id_text], &alice[..]].concat()).await;
	assert_eq!(removed["deposit_released"], "1000000000000");
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_say_what_to_do() {
	// No node at that address.
	let output =
		Command::new(BIN).args(["status", "--rpc", "ws://127.0.0.1:1"]).output().await.unwrap();
	assert_eq!(output.status.code(), Some(1));
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("cannot reach a Sutantra node at ws://127.0.0.1:1"), "{stderr}");

	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	node.client().await;
	let created = json(
		&node,
		&[
			"stream",
			"create",
			"--title",
			"errors",
			"--price-per-second",
			"0.001",
			"--start",
			"--suri",
			"//Alice",
		],
	)
	.await;
	let id = created["id"].as_u64().unwrap().to_string();

	let stderr = fails(&node, &["stream", "show", "999"]).await;
	assert!(stderr.contains("stream 999 not found"), "{stderr}");
	let stderr = fails(&node, &["stream", "end", &id, "--suri", "//Bob"]).await;
	assert!(stderr.contains("not the creator"), "{stderr}");
	let stderr = fails(&node, &["stream", "end", &id]).await;
	assert!(stderr.contains("--suri"), "{stderr}");
	let stderr = fails(&node, &["stream", "remove", &id, "--suri", "//Alice"]).await;
	assert!(stderr.contains("end it first"), "{stderr}");
	let stderr =
		fails(&node, &["channel", "open", "//Alice", "--deposit", "5", "--suri", "//Nobody"]).await;
	assert!(
		stderr.contains("insufficient balance") && stderr.contains("has 0 SUT, needs 5 SUT"),
		"{stderr}"
	);
	let stderr =
		fails(&node, &["channel", "open", "//Alice", "--deposit", "lots", "--suri", "//Bob"]).await;
	assert!(stderr.contains("is not an amount of SUT"), "{stderr}");
	// A key from a keystore directory, put there by `key insert`, signs instead of --suri.
	let keystore = tempfile::tempdir().unwrap();
	let dir = keystore.path().to_str().unwrap();
	let inserted = Command::new(BIN)
		.args([
			"key",
			"insert",
			"--keystore-path",
			dir,
			"--scheme",
			"sr25519",
			"--key-type",
			"acco",
		])
		.args(["--suri", "//Dave"])
		.output()
		.await
		.unwrap();
	assert!(inserted.status.success(), "{}", String::from_utf8_lossy(&inserted.stderr));
	let dave = {
		use sp_core::crypto::Ss58Codec;
		Sr25519Keyring::Dave.to_account_id().to_ss58check()
	};
	let created = json(
		&node,
		&["stream", "create", "--title", "from a keystore", "--price-per-second", "0"]
			.into_iter()
			.chain(["--keystore-path", dir, "--account", &dave])
			.collect::<Vec<_>>(),
	)
	.await;
	let shown = json(&node, &["stream", "show", &created["id"].to_string()]).await;
	assert_eq!(shown["creator"], dave);
	let stderr = fails(
		&node,
		&[
			"stream",
			"create",
			"--title",
			"x",
			"--price-per-second",
			"0",
			"--keystore-path",
			dir,
			"--account",
			"//Eve",
		],
	)
	.await;
	assert!(stderr.contains("has no sr25519 key of"), "{stderr}");

	// Nobody publishes, and a deposit of 10 s is not access (the chain wants 30 s covered).
	let stderr = fails(
		&node,
		&["stream", "watch", &id, "--deposit", "0.01", "--duration", "5", "--suri", "//Charlie"],
	)
	.await;
	assert!(
		stderr.contains("access denied (402)") && stderr.contains("payment required"),
		"{stderr}"
	);
	// Dave is granted access, but nobody publishes the stream.
	ok(&node, &["stream", "grant", &id, "//Dave", "--suri", "//Alice"]).await;
	let stderr =
		fails(&node, &["stream", "watch", &id, "--duration", "5", "--suri", "//Dave"]).await;
	assert!(stderr.contains("does not serve stream") && stderr.contains("publishing"), "{stderr}");

	// A title full of terminal escapes (clear the screen, retitle the window, ring the bell,
	// reverse the text) is shown escaped, in tables and in details; JSON keeps it as it is.
	let evil = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}[31mred\u{202e}cod.exe";
	let created = json(
		&node,
		&["stream", "create", "--title", evil, "--price-per-second", "0", "--suri", "//Alice"],
	)
	.await;
	let evil_id = created["id"].to_string();
	for shown in
		[ok(&node, &["stream", "list"]).await, ok(&node, &["stream", "show", &evil_id]).await]
	{
		assert!(
			!shown.contains('\u{1b}') && !shown.contains('\u{7}') && !shown.contains('\u{202e}'),
			"{shown:?}"
		);
		assert!(shown.contains("\\u{1b}[2J\\u{1b}]0;pwned\\u{7}"), "{shown}");
	}
	assert_eq!(json(&node, &["stream", "show", &evil_id]).await["title"], evil);
	node.stop().await;

	// A relay with no account key: neither in its keystore nor on its command line.
	let base = tempfile::tempdir().unwrap();
	let output = Command::new(BIN)
		.args(["--dev", "--relay", "--no-mdns", "--rpc-port", "0", "--prometheus-port", "0"])
		.args(["--streaming-addr", "127.0.0.1:0", "--listen-addr", "/ip4/127.0.0.1/tcp/0"])
		.arg("--base-path")
		.arg(base.path())
		.output()
		.await
		.unwrap();
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(
		stderr.contains("--relay needs the relay's account key")
			&& stderr.contains("--key-type strm"),
		"{stderr}"
	);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_joins_and_leaves_the_validators_on_the_command_line() {
	// A block every 250 ms: sessions of ten blocks pass in seconds.
	let mut node = TestNode::start(&["--consensus", "manual-seal-250"]).await;
	node.client().await;
	let charlie = Sr25519Keyring::Charlie.to_account_id().to_ss58check();

	// Refused before anything is submitted: no funds, an invulnerable leaving, a stranger
	// leaving or withdrawing.
	let stderr = fails(&node, &["validator", "join", "--suri", "//Nobody"]).await;
	assert!(stderr.contains("insufficient balance") && stderr.contains("needs 1001 SUT"), "{stderr}");
	let stderr = fails(&node, &["validator", "leave", "--suri", "//Alice"]).await;
	assert!(stderr.contains("invulnerable") && stderr.contains("only root"), "{stderr}");
	let stderr = fails(&node, &["validator", "leave", "--suri", "//Bob"]).await;
	assert!(stderr.contains("is not a candidate"), "{stderr}");
	let stderr = fails(&node, &["validator", "withdraw", "--suri", "//Bob"]).await;
	assert!(stderr.contains("nothing unbonding") && stderr.contains("validator leave"), "{stderr}");

	// Charlie joins: the node makes keys he owns, he registers them and bonds.
	let joined = json(&node, &["validator", "join", "--suri", "//Charlie"]).await;
	assert_eq!(joined["account"], charlie.as_str(), "{joined}");
	assert_eq!(joined["bond"], "1000000000000000", "{joined}");
	let from = joined["validating_from_session"].as_u64().unwrap();
	assert_eq!(from, joined["session"].as_u64().unwrap() + 2, "{joined}");
	let stderr = fails(&node, &["validator", "join", "--suri", "//Charlie"]).await;
	assert!(stderr.contains("is already a candidate"), "{stderr}");

	// He is in the set from that session, and the node holds his keys.
	type Validator = pallet_validators_runtime_api::ValidatorStatus<
		sutantra_runtime::AccountId,
		sutantra_runtime::Balance,
	>;
	let client = node.client().await;
	let client = &client;
	let charlie_id = Sr25519Keyring::Charlie.to_account_id();
	let status: Validator = node
		.wait_for("Charlie to be a validator", Duration::from_secs(60), || {
			let who = charlie_id.clone();
			async move {
				let status: Validator =
					client.runtime_call("ValidatorsApi_validator", who, None, "a validator").await.ok()?;
				status.active.then_some(status)
			}
		})
		.await;
	// Not before the session the command named.
	let now: pallet_validators_runtime_api::SessionStatus<sutantra_runtime::BlockNumber> =
		client.runtime_call("ValidatorsApi_session", (), None, "the session").await.unwrap();
	assert!(now.index >= from as u32, "active in session {} before {from}", now.index);
	assert_eq!(status.bond, Some(1_000 * sutantra_runtime::UNIT));
	assert!(client.has_session_keys(status.keys.as_ref().unwrap()).await.unwrap());

	// He leaves: the bond unbonds, and cannot be taken back early.
	let left = json(&node, &["validator", "leave", "--suri", "//Charlie"]).await;
	assert_eq!(left["unbonding"], "1000000000000000", "{left}");
	assert!(left["validating_until_session"].as_u64().unwrap() > from, "{left}");
	let until = left["withdraw_from_session"].as_u64().expect("an unbonding session");
	let stderr = fails(&node, &["validator", "withdraw", "--suri", "//Charlie"]).await;
	assert!(
		stderr.contains(&format!("unbonding until session {until}")) && stderr.contains("more blocks"),
		"{stderr}"
	);
	let stderr = fails(&node, &["validator", "leave", "--suri", "//Charlie"]).await;
	assert!(stderr.contains("is not a candidate") && stderr.contains("is unbonding"), "{stderr}");

	// Six sessions later it comes back.
	let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
	let withdrawn = loop {
		let output = run(&node, &["validator", "withdraw", "--suri", "//Charlie", "--json"]).await;
		if output.status.success() {
			break serde_json::from_slice::<Value>(&output.stdout).unwrap();
		}
		let stderr = String::from_utf8_lossy(&output.stderr);
		assert!(stderr.contains("unbonding until session"), "{stderr}");
		assert!(tokio::time::Instant::now() < deadline, "the bond never came back: {stderr}");
		tokio::time::sleep(Duration::from_secs(1)).await;
	};
	assert_eq!(withdrawn["withdrawn"], "1000000000000000", "{withdrawn}");
	node.stop().await;
}
