//! The chain as the streaming engine's gatekeeper.
//!
//! Publishers and viewers present a signed [statement](crate::statement) as their bearer token.
//! The node checks it (signature, audience, freshness, not used before), then asks the runtime at
//! the best block, and uses the statement up only if the chain admits the request: a viewer through `StreamsApi::access`, a publisher by being the stream's creator while
//! the stream has not ended. A viewer is admitted with the stream's `max_viewers` as its
//! audience cap, which the engine enforces on this node. A viewer who would pay on a channel
//! and is already more than the grace period behind on this node (see [`crate::ledger`]) is
//! refused with 402 and the amount to pay.

use std::sync::Arc;

use async_trait::async_trait;
use pallet_streams_runtime_api::{AccessSource, AccessStatus, StreamStatus, StreamsApi};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;
use sutantra_runtime::{apis::StreamInfo, opaque::Block, AccountId, BlockNumber};
use sutantra_streaming::{AccessPolicy, Admission, Credentials, Decision, DenyStatus, StreamId};

use crate::{
	bridge::GRACE_SECS,
	statement::{Checked, Purpose, StatementError, StatementVerifier},
};

/// What payers owe creators on this node (the [`crate::ledger::Ledger`]).
pub trait Debts: Send + Sync {
	/// How far `payer` is behind in paying `creator` for watching on this node.
	fn behind(&self, payer: &AccountId, creator: &AccountId) -> u128;
}

impl<S: crate::vouchers::VoucherStore> Debts for crate::ledger::Ledger<S> {
	fn behind(&self, payer: &AccountId, creator: &AccountId) -> u128 {
		self.standing(payer, creator).behind()
	}
}

/// Admits publishers and viewers as the chain says, at the best block.
pub struct ChainPolicy<C> {
	client: Arc<C>,
	statements: Arc<StatementVerifier>,
	debts: Option<Arc<dyn Debts>>,
}

impl<C> ChainPolicy<C> {
	/// A policy asking `client`'s runtime, checking statements with `statements`.
	pub fn new(client: Arc<C>, statements: StatementVerifier) -> Self {
		Self { client, statements: Arc::new(statements), debts: None }
	}

	/// Refuses channel payers who are more than the grace period behind in `debts`.
	pub fn with_debts(mut self, debts: Arc<dyn Debts>) -> Self {
		self.debts = Some(debts);
		self
	}
}

impl<C> ChainPolicy<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
{
	/// The statement behind the credentials, checked but not used up, or the refusal.
	fn who(
		&self,
		stream: &StreamId,
		credentials: &Credentials,
		purpose: Purpose,
	) -> Result<(u64, Checked), Decision> {
		let Ok(id) = stream.as_str().parse::<u64>() else {
			return Err(Decision::deny(
				DenyStatus::NotFound,
				"no such stream: stream ids are the chain's numbers",
			));
		};
		let Some(token) = credentials.token() else {
			return Err(Decision::deny(
				DenyStatus::Unauthorized,
				"a signed statement is required as the bearer token (`sutantra-node stream token`)",
			));
		};
		let checked = self
			.statements
			.check(token, id, purpose)
			.map_err(|error| Decision::deny(DenyStatus::Unauthorized, error.to_string()))?;
		Ok((id, checked))
	}

	/// An admission stands only if its statement was not used meanwhile; a statement is used up
	/// only by a request the chain admits, so a key with no standing on chain costs the node a
	/// signature check and no memory. (Using it up writes, and fsyncs, the used-statement file:
	/// off the async executor.)
	async fn use_up(&self, checked: Checked, decision: Decision) -> Decision {
		if !matches!(decision, Decision::Admit(_) | Decision::Allow) {
			return decision;
		}
		let statements = self.statements.clone();
		match crate::off_executor(move || statements.consume(&checked)).await {
			Ok(Ok(())) => decision,
			Ok(Err(error @ (StatementError::Busy(_) | StatementError::TooMany(_)))) => {
				Decision::deny(DenyStatus::Unavailable, error.to_string())
			},
			Ok(Err(error)) => Decision::deny(DenyStatus::Unauthorized, error.to_string()),
			Err(error) => chain_unavailable(error),
		}
	}
}

