import { describe, expect, it } from 'vitest';
import { call } from '../../helpers.ts';

describe('GET /health', () => {
  it('answers ok with the server time, without touching any dependency', async () => {
    const response = await call('/health', {}, { DATABASE_URL: 'postgresql://u:p@127.0.0.1:9/db' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; time: string };
    expect(body.status).toBe('ok');
    expect(Math.abs(Date.parse(body.time) - Date.now())).toBeLessThan(60_000);
  });
});
