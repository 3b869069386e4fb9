import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';

/** A service of the local cloud, listening on loopback. */
export type RunningService = {
  readonly name: string;
  /** Base URL, e.g. `http://127.0.0.1:8079`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening, drops open connections and releases the backend. Idempotent. */
  close(): Promise<void>;
};

export type ListenOptions = {
  /** Interface to bind. Default `127.0.0.1`: the local cloud never listens beyond loopback. */
  host?: string;
  /** Port to bind; `0` picks a free one. */
  port: number;
};

export type Listening = {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
};

/**
 * Serves a Hono app over Node's HTTP server. Returns once the socket is bound, so `port` is the
 * real one when `0` was asked for. `close()` also ends keep-alive connections, so a test run can
 * stop a service without waiting for idle sockets to time out.
 */
export async function listen(
  app: Pick<Hono, 'fetch'>,
  { host = '127.0.0.1', port }: ListenOptions,
): Promise<Listening> {
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  return bind(server, { host, port });
}

/** Binds an already-built Node server (one that also handles `upgrade`, say). */
export async function bind(server: Server, { host = '127.0.0.1', port }: ListenOptions) {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    server,
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  } satisfies Listening;
}

/** The bearer token of a request, or `undefined` when there is none. */
export function bearer(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1]?.trim();
}

/** Constant-time string comparison for tokens (length leaks, content does not). */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Reads a Node request body, failing once it passes `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class BodyTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`request body is larger than ${limit} bytes`);
    this.limit = limit;
  }
}
