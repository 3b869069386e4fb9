/**
 * The queues this Worker consumes, as wrangler.toml names them; a test checks they agree.
 * Each work queue has a dead-letter queue whose consumer records what lands there.
 */
export const WORK_QUEUES = {
  writes: 'sift-writes',
  events: 'sift-events',
  jobs: 'sift-jobs',
} as const;

export const DEAD_LETTER_QUEUES = {
  writes: 'sift-writes-dlq',
  events: 'sift-events-dlq',
  jobs: 'sift-jobs-dlq',
} as const;
