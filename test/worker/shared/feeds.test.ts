import { describe, expect, it } from 'vitest';
import { feedItem } from '../../../shared/feeds/items.ts';
import { type FeedEntry, parseFeed } from '../../../shared/feeds/parse.ts';
import { FeedSettings, MAX_BACKOFF_MS, nextPollAt } from '../../../shared/feeds/settings.ts';
import { decodeEntities, htmlToMarkdown, htmlToText } from '../../../shared/text/html.ts';

const settings = FeedSettings.parse({ url: 'https://example.com/feed.xml' });
const NOW = new Date('2025-06-01T12:00:00Z');

const entry = (fields: Partial<FeedEntry>): FeedEntry => ({
  id: null,
  link: null,
  title: null,
  summary: null,
  content: null,
  published: null,
  updated: null,
  categories: [],
  authors: [],
  language: null,
  ...fields,
});

describe('parseFeed', () => {
  it('reads RSS texts taken as written: entities, CDATA and unescaped HTML', () => {
    const feed = parseFeed(`<rss version="2.0"><channel><language>en</language>
      <item><guid>007</guid><title>A &amp;amp; B &#x2014; <![CDATA[<i>C</i>]]></title>
      <description><p>raw <b>html</b> &amp; more</p></description></item></channel></rss>`);
    expect(feed.ok).toBe(true);
    if (!feed.ok) return;
    const [item] = feed.entries;
    // A guid that looks like a number stays the string it is.
    expect(item!.id).toBe('007');
    expect(item!.title).toEqual({ value: 'A &amp; B — <i>C</i>', html: true });
    // Unescaped HTML in RSS: the XML's own `&amp;` is read, leaving the HTML's `&`.
    expect(item!.summary).toEqual({ value: '<p>raw <b>html</b> & more</p>', html: true });
    expect(htmlToText(item!.title!.value)).toBe('A & B — C');
  });

  it('reads RSS 1.0 (rdf:RDF) items', () => {
    const feed = parseFeed(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://x.example.com/"><title>X</title><dc:language>ja</dc:language></channel>
      <item rdf:about="https://x.example.com/1"><title>One</title><link>https://x.example.com/1</link>
      <dc:date>2025-01-02T03:04:05Z</dc:date><dc:subject>news</dc:subject></item></rdf:RDF>`);
    expect(feed).toMatchObject({ ok: true, format: 'rss', language: 'ja' });
    if (!feed.ok) return;
    expect(feed.entries[0]).toMatchObject({
      id: 'https://x.example.com/1',
      published: '2025-01-02T03:04:05Z',
      categories: ['news'],
    });
  });

  it('reads Atom text constructs by their type, and resolves links against xml:base', () => {
    const feed =
      parseFeed(`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.example.com/blog/">
      <entry><id>1</id><title type="text">1 &lt; 2</title><link href="posts/1"/>
      <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Hi <b>there</b>, you</div></content></entry>
      <entry><id>2</id><title>Out of line</title><content src="https://a.example.com/2.html"/></entry></feed>`);
    expect(feed.ok).toBe(true);
    if (!feed.ok) return;
    expect(feed.entries[0]).toMatchObject({
      title: { value: '1 < 2', html: false },
      link: 'https://a.example.com/blog/posts/1',
      content: { html: true },
    });
    expect(htmlToMarkdown(feed.entries[0]!.content!.value)).toBe('Hi **there**, you');
    expect(feed.entries[1]!.content).toBeNull();
  });

  it('says why a document is not a feed', () => {
    expect(parseFeed('{"json": true}')).toEqual({
      ok: false,
      reason: 'not XML (it does not start with <)',
    });
    expect(parseFeed('<html><body/></html>')).toEqual({
      ok: false,
      reason: 'not an RSS or Atom feed (the root element is <html>)',
    });
    const broken = parseFeed('<rss><channel><item></channel></rss>');
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.reason).toMatch(/^not well-formed XML: .+\(line 1\)$/);
  });

  it('refuses external entities and does not expand nested ones', () => {
    const xxe = parseFeed(
      '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item><title>&x;</title></item></channel></rss>',
    );
    expect(xxe.ok).toBe(false);
    const lol = (n: number, of: string) => `<!ENTITY l${n} "${`&${of};`.repeat(10)}">`;
    const laughs = parseFeed(
      `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">${[1, 2, 3, 4, 5, 6, 7, 8]
        .map((n) => lol(n, `l${n - 1}`))
        .join('')}]><rss><channel><item><guid>g</guid><title>&l8;</title></item></channel></rss>`,
    );
    const title = laughs.ok ? (laughs.entries[0]?.title?.value ?? '') : '';
    expect(title.length).toBeLessThan(1_000);
  });
});

describe('htmlToMarkdown', () => {
  it('keeps structure and meaning, drops scripts, styles and unsafe links', () => {
    const html = `<h1>Title</h1><p>Some <em>text</em> &amp; <code>code()</code>.<br>Next line</p>
      <blockquote><p>Quoted</p></blockquote>
      <ol><li>first</li><li>second<ul><li>nested</li></ul></li></ol>
      <pre><code>let x = 1;
  x++;</code></pre>
      <p><a href="javascript:alert(1)">click</a> <a href="mailto:a@example.com">mail</a>
      <img src="/i.png" alt="an *image*"></p><style>p{}</style><script>evil()</script><!-- note -->`;
    expect(htmlToMarkdown(html, 'https://example.com/post')).toBe(
      [
        '# Title',
        '',
        'Some _text_ & `code()`.',
        'Next line',
        '',
        '> Quoted',
        '',
        '1. first',
        '2. second',
        '  - nested',
        '',
        '```',
        'let x = 1;',
        '  x++;',
        '```',
        '',
        'click [mail](mailto:a@example.com) ![an \\*image\\*](https://example.com/i.png)',
      ].join('\n'),
    );
  });

  it('escapes Markdown in text and keeps no-break spaces', () => {
    expect(htmlToMarkdown('<p>a*b*c [x] 1&nbsp;000</p>')).toBe('a\\*b\\*c \\[x\\] 1\u00a0000');
  });

  it('drops relative links without a base, keeping their text', () => {
    expect(htmlToMarkdown('<a href="/x">here</a>')).toBe('here');
  });
});

