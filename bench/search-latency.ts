/**
 * Search latency at 10K and 100K documents under `wrangler dev` against the local cloud:
 * `GET /v1/search` with a result-cache miss (each query's first run) and a hit (its second), per
 * mode, one client at a time, measured from this process.
 *
 * The documents are synthetic English articles (words from a generated vocabulary with a
 * Zipf-like distribution, seeded), published in the sample organisation. They are loaded
 * straight into the local cloud (rows into Postgres through the Neon HTTP endpoint, entries into
 * the organisation's Vector namespace through the Upstash SDK, their vectors computed by the
 * consumer's own encoder), not through the write path:
 * this measures search, and bench:content measures writes.
 *
 *   npm run bench:search-latency            # writes bench/results/search-latency.md
 *   BENCH_SIZES=10000 BENCH_QUERIES=100 npm run bench:search-latency
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { neon, neonConfig } from '@neondatabase/serverless';
import { Redis } from '@upstash/redis';
import { Index } from '@upstash/vector';
import { createWorkersAiEmbeddingProvider } from '../shared/embeddings/workers-ai.ts';
import { newId } from '../shared/ids.ts';
import { createRandom } from '../shared/random.ts';
import { indexVersionKey } from '../shared/search/keys.ts';
import { encodeEntries } from '../shared/search/records.ts';
import { startBenchSession } from './dev-session.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const MODES = ['hybrid', 'keyword', 'semantic'] as const;
const BATCH = 1_000;

const random = createRandom(SEED);

/** Pronounceable made-up words: the vocabulary of the synthetic corpus. */
function vocabulary(size: number): string[] {
  const onsets = ['b', 'c', 'd', 'f', 'g', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'tr', 'st'];
  const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou'];
  const codas = ['', 'n', 'r', 's', 'l', 'nd', 'st'];
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 2 + Math.floor(random() * 2);
    let word = '';
    for (let s = 0; s < syllables; s++) {
      word += pick(onsets) + pick(vowels) + (s === syllables - 1 ? pick(codas) : '');
    }
    words.add(word);
  }
  return [...words];
}

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

/** A word drawn with probability falling as 1 / rank (Zipf, s = 1), by inverse transform. */
function zipf(words: readonly string[]): string {
  const n = words.length;
  const rank = Math.floor(Math.exp(random() * Math.log(n + 1))) - 1;
  return words[Math.min(n - 1, Math.max(0, rank))]!;
}

const sentence = (words: readonly string[], length: number) =>
  Array.from({ length }, () => zipf(words)).join(' ');

type Api = { base: string; auth: Record<string, string> };

