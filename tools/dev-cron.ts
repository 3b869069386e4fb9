import { CronExpressionParser } from 'cron-parser';

/**
 * The Worker's cron triggers under `npm run dev`. `wrangler dev` never fires them by itself (it
 * says so at start), so `tools/dev.ts` does: each expression of `wrangler.toml`'s
 * `[triggers] crons` is fired at its next time in UTC, as Cloudflare fires them, by asking the
 * local Worker's scheduled handler (`/cdn-cgi/local/scheduled?cron=<expression>`), then again
 * at the time after that, until stopped. A run that fails is logged and the next one still
 * comes: the jobs catch up on what they missed (scheduled publishing takes everything due).
 */
export type CronRunner = {
  /** When each expression fires next (for the start-up line). */
  next(): Record<string, Date>;
  stop(): void;
};

export type CronRunnerOptions = {
  crons: readonly string[];
  /** Runs the Worker's scheduled handler for `cron`; rejects when it fails. */
  trigger(cron: string): Promise<void>;
  log(line: string): void;
  /** The clock (tests move it). Default `Date.now`. */
  now?: () => number;
  /** Timers (tests replace them). Default the global ones. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
};

/** The first time after `after` that `cron` fires, in UTC. */
export function nextRun(cron: string, after: number): Date {
  return CronExpressionParser.parse(cron, { currentDate: new Date(after), tz: 'UTC' })
    .next()
    .toDate();
}

export function runCrons(options: CronRunnerOptions): CronRunner {
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
  const clearTimer =
    options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  const timers = new Map<string, unknown>();
  const upcoming = new Map<string, Date>();
  let stopped = false;

  const schedule = (cron: string) => {
    if (stopped) return;
    const at = nextRun(cron, now());
    upcoming.set(cron, at);
    // Timers may fire a little early: aim at the moment itself, never before it.
    timers.set(
      cron,
      setTimer(() => void fire(cron, at), Math.max(0, at.getTime() - now())),
    );
  };
  const fire = async (cron: string, at: Date) => {
    if (stopped) return;
    if (now() < at.getTime()) {
      timers.set(
        cron,
        setTimer(() => void fire(cron, at), at.getTime() - now()),
      );
      return;
    }
    schedule(cron);
    try {
      await options.trigger(cron);
    } catch (error) {
      options.log(`dev: cron "${cron}" failed: ${error instanceof Error ? error.message : error}`);
    }
  };

  for (const cron of options.crons) schedule(cron);
  return {
    next: () => Object.fromEntries(upcoming),
    stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimer(timer);
      timers.clear();
    },
  };
}

/** Asks the local Worker at `base` to run its scheduled handler for `cron`. */
export async function triggerScheduled(base: string, cron: string): Promise<void> {
  const response = await fetch(`${base}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}`, {
    signal: AbortSignal.timeout(120_000),
  });
  await response.text();
  if (!response.ok) throw new Error(`the scheduled handler answered ${response.status}`);
}
