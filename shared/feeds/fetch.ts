import { printable } from '../text/storable.ts';
import type { DestinationRules } from '../webhooks/destination.ts';
import { checkDestinationResolved } from '../webhooks/resolve.ts';
import { parseRetryAfter } from '../webhooks/retries.ts';

/**
 * One conditional GET of a feed, under the outbound webhook SSRF rules: the URL as written and
 * every address its name resolves to are checked before the request (`shared/webhooks/`), and
 * again for every redirect, which is followed by hand (at most {@link MAX_REDIRECTS}) so that no
 * hop reaches what the first check refused. `If-None-Match` / `If-Modified-Since` carry the
 * validators of the last 200; a `429` or `503` reports its `Retry-After`. The whole exchange, body included, has {@link FETCH_TIMEOUT_MS};
 * the body is read as a stream and refused past {@link MAX_FEED_BYTES}. A content type that is
 * not XML (nor plain text or none) is refused before the body is read.
 */

export const USER_AGENT = 'Sift-Feeds/1.0 (RSS and Atom poller)';
/** Time for the whole fetch, redirects and body included. */
export const FETCH_TIMEOUT_MS = 10_000;
/** Largest feed read (5 MiB). */
export const MAX_FEED_BYTES = 5 * 1024 * 1024;
/** Redirects followed before the fetch is given up. */
export const MAX_REDIRECTS = 5;

export type FeedValidators = { etag: string | null; lastModified: string | null };

export type FetchedFeed =
  | { outcome: 'not_modified'; status: 304; movedTo: string | null }
  | {
      outcome: 'fetched';
      status: number;
      text: string;
      validators: FeedValidators;
      /** Where the feed was read, after redirects. */
      url: string;
      /**
       * Where the feed now lives when every redirect on the way was permanent (`301`, `308`):
       * the URL to poll from now on. Null without redirects or with a temporary one among them.
       */
      movedTo: string | null;
    }
  | {
      outcome: 'failed';
      /** The feed's status (null when none came: refused destination, timeout, connection). */
      status: number | null;
      reason: string;
      /** A `429` or `503`'s `Retry-After`, in milliseconds from now. */
      retryAfterMs?: number | null;
    };

export type FetchFeedOptions = {
  url: string;
  validators: FeedValidators;
  rules: DestinationRules;
  /** The DNS-over-HTTPS resolver the destination check asks. */
  resolver: string;
  fetcher?: typeof fetch;
};

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Media types read as feeds: any XML, plain text (some servers say so) and none at all. */
function feedContentType(header: string | null): boolean {
  if (header === null) return true;
  const type = header.split(';')[0]!.trim().toLowerCase();
  return (
    type === '' ||
    type.endsWith('/xml') ||
    type.endsWith('+xml') ||
    type === 'text/plain' ||
    type === 'application/octet-stream'
  );
}

/** The character set the body is in: the header's, else the XML declaration's, else UTF-8. */
function decoderFor(contentType: string | null, bytes: Uint8Array): TextDecoder | string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1];
  let label = fromHeader;
  if (!label) {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) label = 'utf-16le';
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) label = 'utf-16be';
    else {
      const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
      label = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/.exec(head)?.[1] ?? 'utf-8';
    }
  }
  try {
    return new TextDecoder(label);
  } catch {
    return `its character set is not supported (${printable(label.slice(0, 40))})`;
  }
}

/** The body, at most `max` bytes; null when it is longer. */
async function readCapped(response: Response, max: number): Promise<Uint8Array | null> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Fetches the feed at `options.url` (see the module's comment); never throws. */
export async function fetchFeed(options: FetchFeedOptions): Promise<FetchedFeed> {
  const fetcher = options.fetcher ?? fetch;
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  const headers: Record<string, string> = {
    accept:
      'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1',
    'user-agent': USER_AGENT,
  };
  if (options.validators.etag) headers['if-none-match'] = options.validators.etag;
  if (options.validators.lastModified)
    headers['if-modified-since'] = options.validators.lastModified;

  let url = options.url;
  let permanent = true;
  const movedTo = () => (permanent && url !== options.url ? url : null);
  try {
    for (let hop = 0; ; hop++) {
      const destination = await checkDestinationResolved(
        url,
        options.rules,
        options.resolver,
        fetcher,
      );
      if (!destination.ok) {
        const where = hop === 0 ? 'the URL' : `the redirect to ${printable(url.slice(0, 200))}`;
        return {
          outcome: 'failed',
          status: null,
          reason: destination.unavailable
            ? `DNS unavailable: ${where} ${destination.reason}`
            : `destination refused: ${where} ${destination.reason}`,
        };
      }
      const response = await fetcher(destination.url, {
        method: 'GET',
        headers,
        redirect: 'manual',
        signal,
      });
      if (REDIRECTS.has(response.status)) {
        await response.body?.cancel().catch(() => {});
        const location = response.headers.get('location');
        if (!location) {
          return {
            outcome: 'failed',
            status: response.status,
            reason: `HTTP ${response.status} without a Location`,
          };
        }
        if (hop === MAX_REDIRECTS) {
          return {
            outcome: 'failed',
            status: response.status,
            reason: `more than ${MAX_REDIRECTS} redirects`,
          };
        }
        url = new URL(location, destination.url).href;
        permanent &&= response.status === 301 || response.status === 308;
        continue;
      }
      if (response.status === 304) {
        await response.body?.cancel().catch(() => {});
        return { outcome: 'not_modified', status: 304, movedTo: movedTo() };
      }
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        return {
          outcome: 'failed',
          status: response.status,
          reason: `HTTP ${response.status}`,
          retryAfterMs:
            response.status === 429 || response.status === 503
              ? parseRetryAfter(response.headers.get('retry-after'), Date.now())
              : null,
        };
      }
      const contentType = response.headers.get('content-type');
      if (!feedContentType(contentType)) {
        await response.body?.cancel().catch(() => {});
        return {
          outcome: 'failed',
          status: 200,
          reason: `not a feed: the content type is ${printable(contentType!.slice(0, 100))}`,
        };
      }
      const length = Number(response.headers.get('content-length') ?? 0);
      const tooLarge = `larger than ${MAX_FEED_BYTES / 1024 / 1024} MiB`;
      if (length > MAX_FEED_BYTES) {
        await response.body?.cancel().catch(() => {});
        return { outcome: 'failed', status: 200, reason: tooLarge };
      }
      const bytes = await readCapped(response, MAX_FEED_BYTES);
      if (bytes === null) return { outcome: 'failed', status: 200, reason: tooLarge };
      const decoder = decoderFor(contentType, bytes);
      if (typeof decoder === 'string') return { outcome: 'failed', status: 200, reason: decoder };
      return {
        outcome: 'fetched',
        status: 200,
        text: decoder.decode(bytes),
        validators: {
          etag: response.headers.get('etag'),
          lastModified: response.headers.get('last-modified'),
        },
        url,
        movedTo: movedTo(),
      };
    }
  } catch (error) {
    return {
      outcome: 'failed',
      status: null,
      reason: signal.aborted
        ? `no complete answer within ${FETCH_TIMEOUT_MS / 1000} s`
        : printable(
            `connection failed: ${error instanceof Error ? error.message : String(error)}`,
          ).slice(0, 300),
    };
  }
}
