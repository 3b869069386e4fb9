import { eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categories, content, webhookSources } from '../../../../shared/db/schema/index.ts';
import { newId } from '../../../../shared/ids.ts';
import { call, eventually, expectProblem, runCron, testDb, untilQuiet } from '../../helpers.ts';
import { auditedEventually, json, signedIn } from '../keys/fixtures.ts';
import {
  createFeedSource,
  type FeedSource,
  getSource,
  itemsOf,
  LAB,
  LOOPBACK,
  labFeed,
  logOf,
  pollNow,
  readItem,
  rss,
} from './feed-fixtures.ts';
import { createSource, deliver, sourceRow } from './fixtures.ts';

const PATH = '/v1/webhooks/sources';
const MINUTE = 60_000;

afterAll(() => untilQuiet());

const minutesBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / MINUTE;

describe('feed sources: create, read, update', () => {
  it('creates a feed source without a secret or inbound path, due at once', async () => {
    const { auth, member } = await signedIn('feed-create');
    const feed = labFeed();
    const source = await createFeedSource(auth, { url: feed.url });
    expect(source).toMatchObject({
      kind: 'feed',
      enabled: true,
      inbound_path: null,
      mapping: null,
      hmac: null,
      created_by: member.userId,
      feed: {
        url: feed.url,
        interval_minutes: 15,
        item_defaults: { locale: 'en', category_id: null, tags: [], status: 'published' },
      },
      poll: {
        status: null,
        consecutive_failures: 0,
        last_polled_at: null,
        in_progress: false,
        etag: null,
        last_modified: null,
      },
    });
    expect(source).not.toHaveProperty('secret');
    expect(Date.parse(source.poll.next_poll_at!)).toBeLessThanOrEqual(Date.now());
    const row = await sourceRow(source.id);
    expect(row.secretCiphertext).toBeNull();
    expect(await getSource(auth, source.id)).toMatchObject({
      feed: source.feed,
      poll: source.poll,
    });
    const audited = await auditedEventually('webhook_source.create', source.id);
    expect(audited.data).toMatchObject({ kind: 'feed', url: feed.url });
  });

  it('refuses deliveries pushed to a feed source, and has no secret to rotate', async () => {
    const { auth } = await signedIn('feed-push');
    const source = await createFeedSource(auth, { url: labFeed().url });
    const pushed = await deliver({ ...source, kind: 'standard', secret: 'whsec_x' }, { id: 1 });
    await expectProblem(pushed, 401);
    const rotate = await call(`${PATH}/${source.id}/rotate-secret`, json('POST', {}, auth));
    expect((await expectProblem(rotate, 409)).detail).toContain('no secret');
    // The refusal is not counted on the feed (it is not a webhook).
    expect(await sourceRow(source.id)).toMatchObject({ failureCount: 0 });
  });

  it('refuses bad settings with a 400 naming the field and the rule', async () => {
    const { auth } = await signedIn('feed-invalid');
    const url = labFeed().url;
    const cases: [Record<string, unknown>, string, string][] = [
      [{ kind: 'rss' }, 'body.kind', 'must be one of: standard, github, stripe, hmac, feed'],
      [{ feed: undefined }, 'body.feed', 'is required for the feed kind'],
      [{ feed: { url, extra: 1 } }, 'body.feed.extra', 'unknown field'],
      [{ mapping: { external_id: '/id', title: '/t' } }, 'body.mapping', 'not for the feed kind'],
      [{ secret: 'a-secret-of-twenty-chars' }, 'body.secret', 'no secret'],
      [
        { kind: 'standard', mapping: { external_id: '/id', title: '/t' } },
        'body.feed',
        'only for the feed kind',
      ],
      [{ feed: { url: 'not a url' } }, 'body.feed.url', 'must be an absolute URL'],
      [{ feed: { url: 'ftp://example.com/feed' } }, 'body.feed.url', 'http or https'],
      [{ feed: { url: '' } }, 'body.feed.url', 'must not be empty'],
      [
        { feed: { url: `https://example.com/${'a'.repeat(2100)}` } },
        'body.feed.url',
        'at most 2048',
      ],
      [{ feed: { url: 'https://example.com/\u0000' } }, 'body.feed.url', 'NUL'],
      [{ feed: { url: 42 } }, 'body.feed.url', 'string'],
      [{ feed: { url, interval_minutes: 4 } }, 'body.feed.interval_minutes', 'at least 5'],
      [{ feed: { url, interval_minutes: 1441 } }, 'body.feed.interval_minutes', 'at most 1440'],
      [{ feed: { url, interval_minutes: 7.5 } }, 'body.feed.interval_minutes', 'whole number'],
      [{ feed: { url, interval_minutes: '15' } }, 'body.feed.interval_minutes', 'number'],
      [
        { feed: { url, item_defaults: { locale: 'not a locale' } } },
        'body.feed.item_defaults.locale',
        'BCP 47',
      ],
      [
        { feed: { url, item_defaults: { status: 'archived' } } },
        'body.feed.item_defaults.status',
        'must be one of: draft, published',
      ],
      [
        { feed: { url, item_defaults: { category_id: 'tech' } } },
        'body.feed.item_defaults.category_id',
        'cat_',
      ],
      [
        { feed: { url, item_defaults: { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) } } },
        'body.feed.item_defaults.tags',
        'at most 50',
      ],
      [{ name: '' }, 'body.name', ''],
      [{ name: 'x'.repeat(101) }, 'body.name', ''],
      [{ name: 'bad \ud800 name' }, 'body.name', 'well-formed Unicode'],
    ];
    for (const [patch, field, says] of cases) {
      const response = await call(
        PATH,
        json('POST', { name: 'Feed', kind: 'feed', feed: { url }, ...patch }, auth),
        LOOPBACK,
      );
      const problem = await expectProblem(response, 400);
      const errors = (problem.errors ?? []) as { path: string; message: string }[];
      const error = errors.find((e) => e.path === field);
      expect(
        error,
        `${JSON.stringify(patch).slice(0, 80)} → ${JSON.stringify(errors)}`,
      ).toBeDefined();
      expect(error!.message).toContain(says);
    }
    // Any script in the name is fine.
    const unicode = await createFeedSource(auth, { url }, { name: 'أخبار 📰 Nachrichten' });
    expect(unicode.name).toBe('أخبار 📰 Nachrichten');
  });

  it('refuses a feed URL that is or resolves to a private address (422), as outbound webhooks do', async () => {
    const { auth } = await signedIn('feed-ssrf');
    const urls = [
      'http://10.0.0.1/feed.xml',
      'http://169.254.169.254/latest/meta-data',
      'http://private10.sift.test/feed.xml',
      'http://metadata.sift.test/feed.xml',
      'http://nxdomain.sift.test/feed.xml',
    ];
    for (const url of urls) {
      const response = await call(
        PATH,
        json('POST', { name: 'Feed', kind: 'feed', feed: { url } }, auth),
        LOOPBACK,
      );
      const problem = await expectProblem(response, 422);
      expect(problem.errors).toEqual([expect.objectContaining({ path: 'body.feed.url' })]);
    }
    // Loopback only where it is allowed (development); production settings refuse it.
    const loopback = await call(
      PATH,
      json('POST', { name: 'Feed', kind: 'feed', feed: { url: labFeed().url } }, auth),
    );
    expect((await expectProblem(loopback, 422)).detail).toContain('body.feed.url');
  });

  it('takes a default category of the organisation only', async () => {
    const { auth, orgId } = await signedIn('feed-category');
    const other = await signedIn('feed-category-other');
    const mine = newId('category');
    const theirs = newId('category');
    await testDb()
      .insert(categories)
      .values([
        { id: mine, orgId, slug: 'blog', names: { en: 'Blog' } },
        { id: theirs, orgId: other.orgId, slug: 'blog', names: { en: 'Blog' } },
      ]);
    const url = labFeed().url;
    const refused = await call(
      PATH,
      json(
        'POST',
        { name: 'F', kind: 'feed', feed: { url, item_defaults: { category_id: theirs } } },
        auth,
      ),
      LOOPBACK,
    );
    const problem = await expectProblem(refused, 422);
    expect(problem.errors).toEqual([
      expect.objectContaining({ path: 'body.feed.item_defaults.category_id' }),
    ]);
    const source = await createFeedSource(auth, { url, item_defaults: { category_id: mine } });
    expect(source.feed.item_defaults).toMatchObject({ category_id: mine });
  });

  it('updates a feed’s settings: a new URL forgets what was learnt and is due at once', async () => {
    const { auth } = await signedIn('feed-update');
    const feed = labFeed();
    await feed.serve({ body: rss([{ guid: 'u-1', title: 'One' }]), etag: '"v1"' });
    const source = await createFeedSource(auth, { url: feed.url });
    expect((await pollNow(auth, source.id)).status).toBe('ok');
    const polled = await getSource(auth, source.id);
    expect(polled.poll.etag).toBe('"v1"');

    // A new interval reschedules from the last poll.
    const slower = await call(
      `${PATH}/${source.id}`,
      json('PATCH', { feed: { interval_minutes: 60 } }, auth),
      LOOPBACK,
    );
    expect(slower.status).toBe(200);
    const after = (await slower.json()) as FeedSource;
    expect(after.feed).toMatchObject({ url: feed.url, interval_minutes: 60 });
    expect(minutesBetween(after.poll.last_polled_at!, after.poll.next_poll_at!)).toBe(60);
    expect(after.poll.etag).toBe('"v1"');

    const moved = labFeed();
    const response = await call(
      `${PATH}/${source.id}`,
      json('PATCH', { feed: { url: moved.url, item_defaults: { tags: ['moved'] } } }, auth),
      LOOPBACK,
    );
    expect(response.status).toBe(200);
    const updated = (await response.json()) as FeedSource;
    expect(updated.feed).toMatchObject({
      url: moved.url,
      interval_minutes: 60,
      item_defaults: { tags: ['moved'], status: 'published' },
    });
    expect(updated.poll).toMatchObject({
      etag: null,
      last_modified: null,
      consecutive_failures: 0,
    });
    expect(Date.parse(updated.poll.next_poll_at!)).toBeLessThanOrEqual(Date.now());

    const bad: [Record<string, unknown>, number, string][] = [
      [{ feed: { interval_minutes: 2 } }, 400, 'body.feed.interval_minutes'],
      [{ feed: { url: 'http://192.168.1.1/feed' } }, 422, 'body.feed.url'],
      [{ feed: { kind: 'standard' } }, 400, 'body.feed.kind'],
      [{ mapping: { external_id: '/id', title: '/t' } }, 422, 'body.mapping'],
      [{ hmac: { signature_header: 'X-Sig' } }, 422, 'body.hmac'],
      [{ kind: 'standard' }, 400, 'body'],
    ];
    for (const [body, status, field] of bad) {
      const refused = await call(`${PATH}/${source.id}`, json('PATCH', body, auth), LOOPBACK);
      const problem = await expectProblem(refused, status);
      expect(JSON.stringify(problem)).toContain(field);
    }
    // `feed` is only for a feed.
    const webhook = await createSource(auth);
    const wrong = await call(
      `${PATH}/${webhook.id}`,
      json('PATCH', { feed: { interval_minutes: 30 } }, auth),
      LOOPBACK,
    );
    expect((await expectProblem(wrong, 422)).errors).toEqual([
      expect.objectContaining({ path: 'body.feed' }),
    ]);
  });

  it('keeps another organisation’s feed sources out of reach', async () => {
    const owner = await signedIn('feed-tenant-a');
    const stranger = await signedIn('feed-tenant-b');
    const source = await createFeedSource(owner.auth, { url: labFeed().url });
    for (const [method, path, body] of [
      ['GET', `${PATH}/${source.id}`, undefined],
      ['PATCH', `${PATH}/${source.id}`, { name: 'Mine now' }],
      ['POST', `${PATH}/${source.id}/poll`, undefined],
      ['GET', `${PATH}/${source.id}/deliveries`, undefined],
      ['DELETE', `${PATH}/${source.id}`, undefined],
    ] as const) {
      const response = await call(
        path,
        body ? json(method, body, stranger.auth) : { method, headers: stranger.auth },
        LOOPBACK,
      );
      await expectProblem(response, 404);
    }
    const list = await call(PATH, { headers: stranger.auth });
    expect(JSON.stringify(await list.json())).not.toContain(source.id);
    expect((await getSource(owner.auth, source.id)).name).toBe('Blog feed');
  });
});

