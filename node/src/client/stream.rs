//! `sutantra-node stream ...`: the stream registry and publishing.

use std::time::{Duration, Instant};

use serde_json::json;
use sp_core::{crypto::Ss58Codec, sr25519, Pair};
use sutantra_integration::statement::{Purpose, Statement};
use sutantra_runtime::{apis::StreamInfo, AccountId, BlockNumber, RuntimeCall, RuntimeEvent};
use sutantra_streaming::client::{PublishOptions, Publisher};

use super::{fail, find_event, format::*, parse_account, signer, Failure, Outcome, Session};
use crate::{chain_client::plain_storage_key, cli::StreamCmd};
use pallet_streams::StreamStatus;

/// The built-in test source: 4 s of a 640x360 VP8 test pattern at 30 fps, looped.
const TEST_SOURCE: &[u8] =
	include_bytes!("../../../streaming/fixtures/testsrc-640x360-30fps-vp8.ivf");
/// The same pattern as simulcast's lower layers, lowest first.
const TEST_SOURCE_LOWER: [&[u8]; 2] = [
	include_bytes!("../../../streaming/fixtures/testsrc-160x90-30fps-vp8-120k.ivf"),
	include_bytes!("../../../streaming/fixtures/testsrc-320x180-30fps-vp8-400k.ivf"),
];

/// What `stream publish` sends.
enum Source<'a> {
	/// The operator's files: the best encoding, and lower ones for simulcast.
	Files { file: &'a std::path::Path, lower_layers: &'a [std::path::PathBuf] },
	/// The built-in test pattern, as one encoding or three simulcast layers.
	TestPattern { simulcast: bool },
}

pub(super) async fn run(cmd: &StreamCmd) -> Outcome {
	match cmd {
		StreamCmd::Create {
			title,
			price_per_second,
			max_viewers,
			description,
			origin,
			start,
			client,
			signer: signer_args,
		} => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			create(
				&session,
				&key,
				title,
				*price_per_second,
				*max_viewers,
				description,
				origin.as_deref(),
				*start,
			)
			.await
		},
		StreamCmd::List { live, creator, client } => {
			let session = Session::connect(client).await?;
			list(&session, *live, creator.as_deref()).await
		},
		StreamCmd::Show { id, client } => {
			let session = Session::connect(client).await?;
			show(&session, *id).await
		},
		StreamCmd::Stats { id, client } => {
			let session = Session::connect(client).await?;
			stats(&session, *id).await
		},
		StreamCmd::Start { id, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			let info = creators_stream(&session, *id, &key).await?;
			if info.status != StreamStatus::Registered {
				return fail(format!(
					"stream {id} is {}; only a registered stream can start",
					status_word(info.status)
				));
			}
			let call = RuntimeCall::Streams(pallet_streams::Call::start_stream { stream_id: *id });
			session.submit(&key, call, "starting the stream").await?;
			session.print(json!({ "id": id, "status": "live" }), || {
				format!("stream {id} is live: publish with `sutantra-node stream publish {id} --test-source` (or --file)")
			});
			Ok(())
		},
		StreamCmd::End { id, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			let info = creators_stream(&session, *id, &key).await?;
			if info.status == StreamStatus::Ended {
				return fail(format!("stream {id} has already ended"));
			}
			let call = RuntimeCall::Streams(pallet_streams::Call::end_stream { stream_id: *id });
			session.submit(&key, call, "ending the stream").await?;
			session.print(json!({ "id": id, "status": "ended" }), || {
				format!("stream {id} ended; every viewer's session is closed")
			});
			Ok(())
		},
		StreamCmd::Remove { id, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			let info = creators_stream(&session, *id, &key).await?;
			if info.status != StreamStatus::Ended {
				return fail(format!(
					"stream {id} is {}: end it first (`sutantra-node stream end {id}`)",
					status_word(info.status)
				));
			}
			let call = RuntimeCall::Streams(pallet_streams::Call::remove_stream { stream_id: *id });
			session.submit(&key, call, "removing the stream").await?;
			session.print(
				json!({ "id": id, "removed": true, "deposit_released": info.deposit.to_string() }),
				|| {
					format!(
						"stream {id} removed; its deposit of {} is yours again",
						format_amount(info.deposit)
					)
				},
			);
			Ok(())
		},
		StreamCmd::Grant { id, viewer: account, until, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let viewer = parse_account(account)?;
			let session = Session::connect(client).await?;
			creators_stream(&session, *id, &key).await?;
			let best = session.chain.best_number().await?;
			let valid_until = match until.as_deref() {
				None => None,
				Some(text) => Some(parse_until(text, best).map_err(Failure)?),
			};
			let call = RuntimeCall::Streams(pallet_streams::Call::grant_access {
				stream_id: *id,
				viewer: viewer.clone().into(),
				valid_until,
			});
			session.submit(&key, call, "granting access").await?;
			let until_text =
				valid_until.map(|block| format_block(block, best)).unwrap_or("no end".into());
			session.print(
				json!({ "id": id, "viewer": viewer.to_ss58check(), "valid_until": valid_until }),
				|| format!("{} may watch stream {id} until {until_text}", viewer.to_ss58check()),
			);
			Ok(())
		},
		StreamCmd::Revoke { id, viewer: account, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let viewer = parse_account(account)?;
			let session = Session::connect(client).await?;
			creators_stream(&session, *id, &key).await?;
			let call = RuntimeCall::Streams(pallet_streams::Call::revoke_access {
				stream_id: *id,
				viewer: viewer.clone().into(),
			});
			session.submit(&key, call, "revoking access").await?;
			session.print(
				json!({ "id": id, "viewer": viewer.to_ss58check(), "revoked": true }),
				|| {
					format!(
						"{} may no longer watch stream {id}; a node that serves them drops them",
						viewer.to_ss58check()
					)
				},
			);
			Ok(())
		},
		StreamCmd::Publish {
			id,
			file,
			test_source: _,
			lower_layer,
			simulcast,
			duration,
			client,
			signer: signer_args,
		} => {
			if lower_layer.len() > 2 {
				return fail("at most three simulcast layers: give --lower-layer at most twice");
			}
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			let source = match file {
				Some(file) => Source::Files { file, lower_layers: lower_layer },
				None => Source::TestPattern { simulcast: *simulcast },
			};
			publish(&session, &key, *id, source, *duration).await
		},
		StreamCmd::Watch { id, deposit, out, duration, close, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			super::watch::watch(&session, &key, *id, *deposit, out.clone(), *duration, *close).await
		},
		StreamCmd::Token { id, watch, client, signer: signer_args } => {
			let key = signer(signer_args)?;
			let session = Session::connect(client).await?;
			let info = stream_info(&session, *id).await?;
			let me: AccountId = key.public().into();
			if !watch && info.creator != me {
				return fail(not_creator(*id, &info, &me));
			}
			let (purpose, kind) =
				if *watch { (Purpose::Watch, "whep") } else { (Purpose::Publish, "whip") };
			let node = session.node_key().await?;
			let token = Statement::new(me, *id, purpose, node.into())
				.sign(&key, session.chain.genesis_hash().as_ref());
			let endpoint = format!("{}/{kind}/{id}", session.streaming_url()?);
			session.print(json!({ "endpoint": endpoint, "token": token }), || {
				format!(
					"endpoint:     {endpoint}\nbearer token: {token}\n\
					 The token is good for one request to this node within 5 minutes (the node's --statement-max-age)."
				)
			});
			Ok(())
		},
	}
}

