import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const MAX_OUTPUT_CHARS = 8 * 1024 * 1024;

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type DevProcess = {
  child: ChildProcess;
  /** What it printed so far (stdout and stderr; the last few MiB of it). */
  output(): string;
};

/**
 * `npm run dev` as a child process for tests and benchmarks: the local cloud in memory on free
 * ports, its settings in `<dir>/.dev.vars`, the Worker on `port`. Resolves once it prints that
 * Sift is running; rejects (with what it printed) if it exits or takes longer than `timeoutMs`.
 */
export async function startDevProcess(options: {
  dir: string;
  port: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<DevProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'tools/dev.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOCAL_CLOUD_NEON_PORT: '0',
      LOCAL_CLOUD_PG_PORT: '0',
      LOCAL_CLOUD_REDIS_PORT: '0',
      LOCAL_CLOUD_VECTOR_PORT: '0',
      LOCAL_CLOUD_AI_PORT: '0',
      LOCAL_CLOUD_QSTASH_PORT: '0',
      LOCAL_CLOUD_IN_MEMORY: '1',
      LOCAL_CLOUD_DEV_VARS: join(options.dir, '.dev.vars'),
      DEV_PORT: String(options.port),
      DEV_WEBHOOK_PORT: '0',
      ...options.env,
    },
    stdio: 'pipe',
  });
  // The tail only: a long benchmark can print more than a string may hold.
  let output = '';
  const append = (d: Buffer) => {
    output += d;
    if (output.length > MAX_OUTPUT_CHARS) output = output.slice(-MAX_OUTPUT_CHARS / 2);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  while (!output.includes('Sift is running at')) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited early:\n${output}`);
    if (Date.now() > deadline) {
      // Ctrl-C first: dev.ts then stops wrangler and workerd too (a SIGKILL would orphan them).
      child.kill('SIGINT');
      for (let i = 0; i < 100 && child.exitCode === null; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`npm run dev not ready in ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output };
}
