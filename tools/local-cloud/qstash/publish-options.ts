import { parseTargetUrl } from './destinations.ts';
import { parseDuration } from './duration.ts';
import { badRequest, goQuote, parseGoInt } from './errors.ts';
import { compileRetryDelay } from './retry-delay.ts';
import type { CallbackConfig, FlowControl, HeaderMap, MessageConfig } from './types.ts';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** The configuration of one publish, read from its `Upstash-*` headers. */
export type PublishOptions = MessageConfig & {
  delayMs?: number;
  /** Absolute delivery time, ms (`Upstash-Not-Before` is in seconds). */
  notBefore?: number;
  deduplicationId?: string;
  contentBasedDeduplication: boolean;
};

/** Go's `http.CanonicalHeaderKey`: `content-type` → `Content-Type`. */
export function canonicalHeader(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join('-');
}

function addHeader(map: HeaderMap, name: string, value: string) {
  const key = canonicalHeader(name);
  const values = map[key] ?? [];
  values.push(value);
  map[key] = values;
}

/**
 * Reads the publish configuration from request headers. Throws `ApiError` (400) with QStash's
 * `invalid <Header> header: <reason>` text on a malformed value.
 */
export function parsePublishOptions(
  headers: Headers,
  allowDestination: (url: URL) => boolean,
): PublishOptions {
  const header: HeaderMap = {};
  const callbackHeader: HeaderMap = {};
  const failureCallbackHeader: HeaderMap = {};
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (lower === 'content-type') addHeader(header, name, value);
    else if (lower.startsWith('upstash-forward-')) {
      addHeader(header, name.slice('upstash-forward-'.length), value);
    } else if (lower.startsWith('upstash-callback-forward-')) {
      addHeader(callbackHeader, name.slice('upstash-callback-forward-'.length), value);
    } else if (lower.startsWith('upstash-failure-callback-forward-')) {
      addHeader(
        failureCallbackHeader,
        name.slice('upstash-failure-callback-forward-'.length),
        value,
      );
    }
  });
  const get = (name: string) => headers.get(name) ?? undefined;

  const options: PublishOptions = {
    method: parseMethod(get('Upstash-Method'), 'Upstash-Method') ?? 'POST',
    header,
    contentBasedDeduplication: get('Upstash-Content-Based-Deduplication') === 'true',
  };
  const delay = get('Upstash-Delay');
  if (delay !== undefined) options.delayMs = durationHeader(delay, 'Upstash-Delay');
  const notBefore = get('Upstash-Not-Before');
  if (notBefore !== undefined) {
    const parsed = parseGoInt(notBefore, 'strconv.ParseInt');
    if (!parsed.ok) throw badRequest(`invalid Upstash-Not-Before header: ${parsed.error}`);
    options.notBefore = parsed.value * 1000;
  }
  const retries = get('Upstash-Retries');
  if (retries !== undefined) options.retries = retriesHeader(retries, 'Upstash-Retries');
  const retryDelay = get('Upstash-Retry-Delay');
  if (retryDelay !== undefined)
    options.retryDelay = retryDelayHeader(retryDelay, 'Upstash-Retry-Delay');
  const timeout = get('Upstash-Timeout');
  if (timeout !== undefined) options.timeoutMs = durationHeader(timeout, 'Upstash-Timeout');
  const dedupId = get('Upstash-Deduplication-Id');
  if (dedupId !== undefined) {
    // QStash's own text: github.com search "DeduplicationId cannot contain ':'".
    if (dedupId.includes(':')) throw badRequest("DeduplicationId cannot contain ':'");
    options.deduplicationId = dedupId;
  }
  const label = get('Upstash-Label');
  if (label !== undefined) {
    const labels = label
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
    if (labels.length > 0) options.labels = labels;
  }
  const flowControl = parseFlowControl(
    get('Upstash-Flow-Control-Key'),
    get('Upstash-Flow-Control-Value'),
  );
  if (flowControl) options.flowControl = flowControl;

  const callback = get('Upstash-Callback');
  if (callback !== undefined) {
    options.callback = parseCallback(
      headers,
      'Upstash-Callback',
      callback,
      callbackHeader,
      allowDestination,
    );
  }
  const failureCallback = get('Upstash-Failure-Callback');
  if (failureCallback !== undefined) {
    options.failureCallback = parseCallback(
      headers,
      'Upstash-Failure-Callback',
      failureCallback,
      failureCallbackHeader,
      allowDestination,
    );
  }
  return options;
}

