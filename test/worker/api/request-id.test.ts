import { describe, expect, it } from 'vitest';
import { isId } from '../../../shared/ids.ts';
import { call } from '../helpers.ts';

describe('X-Request-Id', () => {
  it('generates a prefixed, time-sortable id when the client sends none', async () => {
    const response = await call('/health');
    const id = response.headers.get('x-request-id');
    expect(id && isId('request', id)).toBe(true);
  });

  it('echoes a well-formed id the client sends', async () => {
    const response = await call('/health', { headers: { 'X-Request-Id': 'client-abc_123=' } });
    expect(response.headers.get('x-request-id')).toBe('client-abc_123=');
  });

  it('replaces an id with unsafe characters or over 255 characters', async () => {
    for (const bad of ['has spaces', 'new\\nline', 'x'.repeat(256), '<script>']) {
      const response = await call('/health', { headers: { 'X-Request-Id': bad } });
      const id = response.headers.get('x-request-id');
      expect(id).not.toBe(bad);
      expect(id && isId('request', id)).toBe(true);
    }
  });

  it('puts the request id in problem documents too', async () => {
    const response = await call('/nowhere', { headers: { 'X-Request-Id': 'trace-me-1' } });
    expect(((await response.json()) as { request_id: string }).request_id).toBe('trace-me-1');
  });
});
