// Not a zombienet js-script: network-monitor.js starts this as a process of its own, so it runs
// through the whole test. It follows every node's best and finalised heads over its RPC and
// samples every node's resident memory, appending one JSON line per observation to a file:
//   {"t": <ms since the epoch, this process's clock on receipt>, "node", "kind": "best"|"final", "n"}
//   {"t", "node", "kind": "rss", "kb"}   (VmRSS of the node's process, from ps)
// Usage: node monitor-process.js <out file> <max seconds> <pid to follow> <name=ws-uri>...
// It stops after <max seconds>, on SIGTERM, or when the process it follows (zombienet's) is gone.

const { appendFileSync } = require("node:fs");
const { execFileSync } = require("node:child_process");
const { ApiPromise, WsProvider } = require("@polkadot/api");

const RSS_EVERY_MS = 10_000;

const [out, maxSeconds, follow, ...pairs] = process.argv.slice(2);
const nodes = pairs.map((pair) => {
  const at = pair.indexOf("=");
  return { name: pair.slice(0, at), uri: pair.slice(at + 1) };
});

const record = (line) => appendFileSync(out, JSON.stringify({ t: Date.now(), ...line }) + "\n");

/// Each node's resident memory, found by the `--name <node>` its command line carries (a
/// restarted node has a new process).
function sampleRss() {
  let listing;
  try {
    listing = execFileSync("ps", ["-eo", "rss=,args="], { encoding: "utf8" });
  } catch {
    return;
  }
  for (const line of listing.split("\n")) {
    const match = line.match(/^\s*(\d+)\s+(\S*sutantra-node\s.*)$/);
    if (!match) continue;
    const name = match[2].match(/--name[ =](\S+)/);
    if (name && nodes.some((n) => n.name === name[1])) {
      record({ node: name[1], kind: "rss", kb: Number(match[1]) });
    }
  }
}

async function followNode({ name, uri }) {
  // A paused or restarted node drops the connection; the provider reconnects by itself and
  // makes the subscriptions again.
  const provider = new WsProvider(uri, 2000);
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  await api.rpc.chain.subscribeNewHeads((h) => record({ node: name, kind: "best", n: h.number.toNumber() }));
  await api.rpc.chain.subscribeFinalizedHeads((h) => record({ node: name, kind: "final", n: h.number.toNumber() }));
}

process.on("SIGTERM", () => process.exit(0));
setInterval(() => {
  try {
    process.kill(Number(follow), 0);
  } catch {
    process.exit(0);
  }
}, 5000);
setTimeout(() => process.exit(0), Number(maxSeconds) * 1000);
setInterval(sampleRss, RSS_EVERY_MS);
sampleRss();
for (const node of nodes) {
  followNode(node).catch((e) => record({ node: node.name, kind: "error", message: String(e) }));
}