#[allow(clippy::too_many_arguments)]
async fn create(
	session: &Session,
	key: &sr25519::Pair,
	title: &str,
	price_per_second: u128,
	max_viewers: u32,
	description: &str,
	origin: Option<&str>,
	start: bool,
) -> Outcome {
	if title.trim().is_empty() {
		return fail("the title is empty: give one with --title");
	}
	let me: AccountId = key.public().into();
	let deposit = sutantra_runtime::configs::StreamDeposit::get();
	session.ensure_funds(&me, deposit, "the stream deposit").await?;
	let call = RuntimeCall::Streams(pallet_streams::Call::register_stream {
		title: title.as_bytes().to_vec(),
		description: description.as_bytes().to_vec(),
		price_per_second,
		max_viewers,
	});
	let included = session.submit(key, call, "registering the stream").await?;
	let id = find_event(&included, |event| match event {
		RuntimeEvent::Streams(pallet_streams::Event::StreamRegistered { stream_id, .. }) => {
			Some(*stream_id)
		},
		_ => None,
	})
	.ok_or_else(|| Failure("the chain registered no stream (no StreamRegistered event)".into()))?;
	if let Some(origin) = origin {
		let call = RuntimeCall::Streams(pallet_streams::Call::update_stream {
			stream_id: id,
			title: None,
			description: None,
			price_per_second: None,
			max_viewers: None,
			origin_endpoint: Some(origin.as_bytes().to_vec()),
		});
		session.submit(key, call, "announcing the origin").await?;
	}
	if start {
		let call = RuntimeCall::Streams(pallet_streams::Call::start_stream { stream_id: id });
		session.submit(key, call, "starting the stream").await?;
	}
	let status = if start { "live" } else { "registered" };
	session.print(
		json!({
			"id": id,
			"title": title,
			"price_per_second": price_per_second.to_string(),
			"status": status,
			"deposit": deposit.to_string(),
		}),
		|| {
			let next =
				if start {
					format!("publish with `sutantra-node stream publish {id} --test-source` (or --file)")
				} else {
					format!("go live with `sutantra-node stream start {id}`")
				};
			format!(
				"stream {id} registered ({status}), {}/s, deposit {} held; {next}",
				format_amount(price_per_second),
				format_amount(deposit)
			)
		},
	);
	Ok(())
}

