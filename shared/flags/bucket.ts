import { sha256 } from './sha256.ts';

/**
 * Bucketing: where a targeting key falls among {@link BUCKETS} buckets for a flag. The bucket is
 * the first 4 bytes of SHA-256 of the UTF-8 string `salt + "." + targetingKey`, read as a
 * big-endian unsigned 32-bit integer, modulo 10,000 (Statsig's scheme). SHA-256 because every
 * language has it in its standard library, so any client reproduces a bucket from the vectors
 * in `test/fixtures/flags/bucketing-vectors.json` without a port of murmur3 or FNV; its output is
 * uniform, and 2^32 mod 10,000 leaves a bias below 3 in a million per bucket.
 *
 * Example: salt `"k3Jd9"`, key `"user-42"` → SHA-256(`"k3Jd9.user-42"`) starts `885f99b6`,
 * 2,287,966,646 mod 10,000 = bucket 6646 (a case of the vectors; the README works it through).
 */
export const BUCKETS = 10_000;

/** The bucket (0 to 9,999) of `targetingKey` under `salt`. Pure and synchronous. */
export function bucketOf(salt: string, targetingKey: string): number {
  const digest = sha256(`${salt}.${targetingKey}`);
  const word =
    ((digest[0] as number) * 2 ** 24 +
      ((digest[1] as number) << 16) +
      ((digest[2] as number) << 8) +
      (digest[3] as number)) >>>
    0;
  return word % BUCKETS;
}

/**
 * Whether `bucket` is in a rollout to `percent` (0 to 100, at most two decimals): buckets below
 * `percent × 100` are in. Widening a rollout only adds buckets, so nobody already in leaves.
 */
export function inRollout(bucket: number, percent: number): boolean {
  return bucket < Math.round(percent * 100);
}

/**
 * The entry of `split` that `bucket` falls in: entries own consecutive ranges of buckets in their
 * order, each `weight × 100` wide (weights are percentages summing to 100). Undefined only when
 * the weights sum to less than 100 and the bucket is past them.
 */
export function splitEntry<T extends { weight: number }>(
  bucket: number,
  split: readonly T[],
): T | undefined {
  let end = 0;
  for (const entry of split) {
    end += Math.round(entry.weight * 100);
    if (bucket < end) return entry;
  }
  return undefined;
}

/** A fresh salt: 16 random base36 characters. */
export function newSalt(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => (b % 36).toString(36)).join('');
}
