import { randomBytes } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { type RedisService, startRedis } from '../../../tools/local-cloud/redis/index.ts';

export const TOKEN = 'test-token';
export const READONLY_TOKEN = 'test-readonly-token';

/** CI sets REDIS_URL; then every suite also runs against the real server. */
export const REDIS_URL = process.env.REDIS_URL;

export type BackendName = 'embedded' | 'server';
export const BACKENDS: BackendName[] = REDIS_URL ? ['embedded', 'server'] : ['embedded'];

export function startTarget(backend: BackendName): Promise<RedisService> {
  return startRedis({
    port: 0,
    token: TOKEN,
    readonlyToken: READONLY_TOKEN,
    backend: backend === 'server' ? { kind: 'server', url: REDIS_URL as string } : undefined,
  });
}

/** A key prefix no other test (or earlier run against the shared server) uses. */
export const uniquePrefix = (label: string) => `t:${label}:${randomBytes(6).toString('hex')}:`;

export function sdk(service: RedisService, options: { token?: string } = {}): Redis {
  return new Redis({
    url: service.url,
    token: options.token ?? TOKEN,
    enableTelemetry: false,
    retry: false,
  });
}

export type RawResponse = { status: number; body: string; json: unknown; headers: Headers };

export type RawOptions = {
  path?: string;
  method?: string;
  token?: string | null;
  base64?: boolean;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
};

/** A request as any HTTP client would send it, reply kept byte for byte. */
export async function raw(service: RedisService, options: RawOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.base64) headers['upstash-encoding'] = 'base64';
  const res = await fetch(`${service.url}${options.path ?? '/'}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body,
  });
  const body = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: res.status, body, json, headers: res.headers };
}

/** POSTs one command (or a batch to /pipeline, /multi-exec) as the SDK does. */
export function command(
  service: RedisService,
  cmd: readonly (string | number)[] | readonly (readonly (string | number)[])[],
  options: Omit<RawOptions, 'body'> = {},
): Promise<RawResponse> {
  return raw(service, { ...options, body: JSON.stringify(cmd) });
}

/** Deletes every key under a prefix (the server is shared: never FLUSH it). */
export async function cleanup(service: RedisService, prefix: string): Promise<void> {
  await command(service, [
    'EVAL',
    "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1",
    0,
    `${prefix}*`,
  ]);
}

export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
