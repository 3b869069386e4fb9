import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../helpers.ts';

const preflight = (origin: string) =>
  call('/health', {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization, if-none-match',
    },
  });

describe('CORS', () => {
  it('allows a preflight from an origin on the allow-list', async () => {
    const response = await preflight('https://app.example.com');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'if-none-match',
    );
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('vary')?.toLowerCase()).toContain('origin');
  });

  it('refuses a preflight from any other origin with a 403 problem', async () => {
    const problem = await expectProblem(await preflight('https://evil.example.net'), 403);
    expect(problem.detail).toContain('https://evil.example.net');
  });

  it('exposes the request id and trace headers to allowed origins, nothing to others', async () => {
    const allowed = await call('/health', { headers: { Origin: 'https://app.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const other = await call('/health', { headers: { Origin: 'https://evil.example.net' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows any origin, without credentials, when the list is *', async () => {
    const response = await call(
      '/health',
      {
        method: 'OPTIONS',
        headers: { Origin: 'https://anyone.example', 'Access-Control-Request-Method': 'GET' },
      },
      { CORS_ORIGINS: '*' },
    );
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('response headers', () => {
  it('sets secure headers and Server-Timing on every response', async () => {
    const response = await call('/health');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('server-timing')).toMatch(/total;dur=\d/);
    const problem = await call('/nowhere');
    expect(problem.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
