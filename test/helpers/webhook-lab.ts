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
 * - A DNS-over-HTTPS resolver (`GET /dns-query?name=&type=A|AAAA`, the JSON API of Cloudflare's
 *   and Google's; the Worker's `WEBHOOKS_DNS_RESOLVER`) answering from {@link DNS_ZONE}: one name
 *   per blocked range under `sift.test`, and any name under `example.com` with a public address.
 *   A test changes a name's answer (`PUT /dns-zone/<name>` with a {@link DnsEntry}) and reads how
 *   many questions were asked about it (`GET /dns-zone/<name>` → `{queries}`).
 * - Feeds (`GET /feeds/<name>`), for the feed sources' polls: a test sets what a feed answers
 *   (`PUT /feeds/<name>` with a {@link FeedSpec}) and reads the requests it got, headers
 *   included (`GET /feeds/<name>/requests`). A feed with an `etag` or `last_modified` answers a
 *   matching `If-None-Match` / `If-Modified-Since` with `304`, as a real server does.
 */
export type LabRequest = { headers: Record<string, string>; body: string; at: number };
type Reply = { status: number; headers?: Record<string, string>; body?: string };

/** What the lab's resolver answers for one name. */
export type DnsEntry = {
  /** The DNS response code: 0 NOERROR (default), 2 SERVFAIL, 3 NXDOMAIN. */
  status?: number;
  A?: string[];
  AAAA?: string[];
  /** A CNAME record put before the addresses, as a resolver answers for an alias. */
  CNAME?: string;
  /** Seconds the answer may be cached (default 300). */
  ttl?: number;
  /** Answer this HTTP status instead of DNS JSON (a resolver that is failing). */
  http?: number;
  /** Never answer (a resolver that hangs). */
  hang?: boolean;
};

/** What a lab feed answers. */
export type FeedSpec = {
  /** Default 200. */
  status?: number;
  body?: string;
  /** Default `application/rss+xml; charset=utf-8`. */
  contentType?: string;
  headers?: Record<string, string>;
  etag?: string;
  /** An HTTP date (`Last-Modified`). */
  lastModified?: string;
  /** Answer a redirect to this location instead (`redirectStatus`, default 302). */
  redirect?: string;
  redirectStatus?: 301 | 302 | 303 | 307 | 308;
  /** Stream this many bytes of filler after `body`, without a Content-Length (an oversize feed). */
  padBytes?: number;
  /** Send the headers and `body`, then never finish (a server that stalls). */
  hang?: boolean;
  /** The body as bytes (base64), for another character set than UTF-8; replaces `body`. */
  bodyBase64?: string;
  /** Wait this long before answering (a slow feed). */
  delayMs?: number;
};

/** A public address (documentation ranges are blocked, so a real one: example.com's). */
export const PUBLIC_ADDRESS = '93.184.215.14';

