// A zombienet js-script: Alice registers and starts a stream through the node this runs on,
// then the node named by the first argument must show it live through `StreamsApi`.
// Returns 1 once it does.

const PRICE_PER_SECOND = 1_000_000_000n; // 0.001 SUT

const { submit } = require("./submit.js");

async function run(nodeName, networkInfo, args) {
  const other = args[0];
  if (!networkInfo.nodesByName[other]) {
    throw new Error(`no node named ${other} in this network`);
  }
  await zombie.util.cryptoWaitReady();
  const keyring = new zombie.Keyring({ type: "sr25519" });
  const alice = keyring.addFromUri("//Alice");

  const api = await zombie.connect(networkInfo.nodesByName[nodeName].wsUri);
  const events = await submit(api, api.tx.streams.registerStream("zombienet", "", PRICE_PER_SECOND, 0), alice);
  const registered = events.find(({ event }) => api.events.streams.StreamRegistered.is(event));
  const id = registered.event.data.streamId.toNumber();
  await submit(api, api.tx.streams.startStream(id), alice);
  console.log(`stream ${id} registered and started through ${nodeName}`);

  // The @polkadot/api zombienet bundles does not decorate runtime APIs from metadata, so the
  // call goes through `state_call` and is decoded with the stream type the metadata names.
  const otherApi = await zombie.connect(networkInfo.nodesByName[other].wsUri);
  const streamType = otherApi.registry.createLookupType(
    otherApi.query.streams.streams.creator.meta.type.asMap.value,
  );
  const idBytes = otherApi.registry.createType("u64", id).toHex();
  for (;;) {
    const answer = await otherApi.rpc.state.call("StreamsApi_stream", idBytes);
    const info = otherApi.registry.createType(`Option<${streamType}>`, answer);
    if (info.isSome && info.unwrap().status.isLive) {
      console.log(`${other} sees stream ${id} live`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await api.disconnect();
  await otherApi.disconnect();
  return 1;
}

module.exports = { run };
