// A zombienet js-script: waits, through the node this runs on, until the account named by the
// first argument (a dev account such as "Ferdie") has been punished for an equivocation reported
// on chain: its slash record (`validators.slashes`) appears, and it is no longer a candidate.
// Polls the best block's state, so a slash in a block the node only saw through a reorg is not
// missed. Returns the whole SUT slashed.

const SUT = 10n ** 12n;
const POLL_MS = 1000;

async function run(nodeName, networkInfo, args) {
  await zombie.util.cryptoWaitReady();
  const who = new zombie.Keyring({ type: "sr25519" }).addFromUri(`//${args[0]}`).address;
  const api = await zombie.connect(networkInfo.nodesByName[nodeName].wsUri);
  try {
    if ((await api.query.validators.slashes(who)).isSome) {
      throw new Error(`${args[0]} was slashed before the test's equivocation`);
    }
    for (;;) {
      const record = await api.query.validators.slashes(who);
      if (record.isSome) {
        const slash = record.unwrap();
        const best = (await api.rpc.chain.getHeader()).number.toNumber();
        console.log(
          `by #${best}: ${args[0]} slashed ${slash.amount.toString()} plancks (${slash.fraction.toHuman()}) for session ${slash.session.toNumber()}`,
        );
        const candidates = (await api.query.collatorSelection.candidateList()).map((c) => c.who.toString());
        if (candidates.includes(who)) throw new Error(`${args[0]} was slashed but is still a candidate`);
        return Number(slash.amount.toBigInt() / SUT);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
