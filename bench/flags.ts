/**
 * Feature-flag evaluation cost, three ways:
 *
 * - inside workerd: `bench/flags-worker.ts` under `wrangler dev` with a configuration of its own
 *   (no bindings, no network), timing `evaluateFlag` on one flag and on each of a set of
 *   {@link MANY} flags, as `evaluateSnapshot` does for every live flag (conditions, regexes, semver rules, rollouts, splits, allow- and
 *   deny-lists, kill switches: `bench/flags-fixtures.ts`). workerd's clock moves in whole
 *   milliseconds, so it times batches and reports each batch's mean per evaluation;
 * - in Node, for comparison: the same Worker module called in process (the same batches), and
 *   each evaluation timed alone (Node's clock resolves microseconds);
 * - over HTTP against `npm run dev`: `POST /v1/flags/evaluate` for the {@link MANY} flags (created
 *   through the API in the sample organisation) and for one, OFREP's single evaluation, each
 *   next to `GET /health` measured in the same run.
 *
 * Every row checks what it measured: the workerd and Node runs count their evaluations and
 * answers, expect no error codes, and must agree answer for answer (the same reasons in the same
 * numbers); every HTTP answer counted is a 200 whose flags equal what `evaluateFlag` computes
 * here for the same context.
 *
 *   npm run bench:flags                        # writes bench/results/flags.md
 *   BENCH_FLAGS_REQUESTS=200 npm run bench:flags
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateFlag } from '../shared/flags/evaluate.ts';
import type { FlagDefinition } from '../shared/flags/rules.ts';
import { FlagDefinitionSchema } from '../shared/flags/schema.ts';
import { freePort } from '../tools/dev-process.ts';
import { startBenchSession } from './dev-session.ts';
import { benchContext, benchFlags, MANY, ONE_FLAG } from './flags-fixtures.ts';
import worker, { type WorkerRun } from './flags-worker.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const BATCHES = Number(process.env.BENCH_FLAGS_BATCHES ?? 200);
const ONE_BATCH = 2_000;
const MANY_BATCH = 200;
const SINGLE_SAMPLES = Number(process.env.BENCH_FLAGS_SAMPLES ?? 100_000);
const REQUESTS = Number(process.env.BENCH_FLAGS_REQUESTS ?? 500);

const sorted = (values: number[]) => Float64Array.from(values).sort();
const us = (ms: number) => (ms * 1000).toFixed(1);

type EvalRow = {
  scenario: string;
  runtime: string;
  how: string;
  samples: string;
  p50: number;
  p99: number;
  checked: string;
};

/** What a run evaluated must be what its label says; returns the check as words. */
function check(run: WorkerRun, evaluations: number, flagsEach: number, label: string): string {
  const problems: string[] = [];
  if (run.evaluations !== evaluations) problems.push(`${run.evaluations} evaluations`);
  if (run.answers !== evaluations * flagsEach) problems.push(`${run.answers} answers`);
  if (run.errors !== 0) problems.push(`${run.errors} errors`);
  for (const reason of ['TARGETING_MATCH', 'SPLIT', 'DEFAULT']) {
    if (!run.reasons[reason]) problems.push(`no ${reason}`);
  }
  if (problems.length > 0) throw new Error(`${label}: ${problems.join(', ')}`);
  const reasons = Object.entries(run.reasons)
    .sort()
    .map(([reason, n]) => `${reason} ${n.toLocaleString('en-US')}`)
    .join(', ');
  return `${run.answers.toLocaleString('en-US')} answers, 0 errors (${reasons})`;
}

