import type { Hit } from './store.ts';

/**
 * Fuses the dense and sparse result lists of a hybrid query as Upstash documents it.
 *
 * RRF: each list contributes 1 / (rank + 60) (rank counted from 1); scores of a record found in
 * both lists are added. DBSF: each list's scores are rescaled by (s − (μ − 3σ)) / (6σ) using
 * that list's mean and standard deviation, then added.
 */
export type FusionAlgorithm = 'RRF' | 'DBSF';

const RRF_K = 60;

export function fuse(lists: readonly Hit[][], algorithm: FusionAlgorithm, k: number): Hit[] {
  const fused = new Map<Hit['record'], number>();
  for (const list of lists) {
    const mapped = algorithm === 'RRF' ? reciprocalRanks(list) : distributionScores(list);
    list.forEach((hit, i) => {
      fused.set(hit.record, (fused.get(hit.record) ?? 0) + (mapped[i] as number));
    });
  }
  return [...fused]
    .map(([record, score]) => ({ record, score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

function reciprocalRanks(list: readonly Hit[]): number[] {
  return list.map((_, i) => 1 / (i + 1 + RRF_K));
}

function distributionScores(list: readonly Hit[]): number[] {
  const n = list.length;
  if (n === 0) return [];
  const mean = list.reduce((sum, hit) => sum + hit.score, 0) / n;
  const variance = list.reduce((sum, hit) => sum + (hit.score - mean) ** 2, 0) / n;
  const sigma = Math.sqrt(variance);
  // One result, or all equal: every score sits at the middle of the range.
  if (sigma === 0) return list.map(() => 0.5);
  return list.map((hit) => (hit.score - (mean - 3 * sigma)) / (6 * sigma));
}
