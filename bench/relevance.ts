/**
 * Search relevance on two collections, through Sift's own API under `wrangler dev` (`npm run dev`
 * on free ports, the local cloud in memory), with baselines measured in the same run:
 *
 * - CISI (`BENCH_CISI_DIR`, bench/datasets.ts: 1,460 library-science abstracts, 76 queries with
 *   relevance judgments), a public test collection;
 * - sift-demo topics: the repository's own bilingual sample data (`tools/db/sample-data`, the
 *   360 items `npm run dev` seeds, every one published here), queried with each subject's
 *   English and Arabic phrase and each category's name; an item is relevant to its subject's
 *   queries and to its category's (judgments by construction: the generator writes each item
 *   about one subject of one category).
 *
 * Each collection goes into a fresh organisation (signed up here, so that nothing but the
 * collection is in its index or vocabulary): the documents created with
 * `POST /v1/content/bulk`, then submitted, approved and published with bulk transitions; each
 * judged query through `POST /v1/search` in `keyword`, `semantic` and `hybrid` mode, the top 100
 * from two pages of 50, with the organisation's default settings and again with the semantic
 * relevance floors turned off (`PUT /v1/search/settings`: what search did before them). The
 * same run searches each organisation with the other collection's queries (off-topic: nothing
 * is relevant) and counts what comes back. Baselines on CISI:
 *
 * - MiniSearch (title boosted twice), plain and with prefix and fuzzy matching;
 * - Postgres `ts_rank_cd`: Sift's own fallback `keywordSearch` over an in-process PGlite with the
 *   migrated schema, the documents as published items. It reads a query with a quote, `-word`
 *   or the word `or` as web search syntax (every term required), so a second row gives it the
 *   same words without that syntax (plain words ORed).
 *
 * Metrics (binary judgments): NDCG@10, MAP@100 and Recall@100, averaged over the judged queries,
 * and the mean `total` (how many results a search reports); then CISI's queries with one random
 * edit in 30% of their words (seeded), NDCG@10 against the clean figure. Queries longer than the
 * search API accepts are cut at a word boundary, for every system alike.
 *
 *   npm run bench:relevance            # writes bench/results/relevance.md
 *   BENCH_SEED=7 npm run bench:relevance
 *   BENCH_DEV_LOG=/tmp/dev.log npm run bench:relevance   # keeps the dev server's output
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import MiniSearch from 'minisearch';
import { CONTENT_LIMITS } from '../shared/content/schema.ts';
import { content, contentTranslations, organizations } from '../shared/db/schema/index.ts';
import { createRandom } from '../shared/random.ts';
import { keywordSearch, usesSearchSyntax } from '../shared/search/keyword.ts';
import { DEFAULT_RANKING } from '../shared/search/ranking.ts';
import { MIGRATIONS_FOLDER } from '../tools/db/migrate.ts';
import { CATEGORY_BANKS } from '../tools/db/sample-data/categories.ts';
import { composeSampleItems } from '../tools/db/sample-data/compose.ts';
import { freePort, startDevProcess } from '../tools/dev-process.ts';
import { CISI_DIR } from './datasets.ts';
import { addTypos, averagePrecisionAt, mean, ndcgAt, recallAt } from './ir-metrics.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const DATASET = CISI_DIR;
const SEED = Number(process.env.BENCH_SEED ?? 6);
const TYPO_RATE = 0.3;
/** Ranks evaluated (MAP and recall), fetched as pages of PAGE_SIZE. */
const DEPTH = 100;
const PAGE_SIZE = 50;
const BULK_ITEMS = 1_000;
/** Longest wait for the consumer to persist and index the collection. */
const INGEST_TIMEOUT_MS = Number(process.env.BENCH_INGEST_TIMEOUT_MS ?? 1_200_000);
const CLIENT_IP = '198.51.100.40';
const MODES = ['keyword', 'semantic', 'hybrid'] as const;
type Mode = (typeof MODES)[number];

type Json = Record<string, unknown>;
type Auth = { token: string };

// ---------------------------------------------------------------------------------------------
// The collection

type Doc = { id: number; title: string; body: string };
type Query = { id: number; text: string; truncated: boolean };
type Collection = { docs: Doc[]; queries: Query[]; judgments: Map<number, Set<number>> };
type Text = { title: string; summary?: string; body: string };
/** A document as Sift stores it: its translations by locale. */
type Item = { id: number; translations: Record<string, Text> };

