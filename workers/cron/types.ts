import type { Logger } from '../../shared/logger.ts';
import type { Services } from '../../shared/services.ts';

export type CronContext = { services: Services; logger: Logger; scheduledTime: number };

/** One scheduled job; `run` reports what it did (logged, and returned to tests). */
export type CronJob = {
  name: string;
  run(context: CronContext): Promise<Record<string, unknown>>;
};
