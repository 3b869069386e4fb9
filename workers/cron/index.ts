import { validateEnv } from '../../shared/env.ts';
import { newId } from '../../shared/ids.ts';
import { createLogger, logLevel } from '../../shared/logger.ts';
import { createServices } from '../../shared/services.ts';
import { startSpan } from '../../shared/trace.ts';
import { computeTrendsJob } from './compute-trends.ts';
import { dropRetiredSearchNamespaces } from './drop-retired-namespaces.ts';
import { ensureEventPartitions } from './ensure-event-partitions.ts';
import { pollFeeds } from './poll-feeds.ts';
import { pruneIdempotency } from './prune-idempotency.ts';
import { publishDueContent } from './publish-due.ts';
import { CRON_SCHEDULE, type CronJobName } from './schedule.ts';
import { sweepWebhooks } from './sweep-webhooks.ts';
import type { CronJob } from './types.ts';

const JOBS: Record<CronJobName, CronJob> = {
  'prune-idempotency': pruneIdempotency,
  'ensure-event-partitions': ensureEventPartitions,
  'drop-retired-search-namespaces': dropRetiredSearchNamespaces,
  'publish-due': publishDueContent,
  'sweep-webhooks': sweepWebhooks,
  'poll-feeds': pollFeeds,
  'compute-trends': computeTrendsJob,
};

/**
 * The Worker's `scheduled` entry: validate the env, run the jobs of this cron (at once, each on
 * its own: one failing does not stop the others), log each outcome. Returns the outcomes by job
 * name. A failure is rethrown once every job has finished, so the platform records the run as
 * failed; the next tick runs again regardless.
 */
export async function handleScheduled(
  controller: ScheduledController,
  rawEnv: Env,
  ctx: ExecutionContext,
): Promise<Partial<Record<CronJobName, Record<string, unknown>>> | undefined> {
  const trace = startSpan(undefined);
  const requestId = newId('request');
  const logger = createLogger({
    level: logLevel(rawEnv.LOG_LEVEL),
    fields: {
      cron: controller.cron,
      request_id: requestId,
      trace_id: trace.traceId,
      span_id: trace.spanId,
    },
  });
  const result = validateEnv(rawEnv);
  if (!result.ok) {
    logger.error('misconfigured deployment; cron skipped', { problems: result.problems });
    throw new Error(`misconfigured: ${result.problems.map((p) => p.setting).join(', ')}`);
  }
  const names: readonly CronJobName[] | undefined =
    CRON_SCHEDULE[controller.cron as keyof typeof CRON_SCHEDULE];
  if (!names) {
    logger.error('no job for this cron expression');
    return undefined;
  }
  const settled = await Promise.allSettled(
    names.map(async (name) => {
      const job = JOBS[name];
      const jobLogger = logger.with({ job: job.name });
      const started = performance.now();
      try {
        const outcome = await job.run({
          env: rawEnv,
          services: createServices(result.env, jobLogger, {
            waitUntil: (p) => ctx.waitUntil(p),
            context: { requestId, trace },
          }),
          logger: jobLogger,
          scheduledTime: controller.scheduledTime,
          origin: { requestId, trace },
        });
        jobLogger.info('cron job done', {
          ...outcome,
          latency_ms: Math.round(performance.now() - started),
        });
        return [name, outcome] as const;
      } catch (error) {
        jobLogger.error('cron job failed', { error });
        throw error;
      }
    }),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return Object.fromEntries(
    settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])),
  ) as Partial<Record<CronJobName, Record<string, unknown>>>;
}
