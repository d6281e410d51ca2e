//! `sutantra-node channel ...`: payment channels.

use serde_json::json;
use sp_core::{crypto::Ss58Codec, Pair};
use sutantra_runtime::{AccountId, Balance, BlockNumber, RuntimeCall};

use super::{fail, format::*, parse_account, signer, Failure, Outcome, Session};
use crate::cli::ChannelCmd;

/// A channel as `PaymentsApi` returns it.
pub(super) type ChannelInfo = pallet_payments::Channel<AccountId, Balance, BlockNumber>;

pub(super) async fn run(cmd: &ChannelCmd) -> Outcome {
	match cmd {
		ChannelCmd::Open { payee, deposit, stream, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let payee = parse_account(payee)?;
			let session = Session::connect(client).await?;
			let me: AccountId = key.public().into();
			if payee == me {
				return fail("a channel pays someone else: the payee is your own account");
			}
			let minimum = sutantra_runtime::configs::ChannelMinDeposit::get();
			if *deposit < minimum {
				return fail(format!("the deposit must be at least {}", format_amount(minimum)));
			}
			if let Some(id) = stream {
				let info = super::stream::stream_info(&session, *id).await?;
				if info.creator != payee {
					return fail(format!(
						"stream {id} is {}'s, not {}'s: a channel for a stream pays its creator",
						info.creator.to_ss58check(),
						payee.to_ss58check()
					));
				}
			}
			session.ensure_funds(&me, *deposit, "the channel deposit").await?;
			let call = RuntimeCall::Payments(pallet_payments::Call::open_channel {
				payee: payee.clone().into(),
				stream_id: *stream,
				deposit: *deposit,
			});
			let included = session.submit(&key, call, "opening the channel").await?;
			let id = super::opened_channel(&included)?;
			session.print(
				json!({ "id": id, "payee": payee.to_ss58check(), "deposit": deposit.to_string(), "stream": stream }),
				|| {
					format!(
						"channel {id} open: pays {} from a deposit of {}",
						payee.to_ss58check(),
						format_amount(*deposit)
					)
				},
			);
			Ok(())
		},
		ChannelCmd::TopUp { id, amount, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			let me: AccountId = key.public().into();
			let channel = fetch_channel(&session, *id).await?;
			if channel.payer != me {
				return fail(format!(
					"channel {id} is paid into by {}, not by you ({})",
					channel.payer.to_ss58check(),
					me.to_ss58check()
				));
			}
			if channel.closes_at.is_some() {
				return fail(format!(
					"channel {id} is closing and cannot be topped up; open a new one"
				));
			}
			session.ensure_funds(&me, *amount, "the top-up").await?;
			let call = RuntimeCall::Payments(pallet_payments::Call::top_up {
				channel_id: *id,
				amount: *amount,
			});
			session.submit(&key, call, "topping up the channel").await?;
			let channel = fetch_channel(&session, *id).await?;
			session.print(json!({ "id": id, "deposit": channel.deposit.to_string(), "remaining": channel.remaining().to_string() }), || {
				format!(
					"channel {id}: deposit now {}, {} left to pay",
					format_amount(channel.deposit),
					format_amount(channel.remaining())
				)
			});
			Ok(())
		},
		ChannelCmd::Close { id, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			let me: AccountId = key.public().into();
			let channel = fetch_channel(&session, *id).await?;
			if channel.payer != me && channel.payee != me {
				return fail(format!(
					"channel {id} is not yours: it is between {} and {}",
					channel.payer.to_ss58check(),
					channel.payee.to_ss58check()
				));
			}
			let best = session.chain.best_number().await?;
			let (call, what) = match channel.closes_at {
				Some(at) if best <= at => {
					return fail(format!(
						"channel {id} is already closing: its challenge period ends at {}; run this again after it to take back the rest",
						format_block(at, best)
					))
				},
				Some(_) => (pallet_payments::Call::finalize_close { channel_id: *id }, "finishing the close"),
				None => (pallet_payments::Call::close { channel_id: *id }, "closing the channel"),
			};
			let finishing = matches!(call, pallet_payments::Call::finalize_close { .. });
			session.submit(&key, RuntimeCall::Payments(call), what).await?;
			let after = session
				.chain
				.runtime_call::<Option<ChannelInfo>>("PaymentsApi_channel", *id, None, "a channel")
				.await?;
			session.print(
				json!({ "id": id, "closed": after.is_none(), "closes_at": after.as_ref().and_then(|c| c.closes_at) }),
				|| match &after {
					None if finishing => format!("channel {id} closed; the rest of the deposit is back with the payer"),
					None => format!("channel {id} closed"),
					Some(channel) => format!(
						"channel {id} is closing: the payee can still claim until {}; then run `sutantra-node channel close {id}` again",
						channel.closes_at.map(|at| format_block(at, best)).unwrap_or_default()
					),
				},
			);
			Ok(())
		},
		ChannelCmd::List { client, signer: signer_args } => {
			let who =
				match &signer_args.account {
					Some(account) => parse_account(account)?,
					None => match signer(signer_args) {
						Ok(key) => key.public().into(),
						Err(_) => return fail(
							"whose channels? give --account ADDRESS (or --suri to list your own)",
						),
					},
				};
			let session = Session::connect(client).await?;
			let best = session.chain.best_number().await?;
			let channels: Vec<(u64, ChannelInfo)> = session
				.chain
				.runtime_call(
					"PaymentsApi_channels_of",
					who.clone(),
					None,
					"the account's channels",
				)
				.await?;
			let values: Vec<_> = channels
				.iter()
				.map(|(id, channel)| {
					json!({
						"id": id,
						"payer": channel.payer.to_ss58check(),
						"payee": channel.payee.to_ss58check(),
						"stream": channel.stream_id,
						"deposit": channel.deposit.to_string(),
						"paid": channel.paid.to_string(),
						"remaining": channel.remaining().to_string(),
						"closes_at": channel.closes_at,
					})
				})
				.collect();
			session.print(serde_json::Value::Array(values), || {
				if channels.is_empty() {
					return format!("{} has no open channels", who.to_ss58check());
				}
				let rows: Vec<Vec<String>> = channels
					.iter()
					.map(|(id, channel)| {
						let role = if channel.payer == who { "pays" } else { "is paid" };
						let other =
							if channel.payer == who { &channel.payee } else { &channel.payer };
						vec![
							id.to_string(),
							format!("{role} {}", other.to_ss58check()),
							channel.stream_id.map(|s| s.to_string()).unwrap_or("any".into()),
							format_amount(channel.deposit),
							format_amount(channel.paid),
							match channel.closes_at {
								Some(at) => format!("closing, {}", format_block(at, best)),
								None => "open".into(),
							},
						]
					})
					.collect();
				table(&["ID", "ROLE", "STREAM", "DEPOSIT", "PAID", "STATE"], &rows)
			});
			Ok(())
		},
	}
}

/// A channel that is open or closing, or the error that says how to find one.
pub(super) async fn fetch_channel(
	session: &Session,
	channel_id: u64,
) -> Result<ChannelInfo, Failure> {
	session
		.chain
		.runtime_call::<Option<ChannelInfo>>("PaymentsApi_channel", channel_id, None, "a channel")
		.await?
		.ok_or_else(|| Failure(format!("channel {channel_id} is not open on chain: `sutantra-node channel list` shows yours")))
}
