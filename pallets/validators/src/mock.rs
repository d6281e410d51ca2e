//! A test runtime with the pallets a validator set is made of: Balances, Authorship, Collator
//! Selection, Session (with its historical roots), Offences and Validators, in the order the
//! real runtime declares them.

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, FindAuthor},
	PalletId,
};
use frame_system::EnsureRoot;
use pallet_collator_selection::IdentityCollator;
use sp_runtime::{
	testing::UintAuthorityId, traits::OpaqueKeys, BuildStorage, KeyTypeId, Perbill,
	RuntimeAppPublic,
};

use crate::{self as pallet_validators, UnitIdentification};

pub type AccountId = u64;
type Block = frame_system::mocking::MockBlock<Test>;

pub const EXISTENTIAL_DEPOSIT: u64 = 5;
pub const BOND: u64 = 100;
pub const SESSION_LENGTH: u64 = 5;
pub const MAX_SESSION_LENGTH: u64 = 10;
pub const REWARD: u64 = 3;
pub const MIN_SLASH: Perbill = Perbill::from_percent(10);
pub const KEEP_SESSIONS: u32 = 4;
pub const UNBONDING_SESSIONS: u32 = 3;
pub const MAX_CANDIDATES: u32 = 4;
/// Accounts 1 and 2 are invulnerables; 1 to 4 have session keys at genesis; 1 to 9 have funds.
pub const INVULNERABLES: [AccountId; 2] = [1, 2];

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Authorship: pallet_authorship,
		CollatorSelection: pallet_collator_selection,
		Session: pallet_session,
		Historical: pallet_session::historical,
		Offences: pallet_offences,
		Validators: pallet_validators,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type ExistentialDeposit = ConstU64<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
}

parameter_types! {
	/// The author of the block being built; tests change it.
	pub static Author: AccountId = 1;
}

pub struct TestAuthor;
impl FindAuthor<AccountId> for TestAuthor {
	fn find_author<'a, I>(_: I) -> Option<AccountId>
	where
		I: 'a + IntoIterator<Item = (frame_support::ConsensusEngineId, &'a [u8])>,
	{
		Some(Author::get())
	}
}

impl pallet_authorship::Config for Test {
	type FindAuthor = TestAuthor;
	type EventHandler = (CollatorSelection, Validators);
}

parameter_types! {
	pub const PotId: PalletId = PalletId(*b"PotStake");
}

impl pallet_collator_selection::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type UpdateOrigin = EnsureRoot<AccountId>;
	type PotId = PotId;
	type MaxCandidates = ConstU32<MAX_CANDIDATES>;
	type MinEligibleCollators = ConstU32<1>;
	type MaxInvulnerables = ConstU32<4>;
	type KickThreshold = pallet_validators::KickThreshold<Test>;
	type ValidatorId = AccountId;
	type ValidatorIdOf = IdentityCollator;
	type ValidatorRegistration = Session;
	type WeightInfo = ();
}

sp_runtime::impl_opaque_keys! {
	pub struct TestKeys {
		pub aura: UintAuthorityId,
	}
}

parameter_types! {
	/// The authorities the session pallet last handed to consensus.
	pub static Authorities: Vec<AccountId> = Vec::new();
	/// Whether the last session change changed the authorities.
	pub static AuthoritiesChanged: bool = false;
}

/// Stands in for Aura and GRANDPA: records the authority set consensus would get.
pub struct TestSessionHandler;
impl pallet_session::SessionHandler<AccountId> for TestSessionHandler {
	const KEY_TYPE_IDS: &'static [KeyTypeId] = &[UintAuthorityId::ID];
	fn on_genesis_session<Ks: OpaqueKeys>(validators: &[(AccountId, Ks)]) {
		Authorities::set(validators.iter().map(|(who, _)| *who).collect());
	}
	fn on_new_session<Ks: OpaqueKeys>(
		changed: bool,
		validators: &[(AccountId, Ks)],
		_queued: &[(AccountId, Ks)],
	) {
		AuthoritiesChanged::set(changed);
		Authorities::set(validators.iter().map(|(who, _)| *who).collect());
	}
	fn on_disabled(_: u32) {}
}

impl pallet_session::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = IdentityCollator;
	type ShouldEndSession = Validators;
	type NextSessionRotation = Validators;
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Test, Validators>;
	type SessionHandler = TestSessionHandler;
	type Keys = TestKeys;
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = ConstU64<0>;
}

impl pallet_session::historical::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = UnitIdentification;
}

impl pallet_offences::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Test>;
	type OnOffenceHandler = Validators;
}

parameter_types! {
	pub const MinSlash: Perbill = MIN_SLASH;
}

impl pallet_validators::Config for Test {
	type RewardCurrency = Balances;
	type AdminOrigin = EnsureRoot<AccountId>;
	type MinSlash = MinSlash;
	type KeepHistoricalSessions = ConstU32<KEEP_SESSIONS>;
	type UnbondingSessions = ConstU32<UNBONDING_SESSIONS>;
	type MinSessionLength = ConstU64<2>;
	type MaxSessionLength = ConstU64<MAX_SESSION_LENGTH>;
	type WeightInfo = ();
}

pub fn keys(who: AccountId) -> TestKeys {
	TestKeys { aura: UintAuthorityId(who) }
}

/// What `author_rotateKeysWithOwner` gives an operator: a proof that `who` holds the keys.
pub fn proof(who: AccountId) -> Vec<u8> {
	use codec::Encode;
	keys(who).create_ownership_proof(&who.encode()).expect("test keys sign").encode()
}

pub struct ExtBuilder {
	invulnerables: Vec<AccountId>,
	key_holders: Vec<AccountId>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { invulnerables: INVULNERABLES.to_vec(), key_holders: vec![1, 2, 3, 4] }
	}
}

impl ExtBuilder {
	/// No invulnerables in genesis, as a chain spec edited by zombienet has.
	pub fn without_invulnerables(mut self) -> Self {
		self.invulnerables.clear();
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let pot = CollatorSelection::account_id();
		pallet_balances::GenesisConfig::<Test> {
			balances: (1..=9).map(|who| (who, 1_000)).chain([(pot, EXISTENTIAL_DEPOSIT)]).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_collator_selection::GenesisConfig::<Test> {
			invulnerables: self.invulnerables,
			candidacy_bond: BOND,
			desired_candidates: 2,
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_session::GenesisConfig::<Test> {
			keys: self.key_holders.iter().map(|&who| (who, who, keys(who))).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_validators::GenesisConfig::<Test> {
			session_length: SESSION_LENGTH,
			block_reward: REWARD,
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Validators::do_try_state().expect("storage invariants hold");
		})
	}
}

/// Runs whole blocks up to `n`, each authored by [`Author`], with every pallet's hooks.
pub fn run_to_block(n: u64) {
	use frame_support::traits::{OnFinalize, OnInitialize};
	while System::block_number() < n {
		let now = System::block_number();
		AllPalletsWithSystem::on_finalize(now);
		System::set_block_number(now + 1);
		AllPalletsWithSystem::on_initialize(now + 1);
	}
}

/// Runs blocks until session `index` has started.
pub fn run_to_session(index: u32) {
	while Session::current_index() < index {
		run_to_block(System::block_number() + 1);
	}
}

/// This pallet's events, oldest first.
pub fn validator_events() -> Vec<pallet_validators::Event<Test>> {
	System::read_events_for_pallet::<pallet_validators::Event<Test>>()
}
