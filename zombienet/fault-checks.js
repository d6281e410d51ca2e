// A zombienet js-script: what the network must do around a fault, checked through the node this
// runs on. The first argument names the check:
//   finality-advances,<blocks>  finality goes on: the finalised head rises by <blocks>; returns
//                               the rise (run while one validator is paused)
//   finality-stalls,<seconds>   finality stops while blocks are still produced: after a few
//                               seconds for votes in flight, the finalised head does not move
//                               for <seconds> while the best block rises; returns how many blocks
//                               were finalised in that window (0), or throws if no block was made
//   finality-recovers           from now, how long until the head that was best now is
//                               finalised; returns the milliseconds
//   caught-up,<other node>      this node's finalised head reaches the one <other node> had when
//                               the check began; returns 1
//   authors,<account>           a new block authored by <account> (a dev URI such as
//                               //Eve//stash) reaches this node; returns its number

const POLL_MS = 500;
// Votes already cast when the validators stopped may still finalise a block or two.
const SETTLE_MS = 12_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function heads(api) {
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  const finalised = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  return { best, finalised };
}

async function finalityAdvances(api, blocks) {
  const start = await heads(api);
  for (;;) {
    const now = await heads(api);
    if (now.finalised >= start.finalised + blocks) {
      console.log(`finalised #${start.finalised} -> #${now.finalised}`);
      return now.finalised - start.finalised;
    }
    await sleep(POLL_MS);
  }
}

async function finalityStalls(api, seconds) {
  await sleep(SETTLE_MS);
  const start = await heads(api);
  await sleep(seconds * 1000);
  const end = await heads(api);
  console.log(`in ${seconds} s: best #${start.best} -> #${end.best}, finalised #${start.finalised} -> #${end.finalised}`);
  if (end.best <= start.best) throw new Error("no block was produced: the stall is not finality's alone");
  return end.finalised - start.finalised;
}

async function finalityRecovers(api) {
  const began = Date.now();
  const target = (await heads(api)).best;
  for (;;) {
    const now = await heads(api);
    if (now.finalised >= target) {
      const ms = Date.now() - began;
      console.log(`#${target} (best when the validators came back) finalised after ${ms} ms`);
      return ms;
    }
    await sleep(POLL_MS);
  }
}

async function caughtUp(api, networkInfo, other) {
  const otherApi = await zombie.connect(networkInfo.nodesByName[other].wsUri);
  const target = (await heads(otherApi)).finalised;
  await otherApi.disconnect();
  for (;;) {
    const now = await heads(api);
    if (now.finalised >= target) {
      console.log(`finalised #${now.finalised}, at or past ${other}'s #${target}`);
      return 1;
    }
    await sleep(POLL_MS);
  }
}

async function authors(api, uri) {
  await zombie.util.cryptoWaitReady();
  const account = new zombie.Keyring({ type: "sr25519" }).addFromUri(uri).address;
  const from = (await heads(api)).best;
  return new Promise((resolve, reject) => {
    api.derive.chain
      .subscribeNewHeads((header) => {
        if (header.author && header.author.toString() === account && header.number.toNumber() > from) {
          console.log(`${uri} authored #${header.number.toNumber()}`);
          resolve(header.number.toNumber());
        }
      })
      .catch(reject);
  });
}

async function run(nodeName, networkInfo, args) {
  const api = await zombie.connect(networkInfo.nodesByName[nodeName].wsUri);
  try {
    switch (args[0]) {
      case "finality-advances":
        return await finalityAdvances(api, Number(args[1] || 3));
      case "finality-stalls":
        return await finalityStalls(api, Number(args[1] || 30));
      case "finality-recovers":
        return await finalityRecovers(api);
      case "caught-up":
        return await caughtUp(api, networkInfo, args[1]);
      case "authors":
        return await authors(api, args[1]);
      default:
        throw new Error("the first argument is finality-advances, finality-stalls, finality-recovers, caught-up or authors");
    }
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
