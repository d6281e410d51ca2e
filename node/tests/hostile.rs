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
use sutantra_integration::vouchers::PayMessage;
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
