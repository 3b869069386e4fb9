import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { Engine } from './engine.ts';
import { ApiError } from './errors.ts';

/** What every route needs: the engine, the credentials and the delivery policy. */
export type QStashContext = {
  engine: Engine;
  token: string;
  /** Mutable: `POST /v2/keys/rotate` replaces both. */
  keys: { current: string; next: string };
  allowDestination: (url: URL) => boolean;
  maxMessageSize: number;
};

/**
 * The undecoded path after `prefix`, with the query string: the destination of
 * `/v2/publish/https://host/path?x=1` is everything after `/v2/publish/`, including `?x=1`, which
 * belongs to the destination. `qstash_token` (the query form of auth) is not passed on.
 */
export function rawTail(c: Context, prefix: string): string {
  const url = c.req.url;
  const pathStart = url.indexOf('/', url.indexOf('//') + 2);
  const tail = url.slice(pathStart + prefix.length);
  const query = tail.indexOf('?');
  if (query === -1 || !tail.includes('qstash_token=')) return tail;
  const params = new URLSearchParams(tail.slice(query + 1));
  params.delete('qstash_token');
  const rest = params.toString();
  return rest === '' ? tail.slice(0, query) : `${tail.slice(0, query)}?${rest}`;
}

export function callerIp(c: Context): string {
  try {
    const address = getConnInfo(c).remote.address ?? '127.0.0.1';
    return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  } catch {
    return '127.0.0.1';
  }
}

/** Past this, an oversized body is no longer drained: the connection is cut instead. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * Caps a request body at `maxSize` bytes with a 413 `{error}`. Unlike `hono/body-limit`, it reads
 * an oversized body to its end (up to 64 MB) before answering, so the client, still sending,
 * gets the 413 instead of a reset connection.
 */
export function limitBody(maxSize: number): MiddlewareHandler {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > DRAIN_LIMIT) {
        await reader.cancel();
        break;
      }
      if (size <= maxSize) chunks.push(value);
    }
    if (size > maxSize) {
      return c.json(
        { error: `message size exceeds the max message size of ${maxSize} bytes` },
        413,
      );
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks) });
    return next();
  };
}

/** Parses a JSON request body, or fails with a 400 `{error}` instead of an exception. */
export async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const text = await c.req.text();
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export const GROUP_NAME = /^[A-Za-z0-9._-]+$/;

/** `decodeURIComponent` that answers 400 on a malformed escape instead of throwing a URIError. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, `invalid path segment ${JSON.stringify(segment)}`);
  }
}
