/*
 * What Upstash's REST API answers where Redis itself has no say. Sources: Upstash's docs
 * (redis/troubleshooting/http_unauthorized and max_request_size_exceeded, features/restapi) and
 * error messages quoted in public issues (upstash/redis-js#1357 for NOPERM, the "Command is not
 * available" text for unsupported commands). The texts for malformed bodies are not documented
 * anywhere; they are this server's own, in Redis' style.
 */

export const UNAUTHORIZED = 'WRONGPASS invalid or missing auth token';

/** Upstash's free and pay-as-you-go limit. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
export const MAX_REQUEST_SIZE = 'ERR max request size exceeded';

export const INVALID_JSON = 'ERR failed to parse the request body as JSON';
export const INVALID_COMMAND =
  'ERR a command must be a non-empty JSON array of strings and numbers';
export const INVALID_BATCH = 'ERR the request body must be a non-empty JSON array of commands';
export const INVALID_PATH = 'ERR invalid percent-encoding in the request path';
export const METHOD_NOT_ALLOWED = 'ERR method not allowed';

/** Upstash's reply to a command its REST API does not serve. */
export const unavailable = (name: string) =>
  `ERR Command is not available: '${name.toUpperCase()}'. See https://upstash.com/docs/redis/overall/rediscompatibility for details`;

/** What the read-only token gets for a command it may not run. */
export const noPermission = (name: string) =>
  `NOPERM this user has no permissions to run the '${name.toLowerCase()}' command or its subcommand`;

/**
 * Commands that make no sense over stateless HTTP (connection state, pub/sub streams, replication,
 * transactions spelled out command by command): refused before they reach a backend.
 */
export const REFUSED = new Set([
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
  'monitor',
  'select',
  'swapdb',
  'move',
  'quit',
  'reset',
  'hello',
  'auth',
  'client',
  'multi',
  'exec',
  'discard',
  'watch',
  'unwatch',
  'sync',
  'psync',
  'replconf',
  'replicaof',
  'slaveof',
  'failover',
  'shutdown',
  'debug',
  'cluster',
  'readonly',
  'readwrite',
  'asking',
]);

/** Read commands the read-only token still may not run (Upstash restricts these two). */
export const READONLY_DENIED = new Set(['keys', 'scan']);
