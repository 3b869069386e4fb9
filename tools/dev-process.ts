import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const MAX_OUTPUT_CHARS = 8 * 1024 * 1024;

/**
 * `DEV_PORTS=8950-8999`: on a machine shared with other work, tests and benchmarks take every
 * port they choose (the Worker's, the local cloud's, the sample receiver's, wrangler's
 * inspector) from this range only. Unset: any free port.
 */
function portRange(): [number, number] | undefined {
  const spec = process.env.DEV_PORTS;
  if (!spec) return undefined;
  const m = /^(\d+)-(\d+)$/.exec(spec);
  if (!m) throw new Error(`DEV_PORTS must be a range like 8950-8999, not "${spec}"`);
  return [Number(m[1]), Number(m[2])];
}

/** Ports this process has handed out already (nothing may listen on them yet). */
const handedOut = new Set<number>();

async function listens(port: number): Promise<number | undefined> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!bound) return undefined;
  const { port: actual } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return actual;
}

/** A loopback port nothing listens on right now (in `DEV_PORTS` when set). */
export async function freePort(): Promise<number> {
  const range = portRange();
  if (range === undefined) return (await listens(0))!;
  for (let port = range[0]; port <= range[1]; port++) {
    if (handedOut.has(port)) continue;
    if ((await listens(port)) !== undefined) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port left in DEV_PORTS=${process.env.DEV_PORTS}`);
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
  // Port 0 lets each server pick a free port; with DEV_PORTS they are chosen in its range.
  const port = async () => (portRange() === undefined ? '0' : String(await freePort()));
  const child = spawn(process.execPath, [join(ROOT, 'tools/dev.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOCAL_CLOUD_NEON_PORT: await port(),
      LOCAL_CLOUD_PG_PORT: await port(),
      LOCAL_CLOUD_REDIS_PORT: await port(),
      LOCAL_CLOUD_VECTOR_PORT: await port(),
      LOCAL_CLOUD_AI_PORT: await port(),
      LOCAL_CLOUD_QSTASH_PORT: await port(),
      LOCAL_CLOUD_IN_MEMORY: '1',
      LOCAL_CLOUD_DEV_VARS: join(options.dir, '.dev.vars'),
      DEV_PORT: String(options.port),
      DEV_WEBHOOK_PORT: await port(),
      ...(portRange() === undefined ? {} : { DEV_INSPECTOR_PORT: await port() }),
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
