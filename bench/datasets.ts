import { join } from 'node:path';

/**
 * The public CISI test collection (1,460 library-science abstracts, 76 judged queries), which
 * the relevance and typo benchmarks read. It is not part of this repository: `BENCH_CISI_DIR`
 * names its directory (`CISI.ALL`, `CISI.QRY`, `CISI.REL`); by default these benchmarks look in
 * the workspace's datasets folder beside the repository, where the team keeps it.
 */
export const CISI_DIR =
  process.env.BENCH_CISI_DIR || join(import.meta.dirname, '../../shared/datasets/cisi');
