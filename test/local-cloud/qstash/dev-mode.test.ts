import { Client, Receiver } from '@upstash/qstash';
import { afterEach, describe, expect, it } from 'vitest';
import {
  QSTASH_DEV_CREDENTIALS,
  QSTASH_DEV_PORT,
  type QStashService,
  startQStash,
} from '../../../tools/local-cloud/qstash/index.ts';
import { type Destination, header, startDestination } from './harness.ts';

let service: QStashService | undefined;
let destination: Destination | undefined;
const saved = { dev: process.env.QSTASH_DEV, port: process.env.QSTASH_DEV_PORT };

afterEach(async () => {
  await service?.close();
  await destination?.close();
  for (const [name, value] of [
    ['QSTASH_DEV', saved.dev],
    ['QSTASH_DEV_PORT', saved.port],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('QSTASH_DEV mode of the SDK', () => {
  it('uses the SDK’s own dev credentials and default port', () => {
    expect(QSTASH_DEV_PORT).toBe(8080);
    expect(QSTASH_DEV_CREDENTIALS).toEqual({
      token: 'eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=',
      currentSigningKey: 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r',
      nextSigningKey: 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs',
    });
  });

  it('is picked up by an unconfigured Client and Receiver', async () => {
    service = await startQStash({ port: 0, ...QSTASH_DEV_CREDENTIALS });
    destination = await startDestination();
    // The SDK probes GET /v2/keys on QSTASH_DEV_PORT (default 8080) with its dev token and uses
    // the server if it answers with the dev keys; a free port stands in for 8080 here.
    process.env.QSTASH_DEV = 'true';
    process.env.QSTASH_DEV_PORT = String(service.port);

    const client = new Client();
    const url = `${destination.url}/dev`;
    const { messageId } = await client.publishJSON({ url, body: { dev: true } });
    const [request] = await destination.waitFor(1);
    expect(header(request, 'upstash-message-id')).toBe(messageId);

    const receiver = new Receiver();
    await expect(
      receiver.verify({
        signature: header(request, 'upstash-signature') ?? '',
        body: request?.body.toString() ?? '',
        url,
      }),
    ).resolves.toBe(true);
  });
});
