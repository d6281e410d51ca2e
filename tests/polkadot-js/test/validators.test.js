// Becoming a validator and leaving, as an operator does it with polkadot.js apps (Developer →
// Extrinsics and RPC calls) against a real node: the node generates session keys with a proof
// that the operator's account owns them, the account sets them and bonds, authors from the
// session after next, and leaves with its bond back. Everything comes from the metadata.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';

import { startNode } from './node.js';
import { signAndSendFinalized } from './tx.js';

/** One SUT in plancks. */
const UNIT = 10n ** 12n;
/** Held while an account has session keys. */
const KEY_DEPOSIT = UNIT;
/** How long a submitted transaction gets to be finalised. */
const FINALIZE_TIMEOUT_MS = 60_000;
/** How long a change of the validator set may take: two sessions of 10 blocks of 500 ms, and slack. */
const ROTATION_TIMEOUT_MS = 60_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe('validators: bond, join and leave (--dev, manual-seal-500)', () => {
  let node;
  let api;
  let charlie;
  let dave;

  const send = (tx, signer) => signAndSendFinalized(api, tx, signer, FINALIZE_TIMEOUT_MS);
  const find = (result, is) => {
    const record = result.events.find(({ event }) => is(event));
    assert.ok(record, `event missing: ${result.events.map(({ event }) => `${event.section}.${event.method}`).join(', ')}`);
    return record.event;
  };
  const validators = async () => (await api.query.session.validators()).map((v) => v.toString());
  const reserved = async (who) => (await api.query.system.account(who)).data.reserved.toBigInt();

  /** Waits until `predicate()` holds, checking every block's worth of time. */
  async function waitFor(predicate, what) {
    const deadline = Date.now() + ROTATION_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (await predicate()) return;
      await sleep(500);
    }
    throw new Error(`${what} did not happen within ${ROTATION_TIMEOUT_MS / 1000} s (validators: ${await validators()})`);
  }

  before(async () => {
    await cryptoWaitReady();
    node = await startNode();
    api = node.api;
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    charlie = keyring.addFromUri('//Charlie');
    dave = keyring.addFromUri('//Dave');
  });

  after(async () => {
    if (node) await node.stop();
  });

  it('reads the validator set and the session through the metadata and ValidatorsApi', async () => {
    const pallets = api.runtimeMetadata.asLatest.pallets.map((pallet) => pallet.name.toString());
    for (const name of ['Authorship', 'CollatorSelection', 'Session', 'Historical', 'Offences', 'Validators']) {
      assert.ok(pallets.includes(name), `pallet ${name} missing from the metadata: ${pallets.join(', ')}`);
    }
    const alice = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice').address;
    assert.deepEqual(await validators(), [alice]);
    assert.deepEqual((await api.query.collatorSelection.invulnerables()).map((v) => v.toString()), [alice]);

    const session = await api.call.validatorsApi.session();
    assert.equal(session.length.toNumber(), 10);
    assert.equal(session.end.toNumber(), session.start.toNumber() + 10);
    const status = await api.call.validatorsApi.validator(alice);
    assert.ok(status.active.isTrue && status.invulnerable.isTrue, status.toString());
    // `keys` is also a method of polkadot.js' structs: the field is read from the JSON form.
    assert.match(status.toJSON().keys, /^0x[0-9a-f]{128}$/, 'Alice has session keys (Aura and GRANDPA)');
    // Alice authors every block of the dev chain and is rewarded for each.
    await waitFor(async () => (await api.call.validatorsApi.validator(alice)).authoredThisSession.toNumber() > 0, 'Alice authoring');
    const events = await api.query.system.events();
    assert.ok(
      events.some(({ event }) => api.events.validators.BlockRewarded.is(event) && event.data.author.toString() === alice),
      'no validators.BlockRewarded for Alice in the latest block',
    );
  });

  it('joins: node-made keys with an ownership proof, setKeys, registerAsCandidate; authors two sessions later', async () => {
    // What an operator asks its own node for (author_rotateKeysWithOwner, owner = the account);
    // this polkadot.js has no method for it, so the request goes to the provider as it is.
    const provider = new WsProvider(node.url);
    await provider.isReady;
    const generated = await provider.send('author_rotateKeysWithOwner', [u8aToHex(decodeAddress(charlie.address))]);
    await provider.disconnect();
    assert.ok(generated.keys && generated.proof, JSON.stringify(generated));

    // Someone who copies the keys and the proof cannot claim them for its own account.
    await assert.rejects(send(api.tx.session.setKeys(generated.keys, generated.proof), dave), /session\.InvalidProof/);
    // Without keys there is no candidacy.
    await assert.rejects(send(api.tx.collatorSelection.registerAsCandidate(), dave), /collatorSelection\.ValidatorNotRegistered/);

    await send(api.tx.session.setKeys(generated.keys, generated.proof), charlie);
    const bond = (await api.query.collatorSelection.candidacyBond()).toBigInt();
    assert.equal(bond, 1_000n * UNIT);
    const registered = await send(api.tx.collatorSelection.registerAsCandidate(), charlie);
    const added = find(registered, api.events.collatorSelection.CandidateAdded.is);
    assert.equal(added.data.accountId.toString(), charlie.address);
    assert.equal(added.data.deposit.toBigInt(), bond);
    assert.equal(await reserved(charlie.address), bond + KEY_DEPOSIT);

    await waitFor(async () => (await validators()).includes(charlie.address), 'Charlie joining the set');
    const status = await api.call.validatorsApi.validator(charlie.address);
    assert.ok(status.active.isTrue && status.invulnerable.isFalse, status.toString());
    assert.equal(status.bond.unwrap().toBigInt(), bond);
  });

  it('raises its bond, and a second registration is refused', async () => {
    const bond = (await api.query.collatorSelection.candidacyBond()).toBigInt();
    const updated = await send(api.tx.validators.updateBond(bond + 10n * UNIT), charlie);
    assert.equal(find(updated, api.events.collatorSelection.CandidateBondUpdated.is).data.deposit.toBigInt(), bond + 10n * UNIT);
    assert.equal(await reserved(charlie.address), bond + 10n * UNIT + KEY_DEPOSIT);
    await assert.rejects(send(api.tx.collatorSelection.registerAsCandidate(), charlie), /collatorSelection\.AlreadyCandidate/);
  });

  it('leaves: the bond unbonds for six sessions, the set drops it, then withdrawUnbonded and purgeKeys return everything', async () => {
    const bond = (await api.query.collatorSelection.candidacyBond()).toBigInt() + 10n * UNIT;
    // Collator selection's own leave, which would return the bond at once, is closed.
    await assert.rejects(send(api.tx.collatorSelection.leaveIntent(), charlie), /system\.CallFiltered/);
    const left = await send(api.tx.validators.leave(), charlie);
    assert.equal(find(left, api.events.collatorSelection.CandidateRemoved.is).data.accountId.toString(), charlie.address);
    const unbonding = find(left, api.events.validators.Unbonding.is);
    assert.equal(unbonding.data.amount.toBigInt(), bond);
    const until = unbonding.data.until.toNumber();
    assert.equal(await reserved(charlie.address), bond + KEY_DEPOSIT);
    await assert.rejects(send(api.tx.validators.withdrawUnbonded(), charlie), /validators\.StillUnbonding/);
    // Keys stay while the account is still in the set; the session pallet's purge is closed.
    await assert.rejects(send(api.tx.validators.purgeKeys(), charlie), /validators\.StillValidating/);
    await assert.rejects(send(api.tx.session.purgeKeys(), charlie), /system\.CallFiltered/);
    await waitFor(async () => {
      const status = await api.call.validatorsApi.validator(charlie.address);
      return status.active.isFalse && status.queued.isFalse;
    }, 'Charlie leaving the set');
    await waitFor(async () => (await api.query.session.currentIndex()).toNumber() >= until, `session ${until}`);
    const withdrawn = await send(api.tx.validators.withdrawUnbonded(), charlie);
    assert.equal(find(withdrawn, api.events.validators.Withdrawn.is).data.amount.toBigInt(), bond);
    assert.equal(await reserved(charlie.address), KEY_DEPOSIT);
    await send(api.tx.validators.purgeKeys(), charlie);
    assert.equal(await reserved(charlie.address), 0n);
    const status = await api.call.validatorsApi.validator(charlie.address);
    assert.ok(status.active.isFalse && status.queued.isFalse && status.bond.isNone && status.toJSON().keys === null, status.toString());
  });
});
