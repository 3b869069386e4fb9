/**
 * Documents under `npm run dev` (local cloud in memory, the Worker in workerd, R2 simulated by
 * wrangler on disk), as a client sees them over HTTP:
 *
 * - upload latency (`POST /v1/documents`, the body streamed to R2 and hashed) of 1 MB and 20 MB
 *   text files, each upload's bytes new (a nonce line) so none is a duplicate; `GET /health` in
 *   the same run as the baseline of what a request costs on this machine;
 * - upload → ready: the time from the upload's start until `GET /v1/documents/{id}` says `ready`
 *   (extraction, chunking, embedding, enrichment by the extractive engine), for a 20-page PDF and
 *   a DOCX of about 1 MB;
 * - the Worker's deployed size (`wrangler deploy --dry-run --outdir`), gzip-compressed, against
 *   Workers' limits (3 MiB on the free plan, 10 MiB on paid plans).
 *
 * Every row counts what it measured: the upload rows count `201`s, the ready rows `ready`s.
 *
 *   npm run bench:documents        # writes bench/results/documents.md
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRandom } from '../shared/random.ts';
import { type Article, docxFixture, ENGLISH, pdfFixture } from '../tools/documents/fixtures.ts';
import { startBenchSession } from './dev-session.ts';
import { percentile } from './measure.ts';

const ROOT = join(import.meta.dirname, '..');
const MB = 1_000_000;
const UPLOADS_1MB = Number(process.env.BENCH_UPLOADS_1MB ?? 40);
const UPLOADS_20MB = Number(process.env.BENCH_UPLOADS_20MB ?? 10);
const READY_RUNS = Number(process.env.BENCH_READY_RUNS ?? 8);
const DOCX_RUNS = Number(process.env.BENCH_DOCX_RUNS ?? 3);
const READY_TIMEOUT_MS = 600_000;

type Row = { label: string; ok: number; runs: number; p50: number; p95: number; note: string };

const sorted = (values: number[]) => Float64Array.from(values).sort();
const row = (label: string, times: number[], runs: number, note: string): Row => ({
  label,
  ok: times.length,
  runs,
  p50: percentile(sorted(times), 0.5),
  p95: percentile(sorted(times), 0.95),
  note,
});

/** Prose of `bytes` bytes from a seeded vocabulary: as hard to compress as real text. */
function prose(bytes: number, seed: number): string {
  const random = createRandom(seed);
  const syllables = ['ka', 'lo', 'mi', 'ren', 'sa', 'tor', 'vi', 'nel', 'da', 'pru', 'ost', 'el'];
  const words = Array.from({ length: 3000 }, () =>
    Array.from(
      { length: 1 + Math.floor(random() * 3) },
      () => syllables[Math.floor(random() * syllables.length)],
    ).join(''),
  );
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const sentence = `${Array.from({ length: 8 + Math.floor(random() * 12) }, () => words[Math.floor(random() * words.length)]).join(' ')}.`;
    parts.push(sentence);
    size += sentence.length + 1;
    if (random() < 0.15) {
      parts.push('\n\n');
      size += 2;
    }
  }
  return parts.join(' ').slice(0, bytes);
}

/** The English test article as `pages` sections (one PDF page each), numbered and made unique. */
function paged(article: Article, pages: number, nonce: string): Article {
  return {
    ...article,
    title: `${article.title} (${nonce})`,
    sections: Array.from({ length: pages }, (_, i) => {
      const section = article.sections[i % article.sections.length]!;
      return { ...section, heading: `${section.heading} ${i + 1}` };
    }),
  };
}

/** An article whose sections hold `bytes` of prose, for a DOCX of about a megabyte. */
function bulky(bytes: number, seed: number): Article {
  const text = prose(bytes, seed);
  const paragraphs = text.split('\n\n').filter((p) => p.trim() !== '');
  const sections = [];
  for (let i = 0; i < paragraphs.length; i += 40) {
    sections.push({
      heading: `Part ${sections.length + 1}`,
      paragraphs: paragraphs.slice(i, i + 40),
    });
  }
  return { lang: 'en', title: `Bulk report ${seed}`, sections };
}

