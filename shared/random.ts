/**
 * mulberry32: a tiny, well-distributed 32-bit PRNG. The same seed gives the same sequence, which
 * is what sample data and benchmarks need to be reproducible. Not for anything secret.
 */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
