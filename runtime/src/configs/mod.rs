//! Configuration of every pallet in the runtime.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	offchain::{CreateAuthorizedTransaction, CreateTransaction, CreateTransactionBase},
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{generic::Era, traits::One, transaction_validity::TransactionPriority, Perbill};
use sp_version::RuntimeVersion;

use super::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, Hash, Nonce, PalletInfo, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask,
	Payments, System, TxExtension, UncheckedExtrinsic, BLOCK_HASH_COUNT, DAYS, EXISTENTIAL_DEPOSIT,
	HOURS, MILLI_SECS_PER_BLOCK, MILLI_UNIT, SLOT_DURATION, SS58_PREFIX, UNIT, VERSION,
};

const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	pub const BlockHashCount: BlockNumber = BLOCK_HASH_COUNT;
	pub const Version: RuntimeVersion = VERSION;

	/// Two seconds of compute per block, of which 75% is for normal transactions.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB per block, of which 75% is for normal transactions.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

/// The default types come from `SolochainDefaultConfig`; what differs is set here.
#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	// ParityDB has the same per-read/write cost profile as this reference.
	// The node stores state in ParityDB (there is no RocksDB in the build).
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// A timestamp: milliseconds since the unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Held for each registered stream and returned when it is removed: enough that filling the
	/// registry costs real money, little enough that a creator does not think twice.
	pub const StreamDeposit: Balance = UNIT;
}

impl pallet_streams::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	// An open channel to the creator, funded for `AccessGraceSeconds`, gives access.
	type ChannelAccess = Payments;
	type ForceOrigin = frame_system::EnsureRoot<AccountId>;
	type StreamDeposit = StreamDeposit;
	type MaxTitleLength = ConstU32<128>;
	type MaxDescriptionLength = ConstU32<512>;
	type MaxOriginLength = ConstU32<256>;
	type MaxStreamsPerCreator = ConstU32<64>;
	type MaxTokensPerStream = ConstU32<1_000>;
	type MillisecsPerBlock = ConstU64<MILLI_SECS_PER_BLOCK>;
	type WeightInfo = pallet_streams::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// The smallest channel: ten times the existential deposit, so channels are not dust.
	pub const ChannelMinDeposit: Balance = 10 * MILLI_UNIT;
	/// An authorized (free) claim must move at least this much: about three times the fee a
	/// signed claim would pay, and no less than the existential deposit a new payee needs.
	pub const MinAuthorizedClaim: Balance = MILLI_UNIT;
	/// Free claims come after every signed transaction (whose priority is at least 1 from
	/// transaction payment): they cost their submitter nothing, so they must never push out a
	/// paying transaction.
	pub const ClaimPriority: TransactionPriority = 0;
}

impl pallet_payments::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Signature = pallet_payments::VoucherSignature;
	type Signer = pallet_payments::VoucherSigner;
	type MinDeposit = ChannelMinDeposit;
	type ChallengePeriod = ConstU32<HOURS>;
	type InactivityPeriod = ConstU32<{ 30 * DAYS }>;
	type MaxChannelsPerPayer = ConstU32<32>;
	// A lane per node that delivers: an origin and a handful of relays.
	type MaxLanesPerChannel = ConstU32<16>;
	type AccessGraceSeconds = ConstU32<30>;
	type MinAuthorizedClaim = MinAuthorizedClaim;
	type ClaimRetryBlocks = ConstU32<10>;
	type ClaimPriority = ClaimPriority;
	// A few dozen free claims a block is ample for settling (each node claims a channel at most
	// once a minute) and bounds what self-dealing claims can take of a block.
	type MaxAuthorizedClaimsPerBlock = ConstU32<50>;
	// One free claim per channel per minute (10 blocks of 6 s).
	type AuthorizedClaimGap = ConstU32<10>;
	type MaxOffchainClaimChecks = ConstU32<100>;
	type WeightInfo = pallet_payments::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_payments::KeystoreBenchmarkHelper;
}

impl<LocalCall> CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<LocalCall> CreateTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extension = TxExtension;

	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_transaction(call, extension)
	}
}

/// Offchain workers submit authorized calls (voucher claims) as general transactions: no
/// signer, no nonce, no fee; `AuthorizeCall` validates them by the call's own rules.
impl<LocalCall> CreateAuthorizedTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_extension() -> TxExtension {
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(0),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
			frame_system::WeightReclaim::<Runtime>::new(),
		)
	}
}
