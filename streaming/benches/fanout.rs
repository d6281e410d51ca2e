//! Fan-out benchmark: one publisher (the 1.4 Mbit/s test video), 1 / 10 / 100 / 500 viewers on
//! loopback. Prints, for each viewer count, the engine's CPU per viewer, egress packets/s, the
//! forwarding latency it adds (p50/p99), the time from a WHEP request to the first frame, and
//! memory per viewer.
//!
//! ```sh
//! cargo bench -p sutantra-streaming --bench fanout              # 1, 10, 100, 500 viewers
//! cargo bench -p sutantra-streaming --bench fanout -- 1 10 50   # other counts
//! ```
//!
//! The engine and publisher run in this process; the viewers run in a child process (this
//! same binary with `--viewers`), so the engine's CPU and memory are measured alone. Both
//! share the machine's cores, so at high counts the viewers' own decryption competes with the
//! engine: the figures are a floor, not a ceiling.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sutantra_streaming::client::{PublishOptions, Publisher, Viewer, WatchOptions};
use sutantra_streaming::{AllowAll, Engine, Role, StreamingConfig};

const WINDOW: Duration = Duration::from_secs(10);
const STREAM: &str = "bench";

fn main() {
	let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
	let runtime =
		tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
	if args.first().map(String::as_str) == Some("--viewers") {
		let count: usize = args[1].parse().expect("viewer count");
		runtime.block_on(viewer_swarm(args[2].clone(), count));
		return;
	}
	let counts: Vec<usize> = if args.is_empty() {
		vec![1, 10, 100, 500]
	} else {
		args.iter().map(|arg| arg.parse().expect("viewer counts are numbers")).collect()
	};
	runtime.block_on(run(counts));
}

/// The child: connects `count` viewers, reports each one's time to first frame, then keeps
/// them watching until its standard input closes.
async fn viewer_swarm(endpoint: String, count: usize) {
	let mut viewers = Vec::new();
	let mut first_frames = Vec::new();
	let mut pending = Vec::new();
	for _ in 0..count {
		let endpoint = endpoint.clone();
		pending.push(tokio::spawn(async move {
			let viewer =
				Viewer::connect(WatchOptions { endpoint, token: None, output: None }).await?;
			let stats = viewer.wait_for_frames(1, Duration::from_secs(60)).await?;
			Ok::<_, sutantra_streaming::Error>((
				viewer,
				stats.first_frame_after.unwrap_or_default(),
			))
		}));
		// Joins arrive as a burst, but not all in the same millisecond.
		if pending.len() % 25 == 0 {
			tokio::time::sleep(Duration::from_millis(50)).await;
		}
	}
	let mut failures = 0;
	for task in pending {
		match task.await.expect("viewer task") {
			Ok((viewer, first)) => {
				first_frames.push(first.as_secs_f64() * 1000.0);
				viewers.push(viewer);
			},
			Err(error) => {
				failures += 1;
				eprintln!("viewer failed: {error}");
			},
		}
	}
	println!("{}", serde_json::json!({ "first_frame_ms": first_frames, "failures": failures }));
	std::io::stdout().flush().ok();
	let mut line = String::new();
	let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
	for viewer in viewers {
		viewer.abandon().await;
	}
}

struct Sample {
	cpu_seconds: f64,
	at: Instant,
	packets: u64,
}

async fn sample(engine: &Engine) -> Sample {
	let mut packets = 0;
	for session in engine.sessions().into_iter().filter(|s| s.role == Role::Viewer) {
		if let Ok(stats) = engine.session_stats(session.session).await {
			packets += stats.packets;
		}
	}
	Sample { cpu_seconds: process_cpu_seconds(), at: Instant::now(), packets }
}

