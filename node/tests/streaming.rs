//! End to end: the node's streaming server admits publishers and viewers as the chain says.
//! A real node, real signed extrinsics, real WebRTC over loopback, signed access statements.

mod common;

use std::time::Duration;

use common::{
	chain::{grant_access, open_channel, register_live_stream},
	streaming::*,
	TestNode,
};
use pallet_payments::Voucher;
use sp_keyring::Sr25519Keyring;
use sutantra_integration::{
	statement::{Purpose, Statement},
	vouchers::PayMessage,
};
use sutantra_node::chain_client::WaitFor;
use sutantra_payments_primitives::sign_voucher;
use sutantra_runtime::{RuntimeCall, UNIT};
use sutantra_streaming::client::{PublishOptions, Publisher, Viewer, WatchOptions};

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_decides_who_publishes_and_who_watches() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (alice, bob, charlie, dave) =
		(Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave);
	let base = format!("http://127.0.0.1:{}", node.streaming_port);
	let key = node_key(&base).await;

	// Alice registers and starts a paid stream.
	let id = register_live_stream(&client, alice, "live", UNIT / 1_000).await;

	// Only the creator publishes.
	let publish = |token: Option<String>| {
		Publisher::start(PublishOptions {
			endpoint: format!("{base}/whip/{id}"),
			token,
			file: fixture(),
			looped: true,
			lower_layers: Vec::new(),
		})
	};
	let (status, reason) =
		refusal(publish(Some(token(&client, key, bob, id, Purpose::Publish))).await);
	assert_eq!(status, 403, "{reason}");
	let (status, reason) =
		refusal(publish(Some(token(&client, key, alice, id, Purpose::Watch))).await);
	assert_eq!(status, 401, "{reason}");
	let publisher = publish(Some(token(&client, key, alice, id, Purpose::Publish))).await.unwrap();

	let watch = |token: Option<String>| {
		Viewer::connect(WatchOptions { endpoint: format!("{base}/whep/{id}"), token, output: None })
	};
	// No statement, a forged one (Dave signs, naming Charlie), one for another stream.
	assert_eq!(refusal(watch(None).await).0, 401);
	let forged = Statement::new(charlie.to_account_id(), id, Purpose::Watch, key)
		.sign(&dave.pair(), client.genesis_hash().as_ref());
	let (status, reason) = refusal(watch(Some(forged)).await);
	assert_eq!(status, 401, "{reason}");
	assert_eq!(refusal(watch(Some(token(&client, key, bob, id + 1, Purpose::Watch))).await).0, 401);
	// Charlie is who he says, but has not paid.
	let (status, reason) =
		refusal(watch(Some(token(&client, key, charlie, id, Purpose::Watch))).await);
	assert_eq!(status, 402, "{reason}");
	assert!(reason.contains("payment required"), "{reason}");

	// Bob opens a channel to Alice: now he may watch, and frames arrive.
	let channel_id = open_channel(&client, bob, alice, Some(id), UNIT).await;
	let bob_token = token(&client, key, bob, id, Purpose::Watch);
	let viewer = watch(Some(bob_token.clone())).await.unwrap();
	let stats = viewer.wait_for_frames(30, Duration::from_secs(30)).await.unwrap();
	assert!(stats.frames >= 30, "{stats:?}");
	// A statement is good for one request only.
	let (status, reason) = refusal(watch(Some(bob_token)).await);
	assert_eq!(status, 401, "{reason}");
	assert!(reason.contains("already used"), "{reason}");

	// Dave and Eve are granted access; Alice revokes Dave's: the node drops him at once.
	let (eve, ferdie) = (Sr25519Keyring::Eve, Sr25519Keyring::Ferdie);
	for guest in [dave, eve] {
		grant_access(&client, alice, id, guest).await;
	}
	let dave_viewer = watch(Some(token(&client, key, dave, id, Purpose::Watch))).await.unwrap();
	let eve_viewer = watch(Some(token(&client, key, eve, id, Purpose::Watch))).await.unwrap();
	dave_viewer.wait_for_frames(10, Duration::from_secs(30)).await.unwrap();
	eve_viewer.wait_for_frames(10, Duration::from_secs(30)).await.unwrap();
	let revoke = RuntimeCall::Streams(pallet_streams::Call::revoke_access {
		stream_id: id,
		viewer: dave.to_account_id().into(),
	});
	let revoked_at = std::time::Instant::now();
	client.submit(&alice.pair(), revoke, WaitFor::InBlock).await.unwrap();
	let reason = dave_viewer.wait_ended(Duration::from_secs(10)).await;
	let cut_off = revoked_at.elapsed();
	assert!(reason.as_deref().is_some_and(|r| r.contains("payment required")), "{reason:?}");
	println!("revoked viewer cut off {} ms after the revoke was submitted", cut_off.as_millis());
	// Generous: the revoke's block, the node's reaction to it and the goodbye take well under.
	assert!(cut_off < Duration::from_secs(5), "the revoked viewer watched {cut_off:?} longer");

	// Bob asks to close his channel: it no longer pays for watching, and he is dropped.
	let close = RuntimeCall::Payments(pallet_payments::Call::close { channel_id });
	client.submit(&bob.pair(), close, WaitFor::InBlock).await.unwrap();
	let reason = viewer.wait_ended(Duration::from_secs(10)).await;
	assert!(reason.as_deref().is_some_and(|r| r.contains("payment required")), "{reason:?}");
	// Eve, whose access is untouched, still watches.
	assert_eq!(eve_viewer.ended_reason(), None);
	let before = eve_viewer.stats().frames;
	let after = eve_viewer.wait_for_frames(before + 10, Duration::from_secs(30)).await.unwrap();
	assert!(after.frames >= before + 10);

	// Alice ends the stream on chain: every session of it closes.
	let end = RuntimeCall::Streams(pallet_streams::Call::end_stream { stream_id: id });
	client.submit(&alice.pair(), end, WaitFor::InBlock).await.unwrap();
	let reason = eve_viewer.wait_ended(Duration::from_secs(10)).await;
	assert!(reason.is_some(), "Eve's session did not end with the stream");
	let (status, reason) =
		refusal(watch(Some(token(&client, key, ferdie, id, Purpose::Watch))).await);
	assert!(status == 403 || status == 404, "{status}: {reason}");

	for viewer in [viewer, dave_viewer, eve_viewer] {
		let _ = viewer.stop().await;
	}
	let _ = publisher.stop().await;
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_pays_with_vouchers_and_the_creator_is_paid_on_chain() {
	// A block every 500 ms: the offchain worker looks for vouchers to claim in each.
	let mut node = TestNode::start(&["--consensus", "manual-seal-500"]).await;
	let client = node.client().await;
	let (eve, bob) = (Sr25519Keyring::Eve, Sr25519Keyring::Bob);
	let base = format!("http://127.0.0.1:{}", node.streaming_port);
	let key = node_key(&base).await;
	let price = UNIT / 100;

	let id = register_live_stream(&client, eve, "paid", price).await;
	let publisher = publish_test_source(&client, &base, eve, id).await;
	let channel_id = open_channel(&client, bob, eve, Some(id), 10 * UNIT).await;
	let eve_before = client.free_balance(&eve.to_account_id()).await.unwrap();

	// Bob watches for 20 s, paying every 2 s for the time watched plus 2 s ahead.
	let mut viewer = Viewer::connect(WatchOptions {
		endpoint: format!("{base}/whep/{id}"),
		token: Some(token(&client, key, bob, id, Purpose::Watch)),
		output: None,
	})
	.await
	.unwrap();
	let lane = lane_of(&node).await;
	// Nonce poisoning, v1's flaw: before paying the node, Bob settles a small voucher on the
	// node's lane himself (in v1, one with `nonce = u64::MAX`). Vouchers are ordered by amount
	// alone now, so the node's vouchers still pay.
	let poison = Voucher { channel_id, lane: lane.clone(), cumulative_amount: UNIT / 1_000 };
	let signature = sign_voucher(&bob.pair(), client.genesis_hash().as_ref(), &poison);
	let claim = RuntimeCall::Payments(pallet_payments::Call::claim { voucher: poison, signature });
	client.submit(&bob.pair(), claim, WaitFor::InBlock).await.unwrap();
	let started = std::time::Instant::now();
	let mut accepted = 0u128;
	for round in 1..=10u64 {
		let amount = price * (started.elapsed().as_secs() as u128 + 2);
		match send_on(&mut viewer, &voucher_message(&client, bob, channel_id, &lane, amount)).await
		{
			PayMessage::Ack { accepted: total, .. } => {
				accepted = total.parse().unwrap();
				assert_eq!(accepted, amount);
			},
			other => panic!("voucher {round} was not accepted: {other:?}"),
		}
		// A voucher signed for another node's lane is refused here, whatever it is worth.
		let elsewhere = voucher_message(&client, bob, channel_id, &eve.to_account_id(), UNIT);
		let PayMessage::Reject { reason, .. } = send_on(&mut viewer, &elsewhere).await else {
			panic!("a voucher for another lane was accepted");
		};
		assert!(reason.contains("another node's lane"), "{reason}");
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
	let stats = viewer.stats();
	assert!(stats.frames > 100, "{stats:?}");
	assert_eq!(viewer.ended_reason(), None, "a paying viewer keeps watching");

	// The offchain worker claims what the node accepted: Eve is paid exactly that.
	let deadline = std::time::Instant::now() + Duration::from_secs(30);
	loop {
		let paid = client.free_balance(&eve.to_account_id()).await.unwrap() - eve_before;
		if paid == accepted {
			break;
		}
		assert!(paid <= accepted, "Eve was paid {paid}, more than the {accepted} accepted");
		assert!(std::time::Instant::now() < deadline, "only {paid} of {accepted} was claimed");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	println!("Bob's vouchers accepted {accepted}; Eve was paid exactly that on chain");

	// The node's Prometheus endpoint shows the same.
	let metrics = node.metrics().await;
	let value = |name: &str| -> f64 {
		metrics
			.lines()
			.find_map(|line| {
				// `name{chain="..."} value`: the registry labels every metric with the chain.
				let rest = line.strip_prefix(name)?;
				let rest = if rest.starts_with('{') { &rest[rest.find('}')? + 1..] } else { rest };
				rest.strip_prefix(' ')?.trim().parse().ok()
			})
			.unwrap_or_else(|| panic!("no {name} in the metrics"))
	};
	assert_eq!(value("sutantra_vouchers_accepted_total"), 10.0);
	assert_eq!(value("sutantra_vouchers_rejected_total"), 10.0);
	// What the node's vouchers added above the lane's floor: Bob's own claim settled the first
	// 0.001 SUT of it.
	assert_eq!(value("sutantra_vouchers_amount_accepted_total"), (accepted - UNIT / 1_000) as f64);
	assert!(value("sutantra_payments_claims_total") >= 1.0);
	assert!(value("sutantra_payments_claims_submitted_total") >= 1.0);
	assert_eq!(value("sutantra_streaming_live_streams"), 1.0);
	assert_eq!(value("sutantra_streaming_viewers"), 1.0);
	assert!(value("sutantra_streaming_bytes_sent_total") > 1_000_000.0);
	// The viewer's receiver reports, sampled each second into the stream's histograms.
	let samples = value("sutantra_streaming_viewer_loss_ratio_count");
	assert!(samples >= 10.0, "{samples} samples in 20 s of viewing");
	assert!(value("sutantra_streaming_viewer_loss_ratio_sum") / samples < 0.05);
	let rtt = value("sutantra_streaming_viewer_rtt_seconds_sum")
		/ value("sutantra_streaming_viewer_rtt_seconds_count");
	assert!(rtt > 0.0 && rtt < 0.5, "mean round trip {rtt} s over loopback");
	let delivered = value("sutantra_streaming_viewer_delivered_bits_per_second_sum")
		/ value("sutantra_streaming_viewer_delivered_bits_per_second_count");
	assert!(delivered > 100_000.0, "mean delivered {delivered} bit/s");
	assert!(value("sutantra_streaming_viewer_jitter_seconds_count") >= 10.0);

	viewer.stop().await.unwrap();
	publisher.stop().await.unwrap();
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn accepted_vouchers_survive_a_crash_and_are_still_claimed() {
	// Instant seal: no block (so no offchain worker, no claim) until a transaction comes.
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (eve, bob) = (Sr25519Keyring::Eve, Sr25519Keyring::Bob);
	let base = format!("http://127.0.0.1:{}", node.streaming_port);
	let key = node_key(&base).await;
	let price = UNIT / 100;
	let id = register_live_stream(&client, eve, "crash", price).await;
	let publisher = publish_test_source(&client, &base, eve, id).await;
	let channel_id = open_channel(&client, bob, eve, None, 10 * UNIT).await;
	let eve_before = client.free_balance(&eve.to_account_id()).await.unwrap();

	let mut viewer = Viewer::connect(WatchOptions {
		endpoint: format!("{base}/whep/{id}"),
		token: Some(token(&client, key, bob, id, Purpose::Watch)),
		output: None,
	})
	.await
	.unwrap();
	let lane = lane_of(&node).await;
	let before_crash = client.best_number().await.unwrap();
	let mut accepted = 0;
	for round in 1..=3u128 {
		let message = voucher_message(&client, bob, channel_id, &lane, price * 5 * round);
		let PayMessage::Ack { accepted: total, .. } = send_on(&mut viewer, &message).await else {
			panic!("voucher {round} was not accepted");
		};
		accepted = total.parse::<u128>().unwrap();
	}
	assert_eq!(accepted, price * 15);

	// SIGKILL the moment the last ack arrives, with no time for the database to flush; the
	// node comes back making blocks, and its offchain worker still claims every acked voucher.
	let mut node = node.crash_and_restart(&["--consensus", "manual-seal-500"]).await;
	viewer.abandon().await;
	publisher.abandon().await;
	let client = node.client().await;
	let deadline = std::time::Instant::now() + Duration::from_secs(30);
	loop {
		let paid = client.free_balance(&eve.to_account_id()).await.unwrap() - eve_before;
		if paid == accepted {
			break;
		}
		assert!(std::time::Instant::now() < deadline, "only {paid} of {accepted} was claimed");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	// The claim landed after the restart, in a block made after it.
	let at = client.block_hash(before_crash).await.unwrap();
	assert_eq!(client.free_balance_at(&eve.to_account_id(), at).await.unwrap(), eve_before);
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_node_relays_a_stream_from_its_origin() {
	// Alice's node validates (Aura and GRANDPA, 6 s blocks) and ingests the stream; a full node
	// of the same chain relays it as Ferdie, whom the creator, Eve, lets carry it. Its streaming
	// server is on loopback like the origin's, so it may pull from private addresses. The
	// creator is not Alice, whose balance rises with each block she authors.
	let mut origin = TestNode::start_chain(
		&["--chain", "dev", "--alice", "--validator", "--force-authoring"],
		&["--node-key", "0000000000000000000000000000000000000000000000000000000000000001"],
	)
	.await;
	let bootnode = origin.p2p_address().await;
	// The relay's account key is in its keystore, not on its command line.
	let mut relay = TestNode::start_chain_with_key(
		&["--chain", "dev"],
		("strm", "//Ferdie"),
		&[
			"--bootnodes",
			&bootnode,
			"--relay",
			"--relay-private-origins",
			"--discovery-interval",
			"1",
		],
	)
	.await;
	let client = origin.client().await;
	let (eve, charlie, dave, ferdie) = (
		Sr25519Keyring::Eve,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Ferdie,
	);

	let id = register_live_stream(&client, eve, "relayed", UNIT / 1_000).await;
	let announce = RuntimeCall::Streams(pallet_streams::Call::update_stream {
		stream_id: id,
		title: None,
		description: None,
		price_per_second: None,
		max_viewers: None,
		origin_endpoint: Some(origin.streaming_url().into_bytes()),
	});
	client.submit(&eve.pair(), announce, WaitFor::InBlock).await.unwrap();
	// Ferdie, the relay, is let in for free; Dave pays by channel, at the relay.
	grant_access(&client, eve, id, ferdie).await;
	let channel_id = open_channel(&client, dave, eve, Some(id), UNIT).await;
	let publisher = publish_test_source(&client, &origin.streaming_url(), eve, id).await;

	// The relay has followed the chain to the grants.
	let relay_client = relay.client().await;
	let height = client.best_number().await.unwrap();
	relay
		.wait_for("the relay to import the grants", Duration::from_secs(60), || async {
			(relay_client.best_number().await.ok()? >= height).then_some(())
		})
		.await;

	// Dave watches at the relay; the origin serves one session, Ferdie's.
	let relay_whep = format!("{}/whep/{id}", relay.streaming_url());
	let relay_key = node_key(&relay.streaming_url()).await;
	let mut viewer = Viewer::connect(WatchOptions {
		endpoint: relay_whep.clone(),
		token: Some(token(&relay_client, relay_key, dave, id, Purpose::Watch)),
		output: None,
	})
	.await
	.unwrap_or_else(|e| panic!("{e}\n{}", relay.log_tail()));
	let stats = viewer.wait_for_frames(30, Duration::from_secs(30)).await.unwrap();
	assert_eq!(stats.started_with_keyframe, Some(true), "{stats:?}");
	let relayed = relay.streaming_get("/streams").await;
	assert_eq!(relayed[0]["stream"], id.to_string());
	assert_eq!(relayed[0]["relayed_from"], format!("{}/whep/{id}", origin.streaming_url()));
	assert_eq!(origin.streaming_get("/streams").await[0]["viewers"], 1);
	// Dave pays the relay on its own lane; a voucher for the origin's lane is refused there,
	// so one voucher never buys watching at two nodes.
	let (origin_lane, relay_lane) = (lane_of(&origin).await, lane_of(&relay).await);
	assert_ne!(origin_lane, relay_lane);
	let elsewhere = voucher_message(&relay_client, dave, channel_id, &origin_lane, UNIT / 100);
	assert!(matches!(send_on(&mut viewer, &elsewhere).await, PayMessage::Reject { .. }));
	let eve_before = client.free_balance(&eve.to_account_id()).await.unwrap();
	// Fifty seconds ahead: the most a node takes ahead is sixty.
	let pay = voucher_message(&relay_client, dave, channel_id, &relay_lane, UNIT / 20);
	let PayMessage::Ack { accepted, .. } = send_on(&mut viewer, &pay).await else {
		panic!("the relay did not take Dave's voucher\n{}", relay.log_tail());
	};
	let acked: u128 = accepted.parse().unwrap();
	// The relay, a full node, settles what it acked: Eve is paid exactly that on chain.
	origin
		.wait_for("the relay's claim to land", Duration::from_secs(60), || async {
			let paid = client.free_balance(&eve.to_account_id()).await.ok()? - eve_before;
			assert!(paid <= acked, "Eve was paid {paid}, more than the {acked} the relay acked");
			(paid == acked).then_some(())
		})
		.await;
	// The relay's own gate still asks the chain: Charlie has no access.
	let refused = Viewer::connect(WatchOptions {
		endpoint: relay_whep,
		token: Some(token(&relay_client, relay_key, charlie, id, Purpose::Watch)),
		output: None,
	})
	.await;
	assert_eq!(refusal(refused).0, 402);
	// Discovery lists the stream, live here.
	let directory = relay
		.wait_for("the stream in the relay's directory", Duration::from_secs(10), || async {
			let directory = relay.streaming_get("/directory").await;
			(directory[0]["here"] == true).then_some(directory)
		})
		.await;
	assert_eq!(directory[0]["title"], "relayed");
	assert_eq!(directory[0]["origin"], origin.streaming_url());

	// Eve ends the stream on chain: Dave's relayed session ends too.
	let end = RuntimeCall::Streams(pallet_streams::Call::end_stream { stream_id: id });
	client.submit(&eve.pair(), end, WaitFor::InBlock).await.unwrap();
	let reason = viewer.wait_ended(Duration::from_secs(20)).await;
	assert!(
		reason.as_deref().is_some_and(|r| !r.contains("payment required")),
		"the relayed session did not end with the stream: {reason:?}"
	);

	let _ = publisher.stop().await;
	relay.stop().await;
	origin.stop().await;
}

/// Twenty viewers join a paid stream one after another, each through the statement check and
/// `StreamsApi::access`, and each gets a picture that starts at a keyframe (the test source
/// answers the node's keyframe request as a live encoder does). The report's figures, time
/// from the WHEP request to the media connection and to the first frame, are printed:
/// `cargo test --workspace --test streaming -- --nocapture paid_joins`.
#[tokio::test(flavor = "multi_thread")]
async fn paid_joins_each_get_a_picture_from_a_keyframe() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (alice, bob) = (Sr25519Keyring::Alice, Sr25519Keyring::Bob);
	let base = node.streaming_url();
	let key = node_key(&base).await;
	let id = register_live_stream(&client, alice, "joins", UNIT / 1_000).await;
	let publisher = publish_test_source(&client, &base, alice, id).await;
	// Bob's access comes from a payment channel: the chain check reads the channel too. He pays
	// fifty seconds ahead over HTTP, so the node's ledger has him in credit for every join.
	let channel_id = open_channel(&client, bob, alice, Some(id), UNIT).await;
	let ahead = voucher_message(&client, bob, channel_id, &lane_of(&node).await, UNIT / 1_000 * 50);
	assert!(matches!(post_pay(&node, &ahead).await, PayMessage::Ack { .. }));

	let (mut answers, mut first_frames) = (Vec::new(), Vec::new());
	for _ in 0..20 {
		let started = std::time::Instant::now();
		let viewer = Viewer::connect(WatchOptions {
			endpoint: format!("{base}/whep/{id}"),
			token: Some(token(&client, key, bob, id, Purpose::Watch)),
			output: None,
		})
		.await
		.unwrap();
		answers.push(started.elapsed());
		let stats = viewer.wait_for_frames(1, Duration::from_secs(10)).await.unwrap();
		assert_eq!(stats.started_with_keyframe, Some(true), "{stats:?}");
		first_frames.push(stats.first_frame_after.expect("a first frame"));
		viewer.stop().await.unwrap();
		// Viewers arriving one by one: the engine asks a publisher for at most one keyframe
		// per 200 ms, so back-to-back joins would measure that limit instead.
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
	let percentile = |values: &mut Vec<Duration>, p: f64| {
		values.sort();
		let index = ((values.len() as f64 * p).ceil() as usize).clamp(1, values.len()) - 1;
		values[index].as_millis()
	};
	println!(
		"WHEP request -> media connected (chain check included): p50 {} ms, p95 {} ms",
		percentile(&mut answers, 0.50),
		percentile(&mut answers, 0.95)
	);
	let (first_p50, first_p95) =
		(percentile(&mut first_frames, 0.50), percentile(&mut first_frames, 0.95));
	println!("WHEP request -> first frame: p50 {first_p50} ms, p95 {first_p95} ms (20 joins)");
	// Generous bounds (a dev build on a busy machine): a paid join is a chain read, a statement
	// check, ICE and DTLS, and the publisher's next keyframe.
	assert!(percentile(&mut answers, 0.95) < 3_000, "joins took too long to connect");
	assert!(first_p95 < 3_000, "first frames took too long: p95 {first_p95} ms");
	publisher.stop().await.unwrap();
	node.stop().await;
}
