import type { HttpBindings } from '@hono/node-server';
import { listen, type RunningService } from '../http.ts';
import { type Backend, EmbeddedBackend } from './backend.ts';
import { Engine } from './engine/index.ts';
import { loadSnapshot, saveSnapshot } from './engine/persistence.ts';
import { restApp } from './rest.ts';
import { ServerBackend } from './server-backend.ts';

export type RedisServiceOptions = {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; `0` picks a free one. */
  port: number;
  /** Full-access bearer token (`UPSTASH_REDIS_REST_TOKEN`). */
  token: string;
  /** Optional read-only token: write commands get Upstash's NOPERM error. */
  readonlyToken?: string;
  /**
   * Default: the embedded engine, in memory. `dataFile` makes it load a JSON snapshot on start
   * and write one on close. `server` puts a real Redis (`redis://` or `rediss://`) behind the API.
   */
  backend?: { kind: 'embedded'; dataFile?: string } | { kind: 'server'; url: string };
};

export type RedisService = RunningService & {
  token: string;
  readonlyToken?: string;
  backend: 'embedded' | 'server';
};

async function openBackend(options: RedisServiceOptions): Promise<Backend> {
  const config = options.backend ?? { kind: 'embedded' };
  if (config.kind === 'server') return ServerBackend.connect(config.url);
  const engine = new Engine();
  const file = config.dataFile;
  if (file) loadSnapshot(engine, file);
  engine.startSweeper();
  return new EmbeddedBackend(engine, () => {
    engine.stop();
    if (file) saveSnapshot(engine, file);
  });
}

/**
 * Starts the Upstash Redis REST API on loopback. The unchanged `@upstash/redis` SDK works against
 * `url` with `token`. Closing stops the listener, then releases the backend (and writes the
 * embedded engine's snapshot when `dataFile` is set).
 */
export async function startRedis(options: RedisServiceOptions): Promise<RedisService> {
  const backend = await openBackend(options);
  const app = restApp({ backend, token: options.token, readonlyToken: options.readonlyToken });
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    // The app reads the raw Node request (for the size limit), hence the node-server bindings.
    listening = await listen(
      { fetch: (request: Request, env?: unknown) => app.fetch(request, env as HttpBindings) },
      { host: options.host ?? '127.0.0.1', port: options.port },
    );
  } catch (error) {
    await backend.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    name: 'redis',
    url: listening.url,
    port: listening.port,
    token: options.token,
    readonlyToken: options.readonlyToken,
    backend: backend.kind,
    close() {
      closing ??= listening.close().then(() => backend.close());
      return closing;
    },
  };
}
