//! End to end: the real node binary, real consensus, real signed transactions over JSON-RPC.

mod common;

use std::time::Duration;

use common::TestNode;
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring;
use sutantra_node::chain_client::{ChainClient, WaitFor};
use sutantra_runtime::{AccountId, RuntimeCall, RuntimeEvent, UNIT};

/// Sends 10 SUT from Alice to a fresh account and checks the event and the new balance.
async fn transfer_to_fresh_account(client: &ChainClient, wait_for: WaitFor) {
	let alice = Sr25519Keyring::Alice;
	let dest: AccountId = sr25519::Pair::generate().0.public().into();
	let amount = 10 * UNIT;
	assert_eq!(client.free_balance(&dest).await.unwrap(), 0);

	let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: dest.clone().into(),
		value: amount,
	});
	let included = client.submit(&alice.pair(), call, wait_for).await.unwrap();

	let transfer = RuntimeEvent::Balances(pallet_balances::Event::Transfer {
		from: alice.to_account_id(),
		to: dest.clone(),
		amount,
	});
	assert!(included.events.contains(&transfer), "no Transfer event in {:?}", included.events);
	assert_eq!(client.free_balance(&dest).await.unwrap(), amount);
}

#[tokio::test(flavor = "multi_thread")]
async fn aura_and_grandpa_produce_and_finalise_blocks_and_a_transfer_lands() {
	let mut node = TestNode::start(&[]).await;
	let client = node.client().await;

	let properties = client.properties().await.unwrap();
	assert_eq!(properties["tokenSymbol"], "SUT");
	assert_eq!(properties["tokenDecimals"], 12);
	assert_eq!(properties["ss58Format"], 42);

	// Aura makes a block every 6 s; GRANDPA finalises behind it.
	node.wait_for("block 3 and a finalised block", Duration::from_secs(120), || async {
		let best = client.best_number().await.ok()?;
		let finalized = client.finalized_number().await.ok()?;
		(best >= 3 && finalized >= 1).then_some(())
	})
	.await;

	transfer_to_fresh_account(&client, WaitFor::Finalized).await;

	let metrics = node.metrics().await;
	assert!(metrics.contains("substrate_block_height{status=\"finalized\""), "{metrics}");
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn manual_seal_makes_a_finalised_block_every_interval() {
	let mut node = TestNode::start(&["--consensus", "manual-seal-200"]).await;
	let client = node.client().await;

	// Sealing runs ahead of Aura's 6 s slots: ten blocks in a few seconds, each one final.
	node.wait_for("ten finalised blocks", Duration::from_secs(60), || async {
		(client.finalized_number().await.ok()? >= 10).then_some(())
	})
	.await;

	transfer_to_fresh_account(&client, WaitFor::Finalized).await;
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn instant_seal_makes_a_block_per_transaction() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	assert_eq!(client.best_number().await.unwrap(), 0);

	transfer_to_fresh_account(&client, WaitFor::Finalized).await;
	assert_eq!(client.best_number().await.unwrap(), 1);
	assert_eq!(client.finalized_number().await.unwrap(), 1);
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_transaction_reports_the_runtime_error() {
	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;

	// A fresh account cannot pay the fee: the pool refuses it before any block.
	let broke = sr25519::Pair::generate().0;
	let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![] });
	let err = client.submit(&broke, call, WaitFor::InBlock).await.unwrap_err().to_string();
	assert!(err.contains("rejected"), "{err}");

	// Alice can pay the fee, but not a transfer of more than she has.
	let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: Sr25519Keyring::Bob.to_account_id().into(),
		value: 10_000_000 * UNIT,
	});
	let err =
		client.submit(&Sr25519Keyring::Alice.pair(), call, WaitFor::InBlock).await.unwrap_err();
	assert!(
		matches!(err, sutantra_node::chain_client::Error::Failed { .. }),
		"expected an included-but-failed transaction, got {err}"
	);
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_registered_and_started_by_extrinsics_is_seen_through_streams_api() {
	use pallet_streams::{AccessSource, AccessStatus, StreamStatus};
	use sutantra_runtime::{apis::StreamInfo, BlockNumber};

	let mut node = TestNode::start(&["--consensus", "instant-seal"]).await;
	let client = node.client().await;
	let alice = Sr25519Keyring::Alice;
	let bob = Sr25519Keyring::Bob;

	let register = RuntimeCall::Streams(pallet_streams::Call::register_stream {
		title: b"Sutantra launch".to_vec(),
		description: b"ipfs://launch".to_vec(),
		price_per_second: UNIT / 100,
		max_viewers: 50,
	});
	let included = client.submit(&alice.pair(), register, WaitFor::Finalized).await.unwrap();
	let registered = included
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Streams(pallet_streams::Event::StreamRegistered {
				stream_id, ..
			}) => Some(*stream_id),
			_ => None,
		})
		.expect("a StreamRegistered event");
	let start = RuntimeCall::Streams(pallet_streams::Call::start_stream { stream_id: registered });
	client.submit(&alice.pair(), start, WaitFor::Finalized).await.unwrap();

	let info: Option<StreamInfo> =
		client.runtime_call("StreamsApi_stream", registered, None, "the stream").await.unwrap();
	let info = info.expect("the stream exists");
	assert_eq!(info.creator, alice.to_account_id());
	assert_eq!(info.title.to_vec(), b"Sutantra launch".to_vec());
	assert_eq!(info.status, StreamStatus::Live);

	let (live, next): (Vec<(u64, StreamInfo)>, Option<u64>) = client
		.runtime_call("StreamsApi_live_streams", (None::<u64>, 10u32), None, "live streams")
		.await
		.unwrap();
	assert_eq!((live.len(), live[0].0, next), (1, registered, None));

	let access = |viewer: AccountId| {
		let client = &client;
		async move {
			client
				.runtime_call::<AccessStatus<BlockNumber>>(
					"StreamsApi_access",
					(registered, viewer),
					None,
					"access",
				)
				.await
				.unwrap()
		}
	};
	assert_eq!(access(bob.to_account_id()).await, AccessStatus::NoAccess);

	// Bob buys a minute; Alice is paid at once and the node's question now says yes.
	let alice_before = client.free_balance(&alice.to_account_id()).await.unwrap();
	let buy = RuntimeCall::Streams(pallet_streams::Call::buy_access {
		stream_id: registered,
		seconds: 60,
	});
	client.submit(&bob.pair(), buy, WaitFor::Finalized).await.unwrap();
	assert_eq!(
		client.free_balance(&alice.to_account_id()).await.unwrap(),
		alice_before + 60 * UNIT / 100
	);
	assert!(matches!(
		access(bob.to_account_id()).await,
		AccessStatus::Allowed { until: Some(_), source: AccessSource::Bought }
	));
	node.stop().await;
}
