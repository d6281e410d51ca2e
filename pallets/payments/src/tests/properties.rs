//! Random sequences of channel operations by several accounts keep every invariant: the held
//! funds equal Σ (deposit − paid), total issuance is conserved, nobody's money appears or
//! vanishes, paid amounts only grow, and no call panics.

use frame_support::traits::fungible::Inspect;
use proptest::prelude::*;

use crate::{
	mock::{account, run_to_block, sign, Balances, ExtBuilder, Payments, RuntimeOrigin, System},
	Channels, NextChannelId, Voucher,
};

const NAMES: [&str; 4] = ["Alice", "Bob", "Charlie", "Dave"];
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
	/// A voucher `nonce_step` above the last settled nonce, for `delta` above what was paid,
	/// signed by the payer or (`forged`) by someone else.
	Claim {
		channel: u64,
		delta: u128,
		nonce_step: u64,
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
		5 => (0..8u64, 0..2_000u128, 0..3u64, prop::bool::weighted(0.1), any::<bool>()).prop_map(
			|(channel, delta, nonce_step, forged, authorized)| Op::Claim {
				channel,
				delta,
				nonce_step,
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

fn run(op: &Op) {
	let now = System::block_number();
	// The result of each call does not matter: failing calls must change nothing, which the
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
		Op::Claim { channel, delta, nonce_step, forged, authorized } => {
			let (payer, paid, nonce) = match Channels::<crate::mock::Test>::get(channel) {
				Some(c) => (name_of(&c.payer), c.paid, c.nonce),
				None => ("Bob", 0, 0),
			};
			let voucher = Voucher {
				channel_id: channel,
				cumulative_amount: paid + delta,
				nonce: nonce + nonce_step,
			};
			let signer = if forged { "Alice" } else { payer };
			let origin = if authorized {
				frame_system::RawOrigin::Authorized.into()
			} else {
				RuntimeOrigin::signed(account("Dave"))
			};
			Payments::claim(origin, voucher, sign(signer, &voucher))
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
					let voucher = Voucher {
						channel_id: channel,
						cumulative_amount: c.paid + delta,
						nonce: c.nonce + 1,
					};
					let payer = name_of(&c.payer);
					Payments::settle_and_close(
						RuntimeOrigin::signed(c.payee),
						voucher,
						sign(payer, &voucher),
					)
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
				run(op);
				Payments::do_try_state().map_err(|e| format!("after {op:?}: {e:?}")).unwrap();
				assert_eq!(Balances::total_issuance(), issuance, "issuance changed after {op:?}");
				assert_eq!(owned(), owned_before, "money appeared or vanished after {op:?}");
				for (id, paid) in paid_before {
					if let Some(c) = Channels::<crate::mock::Test>::get(id) {
						assert!(c.paid >= paid, "channel {id} paid less after {op:?}");
					}
				}
				assert!(NextChannelId::<crate::mock::Test>::get() < 1_000);
			}
		});
	}
}
