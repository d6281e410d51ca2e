//! Fan-out benchmark: one publisher, N viewers on loopback, each party in a process of its own.
//!
//! ```sh
//! scripts/bench.sh fanout                                    # 1.4 Mbit/s: 1, 10, 100, 500 viewers
//! scripts/bench.sh fanout -- --source 300k 1000              # 300 kbit/s, 1,000 viewers
//! scripts/bench.sh fanout -- --source 300k --late 60 1000    # ... and 60 late joiners, not 20
//! scripts/bench.sh fanout -- --source 1080p 100              # 1080p30 at 4.3 Mbit/s, 100 viewers
//! scripts/bench.sh fanout -- --soak 600 --churn 10 500       # 10-minute soak, 10 % churn a minute
//! ```
//!
//! Processes (this binary in different roles): the engine alone (`--engine`), the publisher
//! (`--publisher`), the viewers (`--viewers`; one process for the whole audience) and, while the
//! audience watches, a late joiner (`--viewers` with one viewer at a time). CPU and memory are
//! read from `/proc/<pid>` of each process, so the engine's figures exclude the publisher and the
//! viewers. All processes share the machine's cores: the viewers' own decryption competes with
//! the engine.
//!
//! What each column measures:
//! - delivered: per viewer, video packets it received in the window divided by the video packets
//!   the engine received from the publisher in the same window (both counted at the receiving
//!   end); lost: packets missing from the sequence numbers viewers saw (RFC 3550 A.1);
//! - whole frames: frames with no gap in their sequence numbers (the viewers do not decode);
//! - egress: the viewers' received RTP payload bytes, in Mbit/s per viewer and in total;
//! - forwarding: in the engine, from a publisher's packet arriving at its session to the socket
//!   write of the viewer's encrypted copy;
//! - join: from the start of `Viewer::connect` (building the connection, its offer and ICE
//!   gathering, the WHEP request) to the end of the first frame; "burst" for the audience's
//!   joins, "late" for viewers joining one at a time while the audience watches.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sutantra_streaming::client::{PublishOptions, Publisher, Viewer, WatchOptions};
use sutantra_streaming::{AllowAll, Engine, Role, StreamingConfig};

/// Every role allocates as the node does (jemalloc, purging from a background thread), so the
/// engine's memory is what a node's would be.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const STREAM: &str = "bench";
/// Joins per second while an audience connects.
const JOINS_PER_SECOND: u64 = 100;
/// Viewers that join one after another while the audience watches (`--late` changes it).
const LATE_JOINS: usize = 20;

fn main() {
	let _ = tikv_jemalloc_ctl::background_thread::write(true);
	let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
	match args.first().map(String::as_str) {
		Some("--engine") => child_runtime().block_on(engine_role()),
		Some("--publisher") => child_runtime().block_on(publisher_role(&args[1], &args[2])),
		Some("--viewers") => {
			let count = args[2].parse().expect("viewer count");
			child_runtime().block_on(viewers_role(args[1].clone(), count))
		},
		_ => orchestrate(Plan::parse(&args)),
	}
}

fn child_runtime() -> tokio::runtime::Runtime {
	tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}

/// What to run: the source, the audience sizes, and the window or soak.
struct Plan {
	source: (&'static str, &'static str),
	counts: Vec<usize>,
	window: Duration,
	soak: Option<Duration>,
	churn_percent: usize,
	late_joins: usize,
}

impl Plan {
	fn parse(args: &[String]) -> Plan {
		let mut plan = Plan {
			source: SOURCES[0],
			counts: Vec::new(),
			window: Duration::from_secs(10),
			soak: None,
			churn_percent: 0,
			late_joins: LATE_JOINS,
		};
		let mut args = args.iter();
		while let Some(arg) = args.next() {
			let mut value = || args.next().expect("a value after the option").clone();
			match arg.as_str() {
				"--source" => {
					let name = value();
					plan.source = *SOURCES
						.iter()
						.find(|(source, _)| *source == name)
						.unwrap_or_else(|| panic!("sources: 1400k, 300k, 1080p; not {name}"));
				},
				"--window" => plan.window = Duration::from_secs(value().parse().expect("seconds")),
				"--soak" => {
					plan.soak = Some(Duration::from_secs(value().parse().expect("seconds")))
				},
				"--churn" => plan.churn_percent = value().parse().expect("percent per minute"),
				"--late" => plan.late_joins = value().parse().expect("a number of viewers"),
				count => plan.counts.push(count.parse().expect("viewer counts are numbers")),
			}
		}
		if plan.counts.is_empty() {
			plan.counts = if plan.soak.is_some() { vec![500] } else { vec![1, 10, 100, 500] };
		}
		plan
	}
}