/**
 * The records of a SMART-format file: `.I <id>` starts a record, `.X` style lines start a field
 * (the text up to the next field line). Anything before the first `.I` is ignored.
 */
function parseRecords(text: string): Map<number, Map<string, string>> {
  const records = new Map<number, Map<string, string>>();
  let record: Map<string, string> | undefined;
  let field: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const start = /^\.I\s+(\d+)\s*$/.exec(line);
    if (start) {
      record = new Map();
      records.set(Number(start[1]), record);
      field = undefined;
      continue;
    }
    const marker = /^\.([A-Z])\s*$/.exec(line);
    if (marker) {
      field = marker[1];
      continue;
    }
    if (record && field) record.set(field, `${record.get(field) ?? ''}${line}\n`);
  }
  return records;
}

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/** `text` cut to at most `max` characters at a word boundary. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max + 1);
  const space = cut.lastIndexOf(' ');
  return (space > 0 ? cut.slice(0, space) : text.slice(0, max)).trim();
}

async function loadCisi(maxQueryChars: number): Promise<Collection> {
  const read = (name: string) => readFile(join(DATASET, name), 'utf8');
  const [all, qry, rel] = await Promise.all([read('CISI.ALL'), read('CISI.QRY'), read('CISI.REL')]);
  const docs = [...parseRecords(all)].map(([id, fields]) => ({
    id,
    title: truncate(collapse(fields.get('T') ?? ''), CONTENT_LIMITS.title),
    body: (fields.get('W') ?? '').trim(),
  }));
  const judgments = new Map<number, Set<number>>();
  for (const line of rel.split('\n')) {
    const [query, doc] = line.trim().split(/\s+/);
    if (!query || !doc) continue;
    const set = judgments.get(Number(query)) ?? new Set<number>();
    set.add(Number(doc));
    judgments.set(Number(query), set);
  }
  const queries = [...parseRecords(qry)]
    .filter(([id]) => judgments.has(id))
    .map(([id, fields]) => {
      const full = collapse(fields.get('W') ?? '');
      const text = truncate(full, maxQueryChars);
      return { id, text, truncated: text !== full };
    })
    .sort((a, b) => a.id - b.id);
  return { docs, queries, judgments };
}

/**
 * sift-demo topics: the 360 sample items (all of them, whatever their sample status), one
 * query per subject in English and in Arabic and one per category name in each language, ids
 * from 1 in that order. An item is relevant to the queries of its subject (the subject whose
 * phrase its title holds, the longest if several) and of its category.
 */
function loadSample(maxQueryChars: number) {
  const sample = composeSampleItems();
  const items: Item[] = sample.map((item, i) => ({
    id: i + 1,
    translations: Object.fromEntries(
      Object.entries(item.translations).map(([locale, t]) => [locale, t as Text]),
    ),
  }));
  const subjects = CATEGORY_BANKS.flatMap((bank) =>
    bank.subjects.map((subject) => ({ bank: bank.slug, ...subject })),
  );
  const queries: Query[] = [];
  const judgments = new Map<number, Set<number>>();
  const ask = (text: string, relevant: Set<number>) => {
    const id = queries.length + 1;
    const cut = truncate(text, maxQueryChars);
    queries.push({ id, text: cut, truncated: cut !== text });
    judgments.set(id, relevant);
  };
  const aboutSubject = new Map<string, Set<number>>();
  const inBank = new Map<string, Set<number>>();
  sample.forEach((item, i) => {
    const en = item.translations.en?.title.toLowerCase() ?? '';
    const ar = item.translations.ar?.title ?? '';
    const subject = subjects
      .filter((s) => en.includes(s.en.toLowerCase()) || ar.includes(s.ar))
      .sort((a, b) => b.en.length - a.en.length)[0];
    if (!subject) throw new Error(`no subject in the titles of sample item ${i}`);
    for (const [map, key] of [
      [aboutSubject, subject.en],
      [inBank, subject.bank],
    ] as const) {
      map.set(key, (map.get(key) ?? new Set()).add(i + 1));
    }
  });
  for (const s of subjects) {
    const relevant = aboutSubject.get(s.en);
    if (!relevant) continue;
    ask(s.en, relevant);
    ask(s.ar, relevant);
  }
  for (const bank of CATEGORY_BANKS) {
    ask(bank.names.en, inBank.get(bank.slug)!);
    ask(bank.names.ar, inBank.get(bank.slug)!);
  }
  return { items, queries, judgments };
}

// ---------------------------------------------------------------------------------------------
// Sift over HTTP

