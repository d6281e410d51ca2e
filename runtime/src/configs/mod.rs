//! Configuration of every pallet in the runtime.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{
		tokens::imbalance::ResolveTo, ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, Contains,
		VariantCountOf,
	},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	offchain::{CreateAuthorizedTransaction, CreateBare, CreateTransaction, CreateTransactionBase},
	EnsureRoot,
};
use frame_support::PalletId;
use pallet_collator_selection::{IdentityCollator, StakingPotAccountId};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{generic::Era, traits::One, transaction_validity::TransactionPriority, Perbill};
use sp_version::RuntimeVersion;

use super::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, CollatorSelection, Hash, Historical,
	Nonce, Offences, PalletInfo, Payments, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Session, SessionKeys, System, TxExtension,
	UncheckedExtrinsic, Validators, BLOCK_HASH_COUNT, DAYS, EXISTENTIAL_DEPOSIT, HOURS,
	MILLI_SECS_PER_BLOCK, MILLI_UNIT, MINUTES, SLOT_DURATION, SS58_PREFIX, UNIT, VERSION,
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

/// Calls the runtime closes, each because a safer one replaces it:
/// - the session pallet's `purge_keys` (use `validators.purgeKeys`, which refuses while the
///   account validates: a set whose members removed their keys would be left without keys);
/// - collator selection's `leave_intent`, `update_bond` and `take_candidate_slot`, which return
///   a bond at once (use `validators.leave`, `updateBond` and `takeCandidateSlot`: the bond
///   unbonds, so an offence reported after it was given up is still punished).
pub struct ClosedCalls;
impl Contains<RuntimeCall> for ClosedCalls {
	fn contains(call: &RuntimeCall) -> bool {
		use pallet_collator_selection::Call as Candidacy;
		!matches!(
			call,
			RuntimeCall::Session(pallet_session::Call::purge_keys { .. }) |
				RuntimeCall::CollatorSelection(
					Candidacy::leave_intent { .. } |
						Candidacy::update_bond { .. } |
						Candidacy::take_candidate_slot { .. }
				)
		)
	}
}

/// The default types come from `SolochainDefaultConfig`; what differs is set here.
#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type BaseCallFilter = ClosedCalls;
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

/// The most authorities Aura and GRANDPA take: every invulnerable and every candidate fits.
pub const MAX_AUTHORITIES: u32 = 32;
const MAX_INVULNERABLES: u32 = 8;
const MAX_CANDIDATES: u32 = MAX_AUTHORITIES - MAX_INVULNERABLES;
/// Past sessions whose validator sets stay provable, so an equivocation can be reported that
/// long after it happened (GRANDPA's set-to-session map keeps as many entries).
pub const REPORTABLE_SESSIONS: u32 = 168;

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	// A validator disabled for an offence may not author: its blocks are invalid.
	type DisabledValidators = Session;
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

parameter_types! {
	/// How long (in blocks) an equivocation report stays valid in the transaction pool.
	pub const ReportLongevity: u64 = 600;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// Reference weights (pallet-grandpa's own, for its equivocation checks).
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<{ REPORTABLE_SESSIONS as u64 }>;
	// An equivocation is proven against the historical session of its set: the offender's key
	// belonged to that session's validators. The offences pallet dedups reports and hands them
	// to the validators pallet, which slashes.
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Aura>;
	// Collator selection pays the author half of the fee pot and notes it as alive; the
	// validators pallet counts its blocks and mints the block reward.
	type EventHandler = (CollatorSelection, Validators);
}

parameter_types! {
	pub const PotId: PalletId = PalletId(*b"PotStake");
}

impl pallet_collator_selection::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type UpdateOrigin = EnsureRoot<AccountId>;
	type PotId = PotId;
	type MaxCandidates = ConstU32<MAX_CANDIDATES>;
	type MinEligibleCollators = ConstU32<1>;
	type MaxInvulnerables = ConstU32<MAX_INVULNERABLES>;
	type KickThreshold = pallet_validators::KickThreshold<Runtime>;
	type ValidatorId = AccountId;
	type ValidatorIdOf = IdentityCollator;
	type ValidatorRegistration = Session;
	type WeightInfo = pallet_collator_selection::weights::SubstrateWeight<Runtime>;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = IdentityCollator;
	type ShouldEndSession = Validators;
	type NextSessionRotation = Validators;
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, Validators>;
	type SessionHandler = <SessionKeys as sp_runtime::traits::OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	/// Held while an account has session keys, so registering keys is not free storage.
	type KeyDeposit = ConstU128<UNIT>;
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = pallet_validators::UnitIdentification;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = Validators;
}

parameter_types! {
	/// An offender loses at least a tenth of its bond, even when GRANDPA's own fraction
	/// ((3k/n)², k offenders of n) is smaller.
	pub const MinSlash: Perbill = Perbill::from_percent(10);
}

impl pallet_validators::Config for Runtime {
	type RewardCurrency = Balances;
	type AdminOrigin = EnsureRoot<AccountId>;
	type MinSlash = MinSlash;
	type KeepHistoricalSessions = ConstU32<REPORTABLE_SESSIONS>;
	// Six sessions (six minutes on the test networks): GRANDPA equivocations are reported by
	// the honest nodes within seconds of the second vote.
	type UnbondingSessions = ConstU32<6>;
	type MinSessionLength = ConstU32<2>;
	// Sessions of at most ten minutes; a candidate that authors nothing for half an hour is
	// dropped and its bond returned.
	type MaxSessionLength = ConstU32<{ 10 * MINUTES }>;
	type WeightInfo = pallet_validators::weights::SubstrateWeight<Runtime>;
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
	// Fees (and tips) go to collator selection's pot; each block's author takes half of it.
	type OnChargeTransaction =
		FungibleAdapter<Balances, ResolveTo<StakingPotAccountId<Runtime>, Balances>>;
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
	type ForceOrigin = EnsureRoot<AccountId>;
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

/// Equivocation reports are submitted unsigned by the node that saw the two votes; the
/// runtime checks the proofs and includes at most the first report of each offence.
impl<LocalCall> CreateBare<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
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