/// The test videos (`streaming/fixtures/`).
const SOURCES: [(&str, &str); 3] = [
	("1400k", "testsrc-640x360-30fps-vp8.ivf"),
	("300k", "testsrc-640x360-30fps-vp8-300k.ivf"),
	("1080p", "testsrc-1920x1080-30fps-vp8-5m.ivf"),
];

// ---- the engine ----

async fn engine_role() {
	let config = StreamingConfig {
		max_viewers_per_stream: 5000,
		// Every bench viewer is one client on loopback: lift the per-client and connecting limits.
		max_sessions_per_client: 10_000,
		max_pending_per_client: 10_000,
		max_pending_sessions: 10_000,
		max_connections_per_client: 10_000,
		requests_per_second_per_client: 10_000,
		handshake_timeout: Duration::from_secs(60),
		..StreamingConfig::loopback()
	};
	let (engine, mut events) =
		Engine::start(config, Arc::new(AllowAll)).await.expect("engine starts");
	tokio::spawn(async move { while events.recv().await.is_some() {} });
	say(json!({ "http": engine.http_addr().unwrap().to_string() }));
	let mut commands = stdin_lines();
	while let Some(command) = commands.recv().await {
		match command.as_str() {
			"reset" => {
				engine.reset_forwarding_latency();
				say(json!({}));
			},
			"report" => say(engine_report(&engine).await),
			_ => say(json!({ "error": command })),
		}
	}
	engine.shutdown().await;
}

async fn engine_report(engine: &Engine) -> Value {
	let (mut published_packets, mut published_bytes, mut viewers) = (0, 0, 0);
	for session in engine.sessions() {
		match session.role {
			Role::Publisher => {
				if let Ok(stats) = engine.session_stats(session.session).await {
					published_packets += stats.packets;
					published_bytes += stats.payload_bytes;
				}
			},
			Role::Viewer => viewers += usize::from(session.connected),
		}
	}
	let latency = engine.forwarding_latency();
	let socket = engine.media_socket_stats();
	json!({
		"published_packets": published_packets,
		"published_bytes": published_bytes,
		"viewers": viewers,
		"forwarding_p50_us": latency.p50_us,
		"forwarding_p99_us": latency.p99_us,
		"unrouted": socket.unrouted,
		"overflowed": socket.overflowed,
	})
}

// ---- the publisher ----

async fn publisher_role(endpoint: &str, fixture: &str) {
	let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(fixture);
	let publisher = Publisher::start(PublishOptions {
		endpoint: endpoint.to_owned(),
		token: None,
		file,
		looped: true,
		lower_layers: Vec::new(),
	})
	.await
	.expect("publisher connects");
	say(json!({ "publishing": true }));
	let mut commands = stdin_lines();
	while commands.recv().await.is_some() {
		say(json!({ "frames_sent": publisher.frames_sent() }));
	}
	publisher.stop().await.ok();
}

// ---- the viewers ----

