import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { canonicalHeader } from './publish-options.ts';
import type { HeaderMap } from './types.ts';

export type DeliveryOutcome =
  | { kind: 'response'; status: number; header: HeaderMap; body: Buffer }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string }
  /** Stopped by `close()`: neither a success nor a failure. */
  | { kind: 'aborted' };

/**
 * Sends one delivery attempt. Uses `node:http` rather than `fetch` so the request carries exactly
 * the headers QStash sends (no `sec-fetch-*`, `accept-language` additions) and opens no pooled
 * keep-alive sockets that would outlive `close()`. The response body is kept up to `maxBody`
 * bytes, as QStash truncates what it forwards to callbacks.
 */
export function deliver(options: {
  url: string;
  method: string;
  headers: [string, string][];
  body: Buffer;
  timeoutMs: number;
  maxBody: number;
  signal: AbortSignal;
}): Promise<DeliveryOutcome> {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (error) {
    return Promise.resolve({ kind: 'error', message: (error as Error).message });
  }
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      req.destroy();
      settle({ kind: 'aborted' });
    };
    const settle = (outcome: DeliveryOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const hasBody = options.method !== 'GET' && options.method !== 'HEAD';
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of options.headers) {
      const existing = headers[name];
      headers[name] = existing === undefined ? value : [...[existing].flat(), value];
    }
    if (hasBody) headers['Content-Length'] = String(options.body.length);
    const req = send(url, { method: options.method, headers, agent: false });
    req.on('error', (error) => settle({ kind: 'error', message: error.message }));
    timer = setTimeout(() => {
      req.destroy();
      settle({ kind: 'timeout' });
    }, options.timeoutMs);
    if (options.signal.aborted) {
      onAbort();
      return;
    }
    options.signal.addEventListener('abort', onAbort, { once: true });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size >= options.maxBody) return;
        chunks.push(chunk.subarray(0, options.maxBody - size));
        size += chunk.length;
      });
      res.on('error', (error) => settle({ kind: 'error', message: error.message }));
      res.on('end', () =>
        settle({
          kind: 'response',
          status: res.statusCode ?? 0,
          header: toHeaderMap(res.headers),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.end(hasBody ? options.body : undefined);
  });
}

function toHeaderMap(headers: IncomingHttpHeaders): HeaderMap {
  const map: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    map[canonicalHeader(name)] = Array.isArray(value) ? value : [value];
  }
  return map;
}
