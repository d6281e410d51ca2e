// Starts a throwaway sutantra-node for a test file and connects polkadot.js to it.
//
// Not a test itself: `chain.test.js` imports `startNode()` from here.
//
// The node binary comes from the SUTANTRA_NODE environment variable. The node runs the `--dev`
// chain with `--consensus manual-seal-500` (a block sealed and finalised every 500 ms) on free
// loopback ports, with its database in a fresh temporary directory that `stop()` removes.

import { spawn } from 'node:child_process';
import { constants as fsConstants, accessSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { ApiPromise, WsProvider } from '@polkadot/api';

/** How long the node gets to start and serve metadata over WebSocket. */
const STARTUP_TIMEOUT_MS = 120_000;
/** How long one WebSocket connection attempt may take before it is retried. */
const CONNECT_ATTEMPT_TIMEOUT_MS = 5_000;
/** Pause between connection attempts. */
const RETRY_DELAY_MS = 500;
/** How long the node gets to exit after SIGINT before it is killed. */
const STOP_TIMEOUT_MS = 30_000;
/** Log lines kept in memory; the tail is shown when startup fails. */
const LOG_LINES_KEPT = 2_000;
const LOG_LINES_SHOWN = 60;

const noop = () => {};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves `promise`, or rejects with `message` after `ms` milliseconds.
 * The timer is always cleared, so it never keeps the process alive.
 */
export function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The node binary named by SUTANTRA_NODE, checked to be an executable file. */
export function nodeBinary() {
  const value = process.env.SUTANTRA_NODE;
  if (!value) {
    throw new Error(
      'SUTANTRA_NODE is not set: build the node (cargo build --release -p sutantra-node) and run ' +
        'SUTANTRA_NODE=<path to sutantra-node> npm test',
    );
  }
  const file = path.resolve(value);
  try {
    if (!statSync(file).isFile()) {
      throw new Error('not a regular file');
    }
    accessSync(file, fsConstants.X_OK);
  } catch (error) {
    throw new Error(
      `SUTANTRA_NODE=${value} is not an executable file (resolved to ${file}): ${error.message}`,
    );
  }
  return file;
}

/**
 * `count` distinct free TCP ports on 127.0.0.1: each is bound with port 0, read back and released.
 * All servers stay open until every port is read, so the ports differ from one another.
 */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(
      servers.map((server) => new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))),
    );
  }
}

/** Keeps the last LOG_LINES_KEPT lines of everything the node writes. */
class LogBuffer {
  #lines = [];
  #partial = { stdout: '', stderr: '' };

  push(stream, chunk) {
    const text = this.#partial[stream] + chunk;
    const lines = text.split(/\r?\n/);
    this.#partial[stream] = lines.pop();
    this.#lines.push(...lines);
    if (this.#lines.length > LOG_LINES_KEPT) {
      this.#lines.splice(0, this.#lines.length - LOG_LINES_KEPT);
    }
  }

