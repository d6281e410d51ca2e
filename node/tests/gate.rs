//! The chain's word holds on the wire: each test is an attack on one rule the node enforces,
//! against the real node (real transactions, real WebRTC over loopback), asserting that the
//! attack fails while an honest viewer carries on.

mod common;

use std::time::Duration;

use common::{
	chain::{grant_access, open_channel, register_live_stream},
	streaming::*,
	TestNode,
};
use sp_keyring::Sr25519Keyring;
use sutantra_integration::vouchers::PayMessage;
use sutantra_node::chain_client::{ChainClient, WaitFor};
use sutantra_runtime::{RuntimeCall, UNIT};
use sutantra_streaming::client::Viewer;

/// Submits `call` as `who` and waits for its block.
async fn submit(client: &ChainClient, who: Sr25519Keyring, call: RuntimeCall) {
	client.submit(&who.pair(), call, WaitFor::InBlock).await.unwrap();
}

/// `viewer` still receives frames.
async fn still_watching(viewer: &Viewer, who: &str) {
	assert_eq!(viewer.ended_reason(), None, "{who} was dropped");
	let before = viewer.stats().frames;
	viewer
		.wait_for_frames(before + 10, Duration::from_secs(20))
		.await
		.unwrap_or_else(|e| panic!("{who} stopped receiving frames: {e}"));
}

