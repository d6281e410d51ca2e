//! `sutantra-node validator ...`: joining the validator set by bonding, leaving it, and taking
//! the bond back.

use codec::Decode;
use pallet_validators_runtime_api::{SessionStatus, ValidatorStatus};
use serde_json::json;
use sp_core::{crypto::Ss58Codec, Pair};
use sp_runtime::traits::Get;
use sutantra_runtime::{
	AccountId, Balance, BlockNumber, Runtime, RuntimeCall, RuntimeEvent, SessionKeys,
};

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
			"{} is already {}; `sutantra-node status` on its node shows how it does",
			me.to_ss58check(),
			if status.invulnerable { "an invulnerable validator" } else { "a candidate" }
		));
	}
	if let Some(unbonding) = &status.unbonding {
		if !session.args.json {
			eprintln!(
				"note: {} of an earlier bond is still unbonding (until session {}); it stays apart \
				 from the new bond",
				format_amount(unbonding.amount),
				unbonding.until
			);
		}
	}
	// Keys made by a node that does not run as a validator, or that is not in step with the
	// network, would never author or vote: on a small set that stops finality.
	let roles = session.chain.node_roles().await?;
	if !roles.iter().any(|role| role == "Authority") {
		return fail(format!(
			"the node at {rpc} does not run as a validator (its roles: {}): start it with \
			 --validator, then run this again against its RPC",
			roles.join(", ")
		));
	}
	let health = session.chain.health().await?;
	if health.is_syncing || (health.peers == 0 && health.should_have_peers) {
		return fail(format!(
			"the node at {rpc} is {}: join once it is in step with the network \
			 (`sutantra-node status --rpc {rpc}`)",
			if health.is_syncing { "still syncing" } else { "not connected to any peer" }
		));
	}

	// A seat: the list must have room, and the bond must beat the smallest of the seated ones.
	let bond: Balance = session
		.chain
		.storage(
			plain_storage_key("CollatorSelection", "CandidacyBond"),
			None,
			"the candidacy bond",
		)
		.await?
		.unwrap_or_default();
	let candidates: Vec<pallet_collator_selection::CandidateInfo<AccountId, Balance>> = session
		.chain
		.storage(plain_storage_key("CollatorSelection", "CandidateList"), None, "the candidates")
		.await?
		.unwrap_or_default();
	let seats: u32 = session
		.chain
		.storage(
			plain_storage_key("CollatorSelection", "DesiredCandidates"),
			None,
			"the candidate seats",
		)
		.await?
		.unwrap_or_default();
	let max = <<Runtime as pallet_collator_selection::Config>::MaxCandidates as Get<u32>>::get();
	if candidates.len() as u32 >= max {
		return fail(format!(
			"the candidate list is full ({max}): outbid the smallest bond with \
			 validators.takeCandidateSlot(bond, target) in polkadot.js apps (its bond is {})",
			format_amount(candidates.first().map(|c| c.deposit).unwrap_or_default())
		));
	}
	// The list is sorted by bond, smallest first; the largest `seats` bonds are chosen.
	let seated = candidates.len() < seats as usize
		|| candidates
			.get(candidates.len() - seats as usize)
			.is_some_and(|smallest_seated| smallest_seated.deposit < bond);

	// The key deposit is held only for an account's first keys.
	let deposit: Balance = <Runtime as pallet_session::Config>::KeyDeposit::get();
	let have_keys = match &status.keys {
		Some(keys) => session.chain.has_session_keys(keys).await.unwrap_or(false),
		None => false,
	};
	let need = if status.keys.is_some() { bond } else { bond.saturating_add(deposit) };
	session.ensure_funds(&me, need, "the candidacy bond and the session keys' deposit").await?;

	if have_keys {
		if !session.args.json {
			eprintln!("✔ the keys {} registered are in this node's keystore", me.to_ss58check());
		}
	} else {
		let (keys, proof) = session.chain.rotate_keys_with_owner(&me).await.map_err(|error| {
			Failure(format!(
				"the node at {rpc} did not make session keys ({error}). author_rotateKeysWithOwner \
				 is an unsafe RPC method: a node answers it on its local RPC, unless it runs with \
				 --rpc-methods safe; run this on the validator's machine against its own RPC"
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
	let included = session.submit(key, call, "bonding").await?;

	// The session of the block the bond is in: chosen at the next session change, in the set
	// from the one after.
	let then: SessionStatus<BlockNumber> = session
		.chain
		.runtime_call("ValidatorsApi_session", (), Some(included.block_hash), "the session")
		.await?;
	let from_session = then.index + 2;
	let from_block = then.end.saturating_add(then.length);
	session.print(
		json!({
			"account": me.to_ss58check(),
			"bond": bond.to_string(),
			"session": then.index,
			"seat": seated,
			"validating_from_session": seated.then_some(from_session),
			"validating_from_block": seated.then_some(from_block),
		}),
		|| {
			if seated {
				format!(
					"{} bonded {}: it validates from session {from_session} (block #{from_block}); \
					 `sutantra-node status` shows when",
					me.to_ss58check(),
					format_amount(bond),
				)
			} else {
				format!(
					"{} bonded {}, but all {seats} seats hold larger bonds: it is a candidate \
					 without a seat, and is dropped (its bond unbonding) if it authors nothing for \
					 a while. Raise the bond with validators.updateBond to take a seat",
					me.to_ss58check(),
					format_amount(bond),
				)
			}
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
	if status.bond.is_none() {
		return fail(match &status.unbonding {
			Some(unbonding) => format!(
				"{} is not a candidate (it left, or was dropped or outbid): {} is unbonding until \
				 session {}; then run `sutantra-node validator withdraw`",
				me.to_ss58check(),
				format_amount(unbonding.amount),
				unbonding.until
			),
			None => format!("{} is not a candidate: there is nothing to leave", me.to_ss58check()),
		});
	}
	let call = RuntimeCall::Validators(pallet_validators::Call::leave {});
	let included = session.submit(key, call, "leaving").await?;
	let unbonding = super::find_event(&included, |event| match event {
		RuntimeEvent::Validators(pallet_validators::Event::Unbonding { who, amount, until })
			if *who == me =>
		{
			Some((*amount, *until))
		},
		_ => None,
	});
	let then: SessionStatus<BlockNumber> = session
		.chain
		.runtime_call("ValidatorsApi_session", (), Some(included.block_hash), "the session")
		.await?;
	// Chosen for this session and the next already: it validates until the one after.
	let out_from = then.index + 2;
	let out_block = then.end.saturating_add(then.length);
	session.print(
		json!({
			"account": me.to_ss58check(),
			"unbonding": unbonding.map(|(amount, _)| amount.to_string()),
			"withdraw_from_session": unbonding.map(|(_, until)| until),
			"validating_until_session": out_from,
		}),
		|| {
			let money = match unbonding {
				Some((amount, until)) => format!(
					"{} unbonds until session {until}; then run `sutantra-node validator withdraw`",
					format_amount(amount)
				),
				None => "nothing unbonds".into(),
			};
			format!(
				"{} left the candidates. Keep the node running: it validates until session \
				 {out_from} starts (block #{out_block}). {money}. After that, \
				 validators.purgeKeys returns the keys' deposit",
				me.to_ss58check(),
			)
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
	let included = session.submit(key, call, "withdrawing the bond").await?;
	let withdrawn = super::find_event(&included, |event| match event {
		RuntimeEvent::Validators(pallet_validators::Event::Withdrawn { who, amount })
			if *who == me =>
		{
			Some(*amount)
		},
		_ => None,
	})
	.ok_or_else(|| Failure("the chain returned nothing (no Withdrawn event)".into()))?;
	session
		.print(json!({ "account": me.to_ss58check(), "withdrawn": withdrawn.to_string() }), || {
			format!("{} took back {}", me.to_ss58check(), format_amount(withdrawn))
		});
	Ok(())
}
