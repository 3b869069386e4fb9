import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@upstash/qstash';
import { afterEach, beforeEach } from 'vitest';
import {
  type QStashService,
  type QStashServiceOptions,
  startQStash,
} from '../../../tools/local-cloud/qstash/index.ts';

export type Received = {
  method: string;
  /** Path and query, as the destination saw them. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
};

export type Reply = {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer after this many ms (to outlast a delivery timeout). */
  delayMs?: number;
  /** Never answer (until the server closes). */
  hang?: boolean;
};

export type Destination = {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  requests: Received[];
  /** How many requests are being handled right now, and the most seen at once. */
  readonly active: number;
  readonly maxActive: number;
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
};

/**
 * A real HTTP destination on a free loopback port that records every request. `reply` decides the
 * answer per request (by its 0-based index), e.g. fail twice then succeed.
 */
export async function startDestination(
  reply: (index: number, request: Received) => Reply = () => ({}),
): Promise<Destination> {
  const requests: Received[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let active = 0;
  let maxActive = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      const index = requests.length;
      requests.push(received);
      active++;
      maxActive = Math.max(maxActive, active);
      for (const waiter of [...waiters]) {
        if (requests.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      const answer = reply(index, received);
      if (answer.hang) return;
      setTimeout(() => {
        active--;
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, answer.headers ?? {});
        res.end(answer.body ?? 'ok');
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get active() {
      return active;
    },
    get maxActive() {
      return maxActive;
    },
    waitFor(count, timeoutMs = 5_000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} requests, got ${requests.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(requests);
          },
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

export type Setup = {
  service: QStashService;
  client: Client;
  token: string;
  /** Calls the REST API directly, for what the SDK does not expose or cannot send. */
  api(path: string, init?: RequestInit): Promise<Response>;
};

/** Fast enough for tests, and distinguishable: 20 ms before every retry. */
export const fastBackoff = () => 20;

/** Starts a service on a free port with fresh credentials and an SDK client for it. */
export async function startService(options: Partial<QStashServiceOptions> = {}): Promise<Setup> {
  const token = `token_${randomBytes(8).toString('hex')}`;
  const service = await startQStash({
    port: 0,
    token,
    currentSigningKey: `sig_current${randomBytes(8).toString('hex')}`,
    nextSigningKey: `sig_next${randomBytes(8).toString('hex')}`,
    retryBackoff: fastBackoff,
    ...options,
  });
  const client = new Client({
    baseUrl: service.url,
    token: options.token ?? token,
    retry: false,
    enableTelemetry: false,
  });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${service.url}${path}`, {
      ...init,
      headers: { Authorization: `Bearer ${options.token ?? token}`, ...init.headers },
    });
  return { service, client, token: options.token ?? token, api };
}

/** Retries an assertion until it passes or `timeoutMs` runs out. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A header as the destination received it, as a single string. */
export function header(request: Received | undefined, name: string): string | undefined {
  const value = request?.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Gives each test a fresh service and a fresh recording destination (handed to `assign`), and
 * closes both after it.
 */
export function freshServiceAndDestination(
  assign: (setup: Setup, destination: Destination) => void,
): void {
  let current: [Setup, Destination] | undefined;
  beforeEach(async () => {
    current = [await startService(), await startDestination()];
    assign(...current);
  });
  afterEach(async () => {
    await current?.[0].service.close();
    await current?.[1].close();
  });
}
