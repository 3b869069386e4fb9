import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type BucketingVectors,
  buildVectors,
  referenceBucket,
  renderVectors,
  VECTORS_PATH,
} from '../../tools/flags/bucketing-vectors.ts';

const committed = readFileSync(VECTORS_PATH, 'utf8');
const vectors = JSON.parse(committed) as BucketingVectors;

describe('flag bucketing vectors', () => {
  it('are the file the generator writes (node tools/flags/bucketing-vectors.ts)', () => {
    expect(committed).toBe(renderVectors(buildVectors()));
  });

  it('hold at least 1,000 cases, each recomputed with node:crypto', () => {
    expect(vectors.cases.length).toBeGreaterThanOrEqual(1_000);
    for (const { salt, key, prefix, bucket } of vectors.cases) {
      expect(referenceBucket(salt, key), `${salt}.${key}`).toEqual({ prefix, bucket });
      expect(Number.parseInt(prefix, 16) % 10_000).toBe(bucket);
    }
  });

  it('include the README example', () => {
    expect(vectors.cases).toContainEqual({
      salt: 'k3Jd9',
      key: 'user-42',
      ...referenceBucket('k3Jd9', 'user-42'),
    });
  });
});
