//! A test runtime: System, Balances, Streams and Payments, with real sr25519 accounts and an
//! extrinsic type that carries the `AuthorizeCall` extension, as the real runtime does.

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, VariantCountOf},
};
use frame_system::offchain::{
	CreateAuthorizedTransaction, CreateTransaction, CreateTransactionBase,
};
use sp_core::{sr25519, Pair};
use sp_keystore::{testing::MemoryKeystore, KeystoreExt};
use sp_runtime::{
	generic,
	traits::{BlakeTwo256, IdentityLookup},
	AccountId32, BuildStorage,
};

use crate::{self as pallet_payments, Voucher, VoucherSignature, VoucherSigner};

pub type AccountId = AccountId32;
pub type Balance = u128;
pub type TxExtension = (frame_system::AuthorizeCall<Test>,);
pub type Extrinsic =
	generic::UncheckedExtrinsic<AccountId, RuntimeCall, sp_runtime::MultiSignature, TxExtension>;
type Block = generic::Block<generic::Header<u64, BlakeTwo256>, Extrinsic>;

pub const EXISTENTIAL_DEPOSIT: Balance = 10;
pub const MIN_DEPOSIT: Balance = 100;
pub const CHALLENGE_PERIOD: u64 = 10;
pub const INACTIVITY_PERIOD: u64 = 1_000;
pub const MAX_CHANNELS_PER_PAYER: u32 = 3;
pub const ACCESS_GRACE_SECONDS: u32 = 30;
pub const MIN_AUTHORIZED_CLAIM: Balance = 50;
pub const CLAIM_RETRY_BLOCKS: u64 = 5;
pub const CLAIM_PRIORITY: u64 = 1 << 20;
pub const MAX_AUTHORIZED_CLAIMS_PER_BLOCK: u32 = 3;
pub const AUTHORIZED_CLAIM_GAP: u64 = 4;
pub const MAX_OFFCHAIN_CLAIM_CHECKS: u32 = 5;
/// What the rich test accounts start with.
pub const ENDOWMENT: Balance = 1_000_000;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Streams: pallet_streams,
		Payments: pallet_payments,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
}

parameter_types! {
	pub const StreamDeposit: Balance = 1_000;
}

impl pallet_streams::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ChannelAccess = Payments;
	type ForceOrigin = frame_system::EnsureRoot<AccountId>;
	type StreamDeposit = StreamDeposit;
	type MaxTitleLength = ConstU32<16>;
	type MaxDescriptionLength = ConstU32<32>;
	type MaxOriginLength = ConstU32<24>;
	type MaxStreamsPerCreator = ConstU32<4>;
	type MaxTokensPerStream = ConstU32<4>;
	type MillisecsPerBlock = ConstU64<6_000>;
	type WeightInfo = ();
}

impl pallet_payments::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Signature = VoucherSignature;
	type Signer = VoucherSigner;
	type MinDeposit = ConstU128<MIN_DEPOSIT>;
	type ChallengePeriod = ConstU64<CHALLENGE_PERIOD>;
	type InactivityPeriod = ConstU64<INACTIVITY_PERIOD>;
	type MaxChannelsPerPayer = ConstU32<MAX_CHANNELS_PER_PAYER>;
	type MaxLanesPerChannel = ConstU32<3>;
	type AccessGraceSeconds = ConstU32<ACCESS_GRACE_SECONDS>;
	type MinAuthorizedClaim = ConstU128<MIN_AUTHORIZED_CLAIM>;
	type ClaimRetryBlocks = ConstU64<CLAIM_RETRY_BLOCKS>;
	type ClaimPriority = ConstU64<CLAIM_PRIORITY>;
	type MaxAuthorizedClaimsPerBlock = ConstU32<MAX_AUTHORIZED_CLAIMS_PER_BLOCK>;
	type AuthorizedClaimGap = ConstU64<AUTHORIZED_CLAIM_GAP>;
	type MaxOffchainClaimChecks = ConstU32<MAX_OFFCHAIN_CLAIM_CHECKS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::KeystoreBenchmarkHelper;
}

impl<LocalCall> CreateTransactionBase<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<LocalCall> CreateTransaction<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	type Extension = TxExtension;

	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> Extrinsic {
		Extrinsic::new_transaction(call, extension)
	}
}

impl<LocalCall> CreateAuthorizedTransaction<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	fn create_extension() -> TxExtension {
		(frame_system::AuthorizeCall::new(),)
	}
}

thread_local! {
	/// Derived keys, by name: deriving one from the dev phrase runs PBKDF2 and is slow.
	static PAIRS: std::cell::RefCell<std::collections::HashMap<String, sr25519::Pair>> =
		Default::default();
}

/// The sr25519 key of a named dev account ("Alice", "Bob", ...).
pub fn pair(name: &str) -> sr25519::Pair {
	PAIRS.with(|pairs| {
		pairs
			.borrow_mut()
			.entry(name.to_owned())
			.or_insert_with(|| {
				sr25519::Pair::from_string(&format!("//{name}"), None).expect("dev seeds are valid")
			})
			.clone()
	})
}

/// The account of a named dev account.
pub fn account(name: &str) -> AccountId {
	AccountId32::new(pair(name).public().0)
}

/// The creator in most tests (payee).
pub fn alice() -> AccountId {
	account("Alice")
}
/// The viewer in most tests (payer).
pub fn bob() -> AccountId {
	account("Bob")
}
/// Someone else.
pub fn charlie() -> AccountId {
	account("Charlie")
}
/// An account that does not exist yet.
pub fn nobody() -> AccountId {
	account("Nobody")
}

/// The node most tests' vouchers pay through (their lane).
pub fn lane() -> AccountId {
	account("Node")
}

/// `payer`'s signature of `voucher` on this test chain.
pub fn sign(payer: &str, voucher: &Voucher<AccountId, Balance>) -> VoucherSignature {
	VoucherSignature(pair(payer).sign(&Payments::voucher_payload(voucher)))
}

/// Builds test state: Alice, Bob, Charlie and Dave with `ENDOWMENT` each, a keystore for the
/// benchmarks, at block 1.
#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: ["Alice", "Bob", "Charlie", "Dave"]
				.iter()
				.map(|name| (account(name), ENDOWMENT))
				.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Payments::do_try_state().expect("storage invariants hold");
		});
	}
}

/// Moves the chain to block `n`.
pub fn run_to_block(n: u64) {
	System::set_block_number(n);
}

/// The pallet's events so far, oldest first.
pub fn payment_events() -> Vec<pallet_payments::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Payments(event) => Some(event),
			_ => None,
		})
		.collect()
}
