//! A node on a hostile network: each test attacks the real node (real transactions, real WebRTC
//! over loopback) the way a stranger on the internet could, and asserts that the attack fails
//! while honest viewers keep paying and playing in the same test.

mod common;

use std::time::{Duration, Instant};

use common::{
	chain::{grant_access, open_channel, register_live_stream},
	streaming::*,
	TestNode,
};
use sp_keyring::Sr25519Keyring;
use sutantra_integration::{statement::Purpose, vouchers::PayMessage};
use sutantra_node::chain_client::WaitFor;
use sutantra_runtime::{RuntimeCall, UNIT};

#[tokio::test(flavor = "multi_thread")]
async fn a_data_channel_flood_stalls_neither_payments_nor_revocations() {
	let mut node = TestNode::start(&["--consensus", "manual-seal-500"]).await;
	let client = node.client().await;
	let (alice, bob, charlie, ferdie) = (
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Ferdie,
	);
	let price = UNIT / 1_000;
	let id = register_live_stream(&client, alice, "flooded", price).await;
	let publisher = publish_test_source(&client, &node.streaming_url(), alice, id).await;
	grant_access(&client, alice, id, charlie).await;
	grant_access(&client, alice, id, ferdie).await;
	let channel_id = open_channel(&client, bob, alice, Some(id), UNIT).await;
	let lane = lane_of(&node).await;

	let mut payer = watch_as(&client, &node, bob, id).await.unwrap();
	let revoked = watch_as(&client, &node, charlie, id).await.unwrap();
	let flooder = watch_as(&client, &node, ferdie, id).await.unwrap();
	for viewer in [&payer, &revoked, &flooder] {
		viewer.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();
	}

	// Ferdie sends 100,000 messages as fast as his connection takes them: vouchers for a
	// channel that is not his, garbage, and messages larger than any payment.
	let forged = serde_json::to_vec(&voucher_message(&client, ferdie, channel_id, &lane, price))
		.unwrap();
	let flood = tokio::spawn(async move {
		let big = vec![b'{'; 16 * 1024];
		let mut sent = 0u32;
		for i in 0..100_000u32 {
			let message: &[u8] = match i % 3 {
				0 => &forged,
				1 => b"not json",
				_ => &big,
			};
			if flooder.send(message).await.is_err() {
				break;
			}
			sent += 1;
		}
		let reason = flooder.wait_ended(Duration::from_secs(10)).await;
		(sent, reason)
	});

	// Meanwhile Bob pays and is acknowledged, and Alice revokes Charlie.
	let voucher = voucher_message(&client, bob, channel_id, &lane, price * 20);
	let asked = Instant::now();
	let answer = send_on(&mut payer, &voucher).await;
	assert!(matches!(answer, PayMessage::Ack { .. }), "{answer:?}");
	let ack_ms = asked.elapsed().as_millis();
	let revoke = pallet_streams::Call::revoke_access {
		stream_id: id,
		viewer: charlie.to_account_id().into(),
	};
	client.submit(&alice.pair(), RuntimeCall::Streams(revoke), WaitFor::InBlock).await.unwrap();
	let revoked_at = client.best_number().await.unwrap();
	let reason = revoked.wait_ended(Duration::from_secs(10)).await;
	let cut_at = client.best_number().await.unwrap();
	let reason = reason.expect("Charlie kept watching after the revoke");
	assert!(reason.contains("payment required") || reason.contains("revoked"), "{reason}");
	// Blocks come every 500 ms: the revoke's own block, and one for the test's polling.
	assert!(cut_at <= revoked_at + 1, "revoked in block {revoked_at}, cut at {cut_at}");

	let (sent, flooder_reason) = flood.await.unwrap();
	let flooder_reason = flooder_reason.expect("the flooder is disconnected");
	assert!(flooder_reason.contains("flooding"), "{flooder_reason}");
	println!(
		"flood: Ferdie queued {sent} messages and was cut off for flooding; Bob's voucher was acked in {ack_ms} ms (test process, send to ack)"
	);

	// Bob still plays, and pays.
	let before = payer.stats().frames;
	payer.wait_for_frames(before + 10, Duration::from_secs(20)).await.unwrap();
	let more = voucher_message(&client, bob, channel_id, &lane, price * 40);
	assert!(matches!(send_on(&mut payer, &more).await, PayMessage::Ack { .. }));

	let _ = payer.stop().await;
	let _ = publisher.stop().await;
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_is_good_once_and_only_at_its_node_even_across_a_restart() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (alice, bob) = (Sr25519Keyring::Alice, Sr25519Keyring::Bob);
	let id = register_live_stream(&client, alice, "statements", UNIT / 1_000).await;
	let publisher = publish_test_source(&client, &node.streaming_url(), alice, id).await;
	grant_access(&client, alice, id, bob).await;
	let base = node.streaming_url();
	let key = node_key(&base).await;
	let watch = |token: String| {
		let endpoint = format!("{base}/whep/{id}");
		async move {
			sutantra_streaming::client::Viewer::connect(sutantra_streaming::client::WatchOptions {
				endpoint,
				token: Some(token),
				output: None,
			})
			.await
		}
	};

	// Bob's statement for this node lets him in once.
	let used = token(&client, key, bob, id, Purpose::Watch);
	let viewer = watch(used.clone()).await.unwrap();
	viewer.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();
	let (status, reason) = refusal(watch(used.clone()).await);
	assert_eq!(status, 401, "{reason}");
	assert!(reason.contains("already used"), "{reason}");
	// A statement Bob signed for another node (which that node could replay here) is refused.
	let (status, reason) = refusal(watch(token(&client, [9; 32], bob, id, Purpose::Watch)).await);
	assert_eq!(status, 401, "{reason}");
	assert!(reason.contains("for another node"), "{reason}");
	// A key with no standing on chain is refused by the chain, and its statement is not
	// remembered (it could be replayed, to no avail: the chain refuses it again).
	let stranger = token(&client, key, Sr25519Keyring::Ferdie, id, Purpose::Watch);
	assert_eq!(refusal(watch(stranger.clone()).await).0, 402);
	assert_eq!(refusal(watch(stranger).await).0, 402);
	drop(viewer);
	drop(publisher);

	// The node crashes and restarts: Bob's used statement is still used.
	let node = node.crash_and_restart(&["--consensus", "instant-seal"]).await;
	let mut node = node;
	let client = node.client().await;
	let base = node.streaming_url();
	assert_eq!(node_key(&base).await, key, "the node keeps its key across a restart");
	let publisher = publish_test_source(&client, &base, alice, id).await;
	let watch = |token: String| {
		let endpoint = format!("{base}/whep/{id}");
		async move {
			sutantra_streaming::client::Viewer::connect(sutantra_streaming::client::WatchOptions {
				endpoint,
				token: Some(token),
				output: None,
			})
			.await
		}
	};
	let (status, reason) = refusal(watch(used).await);
	assert_eq!(status, 401, "{reason}");
	assert!(reason.contains("already used"), "{reason}");
	// A fresh one works.
	let viewer = watch(token(&client, key, bob, id, Purpose::Watch)).await.unwrap();
	viewer.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();

	let _ = viewer.stop().await;
	let _ = publisher.stop().await;
	node.stop().await;
}
