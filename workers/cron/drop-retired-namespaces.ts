import { dropRetiredNamespaces } from '../../shared/search/reindex.ts';
import type { CronJob } from './types.ts';

/** Drops the search index namespaces that rebuilds replaced (`shared/search/reindex.ts`). */
export const dropRetiredSearchNamespaces: CronJob = {
  name: 'drop-retired-search-namespaces',
  async run({ services, logger, scheduledTime }) {
    const dropped = await dropRetiredNamespaces(services, scheduledTime);
    if (dropped.length > 0) logger.info('retired search namespaces dropped', { dropped });
    return { dropped: dropped.length };
  },
};
