/**
 * Writes `test/fixtures/flags/bucketing-vectors.json`: cases of flag bucketing any client can
 * check its implementation against. Each case is a salt, a targeting key, the hex of the first
 * 4 bytes of SHA-256(`salt + "." + key`) and the bucket (that uint32, big-endian, mod 10,000).
 * The digests come from `node:crypto`, independently of the Worker's own SHA-256
 * (`shared/flags/sha256.ts`), which the tests check against them. Cases are deterministic:
 * salts and keys come from a seeded generator plus hand-picked edge cases (empty, Unicode,
 * long). Run: `node tools/flags/bucketing-vectors.ts` (rewrites the file; `--check` only
 * compares and exits 1 on a difference).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRandom } from '../../shared/random.ts';

export const VECTORS_PATH = new URL(
  '../../test/fixtures/flags/bucketing-vectors.json',
  import.meta.url,
);

export type BucketingCase = { salt: string; key: string; prefix: string; bucket: number };
export type BucketingVectors = {
  description: string;
  algorithm: string;
  buckets: number;
  cases: BucketingCase[];
};

/** The bucket of `key` under `salt`, by `node:crypto`. */
export function referenceBucket(salt: string, key: string): { prefix: string; bucket: number } {
  const digest = createHash('sha256').update(`${salt}.${key}`, 'utf8').digest();
  return { prefix: digest.subarray(0, 4).toString('hex'), bucket: digest.readUInt32BE(0) % 10_000 };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@';

const EDGE_CASES: [string, string][] = [
  ['', ''],
  ['salt', ''],
  ['', 'user-1'],
  ['k3Jd9', 'user-42'],
  ['new-checkout', 'user@example.com'],
  ['flg', 'مستخدم-٤٢'],
  ['flg', 'ユーザー'],
  ['flg', '😀 emoji'],
  ['flg', 'é (precomposed)'],
  ['flg', 'e\u0301 (combining)'],
  ['flg', 'x'.repeat(256)],
  ['a.b', 'c'],
  ['a', 'b.c'],
];

/** The cases, in order: the edge cases, then 1,200 generated ones over 40 salts. */
export function buildVectors(): BucketingVectors {
  const random = createRandom(17);
  const word = (min: number, max: number) => {
    const length = min + Math.floor(random() * (max - min + 1));
    let text = '';
    for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(random() * ALPHABET.length)];
    return text;
  };
  const salts = Array.from({ length: 40 }, () => word(8, 24));
  const pairs: [string, string][] = [...EDGE_CASES];
  for (let i = 0; i < 1_200; i++) {
    const salt = salts[i % salts.length] as string;
    const key = i % 3 === 0 ? `user-${Math.floor(random() * 1e7)}` : word(1, 40);
    pairs.push([salt, key]);
  }
  return {
    description:
      'Sift feature-flag bucketing: bucket = uint32_be(sha256(utf8(salt + "." + key))[0..4]) mod 10000. ' +
      '`prefix` is the hex of those 4 bytes. A key is in a rollout of p percent when bucket < p * 100.',
    algorithm: 'sha256-prefix32-mod10000',
    buckets: 10_000,
    cases: pairs.map(([salt, key]) => ({ salt, key, ...referenceBucket(salt, key) })),
  };
}

export function renderVectors(vectors: BucketingVectors): string {
  return `${JSON.stringify(vectors, null, 2)}\n`;
}

if (import.meta.main) {
  const text = renderVectors(buildVectors());
  if (process.argv.includes('--check')) {
    const same = readFileSync(VECTORS_PATH, 'utf8') === text;
    console.log(same ? 'bucketing vectors are current' : 'bucketing vectors differ');
    process.exit(same ? 0 : 1);
  }
  writeFileSync(VECTORS_PATH, text);
  console.log(`wrote ${VECTORS_PATH.pathname}`);
}
