import { z } from 'zod';
import {
  DEFAULT_AI_FALLBACK_MODEL,
  DEFAULT_AI_MODEL,
  WORKERS_AI_INSTRUCTION_MODELS,
  type WorkersAiInstructionModel,
} from './ai/models.ts';
import { signingKeySetting } from './auth/tokens.ts';
import {
  DEFAULT_EMBEDDING_MODEL,
  WORKERS_AI_API_URL,
  WORKERS_AI_EMBEDDING_MODELS,
  type WorkersAiEmbeddingModel,
} from './embeddings/workers-ai.ts';
import { type SecretKeys, secretsKeySetting } from './secret-box.ts';
import { DEFAULT_DNS_RESOLVER } from './webhooks/resolve.ts';

/** Something with the methods the code calls on a binding; a missing binding is `undefined`. */
const binding = <T>(name: string, methods: string[]) =>
  z.custom<T>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
    { message: `must be a ${name} binding` },
  );

const queue = binding<Queue>('Queue', ['send', 'sendBatch']);
const durableObject = <T extends Rpc.DurableObjectBranded | undefined>() =>
  binding<DurableObjectNamespace<T>>('Durable Object namespace', ['idFromName', 'get']);
const url = (protocols: RegExp) => z.url({ protocol: protocols, message: 'must be a URL' });
/**
 * Every setting and binding the Worker needs, validated at the start of each `fetch`, `queue` and
 * `scheduled` call. Names match wrangler.toml and the README; values are never echoed back.
 */
export const EnvSchema = z
  .object({
    ENVIRONMENT: z.enum(['development', 'test', 'production']),
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      ),
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
    /** The same for `POST /v1/content/bulk` (up to 1,000 items). */
    MAX_BULK_BODY_BYTES: z.coerce.number().int().positive().default(16_777_216),

    DATABASE_URL: url(/^postgres(ql)?$/),
    /** "true" when DATABASE_URL names the local cloud's Neon proxy (plain HTTP and WebSocket). */
    NEON_LOCAL: z
      .enum(['true', 'false', ''])
      .default('')
      .transform((value) => value === 'true'),
    UPSTASH_REDIS_REST_URL: url(/^https?$/),
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
    UPSTASH_VECTOR_REST_URL: url(/^https?$/),
    UPSTASH_VECTOR_REST_TOKEN: z.string().min(1),
    /** Workers AI's REST API root (the local cloud serves its own); its account and API token. */
    WORKERS_AI_API_URL: url(/^https?$/).default(WORKERS_AI_API_URL),
    WORKERS_AI_ACCOUNT_ID: z.string().min(1),
    WORKERS_AI_API_TOKEN: z.string().min(1),
    /** The text-embedding model; the search index's dimension must be the model's. */
    EMBEDDING_MODEL: z
      .enum(Object.keys(WORKERS_AI_EMBEDDING_MODELS) as [WorkersAiEmbeddingModel])
      .default(DEFAULT_EMBEDDING_MODEL),
    /** The instruction model that enriches documents (summaries, action items, risks...). */
    AI_MODEL: z
      .enum(Object.keys(WORKERS_AI_INSTRUCTION_MODELS) as [WorkersAiInstructionModel])
      .default(DEFAULT_AI_MODEL),
    /** The model asked when AI_MODEL fails; "none" for none (the extractive engine answers). */
    AI_FALLBACK_MODEL: z
      .enum([
        ...(Object.keys(WORKERS_AI_INSTRUCTION_MODELS) as [WorkersAiInstructionModel]),
        'none',
      ])
      .default(DEFAULT_AI_FALLBACK_MODEL),
    /**
     * How `POST /v1/ask` writes answers: `model` (AI_MODEL, then AI_FALLBACK_MODEL, then the
     * extractive engine when both fail) or `extractive` (the engine alone). The local cloud sets
     * `extractive`: its Workers AI runs the enrichment engine, which cannot answer a question.
     */
    ASK_ENGINE: z
      .enum(['model', 'extractive', ''])
      .default('')
      .transform((value) => value || 'model'),
    QSTASH_URL: url(/^https?$/),
    QSTASH_TOKEN: z.string().min(1),
    QSTASH_CURRENT_SIGNING_KEY: z.string().min(1),
    QSTASH_NEXT_SIGNING_KEY: z.string().min(1),
    /**
     * Where QStash calls the Worker back to make each outbound webhook attempt; by default
     * `AUTH_ISSUER` (the API's public origin) with `/internal/webhooks/deliver`.
     */
    WEBHOOKS_CALLBACK_URL: z
      .string()
      .optional()
      .transform((value) => value || undefined)
      .pipe(url(/^https?$/).optional()),
    /**
     * "true" lets webhook endpoints use `http` and loopback hosts (a receiver on the developer's
     * machine); refused in production.
     */
    WEBHOOKS_ALLOW_LOOPBACK: z
      .enum(['true', 'false', ''])
      .default('')
      .transform((value) => value === 'true'),
    /**
     * The DNS-over-HTTPS resolver (JSON API) that webhook endpoint host names are resolved
     * through, so every address they answer is checked (`shared/webhooks/resolve.ts`).
     */
    WEBHOOKS_DNS_RESOLVER: z
      .string()
      .optional()
      .transform((value) => value || DEFAULT_DNS_RESOLVER)
      .pipe(url(/^https?$/)),

    /** The private JWK that signs access tokens (`npm run auth:keygen`). */
    AUTH_SIGNING_KEY: signingKeySetting,
    /** A second key, still accepted and published in the JWKS while keys rotate. */
    AUTH_PREVIOUS_SIGNING_KEY: z
      .string()
      .optional()
      .transform((value) => value || undefined)
      .pipe(signingKeySetting.optional()),
    /** `iss` of access tokens: the API's public origin. */
    AUTH_ISSUER: z.url({ message: 'must be a URL' }),
    /** `aud` of access tokens. */
    AUTH_AUDIENCE: z.string().min(1).default('sift-api'),
    /**
     * The AES-256-GCM key that seals the secrets Sift must read back (webhook signing secrets):
     * `<kid>.<32 bytes, base64url>`, from `npm run secrets:keygen`.
     */
    SECRETS_KEY: secretsKeySetting,
    /** The key being rotated out: it still opens what it sealed (README, "Rotating the secrets key"). */
    SECRETS_PREVIOUS_KEY: z
      .string()
      .optional()
      .transform((value) => value || undefined)
      .pipe(secretsKeySetting.optional()),
    /** Connections one real-time channel takes (WebSockets and event streams together). */
    REALTIME_MAX_CONNECTIONS: z.coerce.number().int().positive().default(5_000),
    /** A WebSocket that has sent no `ping` for this long is closed (4002) as gone or stuck. */
    REALTIME_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(75),
    /** How long a request waits for the rate limiter before failing open. */
    RATE_LIMIT_TIMEOUT_MS: z.coerce.number().int().positive().default(1_000),

    CACHE: binding<KVNamespace>('KV namespace', ['get', 'put', 'delete']),
    /** Uploaded documents' originals and extracted text (`shared/documents/storage.ts`). */
    FILES: binding<R2Bucket>('R2 bucket', [
      'get',
      'put',
      'delete',
      'list',
      'createMultipartUpload',
    ]),
    WRITES: queue,
    EVENTS: queue,
    JOBS: queue,
    WRITES_DLQ: queue,
    EVENTS_DLQ: queue,
    JOBS_DLQ: queue,
    RATE_LIMITER: durableObject<import('../durable-objects/rate-limiter.ts').RateLimiter>(),
    SESSIONS: durableObject<import('../durable-objects/sessions.ts').Sessions>(),
    CONTENT_LEDGER: durableObject<import('../durable-objects/content-ledger.ts').ContentLedger>(),
    REALTIME: durableObject<import('../durable-objects/realtime.ts').Realtime>(),
  })
  .superRefine((env, ctx) => {
    if (env.ENVIRONMENT === 'production' && env.WEBHOOKS_ALLOW_LOOPBACK) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOKS_ALLOW_LOOPBACK'],
        message: 'must not be true in production',
      });
    }
    if (env.ENVIRONMENT === 'production' && !env.WEBHOOKS_DNS_RESOLVER.startsWith('https:')) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOKS_DNS_RESOLVER'],
        message: 'must be an https URL in production',
      });
    }
  });

