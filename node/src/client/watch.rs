//! `sutantra-node stream watch`: watching over WHEP and paying with vouchers on the data channel.
//!
//! A viewer whose access comes from a payment channel pays as it watches: every
//! [`PAY_INTERVAL`] it signs a voucher for the price of the time watched plus [`PAY_AHEAD`] and
//! sends it on `sutantra-pay`; the node checks it, keeps it for the chain, and acknowledges the
//! total. A channel to the creator is reused if there is one, topped up if it runs low, and
//! opened otherwise.

use std::{
	path::PathBuf,
	time::{Duration, Instant},
};

use pallet_streams::{AccessSource, AccessStatus, StreamStatus};
use serde_json::json;
use sp_core::{crypto::Ss58Codec, sr25519, Pair};
use sutantra_integration::{
	statement::{Purpose, Statement},
	vouchers::PayMessage,
};
use sutantra_payments_primitives::{sign_voucher, SignedVoucher, Voucher};
use sutantra_runtime::{AccountId, Balance, BlockNumber, RuntimeCall};
use sutantra_streaming::client::{Viewer, WatchOptions};

use super::{
	channel::{fetch_channel, ChannelInfo},
	fail,
	format::*,
	stream::stream_info,
	Failure, Outcome, Session,
};

/// How often a paying viewer sends a voucher.
const PAY_INTERVAL: Duration = Duration::from_secs(2);
/// How far ahead of the time watched a voucher pays, so the node never sees the viewer behind.
const PAY_AHEAD: u64 = 4;
/// The default deposit of a channel opened for watching: this many seconds of the price.
const DEFAULT_DEPOSIT_SECONDS: u128 = 300;
/// The node's rule for a channel to count as access: it covers this many seconds of the price.
const CHANNEL_ACCESS_SECONDS: u128 = 30;

/// How the viewer pays: which channel, its deposit, and the voucher to build on.
struct Payer {
	channel_id: u64,
	deposit: Balance,
	/// The amount and nonce the next voucher must exceed (the best the node or chain has seen).
	base_amount: Balance,
	base_nonce: u64,
	/// Vouchers sent since the base (the next voucher's nonce is `base_nonce + nonce + 1`).
	nonce: u64,
	/// What the node has accepted on the channel.
	accepted: Balance,
}

