import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, inRollout, splitEntry } from '../../../../shared/flags/bucket.ts';
import { sha256 } from '../../../../shared/flags/sha256.ts';
import { createRandom } from '../../../../shared/random.ts';
import vectorsText from '../../../fixtures/flags/bucketing-vectors.json?raw';

type Case = { salt: string; key: string; prefix: string; bucket: number };
const vectors = JSON.parse(vectorsText) as { buckets: number; cases: Case[] };

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

describe('sha256', () => {
  it('matches Web Crypto on empty, short, block-boundary and multi-block inputs', async () => {
    for (const text of [
      '',
      'abc',
      'a'.repeat(55),
      'a'.repeat(56),
      'a'.repeat(64),
      'é😀'.repeat(100),
    ]) {
      const expected = new Uint8Array(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)),
      );
      expect(hex(sha256(text)), text.slice(0, 10)).toBe(hex(expected));
    }
  });
});

describe('bucketOf', () => {
  it('reproduces every committed test vector', () => {
    expect(vectors.buckets).toBe(BUCKETS);
    expect(vectors.cases.length).toBeGreaterThanOrEqual(1_000);
    for (const { salt, key, prefix, bucket } of vectors.cases) {
      expect(hex(sha256(`${salt}.${key}`)).slice(0, 8), `${salt}.${key}`).toBe(prefix);
      expect(bucketOf(salt, key), `${salt}.${key}`).toBe(bucket);
    }
  });

  it('spreads keys evenly over the buckets (each tenth within 5% of its share)', () => {
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const tenth = Math.floor(bucketOf('spread', `user-${i}`) / 1_000);
      tenths[tenth] = (tenths[tenth] ?? 0) + 1;
    }
    for (const count of tenths) expect(Math.abs(count - 2_000)).toBeLessThan(100);
  });

  it('gives the same key different buckets under different salts', () => {
    const same = Array.from({ length: 200 }, (_, i) => `k${i}`).filter(
      (key) => bucketOf('salt-a', key) === bucketOf('salt-b', key),
    );
    expect(same.length).toBeLessThan(3);
  });
});

describe('rollouts', () => {
  it('never move a key out when a rollout widens (10,000 random keys, 200 random widenings)', () => {
    const random = createRandom(42);
    const keys = Array.from(
      { length: 10_000 },
      () => `u-${Math.floor(random() * 1e12).toString(36)}`,
    );
    const buckets = keys.map((key) => bucketOf('property', key));
    for (let round = 0; round < 200; round++) {
      const narrow = Math.round(random() * 10_000) / 100;
      const wide = Math.min(100, narrow + Math.round(random() * 5_000) / 100);
      for (const [i, bucket] of buckets.entries()) {
        if (inRollout(bucket, narrow) && !inRollout(bucket, wide)) {
          expect.fail(`${keys[i]} left a rollout widened from ${narrow}% to ${wide}%`);
        }
      }
    }
  });

  it('take percent × 100 buckets: none at 0%, all at 100%, 0.01% is one bucket', () => {
    expect(inRollout(0, 0)).toBe(false);
    expect(inRollout(9_999, 100)).toBe(true);
    expect(inRollout(0, 0.01)).toBe(true);
    expect(inRollout(1, 0.01)).toBe(false);
    expect(inRollout(3_332, 33.33)).toBe(true);
    expect(inRollout(3_333, 33.33)).toBe(false);
  });

  it('reach about the share of keys they name', () => {
    let inside = 0;
    for (let i = 0; i < 10_000; i++) if (inRollout(bucketOf('share', `k${i}`), 25)) inside++;
    expect(Math.abs(inside - 2_500)).toBeLessThan(150);
  });
});

describe('splitEntry', () => {
  const split = [
    { variant: 'a', weight: 50 },
    { variant: 'b', weight: 30 },
    { variant: 'c', weight: 20 },
  ];

  it('gives each entry a cumulative range of buckets in order', () => {
    expect(splitEntry(0, split)?.variant).toBe('a');
    expect(splitEntry(4_999, split)?.variant).toBe('a');
    expect(splitEntry(5_000, split)?.variant).toBe('b');
    expect(splitEntry(7_999, split)?.variant).toBe('b');
    expect(splitEntry(8_000, split)?.variant).toBe('c');
    expect(splitEntry(9_999, split)?.variant).toBe('c');
  });

  it('returns nothing past weights that sum to less than 100', () => {
    expect(splitEntry(9_000, [{ variant: 'a', weight: 90 }])).toBeUndefined();
  });
});