#[async_trait]
impl<C> AccessPolicy for ChainPolicy<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
{
	async fn authorize_publisher(&self, stream: &StreamId, credentials: &Credentials) -> Decision {
		let (id, checked) = match self.who(stream, credentials, Purpose::Publish) {
			Ok(who) => who,
			Err(refusal) => return refusal,
		};
		let account = checked.account.clone();
		let client = self.client.clone();
		let info = crate::off_executor(move || {
			let best = client.info().best_hash;
			client.runtime_api().stream(best, id).map_err(|error| error.to_string())
		})
		.await
		.and_then(|info| info);
		let info = match info {
			Ok(info) => info,
			Err(error) => return chain_unavailable(error),
		};
		let decision = match info {
			None => Decision::deny(DenyStatus::NotFound, format!("stream {id} is not registered")),
			Some(info) if info.creator != account => Decision::deny(
				DenyStatus::Forbidden,
				format!("only stream {id}'s creator may publish it"),
			),
			Some(info) if info.status == StreamStatus::Ended => Decision::deny(
				DenyStatus::Forbidden,
				format!("stream {id} has ended; register a new one"),
			),
			Some(_) => Decision::Admit(Admission::of(account.to_ss58check())),
		};
		self.use_up(checked, decision).await
	}

	async fn authorize_viewer(&self, stream: &StreamId, credentials: &Credentials) -> Decision {
		let (id, checked) = match self.who(stream, credentials, Purpose::Watch) {
			Ok(who) => who,
			Err(refusal) => return refusal,
		};
		let (client, debts, account) = (self.client.clone(), self.debts.clone(), checked.account.clone());
		let decision = crate::off_executor(move || admit_viewer(&*client, debts.as_deref(), id, account))
			.await;
		self.use_up(checked, decision.unwrap_or_else(chain_unavailable)).await
	}
}

/// The chain's answer for `account` watching stream `id`, at the best block.
fn admit_viewer<C>(client: &C, debts: Option<&dyn Debts>, id: u64, account: AccountId) -> Decision
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block>,
	C::Api: StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
{
	let best = client.info().best_hash;
	let api = client.runtime_api();
	let (status, stream) = match (api.access(best, id, account.clone()), api.stream(best, id)) {
		(Ok(status), Ok(stream)) => (status, stream),
		(Err(error), _) | (_, Err(error)) => {
			return chain_unavailable(error)
		},
	};
	if let (AccessStatus::Allowed { source: AccessSource::Channel, .. }, Some(info), Some(debts)) =
		(&status, &stream, debts)
	{
		let behind = debts.behind(&account, &info.creator);
		let grace = info.price_per_second.saturating_mul(GRACE_SECS.into());
		if behind > grace {
			return Decision::deny(
				DenyStatus::PaymentRequired,
				format!(
					"payment required: you owe {behind} plancks for watching on this node, \
					 more than the {GRACE_SECS} s grace; pay it with a voucher (POST /pay; \
					 `sutantra-node stream watch` does it) and join again"
				),
			);
		}
	}
	match decide(id, status) {
		Decision::Allow => Decision::Admit(Admission {
			principal: Some(account.to_ss58check()),
			audience_cap: stream.map(|info| info.max_viewers).filter(|cap| *cap > 0),
		}),
		refusal => refusal,
	}
}

fn chain_unavailable<E: std::fmt::Display>(error: E) -> Decision {
	log::warn!(target: crate::LOG_TARGET, "asking the runtime about access failed: {error}");
	Decision::deny(DenyStatus::Unavailable, "the node could not ask the chain; try again")
}

/// The engine's answer to the chain's.
pub fn decide(id: u64, status: AccessStatus<BlockNumber>) -> Decision {
	match status {
		AccessStatus::Allowed { .. } => Decision::Allow,
		AccessStatus::NoAccess => Decision::deny(
			DenyStatus::PaymentRequired,
			format!("payment required: buy access to stream {id} or open a payment channel to its creator"),
		),
		AccessStatus::Expired { at } => Decision::deny(
			DenyStatus::PaymentRequired,
			format!("payment required: your access to stream {id} expired at block {at}"),
		),
		AccessStatus::StreamNotLive => {
			Decision::deny(DenyStatus::Forbidden, format!("stream {id} is not live"))
		},
		AccessStatus::UnknownStream => {
			Decision::deny(DenyStatus::NotFound, format!("stream {id} is not registered"))
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn status_of(decision: Decision) -> Option<u16> {
		match decision {
			Decision::Allow | Decision::Admit(_) => None,
			Decision::Deny { status, .. } => Some(status.code()),
		}
	}

	#[test]
	fn the_chains_answers_become_http_statuses() {
		let allowed = AccessStatus::Allowed { until: Some(9), source: AccessSource::Channel };
		assert_eq!(status_of(decide(1, allowed)), None);
		assert_eq!(status_of(decide(1, AccessStatus::NoAccess)), Some(402));
		assert_eq!(status_of(decide(1, AccessStatus::Expired { at: 5 })), Some(402));
		assert_eq!(status_of(decide(1, AccessStatus::StreamNotLive)), Some(403));
		assert_eq!(status_of(decide(1, AccessStatus::UnknownStream)), Some(404));
		let Decision::Deny { reason, .. } = decide(3, AccessStatus::NoAccess) else { panic!() };
		assert!(reason.starts_with("payment required"), "{reason}");
	}
}