/// Connects `count` viewers at [`JOINS_PER_SECOND`] (1 viewer: at once) and reports each one's
/// join time; then answers `report` with every viewer's counts, `churn N` by replacing N
/// viewers, until its standard input closes.
async fn viewers_role(endpoint: String, count: usize) {
	let (joined, joins, failures) = join(&endpoint, count).await;
	// Each viewer keeps a number, so a report compares the same viewers across churn.
	let mut next_id = 0u64;
	let mut number = |viewers: Vec<Viewer>| -> Vec<(u64, Viewer)> {
		viewers
			.into_iter()
			.map(|viewer| {
				next_id += 1;
				(next_id, viewer)
			})
			.collect()
	};
	let mut viewers = number(joined);
	say(json!({ "join_ms": joins, "failures": failures }));
	let mut commands = stdin_lines();
	while let Some(command) = commands.recv().await {
		if let Some(replace) = command.strip_prefix("churn ") {
			let replace: usize = replace.parse().expect("churn count");
			let leaving: Vec<(u64, Viewer)> = viewers.drain(..replace.min(viewers.len())).collect();
			for (_, viewer) in leaving {
				let _ = viewer.stop().await;
			}
			let (joined, joins, failures) = join(&endpoint, replace).await;
			viewers.extend(number(joined));
			say(json!({ "join_ms": joins, "failures": failures }));
			continue;
		}
		let counts: Vec<Value> = viewers
			.iter()
			.map(|(id, viewer)| {
				let stats = viewer.stats();
				json!([
					id,
					stats.packets,
					stats.packets_lost,
					stats.frames,
					stats.frames_complete,
					stats.payload_bytes,
					viewer.ended_reason().is_some()
				])
			})
			.collect();
		say(json!({ "viewers": counts }));
	}
	futures::future::join_all(viewers.into_iter().map(|(_, viewer)| viewer.abandon())).await;
}

async fn join(endpoint: &str, count: usize) -> (Vec<Viewer>, Vec<f64>, usize) {
	let mut pending = Vec::new();
	let pause = Duration::from_micros(1_000_000 / JOINS_PER_SECOND);
	for _ in 0..count {
		let endpoint = endpoint.to_owned();
		pending.push(tokio::spawn(async move {
			let viewer =
				Viewer::connect(WatchOptions { endpoint, token: None, output: None }).await?;
			let stats = viewer.wait_for_frames(1, Duration::from_secs(60)).await?;
			Ok::<_, sutantra_streaming::Error>((
				viewer,
				stats.first_frame_after.unwrap_or_default(),
			))
		}));
		if count > 1 {
			tokio::time::sleep(pause).await;
		}
	}
	let (mut viewers, mut joins, mut failures) = (Vec::new(), Vec::new(), 0);
	for task in pending {
		match task.await.expect("viewer task") {
			Ok((viewer, first)) => {
				joins.push(first.as_secs_f64() * 1000.0);
				viewers.push(viewer);
			},
			Err(error) => {
				failures += 1;
				eprintln!("viewer failed: {error}");
			},
		}
	}
	(viewers, joins, failures)
}

// ---- the orchestra ----

/// A child process (this binary in a role) answering each command with one JSON line.
struct Process {
	process: Child,
	stdin: Option<ChildStdin>,
	stdout: BufReader<ChildStdout>,
}

impl Process {
	/// Starts a role and returns it with the line it printed once ready.
	fn start(args: &[&str]) -> (Process, Value) {
		let mut process = Command::new(std::env::current_exe().expect("own path"))
			.args(args)
			.stdin(Stdio::piped())
			.stdout(Stdio::piped())
			.spawn()
			.expect("child process starts");
		let stdin = process.stdin.take();
		let stdout = BufReader::new(process.stdout.take().unwrap());
		let mut role = Process { process, stdin, stdout };
		let first = role.read();
		(role, first)
	}

	fn read(&mut self) -> Value {
		let mut line = String::new();
		self.stdout.read_line(&mut line).expect("child report");
		serde_json::from_str(&line).unwrap_or_else(|_| panic!("child report is JSON: {line:?}"))
	}

	fn ask(&mut self, command: &str) -> Value {
		let stdin = self.stdin.as_mut().expect("child running");
		writeln!(stdin, "{command}").expect("child reads");
		stdin.flush().ok();
		self.read()
	}

	fn cpu_seconds(&self) -> f64 {
		process_cpu_seconds(self.process.id())
	}

	fn rss_bytes(&self) -> u64 {
		process_rss_bytes(self.process.id())
	}

