//! Random sequences of channel operations by several accounts keep every invariant: the held
//! funds equal Σ (deposit − paid), total issuance is conserved, nobody's money appears or
//! vanishes, paid amounts only grow, each lane's payments only grow and sum to the channel's,
//! no call panics, and a forged or stale claim changes nothing at all.

use frame_support::traits::fungible::Inspect;
use proptest::prelude::*;

use crate::{
	mock::{account, run_to_block, sign, Balances, ExtBuilder, Payments, RuntimeOrigin, System},
	Channels, LanePaid, NextChannelId, Voucher,
};

const NAMES: [&str; 4] = ["Alice", "Bob", "Charlie", "Dave"];
/// The nodes vouchers are paid through: one more than a channel may have lanes in the mock.
const LANES: [&str; 4] = ["Origin", "RelayA", "RelayB", "RelayC"];
/// How many random sequences `invariants_hold_for_random_operation_sequences` runs.
pub const CASES: u32 = 1_000;

#[derive(Clone, Debug)]
enum Op {
	Open {
		payer: usize,
		payee: usize,
		deposit: u128,
	},
	TopUp {
		channel: u64,
		amount: u128,
	},
	/// A voucher on lane `lane` for `delta` above (or, negative, below) what the lane was paid,
	/// signed by the payer or (`forged`) by someone else.
	Claim {
		channel: u64,
		lane: usize,
		delta: i128,
		forged: bool,
		authorized: bool,
	},
	Close {
		channel: u64,
		by_payee: bool,
	},
	Finalize {
		channel: u64,
	},
	SettleAndClose {
		channel: u64,
		delta: u128,
	},
	Advance {
		blocks: u64,
	},
}

fn op() -> impl Strategy<Value = Op> {
	prop_oneof![
		3 => (0..4usize, 0..4usize, 0..5_000u128)
			.prop_map(|(payer, payee, deposit)| Op::Open { payer, payee, deposit }),
		1 => (0..8u64, 0..3_000u128).prop_map(|(channel, amount)| Op::TopUp { channel, amount }),
		5 => (0..8u64, 0..4usize, -300..2_000i128, prop::bool::weighted(0.1), any::<bool>()).prop_map(
			|(channel, lane, delta, forged, authorized)| Op::Claim {
				channel,
				lane,
				delta,
				forged,
				authorized
			}
		),
		1 => (0..8u64, any::<bool>()).prop_map(|(channel, by_payee)| Op::Close { channel, by_payee }),
		1 => (0..8u64).prop_map(|channel| Op::Finalize { channel }),
		1 => (0..8u64, 0..2_000u128)
			.prop_map(|(channel, delta)| Op::SettleAndClose { channel, delta }),
		2 => (1..40u64).prop_map(|blocks| Op::Advance { blocks }),
	]
}

fn name_of(who: &crate::mock::AccountId) -> &'static str {
	NAMES.iter().find(|name| account(name) == *who).expect("only named accounts pay")
}

