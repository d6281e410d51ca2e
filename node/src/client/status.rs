//! `sutantra-node status`: what a node is doing.

use pallet_validators_runtime_api::{SessionStatus, ValidatorStatus};
use serde_json::json;
use sp_core::crypto::Ss58Codec;
use sutantra_runtime::{apis::StreamInfo, AccountId, Balance, BlockNumber};
use sutantra_streaming::client::Signalling;

use super::{format_amount, Outcome, Session};
use crate::{chain_client::ChainClient, cli::StatusCmd};

type Validator = ValidatorStatus<AccountId, Balance>;

/// The validator whose session keys this node holds, if any; `Err` when the node does not
/// answer whether it holds them (its RPC refuses unsafe methods).
async fn own_validator(
	chain: &ChainClient,
	set: &[Validator],
) -> Result<Option<Validator>, String> {
	for validator in set {
		let Some(keys) = &validator.keys else { continue };
		match chain.has_session_keys(keys).await {
			Ok(true) => return Ok(Some(validator.clone())),
			Ok(false) => {},
			Err(error) => return Err(error.to_string()),
		}
	}
	Ok(None)
}

/// The validator's place in words: "active, invulnerable", "joining next session, bond 1000 SUT".
fn place(validator: &Validator) -> String {
	let mut parts = vec![match (validator.active, validator.queued) {
		(true, true) => "active".to_string(),
		(true, false) => "active, leaving after this session".to_string(),
		(false, true) => "joining next session".to_string(),
		(false, false) => "waiting to be chosen".to_string(),
	}];
	if validator.invulnerable {
		parts.push("invulnerable".into());
	}
	if let Some(bond) = validator.bond {
		parts.push(format!("bond {}", format_amount(bond)));
	}
	if validator.disabled {
		parts.push("DISABLED for an offence".into());
	}
	if let Some(unbonding) = &validator.unbonding {
		parts.push(format!(
			"{} unbonding until session {}",
			format_amount(unbonding.amount),
			unbonding.until
		));
	}
	if let Some(slash) = &validator.last_slash {
		parts.push(format!(
			"slashed {} ({:?} of its bond) in session {}",
			format_amount(slash.amount),
			slash.fraction,
			slash.session
		));
	}
	parts.join(", ")
}

fn validator_json(validator: &Validator) -> serde_json::Value {
	json!({
		"account": validator.account.to_ss58check(),
		"active": validator.active,
		"queued": validator.queued,
		"invulnerable": validator.invulnerable,
		"bond": validator.bond.map(|bond| bond.to_string()),
		"authored_this_session": validator.authored_this_session,
		"authored_last_session": validator.authored_last_session,
		"disabled": validator.disabled,
		"last_slash": validator.last_slash.as_ref().map(|slash| json!({
			"session": slash.session,
			"amount": slash.amount.to_string(),
			"parts_per_billion": slash.fraction.deconstruct(),
		})),
		"unbonding": validator.unbonding.as_ref().map(|unbonding| json!({
			"amount": unbonding.amount.to_string(),
			"until_session": unbonding.until,
		})),
	})
}

pub(super) async fn run(cmd: &StatusCmd) -> Outcome {
	let session = Session::connect(&cmd.client).await?;
	let chain = &session.chain;
	let name = chain.chain_name().await?;
	let best = chain.best_number().await?;
	let finalized = chain.finalized_number().await?;
	let health = chain.health().await?;
	let (on_chain, _) = chain
		.runtime_call::<(Vec<(u64, StreamInfo)>, Option<u64>)>(
			"StreamsApi_live_streams",
			(Option::<u64>::None, 1000u32),
			None,
			"the live streams",
		)
		.await?;

	// The validator set, and whether this node is one of it.
	let round: SessionStatus<BlockNumber> =
		chain.runtime_call("ValidatorsApi_session", (), None, "the session").await?;
	let set: Vec<Validator> =
		chain.runtime_call("ValidatorsApi_validators", (), None, "the validator set").await?;
	let active = set.iter().filter(|v| v.active).count();
	let own = own_validator(chain, &set).await;

	// The streaming server: its health and what it serves now.
	let url = session.streaming_url()?;
	let streaming = match Signalling::new() {
		Ok(http) => match http.get_json(&format!("{url}/streams")).await {
			Ok(serde_json::Value::Array(streams)) => {
				let viewers: u64 =
					streams.iter().filter_map(|stream| stream["viewers"].as_u64()).sum();
				Ok((streams.len(), viewers))
			},
			Ok(_) => Err(format!("{url}/streams did not answer a list")),
			Err(error) => Err(error.to_string()),
		},
		Err(error) => Err(error.to_string()),
	};

	let value = json!({
		"chain": name,
		"genesis": format!("{:?}", chain.genesis_hash()),
		"best": best,
		"finalized": finalized,
		"peers": health.peers,
		"syncing": health.is_syncing,
		"live_streams_on_chain": on_chain.len(),
		"session": json!({
			"index": round.index,
			"start": round.start,
			"length": round.length,
			"next": round.end,
			"validators": active,
		}),
		"validator": match &own {
			Ok(Some(validator)) => validator_json(validator),
			Ok(None) => serde_json::Value::Null,
			Err(error) => json!({ "error": error }),
		},
		"streaming": match &streaming {
			Ok((streams, viewers)) => json!({ "url": url, "live_streams": streams, "viewers": viewers }),
			Err(error) => json!({ "url": url, "error": error }),
		},
	});
	session.print(value, || {
		let streaming = match &streaming {
			Ok((streams, viewers)) => format!(
				"{url} (WHIP {url}/whip/<id>, WHEP {url}/whep/<id>, player {url}/watch/<id>)\n\
				 serving:    {streams} live stream(s), {viewers} viewer(s)"
			),
			Err(error) => format!("{url}: not reachable ({error})"),
		};
		let validator = match &own {
			Ok(Some(validator)) => format!(
				"{}: {}; authored {} block(s) this session, {} the last",
				validator.account.to_ss58check(),
				place(validator),
				validator.authored_this_session,
				validator.authored_last_session,
			),
			Ok(None) => "no (this node holds none of the set's session keys)".to_string(),
			Err(error) => format!("unknown: the node did not say which keys it holds ({error})"),
		};
		format!(
			"chain:      {name}\n\
			 blocks:     best #{best}, finalised #{finalized}\n\
			 peers:      {}{}\n\
			 session:    #{}, blocks #{} to #{}, {active} validator(s)\n\
			 validator:  {validator}\n\
			 on chain:   {} live stream(s)\n\
			 streaming:  {streaming}",
			health.peers,
			if health.is_syncing { " (syncing)" } else { "" },
			round.index,
			round.start,
			round.end.saturating_sub(1),
			on_chain.len(),
		)
	});
	Ok(())
}
