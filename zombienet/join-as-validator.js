// A zombienet js-script: the node this runs on (started with --validator but not a genesis
// validator) joins the validator set by bonding, as an operator does: it makes session keys
// with a proof for the account named by the first argument (a dev account such as "Charlie"),
// the account sets them and registers as a candidate. Returns the number of blocks the account
// authored once it has authored at least one and finality has gone on with it in the GRANDPA set.

const { submit } = require("./submit.js");

const POLL_MS = 1000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(nodeName, networkInfo, args) {
  const name = args[0];
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: "sr25519" });
  const account = keyring.addFromUri(`//${name}`);
  const api = await zombie.connect(networkInfo.nodesByName[nodeName].wsUri);

  // The node makes the keys; the proof says `account` owns them.
  const owner = api.createType("AccountId", account.address).toHex();
  const provider = new zombie.WsProvider(networkInfo.nodesByName[nodeName].wsUri);
  await provider.isReady;
  const generated = await provider.send("author_rotateKeysWithOwner", [owner]);
  await provider.disconnect();
  await submit(api, api.tx.session.setKeys(generated.keys, generated.proof), account);
  const events = await submit(api, api.tx.collatorSelection.registerAsCandidate(), account);
  if (!events.some(({ event }) => api.events.collatorSelection.CandidateAdded.is(event))) {
    throw new Error("registerAsCandidate gave no CandidateAdded");
  }
  console.log(`${name} bonded through ${nodeName}`);

  // In the set from the session after next.
  let joinedAt;
  for (;;) {
    const validators = (await api.query.session.validators()).map((v) => v.toString());
    if (validators.includes(account.address)) {
      joinedAt = (await api.rpc.chain.getHeader()).number.toNumber();
      console.log(`${name} is a validator from block ${joinedAt} (${validators.length} validators)`);
      break;
    }
    await sleep(POLL_MS);
  }

  // It authors its slots, and finality goes on with its votes counted.
  for (;;) {
    const session = (await api.query.session.currentIndex()).toNumber();
    const authored =
      (await api.query.validators.authoredBlocks(session, account.address)).toNumber() +
      (await api.query.validators.authoredBlocks(session - 1, account.address)).toNumber();
    const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    if (authored > 0 && finalized > joinedAt + 3) {
      console.log(`${name} authored ${authored} block(s); finalised #${finalized}`);
      await api.disconnect();
      return authored;
    }
    await sleep(POLL_MS);
  }
}

module.exports = { run };