/// Runs `op`. A claim that must fail (forged, or not above its lane) is checked to fail and to
/// leave the storage root as it was.
fn run(op: &Op) {
	let now = System::block_number();
	// The result of most calls does not matter: failing calls must change nothing, which the
	// invariants check.
	let _ = match op.clone() {
		Op::Open { payer, payee, deposit } => Payments::open_channel(
			RuntimeOrigin::signed(account(NAMES[payer])),
			account(NAMES[payee]),
			None,
			deposit,
		),
		Op::TopUp { channel, amount } => match Channels::<crate::mock::Test>::get(channel) {
			Some(c) => Payments::top_up(RuntimeOrigin::signed(c.payer), channel, amount),
			None => Payments::top_up(RuntimeOrigin::signed(account("Bob")), channel, amount),
		},
		Op::Claim { channel, lane, delta, forged, authorized } => {
			let lane = account(LANES[lane]);
			let paid = LanePaid::<crate::mock::Test>::get(channel, &lane);
			let payer = match Channels::<crate::mock::Test>::get(channel) {
				Some(c) => name_of(&c.payer),
				None => "Bob",
			};
			let amount = (paid as i128 + delta).max(0) as u128;
			let voucher = Voucher { channel_id: channel, lane, cumulative_amount: amount };
			let signer = if forged && payer != "Alice" { "Alice" } else { payer };
			let must_fail = (forged && payer != "Alice") || amount <= paid;
			let origin = if authorized {
				frame_system::RawOrigin::Authorized.into()
			} else {
				RuntimeOrigin::signed(account("Dave"))
			};
			let signature = sign(signer, &voucher);
			let root_before = must_fail.then(|| sp_io::storage::root(sp_runtime::StateVersion::V1));
			let result = Payments::claim(origin, voucher, signature);
			if let Some(root_before) = root_before {
				assert!(result.is_err(), "a forged or stale claim was taken: {op:?}");
				assert_eq!(
					sp_io::storage::root(sp_runtime::StateVersion::V1),
					root_before,
					"a forged or stale claim changed state: {op:?}"
				);
			}
			result
		},
		Op::Close { channel, by_payee } => match Channels::<crate::mock::Test>::get(channel) {
			Some(c) => {
				let who = if by_payee { c.payee } else { c.payer };
				Payments::close(RuntimeOrigin::signed(who), channel)
			},
			None => Payments::close(RuntimeOrigin::signed(account("Bob")), channel),
		},
		Op::Finalize { channel } => {
			Payments::finalize_close(RuntimeOrigin::signed(account("Dave")), channel)
		},
		Op::SettleAndClose { channel, delta } => {
			match Channels::<crate::mock::Test>::get(channel) {
				Some(c) => {
					let lane = account(LANES[0]);
					let paid = LanePaid::<crate::mock::Test>::get(channel, &lane);
					let voucher =
						Voucher { channel_id: channel, lane, cumulative_amount: paid + delta };
					let signature = sign(name_of(&c.payer), &voucher);
					Payments::settle_and_close(RuntimeOrigin::signed(c.payee), voucher, signature)
				},
				None => Ok(()),
			}
		},
		Op::Advance { blocks } => {
			run_to_block(now + blocks);
			Ok(())
		},
	};
}

/// Everything every named account owns, free and held.
fn owned() -> u128 {
	NAMES.iter().map(|name| Balances::total_balance(&account(name))).sum()
}

proptest! {
	#![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

	#[test]
	fn invariants_hold_for_random_operation_sequences(ops in prop::collection::vec(op(), 1..60)) {
		ExtBuilder.build().execute_with(|| {
			let issuance = Balances::total_issuance();
			let owned_before = owned();
			for op in &ops {
				let paid_before: Vec<_> = Channels::<crate::mock::Test>::iter()
					.map(|(id, c)| (id, c.paid))
					.collect();
				let lanes_before: Vec<_> = LanePaid::<crate::mock::Test>::iter().collect();
				run(op);
				Payments::do_try_state().map_err(|e| format!("after {op:?}: {e:?}")).unwrap();
				assert_eq!(Balances::total_issuance(), issuance, "issuance changed after {op:?}");
				assert_eq!(owned(), owned_before, "money appeared or vanished after {op:?}");
				for (id, paid) in paid_before {
					if let Some(c) = Channels::<crate::mock::Test>::get(id) {
						assert!(c.paid >= paid, "channel {id} paid less after {op:?}");
					}
				}
				for (id, lane, paid) in lanes_before {
					if Channels::<crate::mock::Test>::contains_key(id) {
						let now = LanePaid::<crate::mock::Test>::get(id, &lane);
						assert!(now >= paid, "a lane of channel {id} paid less after {op:?}");
					}
				}
				assert!(NextChannelId::<crate::mock::Test>::get() < 1_000);
			}
		});
	}
}