impl Payer {
	/// What the node has accepted from this session: above the base it started from.
	fn accepted_here(&self) -> Balance {
		self.accepted.saturating_sub(self.base_amount)
	}
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn watch(
	session: &Session,
	key: &sr25519::Pair,
	id: u64,
	deposit: Option<Balance>,
	out: Option<PathBuf>,
	duration: Option<u64>,
	close: bool,
) -> Outcome {
	let chain = &session.chain;
	let info = stream_info(session, id).await?;
	match info.status {
		StreamStatus::Live => {},
		StreamStatus::Registered => {
			return fail(format!(
				"stream {id} has not started yet: it can be watched once its creator starts it"
			))
		},
		StreamStatus::Ended => return fail(format!("stream {id} has ended")),
	}
	let me: AccountId = key.public().into();
	let price = info.price_per_second;
	let access: AccessStatus<BlockNumber> = chain
		.runtime_call("StreamsApi_access", (id, me.clone()), None, "the viewer's access")
		.await?;
	let best = chain.best_number().await?;
	let quiet = session.args.json;

	let mut payer = match access {
		AccessStatus::Allowed { source, until } if source != AccessSource::Channel => {
			if !quiet {
				let until = until.map(|block| format_block(block, best)).unwrap_or("no end".into());
				let why = match source {
					AccessSource::Granted => "granted by the creator",
					AccessSource::Bought => "bought",
					AccessSource::Creator => "your own stream",
					_ => "free stream",
				};
				eprintln!("access: {why}, until {until}; nothing to pay while watching");
			}
			None
		},
		AccessStatus::StreamNotLive => return fail(format!("stream {id} is not live")),
		AccessStatus::UnknownStream => return fail(format!("stream {id} not found on chain")),
		_ => Some(channel_for(session, key, &info.creator, id, price, deposit).await?),
	};

	let token =
		Statement::new(me.clone(), id, Purpose::Watch).sign(key, chain.genesis_hash().as_ref());
	let endpoint = format!("{}/whep/{id}", session.streaming_url()?);
	let mut viewer = Viewer::connect(WatchOptions {
		endpoint: endpoint.clone(),
		token: Some(token),
		output: out.clone(),
	})
	.await
	.map_err(|error| match error {
		sutantra_streaming::Error::Denied { status: 404, reason } => Failure(format!(
			"the node does not serve stream {id} now ({reason}): is its creator publishing to this \
			 node? `sutantra-node stream show {id}` names the stream's origin"
		)),
		sutantra_streaming::Error::Denied { status, reason } => {
			Failure(format!("access denied ({status}): {reason}"))
		},
		other => other.into(),
	})?;
	if !quiet {
		eprintln!(
			"watching stream {id} ({}) from {endpoint}; Ctrl-C stops",
			String::from_utf8_lossy(&info.title)
		);
	}

	let started = Instant::now();
	let deadline =
		duration.map(|seconds| tokio::time::Instant::now() + Duration::from_secs(seconds));
	let mut ticks = tokio::time::interval(Duration::from_secs(1));
	let mut last_bytes = 0u64;
	let mut last_pay: Option<Instant> = None;
	let mut messages_open = true;
	let mut warned_deposit = false;
	let ended: Option<String> = loop {
		tokio::select! {
			_ = tokio::signal::ctrl_c() => break None,
			_ = async { tokio::time::sleep_until(deadline.unwrap()).await }, if deadline.is_some() => break None,
			message = viewer.next_message(), if messages_open => match message {
				Some(bytes) => {
					if let (Some(payer), Ok(message)) = (payer.as_mut(), serde_json::from_slice::<PayMessage>(&bytes)) {
						handle_message(payer, message, quiet);
					}
				},
				None => messages_open = false,
			},
			_ = ticks.tick() => {
				if let Some(reason) = viewer.ended_reason() {
					break Some(reason);
				}
				if let Some(payer) = payer.as_mut() {
					if last_pay.is_none_or(|at| at.elapsed() >= PAY_INTERVAL) {
						last_pay = Some(Instant::now());
						let seconds = started.elapsed().as_secs() + PAY_AHEAD;
						let wanted = payer.base_amount.saturating_add(price.saturating_mul(u128::from(seconds)));
						let amount = wanted.min(payer.deposit);
						if amount < wanted && !warned_deposit && !quiet {
							warned_deposit = true;
							eprintln!("\nthe channel's deposit is nearly used up: top it up with `sutantra-node channel top-up {} <SUT>` to keep watching", payer.channel_id);
						}
						if amount > payer.base_amount.max(payer.accepted) {
							payer.nonce += 1;
							let voucher = Voucher { channel_id: payer.channel_id, cumulative_amount: amount, nonce: payer.base_nonce + payer.nonce };
							let signature = sign_voucher(key, chain.genesis_hash().as_ref(), &voucher);
							let message = PayMessage::voucher(&SignedVoucher { voucher, signature });
							if let Ok(bytes) = serde_json::to_vec(&message) {
								let _ = viewer.send(&bytes).await;
							}
						}
					}
				}
				if !quiet {
					let stats = viewer.stats();
					let bitrate = (stats.payload_bytes.saturating_sub(last_bytes)) as f64 * 8.0 / 1e6;
					last_bytes = stats.payload_bytes;
					let payment = match &payer {
						Some(payer) => format!(
							" | paid {} | left {}",
							format_amount(payer.accepted_here()),
							format_amount(payer.deposit.saturating_sub(payer.accepted))
						),
						None => String::new(),
					};
					eprint!(
						"\r▶ {} frames | {bitrate:.2} Mbit/s{payment} | {}    ",
						stats.frames,
						format_duration(started.elapsed().as_secs())
					);
				}
			},
		}
	};
	if !quiet {
		eprintln!();
	}
	let stats = viewer.stats();
	let _ = viewer.stop().await;

	let mut closed = false;
	if let (true, Some(payer)) = (close, &payer) {
		let call =
			RuntimeCall::Payments(pallet_payments::Call::close { channel_id: payer.channel_id });
		session.submit(key, call, "closing the payment channel").await?;
		closed = true;
	}
	let value = json!({
		"id": id,
		"frames": stats.frames,
		"bytes": stats.payload_bytes,
		"seconds": started.elapsed().as_secs(),
		"first_frame_ms": stats.first_frame_after.map(|d| d.as_millis() as u64),
		"channel": payer.as_ref().map(|p| p.channel_id),
		"paid": payer.as_ref().map(|p| p.accepted_here().to_string()),
		"channel_closing": closed,
		"ended_by_node": ended,
		"saved_to": out.as_ref().map(|path| path.display().to_string()),
	});
	session.print(value, || {
		let mut text = format!(
			"watched stream {id} for {}: {} frames",
			format_duration(started.elapsed().as_secs()),
			stats.frames
		);
		if let Some(payer) = &payer {
			text.push_str(&format!(
				"; paid {} on channel {}",
				format_amount(payer.accepted_here()),
				payer.channel_id
			));
			if closed {
				text.push_str(
					" (closing: the rest of the deposit returns after the challenge period)",
				);
			}
		}
		if let Some(reason) = &ended {
			text.push_str(&format!("\nthe node ended the session: {reason}"));
		}
		if let Some(path) = &out {
			text.push_str(&format!("\nsaved to {}", path.display()));
		}
		text
	});
	match ended {
		Some(reason) if reason.contains("payment required") => {
			fail(format!("dropped by the node: {reason}; top up or open a channel and watch again"))
		},
		_ => Ok(()),
	}
}

/// Acts on the node's answer to a voucher.
fn handle_message(payer: &mut Payer, message: PayMessage, quiet: bool) {
	match message {
		PayMessage::Ack { accepted, .. } => {
			if let Ok(total) = accepted.parse::<Balance>() {
				payer.accepted = total;
			}
		},
		// The node knows a newer voucher than the chain did (an earlier session's): build on it.
		PayMessage::Reject { accepted: Some(amount), nonce: Some(nonce), .. } => {
			if let Ok(amount) = amount.parse::<Balance>() {
				payer.base_amount = amount;
				payer.accepted = amount;
				payer.base_nonce = nonce;
				payer.nonce = 0;
			}
		},
		PayMessage::Reject { reason, .. } => {
			if !quiet {
				eprintln!("\nthe node refused a voucher: {reason}");
			}
		},
		PayMessage::Warning { reason } => {
			if !quiet {
				eprintln!("\nthe node warns: {reason}");
			}
		},
		PayMessage::Voucher { .. } => {},
	}
}

/// The channel the viewer pays on: an open one to the creator, topped up if it runs low, or
/// a new one.
async fn channel_for(
	session: &Session,
	key: &sr25519::Pair,
	creator: &AccountId,
	id: u64,
	price: Balance,
	deposit: Option<Balance>,
) -> Result<Payer, Failure> {
	let me: AccountId = key.public().into();
	let quiet = session.args.json;
	let channels: Vec<(u64, ChannelInfo)> = session
		.chain
		.runtime_call("PaymentsApi_channels_of", me.clone(), None, "the viewer's channels")
		.await?;
	let usable = channels
		.into_iter()
		.filter(|(_, channel)| {
			channel.payer == me
				&& channel.payee == *creator
				&& channel.closes_at.is_none()
				&& channel.stream_id.is_none_or(|stream| stream == id)
		})
		.max_by_key(|(_, channel)| channel.remaining());
	let wanted = deposit.unwrap_or(price.saturating_mul(DEFAULT_DEPOSIT_SECONDS));
	let needed = price.saturating_mul(CHANNEL_ACCESS_SECONDS);
	let (channel_id, channel) = match usable {
		Some((channel_id, channel)) if channel.remaining() > needed => {
			if !quiet {
				eprintln!(
					"paying on channel {channel_id} ({} left of {})",
					format_amount(channel.remaining()),
					format_amount(channel.deposit)
				);
			}
			(channel_id, channel)
		},
		Some((channel_id, _)) => {
			session.ensure_funds(&me, wanted, "topping up the channel").await?;
			let call =
				RuntimeCall::Payments(pallet_payments::Call::top_up { channel_id, amount: wanted });
			session.submit(key, call, "topping up the payment channel").await?;
			let channel = fetch_channel(session, channel_id).await?;
			(channel_id, channel)
		},
		None => {
			session.ensure_funds(&me, wanted, "the channel deposit").await?;
			let call = RuntimeCall::Payments(pallet_payments::Call::open_channel {
				payee: creator.clone().into(),
				stream_id: Some(id),
				deposit: wanted,
			});
			let included = session.submit(key, call, "opening a payment channel").await?;
			let channel_id = super::opened_channel(&included)?;
			if !quiet {
				eprintln!(
					"opened channel {channel_id} to {} with {} ({} of watching)",
					creator.to_ss58check(),
					format_amount(wanted),
					wanted
						.checked_div(price)
						.map(|seconds| format_duration(seconds as u64))
						.unwrap_or_else(|| "any length".into())
				);
			}
			(channel_id, fetch_channel(session, channel_id).await?)
		},
	};
	Ok(Payer {
		channel_id,
		deposit: channel.deposit,
		base_amount: channel.paid,
		base_nonce: channel.nonce,
		nonce: 0,
		accepted: channel.paid,
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn payer() -> Payer {
		Payer {
			channel_id: 3,
			deposit: 1_000,
			base_amount: 100,
			base_nonce: 2,
			nonce: 1,
			accepted: 100,
		}
	}

	#[test]
	fn a_stale_refusal_moves_the_base_to_the_nodes_floor() {
		let mut payer = payer();
		let floor = PayMessage::Reject {
			channel_id: 3,
			reason: "the voucher is not newer than 400 at nonce 7".into(),
			accepted: Some("400".into()),
			nonce: Some(7),
		};
		handle_message(&mut payer, floor, true);
		assert_eq!(
			(payer.base_amount, payer.base_nonce, payer.nonce, payer.accepted),
			(400, 7, 0, 400)
		);
		assert_eq!(payer.accepted_here(), 0);
		handle_message(&mut payer, PayMessage::Ack { channel_id: 3, accepted: "450".into() }, true);
		assert_eq!(payer.accepted_here(), 50);
		// Other refusals leave the payment as it was.
		handle_message(&mut payer, PayMessage::refuse(3, "channel 3 is closing"), true);
		assert_eq!((payer.base_amount, payer.accepted), (400, 450));
	}
}
