//! `sutantra-node validator ...`: joining the validator set by bonding, leaving it, and taking
//! the bond back.

use codec::Decode;
use pallet_validators_runtime_api::{SessionStatus, ValidatorStatus};
use serde_json::json;
use sp_core::{crypto::Ss58Codec, Pair};
use sp_runtime::traits::Get;
use sutantra_runtime::{AccountId, Balance, BlockNumber, Runtime, RuntimeCall, SessionKeys};

use super::{fail, format_amount, signer, Failure, Outcome, Session};
use crate::{chain_client::plain_storage_key, cli::ValidatorCmd};

type Validator = ValidatorStatus<AccountId, Balance>;

async fn validator(session: &Session, who: &AccountId) -> Result<Validator, Failure> {
	Ok(session.chain.runtime_call("ValidatorsApi_validator", who, None, "a validator").await?)
}

async fn round(session: &Session) -> Result<SessionStatus<BlockNumber>, Failure> {
	Ok(session.chain.runtime_call("ValidatorsApi_session", (), None, "the session").await?)
}

pub(super) async fn run(cmd: &ValidatorCmd) -> Outcome {
	match cmd {
		ValidatorCmd::Join { client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			join(&session, &key).await
		},
		ValidatorCmd::Leave { client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			leave(&session, &key).await
		},
		ValidatorCmd::Withdraw { client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			withdraw(&session, &key).await
		},
	}
}

/// The node at --rpc makes session keys owned by the signer's account; the account registers
/// them and bonds.
async fn join(session: &Session, key: &sp_core::sr25519::Pair) -> Outcome {
	let me: AccountId = key.public().into();
	let rpc = &session.args.rpc;
	let status = validator(session, &me).await?;
	if status.invulnerable || status.bond.is_some() {
		return fail(format!(
			"{} is already a validator ({}); `sutantra-node status` on its node shows how it does",
			me.to_ss58check(),
			if status.invulnerable { "an invulnerable" } else { "a candidate" }
		));
	}
	// Keys made by a node that does not run as a validator would never author or vote.
	let roles = session.chain.node_roles().await?;
	if !roles.iter().any(|role| role == "Authority") {
		return fail(format!(
			"the node at {rpc} does not run as a validator (its roles: {}): start it with \
			 --validator, then run this again against its RPC",
			roles.join(", ")
		));
	}
	let bond: Balance = session
		.chain
		.storage(
			plain_storage_key("CollatorSelection", "CandidacyBond"),
			None,
			"the candidacy bond",
		)
		.await?
		.unwrap_or_default();
	let deposit: Balance = <Runtime as pallet_session::Config>::KeyDeposit::get();
	let have_keys = match &status.keys {
		Some(keys) => session.chain.has_session_keys(keys).await.unwrap_or(false),
		None => false,
	};
	let need = if have_keys { bond } else { bond.saturating_add(deposit) };
	session.ensure_funds(&me, need, "the candidacy bond and the session keys' deposit").await?;

	if have_keys {
		if !session.args.json {
			eprintln!("✔ the keys {} registered are in this node's keystore", me.to_ss58check());
		}
	} else {
		let (keys, proof) = session.chain.rotate_keys_with_owner(&me).await.map_err(|error| {
			Failure(format!(
				"the node at {rpc} did not make session keys ({error}): author_rotateKeysWithOwner \
				 is an unsafe RPC method, which a node answers only on its local RPC; run this on \
				 the validator's machine against its own RPC (ws://127.0.0.1:9944)"
			))
		})?;
		let Some(proof) = proof else {
			return fail("the node made keys without an ownership proof: it is older than this runtime; upgrade it");
		};
		let keys = SessionKeys::decode(&mut &keys[..]).map_err(|error| {
			Failure(format!("the node's session keys do not fit this runtime ({error}): is it running this chain?"))
		})?;
		let call = RuntimeCall::Session(pallet_session::Call::set_keys { keys, proof });
		session.submit(key, call, "registering the node's session keys").await?;
	}
	let call =
		RuntimeCall::CollatorSelection(pallet_collator_selection::Call::register_as_candidate {});
	session.submit(key, call, "bonding").await?;

	let now = round(session).await?;
	session.print(
		json!({
			"account": me.to_ss58check(),
			"bond": bond.to_string(),
			"session": now.index,
			"validating_from_session": now.index + 2,
			"validating_from_block": now.end.saturating_add(now.length),
		}),
		|| {
			format!(
				"{} bonded {}: it validates from session {} (block #{}) if its bond holds a seat; \
				 `sutantra-node status` shows when",
				me.to_ss58check(),
				format_amount(bond),
				now.index + 2,
				now.end.saturating_add(now.length),
			)
		},
	);
	Ok(())
}

/// Gives up the candidacy; the bond stays reserved, and slashable, while it unbonds.
async fn leave(session: &Session, key: &sp_core::sr25519::Pair) -> Outcome {
	let me: AccountId = key.public().into();
	let status = validator(session, &me).await?;
	if status.invulnerable {
		return fail(format!(
			"{} is an invulnerable, chosen without a bond: only root removes it \
			 (collatorSelection.removeInvulnerable)",
			me.to_ss58check()
		));
	}
	let Some(bond) = status.bond else {
		return fail(format!(
			"{} is not a candidate: there is nothing to leave",
			me.to_ss58check()
		));
	};
	let call = RuntimeCall::Validators(pallet_validators::Call::leave {});
	session.submit(key, call, "leaving").await?;
	let after = validator(session, &me).await?;
	let until = after.unbonding.as_ref().map(|unbonding| unbonding.until);
	session.print(
		json!({ "account": me.to_ss58check(), "unbonding": bond.to_string(), "withdraw_from_session": until }),
		|| match until {
			Some(until) => format!(
				"{} left: its bond of {} unbonds until session {until}; then run \
				 `sutantra-node validator withdraw`",
				me.to_ss58check(),
				format_amount(bond)
			),
			None => format!("{} left; its bond of {} was returned", me.to_ss58check(), format_amount(bond)),
		},
	);
	Ok(())
}

/// Returns a bond whose unbonding period is over.
async fn withdraw(session: &Session, key: &sp_core::sr25519::Pair) -> Outcome {
	let me: AccountId = key.public().into();
	let status = validator(session, &me).await?;
	let Some(unbonding) = status.unbonding else {
		return fail(format!(
			"{} has nothing unbonding: leave first (`sutantra-node validator leave`)",
			me.to_ss58check()
		));
	};
	let now = round(session).await?;
	if now.index < unbonding.until {
		let best = session.chain.best_number().await?;
		let blocks = now.end.saturating_sub(best) + now.length * (unbonding.until - now.index - 1);
		return fail(format!(
			"{} of {} is unbonding until session {}; this is session {} (about {} more blocks): \
			 run this again then",
			format_amount(unbonding.amount),
			me.to_ss58check(),
			unbonding.until,
			now.index,
			blocks,
		));
	}
	let call = RuntimeCall::Validators(pallet_validators::Call::withdraw_unbonded {});
	session.submit(key, call, "withdrawing the bond").await?;
	session.print(
		json!({ "account": me.to_ss58check(), "withdrawn": unbonding.amount.to_string() }),
		|| format!("{} took back {}", me.to_ss58check(), format_amount(unbonding.amount)),
	);
	Ok(())
}