describe('feed sources: polling', () => {
  it('writes an RSS feed’s items as content, with their fields, through the write path', async () => {
    const { auth } = await signedIn('feed-rss');
    const feed = labFeed();
    await feed.serve({
      body: rss(
        [
          {
            guid: 'post-1',
            title: 'Tom &amp; Jerry&#8217;s <![CDATA[day]]>',
            link: 'https://blog.example.com/post-1',
            description: 'A short &lt;b&gt;summary&lt;/b&gt;',
            content:
              '<p>First <strong>bold</strong> paragraph with <a href="/more">a link</a>.</p>' +
              '<ul><li>one</li><li>two</li></ul><script>alert(1)</script>',
            pubDate: 'Tue, 03 Jun 2025 09:39:21 GMT',
            categories: ['Science', 'Space &amp; Time'],
          },
          {
            // No guid: the link is the id; the description is the body.
            title: 'Deuxième',
            link: 'https://blog.example.com/post-2',
            description: '&lt;p&gt;Bonjour&amp;nbsp;le monde&lt;/p&gt;',
            language: 'fr',
          },
        ],
        { language: 'en-us' },
      ),
      etag: '"rss-1"',
    });
    const source = await createFeedSource(auth, {
      url: feed.url,
      item_defaults: { tags: ['blog'], status: 'published' },
    });
    const result = await pollNow(auth, source.id);
    expect(result).toMatchObject({
      status: 'ok',
      status_code: 200,
      error: null,
      items: { seen: 2, created: 2, updated: 0, unchanged: 0, refused: 0, failed: 0 },
      consecutive_failures: 0,
    });
    const requests = await feed.requests();
    expect(requests).toHaveLength(1);
    expect(requests[0]!.headers['user-agent']).toContain('Sift-Feeds');
    expect(requests[0]!.headers).not.toHaveProperty('if-none-match');

    const items = await itemsOf(source.id);
    expect([...items.keys()].sort()).toEqual(['https://blog.example.com/post-2', 'post-1']);
    const first = await readItem(auth, items.get('post-1')!);
    expect(first).toMatchObject({
      status: 'published',
      version: 1,
      default_locale: 'en-US',
      tags: ['blog', 'science', 'space & time'],
      category_id: null,
      created_by: source.id,
      published_at: '2025-06-03T09:39:21.000Z',
      metadata: {
        feed: {
          link: 'https://blog.example.com/post-1',
          published_at: '2025-06-03T09:39:21.000Z',
        },
      },
    });
    const text = first.translations['en-US']!;
    expect(text.title).toBe('Tom & Jerry’s day');
    expect(text.summary).toBe('A short summary');
    expect(text.body).toBe(
      'First **bold** paragraph with [a link](https://blog.example.com/more).\n\n- one\n- two',
    );
    expect(text.body).not.toContain('alert');
    const second = await readItem(auth, items.get('https://blog.example.com/post-2')!);
    expect(second.translations.fr).toMatchObject({
      title: 'Deuxième',
      body: 'Bonjour\u00a0le monde',
      summary: null,
    });
    // Persisted by the consumer, the source as the actor and owner of the external id.
    const row = await eventually(async () => {
      const [r] = await testDb().select().from(content).where(eq(content.id, first.id));
      return r;
    }, 20_000);
    expect(row).toMatchObject({ createdBy: source.id, sourceId: source.id, externalId: 'post-1' });
    const log = await logOf(source.id);
    expect(log.map((r) => [r.status, r.eventType])).toEqual([
      ['applied', 'feed.item'],
      ['applied', 'feed.item'],
    ]);
    const state = await getSource(auth, source.id);
    expect(state.poll).toMatchObject({
      status: 'ok',
      status_code: 200,
      error: null,
      etag: '"rss-1"',
      consecutive_failures: 0,
      in_progress: false,
    });
    expect(minutesBetween(state.poll.last_polled_at!, state.poll.next_poll_at!)).toBe(15);
    await auditedEventually('webhook_source.poll', source.id);
  });

  it('writes an Atom feed’s entries, with their language, categories and links', async () => {
    const { auth } = await signedIn('feed-atom');
    const feed = labFeed();
    await feed.serve({
      contentType: 'application/atom+xml',
      body: `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
  <title>Atom lab</title><id>urn:lab</id><updated>2025-05-01T10:00:00Z</updated>
  <entry>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <title type="html">Grüße &amp;amp; &lt;em&gt;mehr&lt;/em&gt;</title>
    <link rel="self" href="https://atom.example.com/self/1"/>
    <link rel="alternate" type="text/html" href="https://atom.example.com/1"/>
    <updated>2025-05-01T10:00:00Z</updated>
    <published>2025-04-30T08:00:00+02:00</published>
    <summary>Kurz gesagt.</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hallo <b>Welt</b>, wie geht’s?</p></div></content>
    <category term="Technik"/>
    <author><name>Ada</name></author>
  </entry>
  <entry xml:lang="en">
    <id>tag:atom.example.com,2025:2</id>
    <title>Plain &lt;text&gt; title</title>
    <link href="https://atom.example.com/2"/>
    <updated>2025-05-02T10:00:00Z</updated>
    <content type="html">&lt;h2&gt;Heading&lt;/h2&gt;&lt;p&gt;Body &amp;amp; more&lt;/p&gt;</content>
  </entry>
</feed>`,
    });
    const source = await createFeedSource(auth, {
      url: feed.url,
      item_defaults: { status: 'draft' },
    });
    const result = await pollNow(auth, source.id);
    expect(result.items).toMatchObject({ seen: 2, created: 2, refused: 0 });
    const items = await itemsOf(source.id);
    const first = await readItem(auth, items.get('urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a')!);
    expect(first).toMatchObject({
      status: 'draft',
      default_locale: 'de',
      tags: ['technik'],
      published_at: null,
      metadata: {
        feed: {
          link: 'https://atom.example.com/1',
          published_at: '2025-04-30T06:00:00.000Z',
          updated_at: '2025-05-01T10:00:00.000Z',
          authors: ['Ada'],
        },
      },
    });
    expect(first.translations.de).toMatchObject({
      title: 'Grüße & mehr',
      summary: 'Kurz gesagt.',
      body: 'Hallo **Welt**, wie geht’s?',
    });
    const second = await readItem(auth, items.get('tag:atom.example.com,2025:2')!);
    expect(second.translations.en).toMatchObject({
      title: 'Plain <text> title',
      body: '## Heading\n\nBody & more',
    });
  });

  it('reads a feed in the character set its XML declaration or Content-Type names', async () => {
    const { auth } = await signedIn('feed-charset');
    const latin1 = labFeed();
    const xml = `<?xml version="1.0" encoding="ISO-8859-1"?>\n${rss([{ guid: 'l1', title: 'Café crème à Zürich' }]).replace(/^<\?xml[^>]*>\n/, '')}`;
    await latin1.serve({
      // btoa reads each character as one byte: the text in ISO-8859-1.
      bodyBase64: btoa(xml),
      contentType: 'application/rss+xml',
    });
    const fromDeclaration = await createFeedSource(auth, { url: latin1.url });
    expect((await pollNow(auth, fromDeclaration.id)).items.created).toBe(1);
    const item = await readItem(auth, (await itemsOf(fromDeclaration.id)).get('l1')!);
    expect(item.translations.en!.title).toBe('Café crème à Zürich');

    const header = labFeed();
    await header.serve({
      bodyBase64: btoa(rss([{ guid: 'l2', title: 'Señor' }])),
      contentType: 'text/xml; charset=ISO-8859-1',
    });
    const fromHeader = await createFeedSource(auth, { url: header.url });
    expect((await pollNow(auth, fromHeader.id)).items.created).toBe(1);
    const second = await readItem(auth, (await itemsOf(fromHeader.id)).get('l2')!);
    expect(second.translations.en!.title).toBe('Señor');
  });

  it('sends the ETag back and writes nothing on 304; a changed item makes one new version', async () => {
    const { auth } = await signedIn('feed-etag');
    const feed = labFeed();
    const items = [
      { guid: 'a', title: 'Alpha', description: 'First' },
      { guid: 'b', title: 'Beta', description: 'Second' },
    ];
    await feed.serve({ body: rss(items), etag: '"e1"' });
    const source = await createFeedSource(auth, { url: feed.url });
    expect((await pollNow(auth, source.id)).items.created).toBe(2);
    const ids = await itemsOf(source.id);
    const logged = (await logOf(source.id)).length;

    const again = await pollNow(auth, source.id);
    expect(again).toMatchObject({ status: 'not_modified', status_code: 304 });
    expect((await feed.requests()).at(-1)!.headers['if-none-match']).toBe('"e1"');
    expect((await logOf(source.id)).length).toBe(logged);

    // The same items under a new ETag: read, nothing written (no version, no log entry).
    await feed.serve({ body: rss(items), etag: '"e2"' });
    expect((await pollNow(auth, source.id)).items).toMatchObject({
      unchanged: 2,
      created: 0,
      updated: 0,
    });
    expect((await logOf(source.id)).length).toBe(logged);

    await feed.serve({
      body: rss([{ ...items[0]!, title: 'Alpha, revised' }, items[1]!]),
      etag: '"e3"',
    });
    const changed = await pollNow(auth, source.id);
    expect(changed.items).toMatchObject({ updated: 1, unchanged: 1, created: 0 });
    const alpha = await readItem(auth, ids.get('a')!);
    expect(alpha).toMatchObject({ version: 2 });
    expect(alpha.translations.en!.title).toBe('Alpha, revised');
    expect(await readItem(auth, ids.get('b')!)).toMatchObject({ version: 1 });
    expect((await getSource(auth, source.id)).poll.etag).toBe('"e3"');
  });

  it('sends Last-Modified back as If-Modified-Since when there is no ETag', async () => {
    const { auth } = await signedIn('feed-lastmod');
    const feed = labFeed();
    const lastModified = 'Wed, 21 Oct 2015 07:28:00 GMT';
    await feed.serve({ body: rss([{ guid: 'lm', title: 'Dated' }]), lastModified });
    const source = await createFeedSource(auth, { url: feed.url });
    expect((await pollNow(auth, source.id)).items.created).toBe(1);
    expect((await getSource(auth, source.id)).poll).toMatchObject({
      etag: null,
      last_modified: lastModified,
    });
    const again = await pollNow(auth, source.id);
    expect(again.status).toBe('not_modified');
    const last = (await feed.requests()).at(-1)!;
    expect(last.headers['if-modified-since']).toBe(lastModified);
    expect(last.headers).not.toHaveProperty('if-none-match');
  });

  it('records an item that cannot be content as refused, and writes the others', async () => {
    const { auth } = await signedIn('feed-bad-item');
    const feed = labFeed();
    await feed.serve({
      body: rss([
        { guid: 'good-1', title: 'Good one' },
        { description: '' }, // no id, no title, no text
        { guid: 'no-title' }, // an id, nothing to call it
        { guid: 'too-long', title: 'x'.repeat(301) },
        { guid: 'good-2', title: 'Good two', categories: ['', 'y'.repeat(65), 'ok'] },
      ]),
    });
    const source = await createFeedSource(auth, { url: feed.url });
    const result = await pollNow(auth, source.id);
    expect(result).toMatchObject({ status: 'ok' });
    expect(result.items).toMatchObject({ seen: 5, created: 2, refused: 3 });
    const log = await logOf(source.id);
    const refused = log.filter((r) => r.status === 'unmapped');
    expect(refused.map((r) => [r.externalId, r.reason])).toEqual(
      expect.arrayContaining([
        [null, 'has no guid, id or link'],
        ['no-title', 'title: is missing (no title and no text)'],
        ['too-long', 'title: must be at most 300 characters'],
      ]),
    );
    const items = await itemsOf(source.id);
    // A category that is not a valid tag is left out; the item goes in.
    expect((await readItem(auth, items.get('good-2')!)).tags).toEqual(['ok']);
    const deliveries = await call(`${PATH}/${source.id}/deliveries?status=unmapped`, {
      headers: auth,
    });
    expect(((await deliveries.json()) as { items: unknown[] }).items).toHaveLength(3);
  });

  it('does not bring back an item deleted in Sift', async () => {
    const { auth } = await signedIn('feed-deleted');
    const feed = labFeed();
    await feed.serve({ body: rss([{ guid: 'gone', title: 'Soon gone' }]), etag: '"d1"' });
    const source = await createFeedSource(auth, { url: feed.url });
    await pollNow(auth, source.id);
    const id = (await itemsOf(source.id)).get('gone')!;
    const deleted = await call(`/v1/content/${id}`, { method: 'DELETE', headers: auth });
    expect(deleted.status).toBeLessThan(300);
    await feed.serve({ body: rss([{ guid: 'gone', title: 'Soon gone, edited' }]), etag: '"d2"' });
    expect((await pollNow(auth, source.id)).items).toMatchObject({ unchanged: 1, updated: 0 });
    expect((await call(`/v1/content/${id}`, { headers: auth })).status).toBe(404);
  });

  it('records failures, backs off exponentially and resets on success', async () => {
    const { auth } = await signedIn('feed-backoff');
    const feed = labFeed();
    await feed.serve({ status: 503, body: 'down for maintenance' });
    const source = await createFeedSource(auth, { url: feed.url, interval_minutes: 10 });
    for (const [n, wait] of [
      [1, 20],
      [2, 40],
      [3, 80],
    ] as const) {
      const result = await pollNow(auth, source.id);
      expect(result).toMatchObject({
        status: 'failed',
        status_code: 503,
        error: 'HTTP 503',
        consecutive_failures: n,
      });
      const state = await getSource(auth, source.id);
      expect(state.poll).toMatchObject({ status: 'failed', consecutive_failures: n });
      expect(minutesBetween(state.poll.last_polled_at!, state.poll.next_poll_at!)).toBe(wait);
    }
    // The back-off stops at a day.
    await testDb()
      .update(webhookSources)
      .set({ consecutiveFailures: 12 })
      .where(eq(webhookSources.id, source.id));
    const capped = await pollNow(auth, source.id);
    expect(minutesBetween(new Date().toISOString(), capped.next_poll_at)).toBeCloseTo(1440, 0);

    await feed.serve({ body: rss([{ guid: 'back', title: 'Back up' }]) });
    const ok = await pollNow(auth, source.id);
    expect(ok).toMatchObject({ status: 'ok', consecutive_failures: 0, error: null });
    const state = await getSource(auth, source.id);
    expect(state.poll).toMatchObject({ consecutive_failures: 0, error: null, status: 'ok' });
    expect(minutesBetween(state.poll.last_polled_at!, state.poll.next_poll_at!)).toBe(10);
    const failures = (await logOf(source.id)).filter((r) => r.status === 'failed');
    expect(failures).toHaveLength(4);
    expect(failures[0]).toMatchObject({ eventType: 'feed.poll', reason: 'HTTP 503' });
  });

  it('waits at least as long as a 429 or 503 asks (Retry-After), within the day', async () => {
    const { auth } = await signedIn('feed-retry-after');
    const feed = labFeed();
    await feed.serve({ status: 429, headers: { 'retry-after': '7200' } });
    const source = await createFeedSource(auth, { url: feed.url, interval_minutes: 10 });
    const result = await pollNow(auth, source.id);
    expect(result).toMatchObject({ status: 'failed', status_code: 429, consecutive_failures: 1 });
    const state = await getSource(auth, source.id);
    expect(minutesBetween(state.poll.last_polled_at!, state.poll.next_poll_at!)).toBe(120);
    await feed.serve({ status: 503, headers: { 'retry-after': String(7 * 86_400) } });
    await pollNow(auth, source.id);
    const capped = await getSource(auth, source.id);
    expect(minutesBetween(capped.poll.last_polled_at!, capped.poll.next_poll_at!)).toBe(1_440);
  });

  it('does not record an old URL’s outcome over a URL changed during the poll', async () => {
    const { auth } = await signedIn('feed-url-race');
    const old = labFeed();
    await old.serve({ body: rss([{ guid: 'o', title: 'Old' }]), etag: '"old"', delayMs: 1_500 });
    const source = await createFeedSource(auth, { url: old.url });
    const polling = pollNow(auth, source.id);
    await eventually(async () => (await old.requests()).length === 1);
    const moved = labFeed();
    const patched = await call(
      `${PATH}/${source.id}`,
      json('PATCH', { feed: { url: moved.url } }, auth),
      LOOPBACK,
    );
    expect(patched.status).toBe(200);
    expect((await polling).status).toBe('ok');
    const state = await getSource(auth, source.id);
    expect(state.feed.url).toBe(moved.url);
    expect(state.poll).toMatchObject({
      etag: null,
      status: null,
      last_polled_at: null,
      in_progress: false,
    });
    expect(Date.parse(state.poll.next_poll_at!)).toBeLessThanOrEqual(Date.now());
  });

  it('refuses what is not a feed, too large, or not well-formed, and records why', async () => {
    const { auth } = await signedIn('feed-refusals');
    const cases: [Parameters<ReturnType<typeof labFeed>['serve']>[0], string][] = [
      [{ body: '<rss><channel><item><title>x</channel></rss>' }, 'not well-formed XML'],
      [
        { body: '<html><body>Hello</body></html>', contentType: 'text/html' },
        'content type is text/html',
      ],
      [
        { body: '{"items":[]}', contentType: 'application/json' },
        'content type is application/json',
      ],
      [{ body: '<html><head/><body/></html>', contentType: 'text/xml' }, 'root element is <html>'],
      [{ body: 'just words', contentType: 'text/plain' }, 'not XML'],
      [{ body: rss([]), padBytes: 5 * 1024 * 1024 + 1 }, 'larger than 5 MiB'],
      [{ status: 404, body: 'no' }, 'HTTP 404'],
    ];
    for (const [spec, reason] of cases) {
      const feed = labFeed();
      await feed.serve(spec);
      const source = await createFeedSource(auth, { url: feed.url });
      const result = await pollNow(auth, source.id);
      expect(result.status, reason).toBe('failed');
      expect(result.error, reason).toContain(reason);
      expect(result.consecutive_failures).toBe(1);
      const [entry] = await logOf(source.id);
      expect(entry).toMatchObject({ status: 'failed', eventType: 'feed.poll' });
      expect(entry!.reason).toContain(reason);
    }
  });

  it('gives up on a feed that does not finish answering within 10 s', async () => {
    const { auth } = await signedIn('feed-stall');
    const feed = labFeed();
    await feed.serve({ body: '<rss><channel>', hang: true });
    const source = await createFeedSource(auth, { url: feed.url });
    const started = Date.now();
    const result = await pollNow(auth, source.id);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result).toMatchObject({
      status: 'failed',
      status_code: null,
      error: 'no complete answer within 10 s',
      consecutive_failures: 1,
    });
  }, 30_000);

  it('writes what it could not write now at the next poll, a minute later, reading the feed again', async () => {
    const { auth } = await signedIn('feed-queue-down');
    const feed = labFeed();
    await feed.serve({
      body: rss([
        { guid: 'q1', title: 'Queued one' },
        { guid: 'q2', title: 'Queued two' },
      ]),
      etag: '"q"',
    });
    const source = await createFeedSource(auth, { url: feed.url });
    const refusingQueue = {
      send: async () => {
        throw new Error('Queue send failed: 503 Service Unavailable');
      },
      sendBatch: async () => {
        throw new Error('Queue sendBatch failed: 503 Service Unavailable');
      },
    };
    const down = await pollNow(auth, source.id, 200, { WRITES: refusingQueue });
    expect(down).toMatchObject({ status: 'ok', consecutive_failures: 0 });
    expect(down.items).toMatchObject({ seen: 2, failed: 2, created: 0 });
    const state = await getSource(auth, source.id);
    // The ETag is not kept: the next poll must read the feed, not hear 304.
    expect(state.poll.etag).toBeNull();
    expect(minutesBetween(state.poll.last_polled_at!, state.poll.next_poll_at!)).toBe(1);
    const failed = (await logOf(source.id)).filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.externalId).sort()).toEqual(['q1', 'q2']);

    const up = await pollNow(auth, source.id);
    expect(up.items).toMatchObject({ created: 2, failed: 0 });
    expect((await feed.requests()).at(-1)!.headers).not.toHaveProperty('if-none-match');
    expect((await getSource(auth, source.id)).poll.etag).toBe('"q"');
    const items = await itemsOf(source.id);
    expect((await readItem(auth, items.get('q1')!)).translations.en!.title).toBe('Queued one');
  });

  it('writes at most 200 items a poll, the rest at a follow-up poll a minute later', async () => {
    const { auth } = await signedIn('feed-many');
    const feed = labFeed();
    await feed.serve({
      body: rss(Array.from({ length: 203 }, (_, i) => ({ guid: `m${i}`, title: `Item ${i}` }))),
      etag: '"many"',
    });
    const source = await createFeedSource(auth, { url: feed.url });
    const first = await pollNow(auth, source.id);
    expect(first.items).toMatchObject({ seen: 203, created: 200 });
    const state = await getSource(auth, source.id);
    expect(state.poll.etag).toBeNull();
    expect(minutesBetween(state.poll.last_polled_at!, state.poll.next_poll_at!)).toBe(1);
    const second = await pollNow(auth, source.id);
    expect(second.items).toMatchObject({ created: 3, unchanged: 200 });
    expect((await getSource(auth, source.id)).poll.etag).toBe('"many"');
  }, 120_000);

  it('checks every redirect and the address before each poll (SSRF)', async () => {
    const { auth } = await signedIn('feed-redirects');
    const target = labFeed();
    await target.serve({ body: rss([{ guid: 'moved', title: 'Moved here' }]) });
    const hop = labFeed();
    await hop.serve({ redirect: target.url });
    const followed = await createFeedSource(auth, { url: hop.url });
    expect((await pollNow(auth, followed.id)).items.created).toBe(1);

    const sneaky = labFeed();
    await sneaky.serve({ redirect: 'http://private10.sift.test/feed.xml' });
    const redirected = await createFeedSource(auth, { url: sneaky.url });
    const refused = await pollNow(auth, redirected.id);
    expect(refused).toMatchObject({ status: 'failed', status_code: null });
    expect(refused.error).toContain(
      'destination refused: the redirect to http://private10.sift.test',
    );

    const loop = labFeed();
    await loop.serve({ redirect: loop.url });
    const looping = await createFeedSource(auth, { url: loop.url });
    expect((await pollNow(auth, looping.id)).error).toBe('more than 5 redirects');

    // A name that resolved to a public address at creation and to a private one now.
    const name = `rebind-${crypto.randomUUID().slice(0, 8)}.sift.test`;
    const setZone = (entry: object) =>
      fetch(`${LAB}/dns-zone/${name}`, { method: 'PUT', body: JSON.stringify(entry) });
    await setZone({ A: ['93.184.215.14'], ttl: 0 });
    const rebinding = await createFeedSource(auth, { url: `http://${name}/feed.xml` });
    await setZone({ A: ['10.1.2.3'], ttl: 0 });
    const result = await pollNow(auth, rebinding.id);
    expect(result.error).toContain(
      'destination refused: the URL must not resolve to a blocked address',
    );
  });

  it('polls a feed that moved permanently (301, 308) at its new URL from then on, and keeps the URL after a temporary redirect', async () => {
    const { auth } = await signedIn('feed-moved');
    const target = labFeed();
    await target.serve({ body: rss([{ guid: 'moved-1', title: 'At the new address' }]) });
    const temporary = labFeed();
    await temporary.serve({ redirect: target.url, redirectStatus: 307 });
    const permanent = labFeed();
    await permanent.serve({ redirect: temporary.url, redirectStatus: 301 });
    // A permanent hop then a temporary one: the feed's home is not settled, the URL stays.
    const mixed = await createFeedSource(auth, { url: permanent.url });
    expect((await pollNow(auth, mixed.id)).items.created).toBe(1);
    expect((await getSource(auth, mixed.id)).feed.url).toBe(permanent.url);

    for (const status of [301, 308] as const) {
      const old = labFeed();
      await old.serve({ redirect: target.url, redirectStatus: status });
      const source = await createFeedSource(auth, { url: old.url });
      expect((await pollNow(auth, source.id)).status).toBe('ok');
      expect((await getSource(auth, source.id)).feed.url).toBe(target.url);
      // The next poll goes to the new address: the old one is asked no more.
      const asked = (await old.requests()).length;
      expect((await pollNow(auth, source.id)).status).toMatch(/^(ok|not_modified)$/);
      expect((await old.requests()).length).toBe(asked);
    }
  });

  it('answers 409 for a source that is not a feed or is disabled', async () => {
    const { auth } = await signedIn('feed-poll-conflict');
    const webhook = await createSource(auth);
    expect(
      (
        await expectProblem(
          await call(`${PATH}/${webhook.id}/poll`, { method: 'POST', headers: auth }),
          409,
        )
      ).detail,
    ).toContain('Only a feed');
    const disabled = await createFeedSource(auth, { url: labFeed().url }, { enabled: false });
    const refused = await call(`${PATH}/${disabled.id}/poll`, { method: 'POST', headers: auth });
    expect((await expectProblem(refused, 409)).detail).toContain('disabled');
  });
});

