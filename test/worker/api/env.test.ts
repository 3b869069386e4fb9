import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import worker from '../../../workers/index.ts';
import { call, captureLogs, expectProblem } from '../helpers.ts';

describe('a misconfigured deployment', () => {
  let logs: ReturnType<typeof captureLogs> | undefined;
  afterEach(() => logs?.restore());

  it('answers a 500 problem naming each missing or invalid setting, never a value', async () => {
    logs = captureLogs();
    const response = await call(
      '/health',
      {},
      {
        DATABASE_URL: undefined,
        UPSTASH_REDIS_REST_URL: 'not a url',
        CACHE: undefined,
      },
    );
    const problem = await expectProblem(response, 500);
    expect(problem.code).toBe('MISCONFIGURED');
    expect(problem.detail).toContain('DATABASE_URL (is missing)');
    expect(problem.detail).toContain('UPSTASH_REDIS_REST_URL (must be a URL)');
    expect(problem.detail).toContain('CACHE (is missing)');
    expect(problem.settings).toEqual(
      expect.arrayContaining([{ setting: 'DATABASE_URL', rule: 'is missing' }]),
    );
    expect(JSON.stringify(problem)).not.toContain(env.UPSTASH_REDIS_REST_TOKEN);
    expect(logs.lines.find((l) => l.level === 'error' && l.code === 'MISCONFIGURED')).toBeDefined();
  });

  it('keeps queued messages (retries the batch) instead of failing them', async () => {
    logs = captureLogs();
    const batch = createMessageBatch('sift-jobs', [
      { id: 'm1', timestamp: Date.now(), attempts: 1, body: { type: 'x', payload: {}, meta: {} } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, DATABASE_URL: '' } as Env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toEqual([]);
  });

  it('fails a cron run loudly', async () => {
    logs = captureLogs();
    const controller = createScheduledController({ cron: '17 * * * *' });
    await expect(
      worker.scheduled(controller, { ...env, QSTASH_TOKEN: '' } as Env, createExecutionContext()),
    ).rejects.toThrow(/QSTASH_TOKEN/);
  });
});
