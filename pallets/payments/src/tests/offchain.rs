//! The offchain worker: claims the vouchers the node stored, as authorized transactions.

use codec::{Decode, Encode};
use frame_support::{
	assert_ok, dispatch::GetDispatchInfo, pallet_prelude::TransactionSource, traits::Hooks,
};
use sp_core::offchain::{
	testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, StorageKind, TransactionPoolExt,
};
use sp_runtime::traits::{Applyable, Checkable};
use std::sync::Arc;
use sutantra_payments_primitives::{offchain_voucher_key, OFFCHAIN_PENDING_KEY};

use super::channels::open;
use crate::{
	mock::{
		alice, bob, lane, run_to_block, sign, AccountId, ExtBuilder, Extrinsic, Payments, RuntimeCall,
		RuntimeOrigin, Test, CLAIM_RETRY_BLOCKS, ENDOWMENT, MIN_AUTHORIZED_CLAIM,
	},
	Call, SignedVoucher, Voucher,
};

fn run_worker(block: u64) {
	<Payments as Hooks<u64>>::offchain_worker(block);
}

/// Test state with an offchain database and a transaction pool the worker submits to.
fn offchain_ext() -> (sp_io::TestExternalities, Arc<parking_lot::RwLock<PoolState>>) {
	let (offchain, _) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let mut ext = ExtBuilder.build();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	(ext, pool_state)
}

/// What the node does when it accepts a voucher: store it under the documented key and list its
/// channel as pending.
fn store(voucher: Voucher<AccountId, u128>) -> SignedVoucher<AccountId, u128> {
	let key = offchain_voucher_key(voucher.channel_id);
	let signed = SignedVoucher { signature: sign("Bob", &voucher), voucher };
	sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, &key, &signed.encode());
	list_pending(signed.voucher.channel_id);
	signed
}

/// Adds `channel` to the node's list of pending channels.
fn list_pending(channel: u64) {
	let mut pending = pending();
	if let Err(at) = pending.binary_search(&channel) {
		pending.insert(at, channel);
	}
	sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, OFFCHAIN_PENDING_KEY, &pending.encode());
}

fn pending() -> Vec<u64> {
	sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, OFFCHAIN_PENDING_KEY)
		.map(|bytes| Vec::<u64>::decode(&mut &bytes[..]).unwrap())
		.unwrap_or_default()
}

/// The exact transaction the worker should submit for `signed`.
fn expected_claim(signed: &SignedVoucher<AccountId, u128>) -> Extrinsic {
	let call = RuntimeCall::Payments(Call::claim {
		voucher: signed.voucher.clone(),
		signature: signed.signature,
	});
	Extrinsic::new_transaction(call, (frame_system::AuthorizeCall::new(),))
}

fn submitted(pool: &Arc<parking_lot::RwLock<PoolState>>) -> Vec<Vec<u8>> {
	pool.read().transactions.clone()
}

#[test]
fn the_worker_submits_exactly_the_claim_of_the_stored_voucher() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		let id = open(1_000);
		let signed = store(Voucher { channel_id: id, lane: lane(), cumulative_amount: 400 });
		run_worker(2);
		let txs = submitted(&pool);
		assert_eq!(txs, vec![expected_claim(&signed).encode()]);

		// The submitted transaction is a general (account-less) one that pays Alice.
		let xt = Extrinsic::decode(&mut &txs[0][..]).unwrap();
		assert!(matches!(xt.preamble, sp_runtime::generic::Preamble::General(..)));
		let info = xt.get_dispatch_info();
		let len = txs[0].len();
		let checked = Checkable::check(xt, &frame_system::ChainContext::<Test>::default()).unwrap();
		checked.validate::<Test>(TransactionSource::Local, &info, len).unwrap();
		assert_ok!(checked.apply::<Test>(&info, len).unwrap());
		assert_eq!(pallet_balances::Pallet::<Test>::free_balance(alice()), ENDOWMENT + 400);

		// Claimed: the stored voucher is now stale, nothing more is submitted.
		run_to_block(2 + CLAIM_RETRY_BLOCKS);
		run_worker(2 + CLAIM_RETRY_BLOCKS);
		assert_eq!(submitted(&pool).len(), 1);
	});
}

#[test]
fn the_worker_does_not_resubmit_a_pending_claim_every_block() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		let id = open(1_000);
		let signed = store(Voucher { channel_id: id, lane: lane(), cumulative_amount: 400 });
		run_worker(2);
		run_worker(3);
		run_worker(1 + CLAIM_RETRY_BLOCKS);
		assert_eq!(submitted(&pool).len(), 1);
		// Not included after `ClaimRetryBlocks`: submitted again.
		run_worker(2 + CLAIM_RETRY_BLOCKS);
		assert_eq!(submitted(&pool), vec![expected_claim(&signed).encode(); 2]);
		// A newer voucher is submitted at once.
		let newer = store(Voucher { channel_id: id, lane: lane(), cumulative_amount: 600 });
		run_worker(3 + CLAIM_RETRY_BLOCKS);
		assert_eq!(submitted(&pool).last(), Some(&expected_claim(&newer).encode()));
		assert_eq!(submitted(&pool).len(), 3);
	});
}

#[test]
fn small_amounts_wait_until_the_channel_closes() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		let id = open(1_000);
		// The lane was opened by an earlier claim; the node now holds a small increase on it.
		let first = Voucher { channel_id: id, lane: lane(), cumulative_amount: MIN_AUTHORIZED_CLAIM };
		assert_ok!(Payments::claim(
			RuntimeOrigin::signed(alice()),
			first.clone(),
			sign("Bob", &first)
		));
		let signed = store(Voucher {
			channel_id: id,
			lane: lane(),
			cumulative_amount: 2 * MIN_AUTHORIZED_CLAIM - 1,
		});
		run_worker(2);
		assert!(submitted(&pool).is_empty());
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), id));
		run_worker(3);
		assert_eq!(submitted(&pool), vec![expected_claim(&signed).encode()]);
	});
}