function parseMethod(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const method = value.toUpperCase();
  if (!METHODS.has(method))
    throw badRequest(`invalid ${name} header: ${goQuote(value)} is not a valid HTTP method`);
  return method;
}

function durationHeader(value: string, name: string): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw badRequest(`invalid ${name} header: ${parsed.error}`);
  return Math.max(0, parsed.value);
}

function retriesHeader(value: string, name: string): number {
  const parsed = parseGoInt(value);
  if (!parsed.ok) throw badRequest(`invalid ${name} header: ${parsed.error}`);
  if (parsed.value < 0) throw badRequest(`invalid ${name} header: retries cannot be negative`);
  return parsed.value;
}

function retryDelayHeader(value: string, name: string): string {
  const compiled = compileRetryDelay(value);
  if (!compiled.ok) throw badRequest(`invalid ${name} header: ${compiled.error}`);
  return value;
}

function parseCallback(
  headers: Headers,
  prefix: string,
  url: string,
  header: HeaderMap,
  allowDestination: (url: URL) => boolean,
): CallbackConfig {
  const what = prefix === 'Upstash-Callback' ? 'callback' : 'failure callback';
  const parsed = parseTargetUrl(url, what, allowDestination);
  if (!parsed.ok) throw badRequest(parsed.error);
  const config: CallbackConfig = {
    url: parsed.value,
    method: parseMethod(headers.get(`${prefix}-Method`) ?? undefined, `${prefix}-Method`) ?? 'POST',
    header,
  };
  const retries = headers.get(`${prefix}-Retries`);
  if (retries !== null) config.retries = retriesHeader(retries, `${prefix}-Retries`);
  const timeout = headers.get(`${prefix}-Timeout`);
  if (timeout !== null) config.timeoutMs = durationHeader(timeout, `${prefix}-Timeout`);
  const delay = headers.get(`${prefix}-Delay`);
  if (delay !== null) config.delayMs = durationHeader(delay, `${prefix}-Delay`);
  const retryDelay = headers.get(`${prefix}-Retry-Delay`);
  if (retryDelay !== null)
    config.retryDelay = retryDelayHeader(retryDelay, `${prefix}-Retry-Delay`);
  return config;
}

// `Upstash-Flow-Control-Value: parallelism=10, rate=5, period=1d` (the SDK's format).
function parseFlowControl(
  key: string | undefined,
  value: string | undefined,
): FlowControl | undefined {
  if (key === undefined) return undefined;
  if (value === undefined) throw badRequest('invalid Upstash-Flow-Control-Value header: missing');
  const flow: FlowControl = { key };
  for (const part of value.split(',')) {
    const [name, raw] = part.split('=').map((piece) => piece.trim());
    if (!name || raw === undefined) {
      throw badRequest(`invalid Upstash-Flow-Control-Value header: ${goQuote(part.trim())}`);
    }
    if (name === 'period') {
      // The SDK sends `period=60s` or a bare number of seconds.
      const parsed = /^\d+$/.test(raw)
        ? { ok: true as const, value: Number(raw) * 1000 }
        : parseDuration(raw);
      if (!parsed.ok)
        throw badRequest(`invalid Upstash-Flow-Control-Value header: ${parsed.error}`);
      flow.period = Math.round(parsed.value / 1000);
      continue;
    }
    const number = parseGoInt(raw);
    if (!number.ok) throw badRequest(`invalid Upstash-Flow-Control-Value header: ${number.error}`);
    if (name === 'parallelism') flow.parallelism = number.value;
    else if (name === 'rate') flow.rate = number.value;
    else
      throw badRequest(`invalid Upstash-Flow-Control-Value header: unknown key ${goQuote(name)}`);
  }
  return flow;
}

/** Converts the `{name: value}` headers of a batch entry; rejects non-string values. */
export function batchHeaders(value: unknown): Headers {
  const headers = new Headers();
  if (value === undefined || value === null) return headers;
  if (typeof value !== 'object' || Array.isArray(value))
    throw badRequest('headers must be an object');
  for (const [name, raw] of Object.entries(value)) {
    if (typeof raw !== 'string') throw badRequest(`header ${goQuote(name)} must be a string`);
    try {
      headers.append(name, raw);
    } catch {
      throw badRequest(`invalid header ${goQuote(name)}`);
    }
  }
  return headers;
}
