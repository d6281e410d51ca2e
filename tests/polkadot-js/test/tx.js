// Submitting transactions from the tests: sign, send, wait for finality, decode failures.
//
// Not a test itself: the test files import it.

/** A readable description of a failed dispatch, with module errors decoded from the metadata. */
export function describeDispatchError(api, dispatchError) {
  if (dispatchError.isModule) {
    const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
    return `${section}.${name}${docs.length ? `: ${docs.join(' ')}` : ''}`;
  }
  return dispatchError.toString();
}

/**
 * Signs and submits `tx` and resolves with the result once its block is finalised. Rejects if it
 * fails to dispatch, is dropped or invalid, or is not finalised within `timeoutMs`. The
 * `section.Method` of the block's events of the transaction are added to `seen`, if given.
 */
export function signAndSendFinalized(api, tx, signer, timeoutMs, seen = null) {
  return new Promise((resolve, reject) => {
    let unsubscribe = null;
    let settled = false;
    let lastStatus = 'not submitted';
    const settle = (error, result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (unsubscribe) unsubscribe();
      if (error) reject(error);
      else resolve(result);
    };
    const timer = setTimeout(
      () => settle(new Error(`transaction not finalised within ${timeoutMs / 1000} s (last status: ${lastStatus})`)),
      timeoutMs,
    );

    tx.signAndSend(signer, (result) => {
      lastStatus = result.status.type;
      if (result.dispatchError) {
        settle(new Error(`transaction failed: ${describeDispatchError(api, result.dispatchError)}`));
      } else if (result.status.isFinalized) {
        if (seen) for (const { event } of result.events) seen.add(`${event.section}.${event.method}`);
        settle(null, result);
      } else if (result.isError) {
        settle(new Error(`transaction not included: status ${result.status.type}`));
      }
    })
      .then((unsub) => {
        unsubscribe = unsub;
        if (settled) unsub();
      })
      .catch((error) => settle(new Error(`signAndSend failed: ${error.message}`, { cause: error })));
  });
}