async function api(
  base: string,
  path: string,
  init: { method?: string; auth?: Auth; body?: unknown } = {},
) {
  const method = init.method ?? (init.body ? 'POST' : 'GET');
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      'CF-Connecting-IP': CLIENT_IP,
      ...(init.auth ? { Authorization: `Bearer ${init.auth.token}` } : {}),
      ...(init.body ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  if (response.status >= 400) {
    throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
  }
  return (text ? JSON.parse(text) : {}) as Json;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type BulkResult = { index: number; status: number; id: string | null; problem: unknown };

/** Sends one bulk request; every item must be accepted. Returns the results and operation. */
async function bulk(base: string, auth: Auth, items: unknown[]) {
  const body = await api(base, '/v1/content/bulk', { auth, body: { items } });
  const results = body.results as BulkResult[];
  const refused = results.filter((r) => r.status !== 202);
  if (refused.length > 0) {
    throw new Error(`bulk refused ${refused.length} items, e.g. ${JSON.stringify(refused[0])}`);
  }
  return { results, operation: (body.operation as { url: string }).url };
}

const chunks = <T>(items: T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) =>
    items.slice(i * size, (i + 1) * size),
  );

/**
 * Creates, submits, approves and publishes the items; resolves once every bulk operation is
 * applied. Returns content id → the item's id in its collection.
 */
async function ingest(base: string, auth: Auth, docs: Item[]): Promise<Map<string, number>> {
  const started = performance.now();
  const ids = new Map<string, number>();
  const operations: string[] = [];
  for (const batch of chunks(docs, BULK_ITEMS)) {
    const { results, operation } = await bulk(
      base,
      auth,
      batch.map((d) => ({
        op: 'create',
        data: { translations: d.translations, metadata: { bench_id: d.id } },
      })),
    );
    for (const [i, r] of results.entries()) ids.set(r.id!, batch[i]!.id);
    operations.push(operation);
  }
  // Each item's three transitions in one request, applied in order on the version before.
  const actions = ['submit', 'approve', 'publish'] as const;
  for (const batch of chunks([...ids.keys()], Math.floor(BULK_ITEMS / actions.length))) {
    const items = batch.flatMap((id) =>
      actions.map((action) => ({ op: 'transition', id, action })),
    );
    operations.push((await bulk(base, auth, items)).operation);
  }
  const writes = docs.length * (1 + actions.length);
  console.log(`${writes} writes accepted in ${(performance.now() - started) / 1000} s`);

  const deadline = performance.now() + INGEST_TIMEOUT_MS;
  let reported = 0;
  for (;;) {
    let done = 0;
    let applied = 0;
    for (const url of operations) {
      const op = await api(base, url, { auth });
      const progress = op.progress as { done: number; failed: number } | null;
      if (op.status === 'failed' || (progress?.failed ?? 0) > 0) {
        throw new Error(`bulk operation failed: ${JSON.stringify(op)}`);
      }
      done += progress?.done ?? 0;
      if (op.status === 'applied') applied++;
    }
    if (applied === operations.length) break;
    if (performance.now() > deadline) throw new Error(`only ${done} of ${writes} writes applied`);
    if (performance.now() - reported > 10_000) {
      reported = performance.now();
      const seconds = Math.round((reported - started) / 1000);
      console.log(`${seconds} s: ${done} of ${writes} writes applied`);
    }
    await sleep(1_000);
  }
  console.log(`all writes applied in ${Math.round((performance.now() - started) / 1000)} s`);
  return ids;
}

/**
 * Waits until the index stops changing: the hit count of a broad search in every mode is the
 * same for `settle` polls in a row (results are cached per index version, which every indexed
 * batch bumps). Indexing runs right after each batch is persisted, so this is seconds.
 */
async function waitForIndex(base: string, auth: Auth, word: string, settle = 5) {
  let previous = '';
  let same = 0;
  const deadline = performance.now() + 120_000;
  while (same < settle) {
    const totals = await Promise.all(
      MODES.map(async (mode) => {
        const body = await api(base, '/v1/search', {
          auth,
          body: { q: word, mode, limit: 1, facets: false },
        });
        return body.total as number;
      }),
    );
    const key = totals.join(',');
    same = key === previous ? same + 1 : 0;
    previous = key;
    if (performance.now() > deadline) throw new Error('the index did not settle in 120 s');
    await sleep(1_000);
  }
  console.log(`index settled: "${word}" finds ${previous} (keyword, semantic, hybrid)`);
}

type SearchOutcome = {
  ranking: number[];
  /** The search's `total`: how many results it reports. */
  total: number;
  /** Client time of the first page, and of the second (undefined: there was none). */
  firstMs: number;
  nextMs: number | undefined;
  degraded: boolean;
  corrections: { from: string; to: string }[];
  /** Hits that are not collection documents (must be 0). */
  strangers: number;
  error: string | undefined;
};

async function siftSearch(
  base: string,
  auth: Auth,
  ids: Map<string, number>,
  q: string,
  mode: Mode,
): Promise<SearchOutcome> {
  const outcome: SearchOutcome = {
    ranking: [],
    total: 0,
    firstMs: Number.NaN,
    nextMs: undefined,
    degraded: false,
    corrections: [],
    strangers: 0,
    error: undefined,
  };
  let cursor: string | null = null;
  try {
    do {
      const t0 = performance.now();
      const body: Json = await api(base, '/v1/search', {
        auth,
        body: { q, mode, limit: PAGE_SIZE, facets: false, ...(cursor ? { cursor } : {}) },
      });
      const elapsed = performance.now() - t0;
      if (cursor) outcome.nextMs = elapsed;
      else {
        outcome.firstMs = elapsed;
        outcome.total = body.total as number;
        outcome.corrections = (
          body.query as { corrections: SearchOutcome['corrections'] }
        ).corrections;
      }
      outcome.degraded ||= body.degraded === true;
      for (const hit of body.hits as { id: string }[]) {
        const id = ids.get(hit.id);
        if (id === undefined) outcome.strangers++;
        else outcome.ranking.push(id);
      }
      cursor = body.next_cursor as string | null;
    } while (cursor && outcome.ranking.length < DEPTH);
  } catch (error) {
    outcome.error = error instanceof Error ? error.message : String(error);
  }
  outcome.ranking = outcome.ranking.slice(0, DEPTH);
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Baselines

type Searcher = (text: string) => Promise<number[]>;

function miniSearch(docs: Doc[]) {
  const index = new MiniSearch<Doc>({ fields: ['title', 'body'], storeFields: [] });
  index.addAll(docs);
  const run =
    (options: { prefix?: boolean; fuzzy?: number }): Searcher =>
    async (text) =>
      index
        .search(text, { ...options, boost: { title: 2 } })
        .slice(0, DEPTH)
        .map((r) => r.id as number);
  return { plain: run({}), fuzzy: run({ prefix: true, fuzzy: 0.2 }) };
}

/**
 * The same words without web search syntax (quotes, a leading `-`, the word `or`), so that
 * Postgres ORs them; `or` is an English stop word, so nothing else changes.
 */
function plainWords(text: string): string {
  return collapse(
    text
      .replaceAll('"', ' ')
      .replace(/(^|\s)-(?=\S)/g, '$1')
      .replace(/(^|\s)or(?=\s|$)/gi, '$1'),
  );
}

/** Sift's Postgres keyword search over an in-process PGlite holding the collection. */
async function postgresSearch(docs: Doc[]) {
  const client = await PGlite.create();
  const db = drizzle({ client });
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  const [org] = await db
    .insert(organizations)
    .values({ slug: 'cisi', name: 'CISI' })
    .returning({ id: organizations.id });
  const orgId = org!.id;
  const ids = new Map<string, number>();
  const now = new Date();
  for (const batch of chunks(docs, 200)) {
    const rows = await db
      .insert(content)
      .values(
        batch.map((d) => ({
          orgId,
          status: 'published' as const,
          defaultLocale: 'en',
          publishedAt: now,
          metadata: { cisi_id: d.id },
        })),
      )
      .returning({ id: content.id });
    for (const [i, r] of rows.entries()) ids.set(r.id, batch[i]!.id);
    await db.insert(contentTranslations).values(
      batch.map((d, i) => ({
        contentId: rows[i]!.id,
        orgId,
        locale: 'en',
        title: d.title,
        body: d.body,
        slug: `cisi-${d.id}`,
      })),
    );
  }
  const run: Searcher = async (text) =>
    (await keywordSearch(db, { orgId, text, limit: DEPTH })).map((h) => ids.get(h.contentId)!);
  return { run, close: () => client.close() };
}

// ---------------------------------------------------------------------------------------------
// Evaluation and report

type Scores = { ndcg: number; map: number; recall: number };

function score(rankings: Map<number, number[]>, judgments: Map<number, Set<number>>): Scores {
  const per = [...rankings].map(([query, ranking]) => {
    const relevant = judgments.get(query)!;
    return {
      ndcg: ndcgAt(ranking, relevant, 10),
      map: averagePrecisionAt(ranking, relevant, DEPTH),
      recall: recallAt(ranking, relevant, DEPTH),
    };
  });
  return {
    ndcg: mean(per.map((p) => p.ndcg)),
    map: mean(per.map((p) => p.map)),
    recall: mean(per.map((p) => p.recall)),
  };
}

type Timed = { rankings: Map<number, number[]>; ms: number[] };

async function runSearcher(search: Searcher, queries: { id: number; text: string }[]) {
  const out: Timed = { rankings: new Map(), ms: [] };
  for (const q of queries) {
    const t0 = performance.now();
    out.rankings.set(q.id, await search(q.text));
    out.ms.push(performance.now() - t0);
  }
  return out;
}

const fixed = (n: number, digits = 3) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const median = (samples: number[]) =>
  percentile(Float64Array.from(samples.filter(Number.isFinite)).sort(), 0.5);
const p95 = (samples: number[]) =>
  percentile(Float64Array.from(samples.filter(Number.isFinite)).sort(), 0.95);

/** Settings that turn the semantic relevance floors off: search as it was before them. */
const NO_FLOORS = { semantic_floor: 0, semantic_only_floor: 0, semantic_min_similarity: -1 };

/** Signs up an organisation for a collection and makes it an API key that may do everything. */
async function organisation(base: string, name: string): Promise<Auth> {
  const suffix = randomBytes(4).toString('hex');
  const signup = await api(base, '/v1/auth/signup', {
    body: {
      email: `relevance-${name}-${suffix}@bench.example`,
      password: `relevance benchmark ${randomBytes(12).toString('hex')}`,
      name: 'Relevance Benchmark',
      organization: { name: `${name} collection`, slug: `${name}-${suffix}` },
    },
  });
  const owner: Auth = { token: signup.access_token as string };
  const created = await api(base, '/v1/keys', {
    auth: owner,
    body: {
      name: 'relevance benchmark',
      scopes: ['content:read', 'content:write', 'content:publish', 'search', 'settings:manage'],
      rate_limit: { limit: 100_000, window_seconds: 1 },
    },
  });
  return { token: created.secret as string };
}

type SiftRun = Map<number, SearchOutcome>;
type Runs = Map<Mode, SiftRun>;

const rankingsOf = (run: SiftRun) => new Map([...run].map(([id, o]) => [id, o.ranking]));
const meanTotal = (run: SiftRun) => mean([...run.values()].map((o) => o.total));

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'sift-bench-relevance-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { child: dev, output } = await startDevProcess({
    dir,
    port,
    env: { LOG_LEVEL: 'warn' },
    timeoutMs: 120_000,
  });
  let pg: Awaited<ReturnType<typeof postgresSearch>> | undefined;
  try {
    // The longest query the search API takes, from its own OpenAPI document.
    const openapi = (await api(base, '/openapi.json')) as {
      components: { schemas: { SearchRequest: { properties: { q: { maxLength: number } } } } };
    };
    const maxQueryChars = openapi.components.schemas.SearchRequest.properties.q.maxLength;
    const { docs, queries, judgments } = await loadCisi(maxQueryChars);
    const sample = loadSample(maxQueryChars);
    const truncated = queries.filter((q) => q.truncated).length;
    console.log(
      `${docs.length} documents, ${queries.length} judged queries (${truncated} cut to ${maxQueryChars} characters); sift-demo: ${sample.items.length} items, ${sample.queries.length} queries`,
    );

    const random = createRandom(SEED);
    const typoQueries = queries.map((q) => {
      const typos = addTypos(q.text, random, TYPO_RATE);
      return { id: q.id, text: truncate(typos.text, maxQueryChars), changes: typos.changes };
    });

    // Fresh organisations: each index and vocabulary holds its collection and nothing else.
    const cisiKey = await organisation(base, 'cisi');
    const sampleKey = await organisation(base, 'sift-demo');

    // The baselines are built while the consumer works through the writes.
    const cisiItems: Item[] = docs.map((d) => ({
      id: d.id,
      translations: { en: { title: d.title, body: d.body } },
    }));
    const ingestion = Promise.all([
      ingest(base, cisiKey, cisiItems),
      ingest(base, sampleKey, sample.items),
    ]);
    const mini = miniSearch(docs);
    pg = await postgresSearch(docs);
    const [cisiIds, sampleIds] = await ingestion;
    await waitForIndex(base, cisiKey, 'information');
    await waitForIndex(base, sampleKey, 'report');

    const runSift = async (
      key: Auth,
      ids: Map<string, number>,
      qs: { id: number; text: string }[],
      modes: readonly Mode[],
      label: string,
    ): Promise<Runs> => {
      const runs: Runs = new Map(modes.map((m) => [m, new Map()]));
      const started = performance.now();
      for (const [i, q] of qs.entries()) {
        for (const mode of modes) {
          runs.get(mode)!.set(q.id, await siftSearch(base, key, ids, q.text, mode));
        }
        if ((i + 1) % 40 === 0) console.log(`${label}: ${i + 1} of ${qs.length} queries`);
      }
      console.log(`${label}: done in ${Math.round((performance.now() - started) / 1000)} s`);
      return runs;
    };
    const settings = (key: Auth, body: unknown) =>
      api(base, '/v1/search/settings', { method: 'PUT', auth: key, body });
    /** The same queries with the floors (the defaults), then without them. */
    const withAndWithout = async (
      key: Auth,
      ids: Map<string, number>,
      qs: { id: number; text: string }[],
      label: string,
    ) => {
      const floors = await runSift(key, ids, qs, MODES, label);
      await settings(key, NO_FLOORS);
      const none = await runSift(key, ids, qs, ['semantic', 'hybrid'], `${label}, no floors`);
      await settings(key, {});
      return { floors, none };
    };
    const cisiClean = await withAndWithout(cisiKey, cisiIds, queries, 'CISI');
    const sampleClean = await withAndWithout(sampleKey, sampleIds, sample.queries, 'sift-demo');
    const cisiTypo = await runSift(cisiKey, cisiIds, typoQueries, MODES, 'CISI with typos');
    // Off-topic: each organisation searched with the other collection's queries.
    const offTopic = {
      cisi: await withAndWithout(cisiKey, cisiIds, sample.queries, 'sift-demo queries in CISI'),
      sample: await withAndWithout(sampleKey, sampleIds, queries, 'CISI queries in sift-demo'),
    };

    const baselines: { name: string; search: Searcher }[] = [
      { name: 'MiniSearch (title boost 2)', search: mini.plain },
      { name: 'MiniSearch (prefix + fuzzy 0.2)', search: mini.fuzzy },
      { name: 'Postgres `ts_rank_cd` (`keywordSearch`)', search: pg.run },
      {
        name: 'Postgres `ts_rank_cd`, search syntax removed',
        search: (text) => pg!.run(plainWords(text)),
      },
    ];
    type Row = { name: string; clean: Scores; total: number; typo?: Scores; ms: number[] };
    const siftRows = (
      clean: { floors: Runs; none: Runs },
      judged: Map<number, Set<number>>,
      typo?: Runs,
    ): Row[] => [
      ...MODES.map((mode) => ({
        name: `Sift ${mode}`,
        clean: score(rankingsOf(clean.floors.get(mode)!), judged),
        total: meanTotal(clean.floors.get(mode)!),
        ...(typo ? { typo: score(rankingsOf(typo.get(mode)!), judged) } : {}),
        ms: [],
      })),
      ...(['semantic', 'hybrid'] as const).map((mode) => ({
        name: `Sift ${mode}, no floors (before)`,
        clean: score(rankingsOf(clean.none.get(mode)!), judged),
        total: meanTotal(clean.none.get(mode)!),
        ms: [],
      })),
    ];
    const cisiRows = siftRows(cisiClean, judgments, cisiTypo);
    for (const b of baselines) {
      const clean = await runSearcher(b.search, queries);
      const typo = await runSearcher(b.search, typoQueries);
      cisiRows.push({
        name: b.name,
        clean: score(clean.rankings, judgments),
        total: mean([...clean.rankings.values()].map((r) => r.length)),
        typo: score(typo.rankings, judgments),
        ms: [...clean.ms, ...typo.ms],
      });
    }
    const sampleRows = siftRows(sampleClean, sample.judgments);

    // What else the run saw: failures, degraded answers, stray hits, typo correction.
    const everyRun = (runs: Runs) => [...runs.values()].flatMap((run) => [...run.values()]);
    const outcomes = [cisiClean, sampleClean, offTopic.cisi, offTopic.sample].flatMap((r) => [
      ...everyRun(r.floors),
      ...everyRun(r.none),
    ]);
    outcomes.push(...everyRun(cisiTypo));
    const errors = outcomes.filter((o) => o.error !== undefined);
    const degraded = outcomes.filter((o) => o.degraded).length;
    const strangers = outcomes.reduce((n, o) => n + o.strangers, 0);
    const typoWords = typoQueries.reduce((n, q) => n + q.changes.length, 0);
    const hybridTypo = cisiTypo.get('hybrid')!;
    const restored = typoQueries.reduce((n, q) => {
      const corrections = hybridTypo.get(q.id)!.corrections;
      return (
        n +
        q.changes.filter((c) =>
          corrections.some(
            (x) =>
              x.from.toLowerCase() === c.to.toLowerCase() &&
              x.to.toLowerCase() === c.from.toLowerCase(),
          ),
        ).length
      );
    }, 0);
    const cleanCorrections = [...cisiClean.floors.get('hybrid')!.values()].reduce(
      (n, o) => n + o.corrections.length,
      0,
    );
    const syntaxQueries = queries.filter((q) => usesSearchSyntax(q.text)).length;

    const latency = MODES.map((mode) => {
      const all = [...cisiClean.floors.get(mode)!.values(), ...cisiTypo.get(mode)!.values()];
      return {
        mode,
        first: all.map((o) => o.firstMs),
        next: all.flatMap((o) => (o.nextMs === undefined ? [] : [o.nextMs])),
      };
    });

    const relevanceTable = (rows: Row[]) => [
      '| system | NDCG@10 | MAP@100 | Recall@100 | results (mean `total`) |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${fixed(r.clean.ndcg)} | ${fixed(r.clean.map)} | ${fixed(r.clean.recall)} | ${fixed(r.total, 1)} |`,
      ),
    ];
    /** Hybrid against the better of keyword and semantic alone, each metric. */
    const against = (name: string, rows: Row[]) => {
      const [keyword, semantic, hybrid] = rows as [Row, Row, Row];
      const cells = (['ndcg', 'map', 'recall'] as const).map((m) => {
        const better = Math.max(keyword.clean[m], semantic.clean[m]);
        return `${fixed(hybrid.clean[m])} / ${fixed(better)} = ${fixed(hybrid.clean[m] / better, 3)}`;
      });
      return `| ${name} | ${cells.join(' | ')} |`;
    };
    const offTopicRow = (name: string, runs: { floors: Runs; none: Runs }) =>
      `| ${name} | ${MODES.map((m) => fixed(meanTotal(runs.floors.get(m)!), 1)).join(' | ')} | ${(['semantic', 'hybrid'] as const).map((m) => fixed(meanTotal(runs.none.get(m)!), 1)).join(' | ')} |`;

    const lines = [
      '# Search relevance (CISI and sift-demo topics)',
      '',
      `\`npm run bench:relevance\` on ${new Date().toISOString().slice(0, 10)}: \`npm run dev\` (the Worker under \`wrangler dev\`, the local cloud in memory: PGlite, embedded Redis, the local vector index holding Sift's own vectors: BM25 weights of its text analysis, and embeddings from the local Workers AI, whose model is feature hashing, not bge-m3), one fresh organisation per collection holding only it, created, submitted, approved and published through \`POST /v1/content/bulk\`. Sift answers through \`POST /v1/search\` (\`limit\` ${PAGE_SIZE}, two pages: the top ${DEPTH}) with the organisation's default settings (semantic floors ${DEFAULT_RANKING.semantic_floor} and ${DEFAULT_RANKING.semantic_only_floor} of the way from the weakest candidate to the best, cosine at least ${DEFAULT_RANKING.semantic_min_similarity}), and again with the floors off (\`PUT /v1/search/settings\` ${JSON.stringify(NO_FLOORS)}: search as it was before them). Binary relevance; means over the judged queries.`,
      '',
      '## CISI',
      '',
      `${docs.length.toLocaleString('en-US')} CISI documents (title and abstract); ${queries.length} judged queries (the \`.W\` text, whitespace collapsed; ${truncated} longer than ${maxQueryChars} characters cut at a word boundary, for every system alike); judgments from \`CISI.REL\`. The baselines run in this process on the same documents and queries.`,
      '',
      ...relevanceTable(cisiRows),
      '',
      `MiniSearch indexes title and body (default tokeniser, no stemming), title boosted 2, terms ORed. \`keywordSearch\` is Sift's Postgres fallback: plain words ORed, ranked by \`ts_rank_cd\` with the title weighted above the body, English stemming; ${syntaxQueries} of the ${queries.length} queries contain the word "or" (or a quote or \`-word\`), which it reads as web search syntax (every other term required), hence the second row with that syntax taken out. A baseline's results are what it returned, at most ${DEPTH}.`,
      '',
      '## sift-demo topics',
      '',
      `The sample data \`npm run dev\` seeds (\`tools/db/sample-data\`): ${sample.items.length} items in ${CATEGORY_BANKS.length} categories, most in English and Arabic, every one published here. ${sample.queries.length} queries: each subject's English and Arabic phrase (e.g. "cloud computing", "الحوسبة السحابية") and each category's name in both languages; an item is relevant to its subject's queries and its category's. The judgments come from how the generator writes (each item is about one subject of one category), not from people.`,
      '',
      ...relevanceTable(sampleRows),
      '',
      '## Hybrid against its better side',
      '',
      'Hybrid (with floors) over the better of keyword and semantic alone (with floors), per metric: at least 1 means hybrid ranks no worse than its better side.',
      '',
      '| collection | NDCG@10 | MAP@100 | Recall@100 |',
      '| --- | ---: | ---: | ---: |',
      against('CISI', cisiRows),
      against('sift-demo topics', sampleRows),
      '',
      '## Off-topic queries: what comes back when nothing is relevant',
      '',
      "Each organisation searched with the other collection's queries (library science in a lifestyle magazine and the reverse); mean `total` per search.",
      '',
      '| queries → organisation | keyword | semantic | hybrid | semantic, no floors | hybrid, no floors |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      offTopicRow(`sift-demo's ${sample.queries.length} → CISI`, offTopic.cisi),
      offTopicRow(`CISI's ${queries.length} → sift-demo`, offTopic.sample),
      '',
      `## Typos on CISI (one random edit in ${TYPO_RATE * 100}% of each query's words)`,
      '',
      `Seed ${SEED} (\`BENCH_SEED\`): ${typoWords} words changed in ${typoQueries.length} queries, each by an insertion, deletion, substitution (letters a–z) or transposition of adjacent letters, equally likely.`,
      '',
      '| system | NDCG@10 clean | NDCG@10 with typos | ratio | MAP@100 with typos | Recall@100 with typos |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...cisiRows
        .filter((r) => r.typo)
        .map(
          (r) =>
            `| ${r.name} | ${fixed(r.clean.ndcg)} | ${fixed(r.typo!.ndcg)} | ${fixed(r.typo!.ndcg / r.clean.ndcg, 2)} | ${fixed(r.typo!.map)} | ${fixed(r.typo!.recall)} |`,
        ),
      '',
      `Sift's query understanding corrected ${restored} of the ${typoWords} misspelt words back to the word they came from (\`corrections\` of the hybrid searches); on the clean queries it made ${cleanCorrections} corrections.`,
      '',
      '## Latency on CISI (client time, ms)',
      '',
      '| system | p50 | p95 | second page p50 | searches |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...latency.map(
        (l) =>
          `| Sift ${l.mode}, \`POST /v1/search\` | ${fixed(median(l.first), 1)} | ${fixed(p95(l.first), 1)} | ${fixed(median(l.next), 1)} | ${l.first.length} |`,
      ),
      ...cisiRows
        .filter((r) => r.ms.length > 0)
        .map(
          (r) =>
            `| ${r.name}, in process | ${fixed(median(r.ms), 1)} | ${fixed(p95(r.ms), 1)} | – | ${r.ms.length} |`,
        ),
      '',
      `Sift's figures are the first page (${PAGE_SIZE} hits, result cache missed: every search is new) and the second page (the retrieved set from the result cache), one search at a time, the client and the Worker on the same 2 cores; as context, not a load test. The baselines run in this process (MiniSearch in memory, PGlite without a network hop).`,
      '',
      '## Run health',
      '',
      `${outcomes.length} searches through the API: ${errors.length} failed, ${degraded} answered degraded, ${strangers} hits outside the collection.${errors.length > 0 ? ` First failure: \`${errors[0]!.error}\`` : ''}`,
      '',
    ];
    const report = lines.join('\n');
    await writeFile(join(ROOT, 'bench/results/relevance.md'), report);
    console.log(report);
    if (errors.length > 0 || strangers > 0) {
      throw new Error('some searches failed or strayed; the figures are not comparable');
    }
  } finally {
    await pg?.close();
    if (process.env.BENCH_DEV_LOG) await writeFile(process.env.BENCH_DEV_LOG, output());
    dev.kill('SIGINT');
    await sleep(1_000);
    if (dev.exitCode === null) dev.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
