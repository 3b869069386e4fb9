/**
 * Where an outbound webhook may be sent: the server-side request forgery rules, applied when an
 * endpoint is created or changed and again before every attempt. A URL is refused when it names
 * a host the Worker must never reach on a customer's behalf: loopback, private networks,
 * link-local (cloud metadata services live there), carrier-grade NAT, multicast and reserved
 * ranges, in any spelling the URL parser accepts (`0x7f.1`, `2130706433`, `[::ffff:127.0.0.1]`,
 * `localhost.`). Production takes only `https`; development may allow `http` and loopback, so
 * a receiver on the developer's machine works.
 *
 * This module checks the URL as written (IP literals, and names that are loopback or internal
 * whatever DNS says); `resolve.ts` resolves the other names and checks every address they
 * resolve to against the same ranges ({@link addressRule}).
 */

export type DestinationRules = {
  /** `http` and loopback hosts allowed (development and tests only). */
  allowLoopback: boolean;
};

export type DestinationCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Longest URL accepted. */
export const MAX_URL_LENGTH = 2048;

type Range = { bits: bigint; prefix: number; label: string };

const v4 = (text: string, prefix: number, label: string): Range => ({
  bits: (0xffffn << 32n) | ipv4Bits(text)!,
  prefix: prefix + 96,
  label,
});
const v6 = (text: string, prefix: number, label: string): Range => ({
  bits: ipv6Bits(text)!,
  prefix,
  label,
});

const LOOPBACK: Range[] = [v4('127.0.0.0', 8, 'loopback'), v6('::1', 128, 'loopback')];

/** Every range a webhook may not reach, IPv4 ones as IPv4-mapped IPv6 (`::ffff:0:0/96`). */
const BLOCKED: Range[] = [
  v4('0.0.0.0', 8, '"this network"'),
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'carrier-grade NAT'),
  v4('169.254.0.0', 16, 'link-local (cloud metadata)'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'IETF protocol assignments'),
  v4('192.0.2.0', 24, 'documentation'),
  v4('192.168.0.0', 16, 'private'),
  v4('198.18.0.0', 15, 'benchmarking'),
  v4('198.51.100.0', 24, 'documentation'),
  v4('203.0.113.0', 24, 'documentation'),
  v4('224.0.0.0', 4, 'multicast'),
  v4('240.0.0.0', 4, 'reserved'),
  v6('::', 128, 'unspecified'),
  v6('64:ff9b::', 96, 'NAT64 (an embedded IPv4 address)'),
  v6('64:ff9b:1::', 48, 'NAT64 (an embedded IPv4 address)'),
  v6('100::', 64, 'discard'),
  v6('2001:db8::', 32, 'documentation'),
  v6('2002::', 16, '6to4 (an embedded IPv4 address)'),
  v6('fc00::', 7, 'unique local (private)'),
  v6('fe80::', 10, 'link-local'),
  v6('fec0::', 10, 'site-local'),
  v6('ff00::', 8, 'multicast'),
];

/** Names that are loopback or internal whatever DNS says. */
const LOOPBACK_NAME = /(^|\.)localhost$/;
const INTERNAL_NAME = /(^|\.)(local|internal|localdomain|home\.arpa)$|^metadata\.google\.internal$/;

function ipv4Bits(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let bits = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    bits = (bits << 8n) | BigInt(part);
  }
  return bits;
}

/** An IPv6 address (as the URL parser writes it, without brackets) as 128 bits. */
function ipv6Bits(text: string): bigint | null {
  let address = text;
  // A trailing dotted IPv4 part (`::ffff:1.2.3.4`) becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const bits = ipv4Bits(dotted[1]!);
    if (bits === null) return null;
    address = `${address.slice(0, -dotted[1]!.length)}${(bits >> 16n).toString(16)}:${(bits & 0xffffn).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  let bits = 0n;
  for (const group of [...head, ...Array<string>(missing).fill('0'), ...tail]) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    bits = (bits << 16n) | BigInt(`0x${group}`);
  }
  return bits;
}

const inRange = (address: bigint, range: Range) =>
  address >> BigInt(128 - range.prefix) === range.bits >> BigInt(128 - range.prefix);

/**
 * An address as DNS writes it (an A record's dotted IPv4, an AAAA record's IPv6) as 128 bits,
 * IPv4 as IPv4-mapped IPv6; null when the text is neither.
 */
export function parseAddress(text: string): bigint | null {
  const bits = ipv4Bits(text);
  return bits !== null ? (0xffffn << 32n) | bits : ipv6Bits(text);
}

/**
 * The rule an address breaks under `rules`: `loopback` (unless allowed) or the label of the
 * blocked range it is in (`private`, `carrier-grade NAT`…); null when it may be reached.
 */
export function addressRule(address: bigint, rules: DestinationRules): string | null {
  // IPv4 addresses are compared in their IPv4-mapped IPv6 form, so `[::ffff:7f00:1]` is
  // checked as the 127.0.0.1 it maps.
  if (LOOPBACK.some((range) => inRange(address, range)))
    return rules.allowLoopback ? null : 'loopback';
  return BLOCKED.find((range) => inRange(address, range))?.label ?? null;
}

/** A URL's host as it is looked up: lower case, without the trailing dot (`localhost.`). */
const hostOf = (url: URL) => url.hostname.toLowerCase().replace(/\.$/, '');

/**
 * The name DNS must answer for before `url` (one {@link checkDestination} accepted) is reached:
 * null for an IP literal and for a loopback name (`localhost`), which are checked as written.
 */
export function nameToResolve(url: URL): string | null {
  const host = hostOf(url);
  return addressOf(host) !== null || LOOPBACK_NAME.test(host) ? null : host;
}

/** The 128 bits of a host the URL parser wrote as an IP address, or null for a name. */
function addressOf(hostname: string): bigint | null {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return ipv6Bits(hostname.slice(1, -1));
  const bits = ipv4Bits(hostname);
  return bits === null ? null : (0xffffn << 32n) | bits;
}

/** Whether `raw` may receive webhooks under `rules`; the reason names the rule when not. */
export function checkDestination(raw: string, rules: DestinationRules): DestinationCheck {
  if (raw.length > MAX_URL_LENGTH)
    return { ok: false, reason: `must be at most ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'must be an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(rules.allowLoopback && url.protocol === 'http:'))
    return {
      ok: false,
      reason: rules.allowLoopback ? 'must be an http or https URL' : 'must be an https URL',
    };
  if (url.username || url.password)
    return { ok: false, reason: 'must not hold credentials (user:password@)' };
  if (url.hash) return { ok: false, reason: 'must not have a fragment (#…)' };
  // The parser keeps a trailing dot (`localhost.`), which resolves like the name without it.
  const host = hostOf(url);
  const address = addressOf(host);
  if (address === null) {
    if (LOOPBACK_NAME.test(host))
      return rules.allowLoopback
        ? { ok: true, url }
        : { ok: false, reason: 'must not be loopback' };
    if (INTERNAL_NAME.test(host) || !host.includes('.'))
      return { ok: false, reason: 'must be a public host name (not a local or internal one)' };
    return { ok: true, url };
  }
  const rule = addressRule(address, rules);
  if (rule === 'loopback') return { ok: false, reason: 'must not be loopback' };
  if (rule) return { ok: false, reason: `must not be in a blocked range: ${rule}` };
  return { ok: true, url };
}
