import { z } from 'zod';
import type { WebhookSourceKind } from '../db/schema/webhooks.ts';

/** The kinds that push deliveries and sign them (a `feed` is polled: it has no secret). */
export type PushedSourceKind = Exclude<WebhookSourceKind, 'feed'>;

/**
 * Signature schemes of inbound webhook sources (`POST /webhooks/inbound/:id`). Every comparison
 * of a signature goes through `crypto.subtle.verify` on an HMAC key, which compares in constant
 * time; a signature that does not even decode is still verified (as zero bytes) so that a garbled
 * header costs what a wrong one does. Timestamps are accepted within {@link TOLERANCE_SECONDS}
 * of now, in both directions.
 *
 * - `standard` (Standard Webhooks): `webhook-id`, `webhook-timestamp` (Unix seconds) and
 *   `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` (several,
 *   space-separated); the key is the base64 after `whsec_`.
 * - `github`: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, delivery id
 *   `X-GitHub-Delivery`; no timestamp, so a replay is refused by delivery id only.
 * - `stripe`: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (several `v1`
 *   allowed, others ignored); the delivery id is the event's `id` in the body.
 * - `hmac`: a configured header, algorithm (sha256, sha512), encoding (hex, base64) and prefix;
 *   with a timestamp header the signed content is `<timestamp>.<body>`, else the body; the
 *   delivery id comes from a configured header, else it is the body's SHA-256.
 */

/** How far a delivery's timestamp may be from now, either way (5 minutes). */
export const TOLERANCE_SECONDS = 300;
/** How long a delivery id is remembered to refuse its replay (24 h, well past the tolerance). */
export const REPLAY_WINDOW_SECONDS = 86_400;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

export const HmacSettings = z
  .strictObject({
    signature_header: z
      .string()
      .regex(HEADER_NAME, 'must be an HTTP header name')
      .meta({ description: 'The header carrying the signature.', example: 'X-Signature' }),
    algorithm: z.enum(['sha256', 'sha512']).default('sha256'),
    encoding: z.enum(['hex', 'base64']).default('hex'),
    prefix: z
      .string()
      .max(32)
      .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces')
      .default('')
      .meta({ description: 'Text before the signature in the header (`sha256=`).', example: '' }),
    timestamp_header: z
      .string()
      .regex(HEADER_NAME, 'must be an HTTP header name')
      .optional()
      .meta({
        description:
          'A header carrying the Unix time of the delivery (seconds). When set, the signed ' +
          'content is `<timestamp>.<body>` and a time more than 5 minutes away is refused.',
        example: 'X-Timestamp',
      }),
    delivery_id_header: z
      .string()
      .regex(HEADER_NAME, 'must be an HTTP header name')
      .optional()
      .meta({
        description:
          'A header carrying the delivery id, for replay protection; without it the body’s SHA-256 ' +
          'is the delivery id (an identical body is a duplicate).',
        example: 'X-Delivery-Id',
      }),
  })
  .meta({ id: 'WebhookSourceHmacSettings' });
export type HmacSettings = z.output<typeof HmacSettings>;

/** Why a delivery was refused (recorded for admins, never told to the sender). */
export type RefusalReason =
  | 'unknown_source'
  | 'disabled'
  | 'missing_headers'
  | 'malformed_headers'
  | 'bad_signature'
  | 'stale_timestamp';

export type VerifyInput = {
  kind: PushedSourceKind;
  hmac?: HmacSettings | undefined;
  headers: Headers;
  body: Uint8Array;
  /** The current secret, and the previous one while its grace period lasts. */
  secrets: string[];
  now: number;
};

export type Verified =
  | { ok: true; deliveryId: string; timestamp: number | null }
  | { ok: false; reason: RefusalReason };

const encoder = new TextEncoder();

function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The HMAC key bytes of a secret: `standard` decodes the base64 after `whsec_`. */
export function keyBytes(kind: PushedSourceKind, secret: string): Uint8Array<ArrayBuffer> {
  if (kind === 'standard') {
    const decoded = fromBase64(secret.replace(/^whsec_/, ''));
    if (decoded) return new Uint8Array(decoded);
  }
  return new Uint8Array(encoder.encode(secret));
}

function importHmac(bytes: Uint8Array<ArrayBuffer>, hash: 'SHA-256' | 'SHA-512') {
  return crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash }, false, ['sign', 'verify']);
}