/** The bench Worker under `wrangler dev`, on a free port; stopped by the returned function. */
async function startBenchWorker(): Promise<{ base: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sift-bench-flags-worker-'));
  await writeFile(
    join(dir, 'wrangler.toml'),
    [
      'name = "sift-bench-flags"',
      `main = ${JSON.stringify(join(ROOT, 'bench/flags-worker.ts'))}`,
      'compatibility_date = "2026-11-01"',
      'compatibility_flags = ["nodejs_compat"]',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const inspector = await freePort();
  const child: ChildProcess = spawn(
    join(ROOT, 'node_modules/.bin/wrangler'),
    [
      'dev',
      '--config',
      join(dir, 'wrangler.toml'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspector),
      '--persist-to',
      join(dir, 'state'),
      '--show-interactive-dev-session=false',
    ],
    { cwd: dir, stdio: 'pipe', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d;
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d;
  });
  const stop = async () => {
    child.kill('SIGINT');
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!/Ready on/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the bench Worker did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { base: `http://127.0.0.1:${port}`, stop };
}

async function runWorker(
  call: (path: string) => Promise<Response>,
  scenario: 'one' | 'many',
): Promise<WorkerRun> {
  const batch = scenario === 'one' ? ONE_BATCH : MANY_BATCH;
  const response = await call(`/?scenario=${scenario}&batches=${BATCHES}&batch=${batch}`);
  if (!response.ok) throw new Error(`${scenario}: ${response.status} ${await response.text()}`);
  return (await response.json()) as WorkerRun;
}

function batchRow(run: WorkerRun, scenario: 'one' | 'many', runtime: string): EvalRow {
  const batch = scenario === 'one' ? ONE_BATCH : MANY_BATCH;
  const flagsEach = scenario === 'one' ? 1 : MANY;
  const times = sorted(run.perEvaluationMs);
  return {
    scenario: scenario === 'one' ? '1 flag' : `${MANY} flags`,
    runtime,
    how: `${BATCHES} batches of ${batch.toLocaleString('en-US')}, mean per evaluation`,
    samples: BATCHES.toLocaleString('en-US'),
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    checked: check(run, BATCHES * batch, flagsEach, `${runtime} ${scenario}`),
  };
}

/** Each evaluation timed alone, in Node. */
function singleRow(scenario: 'one' | 'many'): EvalRow {
  const flags = scenario === 'one' ? [ONE_FLAG] : benchFlags(MANY);
  const contexts = Array.from({ length: 10_000 }, (_, i) => benchContext(i));
  const evaluate = (i: number) => flags.map((f) => evaluateFlag(f, contexts[i % 10_000]!));
  for (let i = 0; i < 10_000; i++) evaluate(i);
  const times: number[] = [];
  let answers = 0;
  let errors = 0;
  const n = scenario === 'one' ? SINGLE_SAMPLES : SINGLE_SAMPLES / 10;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const results = evaluate(i);
    times.push(performance.now() - t0);
    answers += results.length;
    errors += results.filter((r) => r.errorCode !== undefined).length;
  }
  if (answers !== n * flags.length || errors !== 0) {
    throw new Error(`node ${scenario}: ${answers} answers, ${errors} errors`);
  }
  const s = sorted(times);
  return {
    scenario: scenario === 'one' ? '1 flag' : `${MANY} flags`,
    runtime: 'Node',
    how: 'each evaluation timed alone',
    samples: n.toLocaleString('en-US'),
    p50: percentile(s, 0.5),
    p99: percentile(s, 0.99),
    checked: `${answers.toLocaleString('en-US')} answers, 0 errors`,
  };
}

type HttpRow = { label: string; ok: number; runs: number; p50: number; p95: number; note: string };

async function httpRows(): Promise<HttpRow[]> {
  const dev = await startBenchSession('flags');
  try {
    const { base } = dev;
    const manager = await dev.apiKey('flags bench (manage)', ['flags:manage']);
    const evaluator = await dev.apiKey('flags bench (evaluate)', ['flags:evaluate']);
    const flags = benchFlags(MANY);
    for (const flag of flags) {
      const response = await fetch(`${base}/v1/flags`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${manager.secret}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(flag),
      });
      if (response.status !== 201) {
        throw new Error(`create ${flag.key}: ${response.status} ${await response.text()}`);
      }
    }
    const auth = {
      Authorization: `Bearer ${evaluator.secret}`,
      'Content-Type': 'application/json',
    };
    const expected = (subset: FlagDefinition[], i: number) =>
      subset.map((f) => {
        const { key, value, variant, reason, rule } = evaluateFlag(f, benchContext(i));
        return { key, value, variant, reason, ...(rule === undefined ? {} : { rule }) };
      });
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

    const health = async () => {
      const t0 = performance.now();
      const response = await fetch(`${base}/health`);
      await response.arrayBuffer();
      return { ms: performance.now() - t0, ok: response.status === 200 };
    };
    const evaluate = async (subset: FlagDefinition[], i: number) => {
      const t0 = performance.now();
      const response = await fetch(`${base}/v1/flags/evaluate`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ context: benchContext(i), flags: subset.map((f) => f.key) }),
      });
      const body = (await response.json()) as { flags?: unknown[] };
      const ms = performance.now() - t0;
      const ok =
        response.status === 200 &&
        body.flags?.length === subset.length &&
        same(body.flags, expected(subset, i));
      return { ms, ok };
    };
    const ofrep = async (flag: FlagDefinition, i: number) => {
      const t0 = performance.now();
      const response = await fetch(`${base}/ofrep/v1/evaluate/flags/${flag.key}`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ context: benchContext(i) }),
      });
      const body = (await response.json()) as { value?: unknown; reason?: string };
      const ms = performance.now() - t0;
      const want = evaluateFlag(flag, benchContext(i));
      return {
        ms,
        ok: response.status === 200 && same(body.value, want.value) && body.reason === want.reason,
      };
    };

    // Warm-up: the snapshot into the isolate's memory, the JIT, the connections.
    for (let i = 0; i < 50; i++) {
      await health();
      await evaluate(flags, i);
    }
    const times = {
      health: [] as number[],
      many: [] as number[],
      one: [] as number[],
      ofrep: [] as number[],
    };
    const oneFlag = flags[1]!; // a split and a plan rule
    const kinds = [
      async (_: number) => {
        const h = await health();
        if (h.ok) times.health.push(h.ms);
      },
      async (i: number) => {
        const m = await evaluate(flags, i);
        if (m.ok) times.many.push(m.ms);
      },
      async (i: number) => {
        const o = await evaluate([oneFlag], i);
        if (o.ok) times.one.push(o.ms);
      },
      async (i: number) => {
        const r = await ofrep(oneFlag, i);
        if (r.ok) times.ofrep.push(r.ms);
      },
    ];
    for (let i = 0; i < REQUESTS; i++) {
      // Each round starts with a different kind, so none always follows the same one.
      for (let k = 0; k < kinds.length; k++) await kinds[(i + k) % kinds.length]!(i);
    }
    const row = (label: string, values: number[], note: string): HttpRow => ({
      label,
      ok: values.length,
      runs: REQUESTS,
      p50: percentile(sorted(values), 0.5),
      p95: percentile(sorted(values), 0.95),
      note,
    });
    return [
      row('GET /health (baseline)', times.health, '200s'),
      row(
        `POST /v1/flags/evaluate, ${MANY} flags`,
        times.many,
        `200s with ${MANY} answers equal to evaluateFlag's here`,
      ),
      row(
        'POST /v1/flags/evaluate, 1 flag',
        times.one,
        "200s with 1 answer equal to evaluateFlag's here",
      ),
      row(
        'POST /ofrep/v1/evaluate/flags/{key}',
        times.ofrep,
        "200s whose value and reason equal evaluateFlag's here",
      ),
    ];
  } finally {
    await dev.close();
  }
}

