//! Building signed Sutantra transactions with the runtime's own types.
//!
//! One place knows the order and the implicit data of the runtime's transaction extensions;
//! the RPC client, the benchmarks and the tests all sign through [`sign`].

use codec::Encode;
use sp_core::{sr25519, Pair};
use sp_runtime::generic::Era;
use sutantra_runtime::{
	Hash, Nonce, Runtime, RuntimeCall, Signature, SignedPayload, TxExtension, UncheckedExtrinsic,
};

/// What a signature commits to besides the call: which chain and runtime, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct SigningContext {
	/// Hash of block 0: the transaction is only valid on this chain.
	pub genesis_hash: Hash,
	/// `spec_version` of the runtime the transaction is built for.
	pub spec_version: u32,
	/// `transaction_version` of the runtime the transaction is built for.
	pub transaction_version: u32,
	/// Mortality: `Some((period, (number, hash) of the block it starts at))`, `None` = immortal.
	pub mortality: Option<(u64, u64, Hash)>,
}

/// Signs `call` as `signer` with the given account nonce and no tip.
pub fn sign(
	signer: &sr25519::Pair,
	call: RuntimeCall,
	nonce: Nonce,
	context: &SigningContext,
) -> UncheckedExtrinsic {
	let (era, era_start) = match context.mortality {
		Some((period, number, hash)) => (Era::mortal(period, number), hash),
		None => (Era::Immortal, context.genesis_hash),
	};
	let extension: TxExtension = (
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(era),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	let implicit = (
		(),
		(),
		context.spec_version,
		context.transaction_version,
		context.genesis_hash,
		era_start,
		(),
		(),
		(),
		None,
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		sp_runtime::AccountId32::from(signer.public()).into(),
		Signature::Sr25519(signature),
		extension,
	)
}

/// The hash a node reports for a transaction: blake2-256 of its encoding.
pub fn hash(extrinsic: &UncheckedExtrinsic) -> Hash {
	sp_crypto_hashing::blake2_256(&extrinsic.encode()).into()
}
