import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP server on loopback for the Worker tests of outbound webhooks, which run inside
 * workerd where nothing can listen. It plays two parts:
 *
 * - QStash's callback target (`POST /qstash/deliver`): the local QStash delivers each scheduled
 *   attempt here, signed as it would sign the Worker's URL; a test reads the calls
 *   (`GET /qstash/calls?delivery_id=`) and hands them, headers and body unchanged, to the
 *   Worker's `POST /internal/webhooks/deliver` — the real QStash signature is what it verifies.
 * - Receivers (`POST /hooks/<name>`): endpoints that record what they get (`GET /hooks/<name>`)
 *   and answer as told (`PUT /hooks/<name>/replies` with a list of `{status, headers, body}`,
 *   used in order; `200 ok` once the list is spent).
 */
export type LabRequest = { headers: Record<string, string>; body: string; at: number };
type Reply = { status: number; headers?: Record<string, string>; body?: string };

export type WebhookLab = { url: string; close(): Promise<void> };

function read(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export async function startWebhookLab(): Promise<WebhookLab> {
  const calls: LabRequest[] = [];
  const received = new Map<string, LabRequest[]>();
  const replies = new Map<string, Reply[]>();
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://lab');
    const body = await read(request);
    const send = (status: number, text = '', headers: Record<string, string> = {}) => {
      response.writeHead(status, headers);
      response.end(text);
    };
    if (request.method === 'POST' && url.pathname === '/qstash/deliver') {
      calls.push({ headers: headersOf(request), body, at: Date.now() });
      return send(200, 'recorded');
    }
    if (request.method === 'GET' && url.pathname === '/qstash/calls') {
      const id = url.searchParams.get('delivery_id');
      const matching = calls.filter(
        (c) => (JSON.parse(c.body) as { delivery_id: string }).delivery_id === id,
      );
      return send(200, JSON.stringify(matching), { 'content-type': 'application/json' });
    }
    const hook = /^\/hooks\/([\w-]+)(\/replies)?$/.exec(url.pathname);
    if (hook) {
      const name = hook[1]!;
      if (request.method === 'PUT' && hook[2]) {
        replies.set(name, JSON.parse(body) as Reply[]);
        return send(204);
      }
      if (request.method === 'GET' && !hook[2]) {
        return send(200, JSON.stringify(received.get(name) ?? []), {
          'content-type': 'application/json',
        });
      }
      if (request.method === 'POST' && !hook[2]) {
        const list = received.get(name) ?? [];
        list.push({ headers: headersOf(request), body, at: Date.now() });
        received.set(name, list);
        const reply = replies.get(name)?.shift() ?? { status: 200, body: 'ok' };
        return send(reply.status, reply.body ?? '', reply.headers ?? {});
      }
    }
    send(404, 'no such lab route');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
