import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DRIZZLE_KIT = join(dirname(fileURLToPath(import.meta.resolve('drizzle-kit'))), 'bin.cjs');

export type SchemaDriftReport = {
  /** True when `migrations/` already produces exactly the schema in `shared/db/schema`. */
  clean: boolean;
  /** The SQL drizzle-kit would generate to catch up, one entry per new file. */
  pending: Array<{ file: string; sql: string }>;
  /** drizzle-kit's own output, for diagnosis. */
  output: string;
};

/**
 * Whether the schema and the migrations disagree. drizzle-kit 0.31 has no "dry run": `check`
 * only validates the snapshots in `migrations/meta` against each other. So this runs the real
 * `drizzle-kit generate`, with the repository's config, into a scratch copy of `migrations/`,
 * and reports any file it writes there. The repository is never touched. It also runs
 * `drizzle-kit check` on the real folder (snapshot chain, collisions).
 */
export async function findSchemaDrift(): Promise<SchemaDriftReport> {
  const scratch = await mkdtemp(join(tmpdir(), 'sift-drift-'));
  try {
    const out = join(scratch, 'migrations');
    await cp(join(ROOT, 'migrations'), out, { recursive: true });
    const before = new Set(await readdir(out));
    const config = join(scratch, 'drizzle.config.ts');
    await writeFile(
      config,
      `import config from ${JSON.stringify(join(ROOT, 'drizzle.config.ts'))};\n` +
        // drizzle-kit prefixes `out` with './', so it must be relative to the working directory.
        `export default { ...config, out: ${JSON.stringify(relative(ROOT, out))} };\n`,
    );
    const generate = await drizzleKit(['generate', '--config', config, '--name', 'drift']);
    const check = await drizzleKit(['check']);
    const pending = [];
    for (const file of (await readdir(out)).sort()) {
      if (before.has(file) || !file.endsWith('.sql')) continue;
      pending.push({ file, sql: await readFile(join(out, file), 'utf8') });
    }
    const output = `${generate}\n${check}`;
    // drizzle-kit exits 0 even when it fails, so insist on one of its two success outcomes.
    if (pending.length === 0 && !generate.includes('No schema changes')) {
      throw new Error(
        `drizzle-kit generate neither wrote a migration nor found none due:\n${output}`,
      );
    }
    if (!check.includes("Everything's fine")) {
      throw new Error(`drizzle-kit check failed:\n${check}`);
    }
    return { clean: pending.length === 0, pending, output };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Runs drizzle-kit from the repository root on this Node; throws with its output on failure. */
async function drizzleKit(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DRIZZLE_KIT, ...args], {
      cwd: ROOT,
      timeout: 120_000,
      // Without a terminal drizzle-kit must not wait for answers (renames ask interactively).
      env: { ...process.env, CI: '1' },
    });
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`drizzle-kit ${args[0]} failed:\n${stdout}${stderr}`);
  }
}

if (import.meta.main) {
  const report = await findSchemaDrift();
  if (report.clean) {
    console.log('schema and migrations agree');
  } else {
    console.error(
      'shared/db/schema differs from migrations/: run `npx drizzle-kit generate --name <change>`.\n' +
        'drizzle-kit would generate:',
    );
    for (const { file, sql } of report.pending) console.error(`\n-- ${file}\n${sql}`);
    process.exitCode = 1;
  }
}
