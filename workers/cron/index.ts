import { validateEnv } from '../../shared/env.ts';
import { newId } from '../../shared/ids.ts';
import { createLogger, logLevel } from '../../shared/logger.ts';
import { createServices } from '../../shared/services.ts';
import { startSpan } from '../../shared/trace.ts';
import { dropRetiredSearchNamespaces } from './drop-retired-namespaces.ts';
import { ensureEventPartitions } from './ensure-event-partitions.ts';
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
};

/**
 * The Worker's `scheduled` entry: validate the env, run the job for this cron, log the outcome.
 * A failure is rethrown so the platform records the run as failed (and retries cron failures
 * per its policy); the next tick runs again regardless.
 */
export async function handleScheduled(
  controller: ScheduledController,
  rawEnv: Env,
  ctx: ExecutionContext,
): Promise<Record<string, unknown> | undefined> {
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
  const name = CRON_SCHEDULE[controller.cron as keyof typeof CRON_SCHEDULE];
  const job = name ? JOBS[name] : undefined;
  if (!job) {
    logger.error('no job for this cron expression');
    return undefined;
  }
  const jobLogger = logger.with({ job: job.name });
  const services = createServices(result.env, jobLogger, {
    waitUntil: (p) => ctx.waitUntil(p),
    context: { requestId, trace },
  });
  const started = performance.now();
  try {
    const outcome = await job.run({
      env: rawEnv,
      services,
      logger: jobLogger,
      scheduledTime: controller.scheduledTime,
      origin: { requestId, trace },
    });
    jobLogger.info('cron job done', {
      ...outcome,
      latency_ms: Math.round(performance.now() - started),
    });
    return outcome;
  } catch (error) {
    jobLogger.error('cron job failed', { error });
    throw error;
  }
}
