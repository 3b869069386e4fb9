import type { Hono } from 'hono';
import type { QStashContext } from '../context.ts';
import { buildFilter, countParam, multi } from '../filters.ts';
import { logPayload } from '../payloads.ts';
import type { LogEntry } from '../types.ts';

/**
 * The event log, newest first. The SDK's `logs()` calls `/v2/events` and reads `events`; the
 * OpenAPI documents `/v2/logs` answering `logs`. The cursor is the position to continue from.
 */
export function registerLogs(app: Hono, ctx: QStashContext) {
  for (const [path, key] of [
    ['/v2/events', 'events'],
    ['/v2/logs', 'logs'],
  ] as const) {
    app.get(path, (c) => {
      const query = new URL(c.req.url).searchParams;
      const ids = multi(query, 'messageIds');
      const matches = buildFilter<LogEntry>(query, (entry) => entry.time);
      const count = countParam(query, 100, 1000);
      const start = Number.parseInt(query.get('cursor') ?? '0', 10) || 0;
      const page: LogEntry[] = [];
      let next: number | undefined;
      let seen = 0;
      for (let i = ctx.engine.events.length - 1; i >= 0; i--) {
        const entry = ctx.engine.events[i] as LogEntry;
        if (ids && !ids.includes(entry.messageId)) continue;
        if (!matches(entry)) continue;
        if (seen++ < start) continue;
        if (page.length === count) {
          next = start + count;
          break;
        }
        page.push(entry);
      }
      return c.json({
        ...(next === undefined ? {} : { cursor: String(next) }),
        [key]: page.map(logPayload),
      });
    });
  }
}