/** The names the lab's resolver knows from the start. */
export const DNS_ZONE: Record<string, DnsEntry> = {
  'public.sift.test': { A: [PUBLIC_ADDRESS], AAAA: ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'] },
  'loopback.sift.test': { A: ['127.0.0.1'] },
  'loopback6.sift.test': { AAAA: ['::1'] },
  'private10.sift.test': { A: ['10.0.0.7'] },
  'private172.sift.test': { A: ['172.16.5.4'] },
  'private192.sift.test': { A: ['192.168.1.1'] },
  'cgnat.sift.test': { A: ['100.64.0.1'] },
  'metadata.sift.test': { A: ['169.254.169.254'] },
  'ula.sift.test': { AAAA: ['fd00::1'] },
  'linklocal6.sift.test': { AAAA: ['fe80::1'] },
  'mapped.sift.test': { AAAA: ['::ffff:10.0.0.1'] },
  'mixed.sift.test': { A: [PUBLIC_ADDRESS], AAAA: ['fd12:3456::1'] },
  'alias.sift.test': { CNAME: 'private10.sift.test', A: ['10.0.0.7'] },
  'nxdomain.sift.test': { status: 3 },
  'empty.sift.test': {},
  'servfail.sift.test': { status: 2 },
};

/** The answer for a name in no table: `example.com` names are public, the rest do not exist. */
const unknownName = (name: string): DnsEntry =>
  name === 'example.com' || name.endsWith('.example.com') ? { A: [PUBLIC_ADDRESS] } : { status: 3 };

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
  const zone = new Map<string, DnsEntry>(Object.entries(DNS_ZONE));
  const queries = new Map<string, number>();
  const feeds = new Map<string, FeedSpec>();
  const feedRequests = new Map<string, LabRequest[]>();
  const dnsName = (name: string) => name.toLowerCase().replace(/\.$/, '');
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
    if (request.method === 'GET' && url.pathname === '/dns-query') {
      const name = dnsName(url.searchParams.get('name') ?? '');
      const type = { A: 1, AAAA: 28, '1': 1, '28': 28 }[url.searchParams.get('type') ?? 'A'];
      if (!name || !type || request.headers.accept !== 'application/dns-json')
        return send(400, 'name, type (A or AAAA) and accept: application/dns-json are needed');
      queries.set(name, (queries.get(name) ?? 0) + 1);
      const entry = zone.get(name) ?? unknownName(name);
      if (entry.hang) return;
      if (entry.http) return send(entry.http, 'resolver trouble');
      const ttl = entry.ttl ?? 300;
      const answer = [
        ...(entry.CNAME ? [{ name, type: 5, TTL: ttl, data: `${entry.CNAME}.` }] : []),
        ...((type === 1 ? entry.A : entry.AAAA) ?? []).map((data) => ({
          name: entry.CNAME ?? name,
          type,
          TTL: ttl,
          data,
        })),
      ];
      return send(
        200,
        JSON.stringify({
          Status: entry.status ?? 0,
          TC: false,
          RD: true,
          RA: true,
          AD: false,
          CD: false,
          Question: [{ name, type }],
          ...((entry.status ?? 0) === 0 ? { Answer: answer } : {}),
        }),
        { 'content-type': 'application/dns-json' },
      );
    }
    const zoneName = /^\/dns-zone\/([\w.-]+)$/.exec(url.pathname);
    if (zoneName) {
      const name = dnsName(zoneName[1]!);
      if (request.method === 'PUT') {
        zone.set(name, JSON.parse(body) as DnsEntry);
        return send(204);
      }
      if (request.method === 'GET') {
        return send(200, JSON.stringify({ queries: queries.get(name) ?? 0 }), {
          'content-type': 'application/json',
        });
      }
    }
    const feed = /^\/feeds\/([\w.-]+)(\/requests)?$/.exec(url.pathname);
    if (feed) {
      const name = feed[1]!;
      if (request.method === 'PUT' && !feed[2]) {
        feeds.set(name, JSON.parse(body) as FeedSpec);
        return send(204);
      }
      if (request.method === 'GET' && feed[2]) {
        return send(200, JSON.stringify(feedRequests.get(name) ?? []), {
          'content-type': 'application/json',
        });
      }
      if (request.method === 'GET') {
        const list = feedRequests.get(name) ?? [];
        list.push({ headers: headersOf(request), body: '', at: Date.now() });
        feedRequests.set(name, list);
        const spec = feeds.get(name);
        if (!spec) return send(404, 'no such feed');
        if (spec.delayMs) await new Promise((resolve) => setTimeout(resolve, spec.delayMs));
        if (spec.redirect) {
          return send(spec.redirectStatus ?? 302, '', { location: spec.redirect });
        }
        const validators: Record<string, string> = {
          ...(spec.etag ? { etag: spec.etag } : {}),
          ...(spec.lastModified ? { 'last-modified': spec.lastModified } : {}),
        };
        const inm = request.headers['if-none-match'];
        const ims = request.headers['if-modified-since'];
        const notModified = spec.etag
          ? inm === spec.etag
          : spec.lastModified !== undefined &&
            ims !== undefined &&
            Date.parse(ims) >= Date.parse(spec.lastModified);
        if ((spec.status ?? 200) === 200 && notModified) return send(304, '', validators);
        const headers = {
          'content-type': spec.contentType ?? 'application/rss+xml; charset=utf-8',
          ...validators,
          ...spec.headers,
        };
        if (spec.hang) {
          response.writeHead(spec.status ?? 200, headers);
          response.write(spec.body ?? '');
          return;
        }
        if (spec.padBytes) {
          response.writeHead(spec.status ?? 200, headers);
          response.write(spec.body ?? '');
          const chunk = Buffer.alloc(64 * 1024, ' ');
          let left = spec.padBytes;
          const pump = () => {
            while (left > 0) {
              const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
              left -= part.length;
              if (!response.write(part)) return void response.once('drain', pump);
            }
            response.end();
          };
          response.on('error', () => {});
          return pump();
        }
        if (spec.bodyBase64 !== undefined) {
          response.writeHead(spec.status ?? 200, headers);
          return response.end(Buffer.from(spec.bodyBase64, 'base64'));
        }
        return send(spec.status ?? 200, spec.body ?? '', headers);
      }
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