#[test]
fn unusable_stored_vouchers_are_skipped() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		let set = |channel: u64, value: &[u8]| {
			sp_io::offchain::local_storage_set(
				StorageKind::PERSISTENT,
				&offchain_voucher_key(channel),
				value,
			);
			list_pending(channel);
		};
		let first = open(1_000);
		let second = open(1_000);
		let third = open(1_000);
		// Badly signed (by Alice, not the payer).
		let bad = Voucher { channel_id: first, lane: lane(), cumulative_amount: 400 };
		set(first, &SignedVoucher { voucher: bad.clone(), signature: sign("Alice", &bad) }.encode());
		// A good voucher of the first channel, stored under the second's key.
		let moved = Voucher { channel_id: first, lane: lane(), cumulative_amount: 400 };
		set(second, &SignedVoucher { voucher: moved.clone(), signature: sign("Bob", &moved) }.encode());
		// Not decodable.
		set(third, b"garbage");
		// More than the deposit, on Charlie's channel, signed by Charlie.
		let fourth = crate::NextChannelId::<Test>::get();
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(crate::mock::charlie()),
			alice(),
			None,
			1_000
		));
		let greedy = Voucher { channel_id: fourth, lane: lane(), cumulative_amount: 1_001 };
		set(
			fourth,
			&SignedVoucher { voucher: greedy.clone(), signature: sign("Charlie", &greedy) }.encode(),
		);
		run_worker(2);
		assert!(submitted(&pool).is_empty());
	});
}

#[test]
fn the_worker_visits_only_pending_channels_and_a_bounded_number_per_block() {
	use crate::mock::MAX_OFFCHAIN_CLAIM_CHECKS;
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		// A stored voucher the node did not list is never visited.
		let unlisted = open(1_000);
		let voucher = Voucher { channel_id: unlisted, lane: lane(), cumulative_amount: 400 };
		let signed = SignedVoucher { signature: sign("Bob", &voucher), voucher };
		sp_io::offchain::local_storage_set(
			StorageKind::PERSISTENT,
			&offchain_voucher_key(unlisted),
			&signed.encode(),
		);
		assert_eq!(Payments::submit_claims(2), (0, 0));

		// Eight listed channels, two of them with a voucher worth claiming (the others closed
		// or never on chain): five visits a block, round robin.
		let due = [open(1_000), open(1_000)];
		for channel in due {
			store(Voucher { channel_id: channel, lane: lane(), cumulative_amount: 400 });
		}
		for gone in [100, 101, 102, 103, 104, 105] {
			list_pending(gone);
		}
		assert_eq!(pending().len(), 8);
		assert_eq!(Payments::submit_claims(3), (MAX_OFFCHAIN_CLAIM_CHECKS, 2));
		assert_eq!(Payments::submit_claims(4), (MAX_OFFCHAIN_CLAIM_CHECKS, 0));
		assert_eq!(submitted(&pool).len(), 2);
	});
}

/// The offchain worker's cost in one block with 10,000 channels on chain: only the listed ones
/// are visited, at most `MaxOffchainClaimChecks`. Figures: `cargo test --workspace -p
/// pallet-payments offchain::cost -- --nocapture` (native code, mock runtime, in-memory storage).
#[test]
fn cost_of_a_block_of_the_worker_at_ten_thousand_channels() {
	use crate::{mock::MAX_OFFCHAIN_CLAIM_CHECKS, Channel, Channels};
	let (mut ext, _pool) = offchain_ext();
	ext.execute_with(|| {
		let payer = bob();
		for id in 0..10_000u64 {
			let channel = Channel {
				payer: payer.clone(),
				payee: alice(),
				stream_id: None,
				deposit: 1_000,
				paid: 0,
				lanes: 0,
				opened_at: 1,
				last_activity: 1,
				closes_at: None,
			};
			Channels::<Test>::insert(id, channel);
		}
		let time = |f: &dyn Fn()| {
			let started = std::time::Instant::now();
			f();
			started.elapsed()
		};
		// Before: the worker walked every channel each block.
		let scan = time(&|| assert_eq!(Channels::<Test>::iter().count(), 10_000));
		// Now: nothing pending costs nothing; 10,000 pending cost `MaxOffchainClaimChecks` visits.
		let idle = time(&|| assert_eq!(Payments::submit_claims(2), (0, 0)));
		for id in 0..10_000u64 {
			let voucher = Voucher { channel_id: id, lane: lane(), cumulative_amount: 400 };
			let signed = SignedVoucher { signature: sign("Bob", &voucher), voucher };
			sp_io::offchain::local_storage_set(
				StorageKind::PERSISTENT,
				&offchain_voucher_key(id),
				&signed.encode(),
			);
		}
		let all: Vec<u64> = (0..10_000).collect();
		sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, OFFCHAIN_PENDING_KEY, &all.encode());
		let busy = time(&|| assert_eq!(Payments::submit_claims(3).0, MAX_OFFCHAIN_CLAIM_CHECKS));
		println!(
			"offchain worker, one block, 10,000 channels on chain (native, mock runtime, in-memory storage): \
			 reading the whole channel table {:.1} ms; nothing pending {:.3} ms; all 10,000 pending, \
			 {MAX_OFFCHAIN_CLAIM_CHECKS} visited {:.1} ms",
			scan.as_secs_f64() * 1e3,
			idle.as_secs_f64() * 1e3,
			busy.as_secs_f64() * 1e3,
		);
		assert!(idle < std::time::Duration::from_millis(50), "{idle:?}");
	});
}
