import { describe, expect, it } from 'vitest';
import { applyMapping, Mapping, readPath } from '../../../shared/webhook-sources/mapping.ts';
import {
  generateSourceSecret,
  HmacSettings,
  secretProblem,
  signDelivery,
  TOLERANCE_SECONDS,
  verifyDelivery,
} from '../../../shared/webhook-sources/signature.ts';

const encoder = new TextEncoder();
const now = Date.UTC(2026, 0, 1, 12);
const ts = Math.floor(now / 1000);

describe('readPath', () => {
  const payload = { a: { 'b/c': { '~d': [10, { e: 'deep' }] } }, list: ['x', 'y'], 'dot.ted': 1 };
  it('follows JSON Pointers (with ~0 and ~1) and dotted paths, arrays by index', () => {
    expect(readPath(payload, '/a/b~1c/~0d/1/e')).toBe('deep');
    expect(readPath(payload, 'list.1')).toBe('y');
    expect(readPath(payload, '/list/0')).toBe('x');
  });
  it('finds nothing past a leaf, at a bad index, or through the prototype', () => {
    for (const path of [
      '/list/2',
      '/list/-1',
      '/list/01',
      'a.missing',
      '/a/b~1c/~0d/0/e',
      'constructor',
      '/__proto__',
    ]) {
      expect(readPath(payload, path)).toBeTypeOf('symbol');
    }
  });
});

describe('applyMapping', () => {
  const mapping = Mapping.parse({
    external_id: '/id',
    title: '/t',
    locale: '/l',
    event_type: '/type',
    delete_events: ['gone'],
  });
  it('maps an upsert, canonicalising the locale', () => {
    expect(applyMapping({ id: 7, t: '  Title  ', l: 'EN-us' }, mapping)).toMatchObject({
      ok: true,
      operation: 'upsert',
      externalId: '7',
      locale: 'en-US',
      text: { title: 'Title' },
    });
  });
  it('maps a delete event without needing a title', () => {
    expect(applyMapping({ id: 'x', type: 'gone' }, mapping)).toEqual({
      ok: true,
      operation: 'delete',
      externalId: 'x',
      eventType: 'gone',
    });
  });
  it('names the field and the rule a payload breaks', () => {
    const cases: [unknown, string][] = [
      [[], 'external_id (/id): is missing'],
      ['text', 'payload is not a JSON object'],
      [{ id: 1.5, t: 'x' }, 'must be a string or an integer'],
      [{ id: '', t: 'x' }, 'must be 1 to 200 characters'],
      [{ id: 'x'.repeat(201), t: 'x' }, 'must be 1 to 200 characters'],
      [{ id: 'a', t: '   ' }, 'title (/t): must not be empty'],
      [{ id: 'a', t: 'x', l: 5 }, 'locale (/l)'],
      [{ id: 'a', t: 'x', type: 3 }, 'event_type (/type): must be a string'],
      [{ id: 'a', t: 'x', other: 'nul\u0000' }, 'payload.other'],
    ];
    for (const [payload, reason] of cases) {
      const mapped = applyMapping(payload, mapping);
      expect(mapped.ok, JSON.stringify(payload)).toBe(false);
      expect(mapped.ok ? '' : mapped.reason).toContain(reason);
    }
  });
  it('refuses delete_events without event_type', () => {
    expect(
      Mapping.safeParse({ external_id: '/id', title: '/t', delete_events: ['x'] }).success,
    ).toBe(false);
  });
});

