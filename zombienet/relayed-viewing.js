// A zombienet js-script: a viewer watches, and pays for, a stream through a node that relays
// it from the node its creator publishes to. Runs on the origin node; the arguments are the
// relay node's name, the origin's and the relay's streaming ports (their --streaming-addr).
// Drives the real command-line client (`sutantra-node stream ...`), whose binary is
// $SUTANTRA_NODE. Returns the frames the viewer received.

const { spawn, execFile } = require("node:child_process");
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { promisify } = require("node:util");

const { submit } = require("./submit.js");

async function run(nodeName, networkInfo, args) {
  const relay = networkInfo.nodesByName[args[0]];
  const origin = networkInfo.nodesByName[nodeName];
  if (!relay || !args[1] || !args[2]) {
    throw new Error("arguments: the relay node's name, the origin's and the relay's streaming ports");
  }
  const ORIGIN_STREAMING = `http://127.0.0.1:${args[1]}`;
  const RELAY_STREAMING = `http://127.0.0.1:${args[2]}`;
  const bin = process.env.SUTANTRA_NODE;
  if (!bin) throw new Error("set SUTANTRA_NODE to the sutantra-node binary");
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: "sr25519" });
  const alice = keyring.addFromUri("//Alice");
  const ferdie = keyring.addFromUri("//Ferdie");

  // Alice registers a paid stream, announces where she publishes it, lets the relay's
  // account (Ferdie, bob's --relay-suri) carry it, and starts it.
  const api = await zombie.connect(origin.wsUri);
  const events = await submit(api, api.tx.streams.registerStream("relayed", "", 1_000_000_000n, 0), alice);
  const id = events
    .find(({ event }) => api.events.streams.StreamRegistered.is(event))
    .event.data.streamId.toNumber();
  await submit(api, api.tx.streams.updateStream(id, null, null, null, null, ORIGIN_STREAMING), alice);
  await submit(api, api.tx.streams.grantAccess(id, ferdie.address, null), alice);
  await submit(api, api.tx.streams.startStream(id), alice);
  await api.disconnect();

  const publisher = spawn(bin, [
    "stream", "publish", String(id), "--test-source", "--duration", "120",
    "--suri", "//Alice", "--rpc", origin.wsUri, "--streaming", ORIGIN_STREAMING,
  ], { stdio: "ignore" });
  // A data dir of its own for the viewer: the client keeps the highest voucher it signed per
  // chain, channel and lane, and a test network started again from the same genesis (the same
  // runtime) reuses channel 0, so an earlier run's record would make it pay far ahead.
  const dataDir = mkdtempSync(join(tmpdir(), "sutantra-viewer-"));
  try {
    // Charlie watches at the relay for 15 s, paying on a channel the client opens.
    const { stdout } = await promisify(execFile)(bin, [
      "stream", "watch", String(id), "--duration", "15", "--json",
      "--suri", "//Charlie", "--rpc", relay.wsUri, "--streaming", RELAY_STREAMING,
    ], { env: { ...process.env, SUTANTRA_DATA_DIR: dataDir } });
    const watched = JSON.parse(stdout);
    console.log(`Charlie watched stream ${id} at ${args[0]}: ${watched.frames} frames, paid ${watched.paid} plancks`);
    return watched.paid && BigInt(watched.paid) > 0n ? watched.frames : 0;
  } finally {
    publisher.kill("SIGINT");
    rmSync(dataDir, { recursive: true, force: true });
  }
}

module.exports = { run };
