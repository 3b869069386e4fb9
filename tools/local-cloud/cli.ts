import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_PORTS, DEFAULT_VECTOR_INDEX, type LocalCloud, startLocalCloud } from './index.ts';
import { LOCAL_MODELS } from './workers-ai/index.ts';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

/** Every setting of `npm run local-cloud`, from the environment. The README lists them. */
const Settings = z.object({
  LOCAL_CLOUD_HOST: z.string().default('127.0.0.1'),
  LOCAL_CLOUD_NEON_PORT: port(DEFAULT_PORTS.neon),
  LOCAL_CLOUD_PG_PORT: port(DEFAULT_PORTS.pg),
  LOCAL_CLOUD_REDIS_PORT: port(DEFAULT_PORTS.redis),
  LOCAL_CLOUD_VECTOR_PORT: port(DEFAULT_PORTS.vector),
  LOCAL_CLOUD_AI_PORT: port(DEFAULT_PORTS.ai),
  LOCAL_CLOUD_QSTASH_PORT: port(DEFAULT_PORTS.qstash),
  LOCAL_CLOUD_DATA_DIR: z.string().default('.data'),
  LOCAL_CLOUD_IN_MEMORY: z.enum(['0', '1', 'true', 'false', '']).default(''),
  LOCAL_CLOUD_DEV_VARS: z.string().default('.dev.vars'),
  LOCAL_CLOUD_VECTOR_KIND: z.enum(['dense', 'sparse', 'hybrid']).default(DEFAULT_VECTOR_INDEX.kind),
  LOCAL_CLOUD_VECTOR_DIMENSION: z.coerce
    .number()
    .int()
    .min(1)
    .max(4096)
    .default(DEFAULT_VECTOR_INDEX.dimension),
  LOCAL_CLOUD_VECTOR_SIMILARITY: z
    .enum(['COSINE', 'EUCLIDEAN', 'DOT_PRODUCT'])
    .default(DEFAULT_VECTOR_INDEX.similarity),
  // `none`: an index for custom vectors (Sift's), which refuses text `data`; `local`: one that
  // embeds `data` with the local model (dense) and BM25 (sparse).
  LOCAL_CLOUD_VECTOR_MODEL: z.enum(['none', 'local']).default('none'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
});

/**
 * Starts the local cloud from the `LOCAL_CLOUD_*` settings in `environment`, writes `.dev.vars`
 * and prints the summary. On a bad setting or a taken port it says why and exits (2 and 1): it is
 * the start-up of a command, shared by `npm run local-cloud` and `npm run dev`.
 */
export async function startFromEnvironment(
  environment: NodeJS.ProcessEnv = process.env,
): Promise<LocalCloud> {
  const parsed = Settings.safeParse(environment);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      console.error(`local-cloud: ${issue.path.join('.')}: ${issue.message}`);
    }
    process.exit(2);
  }
  const s = parsed.data;
  const inMemory = s.LOCAL_CLOUD_IN_MEMORY === '1' || s.LOCAL_CLOUD_IN_MEMORY === 'true';
  const dataDir = inMemory ? undefined : resolve(s.LOCAL_CLOUD_DATA_DIR);

  let cloud: LocalCloud;
  try {
    cloud = await startLocalCloud({
      host: s.LOCAL_CLOUD_HOST,
      ports: {
        neon: s.LOCAL_CLOUD_NEON_PORT,
        pg: s.LOCAL_CLOUD_PG_PORT,
        redis: s.LOCAL_CLOUD_REDIS_PORT,
        vector: s.LOCAL_CLOUD_VECTOR_PORT,
        ai: s.LOCAL_CLOUD_AI_PORT,
        qstash: s.LOCAL_CLOUD_QSTASH_PORT,
      },
      dataDir,
      databaseUrl: s.DATABASE_URL,
      redisUrl: s.REDIS_URL,
      vectorIndex: {
        kind: s.LOCAL_CLOUD_VECTOR_KIND,
        dimension: s.LOCAL_CLOUD_VECTOR_DIMENSION,
        similarity: s.LOCAL_CLOUD_VECTOR_SIMILARITY,
        // Absent: the local model at the index's dimension.
        ...(s.LOCAL_CLOUD_VECTOR_MODEL === 'none' ? { embedding: null } : {}),
      },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      const port = (error as { port?: number }).port;
      console.error(
        `local-cloud: port ${port} is already in use. Stop what holds it, or choose other ports ` +
          'with LOCAL_CLOUD_{NEON,PG,REDIS,VECTOR,AI,QSTASH}_PORT (0 = any free port).',
      );
    } else {
      console.error('local-cloud: could not start:', error);
    }
    process.exit(1);
  }

  const devVars = s.LOCAL_CLOUD_DEV_VARS === 'none' ? undefined : resolve(s.LOCAL_CLOUD_DEV_VARS);
  if (devVars) writeDevVars(devVars, cloud.env);

  const { neon, redis, vector, ai, qstash } = cloud;
  const lines = [
    `Sift local cloud is running (${dataDir ? `data in ${dataDir}` : 'in memory'}). Ctrl-C stops it.`,
    `  Neon    ${neon.url}  SQL over HTTP at /sql, WebSocket proxy; backend: ${
      neon.backend === 'pglite'
        ? `PGlite (psql postgresql://postgres:postgres@${neon.pg.host}:${neon.pg.port}/postgres)`
        : `Postgres server ${neon.pg.host}:${neon.pg.port}`
    }`,
    `  Redis   ${redis.url}  backend: ${redis.backend}`,
    `  Vector  ${vector.url}  index: ${s.LOCAL_CLOUD_VECTOR_KIND}, ${s.LOCAL_CLOUD_VECTOR_DIMENSION} dimensions, ${s.LOCAL_CLOUD_VECTOR_SIMILARITY}, ${
      s.LOCAL_CLOUD_VECTOR_MODEL === 'none'
        ? 'no embedding model (custom vectors; text data refused)'
        : 'local embedding model (text data embedded)'
    }`,
    `  AI      ${ai.apiUrl}  Workers AI embeddings (local model): ${[...LOCAL_MODELS.keys()].join(', ')}`,
    `  QStash  ${qstash.url}  (also what QSTASH_DEV=true finds)`,
    devVars ? `Settings (written to ${devVars}):` : 'Settings:',
    ...Object.entries(cloud.env).map(([k, v]) => `  ${k}=${v}`),
    'local-cloud ready',
  ];
  console.log(lines.join('\n'));
  return cloud;
}

async function main(): Promise<void> {
  const cloud = await startFromEnvironment();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`local-cloud: ${signal}, stopping...`);
    const timer = setTimeout(() => {
      console.error('local-cloud: did not stop within 10 s; exiting anyway');
      process.exit(1);
    }, 10_000);
    await cloud.stop();
    clearTimeout(timer);
    console.log('local-cloud: stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/**
 * Sets `KEY="value"` lines in a dotenv file, keeping every other line (other secrets, comments)
 * as it was; with `keepExisting`, only adds the keys the file does not set yet.
 */
/**
 * A value as dotenv reads it back unchanged: double-quoted (dotenv expands `\n` there), or
 * single-quoted, which dotenv takes literally, when it holds double quotes (a JSON key) that
 * dotenv would not unescape.
 */
function dotenvValue(value: string): string {
  if (value.includes('"') && !value.includes("'") && !value.includes('\n')) return `'${value}'`;
  return JSON.stringify(value);
}

export function writeDevVars(
  path: string,
  values: Record<string, string>,
  options: { keepExisting?: boolean } = {},
): void {
  const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : [];
  const pending = new Map(Object.entries(values));
  const out = lines.map((line) => {
    const key = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    if (!key || !pending.has(key)) return line;
    const value = pending.get(key)!;
    pending.delete(key);
    return options.keepExisting ? line : `${key}=${dotenvValue(value)}`;
  });
  while (out.length > 0 && out.at(-1) === '') out.pop();
  for (const [key, value] of pending) out.push(`${key}=${dotenvValue(value)}`);
  writeFileSync(path, `${out.join('\n')}\n`, { mode: 0o600 });
}

if (import.meta.main) await main();
