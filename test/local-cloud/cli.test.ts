import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { neon } from '@neondatabase/serverless';
import { Client as QStash } from '@upstash/qstash';
import { Redis } from '@upstash/redis';
import { Index } from '@upstash/vector';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkersAiEmbeddingProvider } from '../../shared/embeddings/workers-ai.ts';
import { useLocalNeon } from './neon/backends.ts';

useLocalNeon();

const CLI = join(import.meta.dirname, '../../tools/local-cloud/cli.ts');
const FREE_PORTS = {
  LOCAL_CLOUD_NEON_PORT: '0',
  LOCAL_CLOUD_PG_PORT: '0',
  LOCAL_CLOUD_REDIS_PORT: '0',
  LOCAL_CLOUD_VECTOR_PORT: '0',
  LOCAL_CLOUD_AI_PORT: '0',
  LOCAL_CLOUD_QSTASH_PORT: '0',
};

type Run = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

function run(env: Record<string, string>): Run {
  // The servers of the suite's own environment must not leak into the CLI under test.
  const { DATABASE_URL: _d, REDIS_URL: _r, ...base } = process.env;
  const child = spawn(process.execPath, [CLI], { env: { ...base, ...env }, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function ready(r: Run): Promise<Record<string, string>> {
  const deadline = Date.now() + 30_000;
  while (!r.output().includes('local-cloud ready')) {
    if (r.child.exitCode !== null) throw new Error(`CLI exited early:\n${r.output()}`);
    if (Date.now() > deadline) throw new Error(`CLI not ready in 30 s:\n${r.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const settings: Record<string, string> = {};
  for (const match of r.output().matchAll(/^ {2}([A-Z_]+)=(.*)$/gm))
    settings[match[1]!] = match[2]!;
  return settings;
}

async function portIsClosed(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

describe('npm run local-cloud', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sift-cli-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'serves all five services, writes .dev.vars and stops cleanly on %s',
    async (signal) => {
      const devVars = join(dir, '.dev.vars');
      await writeFile(devVars, 'JWT_SECRET="keep me"\nUPSTASH_REDIS_REST_URL="stale"\n');
      const cli = run({
        ...FREE_PORTS,
        LOCAL_CLOUD_DATA_DIR: join(dir, 'data'),
        LOCAL_CLOUD_DEV_VARS: devVars,
      });
      try {
        const env = await ready(cli);

        const written = await readFile(devVars, 'utf8');
        expect(written).toContain('JWT_SECRET="keep me"');
        expect(written).toContain(`UPSTASH_REDIS_REST_URL="${env.UPSTASH_REDIS_REST_URL}"`);
        expect(written).not.toContain('stale');

        // Every service answers its official SDK with the printed settings.
        expect(await neon(env.DATABASE_URL!)`select 41 + 1 as answer`).toEqual([{ answer: 42 }]);
        const redis = new Redis({
          url: env.UPSTASH_REDIS_REST_URL!,
          token: env.UPSTASH_REDIS_REST_TOKEN!,
        });
        await redis.set('cli:key', 'value');
        expect(await redis.get('cli:key')).toBe('value');
        const index = new Index({
          url: env.UPSTASH_VECTOR_REST_URL!,
          token: env.UPSTASH_VECTOR_REST_TOKEN!,
        });
        // Sift's index by default: hybrid, 1024 dimensions, custom vectors (text data refused).
        const ai = createWorkersAiEmbeddingProvider({
          accountId: env.WORKERS_AI_ACCOUNT_ID!,
          apiToken: env.WORKERS_AI_API_TOKEN!,
          apiUrl: env.WORKERS_AI_API_URL!,
        });
        const [vector] = await ai.embed(['a note about cats']);
        await index.upsert({
          id: 'doc',
          vector: Array.from(vector!),
          sparseVector: { indices: [7], values: [1] },
          metadata: { kind: 'note' },
        });
        const [hit] = await index.query({
          vector: Array.from(vector!),
          topK: 1,
          includeMetadata: true,
        });
        expect(hit).toMatchObject({ id: 'doc', metadata: { kind: 'note' } });
        await expect(index.query({ data: 'cats', topK: 1 })).rejects.toThrow(
          'Embedding data for this index is not allowed',
        );
        expect(cli.output()).toMatch(/Vector .* hybrid, 1024 dimensions, COSINE, no embedding/);
        expect(cli.output()).toContain(`  AI      ${env.WORKERS_AI_API_URL}`);
        expect(env.WORKERS_AI_API_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/);
        const qstash = new QStash({ baseUrl: env.QSTASH_URL!, token: env.QSTASH_TOKEN! });
        expect(await qstash.schedules.list()).toEqual([]);

        cli.child.kill(signal);
        expect(await cli.exited).toBe(0);
        expect(cli.output()).toContain('local-cloud: stopped');
        for (const url of [
          env.UPSTASH_REDIS_REST_URL!,
          env.UPSTASH_VECTOR_REST_URL!,
          env.WORKERS_AI_API_URL!,
          env.QSTASH_URL!,
        ]) {
          expect(await portIsClosed(url)).toBe(true);
        }
      } finally {
        cli.child.kill('SIGKILL');
      }
    },
  );

  it('embeds text data in the vector index with LOCAL_CLOUD_VECTOR_MODEL=local', async () => {
    const cli = run({
      ...FREE_PORTS,
      LOCAL_CLOUD_IN_MEMORY: '1',
      LOCAL_CLOUD_DEV_VARS: 'none',
      LOCAL_CLOUD_VECTOR_MODEL: 'local',
      LOCAL_CLOUD_VECTOR_DIMENSION: '64',
    });
    try {
      const env = await ready(cli);
      expect(cli.output()).toMatch(/64 dimensions, COSINE, local embedding model/);
      const index = new Index({
        url: env.UPSTASH_VECTOR_REST_URL!,
        token: env.UPSTASH_VECTOR_REST_TOKEN!,
      });
      await index.upsert({ id: 'doc', data: 'a note about cats' });
      const [hit] = await index.query({ data: 'cats', topK: 1 });
      expect(hit?.id).toBe('doc');
      expect((await index.info()).dimension).toBe(64);
    } finally {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });

  it('refuses a bad setting, naming it', async () => {
    const cli = run({
      ...FREE_PORTS,
      LOCAL_CLOUD_REDIS_PORT: 'eighty',
      LOCAL_CLOUD_DEV_VARS: 'none',
    });
    expect(await cli.exited).toBe(2);
    expect(cli.output()).toContain('LOCAL_CLOUD_REDIS_PORT');
  });

  it('explains a port that is already taken and leaves nothing running', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const cli = run({
        ...FREE_PORTS,
        LOCAL_CLOUD_IN_MEMORY: '1',
        LOCAL_CLOUD_QSTASH_PORT: String(taken),
        LOCAL_CLOUD_DEV_VARS: 'none',
      });
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toContain(`port ${taken} is already in use`);
      expect(cli.output()).toContain('LOCAL_CLOUD_{NEON,PG,REDIS,VECTOR,AI,QSTASH}_PORT');
    } finally {
      blocker.close();
    }
  });
});