/** Constant-time check of `signature` (null: undecodable) against HMAC(key, data). */
async function verifyOne(
  key: Awaited<ReturnType<typeof importHmac>>,
  signature: Uint8Array | null,
  data: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  const ok = await crypto.subtle.verify('HMAC', key, new Uint8Array(signature ?? []), data);
  return ok && signature !== null;
}

/** Whether any of `signatures` verifies `data` under any of `secrets`. */
async function anyVerifies(
  kind: PushedSourceKind,
  secrets: string[],
  hash: 'SHA-256' | 'SHA-512',
  signatures: (Uint8Array | null)[],
  data: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  let ok = false;
  // Every pair is checked (no early exit), so the time says nothing about which one matched.
  for (const secret of secrets) {
    const key = await importHmac(keyBytes(kind, secret), hash);
    for (const signature of signatures) {
      if (await verifyOne(key, signature, data)) ok = true;
    }
  }
  return ok;
}

function parseTimestamp(value: string | null): number | null {
  if (value === null || !/^\d{1,12}$/.test(value.trim())) return null;
  return Number(value.trim());
}

const stale = (timestamp: number, now: number) =>
  Math.abs(now / 1000 - timestamp) > TOLERANCE_SECONDS;

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A delivery id as stored: 1 to 200 printable ASCII characters. */
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * Verifies a delivery against the source's scheme and secrets. Timestamp and headers are checked
 * only after the signature, so a forger learns nothing from which check failed (the answer is the
 * same 401 anyway).
 */
export async function verifyDelivery(input: VerifyInput): Promise<Verified> {
  const { headers, now } = input;
  const body = new Uint8Array(input.body);
  switch (input.kind) {
    case 'standard': {
      const id = headers.get('webhook-id');
      const ts = headers.get('webhook-timestamp');
      const header = headers.get('webhook-signature');
      if (id === null || ts === null || header === null) return refuse('missing_headers');
      const timestamp = parseTimestamp(ts);
      const signatures = header
        .split(' ')
        .filter((part) => part.startsWith('v1,'))
        .map((part) => fromBase64(part.slice(3)));
      if (timestamp === null || signatures.length === 0 || !DELIVERY_ID.test(id)) {
        return refuse('malformed_headers');
      }
      const data = concat(encoder.encode(`${id}.${ts}.`), body);
      if (!(await anyVerifies('standard', input.secrets, 'SHA-256', signatures, data))) {
        return refuse('bad_signature');
      }
      if (stale(timestamp, now)) return refuse('stale_timestamp');
      return { ok: true, deliveryId: id, timestamp };
    }
    case 'github': {
      const header = headers.get('x-hub-signature-256');
      const id = headers.get('x-github-delivery');
      if (header === null || id === null) return refuse('missing_headers');
      if (!header.startsWith('sha256=') || !DELIVERY_ID.test(id)) {
        return refuse('malformed_headers');
      }
      const signature = fromHex(header.slice('sha256='.length));
      if (!(await anyVerifies('github', input.secrets, 'SHA-256', [signature], body))) {
        return refuse('bad_signature');
      }
      return { ok: true, deliveryId: id, timestamp: null };
    }
    case 'stripe': {
      const header = headers.get('stripe-signature');
      if (header === null) return refuse('missing_headers');
      const pairs = header.split(',').map((part) => {
        const at = part.indexOf('=');
        return at < 0 ? ['', ''] : [part.slice(0, at).trim(), part.slice(at + 1).trim()];
      });
      const times = pairs.filter(([k]) => k === 't').map(([, v]) => v!);
      const signatures = pairs.filter(([k]) => k === 'v1').map(([, v]) => fromHex(v!));
      const timestamp = times.length === 1 ? parseTimestamp(times[0]!) : null;
      if (timestamp === null || signatures.length === 0) return refuse('malformed_headers');
      const data = concat(encoder.encode(`${times[0]}.`), body);
      if (!(await anyVerifies('stripe', input.secrets, 'SHA-256', signatures, data))) {
        return refuse('bad_signature');
      }
      if (stale(timestamp, now)) return refuse('stale_timestamp');
      return { ok: true, deliveryId: stripeEventId(body) ?? (await sha256Hex(body)), timestamp };
    }
    case 'hmac': {
      const settings = input.hmac;
      if (!settings) return refuse('malformed_headers');
      const header = headers.get(settings.signature_header);
      const ts = settings.timestamp_header ? headers.get(settings.timestamp_header) : undefined;
      const id = settings.delivery_id_header ? headers.get(settings.delivery_id_header) : undefined;
      if (header === null || ts === null || id === null) return refuse('missing_headers');
      if (!header.startsWith(settings.prefix)) return refuse('malformed_headers');
      const encoded = header.slice(settings.prefix.length).trim();
      const signature = settings.encoding === 'hex' ? fromHex(encoded) : fromBase64(encoded);
      const timestamp = ts === undefined ? null : parseTimestamp(ts);
      if ((ts !== undefined && timestamp === null) || (id !== undefined && !DELIVERY_ID.test(id))) {
        return refuse('malformed_headers');
      }
      const data = ts === undefined ? body : concat(encoder.encode(`${ts}.`), body);
      const hash = settings.algorithm === 'sha512' ? 'SHA-512' : 'SHA-256';
      if (!(await anyVerifies('hmac', input.secrets, hash, [signature], data))) {
        return refuse('bad_signature');
      }
      if (timestamp !== null && stale(timestamp, now)) return refuse('stale_timestamp');
      return { ok: true, deliveryId: id ?? (await sha256Hex(body)), timestamp };
    }
  }
}