describe('verifyDelivery', () => {
  const body = '{"id":"1","title":"x"}';
  const hmac = HmacSettings.parse({
    signature_header: 'X-Sig',
    algorithm: 'sha512',
    encoding: 'base64',
    prefix: 'v=',
    timestamp_header: 'X-Ts',
  });
  const kinds = [
    ['standard', generateSourceSecret()],
    ['github', 'github-secret-123456'],
    ['stripe', 'whsec_stripe_secret_1234'],
    ['hmac', 'hmac-secret-1234567890'],
  ] as const;

  it.each(kinds)(
    '%s: verifies its own signature, under the current or the previous secret',
    async (kind, secret) => {
      const headers = new Headers(
        await signDelivery(kind, secret, body, { id: 'd-1', timestamp: ts, hmac }),
      );
      const input = { kind, hmac, headers, body: encoder.encode(body), now };
      expect(await verifyDelivery({ ...input, secrets: [secret] })).toMatchObject({ ok: true });
      expect(
        await verifyDelivery({ ...input, secrets: ['other-secret-1234567', secret] }),
      ).toMatchObject({ ok: true });
      expect(await verifyDelivery({ ...input, secrets: ['other-secret-1234567'] })).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
      const tampered = {
        ...input,
        body: encoder.encode(body.replace('x', 'y')),
        secrets: [secret],
      };
      expect(await verifyDelivery(tampered)).toEqual({ ok: false, reason: 'bad_signature' });
      if (kind !== 'github') {
        const late = { ...input, secrets: [secret], now: now + (TOLERANCE_SECONDS + 1) * 1000 };
        expect(await verifyDelivery(late)).toEqual({ ok: false, reason: 'stale_timestamp' });
        const early = { ...input, secrets: [secret], now: now - (TOLERANCE_SECONDS + 1) * 1000 };
        expect(await verifyDelivery(early)).toEqual({ ok: false, reason: 'stale_timestamp' });
      }
    },
  );

  it('uses the delivery headers, the Stripe event id, else the body hash as the delivery id', async () => {
    const secret = 'whsec_stripe_secret_1234';
    const stripeBody = '{"id":"evt_123","object":"event"}';
    const headers = new Headers(
      await signDelivery('stripe', secret, stripeBody, { id: 'x', timestamp: ts }),
    );
    const verified = await verifyDelivery({
      kind: 'stripe',
      headers,
      body: encoder.encode(stripeBody),
      secrets: [secret],
      now,
    });
    expect(verified).toMatchObject({ ok: true, deliveryId: 'evt_123' });
    const plain = HmacSettings.parse({ signature_header: 'X-Sig' });
    const h2 = new Headers(
      await signDelivery('hmac', 'hmac-secret-1234567890', 'abc', {
        id: 'x',
        timestamp: ts,
        hmac: plain,
      }),
    );
    const v2 = await verifyDelivery({
      kind: 'hmac',
      hmac: plain,
      headers: h2,
      body: encoder.encode('abc'),
      secrets: ['hmac-secret-1234567890'],
      now,
    });
    expect(v2).toMatchObject({
      ok: true,
      deliveryId: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    });
  });
});

describe('the Standard Webhooks test vector (standard-webhooks/standard-webhooks, libraries)', () => {
  // The spec's published vector: any conforming sender or receiver must agree on it.
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const body = '{"test": 2432232314}';
  const signature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

  it('signs it to the published signature', async () => {
    expect(await signDelivery('standard', secret, body, { id, timestamp })).toEqual({
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    });
  });

  it('verifies it at its time, alone or among other signatures, and not a byte changed', async () => {
    const verify = (sig: string, text = body) =>
      verifyDelivery({
        kind: 'standard',
        headers: new Headers({
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': sig,
        }),
        body: encoder.encode(text),
        secrets: [secret],
        now: timestamp * 1000,
      });
    expect(await verify(signature)).toEqual({ ok: true, deliveryId: id, timestamp });
    expect(await verify(`v1,bm90IGl0 ${signature}`)).toMatchObject({ ok: true });
    expect(await verify(signature, '{"test": 2432232315}')).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });
});

describe('secrets', () => {
  it('generates whsec_ and 32 random bytes, and holds supplied ones to the kind', () => {
    expect(generateSourceSecret()).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(generateSourceSecret()).not.toBe(generateSourceSecret());
    expect(secretProblem('standard', 'whsec_anything-at-all-here')).toBeDefined();
    expect(secretProblem('github', 'x'.repeat(15))).toBeDefined();
    expect(secretProblem('github', 'x'.repeat(16))).toBeUndefined();
    expect(secretProblem('hmac', 'é'.repeat(20))).toBeDefined();
    expect(secretProblem('stripe', 'sk_live_not_a_webhook_secret')).toBeDefined();
  });
});