async fn list(session: &Session, live: bool, creator: Option<&str>) -> Outcome {
	let chain = &session.chain;
	let mut streams: Vec<(u64, StreamInfo)> = if let Some(creator) = creator {
		let creator = parse_account(creator)?;
		chain
			.runtime_call("StreamsApi_streams_by_creator", creator, None, "the creator's streams")
			.await?
	} else if live {
		let mut all = Vec::new();
		let mut cursor: Option<u64> = None;
		loop {
			let (page, next): (Vec<(u64, StreamInfo)>, Option<u64>) = chain
				.runtime_call("StreamsApi_live_streams", (cursor, 500u32), None, "the live streams")
				.await?;
			all.extend(page);
			match next {
				Some(next) => cursor = Some(next),
				None => break all,
			}
		}
	} else {
		let next: u64 = chain
			.storage(plain_storage_key("Streams", "NextStreamId"), None, "the next stream id")
			.await?
			.unwrap_or(0);
		let mut all = Vec::new();
		for id in next.saturating_sub(1000)..next {
			if let Some(info) = chain
				.runtime_call::<Option<StreamInfo>>("StreamsApi_stream", id, None, "a stream")
				.await?
			{
				all.push((id, info));
			}
		}
		all
	};
	if live {
		streams.retain(|(_, info)| info.status == StreamStatus::Live);
	}
	let best = chain.best_number().await?;
	let values: Vec<_> = streams.iter().map(|(id, info)| stream_json(*id, info)).collect();
	session.print(serde_json::Value::Array(values), || {
		if streams.is_empty() {
			return if live { "no live streams".into() } else { "no streams".into() };
		}
		let rows: Vec<Vec<String>> = streams
			.iter()
			.map(|(id, info)| {
				vec![
					id.to_string(),
					printable_bytes(&info.title),
					status_word(info.status).into(),
					format!("{}/s", format_amount(info.price_per_second)),
					short_account(&info.creator),
					match info.status {
						StreamStatus::Live => info.started_at.map(|b| format_block(b, best)),
						StreamStatus::Ended => info.ended_at.map(|b| format_block(b, best)),
						StreamStatus::Registered => Some(format_block(info.created_at, best)),
					}
					.unwrap_or_default(),
				]
			})
			.collect();
		table(&["ID", "TITLE", "STATUS", "PRICE", "CREATOR", "SINCE"], &rows)
	});
	Ok(())
}

async fn show(session: &Session, id: u64) -> Outcome {
	let info = stream_info(session, id).await?;
	let best = session.chain.best_number().await?;
	let base = session.streaming_url()?;
	// What the node serves of it now, if its streaming server answers.
	let id_text = id.to_string();
	let here = match sutantra_streaming::client::Signalling::new() {
		Ok(http) => http.get_json(&format!("{base}/streams")).await.ok().and_then(|streams| {
			streams.as_array()?.iter().find(|stream| stream["stream"] == id_text.as_str()).cloned()
		}),
		Err(_) => None,
	};
	let mut value = stream_json(id, &info);
	value["on_this_node"] = here.clone().unwrap_or(serde_json::Value::Null);
	session.print(value, || {
		let mut lines = vec![
			format!("stream {id}: {}", printable_bytes(&info.title)),
			format!("status:       {}", status_word(info.status)),
			format!("creator:      {}", info.creator.to_ss58check()),
			format!("price:        {}/s", format_amount(info.price_per_second)),
			format!(
				"max viewers:  {}",
				if info.max_viewers == 0 {
					"no limit".into()
				} else {
					info.max_viewers.to_string()
				}
			),
			format!("registered:   {}", format_block(info.created_at, best)),
		];
		if let Some(block) = info.started_at {
			lines.push(format!("started:      {}", format_block(block, best)));
		}
		if let Some(block) = info.ended_at {
			lines.push(format!("ended:        {}", format_block(block, best)));
		}
		if !info.description.is_empty() {
			lines.push(format!("description:  {}", printable_bytes(&info.description)));
		}
		if let Some(origin) = &info.origin {
			lines.push(format!("origin:       {}", printable_bytes(origin)));
		}
		lines.push(format!("deposit:      {}", format_amount(info.deposit)));
		match &here {
			Some(stream) => lines.push(format!(
				"on this node: live, {} viewer(s); watch at {base}/watch/{id}",
				stream["viewers"]
			)),
			None => lines.push("on this node: not being published here".into()),
		}
		lines.join("\n")
	});
	Ok(())
}