async function api(a: Api, path: string, init: RequestInit = {}) {
  const response = await fetch(`${a.base}${path}`, {
    ...init,
    headers: { ...a.auth, 'Content-Type': 'application/json', ...init.headers },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text.slice(0, 300)}`);
  return { response, body: JSON.parse(text) as Record<string, unknown> };
}

/** The Worker's `Server-Timing` stages of a search. */
const STAGES = ['understand', 'retrieve', 'hydrate'] as const;

type Row = {
  size: number;
  mode: string;
  cache: string;
  p50: number;
  p95: number;
  n: number;
  stages: Record<(typeof STAGES)[number], number>;
};

const stage = (ms: number) => (Number.isNaN(ms) ? '–' : ms.toFixed(1));

async function main() {
  const dev = await startBenchSession('search');
  const base = dev.base;
  try {
    const setting = dev.setting;
    // The local cloud's Neon endpoint speaks plain HTTP.
    neonConfig.fetchEndpoint = (host, p) => `http://${host}:${p}/sql`;
    const sql = neon(setting('DATABASE_URL'));
    const vector = new Index({
      url: setting('UPSTASH_VECTOR_REST_URL'),
      token: setting('UPSTASH_VECTOR_REST_TOKEN'),
    });
    const key = await dev.apiKey('search latency benchmark', ['search']);
    const reader: Api = { base, auth: { Authorization: `Bearer ${key.secret}` } };
    const redis = new Redis({
      url: setting('UPSTASH_REDIS_REST_URL'),
      token: setting('UPSTASH_REDIS_REST_TOKEN'),
    });
    const [org] = (await sql.query(`select id from organizations where slug = 'sift-demo'`)) as {
      id: string;
    }[];
    const orgId = org!.id;
    const namespace = vector.namespace(orgId);
    // Vectors as the consumer computes them: the model through the local cloud's Workers AI.
    const encoder = {
      embeddings: createWorkersAiEmbeddingProvider({
        apiUrl: setting('WORKERS_AI_API_URL'),
        accountId: setting('WORKERS_AI_ACCOUNT_ID'),
        apiToken: setting('WORKERS_AI_API_TOKEN'),
      }),
      guard: <T>(_: unknown, fn: () => Promise<T>) => fn(),
    };
    const words = vocabulary(20_000);

    let loaded = 0;
    const load = async (target: number) => {
      const started = performance.now();
      while (loaded < target) {
        const n = Math.min(BATCH, target - loaded);
        const docs = Array.from({ length: n }, (_, i) => ({
          id: newId('content'),
          title: sentence(words, 6),
          body: sentence(words, 80),
          slug: `bench-${loaded + i}`,
        }));
        const published = new Date(Date.now() - random() * 365 * 86_400_000).toISOString();
        await sql.query(
          `insert into content (id, org_id, status, default_locale, published_at)
           select unnest($1::text[]), $2, 'published', 'en', $3::timestamptz`,
          [docs.map((d) => d.id), orgId, published],
        );
        await sql.query(
          `insert into content_translations (content_id, org_id, locale, title, body, slug)
           select unnest($1::text[]), $2, 'en', unnest($3::text[]), unnest($4::text[]),
                  unnest($5::text[])`,
          [
            docs.map((d) => d.id),
            orgId,
            docs.map((d) => d.title),
            docs.map((d) => d.body),
            docs.map((d) => d.slug),
          ],
        );
        const seconds = Math.floor(Date.parse(published) / 1_000);
        const entries = docs.map((d) => ({
          id: `${d.id}:en`,
          fields: { title: d.title, body: d.body },
          metadata: {
            content_id: d.id,
            locale: 'en',
            status: 'published' as const,
            tags: [],
            published_at: seconds,
            updated_at: seconds,
            version: 1,
            title: d.title,
            meta: {},
          },
        }));
        await namespace.upsert(await encodeEntries(encoder, entries));
        loaded += n;
      }
      // What the indexer does after a change: cached results of the smaller index go.
      await redis.incr(indexVersionKey(orgId));
      console.log(`loaded ${loaded} documents (${Math.round(performance.now() - started)} ms)`);
    };

    const rows: Row[] = [];
    for (const size of SIZES) {
      await load(size);
      // Queries of 2–3 words from the middle of the vocabulary: they match some documents.
      const queries = Array.from({ length: QUERIES }, (_, i) =>
        Array.from({ length: 2 + (i % 2) }, () => words[50 + Math.floor(random() * 2_000)]!).join(
          ' ',
        ),
      );
      // Warm-up: the vocabulary, synonyms and settings caches, the JIT.
      for (const q of queries.slice(0, 5)) {
        await api(reader, `/v1/search?q=${encodeURIComponent(`warm ${q}`)}`);
      }
      for (const mode of MODES) {
        for (const cache of ['miss', 'hit'] as const) {
          const samples: number[] = [];
          const stages = Object.fromEntries(STAGES.map((n) => [n, [] as number[]]));
          for (const q of queries) {
            const path = `/v1/search?q=${encodeURIComponent(q)}&mode=${mode}`;
            const t0 = performance.now();
            const { response } = await api(reader, path);
            samples.push(performance.now() - t0);
            const timing = response.headers.get('server-timing') ?? '';
            if (!timing.includes(`cache;desc="${cache}"`)) {
              throw new Error(`expected a cache ${cache} for ${path}, got ${timing}`);
            }
            for (const stage of STAGES) {
              const dur = new RegExp(`(?:^|,\\s*)${stage};dur=([\\d.]+)`).exec(timing)?.[1];
              if (dur !== undefined) stages[stage]!.push(Number(dur));
            }
          }
          samples.sort((a, b) => a - b);
          const median = (values: number[]) =>
            values.length === 0
              ? Number.NaN
              : percentile(
                  values.sort((a, b) => a - b),
                  0.5,
                );
          rows.push({
            size,
            mode,
            cache,
            p50: percentile(samples, 0.5),
            p95: percentile(samples, 0.95),
            n: samples.length,
            stages: {
              understand: median(stages.understand!),
              retrieve: median(stages.retrieve!),
              hydrate: median(stages.hydrate!),
            },
          });
        }
      }
    }

    const lines = [
      '# Search latency',
      '',
      `\`npm run bench:search-latency\` on ${new Date().toISOString().slice(0, 10)}: \`GET /v1/search\` under \`wrangler dev\` against the local cloud in memory (PGlite, embedded Redis, the in-process Vector engine, exact search over 1,024-dimension vectors embedded by the local Workers AI's feature-hashing model), synthetic English documents (6-word titles, 80-word bodies, 20,000-word vocabulary), ${QUERIES} queries of 2–3 words, one client; a miss is a query's first run (retrieval, fusion, re-rank, snippets), a hit its second (cached candidates). Load generator and Worker on the same 2 cores.`,
      '',
      '| documents | mode | cache | p50 ms | p95 ms | understand p50 | retrieve p50 | hydrate p50 | queries |',
      '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.size.toLocaleString('en-US')} | ${r.mode} | ${r.cache} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${stage(r.stages.understand)} | ${stage(r.stages.retrieve)} | ${stage(r.stages.hydrate)} | ${r.n} |`,
      ),
      '',
      'The stage columns are the Worker\'s own `Server-Timing` (understanding the query, retrieval with fusion and popularity, reading the page\'s items); "–" where a stage did not run (retrieval on a hit).',
      '',
    ];
    const report = lines.join('\n');
    await writeFile(join(ROOT, 'bench/results/search-latency.md'), report);
    console.log(report);
  } finally {
    await dev.close();
  }
}

await main();
