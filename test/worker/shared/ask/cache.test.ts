import { describe, expect, it } from 'vitest';
import {
  cacheKeys,
  cosine,
  dequantize,
  normalizeQuestion,
  quantize,
  readCachedAnswer,
  SEMANTIC_ENTRIES,
  writeCachedAnswer,
} from '../../../../shared/ask/cache.ts';
import { newId } from '../../../../shared/ids.ts';
import { resetBreakers } from '../../../../shared/resilience/circuit-breaker.ts';
import { DEAD_URL, testServices } from '../../helpers.ts';

const scope = {
  visibility: 'organization',
  documentIds: [],
  categoryId: null,
  locale: null,
  topK: 5,
};

/** A unit vector pointing mostly along `axis`, with a little of `noise` elsewhere. */
function vectorNear(axis: number, noise = 0, dimensions = 64): number[] {
  return Array.from({ length: dimensions }, (_, i) =>
    i === axis ? 1 : noise * Math.sin(i * 7 + axis),
  );
}

describe('the answer cache', () => {
  it('normalises questions for the exact cache: case, spacing, Arabic letter forms, final punctuation', () => {
    expect(normalizeQuestion('  How LONG is   the warranty?? ')).toBe('how long is the warranty');
    expect(normalizeQuestion('ما مدة الضمان؟')).toBe(normalizeQuestion('ما مدّة الضمان'));
    expect(normalizeQuestion('أين المكتب؟')).toBe(normalizeQuestion('اين المكتب'));
    expect(normalizeQuestion('warranty period')).not.toBe(normalizeQuestion('warranty'));
  });

  it('keeps cosine similarity within 0.01 through 8-bit quantisation', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const a = Array.from({ length: 1024 }, (_, i) => Math.sin(i * seed * 0.37) + 0.1 * seed);
      const b = Array.from({ length: 1024 }, (_, i) => Math.sin(i * seed * 0.37 + 0.3));
      expect(Math.abs(cosine(dequantize(quantize(a)), b) - cosine(a, b))).toBeLessThan(0.01);
    }
  });

  it('keys answers by scope and generation, so neither leaks into the other', async () => {
    const orgId = newId('organization');
    const base = await cacheKeys(orgId, 1, scope);
    expect((await cacheKeys(orgId, 2, scope)).questions).not.toBe(base.questions);
    expect((await cacheKeys(orgId, 1, { ...scope, visibility: 'own:usr_1' })).questions).not.toBe(
      base.questions,
    );
    // The order of the documents named does not matter.
    expect(
      (await cacheKeys(orgId, 1, { ...scope, documentIds: ['doc_b', 'doc_a'] })).questions,
    ).toBe((await cacheKeys(orgId, 1, { ...scope, documentIds: ['doc_a', 'doc_b'] })).questions);
  });

  it('finds an exact hit, a near question above the threshold, and nothing below it', async () => {
    const services = testServices();
    const keys = await cacheKeys(newId('organization'), 0, scope);
    await writeCachedAnswer(services, keys, 'First question?', vectorNear(3), { answer: 1 });
    expect(await readCachedAnswer(services, keys, 'first QUESTION', vectorNear(9))).toEqual({
      kind: 'exact',
      value: { answer: 1 },
    });
    const near = await readCachedAnswer(services, keys, 'Another wording', vectorNear(3, 0.05));
    expect(near).toMatchObject({
      kind: 'semantic',
      value: { answer: 1 },
      question: 'First question?',
    });
    expect(await readCachedAnswer(services, keys, 'Unrelated', vectorNear(9))).toBeUndefined();
    expect(await readCachedAnswer(services, keys, 'Another wording', null)).toBeUndefined();
  });

  it(`remembers the latest ${SEMANTIC_ENTRIES} questions of a scope`, async () => {
    const services = testServices();
    const keys = await cacheKeys(newId('organization'), 0, scope);
    for (let i = 0; i <= SEMANTIC_ENTRIES; i++) {
      await writeCachedAnswer(services, keys, `question ${i}`, vectorNear(i % 64, 0.5), { i });
    }
    expect(await services.redis.llen(keys.questions)).toBe(SEMANTIC_ENTRIES);
    expect(await services.redis.ttl(keys.questions)).toBeGreaterThan(86_000);
  });

  it('misses instead of failing when Redis is down', async () => {
    const services = testServices({ UPSTASH_REDIS_REST_URL: DEAD_URL });
    const keys = await cacheKeys(newId('organization'), 0, scope);
    await writeCachedAnswer(services, keys, 'q', vectorNear(1), { a: 1 });
    expect(await readCachedAnswer(services, keys, 'q', vectorNear(1))).toBeUndefined();
    resetBreakers();
  });
});
