// A zombienet js-script: viewers watch, and pay for, one stream through nodes that relay it
// from the node its creator publishes to. Runs on the origin node; the arguments are the relay
// nodes' names joined by "+", the origin's streaming port, the relays' streaming ports joined by
// "+" (their --streaming-addr), and the relays' accounts joined by "+" (their --relay-suri;
// default //Ferdie for every relay). Relays need accounts of their own: an origin seats one
// session per account and stream, so a second relay pulling as the same account replaces the
// first.
// One viewer per relay (Charlie, then Dave), all at once. Drives the real command-line client
// (`sutantra-node stream ...`), whose binary is $SUTANTRA_NODE. Returns the fewest frames a
// viewer received, or 0 if any viewer paid nothing.

const { spawn, execFile } = require("node:child_process");
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { promisify } = require("node:util");

const { submit } = require("./submit.js");

async function run(nodeName, networkInfo, args) {
  const relayNames = (args[0] || "").split("+");
  const relayPorts = (args[2] || "").split("+");
  const relays = relayNames.map((name, i) => ({
    name,
    node: networkInfo.nodesByName[name],
    streaming: `http://127.0.0.1:${relayPorts[i]}`,
  }));
  const origin = networkInfo.nodesByName[nodeName];
  if (relays.some((r) => !r.node) || !args[1] || relayPorts.length !== relays.length || relays.length > 2) {
    throw new Error("arguments: one or two relay node names joined by '+', the origin's streaming port, the relays' streaming ports joined by '+', the relays' account");
  }
  const ORIGIN_STREAMING = `http://127.0.0.1:${args[1]}`;
  const bin = process.env.SUTANTRA_NODE;
  if (!bin) throw new Error("set SUTANTRA_NODE to the sutantra-node binary");
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: "sr25519" });
  const alice = keyring.addFromUri("//Alice");
  const relayAccounts = (args[3] || relays.map(() => "//Ferdie").join("+"))
    .split("+")
    .map((suri) => keyring.addFromUri(suri));

  // Alice registers a paid stream, announces where she publishes it, lets the relays' accounts
  // (their --relay-suri) carry it, and starts it.
  const api = await zombie.connect(origin.wsUri);
  const events = await submit(api, api.tx.streams.registerStream("relayed", "", 1_000_000_000n, 0), alice);
  const id = events
    .find(({ event }) => api.events.streams.StreamRegistered.is(event))
    .event.data.streamId.toNumber();
  await submit(api, api.tx.streams.updateStream(id, null, null, null, null, ORIGIN_STREAMING), alice);
  for (const account of new Set(relayAccounts.map((a) => a.address))) {
    await submit(api, api.tx.streams.grantAccess(id, account, null), alice);
  }
  await submit(api, api.tx.streams.startStream(id), alice);
  await api.disconnect();

  const publisher = spawn(bin, [
    "stream", "publish", String(id), "--test-source", "--duration", "120",
    "--suri", "//Alice", "--rpc", origin.wsUri, "--streaming", ORIGIN_STREAMING,
  ], { stdio: "ignore" });
  // A data dir of its own for each viewer: the client keeps the highest voucher it signed per
  // chain, channel and lane, and a test network started again from the same genesis (the same
  // runtime) reuses channel ids, so an earlier run's record would make it pay far ahead.
  const viewers = ["Charlie", "Dave"];
  const dataDirs = relays.map(() => mkdtempSync(join(tmpdir(), "sutantra-viewer-")));
  try {
    // Viewers come once the origin has the stream live (the publisher connects in a second or
    // two, longer on a loaded machine).
    for (let tries = 0; ; tries++) {
      const live = await fetch(`${ORIGIN_STREAMING}/streams`).then((r) => r.json()).catch(() => []);
      if (live.some((s) => String(s.stream) === String(id))) break;
      if (tries >= 120) throw new Error(`stream ${id} never went live at ${ORIGIN_STREAMING}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Each viewer watches at its relay for 15 s, paying on a channel the client opens.
    const results = await Promise.all(relays.map(async (relay, i) => {
      const { stdout } = await promisify(execFile)(bin, [
        "stream", "watch", String(id), "--duration", "15", "--json",
        "--suri", `//${viewers[i]}`, "--rpc", relay.node.wsUri, "--streaming", relay.streaming,
      ], { env: { ...process.env, SUTANTRA_DATA_DIR: dataDirs[i] } });
      const watched = JSON.parse(stdout);
      console.log(`${viewers[i]} watched stream ${id} at ${relay.name}: ${watched.frames} frames, paid ${watched.paid} plancks`);
      return watched.paid && BigInt(watched.paid) > 0n ? watched.frames : 0;
    }));
    return Math.min(...results);
  } finally {
    publisher.kill("SIGINT");
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { run };
