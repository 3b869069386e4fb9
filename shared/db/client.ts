import { neon, neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle as drizzleHttp } from 'drizzle-orm/neon-http';
import { drizzle as drizzlePool } from 'drizzle-orm/neon-serverless';

export type DatabaseSettings = {
  DATABASE_URL: string;
  /** Local development: DATABASE_URL's host:port is the local cloud's Neon proxy. */
  NEON_LOCAL?: boolean;
};

/**
 * Points the Neon driver at the local cloud. The driver's endpoint settings are module-global,
 * so they are functions of the connection string's host and port rather than fixed URLs: every
 * connection string then reaches its own proxy (tests point one at a dead port to simulate an
 * outage). In production nothing is changed and the driver talks to Neon as it always does.
 */
function configureNeon(settings: DatabaseSettings): void {
  if (!settings.NEON_LOCAL) return;
  neonConfig.fetchEndpoint = (host, port) => `http://${host}:${port}/sql`;
  neonConfig.wsProxy = (host, port) => `${host}:${port}/v2`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
}

/** One-shot queries over HTTP (`neon()`): the fast path for a request's reads and writes. */
export function httpDatabase(settings: DatabaseSettings) {
  configureNeon(settings);
  return drizzleHttp({ client: neon(settings.DATABASE_URL) });
}
export type HttpDatabase = ReturnType<typeof httpDatabase>;

/**
 * A WebSocket `Pool` for interactive transactions. Workers cannot keep sockets between requests,
 * so the pool lives for one request, queue batch or cron run; `end()` it when done.
 */
export function pooledDatabase(settings: DatabaseSettings) {
  configureNeon(settings);
  const pool = new Pool({ connectionString: settings.DATABASE_URL, max: 4 });
  // An idle client whose socket dies emits 'error' on the pool; the next query reconnects.
  pool.on('error', () => {});
  return { db: drizzlePool({ client: pool }), pool };
}
export type PooledDatabase = ReturnType<typeof pooledDatabase>['db'];
