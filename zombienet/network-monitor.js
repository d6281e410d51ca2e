// A zombienet js-script that measures a network through its whole test. The first argument
// says what to do:
//   start                 start monitor-process.js, which follows every node's best and
//                         finalised heads and samples each node's memory until `report`
//   mark,<phase>          from now on, count what is observed toward <phase> (a fault)
//   report,<node>,<min s> wait until the monitor has run <min s> seconds, stop it, and print
//                         per phase, as <node> saw it: block time and finality lag (p50, p99,
//                         max), and each node's resident memory. Throws if the monitor failed,
//                         a node went a minute without a finalised head or fell behind, or
//                         finality lagged more than a minute at p99 outside the fault that stops
//                         it and the wait for it to recover. Returns the whole minutes monitored.
// Files (in the network's directory): network-heads.jsonl (the observations),
// network-phases.jsonl (the marks), network-figures.md (the report; also copied to
// $SUTANTRA_NETWORK_FIGURES when set).

const { spawn } = require("node:child_process");
const { appendFileSync, readFileSync, writeFileSync, existsSync } = require("node:fs");
const { join } = require("node:path");

const MAX_MONITOR_SECONDS = 3600;
// The fault in which finality is meant to stop, and the wait for it to come back: their lag is
// reported, not bounded (fault-checks.js bounds the recovery).
const STALL_PHASE = "third-of-validators-paused";
const RECOVERY_PHASE = "third-of-validators-resumed";
const LAG_P99_BOUND_MS = 60_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function files(networkInfo) {
  return {
    heads: join(networkInfo.tmpDir, "network-heads.jsonl"),
    phases: join(networkInfo.tmpDir, "network-phases.jsonl"),
    pid: join(networkInfo.tmpDir, "network-monitor.pid"),
    figures: join(networkInfo.tmpDir, "network-figures.md"),
  };
}

const readLines = (path) =>
  existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];

function mark(networkInfo, phase) {
  appendFileSync(files(networkInfo).phases, JSON.stringify({ t: Date.now(), phase }) + "\n");
  console.log(`phase: ${phase}`);
}

async function start(networkInfo) {
  const f = files(networkInfo);
  const pairs = Object.values(networkInfo.nodesByName).map((n) => `${n.name}=${n.wsUri}`);
  // It follows zombienet's process (this one): when the test ends, however it ends, so does it.
  const child = spawn(
    process.execPath,
    [join(__dirname, "monitor-process.js"), f.heads, String(MAX_MONITOR_SECONDS), String(process.pid), ...pairs],
    { detached: true, stdio: "ignore", cwd: __dirname },
  );
  child.unref();
  writeFileSync(f.pid, String(child.pid));
  // Measuring starts once every node has been heard from.
  const names = Object.keys(networkInfo.nodesByName);
  for (;;) {
    const heard = new Set(readLines(f.heads).filter((l) => l.kind === "final").map((l) => l.node));
    const errors = readLines(f.heads).filter((l) => l.kind === "error");
    if (errors.length) throw new Error(`the monitor failed: ${errors.map((e) => `${e.node}: ${e.message}`).join("; ")}`);
    if (names.every((n) => heard.has(n))) break;
    await sleep(500);
  }
  mark(networkInfo, "normal");
  return 1;
}

/// The nearest-rank percentile of `values`, or null when there are none.
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const seconds = (ms) => (ms === null ? "–" : (ms / 1000).toFixed(1));

function analyse(lines, phases, reference, end) {
  const phaseAt = (t) => {
    let name = phases[0].phase;
    for (const p of phases) if (p.t <= t) name = p.phase;
    return name;
  };
  // When the reference node first saw each height as its best block, and when it first saw a
  // finalised head at or above it.
  const imported = new Map();
  const finals = [];
  for (const l of lines) {
    if (l.node !== reference) continue;
    if (l.kind === "best" && !imported.has(l.n)) imported.set(l.n, l.t);
    if (l.kind === "final") finals.push(l);
  }
  finals.sort((a, b) => a.t - b.t);
  const per = new Map(phases.map((p) => [p.phase, { blocks: 0, blockTimes: [], lags: [], unfinalised: 0 }]));
  const heights = [...imported.keys()].sort((a, b) => a - b);
  for (const h of heights) {
    const t = imported.get(h);
    if (t < phases[0].t) continue;
    const entry = per.get(phaseAt(t));
    entry.blocks += 1;
    if (imported.has(h - 1)) entry.blockTimes.push(t - imported.get(h - 1));
    const final = finals.find((f) => f.n >= h && f.t >= t);
    const finalisedAt = final ? final.t : end;
    // A block still waiting when finality was stopped on purpose waits for the stall: its lag
    // counts toward that fault.
    const stall = phases.find((p) => p.phase === STALL_PHASE && p.t > t && p.t < finalisedAt);
    const lagEntry = stall ? per.get(STALL_PHASE) : entry;
    lagEntry.lags.push(finalisedAt - t);
    if (!final) lagEntry.unfinalised += 1;
  }
  return per;
}

