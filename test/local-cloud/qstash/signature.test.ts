import { Receiver, SignatureError } from '@upstash/qstash';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Destination,
  freshServiceAndDestination,
  header,
  type Received,
  type Setup,
} from './harness.ts';

let setup: Setup;
let destination: Destination;

freshServiceAndDestination((s, d) => {
  setup = s;
  destination = d;
});

afterEach(() => {
  vi.useRealTimers();
});

async function deliveredOnce(url: string, body: string): Promise<Received> {
  await setup.client.publish({ url, body });
  const requests = await destination.waitFor(destination.requests.length + 1);
  return requests[requests.length - 1] as Received;
}

const receiverFor = (s: Setup) =>
  new Receiver({
    currentSigningKey: s.service.currentSigningKey,
    nextSigningKey: s.service.nextSigningKey,
  });

describe('Upstash-Signature', () => {
  it('is an HS256 JWT with QStash’s claims', async () => {
    const url = `${destination.url}/signed?q=1`;
    const request = await deliveredOnce(url, 'payload');
    const token = header(request, 'upstash-signature') ?? '';
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims.iss).toBe('Upstash');
    expect(claims.sub).toBe(url);
    expect(claims.jti).toMatch(/^jwt_/);
    expect(claims.exp).toBe((claims.iat ?? 0) + 300);
    expect(claims.nbf).toBe(claims.iat);
    // base64url SHA-256 of "payload" (from `openssl dgst -sha256`), with the padding QStash keeps.
    expect(claims.body).toBe('I59Z7VXnN8dxR89VrQwbAwttfudIp0JpUvm4UtWpNeU=');
  });

  it('verifies with Receiver and the current key', async () => {
    const url = `${destination.url}/ok`;
    const request = await deliveredOnce(url, '{"a":1}');
    const signature = header(request, 'upstash-signature') ?? '';
    await expect(receiverFor(setup).verify({ signature, body: '{"a":1}', url })).resolves.toBe(
      true,
    );
    // With only the current key (the next one wrong) it still verifies.
    await expect(
      new Receiver({
        currentSigningKey: setup.service.currentSigningKey,
        nextSigningKey: 'sig_wrong',
      }).verify({ signature, body: '{"a":1}', url }),
    ).resolves.toBe(true);
  });

  it('is rejected by Receiver when forged, tampered, for another URL or expired', async () => {
    const url = `${destination.url}/check`;
    const request = await deliveredOnce(url, 'original');
    const signature = header(request, 'upstash-signature') ?? '';
    const receiver = receiverFor(setup);

    const forged = await new SignJWT(decodeJwt(signature))
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode('sig_not_the_key'));
    await expect(receiver.verify({ signature: forged, body: 'original', url })).rejects.toThrow(
      SignatureError,
    );
    await expect(receiver.verify({ signature, body: 'tampered', url })).rejects.toThrow(
      /body hash does not match/,
    );
    await expect(
      receiver.verify({ signature, body: 'original', url: `${destination.url}/other` }),
    ).rejects.toThrow(/invalid subject/);

    // Five minutes and a bit later the same token has expired. (Both keys are the signing key,
    // so the error is the expiry and not the fallback to a wrong next key.)
    const key = setup.service.currentSigningKey;
    const strict = new Receiver({ currentSigningKey: key, nextSigningKey: key });
    await expect(strict.verify({ signature, body: 'original', url })).resolves.toBe(true);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5 * 60_000 + 2_000);
    await expect(strict.verify({ signature, body: 'original', url })).rejects.toThrow(
      /"exp" claim timestamp check failed/,
    );
  });

  it('after POST /v2/keys/rotate, signs with the old next key, which Receiver accepts', async () => {
    const before = { current: setup.service.currentSigningKey, next: setup.service.nextSigningKey };
    const keys = await setup.api('/v2/keys');
    expect(await keys.json()).toEqual(before);

    const rotated = await setup.api('/v2/keys/rotate', { method: 'POST' });
    const after = (await rotated.json()) as { current: string; next: string };
    expect(after.current).toBe(before.next);
    expect(after.next).toMatch(/^sig_/);
    expect(after.next).not.toBe(before.next);
    expect(setup.service.currentSigningKey).toBe(before.next);

    const url = `${destination.url}/rotated`;
    const request = await deliveredOnce(url, 'after rotation');
    const signature = header(request, 'upstash-signature') ?? '';
    // A receiver still configured with the old pair verifies through its next key.
    const old = new Receiver({ currentSigningKey: before.current, nextSigningKey: before.next });
    await expect(old.verify({ signature, body: 'after rotation', url })).resolves.toBe(true);
    // One that only knows the retired key does not.
    const retired = new Receiver({
      currentSigningKey: before.current,
      nextSigningKey: before.current,
    });
    await expect(retired.verify({ signature, body: 'after rotation', url })).rejects.toThrow(
      SignatureError,
    );
  });
});
