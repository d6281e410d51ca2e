//! Voucher intake benchmark: how many vouchers one core takes per second, doing exactly what the
//! node does with each payment message a viewer sends on its data channel.
//!
//! The benchmark starts the node's own client in this process over a real dev chain (the node's
//! runtime on its wasm executor, its database and offchain storage in a temporary directory,
//! blocks sealed in process), opens a payment channel with a real transaction, and then hands
//! each payment message to the node's [`PaymentDesk`]: the JSON parse, the two runtime calls at
//! the best block (the channel and the lane's settled amount), the lane, channel, payee, payer,
//! monotonic, deposit and pay-ahead checks, the sr25519 signature check, and the write of the
//! best voucher. Each voucher is one more second of viewing: before it the viewer's standing
//! records one more second owed, as the node's bridge does every second (not timed).
//!
//! Figures, each the median, minimum and maximum over several runs after a warm-up:
//! - the signature check alone;
//! - the desk with the best voucher kept in memory (the node's CPU cost per voucher);
//! - the desk as the node runs it: the best voucher in the offchain database through the voucher
//!   journal, appended and flushed with `fdatasync` before the ack (this one measures the disk).
//!
//! The desk reads a channel from the runtime once per block; each desk is measured twice, reading
//! the channel for every voucher (each voucher in a block of its own) and with the channel already
//! read at the best block (every voucher after the first in a block).
//!
//! The clock runs in the benchmark process around each call (`take`, or the check alone), summed
//! over a run; the rate is the run's vouchers over that sum.
//!
//! ```sh
//! scripts/bench.sh vouchers                 # 5 runs of 5,000 vouchers after 1,000 to warm up
//! scripts/bench.sh vouchers -- 2000 3       # 3 runs of 2,000
//! ```

use std::{
	collections::HashMap,
	io,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use pallet_payments_runtime_api::PaymentsApi;
use sc_cli::SubstrateCli;
use sc_client_api::backend::Backend;
use sc_transaction_pool_api::{TransactionPool, TransactionSource};
use sp_api::{Core, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring;
use sp_runtime::AccountId32;
use sutantra_integration::{
	ledger::Ledger,
	payments::{PaymentDesk, CHANNELS_READ_PER_BLOCK},
	vouchers::{
		NodeVoucher, OffchainVoucherStore, PayMessage, Viewing, VoucherBook, VoucherJournal,
		VoucherStore,
	},
};
use sutantra_node::{cli::Consensus, extrinsic, service};
use sutantra_payments_primitives::{sign_voucher, verify_voucher, SignedVoucher, Voucher};
use sutantra_runtime::{opaque::Block, RuntimeCall};

/// The price of a second of the stream the vouchers pay for, in plancks.
const PRICE: u128 = 10_000_000_000;

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

/// `count` payment messages for one lane, each one second more than the one before, starting
/// after `from` seconds.
fn messages(
	payer: &sr25519::Pair,
	genesis: &[u8],
	channel_id: u64,
	lane: &AccountId32,
	from: u64,
	count: u64,
) -> Vec<(NodeVoucher, Vec<u8>)> {
	(from + 1..=from + count)
		.map(|second| {
			let voucher = Voucher {
				channel_id,
				lane: lane.clone(),
				cumulative_amount: PRICE * u128::from(second),
			};
			let signed =
				SignedVoucher { signature: sign_voucher(payer, genesis, &voucher), voucher };
			let message = serde_json::to_vec(&PayMessage::voucher(&signed)).expect("a message");
			(signed, message)
		})
		.collect()
}

/// The min, median and max of `runs` (vouchers per second).
fn spread(mut runs: Vec<f64>) -> (f64, f64, f64) {
	runs.sort_by(f64::total_cmp);
	(runs[0], runs[runs.len() / 2], runs[runs.len() - 1])
}

fn print_row(label: &str, count: u64, runs: Vec<Duration>) {
	let rates: Vec<f64> = runs.iter().map(|run| count as f64 / run.as_secs_f64()).collect();
	let (min, median, max) = spread(rates);
	println!(
		"  {label}: {median:>7.0} vouchers/s median ({:.1} µs each), min {min:.0}, max {max:.0}",
		1e6 / median
	);
}

/// What every run of the desk shares.
struct Bench<'a> {
	payer: &'a sr25519::Pair,
	genesis: &'a [u8],
	channel_id: u64,
	viewing: &'a Viewing,
	warm_up: u64,
	count: u64,
	runs: u64,
}

impl Bench<'_> {
	/// Feeds the warm-up, then each run's vouchers on `lane`: `charge` (not timed) adds the
	/// second each voucher pays for to the viewer's standing, `take` hands the message to the
	/// desk and says why it was refused, if it was. Returns each run's time inside `take`.
	fn intake(
		&self,
		lane: &AccountId32,
		charge: impl Fn(),
		take: impl Fn(&[u8]) -> Option<String>,
	) -> Vec<Duration> {
		let run = |from: u64, count: u64| -> Duration {
			let mut spent = Duration::ZERO;
			for (_, message) in
				messages(self.payer, self.genesis, self.channel_id, lane, from, count)
			{
				charge();
				let started = Instant::now();
				let refused = take(&message);
				spent += started.elapsed();
				assert_eq!(refused, None, "the desk refused an honest voucher");
			}
			spent
		};
		run(0, self.warm_up);
		(0..self.runs).map(|index| run(self.warm_up + index * self.count, self.count)).collect()
	}
}

