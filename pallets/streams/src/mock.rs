//! A test runtime: System, Balances and Streams, with a payment-channel stub the tests control.

use core::cell::RefCell;

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, VariantCountOf},
};
use sp_runtime::BuildStorage;

use crate::{self as pallet_streams, ChannelAccess, StreamId};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u128;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// An account with nothing but the existential deposit.
pub const POOR: AccountId = 4;
pub const DEPOSIT: Balance = 1_000;
pub const EXISTENTIAL_DEPOSIT: Balance = 10;
pub const MILLISECS_PER_BLOCK: u64 = 6_000;
pub const MAX_STREAMS_PER_CREATOR: u32 = 3;
pub const MAX_TOKENS_PER_STREAM: u32 = 4;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Streams: pallet_streams,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = sp_runtime::traits::IdentityLookup<AccountId>;
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

thread_local! {
	/// (stream, viewer, creator) triples that have a funded payment channel.
	static CHANNELS: RefCell<Vec<(StreamId, AccountId, AccountId)>> = const { RefCell::new(Vec::new()) };
}

/// The tests' payment channels.
pub struct TestChannels;

impl TestChannels {
	pub fn open(stream: StreamId, viewer: AccountId, creator: AccountId) {
		CHANNELS.with(|channels| channels.borrow_mut().push((stream, viewer, creator)));
	}

	pub fn close_all() {
		CHANNELS.with(|channels| channels.borrow_mut().clear());
	}
}

impl ChannelAccess<AccountId, Balance> for TestChannels {
	fn has_funded_channel(
		stream: StreamId,
		viewer: &AccountId,
		creator: &AccountId,
		_price_per_second: Balance,
	) -> bool {
		CHANNELS.with(|channels| channels.borrow().contains(&(stream, *viewer, *creator)))
	}
}

parameter_types! {
	pub const StreamDeposit: Balance = DEPOSIT;
}

impl pallet_streams::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ChannelAccess = TestChannels;
	type ForceOrigin = frame_system::EnsureRoot<AccountId>;
	type StreamDeposit = StreamDeposit;
	type MaxTitleLength = ConstU32<16>;
	type MaxDescriptionLength = ConstU32<32>;
	type MaxOriginLength = ConstU32<24>;
	type MaxStreamsPerCreator = ConstU32<MAX_STREAMS_PER_CREATOR>;
	type MaxTokensPerStream = ConstU32<MAX_TOKENS_PER_STREAM>;
	type MillisecsPerBlock = ConstU64<MILLISECS_PER_BLOCK>;
	type WeightInfo = ();
}

/// Builds test state: Alice, Bob and Charlie rich, `POOR` with just the existential deposit.
#[derive(Default)]
pub struct ExtBuilder;

impl ExtBuilder {
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: vec![
				(ALICE, 1_000_000),
				(BOB, 1_000_000),
				(CHARLIE, 1_000_000),
				(POOR, EXISTENTIAL_DEPOSIT),
			],
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			System::set_block_number(1);
			TestChannels::close_all();
		});
		ext
	}

	/// Runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Streams::do_try_state().expect("storage invariants hold");
		});
	}
}

/// Moves the chain to block `n`.
pub fn run_to_block(n: u64) {
	System::set_block_number(n);
}
