// A zombienet js-script: makes the node this runs on (started with --validator and no keys) a
// twin of the validator node named by the first argument, whose account is the second (a dev
// account such as "Ferdie"): it gives this node the Aura and GRANDPA keys the account has
// registered on chain, read from the validator node's keystore and inserted with
// author_insertKey. Two nodes then author and vote with one validator's keys: an
// equivocation. Returns the keys inserted (2).

const { readdirSync, readFileSync, statSync } = require("node:fs");
const { join } = require("node:path");

function findKeystores(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (!statSync(path).isDirectory()) continue;
    if (entry === "keystore") found.push(path);
    else found.push(...findKeystores(path));
  }
  return found;
}

async function run(nodeName, networkInfo, args) {
  const [original, accountName] = args;
  if (!networkInfo.nodesByName[original] || !accountName) {
    throw new Error("arguments: the validator node's name, its account (e.g. ferdie,Ferdie)");
  }
  await zombie.util.cryptoWaitReady();
  const account = new zombie.Keyring({ type: "sr25519" }).addFromUri(`//${accountName}`).address;
  const api = await zombie.connect(networkInfo.nodesByName[nodeName].wsUri);
  const registered = await api.query.session.nextKeys(account);
  await api.disconnect();
  if (registered.isNone) throw new Error(`${accountName} has no session keys on chain`);
  const keys = registered.unwrap().toJSON();
  const wanted = new Map([
    [`61757261${keys.aura.slice(2)}`, "aura"],
    [`6772616e${keys.grandpa.slice(2)}`, "gran"],
  ]);

  const provider = new zombie.WsProvider(networkInfo.nodesByName[nodeName].wsUri);
  await provider.isReady;
  const inserted = new Set();
  try {
    for (const keystore of findKeystores(join(networkInfo.tmpDir, original))) {
      for (const file of readdirSync(keystore)) {
        const type = wanted.get(file);
        if (!type || inserted.has(file)) continue;
        const suri = JSON.parse(readFileSync(join(keystore, file), "utf8"));
        await provider.send("author_insertKey", [type, suri, `0x${file.slice(8)}`]);
        console.log(`${nodeName} now holds ${accountName}'s ${type} key 0x${file.slice(8)}`);
        inserted.add(file);
      }
    }
  } finally {
    await provider.disconnect();
  }
  return inserted.size;
}

module.exports = { run };
