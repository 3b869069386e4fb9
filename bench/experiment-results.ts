/**
 * What a look at an experiment's results costs as its traffic grows: `experimentResults`
 * (`shared/experiments/results.ts`, the query and statistics behind
 * `GET /v1/experiments/{id}/results`) against a Postgres database holding an experiment with
 * N exposures (three searches per reader, two variants) and result clicks on 15% of them, for
 * N from 10,000 to 1,000,000. Each size is read {@link LOOKS} times after one warm-up; the
 * figures are the median and the slowest. Every look must count exactly the exposures and clicks
 * inserted (checked), so a row measures what it says.
 *
 * On the Postgres server of `DATABASE_URL` (default this machine's, `postgres://postgres@
 * 127.0.0.1:5432/test`), in a database of its own that it drops at the end.
 *
 *   npm run bench:experiment-results    # writes bench/results/experiment-results.md
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { experimentResults } from '../shared/experiments/results.ts';
import { newId } from '../shared/ids.ts';
import { migrateDatabase } from '../tools/db/migrate.ts';

const ROOT = join(import.meta.dirname, '..');
const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const LOOKS = 5;
const SEARCHES_PER_READER = 3;
const CLICK_PERCENT = 15;

const name = `sift_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: SERVER });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(SERVER);
url.pathname = `/${name}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
const rows: string[] = [];
try {
  await migrateDatabase(url.toString());
  const db = drizzle({ client: pool });
  const orgId = newId('organization');
  await pool.query(`insert into organizations (id, slug, name) values ($1, 'bench', 'Bench')`, [
    orgId,
  ]);
  const startedAt = new Date(Date.now() - 86_400_000);
  for (const size of SIZES) {
    const experimentId = newId('experiment');
    await pool.query(
      `insert into experiments (id, org_id, key, surface, status, variants, primary_metric, salt,
         guardrails, started_at)
       values ($1, $2, $3, 'search', 'stopped', $4, 'click_through_rate', 'bench',
         '[{"metric":"error_rate"},{"metric":"latency_p95","max_increase_percent":20}]', $5)`,
      [
        experimentId,
        orgId,
        `bench-${size}`,
        JSON.stringify([
          { key: 'control', weight: 50, settings: {} },
          { key: 'b', weight: 50, settings: { semantic_weight: 0.3 } },
        ]),
        startedAt,
      ],
    );
    const prefix = `qry_${size}_`;
    const insertStarted = performance.now();
    // Reader g / 3; readers alternate between the variants; a search's id names its number.
    await pool.query(
      `insert into experiment_exposures (experiment_id, subject_id, org_id, variant, targeting_key,
         outcome, latency_ms, result_count, occurred_at)
       select $1, $2 || g, $3, case when (g / ${SEARCHES_PER_READER}) % 2 = 0 then 'control' else 'b' end,
         'reader-' || (g / ${SEARCHES_PER_READER}), 'ok', 10 + g % 40, g % 30, $4
       from generate_series(0, $5::int - 1) g`,
      [experimentId, prefix, orgId, new Date(), size],
    );
    await pool.query(
      `insert into events (id, occurred_at, org_id, type, query_id, data)
       select 'evt_' || $1 || g, $2, $3, 'search.result_clicked', $1 || g, '{}'::jsonb
       from generate_series(0, $4::int - 1) g where (g::bigint * 7919) % 100 < ${CLICK_PERCENT}`,
      [prefix, new Date(), orgId, size],
    );
    await pool.query('analyze experiment_exposures; analyze events');
    const clicks = Number(
      (
        await pool.query(
          `select count(*) from generate_series(0, $1::int - 1) g where (g::bigint * 7919) % 100 < ${CLICK_PERCENT}`,
          [size],
        )
      ).rows[0].count,
    );
    const loaded = (performance.now() - insertStarted) / 1000;
    const experiment = {
      id: experimentId,
      orgId,
      surface: 'search' as const,
      primaryMetric: 'click_through_rate' as const,
      variants: [
        { key: 'control', weight: 50, settings: {} },
        { key: 'b', weight: 50, settings: { semantic_weight: 0.3 } },
      ],
      guardrails: [
        { metric: 'error_rate' as const },
        { metric: 'latency_p95' as const, max_increase_percent: 20 },
      ],
      horizon: null,
      startedAt,
      sequential: {},
    };
    const times: number[] = [];
    for (let look = 0; look <= LOOKS; look++) {
      const started = performance.now();
      const { results } = await experimentResults(db, experiment);
      const ms = performance.now() - started;
      const exposures = results.control.exposures + results.variants[0]!.exposures;
      const conversions = results.control.conversions + results.variants[0]!.conversions;
      if (exposures !== size || conversions !== clicks) {
        throw new Error(
          `look counted ${exposures} exposures and ${conversions} clicks, not ${size} and ${clicks}`,
        );
      }
      if (look > 0) times.push(ms);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    rows.push(
      `| ${size.toLocaleString('en-US')} | ${(size / SEARCHES_PER_READER).toLocaleString('en-US', { maximumFractionDigits: 0 })} | ${clicks.toLocaleString('en-US')} | ${median.toFixed(0)} ms | ${times.at(-1)!.toFixed(0)} ms | ${loaded.toFixed(1)} s |`,
    );
    console.log(rows.at(-1));
  }
} finally {
  await pool.end();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}

const lines = [
  '# Experiments: the cost of a look at the results',
  '',
  `\`npm run bench:experiment-results\` on ${new Date().toISOString().slice(0, 10)}: \`experimentResults\` (the query and statistics of \`GET /v1/experiments/{id}/results\`) on PostgreSQL (${url.host}), one experiment with N exposures, ${SEARCHES_PER_READER} searches per reader, two variants and result clicks on ${CLICK_PERCENT}% of the searches, plus both guardrails. Each size read ${LOOKS} times after a warm-up; every look checked to count exactly the exposures and clicks inserted. How the data are made: \`bench/experiment-results.ts\`.`,
  '',
  '| exposures | readers | clicks | median look | slowest look | load time |',
  '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
  '',
];
await writeFile(join(ROOT, 'bench/results/experiment-results.md'), lines.join('\n'));
console.log(lines.join('\n'));
