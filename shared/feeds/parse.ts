import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * RSS and Atom documents as a list of entries, nothing interpreted yet (`items.ts` turns an entry
 * into content). Read: RSS 2.0 (and 0.9x, and RSS 1.0's `rdf:RDF`): `channel` `language` /
 * `dc:language`; `item` `guid`, `link`, `title`, `description`, `content:encoded`, `pubDate` /
 * `dc:date`, `category` / `dc:subject`, `author` / `dc:creator`, `dc:language`. Atom 1.0: `feed`
 * `xml:lang`; `entry` `id`, `link rel="alternate"` (or without `rel`), `title`, `summary`,
 * `content`, `published`, `updated`, `category term`, `author name`, `xml:lang` (on the entry
 * or its content). Text is decoded (XML entities, numeric references, CDATA); whether a text is HTML
 * is recorded, not acted on.
 *
 * The parser expands no external entities and bounds internal ones (count, size, expansions),
 * so a "billion laughs" document is refused, not expanded.
 */

/** A text of an entry, and whether it is HTML (RSS bodies always may be; Atom says). */
export type FeedText = { value: string; html: boolean };

export type FeedEntry = {
  /** RSS `guid`, Atom `id`. */
  id: string | null;
  link: string | null;
  title: FeedText | null;
  /** RSS `description`, Atom `summary`. */
  summary: FeedText | null;
  /** RSS `content:encoded`, Atom `content`. */
  content: FeedText | null;
  /** As written (RFC 822 for RSS, RFC 3339 for Atom). */
  published: string | null;
  updated: string | null;
  categories: string[];
  authors: string[];
  /** The entry's own language, if it names one. */
  language: string | null;
};

export type ParsedFeed =
  | {
      ok: true;
      format: 'rss' | 'atom';
      title: string | null;
      /** The feed's language (RSS `language`, Atom `xml:lang` on `feed`). */
      language: string | null;
      entries: FeedEntry[];
    }
  | { ok: false; reason: string };

/** Most entries read from one document (the first ones; feeds list the newest first). */
export const MAX_ENTRIES = 500;

type Node = Record<string, unknown>;

const ARRAYS = new Set([
  'item',
  'entry',
  'category',
  'dc:subject',
  'link',
  'author',
  'dc:creator',
  'atom:link',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: {
    enabled: true,
    maxEntityCount: 50,
    maxEntitySize: 10_000,
    maxTotalExpansions: 1_000,
    maxExpandedLength: 100_000,
  },
  maxNestedTags: 100,
  // Texts that may hold markup are taken as written (their CDATA sections and references are
  // read by `xmlText`), so inline XHTML and unescaped HTML keep their order.
  stopNodes: [
    '*.item.title',
    '*.item.description',
    '*.item.content:encoded',
    '*.entry.title',
    '*.entry.summary',
    '*.entry.content',
  ],
  isArray: (name) => ARRAYS.has(name),
});

const XML_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/** XML's five named entities and numeric references, decoded (others stay as written). */
function decodeXml(text: string): string {
  return text.replace(
    /&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|amp|lt|gt|quot|apos);/g,
    (ref, body: string) => {
      if (!body.startsWith('#')) return XML_ENTITIES[body]!;
      const code = body.startsWith('#x')
        ? Number.parseInt(body.slice(2), 16)
        : Number(body.slice(1));
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
        ? String.fromCodePoint(code)
        : ref;
    },
  );
}

/** The text of an element taken as written: CDATA sections as they are, the rest decoded. */
function xmlText(raw: string): string {
  return raw
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) => (part.startsWith('<![CDATA[') ? part.slice(9, -3) : decodeXml(part)))
    .join('');
}

/** The text of a node: a string, or its `#text` and the text of its children (inline XHTML). */
function textOf(node: unknown): string | null {
  if (node === undefined || node === null) return null;
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  if (Array.isArray(node)) return textOf(node[0]);
  if (typeof node === 'object') {
    // Mixed content (inline XHTML) loses its order in this parse; its words are kept.
    const parts: string[] = [];
    for (const [key, value] of Object.entries(node as Node)) {
      if (key.startsWith('@_')) continue;
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) {
        const text = textOf(v);
        if (text) parts.push(text);
      }
    }
    return parts.length > 0 ? parts.join(' ') : null;
  }
  return null;
}

const attributeOf = (node: unknown, name: string): string | null => {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return null;
  const value = (node as Node)[`@_${name}`];
  return typeof value === 'string' ? value : null;
};

const nonEmpty = (text: string | null | undefined): string | null =>
  text === null || text === undefined || text.trim() === '' ? null : text.trim();

const list = (value: unknown): unknown[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];

/** An RSS element that may hold HTML (taken as written: see `stopNodes`). */
function rssText(node: unknown): FeedText | null {
  const raw = textOf(node);
  const value = raw === null ? null : nonEmpty(xmlText(raw));
  return value === null ? null : { value, html: true };
}

/**
 * An Atom text construct (taken as written): `type="xhtml"` is markup as it stands, `html` is
 * escaped HTML, `text` (the default) is plain text.
 */
function atomText(node: unknown): FeedText | null {
  const raw = textOf(node);
  if (raw === null) return null;
  const type = attributeOf(node, 'type');
  const value = nonEmpty(type === 'xhtml' ? raw : xmlText(raw));
  if (value === null) return null;
  return { value, html: type === 'html' || type === 'xhtml' || type === 'text/html' };
}

