// Shared by the zombienet js-scripts; not a test itself.

/// Signs and submits `tx`, resolving with its events once it is in a block; rejects with the
/// pallet error's name (e.g. `session.InvalidProof`) if it fails.
function submit(api, tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        const reason = dispatchError.isModule
          ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(dispatchError.asModule))
          : dispatchError.toString();
        reject(new Error(`the transaction failed: ${reason}`));
      } else if (status.isInBlock) {
        resolve(events);
      }
    }).catch(reject);
  });
}

module.exports = { submit };
