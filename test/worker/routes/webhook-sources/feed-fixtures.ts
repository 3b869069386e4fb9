import { and, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { webhookSourceDeliveries } from '../../../../shared/db/schema/index.ts';
import type { FeedSpec, LabRequest } from '../../../helpers/webhook-lab.ts';
import { call, testDb } from '../../helpers.ts';
import { json } from '../keys/fixtures.ts';
import { LAB, LOOPBACK } from '../webhooks/fixtures.ts';
import type { SourceBody } from './fixtures.ts';

export { LAB, LOOPBACK };

export type Auth = Record<string, string>;

export type PollBody = {
  status: 'ok' | 'not_modified' | 'failed';
  status_code: number | null;
  error: string | null;
  items: {
    seen: number;
    created: number;
    updated: number;
    unchanged: number;
    refused: number;
    failed: number;
  };
  consecutive_failures: number;
  next_poll_at: string;
};

export type PollState = {
  status: string | null;
  status_code: number | null;
  error: string | null;
  consecutive_failures: number;
  last_polled_at: string | null;
  next_poll_at: string | null;
  in_progress: boolean;
  etag: string | null;
  last_modified: string | null;
};

export type FeedSource = SourceBody & {
  feed: { url: string; interval_minutes: number; item_defaults: Record<string, unknown> };
  poll: PollState;
};

/** A feed in the lab: its URL, what it answers, and the requests it got. */
export function labFeed(name = `f${crypto.randomUUID().slice(0, 12)}`) {
  const url = `${LAB}/feeds/${name}`;
  return {
    url,
    async serve(spec: FeedSpec) {
      const response = await fetch(url, { method: 'PUT', body: JSON.stringify(spec) });
      expect(response.status).toBe(204);
    },
    async requests(): Promise<LabRequest[]> {
      return (await (await fetch(`${url}/requests`)).json()) as LabRequest[];
    },
  };
}

/** Creates a feed source through the API (loopback allowed: the lab is on this machine). */
export async function createFeedSource(
  auth: Auth,
  feed: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<FeedSource> {
  const response = await call(
    '/v1/webhooks/sources',
    json('POST', { name: 'Blog feed', kind: 'feed', feed, ...extra }, auth),
    LOOPBACK,
  );
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as FeedSource;
}

/** `POST /v1/webhooks/sources/{id}/poll` (with settings `overrides`), expecting `status`. */
export async function pollNow(
  auth: Auth,
  id: string,
  status = 200,
  overrides: Parameters<typeof call>[2] = {},
): Promise<PollBody> {
  const response = await call(
    `/v1/webhooks/sources/${id}/poll`,
    { method: 'POST', headers: auth },
    { ...LOOPBACK, ...overrides },
  );
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as PollBody;
}

export async function getSource(auth: Auth, id: string): Promise<FeedSource> {
  const response = await call(`/v1/webhooks/sources/${id}`, { headers: auth });
  expect(response.status).toBe(200);
  return (await response.json()) as FeedSource;
}

export async function readItem(auth: Auth, id: string) {
  const response = await call(`/v1/content/${id}`, { headers: auth });
  expect(response.status).toBe(200);
  return (await response.json()) as {
    id: string;
    version: number;
    status: string;
    tags: string[];
    category_id: string | null;
    metadata: Record<string, unknown>;
    default_locale: string;
    published_at: string | null;
    deleted_at: string | null;
    created_by: string;
    translations: Record<
      string,
      { title: string; summary: string | null; body: string; slug: string }
    >;
  };
}

/** The source's delivery log, oldest first. */
export async function logOf(sourceId: string) {
  const rows = await testDb()
    .select()
    .from(webhookSourceDeliveries)
    .where(and(eq(webhookSourceDeliveries.sourceId, sourceId)));
  return rows.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

/** The log's `applied` entries by external id: the content ids the feed's items became. */
export async function itemsOf(sourceId: string): Promise<Map<string, string>> {
  const rows = await logOf(sourceId);
  return new Map(
    rows
      .filter((r) => r.status === 'applied' && r.externalId && r.contentId)
      .map((r) => [r.externalId!, r.contentId!]),
  );
}

export type RssItem = {
  guid?: string;
  title?: string;
  link?: string;
  description?: string;
  content?: string;
  pubDate?: string;
  categories?: string[];
  language?: string;
  raw?: string;
};

const cdata = (text: string) => `<![CDATA[${text}]]>`;

/** An RSS 2.0 document of `items`. */
export function rss(items: RssItem[], channel: { language?: string } = {}): string {
  const body = items
    .map((item) => {
      if (item.raw !== undefined) return item.raw;
      const parts = [
        item.guid !== undefined ? `<guid isPermaLink="false">${item.guid}</guid>` : '',
        item.title !== undefined ? `<title>${item.title}</title>` : '',
        item.link !== undefined ? `<link>${item.link}</link>` : '',
        item.description !== undefined ? `<description>${item.description}</description>` : '',
        item.content !== undefined
          ? `<content:encoded>${cdata(item.content)}</content:encoded>`
          : '',
        item.pubDate !== undefined ? `<pubDate>${item.pubDate}</pubDate>` : '',
        ...(item.categories ?? []).map((c) => `<category>${c}</category>`),
        item.language !== undefined ? `<dc:language>${item.language}</dc:language>` : '',
      ];
      return `<item>${parts.join('')}</item>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Lab blog</title><link>https://blog.example.com/</link><description>Tests</description>
${channel.language ? `<language>${channel.language}</language>` : ''}
${body}
</channel></rss>`;
}