  tail(count = LOG_LINES_SHOWN) {
    const pending = Object.values(this.#partial).filter((line) => line.length > 0);
    return [...this.#lines, ...pending].slice(-count).join('\n');
  }
}

/**
 * One attempt to connect polkadot.js: opens a WebSocket (auto-reconnect off, so a failed attempt
 * stays quiet and leaves nothing running), then waits for the API to load the node's metadata.
 * This is `ApiPromise.create({ provider, noInitWarn: true })`, but keeping hold of the instance so
 * that a timed-out attempt can be disconnected.
 */
async function connectOnce(url, timeoutMs) {
  const provider = new WsProvider(url, false);
  let api;
  try {
    const unsubscribe = [];
    try {
      await withTimeout(
        new Promise((resolve, reject) => {
          unsubscribe.push(provider.on('connected', resolve));
          unsubscribe.push(provider.on('error', (error) => reject(new Error(`WebSocket error: ${error?.message ?? error}`))));
          unsubscribe.push(provider.on('disconnected', () => reject(new Error('WebSocket closed'))));
          provider.connect().catch(reject);
        }),
        Math.min(timeoutMs, CONNECT_ATTEMPT_TIMEOUT_MS),
        `no WebSocket connection to ${url}`,
      );
    } finally {
      unsubscribe.forEach((off) => off());
    }

    api = new ApiPromise({ provider, noInitWarn: true });
    const ready = api.isReadyOrError;
    ready.catch(noop);
    await withTimeout(ready, timeoutMs, `polkadot.js did not load the metadata from ${url}`);
    return api;
  } catch (error) {
    await (api ? api.disconnect() : provider.disconnect()).catch(noop);
    throw error;
  }
}

/**
 * Starts the node and connects polkadot.js to it.
 *
 * @param {object} [options]
 * @param {string[]} [options.extraArgs] more command-line arguments for the node
 * @returns {Promise<{ api: ApiPromise, url: string, stop: () => Promise<void> }>}
 */
export async function startNode({ extraArgs = [] } = {}) {
  const binary = nodeBinary();
  const [rpcPort, p2pPort, prometheusPort, streamingPort] = await freePorts(4);
  const basePath = await mkdtemp(path.join(os.tmpdir(), 'sutantra-polkadot-js-'));
  const url = `ws://127.0.0.1:${rpcPort}`;
  const args = [
    '--dev',
    '--consensus', 'manual-seal-500',
    '--base-path', basePath,
    '--rpc-port', String(rpcPort),
    '--prometheus-port', String(prometheusPort),
    '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--streaming-addr', `127.0.0.1:${streamingPort}`,
    '--webrtc-bind-ip', '127.0.0.1',
    '--webrtc-port', '0',
    '--no-mdns',
    '--no-telemetry',
    // Keep every block's state, so reads at the genesis hash work however long the tests take
    // (the default keeps only the last 256 blocks' state: about two minutes at 500 ms a block).
    '--state-pruning', 'archive',
    ...extraArgs,
  ];

  const log = new LogBuffer();
  const echo = Boolean(process.env.SUTANTRA_NODE_LOG);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (error) => {
      log.push('stderr', `[harness] could not run ${binary}: ${error.message}\n`);
      if (child.pid === undefined) {
        exitInfo = { code: null, signal: null, error };
        resolve(exitInfo);
      }
    });
  });
  for (const stream of ['stdout', 'stderr']) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk) => {
      log.push(stream, chunk);
      if (echo) process.stderr.write(chunk);
    });
  }

  // Should this process die without calling stop(), do not leave the node or its files behind.
  const onExit = () => {
    if (exitInfo === null) child.kill('SIGKILL');
    rmSync(basePath, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  let api = null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (api) await api.disconnect().catch(noop);
    if (exitInfo === null) {
      child.kill('SIGINT');
      let timer;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(basePath, { recursive: true, force: true, maxRetries: 3 });
    process.removeListener('exit', onExit);
  };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError = null;
  try {
    while (api === null) {
      if (exitInfo !== null) {
        const how = exitInfo.error
          ? exitInfo.error.message
          : `exit code ${exitInfo.code}, signal ${exitInfo.signal}`;
        throw new Error(`sutantra-node exited during startup (${how})`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(
          `sutantra-node did not serve polkadot.js at ${url} within ${STARTUP_TIMEOUT_MS / 1000} s` +
            (lastError ? ` (last error: ${lastError.message})` : ''),
        );
      }
      try {
        api = await connectOnce(url, remaining);
      } catch (error) {
        lastError = error;
        await sleep(Math.min(RETRY_DELAY_MS, Math.max(0, deadline - Date.now())));
      }
    }
  } catch (error) {
    await stop().catch(noop);
    const tail = log.tail();
    const command = `${binary} ${args.join(' ')}`;
    throw new Error(
      `${error.message}\ncommand: ${command}\n--- last ${LOG_LINES_SHOWN} lines of the node's output ---\n${tail}`,
    );
  }

  return { api, url, stop, log: () => log.tail() };
}
