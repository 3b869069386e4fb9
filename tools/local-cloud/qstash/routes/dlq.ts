import type { Hono } from 'hono';
import type { QStashContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { buildFilter, countParam, multi } from '../filters.ts';
import { dlqPayload } from '../payloads.ts';
import { parsePublishOptions } from '../publish-options.ts';
import type { DlqEntry, MessageConfig } from '../types.ts';

/** The DLQ endpoints page by 100 at most (OpenAPI `count`: default 100, maximum 100). */
const PAGE = 100;

export function registerDlq(app: Hono, ctx: QStashContext) {
  app.get('/v2/dlq', (c) => {
    const { entries, cursor } = select(ctx, new URL(c.req.url).searchParams);
    return c.json({ messages: entries.map(dlqPayload), ...(cursor ? { cursor } : {}) });
  });

  app.get('/v2/dlq/:dlqId', (c) => {
    const entry = ctx.engine.dlq.get(c.req.param('dlqId'));
    if (!entry) throw notFound('dlq message not found');
    return c.json(dlqPayload(entry));
  });

  app.delete('/v2/dlq/:dlqId', (c) => {
    if (!ctx.engine.deleteDlq(c.req.param('dlqId'))) throw notFound('dlq message not found');
    return c.body(null, 200);
  });

  app.delete('/v2/dlq', (c) => {
    const { entries, cursor } = select(ctx, new URL(c.req.url).searchParams);
    let deleted = 0;
    for (const entry of entries) if (ctx.engine.deleteDlq(entry.dlqId)) deleted++;
    return c.json({ deleted, ...(cursor ? { cursor } : {}) });
  });

  // Retried messages are new messages; configuration headers on the request override the
  // original's (OpenAPI, Retry a DLQ message).
  app.post('/v2/dlq/retry/:dlqId', (c) => {
    const entry = ctx.engine.dlq.get(c.req.param('dlqId'));
    if (!entry) throw notFound('dlq message not found');
    const messageId = ctx.engine.retryDlq(entry, overrides(ctx, c.req.raw.headers));
    return c.json({ messageId }, 201);
  });

  app.post('/v2/dlq/retry', (c) => {
    const query = new URL(c.req.url).searchParams;
    const ids = multi(query, 'dlqIds');
    if (ids) {
      const missing = ids.filter((id) => !ctx.engine.dlq.has(id));
      if (missing.length > 0) throw notFound(`dlq messages not found: ${missing.join(', ')}`);
    }
    const changes = overrides(ctx, c.req.raw.headers);
    const { entries, cursor } = select(ctx, query);
    const responses = entries.map((entry) => ({ messageId: ctx.engine.retryDlq(entry, changes) }));
    return c.json({ responses, ...(cursor ? { cursor } : {}) }, 201);
  });
}

/**
 * The DLQ entries a list or bulk action applies to: the given `dlqIds`, or a page of the entries
 * matching the filters, starting at `cursor` (the id of the first entry of the page), oldest first.
 */
function select(
  ctx: QStashContext,
  query: URLSearchParams,
): { entries: DlqEntry[]; cursor?: string } {
  const ids = multi(query, 'dlqIds');
  if (ids) {
    return { entries: ids.flatMap((id) => ctx.engine.dlq.get(id) ?? []) };
  }
  const count = countParam(query, PAGE, PAGE);
  const from = query.get('cursor');
  const matches = buildFilter<DlqEntry>(query, (entry) => entry.failedAt);
  const entries: DlqEntry[] = [];
  for (const entry of ctx.engine.dlq.values()) {
    if (from && compareDlqIds(entry.dlqId, from) < 0) continue;
    if (!matches(entry)) continue;
    if (entries.length === count) return { entries, cursor: entry.dlqId };
    entries.push(entry);
  }
  return { entries };
}

function compareDlqIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

function overrides(
  ctx: QStashContext,
  headers: Headers,
): Partial<MessageConfig> & { notBefore?: number } {
  const options = parsePublishOptions(headers, ctx.allowDestination);
  const changes: Partial<MessageConfig> & { notBefore?: number } = {};
  if (headers.has('Upstash-Method')) changes.method = options.method;
  if (options.retries !== undefined) changes.retries = options.retries;
  if (options.retryDelay !== undefined) changes.retryDelay = options.retryDelay;
  if (options.timeoutMs !== undefined) changes.timeoutMs = options.timeoutMs;
  if (options.callback !== undefined) changes.callback = options.callback;
  if (options.failureCallback !== undefined) changes.failureCallback = options.failureCallback;
  if (options.labels !== undefined) changes.labels = options.labels;
  if (options.notBefore !== undefined) changes.notBefore = options.notBefore;
  else if (options.delayMs !== undefined) changes.notBefore = Date.now() + options.delayMs;
  return changes;
}
