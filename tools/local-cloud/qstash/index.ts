import { listen, type RunningService } from '../http.ts';
import { createApp } from './app.ts';
import type { QStashContext } from './context.ts';
import { isLoopback } from './destinations.ts';
import { Engine } from './engine.ts';
import { defaultRetryBackoff } from './retry-delay.ts';
import { SnapshotStore } from './store.ts';

export { isLoopback } from './destinations.ts';
export { defaultRetryBackoff } from './retry-delay.ts';

export type QStashServiceOptions = {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** Port to bind; `0` picks a free one. */
  port: number;
  /** The bearer token clients must send (`QSTASH_TOKEN`). */
  token: string;
  currentSigningKey: string;
  nextSigningKey: string;
  /** Persist messages, schedules, queues, URL groups and the DLQ here; absent = in memory. */
  dataDir?: string;
  /** Milliseconds before retry `attempt` (1 for the first retry); default QStash's backoff. */
  retryBackoff?: (attempt: number) => number;
  /** Per-attempt timeout, and the ceiling of `Upstash-Timeout`; default 15 minutes. */
  deliveryTimeoutMs?: number;
  /** Which destinations may be published to; default loopback hosts only. */
  allowDestination?: (url: URL) => boolean;
};

export type QStashService = RunningService & {
  readonly token: string;
  /** Current signing keys; `POST /v2/keys/rotate` changes them. */
  readonly currentSigningKey: string;
  readonly nextSigningKey: string;
  /**
   * Test hook: fires every schedule due at or before `now` (default: the real time) as the
   * cron timer would, and returns the ids of the messages it published. Lets a test run a
   * minute-resolution cron without waiting for the minute.
   */
  tick(now?: number | Date): string[];
};

/**
 * The credentials the SDK's `QSTASH_DEV=true` mode uses (`@upstash/qstash`'s
 * `DEV_CREDENTIALS`): a server started with them on `QSTASH_DEV_PORT` is the one it talks to.
 */
export const QSTASH_DEV_CREDENTIALS = {
  token: 'eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=',
  currentSigningKey: 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r',
  nextSigningKey: 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs',
} as const;

/** The SDK's default dev port (`DEFAULT_DEV_PORT`). */
export const QSTASH_DEV_PORT = 8080;

/** The free plan's limits: 1 MB messages, 15-minute HTTP response duration (QStash pricing). */
const MAX_MESSAGE_SIZE = 1024 * 1024;
const DEFAULT_DELIVERY_TIMEOUT_MS = 15 * 60_000;

/**
 * Starts a local QStash: the REST API the official `@upstash/qstash` SDK speaks, and the delivery
 * side, which calls destinations with signed requests, retries with backoff, publishes callbacks,
 * keeps a DLQ and fires cron schedules. `close()` stops timers and aborts deliveries in flight;
 * with `dataDir` those messages are pending again on the next start.
 */
export async function startQStash(options: QStashServiceOptions): Promise<QStashService> {
  for (const name of ['token', 'currentSigningKey', 'nextSigningKey'] as const) {
    // An empty key would sign with a zero-length HMAC key, an empty token would let nobody in.
    if (!options[name]) throw new Error(`startQStash: ${name} must not be empty`);
  }
  const keys = { current: options.currentSigningKey, next: options.nextSigningKey };
  let store: SnapshotStore | undefined;
  const engine = new Engine({
    signingKey: () => keys.current,
    retryBackoff: options.retryBackoff ?? defaultRetryBackoff,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    maxMessageSize: MAX_MESSAGE_SIZE,
    onChange: () => store?.markDirty(),
  });
  if (options.dataDir !== undefined) {
    store = new SnapshotStore(options.dataDir, () => engine.snapshot());
    const snapshot = await store.load();
    if (snapshot) engine.restore(snapshot);
  }
  const ctx: QStashContext = {
    engine,
    token: options.token,
    keys,
    allowDestination: options.allowDestination ?? isLoopback,
    maxMessageSize: MAX_MESSAGE_SIZE,
  };
  const server = await listen(createApp(ctx), { host: options.host, port: options.port });
  engine.start();

  let closing: Promise<void> | undefined;
  return {
    name: 'qstash',
    url: server.url,
    port: server.port,
    token: options.token,
    get currentSigningKey() {
      return keys.current;
    },
    get nextSigningKey() {
      return keys.next;
    },
    tick: (now) => engine.fireDueSchedules(now === undefined ? Date.now() : Number(now)),
    close() {
      closing ??= (async () => {
        await server.close();
        await engine.close();
        await store?.flush();
      })();
      return closing;
    },
  };
}