async function main() {
  const dev = await startBenchSession('documents');
  const rows: Row[] = [];
  let size: { raw: number; gzip: number } | undefined;
  let docxBytes = 0;
  let docxChars = 0;
  try {
    const { base } = dev;
    const key = await dev.apiKey('documents bench', ['documents:read', 'documents:write']);
    const auth = { Authorization: `Bearer ${key.secret}` };

    const upload = async (body: Uint8Array | string, fileName: string) => {
      const t0 = performance.now();
      const response = await fetch(
        `${base}/v1/documents?${new URLSearchParams({ file_name: fileName })}`,
        { method: 'POST', headers: { ...auth, 'Content-Type': 'application/octet-stream' }, body },
      );
      const json = (await response.json()) as { id?: string };
      return { ms: performance.now() - t0, status: response.status, id: json.id };
    };
    const health = async () => {
      const t0 = performance.now();
      const response = await fetch(`${base}/health`);
      await response.arrayBuffer();
      return { ms: performance.now() - t0, ok: response.ok };
    };
    const waitReady = async (id: string, t0: number) => {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        const response = await fetch(`${base}/v1/documents/${id}`, { headers: auth });
        const { status, failure_reason } = (await response.json()) as {
          status: string;
          failure_reason?: string;
        };
        if (status === 'ready') return performance.now() - t0;
        if (status === 'failed' || status === 'needs_ocr') {
          console.error(`bench: ${id} ended ${status}: ${failure_reason}`);
          return undefined;
        }
        if (Date.now() > deadline) return undefined;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };

    // Upload latency: the documents are deleted at once, so processing does not pile up.
    const healthTimes: number[] = [];
    for (const [label, bytes, runs] of [
      ['upload 1 MB text', MB, UPLOADS_1MB],
      ['upload 20 MB text', 20 * MB, UPLOADS_20MB],
    ] as const) {
      const text = prose(bytes, bytes);
      const times: number[] = [];
      for (let i = 0; i < runs + 2; i++) {
        const h = await health();
        if (h.ok && i >= 2) healthTimes.push(h.ms);
        const body = `run ${i} ${Date.now()}\n${text}`.slice(0, bytes);
        const result = await upload(body, `bench-${bytes}-${i}.txt`);
        if (result.status === 201 && i >= 2) times.push(result.ms);
        if (result.id) {
          await fetch(`${base}/v1/documents/${result.id}`, { method: 'DELETE', headers: auth });
        }
      }
      rows.push(row(label, times, runs, `${(bytes / MB).toFixed(0)} MB body, streamed; 201s`));
    }
    rows.unshift(row('GET /health (baseline)', healthTimes, healthTimes.length, '200s'));

    // Upload → ready, one at a time.
    const pdfTimes: number[] = [];
    for (let i = 0; i < READY_RUNS; i++) {
      const pdf = await pdfFixture(paged(ENGLISH, 20, `run ${i} ${Date.now()}`));
      const t0 = performance.now();
      const result = await upload(pdf, `bench-20-pages-${i}.pdf`);
      const ms = result.id && result.status === 201 ? await waitReady(result.id, t0) : undefined;
      if (ms !== undefined) pdfTimes.push(ms);
    }
    rows.push(row('upload → ready, 20-page PDF', pdfTimes, READY_RUNS, 'readies'));

    const docxTimes: number[] = [];
    for (let i = 0; i < DOCX_RUNS; i++) {
      const article = bulky(3_600_000, 100 + i);
      const docx = docxFixture(article);
      docxBytes = docx.byteLength;
      docxChars = article.sections.reduce(
        (n, s) => n + s.paragraphs.reduce((m, p) => m + p.length, 0),
        0,
      );
      const t0 = performance.now();
      const result = await upload(docx, `bench-bulk-${i}.docx`);
      const ms = result.id && result.status === 201 ? await waitReady(result.id, t0) : undefined;
      if (ms !== undefined) docxTimes.push(ms);
    }
    rows.push(
      row(
        `upload → ready, ${(docxBytes / MB).toFixed(2)} MB DOCX`,
        docxTimes,
        DOCX_RUNS,
        `${(docxChars / 1e6).toFixed(1)} M characters of text; readies`,
      ),
    );
  } finally {
    await dev.close();
  }

  // The deployed Worker, as wrangler would upload it.
  const out = await mkdtemp(join(tmpdir(), 'sift-dry-run-'));
  try {
    execFileSync(
      join(ROOT, 'node_modules/.bin/wrangler'),
      ['deploy', '--dry-run', '--outdir', out],
      { cwd: ROOT, stdio: 'ignore', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
    );
    let raw = 0;
    const gzip: Buffer[] = [];
    for (const name of await readdir(out)) {
      if (!/\.(js|mjs|wasm)$/.test(name)) continue;
      raw += (await stat(join(out, name))).size;
      gzip.push(gzipSync(await readFile(join(out, name)), { level: 9 }));
    }
    size = { raw, gzip: gzip.reduce((n, b) => n + b.byteLength, 0) };
  } finally {
    await rm(out, { recursive: true, force: true });
  }

  const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '–');
  const baseline = rows[0]!;
  const lines = [
    '# Documents: upload, processing, bundle',
    '',
    `Measured ${new Date().toISOString()} on this machine (\`npm run bench:documents\`): \`npm run dev\` with the local cloud in memory; R2 is wrangler's local simulation on disk; the AI is the extractive engine (the local cloud's Workers AI).`,
    '',
    '| operation | ok / runs | p50 ms | p95 ms | p50 / health p50 | what was counted |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.ok} / ${r.runs} | ${ms(r.p50)} | ${ms(r.p95)} | ${(r.p50 / baseline.p50).toFixed(0)}× | ${r.note} |`,
    ),
    '',
    '## Worker bundle',
    '',
    '| output | KiB | gzip KiB | limit (gzip) |',
    '| --- | ---: | ---: | --- |',
    size
      ? `| \`wrangler deploy --dry-run\` | ${(size.raw / 1024).toFixed(0)} | ${(size.gzip / 1024).toFixed(0)} | 3,072 KiB free plan, 10,240 KiB paid: ${size.gzip < 3 * 1024 * 1024 ? 'under both' : size.gzip < 10 * 1024 * 1024 ? 'paid plan only' : 'over both'} |`
      : '| (dry run failed) | – | – | – |',
    '',
    'Goals (seed 004): upload p95 450 ms; a 20-page PDF ready in p95 8 s.',
    '',
  ];
  const report = lines.join('\n');
  await writeFile(join(ROOT, 'bench/results/documents.md'), report);
  console.log(report);
}

await main();