/// Runs `bench` through `desk` on `lane`.
macro_rules! through {
	($bench:expr, $desk:expr, $lane:expr) => {{
		let desk = &$desk;
		let viewing = $bench.viewing;
		$bench.intake(
			$lane,
			|| {
				desk.ledger().record(&viewing.viewer, &viewing.creator, PRICE, 0);
			},
			|message| match desk.take(message, Some(viewing)) {
				(_, Some(_)) => None,
				(answer, None) => Some(format!("{answer:?}")),
			},
		)
	}};
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
	let numbers: Vec<u64> = std::env::args()
		.skip(1)
		.filter(|arg| !arg.starts_with('-'))
		.map(|arg| {
			arg.parse().map_err(|_| format!("{arg}: expected a number of vouchers, then of runs"))
		})
		.collect::<Result<_, _>>()?;
	let count = numbers.first().copied().unwrap_or(5_000).max(1);
	let runs = numbers.get(1).copied().unwrap_or(5).max(1);
	let warm_up = 1_000u64;

	let runtime = tokio::runtime::Runtime::new()?;
	let base = tempfile::tempdir()?;
	let cli = <sutantra_node::cli::Cli as clap::Parser>::try_parse_from([
		"sutantra-node",
		"--dev",
		"--base-path",
		base.path().to_str().ok_or("a temporary directory with a UTF-8 path")?,
	])?;
	let config = cli.create_configuration(&cli.run.base, runtime.handle().clone())?;
	let consensus = Consensus::InstantSeal;
	let service = {
		let _entered = runtime.enter();
		let service = service::new_partial(&config, consensus)?;
		service::seal_in_process(&service, consensus)?;
		service
	};
	let client = service.client.clone();

	// Bob opens a channel to Alice large enough for every voucher of the benchmark, with a real
	// transaction sealed into a block.
	let payer = Sr25519Keyring::Bob.pair();
	let payer_account: AccountId32 = payer.public().into();
	let payee: AccountId32 = Sr25519Keyring::Alice.to_account_id();
	let per_lane = warm_up + count * runs;
	let info = client.info();
	let version = client.runtime_api().version(info.best_hash)?;
	let context = extrinsic::SigningContext {
		genesis_hash: info.genesis_hash,
		spec_version: version.spec_version,
		transaction_version: version.transaction_version,
		mortality: None,
	};
	let open = RuntimeCall::Payments(pallet_payments::Call::open_channel {
		payee: payee.clone().into(),
		stream_id: None,
		deposit: PRICE * u128::from(per_lane) * 4 + 1,
	});
	let signed = extrinsic::sign(&payer, open, 0, &context);
	let opaque =
		<Block as sp_runtime::traits::Block>::Extrinsic::decode(&mut &signed.encode()[..])?;
	runtime.block_on(service.transaction_pool.submit_one(
		info.best_hash,
		TransactionSource::External,
		opaque,
	))?;
	let channel_id = 0;
	let deadline = Instant::now() + Duration::from_secs(60);
	while client.runtime_api().channel(client.info().best_hash, channel_id)?.is_none() {
		if Instant::now() > deadline {
			return Err("the channel was not opened within 60 s".into());
		}
		std::thread::sleep(Duration::from_millis(20));
	}
	println!(
		"dev chain in process, channel {channel_id} opened at block #{}; {runs} runs of {count} \
		 vouchers after {warm_up} to warm up, one core:",
		client.info().best_number
	);

	let genesis = info.genesis_hash;
	let viewing = Viewing {
		viewer: payer_account.clone(),
		creator: payee.clone(),
		stream: Some(1),
		price: PRICE,
	};

	// The signature check alone.
	let lane: AccountId32 = sr25519::Pair::from_string("//Node", None)?.public().into();
	let sample = messages(&payer, genesis.as_ref(), channel_id, &lane, 0, count);
	let mut verify = Vec::new();
	for _ in 0..runs {
		let started = Instant::now();
		for (signed, _) in &sample {
			assert!(verify_voucher(
				genesis.as_ref(),
				&signed.voucher,
				&signed.signature,
				&payer_account
			));
		}
		verify.push(started.elapsed());
	}

	let bench = Bench {
		payer: &payer,
		genesis: genesis.as_ref(),
		channel_id,
		viewing: &viewing,
		warm_up,
		count,
		runs,
	};
	// Four desks, one lane (a node's account) each, so none sees another's vouchers: the best
	// voucher in memory or as the node keeps it, and every voucher reading the chain (as when
	// each comes in a block of its own) or the channel read once for the block.
	let lane = |name: &str| -> AccountId32 {
		sr25519::Pair::from_string(&format!("//Node//{name}"), None)
			.expect("a dev key")
			.public()
			.into()
	};
	let in_memory = |reads: usize, name: &str| {
		let lane = lane(name);
		let desk = PaymentDesk::new(
			client.clone(),
			VoucherBook::new(genesis.as_ref(), lane.clone(), MemoryStore::default()),
			Arc::new(Ledger::new(MemoryStore::default())),
			None,
		)
		.with_channels_read_per_block(reads);
		through!(bench, desk, &lane)
	};
	let memory_cold = in_memory(0, "memory-cold");
	let memory_warm = in_memory(CHANNELS_READ_PER_BLOCK, "memory-warm");

	let offchain =
		service.backend.offchain_storage().ok_or("the dev chain has no offchain database")?;
	let as_the_node = |reads: usize, name: &str| -> Result<Vec<Duration>, io::Error> {
		let lane = lane(name);
		let journal = VoucherJournal::open(
			&base.path().join(format!("{name}.journal")),
			OffchainVoucherStore(offchain.clone()),
		)?;
		let desk = PaymentDesk::new(
			client.clone(),
			VoucherBook::new(genesis.as_ref(), lane.clone(), journal),
			Arc::new(Ledger::new(OffchainVoucherStore(offchain.clone()))),
			None,
		)
		.with_channels_read_per_block(reads);
		Ok(through!(bench, desk, &lane))
	};
	let node_cold = as_the_node(0, "journal-cold")?;
	let node_warm = as_the_node(CHANNELS_READ_PER_BLOCK, "journal-warm")?;

	print_row("signature check alone", count, verify);
	println!("  the desk (JSON parse, checks, signature), best voucher in memory:");
	print_row(
		"    reading the channel for each voucher (runtime: channel + lane)",
		count,
		memory_cold,
	);
	print_row("    the channel already read at this block", count, memory_warm);
	println!(
		"  the desk as the node runs it (offchain database + voucher journal, fdatasync before the ack):"
	);
	print_row(
		"    reading the channel for each voucher (runtime: channel + lane)",
		count,
		node_cold,
	);
	print_row("    the channel already read at this block", count, node_warm);
	let _entered = runtime.enter();
	drop(service);
	Ok(())
}