async function main() {
  const loadBefore = loadavg()[0]!;
  // The fixtures must be flags a create accepts (the HTTP rows create them through the API).
  for (const flag of [ONE_FLAG, ...benchFlags(MANY)]) {
    const parsed = FlagDefinitionSchema.safeParse(flag);
    if (!parsed.success) throw new Error(`${flag.key}: ${JSON.stringify(parsed.error.issues)}`);
  }

  const rows: EvalRow[] = [];
  const bench = await startBenchWorker();
  let workerd: Record<'one' | 'many', WorkerRun>;
  try {
    const call = (path: string) => fetch(`${bench.base}${path}`);
    workerd = { one: await runWorker(call, 'one'), many: await runWorker(call, 'many') };
  } finally {
    await bench.stop();
  }
  const inNode = (path: string) => worker.fetch(new Request(`http://node${path}`));
  const node = { one: await runWorker(inNode, 'one'), many: await runWorker(inNode, 'many') };
  for (const scenario of ['one', 'many'] as const) {
    if (!workerd[scenario].userAgent.includes('Cloudflare-Workers')) {
      throw new Error(`workerd ${scenario} ran in ${workerd[scenario].userAgent}`);
    }
    // The same inputs in both runtimes: the same answers, reason for reason.
    if (JSON.stringify(workerd[scenario].reasons) !== JSON.stringify(node[scenario].reasons)) {
      throw new Error(
        `${scenario}: workerd and Node disagree: ${JSON.stringify(workerd[scenario].reasons)} vs ${JSON.stringify(node[scenario].reasons)}`,
      );
    }
    rows.push(batchRow(workerd[scenario], scenario, `workerd (${workerd[scenario].userAgent})`));
    rows.push(batchRow(node[scenario], scenario, `Node ${process.version}`));
    rows.push(singleRow(scenario));
  }

  const http = await httpRows();

  const loadAfter = loadavg()[0]!;
  const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '–');
  const oneWorkerd = rows.find((r) => r.scenario === '1 flag' && r.runtime.startsWith('workerd'))!;
  const baseline = http[0]!;
  const lines = [
    '# Feature flags: evaluation cost',
    '',
    `Measured ${new Date().toISOString()} on this machine (\`npm run bench:flags\`, 2 cores shared with the load generator; 1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end: anything above the bench's own share is other work on the machine, which inflates the tails). Flags and contexts: \`bench/flags-fixtures.ts\` (one flag with a regex rule, a semver-and-country rollout and a catch-all rollout, allow- and deny-lists; ${MANY} flags of the four types mixing conditions, regexes, semver rules, rollouts, three-way splits, allow- and deny-lists and kill switches). No network: the flags are in memory, as a snapshot is for 60 s.`,
    '',
    '## Evaluation inside the runtime',
    '',
    "workerd rows: `bench/flags-worker.ts` under `wrangler dev` (workerd on this machine; its clock moves in whole milliseconds, and in production it does not move during computation at all, so an evaluation cannot be timed alone there: each sample is a batch's mean per evaluation). Node rows: the same Worker module called in process with the same batches, and each evaluation timed alone. An evaluation of the many-flag rows is one context against all the flags (`evaluateFlag` on each, as `evaluateSnapshot` does for every live flag).",
    '',
    '| flags per evaluation | runtime | samples | how | p50 µs | p99 µs | what was checked |',
    '| --- | --- | ---: | --- | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.runtime} | ${r.samples} | ${r.how} | ${us(r.p50)} | ${us(r.p99)} | ${r.checked} |`,
    ),
    '',
    `Goal: p99 under 1 ms per single-flag evaluation in the Workers runtime: ${oneWorkerd.p99 < 1 ? 'met' : 'NOT met'} (${us(oneWorkerd.p99)} µs, batch means). A batch's mean spreads a pause (a garbage collection, another process taking the core) over the batch, so batch p99s understate the tail of single evaluations: the Node rows that time each evaluation alone show it (their p99). workerd and Node answered every evaluation alike (the same reasons in the same numbers), checked before these rows were written.`,
    '',
    '## Over HTTP, against `npm run dev`',
    '',
    `\`npm run dev\` with the local cloud in memory, the ${MANY} flags created through \`POST /v1/flags\` in the sample organisation (which also holds the 5 sample flags), an API key with \`flags:evaluate\`; ${REQUESTS} rounds after 50 warm-up rounds, each round one request of every row, the order rotating from round to round, one client. A request is counted only if it is a 200 whose answers equal what \`evaluateFlag\` computes in the bench for the same context.`,
    '',
    '| request | ok / runs | p50 ms | p95 ms | p50 / health p50 | what was counted |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...http.map(
      (r) =>
        `| ${r.label} | ${r.ok} / ${r.runs} | ${ms(r.p50)} | ${ms(r.p95)} | ${(r.p50 / baseline.p50).toFixed(1)}× | ${r.note} |`,
    ),
    '',
  ];
  const report = lines.join('\n');
  await writeFile(join(ROOT, 'bench/results/flags.md'), report);
  console.log(report);
}

await main();