	fn stop(mut self) {
		drop(self.stdin.take());
		let _ = self.process.wait();
	}
}

/// A window's start or end: every process's CPU, and what the engine and viewers counted.
struct Sample {
	at: Instant,
	engine_cpu: f64,
	viewers_cpu: f64,
	engine: Value,
	viewers: Vec<Value>,
}

fn sample(engine: &mut Process, audience: &mut Process) -> Sample {
	let engine_report = engine.ask("report");
	let viewers_report = audience.ask("report");
	Sample {
		at: Instant::now(),
		engine_cpu: engine.cpu_seconds(),
		viewers_cpu: audience.cpu_seconds(),
		engine: engine_report,
		viewers: viewers_report["viewers"].as_array().cloned().unwrap_or_default(),
	}
}

fn orchestrate(plan: Plan) {
	let (mut engine, hello) = Process::start(&["--engine"]);
	let base = format!("http://{}", hello["http"].as_str().expect("engine address"));
	let whip = format!("{base}/whip/{STREAM}");
	let whep = format!("{base}/whep/{STREAM}");
	let (mut publisher, _) = Process::start(&["--publisher", &whip, plan.source.1]);
	std::thread::sleep(Duration::from_secs(2));

	let idle_start = (Instant::now(), engine.cpu_seconds(), engine.ask("report"));
	std::thread::sleep(plan.window);
	let idle_end = (Instant::now(), engine.cpu_seconds(), engine.ask("report"));
	let idle_seconds = idle_end.0.duration_since(idle_start.0).as_secs_f64();
	let idle_cpu = (idle_end.1 - idle_start.1) / idle_seconds;
	let idle_rss = engine.rss_bytes();
	let source_packets =
		counter(&idle_end.2, "published_packets") - counter(&idle_start.2, "published_packets");
	let source_bytes =
		counter(&idle_end.2, "published_bytes") - counter(&idle_start.2, "published_bytes");
	let source_mbits = source_bytes as f64 * 8.0 / idle_seconds / 1e6;
	println!();
	println!(
		"fan-out of `{}` ({}): {:.2} Mbit/s RTP payload, {:.0} packets/s, measured at the engine; \
		 {} s windows; engine with the publisher only: {:.1} % of a core, RSS {} MiB",
		plan.source.0,
		plan.source.1,
		source_mbits,
		source_packets as f64 / idle_seconds,
		plan.window.as_secs(),
		idle_cpu * 100.0,
		idle_rss >> 20,
	);
	if let Some(soak) = plan.soak {
		run_soak(&mut engine, &whep, plan.counts[0], soak, plan.churn_percent);
	} else {
		println!();
		println!(
			"| viewers | joined | engine CPU (cores) | engine CPU per viewer (% core) | engine RSS (MiB) | engine RSS per viewer (KiB) | delivered min / median (%) | lost packets | whole frames (%) | egress per viewer / total (Mbit/s) | forwarding p50 / p99 (ms) | burst join p50 / p99 (ms) | late join p50 / max (ms) | viewers' process CPU (cores) |"
		);
		println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
		for &count in &plan.counts {
			run_round(&mut engine, &whep, count, &plan, idle_cpu, idle_rss);
		}
	}
	publisher.ask("report");
	publisher.stop();
	engine.stop();
}

