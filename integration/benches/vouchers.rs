//! Voucher intake benchmark: how many vouchers one core checks and accepts per second.
//!
//! Each voucher goes through exactly what the node does when a viewer sends one on the data
//! channel: the lane, channel and stream checks, the monotonic and deposit checks, the sr25519
//! signature check and the write of the best voucher. Three figures: the signature check alone;
//! the full intake into memory (the node's CPU cost); and the full intake through the voucher
//! journal the node uses, which appends each accepted voucher to a file and flushes it to disk
//! (`fdatasync`) before the ack: that one measures this machine's disk too.
//!
//! ```sh
//! scripts/bench.sh vouchers            # 20,000 vouchers, in the scripts' shared build
//! scripts/bench.sh vouchers -- 5000    # another count
//! ```
//!
//! The `dev` profile is the one the node and the tests are built with; it optimises the
//! signature crates (see the workspace's `[profile.dev.package]`).

use std::{collections::HashMap, io, sync::Mutex, time::Instant};

use sp_core::{sr25519, Pair};
use sp_runtime::AccountId32;
use sutantra_integration::vouchers::{
	ChannelState, NodeVoucher, Viewing, VoucherBook, VoucherJournal, VoucherStore,
};
use sutantra_payments_primitives::{sign_voucher, verify_voucher, SignedVoucher, Voucher};

#[derive(Default)]
struct MemoryStore(Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl VoucherStore for MemoryStore {
	fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
		self.0.lock().unwrap().get(key).cloned()
	}

	fn set(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
		self.0.lock().unwrap().insert(key.to_vec(), value.to_vec());
		Ok(())
	}
}

fn main() {
	let count: u64 = std::env::args()
		.skip(1)
		.find(|arg| !arg.starts_with('-'))
		.map(|arg| arg.parse().expect("the argument is a number of vouchers"))
		.unwrap_or(20_000);
	let genesis = [7u8; 32];
	let payer = sr25519::Pair::from_string("//Bob", None).unwrap();
	let payee: AccountId32 = sr25519::Pair::from_string("//Alice", None).unwrap().public().into();
	let lane: AccountId32 = sr25519::Pair::from_string("//Node", None).unwrap().public().into();
	let payer_account: AccountId32 = payer.public().into();
	let price: u128 = 10_000_000_000;
	let channel = ChannelState {
		payer: payer_account.clone(),
		payee: payee.clone(),
		stream_id: Some(1),
		deposit: price * u128::from(count) + 1,
		paid: 0,
		lane_paid: 0,
		lanes_full: false,
		closing: false,
	};
	let viewing =
		Viewing { viewer: payer_account.clone(), creator: payee, stream: Some(1), price };
	// One viewer paying every few seconds: each voucher raises the amount.
	let vouchers: Vec<NodeVoucher> = (1..=count)
		.map(|step| {
			let voucher = Voucher {
				channel_id: 1,
				lane: lane.clone(),
				cumulative_amount: price * u128::from(step),
			};
			SignedVoucher { signature: sign_voucher(&payer, &genesis, &voucher), voucher }
		})
		.collect();

	let started = Instant::now();
	for signed in &vouchers {
		assert!(verify_voucher(&genesis, &signed.voucher, &signed.signature, &payer_account));
	}
	let verify = started.elapsed();

	let book = VoucherBook::new(&genesis, lane.clone(), MemoryStore::default());
	let started = Instant::now();
	for signed in &vouchers {
		book.accept(signed, &channel, &viewing, price).expect("every voucher is newer");
	}
	let accept = started.elapsed();

	let dir = tempfile::tempdir().expect("a temporary directory");
	let journal = VoucherJournal::open(&dir.path().join("vouchers.journal"), MemoryStore::default())
		.expect("the journal opens");
	let durable = VoucherBook::new(&genesis, lane, journal);
	let started = Instant::now();
	for signed in &vouchers {
		durable.accept(signed, &channel, &viewing, price).expect("every voucher is newer");
	}
	let journaled = started.elapsed();

	let per_second = |elapsed: std::time::Duration| count as f64 / elapsed.as_secs_f64();
	let each = |elapsed: std::time::Duration| elapsed.as_secs_f64() * 1e6 / count as f64;
	println!("{count} vouchers, one core:");
	println!(
		"  signature check alone: {:>8.0} vouchers/s ({:.1} µs each)",
		per_second(verify),
		each(verify)
	);
	println!(
		"  full intake (checks, signature, store in memory): {:>8.0} vouchers/s ({:.1} µs each)",
		per_second(accept),
		each(accept)
	);
	println!(
		"  full intake, durable (journal append + fdatasync before the ack): {:>8.0} vouchers/s ({:.1} µs each)",
		per_second(journaled),
		each(journaled)
	);
}