const refuse = (reason: RefusalReason): Verified => ({ ok: false, reason });

function stripeEventId(body: Uint8Array): string | null {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(body));
    if (parsed && typeof parsed === 'object' && 'id' in parsed) {
      const id = (parsed as { id: unknown }).id;
      if (typeof id === 'string' && DELIVERY_ID.test(id)) return id;
    }
  } catch {
    // not JSON: the body's hash is the id
  }
  return null;
}

/**
 * A dummy verification, for a source that does not exist or is disabled: the work of one HMAC,
 * so the answer does not come back measurably faster than a bad signature's.
 */
export async function dummyVerify(body: Uint8Array): Promise<void> {
  const key = await importHmac(
    new Uint8Array(encoder.encode('whsec_dummy-key-for-unknown-sources')),
    'SHA-256',
  );
  await crypto.subtle.verify('HMAC', key, new Uint8Array(32), Uint8Array.from(body));
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A new signing secret: `whsec_` and 32 random bytes in base64 (Standard Webhooks' form). */
export function generateSourceSecret(): string {
  return `whsec_${toBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/**
 * The rule a caller-supplied secret (the upstream's own, for `github`, `stripe` and `hmac`)
 * obeys: 16 to 256 printable ASCII characters without spaces; Stripe's start with `whsec_`.
 */
export function secretProblem(kind: PushedSourceKind, secret: string): string | undefined {
  if (kind === 'standard') return 'cannot be supplied for the standard kind: Sift generates it';
  if (!/^[\x21-\x7e]{16,256}$/.test(secret)) {
    return 'must be 16 to 256 printable ASCII characters without spaces';
  }
  if (kind === 'stripe' && !secret.startsWith('whsec_')) return 'must start with whsec_ (Stripe)';
  return undefined;
}

/** Signs like an upstream of `kind` would (tests, the bench, the README's examples). */
export async function signDelivery(
  kind: PushedSourceKind,
  secret: string,
  body: string,
  options: { id: string; timestamp: number; hmac?: HmacSettings },
): Promise<Record<string, string>> {
  const hash = kind === 'hmac' && options.hmac?.algorithm === 'sha512' ? 'SHA-512' : 'SHA-256';
  const key = await importHmac(keyBytes(kind, secret), hash);
  const mac = async (text: string) =>
    new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text)));
  const hex = (bytes: Uint8Array) =>
    [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  switch (kind) {
    case 'standard':
      return {
        'webhook-id': options.id,
        'webhook-timestamp': String(options.timestamp),
        'webhook-signature': `v1,${toBase64(await mac(`${options.id}.${options.timestamp}.${body}`))}`,
      };
    case 'github':
      return {
        'X-GitHub-Delivery': options.id,
        'X-Hub-Signature-256': `sha256=${hex(await mac(body))}`,
      };
    case 'stripe':
      return {
        'Stripe-Signature': `t=${options.timestamp},v1=${hex(await mac(`${options.timestamp}.${body}`))}`,
      };
    case 'hmac': {
      const s = options.hmac!;
      const signed = s.timestamp_header ? `${options.timestamp}.${body}` : body;
      const bytes = await mac(signed);
      const headers: Record<string, string> = {
        [s.signature_header]: `${s.prefix}${s.encoding === 'hex' ? hex(bytes) : toBase64(bytes)}`,
      };
      if (s.timestamp_header) headers[s.timestamp_header] = String(options.timestamp);
      if (s.delivery_id_header) headers[s.delivery_id_header] = options.id;
      return headers;
    }
  }
}