/// The next warning on the viewer's data channel within `timeout`, if one comes.
async fn next_warning(viewer: &mut Viewer, timeout: Duration) -> Option<PayMessage> {
	let deadline = tokio::time::Instant::now() + timeout;
	loop {
		let message = tokio::time::timeout_at(deadline, viewer.next_message()).await.ok()?;
		let message = message.expect("the data channel closed: the session ended");
		if let Ok(warning @ PayMessage::Warning { .. }) = serde_json::from_slice(&message) {
			return Some(warning);
		}
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn bought_access_that_runs_out_ends_the_session_within_a_block() {
	// A block every 500 ms, so chain time runs twelve times faster than the 6 s target.
	let mut node = TestNode::start(&["--consensus", "manual-seal-500"]).await;
	let client = node.client().await;
	let (alice, charlie, dave) =
		(Sr25519Keyring::Alice, Sr25519Keyring::Charlie, Sr25519Keyring::Dave);
	let price = UNIT / 1_000;
	let id = register_live_stream(&client, alice, "expiring", price).await;
	let publisher = publish_test_source(&client, &node.streaming_url(), alice, id).await;

	// Charlie and Dave each buy 120 s: twenty blocks, ten seconds here.
	for viewer in [charlie, dave] {
		let buy =
			pallet_streams::Call::buy_access { stream_id: id, seconds: 120, max_total: 120 * price };
		submit(&client, viewer, RuntimeCall::Streams(buy)).await;
	}
	let charlie_viewer = watch_as(&client, &node, charlie, id).await.unwrap();
	let dave_viewer = watch_as(&client, &node, dave, id).await.unwrap();
	charlie_viewer.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();
	// Dave extends his access before it ends; Charlie does not.
	let more =
		pallet_streams::Call::buy_access { stream_id: id, seconds: 600, max_total: 600 * price };
	submit(&client, dave, RuntimeCall::Streams(more)).await;

	// Charlie's access ends at a block; the node drops him within one block of the next.
	let reason = charlie_viewer.wait_ended(Duration::from_secs(30)).await;
	let dropped_at = client.best_number().await.unwrap();
	let reason = reason.expect("Charlie kept watching after his access ran out");
	let until: u32 = reason
		.rsplit("expired at block ")
		.next()
		.and_then(|rest| rest.trim().parse().ok())
		.unwrap_or_else(|| panic!("the reason names the block: {reason}"));
	// Blocks come every 500 ms: one block for the drop, and some slack for the test's polling.
	assert!(dropped_at <= until + 3, "dropped at block {dropped_at}, access ended at {until}");
	// He cannot come back without paying.
	assert_eq!(refusal(watch_as(&client, &node, charlie, id).await).0, 402);
	// Dave, who extended in time, watches on.
	still_watching(&dave_viewer, "Dave").await;

	let _ = dave_viewer.stop().await;
	let _ = publisher.stop().await;
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_guest_with_a_channel_becomes_a_paying_viewer() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (alice, eve) = (Sr25519Keyring::Alice, Sr25519Keyring::Eve);
	let price = UNIT / 1_000;
	let id = register_live_stream(&client, alice, "guests", price).await;
	let publisher = publish_test_source(&client, &node.streaming_url(), alice, id).await;
	grant_access(&client, alice, id, eve).await;
	let channel_id = open_channel(&client, eve, alice, Some(id), UNIT).await;
	let mut viewer = watch_as(&client, &node, eve, id).await.unwrap();
	viewer.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();

	// A guest pays nothing: no warning comes.
	assert!(next_warning(&mut viewer, Duration::from_secs(11)).await.is_none());
	still_watching(&viewer, "Eve").await;

	// Alice revokes the grant: Eve's channel still gives her access, so she is not dropped, but
	// from now on she pays. She pays 20 s ahead at the price of now.
	let revoke =
		pallet_streams::Call::revoke_access { stream_id: id, viewer: eve.to_account_id().into() };
	submit(&client, alice, RuntimeCall::Streams(revoke)).await;
	still_watching(&viewer, "Eve").await;
	let lane = lane_of(&node).await;
	let ahead = voucher_message(&client, eve, channel_id, &lane, price * 20);
	assert!(matches!(send_on(&mut viewer, &ahead).await, PayMessage::Ack { .. }));
	// Alice quadruples the price. It applies to the next second watched: Eve's 20 s at the old
	// price last 5 s at the new one, so she is warned (10 s of the price behind) about 15 s
	// from now, not the 30 s the old price would give.
	let rise = pallet_streams::Call::update_stream {
		stream_id: id,
		title: None,
		description: None,
		price_per_second: Some(4 * price),
		max_viewers: None,
		origin_endpoint: None,
	};
	submit(&client, alice, RuntimeCall::Streams(rise)).await;
	let risen_at = std::time::Instant::now();
	let warning = next_warning(&mut viewer, Duration::from_secs(24)).await;
	let after = risen_at.elapsed();
	assert!(warning.is_some(), "Eve watched unpaid at the new price, with no warning");
	assert!(after >= Duration::from_secs(11), "warned {after:?} after the rise: too soon");
	// Paying catches her up, and she watches on.
	let paid = voucher_message(&client, eve, channel_id, &lane, price * 150);
	assert!(matches!(send_on(&mut viewer, &paid).await, PayMessage::Ack { .. }));
	still_watching(&viewer, "Eve").await;

	let _ = viewer.stop().await;
	let _ = publisher.stop().await;
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payer_who_reconnects_cannot_watch_free() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (alice, bob, charlie) =
		(Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie);
	let price = UNIT / 1_000;
	let id = register_live_stream(&client, alice, "no free rides", price).await;
	let publisher = publish_test_source(&client, &node.streaming_url(), alice, id).await;
	let channel_id = open_channel(&client, bob, alice, Some(id), UNIT).await;
	// Charlie is an honest payer on the same stream.
	let charlie_channel = open_channel(&client, charlie, alice, Some(id), UNIT).await;
	let lane = lane_of(&node).await;
	let mut honest = watch_as(&client, &node, charlie, id).await.unwrap();
	let ahead = voucher_message(&client, charlie, charlie_channel, &lane, price * 55);
	assert!(matches!(send_on(&mut honest, &ahead).await, PayMessage::Ack { .. }));

	// Bob watches 15 s without paying, leaves, and comes back with a fresh statement.
	let first = watch_as(&client, &node, bob, id).await.unwrap();
	first.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();
	tokio::time::sleep(Duration::from_secs(15)).await;
	first.stop().await.unwrap();
	let second = watch_as(&client, &node, bob, id).await.unwrap();
	let rejoined = std::time::Instant::now();
	// The clock did not start again: he is dropped once 30 s are unpaid in all, well before 30 s
	// of this session.
	let reason = second.wait_ended(Duration::from_secs(30)).await;
	let reason = reason.expect("Bob watched more than the grace period unpaid");
	assert!(reason.contains("payment required"), "{reason}");
	assert!(rejoined.elapsed() < Duration::from_secs(25), "dropped {:?} after rejoining", rejoined.elapsed());

	// Joining again is refused with the amount owed, before any media flows.
	let (status, reason) = refusal(watch_as(&client, &node, bob, id).await);
	assert_eq!(status, 402, "{reason}");
	let owed: u128 = reason
		.split_once("you owe ")
		.and_then(|(_, rest)| rest.split_once(" plancks"))
		.and_then(|(amount, _)| amount.parse().ok())
		.unwrap_or_else(|| panic!("the refusal names the amount: {reason}"));
	assert!(owed > price * 30 && owed < price * 40, "owed {owed}");
	// A voucher over HTTP pays it; then Bob may watch again.
	let pay = voucher_message(&client, bob, channel_id, &lane, owed + price * 10);
	assert!(matches!(post_pay(&node, &pay).await, PayMessage::Ack { .. }));
	let third = watch_as(&client, &node, bob, id).await.unwrap();
	third.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();

	// Charlie, who paid, watched throughout.
	still_watching(&honest, "Charlie").await;
	let _ = third.stop().await;
	let _ = honest.stop().await;
	let _ = publisher.stop().await;
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_account_holds_one_seat_and_the_audience_cap_holds() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (alice, bob, dave, eve) = (
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
	);
	let id = register_live_stream(&client, alice, "capped", UNIT / 1_000).await;
	// Alice caps her audience at two.
	let cap = pallet_streams::Call::update_stream {
		stream_id: id,
		title: None,
		description: None,
		price_per_second: None,
		max_viewers: Some(2),
		origin_endpoint: None,
	};
	submit(&client, alice, RuntimeCall::Streams(cap)).await;
	for guest in [bob, dave, eve] {
		grant_access(&client, alice, id, guest).await;
	}
	let publisher = publish_test_source(&client, &node.streaming_url(), alice, id).await;

	// Bob shares his access with a second screen: the first is closed with a reason.
	let first = watch_as(&client, &node, bob, id).await.unwrap();
	first.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();
	let second = watch_as(&client, &node, bob, id).await.unwrap();
	let reason = first.wait_ended(Duration::from_secs(10)).await;
	assert!(reason.as_deref().is_some_and(|r| r.contains("one seat per account")), "{reason:?}");
	still_watching(&second, "Bob's new session").await;

	// Dave takes the second seat; Eve, the third viewer, is refused while the cap is full.
	let dave_viewer = watch_as(&client, &node, dave, id).await.unwrap();
	let refused = match watch_as(&client, &node, eve, id).await {
		Err(error) => error.to_string(),
		Ok(_) => panic!("a third viewer was admitted over the cap of two"),
	};
	assert!(refused.contains("503") && refused.contains("full"), "{refused}");
	assert_eq!(node.streaming_get("/streams").await[0]["viewers"], 2);
	// When Dave leaves, Eve gets in.
	dave_viewer.stop().await.unwrap();
	let eve_viewer = watch_as(&client, &node, eve, id).await.unwrap();
	eve_viewer.wait_for_frames(10, Duration::from_secs(20)).await.unwrap();
	still_watching(&second, "Bob").await;

	let _ = second.stop().await;
	let _ = eve_viewer.stop().await;
	let _ = publisher.stop().await;
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channel_for_one_stream_does_not_pay_for_another() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (alice, bob) = (Sr25519Keyring::Alice, Sr25519Keyring::Bob);
	let price = UNIT / 1_000;
	let first = register_live_stream(&client, alice, "first", price).await;
	let second = register_live_stream(&client, alice, "second", price).await;
	// Bob's channel is for the first stream only; he is Alice's guest on the second.
	let channel_id = open_channel(&client, bob, alice, Some(first), UNIT).await;
	grant_access(&client, alice, second, bob).await;
	let publisher = publish_test_source(&client, &node.streaming_url(), alice, second).await;
	let mut viewer = watch_as(&client, &node, bob, second).await.unwrap();
	let lane = lane_of(&node).await;
	let message = voucher_message(&client, bob, channel_id, &lane, price * 10);
	let PayMessage::Reject { reason, .. } = send_on(&mut viewer, &message).await else {
		panic!("a channel for stream {first} was taken as payment for stream {second}");
	};
	assert!(reason.contains(&format!("stream {first} only")), "{reason}");
	still_watching(&viewer, "Bob").await;

	let _ = viewer.stop().await;
	let _ = publisher.stop().await;
	node.stop().await;
}