describe('poll-feeds cron', () => {
  // The job takes every due feed of the database, and only this file makes feeds: the ones of the
  // tests above are switched off, so that what a run polls here is this block's alone.
  beforeAll(async () => {
    await testDb()
      .update(webhookSources)
      .set({ disabledAt: new Date() })
      .where(isNotNull(webhookSources.nextPollAt));
  });

  it('polls each due feed once when two runs overlap, and skips disabled and undue ones', async () => {
    const { auth } = await signedIn('feed-cron');
    const due = labFeed();
    await due.serve({ body: rss([{ guid: 'c1', title: 'From the cron' }]), etag: '"c"' });
    const source = await createFeedSource(auth, { url: due.url });
    const off = labFeed();
    await off.serve({ body: rss([{ guid: 'off', title: 'Never' }]) });
    const disabled = await createFeedSource(auth, { url: off.url }, { enabled: false });

    const now = Date.now() + 1_000;
    const [a, b] = await Promise.all([
      runCron('* * * * *', now, LOOPBACK),
      runCron('* * * * *', now, LOOPBACK),
    ]);
    const polled = [a?.['poll-feeds'], b?.['poll-feeds']] as { polled: number }[];
    expect(polled.every((p) => typeof p.polled === 'number')).toBe(true);
    expect(await due.requests()).toHaveLength(1);
    expect(await off.requests()).toHaveLength(0);
    const state = await getSource(auth, source.id);
    expect(state.poll).toMatchObject({ status: 'ok', in_progress: false });
    expect((await itemsOf(source.id)).has('c1')).toBe(true);
    const items = await itemsOf(source.id);
    const item = await readItem(auth, items.get('c1')!);
    expect(item.created_by).toBe(source.id);
    // Audited as the source, though no request carried the write.
    const audited = await auditedEventually('content.create', item.id);
    expect(audited).toMatchObject({ actorType: 'webhook_source', actorId: source.id });
    expect(await sourceRow(disabled.id)).toMatchObject({ lastPolledAt: null });

    // Not due again until its interval has passed.
    await runCron('* * * * *', now + 5 * MINUTE, LOOPBACK);
    expect(await due.requests()).toHaveLength(1);
    await runCron('* * * * *', now + 16 * MINUTE, LOOPBACK);
    expect(await due.requests()).toHaveLength(2);
    expect((await due.requests())[1]!.headers['if-none-match']).toBe('"c"');
    expect((await getSource(auth, source.id)).poll.status).toBe('not_modified');
  });

  it('does not take a feed whose poll is in progress (a live lease)', async () => {
    const { auth } = await signedIn('feed-lease');
    const feed = labFeed();
    await feed.serve({ body: rss([{ guid: 'l', title: 'Leased' }]) });
    const source = await createFeedSource(auth, { url: feed.url });
    await testDb()
      .update(webhookSources)
      .set({ pollingUntil: new Date(Date.now() + 10 * MINUTE) })
      .where(eq(webhookSources.id, source.id));
    expect((await getSource(auth, source.id)).poll.in_progress).toBe(true);
    const busy = await call(`${PATH}/${source.id}/poll`, { method: 'POST', headers: auth });
    expect((await expectProblem(busy, 409)).detail).toContain('being polled');
    await runCron('* * * * *', Date.now(), LOOPBACK);
    expect(await feed.requests()).toHaveLength(0);
    // A lease that ran out (a poll that died) is taken again.
    await runCron('* * * * *', Date.now() + 11 * MINUTE, LOOPBACK);
    expect(await feed.requests()).toHaveLength(1);
  });
});