async fn publish(
	session: &Session,
	key: &sr25519::Pair,
	id: u64,
	source: Source<'_>,
	duration: Option<u64>,
) -> Outcome {
	let info = creators_stream(session, id, key).await?;
	match info.status {
		StreamStatus::Ended => return fail(format!("stream {id} has ended; register a new one")),
		StreamStatus::Registered if !session.args.json => eprintln!(
			"note: stream {id} is not started, so nobody can watch yet: `sutantra-node stream start {id}`"
		),
		_ => {},
	}
	// The test source is built in; it is written out for the publisher, which reads files.
	let mut written = Vec::new();
	let (path, lower_layers) = match source {
		Source::Files { file, lower_layers } => (file.to_path_buf(), lower_layers.to_vec()),
		Source::TestPattern { simulcast } => {
			let lower: &[&[u8]] = if simulcast { &TEST_SOURCE_LOWER } else { &[] };
			for bytes in lower.iter().chain([&TEST_SOURCE]) {
				written.push(tempfile_for_test_source(bytes)?);
			}
			let mut paths: Vec<_> = written.iter().map(|file| file.path().to_path_buf()).collect();
			let best = paths.pop().expect("the test pattern was written");
			(best, paths)
		},
	};
	let me: AccountId = key.public().into();
	let node = session.node_key().await?;
	let token = Statement::new(me, id, Purpose::Publish, node.into())
		.sign(key, session.chain.genesis_hash().as_ref());
	let endpoint = format!("{}/whip/{id}", session.streaming_url()?);
	let mut publisher = Publisher::start(PublishOptions {
		endpoint: endpoint.clone(),
		token: Some(token),
		file: path,
		looped: true,
		lower_layers,
	})
	.await?;
	let base = session.streaming_url()?;
	if !session.args.json {
		eprintln!("publishing to {endpoint}; viewers: {base}/watch/{id} or `sutantra-node stream watch {id}`. Ctrl-C stops.");
	}
	let started = Instant::now();
	let stop_after = duration.map(Duration::from_secs);
	let mut ticks = tokio::time::interval(Duration::from_secs(1));
	let mut last_check = Instant::now();
	// Why publishing stopped, when it was not asked to.
	let stopped: Option<Result<String, Failure>> = loop {
		tokio::select! {
			_ = tokio::signal::ctrl_c() => break None,
			result = publisher.finished() => break Some(match result {
				Ok(()) => Ok("the file has been sent".into()),
				Err(error) => Err(error.into()),
			}),
			_ = ticks.tick() => {
				if !session.args.json {
					eprint!("\r{} frames sent, {} elapsed   ", publisher.frames_sent(), format_duration(started.elapsed().as_secs()));
				}
				if stop_after.is_some_and(|limit| started.elapsed() >= limit) {
					break None;
				}
				// The chain ends streams: stop when this one has ended.
				if last_check.elapsed() >= Duration::from_secs(3) {
					last_check = Instant::now();
					if stream_info(session, id).await.is_ok_and(|info| info.status == StreamStatus::Ended) {
						break Some(Ok(format!("stream {id} ended on chain")));
					}
				}
			},
		}
	};
	if !session.args.json {
		eprintln!();
	}
	let frames = publisher.frames_sent();
	let seconds = started.elapsed().as_secs();
	let _ = publisher.stop().await;
	let why = match stopped {
		None => "stopped".to_owned(),
		Some(Ok(why)) => why,
		Some(Err(error)) => return fail(format!("publishing stream {id} failed: {error}")),
	};
	session.print(
		json!({ "id": id, "frames_sent": frames, "seconds": seconds, "stopped": why }),
		|| format!("publishing stream {id} stopped ({why}) after {frames} frames"),
	);
	Ok(())
}

fn tempfile_for_test_source(bytes: &[u8]) -> Result<tempfile::NamedTempFile, Failure> {
	use std::io::Write;
	let mut file = tempfile::Builder::new().suffix(".ivf").tempfile().map_err(|error| {
		Failure(format!("cannot write the test source to a temporary file: {error}"))
	})?;
	file.write_all(bytes).map_err(|error| {
		Failure(format!("cannot write the test source to a temporary file: {error}"))
	})?;
	Ok(file)
}

