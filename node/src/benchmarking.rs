//! Extrinsic builders and inherent data for the `benchmark overhead` and
//! `benchmark extrinsic` commands.

use std::{sync::Arc, time::Duration};

use sc_cli::Result;
use sc_client_api::{BlockBackend, HeaderBackend};
use sp_inherents::{InherentData, InherentDataProvider};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{OpaqueExtrinsic, SaturatedConversion};
use sutantra_runtime::{AccountId, Balance, BalancesCall, RuntimeCall, SystemCall, VERSION};

use crate::{
	extrinsic::{self, SigningContext},
	service::FullClient,
};

/// Generates `System::remark` extrinsics for the benchmarks.
pub struct RemarkBuilder {
	client: Arc<FullClient>,
}

impl RemarkBuilder {
	/// Creates a new [`Self`] from the given client.
	pub fn new(client: Arc<FullClient>) -> Self {
		Self { client }
	}
}

impl frame_benchmarking_cli::ExtrinsicBuilder for RemarkBuilder {
	fn pallet(&self) -> &str {
		"system"
	}

	fn extrinsic(&self) -> &str {
		"remark"
	}

	fn build(&self, nonce: u32) -> std::result::Result<OpaqueExtrinsic, &'static str> {
		signed_by_bob(&self.client, SystemCall::remark { remark: vec![] }.into(), nonce)
	}
}

/// Generates `Balances::transfer_keep_alive` extrinsics for the benchmarks.
pub struct TransferKeepAliveBuilder {
	client: Arc<FullClient>,
	dest: AccountId,
	value: Balance,
}

impl TransferKeepAliveBuilder {
	/// Creates a new [`Self`] from the given client.
	pub fn new(client: Arc<FullClient>, dest: AccountId, value: Balance) -> Self {
		Self { client, dest, value }
	}
}

impl frame_benchmarking_cli::ExtrinsicBuilder for TransferKeepAliveBuilder {
	fn pallet(&self) -> &str {
		"balances"
	}

	fn extrinsic(&self) -> &str {
		"transfer_keep_alive"
	}

	fn build(&self, nonce: u32) -> std::result::Result<OpaqueExtrinsic, &'static str> {
		let call = BalancesCall::transfer_keep_alive {
			dest: self.dest.clone().into(),
			value: self.value,
		};
		signed_by_bob(&self.client, call.into(), nonce)
	}
}

fn signed_by_bob(
	client: &FullClient,
	call: RuntimeCall,
	nonce: u32,
) -> std::result::Result<OpaqueExtrinsic, &'static str> {
	let genesis_hash =
		client.block_hash(0).ok().flatten().ok_or("the database has no genesis block")?;
	let info = client.info();
	let period = u64::from(sutantra_runtime::BLOCK_HASH_COUNT)
		.checked_next_power_of_two()
		.map(|c| c / 2)
		.unwrap_or(2);
	let context = SigningContext {
		genesis_hash,
		spec_version: VERSION.spec_version,
		transaction_version: VERSION.transaction_version,
		mortality: Some((period, info.best_number.saturated_into(), info.best_hash)),
	};
	let signed = extrinsic::sign(&Sr25519Keyring::Bob.pair(), call, nonce, &context);
	Ok(signed.into())
}

/// Inherent data for the `benchmark overhead` command.
pub fn inherent_benchmark_data() -> Result<InherentData> {
	let mut inherent_data = InherentData::new();
	let timestamp = sp_timestamp::InherentDataProvider::new(Duration::from_millis(0).into());
	futures::executor::block_on(timestamp.provide_inherent_data(&mut inherent_data))
		.map_err(|e| format!("creating inherent data: {e:?}"))?;
	Ok(inherent_data)
}