fn run_round(
	engine: &mut Process,
	whep: &str,
	count: usize,
	plan: &Plan,
	idle_cpu: f64,
	idle_rss: u64,
) {
	let (mut audience, joined) = Process::start(&["--viewers", whep, &count.to_string()]);
	let burst = sorted(&joined["join_ms"]);
	std::thread::sleep(Duration::from_secs(3));

	engine.ask("reset");
	let start = sample(engine, &mut audience);
	std::thread::sleep(plan.window);
	let end = sample(engine, &mut audience);
	let rss = engine.rss_bytes();
	let late = late_joins(whep, plan.late_joins);
	let figures = Figures::between(&start, &end);
	let seconds = end.at.duration_since(start.at).as_secs_f64();
	let cores = (end.engine_cpu - start.engine_cpu) / seconds;
	let viewer_cores = (end.viewers_cpu - start.viewers_cpu) / seconds;
	let joined_count = burst.len();
	println!(
		"| {count} | {joined_count} | {cores:.2} | {:.3} | {} | {} | {:.1} / {:.1} | {} | {:.1} | {:.2} / {:.0} | {:.2} / {:.2} | {:.0} / {:.0} | {:.0} / {:.0} | {viewer_cores:.2} |",
		(cores - idle_cpu).max(0.0) / joined_count.max(1) as f64 * 100.0,
		rss >> 20,
		rss.saturating_sub(idle_rss) / joined_count.max(1) as u64 / 1024,
		figures.delivered_min * 100.0,
		figures.delivered_median * 100.0,
		figures.lost,
		figures.whole_frames * 100.0,
		figures.egress_per_viewer_mbits,
		figures.egress_total_mbits,
		counter_f(&end.engine, "forwarding_p50_us") / 1000.0,
		counter_f(&end.engine, "forwarding_p99_us") / 1000.0,
		percentile(&burst, 0.5),
		percentile(&burst, 0.99),
		percentile(&late, 0.5),
		late.last().copied().unwrap_or(0.0),
	);
	audience.stop();
	wait_for_viewers(engine, 0);
}

/// Viewers joining one at a time while the audience watches: each one's join time.
fn late_joins(whep: &str, count: usize) -> Vec<f64> {
	let mut joins = Vec::new();
	for _ in 0..count {
		let (late, joined) = Process::start(&["--viewers", whep, "1"]);
		joins.extend(sorted(&joined["join_ms"]));
		late.stop();
	}
	joins.sort_by(f64::total_cmp);
	joins
}

/// A soak: `count` viewers for `duration`, `churn_percent` of them replaced every minute;
/// one line a minute with the engine's RSS and the viewers still receiving.
fn run_soak(
	engine: &mut Process,
	whep: &str,
	count: usize,
	duration: Duration,
	churn_percent: usize,
) {
	let (mut audience, joined) = Process::start(&["--viewers", whep, &count.to_string()]);
	println!(
		"soak: {count} viewers ({} joined), {churn_percent} % replaced every minute, for {} s",
		sorted(&joined["join_ms"]).len(),
		duration.as_secs()
	);
	std::thread::sleep(Duration::from_secs(10));
	let first_rss = engine.rss_bytes();
	let started_at = Instant::now();
	println!("| minute | engine RSS (MiB) | growth since minute 0 (%) | viewers receiving / connected | joins that minute (failed) | lost packets that minute | delivered min (%) |");
	println!("|---|---|---|---|---|---|---|");
	let mut previous = sample(engine, &mut audience);
	let mut minute = 0;
	while started_at.elapsed() < duration {
		let churn = count * churn_percent / 100;
		let (joins, failed) = if churn > 0 {
			let report = audience.ask(&format!("churn {churn}"));
			(sorted(&report["join_ms"]).len(), counter(&report, "failures"))
		} else {
			(0, 0)
		};
		let next_minute = started_at + Duration::from_secs(60 * (minute + 1));
		std::thread::sleep(next_minute.saturating_duration_since(Instant::now()));
		let now = sample(engine, &mut audience);
		minute += 1;
		let figures = Figures::between(&previous, &now);
		let rss = engine.rss_bytes();
		println!(
			"| {minute} | {} | {:+.1} | {} / {} | {joins} ({failed}) | {} | {:.1} |",
			rss >> 20,
			(rss as f64 / first_rss as f64 - 1.0) * 100.0,
			figures.receiving,
			now.viewers.len(),
			figures.lost,
			figures.delivered_min * 100.0,
		);
		previous = now;
	}
	audience.stop();
}

/// What the viewers received between two samples, against what the publisher sent.
struct Figures {
	delivered_min: f64,
	delivered_median: f64,
	lost: u64,
	whole_frames: f64,
	egress_per_viewer_mbits: f64,
	egress_total_mbits: f64,
	/// Viewers whose packet count rose.
	receiving: usize,
}

