/**
 * What the local cloud's protocol layers cost: each operation through the official SDK against
 * the local cloud, next to the same operation issued directly (ioredis to the Redis server, pg to
 * Postgres or to PGlite's wire port, the vector engine called in-process).
 *
 *   npm run bench                      # all sections
 *   npm run bench -- redis neon        # some of them
 *
 * The server rows use DATABASE_URL / REDIS_URL, defaulting to this machine's servers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { neon, neonConfig } from '@neondatabase/serverless';
import { Redis } from '@upstash/redis';
import { Index } from '@upstash/vector';
import IORedis from 'ioredis';
import pg from 'pg';
import { createRandom } from '../shared/random.ts';
import { type NeonService, startNeon } from '../tools/local-cloud/neon/index.ts';
import { VectorEngine } from '../tools/local-cloud/vector/engine.ts';
import { startVector } from '../tools/local-cloud/vector/index.ts';
import { type Measurement, measure, table } from './measure.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONCURRENCY = [1, 16];

async function redisSection(): Promise<Measurement[]> {
  const { startRedis } = await import('../tools/local-cloud/redis/index.ts');
  const rows: Measurement[] = [];
  const value = 'x'.repeat(100);
  for (const backend of [
    { kind: 'embedded' } as const,
    { kind: 'server', url: REDIS_URL } as const,
  ]) {
    const service = await startRedis({ port: 0, token: 'bench', backend });
    // Auto-pipelining off: one REST request per command, which is what this measures.
    const redis = new Redis({ url: service.url, token: 'bench', enableAutoPipelining: false });
    try {
      for (const concurrency of CONCURRENCY) {
        rows.push(
          await measure(
            `Redis REST SET (${backend.kind})`,
            (i) => redis.set(`bench:${i % 1000}`, value),
            {
              concurrency,
            },
          ),
        );
        rows.push(
          await measure(`Redis REST GET (${backend.kind})`, (i) => redis.get(`bench:${i % 1000}`), {
            concurrency,
          }),
        );
      }
    } finally {
      await service.close();
    }
  }
  const direct = new IORedis(REDIS_URL);
  try {
    for (const concurrency of CONCURRENCY) {
      rows.push(
        await measure(
          'ioredis SET (server, direct)',
          (i) => direct.set(`bench:${i % 1000}`, value),
          {
            concurrency,
          },
        ),
      );
      rows.push(
        await measure('ioredis GET (server, direct)', (i) => direct.get(`bench:${i % 1000}`), {
          concurrency,
        }),
      );
    }
    await direct.del(...Array.from({ length: 1000 }, (_, i) => `bench:${i}`));
  } finally {
    direct.disconnect();
  }
  return rows;
}

const HUNDRED_ROWS =
  'select g as id, md5(g::text) as name, now() as at from generate_series(1, 100) g';

async function neonSection(): Promise<Measurement[]> {
  const rows: Measurement[] = [];
  neonConfig.fetchEndpoint = (host, port) => `http://${host}:${port}/sql`;
  for (const [label, backend] of [
    ['PGlite', { kind: 'pglite' }],
    ['server', { kind: 'server', url: DATABASE_URL }],
  ] as const) {
    const service: NeonService = await startNeon({ port: 0, backend });
    const sql = neon(service.connectionString);
    const url = new URL(service.connectionString);
    const direct = new pg.Pool({
      ...service.pg,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1),
      max: 16,
    });
    try {
      for (const concurrency of CONCURRENCY) {
        rows.push(
          await measure(`Neon HTTP select 1 (${label})`, () => sql`select 1`, { concurrency }),
        );
        rows.push(
          await measure(`pg select 1 (${label}, direct)`, () => direct.query('select 1'), {
            concurrency,
          }),
        );
        rows.push(
          await measure(`Neon HTTP 100-row query (${label})`, () => sql.query(HUNDRED_ROWS), {
            concurrency,
            iterations: 1_000,
          }),
        );
        rows.push(
          await measure(`pg 100-row query (${label}, direct)`, () => direct.query(HUNDRED_ROWS), {
            concurrency,
            iterations: 1_000,
          }),
        );
      }
    } finally {
      await direct.end();
      await service.close();
    }
  }
  return rows;
}

async function vectorSection(): Promise<Measurement[]> {
  const rows: Measurement[] = [];
  const dimension = 384;
  for (const count of [10_000, 100_000]) {
    const next = createRandom(count); // the same vectors every run
    const vectorOf = () => Array.from({ length: dimension }, () => next() * 2 - 1);
    const service = await startVector({
      port: 0,
      token: 'bench',
      index: { kind: 'dense', dimension, similarity: 'COSINE' },
    });
    const index = new Index({ url: service.url, token: 'bench' });
    // The same vectors, also loaded into an engine called in-process: the "direct" row.
    const engine = new VectorEngine({
      kind: 'dense',
      dimension,
      similarity: 'COSINE',
      embedding: { model: 'none', dimensions: dimension, embed: async () => [] },
      name: 'bench',
    });
    try {
      const loadStart = performance.now();
      for (let offset = 0; offset < count; offset += 1_000) {
        const batch = Array.from({ length: 1_000 }, (_, i) => ({
          id: `v${offset + i}`,
          vector: vectorOf(),
          metadata: { bucket: (offset + i) % 10 },
        }));
        await index.upsert(batch);
        engine.upsert('', batch);
      }
      const loadSeconds = (performance.now() - loadStart) / 1000;
      console.error(`vector: loaded ${count} vectors in ${loadSeconds.toFixed(1)} s`);
      const queries = Array.from({ length: 50 }, vectorOf);
      const iterations = count >= 100_000 ? 200 : 1_000;
      for (const concurrency of CONCURRENCY) {
        rows.push(
          await measure(
            `Vector REST query top-10 (${count / 1000}K x ${dimension})`,
            (i) => index.query({ vector: queries[i % queries.length]!, topK: 10 }),
            { concurrency, iterations, warmup: 20 },
          ),
        );
        rows.push(
          await measure(
            `Vector REST query top-10, filter 10% (${count / 1000}K x ${dimension})`,
            (i) =>
              index.query({ vector: queries[i % queries.length]!, topK: 10, filter: 'bucket = 3' }),
            { concurrency, iterations, warmup: 20 },
          ),
        );
      }
      rows.push(
        await measure(
          `Vector engine query top-10, in-process (${count / 1000}K x ${dimension})`,
          (i) => engine.query('', { vector: queries[i % queries.length]!, topK: 10 }, false),
          { iterations, warmup: 20 },
        ),
      );
    } finally {
      await service.close();
    }
  }
  return rows;
}

const SECTIONS = { redis: redisSection, neon: neonSection, vector: vectorSection } as const;

async function main() {
  const wanted = process.argv.slice(2).filter((a): a is keyof typeof SECTIONS => a in SECTIONS);
  const chosen =
    wanted.length > 0 ? wanted : (Object.keys(SECTIONS) as Array<keyof typeof SECTIONS>);
  const out: string[] = [
    '# Local cloud benchmark',
    '',
    `${new Date().toISOString()} · Node ${process.version} · ${process.platform}/${process.arch} · ` +
      `concurrency ${CONCURRENCY.join(' and ')} · reproduce with \`npm run bench\``,
  ];
  for (const name of chosen) {
    console.error(`bench: ${name}...`);
    const rows = await SECTIONS[name]();
    out.push('', `## ${name}`, '', table(rows));
    console.log(`\n## ${name}\n\n${table(rows)}`);
  }
  const dir = join(import.meta.dirname, 'results');
  await mkdir(dir, { recursive: true });
  if (wanted.length === 0) await writeFile(join(dir, 'local-cloud.md'), `${out.join('\n')}\n`);
}

await main();
