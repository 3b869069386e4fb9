import { describe, expect, it } from 'vitest';
import { nextRun, runCrons } from '../../tools/dev-cron.ts';

/** A clock and timers the test moves by hand: `advance` runs every timer that falls due. */
function fakeTime(start: number) {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      seq++;
      timers.set(seq, { at: now + ms, fn });
      return seq;
    },
    clearTimer: (id: unknown) => void timers.delete(id as number),
    pending: () => timers.size,
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
        await new Promise((resolve) => setImmediate(resolve));
      }
      now = end;
    },
  };
}

const at = (iso: string) => Date.parse(iso);

describe('the cron triggers under npm run dev', () => {
  it('computes the next run in UTC, as Cloudflare fires them', () => {
    expect(nextRun('* * * * *', at('2026-12-05T10:15:30Z')).toISOString()).toBe(
      '2026-12-05T10:16:00.000Z',
    );
    expect(nextRun('17 * * * *', at('2026-12-05T10:17:00Z')).toISOString()).toBe(
      '2026-12-05T11:17:00.000Z',
    );
    expect(nextRun('0 3 * * *', at('2026-12-05T10:00:00Z')).toISOString()).toBe(
      '2026-12-06T03:00:00.000Z',
    );
  });

  it('fires each expression at its times, and keeps firing after a run fails', async () => {
    const time = fakeTime(at('2026-12-05T10:15:30Z'));
    const fired: [string, string][] = [];
    const logged: string[] = [];
    const runner = runCrons({
      crons: ['* * * * *', '*/10 * * * *'],
      trigger: async (cron) => {
        fired.push([cron, new Date(time.now()).toISOString()]);
        if (fired.length === 1) throw new Error('the Worker is reloading');
      },
      log: (line) => logged.push(line),
      now: time.now,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
    });
    expect(runner.next()).toEqual({
      '* * * * *': new Date('2026-12-05T10:16:00Z'),
      '*/10 * * * *': new Date('2026-12-05T10:20:00Z'),
    });
    await time.advance(5 * 60_000);
    // Two expressions due at one moment fire in either order.
    expect([...fired].sort()).toEqual(
      [
        ['* * * * *', '2026-12-05T10:16:00.000Z'],
        ['* * * * *', '2026-12-05T10:17:00.000Z'],
        ['* * * * *', '2026-12-05T10:18:00.000Z'],
        ['* * * * *', '2026-12-05T10:19:00.000Z'],
        ['* * * * *', '2026-12-05T10:20:00.000Z'],
        ['*/10 * * * *', '2026-12-05T10:20:00.000Z'],
      ].sort(),
    );
    expect(logged).toEqual(['dev: cron "* * * * *" failed: the Worker is reloading']);
    runner.stop();
    expect(time.pending()).toBe(0);
    await time.advance(10 * 60_000);
    expect(fired).toHaveLength(6);
  });

  it('never fires early when a timer comes before its time', async () => {
    let now = at('2026-12-05T10:15:59.500Z');
    const timers: (() => void)[] = [];
    const fired: number[] = [];
    const runner = runCrons({
      crons: ['* * * * *'],
      trigger: async () => void fired.push(now),
      log: () => {},
      now: () => now,
      setTimer: (fn) => timers.push(fn),
      clearTimer: () => {},
    });
    timers.shift()!(); // 500 ms early
    expect(fired).toEqual([]);
    now = at('2026-12-05T10:16:00Z');
    timers.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fired).toEqual([at('2026-12-05T10:16:00Z')]);
    runner.stop();
  });
});
