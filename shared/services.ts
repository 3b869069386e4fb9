import { Client as QStash } from '@upstash/qstash';
import { Redis } from '@upstash/redis/cloudflare';
import { Index } from '@upstash/vector';
import { type AiProvider, createWorkersAiProvider } from './ai/provider.ts';
import {
  type HttpDatabase,
  httpDatabase,
  type PooledDatabase,
  pooledDatabase,
} from './db/client.ts';
import type { EmbeddingProvider } from './embeddings/interface.ts';
import { createWorkersAiEmbeddingProvider } from './embeddings/workers-ai.ts';
import type { AppEnv } from './env.ts';
import type { Logger } from './logger.ts';
import { envelope, type Origin } from './messages.ts';
import { breaker, type Dependency } from './resilience/circuit-breaker.ts';
import { markFault } from './resilience/faults.ts';

/**
 * What a request, queue batch or cron run talks to. Built per invocation from the validated env
 * (env exists only inside a call); each client is created on first use, so a health check or a
 * 404 costs nothing.
 */
export type Services = {
  /** The validated settings the services were built from. */
  readonly env: AppEnv;
  readonly db: HttpDatabase;
  /** Runs `fn` in one interactive transaction on a short-lived WebSocket pool. */
  transaction<T>(fn: (tx: PooledDatabase) => Promise<T>): Promise<T>;
  readonly redis: Redis;
  readonly vector: Index;
  /** Dense text embeddings (Workers AI); call through `guard('ai', …)`. */
  readonly embeddings: EmbeddingProvider;
  /**
   * The instruction model that enriches documents (`AI_MODEL`, then `AI_FALLBACK_MODEL`), over
   * Workers AI's REST API through the `llm` circuit breaker (not embeddings' `ai`); the extractive engine answers when
   * both fail. Call it through `enrichText` (`shared/enrichment/enrich.ts`), not directly.
   */
  readonly ai: AiProvider;
  /** QStash: schedules outbound webhook attempts (`shared/webhooks/delivery.ts`). */
  readonly qstash: QStash;
  readonly kv: KVNamespace;
  readonly queues: { writes: Queue; events: Queue; jobs: Queue };
  /**
   * Sends a typed message, stamped with this invocation's request id and trace, to a queue.
   * Durable once it resolves; throws when the queue refuses (callers answer 503).
   */
  enqueue<P>(
    queue: QueueName,
    type: string,
    payload: P,
    options?: { delaySeconds?: number; orgId?: string },
  ): Promise<void>;
  /**
   * Sends many messages of one type, in as few `sendBatch` calls as the queue's limits allow
   * (100 messages and 256 KB a call), the calls in parallel. Resolves with one result per
   * payload: `true` once durable, or the error of the call that carried it (a refused call
   * fails only its own messages).
   */
  enqueueBatch<P>(
    queue: QueueName,
    type: string,
    payloads: readonly P[],
    options?: { orgId?: string },
  ): Promise<(true | Error)[]>;
  readonly logger: Logger;
  /** Keeps work alive after the response (`ctx.waitUntil`). */
  waitUntil(promise: Promise<unknown>): void;
  /**
   * Runs `fn` through the isolate's circuit breaker for `dependency`
   * (`shared/resilience/circuit-breaker.ts`): while it is open this rejects at once with a
   * `CircuitOpenError` instead of calling. Which errors count as the dependency failing is the
   * dependency's own rule (`shared/resilience/faults.ts`: a connection failure, a timeout, the
   * service's own 5xx — never a query the request's input made fail); `isFailure` replaces it
   * for one call. A counted error is recorded as the dependency's fault, so the API answers it
   * with a `503` naming the dependency, not a `500`.
   */
  guard<T>(
    dependency: Dependency,
    fn: () => Promise<T>,
    options?: { isFailure?: (error: unknown) => boolean },
  ): Promise<T>;
};

export type QueueName = 'writes' | 'events' | 'jobs';

export type ServiceContext = {
  /** Keeps work alive after the response (`ctx.waitUntil`). */
  waitUntil(promise: Promise<unknown>): void;
  /** The request (or message, or cron run) on whose behalf the services act. */
  context: Origin;
};

/** Network clients fail fast: a dependency that is down should cost milliseconds, not seconds. */
const RETRY = { retries: 2, backoff: (attempt: number) => 25 * 2 ** attempt };