describe('decodeEntities', () => {
  it('decodes named and numeric references and leaves unknown or unstorable ones', () => {
    expect(decodeEntities('&eacute;&nbsp;&#233;&#xE9;&hellip;&bogus;&#0;&#xD800;')).toBe(
      'é\u00a0éé…&bogus;&#0;&#xD800;',
    );
  });
});

describe('feedItem', () => {
  it('uses the link as the id without a guid, and hashes an id too long to keep', async () => {
    const byLink = await feedItem(
      entry({ link: 'https://e.com/1', title: { value: 'T', html: true } }),
      null,
      settings,
      NOW,
    );
    expect(byLink.ok && byLink.mapped.externalId).toBe('https://e.com/1');
    const long = await feedItem(
      entry({ id: `urn:${'x'.repeat(300)}`, title: { value: 'T', html: true } }),
      null,
      settings,
      NOW,
    );
    expect(long.ok && long.mapped.externalId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('makes a title from the text when there is none, and shortens a long summary', async () => {
    const text = `${'word '.repeat(300)}end`;
    const item = await feedItem(
      entry({
        id: 'x',
        summary: { value: `<p>${text}</p>`, html: true },
        content: { value: '<p>Body</p>', html: true },
      }),
      null,
      settings,
      NOW,
    );
    expect(item.ok).toBe(true);
    if (!item.ok) return;
    expect([...item.mapped.text.title].length).toBeLessThanOrEqual(120);
    expect(item.mapped.text.title.endsWith('…')).toBe(true);
    expect([...(item.mapped.text.summary ?? '')].length).toBeLessThanOrEqual(1_000);
    expect(item.mapped.text.body).toBe('Body');
  });

  it('falls back from a language that is not a BCP 47 tag, and keeps dates no later than now', async () => {
    const item = await feedItem(
      entry({
        id: 'x',
        title: { value: 'T', html: false },
        language: 'not a language',
        published: 'Sat, 01 Jan 2099 00:00:00 GMT',
      }),
      'pt-br',
      settings,
      NOW,
    );
    expect(item.ok && item.mapped.locale).toBe('pt-BR');
    expect(item.ok && item.mapped.publishedAt).toBe(NOW.toISOString());
  });

  it('has the same fingerprint for the same entry, another when it or the defaults change', async () => {
    const base = entry({ id: 'x', title: { value: 'T', html: false } });
    const fingerprint = async (e: FeedEntry, s = settings) => {
      const item = await feedItem(e, null, s, NOW);
      return item.ok ? item.fingerprint : null;
    };
    const first = await fingerprint(base);
    expect(await fingerprint(base)).toBe(first);
    expect(await fingerprint({ ...base, title: { value: 'T2', html: false } })).not.toBe(first);
    const tagged = FeedSettings.parse({ ...settings, item_defaults: { tags: ['new'] } });
    expect(await fingerprint(base, tagged)).not.toBe(first);
  });
});

describe('nextPollAt', () => {
  it('waits one interval after a success, doubles per failure, and stops at a day', () => {
    const at = (failures: number) =>
      (nextPollAt(NOW, 15, failures).getTime() - NOW.getTime()) / 60_000;
    expect([0, 1, 2, 3].map(at)).toEqual([15, 30, 60, 120]);
    expect(at(7)).toBe(MAX_BACKOFF_MS / 60_000);
    expect(at(1_000)).toBe(1_440);
    expect((nextPollAt(NOW, 1_440, 3).getTime() - NOW.getTime()) / 60_000).toBe(1_440);
    // A Retry-After longer than the back-off wins, within the same cap.
    const delayed = (ms: number) => (nextPollAt(NOW, 15, 1, ms).getTime() - NOW.getTime()) / 60_000;
    expect([delayed(60_000), delayed(3 * 3_600_000), delayed(7 * 86_400_000)]).toEqual([
      30, 180, 1_440,
    ]);
  });
});