function rssEntry(item: Node): FeedEntry {
  const guid = nonEmpty(textOf(item.guid));
  return {
    id: guid ?? nonEmpty(attributeOf(item, 'rdf:about')),
    link: nonEmpty(textOf(item.link)),
    title: rssText(item.title),
    summary: rssText(item.description),
    content: rssText(item['content:encoded']),
    published: nonEmpty(textOf(item.pubDate)) ?? nonEmpty(textOf(item['dc:date'])),
    updated: null,
    categories: [...list(item.category), ...list(item['dc:subject'])]
      .map((c) => nonEmpty(textOf(c)))
      .filter((c): c is string => c !== null),
    authors: [...list(item.author), ...list(item['dc:creator'])]
      .map((a) => nonEmpty(textOf(a)))
      .filter((a): a is string => a !== null),
    language: nonEmpty(textOf(item['dc:language'])),
  };
}

/** The entry's page: `link rel="alternate"` (or one without `rel`), else the first link. */
function atomLink(links: unknown[]): string | null {
  const withHref = links.filter((l) => attributeOf(l, 'href'));
  const alternate =
    withHref.find((l) => (attributeOf(l, 'rel') ?? 'alternate') === 'alternate') ?? withHref[0];
  return nonEmpty(attributeOf(alternate, 'href'));
}

function atomEntry(entry: Node, feedBase: string | null): FeedEntry {
  const content = entry.content;
  const contentText = attributeOf(content, 'src') !== null ? null : atomText(content); // out-of-line content: none
  const link = atomLink(list(entry.link));
  let resolved = link;
  if (link && feedBase) {
    try {
      resolved = new URL(link, feedBase).href;
    } catch {
      resolved = link;
    }
  }
  return {
    id: nonEmpty(textOf(entry.id)),
    link: resolved,
    title: atomText(entry.title),
    summary: atomText(entry.summary),
    content: contentText,
    published: nonEmpty(textOf(entry.published)) ?? nonEmpty(textOf(entry.issued)),
    updated: nonEmpty(textOf(entry.updated)) ?? nonEmpty(textOf(entry.modified)),
    categories: list(entry.category)
      .map((c) => nonEmpty(attributeOf(c, 'term')) ?? nonEmpty(attributeOf(c, 'label')))
      .filter((c): c is string => c !== null),
    authors: list(entry.author)
      .map((a) => nonEmpty(textOf((a as Node | null)?.name ?? a)))
      .filter((a): a is string => a !== null),
    language:
      nonEmpty(attributeOf(entry, 'xml:lang')) ?? nonEmpty(attributeOf(content, 'xml:lang')),
  };
}

/** Whether `text` looks like it starts with markup (after a BOM and white space). */
const looksLikeXml = (text: string) => /^\uFEFF?\s*</.test(text);

/**
 * The entries of `xml` (an RSS or Atom document), at most {@link MAX_ENTRIES}; or why it is not
 * one: not well-formed XML (with the line), another kind of document (its root element), or
 * entity expansion beyond the limits.
 */
export function parseFeed(xml: string): ParsedFeed {
  if (!looksLikeXml(xml)) return { ok: false, reason: 'not XML (it does not start with <)' };
  const valid = XMLValidator.validate(xml, { allowBooleanAttributes: true });
  if (valid !== true) {
    return {
      ok: false,
      reason: `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`.slice(0, 300),
    };
  }
  let document: Node;
  try {
    document = parser.parse(xml) as Node;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `not readable XML: ${message}`.slice(0, 300) };
  }
  const roots = Object.keys(document).filter((key) => !key.startsWith('?') && !key.startsWith('!'));
  const rss = document.rss as Node | undefined;
  if (rss !== undefined) {
    const channel = (Array.isArray(rss.channel) ? rss.channel[0] : rss.channel) as Node | undefined;
    if (!channel || typeof channel !== 'object')
      return { ok: false, reason: 'an RSS document without a channel' };
    return {
      ok: true,
      format: 'rss',
      title: nonEmpty(textOf(channel.title)),
      language: nonEmpty(textOf(channel.language)) ?? nonEmpty(textOf(channel['dc:language'])),
      entries: list(channel.item)
        .slice(0, MAX_ENTRIES)
        .map((item) => rssEntry((item ?? {}) as Node)),
    };
  }
  const rdf = document['rdf:RDF'] as Node | undefined;
  if (rdf !== undefined && typeof rdf === 'object') {
    const channel = (rdf.channel ?? {}) as Node;
    return {
      ok: true,
      format: 'rss',
      title: nonEmpty(textOf(channel.title)),
      language: nonEmpty(textOf(channel['dc:language'])),
      entries: list(rdf.item)
        .slice(0, MAX_ENTRIES)
        .map((item) => rssEntry((item ?? {}) as Node)),
    };
  }
  const feed = document.feed as Node | undefined;
  if (feed !== undefined && typeof feed === 'object') {
    return {
      ok: true,
      format: 'atom',
      title: atomText(feed.title)?.value ?? null,
      language: nonEmpty(attributeOf(feed, 'xml:lang')),
      entries: list(feed.entry)
        .slice(0, MAX_ENTRIES)
        .map((entry) => atomEntry((entry ?? {}) as Node, nonEmpty(attributeOf(feed, 'xml:base')))),
    };
  }
  return {
    ok: false,
    reason: `not an RSS or Atom feed (the root element is <${(roots[0] ?? '?').slice(0, 40)}>)`,
  };
}
