/**
 * IP addresses and CIDR ranges, v4 and v6, as the access lists and the rate limiter need them:
 * parsed to bytes, printed in one canonical form (dotted quad; RFC 5952 for v6), compared by
 * prefix. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is the IPv4 address it maps.
 */
export type IpAddress = { version: 4 | 6; bytes: Uint8Array };

export type CidrRange = { version: 4 | 6; bytes: Uint8Array; prefix: number };

const V4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => V4_PART.test(p))) return null;
  return Uint8Array.from(parts, Number);
}

function parseV6(text: string): Uint8Array | null {
  if (text.length > 45 || text.split('::').length > 2) return null;
  let groups: number[] = [];
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const read = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseV4(piece);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (V6_GROUP.test(piece)) {
        out.push(Number.parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const first = read(head!);
  if (!first) return null;
  if (tail === undefined) {
    if (first.length !== 8) return null;
    groups = first;
  } else {
    const last = read(tail);
    if (!last || first.length + last.length > 7) return null;
    groups = [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

const isMappedV4 = (bytes: Uint8Array) =>
  bytes.length === 16 &&
  bytes.slice(0, 10).every((b) => b === 0) &&
  bytes[10] === 0xff &&
  bytes[11] === 0xff;

/** An IPv4 or IPv6 address, or null when `text` is neither (no zone ids, no brackets). */
export function parseIp(text: string): IpAddress | null {
  const value = text.trim();
  if (value.includes(':')) {
    const bytes = parseV6(value);
    if (!bytes) return null;
    return isMappedV4(bytes) ? { version: 4, bytes: bytes.slice(12) } : { version: 6, bytes };
  }
  const bytes = parseV4(value);
  return bytes ? { version: 4, bytes } : null;
}

/**
 * `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `x::/n`. A range whose address has bits set past
 * the prefix is refused (`10.0.0.1/8` is almost always a typo for a single address or for
 * `10.0.0.0/8`), naming the network it probably meant.
 */
export function parseCidr(
  text: string,
): { ok: true; range: CidrRange } | { ok: false; problem: string } {
  const [address, prefixText, ...rest] = text.trim().split('/');
  const ip = rest.length === 0 && address ? parseIp(address) : null;
  if (!ip) return { ok: false, problem: 'not an IP address or CIDR range' };
  const bits = ip.bytes.length * 8;
  // A mapped address keeps its prefix relative to the IPv6 form it was written in.
  const offset = ip.version === 4 && address!.includes(':') ? 96 : 0;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return { ok: false, problem: 'prefix out of range' };
    prefix = Number(prefixText) - offset;
    if (prefix < 0 || prefix > bits) return { ok: false, problem: 'prefix out of range' };
  }
  const network = mask(ip.bytes, prefix);
  if (!sameBytes(network, ip.bytes)) {
    const meant = formatCidr({ version: ip.version, bytes: network, prefix });
    return { ok: false, problem: `has host bits set past /${prefix}; did you mean ${meant}?` };
  }
  return { ok: true, range: { version: ip.version, bytes: network, prefix } };
}

/** The address with every bit past `prefix` cleared. */
export function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return Array.from(ip.bytes).join('.');
  const groups = Array.from(
    { length: 8 },
    (_, i) => (ip.bytes[2 * i]! << 8) | ip.bytes[2 * i + 1]!,
  );
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Canonical text of a range; a full-length prefix prints as the bare address. */
export function formatCidr(range: CidrRange): string {
  const address = formatIp(range);
  return range.prefix === range.bytes.length * 8 ? address : `${address}/${range.prefix}`;
}

/** Whether `ip` lies in `range` (never across versions). */
export function inRange(ip: IpAddress, range: CidrRange): boolean {
  return ip.version === range.version && sameBytes(mask(ip.bytes, range.prefix), range.bytes);
}
