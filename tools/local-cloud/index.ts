import { join } from 'node:path';
import type { RunningService } from './http.ts';
import { type NeonBackend, type NeonService, startNeon } from './neon/index.ts';
import {
  QSTASH_DEV_CREDENTIALS,
  QSTASH_DEV_PORT,
  type QStashService,
  startQStash,
} from './qstash/index.ts';
import { type RedisService, startRedis } from './redis/index.ts';
import { startVector, type VectorIndexConfig, type VectorService } from './vector/index.ts';
import { startWorkersAi, type WorkersAiService } from './workers-ai/index.ts';

/** Default ports of `npm run local-cloud`; QStash's is the one the SDK's `QSTASH_DEV` mode probes. */
export const DEFAULT_PORTS = {
  neon: 4444,
  pg: 5433,
  redis: 8079,
  vector: 8078,
  ai: 8077,
  qstash: QSTASH_DEV_PORT,
} as const;

/** Fixed development credentials: loopback-only services, so they guard against mistakes, not attackers. */
export const DEV_CREDENTIALS = {
  redisToken: 'local-redis-token',
  redisReadonlyToken: 'local-redis-readonly-token',
  vectorToken: 'local-vector-token',
  vectorReadonlyToken: 'local-vector-readonly-token',
  workersAiToken: 'local-workers-ai-token',
  workersAiAccountId: 'local-account',
  // The QStash SDK's own dev-mode credentials, so that an app running with `QSTASH_DEV=true`
  // finds this server on port 8080 and uses it unchanged.
  qstashToken: QSTASH_DEV_CREDENTIALS.token,
  qstashCurrentSigningKey: QSTASH_DEV_CREDENTIALS.currentSigningKey,
  qstashNextSigningKey: QSTASH_DEV_CREDENTIALS.nextSigningKey,
} as const;

export type LocalCloudOptions = {
  host?: string;
  /** Ports per service; `0` picks a free one (tests). Defaults: `DEFAULT_PORTS`. */
  ports?: Partial<Record<keyof typeof DEFAULT_PORTS, number>>;
  /** Where PGlite, the vector index and QStash keep their data; absent = all in memory. */
  dataDir?: string;
  /** Postgres server to put behind the Neon proxy instead of PGlite (`DATABASE_URL`). */
  databaseUrl?: string;
  /** Redis server to put behind the REST API instead of the embedded engine (`REDIS_URL`). */
  redisUrl?: string;
  /** The vector index's configuration; default {@link DEFAULT_VECTOR_INDEX}. */
  vectorIndex?: VectorIndexConfig;
  credentials?: Partial<typeof DEV_CREDENTIALS>;
  /** QStash retry delays (ms before attempt n); tests pass a fast one. */
  qstashRetryBackoff?: (attempt: number) => number;
};

export type LocalCloud = {
  neon: NeonService;
  redis: RedisService;
  vector: VectorService;
  /** Workers AI's REST API for text embeddings (the local model at each model's dimensions). */
  ai: WorkersAiService;
  qstash: QStashService;
  /** The settings a Worker (or any SDK user) needs, as `.dev.vars` names them. */
  env: Record<string, string>;
  stop(): Promise<void>;
};

/**
 * Sift's vector index, as its production Upstash index is created: hybrid, 1024 dimensions (the
 * size of `@cf/baai/bge-m3`'s vectors), cosine, and no embedding models (`embedding: null`):
 * Sift computes both vectors itself (dense from its embedding provider, sparse from its own text
 * analysis), and text `data` to embed is refused as Upstash refuses it on such an index.
 */
export const DEFAULT_VECTOR_INDEX = {
  kind: 'hybrid',
  dimension: 1024,
  similarity: 'COSINE',
  embedding: null,
} as const satisfies VectorIndexConfig;

/**
 * Starts Neon, Upstash Redis, Upstash Vector, Workers AI and QStash on loopback. If one fails to
 * start, the ones already running are stopped before the error is thrown, so a port clash leaves
 * nothing behind.
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const host = options.host ?? '127.0.0.1';
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const credentials = { ...DEV_CREDENTIALS, ...options.credentials };
  const dataDir = options.dataDir;
  const started: RunningService[] = [];
  const track = <T extends RunningService>(service: T) => {
    started.push(service);
    return service;
  };

  try {
    const neonBackend: NeonBackend = options.databaseUrl
      ? { kind: 'server', url: options.databaseUrl }
      : { kind: 'pglite', dataDir: dataDir && join(dataDir, 'pglite'), pgPort: ports.pg };
    const neon = track(await startNeon({ host, port: ports.neon, backend: neonBackend }));
    const redis = track(
      await startRedis({
        host,
        port: ports.redis,
        token: credentials.redisToken,
        readonlyToken: credentials.redisReadonlyToken,
        backend: options.redisUrl
          ? { kind: 'server', url: options.redisUrl }
          : { kind: 'embedded', dataFile: dataDir && join(dataDir, 'redis.json') },
      }),
    );
    const vector = track(
      await startVector({
        host,
        port: ports.vector,
        token: credentials.vectorToken,
        readonlyToken: credentials.vectorReadonlyToken,
        index: options.vectorIndex ?? DEFAULT_VECTOR_INDEX,
        dataDir: dataDir && join(dataDir, 'vector'),
      }),
    );
    const ai = track(
      await startWorkersAi({
        host,
        port: ports.ai,
        token: credentials.workersAiToken,
        accountId: credentials.workersAiAccountId,
      }),
    );
    const qstash = track(
      await startQStash({
        host,
        port: ports.qstash,
        token: credentials.qstashToken,
        currentSigningKey: credentials.qstashCurrentSigningKey,
        nextSigningKey: credentials.qstashNextSigningKey,
        dataDir: dataDir && join(dataDir, 'qstash'),
        retryBackoff: options.qstashRetryBackoff,
      }),
    );

    const env: Record<string, string> = {
      DATABASE_URL: neon.connectionString,
      // The Worker derives the proxy's /sql and WebSocket endpoints from DATABASE_URL's host.
      NEON_LOCAL: 'true',
      UPSTASH_REDIS_REST_URL: redis.url,
      UPSTASH_REDIS_REST_TOKEN: redis.token,
      UPSTASH_VECTOR_REST_URL: vector.url,
      UPSTASH_VECTOR_REST_TOKEN: vector.token,
      WORKERS_AI_API_URL: ai.apiUrl,
      WORKERS_AI_ACCOUNT_ID: ai.accountId,
      WORKERS_AI_API_TOKEN: ai.token,
      // Its Workers AI answers instruction models with the enrichment engine, not questions.
      ASK_ENGINE: 'extractive',
      QSTASH_URL: qstash.url,
      QSTASH_TOKEN: qstash.token,
      QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
      QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    };

    let stopping: Promise<void> | undefined;
    return {
      neon,
      redis,
      vector,
      ai,
      qstash,
      env,
      stop() {
        stopping ??= stopAll(started);
        return stopping;
      },
    };
  } catch (error) {
    await stopAll(started);
    throw error;
  }
}

async function stopAll(services: RunningService[]): Promise<void> {
  // Reverse order: QStash may still be delivering to services started before it.
  for (const service of [...services].reverse()) {
    await service.close().catch(() => {});
  }
}
