import { afterAll, beforeEach, inject } from 'vitest';

/**
 * The Worker's log lines in tests (every file's setup, `vitest.config.ts`): quiet by default. A
 * test's lines are kept, and printed only when it fails (its last {@link KEPT_LINES}); with
 * `SIFT_TEST_LOGS=1` every line is printed as it comes. After a file's tests nothing is
 * printed: a queue consumer still finishing a batch would send its line to vitest while the
 * file's runtime closes, which fails the run (`EnvironmentTeardownError`).
 */
const KEPT_LINES = 300;

const print = console.log.bind(console);
const verbose = inject('testLogs');
let kept: string[] = [];
let lastLogAt = Date.now();
let silenced = false;

console.log = (...args: unknown[]) => {
  lastLogAt = Date.now();
  if (silenced) return;
  if (verbose) {
    print(...args);
    return;
  }
  kept.push(args.map(String).join(' '));
  if (kept.length > KEPT_LINES) kept.shift();
};

beforeEach(({ onTestFailed }) => {
  kept = [];
  onTestFailed(() => {
    if (kept.length > 0) print(`the Worker's last ${kept.length} log lines:\n${kept.join('\n')}`);
  });
});

afterAll(() => {
  silenced = true;
});

/** When anything in this isolate (a test, the Worker, a queue consumer) last logged. */
export const lastLog = () => lastLogAt;
