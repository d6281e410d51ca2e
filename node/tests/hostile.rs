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
	// Generous: an ack is a signature check, a journal fsync and a runtime read away.
	assert!(ack_ms < 3_000, "Bob's voucher waited {ack_ms} ms behind the flood");
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
	let watch = |token: String| watch_with_token(&base, id, token);

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
	let watch = |token: String| watch_with_token(&base, id, token);
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

/// A payer who pays accounts of its own floods the pool with free (authorized) claims: they
/// cost it nothing. Paying transactions submitted in the middle of the flood still land in the
/// next block, and no block holds more free claims than the runtime allows. Figures: `cargo
/// test --workspace --test hostile -- --nocapture free_claims` (blocks every 500 ms, dev node).
#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_free_self_dealing_claims_leaves_paying_transactions_their_blocks() {
	use codec::Encode;
	use frame_system::offchain::CreateAuthorizedTransaction;
	use sutantra_node::extrinsic::sign;
	use sutantra_payments_primitives::{sign_voucher, Voucher};
	use sutantra_runtime::{AccountId, Runtime, UncheckedExtrinsic};

	const CHANNELS_PER_PAYER: u32 = 20;
	let next_channel_id =
		|| sutantra_node::chain_client::plain_storage_key("Payments", "NextChannelId");
	const LANES: u8 = 3;
	const TRANSFERS: u32 = 20;
	let mut node = TestNode::start(&["--consensus", "manual-seal-500"]).await;
	let client = node.client().await;
	let context = client.signing_context();
	let payers =
		[Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave, Sr25519Keyring::Eve];
	let partner = Sr25519Keyring::Ferdie;

	// 80 channels to a partner account, opened at once.
	let first_channel: u64 = client
		.storage(next_channel_id(), None, "NextChannelId")
		.await
		.unwrap()
		.unwrap_or(0);
	for payer in payers {
		let nonce = client.next_nonce(&payer.to_account_id()).await.unwrap();
		for i in 0..CHANNELS_PER_PAYER {
			let open = RuntimeCall::Payments(pallet_payments::Call::open_channel {
				payee: partner.to_account_id().into(),
				stream_id: None,
				deposit: UNIT,
			});
			let signed = sign(&payer.pair(), open, nonce + i, &context);
			client.submit_encoded(signed.encode()).await.unwrap();
		}
	}
	let channels = payers.len() as u64 * u64::from(CHANNELS_PER_PAYER);
	node.wait_for("the channels to open", Duration::from_secs(60), || async {
		let next: u64 = client
			.storage(next_channel_id(), None, "NextChannelId")
			.await
			.ok()??;
		(next >= first_channel + channels).then_some(())
	})
	.await;

	// The flood: every channel, three lanes each, the smallest free claim on each lane, all
	// signed first and handed to the node at once.
	let mut flood_xts = Vec::new();
	for payer in payers {
		let theirs: Vec<(u64, pallet_payments::Channel<AccountId, u128, u32>)> = client
			.runtime_call("PaymentsApi_channels_of", payer.to_account_id(), None, "channels")
			.await
			.unwrap();
		assert_eq!(theirs.len(), CHANNELS_PER_PAYER as usize);
		for (channel_id, _) in theirs {
			for lane in 0..LANES {
				let voucher = Voucher {
					channel_id,
					lane: AccountId::new([lane + 1; 32]),
					cumulative_amount: sutantra_runtime::MILLI_UNIT,
				};
				let signature = sign_voucher(&payer.pair(), client.genesis_hash().as_ref(), &voucher);
				let call = RuntimeCall::Payments(pallet_payments::Call::claim {
					voucher,
					signature,
				});
				let xt = UncheckedExtrinsic::new_transaction(
					call,
					<Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_extension(),
				);
				flood_xts.push(xt.encode());
			}
		}
	}
	let flood_from = client.best_number().await.unwrap();
	let taken = futures::future::join_all(
		flood_xts.into_iter().map(|xt| client.submit_encoded(xt)),
	)
	.await;
	let flood = taken.iter().filter(|taken| taken.is_ok()).count();
	assert_eq!(flood, (channels * u64::from(LANES)) as usize, "the pool took every claim");
	// In the middle of it, Alice pays twenty people.
	let alice = Sr25519Keyring::Alice;
	let submitted_at = client.best_number().await.unwrap();
	let nonce = client.next_nonce(&alice.to_account_id()).await.unwrap();
	let transfers = (0..TRANSFERS).map(|i| {
		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: AccountId::new([100 + i as u8; 32]).into(),
			value: UNIT,
		});
		sign(&alice.pair(), transfer, nonce + i, &context).encode()
	});
	for taken in futures::future::join_all(transfers.map(|xt| client.submit_encoded(xt))).await {
		taken.unwrap();
	}
	let landed_at = node
		.wait_for("Alice's transfers to land", Duration::from_secs(30), || async {
			let now = client.next_nonce(&alice.to_account_id()).await.ok()?;
			if now >= nonce + TRANSFERS {
				client.best_number().await.ok()
			} else {
				None
			}
		})
		.await;

	// Free claims included per block, over the next blocks: one gap (10 blocks, the runtime's
	// `AuthorizedClaimGap`), within which each channel claims at most once.
	const CLAIM_GAP: u32 = 10;
	tokio::time::sleep(Duration::from_secs(6)).await;
	let last = client.best_number().await.unwrap().min(flood_from + CLAIM_GAP);
	let mut per_block = Vec::new();
	for number in flood_from + 1..=last {
		let hash = client.block_hash(number).await.unwrap();
		let claims = client
			.block_events(hash)
			.await
			.unwrap()
			.iter()
			.filter(|record| {
				matches!(
					record.event,
					sutantra_runtime::RuntimeEvent::Payments(pallet_payments::Event::Claimed { .. })
				)
			})
			.count();
		per_block.push(claims);
	}
	println!(
		"free-claim flood: {flood} self-dealing claims taken by the pool from block #{flood_from}; \
		 {TRANSFERS} signed transfers submitted at block #{submitted_at} all landed by block \
		 #{landed_at} ({} block(s)); free claims per block from #{}: {per_block:?} (cap 50, one \
		 per channel per 10 blocks)",
		landed_at - submitted_at,
		flood_from + 1
	);
	assert!(landed_at <= submitted_at + 2, "the transfers waited behind free claims");
	assert!(per_block.iter().all(|claims| *claims <= 50), "{per_block:?}");
	// One per channel per gap: however many lanes the flood used, at most 80 claims in these
	// blocks.
	assert!(per_block.iter().sum::<usize>() <= channels as usize, "{per_block:?}");
	node.stop().await;
}
