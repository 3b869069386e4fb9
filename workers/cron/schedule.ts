/**
 * Which jobs run on which cron trigger (several may share one: an account has few triggers per
 * Worker). The triggers themselves are declared in wrangler.toml; a test checks the two lists
 * agree.
 */
export const CRON_SCHEDULE = {
  '* * * * *': ['publish-due', 'poll-feeds'],
  '17 * * * *': ['prune-idempotency'],
  '0 3 * * *': ['ensure-event-partitions'],
  '*/10 * * * *': ['drop-retired-search-namespaces'],
  '*/5 * * * *': ['sweep-webhooks', 'compute-trends'],
} as const;

export type CronJobName = (typeof CRON_SCHEDULE)[keyof typeof CRON_SCHEDULE][number];
