//! End to end: the node's streaming server admits publishers and viewers as the chain says.
//! A real node, real signed extrinsics, real WebRTC over loopback, signed access statements.

mod common;

use std::{path::PathBuf, time::Duration};

use common::TestNode;
use sp_keyring::Sr25519Keyring;
use sutantra_integration::statement::{Purpose, Statement};
use sutantra_node::chain_client::{ChainClient, WaitFor};
use sutantra_runtime::{RuntimeCall, RuntimeEvent, UNIT};
use sutantra_streaming::{
	client::{Publisher, PublishOptions, Viewer, WatchOptions},
	Error,
};

fn fixture() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR"))
		.join("../streaming/fixtures/testsrc-640x360-30fps-vp8.ivf")
}

/// A fresh statement by `who` to `purpose` stream `id`, as a bearer token.
fn token(client: &ChainClient, who: Sr25519Keyring, id: u64, purpose: Purpose) -> String {
	Statement::new(who.to_account_id(), id, purpose).sign(&who.pair(), client.genesis_hash().as_ref())
}

/// The status a refused connection got.
fn refusal<T>(result: sutantra_streaming::Result<T>) -> (u16, String) {
	match result {
		Err(Error::Denied { status, reason }) => (status, reason),
		Err(other) => panic!("expected a refusal, got {other}"),
		Ok(_) => panic!("expected a refusal, got a session"),
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_decides_who_publishes_and_who_watches() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let (alice, bob, charlie, dave) = (
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
	);
	let base = format!("http://127.0.0.1:{}", node.streaming_port);

	// Alice registers and starts a paid stream.
	let register = RuntimeCall::Streams(pallet_streams::Call::register_stream {
		title: b"live".to_vec(),
		description: vec![],
		price_per_second: UNIT / 1_000,
		max_viewers: 0,
	});
	let included = client.submit(&alice.pair(), register, WaitFor::InBlock).await.unwrap();
	let id = included
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Streams(pallet_streams::Event::StreamRegistered { stream_id, .. }) => {
				Some(*stream_id)
			},
			_ => None,
		})
		.expect("a StreamRegistered event");
	let start = RuntimeCall::Streams(pallet_streams::Call::start_stream { stream_id: id });
	client.submit(&alice.pair(), start, WaitFor::InBlock).await.unwrap();

	// Only the creator publishes.
	let publish = |token: Option<String>| {
		Publisher::start(PublishOptions {
			endpoint: format!("{base}/whip/{id}"),
			token,
			file: fixture(),
			looped: true,
		})
	};
	let (status, reason) = refusal(publish(Some(token(&client, bob, id, Purpose::Publish))).await);
	assert_eq!(status, 403, "{reason}");
	let (status, reason) = refusal(publish(Some(token(&client, alice, id, Purpose::Watch))).await);
	assert_eq!(status, 401, "{reason}");
	let publisher = publish(Some(token(&client, alice, id, Purpose::Publish))).await.unwrap();

	let watch = |token: Option<String>| {
		Viewer::connect(WatchOptions { endpoint: format!("{base}/whep/{id}"), token, output: None })
	};
	// No statement, a forged one (Dave signs, naming Charlie), one for another stream.
	assert_eq!(refusal(watch(None).await).0, 401);
	let forged = Statement::new(charlie.to_account_id(), id, Purpose::Watch)
		.sign(&dave.pair(), client.genesis_hash().as_ref());
	let (status, reason) = refusal(watch(Some(forged)).await);
	assert_eq!(status, 401, "{reason}");
	assert_eq!(refusal(watch(Some(token(&client, bob, id + 1, Purpose::Watch))).await).0, 401);
	// Charlie is who he says, but has not paid.
	let (status, reason) = refusal(watch(Some(token(&client, charlie, id, Purpose::Watch))).await);
	assert_eq!(status, 402, "{reason}");
	assert!(reason.contains("payment required"), "{reason}");

	// Bob opens a channel to Alice: now he may watch, and frames arrive.
	let open = RuntimeCall::Payments(pallet_payments::Call::open_channel {
		payee: alice.to_account_id().into(),
		stream_id: Some(id),
		deposit: UNIT,
	});
	client.submit(&bob.pair(), open, WaitFor::InBlock).await.unwrap();
	let bob_token = token(&client, bob, id, Purpose::Watch);
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
		let grant = RuntimeCall::Streams(pallet_streams::Call::grant_access {
			stream_id: id,
			viewer: guest.to_account_id().into(),
			valid_until: None,
		});
		client.submit(&alice.pair(), grant, WaitFor::InBlock).await.unwrap();
	}
	let dave_viewer = watch(Some(token(&client, dave, id, Purpose::Watch))).await.unwrap();
	let eve_viewer = watch(Some(token(&client, eve, id, Purpose::Watch))).await.unwrap();
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

	// Bob asks to close his channel: it no longer pays for watching, and he is dropped.
	let channel_id = client
		.runtime_call::<Vec<(u64, sutantra_runtime::apis::Channel)>>(
			"PaymentsApi_channels_of",
			bob.to_account_id(),
			None,
			"Bob's channels",
		)
		.await
		.unwrap()[0]
		.0;
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
	let (status, reason) = refusal(watch(Some(token(&client, ferdie, id, Purpose::Watch))).await);
	assert!(status == 403 || status == 404, "{status}: {reason}");

	for viewer in [viewer, dave_viewer, eve_viewer] {
		let _ = viewer.stop().await;
	}
	let _ = publisher.stop().await;
	node.stop().await;
}
