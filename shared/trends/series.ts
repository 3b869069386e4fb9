import { type SQL, sql } from 'drizzle-orm';
import type { Bucket } from './score.ts';
import { SERIES_DAYS } from './settings.ts';

const HOUR = 3_600_000;

/** The UTC hour `column` falls in, whatever the session's time zone (`date_bin` from the epoch). */
export const hourOf = (column: SQL) =>
  sql`date_bin('1 hour', ${column}, timestamptz '1970-01-01T00:00:00Z')`;

/**
 * The hours a score looks at, up to `now`'s (unfinished) hour: {@link SERIES_DAYS} days of them,
 * the first starting at `start`, and how much of the last has passed.
 */
export function seriesWindow(now: Date): { start: number; hours: number; fraction: number } {
  const currentHour = Math.floor(now.getTime() / HOUR) * HOUR;
  const hours = SERIES_DAYS * 24;
  return {
    start: currentHour - (hours - 1) * HOUR,
    hours,
    fraction: (now.getTime() - currentHour) / HOUR,
  };
}

/**
 * Dense hourly series per key from sparse rows (one per key and hour with any activity): every
 * hour of the window, those without a row at zero. Rows outside the window are left out.
 */
export function denseSeries(
  rows: readonly {
    key: string;
    hour: string | Date;
    newItems?: number | string;
    engagement: number | string;
  }[],
  window: { start: number; hours: number },
  keys: readonly string[] = [],
): Map<string, Bucket[]> {
  const empty = () =>
    Array.from({ length: window.hours }, (): Bucket => ({ newItems: 0, engagement: 0 }));
  const series = new Map<string, Bucket[]>(keys.map((key) => [key, empty()]));
  for (const row of rows) {
    const i = Math.round((new Date(row.hour).getTime() - window.start) / HOUR);
    if (i < 0 || i >= window.hours) continue;
    let list = series.get(row.key);
    if (!list) {
      list = empty();
      series.set(row.key, list);
    }
    list[i] = { newItems: Number(row.newItems ?? 0), engagement: Number(row.engagement) };
  }
  return series;
}
