import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestHarness, type TestHarness } from 'wrangler';
import { generateSigningKey } from '../../shared/auth/tokens.ts';
import { WEBHOOK_DISPATCH } from '../../shared/content/fanout.ts';
import { newId } from '../../shared/ids.ts';
import { envelope } from '../../shared/messages.ts';
import { generateSecretsKey } from '../../shared/secret-box.ts';
import { createOwner } from './owner.ts';

const ROOT = join(import.meta.dirname, '../..');

/** The README's receiver code ("Receiving webhooks"), as a reader would copy it. */
async function readmeVerifier(): Promise<
  (secret: string, headers: Headers, body: string) => boolean
> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```ts\n(import \{ createHmac[\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('the README has no receiver verification code');
  const file = join(mkdtempSync(join(tmpdir(), 'sift-readme-')), 'verify.ts');
  writeFileSync(file, block[1]!);
  return ((await import(file)) as { verifySiftWebhook: never }).verifySiftWebhook;
}

type Received = { headers: Headers; body: string; verified: boolean };

/**
 * Outbound webhooks end to end on a real wrangler build: the JOBS consumer hands attempts to the
 * local QStash, which calls the Worker back over HTTP (through a stand-in for the public URL, as
 * a load balancer would front it); the Worker signs and POSTs each attempt to a receiver on this
 * machine that verifies it with the README's code.
 */
describe('outbound webhooks through the local QStash', () => {
  const cloud = inject('localCloud');
  let harness: TestHarness;
  let base: string;
  let front: Server;
  let receiver: Server;
  let receiverUrl: string;
  let token: string;
  let orgId: string;
  let verify: (secret: string, headers: Headers, body: string) => boolean;
  const received = new Map<string, Received[]>();
  const replies = new Map<string, { status: number; headers?: Record<string, string> }[]>();
  const secrets = new Map<string, string>();

  const listen = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const readBody = (request: import('node:http').IncomingMessage) =>
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, {
      ...init,
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });

  beforeAll(async () => {
    verify = await readmeVerifier();
    // The receiver: verifies every request with its endpoint's secret, answers as scripted.
    receiver = createServer(async (request, response) => {
      const name = (request.url ?? '/').slice(1);
      const body = await readBody(request);
      const headers = new Headers(request.headers as Record<string, string>);
      const secret = secrets.get(name);
      const list = received.get(name) ?? [];
      list.push({ headers, body, verified: secret ? verify(secret, headers, body) : false });
      received.set(name, list);
      const reply = replies.get(name)?.shift() ?? { status: 200 };
      response.writeHead(reply.status, reply.headers ?? {});
      response.end('thanks');
    });
    receiverUrl = await listen(receiver);
    // The public URL QStash calls: forwards to the Worker, headers and body unchanged.
    front = createServer(async (request, response) => {
      const body = await readBody(request);
      const forwarded = await fetch(`${base}${request.url}`, {
        method: request.method,
        headers: request.headers as Record<string, string>,
        body,
      });
      response.writeHead(forwarded.status, { 'content-type': 'application/json' });
      response.end(await forwarded.text());
    });
    const frontUrl = await listen(front);
    const { QSTASH_URL, NEON_LOCAL, ...cloudSecrets } = cloud;
    harness = createTestHarness({
      root: ROOT,
      workers: [
        {
          configPath: join(ROOT, 'wrangler.toml'),
          vars: {
            ENVIRONMENT: 'test',
            NEON_LOCAL: NEON_LOCAL ?? 'true',
            QSTASH_URL: QSTASH_URL ?? '',
            WEBHOOKS_ALLOW_LOOPBACK: 'true',
            WEBHOOKS_CALLBACK_URL: `${frontUrl}/internal/webhooks/deliver`,
          },
          secrets: {
            ...cloudSecrets,
            AUTH_SIGNING_KEY: JSON.stringify(await generateSigningKey()),
            SECRETS_KEY: generateSecretsKey(),
          },
        },
      ],
    });
    base = (await harness.listen()).url.origin;
    const owner = await createOwner(cloud.DATABASE_URL!, 'hooks');
    orgId = owner.orgId;
    const { email, password } = owner;
    const login = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(login.status).toBe(200);
    token = ((await login.json()) as { access_token: string }).access_token;
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
    for (const server of [front, receiver]) {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
  });

  async function endpoint(name: string, body: Record<string, unknown> = {}) {
    const response = await api('/v1/webhooks/endpoints', {
      method: 'POST',
      body: JSON.stringify({ url: `${receiverUrl}/${name}`, ...body }),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; secret: string };
    secrets.set(name, created.secret);
    return created;
  }

  async function until<T>(check: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const deliveries = async (endpointId: string) =>
    (
      (await (await api(`/v1/webhooks/endpoints/${endpointId}/deliveries`)).json()) as {
        items: { id: string; status: string; attempts: number; event_type: string }[];
      }
    ).items;

  it('delivers a dispatched content event, verified by the README’s receiver code', async () => {
    const created = await endpoint('content', { event_types: ['content.*'] });
    const contentId = newId('content');
    const now = new Date().toISOString();
    const env = (await harness.getWorker().getEnv()) as {
      JOBS: { send(body: unknown, options: { contentType: 'json' }): Promise<void> };
    };
    await env.JOBS.send(
      envelope(
        WEBHOOK_DISPATCH,
        {
          org_id: orgId,
          event: {
            id: `${contentId}.v1`,
            type: 'content.created',
            occurred_at: now,
            data: {
              content: {
                id: contentId,
                version: 1,
                status: 'draft',
                available_locales: ['en'],
                updated_at: now,
                deleted_at: null,
              },
              operation_id: newId('operation'),
            },
          },
        },
        { orgId },
      ),
      { contentType: 'json' },
    );
    const [request] = await until(async () => received.get('content'));
    expect(request!.verified).toBe(true);
    expect(JSON.parse(request!.body)).toMatchObject({
      id: `${contentId}.v1`,
      type: 'content.created',
      data: { content: { id: contentId } },
    });
    // Tampering with one byte fails the README's check.
    expect(verify(created.secret, request!.headers, request!.body.replace('v1', 'v2'))).toBe(false);
    const [delivery] = await until(async () => {
      const items = await deliveries(created.id);
      return items[0]?.status === 'delivered' && items;
    });
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('retries after a 503 with Retry-After and delivers; a 410 disables the endpoint', async () => {
    replies.set('flaky', [{ status: 503, headers: { 'Retry-After': '1' } }]);
    const flaky = await endpoint('flaky');
    const sent = await api(`/v1/webhooks/endpoints/${flaky.id}/test`, {
      method: 'POST',
      body: '{}',
    });
    expect(sent.status).toBe(202);
    const { id } = (await sent.json()) as { id: string };
    const detail = await until(async () => {
      const response = await api(`/v1/webhooks/endpoints/${flaky.id}/deliveries/${id}`);
      const body = (await response.json()) as {
        status: string;
        attempt_log: { attempt: number; status_code: number }[];
      };
      return body.status === 'delivered' && body;
    });
    expect(detail.attempt_log.map((a) => a.status_code)).toEqual([503, 200]);
    const requests = received.get('flaky')!;
    expect(requests.map((r) => r.verified)).toEqual([true, true]);
    expect(requests.map((r) => r.headers.get('webhook-id'))).toEqual([id, id]);
    // A second later, signed afresh.
    const [t1, t2] = requests.map((r) => Number(r.headers.get('webhook-timestamp')));
    expect(t2! - t1!).toBeGreaterThanOrEqual(1);

    replies.set('gone', [{ status: 410 }]);
    const gone = await endpoint('gone');
    await api(`/v1/webhooks/endpoints/${gone.id}/test`, { method: 'POST', body: '{}' });
    const disabled = await until(async () => {
      const body = (await (await api(`/v1/webhooks/endpoints/${gone.id}`)).json()) as {
        enabled: boolean;
        disabled_reason: string | null;
      };
      return !body.enabled && body;
    });
    expect(disabled.disabled_reason).toBe('gone');
    expect(received.get('gone')).toHaveLength(1);
  });
});
