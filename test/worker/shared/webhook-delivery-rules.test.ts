import { describe, expect, it } from 'vitest';
import { checkDestination, MAX_URL_LENGTH } from '../../../shared/webhooks/destination.ts';
import {
  attemptOutcome,
  JITTER,
  MAX_ATTEMPTS,
  nextAttemptDelay,
  parseRetryAfter,
  RETRY_AFTER_MAX_MS,
  RETRY_DELAYS_MS,
} from '../../../shared/webhooks/retries.ts';

const production = { allowLoopback: false };
const development = { allowLoopback: true };

describe('outbound webhook destinations (SSRF rules)', () => {
  it.each([
    ['https://hooks.example.com/sift?x=1', 'a public name'],
    ['https://8.8.8.8/hook', 'a public IPv4 address'],
    ['https://[2606:4700:4700::1111]/hook', 'a public IPv6 address'],
    ['https://[::ffff:8.8.8.8]/', 'a public IPv4 address, IPv4-mapped'],
    ['https://100.128.0.1/', 'just past carrier-grade NAT'],
    ['https://172.32.0.1/', 'just past 172.16/12'],
    ['https://example.com:8443/', 'another port'],
  ])('accepts %s (%s)', (url) => {
    expect(checkDestination(url, production)).toMatchObject({ ok: true });
  });

  it.each([
    ['https://127.0.0.1/', 'loopback'],
    ['https://127.255.255.254/', 'loopback'],
    ['https://0x7f.1/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['https://017700000001/', 'loopback'],
    ['https://[::1]/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://localhost/', 'loopback'],
    ['https://LOCALHOST./', 'loopback'],
    ['https://api.localhost/', 'loopback'],
    ['https://10.1.2.3/', 'private'],
    ['https://172.16.0.1/', 'private'],
    ['https://172.31.255.255/', 'private'],
    ['https://192.168.0.10/', 'private'],
    ['https://[::ffff:10.0.0.1]/', 'private'],
    ['https://[fc00::1]/', 'unique local'],
    ['https://[fd00:ec2::254]/', 'unique local'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://[fe80::1]/', 'link-local'],
    ['https://100.64.0.1/', 'carrier-grade NAT'],
    ['https://100.127.255.255/', 'carrier-grade NAT'],
    ['https://0.0.0.0/', 'this network'],
    ['https://0/', 'this network'],
    ['https://[::]/', 'unspecified'],
    ['https://224.0.0.251/', 'multicast'],
    ['https://[ff02::1]/', 'multicast'],
    ['https://255.255.255.255/', 'reserved'],
    ['https://[64:ff9b::7f00:1]/', 'NAT64'],
    ['https://[2002:7f00:1::]/', '6to4'],
    ['https://metadata.google.internal/', 'internal'],
    ['https://printer.local/', 'local'],
    ['https://intranet/', 'local'],
  ])('refuses %s in production (%s)', (url, rule) => {
    const check = checkDestination(url, production);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason.toLowerCase()).toContain(rule.toLowerCase().split(' ')[0]);
  });

  it('allows http and loopback, and nothing else private, when development allows loopback', () => {
    for (const url of ['http://127.0.0.1:8788/hook', 'http://localhost:3000/', 'http://[::1]/'])
      expect(checkDestination(url, development), url).toMatchObject({ ok: true });
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/', 'http://[fe80::1]/'])
      expect(checkDestination(url, development).ok, url).toBe(false);
    expect(checkDestination('http://example.com/', production)).toEqual({
      ok: false,
      reason: 'must be an https URL',
    });
  });

  it.each([
    ['', 'absolute URL'],
    ['/relative', 'absolute URL'],
    ['ftp://example.com/', 'http'],
    ['javascript:alert(1)', 'http'],
    ['https://user:pass@example.com/', 'credentials'],
    ['https://example.com/#frag', 'fragment'],
    [`https://example.com/${'a'.repeat(MAX_URL_LENGTH)}`, `${MAX_URL_LENGTH} characters`],
  ])('refuses %j naming the rule', (url, rule) => {
    const check = checkDestination(url, development);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain(rule);
  });
});

describe('outbound webhook retries', () => {
  it('makes ten attempts over about three days, each delay within ±10%', () => {
    expect(MAX_ATTEMPTS).toBe(10);
    const total = RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);
    expect(total / 3_600_000).toBeCloseTo(75.6, 1);
    for (let attempts = 1; attempts < MAX_ATTEMPTS; attempts++) {
      const base = RETRY_DELAYS_MS[attempts - 1]!;
      expect(nextAttemptDelay(attempts, { random: 0 })).toBe(Math.round(base * (1 - JITTER)));
      expect(nextAttemptDelay(attempts, { random: 0.5 })).toBe(base);
      expect(nextAttemptDelay(attempts, { random: 0.999_999 })).toBeLessThanOrEqual(
        Math.round(base * (1 + JITTER)),
      );
    }
    expect(nextAttemptDelay(MAX_ATTEMPTS)).toBeNull();
    expect(() => nextAttemptDelay(0)).toThrow(RangeError);
  });

  it('spreads delays at random', () => {
    const delays = new Set(Array.from({ length: 50 }, () => nextAttemptDelay(3)));
    expect(delays.size).toBeGreaterThan(40);
  });

  it('honours Retry-After within 1 s – 6 h, but never beyond the last attempt', () => {
    expect(nextAttemptDelay(1, { retryAfterMs: 120_000 })).toBe(120_000);
    expect(nextAttemptDelay(1, { retryAfterMs: 0 })).toBe(1_000);
    expect(nextAttemptDelay(1, { retryAfterMs: 10 * 24 * 3_600_000 })).toBe(RETRY_AFTER_MAX_MS);
    expect(nextAttemptDelay(MAX_ATTEMPTS, { retryAfterMs: 5_000 })).toBeNull();
  });

  it('reads Retry-After as seconds or an HTTP date, and nothing else', () => {
    const now = Date.UTC(2026, 9, 21, 7, 28, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:30:00 GMT', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', now)).toBe(0);
    for (const bad of [null, '', '-5', '1.5', '2026-10-21', 'soon', '99999999999', 'Wed, 21 Oct'])
      expect(parseRetryAfter(bad, now), String(bad)).toBeNull();
  });

  it('reads an answer: 2xx delivered, 410 gone, a 3xx failed, Retry-After only on 429 and 503', () => {
    const headers = new Headers({ 'Retry-After': '30' });
    expect(attemptOutcome(204, headers, 0)).toEqual({ kind: 'delivered' });
    expect(attemptOutcome(410, headers, 0)).toEqual({ kind: 'gone' });
    expect(attemptOutcome(301, headers, 0)).toEqual({ kind: 'failed', retryAfterMs: null });
    expect(attemptOutcome(500, headers, 0)).toEqual({ kind: 'failed', retryAfterMs: null });
    expect(attemptOutcome(429, headers, 0)).toEqual({ kind: 'failed', retryAfterMs: 30_000 });
    expect(attemptOutcome(503, new Headers(), 0)).toEqual({ kind: 'failed', retryAfterMs: null });
  });
});
