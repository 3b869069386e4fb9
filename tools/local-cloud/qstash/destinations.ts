import { fail, goQuote, ok, type Parsed } from './errors.ts';

/**
 * Whether a URL's host is loopback: `localhost`, 127.0.0.0/8, `::1` (and 127.x mapped into
 * IPv6). Names are not resolved: a public name that happens to resolve to 127.0.0.1 is refused,
 * so a publish can never make the local cloud call out to the internet.
 */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  // WHATWG URL writes ::ffff:127.0.0.1 as [::ffff:7f00:1].
  return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host);
}

/**
 * Validates a destination, callback or endpoint URL. The scheme error is QStash's own text
 * (github.com/upstash/qstash-js/issues/49); the loopback refusal mirrors the wording of QStash's
 * `endpoint resolves to a loopback address` error, the other way round.
 */
export function parseTargetUrl(
  raw: string,
  what: string,
  allow: (url: URL) => boolean,
): Parsed<string> {
  if (!/^https?:\/\//i.test(raw)) {
    return fail(`invalid ${what} url: endpoint has invalid scheme, add http:// or https://`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`invalid ${what} url: parse ${goQuote(raw)}: invalid URL`);
  }
  if (url.hostname === '') return fail(`invalid ${what} url: endpoint has no host`);
  if (!allow(url)) {
    return fail(
      `invalid ${what} url: endpoint ${url.host} is not a loopback address; ` +
        'the local QStash only delivers to loopback destinations',
    );
  }
  return ok(raw);
}