export type AppEnv = z.infer<typeof EnvSchema>;

/** Where QStash calls the Worker back for each outbound webhook attempt. */
export const webhookCallbackUrl = (env: AppEnv): string =>
  env.WEBHOOKS_CALLBACK_URL ?? new URL('/internal/webhooks/deliver', env.AUTH_ISSUER).toString();

/** Secrets the Worker reads when set but does not require (wrangler.toml lists the required). */
export const OPTIONAL_SECRETS = ['AUTH_PREVIOUS_SIGNING_KEY', 'SECRETS_PREVIOUS_KEY'] as const;

/** The keys of the secret box (`shared/secret-box.ts`) from the settings. */
export const secretKeys = (env: AppEnv): SecretKeys => ({
  current: env.SECRETS_KEY,
  previous: env.SECRETS_PREVIOUS_KEY,
});

export type EnvProblem = { setting: string; rule: string };

export type EnvResult = { ok: true; env: AppEnv } | { ok: false; problems: EnvProblem[] };

// The env object is the same for every request an isolate serves: validate it once.
const validated = new WeakMap<object, EnvResult>();

/** Validates the Worker's env (cached per env object). Problems name settings, never values. */
export function validateEnv(env: object): EnvResult {
  const cached = validated.get(env);
  if (cached) return cached;
  const parsed = EnvSchema.safeParse(env);
  const result: EnvResult = parsed.success
    ? { ok: true, env: parsed.data }
    : {
        ok: false,
        problems: parsed.error.issues.map((issue) => {
          const setting = issue.path.join('.');
          const value = (env as Record<string, unknown>)[setting];
          return {
            setting,
            rule: value === undefined || value === '' ? 'is missing' : issue.message,
          };
        }),
      };
  validated.set(env, result);
  return result;
}