async function report(networkInfo, reference, minSeconds) {
  const f = files(networkInfo);
  const phases = readLines(f.phases);
  if (phases.length === 0) throw new Error("the monitor was not started (network-monitor.js start)");
  const started = phases[0].t;
  const wait = started + minSeconds * 1000 - Date.now();
  if (wait > 0) {
    console.log(`monitoring ${Math.ceil(wait / 1000)} s more, to ${minSeconds} s in all`);
    await sleep(wait);
  }
  const end = Date.now();
  try {
    process.kill(Number(readFileSync(f.pid, "utf8")), "SIGTERM");
  } catch {
    // It stopped by itself.
  }
  await sleep(500);
  const lines = readLines(f.heads).filter((l) => l.t <= end);
  const errors = lines.filter((l) => l.kind === "error");
  if (errors.length) throw new Error(`the monitor failed: ${errors.map((e) => `${e.node}: ${e.message}`).join("; ")}`);
  const per = analyse(lines, phases, reference, end);

  const out = [];
  out.push(`Measured by zombienet/monitor-process.js over ${((end - started) / 60000).toFixed(1)} minutes: the`);
  out.push(`monitor's clock on receipt of ${reference}'s new-head and finalised-head notifications (RPC`);
  out.push(`subscriptions). Block time: between the first notices of consecutive heights. Finality lag:`);
  out.push(`from a height's first notice as best block to the first finalised head at or above it.`);
  out.push("");
  out.push("| phase | lasted (s) | blocks imported | block time p50 / p99 / max (s) | finality lag p50 / p99 / max (s) |");
  out.push("|---|---|---|---|---|");
  phases.forEach((p, i) => {
    const e = per.get(p.phase);
    const lasted = ((i + 1 < phases.length ? phases[i + 1].t : end) - p.t) / 1000;
    const bt = e.blockTimes;
    const lag = e.lags;
    const unfinalised = e.unfinalised ? ` (${e.unfinalised} still pending at the end, counted up to it)` : "";
    out.push(
      `| ${p.phase} | ${lasted.toFixed(0)} | ${e.blocks} | ${seconds(percentile(bt, 50))} / ${seconds(percentile(bt, 99))} / ${seconds(percentile(bt, 100))} | ${seconds(percentile(lag, 50))} / ${seconds(percentile(lag, 99))} / ${seconds(percentile(lag, 100))}${unfinalised} |`,
    );
  });

  // Every node: the last best and finalised heights it reported, and its memory.
  const nodes = Object.keys(networkInfo.nodesByName);
  out.push("");
  out.push("| node | last best | last finalised | RSS at the end (MiB) | RSS max (MiB) |");
  out.push("|---|---|---|---|---|");
  const lastFinal = {};
  for (const name of nodes) {
    const mine = lines.filter((l) => l.node === name);
    const best = Math.max(-1, ...mine.filter((l) => l.kind === "best").map((l) => l.n));
    lastFinal[name] = Math.max(-1, ...mine.filter((l) => l.kind === "final").map((l) => l.n));
    const rss = mine.filter((l) => l.kind === "rss").map((l) => l.kb);
    const mib = (kb) => (kb === undefined ? "–" : (kb / 1024).toFixed(0));
    out.push(`| ${name} | ${best} | ${lastFinal[name]} | ${mib(rss[rss.length - 1])} | ${mib(rss.length ? Math.max(...rss) : undefined)} |`);
  }
  const text = out.join("\n");
  console.log(text);
  writeFileSync(f.figures, text + "\n");
  if (process.env.SUTANTRA_NETWORK_FIGURES) writeFileSync(process.env.SUTANTRA_NETWORK_FIGURES, text + "\n");

  const silent = nodes.filter((n) => !lines.some((l) => l.node === n && l.kind === "final" && l.t > end - 60_000));
  if (silent.length) throw new Error(`no finalised head in the last minute from: ${silent.join(", ")}`);
  const top = Math.max(...Object.values(lastFinal));
  const referenceBest = Math.max(...lines.filter((l) => l.node === reference && l.kind === "best").map((l) => l.n));
  if (lastFinal[reference] < referenceBest - 10) {
    throw new Error(`finality is behind at the end: ${reference} finalised #${lastFinal[reference]} of #${referenceBest}`);
  }
  const behind = nodes.filter((n) => lastFinal[n] < top - 10);
  if (behind.length) throw new Error(`stopped finalising: ${behind.join(", ")} (finalised ${behind.map((n) => lastFinal[n]).join(", ")}; the best node ${top})`);
  for (const [phase, e] of per) {
    const p99 = percentile(e.lags, 99);
    if (phase !== STALL_PHASE && phase !== RECOVERY_PHASE && p99 !== null && p99 > LAG_P99_BOUND_MS) {
      throw new Error(`finality lagged ${seconds(p99)} s at p99 during ${phase}`);
    }
  }
  return Math.floor((end - started) / 60000);
}

async function run(_nodeName, networkInfo, args) {
  switch (args[0]) {
    case "start":
      return start(networkInfo);
    case "mark":
      mark(networkInfo, args[1]);
      return 1;
    case "report":
      return report(networkInfo, args[1], Number(args[2] || 600));
    default:
      throw new Error("the first argument is start, mark or report");
  }
}

module.exports = { run };
