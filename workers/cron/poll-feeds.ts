import {
  claimDueFeeds,
  FEEDS_PER_RUN,
  inPool,
  type PollResult,
  pollFeed,
} from '../api/feed-poll.ts';
import { jobIngestContext } from '../api/webhook-ingest.ts';
import type { CronJob } from './types.ts';

/** Feeds polled at once in a run. */
const CONCURRENCY = 4;

/**
 * Feed sources (`kind: feed`): every minute, claims up to {@link FEEDS_PER_RUN} enabled feeds
 * whose `next_poll_at` has come (a lease, so an overlapping run takes none of them) and polls
 * them (`workers/api/feed-poll.ts`): one conditional GET each, the items written as the source.
 * A poll that throws (Postgres gone mid-way) keeps its lease, and the feed is taken again once
 * the lease passes.
 */
export const pollFeeds: CronJob = {
  name: 'poll-feeds',
  async run(context) {
    const now = new Date(context.scheduledTime);
    const claimed = await claimDueFeeds(context.services.db, now, FEEDS_PER_RUN);
    const ingest = jobIngestContext(context);
    const results = await inPool(claimed, CONCURRENCY, (source) =>
      pollFeed(ingest, source, now).catch((error: unknown): PollResult | null => {
        context.logger.error('feed poll aborted; retried once its lease passes', {
          source_id: source.id,
          error,
        });
        return null;
      }),
    );
    const count = (status: PollResult['status']) =>
      results.filter((r) => r?.status === status).length;
    const sum = (key: keyof PollResult['items']) =>
      results.reduce((total, r) => total + (r?.items[key] ?? 0), 0);
    return {
      polled: claimed.length,
      ok: count('ok'),
      not_modified: count('not_modified'),
      failed: count('failed'),
      aborted: results.filter((r) => r === null).length,
      created: sum('created'),
      updated: sum('updated'),
      refused: sum('refused'),
    };
  },
};
