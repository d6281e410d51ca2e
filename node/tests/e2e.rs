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
	// The creator is not the dev chain's validator, whose balance rises with every block it
	// authors (the block reward and its share of the fees).
	let eve = Sr25519Keyring::Eve;
	let bob = Sr25519Keyring::Bob;

	let register = RuntimeCall::Streams(pallet_streams::Call::register_stream {
		title: b"Sutantra launch".to_vec(),
		description: b"ipfs://launch".to_vec(),
		price_per_second: UNIT / 100,
		max_viewers: 50,
	});
	let included = client.submit(&eve.pair(), register, WaitFor::Finalized).await.unwrap();
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
	client.submit(&eve.pair(), start, WaitFor::Finalized).await.unwrap();

	let info: Option<StreamInfo> =
		client.runtime_call("StreamsApi_stream", registered, None, "the stream").await.unwrap();
	let info = info.expect("the stream exists");
	assert_eq!(info.creator, eve.to_account_id());
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

	// Bob buys a minute; Eve is paid at once and the node's question now says yes.
	let eve_before = client.free_balance(&eve.to_account_id()).await.unwrap();
	let buy = RuntimeCall::Streams(pallet_streams::Call::buy_access {
		stream_id: registered,
		seconds: 60,
		max_total: 60 * UNIT / 100,
	});
	client.submit(&bob.pair(), buy, WaitFor::Finalized).await.unwrap();
	assert_eq!(
		client.free_balance(&eve.to_account_id()).await.unwrap(),
		eve_before + 60 * UNIT / 100
	);
	assert!(matches!(
		access(bob.to_account_id()).await,
		AccessStatus::Allowed { until: Some(_), source: AccessSource::Bought }
	));
	node.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_voucher_is_settled_by_a_signed_claim_and_by_the_offchain_worker() {
	use codec::Encode;
	use pallet_payments::{SignedVoucher, Voucher, VoucherError, VoucherSignature};
	use sutantra_payments_primitives::{offchain_voucher_key, sign_voucher, OFFCHAIN_PENDING_KEY};
	use sutantra_runtime::apis::Channel;

	// Blocks every 500 ms: the offchain worker runs on each, and picks up stored vouchers.
	let mut node = TestNode::start(&["--consensus", "manual-seal-500"]).await;
	let client = node.client().await;
	// The creator is not the dev chain's validator, whose balance rises with every block it
	// authors (the block reward and its share of the fees).
	let eve = Sr25519Keyring::Eve;
	let bob = Sr25519Keyring::Bob;
	let charlie = Sr25519Keyring::Charlie;
	let genesis = client.genesis_hash();

	let channel_id = common::chain::open_channel(&client, bob, eve, None, 10 * UNIT).await;
	let channel: Option<Channel> =
		client.runtime_call("PaymentsApi_channel", channel_id, None, "the channel").await.unwrap();
	let channel = channel.expect("the channel is open");
	assert_eq!((channel.payer, channel.deposit, channel.paid), (bob.to_account_id(), 10 * UNIT, 0));

	// Bob signs a voucher the way the node's viewers and the CLI do, for a node's lane; the
	// runtime agrees on the bytes and on what it is worth.
	let lane = Sr25519Keyring::Eve.to_account_id();
	let first = Voucher { channel_id, lane: lane.clone(), cumulative_amount: UNIT };
	let signature = sign_voucher(&bob.pair(), genesis.as_ref(), &first);
	let payload: Vec<u8> = client
		.runtime_call("PaymentsApi_voucher_payload", first.clone(), None, "the payload")
		.await
		.unwrap();
	assert_eq!(payload, sutantra_payments_primitives::voucher_payload(genesis.as_ref(), &first));
	let due: Result<u128, VoucherError> = client
		.runtime_call("PaymentsApi_check_voucher", (first.clone(), signature), None, "the check")
		.await
		.unwrap();
	assert_eq!(due, Ok(UNIT));
	let forged = sign_voucher(&charlie.pair(), genesis.as_ref(), &first);
	let refused: Result<u128, VoucherError> = client
		.runtime_call("PaymentsApi_check_voucher", (first.clone(), forged), None, "the check")
		.await
		.unwrap();
	assert_eq!(refused, Err(VoucherError::BadSignature));

	// Charlie submits it (anyone may): Eve gets exactly the voucher's amount.
	let eve_before = client.free_balance(&eve.to_account_id()).await.unwrap();
	let claim = RuntimeCall::Payments(pallet_payments::Call::claim { voucher: first, signature });
	client.submit(&charlie.pair(), claim, WaitFor::InBlock).await.unwrap();
	let eve_paid = client.free_balance(&eve.to_account_id()).await.unwrap();
	assert_eq!(eve_paid, eve_before + UNIT);

	// The node keeps a newer voucher in its offchain storage; its offchain worker claims it
	// with an authorized transaction, and Eve gets exactly the difference.
	let second = Voucher { channel_id, lane: lane.clone(), cumulative_amount: 3 * UNIT + 7 };
	let stored = SignedVoucher::<AccountId, u128, VoucherSignature> {
		signature: sign_voucher(&bob.pair(), genesis.as_ref(), &second),
		voucher: second,
	};
	client.set_offchain_storage(&offchain_voucher_key(channel_id), &stored.encode()).await.unwrap();
	// ... and lists the channel as pending: the worker visits listed channels only.
	client.set_offchain_storage(OFFCHAIN_PENDING_KEY, &vec![channel_id].encode()).await.unwrap();
	let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
	loop {
		let balance = client.free_balance(&eve.to_account_id()).await.unwrap();
		if balance != eve_paid {
			assert_eq!(balance, eve_paid + 2 * UNIT + 7, "Eve is paid exactly the difference");
			break;
		}
		assert!(tokio::time::Instant::now() < deadline, "the offchain worker did not claim");
		tokio::time::sleep(Duration::from_millis(250)).await;
	}
	let channel: Option<Channel> =
		client.runtime_call("PaymentsApi_channel", channel_id, None, "the channel").await.unwrap();
	assert_eq!(channel.map(|c| (c.paid, c.lanes)), Some((3 * UNIT + 7, 1)));
	let lane_paid: u128 = client
		.runtime_call("PaymentsApi_lane_paid", (channel_id, lane), None, "the lane")
		.await
		.unwrap();
	assert_eq!(lane_paid, 3 * UNIT + 7);
	node.stop().await;
}
