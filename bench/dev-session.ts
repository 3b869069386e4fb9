import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE_PASSWORD } from '../tools/db/sample-data/people.ts';
import { freePort, startDevProcess } from '../tools/dev-process.ts';

/** The sample organisation's owner, who signs in and creates the benchmarks' API keys. */
export const SAMPLE_OWNER = 'huda.almansouri@sift-demo.example';

/** A benchmark's own `npm run dev`: the Worker and the local cloud in memory, on free ports. */
export type BenchSession = {
  base: string;
  /** What the dev server printed so far (its tail). */
  output(): string;
  /** A setting the local cloud printed for clients (`DATABASE_URL`, `UPSTASH_VECTOR_REST_URL`…). */
  setting(name: string): string;
  /** An access token of a sample user (the owner by default). */
  login(email?: string): Promise<string>;
  /** A new API key of the owner's with `scopes` and a rate limit no benchmark reaches. */
  apiKey(name: string, scopes: string[]): Promise<{ id: string; secret: string }>;
  /** Stops the server and removes its files. */
  close(): Promise<void>;
};

/**
 * Starts `npm run dev` for a benchmark, at `LOG_LEVEL=warn` unless `env` says otherwise (request
 * log lines cost the Worker, and this machine's two cores, more than what is measured).
 */
export async function startBenchSession(
  label: string,
  env: Record<string, string> = {},
): Promise<BenchSession> {
  const dir = await mkdtemp(join(tmpdir(), `sift-bench-${label}-`));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { child, output } = await startDevProcess({
    dir,
    port,
    env: { LOG_LEVEL: 'warn', ...env },
    timeoutMs: 120_000,
  });
  const post = async (path: string, body: unknown, token?: string) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  let ownerToken: string | undefined;
  const login = async (email = SAMPLE_OWNER) =>
    (await post('/v1/auth/login', { email, password: SAMPLE_PASSWORD })).access_token as string;
  return {
    base,
    output,
    setting(name) {
      const value = new RegExp(`^ {2}${name}=(\\S+)$`, 'm').exec(output())?.[1];
      if (!value) throw new Error(`npm run dev did not print ${name}`);
      return value;
    },
    login,
    async apiKey(name, scopes) {
      ownerToken ??= await login();
      const key = await post(
        '/v1/keys',
        { name, scopes, rate_limit: { limit: 100_000, window_seconds: 1 } },
        ownerToken,
      );
      return { id: key.id as string, secret: key.secret as string };
    },
    async close() {
      child.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