impl Figures {
	fn between(start: &Sample, end: &Sample) -> Figures {
		let seconds = end.at.duration_since(start.at).as_secs_f64();
		let sent = counter(&end.engine, "published_packets")
			.saturating_sub(counter(&start.engine, "published_packets"))
			.max(1);
		let field = |viewer: &Value, index: usize| viewer[index].as_u64().unwrap_or(0);
		let (mut ratios, mut lost, mut frames, mut whole, mut bytes, mut receiving) =
			(Vec::new(), 0, 0, 0, 0, 0);
		// The same viewers in both samples, by number; one that joined in between (churn) counts
		// as receiving, but its share of the window is not comparable.
		let before: std::collections::HashMap<u64, &Value> =
			start.viewers.iter().map(|viewer| (field(viewer, 0), viewer)).collect();
		for after in &end.viewers {
			let Some(before) = before.get(&field(after, 0)) else {
				receiving += usize::from(field(after, 1) > 0);
				continue;
			};
			let packets = field(after, 1).saturating_sub(field(before, 1));
			receiving += usize::from(packets > 0);
			ratios.push(packets as f64 / sent as f64);
			lost += field(after, 2).saturating_sub(field(before, 2));
			frames += field(after, 3).saturating_sub(field(before, 3));
			whole += field(after, 4).saturating_sub(field(before, 4));
			bytes += field(after, 5).saturating_sub(field(before, 5));
		}
		ratios.sort_by(f64::total_cmp);
		let viewers = ratios.len().max(1) as f64;
		Figures {
			delivered_min: ratios.first().copied().unwrap_or(0.0).min(1.0),
			delivered_median: percentile(&ratios, 0.5).min(1.0),
			lost,
			whole_frames: if frames == 0 { 0.0 } else { whole as f64 / frames as f64 },
			egress_per_viewer_mbits: bytes as f64 * 8.0 / seconds / 1e6 / viewers,
			egress_total_mbits: bytes as f64 * 8.0 / seconds / 1e6,
			receiving,
		}
	}
}

fn wait_for_viewers(engine: &mut Process, count: u64) {
	let deadline = Instant::now() + Duration::from_secs(60);
	while counter(&engine.ask("report"), "viewers") > count && Instant::now() < deadline {
		std::thread::sleep(Duration::from_millis(500));
	}
}

// ---- helpers ----

fn say(value: Value) {
	let mut stdout = std::io::stdout().lock();
	writeln!(stdout, "{value}").ok();
	stdout.flush().ok();
}

/// Standard input's lines, read on a thread of their own.
fn stdin_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
	let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
	std::thread::spawn(move || {
		for line in std::io::stdin().lock().lines() {
			let Ok(line) = line else { break };
			if sender.send(line.trim().to_owned()).is_err() {
				break;
			}
		}
	});
	receiver
}

fn counter(value: &Value, key: &str) -> u64 {
	value[key].as_u64().unwrap_or(0)
}

fn counter_f(value: &Value, key: &str) -> f64 {
	value[key].as_f64().unwrap_or(0.0)
}

fn sorted(values: &Value) -> Vec<f64> {
	let mut values: Vec<f64> =
		values.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
	values.sort_by(f64::total_cmp);
	values
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
	if sorted.is_empty() {
		return 0.0;
	}
	let index = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
	sorted[index]
}

/// A process's user + system CPU time, all threads, from /proc/<pid>/stat (Linux).
fn process_cpu_seconds(pid: u32) -> f64 {
	let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
	let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
	let ticks: f64 = fields
		.get(11..13)
		.map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
		.unwrap_or(0.0);
	// The kernel's USER_HZ, fixed at 100 on every Linux architecture we build for.
	ticks / 100.0
}

/// A process's resident memory, from /proc/<pid>/status.
fn process_rss_bytes(pid: u32) -> u64 {
	let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
	status
		.lines()
		.find_map(|line| line.strip_prefix("VmRSS:"))
		.and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
		.map(|kib| kib * 1024)
		.unwrap_or(0)
}