export function createServices(
  env: AppEnv,
  logger: Logger,
  { waitUntil, context }: ServiceContext,
): Services {
  const queues = { writes: env.WRITES, events: env.EVENTS, jobs: env.JOBS };
  let db: HttpDatabase | undefined;
  let redis: Redis | undefined;
  let vector: Index | undefined;
  let embeddings: EmbeddingProvider | undefined;
  let ai: AiProvider | undefined;
  let qstash: QStash | undefined;
  return {
    env,
    get db() {
      db ??= httpDatabase(env);
      return db;
    },
    async transaction(fn) {
      const { db: pooled, pool } = pooledDatabase(env);
      try {
        return await pooled.transaction((tx) => fn(tx as unknown as PooledDatabase));
      } catch (error) {
        throw poolError(error);
      } finally {
        // Ending a pool whose connection failed rejects with that failure again: seen already.
        waitUntil(pool.end().catch(() => {}));
      }
    },
    get redis() {
      redis ??= new Redis({
        url: env.UPSTASH_REDIS_REST_URL,
        token: env.UPSTASH_REDIS_REST_TOKEN,
        retry: RETRY,
        // Auto-pipelining batches a request's commands into one round trip.
        enableAutoPipelining: true,
      });
      return redis;
    },
    get vector() {
      vector ??= new Index({
        url: env.UPSTASH_VECTOR_REST_URL,
        token: env.UPSTASH_VECTOR_REST_TOKEN,
        retry: RETRY,
      });
      return vector;
    },
    get embeddings() {
      embeddings ??= createWorkersAiEmbeddingProvider({
        apiUrl: env.WORKERS_AI_API_URL,
        accountId: env.WORKERS_AI_ACCOUNT_ID,
        apiToken: env.WORKERS_AI_API_TOKEN,
        model: env.EMBEDDING_MODEL,
        retries: RETRY.retries,
      });
      return embeddings;
    },
    get ai() {
      ai ??= createWorkersAiProvider({
        apiUrl: env.WORKERS_AI_API_URL,
        accountId: env.WORKERS_AI_ACCOUNT_ID,
        apiToken: env.WORKERS_AI_API_TOKEN,
        model: env.AI_MODEL,
        fallbackModel: env.AI_FALLBACK_MODEL === 'none' ? null : env.AI_FALLBACK_MODEL,
        breaker: breaker('llm', logger),
        logger,
      });
      return ai;
    },
    get qstash() {
      qstash ??= new QStash({
        baseUrl: env.QSTASH_URL,
        token: env.QSTASH_TOKEN,
        retry: RETRY,
        enableTelemetry: false,
      });
      return qstash;
    },
    kv: env.CACHE,
    queues,
    async enqueue(queue, type, payload, options = {}) {
      const origin = { ...context, ...(options.orgId ? { orgId: options.orgId } : {}) };
      await queues[queue].send(envelope(type, payload, origin), {
        contentType: 'json',
        ...(options.delaySeconds ? { delaySeconds: options.delaySeconds } : {}),
      });
    },
    async enqueueBatch(queue, type, payloads, options = {}) {
      const origin = { ...context, ...(options.orgId ? { orgId: options.orgId } : {}) };
      const chunks: { start: number; bodies: unknown[] }[] = [];
      let bytes = 0;
      payloads.forEach((payload, i) => {
        const body = envelope(type, payload, origin);
        const size = JSON.stringify(body).length + QUEUE_MESSAGE_OVERHEAD_BYTES;
        const last = chunks.at(-1);
        if (
          !last ||
          last.bodies.length === QUEUE_BATCH_MAX_MESSAGES ||
          bytes + size > QUEUE_BATCH_MAX_BYTES
        ) {
          chunks.push({ start: i, bodies: [body] });
          bytes = size;
        } else {
          last.bodies.push(body);
          bytes += size;
        }
      });
      const results: (true | Error)[] = payloads.map(() => true);
      await Promise.all(
        chunks.map(async ({ start, bodies }) => {
          try {
            await queues[queue].sendBatch(
              bodies.map((body) => ({ body, contentType: 'json' as const })),
            );
          } catch (error) {
            const failure = error instanceof Error ? error : new Error(String(error));
            for (let i = 0; i < bodies.length; i++) results[start + i] = failure;
          }
        }),
      );
      return results;
    },
    logger,
    waitUntil,
    guard: (dependency, fn, options) => breaker(dependency, logger).run(fn, options),
  };
}

/** What one `sendBatch` call may carry (Cloudflare Queues' limits). */
const QUEUE_BATCH_MAX_MESSAGES = 100;
const QUEUE_BATCH_MAX_BYTES = 256_000;
/** What Queues counts per message besides its body (an estimate on the safe side). */
const QUEUE_MESSAGE_OVERHEAD_BYTES = 100;

/** What the WebSocket driver throws when it cannot reach Postgres or loses it mid-transaction. */
const LOST_CONNECTION =
  /connection (terminated|timeout|error)|timeout exceeded when trying to connect|not queryable|network connection lost|websocket/i;

/**
 * An error out of an interactive transaction, made an `Error` and marked as a Postgres fault when
 * it is one the driver throws for a connection it could not open or lost. The driver rejects a
 * failed connection with the WebSocket's `ErrorEvent` itself, not an `Error`: rethrown as is, it
 * escapes every `instanceof Error` check (and surfaces as an uncaught error in workerd).
 */
function poolError(error: unknown): unknown {
  if (error instanceof Error) {
    return LOST_CONNECTION.test(error.message) ? markFault(error, 'postgres') : error;
  }
  const event = error as { error?: unknown; message?: unknown } | null;
  if (event?.error instanceof Error) return markFault(event.error, 'postgres');
  const message = typeof event?.message === 'string' ? event.message : String(error);
  return markFault(new Error(`Postgres connection failed: ${message}`), 'postgres');
}