async fn run(counts: Vec<usize>) {
	let config = StreamingConfig {
		max_viewers_per_stream: 2000,
		// Every bench viewer is one client on loopback: lift the per-client and connecting limits.
		max_sessions_per_client: 4000,
		max_pending_per_client: 4000,
		max_pending_sessions: 4000,
		requests_per_second_per_client: 4000,
		..StreamingConfig::loopback()
	};
	let (engine, mut events) =
		Engine::start(config, Arc::new(AllowAll)).await.expect("engine starts");
	tokio::spawn(async move { while events.recv().await.is_some() {} });
	let base = format!("http://{}", engine.http_addr().unwrap());
	let fixture = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
		.join("fixtures/testsrc-640x360-30fps-vp8.ivf");
	let publisher = Publisher::start(PublishOptions {
		endpoint: format!("{base}/whip/{STREAM}"),
		token: None,
		file: fixture,
		looped: true,
	})
	.await
	.expect("publisher connects");
	while engine.live_streams().is_empty() {
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	tokio::time::sleep(Duration::from_secs(1)).await;

	let idle_rss = rss_bytes();
	let idle = sample(&engine).await;
	tokio::time::sleep(WINDOW).await;
	let idle_end = sample(&engine).await;
	let idle_cpu = (idle_end.cpu_seconds - idle.cpu_seconds)
		/ idle_end.at.duration_since(idle.at).as_secs_f64();

	println!();
	println!(
		"fan-out of one {:.2} Mbit/s VP8 publisher on loopback ({} s windows)",
		1.37,
		WINDOW.as_secs()
	);
	println!(
		"engine with publisher only: {:.1} % of a core, RSS {} MiB",
		idle_cpu * 100.0,
		idle_rss / (1 << 20)
	);
	println!();
	println!(
		"| viewers | joined | engine CPU (cores) | CPU per viewer (% core) | egress packets/s | egress Mbit/s | forwarding p50 / p99 (ms) | WHEP -> first frame p50 / p99 (ms) | RSS (MiB) | RSS per viewer (KiB) |"
	);
	println!("|---|---|---|---|---|---|---|---|---|---|");
	for count in counts {
		let endpoint = format!("{base}/whep/{STREAM}");
		let mut child = Command::new(std::env::current_exe().expect("own path"))
			.args(["--viewers", &count.to_string(), &endpoint])
			.stdin(Stdio::piped())
			.stdout(Stdio::piped())
			.spawn()
			.expect("viewer process starts");
		let mut report = String::new();
		let stdout = child.stdout.take().unwrap();
		let report = tokio::task::spawn_blocking(move || {
			BufReader::new(stdout).read_line(&mut report).map(|_| report)
		})
		.await
		.unwrap()
		.expect("viewer report");
		let report: serde_json::Value =
			serde_json::from_str(&report).expect("viewer report is JSON");
		let mut first: Vec<f64> = report["first_frame_ms"]
			.as_array()
			.unwrap()
			.iter()
			.filter_map(|v| v.as_f64())
			.collect();
		first.sort_by(f64::total_cmp);
		let joined = first.len();

		tokio::time::sleep(Duration::from_secs(2)).await;
		engine.reset_forwarding_latency();
		let start = sample(&engine).await;
		let rss = rss_bytes();
		tokio::time::sleep(WINDOW).await;
		let end = sample(&engine).await;
		let seconds = end.at.duration_since(start.at).as_secs_f64();
		let cores = (end.cpu_seconds - start.cpu_seconds) / seconds;
		let packets_per_second = (end.packets - start.packets) as f64 / seconds;
		let latency = engine.forwarding_latency();
		let per_viewer_cpu = (cores - idle_cpu).max(0.0) / joined.max(1) as f64;
		let per_viewer_rss = rss.saturating_sub(idle_rss) / joined.max(1) as u64;
		// Egress bitrate: packets times the stream's average packet size.
		let mbits = packets_per_second * average_packet_bytes(&engine).await * 8.0 / 1e6;
		println!(
			"| {count} | {joined} | {cores:.2} | {:.2} | {packets_per_second:.0} | {mbits:.1} | {:.2} / {:.2} | {:.0} / {:.0} | {} | {} |",
			per_viewer_cpu * 100.0,
			latency.p50_us / 1000.0,
			latency.p99_us / 1000.0,
			percentile(&first, 0.5),
			percentile(&first, 0.99),
			rss / (1 << 20),
			per_viewer_rss / 1024,
		);

		drop(child.stdin.take());
		let _ = tokio::task::spawn_blocking(move || child.wait()).await;
		// Let the engine notice and clean up before the next round.
		let deadline = Instant::now() + Duration::from_secs(60);
		while engine.sessions().iter().any(|s| s.role == Role::Viewer) && Instant::now() < deadline
		{
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
		for session in engine.sessions().into_iter().filter(|s| s.role == Role::Viewer) {
			let _ = engine.drop_viewer(session.session, "benchmark round over").await;
		}
	}
	publisher.stop().await.ok();
	engine.shutdown().await;
}

async fn average_packet_bytes(engine: &Engine) -> f64 {
	let (mut packets, mut bytes) = (0u64, 0u64);
	for session in engine.sessions().into_iter().filter(|s| s.role == Role::Publisher) {
		if let Ok(stats) = engine.session_stats(session.session).await {
			packets += stats.packets;
			bytes += stats.payload_bytes;
		}
	}
	// RTP, SRTP, UDP and IP headers add about 12 + 10 + 8 + 20 bytes to each payload.
	if packets == 0 {
		0.0
	} else {
		bytes as f64 / packets as f64 + 50.0
	}
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
	if sorted.is_empty() {
		return 0.0;
	}
	let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
	sorted[index]
}

/// This process's user + system CPU time, from /proc/self/stat (Linux).
fn process_cpu_seconds() -> f64 {
	let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
	let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
	let ticks: f64 = fields
		.get(11..13)
		.map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
		.unwrap_or(0.0);
	ticks / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
	// The kernel's USER_HZ, fixed at 100 on every Linux architecture we build for.
	100.0
}

/// Resident memory of this process, from /proc/self/status.
fn rss_bytes() -> u64 {
	let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
	status
		.lines()
		.find_map(|line| line.strip_prefix("VmRSS:"))
		.and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
		.map(|kib| kib * 1024)
		.unwrap_or(0)
}