/// A stream, or the error that it does not exist.
pub(super) async fn stream_info(session: &Session, id: u64) -> Result<StreamInfo, Failure> {
	session
		.chain
		.runtime_call::<Option<StreamInfo>>("StreamsApi_stream", id, None, "a stream")
		.await?
		.ok_or_else(|| {
			Failure(format!(
				"stream {id} not found on chain: `sutantra-node stream list` shows the streams"
			))
		})
}

/// A stream the signer created, or the error that says whose it is.
async fn creators_stream(
	session: &Session,
	id: u64,
	key: &sr25519::Pair,
) -> Result<StreamInfo, Failure> {
	let info = stream_info(session, id).await?;
	let me: AccountId = key.public().into();
	if info.creator != me {
		return fail(not_creator(id, &info, &me));
	}
	Ok(info)
}

fn not_creator(id: u64, info: &StreamInfo, me: &AccountId) -> String {
	format!(
		"not the creator: only {} may do this to stream {id}, and you signed as {}",
		info.creator.to_ss58check(),
		me.to_ss58check()
	)
}

fn parse_until(text: &str, best: BlockNumber) -> Result<BlockNumber, String> {
	if let Some(block) = text.strip_prefix("block:") {
		let block: BlockNumber =
			block.trim().parse().map_err(|_| format!("`{text}` is not block:<number>"))?;
		if block <= best {
			return Err(format!("block {block} has passed (the best block is #{best})"));
		}
		return Ok(block);
	}
	let seconds = parse_duration(text).map_err(|error| format!("{error}, or block:<number>"))?;
	Ok(best.saturating_add(blocks_for(seconds)))
}

pub(super) fn status_word(status: StreamStatus) -> &'static str {
	match status {
		StreamStatus::Registered => "registered",
		StreamStatus::Live => "live",
		StreamStatus::Ended => "ended",
	}
}

fn short_account(account: &AccountId) -> String {
	let text = account.to_ss58check();
	format!("{}…{}", &text[..6], &text[text.len() - 4..])
}

fn stream_json(id: u64, info: &StreamInfo) -> serde_json::Value {
	json!({
		"id": id,
		"title": String::from_utf8_lossy(&info.title),
		"description": String::from_utf8_lossy(&info.description),
		"creator": info.creator.to_ss58check(),
		"status": status_word(info.status),
		"price_per_second": info.price_per_second.to_string(),
		"price_per_second_text": format_amount(info.price_per_second),
		"max_viewers": info.max_viewers,
		"created_at": info.created_at,
		"started_at": info.started_at,
		"ended_at": info.ended_at,
		"origin": info.origin.as_ref().map(|origin| String::from_utf8_lossy(origin).into_owned()),
		"deposit": info.deposit.to_string(),
	})
}

/// `stream stats ID`: the stream's delivery quality on the node (`GET /streams/{id}/quality`).
async fn stats(session: &Session, id: u64) -> Outcome {
	let base = session.streaming_url()?;
	let url = format!("{base}/streams/{id}/quality");
	let answer =
		sutantra_streaming::client::Signalling::new()?.get_json(&url).await.map_err(|error| {
			Failure(format!(
				"{error}; is stream {id} live on this node? (`sutantra-node stream list --live`)"
			))
		})?;
	let quality = &answer["quality"];
	session.print(answer.clone(), || {
		let count = |name: &str| quality[name].as_u64().unwrap_or(0);
		let mut text = format!(
			"stream {id} on {base}: {} viewers, {} reporting (receiver reports of the last 5 s)\n",
			count("viewers"),
			count("reporting")
		);
		text.push_str(&format!("{:<12} {:>12} {:>12} {:>12}\n", "", "median", "95th", "worst"));
		let rows: [(&str, &str, fn(f64) -> String); 4] = [
			("round trip", "rtt_ms", |ms| format!("{ms:.1} ms")),
			("loss", "fraction_lost", |fraction| format!("{:.2} %", fraction * 100.0)),
			("jitter", "jitter_ms", |ms| format!("{ms:.1} ms")),
			("delivered", "delivered_kbps", |kbps| format!("{kbps:.0} kbit/s")),
		];
		for (label, name, show) in rows {
			let spread = &quality[name];
			let at = |which: &str| spread[which].as_f64().map_or_else(|| "-".to_owned(), show);
			text.push_str(&format!(
				"{label:<12} {:>12} {:>12} {:>12}\n",
				at("p50"),
				at("p95"),
				at("max")
			));
		}
		text.trim_end().to_owned()
	});
	Ok(())
}
