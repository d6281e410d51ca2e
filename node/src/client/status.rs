//! `sutantra-node status`: what a node is doing.

use serde_json::json;
use sutantra_runtime::apis::StreamInfo;
use sutantra_streaming::client::Signalling;

use super::{Outcome, Session};
use crate::cli::StatusCmd;

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
		format!(
			"chain:      {name}\n\
			 blocks:     best #{best}, finalised #{finalized}\n\
			 peers:      {}{}\n\
			 on chain:   {} live stream(s)\n\
			 streaming:  {streaming}",
			health.peers,
			if health.is_syncing { " (syncing)" } else { "" },
			on_chain.len(),
		)
	});
	Ok(())
}
