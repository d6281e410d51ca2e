// polkadot.js against a real sutantra-node, with no type definitions of ours: everything it knows
// about the chain comes from the node's metadata and chain properties. If these pass, polkadot.js
// apps can read, sign and submit against the node too.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { bnToU8a, stringToU8a, u8aConcat, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress, mnemonicGenerate } from '@polkadot/util-crypto';

import { startNode, withTimeout } from './node.js';
import { signAndSendFinalized as submit } from './tx.js';

/** One SUT in plancks. */
const UNIT = 10n ** 12n;
/** What every endowed dev account has at genesis. */
const ENDOWMENT = 1_000_000n * UNIT;
/** Sent to a fresh account: well above the existential deposit of 10^9 plancks. */
const TRANSFER_AMOUNT = 10n * UNIT;
/** How long a submitted transfer gets to be finalised. */
const FINALIZE_TIMEOUT_MS = 60_000;

/** `section.Method` of every event seen in a finalised block of a transaction of this suite. */
const seenEvents = new Set();

/** Signs and submits `tx`, resolves once finalised, and notes the events seen. */
const signAndSendFinalized = (api, tx, signer, timeoutMs) => submit(api, tx, signer, timeoutMs, seenEvents);

describe('polkadot.js against sutantra-node (--dev, manual-seal-500)', () => {
  let node;
  let api;
  let keyring;
  let alice;

  before(async () => {
    await cryptoWaitReady();
    node = await startNode();
    api = node.api;
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    alice = keyring.addFromUri('//Alice');
  });

  after(async () => {
    if (node) await node.stop();
  });

  it('reads the chain properties', async () => {
    assert.equal(api.registry.chainSS58, 42);
    assert.equal(api.registry.chainDecimals[0], 12);
    assert.equal(api.registry.chainTokens[0], 'SUT');
    assert.equal((await api.rpc.system.chain()).toString(), 'Sutantra Development');
  });

  it('decodes every pallet from the metadata', () => {
    const pallets = api.runtimeMetadata.asLatest.pallets.map((pallet) => pallet.name.toString());
    for (const name of ['System', 'Timestamp', 'Aura', 'Grandpa', 'Balances', 'TransactionPayment', 'Sudo', 'Streams', 'Payments']) {
      assert.ok(pallets.includes(name), `pallet ${name} missing from the metadata: ${pallets.join(', ')}`);
    }
    assert.equal(typeof api.tx.balances.transferKeepAlive, 'function');
    assert.equal(api.runtimeVersion.specName.toString(), 'sutantra');
  });

  it("reads Alice's genesis balance from storage", async () => {
    const { data } = await api.query.system.account.at(api.genesisHash, alice.address);
    const free = data.free.toBigInt();
    assert.ok(free > 0n, 'Alice has no balance at genesis');
    assert.equal(free, ENDOWMENT);
  });

  it('estimates a fee through the TransactionPaymentApi runtime API', async () => {
    const dest = keyring.addFromUri(mnemonicGenerate());
    const tx = api.tx.balances.transferKeepAlive(dest.address, TRANSFER_AMOUNT);

    const info = await tx.paymentInfo(alice);
    assert.ok(info.partialFee.toBigInt() > 0n, `paymentInfo partialFee is ${info.partialFee}`);

    // The same call made directly: a state_call whose types come from the metadata's runtime APIs.
    assert.equal(typeof api.call.transactionPaymentApi?.queryInfo, 'function');
    const signed = await api.tx.balances.transferKeepAlive(dest.address, TRANSFER_AMOUNT).signAsync(alice);
    // The runtime API's `uxt` parameter is described in the metadata as an opaque, length-prefixed
    // byte string, so it takes the extrinsic's encoding (as polkadot.js' own paymentInfo passes it).
    const queried = await api.call.transactionPaymentApi.queryInfo(signed.toU8a(), signed.encodedLength);
    assert.ok(queried.partialFee.toBigInt() > 0n, `queryInfo partialFee is ${queried.partialFee}`);
  });

  it('signs a transfer with the dev keyring and sees it finalised', async () => {
    const dest = keyring.addFromUri(mnemonicGenerate());
    const tx = api.tx.balances.transferKeepAlive(dest.address, TRANSFER_AMOUNT);

    const result = await signAndSendFinalized(api, tx, alice, FINALIZE_TIMEOUT_MS);
    const blockHash = result.status.asFinalized;

    const records = await withTimeout(
      api.query.system.events.at(blockHash),
      FINALIZE_TIMEOUT_MS,
      `could not read the events of block ${blockHash}`,
    );
    const transfer = records.find(
      ({ event }) =>
        api.events.balances.Transfer.is(event) &&
        event.data[0].toString() === alice.address &&
        event.data[1].toString() === dest.address &&
        event.data[2].toBigInt() === TRANSFER_AMOUNT,
    );
    const describeEvents = () =>
      records.map(({ phase, event }) => `${phase.toString()} ${event.section}.${event.method}`).join('\n');
    assert.ok(transfer, `no balances.Transfer from Alice to ${dest.address} in block ${blockHash}:\n${describeEvents()}`);
    assert.ok(transfer.phase.isApplyExtrinsic, `Transfer event in phase ${transfer.phase}`);
    const index = transfer.phase.asApplyExtrinsic.toNumber();
    const success = records.some(
      ({ phase, event }) =>
        phase.isApplyExtrinsic &&
        phase.asApplyExtrinsic.toNumber() === index &&
        api.events.system.ExtrinsicSuccess.is(event),
    );
    assert.ok(success, `no system.ExtrinsicSuccess for extrinsic ${index} in block ${blockHash}:\n${describeEvents()}`);

    const { data } = await api.query.system.account.at(blockHash, dest.address);
    assert.equal(data.free.toBigInt(), TRANSFER_AMOUNT);
  });

  it('registers, starts and buys access to a stream, and asks StreamsApi about it', async () => {
    const bob = keyring.addFromUri('//Bob');
    const price = UNIT / 100n;
    const registered = await signAndSendFinalized(
      api,
      api.tx.streams.registerStream('polkadot.js stream', 'ipfs://stream', price, 10),
      alice,
      FINALIZE_TIMEOUT_MS,
    );
    const event = registered.events.find(({ event }) => api.events.streams.StreamRegistered.is(event));
    assert.ok(event, 'no streams.StreamRegistered event');
    const streamId = event.event.data.streamId.toBigInt();
    assert.equal(event.event.data.creator.toString(), alice.address);

    await signAndSendFinalized(api, api.tx.streams.startStream(streamId), alice, FINALIZE_TIMEOUT_MS);
    const stored = (await api.query.streams.streams(streamId)).unwrap();
    assert.ok(stored.status.isLive, `status is ${stored.status}`);
    assert.equal(stored.title.toUtf8(), 'polkadot.js stream');

    // The runtime API, called with types from the metadata alone.
    const viaApi = await api.call.streamsApi.stream(streamId);
    assert.ok(viaApi.isSome);
    assert.equal(viaApi.unwrap().pricePerSecond.toBigInt(), price);
    const [page] = await api.call.streamsApi.liveStreams(null, 100);
    assert.ok(page.some(([id]) => id.toBigInt() === streamId), 'the stream is not among the live ones');
    assert.ok((await api.call.streamsApi.access(streamId, bob.address)).isNoAccess);

    // The most Bob will pay: a price raised in the same block cannot take more.
    const tooLittle = api.tx.streams.buyAccess(streamId, 60, 60n * price - 1n);
    await assert.rejects(
      signAndSendFinalized(api, tooLittle, bob, FINALIZE_TIMEOUT_MS),
      /PriceAboveMax/,
    );
    const bought = await signAndSendFinalized(
      api,
      api.tx.streams.buyAccess(streamId, 60, 60n * price),
      bob,
      FINALIZE_TIMEOUT_MS,
    );
    const purchase = bought.events.find(({ event }) => api.events.streams.AccessBought.is(event));
    assert.ok(purchase, 'no streams.AccessBought event');
    assert.equal(purchase.event.data.paid.toBigInt(), 60n * price);
    const access = await api.call.streamsApi.access(streamId, bob.address);
    assert.ok(access.isAllowed, `access is ${access}`);
    assert.ok(access.asAllowed.source.isBought);
  });

  it('opens a payment channel, signs vouchers with the keyring and settles them', async () => {
    const charlie = keyring.addFromUri('//Charlie');
    const dave = keyring.addFromUri('//Dave');
    // The payee is not Alice, the dev chain's validator, whose balance rises with every block.
    const eve = keyring.addFromUri('//Eve');
    const opened = await signAndSendFinalized(
      api,
      api.tx.payments.openChannel(eve.address, null, 10n * UNIT),
      charlie,
      FINALIZE_TIMEOUT_MS,
    );
    const event = opened.events.find(({ event }) => api.events.payments.ChannelOpened.is(event));
    assert.ok(event, 'no payments.ChannelOpened event');
    const channelId = event.event.data.channelId.toBigInt();
    const channel = (await api.query.payments.channels(channelId)).unwrap();
    assert.equal(channel.payer.toString(), charlie.address);
    assert.equal(channel.deposit.toBigInt(), 10n * UNIT);
    const viaApi = await api.call.paymentsApi.channelsOf(charlie.address);
    assert.ok(viaApi.some(([id]) => id.toBigInt() === channelId), 'channelsOf does not list the channel');

    // The documented byte layout (voucher v2), built by hand: domain tag, genesis hash,
    // SCALE(voucher): channel id, lane (the account of the node paid), cumulative amount.
    const lane = keyring.addFromUri('//Ferdie').address;
    const voucherBytes = (id, amount) =>
      u8aConcat(
        stringToU8a('sutantra/voucher/v2'),
        api.genesisHash.toU8a(),
        bnToU8a(id, { bitLength: 64, isLe: true }),
        decodeAddress(lane),
        bnToU8a(amount, { bitLength: 128, isLe: true }),
      );
    const first = { channelId, lane, cumulativeAmount: UNIT };
    const payload = voucherBytes(channelId, UNIT);
    // polkadot.js hands back a `Vec<u8>` runtime-call result still SCALE-encoded: decode it once.
    const fromRuntime = api.createType('Bytes', (await api.call.paymentsApi.voucherPayload(first)).toU8a(true));
    assert.equal(u8aToHex(fromRuntime.toU8a(true)), u8aToHex(payload));
    const signature = charlie.sign(payload);
    const check = await api.call.paymentsApi.checkVoucher(first, signature);
    assert.ok(check.isOk, `checkVoucher: ${check}`);
    assert.equal(check.asOk.toBigInt(), UNIT);
    const forged = await api.call.paymentsApi.checkVoucher(first, dave.sign(payload));
    assert.ok(forged.isErr && forged.asErr.isBadSignature, `a forged voucher checks as ${forged}`);

    // Dave submits Charlie's voucher; Eve is paid exactly its amount.
    const before = (await api.query.system.account(eve.address)).data.free.toBigInt();
    const claimed = await signAndSendFinalized(api, api.tx.payments.claim(first, signature), dave, FINALIZE_TIMEOUT_MS);
    const paid = claimed.events.find(({ event }) => api.events.payments.Claimed.is(event));
    assert.ok(paid, 'no payments.Claimed event');
    assert.equal(paid.event.data.amount.toBigInt(), UNIT);
    assert.equal(paid.event.data.lane.toString(), lane);
    assert.equal((await api.call.paymentsApi.lanePaid(channelId, lane)).toBigInt(), UNIT);
    const after = (await api.query.system.account(eve.address)).data.free.toBigInt();
    assert.equal(after - before, UNIT);

    // A browser wallet's signRaw signs <Bytes>payload</Bytes>: accepted too, and only the
    // difference is paid.
    const second = { channelId, lane, cumulativeAmount: 3n * UNIT };
    const wrapped = charlie.sign(u8aWrapBytes(voucherBytes(channelId, 3n * UNIT)));
    await signAndSendFinalized(api, api.tx.payments.claim(second, wrapped), dave, FINALIZE_TIMEOUT_MS);
    const final = (await api.query.system.account(eve.address)).data.free.toBigInt();
    assert.equal(final - after, 2n * UNIT);

    // Replaying the first voucher is refused before it reaches a block.
    const replay = await api.call.paymentsApi.checkVoucher(first, signature);
    assert.ok(replay.isErr && replay.asErr.isNotNewer, `a replayed voucher checks as ${replay}`);

    // Charlie asks to close: the challenge period starts.
    const closing = await signAndSendFinalized(api, api.tx.payments.close(channelId), charlie, FINALIZE_TIMEOUT_MS);
    const requested = closing.events.find(({ event }) => api.events.payments.CloseRequested.is(event));
    assert.ok(requested, 'no payments.CloseRequested event');
    assert.ok((await api.query.payments.channels(channelId)).unwrap().closesAt.isSome);
  });

  it("runs a stream's whole life and a channel's as apps would, and decodes every event", async () => {
    const eve = keyring.addFromUri('//Eve');
    const ferdie = keyring.addFromUri('//Ferdie');
    const send = (tx, signer) => signAndSendFinalized(api, tx, signer, FINALIZE_TIMEOUT_MS);
    const find = (result, is) => {
      const record = result.events.find(({ event }) => is(event));
      assert.ok(record, 'the expected event is missing');
      return record.event;
    };

    // Register, update (title and origin endpoint), start.
    const registered = await send(api.tx.streams.registerStream('whole life', '', UNIT / 1000n, 0), alice);
    const streamId = find(registered, api.events.streams.StreamRegistered.is).data.streamId.toBigInt();
    await send(
      api.tx.streams.updateStream(streamId, 'a whole life', null, null, 25, 'http://127.0.0.1:8088'),
      alice,
    );
    let stored = (await api.query.streams.streams(streamId)).unwrap();
    assert.equal(stored.title.toUtf8(), 'a whole life');
    assert.equal(stored.maxViewers.toNumber(), 25);
    assert.equal(stored.origin.unwrap().toUtf8(), 'http://127.0.0.1:8088');
    await send(api.tx.streams.startStream(streamId), alice);

    // Grant Eve access until a block, read her token, ask StreamsApi, revoke it.
    const best = (await api.rpc.chain.getHeader()).number.toNumber();
    const granted = await send(api.tx.streams.grantAccess(streamId, eve.address, best + 100), alice);
    assert.equal(find(granted, api.events.streams.AccessGranted.is).data.validUntil.toNumber(), best + 100);
    const token = (await api.query.streams.accessTokens(streamId, eve.address)).unwrap();
    assert.ok(token.source.isGranted);
    const access = await api.call.streamsApi.access(streamId, eve.address);
    assert.ok(access.isAllowed && access.asAllowed.source.isGranted, `access is ${access}`);
    await send(api.tx.streams.revokeAccess(streamId, eve.address), alice);
    assert.ok((await api.call.streamsApi.access(streamId, eve.address)).isNoAccess);
    const mine = await api.call.streamsApi.streamsByCreator(alice.address);
    assert.ok(mine.some(([id]) => id.toBigInt() === streamId));

    // End it, then remove it: the deposit comes back.
    const ended = await send(api.tx.streams.endStream(streamId), alice);
    assert.equal(find(ended, api.events.streams.StreamEnded.is).data.forced.isFalse, true);
    assert.ok((await api.call.streamsApi.access(streamId, eve.address)).isStreamNotLive);
    const removed = await send(api.tx.streams.removeStream(streamId), alice);
    assert.equal(find(removed, api.events.streams.StreamRemoved.is).data.depositReleased.toBigInt(), UNIT);
    assert.ok((await api.query.streams.streams(streamId)).isNone);

    // A channel: Ferdie opens it, tops it up; Alice, the payee, closes it at once.
    const opened = await send(api.tx.payments.openChannel(alice.address, null, 2n * UNIT), ferdie);
    const channelId = find(opened, api.events.payments.ChannelOpened.is).data.channelId.toBigInt();
    const topped = await send(api.tx.payments.topUp(channelId, UNIT), ferdie);
    assert.equal(find(topped, api.events.payments.ChannelToppedUp.is).data.deposit.toBigInt(), 3n * UNIT);
    assert.equal((await api.call.paymentsApi.channel(channelId)).unwrap().deposit.toBigInt(), 3n * UNIT);
    const closed = await send(api.tx.payments.close(channelId), alice);
    find(closed, api.events.payments.ChannelClosed.is);
    assert.ok((await api.call.paymentsApi.channel(channelId)).isNone);

    // Every event of the two pallets has now been emitted by this suite and decoded from the
    // metadata alone, with its named fields.
    for (const section of ['streams', 'payments']) {
      for (const name of Object.keys(api.events[section])) {
        assert.ok(seenEvents.has(`${section}.${name}`), `${section}.${name} was never seen`);
        const meta = api.events[section][name].meta;
        assert.ok(meta.fields.every((field) => field.name.isSome), `${section}.${name} has unnamed fields`);
      }
    }
  });
});
